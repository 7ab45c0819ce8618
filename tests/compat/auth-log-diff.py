#!/usr/bin/env python3
"""auth-log-diff.py - the lines Roost's auth service logs against the
lines Debian's Dovecot 2.3 auth process logs, for the same conversations
and config, with auth_verbose, auth_debug and auth_verbose_passwords.

Cases: a wrong password, an unknown user, a good login (passwd-file in
the service itself; shadow and PAM in auth workers, with users from
nss_wrapper/pam_wrapper files, never /etc), SASL mechanism failures
(broken base64, empty PLAIN, wrong CRAM-MD5 and DIGEST-MD5 responses,
LOGIN), master USER/PASS lookups. Each case runs on both servers; the new
log lines of the auth process and those of its workers are compared as
two streams (their relative order depends on scheduling), byte for byte
after these are taken out: the timestamp, process ids, the worker
connection's fd number and uid, the SASL challenges' random parts, and
what only Dovecot's process model writes (module loading, the auth token
secret, passwd-files read when a lazily started process (re)initialises
its databases, pam_wrapper's own PWRAP_ERROR noise).

usage: python3 tests/compat/auth-log-diff.py [-v] [-k REGEX] [--keep]
Exit status 0 if every case matched.
"""
import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "auth_cache_diff", os.path.join(HERE, "auth-cache-diff.py"))
acd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(acd)

b64 = acd.b64


def norm_line(line, srv):
    line = re.sub(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ", "", line)
    line = line.replace(srv.dir, "$D")
    if re.search(r"PWRAP_ERROR|Loading modules from directory|"
                 r"Module loaded: |auth token secret|starting up|"
                 r"Killed with signal|"
                 r"^auth(-worker\(\d+\))?: Debug: passwd-file .*:Read "
                 r"\d+ users", line):
        return None
    line = re.sub(r"^auth-worker\(\d+\)", "auth-worker(PID)", line)
    line = re.sub(r"\(pid=\d+,uid=\d+\)", "(pid=PID,uid=UID)", line)
    line = re.sub(r"\(fd=\d+\)", "(fd=N)", line)
    # random SASL challenges in "client passdb out: CONT"
    line = re.sub(r"(out: CONT\t\d+\t)\S+", r"\1<challenge>", line)
    return line


def streams(lines):
    main, worker = [], []
    for line in lines:
        (worker if line.startswith("auth-worker") else main).append(line)
    return main, worker


# ---------------------------------------------------------------- cases

def c_plain(srv, user, pw, rip):
    return acd.do_plain(srv, user, pw, rip)


def c_login(srv, user, pw, rip):
    c = acd.client(srv)
    c.send("AUTH\t1\tLOGIN\tservice=imap\tnologin\trip=%s\tsecured" % rip)
    out = [c.read()]
    c.send("CONT\t1\t" + b64(user))
    out.append(c.read())
    c.send("CONT\t1\t" + b64(pw))
    out.append(c.read())
    c.close()
    return " | ".join(re.sub(r"^(CONT\t\d+\t)\S+$", r"\1<ch>", x)
                      for x in out)


def c_raw(srv, lines, rip):
    c = acd.client(srv)
    out = []
    for line in lines:
        c.send(line.replace("RIP", rip))
        out.append(c.read())
    c.close()
    return " | ".join(out)


def c_cram(srv, user, pw, rip):
    return acd.do_cram(srv, user, pw, rip)


def c_digest(srv, user, pw, rip):
    c = acd.client(srv)
    c.send("AUTH\t1\tDIGEST-MD5\tservice=imap\tnologin\trip=%s\tsecured"
           % rip)
    line = c.read()
    if not line.startswith("CONT\t"):
        c.close()
        return line
    ch = base64.b64decode(line.split("\t")[2]).decode()
    nonce = re.search(r'nonce="([^"]*)"', ch).group(1)
    cnonce, nc, qop, uri = "OA6MHXh6VqTrRk", "00000001", "auth", "imap/x"
    a1 = hashlib.md5(("%s::%s" % (user, pw)).encode()).digest() + \
        (":%s:%s" % (nonce, cnonce)).encode()
    ha1 = hashlib.md5(a1).hexdigest()
    resp = hashlib.md5(("%s:%s:%s:%s:%s:%s" % (
        ha1, nonce, nc, cnonce, qop, hashlib.md5(
            ("AUTHENTICATE:" + uri).encode()).hexdigest())).encode()
    ).hexdigest()
    c.send("CONT\t1\t" + b64(
        'username="%s",nonce="%s",cnonce="%s",nc=%s,qop=%s,'
        'digest-uri="%s",response=%s,charset=utf-8'
        % (user, nonce, cnonce, nc, qop, uri, resp)))
    out = c.read()
    if out.startswith("CONT\t"):
        c.send("CONT\t1\t")
        out = c.read()
    c.close()
    return out


def c_master(srv, line, rip):
    return acd.do_master(srv, line.replace("RIP", rip))


def c_userdb(srv, line, rip):
    return acd.do_master(srv, line.replace("RIP", rip), "auth-userdb")


PASSWD_FILE = """passdb {
  driver = passwd-file
  args = {dir}/users
}
userdb {
  driver = passwd-file
  args = {dir}/users
}
"""

SCENARIOS = {
    "passwd-file": (PASSWD_FILE, [
        ("good password", c_plain, "alice", "secret"),
        ("wrong password", c_plain, "alice", "wrong"),
        ("unknown user", c_plain, "nosuch", "x"),
        ("login mech wrong password", c_login, "alice", "wrong"),
        ("cram-md5 wrong", c_cram, "alice", "wrong"),
        ("cram-md5 unknown user", c_cram, "nosuch", "x"),
        ("digest-md5 wrong", c_digest, "alice", "wrong"),
        ("broken base64", c_raw, [
            "AUTH\t1\tPLAIN\tservice=imap\tnologin\trip=RIP\tsecured\t"
            "resp=!!!"]),
        ("empty plain", c_raw, [
            "AUTH\t1\tPLAIN\tservice=imap\tnologin\trip=RIP\tsecured\t"
            "resp="]),
        ("authzid without master passdbs", c_raw, [
            "AUTH\t1\tPLAIN\tservice=imap\tnologin\trip=RIP\tsecured\t"
            "resp=" + b64("bob\0alice\0secret")]),
        ("no rip", c_raw, [
            "AUTH\t1\tPLAIN\tservice=imap\tnologin\tsecured\tresp=" +
            b64("\0alice\0wrong")]),
        ("session id", c_raw, [
            "AUTH\t1\tPLAIN\tservice=imap\tnologin\trip=RIP\tsecured\t"
            "session=abc123\tresp=" + b64("\0alice\0wrong")]),
        ("user lookup", c_userdb, "USER\t1\talice\tservice=imap"),
        ("user lookup unknown", c_userdb, "USER\t1\tnosuch\tservice=imap"),
        ("pass lookup", c_master, "PASS\t1\talice\tservice=imap"),
    ]),
    "shadow": ("""passdb {
  driver = shadow
}
userdb {
  driver = passwd
}
""", [
        ("good password", c_plain, "bob", "bobpw"),
        ("wrong password", c_plain, "bob", "wrong"),
        ("unknown user", c_plain, "nosuch", "x"),
        ("pass lookup", c_master, "PASS\t1\tbob\tservice=imap"),
    ]),
    "pam": ("""passdb {
  driver = pam
  args = dovecot
}
userdb {
  driver = passwd
}
""", [
        ("good password", c_plain, "carol", "carolpw"),
        ("wrong password", c_plain, "carol", "wrong"),
        ("unknown user", c_plain, "nosuch", "x"),
    ]),
    "chain": ("""passdb {
  driver = passwd-file
  args = {dir}/users
}
passdb {
  driver = pam
  args = dovecot
}
userdb {
  driver = passwd-file
  args = {dir}/users
}
""", [
        ("wrong password, next passdb", c_plain, "alice", "wrong"),
        ("unknown in the first", c_plain, "carol", "carolpw"),
        ("unknown everywhere", c_plain, "nosuch", "x"),
    ]),
}

VARIANTS = {
    "verbose": "auth_verbose = yes\n",
    "debug": "auth_verbose = yes\nauth_debug = yes\n",
    "passwords-plain": "auth_verbose = yes\nauth_verbose_passwords = plain\n",
    "passwords-sha1": "auth_verbose = yes\nauth_verbose_passwords = sha1\n",
}

HEAD = """auth_mechanisms = plain login {extra}
"""


def write_passwd_file(srv):
    path = os.path.join(srv.dir, "users")
    with open(path, "w") as f:
        f.write("alice:{PLAIN}secret:1000:100::/home/alice::"
                "userdb_mail=maildir:~/Maildir\n")
    os.chmod(path, 0o644)


# A case's lines are waited for (acd.settle) until both servers logged
# the same and nothing more came for QUIET seconds; the last case of a
# scenario also waits LAST_WAIT seconds for late lines (Dovecot's log
# process, workers). Scenarios run JOBS at a time, each with its own
# servers, directories and remote IPs.
QUIET = 0.2
LAST_WAIT = 0.4
JOBS = int(os.environ.get("AUTH_DIFF_JOBS", "2"))


def run_scenario(sname, body, cases, vname, vset, top, opts, stopping=None):
    """(lines to print, cases run, cases failed); the servers are left
    stopping, appended to the list `stopping` if one is given"""
    name = "%s/%s" % (sname, vname)
    sel = [c for c in cases if not opts.k or
           re.search(opts.k, "%s/%s" % (name, c[0]))]
    out = []
    if not sel:
        return out, 0, 0
    extra = "" if "pam" in sname and "passwd-file" not in body \
        else "cram-md5 digest-md5"
    pair = []
    for kind in ("dovecot", "roost"):
        srv = acd.Server(kind, top, "%s-%s" % (sname, vname), "")
        conf = os.path.join(srv.dir, "dovecot.conf")
        with open(conf) as f:
            head = f.read()
        head = re.sub(r"auth_mechanisms = .*\n",
                      HEAD.format(extra=extra), head)
        head = head.replace("auth_verbose = yes\n", "") \
            .replace("auth_debug = yes\n", "")
        with open(conf, "w") as f:
            f.write(head + vset + body.replace("{dir}", srv.dir))
        srv.write_users(*acd.users())
        write_passwd_file(srv)
        pair.append(srv)
    total = failed = 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    try:
        errors = [e for e in (s.start() for s in pair) if e]
        if errors:
            out.append("FAIL %s: %s" % (name, "; ".join(errors)))
            return out, 1, 1
        time.sleep(0.3)
        for s in pair:
            s.new_log_lines()   # startup lines
        for n, case in enumerate(sel):
            label, fn, args = case[0], case[1], case[2:]
            rip = acd.next_rip()
            futs = [pool.submit(fn, s, *args, rip) for s in pair]
            replies = []
            for f in futs:
                try:
                    replies.append(f.result())
                except OSError as e:
                    replies.append("<%s>" % e)
            logs = acd.settle(
                lambda: [[l for l in (norm_line(x, s) for x in
                                      s.new_log_lines()) if l]
                         for s in pair],
                quiet=QUIET, min_wait=LAST_WAIT if n == len(sel) - 1
                else 0, key=streams)
            got = []
            for reply, lines in zip(replies, logs):
                main_s, worker_s = streams(lines)
                got.append((reply, main_s, worker_s))
            total += 1
            title = "%s %s" % (name, label)
            if got[0] == got[1]:
                out.append("ok   " + title)
                if opts.v:
                    for line in got[0][1] + got[0][2]:
                        out.append("       " + line.replace("\t", "\\t"))
                continue
            failed += 1
            out.append("FAIL " + title)
            for who, (reply, m, w) in zip(("dovecot", "roost"), got):
                out.append("       %-7s reply %s" % (who, reply.replace(
                    "\t", "\\t")))
                for line in m + w:
                    out.append("       %-7s %s" % (
                        who, line.replace("\t", "\\t")))
    finally:
        for s in pair:
            s.stop(wait=False)
        pool.shutdown(wait=True)
        if stopping is not None:
            stopping += pair
        else:
            for s in pair:
                s.wait_stopped()
    return out, total, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k", metavar="REGEX")
    ap.add_argument("--keep", action="store_true")
    opts = ap.parse_args()
    for path in (acd.ROOST, acd.DOVECOT, acd.NSS_WRAPPER, acd.PAM_WRAPPER,
                 acd.PAM_MATRIX):
        if path is None or not os.access(path, os.R_OK):
            print("auth-log-diff: missing %s" % path)
            return 1
    if os.geteuid() != 0:
        print("auth-log-diff: needs root (Dovecot's master)")
        return 1
    top = tempfile.mkdtemp(prefix="roost-auth-log-diff-")
    os.chmod(top, 0o755)
    jobs = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, JOBS))
    total = failed = 0
    stopping = []
    start = time.monotonic()
    try:
        futs = [jobs.submit(run_scenario, sname, body, cases, vname, vset,
                            top, opts, stopping)
                for sname, (body, cases) in SCENARIOS.items()
                for vname, vset in VARIANTS.items()]
        for f in futs:
            out, t, fl = f.result()
            for line in out:
                print(line, flush=True)
            total += t
            failed += fl
    finally:
        jobs.shutdown(wait=True)
        for s in stopping:
            s.wait_stopped()
        if opts.keep:
            print("auth-log-diff: kept %s" % top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    print("%d cases, %d ok, %d differ (%.1f s)" % (
        total, total - failed, failed, time.monotonic() - start))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

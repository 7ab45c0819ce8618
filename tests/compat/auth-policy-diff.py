#!/usr/bin/env python3
"""auth-policy-diff.py - the auth policy client (auth_policy_*) of Roost's
auth service against Debian's Dovecot 2.3's, each talking to its own
small policy server (Python's http.server on loopback) that records what
it gets and answers as each case says.

For every case both servers run the same logins; compared are the
replies, the HTTP requests (request line, header names in order, Host,
User-Agent, Content-Type, the API header, the JSON body), whether a
requested tarpit delayed the answer, and the policy log lines
("policy(user,rip): ..."; sorted, since Dovecot writes some of them
after the next request has started; timings in timeout errors are
blanked).

usage: python3 tests/compat/auth-policy-diff.py [-v] [-k REGEX] [--keep]
  ROOST=path, DOVECOT=path as for auth-diff.py. Needs root.
"""
import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import http.server
import importlib.util
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "auth_cache_diff", os.path.join(HERE, "auth-cache-diff.py"))
acd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(acd)
b64 = acd.b64


class PolicyServer:
    """Answers each POST as self.mode says; records requests."""

    def __init__(self):
        self.mode = "0"
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n).decode(errors="replace")
                with outer.lock:
                    outer.requests.append({
                        "line": self.requestline,
                        "order": list(self.headers.keys()),
                        "host": re.sub(r":\d+$", ":PORT",
                                       self.headers.get("Host", "")),
                        "ua": self.headers.get("User-Agent"),
                        "ctype": self.headers.get("Content-Type"),
                        "conn": self.headers.get("Connection"),
                        "api": self.headers.get("X-Api-Key"),
                        "body": body})
                mode = outer.mode
                if mode == "sleep":
                    time.sleep(2)
                    mode = "0"
                if mode == "500":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if mode.startswith("raw:"):
                    out = mode[4:].encode()
                elif mode.startswith("chunked:"):
                    out = json.dumps({"status": int(mode[8:])}).encode()
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(out), 5):
                        part = out[i:i + 5]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                else:
                    status, _, msg = mode.partition(":")
                    resp = {"status": int(status)}
                    if msg:
                        resp["msg"] = msg
                    out = json.dumps(resp).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass    # a client that gave up (timeouts)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever,
                         kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def take(self):
        with self.lock:
            out, self.requests = self.requests, []
        return out

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- logins

def plain(srv, user, pw, rip, extra=""):
    c = acd.client(srv)
    c.send("AUTH\t1\tPLAIN\tservice=imap\tnologin\trip=%s\tsecured%s\t"
           "resp=%s" % (rip, extra, b64("\0%s\0%s" % (user, pw))))
    out = c.read()
    c.close()
    return out


def cram(srv, user, pw, rip):
    return acd.do_cram(srv, user, pw, rip)


def pass_lookup(srv, user, pw, rip):
    return acd.do_master(srv, "PASS\t1\t%s\tservice=imap\trip=%s"
                         % (user, rip))


BASE = """auth_policy_server_url = http://127.0.0.1:{port}/policy
auth_policy_hash_nonce = s3cr3t
auth_policy_server_api_header = X-Api-Key: k3y
auth_policy_server_timeout_msecs = 600
passdb {{
  driver = passwd-file
  args = {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
}}
"""

LOGINS = [("plain ok", plain, "alice", "secret"),
          ("plain wrong", plain, "alice", "wrong"),
          ("plain unknown", plain, "nosuch", "x"),
          ("cram ok", cram, "alice", "secret")]

# name -> (extra config, server mode, logins)
CASES = {
    "continue": ("", "0", LOGINS + [("pass lookup", pass_lookup, "alice",
                                      "")]),
    "reject-msg": ("", "-1:go away", LOGINS[:2]),
    "reject-no-msg": ("", "-1", LOGINS[:1]),
    "tarpit": ("", "1", LOGINS[:1]),
    "status-with-msg": ("", "2:slow down", LOGINS[:1]),
    "http-500": ("", "500", LOGINS[:2]),
    "garbage": ("", "raw:garbage", LOGINS[:1]),
    "malformed-status": ("", 'raw:{"status":"x"}', LOGINS[:1]),
    "no-status": ("", 'raw:{"msg":"x"}', LOGINS[:1]),
    "nested-json": ("", 'raw:{"a":{"b":[1,2,{"c":"}"}]},"status":-1,'
                        '"msg":"n\\"q"}', LOGINS[:1]),
    "chunked": ("", "chunked:-1", LOGINS[:1]),
    "timeout": ("", "sleep", LOGINS[:1]),
    "refused": ("auth_policy_server_url = http://127.0.0.1:{dead}/p\n",
                "0", LOGINS[:1]),
    "refused-reject": ("auth_policy_server_url = http://127.0.0.1:{dead}/p\n"
                       "auth_policy_reject_on_fail = yes\n", "0",
                       LOGINS[:1]),
    "log-only": ("auth_policy_log_only = yes\n", "-1:go away", LOGINS[:1]),
    "log-only-tarpit": ("auth_policy_log_only = yes\n", "3", LOGINS[:1]),
    "attributes": (
        "auth_policy_request_attributes = login=%{requested_username} "
        "pwhash=%{hashed_password} zz/b=%s zz/a=%{rip} aa=%u "
        "device=%{client_id} m=%m\n"
        "auth_policy_hash_mech = sha1\nauth_policy_hash_truncate = 16\n",
        "0", LOGINS[:2]),
    "no-truncate": ("auth_policy_hash_truncate = 0\n"
                    "auth_policy_hash_mech = md5\n", "0", LOGINS[:1]),
    "tls-client-id": ("", "0", [
        ("tls", plain, "alice", "secret", "\tsecured=tls\tsession=s1\t"
         "client_id=cid")]),
    "only-report": ("auth_policy_check_before_auth = no\n"
                    "auth_policy_check_after_auth = no\n", "-1:x",
                    LOGINS[:2]),
    "no-report": ("auth_policy_report_after_auth = no\n", "0", LOGINS[:2]),
    "url-ampersand": ("auth_policy_server_url = "
                      "http://127.0.0.1:{port}/p?x=1&\n", "0", LOGINS[:1]),
}


def norm_log(line, srv):
    line = re.sub(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ", "", line)
    # (the log-only warning is written when the auth process starts:
    # Dovecot's starts with the first connection, ours before it)
    if "policy(" not in line:
        return None
    line = re.sub(r"\(Request queued .*\)$", "(...)", line)
    line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line)
    return line.replace(srv.dir, "$D")


# After a login, what the servers log and send is waited for (acd.settle)
# until both sides are the same and nothing more came for QUIET seconds;
# the last login of a case also waits LAST_WAIT seconds for late reports.
# Cases run JOBS at a time, each with its own servers and policy servers.
QUIET = 0.2
LAST_WAIT = 0.8
JOBS = int(os.environ.get("AUTH_DIFF_JOBS", "2"))


def split_items(items):
    """(HTTP requests in their order, sorted log lines)"""
    return ([v for k, v in items if k == "http"],
            sorted(v for k, v in items if k == "log"))


def run_case(name, extra, mode, logins, top, opts):
    dead = free_port()
    pair, servers = [], []
    for kind in ("dovecot", "roost"):
        pol = PolicyServer()
        pol.mode = mode
        servers.append(pol)
        srv = acd.Server(kind, top, name, "")
        conf = os.path.join(srv.dir, "dovecot.conf")
        with open(conf) as f:
            head = f.read()
        head = head.replace("auth_debug = yes\n", "auth_debug = yes\n"
                            "auth_debug_passwords = no\n")
        body = BASE.format(port=pol.port, dir=srv.dir) + extra.replace(
            "{port}", str(pol.port)).replace("{dead}", str(dead))
        with open(conf, "w") as f:
            f.write(head + body)
        with open(os.path.join(srv.dir, "users"), "w") as f:
            f.write("alice:{PLAIN}secret:1000:1000::/home/alice::\n")
        os.chmod(os.path.join(srv.dir, "users"), 0o644)
        srv.write_users(*acd.users())
        pair.append(srv)
    errors = [e for e in (s.start() for s in pair) if e]
    results = []
    if not errors:
        time.sleep(0.3)
        for s in pair:
            s.new_log_lines()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
            for login in logins:
                label, fn, args = login[0], login[1], login[2:]
                rip = acd.next_rip()
                start = time.monotonic()
                futs = [ex.submit(fn, s, *args[:2], rip, *args[2:])
                        for s in pair]
                replies = []
                for f in futs:
                    try:
                        replies.append((f.result(),
                                        time.monotonic() - start))
                    except OSError as e:
                        replies.append(("<%s>" % e, 0))
                # the reports and Dovecot's log process: waited for
                # until both sides are the same and quiet (acd.settle)
                items = acd.settle(
                    lambda: [[("log", l) for l in (norm_log(x, s) for x in
                                                  s.new_log_lines()) if l] +
                             [("http", json.dumps(r, sort_keys=True))
                              for r in pol.take()]
                             for s, pol in zip(pair, servers)],
                    quiet=QUIET, min_wait=LAST_WAIT if login is logins[-1]
                    else 0, key=split_items)
                got = []
                for (reply, took), side in zip(replies, items):
                    reqs, logs = split_items(side)
                    # a tarpit of N seconds (twice when both checks
                    # ask for it) shows in the time the login took
                    secs = int(mode.split(":")[0]) if re.match(
                        r"^\d+(:|$)", mode) else 0
                    delayed = "%d tarpits" % int((took + 0.3) / secs) \
                        if secs > 0 else "-"
                    got.append(["reply " + reply, "delay " + delayed] +
                               ["http " + r for r in reqs] + logs)
                results.append(("%s/%s" % (name, label), got))
    for s in pair:
        s.stop(wait=False)
    for pol in servers:
        pol.stop()
    return errors, results, pair


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k", metavar="REGEX")
    ap.add_argument("--keep", action="store_true")
    opts = ap.parse_args()
    for path in (acd.ROOST, acd.DOVECOT):
        if not os.access(path, os.X_OK):
            print("auth-policy-diff: %s not found" % path)
            return 1
    if os.geteuid() != 0:
        print("auth-policy-diff: needs root (Dovecot's master)")
        return 1
    top = tempfile.mkdtemp(prefix="roost-auth-policy-diff-")
    os.chmod(top, 0o755)
    total = failed = 0
    stopping = []
    start = time.monotonic()
    try:
        jobs = concurrent.futures.ThreadPoolExecutor(max_workers=max(1,
                                                                     JOBS))
        futs = [(name, jobs.submit(run_case, name, extra, mode, logins,
                                   top, opts))
                for name, (extra, mode, logins) in CASES.items()
                if not opts.k or re.search(opts.k, name)]
        jobs.shutdown(wait=False)
        for name, fut in futs:
            errors, results, pair = fut.result()
            stopping += pair
            if errors:
                print("FAIL %s: %s" % (name, "; ".join(errors)))
                total += 1
                failed += 1
                continue
            for label, (a, b) in results:
                total += 1
                if a == b:
                    print("ok   " + label)
                    if opts.v:
                        for line in a:
                            print("       " + line)
                    continue
                failed += 1
                print("FAIL " + label)
                for who, lines in (("dovecot", a), ("roost", b)):
                    for line in lines:
                        print("       %-7s %s" % (who, line.replace(
                            "\t", "\\t")))
    finally:
        for s in stopping:
            s.wait_stopped()
        if opts.keep:
            print("auth-policy-diff: kept %s" % top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    print("%d cases, %d ok, %d differ (%.1f s)" % (
        total, total - failed, failed, time.monotonic() - start))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""auth-cache-diff.py - the auth cache of Roost's auth service against
Debian's Dovecot 2.3 auth process, step by step.

Dovecot caches only what it asks its workers (passdb shadow/passwd, pam
with cache_key, userdb passwd), so both servers run those drivers on
users served by nss_wrapper and pam_wrapper (pam_matrix) from files in a
temp dir, never the machine's /etc. Each scenario is one config and a
script of steps run in lockstep on both servers: logins (PLAIN, CRAM-MD5),
master USER/PASS/CACHE-FLUSH, edits of the user files (a password or uid
changes, a user appears), sleeps past the TTLs, `doveadm auth cache
flush`, SIGHUP and SIGUSR2 to the auth process. After each step the
replies and the cache's log lines (auth_debug "cache hit/miss/expired",
"Falling back to expired data from cache", the SIGHUP/SIGUSR2 lines) of
the two servers are compared.

Dovecot's workers wipe the password nss_wrapper hands them, which breaks
a second lookup in the same process: `service auth-worker {
service_count = 1 }` gives every lookup a fresh worker, on both sides.

usage: python3 tests/compat/auth-cache-diff.py [-v] [-k REGEX] [--keep]
  ROOST=path   roost binary (default build/bin/roost); its doveadm is the
               "doveadm" link next to it
  DOVECOT=path, DOVEADM=path   Debian's binaries
Exit status 0 if every step matched.
"""
import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ROOST = os.environ.get("ROOST", os.path.join(ROOT, "build", "bin", "roost"))
DOVECOT = os.environ.get("DOVECOT", "/usr/sbin/dovecot")
DOVEADM = os.environ.get("DOVEADM", "/usr/bin/doveadm")


def find_lib(name):
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
              "/usr/lib/aarch64-linux-gnu"):
        path = os.path.join(d, name)
        if os.path.exists(path):
            return path
    return None


NSS_WRAPPER = find_lib("libnss_wrapper.so")
PAM_WRAPPER = find_lib("libpam_wrapper.so")
PAM_MATRIX = find_lib("pam_wrapper/pam_matrix.so")


def sha512_crypt(pw, salt):
    out = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, pw],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str)
                            else data).decode()


# ---------------------------------------------------------------- servers

class Server:
    def __init__(self, kind, top, scenario, body):
        self.kind = kind
        self.dir = os.path.join(top, "%s-%s" % (scenario, kind))
        self.run = os.path.join(self.dir, "run")
        os.makedirs(os.path.join(self.dir, "pam.d"))
        os.chmod(self.dir, 0o755)
        # both write log_path; Roost's stderr (stdout.log) only on
        # failures to start
        self.log_path = os.path.join(self.dir, "auth.log")
        self.log_pos = 0
        self.proc = None
        self.users = {}
        env = {
            "LD_PRELOAD": "%s:%s" % (PAM_WRAPPER, NSS_WRAPPER),
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": os.path.join(self.dir, "pam.d"),
            "NSS_WRAPPER_PASSWD": os.path.join(self.dir, "passwd"),
            "NSS_WRAPPER_GROUP": os.path.join(self.dir, "group"),
            "NSS_WRAPPER_SHADOW": os.path.join(self.dir, "shadow"),
        }
        self.env = env
        # CRAM-MD5 needs a passdb that gives credentials (not PAM)
        head = CONF_HEAD.format(dir=self.dir, cram="" if "driver = pam"
                                in body else "cram-md5")
        if kind == "dovecot":
            head += "import_environment = TZ %s\n" % " ".join(
                "%s=%s" % kv for kv in env.items())
        with open(os.path.join(self.dir, "dovecot.conf"), "w") as f:
            f.write(head + body)
        with open(os.path.join(self.dir, "pam.d", "dovecot"), "w") as f:
            for t in ("auth", "account", "password", "session"):
                f.write("%s required %s passdb=%s\n" % (
                    t, PAM_MATRIX, os.path.join(self.dir, "matrix")))

    def write_users(self, passwd, shadow, matrix):
        base = [l for l in open("/etc/passwd").read().splitlines()
                if l.split(":")[0] in ("root", "dovecot", "dovenull")]
        groups = [l for l in open("/etc/group").read().splitlines()
                  if l.split(":")[0] in ("root", "dovecot", "dovenull")]
        files = {
            "passwd": base + passwd,
            "group": groups + ["users:x:100:"],
            "shadow": shadow,
            "matrix": matrix,
        }
        for name, lines in files.items():
            path = os.path.join(self.dir, name)
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write("".join(l + "\n" for l in lines))
            os.chmod(tmp, 0o644)
            os.rename(tmp, path)

    def start(self):
        out = open(os.path.join(self.dir, "stdout.log"), "w")
        if self.kind == "dovecot":
            argv = [DOVECOT, "-F", "-c", os.path.join(self.dir,
                                                      "dovecot.conf")]
            env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        else:
            argv = [ROOST, "auth", "-c", os.path.join(self.dir,
                                                      "dovecot.conf")]
            env = dict(self.env, PATH="/usr/sbin:/usr/bin:/sbin:/bin",
                       # sanitizer runtimes refuse RTLD_DEEPBIND
                       # (pam_wrapper 1.1.4 reads the UID_ name)
                       PAM_WRAPPER_DISABLE_DEEPBIND="1",
                       NSS_WRAPPER_DISABLE_DEEPBIND="1",
                       UID_WRAPPER_DISABLE_DEEPBIND="1",
                       ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                       ":verify_asan_link_order=0")
        self.proc = subprocess.Popen(argv, stdout=out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        out.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(os.path.join(self.run, "auth-master")):
                return None
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        return "%s did not start" % self.kind

    def auth_pid(self):
        if self.kind == "roost":
            return self.proc.pid
        out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid",
                              str(self.proc.pid)], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            pid, args = line.strip().split(None, 1)
            if args.strip() == "dovecot/auth":
                return int(pid)
        return None

    def stop(self, wait=True):
        """SIGTERM; without wait, wait_stopped() reaps it later (Dovecot's
        master takes a second to shut down)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if wait:
                self.wait_stopped()

    def wait_stopped(self):
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def new_log_lines(self):
        """The complete lines added to the log since the last call (a
        line still being written is left for the next one)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_pos)
                data = f.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1
        self.log_pos += end
        return data[:end].decode(errors="replace").splitlines()


CONF_HEAD = """base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/auth.log
protocols =
ssl = no
auth_failure_delay = 0
auth_verbose = yes
auth_debug = yes
auth_mechanisms = plain login {cram}
service auth-worker {{
  service_count = 1
}}
"""

# the main process's cache lines (the workers' are not the cache's)
LOG_KEEP = re.compile(r"cache (hit|miss|expired)|Falling back|"
                      r"SIGHUP received|Authentication cache|"
                      r"cache: validating|Cached NULL")


def norm_log(line, srv):
    line = re.sub(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ", "", line)
    if not line.startswith("auth: ") or not LOG_KEEP.search(line):
        return None
    return line.replace(srv.dir, "$D")


# ---------------------------------------------------------------- clients

class Line:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""

    def send(self, line):
        self.s.sendall(line.encode() + b"\n")

    def read(self):
        while b"\n" not in self.buf:
            try:
                data = self.s.recv(65536)
            except (socket.timeout, OSError):
                return "<timeout>"
            if not data:
                return "<closed>"
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def close(self):
        self.s.close()


def client(srv):
    c = Line(os.path.join(srv.run, "auth-client"))
    while c.read() not in ("DONE", "<closed>", "<timeout>"):
        pass
    c.send("VERSION\t1\t2")
    c.send("CPID\t%d" % os.getpid())
    return c


def do_plain(srv, user, pw, rip="192.0.2.1"):
    c = client(srv)
    c.send("AUTH\t1\tPLAIN\tservice=imap\tnologin\trip=%s\tsecured\tresp=%s"
           % (rip, b64("\0%s\0%s" % (user, pw))))
    out = c.read()
    c.close()
    return out


def do_cram(srv, user, pw, rip="192.0.2.1"):
    c = client(srv)
    c.send("AUTH\t1\tCRAM-MD5\tservice=imap\tnologin\trip=%s\tsecured"
           % rip)
    line = c.read()
    if not line.startswith("CONT\t"):
        c.close()
        return line
    ch = base64.b64decode(line.split("\t")[2])
    digest = hmac.new(pw.encode(), ch, hashlib.md5).hexdigest()
    c.send("CONT\t1\t" + b64("%s %s" % (user, digest)))
    out = c.read()
    c.close()
    return out


def do_master(srv, line, sock="auth-master"):
    c = Line(os.path.join(srv.run, sock))
    c.read()
    c.send("VERSION\t1\t0")
    c.read()
    c.send(line)
    out = c.read()
    c.close()
    return out


def do_doveadm(srv, args):
    prog = DOVEADM if srv.kind == "dovecot" else \
        os.path.join(os.path.dirname(ROOST), "doveadm")
    p = subprocess.run([prog, "-c", os.path.join(srv.dir, "dovecot.conf")]
                       + args, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL,
                       env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    return "rc=%d out=%r err=%r" % (p.returncode, p.stdout,
                                    p.stderr.replace(srv.dir, "$D"))


def do_signal(srv, signo):
    pid = srv.auth_pid()
    if pid is None:
        return "<no auth process>"
    os.kill(pid, signo)
    time.sleep(0.3)
    return "sent"


# ---------------------------------------------------------------- users

H = {}


def hashes():
    if not H:
        for pw, salt in (("bobpw", "pepper12"), ("newpw", "pepper34"),
                         ("alicepw", "saltsalt"), ("carolpw", "carol123"),
                         ("davepw", "dave1234")):
            H[pw] = sha512_crypt(pw, salt)
    return H


def users(bob="bobpw", alice="alicepw", alice_uid=1000, dave=False,
          matrix_carol="carolpw", erin=False):
    h = hashes()
    passwd = ["alice:%s:%d:100:Alice:/home/alice:/bin/sh"
              % (h[alice], alice_uid),
              "bob:x:1001:100:Bob:/home/bob:/bin/sh",
              "carol:x:1002:100:Carol:/home/carol:/bin/sh"]
    shadow = ["bob:%s:19000:0:99999:7:::" % h[bob]]
    if dave:
        shadow.append("dave:%s:19000:0:99999:7:::" % h["davepw"])
        passwd.append("dave:x:1003:100:Dave:/home/dave:/bin/sh")
    matrix = ["carol:%s:dovecot" % matrix_carol]
    if erin:
        matrix.append("erin:erinpw:dovecot")
    return passwd, shadow, matrix


# ---------------------------------------------------------------- scenarios

SHADOW = """auth_cache_size = 1M
auth_cache_ttl = 1 hour
auth_cache_negative_ttl = 1 hour
passdb {
  driver = shadow
}
userdb {
  driver = passwd
}
"""

PASSWD = SHADOW.replace("driver = shadow", "driver = passwd")

PAM = """auth_cache_size = 1M
passdb {
  driver = pam
  args = cache_key=%u%s dovecot
}
userdb {
  driver = passwd
}
"""

TTL = """auth_cache_size = 1M
auth_cache_ttl = 5 secs
auth_cache_negative_ttl = 2 secs
passdb {
  driver = shadow
}
userdb {
  driver = passwd
}
"""

# steps: ("plain", user, pw) ("cram", user, pw) ("master", line)
# ("userdb", line) ("users", kwargs) ("sleep", secs) ("doveadm", args)
# ("signal", signo)
BASIC = [
    ("plain", "bob", "bobpw"), ("plain", "bob", "bobpw"),
    ("plain", "bob", "wrong"), ("plain", "bob", "wrong"),
    ("plain", "bob", "bobpw"),
    # the password changes: the old one keeps working from the cache,
    # the new one is checked with the database once
    ("users", {"bob": "newpw"}),
    ("plain", "bob", "bobpw"), ("plain", "bob", "newpw"),
    ("plain", "bob", "bobpw"), ("plain", "bob", "bobpw"),
    ("plain", "bob", "newpw"),
    # unknown users are cached too, until a flush
    ("plain", "dave", "davepw"), ("plain", "dave", "davepw"),
    ("users", {"bob": "newpw", "dave": True}),
    ("plain", "dave", "davepw"),
    ("master", "CACHE-FLUSH\t1\tdave\tnobody"),
    ("plain", "dave", "davepw"), ("plain", "dave", "davepw"),
    # passdb lookups without a password, and credentials
    ("master", "PASS\t1\tbob\tservice=imap"),
    ("master", "PASS\t2\tbob\tservice=imap"),
    ("master", "PASS\t3\tnosuch\tservice=imap"),
    ("master", "PASS\t4\tnosuch\tservice=imap"),
    ("cram", "bob", "newpw"),
    # userdb entries
    ("userdb", "USER\t1\talice\tservice=imap"),
    ("users", {"bob": "newpw", "dave": True, "alice_uid": 2000}),
    ("userdb", "USER\t2\talice\tservice=imap"),
    ("userdb", "USER\t3\talice\tservice=pop3"),
    ("doveadm", ["auth", "cache", "flush", "alice"]),
    ("userdb", "USER\t4\talice\tservice=imap"),
    # (no USER of an unknown user: nss_wrapper's getpwnam_r() hands
    # Dovecot's worker an entry with an empty name, and it crashes)
    ("userdb", "CACHE-FLUSH\t7"),
    # whole flushes
    ("doveadm", ["auth", "cache", "flush"]),
    ("plain", "bob", "newpw"),
    ("signal", signal.SIGHUP),
    ("plain", "bob", "newpw"),
    ("master", "CACHE-FLUSH\t9"),
    ("doveadm", ["-f", "json", "auth", "cache", "flush", "bob"]),
    ("doveadm", ["auth", "cache", "flush", "-a", "/nonexistent"]),
]

SCENARIOS = {
    "shadow": (SHADOW, BASIC),
    "worker-verify": (SHADOW + "auth_cache_verify_password_with_worker "
                      "= yes\n", BASIC[:11]),
    "passwd": (PASSWD, [
        ("plain", "alice", "alicepw"), ("plain", "alice", "alicepw"),
        ("users", {"alice": "newpw"}),
        ("plain", "alice", "alicepw"), ("plain", "alice", "newpw"),
        ("plain", "alice", "alicepw"),
        ("cram", "alice", "newpw"),
    ]),
    "pam": (PAM, [
        ("plain", "carol", "carolpw"), ("plain", "carol", "carolpw"),
        ("plain", "carol", "bad"), ("plain", "carol", "bad"),
        ("users", {"matrix_carol": "changed"}),
        ("plain", "carol", "carolpw"), ("plain", "carol", "changed"),
        ("plain", "carol", "carolpw"),
        ("plain", "erin", "erinpw"),
        ("users", {"matrix_carol": "changed", "erin": True}),
        ("plain", "erin", "erinpw"),
        ("plain", "carol", "changed", "192.0.2.99"),
    ]),
    # An entry is expired when it is more than the TTL old in whole
    # seconds of time(): sleeping TTL + 1.2 s is always enough, and
    # steps within TTL - 1 s never are.
    "ttl": (TTL, [
        ("plain", "bob", "bobpw"), ("plain", "dave", "davepw"),
        ("users", {"bob": "newpw", "dave": True}),
        ("plain", "bob", "bobpw"), ("plain", "dave", "davepw"),
        ("sleep", 3.2),
        ("plain", "dave", "davepw"), ("plain", "bob", "bobpw"),
        ("sleep", 3.2),
        ("plain", "bob", "bobpw"), ("plain", "bob", "newpw"),
        ("signal", signal.SIGUSR2),
    ]),
    "negative-ttl-0": (SHADOW.replace("auth_cache_negative_ttl = 1 hour",
                                      "auth_cache_negative_ttl = 0"), [
        ("plain", "dave", "davepw"),
        ("users", {"dave": True}),
        ("plain", "dave", "davepw"),
        ("master", "CACHE-FLUSH\t1"),
    ]),
    "no-cache": (SHADOW.replace("auth_cache_size = 1M",
                                "auth_cache_size = 0"), [
        ("plain", "bob", "bobpw"),
        ("users", {"bob": "newpw"}),
        ("plain", "bob", "bobpw"), ("plain", "bob", "newpw"),
        ("master", "CACHE-FLUSH\t1\tbob"),
        ("doveadm", ["auth", "cache", "flush"]),
    ]),
}


RIPS = [0]
RIPS_LOCK = threading.Lock()


def next_rip():
    """A fresh remote IP per login: no failure penalty carries over."""
    with RIPS_LOCK:
        RIPS[0] += 1
        n = RIPS[0]
    return "10.9.%d.%d" % (n // 250, n % 250 + 1)


def settle(collect, quiet=0.2, min_wait=0.0, timeout=5.0, key=None):
    """Wait for what the two servers log (and send) after a step,
    instead of sleeping a fixed time: collect() returns the new items of
    each server as [dovecot_list, roost_list]; they are gathered until
    both sides are the same (after key()) and nothing new came for
    `quiet` seconds, and at least min_wait seconds passed; or until
    `timeout` (they differ: the caller reports it). Items that come
    later still are read by the next step's collect(), so a late
    difference is never lost: it fails the next step."""
    key = key or (lambda x: x)
    start = last = time.monotonic()
    acc = [[], []]
    while True:
        new = collect()
        now = time.monotonic()
        for a, n in zip(acc, new):
            a.extend(n)
        if any(new):
            last = now
        if key(acc[0]) == key(acc[1]) and now - last >= quiet and \
                now - start >= min_wait:
            return acc
        if now - start >= timeout:
            return acc
        time.sleep(0.02)


def run_step(srv, step, rip):
    kind = step[0]
    if kind == "plain":
        return do_plain(srv, step[1], step[2], step[3] if len(step) > 3
                        else rip)
    if kind == "cram":
        return do_cram(srv, step[1], step[2], rip)
    if kind == "master":
        return do_master(srv, step[1])
    if kind == "userdb":
        return do_master(srv, step[1], "auth-userdb")
    if kind == "users":
        srv.write_users(*users(**step[1]))
        return "written"
    if kind == "sleep":
        return "slept"
    if kind == "doveadm":
        return do_doveadm(srv, step[1])
    if kind == "signal":
        return do_signal(srv, step[1])
    raise ValueError(kind)


def run_step_safe(srv, step, rip):
    try:
        return run_step(srv, step, rip)
    except OSError as e:
        return "<%s: %s>" % (type(e).__name__, e)


def show_step(step):
    if step[0] == "users":
        return "users %r" % step[1]
    if step[0] == "signal":
        return "signal %s" % signal.Signals(step[1]).name
    return " ".join(str(x) for x in step).replace("\t", "\\t")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k", metavar="REGEX")
    ap.add_argument("--keep", action="store_true")
    opts = ap.parse_args()
    for path in (ROOST, DOVECOT, DOVEADM, NSS_WRAPPER, PAM_WRAPPER,
                 PAM_MATRIX):
        if path is None or not os.access(path, os.R_OK):
            print("auth-cache-diff: missing %s (install dovecot-core, "
                  "libnss-wrapper, libpam-wrapper)" % path)
            return 1
    if os.geteuid() != 0:
        print("auth-cache-diff: needs root (Dovecot's master)")
        return 1
    top = tempfile.mkdtemp(prefix="roost-auth-cache-diff-")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    os.chmod(top, 0o755)
    total = failed = 0
    start = time.monotonic()
    try:
        for name, (body, steps) in SCENARIOS.items():
            if opts.k and not re.search(opts.k, name):
                continue
            pair = [Server("dovecot", top, name, body),
                    Server("roost", top, name, body)]
            for srv in pair:
                srv.write_users(*users())
            errors = [e for e in (s.start() for s in pair) if e]
            if errors:
                print("FAIL %s: %s" % (name, "; ".join(errors)))
                failed += 1
                total += 1
                for s in pair:
                    s.stop()
                continue
            for i, step in enumerate(steps):
                if step[0] == "sleep":
                    time.sleep(step[1])
                # both at once: the TTL steps depend on elapsed time
                rip = next_rip()
                futs = [pool.submit(run_step_safe, srv, step, rip)
                        for srv in pair]
                replies = [f.result() for f in futs]
                time.sleep(0.15)    # Dovecot's log process
                got = []
                for srv, reply in zip(pair, replies):
                    logs = [l for l in (norm_log(x, srv) for x in
                                        srv.new_log_lines()) if l]
                    got.append([reply] + logs)
                total += 1
                label = "%s/%02d %s" % (name, i + 1, show_step(step))
                if got[0] == got[1]:
                    print("ok   " + label)
                    if opts.v:
                        for line in got[0]:
                            print("       " + line.replace("\t", "\\t"))
                    continue
                failed += 1
                print("FAIL " + label)
                for who, lines in zip(("dovecot", "roost"), got):
                    for line in lines:
                        print("       %-7s %s" % (who,
                                                  line.replace("\t", "\\t")))
            for s in pair:
                s.stop()
    finally:
        pool.shutdown(wait=True)
        if opts.keep:
            print("auth-cache-diff: kept %s" % top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    print("%d steps, %d ok, %d differ (%.1f s)" % (
        total, total - failed, failed, time.monotonic() - start))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

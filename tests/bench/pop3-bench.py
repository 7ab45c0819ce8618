#!/usr/bin/env python3
"""POP3 side by side with Debian's Dovecot on the same machine, same
Maildir, same passwd-file user, both from temp configs on loopback ports
(never /etc/dovecot or the system service). Prints a table of ratios.

Rows:
  logins/s plain     N sequential USER/PASS/STAT/QUIT sessions
  logins/s TLS       N sequential pop3s sessions (handshake included)
  RETR MB/s          one session RETRs all messages (1,000 x ~10 KB)
  PSS idle, pre-login   total PSS of every server process with M idle
                        connections (greeted, not logged in)
  PSS idle, logged in   the same with M logged-in idle sessions
Defaults as each server ships them (Dovecot: a login process and a pop3
process per connection; Roost: shared login workers, one mail worker per
uid). Needs root. Env: ROOST, N (200), M (200), MSGS (1000)."""
import os
import poplib
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
N = int(os.environ.get("N", "200"))
M = int(os.environ.get("M", "200"))
MSGS = int(os.environ.get("MSGS", "1000"))
UID = 65534


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def conf(tmp, name, port, sport):
    return """protocols = pop3
listen = 127.0.0.1
base_dir = %(tmp)s/%(name)s-run
log_path = %(tmp)s/%(name)s.log
state_dir = %(tmp)s/%(name)s-state
mail_location = maildir:%(tmp)s/home/Maildir
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_failure_delay = 0
default_process_limit = 1000
mail_max_userip_connections = 10000
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
service pop3-login {
  inet_listener pop3 {
    port = %(port)d
  }
  inet_listener pop3s {
    port = %(sport)d
  }
}
""" % {"tmp": tmp, "name": name, "port": port, "sport": sport}


def tree_pids(root):
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(pid))
    out, pending = [], [root]
    while pending:
        p = pending.pop()
        out.append(p)
        pending.extend(children.get(p, []))
    return out


def pss_kb(root):
    total = 0
    for pid in tree_pids(root):
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def wait_port(port):
    for _ in range(200):
        try:
            s = socket.create_connection(("127.0.0.1", port), 1)
            s.settimeout(5)
            if s.recv(100).startswith(b"+OK"):
                s.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server on port %d didn't answer" % port)


def bench(port, sport, pid):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    res = {}
    t = time.time()
    for _ in range(N):
        p = poplib.POP3("127.0.0.1", port, timeout=30)
        p.user("bench")
        p.pass_("secret")
        p.stat()
        p.quit()
    res["logins/s plain"] = N / (time.time() - t)
    t = time.time()
    for _ in range(N // 2):
        p = poplib.POP3_SSL("127.0.0.1", sport, context=ctx, timeout=30)
        p.user("bench")
        p.pass_("secret")
        p.quit()
    res["logins/s TLS"] = (N // 2) / (time.time() - t)
    p = poplib.POP3("127.0.0.1", port, timeout=60)
    p.user("bench")
    p.pass_("secret")
    count, size = p.stat()
    t = time.time()
    for i in range(1, count + 1):
        p.retr(i)
    res["RETR MB/s"] = size / (time.time() - t) / 1e6
    p.quit()
    base = pss_kb(pid)
    socks = []
    for _ in range(M):
        s = socket.create_connection(("127.0.0.1", port), 30)
        s.recv(100)
        socks.append(s)
    time.sleep(0.5)
    res["PSS MB, %d idle pre-login" % M] = (pss_kb(pid) - base) / 1024
    for s in socks:
        s.close()
    time.sleep(1)
    base = pss_kb(pid)
    sessions = []
    for _ in range(M):
        p = poplib.POP3("127.0.0.1", port, timeout=30)
        p.user("bench")
        p.pass_("secret")
        sessions.append(p)
    time.sleep(0.5)
    res["PSS MB, %d idle logged in" % M] = (pss_kb(pid) - base) / 1024
    for p in sessions:
        p.quit()
    return res


def main():
    if os.geteuid() != 0:
        print("pop3-bench: needs root (skipped)")
        return 0
    tmp = tempfile.mkdtemp(prefix="roost-pop3bench.")
    os.chmod(tmp, 0o755)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", tmp + "/key.pem", "-out", tmp + "/cert.pem"],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    home = tmp + "/home"
    os.makedirs(home + "/Maildir/new")
    os.makedirs(home + "/Maildir/cur")
    os.makedirs(home + "/Maildir/tmp")
    body = ("x" * 72 + "\n") * 135
    for i in range(MSGS):
        with open("%s/Maildir/new/%d.M%dP1.bench" % (home, 1700000000 + i, i),
                  "w") as f:
            f.write("From: a@example.com\nSubject: %d\n\n%s" % (i, body))
    for root, dirs, files in os.walk(home):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            os.lchown(n, UID, UID)
    with open(tmp + "/passwd", "w") as f:
        f.write("bench:{PLAIN}secret:%d:%d::%s::\n" % (UID, UID, home))
    results = {}
    for name, cmd in (("dovecot", ["dovecot"]),
                      ("roost", [os.path.join(BIN, "dovecot")])):
        port, sport = free_port(), free_port()
        path = "%s/%s.conf" % (tmp, name)
        with open(path, "w") as f:
            f.write(conf(tmp, name, port, sport))
        proc = subprocess.Popen(cmd + ["-F", "-c", path],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            bench(port, sport, proc.pid)  # warm-up (indexes, caches)
            results[name] = bench(port, sport, proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    print("%-30s %12s %12s %8s" % ("POP3 (N=%d, M=%d)" % (N, M), "Dovecot",
                                   "Roost", "ratio"))
    for key in results["dovecot"]:
        d, r = results["dovecot"][key], results["roost"][key]
        ratio = r / d if d else float("inf")
        print("%-30s %12.1f %12.1f %7.2fx" % (key, d, r, ratio))
    print("(throughput rows: ratio > 1 means Roost is faster; memory rows:"
          " ratio < 1 means Roost uses less)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""LMTP deliveries per second, side by side with Debian's Dovecot on the
same machine: both from temp configs (unix socket in their own base_dir,
never /etc/dovecot or the system service), the same passwd-file users,
Maildir, mail_fsync = optimized (the default). Prints a table of ratios.

Rows:
  1 msg/connection      N sequential sessions, each LHLO/MAIL/RCPT/DATA/QUIT
                        (an MTA without connection caching)
  10 msgs/connection    N messages, 10 transactions per session
  3 rcpts/msg           N/3 messages with three recipients each (rate in
                        recipient deliveries)
  4 clients parallel    N messages from 4 concurrent senders
Needs root. Env: ROOST, N (300)."""
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
N = int(os.environ.get("N", "300"))
UID = 65534
USERS = ["u%d@example.test" % i for i in range(4)]
BODY = (b"Subject: bench\r\nFrom: a@example.org\r\nMessage-ID: <b@x>\r\n\r\n" +
        b"line of text in a benchmark message\r\n" * 100)


def conf(tmp):
    return """protocols = lmtp
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = no
hostname = bench.example
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
""" % {"tmp": tmp}


def start(argv0):
    tmp = tempfile.mkdtemp(prefix="roost-lmtpbench.")
    os.chmod(tmp, 0o755)
    for d in ("run", "state", "home"):
        os.makedirs(os.path.join(tmp, d))
    os.chown(os.path.join(tmp, "home"), UID, UID)
    with open(os.path.join(tmp, "passwd"), "w") as f:
        for u in USERS:
            f.write("%s::%d:%d::%s/home/%s::\n" % (u, UID, UID, tmp, u))
    path = os.path.join(tmp, "dovecot.conf")
    with open(path, "w") as f:
        f.write(conf(tmp))
    proc = subprocess.Popen([argv0, "-F", "-c", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = os.path.join(tmp, "run", "lmtp")
    for _ in range(200):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            s.close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, tmp, sock


def stop(proc, tmp):
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    shutil.rmtree(tmp, ignore_errors=True)


def sessions(sock, count, per_conn, rcpts):
    done = 0
    while done < count:
        c = smtplib.LMTP(sock)
        for _ in range(min(per_conn, count - done)):
            refused = c.sendmail("a@example.org", rcpts, BODY)
            if refused:
                raise RuntimeError(refused)
            for _ in range(len(rcpts) - 1):
                code, _ = c.getreply()
                if code != 250:
                    raise RuntimeError(code)
            done += 1
        c.quit()


def measure(sock):
    res = {}
    t = time.time()
    sessions(sock, N, 1, USERS[:1])
    res["1 msg/connection"] = N / (time.time() - t)
    t = time.time()
    sessions(sock, N, 10, USERS[1:2])
    res["10 msgs/connection"] = N / (time.time() - t)
    t = time.time()
    sessions(sock, N // 3, 10, USERS[:3])
    res["3 rcpts/msg"] = (N // 3) * 3 / (time.time() - t)
    t = time.time()
    threads = [threading.Thread(target=sessions,
                                args=(sock, N // 4, 10, [USERS[3]]))
               for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    res["4 clients parallel"] = (N // 4) * 4 / (time.time() - t)
    return res


def main():
    if os.geteuid() != 0:
        print("lmtp-bench: skipped (needs root)")
        return 0
    results = {}
    for name, argv0 in (("dovecot", "/usr/sbin/dovecot"),
                        ("roost", os.path.join(BIN, "dovecot"))):
        proc, tmp, sock = start(argv0)
        try:
            results[name] = measure(sock)
        finally:
            stop(proc, tmp)
    print("LMTP deliveries/s (N=%d, mail_fsync=optimized)" % N)
    print("%-22s %10s %10s %8s" % ("", "Dovecot", "Roost", "ratio"))
    for row in results["roost"]:
        d, r = results["dovecot"][row], results["roost"][row]
        print("%-22s %10.1f %10.1f %7.2fx" % (row, d, r, r / d))
    return 0


if __name__ == "__main__":
    sys.exit(main())

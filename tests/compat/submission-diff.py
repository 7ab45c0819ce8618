#!/usr/bin/env python3
"""Submission differential test: the same SMTP sessions against Debian's
Dovecot (its submission-login + submission, `dovecot -c` from a temp
config) and against Roost, each relaying to its own recording relay
(tests/integration/smtpsink.py). Compared after normalising session ids,
message ids, pids, dates and ports: every reply the client sees, every
command the relay sees, every message the relay gets (Received header
included) and the log lines.

Differences Roost keeps on purpose (README of daemon/submission) are
normalised away here and nowhere else: the RSET/NOOP Dovecot also
sends to the relay. Sessions avoid a post-login RSET (Dovecot answers
it with the relay's text, Roost with its own).

Never touches /etc/dovecot or the system service; needs root (the mail
user is nobody). Env: ROOST = path of build/bin/roost."""
import base64
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from serverlib import free_port, make_cert, tls_context  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534
PLAIN = base64.b64encode(b"\0alice\0secret").decode()
BIG = "Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 30 + "."

# (name, extra config, sink options, client source address, steps)
# A step: a command line (one reply read), b"raw bytes" (one reply
# read), "STARTTLS-DO" (TLS handshake on the connection), or "TLS" as
# the first step (connect to the implicit TLS listener).
CASES = [
    ("starttls-flow", "", {}, "127.0.0.1", [
        "EHLO client.example", "MAIL FROM:<a@b>", "HELO x", "RSET", "NOOP",
        "VRFY x", "HELP", "FOO", "", "EHLO", "QUIT x", "AUTH PLAIN", "*",
        "STARTTLS", "STARTTLS-DO", "EHLO client.example", "STARTTLS",
        "AUTH PLAIN " + PLAIN, "EHLO client2", "AUTH PLAIN " + PLAIN,
        "STARTTLS", "MAIL FROM:<alice@example.com> SIZE=100",
        "RCPT TO:<bob@example.com>", "DATA",
        "Subject: hi\r\n\r\n..dot\r\nbody\r\n.", "QUIT"]),
    ("insecure", "", {}, "127.0.0.2", [
        "EHLO client.example", "AUTH PLAIN " + PLAIN, "AUTH LOGIN",
        "AUTH CRAM-MD5", "AUTH FOO", "MAIL FROM:<a@b>", "RCPT TO:<a@b>",
        "DATA", "BDAT 0 LAST", "XCLIENT ADDR=1.2.3.4", "QUIT"]),
    ("limits", "submission_max_recipients = 2\nsubmission_max_mail_size = 1k",
     {}, "127.0.0.1", [
        "TLS", "EHLO c", "AUTH LOGIN", base64.b64encode(b"alice").decode(),
        base64.b64encode(b"secret").decode(), "EHLO c", "VRFY bob",
        "MAIL FROM:<alice@example.com> SIZE=5000",
        "MAIL FROM:<alice@example.com> SIZE=500 BODY=8BITMIME",
        "RCPT TO:<b1@example.com> NOTIFY=NEVER",
        "RCPT TO:<reject@example.com>", "RCPT TO:<b2@example.com>",
        "RCPT TO:<b3@example.com>", "DATA", BIG,
        "MAIL FROM:<alice@example.com>", "RCPT TO:<b1@example.com>", "DATA",
        "Subject: small\r\n\r\nhi\r\n.", "QUIT"]),
    ("params", "", {}, "127.0.0.1", [
        "EHLO c", "AUTH PLAIN " + PLAIN, "MAIL FROM:<a@b> FOO=BAR",
        "MAIL FROM:<a@b> BODY=BINARYMIME", "MAIL FROM:<a@b> SMTPUTF8",
        "MAIL FROM:<\u00fc@b>", "MAIL FROM:bad", "MAIL FROM: <a@b>",
        "MAIL FROM:<>", "RCPT TO:<\u00fc@y>", "RCPT TO:<postmaster>",
        "RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b",
        "RCPT TO:<tempfail@b>", "DATA", "x\r\n.",
        "MAIL FROM:<a@b> RET=HDRS ENVID=abc AUTH=<>", "RCPT TO:<c@d>",
        b"BDAT 5\r\nab\r\nc", b"BDAT 4 LAST\r\nde\r\n", "QUIT"]),
    ("xclient-plain-relay", "submission_relay_trusted = yes",
     {"xclient": True, "caps": ["PIPELINING", "8BITMIME"]}, "127.0.0.1", [
        "EHLO c", "AUTH PLAIN " + PLAIN, "EHLO c",
        "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "RCPT TO:<reject@d>", "DATA",
        "x\n.", "QUIT"]),
    ("relay-refused", None, {}, "127.0.0.1", [
        "EHLO c", "AUTH PLAIN " + PLAIN, "READ"]),
]


def config(tmp, extra, relay_port, port, ssl_port):
    return """protocols = submission
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
state_dir = %(tmp)s/state
hostname = lab.example.test
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_failure_delay = 0
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
submission_relay_host = 127.0.0.1
submission_relay_port = %(rport)d
%(extra)s
service submission-login {
  inet_listener submission {
    port = %(port)d
  }
  inet_listener submissions {
    port = %(ssl_port)d
    ssl = yes
  }
}
""" % {"tmp": tmp, "extra": extra, "rport": relay_port, "port": port,
       "ssl_port": ssl_port}


def run_steps(port, ssl_port, source, steps):
    out = []
    tls = steps and steps[0] == "TLS"
    s = socket.create_connection(("127.0.0.1", ssl_port if tls else port),
                                 10, source_address=(source, 0))
    if tls:
        s = tls_context().wrap_socket(s)
        steps = steps[1:]
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                out.append("S: <EOF>")
                return False
            out.append("S: " + line.decode("utf-8", "replace").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                return True

    try:
        reply()
        for step in steps:
            if step == "STARTTLS-DO":
                s = tls_context().wrap_socket(s)
                f = s.makefile("rb")
                continue
            if step == "READ":
                while reply():
                    pass
                break
            data = step if isinstance(step, bytes) else \
                step.encode() + b"\r\n"
            out.append("C: " + repr(data))
            s.sendall(data)
            if not reply():
                break
    except (OSError, ssl.SSLError) as e:
        out.append("EXC " + type(e).__name__)
    finally:
        f.close()
        s.close()
    return out


def run_server(kind, tmp, case):
    name, extra, sink_opts, source, steps = case
    sink = SmtpSink(**sink_opts)
    relay_port = sink.port
    if extra is None:       # relay down: a port nobody listens on
        sink.stop()
        extra = ""
    port, ssl_port = free_port(), free_port()
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(config(tmp, extra, relay_port, port, ssl_port))
    if os.path.exists(os.path.join(tmp, "log")):
        os.unlink(os.path.join(tmp, "log"))
    if kind == "dovecot":
        subprocess.run(["dovecot", "-c", conf], check=True)
        proc = None
    else:
        proc = subprocess.Popen([os.path.join(BIN, "dovecot"), "-F", "-c",
                                 conf])
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            c = socket.create_connection(("127.0.0.1", port), 1)
            c.recv(100)
            c.close()
            if os.path.exists(os.path.join(tmp, "run", "auth-master")) or \
                    kind == "dovecot":
                break
        except OSError:
            pass
        time.sleep(0.1)
    time.sleep(0.3)
    try:
        out = run_steps(port, ssl_port, source, steps)
        time.sleep(0.5)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
        else:
            subprocess.run(["doveadm", "-c", conf, "stop"])
            time.sleep(0.5)
        sink.stop()
    for line in sink.lines:
        if line not in ("RSET", "NOOP"):
            out.append("R: " + line)
    for m in sink.messages:
        out.append("M: %s %s %r" % (m.mail_from, m.mail_params, m.rcpts))
        out.extend("D: " + l for l in m.data.decode("utf-8", "replace")
                   .split("\n"))
    with open(os.path.join(tmp, "log")) as f:
        log = [l for l in f.read().splitlines()
               if "starting up" not in l and "Killed with signal" not in l
               and not re.search(r"Connection closed \(no auth attempts "
                                 r"in \d+ secs\)", l)]
    return out + ["L: " + l for l in log]


def normalise(lines):
    res = []
    for l in lines:
        l = re.sub(r"^L: \w{3} [ \d]\d \d\d:\d\d:\d\d ", "L: ", l)
        l = re.sub(r"session=<[^>]*>", "session=<S>", l)
        l = re.sub(r"<\d+><[^>]+>", "<P><S>", l)
        l = re.sub(r"mpid=\d+", "mpid=P", l)
        l = re.sub(r"\bid [A-Za-z0-9+/]{22}", "id ID", l)
        l = re.sub(r"\bid=[A-Za-z0-9+/]{22}", "id=ID", l)
        l = re.sub(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d "
                   r"[+-]\d{4}", "DATE", l)
        l = re.sub(r"PORT=\d+", "PORT=N", l)
        l = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:N", l)
        res.append(l)
    return res


def run_kind(kind, case):
    tmp = tempfile.mkdtemp(prefix="roost-subdiff.")
    os.chmod(tmp, 0o755)
    home = os.path.join(tmp, "home", "alice")
    os.makedirs(home)
    os.chown(home, UID, GID)
    with open(os.path.join(tmp, "passwd"), "w") as f:
        f.write("alice:{PLAIN}secret:%d:%d::%s::\n" % (UID, GID, home))
    make_cert(tmp)
    try:
        lines = normalise(run_server(kind, tmp, case))
        # log lines of different processes race: compare sorted
        return [l for l in lines if not l.startswith("L: ")] + \
            sorted(l for l in lines if l.startswith("L: "))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        print("submission-diff: needs root, skipped")
        return 0
    failed = 0
    # a case's two servers run at once (own temp dirs, ports and sinks)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    for case in CASES:
        futs = {kind: pool.submit(run_kind, kind, case)
                for kind in ("dovecot", "roost")}
        results = {kind: f.result() for kind, f in futs.items()}
        if results["dovecot"] == results["roost"]:
            print("ok   %s" % case[0])
            continue
        failed += 1
        print("FAIL %s" % case[0])
        import difflib
        for l in difflib.unified_diff(results["dovecot"], results["roost"],
                                      "dovecot", "roost", lineterm="", n=2):
            print("   " + l)
    pool.shutdown()
    print("%d passed, %d failed" % (len(CASES) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""LMTP and submission side by side with Debian's Dovecot on the same
machine, from the same dovecot.conf text (tests/integration/
smtpserverlib.py: passwd-file users alice/bob/carol, static userdb uid
65534, Maildir under a temp dir, `mail_fsync = optimized`), on free
loopback ports; never /etc/dovecot, /etc/postfix or the system services.
Prints Dovecot's value, Roost's and the ratio.

Rows (each after one untimed warm-up round):
  LMTP deliveries/s, 1 conn        one LMTP session, N transactions of one
                                   ~4 KB message to one recipient
  LMTP deliveries/s, 3 conns       3 sessions at once (threads), one user
                                   each, N/3 transactions each
  LMTP deliveries/s, 3 rcpts/msg   one session, N/3 messages to alice, bob
                                   and carol (a delivery = one recipient's
                                   copy saved)
  LMTP via Postfix msgs/s          N/2 messages injected into a real Postfix
                                   over SMTP, delivered by Postfix's lmtp
                                   client to the server's unix socket:
                                   first injection to empty queue
  submission msgs/s, 1 session     one implicit-TLS session, AUTH PLAIN,
                                   N messages relayed to a Python sink
                                   (answers 250 at once, keeps nothing)
  submission sessions/s            N/4 sessions: TLS handshake, EHLO, AUTH,
                                   one message, QUIT, to the sink
  submission msgs/s -> Postfix     like the 1-session row, N/2 messages,
                                   relayed to a real Postfix (its smtpd
                                   queues them; delivery not timed)

Each server runs with its own process model (Dovecot: a login process
per connection and an lmtp/submission process per session). Roost is
`build/bin/dovecot -F -c CONF` (ROOST=...); the rows of a service it
does not serve yet (LMTP or submission) are n/a, with the reason. Never asserts:
exits 0 unless Dovecot could not be started. Needs root, postfix.
Env: ROOST, N (300), ONLY (dovecot|roost), KEEP=1."""
import base64
import os
import socket
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from postfixlib import Postfix  # noqa: E402
from smtpserverlib import (Server, Unsupported, tls_context,  # noqa: E402
                           free_port, make_cert)

N = int(os.environ.get("N", "300"))
ONLY = os.environ.get("ONLY", "")
TIMEOUT = 30
BODY = ("".join("line %04d of a benchmark message, some text to fill it "
                "up to about four kilobytes.\r\n" % i for i in range(50)))
AUTH = base64.b64encode(b"\0alice\0secret").decode()


def message(i):
    return ("From: bench@sender.test\r\nTo: bench@mx.test\r\n"
            "Subject: bench %d\r\nMessage-ID: <bench.%d.%f@client.test>\r\n"
            "\r\n%s" % (i, i, time.time(), BODY)).encode()


class Client:
    """Raw SMTP/LMTP client: one reply per command, multi-line aware."""

    def __init__(self, port=None, path=None, tls=False):
        if path:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(TIMEOUT)
            s.connect(path)
        else:
            s = socket.create_connection(("127.0.0.1", port), TIMEOUT)
            s.settimeout(TIMEOUT)
        if tls:
            s = tls_context().wrap_socket(s)
        self.sock = s
        self.buf = b""
        self.expect("220")

    def reply(self):
        while True:
            pos = 0
            while True:
                nl = self.buf.find(b"\n", pos)
                if nl < 0:
                    break
                line = self.buf[pos:nl + 1]
                pos = nl + 1
                if line[3:4] != b"-":
                    r, self.buf = self.buf[:pos], self.buf[pos:]
                    return r.decode(errors="replace")
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed: %r" % self.buf)
            self.buf += d

    def expect(self, code):
        r = self.reply()
        last = r.rstrip("\r\n").split("\n")[-1]
        if not last.startswith(code):
            raise RuntimeError("wanted %s, got %r" % (code, r))
        return last

    def cmd(self, line, code):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.expect(code)

    def transaction(self, sender, rcpts, data, lmtp=False):
        """MAIL, RCPTs, DATA pipelined in one write; then the data."""
        cmds = "MAIL FROM:<%s>\r\n" % sender + "".join(
            "RCPT TO:<%s>\r\n" % r for r in rcpts) + "DATA\r\n"
        self.sock.sendall(cmds.encode())
        self.expect("250")
        for _ in rcpts:
            self.expect("250")
        self.expect("354")
        self.sock.sendall(data + b".\r\n")
        for _ in (rcpts if lmtp else [1]):
            self.expect("250")

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply()
        except (OSError, EOFError):
            pass
        self.sock.close()


class Sink:
    """A minimal relay that accepts everything: EHLO with PIPELINING and
    8BITMIME, 250 to MAIL/RCPT, DATA read to the dot, 250 queued."""

    def __init__(self):
        self.port = free_port()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(128)
        self.count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        f = c.makefile("rb")
        try:
            c.sendall(b"220 sink.test ESMTP\r\n")
            while True:
                line = f.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb in (b"EHLO", b"LHLO"):
                    c.sendall(b"250-sink.test\r\n250-PIPELINING\r\n"
                              b"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
                              b"250 SIZE 104857600\r\n")
                elif verb == b"DATA":
                    c.sendall(b"354 go ahead\r\n")
                    while True:
                        d = f.readline()
                        if not d or d == b".\r\n":
                            break
                    self.count += 1
                    c.sendall(b"250 2.0.0 Ok: queued as S%d\r\n" % self.count)
                elif verb == b"QUIT":
                    c.sendall(b"221 2.0.0 Bye\r\n")
                    break
                else:
                    c.sendall(b"250 2.0.0 Ok\r\n")
        except OSError:
            pass
        c.close()

    def close(self):
        self.lsock.close()


# ------------------------------------------------------------------ rows

def lmtp_one_conn(srv, n):
    c = Client(port=srv.lmtp_port)
    c.cmd("LHLO bench.test", "250")
    t = time.monotonic()
    for i in range(n):
        c.transaction("bench@sender.test", ["alice@mx.test"], message(i),
                      lmtp=True)
    dt = time.monotonic() - t
    c.close()
    return n / dt


def lmtp_three_conns(srv, n):
    errors = []

    def run(user, k):
        try:
            c = Client(port=srv.lmtp_port)
            c.cmd("LHLO bench.test", "250")
            for i in range(k):
                c.transaction("bench@sender.test", ["%s@mx.test" % user],
                              message(i), lmtp=True)
            c.close()
        except (OSError, EOFError, RuntimeError) as e:
            errors.append(e)
    k = n // 3
    threads = [threading.Thread(target=run, args=(u, k))
               for u in ("alice", "bob", "carol")]
    t = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(TIMEOUT * 10)
    dt = time.monotonic() - t
    if errors:
        raise RuntimeError(errors[0])
    return 3 * k / dt


def lmtp_three_rcpts(srv, n):
    c = Client(port=srv.lmtp_port)
    c.cmd("LHLO bench.test", "250")
    k = n // 3
    t = time.monotonic()
    for i in range(k):
        c.transaction("bench@sender.test", ["alice@mx.test", "bob@mx.test",
                                            "carol@mx.test"], message(i),
                      lmtp=True)
    dt = time.monotonic() - t
    c.close()
    return 3 * k / dt


def lmtp_via_postfix(srv, pf, n):
    c = Client(port=pf.port)
    c.cmd("EHLO bench.test", "250")
    t = time.monotonic()
    for i in range(n):
        c.transaction("bench@sender.test", ["carol@lmtp.test"], message(i))
    c.close()
    if not pf.wait_idle(TIMEOUT * 4):
        raise RuntimeError("Postfix queue not empty after %d s: %s"
                           % (TIMEOUT * 4, pf.postqueue()[-500:]))
    return n / (time.monotonic() - t)


def sub_login(srv):
    c = Client(port=srv.subs_port, tls=True)
    c.cmd("EHLO bench.test", "250")
    c.cmd("AUTH PLAIN " + AUTH, "235")
    return c


def sub_one_session(srv, n):
    c = sub_login(srv)
    t = time.monotonic()
    for i in range(n):
        c.transaction("alice@mx.test", ["x@sink.test"], message(i))
    dt = time.monotonic() - t
    c.close()
    return n / dt


def sub_sessions(srv, n):
    t = time.monotonic()
    for i in range(n):
        c = sub_login(srv)
        c.transaction("alice@mx.test", ["x@sink.test"], message(i))
        c.close()
    return n / (time.monotonic() - t)


ROWS = [
    ("LMTP deliveries/s, 1 conn", "lmtp"),
    ("LMTP deliveries/s, 3 conns", "lmtp"),
    ("LMTP deliveries/s, 3 rcpts/msg", "lmtp"),
    ("LMTP via Postfix msgs/s", "lmtp"),
    ("submission msgs/s, 1 session", "sink"),
    ("submission sessions/s", "sink"),
    ("submission msgs/s -> Postfix", "postfix"),
]


def bench_side(kind, tmp, notes):
    """-> {row: value} for one server (missing rows: not measured)."""
    res = {}
    sink = Sink()
    pf = None
    srv = None
    try:
        srv = Server(kind, sink.port, cert_from=tmp)
        srv.start()
        pf = Postfix(lmtp={"lmtp.test": "lmtp:unix:" + srv.lmtp_socket})
        pf.start()
        missing = {svc: srv.missing(svc) for svc in ("lmtp", "submission")}
        for svc, why in missing.items():
            if why:
                notes.append("%s: %s rows n/a: %s" % (kind, svc, why))
        for name, svc, fn in (
                ("LMTP deliveries/s, 1 conn", "lmtp",
                 lambda n: lmtp_one_conn(srv, n)),
                ("LMTP deliveries/s, 3 conns", "lmtp",
                 lambda n: lmtp_three_conns(srv, n)),
                ("LMTP deliveries/s, 3 rcpts/msg", "lmtp",
                 lambda n: lmtp_three_rcpts(srv, n)),
                ("LMTP via Postfix msgs/s", "lmtp",
                 lambda n: lmtp_via_postfix(srv, pf, n // 2)),
                ("submission msgs/s, 1 session", "submission",
                 lambda n: sub_one_session(srv, n)),
                ("submission sessions/s", "submission",
                 lambda n: sub_sessions(srv, n // 4))):
            if missing[svc]:
                continue
            fn(max(6, N // 10))          # warm-up
            res[name] = fn(N)
        relayed = sink.count
        srv.cleanup()
        if not missing["submission"]:
            # the same config text, relaying to Postfix instead of the sink
            srv = Server(kind, pf.port, cert_from=tmp)
            srv.start()
            sub_one_session(srv, max(6, N // 10))
            res["submission msgs/s -> Postfix"] = sub_one_session(srv,
                                                                  N // 2)
        pf.wait_idle(TIMEOUT)
        log = pf.log()
        notes.append("%s: %d messages reached the sink; Postfix delivered %d "
                     "over LMTP and %d relayed from submission"
                     % (kind, relayed,
                        log.count("status=sent (250 2.0.0 <carol@lmtp.test>"),
                        log.count("relay=virtual")))
    except Unsupported as e:
        notes.append("%s: %s" % (kind, e))
    finally:
        if srv:
            srv.cleanup()
        if pf:
            pf.stop()
        sink.close()
    return res


def main():
    if os.geteuid() != 0:
        print("smtp-bench: needs root (skipped)")
        return 0
    import tempfile
    tmp = tempfile.mkdtemp(prefix="roost-smtpbench.")
    make_cert(tmp)
    notes = []
    results = {}
    t0 = time.monotonic()
    try:
        for kind in ("dovecot", "roost"):
            if ONLY and ONLY != kind:
                continue
            results[kind] = bench_side(kind, tmp, notes)
            if kind == "dovecot" and not results[kind] and not ONLY:
                print("smtp-bench: Dovecot did not start: %s" % notes)
                return 1
    finally:
        import shutil
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    d, r = results.get("dovecot", {}), results.get("roost", {})
    print("%-34s %11s %11s %8s" % ("SMTP (N=%d, mail_fsync=optimized)" % N,
                                   "Dovecot", "Roost", "ratio"))
    for name, _ in ROWS:
        dv, rv = d.get(name), r.get(name)
        ratio = "%7.2fx" % (rv / dv) if dv and rv else "%8s" % "-"
        print("%-34s %11s %11s %s" % (
            name, "%.1f" % dv if dv else "n/a", "%.1f" % rv if rv else "n/a",
            ratio))
    print("(ratio = Roost / Dovecot: > 1 means Roost is faster; %.0f s in all)"
          % (time.monotonic() - t0))
    for n in notes:
        print("  " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""COMPRESS=DEFLATE (RFC 4978, the imap_zlib plugin): a session
compressed end to end with Python's zlib on the client side - preauth
(`roost imap -u`, compared with Dovecot's /usr/lib/dovecot/imap), and
through Roost's daemon (`dovecot -c CONF`) over plain IMAP and over
IMAPS (TLS beneath the compression), with compressed bytes pipelined
right after the COMPRESS command, a large FETCH (backpressure through
the pump) and an APPEND literal. Without imap_zlib, COMPRESS is unknown.

Env: ROOST = path of build/bin/roost."""
import os
import re
import socket
import ssl
import subprocess
import time
import unittest
import zlib

from pluginlib import Env, HAVE_DOVECOT, DOVECOT_IMAP, ROOST, TIMING, UID
from serverlib import free_port, make_cert, tls_context

CONF = "mail_plugins = zlib\nprotocol imap {\n  mail_plugins = " \
    "$mail_plugins imap_zlib\n}\n"
BIG = b"Subject: big\r\n\r\n" + b"".join(b"line %06d of a big message\r\n"
                                          % i for i in range(20000))


class Z:
    """Client side of a compressed stream over a socket-like object."""

    def __init__(self, send, recv):
        self.send_raw, self.recv_raw = send, recv
        self.c = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.d = zlib.decompressobj(-15)
        self.compressed = False
        self.buf = b""

    def start(self, pending=b""):
        self.compressed = True
        if pending:
            self.buf += self.d.decompress(pending)

    def send(self, data):
        if self.compressed:
            data = self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH)
        self.send_raw(data)

    def fill(self):
        raw = self.recv_raw()
        if not raw:
            raise EOFError(self.buf)
        return raw

    def line(self):
        while b"\r\n" not in self.buf:
            raw = self.fill()
            self.buf += self.d.decompress(raw) if self.compressed else raw
        i = self.buf.index(b"\r\n") + 2
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def until_tag(self, tag):
        out = b""
        while True:
            line = self.line()
            out += line
            m = re.search(rb"\{(\d+)\}\r\n$", line)
            if m:
                n = int(m.group(1))
                while len(self.buf) < n:
                    raw = self.fill()
                    self.buf += self.d.decompress(raw) \
                        if self.compressed else raw
                out += self.buf[:n]
                self.buf = self.buf[n:]
                continue
            if line.startswith(tag + b" "):
                return TIMING.sub(".", out.decode(errors="replace")) \
                    .encode()

    def cmd(self, tag, rest, literal=None):
        if literal is None:
            self.send(tag + b" " + rest + b"\r\n")
        else:
            self.send(tag + b" " + rest + b" {%d}\r\n" % len(literal))
            self.line()  # "+ OK"
            self.send(literal + b"\r\n")
        return self.until_tag(tag)


def session_script(z):
    """What both sides run once compressed; returns the transcript."""
    out = b""
    out += z.cmd(b"b", b"COMPRESS DEFLATE")
    out += z.cmd(b"c", b"NOOP")
    out += z.cmd(b"d", b"APPEND INBOX", BIG)
    out += z.cmd(b"e", b"SELECT INBOX")
    f = z.cmd(b"f", b"FETCH 1 BODY[]")
    assert BIG in f, f[:200]
    out += f[:60] + f[-60:]
    out += z.cmd(b"g", b"FETCH 1 (RFC822.SIZE FLAGS)")
    z.send(b"h LOGOUT\r\n")
    out += z.until_tag(b"h")
    return re.sub(rb"(UIDVALIDITY|APPENDUID) \d+", rb"\1 <v>", out)


class Compress(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        self.env = Env(CONF, prefix="roost-compress.")

    def tearDown(self):
        self.env.cleanup()

    def preauth(self, dovecot):
        cmd = [DOVECOT_IMAP if dovecot else ROOST] + \
            ([] if dovecot else ["imap"]) + \
            ["-c", self.env.conf, "-u", "dovecot" if dovecot else "roost"]
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)

        def send(data):
            p.stdin.write(data)
            p.stdin.flush()
        z = Z(send, lambda: os.read(p.stdout.fileno(), 65536))
        greeting = z.line()
        out = z.cmd(b"a1", b"COMPRESS")
        out += z.cmd(b"a2", b"COMPRESS FOO")
        out += z.cmd(b"a3", b"COMPRESS DEFLATE extra")
        z.send(b"b COMPRESS DEFLATE\r\n")
        line = z.line()
        out += TIMING.sub(".", line.decode()).encode()
        z.start()
        out += z.cmd(b"b2", b"compress deflate")
        out += z.cmd(b"c", b"NOOP")
        out += z.cmd(b"d", b"APPEND INBOX", BIG)
        out += z.cmd(b"e", b"SELECT INBOX")
        f = z.cmd(b"f", b"FETCH 1 BODY[]")
        self.assertIn(BIG, f)
        z.send(b"h LOGOUT\r\n")
        out += z.until_tag(b"h")
        p.stdin.close()
        p.wait(10)
        p.stdout.close()
        return greeting, re.sub(rb"(UIDVALIDITY|APPENDUID) \d+", rb"\1 <v>",
                                out)

    def test_preauth(self):
        greeting, out = self.preauth(False)
        self.assertIn(b" COMPRESS=DEFLATE] Logged in", greeting)
        self.assertIn(b"a1 BAD Error in IMAP command COMPRESS: Invalid "
                      b"arguments.\r\na2 NO Unknown compression mechanism."
                      b"\r\na3 BAD Error in IMAP command COMPRESS: Invalid "
                      b"arguments.\r\nb OK Begin compression.\r\nb2 NO "
                      b"[COMPRESSIONACTIVE] COMPRESSION=DEFLATE already "
                      b"enabled.\r\nc OK NOOP completed.\r\n", out)
        self.assertIn(b"* BYE Logging out\r\nh OK Logout completed.\r\n",
                      out)
        if HAVE_DOVECOT:
            self.env.start(dovecot=True)
            try:
                dg, dout = self.preauth(True)
            finally:
                self.env.stop()
            self.assertIn(b" COMPRESS=DEFLATE] Logged in", dg)
            # OBJECTID (RFC 8474): Roost's SELECT line Dovecot 2.3 lacks
            out = re.sub(rb"\* OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Ok\r\n",
                         b"", out)
            out = re.sub(rb"\[MAILBOXID \([A-Za-z0-9_-]+\)\] (Create "
                         rb"completed)", rb"\1", out)
            self.assertEqual(out, dout)

    def daemon_session(self, port, tls):
        s = socket.create_connection(("127.0.0.1", port), 10)
        if tls:
            s = tls_context().wrap_socket(s, server_hostname="localhost")
        z = Z(s.sendall, lambda: s.recv(65536))
        z.line()
        z.cmd(b"a", b"LOGIN joe secret")
        # COMPRESS and, pipelined behind it, compressed commands
        pipelined = z.c.compress(b"c0 NOOP\r\n") + \
            z.c.flush(zlib.Z_SYNC_FLUSH)
        s.sendall(b"b COMPRESS DEFLATE\r\n" + pipelined)
        line = z.line()
        self.assertTrue(line.startswith(b"b OK Begin compression"), line)
        # bytes read past the OK line are compressed already
        pending, z.buf = z.buf, b""
        z.start(pending)
        out = z.until_tag(b"c0")
        self.assertIn(b"c0 OK NOOP completed.", out)
        z.compressed = True
        out = z.cmd(b"d", b"APPEND INBOX", BIG)
        self.assertIn(b"d OK [APPENDUID", out)
        out = z.cmd(b"e", b"SELECT INBOX")
        f = z.cmd(b"f", b"FETCH 1 BODY[]")
        self.assertIn(BIG, f)
        z.send(b"h LOGOUT\r\n")
        out = z.until_tag(b"h")
        self.assertIn(b"* BYE Logging out\r\nh OK Logout completed.", out)
        s.close()

    def test_daemon_plain_and_tls(self):
        port, ssl_port = free_port(), free_port()
        make_cert(self.env.tmp)
        self.env.write_conf(CONF + "ssl = yes\nssl_cert = <%s/cert.pem\n"
                            "ssl_key = <%s/key.pem\n" % (self.env.tmp,
                                                         self.env.tmp) +
                            "auth_mechanisms = plain login\n"
                            "disable_plaintext_auth = no\n")
        with open(self.env.conf) as f:
            text = f.read()
        text = text.replace("inet_listener imap {\n    port = 0",
                            "inet_listener imap {\n    port = %d" % port)
        text = text.replace("inet_listener imaps {\n    port = 0",
                            "inet_listener imaps {\n    port = %d" % ssl_port)
        text = text.replace("ssl = no\n", "")
        with open(self.env.conf, "w") as f:
            f.write(text)
        self.env.start(imap_port=port)
        self.daemon_session(port, False)
        self.daemon_session(ssl_port, True)
        home = os.path.join(self.env.home, "joe", "Maildir")
        n = len(os.listdir(os.path.join(home, "cur")))
        self.assertEqual(n, 2)

    def test_without_plugin(self):
        self.env.write_conf("")
        out, err, rc = self.env.imap("x", ["a COMPRESS DEFLATE",
                                           "b LOGOUT"])
        self.assertNotIn("COMPRESS=DEFLATE", out)
        self.assertIn("a BAD Error in IMAP command COMPRESS: Unknown "
                      "command.", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)

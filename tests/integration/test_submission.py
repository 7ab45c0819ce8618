#!/usr/bin/env python3
"""The submission service end to end: Roost's master (`dovecot -F -c
CONF`) from a temp config with the `submission` (STARTTLS) and
`submissions` (implicit TLS) listeners, relaying to smtpsink.py, a Python
SMTP server that records what reaches the "MTA".

Covers: the pre-login greeting, EHLO, 530 before AUTH, plaintext AUTH
refused on an insecure connection, AUTH PLAIN over STARTTLS and AUTH
LOGIN over implicit TLS with Python's smtplib, the post-login EHLO (SIZE
from the relay's limit and submission_max_mail_size, DSN because the
relay has it), PIPELINING, BDAT chunks on a raw socket, 8BITMIME, UTF-8
addresses refused without SMTPUTF8 (as Dovecot 2.3), a message over
submission_max_mail_size (552 at MAIL with SIZE= and after the data),
too many recipients, a recipient the relay refuses, the relay talked to
over STARTTLS with AUTH PLAIN and XCLIENT, the Received header, the relay
going down (4xx to the client, nothing half-sent), a client vanishing
mid-DATA (nothing relayed), and Dovecot's log lines. A second server
relays over implicit TLS (submission_relay_ssl = smtps) and, with the
relay port closed, answers Dovecot's 421.

Env: ROOST = path of build/bin/roost."""
import base64
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import free_port, make_cert, tls_context  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534
HOST = "sub.example.test"


def start_server(tmp, extra, port, ssl_port):
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("""protocols = submission
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
hostname = %(host)s
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
""" % {"tmp": tmp, "host": HOST, "extra": extra, "port": port,
       "ssl_port": ssl_port})
    master = subprocess.Popen([os.path.join(BIN, "dovecot"), "-F", "-c",
                               conf])
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(os.path.join(tmp, "run", "auth-master")):
            try:
                s = socket.create_connection(("127.0.0.1", port), 1)
                s.recv(100)
                s.close()
                break
            except OSError:
                pass
        time.sleep(0.1)
    return master


def setup_tmp(prefix):
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    home = os.path.join(tmp, "home", "alice")
    os.makedirs(home)
    os.chown(home, UID, GID)
    with open(os.path.join(tmp, "passwd"), "w") as f:
        f.write("alice:{PLAIN}secret:%d:%d::%s::\n" % (UID, GID, home))
    make_cert(tmp)
    return tmp


class Raw:
    """A line-level SMTP client on a socket (TLS optional)."""

    def __init__(self, port, tls=False, source=None):
        self.sock = socket.create_connection(
            ("127.0.0.1", port), 10,
            source_address=(source, 0) if source else None)
        if tls:
            self.sock = tls_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")

    def starttls(self):
        self.sock = tls_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")

    def reply(self):
        """One reply: the list of its lines."""
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                lines.append("<EOF>")
                return lines
            lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def send(self, data):
        self.sock.sendall(data)

    def login(self):
        auth = base64.b64encode(b"\0alice\0secret").decode()
        return self.cmd("AUTH PLAIN " + auth)

    def close(self):
        # the makefile() keeps the socket open: close both, and send the
        # FIN for sure
        try:
            self.f.close()
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class Submission(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.tmp = setup_tmp("roost-submission.")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(cls.tmp, "cert.pem"),
                            os.path.join(cls.tmp, "key.pem"))
        # the relay: STARTTLS, AUTH PLAIN and XCLIENT required
        cls.sink = SmtpSink(tls_ctx=ctx, auth=("relayuser", "relaypass"),
                            xclient=True)
        cls.port, cls.ssl_port = free_port(), free_port()
        cls.master = start_server(cls.tmp, """
submission_relay_host = 127.0.0.1
submission_relay_port = %d
submission_relay_ssl = starttls
submission_relay_ssl_verify = no
submission_relay_user = relayuser
submission_relay_password = relaypass
submission_relay_trusted = yes
submission_max_recipients = 3
submission_max_mail_size = 10k
""" % cls.sink.port, cls.port, cls.ssl_port)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "master", None) is not None and cls.master.poll() is None:
            cls.master.send_signal(signal.SIGTERM)
            cls.master.wait(20)
        if hasattr(cls, "sink"):
            cls.sink.stop()
        if hasattr(cls, "tmp") and not os.environ.get("KEEP_TMP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.sink.reset()
        self.sink.down = False
        self.sink.drop_at_data = False

    def log(self):
        with open(os.path.join(self.tmp, "log")) as f:
            return f.read()

    def wait_log(self, regex, timeout=10):
        deadline = time.time() + timeout
        while not re.search(regex, self.log()) and time.time() < deadline:
            time.sleep(0.05)
        self.assertRegex(self.log(), regex)

    def raw_logged_in(self, tls=True):
        c = Raw(self.ssl_port if tls else self.port, tls=tls)
        self.assertEqual(c.reply(), ["220 %s Dovecot (Debian) ready." % HOST])
        self.assertEqual(c.login(), ["235 2.7.0 Logged in."])
        return c

    # ---- before login ----

    def test_prelogin_ehlo_and_530(self):
        c = Raw(self.port)
        self.assertEqual(c.reply(), ["220 %s Dovecot (Debian) ready." % HOST])
        self.assertEqual(c.cmd("EHLO client.example"), [
            "250-" + HOST, "250-8BITMIME", "250-AUTH PLAIN LOGIN",
            "250-BURL imap", "250-CHUNKING", "250-ENHANCEDSTATUSCODES",
            "250-SIZE 10240", "250-STARTTLS", "250 PIPELINING"])
        for line in ("MAIL FROM:<a@b>", "RCPT TO:<a@b>", "DATA",
                     "BDAT 5 LAST", "VRFY x"):
            self.assertEqual(c.cmd(line),
                             ["530 5.7.0 Authentication required."], line)
        self.assertEqual(c.cmd("HELP"), ["500 5.5.1 Unknown command"])
        self.assertEqual(c.cmd("NOOP"), ["250 2.0.0 OK"])
        self.assertEqual(c.cmd("AUTH"),
                         ["501 5.5.4 Missing SASL mechanism parameter"])
        self.assertEqual(c.cmd("AUTH PLAIN"), ["334 "])
        self.assertEqual(c.cmd("*"),
                         ["501 5.5.2 Authentication aborted by client."])
        self.assertEqual(c.cmd("XCLIENT ADDR=192.0.2.1"),
                         ["550 5.7.14 You are not from trusted IP"])
        self.assertEqual(c.cmd("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.wait_log(r"submission-login: Info: Disconnected: Aborted login "
                      r"by logging out \(client didn't finish SASL auth, "
                      r"waited \d+ secs\): user=<>, method=PLAIN, "
                      r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, secured, "
                      r"session=<[^>]+>")

    def test_insecure_plaintext_refused(self):
        c = Raw(self.port, source="127.0.0.2")
        c.reply()
        ehlo = c.cmd("EHLO x")
        self.assertIn("250-AUTH ", ehlo)
        self.assertIn("250-STARTTLS", ehlo)
        auth = base64.b64encode(b"\0alice\0secret").decode()
        self.assertEqual(c.cmd("AUTH PLAIN " + auth),
                         ["523 5.7.10 Plaintext authentication disabled."])
        self.assertEqual(c.cmd("AUTH FOO"),
                         ["504 5.5.4 Unsupported authentication mechanism."])
        self.assertEqual(c.cmd("STARTTLS"),
                         ["220 2.0.0 Begin TLS negotiation now."])
        c.starttls()
        self.assertIn("250-AUTH PLAIN LOGIN", c.cmd("EHLO x"))
        self.assertEqual(c.cmd("STARTTLS"),
                         ["502 5.5.1 TLS is already active."])
        self.assertEqual(c.cmd("AUTH PLAIN " + base64.b64encode(
            b"\0alice\0wrong").decode()), ["535 5.7.8 Authentication failed."])
        self.assertEqual(c.login(), ["235 2.7.0 Logged in."])
        c.close()

    # ---- sending ----

    def test_starttls_auth_plain_smtplib(self):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as s:
            s.starttls(context=tls_context())
            s.ehlo("client.example")
            s.login("alice", "secret")    # smtplib picks PLAIN
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("dsn"))
            self.assertEqual(s.esmtp_features["size"], "10240")
            self.assertNotIn("smtputf8", s.esmtp_features)
            refused = s.sendmail("alice@example.com", ["bob@example.com"],
                                 b"Subject: hi\r\n\r\n.leading dot\r\nbody\r\n")
            self.assertEqual(refused, {})
        msgs = self.sink.wait_messages(1)
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual(m.mail_from, "alice@example.com")
        self.assertEqual(m.rcpts, ["bob@example.com"])
        self.assertRegex(m.data.decode(), (
            r"^Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n"
            r"\tby sub\.example\.test with ESMTPSA\r\n"
            r"\tid [A-Za-z0-9+/]{22}\r\n"
            r"\t\(envelope-from <alice@example\.com>\)\r\n"
            r"\tfor <bob@example\.com>; [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} "
            r"\d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n"
            r"Subject: hi\r\n\r\n\.leading dot\r\nbody\r\n$"))
        # the relay saw STARTTLS, AUTH PLAIN as relayuser, then XCLIENT
        lines = self.sink.lines
        self.assertEqual(lines[:2], ["EHLO " + HOST, "STARTTLS"])
        self.assertIn("AUTH-DECODED [b'', b'relayuser', b'relaypass']", lines)
        xclient = [l for l in lines if l.startswith("XCLIENT")]
        self.assertEqual(len(xclient), 1)
        self.assertRegex(xclient[0], r"^XCLIENT HELO=client\.example "
                         r"PROTO=ESMTP LOGIN=alice PORT=\d+ ADDR=127\.0\.0\.1$")
        self.wait_log(r"submission-login: Info: Login: user=<alice>, "
                      r"method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, "
                      r"mpid=\d+, TLS, session=<[^>]+>")
        self.wait_log(r"submission\(alice\)<\d+><[^>]+>: Info: Successfully "
                      r"relayed message: from=<alice@example\.com>, size=35, "
                      r"id=[A-Za-z0-9+/]{22}, nrcpt=1, "
                      r"reply=`250 2\.0\.0 Ok: queued as TEST123'")
        self.wait_log(r"submission\(alice\)<\d+><[^>]+>: Info: Disconnected: "
                      r"Logged out \(state=READY\) in=\d+ out=\d+")

    def test_implicit_tls_auth_login_smtplib(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.ssl_port, timeout=10,
                              context=tls_context()) as s:
            s.ehlo("tls.example")
            s.user, s.password = "alice", "secret"
            code, _ = s.auth("LOGIN", s.auth_login)
            self.assertEqual(code, 235)
            s.sendmail("alice@example.com", ["b1@example.com", "b2@example.com"],
                       "Subject: two\r\n\r\nx\r\n")
        m = self.sink.wait_messages(1)[0]
        self.assertEqual(m.rcpts, ["b1@example.com", "b2@example.com"])
        # with two recipients there is no "for <...>"
        self.assertRegex(m.data.decode(), r"^Received: from tls\.example "
                         r"\(\[127\.0\.0\.1\]\)\r\n\tby sub\.example\.test "
                         r"with ESMTPSA\r\n\tid \S+\r\n\t\(envelope-from "
                         r"<alice@example\.com>\); ")
        self.wait_log(r"Login: user=<alice>, method=LOGIN, .*TLS")

    def test_postlogin_ehlo(self):
        c = self.raw_logged_in()
        self.assertEqual(c.cmd("EHLO c"), [
            "250-" + HOST, "250-8BITMIME", "250-AUTH",
            "250-BURL imap imap://" + HOST, "250-CHUNKING",
            "250-DSN", "250-ENHANCEDSTATUSCODES", "250-PIPELINING",
            "250 SIZE 10240"])
        self.assertEqual(c.cmd("AUTH PLAIN"), ["503 5.5.0 Already authenticated"])
        self.assertEqual(c.cmd("STARTTLS"),
                         ["502 5.5.1 TLS is already active."])
        self.assertEqual(c.cmd("VRFY bob"), ["252 2.0.0 bob"])
        self.assertEqual(c.cmd("QUIT"), ["221 2.0.0 Bye"])
        c.close()

    def test_pipelining(self):
        c = self.raw_logged_in()
        c.send(b"EHLO pipe\r\nMAIL FROM:<a@example.com>\r\n"
               b"RCPT TO:<r1@example.com>\r\nRCPT TO:<reject@example.com>\r\n"
               b"RCPT TO:<r2@example.com>\r\nDATA\r\n")
        self.assertEqual(c.reply()[-1], "250 SIZE 10240")
        self.assertEqual(c.reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.reply(), ["250 2.1.5 Ok"])
        self.assertEqual(c.reply(), ["550 5.1.1 <reject@example.com> "
                                     "<reject@example.com>: Recipient "
                                     "address rejected"])
        self.assertEqual(c.reply(), ["250 2.1.5 Ok"])
        self.assertEqual(c.reply(), ["354 OK"])
        c.send(b"Subject: p\r\n\r\npiped\r\n.\r\nQUIT\r\n")
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: queued as TEST123"])
        self.assertEqual(c.reply(), ["221 2.0.0 Bye"])
        m = self.sink.wait_messages(1)[0]
        self.assertEqual(m.rcpts, ["r1@example.com", "r2@example.com"])
        self.assertTrue(m.data.endswith(b"Subject: p\r\n\r\npiped\r\n"))
        c.close()

    def test_pipelined_behind_auth(self):
        """Commands sent with AUTH travel with the hand-over."""
        c = Raw(self.ssl_port, tls=True)
        c.reply()
        auth = base64.b64encode(b"\0alice\0secret")
        c.send(b"EHLO early\r\nAUTH PLAIN " + auth + b"\r\n"
               b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n"
               b"DATA\r\nSubject: early\r\n\r\nx\r\n.\r\nQUIT\r\n")
        self.assertEqual(c.reply()[-1], "250 PIPELINING")
        self.assertEqual(c.reply(), ["235 2.7.0 Logged in."])
        self.assertEqual(c.reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.reply(), ["250 2.1.5 Ok"])
        self.assertEqual(c.reply(), ["354 OK"])
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: queued as TEST123"])
        self.assertEqual(c.reply(), ["221 2.0.0 Bye"])
        c.close()
        m = self.sink.wait_messages(1)[0]
        self.assertTrue(m.data.startswith(b"Received: from early "))

    def test_bdat_chunks(self):
        c = self.raw_logged_in()
        self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"), ["250 2.1.0 Ok"])
        self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), ["250 2.1.5 Ok"])
        c.send(b"BDAT 15\r\nSubject: bdat\r\n")
        self.assertEqual(c.reply(), ["250 2.0.0 Added 15 octets"])
        c.send(b"BDAT 8 LAST\r\n\r\nbody\r\n")
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: queued as TEST123"])
        m = self.sink.wait_messages(1)[0]
        self.assertTrue(m.data.startswith(b"Received: from unknown "))
        self.assertTrue(m.data.endswith(b"\r\nSubject: bdat\r\n\r\nbody\r\n"))
        # a second transaction: its id gets ":T2"
        self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"), ["250 2.1.0 Ok"])
        self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), ["250 2.1.5 Ok"])
        c.send(b"BDAT 3 LAST\r\nx\r\n")
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: queued as TEST123"])
        m2 = self.sink.wait_messages(2)[1]
        self.assertRegex(m2.data.decode(), r"\tid [A-Za-z0-9+/]{22}:T2\r\n")
        c.close()

    def test_8bitmime_and_utf8(self):
        c = self.raw_logged_in()
        self.assertEqual(c.cmd("MAIL FROM:<a@example.com> BODY=8BITMIME"),
                         ["250 2.1.0 Ok"])
        self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), ["250 2.1.5 Ok"])
        self.assertEqual(c.cmd("DATA"), ["354 OK"])
        c.send("Subject: 8bit\r\n\r\nüñí\r\n.\r\n".encode())
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: queued as TEST123"])
        m = self.sink.wait_messages(1)[0]
        self.assertEqual(m.mail_params, "BODY=8BITMIME")
        self.assertTrue(m.data.endswith("üñí\r\n".encode()))
        # SMTPUTF8 isn't offered (Dovecot 2.3 doesn't either)
        self.assertEqual(c.cmd("MAIL FROM:<a@example.com> SMTPUTF8"),
                         ["555 5.5.4 Unsupported parameters"])
        self.assertEqual(c.cmd("MAIL FROM:<ü@example.com>"),
                         ["501 5.5.4 Invalid FROM: Invalid character in "
                          "localpart"])
        self.assertEqual(c.cmd("MAIL FROM: <a@example.com>"),
                         ["501 5.5.4 Invalid FROM: Unexpected whitespace "
                          "before path"])
        c.close()

    def test_oversize(self):
        c = self.raw_logged_in()
        self.assertEqual(c.cmd("MAIL FROM:<a@example.com> SIZE=20000"),
                         ["552 5.2.3 Message size exceeds administrative "
                          "limit"])
        self.assertEqual(c.cmd("MAIL FROM:<a@example.com> SIZE=100"),
                         ["250 2.1.0 Ok"])
        self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), ["250 2.1.5 Ok"])
        self.assertEqual(c.cmd("DATA"), ["354 OK"])
        c.send(b"Subject: big\r\n\r\n" + (b"x" * 78 + b"\r\n") * 200 +
               b".\r\n")
        self.assertEqual(c.reply(), ["552 5.2.3 Message size exceeds "
                                     "administrative limit"])
        self.assertEqual(c.cmd("NOOP"), ["250 2.0.0 OK"])
        c.close()
        time.sleep(0.3)
        self.assertEqual(self.sink.messages, [])
        # SIZE= is passed on with Dovecot's 1024 bytes of room
        self.assertIn("MAIL FROM:<a@example.com> SIZE=1124", self.sink.lines)

    def test_too_many_recipients(self):
        c = self.raw_logged_in()
        c.cmd("MAIL FROM:<a@example.com>")
        for i in range(3):
            self.assertEqual(c.cmd("RCPT TO:<r%d@example.com>" % i),
                             ["250 2.1.5 Ok"])
        self.assertEqual(c.cmd("RCPT TO:<r9@example.com>"),
                         ["451 4.5.3 Too many recipients"])
        c.close()

    def test_client_disconnect_mid_data(self):
        c = self.raw_logged_in()
        c.cmd("MAIL FROM:<a@example.com>")
        c.cmd("RCPT TO:<b@example.com>")
        self.assertEqual(c.cmd("DATA"), ["354 OK"])
        c.send(b"Subject: cut\r\n\r\nhalf a messa")
        time.sleep(0.2)
        c.close()
        self.wait_log(r"Disconnected: Connection closed \(unfinished DATA "
                      r"command\) \(state=DATA\) in=\d+ out=\d+")
        time.sleep(0.3)
        self.assertEqual(self.sink.messages, [])
        self.assertFalse(any(l.startswith(("DATA", "BDAT"))
                             for l in self.sink.lines))

    def test_relay_down(self):
        self.sink.down = True
        c = Raw(self.port)
        c.reply()
        c.cmd("STARTTLS")
        c.starttls()
        self.assertEqual(c.login(), ["235 2.7.0 Logged in."])
        self.assertEqual(c.reply(), ["421 4.4.0 %s Lost connection to relay "
                                     "server (connection lost)" % HOST])
        self.assertEqual(c.reply(), ["<EOF>"])
        c.close()
        self.wait_log(r"Disconnected: Lost connection to relay server "
                      r"\(connection lost\) \(state=GREETING\)")

    def test_relay_dies_at_data(self):
        self.sink.drop_at_data = True
        c = self.raw_logged_in()
        c.cmd("MAIL FROM:<a@example.com>")
        c.cmd("RCPT TO:<b@example.com>")
        self.assertEqual(c.cmd("DATA"), ["354 OK"])
        c.send(b"Subject: lost\r\n\r\nbody\r\n.\r\n")
        reply = c.reply()
        self.assertEqual(len(reply), 1)
        self.assertTrue(reply[0].startswith("421 4.4.0 " + HOST +
                                            " Lost connection to relay"),
                        reply)
        c.close()
        self.assertEqual(self.sink.messages, [])


class SubmissionSmtps(unittest.TestCase):
    """submission_relay_ssl = smtps, then the relay port closed."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.tmp = setup_tmp("roost-submission-smtps.")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(cls.tmp, "cert.pem"),
                            os.path.join(cls.tmp, "key.pem"))
        cls.sink = SmtpSink(tls_ctx=ctx, implicit_tls=True,
                            caps=["PIPELINING", "8BITMIME"])
        cls.port, cls.ssl_port = free_port(), free_port()
        cls.master = start_server(cls.tmp, """
submission_relay_host = 127.0.0.1
submission_relay_port = %d
submission_relay_ssl = smtps
submission_relay_ssl_verify = no
submission_relay_rawlog_dir = %s/rawlog
""" % (cls.sink.port, cls.tmp), cls.port, cls.ssl_port)
        os.makedirs(os.path.join(cls.tmp, "rawlog"))
        os.chown(os.path.join(cls.tmp, "rawlog"), UID, GID)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "master", None) is not None and cls.master.poll() is None:
            cls.master.send_signal(signal.SIGTERM)
            cls.master.wait(20)
        if hasattr(cls, "sink"):
            cls.sink.stop()
        if hasattr(cls, "tmp") and not os.environ.get("KEEP_TMP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_smtps_relay_without_chunking(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.ssl_port, timeout=10,
                              context=tls_context()) as s:
            s.login("alice", "secret")
            ehlo = s.ehlo("c")[1].decode()
            # no DSN, and no SIZE limit from this relay: Dovecot's 40 MB
            self.assertNotIn("DSN", ehlo)
            self.assertIn("\nSIZE 41943040", ehlo)
            s.sendmail("a@example.com", ["b@example.com"],
                       b"Subject: s\n\n.dot\nbare LF\n")
        m = self.sink.wait_messages(1)[0]
        # DATA (the relay has no CHUNKING), CRLF line ends, dots kept
        self.assertIn("DATA", self.sink.lines)
        # (smtplib sends bytes as they are, and adds CRLF before the dot)
        self.assertTrue(m.data.endswith(b"Subject: s\r\n\r\n.dot\r\n"
                                        b"bare LF\r\n\r\n"), m.data)
        # without ENHANCEDSTATUSCODES at the relay, the codes are ours
        time.sleep(0.2)
        rawlogs = os.listdir(os.path.join(self.tmp, "rawlog"))
        self.assertTrue(any(n.endswith(".out") for n in rawlogs), rawlogs)
        out = [n for n in rawlogs if n.endswith(".out")][0]
        with open(os.path.join(self.tmp, "rawlog", out), "rb") as f:
            self.assertIn(b"MAIL FROM:<a@example.com>", f.read())

    def test_z_relay_refused(self):
        """(last: it stops the relay)"""
        self.sink.stop()
        time.sleep(0.2)
        c = Raw(self.ssl_port, tls=True)
        c.reply()
        self.assertEqual(c.login(), ["235 2.7.0 Logged in."])
        self.assertEqual(c.reply(), ["421 4.4.0 %s Failed to connect to "
                                     "relay server (connect)" % HOST])
        c.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            with open(os.path.join(self.tmp, "log")) as f:
                log = f.read()
            if "Failed to connect to relay server (connect) (state" in log:
                break
            time.sleep(0.05)
        self.assertRegex(log, r"submission\(alice\)<\d+><[^>]+>: Error: "
                         r"smtp-client: conn 127\.0\.0\.1:\d+ \[1\]: "
                         r"connect\(127\.0\.0\.1:\d+\) failed: Connection "
                         r"refused")
        self.assertRegex(log, r"Info: Disconnected: Failed to connect to "
                         r"relay server \(connect\) \(state=GREETING\) "
                         r"in=\d+ out=94")


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""Submission and LMTP end to end with a real Postfix (Debian's, from a
temp config dir: postfixlib.py) on both sides of the mail server under
test (smtpserverlib.py: one dovecot.conf text for Dovecot and Roost):

  Postfix --LMTP (unix socket / TCP)--> server --IMAP/POP3--> client
  client --submission (STARTTLS / implicit TLS)--> server
         --> RelaySwitch --> Postfix --virtual(8)--> sink Maildir

One Postfix serves both: domains lmtp-unix.test and lmtp-tcp.test go
to the server over LMTP (unix socket, TCP port), every other domain
into the sink Maildir that the test reads. The server relays submission
through a RelaySwitch (postfixlib) so a test can take the relay down.

Every expected reply text is Dovecot 2.3.19.1's: SMTP_ORACLE=dovecot
runs the same tests against /usr/sbin/dovecot. By default the server is
Roost (build/bin/dovecot, ROOST=...); the whole file SKIPS with the
reason when that Roost serves no LMTP/submission yet. Needs root,
postfix and swaks (make deps). KEEP=1 keeps the temp dirs."""
import base64
import imaplib
import os
import poplib
import re
import smtplib
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postfixlib import Postfix, RelaySwitch  # noqa: E402
from smtpserverlib import (Server, Unsupported, target, tls_context,  # noqa
                           PASSWORD)

MAX_RCPTS = 3
MAX_SIZE = 64 * 1024
SERVER = None
POSTFIX = None
SWITCH = None
SKIP = None


def setUpModule():
    global SERVER, POSTFIX, SWITCH, SKIP
    if os.geteuid() != 0:
        SKIP = "needs root"
        return
    for cmd in ("postfix", "swaks"):
        if not subprocess.run(["sh", "-c", "command -v " + cmd],
                              stdout=subprocess.DEVNULL).returncode == 0:
            SKIP = "%s is not installed (make deps)" % cmd
            return
    SWITCH = RelaySwitch()
    SERVER = Server(target(), SWITCH.port, max_rcpts=MAX_RCPTS,
                    max_size=MAX_SIZE)
    try:
        # the server first: when it has no LMTP/submission, skip at once
        SERVER.start()
        POSTFIX = Postfix(lmtp={
            "lmtp-unix.test": "lmtp:unix:" + SERVER.lmtp_socket,
            "lmtp-tcp.test": "lmtp:inet:127.0.0.1:%d" % SERVER.lmtp_port},
            tls_cert=(os.path.join(SERVER.tmp, "cert.pem"),
                      os.path.join(SERVER.tmp, "key.pem")))
        POSTFIX.start()
        SWITCH.target = POSTFIX.port
        SWITCH.up()
        if SERVER.kind == "dovecot" and not all(SERVER.has.values()):
            raise Unsupported(SERVER.started_for)
    except Unsupported as e:
        if SERVER.kind == "dovecot":
            tearDownModule()
            raise RuntimeError("the oracle did not start: %s" % e)
        SKIP = str(e)
    except BaseException:
        # unittest runs no tearDownModule after a failed setUpModule
        tearDownModule()
        raise


def tearDownModule():
    if SWITCH:
        SWITCH.down()
    if SERVER:
        SERVER.cleanup()
    if POSTFIX:
        POSTFIX.stop()


class Smtp:
    """A raw SMTP/LMTP client: lines in, replies (lists of lines) out."""

    def __init__(self, port=None, path=None, tls=False):
        if path:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
        else:
            s = socket.create_connection(("127.0.0.1", port), 10)
        s.settimeout(15)
        if tls:
            s = tls_context().wrap_socket(s)
        self.sock = s
        self.buf = b""
        self.greeting = self.reply()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One reply, all lines of a multi-line one; the last line is the
        reply's text line, e.g. '250 2.1.0 Ok'."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()[-1]

    def ehlo(self, name="client.test"):
        self.send("EHLO %s\r\n" % name)
        return [x[4:] for x in self.reply()]

    def starttls(self):
        r = self.cmd("STARTTLS")
        assert r.startswith("220 "), r
        self.sock = tls_context().wrap_socket(self.sock)

    def auth_plain(self, user="alice", password=PASSWORD):
        return self.cmd("AUTH PLAIN " + base64.b64encode(
            b"\0" + user.encode() + b"\0" + password.encode()).decode())

    def eof(self):
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def msg(subject, body="hello\r\n", extra=""):
    return ("From: sender@sender.test\r\nTo: someone@sink.test\r\n"
            "Subject: %s\r\nMessage-ID: <%s@client.test>\r\n%s\r\n%s"
            % (subject, re.sub(r"\W", ".", subject), extra, body))


def subject_of(data):
    m = re.search(rb"^Subject: (.*?)\r?$", data, re.M)
    return m.group(1).decode("utf-8", "replace") if m else None


class Base(unittest.TestCase):
    service = None

    def setUp(self):
        if SKIP:
            self.skipTest(SKIP)
        why = SERVER.missing(self.service)
        if why:
            self.skipTest(why)

    def client(self, **kw):
        c = Smtp(**kw)
        self.addCleanup(c.close)
        return c

    def long_lines(self, c, after_noop="250 2.0.0 OK"):
        """10 MB lines: refused, the session goes on."""
        big = b"x" * (10 << 20)
        c.send(b"NOOP " + big + b"\r\n")
        self.assertEqual(c.reply()[-1], "500 5.5.2 Line too long")
        self.assertEqual(c.cmd("NOOP"), after_noop)
        c.send(b"MAIL FROM:<a@sender.test> X=" + big + b"\r\n")
        self.assertEqual(c.reply()[-1], "500 5.5.2 Line too long")
        self.assertEqual(c.cmd("NOOP"), after_noop)

    def sink(self, subject, n=1, timeout=20):
        """The sink's messages with this Subject, waiting (bounded) until
        there are n of them."""
        deadline = time.time() + timeout
        while True:
            found = [m for m in POSTFIX.messages() if subject_of(m) == subject]
            if len(found) >= n or time.time() > deadline:
                return found
            time.sleep(0.05)

    def assert_none_relayed(self, subject, wait=1.5):
        POSTFIX.wait_idle(10)
        time.sleep(wait)
        self.assertEqual(self.sink(subject, 1, timeout=0), [])


# ------------------------------------------------------------------ LMTP

class LmtpFromPostfix(Base):
    """Postfix delivers into the server over LMTP."""
    service = "lmtp"

    def deliver(self, domain, rcpts, subject, body="hello\r\n"):
        POSTFIX.smtp_send("sender@sender.test",
                          ["%s@%s" % (r, domain) for r in rcpts],
                          msg(subject, body))
        self.assertTrue(POSTFIX.wait_idle(30), POSTFIX.postqueue())

    def status(self, rcpt, subject):
        return POSTFIX.statuses("<%s@client.test>" % re.sub(
            r"\W", ".", subject)).get(rcpt, [])

    def test_unix_recipients_one_unknown(self):
        self.deliver("lmtp-unix.test", ["alice", "bob", "nobody"],
                     "lmtp unix three")
        for u in ("alice", "bob"):
            st = self.status("%s@lmtp-unix.test" % u, "lmtp unix three")
            self.assertEqual(len(st), 1, st)
            self.assertEqual(st[0][0], "sent", st)
            self.assertRegex(st[0][1], r"^250 2\.0\.0 <%s@lmtp-unix\.test> "
                             r"\S+ Saved$" % u)
            mails = [m for m in SERVER.mails(u)
                     if subject_of(m) == "lmtp unix three"]
            self.assertEqual(len(mails), 1)
            m = mails[0].replace(b"\r\n", b"\n")
            self.assertTrue(m.endswith(b"\n\nhello\n"), m)
            self.assertRegex(m, rb"^Return-Path: <sender@sender\.test>\n")
            # several recipients: no Delivered-To, no "for"; over the
            # unix socket no address after the LHLO name
            self.assertRegex(m, rb"^Return-Path: <sender@sender\.test>\n"
                             rb"Received: from relay\.test\n"
                             rb"\tby mx\.test with LMTP\n\tid \S+\n"
                             rb"\t\(envelope-from <sender@sender\.test>\); "
                             rb"\w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d "
                             rb"[+-]\d{4}\nReceived: from \[127\.0\.0\.1\] "
                             rb"\(localhost \[127\.0\.0\.1\]\)\n\tby relay\.test "
                             rb"\(Postfix\) with ESMTP id", m)
        st = self.status("nobody@lmtp-unix.test", "lmtp unix three")
        self.assertEqual(len(st), 1, st)
        self.assertEqual(st[0][0], "bounced", st)
        self.assertIn("said: 550 5.1.1 <nobody@lmtp-unix.test> User doesn't "
                      "exist: nobody@lmtp-unix.test (in reply to RCPT TO "
                      "command)", st[0][1])
        # the bounce to the sender names only the unknown recipient
        deadline = time.time() + 20
        while True:
            bounces = [m for m in POSTFIX.messages()
                       if b"Undelivered Mail Returned to Sender" in m
                       and b"lmtp unix three" in m]
            if bounces or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(bounces), 1)
        self.assertIn(b"<nobody@lmtp-unix.test>", bounces[0])
        self.assertNotIn(b"<alice@lmtp-unix.test>", bounces[0])
        self.assertNotIn(b"<bob@lmtp-unix.test>", bounces[0])
        self.assertTrue(SERVER.wait_log(
            r"^.* lmtp\(alice\)<\d+><[^>]+>: Info: "
            r"msgid=<lmtp\.unix\.three@client\.test>: saved mail to INBOX$"))

    def test_tcp_detail_mailbox_and_8bit(self):
        body = "caf\u00e9 cr\u00e8me \u2713\r\n".encode()
        POSTFIX.smtp_send("sender@sender.test",
                          ["carol@lmtp-tcp.test", "carol+work@lmtp-tcp.test"],
                          msg("lmtp tcp detail").encode().replace(
                              b"hello\r\n", body),
                          mail_options=["BODY=8BITMIME"])
        self.assertTrue(POSTFIX.wait_idle(30), POSTFIX.postqueue())
        inbox = [m for m in SERVER.mails("carol")
                 if subject_of(m) == "lmtp tcp detail"]
        work = [m for m in SERVER.mails("carol", "work")
                if subject_of(m) == "lmtp tcp detail"]
        self.assertEqual((len(inbox), len(work)), (1, 1))
        self.assertTrue(inbox[0].replace(b"\r\n", b"\n").endswith(
            b"\n\n" + body.replace(b"\r\n", b"\n")), inbox[0])
        self.assertRegex(inbox[0], rb"^Return-Path: <sender@sender\.test>\n"
                         rb"Received: from relay\.test \(\[127\.0\.0\.1\]\)\n"
                         rb"\tby mx\.test with LMTP\n\tid \S+\n"
                         rb"\t\(envelope-from <sender@sender\.test>\); ")
        for rcpt in ("carol@lmtp-tcp.test", "carol+work@lmtp-tcp.test"):
            st = self.status(rcpt, "lmtp tcp detail")
            self.assertEqual([s[0] for s in st], ["sent"], st)
            self.assertIn("relay=127.0.0.1[127.0.0.1]:%d" % SERVER.lmtp_port,
                          POSTFIX.log())
        self.assertTrue(SERVER.wait_log(r"lmtp\(carol\)<\d+><[^>]+>: Info: "
                                        r"msgid=<lmtp\.tcp\.detail@client\."
                                        r"test>: saved mail to work$"))

    def test_sendmail_injection_read_over_imap_and_pop3(self):
        POSTFIX.sendmail("sender@sender.test", ["bob@lmtp-unix.test"],
                         "Subject: via sendmail\nMessage-ID: <sm@x>\n\n"
                         "line one\nline two\n")
        self.assertTrue(POSTFIX.wait_idle(30), POSTFIX.postqueue())
        mails = [x for x in SERVER.mails("bob")
                 if subject_of(x) == "via sendmail"]
        self.assertEqual(len(mails), 1)
        # one recipient: Delivered-To and "for <rcpt>"
        self.assertRegex(mails[0], rb"^Return-Path: <sender@sender\.test>\n"
                         rb"Delivered-To: bob@lmtp-unix\.test\n"
                         rb"Received: from relay\.test\n"
                         rb"\tby mx\.test with LMTP\n\tid \S+\n"
                         rb"\t\(envelope-from <sender@sender\.test>\)\n"
                         rb"\tfor <bob@lmtp-unix\.test>; ")
        m = imaplib.IMAP4("127.0.0.1", SERVER.imap_port, timeout=15)
        m.login("bob", PASSWORD)
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK")
        typ, data = m.search(None, 'HEADER', 'Subject', '"via sendmail"')
        nums = data[0].split()
        self.assertEqual(len(nums), 1, data)
        typ, data = m.fetch(nums[0], "(BODY.PEEK[TEXT] BODY.PEEK[HEADER."
                            "FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        parts = [d[1] for d in data if isinstance(d, tuple)]
        self.assertIn(b"line one\r\nline two\r\n", parts)
        self.assertIn(b"Subject: via sendmail\r\n\r\n", parts)
        m.logout()
        p = poplib.POP3("127.0.0.1", SERVER.pop3_port, timeout=15)
        p.user("bob")
        p.pass_(PASSWORD)
        count, _ = p.stat()
        bodies = [b"\r\n".join(p.retr(i)[1]) for i in range(1, count + 1)]
        p.quit()
        hits = [b for b in bodies if b"Subject: via sendmail" in b]
        self.assertEqual(len(hits), 1)
        self.assertTrue(hits[0].endswith(b"\r\n\r\nline one\r\nline two"),
                        hits[0][-80:])

    def test_ten_megabyte_lines(self):
        c = self.client(port=SERVER.lmtp_port)
        c.cmd("LHLO client.test")
        self.long_lines(c)
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")

    def test_concurrent_deliveries_to_one_user(self):
        n = 8
        errors = []

        def one(i):
            try:
                c = Smtp(port=SERVER.lmtp_port)
                c.cmd("LHLO client.test")
                for line, want in (("MAIL FROM:<s@sender.test>", "250"),
                                   ("RCPT TO:<alice@x.test>", "250"),
                                   ("DATA", "354")):
                    r = c.cmd(line)
                    if not r.startswith(want):
                        errors.append(r)
                        return
                r = c.cmd(msg("concurrent %d" % i) + ".")
                if not r.startswith("250 2.0.0 <alice@x.test> "):
                    errors.append(r)
                c.cmd("QUIT")
                c.close()
            except (OSError, EOFError) as e:
                errors.append(repr(e))
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        m = imaplib.IMAP4("127.0.0.1", SERVER.imap_port, timeout=15)
        m.login("alice", PASSWORD)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS "
                            "(SUBJECT)])")
        m.logout()
        subjects, uids = [], []
        for d in data:
            if isinstance(d, tuple):
                uids.append(int(re.search(rb"UID (\d+)", d[0]).group(1)))
                subjects.append(d[1].strip().decode())
        got = sorted(s for s in subjects if s.startswith("Subject: "
                                                        "concurrent "))
        self.assertEqual(got, sorted("Subject: concurrent %d" % i
                                     for i in range(n)))
        self.assertEqual(len(set(uids)), len(uids))


# ------------------------------------------------------------ submission

class Submission(Base):
    """Clients submit through the server, which relays to Postfix."""
    service = "submission"

    def swaks(self, *args):
        r = subprocess.run(["swaks", "--server", "127.0.0.1",
                            "--auth-user", "alice",
                            "--auth-password", PASSWORD,
                            "--from", "alice@mx.test", "--timeout", "20"]
                           + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        return r.returncode, r.stdout.decode(errors="replace")

    def check_relayed(self, subject, envelope_from="alice@mx.test",
                      helo=None):
        got = self.sink(subject)
        self.assertEqual(len(got), 1, "%d messages '%s' at the relay"
                         % (len(got), subject))
        m = got[0]
        # Postfix's Received header above the server's
        self.assertRegex(m, rb"Received: from mx\.test \(localhost "
                         rb"\[127\.0\.0\.1\]\)\r?\n\tby relay\.test "
                         rb"\(Postfix\) with ESMTP id [0-9A-F]+")
        helo_rx = re.escape(helo.encode()) if helo else rb"\S+"
        self.assertRegex(m, rb"\nReceived: from %s \(\[127\.0\.0\.1\]\)\r?\n"
                         rb"\tby mx\.test with ESMTPSA\r?\n"
                         rb"\tid [A-Za-z0-9+/]+\r?\n"
                         rb"\t\(envelope-from <%s>\)(\r?\n\tfor <[^>]+>)?; "
                         rb"\w{3}, \d+ \w{3} \d{4} "
                         rb"\d\d:\d\d:\d\d [+-]\d{4}\r?\n"
                         % (helo_rx, re.escape(envelope_from.encode())))
        self.assertRegex(m, rb"^Return-Path: <%s>"
                         % re.escape(envelope_from.encode()))
        return m

    def test_swaks_starttls_plain(self):
        rc, out = self.swaks("--port", str(SERVER.sub_port), "-tls",
                             "--auth", "PLAIN", "--to", "x@sink.test",
                             "--ehlo", "swaks.test",
                             "--header", "Subject: swaks starttls plain")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"~> AUTH PLAIN \S+\n<~  235 2\.7\.0 "
                         r"Logged in\.")
        self.check_relayed("swaks starttls plain", helo="swaks.test")

    def test_swaks_submissions_login(self):
        rc, out = self.swaks("--port", str(SERVER.subs_port),
                             "--tls-on-connect", "--auth", "LOGIN",
                             "--to", "y@sink.test,z@other.test",
                             "--header", "Subject: swaks implicit tls login")
        self.assertEqual(rc, 0, out)
        self.assertIn("<~  220 mx.test Dovecot (Debian) ready.", out)
        self.assertRegex(out, r"<~  235 2\.7\.0 Logged in\.")
        got = self.sink("swaks implicit tls login", 2)
        self.assertEqual(len(got), 2)
        self.assertEqual(sorted(re.search(rb"Delivered-To: (\S+)", m).group(1)
                                for m in got), [b"y@sink.test",
                                                b"z@other.test"])
        for m in got:
            self.assertIn(b"by mx.test with ESMTPSA", m)

    def test_smtplib_starttls_8bitmime(self):
        s = smtplib.SMTP("127.0.0.1", SERVER.sub_port, timeout=20)
        s.ehlo("smtplib.test")
        self.assertTrue(s.has_extn("starttls"))
        s.starttls(context=tls_context())
        s.ehlo("smtplib.test")
        for ext in ("8bitmime", "pipelining", "chunking",
                    "enhancedstatuscodes", "auth"):
            self.assertTrue(s.has_extn(ext), ext)
        self.assertEqual(s.esmtp_features["size"], str(MAX_SIZE))
        self.assertNotIn("starttls", s.esmtp_features)
        code, text = s.login("alice", PASSWORD)
        self.assertEqual((code, text), (235, b"2.7.0 Logged in."))
        body = "gr\u00fc\u00dfe \u2014 8 bit\r\n".encode()
        data = msg("smtplib 8bitmime", extra="Content-Type: text/plain; "
                   "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                   ).encode().replace(b"hello\r\n", body)
        refused = s.sendmail("alice@mx.test", ["u8@sink.test"], data,
                             mail_options=["BODY=8BITMIME"])
        self.assertEqual(refused, {})
        s.quit()
        m = self.check_relayed("smtplib 8bitmime", helo="smtplib.test")
        self.assertTrue(m.replace(b"\r\n", b"\n").endswith(
            body.replace(b"\r\n", b"\n")), m[-100:])

    def login(self, tls=True):
        c = self.client(port=SERVER.sub_port)
        c.ehlo()
        if tls:
            c.starttls()
            c.ehlo()
        self.assertEqual(c.auth_plain(), "235 2.7.0 Logged in.")
        return c

    def test_pipelining(self):
        c = self.login()
        c.send("MAIL FROM:<alice@mx.test>\r\nRCPT TO:<p1@sink.test>\r\n"
               "RCPT TO:<p2@sink.test>\r\nDATA\r\n")
        self.assertEqual([c.reply()[-1] for _ in range(4)],
                         ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
                          "354 OK"])
        c.send(msg("pipelined") + ".\r\nNOOP\r\nQUIT\r\n")
        self.assertRegex(c.reply()[-1], r"^250 2\.0\.0 Ok: \d+ bytes queued "
                         r"as [0-9A-F]+$")
        self.assertEqual(c.reply()[-1], "250 2.0.0 OK")
        self.assertEqual(c.reply()[-1], "221 2.0.0 Bye")
        self.assertEqual(len(self.sink("pipelined", 2)), 2)

    def test_bdat_chunks(self):
        c = self.login()
        data = msg("bdat chunks", body="chunk one\r\nchunk two\r\n").encode()
        a, b = data[:40], data[40:]
        c.send("MAIL FROM:<alice@mx.test>\r\nRCPT TO:<bd@sink.test>\r\n")
        self.assertEqual(c.reply()[-1], "250 2.1.0 Ok")
        self.assertEqual(c.reply()[-1], "250 2.1.5 Ok")
        c.send(b"BDAT %d\r\n" % len(a) + a)
        self.assertEqual(c.reply()[-1], "250 2.0.0 Added %d octets" % len(a))
        c.send(b"BDAT %d LAST\r\n" % len(b) + b)
        self.assertRegex(c.reply()[-1], r"^250 2\.0\.0 Ok: \d+ bytes queued "
                         r"as [0-9A-F]+$")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        m = self.check_relayed("bdat chunks")
        self.assertTrue(m.replace(b"\r\n", b"\n").endswith(
            b"\n\nchunk one\nchunk two\n"), m)

    def test_smtputf8_address(self):
        """Dovecot 2.3.19's submission has no SMTPUTF8: not offered, and
        a UTF-8 mailbox is a syntax error, with or without the
        parameter. A UTF-8 message with ASCII addresses goes through
        (test_smtplib_starttls_8bitmime)."""
        c = self.login()
        c.send("EHLO client.test\r\n")
        ext = [x[4:].split()[0] for x in c.reply()]
        self.assertNotIn("SMTPUTF8", ext)
        self.assertEqual(c.cmd("MAIL FROM:<j\u00fcrgen@mx.test> SMTPUTF8"),
                         "501 5.5.4 Invalid FROM: Invalid character in "
                         "localpart")
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<m\u00fcller@sink.test>"),
                         "501 5.5.4 Invalid TO: Missing '>' at end of path")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")

    def test_ten_megabyte_lines(self):
        c = self.client(port=SERVER.sub_port)
        c.ehlo()
        self.long_lines(c)                  # before login
        c.starttls()
        c.ehlo()
        self.assertEqual(c.auth_plain(), "235 2.7.0 Logged in.")
        self.long_lines(c)                  # in the user's session
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")

    def test_unauthenticated_mail(self):
        c = self.client(port=SERVER.sub_port)
        c.ehlo()
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test>"),
                         "530 5.7.0 Authentication required.")
        c.starttls()
        c.ehlo()
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test>"),
                         "530 5.7.0 Authentication required.")
        self.assertEqual(c.cmd("RCPT TO:<x@sink.test>"),
                         "530 5.7.0 Authentication required.")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")

    def test_too_many_recipients(self):
        c = self.login()
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test>"), "250 2.1.0 Ok")
        for i in range(MAX_RCPTS):
            self.assertEqual(c.cmd("RCPT TO:<r%d@sink.test>" % i),
                             "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<r9@sink.test>"),
                         "451 4.5.3 Too many recipients")
        self.assertEqual(c.cmd("DATA"), "354 OK")
        r = c.cmd(msg("too many rcpts") + ".")
        self.assertTrue(r.startswith("250 2.0.0 Ok: "), r)
        c.cmd("QUIT")
        got = self.sink("too many rcpts", MAX_RCPTS + 1, timeout=5)
        self.assertEqual(sorted(re.search(rb"Delivered-To: (\S+)", m).group(1)
                                for m in got),
                         [b"r%d@sink.test" % i for i in range(MAX_RCPTS)])

    def test_oversize_declared_and_sent(self):
        c = self.login()
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test> SIZE=%d"
                               % (MAX_SIZE + 1)),
                         "552 5.2.3 Message size exceeds administrative "
                         "limit")
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test> SIZE=1000"),
                         "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<big@sink.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 OK")
        c.send(msg("oversize", body=("x" * 998 + "\r\n") * 70) + ".\r\n")
        self.assertEqual(c.reply()[-1], "552 5.2.3 Message size exceeds "
                         "administrative limit")
        # Dovecot passes the relay's RSET reply on ("Ok" from Postfix);
        # Roost answers RSET itself (tests/compat/smtp-known-failures.txt)
        self.assertEqual(c.cmd("RSET").lower(), "250 2.0.0 ok")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        self.assert_none_relayed("oversize")

    def test_client_disconnect_mid_data(self):
        c = self.login()
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<cut@sink.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 OK")
        c.send(msg("client cut", body="half a message\r\n"))
        time.sleep(0.3)
        c.close()
        self.assert_none_relayed("client cut")

    def test_relay_down_at_login(self):
        SWITCH.down()
        try:
            c = self.client(port=SERVER.sub_port)
            c.ehlo()
            c.starttls()
            c.ehlo()
            self.assertEqual(c.auth_plain(), "235 2.7.0 Logged in.")
            self.assertEqual(c.reply()[-1], "421 4.4.0 mx.test Failed to "
                             "connect to relay server (connect)")
            self.assertTrue(c.eof())
        finally:
            SWITCH.up()

    def test_relay_down_mid_data_nothing_lost(self):
        c = self.login()
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<down@sink.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 OK")
        c.send(msg("relay dies", body="first half\r\n"))
        time.sleep(0.3)
        SWITCH.down()
        try:
            # the server may answer at once (and close) or after the dot:
            # either way the client must get a 4xx before the end
            time.sleep(0.3)
            try:
                c.send("second half\r\n.\r\n")
            except OSError:
                pass
            try:
                r = c.reply()[-1]
            except (EOFError, OSError) as e:
                r = "no reply: %r" % e
            self.assertRegex(r, r"^4\d\d 4\.\d+\.\d+ ")
        finally:
            c.close()
            SWITCH.up()
        self.assert_none_relayed("relay dies")
        # the client retries (its message was not accepted): exactly one
        c = self.login()
        c.cmd("MAIL FROM:<alice@mx.test>")
        c.cmd("RCPT TO:<down@sink.test>")
        self.assertEqual(c.cmd("DATA"), "354 OK")
        r = c.cmd(msg("relay dies", body="first half\r\nsecond half\r\n")
                  + ".")
        self.assertTrue(r.startswith("250 2.0.0 Ok: "), r)
        c.cmd("QUIT")
        POSTFIX.wait_idle(10)
        time.sleep(0.5)
        self.assertEqual(len(self.sink("relay dies", 2, timeout=1)), 1)


class SubmissionRelayTls(Base):
    """submission_relay_ssl = starttls and = smtps: two more servers from
    the same config text plus those settings, relaying to Postfix's
    STARTTLS and implicit-TLS ports; Postfix's Received header says the
    relay leg was TLS."""
    service = "submission"

    def relay_once(self, ssl_mode, port, subject):
        srv = Server(SERVER.kind, port, max_rcpts=MAX_RCPTS,
                     max_size=MAX_SIZE, cert_from=SERVER.tmp,
                     extra="submission_relay_ssl = %s\n"
                           "submission_relay_ssl_verify = no\n" % ssl_mode)
        self.addCleanup(srv.cleanup)
        srv.start()
        c = Smtp(port=srv.subs_port, tls=True)
        self.addCleanup(c.close)
        c.ehlo()
        self.assertEqual(c.auth_plain(), "235 2.7.0 Logged in.")
        self.assertEqual(c.cmd("MAIL FROM:<alice@mx.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<tls@sink.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 OK")
        r = c.cmd(msg(subject) + ".")
        self.assertRegex(r, r"^250 2\.0\.0 Ok: \d+ bytes queued as [0-9A-F]+$")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        got = self.sink(subject)
        self.assertEqual(len(got), 1)
        self.assertRegex(got[0], rb"Received: from mx\.test \(localhost "
                         rb"\[127\.0\.0\.1\]\)\r?\n\t\(using TLSv1\.[23] "
                         rb"with cipher [^)]*\)[^;]*?by relay\.test "
                         rb"\(Postfix\) with ESMTPS id [0-9A-F]+")

    def test_relay_starttls(self):
        self.relay_once("starttls", POSTFIX.port, "relay over starttls")

    def test_relay_smtps(self):
        self.relay_once("smtps", POSTFIX.smtps_port, "relay over smtps")


if __name__ == "__main__":
    unittest.main(verbosity=2)

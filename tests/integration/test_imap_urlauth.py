#!/usr/bin/env python3
"""URLAUTH (RFC 4467, URLFETCH parameters of RFC 5524) and submission BURL
(RFC 4468) through the daemon: `dovecot -F -c CONF` (Roost's
build/bin/dovecot, or with IMAP_TARGET=dovecot Debian's Dovecot, which
proves the expectations) from a temp config with imap_urlauth_host and a
file: mail_attribute_dict, relaying submissions to smtpsink.py.

- CAPABILITY: URLAUTH URLAUTH=BINARY (and without imap_urlauth_host,
  on Roost only: neither the capability nor the commands).
- GENURLAUTH: every access identifier (submit+, user+, authuser,
  anonymous), several URLs at once, ;EXPIRE=, and every error (not a rump
  URL, wrong host/port/user, expired, missing mailbox/message, bad
  mechanism, relative URL, bad syntax).
- The key is where Dovecot keeps it (priv/<GUID>/vendor/vendor.dovecot/
  imap-urlauth in the attribute dict, 64 bytes hex) and the token is
  01 + HMAC-SHA1(key, rump URL): checked by recomputing it here.
- URLFETCH: whole message, section, PARTIAL, BINARY (literal8),
  BODYPARTSTRUCTURE, bad/short/foreign tokens, expired URLs, a wrong
  access identifier, after RESETKEY (revoked) and its errors.
- BURL: GENURLAUTH in IMAP, then BURL in submission mixed with BDAT; the
  exact bytes that reach the relay; BURL errors (syntax, access, a
  failed fetch refusing the rest until RSET).

Needs root (mail is owned by nobody)."""
import base64
import datetime
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
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import free_port, passwd_auth  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

TARGET = os.environ.get("IMAP_TARGET", "roost")
ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
MASTER = (shutil.which("dovecot") or "/usr/sbin/dovecot") \
    if TARGET == "dovecot" else os.path.join(BIN, "dovecot")
UID = GID = 65534
TIMING = re.compile(r" \(\d+\.\d{3} \+ \d+\.\d{3}( \+ \d+\.\d{3})? secs\)\.$")

MSG = (b"From: a@example.com\r\nSubject: hi\r\n"
       b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
       b"--XX\r\nContent-Type: text/plain\r\n\r\nhello world\r\n"
       b"--XX\r\nContent-Type: application/octet-stream\r\n"
       b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--XX--\r\n")


class Conn:
    """A small IMAP client: one command at a time; literals kept raw."""

    def __init__(self, port, user):
        self.sock = socket.create_connection(("127.0.0.1", port), 20)
        self.buf = b""
        self.n = 0
        self.line()
        ok = self.cmd("LOGIN %s secret" % user)
        assert ok[-1].startswith(b"OK"), ok

    def _fill(self, size):
        while len(self.buf) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill(len(self.buf) + 1)
        line, self.buf = self.buf.split(b"\r\n", 1)
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            size = int(m.group(1))
            self._fill(size)
            line += b"\r\n" + self.buf[:size]
            self.buf = self.buf[size:]
            line += self.line()
        return line

    def cmd(self, text, literal=None):
        """-> untagged lines + [tagged status and text, timing cut]"""
        self.n += 1
        tag = "t%d" % self.n
        if literal is not None:
            self.sock.sendall(("%s %s{%d+}\r\n" % (tag, text, len(literal)))
                              .encode() + literal + b"\r\n")
        else:
            self.sock.sendall(("%s %s\r\n" % (tag, text)).encode())
        out = []
        while True:
            line = self.line()
            if line.startswith(tag.encode() + b" "):
                out.append(TIMING.sub(".", line[len(tag) + 1:].decode()
                                      ).encode())
                return out
            out.append(line)

    def close(self):
        self.sock.close()


class Smtp:
    """Line-level SMTP client."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), 20)
        self.f = self.sock.makefile("rb")
        self.reply()

    def reply(self):
        lines = []
        while True:
            line = self.f.readline().decode().rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    def cmd(self, text, raw=b""):
        self.sock.sendall(text.encode() + b"\r\n" + raw)
        return self.reply()

    def close(self):
        self.sock.close()


class UrlauthTest(unittest.TestCase):
    @classmethod
    def write_conf(cls, path, urlauth=True):
        with open(path, "w") as f:
            f.write("""protocols = imap submission
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
state_dir = %(tmp)s/state
hostname = mx.test
mail_location = maildir:~/Maildir
mail_attribute_dict = file:%%h/dovecot-attributes
%(urlauth)s
submission_relay_host = 127.0.0.1
submission_relay_port = %(relay)d
first_valid_uid = 1
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
%(auth)sservice imap-login {
  inet_listener imap {
    port = %(port)d
  }
  inet_listener imaps {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = %(sport)d
  }
}
""" % {"tmp": cls.tmp, "auth": passwd_auth(cls.tmp), "port": cls.port,
       "sport": cls.sport, "relay": cls.sink.port,
       "urlauth": ("imap_urlauth_host = localhost\nimap_urlauth_port = %d"
                   % cls.port) if urlauth else ""})

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        if not os.access(MASTER, os.X_OK):
            raise unittest.SkipTest("no %s" % MASTER)
        cls.tmp = tempfile.mkdtemp(prefix="roost-urlauth.")
        os.chmod(cls.tmp, 0o755)
        cls.port = free_port()
        cls.sport = free_port()
        cls.sink = SmtpSink()
        with open(os.path.join(cls.tmp, "passwd"), "w") as f:
            for u in ["alice", "bob"]:
                home = os.path.join(cls.tmp, "home", u)
                os.makedirs(home)
                f.write("%s:{PLAIN}secret:%d:%d::%s::\n" % (u, UID, GID, home))
        for root, dirs, files in os.walk(os.path.join(cls.tmp, "home")):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, UID, GID)
        os.makedirs(os.path.join(cls.tmp, "state"))
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        cls.write_conf(cls.conf)
        cls.master = subprocess.Popen([MASTER, "-F", "-c", cls.conf],
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), 1).close()
                socket.create_connection(("127.0.0.1", cls.sport), 1).close()
                if os.path.exists(os.path.join(cls.tmp, "run", "auth-userdb")):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            cls.tearDownClass()
            raise RuntimeError("server did not start")
        c = Conn(cls.port, "alice")
        r = c.cmd("APPEND INBOX ", MSG)
        assert r[-1].startswith(b"OK"), r
        c.close()
        cls.base = "imap://alice@localhost:%d/INBOX/;uid=1" % cls.port

    @classmethod
    def tearDownClass(cls):
        if cls.master.poll() is None:
            cls.master.send_signal(signal.SIGTERM)
            try:
                cls.master.wait(10)
            except subprocess.TimeoutExpired:
                cls.master.kill()
                cls.master.wait()
        cls.sink.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.c = Conn(self.port, "alice")

    def tearDown(self):
        self.c.close()

    def gen(self, rump, mech="INTERNAL"):
        r = self.c.cmd('GENURLAUTH "%s" %s' % (rump, mech))
        self.assertEqual(r[-1], b"OK GENURLAUTH completed.", r)
        self.assertTrue(r[0].startswith(b"* GENURLAUTH "), r)
        return r[0][len(b"* GENURLAUTH "):].decode()

    def fetch(self, url):
        return self.c.cmd('URLFETCH "%s"' % url)

    def assert_fetch_fails(self, url, error):
        r = self.fetch(url)
        self.assertEqual(r, [b"* URLFETCH " + url.encode() + b" NIL",
                             ('* NO Failed to fetch URLAUTH "%s": %s.'
                              % (url, error)).encode(),
                             b"OK URLFETCH completed."])

    def test_capability(self):
        r = self.c.cmd("CAPABILITY")
        caps = r[0].split()
        self.assertIn(b"URLAUTH", caps)
        self.assertIn(b"URLAUTH=BINARY", caps)

    def test_genurlauth_token_and_key(self):
        url = self.gen(self.base + ";urlauth=submit+alice")
        rump, mech, token = url.rsplit(":", 2)
        self.assertEqual(rump, self.base + ";urlauth=submit+alice")
        self.assertEqual(mech, "internal")
        self.assertRegex(token, "^01[0-9a-f]{40}$")
        # the key where Dovecot keeps it, the token Dovecot's
        path = os.path.join(self.tmp, "home", "alice", "dovecot-attributes")
        with open(path) as f:
            lines = f.read().split("\n")
        keys = [lines[i + 1] for i in range(0, len(lines) - 1, 2)
                if re.match(r"^priv/[0-9a-f]{32}/vendor/vendor\.dovecot/"
                            r"imap-urlauth$", lines[i])]
        self.assertEqual(len(keys), 1, lines)
        self.assertRegex(keys[0], "^[0-9a-f]{128}$")
        mac = hmac.new(bytes.fromhex(keys[0]), rump.encode(),
                       hashlib.sha1).hexdigest()
        self.assertEqual(token, "01" + mac)
        # the same rump gives the same URL; several at once
        r = self.c.cmd('GENURLAUTH "%s" INTERNAL "%s" INTERNAL' %
                       (rump, self.base + ";urlauth=anonymous"))
        self.assertEqual(r[-1], b"OK GENURLAUTH completed.")
        urls = r[0].decode().split(" ")[2:]
        self.assertEqual(len(urls), 2)
        self.assertEqual(urls[0], url)
        self.assertTrue(urls[1].startswith(self.base +
                                           ";urlauth=anonymous:internal:01"))
        self.assertEqual(self.c.cmd("GENURLAUTH"),
                         [b"* GENURLAUTH", b"OK GENURLAUTH completed."])

    def test_genurlauth_errors(self):
        p = self.port
        bad = "BAD Error in IMAP command GENURLAUTH: "
        cases = [
            (self.base, "Invalid URL: Must be an URLAUTH rump URL"),
            (self.base + ";urlauth=anonymous:internal:" + "01" * 21,
             "Invalid URL: Must be an URLAUTH rump URL"),
            ("imap://bob@localhost:%d/INBOX/;uid=1;urlauth=user+bob" % p,
             "Not permitted to generate URLAUTH for user bob"),
            ("imap://alice@otherhost:%d/INBOX/;uid=1;urlauth=anonymous" % p,
             "Invalid URL: Inappropriate host name"),
            ("imap://alice@localhost/INBOX/;uid=1;urlauth=anonymous",
             "Invalid URL: Inappropriate server port"),
            ("imap://localhost:%d/INBOX/;uid=1;urlauth=anonymous" % p,
             "Invalid URL: Missing user name"),
            ("/INBOX/;uid=1;urlauth=anonymous",
             "Invalid URL: Relative URL not allowed"),
            ("imap://alice@localhost:%d/INBOX/;uid=99;urlauth=anonymous" % p,
             "Invalid URL: Message not found"),
            ("imap://alice@localhost:%d/Nope/;uid=1;urlauth=anonymous" % p,
             "Invalid URL: Mailbox doesn't exist: Nope"),
            ("imap://alice@localhost:%d/INBOX;uidvalidity=5/;uid=1;"
             "urlauth=anonymous" % p, "Invalid URL: Invalid UIDVALIDITY"),
            ("imap://alice@localhost:%d/INBOX;urlauth=anonymous" % p,
             "Invalid URL: Encountered stray ';' in mailbox reference"),
            (self.base + ";expire=2020-01-01T00:00:00Z;urlauth=anonymous",
             "URLAUTH has already expired"),
            (self.base + ";expire=bogus;urlauth=anonymous",
             "Invalid URL: invalid date-time for `;EXPIRE='"),
        ]
        for url, error in cases:
            r = self.c.cmd('GENURLAUTH "%s" INTERNAL' % url)
            self.assertEqual(r, [(bad + error + ".").encode()], url)
        r = self.c.cmd('GENURLAUTH "%s;urlauth=anonymous" FOO' % self.base)
        self.assertEqual(r, [(bad + "Unsupported URLAUTH mechanism: FOO.")
                             .encode()])
        r = self.c.cmd('GENURLAUTH "%s;urlauth=anonymous"' % self.base)
        self.assertEqual(r, [(bad + "Invalid arguments.").encode()])

    def test_urlfetch(self):
        whole = b"{%d}\r\n" % len(MSG) + MSG
        for access in ["user+alice", "authuser", "anonymous"]:
            url = self.gen(self.base + ";urlauth=" + access)
            self.assertEqual(self.fetch(url),
                             [b"* URLFETCH " + url.encode() + b" " + whole,
                              b"OK URLFETCH completed."])
        url = self.gen(self.base + "/;section=1;urlauth=user+alice")
        self.assertEqual(self.fetch(url)[0], b"* URLFETCH " + url.encode() +
                         b" {11}\r\nhello world")
        url = self.gen(self.base + "/;section=1/;partial=2.3;"
                       "urlauth=user+alice")
        self.assertEqual(self.fetch(url)[0], b"* URLFETCH " + url.encode() +
                         b" {3}\r\nllo")
        later = (datetime.datetime.now(datetime.timezone.utc) +
                 datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = self.gen(self.base + ";expire=%s;urlauth=anonymous" % later)
        self.assertEqual(self.fetch(url)[0],
                         b"* URLFETCH " + url.encode() + b" " + whole)

    def test_urlfetch_params(self):
        url1 = self.gen(self.base + "/;section=1;urlauth=anonymous")
        url2 = self.gen(self.base + "/;section=2;urlauth=anonymous")
        urlw = self.gen(self.base + ";urlauth=anonymous")
        r = self.c.cmd('URLFETCH ("%s" BINARY)' % url2)
        self.assertEqual(r[0], b"* URLFETCH " + url2.encode() +
                         b" (BINARY ~{5}\r\n\x00\x01\x02\x03\x04)")
        r = self.c.cmd('URLFETCH ("%s" BODY)' % url2)
        self.assertEqual(r[0], b"* URLFETCH " + url2.encode() +
                         b" (BODY {8}\r\nAAECAwQ=)")
        r = self.c.cmd('URLFETCH ("%s" BODYPARTSTRUCTURE BINARY)' % url1)
        self.assertEqual(r[0], b"* URLFETCH " + url1.encode() +
                         b' (BODYPARTSTRUCTURE ("text" "plain" ("charset" '
                         b'"us-ascii") NIL NIL "7bit" 11 0 NIL NIL NIL NIL) '
                         b"BINARY {11}\r\nhello world)")
        r = self.c.cmd('URLFETCH ("%s" BODYPARTSTRUCTURE)' % urlw)
        self.assertEqual(r[0], b"* URLFETCH " + urlw.encode() +
                         b' (BODYPARTSTRUCTURE (("text" "plain" ("charset" '
                         b'"us-ascii") NIL NIL "7bit" 11 0 NIL NIL NIL NIL)'
                         b'("application" "octet-stream" NIL NIL NIL "base64"'
                         b' 8 NIL NIL NIL NIL) "mixed" ("boundary" "XX") NIL '
                         b'NIL NIL))')
        r = self.c.cmd('URLFETCH ("%s")' % url1)
        self.assertEqual(r[0], b"* URLFETCH " + url1.encode() +
                         b" (BODY {11}\r\nhello world)")
        bad = b"BAD Error in IMAP command URLFETCH: "
        self.assertEqual(self.c.cmd('URLFETCH ("%s" BODY BINARY)' % url1),
                         [bad + b"URL cannot have both BODY and BINARY "
                          b"fetch parameters."])
        self.assertEqual(self.c.cmd('URLFETCH ("%s" FOO)' % url1),
                         [bad + b"Unknown URL fetch parameter: FOO."])
        self.assertEqual(self.c.cmd("URLFETCH"), [bad + b"Invalid arguments."])

    def test_urlfetch_failures(self):
        url = self.gen(self.base + ";urlauth=user+alice")
        self.assert_fetch_fails(url[:-2] + ("00" if url[-2:] != "00"
                                            else "11"),
                                "URLAUTH verification failed")
        self.assert_fetch_fails(url.replace(":internal:", ":foo:"),
                                "Unsupported URLAUTH mechanism: foo")
        self.assert_fetch_fails(url.rsplit(":", 1)[0] + ":0197",
                                "Too short URLAUTH token")
        self.assert_fetch_fails(url[:-2] + "ZZ", "Invalid URLAUTH token")
        self.assert_fetch_fails(self.base,
                                "Invalid URL: Must be a full URLAUTH URL")
        self.assert_fetch_fails("garbage", "Relative URL not allowed")
        # wrong access identifiers for an IMAP session
        for access, error in [
                ("submit+alice", "No 'submit+alice' access allowed for user "
                 "alice"),
                ("foo+alice", "No 'foo+alice' access allowed for user alice"),
                ("user", "URLAUTH `user' access is missing userid")]:
            u = self.gen(self.base + ";urlauth=" + access)
            self.assert_fetch_fails(u, error)
        # a token for another URL (section) doesn't verify
        u = self.gen(self.base + "/;section=1;urlauth=anonymous")
        other = u.replace(";section=1;", ";section=2;")
        self.assert_fetch_fails(other, "URLAUTH verification failed")

    def test_expiry(self):
        soon = (datetime.datetime.now(datetime.timezone.utc) +
                datetime.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = self.gen(self.base + ";expire=%s;urlauth=anonymous" % soon)
        good = self.gen(self.base + ";urlauth=anonymous")
        time.sleep(3)
        r = self.c.cmd('URLFETCH "%s" "%s"' % (url, good))
        self.assertEqual(r[0], b"* URLFETCH " + url.encode() + b" NIL")
        self.assertEqual(r[1], ('* NO Failed to fetch URLAUTH "%s": URLAUTH '
                                'has expired.' % url).encode())
        self.assertTrue(r[2].startswith(b"* URLFETCH " + good.encode() +
                                        b" {"))

    def test_resetkey(self):
        # Roost adds OBJECTID's [MAILBOXID (...)] code (RFC 8474)
        self.assertRegex(self.c.cmd("CREATE Other")[0],
                         rb"^OK (\[MAILBOXID \(F[0-9a-f]+\)\] )?"
                         rb"Create completed\.$")
        r = self.c.cmd("APPEND Other ", MSG)
        self.assertTrue(r[-1].startswith(b"OK"), r)
        other = "imap://alice@localhost:%d/Other/;uid=1" % self.port
        url = self.gen(self.base + ";urlauth=anonymous")
        url_other = self.gen(other + ";urlauth=anonymous")
        self.assertTrue(self.fetch(url)[0].endswith(MSG))
        self.assertEqual(self.c.cmd("RESETKEY INBOX INTERNAL"),
                         [b"OK [URLMECH INTERNAL] Key removed."])
        self.assert_fetch_fails(url, "URLAUTH verification failed")
        # the other mailbox's key stays
        self.assertTrue(self.fetch(url_other)[0].endswith(MSG))
        # a new key gives a new token
        url2 = self.gen(self.base + ";urlauth=anonymous")
        self.assertNotEqual(url, url2)
        self.assertTrue(self.fetch(url2)[0].endswith(MSG))
        self.assertEqual(self.c.cmd("RESETKEY"), [b"OK All keys removed."])
        self.assert_fetch_fails(url2, "URLAUTH verification failed")
        self.assert_fetch_fails(url_other, "URLAUTH verification failed")
        self.assertEqual(self.c.cmd("RESETKEY Nope"),
                         [b"NO Mailbox doesn't exist: Nope."])
        self.assertEqual(self.c.cmd("RESETKEY INBOX FOO"),
                         [b"NO Unsupported URLAUTH mechanism."])
        self.assertEqual(self.c.cmd("RESETKEY INBOX"),
                         [b"OK [URLMECH INTERNAL] Key removed."])
        self.c.cmd("DELETE Other")

    def smtp_login(self):
        s = Smtp(self.sport)
        ehlo = s.cmd("EHLO client.test")
        self.assertIn("250-BURL imap", ehlo)
        r = s.cmd("AUTH PLAIN " + base64.b64encode(b"\0alice\0secret")
                  .decode())
        self.assertEqual(r, ["235 2.7.0 Logged in."])
        return s

    def test_burl(self):
        part = self.gen(self.base + "/;section=1;urlauth=submit+alice")
        whole = self.gen(self.base + ";urlauth=submit+alice")
        s = self.smtp_login()
        ehlo = s.cmd("EHLO client.test")
        self.assertIn("250-BURL imap imap://localhost:%d" % self.port, ehlo)
        self.sink.reset()
        self.assertEqual(s.cmd("MAIL FROM:<alice@example.com>")[0][:3], "250")
        self.assertEqual(s.cmd("RCPT TO:<bob@example.com>")[0][:3], "250")
        self.assertEqual(s.cmd("BDAT 7", b"Intro\r\n"),
                         ["250 2.0.0 Added 7 octets"])
        self.assertEqual(s.cmd("BURL " + part), ["250 2.0.0 Added 11 octets"])
        self.assertEqual(s.cmd("BDAT 2", b"\r\n"),
                         ["250 2.0.0 Added 2 octets"])
        r = s.cmd("BURL %s LAST" % whole)
        self.assertTrue(r[0].startswith("250 2.0.0 Ok: queued as"), r)
        self.sink.wait_messages(1)
        data = self.sink.messages[-1].data
        # Dovecot's Received header comes first, then the chunks
        body = data[data.index(b"\r\n", data.index(b"; ")) + 2:]
        self.assertEqual(body, b"Intro\r\nhello world\r\n" + MSG)
        self.assertEqual(s.cmd("QUIT"), ["221 2.0.0 Bye"])
        s.close()

    def test_burl_errors(self):
        whole = self.gen(self.base + ";urlauth=submit+alice")
        user = self.gen(self.base + ";urlauth=user+alice")
        s = self.smtp_login()
        failed = ["503 5.5.0 Previous data chunk failed, issue RSET first"]
        self.assertEqual(s.cmd("BURL"),
                         ["501 5.5.4 Missing chunk URL parameter"])
        # any failed BURL, even outside a transaction, needs an RSET
        self.assertEqual(s.cmd("BURL %s LAST" % whole), failed)
        self.assertEqual(s.cmd("RSET"), ["250 2.0.0 Ok"])
        self.assertEqual(s.cmd("BURL foo LAST"),
                         ["501 5.5.4 Invalid chunk URL: Relative URL not "
                          "allowed"])
        self.assertEqual(s.cmd("BURL %s BLAH" % whole),
                         ["501 5.5.4 Invalid end marker parameter"])
        self.assertEqual(s.cmd("DATA"), failed)
        self.assertEqual(s.cmd("RSET"), ["250 2.0.0 Ok"])
        self.assertEqual(s.cmd("BURL %s LAST" % whole),
                         ["503 5.5.0 MAIL needed first"])
        s.cmd("MAIL FROM:<alice@example.com>")
        s.cmd("RCPT TO:<bob@example.com>")
        self.assertEqual(s.cmd("BURL %s LAST" % whole), failed)
        self.assertEqual(s.cmd("RSET"), ["250 2.0.0 Ok"])
        s.cmd("MAIL FROM:<alice@example.com>")
        s.cmd("RCPT TO:<bob@example.com>")
        self.assertEqual(s.cmd("BURL %s LAST" % user),
                         ['554 5.6.6 IMAP URLAUTH resolution failed: Failed '
                          'to fetch URLAUTH "%s": No \'user+alice\' access '
                          'allowed for submission service' % user])
        self.assertEqual(s.cmd("BURL %s LAST" % whole), failed)
        self.assertEqual(s.cmd("DATA"), failed)
        self.assertEqual(s.cmd("BDAT 3 LAST", b"xyz"), failed)
        self.assertEqual(s.cmd("RSET"), ["250 2.0.0 Ok"])
        s.cmd("MAIL FROM:<alice@example.com>")
        s.cmd("RCPT TO:<bob@example.com>")
        bad = whole[:-2] + ("00" if whole[-2:] != "00" else "11")
        r = s.cmd("BURL %s LAST" % bad)
        self.assertTrue(r[0].endswith(": URLAUTH verification failed"), r)
        self.assertEqual(s.cmd("QUIT"), ["221 2.0.0 Bye"])
        s.close()

    def test_not_enabled(self):
        if TARGET != "roost":
            self.skipTest("preauth tunnel is Roost's")
        conf = os.path.join(self.tmp, "plain.conf")
        self.write_conf(conf, urlauth=False)
        p = subprocess.run([ROOST, "imap", "-c", conf, "-u", "alice"],
                           input=b"a CAPABILITY\r\nb GENURLAUTH x INTERNAL\r\n"
                           b"c URLFETCH x\r\nd RESETKEY\r\ne LOGOUT\r\n",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20)
        out = p.stdout.decode()
        self.assertNotIn("URLAUTH", out.split("\r\n")[1])
        for tag, name in [("b", "GENURLAUTH"), ("c", "URLFETCH"),
                          ("d", "RESETKEY")]:
            self.assertIn("%s BAD Error in IMAP command %s: Unknown command"
                          % (tag, name), out)


if __name__ == "__main__":
    unittest.main()

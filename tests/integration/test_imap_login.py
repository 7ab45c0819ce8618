#!/usr/bin/env python3
"""IMAP before login, end to end: `dovecot -F -c CONF` from a temp config
serving imap (143-style with STARTTLS, and imaps) and pop3 at once,
driven with raw sockets. Every expectation was taken from Debian's
Dovecot 2.3.19.1: run with IMAP_ORACLE=dovecot to check them against
/usr/sbin/dovecot itself (same config, same client code).

Covers: greeting and CAPABILITY per state (secured, insecure, STARTTLS,
imaps), LOGIN with quoted strings and literals, AUTHENTICATE PLAIN with
SASL-IR and with a continuation, cancel, invalid base64, an unsupported
mechanism, plaintext refusal, a wrong password, ID, ENABLE, NOOP, LOGOUT,
invalid commands and the BYE after the third, parser errors, an
oversized literal, the Login:/Disconnected: log lines, and POP3 served by
the same daemon. Needs root (the mail user is nobody; clients bind to
127.0.1.x to be "insecure").

Env: ROOST = path of build/bin/roost; IMAP_ORACLE=dovecot."""
import base64
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from serverlib import free_port, tls_context, make_cert, passwd_auth

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
ORACLE = os.environ.get("IMAP_ORACLE", "") == "dovecot"
UID = GID = 65534

PRE_CAPS = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+"
GREETING = "Dovecot (Debian) ready."
SESSION = r"session=<[A-Za-z0-9+/]+>"


class Client:
    """A line-oriented IMAP client on a raw socket."""

    def __init__(self, port, src="127.0.0.1", tls=False):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(15)
        s.connect(("127.0.0.1", port))
        if tls:
            s = tls_context().wrap_socket(s)
        self.sock = s
        self.buf = b""

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
        return line.rstrip(b"\r").decode()

    def cmd(self, data, n=1):
        self.send(data)
        return [self.line() for _ in range(n)]

    def eof(self):
        """True if the server closes the connection with nothing more."""
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return self.buf == b""
                self.buf += d
        except (ConnectionResetError, socket.timeout):
            return False

    def starttls(self):
        self.sock = tls_context().wrap_socket(self.sock)

    def close(self):
        self.sock.close()


class ServerCase(unittest.TestCase):
    """One daemon per class, started from a temp config (ssl = SSL)."""
    SSL = "yes"

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.tmp = tempfile.mkdtemp(prefix="roost-imaplogin.")
        os.chmod(cls.tmp, 0o755)
        cls.port, cls.ssl_port = free_port(), free_port()
        cls.pop3_port = free_port()
        home = os.path.join(cls.tmp, "home", "alice")
        os.makedirs(home)
        os.chown(os.path.join(cls.tmp, "home"), UID, GID)
        os.chown(home, UID, GID)
        with open(os.path.join(cls.tmp, "passwd"), "w") as f:
            f.write("alice:{PLAIN}secret:%d:%d::%s::\n" % (UID, GID, home))
        make_cert(cls.tmp)
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        with open(cls.conf, "w") as f:
            f.write("""protocols = imap pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = %(ssl)s
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_mechanisms = plain login
auth_failure_delay = 0
login_greeting = Dovecot (Debian) ready.
imap_id_log = *
mail_max_userip_connections = 3
%(auth)sservice imap-login {
  inet_listener imap {
    port = %(port)d
  }
  inet_listener imaps {
    port = %(ssl_port)d
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3_port)d
  }
  inet_listener pop3s {
    port = 0
  }
}
""" % {"tmp": cls.tmp, "auth": passwd_auth(cls.tmp), "port": cls.port, "ssl_port": cls.ssl_port,
       "pop3_port": cls.pop3_port, "ssl": cls.SSL})
        exe = "/usr/sbin/dovecot" if ORACLE else os.path.join(BIN, "dovecot")
        cls.master = subprocess.Popen([exe, "-F", "-c", cls.conf])
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                for p in (cls.port, cls.ssl_port, cls.pop3_port):
                    socket.create_connection(("127.0.0.1", p), 1).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "master", None) is not None and cls.master.poll() is None:
            cls.master.send_signal(signal.SIGTERM)
            cls.master.wait(20)
        if hasattr(cls, "tmp"):
            if not os.environ.get("KEEP_TMP"):
                shutil.rmtree(cls.tmp, ignore_errors=True)

    def log(self):
        with open(os.path.join(self.tmp, "log")) as f:
            return f.read()

    def wait_log(self, regex, timeout=10):
        deadline = time.time() + timeout
        while True:
            log = self.log()
            if re.search(regex, log) or time.time() > deadline:
                self.assertRegex(log, regex)
                return log
            time.sleep(0.1)

    def connect(self, src="127.0.0.1", tls=False, port=None):
        c = Client(port or (self.ssl_port if tls else self.port), src, tls)
        c.greeting = c.line()
        return c

    def assert_logged_in(self, c, tag, lines_before=()):
        """A successful login: Dovecot (and Roost once the IMAP session
        is in the mail worker) answers the tagged OK with post-login
        capabilities; until then the mail worker says BYE. The Login:
        line proves the hand-over either way."""
        for want in lines_before:
            line = c.line()
            if line.startswith("* BYE Internal error"):
                return
            self.assertTrue(line.startswith(want), line)
        line = c.line()
        if not ORACLE and line.startswith("* BYE Internal error"):
            return
        if lines_before:
            self.assertEqual(line, "%s OK Logged in" % tag)
        else:
            self.assertTrue(line.startswith("%s OK [CAPABILITY IMAP4rev1 "
                                            % tag), line)
            self.assertTrue(line.endswith("] Logged in"), line)



class ImapLogin(ServerCase):
    # ---- greetings and capabilities ----

    def test_01_greeting_secured(self):
        c = self.connect()
        caps = PRE_CAPS + " STARTTLS AUTH=PLAIN AUTH=LOGIN"
        self.assertEqual(c.greeting, "* OK [CAPABILITY %s] %s" %
                         (caps, GREETING))
        self.assertEqual(c.cmd("a1 CAPABILITY\r\n", 2), [
            "* CAPABILITY " + caps,
            "a1 OK Pre-login capabilities listed, post-login capabilities "
            "have more."])
        c.close()

    def test_02_greeting_insecure(self):
        c = self.connect("127.0.1.2")
        caps = PRE_CAPS + " STARTTLS LOGINDISABLED"
        self.assertEqual(c.greeting, "* OK [CAPABILITY %s] %s" %
                         (caps, GREETING))
        self.assertEqual(c.cmd("a1 CAPABILITY\r\n", 2)[0],
                         "* CAPABILITY " + caps)
        self.assertEqual(c.cmd("a2 STARTTLS\r\n"),
                         ["a2 OK Begin TLS negotiation now."])
        c.starttls()
        self.assertEqual(c.cmd("a3 CAPABILITY\r\n", 2)[0],
                         "* CAPABILITY " + PRE_CAPS + " AUTH=PLAIN AUTH=LOGIN")
        self.assertEqual(c.cmd("a4 STARTTLS\r\n"),
                         ["a4 BAD TLS is already active."])
        c.send("a5 LOGIN alice secret\r\n")
        self.assert_logged_in(c, "a5", ["* CAPABILITY IMAP4rev1 "])
        self.wait_log(r"imap-login: Info: Login: user=<alice>, method=PLAIN, "
                      r"rip=127\.0\.1\.2, lip=127\.0\.0\.1, mpid=\d+, TLS, "
                      + SESSION)
        c.close()

    def test_03_imaps(self):
        c = self.connect(tls=True)
        self.assertEqual(c.greeting, "* OK [CAPABILITY %s AUTH=PLAIN "
                         "AUTH=LOGIN] %s" % (PRE_CAPS, GREETING))
        self.assertEqual(c.cmd("b2 STARTTLS\r\n"),
                         ["b2 BAD TLS is already active."])
        c.close()

    # ---- simple commands ----

    def test_04_simple_commands(self):
        c = self.connect("127.0.1.4")
        self.assertEqual(c.cmd("a2 NOOP\r\n"), ["a2 OK NOOP completed."])
        # only the first ID is logged (imap_id_log)
        self.assertEqual(c.cmd('a3 ID ("name" "test" "version" "1")\r\n', 2),
                         ['* ID ("name" "Dovecot")', "a3 OK ID completed."])
        self.assertEqual(c.cmd('a4 ID ("name" "other")\r\n', 2),
                         ['* ID ("name" "Dovecot")', "a4 OK ID completed."])
        self.assertEqual(c.cmd("a4b ID NIL\r\n", 2),
                         ['* ID ("name" "Dovecot")', "a4b OK ID completed."])
        self.assertEqual(c.cmd('a5 ID ((x))\r\n'),
                         ["a5 BAD Invalid ID parameters"])
        self.assertEqual(c.cmd("a6 ENABLE CONDSTORE\r\n", 2), [
            "* ENABLED", "a6 OK ENABLE ignored in non-authenticated state."])
        self.assertEqual(c.cmd("a7 noop extra args\r\n"),
                         ["a7 OK NOOP completed."])
        self.assertEqual(c.cmd("a8 LOGOUT\r\n", 2),
                         ["* BYE Logging out", "a8 OK Logout completed."])
        self.assertTrue(c.eof())
        self.wait_log(r"imap-login: Info: ID sent: name=test, version=1: "
                      r"user=<>, rip=127\.0\.1\.4, lip=127\.0\.0\.1, "
                      + SESSION)
        self.wait_log(r"imap-login: Info: Disconnected: Aborted login by "
                      r"logging out \(no auth attempts in \d+ secs\): "
                      r"user=<>, rip=127\.0\.1\.4, lip=127\.0\.0\.1, "
                      + SESSION)

    def test_05_invalid_commands(self):
        c = self.connect("127.0.1.5")
        self.assertEqual(c.cmd("a6 SELECT INBOX\r\n"),
                         ["a6 BAD Error in IMAP command received by server."])
        # parser errors are answered but not counted
        for _ in range(3):
            self.assertEqual(c.cmd("a7 NOOP (\r\n"), ["a7 BAD Missing ')'"])
        self.assertEqual(c.cmd('a7 NOOP "x\r\n'), ["a7 BAD Missing '\"'"])
        self.assertEqual(c.cmd("LOGIN alice secret\r\n"), [
            "LOGIN BAD First parameter in line is IMAP's command tag, not "
            "the command name. Add that before the command, like: a login "
            "user pass"])
        self.assertEqual(c.cmd("a+b NOOP\r\n"),
                         ["* BAD Error in IMAP command received by server."])
        self.assertEqual(c.cmd("a9 BOGUS\r\n"), [
            "* BYE Too many invalid IMAP commands."])
        self.assertTrue(c.eof())
        self.wait_log(r"imap-login: Info: Disconnected: Too many invalid "
                      r"commands \(no auth attempts in \d+ secs\): user=<>, "
                      r"rip=127\.0\.1\.5, lip=127\.0\.0\.1, " + SESSION)

    def test_06_literal_too_large(self):
        c = self.connect("127.0.1.6")
        self.assertEqual(c.cmd("a NOOP {100000}\r\n"),
                         ["* BYE Literal size too large"])
        self.assertTrue(c.eof())
        self.wait_log(r"Disconnected: Literal size too large \(no auth "
                      r"attempts in \d+ secs\): user=<>, rip=127\.0\.1\.6")

    # ---- authentication ----

    def test_07_plaintext_refused(self):
        c = self.connect("127.0.1.7")
        self.assertEqual(c.cmd("a2 LOGIN alice secret\r\n", 2), [
            "* BAD [ALERT] Plaintext authentication not allowed without "
            "SSL/TLS, but your client did it anyway. If anyone was "
            "listening, the password was exposed.",
            "a2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on "
            "non-secure (SSL/TLS) connections."])
        c.close()
        self.wait_log(r"imap-login: Info: Disconnected: Connection closed "
                      r"\(auth failed, 1 attempts in \d+ secs\): "
                      r"user=<alice>, rip=127\.0\.1\.7, lip=127\.0\.0\.1, "
                      + SESSION)
        c = self.connect("127.0.1.8")
        self.assertEqual(c.cmd("a3 AUTHENTICATE PLAIN\r\n"), [
            "a3 NO [PRIVACYREQUIRED] Plaintext authentication disabled."])
        self.assertEqual(c.cmd("a4 LOGOUT\r\n", 2)[1],
                         "a4 OK Logout completed.")
        self.wait_log(r"Disconnected: Aborted login by logging out \(tried "
                      r"to use disallowed plaintext auth\): user=<>, "
                      r"method=PLAIN, rip=127\.0\.1\.8, lip=127\.0\.0\.1, "
                      + SESSION)

    def test_08_login_quoted_and_literal(self):
        c = self.connect()
        c.send('a1 LOGIN "alice" "secret"\r\n')
        self.assert_logged_in(c, "a1")
        c.close()
        c = self.connect()
        self.assertEqual(c.cmd("a2 LOGIN {5}\r\n"), ["+ OK"])
        c.send("alice {6+}\r\nsecret\r\n")
        self.assert_logged_in(c, "a2")
        c.close()
        self.wait_log(r"imap-login: Info: Login: user=<alice>, method=PLAIN, "
                      r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=\d+, "
                      r"secured, " + SESSION)

    def test_09_authenticate(self):
        ir = base64.b64encode(b"\0alice\0secret").decode()
        c = self.connect()
        c.send("a1 AUTHENTICATE PLAIN %s\r\n" % ir)
        self.assert_logged_in(c, "a1")
        c.close()
        c = self.connect(tls=True)
        self.assertEqual(c.cmd("a2 authenticate plain\r\n"), ["+ "])
        c.send(ir + "\r\n")
        self.assert_logged_in(c, "a2")
        c.close()
        # CAPABILITY before login: the capabilities come untagged
        c = self.connect()
        c.cmd("a3 CAPABILITY\r\n", 2)
        c.send("a4 LOGIN alice secret\r\n")
        self.assert_logged_in(c, "a4", ["* CAPABILITY IMAP4rev1 "])
        c.close()

    def test_10_cancel_and_bad_responses(self):
        c = self.connect("127.0.1.10", tls=True)
        self.assertEqual(c.cmd("a1 AUTHENTICATE PLAIN\r\n"), ["+ "])
        self.assertEqual(c.cmd("*\r\n"),
                         ["a1 BAD Authentication aborted by client."])
        self.assertEqual(c.cmd("a2 AUTHENTICATE PLAIN\r\n"), ["+ "])
        self.assertEqual(c.cmd("!!!notbase64\r\n"),
                         ["a2 NO [ALERT] Invalid base64 in response"])
        self.assertEqual(c.cmd("a3 AUTHENTICATE CRAM-MD5\r\n"),
                         ["a3 NO [ALERT] Unsupported authentication "
                          "mechanism."])
        self.assertEqual(c.cmd("a4 AUTHENTICATE PLAIN =\r\n"),
                         ["a4 NO [AUTHENTICATIONFAILED] Authentication "
                          "failed."])
        self.assertEqual(c.cmd("a5 AUTHENTICATE PLAIN !!!\r\n"),
                         ["a5 BAD Invalid base64 data in initial response"])
        c.close()
        self.wait_log(r"Disconnected: Connection closed \(sent invalid base64 "
                      r"in response\): user=<>, method=PLAIN, "
                      r"rip=127\.0\.1\.10, lip=127\.0\.0\.1, TLS: Connection "
                      r"closed, " + SESSION)
        c = self.connect("127.0.1.11", tls=True)
        self.assertEqual(c.cmd("a1 AUTHENTICATE PLAIN\r\n"), ["+ "])
        c.cmd("*\r\n")
        c.close()
        self.wait_log(r"Disconnected: Connection closed \(client didn't "
                      r"finish SASL auth, waited \d+ secs\): user=<>, "
                      r"method=PLAIN, rip=127\.0\.1\.11, ")
        c = self.connect("127.0.1.12", tls=True)
        c.cmd("a1 AUTHENTICATE CRAM-MD5\r\n")
        c.close()
        self.wait_log(r"Disconnected: Connection closed \(tried to use "
                      r"unsupported auth mechanism\): user=<>, "
                      r"method=CRAM-MD5, rip=127\.0\.1\.12, ")

    def test_11_wrong_password(self):
        c = self.connect("127.0.1.13", tls=True)
        self.assertEqual(c.cmd("a6 LOGIN alice wrongpass\r\n"), [
            "a6 NO [AUTHENTICATIONFAILED] Authentication failed."])
        self.assertEqual(c.cmd("a7 LOGOUT\r\n", 2)[1],
                         "a7 OK Logout completed.")
        self.wait_log(r"imap-login: Info: Disconnected: Aborted login by "
                      r"logging out \(auth failed, 1 attempts in \d+ secs\): "
                      r"user=<alice>, method=PLAIN, rip=127\.0\.1\.13, "
                      r"lip=127\.0\.0\.1, TLS, " + SESSION)

    # ---- both protocols from one daemon ----

    def test_12_pop3_beside_imap(self):
        c = self.connect(port=self.pop3_port)
        self.assertEqual(c.greeting, "+OK " + GREETING)
        c.close()
        c = self.connect()
        self.assertTrue(c.greeting.startswith("* OK [CAPABILITY "))
        c.close()
        self.assertRegex(self.log(), r"master: Info: Dovecot v2\.3\.19\.1 "
                         r"\([^)]*\) starting up for imap, pop3")

    def test_13_userip_limit(self):
        """mail_max_userip_connections: the 4th IMAP session of alice
        from one IP is refused as Dovecot refuses it; POP3 counts apart;
        a session that ends frees its slot."""
        limit_text = ("NO [LIMIT] Maximum number of connections from "
                      "user+IP exceeded (mail_max_userip_connections=3)")
        time.sleep(0.5)	# sessions of earlier tests wind down
        held = []
        for i in range(3):
            c = self.connect()
            c.send("h%d LOGIN alice secret\r\n" % i)
            self.assertTrue(c.line().startswith("h%d OK " % i))
            held.append(c)
        c = self.connect()
        c.send("x1 LOGIN alice secret\r\n")
        self.assertEqual(c.line(), "x1 " + limit_text)
        self.assertRaises(EOFError, c.line)
        c.close()
        pattern = (r"imap-login: Info: Disconnected: "
                   r"Maximum number of connections from user\+IP "
                   r"exceeded \(mail_max_userip_connections=3\): "
                   r"user=<alice>, method=PLAIN, rip=127\.0\.0\.1, "
                   r"lip=127\.0\.0\.1, secured, " + SESSION)
        for attempt in range(50):
            if re.search(pattern, self.log()):
                break
            time.sleep(0.1)
        self.assertRegex(self.log(), pattern)
        p = self.connect(port=self.pop3_port)
        p.send("USER alice\r\nPASS secret\r\n")
        self.assertEqual(p.line(), "+OK")
        self.assertTrue(p.line().startswith("+OK Logged in"))
        p.close()
        held[0].send("z LOGOUT\r\n")
        self.assertEqual(held[0].line(), "* BYE Logging out")
        held[0].close()
        for attempt in range(50):
            c = self.connect()
            c.send("y1 LOGIN alice secret\r\n")
            line = c.line()
            c.close()
            if line.startswith("y1 OK "):
                break
            self.assertEqual(line, "y1 " + limit_text)
            time.sleep(0.1)
        self.assertTrue(line.startswith("y1 OK "), line)
        for c in held[1:]:
            c.close()


class SslRequired(ServerCase):
    """ssl = required: TLS is needed for every login except from a
    secured (rip = lip, or trusted) connection, as in Dovecot."""
    SSL = "required"

    def test_01_local_plaintext_allowed(self):
        c = self.connect()
        c.send("a CAPABILITY\r\n")
        caps = c.line()
        self.assertIn("AUTH=PLAIN", caps)
        self.assertNotIn("LOGINDISABLED", caps)
        c.line()
        c.send("b LOGIN alice secret\r\n")
        self.assert_logged_in(c, "b", ("* CAPABILITY",))
        c.close()
        p = self.connect(port=self.pop3_port)
        p.send("USER alice\r\nPASS secret\r\n")
        self.assertEqual(p.line(), "+OK")
        self.assertTrue(p.line().startswith("+OK Logged in"))
        p.close()

    def test_02_insecure_plaintext_refused(self):
        c = self.connect(src="127.0.1.7")
        c.send("a CAPABILITY\r\n")
        caps = c.line()
        self.assertIn("LOGINDISABLED", caps)
        self.assertNotIn("AUTH=PLAIN", caps)
        c.line()
        c.send("b LOGIN alice secret\r\n")
        self.assertTrue(c.line().startswith("* BAD [ALERT] Plaintext "))
        self.assertEqual(c.line(), "b NO [PRIVACYREQUIRED] Plaintext "
                         "authentication disallowed on non-secure "
                         "(SSL/TLS) connections.")
        c.close()
        p = self.connect(src="127.0.1.7", port=self.pop3_port)
        p.send("USER alice\r\n")
        self.assertEqual(p.line(), "-ERR [AUTH] Plaintext authentication "
                         "disallowed on non-secure (SSL/TLS) connections.")
        p.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""LMTP end to end: Roost's master (`dovecot -F -c CONF`) from a temp
config with the lmtp service on a unix socket in base_dir and on a
loopback TCP port, driven with Python's smtplib.LMTP and raw sockets;
the delivered mail is then read back over POP3 from the same server.

Covers: several recipients in one transaction with an unknown one (550
at RCPT, one reply per accepted recipient after DATA and after BDAT),
user+detail@ into the detail mailbox (lmtp_save_to_detail_mailbox,
lda_mailbox_autocreate) with Delivered-To and Received as Dovecot
writes them, TCP (Received names the IP), 10 parallel deliveries to one
user, lmtp_user_concurrency_limit, bad input (a 10 MB line, RCPT before
MAIL, bare LF / bare CR / NUL in DATA, a BDAT larger than what is sent,
a client gone mid-DATA), file ownership (the delivery runs as the
user), the log lines, `roost lmtp` on stdin with -o overrides
(lmtp_hdr_delivery_address = none, lmtp_add_received_header = no), and
a differential run of the same sessions against Debian's Dovecot lmtp
(replies, stored messages and log lines, ids and dates normalised).
Needs root (the mail user is nobody). Env: ROOST = build/bin/roost."""
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from serverlib import free_port, make_cert, tls_context

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534
USERS = ("alice", "bob", "carol", "dave", "erin", "frank")


def conf_text(tmp, lmtp_port, pop3_port, extra=""):
    return """protocols = lmtp pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
hostname = mx.example.test
first_valid_uid = 1
auth_failure_delay = 0
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
disable_plaintext_auth = no
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
lda_mailbox_autocreate = yes
lmtp_user_concurrency_limit = 2
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  unix_listener %(tmp)s/spool/private/dovecot-lmtp {
    mode = 0600
    user = nobody
    group = nogroup
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = %(lmtp_port)d
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
%(extra)s""" % {"tmp": tmp, "lmtp_port": lmtp_port, "pop3_port": pop3_port,
                "extra": extra}


def make_tree(tmp):
    os.chmod(tmp, 0o755)
    make_cert(tmp)
    for d in ("run", "state", "home", "spool/private"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    os.chown(os.path.join(tmp, "home"), UID, GID)
    with open(os.path.join(tmp, "passwd"), "w") as f:
        for u in USERS:
            f.write("%s@example.test:{PLAIN}pw:%d:%d::%s/home/%s::\n" %
                    (u, UID, GID, tmp, u))


def wait_for(path_or_port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if isinstance(path_or_port, int):
                socket.create_connection(("127.0.0.1", path_or_port), 1).close()
            else:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(path_or_port)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server didn't start: %s" % path_or_port)


class Raw:
    """A raw LMTP connection: send bytes, read replies."""

    def __init__(self, path=None, port=None):
        if path is not None:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.connect(path)
        else:
            self.s = socket.create_connection(("127.0.0.1", port))
        self.s.settimeout(20)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """One whole (possibly multi-line) reply, lines joined by \\n."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return "\n".join(lines)

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, data):
        self.send(data)
        return self.reply()

    def close(self):
        self.s.close()


def run_session(sock_path, chunks):
    """Send chunks (bytes) one after the other, each followed by reading
    whatever replies come within a short while; all replies as text."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    out = b""

    def drain(t):
        nonlocal out
        end = time.time() + t
        while True:
            left = end - time.time()
            if left <= 0:
                return True
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                return True
            if not d:
                return False
            out += d
            if out.endswith(b"\r\n") and t <= 0.3:
                # replies so far are complete: a short grace for more
                end = min(end, time.time() + 0.05)
    drain(0.3)
    for i, c in enumerate(chunks):
        s.sendall(c)
        # the last chunk ends with QUIT: read until the server closes
        if not drain(0.3 if i + 1 < len(chunks) else 20):
            break
    s.close()
    return out.decode("utf-8", "replace")


def maildir_files(home, box="INBOX"):
    d = os.path.join(home, "Maildir") if box == "INBOX" else \
        os.path.join(home, "Maildir", "." + box)
    res = []
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        if os.path.isdir(p):
            res += [os.path.join(p, f) for f in os.listdir(p)]
    # in delivery order as far as the files tell (the mtime is the
    # received date, whole seconds: tests look for their message by
    # content where two deliveries may share a second)
    return sorted(res, key=lambda f: (os.stat(f).st_mtime_ns, f))


def message_with(home, needle):
    """The one stored message (bytes) that contains needle."""
    found = []
    for p in maildir_files(home):
        with open(p, "rb") as f:
            data = f.read()
        if needle in data:
            found.append(data)
    if len(found) != 1:
        raise AssertionError("%d messages with %r" % (len(found), needle))
    return found[0]


class LmtpServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.tmp = tempfile.mkdtemp(prefix="roost-lmtp.")
        make_tree(cls.tmp)
        cls.port = free_port()
        cls.pop3_port = free_port()
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        with open(cls.conf, "w") as f:
            f.write(conf_text(cls.tmp, cls.port, cls.pop3_port))
        cls.sock = os.path.join(cls.tmp, "run", "lmtp")
        cls.master = subprocess.Popen([os.path.join(BIN, "dovecot"), "-F",
                                       "-c", cls.conf])
        wait_for(cls.sock)
        wait_for(cls.port)
        wait_for(cls.pop3_port)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "master", None) is not None and cls.master.poll() is None:
            cls.master.send_signal(signal.SIGTERM)
            cls.master.wait(20)
        if hasattr(cls, "tmp"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def home(self, user):
        return os.path.join(self.tmp, "home", user)

    def log(self):
        with open(os.path.join(self.tmp, "log")) as f:
            return f.read()

    def wait_log(self, regex, timeout=10):
        deadline = time.time() + timeout
        while True:
            log = self.log()
            if re.search(regex, log) or time.time() > deadline:
                self.assertRegex(log, regex)
                return
            time.sleep(0.1)

    def lhlo(self, raw):
        self.assertEqual(raw.reply(),
                         "220 mx.example.test Dovecot (Debian) ready.")
        self.assertEqual(raw.cmd(b"LHLO client.example\r\n"),
                         "250-mx.example.test\n250-8BITMIME\n250-CHUNKING\n"
                         "250-ENHANCEDSTATUSCODES\n250-PIPELINING\n"
                         "250 STARTTLS")

    def test_01_per_recipient_replies(self):
        """One unknown recipient among three: 550 at RCPT, then one reply
        per accepted recipient after DATA, in order."""
        before = len(maildir_files(self.home("alice")))
        r = Raw(path=self.sock)
        self.lhlo(r)
        self.assertEqual(r.cmd(b"MAIL FROM:<sender@example.org>\r\n"),
                         "250 2.1.0 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<alice@example.test>\r\n"),
                         "250 2.1.5 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<nobody@example.test>\r\n"),
                         "550 5.1.1 <nobody@example.test> User doesn't "
                         "exist: nobody@example.test")
        self.assertEqual(r.cmd(b"RCPT TO:<bob@example.test>\r\n"),
                         "250 2.1.5 OK")
        self.assertEqual(r.cmd(b"DATA\r\n"), "354 OK")
        r.send(b"Subject: multi\r\nMessage-ID: <multi@example.org>\r\n\r\n"
               b"hello\r\n..dotted\r\n.\r\n")
        a = r.reply()
        b = r.reply()
        m = re.match(r"^250 2\.0\.0 <alice@example\.test> ([A-Za-z0-9+/]{22}) "
                     r"Saved$", a)
        self.assertIsNotNone(m, a)
        sid = m.group(1)
        self.assertEqual(b, "250 2.0.0 <bob@example.test> %s:R3 Saved" % sid)
        # BDAT: the same per-recipient replies
        self.assertEqual(r.cmd(b"MAIL FROM:<>\r\n"), "250 2.1.0 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<alice@example.test>\r\n"),
                         "250 2.1.5 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<bob@example.test>\r\n"),
                         "250 2.1.5 OK")
        self.assertEqual(r.cmd(b"BDAT 12\r\nSubject: b\r\n"),
                         "250 2.0.0 Added 12 octets")
        r.send(b"BDAT 8 LAST\r\n\r\nchunk\n")
        self.assertEqual(r.reply(), "250 2.0.0 <alice@example.test> %s:T2 "
                         "Saved" % sid)
        self.assertEqual(r.reply(), "250 2.0.0 <bob@example.test> %s:T2:R2 "
                         "Saved" % sid)
        self.assertEqual(r.cmd(b"QUIT\r\n"), "221 2.0.0 Bye")
        r.close()
        files = maildir_files(self.home("alice"))
        self.assertEqual(len(files), before + 2)
        msg = message_with(self.home("alice"), b"Subject: multi\n")
        self.assertRegex(msg.decode(),
                         r"^Return-Path: <sender@example.org>\n"
                         r"Received: from client.example\n"
                         r"\tby mx.example.test with LMTP\n"
                         r"\tid %s\n"
                         r"\t\(envelope-from <sender@example.org>\); "
                         r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\n"
                         r"Subject: multi\n" % re.escape(sid))
        self.assertTrue(msg.endswith(b"\n\nhello\n.dotted\n"), msg)
        self.assertTrue(message_with(self.home("alice"), b"Subject: b\n")
                        .endswith(b"Subject: b\n\nchunk\n"))
        self.wait_log(r"lmtp\(bob@example\.test\)<\d+><%s:R3>: Info: "
                      r"msgid=<multi@example\.org>: saved mail to INBOX" %
                      re.escape(sid))
        self.wait_log(r"lmtp\(\d+\): Info: Disconnect from local: Logged "
                      r"out \(state=READY\)")
        # the delivery ran as the user: the files are the user's
        for p in files:
            st = os.stat(p)
            self.assertEqual((st.st_uid, st.st_gid), (UID, GID))

    def test_01b_postfix_listener(self):
        """Postfix's unix_listener private/dovecot-lmtp { mode user group }
        beside the default one (base_dir/lmtp, 0666)."""
        path = os.path.join(self.tmp, "spool", "private", "dovecot-lmtp")
        st = os.stat(path)
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid),
                         (0o600, UID, GID))
        st = os.stat(self.sock)
        self.assertEqual((st.st_mode & 0o7777, st.st_uid), (0o666, 0))
        c = smtplib.LMTP(path)
        self.assertEqual(c.sendmail("pf@example.org", ["carol@example.test"],
                                    b"Subject: via postfix socket\r\n\r\nx\r\n"),
                         {})
        c.quit()

    def test_02_detail_mailbox(self):
        """bob+work@ goes to the mailbox work (autocreated), with
        Delivered-To and Received's "for" of a single recipient."""
        c = smtplib.LMTP(self.sock)
        c.ehlo_or_helo_if_needed = lambda: None
        self.assertEqual(c.docmd("LHLO", "client.example")[0], 250)
        self.assertEqual(c.sendmail("s@example.org", ["bob+work@example.test"],
                                    b"Subject: detail\r\n\r\nfor work\r\n"),
                         {})
        c.quit()
        files = maildir_files(self.home("bob"), "work")
        self.assertEqual(len(files), 1)
        with open(files[0]) as f:
            text = f.read()
        self.assertRegex(text, r"^Return-Path: <s@example.org>\n"
                         r"Delivered-To: bob\+work@example.test\n"
                         r"Received: from client.example\n"
                         r"\tby mx.example.test with LMTP\n\tid \S+\n"
                         r"\t\(envelope-from <s@example.org>\)\n"
                         r"\tfor <bob\+work@example.test>; ")
        self.wait_log(r"lmtp\(bob@example\.test\)<\d+><\S+>: Info: "
                      r"msgid=unspecified: saved mail to work")

    def test_03_tcp(self):
        c = smtplib.LMTP("127.0.0.1", self.port)
        c.ehlo_or_helo_if_needed = lambda: None
        code, text = c.docmd("LHLO", "tcp.example")
        self.assertEqual((code, text), (250, b"mx.example.test\n8BITMIME\n"
                                        b"CHUNKING\nENHANCEDSTATUSCODES\n"
                                        b"PIPELINING\nSTARTTLS"))
        self.assertEqual(c.sendmail("s@example.org", ["carol@example.test"],
                                    b"Subject: tcp\r\n\r\nover tcp\r\n"), {})
        c.quit()
        texts = []
        for p in maildir_files(self.home("carol")):
            with open(p) as f:
                texts.append(f.read())
        tcp = [t for t in texts if "Subject: tcp\n" in t]
        self.assertEqual(len(tcp), 1)
        self.assertIn("Received: from tcp.example ([127.0.0.1])\n", tcp[0])
        self.wait_log(r"lmtp\(\d+\): Info: Connect from 127\.0\.0\.1\n")

    def test_04_parallel(self):
        """10 deliveries to one user at once, like an MTA would make them
        (a 4xx from lmtp_user_concurrency_limit = 2 is tried again): all
        saved, each exactly once."""
        before = len(maildir_files(self.home("dave")))
        results = []

        def deliver(i):
            for _ in range(100):
                c = None
                try:
                    c = smtplib.LMTP(self.sock)
                    res = c.sendmail("p@example.org", ["dave@example.test"],
                                     b"Subject: parallel %d\r\n\r\n"
                                     b"body %d\r\n" % (i, i))
                    c.quit()
                    results.append(res)
                    return
                except smtplib.SMTPRecipientsRefused as e:
                    c.close()
                    code = list(e.recipients.values())[0][0]
                    if code // 100 != 4:
                        results.append(e)
                        return
                    time.sleep(0.05)
                except Exception as e:  # noqa: BLE001 - reported below
                    results.append(e)
                    return
            results.append("never delivered")
        threads = [threading.Thread(target=deliver, args=(i,))
                   for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results.count({}), 10, results)
        files = maildir_files(self.home("dave"))
        self.assertEqual(len(files) - before, 10)
        subjects = []
        for p in files:
            with open(p) as f:
                subjects.append(re.search(r"Subject: (.*)", f.read()).group(1))
        self.assertEqual(sorted("parallel %d" % i for i in range(10)),
                         sorted(subjects))

    def test_05_concurrency_limit(self):
        """lmtp_user_concurrency_limit = 2: a third transaction holding
        the same user is refused with 451 until one ends."""
        conns = []
        for _ in range(2):
            r = Raw(path=self.sock)
            self.lhlo(r)
            self.assertEqual(r.cmd(b"MAIL FROM:<>\r\n"), "250 2.1.0 OK")
            self.assertEqual(r.cmd(b"RCPT TO:<erin@example.test>\r\n"),
                             "250 2.1.5 OK")
            conns.append(r)
        r = Raw(path=self.sock)
        self.lhlo(r)
        self.assertEqual(r.cmd(b"MAIL FROM:<>\r\n"), "250 2.1.0 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<erin@example.test>\r\n"),
                         "451 4.3.0 <erin@example.test> Too many concurrent "
                         "deliveries for user")
        self.assertEqual(conns[0].cmd(b"RSET\r\n"), "250 2.0.0 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<erin@example.test>\r\n"),
                         "250 2.1.5 OK")
        for c in conns + [r]:
            c.close()

    def test_06_bad_input(self):
        r = Raw(path=self.sock)
        self.lhlo(r)
        # a 10 MB line: answered once, skipped, the session goes on
        r.send(b"NOOP " + b"x" * (10 * 1024 * 1024) + b"\r\n")
        self.assertEqual(r.reply(), "500 5.5.2 Line too long")
        self.assertEqual(r.cmd(b"NOOP\r\n"), "250 2.0.0 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<alice@example.test>\r\n"),
                         "503 5.5.0 MAIL needed first")
        self.assertEqual(r.cmd(b"DATA\r\n"), "503 5.5.0 MAIL needed first")
        self.assertEqual(r.cmd(b"HELO x\r\n"), "500 5.5.1 Unknown command")
        self.assertEqual(r.cmd(b"NO\x00OP\r\n"),
                         "500 5.5.2 Invalid command syntax")
        # bare LF, bare CR and NUL in DATA are stored; ".\n" ends it
        self.assertEqual(r.cmd(b"MAIL FROM:<a@b.c>\r\n"), "250 2.1.0 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<carol@example.test>\r\n"),
                         "250 2.1.5 OK")
        self.assertEqual(r.cmd(b"DATA\r\n"), "354 OK")
        r.send(b"Subject: bare\r\n\r\nlf\nonly\rcr\x00nul\r\n.\n")
        self.assertRegex(r.reply(), r"^250 2\.0\.0 <carol@example\.test> \S+ "
                         r"Saved$")
        self.assertTrue(message_with(self.home("carol"), b"Subject: bare\n")
                        .endswith(b"\n\nlf\nonly\rcr\x00nul\n"))
        # BDAT larger than what is sent: nothing saved, no reply
        before = len(maildir_files(self.home("carol")))
        self.assertEqual(r.cmd(b"MAIL FROM:<a@b.c>\r\n"), "250 2.1.0 OK")
        self.assertEqual(r.cmd(b"RCPT TO:<carol@example.test>\r\n"),
                         "250 2.1.5 OK")
        r.send(b"BDAT 1000 LAST\r\nSubject: short\r\n\r\nx\r\n")
        r.s.settimeout(1)
        self.assertRaises(socket.timeout, r.line)
        r.close()
        self.wait_log(r"Disconnect from local: Connection closed \(unfinished "
                      r"BDAT command\) \(state=DATA\)")
        self.assertEqual(len(maildir_files(self.home("carol"))), before)
        # a client gone in the middle of DATA: nothing saved
        r = Raw(path=self.sock)
        self.lhlo(r)
        r.send(b"MAIL FROM:<a@b.c>\r\nRCPT TO:<carol@example.test>\r\n"
               b"DATA\r\n")
        for _ in range(3):
            r.reply()
        r.send(b"Subject: gone\r\n\r\n" + b"y" * 100000)
        r.close()
        self.wait_log(r"Disconnect from local: Connection closed \(unfinished "
                      r"DATA command\) \(state=DATA\)")
        self.assertEqual(len(maildir_files(self.home("carol"))), before)

    def test_06b_temporary_failure(self):
        """A delivery that fails (the user's Maildir not writable for the
        user) gets 451 and leaves nothing; the MTA's retry after the fix
        saves the message once."""
        home = self.home("frank")
        tmpdir = os.path.join(home, "Maildir", "tmp")
        os.makedirs(tmpdir)
        for d in (home, os.path.join(home, "Maildir"), tmpdir):
            os.chown(d, UID, GID)
        os.chmod(tmpdir, 0o500)
        msg = b"Subject: retry\r\nMessage-ID: <retry@example.org>\r\n\r\nx\r\n"
        c = smtplib.LMTP(self.sock)
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            c.sendmail("r@example.org", ["frank@example.test"], msg)
        self.assertEqual(cm.exception.smtp_code, 451)
        self.assertTrue(cm.exception.smtp_error.startswith(
            b"4.2.0 <frank@example.test> "), cm.exception.smtp_error)
        c.quit()
        self.assertEqual(maildir_files(home), [])
        self.wait_log(r"lmtp\(frank@example\.test\)<\d+><\S+>: Info: "
                      r"msgid=<retry@example\.org>: save failed to INBOX: ")
        os.chmod(tmpdir, 0o700)
        c = smtplib.LMTP(self.sock)
        self.assertEqual(c.sendmail("r@example.org", ["frank@example.test"],
                                    msg), {})
        c.quit()
        self.assertEqual(len(maildir_files(home)), 1)

    def test_06c_hostile_detail(self):
        """A detail that isn't a valid mailbox name (../, a leading dot)
        falls back to INBOX with Dovecot's log line; nothing is created
        outside the user's Maildir."""
        before = len(maildir_files(self.home("bob")))
        evil = os.path.join(self.tmp, "evil")
        c = smtplib.LMTP(self.sock)
        self.assertEqual(c.sendmail("e@example.org", [
            "bob+../../../evil@example.test", "bob+.hidden@example.test"],
            b"Subject: evil\r\n\r\nx\r\n"), {})
        self.assertEqual(c.getreply()[0], 250)
        c.quit()
        self.assertEqual(len(maildir_files(self.home("bob"))), before + 2)
        self.assertFalse(os.path.exists(evil))
        self.wait_log(r"save failed to open mailbox \.\./\.\./\.\./evil: "
                      r"Invalid mailbox name")

    def test_06d_disk_full(self):
        """One recipient whose disk is full among others: 451 4.2.0 with
        Dovecot's internal-error text for it (temporary: the MTA tries it
        again), the others saved."""
        mnt = os.path.join(self.tmp, "tiny")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                           mnt]).returncode != 0:
            self.skipTest("can't mount tmpfs")
        try:
            os.mkdir(os.path.join(mnt, "full"))
            os.chown(os.path.join(mnt, "full"), UID, GID)
            with open(os.path.join(self.tmp, "passwd"), "a") as f:
                f.write("full@example.test:{PLAIN}pw:%d:%d::%s/full::\n" %
                        (UID, GID, mnt))
            c = smtplib.LMTP(self.sock)
            c.ehlo("x")
            c.mail("a@example.org")
            self.assertEqual(c.rcpt("full@example.test")[0], 250)
            self.assertEqual(c.rcpt("carol@example.test")[0], 250)
            code, text = c.data(b"Subject: big\r\n\r\n" +
                                (b"y" * 75 + b"\r\n") * 4000)
            self.assertEqual(code, 451)
            self.assertRegex(text.decode(), r"^4\.2\.0 <full@example\.test> "
                             r"Internal error occurred\. Refer to server log "
                             r"for more information\. \[\d{4}-\d\d-\d\d "
                             r"\d\d:\d\d:\d\d\]$")
            self.assertEqual(c.getreply()[0], 250)
            c.quit()
        finally:
            subprocess.run(["umount", mnt])

    def test_07_read_back_pop3(self):
        """What LMTP delivered, read over POP3 from the same server."""
        p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=20)
        p.user("alice@example.test")
        p.pass_("pw")
        count, _ = p.stat()
        self.assertGreaterEqual(count, 2)
        bodies = [b"\r\n".join(p.retr(i)[1]) for i in range(1, count + 1)]
        p.quit()
        self.assertTrue(any(b.endswith(b"Message-ID: <multi@example.org>\r\n"
                                       b"\r\nhello\r\n.dotted")
                            for b in bodies), bodies)

    def test_08_stdin_overrides(self):
        """roost lmtp on stdin, with lmtp_hdr_delivery_address = none and
        lmtp_add_received_header = no: only Return-Path is added."""
        out = subprocess.run(
            [ROOST, "lmtp", "-c", self.conf,
             "-o", "lmtp_hdr_delivery_address=none",
             "-o", "lmtp_add_received_header=no"],
            input=b"LHLO x\r\nMAIL FROM:<q@example.org>\r\n"
                  b"RCPT TO:<carol@example.test>\r\nDATA\r\n"
                  b"Subject: stdin\r\n\r\nbody\r\n.\r\nQUIT\r\n",
            stdout=subprocess.PIPE, timeout=60, check=True).stdout.decode()
        self.assertRegex(out, r"250 2\.0\.0 <carol@example\.test> \S+ Saved"
                         r"\r\n221 2\.0\.0 Bye\r\n$")
        self.assertEqual(message_with(self.home("carol"), b"Subject: stdin"),
                         b"Return-Path: <q@example.org>\n"
                         b"Subject: stdin\n\nbody\n")

    def test_08b_crash_between_save_and_reply(self):
        """The session dies after the message is saved and before its 250
        (ROOST_LMTP_TEST_CRASH_AFTER_SAVE): the MTA's retry gets 250
        without a second copy; a later identical message (its reply was
        sent) is delivered again."""
        session = (b"LHLO x\r\nMAIL FROM:<c@example.org>\r\n"
                   b"RCPT TO:<erin@example.test>\r\nDATA\r\n"
                   b"Subject: crash\r\nMessage-ID: <crash@example.org>\r\n"
                   b"\r\nbody\r\n.\r\nQUIT\r\n")
        home = self.home("erin")
        before = len(maildir_files(home))
        env = dict(os.environ, ROOST_LMTP_TEST_CRASH_AFTER_SAVE="1")
        out = subprocess.run([ROOST, "lmtp", "-c", self.conf], input=session,
                             stdout=subprocess.PIPE, env=env,
                             timeout=60).stdout.decode()
        self.assertTrue(out.endswith("354 OK\r\n"), out)
        self.assertEqual(len(maildir_files(home)), before + 1)
        out = subprocess.run([ROOST, "lmtp", "-c", self.conf], input=session,
                             stdout=subprocess.PIPE, timeout=60,
                             check=True).stdout.decode()
        self.assertRegex(out, r"250 2\.0\.0 <erin@example\.test> \S+ Saved"
                         r"\r\n221 2\.0\.0 Bye\r\n$")
        self.assertEqual(len(maildir_files(home)), before + 1)
        self.wait_log(r"lmtp\(erin@example\.test\)<\d+><\S+>: Info: "
                      r"msgid=<crash@example\.org>: already saved by an "
                      r"earlier unanswered attempt, not saved again")
        subprocess.run([ROOST, "lmtp", "-c", self.conf], input=session,
                       stdout=subprocess.PIPE, timeout=60, check=True)
        self.assertEqual(len(maildir_files(home)), before + 2)
        self.assertEqual(os.listdir(os.path.join(self.tmp, "run",
                                                 "lmtp-pending")), [])

    def test_09_starttls(self):
        """STARTTLS (ssl = yes): LHLO again inside TLS without it, a
        second STARTTLS refused, a delivery over TLS."""
        c = smtplib.LMTP(self.sock)
        self.assertIn(b"STARTTLS", c.ehlo("tls.example")[1])
        self.assertEqual(c.starttls(context=tls_context()),
                         (220, b"2.0.0 Begin TLS negotiation now."))
        self.assertEqual(c.ehlo("tls.example"),
                         (250, b"mx.example.test\n8BITMIME\nCHUNKING\n"
                          b"ENHANCEDSTATUSCODES\nPIPELINING"))
        self.assertEqual(c.docmd("STARTTLS"),
                         (502, b"5.5.1 TLS is already active."))
        self.assertEqual(c.sendmail("t@example.org", ["carol@example.test"],
                                    b"Subject: over tls\r\n\r\nx\r\n"), {})
        c.quit()
        message_with(self.home("carol"), b"Subject: over tls\n")


class LmtpSocketActivation(unittest.TestCase):
    """A unix socket passed by systemd with the fd name "lmtp" is the
    lmtp service's listener (the configured base_dir/lmtp isn't made)."""

    def test_named_unix_fd(self):
        activate = shutil.which("systemd-socket-activate")
        if os.geteuid() != 0 or activate is None:
            self.skipTest("needs root and systemd-socket-activate")
        tmp = tempfile.mkdtemp(prefix="roost-lmtpsd.")
        try:
            make_tree(tmp)
            conf = os.path.join(tmp, "dovecot.conf")
            with open(conf, "w") as f:
                f.write(conf_text(tmp, free_port(), free_port()).replace(
                    "protocols = lmtp pop3", "protocols = lmtp"))
            sock = os.path.join(tmp, "sd-lmtp")
            proc = subprocess.Popen([activate, "-l", sock, "--fdname=lmtp",
                                     os.path.join(BIN, "dovecot"), "-F",
                                     "-c", conf], stderr=subprocess.DEVNULL)
            try:
                wait_for(sock)
                c = smtplib.LMTP(sock)
                self.assertEqual(c.sendmail("s@example.org",
                                            ["alice@example.test"],
                                            b"Subject: sd\r\n\r\nx\r\n"), {})
                c.quit()
                self.assertEqual(len(maildir_files(
                    os.path.join(tmp, "home", "alice"))), 1)
                self.assertFalse(os.path.exists(os.path.join(tmp, "run",
                                                             "lmtp")))
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# ---- the differential run against Dovecot's lmtp ------------------------

DIFF_SESSIONS = [
    # several recipients, one unknown, dot-stuffing, one reply each
    [b"LHLO client.example\r\n", b"MAIL FROM:<s@example.org>\r\n",
     b"RCPT TO:<alice@example.test>\r\n", b"RCPT TO:<nobody@example.test>\r\n",
     b"RCPT TO:<bob@example.test>\r\n", b"DATA\r\n",
     b"Subject: diff\r\nMessage-ID: <d1@example.org>\r\n\r\nbody\r\n"
     b"..dot\r\n.\r\n", b"QUIT\r\n"],
    # the detail mailbox, BDAT chunks, a second transaction
    [b"LHLO c\r\n", b"MAIL FROM:<>\r\n", b"RCPT TO:<bob+work@example.test>\r\n",
     b"BDAT 10\r\nSubject: x", b"BDAT 0\r\n", b"BDAT 8 LAST\r\n\r\n\r\nbdat\n",
     b"MAIL FROM:<s@example.org>\r\n", b"RCPT TO:<carol+a+b@example.test>\r\n",
     b"RCPT TO:<carol@example.test>\r\n",
     b"DATA\r\n", b"Subject: two\r\n\r\nx\r\n.\r\n", b"QUIT\r\n"],
    # commands out of order and malformed
    [b"MAIL FROM:<a@b.c>\r\n", b"LHLO\r\n", b"LHLO c\r\n",
     b"RCPT TO:<alice@example.test>\r\n", b"DATA\r\n", b"HELO x\r\n",
     b"EHLO x\r\n", b"FOO bar\r\n", b"VRFY alice\r\n", b"VRFY\r\n",
     b"HELP\r\n", b"NOOP\r\n", b"NOOP x\r\n", b"RSET\r\n", b"RSET x\r\n",
     b"MAIL FROM:a@b.c\r\n", b"MAIL FROM:<a@b.c> SIZE=10\r\n",
     b"MAIL FROM:<a@b.c> BODY=8BITMIME FOO=1\r\n",
     b"MAIL FROM:<a@b.c> BODY=8BITMIME\r\n", b"MAIL FROM:<x@y.z>\r\n",
     b"RCPT TO:<>\r\n", b"RCPT TO:alice@example.test\r\n",
     b"RCPT TO:<alice@example.test> NOTIFY=NEVER\r\n",
     b"RCPT TO:<\"a b\"@example.test>\r\n", b"RCPT TO:<alice>\r\n",
     b"DATA x\r\n", b"DATA\r\n", b"BDAT\r\n", b"BDAT x\r\n",
     b"mail from:<a@b.c>\r\n", b"\r\n", b"NO\x00OP\r\n",
     b"STARTTLS x\r\n",
     b"NOOP " + b"x" * 5000 + b"\r\n", b"NOOP " + b"x" * 4096 + b"\r\n",
     b"NOOP " + b"x" * 4097 + b"\r\n", b"QUIT\r\n"],
    # everything pipelined in one write
    [b"LHLO p\r\nMAIL FROM:<p@example.org>\r\n"
     b"RCPT TO:<erin@example.test>\r\nRCPT TO:<nobody@example.test>\r\n"
     b"RCPT TO:<alice@example.test>\r\nDATA\r\nSubject: piped\r\n\r\n"
     b"x\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<erin@example.test>\r\n"
     b"BDAT 3 LAST\r\nabcNOOP\r\nQUIT\r\n"],
    # bare LF, bare CR, NUL; ".\n" ends the data
    [b"LHLO c\r\n", b"MAIL FROM:<a@b.c>\r\n",
     b"RCPT TO:<dave@example.test>\r\n", b"DATA\r\n",
     b"Subject: bare\r\n\r\nlf\nonly\rcr\x00nul\r\n.\n", b"QUIT\r\n"],
]

ID_RE = re.compile(r"[A-Za-z0-9+/]{22}")
DATE_RE = re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")


def normalise(text):
    return DATE_RE.sub("DATE", ID_RE.sub("SID", text))


def log_lines(path):
    res = []
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d (lmtp.*)", line)
            if m is None:
                continue
            text = re.sub(r"lmtp\(\d+\)", "lmtp(PID)", m.group(1))
            text = re.sub(r"<\d+><", "<PID><", text)
            res.append(normalise(text))
    return res


def mail_tree(home):
    res = {}
    for root, dirs, files in os.walk(home):
        for name in files:
            if os.path.basename(root) not in ("new", "cur"):
                continue
            box = os.path.relpath(os.path.dirname(root), home)
            with open(os.path.join(root, name), "rb") as f:
                res.setdefault(box, []).append(
                    normalise(f.read().decode("utf-8", "replace")))
    return {k: sorted(v) for k, v in res.items()}


class LmtpDiff(unittest.TestCase):
    """The same sessions against Debian's Dovecot and Roost."""
    maxDiff = None

    def start(self, argv0, extra=""):
        tmp = tempfile.mkdtemp(prefix="roost-lmtpdiff.")
        make_tree(tmp)
        conf = os.path.join(tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(conf_text(tmp, free_port(), free_port(), extra))
        proc = subprocess.Popen([argv0, "-F", "-c", conf],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.procs.append((proc, tmp))
        try:
            wait_for(os.path.join(tmp, "run", "lmtp"))
        except RuntimeError:
            with open(os.path.join(tmp, "log")) as f:
                raise RuntimeError("%s didn't start: %s" % (argv0, f.read()))
        return tmp

    def setUp(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        if not os.path.exists("/usr/lib/dovecot/lmtp"):
            self.fail("Dovecot's lmtp is not installed (make deps)")
        self.procs = []

    def tearDown(self):
        for proc, tmp in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)
            shutil.rmtree(tmp, ignore_errors=True)

    def test_same_sessions(self):
        dtmp = self.start("/usr/sbin/dovecot")
        rtmp = self.start(os.path.join(BIN, "dovecot"))
        for i, chunks in enumerate(DIFF_SESSIONS):
            d = run_session(os.path.join(dtmp, "run", "lmtp"), chunks)
            r = run_session(os.path.join(rtmp, "run", "lmtp"), chunks)
            self.assertEqual(normalise(d), normalise(r), "session %d" % i)
        time.sleep(0.5)
        for u in USERS:
            self.assertEqual(mail_tree(os.path.join(dtmp, "home", u)),
                             mail_tree(os.path.join(rtmp, "home", u)), u)
        self.assertEqual(log_lines(os.path.join(dtmp, "log")),
                         log_lines(os.path.join(rtmp, "log")))

    def test_over_quota(self):
        """The quota plugin (count backend, 1 KB): the first message fits,
        the second makes both recipients go over: 552 5.2.2 with
        quota_exceeded_message for each after DATA, the same stored mail
        and log lines as Dovecot's."""
        extra = """mail_plugins = quota
plugin {
  quota = count:User quota
  quota_rule = *:storage=1k
  quota_vsizes = yes
}
"""
        dtmp = self.start("/usr/sbin/dovecot", extra)
        rtmp = self.start(os.path.join(BIN, "dovecot"), extra)
        big = b"Subject: q\r\n\r\n" + b"z" * 700 + b"\r\n.\r\n"
        chunks = [b"LHLO c\r\n"]
        for _ in range(2):
            chunks += [b"MAIL FROM:<q@example.org>\r\n",
                       b"RCPT TO:<alice@example.test>\r\n",
                       b"RCPT TO:<bob@example.test>\r\n", b"DATA\r\n", big]
        chunks.append(b"QUIT\r\n")
        d = run_session(os.path.join(dtmp, "run", "lmtp"), chunks)
        r = run_session(os.path.join(rtmp, "run", "lmtp"), chunks)
        self.assertIn("552 5.2.2 <alice@example.test> Quota exceeded "
                      "(mailbox for user is full)", d)
        self.assertEqual(normalise(d), normalise(r))
        time.sleep(0.5)
        for u in ("alice", "bob"):
            self.assertEqual(mail_tree(os.path.join(dtmp, "home", u)),
                             mail_tree(os.path.join(rtmp, "home", u)), u)
        self.assertEqual(log_lines(os.path.join(dtmp, "log")),
                         log_lines(os.path.join(rtmp, "log")))

    def test_rcpt_check_quota(self):
        """lmtp_rcpt_check_quota = yes: a user already over quota (mail
        put into the Maildir by hand) is refused at RCPT with the quota's
        reply; the other recipient of the transaction is served, as
        Dovecot's lmtp does."""
        extra = """mail_plugins = quota
lmtp_rcpt_check_quota = yes
plugin {
  quota = count:User quota
  quota_rule = *:storage=1k
  quota_vsizes = yes
}
"""
        over = b"Subject: big\r\n\r\n" + b"x" * 2000 + b"\r\n"
        tmps = []
        for argv0 in ("/usr/sbin/dovecot", os.path.join(BIN, "dovecot")):
            tmp = self.start(argv0, extra)
            home = os.path.join(tmp, "home", "alice")
            for d in ("", "/Maildir", "/Maildir/new", "/Maildir/cur",
                      "/Maildir/tmp"):
                os.makedirs(home + d, exist_ok=True)
                os.chown(home + d, UID, GID)
            path = os.path.join(home, "Maildir", "new", "1.M1P1.test")
            with open(path, "wb") as f:
                f.write(over)
            os.chown(path, UID, GID)
            tmps.append(tmp)
        chunks = [b"LHLO c\r\n", b"MAIL FROM:<q@example.org>\r\n",
                  b"RCPT TO:<alice@example.test>\r\n",
                  b"RCPT TO:<bob@example.test>\r\n", b"DATA\r\n",
                  b"Subject: q\r\n\r\nsmall\r\n.\r\n", b"QUIT\r\n"]
        d = run_session(os.path.join(tmps[0], "run", "lmtp"), chunks)
        r = run_session(os.path.join(tmps[1], "run", "lmtp"), chunks)
        self.assertIn("552 5.2.2 <alice@example.test> Quota exceeded "
                      "(mailbox for user is full)\r\n250 2.1.5", d)
        self.assertEqual(normalise(d), normalise(r))

if __name__ == "__main__":
    unittest.main(verbosity=2)

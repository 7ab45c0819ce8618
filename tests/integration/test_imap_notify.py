#!/usr/bin/env python3
"""NOTIFY (RFC 5465) against the running server: `dovecot -F -c CONF`
(Roost's build/bin/dovecot, or with IMAP_TARGET=dovecot Debian's Dovecot
2.3.19, which proves the expectations: the same script, the same
transcripts after UIDVALIDITY and timings are cut) from a temp config,
over TCP, with a second session and dovecot-lda making the changes.

- CAPABILITY has NOTIFY; NOTIFY's syntax errors, [BADEVENT] for the
  events Dovecot 2.3 refuses, fetch-att errors, with Dovecot's texts.
- NOTIFY SET STATUS: the initial STATUS of the non-selected mailboxes;
  another session's APPEND, \\Seen, \\Deleted and EXPUNGE as untagged
  STATUS with the items Dovecot sends (HIGHESTMODSEQ with FlagChange);
  the selected mailbox's new mail as EXISTS/RECENT plus the MessageNew
  fetch-att FETCH, between commands; CREATE/RENAME/SUBSCRIBE/
  UNSUBSCRIBE/DELETE as LIST (OLDNAME, \\Subscribed, \\NonExistent).
- During IDLE: an LDA delivery to INBOX and an APPEND to the selected
  mailbox, reported at once.
- NOTIFY NONE: nothing more; "inboxes", "mailboxes" and "subtree"
  filters; SET STATUS's STATUS for every mailbox any filter names.
- Roost only: 150 watched mailboxes (beyond the 256 inotify paths a
  session may use, the rest polled), [NOTIFICATIONOVERFLOW] when one
  RENAME moves 250 mailboxes, fetch-att items Roost can't send with new
  mail refused.

Needs root (mail is owned by nobody). About 15 s."""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from serverlib import free_port, passwd_auth

TARGET = os.environ.get("IMAP_TARGET", "roost")
ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
if TARGET == "dovecot":
    MASTER = shutil.which("dovecot") or "/usr/sbin/dovecot"
    LDA = "/usr/lib/dovecot/dovecot-lda"
else:
    MASTER = os.path.join(BIN, "dovecot")
    LDA = os.path.join(BIN, "dovecot-lda")
UID = GID = 65534
USERS = ["syn", "st", "idle", "none", "many", "over", "att", "init", "sub", "del", "fs"]
TIMING = re.compile(r" \(\d+\.\d{3} \+ \d+\.\d{3}( \+ \d+\.\d{3})? secs\)\.$")
UIDVALIDITY = re.compile(r"UIDVALIDITY \d+")


def norm(line):
    return UIDVALIDITY.sub("UIDVALIDITY x", TIMING.sub("", line))


class Conn:
    """A small IMAP client: one command at a time, untagged lines kept;
    notifications read with wait()."""

    def __init__(self, port, user):
        self.sock = socket.create_connection(("127.0.0.1", port), 20)
        self.buf = b""
        self.n = 0
        self.line()
        ok = self.cmd("LOGIN %s secret" % user)
        assert ok[-1].startswith("OK"), ok

    def line(self, timeout=20):
        while b"\r\n" not in self.buf:
            r, _, _ = select.select([self.sock], [], [], timeout)
            if not r:
                return None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def cmd(self, text, literal=None):
        """-> untagged lines (normalised) + [tagged status and text]"""
        self.n += 1
        tag = "t%d" % self.n
        if literal is not None:
            self.sock.sendall(("%s %s {%d+}\r\n" % (tag, text, len(literal)))
                              .encode() + literal + b"\r\n")
        else:
            self.send("%s %s" % (tag, text))
        out = []
        while True:
            ln = self.line()
            if ln is None:
                raise TimeoutError("no reply to " + text)
            if ln.startswith(tag + " "):
                out.append(norm(ln[len(tag) + 1:]))
                return out
            out.append(norm(ln))

    def wait(self, count, timeout=6.0, quiet=0.4):
        """The untagged lines that arrive: at least count of them (or
        what came before timeout), plus any arriving within quiet after."""
        out = []
        end = time.time() + timeout
        while len(out) < count and time.time() < end:
            ln = self.line(max(0.0, end - time.time()))
            if ln is not None:
                out.append(norm(ln))
        while True:
            ln = self.line(quiet)
            if ln is None:
                return out
            out.append(norm(ln))

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (OSError, EOFError, TimeoutError):
            pass
        self.sock.close()


class Notify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        if not os.access(MASTER, os.X_OK):
            raise unittest.SkipTest("no %s" % MASTER)
        cls.tmp = tempfile.mkdtemp(prefix="roost-notify.")
        os.chmod(cls.tmp, 0o755)
        cls.port = free_port()
        with open(os.path.join(cls.tmp, "passwd"), "w") as f:
            for u in USERS:
                home = os.path.join(cls.tmp, "home", u)
                os.makedirs(home)
                extra = "userdb_mail=maildir:~/Maildir:LAYOUT=fs" \
                    if u == "fs" else ""
                f.write("%s:{PLAIN}secret:%d:%d::%s::%s\n"
                        % (u, UID, GID, home, extra))
        for root, dirs, files in os.walk(os.path.join(cls.tmp, "home")):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, UID, GID)
        os.makedirs(os.path.join(cls.tmp, "state"))
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        with open(cls.conf, "w") as f:
            f.write("""protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
state_dir = %(tmp)s/state
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
mailbox_idle_check_interval = 1 secs
%(auth)sservice imap-login {
  inet_listener imap {
    port = %(port)d
  }
}
""" % {"tmp": cls.tmp, "auth": passwd_auth(cls.tmp), "port": cls.port})
        cls.master = subprocess.Popen([MASTER, "-F", "-c", cls.conf],
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), 1).close()
                if os.path.exists(os.path.join(cls.tmp, "run", "auth-userdb")):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        cls.tearDownClass()
        raise RuntimeError("server did not start")

    @classmethod
    def tearDownClass(cls):
        m = getattr(cls, "master", None)
        if m is not None and m.poll() is None:
            m.send_signal(signal.SIGTERM)
            try:
                m.wait(20)
            except subprocess.TimeoutExpired:
                m.kill()
                m.wait()
        if hasattr(cls, "tmp") and not os.environ.get("KEEP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def conn(self, user):
        c = Conn(self.port, user)
        self.addCleanup(c.close)
        return c

    def lda(self, user, subject):
        msg = ("From: a@example.test\nTo: %s@example.test\nSubject: %s\n\n"
               "body\n" % (user, subject)).encode()
        r = subprocess.run([LDA, "-c", self.conf, "-d", user], input=msg,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def prepare(self, c, boxes):
        """Create boxes and look at each once (Dovecot's first look at a
        mailbox writes its indexes, which its NOTIFY reports)."""
        for b in boxes:
            # Roost adds OBJECTID's [MAILBOXID (...)] code (RFC 8474)
            self.assertRegex(c.cmd("CREATE " + b)[-1],
                             r"^OK (\[MAILBOXID \(F[0-9a-f]+\)\] )?"
                             r"Create completed$")
        for b in boxes + ["INBOX"]:
            self.assertEqual(c.cmd("EXAMINE " + b)[-1][:2], "OK")
        c.cmd("UNSELECT")
        time.sleep(1.2)

    # ------------------------------------------------------------ syntax

    def test_capability_and_syntax(self):
        c = self.conn("syn")
        caps = c.cmd("CAPABILITY")[0].split()
        self.assertIn("NOTIFY", caps)
        bad = "BAD Error in IMAP command NOTIFY: Invalid arguments"
        cases = [
            ("NOTIFY", bad),
            ("NOTIFY FOO", bad),
            ("NOTIFY NONE", "OK NOTIFY completed"),
            ("NOTIFY NONE foo", "OK NOTIFY completed"),
            ("NOTIFY SET", "OK NOTIFY completed"),
            ("NOTIFY SET STATUS", "OK NOTIFY completed"),
            ("NOTIFY SET foo", bad),
            ("NOTIFY SET ()", bad),
            ("NOTIFY SET (selected)", bad),
            ("NOTIFY SET (selected ())", bad),
            ("NOTIFY SET (selected MessageNew)", bad),
            ("NOTIFY SET (foo (MessageNew))", bad),
            ("NOTIFY SET (personal (FooBar))", bad),
            ("NOTIFY SET (inboxes)", bad),
            ("NOTIFY SET (inboxes (NONE))", bad),
            ("NOTIFY SET (inboxes NONE)", "OK NOTIFY completed"),
            ("NOTIFY SET (selected NONE)", "OK NOTIFY completed"),
            ("NOTIFY SET (mailboxes (MessageNew MessageExpunge))", bad),
            ("NOTIFY SET (mailboxes () (MessageNew MessageExpunge))", bad),
            ("NOTIFY SET (subtree (MessageNew MessageExpunge))", bad),
            ("NOTIFY SET (selected (MessageNew MessageExpunge))",
             "OK NOTIFY completed"),
            ("NOTIFY SET (selected (MessageNew MessageExpunge NONE))", bad),
            ("NOTIFY SET (selected (FlagChange))",
             "BAD Error in IMAP command NOTIFY: FlagChange requires "
             "MessageNew and MessageExpunge"),
            ("NOTIFY SET (selected (MessageExpunge))",
             "BAD Error in IMAP command NOTIFY: MessageNew and "
             "MessageExpunge must be together"),
            ("NOTIFY SET (selected (MessageNew MessageExpunge)) "
             "(selected-delayed (MessageNew MessageExpunge))",
             "BAD Error in IMAP command NOTIFY: Duplicate selected filter"),
            ("NOTIFY SET (selected (MessageNew (FOO) MessageExpunge))",
             "BAD Error in IMAP command NOTIFY: Invalid fetch-att list: "
             "Unknown parameter: FOO"),
            ("NOTIFY SET (selected (MessageNew (fast) MessageExpunge))",
             "BAD Error in IMAP command NOTIFY: Invalid fetch-att list: "
             "Unknown parameter: FAST"),
            ("NOTIFY SET (selected (MessageNew () MessageExpunge))", bad),
            ("NOTIFY SET (selected (MessageNew (UID) (FLAGS) "
             "MessageExpunge))", bad),
            ("NOTIFY SET (personal (MessageNew (UID) MessageExpunge))", bad),
            ("NOTIFY SET (personal (MessageExpunge))", "OK NOTIFY completed"),
            ("NOTIFY SET (personal (FlagChange))", "OK NOTIFY completed"),
            ("NOTIFY SET (personal (messagenew messageexpunge))",
             "OK NOTIFY completed"),
            ("NOTIFY SET (personal (AnnotationChange MessageNew "
             "MessageExpunge))",
             "NO [BADEVENT AnnotationChange] Unsupported NOTIFY events"),
            ("NOTIFY SET (personal (ServerMetadataChange AnnotationChange))",
             "NO [BADEVENT AnnotationChange ServerMetadataChange] "
             "Unsupported NOTIFY events"),
            ("NOTIFY SET (personal (AnnotationChange)) "
             "(inboxes (MailboxMetadataChange))",
             "NO [BADEVENT AnnotationChange MailboxMetadataChange] "
             "Unsupported NOTIFY events"),
            ("NOTIFY SET (personal (AnnotationChange)) (foo (MessageNew))",
             bad),
            ("NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) extra",
             bad),
            ("NOTIFY SET (mailboxes \"&Jjo\" (MessageNew MessageExpunge))",
             "OK NOTIFY completed"),
            ("NOTIFY SET (subtree (INBOX Foo) (MailboxName))",
             "OK NOTIFY completed"),
        ]
        got = [(text, c.cmd(text)[-1]) for text, _ in cases]
        self.assertEqual(got, cases)

    # ------------------------------------------------------------ STATUS

    def test_status_and_list(self):
        b = self.conn("st")
        self.prepare(b, ["Box", "Other"])
        a = self.conn("st")
        r = a.cmd("SELECT Other")
        self.assertEqual(r[-1], "OK [READ-WRITE] Select completed")
        r = a.cmd("NOTIFY SET STATUS (selected (MessageNew (UID FLAGS) "
                  "MessageExpunge FlagChange)) (personal (MessageNew "
                  "MessageExpunge FlagChange MailboxName SubscriptionChange))")
        # FlagChange turns CONDSTORE on; every other mailbox's STATUS
        self.assertEqual(r[0], "* OK [HIGHESTMODSEQ 1] Highest")
        self.assertEqual(sorted(r[1:-1]), [
            "* STATUS Box (MESSAGES 0 UIDNEXT 1 UIDVALIDITY x UNSEEN 0 "
            "HIGHESTMODSEQ 1)",
            "* STATUS INBOX (MESSAGES 0 UIDNEXT 1 UIDVALIDITY x UNSEEN 0 "
            "HIGHESTMODSEQ 1)"])
        self.assertEqual(r[-1], "OK NOTIFY completed")
        self.assertEqual(a.wait(0, quiet=1.0), [])

        b.cmd("APPEND Box", b"Subject: 1\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(1), [
            "* STATUS Box (MESSAGES 1 UIDNEXT 2 UNSEEN 1 HIGHESTMODSEQ 2)"])
        b.cmd("SELECT Box")
        b.cmd("STORE 1 +FLAGS (\\Seen)")
        self.assertEqual(a.wait(1), [
            "* STATUS Box (UNSEEN 0 HIGHESTMODSEQ 3)"])
        b.cmd("STORE 1 +FLAGS (\\Deleted)")
        self.assertEqual(a.wait(1), ["* STATUS Box (HIGHESTMODSEQ 4)"])
        b.cmd("EXPUNGE")
        self.assertEqual(a.wait(1), [
            "* STATUS Box (MESSAGES 0 UIDNEXT 2 UNSEEN 0 HIGHESTMODSEQ 5)"])
        # the selected mailbox: EXISTS, RECENT and the fetch-att FETCH,
        # with no command running
        b.cmd("APPEND Other", b"Subject: 2\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(3), ["* 1 EXISTS", "* 1 RECENT",
                                     "* 1 FETCH (UID 1 FLAGS (\\Recent))"])
        # the mailbox list
        b.cmd("CREATE New1")
        self.assertEqual(a.wait(1), ['* LIST () "." New1'])
        b.cmd("RENAME New1 New2")
        self.assertEqual(a.wait(1),
                         ['* LIST () "." New2 ("OLDNAME" (New1))'])
        b.cmd("SUBSCRIBE New2")
        self.assertEqual(a.wait(1), ['* LIST (\\Subscribed) "." New2'])
        b.cmd("UNSUBSCRIBE New2")
        self.assertEqual(a.wait(1), ['* LIST () "." New2'])
        b.cmd("DELETE New2")
        self.assertEqual(a.wait(1), ['* LIST (\\NonExistent) "." New2'])
        self.assertEqual(a.cmd("NOOP"), ["OK NOOP completed"])
        # another mailbox selected: watched from now on
        r = a.cmd("SELECT Box")
        self.assertEqual(r[-1], "OK [READ-WRITE] Select completed")
        b.cmd("APPEND Box", b"Subject: 3\r\n\r\nhello\r\n")
        # (B has Box selected: \\Recent is B's.) Dovecot 2.3.19 doesn't
        # watch a mailbox selected after NOTIFY SET: nothing until a
        # command; Roost reports it at once
        self.assertEqual(a.wait(2, timeout=3),
                         [] if TARGET == "dovecot" else
                         ["* 1 EXISTS", "* 1 FETCH (UID 2 FLAGS ())"])

    def test_idle(self):
        b = self.conn("idle")
        self.prepare(b, ["Box", "Other"])
        a = self.conn("idle")
        a.cmd("SELECT Other")
        r = a.cmd("NOTIFY SET (selected (MessageNew (UID) MessageExpunge)) "
                  "(inboxes (MessageNew MessageExpunge)) "
                  "(mailboxes Box (MessageNew MessageExpunge))")
        self.assertEqual(r, ["OK NOTIFY completed"])
        a.send("i1 IDLE")
        self.assertEqual(a.line(), "+ idling")
        start = time.time()
        self.lda("idle", "by lda")
        self.assertEqual(a.wait(1), [
            "* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UNSEEN 1)"])
        self.assertLess(time.time() - start, 3.0)
        b.cmd("APPEND Box", b"Subject: 1\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(1), [
            "* STATUS Box (MESSAGES 1 UIDNEXT 2 UNSEEN 1)"])
        b.cmd("APPEND Other", b"Subject: 2\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(3), ["* 1 EXISTS", "* 1 RECENT",
                                     "* 1 FETCH (UID 1)"])
        a.send("DONE")
        self.assertEqual(norm(a.line()), "i1 OK Idle completed")

    def test_none_and_filters(self):
        b = self.conn("none")
        self.prepare(b, ["Box", "Boxy"])
        a = self.conn("none")
        a.cmd("NOTIFY SET (mailboxes (Box NoSuch) (MessageNew "
              "MessageExpunge))")
        b.cmd("APPEND Boxy", b"Subject: 1\r\n\r\nhello\r\n")
        b.cmd("APPEND Box", b"Subject: 1\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(1), [
            "* STATUS Box (MESSAGES 1 UIDNEXT 2 UNSEEN 1)"])
        self.assertEqual(a.cmd("NOTIFY NONE"), ["OK NOTIFY completed"])
        b.cmd("APPEND Box", b"Subject: 1\r\n\r\nhello\r\n")
        self.lda("none", "by lda")
        b.cmd("CREATE Gone")
        self.assertEqual(a.wait(0, quiet=1.5), [])
        # without a selected filter, the selected mailbox's new mail
        # stays out of view (as Dovecot)
        a.cmd("SELECT Boxy")
        a.cmd("NOTIFY SET (personal (MessageNew MessageExpunge))")
        b.cmd("APPEND Boxy", b"Subject: 1\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(0, quiet=1.5), [])
        self.assertEqual(a.cmd("NOOP"), ["OK NOOP completed"])

    def test_initial_status_union(self):
        """As Dovecot: SET STATUS sends STATUS for every mailbox any
        filter names, with the items of all the filters' events."""
        b = self.conn("init")
        self.prepare(b, ["Box", "Other", "Third"])
        a = self.conn("init")
        r = a.cmd("NOTIFY SET STATUS (mailboxes Box (MessageNew "
                  "MessageExpunge)) (mailboxes Other (MailboxName))")
        self.assertEqual(sorted(r[:-1]), [
            "* STATUS Box (MESSAGES 0 UIDNEXT 1 UIDVALIDITY x UNSEEN 0)",
            "* STATUS Other (MESSAGES 0 UIDNEXT 1 UIDVALIDITY x UNSEEN 0)"])
        r = a.cmd("NOTIFY SET STATUS (mailboxes Box (MessageNew)) "
                  "(mailboxes Other (FlagChange))")
        self.assertEqual(sorted(r[:-1]), [
            "* STATUS Box (MESSAGES 0 UIDNEXT 1 UIDVALIDITY x UNSEEN 0 "
            "HIGHESTMODSEQ 1)",
            "* STATUS Other (MESSAGES 0 UIDNEXT 1 UIDVALIDITY x UNSEEN 0 "
            "HIGHESTMODSEQ 1)"])
        r = a.cmd("NOTIFY SET STATUS (mailboxes (Box Other) (MailboxName))")
        self.assertEqual(r, ["OK NOTIFY completed"])

    def test_subtree(self):
        b = self.conn("sub")
        self.prepare(b, ["Box", "Box.sub", "Boxy"])
        a = self.conn("sub")
        r = a.cmd("NOTIFY SET (subtree Box (MessageNew MessageExpunge))")
        self.assertEqual(r, ["OK NOTIFY completed"])
        b.cmd("APPEND Boxy", b"Subject: 1\r\n\r\nhello\r\n")
        b.cmd("APPEND Box.sub", b"Subject: 1\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(1), [
            "* STATUS Box.sub (MESSAGES 1 UIDNEXT 2 UNSEEN 1)"])
        b.cmd("APPEND Box", b"Subject: 1\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(1), [
            "* STATUS Box (MESSAGES 1 UIDNEXT 2 UNSEEN 1)"])

    def test_selected_delayed(self):
        """selected-delayed: EXISTS between commands, the EXPUNGE only
        with a command that allows it."""
        b = self.conn("del")
        self.prepare(b, ["D"])
        for i in range(3):
            b.cmd("APPEND D", b"Subject: %d\r\n\r\nhello\r\n" % i)
        a = self.conn("del")
        a.cmd("SELECT D")
        r = a.cmd("NOTIFY SET (selected-delayed (MessageNew MessageExpunge))")
        self.assertEqual(r, ["OK NOTIFY completed"])
        b.cmd("SELECT D")
        b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.cmd("EXPUNGE")
        # Roost sends the \Deleted flag change, Dovecot doesn't (without
        # FlagChange): left out
        got = [ln for ln in a.wait(0, quiet=1.5)
               if not ln.startswith("* 1 FETCH (FLAGS")]
        self.assertEqual(got, [])
        b.cmd("APPEND D", b"Subject: 4\r\n\r\nhello\r\n")
        self.assertEqual(a.wait(1), ["* 4 EXISTS"])
        self.assertEqual(a.cmd("FETCH 1 UID"),
                         ["* 1 FETCH (UID 1)", "OK Fetch completed"])
        self.assertEqual(a.cmd("NOOP"), ["* 1 EXPUNGE", "* 2 RECENT",
                                         "OK NOOP completed"])

    def test_fs_layout_nested(self):
        """LAYOUT=fs: a mailbox created two levels down, below the
        watched root (found by the mailbox_idle_check_interval check)."""
        b = self.conn("fs")
        self.prepare(b, ["Top"])
        sep = b.cmd('LIST "" Top')[0].split('"')[1]
        a = self.conn("fs")
        r = a.cmd("NOTIFY SET (personal (MailboxName))")
        self.assertEqual(r, ["OK NOTIFY completed"])
        b.cmd("CREATE Top%sKid" % sep)
        self.assertEqual(a.wait(1, timeout=5),
                         ['* LIST () "%s" Top%sKid' % (sep, sep)])

    # ------------------------------------------------------------ Roost

    def test_many_mailboxes(self):
        """150 mailboxes (300 inotify paths, over a session's 256): the
        last ones are polled every mailbox_idle_check_interval (1 s)."""
        b = self.conn("many")
        names = ["M%03d" % i for i in range(150)]
        for n in names:
            b.send("c%s CREATE %s" % (n, n))
        for n in names:
            while not norm(b.line()).startswith("c%s OK" % n):
                pass
        a = self.conn("many")
        r = a.cmd("NOTIFY SET (personal (MessageNew MessageExpunge))")
        self.assertEqual(r, ["OK NOTIFY completed"])
        time.sleep(0.5)
        for n in (names[0], names[-1]):
            b.cmd("APPEND " + n, b"Subject: 1\r\n\r\nhello\r\n")
            # Dovecot adds UIDVALIDITY for a mailbox nobody opened yet
            got = [ln.replace(" UIDVALIDITY x", "")
                   for ln in a.wait(1, timeout=5)]
            self.assertEqual(got, [
                "* STATUS %s (MESSAGES 1 UIDNEXT 2 UNSEEN 1)" % n])

    def test_overflow(self):
        if TARGET == "dovecot":
            self.skipTest("Roost's limit: 200 notifications at once")
        b = self.conn("over")
        b.cmd("CREATE Top")
        for i in range(250):
            b.send("c%d CREATE Top.C%03d" % (i, i))
        for i in range(250):
            while not norm(b.line()).startswith("c%d OK" % i):
                pass
        a = self.conn("over")
        a.cmd("NOTIFY SET (personal (MailboxName))")
        b.cmd("RENAME Top Moved")
        lines = a.wait(201, timeout=10)
        self.assertEqual(len(lines), 201, lines[-3:])
        self.assertTrue(all(ln.startswith('* LIST () "." Moved')
                            for ln in lines[:200]), lines[:3])
        self.assertEqual(lines[-1], "* OK [NOTIFICATIONOVERFLOW] "
                         "Too many mailbox changes")
        # as NOTIFY NONE afterwards
        b.cmd("CREATE After")
        self.assertEqual(a.wait(0, quiet=1.0), [])
        self.assertEqual(a.cmd("NOOP"), ["OK NOOP completed"])

    def test_fetch_att_refused(self):
        if TARGET == "dovecot":
            self.skipTest("Roost sends only some items with new mail")
        a = self.conn("att")
        r = a.cmd("NOTIFY SET (selected (MessageNew (UID BODY[]) "
                  "MessageExpunge))")
        self.assertEqual(r, [
            "NO [CANNOT] NOTIFY can't send BODY[] with new messages "
            "(UID FLAGS MODSEQ INTERNALDATE RFC822.SIZE can be)"])
        r = a.cmd("NOTIFY SET (selected (MessageNew (UID FLAGS MODSEQ "
                  "INTERNALDATE RFC822.SIZE) MessageExpunge))")
        self.assertEqual(r, ["OK NOTIFY completed"])


if __name__ == "__main__":
    unittest.main(verbosity=2)

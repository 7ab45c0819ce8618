#!/usr/bin/env python3
"""CONDSTORE and QRESYNC (RFC 7162) against the running server:
`dovecot -F -c CONF` (Roost's build/bin/dovecot, or with
IMAP_TARGET=dovecot Debian's Dovecot, which proves the expectations) from
a temp config, over TCP.

- The RFC's examples (3.1.2 to 3.1.11, 3.2.5, 3.2.6): HIGHESTMODSEQ at
  SELECT/EXAMINE, MODSEQ in FETCH, CHANGEDSINCE, STORE UNCHANGEDSINCE with
  [MODIFIED], SEARCH MODSEQ with its (MODSEQ n), ENABLE, the implicit
  enabling, and their errors.
- A scripted QRESYNC client: it keeps a copy of a mailbox (UIDs, flags,
  modseqs), another session changes flags, expunges and appends, the
  server is stopped and started again, and the client resynchronizes with
  one SELECT (QRESYNC (uidvalidity modseq known-uids)): VANISHED (EARLIER)
  must name exactly the expunged UIDs, the FETCHes exactly the changed
  messages, and the result must equal a full fetch; modseqs and the
  expunge history survive the restart.
- If Debian's interimap is installed, it syncs another user's mailbox
  (a preauth `roost imap -u` tunnel) with the server over QRESYNC.

Needs root (mail is owned by nobody)."""
import os
import re
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
MASTER = (shutil.which("dovecot") or "/usr/sbin/dovecot") \
    if TARGET == "dovecot" else os.path.join(BIN, "dovecot")
UID = GID = 65534
USERS = ["rfc", "sync", "errs", "inter", "interlocal"]
TIMING = re.compile(r" \(\d+\.\d{3} \+ \d+\.\d{3}( \+ \d+\.\d{3})? secs\)\.$")


class Conn:
    """A small IMAP client: one command at a time, untagged lines kept."""

    def __init__(self, port, user):
        self.sock = socket.create_connection(("127.0.0.1", port), 20)
        self.buf = b""
        self.n = 0
        self.line()
        ok = self.cmd("LOGIN %s secret" % user)
        assert ok[-1].startswith("OK"), ok

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            size = int(m.group(1))
            while len(self.buf) < size:
                self.buf += self.sock.recv(65536)
            line += b"\r\n" + self.buf[:size]
            self.buf = self.buf[size:]
            line += self.line().encode()
        return line.decode("utf-8", "replace")

    def cmd(self, text, literal=None):
        """-> untagged lines + [tagged status and text, timing cut]"""
        self.n += 1
        tag = "t%d" % self.n
        if literal is not None:
            self.sock.sendall(("%s %s {%d+}\r\n" % (tag, text, len(literal)))
                              .encode() + literal + b"\r\n")
        else:
            self.sock.sendall(("%s %s\r\n" % (tag, text)).encode())
        out = []
        while True:
            ln = self.line()
            if ln.startswith(tag + " "):
                out.append(TIMING.sub("", ln[len(tag) + 1:]))
                return out
            out.append(ln)

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (OSError, EOFError):
            pass
        self.sock.close()


def modseqs(lines):
    """{uid: modseq} of FETCH lines with UID and MODSEQ"""
    res = {}
    for ln in lines:
        m = re.match(r"\* \d+ FETCH \(.*UID (\d+).*MODSEQ \((\d+)\)", ln)
        if m:
            res[int(m.group(1))] = int(m.group(2))
    return res


def flags_of(lines):
    """{uid: frozenset of flags} of FETCH lines with UID and FLAGS"""
    res = {}
    for ln in lines:
        m = re.match(r"\* \d+ FETCH \(.*UID (\d+).*FLAGS \(([^)]*)\)", ln)
        if m:
            res[int(m.group(1))] = frozenset(
                f for f in m.group(2).split() if f != "\\Recent")
    return res


def uid_set(text):
    res = set()
    for part in text.split(","):
        a, _, b = part.partition(":")
        res.update(range(int(a), int(b or a) + 1))
    return res


class Condstore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        if not os.access(MASTER, os.X_OK):
            raise unittest.SkipTest("no %s" % MASTER)
        cls.tmp = tempfile.mkdtemp(prefix="roost-condstore.")
        os.chmod(cls.tmp, 0o755)
        cls.port = free_port()
        with open(os.path.join(cls.tmp, "passwd"), "w") as f:
            for u in USERS:
                home = os.path.join(cls.tmp, "home", u)
                os.makedirs(home)
                f.write("%s:{PLAIN}secret:%d:%d::%s::\n" % (u, UID, GID, home))
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
%(auth)sservice imap-login {
  inet_listener imap {
    port = %(port)d
  }
}
""" % {"tmp": cls.tmp, "auth": passwd_auth(cls.tmp), "port": cls.port})
        cls.master = None
        cls.start()

    @classmethod
    def start(cls):
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
        log = cls.log_text()
        cls.tearDownClass()
        raise RuntimeError("server did not start: " + log)

    @classmethod
    def stop(cls):
        if cls.master is not None and cls.master.poll() is None:
            cls.master.send_signal(signal.SIGTERM)
            try:
                cls.master.wait(20)
            except subprocess.TimeoutExpired:
                cls.master.kill()
                cls.master.wait()
        cls.master = None
        # the port is free again once the listener is gone
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), 0.2).close()
            except OSError:
                return
            time.sleep(0.1)

    @classmethod
    def log_text(cls):
        try:
            with open(os.path.join(cls.tmp, "log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @classmethod
    def tearDownClass(cls):
        cls.stop()
        if hasattr(cls, "tmp") and not os.environ.get("KEEP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def conn(self, user):
        c = Conn(self.port, user)
        self.addCleanup(c.close)
        return c

    def fill(self, c, box, count):
        # Roost adds [MAILBOXID (id)] (RFC 8474), Dovecot doesn't
        self.assertRegex(c.cmd("CREATE " + box)[-1],
                         r"^OK (\[MAILBOXID \([A-Za-z0-9_-]+\)\] )?"
                         r"Create completed$")
        for i in range(count):
            r = c.cmd("APPEND " + box, b"Subject: m%d\r\n\r\nbody %d\r\n"
                      % (i, i))
            self.assertTrue(r[-1].startswith("OK [APPENDUID"), r)

    # ------------------------------------------------------------ RFC 7162

    def test_rfc_examples(self):
        c = self.conn("rfc")
        self.fill(c, "Box", 10)
        # 3.1.8: CONDSTORE parameter to SELECT enables CONDSTORE
        r = c.cmd("SELECT Box (CONDSTORE)")
        self.assertIn("* OK [HIGHESTMODSEQ 11] Highest", r)
        self.assertEqual(r[-1], "OK [READ-WRITE] Select completed")
        # 3.1.4: MODSEQ fetch item. CONDSTORE was first used on the
        # mailbox just now: as in Dovecot, every message starts at the
        # highest modseq (10 appends: 1 + 10)
        r = c.cmd("FETCH 1:3 (MODSEQ)")
        self.assertEqual(r[:3], ["* 1 FETCH (MODSEQ (11))",
                                 "* 2 FETCH (MODSEQ (11))",
                                 "* 3 FETCH (MODSEQ (11))"])
        # 3.1.3 example 3: UNCHANGEDSINCE, all unchanged
        r = c.cmd("STORE 1:3 (UNCHANGEDSINCE 11) +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(r, ["* 1 FETCH (MODSEQ (12))",
                             "* 2 FETCH (MODSEQ (12))",
                             "* 3 FETCH (MODSEQ (12))",
                             "OK Store completed"])
        # 3.1.3 example 4: some changed since: [MODIFIED], the others done
        r = c.cmd("STORE 2:5 (UNCHANGEDSINCE 11) +FLAGS (\\Seen)")
        self.assertEqual(r, ["* 4 FETCH (MODSEQ (13) FLAGS (\\Seen \\Recent))",
                             "* 5 FETCH (MODSEQ (13) FLAGS (\\Seen \\Recent))",
                             "OK [MODIFIED 2:3] Conditional store failed"])
        r = c.cmd("UID STORE 1:10 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)")
        self.assertEqual(r, ["OK [MODIFIED 1:10] Conditional store failed"])
        # 3.1.5: CHANGEDSINCE (MODSEQ added to the items)
        r = c.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE 12)")
        self.assertEqual(r, ["* 4 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (13))",
                             "* 5 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (13))",
                             "OK Fetch completed"])
        r = c.cmd("UID FETCH 1:* (UID) (CHANGEDSINCE 11)")
        self.assertEqual(sorted(modseqs(r).items()),
                         [(1, 12), (2, 12), (3, 12), (4, 13), (5, 13)])
        # 3.1.6: SEARCH MODSEQ, with entry name and type too
        r = c.cmd("SEARCH MODSEQ 12")
        self.assertEqual(r, ["* SEARCH 1 2 3 4 5 (MODSEQ 13)",
                             "OK Search completed"])
        r = c.cmd('SEARCH MODSEQ "/flags/\\\\draft" all 13')
        self.assertEqual(r, ["* SEARCH 4 5 (MODSEQ 13)",
                             "OK Search completed"])
        r = c.cmd("UID SEARCH RETURN (ALL COUNT) MODSEQ 13")
        self.assertEqual(r[0], '* ESEARCH (TAG "t%d") UID ALL 4:5 COUNT 2 '
                         'MODSEQ 13' % c.n)
        self.assertEqual(c.cmd("SEARCH MODSEQ 14"),
                         ["* SEARCH", "OK Search completed"])
        # 3.1.2: STATUS HIGHESTMODSEQ
        r = c.cmd("STATUS Box (HIGHESTMODSEQ MESSAGES)")
        self.assertEqual(r[0], "* STATUS Box (MESSAGES 10 HIGHESTMODSEQ 13)")
        # 3.1.9: another session's change comes with its MODSEQ
        c2 = self.conn("rfc")
        c2.cmd("SELECT Box")
        self.assertEqual(c2.cmd("STORE 7 +FLAGS (\\Flagged)"),
                         ["* 7 FETCH (FLAGS (\\Flagged))",
                          "OK Store completed"])
        r = c.cmd("NOOP")
        self.assertIn("* 7 FETCH (MODSEQ (14) FLAGS (\\Flagged \\Recent))", r)
        # EXPUNGE with CONDSTORE: plain EXPUNGE responses
        r = c.cmd("EXPUNGE")
        self.assertEqual(r[:3], ["* 3 EXPUNGE", "* 2 EXPUNGE", "* 1 EXPUNGE"])
        self.assertEqual(r[-1], "OK Expunge completed")
        r = c.cmd("EXAMINE Box")
        self.assertIn("* OK [HIGHESTMODSEQ 15] Highest", r)

    def test_implicit_enable_and_errors(self):
        c = self.conn("errs")
        self.fill(c, "E", 3)
        # SELECT without CONDSTORE on a mailbox never used with it
        r = c.cmd("SELECT E")
        self.assertFalse([x for x in r if "HIGHESTMODSEQ" in x], r)
        # 3.1: a MODSEQ fetch enables CONDSTORE: HIGHESTMODSEQ first
        r = c.cmd("FETCH 1 (UID MODSEQ)")
        self.assertEqual(r, ["* OK [HIGHESTMODSEQ 4] Highest",
                             "* 1 FETCH (UID 1 MODSEQ (4))",
                             "OK Fetch completed"])
        # from now on SELECT shows it, also in a new session
        c2 = self.conn("errs")
        self.assertIn("* OK [HIGHESTMODSEQ 4] Highest", c2.cmd("EXAMINE E"))
        self.assertEqual(c.cmd("ENABLE CONDSTORE QRESYNC X-NONE"),
                         ["* ENABLED CONDSTORE QRESYNC", "OK Enabled"])
        bad = {
            "FETCH 1 (FLAGS) (CHANGEDSINCE x)": "Invalid CHANGEDSINCE modseq",
            "FETCH 1 (FLAGS) (CHANGEDSINCE)": "Invalid CHANGEDSINCE modseq",
            "FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)":
                "Unknown FETCH modifier",
            "UID FETCH 1 (FLAGS) (VANISHED)":
                "VANISHED used without CHANGEDSINCE",
            "FETCH 1 (FLAGS) (FOO 1)": "Unknown FETCH modifier",
            "STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)": "Invalid modseq",
            "STORE 1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)": "Invalid modseq",
            "STORE 1 (FOO 1) +FLAGS (\\Seen)": "Unknown STORE modifier",
            'SEARCH MODSEQ "/flags/\\\\seen" bogus 1': "Invalid MODSEQ type",
            "SEARCH MODSEQ x": "Invalid MODSEQ value",
        }
        for cmd, text in bad.items():
            name = " ".join(cmd.split()[:2]) if cmd.startswith("UID ") \
                else cmd.split()[0]
            self.assertEqual(c.cmd(cmd), ["BAD Error in IMAP command %s: %s"
                                          % (name, text)], cmd)
        for params, text in (
                ("(QRESYNC)", "QRESYNC parameters missing"),
                ("(QRESYNC ())", "Invalid QRESYNC parameters"),
                ("(QRESYNC (-1 1))", "Invalid QRESYNC parameters"),
                ("(QRESYNC (1 x))", "Invalid QRESYNC parameters"),
                ("(QRESYNC (1 1 x))", "Invalid QRESYNC known-uids"),
                ("(QRESYNC (1 1 1:3 (1:2)))", "Invalid QRESYNC known-uid-set"),
                ("(FOO)", "Unknown FETCH modifier")):
            r = c.cmd("SELECT E " + params)
            self.assertEqual(r[-1], "BAD Error in IMAP command SELECT: " + text,
                             params)
        # QRESYNC needs ENABLE first
        c3 = self.conn("errs")
        self.assertEqual(c3.cmd("SELECT E (QRESYNC (1 1))"),
                         ["BAD Error in IMAP command SELECT: QRESYNC not "
                          "enabled"])
        c3.cmd("SELECT E")
        # CHANGEDSINCE enabled CONDSTORE before VANISHED failed
        self.assertEqual(c3.cmd("UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 "
                                "VANISHED)"),
                         ["* OK [HIGHESTMODSEQ 4] Highest",
                          "BAD Error in IMAP command UID FETCH: QRESYNC not "
                          "enabled"])

    # ------------------------------------------------ a QRESYNC client

    def test_qresync_across_restart(self):
        c = self.conn("sync")
        self.fill(c, "S", 40)
        c.cmd("SELECT S")
        c.cmd("STORE 1:10 +FLAGS (\\Seen)")
        self.assertEqual(c.cmd("ENABLE QRESYNC")[-3:],
                         ["* OK [HIGHESTMODSEQ 42] Highest",
                          "* ENABLED QRESYNC", "OK Enabled"])
        r = c.cmd("SELECT S")
        uidvalidity = int(re.search(r"UIDVALIDITY (\d+)", " ".join(r)).group(1))
        highest = int(re.search(r"HIGHESTMODSEQ (\d+)", " ".join(r)).group(1))
        r = c.cmd("UID FETCH 1:* (FLAGS MODSEQ)")
        local = flags_of(r)
        local_modseq = modseqs(r)
        self.assertEqual(len(local), 40)
        self.assertEqual(max(local_modseq.values()), highest)
        c.close()

        # another client changes things: flags, keywords, expunges, new mail
        o = self.conn("sync")
        o.cmd("SELECT S")
        o.cmd("UID STORE 5,7 +FLAGS (\\Flagged)")
        o.cmd("UID STORE 12 +FLAGS ($Label1)")
        o.cmd("UID STORE 3 -FLAGS (\\Seen)")
        o.cmd("UID STORE 20:25,30 +FLAGS.SILENT (\\Deleted)")
        o.cmd("UID EXPUNGE 20:22,30")
        o.cmd("UID STORE 23:25 -FLAGS.SILENT (\\Deleted)")
        o.cmd("APPEND S (\\Seen)", b"Subject: new\r\n\r\nnew\r\n")
        o.cmd("UID STORE 41 +FLAGS (\\Answered)")
        o.cmd("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
        o.cmd("EXPUNGE")
        o.cmd("LOGOUT")
        expunged = {1, 20, 21, 22, 30}
        changed = {3, 5, 7, 12, 23, 24, 25, 41}

        type(self).stop()
        type(self).start()

        c = self.conn("sync")
        self.assertEqual(c.cmd("ENABLE QRESYNC")[-1], "OK Enabled")
        r = c.cmd("SELECT S (QRESYNC (%d %d 1:40))" % (uidvalidity, highest))
        self.assertEqual(r[-1], "OK [READ-WRITE] Select completed")
        new_highest = int(re.search(r"HIGHESTMODSEQ (\d+)",
                                    " ".join(r)).group(1))
        self.assertGreater(new_highest, highest)
        vanished = [x for x in r if x.startswith("* VANISHED")]
        self.assertEqual(len(vanished), 1, r)
        self.assertTrue(vanished[0].startswith("* VANISHED (EARLIER) "))
        self.assertEqual(uid_set(vanished[0].split()[-1]), expunged)
        fetched = flags_of(r)
        # known-uids 1:40: UID 41 is new (EXISTS tells), not in the FETCHes
        self.assertEqual(set(fetched), changed - {41})
        for uid, m in modseqs(r).items():
            self.assertGreater(m, highest)
            self.assertLessEqual(m, new_highest)
        for uid in expunged:
            local.pop(uid, None)
        local.update(fetched)
        r2 = c.cmd("UID FETCH 1:40 (FLAGS)")
        self.assertEqual(local, flags_of(r2))
        # the client is now in sync: nothing more since new_highest
        r3 = c.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)"
                   % new_highest)
        self.assertEqual(r3, ["OK Fetch completed"])
        # and from the old modseq again, by UID FETCH VANISHED
        r4 = c.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)"
                   % highest)
        self.assertEqual(uid_set(r4[0].split()[-1]), expunged)
        self.assertEqual(set(flags_of(r4)), changed)
        # a wrong UIDVALIDITY: no VANISHED, no FETCH
        r5 = c.cmd("SELECT S (QRESYNC (%d %d))" % (uidvalidity + 1, highest))
        self.assertFalse([x for x in r5 if "VANISHED" in x or "FETCH" in x])
        # expunges in this session come as VANISHED, and the tagged OK
        # tells the new HIGHESTMODSEQ
        c.cmd("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
        r6 = c.cmd("EXPUNGE")
        self.assertEqual(r6[0], "* VANISHED 2")
        self.assertTrue(r6[-1].startswith("OK [HIGHESTMODSEQ "), r6)

    # --------------------------------------------------------- interimap

    def test_interimap(self):
        tool = shutil.which("interimap")
        if tool is None:
            self.skipTest("interimap is not installed")
        c = self.conn("inter")
        for i in range(5):
            c.cmd("APPEND INBOX", b"Subject: ii %d\r\n\r\nx\r\n" % i)
        home = os.path.join(self.tmp, "interimap")
        os.makedirs(home, exist_ok=True)
        conf = os.path.join(home, "config")
        # the local side: another user's mailbox through a preauth
        # tunnel (Roost's `imap -u`; Dovecot's refuses a socket on stdin)
        local_cmd = "%s imap -c %s -u interlocal" % (
            os.path.abspath(ROOST), self.conf)
        with open(conf, "w") as f:
            f.write("""list-mailbox = INBOX
[local]
type = tunnel
command = %(local)s
null-stderr = YES

[remote]
type = imap
host = 127.0.0.1
port = %(port)d
STARTTLS = NO
username = inter
password = secret
""" % {"local": local_cmd, "port": self.port})
        env = dict(os.environ, XDG_CONFIG_HOME=home, XDG_DATA_HOME=home,
                   HOME=home, USER="root")
        run = [tool, "--config", conf]
        p = subprocess.run(run, env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        # a flag change and an expunge on the server, synced back
        c.cmd("SELECT INBOX")
        c.cmd("STORE 1 +FLAGS (\\Flagged)")
        c.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
        c.cmd("EXPUNGE")
        p = subprocess.run(run, env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        local = subprocess.run(
            [os.path.abspath(ROOST), "imap", "-c", self.conf, "-u",
             "interlocal"], input=b"a SELECT INBOX\r\n"
            b"b FETCH 1:* (FLAGS)\r\nc LOGOUT\r\n", capture_output=True,
            timeout=30).stdout.decode()
        self.assertIn("* 4 EXISTS", local)
        self.assertEqual(len(re.findall(r"FETCH \(FLAGS \([^)]*\\Flagged",
                                        local)), 1, local)
        # and back: a local change reaches the server
        subprocess.run([os.path.abspath(ROOST), "imap", "-c", self.conf,
                        "-u", "interlocal"], input=b"a SELECT INBOX\r\n"
                       b"b STORE 4 +FLAGS (\\Answered)\r\nc LOGOUT\r\n",
                       capture_output=True, timeout=30, check=True)
        p = subprocess.run(run, env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = c.cmd("FETCH 1:* (FLAGS)")
        # (Dovecot also sends the change as an untagged FETCH: one
        # message either way)
        self.assertEqual(len({x for x in r if "\\Answered" in x}), 1, r)


if __name__ == "__main__":
    unittest.main()

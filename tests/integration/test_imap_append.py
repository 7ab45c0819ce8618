#!/usr/bin/env python3
"""test_imap_append.py - APPEND (MULTIAPPEND, LITERAL+, literal8), STORE,
COPY and MOVE of Roost's IMAP session against Debian's Dovecot 2.3.

Each scripted session runs through `roost imap -c CONF -u USER` and,
when Dovecot is installed (or IMAP_DIFF=1), through Dovecot's
`/usr/lib/dovecot/imap` with the same config shape (a temporary master
gives it its userdb). The client is interactive: it sends one step and
reads up to its tagged reply (or the "+ OK" it waits for), so neither
server can run pipelined commands in a different order. The replies must
be byte-identical after normalising the timing "(0.001 + 0.000 secs)",
UIDVALIDITY values (numbered in order of appearance) and the PREAUTH
capability line; then Roost's doveadm dumps both Maildirs (uid, flags
without \\Recent, INTERNALDATE with "now" normalised, size, text), which
must be identical too, and so must the logout line's deleted/expunged/
trashed counters.

Without Dovecot only Roost's own checks run: a 30 MB APPEND streamed
with the server's peak RSS bounded, and clients that vanish in the middle
of a literal leaving nothing saved.

Run: ROOST=build/bin/roost python3 tests/integration/test_imap_append.py
Needs root (the mail user is nobody)."""
import codecs
import difflib
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import unittest

ROOST = os.environ.get("ROOST", "build/bin/roost")
DOVEADM = os.path.join(os.path.dirname(os.path.abspath(ROOST)), "doveadm")
DV_IMAP = "/usr/lib/dovecot/imap"
DV_MASTER = shutil.which("dovecot", path="/usr/sbin:/usr/bin:/sbin:/bin")
HAVE_DOVECOT = os.path.exists(DV_IMAP) and DV_MASTER is not None and \
    os.path.realpath(DV_MASTER) != os.path.realpath(ROOST)
DIFF = os.environ.get("IMAP_DIFF", "1" if HAVE_DOVECOT else "0") == "1"
UID = GID = 65534
# ASan keeps freed memory in quarantine: the RSS bound of the streaming
# test is about what the program holds, not what ASan holds back
if "quarantine_size_mb" not in os.environ.get("ASAN_OPTIONS", ""):
    os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                  ":quarantine_size_mb=1").lstrip(":")

CONF = """protocols = imap
base_dir = {d}/run
log_path = {d}/log
mail_location = maildir:{d}/home/%u/Maildir
ssl = no
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = .
  mailbox Trash {{
    special_use = \\Trash
  }}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
passdb {{
  driver = static
  args = nopassword
}}
"""

# Folders made on disk before a session (CREATE is another command's).
FOLDERS = ("Work", "Trash", "Archive")


def steps(text):
    """One step a line: DATA|UNTIL, DATA with \\r\\n escapes; UNTIL is the
    tag whose reply ends the step, or + for a continuation request."""
    res = []
    for line in text.strip("\n").split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        data, until = line.rsplit("|", 1)
        data = codecs.decode(data.encode("latin1"), "unicode_escape")
        res.append((data.encode("latin1"), until))
    return res


def tag_count(script):
    return len({until for _, until in script if until != "+"})


class Session:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.buf = b""
        self.lines = []
        greeting = self.readline(10)
        if greeting is None or not greeting.startswith(b"* PREAUTH"):
            raise AssertionError("no PREAUTH from %r: %r" % (argv, greeting))

    def readline(self, timeout):
        end = time.time() + timeout
        while b"\n" not in self.buf:
            left = end - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                return None
            data = os.read(self.p.stdout.fileno(), 65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def send(self, data):
        try:
            self.p.stdin.write(data)
            self.p.stdin.flush()
        except BrokenPipeError:
            pass

    def step(self, data, until, timeout=10):
        self.send(data)
        while True:
            line = self.readline(timeout)
            if line is None:
                self.lines.append("<no reply>")
                return
            s = line.decode("latin1").rstrip("\r\n")
            self.lines.append(s)
            if until == "+" and s.startswith("+"):
                return
            if s.startswith(until + " "):
                return

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        rest = self.p.stdout.read().decode("latin1")
        self.stderr = self.p.stderr.read().decode("latin1", "replace")
        self.p.wait(20)
        self.lines += [l for l in (self.buf.decode("latin1") + rest)
                       .split("\r\n") if l]
        return self.lines


def normalize(lines):
    res = []
    uidvalidity = {}

    def uv(m):
        v = uidvalidity.setdefault(m.group(2), "V%d" % (len(uidvalidity) + 1))
        return m.group(1) + v
    for s in lines:
        if re.match(r"\* OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Ok$", s):
            continue	# OBJECTID (RFC 8474): Roost's own
        s = re.sub(r"\[MAILBOXID \([A-Za-z0-9_-]+\)\] (Create completed)",
                   r"\1", s)
        s = re.sub(r"\(\d+\.\d+ \+ \d+\.\d+( \+ \d+\.\d+)? secs\)",
                   "(T secs)", s)
        s = re.sub(r"(\[(?:UIDVALIDITY|APPENDUID|COPYUID) )(\d+)", uv, s)
        res.append(s)
    return res


class Env:
    """One config + homes; Dovecot's master runs from it when dovecot."""

    def __init__(self, top, name, dovecot):
        self.dir = os.path.join(top, name)
        os.makedirs(os.path.join(self.dir, "home"))
        os.makedirs(os.path.join(self.dir, "run"))
        os.chown(os.path.join(self.dir, "home"), UID, GID)
        self.conf = os.path.join(self.dir, "conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(d=self.dir, uid=UID, gid=GID))
        self.dovecot = dovecot
        if dovecot:
            subprocess.run([DV_MASTER, "-c", self.conf], check=True)
            sock = os.path.join(self.dir, "run", "auth-userdb")
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            time.sleep(0.2)

    def stop(self):
        if self.dovecot:
            subprocess.run(["doveadm", "-c", self.conf, "stop"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

    def make_user(self, user):
        md = os.path.join(self.dir, "home", user, "Maildir")
        for sub in [""] + ["." + f for f in FOLDERS]:
            for d in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub, d))
            if sub:
                open(os.path.join(md, sub, "maildirfolder"), "w").close()
        for root, dirs, files in os.walk(os.path.join(self.dir, "home",
                                                      user)):
            os.chown(root, UID, GID)
            for f in files:
                os.chown(os.path.join(root, f), UID, GID)
        return md

    def argv(self, user):
        if self.dovecot:
            return [DV_IMAP, "-c", self.conf, "-u", user]
        return [ROOST, "imap", "-c", self.conf, "-u", user]

    def run(self, user, script):
        s = Session(self.argv(user))
        for data, until in script:
            s.step(data, until)
        lines = s.close()
        if not self.dovecot and ("Sanitizer" in s.stderr or
                                 "runtime error" in s.stderr):
            raise AssertionError(s.stderr)
        return lines, s.stderr

    def counters(self, user, stderr):
        """deleted/expunged/trashed of the user's last logout line"""
        text = stderr
        found = re.findall(r"imap\(%s\).*Disconnected.*(deleted=\d+ "
                           r"expunged=\d+ trashed=\d+)" % user, text)
        return found[-1] if found else None

    def dump(self, user):
        """Every message of every folder, as Roost's doveadm reads it."""
        p = subprocess.run([DOVEADM, "-c", self.conf, "fetch", "-u", user,
                            "mailbox uid flags date.received size.physical "
                            "size.virtual text", "all"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode("latin1")
        out = re.sub(r" ?\\Recent", "", out)
        out = re.sub(r"(?m)^flags: *$", "flags:", out)
        now = time.time()

        def date(m):
            t = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
            return "date.received: " + ("NOW" if abs(now - t) < 3600
                                        else m.group(1))
        out = re.sub(r"date\.received: (\S+ \S+)", date, out)
        # where the files are: new/ (recent deliveries) or cur/
        md = os.path.join(self.dir, "home", user, "Maildir")
        for folder in [""] + ["." + f for f in FOLDERS]:
            out += "\n%s: new=%d cur=%d" % (folder or "INBOX", len(
                os.listdir(os.path.join(md, folder, "new"))), len(
                os.listdir(os.path.join(md, folder, "cur"))))
        return out


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class ImapSaveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="roost-imap-append.")
        os.chmod(cls.tmp, 0o755)
        cls.roost = Env(cls.tmp, "roost", False)
        cls.dv = Env(cls.tmp, "dovecot", True) if DIFF else None
        cls.commands = 0
        cls.identical = 0

    @classmethod
    def tearDownClass(cls):
        if cls.dv is not None:
            cls.dv.stop()
            print("\n%d commands in differential scripts, %d scripts "
                  "identical" % (cls.commands, cls.identical))
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def differential(self, user, text):
        if self.dv is None:
            self.skipTest("Dovecot not installed (IMAP_DIFF=0)")
        script = steps(text) if isinstance(text, str) else text
        type(self).commands += tag_count(script)
        for env in (self.roost, self.dv):
            env.make_user(user)
        r_lines, r_err = self.roost.run(user, script)
        d_lines, d_err = self.dv.run(user, script)
        r, d = normalize(r_lines), normalize(d_lines)
        self.assertEqual(d, r, "\n" + "\n".join(difflib.unified_diff(
            d, r, "dovecot", "roost", lineterm="")))
        self.assertNotIn("<no reply>", r)
        self.assertEqual(self.dv.counters(user, d_err),
                         self.roost.counters(user, r_err))
        dd, rd = self.dv.dump(user), self.roost.dump(user)
        self.assertEqual(dd, rd, "\n" + "\n".join(difflib.unified_diff(
            dd.split("\n"), rd.split("\n"), "dovecot", "roost",
            lineterm="")))
        type(self).identical += 1
        return r

    # ---- APPEND ----

    def test_append_forms(self):
        self.differential("app", r"""
a1 APPEND INBOX {5}\r\n|+
hello\r\n|a1
a2 APPEND INBOX (\\Seen) {5+}\r\nworld\r\n|a2
a3 APPEND INBOX (\\Seen \\Flagged) "06-Nov-2023 10:00:00 +0100" {5}\r\n|+
hello\r\n|a3
a4 APPEND INBOX "01-Jan-2020 00:00:00 -0500" {8+}\r\nhi\r\n\r\nyo\r\n|a4
a5 APPEND INBOX ($Label1 custom \\Draft) {5+}\r\nhello\r\n|a5
a6 APPEND Work () {3+}\r\nabc\r\n|a6
a7 APPEND "Work" (\\Answered) ~{3+}\r\nabc\r\n|a7
a8 APPEND inbox (\\seen $label1) {6+}\r\nlower\n\r\n|a8
a9 APPEND INBOX "26-Nov-2035 00:00:00 +0000" {3+}\r\nabc\r\n|a9
a10 APPEND {5}\r\n|+
INBOX {3}\r\n|+
abc\r\n|a10
a11 APPEND {4+}\r\nWork (\\Seen) {3+}\r\nabc\r\n|a11
a12 APPEND INBOX (\\Seen) "06-Nov-2023 10:00:00 +0100" ~{3}\r\n|+
abc\r\n|a12
a13 APPEND Trash {39+}\r\nSubject: x\r\nFrom: a@b.example\r\n\r\nbody\r\n\r\n|a13
a14 APPEND INBOX {67+}\r\nSubject: x\rFrom: a@example.com\rContent-Type: text/plain\r\rbody\rmore\r\r\n|a14
a15 APPEND INBOX {8+}\r\nab\r\ncd\r\r\n|a15
a16 APPEND INBOX {7+}\r\nab\r\r\ncd\r\n|a16
a17 APPEND INBOX {9}\r\n|+
a\nb\r\nc\n\n\r\n|a17
a18 NOOP\r\n|a18
z LOGOUT\r\n|z
""")

    def test_append_corpus(self):
        """Real messages (CRLF, LF, bare CR, NULs, 8-bit) one by one and
        as one MULTIAPPEND: stored as Dovecot stores them."""
        corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "data", "mime")
        names = sorted(f for f in os.listdir(corpus) if f.endswith(".eml"))
        script, multi = [], b"m APPEND Work"
        for i, name in enumerate(names[:24]):
            with open(os.path.join(corpus, name), "rb") as f:
                data = f.read()
            if not data:
                continue	# the zero-length case is test_append_errors'
            tag = "t%d" % i
            script.append((("%s APPEND INBOX (\\Seen) {%d}\r\n" %
                            (tag, len(data))).encode(), "+"))
            script.append((data + b"\r\n", tag))
            multi += b" {%d+}\r\n" % len(data) + data
        script.append((multi + b"\r\n", "m"))
        script.append((b"z LOGOUT\r\n", "z"))
        self.differential("corpus", script)

    def test_multiappend(self):
        self.differential("multi", r"""
m1 APPEND INBOX {3+}\r\nabc (\\Seen) {3+}\r\ndef "05-Mar-2021 12:00:00 +0000" {3+}\r\nghi\r\n|m1
m2 APPEND INBOX (\\Seen) {3}\r\n|+
abc (\\Draft) {3}\r\n|+
def\r\n|m2
m3 APPEND INBOX {3}\r\n|+
abc(\\Draft kw1) {3}\r\n|+
def\r\n|m3
m4 APPEND Work {3+}\r\nabc {3+}\r\ndef {3+}\r\nghi {3+}\r\njkl\r\n|m4
m5 APPEND Work {3+}\r\nabc ($x) "01-Feb-2022 01:02:03 +0200" ~{3+}\r\ndef\r\n|m5
m6 APPEND INBOX {3+}\r\nabc (\\Bad) {3}\r\n|m6
m7 APPEND INBOX {3+}\r\nabc {0+}\r\n\r\n|m7
m8 APPEND INBOX {3+}\r\nabc {3}\r\n|+
def "bad date" {3}\r\n|m8
m9 APPEND INBOX {3+}\r\nabc {3+}\r\ndef extra\r\n|m9
m10 APPEND nosuch {3+}\r\nabc {3+}\r\ndef\r\n|m10
m11 APPEND INBOX {3+}\r\nabc {3+}\r\ndef\r\n|m11
z LOGOUT\r\n|z
""")

    def test_append_errors(self):
        self.differential("apperr", r"""
e1 APPEND\r\n|e1
e2 APPEND INBOX\r\n|e2
e3 APPEND INBOX (\\Seen)\r\n|e3
e4 APPEND INBOX (\\Seen) "06-Nov-2023 10:00:00 +0100"\r\n|e4
e5 APPEND INBOX {0}\r\n|e5
e6 APPEND INBOX {0+}\r\n\r\n|e6
e7 APPEND INBOX {0+}\r\n {3+}\r\nabc\r\n|e7
e8 APPEND nosuch {3}\r\n|e8
e9 APPEND nosuch {3+}\r\nabc\r\n|e9
e10 APPEND nosuch (\\Seen) {3+}\r\nabc\r\n|e10
e11 APPEND INBOX (\\Recent) {3}\r\n|e11
e12 APPEND INBOX (\\Foo) {3}\r\n|e12
e13 APPEND INBOX ("x") {3}\r\n|e13
e14 APPEND INBOX "bad date" {3}\r\n|e14
e15 APPEND INBOX "31-Feb-2023 10:00:00 +0100" {3+}\r\nabc\r\n|e15
e16 APPEND INBOX {3}\r\n|+
abc extra\r\n|e16
e17 APPEND INBOX (\\Foo) {7+}\r\nn1 NOOP\r\n|n1
e18 APPEND INBOX {3}\r\n|+
abc (\\Bogus) {3}\r\n|e18
e19 APPEND INBOX {3}\r\n|+
abc (\\Seen)\r\n|e19
e20 APPEND &Jjo-bad {3+}\r\nabc\r\n|e20
e21 APPEND INBOX (\\Seen \\Seen \\seen) {3+}\r\nabc\r\n|e21
e22 APPEND nosuch {0}\r\n|e22
e23 APPEND INBOX ({2}\r\nxy) {3}\r\n|e23
e25 APPEND INBOX (kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk) {3+}\r\nabc\r\n|e25
e26 APPEND INBOX (a]b \\Seen) {3+}\r\nabc\r\n|e26
e27 APPEND INBOX (a]b \\Bogus) {3}\r\n|e27
e28 APPEND INBOX {3+}\r\nabc (a]b) {3+}\r\ndef\r\n|e28
e29 APPEND ~/foo {3+}\r\nabc\r\n|e29
e30 APPEND "" {3+}\r\nabc\r\n|e30
e31 APPEND ..Work {3+}\r\nabc\r\n|e31
e32 APPEND Work.. {3+}\r\nabc\r\n|e32
e33 APPEND INBOX. {3}\r\n|e33
e34 APPEND . {3+}\r\nabc\r\n|e34
e24 APPEND INBOX (\\Seen ({1}\r\nx)) {3}\r\n|e24
z LOGOUT\r\n|z
""")

    def test_append_selected(self):
        self.differential("appsel", r"""
s0 APPEND INBOX {3+}\r\nold\r\n|s0
s1 SELECT INBOX\r\n|s1
s2 APPEND INBOX {3+}\r\nxyz\r\n|s2
s3 APPEND INBOX (\\Seen newkw) {3+}\r\nxyz {3+}\r\nxyz\r\n|s3
s4 APPEND Work {3+}\r\nxyz\r\n|s4
s5 APPEND INBOX {3+}\r\nxyz (\\Bad) {3}\r\n|s5
s6 NOOP\r\n|s6
s7 EXAMINE Work\r\n|s7
s8 APPEND Work (\\Flagged) {3+}\r\nxyz\r\n|s8
s9 APPEND INBOX {3+}\r\nxyz\r\n|s9
s10 NOOP\r\n|s10
z LOGOUT\r\n|z
""")

    # ---- STORE ----

    def test_store(self):
        self.differential("store", r"""
a1 APPEND INBOX {3+}\r\nabc {3+}\r\ndef {3+}\r\nghi (\\Seen) {3+}\r\njkl (\\Answered) {3+}\r\nmno\r\n|a1
b SELECT INBOX\r\n|b
c1 STORE 1 +FLAGS (\\Seen)\r\n|c1
c2 STORE 1 +FLAGS (\\Seen)\r\n|c2
c3 STORE 1:2 FLAGS \\Flagged\r\n|c3
c4 STORE 1:4 -FLAGS.SILENT (\\Flagged)\r\n|c4
c5 STORE 2 +FLAGS \\Answered \\Draft\r\n|c5
c6 STORE 3 +FLAGS ($Label1 custom)\r\n|c6
c7 STORE 3 -FLAGS (custom)\r\n|c7
c8 STORE 3 FLAGS (\\Recent)\r\n|c8
c9 STORE 3 FLAGS (\\Bogus)\r\n|c9
c10 STORE 3 FLAGS ("x")\r\n|c10
c11 STORE 6 FLAGS (\\Seen)\r\n|c11
c12 UID STORE 2:10 +FLAGS (\\Deleted)\r\n|c12
c13 UID STORE 100 +FLAGS (\\Deleted)\r\n|c13
c14 STORE 1 FOO (\\Seen)\r\n|c14
c15 STORE 1 +FLAGS.SILENT\r\n|c15
c16 STORE 1 +FLAGS ()\r\n|c16
c17 STORE 1 FLAGS ()\r\n|c17
c18 STORE * FLAGS (\\Seen $Label1)\r\n|c18
c19 STORE 1,3 +FLAGS.SILENT (new1)\r\n|c19
c20 STORE 1 +flags.silent (\\seen)\r\n|c20
c21 STORE 1 FLAGS.SILENT (\\Deleted \\Seen)\r\n|c21
c22 STORE 1 -FLAGS (\\Deleted \\Seen \\Answered nokw)\r\n|c22
c23 STORE 1 +FLAGS (\\Seen \\Seen)\r\n|c23
c24 STORE 0 +FLAGS (\\Seen)\r\n|c24
c25 STORE 1 +FLAGS (\\Seen\r\n|c25
c26 STORE\r\n|c26
c27 STORE 1\r\n|c27
c28 STORE 1 FLAGS\r\n|c28
c29 STORE *:4 +FLAGS (\\Flagged)\r\n|c29
c30 UID STORE 3:* -FLAGS (\\Flagged $Label1)\r\n|c30
c31 UID STORE 1,3,5 FLAGS.SILENT (\\Answered)\r\n|c31
c32 STORE 1:* +FLAGS \\Deleted\r\n|c32
c33 STORE 1 +FLAGS (kw2 KW2 kw2)\r\n|c33
c34 STORE 2 FLAGS.SILENT ()\r\n|c34
c35 STORE 1 +FLAGS.BOGUS (\\Seen)\r\n|c35
c36 STORE 1 () +FLAGS (\\Draft)\r\n|c36
c37 STORE 1 +FLAGS (\\Seen) extra\r\n|c37
c38 UID STORE x +FLAGS (\\Seen)\r\n|c38
c39 STORE 1 +FLAGS (kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk)\r\n|c39
c40 STORE 1 +FLAGS (jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj)\r\n|c40
c41 STORE 1 +FLAGS (a]b)\r\n|c41
c42 STORE 1 -FLAGS (kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk)\r\n|c42
c43 STORE 1 FLAGS (\\Seen a]b \\Bogus)\r\n|c43
d EXAMINE INBOX\r\n|d
d1 STORE 1 +FLAGS (\\Seen)\r\n|d1
d2 STORE 1 +FLAGS (\\Recent)\r\n|d2
d3 STORE 1 +FLAGS.SILENT (\\Seen)\r\n|d3
e SELECT INBOX\r\n|e
e1 STORE 1:* -FLAGS (\\Deleted)\r\n|e1
e2 STORE 2:3 +FLAGS (\\Deleted)\r\n|e2
z LOGOUT\r\n|z
""")

    # ---- COPY / MOVE ----

    def test_copy_move(self):
        self.differential("copy", r"""
a1 APPEND INBOX {3+}\r\nabc {3+}\r\ndef {3+}\r\nghi (\\Seen) "06-Nov-2023 10:00:00 +0100" {3+}\r\njkl (\\Deleted $Kw) {3+}\r\nmno\r\n|a1
b SELECT INBOX\r\n|b
c1 COPY 1 Work\r\n|c1
c2 COPY 2:4 Work\r\n|c2
c3 COPY 1,3,5 Work\r\n|c3
c4 UID COPY 2,4:5 Work\r\n|c4
c5 UID COPY 100:200 Work\r\n|c5
c6 COPY 1 nosuch\r\n|c6
c7 COPY 1 INBOX\r\n|c7
c8 COPY 9 Work\r\n|c8
c9 COPY 1\r\n|c9
c10 COPY 1 "Work"\r\n|c10
c11 COPY x Work\r\n|c11
c12 UID COPY * Work\r\n|c12
c13 COPY 1:* Work\r\n|c13
c14 COPY 1 &Jjo-bad\r\n|c14
c15 COPY\r\n|c15
c16 COPY 1 (Work)\r\n|c16
c17 COPY 1 Work extra\r\n|c17
c18 COPY 5,1,3 Trash\r\n|c18
c19 COPY 1 {4}\r\n|+
Work\r\n|c19
c20 COPY 1 inbox\r\n|c20
m1 MOVE 2 Work\r\n|m1
m2 MOVE 1:2 Work\r\n|m2
m3 UID MOVE 5:6 Work\r\n|m3
m4 UID MOVE 100 Work\r\n|m4
m4b UID MOVE 100 nosuch\r\n|m4b
m4c UID COPY 100:200 &Jjo-\r\n|m4c
m4d COPY $ nosuch\r\n|m4d
m5 MOVE 1 nosuch\r\n|m5
m6 MOVE 1 INBOX\r\n|m6
m7 MOVE 9 Work\r\n|m7
m8 MOVE\r\n|m8
m9 MOVE 1 Trash\r\n|m9
n1 NOOP\r\n|n1
e EXAMINE Work\r\n|e
c21 COPY 1:3 Archive\r\n|c21
c22 COPY 2 INBOX\r\n|c22
c23 COPY 1 Work\r\n|c23
m11 MOVE 1:2 INBOX\r\n|m11
m12 UID MOVE 1:3 Archive\r\n|m12
s SELECT Archive\r\n|s
m10 MOVE 1:* Work\r\n|m10
s2 SELECT Trash\r\n|s2
z LOGOUT\r\n|z
""")

    def test_move_order(self):
        self.differential("moveord", r"""
a1 APPEND INBOX {1+}\r\n1 {1+}\r\n2 {1+}\r\n3 {1+}\r\n4 {1+}\r\n5 {1+}\r\n6 {1+}\r\n7\r\n|a1
b SELECT INBOX\r\n|b
m1 MOVE 1,3,5 Work\r\n|m1
m2 UID MOVE 2,7 Archive\r\n|m2
s1 STORE 1 +FLAGS (\\Deleted)\r\n|s1
m3 MOVE 2 Work\r\n|m3
n NOOP\r\n|n
s2 SELECT Work\r\n|s2
m4 MOVE 1:* INBOX\r\n|m4
z LOGOUT\r\n|z
""")

    # ---- Roost only: streaming and disconnects ----

    def rss_kb(self, pid, field="VmHWM"):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def test_append_30mb_streams(self):
        user = "big"
        md = self.roost.make_user(user)
        size = 30 * 1024 * 1024
        s = Session(self.roost.argv(user))
        base = self.rss_kb(s.p.pid, "VmRSS")
        s.step(b"a1 APPEND INBOX {%d}\r\n" % size, "+")
        self.assertEqual(s.lines[-1], "+ OK")
        line = b"X" * 76 + b"\r\n"
        chunk = b"Subject: big\r\n\r\n" + line * (65536 // len(line))
        sent = crlfs = 0
        while sent < size:
            piece = chunk[:min(len(chunk), size - sent)]
            s.send(piece)
            sent += len(piece)
            crlfs += piece.count(b"\r\n")
        s.step(b"\r\n", "a1")
        self.assertTrue(s.lines[-1].startswith("a1 OK [APPENDUID "),
                        s.lines[-1])
        peak = self.rss_kb(s.p.pid)
        s.step(b"z LOGOUT\r\n", "z")
        s.close()
        # the message never sits in memory: far below its 30 MB
        print("\n30 MB APPEND: RSS %d kB at start, peak %d kB" % (base, peak))
        self.assertLess(peak - base, 12 * 1024,
                        "peak RSS %d kB, at start %d kB" % (peak, base))
        files = [os.path.join(md, d, f) for d in ("cur", "new")
                 for f in os.listdir(os.path.join(md, d))]
        self.assertEqual(len(files), 1)
        # stored with LF line ends (mail_save_crlf = no), W= the CRLF size
        m = re.search(r",S=(\d+),W=(\d+)", files[0])
        self.assertEqual(int(m.group(2)), size)
        self.assertEqual(os.path.getsize(files[0]), int(m.group(1)))
        self.assertEqual(int(m.group(1)), size - crlfs)

    def assert_nothing_saved(self, md, what):
        for folder in ("", ".Work"):
            for d in ("cur", "new", "tmp"):
                left = os.listdir(os.path.join(md, folder, d))
                self.assertEqual(left, [], "%s: %s/%s" % (what, folder, d))

    def vanish(self, user, data):
        md = self.roost.make_user(user)
        s = Session(self.roost.argv(user))
        s.send(data)
        time.sleep(0.3)
        s.close()
        self.assertNotIn("Sanitizer", s.stderr)
        return md, s

    def test_disconnect_mid_literal(self):
        cases = [
            ("cut1", b"a APPEND INBOX {100+}\r\nabc"),
            ("cut2", b"a APPEND INBOX {3+}\r\nabc {5+}\r\nab"),
            ("cut3", b"a APPEND Work {3+}\r\nabc (\\Seen"),
            ("cut4", b"a APPEND INBOX {3+}\r\nabc {3+}\r\ndef"),
            ("cut5", b"a APPEND INBOX {2000000+}\r\n" + b"x" * 1500000),
        ]
        for user, data in cases:
            md, s = self.vanish(user, data)
            self.assertEqual(s.p.returncode, 0, s.stderr)
            self.assert_nothing_saved(md, user)
            self.assertNotIn("a OK", "\n".join(s.lines))
            self.assertIn("Disconnected", s.stderr)
        # Dovecot's log line says where it stopped
        if self.dv is not None:
            for user, data in cases[:4]:
                self.dv.make_user(user + "d")
                d = Session(self.dv.argv(user + "d"))
                d.send(data)
                time.sleep(0.3)
                d.close()
                r = Session(self.roost.argv(user + "r"))
                r.send(data)
                time.sleep(0.3)
                r.close()
                want = re.search(r"Disconnected: [^)]*\)", d.stderr)
                got = re.search(r"Disconnected: [^)]*\)", r.stderr)
                self.assertIsNotNone(want, d.stderr)
                self.assertIsNotNone(got, r.stderr)
                secs = re.compile(r"\d+ secs")
                self.assertEqual(secs.sub("N secs", want.group(0)),
                                 secs.sub("N secs", got.group(0)))
        # the user's next session sees no mail either
        s = Session(self.roost.argv("cut4"))
        s.step(b"b SELECT INBOX\r\n", "b")
        s.step(b"z LOGOUT\r\n", "z")
        self.assertIn("* 0 EXISTS", s.close())

    def test_sync_literal_refused_no_continuation(self):
        """A refused APPEND never asks for its literal; the next line is
        a command again."""
        md = self.roost.make_user("refuse")
        s = Session(self.roost.argv("refuse"))
        s.step(b"a APPEND nosuch {5}\r\n", "a")
        s.step(b"b APPEND INBOX (\\Bad) {5}\r\n", "b")
        s.step(b"c APPEND INBOX {0}\r\n", "c")
        s.step(b"d NOOP\r\n", "d")
        s.step(b"z LOGOUT\r\n", "z")
        lines = s.close()
        self.assertNotIn("+ OK", lines)
        self.assertTrue(any(l.startswith("d OK NOOP") for l in lines), lines)
        self.assert_nothing_saved(md, "refuse")


if __name__ == "__main__":
    unittest.main(verbosity=2)

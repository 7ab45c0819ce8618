#!/usr/bin/env python3
"""test_imap_ext.py - IMAP extensions of issue 7 checked against their
RFCs through `roost imap -c CONF -u USER` (Roost only: the byte-for-byte
comparison with Dovecot is tests/compat/imap-diff.py's "search-context"
and later scenarios). Here: what Dovecot lacks or gets wrong, and the RFC
examples:

- CONTEXT=SEARCH (RFC 5267): ADDTO for a message APPENDed with a keyword
  the search looks for (Dovecot 2.3.19 dies there), for mail delivered by
  another process, REMOVEFROM before the EXPUNGE lines, CANCELUPDATE, UID
  updates, updates dropped when another mailbox is selected.
- ESORT PARTIAL in sort order.

Run: ROOST=build/bin/roost python3 tests/integration/test_imap_ext.py
Needs root (the mail user is nobody)."""
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import unittest

ROOST = os.environ.get("ROOST", "build/bin/roost")
DV_IMAP = "/usr/lib/dovecot/imap"
DV_MASTER = shutil.which("dovecot", path="/usr/sbin:/usr/bin:/sbin:/bin")
HAVE_DOVECOT = os.path.exists(DV_IMAP) and DV_MASTER is not None and \
    os.path.realpath(DV_MASTER) != os.path.realpath(ROOST)
UID = GID = 65534

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
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
passdb {{
  driver = static
  args = nopassword
}}
"""


def msg(subject, body="hello\r\n", extra=""):
    return ("From: a@example.com\r\nTo: b@example.com\r\nSubject: %s\r\n"
            "Date: Mon, 6 Nov 2023 10:00:00 +0000\r\n%s\r\n%s"
            % (subject, extra, body)).encode()


class Session:
    def __init__(self, conf, user="u"):
        self.p = subprocess.Popen([ROOST, "imap", "-c", conf, "-u", user],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.buf = b""
        self.n = 0
        g = self.readline(10)
        if g is None or not g.startswith(b"* PREAUTH"):
            raise AssertionError("no PREAUTH: %r" % g)
        self.greeting = g.decode("latin1")

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
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def cmd(self, text, literal=None, tag=None):
        """Send one command; literal (bytes) goes after it as {n+}.
        Returns (untagged lines, tagged line) as str."""
        self.n += 1
        tag = tag or "t%d" % self.n
        data = ("%s %s" % (tag, text)).encode("utf-8")
        if literal is not None:
            data = data.rstrip(b" ") + b" {%d+}\r\n" % len(literal) + literal
        self.send(data + b"\r\n")
        lines = []
        while True:
            line = self.readline(10)
            if line is None:
                raise AssertionError("no reply to %r: %r" % (text, lines))
            s = line.decode("utf-8", "replace").rstrip("\r\n")
            if s.startswith(tag + " "):
                return lines, re.sub(r" \(\d+\.\d+ \+ [^)]*secs\)", "", s)
            lines.append(s)

    def ok(self, text, literal=None, tag=None):
        lines, tagged = self.cmd(text, literal, tag)
        if " OK " not in tagged:
            raise AssertionError("%s -> %s %r" % (text, tagged, lines))
        return lines

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.stdout.read()
        err = self.p.stderr.read().decode("latin1", "replace")
        self.p.wait(20)
        self.p.stdout.close()
        self.p.stderr.close()
        if "Sanitizer" in err or "runtime error" in err:
            raise AssertionError(err)


class ExtTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roost-imapext.")
        os.chmod(self.dir, 0o755)
        for d in ("run", "home"):
            os.makedirs(os.path.join(self.dir, d))
        os.chown(os.path.join(self.dir, "home"), UID, GID)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(d=self.dir, uid=UID, gid=GID))
        self.sessions = []

    def tearDown(self):
        for s in self.sessions:
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def session(self):
        s = Session(self.conf)
        self.sessions.append(s)
        return s

    def fill(self, s, n):
        for i in range(n):
            s.ok("APPEND INBOX", msg("m%d" % (i + 1)))

    # ---- CONTEXT=SEARCH / ESORT ----

    def test_update_append_keyword(self):
        s = self.session()
        self.fill(s, 3)
        s.ok("SELECT INBOX")
        self.assertEqual(s.ok("SEARCH RETURN (UPDATE) KEYWORD foo",
                              tag="K1")[0], '* ESEARCH (TAG "K1")')
        lines = s.ok("APPEND INBOX (foo) ", msg("kw"))
        self.assertIn('* ESEARCH (TAG "K1") ADDTO (0 4)', lines)
        lines = s.ok("APPEND INBOX ", msg("plain"))
        self.assertFalse([l for l in lines if "ESEARCH" in l], lines)
        lines = s.ok("STORE 1 +FLAGS (foo)")
        self.assertEqual(lines[-1], '* ESEARCH (TAG "K1") ADDTO (0 1)')
        lines = s.ok("STORE 4 -FLAGS (foo)")
        self.assertEqual(lines[-1], '* ESEARCH (TAG "K1") REMOVEFROM (0 4)')

    def test_update_other_process_and_expunge(self):
        a = self.session()
        self.fill(a, 5)
        a.ok("SELECT INBOX")
        a.ok("UID SEARCH RETURN (UPDATE ALL) UNSEEN", tag="U1")
        a.ok("SEARCH RETURN (UPDATE COUNT) ALL", tag="S1")
        b = self.session()
        b.ok("SELECT INBOX")
        b.ok("APPEND INBOX", msg("new"))
        b.ok("STORE 2 +FLAGS (\\Deleted)")
        b.ok("EXPUNGE")
        lines = a.ok("NOOP")
        # expunge REMOVEFROMs (old numbering) before the EXPUNGE line
        self.assertEqual(lines[0], '* ESEARCH (TAG "U1") UID REMOVEFROM (0 2)')
        self.assertEqual(lines[1], '* ESEARCH (TAG "S1") REMOVEFROM (0 2)')
        self.assertLess(lines.index('* ESEARCH (TAG "S1") REMOVEFROM (0 2)'),
                        lines.index("* 2 EXPUNGE"))
        self.assertIn('* ESEARCH (TAG "U1") UID ADDTO (0 6)', lines)
        self.assertIn('* ESEARCH (TAG "S1") ADDTO (0 5)', lines)
        a.ok('CANCELUPDATE "U1"')
        b.ok("STORE 1 +FLAGS (\\Seen)")
        lines = a.ok("NOOP")
        self.assertFalse([l for l in lines if "ESEARCH" in l], lines)
        _, tagged = a.cmd('CANCELUPDATE "U1"')
        self.assertTrue(tagged.endswith("NO Unknown tag."), tagged)
        _, tagged = a.cmd("CANCELUPDATE U1")
        self.assertIn(" BAD ", tagged)
        # a new SELECT forgets the updates
        a.ok("SELECT INBOX")
        _, tagged = a.cmd('CANCELUPDATE "S1"')
        self.assertTrue(tagged.endswith("NO Unknown tag."), tagged)

    def test_esort_partial(self):
        s = self.session()
        for subj in ("d", "b", "e", "a", "c"):
            s.ok("APPEND INBOX", msg(subj))
        s.ok("EXAMINE INBOX")
        lines = s.ok("SORT RETURN (PARTIAL 2:3 MIN MAX COUNT) (SUBJECT) "
                     "UTF-8 ALL", tag="P1")
        # sorted: a(4) b(2) c(5) d(1) e(3)
        self.assertEqual(lines, ['* ESEARCH (TAG "P1") MIN 4 MAX 3 '
                                 'PARTIAL (2:3 2,5) COUNT 5'])
        lines = s.ok("SORT RETURN (ALL) (REVERSE SUBJECT) UTF-8 ALL", tag="P2")
        self.assertEqual(lines, ['* ESEARCH (TAG "P2") ALL 3,1,5,2,4'])
        lines = s.ok("UID SEARCH RETURN (PARTIAL 4:9) ALL", tag="P3")
        self.assertEqual(lines, ['* ESEARCH (TAG "P3") UID PARTIAL (4:9 4:5)'])
        _, tagged = s.cmd("SEARCH RETURN (PARTIAL 0:1) ALL")
        self.assertIn("BAD Error in IMAP command SEARCH: PARTIAL range "
                      "broken", tagged)

    # ---- PREVIEW / SNIPPET=FUZZY (RFC 8970) ----

    def test_preview(self):
        s = self.session()
        s.ok("APPEND INBOX", msg("p", "> quoted\r\n\r\nHello   there,\r\n"
                                 "\tworld\r\n"))
        s.ok("APPEND INBOX", msg("h", "<p>caf&eacute; &amp; <b>tea</b></p>",
                                 "Content-Type: text/html\r\n"))
        s.ok("APPEND INBOX", msg("x", "x" * 300))
        s.ok("EXAMINE INBOX")
        self.assertEqual(s.ok("FETCH 1:2 (PREVIEW)"),
                         ['* 1 FETCH (PREVIEW "Hello there, world")',
                          '* 2 FETCH (PREVIEW {11}', 'café & tea)'])
        # Dovecot 2.3.19 dies on these modifier lists
        self.assertEqual(s.ok("FETCH 1 (SNIPPET (FUZZY LAZY))"),
                         ['* 1 FETCH (SNIPPET (FUZZY "Hello there, world"))'])
        self.assertEqual(s.ok("FETCH 1 (PREVIEW (LAZY LAZY))"),
                         ['* 1 FETCH (PREVIEW "Hello there, world")'])
        self.assertEqual(s.ok("FETCH 3 (PREVIEW)"),
                         ['* 3 FETCH (PREVIEW "%s")' % ("x" * 200)])

    # ---- CATENATE (RFC 4469) ----

    def test_catenate_rfc_example(self):
        s = self.session()
        s.ok("CREATE Drafts")
        draft = ("Subject: draft\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                 "--b\r\nContent-Type: text/plain\r\n\r\nbody one\r\n"
                 "--b--\r\n").encode()
        s.ok("APPEND Drafts", draft)
        lines = s.ok("SELECT Drafts")
        uidv = [re.search(r"UIDVALIDITY (\d+)", l).group(1)
                for l in lines if "UIDVALIDITY" in l][0]
        base = "/Drafts;UIDVALIDITY=%s/;UID=1" % uidv
        # as RFC 4469 section 4: header, a new boundary, the old part's
        # MIME header and body, a closing boundary; a synchronizing
        # literal in the middle
        part1 = "\r\n--b\r\nX: 1\r\n"
        s.send(('c1 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE '
                '(URL "%s/;section=HEADER" TEXT {%d}\r\n'
                % (base, len(part1))).encode())
        self.assertTrue(s.readline(5).startswith(b"+ "))
        s.send((part1 + ' URL "%s/;section=1.MIME" URL '
                '"%s/;section=1" TEXT {9+}\r\n\r\n--b--\r\n)\r\n'
                % (base, base)).encode())
        reply = s.readline(10).decode()
        while reply.startswith("* "):
            reply = s.readline(10).decode()
        self.assertRegex(reply, r"^c1 OK \[APPENDUID %s 2\] Append completed"
                         % uidv)
        lines = s.ok("UID FETCH 2 (FLAGS BODY.PEEK[])")
        body = "\n".join(lines)
        self.assertIn("\\Seen", body)
        self.assertIn("$MDNSent", body)
        self.assertIn("Subject: draft\r\nMIME-Version: 1.0\r\nContent-Type: "
                      "multipart/mixed; boundary=b\r\n\r\n\r\n--b\r\nX: 1"
                      "\r\nContent-Type: text/plain\r\n\r\nbody one"
                      "\r\n--b--".replace("\r\n", "\n"),
                      body.replace("\r", ""))

    def test_catenate_errors(self):
        s = self.session()
        s.ok("APPEND INBOX", msg("one"))
        for args, reply in (
                ('(TEXT "quoted")', "BAD Error in IMAP command APPEND: "
                 "Invalid arguments"),
                ('(FOO "x")', "BAD Error in IMAP command APPEND: "
                 "Invalid arguments"),
                ('()', "BAD Error in IMAP command APPEND: "
                 "Empty CATENATE list"),
                ('(URL "/INBOX;UIDVALIDITY=1/;UID=1")',
                 'NO [BADURL /INBOX;UIDVALIDITY=1/;UID=1] Invalid '
                 'UIDVALIDITY'),
                ('(URL ";UID=1")', 'NO [BADURL ;UID=1] Invalid IMAP URL: '
                 'No mailbox selected'),
                ('(URL "/INBOX/;UID=1/;PARTIAL=0.0")',
                 'NO [BADURL /INBOX/;UID=1/;PARTIAL=0.0] Invalid IMAP '
                 'URL: Invalid PARTIAL')):
            _, tagged = s.cmd("APPEND INBOX CATENATE " + args)
            self.assertIn(reply, tagged)
        # a failed URL leaves nothing; later TEXT literals are still read
        _, tagged = s.cmd('APPEND INBOX CATENATE (URL "/INBOX/;UID=9" '
                          'TEXT {3+}\r\nabc)')
        self.assertIn("NO [BADURL /INBOX/;UID=9] Message not found", tagged)
        lines = s.ok("STATUS INBOX (MESSAGES)")
        self.assertEqual(lines, ["* STATUS INBOX (MESSAGES 1)"])

    # ---- IMAP4rev2 (RFC 9051) ----

    def test_imap4rev2(self):
        s = self.session()
        self.assertIn(" IMAP4rev1 IMAP4rev2 ", s.greeting)
        self.fill(s, 3)
        lines = s.ok("SELECT INBOX")
        self.assertIn("* 3 RECENT", lines)
        s.ok("STORE 2 +FLAGS (\\Deleted)")
        self.assertEqual(s.ok("ENABLE IMAP4rev2"), ["* ENABLED IMAP4rev2"])
        # listed again, as Dovecot lists every known name asked for
        self.assertEqual(s.ok("ENABLE IMAP4rev2"), ["* ENABLED IMAP4rev2"])
        b = self.session()
        b.ok("APPEND INBOX", msg("new"))
        lines = s.ok("NOOP")
        self.assertEqual(lines, ["* 4 EXISTS"])	# no RECENT
        lines = s.ok("SELECT INBOX")
        self.assertFalse([l for l in lines if "RECENT" in l or "UNSEEN" in l],
                         lines)
        self.assertIn('* LIST () "." INBOX', lines)
        self.assertEqual(s.ok("FETCH 4 FLAGS"), ["* 4 FETCH (FLAGS ())"])
        self.assertEqual(s.ok("SEARCH UNDELETED", tag="S1"),
                         ['* ESEARCH (TAG "S1") ALL 1,3:4'])
        self.assertEqual(s.ok("UID SEARCH DELETED", tag="S2"),
                         ['* ESEARCH (TAG "S2") UID ALL 2'])
        self.assertEqual(s.ok("SEARCH KEYWORD nope", tag="S3")[0],
                         '* ESEARCH (TAG "S3")')
        self.assertEqual(s.ok("SEARCH RETURN (COUNT) ALL", tag="S4"),
                         ['* ESEARCH (TAG "S4") COUNT 4'])
        lines = s.ok("STATUS INBOX (MESSAGES DELETED)")
        self.assertEqual(lines, ["* STATUS INBOX (MESSAGES 4 DELETED 1)"])
        # a session without ENABLE keeps IMAP4rev1's answers
        lines = b.ok("SELECT INBOX")
        self.assertIn("* 0 RECENT", lines)
        self.assertEqual(b.ok("SEARCH DELETED"), ["* SEARCH 2"])

    # ---- OBJECTID (RFC 8474) ----

    def test_objectid(self):
        s = self.session()
        self.assertIn(" OBJECTID", s.greeting)
        self.fill(s, 2)
        lines, tagged = s.cmd("CREATE Work")
        # RFC 8474 4.1: the new mailbox's id in the CREATE OK
        cm = re.match(r"t\d+ OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\] "
                      r"Create completed\.$", tagged)
        self.assertTrue(cm, tagged)
        lines = s.ok("SELECT INBOX")
        ids = [re.match(r"\* OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\] Ok$", l)
               for l in lines]
        inbox_id = [m.group(1) for m in ids if m][0]
        lines = s.ok("FETCH 1:2 (EMAILID THREADID)")
        m = [re.match(r"\* (\d) FETCH \(EMAILID \(([A-Za-z0-9_-]{1,255})\)"
                      r" THREADID \(([A-Za-z0-9_-]{1,255})\)\)$", l)
             for l in lines]
        self.assertTrue(all(m), lines)
        email1, email2 = m[0].group(2), m[1].group(2)
        self.assertNotEqual(email1, email2)
        lines = s.ok("STATUS Work (MAILBOXID)")
        work_id = re.match(r"\* STATUS Work \(MAILBOXID \(([A-Za-z0-9_-]+)"
                           r"\)\)$", lines[0]).group(1)
        self.assertNotEqual(work_id, inbox_id)
        self.assertEqual(work_id, cm.group(1))
        s.ok("UID MOVE 1 Work")
        s.ok("RENAME Work Play")
        # a new process: the same ids, through the rename and the move
        t = self.session()
        self.assertEqual(t.ok("STATUS Play (MAILBOXID)"),
                         ["* STATUS Play (MAILBOXID (%s))" % work_id])
        self.assertIn("* OK [MAILBOXID (%s)] Ok" % inbox_id,
                      t.ok("EXAMINE INBOX"))
        self.assertEqual(t.ok("FETCH 1 EMAILID"),
                         ["* 1 FETCH (EMAILID (%s))" % email2])
        t.ok("EXAMINE Play")
        self.assertEqual(t.ok("UID FETCH 1:* (EMAILID)"),
                         ["* 1 FETCH (UID 1 EMAILID (%s))" % email1])

    def test_objectid_thread_search(self):
        s = self.session()
        root = msg("plan", extra="Message-ID: <root@x.example>\r\n")
        reply1 = msg("Re: plan", extra="Message-ID: <r1@x.example>\r\n"
                     "In-Reply-To: <root@x.example>\r\n"
                     "References: <root@x.example>\r\n")
        reply2 = msg("Re: plan", extra="Message-ID: <r2@x.example>\r\n"
                     "In-Reply-To: <r1@x.example>\r\n"
                     "References: <root@x.example>\r\n <r1@x.example>\r\n")
        other = msg("other", extra="Message-ID: <o@x.example>\r\n")
        noid = msg("no message-id")
        for m in (root, reply1, other, reply2, noid):
            s.ok("APPEND INBOX", m)
        s.ok("CREATE Arch")
        s.ok("SELECT INBOX")
        lines = s.ok("FETCH 1:* (EMAILID THREADID)")
        ids = {}
        for l in lines:
            m = re.match(r"\* (\d) FETCH \(EMAILID \(([A-Za-z0-9_-]+)\) "
                         r"THREADID \(([A-Za-z0-9_-]+)\)\)$", l)
            self.assertTrue(m, l)
            ids[int(m.group(1))] = (m.group(2), m.group(3))
        self.assertEqual(len(ids), 5)
        # the root and both replies share one thread; the others are
        # threads of their own
        self.assertEqual(ids[1][1], ids[2][1])
        self.assertEqual(ids[1][1], ids[4][1])
        self.assertNotEqual(ids[1][1], ids[3][1])
        self.assertNotEqual(ids[5][1], ids[1][1])
        self.assertNotEqual(ids[5][1], ids[3][1])
        self.assertEqual(len({e for e, _ in ids.values()}), 5)
        # RFC 8474 4.4: SEARCH EMAILID / THREADID
        self.assertEqual(s.ok("SEARCH THREADID %s" % ids[1][1]),
                         ["* SEARCH 1 2 4"])
        self.assertEqual(s.ok("UID SEARCH EMAILID %s" % ids[3][0]),
                         ["* SEARCH 3"])
        self.assertEqual(s.ok("SEARCH NOT THREADID %s" % ids[1][1]),
                         ["* SEARCH 3 5"])
        self.assertEqual(s.ok("SEARCH OR EMAILID %s EMAILID %s"
                              % (ids[2][0], ids[5][0])), ["* SEARCH 2 5"])
        self.assertEqual(s.ok("SEARCH EMAILID Mnothere"), ["* SEARCH"])
        # computed once, then kept in the mailbox's cache
        with open(os.path.join(self.dir, "home", "u", "Maildir",
                               "roost.cache"), "rb") as f:
            cache = f.read()
        self.assertIn(b" objectid.threadid ", cache)
        self.assertIn(ids[3][0].encode(), cache)
        self.assertEqual(s.ok("SEARCH RETURN (COUNT) THREADID %s"
                              % ids[1][1]), ["* ESEARCH (TAG \"t%d\") COUNT 3"
                                             % s.n])
        # a bad objectid is a BAD
        _, tagged = s.cmd("SEARCH EMAILID \"a.b\"")
        self.assertRegex(tagged, r"^t\d+ BAD ")
        _, tagged = s.cmd("SEARCH THREADID")
        self.assertRegex(tagged, r"^t\d+ BAD ")
        # the same ids after a MOVE, a RENAME and a new process
        s.ok("MOVE 2 Arch")
        s.ok("RENAME Arch Old")
        t = self.session()
        t.ok("SELECT Old")
        self.assertEqual(t.ok("FETCH 1 (EMAILID THREADID)"),
                         ["* 1 FETCH (EMAILID (%s) THREADID (%s))" % ids[2]])
        self.assertEqual(t.ok("SEARCH THREADID %s" % ids[1][1]),
                         ["* SEARCH 1"])
        t.ok("SELECT INBOX")
        self.assertEqual(t.ok("SEARCH THREADID %s" % ids[1][1]),
                         ["* SEARCH 1 3"])

    # ---- INPROGRESS (RFC 9585) ----

    def big_inbox(self, n):
        """n messages written straight into the Maildir (quicker than
        APPEND), 2 KB of body each."""
        cur = os.path.join(self.dir, "home", "u", "Maildir", "cur")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(os.path.dirname(cur), sub),
                        exist_ok=True)
        body = ("lorem ipsum dolor sit amet %d\r\n" * 64)
        for i in range(n):
            with open(os.path.join(cur, "1700000000.M%dP1.host:2," % i),
                      "wb") as f:
                f.write(msg("big %d" % i, body % tuple([i] * 64)))
        for root, dirs, files in os.walk(os.path.join(self.dir, "home")):
            for x in dirs + files:
                os.chown(os.path.join(root, x), UID, GID)
            os.chown(root, UID, GID)

    def test_inprogress(self):
        n = 1500
        self.big_inbox(n)
        os.environ["ROOST_IMAP_INPROGRESS_MSECS"] = "1"
        try:
            s = self.session()
        finally:
            del os.environ["ROOST_IMAP_INPROGRESS_MSECS"]
        self.assertIn(" INPROGRESS", s.greeting)
        s.ok("SELECT INBOX")
        pat = re.compile(r'\* OK \[INPROGRESS \("(\w+)" (\d+) (\d+)\)\] '
                         r'Searching$')
        for cmd, result in (("SEARCH BODY nowhere", "* SEARCH"),
                            ("UID SORT (SUBJECT) UTF-8 BODY nowhere",
                             "* SORT"),
                            ("THREAD REFERENCES UTF-8 TEXT nowhere",
                             "* THREAD ")):
            lines = s.ok(cmd, tag="P%d" % len(result))
            prog = [pat.match(l) for l in lines[:-1]]
            self.assertTrue(prog and all(prog), lines[:5])
            self.assertEqual(lines[-1], result)
            counts = [int(m.group(2)) for m in prog]
            self.assertTrue(all(m.group(1) == "P%d" % len(result) and
                                int(m.group(3)) == n for m in prog), lines)
            self.assertEqual(counts, sorted(counts))
            self.assertTrue(0 <= counts[0] and counts[-1] <= n, counts)
        # with the default interval (10 s) a search quicker than that
        # sends none
        t = self.session()
        t.ok("SELECT INBOX")
        start = time.time()
        lines = t.ok("SEARCH BODY nowhere")
        if time.time() - start < 9:
            self.assertEqual(lines, ["* SEARCH"])

    # ---- REPLACE (RFC 8508) ----

    def test_replace(self):
        s = self.session()
        self.assertIn(" REPLACE", s.greeting)
        self.fill(s, 3)
        s.ok("CREATE Drafts")
        lines = s.ok("SELECT INBOX")
        uidv = [re.search(r"UIDVALIDITY (\d+)", l).group(1)
                for l in lines if "UIDVALIDITY" in l][0]
        # RFC 8508 3.4: in the same mailbox
        lines = s.ok("REPLACE 2 INBOX (\\Seen \\Draft)", msg("v2"))
        self.assertEqual(lines, ["* OK [APPENDUID %s 4] Replacement Message "
                                 "ready" % uidv, "* 2 EXPUNGE", "* 3 EXISTS"]
                         if lines[1] == "* 2 EXPUNGE" else
                         ["* OK [APPENDUID %s 4] Replacement Message ready"
                          % uidv, "* 4 EXISTS", "* 2 EXPUNGE"])
        self.assertEqual(s.ok("FETCH 1:* (UID FLAGS)"),
                         ["* 1 FETCH (UID 1 FLAGS (\\Recent))",
                          "* 2 FETCH (UID 3 FLAGS (\\Recent))",
                          "* 3 FETCH (UID 4 FLAGS (\\Seen \\Draft "
                          "\\Recent))"])
        # UID REPLACE into another mailbox, with CATENATE
        lines = s.ok('UID REPLACE 4 Drafts CATENATE (TEXT {13+}\r\n'
                     'Subject: v3\r\n URL "/INBOX/;UID=4/;SECTION=TEXT")')
        self.assertRegex(lines[0], r"^\* OK \[APPENDUID \d+ 1\] "
                         r"Replacement Message ready$")
        self.assertIn("* 3 EXPUNGE", lines)
        _, tagged = s.cmd("UID REPLACE 99 Drafts", msg("x"))
        self.assertTrue(tagged.endswith("NO Message not found."), tagged)
        _, tagged = s.cmd("REPLACE 1:2 Drafts", msg("x"))
        self.assertIn("BAD", tagged)
        _, tagged = s.cmd("REPLACE 1 Nope", msg("x"))
        self.assertIn("NO [TRYCREATE]", tagged)
        # a failed REPLACE keeps the old message
        self.assertEqual(len(s.ok("FETCH 1:* UID")), 2)
        t = self.session()
        _, tagged = t.cmd("REPLACE 1 INBOX", msg("x"))
        self.assertIn("BAD No mailbox selected", tagged)

    # ---- UTF8=ACCEPT (RFC 6855) ----

    def test_utf8_accept(self):
        s = self.session()
        self.assertIn(" UTF8=ACCEPT", s.greeting)
        s.ok('CREATE "Caf&AOk-"')
        # before ENABLE: modified UTF-7 both ways
        self.assertIn('* LIST (\\HasNoChildren) "." Caf&AOk-',
                      s.ok('LIST "" Caf*'))
        self.assertEqual(s.ok("ENABLE UTF8=ACCEPT"), ["* ENABLED UTF8=ACCEPT"])
        self.assertEqual(s.ok('LIST "" Caf*'),
                         ['* LIST (\\HasNoChildren) "." "Caf\u00e9"'])
        # '&' is a character now, not the start of mUTF-7
        s.ok('CREATE "R&D"')
        self.assertEqual(s.ok('LIST "" R*'),
                         ['* LIST (\\HasNoChildren) "." R&D'])
        self.assertEqual(s.ok('STATUS "Caf\u00e9" (MESSAGES)'),
                         ['* STATUS "Caf\u00e9" (MESSAGES 0)'])
        # APPEND's UTF8 data item with a literal8
        body = "Subject: \u00e9t\u00e9\r\n\r\nx\r\n".encode()
        s.send(b't1 APPEND "Caf\xc3\xa9" UTF8 (~{%d+}\r\n' % len(body) +
               body + b")\r\n")
        reply = s.readline(10).decode()
        self.assertRegex(reply, r"^t1 OK \[APPENDUID \d+ 1\]")
        s.ok('EXAMINE "Caf\u00e9"')
        self.assertIn("Subject: \u00e9t\u00e9",
                      "\n".join(s.ok("FETCH 1 BODY[HEADER]")))
        s.send(b't2 CREATE "bad\xff"\r\n')
        self.assertIn(b"t2 NO Mailbox name is not valid UTF-8",
                      s.readline(10))
        # another session without ENABLE still sees mUTF-7
        t = self.session()
        self.assertIn('* LIST (\\HasNoChildren) "." Caf&AOk-',
                      t.ok('LIST "" Caf*'))

    # ---- METADATA (RFC 5464) in Dovecot's file dict ----

    def metadata_conf(self):
        with open(self.conf, "a") as f:
            f.write("imap_metadata = yes\n"
                    "mail_attribute_dict = file:%h/Maildir/dovecot-attributes\n")

    def test_metadata(self):
        self.metadata_conf()
        s = self.session()
        self.assertIn(" METADATA", s.greeting)
        s.ok("CREATE Work")
        s.ok('SETMETADATA Work (/private/comment {5+}\r\na\tb\nc '
             '/shared/x "y")')
        self.assertEqual(s.ok("GETMETADATA (DEPTH infinity) Work /private"),
                         ["* METADATA Work (/private/comment {5}", "a\tb",
                          "c)"])
        guid = re.search(r"MAILBOXID \(F([0-9a-f]+)\)",
                         s.ok("STATUS Work (MAILBOXID)")[0]).group(1)
        with open(os.path.join(self.dir, "home", "u", "Maildir",
                               "dovecot-attributes"), "rb") as f:
            data = f.read()
        self.assertIn(b"priv/%s/comment\na\x01tb\x01nc\n" % guid.encode(),
                      data)
        self.assertIn(b"shared/%s/x\ny\n" % guid.encode(), data)
        _, tagged = s.cmd('SETMETADATA "" (/shared/admin "x")')
        self.assertIn("NO [CANNOT] The /shared/vendor/vendor.dovecot/pvt/"
                      "server/admin attribute cannot be changed", tagged)

    @unittest.skipUnless(HAVE_DOVECOT and os.geteuid() == 0,
                         "needs Dovecot and root")
    def test_metadata_concurrent_writers(self):
        """Two sessions (two processes) set entries at the same time: the
        dict is rewritten under its lock, no update is lost."""
        self.metadata_conf()
        a, b = self.session(), self.session()
        n = 60
        # pipelined: both processes write as fast as they can
        for s, name in ((a, "a"), (b, "b")):
            s.send(b"".join(b"%s%d SETMETADATA INBOX (/private/%s%d "
                            b"\"v%d\")\r\n" % (name.encode(), i,
                                                 name.encode(), i, i)
                            for i in range(n)))
        for s, name in ((a, "a"), (b, "b")):
            for i in range(n):
                line = s.readline(30)
                self.assertIsNotNone(line, (name, i))
                self.assertTrue(line.startswith(b"%s%d OK " % (
                    name.encode(), i)), line)
        lines = a.ok("GETMETADATA (DEPTH 1) INBOX /private")
        text = "\n".join(lines)
        missing = ["%s%d" % (x, i) for x in "ab" for i in range(n)
                   if "/private/%s%d " % (x, i) not in text]
        self.assertEqual(missing, [])
        self.assertFalse(os.path.exists(os.path.join(
            self.dir, "home", "u", "Maildir", "dovecot-attributes.lock")))

    def test_metadata_dovecot_interop(self):
        """Each server reads what the other wrote."""
        self.metadata_conf()
        s = self.session()
        s.ok("CREATE Work")
        s.ok('SETMETADATA Work (/private/comment "from roost")')
        s.close()
        self.sessions.remove(s)
        subprocess.run([DV_MASTER, "-c", self.conf], check=True)
        try:
            p = subprocess.run([DV_IMAP, "-c", self.conf, "-u", "u"],
                               input=b"a GETMETADATA Work /private/comment\r\n"
                               b"b SETMETADATA INBOX (/shared/x \"from "
                               b"dovecot\")\r\nc LOGOUT\r\n",
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, timeout=20)
        finally:
            subprocess.run(["doveadm", "-c", self.conf, "stop"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.assertIn(b"* METADATA Work (/private/comment {10}\r\n"
                      b"from roost)", p.stdout)
        self.assertIn(b"b OK", p.stdout)
        t = self.session()
        self.assertEqual(t.ok("GETMETADATA INBOX /shared/x"),
                         ["* METADATA INBOX (/shared/x {12}",
                          "from dovecot)"])


if __name__ == "__main__":
    unittest.main()

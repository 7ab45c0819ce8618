"""doveadm mail commands and dovecot-lda, run from the build tree against a
temporary config (passwd-file users, Maildir, base_dir in the temp dir).
The expected outputs, messages and exit codes are Dovecot 2.3.19's,
recorded by running Debian's Dovecot on the same kind of config.

Users are looked up in-process (no auth service listening); one class
starts `roost auth` and repeats lookups through its auth-userdb socket.
As root, the users get uid 5000 (the commands drop to it); otherwise the
invoking uid."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import authlib  # noqa: E402

BIN = os.path.dirname(authlib.ROOST)
DOVEADM = os.path.join(BIN, "doveadm")
LDA = os.path.join(BIN, "dovecot-lda")
IS_ROOT = os.geteuid() == 0
UID = 5000 if IS_ROOT else os.getuid()
GID = 5000 if IS_ROOT else os.getgid()
SESSION_RE = r"<\d+><[A-Za-z0-9+/]{22}>"


def msg(subject, body="hello\n", msgid=None, extra="", date=None):
    hdr = f"From: Sender <sender@example.com>\nTo: alice@example.com\n"
    hdr += f"Subject: {subject}\n"
    if msgid is not None:
        hdr += f"Message-ID: <{msgid}>\n"
    if date is not None:
        hdr += f"Date: {date}\n"
    return (hdr + extra + "\n" + body).encode()


class MailTest(unittest.TestCase):
    """One temp dir per test class; users alice, bob, low (uid 100)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="roost-mail.")
        os.chmod(cls.tmp, 0o755)
        cls.home = os.path.join(cls.tmp, "home")
        os.mkdir(cls.home)
        with open(os.path.join(cls.tmp, "users"), "w") as f:
            for user in ("alice", "bob"):
                f.write(f"{user}:{{PLAIN}}pw:{UID}:{GID}::"
                        f"{cls.home}/{user}::\n")
            f.write(f"low:{{PLAIN}}pw:100:100::{cls.home}/low::\n")
        for user in ("alice", "bob"):
            os.mkdir(os.path.join(cls.home, user))
            os.chown(os.path.join(cls.home, user), UID, GID)
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        cls.log = os.path.join(cls.tmp, "mail.log")
        with open(cls.conf, "w") as f:
            f.write(f"""base_dir = {cls.tmp}/run
state_dir = {cls.tmp}/state
log_path = {cls.log}
protocols =
ssl = no
first_valid_uid = {min(UID, 500)}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {cls.tmp}/users
}}
userdb {{
  driver = passwd-file
  args = {cls.tmp}/users
}}
""")
        open(cls.log, "w").close()
        os.chmod(cls.log, 0o666)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_cmd(self, argv, stdin=None):
        p = subprocess.run(argv, input=stdin, capture_output=True,
                           timeout=60, cwd=self.tmp)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def doveadm(self, *args, stdin=None, fmt=None):
        argv = [DOVEADM, "-c", self.conf]
        if fmt is not None:
            argv += ["-f", fmt]
        return self.run_cmd(argv + list(args), stdin)

    def lda(self, *args, stdin=b""):
        return self.run_cmd([LDA, "-c", self.conf] + list(args), stdin)

    def log_lines(self):
        with open(self.log) as f:
            return f.read().splitlines()

    def assertCmd(self, result, rc, out=None, err=None):
        code, stdout, stderr = result
        self.assertEqual(code, rc, f"stdout={stdout!r} stderr={stderr!r}")
        if out is not None:
            self.assertEqual(stdout, out)
        if err is not None:
            self.assertEqual(stderr, err)

    def deliver(self, user, data, *args):
        self.assertCmd(self.lda("-d", user, *args, stdin=data), 0)

    def fetch(self, user, fields, *query, fmt=None):
        return self.doveadm("fetch", "-u", user, fields, *query, fmt=fmt)


class LdaTest(MailTest):
    def test_01_deliver_and_log_line(self):
        self.deliver("alice", msg("one", msgid="m1@example.com"))
        last = self.log_lines()[-1]
        self.assertRegex(last, r"^\w{3} \d\d \d\d:\d\d:\d\d lda\(alice\)" +
                         SESSION_RE + r": Info: msgid=<m1@example.com>: "
                         r"saved mail to INBOX$")
        self.assertCmd(self.fetch("alice", "uid flags hdr.subject", "all"),
                       0, "uid: 1\nflags: \\Recent\nhdr.subject: one\n")

    def test_02_no_message_id(self):
        self.deliver("alice", msg("nomsgid"))
        self.assertTrue(self.log_lines()[-1].endswith(
            ": Info: msgid=unspecified: saved mail to INBOX"))

    def test_03_unknown_user(self):
        self.assertCmd(self.lda("-d", "nosuch", stdin=msg("x")), 67, "", "")

    def test_04_usage(self):
        usage = ("Usage: dovecot-lda [-c <config file>] [-d <username>] "
                 "[-p <path>]\n"
                 "                   [-m <mailbox>] [-e] [-k] "
                 "[-f <envelope sender>]\n"
                 "                   [-a <original envelope recipient>]\n"
                 "                   [-r <final envelope recipient>] \n")
        code, out, err = self.lda("-d", "alice", "-x", stdin=msg("x"))
        self.assertEqual((code, out), (64, usage))
        self.assertIn("invalid option -- 'x'", err)
        self.assertCmd(self.lda("-d", "alice", "extra", stdin=msg("x")), 64,
                       usage, "lda: Fatal: Unknown argument: extra\n")
        if IS_ROOT:
            self.assertCmd(self.lda(stdin=msg("x")), 64, "",
                           "lda: Fatal: destination user parameter "
                           "(-d user) not given\n")

    def test_05_missing_mailbox_falls_back_to_inbox(self):
        self.deliver("alice", msg("fallback", msgid="fb@x"), "-m", "Nobox")
        lines = self.log_lines()[-2:]
        self.assertTrue(lines[0].endswith(
            ": Info: msgid=<fb@x>: save failed to open mailbox Nobox: "
            "Mailbox doesn't exist: Nobox"), lines[0])
        self.assertTrue(lines[1].endswith(
            ": Info: msgid=<fb@x>: saved mail to INBOX"), lines[1])

    def test_06_autocreate_autosubscribe(self):
        self.deliver("alice", msg("auto", msgid="ac@x"), "-m", "Auto",
                     "-o", "lda_mailbox_autocreate=yes",
                     "-o", "lda_mailbox_autosubscribe=yes")
        self.assertTrue(self.log_lines()[-1].endswith(
            ": Info: msgid=<ac@x>: saved mail to Auto"))
        self.assertCmd(self.doveadm("mailbox", "list", "-s", "-u", "alice"),
                       0, "Auto\n")
        with open(f"{self.home}/alice/Maildir/subscriptions") as f:
            self.assertEqual(f.read(), "V\t2\n\nAuto\n")

    def test_07_from_line_and_file_input(self):
        path = os.path.join(self.tmp, "in.eml")
        with open(path, "wb") as f:
            f.write(b"From someone@example.org  Thu Nov 26 03:24:41 2020\n" +
                    msg("fromline", msgid="fl@x"))
        os.chmod(path, 0o644)
        self.deliver("bob", b"", "-p", path,
                     "-o", "deliver_log_format=%m env=%e size=%p: %$")
        self.assertTrue(self.log_lines()[-1].endswith(
            ": Info: <fl@x> env=someone@example.org size=100: "
            "saved mail to INBOX"), self.log_lines()[-1])
        code, out, _ = self.fetch("bob", "hdr size.physical", "subject",
                                  "fromline")
        self.assertEqual(code, 0)
        self.assertNotIn("From someone", out)
        self.assertIn("size.physical: 100\n", out)

    def test_08_uid_not_permitted(self):
        self.assertCmd(self.lda("-d", "low", stdin=msg("x")), 75, "", "")
        self.assertTrue(self.log_lines()[-1].endswith(
            "Fatal: Mail access for users with UID 100 not permitted "
            "(see first_valid_uid in config file, uid from userdb "
            "lookup)."), self.log_lines()[-1])

    def test_09_big_message_through_temp_file(self):
        body = ("x" * 75 + "\n") * 4000	  # 304 KB, over the memory buffer
        self.deliver("bob", msg("big", body=body, msgid="big@x"))
        code, out, _ = self.fetch("bob", "size.physical", "subject", "big")
        self.assertEqual(out, f"size.physical: {len(msg('big', body=body, msgid='big@x'))}\n")

    @unittest.skipUnless(IS_ROOT, "mounting a small tmpfs needs root")
    def test_10_disk_full_is_tempfail(self):
        mnt = os.path.join(self.tmp, "tiny")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k",
                           "tmpfs", mnt]).returncode != 0:
            self.skipTest("can't mount tmpfs")
        try:
            os.mkdir(f"{mnt}/full")
            os.chown(f"{mnt}/full", UID, GID)
            with open(os.path.join(self.tmp, "users"), "a") as f:
                f.write(f"full:{{PLAIN}}x:{UID}:{GID}::{mnt}/full::\n")
            big = msg("big", body=("y" * 75 + "\n") * 4000)
            self.assertCmd(self.lda("-d", "full", stdin=big), 75, "", "")
            code, out, err = self.lda("-d", "full", "-e", stdin=big)
            self.assertEqual((code, out), (75, ""))
            self.assertEqual(err, "Not enough disk space\n")
            self.assertIn("save failed to INBOX: Not enough disk space",
                          self.log_lines()[-1])
        finally:
            subprocess.run(["umount", mnt])

    def test_11_roost_lda_names(self):
        for name in ("deliver", "lda"):
            argv = ([authlib.ROOST, "lda"] if name == "lda" else
                    [os.path.join(self.tmp, "deliver")])
            if name == "deliver":
                os.symlink(authlib.ROOST, argv[0])
            code, _, _ = self.run_cmd(argv + ["-c", self.conf, "-d", "bob"],
                                      msg(name))
            self.assertEqual(code, 0)


class DoveadmTest(MailTest):
    """One user, state built up test by test (run in name order)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        dates = ["Mon, 20 Nov 2023 10:00:00 +0100",
                 "Tue, 21 Nov 2023 23:30:00 -0500",
                 "Wed, 22 Nov 2023 08:00:00 +0000"]
        for i, date in enumerate(dates, 1):
            data = (b"From sender@example.org  Mon Jan %2d 10:00:00 2022\n"
                    % (i * 5) +
                    msg(f"Message {i}", body=f"body text {i} apple{i}\n" +
                        ("padding line here\n" * 40 * (i - 1)),
                        msgid=f"m{i}@x",
                        date=date))
            p = subprocess.run([LDA, "-c", cls.conf, "-d", "alice"],
                               input=data)
            assert p.returncode == 0
        p = subprocess.run([LDA, "-c", cls.conf, "-d", "alice"],
                           input=("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
                                  "From: =?iso-8859-1?q?J=F6rg?= <j@x.org>\n"
                                  "Content-Type: text/plain; charset=iso-8859-1\n"
                                  "Content-Transfer-Encoding: quoted-printable\n"
                                  "\nK=E4se und Wurst\n").encode())
        assert p.returncode == 0

    def test_01_list_and_status(self):
        self.assertCmd(self.doveadm("mailbox", "list", "-u", "alice"), 0,
                       "INBOX\n")
        code, out, _ = self.doveadm("mailbox", "status", "-u", "alice",
                                    "messages recent unseen uidnext vsize",
                                    "INBOX")
        self.assertEqual(code, 0)
        # the fields come in Dovecot's order, not the order given
        self.assertRegex(out, r"^INBOX messages=4 recent=4 uidnext=5 "
                         r"unseen=4 vsize=\d+\n$")
        self.assertCmd(self.doveadm("mailbox", "status", "-u", "alice",
                                    "bogus", "INBOX"), 64, "",
                       "Fatal: Unknown status field: bogus\n")
        self.assertCmd(self.doveadm("mailbox", "status", "-t", "-u", "alice",
                                    "guid", "INBOX"), 64, "",
                       "Fatal: Status field guid can't be used with -t\n")
        self.assertCmd(self.doveadm("mailbox", "status", "-t", "-u", "alice",
                                    "messages unseen", "*"), 0,
                       "messages=4 unseen=4\n")
        self.assertCmd(self.doveadm("mailbox", "status", "-u", "alice",
                                    "messages", "Nosuch"), 68, "",
                       "doveadm(alice): Error: Mailbox Nosuch: Failed to "
                       "lookup mailbox status: Mailbox doesn't exist: "
                       "Nosuch\n")
        self.assertCmd(self.doveadm("mailbox", "status", "-u", "alice",
                                    "messages"), 64, "",
                       "doveadm mailbox status [-u <user>|-A] "
                       "[-S <socket_path>] <fields> <mailbox> [...]\n")

    def test_02_formatters(self):
        q = ("mailbox", "INBOX", "uid", "1:2")
        self.assertCmd(self.fetch("alice", "uid flags", *q), 0,
                       "uid: 1\nflags: \\Recent\n\f\nuid: 2\n"
                       "flags: \\Recent\n")
        self.assertCmd(self.fetch("alice", "uid flags", *q, fmt="flow"), 0,
                       "uid=1 flags=\\Recent\nuid=2 flags=\\Recent\n")
        self.assertCmd(self.fetch("alice", "uid flags", *q, fmt="tab"), 0,
                       "uid\tflags\n1\t\\Recent\n2\t\\Recent\n")
        self.assertCmd(self.fetch("alice", "uid flags", *q, fmt="json"), 0,
                       '[{"uid":"1","flags":"\\\\Recent"},'
                       '{"uid":"2","flags":"\\\\Recent"}]')
        self.assertCmd(self.fetch("alice", "uid flags", *q, fmt="table"), 0,
                       "uid flags" + " " * 36 + "\n" +
                       "1   \\Recent" + " " * 34 + "\n" +
                       "2   \\Recent" + " " * 34 + "\n")
        self.assertCmd(self.fetch("alice", "hdr", *q, fmt="table"), 75,
                       None, "doveadm(alice): Fatal: table formatter "
                       "doesn't support multi-line values\n")
        self.assertCmd(self.fetch("alice", "uid body", "mailbox", "INBOX",
                                  "uid", "1", fmt="tab"), 0,
                       "uid\tbody\n1\tbody text 1 apple1\n\t\n")
        self.assertCmd(self.doveadm("mailbox", "status", "-u", "alice",
                                    "messages unseen", "INBOX", fmt="json"),
                       0, '[{"mailbox":"INBOX","messages":"4",'
                       '"unseen":"4"}]')

    def test_03_fetch_fields(self):
        code, out, _ = self.fetch("alice", "date.sent date.sent.unixtime "
                                  "mailbox user seq uid", "mailbox", "INBOX",
                                  "uid", "2")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^date.sent: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
                         r"\(-0500\)\ndate.sent.unixtime: 1700627400\n"
                         r"mailbox: INBOX\nuser: alice\nseq: 2\nuid: 2\n$")
        code, out, _ = self.fetch("alice", "hdr.subject hdr.subject.utf8 "
                                  "hdr.from.address hdr.from.address_name.utf8"
                                  " body.snippet", "uid", "4")
        self.assertEqual(out, "hdr.subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
                         "hdr.subject.utf8: Grüße\n"
                         "hdr.from.address: j@x.org\n"
                         "hdr.from.address_name.utf8: Jörg\n"
                         "body.snippet: Käse und Wurst\n")
        code, out, _ = self.fetch("alice", "imap.body imap.envelope",
                                  "uid", "1")
        self.assertEqual(out, 'imap.body: "text" "plain" ("charset" '
                         '"us-ascii") NIL NIL "7bit" 20 1\n'
                         'imap.envelope: "Mon, 20 Nov 2023 10:00:00 +0100" '
                         '"Message 1" (("Sender" NIL "sender" "example.com"))'
                         ' (("Sender" NIL "sender" "example.com")) '
                         '(("Sender" NIL "sender" "example.com")) '
                         '((NIL NIL "alice" "example.com")) NIL NIL NIL '
                         '"<m1@x>"\n')
        code, out, err = self.fetch("alice", "bogus", "all")
        self.assertEqual(code, 75)
        self.assertTrue(err.startswith("Available fetch fields: hdr.<name> "
                                       "body.<section> binary.<section> "
                                       "user mailbox"))
        self.assertTrue(err.endswith("Fatal: Unknown fetch field: bogus\n"))
        self.assertCmd(self.fetch("alice", "uid"), 64, "",
                       "doveadm fetch [-u <user>|-A] [-S <socket_path>] "
                       "<fields> <search query>\n")
        self.assertCmd(self.fetch("alice", "uid", "mailbox", "Nosuch", "all"),
                       0, "", "")

    def search(self, *query):
        code, out, err = self.doveadm("search", "-u", "alice", *query)
        self.assertEqual(code, 0, err)
        return [int(line.split()[1]) for line in out.splitlines()]

    def test_04_search_queries(self):
        cases = [
            (["all"], [1, 2, 3, 4]),
            (["mailbox", "INBOX", "2:*"], [2, 3, 4]),
            (["uid", "1,3"], [1, 3]),
            (["uid", "5:*"], [4]),
            (["subject", "MESSAGE 2"], [2]),
            (["from", "sender@example"], [1, 2, 3]),
            (["from", "jörg"], [4]),
            (["header", "message-id", "m3@"], [3]),
            (["header", "message-id", ""], [1, 2, 3]),
            (["body", "APPLE3"], [3]),
            (["body", "käse"], [4]),
            (["text", "m2@x"], [2]),
            (["not", "body", "apple"], [4]),
            (["subject", "message", "or", "subject", "grüße"], [1, 2, 3, 4]),
            (["(", "uid", "1", "or", "uid", "3", ")", "body", "apple3"],
             [3]),
            (["larger", "500"], [2, 3]),
            (["smaller", "1k"], [1, 2, 4]),
            (["larger", "1kib"], [3]),
            (["before", "2022-01-10"], [1]),
            (["before", "2022-01-11"], [1, 2]),
            (["since", "6-Jan-2022", "before", "2022-01-11"], [2]),
            (["since", "11-Jan-2022", "before", "16-Jan-2022"], [3]),
            (["on", "2022-01-15"], [3]),
            (["since", "300d"], [4]),
            (["savedsince", "1h"], [1, 2, 3, 4]),
            (["savedbefore", "1d"], []),
            # no Date: header counts as 1970, as in Dovecot
            (["sentbefore", "21-Nov-2023"], [1, 4]),
            # the day in the header's own timezone
            (["senton", "21-Nov-2023"], [2]),
            (["senton", "2023-11-22"], [3]),
            (["sentsince", "22-Nov-2023"], [3]),
            (["new"], [1, 2, 3, 4]),
            (["old"], []),
        ]
        for query, uids in cases:
            with self.subTest(query=query):
                self.assertEqual(self.search(*query), uids)

    def test_05_search_errors(self):
        cases = [
            (["mailbox", "INBOX", "bogus"], "Unknown argument BOGUS"),
            (["("], "Missing ')'"),
            ([")"], "Unexpected ')'"),
            (["(", ")"], "No search parameters inside list"),
            (["not"], "Missing argument"),
            (["seen", "or", "flagged", "uid", "1"],
             "Use parenthesis when mixing ANDs and ORs"),
            (["uid"], "Missing parameter for search key "
             "(for search key: UID)"),
            (["uid", "1:x"], "Invalid UID messageset"),
            (["1:x"], "Invalid messageset"),
            (["since", "foo"], "Invalid search date parameter: foo"),
            (["larger", "1x"], "Invalid size: 1x"),
            (["older", "x"], "Invalid search interval parameter"),
        ]
        for query, error in cases:
            with self.subTest(query=query):
                self.assertCmd(self.doveadm("search", "-u", "alice", *query),
                               75, "", f"Fatal: {error}\n")
        self.assertCmd(self.doveadm("search", "-u", "nosuch", "all"), 67, "",
                       "doveadm(nosuch): Error: User doesn't exist\n")
        code, out, err = self.doveadm("search", "-u", "alice", "smaller",
                                      "-1")
        self.assertEqual((code, out), (64, ""))
        self.assertIn("invalid option -- '1'", err)

    def test_05b_missing_mailbox(self):
        # A query naming a mailbox that doesn't exist (no '*' or '%': an
        # exact name, opened without listing): each command words the
        # error as Dovecot 2.3.19's does, exit 68; fetch, index and
        # force-resync say nothing (measured with Debian's Dovecot).
        def err(text):
            return "doveadm(alice): Error: " + text + \
                ": Mailbox doesn't exist: Nosuch\n"
        sync = err("Mailbox Nosuch: Mailbox sync failed")
        for args, text in (
                (("search",), err("Couldn't get mailbox 'Nosuch' GUID")),
                (("expunge",), err("Syncing mailbox 'Nosuch' failed")),
                (("flags add", "\\Seen"), sync),
                (("flags remove", "\\Seen"), sync),
                (("copy", "INBOX"), sync),
                (("move", "INBOX"), sync),
                (("deduplicate",), sync)):
            with self.subTest(args=args):
                cmd = tuple(args[0].split()) + ("-u", "alice") + args[1:] + \
                    ("mailbox", "Nosuch", "all")
                self.assertCmd(self.doveadm(*cmd), 68, "", text)
        self.assertCmd(self.doveadm("search", "-u", "alice", "mailbox",
                                    "INBOX", "mailbox", "Nosuch", "all"),
                       68, "", err("Couldn't get mailbox 'Nosuch' GUID"))
        for cmd in (("fetch", "-u", "alice", "uid", "mailbox", "Nosuch",
                     "all"),
                    ("index", "-u", "alice", "Nosuch"),
                    ("force-resync", "-u", "alice", "Nosuch"),
                    ("search", "-u", "alice", "mailbox", "Nosuch*", "all")):
            with self.subTest(cmd=cmd):
                self.assertCmd(self.doveadm(*cmd), 0, "", "")
        # an exact name is not a pattern: "inbox" is INBOX
        code, out, _ = self.doveadm("search", "-u", "alice", "mailbox",
                                    "inbox", "all")
        self.assertEqual(code, 0)
        self.assertEqual(len(out.splitlines()), 4)

    def test_06_search_output(self):
        code, out, _ = self.doveadm("mailbox", "status", "-u", "alice",
                                    "guid", "INBOX")
        guid = out.split("=")[1].strip()
        self.assertCmd(self.doveadm("search", "-u", "alice", "uid", "2"), 0,
                       f"{guid} 2\n")
        self.assertCmd(self.doveadm("search", "-u", "alice", "mailbox-guid",
                                    guid, "uid", "2"), 0, f"{guid} 2\n")

    def test_07_flags(self):
        self.assertCmd(self.doveadm("flags", "add", "-u", "alice",
                                    "\\Seen $Label1", "uid", "1"), 0, "", "")
        self.assertCmd(self.doveadm("flags", "add", "-u", "alice",
                                    "\\Flagged kw2", "uid", "1:2"), 0)
        self.assertCmd(self.doveadm("flags", "remove", "-u", "alice",
                                    "kw2", "uid", "1"), 0)
        self.assertCmd(self.fetch("alice", "uid flags", "uid", "1:2",
                                  fmt="flow"), 0,
                       "uid=1 flags=\\Flagged \\Seen \\Recent $Label1\n"
                       "uid=2 flags=\\Flagged \\Recent kw2\n")
        self.assertCmd(self.doveadm("flags", "replace", "-u", "alice",
                                    "\\Answered", "uid", "2"), 0)
        self.assertCmd(self.fetch("alice", "flags", "uid", "2", fmt="flow"),
                       0, "flags=\\Answered \\Recent\n")
        self.assertEqual(self.search("seen"), [1])
        self.assertEqual(self.search("unseen"), [2, 3, 4])
        self.assertEqual(self.search("keyword", "$label1"), [1])
        self.assertEqual(self.search("answered", "or", "flagged"), [1, 2])
        self.assertCmd(self.doveadm("flags", "add", "-u", "alice",
                                    "\\Bogus", "all"), 75, "",
                       "Fatal: Invalid system flag: \\Bogus\n")
        self.assertCmd(self.doveadm("flags", "add", "-u", "alice", "\\Seen"),
                       64, "", "doveadm flags add [-u <user>|-A] "
                       "[-S <socket_path>] <flags> <search query>\n")

    def test_08_mailbox_commands(self):
        d = self.doveadm
        self.assertCmd(d("mailbox", "create", "-u", "alice", "Work",
                         "Work.Sub", "Archive"), 0, "", "")
        self.assertCmd(d("mailbox", "create", "-u", "alice", "Work"), 65, "",
                       "doveadm(alice): Error: Can't create mailbox Work: "
                       "Mailbox already exists\n")
        self.assertCmd(d("mailbox", "create", "-u", "alice", "a/b"), 64, "",
                       "doveadm(alice): Error: Can't create mailbox a/b: "
                       "Invalid mailbox name: Name must not have '/' "
                       "characters\n")
        code, out, _ = d("mailbox", "list", "-u", "alice")
        self.assertEqual(sorted(out.splitlines()),
                         ["Archive", "INBOX", "Work", "Work.Sub"])
        self.assertCmd(d("mailbox", "list", "-u", "alice", "W*"), 0,
                       "Work\nWork.Sub\n")
        self.assertCmd(d("mailbox", "list", "-u", "alice", "Nonexist"), 0,
                       "Nonexist\n")
        self.assertCmd(d("mailbox", "subscribe", "-u", "alice", "Work",
                         "Nonexist"), 0)
        code, out, _ = d("mailbox", "list", "-s", "-u", "alice", "*")
        self.assertEqual(sorted(out.splitlines()), ["Nonexist", "Work"])
        self.assertCmd(d("mailbox", "unsubscribe", "-u", "alice",
                         "Nonexist"), 0)
        self.assertCmd(d("mailbox", "rename", "-u", "alice", "-s", "Work",
                         "Job"), 0)
        self.assertCmd(d("mailbox", "list", "-u", "alice", "J*"), 0,
                       "Job\nJob.Sub\n")
        self.assertCmd(d("mailbox", "list", "-s", "-u", "alice"), 0,
                       "Job\n")
        self.assertCmd(d("mailbox", "rename", "-u", "alice", "Nonexist",
                         "Foo"), 68, "",
                       "doveadm(alice): Error: Can't rename mailbox Nonexist "
                       "to Foo: Mailbox doesn't exist: Nonexist\n")
        self.assertCmd(d("mailbox", "rename", "-u", "alice", "Job",
                         "Archive"), 65, "",
                       "doveadm(alice): Error: Can't rename mailbox Job to "
                       "Archive: Target mailbox already exists\n")
        self.assertCmd(d("mailbox", "delete", "-u", "alice", "Nonexist"), 68,
                       "", "doveadm(alice): Error: Can't delete mailbox "
                       "Nonexist: Mailbox doesn't exist: Nonexist\n")
        self.assertCmd(d("mailbox", "delete", "-u", "alice", "INBOX"), 65,
                       "", "doveadm(alice): Error: Can't delete mailbox "
                       "INBOX: INBOX can't be deleted.\n")
        self.assertCmd(d("mailbox", "delete", "-r", "-u", "alice", "Job"), 0)
        self.assertCmd(d("mailbox", "list", "-u", "alice", "J*"), 0, "")
        self.assertCmd(d("mailbox", "create", "-u", "alice", "Entwürfe"), 0)
        self.assertCmd(d("mailbox", "list", "-7", "-u", "alice", "Entw*"), 0,
                       "Entw&APw-rfe\n")
        self.assertTrue(os.path.isdir(
            f"{self.home}/alice/Maildir/.Entw&APw-rfe"))

    def test_09_copy_move_expunge(self):
        d = self.doveadm
        self.assertCmd(d("copy", "-u", "alice", "Archive", "uid", "1"), 0)
        self.assertCmd(d("move", "-u", "alice", "Archive", "mailbox",
                         "INBOX", "uid", "2"), 0)
        self.assertCmd(self.fetch("alice", "mailbox uid flags", "mailbox",
                                  "Archive", fmt="flow"), 0,
                       "mailbox=Archive uid=1 flags=\\Flagged \\Seen "
                       "\\Recent $Label1\n"
                       "mailbox=Archive uid=2 flags=\\Answered \\Recent\n")
        self.assertEqual(self.search("mailbox", "INBOX", "all"), [1, 3, 4])
        self.assertCmd(d("copy", "-u", "alice", "Nonexist", "all"), 68, "",
                       "doveadm(alice): Error: Can't open mailbox "
                       "'Nonexist': Mailbox doesn't exist: Nonexist\n")
        error = ("Fatal: expunge: To avoid accidents, each branch in search "
                 "query must contain something else besides MAILBOX (e.g. "
                 "just add \"all\" if you want everything)\n")
        self.assertCmd(d("expunge", "-u", "alice", "mailbox", "Archive"), 64,
                       "", error)
        self.assertCmd(d("expunge", "-u", "alice", "mailbox", "Archive",
                         "or", "uid", "1"), 64, "", error)
        self.assertCmd(d("expunge", "-u", "alice", "mailbox", "Archive",
                         "uid", "1"), 0, "", "")
        self.assertEqual(self.search("mailbox", "Archive", "all"), [2])
        self.assertCmd(d("expunge", "-m", "-u", "alice", "mailbox",
                         "Archive", "all"), 0)
        self.assertCmd(d("mailbox", "list", "-u", "alice", "Archive"), 0,
                       "Archive\n")
        self.assertCmd(d("mailbox", "status", "-u", "alice", "messages",
                         "Archive"), 68, None)

    def test_10_save_import_index(self):
        d = self.doveadm
        self.assertCmd(d("save", "-u", "alice", stdin=msg("saved")), 0, "",
                       "")
        self.assertEqual(self.search("subject", "saved"), [5])
        self.assertCmd(d("save", "-u", "alice", "-m", "Nonexist",
                         stdin=msg("x")), 68, "",
                       "doveadm(alice): Error: Failed to open mailbox "
                       "Nonexist: Mailbox doesn't exist: Nonexist\n")
        self.assertCmd(d("index", "-u", "alice", "*"), 0, "", "")
        self.assertCmd(d("force-resync", "-u", "alice", "INBOX"), 0, "", "")
        self.assertCmd(d("force-resync", "-u", "alice"), 64, "",
                       "doveadm force-resync [-u <user>|-A] "
                       "[-S <socket_path>] [-f] <mailbox mask>\n")
        self.assertEqual(self.search("all"), [1, 3, 4, 5])
        # import bob's mail under alice's "Imported"
        subprocess.run([LDA, "-c", self.conf, "-d", "bob"],
                       input=msg("from bob"), check=True)
        self.assertCmd(d("import", "-u", "alice", "-s",
                         f"maildir:{self.home}/bob/Maildir", "Imported",
                         "mailbox", "INBOX", "all"), 0, "", "")
        self.assertCmd(self.fetch("alice", "mailbox hdr.subject", "mailbox",
                                  "Imported*", fmt="flow"), 0,
                       "mailbox=Imported.INBOX hdr.subject=from bob\n")

    def test_11_users(self):
        d = self.doveadm
        subprocess.run([LDA, "-c", self.conf, "-d", "bob"],
                       input=msg("for bob"), check=True)
        code, out, err = d("search", "-A", "subject", "for", fmt="tab")
        self.assertEqual(out.splitlines()[0], "Username\tmailbox-guid\tuid")
        self.assertIn("bob\t", out)
        # "low" (uid 100) stops the iteration, as in Dovecot
        self.assertEqual(code, 75)
        self.assertIn("doveadm(low): Error: Mail access for users with UID "
                      "100 not permitted", err)
        self.assertIn("doveadm: Error: Failed to iterate through some users",
                      err)
        code, out, _ = d("fetch", "-u", "b*", "user hdr.subject", "subject",
                         "for")
        self.assertEqual((code, out), (0, "bob\nuser: bob\n"
                                       "hdr.subject: for bob\n"))
        path = os.path.join(self.tmp, "userlist")
        with open(path, "w") as f:
            f.write("bob\nnosuch\n")
        code, out, err = d("search", "-F", path, "subject", "for", fmt="flow")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^bob [0-9a-f]{32} 2\n$")
        self.assertEqual(err, "doveadm(nosuch): Info: User no longer "
                         "exists, skipping\n")
        env = dict(os.environ)
        env.pop("USER", None)
        p = subprocess.run([DOVEADM, "-c", self.conf, "search", "all"],
                           capture_output=True, env=env)
        self.assertEqual((p.returncode, p.stderr),
                         (64, b"Fatal: USER environment is missing and -u "
                          b"option not used\n"))


class AuthSocketTest(MailTest):
    """The same lookups through `roost auth`'s auth-userdb socket."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.server = authlib.AuthServer(cls.conf, cls.tmp)
        except RuntimeError as e:
            # not root: the listeners' owners can't be set
            super().tearDownClass()
            raise unittest.SkipTest(str(e).strip())
        sock = os.path.join(cls.tmp, "run", "auth-userdb")
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.02)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def test_socket_lookups(self):
        self.deliver("alice", msg("via socket", msgid="s@x"))
        self.assertCmd(self.lda("-d", "nosuch", stdin=msg("x")), 67, "", "")
        self.assertCmd(self.fetch("alice", "hdr.subject", "all"), 0,
                       "hdr.subject: via socket\n")
        self.assertCmd(self.doveadm("search", "-u", "nosuch", "all"), 67, "",
                       "doveadm(nosuch): Error: User doesn't exist\n")
        code, out, _ = self.doveadm("search", "-u", "a*", "all", fmt="tab")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^Username\tmailbox-guid\tuid\n"
                         r"alice\t[0-9a-f]{32}\t1\n$")


if __name__ == "__main__":
    unittest.main(verbosity=2)

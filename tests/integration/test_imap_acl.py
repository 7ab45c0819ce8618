#!/usr/bin/env python3
"""The acl + imap_acl plugins (RFC 4314, vfile backend) with a shared
namespace, against Debian's Dovecot 2.3.19 run from a copy of the same
config: a mailbox alice shares is visible to bob with the rights given
and invisible without them, each right enforced (lookup, read, seen,
write, deleted, insert, expunge, create, delete, admin), GETACL/SETACL/
DELETEACL/LISTRIGHTS/MYRIGHTS with bad input, the dovecot-acl files,
dovecot-acl-list and the shared-mailboxes dict Dovecot writes.

The mail worker runs as the users' uid (65534 for all, as the test
setup): another user's files must be readable by it, as in Dovecot.

Env: ROOST = path of build/bin/roost; IMAP_DIFF=0 skips the Dovecot
side (Roost's output is still checked against the texts below)."""
import os
import re
import unittest

from pluginlib import Env, Session, HAVE_DOVECOT, UID, GID

ACL_CONF = """mail_plugins = acl
protocol imap {
  mail_plugins = $mail_plugins imap_acl
}
plugin {
  acl = vfile
  acl_shared_dict = file:%(tmp)s/dict/shared-mailboxes.db
}
namespace inbox {
  inbox = yes
  separator = /
}
namespace {
  type = shared
  separator = /
  prefix = shared/%%%%u/
  location = maildir:%(tmp)s/home/%%%%u/Maildir:INDEXPVT=~/Maildir/shared/%%%%u
  subscriptions = no
  list = children
}
"""


def make_env():
    env = Env("", prefix="roost-acl.")
    env.write_conf(ACL_CONF % {"tmp": env.tmp})
    os.makedirs(os.path.join(env.tmp, "dict"))
    os.chown(os.path.join(env.tmp, "dict"), UID, GID)
    return env


def norm(text):
    text = re.sub(r"(UIDVALIDITY|APPENDUID|COPYUID) \d+", r"\1 <v>", text)
    # OBJECTID (RFC 8474): Roost's SELECT line Dovecot 2.3 lacks
    text = re.sub(r"\* OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Ok\r\n", "", text)
    # CREATE's OBJECTID code (RFC 8474, Roost only)
    text = re.sub(r"OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Create", "OK Create", text)
    # LIST order isn't compared (Dovecot puts INBOX after other
    # namespaces): the lines of one reply are sorted
    lines = text.split("\r\n")
    out, run = [], []
    for l in lines:
        if l.startswith("* LIST "):
            run.append(l)
            continue
        out += sorted(run)
        run = []
        out.append(l)
    return "\r\n".join(out)


def run(env, user, cmds, dovecot):
    s = Session(env, user, dovecot)
    assert "ACL RIGHTS=texk" in s.greeting, s.greeting
    out = ""
    for c in cmds:
        if isinstance(c, tuple):
            out += s.cmd(c[0], c[1])
        else:
            out += s.cmd(c)
    s.close()
    return norm(out)


OWNER_CMDS = [
    "a CREATE Shared", "a1 CREATE Shared/Sub",
    "b MYRIGHTS Shared", "c GETACL Shared",
    "d SETACL Shared bob lrs", "e GETACL Shared",
    "f LISTRIGHTS Shared bob", "g SETACL Shared bob +w",
    "h GETACL Shared", "i DELETEACL Shared bob", "j GETACL Shared",
    "k SETACL Shared anyone lr", "k1 SETACL Shared authenticated lr",
    "l MYRIGHTS Nonexist", "m SETACL Shared bob lrz",
    "n SETACL Shared \"\" lr", "o DELETEACL Shared nobody",
    "p SETACL Shared -bob lr", "q SETACL Shared $grp lrs",
    "r SETACL Shared owner lr", "s SETACL Shared dave cd",
    "t SETACL Shared erin +x", "u SETACL Shared frank -r",
    "v SETACL Shared carol \"\"", "w GETACL Shared", "x MYRIGHTS Shared",
    "y GETACL", "y1 SETACL Shared", "y2 DELETEACL Shared",
    "y3 LISTRIGHTS Shared", "y4 MYRIGHTS",
    "z GETACL Nonexist", "z1 SETACL Nonexist bob lr",
    "z2 DELETEACL Shared $grp", "z3 DELETEACL Shared -bob",
    "z4 SETACL Shared owner \"\"", "z5 GETACL Shared",
    "z6 MYRIGHTS Shared", "z7 SELECT Shared",
    "z8 GETACL INBOX", "z9 MYRIGHTS INBOX",
]

# alice shares: Pub lr, Pub/Sub everything, Look l, Ins li, Seen lrs,
# Write lrw, Del lrte; Priv stays private
ALICE_CMDS = [
    "a CREATE Pub", "a1 CREATE Pub/Sub", "a2 CREATE Look", "a3 CREATE Priv",
    "a4 CREATE Ins", "a5 CREATE Seen", "a6 CREATE Write", "a7 CREATE Del",
    ("b APPEND Pub {5+}", b"hello"), ("b1 APPEND Look {5+}", b"hello"),
    ("b2 APPEND Seen {5+}", b"hello"), ("b3 APPEND Write {5+}", b"hello"),
    ("b4 APPEND Del {5+}", b"hello"), ("b5 APPEND Del {5+}", b"hello"),
    "c SETACL Pub bob lr", "c1 SETACL Pub/Sub bob lrwstipekxa",
    "c2 SETACL Look bob l", "c3 SETACL Ins bob li",
    "c4 SETACL Seen bob lrs", "c5 SETACL Write bob lrw",
    "c6 SETACL Del bob lrte",
]

BOB_CMDS = [
    "a LIST \"\" *", "a1 LIST \"\" shared/%", "a2 LIST \"\" shared/alice/*",
    "a3 NAMESPACE",
    # read only
    "b SELECT shared/alice/Pub", "b3 STORE 1 +FLAGS \\Deleted",
    "b4 EXPUNGE", "b5 COPY 1 shared/alice/Look",
    "b6 COPY 1 shared/alice/Ins",
    ("b7 APPEND shared/alice/Pub {5+}", b"hello"),
    "b8 MYRIGHTS shared/alice/Pub", "b9 GETACL shared/alice/Pub",
    "c SETACL shared/alice/Pub bob lrw",
    "c1 CREATE shared/alice/Pub/New", "c2 CREATE shared/alice/Top",
    "c5 EXAMINE shared/alice/Look", "c6 STATUS shared/alice/Look (MESSAGES)",
    "c7 SELECT shared/alice/Priv", "c8 STATUS shared/alice/Priv (MESSAGES)",
    "c9 MYRIGHTS shared/alice/Priv", "d GETACL shared/alice/Look",
    "d1 LISTRIGHTS shared/alice/Look bob",
    # everything
    "d2 SELECT shared/alice/Pub/Sub", "d3 CREATE shared/alice/Pub/Sub/X",
    "d4 SETACL shared/alice/Pub/Sub carol lr",
    "d5 GETACL shared/alice/Pub/Sub", "d6 DELETE shared/alice/Pub/Sub/X",
    "d7 RENAME shared/alice/Pub/Sub/X shared/alice/Pub/Y",
    "d8 CREATE shared/alice/Pub/Sub/Z",
    "d9 RENAME shared/alice/Pub/Sub/Z shared/alice/Pub/Sub/Z2",
    # seen only
    "e SELECT shared/alice/Seen", "e1 STORE 1 +FLAGS (\\Seen \\Flagged)",
    "e2 FETCH 1 FLAGS",
    # write only
    "f SELECT shared/alice/Write", "f1 STORE 1 +FLAGS (\\Seen \\Flagged kw)",
    "f2 FETCH 1 FLAGS",
    # deleted + expunge
    "g SELECT shared/alice/Del", "g1 STORE 1 +FLAGS (\\Deleted \\Seen)",
    "g2 EXPUNGE",
    # (Dovecot disconnects when the selected mailbox's DELETE fails)
    "h EXAMINE INBOX", "g3 DELETE shared/alice/Del",
    # insert
    "h1 SELECT shared/alice/Ins",
    ("h2 APPEND shared/alice/Ins {5+}", b"hello"),
    ("h3 APPEND shared/alice/Look {5+}", b"hello"),
    "h4 MYRIGHTS shared/nobody/X", "h5 LIST \"\" shared/nobody/*",
]


class Acl(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.r = make_env()
        cls.d = make_env() if HAVE_DOVECOT else None
        try:
            # the daemon's auth-userdb socket finds the owners' homes
            cls.r.start()
            if cls.d is not None:
                cls.d.start(dovecot=True)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for e in (cls.r, cls.d):
            if e is not None:
                e.cleanup()

    def both(self, user, cmds):
        r = run(self.r, user, cmds, False)
        if self.d is not None:
            d = run(self.d, user, cmds, True)
            self.assertEqual(d, r)
        return r

    def test_1_owner_commands(self):
        out = self.both("olga", OWNER_CMDS)
        for line in [
                "* MYRIGHTS Shared lrwstipekxacd",
                "* ACL Shared olga lrwstipekxacd",
                "* ACL Shared bob lrs olga lrwstipekxacd",
                "* LISTRIGHTS Shared bob \"\" l r w s t p i e k x a c d",
                "* ACL Shared bob lrws olga lrwstipekxacd",
                "k BAD Error in IMAP command SETACL: 'anyone' identifier "
                "is disallowed.",
                "k1 BAD Error in IMAP command SETACL: 'authenticated' "
                "identifier is disallowed.",
                "* MYRIGHTS Nonexist lrwstipekxacd",
                "m BAD Error in IMAP command SETACL: Invalid ACL right: z.",
                "n BAD Error in IMAP command SETACL: Invalid arguments.",
                "* ACL Shared $grp lrs olga alr -bob lr dave kxetcd erin xc",
                "* MYRIGHTS Shared lra",
                "y BAD Error in IMAP command GETACL: Missing arguments.",
                "z NO [NONEXISTENT] Mailbox doesn't exist: Nonexist.",
                "z1 NO [NONEXISTENT] Mailbox doesn't exist: Nonexist.",
                "* ACL Shared olga a dave kxetcd erin xc",
                "* MYRIGHTS Shared a",
                "z7 NO Mailbox doesn't exist: Shared.",
                "* ACL INBOX olga lrwstipekxacd"]:
            self.assertIn(line + "\r\n", out)
        with open(os.path.join(self.r.maildir("olga"), ".Shared",
                               "dovecot-acl")) as f:
            self.assertEqual(f.read(), "owner a\nuser=dave kxet\n"
                             "user=erin x\n")

    def test_2_shared(self):
        # without any ACL bob sees nothing of alice's
        run(self.r, "alice", ["a CREATE Pub"], False)
        out = run(self.r, "bob", ["a LIST \"\" *",
                                  "b SELECT shared/alice/Pub",
                                  "c MYRIGHTS shared/alice/Pub"], False)
        self.assertNotIn("shared", out.split("a OK")[0])
        self.assertIn("b NO Mailbox doesn't exist: shared/alice/Pub.\r\n",
                      out)
        self.assertIn("c NO [NONEXISTENT] Mailbox doesn't exist: "
                      "shared/alice/Pub.\r\n", out)
        run(self.r, "alice", ["a DELETE Pub"], False)

        self.both("alice", ALICE_CMDS)
        out = self.both("bob", BOB_CMDS)
        for line in [
                "* LIST (\\HasChildren) \"/\" shared/alice/Pub",
                "* LIST (\\Noselect \\HasChildren) \"/\" shared/alice",
                "* NAMESPACE ((\"\" \"/\")) ((\"shared/\" \"/\")) NIL",
                "b OK [READ-ONLY] Select completed.",
                "b5 NO [NOPERM] Permission denied.",
                "b6 OK Copy completed.",
                "b7 NO [NOPERM] Permission denied.",
                "* MYRIGHTS shared/alice/Pub lr",
                "b9 NO [NOPERM] You lack administrator privileges on this "
                "mailbox.",
                "c1 NO [NOPERM] Permission denied.",
                "c2 NO [NOPERM] Permission denied.",
                "c5 NO [NOPERM] Permission denied.",
                "c7 NO Mailbox doesn't exist: shared/alice/Priv.",
                "c9 NO [NONEXISTENT] Mailbox doesn't exist: "
                "shared/alice/Priv.",
                "d2 OK [READ-WRITE] Select completed.",
                "d3 OK Create completed.",
                "* ACL shared/alice/Pub/Sub bob akxeilprwtscd carol lr",
                "d6 OK Delete completed.",
                "d7 NO [NOPERM] Permission denied.",
                "d9 OK Rename completed.",
                "* 1 FETCH (FLAGS (\\Seen \\Recent))",
                "* 1 FETCH (FLAGS (\\Flagged \\Recent kw))",
                "g3 NO [NOPERM] Permission denied.",
                "h1 NO [NOPERM] Permission denied.",
                "h2 OK Append completed.",
                "h3 NO [NOPERM] Permission denied.",
                "h4 NO [NONEXISTENT] Mailbox doesn't exist: "
                "shared/nobody/X."]:
            self.assertIn(line + "\r\n", out)
        self.assertNotIn("Priv", out.split("a3 OK")[0])
        self.assertNotIn("Top", os.listdir(self.r.maildir("alice")))
        # the Del mailbox lost its deleted message (e), kept the other
        self.assertEqual(len(os.listdir(os.path.join(
            self.r.maildir("alice"), ".Del", "cur")) + os.listdir(
                os.path.join(self.r.maildir("alice"), ".Del", "new"))), 1)
        # the files Dovecot writes
        with open(os.path.join(self.r.maildir("alice"), ".Pub.Sub",
                               "dovecot-acl")) as f:
            self.assertEqual(f.read(), "user=bob akxeilprwts\nuser=carol lr\n")
        with open(os.path.join(self.r.tmp, "dict",
                               "shared-mailboxes.db")) as f:
            d = f.read().split("\n")
        self.assertIn("shared/shared-boxes/user/bob/alice", d)
        self.assertIn("shared/shared-boxes/user/carol/alice", d)
        def acl_list(env):
            with open(os.path.join(env.maildir("alice"),
                                   "dovecot-acl-list")) as f:
                return sorted(l.split(" ", 1)[1]
                              for l in f.read().splitlines())
        # rebuilt when an ACL changes or a mailbox inherits one: stale
        # names may stay after DELETE/RENAME, as in Dovecot
        self.assertTrue(set(["Del", "Ins", "Look", "Pub", "Pub.Sub",
                             "Seen", "Write"]) <= set(acl_list(self.r)))
        if self.d is not None:
            self.assertEqual(acl_list(self.r), acl_list(self.d))

    def test_3_revoke(self):
        """Taking the rights away hides the mailbox again."""
        run(self.r, "ann", ["a CREATE Box", "b SETACL Box ben lr"], False)
        out = run(self.r, "ben", ["a LIST \"\" shared/*"], False)
        self.assertIn("shared/ann/Box", out)
        run(self.r, "ann", ["a DELETEACL Box ben"], False)
        out = run(self.r, "ben", ["a LIST \"\" shared/*",
                                  "b STATUS shared/ann/Box (MESSAGES)"],
                  False)
        self.assertNotIn("shared/ann/Box\r\n", out)
        self.assertIn("b NO Mailbox doesn't exist: shared/ann/Box.", out)
        # a negative right wins over anyone's positive one (acl_anyone
        # isn't needed in the file)
        with open(os.path.join(self.r.maildir("ann"), ".Box",
                               "dovecot-acl"), "w") as f:
            f.write("# comment\nanyone lr\n-user=ben r\n")
        out = run(self.r, "ben", ["a MYRIGHTS shared/ann/Box"], False)
        self.assertIn("* MYRIGHTS shared/ann/Box l\r\n", out)

    def test_5_doveadm(self):
        """doveadm acl: outputs, exit codes and errors as Dovecot's."""
        cmds = [["acl", "get", "-u", "dora", "Pub"],
                ["acl", "get", "-u", "dora", "-m", "Pub"],
                ["acl", "get", "-u", "dora", "Nonexist"],
                ["acl", "rights", "-u", "dora", "Pub"],
                ["acl", "set", "-u", "dora", "Pub", "user=carol", "lookup",
                 "read"],
                ["acl", "add", "-u", "dora", "Pub", "user=carol", "write"],
                ["acl", "remove", "-u", "dora", "Pub", "user=carol", "read"],
                ["acl", "get", "-u", "dora", "Pub"],
                ["acl", "delete", "-u", "dora", "Pub", "user=carol"],
                ["acl", "set", "-u", "dora", "Pub", "bob", "lookup"],
                ["acl", "set", "-u", "dora", "Pub", "user=bob", "bogus"],
                ["acl", "set", "-u", "dora", "Pub", "user=bob", "l"],
                ["acl", "get", "-u", "dora", "Pub"],
                ["acl", "get", "-u", "dora"],
                ["acl", "debug", "-u", "dora", "Pub"]]

        def session(env, dovecot):
            run(env, "dora", ["a CREATE Pub", "b SETACL Pub bob lr",
                              "c SETACL Pub $g lrw"], dovecot)
            out = ""
            for c in cmds:
                rc, o, e = env.doveadm(c, dovecot=dovecot)
                out += "$ %s: %d\n%s%s" % (" ".join(c), rc, o, e)
            return out.replace(env.tmp, "TMP")

        r = session(self.r, False)
        if self.d is not None:
            self.assertEqual(session(self.d, True), r)
        for text in ["ID         Global Rights",
                     "user=carol        lookup write",
                     "Rights  ", "\nlookup read write write-seen "
                     "write-deleted insert post expunge create delete admin",
                     "Error: Can't open mailbox Nonexist: Mailbox doesn't "
                     "exist: Nonexist",
                     "$ acl get -u dora Nonexist: 68",
                     "doveadm(dora): Fatal: Invalid ID: bob",
                     "doveadm(dora): Fatal: Invalid right 'l'",
                     "Info: User dora has rights: lookup read write "
                     "write-seen write-deleted insert post expunge create "
                     "delete admin"]:
            self.assertIn(text, r)
        with open(os.path.join(self.r.maildir("dora"), ".Pub",
                               "dovecot-acl")) as f:
            self.assertEqual(f.read(), "group=g lrw\nuser=bob lr\n")

    def test_6_global_file(self):
        """acl = vfile:PATH: the global file's entries by mailbox
        pattern ("#id" in GETACL, "global" in doveadm), replaced by the
        mailbox's own entries for the same identifier."""
        def session(dovecot):
            env = Env("", prefix="roost-acl.")
            try:
                env.write_conf("mail_plugins = acl\nprotocol imap {\n"
                               "  mail_plugins = $mail_plugins imap_acl\n"
                               "}\nplugin {\n  acl = vfile:%s/global-acl"
                               "\n}\n" % env.tmp)
                with open(env.tmp + "/global-acl", "w") as f:
                    f.write("# global\nPub owner lr\nPub user=bob lrw\n"
                            "P?b user=carol lr\n* user=dan l\n")
                env.start(dovecot=dovecot)
                out = run(env, "alice", [
                    "a CREATE Pub", "b GETACL Pub", "c MYRIGHTS Pub",
                    "d SETACL Pub bob l", "e GETACL INBOX",
                    "f MYRIGHTS INBOX"], dovecot)
                with open(os.path.join(env.maildir("alice"), ".Pub",
                                       "dovecot-acl"), "w") as f:
                    f.write("owner lrwstipekxa\nuser=bob r\n")
                os.chown(os.path.join(env.maildir("alice"), ".Pub",
                                      "dovecot-acl"), UID, GID)
                out += run(env, "alice", [
                    "g GETACL Pub", "h MYRIGHTS Pub", "i SETACL Pub dan lr",
                    "j GETACL Pub"], dovecot)
                rc, o, e = env.doveadm(["acl", "get", "-u", "alice", "Pub"],
                                       dovecot=dovecot)
                return out + o + e
            finally:
                env.cleanup()

        r = session(False)
        if HAVE_DOVECOT:
            self.assertEqual(session(True), r)
        for line in ["b NO [NOPERM] You lack administrator privileges on "
                     "this mailbox.", "* MYRIGHTS Pub lr",
                     "* ACL INBOX #dan l alice lrwstipekxacd",
                     "* MYRIGHTS INBOX lrwstipekxacd"]:
            self.assertIn(line + "\r\n", r)
        # the global "owner lr" wins over the mailbox's "owner" line
        self.assertEqual(r.count("* MYRIGHTS Pub lr\r\n"), 2)
        self.assertIn("owner      global lookup read", r)

    def test_7_lda_doveadm_ignore_acls(self):
        """Deliveries into INBOX and doveadm's mail commands don't obey
        the ACL (Dovecot's MAILBOX_FLAG_IGNORE_ACLS); IMAP does."""
        def session(dovecot):
            env = Env("mail_plugins = acl\nprotocol imap {\n  mail_plugins"
                      " = $mail_plugins imap_acl\n}\nplugin {\n"
                      "  acl = vfile\n}\n", prefix="roost-acl.")
            try:
                env.start(dovecot=dovecot)
                out = []
                out.append(env.lda("ida", b"Subject: 1\n\nx\n",
                                   dovecot=dovecot))
                out.append(env.doveadm(["acl", "set", "-u", "ida", "INBOX",
                                        "owner", "lookup", "admin"],
                                       dovecot=dovecot))
                out.append(env.lda("ida", b"Subject: 2\n\nx\n",
                                   dovecot=dovecot))
                out.append(env.doveadm(["mailbox", "status", "-u", "ida",
                                        "messages", "INBOX"],
                                       dovecot=dovecot))
                out.append(env.doveadm(["acl", "rights", "-u", "ida",
                                        "INBOX"], dovecot=dovecot))
                out.append(run(env, "ida", ["a SELECT INBOX",
                                            "b STATUS INBOX (MESSAGES)",
                                            "c MYRIGHTS INBOX"], dovecot))
                return out
            finally:
                env.cleanup()

        r = session(False)
        if HAVE_DOVECOT:
            self.assertEqual(session(True), r)
        self.assertEqual(r[2], (0, ""))
        self.assertEqual(r[3], (0, "INBOX messages=2\n", ""))
        self.assertIn("a NO [NOPERM] Permission denied.", r[5])
        self.assertIn("* MYRIGHTS INBOX la\r\n", r[5])

    def test_8_groups(self):
        """acl_groups from the userdb: "$group" rights and the shared
        dict's group keys make another user's mailbox visible."""
        def session(dovecot):
            env = make_env()
            try:
                with open(env.conf) as f:
                    conf = f.read().replace(
                        "home=%s/home/%%u" % env.tmp,
                        "home=%s/home/%%u acl_groups=staff,x" % env.tmp)
                with open(env.conf, "w") as f:
                    f.write(conf)
                env.start(dovecot=dovecot)
                out = run(env, "gail", ["a CREATE Team", "b CREATE Solo",
                                        "c SETACL Team $staff lr",
                                        "d SETACL Solo $other lr",
                                        "e GETACL Team"], dovecot)
                out += run(env, "hank", ["f LIST \"\" *",
                                         "g MYRIGHTS shared/gail/Team",
                                         "h MYRIGHTS shared/gail/Solo"],
                           dovecot)
                with open(env.tmp + "/dict/shared-mailboxes.db") as f:
                    lines = f.read().splitlines()
                # the file dict's key order is Dovecot's hash order:
                # compare its (key, value) pairs sorted
                pairs = sorted(zip(lines[0::2], lines[1::2]))
                return out + "".join("%s\n%s\n" % p for p in pairs)
            finally:
                env.cleanup()

        r = session(False)
        if HAVE_DOVECOT:
            self.assertEqual(session(True), r)
        for line in ["* ACL Team $staff lr gail lrwstipekxacd",
                     "* LIST (\\HasNoChildren) \"/\" shared/gail/Team",
                     "* MYRIGHTS shared/gail/Team lr",
                     "h NO [NONEXISTENT] Mailbox doesn't exist: "
                     "shared/gail/Solo."]:
            self.assertIn(line + "\r\n", r)
        self.assertIn("shared/shared-boxes/group/staff/gail\n1\n", r)

    def test_9_list_myrights(self):
        """LIST-MYRIGHTS (RFC 8440), Roost only (Dovecot 2.3 lacks it):
        advertised with imap_acl, a MYRIGHTS line after each selectable
        mailbox's LIST (and STATUS) line, none for \\Noselect ones."""
        run(self.r, "alice", ["a CREATE MR/Sub", "b SETACL MR/Sub bob lr"],
            False)
        s = Session(self.r, "bob", False)
        self.assertIn(" LIST-MYRIGHTS", s.greeting)
        s.close()
        s = Session(self.r, "bob", False)
        out = s.cmd("a LIST \"\" shared/alice/MR* RETURN (MYRIGHTS)")
        out += s.cmd("b LIST \"\" shared/alice/MR/Sub RETURN (STATUS "
                     "(MESSAGES) MYRIGHTS)")
        s.close()
        # right after the mailbox's LIST line; none for the parent
        self.assertIn("* LIST () \"/\" shared/alice/MR/Sub\r\n"
                      "* MYRIGHTS shared/alice/MR/Sub lr\r\n", out)
        self.assertNotIn("MYRIGHTS shared/alice/MR ", out)
        self.assertIn("* STATUS shared/alice/MR/Sub (MESSAGES 0)\r\n"
                      "* MYRIGHTS shared/alice/MR/Sub lr\r\nb OK", out)
        out = run(self.r, "alice", ["a LIST \"\" MR/Sub RETURN (MYRIGHTS)"],
                  False)
        self.assertIn("* MYRIGHTS MR/Sub lrwstipekxacd\r\na OK", out)
        run(self.r, "alice", ["a DELETE MR/Sub", "b DELETE MR"], False)

    def test_4_without_plugin(self):
        env = Env("", prefix="roost-acl.")
        try:
            out, err, rc = env.imap("u", ["a GETACL INBOX", "b LOGOUT"])
            self.assertIn("a BAD Error in IMAP command GETACL: Unknown "
                          "command", out)
            self.assertNotIn("ACL", out.split("\r\n")[0])
            out, err, rc = env.imap("u", ["a LIST \"\" * RETURN (MYRIGHTS)",
                                          "b LOGOUT"])
            self.assertIn("a BAD Error in IMAP command LIST: Unknown "
                          "return options", out)
        finally:
            env.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)

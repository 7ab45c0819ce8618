#!/usr/bin/env python3
"""test_doveadm_dedup.py - doveadm deduplicate, purge and altmove against
Debian's Dovecot 2.3.

Two copies of the same mail (Maildir with duplicate files, and an mbox
whose messages repeat Message-IDs): Roost's `doveadm deduplicate` runs on
one, Dovecot's on the other, then Roost's `doveadm fetch` lists both
(uid, Message-ID): the lists must be identical. By GUID (the default)
Maildir copies are distinct files and stay; by Message-ID (-m) the first
of each is kept and messages without one are left alone. The texts and
exit codes of purge/altmove/deduplicate (no user, extra arguments, no
query, a bad option, success doing nothing on Maildir/mbox) are compared
too. Without Dovecot only Roost's expected results are checked.

Run: ROOST=build/bin/roost python3 tests/integration/test_doveadm_dedup.py
Needs root (the mail user is nobody). About 5 s."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

ROOST = os.environ.get("ROOST", "build/bin/roost")
DV_DOVEADM = "/usr/bin/doveadm"
DV_MASTER = "/usr/sbin/dovecot"
HAVE_DOVECOT = os.path.exists(DV_DOVEADM) and os.path.exists(DV_MASTER) \
    and os.path.realpath(DV_DOVEADM) != os.path.realpath(ROOST)
UID = GID = 65534

CONF = """protocols = imap
base_dir = {d}/run
log_path = {d}/log
mail_location = {loc}
ssl = no
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
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

MSGS = [("<a@x>", "1"), ("<a@x>", "2"), ("<c@x>", "3"), (None, "4"),
        ("<a@x>", "5"), (None, "6"), ("<c@x>", "7"), ("<d@x>", "8")]


def body(msgid, subj):
    hdr = "Message-ID: %s\n" % msgid if msgid else ""
    return "%sSubject: %s\n\nbody\n" % (hdr, subj)


class Env:
    def __init__(self, top, name, mbox):
        self.dir = os.path.join(top, name)
        os.makedirs(os.path.join(self.dir, "run"))
        home = os.path.join(self.dir, "home", "u")
        if mbox:
            loc = "mbox:%s/mail:INBOX=%s/mbox" % (home, home)
            os.makedirs(os.path.join(home, "mail"))
            with open(os.path.join(home, "mbox"), "w") as f:
                for msgid, subj in MSGS:
                    f.write("From a@b  Mon Jan  1 00:00:0%s 2024\n%s\n"
                            % (subj, body(msgid, subj)))
        else:
            loc = "maildir:%s/Maildir" % home
            md = os.path.join(home, "Maildir")
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub))
            for i, (msgid, subj) in enumerate(MSGS):
                with open(os.path.join(md, "cur", "10%d.M%dP1.host:2,"
                                       % (i, i)), "w") as f:
                    f.write(body(msgid, subj))
            # a hard-linked copy: another file, so another GUID
            os.link(os.path.join(md, "cur", "100.M0P1.host:2,"),
                    os.path.join(md, "cur", "110.M10P1.host:2,"))
        for root, dirs, files in os.walk(os.path.join(self.dir, "home")):
            os.chown(root, UID, GID)
            for f in files:
                os.chown(os.path.join(root, f), UID, GID)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(d=self.dir, loc=loc, uid=UID, gid=GID))
        self.master = False

    def doveadm(self, dovecot, *args):
        if dovecot and not self.master:
            subprocess.run([DV_MASTER, "-c", self.conf], check=True)
            for _ in range(100):
                if os.path.exists(os.path.join(self.dir, "run",
                                               "auth-userdb")):
                    break
                time.sleep(0.05)
            self.master = True
        argv = ([DV_DOVEADM] if dovecot else [ROOST, "doveadm"]) + \
            ["-c", self.conf] + list(args)
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60,
                           env={"PATH": os.environ["PATH"]})
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    def listing(self):
        rc, out = self.doveadm(False, "fetch", "-u", "u",
                               "uid hdr.message-id", "mailbox", "*", "all")
        return rc, out

    def stop(self):
        if self.master:
            subprocess.run([DV_DOVEADM, "-c", self.conf, "stop"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


CASES = [
    ("purge", "-u", "u"),
    ("altmove", "-u", "u", "all"),
    ("altmove", "-u", "u", "-r", "mailbox", "INBOX", "all"),
    ("purge",),
    ("altmove",),
    ("deduplicate",),
    ("deduplicate", "-u", "u"),
    ("purge", "-u", "u", "extra"),
    ("altmove", "-u", "u"),
    ("deduplicate", "-u", "u", "-x", "all"),
    ("deduplicate", "-u", "u", "all", "("),
]


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class DedupTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="roost-dedup.")
        os.chmod(self.tmp, 0o755)
        self.envs = []

    def tearDown(self):
        for e in self.envs:
            e.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def pair(self, name, mbox):
        r = Env(self.tmp, "r-" + name, mbox)
        d = Env(self.tmp, "d-" + name, mbox)
        self.envs += [r, d]
        return r, d

    def dedup(self, name, mbox, args, expect_subjects):
        r, d = self.pair(name, mbox)
        rc, out = r.doveadm(False, "deduplicate", "-u", "u", *args)
        self.assertEqual((rc, out), (0, ""))
        rc, rlist = r.listing()
        self.assertEqual(rc, 0, rlist)
        subjects = []
        rc, out = r.doveadm(False, "fetch", "-u", "u", "hdr.subject",
                            "all")
        for line in out.split("\n"):
            if line.startswith("hdr.subject: "):
                subjects.append(line[len("hdr.subject: "):])
        self.assertEqual(expect_subjects, subjects)
        if HAVE_DOVECOT:
            rc, out = d.doveadm(True, "deduplicate", "-u", "u", *args)
            self.assertEqual((rc, out), (0, ""))
            rc, dlist = d.listing()
            self.assertEqual(dlist, rlist)

    def test_maildir_guid(self):
        # every file is its own GUID, the hard link too: nothing goes
        self.dedup("mg", False, ["mailbox", "INBOX", "all"],
                   ["1", "2", "3", "4", "5", "6", "7", "8", "1"])

    def test_maildir_msgid(self):
        self.dedup("mm", False, ["-m", "all"], ["1", "3", "4", "6", "8"])

    def test_maildir_msgid_query(self):
        # only messages the query matches count
        self.dedup("mq", False, ["-m", "mailbox", "INBOX", "NOT",
                                 "subject", "1"],
                   ["1", "2", "3", "4", "6", "8", "1"])

    def test_mbox_guid(self):
        # mbox GUIDs are an MD5 of a few headers (Message-ID, Date,
        # Received...), so equal Message-IDs collapse, and so do the two
        # messages that have none of them
        self.dedup("bg", True, ["all"], ["1", "3", "4", "8"])

    def test_mbox_msgid(self):
        self.dedup("bm", True, ["-m", "all"], ["1", "3", "4", "6", "8"])

    def test_texts_and_codes(self):
        r, d = self.pair("t", False)
        for case in CASES:
            rres = r.doveadm(False, *case)
            if HAVE_DOVECOT:
                dres = d.doveadm(True, *case)
                self.assertEqual(dres, rres, case)
            elif case[0] == "purge" and len(case) == 3:
                self.assertEqual(rres, (0, ""))


if __name__ == "__main__":
    unittest.main(verbosity=2)

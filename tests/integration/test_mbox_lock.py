#!/usr/bin/env python3
"""test_mbox_lock.py - IMAP on an mbox whose lock another process holds
past mbox_lock_timeout (2 s here), against Debian's Dovecot 2.3.

A Python holder takes the fcntl write lock (or the `<mbox>.lock` dotlock)
after SELECT; the session then runs STORE, EXPUNGE, APPEND, COPY and
FETCH, the lock is let go, and NOOP/FETCH follow. As Dovecot: STORE and
EXPUNGE answer OK and keep the change pending (every sync meanwhile says
`* NO Timeout while waiting for lock`; with mbox_lazy_writes = yes a STORE
waits for nothing), APPEND and COPY fail with `NO [SERVERBUG] Timeout
while waiting for lock`, and the first sync after the lock is free writes
the pending flags and expunges (the EXPUNGE shows then). The transcripts
(timings, UIDVALIDITY and MAILBOXID normalised) and the mbox files
(UIDVALIDITY normalised) must be identical. Without Dovecot the Roost
transcript is checked against the expected one alone.

The five sessions (Roost and Dovecot with fcntl and dotlock, Roost with
mbox_lazy_writes = no) each wait out several lock timeouts; they run at
once (own directories, own mbox files; no ports), started in setUpClass,
and each test checks the transcripts of its own.

Run: ROOST=build/bin/roost python3 tests/integration/test_mbox_lock.py
Needs root (the mail user is nobody). About 15 s."""
import concurrent.futures
import fcntl
import os
import re
import shutil
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_imap_append as T  # noqa: E402

MSG = "From a@b  Mon Jan  1 00:00:00 2024\nSubject: %s\n\nbody\n\n"

SCRIPT = r"""
c STORE 1 +FLAGS (\\Seen)\r\n|c
d FETCH 1:* (UID FLAGS)\r\n|d
e STORE 2 +FLAGS (\\Deleted)\r\n|e
f EXPUNGE\r\n|f
g APPEND INBOX {5+}\r\nhello\r\n|g
h COPY 1 INBOX\r\n|h
i FETCH 1:* (UID FLAGS)\r\n|i
"""

AFTER = r"""
j NOOP\r\n|j
k FETCH 1:* (UID FLAGS)\r\n|k
l LOGOUT\r\n|l
"""

# Dovecot 2.3.19's answers with mbox_lazy_writes = yes (the default)
EXPECTED_LAZY = """\
* 1 FETCH (FLAGS (\\Seen \\Recent))
c OK Store completed (T secs).
* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))
* 2 FETCH (UID 2 FLAGS (\\Recent))
d OK Fetch completed (T secs).
* 2 FETCH (FLAGS (\\Deleted \\Recent))
e OK Store completed (T secs).
* NO Timeout while waiting for lock
f OK Expunge completed (T secs).
g NO [SERVERBUG] Timeout while waiting for lock (T secs).
h NO [SERVERBUG] Timeout while waiting for lock (T secs).
* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))
* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent))
* NO Timeout while waiting for lock
i OK Fetch completed (T secs).
* 2 EXPUNGE
* 1 RECENT
j OK NOOP completed (T secs).
* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))
k OK Fetch completed (T secs).
* BYE Logging out
l OK Logout completed (T secs)."""


def normalize(lines):
    res = []
    for s in T.normalize(lines):
        s = re.sub(r"\(T secs\)", "(T secs)", s)
        res.append(s)
    return res


def norm_file(text):
    return re.sub(r"X-IMAPbase: \d+", "X-IMAPbase: V", text)


# (name, dovecot, lock, extra config) of every session
RUNS = [("roost-fcntl-lazy", False, "fcntl", ""),
        ("dovecot-fcntl-lazy", True, "fcntl", ""),
        ("roost-fcntl", False, "fcntl", "mbox_lazy_writes = no\n"),
        ("roost-dotlock-lazy", False, "dotlock", ""),
        ("dovecot-dotlock-lazy", True, "dotlock", "")]

# T.Env reads the config template from the global T.CONF
ENV_LOCK = threading.Lock()


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class MboxLockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="roost-mbox-lock.")
        os.chmod(cls.tmp, 0o755)
        cls.orig_conf = T.CONF
        cls.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=len(RUNS))
        cls.runs = {name: cls.pool.submit(cls.run_one, name, dovecot,
                                          lock, extra)
                    for name, dovecot, lock, extra in RUNS
                    if T.HAVE_DOVECOT or not dovecot}

    @classmethod
    def tearDownClass(cls):
        cls.pool.shutdown(wait=True)
        T.CONF = cls.orig_conf
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def result(self, name):
        """(normalised transcript, normalised mbox) of a session"""
        return self.runs[name].result()

    @classmethod
    def run_one(cls, name, dovecot, lock, extra):
        with ENV_LOCK:
            T.CONF = cls.orig_conf.replace(
                "mail_location = maildir:{d}/home/%u/Maildir",
                "mail_location = mbox:{d}/home/%u/mail:INBOX={d}/home/%u/"
                "mbox\nmbox_lock_timeout = 2 secs\n"
                "mail_privileged_group =\n" + extra)
            env = T.Env(cls.tmp, name, dovecot)
        try:
            home = os.path.join(env.dir, "home", "u")
            os.makedirs(os.path.join(home, "mail"))
            mb = os.path.join(home, "mbox")
            with open(mb, "w") as f:
                f.write(MSG % "x" + MSG % "y")
            for p in (home, os.path.join(home, "mail"), mb):
                os.chown(p, T.UID, T.GID)
            s = T.Session(env.argv("u"))
            for d, u in T.steps("a SELECT INBOX\\r\\n|a\n"
                                "b FETCH 1:* (UID FLAGS)\\r\\n|b"):
                s.step(d, u)
            start = len(s.lines)
            holder = None
            if lock == "fcntl":
                holder = open(mb, "r+")
                fcntl.lockf(holder, fcntl.LOCK_EX)
            else:
                with open(mb + ".lock", "w") as f:
                    f.write("%d:%s" % (os.getpid(), os.uname()[1]))
            try:
                for d, u in T.steps(SCRIPT):
                    s.step(d, u, timeout=30)
            finally:
                if holder is not None:
                    holder.close()
                else:
                    os.unlink(mb + ".lock")
            for d, u in T.steps(AFTER):
                s.step(d, u)
            lines = s.close()[start:]
            if "Sanitizer" in s.stderr or "runtime error" in s.stderr:
                raise AssertionError(s.stderr)
            with open(mb) as f:
                text = f.read()
            return normalize(lines), norm_file(text)
        finally:
            env.stop()

    def check(self, tag, expected=None):
        r, rfile = self.result("roost-" + tag)
        if expected is not None:
            self.assertEqual(expected.split("\n"), r)
        # the file: message 1 seen, message 2 expunged, nothing appended
        self.assertIn("Subject: x\nX-IMAPbase: V 0000000002\n", rfile)
        self.assertIn("Status: RO\n", rfile)
        self.assertNotIn("Subject: y", rfile)
        self.assertNotIn("hello", rfile)
        if not T.HAVE_DOVECOT:
            return
        d, dfile = self.result("dovecot-" + tag)
        self.assertEqual(d, r)
        self.assertEqual(dfile, rfile)

    def test_fcntl_lazy(self):
        self.check("fcntl-lazy", EXPECTED_LAZY)

    def test_fcntl_not_lazy(self):
        # STORE waits for the lock and says so at once. Roost only: when
        # a sync fails Dovecot holds the FETCH of the flag change back to
        # a later command (and skips some waits), Roost sends it at once
        r, rfile = self.result("roost-fcntl")
        self.assertEqual(r[:3], ["* 1 FETCH (FLAGS (\\Seen \\Recent))",
                                 "* NO Timeout while waiting for lock",
                                 "c OK Store completed (T secs)."])
        no = "* NO Timeout while waiting for lock"
        self.assertEqual([x for x in r if x != no],
                         [x for x in EXPECTED_LAZY.split("\n") if x != no])
        # every command while the flag change waits: STORE, FETCH,
        # STORE, EXPUNGE, FETCH (APPEND/COPY say it in their NO)
        self.assertEqual(r.count(no), 5)
        self.assertIn("Status: RO\n", rfile)
        self.assertNotIn("Subject: y", rfile)

    def test_dotlock_lazy(self):
        self.check("dotlock-lazy", EXPECTED_LAZY)


if __name__ == "__main__":
    unittest.main(verbosity=2)

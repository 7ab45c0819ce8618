#!/usr/bin/env python3
"""test_dotlock_killed.py - a Roost process SIGKILLed while it holds
dovecot-uidlist.lock must not make the next one wait Dovecot's 2-minute
stale timeout.

`doveadm mailbox status` gives UIDs to 20,000 new Maildir files, holding
dovecot-uidlist.lock meanwhile. The test stops it (SIGSTOP) the moment the
lock file appears; if the lock still holds "<pid>:<host>" (Roost writes it
there until the new content goes over it) the process is SIGKILLed, else
it is let go and the round repeats. The next `doveadm mailbox status` must
take the lock over at once (well under the 120 s stale timeout), say so
in a warning naming the dead pid, and count every message. Dovecot's own
doveadm (force-resync), given the same leftover lock, is timed too when
installed: it reads "<pid>:<host>" the same way and takes the lock over
at once (1.5 s measured, without a log line; Roost warns).

Run: ROOST=build/bin/roost python3 tests/integration/test_dotlock_killed.py
Needs root (the mail user is nobody). About 15 s."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

ROOST = os.environ.get("ROOST", "build/bin/roost")
DV_DOVEADM = "/usr/bin/doveadm"
HAVE_DOVECOT = os.path.exists(DV_DOVEADM) and \
    os.path.exists("/usr/sbin/dovecot") and \
    os.path.realpath(DV_DOVEADM) != os.path.realpath(ROOST)
UID = GID = 65534
N = 20000

CONF = """protocols = imap
base_dir = {d}/run
log_path = {d}/log
mail_location = maildir:{d}/home/%u/Maildir
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


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class DotlockKilledTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roost-dotlock-killed.")
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "run"))
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(d=self.dir, uid=UID, gid=GID))
        self.md = os.path.join(self.dir, "home", "u", "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.md, sub))
        now = int(time.time())
        for i in range(N):
            with open(os.path.join(self.md, "new", "%d.M%dP1.host" %
                                   (now, i)), "w") as f:
                f.write("Subject: %d\n\nbody\n" % i)
        for root, dirs, files in os.walk(os.path.join(self.dir, "home")):
            os.chown(root, UID, GID)
            for name in files:
                os.chown(os.path.join(root, name), UID, GID)
        self.lock = os.path.join(self.md, "dovecot-uidlist.lock")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def status(self, doveadm):
        argv = [doveadm, "-c", self.conf, "mailbox", "status", "-u", "u",
                "messages", "INBOX"]
        if doveadm != ROOST:
            # Dovecot's status reads its index alone: sync first
            argv = [doveadm, "-c", self.conf, "force-resync", "-u", "u",
                    "INBOX"]
        if doveadm == ROOST:
            argv.insert(1, "doveadm")
        t0 = time.time()
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=200)
        return (time.time() - t0, p.returncode, p.stdout.decode(),
                p.stderr.decode())

    def kill_holder(self):
        """One round: 'pid' if a holder died with its pid in the lock,
        None if it wrote its content first (or finished)."""
        p = subprocess.Popen([ROOST, "doveadm", "-c", self.conf, "mailbox",
                              "status", "-u", "u", "messages", "INBOX"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        while p.poll() is None:
            if not os.path.exists(self.lock):
                continue
            p.send_signal(signal.SIGSTOP)
            try:
                with open(self.lock) as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
            if text == "%d:%s" % (p.pid, socket.gethostname()):
                p.kill()
                p.wait()
                return p.pid
            p.send_signal(signal.SIGCONT)
            break
        p.wait()
        return None

    def test_killed_holder_taken_over(self):
        pid = None
        for _ in range(5):
            pid = self.kill_holder()
            if pid is not None:
                break
            for name in ("dovecot-uidlist", "dovecot-uidlist.lock"):
                try:
                    os.unlink(os.path.join(self.md, name))
                except FileNotFoundError:
                    pass
        self.assertIsNotNone(pid, "never caught the holder inside the lock")
        self.assertTrue(os.path.exists(self.lock))
        leftover = os.path.join(self.dir, "leftover.lock")
        shutil.copy2(self.lock, leftover)

        secs, rc, out, err = self.status(ROOST)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "INBOX messages=%d\n" % N)
        self.assertLess(secs, 30)
        log = err
        if os.path.exists(os.path.join(self.dir, "log")):
            with open(os.path.join(self.dir, "log")) as f:
                log += f.read()
        self.assertIn("dovecot-uidlist.lock: overriding the lock of a "
                      "process that no longer exists (pid %d)" % pid, log)
        self.assertFalse(os.path.exists(self.lock))
        print("\nRoost took the dead holder's lock over: %.2f s" % secs)

        if HAVE_DOVECOT:
            # Dovecot with the same leftover (a Roost process died in it)
            os.unlink(os.path.join(self.md, "dovecot-uidlist"))
            shutil.copy2(leftover, self.lock)
            os.chown(self.lock, UID, GID)
            subprocess.run(["/usr/sbin/dovecot", "-c", self.conf],
                           check=True)
            try:
                for _ in range(100):
                    if os.path.exists(os.path.join(self.dir, "run",
                                                   "auth-userdb")):
                        break
                    time.sleep(0.05)
                secs, rc, out, err = self.status(DV_DOVEADM)
            finally:
                subprocess.run([DV_DOVEADM, "-c", self.conf, "stop"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            self.assertEqual(rc, 0, err)
            self.assertLess(secs, 30)
            print("Dovecot with the same lock: %.2f s" % secs)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""imap_client_workarounds: delay-newmail (EXISTS/RECENT only in NOOP
and CHECK replies; the rest of the session doesn't see the new message
yet), tb-extra-mailbox-sep (a trailing separator ignored outside
CREATE), tb-lsub-flags. The expected transcript was taken from Debian's
Dovecot 2.3.19 running the same script (/usr/lib/dovecot/imap with the
same settings). Runs `roost imap -u` as root; the mail user is nobody.

Env: ROOST = path of build/bin/roost."""
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import unittest

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534

EXPECTED = """* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.
* 0 EXISTS
* 0 RECENT
* OK [UIDVALIDITY <v>] UIDs valid
* OK [UIDNEXT 1] Predicted next UID
a OK [READ-WRITE] Select completed (t).
b OK Create completed (t).
c OK Subscribe completed (t).
* LSUB () "." Foo
d OK Lsub completed (t).
* STATUS Foo. (MESSAGES 0)
e OK Status completed (t).
f BAD Error in IMAP command FETCH: Invalid messageset (t).
* STATUS INBOX (MESSAGES 0)
g OK [CLIENTBUG] Status on selected mailbox completed (t).
* 1 EXISTS
* 1 RECENT
h OK NOOP completed (t).
* BYE Logging out
i OK Logout completed (t).
"""


class Workarounds(unittest.TestCase):
    def test_delay_newmail_and_extra_sep(self):
        tmp = tempfile.mkdtemp(prefix="roost-wa.")
        try:
            os.chmod(tmp, 0o755)
            home = os.path.join(tmp, "home")
            os.makedirs(home)
            os.chown(home, UID, GID)
            conf = os.path.join(tmp, "dovecot.conf")
            with open(conf, "w") as f:
                f.write("""mail_location = maildir:%(tmp)s/home/%%u/Maildir
imap_client_workarounds = delay-newmail tb-extra-mailbox-sep tb-lsub-flags
userdb {
  driver = static
  args = uid=%(uid)d gid=%(uid)d home=%(tmp)s/home/%%u
}
passdb {
  driver = static
  args = nopassword
}
""" % {"tmp": tmp, "uid": UID})
            p = subprocess.Popen([ROOST, "imap", "-c", conf, "-u", "wa"],
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)

            def read(secs):
                out, end = b"", time.time() + secs
                while time.time() < end:
                    r, _, _ = select.select([p.stdout], [], [], 0.05)
                    if r:
                        d = os.read(p.stdout.fileno(), 65536)
                        if not d:
                            break
                        out += d
                return out.decode(errors="replace")

            read(0.5)  # PREAUTH
            p.stdin.write(b"a SELECT INBOX\r\nb CREATE Foo\r\n"
                          b"c SUBSCRIBE Foo.\r\nd LSUB \"\" *\r\n"
                          b"e STATUS Foo. (MESSAGES)\r\n")
            p.stdin.flush()
            out = read(0.8)
            subprocess.run([os.path.join(BIN, "dovecot-lda"), "-c", conf,
                            "-d", "wa"], input=b"Subject: x\n\nx\n",
                           check=True)
            p.stdin.write(b"f FETCH 1:* FLAGS\r\ng STATUS INBOX (MESSAGES)\r\n"
                          b"h NOOP\r\ni LOGOUT\r\n")
            p.stdin.flush()
            out += read(1.5)
            p.wait(10)
            out = re.sub(r"\(\d+\.\d+ \+ [^)]*\)", "(t)", out)
            out = re.sub(r"UIDVALIDITY \d+", "UIDVALIDITY <v>", out)
            # OBJECTID's SELECT line (RFC 8474), Roost's own
            out = re.sub(r"\* OK \[MAILBOXID \([^)]*\)\] Ok\r\n", "", out)
            out = re.sub(r"\[MAILBOXID \([^)]*\)\] (Create completed)",
                         r"\1", out)
            self.assertEqual(out.replace("\r\n", "\n"), EXPECTED)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)

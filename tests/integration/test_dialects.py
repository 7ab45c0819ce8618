#!/usr/bin/env python3
"""A server started from a Dovecot 1.x dovecot.conf and one started from a
Dovecot 2.4 dovecot.conf serve IMAP and POP3 logins exactly as one
started from the equivalent 2.3 file: the same session transcripts (the
greeting, CAPABILITY, LOGIN, SELECT, FETCH, POP3 USER/PASS/STAT/RETR),
the same `doveconf -n`. Each dialect's config is read by every process
that loads it (master, login and mail workers) through the translation
of compat/dialect.c. Needs root (the mail user is nobody).

Env: ROOST = path of build/bin/roost."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from serverlib import free_port

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534
GREETING = "Dialect test ready."

COMMON_23 = """protocols = imap pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
login_greeting = %(greeting)s
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %(imap)d
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3)d
  }
}
"""

# Dovecot 1.x: default_mail_env, ssl_disable, unitless times, listen with
# a port inside protocol { }, auth default { passdb/userdb DRIVER { } }.
CONF_1X = """# Dovecot 1.0 style
protocols = imap pop3
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
default_mail_env = maildir:~/Maildir
first_valid_uid = 1
ssl_disable = yes
login_greeting = %(greeting)s
listen = 127.0.0.1
protocol imap {
  listen = 127.0.0.1:%(imap)d
}
protocol pop3 {
  listen = 127.0.0.1:%(pop3)d
}
auth default {
  mechanisms = plain
  failure_delay = 0
  passdb passwd-file {
    args = %(tmp)s/passwd
  }
  userdb passwd-file {
    args = %(tmp)s/passwd
  }
}
"""

# Dovecot 2.4: version lines, mail_driver/mail_path, named passdb/userdb
# with passwd_file_path, listener listen =.
CONF_24 = """dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_driver = maildir
mail_path = ~/Maildir
mailbox_list_drop_noselect = no
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
login_greeting = %(greeting)s
submission_max_mail_size = 0
service anvil {
  chroot = empty
  user = $SET:default_internal_user
}
passdb passwd-file {
  passwd_file_path = %(tmp)s/passwd
  default_password_scheme = CRYPT
}
userdb passwd-file {
  passwd_file_path = %(tmp)s/passwd
}
service imap-login {
  inet_listener imap {
    listen = 127.0.0.1
    port = %(imap)d
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3)d
  }
}
"""

MESSAGE = (b"From: a@example.com\r\nTo: alice@example.com\r\n"
           b"Subject: dialects\r\n\r\nhello\r\n")


def recv_until(s, end):
    data = b""
    while not data.endswith(end):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class Server:
    def __init__(self, template):
        self.tmp = tempfile.mkdtemp(prefix="roost-dialect.")
        os.chmod(self.tmp, 0o755)
        home = os.path.join(self.tmp, "home")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(home, "Maildir", sub))
        with open(os.path.join(home, "Maildir", "new", "1.msg"), "wb") as f:
            f.write(MESSAGE.replace(b"\r\n", b"\n"))
        for root, dirs, files in os.walk(home):
            for name in dirs + files + [""]:
                os.chown(os.path.join(root, name), UID, GID)
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write("alice:{PLAIN}secret:%d:%d::%s::\n" % (UID, GID, home))
        self.imap, self.pop3 = free_port(), free_port()
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(template % {"tmp": self.tmp, "imap": self.imap,
                                "pop3": self.pop3, "greeting": GREETING})
        self.master = subprocess.Popen(
            [os.path.join(BIN, "dovecot"), "-F", "-c", self.conf],
            stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.imap), 1).close()
                socket.create_connection(("127.0.0.1", self.pop3), 1).close()
                break
            except OSError:
                time.sleep(0.1)

    def stop(self):
        self.master.terminate()
        try:
            _, err = self.master.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.master.kill()
            _, err = self.master.communicate()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return err.decode(errors="replace")

    def doveconf(self):
        out = subprocess.run([os.path.join(BIN, "doveconf"), "-n", "-c",
                              self.conf], capture_output=True, text=True)
        lines = [line for line in out.stdout.splitlines()
                 if not line.startswith("#")]
        # the temp dir and the ports differ from server to server
        text = "\n".join(lines).replace(self.tmp, "TMP")
        return text.replace(str(self.imap), "IMAP").replace(
            str(self.pop3), "POP3")

    def imap_session(self):
        s = socket.create_connection(("127.0.0.1", self.imap), 10)
        out = [recv_until(s, b"\r\n")]
        for tag, cmd in (("a", "CAPABILITY"), ("b", "LOGIN alice secret"),
                         ("c", "SELECT INBOX"),
                         ("d", "FETCH 1 (FLAGS BODY[])"), ("e", "LOGOUT")):
            s.sendall(("%s %s\r\n" % (tag, cmd)).encode())
            data = recv_until(s, b"\r\n")
            while not any(line.startswith(tag.encode() + b" ")
                          for line in data.split(b"\r\n")):
                data += recv_until(s, b"\r\n")
            out.append(data)
        s.close()
        # UIDVALIDITY is a timestamp, the MAILBOXID (OBJECTID) the new
        # mailbox's GUID, command timings vary
        return [re.sub(rb"\([0-9.]+ \+ [0-9.]+ secs\)", b"(T)",
                       b"\r\n".join(line for line in chunk.split(b"\r\n")
                                    if b"UIDVALIDITY" not in line and
                                    b"[MAILBOXID (" not in line))
                for chunk in out]

    def pop3_session(self):
        s = socket.create_connection(("127.0.0.1", self.pop3), 10)
        out = [recv_until(s, b"\r\n")]
        for cmd, multi in (("USER alice", False), ("PASS secret", False),
                           ("STAT", False), ("RETR 1", True),
                           ("QUIT", False)):
            s.sendall(cmd.encode() + b"\r\n")
            out.append(recv_until(s, b"\r\n.\r\n" if multi else b"\r\n"))
        s.close()
        return out


class Dialects(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.results = {}
        for name, template in (("2.3", COMMON_23), ("1.x", CONF_1X),
                               ("2.4", CONF_24)):
            server = Server(template)
            try:
                dialect = subprocess.run(
                    [os.path.join(BIN, "doveconf"), "--dialect", "-c",
                     server.conf], capture_output=True,
                    text=True).stdout.split("\n")[0]
                cls.results[name] = (dialect, server.doveconf(),
                                     server.imap_session(),
                                     server.pop3_session())
            finally:
                server.stop()

    def test_detected(self):
        for name in ("2.3", "1.x", "2.4"):
            self.assertEqual(self.results[name][0], name)

    def test_imap_same_as_23(self):
        base = self.results["2.3"][2]
        self.assertIn(b"OK Logged in", base[2])
        self.assertIn(b"hello", base[4])
        for name in ("1.x", "2.4"):
            self.assertEqual(self.results[name][2], base, name)

    def test_pop3_same_as_23(self):
        base = self.results["2.3"][3]
        self.assertTrue(base[2].startswith(b"+OK Logged in"))
        self.assertIn(b"hello", base[4])
        for name in ("1.x", "2.4"):
            self.assertEqual(self.results[name][3], base, name)

    def test_doveconf_2_4_same_as_23(self):
        # the 2.4 file says everything the 2.3 one does (NO-NOSELECT is
        # kept off explicitly); the 1.x one differs only in where the
        # listener address comes from
        self.assertEqual(self.results["2.4"][1], self.results["2.3"][1])


if __name__ == "__main__":
    unittest.main()

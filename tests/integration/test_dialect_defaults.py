#!/usr/bin/env python3
"""What a Dovecot 2.4 file changes at run time through its version line
and its 2.4-only userdb fields (compat/dialect-defaults.c,
mailstore/mail-user.c):

- a passwd-file user whose extra fields are 2.4's userdb_mail_driver /
  userdb_mail_path (a 2.4 userdb can't return mail=) logs in over IMAP
  and sees the Maildir they name, not the configured mail_location; the
  same with userdb_mail and with 2.4's static userdb fields { };
- dovecot_config_version = 2.4.3 makes CRYPT the passwd-file default
  scheme: a password stored without {SCHEME} stops working, as with the
  2.3 file's `args = scheme=CRYPT`; with 2.4.0 (PLAIN) it logs in.

Needs root (the mail user is nobody). Env: ROOST = build/bin/roost."""
import os
import socket
import subprocess
import unittest

from dialectlib import (BIN, Server, chown_tree, maildir, recv_tagged,
                        write_passwd)

HEAD_24 = """dovecot_config_version = %(version)s
dovecot_storage_version = 2.4.0
protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_driver = maildir
mail_path = %(tmp)s/empty/Maildir
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
}
"""

PASSWD_FILE_24 = HEAD_24 + """passdb passwd-file {
  passwd_file_path = %(tmp)s/passwd
}
userdb passwd-file {
  passwd_file_path = %(tmp)s/passwd
}
"""

STATIC_24 = HEAD_24 + """passdb static {
  password = {PLAIN}secret
}
userdb static {
  fields {
    uid = %(uid)d
    gid = %(uid)d
    home = %(tmp)s/home
    mail_driver = maildir
    mail_path = %(tmp)s/home/Maildir
  }
}
"""

PASSWD_FILE_23 = """protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_location = maildir:%(tmp)s/empty/Maildir
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
}
passdb {
  driver = passwd-file
  args = scheme=CRYPT %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
"""

MESSAGE = b"From: a@example.com\nSubject: fields\n\nfrom the userdb\n"


def run(template, password, extra, version="2.4.0"):
    """LOGIN, SELECT INBOX, FETCH 1 BODY[TEXT]: the replies of a server
    of template whose alice (password, extra passwd fields) has MESSAGE
    in home/Maildir; the configured mail location is an empty Maildir."""
    with Server("roost-ddef.") as server:
        home = os.path.join(server.tmp, "home")
        maildir(os.path.join(home, "Maildir"), {"1.msg": MESSAGE})
        maildir(os.path.join(server.tmp, "empty", "Maildir"))
        chown_tree(home)
        chown_tree(os.path.join(server.tmp, "empty"))
        vars_ = {"version": version}
        write_passwd(server.tmp, home, password,
                     extra % server.vars(vars_))
        server.start(template, vars_)
        s = socket.create_connection(("127.0.0.1", server.imap), 10)
        recv_tagged(s, b"*")
        out = []
        for tag, cmd in (("a", "LOGIN alice secret"), ("b", "SELECT INBOX"),
                         ("c", "FETCH 1 BODY[TEXT]"), ("d", "LOGOUT")):
            s.sendall(("%s %s\r\n" % (tag, cmd)).encode())
            out.append(recv_tagged(s, tag))
        s.close()
        return out


class UserdbMailFields(unittest.TestCase):
    def check_sees_userdb_maildir(self, out):
        self.assertIn(b"a OK", out[0])
        self.assertIn(b"* 1 EXISTS", out[1])
        self.assertIn(b"from the userdb", out[2])

    def test_passwd_file_mail_driver_path(self):
        self.check_sees_userdb_maildir(run(
            PASSWD_FILE_24, "{PLAIN}secret",
            "userdb_mail_driver=maildir "
            "userdb_mail_path=%(tmp)s/home/Maildir"))

    def test_passwd_file_mail_path_only(self):
        # the driver stays the configured one
        self.check_sees_userdb_maildir(run(
            PASSWD_FILE_24, "{PLAIN}secret",
            "userdb_mail_path=%(tmp)s/home/Maildir"))

    def test_passwd_file_2_3_mail(self):
        self.check_sees_userdb_maildir(run(
            PASSWD_FILE_24, "{PLAIN}secret",
            "userdb_mail=maildir:%(tmp)s/home/Maildir"))

    def test_static_fields(self):
        self.check_sees_userdb_maildir(run(STATIC_24, "", ""))

    def test_without_fields_configured_location(self):
        out = run(PASSWD_FILE_24, "{PLAIN}secret", "")
        self.assertIn(b"a OK", out[0])
        self.assertIn(b"* 0 EXISTS", out[1])


class VersionedScheme(unittest.TestCase):
    """passwd-file without {SCHEME}: PLAIN until 2.4.2, CRYPT from 2.4.3."""

    def test_2_4_0_plain(self):
        out = run(PASSWD_FILE_24, "secret", "")
        self.assertIn(b"a OK", out[0])

    def test_2_4_3_crypt_as_2_3_scheme_crypt(self):
        out24 = run(PASSWD_FILE_24, "secret", "", "2.4.3")
        out23 = run(PASSWD_FILE_23, "secret", "")
        self.assertIn(b"a NO", out24[0])
        self.assertEqual(out24[0], out23[0])
        # a CRYPT hash of the password logs in
        crypted = subprocess.run(
            [os.path.join(BIN, "doveadm"), "pw", "-s", "SHA512-CRYPT", "-p",
             "secret"], capture_output=True, text=True).stdout.strip()
        crypted = crypted.replace("{SHA512-CRYPT}", "")
        out = run(PASSWD_FILE_24, crypted, "", "2.4.3")
        self.assertIn(b"a OK", out[0])


SQL_24 = """dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
ssl = no
sql_driver = sqlite
sqlite_path = %(tmp)s/users.db
passdb sql {
  query = SELECT password FROM users WHERE user = '%%{user}'
}
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
}
"""

SQL_23 = """protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
ssl = no
passdb {
  driver = sql
  args = %(tmp)s/sql.conf.ext
}
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
}
"""


def startup_log(template):
    """The master's and auth's lines of a server whose passdb is sql."""
    with Server("roost-ddef.") as server:
        with open(os.path.join(server.tmp, "sql.conf.ext"), "w") as f:
            f.write("driver = sqlite\nconnect = %s/users.db\n"
                    "password_query = SELECT password FROM users WHERE "
                    "user = '%%u'\n" % server.tmp)
        server.start(template, wait=False)
        text = server.wait_log(lambda text: "passdb driver" in text, 10)
    return [line.split(" ", 3)[3] for line in text.splitlines()
            if "starting up" in line or "passdb driver" in line]


class SqlPassdbStartup(unittest.TestCase):
    """A 2.4 file with passdb sql starts (and fails in auth) exactly as
    its 2.3 form: the protocols are not lost on the way."""

    def test_same_lines_as_2_3(self):
        lines24 = startup_log(SQL_24)
        lines23 = startup_log(SQL_23)
        self.assertEqual(lines24, lines23)
        self.assertEqual(len(lines23), 2, lines23)
        self.assertIn("starting up for imap", lines23[0])
        self.assertIn("Unknown passdb driver 'sql'", lines23[1])


if __name__ == "__main__":
    unittest.main()

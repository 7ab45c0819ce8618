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
import socket
import unittest

from dialectlib import (Server, chown_tree, maildir, recv_tagged,
                        recv_until, untime, write_passwd)

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


def alice_inbox(server):
    """alice (password secret) with MESSAGE in her INBOX."""
    home = os.path.join(server.tmp, "home")
    maildir(os.path.join(home, "Maildir"),
            {"1.msg": MESSAGE.replace(b"\r\n", b"\n")})
    chown_tree(home)
    write_passwd(server.tmp, home)


def start_server(template):
    """A server of template (imap and pop3 ports, the greeting)."""
    return Server.launch(template, alice_inbox, "roost-dialect.",
                         ("imap", "pop3"), {"greeting": GREETING})


def imap_session(server):
    s = socket.create_connection(("127.0.0.1", server.imap), 10)
    out = [recv_until(s, b"\r\n")]
    for tag, cmd in (("a", "CAPABILITY"), ("b", "LOGIN alice secret"),
                     ("c", "SELECT INBOX"),
                     ("d", "FETCH 1 (FLAGS BODY[])"), ("e", "LOGOUT")):
        s.sendall(("%s %s\r\n" % (tag, cmd)).encode())
        out.append(recv_tagged(s, tag))
    s.close()
    # UIDVALIDITY is a timestamp, the MAILBOXID (OBJECTID) the new
    # mailbox's GUID, command timings vary
    return [untime(b"\r\n".join(line for line in chunk.split(b"\r\n")
                                 if b"UIDVALIDITY" not in line and
                                 b"[MAILBOXID (" not in line))
            for chunk in out]


def pop3_session(server):
    s = socket.create_connection(("127.0.0.1", server.pop3), 10)
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
            with start_server(template) as server:
                cls.results[name] = (server.dialect(), server.doveconf(),
                                     imap_session(server),
                                     pop3_session(server))

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


# @mailbox_defaults = english at 2.4.3: the built-in group's four
# special-use mailboxes, created and subscribed at login, as the 2.3
# namespace that spells them out
DEFAULTS_24 = CONF_24.replace("dovecot_config_version = 2.4.0",
                              "dovecot_config_version = 2.4.3") \
    .replace("first_valid_uid = 1", "first_valid_uid = 1\n"
             "mail_access_groups =\n@mailbox_defaults = english")
DEFAULTS_23 = COMMON_23 + "namespace inbox {\n  inbox = yes\n" + "".join(
    "  mailbox %s {\n    auto = subscribe\n    special_use = \\%s\n  }\n"
    % (box, box) for box in ("Drafts", "Junk", "Sent", "Trash")) + "}\n"


def list_session(server):
    s = socket.create_connection(("127.0.0.1", server.imap), 10)
    out = [recv_until(s, b"\r\n")]
    for tag, cmd in (("a", "LOGIN alice secret"),
                     ("b", 'LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED)'),
                     ("c", 'LSUB "" "*"'), ("d", "LOGOUT")):
        s.sendall(("%s %s\r\n" % (tag, cmd)).encode())
        out.append(recv_tagged(s, tag))
    s.close()
    # the order of the untagged lines follows the directory's, which
    # differs between two fresh Maildirs
    return [sorted(untime(chunk).split(b"\r\n")) for chunk in out[2:4]]


class MailboxDefaults(unittest.TestCase):
    def test_mailbox_defaults_same_as_23(self):
        got = {}
        for name, template in (("2.3", DEFAULTS_23), ("2.4", DEFAULTS_24)):
            with start_server(template) as server:
                got[name] = list_session(server)
        for box in ("Drafts", "Junk", "Sent", "Trash"):
            self.assertIn(("(\\Subscribed \\%s) \".\" %s" % (box, box))
                          .encode(), b"\r\n".join(got["2.3"][0]))
        self.assertEqual(got["2.4"], got["2.3"])


if __name__ == "__main__":
    unittest.main()

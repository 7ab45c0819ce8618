#!/usr/bin/env python3
"""A server started from a Dovecot 2.4 dovecot.conf whose per-mailbox
quota settings are mailbox NAME { quota_ignore = yes } and
mailbox NAME { quota_storage_extra = SIZE } enforces the quota exactly as
one started from the 2.3 file with quota_rule2 = Trash:ignore and
quota_rule3 = Junk:storage=+SIZE (compat/dialect-mailbox.c): APPEND over
the limit fails in INBOX, succeeds in Trash (ignored) and in Junk (its
extra room); the IMAP transcripts are the same. Likewise the trash
plugin: mailbox Spam { trash_priority = 1 } (its priority file generated
in memory) makes room by expunging from Spam as the 2.3 file's
trash = FILE with "1 Spam" does (the master writes the generated file
into base_dir for its children; dovecot-lda without a master reads it
from memory). Needs root.

Env: ROOST = path of build/bin/roost."""
import os
import re
import socket
import subprocess
import unittest

from dialectlib import (BIN, Server, chown_tree, maildir, recv_tagged, recv_until,
                        untime, write_passwd)
from test_dialects import COMMON_23, CONF_24, start_server

QUOTA_23 = COMMON_23 + """mail_plugins = quota
protocol imap {
  mail_plugins = quota imap_quota
}
namespace inbox {
  inbox = yes
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
  mailbox Junk {
    auto = create
  }
}
plugin {
  quota = count:User quota
  quota_rule = *:storage=2k
  quota_rule2 = Trash:ignore
  quota_rule3 = Junk:storage=+20k
  quota_vsizes = yes
}
"""

QUOTA_24 = CONF_24 + """mail_plugins = quota
protocol imap {
  mail_plugins = quota imap_quota
}
quota "User quota" {
  driver = count
  storage_size = 2k
}
namespace inbox {
  inbox = yes
  mailbox Trash {
    special_use = \\Trash
    auto = create
    quota_ignore = yes
  }
  mailbox Junk {
    auto = create
    quota_storage_extra = 20k
  }
}
"""

BIG = (b"From: a@example.com\r\nSubject: big\r\n\r\n" +
       b"x" * 70 + b"\r\n") * 60


def appends_session(server, boxes, cmds):
    """LOGIN, an APPEND of BIG to each of boxes, cmds: the replies."""
    s = socket.create_connection(("127.0.0.1", server.imap), 10)
    out = [recv_until(s, b"\r\n")]
    script = [("a", b"LOGIN alice secret")]
    for i, box in enumerate(boxes):
        script.append(("p%d" % i, b"APPEND %s {%d}" % (box.encode(),
                                                        len(BIG))))
    for tag, cmd in script + cmds:
        s.sendall(tag.encode() + b" " + cmd + b"\r\n")
        data = recv_until(s, b"\r\n")
        if data.startswith(b"+"):
            s.sendall(BIG + b"\r\n")
        out.append(recv_tagged(s, tag, data))
    s.close()
    # APPENDUID carries the new mailbox's UIDVALIDITY (a timestamp);
    # command timings vary
    return [untime(re.sub(rb"APPENDUID \d+ ", b"APPENDUID V ", chunk))
            for chunk in out]


def imap_quota_session(server):
    return appends_session(server, ("INBOX", "Trash", "Junk", "Junk"),
                           [("q", b"GETQUOTAROOT Junk"), ("z", b"LOGOUT")])


class DialectMailboxQuota(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.results = {}
        for name, template in (("2.3", QUOTA_23), ("2.4", QUOTA_24)):
            with start_server(template) as server:
                cls.results[name] = (server.dialect(), server.doveconf(),
                                     imap_quota_session(server))

    def test_detected(self):
        for name in ("2.3", "2.4"):
            self.assertEqual(self.results[name][0], name)

    def test_rules_enforced(self):
        base = self.results["2.3"][2]
        self.assertIn(b"a OK", base[1])
        self.assertIn(b"p0 NO [OVERQUOTA]", base[2])    # INBOX: over 2k
        self.assertIn(b"p1 OK", base[3])                # Trash: ignored
        self.assertIn(b"p2 OK", base[4])                # Junk: 2k + 20k
        self.assertIn(b"p3 OK", base[5])
        self.assertIn(b"QUOTA \"User quota\" (STORAGE", base[6])

    def test_same_as_23(self):
        self.assertEqual(self.results["2.4"][2], self.results["2.3"][2])

    def test_doveconf_same_as_23(self):
        self.assertEqual(self.results["2.4"][1], self.results["2.3"][1])


TRASH_23 = COMMON_23 + """mail_plugins = quota trash
namespace inbox {
  inbox = yes
  mailbox Spam {
    auto = create
  }
}
plugin {
  quota = count:User quota
  quota_rule = *:storage=15k
  quota_vsizes = yes
  trash = %(tmp)s/dovecot-trash.conf.ext
}
"""

TRASH_24 = CONF_24 + """mail_plugins = quota trash
quota "User quota" {
  driver = count
  storage_size = 15k
}
namespace inbox {
  inbox = yes
  mailbox Spam {
    auto = create
    trash_priority = 1
  }
}
"""


def imap_trash_session(server):
    return appends_session(server, ("Spam", "INBOX", "INBOX"),
                           [("s", b"STATUS Spam (MESSAGES)"),
                            ("t", b"STATUS INBOX (MESSAGES)"),
                            ("z", b"LOGOUT")])


class DialectMailboxTrash(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.results = {}
        for name, template in (("2.3", TRASH_23), ("2.4", TRASH_24)):
            with start_server(template) as server:
                with open(os.path.join(server.tmp,
                                       "dovecot-trash.conf.ext"), "w") as f:
                    f.write("1 Spam\n")
                cls.results[name] = imap_trash_session(server)

    def test_trash_cleans(self):
        base = self.results["2.3"]
        self.assertIn(b"p1 OK", base[3])
        self.assertIn(b"p2 OK", base[4])        # room made in Spam
        self.assertIn(b"STATUS Spam (MESSAGES 0)", base[5])
        self.assertIn(b"STATUS INBOX (MESSAGES 3)", base[6])

    def test_same_as_23(self):
        self.assertEqual(self.results["2.4"], self.results["2.3"])


class DialectMailboxTrashLda(unittest.TestCase):
    """dovecot-lda with the 2.4 file and no master running (so no
    priority file on disk): the trash plugin reads the generated one
    from memory (quota_trash_file_hook) and makes room in Spam."""

    def test_lda_trash(self):
        with Server("roost-dialect-lda.", ports=()) as srv:
            home = os.path.join(srv.tmp, "home")
            for i, box in enumerate(("", ".Spam")):
                maildir(os.path.join(home, "Maildir", box),
                        {"%d.msg" % i: BIG.replace(b"\r\n", b"\n")})
            chown_tree(home)
            write_passwd(srv.tmp, home)
            srv.write_conf(TRASH_24, {"imap": 1, "pop3": 2,
                                      "greeting": "g"})
            p = subprocess.run([os.path.join(BIN, "dovecot-lda"), "-c",
                                srv.conf, "-d", "alice"],
                               input=BIG.replace(b"\r\n", b"\n"),
                               capture_output=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertFalse(os.path.exists(os.path.join(srv.tmp, "run")))
            spam = os.path.join(home, "Maildir", ".Spam")
            self.assertEqual(os.listdir(os.path.join(spam, "new")) +
                             os.listdir(os.path.join(spam, "cur")), [])
            self.assertEqual(len(os.listdir(os.path.join(
                home, "Maildir", "new"))), 2)

if __name__ == "__main__":
    unittest.main()

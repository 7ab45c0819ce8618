#!/usr/bin/env python3
"""A server started from a Dovecot 2.4 dovecot.conf with acl { } filters
(top level, namespace, namespace/mailbox, negative rights) and namespace
{ acl_ignore = yes } enforces the same rights over IMAP as one started
from the 2.3 equivalent (plugin { acl = vfile:FILE } with that global
ACL file, acl_ignore_namespace), and as Debian's Dovecot 2.3.19 from the
2.3 file: the same transcripts of MYRIGHTS, SELECT, APPEND, DELETE,
LIST, GETACL. The 2.4 file's rules exist only in Roost's processes (the
translation registers the generated global file; no file is written).
Needs root (the mail user is nobody).

Env: ROOST = path of build/bin/roost; IMAP_DIFF=0 skips Dovecot."""
import os
import re
import shutil
import socket
import unittest

from dialectlib import UID, GID, Server, chown_tree, maildir, recv_tagged

HAVE_DOVECOT = shutil.which("dovecot") is not None and os.environ.get(
    "IMAP_DIFF", "1") != "0"

CONF_23 = """protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=%(uid)d gid=%(uid)d home=%(tmp)s/home/%%u
}
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
}
mail_plugins = acl
protocol imap {
  mail_plugins = $mail_plugins imap_acl
}
namespace inbox {
  inbox = yes
  separator = /
}
namespace scratch {
  prefix = Scratch/
  separator = /
  location = maildir:~/Scratch
}
plugin {
  acl = vfile:%(tmp)s/global-acl
  acl_ignore_namespace = Scratch/
}
"""

GLOBAL_ACL = """* anyone l
Invoices owner lrs
Locked owner l
Hidden -owner l
Free owner lrwstipekxa
Scratch/* owner lr
"""

CONF_24 = """dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_driver = maildir
mail_path = ~/Maildir
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
passdb static {
  password = secret
}
userdb static {
  fields {
    uid = %(uid)d
    gid = %(uid)d
    home = %(tmp)s/home/%%{user}
  }
}
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
}
mail_plugins = acl
protocol imap {
  mail_plugins {
    imap_acl = yes
  }
}
acl_driver = vfile
acl anyone {
  rights = l
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Invoices {
    acl owner {
      rights = lrs
    }
  }
  mailbox Locked {
    acl owner {
      rights = l
    }
  }
  mailbox Hidden {
    acl owner {
      rights = -l
    }
  }
  mailbox Free {
    acl owner {
      rights = lrwstipekxa
    }
  }
}
namespace scratch {
  prefix = Scratch/
  separator = /
  mail_driver = maildir
  mail_path = ~/Scratch
  acl_ignore = yes
  acl owner {
    rights = lr
  }
}
"""

# made on disk before the session: the top-level "*" rule (anyone l)
# takes the owner's create right at the top (c6)
BOXES = ["Invoices", "Locked", "Hidden", "Free"]

CMDS = [
    "c5 CREATE Scratch/X", "c6 CREATE Another",
    "m1 MYRIGHTS INBOX", "m2 MYRIGHTS Invoices", "m3 MYRIGHTS Locked",
    "m4 MYRIGHTS Hidden", "m5 MYRIGHTS Scratch/X", "m6 MYRIGHTS Free",
    "l1 LIST \"\" *",
    "s1 SELECT Invoices", "s2 APPEND Invoices {5+}\r\nhello",
    "s3 SELECT Locked", "s4 EXAMINE Hidden", "s5 SELECT Scratch/X",
    "s6 APPEND Scratch/X {5+}\r\nhello", "s7 SELECT Free",
    "s8 APPEND Free {5+}\r\nhello",
    "g1 GETACL Invoices", "g2 GETACL Free", "g3 GETACL Scratch/X",
    "u0 UNSELECT",
    "d1 DELETE Locked", "d2 DELETE Scratch/X", "d3 DELETE Free",
    "z LOGOUT",
]


def norm(text):
    text = re.sub(r"(UIDVALIDITY|APPENDUID|COPYUID) \d+", r"\1 <v>", text)
    # RFC 8474 MAILBOXID: Roost's, not Dovecot 2.3's
    text = re.sub(r"\* OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Ok\r\n", "", text)
    text = re.sub(r" \[MAILBOXID \([A-Za-z0-9_-]+\)\]", "", text)
    text = re.sub(r" \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.",
                  ".", text)
    lines = text.split("\r\n")
    out, run = [], []
    for line in lines:
        if line.startswith("* LIST "):
            run.append(line)
            continue
        out += sorted(run)
        run = []
        out.append(line)
    return "\r\n".join(out)


def start_server(template, dovecot=False, global_acl=None):
    """A server of template (Dovecot's when dovecot) whose alice has the
    BOXES, with global_acl (GLOBAL_ACL) as tmp/global-acl."""
    def prepare(srv):
        home = os.path.join(srv.tmp, "home")
        for box in BOXES:
            maildir(os.path.join(home, "alice", "Maildir", "." + box))
        chown_tree(home)
        with open(os.path.join(srv.tmp, "global-acl"), "w") as f:
            f.write(GLOBAL_ACL if global_acl is None else global_acl)
        os.makedirs(os.path.join(srv.tmp, "state"))
    return Server.launch(template, prepare, "roost-dacl.", dovecot=dovecot)


def login(srv):
    """A socket logged in as alice (the capabilities differ: not
    compared)."""
    s = socket.create_connection(("127.0.0.1", srv.imap), 10)
    s.settimeout(20)
    recv_tagged(s, b"*")
    s.sendall(b"a LOGIN alice secret\r\n")
    recv_tagged(s, b"a")
    return s


def session(srv):
    s = login(srv)
    out = ""
    for cmd in CMDS:
        tag = cmd.split(" ", 1)[0].encode()
        if "{5+}\r\n" in cmd:
            head, lit = cmd.split("\r\n", 1)
            s.sendall(head.encode() + b"\r\n" + lit.encode() + b"\r\n")
        else:
            s.sendall(cmd.encode() + b"\r\n")
        out += recv_tagged(s, tag).decode(errors="replace")
    s.close()
    return norm(out)


class DialectAcl(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")

    def run_server(self, template, dovecot=False, global_acl=None):
        with start_server(template, dovecot, global_acl) as srv:
            return session(srv)

    def test_24_filters_as_23_global_file(self):
        r24 = self.run_server(CONF_24)
        r23 = self.run_server(CONF_23)
        self.assertEqual(r23, r24)
        if HAVE_DOVECOT:
            self.assertEqual(self.run_server(CONF_23, dovecot=True), r23)
        for line in ["* MYRIGHTS Invoices lrs", "* MYRIGHTS Locked l",
                     "* MYRIGHTS Scratch/X lr",
                     "* MYRIGHTS Free lrwstipekxacd",
                     "s2 NO [NOPERM] Permission denied.",
                     "s3 NO [NOPERM] Permission denied.",
                     "s4 NO Mailbox doesn't exist: Hidden.",
                     "* MYRIGHTS INBOX l",
                     "c6 NO [NOPERM] Permission denied.",
                     "s6 OK", "s8 OK", "d2 OK Delete completed.",
                     "d3 OK Delete completed.",
                     "d1 NO [NOPERM] Permission denied."]:
            self.assertIn(line, r24)
        self.assertNotIn("Hidden\r\n", r24.split("l1 OK")[0])

    def test_24_filters_generated_file(self):
        # no file next to the config says what the filters say: the
        # translation generates base_dir/roost-global-acl, which the
        # master writes for its children (they read its config snapshot,
        # not the 2.4 file)
        r24 = self.run_server(CONF_24, global_acl="# other rules\n")
        self.assertEqual(self.run_server(CONF_23), r24)
        self.assertIn("* MYRIGHTS Locked l", r24)

    def test_master_user_is_acl_name(self):
        """2.3's plugin { master_user } names the ACL identity when
        acl_user is not set (what 2.4's acl_user = %{master_user}
        default stands for): alice gets bob's rights."""
        global GLOBAL_ACL
        saved = GLOBAL_ACL
        GLOBAL_ACL = "* user=bob lr\n"
        conf = CONF_23.replace("  acl_ignore_namespace = Scratch/\n",
                               "  master_user = bob\n")
        try:
            outs = []
            for dovecot in ([False, True] if HAVE_DOVECOT else [False]):
                with start_server(conf, dovecot) as srv:
                    s = login(srv)
                    s.sendall(b"b MYRIGHTS INBOX\r\n")
                    out = recv_tagged(s, b"b")
                    s.sendall(b"c SELECT INBOX\r\n")
                    out += recv_tagged(s, b"c")
                    s.close()
                    outs.append(norm(out.decode()))
        finally:
            GLOBAL_ACL = saved
        self.assertIn("* MYRIGHTS INBOX lr\r\n", outs[0])
        self.assertIn("[READ-ONLY]", outs[0])
        if len(outs) > 1:
            self.assertEqual(outs[1], outs[0])

    def test_globals_only(self):
        """acl_globals_only = yes: the mailbox's own dovecot-acl is not
        read (the owner keeps the default rights), as in Dovecot."""
        global GLOBAL_ACL
        saved = GLOBAL_ACL
        GLOBAL_ACL = "Nothing anyone l\n"
        outs = []
        try:
            for only in ("yes", "no"):
                conf = CONF_23.replace(
                    "  acl_ignore_namespace = Scratch/\n",
                    "  acl_globals_only = %s\n" % only)
                for dovecot in ([False, True] if HAVE_DOVECOT else
                                [False]):
                    with start_server(conf, dovecot) as srv:
                        path = os.path.join(srv.tmp, "home", "alice",
                                            "Maildir", ".Free",
                                            "dovecot-acl")
                        with open(path, "w") as f:
                            f.write("owner lr\n")
                        os.chown(path, UID, GID)
                        s = login(srv)
                        s.sendall(b"b MYRIGHTS Free\r\n")
                        outs.append((only, dovecot, norm(
                            recv_tagged(s, b"b").decode())))
                        s.close()
        finally:
            GLOBAL_ACL = saved
        for only, dovecot, out in outs:
            want = "lrwstipekxacd" if only == "yes" else "lr"
            self.assertIn("* MYRIGHTS Free %s\r\n" % want, out,
                          (only, dovecot))


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""mail_plugins as Dovecot 2.3.19 loads it: an unknown name and a plugin
whose dependency is missing are fatal with Dovecot's texts (checked
against Debian's /usr/lib/dovecot/imap), in a session and at the
daemon's startup; a Dovecot plugin Roost lacks is a warning that names
it; names in protocol sections and $mail_plugins expansion count.

Env: ROOST = path of build/bin/roost."""
import os
import time
import unittest

from pluginlib import Env, HAVE_DOVECOT

DIR = "/usr/lib/dovecot/modules"
CASES = [
    ("nosuch quota", "Plugin 'nosuch' not found from directory %s" % DIR),
    ("QUOTA", "Plugin 'QUOTA' not found from directory %s" % DIR),
    ("lib10_quota_plugin.so", "Plugin 'quota_plugin' not found from "
     "directory %s" % DIR),
    ("imap_quota", "Couldn't load required plugin %s/lib11_imap_quota_"
     "plugin.so: Plugin quota must be loaded also (you must set: "
     "mail_plugins=$mail_plugins quota)" % DIR),
    ("nosuch trash", "Couldn't load required plugin %s/lib11_trash_"
     "plugin.so: Plugin quota must be loaded also (you must set: "
     "mail_plugins=$mail_plugins quota)" % DIR),
    ("mail_log", "Couldn't load required plugin %s/lib20_mail_log_"
     "plugin.so: Plugin notify must be loaded also (you must set: "
     "mail_plugins=$mail_plugins notify)" % DIR),
]


class MailPlugins(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        self.env = Env("")

    def tearDown(self):
        self.env.cleanup()

    def test_session_errors(self):
        for plugins, text in CASES:
            self.env.write_conf("mail_plugins = %s\n" % plugins)
            out, err, rc = self.env.imap("bob", ["a LOGOUT"])
            self.assertIn(text, err + out, plugins)
            self.assertNotEqual(rc, 0)
            self.assertNotIn("PREAUTH", out)
            if HAVE_DOVECOT:
                out, err, rc = self.env.imap("bob", ["a LOGOUT"],
                                             dovecot=True)
                self.assertIn("Fatal: " + text, err, plugins)

    def test_protocol_section_and_expansion(self):
        self.env.write_conf("mail_plugins = quota\nprotocol imap {\n"
                            "  mail_plugins = $mail_plugins imap_quota "
                            "nosuch2\n}\n")
        out, err, rc = self.env.imap("bob", ["a LOGOUT"])
        # as Dovecot's imap -u: fatal, exit 89, nothing on stdout
        self.assertIn("Fatal: Plugin 'nosuch2' not found", err)
        self.assertEqual((out, rc), ("", 89))
        # LDA doesn't see the imap section: quota alone is fine
        rc, out = self.env.lda("bob", b"Subject: x\n\nx\n")
        self.assertEqual(rc, 0, out)

    def test_lacking_plugin_warns(self):
        self.env.write_conf("mail_plugins = quota acl fts fts_lucene acl\n"
                            "protocol imap {\n  mail_plugins = "
                            "$mail_plugins imap_acl\n}\n")
        out, err, rc = self.env.imap("bob", ["a LOGOUT"])
        self.assertEqual(rc, 0, err)
        self.assertIn("PREAUTH", out)
        self.assertIn("Warning: mail_plugins: Roost does not implement "
                      "these Dovecot plugins, they are ignored: fts "
                      "fts_lucene\n", err)

    def test_daemon_startup(self):
        self.env.write_conf("protocol imap {\n  mail_plugins = quota "
                            "nosuch\n}\n")
        p = self.env.start(wait=False)
        out = p.communicate(timeout=20)[0].decode(errors="replace")
        self.env.master = None
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Fatal: Plugin 'nosuch' not found from directory "
                      "%s" % DIR, out + self.env.log())
        self.env.write_conf("mail_plugins = lazy_expunge\n")
        self.env.start()
        self.env.stop()
        self.assertIn("Warning: mail_plugins: Roost does not implement "
                      "these Dovecot plugins, they are ignored: "
                      "lazy_expunge",
                      self.env.log())

    def test_last_login(self):
        d = os.path.join(self.env.tmp, "ll")
        os.makedirs(d)
        os.chmod(d, 0o777)
        db = os.path.join(d, "ll.db")
        self.env.write_conf("mail_plugins = last_login\nplugin {\n"
                            "  last_login_dict = file:%s\n}\n" % db)

        def read():
            with open(db) as f:
                lines = f.read().splitlines()
            return dict(zip(lines[0::2], lines[1::2]))
        start = int(time.time())
        out, err, rc = self.env.imap("ann", ["a LOGOUT"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.env.lda("bea", b"Subject: x\n\nx\n")[0], 0)
        self.assertEqual(self.env.doveadm(["mailbox", "list", "-u",
                                           "cid"])[0], 0)
        got = read()
        self.assertEqual(sorted(got), ["shared/last-login/ann",
                                       "shared/last-login/bea",
                                       "shared/last-login/cid"])
        for v in got.values():
            self.assertTrue(start <= int(v) <= time.time() + 1, got)
        if HAVE_DOVECOT:
            # Dovecot's file dict takes the file Roost wrote, and Roost
            # Dovecot's
            self.env.start(dovecot=True)
            self.env.imap("dan", ["a LOGOUT"], dovecot=True)
            self.env.stop()
            self.env.imap("ann", ["a LOGOUT"])
            self.assertEqual(sorted(read()), [
                "shared/last-login/ann", "shared/last-login/bea",
                "shared/last-login/cid", "shared/last-login/dan"])
        # other dict drivers: a warning, nothing written
        self.env.write_conf("mail_plugins = last_login\nplugin {\n"
                            "  last_login_dict = proxy::lastlogin\n}\n")
        out, err, rc = self.env.imap("eve", ["a LOGOUT"])
        self.assertIn("only the file: dict driver is available", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)

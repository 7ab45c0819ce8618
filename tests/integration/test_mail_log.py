#!/usr/bin/env python3
"""The mail_log plugin: the Info lines of saves (LDA and APPEND), copies,
MOVE, flag changes, \\Deleted set and cleared, expunges, mailbox create,
rename and delete, with every field and with the defaults, compared line
for line with Debian's Dovecot 2.3.19 doing the same (log prefixes
aside).

Env: ROOST = path of build/bin/roost."""
import os
import re
import time
import unittest

from pluginlib import EnvCase, Session, HAVE_DOVECOT

ALL = """mail_plugins = notify mail_log
plugin {
  mail_log_events = delete undelete expunge copy mailbox_delete mailbox_rename save mailbox_create flag_change
  mail_log_fields = uid box msgid size vsize flags from subject
}
"""
DEFAULTS = "mail_plugins = notify mail_log\n"
MSG1 = (b"From: =?utf-8?q?J=C3=B6rg?= <j@example.com>\n"
        b"Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?= and more\n"
        b"Message-ID: <abc@x>\n\nbody\n")
MSG2 = b"From: Ann <ann@example.com>\nSubject: plain\n\nhello\n"


def run(env, dovecot):
    out = []
    for m in (MSG1, MSG2):
        rc, text = env.lda("mo", m, dovecot)
        assert rc == 0, text
    s = Session(env, "mo", dovecot, stderr_path=os.path.join(env.tmp, "log"))
    for line, lit in [
            ("a CREATE Foo", None), ("b SELECT INBOX", None),
            ("c STORE 1 +FLAGS (\\Seen)", None),
            ("c2 STORE 2 +FLAGS ($Work)", None),
            ("d STORE 1 +FLAGS (\\Deleted)", None),
            ("e STORE 1 -FLAGS (\\Deleted)", None),
            ("f COPY 1:2 Foo", None),
            ("g APPEND Foo {13+}", b"Subject: x\r\n\r\n"),
            ("h MOVE 1 Foo", None),
            ("h2 STORE 1 +FLAGS.SILENT (\\Deleted)", None),
            ("h3 EXPUNGE", None),
            ("i RENAME Foo Bar", None), ("j DELETE Bar", None)]:
        s.cmd(line, lit)
    s.close()
    time.sleep(0.3)
    lines = []
    with open(os.path.join(env.tmp, "log"), errors="replace") as f:
        text = f.read()
    for l in text.splitlines():
        m = re.search(r": Info: (.*)", l)
        if m and not m.group(1).startswith("Disconnected") and \
                "starting up" not in l:
            lines.append(m.group(1))
    return lines


class MailLog(EnvCase):
    def compare(self, conf):
        outs = []
        for dovecot in ([False, True] if HAVE_DOVECOT else [False]):
            env = self.new_env(conf, "roost-maillog.")
            if dovecot:
                env.start(dovecot=True)
            outs.append(run(env, dovecot))
            env.stop()
        return outs

    def test_all_events_and_fields(self):
        outs = self.compare(ALL)
        r = outs[0]
        self.assertIn("save: box=INBOX, uid=1, msgid=<abc@x>, size=116, "
                      "vsize=121, from=Jörg <j@example.com>, "
                      "subject=grüße and more, flags=()", r)
        self.assertIn("Mailbox renamed: Foo -> Bar", r)
        if len(outs) > 1:
            self.assertEqual(r, outs[1])

    def test_defaults(self):
        outs = self.compare(DEFAULTS)
        r = outs[0]
        self.assertIn("copy from INBOX: box=Foo, uid=1, msgid=<abc@x>, "
                      "size=116", r)
        self.assertNotIn("Mailbox created: Foo", r)
        if len(outs) > 1:
            self.assertEqual(r, outs[1])


if __name__ == "__main__":
    unittest.main(verbosity=2)

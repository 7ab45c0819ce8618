#!/usr/bin/env python3
"""test_imap_utf8.py - UTF8=ACCEPT (RFC 6855) through
`roost imap -c CONF -u USER` (Roost only: Dovecot 2.3 lacks it; that a
session without ENABLE stays byte-identical to Dovecot is
tests/compat/imap-diff.py's job).

- RFC 6855 3: after ENABLE UTF8=ACCEPT, ENVELOPE and BODYSTRUCTURE
  strings with UTF-8 come as quoted strings (before: literals, as
  Dovecot); RFC 2047 encoded words stay encoded (ENVELOPE is raw); bytes
  that aren't UTF-8 stay literals; the parsed-field cache doesn't leak one
  session's form into another.
- RFC 6855 3: a SEARCH with a CHARSET is refused with BAD; UTF-8 search
  strings work without one; SORT/THREAD keep their charset argument.
- RFC 6855 3: mailbox names are UTF-8 in LIST, LSUB, STATUS, SELECT,
  RENAME, SUBSCRIBE, COPY, NAMESPACE; "&" is a plain character; names
  that aren't UTF-8 are refused.
- RFC 6855 4: APPEND's UTF8 data item with a literal8 (~{n}), also
  non-synchronizing, refused before ENABLE.

Run: ROOST=build/bin/roost python3 tests/integration/test_imap_utf8.py
Needs root (the mail user is nobody)."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_imap_ext import CONF, GID, UID, Session  # noqa: E402

UTF8_MSG = ("From: \"J\u00fcrgen \\\"J\\\" M\u00fcller\" <jm@example.com>\r\n"
            "To: =?UTF-8?Q?Ren=C3=A9e?= <r@example.com>\r\n"
            "Subject: Gr\u00fc\u00dfe aus K\u00f6ln\r\n"
            "Date: Mon, 6 Nov 2023 10:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "\u043f\u0440\u0438\u0432\u0435\u0442 \u03ba\u03cc\u03c3\u03bc\u03b5\r\n"
            "--b\r\nContent-Type: application/octet-stream; "
            "name=\"Stra\u00dfe.pdf\"\r\n"
            "Content-Disposition: attachment; filename=\"\u65e5\u672c.pdf\"\r\n"
            "\r\nxx\r\n--b--\r\n").encode()
LATIN1_MSG = (b"From: x@example.com\r\nSubject: caf\xe9 latin1\r\n"
              b"Date: Mon, 6 Nov 2023 11:00:00 +0000\r\n\r\nb\r\n")


class Utf8AcceptTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roost-imaputf8.")
        os.chmod(self.dir, 0o755)
        for d in ("run", "home"):
            os.makedirs(os.path.join(self.dir, d))
        os.chown(os.path.join(self.dir, "home"), UID, GID)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(d=self.dir, uid=UID, gid=GID))
        self.sessions = []

    def tearDown(self):
        for s in self.sessions:
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def session(self):
        s = Session(self.conf)
        self.sessions.append(s)
        return s

    def raw(self, s, data, tag):
        """Send bytes as they are; the lines up to TAG's reply."""
        s.send(data)
        lines = []
        while True:
            line = s.readline(10)
            if line is None:
                raise AssertionError("no reply: %r" % lines)
            lines.append(line)
            if line.startswith(tag.encode() + b" "):
                return lines

    def filled(self):
        s = self.session()
        s.ok("APPEND INBOX", UTF8_MSG)
        s.ok("APPEND INBOX", LATIN1_MSG)
        s.ok("SELECT INBOX")
        return s

    def test_envelope_bodystructure(self):
        s = self.filled()
        # before ENABLE: literals, as Dovecot 2.3
        before = "\n".join(s.ok("FETCH 1 ENVELOPE"))
        self.assertIn("{17}", before)
        self.assertNotIn('"Gr\u00fc\u00dfe aus K\u00f6ln"', before)
        self.assertEqual(s.ok("ENABLE UTF8=ACCEPT"),
                         ["* ENABLED UTF8=ACCEPT"])
        for _ in range(2):      # computed, then from the cache
            env = s.ok("FETCH 1 ENVELOPE")
            self.assertEqual(len(env), 1, env)
            self.assertIn('ENVELOPE ("Mon, 6 Nov 2023 10:00:00 +0000" '
                          '"Gr\u00fc\u00dfe aus K\u00f6ln" '
                          '(("J\u00fcrgen \\"J\\" M\u00fcller" NIL "jm" '
                          '"example.com"))', env[0])
            # encoded words are not decoded in ENVELOPE
            self.assertIn('(("=?UTF-8?Q?Ren=C3=A9e?=" NIL "r" '
                          '"example.com"))', env[0])
            bs = s.ok("FETCH 1 BODYSTRUCTURE")
            self.assertEqual(len(bs), 1, bs)
            self.assertIn('("name" "Stra\u00dfe.pdf")', bs[0])
            self.assertIn('("attachment" ("filename" "\u65e5\u672c.pdf"))',
                          bs[0])
            self.assertEqual(len(s.ok("FETCH 1 BODY")), 1)
        # not UTF-8: still a literal
        lat = self.raw(s, b"L1 FETCH 2 ENVELOPE\r\n", "L1")
        self.assertIn(b"{11}\r\n", lat[0])
        self.assertEqual(lat[1][:11], b"caf\xe9 latin1")
        # another session without ENABLE: literals again (the cache
        # keeps Dovecot's form)
        t = self.session()
        t.ok("EXAMINE INBOX")
        self.assertIn("{17}", "\n".join(t.ok("FETCH 1 ENVELOPE")))

    def test_search(self):
        s = self.filled()
        s.ok("ENABLE UTF8=ACCEPT")
        _, tagged = s.cmd("SEARCH CHARSET UTF-8 SUBJECT x")
        self.assertEqual(tagged, "t%d BAD Error in IMAP command SEARCH: "
                         "CHARSET not allowed after ENABLE UTF8=ACCEPT." % s.n)
        _, tagged = s.cmd("SEARCH CHARSET ISO-8859-1 ALL")
        self.assertIn(" BAD ", tagged)
        self.assertEqual(s.ok('SEARCH SUBJECT "GR\u00dc\u00dfE"'),
                         ["* SEARCH 1"])
        self.assertEqual(s.ok('SEARCH BODY "\u041f\u0420\u0418\u0412\u0415\u0422"'),
                         ["* SEARCH 1"])
        self.assertEqual(s.ok('UID SEARCH FROM "m\u00fcller"'),
                         ["* SEARCH 1"])
        self.assertEqual(s.ok("SORT (SUBJECT) UTF-8 ALL"), ["* SORT 2 1"])
        self.assertEqual(s.ok("THREAD ORDEREDSUBJECT UTF-8 ALL"),
                         ["* THREAD (1)(2)"])
        # before ENABLE, CHARSET is fine
        t = self.session()
        t.ok("EXAMINE INBOX")
        self.assertEqual(t.ok("SEARCH CHARSET UTF-8 SUBJECT {6+}\r\n"
                              "k\u00f6ln".replace("{6+}", "{%d+}" % len(
                                  "k\u00f6ln".encode()))), ["* SEARCH 1"])

    def test_mailbox_names(self):
        s = self.session()
        s.ok("ENABLE UTF8=ACCEPT")
        s.ok('CREATE "\u0420\u0430\u0431\u043e\u0442\u0430"')
        s.ok('CREATE "R&D"')
        self.assertEqual(s.ok('LIST "" "\u0420*"'),
                         ['* LIST (\\HasNoChildren) "." '
                          '"\u0420\u0430\u0431\u043e\u0442\u0430"'])
        s.ok('SUBSCRIBE "\u0420\u0430\u0431\u043e\u0442\u0430"')
        self.assertEqual(s.ok('LSUB "" "\u0420*"'),
                         ['* LSUB () "." "\u0420\u0430\u0431\u043e\u0442\u0430"'])
        s.ok('RENAME "\u0420\u0430\u0431\u043e\u0442\u0430" "Caf\u00e9.\u65e5\u672c"')
        self.assertEqual(s.ok('LIST "" "Caf\u00e9*"'),
                         ['* LIST (\\Noselect \\HasChildren) "." '
                          '"Caf\u00e9"',
                          '* LIST (\\HasNoChildren) "." '
                          '"Caf\u00e9.\u65e5\u672c"'])
        s.ok("APPEND INBOX", LATIN1_MSG)
        s.ok("SELECT INBOX")
        s.ok('COPY 1 "Caf\u00e9.\u65e5\u672c"')
        self.assertEqual(s.ok('STATUS "Caf\u00e9.\u65e5\u672c" (MESSAGES)'),
                         ['* STATUS "Caf\u00e9.\u65e5\u672c" (MESSAGES 1)'])
        lines = s.ok('SELECT "Caf\u00e9.\u65e5\u672c"')
        self.assertIn("* 1 EXISTS", lines)
        self.assertIn('* LIST (\\HasNoChildren) "." R&D',
                      s.ok('LIST "" *'))
        # on disk and for other clients: modified UTF-7
        t = self.session()
        self.assertIn('* LIST (\\HasNoChildren) "." Caf&AOk-.&ZeVnLA-',
                      t.ok('LIST "" *'))
        self.assertIn('* LIST (\\HasNoChildren) "." R&-D', t.ok('LIST "" *'))
        # not UTF-8: refused
        lines = self.raw(s, b'N1 CREATE "x\xc3"\r\n', "N1")
        self.assertTrue(lines[-1].startswith(
            b"N1 NO Mailbox name is not valid UTF-8"), lines)
        lines = self.raw(s, b'N2 SELECT "\xff"\r\n', "N2")
        self.assertIn(b" NO ", lines[-1])

    def test_append_utf8(self):
        s = self.session()
        # before ENABLE the UTF8 data item is not accepted
        lines = self.raw(s, b"A0 APPEND INBOX UTF8 (~{3+}\r\nabc)\r\n", "A0")
        self.assertIn(b"A0 BAD", lines[-1])
        s.ok("ENABLE UTF8=ACCEPT")
        body = UTF8_MSG
        lines = self.raw(s, b"A1 APPEND INBOX (\\Seen) UTF8 (~{%d+}\r\n"
                         % len(body) + body + b")\r\n", "A1")
        self.assertRegex(lines[-1], rb"^A1 OK \[APPENDUID \d+ 1\]")
        # synchronizing literal8: the server asks for it
        s.send(b"A2 APPEND INBOX UTF8 (~{%d}\r\n" % len(body))
        self.assertTrue(s.readline(10).startswith(b"+ "))
        lines = self.raw(s, body + b")\r\n", "A2")
        self.assertRegex(lines[-1], rb"^A2 OK \[APPENDUID \d+ 2\]")
        # two literals or none: BAD/NO
        lines = self.raw(s, b"A3 APPEND INBOX UTF8 ()\r\n", "A3")
        self.assertNotIn(b" OK ", lines[-1])
        s.ok("SELECT INBOX")
        self.assertEqual(s.ok("FETCH 1:2 FLAGS"),
                         ["* 1 FETCH (FLAGS (\\Seen \\Recent))",
                          "* 2 FETCH (FLAGS (\\Recent))"])
        lines = self.raw(s, b"F1 FETCH 1 BODY.PEEK[]\r\n", "F1")
        self.assertEqual(b"".join(lines[1:-1])[:len(body)], body)
        self.assertEqual(s.ok('SEARCH SUBJECT "k\u00f6ln"'), ["* SEARCH 1 2"])

    def test_namespace_quoted(self):
        s = self.session()
        s.ok("ENABLE UTF8=ACCEPT")
        self.assertEqual(s.ok("NAMESPACE"),
                         ['* NAMESPACE (("" ".")) NIL NIL'])


if __name__ == "__main__":
    unittest.main()

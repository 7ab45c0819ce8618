#!/usr/bin/env python3
"""The auth service end to end: `roost auth` on a passwd-file config,
driven over its real unix sockets with the auth-client protocol (as
Postfix and the login processes speak it) and the auth-master protocol
(as dovecot-lda and doveadm do). Expected replies are Dovecot 2.3's
(shared/reference/auth-protocol.md)."""
import hmac
import hashlib
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from authlib import (AuthServer, LineSocket, b64, client_handshake,  # noqa
                     rmtree, tmpdir, write_config)


class AuthServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tmpdir()
        conf = write_config(cls.tmp)
        cls.server = AuthServer(conf, cls.tmp)
        cls.client_path = os.path.join(cls.tmp, "run", "auth-client")
        cls.userdb_path = os.path.join(cls.tmp, "run", "auth-userdb")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        rmtree(cls.tmp)

    def setUp(self):
        self.c, self.handshake = client_handshake(self.client_path)

    def tearDown(self):
        self.c.close()

    def auth(self, line):
        self.c.send(line)
        return self.c.readline()

    def test_handshake(self):
        h = self.handshake
        self.assertEqual(h[0], "VERSION\t1\t2")
        self.assertIn("MECH\tPLAIN\tplaintext", h)
        self.assertIn("MECH\tLOGIN\tplaintext", h)
        self.assertTrue(any(l.startswith("MECH\tCRAM-MD5") for l in h))
        self.assertTrue(h[-4].startswith("SPID\t"))
        self.assertTrue(h[-3].startswith("CUID\t"))
        self.assertRegex(h[-2], r"^COOKIE\t[0-9a-f]{32}$")
        self.assertEqual(h[-1], "DONE")

    def test_plain_ok_and_fail(self):
        ok = self.auth("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1"
                       "\trip=192.0.2.10\tsecured\tresp=" + b64(b"\0alice\0secret"))
        self.assertEqual(ok, "OK\t1\tuser=alice\t")
        bad = self.auth("AUTH\t2\tPLAIN\tservice=smtp\tnologin\tsecured"
                        "\tresp=" + b64(b"\0alice\0wrong"))
        self.assertEqual(bad, "FAIL\t2\tuser=alice")
        unknown = self.auth("AUTH\t8\tPLAIN\tservice=smtp\tsecured\tresp="
                            + b64(b"\0nosuch\0x"))
        self.assertEqual(unknown, "FAIL\t8\tuser=nosuch")

    def test_plain_continue(self):
        self.assertEqual(self.auth("AUTH\t3\tPLAIN\tservice=smtp\tsecured"),
                         "CONT\t3\t")
        self.assertEqual(self.auth("CONT\t3\t" + b64(b"\0alice\0secret")),
                         "OK\t3\tuser=alice\t")

    def test_login(self):
        self.assertEqual(self.auth("AUTH\t4\tLOGIN\tservice=smtp\tsecured"),
                         "CONT\t4\tVXNlcm5hbWU6")
        self.assertEqual(self.auth("CONT\t4\t" + b64(b"alice")),
                         "CONT\t4\tUGFzc3dvcmQ6")
        self.assertEqual(self.auth("CONT\t4\t" + b64(b"secret")),
                         "OK\t4\tuser=alice\t")

    def test_cram_md5(self):
        line = self.auth("AUTH\t5\tCRAM-MD5\tservice=imap\tsecured")
        self.assertTrue(line.startswith("CONT\t5\t"), line)
        import base64
        challenge = base64.b64decode(line.split("\t")[2])
        digest = hmac.new(b"carolpw", challenge, hashlib.md5).hexdigest()
        self.assertEqual(self.auth("CONT\t5\t" + b64(b"carol " + digest.encode())),
                         "OK\t5\tuser=carol\t")

    def test_malformed_inputs(self):
        self.assertEqual(self.auth("AUTH\t9\tPLAIN\tservice=smtp\tsecured\tresp=!!!"),
                         "FAIL\t9\tcode=invalid_base64\treason=Invalid base64 "
                         "data in initial response")
        self.assertEqual(self.auth("AUTH\t11\tPLAIN\tservice=smtp\tsecured\tresp="),
                         "FAIL\t11")
        self.assertEqual(self.auth("AUTH\t12\tPLAIN\tservice=smtp\tsecured\tresp="
                                   + b64(b"bob\0alice\0secret")),
                         "FAIL\t12\tuser=alice")
        self.assertEqual(self.auth("AUTH\t10\tPLAIN\tservice=smtp\tsecured\tresp="
                                   + b64(b"dave@example.com\0dave@example.com\0secret")),
                         "OK\t10\tuser=dave@example.com\t")
        self.assertEqual(self.auth("CONT\t99\tAAAA"),
                         "FAIL\t99\treason=Authentication request timed out")
        # a NUL inside the username, a 10 KB username
        self.assertTrue(self.auth("AUTH\t13\tPLAIN\tservice=smtp\tsecured\tresp="
                                  + b64(b"\0al\0ice\0secret")).startswith("FAIL\t13"))
        self.assertTrue(self.auth("AUTH\t14\tPLAIN\tservice=smtp\tsecured\tresp="
                                  + b64(b"\0" + b"a" * 10240 + b"\0x")).startswith("FAIL\t14"))
        # the connection still works
        self.assertEqual(self.auth("AUTH\t15\tPLAIN\tservice=smtp\tsecured\tresp="
                                   + b64(b"\0alice\0secret")), "OK\t15\tuser=alice\t")

    def test_protocol_violations_close(self):
        for line in ("AUTH\t5\tDIGEST-MD6\tservice=smtp",
                     "BOGUS\tx",
                     "AUTH\t6\tPLAIN\tsecured",      # no service
                     "X" * 100000):
            c, _ = client_handshake(self.client_path)
            c.send(line)
            self.assertIsNone(c.readline(), line[:40])
            c.close()
        c = LineSocket(self.client_path)
        while c.readline() != "DONE":
            pass
        c.send("VERSION\t2\t0")
        self.assertIsNone(c.readline())
        c.close()

    def test_duplicate_id_closes(self):
        self.c.send("AUTH\t7\tPLAIN\tservice=smtp\tsecured")
        self.assertEqual(self.c.readline(), "CONT\t7\t")
        self.c.send("AUTH\t7\tPLAIN\tservice=smtp\tsecured")
        self.assertIsNone(self.c.readline())

    def test_plaintext_without_secured(self):
        # Dovecot's auth service leaves disable_plaintext_auth to the
        # login processes: PLAIN without "secured" is answered
        self.assertEqual(self.auth("AUTH\t16\tPLAIN\tservice=imap\trip=192.0.2.1"
                                   "\tlip=192.0.2.2\tresp=" + b64(b"\0alice\0secret")),
                         "OK\t16\tuser=alice\t")

    def test_userdb_protocol(self):
        m = LineSocket(self.userdb_path)
        self.assertEqual(m.readline(), "VERSION\t1\t1")
        m.send("VERSION\t1\t0")
        self.assertTrue(m.readline().startswith("SPID\t"))
        m.send("USER\t1\talice\tservice=lda")
        line = m.readline().split("\t")
        self.assertEqual(line[:3], ["USER", "1", "alice"])
        self.assertIn("uid=1000", line)
        self.assertIn(f"home={self.tmp}/home/alice", line)
        self.assertIn("mail=maildir:~/Maildir", line)
        m.send("USER\t2\tnosuch\tservice=lda")
        self.assertEqual(m.readline(), "NOTFOUND\t2")
        m.send("PASS\t4\talice\tservice=doveadm")
        self.assertTrue(m.readline().startswith("PASS\t4\tuser=alice"))
        m.send("PASS\t5\tnosuch\tservice=doveadm")
        self.assertEqual(m.readline(), "NOTFOUND\t5")
        m.send("LIST\t6\tuser=*")
        users = []
        while True:
            line = m.readline()
            if line.startswith("DONE"):
                self.assertEqual(line, "DONE\t6\t")
                break
            users.append(line.split("\t")[2])
        self.assertEqual(sorted(users), ["alice", "carol", "dave@example.com"])
        m.send("FOO\t7")
        self.assertIsNone(m.readline())
        m.close()


class FailureDelayTest(unittest.TestCase):
    def test_failure_is_delayed(self):
        tmp = tmpdir()
        try:
            server = AuthServer(write_config(tmp, failure_delay="1 secs"), tmp)
            try:
                c, _ = client_handshake(os.path.join(tmp, "run", "auth-client"))
                start = time.monotonic()
                c.send("AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp="
                       + b64(b"\0alice\0wrong"))
                self.assertEqual(c.readline(), "FAIL\t1\tuser=alice")
                self.assertGreaterEqual(time.monotonic() - start, 0.9)
                c.close()
            finally:
                server.stop()
            log = ""
            for name in ("stderr.log", "auth.log"):
                with open(os.path.join(tmp, name)) as f:
                    log += f.read()
            self.assertIn("auth: ", log)
            self.assertNotIn("wrong", log)  # no password in the log
        finally:
            rmtree(tmp)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""The PROXY protocol on login listeners (`haproxy = yes`): v1 and v2
headers from a trusted proxy give the client's address to the login
worker (LOGINDISABLED decided on it, rip= in the log lines); an untrusted
peer, a bad header and a silent peer are dropped. Both the imap and the
pop3 login use it. Every expectation was taken from Debian's Dovecot
2.3.19: HAPROXY_ORACLE=dovecot runs the same test against it (same
temp config; never /etc/dovecot). Needs root (the mail user is nobody).

Env: ROOST = path of build/bin/roost; HAPROXY_ORACLE=dovecot."""
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from serverlib import free_port, passwd_auth

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
ORACLE = os.environ.get("HAPROXY_ORACLE", "") == "dovecot"
UID = GID = 65534


def v2_header(src, dst, sport, dport):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    addrs = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!HH", sport, dport)
    return sig + bytes([0x21, 0x11]) + struct.pack("!H", len(addrs)) + addrs


class Haproxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="roost-haproxy.")
        os.chmod(cls.tmp, 0o755)
        home = os.path.join(cls.tmp, "home")
        os.makedirs(home)
        os.chown(home, UID, GID)
        with open(os.path.join(cls.tmp, "passwd"), "w") as f:
            f.write("alice:{PLAIN}secret:%d:%d::%s::\n" % (UID, GID, home))
        cls.imap, cls.pop3 = free_port(), free_port()
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        with open(cls.conf, "w") as f:
            f.write("""protocols = imap pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
login_greeting = Dovecot (Debian) ready.
haproxy_trusted_networks = 127.0.0.1/32
login_trusted_networks = 198.51.100.0/24
haproxy_timeout = 1 secs
%(auth)sservice imap-login {
  inet_listener imap {
    port = %(imap)d
    haproxy = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3)d
    haproxy = yes
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0
  }
}
""" % {"tmp": cls.tmp, "auth": passwd_auth(cls.tmp), "imap": cls.imap, "pop3": cls.pop3})
        exe = "/usr/sbin/dovecot" if ORACLE else os.path.join(BIN, "dovecot")
        cls.master = subprocess.Popen([exe, "-F", "-c", cls.conf])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", cls.imap), 1).close()
                socket.create_connection(("127.0.0.1", cls.pop3), 1).close()
                break
            except OSError:
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.master.terminate()
        cls.master.wait(30)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def log(self):
        with open(os.path.join(self.tmp, "log"), errors="replace") as f:
            return f.read()

    def wait_log(self, pattern):
        for _ in range(50):
            if re.search(pattern, self.log()):
                return
            time.sleep(0.1)
        self.assertRegex(self.log(), pattern)

    def connect(self, port, header, src="127.0.0.1"):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        if header:
            s.sendall(header)
        return s

    def lines(self, s, n):
        buf = b""
        while buf.count(b"\n") < n:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        return buf.decode(errors="replace").splitlines()

    def test_01_v1_insecure_client(self):
        """The proxied client is 192.0.2.10: not secured, so LOGINDISABLED."""
        s = self.connect(self.imap, b"PROXY TCP4 192.0.2.10 127.0.0.1 40001 143\r\n")
        greeting = self.lines(s, 1)[0]
        self.assertIn("LOGINDISABLED", greeting)
        s.sendall(b"a LOGOUT\r\n")
        self.lines(s, 2)
        s.close()
        self.wait_log(r"imap-login: Info: Disconnected: Aborted login by "
                      r"logging out \(no auth attempts in \d+ secs\): "
                      r"user=<>, rip=192\.0\.2\.10, lip=127\.0\.0\.1, "
                      r"session=<")

    def test_02_v2_trusted_client_logs_in(self):
        """A v2 header naming a client in login_trusted_networks:
        secured, login works and the Login: line names the proxied
        address; the commands sent right behind the header are not lost.
        (A proxied loopback client is not secured by rip = lip: only
        trust or the proxy's SSL flag count, as in Dovecot.)"""
        s = self.connect(self.imap, v2_header("198.51.100.7", "127.0.0.1",
                                              40002, 143))
        self.assertTrue(self.lines(s, 1)[0].startswith("* OK [CAPABILITY "))
        s.sendall(b"a LOGIN alice secret\r\nb LOGOUT\r\n")
        out = self.lines(s, 4)
        self.assertTrue(out[0].startswith("a OK "), out)
        s.close()
        self.wait_log(r"imap-login: Info: Login: user=<alice>, method=PLAIN, "
                      r"rip=198\.51\.100\.7, lip=127\.0\.0\.1, mpid=\d+, secured")
        s = self.connect(self.imap, v2_header("127.0.0.1", "127.0.0.1",
                                              40004, 143))
        self.assertIn("LOGINDISABLED", self.lines(s, 1)[0])
        s.close()

    def test_03_pop3_header_and_command_together(self):
        s = self.connect(self.pop3, b"PROXY TCP4 192.0.2.11 127.0.0.1 40003 110\r\n")
        self.assertEqual(self.lines(s, 1)[0], "+OK Dovecot (Debian) ready.")
        s.sendall(b"QUIT\r\n")
        self.lines(s, 2)
        s.close()
        self.wait_log(r"pop3-login: Info: Disconnected: Aborted login by "
                      r"logging out \(no auth attempts in \d+ secs\): "
                      r"user=<>, rip=192\.0\.2\.11, lip=127\.0\.0\.1")

    def test_04_bad_header_dropped(self):
        s = self.connect(self.imap, b"HELLO THERE\r\n")
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        self.assertEqual(data, b"")
        s.close()

    def test_05_no_header_times_out(self):
        s = self.connect(self.imap, b"")
        start = time.time()
        self.assertEqual(s.recv(100), b"")
        self.assertLess(time.time() - start, 9)
        s.close()

    def test_06_untrusted_peer_dropped(self):
        """A PROXY header from outside haproxy_trusted_networks is not
        believed: the connection is closed before any greeting."""
        s = self.connect(self.imap, b"PROXY TCP4 192.0.2.12 127.0.0.1 40006 143\r\n",
                         src="127.0.0.2")
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        self.assertEqual(data, b"")
        s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)

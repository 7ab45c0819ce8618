#!/usr/bin/env python3
"""The running server, end to end over POP3: `dovecot -F -c CONF` (Roost's
master) from a temp config on a loopback port, driven with Python's
poplib and raw sockets.

Covers: login with USER/PASS and AUTH PLAIN (with initial response),
wrong passwords, STAT/LIST/UIDL/TOP/RETR/DELE/QUIT with the deletion
applied, UIDLs stable across sessions, commands pipelined behind PASS
(they travel with the hand-over), a client vanishing mid-RETR of a 3 MB
message, 300 concurrent idle connections, a 10 MB line, Dovecot's log
lines (and fail2ban's dovecot filter when fail2ban is installed), the
privileges of every process read from /proc (login worker: dovenull,
chrooted into base_dir/login; mail worker: the user's uid, never root),
a killed login worker and a killed mail worker being replaced, and
SIGTERM stopping everything. Needs root (the mail user is nobody).

Env: ROOST = path of build/bin/roost."""
import base64
import os
import poplib
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from serverlib import free_port, make_cert, passwd_auth

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534


def proc_children_args():
    res = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        res[int(pid)] = [a.decode(errors="replace") for a in args if a]
    return res


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


class Pop3Server(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.tmp = tempfile.mkdtemp(prefix="roost-pop3srv.")
        os.chmod(cls.tmp, 0o755)
        cls.port = free_port()
        home = os.path.join(cls.tmp, "home", "alice")
        os.makedirs(home)
        os.chown(os.path.join(cls.tmp, "home"), UID, GID)
        os.chown(home, UID, GID)
        hashed = subprocess.run([os.path.join(BIN, "doveadm"), "pw", "-s",
                                 "SHA512-CRYPT", "-p", "secret"],
                                check=True, stdout=subprocess.PIPE
                                ).stdout.decode().strip()
        with open(os.path.join(cls.tmp, "passwd"), "w") as f:
            f.write("alice:%s:%d:%d::%s::\n" % (hashed, UID, GID, home))
        cls.ssl_port = free_port()
        make_cert(cls.tmp)
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        with open(cls.conf, "w") as f:
            f.write("""protocols = pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_failure_delay = 0
%(auth)sservice pop3-login {
  inet_listener pop3 {
    port = %(port)d
  }
  inet_listener pop3s {
    port = %(ssl_port)d
  }
}
""" % {"tmp": cls.tmp, "auth": passwd_auth(cls.tmp), "port": cls.port, "ssl_port": cls.ssl_port})
        # messages: small ones and a 3 MB one, saved with Roost's LDA
        msgs = [b"Subject: one\n\nfirst\n", b"Subject: two\n\n.dot line\n",
                b"Subject: big\n\n" + (b"x" * 70 + b"\n") * 43000]
        for m in msgs:
            subprocess.run([os.path.join(BIN, "dovecot-lda"), "-c", cls.conf,
                            "-d", "alice"], input=m, check=True)
        for root, dirs, files in os.walk(os.path.join(cls.tmp, "home")):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, UID, GID)
        cls.master = subprocess.Popen([os.path.join(BIN, "dovecot"), "-F",
                                       "-c", cls.conf])
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), 1).close()
                if os.path.exists(os.path.join(cls.tmp, "run", "auth-master")):
                    break
            except OSError:
                pass
            time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "master", None) is not None and cls.master.poll() is None:
            cls.master.send_signal(signal.SIGTERM)
            cls.master.wait(20)
        if hasattr(cls, "tmp"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def log(self):
        with open(os.path.join(self.tmp, "log")) as f:
            return f.read()

    def wait_log(self, regex, timeout=10):
        """The log line may follow the reply the client already read."""
        deadline = time.time() + timeout
        while True:
            log = self.log()
            if re.search(regex, log) or time.time() > deadline:
                self.assertRegex(log, regex)
                return log
            time.sleep(0.1)

    def login(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        p.user("alice")
        p.pass_("secret")
        return p

    def test_01_session(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        self.assertEqual(p.getwelcome(), b"+OK Dovecot (Debian) ready.")
        caps = p.capa()
        self.assertIn("USER", caps)
        self.assertEqual(caps["SASL"], ["PLAIN"])
        p.user("alice")
        self.assertEqual(p.pass_("secret"), b"+OK Logged in.")
        count, size = p.stat()
        self.assertEqual(count, 3)
        uidl1 = p.uidl()[1]
        resp, lines, octets = p.retr(2)
        self.assertEqual(lines, [b"Subject: two", b"", b".dot line"])
        resp, lines, octets = p.top(1, 0)
        self.assertEqual(lines, [b"Subject: one", b""])
        p.quit()
        p = self.login()
        self.assertEqual(p.uidl()[1], uidl1)
        p.quit()
        log = self.wait_log(r"Disconnected: Logged out top=1/")
        self.assertRegex(log, r"pop3-login: Info: Login: user=<alice>, "
                         r"method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, "
                         r"mpid=\d+, secured, session=<[^>]+>")
        self.assertRegex(log, r"pop3\(alice\)<\d+><[^>]+>: Info: "
                         r"Disconnected: Logged out top=1/\d+, retr=1/\d+, "
                         r"del=0/3, size=\d+")

    def test_02_wrong_password_and_auth(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        p.user("alice")
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_("wrong")
        self.assertEqual(cm.exception.args[0],
                         b"-ERR [AUTH] Authentication failed.")
        ir = base64.b64encode(b"\0alice\0secret").decode()
        self.assertEqual(p._shortcmd("AUTH PLAIN " + ir), b"+OK Logged in.")
        p.quit()
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        p.user("alice")
        with self.assertRaises(poplib.error_proto):
            p.pass_("wrong")
        p.quit()
        self.wait_log(r"pop3-login: Info: Disconnected: "
                         r"Aborted login by logging out \(auth failed, 1 "
                         r"attempts in \d+ secs\): user=<alice>, "
                         r"method=PLAIN, rip=127\.0\.0\.1")
        if shutil.which("fail2ban-regex") and os.path.exists(
                "/etc/fail2ban/filter.d/dovecot.conf"):
            out = subprocess.run(["fail2ban-regex",
                                  os.path.join(self.tmp, "log"),
                                  "/etc/fail2ban/filter.d/dovecot.conf"],
                                 stdout=subprocess.PIPE).stdout.decode()
            self.assertRegex(out, r"Failregex: [1-9]\d* total")

    def test_025_invalid_base64(self):
        """Replies and log line as Dovecot 2.3.19's: an undecodable
        continued response is refused by the login process itself."""
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        self.assertEqual(p._shortcmd("AUTH PLAIN"), b"+ ")
        with self.assertRaises(poplib.error_proto) as cm:
            p._shortcmd("!!!notbase64")
        self.assertEqual(cm.exception.args[0],
                         b"-ERR [AUTH] Invalid base64 in response")
        with self.assertRaises(poplib.error_proto) as cm:
            p._shortcmd("AUTH PLAIN !!!x")
        self.assertEqual(cm.exception.args[0], b"-ERR [AUTH] Invalid "
                         b"base64 data in initial response")
        p.quit()
        self.wait_log(r"pop3-login: Info: Disconnected: Aborted login by "
                      r"logging out \(sent invalid base64 in response\): "
                      r"user=<>, method=PLAIN, rip=127\.0\.0\.1")

    def test_03_pipelined_after_pass(self):
        s = socket.create_connection(("127.0.0.1", self.port), 20)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"USER alice\r\nPASS secret\r\nSTAT\r\nNOOP\r\nQUIT\r\n")
        lines = [f.readline() for _ in range(5)]
        self.assertEqual(lines[0], b"+OK\r\n")
        self.assertEqual(lines[1], b"+OK Logged in.\r\n")
        self.assertTrue(lines[2].startswith(b"+OK 3 "), lines)
        self.assertEqual(lines[3], b"+OK\r\n")
        self.assertEqual(lines[4], b"+OK Logging out.\r\n")
        s.close()

    def test_04_disconnect_mid_retr(self):
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", self.port), 20)
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"USER alice\r\nPASS secret\r\nRETR 3\r\n")
            f.readline()
            f.readline()
            f.readline()
            s.close()
        p = self.login()
        self.assertEqual(p.stat()[0], 3)
        p.quit()

    def test_05_many_idle_connections(self):
        socks = []
        for _ in range(300):
            socks.append(socket.create_connection(("127.0.0.1", self.port), 20))
        for s in socks:
            self.assertTrue(s.makefile("rb").readline().startswith(b"+OK"))
        p = self.login()
        p.quit()
        for s in socks:
            s.close()

    def ours(self, args):
        """A process of this test's server: children read the master's
        config snapshot in base_dir, the master the test's file."""
        return any(a.startswith(self.tmp + "/") for a in args)

    def test_06_long_line(self):
        s = socket.create_connection(("127.0.0.1", self.port), 20)
        f = s.makefile("rb")
        f.readline()
        try:
            s.sendall(b"USER " + b"a" * (10 * 1024 * 1024) + b"\r\n")
        except OSError:
            pass  # the server closed while we were still sending
        s.close()
        p = self.login()
        p.quit()

    def test_07_privileges(self):
        base = os.path.realpath(os.path.join(self.tmp, "run", "login"))
        p = self.login()  # keeps a mail worker around
        procs = proc_children_args()
        logins = [pid for pid, a in procs.items()
                  if a[1:2] == ["login"] and self.ours(a)]
        workers = [pid for pid, a in procs.items()
                   if a[1:2] == ["mail-worker"] and self.ours(a)]
        self.assertTrue(logins)
        self.assertTrue(workers)
        dovenull = pwd.getpwnam("dovenull").pw_uid
        for pid in logins:
            self.assertEqual(proc_uid(pid), dovenull)
            self.assertEqual(os.readlink("/proc/%d/root" % pid), base)
        for pid in workers:
            self.assertEqual(proc_uid(pid), UID)
            self.assertEqual(os.readlink("/proc/%d/root" % pid), "/")
        p.quit()

    def test_08_killed_workers_restart(self):
        p = self.login()
        procs = proc_children_args()
        logins = [pid for pid, a in procs.items()
                  if a[1:2] == ["login"] and self.ours(a)]
        for pid in logins:
            os.kill(pid, signal.SIGKILL)
        # the logged-in session lives in the mail worker: unaffected
        self.assertEqual(p.stat()[0], 3)
        p.quit()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                p = self.login()
                p.quit()
                break
            except (OSError, poplib.error_proto):
                time.sleep(0.2)
        else:
            self.fail("no login worker came back")
        p = self.login()
        workers = [pid for pid, a in proc_children_args().items()
                   if a[1:2] == ["mail-worker"] and self.ours(a)]
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        p2 = self.login()
        self.assertEqual(p2.stat()[0], 3)
        p2.quit()

    def test_085_tls(self):
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        # STLS
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        self.assertIn("STLS", p.capa())
        self.assertEqual(p.stls(ctx), b"+OK Begin TLS negotiation now.")
        self.assertNotIn("STLS", p.capa())
        with self.assertRaises(poplib.error_proto) as cm:
            p._shortcmd("STLS")
        self.assertEqual(cm.exception.args[0], b"-ERR TLS is already active.")
        p.user("alice")
        p.pass_("secret")
        self.assertEqual(p.stat()[0], 3)
        p.quit()
        # implicit TLS (pop3s), a 3 MB RETR through the TLS proxy
        p = poplib.POP3_SSL("127.0.0.1", self.ssl_port, context=ctx,
                            timeout=20)
        self.assertEqual(p.getwelcome(), b"+OK Dovecot (Debian) ready.")
        p.user("alice")
        p.pass_("secret")
        resp, lines, octets = p.retr(3)
        self.assertEqual(len(lines), 43002)
        p.quit()
        self.wait_log(r"Login: user=<alice>, method=PLAIN, "
                         r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=\d+, "
                         r"TLS, session=<")
        # commands pipelined behind STLS are dropped, not run inside TLS
        s = socket.create_connection(("127.0.0.1", self.port), 20)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"STLS\r\nCAPA\r\n")
        self.assertEqual(f.readline(), b"+OK Begin TLS negotiation now.\r\n")
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(b"NOOP\r\n")
        self.assertEqual(t.makefile("rb").readline(), b"+OK\r\n")
        t.close()
        # curl, a real client
        if shutil.which("curl"):
            out = subprocess.run(["curl", "-sk", "pop3s://alice:secret@"
                                  "127.0.0.1:%d/1" % self.ssl_port],
                                 stdout=subprocess.PIPE, timeout=30).stdout
            self.assertIn(b"Subject: one", out)
            out = subprocess.run(["curl", "-sk", "--ssl-reqd",
                                  "pop3://alice:secret@127.0.0.1:%d/" %
                                  self.port], stdout=subprocess.PIPE,
                                 timeout=30).stdout
            self.assertTrue(out.startswith(b"1 "), out)

    def test_09_dele_applied(self):
        p = self.login()
        p.dele(1)
        self.assertEqual(p.quit(), b"+OK Logging out, messages deleted.")
        p = self.login()
        self.assertEqual(p.stat()[0], 2)
        p.quit()

    def test_095_reload(self):
        with open(self.conf) as f:
            good = f.read()
        # a broken config: the old one keeps running, and says why
        with open(self.conf, "w") as f:
            f.write(good + "no_such_setting = 1\n")
        self.master.send_signal(signal.SIGHUP)
        time.sleep(1)
        self.assertIn("Config reload failed", self.log())
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        self.assertEqual(p.getwelcome(), b"+OK Dovecot (Debian) ready.")
        p.quit()
        # login workers restarted now still get the config that was
        # accepted, not the broken file on disk
        for pid, a in proc_children_args().items():
            if a[1:2] == ["login"] and self.ours(a):
                os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 15
        welcome = None
        while time.time() < deadline and welcome is None:
            try:
                p = poplib.POP3("127.0.0.1", self.port, timeout=5)
                welcome = p.getwelcome()
                p.quit()
            except (OSError, poplib.error_proto):
                time.sleep(0.2)
        self.assertEqual(welcome, b"+OK Dovecot (Debian) ready.")
        self.assertNotIn("no_such_setting", self.log().split(
            "Config reload failed", 1)[1].split("\n", 1)[1])
        # a changed config is taken
        with open(self.conf, "w") as f:
            f.write(good + "login_greeting = Reloaded ready.\n")
        self.master.send_signal(signal.SIGHUP)
        deadline = time.time() + 15
        welcome = None
        while time.time() < deadline:
            try:
                p = poplib.POP3("127.0.0.1", self.port, timeout=5)
                welcome = p.getwelcome()
                p.quit()
                if welcome == b"+OK Reloaded ready.":
                    break
            except (OSError, poplib.error_proto):
                pass
            time.sleep(0.2)
        self.assertEqual(welcome, b"+OK Reloaded ready.")
        p = self.login()
        self.assertGreaterEqual(p.stat()[0], 2)
        p.quit()
        self.assertNotRegex(self.log(), r"service\(auth\): child \d+ killed")
        # reloads in a row: the login workers stop before the auth service
        # restarts, so none of them sees it vanish (Dovecot logs nothing)
        before = len(self.log())
        for _ in range(3):
            self.master.send_signal(signal.SIGHUP)
            time.sleep(0.3)
        p = self.login()
        self.assertGreaterEqual(p.stat()[0], 2)
        p.quit()
        after = self.log()[before:]
        self.assertIn("SIGHUP received", after)
        self.assertNotIn("Lost connection to the auth service", after)
        self.assertNotIn("connection lost", after)
        self.assertNotRegex(after, r"service\([a-z0-9-]+\): child \d+ "
                            r"(killed|returned)")
        with open(self.conf, "w") as f:
            f.write(good)

    def test_10_sigterm(self):
        cls = type(self)
        cls.master.send_signal(signal.SIGTERM)
        cls.master.wait(20)
        time.sleep(0.3)
        left = [pid for pid, a in proc_children_args().items()
                if self.ours(a)]
        self.assertEqual(left, [])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "run",
                                                     "master.pid")))


if __name__ == "__main__":
    unittest.main(verbosity=2)

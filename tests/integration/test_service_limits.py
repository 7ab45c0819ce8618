#!/usr/bin/env python3
"""The `service { }` limits of the master, on a running server
(`dovecot -F -c CONF` on loopback), checked from /proc and with POP3
clients:

- login services: process_limit caps the login workers; a worker at
  client_limit stops accepting, the master starts another, and when
  process_limit is reached the next connection makes the oldest client
  that hasn't begun to log in go ("-ERR Connection queue full", Dovecot's
  "process_limit (N) reached" warning) and is greeted; idle_kill stops the extra idle workers; service_count = 1
  gives every connection a fresh worker;
- mail services: at process_limit a new uid's session waits (the
  warning) and is served when a worker ends, or is dropped after 10 s
  without a reply, as Dovecot; an explicit client_limit = 1 gives a second session of the
  same uid a second worker; idle_kill ends an idle mail worker;
- vsz_limit: RLIMIT_AS of login and mail workers (/proc/PID/limits),
  Dovecot's default 256M (an IMAP session works under it), ignored by
  ASan builds.

Needs root. Env: ROOST = path of build/bin/roost."""
import imaplib
import os
import poplib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from serverlib import free_port, passwd_auth

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
SANITIZED = os.sep + "san" + os.sep in os.path.abspath(ROOST)
USERS = {"alice": 65534, "bob": 60001}


def workers(tmp, role, service=None):
    """pids of `roost <role>` processes started for this tmp's server
    (login workers: of service only, when given)"""
    res = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = [a.decode(errors="replace")
                        for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if len(args) > 3 and args[1] == role and args[3].startswith(tmp) \
                and (service is None or (len(args) > 4 and args[4] == service)):
            try:
                with open("/proc/%s/stat" % pid) as f:
                    if f.read().split(")")[-1].split()[0] == "Z":
                        continue
            except OSError:
                continue
            res.append(int(pid))
    return sorted(res)


def address_space_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max address space"):
                return line.split()[3]
    return None


def unexpected_errors(log):
    """Error/Fatal/Panic lines other than the expected process_limit one"""
    return [l for l in log.splitlines()
            if re.search(r"(Error|Fatal|Panic): ", l)
            and "destination service { process_limit } reached" not in l]


class Server:
    def __init__(self, services, protocols="pop3"):
        self.tmp = tempfile.mkdtemp(prefix="roost-svclim.")
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        self.imap_port = free_port()
        lines = []
        for user, uid in USERS.items():
            home = os.path.join(self.tmp, "home", user)
            os.makedirs(os.path.join(home, "Maildir", "new"))
            os.makedirs(os.path.join(home, "Maildir", "cur"))
            os.makedirs(os.path.join(home, "Maildir", "tmp"))
            with open(os.path.join(home, "Maildir", "new", "1.m"), "w") as f:
                f.write("Subject: hi\n\nhello\n")
            for root, dirs, files in os.walk(home):
                for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                    os.lchown(n, uid, uid)
            lines.append("%s:{PLAIN}secret:%d:%d::%s::\n" % (user, uid, uid, home))
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write("".join(lines))
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""protocols = %(protocols)s
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
%(auth)s%(services)s""" % {"tmp": self.tmp, "auth": passwd_auth(self.tmp),
                           "services": services % {"port": self.port,
                                                   "imap_port": self.imap_port},
                           "protocols": protocols})
        self.master = subprocess.Popen([os.path.join(BIN, "dovecot"), "-F",
                                        "-c", self.conf])
        deadline = time.time() + 20
        while time.time() < deadline:
            if workers(self.tmp, "login") and os.path.exists(
                    os.path.join(self.tmp, "run", "auth-master")):
                break
            time.sleep(0.1)
        self.greet(self.connect()).close()

    def stop(self):
        if self.master.poll() is None:
            self.master.send_signal(signal.SIGTERM)
            self.master.wait(20)
        if os.environ.get("ROOST_TEST_KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self):
        with open(os.path.join(self.tmp, "log")) as f:
            return f.read()

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), 5)

    @staticmethod
    def greet(sock, timeout=5.0):
        sock.settimeout(timeout)
        data = b""
        while not data.endswith(b"\r\n"):
            more = sock.recv(512)
            if not more:
                break
            data += more
        if not data.startswith(b"+OK"):
            raise AssertionError("no greeting: %r" % data)
        return sock

    def pop3(self, user):
        p = poplib.POP3("127.0.0.1", self.port, timeout=10)
        p.user(user)
        p.pass_("secret")
        return p

    def wait(self, cond, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return True
            time.sleep(0.1)
        return cond()


class LoginLimits(unittest.TestCase):
    """pop3-login: process_min_avail 1, process_limit 2, client_limit 1,
    idle_kill 2 s; pop3: process_limit 1, vsz_limit 300M, idle_kill 2 s"""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.srv = Server("""service pop3-login {
  process_min_avail = 1
  process_limit = 2
  client_limit = 1
  idle_kill = 2 secs
  inet_listener pop3 {
    port = %(port)d
  }
}
service pop3 {
  process_limit = 1
  vsz_limit = 300M
  idle_kill = 2 secs
}
""")

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "srv"):
            cls.srv.stop()

    def logins(self):
        return workers(self.srv.tmp, "login")

    def test_1_client_and_process_limit(self):
        srv = self.srv
        self.assertTrue(srv.wait(lambda: len(self.logins()) == 1), self.logins())
        c1 = srv.greet(srv.connect())
        # the busy worker makes the master start a second one
        self.assertTrue(srv.wait(lambda: len(self.logins()) == 2), self.logins())
        c2 = srv.greet(srv.connect())
        time.sleep(0.3)
        # both at client_limit and process_limit reached: as Dovecot, the
        # oldest client that hasn't begun to log in makes room
        c3 = srv.connect()
        c1.settimeout(5)
        got = b""
        while True:
            more = c1.recv(512)
            if not more:
                break
            got += more
        self.assertEqual(got, b"-ERR Connection queue full\r\n")
        srv.greet(c3)
        self.assertLessEqual(len(self.logins()), 2)
        self.assertTrue(srv.wait(lambda: "Warning: service(pop3-login): "
                                 "process_limit (2) reached, client "
                                 "connections are being dropped" in srv.log()))
        self.assertTrue(srv.wait(lambda: re.search(
            r"pop3-login: Info: Disconnected: Connection queue full \(no auth "
            r"attempts in \d+ secs\): user=<>, rip=127\.0\.0\.1, "
            r"lip=127\.0\.0\.1, secured, session=<", srv.log())))
        time.sleep(0.5)
        self.assertLessEqual(len(self.logins()), 2)
        c1.close()
        c2.close()
        c3.close()

    def test_2_idle_kill_login(self):
        srv = self.srv
        # every connection closed: after idle_kill only process_min_avail
        # workers stay
        self.assertTrue(srv.wait(lambda: len(self.logins()) == 1, 10),
                        self.logins())

    def test_3_vsz_limit(self):
        srv = self.srv
        want_login = "unlimited" if SANITIZED else str(256 * 1024 * 1024)
        for pid in self.logins():
            self.assertEqual(address_space_limit(pid), want_login)
        p = srv.pop3("alice")
        self.assertIn(b"hello", b"\n".join(p.retr(1)[1]))
        mail = workers(srv.tmp, "mail-worker")
        self.assertEqual(len(mail), 1)
        self.assertEqual(address_space_limit(mail[0]),
                         "unlimited" if SANITIZED else str(300 * 1024 * 1024))
        p.quit()

    def test_4_mail_process_limit_and_idle_kill(self):
        srv = self.srv
        srv.wait(lambda: not workers(srv.tmp, "mail-worker"), 10)
        p = srv.pop3("alice")
        self.assertEqual(len(workers(srv.tmp, "mail-worker")), 1)
        # alice's second session shares her worker
        p2 = srv.pop3("alice")
        self.assertEqual(len(workers(srv.tmp, "mail-worker")), 1)
        # bob needs a second mail worker: process_limit = 1 makes him
        # wait (Dovecot's warning) until alice's worker is gone
        q = poplib.POP3("127.0.0.1", srv.port, timeout=20)
        q.user("bob")
        result = {}
        th = threading.Thread(target=lambda: result.update(
            r=q.pass_("secret"), t=time.time()))
        th.start()
        # with process_limit 1 Dovecot names the per-process limits
        self.assertTrue(srv.wait(lambda: "Warning: service(pop3): "
                                 "client_limit/service_count (1) reached, "
                                 "client connections are being dropped"
                                 in srv.log()))
        self.assertNotIn("r", result)
        quit_at = time.time()
        p2.quit()
        p.quit()
        # idle_kill (2 s): alice's idle worker ends, then bob gets one
        th.join(15)
        self.assertTrue(result.get("r", b"").startswith(b"+OK"), result)
        self.assertGreater(result["t"] - quit_at, 1.5)
        self.assertEqual(q.stat()[0], 1)
        # alice waits for bob's worker, which stays: after 10 s the
        # connection is closed without a reply, as Dovecot does
        r = poplib.POP3("127.0.0.1", srv.port, timeout=20)
        r.user("alice")
        start = time.time()
        with self.assertRaises(poplib.error_proto) as cm:
            r.pass_("secret")
        self.assertEqual(cm.exception.args[0], "-ERR EOF")
        self.assertGreater(time.time() - start, 9)
        r.close()
        q.quit()
        self.assertTrue(srv.wait(lambda: re.search(
            r"pop3-login: Error: master\(pop3\): read\(\) failed: Remote "
            r"closed connection \(destination service \{ process_limit \} "
            r"reached\?\) \(client-pid=\d+, client-id=\d+, rip=127\.0\.0\.1, "
            r"created \d+ msecs ago, received 0/4 bytes\)", srv.log())))
        self.assertTrue(srv.wait(lambda: re.search(
            r"pop3-login: Info: Disconnected: Internal login failure "
            r"\(pid=\d+ id=\d+\): user=<alice>, method=PLAIN, "
            r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, secured, session=<",
            srv.log())))

    def test_9_no_errors(self):
        self.assertEqual(unexpected_errors(self.srv.log()), [])


class ServiceCountOne(unittest.TestCase):
    """pop3-login: service_count = 1; pop3: client_limit = 1 and
    service_count = 1 (explicit: Dovecot's defaults, but set)"""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.srv = Server("""service pop3-login {
  service_count = 1
  process_min_avail = 1
  inet_listener pop3 {
    port = %(port)d
  }
}
service pop3 {
  client_limit = 1
  service_count = 1
}
service imap-login {
  service_count = 1
  process_min_avail = 1
  inet_listener imap {
    port = %(imap_port)d
  }
}
""", protocols="pop3 imap")

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "srv"):
            cls.srv.stop()

    def test_fresh_login_worker_per_connection(self):
        srv = self.srv
        self.assertTrue(srv.wait(lambda: len(workers(srv.tmp, "login", "pop3-login")) == 1))
        seen = set()
        for _ in range(3):
            # the one idle worker, read in the same look that found it
            # (a second look could catch a worker mid-exec)
            found = []

            def one():
                found[:] = workers(srv.tmp, "login", "pop3-login")
                return len(found) == 1
            self.assertTrue(srv.wait(one))
            before = list(found)
            c = srv.greet(srv.connect())
            # the worker that took it takes no other: a new one starts
            self.assertTrue(srv.wait(
                lambda: len(set(workers(srv.tmp, "login", "pop3-login")) - set(before)) == 1))
            c.close()
            # and the used one exits
            self.assertTrue(srv.wait(
                lambda: not set(before) & set(workers(srv.tmp, "login", "pop3-login"))))
            seen.update(before)
        self.assertEqual(len(seen), 3)

    def test_y_imap_default_vsz_limit(self):
        srv = self.srv
        srv.wait(lambda: not workers(srv.tmp, "mail-worker"))
        logins = workers(srv.tmp, "login", "imap-login")
        want = "unlimited" if SANITIZED else str(256 * 1024 * 1024)
        for pid in logins:
            self.assertEqual(address_space_limit(pid), want)
        im = imaplib.IMAP4("127.0.0.1", srv.imap_port)
        im.login("alice", "secret")
        self.assertEqual(im.select("INBOX")[0], "OK")
        self.assertIn(b"hello", im.fetch("1", "(BODY[])")[1][0][1])
        mail = workers(srv.tmp, "mail-worker")
        self.assertEqual(len(mail), 1)
        # Dovecot's 256M default is per connection; a Roost mail worker
        # serves every session of its uid, so only an admin's own
        # vsz_limit applies to it (DESIGN.md)
        self.assertEqual(address_space_limit(mail[0]), "unlimited")
        im.logout()
        # imap-login service_count = 1: the one that served it is gone
        self.assertTrue(srv.wait(lambda: len(set(logins) - set(
            workers(srv.tmp, "login", "imap-login"))) == 1))

    def test_mail_client_limit_explicit(self):
        srv = self.srv
        p1 = srv.pop3("alice")
        p2 = srv.pop3("alice")
        mail = workers(srv.tmp, "mail-worker")
        self.assertEqual(len(mail), 2)
        p1.quit()
        p2.quit()
        self.assertTrue(srv.wait(lambda: not workers(srv.tmp, "mail-worker")))

    def test_mail_service_count_explicit(self):
        srv = self.srv
        srv.wait(lambda: not workers(srv.tmp, "mail-worker"))
        p1 = srv.pop3("alice")
        first = workers(srv.tmp, "mail-worker")
        self.assertEqual(len(first), 1)
        p1.quit()
        # one session per worker: it exits after it, the next gets another
        self.assertTrue(srv.wait(lambda: not workers(srv.tmp, "mail-worker")))
        p2 = srv.pop3("alice")
        second = workers(srv.tmp, "mail-worker")
        self.assertEqual(len(second), 1)
        self.assertNotEqual(first, second)
        p2.quit()

    def test_z_no_errors(self):
        self.assertEqual(unexpected_errors(self.srv.log()), [])


if __name__ == "__main__":
    unittest.main()

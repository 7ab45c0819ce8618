#!/usr/bin/env python3
"""Real POP3 clients and hostile ones against the running server
(`dovecot -F -c CONF`, Roost's master, from a temp config on loopback).

- Debian's fetchmail over plain POP3 (`sslproto ''`), STLS and POP3S
  (`ssl`, `no sslcertck`: the test's self-signed certificate), each
  delivering to an mda (`cat >> FILE`) whose bytes are compared with the
  messages: with `keep` (the messages stay), with `uidl` (a second run
  fetches nothing, a new message is the only one fetched by a third), and
  without keep (DELE + QUIT: the maildrop is empty afterwards).
- getmail6's SimplePOP3Retriever (3) and SimplePOP3SSLRetriever (3, then 0).
- Slowloris: 50 clients sending `CAPA\\r\\n` one byte a second (6 s) while a
  normal client logs in and downloads every message, twice; it must be
  served in < 2 s each time, and every slow client then gets its CAPA
  reply. Dovecot's pre-login rule is 180 s since the last command line
  (`-ERR Disconnected for inactivity.`), so within the test window
  neither server drops a slow client: the test asserts exactly that
  (POP3_TARGET=dovecot shows Dovecot does the same).
- A client gone in the middle of the STLS handshake (half a ClientHello)
  and one gone mid-RETR of a 3 MB message on POP3S: the server logs the
  disconnect, keeps serving, and nothing is deleted.
- TLS session resumption across login workers (4 per protocol here):
  `openssl s_client -sess_out` once, then `-sess_in` 6 times, against
  pop3s and imaps with TLS 1.2 and 1.3: every connection says "Reused";
  and Python ssl sessions kept open show that resumed connections were
  answered by more than one login worker (socket inodes in /proc).
  After a reload (new login workers, new key) an old ticket gets a
  full handshake and new ones resume again.
  Dovecot 2.3 resumes only within one login process (each has its own
  ticket key; with its default service_count = 1 never): with
  POP3_TARGET=dovecot the test expects "New" instead.

Env: ROOST = build/bin/roost; POP3_TARGET=dovecot runs it against
Debian's Dovecot. Needs root, fetchmail, getmail6, openssl."""
import os
import poplib
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from serverlib import free_port, make_cert, tls_context

TARGET = os.environ.get("POP3_TARGET", "roost")
ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
MASTER = (shutil.which("dovecot") or "/usr/sbin/dovecot") \
    if TARGET == "dovecot" else os.path.join(BIN, "dovecot")
UID = GID = 65534
MSGS = [b"From: a@example.com\nSubject: one\nMessage-ID: <p1@example.com>\n"
        b"\nfirst body\n",
        b"From: b@example.com\nSubject: two\nMessage-ID: <p2@example.com>\n"
        b"\n.dot line\n..two dots\n",
        b"From: c@example.com\nSubject: three\nMessage-ID: <p3@example.com>\n"
        b"\nthird\n"]
BIG = b"Subject: big\n\n" + (b"y" * 70 + b"\n") * 43000


class Pop3Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        if shutil.which("fetchmail") is None:
            raise unittest.SkipTest("fetchmail missing (scripts/deps.sh)")
        cls.tmp = tempfile.mkdtemp(prefix="roost-pop3cli.")
        os.chmod(cls.tmp, 0o755)
        cls.port, cls.sport, cls.iport, cls.isport = (
            free_port(), free_port(), free_port(), free_port())
        cls.home = os.path.join(cls.tmp, "home", "alice")
        os.makedirs(cls.home)
        with open(os.path.join(cls.tmp, "passwd"), "w") as f:
            f.write("alice:{PLAIN}secret:%d:%d::%s::\n" % (UID, GID, cls.home))
        make_cert(cls.tmp)
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        with open(cls.conf, "w") as f:
            f.write("""protocols = pop3 imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
service pop3-login {
  process_min_avail = 4
  inet_listener pop3 {
    port = %(port)d
  }
  inet_listener pop3s {
    port = %(sport)d
  }
}
service imap-login {
  process_min_avail = 4
  inet_listener imap {
    port = %(iport)d
  }
  inet_listener imaps {
    port = %(isport)d
  }
}
""" % {"tmp": cls.tmp, "port": cls.port, "sport": cls.sport,
       "iport": cls.iport, "isport": cls.isport})
        cls.master = subprocess.Popen([MASTER, "-F", "-c", cls.conf])
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                s = socket.create_connection(("127.0.0.1", cls.port), 1)
                s.settimeout(2)
                if s.recv(100).startswith(b"+OK"):
                    s.close()
                    break
                s.close()
            except OSError:
                pass
            time.sleep(0.1)
        cls.seq = 0

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "master", None) is not None and cls.master.poll() is None:
            cls.master.send_signal(signal.SIGTERM)
            cls.master.wait(20)
        if hasattr(cls, "tmp") and not os.environ.get("KEEP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    def log(self):
        with open(os.path.join(self.tmp, "log"), errors="replace") as f:
            return f.read()

    def wait_log(self, regex, timeout=10):
        deadline = time.time() + timeout
        while not re.search(regex, self.log()) and time.time() < deadline:
            time.sleep(0.1)
        self.assertRegex(self.log(), regex)

    def set_maildrop(self, msgs):
        """Replace alice's Maildir by these messages (in this order)."""
        md = os.path.join(self.home, "Maildir")
        shutil.rmtree(md, ignore_errors=True)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub))
        for m in msgs:
            self.add_message(m)

    def add_message(self, m):
        md = os.path.join(self.home, "Maildir")
        Pop3Clients.seq += 1
        name = "%d.M%dP%d.test" % (1700000000 + self.seq, self.seq, os.getpid())
        with open(os.path.join(md, "new", name), "wb") as f:
            f.write(m)
        for root, dirs, files in os.walk(self.home):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, UID, GID)

    def stat(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=10)
        p.user("alice")
        p.pass_("secret")
        n = p.stat()[0]
        p.quit()
        return n

    def fetchmail(self, name, options, port, ssl_line, poll_opts=""):
        work = os.path.join(self.tmp, name)
        os.makedirs(work, exist_ok=True)
        out = os.path.join(work, "mbox")
        rc = os.path.join(work, "fetchmailrc")
        with open(rc, "w") as f:
            f.write("""set no syslog
set invisible
poll 127.0.0.1 service %d protocol pop3 auth password timeout 20 %s
  user "alice" there with password "secret" is "root" here
  options %s %s
  mda "cat >> %s"
""" % (port, poll_opts, ssl_line, options, out))
        os.chmod(rc, 0o600)
        env = dict(os.environ, FETCHMAILHOME=work, HOME=work)
        p = subprocess.run(["fetchmail", "-v", "-f", rc, "-i",
                            os.path.join(work, "ids"), "--nosyslog"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=60)
        text = p.stdout.decode(errors="replace")
        data = b""
        if os.path.exists(out):
            with open(out, "rb") as f:
                data = f.read()
            os.unlink(out)
        return p.returncode, text, data

    # ---- fetchmail ----

    def check_fetch(self, name, port, ssl_line, marker):
        self.set_maildrop(MSGS)
        rc, out, data = self.fetchmail(name, "keep fetchall", port, ssl_line)
        self.assertEqual(rc, 0, out)
        self.assertEqual(data, b"".join(MSGS), out)
        self.assertIn(marker, out)
        self.assertEqual(self.stat(), 3)
        # without keep: DELE for each, applied at QUIT
        rc, out, data = self.fetchmail(name, "no keep fetchall", port, ssl_line)
        self.assertEqual(rc, 0, out)
        self.assertEqual(data, b"".join(MSGS), out)
        self.assertRegex(out, r"POP3> DELE 3")
        self.assertEqual(self.stat(), 0)
        if name == "fm-plain":
            # nothing left: fetchmail's exit code 1 ("no mail")
            rc, out, data = self.fetchmail(name, "keep fetchall", port,
                                           ssl_line)
            self.assertEqual((rc, data), (1, b""), out)

    def test_fetchmail_plain(self):
        self.check_fetch("fm-plain", self.port, "sslproto ''", "POP3> USER alice")

    def test_fetchmail_stls(self):
        self.check_fetch("fm-stls", self.port, "sslproto 'tls1.2+' no sslcertck",
                         "POP3> STLS")
        self.assertNotRegex(self.log(), r"pop3-login: .*Disconnected.*user=<alice>")

    def test_fetchmail_pop3s(self):
        self.check_fetch("fm-pop3s", self.sport, "ssl no sslcertck",
                         "SSL/TLS: using protocol TLSv1.3")

    def test_fetchmail_uidl(self):
        self.set_maildrop(MSGS[:2])
        rc, out, data = self.fetchmail("fm-uidl", "keep", self.port,
                                       "sslproto ''", "uidl")
        self.assertEqual((rc, data), (0, MSGS[0] + MSGS[1]), out)
        rc, out, data = self.fetchmail("fm-uidl", "keep", self.port,
                                       "sslproto ''", "uidl")
        self.assertEqual((rc, data), (1, b""), out)
        self.add_message(MSGS[2])
        rc, out, data = self.fetchmail("fm-uidl", "keep", self.port,
                                       "sslproto ''", "uidl")
        self.assertEqual((rc, data), (0, MSGS[2]), out)
        self.assertEqual(self.stat(), 3)

    # ---- getmail6 ----

    def test_getmail(self):
        if shutil.which("getmail") is None:
            self.skipTest("getmail6 missing")
        for tls in (False, True):
            self.set_maildrop(MSGS)
            work = os.path.join(self.tmp, "gm-%d" % tls)
            os.makedirs(work)
            out = os.path.join(work, "mbox")
            rc = os.path.join(work, "getmailrc")
            with open(rc, "w") as f:
                f.write("""[retriever]
type = %s
server = 127.0.0.1
port = %d
username = alice
password = secret

[destination]
type = MDA_external
path = /bin/sh
arguments = ("-c", "cat >> %s")
allow_root_commands = true

[options]
read_all = false
delete = false
delivered_to = false
received = false
verbose = 1
""" % ("SimplePOP3SSLRetriever" if tls else "SimplePOP3Retriever",
                    self.sport if tls else self.port, out))
            os.chown(work, UID, GID)
            argv = ["getmail", "--getmaildir", work, "--rcfile", rc]
            p = subprocess.run(argv, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            text = p.stdout.decode(errors="replace")
            self.assertEqual(p.returncode, 0, text)
            self.assertRegex(text, r"3 messages \(\d+ bytes\) retrieved")
            with open(out, "rb") as f:
                got = f.read()
            # getmail's own Return-Path header does not count
            got = re.sub(rb"(?m)^(Return-Path|X-getmail-[^:]*): .*\r?\n", b"",
                         got)
            self.assertEqual(got, b"".join(MSGS))
            if not tls:
                continue	# the second run once is enough (runtime)
            p = subprocess.run(argv, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            text = p.stdout.decode(errors="replace")
            self.assertEqual(p.returncode, 0, text)
            self.assertIn("0 messages (0 bytes) retrieved", text)
            self.assertEqual(self.stat(), 3)

    # ---- hostile clients ----

    @staticmethod
    def read_line(s):
        """One reply line (a line may come in several segments)."""
        buf = b""
        while not buf.endswith(b"\r\n"):
            d = s.recv(1)
            if d == b"":
                break
            buf += d
        return buf

    def download_all(self):
        t0 = time.time()
        p = poplib.POP3("127.0.0.1", self.port, timeout=10)
        p.user("alice")
        p.pass_("secret")
        n = p.stat()[0]
        for i in range(1, n + 1):
            p.retr(i)
        p.quit()
        return n, time.time() - t0

    def test_slowloris(self):
        self.set_maildrop(MSGS)
        slow = []
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", self.port), 5)
            slow.append(s)
        for s in slow:
            s.settimeout(5)
            self.assertTrue(self.read_line(s).startswith(b"+OK"))
        line = b"CAPA\r\n"
        served = []
        for i, c in enumerate(line):
            t0 = time.time()
            for s in slow:
                s.sendall(bytes([c]))
            if i in (1, 4):
                served.append(self.download_all())
            if i < len(line) - 1:
                time.sleep(max(0.0, 1.0 - (time.time() - t0)))
        for n, secs in served:
            self.assertEqual(n, 3)
            self.assertLess(secs, 2.0, "normal client served in %.2f s" % secs)
        # every slow client is still there and gets its CAPA reply
        for s in slow:
            buf = b""
            while not buf.endswith(b"\r\n.\r\n"):
                d = s.recv(4096)
                self.assertNotEqual(d, b"", "slow client dropped")
                buf += d
            self.assertTrue(buf.startswith(b"+OK"), buf)
            self.assertIn(b"\r\nUIDL\r\n", buf)
            s.close()
        sys.stderr.write("slowloris: normal client %.0f ms, %.0f ms; "
                         "50 slow clients kept and answered\n"
                         % (served[0][1] * 1000, served[1][1] * 1000))

    def test_disconnect_mid_stls(self):
        s = socket.create_connection(("127.0.0.1", self.port), 5)
        s.settimeout(5)
        self.assertTrue(self.read_line(s).startswith(b"+OK"))
        s.sendall(b"STLS\r\n")
        self.assertTrue(self.read_line(s).startswith(b"+OK"))
        # the first half of a real ClientHello, then gone
        inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = tls_context().wrap_bio(inb, outb, server_side=False)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outb.read()
        s.sendall(hello[:len(hello) // 2])
        time.sleep(0.2)
        s.close()
        self.wait_log(r"pop3-login: Info: Disconnected.*rip=127\.0\.0\.1, "
                      r"lip=127\.0\.0\.1, TLS handshaking: Connection closed, "
                      r"session=<")
        self.set_maildrop(MSGS)
        self.assertEqual(self.download_all()[0], 3)

    def test_disconnect_mid_retr_pop3s(self):
        self.set_maildrop(MSGS + [BIG])
        p = poplib.POP3_SSL("127.0.0.1", self.sport, timeout=10,
                            context=tls_context())
        p.user("alice")
        p.pass_("secret")
        self.assertEqual(p.stat()[0], 4)
        p._putcmd("RETR 4")
        p.file.read(65536)
        p.file.close()
        p.sock.close()
        t0 = time.time()
        self.wait_log(r"pop3\(alice\).*Disconnected: Connection closed", 30)
        sys.stderr.write("mid-RETR: session end logged after %.1f s\n"
                         % (time.time() - t0))
        self.assertEqual(self.stat(), 4)

    # ---- TLS session resumption across login workers ----

    def s_client(self, port, version, sess, out):
        args = ["openssl", "s_client", version, "-connect",
                "127.0.0.1:%d" % port, "-sess_out" if out else "-sess_in",
                sess]
        # stdin stays open until the greeting: a TLS 1.3 ticket arrives
        # after the handshake, before the greeting
        p = subprocess.Popen(args, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        text = ""
        deadline = time.time() + 10
        while time.time() < deadline:
            line = p.stdout.readline().decode(errors="replace")
            if line == "":
                break
            text += line
            if line.startswith("+OK") or line.startswith("* OK"):
                break
        p.stdin.close()
        text += p.stdout.read().decode(errors="replace")
        p.stdout.close()
        p.wait(10)
        m = re.search(r"^(New|Reused), (TLSv1\.[23])", text, re.M)
        self.assertIsNotNone(m, text)
        return m.group(1), m.group(2)

    def test_tls_resumption_openssl(self):
        want = "New" if TARGET == "dovecot" else "Reused"
        results = []
        for port in (self.sport, self.isport):
            for version, vname in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
                sess = os.path.join(self.tmp, "sess-%d%s" % (port, version))
                self.assertEqual(self.s_client(port, version, sess, True),
                                 ("New", vname))
                for _ in range(6):
                    got = self.s_client(port, version, sess, False)
                    results.append(got)
                    self.assertEqual(got, (want, vname),
                                     "port %d %s" % (port, vname))
        sys.stderr.write("resumption: %d of %d %s\n"
                         % (sum(r[0] == want for r in results), len(results), want))

    def login_worker_pids(self, name):
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if (len(args) > 4 and args[1] == b"login" and
                    name.encode() in args) or args[0] == name.encode():
                pids.append(int(pid))
        return pids

    def socket_owner(self, sock, pids):
        """Which of pids holds the server end of this TCP connection."""
        port = sock.getsockname()[1]
        inode = None
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[2].split(":")[1], 16) == port:
                    inode = fields[9]
        self.assertIsNotNone(inode)
        for pid in pids:
            try:
                for fd in os.listdir("/proc/%d/fd" % pid):
                    try:
                        if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == \
                                "socket:[%s]" % inode:
                            return pid
                    except OSError:
                        pass
            except OSError:
                pass
        return None

    def test_tls_resumption_workers(self):
        if TARGET == "dovecot":
            self.skipTest("Dovecot resumes only within one login process")
        for proto in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = tls_context()
            ctx.minimum_version = ctx.maximum_version = proto
            first = ctx.wrap_socket(socket.create_connection(
                ("127.0.0.1", self.sport), 5))
            first.recv(200)
            sess = first.session
            first.close()
            conns = []
            for _ in range(12):
                c = ctx.wrap_socket(socket.create_connection(
                    ("127.0.0.1", self.sport), 5), session=sess)
                self.assertTrue(c.recv(200).startswith(b"+OK"))
                self.assertTrue(c.session_reused, proto)
                conns.append(c)
            # every process may hold one: a worker the master has just
            # started can still show the master's command line
            every = [int(p) for p in os.listdir("/proc") if p.isdigit()]
            owners = {self.socket_owner(c, every) for c in conns}
            for c in conns:
                c.close()
            self.assertNotIn(None, owners)
            deadline = time.time() + 10
            while time.time() < deadline and not owners <= set(
                    self.login_worker_pids("pop3-login")):
                time.sleep(0.1)
            self.assertLessEqual(owners, set(
                self.login_worker_pids("pop3-login")))
            self.assertGreater(len(owners), 1,
                               "all resumed connections on one worker")

    def test_tls_ticket_rotation(self):
        """A reload gives the new login workers a new ticket key: an old
        ticket gets a full handshake, new ones resume everywhere."""
        if TARGET == "dovecot":
            self.skipTest("Dovecot resumes only within one login process")
        sess = os.path.join(self.tmp, "sess-rotation")
        self.assertEqual(self.s_client(self.sport, "-tls1_2", sess, True),
                         ("New", "TLSv1.2"))
        self.assertEqual(self.s_client(self.sport, "-tls1_2", sess, False),
                         ("Reused", "TLSv1.2"))
        old = set(self.login_worker_pids("pop3-login"))
        self.master.send_signal(signal.SIGHUP)
        deadline = time.time() + 20
        while time.time() < deadline:
            now = set(self.login_worker_pids("pop3-login"))
            if len(now) >= 4 and not now & old:
                break
            time.sleep(0.1)
        sys.stderr.write("reload: new login workers after %.1f s\n" % (time.time() + 20 - deadline))
        self.assertFalse(set(self.login_worker_pids("pop3-login")) & old)
        self.assertEqual(self.s_client(self.sport, "-tls1_2", sess, False),
                         ("New", "TLSv1.2"))
        self.assertEqual(self.s_client(self.sport, "-tls1_2", sess, True),
                         ("New", "TLSv1.2"))
        for _ in range(4):
            self.assertEqual(self.s_client(self.sport, "-tls1_2", sess, False),
                             ("Reused", "TLSv1.2"))


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""Socket activation of the master with systemd's systemd-socket-activate:
a named fd ("pop3") is taken by the pop3 listener whatever its address; an
unnamed fd is matched by address and port (as with Debian's stock
dovecot.socket); an inherited socket no listener wants is closed with
Dovecot's error line. The configured port of an activated listener is
never bound by Roost itself (the test checks by having no other socket
on it). test_shipped_units takes the (FileDescriptorName, ListenStream) pairs of
packaging/systemd/*.socket and hands Roost one socket per pair under
those names (on free ports: the config's ports differ, so only the names
can match): imap, imaps, pop3, pop3s greet (with TLS where due), the
submission pair, with no submission listener configured, is closed.
Needs root (mail user nobody) and systemd-socket-activate.

Env: ROOST = path of build/bin/roost."""
import os
import glob
import imaplib
import poplib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOST = os.environ.get("ROOST", "build/bin/roost")
UNITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "packaging", "systemd")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
BIN = os.path.dirname(os.path.abspath(ROOST))
ACTIVATE = shutil.which("systemd-socket-activate")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SocketActivation(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0 or ACTIVATE is None:
            self.skipTest("needs root and systemd-socket-activate")
        self.tmp = tempfile.mkdtemp(prefix="roost-sdact.")
        os.chmod(self.tmp, 0o755)
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        os.chown(home, 65534, 65534)
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write("alice:{PLAIN}secret:65534:65534::%s::\n" % home)
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, conf_port, activate_args):
        conf = os.path.join(self.tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("""protocols = pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
ssl = no
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
service pop3-login {
  inet_listener pop3 {
    port = %(port)d
  }
  inet_listener pop3s {
    port = 0
  }
}
""" % {"tmp": self.tmp, "port": conf_port})
        self.proc = subprocess.Popen([ACTIVATE] + activate_args +
                                     [os.path.join(BIN, "dovecot"), "-F",
                                      "-c", conf],
                                     stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def login(self, port):
        deadline = time.time() + 20
        while True:
            try:
                p = poplib.POP3("127.0.0.1", port, timeout=10)
                p.user("alice")
                p.pass_("secret")
                return p
            except (OSError, poplib.error_proto):
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def log(self):
        deadline = time.time() + 10
        path = os.path.join(self.tmp, "log")
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.1)
        with open(path) as f:
            return f.read()

    def test_named_fd(self):
        # the config says another port; the fd named "pop3" wins
        sock_port = free_port()
        self.start(free_port(), ["-l", "127.0.0.1:%d" % sock_port,
                                 "--fdname=pop3"])
        p = self.login(sock_port)
        self.assertEqual(p.stat()[0], 0)
        p.quit()

    def test_matched_by_address_and_unused_closed(self):
        port = free_port()
        unused = free_port()
        self.start(port, ["-l", "127.0.0.1:%d" % port,
                          "-l", "127.0.0.1:%d" % unused])
        p = self.login(port)
        p.quit()
        self.assertIn("systemd listens on port %d, but it's not configured "
                      "in Dovecot. Closing." % unused, self.log())
        # the unused socket is closed: nothing answers there any more
        with self.assertRaises(OSError):
            s = socket.create_connection(("127.0.0.1", unused), 2)
            s.settimeout(2)
            if s.recv(1) == b"":
                raise OSError("closed")


    def test_shipped_units(self):
        units = {}
        for path in sorted(glob.glob(os.path.join(UNITS, "*.socket"))):
            with open(path) as f:
                text = f.read()
            name = re.search(r"^FileDescriptorName=(\S+)$", text, re.M)
            ports = re.findall(r"^ListenStream=(\d+)$", text, re.M)
            self.assertIsNotNone(name, path)
            self.assertEqual(len(ports), 1, path)
            units[name.group(1)] = int(ports[0])
        self.assertEqual(units, {"imap": 143, "imaps": 993, "pop3": 110,
                                 "pop3s": 995, "submission": 587,
                                 "submissions": 465})
        serverlib.make_cert(self.tmp)
        conf = os.path.join(self.tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("""protocols = imap pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
%(auth)s
service imap-login {
  inet_listener imap {
    port = %(p1)d
  }
  inet_listener imaps {
    port = %(p2)d
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(p3)d
  }
  inet_listener pop3s {
    port = %(p4)d
  }
}
""" % {"tmp": self.tmp, "auth": serverlib.passwd_auth(self.tmp),
       "p1": free_port(), "p2": free_port(), "p3": free_port(),
       "p4": free_port()})
        names = sorted(units)
        ports = {n: free_port() for n in names}
        args = []
        for n in names:
            args += ["-l", "127.0.0.1:%d" % ports[n]]
        args.append("--fdname=" + ":".join(names))
        self.proc = subprocess.Popen([ACTIVATE] + args +
                                     [os.path.join(BIN, "dovecot"), "-F",
                                      "-c", conf],
                                     stderr=subprocess.DEVNULL)
        ctx = serverlib.tls_context()
        p = self.login(ports["pop3"])
        p.quit()
        p = poplib.POP3_SSL("127.0.0.1", ports["pop3s"], timeout=10,
                            context=ctx)
        p.user("alice")
        p.pass_("secret")
        p.quit()
        c = imaplib.IMAP4("127.0.0.1", ports["imap"], timeout=10)
        c.login("alice", "secret")
        c.logout()
        c = imaplib.IMAP4_SSL("127.0.0.1", ports["imaps"], ssl_context=ctx,
                              timeout=10)
        c.login("alice", "secret")
        c.logout()
        log = self.log()
        for n in ("submission", "submissions"):
            self.assertIn("systemd listens on port %d, but it's not "
                          "configured in Dovecot. Closing." % ports[n], log)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""Socket activation of the master with systemd's systemd-socket-activate:
a named fd ("pop3") is taken by the pop3 listener whatever its address; an
unnamed fd is matched by address and port (as with Debian's stock
dovecot.socket); an inherited socket no listener wants is closed with
Dovecot's error line. The configured port of an activated listener is
never bound by Roost itself (the test checks by having no other socket
on it). Needs root (mail user nobody) and systemd-socket-activate.

Env: ROOST = path of build/bin/roost."""
import os
import poplib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOST = os.environ.get("ROOST", "build/bin/roost")
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


if __name__ == "__main__":
    unittest.main(verbosity=2)

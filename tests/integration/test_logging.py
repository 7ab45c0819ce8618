#!/usr/bin/env python3
"""The daemon's log destinations, as Dovecot's settings name them:
log_path (warnings, errors, and everything else by default),
info_log_path, debug_log_path, and log_path = syslog (datagrams to
/dev/log: "<PRI>Mmm dd HH:MM:SS dovecot: pop3-login: Login: ...", the
Info word dropped). Every process writes there: the master, the auth
service, the chrooted login workers and the mail workers running as the
user, which can't open the files themselves.

Env: ROOST = path of build/bin/roost."""
import os
import poplib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from serverlib import free_port, passwd_auth

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534


class Server:
    """Roost from a temp config with the given log settings."""

    def __init__(self, log_settings, env=None):
        self.tmp = tempfile.mkdtemp(prefix="roost-logging.")
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        home = os.path.join(self.tmp, "home", "alice")
        os.makedirs(home)
        os.chown(os.path.join(self.tmp, "home"), UID, GID)
        os.chown(home, UID, GID)
        hashed = subprocess.run([os.path.join(BIN, "doveadm"), "pw", "-s",
                                 "SHA512-CRYPT", "-p", "secret"], check=True,
                                stdout=subprocess.PIPE).stdout.decode().strip()
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write("alice:%s:%d:%d::%s::\n" % (hashed, UID, GID, home))
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""protocols = pop3
listen = 127.0.0.1
base_dir = %(tmp)s/run
mail_location = maildir:~/Maildir
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
%(logs)s
%(auth)sservice pop3-login {
  inet_listener pop3 {
    port = %(port)d
  }
  inet_listener pop3s {
    port = 0
  }
}
""" % {"tmp": self.tmp, "auth": passwd_auth(self.tmp), "port": self.port,
       "logs": log_settings % {"tmp": self.tmp}})
        self.master = subprocess.Popen(
            [os.path.join(BIN, "dovecot"), "-F", "-c", self.conf],
            env=env, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                if os.path.exists(os.path.join(self.tmp, "run",
                                               "auth-master")):
                    break
            except OSError:
                pass
            time.sleep(0.1)

    def session(self, password="secret"):
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        try:
            p.user("alice")
            p.pass_(password)
            p.stat()
            p.quit()
            return True
        except poplib.error_proto:
            p.quit()
            return False

    def stop(self):
        """Stops the server; returns what it wrote on stderr."""
        if self.master.poll() is None:
            self.master.send_signal(signal.SIGTERM)
        err = self.master.communicate(timeout=30)[1]
        shutil.rmtree(self.tmp, ignore_errors=True)
        return err.decode(errors="replace")

    def read(self, name):
        try:
            with open(os.path.join(self.tmp, name)) as f:
                return f.read()
        except FileNotFoundError:
            return ""


def wait_for(fn, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.1)
    return fn()


class LogFiles(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")

    def test_info_and_debug_paths(self):
        srv = Server("log_path = %(tmp)s/errors.log\n"
                     "info_log_path = %(tmp)s/info.log\n"
                     "debug_log_path = %(tmp)s/debug.log\n"
                     "auth_debug = yes\n")
        try:
            self.assertTrue(srv.session())
            self.assertFalse(srv.session("wrong"))
            # the chrooted login worker and the mail worker (uid 65534)
            # both write into info.log, which only root may open
            self.assertTrue(wait_for(lambda: "pop3(alice)" in
                                     srv.read("info.log")))
            self.assertTrue(wait_for(lambda: "auth failed" in
                                     srv.read("info.log")))
            info = srv.read("info.log")
            self.assertRegex(info, r"pop3-login: Info: Login: user=<alice>")
            self.assertRegex(info, r"pop3\(alice\)<\d+><[^>]+>: Info: "
                             r"Disconnected: Logged out")
            self.assertRegex(info, r"master: Info: Dovecot v")
            self.assertNotIn("Debug: ", info)
            self.assertNotIn("Error: ", info)
            debug = srv.read("debug.log")
            self.assertRegex(debug, r"auth: Debug: ")
            self.assertNotIn("Info: ", debug)
            # a warning and an error: a broken config on reload
            with open(srv.conf, "a") as f:
                f.write("no_such_setting = 1\n")
            srv.master.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: "Config reload failed" in
                                     srv.read("errors.log")))
            errors = srv.read("errors.log")
            self.assertRegex(errors, r"^\w{3} [ \d]\d \d\d:\d\d:\d\d master: "
                             r"Error: Config reload failed")
            self.assertNotIn("Info: ", errors)
            self.assertNotIn("Debug: ", errors)
        finally:
            srv.stop()

    def test_info_defaults_to_log_path(self):
        srv = Server("log_path = %(tmp)s/all.log\n")
        try:
            self.assertTrue(srv.session())
            self.assertTrue(wait_for(lambda: "Logged out" in
                                     srv.read("all.log")))
            self.assertIn("pop3-login: Info: Login: user=<alice>",
                          srv.read("all.log"))
        finally:
            srv.stop()

    def test_unwritable_log_path(self):
        srv = Server("log_path = /nonexistent-roost-dir/x.log\n")
        err = srv.stop()
        self.assertIn("open(/nonexistent-roost-dir/x.log) failed", err)


class MasterDeath(unittest.TestCase):
    def test_killed_master_leaves_nothing(self):
        """A master killed outright (no SIGTERM handling): the auth
        service, then the login workers that lose it, end too."""
        if os.geteuid() != 0:
            self.skipTest("needs root")
        srv = Server("log_path = %(tmp)s/all.log\n")
        try:
            self.assertTrue(srv.session())

            def left():
                pids = []
                for pid in os.listdir("/proc"):
                    if not pid.isdigit() or int(pid) == srv.master.pid:
                        continue
                    try:
                        with open("/proc/%s/cmdline" % pid, "rb") as f:
                            args = f.read().decode(errors="replace")
                    except OSError:
                        continue
                    if srv.tmp + "/" in args:
                        pids.append(int(pid))
                return pids
            self.assertTrue(left())
            srv.master.kill()
            srv.master.wait(10)
            self.assertTrue(wait_for(lambda: not left(), 15), left())
        finally:
            srv.stop()

class Syslog(unittest.TestCase):
    """log_path = syslog (Dovecot's default). The datagrams are taken from
    a socket bound at /dev/log: in a private mount namespace when the
    host has one, or created for the test when it has none."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        if not shutil.which("unshare"):
            self.skipTest("unshare (util-linux) missing")
        self.dir = tempfile.mkdtemp(prefix="roost-syslog.")
        self.sock_path = os.path.join(self.dir, "log")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        os.chmod(self.sock_path, 0o666)
        self.sock.settimeout(0.2)
        self.created = None
        if not os.path.exists("/dev/log"):
            # no syslog daemon here: ours is the only listener
            self.sock.close()
            os.unlink(self.sock_path)
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind("/dev/log")
            os.chmod("/dev/log", 0o666)
            self.sock.settimeout(0.2)
            self.created = "/dev/log"

    def tearDown(self):
        self.sock.close()
        if self.created:
            os.unlink(self.created)
        shutil.rmtree(self.dir, ignore_errors=True)

    def datagrams(self, want, timeout=10):
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                got.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                pass
            if want(got):
                break
        return got

    def test_syslog(self):
        if self.created:
            srv = Server("log_path = syslog\n")
        else:
            # bind our socket over the host's /dev/log for the server only
            wrapper = os.path.join(self.dir, "dovecot")
            with open(wrapper, "w") as f:
                f.write("#!/bin/sh\nmount --bind %s /dev/log && exec %s "
                        "\"$@\"\n" % (self.sock_path,
                                      os.path.join(BIN, "dovecot")))
            os.chmod(wrapper, 0o755)
            srv = Server.__new__(Server)
            real_popen = subprocess.Popen

            def popen(args, **kw):
                return real_popen(["unshare", "--mount", "--propagation",
                                   "private", wrapper] + args[1:], **kw)
            subprocess.Popen = popen
            try:
                Server.__init__(srv, "log_path = syslog\n")
            finally:
                subprocess.Popen = real_popen
        try:
            self.assertTrue(srv.session())
            got = self.datagrams(lambda g: any("Logged out" in d for d in g))
        finally:
            srv.stop()
        text = "\n".join(got)
        # mail.info, ident "dovecot", no pid, no "Info: " word
        self.assertRegex(text, r"<22>\w{3} [ \d]\d \d\d:\d\d:\d\d dovecot: "
                         r"pop3-login: Login: user=<alice>")
        self.assertRegex(text, r"<22>[^\n]*dovecot: pop3\(alice\)<\d+><[^>]+>: "
                         r"Disconnected: Logged out")
        self.assertRegex(text, r"dovecot: master: Dovecot v")
        self.assertNotIn("Info: ", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)

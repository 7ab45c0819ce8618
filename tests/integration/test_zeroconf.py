#!/usr/bin/env python3
"""Zero-config: `dovecot -F` with no configuration file at all serves
IMAP (STARTTLS), IMAPS, POP3 (STLS) and POP3S on their standard ports to
system users through PAM (service "dovecot", pam_unix with /etc/shadow),
with the mail location picked per user (Maildir when ~/Maildir exists,
else mbox:~/mail:INBOX=/var/mail/USER), a certificate made on first
start in the state directory (and kept on the next start), the
"no MTA on port 25" decision logged, and `doveconf -n` showing it all.

Nothing of the machine is touched: the test re-runs itself in new mount
and network namespaces (unshare), where /etc/dovecot is hidden by an
empty tmpfs, /run is a tmpfs, /etc/passwd, /etc/shadow and /etc/pam.d
and /var/mail are bind-mounted temporary copies with the test users,
and the ports (143, 993, 110, 995, 25) exist only on the namespace's
own loopback. The state directory is a temp dir ($ROOST_STATE_DIR).
Needs root and unshare(1); skips otherwise.

Env: ROOST = path of build/bin/roost."""
import imaplib
import os
import poplib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOST = os.path.abspath(os.environ.get("ROOST", "build/bin/roost"))
BIN = os.path.dirname(ROOST)
INSIDE = "ROOST_ZEROCONF_TEST_INSIDE"
PAM_DOVECOT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "..", "..", "packaging", "pam.d", "dovecot")
UID = 65534
PASSWORDS = {"zcmbox": "mbox-secret", "zcmaildir": "maildir-secret"}


def run(*args, **kw):
    return subprocess.run(list(args), check=True, **kw)


def readf(path):
    with open(path) as f:
        return f.read()


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ZeroConfig(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="roost-zeroconf.")
        os.chmod(cls.tmp, 0o755)
        t = cls.tmp
        # hide any config: /etc/dovecot becomes an empty directory
        if os.path.isdir("/etc/dovecot"):
            run("mount", "-t", "tmpfs", "tmpfs", "/etc/dovecot")
        if os.path.exists("/etc/dovecot.conf"):
            raise unittest.SkipTest("/etc/dovecot.conf exists")
        run("mount", "-t", "tmpfs", "tmpfs", "/run")
        run("ip", "link", "set", "lo", "up")
        # users: the machine's files plus ours (uid 65534, homes in tmp)
        homes = os.path.join(t, "home")
        os.makedirs(homes)
        passwd = readf("/etc/passwd")
        shadow = readf("/etc/shadow")
        for user, pw in PASSWORDS.items():
            home = os.path.join(homes, user)
            os.makedirs(home)
            os.chown(home, UID, UID)
            h = subprocess.run(["openssl", "passwd", "-6", pw],
                               check=True, capture_output=True,
                               text=True).stdout.strip()
            passwd += "%s:x:%d:%d::%s:/bin/sh\n" % (user, UID, UID, home)
            shadow += "%s:%s:19000:0:99999:7:::\n" % (user, h)
        for name, text, mode in (("passwd", passwd, 0o644),
                                 ("shadow", shadow, 0o640)):
            path = os.path.join(t, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, mode)
            run("mount", "--bind", path, "/etc/" + name)
        # PAM: the machine's common-* files and the packaged dovecot one
        pamd = os.path.join(t, "pam.d")
        shutil.copytree("/etc/pam.d", pamd)
        shutil.copy(PAM_DOVECOT, os.path.join(pamd, "dovecot"))
        run("mount", "--bind", pamd, "/etc/pam.d")
        # mail: an mbox in the spool for zcmbox, a Maildir for zcmaildir
        spool = os.path.join(t, "spool")
        os.makedirs(spool)
        os.chmod(spool, 0o1777)
        run("mount", "--bind", spool, "/var/mail")
        with open("/var/mail/zcmbox", "w") as f:
            f.write("From sender@example.org Thu Nov 26 10:00:00 2026\n"
                    "From: sender@example.org\nSubject: mbox hello\n\n"
                    "in the spool\n\n")
        os.chown("/var/mail/zcmbox", UID, UID)
        os.chmod("/var/mail/zcmbox", 0o600)
        md = os.path.join(homes, "zcmaildir", "Maildir")
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, d))
        with open(os.path.join(md, "new", "1700000000.M1P1.zc"), "w") as f:
            f.write("From: sender@example.org\nSubject: maildir hello\n\n"
                    "in the Maildir\n")
        for root, dirs, files in os.walk(md):
            for n in dirs + files + [""]:
                os.chown(os.path.join(root, n), UID, UID)
        cls.state = os.path.join(t, "state")
        cls.env = dict(os.environ, ROOST_STATE_DIR=cls.state)
        cls.env.pop("ROOST_CONFIG_DIR", None)
        cls.env.pop("ROOST_ZEROCONF_MTA", None)
        cls.proc = None
        cls.start()

    @classmethod
    def start(cls):
        cls.log = os.path.join(cls.tmp, "log.%d" % time.time_ns())
        with open(cls.log, "w") as log:
            cls.proc = subprocess.Popen([os.path.join(BIN, "dovecot"),
                                         "-F"], env=cls.env,
                                        stdout=subprocess.DEVNULL,
                                        stderr=log)
        deadline = time.time() + 30
        for port in (143, 993, 110, 995):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 2).close()
                    break
                except OSError:
                    if cls.proc.poll() is not None or \
                            time.time() > deadline:
                        raise AssertionError("not listening on %d:\n%s" %
                                             (port, readf(cls.log)))
                    time.sleep(0.1)

    @classmethod
    def stop(cls):
        if cls.proc is not None and cls.proc.poll() is None:
            cls.proc.terminate()
            cls.proc.wait(20)

    @classmethod
    def tearDownClass(cls):
        cls.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def read_log(self):
        return readf(self.log)

    def test_imap_starttls_mbox_user(self):
        c = imaplib.IMAP4("127.0.0.1", 143)
        c.starttls(tls_context())
        c.login("zcmbox", PASSWORDS["zcmbox"])
        typ, data = c.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = c.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"mbox hello", data[0][1])
        c.logout()
        # the mbox root was created under the fallback location
        self.assertTrue(os.path.isdir(
            os.path.join(self.tmp, "home", "zcmbox", "mail")))

    def test_imaps_maildir_user(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=tls_context())
        c.login("zcmaildir", PASSWORDS["zcmaildir"])
        typ, data = c.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = c.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"maildir hello", data[0][1])
        c.logout()

    def test_pop3_stls_and_pop3s(self):
        p = poplib.POP3("127.0.0.1", 110, timeout=10)
        p.stls(tls_context())
        p.user("zcmaildir")
        p.pass_(PASSWORDS["zcmaildir"])
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        p = poplib.POP3_SSL("127.0.0.1", 995, timeout=10,
                            context=tls_context())
        p.user("zcmbox")
        p.pass_(PASSWORDS["zcmbox"])
        self.assertEqual(p.stat()[0], 1)
        p.quit()

    def test_wrong_password(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=tls_context())
        with self.assertRaises(imaplib.IMAP4.error):
            c.login("zcmbox", "wrong")
        c.logout()

    def test_certificate_and_log(self):
        cert = os.path.join(self.state, "ssl-cert.pem")
        key = os.path.join(self.state, "ssl-key.pem")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        host = socket.gethostname()
        out = subprocess.run(["openssl", "x509", "-noout", "-subject",
                              "-in", cert], check=True, capture_output=True,
                             text=True).stdout
        self.assertIn("CN = " + host, out)
        # the server presents it
        with socket.create_connection(("127.0.0.1", 993), 5) as s:
            with tls_context().wrap_socket(s) as ts:
                der = ts.getpeercert(binary_form=True)
        pem = readf(cert)
        self.assertEqual(ssl.DER_cert_to_PEM_cert(der).strip(), pem.strip())
        log = self.read_log()
        self.assertIn("No configuration file found: running with the "
                      "built-in zero-config settings", log)
        self.assertIn("zero-config: no MTA on port 25: submission disabled",
                      log)
        self.assertIn("zero-config: made a self-signed certificate for %s"
                      % host, log)
        self.assertIn("starting up for imap, pop3", log)

    def test_doveconf_shows_choice(self):
        out = subprocess.run([os.path.join(BIN, "doveconf"), "-n"],
                             env=self.env, check=True, capture_output=True,
                             text=True).stdout
        self.assertIn(": (zero-config)\n", out)
        self.assertIn("# zero-config: mail_location per user: "
                      "maildir:~/Maildir if ~/Maildir exists, else "
                      "mbox:~/mail:INBOX=/var/mail/%u\n", out)
        self.assertIn("passdb {\n  driver = pam\n}\n", out)
        self.assertIn("userdb {\n  driver = passwd\n}\n", out)
        self.assertIn("protocols = imap pop3\n", out)
        self.assertIn("ssl_cert = <%s/ssl-cert.pem\n" % self.state, out)

    def test_zz_mta_probe_and_restart_keeps_cert(self):
        cert = os.path.join(self.state, "ssl-cert.pem")
        before = readf(cert)
        self.stop()
        # a fake MTA greeting on port 25 of the namespace's loopback
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 25))
        srv.listen(5)

        def serve():
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                conn.sendall(b"220 fake.example ESMTP\r\n")
                conn.close()
        threading.Thread(target=serve, daemon=True).start()
        try:
            out = subprocess.run([os.path.join(BIN, "doveconf"), "-n"],
                                 env=self.env, check=True,
                                 capture_output=True, text=True).stdout
            self.assertIn("# zero-config: an MTA answers on port 25", out)
            self.start()
            self.assertIn("zero-config: an MTA answers on port 25",
                          self.read_log())
        finally:
            srv.close()
        self.assertEqual(readf(cert), before)
        self.assertNotIn("made a self-signed certificate", self.read_log())
        p = poplib.POP3_SSL("127.0.0.1", 995, timeout=10,
                            context=tls_context())
        p.user("zcmbox")
        p.pass_(PASSWORDS["zcmbox"])
        p.quit()


def main():
    if os.environ.get(INSIDE) != "1":
        if os.geteuid() != 0 or shutil.which("unshare") is None or \
                shutil.which("ip") is None:
            print("test_zeroconf: SKIP (needs root, unshare and ip)")
            return 0
        env = dict(os.environ, **{INSIDE: "1"})
        return subprocess.call(["unshare", "--mount", "--net", "--fork",
                                "--", sys.executable,
                                os.path.abspath(__file__)] + sys.argv[1:],
                               env=env)
    return 0 if unittest.main(verbosity=2, exit=False).result \
        .wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

"""smtpserverlib.py - the mail server under test for the SMTP-side tests
(test_smtp_postfix.py, tests/compat/smtp-diff.py, tests/bench/smtp-bench.py):
one dovecot.conf text, written once per run, served either by Debian's
Dovecot (`/usr/sbin/dovecot -F -c CONF`) or by Roost's master
(`build/bin/dovecot -F -c CONF`), with LMTP (a unix socket and a loopback
TCP port), submission (STARTTLS port and implicit-TLS submissions port),
IMAP and POP3 on free 127.0.0.1 ports.

Users: a passwd-file passdb (TMP/passwd: alice, bob, carol, all
`{PLAIN}secret`), a static userdb (uid/gid 65534, home TMP/home/%n,
Maildir), so an LMTP recipient exists iff the passdb knows it.

`Server.start()` raises `Unsupported` (tests skip on it) when the server
serves neither LMTP nor submission (Roost before its services exist) or
does not start; `server.has` / `server.missing(service)` tell which of
the two it serves, so a test skips only what is missing. What the check
looks at: the master's "starting up for PROTOCOLS" log line (Dovecot's
and Roost's masters both write it), then, within the timeout, a 220
greeting from each served listener (LMTP unix socket and TCP port;
submission and submissions ports).

Env: ROOST (build/bin/roost), SMTP_ORACLE=dovecot picks Dovecot (the
scripts call `target()`), KEEP=1 keeps the temp dir."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

UID = GID = 65534
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ROOST = os.environ.get("ROOST", os.path.join(TOP, "build", "bin", "roost"))
USERS = ("alice", "bob", "carol")
PASSWORD = "secret"
HOSTNAME = "mx.test"


class Unsupported(Exception):
    """The server under test has no LMTP/submission service."""


def target():
    """'dovecot' when SMTP_ORACLE=dovecot, else 'roost'."""
    return "dovecot" if os.environ.get("SMTP_ORACLE", "") == "dovecot" \
        else "roost"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


CONF = """# written by tests/integration/smtpserverlib.py
protocols = imap pop3 lmtp submission
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
hostname = %(hostname)s
mail_location = maildir:~/Maildir
mail_fsync = optimized
first_valid_uid = 1
first_valid_gid = 1
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_mechanisms = plain login
auth_failure_delay = 0
disable_plaintext_auth = yes
auth_username_format = %%Ln
mail_max_userip_connections = 1000
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
lda_mailbox_autocreate = yes
submission_relay_host = 127.0.0.1
submission_relay_port = %(relay_port)d
submission_max_recipients = %(max_rcpts)d
submission_max_mail_size = %(max_size)d
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = static
  args = uid=%(uid)d gid=%(gid)d home=%(tmp)s/home/%%n
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = %(lmtp_port)d
  }
}
service submission-login {
  inet_listener submission {
    port = %(sub_port)d
  }
  inet_listener submissions {
    port = %(subs_port)d
    ssl = yes
  }
}
service imap-login {
  inet_listener imap {
    port = %(imap_port)d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3_port)d
  }
  inet_listener pop3s {
    port = 0
  }
}
%(extra)s"""


def make_cert(tmp):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", os.path.join(tmp, "key.pem"),
                    "-out", os.path.join(tmp, "cert.pem")],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Server:
    """One Dovecot or Roost from the shared config text.

    kind: 'dovecot' or 'roost'; relay_port: where submission relays to;
    max_rcpts / max_size: submission_max_recipients / _max_mail_size;
    extra: more config text; tmp: use this directory (else a new one)."""

    def __init__(self, kind, relay_port, max_rcpts=0, max_size=0, extra="",
                 tmp=None, cert_from=None):
        self.kind = kind
        self.tmp = tmp or tempfile.mkdtemp(prefix="roost-smtp-%s." % kind)
        os.chmod(self.tmp, 0o755)
        self.relay_port = relay_port
        self.lmtp_port = free_port()
        self.sub_port = free_port()
        self.subs_port = free_port()
        self.imap_port = free_port()
        self.pop3_port = free_port()
        self.lmtp_socket = os.path.join(self.tmp, "run", "lmtp")
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        self.home = os.path.join(self.tmp, "home")
        self.master = None
        self.has = {"lmtp": False, "submission": False}
        self.started_for = None
        os.makedirs(self.home, exist_ok=True)
        os.chown(self.home, UID, GID)
        if cert_from:
            for n in ("cert.pem", "key.pem"):
                shutil.copy(os.path.join(cert_from, n), self.tmp)
        elif not os.path.exists(os.path.join(self.tmp, "cert.pem")):
            make_cert(self.tmp)
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            for u in USERS:
                f.write("%s:{PLAIN}%s::::::\n" % (u, PASSWORD))
        with open(self.conf, "w") as f:
            f.write(CONF % {
                "tmp": self.tmp, "hostname": HOSTNAME, "uid": UID,
                "gid": GID, "relay_port": relay_port,
                "max_rcpts": max_rcpts, "max_size": max_size,
                "lmtp_port": self.lmtp_port, "sub_port": self.sub_port,
                "subs_port": self.subs_port, "imap_port": self.imap_port,
                "pop3_port": self.pop3_port, "extra": extra})

    def argv(self):
        if self.kind == "dovecot":
            return ["/usr/sbin/dovecot", "-F", "-c", self.conf]
        return [os.path.join(os.path.dirname(os.path.abspath(ROOST)),
                             "dovecot"), "-F", "-c", self.conf]

    def log(self):
        try:
            with open(os.path.join(self.tmp, "log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _greets(self, connect):
        try:
            s = connect()
            s.settimeout(5)
            data = b""
            while b"\n" not in data:
                d = s.recv(512)
                if not d:
                    break
                data += d
            s.close()
            return data.startswith(b"220")
        except OSError:
            return False

    def services_up(self):
        """True when every service in self.has answers with 220."""
        def unix():
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.lmtp_socket)
            return s
        checks = []
        if self.has["lmtp"]:
            checks += [unix, lambda: socket.create_connection(
                ("127.0.0.1", self.lmtp_port), 2)]
        if self.has["submission"]:
            checks += [lambda: socket.create_connection(
                ("127.0.0.1", self.sub_port), 2),
                lambda: tls_context().wrap_socket(socket.create_connection(
                    ("127.0.0.1", self.subs_port), 2))]
        return all(self._greets(c) for c in checks)

    def start(self, timeout=20):
        """Start the master and wait until its LMTP and submission
        listeners greet. self.has tells which of the two the server
        serves (the master's "starting up for PROTOCOLS" log line);
        Unsupported if neither, or it does not start."""
        if os.geteuid() != 0:
            raise Unsupported("needs root")
        exe = self.argv()[0]
        if not os.path.exists(exe):
            raise Unsupported("%s not built" % exe)
        self.master = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE,
                                       start_new_session=True)
        deadline = time.time() + timeout
        self.started_for = None
        while time.time() < deadline:
            if self.master.poll() is not None:
                err = self.master.stderr.read().decode(errors="replace")
                self.master.stderr.close()
                self.master = None
                raise Unsupported("%s exited at start: %s %s" % (
                    self.kind, err.strip()[-500:], self.log()[-500:]))
            m = re.search(r"starting up for (.*?)( \(core dumps|$)",
                          self.log(), re.M)
            if m and self.started_for is None:
                self.started_for = m.group(0)
                protos = m.group(1).split(", ")
                self.has = {p: p in protos for p in ("lmtp", "submission")}
                if not any(self.has.values()):
                    self.stop()
                    raise Unsupported("%s serves no LMTP/submission: its log "
                                      "says \"%s\"" % (self.kind,
                                                        self.started_for))
            if m and self.services_up():
                return self
            time.sleep(0.1)
        log = self.log()
        self.stop()
        raise Unsupported(
            "%s: no 220 greeting on its %s listeners within %d s%s"
            % (self.kind, " and ".join(p for p in ("lmtp", "submission")
                                       if self.has.get(p, True)), timeout,
               ": " + log.strip().splitlines()[-1] if log.strip() else ""))

    def missing(self, service):
        """None if the server serves SERVICE ('lmtp' or 'submission'),
        else why not (a skip reason)."""
        if self.has.get(service):
            return None
        return "%s serves no %s yet: its log says \"%s\"" % (
            self.kind, "LMTP" if service == "lmtp" else "submission",
            self.started_for)

    def stop(self):
        if self.master and self.master.poll() is None:
            self.master.send_signal(signal.SIGTERM)
            try:
                self.master.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.master.pid, signal.SIGKILL)
                self.master.wait()
        if self.master:
            self.master.stderr.close()
        self.master = None

    def cleanup(self):
        self.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def maildir(self, user, mailbox="INBOX"):
        base = os.path.join(self.home, user, "Maildir")
        return base if mailbox == "INBOX" else os.path.join(
            base, "." + mailbox.replace("/", "."))

    def mails(self, user, mailbox="INBOX"):
        """The files of a user's mailbox (new/ and cur/), as bytes."""
        out = []
        d = self.maildir(user, mailbox)
        for sub in ("new", "cur"):
            p = os.path.join(d, sub)
            if os.path.isdir(p):
                for n in sorted(os.listdir(p)):
                    with open(os.path.join(p, n), "rb") as f:
                        out.append(f.read())
        return out

    def wait_log(self, regex, timeout=10):
        deadline = time.time() + timeout
        while True:
            m = re.search(regex, self.log(), re.M)
            if m or time.time() > deadline:
                return m
            time.sleep(0.05)

"""pluginlib.py - what the mail plugin tests (test_mail_plugins.py,
test_imap_quota.py, test_imap_compress.py, test_mail_zlib.py,
test_mail_log.py, test_dialect_plugins.py ...) share: a temp config with
a static userdb (mail owned by nobody), `roost imap -u` / Dovecot's
`imap -u` sessions fed a script, LDA deliveries, starting Roost's daemon
(or Dovecot's) from the config, and a test case cleaning its envs up."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from serverlib import free_port

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"
HAVE_DOVECOT = os.access(DOVECOT_IMAP, os.X_OK) and os.environ.get(
    "IMAP_DIFF", "1") != "0"
TIMING = re.compile(r" \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.")


class Env:
    """A temp directory with dovecot.conf: mail in home/<user>/Maildir."""

    def __init__(self, extra, prefix="roost-plg."):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.tmp, 0o755)
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home)
        os.chown(self.home, UID, GID)
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        self.master = None
        self.write_conf(extra)

    def write_conf(self, extra, listeners=""):
        with open(self.conf, "w") as f:
            f.write("""protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
state_dir = %(tmp)s/state
mail_location = maildir:~/Maildir
ssl = no
first_valid_uid = 1
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    port = 0
  }
}
userdb {
  driver = static
  args = uid=%(uid)d gid=%(uid)d home=%(tmp)s/home/%%u
}
passdb {
  driver = static
  args = password=secret
}
%(listeners)s%(extra)s""" % {"tmp": self.tmp, "uid": UID, "extra": extra,
                        "listeners": listeners})

    def maildir(self, user):
        return os.path.join(self.home, user, "Maildir")

    def mail_files(self, user):
        """The paths of user's INBOX files: new/, then cur/, each sorted."""
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir(user), sub)
            if os.path.isdir(d):
                out += [os.path.join(d, f) for f in sorted(os.listdir(d))]
        return out

    def chown_all(self):
        for root, dirs, files in os.walk(self.home):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, UID, GID)

    def log(self):
        try:
            with open(os.path.join(self.tmp, "log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- sessions ----
    def imap(self, user, script, dovecot=False, timeout=20):
        """Run a preauth session fed script (lines, CRLF added), return
        (stdout text with timings normalized, stderr, exit code)."""
        if dovecot:
            cmd = [DOVECOT_IMAP, "-c", self.conf, "-u", user]
        else:
            cmd = [ROOST, "imap", "-c", self.conf, "-u", user]
        data = script if isinstance(script, bytes) else \
            "".join(l + "\r\n" for l in script).encode()
        p = subprocess.run(cmd, input=data, capture_output=True,
                           timeout=timeout)
        out = TIMING.sub(".", p.stdout.decode(errors="replace"))
        return out, p.stderr.decode(errors="replace"), p.returncode

    def lda(self, user, msg, dovecot=False, args=()):
        if dovecot:
            cmd = [DOVECOT_LDA]
        else:
            cmd = [os.path.join(BIN, "dovecot-lda")]
        cmd += ["-c", self.conf, "-d", user] + list(args)
        p = subprocess.run(cmd, input=msg, capture_output=True, timeout=20)
        return p.returncode, p.stdout.decode(errors="replace") + \
            p.stderr.decode(errors="replace")

    def doveadm(self, args, dovecot=False):
        cmd = ["doveadm"] if dovecot else [os.path.join(BIN, "doveadm")]
        p = subprocess.run(cmd + ["-c", self.conf] + list(args),
                           capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode(errors="replace"), \
            p.stderr.decode(errors="replace")

    # ---- the daemon ----
    def start(self, dovecot=False, imap_port=None, imaps_port=None,
              wait=True):
        """Start the master in the foreground; returns the Popen."""
        master = shutil.which("dovecot") if dovecot else \
            os.path.join(BIN, "dovecot")
        os.makedirs(os.path.join(self.tmp, "state"), exist_ok=True)
        self.master = subprocess.Popen([master, "-F", "-c", self.conf],
                                       stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT)
        if not wait:
            return self.master
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.master.poll() is not None:
                raise RuntimeError("server exited: " + self.log())
            try:
                if imap_port:
                    socket.create_connection(("127.0.0.1", imap_port),
                                             1).close()
                if os.path.exists(os.path.join(self.tmp, "run",
                                               "auth-userdb")):
                    return self.master
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start: " + self.log())

    def stop(self):
        if self.master is None:
            return
        if self.master.poll() is None:
            self.master.terminate()
            try:
                self.master.wait(10)
            except subprocess.TimeoutExpired:
                self.master.kill()
                self.master.wait()
        if self.master.stdout:
            self.master.stdout.close()
        self.master = None


class EnvCase(unittest.TestCase):
    """A test case (root only) whose envs (new_env) are cleaned up after
    each test."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        self.envs = []

    def tearDown(self):
        for e in self.envs:
            e.cleanup()

    def new_env(self, extra, prefix):
        e = Env(extra, prefix=prefix)
        self.envs.append(e)
        return e


def free_ports(n):
    return [free_port() for _ in range(n)]


class Session:
    """An interactive preauth session: each command waits for its tagged
    reply, so Dovecot's parallel pipelining can't reorder replies."""

    def __init__(self, env, user, dovecot=False, stderr_path=None):
        import select
        self.select = select
        if dovecot:
            cmd = [DOVECOT_IMAP, "-c", env.conf, "-u", user]
        else:
            cmd = [ROOST, "imap", "-c", env.conf, "-u", user]
        err = open(stderr_path, "ab") if stderr_path else subprocess.DEVNULL
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=err)
        if stderr_path:
            err.close()
        self.buf = b""
        self.greeting = self.read_until(b"\r\n")

    def read_until(self, end, timeout=15):
        deadline = time.time() + timeout
        while end not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(self.buf)
            r, _, _ = self.select.select([self.p.stdout], [], [], left)
            if r:
                d = os.read(self.p.stdout.fileno(), 65536)
                if not d:
                    raise EOFError(self.buf)
                self.buf += d
        i = self.buf.index(end) + len(end)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode(errors="replace")

    def cmd(self, line, literal=None):
        """Send "tag ..." (with an optional literal after {n+}); return
        the reply up to the tagged line, timings normalized."""
        tag = line.split(" ", 1)[0]
        data = line.encode() + b"\r\n"
        if literal is not None:
            data += literal + b"\r\n"
        self.p.stdin.write(data)
        self.p.stdin.flush()
        out = ""
        while True:
            l = self.read_until(b"\r\n")
            out += l
            if l.startswith(tag + " "):
                break
        return TIMING.sub(".", out)

    def close(self):
        try:
            self.cmd("zz LOGOUT")
        except (EOFError, OSError, TimeoutError):
            pass
        self.p.stdin.close()
        self.p.wait(10)
        self.p.stdout.close()

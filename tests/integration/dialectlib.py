"""dialectlib.py - what the dialect tests (test_dialects.py,
test_dialect_*.py) share: a master (Roost's, or Dovecot's) started in the
foreground from a config template in a temp dir with ports of its own,
the Maildirs and passwd file it serves, `doveconf -n` with the temp dir
and the ports named, the log, and reading IMAP replies off a socket."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from serverlib import free_port

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
UID = GID = 65534
TIMING = re.compile(rb"\([0-9.]+ \+ [0-9.]+ secs\)")


def untime(data):
    """Command timings vary from run to run: (T) for each."""
    return TIMING.sub(b"(T)", data)


def recv_until(s, end):
    """Bytes off s until they end with end (or the peer closes)."""
    data = b""
    while not data.endswith(end):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def recv_tagged(s, tag, data=b""):
    """data and the bytes off s until a whole line starts with tag and a
    space (b"*" for the greeting), or the peer closes."""
    if isinstance(tag, str):
        tag = tag.encode()
    while True:
        lines = data.split(b"\r\n")
        if any(line.startswith(tag + b" ") for line in lines[:-1]):
            return data
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def chown_tree(top):
    """top and everything under it owned by the mail user."""
    for root, dirs, files in os.walk(top):
        for name in dirs + files + [""]:
            os.chown(os.path.join(root, name), UID, GID)


def maildir(path, messages=None):
    """path/cur, new, tmp, with messages ({file name: bytes}) in new/."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub))
    for name, data in (messages or {}).items():
        with open(os.path.join(path, "new", name), "wb") as f:
            f.write(data)


def write_passwd(tmp, home, password="{PLAIN}secret", extra=""):
    """tmp/passwd with the one user alice (the mail user's ids)."""
    with open(os.path.join(tmp, "passwd"), "w") as f:
        f.write("alice:%s:%d:%d::%s::%s\n" % (password, UID, GID, home,
                                             extra))


class Server:
    """A temp dir (world-readable, removed by stop()) with free loopback
    ports, one attribute per name (srv.imap, srv.pop3); start() writes
    template % {tmp, uid, each port, **vars} as dovecot.conf and starts
    the master on it. A context manager: leaving it stops the master."""

    def __init__(self, prefix="roost-dialect.", ports=("imap",)):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.tmp, 0o755)
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        self.ports = {name: free_port() for name in ports}
        for name, port in self.ports.items():
            setattr(self, name, port)
        self.master = None

    @classmethod
    def launch(cls, template, prepare=None, prefix="roost-dialect.",
               ports=("imap",), vars=None, dovecot=False):
        """A started server: prepare(server) first makes what the config
        needs in server.tmp; on any failure the temp dir is removed."""
        server = cls(prefix, ports)
        try:
            if prepare:
                prepare(server)
            server.start(template, vars, dovecot)
        except BaseException:
            server.stop()
            raise
        return server

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def vars(self, extra=None):
        out = {"tmp": self.tmp, "uid": UID}
        out.update(self.ports)
        out.update(extra or {})
        return out

    def write_conf(self, template, vars=None):
        with open(self.conf, "w") as f:
            f.write(template % self.vars(vars))

    def start(self, template, vars=None, dovecot=False, wait=True):
        """Write the config, start `dovecot -F` on it (Debian's Dovecot
        when dovecot) and, when wait, return once every port accepts
        connections (RuntimeError if the master exits or 20 s pass)."""
        self.write_conf(template, vars)
        master = shutil.which("dovecot") if dovecot else \
            os.path.join(BIN, "dovecot")
        self.master = subprocess.Popen([master, "-F", "-c", self.conf],
                                       stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
        if not wait:
            return
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.master.poll() is not None:
                raise RuntimeError("server exited: %s" %
                                   self.master.stderr.read())
            try:
                for port in self.ports.values():
                    socket.create_connection(("127.0.0.1", port), 1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self):
        """Stop the master (if started), remove the temp dir; the
        master's stderr."""
        err = b""
        if self.master is not None:
            self.master.terminate()
            try:
                _, err = self.master.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.master.kill()
                _, err = self.master.communicate()
            self.master = None
        shutil.rmtree(self.tmp, ignore_errors=True)
        return err.decode(errors="replace")

    def log(self):
        """tmp/log as it is now ("" before it exists)."""
        try:
            with open(os.path.join(self.tmp, "log"),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, done, timeout=10):
        """The log once done(text) holds, or as it is after timeout s."""
        deadline = time.time() + timeout
        text = self.log()
        while not done(text) and time.time() < deadline:
            time.sleep(0.1)
            text = self.log()
        return text

    def doveconf(self):
        """`doveconf -n` without its comments, the temp dir as TMP and
        each port as its upper-case name: the same text for two servers
        of the same config."""
        out = subprocess.run([os.path.join(BIN, "doveconf"), "-n", "-c",
                              self.conf], capture_output=True, text=True)
        text = "\n".join(line for line in out.stdout.splitlines()
                         if not line.startswith("#"))
        text = text.replace(self.tmp, "TMP")
        for name, port in self.ports.items():
            text = text.replace(str(port), name.upper())
        return text

    def dialect(self):
        """The dialect `doveconf --dialect` names for the config."""
        return subprocess.run([os.path.join(BIN, "doveconf"), "--dialect",
                               "-c", self.conf], capture_output=True,
                              text=True).stdout.split("\n")[0]

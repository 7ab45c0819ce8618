"""Shared helpers for the auth integration tests: a temporary config with
users in a passwd-file, starting `roost auth` (or Dovecot for comparison)
on it, and small clients for the auth-client and auth-master protocols.
Loopback/unix sockets only; everything lives in a temp dir."""
import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOST = os.environ.get("ROOST", os.path.join(ROOT, "build", "bin", "roost"))

USERS = {
    "alice": "{PLAIN}secret",
    "dave@example.com": "{PLAIN}secret",
    "carol": "{PLAIN}carolpw",
}


def write_config(tmp, extra="", failure_delay="0"):
    users = os.path.join(tmp, "users")
    with open(users, "w") as f:
        for name, pw in USERS.items():
            f.write(f"{name}:{pw}:1000:1000::{tmp}/home/{name}::"
                    f"userdb_mail=maildir:~/Maildir\n")
        f.write("# a comment line\n")
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/auth.log
protocols =
ssl = no
auth_mechanisms = plain login cram-md5
auth_failure_delay = {failure_delay}
auth_verbose = yes
passdb {{
  driver = passwd-file
  args = {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
{extra}
""")
    return conf


class AuthServer:
    """roost auth -c CONF, stopped with SIGTERM."""

    def __init__(self, conf, tmp):
        self.tmp = tmp
        self.log = open(os.path.join(tmp, "stderr.log"), "w")
        self.proc = subprocess.Popen([ROOST, "auth", "-c", conf],
                                     stdout=self.log, stderr=self.log)
        sock = os.path.join(tmp, "run", "auth-client")
        for _ in range(200):
            if os.path.exists(sock):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("roost auth did not start: " + self.stderr() +
                           self.logfile())

    def logfile(self):
        try:
            with open(os.path.join(self.tmp, "auth.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stderr(self):
        self.log.flush()
        with open(os.path.join(self.tmp, "stderr.log")) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()


class LineSocket:
    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, line):
        if isinstance(line, str):
            line = line.encode()
        try:
            self.s.sendall(line + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed on us; readline() reports it

    def readline(self):
        while b"\n" not in self.buf:
            try:
                data = self.s.recv(65536)
            except ConnectionResetError:
                return None
            if not data:
                return None  # closed
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def close(self):
        self.s.close()


def client_handshake(path):
    c = LineSocket(path)
    lines = []
    while True:
        line = c.readline()
        assert line is not None, "closed during handshake"
        lines.append(line)
        if line == "DONE":
            break
    c.send("VERSION\t1\t2")
    c.send(f"CPID\t{os.getpid()}")
    return c, lines


def b64(data):
    return base64.b64encode(data).decode()


def tmpdir():
    return tempfile.mkdtemp(prefix="roost-auth-")


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)

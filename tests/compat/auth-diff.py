#!/usr/bin/env python3
"""auth-diff.py - differential test of Roost's auth service against
Debian's Dovecot 2.3 auth process.

For each scenario (one config: passdb/userdb chain and auth_* settings)
it starts `dovecot -F -c CONF` and `roost auth -c CONF` on the same
passwd-files, each in its own temp dir (base_dir, state_dir, log), runs
the same scripted auth-client and auth-master conversations against both
and compares the replies line by line.

Normalised, because they must differ: SPID, CUID and COOKIE values, the
random parts of SASL challenges (CRAM-MD5 <random.time@host>, DIGEST-MD5
nonce, SCRAM nonces and salt; server proofs are verified and shown as
<valid>), and the order of replies to requests that run concurrently on
one connection. A connection the server drops is "<closed>"; every
conversation ends with a sync request (CONT for an unknown id on client
sockets, USER of an unknown user on master sockets) so that extra or
missing replies and drops show up without waiting for timeouts.

usage: python3 tests/compat/auth-diff.py [-v] [-k REGEX] [--keep]
  ROOST=path   roost binary (default build/bin/roost)
  DOVECOT=path Dovecot binary (default /usr/sbin/dovecot)
  -v           print both transcripts of every conversation
  -k REGEX     only conversations whose "scenario/name" matches
  --keep       keep the temp dir (configs, logs) and print its path
Exit status 0 if every conversation matched, 1 otherwise.
"""
import argparse
import base64
import concurrent.futures
import difflib
import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ROOST = os.environ.get("ROOST", os.path.join(ROOT, "build", "bin", "roost"))
DOVECOT = os.environ.get("DOVECOT", "/usr/sbin/dovecot")
DOVEADM = os.environ.get("DOVEADM", "/usr/bin/doveadm")

READ_TIMEOUT = 5.0
SHARED = None   # the shared dir of users files, "$S" in transcripts
SYNC_ID = 4000000000


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(text):
    try:
        return base64.b64decode(text, validate=True)
    except Exception:
        return None


def show(line, limit=200):
    """A protocol line for the transcript: TAB as \\t, controls escaped."""
    out = []
    for ch in line:
        if ch == "\t":
            out.append("\\t")
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    text = "".join(out)
    if len(text) > limit:
        text = text[:limit] + "...(%d chars)" % len(line)
    return text


def norm_common(line):
    line = re.sub(r"^SPID\t\d+$", "SPID\t<pid>", line)
    line = re.sub(r"^CUID\t\d+$", "CUID\t<cuid>", line)
    line = re.sub(r"^COOKIE\t[0-9a-f]{32}$", "COOKIE\t<cookie>", line)
    return line


# ---------------------------------------------------------------- servers

class Server:
    """One auth server (Dovecot or Roost) on its own base_dir."""

    def __init__(self, kind, top, scenario, conf_body):
        self.kind = kind
        self.dir = os.path.join(top, scenario + "-" + kind)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.run = os.path.join(self.dir, "run")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF_HEAD.format(dir=self.dir) + conf_body)
        self.proc = None
        self.out = None

    def start(self):
        self.out = open(os.path.join(self.dir, "stdout.log"), "w")
        if self.kind == "dovecot":
            argv = [DOVECOT, "-F", "-c", self.conf]
        else:
            argv = [ROOST, "auth", "-c", self.conf]
        self.proc = subprocess.Popen(argv, stdout=self.out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def wait_ready(self):
        need = [os.path.join(self.run, s) for s in
                ("auth-client", "auth-login", "auth-master", "auth-userdb")]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all(os.path.exists(p) for p in need):
                return None
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        return "%s did not start (exit %s): %s" % (
            self.kind, self.proc.poll(), self.logs()[-2000:])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self):
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()

    def health(self):
        """Still running, and no crash or panic in its logs."""
        bad = [line.strip() for line in self.logs().splitlines()
               if re.search(r"Panic:|ERROR: AddressSanitizer|runtime error:"
                            r"|killed by signal|terminated abnormally",
                            line)]
        state = "running" if self.proc.poll() is None else \
            "exited %s" % self.proc.poll()
        return ["%s, %d panic/crash lines" % (state, len(bad))] + [
            "log: " + show(re.sub(r"^.*?(Panic|ERROR)", r"\1", line), 160)
            for line in bad[:5]]

    def logs(self):
        text = ""
        for name in ("stdout.log", "auth.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text += f.read()
            except OSError:
                pass
        return text


CONF_HEAD = """base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/auth.log
protocols =
ssl = no
auth_failure_delay = 0
auth_verbose = yes
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
"""


# ---------------------------------------------------------------- transcript

class Conn:
    """One socket of a conversation; every line in and out is recorded."""

    def __init__(self, t, name, sock):
        self.t = t
        self.name = name
        self.closed = False
        self.cookie = None
        self.buf = b""
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(READ_TIMEOUT)
        self.s.connect(os.path.join(t.server.run, sock))
        self.sync_kind = None

    def send(self, line, label=None):
        self.t.rec("%s> %s" % (self.name, show(label if label is not None
                                                else line)))
        data = line.encode("utf-8", "surrogateescape") \
            if isinstance(line, str) else line
        try:
            self.s.sendall(data + b"\n")
        except OSError:
            pass  # dropped: the next read says <closed>

    def readline(self):
        """The next line, None when closed, False on timeout."""
        if self.closed:
            return None
        while b"\n" not in self.buf:
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return False
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "surrogateescape")

    def recv(self, n=1, norm=None, sort=False):
        """Read n lines, record them normalised; returns the raw lines."""
        got, shown = [], []
        for _ in range(n):
            line = self.readline()
            if line is None:
                shown.append("<closed>")
                break
            if line is False:
                shown.append("<timeout>")
                break
            got.append(line)
            text = norm_common(line)
            if norm is not None:
                text = norm(text)
            shown.append(show(text))
        if sort:
            shown.sort()
        for text in shown:
            self.t.rec("%s< %s" % (self.name, text))
        return got

    def ask(self, line, n=1, norm=None, label=None):
        self.send(line, label)
        got = self.recv(n, norm)
        return got[-1] if got else None

    def recv_until(self, prefix, limit=1000):
        lines = []
        for _ in range(limit):
            got = self.recv(1)
            if not got:
                break
            lines.append(got[0])
            if got[0].startswith(prefix):
                break
        return lines

    def sync(self):
        """Prove the connection is alive and nothing else was sent."""
        if self.closed:
            return
        if self.sync_kind == "client":
            line, want = "CONT\t%d\tAAAA" % SYNC_ID, "FAIL\t%d" % SYNC_ID
        elif self.sync_kind == "master":
            line = "USER\t%d\tsync-nosuch\tservice=sync" % SYNC_ID
            want = "NOTFOUND\t%d" % SYNC_ID
        else:
            got = self.readline() if self.buf else None
            if got:
                self.t.rec("%s< %s" % (self.name, show(got)))
            return
        self.send(line, "<sync>")
        for _ in range(100):
            got = self.readline()
            if got is None or got is False:
                self.t.rec("%s< %s" % (self.name, "<closed>" if got is None
                                       else "<timeout>"))
                return
            if got.startswith(want):
                self.t.rec("%s< <sync: %s>" % (self.name, show(got)))
                return
            self.t.rec("%s< %s" % (self.name, show(norm_common(got))))

    def close(self):
        self.s.close()


class T:
    """The state of one conversation against one server."""

    def __init__(self, server, sidx, cidx):
        self.server = server
        self.sidx = sidx
        self.cidx = cidx
        self.lines = []
        self.conns = []
        self.nrip = 0
        self.ncpid = 0

    def rec(self, text):
        if SHARED:
            text = text.replace(SHARED, "$S")
        self.lines.append(text)

    def note(self, text):
        self.rec("-- " + text)

    def rip(self):
        """A fresh remote IP per request: no penalty carries over."""
        self.nrip += 1
        return "10.%d.%d.%d" % (self.sidx + 1, self.cidx + 1, self.nrip)

    def cpid(self):
        self.ncpid += 1
        return 100000 + self.sidx * 10000 + self.cidx * 10 + self.ncpid

    def raw(self, sock="auth-client", name=None):
        c = Conn(self, name or "c%d" % (len(self.conns) + 1), sock)
        self.conns.append(c)
        return c

    def greeting(self, c, record=True):
        """Read the auth-client greeting up to DONE."""
        lines = []
        while True:
            line = c.readline()
            if line is None or line is False:
                c.t.rec("%s< %s" % (c.name, "<closed>" if line is None
                                    else "<timeout>"))
                return lines
            lines.append(line)
            if record:
                c.t.rec("%s< %s" % (c.name, show(norm_common(line))))
            if line.startswith("COOKIE\t"):
                c.cookie = line.split("\t", 1)[1]
            if line == "DONE":
                return lines

    def client(self, sock="auth-client", cpid=None, record=False, name=None):
        """Connect to an auth-client socket and do the handshake."""
        c = self.raw(sock, name)
        lines = self.greeting(c, record)
        if not record and lines and lines[-1] == "DONE":
            c.t.rec("%s< <greeting: %d lines>" % (c.name, len(lines)))
        c.cpid = cpid if cpid is not None else self.cpid()
        c.send("VERSION\t1\t2")
        c.send("CPID\t%d" % c.cpid, "CPID\t<cpid>")
        c.sync_kind = "client"
        return c

    def master(self, sock="auth-master", name=None, record=False):
        c = self.raw(sock, name or "m%d" % (len(self.conns) + 1))
        if record:
            c.recv(1)
            c.ask("VERSION\t1\t0")
        else:
            v = c.readline()
            c.send("VERSION\t1\t0")
            s = c.readline()
            c.t.rec("%s< <handshake %s>" % (c.name, "ok" if
                    v == "VERSION\t1\t1" and s and s.startswith("SPID\t")
                    else show(repr((v, s)))))
        c.sync_kind = "master"
        return c

    def finish(self):
        for c in self.conns:
            try:
                c.sync()
            except OSError as e:
                self.rec("%s< <error %s>" % (c.name, e))
            c.close()


# ------------------------------------------------------- SASL client helpers

def auth_line(t, aid, mech, user=None, pw=None, authz="", extra="",
              service="smtp", resp=True):
    params = "service=%s\tnologin\trip=%s\tsecured" % (service, t.rip())
    if extra:
        params += "\t" + extra
    line = "AUTH\t%d\t%s\t%s" % (aid, mech, params)
    label = None
    if resp and user is not None:
        raw = "%s\0%s\0%s" % (authz, user, pw)
        line += "\tresp=" + b64(raw)
        label = line.rsplit("\tresp=", 1)[0].replace(params, "<params>") + \
            "\tresp=<%s>" % raw.replace("\0", "^@")
    return line, label


def plain(t, user, pw, authz="", c=None, aid=1, **kw):
    c = c or t.client()
    line, label = auth_line(t, aid, "PLAIN", user, pw, authz, **kw)
    return c.ask(line, label=label)


def login(t, user, pw, c=None, aid=1, service="smtp", nologin=True):
    c = c or t.client()
    c.ask("AUTH\t%d\tLOGIN\tservice=%s%s\trip=%s\tsecured"
          % (aid, service, "\tnologin" if nologin else "", t.rip()))
    c.ask("CONT\t%d\t%s" % (aid, b64(user)))
    return c.ask("CONT\t%d\t%s" % (aid, b64(pw)), label="CONT\t%d\t<pw>" % aid)


def norm_cram(line):
    m = re.match(r"^CONT\t(\d+)\t(\S+)$", line)
    if m:
        ch = unb64(m.group(2))
        if ch is not None:
            mm = re.match(rb"^<\d+\.\d+@(.+)>$", ch)
            if mm:
                return "CONT\t%s\t<cram challenge @%s>" % (
                    m.group(1), mm.group(1).decode(errors="replace"))
    return line


def cram(t, user, pw, c=None, aid=1):
    c = c or t.client()
    line = c.ask("AUTH\t%d\tCRAM-MD5\tservice=imap\tnologin\trip=%s\tsecured"
                 % (aid, t.rip()), norm=norm_cram)
    if not line or not line.startswith("CONT\t"):
        return line
    ch = unb64(line.split("\t")[2]) or b""
    digest = hmac.new(pw.encode(), ch, hashlib.md5).hexdigest()
    return c.ask("CONT\t%d\t%s" % (aid, b64("%s %s" % (user, digest))),
                 label="CONT\t%d\t<cram response %s>" % (aid, user))


def md5hex(data):
    return hashlib.md5(data).hexdigest()


def digest_fields(text):
    return {k: (a if q else b) for k, q, a, b in re.findall(
        r'([a-zA-Z-]+)=(?:(")((?:[^"\\]|\\.)*)"|([^,]*))', text)}


def norm_digest(line):
    m = re.match(r"^CONT\t(\d+)\t(\S+)$", line)
    if m:
        ch = unb64(m.group(2))
        if ch is not None:
            text = re.sub(r'nonce="[^"]*"', 'nonce="<nonce>"',
                          ch.decode(errors="replace"))
            return "CONT\t%s\t<%s>" % (m.group(1), text)
    return line


def digest(t, user, pw, realm=None, authz=None, c=None, aid=1, wrong=False):
    c = c or t.client()
    line = c.ask("AUTH\t%d\tDIGEST-MD5\tservice=imap\tnologin\trip=%s\t"
                 "secured" % (aid, t.rip()), norm=norm_digest)
    if not line or not line.startswith("CONT\t"):
        return line
    ch = (unb64(line.split("\t")[2]) or b"").decode(errors="replace")
    f = digest_fields(ch)
    nonce = f.get("nonce", "")
    if realm is None:
        realm = f.get("realm", "")
    cnonce, nc, qop, uri = "OA6MHXh6VqTrRk", "00000001", "auth", "imap/localhost"
    a1 = hashlib.md5(("%s:%s:%s" % (user, realm, pw)).encode()).digest() + \
        (":%s:%s" % (nonce, cnonce)).encode()
    if authz:
        a1 += (":" + authz).encode()
    ha1 = md5hex(a1)
    resp = md5hex(("%s:%s:%s:%s:%s:%s" % (
        ha1, nonce, nc, cnonce, qop,
        md5hex(("AUTHENTICATE:" + uri).encode()))).encode())
    rspauth = md5hex(("%s:%s:%s:%s:%s:%s" % (
        ha1, nonce, nc, cnonce, qop, md5hex((":" + uri).encode()))).encode())
    if wrong:
        resp = "0" * 32
    answer = ('username="%s",realm="%s",nonce="%s",cnonce="%s",nc=%s,'
              'qop=%s,digest-uri="%s",response=%s,charset=utf-8'
              % (user, realm, nonce, cnonce, nc, qop, uri, resp))
    if authz:
        answer += ',authzid="%s"' % authz

    def norm(text):
        m = re.match(r"^CONT\t(\d+)\t(\S+)$", text)
        if m:
            got = (unb64(m.group(2)) or b"").decode(errors="replace")
            return "CONT\t%s\t<%s>" % (m.group(1), got.replace(
                rspauth, "<valid>"))
        return text
    line = c.ask("CONT\t%d\t%s" % (aid, b64(answer)),
                 label="CONT\t%d\t<digest-md5 response %s realm=%r>"
                 % (aid, user, realm), norm=norm)
    if line and line.startswith("CONT\t"):
        line = c.ask("CONT\t%d\t" % aid)
    return line


def scram(t, user, pw, alg="SHA-256", c=None, aid=1, wrong=False):
    c = c or t.client()
    h = hashlib.sha256 if alg == "SHA-256" else hashlib.sha1
    cnonce = "rOprNGfwEbeRWgbNEkqO"
    cfb = "n=%s,r=%s" % (user, cnonce)

    def norm1(text):
        m = re.match(r"^CONT\t(\d+)\t(\S+)$", text)
        if m:
            got = (unb64(m.group(2)) or b"").decode(errors="replace")
            got = re.sub(r"^r=" + cnonce + r"[^,]+", "r=<cnonce+snonce>", got)
            got = re.sub(r",s=[^,]+", ",s=<salt>", got)
            return "CONT\t%s\t<%s>" % (m.group(1), got)
        return text
    line = c.ask("AUTH\t%d\tSCRAM-%s\tservice=imap\tnologin\trip=%s\tsecured"
                 "\tresp=%s" % (aid, alg, t.rip(), b64("n,," + cfb)),
                 norm=norm1)
    if not line or not line.startswith("CONT\t"):
        return line
    sfirst = (unb64(line.split("\t")[2]) or b"").decode(errors="replace")
    f = dict(kv.split("=", 1) for kv in sfirst.split(",") if "=" in kv)
    try:
        salted = hashlib.pbkdf2_hmac(h().name, pw.encode(),
                                     base64.b64decode(f["s"]), int(f["i"]))
    except Exception:
        salted = b""
    ckey = hmac.new(salted, b"Client Key", h).digest()
    stored = h(ckey).digest()
    cfwp = "c=biws,r=" + f.get("r", "")
    authmsg = ("%s,%s,%s" % (cfb, sfirst, cfwp)).encode()
    csig = hmac.new(stored, authmsg, h).digest()
    proof = bytes(a ^ b for a, b in zip(ckey, csig))
    if wrong:
        proof = bytes(len(proof))
    skey = hmac.new(salted, b"Server Key", h).digest()
    ssig = b64(hmac.new(skey, authmsg, h).digest())

    def fix(data):
        got = (unb64(data) or b"").decode(errors="replace")
        return "<%s>" % got.replace("v=" + ssig, "v=<valid>")

    def norm2(text):
        m = re.match(r"^CONT\t(\d+)\t(\S+)$", text)
        if m:
            return "CONT\t%s\t%s" % (m.group(1), fix(m.group(2)))
        return re.sub(r"(?<=\tresp=)(\S+)", lambda m: fix(m.group(1)), text)

    line = c.ask("CONT\t%d\t%s" % (aid, b64(cfwp + ",p=" + b64(proof))),
                 label="CONT\t%d\t<scram final %s>" % (aid, user), norm=norm2)
    if line and line.startswith("CONT\t"):
        line = c.ask("CONT\t%d\t" % aid)
    return line


# ------------------------------------------------------------ conversations

SCENARIOS = []    # (name, config body)
CONVS = {}        # scenario -> [(name, fn)]


def conv(*scenarios):
    def reg(fn):
        name = fn.__name__.replace("_", "-")
        for s in scenarios:
            CONVS.setdefault(s, []).append((name, fn))
        return fn
    return reg


CHAINS = ("chain-continue", "chain-return-fail", "chain-continue-ok",
          "chain-continue-fail", "chain-skip")
ALL = ("base", "deny", "fields", "username-format", "default-realm",
       "master-user") + CHAINS

# -- client protocol: handshake and its violations


@conv(*ALL)
def client_handshake(t):
    t.client(record=True)


@conv("base")
def login_socket_handshake(t):
    t.client(sock="auth-login", record=True)


@conv("base")
def version_major_2(t):
    c = t.raw()
    t.greeting(c, record=False)
    c.send("VERSION\t2\t0")
    c.send("CPID\t%d" % t.cpid(), "CPID\t<cpid>")
    c.sync_kind = "client"


@conv("base")
def version_minor_3(t):
    c = t.raw()
    t.greeting(c, record=False)
    c.send("VERSION\t1\t3")
    c.send("CPID\t%d" % t.cpid(), "CPID\t<cpid>")
    c.sync_kind = "client"
    plain(t, "alice", "secret", c=c)


@conv("base")
def cpid_before_version(t):
    c = t.raw()
    t.greeting(c, record=False)
    c.send("CPID\t5")
    c.sync_kind = "client"


@conv("base")
def auth_before_cpid(t):
    c = t.raw()
    t.greeting(c, record=False)
    c.send("VERSION\t1\t2")
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp=" +
          b64("\0alice\0secret"))
    c.sync_kind = "client"


@conv("base")
def cpid_not_a_number(t):
    c = t.raw()
    t.greeting(c, record=False)
    c.send("VERSION\t1\t2")
    c.send("CPID\tabc")
    c.sync_kind = "client"


@conv("base")
def cpid_zero(t):
    c = t.raw()
    t.greeting(c, record=False)
    c.send("VERSION\t1\t2")
    c.send("CPID\t0")
    c.sync_kind = "client"


@conv("base")
def same_cpid_two_connections(t):
    pid = t.cpid()
    c1 = t.client(cpid=pid)
    plain(t, "alice", "secret", c=c1)
    c2 = t.client(cpid=pid)
    plain(t, "alice", "secret", c=c2)


@conv("base")
def version_only_client_sends_first(t):
    """The client may send its handshake before reading the greeting."""
    c = t.raw()
    c.send("VERSION\t1\t2")
    c.send("CPID\t%d" % t.cpid(), "CPID\t<cpid>")
    t.greeting(c, record=False)
    c.sync_kind = "client"
    plain(t, "alice", "secret", c=c)


# -- client protocol: mechanisms


@conv("base", "deny", "fields")
def plain_ok(t):
    plain(t, "alice", "secret")


@conv("base")
def plain_ok_with_lip_rip(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"
          "rip=192.0.2.10\tsecured\tresp=" + b64("\0alice\0secret"))


@conv("base", "deny", "fields")
def plain_wrong_password(t):
    plain(t, "alice", "wrong")


@conv("base", "deny", "fields")
def plain_unknown_user(t):
    plain(t, "nosuch", "x")


@conv("base")
def plain_continue(t):
    c = t.client()
    c.ask("AUTH\t3\tPLAIN\tservice=smtp\tnologin\trip=%s\tsecured" % t.rip())
    c.ask("CONT\t3\t" + b64("\0alice\0secret"))


@conv("base")
def plain_continue_empty(t):
    c = t.client()
    c.ask("AUTH\t3\tPLAIN\tservice=smtp\tnologin\trip=%s\tsecured" % t.rip())
    c.ask("CONT\t3\t")


@conv("base")
def plain_continue_invalid_base64(t):
    c = t.client()
    c.ask("AUTH\t3\tPLAIN\tservice=smtp\tnologin\trip=%s\tsecured" % t.rip())
    c.ask("CONT\t3\t!!!")


@conv("base")
def plain_invalid_base64(t):
    c = t.client()
    c.ask("AUTH\t9\tPLAIN\tservice=smtp\tsecured\trip=%s\tresp=!!!" % t.rip())


@conv("base")
def plain_empty_resp(t):
    c = t.client()
    c.ask("AUTH\t11\tPLAIN\tservice=smtp\tsecured\trip=%s\tresp=" % t.rip())


@conv("base")
def plain_resp_without_value(t):
    c = t.client()
    c.ask("AUTH\t11\tPLAIN\tservice=smtp\tsecured\trip=%s\tresp" % t.rip())


@conv("base")
def plain_two_fields_only(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tsecured\trip=%s\tresp=%s"
          % (t.rip(), b64("\0alice")))


@conv("base")
def plain_four_fields(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tsecured\trip=%s\tresp=%s"
          % (t.rip(), b64("\0alice\0secret\0extra")))


@conv("base")
def plain_empty_user(t):
    plain(t, "", "secret")


@conv("base")
def plain_empty_password(t):
    plain(t, "alice", "")


@conv("base", "fields")
def plain_authzid_differs(t):
    plain(t, "alice", "secret", authz="bob")


@conv("base")
def plain_authzid_same(t):
    plain(t, "dave@example.com", "secret", authz="dave@example.com")


@conv("base")
def plain_user_with_tab(t):
    plain(t, "al\tice", "secret")


@conv("base")
def plain_user_with_bad_chars(t):
    plain(t, "al ice/..", "secret")


@conv("base")
def plain_user_10k(t):
    plain(t, "a" * 10240, "x")


@conv("base")
def plain_user_utf8(t):
    plain(t, "\u00e5lice", "secret")


@conv("base", "fields")
def plain_sha512_crypt_user(t):
    plain(t, "erin", "erinpw")
    plain(t, "erin", "wrong")


@conv("base")
def plain_cram_stored_user(t):
    plain(t, "carol", "carolpw")


@conv("base", "fields")
def plain_nologin_user(t):
    plain(t, "nolog", "secret")
    plain(t, "nolog", "wrong")


@conv("base", "fields")
def plain_proxy_user(t):
    plain(t, "proxied", "secret")


@conv("base")
def plain_nopassword_user(t):
    plain(t, "nopw", "anything")


@conv("base")
def plain_allow_nets_user(t):
    plain(t, "netlimited", "secret")       # rip 10.x is not allowed


@conv("base", "fields")
def plain_extra_fields_user(t):
    plain(t, "extra", "secret")


@conv("base")
def plain_user_without_uid(t):
    plain(t, "frank", "secret")


@conv("base")
def plain_mixed_case_login(t):
    plain(t, "Alice", "secret")


@conv("base")
def plain_not_secured(t):
    c = t.client()
    c.ask("AUTH\t16\tPLAIN\tservice=imap\trip=%s\tresp=%s"
          % (t.rip(), b64("\0alice\0secret")))


@conv("base")
def plain_not_secured_lip_is_rip(t):
    c = t.client()
    c.ask("AUTH\t16\tPLAIN\tservice=imap\tlip=127.0.0.1\trip=127.0.0.1\t"
          "resp=" + b64("\0alice\0secret"))


@conv("base")
def plain_no_rip(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tsecured\tresp=" +
          b64("\0alice\0secret"))


@conv("base")
def plain_optional_params(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=imap\tsession=abc123\tlocal_name=mail."
          "example.com\tlip=127.0.0.1\trip=%s\tlport=143\trport=51234\t"
          "secured\tvalid-client-cert\tno-penalty\tdebug\tclient_id=x\t"
          "nologin\tresp=%s" % (t.rip(), b64("\0alice\0secret")))


@conv("base")
def plain_unknown_params(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tsecured\trip=%s\t"
          "frobnicate=1\tflagonly\t=x\tresp=%s"
          % (t.rip(), b64("\0alice\0secret")))


@conv("base")
def plain_final_resp_ok(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tsecured\trip=%s\t"
          "final-resp-ok\tresp=%s" % (t.rip(), b64("\0alice\0secret")))


@conv("base")
def plain_lowercase_mech_name(t):
    c = t.client()
    c.ask("AUTH\t1\tplain\tservice=smtp\tnologin\tsecured\trip=%s\tresp=%s"
          % (t.rip(), b64("\0alice\0secret")))


@conv("base")
def plain_without_nologin_client_socket(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tsecured\trip=%s\tresp=%s"
          % (t.rip(), b64("\0alice\0secret")))


@conv("base")
def plain_without_nologin_login_socket(t):
    c = t.client(sock="auth-login")
    c.ask("AUTH\t1\tPLAIN\tservice=imap\tsecured\trip=%s\tresp=%s"
          % (t.rip(), b64("\0alice\0secret")))


@conv("base", "fields")
def login_ok(t):
    login(t, "alice", "secret")


@conv("base")
def login_wrong_password(t):
    login(t, "alice", "wrong")


@conv("base")
def login_unknown_user(t):
    login(t, "nosuch", "x")


@conv("base")
def login_initial_response(t):
    c = t.client()
    c.ask("AUTH\t4\tLOGIN\tservice=smtp\tnologin\trip=%s\tsecured\tresp=%s"
          % (t.rip(), b64("alice")))
    c.ask("CONT\t4\t" + b64("secret"))


@conv("base")
def login_empty_username(t):
    login(t, "", "secret")


@conv("base")
def cram_md5_plain_stored(t):
    cram(t, "alice", "secret")


@conv("base")
def cram_md5_cram_stored(t):
    cram(t, "carol", "carolpw")


@conv("base")
def cram_md5_wrong(t):
    cram(t, "carol", "wrong")


@conv("base")
def cram_md5_crypt_stored(t):
    cram(t, "erin", "erinpw")


@conv("base")
def cram_md5_unknown_user(t):
    cram(t, "nosuch", "x")


@conv("base")
def cram_md5_garbage_response(t):
    c = t.client()
    c.ask("AUTH\t1\tCRAM-MD5\tservice=imap\tnologin\trip=%s\tsecured"
          % t.rip(), norm=norm_cram)
    c.ask("CONT\t1\t" + b64("nospace"))


@conv("base")
def cram_md5_initial_response(t):
    c = t.client()
    c.ask("AUTH\t1\tCRAM-MD5\tservice=imap\tnologin\trip=%s\tsecured\t"
          "resp=%s" % (t.rip(), b64("alice 00")), norm=norm_cram)


@conv("base")
def digest_md5_ok(t):
    digest(t, "alice", "secret")


@conv("base")
def digest_md5_wrong(t):
    digest(t, "alice", "secret", wrong=True)


@conv("base")
def digest_md5_crypt_stored(t):
    digest(t, "erin", "erinpw")


@conv("base")
def digest_md5_garbage(t):
    c = t.client()
    c.ask("AUTH\t1\tDIGEST-MD5\tservice=imap\tnologin\trip=%s\tsecured"
          % t.rip(), norm=norm_digest)
    c.ask("CONT\t1\t" + b64('username="alice",nonce=x,,,'))


@conv("base")
def scram_sha_1_ok(t):
    scram(t, "alice", "secret", "SHA-1")


@conv("base")
def scram_sha_256_ok(t):
    scram(t, "alice", "secret")


@conv("base")
def scram_sha_256_wrong(t):
    scram(t, "alice", "secret", wrong=True)


@conv("base")
def scram_sha_256_crypt_stored(t):
    scram(t, "erin", "erinpw")


@conv("base")
def scram_bad_first_message(t):
    c = t.client()
    c.ask("AUTH\t1\tSCRAM-SHA-256\tservice=imap\tnologin\trip=%s\tsecured"
          "\tresp=%s" % (t.rip(), b64("garbage")))


@conv("base")
def unknown_cont_id(t):
    c = t.client()
    c.ask("CONT\t99\tAAAA")


@conv("base")
def cont_after_ok(t):
    c = t.client()
    plain(t, "alice", "secret", c=c, aid=5)
    c.ask("CONT\t5\tAAAA")


@conv("base")
def cont_without_data(t):
    c = t.client()
    c.ask("AUTH\t3\tPLAIN\tservice=smtp\tnologin\trip=%s\tsecured" % t.rip())
    c.ask("CONT\t3")


@conv("base")
def cont_bad_id(t):
    c = t.client()
    c.ask("CONT\tx\tAAAA")


@conv("base")
def pipelined_requests(t):
    c = t.client()
    lines = []
    for aid, (u, p) in enumerate([("alice", "secret"), ("alice", "wrong"),
                                  ("dave@example.com", "secret"),
                                  ("nosuch", "x")], 1):
        lines.append(auth_line(t, aid, "PLAIN", u, p)[0])
    c.send("\n".join(lines), "<4 AUTH PLAIN requests in one write>")
    c.recv(4, sort=True)


@conv("base")
def interleaved_requests(t):
    c = t.client()
    c.ask("AUTH\t1\tLOGIN\tservice=smtp\tnologin\trip=%s\tsecured" % t.rip())
    c.ask("AUTH\t2\tPLAIN\tservice=smtp\tnologin\trip=%s\tsecured" % t.rip())
    c.ask("CONT\t1\t" + b64("alice"))
    c.ask("CONT\t2\t" + b64("\0dave@example.com\0secret"))
    c.ask("CONT\t1\t" + b64("secret"))


# -- client protocol: violations that close the connection


@conv("base")
def unsupported_mech(t):
    c = t.client()
    c.ask("AUTH\t5\tNTLM\tservice=smtp")


@conv("base")
def unknown_mech_name(t):
    c = t.client()
    c.ask("AUTH\t5\tDIGEST-MD6\tservice=smtp")


@conv("base")
def unknown_command(t):
    c = t.client()
    c.ask("BOGUS\tx")


@conv("base")
def empty_line(t):
    c = t.client()
    c.ask("")


@conv("base")
def duplicate_id(t):
    c = t.client()
    c.ask("AUTH\t7\tPLAIN\tservice=smtp\tsecured\trip=%s" % t.rip())
    c.ask("AUTH\t7\tPLAIN\tservice=smtp\tsecured\trip=%s" % t.rip())


@conv("base")
def missing_service(t):
    c = t.client()
    c.ask("AUTH\t6\tPLAIN\tsecured\tresp=" + b64("\0alice\0secret"))


@conv("base")
def empty_service(t):
    c = t.client()
    c.ask("AUTH\t6\tPLAIN\tservice=\tsecured\tresp=" +
          b64("\0alice\0secret"))


@conv("base")
def auth_id_zero(t):
    c = t.client()
    c.ask("AUTH\t0\tPLAIN\tservice=smtp\tsecured\tresp=" +
          b64("\0alice\0secret"))


@conv("base")
def auth_id_not_a_number(t):
    c = t.client()
    c.ask("AUTH\tabc\tPLAIN\tservice=smtp\tsecured\tresp=" +
          b64("\0alice\0secret"))


@conv("base")
def auth_bare(t):
    c = t.client()
    c.ask("AUTH")


@conv("base")
def cont_bare(t):
    c = t.client()
    c.ask("CONT")


@conv("base")
def auth_missing_mech(t):
    c = t.client()
    c.ask("AUTH\t1")


@conv("base")
def line_100k(t):
    c = t.client()
    c.ask("X" * 100000)


@conv("base")
def line_10k_auth(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tsecured\trip=%s\t"
          "session=%s\tresp=%s" % (t.rip(), "s" * 10000,
                                   b64("\0alice\0secret")))


# -- master protocol


@conv("base")
def userdb_handshake(t):
    t.master(sock="auth-userdb", record=True)


@conv("base")
def master_handshake(t):
    t.master(record=True)


@conv("base")
def master_greeting_before_version(t):
    """What the server sends before the client's VERSION (0.5 s wait)."""
    for sock in ("auth-master", "auth-userdb"):
        c = t.raw(sock=sock, name=sock)
        c.s.settimeout(0.5)
        c.recv(2)
        c.s.settimeout(READ_TIMEOUT)
        c.send("VERSION\t1\t0")
        c.sync_kind = "master"


@conv("base")
def master_version_2(t):
    c = t.raw(sock="auth-master", name="m1")
    c.recv(1)
    c.ask("VERSION\t2\t0")
    c.sync_kind = "master"


@conv("base")
def master_command_before_version(t):
    c = t.raw(sock="auth-master", name="m1")
    c.recv(1)
    c.ask("USER\t1\talice\tservice=lda")
    c.sync_kind = "master"


@conv("base", "fields")
def user_found(t):
    m = t.master(sock="auth-userdb")
    m.ask("USER\t1\talice\tservice=lda")


@conv("base", "fields")
def user_found_many_fields(t):
    m = t.master(sock="auth-userdb")
    m.ask("USER\t3\tcarol\tservice=imap\trip=192.0.2.1")
    m.ask("USER\t4\textra\tservice=imap")


@conv("base", "fields")
def user_without_uid(t):
    m = t.master(sock="auth-userdb")
    m.ask("USER\t1\tfrank\tservice=lda")


@conv("base", "fields")
def user_notfound(t):
    m = t.master(sock="auth-userdb")
    m.ask("USER\t2\tnosuch\tservice=lda")


@conv("base")
def user_mixed_case(t):
    m = t.master()
    m.ask("USER\t2\tALICE\tservice=lda")


@conv("base")
def user_empty_name(t):
    m = t.master()
    m.ask("USER\t2\t\tservice=lda")


@conv("base")
def user_no_service(t):
    m = t.master()
    m.ask("USER\t2\talice")


@conv("base")
def user_missing_args(t):
    m = t.master()
    m.ask("USER\t2")


@conv("base")
def user_nologin_user(t):
    m = t.master()
    m.ask("USER\t1\tnolog\tservice=imap")


@conv("base", "fields")
def pass_found(t):
    m = t.master()
    m.ask("PASS\t4\talice\tservice=doveadm")


@conv("base", "fields")
def pass_notfound(t):
    m = t.master()
    m.ask("PASS\t5\tnosuch\tservice=doveadm")


@conv("base", "fields")
def pass_nologin_user(t):
    m = t.master()
    m.ask("PASS\t6\tnolog\tservice=doveadm")


@conv("base", "fields")
def pass_proxy_and_extra_fields(t):
    m = t.master()
    m.ask("PASS\t6\tproxied\tservice=doveadm")
    m.ask("PASS\t7\textra\tservice=doveadm")
    m.ask("PASS\t8\tnopw\tservice=doveadm")


@conv("base")
def pass_on_userdb_socket(t):
    m = t.master(sock="auth-userdb")
    m.ask("PASS\t4\talice\tservice=doveadm")


@conv("base", "fields", "chain-continue", "username-format")
def list_all(t):
    m = t.master(sock="auth-userdb")
    m.send("LIST\t6\tuser=*")
    m.recv_until("DONE\t")


@conv("base")
def list_mask(t):
    m = t.master(sock="auth-userdb")
    m.send("LIST\t6\tuser=*a*")
    m.recv_until("DONE\t")


@conv("base")
def list_no_params(t):
    m = t.master()
    m.send("LIST\t6")
    m.recv_until("DONE\t")


@conv("base")
def userdb_unknown_command(t):
    m = t.master(sock="auth-userdb")
    m.ask("FOO\t7")


@conv("base")
def master_unknown_command(t):
    m = t.master()
    m.ask("FOO\t7")


@conv("base")
def master_line_100k(t):
    m = t.master()
    m.ask("USER\t1\t" + "x" * 100000)


def login_then_request(t, user="alice", pw="secret", mech="PLAIN"):
    c = t.client(sock="auth-login", name="login")
    if mech == "PLAIN":
        c.ask("AUTH\t1\tPLAIN\tservice=imap\tlip=127.0.0.1\trip=%s\t"
              "secured\tresp=%s" % (t.rip(), b64("\0%s\0%s" % (user, pw))))
    else:
        login(t, user, pw, c=c, service="imap", nologin=False)
    return c


@conv("base", "fields", "chain-continue")
def request_ok(t):
    c = login_then_request(t)
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


@conv("base")
def request_after_login_mech(t):
    c = login_then_request(t, mech="LOGIN")
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


@conv("base")
def request_after_nologin_auth(t):
    c = t.client(sock="auth-login", name="login")
    c.ask("AUTH\t1\tPLAIN\tservice=imap\tnologin\trip=%s\tsecured\t"
          "resp=%s" % (t.rip(), b64("\0alice\0secret")))
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


@conv("base")
def request_twice(t):
    c = login_then_request(t)
    m = t.master()
    for rid in (7, 8):
        m.ask("REQUEST\t%d\t%d\t1\t%s" % (rid, c.cpid, c.cookie),
              label="REQUEST\t%d\t<cpid>\t1\t<cookie>" % rid)


@conv("base")
def request_client_socket(t):
    c = t.client()
    c.ask("AUTH\t1\tPLAIN\tservice=imap\trip=%s\tsecured\tresp=%s"
          % (t.rip(), b64("\0alice\0secret")))
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


@conv("base")
def request_wrong_cookie(t):
    c = login_then_request(t)
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, "0" * 32),
          label="REQUEST\t7\t<cpid>\t1\t<wrong cookie>")


@conv("base")
def request_wrong_id(t):
    c = login_then_request(t)
    m = t.master()
    m.ask("REQUEST\t7\t%d\t2\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t2\t<cookie>")


@conv("base")
def request_session_pid_mismatch(t):
    c = login_then_request(t)
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s\tsession_pid=4242" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>\tsession_pid=4242")


@conv("base")
def request_failed_auth(t):
    c = t.client(sock="auth-login", name="login")
    c.ask("AUTH\t1\tPLAIN\tservice=imap\trip=%s\tsecured\tresp=%s"
          % (t.rip(), b64("\0alice\0wrong")))
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


@conv("base")
def request_on_userdb_socket(t):
    c = login_then_request(t)
    m = t.master(sock="auth-userdb")
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


@conv("base")
def request_nologin_user(t):
    c = login_then_request(t, user="nolog")
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


# -- deny, chains, fields, username rules


@conv("deny")
def deny_listed_user(t):
    plain(t, "banned", "secret")
    plain(t, "banned", "wrong")


@conv("deny")
def deny_pass_lookup(t):
    m = t.master()
    m.ask("PASS\t1\tbanned\tservice=doveadm")
    m.ask("PASS\t2\talice\tservice=doveadm")


@conv("deny")
def deny_cram(t):
    cram(t, "banned", "secret")


@conv(*CHAINS)
def chain_first_password(t):
    plain(t, "alice", "first")


@conv(*CHAINS)
def chain_second_password(t):
    plain(t, "alice", "second")


@conv(*CHAINS)
def chain_wrong_password(t):
    plain(t, "alice", "wrong")


@conv(*CHAINS)
def chain_only_in_first(t):
    plain(t, "bob", "bobpw")
    plain(t, "bob", "wrong")


@conv(*CHAINS)
def chain_only_in_second(t):
    plain(t, "zed", "zedpw")
    plain(t, "zed", "wrong")


@conv(*CHAINS)
def chain_unknown(t):
    plain(t, "nosuch", "x")


@conv(*CHAINS)
def chain_cram(t):
    cram(t, "alice", "first")
    cram(t, "alice", "second")
    cram(t, "zed", "zedpw")


@conv(*CHAINS)
def chain_pass_lookup(t):
    m = t.master()
    for i, u in enumerate(("alice", "bob", "zed", "nosuch"), 1):
        m.ask("PASS\t%d\t%s\tservice=doveadm" % (i, u))


@conv(*CHAINS)
def chain_user_lookup(t):
    m = t.master(sock="auth-userdb")
    for i, u in enumerate(("alice", "bob", "zed", "nosuch"), 1):
        m.ask("USER\t%d\t%s\tservice=lda" % (i, u))


@conv("fields")
def fields_request_dave(t):
    c = login_then_request(t, user="dave@example.com")
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


@conv("fields")
def fields_user_dave(t):
    m = t.master(sock="auth-userdb")
    m.ask("USER\t1\tdave@example.com\tservice=lda")


@conv("username-format", "default-realm")
def fmt_plain(t):
    for u in ("alice", "Alice", "ALICE@Example.COM", "dave@example.com",
              "dave", "Dave"):
        plain(t, u, "secret")


@conv("username-format", "default-realm")
def fmt_login(t):
    login(t, "Alice", "secret")


@conv("username-format", "default-realm")
def fmt_cram(t):
    cram(t, "Alice", "secret")
    cram(t, "dave", "secret")


@conv("username-format", "default-realm")
def fmt_digest(t):
    digest(t, "Alice", "secret")
    digest(t, "dave", "secret", realm="example.com")


@conv("username-format", "default-realm")
def fmt_user_lookup(t):
    m = t.master(sock="auth-userdb")
    for i, u in enumerate(("alice", "Alice", "ALICE@Example.COM", "dave",
                           "dave@example.com"), 1):
        m.ask("USER\t%d\t%s\tservice=lda" % (i, u))


@conv("username-format", "default-realm")
def fmt_pass_lookup(t):
    m = t.master()
    for i, u in enumerate(("alice", "Alice", "dave", "Dave@Example.com"), 1):
        m.ask("PASS\t%d\t%s\tservice=doveadm" % (i, u))


@conv("username-format", "default-realm")
def fmt_request(t):
    c = login_then_request(t, user="Alice")
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


@conv("master-user")
def master_user_plain(t):
    plain(t, "masteradm", "masterpw", authz="alice")
    plain(t, "masteradm", "wrong", authz="alice")
    plain(t, "masteradm", "masterpw", authz="nosuch")
    plain(t, "alice", "secret", authz="bob")


@conv("master-user")
def master_user_separator(t):
    plain(t, "alice*masteradm", "masterpw")
    login(t, "alice*masteradm", "masterpw")
    plain(t, "alice*alice", "secret")


@conv("master-user")
def master_user_request(t):
    c = t.client(sock="auth-login", name="login")
    c.ask("AUTH\t1\tPLAIN\tservice=imap\trip=%s\tsecured\tresp=%s"
          % (t.rip(), b64("alice\0masteradm\0masterpw")))
    m = t.master()
    m.ask("REQUEST\t7\t%d\t1\t%s" % (c.cpid, c.cookie),
          label="REQUEST\t7\t<cpid>\t1\t<cookie>")


# ---------------------------------------------------------------- configs

def passdb(args, extra=""):
    return "passdb {\n  driver = passwd-file\n  args = %s\n%s}\n" % (
        args, extra)


def userdb(args, extra=""):
    return "userdb {\n  driver = passwd-file\n  args = %s\n%s}\n" % (
        args, extra)


def scenario_configs(S):
    base = passdb(S + "/users") + userdb(S + "/users")
    chain_dbs = userdb(S + "/users1") + userdb(S + "/users2")
    chain = {
        "chain-continue": ("  result_failure = continue\n", ""),
        "chain-return-fail": ("  result_failure = return-fail\n", ""),
        "chain-continue-ok": ("  result_success = continue-ok\n", ""),
        "chain-continue-fail": ("  result_success = continue-fail\n", ""),
        "chain-skip": ("  result_success = continue-ok\n",
                       "  skip = authenticated\n"),
    }
    out = {
        "base": base,
        "deny": passdb(S + "/users-deny", "  deny = yes\n") + base,
        "fields": passdb(S + "/users",
                         "  default_fields = foo=passdefault src=default "
                         "userdb_quota_rule=*:storage=2G\n"
                         "  override_fields = bar=passoverride\n") +
        userdb(S + "/users",
               "  default_fields = mail=maildir:~/Default "
               "home=/srv/mail/%u quota_rule=*:storage=5G\n"
               "  override_fields = uid=4000 gid=4000\n"),
        "username-format": "auth_username_format = %Ln\n" + base,
        "default-realm": "auth_default_realm = example.com\n"
                         "auth_realms = example.com other.org\n" + base,
        "master-user": "auth_master_user_separator = *\n" +
                       passdb(S + "/masters", "  master = yes\n") + base,
    }
    for name, (p1, p2) in chain.items():
        out[name] = passdb(S + "/users1", p1) + passdb(S + "/users2", p2) + \
            chain_dbs
    return out


def make_hash(scheme, pw):
    out = subprocess.run([DOVEADM, "pw", "-s", scheme, "-p", pw],
                         capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
                              "LC_ALL": "C"})
    return out.stdout.strip()


def write_users(S):
    cram_hash = make_hash("CRAM-MD5", "carolpw")
    crypt_hash = make_hash("SHA512-CRYPT", "erinpw")
    files = {
        "users": [
            "alice:{PLAIN}secret:1000:1000::%s/home/alice::"
            "userdb_mail=maildir:~/Maildir" % S,
            "dave@example.com:{PLAIN}secret:1000:1000::%s/home/dave::" % S,
            "carol:%s:1001:1001::%s/home/carol::userdb_mail=mbox:~/mail:"
            "INBOX=~/mbox userdb_quota_rule=*:storage=1G" % (cram_hash, S),
            "erin:%s:1002:1002::%s/home/erin::" % (crypt_hash, S),
            "nolog:{PLAIN}secret:1003:1003::%s/home/nolog::nologin "
            "reason=Account_disabled" % S,
            "proxied:{PLAIN}secret:1004:1004::%s/home/proxied::proxy "
            "host=192.0.2.5 port=143" % S,
            "frank:{PLAIN}secret::::::",
            "extra:{PLAIN}secret:1005:1005::%s/home/extra::foo=bar flag "
            "userdb_quota_rule=*:bytes=10M userdb_uid=1234" % S,
            "nopw::1006:1006::%s/home/nopw::nopassword" % S,
            "netlimited:{PLAIN}secret:1007:1007::%s/home/net::"
            "allow_nets=192.0.2.0/24" % S,
            "banned:{PLAIN}secret:1008:1008::%s/home/banned::" % S,
            "# a comment",
            "",
        ],
        "users-deny": ["banned", "nosuchbanned"],
        "users1": [
            "alice:{PLAIN}first:2001:2001::%s/home1/alice::"
            "userdb_mail=maildir:~/one src=one" % S,
            "bob:{PLAIN}bobpw:2002:2002::%s/home1/bob::src=one" % S,
        ],
        "users2": [
            "alice:{PLAIN}second:3001:3001::%s/home2/alice::"
            "userdb_mail=maildir:~/two src=two" % S,
            "zed:{PLAIN}zedpw:3002:3002::%s/home2/zed::src=two" % S,
        ],
        "masters": ["masteradm:{PLAIN}masterpw"],
    }
    for name, lines in files.items():
        path = os.path.join(S, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o644)


# ---------------------------------------------------------------- runner

def run_one(server, sidx, cidx, fn):
    t = T(server, sidx, cidx)
    try:
        fn(t)
        t.finish()
    except Exception as e:  # a broken side must not stop the run
        t.rec("<exception %s: %s>" % (type(e).__name__, e))
        for c in t.conns:
            c.close()
    return t.lines


def drop_empty_fields(line):
    """Dovecot 2.3 appends a TAB when a reply's extra fields are all hidden
    (userdb_*, nologin... kept internally), leaving an empty field."""
    head, sep, rest = line.partition("< ")
    if not sep:
        return line
    parts = rest.split("\\t")
    return head + sep + "\\t".join([parts[0]] + [p for p in parts[1:] if p])


def explain(a, b):
    """How two differing transcripts differ, when it is one simple kind."""
    if len(a) != len(b):
        return None
    ea = [drop_empty_fields(x) for x in a]
    eb = [drop_empty_fields(x) for x in b]
    if ea == eb:
        return "empty TAB field only"
    if all(sorted(x.split("\\t")) == sorted(y.split("\\t"))
           for x, y in zip(ea, eb)):
        return "field order" + (" and empty TAB field" if
                                 (a != ea or b != eb) else "") + " only"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k", metavar="REGEX")
    ap.add_argument("--keep", action="store_true")
    opts = ap.parse_args()
    for path in (ROOST, DOVECOT, DOVEADM):
        if not os.access(path, os.X_OK):
            print("auth-diff: %s not found or not executable" % path)
            return 1
    start = time.monotonic()
    top = tempfile.mkdtemp(prefix="roost-auth-diff-")
    os.chmod(top, 0o755)
    global SHARED
    S = SHARED = os.path.join(top, "shared")
    os.makedirs(S)
    os.chmod(S, 0o755)
    for h in ("home", "home1", "home2"):
        os.makedirs(os.path.join(S, h))
    write_users(S)
    configs = scenario_configs(S)
    print("auth-diff: roost=%s dovecot=%s" % (ROOST, DOVECOT))
    total = failed = 0
    failures = []
    kinds = {}
    servers = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=48)
    try:
        for sidx, scen in enumerate(ALL):
            convs = [(i, n, fn) for i, (n, fn) in enumerate(CONVS[scen])
                     if not opts.k or re.search(opts.k, scen + "/" + n)]
            if not convs:
                continue
            pair = [Server("dovecot", top, scen, configs[scen]),
                    Server("roost", top, scen, configs[scen])]
            servers += pair
            for s in pair:
                s.start()
            errors = [e for e in (s.wait_ready() for s in pair) if e]
            if errors:
                for e in errors:
                    print("FAIL %s: %s" % (scen, e))
                total += len(convs)
                failed += len(convs)
                failures += [scen + "/" + n for _, n, _ in convs]
                for s in pair:
                    s.stop()
                continue
            futs = [(n, pool.submit(run_one, pair[0], sidx, i, fn),
                     pool.submit(run_one, pair[1], sidx, i, fn))
                    for i, n, fn in convs]
            results = [(n, fd.result(), fr.result()) for n, fd, fr in futs]
            # a crashed or panicking server is a difference too
            results.append(("server-health", pair[0].health(),
                            pair[1].health()))
            for n, a, b in results:
                total += 1
                name = "%s/%s" % (scen, n)
                if a == b:
                    print("ok   %s" % name)
                    if opts.v:
                        for line in a:
                            print("       " + line)
                    continue
                failed += 1
                failures.append(name)
                why = explain(a, b)
                kinds[why or "content"] = kinds.get(why or "content", 0) + 1
                print("FAIL %s%s" % (name, " (%s)" % why if why else ""))
                diff = list(difflib.unified_diff(a, b, "dovecot", "roost",
                                                 lineterm="", n=100))
                for line in diff[:60 if not opts.v else None]:
                    print("       " + line)
                if len(diff) > 60 and not opts.v:
                    print("       ... (%d more diff lines, use -v)"
                          % (len(diff) - 60))
            for s in pair:
                s.stop()
    finally:
        pool.shutdown(wait=True)
        for s in servers:
            s.stop()
        for s in servers:
            s.wait_stopped()
        if opts.keep:
            print("auth-diff: kept %s" % top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    print("%d conversations, %d ok, %d differ (%.1f s)"
          % (total, total - failed, failed, time.monotonic() - start))
    if failures:
        print("differ: " + " ".join(failures))
        print("kinds: " + ", ".join("%d %s" % (n, k) for k, n in
                                    sorted(kinds.items())))
    # Differences still open are listed in auth-known-failures.txt: the
    # gate fails only on new ones, and the list may only shrink.
    known_path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "auth-known-failures.txt")
    known = set()
    if os.path.exists(known_path) and not opts.k:
        with open(known_path) as f:
            known = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    new = [n for n in failures if n not in known]
    for n in sorted(known - set(failures)):
        print("now equal (remove from auth-known-failures.txt): " + n)
    if known:
        print("auth-diff: %d new differences, %d known" % (len(new), len(known)))
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())

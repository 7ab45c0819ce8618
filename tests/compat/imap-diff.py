#!/usr/bin/env python3
"""imap-diff.py - differential test of Roost's IMAP server against Debian's
Dovecot 2.3.19.

The scripted sessions of tests/compat/imap-sessions.txt run once against
Dovecot (`/usr/lib/dovecot/imap -c CONF -u USER` pre-authenticated
sessions, plus imap-login sessions through `dovecot -F -c CONF`) and once
against Roost (`roost imap -c CONF -u USER`, and `roost` as the daemon)
on byte-identical copies of the same mail data: a Maildir user (alice) and
an mbox user (bob), filled by Dovecot itself (LDA deliveries of
tests/data/mime/*.eml, APPENDs with fixed dates and flags, mailboxes,
subscriptions) and then copied, dovecot-uidlist / X-IMAPbase / indexes
included, so UIDVALIDITY and UIDs are the same on both sides.

Each scenario of the sessions file starts from a fresh copy of that data.
The responses to every command are compared after normalising only what
must differ: the timing suffix `(0.001 + 0.000 secs).`, UIDVALIDITY
values of mailboxes created during the run (numbered in order of first
appearance instead), INTERNALDATE values later than the data preparation
(APPENDs without a date), [SERVERBUG] timestamps.

Accepted differences are listed in tests/compat/imap-known-failures.txt
as `<scenario> <tag>  # reason`; any other difference makes the exit
status 1.

Usage: imap-diff.py [-v] [-k REGEX] [--keep] [--self-check] [--dump DIR]
                    [--brief]
  -k REGEX      only scenarios whose name matches
  -v            print every response of differing commands in full
  --brief       per differing command only the first differing line of each
                side (expected = Dovecot, got = Roost)
  --self-check  run Dovecot against itself (proves the normalisation and
                that the scripts are deterministic; must report 0 diffs)
  --dump DIR    write each side's normalised transcript to DIR
Env: ROOST = build/bin/roost (its `imap` command and its daemon).
Needs root (the mail user is nobody) and dovecot-imapd. Never touches
/etc/dovecot or the system service."""
import argparse
import calendar
import glob
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(TOP, "tests", "compat")
CORPUS = os.path.join(TOP, "tests", "data", "mime")
SESSIONS = os.path.join(HERE, "imap-sessions.txt")
KNOWN = os.path.join(HERE, "imap-known-failures.txt")
ROOST = os.environ.get("ROOST", os.path.join(TOP, "build", "bin", "roost"))
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"
UID = GID = 65534
TIMEOUT = 15
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC", "LC_ALL": "C"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


CONF = """# imap-diff.py
protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
state_dir = %(tmp)s/state
first_valid_uid = 1
first_valid_gid = 1
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_failure_delay = 0
auth_mechanisms = plain login
mailbox_idle_check_interval = 1 secs
lda_mailbox_autocreate = yes
mail_location = maildir:~/Maildir
imap_metadata = yes
mail_attribute_dict = file:%%h/Maildir/dovecot-attributes
passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
  mailbox Junk {
    special_use = \\Junk
  }
  mailbox Archive {
    special_use = \\Archive
  }
}
service imap-login {
  inet_listener imap {
    port = %(port)d
  }
  inet_listener imaps {
    port = %(sport)d
  }
}
"""


# ---------------------------------------------------------------- parsing

def unescape(s):
    """\\r \\n \\t \\\\ \\xNN -> bytes"""
    out = bytearray()
    i = 0
    b = s.encode("utf-8")
    while i < len(b):
        c = b[i:i + 1]
        if c == b"\\" and i + 1 < len(b):
            n = b[i + 1:i + 2]
            if n == b"r":
                out += b"\r"
            elif n == b"n":
                out += b"\n"
            elif n == b"t":
                out += b"\t"
            elif n == b"\\":
                out += b"\\"
            elif n == b"x":
                out += bytes([int(b[i + 2:i + 4], 16)])
                i += 2
            else:
                out += b"\\" + n
            i += 2
            continue
        out += c
        i += 1
    return bytes(out)


MACRO = re.compile(r"\{\{(lit\+?|file\+?|repeat):(.*?)\}\}")


def expand(text):
    """A command line -> list of byte segments; after each one but the last
    the client waits for a continuation request (synchronizing literal)."""
    segs = [b""]
    pos = 0
    for m in MACRO.finditer(text):
        segs[-1] += unescape(text[pos:m.start()])
        kind, arg = m.group(1), m.group(2)
        if kind.startswith("lit"):
            data = unescape(arg)
        elif kind.startswith("file"):
            with open(os.path.join(CORPUS, arg), "rb") as f:
                data = f.read()
        else:  # repeat:STRING:COUNT
            s, n = arg.rsplit(":", 1)
            segs[-1] += unescape(s) * int(n)
            pos = m.end()
            continue
        if kind.endswith("+"):
            segs[-1] += b"{%d+}\r\n" % len(data) + data
        else:
            segs[-1] += b"{%d}\r\n" % len(data)
            segs.append(data)
        pos = m.end()
    segs[-1] += unescape(text[pos:])
    # hand-written synchronizing literals: "{5}\r\n" inside a segment
    res = []
    for seg in segs:
        pos = 0
        for m in re.finditer(rb"\{[0-9]{1,12}\}\r\n", seg):
            res.append(seg[pos:m.end()])
            pos = m.end()
        if pos < len(seg) or not res:
            res.append(seg[pos:])
    return res


def parse_sessions(path, pattern=None):
    """-> list of (name, [(lineno, conn, op, arg)])"""
    scenarios = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith("=== "):
                cur = (line[4:].strip(), [])
                scenarios.append(cur)
                continue
            if cur is None:
                raise SystemExit("%s:%d: command before the first '=== '"
                                 % (path, n))
            m = re.match(r"^(open|close|sleep|modseqs)\s+(.*)$", line)
            if m:
                cur[1].append((n, None, m.group(1), m.group(2).strip()))
                continue
            m = re.match(r"^([A-Z])([>+<]?)(?: (.*))?$", line)
            if not m:
                raise SystemExit("%s:%d: cannot parse: %s" % (path, n, line))
            op = {"": "cmd", ">": "raw", "+": "cont", "<": "read"}[m.group(2)]
            cur[1].append((n, m.group(1), op, m.group(3) or ""))
    if pattern:
        scenarios = [s for s in scenarios if re.search(pattern, s[0])]
    return scenarios


def read_response(buf, start):
    """One response (line plus literals) from buf at start -> (bytes, end)
    or (None, start) if incomplete."""
    pos = start
    while True:
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            return None, start
        line = buf[pos:nl + 2]
        m = re.search(rb"~?\{(\d+)\+?\}\r\n$", line)
        pos = nl + 2
        if not m:
            return buf[start:pos], pos
        n = int(m.group(1))
        if len(buf) < pos + n:
            return None, start
        pos += n


# -------------------------------------------------------------- connections

class Conn:
    def __init__(self, kind, argv=None, addr=None, bind=None, tls=False):
        self.buf = b""
        self.eof = False
        self.proc = None
        self.sock = None
        self.pending = None  # tag of a command still running
        if kind == "preauth":
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, env=ENV)
            self.rfd = self.proc.stdout.fileno()
        else:
            s = socket.socket()
            if bind:
                s.bind((bind, 0))
            s.settimeout(TIMEOUT)
            s.connect(addr)
            if tls:
                s = self.tls_context().wrap_socket(s)
            self.sock = s
            self.rfd = s

    @staticmethod
    def tls_context():
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def starttls(self):
        self.sock = self.tls_context().wrap_socket(self.sock)
        self.rfd = self.sock

    def send(self, data):
        try:
            if self.proc:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            else:
                self.sock.sendall(data)
        except (OSError, ValueError):
            self.eof = True

    def _fill(self, timeout):
        if self.eof:
            return False
        if self.sock is not None and isinstance(self.sock, ssl.SSLSocket) \
                and self.sock.pending():
            r = [1]
        else:
            r, _, _ = select.select([self.rfd], [], [], timeout)
        if not r:
            return False
        try:
            if self.proc:
                chunk = os.read(self.rfd, 65536)
            else:
                chunk = self.sock.recv(65536)
        except (OSError, ssl.SSLError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def response(self, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while True:
            resp, pos = read_response(self.buf, 0)
            if resp is not None:
                self.buf = self.buf[pos:]
                return resp
            left = deadline - time.time()
            if left <= 0 or not self._fill(left):
                if self.eof:
                    if self.buf:
                        rest, self.buf = self.buf, b""
                        return rest
                    return b"<EOF>"
                if left <= 0:
                    return b"<TIMEOUT>"

    def read_until(self, tag, out):
        """Collect responses up to the tagged reply of tag, a continuation
        request, BYE+EOF or timeout. -> 'tagged', 'cont', 'eof'"""
        while True:
            r = self.response()
            out.append(r)
            if r in (b"<EOF>", b"<TIMEOUT>"):
                return "eof"
            if r.startswith(b"+"):
                return "cont"
            if tag is not None and r.startswith(tag + b" "):
                return "tagged"

    def close(self):
        if self.proc:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        elif self.sock:
            try:
                self.sock.close()
            except OSError:
                pass


# ----------------------------------------------------------------- servers

class Side:
    """One server implementation over the shared temp dir."""

    def __init__(self, name, env, kind):
        self.name = name
        self.env = env
        self.kind = kind  # "dovecot" or "roost"
        self.master = None

    def start(self):
        e = self.env
        if self.kind == "dovecot":
            argv = ["dovecot", "-F", "-c", e.conf]
        else:
            argv = [os.path.join(os.path.dirname(ROOST), "dovecot"), "-F",
                    "-c", e.conf]
        self.master = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, env=ENV)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.master.poll() is not None:
                raise RuntimeError("%s master exited: %s" % (self.name,
                                                             e.log_tail()))
            try:
                socket.create_connection(("127.0.0.1", e.port), 1).close()
                if os.path.exists(os.path.join(e.tmp, "run", "auth-userdb")):
                    return
            except OSError:
                if re.search(r"starting up for \(no protocols\)",
                             e.log_tail()) and os.path.exists(
                                 os.path.join(e.tmp, "run", "auth-userdb")):
                    # no imap-login yet: the login-side scenarios will
                    # show "connect failed"
                    print("imap-diff: %s serves no IMAP listener" % self.name)
                    return
            time.sleep(0.1)
        raise RuntimeError("%s did not start: %s" % (self.name, e.log_tail()))

    def stop(self):
        if self.master and self.master.poll() is None:
            self.master.send_signal(signal.SIGTERM)
            try:
                self.master.wait(20)
            except subprocess.TimeoutExpired:
                self.master.kill()
                self.master.wait()
        self.master = None
        time.sleep(0.2)

    def imap_argv(self, user):
        if self.kind == "dovecot":
            return [DOVECOT_IMAP, "-c", self.env.conf, "-u", user]
        return [ROOST, "imap", "-c", self.env.conf, "-u", user]

    def open(self, spec):
        words = spec.split()
        kind = words[0]
        e = self.env
        if kind == "preauth":
            return Conn("preauth", argv=self.imap_argv(words[1]))
        if kind == "tcp":
            bind = words[1] if len(words) > 1 else None
            return Conn("tcp", addr=("127.0.0.1", e.port), bind=bind)
        if kind == "tls":
            return Conn("tcp", addr=("127.0.0.1", e.sport), tls=True)
        raise SystemExit("unknown connection kind: " + spec)

    def mail_processes(self):
        """Descendants of the master running as the mail user."""
        if not self.master:
            return []
        kids = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(pid))
            except (OSError, ValueError, IndexError):
                pass
        res, todo = [], [self.master.pid]
        while todo:
            p = todo.pop()
            for c in kids.get(p, []):
                todo.append(c)
                try:
                    with open("/proc/%d/status" % c) as f:
                        if re.search(r"^Uid:\s+%d\s" % UID, f.read(), re.M):
                            res.append(c)
                except OSError:
                    pass
        return res

    def run_scenario(self, name, steps):
        """-> list of (key, lineno, display, [normalised responses])"""
        self.env.restore()
        conns = {}
        results = []
        tags_seen = set()
        norm = Normaliser(self.env)
        for lineno, conn, op, arg in steps:
            if op == "modseqs":
                norm.modseq_relative = arg == "relative"
                continue
            if op == "cmd" and re.search(r"\b(SELECT|EXAMINE|STATUS)\b",
                                         arg, re.I):
                norm.modseq_base = None  # another mailbox's values
            if os.environ.get("IMAPDIFF_SLOW") and results:
                now = time.time()
                if now - getattr(self, "_t", now) > 0.5:
                    print("  slow: %.1f s before line %d" % (now - self._t,
                                                               lineno))
            self._t = time.time()
            if op == "open":
                letter, spec = arg.split(None, 1)
                try:
                    conns[letter] = self.open(spec)
                    g = conns[letter].response()
                    results.append(("open %s" % letter, lineno,
                                    "open " + arg, norm.apply([g])))
                except OSError as ex:
                    results.append(("open %s" % letter, lineno, "open " + arg,
                                    ["<connect failed: %s>" % ex]))
                continue
            if op == "close":
                c = conns.pop(arg, None)
                if c:
                    c.close()
                continue
            if op == "sleep":
                time.sleep(float(arg))
                continue
            c = conns.get(conn)
            if c is None:
                # its open failed (reported there): every command shows it
                key = arg.split(" ", 1)[0] if op == "cmd" else \
                    "%s%s%d" % (conn, {"cont": "+", "raw": ">",
                                       "read": "<"}[op], lineno)
                results.append((key, lineno, "%s %s" % (conn, arg),
                                ["<not connected>"]))
                continue
            out = []
            if op == "cmd":
                tag = arg.split(" ", 1)[0].encode()
                key = tag.decode()
                if key in tags_seen:
                    raise SystemExit("line %d: tag %s used twice in %s"
                                     % (lineno, key, name))
                tags_seen.add(key)
                segs = expand(arg)
                segs[-1] += b"\r\n"
                c.pending = tag
                for i, seg in enumerate(segs):
                    c.send(seg)
                    st = c.read_until(tag, out)
                    if st != "cont" or i == len(segs) - 1:
                        break
                if st != "cont":
                    c.pending = None
                if (st == "tagged" and out[-1].startswith(tag + b" OK")
                        and re.match(r"\S+ STARTTLS\s*$", arg, re.I)):
                    c.starttls()
            elif op == "cont":
                key = "%s+%d" % (conn, lineno)
                segs = expand(arg)
                segs[-1] += b"\r\n"
                for i, seg in enumerate(segs):
                    c.send(seg)
                    st = c.read_until(c.pending, out)
                    if st != "cont" or i == len(segs) - 1:
                        break
                if st != "cont":
                    c.pending = None
            elif op == "raw":
                key = "%s>%d" % (conn, lineno)
                c.send(unescape(arg))
                continue
            else:  # read
                key = "%s<%d" % (conn, lineno)
                tag = arg.strip().encode() or None
                if tag:
                    c.read_until(tag, out)
                else:
                    while True:
                        r = c.response(0.5)
                        if r in (b"<TIMEOUT>",):
                            break
                        out.append(r)
                        if r == b"<EOF>":
                            break
            results.append((key, lineno, "%s%s %s" % (
                conn, {"cmd": "", "cont": "+", "read": "<"}[op], arg),
                norm.apply(out)))
        for c in conns.values():
            c.close()
        # let the server processes of closed connections finish writing
        deadline = time.time() + 3
        while self.mail_processes() and time.time() < deadline:
            time.sleep(0.05)
        return results


# -------------------------------------------------------------- normalising

MONTHS = {m: i for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
DATE_RE = re.compile(
    rb'"(\s?\d{1,2})-([A-Z][a-z]{2})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"')
UIDV_RE = re.compile(
    rb"(\[UIDVALIDITY |UIDVALIDITY |\[APPENDUID |\[COPYUID )(\d+)")
# Capabilities of Dovecot 2.3 that Roost does not implement yet (issue
# 7: CONDSTORE/QRESYNC, ESORT, CONTEXT=SEARCH, CATENATE, URL-PARTIAL,
# SNIPPET/PREVIEW). Roost doesn't advertise what it can't do, so
# they are dropped from both servers' CAPABILITY lists before comparing;
# the commands that use them still differ and are counted. Listed in
# tests/compat/README.md; remove a name here when it lands.
PENDING_CAPS = {# Roost's own, beyond Dovecot 2.3 (test_imap_ext.py)
                b"IMAP4rev2", b"OBJECTID", b"REPLACE", b"UTF8=ACCEPT",
                b"INPROGRESS"}
# OBJECTID's SELECT line (Roost only)
MAILBOXID_LINE = re.compile(rb"^\* OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Ok\r\n$")
CAPS_RE = re.compile(rb"(CAPABILITY )([^\]\r\n]*)")


def drop_pending_caps(m):
    words = [w for w in m.group(2).split(b" ") if w not in PENDING_CAPS]
    return m.group(1) + b" ".join(words)


TIMING_RE = re.compile(rb" \(\d+\.\d{3} \+ \d+\.\d{3}( \+ \d+\.\d{3})? secs\)\.")


# Mod-sequences in responses. In a scenario with "modseqs relative" (those
# on the prepared data) they are written as offsets from the first one
# the server sent in the scenario: Dovecot's values there count the
# history of the data preparation, which lives only in its transaction
# log (dovecot.index.log), which Roost doesn't read - Roost's index of
# the copied data starts at 1 + the records of its first sync. The steps
# between values (one per change record, as Dovecot counts them) are
# still compared. SELECT, EXAMINE and STATUS start a new base (their
# mailbox has a history of its own). Scenarios that make their own mailbox compare the
# values as they are.
MODSEQ_RE = re.compile(rb"(HIGHESTMODSEQ |MODSEQ \(|MODSEQ )(\d+)")


class Normaliser:
    def __init__(self, env):
        self.env = env
        self.new_uidv = {}
        self.modseq_relative = False
        self.modseq_base = None

    def modseq(self, m):
        v = int(m.group(2))
        if self.modseq_base is None:
            self.modseq_base = v
        return m.group(1) + b"<base%+d>" % (v - self.modseq_base)

    def date(self, m):
        d, mon, y, hh, mm, ss, sign, zh, zm = m.groups()
        try:
            t = calendar.timegm((int(y), MONTHS[mon.decode()], int(d), int(hh),
                                 int(mm), int(ss)))
        except (KeyError, ValueError):
            return m.group(0)
        off = (int(zh) * 3600 + int(zm) * 60) * (1 if sign == b"+" else -1)
        if t - off >= self.env.t_ready:
            return b'"<now>"'
        return m.group(0)

    def uidv(self, m):
        v = int(m.group(2))
        if v in self.env.known_uidv or v == 0:  # 0 is always wrong: keep it
            return m.group(0)
        if v not in self.new_uidv:
            self.new_uidv[v] = len(self.new_uidv) + 1
        return m.group(1) + b"<new-uidvalidity-%d>" % self.new_uidv[v]

    def apply(self, responses):
        res = []
        for r in responses:
            if r == b"* OK Still here\r\n":
                continue  # IDLE keepalive: when it comes is a matter of time
            if MAILBOXID_LINE.match(r):
                continue
            # the MAILBOXID code of CREATE's OK (RFC 8474 4.1)
            r = re.sub(rb"\[MAILBOXID \([A-Za-z0-9_-]+\)\] (Create completed)",
                       rb"\1", r)
            r = TIMING_RE.sub(b" (<t> secs).", r)
            r = CAPS_RE.sub(drop_pending_caps, r)
            r = re.sub(rb"(\[SERVERBUG\] .*)\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]",
                       rb"\1[<time>]", r)
            r = DATE_RE.sub(self.date, r)
            r = UIDV_RE.sub(self.uidv, r)
            if self.modseq_relative:
                r = MODSEQ_RE.sub(self.modseq, r)
            res.append(r.decode("utf-8", "backslashreplace"))
        return res


# ----------------------------------------------------------- the test data

class Env:
    def __init__(self, keep):
        self.keep = keep
        self.tmp = tempfile.mkdtemp(prefix="roost-imapdiff.")
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        self.sport = free_port()
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        self.home = os.path.join(self.tmp, "home")
        self.golden = os.path.join(self.tmp, "golden")
        for d in ("run", "state", "home/alice", "home/bob"):
            os.makedirs(os.path.join(self.tmp, d))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-keyout", os.path.join(self.tmp, "key.pem"),
                        "-out", os.path.join(self.tmp, "cert.pem")],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write("alice:{PLAIN}secret:%d:%d::%s/alice::\n"
                    "bob:{PLAIN}secret:%d:%d::%s/bob::"
                    "userdb_mail=mbox:~/mail:INBOX=~/mbox\n"
                    % (UID, GID, self.home, UID, GID, self.home))
        with open(self.conf, "w") as f:
            f.write(CONF % {"tmp": self.tmp, "port": self.port,
                            "sport": self.sport})
        self.known_uidv = set()
        self.t_ready = 0

    def log_tail(self):
        try:
            with open(os.path.join(self.tmp, "log"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return "(no log)"

    def chown(self, path):
        for root, dirs, files in os.walk(path):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, UID, GID)

    def restore(self):
        shutil.rmtree(self.home)
        shutil.copytree(self.golden, self.home, symlinks=True)
        self.chown(self.home)

    def prepare(self):
        """Fill both users' mail with Dovecot (running), snapshot it."""
        self.chown(self.home)
        corpus = sorted(glob.glob(os.path.join(CORPUS, "*.eml")))
        for user, sep in (("alice", "."), ("bob", "/")):
            # the first ten corpus messages into INBOX by the LDA, all of
            # them into "Corpus" by APPEND (one process: much faster)
            for path in corpus[:10]:
                with open(path, "rb") as f:
                    subprocess.run([DOVECOT_LDA, "-c", self.conf, "-d", user],
                                   stdin=f, check=True, env=ENV)
            script = ["CREATE Corpus"]
            for n, path in enumerate(corpus):
                script.append('APPEND Corpus "%02d-Feb-2023 10:%02d:00 +0000" '
                              '{{file+:%s}}' % (n % 28 + 1, n % 60,
                                                os.path.basename(path)))
            script += prep_script(sep)
            c = Conn("preauth", argv=[DOVECOT_IMAP, "-c", self.conf, "-u",
                                      user])
            c.response()
            for i, line in enumerate(script):
                tag = b"p%d" % i
                segs = expand("p%d %s" % (i, line))
                segs[-1] += b"\r\n"
                out = []
                for seg in segs:
                    c.send(seg)
                    st = c.read_until(tag, out)
                    if st != "cont":
                        break
                last = out[-1] if out else b""
                if line.startswith("APPEND Corpus") and \
                        last.startswith(tag + b" NO"):
                    continue  # 18-empty.eml: "Can't save a zero byte message"
                if not last.startswith(tag + b" OK"):
                    raise RuntimeError("prep %s: %s -> %r" % (user, line, out))
                for r in out:
                    for m in re.finditer(rb"UIDVALIDITY (\d+)", r):
                        self.known_uidv.add(int(m.group(1)))
            c.close()
        time.sleep(0.3)
        shutil.copytree(self.home, self.golden, symlinks=True)
        self.t_ready = int(time.time()) + 1
        while time.time() < self.t_ready + 0.05:
            time.sleep(0.05)

    def cleanup(self):
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def prep_script(sep):
    """IMAP commands (without tag) that build each user's mailboxes."""
    s = sep
    msgs = [
        ("Subject: alpha\r\nFrom: Ann <ann@example.com>\r\nTo: bob@example.org\r\n"
         "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <a1@x>\r\n\r\n"
         "alpha body text\r\n", r"(\Seen)", "01-Jan-2024 10:00:00 +0000"),
        ("Subject: Re: alpha\r\nFrom: Bob <bob@example.org>\r\nTo: ann@example.com\r\n"
         "Cc: carl@example.net\r\nDate: Tue, 2 Jan 2024 11:00:00 +0100\r\n"
         "Message-ID: <a2@x>\r\nIn-Reply-To: <a1@x>\r\nReferences: <a1@x>\r\n\r\n"
         "reply body with Needle word\r\n", r"(\Answered \Seen)",
         "02-Jan-2024 11:00:00 +0100"),
        ("Subject: beta report\r\nFrom: carl@example.net\r\nTo: ann@example.com\r\n"
         "Date: Wed, 3 Jan 2024 12:00:00 -0500\r\nMessage-ID: <b1@x>\r\n"
         "X-Priority: 1\r\n\r\nbeta\r\n" + "line of text\r\n" * 40,
         r"(\Flagged $Important)", "03-Jan-2024 12:00:00 -0500"),
        ("Subject: =?utf-8?q?caf=C3=A9_menu?=\r\nFrom: dora@example.com\r\n"
         "To: ann@example.com\r\nDate: Thu, 4 Jan 2024 13:00:00 +0000\r\n"
         "Message-ID: <c1@x>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xc3\xa9 cr\xc3\xa8me\r\n",
         r"()", "04-Jan-2024 13:00:00 +0000"),
        ("Subject: draft\r\nFrom: ann@example.com\r\n"
         "Date: Fri, 5 Jan 2024 14:00:00 +0000\r\n\r\nunfinished\r\n",
         r"(\Draft \Deleted)", "05-Jan-2024 14:00:00 +0000"),
        ("Subject: Re: beta report\r\nFrom: ann@example.com\r\nTo: carl@example.net\r\n"
         "Date: Sat, 6 Jan 2024 15:00:00 +0000\r\nMessage-ID: <b2@x>\r\n"
         "References: <b1@x>\r\n\r\nthanks\r\n", r"(\Seen custom1)",
         "06-Jan-2024 15:00:00 +0000"),
    ]
    cmds = []
    for body, flags, date in msgs:
        data = "".join(c if " " <= c < "\x7f" and c != "\\" else
                       "\\x%02x" % ord(c) for c in body)
        cmds.append('APPEND INBOX %s "%s" {{lit:%s}}' % (flags, date, data))
    for name in ("Sent", "Drafts", "Trash", "Junk", "Archive", "Work",
                 "Lists%sdev" % s, "Lists%susers" % s, "Empty", "Gone"):
        cmds.append("CREATE %s" % name)
    cmds += ["SUBSCRIBE INBOX", "SUBSCRIBE Sent", "SUBSCRIBE Work",
             "SUBSCRIBE Lists%sdev" % s, "SUBSCRIBE Gone", "DELETE Gone",
             'APPEND Work (\\Seen) "07-Jan-2024 08:00:00 +0000" '
             '{{lit:Subject: work one\\r\\nFrom: boss@example.com\\r\\n\\r\\nwork\\r\\n}}',
             'APPEND Work () "08-Jan-2024 08:00:00 +0000" '
             '{{lit:Subject: work two\\r\\nFrom: boss@example.com\\r\\n\\r\\nmore work\\r\\n}}',
             'APPEND Lists%sdev () "09-Jan-2024 08:00:00 +0000" '
             '{{lit:Subject: [dev] patch\\r\\nFrom: dev@example.com\\r\\n\\r\\npatch\\r\\n}}' % s,
             'APPEND Sent (\\Seen) "10-Jan-2024 08:00:00 +0000" '
             '{{lit:Subject: sent\\r\\nTo: x@example.com\\r\\n\\r\\nsent\\r\\n}}',
             "SELECT Corpus", "STORE 1:5 +FLAGS (\\Seen)",
             "STORE 7 +FLAGS (\\Flagged)", "CLOSE",
             # \Recent goes to this session: both servers start with the
             # same (no) recent messages
             "SELECT INBOX", "CLOSE",
             'LIST "" "*" RETURN (STATUS (UIDVALIDITY MESSAGES))']
    return cmds


# --------------------------------------------------------------- comparing

def load_known():
    known = {}
    if os.path.exists(KNOWN):
        with open(KNOWN) as f:
            for line in f:
                text = line.split("#", 1)
                words = text[0].split()
                if len(words) >= 2:
                    known[(words[0], words[1])] = (text[1].strip()
                                                   if len(text) > 1 else "")
    return known


def roost_has_imap(env):
    if not os.access(ROOST, os.X_OK):
        return False
    try:
        p = subprocess.run([ROOST, "imap", "-c", env.conf, "-u", "alice"],
                           input=b"x LOGOUT\r\n", stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=20, env=ENV)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.stdout.startswith(b"* PREAUTH")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--self-check", action="store_true")
    ap.add_argument("--dump")
    ap.add_argument("--brief", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("imap-diff: skipped (needs root to switch to the mail user)")
        return 0
    if not os.path.exists(DOVECOT_IMAP):
        print("imap-diff: Dovecot's imap is not installed (make deps)")
        return 1
    scenarios = parse_sessions(SESSIONS, args.k)
    ncmds = sum(1 for _, st in scenarios for s in st if s[2] in ("cmd", "cont"))
    env = Env(args.keep)
    ref = Side("dovecot", env, "dovecot")
    other = Side("dovecot-again" if args.self_check else "roost", env,
                 "dovecot" if args.self_check else "roost")
    results = {}
    t0 = time.time()
    try:
        ref.start()
        env.prepare()
        print("imap-diff: data prepared in %.1f s" % (time.time() - t0))
        if not args.self_check and not roost_has_imap(env):
            ref.stop()
            print("imap-diff: skipped: %s imap is not available yet "
                  "(no '* PREAUTH' greeting)" % ROOST)
            return 0
        for side in (ref, other):
            if side is other:
                ref.stop()
                side.start()
            for name, steps in scenarios:
                ts = time.time()
                results.setdefault(name, {})[side.name] = \
                    side.run_scenario(name, steps)
                if args.v:
                    print("%s: %s took %.1f s" % (side.name, name,
                                                  time.time() - ts))
            side.stop()
    finally:
        ref.stop()
        other.stop()
        if args.keep:
            print("imap-diff: kept %s" % env.tmp)
        env.cleanup()
    known = load_known()
    used_known = set()
    unexpected = known_n = same = 0
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        for sname in (ref.name, other.name):
            with open(os.path.join(args.dump, sname + ".txt"), "w") as f:
                for name, _ in scenarios:
                    f.write("=== %s\n" % name)
                    for key, lineno, disp, resp in results[name][sname]:
                        f.write("C: %s\n" % disp[:300])
                        for r in resp:
                            f.write("S: %s" % r[:2000])
                            if not r.endswith("\n"):
                                f.write("\n")
    for name, _ in scenarios:
        a = results[name][ref.name]
        b = results[name][other.name]
        bad = 0
        for i in range(max(len(a), len(b))):
            ra = a[i] if i < len(a) else (None, 0, "<missing>", [])
            rb = b[i] if i < len(b) else (None, 0, "<missing>", [])
            if ra[3] == rb[3]:
                same += 1
                continue
            k = (name, ra[0])
            if k in known:
                known_n += 1
                used_known.add(k)
                if args.v:
                    print("known %s line %d: %s  # %s" % (name, ra[1], ra[2],
                                                           known[k]))
                continue
            unexpected += 1
            bad += 1
            print("FAIL %s line %d: %s" % (name, ra[1], ra[2][:200]))
            if args.brief:
                show_first(ra[3], rb[3])
            else:
                show_diff(ra[3], rb[3], ref.name, other.name, args.v)
        if not bad:
            print("ok   %s (%d commands)" % (name, len(a)))
    for k in sorted(set(known) - used_known):
        if any(k[0] == n for n, _ in scenarios):
            print("note: known failure %s %s did not occur (remove it?)" % k)
    print("imap-diff: %d commands in %d scenarios (%s vs %s, %.0f s): "
          "%d identical, %d known differences, %d unexpected"
          % (ncmds, len(scenarios), ref.name, other.name, time.time() - t0,
             same, known_n, unexpected))
    return 1 if unexpected else 0


def show_first(a, b):
    """--brief: only the first differing response line of each side."""
    al = [x.rstrip("\r\n") for r in a for x in r.split("\n") if x.strip()]
    bl = [x.rstrip("\r\n") for r in b for x in r.split("\n") if x.strip()]
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else "<nothing>"
        y = bl[i] if i < len(bl) else "<nothing>"
        if x != y:
            print("    expected: %s\n    got:      %s" % (x[:300], y[:300]))
            return


def show_diff(a, b, na, nb, verbose):
    import difflib
    al = [x.rstrip("\r\n") for r in a for x in r.split("\n")]
    bl = [x.rstrip("\r\n") for r in b for x in r.split("\n")]
    lines = list(difflib.unified_diff(al, bl, na, nb, lineterm="", n=2))
    limit = None if verbose else 30
    for ln in lines[2:limit]:
        print("    " + ln[:300])
    if limit and len(lines) > limit:
        print("    ... (%d more diff lines, -v shows all)" % (len(lines) - limit))


if __name__ == "__main__":
    sys.exit(main())

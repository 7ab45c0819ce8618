#!/usr/bin/env python3
"""IMAP FETCH / UID FETCH, differential against Dovecot 2.3.

Builds one Maildir (tests/data/mime messages, a 5 MB message, NULs,
CR-only lines, no final newline, base64/quoted-printable parts, broken
encodings), copies it for Roost and Dovecot (`cp -a`), pipes the same
script of FETCH commands through `roost imap -u` and Dovecot's
`imap -u` (one command at a time, literals read exactly) and compares
the responses byte for byte after normalising only the timing suffix.
Also: a message file deleted under a running session, and memory staying
bounded while a client that does not read fetches 300 x 100 KB bodies.

Env: ROOST = path of build/bin/roost; IMAP_DIFF=0 skips the Dovecot
comparison (then only Roost's own checks run). Needs root."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOST = os.environ.get("ROOST", "build/bin/roost")
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
HERE = os.path.dirname(os.path.abspath(__file__))
MIME = os.path.join(HERE, "..", "data", "mime")
UID = GID = 65534
TIMING = re.compile(rb" \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.")
STAMP = re.compile(rb"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]")

CONF = """protocols = imap
base_dir = %(tmp)s/run-%(name)s
log_path = %(tmp)s/log-%(name)s
mail_location = maildir:%(tmp)s/%(name)s/%%u/Maildir
ssl = no
service imap-login {
  inet_listener imap {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=%(tmp)s/%(name)s/%%u
}
passdb {
  driver = static
  args = nopassword
}
"""

MIME_FILES = ["01-simple-text", "03-multipart-alternative-crlf",
              "04-html-attachments", "05-forwarded-message", "12-nul-bytes",
              "15-cr-only", "17-header-only-no-newline", "18-empty",
              "21-digest", "26-transfer-encodings", "28-base64-edge"]
LAST_MIME = "22-rfc822-top-level"   # message 20, after the extras


def extra_messages():
    big = [b"From: big@example.com\nSubject: big\nMIME-Version: 1.0\n"
           b"Content-Type: multipart/mixed; boundary=B\n\n--B\n"
           b"Content-Type: text/plain\n\n"]
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\n"
    big.append(line * (2 * 1024 * 1024 // len(line)))
    big.append(b"--B\nContent-Type: application/octet-stream\n"
               b"Content-Transfer-Encoding: base64\n\n")
    b64line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU2Nzg5YWJjZGVmZ2hp\n"
    big.append(b64line * (3 * 1024 * 1024 // len(b64line)))
    big.append(b"--B--\n")
    return {
        "big": b"".join(big),
        "nul": b"From: a@b\nSubject: nul\n\nab\0cd\nline2\n",
        "cronly": b"From: a@b\rSubject: cr\r\rbody\rline\r",
        "nofinal": b"From: a@b\nSubject: nofinal\n\nno final newline",
        "b64qp": b"From: a@b\nSubject: b64\nMIME-Version: 1.0\n"
                 b"Content-Type: multipart/mixed; boundary=X\n\n--X\n"
                 b"Content-Type: text/plain\n"
                 b"Content-Transfer-Encoding: base64\n\nAAECAwQFBgcICQ==\n"
                 b"--X\nContent-Type: text/plain; charset=utf-8\n"
                 b"Content-Transfer-Encoding: quoted-printable\n\n"
                 b"h=C3=A9llo=\n world\n--X--\n",
        "uu": b"From: a@b\nSubject: uu\nMIME-Version: 1.0\n"
              b"Content-Type: text/plain\n"
              b"Content-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n`\nend\n",
        "badb64": b"From: a@b\nSubject: bad\nMIME-Version: 1.0\n"
                  b"Content-Type: application/octet-stream\n"
                  b"Content-Transfer-Encoding: base64\n\nQUJD!!!RA==\n",
        "crlf": b"From: a@b\r\nSubject: crlf\r\n\r\nline1\r\nline2\r\n",
    }


def build_maildir(path):
    """Maildir with cur/ files and a dovecot-uidlist (UIDs in order)."""
    msgs = []
    for name in MIME_FILES:
        with open(os.path.join(MIME, name + ".eml"), "rb") as f:
            msgs.append(f.read())
    msgs.extend(extra_messages().values())
    with open(os.path.join(MIME, LAST_MIME + ".eml"), "rb") as f:
        msgs.append(f.read())
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, d))
    lines = []
    base_time = 1700000000
    for i, data in enumerate(msgs):
        base = "%d.M%dP1.test,S=%d" % (base_time + i, i, len(data))
        flags = "S" if i in (1, 2) else ""
        fn = os.path.join(path, "cur", "%s:2,%s" % (base, flags))
        with open(fn, "wb") as f:
            f.write(data)
        os.utime(fn, (base_time + i * 3600, base_time + i * 3600))
        lines.append("%d :%s" % (i + 1, base))
    with open(os.path.join(path, "dovecot-uidlist"), "w") as f:
        f.write("3 V1700000000 N%d G0123456789abcdef0123456789abcdef\n"
                % (len(msgs) + 1))
        f.write("\n".join(lines) + "\n")
    return len(msgs)


def chown_tree(path):
    for root, dirs, files in os.walk(path):
        os.chown(root, UID, GID)
        for n in files:
            os.chown(os.path.join(root, n), UID, GID)


class Session:
    """One IMAP process; commands sent one at a time."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.buf = b""
        self.out = []
        self.read_response(None)

    def _fill(self):
        d = os.read(self.p.stdout.fileno(), 65536)
        if not d:
            raise EOFError
        self.buf += d

    def readline(self):
        while b"\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def readn(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def read_response(self, tag):
        res = []
        try:
            while True:
                line = self.readline()
                while True:
                    res.append(line)
                    m = re.search(rb"~?\{(\d+)\}\r\n$", line)
                    if not m:
                        break
                    res.append(self.readn(int(m.group(1))))
                    line = self.readline()
                if tag is None or line.startswith(tag + b" ") or \
                        line.startswith(b"* BYE"):
                    break
        except EOFError:
            res.append(b"<EOF>")
        return b"".join(res)

    def command(self, line):
        tag = line.split(b" ")[0]
        try:
            self.p.stdin.write(line + b"\r\n")
            self.p.stdin.flush()
        except OSError:
            return b"<EOF>"
        return self.read_response(tag)

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


# OBJECTID's SELECT/EXAMINE line (RFC 8474): Roost's own, not Dovecot's
MAILBOXID_LINE = re.compile(rb"\* OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Ok\r\n")


def normalize(data):
    data = MAILBOXID_LINE.sub(b"", data)
    data = re.sub(rb"\[MAILBOXID \([A-Za-z0-9_-]+\)\] (Create completed)",
                  rb"\1", data)
    data = TIMING.sub(b" (T secs).", data)
    return STAMP.sub(b"[STAMP]", data)


# Dovecot answers HEADER.FIELDS of a header that ends without a newline
# (messages 6, 7, 14) differently once it has decided to cache those fields
# (after an earlier multi-message fetch of them: no blank line, a final CR
# dropped) than before (blank line added, as Roost always does). The
# script fetches those fields for other messages first, so this command
# is the one known difference.
KNOWN_HDR_DIFF = "FETCH 6:7,14 (UID BODY.PEEK[HEADER.FIELDS (Subject From)])"
KNOWN_DIFFS = [KNOWN_HDR_DIFF]

# Every item, macro, section, partial and error form.
FETCHES = [
    "FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)",
    "FETCH 1:* ALL", "FETCH 1 FAST", "FETCH 2 fUlL", "FETCH 1:5 FULL",
    "FETCH 1:* (UID ENVELOPE)", "FETCH 1:* BODYSTRUCTURE", "FETCH 1:* BODY",
    "FETCH 1:5 (UID BODY.PEEK[HEADER.FIELDS (Subject From)])",
    "FETCH 8:13,15:* (UID BODY.PEEK[HEADER.FIELDS (Subject From)])",
    "FETCH 1:* BODY.PEEK[HEADER.FIELDS.NOT (Received Return-Path DATE)]",
    "FETCH 1:* (BODY.PEEK[HEADER] RFC822.SIZE)",
    "FETCH 1:4 (BODY.PEEK[TEXT])",
    "FETCH 3 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[1.MIME] BODY.PEEK[2.MIME])",
    "FETCH 4 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[3] BODY.PEEK[1.1])",
    "FETCH 4 (BODY.PEEK[1.2.MIME] BODY.PEEK[3.MIME] BODY.PEEK[4])",
    "FETCH 5 (BODY.PEEK[2] BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1])",
    "FETCH 5 (BODY.PEEK[2.HEADER.FIELDS (SUBJECT)] BODY.PEEK[2.1.MIME])",
    "FETCH 20 (BODY.PEEK[1] BODY.PEEK[1.HEADER] BODY.PEEK[1.TEXT] BODY.PEEK[1.1])",
    "FETCH 9 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[2.1] BODY.PEEK[2.HEADER])",
    "FETCH 1 (BODY.PEEK[]<0.10> BODY.PEEK[]<10.20> BODY.PEEK[TEXT]<5>)",
    "FETCH 1 (BODY.PEEK[]<10000.5> BODY.PEEK[]<0.0> BODY.PEEK[]<4294967295.1>)",
    "FETCH 1 BODY.PEEK[HEADER.FIELDS (From To)]<0.20>",
    "FETCH 1 (BODY.PEEK[5] BODY.PEEK[0] BODY.PEEK[1.0] BINARY.PEEK[5] BINARY.SIZE[5])",
    "FETCH 1 (RFC822.HEADER RFC822.SIZE)",
    "FETCH 5 (BODY.PEEK[] BODY.PEEK[])",
    "FETCH 1 (UID UID FLAGS RFC822.SIZE RFC822.SIZE)",
    "FETCH 13 (BODY.PEEK[] BINARY.PEEK[] BINARY.PEEK[1] BINARY.SIZE[1])",
    "FETCH 14 (BODY.PEEK[] BODY.PEEK[TEXT] BODY.PEEK[HEADER] BODYSTRUCTURE)",
    "FETCH 15 (BODY.PEEK[] BODY.PEEK[TEXT]<3.100> BODY.PEEK[1] ENVELOPE)",
    "FETCH 16 (BINARY.PEEK[1] BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1]<2.3> BINARY.PEEK[1]<20.3>)",
    "FETCH 16 (BINARY.SIZE[] BINARY.PEEK[] BINARY.PEEK[HEADER] BINARY.SIZE[1])",
    "FETCH 19 (BODY.PEEK[] BINARY.PEEK[] BINARY.SIZE[1] RFC822.SIZE)",
    "FETCH 7:8 (BINARY.PEEK[1] BINARY.SIZE[1] BODY.PEEK[])",
    "FETCH 12 (BODY.PEEK[]<1000000.100> BODY.PEEK[1]<0.200> BODY.PEEK[2]<100.50>)",
    "FETCH 12 (RFC822.SIZE BODY.PEEK[1]<2000000.100000>)",
    "FETCH 12 BODY.PEEK[]",
    "FETCH 12 BINARY.PEEK[2]<100.100>",
    "FETCH 12 (BINARY.SIZE[2] BODY.PEEK[2]<0.100>)",
    "FETCH * (UID)", "FETCH *:1 UID", "FETCH 2:1 UID", "FETCH 1,1,1 UID",
    "FETCH 1,3,5:7 (UID FLAGS)",
    "UID FETCH 1:* FLAGS", "UID FETCH 3,5 (BODY.PEEK[HEADER] FLAGS)",
    "UID FETCH 100 FLAGS", "UID FETCH 100:* UID", "UID FETCH * FLAGS",
    "UID FETCH 2 (BINARY.SIZE[1] UID)",
    "FETCH 1 X-GUID", "FETCH 1 (X-MAILBOX X-REAL-UID)",
    "FETCH 99 FLAGS", "FETCH 0 FLAGS", "FETCH abc UID",
    "FETCH 1 (FOO)", "FETCH 1 (foo)", "FETCH 1 ()", "FETCH 1 (ALL)",
    "FETCH 1 UID",  # (20 BADs in a row end the session)
    "FETCH 1 FLAGSX", "FETCH 1 BODYX", "FETCH 1 BODY.PEEKX[]",
    "FETCH 1 RFC822.FOO", "FETCH 1 RFC822.PEEK", "FETCH 1 BODY[FOO]",
    "FETCH 1 UID",
    "FETCH 1 BODY[HEADER.FIELDS ()]", "FETCH 1 BODY[HEADER.FIELDS]",
    "FETCH 1 BODY[TEXT.MIME]", "FETCH 1 BODY[]<x>", "FETCH 1 BODY[]<1.2.3>",
    "FETCH 1 UID",
    "FETCH 1 BODY[]<.2>", "FETCH 1 BODY[]<1.2>x", "FETCH 1 BODY[]x",
    "FETCH 1 BODY[]<10.>", "FETCH 1 BINARY[FOO]", "FETCH 1 BINARY.SIZE",
    "FETCH 1 UID",
    "FETCH 1 BODY.PEEK", "FETCH 1 BINARY", "FETCH 1 (FLAGS",
    "FETCH", "FETCH 1", "FETCH 1 UID junk",
    "FETCH 1 (BODY.PEEK[]<01.2>)",
    "FETCH 18 (UID BINARY[1])", "FETCH 18 (UID BINARY.SIZE[1])",
    "FETCH 17:18 (UID BINARY.SIZE[1] FLAGS)",
    "FETCH 19 (UID BINARY.PEEK[])",
    "FETCH 2 (BODY[TEXT] UID RFC822.SIZE)",
    "FETCH 2 (BODY[TEXT] FLAGS)",
    "FETCH 4 BODY[1]", "FETCH 4 (BODY[1] BODY[2])",
    "FETCH 6 (RFC822.TEXT)", "FETCH 7 (RFC822)", "FETCH 8 RFC822.HEADER",
    "FETCH 9 BINARY[1]", "FETCH 10 (INTERNALDATE BODY.PEEK[TEXT] RFC822)",
    "FETCH 1:* FLAGS",
    "FETCH 11 BODY[HEADER]", "FETCH 1:* FLAGS",
    KNOWN_HDR_DIFF,
    # base64 cut inside a group: Dovecot disconnects (BYE); keep it last
    "FETCH 10:11 (BINARY.PEEK[1] BINARY.PEEK[2] BINARY.PEEK[3])",
]


def dovecot_available():
    return os.path.exists(DOVECOT_IMAP) and shutil.which("dovecot") and \
        os.environ.get("IMAP_DIFF", "1") != "0"


class ImapFetch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.tmp = tempfile.mkdtemp(prefix="roost-fetch.")
        os.chmod(cls.tmp, 0o755)
        base = os.path.join(cls.tmp, "base", "u", "Maildir")
        cls.count = build_maildir(base)
        cls.confs = {}
        for name in ("roost", "dovecot"):
            cls.confs[name] = os.path.join(cls.tmp, name + ".conf")
            with open(cls.confs[name], "w") as f:
                f.write(CONF % {"tmp": cls.tmp, "name": name})
        cls.dovecot = dovecot_available()
        if cls.dovecot:
            subprocess.run(["dovecot", "-c", cls.confs["dovecot"]],
                           check=True)

    @classmethod
    def tearDownClass(cls):
        if cls.dovecot:
            subprocess.run(["doveadm", "-c", cls.confs["dovecot"], "stop"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def fresh(self, name, user="u"):
        """A fresh copy of the base Maildir for name; returns its path."""
        home = os.path.join(self.tmp, name)
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home)
        subprocess.run(["cp", "-a", os.path.join(self.tmp, "base", "u"),
                        os.path.join(home, user)], check=True)
        chown_tree(home)
        return os.path.join(home, user, "Maildir")

    def argv(self, name, user="u"):
        if name == "roost":
            return [ROOST, "imap", "-c", self.confs[name], "-u", user]
        return [DOVECOT_IMAP, "-c", self.confs[name], "-u", user]

    def run_script(self, name, commands, hook=None):
        self.fresh(name)
        s = Session(self.argv(name))
        out = []
        for i, c in enumerate(commands):
            if callable(c):
                c(name)
                continue
            out.append(normalize(s.command(b"t%d %s" % (i, c.encode()))))
        s.close()
        return out

    def diff(self, commands):
        if not self.dovecot:
            self.skipTest("Dovecot not installed (or IMAP_DIFF=0)")
        r = self.run_script("roost", commands)
        d = self.run_script("dovecot", commands)
        bad = []
        for c, a, b in zip([c for c in commands if not callable(c)], r, d):
            if a != b:
                bad.append((c, a[:3000], b[:3000]))
        for c, a, b in bad:
            sys.stderr.write("\n--- %s\nroost:   %r\ndovecot: %r\n" % (c, a, b))
        return len(r), bad

    def test_differential_examine(self):
        cmds = ["EXAMINE INBOX"] + FETCHES
        n, bad = self.diff(cmds)
        sys.stderr.write("\nEXAMINE: %d commands, %d differ (known: %d)\n"
                         % (n, len(bad), len(KNOWN_DIFFS)))
        self.assertEqual([c for c, _, _ in bad], KNOWN_DIFFS)

    def test_differential_select(self):
        cmds = ["SELECT INBOX"] + FETCHES + ["NOOP"]
        n, bad = self.diff(cmds)
        sys.stderr.write("\nSELECT: %d commands, %d differ (known: %d)\n"
                         % (n, len(bad), len(KNOWN_DIFFS)))
        self.assertEqual([c for c, _, _ in bad], KNOWN_DIFFS)

    def test_expunged_file(self):
        def remove(name):
            d = os.path.join(self.tmp, name, "u", "Maildir", "cur")
            for f in os.listdir(d):
                if f.startswith("1700000002."):
                    os.unlink(os.path.join(d, f))
        cmds = ["SELECT INBOX", "FETCH 1:* (UID FLAGS)", remove,
                "FETCH 3 (FLAGS)", "FETCH 2:4 (UID BODY.PEEK[])",
                "FETCH 3 (UID BODY.PEEK[TEXT] ENVELOPE)",
                "UID FETCH 3 (BODY.PEEK[HEADER])", "NOOP"]
        n, bad = self.diff(cmds)
        self.assertEqual([c for c, _, _ in bad], [])

    def test_seen_and_stream(self):
        """Roost alone: \\Seen set by BODY[], the 5 MB body whole."""
        self.fresh("roost")
        s = Session(self.argv("roost"))
        s.command(b"a SELECT INBOX")
        r = s.command(b"b FETCH 12 BODY[]")
        self.assertIn(b"* 12 FETCH (FLAGS (\\Seen) BODY[] {", r)
        m = re.search(rb"BODY\[\] \{(\d+)\}\r\n", r)
        self.assertGreater(int(m.group(1)), 5000000)
        r = s.command(b"c FETCH 12 FLAGS")
        self.assertIn(b"FLAGS (\\Seen)", r)
        r = s.command(b"d FETCH 12 BODY[TEXT]")
        self.assertNotIn(b"FLAGS", r)
        s.close()


class ImapFetchMemory(unittest.TestCase):
    """FETCH 1:* BODY[] of 300 x 100 KB with a client that doesn't read:
    the output stays bounded (the process's RSS < 40 MB)."""

    def test_bounded(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        tmp = tempfile.mkdtemp(prefix="roost-fetchmem.")
        try:
            os.chmod(tmp, 0o755)
            md = os.path.join(tmp, "roost", "u", "Maildir")
            for d in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, d))
            body = (b"x" * 99 + b"\n") * 1000
            for i in range(300):
                data = b"Subject: m%d\n\n" % i + body
                with open(os.path.join(md, "cur", "%d.M%dP1.t,S=%d:2,"
                                       % (1700000000 + i, i, len(data))),
                          "wb") as f:
                    f.write(data)
            chown_tree(os.path.join(tmp, "roost"))
            conf = os.path.join(tmp, "roost.conf")
            with open(conf, "w") as f:
                f.write(CONF % {"tmp": tmp, "name": "roost"})
            a, b = socket.socketpair()
            a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            p = subprocess.Popen([ROOST, "imap", "-c", conf, "-u", "u"],
                                 stdin=b.fileno(), stdout=b.fileno(),
                                 stderr=subprocess.DEVNULL)
            b.close()
            a.sendall(b"a SELECT INBOX\r\nb FETCH 1:* BODY.PEEK[]\r\n")
            time.sleep(2)
            rss = peak = 0
            for _ in range(5):
                with open("/proc/%d/status" % p.pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            rss = int(line.split()[1])
                peak = max(peak, rss)
                time.sleep(0.2)
            # now read everything
            a.settimeout(30)
            got = b""
            while not re.search(rb"\r\nb OK Fetch completed", got[-200:]):
                d = a.recv(1 << 20)
                if not d:
                    break
                got += d
            self.assertEqual(len(re.findall(
                rb"\* \d+ FETCH \(BODY\[\] \{1010\d\d\}\r\n", got)), 300)
            a.close()
            p.wait(timeout=10)
            sys.stderr.write("\npeak RSS while blocked: %d KB\n" % peak)
            self.assertLess(peak, 40 * 1024)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()

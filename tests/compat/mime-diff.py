#!/usr/bin/env python3
"""mime-diff.py - differential test of Roost's MIME code against Debian's
Dovecot 2.3.19 imap.

For every message of tests/data/mime/*.eml (and a few generated ones too
big or too deep to commit), ask both sides the same FETCH items, one per
command: ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE and the BODY[...] /
BINARY[...] sections that `mime-probe --items` lists for the message.

Roost's side is tests/compat/mime-probe (built as $(B)/bin/mime-probe,
path in $PROBE). Dovecot's side is /usr/lib/dovecot/imap started in
PREAUTH mode from a throw-away config and Maildir in a temporary
directory (never /etc/dovecot): each message gets its own folder.

Responses are compared byte for byte (literals included). Tagged results
are reduced to "f OK", "f NO [CODE]", "f BAD" or "BYE" (Dovecot
disconnects on some broken base64). Known differences are listed in
tests/compat/mime-known-failures.txt as "<message> <item>  # reason".

Usage: mime-diff.py [-v] [-k PATTERN] [--random N [--seed S]] [--save DIR]
                   [--ignore-literal8] [--no-cache] [PROBE]
       mime-diff.py --write-golden [-k PATTERN]
--random N adds N generated messages (random MIME trees with prefix
boundaries, broken structure, mixed line ends, truncation; the same for
the same seed) to look for new differences; they are not part of the
default run. --save DIR keeps a copy of every message tested.
--ignore-literal8 counts answers that differ only in ~{n} versus {n}
(Dovecot's choice depends on NUL bookkeeping in broken headers) apart.
--write-golden stores Dovecot's ENVELOPE, BODYSTRUCTURE, BODY and
RFC822.SIZE answers as tests/data/mime/NAME.out, the golden files of the
unit tests.

Dovecot's answers are asked by MIME_DIFF_JOBS (default 2) imap processes
at once, each message's items in order in one session, the messages with
the most boundary lines first (the generated 10,000-part ones take
Dovecot seconds per BINARY.SIZE). The answers of a message that matched
(no unexpected difference) are kept in MIME_DIFF_CACHE (default
build/compat-cache/mime-dovecot), keyed by the SHA-256 of Dovecot's imap
binary and libraries, of this script, of the message and of its item
list: a later run asks Dovecot only about new or changed messages and
about those that differed. --no-cache asks Dovecot about everything.
Exit status 0 when every non-listed item is identical."""
import concurrent.futures
import hashlib
import os
import queue
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.environ.get("MIME_CORPUS", os.path.join(TOP, "tests", "data", "mime"))
KNOWN = os.path.join(TOP, "tests", "compat", "mime-known-failures.txt")
IMAP = os.environ.get("DOVECOT_IMAP", "/usr/lib/dovecot/imap")
TIMEOUT = 20
JOBS = max(1, int(os.environ.get("MIME_DIFF_JOBS", "2")))
CACHE = os.environ.get("MIME_DIFF_CACHE", os.path.join(
    TOP, "build", "compat-cache", "mime-dovecot"))


def gen_deep_multipart(depth):
    """depth nested multiparts with distinct, non-prefix boundaries."""
    s = ""
    for i in range(depth):
        s += "Content-Type: multipart/mixed; boundary=\"lvl%05d=\"\n\n--lvl%05d=\n" % (i, i)
    s += "Content-Type: text/plain\n\nleaf\n"
    for i in reversed(range(depth)):
        s += "--lvl%05d=--\n" % i
    return s.encode()


def gen_deep_rfc822(depth):
    s = ""
    for i in range(depth):
        s += "Subject: level %d\nContent-Type: message/rfc822\n\n" % i
    return (s + "Subject: leaf\n\nleaf\n").encode()


def gen_flat(count, tail=""):
    s = "Subject: many parts\nContent-Type: multipart/mixed; boundary=zz\n\n"
    for i in range(count):
        s += "--zz\n\n%d\n" % i
    return (s + tail + "--zz--\n").encode()


def gen_flat_rfc822_at_limit():
    tail = "--zz\nContent-Type: message/rfc822\n\nSubject: x\n\ny\n"
    return gen_flat(9998, tail)


def gen_flat_multipart_at_limit():
    tail = ("--zz\nContent-Type: multipart/alternative; boundary=yy\n\n"
            "--yy\n\na\n--yy--\n")
    return gen_flat(9998, tail)


def gen_long_header():
    return (b"Subject: " + b"long " * 20000 + b"\nContent-Description: " +
            b"d" * 9000 + b"\n\nbody\n")


def gen_huge_declared():
    return (b"From: a@example.com\nContent-Type: text/plain\n"
            b"Content-Length: 1073741824\n\nshort body\n")


def gen_base64_big():
    import base64
    data = bytes(range(256)) * 2000
    b = base64.encodebytes(data)
    return (b"Content-Type: application/octet-stream\n"
            b"Content-Transfer-Encoding: base64\n\n" + b)


GENERATED = {
    "gen-deep-multipart-98": lambda: gen_deep_multipart(98),
    "gen-deep-multipart-99": lambda: gen_deep_multipart(99),
    "gen-deep-multipart-100": lambda: gen_deep_multipart(100),
    "gen-deep-multipart-10000": lambda: gen_deep_multipart(10000),
    "gen-deep-rfc822-99": lambda: gen_deep_rfc822(99),
    "gen-deep-rfc822-100": lambda: gen_deep_rfc822(100),
    "gen-deep-rfc822-1000": lambda: gen_deep_rfc822(1000),
    "gen-flat-9998": lambda: gen_flat(9998),
    "gen-flat-9999": lambda: gen_flat(9999),
    "gen-flat-10001": lambda: gen_flat(10001),
    "gen-flat-rfc822-at-limit": gen_flat_rfc822_at_limit,
    "gen-flat-multipart-at-limit": gen_flat_multipart_at_limit,
    "gen-long-header": gen_long_header,
    "gen-declared-1gb": gen_huge_declared,
    "gen-base64-512k": gen_base64_big,
}


RANDOM_HEADERS = [
    "Subject: s", "Subject: =?utf-8?q?caf=C3=A9?=", "From: a@b", "To: x <y@z>, \"q\" <r@s>",
    "Cc: g: a@b, c;", "Content-Description: d", "Content-ID: <id@x>", "X-Other: o",
    "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: quoted-printable",
    "Content-Transfer-Encoding: 8bit", "Content-Disposition: attachment; filename=f",
    "MIME-Version: 1.0", "no colon line", "Subject:\n folded", "Content-Language: en",
    "Content-Type: text/plain; charset=utf-8", "Content-Type: text", "Content-Type: image/png",
    "Content-Type: message/rfc822", "Content-Type: multipart/digest; boundary=d",
]


ADDRESS_TOKENS = ["a", "b.c", "x y", "@", "@d", ".", "..", ",", ", ", ";", ":", "<", ">",
                  "<a@b>", "\"q r\"", "\"", "(c)", "(", ")", "\\", " ", "\t", "\n ",
                  "=?utf-8?q?x?=", "j\u00f6rg", "[1.2.3.4]", "g:", "@r:", "<@r:a@b>", ""]


def gen_address_soup(rnd):
    return "".join(rnd.choice(ADDRESS_TOKENS) for _ in range(rnd.randint(0, 12)))


def gen_random(rnd):
    """A random, often broken, MIME message (bytes)."""
    bounds = ["a", "ab", "abc", "b", "b-", "x" * 80, "zz"]

    def header(depth, digest_child):
        lines = rnd.sample(RANDOM_HEADERS, rnd.randint(0, 3))
        r = rnd.random()
        if depth < 4 and r < 0.45:
            b = rnd.choice(bounds)
            lines.append("Content-Type: multipart/%s; boundary=\"%s\"" %
                         (rnd.choice(["mixed", "alternative", "digest"]), b))
        elif depth < 4 and r < 0.6:
            lines.append("Content-Type: message/rfc822")
        rnd.shuffle(lines)
        cts = [h for h in lines if h.startswith("Content-Type:")]
        container = (cts and ("multipart" in cts[0] or "rfc822" in cts[0])) \
            or (digest_child and not cts)
        if container:
            # base64/QP on a container makes Dovecot's BINARY sizes
            # inconsistent (see mime-known-failures.txt)
            lines = [h for h in lines if h not in (
                "Content-Transfer-Encoding: base64",
                "Content-Transfer-Encoding: quoted-printable")]
        return lines

    def body_line(active):
        r = rnd.random()
        if active and r < 0.25:
            b = rnd.choice(active)
            return "--" + b + rnd.choice(["", "", "--", "x", "-- tail", "--x"])
        return rnd.choice(["text", "", " ", "=41=42", "aGk=", "--", "x\ty", "=", "\x00"])

    def part(depth, active, digest_child=False):
        out = []
        hdr = header(depth, digest_child)
        out += hdr
        cts = [h for h in hdr if h.startswith("Content-Type:")]
        m = [h for h in cts[:1] if h.startswith("Content-Type: multipart")]
        rfc822 = cts[:1] == ["Content-Type: message/rfc822"] or \
            (digest_child and not cts)
        # Dovecot mis-sizes BINARY around an empty base64 or
        # quoted-printable part (see mime-known-failures.txt): give
        # those a body
        qp = ("Content-Transfer-Encoding: quoted-printable" in hdr or
              "Content-Transfer-Encoding: base64" in hdr) and \
            not m and not rfc822
        if qp or rnd.random() < 0.9:
            out.append("")
        if m:
            b = re.search(r'boundary="?([^"]*)"?$', m[-1]).group(1)
            inner = active + [b]
            if rnd.random() < 0.7:
                out.append("preamble")
            for _ in range(rnd.randint(0, 3)):
                out.append("--" + b)
                out += part(depth + 1, inner, "digest" in m[0])
            if rnd.random() < 0.7:
                out.append("--" + b + "--")
            if rnd.random() < 0.5:
                out.append("epilogue")
        elif rfc822:
            out += part(depth + 1, active)
        else:
            if qp:
                out.append(rnd.choice(["text", "aGk=", "=41"]))
            for _ in range(rnd.randint(0, 4)):
                out.append(body_line(active))
        return out

    lines = part(0, [])
    if rnd.random() < 0.5:
        for h in rnd.sample(["From", "To", "Cc", "Bcc", "Sender", "Reply-To",
                             "Subject", "In-Reply-To"], rnd.randint(1, 4)):
            lines.insert(0, "%s: %s" % (h, gen_address_soup(rnd)))
    text = ""
    for line in lines:
        text += line + rnd.choice(["\n", "\n", "\r\n", "\r\n", "\r"] if rnd.random() < 0.1
                                   else ["\n", "\r\n"][:1 + (rnd.random() < 0.3)])
    data = text.encode("utf-8").replace(b"\\x00", b"\x00")
    if rnd.random() < 0.15:
        data = data[:rnd.randint(0, len(data))]
    return data


def read_response(buf, pos):
    """One IMAP response line with its literals from buf at pos:
    returns (bytes, newpos) or (None, pos) if incomplete."""
    start = pos
    while True:
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            return None, start
        line = buf[pos:nl + 2]
        m = re.search(rb"~?\{(\d+)\}\r\n$", line)
        pos = nl + 2
        if not m:
            return buf[start:pos], pos
        n = int(m.group(1))
        if len(buf) < pos + n:
            return None, start
        pos += n


def normalize_status(line):
    line = line.rstrip(b"\r\n")
    m = re.match(rb"^f (OK|NO|BAD)( \[[A-Z0-9-]+\])?", line)
    if not m:
        return line
    if m.group(1) == b"NO" and m.group(2):
        return b"f NO" + m.group(2)
    return b"f " + m.group(1)


class Dovecot:
    def __init__(self, messages):
        self.tmp = tempfile.mkdtemp(prefix="mime-diff-")
        os.chmod(self.tmp, 0o755)
        self.home = os.path.join(self.tmp, "home")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.home, "Maildir", sub))
        self.folders = {}
        for n, (name, data) in enumerate(messages):
            folder = "m%04d" % n
            d = os.path.join(self.home, "Maildir", "." + folder)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(d, sub))
            with open(os.path.join(d, "cur", "1000000000.M1P1.roost:2,S"), "wb") as f:
                f.write(data)
            self.folders[name] = folder
        os.makedirs(os.path.join(self.tmp, "run"))
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("mail_location = maildir:%s/Maildir\n"
                    "ssl = no\nbase_dir = %s/run\nlog_path = %s/log\n"
                    "first_valid_uid = 1\nfirst_valid_gid = 1\n"
                    % (self.home, self.tmp, self.tmp))
        self.argv = ["env", "-i", "USER=test", "HOME=" + self.home, IMAP,
                     "-c", self.conf]
        if os.getuid() == 0:
            subprocess.run(["chown", "-R", "nobody:nogroup", self.tmp],
                           check=True)
            self.argv = ["runuser", "-u", "nobody", "--"] + self.argv
        self.proc = None
        self.selected = None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.buf = b""
        self.selected = None
        greeting = self.read()
        if greeting is None or not greeting.startswith(b"* PREAUTH"):
            raise SystemExit("mime-diff: Dovecot imap did not start: %r"
                             % greeting)

    def read(self):
        while True:
            resp, pos = read_response(self.buf, 0)
            if resp is not None:
                self.buf = self.buf[pos:]
                return resp
            r, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
            if not r:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk

    def command(self, tag, cmd):
        """(untagged responses, tagged line or None on disconnect)"""
        if self.proc is None:
            self.start()
        try:
            self.proc.stdin.write(tag + b" " + cmd + b"\r\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.stop()
            return [], None
        untagged = []
        while True:
            resp = self.read()
            if resp is None:
                self.stop()
                return untagged, None
            if resp.startswith(tag + b" "):
                return untagged, resp
            untagged.append(resp)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.selected = None

    def fetch(self, name, item):
        folder = self.folders[name]
        if self.selected != folder:
            _, t = self.command(b"s", b"SELECT " + folder.encode())
            if t is None or not t.startswith(b"s OK"):
                return b"SELECT FAILED %r\r\n" % t
            self.selected = folder
        untagged, tagged = self.command(b"f", b"FETCH 1 (" + item + b")")
        out = b""
        for u in untagged:
            if u.startswith(b"* 1 FETCH (UID ") or u.startswith(b"* BYE"):
                continue
            out += u
        if tagged is None:
            return out + b"BYE\r\n"
        return out + normalize_status(tagged) + b"\r\n"

    def close(self):
        if self.proc is not None:
            try:
                self.command(b"l", b"LOGOUT")
            except Exception:
                pass
            self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class DovecotAnswers:
    """Dovecot's answers to every message's items, asked by JOBS imap
    processes at once (each with its own throw-away Maildir holding all
    the messages; one message's items in order in one session), or read
    from the cache. get(name) blocks until that message is done."""

    def __init__(self, messages, items, use_cache):
        self.items = items
        self.keys = {}
        self.done = {}
        self.events = {name: threading.Event() for name, _ in messages}
        pending = []
        base = self.base_key() if use_cache else None
        for name, data in messages:
            if base is not None:
                h = hashlib.sha256(base)
                h.update(struct.pack(">Q", len(data)) + data)
                h.update(b"\n".join(items[name]))
                self.keys[name] = h.hexdigest()
                got = self.cache_read(name)
                if got is not None:
                    self.done[name] = got
                    self.events[name].set()
                    continue
            pending.append((name, data))
        # the messages with the most boundary lines (Dovecot's slowest)
        # first, so that the processes end at about the same time
        order = sorted(pending, key=lambda m: -m[1].count(b"\n--"))
        self.queue = queue.Queue()
        for name, _ in order:
            self.queue.put(name)
        self.pool = None
        if pending:
            self.pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=min(JOBS, len(pending)))
            self.futs = [self.pool.submit(self.worker, pending)
                         for _ in range(min(JOBS, len(pending)))]

    @staticmethod
    def base_key():
        h = hashlib.sha256()
        libs = [os.path.join("/usr/lib/dovecot", f) for f in (
            "libdovecot.so.0", "libdovecot-storage.so.0")]
        for path in [IMAP, os.path.abspath(__file__)] + libs:
            try:
                with open(os.path.realpath(path), "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
            except OSError:
                return None
        return h.digest()

    def cache_path(self, name):
        return os.path.join(CACHE, self.keys[name])

    def cache_read(self, name):
        """{item: answer} from the cache file, or None"""
        try:
            with open(self.cache_path(name), "rb") as f:
                data = zlib.decompress(f.read())
        except (OSError, zlib.error):
            return None
        out, pos = {}, 0
        for item in self.items[name]:
            if pos + 8 > len(data):
                return None
            n, = struct.unpack(">Q", data[pos:pos + 8])
            out[item] = data[pos + 8:pos + 8 + n]
            pos += 8 + n
        return out if pos == len(data) else None

    def cache_write(self, name):
        if name not in self.keys:
            return
        data = b"".join(struct.pack(">Q", len(self.done[name][i])) +
                        self.done[name][i] for i in self.items[name])
        os.makedirs(CACHE, exist_ok=True)
        tmp = "%s.%d.tmp" % (self.cache_path(name), os.getpid())
        with open(tmp, "wb") as f:
            f.write(zlib.compress(data, 1))
        os.rename(tmp, self.cache_path(name))

    def cache_prune(self):
        """After a run of the whole corpus: drop the files no message
        used (older Dovecot, script or messages)."""
        keep = set(self.keys.values())
        try:
            names = os.listdir(CACHE)
        except OSError:
            return
        for fn in names:
            if fn not in keep:
                try:
                    os.unlink(os.path.join(CACHE, fn))
                except OSError:
                    pass

    def worker(self, messages):
        dovecot = Dovecot(messages)
        try:
            while True:
                try:
                    name = self.queue.get_nowait()
                except queue.Empty:
                    return
                try:
                    self.done[name] = {item: dovecot.fetch(name, item)
                                       for item in self.items[name]}
                finally:
                    self.events[name].set()
        finally:
            dovecot.close()

    def get(self, name):
        while not self.events[name].wait(1):
            for f in self.futs:
                if f.done() and f.exception() is not None:
                    raise f.exception()
        if name not in self.done:
            for f in self.futs:
                f.result()
            raise SystemExit("mime-diff: no Dovecot answers for %s" % name)
        return self.done[name]

    def close(self):
        if self.pool is not None:
            # what is still queued is not asked any more
            while True:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    break
            self.pool.shutdown(wait=True)


def roost_fetch(probe, path, items):
    """{item: response} from one mime-probe run."""
    p = subprocess.run([probe, path] + [i.decode() for i in items],
                       stdout=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        return {i: b"PROBE EXIT %d\r\n" % p.returncode for i in items}
    out, pos, res = p.stdout, 0, {}
    for item in items:
        chunk = b""
        while True:
            resp, pos2 = read_response(out, pos)
            if resp is None:
                chunk += b"PROBE OUTPUT TRUNCATED\r\n"
                break
            pos = pos2
            if resp.startswith(b"* "):
                chunk += resp
                continue
            chunk += resp
            break
        res[item] = chunk
    return res


def literal(resp):
    """(payload, size) of the literal in a FETCH response, or None."""
    m = re.search(rb"~?\{(\d+)\}\r\n", resp)
    if not m:
        return None
    n = int(m.group(1))
    return resp[m.end():m.end() + n], n


def dovecot_bug(item, theirs, mine, qp_bug, peek_size):
    """Is this difference one of Dovecot's self-contradicting BINARY
    answers (mime-known-failures.txt)? qp_bug/peek_size carry what
    earlier items of the same message showed."""
    sec = re.sub(rb"^BINARY\.(PEEK|SIZE)", b"", item)
    if item.startswith(b"BINARY.PEEK["):
        lt, lm = literal(theirs), literal(mine)
        if lt is not None:
            peek_size[sec] = lt[1]
        # an empty quoted-printable or base64 part: output cut short
        if lt is not None and lm is not None and lt[1] < lm[1] and \
                lm[0].startswith(lt[0]) and \
                re.search(rb"quoted-printable|base64", lm[0], re.I):
            qp_bug.add(sec)
            return True
        return False
    if item.startswith(b"BINARY.SIZE[") and theirs != mine:
        if sec in qp_bug:
            return True
        m = re.search(rb"BINARY\.SIZE\[[^]]*\] (\d+)", theirs)
        n = re.search(rb"BINARY\.SIZE\[[^]]*\] (\d+)", mine)
        # Dovecot's size disagrees with its own literal, ours does not
        if m and n and sec in peek_size and \
                int(m.group(1)) != peek_size[sec] and \
                int(n.group(1)) == peek_size[sec]:
            return True
    return False


def load_known():
    known = {}
    if not os.path.exists(KNOWN):
        return known
    with open(KNOWN) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, item = line.split(None, 1)
            known[(name, item.strip())] = True
    return known


def short(b, limit=600):
    s = b.decode("utf-8", "backslashreplace")
    return s if len(s) <= limit else s[:limit] + "...[%d bytes]" % len(b)


GOLDEN_ITEMS = [b"ENVELOPE", b"BODYSTRUCTURE", b"BODY", b"RFC822.SIZE"]


def golden(pattern):
    """Write Dovecot's answers to GOLDEN_ITEMS for each corpus message to
    tests/data/mime/NAME.out (what tests/unit/check_imap_bodystructure.c
    compares against when Dovecot is not installed)."""
    messages = []
    for fn in sorted(os.listdir(CORPUS)):
        if fn.endswith(".eml") and (pattern is None or pattern.search(fn)):
            with open(os.path.join(CORPUS, fn), "rb") as f:
                messages.append((fn[:-4], f.read()))
    dovecot = Dovecot(messages)
    try:
        for name, _ in messages:
            out = b"".join(dovecot.fetch(name, item) for item in GOLDEN_ITEMS)
            with open(os.path.join(CORPUS, name + ".out"), "wb") as f:
                f.write(out)
            print("wrote %s.out" % name)
    finally:
        dovecot.close()
    return 0


def main():
    args = sys.argv[1:]
    verbose = False
    pattern = None
    nrandom, seed = 0, 1
    save_dir = None
    write_golden = False
    ignore_l8 = False
    use_cache = True
    l8_only = 0
    while args and args[0].startswith("-"):
        if args[0] == "-v":
            verbose = True
            args.pop(0)
        elif args[0] == "-k":
            pattern = re.compile(args[1])
            args = args[2:]
        elif args[0] == "--random":
            nrandom = int(args[1])
            args = args[2:]
        elif args[0] == "--ignore-literal8":
            ignore_l8 = True
            args.pop(0)
        elif args[0] == "--no-cache":
            use_cache = False
            args.pop(0)
        elif args[0] == "--write-golden":
            write_golden = True
            args.pop(0)
        elif args[0] == "--save":
            save_dir = args[1]
            args = args[2:]
        elif args[0] == "--seed":
            seed = int(args[1])
            args = args[2:]
        else:
            raise SystemExit(__doc__)
    probe = args[0] if args else os.environ.get(
        "PROBE", os.path.join(TOP, "build", "bin", "mime-probe"))
    if not os.access(IMAP, os.X_OK):
        print("mime-diff: %s not found: install dovecot-imapd" % IMAP)
        return 1
    if write_golden:
        return golden(pattern)
    if not os.access(probe, os.X_OK):
        print("mime-diff: %s not found: make %s" % (probe, probe))
        return 1

    work = tempfile.mkdtemp(prefix="mime-corpus-")
    messages = []
    for fn in sorted(os.listdir(CORPUS)):
        if fn.endswith(".eml"):
            with open(os.path.join(CORPUS, fn), "rb") as f:
                messages.append((fn[:-4], f.read()))
    for name, gen in sorted(GENERATED.items()):
        messages.append((name, gen()))
    if nrandom > 0:
        import random
        rnd = random.Random(seed)
        for i in range(nrandom):
            messages.append(("random-%d-%04d" % (seed, i), gen_random(rnd)))
    if pattern is not None:
        messages = [m for m in messages if pattern.search(m[0])]
    paths = {}
    if save_dir is not None:
        os.makedirs(save_dir, exist_ok=True)
        for name, data in messages:
            with open(os.path.join(save_dir, name + ".eml"), "wb") as f:
                f.write(data)
    for name, data in messages:
        paths[name] = os.path.join(work, name + ".eml")
        with open(paths[name], "wb") as f:
            f.write(data)

    known = load_known()
    all_items = {}
    for name, _ in messages:
        items = subprocess.run([probe, "--items", paths[name]],
                               stdout=subprocess.PIPE, check=True,
                               timeout=120).stdout.split(b"\n")
        all_items[name] = [i for i in items if i]
    dovecot = DovecotAnswers(messages, all_items, use_cache)
    total_msgs = same_msgs = total_items = same_items = 0
    unexpected = 0
    fixed = []
    try:
        for name, _ in messages:
            items = all_items[name]
            ours = roost_fetch(probe, paths[name], items)
            answers = dovecot.get(name)
            diffs = []
            qp_bug = set()
            peek_size = {}
            for item in items:
                theirs = answers[item]
                total_items += 1
                is_known = (name, item.decode()) in known or \
                    dovecot_bug(item, theirs, ours[item], qp_bug, peek_size)
                if ignore_l8 and ours[item] != theirs and \
                        ours[item].replace(b"~{", b"{", 1) == \
                        theirs.replace(b"~{", b"{", 1):
                    l8_only += 1
                    continue
                if ours[item] == theirs:
                    same_items += 1
                    if is_known:
                        fixed.append("%s %s" % (name, item.decode()))
                    continue
                diffs.append((item, theirs, ours[item], is_known))
            total_msgs += 1
            bad = [d for d in diffs if not d[3]]
            if not bad and not ignore_l8:
                dovecot.cache_write(name)
            if not diffs:
                same_msgs += 1
                print("ok    %s (%d items)" % (name, len(items)))
                continue
            unexpected += len(bad)
            print("%s %s (%d of %d items differ%s)" % (
                "FAIL " if bad else "known", name, len(diffs), len(items),
                "" if bad else ", all listed as known"))
            for item, theirs, mine, is_known in diffs:
                if is_known and not verbose:
                    continue
                print("  item %s%s" % (item.decode(), " (known)" if is_known else ""))
                if verbose:
                    print("    dovecot: %s" % short(theirs, 1 << 30))
                    print("    roost:   %s" % short(mine, 1 << 30))
                    continue
                k = 0
                while k < min(len(theirs), len(mine)) and theirs[k] == mine[k]:
                    k += 1
                lo = max(0, k - 120)
                print("    first difference at byte %d%s" % (k, "" if lo == 0 else ", showing from %d" % lo))
                print("    dovecot: %s" % short(theirs[lo:k + 200], 400))
                print("    roost:   %s" % short(mine[lo:k + 200], 400))
        if pattern is None and nrandom == 0:
            dovecot.cache_prune()
    finally:
        dovecot.close()
        shutil.rmtree(work, ignore_errors=True)
    for f in fixed:
        print("note: listed as known but now identical: %s" % f)
    if ignore_l8:
        print("%d items differed only in ~{n} versus {n}" % l8_only)
    print("%d/%d messages identical, %d/%d items identical, "
          "%d unexpected differences" % (same_msgs, total_msgs, same_items,
                                         total_items, unexpected))
    return 0 if unexpected == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

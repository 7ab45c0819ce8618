#!/usr/bin/env python3
"""doveadm fetch and doveadm search on big Maildir and mbox INBOXes,
Roost side by side with Debian's Dovecot (issue 4, "Benchmark").

For each size (10,000 and 100,000 messages) and each format (Maildir,
mbox) one set of generated messages is written (a fixed random seed: a
mix of sizes, plain text, multipart/alternative, multipart/mixed with a
base64 attachment, some text parts base64 or quoted-printable, the word
WORD in some bodies, some of those only inside a base64 text part). Each
server gets its own copy of the mailbox (Maildir: hard links of the same
message files in its own home; mbox: its own copy of the file) and its
own index files, and reads its own copy of one config text (static
userdb, uid 65534, `mail_location` in that home, base_dir/log in the
temp dir). Dovecot is started from that temp config (`dovecot -c`,
`protocols =`), because its doveadm looks users up through the auth
service; Roost's doveadm reads the static userdb itself.

Timed, wall clock of the whole doveadm process:

  fetch   doveadm -c CONF fetch -u bench 'uid flags size.physical' mailbox INBOX all
  search  doveadm -c CONF search -u bench mailbox INBOX body WORD

each "first" (every index/cache file of the server deleted just before:
dovecot.index*, dovecot.list.index*, roost.*; the Maildir's
dovecot-uidlist and the mbox's X-IMAP/X-UID headers, which hold the
UIDs, stay, and were made by an untimed `doveadm mailbox status` right
after the mailbox was written) and "second" (right after, the index
as the first run left it; median of REPEAT runs). The outputs of both
servers must be equal (the fetch text, and the UID list of the search,
with \\Recent left out: Dovecot's first session shows it): a difference is
printed as a WRONG line (the times of that row then mean little).

Env: ROOST (build/bin/roost: its doveadm beside it is used), SIZES
(10000,100000), FORMATS (maildir,mbox), QUICK=1 (or --quick: only
10,000), REPEAT (5 at 10,000 messages, 1 above), ONLY (roost|dovecot),
KEEP=1 (keep the temp dir), BENCH_DIR (parent of the temp dir; /dev/shm
when it has room), STEP_TIMEOUT (90: a doveadm run is stopped after that
many seconds; its row shows `>90`, the ratio then an upper bound `<..x`).
Never asserts: exits 0 except when Dovecot can't be started. Needs root.
About 3 minutes on the 2-CPU lab VM when it is quiet, 9 under other
helpers' load (most of it Dovecot on the 100,000-message mbox); QUICK=1
under a minute."""
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOST = os.environ.get("ROOST", "build/bin/roost")
ROOST_ADM = os.path.join(os.path.dirname(os.path.abspath(ROOST)), "doveadm")
DV_ADM = "/usr/bin/doveadm"
DV_MASTER = "/usr/sbin/dovecot"
QUICK = os.environ.get("QUICK", "") == "1" or "--quick" in sys.argv[1:]
SIZES = [int(x) for x in os.environ.get(
    "SIZES", "10000" if QUICK else "10000,100000").split(",") if x]
FORMATS = [x for x in os.environ.get("FORMATS", "maildir,mbox").split(",")
           if x]
REPEAT = os.environ.get("REPEAT", "")      # default: 5 at 10,000, 1 above
ONLY = os.environ.get("ONLY", "")
KEEP = os.environ.get("KEEP", "") == "1"
UID = 65534
WORD = "zanzibar"
FETCH = ["fetch", "-u", "bench", "uid flags size.physical",
         "mailbox", "INBOX", "all"]
DATES = ["fetch", "-u", "bench", "uid date.received", "mailbox", "INBOX",
         "all"]
SEARCH = ["search", "-u", "bench", "mailbox", "INBOX", "body", WORD]
STEP_TIMEOUT = float(os.environ.get("STEP_TIMEOUT", "90"))

LOREM = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
         "eiusmod tempor incididunt ut labore et dolore magna aliqua enim "
         "ad minim veniam quis nostrud exercitation ullamco laboris nisi "
         "aliquip ex ea commodo consequat duis aute irure in reprehenderit "
         "voluptate velit esse cillum fugiat nulla pariatur excepteur sint "
         "occaecat cupidatat non proident sunt culpa qui officia deserunt "
         "mollit anim id est laborum").split()


def b64(data):
    import base64
    enc = base64.b64encode(data)
    return b"\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + b"\n"


POOL = None


def text(rng, nbytes, word):
    """nbytes of lorem text lines (a slice of one shared pool of words:
    fast enough for 100,000 messages), WORD inserted at a random line."""
    global POOL
    if POOL is None:
        prng = random.Random(7)
        lines = [" ".join(prng.choice(LOREM) for _ in range(11))
                 for _ in range(4000)]
        POOL = ("\n".join(lines) + "\n").encode()
    start = rng.randrange(len(POOL) - nbytes - 1)
    start = POOL.index(b"\n", start) + 1
    end = POOL.find(b"\n", start + nbytes)
    body = POOL[start:end + 1] if end > 0 else POOL[start:]
    if word:
        w = rng.choice([WORD, WORD.capitalize(), WORD.upper()]).encode()
        lines = body.split(b"\n")
        k = rng.randrange(len(lines))
        lines[k] = lines[k] + b" " + w if lines[k] else w
        body = b"\n".join(lines)
        if not body.endswith(b"\n"):
            body += b"\n"
    return body


def message(rng, i):
    """One generated message (LF line ends), deterministic for (rng, i)."""
    kind = i % 10
    word = rng.random() < 0.2
    size = int(rng.lognormvariate(7.2, 0.8))     # median ~1.3 KB of text
    size = max(80, min(size, 40000))
    hdr = ("From: Sender %d <s%d@example.com>\nTo: bench@example.org\n"
           "Subject: generated message %d %s\nDate: %s\n"
           "Message-ID: <%d.bench@example.com>\nMIME-Version: 1.0\n" % (
               i % 113, i % 113, i, rng.choice(LOREM),
               time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                             time.gmtime(1700000000 + i * 60)), i)).encode()
    if kind < 5:
        return hdr + b"Content-Type: text/plain; charset=us-ascii\n\n" + \
            text(rng, size, word)
    if kind < 7:
        # text only inside a base64 text part: search must decode it
        return hdr + b"Content-Type: text/plain; charset=utf-8\n" \
            b"Content-Transfer-Encoding: base64\n\n" + \
            b64(text(rng, size, word))
    bnd = b"=_bench_%d" % i
    if kind < 9:
        body = text(rng, size, word)
        qp = body.replace(b"=", b"=3D")
        return hdr + b"Content-Type: multipart/alternative; boundary=\"" + \
            bnd + b"\"\n\nThis is a MIME message.\n--" + bnd + \
            b"\nContent-Type: text/plain; charset=us-ascii\n\n" + body + \
            b"--" + bnd + b"\nContent-Type: text/html; charset=us-ascii\n" \
            b"Content-Transfer-Encoding: quoted-printable\n\n<html><body>" + \
            qp + b"</body></html>\n--" + bnd + b"--\n"
    att = rng.randbytes(rng.randrange(300, 12000))
    return hdr + b"Content-Type: multipart/mixed; boundary=\"" + bnd + \
        b"\"\n\n--" + bnd + b"\nContent-Type: text/plain; charset=us-ascii" \
        b"\n\n" + text(rng, size, word) + b"--" + bnd + \
        b"\nContent-Type: application/octet-stream; name=\"a%d.bin\"\n" \
        b"Content-Transfer-Encoding: base64\n" \
        b"Content-Disposition: attachment; filename=\"a%d.bin\"\n\n" % \
        (i, i) + b64(att) + b"--" + bnd + b"--\n"


CORPUS = {}


def corpus(n):
    if n not in CORPUS:
        CORPUS.clear()
        rng = random.Random(4242 + n)
        CORPUS[n] = [message(rng, i) for i in range(n)]
    return CORPUS[n]


def repeat(n):
    return int(REPEAT) if REPEAT else 5 if n <= 10000 else 1


def bench_dir():
    parent = os.environ.get("BENCH_DIR")
    if not parent:
        st = os.statvfs("/dev/shm") if os.path.isdir("/dev/shm") else None
        parent = "/dev/shm" if st and st.f_bavail * st.f_frsize > (6 << 30) \
            else None
    tmp = tempfile.mkdtemp(prefix="roost-mailstore-bench.", dir=parent)
    os.chmod(tmp, 0o755)
    return tmp


def write_maildir_corpus(top, msgs):
    d = os.path.join(top, "corpus")
    os.makedirs(d)
    names = []
    for i, data in enumerate(msgs):
        flags = ("S" if i % 2 else "") + ("F" if i % 17 == 0 else "") + \
            ("R" if i % 5 == 1 else "")
        flags = "".join(sorted(flags))
        name = "%d.M%dP%d.bench,S=%d,W=%d:2,%s" % (
            1700000000 + i, i, 1000 + i, len(data),
            len(data) + data.count(b"\n"), flags)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
            os.fchown(f.fileno(), UID, UID)
        names.append(name)
    return d, names


def write_mbox(path, msgs):
    with open(path, "wb") as f:
        for i, data in enumerate(msgs):
            f.write(time.strftime("From s%d@example.com %%a %%b %%e "
                                  "%%H:%%M:%%S %%Y\n" % (i % 113),
                                  time.gmtime(1700000000 + i * 60))
                    .encode())
            hdr, body = data.split(b"\n\n", 1)
            st = b"Status: RO\n" if i % 2 else b"Status: O\n"
            f.write(hdr + b"\n" + st + b"\n" + body + b"\n")
    os.chown(path, UID, UID)


class Server:
    def __init__(self, name, top, fmt, src):
        self.name = name
        self.top = os.path.join(top, name)
        self.home = os.path.join(self.top, "home")
        self.fmt = fmt
        os.makedirs(os.path.join(self.top, "run"))
        os.makedirs(self.home)
        if fmt == "maildir":
            cdir, names = src
            md = os.path.join(self.home, "Maildir")
            for d in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(md, d))
            for n in names:
                os.link(os.path.join(cdir, n), os.path.join(md, "cur", n))
            loc = "maildir:~/Maildir"
        else:
            os.makedirs(os.path.join(self.home, "mail"))
            shutil.copyfile(src, os.path.join(self.home, "mbox"))
            loc = "mbox:~/mail:INBOX=~/mbox"
        for path, dirs, files in os.walk(self.home):
            os.chown(path, UID, UID)
            if fmt == "mbox":   # Maildir files: chowned in the corpus
                for n in files:
                    os.chown(os.path.join(path, n), UID, UID)
        self.conf = os.path.join(self.top, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""mail_location = %(loc)s
userdb {
  driver = static
  args = uid=%(uid)d gid=%(uid)d home=%(home)s
}
passdb {
  driver = static
  args = nopassword
}
base_dir = %(top)s/run
log_path = %(top)s/log
state_dir = %(top)s/state
ssl = no
protocols =
first_valid_uid = 1
""" % {"loc": loc, "uid": UID, "home": self.home, "top": self.top})
        os.makedirs(os.path.join(self.top, "state"))
        self.adm = DV_ADM if name == "dovecot" else ROOST_ADM
        self.master = None

    def start(self):
        if self.name != "dovecot":
            return
        subprocess.run([DV_MASTER, "-c", self.conf], check=True,
                       timeout=60)
        deadline = time.time() + 30
        while not os.path.exists(os.path.join(self.top, "run",
                                              "auth-userdb")):
            if time.time() > deadline:
                raise RuntimeError("dovecot did not start: see %s/log"
                                   % self.top)
            time.sleep(0.1)
        self.master = True

    def stop(self):
        if self.master:
            subprocess.run([DV_ADM, "-c", self.conf, "stop"],
                           capture_output=True, timeout=60)
            self.master = None

    def adm_run(self, args):
        """-> (seconds, stdout text, stderr text, rc); seconds is None
        when the run was stopped after STEP_TIMEOUT"""
        t0 = time.perf_counter()
        try:
            p = subprocess.run([self.adm, "-c", self.conf] + args,
                               capture_output=True, timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, "", "stopped after %.0f s" % STEP_TIMEOUT, -1
        t = time.perf_counter() - t0
        return t, p.stdout.decode(errors="replace"), \
            p.stderr.decode(errors="replace"), p.returncode

    def drop_index(self):
        for path, dirs, files in os.walk(self.home):
            for n in files:
                if n.startswith(("dovecot.index", "dovecot.list.index",
                                 "roost.")) or n.endswith(".lock"):
                    os.unlink(os.path.join(path, n))


def normalize(what, out):
    if what == "fetch":
        return "\n".join(ln.replace(" \\Recent", "").replace("\\Recent", "")
                         .rstrip() for ln in out.splitlines())
    return " ".join(ln.split()[-1] for ln in out.splitlines() if ln.strip())


def run_rows(fmt, n, tmp, rows, notes):
    t0 = time.time()
    msgs = corpus(n)
    top = os.path.join(tmp, "%s-%d" % (fmt, n))
    os.makedirs(top)
    if fmt == "maildir":
        src = write_maildir_corpus(top, msgs)
    else:
        src = os.path.join(top, "corpus.mbox")
        write_mbox(src, msgs)
    nbytes = sum(len(m) for m in msgs)
    del msgs
    names = [x for x in ("dovecot", "roost") if not ONLY or x == ONLY]
    servers = {x: Server(x, top, fmt, src) for x in names}
    if fmt == "mbox":
        os.unlink(src)
    notes.append("%s %d: %.1f MB of messages written in %.1f s" % (
        fmt, n, nbytes / 1e6, time.time() - t0))
    outs = {}
    res = {}
    for name, s in servers.items():
        try:
            s.start()
            t, out, err, rc = s.adm_run(["mailbox", "status", "-u", "bench",
                                         "messages", "INBOX"])
            if rc != 0 or not out.strip().endswith("messages=%d" % n):
                notes.append("%s %s %d: mailbox status: rc=%d %s %s" % (
                    name, fmt, n, rc, out.strip()[:200], err.strip()[:300]))
            # a Maildir directory or dovecot-uidlist changed within the
            # last second or two can't be trusted by its mtime: both
            # servers rescan it every time then. Time a mailbox at rest.
            time.sleep(2.1)
            for what, args in (("fetch", FETCH), ("search", SEARCH)):
                s.drop_index()
                t1, out, err, rc = s.adm_run(args)
                if rc != 0:
                    notes.append("%s %s %d %s: rc=%d %s" % (
                        name, fmt, n, what, rc, err.strip()[:300]))
                outs[(name, what)] = normalize(what, out) \
                    if t1 is not None else None
                t2s = []
                for _ in range(repeat(n) if t1 is not None else 0):
                    t2, out2, err, rc = s.adm_run(args)
                    if t2 is None:
                        t2s = []
                        notes.append("%s %s %d %s second: %s" % (
                            name, fmt, n, what, err))
                        break
                    t2s.append(t2)
                    if normalize(what, out2) != outs[(name, what)]:
                        notes.append("WRONG: %s %s %d %s: second run's "
                                     "output differs from the first"
                                     % (name, fmt, n, what))
                res[(name, what)] = (t1 if t1 is not None else -1,
                                     statistics.median(t2s) if t2s else -1)
            # untimed: the dates both take from the files (Maildir:
            # mtime, mbox: the From_ line) must agree too
            t, out, err, rc = s.adm_run(DATES)
            outs[(name, "dates")] = out if t is not None and rc == 0 \
                else None
        finally:
            s.stop()
    if len(names) == 2:
        a, b = outs[("dovecot", "dates")], outs[("roost", "dates")]
        notes.append("date.received %s %d: %s" % (
            fmt, n, "not compared (a run failed)" if a is None or b is None
            else "equal" if a == b else "WRONG: outputs differ"))
    for what in ("fetch", "search"):
        for run, k in (("first", 0), ("second", 1)):
            row = "%s %s %d msgs, %s s" % (what, fmt, n, run)
            vals = [res.get((x, what), (None, None))[k]
                    for x in ("dovecot", "roost")]
            rows.append((row, vals))
        if len(names) == 2:
            a, b = outs[("dovecot", what)], outs[("roost", what)]
            if a is None or b is None:
                notes.append("%s %s %d: outputs not compared (a run was "
                             "stopped)" % (what, fmt, n))
            elif a != b:
                al, bl = a.splitlines(), b.splitlines()
                if what == "search":
                    al, bl = a.split(), b.split()
                diff = next((i for i in range(min(len(al), len(bl)))
                             if al[i] != bl[i]), min(len(al), len(bl)))
                notes.append("WRONG: %s %s %d: outputs differ (dovecot %d "
                             "items, roost %d; first difference at item %d: "
                             "%r vs %r)" % (what, fmt, n, len(al), len(bl),
                                            diff, al[diff:diff + 1],
                                            bl[diff:diff + 1]))
            else:
                cnt = len(a.split()) if what == "search" else \
                    a.count("uid: ")
                notes.append("%s %s %d: outputs equal (%d %s)" % (
                    what, fmt, n, cnt,
                    "UIDs found" if what == "search" else "messages"))
    if not KEEP:
        shutil.rmtree(top, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        print("mailstore-bench: needs root (mail is owned by uid 65534)")
        return 0
    if not os.path.exists(DV_ADM) and ONLY != "roost":
        print("mailstore-bench: no %s" % DV_ADM)
        return 0
    tmp = bench_dir()
    rows, notes = [], []
    t0 = time.time()
    try:
        for n in SIZES:
            for fmt in FORMATS:
                run_rows(fmt, n, tmp, rows, notes)
    finally:
        if not KEEP:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            notes.append("kept %s" % tmp)
    print("mailstore-bench: doveadm fetch 'uid flags size.physical' / "
          "search body %s; first: no index files, second: median of "
          "%s; %d CPUs; %.0f s in all" % (
              WORD, REPEAT or "5 (1 at 100,000)", os.cpu_count(),
              time.time() - t0))
    print("%-36s %10s %10s %8s" % ("", "Dovecot", "Roost", "ratio"))
    for row, (d, r) in rows:
        def fmt(v):
            if v is None:
                return "%10s" % "n/a"
            return "%10.3f" % v if v >= 0 else "%10s" % (
                ">%.0f" % STEP_TIMEOUT)
        if d is None or r is None or r < 0:
            ratio = "%8s" % "-"
        elif d < 0:
            ratio = "%7s" % ("<%.2fx" % (r / STEP_TIMEOUT))
        else:
            ratio = "%7.2fx" % (r / d)
        print("%-36s %s %s %s" % (row, fmt(d), fmt(r), ratio))
    print("(ratio = Roost time / Dovecot time: < 1 means Roost is faster)")
    for n in notes:
        print("  " + n)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main())

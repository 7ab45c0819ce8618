#!/usr/bin/env python3
"""IMAP side by side with Debian's Dovecot on the same machine, same
Maildirs, same passwd-file users, both from temp configs on loopback
ports (never /etc/dovecot or the system service). Prints a table of
Dovecot value, Roost value and ratio.

Rows:
  mix commands/s, logins/s  C clients (threads, raw sockets) each repeating
        LOGIN, SELECT INBOX, FETCH 1:* (FLAGS ENVELOPE), 3 x FETCH n BODY[],
        STORE +FLAGS/-FLAGS \\Seen, APPEND, UID SEARCH UNSEEN, UID STORE
        +FLAGS \\Deleted + UID EXPUNGE of the appended message, LOGOUT on
        their own MSGS-message INBOX for MIX_SECS seconds
  SELECT / FETCH            one client on a BIG-message INBOX: SELECT and
        FETCH 1:* (ENVELOPE BODYSTRUCTURE) in a first session right after
        the server started (cold index), again in a second session; then
        FETCH 1:* (BODY.PEEK[]) twice
  IDLE KB/conn              N imaps connections logged in (100 users),
        INBOX selected, in IDLE; total PSS of every server process / N
Both servers run with their own defaults for the process model (Dovecot:
an imap-login and an imap process per connection); Dovecot also gets an
IDLE row with `service imap-login { service_count = 0 }` (high-performance
mode). Needs root. Env: ROOST, C (20), MSGS (1000), MIX_SECS (15),
BIG (10000), IDLE_N ("1000,10000"; "1000" to skip the big one),
IDLE_SECS (90, per run), DOVECOT_HP (1; 0 to skip), ONLY (dovecot|roost),
KEEP (1 keeps the temp dir), BENCH_DIR (parent of the temp dir; default
/dev/shm if it has 2 GB free)."""
import os
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
C = int(os.environ.get("C", "20"))
MSGS = int(os.environ.get("MSGS", "1000"))
MIX_SECS = float(os.environ.get("MIX_SECS", "15"))
BIG = int(os.environ.get("BIG", "10000"))
IDLE_N = [int(x) for x in os.environ.get("IDLE_N", "1000,10000").split(",")
          if x.strip()]
IDLE_SECS = float(os.environ.get("IDLE_SECS", "90"))
DOVECOT_HP = os.environ.get("DOVECOT_HP", "1") != "0"
ONLY = os.environ.get("ONLY", "")
KEEP = os.environ.get("KEEP", "") == "1"
IDLE_USERS = 100
IDLE_MSGS = 10
UID = 65534
PASSWORD = "secret"
OPENERS = 32          # threads opening IDLE connections


def mem_total_kb():
    with open("/proc/meminfo") as f:
        return int(f.readline().split()[1])


# stop opening IDLE connections when MemAvailable falls below this
MEM_FLOOR_KB = max(4 << 20, mem_total_kb() // 5)

started = []          # (Popen, [(pid, starttime)]) of running servers


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def conf(tmp, name, port, sport, hp):
    limit = 2 * max(IDLE_N + [C]) + 1000
    login_hp = """  service_count = 0
  process_min_avail = %d
""" % (os.cpu_count() or 1) if hp else ""
    return """protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/%(name)s-run
log_path = %(tmp)s/%(name)s.log
state_dir = %(tmp)s/%(name)s-state
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_failure_delay = 0
first_valid_uid = 1
default_process_limit = 1000
default_client_limit = %(climit)d
mail_max_userip_connections = %(limit)d
passdb {
  driver = passwd-file
  args = %(tmp)s/%(home)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/%(home)s/passwd
}
service imap {
  process_limit = %(limit)d
}
service imap-login {
  process_limit = %(limit)d
  client_limit = %(limit)d
%(login_hp)s  inet_listener imap {
    port = %(port)d
  }
  inet_listener imaps {
    port = %(sport)d
  }
}
""" % {"tmp": tmp, "name": name, "port": port, "sport": sport,
       "limit": limit, "climit": 2 * limit + 100, "login_hp": login_hp,
       "home": name.split("-")[0]}


# ---------------------------------------------------------------- processes

def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[1]), fields[19]          # ppid, starttime


def tree_pids(root):
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            ppid = proc_stat(int(pid))[0]
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(pid))
    out, pending = [], [root]
    while pending:
        p = pending.pop()
        out.append(p)
        pending.extend(children.get(p, []))
    return out


def pss_kb(root):
    total, n = 0, 0
    for pid in tree_pids(root):
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        n += 1
                        break
        except OSError:
            pass
    return total, n


def mem_available_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def start_server(cmd, path):
    proc = subprocess.Popen(cmd + ["-F", "-c", path],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    started.append((proc, []))
    return proc


def remember_tree(proc):
    for p, known in started:
        if p is proc:
            for pid in tree_pids(proc.pid):
                try:
                    known.append((pid, proc_stat(pid)[1]))
                except (OSError, IndexError, ValueError):
                    pass


def stop_server(proc):
    """SIGTERM the master, then SIGKILL its process group and any
    process seen in its tree that is still the same process."""
    remember_tree(proc)
    known = []
    for p, k in started:
        if p is proc:
            known = k
    try:
        proc.send_signal(signal.SIGTERM)      # the master stops the rest
    except OSError:
        pass
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    for pid, st in known:
        try:
            if proc_stat(pid)[1] == st:
                os.kill(pid, signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    started[:] = [(p, k) for p, k in started if p is not proc]


def on_signal(signum, frame):
    raise KeyboardInterrupt


# ---------------------------------------------------------------- client

class ImapError(Exception):
    pass


class Imap:
    """Minimal IMAP client over a blocking socket: commands are counted,
    responses are scanned line by line and literals skipped (or kept)."""

    def __init__(self, port, ctx=None, timeout=30):
        s = socket.create_connection(("127.0.0.1", port), timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx is not None:
            s = ctx.wrap_socket(s)
        self.sock = s
        self.buf = bytearray()
        self.pos = 0
        self.n = 0
        self.ops = 0            # commands answered OK
        self.failed = {}        # command name -> [count, first reply]
        self.check = True       # raise on NO/BAD, else record in failed
        line = self._line()
        if not line.startswith(b"* OK"):
            raise ImapError("greeting: %r" % line[:80])

    def _fill(self):
        if self.pos > 262144:
            del self.buf[:self.pos]
            self.pos = 0
        data = self.sock.recv(262144)
        if not data:
            raise ImapError("connection closed")
        self.buf += data

    def _line(self):
        i = self.buf.find(b"\n", self.pos)
        while i < 0:
            start = len(self.buf) - self.pos
            self._fill()
            i = self.buf.find(b"\n", self.pos + max(start - 1, 0))
        line = bytes(self.buf[self.pos:i + 1])
        self.pos = i + 1
        return line

    def response(self, tag, keep=True, name=""):
        """Read up to the tagged reply. Returns (tagged line, untagged text
        or None, literal bytes seen); tagged line None after NO/BAD when
        self.check is off."""
        out = [] if keep else None
        lit = 0
        while True:
            line = self._line()
            if line.endswith(b"}\r\n"):
                b = line.rfind(b"{")
                n = int(line[b + 1:-3])
                while len(self.buf) - self.pos < n:
                    self._fill()
                if keep:
                    out.append(line)
                    out.append(bytes(self.buf[self.pos:self.pos + n]))
                self.pos += n
                lit += n
                continue
            if line.startswith(tag):
                if not line.startswith(tag + b"OK"):
                    text = line.decode("latin-1").strip()[:200]
                    if self.check:
                        raise ImapError(text)
                    f = self.failed.setdefault(name, [0, text])
                    f[0] += 1
                    return None, None, lit
                self.ops += 1
                return line, (b"".join(out) if keep else None), lit
            if keep:
                out.append(line)

    def cmd(self, text, keep=True):
        self.n += 1
        tag = b"a%d " % self.n
        self.sock.sendall(tag + text.encode() + b"\r\n")
        return self.response(tag, keep, cmd_name(text))

    def cmd_literal(self, text, data):
        """text ends with the literal's {n}; wait for the continuation."""
        self.n += 1
        tag = b"a%d " % self.n
        self.sock.sendall(tag + text.encode() + b"\r\n")
        while True:
            line = self._line()
            if line.startswith(b"+"):
                break
            if line.startswith(tag):
                reply = line.decode("latin-1").strip()[:200]
                if self.check:
                    raise ImapError(reply)
                f = self.failed.setdefault(cmd_name(text), [0, reply])
                f[0] += 1
                return None, None, 0
        self.sock.sendall(data + b"\r\n")
        return self.response(tag, True, cmd_name(text))

    def idle(self):
        self.n += 1
        tag = b"a%d " % self.n
        self.sock.sendall(tag + b"IDLE\r\n")
        while True:
            line = self._line()
            if line.startswith(b"+"):
                return
            if line.startswith(tag):
                raise ImapError(line.decode("latin-1").strip()[:200])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def cmd_name(text):
    """UID STORE 5 ... -> UID STORE; FETCH 1:* (FLAGS) -> FETCH (FLAGS);
    APPEND INBOX {n} -> APPEND."""
    w = text.split()
    if w and w[0] == "UID":
        return " ".join(w[:2])
    if w and w[0] == "FETCH" and len(w) > 2:
        return "FETCH " + text.split(None, 2)[2]
    return w[0] if w else ""


def exists(text):
    m = re.search(rb"\* (\d+) EXISTS", text)
    return int(m.group(1)) if m else 0


# ---------------------------------------------------------------- mail

_words = random.Random(2)
LINES = [" ".join(_words.choice(["lorem", "ipsum", "dolor", "sit", "amet",
                                 "mail", "server", "index", "cache",
                                 "folder", "message"]) for _ in range(11))
         for _ in range(400)]


def make_message(i, rng):
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                         time.gmtime(1700000000 + i * 61))
    hdr = ("Return-Path: <sender%d@example.com>\n"
           "From: Sender Number %d <sender%d@example.com>\n"
           "To: Bench User <user@example.org>\n" % (i % 97, i % 97, i % 97))
    if i % 3 == 0:
        hdr += "Cc: \"Someone, Else\" <else%d@example.net>, other@example.net\n" % i
    hdr += ("Subject: bench message %d about %s\n"
            "Date: %s\nMessage-ID: <%d.%d@bench.example.com>\n"
            % (i, rng.choice(["lunch", "the report", "Re: plans",
                              "invoice 42", "holidays"]), date, i, i * 7))
    if i % 4 == 1:
        hdr += "In-Reply-To: <%d.%d@bench.example.com>\n" % (i - 1, i * 7 - 7)
    hdr += "MIME-Version: 1.0\n"
    size = rng.choice([2000, 3000, 4000, 6000, 8000, 12000, 16000, 30000])
    text_lines = []
    n = 0
    while n < size:
        line = rng.choice(LINES)
        text_lines.append(line)
        n += len(line) + 1
    text = "\n".join(text_lines) + "\n"
    if i % 5 == 0:
        b = "=-=bench-%d=-=" % i
        att = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/")
                      for _ in range(76))
        att = "\n".join([att] * 60) + "\n"
        return (hdr + "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
                "This is a multi-part message in MIME format.\n\n"
                "--%s\nContent-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n\n%s\n--%s\n"
                "Content-Type: application/octet-stream; name=\"a%d.bin\"\n"
                "Content-Disposition: attachment; filename=\"a%d.bin\"\n"
                "Content-Transfer-Encoding: base64\n\n%s\n--%s--\n"
                % (b, b, text, b, i, i, att, b))
    if i % 7 == 0:
        b = "=-=alt-%d=-=" % i
        return (hdr + "Content-Type: multipart/alternative; boundary=\"%s\"\n\n"
                "--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s\n"
                "--%s\nContent-Type: text/html; charset=us-ascii\n\n"
                "<html><body><p>%s</p></body></html>\n\n--%s--\n"
                % (b, b, text, b, text.replace("\n", "<br>\n"), b))
    return hdr + "Content-Type: text/plain; charset=us-ascii\n\n" + text


def write_corpus(tmp):
    """BIG messages once, in tmp/corpus; each server's Maildirs get hard
    links (Maildir files are never written in place), so both servers read
    identical files from the page cache."""
    rng = random.Random(1)
    corpus = tmp + "/corpus"
    os.makedirs(corpus)
    names = []
    for i in range(max(BIG, MSGS, IDLE_MSGS)):
        data = make_message(i, rng).encode()
        flags = "S" if rng.random() < 0.5 else ""
        name = "%d.M%dP%d.bench,S=%d,W=%d:2,%s" % (
            1700000000 + i, i, 1000 + i, len(data),
            len(data) + data.count(b"\n"), flags)
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data)
        os.chown(os.path.join(corpus, name), UID, UID)
        names.append(name)
    return names


def make_homes(tmp, server, names):
    """tmp/server/: passwd and one home per user: mixK (MSGS messages),
    big (BIG), idleK (IDLE_MSGS)."""
    top = os.path.join(tmp, server)
    users = [("mix%d" % k, MSGS) for k in range(C)] + [("big", BIG)] + \
        [("idle%d" % k, IDLE_MSGS) for k in range(IDLE_USERS)]
    with open(top + ".passwd.tmp", "w") as f:
        for user, _ in users:
            f.write("%s:{PLAIN}%s:%d:%d::%s/home/%s::\n"
                    % (user, PASSWORD, UID, UID, top, user))
    for user, count in users:
        home = "%s/home/%s" % (top, user)
        for d in ("new", "cur", "tmp"):
            os.makedirs(home + "/Maildir/" + d)
        for name in names[:count]:
            os.link(os.path.join(tmp, "corpus", name),
                    home + "/Maildir/cur/" + name)
        for d in (home, home + "/Maildir", home + "/Maildir/new",
                  home + "/Maildir/cur", home + "/Maildir/tmp"):
            os.chown(d, UID, UID)
    os.chown(top + "/home", 0, 0)
    os.rename(top + ".passwd.tmp", top + "/passwd")


def wait_port(port, proc):
    for _ in range(300):
        if proc.poll() is not None:
            break
        try:
            s = socket.create_connection(("127.0.0.1", port), 1)
            s.settimeout(5)
            if s.recv(100).startswith(b"* OK"):
                s.close()
                return True
            s.close()
        except OSError:
            pass
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- rows

APPEND_MSG = (b"From: bench@example.com\r\nTo: mix@example.org\r\n"
              b"Subject: appended\r\nMessage-ID: <%s@append.example>\r\n\r\n"
              + b"appended body line\r\n" * 40)


def mix_session(port, user, rng, stats):
    """One session; a NO or BAD is counted and the session goes on (a
    server that lacks a command still gets the rest measured)."""
    c = Imap(port)
    c.check = False
    try:
        if c.cmd("LOGIN %s %s" % (user, PASSWORD))[0] is None:
            return
        stats["logins"] += 1
        _, text, _ = c.cmd("SELECT INBOX")
        n = max(exists(text or b""), 1)
        c.cmd("FETCH 1:* (FLAGS ENVELOPE)", keep=False)
        for _ in range(3):
            c.cmd("FETCH %d BODY[]" % rng.randint(1, n), keep=False)
        c.cmd("STORE %d +FLAGS (\\Seen)" % rng.randint(1, n), keep=False)
        c.cmd("STORE %d -FLAGS (\\Seen)" % rng.randint(1, n), keep=False)
        token = b"%d.%d" % (rng.getrandbits(40), time.monotonic_ns())
        msg = APPEND_MSG % token
        tagged, _, _ = c.cmd_literal("APPEND INBOX {%d}" % len(msg), msg)
        uid = None
        m = re.search(rb"\[APPENDUID \d+ (\d+)\]", tagged or b"")
        if m:
            uid = int(m.group(1))
        elif tagged:    # no UIDPLUS answer: find it
            c.cmd("NOOP", keep=False)
            _, text, _ = c.cmd("UID SEARCH HEADER Message-ID %s"
                               % token.decode())
            m = re.search(rb"\* SEARCH (\d+)", text or b"")
            uid = int(m.group(1)) if m else None
        c.cmd("UID SEARCH UNSEEN", keep=False)
        if uid:
            c.cmd("UID STORE %d +FLAGS.SILENT (\\Deleted)" % uid,
                  keep=False)
            c.cmd("UID EXPUNGE %d" % uid, keep=False)
        c.cmd("LOGOUT", keep=False)
    finally:
        stats["ops"] += c.ops
        for k, (count, first) in c.failed.items():
            f = stats["failed"].setdefault(k, [0, first])
            f[0] += count
        c.close()


def run_mix(port, secs):
    """C threads, each its own user, sessions until the deadline."""
    lock = threading.Lock()
    total = {"ops": 0, "logins": 0, "errors": 0, "first_error": "",
             "failed": {}}
    stop = time.monotonic() + secs

    def worker(k):
        rng = random.Random(k)
        stats = {"ops": 0, "logins": 0, "failed": {}}
        errors, first, sessions = 0, "", 0
        while time.monotonic() < stop or sessions == 0:
            sessions += 1
            try:
                mix_session(port, "mix%d" % k, rng, stats)
            except (OSError, ImapError, ValueError, AttributeError) as e:
                errors += 1
                first = first or "%s: %s" % (type(e).__name__, e)
                if errors > 50:
                    break
        with lock:
            total["ops"] += stats["ops"]
            total["logins"] += stats["logins"]
            total["errors"] += errors
            total["first_error"] = total["first_error"] or first
            for name, (count, text) in stats["failed"].items():
                f = total["failed"].setdefault(name, [0, text])
                f[0] += count

    threads = [threading.Thread(target=worker, args=(k,), daemon=True)
               for k in range(C)]
    cpu = time.process_time()
    t = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(secs + 120)
    elapsed = time.monotonic() - t
    total["elapsed"] = elapsed
    total["client_cpu"] = (time.process_time() - cpu) / elapsed
    return total


def run_fetch(port):
    res = {}
    c = Imap(port, timeout=300)
    c.cmd("LOGIN big %s" % PASSWORD)
    for run in ("first", "second"):
        if run == "second":
            c.cmd("LOGOUT", keep=False)
            c.close()
            c = Imap(port, timeout=300)
            c.cmd("LOGIN big %s" % PASSWORD)
        t = time.monotonic()
        _, text, _ = c.cmd("SELECT INBOX")
        res["SELECT %d msgs, %s ms" % (BIG, run)] = \
            (time.monotonic() - t) * 1000
        n = exists(text)
        t = time.monotonic()
        c.cmd("FETCH 1:* (ENVELOPE BODYSTRUCTURE)", keep=False)
        res["FETCH ENVELOPE BODYSTRUCTURE msgs/s, %s" % run] = \
            n / (time.monotonic() - t)
    for run in ("first", "second"):
        t = time.monotonic()
        _, _, lit = c.cmd("FETCH 1:* (BODY.PEEK[])", keep=False)
        res["FETCH BODY.PEEK[] MB/s, %s" % run] = \
            lit / (time.monotonic() - t) / 1e6
    c.cmd("LOGOUT", keep=False)
    c.close()
    return res


def run_idle(sport, root, n, base_procs):
    """Open n imaps connections (LOGIN idleK, SELECT INBOX, IDLE) with
    OPENERS threads; PSS of root's process tree once all are idle.
    Stops early on low memory, the time limit or repeated errors."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conns = []
    lock = threading.Lock()
    state = {"next": 0, "errors": 0, "first_error": "", "stop": ""}
    deadline = time.monotonic() + IDLE_SECS

    def opener():
        while True:
            with lock:
                if state["stop"] or state["next"] >= n:
                    return
                k = state["next"]
                state["next"] += 1
            c = None
            try:
                c = Imap(sport, ctx)
                c.cmd("LOGIN idle%d %s" % (k % IDLE_USERS, PASSWORD),
                      keep=False)
                c.cmd("SELECT INBOX", keep=False)
                c.idle()
                with lock:
                    conns.append(c)
            except (OSError, ImapError, ValueError) as e:
                if c is not None:
                    c.close()
                with lock:
                    state["errors"] += 1
                    state["first_error"] = state["first_error"] or \
                        "%s: %s" % (type(e).__name__, e)
                    if state["errors"] > max(20, n // 100):
                        state["stop"] = "too many errors (%s)" % \
                            state["first_error"]

    threads = [threading.Thread(target=opener, daemon=True)
               for _ in range(OPENERS)]
    t = time.monotonic()
    cpu = time.process_time()
    for th in threads:
        th.start()
    while any(th.is_alive() for th in threads):
        time.sleep(0.2)
        if mem_available_kb() < MEM_FLOOR_KB and not state["stop"]:
            state["stop"] = "MemAvailable fell below %d MB" % \
                (MEM_FLOOR_KB >> 10)
        if time.monotonic() > deadline and not state["stop"]:
            state["stop"] = "IDLE_SECS=%d s passed" % IDLE_SECS
    open_secs = time.monotonic() - t
    client_cpu = (time.process_time() - cpu) / max(open_secs, 0.001)
    if state["next"] >= n and len(conns) + state["errors"] >= n:
        state["stop"] = ""          # everything was tried
    time.sleep(2)
    pss, procs = pss_kb(root)
    res = {"n": len(conns), "pss": pss, "procs": procs, "secs": open_secs,
           "client_cpu": client_cpu,
           "stop": state["stop"], "errors": state["errors"],
           "first_error": state["first_error"]}
    for c in conns:
        c.close()
    # let the server wind down before the next run (bounded): until its
    # process count is back or has not moved for 2 s
    last, same = procs, 0
    for _ in range(120):
        cur = len(tree_pids(root))
        if cur <= base_procs + 2:
            break
        same = same + 1 if cur >= last else 0
        if same >= 4:
            break
        last = cur
        time.sleep(0.5)
    return res


# ---------------------------------------------------------------- main

def fits(prev, n, base, base_procs):
    """Why n connections would not fit, judged from the previous run,
    or "" if they should."""
    if not prev["n"]:
        return "the previous run opened no connection"
    per_kb = (prev["pss"] - base) / prev["n"]
    need = per_kb * n - (prev["pss"] - base)
    room = mem_available_kb() - MEM_FLOOR_KB
    if need > room:
        return ("%.0f KB/conn at N=%d projects %.1f GB more PSS, %.1f GB"
                " available above the %.1f GB floor"
                % (per_kb, prev["n"], need / 2**20, room / 2**20,
                   MEM_FLOOR_KB / 2**20))
    rate = prev["n"] / max(prev["secs"], 0.001)
    if n / rate > IDLE_SECS:
        return ("opening ran at %.0f connections/s at N=%d: %d would take"
                " about %.0f s, over IDLE_SECS=%.0f"
                % (rate, prev["n"], n, n / rate, IDLE_SECS))
    per_proc = (prev["procs"] - base_procs) / prev["n"]
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    tasks = sum(1 for p in os.listdir("/proc") if p.isdigit())
    if tasks + per_proc * n > pid_max - 2000:
        return ("%.1f processes/conn would need %d processes; pid_max is %d"
                " and %d are running" % (per_proc, per_proc * n, pid_max,
                                         tasks))
    return ""


def bench_server(tmp, name, cmd, hp=False):
    port, sport = free_port(), free_port()
    path = "%s/%s.conf" % (tmp, name)
    with open(path, "w") as f:
        f.write(conf(tmp, name, port, sport, hp))
    proc = start_server(cmd, path)
    res, notes = {}, []
    try:
        if not wait_port(port, proc):
            try:
                with open("%s/%s.log" % (tmp, name), errors="replace") as f:
                    tail = [x.strip() for x in f.readlines()[-3:]]
            except OSError:
                tail = []
            return None, ["%s: no IMAP greeting on port %d%s; log: %s"
                          % (name, port, " (server exited %s)" % proc.returncode
                             if proc.poll() is not None else "",
                             " | ".join(tail) or "(empty)")]
        remember_tree(proc)
        if not hp:
            try:
                run_mix(port, 0)        # warm-up: one session per client
                m = run_mix(port, MIX_SECS)
                res["mix commands/s"] = m["ops"] / m["elapsed"]
                res["mix logins/s"] = m["logins"] / m["elapsed"]
                notes.append("%s mix: %d commands, %d logins in %.1f s,"
                             " client CPU %.0f%% of one core, %d errors%s"
                             % (name, m["ops"], m["logins"], m["elapsed"],
                                m["client_cpu"] * 100, m["errors"],
                                " (first: %s)" % m["first_error"]
                                if m["errors"] else ""))
                for cname, (count, text) in sorted(m["failed"].items()):
                    notes.append("%s mix: %d x %s failed (not counted),"
                                 " first: %s" % (name, count, cname, text))
                if m["failed"]:         # marked * in the table
                    res.setdefault("*", []).extend(["mix commands/s",
                                                    "mix logins/s"])
            except Exception as e:      # a broken row, not a broken run
                notes.append("%s mix failed: %s: %s"
                             % (name, type(e).__name__, e))
            try:
                res.update(run_fetch(port))
            except Exception as e:
                notes.append("%s SELECT/FETCH failed: %s: %s"
                             % (name, type(e).__name__, e))
        base, base_procs = pss_kb(proc.pid)
        notes.append("%s idle server before IDLE runs: %d processes, PSS %d"
                     " KB" % (name, base_procs, base))
        suffix = " (login service_count=0)" if hp else ""
        prev = None
        for n in IDLE_N:
            key = "IDLE KB/conn, N=%d%s" % (n, suffix)
            skip = prev and fits(prev, n, base, base_procs)
            if skip:
                res[key] = None
                notes.append("%s IDLE N=%d: not attempted: %s"
                             % (name, n, skip))
                continue
            try:
                r = run_idle(sport, proc.pid, n, base_procs)
            except Exception as e:
                res[key] = None
                notes.append("%s IDLE N=%d failed: %s: %s"
                             % (name, n, type(e).__name__, e))
                break
            prev = r
            remember_tree(proc)
            ok = r["n"] == n
            res[key] = r["pss"] / r["n"] if r["n"] else None
            if not ok:
                res.setdefault("*", []).append(key)
            notes.append("%s IDLE N=%d: %d connections open in %.1f s"
                         " (client CPU %.0f%%), %d processes, PSS %d KB%s%s"
                         % (name, n, r["n"], r["secs"], r["client_cpu"] * 100,
                            r["procs"], r["pss"],
                            (", %d errors (first: %s)"
                             % (r["errors"], r["first_error"]))
                            if r["errors"] else "",
                            "; stopped: " + r["stop"] if r["stop"] else ""))
            if not ok:
                notes.append("%s IDLE N=%d: incomplete: the row is PSS / %d,"
                             " the connections that opened"
                             % (name, n, r["n"]))
    finally:
        stop_server(proc)
    return res, notes


def log_problems(tmp, name):
    try:
        with open("%s/%s.log" % (tmp, name), errors="replace") as f:
            bad = [line for line in f
                   if re.search(r"\b(Error|Fatal|Panic)\b", line)]
    except OSError:
        return []
    if not bad:
        return []
    return ["%s log: %d error lines, first: %s"
            % (name, len(bad), bad[0].strip()[:200])]


def bench_dir():
    """BENCH_DIR, else /dev/shm when it has 2 GB free: the corpus is some
    hundred MB in tens of thousands of files, and removing them from a
    disk that discards on unlink takes a minute; else the default."""
    if os.environ.get("BENCH_DIR"):
        return os.environ["BENCH_DIR"]
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize > 2 << 30:
            return "/dev/shm"
    except OSError:
        pass
    return None


def main():
    if os.geteuid() != 0:
        print("imap-bench: needs root (skipped)")
        return 0
    signal.signal(signal.SIGTERM, on_signal)
    nofile = 4 * max(IDLE_N + [C]) + 10000
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < nofile:
        try:            # raising the hard limit needs CAP_SYS_RESOURCE
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        except (ValueError, OSError):
            nofile = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    print("imap-bench: RLIMIT_NOFILE %d (client and servers)" % nofile,
          flush=True)
    tmp = tempfile.mkdtemp(prefix="roost-imapbench.", dir=bench_dir())
    os.chmod(tmp, 0o755)
    servers = [("dovecot", ["dovecot"], False)]
    if DOVECOT_HP:
        servers.append(("dovecot-hp", ["dovecot"], True))
    servers.append(("roost", [os.path.join(BIN, "dovecot")], False))
    if ONLY:
        servers = [s for s in servers
                   if ONLY in (s[0], s[0].split("-")[0])]
    results, notes, failed = {}, [], []
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-keyout", tmp + "/key.pem", "-out",
                        tmp + "/cert.pem"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.monotonic()
        names = write_corpus(tmp)
        for home in sorted({name.split("-")[0] for name, _, _ in servers}):
            make_homes(tmp, home, names)
        print("imap-bench: %d messages written, homes linked in %.1f s"
              % (len(names), time.monotonic() - t), flush=True)
        for name, cmd, hp in servers:
            t = time.monotonic()
            res, n = bench_server(tmp, name, cmd, hp)
            notes += n + log_problems(tmp, name)
            if res is None:
                failed.append(name)
                res = {}
            results[name] = res
            print("imap-bench: %s done in %.0f s" % (name, time.monotonic() - t),
                  flush=True)
    except KeyboardInterrupt:
        print("imap-bench: interrupted", file=sys.stderr)
        failed.append("interrupted")
    finally:
        for proc, _ in list(started):
            stop_server(proc)
        if KEEP:
            print("imap-bench: temp dir kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report(results, notes)
    return 1 if failed else 0


def report(results, notes):
    d_all = dict(results.get("dovecot", {}))
    for k, v in results.get("dovecot-hp", {}).items():
        d_all[k] = v
    r_all = results.get("roost", {})
    keys = list(d_all)
    for k in r_all:
        if k not in d_all:
            keys.append(k)
    for k in list(keys):
        if k.endswith("(login service_count=0)"):
            base = k[:-len(" (login service_count=0)")]
            if base in r_all:
                r_all[k] = r_all[base]
    print("%-48s %11s %11s %8s" % ("IMAP (C=%d, MSGS=%d, BIG=%d)"
                                   % (C, MSGS, BIG), "Dovecot", "Roost",
                                   "ratio"))

    marked = set(d_all.pop("*", []) + r_all.pop("*", []))
    keys = [k for k in keys if k != "*"]

    def fmt(v):
        return "%11.1f" % v if v is not None else "%11s" % "n/a"
    for k in keys:
        d, r = d_all.get(k), r_all.get(k)
        ratio = "%7.2fx" % (r / d) if d and r is not None else "%8s" % "-"
        print("%-48s %s %s %s%s" % (k, fmt(d), fmt(r), ratio,
                                    " *" if k in marked else ""))
    print("(ratio = Roost / Dovecot: > 1 is better for /s rows, < 1 is better"
          " for ms and KB rows)")
    if marked:
        print("(* incomplete: some commands failed or not all N connections"
              " opened; see the notes)")
    for n in notes:
        print("  " + n)


if __name__ == "__main__":
    sys.exit(main())

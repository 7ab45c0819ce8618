#!/usr/bin/env python3
"""A QRESYNC reconnect (RFC 7162) of a big mailbox, Roost side by side
with Debian's Dovecot: same Maildir (hard links of the same files), same
passwd-file user, both from temp configs on loopback ports (never
/etc/dovecot or the system service).

For each server: N messages (env N, default 100,000) are written as
Maildir files directly (no delivery: seconds, not minutes), the server
starts and indexes them at the first SELECT (timed: "first SELECT");
the client records UIDVALIDITY and HIGHESTMODSEQ; another session makes
10 changes (6 flag changes, 2 expunges, 2 appends); the client comes back
with `SELECT INBOX (QRESYNC (uidvalidity modseq 1:N))` (timed, median of
REPEAT=3, and its response bytes counted). The reply must hold exactly
the 2 expunged UIDs in VANISHED (EARLIER) and the 6 changed messages as
FETCH (the appended ones come as EXISTS): otherwise the row says
"WRONG". A full `UID FETCH 1:* (FLAGS)` resync is timed too, for scale.

Never asserts (exit 0), except when a server can't be started. Needs
root. Env: ROOST, N, REPEAT, ONLY (dovecot|roost), KEEP=1, BENCH_DIR."""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
N = int(os.environ.get("N", "100000"))
REPEAT = int(os.environ.get("REPEAT", "3"))
ONLY = os.environ.get("ONLY", "")
KEEP = os.environ.get("KEEP", "") == "1"
UID = 65534
STEP_TIMEOUT = 300      # seconds any one step may take
# the changed messages, spread over the mailbox (N >= 100)
FLAG_UIDS = [7, N // 100, N // 4, N // 2 + 1, N * 7 // 9, N - 10]
EXPUNGE_UIDS = [12, N * 3 // 5]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bench_dir():
    parent = os.environ.get("BENCH_DIR")
    if not parent:
        st = os.statvfs("/dev/shm") if os.path.isdir("/dev/shm") else None
        parent = "/dev/shm" if st and st.f_bavail * st.f_frsize > (1 << 30) \
            else None
    return tempfile.mkdtemp(prefix="roost-qresync-bench.", dir=parent)


def write_corpus(tmp, n):
    corpus = os.path.join(tmp, "corpus")
    os.makedirs(corpus)
    names = []
    for i in range(n):
        data = (b"From: a%d@example.com\nTo: b@example.org\nSubject: "
                b"message %d\nMessage-ID: <%d@bench>\n\nbody %d\n"
                % (i % 97, i, i, i))
        name = "%d.M%dP%d.bench,S=%d,W=%d:2,%s" % (
            1700000000 + i, i, 1000 + i, len(data),
            len(data) + data.count(b"\n"), "S" if i % 3 else "")
        path = os.path.join(corpus, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chown(path, UID, UID)
        names.append(name)
    return names


def make_home(tmp, server, names):
    top = os.path.join(tmp, server)
    home = os.path.join(top, "home")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(home, "Maildir", d))
    for name in names:
        os.link(os.path.join(tmp, "corpus", name),
                os.path.join(home, "Maildir", "cur", name))
    for d in (home, home + "/Maildir", home + "/Maildir/new",
              home + "/Maildir/cur", home + "/Maildir/tmp"):
        os.chown(d, UID, UID)
    with open(os.path.join(top, "passwd"), "w") as f:
        f.write("q:{PLAIN}secret:%d:%d::%s::\n" % (UID, UID, home))
    port = free_port()
    conf = os.path.join(top, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("""protocols = imap
listen = 127.0.0.1
base_dir = %(top)s/run
log_path = %(top)s/log
state_dir = %(top)s/state
mail_location = maildir:~/Maildir
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = %(top)s/passwd
}
userdb {
  driver = passwd-file
  args = %(top)s/passwd
}
service imap-login {
  inet_listener imap {
    port = %(port)d
  }
}
""" % {"top": top, "port": port})
    os.makedirs(os.path.join(top, "state"))
    return conf, port


class Imap:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), 30)
        self.sock.settimeout(STEP_TIMEOUT)
        self.buf = b""
        self.n = 0
        self.rx = 0
        self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed")
            self.rx += len(chunk)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, text, literal=None):
        """-> (lines, bytes received for the reply)"""
        self.n += 1
        tag = b"q%d" % self.n
        rx0 = self.rx - len(self.buf)
        if literal is None:
            self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        else:
            self.sock.sendall(tag + b" " + text.encode() + b" {%d+}\r\n"
                              % len(literal) + literal + b"\r\n")
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if ln.startswith(tag + b" "):
                if not ln.startswith(tag + b" OK"):
                    raise RuntimeError("%s: %s" % (text, ln.decode()))
                return out, self.rx - len(self.buf) - rx0

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (OSError, EOFError, RuntimeError):
            pass
        self.sock.close()


def login(port):
    c = Imap(port)
    c.cmd("LOGIN q secret")
    return c


def wait_port(port, proc):
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        try:
            s = socket.create_connection(("127.0.0.1", port), 1)
            s.settimeout(5)
            ok = s.recv(100).startswith(b"* OK")
            s.close()
            if ok:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def stop(proc):
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def bench(name, master, conf, port):
    proc = subprocess.Popen([master, "-F", "-c", conf],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if not wait_port(port, proc):
            raise SystemExit("%s did not start (%s)" % (name, conf))
        res = {}
        c = login(port)
        c.cmd("ENABLE QRESYNC")
        t0 = time.time()
        lines, _ = c.cmd("SELECT INBOX")
        res["first"] = time.time() - t0
        text = b"\n".join(lines).decode()
        uidvalidity = int(re.search(r"UIDVALIDITY (\d+)", text).group(1))
        modseq = int(re.search(r"HIGHESTMODSEQ (\d+)", text).group(1))
        c.close()

        o = login(port)
        o.cmd("SELECT INBOX")
        for i, uid in enumerate(FLAG_UIDS):
            o.cmd("UID STORE %d +FLAGS (%s)" % (
                uid, "\\Flagged" if i % 2 else "\\Answered"))
        o.cmd("UID STORE %s +FLAGS.SILENT (\\Deleted)"
              % ",".join(map(str, EXPUNGE_UIDS)))
        o.cmd("UID EXPUNGE %s" % ",".join(map(str, EXPUNGE_UIDS)))
        for i in range(2):
            o.cmd("APPEND INBOX", b"Subject: new %d\r\n\r\nnew\r\n" % i)
        o.close()

        times, sizes, wrong = [], [], []
        for _ in range(REPEAT):
            t0 = time.time()
            c = login(port)
            c.cmd("ENABLE QRESYNC")
            t1 = time.time()
            lines, size = c.cmd("SELECT INBOX (QRESYNC (%d %d 1:%d))"
                                % (uidvalidity, modseq, N))
            times.append(time.time() - t1)
            res.setdefault("reconnect", []).append(time.time() - t0)
            sizes.append(size)
            text = [ln.decode() for ln in lines]
            vanished = [x for x in text if x.startswith("* VANISHED")]
            fetched = sorted(int(m.group(1)) for m in
                             (re.match(r"\* \d+ FETCH \(UID (\d+)", x)
                              for x in text) if m)
            if vanished != ["* VANISHED (EARLIER) %s"
                            % ",".join(map(str, EXPUNGE_UIDS))] or \
                    fetched != sorted(FLAG_UIDS) or \
                    not [x for x in text if x == "* %d EXISTS" % N]:
                wrong.append(text[:20])
            c.close()
        c = login(port)
        c.cmd("SELECT INBOX")
        t0 = time.time()
        _, full = c.cmd("UID FETCH 1:* (FLAGS)")
        res["full"] = time.time() - t0
        res["full_bytes"] = full
        c.close()
        res["qresync"] = statistics.median(times)
        res["reconnect"] = statistics.median(res["reconnect"])
        res["bytes"] = statistics.median(sizes)
        res["wrong"] = wrong
        return res
    finally:
        stop(proc)


def main():
    if os.geteuid() != 0:
        print("qresync-bench: needs root; skipped")
        return 0
    servers = []
    if ONLY in ("", "dovecot"):
        servers.append(("dovecot", shutil.which("dovecot") or
                        "/usr/sbin/dovecot"))
    if ONLY in ("", "roost"):
        servers.append(("roost", os.path.join(BIN, "dovecot")))
    tmp = bench_dir()
    os.chmod(tmp, 0o755)
    try:
        t0 = time.time()
        names = write_corpus(tmp, N)
        print("qresync-bench: %d messages written in %.1f s; 10 changes "
              "(6 flags, 2 expunges, 2 appends); median of %d reconnects; "
              "%d CPUs" % (N, time.time() - t0, REPEAT, os.cpu_count() or 1))
        results = {}
        for name, master in servers:
            if not os.access(master, os.X_OK):
                print("qresync-bench: no %s, skipped" % master)
                continue
            conf, port = make_home(tmp, name, names)
            results[name] = bench(name, master, conf, port)
        report(results)
    finally:
        if KEEP:
            print("qresync-bench: kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(results):
    d, r = results.get("dovecot"), results.get("roost")
    rows = [("first SELECT (index build), s", "first", "%.2f"),
            ("QRESYNC SELECT, ms", "qresync", "%.1f"),
            ("reconnect (connect+LOGIN+ENABLE+SELECT), ms", "reconnect",
             "%.1f"),
            ("QRESYNC SELECT reply, bytes", "bytes", "%d"),
            ("full UID FETCH 1:* (FLAGS), s", "full", "%.2f"),
            ("full UID FETCH reply, bytes", "full_bytes", "%d")]
    print("%-46s %12s %12s %8s" % ("", "dovecot", "roost", "ratio"))
    for label, key, fmt in rows:
        def val(res):
            if res is None:
                return None
            v = res[key]
            return v * 1000 if key in ("qresync", "reconnect") else v
        dv, rv = val(d), val(r)
        ratio = "%.2f" % (rv / dv) if dv and rv else "-"
        print("%-46s %12s %12s %8s" % (label, fmt % dv if dv is not None
                                       else "-", fmt % rv if rv is not None
                                       else "-", ratio))
    for name, res in results.items():
        if res["wrong"]:
            print("WRONG: %s's QRESYNC reply was not the 10 changes: %s"
                  % (name, res["wrong"][0]))
    print("(ratio: roost / dovecot; below 1 is faster or smaller for Roost)")


if __name__ == "__main__":
    sys.exit(main())

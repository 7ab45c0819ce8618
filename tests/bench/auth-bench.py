#!/usr/bin/env python3
"""auth-bench.py - authentications per second through the auth-client
socket, Roost against Debian's Dovecot 2.3 on the same machine and the
same config (passwd-file passdb/userdb, no auth cache).

For each password scheme (PLAIN, SHA512-CRYPT) it sends a fixed number
of AUTH PLAIN requests over N parallel client connections, each keeping
a window of requests in flight, and reports the rate of each server and
the ratio Roost/Dovecot. Afterwards it sums the resident memory (VmRSS)
of the auth processes: `roost auth` and its workers, Dovecot's auth and
auth-worker processes. Benchmarks don't assert: the exit status is 0
unless a server could not be started.

usage: python3 tests/bench/auth-bench.py [--conns 4] [--window 8]
           [--plain 2000] [--crypt 300] [--repeat 3] [--only roost|dovecot]
  ROOST=path (default build/bin/roost), DOVECOT=path (/usr/sbin/dovecot)
"""
import argparse
import base64
import os
import selectors
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
USERS_PER_SCHEME = 50

CONF = """base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/auth.log
protocols =
ssl = no
auth_mechanisms = plain
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = {shared}/users
}}
userdb {{
  driver = passwd-file
  args = {shared}/users
}}
"""


def make_hash(scheme, pw):
    out = subprocess.run([DOVEADM, "pw", "-s", scheme, "-p", pw],
                         capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "LC_ALL": "C",
                              "HOME": "/nonexistent"})
    return out.stdout.strip()


def write_users(shared):
    """pN users with {PLAIN} passwords, cN users with {SHA512-CRYPT}."""
    crypt = make_hash("SHA512-CRYPT", "benchpw")
    with open(os.path.join(shared, "users"), "w") as f:
        for i in range(USERS_PER_SCHEME):
            f.write("p%d:{PLAIN}benchpw:1000:1000::/nonexistent::\n" % i)
            f.write("c%d:%s:1000:1000::/nonexistent::\n" % (i, crypt))
    os.chmod(os.path.join(shared, "users"), 0o644)


class Server:
    def __init__(self, kind, top, shared):
        self.kind = kind
        self.dir = os.path.join(top, kind)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(dir=self.dir, shared=shared))
        self.sock = os.path.join(self.dir, "run", "auth-client")
        self.proc = None

    def start(self):
        argv = ([DOVECOT, "-F", "-c", self.conf] if self.kind == "dovecot"
                else [ROOST, "auth", "-c", self.conf])
        self.log = open(os.path.join(self.dir, "stdout.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.sock):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("%s did not start: %s" % (self.kind, self.logs()))

    def logs(self):
        text = ""
        for name in ("stdout.log", "auth.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text += f.read()[-2000:]
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def auth_processes(self):
        """(pid, name) of the auth processes: roost auth and its forked
        workers; Dovecot's auth and auth-worker children of its master."""
        procs = process_table()
        if self.kind == "roost":
            return [(p, "roost auth" if p == self.proc.pid else "worker")
                    for p in descendants(procs, self.proc.pid,
                                         include_self=True)]
        out = []
        for p in descendants(procs, self.proc.pid):
            name = procs[p][1]
            if name in ("dovecot/auth", "dovecot/auth-worker"):
                out.append((p, name))
        return out


def process_table():
    """pid -> (ppid, argv[0])"""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv0 = f.read().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        table[int(d)] = (ppid, argv0.strip())
    return table


def descendants(procs, root, include_self=False):
    out = [root] if include_self and root in procs else []
    pending = [root]
    while pending:
        parent = pending.pop()
        for pid, (ppid, _) in procs.items():
            if ppid == parent:
                out.append(pid)
                pending.append(pid)
    return out


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Client:
    """One auth-client connection with a window of requests in flight."""

    def __init__(self, path, cpid, prefix):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        while b"\nDONE\n" not in self.buf:
            data = self.s.recv(4096)
            if not data:
                raise RuntimeError("closed during handshake")
            self.buf += data
        self.buf = self.buf.split(b"\nDONE\n", 1)[1]
        self.s.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % cpid)
        self.s.setblocking(False)
        self.prefix = prefix
        self.next_id = 1
        self.inflight = 0
        self.ok = self.failed = 0

    def send_requests(self, count, user_base):
        lines = []
        for _ in range(count):
            user = "%s%d" % (self.prefix, (user_base + self.next_id)
                             % USERS_PER_SCHEME)
            resp = base64.b64encode(b"\0%s\0benchpw" % user.encode())
            lines.append(b"AUTH\t%d\tPLAIN\tservice=smtp\tnologin\t"
                         b"secured\tresp=%s\n" % (self.next_id, resp))
            self.next_id += 1
        self.s.setblocking(True)
        self.s.sendall(b"".join(lines))
        self.s.setblocking(False)
        self.inflight += count

    def read_replies(self):
        try:
            data = self.s.recv(65536)
        except BlockingIOError:
            return 0
        if not data:
            raise RuntimeError("server closed the connection")
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            if line.startswith(b"OK\t"):
                self.ok += 1
            else:
                self.failed += 1
        self.inflight -= len(lines)
        return len(lines)


def run_load(path, prefix, total, conns, window, cpid_base):
    """Send total requests over conns connections; returns (secs, ok,
    failed)."""
    clients = [Client(path, cpid_base + i, prefix) for i in range(conns)]
    sel = selectors.DefaultSelector()
    for c in clients:
        sel.register(c.s, selectors.EVENT_READ, c)
    to_send = total
    done = 0
    start = time.monotonic()
    for i, c in enumerate(clients):
        n = min(window, to_send)
        c.send_requests(n, i * 7)
        to_send -= n
    while done < total:
        events = sel.select(timeout=60)
        if not events:
            raise RuntimeError("no reply for 60 s")
        for key, _ in events:
            c = key.data
            done += c.read_replies()
            n = min(window - c.inflight, to_send)
            if n > 0:
                c.send_requests(n, 0)
                to_send -= n
    secs = time.monotonic() - start
    ok = sum(c.ok for c in clients)
    failed = sum(c.failed for c in clients)
    for c in clients:
        sel.unregister(c.s)
        c.s.close()
    return secs, ok, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--plain", type=int, default=2000)
    ap.add_argument("--crypt", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per measurement; the median is reported")
    ap.add_argument("--only", choices=("roost", "dovecot"))
    opts = ap.parse_args()
    kinds = [k for k in ("roost", "dovecot") if opts.only in (None, k)]
    for kind, path in (("roost", ROOST), ("dovecot", DOVECOT)):
        if kind in kinds and not os.access(path, os.X_OK):
            print("auth-bench: %s not found (%s); skipped" % (kind, path))
            kinds.remove(kind)
    if not kinds:
        return 0
    top = tempfile.mkdtemp(prefix="roost-auth-bench-")
    os.chmod(top, 0o755)
    shared = os.path.join(top, "shared")
    os.makedirs(shared)
    os.chmod(shared, 0o755)
    results = {}
    status = 0
    try:
        write_users(shared)
        for n, kind in enumerate(kinds):
            server = Server(kind, top, shared)
            try:
                server.start()
                path = server.sock
                # warm up: Dovecot starts auth on the first connection,
                # Roost forks its workers on first use
                run_load(path, "p", 50, opts.conns, opts.window, 1000)
                run_load(path, "c", 8, opts.conns, 2, 2000)
                for scheme, prefix, total in (("PLAIN", "p", opts.plain),
                                              ("SHA512-CRYPT", "c",
                                               opts.crypt)):
                    runs = sorted(
                        run_load(path, prefix, total, opts.conns,
                                 opts.window, 10000 * (n + 1) + r * 100)
                        for r in range(opts.repeat))
                    results[kind, scheme] = runs[len(runs) // 2]
                procs = server.auth_processes()
                results[kind, "rss"] = (sum(rss_kib(p) for p, _ in procs),
                                        len(procs))
                results[kind, "rss_all"] = sum(
                    rss_kib(p) for p in descendants(
                        process_table(), server.proc.pid, True))
            except RuntimeError as e:
                print("auth-bench: %s: %s" % (kind, e))
                status = 1
            finally:
                server.stop()
    finally:
        shutil.rmtree(top, ignore_errors=True)
    report(results, kinds, opts)
    return status


def report(results, kinds, opts):
    print("auth-bench: AUTH PLAIN over %d auth-client connections, %d "
          "requests in flight each, median of %d runs; %d CPUs"
          % (opts.conns, opts.window, opts.repeat, os.cpu_count()))
    print("%-13s %8s %12s %12s %14s" % ("scheme", "requests", "roost/s",
                                        "dovecot/s", "roost/dovecot"))
    for scheme, total in (("PLAIN", opts.plain),
                          ("SHA512-CRYPT", opts.crypt)):
        rates = {}
        notes = []
        for kind in kinds:
            r = results.get((kind, scheme))
            if r is None:
                continue
            secs, ok, failed = r
            rates[kind] = total / secs if secs > 0 else 0.0
            if failed:
                notes.append("%s: %d of %d failed" % (kind, failed, total))
        ratio = ("%.2f" % (rates["roost"] / rates["dovecot"])
                 if rates.get("dovecot") and "roost" in rates else "-")
        print("%-13s %8d %12s %12s %14s%s" % (
            scheme, total,
            "%.0f" % rates["roost"] if "roost" in rates else "-",
            "%.0f" % rates["dovecot"] if "dovecot" in rates else "-",
            ratio, ("  (" + "; ".join(notes) + ")") if notes else ""))
    rss = {k: results.get((k, "rss")) for k in kinds}
    line = []
    for kind, label in (("roost", "roost auth + workers"),
                        ("dovecot", "dovecot auth + auth-worker")):
        if rss.get(kind):
            line.append("%s %d KiB in %d processes" % (label, rss[kind][0],
                                                       rss[kind][1]))
    print("RSS after the run: " + "; ".join(line) + (
        "; ratio %.2f" % (rss["roost"][0] / rss["dovecot"][0])
        if rss.get("roost") and rss.get("dovecot") and rss["dovecot"][0]
        else ""))
    if results.get(("dovecot", "rss_all")):
        print("(all of Dovecot's processes, master/log/config/anvil "
              "included: %d KiB)" % results["dovecot", "rss_all"])


if __name__ == "__main__":
    sys.exit(main())

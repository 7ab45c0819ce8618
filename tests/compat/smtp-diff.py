#!/usr/bin/env python3
"""smtp-diff.py - differential test of Roost's LMTP and submission
services against Debian's Dovecot 2.3.19.

The scripted sessions of tests/compat/smtp-sessions.txt run once against
Dovecot (`dovecot -F -c CONF`) and once against Roost (`build/bin/dovecot
-F -c CONF`), both from the same config text (tests/integration/
smtpserverlib.py: passwd-file users alice, bob, carol with password
"secret", static userdb, Maildir, LMTP on a unix socket and a TCP port,
submission with STARTTLS and submissions with implicit TLS, `hostname =
mx.test`, submission_max_recipients = 3, submission_max_mail_size = 64k,
recipient_delimiter = +, lmtp_save_to_detail_mailbox = yes). Submission
relays to one real Postfix (tests/integration/postfixlib.py) through a
RelaySwitch, which the sessions can take down and bring back.

After each scenario the server's new lmtp/submission/submission-login
log lines are compared too (sorted: processes log concurrently), as the
step "log", after normalising timestamps, pids, session ids, ports,
queue ids, "in N secs" and panic backtrace addresses.

Every reply is compared after normalising only what must differ between
two runs or two servers: session ids (in LMTP's `<rcpt> ID Saved` and in
submission's ids), Postfix queue ids and byte counts in the relayed
`250 2.0.0 Ok: N bytes queued as QID` reply, dates, and the free ports.

Accepted differences are listed in tests/compat/smtp-known-failures.txt as
`<scenario> <key>  # reason`, key = the connection letter and the number
of the step within the scenario (A3 = third line of the scenario, counted
from 1 over all its lines but comments), or `open A` for A's greeting.
Any other difference makes the exit status 1.

When the Roost under test serves neither LMTP nor submission (its master
says "starting up for imap, pop3"), the run SKIPS with the reason and
exits 0; when it serves only one of them, the scenarios of the other
(named lmtp-* and sub-*) are skipped, with the reason.

Usage: smtp-diff.py [-v] [-k REGEX] [--self-check] [--dump DIR]
  -k REGEX      only scenarios whose name matches
  -v            print every response of differing steps in full
  --self-check  Dovecot against Dovecot (proves the normalisation and that
                the scripts are deterministic; must report 0 differences)
  --dump DIR    write each side's normalised transcript to DIR
Env: ROOST = build/bin/roost; KEEP=1 keeps the temp dirs. Needs root,
dovecot-lmtpd, dovecot-submissiond, postfix (make deps). Never touches
/etc/dovecot, /etc/postfix or the system services."""
import argparse
import os
import re
import socket
import ssl
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
HERE = os.path.join(TOP, "tests", "compat")
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from postfixlib import Postfix, RelaySwitch  # noqa: E402
from smtpserverlib import Server, Unsupported, tls_context  # noqa: E402

SESSIONS = os.path.join(HERE, "smtp-sessions.txt")
KNOWN = os.path.join(HERE, "smtp-known-failures.txt")
TIMEOUT = 10          # per reply; 1 s once a connection has timed out
SCENARIO_BUDGET = 30  # seconds; later steps of a slower scenario are not run
QUIET = 0.3    # how long "X<*" waits for more


# ---------------------------------------------------------------- parsing

def unescape(s):
    """\\r \\n \\t \\\\ \\xNN -> bytes; {{repeat:TEXT:N}} repeats TEXT."""
    def rep(m):
        text, n = m.group(1).rsplit(":", 1)
        return text * int(n)
    s = re.sub(r"\{\{repeat:(.*?)\}\}", rep, s)
    out = bytearray()
    b = s.encode("utf-8")
    i = 0
    while i < len(b):
        if b[i:i + 1] == b"\\" and i + 1 < len(b):
            n = b[i + 1:i + 2]
            if n == b"x":
                out.append(int(b[i + 2:i + 4], 16))
                i += 4
                continue
            out += {b"r": b"\r", b"n": b"\n", b"t": b"\t",
                    b"\\": b"\\"}.get(n, b"\\" + n)
            i += 2
            continue
        out += b[i:i + 1]
        i += 1
    return bytes(out)


def parse_sessions(path, pattern=None):
    """-> [(name, [(lineno, key, conn, op, arg)])]"""
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
                raise SystemExit("%s:%d: a step before the first '=== '"
                                 % (path, n))
            step = len(cur[1]) + 1
            m = re.match(r"^(open|close|sleep|relay)\s+(.*)$", line)
            if m:
                arg = m.group(2).strip()
                key = "open %s" % arg.split()[0] if m.group(1) == "open" \
                    else "%s%d" % (m.group(1), step)
                cur[1].append((n, key, None, m.group(1), arg))
                continue
            m = re.match(r"^([A-Z])([><]?)(?: (.*))?$", line)
            if not m:
                raise SystemExit("%s:%d: cannot parse: %s" % (path, n, line))
            op = {"": "cmd", ">": "raw", "<": "read"}[m.group(2)]
            cur[1].append((n, "%s%d" % (m.group(1), step), m.group(1), op,
                           m.group(3) or ""))
    if pattern:
        scenarios = [s for s in scenarios if re.search(pattern, s[0])]
    return scenarios


# ------------------------------------------------------------ connections

class Conn:
    def __init__(self, server, kind, bind=None):
        if kind == "lmtp-unix":
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(TIMEOUT)
            s.connect(server.lmtp_socket)
        else:
            port = {"lmtp": server.lmtp_port, "submission": server.sub_port,
                    "submissions": server.subs_port}[kind]
            s = socket.create_connection(("127.0.0.1", port), TIMEOUT,
                                         (bind, 0) if bind else None)
            s.settimeout(TIMEOUT)
            if kind == "submissions":
                s = tls_context().wrap_socket(s)
        self.sock = s
        self.buf = b""
        self.eof = False
        self.stalled = False

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.eof = True

    def _fill(self, timeout):
        if self.eof:
            return False
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (OSError, ssl.SSLError):
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def reply(self, timeout=TIMEOUT):
        """One (possibly multi-line) reply, '<EOF>' or '<TIMEOUT>'."""
        if self.stalled:
            timeout = min(timeout, 1)
        deadline = time.time() + timeout
        while True:
            pos = 0
            while True:
                nl = self.buf.find(b"\n", pos)
                if nl < 0:
                    break
                line = self.buf[pos:nl + 1]
                pos = nl + 1
                if not (len(line) > 3 and line[3:4] == b"-"):
                    r, self.buf = self.buf[:pos], self.buf[pos:]
                    return r
            left = deadline - time.time()
            if left <= 0 or not self._fill(left):
                if self.eof:
                    if self.buf:
                        r, self.buf = self.buf, b""
                        return r
                    return b"<EOF>"
                if left <= 0:
                    if timeout >= TIMEOUT:
                        self.stalled = True
                    return b"<TIMEOUT>"

    def starttls(self):
        self.sock.settimeout(TIMEOUT)
        try:
            self.sock = tls_context().wrap_socket(self.sock)
        except (OSError, ssl.SSLError) as e:
            self.eof = True
            return "<TLS failed: %s>" % e
        return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ----------------------------------------------------------- normalising

NORMS = [
    # LMTP: 250 2.0.0 <rcpt> SESSIONID[:Rn] Saved
    (re.compile(rb"^(\d{3}[ -]2\.0\.0 <[^>]*> )[A-Za-z0-9+/]+((:[RT]\d+)* )"),
     rb"\1<session>\2"),
    # the relay's reply to DATA/BDAT LAST, passed on by submission
    (re.compile(rb"Ok: \d+ bytes queued as [0-9A-F]+"),
     rb"Ok: <n> bytes queued as <queue-id>"),
    (re.compile(rb"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d+ \w{3} \d{4} "
                rb"\d\d:\d\d:\d\d [+-]\d{4}"), rb"<date>"),
]


def normalise(data, server):
    for port in (server.lmtp_port, server.sub_port, server.subs_port,
                 server.relay_port):
        data = data.replace(b":%d" % port, b":<port>")
    lines = data.split(b"\n")
    out = []
    for ln in lines:
        for rx, rep in NORMS:
            ln = rx.sub(rep, ln)
        out.append(ln)
    return b"\n".join(out).decode("utf-8", "backslashreplace")


# ----------------------------------------------------------------- running

LOG_NORMS = [
    (re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d "), ""),
    (re.compile(r"^(lmtp|submission)\(\d+\)"), r"\1(<pid>)"),
    (re.compile(r"<\d+><[A-Za-z0-9+/]+((:[RT]\d+)*)>"), r"<pid><session\1>"),
    (re.compile(r"session=<[^>]*>"), "session=<id>"),
    (re.compile(r"mpid=\d+"), "mpid=<pid>"),
    (re.compile(r"\bid=[A-Za-z0-9+/]+((:[RT]\d+)*)"), r"id=<id>\1"),
    (re.compile(r"Ok: \d+ bytes queued as [0-9A-F]+"),
     "Ok: <n> bytes queued as <queue-id>"),
    (re.compile(r" in \d+ secs"), " in <n> secs"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    # Dovecot's panic backtraces (see lmtp-bdat-failed-then-data)
    (re.compile(r"\[0x[0-9a-f]+\]"), "[<addr>]"),
    (re.compile(r"child \d+ killed"), "child <pid> killed"),
]
LOG_SERVICES = re.compile(r"^(lmtp|submission|submission-login)[(:]")


def log_size(server):
    try:
        return os.path.getsize(os.path.join(server.tmp, "log"))
    except OSError:
        return 0


def new_log_lines(server, start):
    """The lmtp/submission/submission-login lines written since offset
    start, once the log has been quiet for 0.15 s (at most 3 s),
    normalised and sorted (processes log concurrently)."""
    deadline = time.time() + 3
    size = log_size(server)
    quiet_since = time.time()
    while time.time() < deadline:
        time.sleep(0.05)
        now = log_size(server)
        if now != size:
            size, quiet_since = now, time.time()
        elif time.time() - quiet_since >= 0.15:
            break
    with open(os.path.join(server.tmp, "log"), "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "backslashreplace")
    out = []
    for line in text.splitlines():
        for rx, rep in LOG_NORMS[:1]:
            line = rx.sub(rep, line)
        if not LOG_SERVICES.match(line):
            continue
        for rx, rep in LOG_NORMS[1:]:
            line = rx.sub(rep, line)
        out.append(line + "\n")
    return sorted(out)


def run_scenario(server, switch, steps):
    """-> [(key, lineno, display, [normalised replies])], the last entry
    the scenario's log lines (key "log")"""
    conns = {}
    res = []
    log_start = log_size(server)
    t0 = time.time()
    for lineno, key, cn, op, arg in steps:
        if time.time() - t0 > SCENARIO_BUDGET:
            res.append((key, lineno, "(step not run)",
                        ["<scenario over %d s: not run>" % SCENARIO_BUDGET]))
            continue
        if op == "open":
            words = arg.split()
            letter, kind = words[:2]
            try:
                conns[letter] = Conn(server, kind,
                                     words[2] if len(words) > 2 else None)
                out = [conns[letter].reply()]
            except OSError as e:
                out = [("<connect failed: %s>" % e).encode()]
            res.append((key, lineno, "open " + arg,
                        [normalise(o, server) for o in out]))
            continue
        if op == "close":
            c = conns.pop(arg, None)
            if c:
                c.close()
            continue
        if op == "sleep":
            time.sleep(float(arg))
            continue
        if op == "relay":
            (switch.up if arg == "up" else switch.down)()
            time.sleep(0.1)
            continue
        c = conns.get(cn)
        if c is None:
            res.append((key, lineno, "%s %s" % (cn, arg), ["<not open>"]))
            continue
        out = []
        if op == "cmd":
            c.send(unescape(arg) + b"\r\n")
            r = c.reply()
            out.append(r)
            if re.match(r"STARTTLS\s*$", arg, re.I) and r.startswith(b"220"):
                err = c.starttls()
                if err:
                    out.append(err.encode())
        elif op == "raw":
            c.send(unescape(arg))
            continue
        else:
            if arg.strip() == "*":
                while True:
                    r = c.reply(QUIET)
                    if r == b"<TIMEOUT>":
                        break
                    out.append(r)
                    if r == b"<EOF>":
                        break
            else:
                for _ in range(int(arg or "1")):
                    r = c.reply()
                    out.append(r)
                    if r in (b"<EOF>", b"<TIMEOUT>"):
                        break
        disp = "%s%s %s" % (cn, {"cmd": "", "read": "<"}[op], arg)
        res.append((key, lineno, disp, [normalise(o, server) for o in out]))
    for c in conns.values():
        c.close()
    res.append(("log", steps[-1][0] if steps else 0, "(log lines)",
                new_log_lines(server, log_start)))
    return res


def run_side(kind, name, scenarios, switch, cert_dir):
    server = Server(kind, switch.port, max_rcpts=3, max_size=64 * 1024,
                    cert_from=cert_dir)
    results = {}
    try:
        server.start()
        new_log_lines(server, 0)
        for sname, steps in scenarios:
            results[sname] = run_scenario(server, switch, steps)
            switch.up()
    finally:
        if os.environ.get("KEEP"):
            print("smtp-diff: %s kept in %s" % (name, server.tmp))
        server.cleanup()
    return results


def load_known():
    known = {}
    if os.path.exists(KNOWN):
        with open(KNOWN) as f:
            for line in f:
                text = line.split("#", 1)
                words = text[0].split()
                if len(words) >= 2:
                    known[(words[0], " ".join(words[1:]))] = \
                        text[1].strip() if len(text) > 1 else ""
    return known


def show_diff(a, b, na, nb, verbose):
    import difflib
    al = [x.rstrip("\r") for r in a for x in r.rstrip("\n").split("\n")]
    bl = [x.rstrip("\r") for r in b for x in r.rstrip("\n").split("\n")]
    lines = list(difflib.unified_diff(al, bl, na, nb, lineterm="", n=2))
    limit = None if verbose else 20
    for ln in lines[2:limit]:
        print("    " + ln[:300])
    if limit and len(lines) > limit:
        print("    ... (%d more diff lines, -v shows all)"
              % (len(lines) - limit))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k")
    ap.add_argument("--self-check", action="store_true")
    ap.add_argument("--dump")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("smtp-diff: skipped (needs root)")
        return 0
    for p in ("/usr/lib/dovecot/lmtp", "/usr/lib/dovecot/submission"):
        if not os.path.exists(p):
            print("smtp-diff: %s is not installed (make deps)" % p)
            return 1
    scenarios = parse_sessions(SESSIONS, args.k)
    nsteps = sum(1 for _, st in scenarios for s in st
                 if s[3] in ("cmd", "read", "open"))
    t0 = time.time()
    other_kind = "dovecot" if args.self_check else "roost"
    other_name = "dovecot-again" if args.self_check else "roost"
    # Roost first: when it has no LMTP/submission the run stops before
    # Postfix and Dovecot are started
    switch = RelaySwitch()
    probe = Server(other_kind, switch.port, max_rcpts=3, max_size=64 * 1024)
    try:
        probe.start()
    except Unsupported as e:
        probe.cleanup()
        if other_kind == "dovecot":
            print("smtp-diff: Dovecot did not start: %s" % e)
            return 1
        print("smtp-diff: skipped: %s" % e)
        return 0
    new_log_lines(probe, 0)      # the start-up probes' lines are written
    # a Roost with only one of the two services: the other's scenarios
    # (named lmtp-* and sub-*) are left out, and said so
    skipped = []
    for svc, prefix in (("lmtp", "lmtp-"), ("submission", "sub-")):
        why = probe.missing(svc)
        if why and other_kind == "dovecot":
            print("smtp-diff: Dovecot: %s" % why)
            probe.cleanup()
            return 1
        if why:
            skipped += [n for n, _ in scenarios if n.startswith(prefix)]
            print("smtp-diff: %s scenarios skipped: %s" % (prefix + "*", why))
    scenarios = [sc for sc in scenarios if sc[0] not in skipped]
    nsteps = sum(1 for _, st in scenarios for s in st
                 if s[3] in ("cmd", "read", "open"))
    cert_dir = probe.tmp
    postfix = Postfix()
    results = {}
    try:
        postfix.start()
        switch.target = postfix.port
        switch.up()
        # the probe stays up: it is the side under test
        res_other = {}
        for sname, steps in scenarios:
            res_other[sname] = run_scenario(probe, switch, steps)
            switch.up()
        results[other_name] = res_other
        results["dovecot"] = run_side("dovecot", "dovecot", scenarios,
                                      switch, cert_dir)
    finally:
        if os.environ.get("KEEP"):
            print("smtp-diff: %s kept in %s" % (other_name, probe.tmp))
        probe.cleanup()
        switch.down()
        postfix.stop()
    known = load_known()
    used = set()
    same = known_n = unexpected = 0
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        for side in ("dovecot", other_name):
            with open(os.path.join(args.dump, side + ".txt"), "w") as f:
                for name, _ in scenarios:
                    f.write("=== %s\n" % name)
                    for key, lineno, disp, resp in results[side][name]:
                        f.write("C: %s\n" % disp[:300])
                        for r in resp:
                            f.write("S: " + r[:2000].rstrip("\n") + "\n")
    for name, _ in scenarios:
        a = results["dovecot"][name]
        b = results[other_name][name]
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
                used.add(k)
                if args.v:
                    print("known %s %s (line %d): %s  # %s"
                          % (name, ra[0], ra[1], ra[2], known[k]))
                continue
            unexpected += 1
            bad += 1
            print("FAIL %s %s (line %d): %s" % (name, ra[0], ra[1],
                                                ra[2][:200]))
            show_diff(ra[3], rb[3], "dovecot", other_name, args.v)
        if not bad:
            print("ok   %s (%d steps)" % (name, len(a)))
    for k in sorted(set(known) - used):
        if not args.self_check and any(k[0] == n for n, _ in scenarios):
            print("note: known failure %s %s did not occur (remove it?)" % k)
    print("smtp-diff: %d steps in %d scenarios (dovecot vs %s, %.0f s): "
          "%d identical, %d known differences, %d unexpected%s"
          % (nsteps, len(scenarios), other_name, time.time() - t0, same,
             known_n, unexpected, "; %d scenarios skipped" % len(skipped)
             if skipped else ""))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
r"""The Dovecot round trip for Maildir: mail that Debian's Dovecot 2.3.19
delivered, flagged, moved and expunged is read by Roost, and mail that
Roost delivered, flagged, moved and expunged is read by Dovecot; at each
step `doveadm fetch 'mailbox uid flags pop3.uidl' all` and `doveadm
mailbox status 'uidvalidity uidnext messages' '*'` of both must print the
same, and POP3 clients must get the same UIDLs.

Dovecot runs only from a config in a temp dir (base_dir, state_dir and
log there, no listeners); /etc/dovecot and the system service are never
touched. Needs root (Dovecot's master drops to its own users) and the
dovecot-core and dovecot-pop3d packages; otherwise it says SKIP.

The order in which the two list mailboxes differs (Dovecot: its mailbox
list index order, INBOX last; Roost: INBOX first, then sorted), so
multi-mailbox output is compared block by block after sorting, and per
mailbox byte for byte.

Known difference, reported as KNOWN (fatal with STRICT=1): \Recent.
Which messages are recent lives in each server's own index, which the
other doesn't read. Both build a fresh index alike (recent = above the
highest UID found in cur/), but an existing index remembers more: mail
that a flag change or a copy with flags put into cur/ stays recent in
the index of the server that did it, while the other server, building
its index afresh, sees it as old. Any other difference fails the run.
VERBOSE=1 prints known differences in full, KEEP=1 keeps the temp dir."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ROOST = os.environ.get("ROOST", os.path.join(ROOT, "build", "bin", "roost"))
R_DOVEADM = os.path.join(os.path.dirname(ROOST), "doveadm")
R_LDA = os.path.join(os.path.dirname(ROOST), "dovecot-lda")
D_MASTER = "/usr/sbin/dovecot"
D_DOVEADM = "/usr/bin/doveadm"
D_LDA = "/usr/lib/dovecot/dovecot-lda"
UID = GID = 5000

failures = []
known = []
checks = 0
VERBOSE = os.environ.get("VERBOSE") is not None
STRICT = os.environ.get("STRICT") is not None


def run(argv, stdin=None, check=True):
    p = subprocess.run(argv, input=stdin, capture_output=True, timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError(f"{argv}: exit {p.returncode}: "
                           f"{p.stderr.decode(errors='replace')}")
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


class Lab:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="roost-roundtrip.")
        os.chmod(self.tmp, 0o755)
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        os.mkdir(os.path.join(self.tmp, "home"))
        with open(os.path.join(self.tmp, "users"), "w") as f:
            for user in ("dove", "roost"):
                home = os.path.join(self.tmp, "home", user)
                os.mkdir(home)
                os.chown(home, UID, GID)
                f.write(f"{user}:{{PLAIN}}pw:{UID}:{GID}::{home}::\n")
        with open(self.conf, "w") as f:
            f.write(f"""base_dir = {self.tmp}/run
state_dir = {self.tmp}/state
log_path = {self.tmp}/mail.log
protocols =
ssl = no
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {self.tmp}/users
}}
userdb {{
  driver = passwd-file
  args = {self.tmp}/users
}}
""")
        self.running = False

    def start(self):
        # the daemon keeps inherited pipes open: no capture here
        with open(os.path.join(self.tmp, "master.out"), "a") as out:
            subprocess.run([D_MASTER, "-c", self.conf], stdin=subprocess.DEVNULL,
                           stdout=out, stderr=out, check=True, timeout=60)
        sock = os.path.join(self.tmp, "run", "auth-userdb")
        for _ in range(300):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        self.running = True

    def stop(self):
        if self.running:
            subprocess.run([D_MASTER, "-c", self.conf, "stop"],
                           stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
            pid = os.path.join(self.tmp, "run", "master.pid")
            for _ in range(300):
                if not os.path.exists(pid):
                    break
                time.sleep(0.05)
            # a stopped server leaves its sockets behind
            self.running = False

    def dovecot(self, *args, stdin=None):
        return run([D_DOVEADM, "-c", self.conf] + list(args), stdin)

    def roost(self, *args, stdin=None):
        return run([R_DOVEADM, "-c", self.conf] + list(args), stdin)

    def d_deliver(self, user, data, *args):
        run([D_LDA, "-c", self.conf, "-d", user] + list(args), data)

    def r_deliver(self, user, data, *args):
        run([R_LDA, "-c", self.conf, "-d", user] + list(args), data)


def message(n, extra=""):
    return (f"From: Sender {n} <s{n}@example.com>\n"
            f"To: someone@example.org\n"
            f"Subject: round trip {n}\n"
            f"Message-ID: <rt{n}@example.com>\n"
            f"Date: Mon, {10 + n} Nov 2023 10:00:00 +0100\n{extra}\n"
            f"Body {n}\nline two\n").encode()


def blocks(out):
    """pager output: records are separated by a form feed line"""
    return sorted(b.rstrip("\n") for b in out.split("\n\f\n"))


def without_recent(text):
    return "\n".join(re.sub(r" ?\\Recent", "", line).rstrip(" ")
                     for line in text.split("\n"))


def compare(lab, what, *args, sort_blocks=False, sort_lines=False):
    """Run args with both doveadms and classify the result: identical,
    identical once sorted (mailbox order), identical but for \\Recent
    (a known difference, see the module doc), or different."""
    global checks
    checks += 1
    d = run([D_DOVEADM, "-c", lab.conf] + list(args), check=False)
    r = run([R_DOVEADM, "-c", lab.conf] + list(args), check=False)
    split = blocks if sort_blocks else \
        (lambda s: sorted(s.splitlines())) if sort_lines else \
        (lambda s: s)
    note = ""
    if d == r:
        status = "ok  "
    elif d[0] == r[0] and d[2] == r[2] and split(d[1]) == split(r[1]):
        status = "ok  "
        note = " (same once sorted: the mailbox order differs)"
    elif d[0] == r[0] and d[2] == r[2] and \
            split(without_recent(d[1])) == split(without_recent(r[1])):
        status = "KNOWN"
        note = " (only \\Recent differs)"
        known.append(what)
    else:
        status = "FAIL"
        failures.append(what)
    print(f"{status} {what}{note}")
    if status != "ok  " and (status == "FAIL" or VERBOSE):
        print(f"  dovecot: rc={d[0]}\n" + "".join(
            f"    | {line}\n" for line in (d[1] + d[2]).splitlines()))
        print(f"  roost:   rc={r[0]}\n" + "".join(
            f"    | {line}\n" for line in (r[1] + r[2]).splitlines()))


def pop3_uidls(argv):
    code, out, _ = run(argv, b"UIDL\r\nQUIT\r\n", check=False)
    lines = [line.rstrip("\r") for line in out.split("\n")]
    try:
        start = lines.index("+OK") + 1
        end = lines.index(".", start)
    except ValueError:
        return None
    return lines[start:end]


def compare_pop3(lab, user):
    """Dovecot's POP3 UIDL list against the UIDLs Roost's UIDs and
    UIDVALIDITY give (pop3_uidl_format %08Xu%08Xv), and against Roost's
    own POP3 server when it can run here."""
    global checks
    checks += 1
    _, out, _ = lab.roost("mailbox", "status", "-u", user, "uidvalidity",
                          "INBOX")
    uidvalidity = int(out.split("=")[1])
    _, out, _ = lab.roost("-f", "flow", "fetch", "-u", user, "uid",
                          "mailbox", "INBOX", "all")
    expected = [f"{i} {int(line.split('=')[1]):08x}{uidvalidity:08x}"
                for i, line in enumerate(out.splitlines(), 1)]
    roost = pop3_uidls([ROOST, "pop3", "-c", lab.conf, "-u", user])
    dovecot = pop3_uidls([D_DOVEADM, "-c", lab.conf, "exec", "pop3", "-u",
                          user])
    ok = dovecot == expected and (roost is None or roost == expected)
    print(f"{'ok  ' if ok else 'FAIL'} POP3 UIDL of {user} "
          f"({len(expected)} messages"
          f"{'' if roost is not None else ', roost pop3 not run'})")
    if not ok:
        failures.append(f"POP3 UIDL {user}")
        print(f"  dovecot:  {dovecot}\n  roost:    {roost}\n"
              f"  expected: {expected}")


def compare_all(lab, user, step):
    mailboxes = sorted(lab.roost("mailbox", "list", "-u", user)[1]
                       .splitlines())
    compare(lab, f"{step}: mailbox list", "mailbox", "list", "-u", user,
            sort_lines=True)
    compare(lab, f"{step}: fetch 'mailbox uid flags pop3.uidl' all",
            "fetch", "-u", user, "mailbox uid flags pop3.uidl", "all",
            sort_blocks=True)
    compare(lab, f"{step}: mailbox status 'uidvalidity uidnext messages' "
            "'*'", "mailbox", "status", "-u", user,
            "uidvalidity uidnext messages", "*", sort_lines=True)
    for box in mailboxes:
        compare(lab, f"{step}: fetch of {box} (uid flags guid sizes dates "
                "headers envelope bodystructure)", "fetch", "-u", user,
                "mailbox uid seq flags guid size.physical size.virtual "
                "date.sent hdr.subject hdr.message-id imap.envelope "
                "imap.bodystructure text", "mailbox", box, "all")
        compare(lab, f"{step}: search in {box}", "search", "-u", user,
                "mailbox", box, "(", "seen", "or", "keyword", "custom", ")")


def phase_dovecot_writes(lab):
    """Dovecot delivers, flags, moves, expunges; Roost must agree."""
    user = "dove"
    for n in range(1, 7):
        lab.d_deliver(user, message(n))
    lab.dovecot("flags", "add", "-u", user, "\\Seen $Label1", "mailbox",
                "INBOX", "1")
    lab.dovecot("flags", "add", "-u", user, "\\Flagged \\Answered custom",
                "mailbox", "INBOX", "2")
    lab.dovecot("flags", "add", "-u", user, "\\Deleted \\Draft", "mailbox",
                "INBOX", "uid", "6")
    lab.dovecot("mailbox", "create", "-u", user, "Work", "Archive",
                "Work.Sub")
    lab.dovecot("mailbox", "subscribe", "-u", user, "Work")
    lab.dovecot("move", "-u", user, "Work", "mailbox", "INBOX", "uid", "3")
    lab.dovecot("copy", "-u", user, "Archive", "mailbox", "INBOX", "uid",
                "1:2")
    lab.dovecot("expunge", "-u", user, "mailbox", "INBOX", "uid", "4")
    lab.d_deliver(user, message(7), "-m", "Work.Sub")
    lab.d_deliver(user, message(8))
    compare_all(lab, user, "Dovecot wrote, Roost reads")
    compare(lab, "Dovecot wrote: subscribed mailboxes", "mailbox", "list",
            "-s", "-u", user, sort_lines=True)


def phase_roost_writes(lab):
    """With Dovecot stopped (Roost looks users up itself), Roost
    delivers, flags, moves, expunges; then Dovecot must agree."""
    user = "roost"
    lab.stop()
    for n in range(1, 7):
        lab.r_deliver(user, message(n))
    lab.roost("flags", "add", "-u", user, "\\Seen $Label1", "mailbox",
              "INBOX", "1")
    lab.roost("flags", "add", "-u", user, "\\Flagged \\Answered custom",
              "mailbox", "INBOX", "2")
    lab.roost("flags", "add", "-u", user, "\\Deleted \\Draft", "mailbox",
              "INBOX", "uid", "6")
    lab.roost("mailbox", "create", "-u", user, "Work", "Archive",
              "Work.Sub")
    lab.roost("mailbox", "subscribe", "-u", user, "Work")
    lab.roost("move", "-u", user, "Work", "mailbox", "INBOX", "uid", "3")
    lab.roost("copy", "-u", user, "Archive", "mailbox", "INBOX", "uid",
              "1:2")
    lab.roost("expunge", "-u", user, "mailbox", "INBOX", "uid", "4")
    lab.r_deliver(user, message(7), "-m", "Work.Sub")
    lab.r_deliver(user, message(8))
    lab.start()
    compare_all(lab, user, "Roost wrote, Dovecot reads")
    compare(lab, "Roost wrote: subscribed mailboxes", "mailbox", "list",
            "-s", "-u", user, sort_lines=True)
    # and back again: Dovecot changes Roost's mailbox, Roost reads
    lab.dovecot("flags", "remove", "-u", user, "$Label1", "mailbox",
                "INBOX", "1")
    lab.dovecot("flags", "add", "-u", user, "newkw \\Seen", "mailbox",
                "INBOX", "all")
    lab.dovecot("expunge", "-u", user, "mailbox", "Archive", "uid", "1")
    lab.d_deliver(user, message(9))
    compare_all(lab, user, "Dovecot changed Roost's mail, Roost reads")


def main():
    if os.geteuid() != 0:
        print("SKIP: the round trip runs Dovecot's master, which needs root")
        return 0
    for path in (D_MASTER, D_DOVEADM, D_LDA, R_DOVEADM):
        if not os.path.exists(path):
            print(f"SKIP: {path} is missing")
            return 0
    lab = Lab()
    try:
        lab.start()
        phase_dovecot_writes(lab)
        phase_roost_writes(lab)
        # POP3 sessions move new/ mail to cur/: last
        compare_pop3(lab, "dove")
        compare_pop3(lab, "roost")
    finally:
        lab.stop()
        if os.environ.get("KEEP") is None:
            shutil.rmtree(lab.tmp, ignore_errors=True)
        else:
            print(f"kept {lab.tmp}")
    print(f"{checks} checks, {checks - len(failures) - len(known)} "
          f"identical, {len(known)} differing only in \\Recent (known), "
          f"{len(failures)} different")
    return 1 if failures or (STRICT and known) else 0


if __name__ == "__main__":
    sys.exit(main())

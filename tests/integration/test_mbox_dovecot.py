#!/usr/bin/env python3
"""test_mbox_dovecot.py - the mbox round trip against Debian's Dovecot 2.3.

Dovecot (the oracle) is run only from a temporary config
(mail_location = mbox:TMP/mail:INBOX=TMP/mbox, static passdb/userdb,
base_dir/log_path in TMP): dovecot-lda delivers, the imap binary with
commands on stdin flags/expunges/creates, doveadm reads. Roost's doveadm
reads and writes the same files. After every phase both sides' `doveadm
fetch` of every field that has a defined value must be identical:

  A  Dovecot delivers, APPENDs, flags, expunges, makes folders; an MTA
     appends raw mail Dovecot has labelled  ->  Roost reads the same
  B  an MTA appends raw mail nobody labelled yet; Roost reads it first
     (and so picks its UID), then flags, unflags, adds keywords, expunges
     and saves  ->  Dovecot reads the same (with its index, and rebuilt
     without it)
  C  Dovecot changes things again  ->  Roost follows
  D  Dovecot's LDA delivers 40 messages while Roost flags and expunges in
     a loop  ->  every delivered message is there exactly once and both
     agree

Run: ROOST=build/bin/roost python3 tests/integration/test_mbox_dovecot.py
(as root the mail user is uid 5000, else the caller). Exits 77 (skip)
when Dovecot isn't installed.
"""
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time

DV_LDA = "/usr/lib/dovecot/dovecot-lda"
DV_IMAP = "/usr/lib/dovecot/imap"
DV_ADM = "/usr/bin/doveadm"
FIELDS = ("uid flags size.virtual size.physical date.received guid "
          "pop3.uidl hdr text")

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="roost-mbox-dv-")
        os.chmod(self.dir, 0o755)
        self.root = os.geteuid() == 0
        self.uid = 5000 if self.root else os.getuid()
        self.gid = 5000 if self.root else os.getgid()
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.mbox = os.path.join(self.dir, "mbox")
        for sub in ("run", "mail"):
            os.mkdir(os.path.join(self.dir, sub))
        with open(self.conf, "w") as f:
            f.write(f"""mail_location = mbox:{self.dir}/mail:INBOX={self.mbox}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.dir}
}}
passdb {{
  driver = static
  args = nopassword
}}
base_dir = {self.dir}/run
log_path = {self.dir}/log
ssl = no
protocols = imap
""")
        if self.root:
            for path, dirs, files in os.walk(self.dir):
                for n in [path] + [os.path.join(path, x) for x in files + dirs]:
                    os.chown(n, self.uid, self.gid)
        roost = os.environ.get("ROOST", "build/bin/roost")
        self.roost_adm = os.path.join(os.path.dirname(os.path.abspath(roost)),
                                      "doveadm")

    def as_user(self, argv):
        env = ["env", "-i", f"HOME={self.dir}", "USER=test", "TZ=UTC",
               "PATH=/usr/bin:/bin"]
        if self.root:
            return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}",
                    "--clear-groups"] + env + argv
        return env + argv

    def run(self, argv, data=None, check_rc=True):
        p = subprocess.run(argv, input=data, capture_output=True)
        if check_rc and p.returncode != 0:
            raise RuntimeError(f"{argv}: rc={p.returncode}\n"
                               f"{p.stdout.decode(errors='replace')}\n"
                               f"{p.stderr.decode(errors='replace')}")
        return p.stdout.decode(errors="replace")

    def dv_lda(self, msg, sender):
        return self.run(self.as_user([DV_LDA, "-c", self.conf, "-f", sender]),
                        msg.encode())

    def dv_imap(self, commands):
        script = "".join(c + "\r\n" for c in commands) + "zz LOGOUT\r\n"
        return self.run(self.as_user([DV_IMAP, "-c", self.conf]),
                        script.encode())

    def dv_adm(self, *args):
        return self.run(self.as_user([DV_ADM, "-c", self.conf] + list(args)))

    def r_adm(self, cmd, *args, data=None):
        # Roost's doveadm looks the user up itself (static userdb) and
        # drops to its uid
        argv = [self.roost_adm, "-c", self.conf] + cmd.split() + \
            ["-u", "test"] + list(args)
        return self.run(["env", "TZ=UTC"] + argv, data)

    def remove_dovecot_index(self):
        for path, dirs, files in os.walk(os.path.join(self.dir, "mail")):
            for n in files:
                if n.startswith("dovecot.index") or \
                   n.startswith("dovecot.list.index"):
                    os.unlink(os.path.join(path, n))

    def mta_append(self, msgs):
        """Append raw messages as an MTA does: dotlock, then fcntl."""
        lock = self.mbox + ".lock"
        for _ in range(500):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.close(fd)
                break
            except FileExistsError:
                time.sleep(0.01)
        try:
            with open(self.mbox, "ab") as f:
                fcntl.lockf(f, fcntl.LOCK_EX)
                for m in msgs:
                    f.write(m.encode())
                f.flush()
                fcntl.lockf(f, fcntl.LOCK_UN)
        finally:
            os.unlink(lock)
        if self.root:
            os.chown(self.mbox, self.uid, self.gid)


def drop_recent(text):
    out = []
    for line in text.split("\n"):
        if line.startswith("flags:"):
            words = [w for w in line[6:].split() if w != "\\Recent"]
            line = "flags: " + " ".join(words)
        out.append(line)
    return "\n".join(out)


def compare(env, mailbox, what, recent=False):
    """recent=False ignores \\Recent: it is session state Dovecot keeps in
    its own index (which messages a SELECT took) and writes to the file
    ('O' in Status) only lazily, so a reader without that index can't
    know it. With the index gone both sides derive it from the file."""
    dv = env.dv_adm("fetch", FIELDS, "mailbox", mailbox, "all")
    ro = env.r_adm("fetch", FIELDS, "mailbox", mailbox, "all")
    if not recent:
        dv, ro = drop_recent(dv), drop_recent(ro)
    same = dv == ro
    if not same:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(
            dv.splitlines(True), ro.splitlines(True), "dovecot", "roost"))
    count = sum(1 for line in dv.split("\n") if line.startswith("uid: "))
    check(same and count > 0,
          f"{what}: doveadm fetch {mailbox} identical ({count} messages)")
    items = "messages uidnext uidvalidity unseen"
    dv = env.dv_adm("mailbox", "status", items, mailbox)
    ro = env.r_adm("mailbox status", items, mailbox)
    check(dv == ro, f"{what}: mailbox status {mailbox}: {dv.strip()} / "
          f"{ro.strip()}")


def msg(n, extra=""):
    return (f"Received: from mx.example.net by vm; Thu, 26 Nov 2026\n"
            f"Date: Thu, 26 Nov 2026 07:26:{n:02d} +0000\n"
            f"From: bob@example.com\nSubject: m{n}\n"
            f"Message-ID: <m{n}@example.com>\n{extra}\n"
            f"Body {n}\nFrom me to you\n>From x\n")


def raw(n):
    return (f"From mta@example.net  Thu Nov 26 08:00:{n:02d} 2026\n"
            f"From: carol@example.org\nSubject: raw{n}\n"
            f"Message-ID: <raw{n}@example.org>\n\nraw body {n}\n\n")


def phase_a(env):
    for n in range(1, 4):
        env.dv_lda(msg(n), "sender@example.org")
    env.dv_lda("From: a@b\nSubject: nonl\nX-UID: 77\nStatus: RO\n\n"
               "no newline at end", "<>")
    env.dv_lda("From: a@b\r\nSubject: crlf\r\n\r\nline1\r\nline2\r\n",
               "bad addr@x")
    body = "Subject: app\r\nMessage-ID: <app@x>\r\n\r\nbody\r\n"
    env.dv_imap([f"a APPEND INBOX (\\Seen \\Flagged $Label1 custom) "
                 f"{{{len(body)}+}}\r\n{body}",
                 "b SELECT INBOX",
                 "c STORE 1 +FLAGS (\\Seen \\Answered)",
                 "d STORE 2 +FLAGS ($Work Junk \\Flagged)",
                 "e STORE 3 +FLAGS (\\Deleted)",
                 "f EXPUNGE",
                 "g CREATE Archive",
                 "h CREATE Work/Sub",
                 "i SUBSCRIBE Work/Sub",
                 f"j APPEND Archive (\\Draft) {{{len(body)}+}}\r\n{body}"])
    env.mta_append([raw(1), raw(2)])
    env.dv_imap(["a EXAMINE INBOX"])	# Dovecot labels them
    compare(env, "INBOX", "A (Dovecot wrote)")
    compare(env, "Archive", "A (Dovecot wrote)")
    dv = env.dv_adm("mailbox", "list")
    ro = env.r_adm("mailbox list")
    check(sorted(dv.split()) == sorted(ro.split()),
          f"A: mailbox list {dv.split()} / {ro.split()}")


def phase_b(env):
    env.mta_append([raw(3)])
    # Roost sees the new message first and labels it
    before = env.r_adm("fetch", "uid hdr.subject", "mailbox", "INBOX", "all")
    check("raw3" in before, "B: Roost sees mail appended by the MTA")
    env.r_adm("flags add", "\\Answered", "mailbox", "INBOX", "uid", "1")
    env.r_adm("flags remove", "\\Seen", "mailbox", "INBOX", "uid", "1")
    env.r_adm("flags add", "NewKw $Work", "mailbox", "INBOX", "uid", "4")
    env.r_adm("flags replace", "\\Seen \\Draft", "mailbox", "INBOX", "uid",
              "5")
    env.r_adm("flags add", "\\Deleted", "mailbox", "INBOX", "uid", "2")
    env.r_adm("expunge", "mailbox", "INBOX", "uid", "2")
    env.r_adm("save", "-m", "INBOX",
              data=b"From: roost@example.com\nSubject: saved by roost\n"
                   b"Message-ID: <roost1@x>\n\nhello from roost\n")
    env.r_adm("mailbox create", "Roost/Made")
    compare(env, "INBOX", "B (Roost wrote, Dovecot index kept)")
    env.remove_dovecot_index()
    compare(env, "INBOX", "B (Roost wrote, Dovecot index rebuilt)",
            recent=True)
    dv = env.dv_adm("mailbox", "list")
    check("Roost/Made" in dv.split(), "B: Dovecot lists Roost's folder")


def phase_c(env):
    env.dv_imap(["a SELECT INBOX",
                 "b STORE 1:* -FLAGS (\\Answered)",
                 "c STORE 2 +FLAGS (\\Deleted)",
                 "d EXPUNGE",
                 "e STORE 1 +FLAGS (Another)"])
    env.dv_lda(msg(9), "late@example.org")
    compare(env, "INBOX", "C (Dovecot wrote after Roost)")


def phase_d(env):
    n = 40
    lda = subprocess.Popen(
        ["sh", "-c", " ".join(
            f"printf 'Subject: c{i}\\nMessage-ID: <c{i}@x>\\n\\nbody\\n' | "
            + " ".join(env.as_user([DV_LDA, "-c", env.conf, "-f",
                                    "c@example.org"])) + " || exit 1;"
            for i in range(n))],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rounds = 0
    while lda.poll() is None or rounds < 5:
        env.r_adm("flags add", "\\Seen", "mailbox", "INBOX", "all")
        env.r_adm("flags remove", "\\Seen", "mailbox", "INBOX",
                  "header", "subject", "c1")
        # expunge the oldest remaining pre-concurrency message
        env.r_adm("expunge", "mailbox", "INBOX", "header", "subject",
                  f"raw{rounds % 3 + 1}")
        rounds += 1
        if rounds > 200:
            break
    err = lda.stderr.read().decode()
    check(lda.wait() == 0, f"D: dovecot-lda delivered {n} messages {err}")
    ids = env.r_adm("fetch", "hdr.message-id", "mailbox", "INBOX", "all")
    lost = [i for i in range(n) if ids.count(f"<c{i}@x>") != 1]
    check(not lost, f"D: every delivered message exactly once "
          f"({rounds} Roost rounds), missing/duplicated: {lost}")
    compare(env, "INBOX", "D (concurrent LDA + Roost)")


def main():
    for tool in (DV_LDA, DV_IMAP, DV_ADM):
        if not os.path.exists(tool):
            print(f"skip: {tool} not installed")
            return 77
    env = Env()
    try:
        phase_a(env)
        phase_b(env)
        phase_c(env)
        phase_d(env)
    finally:
        if failures or os.environ.get("KEEP"):
            print(f"kept {env.dir}")
        else:
            shutil.rmtree(env.dir)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

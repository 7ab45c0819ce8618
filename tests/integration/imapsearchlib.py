"""Helpers for the IMAP SEARCH/SORT/THREAD tests: a deterministic Maildir
(the tests/data/mime corpus plus made-up messages with chosen flags,
keywords, internal dates, Date/From/Subject/References headers and UIDs
with gaps, written straight to disk with a dovecot-uidlist and
dovecot-keywords so Roost and Dovecot read the very same mailbox), and a
runner that pipes one script through `roost imap -u` or Dovecot's
`imap -u` (with a Dovecot master for its userdb) and normalizes the
timing suffixes."""
import os
import re
import select
import shutil
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ROOST = os.environ.get("ROOST", os.path.join(ROOT, "build", "bin", "roost"))
MIME = os.path.join(ROOT, "tests", "data", "mime")
DOVECOT = "/usr/sbin/dovecot"
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
UID = GID = 65534
UIDVALIDITY = 1700000000
KEYWORDS = ["$Forwarded", "Junk", "work", "$Label1"]

FLAG_SETS = ["", "S", "FS", "RS", "DS", "T", "ST", "F", "DFRS", "RST"]


def synthetic_messages(now):
    """(headers+body bytes, flags, keyword indexes, internal date)"""
    msgs = []
    people = [("Alice Anders", "alice@example.com"),
              ("bob", "bob@example.org"),
              ("Carol Zed", "carol@sub.example.net"),
              ("\"Dave, Jr.\"", "dave@example.com"),
              ("", "eve@example.com"),
              ("=?utf-8?q?J=C3=BCrgen_M=C3=BCller?=", "jm@example.de")]
    subjects = ["Lunch plans", "Re: Lunch plans", "Fwd: Lunch plans",
                "RE: re: Lunch plans", "[list] Meeting notes",
                "Meeting  notes (fwd)", "Re: [list] Meeting notes",
                "Zebra crossing", "aardvark", "=?utf-8?q?=C3=84pfel?=",
                "Quarterly  report\t draft", "", "Re:", "Invoice 42"]
    dates = ["Mon, 6 Nov 2023 10:00:00 +0100",
             "Mon, 6 Nov 2023 23:30:00 -0800",
             "Tue, 7 Nov 2023 00:30:00 +0200",
             "Wed, 01 Feb 2023 12:00:00 +0000",
             "Sun, 31 Dec 2023 23:59:59 +0000",
             "Thu, 1 Jan 1970 00:00:00 +0000",
             "garbage date",
             "Fri, 15 Mar 2024 08:15:00 +0530",
             None,
             "Sat, 30 Sep 2023 18:00:00 -0400"]
    internal = [1699261200, 1699315200, 1675252800, 1704067199,
                1710470700, now - 3600, now - 86400 * 3, now - 60,
                1600000000, 1696111200, now - 7200 * 24]
    n = 40
    for i in range(n):
        name, addr = people[i % len(people)]
        tname, taddr = people[(i + 2) % len(people)]
        hdr = []
        if i % 11 != 10:
            hdr.append(f"From: {name} <{addr}>" if name else f"From: {addr}")
        if i % 9 != 4:
            hdr.append(f"To: {tname} <{taddr}>")
        if i % 3 == 0:
            cname, caddr = people[(i + 4) % len(people)]
            hdr.append(f"Cc: {cname} <{caddr}>, x{i}@example.com")
        if i % 5 == 1:
            hdr.append(f"Bcc: hidden{i}@example.net")
        subj = subjects[i % len(subjects)]
        hdr.append(f"Subject: {subj}")
        d = dates[i % len(dates)]
        if d is not None:
            hdr.append(f"Date: {d}")
        hdr.append(f"Message-ID: <m{i}@example.com>")
        # threads: 0 <- 1 <- 3, 0 <- 2, 5 <- 7 (7 refs a missing parent)
        refs = {1: ["m0"], 2: ["m0"], 3: ["m0", "m1"], 7: ["gone", "m5"],
                9: ["m8"], 12: ["m3"], 15: ["m14", "m13"],
                20: ["m19"], 21: ["m20"], 22: ["nosuch"], 30: ["m30"],
                31: ["m33"], 33: ["m31"]}
        if i in refs:
            hdr.append("References: " +
                       " ".join(f"<{r}@example.com>" for r in refs[i]))
        if i in (4, 17):
            hdr.append("In-Reply-To: <m2@example.com>")
        if i % 7 == 3:
            hdr.append("X-Priority: 1 (Highest)")
        if i % 4 == 2:
            hdr.append("Content-Type: text/plain; charset=iso-8859-1")
            hdr.append("Content-Transfer-Encoding: quoted-printable")
            body = f"Gr=FC=DFe number {i}, caf=E9 au lait.\n"
        else:
            body = f"Hello number {i}.\nThe quick brown fox jumps.\n"
        body += "padding line\n" * (i * 7 % 50)
        data = ("\n".join(hdr) + "\n\n" + body).encode()
        flags = FLAG_SETS[(i * 3) % len(FLAG_SETS)]
        kws = [k for k in range(len(KEYWORDS)) if (i >> k) & 1 and i % 3]
        msgs.append((data, flags, kws, internal[i % len(internal)]))
    return msgs


def build_maildir(maildir, now):
    """Write the test mailbox. Returns the number of messages."""
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, d), exist_ok=True)
    msgs = []
    for i, name in enumerate(sorted(f for f in os.listdir(MIME)
                                    if f.endswith(".eml"))):
        with open(os.path.join(MIME, name), "rb") as f:
            data = f.read()
        msgs.append((data, FLAG_SETS[i % len(FLAG_SETS)],
                     [i % len(KEYWORDS)] if i % 4 == 0 else [],
                     1690000000 + i * 86400 * 3))
    msgs += synthetic_messages(now)
    letters = "abcdefghijklmnopqrstuvwxyz"
    uid = 0
    lines = []
    for i, (data, flags, kws, mtime) in enumerate(msgs):
        uid += 1 if i % 6 else 3      # gaps in the UIDs
        base = f"{1600000000 + i}.M{i}P{1000 + i}.roosttest"
        fl = "".join(sorted(flags + "".join(letters[k] for k in kws)))
        path = os.path.join(maildir, "cur", f"{base}:2,{fl}")
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (mtime, mtime))
        lines.append(f"{uid} :{base}")
    with open(os.path.join(maildir, "dovecot-uidlist"), "w") as f:
        f.write(f"3 V{UIDVALIDITY} N{uid + 1} "
                "G0123456789abcdef0123456789abcdef\n")
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(maildir, "dovecot-keywords"), "w") as f:
        for k, name in enumerate(KEYWORDS):
            f.write(f"{k} {name}\n")
    return len(msgs)


def chown_tree(path):
    for dirpath, dirs, files in os.walk(path):
        os.chown(dirpath, UID, GID)
        for f in files:
            os.chown(os.path.join(dirpath, f), UID, GID)


def write_config(tmp):
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""protocols = imap
base_dir = {tmp}/run
log_path = {tmp}/log
mail_location = maildir:~/Maildir
ssl = no
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
userdb {{
  driver = static
  args = uid={UID} gid={GID} home={tmp}/home/%u
}}
passdb {{
  driver = static
  args = nopassword
}}
""")
    return conf


def dovecot_available():
    return (os.geteuid() == 0 and os.path.exists(DOVECOT) and
            os.path.exists(DOVECOT_IMAP))


def start_dovecot(conf):
    subprocess.run([DOVECOT, "-c", conf], check=True)


def stop_dovecot(conf):
    subprocess.run(["doveadm", "-c", conf, "stop"], capture_output=True)


TIMING_RE = re.compile(rb" \(\d+\.\d+(?: \+ \d+\.\d+)+ secs\)\.\r\n")


# OBJECTID's SELECT/EXAMINE line (RFC 8474): Roost's own, not Dovecot's
MAILBOXID_LINE = re.compile(rb"\* OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Ok\r\n")


def normalize(out):
    out = MAILBOXID_LINE.sub(b"", out)
    out = re.sub(rb"\[MAILBOXID \([A-Za-z0-9_-]+\)\] (Create completed)",
                 rb"\1", out)
    return TIMING_RE.sub(b" (T secs).\r\n", out)


def run_imap(argv, commands, timeout=60):
    """Run the commands one at a time (each waits for its tagged reply,
    so Dovecot's parallel SEARCH can't reorder them). Returns the whole
    normalized output."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    out = bytearray()
    buf = bytearray()
    deadline = time.time() + timeout

    def read_until(pred):
        nonlocal buf
        while True:
            nl = buf.find(b"\r\n")
            while nl >= 0:
                line = bytes(buf[:nl + 2])
                del buf[:nl + 2]
                out.extend(line)
                if pred(line):
                    return True
                nl = buf.find(b"\r\n")
            r, _, _ = select.select([p.stdout], [], [],
                                    max(0.0, deadline - time.time()))
            if not r:
                raise TimeoutError(bytes(out[-300:]))
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                return False
            buf.extend(chunk)

    try:
        read_until(lambda line: line.startswith(b"* PREAUTH"))
        for cmd in commands:
            c = cmd.encode() if isinstance(cmd, str) else cmd
            tag = c.split(b" ", 1)[0] + b" "
            p.stdin.write(c + b"\r\n")
            p.stdin.flush()
            if not read_until(lambda line, t=tag: line.startswith(t)):
                break
        p.stdin.close()
        read_until(lambda line: False)
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
        if not p.stdin.closed:
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
    return normalize(bytes(out))


def roost_argv(conf, user):
    return [ROOST, "imap", "-c", conf, "-u", user]


def dovecot_argv(conf, user):
    return [DOVECOT_IMAP, "-c", conf, "-u", user]


def fresh_home(tmp, user, template):
    home = os.path.join(tmp, "home", user)
    if os.path.exists(home):
        shutil.rmtree(home)
    os.makedirs(home)
    shutil.copytree(template, os.path.join(home, "Maildir"),
                    copy_function=shutil.copy2)
    chown_tree(home)
    return home


def split_responses(out):
    """The session's lines keyed by tag: tag -> [untagged..., tagged]."""
    res = {}
    cur = []
    for line in out.split(b"\r\n"):
        if not line:
            continue
        cur.append(line)
        if not line.startswith(b"* ") and not line.startswith(b"+ "):
            tag = line.split(b" ", 1)[0].decode(errors="replace")
            res[tag] = cur
            cur = []
    if cur:
        res["<rest>"] = cur
    return res


def now():
    return int(time.time())

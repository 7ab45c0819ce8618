#!/usr/bin/env python3
"""sort-thread-diff.py - differential test of Roost's SORT and THREAD code
(mailstore/mail-sort.c, mail-thread.c, imap-base-subject.c) against
Debian's Dovecot 2.3.19 imap.

A corpus of messages with tricky subjects (Re:/Fwd:/[blob] leaders,
"(fwd)" trailers, "[fwd: ...]" wrappers, RFC 2047 words), missing or
broken Date headers, equal keys, missing or odd From/To/Cc, and
References chains with missing parents, loops and duplicate Message-IDs
is APPENDed (with INTERNALDATEs) to a fresh Maildir by Dovecot's imap,
started in PREAUTH mode from a throw-away config in a temporary
directory (never /etc/dovecot). Dovecot then answers SORT for every sort
program below and THREAD for ORDEREDSUBJECT, REFERENCES and REFS (also
as UID commands). Roost's side is tests/compat/sort-probe ($PROBE, built
as $(B)/bin/sort-probe), which opens the same Maildir through the
storage API. Answers are compared exactly.

Known differences are listed in tests/compat/sort-known-failures.txt as
"<command>  # reason".

Usage: sort-thread-diff.py [-v] [--keep] [--random N [--seed S]] [PROBE]
--random N tests N generated messages instead of the corpus (the same
for the same seed) to look for new differences; the known-failures
file does not apply to them.
Exit status 0 when every non-listed answer is identical."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KNOWN = os.path.join(TOP, "tests", "compat", "sort-known-failures.txt")
IMAP = os.environ.get("DOVECOT_IMAP", "/usr/lib/dovecot/imap")
BASE = 1700000000       # 2023-11-14 22:13:20 UTC

# (headers, INTERNALDATE as seconds after BASE). Every header block gets
# a body; messages are appended in this order (seq = index + 1).
CORPUS = [
    # 1-10: subjects
    ("From: Alice <alice@example.com>\nTo: bob@example.com\n"
     "Subject: Hello world\nDate: Tue, 21 Nov 2023 10:00:00 +0000\n"
     "Message-ID: <m1@example.com>", 0),
    ("From: bob@example.com\nTo: Alice <alice@example.com>\n"
     "Subject: Re: [list] Fwd: Hello world\n"
     "Date: Tue, 21 Nov 2023 11:00:00 +0000\n"
     "Message-ID: <m2@example.com>\nReferences: <m1@example.com>", 10),
    ("From: carol@example.com\nTo: alice@example.com\n"
     "Subject: hello   world (fwd)\nDate: Tue, 21 Nov 2023 09:00:00 +0000\n"
     "Message-ID: <m3@example.com>", 20),
    ("From: dave@example.com\nSubject: [fwd: Hello world]\n"
     "Date: Tue, 21 Nov 2023 12:00:00 +0000\nMessage-ID: <m4@example.com>",
     30),
    ("From: Eve <eve@example.com>\nSubject: Re: Re: RE:  re:hello world\n"
     "Date: Wed, 22 Nov 2023 08:00:00 +0100\n"
     "Message-ID: <m5@example.com>\nIn-Reply-To: <m3@example.com>", 40),
    ("From: frank@example.com\nSubject: Re[2]: Fw: FWD: Topic\n"
     "Date: Wed, 22 Nov 2023 08:00:00 +0000\nMessage-ID: <m6@example.com>",
     50),
    ("From: grace@example.com\nSubject: [list] [tag] Topic\n"
     "Date: Wed, 22 Nov 2023 07:00:00 +0000\nMessage-ID: <m7@example.com>",
     60),
    ("From: heidi@example.com\nSubject: [only a blob]\n"
     "Date: Wed, 22 Nov 2023 06:00:00 +0000\nMessage-ID: <m8@example.com>",
     70),
    ("From: ivan@example.com\nSubject: Re: [x]\n"
     "Date: Wed, 22 Nov 2023 05:00:00 +0000\nMessage-ID: <m9@example.com>",
     80),
    ("From: =?utf-8?q?=C3=89mile?= <emile@example.com>\n"
     "Subject: =?utf-8?q?R=C3=A9sum=C3=A9?= =?utf-8?q?_final?=\n"
     "Date: Thu, 23 Nov 2023 10:00:00 +0000\nMessage-ID: <m10@example.com>",
     90),
    # 11-20: dates and addresses
    ("From: =?iso-8859-1?q?=E9tienne?= <etienne@example.com>\n"
     "To: Undisclosed recipients:;\nSubject: =?iso-8859-1?q?=E9t=E9?=\n"
     "Date: garbage date\nMessage-ID: <m11@example.com>", 100),
    ("From: Zed <_zed@example.com>\nTo: \"Smith, Bob\" <bsmith@example.com>\n"
     "Subject: \tFwd: Fwd:fwd: thing (fwd) (FWD)\n"
     "Message-ID: <m12@example.com>", 110),
    ("To: nobody@example.com\nCc: Carol <carol@example.com>, d@example.com\n"
     "Subject: no from\nDate: 23 Nov 23 10:00 EST\n"
     "Message-ID: <m13@example.com>", 120),
    ("From: Bob Smith\nTo: <>\nCc: group: a@example.com, b@example.com;\n"
     "Subject: [fwd: Re: thing]\nDate: Thu, 23 Nov 2023 10:00:00 -0500\n"
     "Message-ID: <m14@example.com>", 120),
    ("From: \"\" <quoted@example.com>\nTo: \"Zoe\" <Zoe@example.com>\n"
     "Subject: \nDate: Thu, 23 Nov 2023 15:00:00 +0000\n"
     "Message-ID: <m15@example.com>", 130),
    ("From: ALICE@example.com\nTo: BOB@example.com\n"
     "Date: Thu, 23 Nov 2023 15:00:00 +0000\nMessage-ID: <m16@example.com>",
     140),
    ("From: \"o'brien\" <o.brien@example.com>\nCc: \"\"\n"
     "Subject: Re:\nDate: Fri, 24 Nov 2023 00:00:00 +1400\n"
     "Message-ID: <m17@example.com>", 150),
    ("From: alice@example.com (Alice Comment)\nTo: Émile <e@example.com>\n"
     "Subject: Re: hello world\nDate: Fri, 24 Nov 2023 00:00:00 +0000\n"
     "Message-ID: <m18@example.com>\nIn-Reply-To: <m1@example.com>", 150),
    ("From: =?utf-8?b?w4lsw6hvbm9yZQ==?= <leonore@example.com>\n"
     "To: =?utf-8?q?=C3=A0_b?= <ab@example.com>\n"
     "Subject: Fwd: Résumé final\nDate: Fri, 24 Nov 2023 01:00:00 +0000\n"
     "Message-ID: <m19@example.com>\nReferences: <m10@example.com>", 160),
    ("From: \"Quoted Local\"@example.com\nTo: \"x y\"@example.com\n"
     "Subject: ref: not a reply\nDate: Fri, 24 Nov 2023 02:00:00 +0000\n"
     "Message-ID: <m20@example.com>", 170),
    # 21-32: threading
    ("From: t1@example.com\nSubject: Thread A\n"
     "Date: Mon, 27 Nov 2023 10:00:00 +0000\n"
     "Message-ID: <a2@example.com>\n"
     "References: <a0@example.com> <a1@example.com>", 200),
    ("From: t2@example.com\nSubject: Re: Thread A\n"
     "Date: Mon, 27 Nov 2023 09:00:00 +0000\n"
     "Message-ID: <a3@example.com>\n"
     "References: <a0@example.com> <a1@example.com>", 210),
    ("From: t3@example.com\nSubject: Re: Thread A\n"
     "Date: Mon, 27 Nov 2023 11:00:00 +0000\n"
     "Message-ID: <a4@example.com>\n"
     "References: <a0@example.com> <a1@example.com> <a3@example.com>", 220),
    ("From: t4@example.com\nSubject: Loop one\n"
     "Date: Mon, 27 Nov 2023 12:00:00 +0000\n"
     "Message-ID: <l1@example.com>\nReferences: <l2@example.com>", 230),
    ("From: t5@example.com\nSubject: Loop two\n"
     "Date: Mon, 27 Nov 2023 12:30:00 +0000\n"
     "Message-ID: <l2@example.com>\nReferences: <l1@example.com>", 240),
    ("From: t6@example.com\nSubject: Duplicate id first\n"
     "Date: Mon, 27 Nov 2023 13:00:00 +0000\nMessage-ID: <dup@example.com>",
     250),
    ("From: t7@example.com\nSubject: Duplicate id second\n"
     "Date: Mon, 27 Nov 2023 13:30:00 +0000\nMessage-ID: <dup@example.com>",
     260),
    ("From: t8@example.com\nSubject: Re: Duplicate id first\n"
     "Date: Mon, 27 Nov 2023 14:00:00 +0000\n"
     "Message-ID: <dupreply@example.com>\nIn-Reply-To: <dup@example.com>",
     270),
    ("From: t9@example.com\nSubject: Self reference\n"
     "Date: Mon, 27 Nov 2023 15:00:00 +0000\n"
     "Message-ID: <self@example.com>\nReferences: <self@example.com>", 280),
    ("From: t10@example.com\nSubject: broken refs\n"
     "Date: Mon, 27 Nov 2023 16:00:00 +0000\nMessage-ID: noangle@example.com\n"
     "References: garbage <no-at-sign> <m7@example.com>\n"
     "In-Reply-To: <m6@example.com>", 290),
    ("From: t11@example.com\nSubject: Re: Topic\n"
     "Date: Mon, 27 Nov 2023 17:00:00 +0000\n"
     "Message-ID: <irt@example.com>\n"
     "In-Reply-To: <m6@example.com> (some comment) <m7@example.com>", 300),
    ("From: t12@example.com\nSubject: Thread B root missing\n"
     "Date: Tue, 28 Nov 2023 10:00:00 +0000\n"
     "Message-ID: <b2@example.com>\nReferences: <b1@example.com>", 310),
    # 33-40: more threading and ties
    ("From: t13@example.com\nSubject: Re: Thread B root missing\n"
     "Date: Tue, 28 Nov 2023 09:00:00 +0000\n"
     "Message-ID: <b3@example.com>\nReferences: <b1@example.com>", 320),
    ("From: t14@example.com\nSubject: Thread B root missing\n"
     "Date: Tue, 28 Nov 2023 11:00:00 +0000\n"
     "Message-ID: <b4@example.com>", 330),
    ("From: t15@example.com\nSubject: Newest reply in old thread\n"
     "Date: Fri, 1 Dec 2023 10:00:00 +0000\n"
     "Message-ID: <n1@example.com>\n"
     "References: <m1@example.com> <m2@example.com>", 340),
    ("From: t16@example.com\nSubject: same date one\n"
     "Date: Sat, 2 Dec 2023 10:00:00 +0000\nMessage-ID: <s1@example.com>",
     350),
    ("From: t16@example.com\nSubject: same date two\n"
     "Date: Sat, 2 Dec 2023 10:00:00 +0000\nMessage-ID: <s2@example.com>\n"
     "References: <s1@example.com>", 350),
    ("From: t17@example.com\nSubject: Re: same date one\n"
     "Date: Sat, 2 Dec 2023 10:00:00 +0000\nMessage-ID: <s3@example.com>\n"
     "References: <s1@example.com>", 350),
    ("From: t18@example.com\nSubject: no date at all\n"
     "Message-ID: <nd@example.com>\nReferences: <s1@example.com>", 50),
    ("From: t19@example.com\nSubject: [fwd: Thread A]\n"
     "Date: Sun, 3 Dec 2023 10:00:00 +0000\nMessage-ID: <fa@example.com>",
     360),
    ("From: t20@example.com\nSubject: Thread A\n"
     "Date: Sun, 3 Dec 2023 11:00:00 +0000\nMessage-ID: <ta@example.com>",
     370),
    ("From: t21@example.com\nSubject: Re: Loop one\n"
     "Date: Sun, 3 Dec 2023 12:00:00 +0000\n"
     "Message-ID: <l3@example.com>\nReferences: <l1@example.com>", 380),
    # 43-44: equal dates; REFS puts the thread under a (pruned) dummy
    # parent first, REFERENCES goes by sequence
    ("From: t22@example.com\nSubject: plain, no date", 400),
    ("From: t23@example.com\nSubject: parent missing, no date\n"
     "References: <gone@example.com>", 400),
]

SORT_PROGRAMS = [
    "(ARRIVAL)", "(REVERSE ARRIVAL)", "(DATE)", "(REVERSE DATE)",
    "(SIZE)", "(REVERSE SIZE)", "(SUBJECT)", "(REVERSE SUBJECT)",
    "(FROM)", "(REVERSE FROM)", "(TO)", "(REVERSE TO)", "(CC)",
    "(REVERSE CC)", "(DISPLAYFROM)", "(REVERSE DISPLAYFROM)",
    "(DISPLAYTO)", "(REVERSE DISPLAYTO)", "(SUBJECT DATE)",
    "(SUBJECT REVERSE DATE)", "(REVERSE SUBJECT ARRIVAL)",
    "(FROM SUBJECT)", "(TO REVERSE FROM)", "(CC SIZE)",
    "(DISPLAYFROM REVERSE SIZE)", "(DATE SIZE SUBJECT)",
]
THREADS = ["ORDEREDSUBJECT", "REFERENCES", "REFS"]


RANDOM_SUBJECTS = [
    "Hello", "Re: Hello", "RE: re: hello", "Fwd: Hello", "hello (fwd)",
    "[fwd: Hello]", "[list] Hello", "[list] Re: Hello", "Re: [list] hello",
    "Re[3]: Hello", "Fw: [a][b] Re: Hello", "[fwd: Re: Hello] (fwd)",
    "[blob]", "Re: [blob]", "[a] [b]", "Re:", "", "  ", "(fwd)",
    "Fwd:Fwd:  Topic\t here", "Topic here", "topic  here", "Re: Topic here",
    "=?utf-8?q?=C3=A9t=C3=A9?=", "=?utf-8?q?Re=3A_=C3=A9t=C3=A9?=",
    "Re: =?iso-8859-1?q?=E9t=E9?=", "\u00c9t\u00e9", "_under", "Zebra",
    "zebra", "[fwd: ]", "re : spaced", "Re:Re:Re:x", "[fwd: [fwd: x]]",
    "Ref: x", "fwd x", "[x] [y] z (fwd) (fwd)", "Re: Fwd:", "[Re: x]",
    "\u041f\u0440\u0438\u0432\u0435\u0442", "\u03b1\u03b2\u03b3",
    "\u65e5\u672c", "=?utf-8?b?0L/RgNC40LLQtdGC?=", "\u00e6ther",
    "\u0153uvre", "\u00df", "Ss", "\u0141\u00f3d\u017a", "Lodz",
]
RANDOM_ADDRS = [
    None, "a@example.com", "B@example.com", "Alice <alice@example.com>",
    "=?utf-8?q?=C3=89mile?= <emile@example.com>", "\"\" <q@example.com>",
    "undisclosed-recipients:;", "grp: x@example.com, y@example.com;",
    "Bob Smith", "bob", "<>", "\"Smith, Bob\" <bs@example.com>",
    "zed@example.com (Zed Comment)", "_u@example.com", "émile@example.com",
    "\"Quoted Local\"@example.com", "", "@", "<@route:r@example.com>",
]
RANDOM_DATES = [
    None, "garbage", "Tue, 21 Nov 2023 10:00:00 +0000",
    "Tue, 21 Nov 2023 10:00:00 +0100", "21 Nov 23 10:00 EST",
    "Wed, 22 Nov 2023 08:00:00 -0800", "Wed, 22 Nov 2023 08:00:00 -0800",
    "Thu, 1 Jan 1970 00:00:00 +0000", "Sat, 2 Dec 2023 10:00 +0000",
    "Mon, 27 Nov 2023 12:00:00 +0000 (UTC)", "2023-11-21 10:00:00",
    "Fri, 24 Nov 2023 25:00:00 +0000", "Sun, 3 Dec 2023 10:00:00 GMT",
]


def random_corpus(n, seed):
    """n generated messages: random subjects, addresses, dates and
    Message-ID/References/In-Reply-To among a small set of ids, so that
    missing parents, loops and duplicates are common."""
    import random
    rnd = random.Random(seed)
    ids = ["<r%d@example.com>" % i for i in range(max(4, n // 2))]
    corpus = []
    for _ in range(n):
        hdr = []
        for field, pool in (("From", RANDOM_ADDRS), ("To", RANDOM_ADDRS),
                            ("Cc", RANDOM_ADDRS), ("Date", RANDOM_DATES)):
            v = rnd.choice(pool)
            if v is not None:
                hdr.append("%s: %s" % (field, v))
        if rnd.random() < 0.9:
            hdr.append("Subject: %s" % rnd.choice(RANDOM_SUBJECTS))
        if rnd.random() < 0.85:
            mid = rnd.choice(ids)
            if rnd.random() < 0.1:
                mid = rnd.choice([mid[1:-1], mid + " (c)", "<x y@z>",
                                  mid.replace("@", ""), "<>", mid + mid])
            hdr.append("Message-ID: %s" % mid)
        r = rnd.random()
        if r < 0.5:
            hdr.append("References: %s" % " ".join(
                rnd.choice(ids) for _ in range(rnd.randint(1, 4))))
        if r > 0.3 and rnd.random() < 0.6:
            hdr.append("In-Reply-To: %s" % rnd.choice(ids))
        rnd.shuffle(hdr)
        corpus.append(("\n".join(hdr), rnd.choice([0, 0, 10, 20, 3600])
                       + rnd.randint(0, 3) * 86400))
    return corpus


def message(headers, n):
    body = "Body of message %d.\n" % n + "x" * (n % 5) * 10 + "\n"
    return (headers + "\n\n" + body).replace("\n", "\r\n").encode()


def commands():
    cmds = ["SORT %s" % p for p in SORT_PROGRAMS]
    cmds += ["THREAD %s" % t for t in THREADS]
    cmds += ["UID SORT (SUBJECT)", "UID THREAD REFERENCES"]
    return cmds


def imap_command(cmd):
    """The IMAP form of a probe command (charset and search added)."""
    m = re.match(r"(UID )?(SORT|THREAD) (.*)", cmd)
    uid, verb, arg = m.group(1) or "", m.group(2), m.group(3)
    return "%s%s %s UTF-8 ALL" % (uid, verb, arg)


class Dovecot:
    """Dovecot's imap in PREAUTH mode over a temporary Maildir."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sort-diff-")
        os.chmod(self.tmp, 0o755)
        self.home = os.path.join(self.tmp, "home")
        self.maildir = os.path.join(self.home, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))
        os.makedirs(os.path.join(self.tmp, "run"))
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("mail_location = maildir:%s\n"
                    "ssl = no\nbase_dir = %s/run\nlog_path = %s/log\n"
                    "first_valid_uid = 1\nfirst_valid_gid = 1\n"
                    % (self.maildir, self.tmp, self.tmp))
        self.argv = ["env", "-i", "USER=test", "HOME=" + self.home, IMAP,
                     "-c", self.conf]
        if os.getuid() == 0:
            subprocess.run(["chown", "-R", "nobody:nogroup", self.tmp],
                           check=True)
            self.argv = ["runuser", "-u", "nobody", "--"] + self.argv

    def session(self, lines):
        """Send tagged commands (bytes, tags t0, t1, ...) one at a time
        (Dovecot runs pipelined SORTs in parallel, mixing their untagged
        answers); return [(untagged lines, tagged line)] per command."""
        proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        res = []
        try:
            proc.stdout.readline()          # * PREAUTH
            for i, line in enumerate(lines):
                tag = b"t%d " % i
                proc.stdin.write(tag + line + b"\r\n")
                proc.stdin.flush()
                untagged = []
                while True:
                    resp = proc.stdout.readline()
                    if not resp:
                        res.append((untagged, b"(disconnected)"))
                        break
                    resp = resp.rstrip(b"\r\n")
                    if resp.startswith(tag):
                        res.append((untagged, resp))
                        break
                    untagged.append(resp)
            proc.stdin.write(b"z LOGOUT\r\n")
            proc.stdin.close()
        finally:
            proc.wait(timeout=60)
        while len(res) < len(lines):
            res.append(([], b"(no answer)"))
        return res

    def append_all(self, corpus):
        lines = []
        for n, (hdr, offset) in enumerate(corpus, 1):
            msg = message(hdr, n)
            date = "%s +0000" % subprocess.run(
                ["date", "-u", "-d", "@%d" % (BASE + offset),
                 "+%d-%b-%Y %H:%M:%S"], stdout=subprocess.PIPE,
                check=True, env={"LC_ALL": "C"}).stdout.decode().strip()
            lines.append(b'APPEND INBOX "%s" {%d+}\r\n' %
                         (date.encode(), len(msg)) + msg)
        for i, (_, tagged) in enumerate(self.session(lines)):
            if not tagged.startswith(b"t%d OK" % i):
                raise SystemExit("sort-thread-diff: APPEND %d failed: %r"
                                 % (i + 1, tagged))

    def ask(self, cmds):
        lines = [b"SELECT INBOX"] + [imap_command(c).encode() for c in cmds]
        answers = self.session(lines)[1:]
        res = []
        for untagged, tagged in answers:
            found = [u for u in untagged
                     if u.startswith(b"* SORT") or u.startswith(b"* THREAD")]
            if found:
                res.append(found[0].decode("utf-8", "replace").rstrip())
            else:
                res.append("NO/BAD " + tagged.decode("utf-8", "replace"))
        return res

    def close(self, keep):
        if keep:
            print("sort-thread-diff: kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def load_known():
    known = {}
    if os.path.exists(KNOWN):
        with open(KNOWN) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                cmd, _, reason = line.partition("#")
                known[cmd.strip()] = reason.strip()
    return known


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    keep = "--keep" in args
    args = [a for a in args if a not in ("-v", "--keep")]
    corpus, random_n, seed = CORPUS, 0, 1
    while len(args) >= 2 and args[0] in ("--random", "--seed"):
        if args[0] == "--random":
            random_n = int(args[1])
        else:
            seed = int(args[1])
        args = args[2:]
    if random_n > 0:
        corpus = random_corpus(random_n, seed)
    probe = args[0] if args else os.environ.get(
        "PROBE", os.path.join(TOP, "build", "bin", "sort-probe"))
    if not os.path.exists(IMAP):
        print("sort-thread-diff: %s not found: install dovecot-imapd" % IMAP)
        return 1
    if not os.path.exists(probe):
        print("sort-thread-diff: %s not found (make compat-test)" % probe)
        return 1

    dovecot = Dovecot()
    try:
        dovecot.append_all(corpus)
        cmds = commands()
        theirs = dovecot.ask(cmds)
        # Dovecot owns the Maildir's files; Roost only reads them (its
        # index goes next to them, so let root write there)
        p = subprocess.run([probe, "maildir:" + dovecot.maildir] + cmds,
                           stdout=subprocess.PIPE, timeout=120,
                           env=dict(os.environ, HOME=dovecot.home))
        ours = p.stdout.decode("utf-8", "replace").splitlines()
        if p.returncode != 0 or len(ours) != len(cmds):
            print("sort-thread-diff: probe failed (exit %d)" % p.returncode)
            ours += ["(no answer)"] * (len(cmds) - len(ours))
        known = load_known() if random_n == 0 else {}
        same = differ = listed = 0
        for cmd, t, o in zip(cmds, theirs, ours):
            if t == o:
                same += 1
                if cmd in known:
                    print("NOW PASSES (remove from known failures): %s" % cmd)
                if verbose:
                    print("ok   %s: %s" % (cmd, t))
                continue
            if cmd in known:
                listed += 1
                if verbose:
                    print("known %s  # %s" % (cmd, known[cmd]))
                continue
            differ += 1
            print("DIFF %s\n    dovecot: %s\n    roost:   %s" % (cmd, t, o))
        print("sort-thread-diff: %d messages, %d commands: %d identical, "
              "%d known differences, %d new differences"
              % (len(corpus), len(cmds), same, listed, differ))
        return 1 if differ else 0
    finally:
        dovecot.close(keep)


if __name__ == "__main__":
    sys.exit(main())

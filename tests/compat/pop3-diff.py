#!/usr/bin/env python3
"""POP3 differential test: the same pre-authenticated POP3 sessions run by
Debian's Dovecot (/usr/lib/dovecot/pop3 -u USER, its userdb reached
through a Dovecot started from a temp config) and by Roost (roost pop3
-u USER) on the same Maildir must produce byte-identical replies: sizes,
UIDLs, dot-stuffing and line-end conversion of RETR/TOP, error texts.
Then a DELE+RETR session on two identical copies of the Maildir must leave
the same files behind (expunged messages gone, RETR'd ones \\Seen).

The corpus is tests/data/mime/*.eml (LF, CRLF, CR-only, NUL bytes, no
final newline, lines starting with '.'), delivered by Dovecot's LDA.
Never touches /etc/dovecot or the system service. Must run as root (the
mail user is nobody). Env: ROOST = path of build/bin/roost."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOST = os.environ.get("ROOST", "build/bin/roost")
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UID = GID = 65534

SESSIONS = [
    "STAT\r\nLIST\r\nUIDL\r\nQUIT\r\n",
    "CAPA\r\nNOOP\r\nRSET\r\nLAST\r\nFOO bar\r\nquit\r\n",
    "LIST 99\r\nLIST x\r\nLIST 1 2\r\nLIST 0\r\nUIDL 99\r\nTOP 1\r\n"
    "TOP 1 x\r\nRETR\r\nDELE\r\nRETR -1\r\nTOP 1 99999999999999999999\r\n"
    "QUIT\r\n",
    "DELE 2\r\nDELE 2\r\nLIST 2\r\nRETR 2\r\nUIDL 2\r\nSTAT\r\nRSET\r\n"
    "STAT\r\nQUIT\r\n",
]


def conf_text(tmp):
    return """
protocols = pop3
mail_location = maildir:%(tmp)s/home/%%u/Maildir
userdb {
  driver = static
  args = uid=%(uid)d gid=%(gid)d home=%(tmp)s/home/%%u
}
passdb {
  driver = static
  args = nopassword
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
ssl = no
base_dir = %(tmp)s/run
log_path = %(tmp)s/dovecot.log
state_dir = %(tmp)s/state
first_valid_uid = 1
""" % {"tmp": tmp, "uid": UID, "gid": GID}


def run_session(cmd, conf, text):
    p = subprocess.run(cmd + ["-c", conf, "-u", "alice"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    return p.stdout


def all_tops(n):
    s = ""
    for i in range(1, n + 1):
        s += "TOP %d 0\r\nTOP %d 2\r\nRETR %d\r\nUIDL %d\r\nLIST %d\r\n" % (
            i, i, i, i, i)
    return s + "QUIT\r\n"


def chown_tree(path):
    for root, dirs, files in os.walk(path):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            os.lchown(n, UID, GID)


def maildir_state(path):
    res = []
    for sub in ("new", "cur"):
        for name in sorted(os.listdir(os.path.join(path, sub))):
            base = name.split(":")[0]
            flags = name.split(":2,")[1] if ":2," in name else ""
            res.append((base, flags))
    return sorted(res)


def main():
    if os.geteuid() != 0:
        print("pop3-diff: skipped (needs root to switch to the mail user)")
        return 0
    if not os.path.exists("/usr/lib/dovecot/pop3"):
        print("pop3-diff: Dovecot's pop3 is not installed (make deps)")
        return 1
    tmp = tempfile.mkdtemp(prefix="roost-pop3diff.")
    os.chmod(tmp, 0o755)
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(conf_text(tmp))
    for d in ("run", "state", "home"):
        os.makedirs(os.path.join(tmp, d))
    os.chown(os.path.join(tmp, "home"), UID, GID)
    dovecot = subprocess.Popen(["dovecot", "-F", "-c", conf],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    failures = 0
    try:
        for _ in range(100):
            if os.path.exists(os.path.join(tmp, "run", "auth-userdb")):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("Dovecot didn't start: " +
                               open(os.path.join(tmp, "dovecot.log")).read())
        corpus = sorted(glob.glob(os.path.join(TOP, "tests/data/mime/*.eml")))
        extra = os.path.join(tmp, "dots.eml")
        with open(extra, "wb") as f:
            f.write(b"Subject: dots\n\n.\n..\n.x\nline\n. \nend without nl")
        corpus.append(extra)
        for path in corpus:
            with open(path, "rb") as f:
                subprocess.run(["/usr/lib/dovecot/dovecot-lda", "-c", conf,
                                "-d", "alice"], stdin=f, check=True)
        sessions = SESSIONS + [all_tops(len(corpus))]
        dcmd = ["/usr/lib/dovecot/pop3"]
        rcmd = [ROOST, "pop3"]
        for i, text in enumerate(sessions):
            if text.startswith("DELE"):
                continue  # run below on copies
            d = run_session(dcmd, conf, text)
            r = run_session(rcmd, conf, text)
            if d != r:
                failures += 1
                dl, rl = d.split(b"\n"), r.split(b"\n")
                for j in range(max(len(dl), len(rl))):
                    a = dl[j] if j < len(dl) else b"<none>"
                    b = rl[j] if j < len(rl) else b"<none>"
                    if a != b:
                        print("session %d line %d:\n  dovecot: %r\n  roost:   %r"
                              % (i, j + 1, a[:200], b[:200]))
                        ctx = [x for x in dl[max(0, j - 8):j]]
                        print("  context: %r" % ctx)
                        break
        # DELE/RETR effects on two copies of the same Maildir
        maildir = os.path.join(tmp, "home", "alice", "Maildir")
        copy = maildir + ".orig"
        shutil.copytree(maildir, copy, symlinks=True)
        text = "DELE 2\r\nRETR 3\r\nDELE 5\r\nQUIT\r\n"
        d = run_session(dcmd, conf, text)
        dstate = maildir_state(maildir)
        shutil.rmtree(maildir)
        shutil.copytree(copy, maildir, symlinks=True)
        chown_tree(maildir)
        r = run_session(rcmd, conf, text)
        rstate = maildir_state(maildir)
        if d != r:
            failures += 1
            print("DELE session replies differ:\n%r\n%r" % (d[-200:], r[-200:]))
        if dstate != rstate:
            failures += 1
            print("Maildir after DELE differs:\n dovecot %s\n roost   %s"
                  % (dstate, rstate))
        # both sessions again on the result: identical views
        d = run_session(dcmd, conf, SESSIONS[0])
        r = run_session(rcmd, conf, SESSIONS[0])
        if d != r:
            failures += 1
            print("after DELE: views differ")
    finally:
        dovecot.terminate()
        dovecot.wait()
    total = len(sessions) + 2
    print("pop3-diff: %d/%d sessions identical with Dovecot (%d messages)"
          % (total - failures, total, len(corpus)))
    if failures == 0:
        shutil.rmtree(tmp)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

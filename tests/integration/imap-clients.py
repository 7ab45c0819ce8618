#!/usr/bin/env python3
"""Real IMAP clients against the running server (`dovecot -F -c CONF`
from a temp config; imap and imaps on free loopback ports, one
passwd-file Maildir user):

- mbsync (isync): a two-way sync of the server's mailboxes with a local
  Maildir (messages pulled, a local message and a local flag pushed, a
  server-side flag pulled), then a sync that must change nothing: exit
  status, its summary line, the local files and the server's state. Once
  over plaintext (secured: loopback), once over IMAPS.
- curl: imap:// (and with --ssl-reqd, i.e. STARTTLS) and imaps:// (-k):
  the mailbox list, a message fetched by UID (bytes compared with what was
  delivered, CRLF), a mailbox's SEARCH.
- getmail6: retrieving over IMAP and IMAPS into a Maildir, a second run
  retrieves nothing new.

IMAP_TARGET=dovecot runs it against Debian's Dovecot (proves the
expectations); the default is Roost (ROOST = build/bin/roost, its
`dovecot` and `dovecot-lda` links). Needs root; mbsync, curl and
getmail6 (scripts/deps.sh installs them). One line per check, exit 1 on
any failure."""
import imaplib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

from serverlib import free_port, passwd_auth

TARGET = os.environ.get("IMAP_TARGET", "roost")
ROOST = os.environ.get("ROOST", "build/bin/roost")
BIN = os.path.dirname(os.path.abspath(ROOST))
if TARGET == "dovecot":
    MASTER = shutil.which("dovecot") or "/usr/sbin/dovecot"
    LDA = "/usr/lib/dovecot/dovecot-lda"
else:
    MASTER = os.path.join(BIN, "dovecot")
    LDA = os.path.join(BIN, "dovecot-lda")
UID = GID = 65534
MSGS = [b"From: a@example.com\nTo: alice@example.com\nSubject: first\n"
        b"Message-ID: <c1@example.com>\n\nfirst body\n",
        b"From: b@example.com\nSubject: second\nMessage-ID: <c2@example.com>\n"
        b"\nsecond body\n.\n..dots\n",
        b"From: c@example.com\nSubject: third\nMessage-ID: <c3@example.com>\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        + "caf\u00e9\n".encode() * 200]

failures = 0


def check(ok, what, detail=""):
    global failures
    print("%s %s%s" % ("ok  " if ok else "FAIL", what,
                       "" if ok or not detail else "\n     " +
                       str(detail)[:1500].replace("\n", "\n     ")))
    if not ok:
        failures += 1


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, **kw)


def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Server:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="roost-imapclients.")
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        self.sport = free_port()
        self.home = os.path.join(self.tmp, "home", "alice")
        os.makedirs(self.home)
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write("alice:{PLAIN}secret:%d:%d::%s::\n" % (UID, GID, self.home))
        self.cert = os.path.join(self.tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", os.path.join(self.tmp, "key.pem"),
                        "-out", self.cert], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
state_dir = %(tmp)s/state
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = yes
ssl_cert = <%(tmp)s/cert.pem
ssl_key = <%(tmp)s/key.pem
auth_failure_delay = 0
%(auth)sservice imap-login {
  inet_listener imap {
    port = %(port)d
  }
  inet_listener imaps {
    port = %(sport)d
  }
}
""" % {"tmp": self.tmp, "auth": passwd_auth(self.tmp), "port": self.port, "sport": self.sport})
        for root, dirs, files in os.walk(os.path.join(self.tmp, "home")):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, UID, GID)
        self.master = None

    def start(self):
        self.master = subprocess.Popen([MASTER, "-F", "-c", self.conf],
                                       stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                if os.path.exists(os.path.join(self.tmp, "run", "auth-userdb")):
                    return True
            except OSError:
                try:
                    with open(os.path.join(self.tmp, "log")) as f:
                        if TARGET != "dovecot" and \
                                "starting up for (no protocols)" in f.read():
                            return False
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self):
        if self.master and self.master.poll() is None:
            self.master.send_signal(signal.SIGTERM)
            try:
                self.master.wait(20)
            except subprocess.TimeoutExpired:
                self.master.kill()
                self.master.wait()

    def deliver(self, msg, mailbox=None):
        argv = [LDA, "-c", self.conf, "-d", "alice"]
        if mailbox:
            argv += ["-m", mailbox]
        subprocess.run(argv, input=msg, check=True, timeout=30)

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=20)
        m.login("alice", "secret")
        return m

    def state(self):
        """{mailbox: sorted [(uid, flags, size)]} as the server sees it."""
        m = self.imap()
        res = {}
        for line in m.list()[1]:
            name = line.rsplit(b" ", 1)[1].strip(b'"').decode()
            typ, data = m.select(name, readonly=True)
            msgs = []
            if data[0] != b"0":
                for item in m.fetch("1:*", "(UID FLAGS RFC822.SIZE)")[1]:
                    mm = re.search(rb"UID (\d+)", item)
                    fl = re.search(rb"FLAGS \(([^)]*)\)", item)
                    sz = re.search(rb"RFC822.SIZE (\d+)", item)
                    msgs.append((int(mm.group(1)),
                                 " ".join(sorted(fl.group(1).decode().split())),
                                 int(sz.group(1))))
            res[name] = sorted(msgs)
        m.logout()
        return res


def maildir_files(path):
    res = {}
    for root, dirs, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            if os.path.basename(root) in ("cur", "new"):
                with open(p, "rb") as fh:
                    res[os.path.relpath(p, path)] = fh.read()
    return res


def test_mbsync(srv, tls):
    name = "mbsync-" + ("imaps" if tls else "plain")
    work = os.path.join(srv.tmp, name)
    local = os.path.join(work, "local")
    os.makedirs(local)
    rc = os.path.join(work, "mbsyncrc")
    with open(rc, "w") as f:
        f.write("""IMAPAccount srv
Host %(host)s
Port %(port)d
User alice
Pass secret
%(ssl)s

IMAPStore remote
Account srv

MaildirStore local
Path %(local)s/
Inbox %(local)s/INBOX
SubFolders Verbatim

Channel ch
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""" % {"port": srv.sport if tls else srv.port, "local": local,
       # the certificate names localhost, mbsync checks the host name
       "host": "localhost" if tls else "127.0.0.1",
       "ssl": ("SSLType IMAPS\nCertificateFile %s" % srv.cert) if tls
       else "SSLType None\nAuthMechs LOGIN"})
    mbsync = ["mbsync", "-c", rc, "-a"]
    p = run(mbsync)
    check(p.returncode == 0, "%s: first sync exits 0" % name,
          p.stdout + p.stderr)
    files = maildir_files(local)
    inbox = {k: v for k, v in files.items() if k.startswith("INBOX/")}
    check(len(inbox) == 3, "%s: 3 messages pulled into the local INBOX"
          % name, sorted(files))
    # mbsync's own bookkeeping header (X-TUID) does not count
    got = sorted(re.sub(rb"(?m)^X-TUID: .*\r?\n", b"", v)
                 for v in inbox.values())
    want = sorted(crlf(m) for m in MSGS)
    want_lf = sorted(m for m in MSGS)
    check(got == want or got == want_lf,
          "%s: local copies have the delivered bytes" % name,
          [g[:80] for g in got])
    check(any(k.startswith("Work/") for k in files),
          "%s: the Work mailbox came along" % name, sorted(files))
    if len(inbox) != 3:
        return
    # local changes: a new message, a flag; a server-side flag
    newmsg = b"From: local@example.com\nSubject: from mbsync %s\n\nlocal\n" % (
        name.encode())
    with open(os.path.join(local, "INBOX", "new",
                           "1700000000.M1P1.local"), "wb") as f:
        f.write(newmsg)
    first = sorted(k for k in inbox if "/cur/" in k or "/new/" in k)[0]
    src = os.path.join(local, first)
    base = os.path.basename(src).split(":2,")[0]
    os.rename(src, os.path.join(local, "INBOX", "cur", base + ":2,FS"))
    m = srv.imap()
    m.select("INBOX")
    m.store("3", "+FLAGS", "(\\Answered)")
    m.logout()
    p = run(mbsync)
    check(p.returncode == 0, "%s: second sync (changes both ways) exits 0"
          % name, p.stdout + p.stderr)
    st = srv.state()
    inbox_state = st.get("INBOX", [])
    check(len(inbox_state) == 4, "%s: the local message reached the server"
          % name, st)
    check(sum("\\Flagged" in fl for _, fl, _ in inbox_state) == 1,
          "%s: the local \\Flagged flag reached the server" % name, st)
    local_now = maildir_files(local)
    check(sum(1 for k in local_now if k.startswith("INBOX/") and
              re.search(r":2,[A-Z]*R", k)) == 1,
          "%s: the server's \\Answered reached the local Maildir" % name,
          sorted(local_now))
    # third sync: nothing to do
    before_local = maildir_files(local)
    before_srv = srv.state()
    p = run(mbsync)
    out = (p.stdout + p.stderr).decode(errors="replace")
    check(p.returncode == 0, "%s: third sync exits 0" % name, out)
    check(maildir_files(local) == before_local,
          "%s: third sync leaves the local Maildir alone" % name)
    check(srv.state() == before_srv,
          "%s: third sync leaves the server alone" % name)
    # undo for the next round: remove the pushed message on the server
    m = srv.imap()
    m.select("INBOX")
    typ, data = m.search(None, "FROM", "local@example.com")
    for n in data[0].split():
        m.store(n, "+FLAGS.SILENT", "(\\Deleted)")
    m.store("1:*", "-FLAGS.SILENT", "(\\Flagged \\Seen \\Answered)")
    m.expunge()
    m.logout()


def test_curl(srv):
    base = "imap://alice:secret@127.0.0.1:%d" % srv.port
    sbase = "imaps://alice:secret@127.0.0.1:%d" % srv.sport
    for what, url, extra in (("imap", base, []),
                             ("imap STARTTLS", base, ["--ssl-reqd", "-k"]),
                             ("imaps", sbase, ["-k"])):
        p = run(["curl", "-sS"] + extra + [url + "/"])
        out = p.stdout.replace(b"\r\n", b"\n")
        check(p.returncode == 0 and b'* LIST (\\HasNoChildren) "." INBOX\n'
              in out and b'"." Work' in out,
              "curl %s: mailbox list" % what, p.stdout + p.stderr)
        for uid, msg in enumerate(MSGS, 1):
            p = run(["curl", "-sS"] + extra +
                    [url + "/INBOX;UID=%d" % uid])
            check(p.returncode == 0 and p.stdout == crlf(msg),
                  "curl %s: message UID %d byte for byte" % (what, uid),
                  (p.stdout[:200], p.stderr))
        p = run(["curl", "-sS"] + extra + [url + "/INBOX;UID=2;SECTION=TEXT"])
        check(p.returncode == 0 and p.stdout == b"second body\r\n.\r\n..dots\r\n",
              "curl %s: BODY[TEXT] section" % what, (p.stdout, p.stderr))
        p = run(["curl", "-sS"] + extra + [url + "/INBOX?SUBJECT%20third"])
        check(p.returncode == 0 and p.stdout.strip() == b"* SEARCH 3",
              "curl %s: SEARCH" % what, (p.stdout, p.stderr))
        p = run(["curl", "-sS"] + extra + ["-X", "EXAMINE Work", url + "/"])
        check(p.returncode == 0 and b"* 1 EXISTS" in p.stdout,
              "curl %s: custom request EXAMINE" % what, (p.stdout, p.stderr))
    p = run(["curl", "-sS", "imap://alice:wrong@127.0.0.1:%d/" % srv.port])
    check(p.returncode == 67, "curl: wrong password is a login failure (67)",
          (p.returncode, p.stderr))


def test_getmail(srv, tls):
    name = "getmail-" + ("imaps" if tls else "plain")
    work = os.path.join(srv.tmp, name)
    dest = os.path.join(work, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(dest, sub))
    rc = os.path.join(work, "getmailrc")
    with open(rc, "w") as f:
        f.write("""[retriever]
type = %(type)s
server = 127.0.0.1
port = %(port)d
username = alice
password = secret
mailboxes = ("INBOX",)

[destination]
type = Maildir
path = %(dest)s/
user = nobody

[options]
read_all = false
delete = false
delivered_to = false
received = false
verbose = 1
""" % {"type": "SimpleIMAPSSLRetriever" if tls else "SimpleIMAPRetriever",
       "port": srv.sport if tls else srv.port, "dest": dest})
    for root, dirs, files in os.walk(work):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            os.lchown(n, UID, GID)
    # getmail refuses to deliver as root: the destination names a user
    argv = ["getmail", "--getmaildir", work, "--rcfile", rc]
    p = run(argv)
    out = (p.stdout + p.stderr).decode(errors="replace")
    check(p.returncode == 0, "%s: first run exits 0" % name, out)
    # getmail's own headers (Return-Path, X-getmail-retrieved-from-mailbox)
    # do not count
    got = sorted(re.sub(rb"(?m)^(Return-Path|X-getmail-[^:]*): .*\r?\n", b"", v)
                 for v in maildir_files(dest).values())
    check(len(got) == 3 and sorted(g.replace(b"\r\n", b"\n") for g in got)
          == sorted(MSGS), "%s: the 3 messages retrieved intact" % name,
          [g[:120] for g in got])
    check(re.search(r"3 messages \(\d+ bytes\) retrieved", out) is not None,
          "%s: reports 3 messages retrieved" % name, out)
    p = run(argv)
    out = (p.stdout + p.stderr).decode(errors="replace")
    check(p.returncode == 0 and "0 messages (0 bytes) retrieved" in out,
          "%s: second run retrieves nothing" % name, out)
    check(len(maildir_files(dest)) == 3, "%s: still 3 files" % name)


def main():
    if os.geteuid() != 0:
        print("imap-clients: skipped (needs root)")
        return 0
    missing = [p for p in ("mbsync", "curl", "getmail") if not shutil.which(p)]
    if missing:
        print("imap-clients: missing %s (make deps)" % " ".join(missing))
        return 1
    srv = Server()
    try:
        if TARGET != "dovecot":
            p = subprocess.run([ROOST, "imap", "-c", srv.conf, "-u", "alice"],
                               input=b"x LOGOUT\r\n", stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, timeout=20)
            if not p.stdout.startswith(b"* PREAUTH"):
                print("imap-clients: skipped (%s imap is not available yet)"
                      % ROOST)
                return 0
        if not srv.start():
            print("imap-clients: skipped (Roost's daemon serves no IMAP yet: "
                  "no imap-login)")
            return 0
        for m in MSGS:
            srv.deliver(m)
        m = srv.imap()
        m.create("Work")
        m.append("Work", None, None, b"Subject: work\r\n\r\nwork\r\n")
        m.logout()
        test_curl(srv)
        test_mbsync(srv, tls=False)
        test_mbsync(srv, tls=True)
        test_getmail(srv, tls=False)
        test_getmail(srv, tls=True)
    finally:
        srv.stop()
        if failures == 0 and not os.environ.get("KEEP"):
            shutil.rmtree(srv.tmp, ignore_errors=True)
        else:
            print("imap-clients: kept %s" % srv.tmp)
    print("imap-clients (%s): %s" % (TARGET, "all passed" if not failures
                                     else "%d failed" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Crash safety and concurrency of the mbox storage.

Rounds of: a saving process, a flagging/expunging process (every expunge
is a journaled rewrite of the file's tail) and an MTA-like writer that
appends under the dotlock and an fcntl lock as Postfix's local(8) does
(deferring and retrying when it can't get both), all on one mbox at the
same time; the two Roost processes are killed with SIGKILL at random
moments - in the middle of rewrites, saves and header updates. After every
round the mailbox is checked through the storage API (mailstore-probe
dump), which first finishes any interrupted rewrite from its journal:

- every save that reported its commit is present once, with the UID it
  was given (UIDs never change), unless an expunge reported it gone;
- every MTA delivery is present once unless expunged;
- no Message-ID appears twice, UIDs ascend, UIDVALIDITY never changes;
- the file has no stale-tail marker left and no journal remains.

Env: PROBE = path of build/bin/mailstore-probe. ROUNDS (default 40).
"""
import errno
import fcntl
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

PROBE = os.environ.get("PROBE", "build/bin/mailstore-probe")
ROUNDS = int(os.environ.get("ROUNDS", "40"))


def parse_lines(out, word):
    res = []
    for line in out.decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == word:
            res.append((parts[1], int(parts[2])))
    return res


def expungeable(mid):
    """The churner expunges only ids whose last digit is odd."""
    return len(mid) > 2 and mid[-2].isdigit() and int(mid[-2]) % 2 == 1


def dotlock_take(path, stop):
    """O_EXCL dotlock with "<pid>:<host>" content; a lock of a dead
    process on this host is taken over (what Roost and Dovecot do)."""
    lock = path + ".lock"
    host = socket.gethostname()
    while not stop.is_set():
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.write(fd, ("%d:%s" % (os.getpid(), host)).encode())
            os.close(fd)
            return lock
        except FileExistsError:
            pass
        try:
            with open(lock) as f:
                pid, _, lhost = f.read().partition(":")
            if lhost == host and pid.isdigit():
                try:
                    os.kill(int(pid), 0)
                except OSError as e:
                    if e.errno == errno.ESRCH:
                        os.unlink(lock)
                        continue
        except (FileNotFoundError, ValueError):
            continue
        time.sleep(0.002)
    return None


def mta_deliver(mbox, ids, stop):
    while not stop.is_set():
        mid = "<mta-%d>" % len(ids)
        lock = dotlock_take(mbox, stop)
        if lock is None:
            break
        delivered = False
        try:
            with open(mbox, "ab") as f:
                for _ in range(20):
                    try:
                        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        delivered = True
                        break
                    except OSError:
                        time.sleep(0.005)
                if delivered:
                    f.write(("From mta@example.net  Thu Nov 26 01:02:03 "
                             "2026\nMessage-ID: %s\nSubject: mta\n\n"
                             "From the MTA\n\n" % mid).encode())
                    f.flush()
                    os.fsync(f.fileno())
                    fcntl.lockf(f, fcntl.LOCK_UN)
                    ids.append(mid)
        finally:
            os.unlink(lock)
        # deferred mail is retried later, as Postfix does
        time.sleep(random.uniform(0, 0.02) if delivered else 0.1)


def main():
    random.seed(int(os.environ.get("SEED", "0")) or None)
    tmp = tempfile.mkdtemp(prefix="roost-mbox-crash.")
    mbox = os.path.join(tmp, "mbox")
    loc = "mbox:%s/mail:INBOX=%s" % (tmp, mbox)
    journal = os.path.join(tmp, "mail", ".imap", "INBOX",
                           "roost-mbox-rewrite")
    env = dict(os.environ, HOME=tmp)
    # a few MB of old mail, so that expunges rewrite long tails and the
    # kills land inside rewrites
    with open(mbox, "w") as f:
        for i in range(int(os.environ.get("PREFILL", "300"))):
            f.write("From old@example.net  Thu Nov 26 01:02:03 2026\n"
                    "Message-ID: <old-%d0>\nSubject: old\n\n%s\n\n"
                    % (i, "old mail line\n" * 700))
    subprocess.run([PROBE, loc, "dump"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    saved = {}
    expunged = set()
    mta_ids = []
    uidvalidity = None
    kills = 0
    journals = 0
    stale_locks = 0
    for rnd in range(ROUNDS):
        stop = threading.Event()
        mta = threading.Thread(target=mta_deliver, args=(mbox, mta_ids, stop))
        mta.start()
        saver = subprocess.Popen([PROBE, loc, "save", "30", "r%d" % rnd],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=env)
        churn = subprocess.Popen([PROBE, loc, "churn", "40"],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=env)
        time.sleep(random.uniform(0.02, 0.5))
        for p in (saver, churn):
            if p.poll() is None:
                p.kill()
                kills += 1
        sout, _ = saver.communicate()
        cout, _ = churn.communicate()
        stop.set()
        mta.join()
        # A process killed between creating mbox.lock (O_EXCL) and writing
        # its pid into it leaves an empty lock, taken over only after
        # mbox_dotlock_change_timeout (2 minutes, as in Dovecot). The test
        # plays the clock instead of waiting.
        lock = mbox + ".lock"
        try:
            if os.path.getsize(lock) == 0:
                os.unlink(lock)
                stale_locks += 1
        except FileNotFoundError:
            pass
        if os.path.exists(journal):
            journals += 1
        for mid, uid in parse_lines(sout, "saved"):
            assert mid not in saved, "saved twice: %s" % mid
            saved["<%s>" % mid] = uid
        for mid, uid in parse_lines(cout, "expunged"):
            expunged.add(mid)
        dump = subprocess.run([PROBE, loc, "dump"], check=True, env=env,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode()
        assert not os.path.exists(journal), "journal left after recovery"
        with open(mbox, "rb") as f:
            assert b"ROOST-STALE-TAIL" not in f.read(), "stale tail kept"
        seen = {}
        uids = []
        for line in dump.splitlines():
            parts = line.split()
            if parts[0] == "uidvalidity":
                if uidvalidity is None:
                    uidvalidity = parts[1]
                assert parts[1] == uidvalidity, "UIDVALIDITY changed"
                continue
            uid, mid = int(parts[0]), parts[1]
            assert mid not in seen, "round %d: %s twice (uids %d %d)" % (
                rnd, mid, seen.get(mid, 0), uid)
            seen[mid] = uid
            uids.append(uid)
        assert uids == sorted(set(uids)), "UIDs not unique/ascending"
        for mid, uid in saved.items():
            if mid in expunged:
                assert mid not in seen, "expunged but present: %s" % mid
                continue
            if expungeable(mid) and mid not in seen:
                continue    # the churner died between commit and report
            assert mid in seen, "round %d: committed save lost: %s" % (rnd, mid)
            assert seen[mid] == uid, "%s: UID %d became %d" % (
                mid, uid, seen[mid])
        for mid in mta_ids:
            if mid in expunged or (expungeable(mid) and mid not in seen):
                continue
            assert mid in seen, "round %d: MTA delivery lost: %s" % (rnd, mid)
    print("mbox-crash: %d rounds, %d SIGKILLs (%d mid-rewrite, finished "
          "from the journal; %d empty dotlocks aged out), %d saves, %d MTA "
          "deliveries, %d expunges: nothing lost or duplicated, UIDs kept"
          % (ROUNDS, kills, journals, stale_locks, len(saved), len(mta_ids),
             len(expunged)))
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())

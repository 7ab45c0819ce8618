#!/usr/bin/env python3
"""Crash safety and concurrency of the Maildir storage.

Rounds of: a saving process, a flagging/expunging process and an MTA-like
writer (tmp/ then rename into new/, as Postfix's virtual/local and
procmail do) run at the same time on one Maildir; the two Roost
processes are killed with SIGKILL at random moments. After every round
the mailbox is checked through the storage API (mailstore-probe dump):

- every save that reported its commit is present once, with the UID it
  was given (UIDs never change), unless an expunge reported it gone;
- every reported expunge is gone; every MTA delivery is present once
  unless expunged;
- no Message-ID appears twice, UIDs are unique, UIDVALIDITY never changes.

Env: PROBE = path of build/bin/mailstore-probe. ROUNDS (default 40).
"""
import os
import random
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


def mta_deliver(maildir, ids, stop):
    n = 0
    while not stop.is_set():
        mid = "<mta-%d>" % len(ids)
        name = "%d.P%dQ%d.mta" % (time.time(), os.getpid(), len(ids))
        tmp = os.path.join(maildir, "tmp", name)
        with open(tmp, "w") as f:
            f.write("Message-ID: %s\nSubject: mta\n\nfrom the MTA\n" % mid)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(maildir, "new", name))
        ids.append(mid)
        n += 1
        time.sleep(random.uniform(0, 0.01))


def main():
    random.seed(int(os.environ.get("SEED", "0")) or None)
    tmp = tempfile.mkdtemp(prefix="roost-crash.")
    maildir = os.path.join(tmp, "Maildir")
    loc = "maildir:" + maildir
    env = dict(os.environ, HOME=tmp)
    # create the mailbox
    subprocess.run([PROBE, loc, "dump"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    saved = {}       # Message-ID -> uid
    expunged = set()
    mta_ids = []
    uidvalidity = None
    kills = 0
    stale_locks = 0
    for rnd in range(ROUNDS):
        stop = threading.Event()
        mta = threading.Thread(target=mta_deliver,
                               args=(maildir, mta_ids, stop))
        mta.start()
        saver = subprocess.Popen([PROBE, loc, "save", "40", "r%d" % rnd],
                                 stdout=subprocess.PIPE, env=env)
        churn = subprocess.Popen([PROBE, loc, "churn", "60"],
                                 stdout=subprocess.PIPE, env=env)
        time.sleep(random.uniform(0.005, 0.25))
        for p in (saver, churn):
            if p.poll() is None:
                p.kill()
                kills += 1
        sout, _ = saver.communicate()
        cout, _ = churn.communicate()
        stop.set()
        mta.join()
        # A writer killed inside dovecot-uidlist.lock leaves the lock; it
        # is taken over after the 2-minute stale timeout Dovecot uses
        # too (a replace-mode lock holds file content, not a pid). The
        # test plays the clock instead of waiting.
        lock = os.path.join(maildir, "dovecot-uidlist.lock")
        if os.path.exists(lock):
            os.unlink(lock)
            stale_locks += 1
        for mid, uid in parse_lines(sout, "saved"):
            assert mid not in saved, "saved twice: %s" % mid
            saved["<%s>" % mid] = uid
        for mid, uid in parse_lines(cout, "expunged"):
            expunged.add(mid)
        dump = subprocess.run([PROBE, loc, "dump"], check=True, env=env,
                              stdout=subprocess.PIPE).stdout.decode()
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
                # the churner may die between its commit and its report
                continue
            assert mid in seen, "round %d: committed save lost: %s" % (rnd, mid)
            assert seen[mid] == uid, "%s: UID %d became %d" % (
                mid, uid, seen[mid])
        for mid in mta_ids:
            if mid in expunged or (expungeable(mid) and mid not in seen):
                continue
            assert mid in seen, "round %d: MTA delivery lost: %s" % (rnd, mid)
    print("mailstore-crash: %d rounds, %d SIGKILLs, %d saves, %d MTA "
          "deliveries, %d expunges, %d stale uidlist locks: nothing lost or "
          "duplicated, UIDs kept"
          % (ROUNDS, kills, len(saved), len(mta_ids), len(expunged),
             stale_locks))
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())

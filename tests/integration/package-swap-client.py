#!/usr/bin/env python3
"""The client of package-swap-inside.sh: wait (for 143 and 110),
record STATE (log in over IMAP and POP3 as swapuser, flag message 2,
write UIDVALIDITY, UIDs, flags and UIDLs), compare STATE (the same
logins must show the same values)."""
import imaplib
import json
import poplib
import re
import socket
import sys
import time

USER, PASSWORD = "swapuser", "Swap-pw-1"


def wait():
    deadline = time.time() + 30
    for port in (143, 110):
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 2).close()
                break
            except OSError:
                if time.time() > deadline:
                    return 1
                time.sleep(0.2)
    return 0


def state(set_flag):
    c = imaplib.IMAP4("127.0.0.1", 143)
    c.login(USER, PASSWORD)
    typ, _ = c.select("INBOX")
    uidvalidity = c.untagged_responses.get("UIDVALIDITY", [b"?"])[0]
    if set_flag:
        c.store("2", "+FLAGS", "(\\Flagged)")
    typ, data = c.fetch("1:*", "(UID FLAGS)")
    msgs = []
    for line in data:
        m = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", line)
        flags = sorted(f for f in m.group(2).decode().split()
                       if f != "\\Recent")
        msgs.append([int(m.group(1)), flags])
    c.logout()
    p = poplib.POP3("127.0.0.1", 110, timeout=10)
    p.user(USER)
    p.pass_(PASSWORD)
    uidls = [x.decode() for x in p.uidl()[1]]
    p.quit()
    return {"uidvalidity": uidvalidity.decode(), "messages": msgs,
            "uidls": uidls}


def main():
    if sys.argv[1] == "wait":
        return wait()
    if sys.argv[1] == "record":
        s = state(True)
        with open(sys.argv[2], "w") as f:
            json.dump(s, f)
        print(json.dumps(s))
        return 0
    with open(sys.argv[2]) as f:
        want = json.load(f)
    got = state(False)
    if got != want:
        print("want %s\ngot  %s" % (json.dumps(want), json.dumps(got)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

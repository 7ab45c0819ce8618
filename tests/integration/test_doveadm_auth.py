"""doveadm auth test|login|lookup and doveadm user: Roost's doveadm run
against `roost auth` compared with Dovecot's doveadm run against a
Dovecot started on the same kind of config (users and settings; paths
differ only by the temp dir, which is replaced by TMP). Without a
usable Dovecot the comparison cases are skipped and the recorded
expectations below are checked against Roost alone."""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import authlib  # noqa: E402

DOVEADM = os.path.join(os.path.dirname(authlib.ROOST), "doveadm")
EXTRA_USERS = [
    "eve:{PLAIN}evepw:1001:1002::HOME/eve::"
    "userdb_quota_rule=*:storage=1M userdb_foo=bar",
    "frank:{PLAIN}fpw:::HOME/frank::",
    "low:{PLAIN}lpw:100:100::HOME/low::",
    "long:{PLAIN}x:1003:1003::HOME/a-very-long-home-directory-path-that-"
    "goes-on-and-on/and/on/and/on/x::userdb_k=v userdb_quota_rule=*:bytes=1",
]

# Dovecot's auth server enforces no disable_plaintext_auth and ends OK and
# PASS replies with an empty field; Roost's does neither yet (see the
# report), so these cases differ in the server, not in doveadm.
SERVER_DIFFS = {"auth test alice secret", "auth login alice secret",
                "auth login eve evepw", "auth lookup alice",
                "auth lookup alice nosuch carol", "auth lookup eve",
                "auth test -x service=imap -x rip=192.0.2.5 alice secret",
                "auth test -M carol alice secret"}

CASES = [
    "auth test alice secret", "auth test alice wrong", "auth test nosuch x",
    "auth test -x service=imap -x rip=192.0.2.5 alice secret",
    "auth test -A LOGIN alice secret", "auth test alice", "auth test",
    "auth test -x rip=bad alice x", "auth test -a /nonexist alice secret",
    "auth test -M carol alice secret",
    "auth login alice secret", "auth login eve evepw",
    "auth login alice wrong", "auth login",
    "auth login -m /nonexist alice secret",
    "auth lookup alice", "auth lookup nosuch",
    "auth lookup alice nosuch carol",
    "auth lookup -f user alice nosuch carol",
    "auth lookup -a /nonexist alice", "auth lookup", "auth lookup eve",
    "user alice", "user nosuch", "user alice carol nosuch",
    "user nosuch alice", "user -u alice carol", "user -u alice nosuch carol",
    "user -f home alice nosuch carol", "user -f uid frank",
    "user -f nope alice", "user eve", "user -u eve", "user frank",
    "user -u frank", "-o mail_location=mbox:/x/mail user eve",
    "user *", "user A*", "user a* carol", "user ?ve", "user alice c*",
    "user", "user -a /nonexist alice", "user -u -a /nonexist alice",
    "-f flow user alice nosuch", "-f tab auth test alice wrong",
    "-f json auth lookup nosuch", "user -x rip=bad alice", "user -Z alice",
    # uid under first_valid_uid: no mail user, exit 75
    "user low", "user low alice", "user -f uid low", "user -u low",
    # -e: the mail user's variables
    "user -e %u:%{uid}:%{gid}:%h:%{home}:%{userdb:mail} alice",
    "user -e %n/%d/%{auth_user}/%{auth_username}/%{auth_domain} "
    "dave@example.com",
    "user -e %{userdb:quota_rule}|%{userdb:nope}|%{userdb:nope:dflt} eve",
    "user -e [%h][%{userdb:home}][%{userdb:mail}] frank",
    "-o mail_home=/mh/%u user -e [%h][%{userdb:home}] frank",
    "-o mail_uid=2000 user -e [%i][%{uid}][%{userdb:uid}] alice",
    "-o mail_location=mbox:~/m user -e [%{userdb:mail}] frank",
    "user -x service=imap -x rip=192.0.2.7 -x lip=192.0.2.1 -e "
    "%s/%r/%l/%{rip}/%{lip}/%{local_ip}/%{remote_ip} alice",
    "user -e %u alice nosuch carol", "user -e %u nosuch alice",
    "user -e x%{nope}y alice carol", "user -e %% alice",
    "user -e %{if;%u;eq;alice;yes;no} alice", "user -e %Lu/%{md5:user} eve",
    "user -e [%u] low alice", "user -e %u a*", "user -u -e %u alice",
    "user -e %u -f uid alice", "user -e",
] + ["-f %s %s" % (fmt, args)
     for fmt in ("json", "table", "tab", "flow", "pager")
     for args in ("user alice", "user alice carol", "user nosuch",
                  "user alice nosuch", "user -u alice", "user -u eve nosuch",
                  "user -f uid alice carol", "user -f nope alice",
                  "user a*", "user -e %u alice carol", "user low alice",
                  "user long", "user frank eve", "user dave@example.com")]

# Recorded from Dovecot 2.3.19.1 (Debian 12) on this config.
RECORDED = {
    "user alice": (0, "field\tvalue\nuid\t1000\ngid\t1000\n"
                   "home\tTMP/home/alice\nmail\tmaildir:~/Maildir\n", ""),
    "user nosuch": (67, "field\tvalue\n\nuserdb lookup: user nosuch "
                    "doesn't exist\n", ""),
    "user -u eve": (0, "userdb: eve\n  user      : eve\n  uid       : 1001\n"
                    "  gid       : 1002\n  home      : TMP/home/eve\n"
                    "  quota_rule: *:storage=1M\n  foo       : bar\n", ""),
    "user -f home alice": (0, "TMP/home/alice\n", ""),
    "user *": (0, "alice\ndave@example.com\ncarol\neve\nfrank\nlow\n"
               "long\n", ""),
    "auth test alice wrong": (77, "passdb: alice auth failed\n"
                              "extra fields:\n  user=alice\n", ""),
    "auth lookup nosuch": (67, "passdb lookup: user nosuch doesn't exist\n",
                           ""),
}


def setup_dir(tmp):
    conf = authlib.write_config(tmp)
    with open(os.path.join(tmp, "users"), "a") as f:
        for u in EXTRA_USERS:
            f.write(u.replace("HOME", tmp + "/home") + "\n")
    return conf


def run(binary, conf, tmp, args):
    p = subprocess.run([binary, "-c", conf] + args.split(),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    norm = []
    for data in (p.stdout, p.stderr):
        s = data.decode("utf-8", "replace").replace(tmp, "TMP")
        # doveadm(user)<pid><> and doveadm(pid) prefixes
        s = re.sub(r"<\d+><>", "<PID><>", s)
        norm.append(re.sub(r"doveadm\(\d+\)", "doveadm(PID)", s))
    return (p.returncode, norm[0], norm[1])


def dovecot_usable():
    return (shutil.which("dovecot") is not None and
            shutil.which("doveadm") is not None and os.geteuid() == 0)


class DoveadmAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rtmp = authlib.tmpdir()
        cls.rconf = setup_dir(cls.rtmp)
        cls.server = authlib.AuthServer(cls.rconf, cls.rtmp)
        cls.dtmp = cls.dproc = None
        if dovecot_usable():
            cls.dtmp = authlib.tmpdir()
            # Dovecot's auth runs as its own user and must read users
            os.chmod(cls.dtmp, 0o755)
            cls.dconf = setup_dir(cls.dtmp)
            # no auth penalty (Roost's server has none; it changes no
            # answer): the cases without a remote IP share one, and it
            # grew to 15 s a case. The auth process cannot connect to
            # anvil-auth-penalty, and so applies none.
            with open(cls.dconf, "a") as f:
                f.write("service anvil {\n  unix_listener "
                        "anvil-auth-penalty {\n    mode = 0\n  }\n}\n")
            cls.dproc = subprocess.Popen(
                ["dovecot", "-F", "-c", cls.dconf],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            sock = os.path.join(cls.dtmp, "run", "auth-userdb")
            for _ in range(250):
                if os.path.exists(sock):
                    break
                time.sleep(0.02)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        authlib.rmtree(cls.rtmp)
        if cls.dproc is not None:
            cls.dproc.terminate()
            cls.dproc.wait(timeout=10)
            authlib.rmtree(cls.dtmp)

    def roost(self, args):
        return run(DOVEADM, self.rconf, self.rtmp, args)

    # Dovecot's doveadm on Dovecot's server, once per case: both
    # comparisons use the same answer
    dovecot_answers = {}

    def dovecot(self, args):
        if args not in self.dovecot_answers:
            self.dovecot_answers[args] = run("doveadm", self.dconf,
                                             self.dtmp, args)
        return self.dovecot_answers[args]

    def test_recorded(self):
        for args, want in RECORDED.items():
            with self.subTest(args=args):
                self.assertEqual(self.roost(args), want)

    def test_against_dovecot(self):
        if self.dproc is None:
            self.skipTest("no usable Dovecot")
        # a case's two runs (two servers) at once, the cases in order
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
            for args in CASES:
                if args in SERVER_DIFFS:
                    continue
                with self.subTest(args=args):
                    got = ex.submit(self.roost, args)
                    want = self.dovecot(args)
                    self.assertEqual(got.result(), want)

    def test_client_against_dovecot_server(self):
        """Our doveadm on Dovecot's own sockets: every case, the server
        differences included, must match byte for byte."""
        if self.dproc is None:
            self.skipTest("no usable Dovecot")
        for args in CASES:
            with self.subTest(args=args):
                want = self.dovecot(args)
                self.assertEqual(run(DOVEADM, self.dconf, self.dtmp, args),
                                 want)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""The quota and imap_quota plugins, differential against Debian's
Dovecot 2.3.19 run from a copy of the same config: GETQUOTAROOT,
GETQUOTA, SETQUOTA, APPEND/COPY/MOVE over quota (per-mailbox rules,
ignored mailboxes, the messages limit, grace), dovecot-lda refusing
(-e: exit 77) or tempfailing (quota_full_tempfail: 75) over quota,
`doveadm quota get` on the same Maildir, `doveadm quota recalc` writing
maildirsize as Dovecot does, the count backend, quota_warning scripts,
and the commands being unknown without the plugins.

Env: ROOST = path of build/bin/roost; IMAP_DIFF=0 skips the Dovecot
side (Roost's output is still checked against the texts below)."""
import os
import re
import shutil
import time
import unittest

from pluginlib import Env, Session, HAVE_DOVECOT, UID, GID

QUOTA_CONF = """mail_plugins = quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=1K
  quota_rule2 = *:messages=3
  quota_rule3 = Trash:storage=+100%%%%
  quota_rule4 = Spam:ignore
  quota_grace = 10%%%%
  quota_warning = storage=50%%%% quota-warning 50 %%u
  quota_warning2 = -storage=50%%%% quota-warning below %%u
}
service quota-warning {
  executable = script %(tmp)s/qw.sh
  unix_listener quota-warning {
    user = nobody
    mode = 0666
  }
}
"""

COUNT_CONF = """mail_plugins = quota
plugin {
  quota = count:Count quota
  quota_rule = *:storage=2K
  quota_vsizes = yes
}
"""

TRASH_CONF = """mail_plugins = quota trash
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=1K
  trash = %(tmp)s/trash.conf
}
"""

PARAMS_CONF = """mail_plugins = quota quota_clone
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
namespace inbox {
  inbox = yes
  separator = /
}
namespace pub {
  prefix = Pub/
  separator = /
  location = maildir:%(tmp)s/pub
  list = yes
  subscriptions = no
}
plugin {
  quota = count:User quota
  quota_rule = *:storage=10K
  quota2 = count:Hidden quota:hidden
  quota2_rule = *:storage=20K
  quota3 = count:Unl quota:ignoreunlimited
  quota4 = count:Pub quota:ns=Pub/
  quota4_rule = *:messages=5
  quota5 = count:Noenf:noenforcing
  quota5_rule = *:storage=1
  quota_vsizes = yes
  quota_clone_dict = file:%(tmp)s/qc/clone.dict
}
"""

MAILDIR_NS_CONF = PARAMS_CONF.split("plugin {")[0] + """plugin {
  quota = maildir:Pubdir:ns=Pub/
  quota_rule = *:storage=10M
}
"""

MSG = b"Subject: m\n\n" + b"0" * 300 + b"\n"     # 313 bytes
OVER = "Quota exceeded (mailbox for user is full)"


def norm(text):
    text = re.sub(r"(UIDVALIDITY|APPENDUID|COPYUID) \d+", r"\1 <v>", text)
    # OBJECTID (RFC 8474): Roost's SELECT/EXAMINE line Dovecot 2.3 lacks
    text = re.sub(r"\* OK \[MAILBOXID \([A-Za-z0-9_-]+\)\] Ok\r\n", "", text)
    text = re.sub(r"\[MAILBOXID \([A-Za-z0-9_-]+\)\] (Create completed)",
                  r"\1", text)
    return text


def make_env(extra_fmt):
    env = Env("", prefix="roost-quota.")
    env.write_conf(extra_fmt % {"tmp": env.tmp})
    # the warning script runs as the mail user in Roost, as root in
    # Dovecot: a log both can write
    qw = os.path.join(env.tmp, "qw.sh")
    with open(qw, "w") as f:
        f.write("#!/bin/sh\necho \"$*\" >> %s/qwlog/qw.log\n" % env.tmp)
    os.chmod(qw, 0o755)
    os.makedirs(os.path.join(env.tmp, "qwlog"))
    os.chmod(os.path.join(env.tmp, "qwlog"), 0o777)
    return env


def script(env, user, dovecot):
    """The IMAP part of the comparison, one command at a time."""
    s = Session(env, user, dovecot)
    # Roost doesn't advertise everything Dovecot does yet: only the
    # plugin's part of the greeting is compared
    out = "QUOTA" if s.greeting.endswith(" QUOTA] Logged in as %s\r\n"
                                       % user) else s.greeting
    for line, lit in [
            ("a CREATE Trash", None), ("b CREATE Spam", None),
            ("c GETQUOTAROOT INBOX", None), ("d GETQUOTAROOT Trash", None),
            ("e getquotaroot spam", None),
            ("f GETQUOTA \"User quota\"", None), ("g GETQUOTA nosuch", None),
            ("h SETQUOTA \"User quota\" (STORAGE 100)", None),
            ("i GETQUOTAROOT", None), ("i2 GETQUOTA", None),
            ("i3 SETQUOTA", None), ("i4 GETQUOTAROOT \"\" extra", None),
            ("j APPEND INBOX {5+}", b"hello"),
            ("j2 APPEND INBOX {5+}", b"hello"),
            ("k APPEND Spam {5+}", b"hello"),
            ("l APPEND Trash {5+}", b"hello"),
            ("m SELECT INBOX", None), ("n COPY 1 Trash", None),
            ("o COPY 1:3 Spam", None), ("p MOVE 1 Trash", None),
            ("q GETQUOTAROOT INBOX", None), ("r EXPUNGE", None),
            ("s STORE 1 +FLAGS \\Deleted", None), ("t EXPUNGE", None),
            ("u GETQUOTAROOT INBOX", None),
            ("v APPEND INBOX {5+}", b"world"),
            ("w GETQUOTA \"User quota\"", None)]:
        out += s.cmd(line, lit)
    s.close()
    return norm(out)


class Quota(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        cls.r = make_env(QUOTA_CONF)
        cls.d = make_env(QUOTA_CONF) if HAVE_DOVECOT else None
        if cls.d is not None:
            try:
                cls.d.start(dovecot=True)
            except BaseException:
                cls.tearDownClass()
                raise

    @classmethod
    def tearDownClass(cls):
        for env in (cls.r, cls.d):
            if env is not None:
                env.cleanup()

    def envs(self):
        return [(self.r, False)] + \
            ([(self.d, True)] if self.d is not None else [])

    def test_imap(self):
        outs = []
        for env, dovecot in self.envs():
            for _ in range(2):
                rc, text = env.lda("carl", MSG, dovecot)
                self.assertEqual(rc, 0, text)
            outs.append(script(env, "carl", dovecot))
        r = outs[0]
        self.assertTrue(r.startswith("QUOTA* OK [TRYCREATE]") or
                        r.startswith("QUOTAa OK"), r[:300])
        self.assertIn('* QUOTAROOT INBOX "User quota"\r\n'
                      '* QUOTA "User quota" (STORAGE 1 1 MESSAGE 2 3)\r\n'
                      'c OK Getquotaroot completed.', r)
        self.assertIn("j2 NO [OVERQUOTA] %s." % OVER, r)
        self.assertIn("g NO Quota root doesn't exist.", r)
        self.assertIn("h NO Quota can be changed only by admin.", r)
        self.assertIn("i BAD Error in IMAP command GETQUOTAROOT: Missing "
                      "arguments.", r)
        if len(outs) > 1:
            self.assertEqual(r, outs[1])

    def test_lda(self):
        results = []
        for env, dovecot in self.envs():
            res = []
            for _ in range(3):
                res.append(env.lda("dora", MSG, dovecot, ["-e"]))
            res.append(env.lda("dora", MSG, dovecot, ["-e"]))
            res.append(env.lda("dora", MSG, dovecot,
                               ["-e", "-o", "quota_full_tempfail=yes"]))
            # not -e: a rejection mail is sent through sendmail_path
            results.append(res)
        r = results[0]
        self.assertEqual([x[0] for x in r], [0, 0, 0, 77, 75])
        self.assertEqual(r[3][1].strip(), OVER)
        if len(results) > 1:
            self.assertEqual(r, results[1])

    def test_doveadm_get_recalc_warnings(self):
        outs = []
        for env, dovecot in self.envs():
            out = []
            for _ in range(2):
                env.lda("eric", MSG, dovecot)
            out.append(env.doveadm(["quota", "get", "-u", "eric"], dovecot))
            path = os.path.join(env.maildir("eric"), "maildirsize")
            with open(path) as f:
                out.append(f.read())
            os.unlink(path)
            out.append(env.doveadm(["quota", "recalc", "-u", "eric"],
                                   dovecot))
            with open(path) as f:
                out.append(f.read())
            # garbage is recounted
            with open(path, "w") as f:
                f.write("junk\n")
            out.append(env.doveadm(["quota", "get", "-u", "eric"], dovecot))
            out.append(env.doveadm(["quota", "get", "-u", "eric", "x"],
                                   dovecot)[:2])
            out.append(env.doveadm(["quota", "get", "-u", "nobody-here-no-quota"],
                                   dovecot)[:2])
            # below 50% again: the reverse warning
            s = Session(env, "eric", dovecot)
            s.cmd("a SELECT INBOX")
            s.cmd("b STORE 1:2 +FLAGS \\Deleted")
            s.cmd("c EXPUNGE")
            s.close()
            # the scripts run detached (Dovecot: by its script service)
            deadline = time.time() + 5
            while True:
                with open(os.path.join(env.tmp, "qwlog", "qw.log")) as f:
                    got = sorted(l for l in f.read().splitlines()
                                 if "eric" in l)
                if len(got) >= 2 or time.time() > deadline:
                    break
                time.sleep(0.1)
            time.sleep(0.3)     # nothing more comes
            with open(os.path.join(env.tmp, "qwlog", "qw.log")) as f:
                out.append(sorted(l for l in f.read().splitlines()
                                  if "eric" in l))
            outs.append(out)
        r = outs[0]
        self.assertEqual(r[0][0], 0)
        self.assertEqual(r[0][1],
                         "Quota name Type    Value Limit                  "
                         "        %\nUser quota STORAGE     1     1       "
                         "                 100\nUser quota MESSAGE     2  "
                         "   3                         66\n")
        self.assertEqual(r[1], "1024S,3C\n0 0\n313 1\n313 1\n")
        self.assertEqual(r[3], "1024S,3C\n626 2\n")
        self.assertEqual(r[5], (64, ""))
        self.assertEqual(r[7], ["50 eric", "below eric"])
        if len(outs) > 1:
            self.assertEqual(r, outs[1])
        # Roost's doveadm reads the maildirsize Dovecot wrote
        if self.d is not None:
            self.assertEqual(self.r.doveadm(["quota", "get", "-u", "carl"]),
                             self.d.doveadm(["quota", "get", "-u", "carl"],
                                            True))

    def test_count_backend(self):
        outs = []
        for dovecot in ([False, True] if HAVE_DOVECOT else [False]):
            env = make_env(COUNT_CONF)
            try:
                if dovecot:
                    env.start(dovecot=True)
                res = [env.lda("fay", MSG + b"x" * 100, dovecot, ["-e"])
                       for _ in range(5)]
                # one more is over
                res.append(env.lda("fay", MSG, dovecot, ["-e"]))
                res.append(env.doveadm(["quota", "get", "-u", "fay"],
                                       dovecot))
                env.write_conf(COUNT_CONF.replace("quota_vsizes = yes",
                                                  ""))
                if dovecot:
                    env.doveadm(["reload"], True)
                res.append(env.doveadm(["quota", "get", "-u", "fay"],
                                       dovecot)[:2])
                res.append(env.lda("fay", MSG, dovecot, ["-e"])[0])
                outs.append(res)
            finally:
                env.cleanup()
        r = outs[0]
        # the fifth goes over the limit within quota_grace
        self.assertEqual([x[0] for x in r[:5]], [0, 0, 0, 0, 0])
        self.assertIn("Count quota STORAGE     3     2                    "
                      "   150\n", r[6][1])
        self.assertEqual(r[7], (75, "Quota name Type Value Limit          "
                                "                %\n"))
        self.assertEqual(r[5], (77, OVER + "\n"))
        self.assertEqual(r[8], 75)
        if len(outs) > 1:
            self.assertEqual(r, outs[1])

    def test_root_params_and_clone(self):
        """quota = backend:name:PARAM: hidden (not in GETQUOTAROOT),
        ignoreunlimited (an unlimited root is no root), ns=PREFIX (the
        mailboxes of one namespace; a maildir root keeps its maildirsize
        in that namespace's root), noenforcing; the quota_clone plugin's
        file dict; an unknown parameter is Dovecot's init error."""
        outs = []
        for dovecot in ([False, True] if HAVE_DOVECOT else [False]):
            env = make_env(PARAMS_CONF)
            try:
                for d in ("pub", "qc"):
                    os.makedirs(os.path.join(env.tmp, d))
                    os.chown(os.path.join(env.tmp, d), UID, GID)
                if dovecot:
                    env.start(dovecot=True)
                res = [env.lda("pat", MSG, dovecot)]
                s = Session(env, "pat", dovecot)
                out = ""
                for line, lit in [
                        ("a CREATE Pub/Box", None),
                        ("b GETQUOTAROOT INBOX", None),
                        ("c GETQUOTAROOT Pub/Box", None),
                        ('d GETQUOTA "Hidden quota"', None),
                        ('e GETQUOTA "Unl quota"', None),
                        ("f GETQUOTA Noenf", None),
                        ("g APPEND INBOX {%d+}" % len(MSG), MSG),
                        ("h APPEND Pub/Box {%d+}" % len(MSG), MSG),
                        ('i GETQUOTA "Pub quota"', None),
                        ('j GETQUOTA "User quota"', None),
                        ('k GETQUOTAROOT Pub/Box', None)]:
                    out += s.cmd(line, lit)
                s.close()
                res.append(norm(out))
                res.append(env.doveadm(["quota", "get", "-u", "pat"],
                                       dovecot))
                with open(os.path.join(env.tmp, "qc", "clone.dict")) as f:
                    # key and value lines; Dovecot's order varies
                    lines = f.read().split("\n")
                    res.append(dict(zip(lines[0:-1:2], lines[1::2])))
                # a maildir root of one namespace: maildirsize there
                env.write_conf(MAILDIR_NS_CONF % {"tmp": env.tmp})
                if dovecot:
                    env.doveadm(["reload"], True)
                s = Session(env, "pat", dovecot)
                s.cmd("a APPEND Pub/Box {%d+}" % len(MSG), MSG)
                s.close()
                with open(os.path.join(env.tmp, "pub", "maildirsize")) as f:
                    res.append(f.read())
                env.write_conf(PARAMS_CONF.replace(
                    "quota5 = count:Noenf:noenforcing",
                    "quota5 = count:Noenf:nosuchparam") % {"tmp": env.tmp})
                if dovecot:
                    env.doveadm(["reload"], True)
                res.append(env.lda("pat", MSG, dovecot)[0])
                res.append(env.doveadm(["quota", "get", "-u", "pat"],
                                       dovecot)[2].split("Error: ", 1)[-1])
                # a namespace that doesn't exist: logged, the root stays
                env.write_conf(PARAMS_CONF.replace(
                    "quota5 = count:Noenf:noenforcing",
                    "quota5 = count:Noenf:ns=Nope/") % {"tmp": env.tmp})
                if dovecot:
                    env.doveadm(["reload"], True)
                res.append(env.lda("pat", MSG, dovecot)[0])
                res.append("quota: Unknown namespace: Nope/" in env.log())
                outs.append(res)
            finally:
                env.cleanup()
        r = outs[0]
        self.assertEqual(r[0], (0, ""))
        self.assertIn('* QUOTAROOT INBOX "User quota" Noenf\r\n', r[1])
        self.assertIn('* QUOTAROOT Pub/Box "User quota" "Pub quota" '
                      'Noenf\r\n', r[1])
        self.assertIn('* QUOTA "Hidden quota" (STORAGE 1 20)\r\n', r[1])
        self.assertIn("e NO Quota root doesn't exist.", r[1])
        self.assertIn("g OK", r[1])	# noenforcing: over, but saved
        self.assertIn('* QUOTA "Pub quota" (MESSAGE 1 5)\r\n', r[1])
        self.assertNotIn("Unl quota", r[2][1])
        self.assertIn("Hidden quota STORAGE", r[2][1])
        self.assertEqual(r[3], {"priv/quota/storage": "948",
                                "priv/quota/messages": "3"})
        self.assertEqual(r[4], "10485760S\n313 1\n313 1\n")
        self.assertEqual(r[5], 75)
        self.assertEqual(r[6], "Failed to initialize quota: Quota root "
                         "Noenf: count quota init failed: Unknown parameter "
                         "for backend count: nosuchparam\n")
        self.assertEqual(r[7:], [0, True])
        if len(outs) > 1:
            self.assertEqual(r, outs[1])

    def test_trash(self):
        outs = []
        for dovecot in ([False, True] if HAVE_DOVECOT else [False]):
            env = make_env(TRASH_CONF)
            try:
                with open(os.path.join(env.tmp, "trash.conf"), "w") as f:
                    f.write("1 Spam\n2 Trash\n")
                if dovecot:
                    env.start(dovecot=True)
                s = Session(env, "tom", dovecot)
                s.cmd("a CREATE Trash")
                s.cmd("b CREATE Spam")
                for tag, box, date in (("c", "Trash", "01-Jan-2020"),
                                       ("d", "Trash", "01-Jan-2021"),
                                       ("e", "Spam", "01-Jan-2022")):
                    s.cmd('%s APPEND %s "%s 00:00:00 +0000" {%d+}'
                          % (tag, box, date, len(MSG)), MSG)
                s.close()
                res = [env.lda("tom", MSG, dovecot, ["-e"])
                       for _ in range(2)]
                # more than the trash holds: refused, nothing expunged
                res.append(env.lda("tom", MSG * 4, dovecot, ["-e"]))
                s = Session(env, "tom", dovecot)
                for box in ("INBOX", "Trash", "Spam"):
                    res.append(s.cmd("f STATUS %s (MESSAGES UIDNEXT)"
                                     % box))
                res.append(norm(s.cmd("g EXAMINE Trash")))
                res.append(s.cmd("h FETCH 1:* (UID INTERNALDATE)"))
                s.close()
                outs.append(res)
            finally:
                env.cleanup()
        r = outs[0]
        self.assertEqual([x[0] for x in r[:3]], [0, 0, 77])
        self.assertIn("* STATUS Spam (MESSAGES 0 UIDNEXT 2)", r[5])
        self.assertIn("* 1 FETCH (UID 2 INTERNALDATE", r[7])
        if len(outs) > 1:
            self.assertEqual(r, outs[1])

    def test_max_mail_size(self):
        conf = ("mail_plugins = quota\nplugin {\n  quota = maildir:User "
                "quota\n  quota_rule = *:storage=1M\n  quota_max_mail_size"
                " = 100\n}\n")
        outs = []
        for dovecot in ([False, True] if HAVE_DOVECOT else [False]):
            env = make_env(conf)
            try:
                if dovecot:
                    env.start(dovecot=True)
                res = [env.lda("max", MSG, dovecot, ["-e"])]
                s = Session(env, "max", dovecot)
                res.append(s.cmd("a APPEND INBOX {150+}", b"x" * 150))
                res.append(norm(s.cmd("b APPEND INBOX {14+}",
                                      b"Subject: x\r\n\r\n")))
                s.close()
                outs.append(res)
            finally:
                env.cleanup()
        r = outs[0]
        text = "Mail size is larger than the maximum size allowed by " \
            "server configuration"
        self.assertEqual(r[0], (75, text + "\n"))
        self.assertEqual(r[1], "a NO [LIMIT] %s.\r\n" % text)
        if len(outs) > 1:
            self.assertEqual(r, outs[1])

    def test_without_plugins(self):
        env = Env("", prefix="roost-quota.")
        try:
            s = Session(env, "gil")
            self.assertNotIn("QUOTA", s.greeting)
            self.assertEqual(s.cmd("a GETQUOTAROOT INBOX"),
                             "a BAD Error in IMAP command GETQUOTAROOT: "
                             "Unknown command.\r\n")
            s.close()
            rc, out, err = env.doveadm(["quota", "get", "-u", "gil"])
            self.assertEqual(rc, 75)
            self.assertIn("Unknown command 'quota', but plugin quota exists."
                          " Try to set mail_plugins=quota", err)
            # quota without imap_quota: no QUOTA capability either
            env.write_conf("mail_plugins = quota\nplugin {\n  quota = "
                           "maildir\n}\n")
            s = Session(env, "gil")
            self.assertNotIn("QUOTA", s.greeting)
            s.close()
        finally:
            env.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""A Dovecot 2.4 dovecot.conf naming the compression plugin the 2.4 way
(`mail_plugins { mail_compress = yes }`, `mail_compress_write_method`,
`compress_<method>_level`) gives a Roost that compresses mail exactly as
the 2.3 form (`mail_plugins = zlib`, `zlib_save`, `zlib_save_level`):
the LDA and APPEND write the same bytes, IMAP reads them back the same,
and a 2.4 file still naming `zlib` is refused with the line named
(compat/dialect-plugins.c).

Env: ROOST = path of build/bin/roost."""
import gzip
import os
import subprocess
import unittest

from pluginlib import EnvCase, Session, ROOST, UID

CONF_23 = """mail_plugins = zlib
plugin {
  zlib_save = %(method)s
  zlib_save_level = %(level)s
}
"""

CONF_24 = """dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
log_path = %(tmp)s/log
state_dir = %(tmp)s/state
mail_driver = maildir
mail_path = ~/Maildir
ssl = no
first_valid_uid = 1
userdb static {
  fields {
    uid = %(uid)d
    gid = %(uid)d
    home = %(tmp)s/home/%%{user}
  }
}
passdb static {
  password = secret
}
mail_plugins {
  mail_compress = yes
}
mail_compress_write_method = %(method)s
compress_%(method)s_level = %(level)s
"""

MSG = b"From: a@example.com\nSubject: zipped\n\n" + \
    b"".join(b"line %d of the body\n" % i for i in range(300))


def store_and_fetch(env):
    rc, out = env.lda("zed", MSG)
    if rc != 0:
        raise AssertionError("lda failed: %s" % out)
    s = Session(env, "zed")
    s.cmd("a APPEND INBOX {%d+}" % len(MSG), MSG)
    s.cmd("b SELECT INBOX")
    fetched = s.cmd("c FETCH 1:* (RFC822.SIZE BODY.PEEK[])")
    s.close()
    data = []
    for f in env.mail_files("zed"):
        with open(f, "rb") as fp:
            data.append((os.path.basename(f).split(",", 1)[1]
                         if "," in os.path.basename(f) else "", fp.read()))
    return data, fetched


class MailCompress24(EnvCase):
    def pair(self, method, level):
        e23 = self.new_env(CONF_23 % {"method": method, "level": level},
                           "roost-dplug23.")
        e24 = self.new_env("", "roost-dplug24.")
        with open(e24.conf, "w") as f:
            f.write(CONF_24 % {"tmp": e24.tmp, "uid": UID,
                               "method": method, "level": level})
        return e23, e24

    def test_doveconf_reads_mail_compress_as_zlib(self):
        e23, e24 = self.pair("gz", 6)
        out = subprocess.run([ROOST, "doveconf", "-n", "-c", e24.conf],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("mail_plugins = zlib\n", out.stdout)
        self.assertIn("  zlib_save = gz\n", out.stdout)
        self.assertIn("  zlib_save_level = 6\n", out.stdout)

    def test_gz_same_bytes_as_23(self):
        e23, e24 = self.pair("gz", 6)
        d23, f23 = store_and_fetch(e23)
        d24, f24 = store_and_fetch(e24)
        self.assertEqual(len(d24), 2)
        for _, data in d24:
            self.assertEqual(data[:2], b"\x1f\x8b")
            self.assertEqual(gzip.decompress(data), MSG)
        self.assertEqual([d for _, d in d23], [d for _, d in d24])
        self.assertEqual(f23, f24)
        self.assertIn(MSG.replace(b"\n", b"\r\n").decode(), f24)

    def test_level_follows_compress_level(self):
        """compress_gz_level = 1 and 9 write different files, each the
        bytes of zlib_save_level = 1 / 9."""
        got = {}
        for level in (1, 9):
            e23, e24 = self.pair("gz", level)
            d23, _ = store_and_fetch(e23)
            d24, _ = store_and_fetch(e24)
            self.assertEqual([d for _, d in d23], [d for _, d in d24])
            got[level] = d24[0][1]
        self.assertNotEqual(got[1], got[9])

    def test_zlib_name_refused_in_24(self):
        e23, e24 = self.pair("gz", 6)
        with open(e24.conf) as f:
            text = f.read()
        with open(e24.conf, "w") as f:
            f.write(text.replace("mail_plugins {\n  mail_compress = yes\n}",
                                 "mail_plugins = zlib"))
        rc, out = e24.lda("zed", MSG)
        self.assertNotEqual(rc, 0)
        self.assertIn("line 22: mail_plugins: zlib is called mail_compress "
                      "in Dovecot 2.4", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""The zlib plugin's mail files, both ways with Debian's Dovecot 2.3.19:
files Dovecot's LDA stored with zlib_save = gz read by Roost (FETCH
identical to Dovecot's), Roost's LDA and APPEND writing the same bytes
Dovecot writes (gzip, S=/W= the uncompressed sizes), bzip2 files read
and written (zlib_save = bz2) and read back by Dovecot, lz4 (Dovecot's
container, the same bytes), zstd and xz both ways, corrupt files of the
new formats refused, and compressed files shown as stored when the
plugin isn't loaded (as Dovecot).

Env: ROOST = path of build/bin/roost."""
import bz2
import gzip
import os
import re
import shutil
import unittest

from pluginlib import EnvCase, Session, HAVE_DOVECOT, UID, GID

ZCONF = """mail_plugins = zlib
plugin {
  zlib_save = %s
  zlib_save_level = 6
}
"""
MSG = b"From: a@example.com\nSubject: zipped\n\n" + \
    b"".join(b"line %d of the body\n" % i for i in range(300))


def fetch(env, user, dovecot=False):
    s = Session(env, user, dovecot)
    s.cmd("a EXAMINE INBOX")
    out = s.cmd("b FETCH 1:* (RFC822.SIZE BODY.PEEK[] BINARY.SIZE[1])")
    s.close()
    return out


class Zlib(EnvCase):
    def env(self, fmt):
        return self.new_env(ZCONF % fmt if fmt else "", "roost-zlib.")

    def test_gz_both_ways(self):
        r = self.env("gz")
        rc, out = r.lda("zed", MSG)
        self.assertEqual(rc, 0, out)
        s = Session(r, "zed")
        s.cmd("a APPEND INBOX {%d+}" % len(MSG), MSG)
        s.close()
        fs = r.mail_files("zed")
        self.assertEqual(len(fs), 2)
        for f in fs:
            with open(f, "rb") as fp:
                data = fp.read()
            self.assertEqual(data[:2], b"\x1f\x8b")
            plain = gzip.decompress(data)
            self.assertIn(",S=%d,W=%d" % (len(plain), len(plain) +
                                          plain.count(b"\n")), f)
        rout = fetch(r, "zed")
        self.assertIn(MSG.replace(b"\n", b"\r\n").decode(), rout)
        if not HAVE_DOVECOT:
            return
        d = self.env("gz")
        d.start(dovecot=True)
        rc, out = d.lda("zed", MSG, dovecot=True)
        self.assertEqual(rc, 0, out)
        s = Session(d, "zed", True)
        s.cmd("a APPEND INBOX {%d+}" % len(MSG), MSG)
        s.close()
        dfs = d.mail_files("zed")
        # the same bytes and sizes as Dovecot's
        for rf, df in zip(fs, dfs):
            with open(rf, "rb") as a, open(df, "rb") as b:
                self.assertEqual(a.read(), b.read())
            self.assertEqual(re.sub(r".*?(,S=.*)", r"\1", rf),
                             re.sub(r".*?(,S=.*)", r"\1", df))
        dout = fetch(d, "zed", True)
        self.assertEqual(rout, dout)
        # Roost reads Dovecot's files, Dovecot reads Roost's
        d.stop()
        shutil.rmtree(r.maildir("zed"))
        shutil.copytree(d.maildir("zed"), r.maildir("zed"))
        r.chown_all()
        self.assertEqual(fetch(r, "zed"), dout)

    def test_bz2_and_without_plugin(self):
        r = self.env("bz2")
        rc, out = r.lda("bee", MSG)
        self.assertEqual(rc, 0, out)
        f = r.mail_files("bee")[0]
        with open(f, "rb") as fp:
            data = fp.read()
        self.assertEqual(data[:3], b"BZh")
        self.assertEqual(bz2.decompress(data), MSG)
        # a gzip file next to it (as an older zlib_save left it)
        name = os.path.basename(f).split(",")[0] + "2,S=%d,W=%d:2," % (
            len(MSG), len(MSG) + MSG.count(b"\n"))
        with open(os.path.join(r.maildir("bee"), "cur", name), "wb") as fp:
            fp.write(gzip.compress(MSG, mtime=0))
        r.chown_all()
        out = fetch(r, "bee")
        self.assertEqual(out.count(MSG.replace(b"\n", b"\r\n").decode()), 2)
        if HAVE_DOVECOT:
            d = self.env("bz2")
            shutil.copytree(r.maildir("bee"), d.maildir("bee"))
            d.chown_all()
            d.start(dovecot=True)
            self.assertEqual(fetch(d, "bee", True), out)
            d.stop()
        # without the plugin the stored bytes are the message
        r.write_conf("")
        out = fetch(r, "bee")
        self.assertNotIn("line 1 of the body", out)
        self.assertIn("BZh", out)


    def test_xz_zstd_lz4_both_ways(self):
        """zlib_save = lz4|zstd|xz. Dovecot 2.3.19 writes lz4 (its own
        container: magic, chunk size, sized LZ4 blocks) and zstd, and
        only reads xz (writing it logs "Support not compiled in"): files
        of each server read by the other, Roost's lz4 bytes equal to
        Dovecot's."""
        big = MSG * 300		# > one 64 KB lz4 chunk
        magic = {"lz4": b"Dovecot-LZ4\r*\x9b\xc5\x00\x01\x00\x00",
                 "zstd": b"\x28\xb5\x2f\xfd",
                 "xz": b"\xfd7zXZ\x00"}
        for fmt in ("lz4", "zstd", "xz"):
            with self.subTest(fmt=fmt):
                r = self.env(fmt)
                for m in (MSG, big):
                    rc, out = r.lda("zed", m)
                    self.assertEqual(rc, 0, out)
                fs = r.mail_files("zed")
                self.assertEqual(len(fs), 2)
                for f in fs:
                    with open(f, "rb") as fp:
                        data = fp.read()
                    self.assertTrue(data.startswith(magic[fmt]), data[:20])
                    self.assertLess(len(data), os.path.getsize(f) + 1)
                if fmt == "xz":
                    import lzma
                    # the big message's file: names of two deliveries in
                    # one second may sort either way, so by ,S= size
                    bigfile = max(fs, key=lambda n: int(
                        re.search(r",S=(\d+)", n).group(1)))
                    with open(bigfile, "rb") as fp:
                        self.assertEqual(lzma.decompress(fp.read()), big)
                rout = fetch(r, "zed")
                self.assertEqual(rout.count(
                    MSG.replace(b"\n", b"\r\n").decode()), 301)
                if not HAVE_DOVECOT:
                    continue
                # Dovecot reads Roost's files
                d = self.env(fmt)
                shutil.copytree(r.maildir("zed"), d.maildir("zed"))
                d.chown_all()
                d.start(dovecot=True)
                self.assertEqual(fetch(d, "zed", True), rout)
                if fmt == "xz":
                    d.stop()
                    continue
                # Roost reads Dovecot's files; lz4 bytes are Dovecot's
                rc, out = d.lda("dz", MSG, dovecot=True)
                self.assertEqual(rc, 0, out)
                rc, out = d.lda("dz", big, dovecot=True)
                self.assertEqual(rc, 0, out)
                dfs = d.mail_files("dz")
                for f in dfs:
                    with open(f, "rb") as fp:
                        self.assertTrue(fp.read().startswith(magic[fmt]))
                if fmt == "lz4":
                    # pair the files by message size (,S=): names of two
                    # deliveries in one second may sort either way
                    def by_size(names):
                        return sorted(names, key=lambda n: int(
                            re.search(r",S=(\d+)", n).group(1)))
                    for rf, df in zip(by_size(fs), by_size(dfs)):
                        with open(rf, "rb") as a, open(df, "rb") as b:
                            self.assertEqual(a.read(), b.read(), rf)
                dout = fetch(d, "dz", True)
                d.stop()
                shutil.copytree(d.maildir("dz"), r.maildir("dz"))
                r.chown_all()
                self.assertEqual(fetch(r, "dz"), dout)

    def test_corrupt_new_formats(self):
        r = self.env("gz")
        rc, out = r.lda("bad", MSG)
        self.assertEqual(rc, 0, out)
        f = r.mail_files("bad")[0]
        for fmt, data in (
                ("lz4", b"Dovecot-LZ4\r*\x9b\xc5\x00\x01\x00\x00"
                 b"\x00\x00\x00\x10garbage"),
                ("lz4", b"Dovecot-LZ4\r*\x9b\xc5\xff\xff\xff\xff"),
                ("zstd", b"\x28\xb5\x2f\xfd\x00\x58garbage"),
                ("xz", b"\xfd7zXZ\x00garbage")):
            with open(f, "wb") as fp:
                fp.write(data)
            out, err, _ = r.imap("bad", [
                "a EXAMINE INBOX", "b FETCH 1 (BODY.PEEK[])", "c LOGOUT"])
            # as for a corrupt gzip file (and in Dovecot): the session ends
            self.assertNotIn("garbage", out, fmt)
            self.assertIn("* BYE FETCH failed: Internal error occurred.",
                          out, (fmt, out))
            self.assertIn("%s: Compressed data is corrupted" % fmt, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""casemap-diff.py - differential test of Roost's i;unicode-casemap
(mailstore/unicode-casemap.c, the fold SEARCH and SORT compare with)
against Dovecot 2.3's uni_utf8_to_decomposed_titlecase(), called in
Debian's /usr/lib/dovecot/libdovecot.so.0 through ctypes.

Every Unicode scalar value U+0000..U+10FFFF (surrogates excepted) is
folded alone, then strings: invalid UTF-8 (stray continuation bytes,
overlong forms, surrogates, values above U+10FFFF, truncated sequences,
runs of them, after a real U+FFFD), mixed-script text and NULs. Roost's
side is tests/compat/casemap-probe ($PROBE). Outputs and return values
must be identical.

Usage: casemap-diff.py [-v] [PROBE]"""
import ctypes
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIBDOVECOT = "/usr/lib/dovecot/libdovecot.so.0"


class Buffer(ctypes.Structure):
    # the public head of Dovecot's buffer_t: data, used
    _fields_ = [("data", ctypes.c_void_p), ("used", ctypes.c_size_t)]


def dovecot_folder():
    lib = ctypes.CDLL(LIBDOVECOT)
    pool = ctypes.c_void_p.in_dll(lib, "default_pool")
    lib.buffer_create_dynamic.restype = ctypes.c_void_p
    lib.buffer_create_dynamic.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.buffer_set_used_size.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.uni_utf8_to_decomposed_titlecase.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p]
    buf = lib.buffer_create_dynamic(pool, 256)
    head = Buffer.from_address(buf)

    def fold(data):
        lib.buffer_set_used_size(buf, 0)
        ret = lib.uni_utf8_to_decomposed_titlecase(data, len(data), buf)
        return ret, ctypes.string_at(head.data, head.used)
    return fold


def inputs():
    for cp in range(0x110000):
        if not 0xD800 <= cp <= 0xDFFF:
            yield chr(cp).encode("utf-8")
    texts = [
        "Grüße aus Köln, STRASSE straße ẞ", "ΣΊΣΥΦΟΣ σίσυφος ς ΐ",
        "Привет МИР ёлка Ё", "İstanbul ıı II iı", "ﬁle ﬂow ﬀ Ǆ ǅ ǆ ŉ",
        "ＡＢＣ ｆｕｌｌ １２３", "한국어 텍스트 가각", "e\u0301 é É",
        "Ω Ω ω Å Å å", "ǰ ΐ ᾳ ﬃ ㎒ ½ ²", "\u00a0\u2002 ™ ℌ ℍ",
        "mixed ASCII, ελληνικά, русский, עברית, العربية, 日本語",
    ]
    for t in texts:
        yield t.encode("utf-8")
    yield from [
        b"a\xffb", b"a\xff\xffb", b"\xc3", b"\xc3a", b"\xc0\x80",
        b"\xc1\xbf", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xed\xa0\x80",
        b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
        b"\xe2\x82", b"\xe2\x82a", b"\x80\x80x", b"\xbf",
        b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80",
        b"\xef\xbf\xbd\xff", b"\xff\xef\xbf\xbd", b"x\xef\xbf\xbd\xef\xbf\xbd",
        b"a\x00b\x00", b"\xc3\xa9\xff\xc3\xa9", b"\xf0\x9f\x98",
        b"\xf0\x9f\x98\x80", b"\xe2\x82\xac\xe2\x82",
    ]


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv[1:]
    probe = args[0] if args else os.environ.get(
        "PROBE", os.path.join(TOP, "build", "bin", "casemap-probe"))
    if not os.path.exists(LIBDOVECOT):
        print("casemap-diff: %s missing (dovecot-core)" % LIBDOVECOT)
        return 1
    fold = dovecot_folder()
    data = list(inputs())
    res = subprocess.run([probe], input="".join(d.hex() + "\n" for d in data),
                         capture_output=True, text=True, check=True)
    lines = res.stdout.split("\n")
    diffs = 0
    for i, d in enumerate(data):
        ret, out = fold(d)
        want = "%d %s" % (ret, out.hex())
        if lines[i] != want:
            diffs += 1
            if verbose or diffs <= 20:
                print("DIFF %s: dovecot %s, roost %s" % (d.hex(), want,
                                                          lines[i]))
    print("casemap-diff: %d inputs, %d differences" % (len(data), diffs))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

/* check_unicode_casemap.c - i;unicode-casemap (RFC 5051) as Dovecot 2.3
 * folds: titlecase, then one level of canonical or compatibility
 * decomposition, Hangul into jamo, invalid UTF-8 to one U+FFFD per run.
 * The full table is checked against libdovecot by
 * tests/compat/casemap-diff.py. */
#include "suites.h"
#include "unicode-casemap.h"

static const char *fold(const char *in, size_t size, int *ret_r)
{
	static char buf[1024];
	string_t *s = str_new(64);
	int ret = uni_utf8_to_casemap(in, size, s);

	if (ret_r != NULL)
		*ret_r = ret;
	ck_assert_uint_lt(str_len(s), sizeof(buf));
	memcpy(buf, str_c(s), str_len(s) + 1);
	str_free(&s);
	return buf;
}

#define FOLD(in) fold(in, strlen(in), NULL)

START_TEST(test_scripts)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "abc XYZ 123 _[]{}~", "ABC XYZ 123 _[]{}~" },
		/* Latin with accents: titlecase, then decomposed */
		{ "é É", "E\xcc\x81 E\xcc\x81" },
		{ "Grüße", "GRU\xcc\x88\xc3\x9f" "E" },	/* ß stays */
		{ "ẞ", "ẞ" },
		{ "ł Ł ż", "Ł Ł Z\xcc\x87" },
		{ "ŉ", "\xca\xbc" "n" },		/* one level: the n stays */
		/* Greek: final sigma, tonos, dialytika (one level only) */
		{ "σς Σ", "ΣΣ Σ" },
		{ "ά", "Α\xcc\x81" },
		{ "ΐ", "\xcf\x8a\xcc\x81" },	/* U+03CA U+0301, not further */
		/* Cyrillic */
		{ "привет ё Ё й", "ПРИВЕТ Е\xcc\x88 Е\xcc\x88 И\xcc\x86" },
		/* Turkish: dotless i titlecases to I, dotted I decomposes */
		{ "ı", "I" },
		{ "İ", "I\xcc\x87" },
		/* ligatures and digraphs */
		{ "ﬁ", "fi" },
		{ "ǆ ǅ Ǆ", "ǅ ǅ ǅ" },
		/* fullwidth and other compatibility forms */
		{ "ＡＢｃ", "ABC" },
		{ "½", "1\xe2\x81\x84" "2" },
		{ "\xe2\x84\xa6", "\xce\xa9" },	/* OHM SIGN: GREEK OMEGA */
		/* Hangul syllables into conjoining jamo */
		{ "가", "\xe1\x84\x80\xe1\x85\xa1" },
		{ "각", "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8" },
		/* CJK and characters after Unicode 10.0 are left alone */
		{ "日本", "日本" },
		{ "\xea\x9f\x84", "\xea\x9f\x84" },	/* U+A7C4, Unicode 12 */
	};
	for (unsigned int i = 0; i < N_ELEMENTS(cases); i++) {
		const char *got = FOLD(cases[i].in);

		ck_assert_msg(strcmp(got, cases[i].out) == 0,
			      "%s: got '%s', want '%s'", cases[i].in, got,
			      cases[i].out);
	}
}
END_TEST

START_TEST(test_nul_and_size)
{
	int ret;

	/* NULs pass, the size is what counts */
	const char *got = fold("a\0b", 3, &ret);

	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(got[0], 'A');
	ck_assert_int_eq(got[1], '\0');
	ck_assert_int_eq(got[2], 'B');
	got = fold("abc", 2, &ret);
	ck_assert_str_eq(got, "AB");
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a\xff" "b", "A\xef\xbf\xbd" "B" },
		{ "a\xff\xff\xfe" "b", "A\xef\xbf\xbd" "B" },	/* one per run */
		{ "\xc3", "\xef\xbf\xbd" },			/* truncated */
		{ "\xe2\x82" "a", "\xef\xbf\xbd" "A" },
		{ "\xc0\x80", "\xef\xbf\xbd" },			/* overlong */
		{ "\xed\xa0\x80", "\xef\xbf\xbd" },		/* surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd" },	/* > U+10FFFF */
		{ "\xef\xbf\xbd\xff", "\xef\xbf\xbd" },	/* after U+FFFD */
		{ "\xc3\xa9\x80\xc3\xa9",
		  "E\xcc\x81\xef\xbf\xbd" "E\xcc\x81" },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(cases); i++) {
		int ret;
		const char *got = fold(cases[i].in, strlen(cases[i].in), &ret);

		ck_assert_msg(strcmp(got, cases[i].out) == 0,
			      "case %u: got '%s'", i, got);
		ck_assert_int_eq(ret, -1);
	}
}
END_TEST

START_TEST(test_appends)
{
	/* the fold appends; a U+FFFD already at the end isn't repeated */
	string_t *s = str_new(16);

	str_append(s, "x\xef\xbf\xbd");
	ck_assert_int_eq(uni_utf8_to_casemap("\xff" "y", 2, s), -1);
	ck_assert_str_eq(str_c(s), "x\xef\xbf\xbd" "Y");
	str_free(&s);
}
END_TEST

START_TEST(test_single)
{
	unsigned int len;
	const unsigned char *m = uni_ucs4_casemap(0xe9, &len);

	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(m, "E\xcc\x81", 3), 0);
	ck_assert_ptr_null(uni_ucs4_casemap('A', &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(uni_ucs4_casemap(0x10ffff, &len));
	ck_assert_ptr_null(uni_ucs4_casemap(0x110000, &len));
}
END_TEST

Suite *make_unicode_casemap_suite(void)
{
	Suite *s = suite_create("unicode_casemap");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_scripts);
	tcase_add_test(tc, test_nul_and_size);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_appends);
	tcase_add_test(tc, test_single);
	suite_add_tcase(s, tc);
	return s;
}

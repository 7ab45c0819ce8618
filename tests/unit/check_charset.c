/* check_charset.c - lib/charset.c: conversion to UTF-8 through iconv
 * (Latin-1, ISO-2022-JP shift states, UTF-16), U+FFFD for invalid
 * bytes, streaming with sequences cut between calls, unknown charsets,
 * and the UTF-8 validator. */
#include "suites.h"
#include "str.h"
#include "charset.h"

START_TEST(test_charset_convert)
{
	string_t *out = str_new(64);
	bool invalid;

	ck_assert_int_eq(charset_to_utf8_str("ISO-8859-1", "caf\xe9", 4, out,
					     &invalid), 0);
	ck_assert_str_eq(str_c(out), "caf\xc3\xa9");
	ck_assert(!invalid);
	str_truncate(out, 0);
	/* 会議 in ISO-2022-JP */
	ck_assert_int_eq(charset_to_utf8_str("iso-2022-jp",
		"\x1b$B2q5D\x1b(B", 10, out, &invalid), 0);
	ck_assert_str_eq(str_c(out), "\xe4\xbc\x9a\xe8\xad\xb0");
	str_truncate(out, 0);
	ck_assert_int_eq(charset_to_utf8_str("UTF-16LE", "a\0b\0", 4, out,
					     &invalid), 0);
	ck_assert_str_eq(str_c(out), "ab");
	str_truncate(out, 0);
	ck_assert_int_eq(charset_to_utf8_str("US-ASCII", "abc", 3, out,
					     &invalid), 0);
	ck_assert_str_eq(str_c(out), "abc");
	ck_assert(charset_is_utf8("UTF8"));
	ck_assert(!charset_is_utf8("latin1"));
	str_free(&out);
}
END_TEST

START_TEST(test_charset_invalid)
{
	string_t *out = str_new(64);
	bool invalid;
	const char *error;
	struct charset_translation *t;

	ck_assert_int_eq(charset_to_utf8_str("utf-8", "a\xff" "b", 3, out,
					     &invalid), 0);
	ck_assert_str_eq(str_c(out), "a\xef\xbf\xbd" "b");
	ck_assert(invalid);
	str_truncate(out, 0);
	ck_assert_int_eq(charset_to_utf8_str("UTF-16LE", "a\0b", 3, out,
					     &invalid), 0);
	ck_assert_str_eq(str_c(out), "a\xef\xbf\xbd");
	ck_assert(invalid);
	str_truncate(out, 0);
	ck_assert_int_eq(charset_to_utf8_str("x-no-such-charset", "a", 1, out,
					     &invalid), -1);
	ck_assert_uint_eq(str_len(out), 0);
	ck_assert_int_eq(charset_to_utf8_begin("nope", &t, &error), -1);
	ck_assert_str_eq(error, "Unknown charset");
	str_free(&out);
}
END_TEST

/* Fed one byte at a time, re-feeding what a call left over (a
   multibyte sequence cut between calls), the result is the same. */
START_TEST(test_charset_streaming)
{
	static const char *charsets[] = { "utf-8", "shift_jis", "iso-2022-jp" };
	static const char *inputs[] = {
		"x\xe2\x82\xacy", "x\x82\xa0y", "a\x1b$B2q5D\x1b(Bb"
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(charsets); i++) {
		struct charset_translation *t;
		string_t *out = str_new(64), *whole = str_new(64);
		string_t *pending = str_new(16);
		const char *error, *in = inputs[i];
		size_t len = strlen(in), j, used;
		bool invalid;

		ck_assert_int_eq(charset_to_utf8_begin(charsets[i], &t,
						       &error), 0);
		for (j = 0; j < len; j++) {
			str_append_c(pending, in[j]);
			used = str_len(pending);
			ck_assert_int_ne(charset_to_utf8(t, str_c(pending),
							 &used, out),
					 CHARSET_RET_INVALID_INPUT);
			str_delete(pending, 0, used);
		}
		ck_assert_uint_eq(str_len(pending), 0);
		ck_assert_int_eq(charset_to_utf8_str(charsets[i], in, len,
						     whole, &invalid), 0);
		ck_assert_str_eq(str_c(out), str_c(whole));
		charset_to_utf8_end(&t);
		str_free(&out);
		str_free(&whole);
		str_free(&pending);
	}
}
END_TEST

START_TEST(test_utf8_validation)
{
	string_t *out = str_new(64);

	ck_assert(uni_utf8_data_is_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
					 10));
	ck_assert(!uni_utf8_data_is_valid("\xc0\xaf", 2));	/* overlong */
	ck_assert(!uni_utf8_data_is_valid("\xed\xa0\x80", 3));	/* surrogate */
	ck_assert(!uni_utf8_data_is_valid("\xf4\x90\x80\x80", 4)); /* > max */
	ck_assert(!uni_utf8_data_is_valid("\xe2\x82", 2));	/* cut */
	ck_assert(!uni_utf8_get_valid_data("a\x80" "b\xe2\x82", 5, out));
	ck_assert_str_eq(str_c(out),
			 "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_uint_eq(uni_utf8_char_len((const unsigned char *)"\xc3\xa9",
					    2), 2);
	str_free(&out);
}
END_TEST

Suite *make_charset_suite(void)
{
	Suite *s = suite_create("charset");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_charset_convert);
	tcase_add_test(tc, test_charset_streaming);
	tcase_add_test(tc, test_utf8_validation);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_charset_invalid);
	suite_add_tcase(s, tc);
	return s;
}

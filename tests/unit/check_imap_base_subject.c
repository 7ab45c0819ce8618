/* check_imap_base_subject.c - RFC 5256 base subjects (leaders, blobs,
 * trailers, [fwd: ] wrappers, encoded words, whitespace) and the
 * titlecase + decomposition fold SORT compares with. */
#include "suites.h"
#include "imap-base-subject.h"

#include <stdio.h>

static const char *base(const char *subject, bool *reply_r)
{
	static char buf[512];
	string_t *s = str_new(128);

	imap_base_subject_get(subject, s, reply_r);
	snprintf(buf, sizeof(buf), "%s", str_c(s));
	str_free(&s);
	return buf;
}

START_TEST(test_base_subject)
{
	static const struct {
		const char *in, *out;
		bool reply;
	} cases[] = {
		{ "Hello world", "HELLO WORLD", false },
		{ "Re: hello", "HELLO", true },
		{ "RE: re:Re :  hello", "HELLO", true },
		{ "Fw: Fwd: FWD: x", "X", true },
		{ "Re[2]: x", "X", true },
		{ "Re: [list] Fwd: Hello world", "HELLO WORLD", true },
		{ "[list] Re: Hello", "HELLO", true },
		{ "[list] [tag] Topic", "TOPIC", false },
		{ "[a][b] Re: x", "X", true },
		{ "[only a blob]", "[ONLY A BLOB]", false },
		{ "Re: [x]", "[X]", true },
		{ "[a] [b]", "[B]", false },
		{ "hello (fwd)", "HELLO", true },
		{ "hello (FWD) (fwd)  ", "HELLO", true },
		{ "[fwd: Hello]", "HELLO", true },
		{ "[fwd: Re: thing] (fwd)", "THING", true },
		{ "[Fwd: [fwd: x]]", "X", true },
		{ "Re:", "", true },
		{ "", "", false },
		{ " \t ", "", false },
		{ "\tFwd: Fwd:fwd: thing (fwd) (FWD)", "THING", true },
		{ "hello \t  world", "HELLO WORLD", false },
		{ "ref: not a reply", "REF: NOT A REPLY", false },
		{ "fwd x", "FWD X", false },
		{ "Re: Fwd:", "", true },
		{ "=?utf-8?q?Re=3A_=C3=A9t=C3=A9?=", "E\xcc\x81TE\xcc\x81", true },
		{ "=?iso-8859-1?q?=E9t=E9?= (fwd)", "E\xcc\x81TE\xcc\x81", true },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		bool reply = !cases[i].reply;

		ck_assert_msg(strcmp(base(cases[i].in, &reply),
				     cases[i].out) == 0,
			      "%s: got '%s', want '%s'", cases[i].in,
			      base(cases[i].in, NULL), cases[i].out);
		ck_assert_msg(reply == cases[i].reply, "%s: reply %d",
			      cases[i].in, reply);
	}
}
END_TEST

START_TEST(test_casefold)
{
	string_t *s = str_new(64);
	const char *text = "abc_Zé ÿ ß ŉ łż αβς жё";

	imap_sort_casefold(text, strlen(text), s);
	ck_assert_str_eq(str_c(s), "ABC_ZE\xcc\x81 Y\xcc\x88 ß \xca\xbc" "n ŁZ\xcc\x87 "
			 "ΑΒΣ ЖЕ\xcc\x88");
	str_clear(s);
	/* invalid UTF-8 becomes U+FFFD */
	imap_sort_casefold("a\xff" "b", 3, s);
	ck_assert_str_eq(str_c(s), "A\xef\xbf\xbd" "B");
	str_free(&s);
}
END_TEST

START_TEST(test_order_like_dovecot)
{
	/* Dovecot sorts "_" after letters (titlecase), "é" with "e" */
	string_t *a = str_new(32), *b = str_new(32);

	imap_sort_casefold("_under", 6, a);
	imap_sort_casefold("zed", 3, b);
	ck_assert_int_gt(strcmp(str_c(a), str_c(b)), 0);
	str_clear(a);
	str_clear(b);
	imap_sort_casefold("\xc3\xa9" "a", 3, a);
	imap_sort_casefold("fa", 2, b);
	ck_assert_int_lt(strcmp(str_c(a), str_c(b)), 0);
	str_free(&a);
	str_free(&b);
}
END_TEST

START_TEST(test_limits)
{
	/* long runs of leaders and blobs, unterminated blobs */
	string_t *in = str_new(8192), *out = str_new(8192);

	for (unsigned int i = 0; i < 1000; i++)
		str_append(in, "Re: [x] ");
	str_append(in, "end");
	imap_base_subject_get(str_c(in), out, NULL);
	ck_assert_str_eq(str_c(out), "END");
	str_clear(in);
	str_clear(out);
	for (unsigned int i = 0; i < 1000; i++)
		str_append(in, "[fwd: ");
	imap_base_subject_get(str_c(in), out, NULL);
	ck_assert_uint_gt(str_len(out), 0);
	str_clear(out);
	imap_base_subject_get("[unterminated Re: x", out, NULL);
	ck_assert_str_eq(str_c(out), "[UNTERMINATED RE: X");
	str_free(&in);
	str_free(&out);
}
END_TEST

Suite *make_imap_base_subject_suite(void)
{
	Suite *s = suite_create("imap_base_subject");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_base_subject);
	tcase_add_test(tc, test_casefold);
	tcase_add_test(tc, test_order_like_dovecot);
	suite_add_tcase(s, tc);
	tc = tcase_create("Limits");
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

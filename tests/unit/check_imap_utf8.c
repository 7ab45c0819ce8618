/* check_imap_utf8.c - UTF8=ACCEPT output: ENVELOPE/BODYSTRUCTURE
 * literals holding UTF-8 become quoted strings, everything else is
 * copied unchanged. */
#include "suites.h"
#include "imap-utf8.h"

static const char *conv(const char *in, size_t size)
{
	static char buf[1024];
	string_t *s = str_new(64);

	imap_utf8_literals_to_quoted(in, size, s);
	ck_assert_uint_lt(str_len(s), sizeof(buf));
	memcpy(buf, str_c(s), str_len(s) + 1);
	str_free(&s);
	return buf;
}

#define CONV(in) conv(in, strlen(in))

START_TEST(test_literals)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "(NIL \"x\" NIL)", "(NIL \"x\" NIL)" },
		/* UTF-8: quoted, " and \\ escaped */
		{ "(NIL {7}\r\nGr\xc3\xbc\xc3\x9f" "e)", "(NIL \"Gr\xc3\xbc\xc3\x9f" "e\")" },
		{ "({8}\r\n\"\xc3\xa9\" a\\b x)", "(\"\\\"\xc3\xa9\\\" a\\\\b\" x)" },
		/* ASCII literal (many quotes): kept */
		{ "({10}\r\n\"\"\"\"\"\"\"\"\"\" x)", "({10}\r\n\"\"\"\"\"\"\"\"\"\" x)" },
		/* invalid UTF-8, CR/LF inside: kept */
		{ "({4}\r\ncaf\xe9)", "({4}\r\ncaf\xe9)" },
		{ "({4}\r\n\xc3\xa9\r\n)", "({4}\r\n\xc3\xa9\r\n)" },
		/* a quoted string with a brace and an escaped quote */
		{ "(\"a{2}\\\"\" {2}\r\n\xc3\xa9)", "(\"a{2}\\\"\" \"\xc3\xa9\")" },
		/* not literals: copied */
		{ "{x}\r\n", "{x}\r\n" },
		{ "{5}\r\nab", "{5}\r\nab" },
		{ "{2}\n\xc3\xa9", "{2}\n\xc3\xa9" },
		{ "{99999999999999999999999}\r\n", "{99999999999999999999999}\r\n" },
		{ "(\"unterminated", "(\"unterminated" },
		{ "{", "{" },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(cases); i++) {
		const char *got = CONV(cases[i].in);

		ck_assert_msg(strcmp(got, cases[i].out) == 0,
			      "case %u: got '%s', want '%s'", i, got,
			      cases[i].out);
	}
}
END_TEST

START_TEST(test_nul)
{
	/* a literal with a NUL stays a literal */
	static const char in[] = "({3}\r\n\xc3\xa9\0)";
	string_t *s = str_new(32);

	imap_utf8_literals_to_quoted(in, sizeof(in) - 1, s);
	ck_assert_uint_eq(str_len(s), sizeof(in) - 1);
	ck_assert_int_eq(memcmp(str_c(s), in, sizeof(in) - 1), 0);
	str_free(&s);
}
END_TEST

Suite *make_imap_utf8_suite(void)
{
	Suite *s = suite_create("imap_utf8");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_literals);
	tcase_add_test(tc, test_nul);
	suite_add_tcase(s, tc);
	return s;
}

/* check_mail_preview.c - mailstore/mail-preview.c: which part gives the
 * preview, whitespace, quoted lines, HTML, the length limit. (The whole
 * corpus is compared with Dovecot by tests/compat/imap-diff.py.) */
#include "suites.h"
#include "mail-preview.h"

#include <string.h>

static char *preview(const char *msg, unsigned int max)
{
	pool_t pool = pool_create("preview test", 1024);
	struct message_part *parts;
	string_t *str = str_new(256);
	char *ret;

	message_parse(pool, msg, strlen(msg), &parts);
	message_preview_generate(parts, (const unsigned char *)msg,
				 strlen(msg), max, str);
	ret = i_strdup(str_c(str));
	str_free(&str);
	pool_destroy(&pool);
	return ret;
}

static void check(const char *msg, unsigned int max, const char *expected)
{
	char *got = preview(msg, max);

	ck_assert_str_eq(got, expected);
	i_free(got);
}

START_TEST(test_plain)
{
	check("Subject: x\n\n  Hello \t  there,\r\n\r\nworld  \n", 200,
	      "Hello there, world");
	check("Subject: x\n\n> quoted\n>more\nreal text\n", 200, "real text");
	check("Subject: x\n\n> quoted\n>more\n", 200, ">quoted more");
	check("Subject: x\n\n\xef\xbb\xbf" "ab\n", 200, "ab");
	check("Subject: x\n\n", 200, "");
	/* 5 characters, the space counts, none at the end */
	check("Subject: x\n\nab cdef\n", 5, "ab cd");
	check("Subject: x\n\nabcd efgh\n", 5, "abcd");
	check("Subject: x\n\n\xc3\xa9\xc3\xa9\xc3\xa9\n", 2, "\xc3\xa9\xc3\xa9");
}
END_TEST

START_TEST(test_parts)
{
	/* the first text leaf; other types are passed over */
	check("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	      "Content-Type: image/png\n\nPNG\n--b\n"
	      "Content-Type: text/plain\n\nfirst\n--b\n"
	      "Content-Type: text/plain\n\nsecond\n--b--\n", 200, "first");
	/* message/rfc822 is not entered */
	check("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	      "Content-Type: message/rfc822\n\nSubject: in\n\ninner\n--b\n"
	      "Content-Type: text/plain\n\nouter\n--b--\n", 200, "outer");
	/* base64 and a charset */
	check("Content-Type: text/plain; charset=iso-8859-1\n"
	      "Content-Transfer-Encoding: base64\n\nY2Fm6Q==\n", 200,
	      "caf\xc3\xa9");
	/* a bare "text" content type ends the search with nothing */
	check("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	      "Content-Type: text\n\nA\n--b\nContent-Type: text/plain\n\nB\n"
	      "--b--\n", 200, "");
}
END_TEST

START_TEST(test_html)
{
	check("Content-Type: text/html\n\n<html><head><style>p{}</style>"
	      "</head><body><p>Caf&eacute; &amp; &lt;tea&gt;</p><!-- c -->"
	      "<script>x()</script><br>&#x41;&#66;&bogus; &x</body></html>\n",
	      200, "Caf\xc3\xa9 & <tea> AB x");
	check("Content-Type: text/html\n\na&nbsp;b\n", 200, "a\xc2\xa0" "b");
}
END_TEST

Suite *make_mail_preview_suite(void)
{
	Suite *s = suite_create("mail_preview");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_parts);
	tcase_add_test(tc, test_html);
	suite_add_tcase(s, tc);
	return s;
}

/* check_message_header.c - header iteration (folding, fields without a
 * colon, NULs, CR-only lines), RFC 2047 encoded words (Q, B, adjacent
 * words, unknown charsets, ISO-2022-JP, invalid UTF-8), RFC 2231
 * parameters, address lists and RFC 5322 dates. */
#include "suites.h"
#include "pool.h"
#include "str.h"
#include "message-header.h"
#include "message-address.h"
#include "message-date.h"
#include "rfc822-parser.h"
#include "unicode-casemap.h"

#include <stdio.h>

/* "name=value|" for every field, value unfolded */
static const char *fields(const char *hdr, size_t size)
{
	static char buf[4096];
	struct message_header_iter iter;
	struct message_header_line line;
	string_t *out = str_new(256);

	message_header_iter_init(&iter, hdr, size);
	while (message_header_iter_next(&iter, &line)) {
		str_append_n(out, line.name, line.name_len);
		str_append(out, line.no_colon ? "!" : "=");
		message_header_value_unfold(&line, out);
		str_append_c(out, '|');
	}
	str_printfa(out, "end=%zu", message_header_iter_end(&iter));
	snprintf(buf, sizeof(buf), "%s", str_c(out));
	str_free(&out);
	return buf;
}

#define FIELDS(s) fields(s, sizeof(s) - 1)

START_TEST(test_iter_basic)
{
	ck_assert_str_eq(FIELDS("Subject: hi\nFrom:  a@b \n\nbody"),
			 "Subject=hi|From=a@b |end=25");
	ck_assert_str_eq(FIELDS("A: 1\r\n\tmore\r\nB:2\r\n\r\nbody"),
			 "A=1\tmore|B=2|end=20");
	ck_assert_str_eq(FIELDS("Subject : spaced\n\n"),
			 "Subject=spaced|end=18");
	ck_assert_str_eq(FIELDS(""), "end=0");
	ck_assert_str_eq(FIELDS("\nbody"), "end=1");
}
END_TEST

START_TEST(test_iter_odd_lines)
{
	ck_assert_str_eq(FIELDS("No colon here\nX: y\n\n"),
			 "No colon here!|X=y|end=20");
	ck_assert_str_eq(FIELDS(" leading: ws\nX: y\n\n"),
			 "= leading: ws|X=y|end=19");
	ck_assert_str_eq(FIELDS("A: no newline"), "A=no newline|end=13");
	ck_assert_str_eq(FIELDS("A: x\rB: y\n\n"), "A=xB: y|end=11");
	ck_assert_str_eq(FIELDS("A: x\0y\n\n"),
			 "A=x\xef\xbf\xbdy|end=8");
}
END_TEST

START_TEST(test_value_get)
{
	struct message_header_iter iter;
	struct message_header_line line;
	static const char hdr[] = "S: a\r\n b\n\tc\0d\n\n";
	string_t *str = str_new(64);
	pool_t pool = pool_create("test", 256);

	message_header_iter_init(&iter, hdr, sizeof(hdr) - 1);
	ck_assert(message_header_iter_next(&iter, &line));
	ck_assert(line.has_nuls);
	message_header_value_get(&line, str);
	ck_assert_uint_eq(str_len(str), 9);
	ck_assert_int_eq(memcmp(str_c(str), "a\n b\n\tc\0d", 9), 0);
	ck_assert_str_eq(message_header_strdup(pool, "x\0y", 3),
			 "x\xef\xbf\xbdy");
	/* NULs inside parameter values become U+FFFD */
	{
		struct rfc822_parser parser;
		struct mime_param *mp;
		unsigned int count;

		rfc822_parser_init(&parser, "; d=\"e\0f\"", 10, NULL);
		(void)rfc2231_parse(&parser, pool, &mp, &count);
		ck_assert_uint_eq(count, 1);
		ck_assert_str_eq(mp[0].value, "e\xef\xbf\xbd" "f");
	}
	str_free(&str);
	pool_destroy(&pool);
}
END_TEST

static const char *decode(const char *s, bool *clean_r)
{
	static char buf[1024];
	string_t *str = str_new(64);

	*clean_r = message_header_decode_utf8(s, strlen(s), str);
	snprintf(buf, sizeof(buf), "%s", str_c(str));
	str_free(&str);
	return buf;
}

START_TEST(test_rfc2047)
{
	bool clean;

	ck_assert_str_eq(decode("=?utf-8?q?caf=C3=A9_au_lait?=", &clean),
			 "caf\xc3\xa9 au lait");
	ck_assert(clean);
	ck_assert_str_eq(decode("=?UTF-8?B?w4RwZmVs?= und "
				"=?iso-8859-1?q?Birnen?=", &clean),
			 "\xc3\x84pfel und Birnen");
	/* whitespace between encoded words goes */
	ck_assert_str_eq(decode("=?utf-8?q?a?= \r\n =?utf-8?q?b?=", &clean),
			 "ab");
	ck_assert_str_eq(decode("x=?utf-8?q?y?=z", &clean), "xyz");
	/* RFC 2231 language suffix */
	ck_assert_str_eq(decode("=?utf-8*en?q?hi?=", &clean), "hi");
	/* broken words stay as written */
	ck_assert_str_eq(decode("=?utf-8?x?bad?= =?utf-8?q?no end", &clean),
			 "=?utf-8?x?bad?= =?utf-8?q?no end");
	/* unknown charset: the bytes, if valid UTF-8 */
	ck_assert_str_eq(decode("=?x-unknown?q?abc?=", &clean), "abc");
	ck_assert_str_eq(decode("=?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=",
				&clean), "\xe4\xbc\x9a\xe8\xad\xb0");
	ck_assert(clean);
}
END_TEST

START_TEST(test_rfc2047_invalid_utf8)
{
	bool clean;

	ck_assert_str_eq(decode("a\xff" "b", &clean),
			 "a\xef\xbf\xbd" "b");
	ck_assert(!clean);
	ck_assert_str_eq(decode("=?utf-8?q?=C3?=", &clean), "\xef\xbf\xbd");
	ck_assert(!clean);
	ck_assert_str_eq(decode("=?us-ascii?b?/w==?=", &clean),
			 "\xef\xbf\xbd");
	ck_assert(!clean);
}
END_TEST

static const char *params(const char *value)
{
	static char buf[2048];
	pool_t pool = pool_create("test", 1024);
	struct rfc822_parser parser;
	struct mime_param *p;
	unsigned int i, count;
	string_t *out = str_new(128);

	rfc822_parser_init(&parser, value, strlen(value), NULL);
	(void)rfc2231_parse(&parser, pool, &p, &count);
	for (i = 0; i < count; i++)
		str_printfa(out, "%s=%s|", p[i].name, p[i].value);
	snprintf(buf, sizeof(buf), "%s", str_c(out));
	str_free(&out);
	pool_destroy(&pool);
	return buf;
}

START_TEST(test_rfc2231)
{
	ck_assert_str_eq(params("; a=1; B=\"x y\""), "a=1|B=x y|");
	ck_assert_str_eq(params("; n*0=ab; n*1=\"cd\"; m=1"), "m=1|n=abcd|");
	ck_assert_str_eq(params("; f*0*=utf-8''%E2; f*1*=%82%AC"),
			 "f*=utf-8''%E2%82%AC|");
	ck_assert_str_eq(params("; f*0*=utf-8''a; f*1=5%"),
			 "f*=utf-8''a5%25|");
	/* a missing piece: kept as written */
	ck_assert_str_eq(params("; d*1=z; d*3=w"), "d*1=z|d*3=w|");
	/* after a broken parameter Dovecot skips byte by byte to the
	   next ';' that starts a good one ("b=1" is lost) */
	ck_assert_str_eq(params("; a; b=1; =c; d=e"), "=c|d=e|");
	ck_assert_str_eq(params("; a=\"e\xff\"; x=1"), "a=e\xff|x=1|");
}
END_TEST

START_TEST(test_rfc2231_decode_value)
{
	string_t *cs = str_new(16), *out = str_new(16);

	ck_assert(rfc2231_decode_value("utf-8'en'%E2%82%AC!", cs, out));
	ck_assert_str_eq(str_c(cs), "utf-8");
	ck_assert_str_eq(str_c(out), "\xe2\x82\xac!");
	ck_assert(!rfc2231_decode_value("no quotes", cs, out));
	str_free(&cs);
	str_free(&out);
}
END_TEST

static const char *addrs(const char *value)
{
	static char buf[2048];
	pool_t pool = pool_create("test", 1024);
	struct message_address *a;
	string_t *out = str_new(128);

	a = message_address_parse(pool, value, strlen(value), 100, 0);
	for (; a != NULL; a = a->next) {
		str_printfa(out, "[%s|%s|%s|%s]", a->name ? a->name : "-",
			    a->route ? a->route : "-",
			    a->mailbox ? a->mailbox : "-",
			    a->domain ? a->domain : "-");
	}
	snprintf(buf, sizeof(buf), "%s", str_c(out));
	str_free(&out);
	pool_destroy(&pool);
	return buf;
}

START_TEST(test_addresses)
{
	ck_assert_str_eq(addrs("Alice <a@example.com>"),
			 "[Alice|-|a|example.com]");
	ck_assert_str_eq(addrs("\"Doe, J\" <j@x>, k@y (Kay)"),
			 "[Doe, J|-|j|x][Kay|-|k|y]");
	ck_assert_str_eq(addrs("<@r1,@r2:u@h>"), "[-|@r1,@r2|u|h]");
	ck_assert_str_eq(addrs("g: a@b, c@d;, e@f"),
			 "[-|-|g|-][-|-|a|b][-|-|c|d][-|-|-|-][-|-|e|f]");
	ck_assert_str_eq(addrs("a . b @ c . d"), "[a.  b|-|-|-]");
	ck_assert_str_eq(addrs(""), "");
	ck_assert_str_eq(addrs("(only a comment)"), "");
}
END_TEST

START_TEST(test_address_write)
{
	pool_t pool = pool_create("test", 1024);
	const char *in = "Alice <a@b>, \"x, y\" <c@d>, g: e@f;, h@i";
	struct message_address *a =
		message_address_parse(pool, in, strlen(in), 100, 0);
	string_t *out = str_new(64);

	message_address_write(out, a);
	/* Dovecot's normalized form (what SEARCH FROM/TO match) */
	ck_assert_str_eq(str_c(out),
			 "Alice <a@b>, \"x, y\" <c@d>, g: <e@f>;, <h@i>");
	str_free(&out);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_address_limits)
{
	pool_t pool = pool_create("test", 65536);
	string_t *s = str_new(100000);
	struct message_address *a;
	unsigned int i, n = 0;

	for (i = 0; i < 10000; i++)
		str_append(s, "a@b, ");
	a = message_address_parse(pool, str_c(s), str_len(s), 5, 0);
	for (; a != NULL; a = a->next)
		n++;
	ck_assert_uint_eq(n, 5);
	/* deeply nested comments are not recursion */
	str_truncate(s, 0);
	for (i = 0; i < 50000; i++)
		str_append_c(s, '(');
	str_append(s, "x@y");
	(void)message_address_parse(pool, str_c(s), str_len(s), 100, 0);
	str_free(&s);
	pool_destroy(&pool);
}
END_TEST

/* Inputs cut where a parser looks one byte further (found by
   fuzz_message_parser: "r:o mBo "); each is copied to a buffer of its
   exact size so that ASan sees any read past the end. */
START_TEST(test_address_end_of_input)
{
	static const char *inputs[] = {
		"r:o mBo ", "g:a", "g: \"x", "g:a,", "<", "<@", "<@a", "<@a,",
		"<a@", "a@", "a@[", "\"", "(", "a (", "g:(", "a.", "a .",
		"x <a", "x <@a:", ",", "g:;", "\"a\\", "a\\",
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(inputs); i++) {
		pool_t pool = pool_create("test", 1024);
		size_t len = strlen(inputs[i]);
		char *buf = malloc(len == 0 ? 1 : len);

		memcpy(buf, inputs[i], len);
		(void)message_address_parse(pool, buf, len, 100,
			MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING);
		free(buf);
		pool_destroy(&pool);
	}
}
END_TEST

static bool date(const char *s, time_t *t_r, int *tz_r)
{
	return message_date_parse(s, strlen(s), t_r, tz_r);
}

START_TEST(test_dates)
{
	time_t t;
	int tz;
	string_t *str = str_new(64);

	ck_assert(date("Mon, 6 Nov 2023 10:00:00 +0100", &t, &tz));
	ck_assert_int_eq(t, 1699261200);
	ck_assert_int_eq(tz, 60);
	ck_assert(date("6 Nov 2023 09:00 GMT", &t, &tz));
	ck_assert_int_eq(t, 1699261200);
	ck_assert_int_eq(tz, 0);
	ck_assert(date("Mon,  06 nov 23 04:00:00 EDT (comment)", &t, &tz));
	ck_assert_int_eq(t, 1699257600);
	ck_assert_int_eq(tz, -240);
	ck_assert(date("Tue, 1 Jan 99 00:00:00", &t, &tz));
	ck_assert_int_eq(t, 915148800);
	ck_assert(date("1 Jan 2000 00:00:00 -0000", &t, &tz));
	ck_assert(!date("", &t, &tz));
	ck_assert(!date("yesterday", &t, &tz));
	ck_assert(!date("32 Jan 2000 00:00:00", &t, &tz));
	ck_assert(!date("1 Foo 2000 00:00:00", &t, &tz));
	ck_assert(!date("1 Jan 2000 25:00:00", &t, &tz));
	message_date_create(1699261200, 60, str);
	ck_assert_str_eq(str_c(str), "Mon, 6 Nov 2023 10:00:00 +0100");
	str_truncate(str, 0);
	message_date_create(0, -330, str);
	ck_assert_str_eq(str_c(str), "Wed, 31 Dec 1969 18:30:00 -0530");
	str_free(&str);
}
END_TEST

START_TEST(test_rfc2047_normalized)
{
	/* plain text and known charsets are folded, a word in a charset
	   iconv doesn't know is kept as it is (Dovecot's SEARCH/SORT) */
	static const char *in = "re: =?x-unknown?q?abc=E9?= "
		"=?utf-8?q?d=C3=A9?= fin";
	string_t *s = str_new(64);

	ck_assert(!message_header_decode_utf8_normalized(in, strlen(in), s,
							 uni_utf8_to_casemap));
	ck_assert_str_eq(str_c(s), "RE: abc\xef\xbf\xbd" "DE\xcc\x81 FIN");
	str_clear(s);
	ck_assert(message_header_decode_utf8_normalized("x", 1, s, NULL));
	ck_assert_str_eq(str_c(s), "x");
	str_free(&s);
}
END_TEST

Suite *make_message_header_suite(void)
{
	Suite *s = suite_create("message_header");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_iter_basic);
	tcase_add_test(tc, test_value_get);
	tcase_add_test(tc, test_rfc2047);
	tcase_add_test(tc, test_rfc2231);
	tcase_add_test(tc, test_rfc2231_decode_value);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_address_write);
	tcase_add_test(tc, test_dates);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_address_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_address_end_of_input);
	tcase_add_test(tc, test_iter_odd_lines);
	tcase_add_test(tc, test_rfc2047_invalid_utf8);
	tcase_add_test(tc, test_rfc2047_normalized);
	suite_add_tcase(s, tc);
	return s;
}

/* check_imap_bodystructure.c - ENVELOPE, BODY, BODYSTRUCTURE and
 * RFC822.SIZE of every message in tests/data/mime/ against the golden
 * NAME.out files (Dovecot 2.3.19's own answers, written by
 * tests/compat/mime-diff.py --write-golden), plus the IMAP quoting rules
 * behind them. */
#include "suites.h"
#include "pool.h"
#include "str.h"
#include "message-parser.h"
#include "imap-envelope.h"
#include "imap-bodystructure.h"
#include "imap-quote.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>

static const char *corpus_dir(void)
{
	static char path[4096];
	const char *dir = getenv("ROOST_SRCDIR");

	snprintf(path, sizeof(path), "%s/tests/data/mime",
		 dir != NULL ? dir : ".");
	return path;
}

/* The four answers in the format of the golden files. */
static void fetch_answers(const char *data, size_t size, string_t *out)
{
	pool_t pool = pool_create("golden", 4096);
	struct message_part *p;

	message_parse(pool, data, size, &p);
	str_append(out, "* 1 FETCH (ENVELOPE ");
	imap_envelope_write(p->data->envelope, out);
	str_append(out, ")\r\nf OK\r\n* 1 FETCH (BODYSTRUCTURE ");
	imap_bodystructure_write(p, out, true);
	str_append(out, ")\r\nf OK\r\n* 1 FETCH (BODY ");
	imap_bodystructure_write(p, out, false);
	str_printfa(out, ")\r\nf OK\r\n* 1 FETCH (RFC822.SIZE %" PRIu64
		    ")\r\nf OK\r\n", p->header_size.virtual_size +
		    p->body_size.virtual_size);
	pool_destroy(&pool);
}

START_TEST(test_golden_files)
{
	struct dirent *de;
	DIR *d = opendir(corpus_dir());
	unsigned int count = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char path[4096 + 256];
		char *data, *expected;
		size_t size, exp_size;
		string_t *out;

		if (!str_ends(de->d_name, ".eml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", corpus_dir(), de->d_name);
		data = test_read_file(path, &size);
		path[strlen(path) - 4] = '\0';
		strcat(path, ".out"); /* @UNSAFE: room left above */
		expected = test_read_file(path, &exp_size);
		out = str_new(4096);
		fetch_answers(data, size, out);
		if (str_len(out) != exp_size ||
		    memcmp(str_c(out), expected, exp_size) != 0)
			ck_abort_msg("%s differs from its .out:\n%s",
				     de->d_name, str_c(out));
		str_free(&out);
		free(data);
		free(expected);
		count++;
	}
	closedir(d);
	ck_assert_uint_ge(count, 40);
}
END_TEST

static const char *bs(const char *msg, bool extended)
{
	static char buf[8192];
	pool_t pool = pool_create("test", 1024);
	struct message_part *p;
	string_t *str = str_new(256);

	message_parse(pool, msg, strlen(msg), &p);
	imap_bodystructure_write(p, str, extended);
	snprintf(buf, sizeof(buf), "%s", str_c(str));
	str_free(&str);
	pool_destroy(&pool);
	return buf;
}

START_TEST(test_bodystructure_defaults)
{
	ck_assert_str_eq(bs("\nx\n", true), "(\"text\" \"plain\" "
		"(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL)");
	ck_assert_str_eq(bs("Content-Type: TEXT/Html\n\nx", false),
		"(\"TEXT\" \"Html\" (\"charset\" \"us-ascii\") NIL NIL "
		"\"7bit\" 1 0)");
	ck_assert_str_eq(bs("Content-Type: text\n\nx", false),
		"(\"text\" \"\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0)");
	ck_assert_str_eq(bs("Content-Type: image/png x\n\nx", false),
		"(\"\" \"\" NIL NIL NIL \"7bit\" 1)");
	ck_assert_str_eq(bs("Content-Type: multipart\n\nx", false),
		"(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" 1)");
	ck_assert_str_eq(bs("Content-Type: multipart/mixed\n\nx", true),
		"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
		"\"7bit\" 0 0 NIL NIL NIL NIL) \"mixed\" NIL NIL NIL NIL)");
	/* not MIME: Content-* fields do not count */
	ck_assert_str_eq(bs("Content-Transfer-Encoding: 8bit\n"
			    "Content-ID: <x>\n\nx", false),
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
		"\"7bit\" 1 0)");
}
END_TEST

START_TEST(test_bodystructure_extension)
{
	ck_assert_str_eq(bs("Content-Type: text/plain; charset=UTF-8\n"
			    "Content-Disposition: attachment; filename=a.txt\n"
			    "Content-Language: en, de\n"
			    "Content-Location: http://x/\n"
			    "Content-MD5: abc\n"
			    "Content-ID: <id>\n"
			    "Content-Description: a\n b\n\nx\n", true),
		"(\"text\" \"plain\" (\"charset\" \"UTF-8\") \"<id>\" \"a b\" "
		"\"7bit\" 3 1 \"abc\" (\"attachment\" (\"filename\" "
		"\"a.txt\")) (\"en\" \"de\") \"http://x/\")");
	/* RFC 2231 continuations are merged but not decoded; "b*" keeps
	   the index of the "a*1" before it (Dovecot) */
	ck_assert_str_eq(bs("Content-Type: text/plain; a*0=x; a*1=y; "
			    "b*=utf-8''%E2%82%AC\n\n", false),
		"(\"text\" \"plain\" (\"a\" \"xy\" \"b*1*\" "
		"\"utf-8''%E2%82%AC\" \"charset\" \"us-ascii\") NIL NIL "
		"\"7bit\" 0 0)");
}
END_TEST

START_TEST(test_rfc822_envelope)
{
	ck_assert_str_eq(bs("Content-Type: message/rfc822\n\n"
			    "Subject: in\nFrom: A <a@b>\n\nx\n", false),
		"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 33 "
		"(NIL \"in\" ((\"A\" NIL \"a\" \"b\")) ((\"A\" NIL \"a\" \"b\")) "
		"((\"A\" NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) "
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
		"\"7bit\" 3 1) 4)");
}
END_TEST

static const char *quoted(void (*fn)(string_t *, const char *),
			  const char *s)
{
	static char buf[1024];
	string_t *str = str_new(64);

	fn(str, s);
	snprintf(buf, sizeof(buf), "%s", str_c(str));
	str_free(&str);
	return buf;
}

START_TEST(test_quoting)
{
	ck_assert_str_eq(quoted(imap_append_nstring, NULL), "NIL");
	ck_assert_str_eq(quoted(imap_append_string, ""), "\"\"");
	ck_assert_str_eq(quoted(imap_append_string, "a\"b\\c"),
			 "\"a\\\"b\\\\c\"");
	/* more than four escapes: a literal */
	ck_assert_str_eq(quoted(imap_append_string, "\"\"\"\"\""),
			 "{5}\r\n\"\"\"\"\"");
	ck_assert_str_eq(quoted(imap_append_string, "caf\xc3\xa9"),
			 "{5}\r\ncaf\xc3\xa9");
	ck_assert_str_eq(quoted(imap_append_string, "a\nb"), "{3}\r\na\nb");
	ck_assert_str_eq(quoted(imap_append_nstring_nolf, "a\r\n b\rc\nd"),
			 "\"a b cd\"");
}
END_TEST

static const char *astring(const char *s, const char *more)
{
	static char buf[1024];
	string_t *str = str_new(64);

	imap_append_astring(str, s, more);
	snprintf(buf, sizeof(buf), "%s", str_c(str));
	str_free(&str);
	return buf;
}

START_TEST(test_astring)
{
	ck_assert_str_eq(astring("INBOX", ""), "INBOX");
	ck_assert_str_eq(astring("Lists.dev", ""), "Lists.dev");
	ck_assert_str_eq(astring("", ""), "\"\"");
	ck_assert_str_eq(astring("nil", ""), "\"nil\"");
	ck_assert_str_eq(astring("a b", ""), "\"a b\"");
	ck_assert_str_eq(astring("a%", ""), "\"a%\"");
	ck_assert_str_eq(astring("a(b", ""), "\"a(b\"");
	ck_assert_str_eq(astring("caf\xc3\xa9", ""), "{5}\r\ncaf\xc3\xa9");
	/* ']' is an atom character unless the caller says otherwise */
	ck_assert_str_eq(astring("a]", ""), "a]");
	ck_assert_str_eq(astring("a]", "]"), "\"a]\"");
}
END_TEST

static const char *humans(const char *s)
{
	static char buf[1024];
	string_t *str = str_new(64);

	imap_append_string_for_humans(str, s, strlen(s));
	snprintf(buf, sizeof(buf), "%s", str_c(str));
	str_free(&str);
	return buf;
}

START_TEST(test_for_humans)
{
	ck_assert_str_eq(humans("plain text"), "\"plain text\"");
	ck_assert_str_eq(humans(""), "\"\"");
	ck_assert_str_eq(humans("   "), "\"\"");
	ck_assert_str_eq(humans("a\n\tb  c\t"), "{5}\r\na b c");
	ck_assert_str_eq(humans("say \"hi\""), "{8}\r\nsay \"hi\"");
	ck_assert_str_eq(humans(" lead"), "{4}\r\nlead");
}
END_TEST

static const char *envelope(const char *hdr)
{
	static char buf[4096];
	string_t *str = str_new(256);

	imap_envelope_write_header(hdr, strlen(hdr), str);
	snprintf(buf, sizeof(buf), "%s", str_c(str));
	str_free(&str);
	return buf;
}

START_TEST(test_envelope)
{
	ck_assert_str_eq(envelope(""),
		"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	ck_assert_str_eq(envelope("Subject: one\nSubject: two\n"
				  "To: a@b\nTo: c@d\nDate: x\n\n"),
		"(\"x\" \"two\" NIL NIL NIL ((NIL NIL \"a\" \"b\")"
		"(NIL NIL \"c\" \"d\")) NIL NIL NIL NIL)");
	ck_assert_str_eq(envelope("From: \"Joe\" <@r1,@r2:j@x>\n"
				  "Cc: undisclosed-recipients:;\n"
				  "Bcc: a, b c, <x@y\n"),
		"(NIL NIL ((\"Joe\" \"@r1,@r2\" \"j\" \"x\")) "
		"((\"Joe\" \"@r1,@r2\" \"j\" \"x\")) "
		"((\"Joe\" \"@r1,@r2\" \"j\" \"x\")) NIL "
		"((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
		"((NIL NIL \"a\" \"MISSING_DOMAIN\")(\"b c\" NIL "
		"\"MISSING_MAILBOX\" \"MISSING_DOMAIN\")(NIL NIL \"x\" "
		"\"SYNTAX_ERROR\")) NIL NIL)");
}
END_TEST

Suite *make_imap_bodystructure_suite(void)
{
	Suite *s = suite_create("imap_bodystructure");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_golden_files);
	tcase_add_test(tc, test_bodystructure_defaults);
	tcase_add_test(tc, test_bodystructure_extension);
	tcase_add_test(tc, test_rfc822_envelope);
	tcase_add_test(tc, test_astring);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_for_humans);
	tcase_add_test(tc, test_envelope);
	suite_add_tcase(s, tc);
	return s;
}

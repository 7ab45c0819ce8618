/* check_message_section.c - BODY[section] ranges (HEADER, TEXT, MIME,
 * HEADER.FIELDS[.NOT], part numbers into message/rfc822 parts) and
 * BINARY[section] decoding (base64, quoted-printable, errors, size
 * limit), with the answers Dovecot 2.3.19 gives. */
#include "suites.h"
#include "pool.h"
#include "str.h"
#include "message-parser.h"
#include "message-section.h"

#include <stdio.h>

static const char msg1[] =
	"From: a@b\n"
	"Subject: test\n"
	"Content-Type: multipart/mixed; boundary=x\n"
	"\n"
	"--x\n"
	"Content-Type: text/plain\n"
	"\n"
	"hello\n"
	"--x\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"Subject: inner\n"
	"X-Other: o\n"
	"\n"
	"inner body\n"
	"--x\n"
	"Content-Type: application/octet-stream\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"AAEC\n"
	"/w==\n"
	"--x--\n";

/* BODY[spec] as sent; "(none)" for a parse error */
static const char *body(const char *msg, size_t size, const char *spec)
{
	static char buf[8192];
	pool_t pool = pool_create("test", 1024);
	struct message_part *parts;
	struct message_section section;
	struct message_section_result res;
	const char *error;
	string_t *out = str_new(256);

	message_parse(pool, msg, size, &parts);
	if (message_section_parse(pool, spec, &section, &error) < 0) {
		snprintf(buf, sizeof(buf), "(none)");
	} else {
		(void)message_section_get(pool, parts, msg, size, &section,
					  &res);
		message_section_result_append(&res, msg, out);
		ck_assert_uint_eq(str_len(out), res.virtual_size);
		snprintf(buf, sizeof(buf), "%s", str_c(out));
	}
	str_free(&out);
	pool_destroy(&pool);
	return buf;
}

#define BODY1(spec) body(msg1, sizeof(msg1) - 1, spec)

START_TEST(test_sections)
{
	ck_assert_str_eq(BODY1("HEADER"), "From: a@b\r\nSubject: test\r\n"
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	ck_assert_str_eq(BODY1("1"), "hello");
	ck_assert_str_eq(BODY1("1.MIME"), "Content-Type: text/plain\r\n\r\n");
	ck_assert_str_eq(BODY1("2.HEADER"),
			 "Subject: inner\r\nX-Other: o\r\n\r\n");
	ck_assert_str_eq(BODY1("2.TEXT"), "inner body");
	ck_assert_str_eq(BODY1("2.1"), "inner body");
	ck_assert_str_eq(BODY1("2"), "Subject: inner\r\nX-Other: o\r\n\r\n"
			 "inner body");
	ck_assert_str_eq(BODY1("3"), "AAEC\r\n/w==");
	/* HEADER and TEXT of a part that is no message: empty */
	ck_assert_str_eq(BODY1("1.HEADER"), "");
	ck_assert_str_eq(BODY1("1.TEXT"), "");
	/* parts that do not exist: empty */
	ck_assert_str_eq(BODY1("4"), "");
	/* "1" may name a single part only as the last number */
	ck_assert_str_eq(BODY1("1.1"), "hello");
	ck_assert_str_eq(BODY1("1.1.1"), "");
	ck_assert_str_eq(BODY1("3.1.2"), "");
	/* everything, each LF sent as CRLF */
	{
		size_t i, lfs = 0;

		for (i = 0; i < sizeof(msg1) - 1; i++)
			lfs += msg1[i] == '\n';
		ck_assert_uint_eq(strlen(BODY1("")), sizeof(msg1) - 1 + lfs);
	}
}
END_TEST

START_TEST(test_header_fields)
{
	ck_assert_str_eq(BODY1("HEADER.FIELDS (SUBJECT x-none)"),
			 "Subject: test\r\n\r\n");
	ck_assert_str_eq(BODY1("HEADER.FIELDS (\"from\" Subject)"),
			 "From: a@b\r\nSubject: test\r\n\r\n");
	ck_assert_str_eq(BODY1("HEADER.FIELDS.NOT (From Content-Type)"),
			 "Subject: test\r\n\r\n");
	ck_assert_str_eq(BODY1("2.HEADER.FIELDS (X-OTHER)"),
			 "X-Other: o\r\n\r\n");
	/* the message's own fields end in CRLF + CRLF; NOT keeps the
	   header as it is */
	ck_assert_str_eq(body("Subject: a\nFrom: b", 18,
			      "HEADER.FIELDS (From)"), "From: b\r\n\r\n");
	ck_assert_str_eq(body("Subject: a\nFrom: b", 18,
			      "HEADER.FIELDS.NOT (Subject)"), "From: b");
	ck_assert_str_eq(body("", 0, "HEADER.FIELDS (From)"), "\r\n");
}
END_TEST

START_TEST(test_section_syntax)
{
	static const char *bad[] = {
		"MIME", "0", "1.0", "01", "1.", ".1", "1..2", "HEADER.FIELDS",
		"HEADER.FIELDS ()", "HEADER.FIELDS (a", "HEADER.FIELDS (a) x",
		"TEXTX", "1.2.FOO", "1 HEADER",
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(bad); i++) {
		if (strcmp(BODY1(bad[i]), "(none)") != 0)
			ck_abort_msg("accepted \"%s\"", bad[i]);
	}
	ck_assert_str_eq(BODY1("header"), BODY1("HEADER"));
}
END_TEST

START_TEST(test_nul_as_0x80)
{
	static const char msg[] = "Subject: a\0b\n\nc\0d";

	ck_assert_str_eq(body(msg, sizeof(msg) - 1, "TEXT"), "c\x80" "d");
	ck_assert_str_eq(body(msg, sizeof(msg) - 1, "HEADER.FIELDS (Subject)"),
			 "Subject: a\x80" "b\r\n\r\n");
}
END_TEST

/* BINARY[spec]: output in out, return code and flags */
static int binary(const char *msg, size_t size, const char *spec,
		  uint64_t max, string_t *out,
		  struct message_binary_result *res)
{
	pool_t pool = pool_create("test", 1024);
	struct message_part *parts;
	struct message_section section;
	const char *error;
	int ret;

	message_parse(pool, msg, size, &parts);
	ck_assert_int_eq(message_section_parse(pool, spec, &section, &error),
			 0);
	ret = message_section_binary(parts, msg, size, &section, out, max,
				     res);
	if (ret == 0)
		ck_assert_uint_eq(res->size, str_len(out));
	pool_destroy(&pool);
	return ret;
}

static const char *binary_str(const char *msg, const char *spec,
			      enum message_binary_error *error_r,
			      bool *literal8_r)
{
	static char buf[4096];
	struct message_binary_result res;
	string_t *out = str_new(64);

	(void)binary(msg, strlen(msg), spec, 0, out, &res);
	*error_r = res.error;
	*literal8_r = res.literal8;
	snprintf(buf, sizeof(buf), "%s", str_c(out));
	str_free(&out);
	return buf;
}

START_TEST(test_binary_decode)
{
	struct message_binary_result res;
	enum message_binary_error err;
	string_t *out = str_new(64);
	bool l8;

	ck_assert_int_eq(binary(msg1, sizeof(msg1) - 1, "3", 0, out, &res), 0);
	ck_assert_uint_eq(str_len(out), 4);
	ck_assert_int_eq(memcmp(str_c(out), "\0\1\2\xff", 4), 0);
	ck_assert(res.literal8);
	ck_assert_str_eq(binary_str(msg1, "1", &err, &l8), "hello");
	ck_assert(!l8);
	/* QP: soft breaks, trailing blanks, hard breaks as CRLF */
	ck_assert_str_eq(binary_str("Content-Transfer-Encoding: "
				    "quoted-printable\n\na=3Db=\nc  \nd\n",
				    "1", &err, &l8), "a=bc\r\nd\r\n");
	/* the whole message: the decoded part says "binary" */
	str_truncate(out, 0);
	ck_assert_int_eq(binary(msg1, sizeof(msg1) - 1, "", 0, out, &res), 0);
	ck_assert(strstr(str_c(out), "Content-Type: application/octet-stream"
			 "\r\nContent-Transfer-Encoding: binary\r\n\r\n") != NULL);
	str_free(&out);
}
END_TEST

START_TEST(test_binary_errors)
{
	enum message_binary_error err;
	bool l8;

	(void)binary_str("Content-Transfer-Encoding: x-uuencode\n\nabc\n",
			 "1", &err, &l8);
	ck_assert_int_eq(err, MESSAGE_BINARY_ERR_UNKNOWN_CTE);
	(void)binary_str("Content-Transfer-Encoding: base64\n\naGVs*bG8=\n",
			 "1", &err, &l8);
	ck_assert_int_eq(err, MESSAGE_BINARY_ERR_INVALID);
	(void)binary_str("Content-Transfer-Encoding: base64\n\naGVsbG8\n",
			 "1", &err, &l8);
	ck_assert_int_eq(err, MESSAGE_BINARY_ERR_TRUNCATED);
	(void)binary_str("Content-Transfer-Encoding: quoted-printable\n\n"
			 "a=ZZ\n", "1", &err, &l8);
	ck_assert_int_eq(err, MESSAGE_BINARY_ERR_INVALID);
	(void)binary_str("Content-Transfer-Encoding: quoted-printable\n\n"
			 "a=", "1", &err, &l8);
	ck_assert_int_eq(err, MESSAGE_BINARY_ERR_TRUNCATED);
	/* a folded Content-Transfer-Encoding is unknown to Dovecot */
	(void)binary_str("Content-Transfer-Encoding: base64\n \n\nYQ==\n",
			 "1", &err, &l8);
	ck_assert_int_eq(err, MESSAGE_BINARY_ERR_UNKNOWN_CTE);
}
END_TEST

START_TEST(test_binary_limit)
{
	struct message_binary_result res;
	string_t *out = str_new(64);

	ck_assert_int_eq(binary(msg1, sizeof(msg1) - 1, "1", 3, out, &res),
			 -1);
	ck_assert_int_eq(res.error, MESSAGE_BINARY_ERR_TOO_LARGE);
	str_free(&out);
}
END_TEST

START_TEST(test_binary_size_only)
{
	pool_t pool = pool_create("test", 1024);
	struct message_part *parts;
	struct message_section section;
	struct message_binary_result res;
	const char *error;

	message_parse(pool, msg1, sizeof(msg1) - 1, &parts);
	ck_assert_int_eq(message_section_parse(pool, "3", &section, &error), 0);
	ck_assert_int_eq(message_section_binary(parts, msg1, sizeof(msg1) - 1,
						&section, NULL, 0, &res), 0);
	ck_assert_uint_eq(res.size, 4);
	pool_destroy(&pool);
}
END_TEST

Suite *make_message_section_suite(void)
{
	Suite *s = suite_create("message_section");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_sections);
	tcase_add_test(tc, test_header_fields);
	tcase_add_test(tc, test_binary_decode);
	tcase_add_test(tc, test_binary_size_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_binary_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_section_syntax);
	tcase_add_test(tc, test_nul_as_0x80);
	tcase_add_test(tc, test_binary_errors);
	suite_add_tcase(s, tc);
	return s;
}

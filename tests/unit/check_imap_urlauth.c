/* check_imap_urlauth.c - unit tests of the URLAUTH URL parser
 * (daemon/imap/imap-urlauth.h): every part of a full URL, the rump,
 * ;EXPIRE= with time zones, %-decoding, and Dovecot's error texts. */
#include "suites.h"
#include "imap-urlauth.h"

static int parse(pool_t pool, const char *url, struct imap_urlauth_url *u,
		 const char **error_r)
{
	*error_r = NULL;
	return imap_urlauth_url_parse(pool, url, u, error_r);
}

START_TEST(test_full_url)
{
	pool_t pool = pool_create("test", 1024);
	struct imap_urlauth_url u;
	const char *error;
	const char *url = "imap://alice;AUTH=*@mx.test:1143/Work%2FSub;"
		"UIDVALIDITY=7/;UID=42/;SECTION=1.HEADER/;PARTIAL=5.10;"
		"EXPIRE=2030-01-02T03:04:05+01:00;URLAUTH=submit+bob:"
		"internal:01a123f1928b8781b0583460f2fc6976e3e175b31b";

	ck_assert_int_eq(parse(pool, url, &u, &error), 0);
	ck_assert_str_eq(u.userid, "alice");
	ck_assert_str_eq(u.host, "mx.test");
	ck_assert_uint_eq(u.port, 1143);
	ck_assert_str_eq(u.mailbox, "Work/Sub");
	ck_assert_uint_eq(u.uidvalidity, 7);
	ck_assert_uint_eq(u.uid, 42);
	ck_assert_str_eq(u.section, "1.HEADER");
	ck_assert(u.partial);
	ck_assert_uint_eq(u.partial_offset, 5);
	ck_assert_uint_eq(u.partial_size, 10);
	ck_assert(u.have_expire);
	/* 2030-01-02T02:04:05Z */
	ck_assert_int_eq((long long)u.expire, 1893549845LL);
	ck_assert_str_eq(u.access, "submit+bob");
	ck_assert_str_eq(u.application, "submit");
	ck_assert_str_eq(u.access_user, "bob");
	ck_assert_str_eq(u.mech, "internal");
	ck_assert_str_eq(u.token, "01a123f1928b8781b0583460f2fc6976e3e175b31b");
	ck_assert_str_eq(u.rump, "imap://alice;AUTH=*@mx.test:1143/Work%2FSub;"
		"UIDVALIDITY=7/;UID=42/;SECTION=1.HEADER/;PARTIAL=5.10;"
		"EXPIRE=2030-01-02T03:04:05+01:00;URLAUTH=submit+bob");
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_rump_url)
{
	pool_t pool = pool_create("test", 1024);
	struct imap_urlauth_url u;
	const char *error;

	ck_assert_int_eq(parse(pool, "imap://alice@localhost/INBOX/;uid=1;"
			       "urlauth=anonymous", &u, &error), 0);
	ck_assert_uint_eq(u.port, 143);
	ck_assert_str_eq(u.section, "");
	ck_assert(!u.partial && !u.have_expire);
	ck_assert_str_eq(u.access, "anonymous");
	ck_assert_ptr_null(u.access_user);
	ck_assert_ptr_null(u.mech);
	ck_assert_ptr_null(u.token);
	/* no URLAUTH at all parses too (callers say what they need) */
	ck_assert_int_eq(parse(pool, "imap://alice@localhost/INBOX/;uid=1",
			       &u, &error), 0);
	ck_assert_ptr_null(u.access);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_errors)
{
	static const struct {
		const char *url, *error;
	} tests[] = {
		{ "garbage", "Relative URL not allowed" },
		{ "/INBOX/;uid=1", "Relative URL not allowed" },
		{ "Error in IMAP: x", "Path component contains invalid character" },
		{ "http://x/INBOX/;uid=1", "Invalid URL: Not an IMAP URL" },
		{ "imap://localhost/INBOX/;uid=1;urlauth=anonymous",
		  "Invalid URL: Missing user name" },
		{ "imap://a@localhost/;uid=1;urlauth=anonymous",
		  "Invalid URL: Must be an URLAUTH rump URL" },
		{ "imap://a@localhost/INBOX?x/;uid=1;urlauth=anonymous",
		  "Invalid URL: Must be an URLAUTH rump URL" },
		{ "imap://a@localhost/INBOX;urlauth=anonymous",
		  "Invalid URL: Encountered stray ';' in mailbox reference" },
		{ "imap://a@localhost/INBOX/;uid=0;urlauth=anonymous",
		  "Invalid URL: Invalid UID" },
		{ "imap://a@localhost:99999/INBOX/;uid=1;urlauth=anonymous",
		  "Invalid URL: Invalid port" },
		{ "imap://a@localhost/INBOX/;uid=1;expire=2030-13-01T00:00:00Z;"
		  "urlauth=anonymous",
		  "Invalid URL: invalid date-time for `;EXPIRE='" },
		{ "imap://a@localhost/INBOX/;uid=1;urlauth=anonymous:internal:0011",
		  "Too short URLAUTH token" },
		{ "imap://a@localhost/INBOX/;uid=1;urlauth=anonymous:internal:"
		  "01972d8395ecd765bfc92dd7d9886cf948736cecZZ",
		  "Invalid URLAUTH token" },
		{ "imap://a@localhost/INBOX/;uid=1;foo=bar",
		  "Invalid URL: Unexpected IMAP URL path segment: `;foo=bar'" },
	};
	pool_t pool = pool_create("test", 1024);
	struct imap_urlauth_url u;
	const char *error;

	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		ck_assert_msg(parse(pool, tests[i].url, &u, &error) < 0,
			      "%s parsed", tests[i].url);
		ck_assert_str_eq(error, tests[i].error);
	}
	pool_destroy(&pool);
}
END_TEST

Suite *make_imap_urlauth_suite(void)
{
	Suite *s = suite_create("imap_urlauth");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_full_url);
	tcase_add_test(tc, test_rump_url);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

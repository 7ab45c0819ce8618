/* check_submission.c - unit tests of daemon/submission: the Received:
 * header Dovecot's submission writes (one recipient gets "for <...>",
 * HELO vs EHLO, TLS, no HELO at all), in the local time zone with a
 * two-digit day. */
#include "suites.h"
#include "submission-client.h"
#include "str.h"

#include <stdlib.h>
#include <time.h>

START_TEST(test_received_one_rcpt)
{
	string_t *str = str_new(256);
	char *old_tz = getenv("TZ") == NULL ? NULL : i_strdup(getenv("TZ"));

	setenv("TZ", "UTC0", 1);
	tzset();
	/* Thu, 05 Nov 2026 03:21:41 UTC */
	submission_received_header(str, "client.example", "192.0.2.1",
				   "mx.example", true, true,
				   "ajLNJ8WlB2uvUAAAg+zDdQ", "alice@example.com",
				   "bob@example.com", (time_t)1793848901);
	ck_assert_str_eq(str_c(str),
		"Received: from client.example ([192.0.2.1])\r\n"
		"\tby mx.example with ESMTPSA\r\n"
		"\tid ajLNJ8WlB2uvUAAAg+zDdQ\r\n"
		"\t(envelope-from <alice@example.com>)\r\n"
		"\tfor <bob@example.com>; Thu, 05 Nov 2026 03:21:41 +0000\r\n");
	if (old_tz != NULL)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	i_free(old_tz);
	str_free(&str);
}
END_TEST

START_TEST(test_received_variants)
{
	string_t *str = str_new(256);

	setenv("TZ", "UTC0", 1);
	tzset();
	/* several recipients: no "for"; HELO without TLS: SMTPA */
	submission_received_header(str, "h", "::1", "mx", false, false,
				   "id:T2", "", NULL, (time_t)1793848901);
	ck_assert_str_eq(str_c(str),
		"Received: from h ([::1])\r\n"
		"\tby mx with SMTPA\r\n"
		"\tid id:T2\r\n"
		"\t(envelope-from <>); Thu, 05 Nov 2026 03:21:41 +0000\r\n");
	str_clear(str);
	/* no HELO at all */
	submission_received_header(str, NULL, "127.0.0.1", "mx", true, false,
				   "x", "a@b", "c@d", (time_t)1793848901);
	ck_assert(strncmp(str_c(str), "Received: from unknown ([127.0.0.1])\r\n"
			  "\tby mx with ESMTPA\r\n", 56) == 0);
	/* another zone */
	setenv("TZ", "EST5", 1);	/* POSIX form: no zoneinfo needed */
	tzset();
	str_clear(str);
	submission_received_header(str, "h", "1.2.3.4", "mx", true, false,
				   "x", "a@b", NULL, (time_t)1793848901);
	ck_assert(strstr(str_c(str), "; Wed, 04 Nov 2026 22:21:41 -0500\r\n")
		  != NULL);
	unsetenv("TZ");
	tzset();
	str_free(&str);
}
END_TEST

Suite *make_submission_suite(void)
{
	Suite *s = suite_create("submission");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_received_one_rcpt);
	tcase_add_test(tc, test_received_variants);
	suite_add_tcase(s, tc);
	return s;
}

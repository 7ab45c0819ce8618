/* check_config_value.c - unit tests of confparse/config-value.c: the
 * spellings Dovecot 2.3 accepts for each setting type, the printed form
 * doveconf shows, and its exact error texts. */
#include "suites.h"
#include "config-value.h"

static const struct setting_def def_bool = { "b", SET_BOOL, "no", NULL, 0, 0 };
static const struct setting_def def_uint = { "u", SET_UINT, "0", NULL, 0, 0 };
static const struct setting_def def_oct = { "o", SET_OCT, "0600", NULL, 0, 0 };
static const struct setting_def def_size = { "s", SET_SIZE, "0", NULL, 0, 0 };
static const struct setting_def def_time = { "t", SET_TIME, "0", NULL, 0, 0 };
static const struct setting_def def_msecs = { "m", SET_MSECS, "0", NULL, 0, 0 };
static const struct setting_def def_port = { "p", SET_PORT, "0", NULL, 0, 0 };
static const struct setting_def def_enum = {
	"e", SET_ENUM, "yes", "yes,no,required", 0, 0
};
static const struct setting_def def_str = { "x", SET_STR, "", NULL, 0, 0 };

static pool_t pool;

static void setup(void)
{
	pool = pool_create("config-value test", 1024);
}

static void teardown(void)
{
	pool_destroy(&pool);
}

/* value must be accepted and printed as canon */
static void ok(const struct setting_def *def, const char *value,
	       const char *canon)
{
	const char *out = NULL, *error = NULL;

	ck_assert_msg(config_value_normalize(pool, def, value, &out,
					     &error) == 0,
		      "%s = '%s' rejected: %s", def->key, value,
		      error == NULL ? "" : error);
	ck_assert_msg(strcmp(out, canon) == 0, "%s = '%s' printed '%s', "
		      "expected '%s'", def->key, value, out, canon);
}

/* value must be rejected with exactly error */
static void bad(const struct setting_def *def, const char *value,
		const char *expected)
{
	const char *out = NULL, *error = NULL;

	ck_assert_msg(config_value_normalize(pool, def, value, &out,
					     &error) == -1,
		      "%s = '%s' accepted as '%s'", def->key, value,
		      out == NULL ? "" : out);
	ck_assert_msg(strcmp(error, expected) == 0, "%s = '%s' error '%s', "
		      "expected '%s'", def->key, value, error, expected);
}

START_TEST(test_value_bool)
{
	ok(&def_bool, "yes", "yes");
	ok(&def_bool, "no", "no");
	ok(&def_bool, "YES", "yes");
	ok(&def_bool, "No", "no");
	ok(&def_bool, "y", "yes");
	ok(&def_bool, "Y", "yes");
	ok(&def_bool, "1", "yes");
	bad(&def_bool, "true", "Invalid boolean value: true (use yes or no)");
	bad(&def_bool, "0", "Invalid boolean value: 0 (use yes or no)");
	bad(&def_bool, "", "Invalid boolean value:  (use yes or no)");

	bool b = false;
	const char *error;

	ck_assert_int_eq(config_parse_bool("Yes", &b, &error), 0);
	ck_assert(b);
	ck_assert_int_eq(config_parse_bool("NO", &b, &error), 0);
	ck_assert(!b);
}
END_TEST

START_TEST(test_value_uint)
{
	unsigned int n = 0;
	const char *error;

	ok(&def_uint, "0", "0");
	ok(&def_uint, "10", "10");
	ok(&def_uint, "007", "7");
	ok(&def_uint, "4294967295", "4294967295");
	bad(&def_uint, "abc", "Invalid number abc: Not a valid number");
	bad(&def_uint, "-1", "Invalid number -1: Number too small");
	bad(&def_uint, "99999999999",
	    "Invalid number 99999999999: Number too large");
	bad(&def_uint, "4294967296",
	    "Invalid number 4294967296: Number too large");
	bad(&def_uint, "+5", "Invalid number +5: Not a valid number");
	bad(&def_uint, "", "Invalid number : Not a valid number");
	ck_assert_int_eq(config_parse_uint("123", &n, &error), 0);
	ck_assert_uint_eq(n, 123);
}
END_TEST

START_TEST(test_value_size)
{
	uint64_t n = 0;
	const char *error;

	ok(&def_size, "10 M", "10 M");
	ok(&def_size, "1048576", "1 M");
	ok(&def_size, "2048", "2 k");
	ok(&def_size, "10kB", "10 k");
	ok(&def_size, "10KiB", "10 k");
	ok(&def_size, "3G", "3 G");
	ok(&def_size, "10t", "10 T");
	ok(&def_size, "0", "0");
	ok(&def_size, "10 b", "10 B");
	ok(&def_size, "10B", "10 B");
	ok(&def_size, "10 MB", "10 M");
	ok(&def_size, "10 mib", "10 M");
	ok(&def_size, "1023", "1023 B");
	ok(&def_size, "1536", "1536 B");
	ok(&def_size, "16384 T", "16384 T");
	bad(&def_size, "1.5M", "Invalid size: 1.5M");
	bad(&def_size, "10P", "Invalid size: 10P");
	bad(&def_size, "10 bytes", "Invalid size: 10 bytes");
	bad(&def_size, "", "Invalid size: ");
	ck_assert_int_eq(config_parse_size("64 k", &n, &error), 0);
	ck_assert_uint_eq(n, 65536);
}
END_TEST

START_TEST(test_value_time)
{
	uint64_t n = 0;
	const char *error;

	ok(&def_time, "90s", "90 secs");
	ok(&def_time, "60s", "1 mins");
	ok(&def_time, "3600 secs", "1 hours");
	ok(&def_time, "1 day", "1 days");
	ok(&def_time, "2 weeks", "2 weeks");
	ok(&def_time, "2 W", "2 weeks");
	ok(&def_time, "604800s", "1 weeks");
	ok(&def_time, "5 MINS", "5 mins");
	ok(&def_time, "1 minute", "1 mins");
	ok(&def_time, "0", "0");
	ok(&def_time, "4294967295 s", "4294967295 secs");
	bad(&def_time, "10", "Time interval '10' is missing units "
	    "(add e.g. 's' for seconds)");
	bad(&def_time, "1y", "Invalid time interval: 1y");
	bad(&def_time, "1.5h", "Invalid time interval: 1.5h");
	bad(&def_time, "100ms",
	    "Milliseconds not supported for this setting: 100ms");
	ck_assert_int_eq(config_parse_time("2 hours", false, &n, &error), 0);
	ck_assert_uint_eq(n, 7200);
	ck_assert_int_eq(config_parse_time("2 hours", true, &n, &error), 0);
	ck_assert_uint_eq(n, 7200000);
}
END_TEST

START_TEST(test_value_msecs)
{
	ok(&def_msecs, "250 ms", "250 ms");
	ok(&def_msecs, "250ms", "250 ms");
	ok(&def_msecs, "1500 msecs", "1500 ms");
	ok(&def_msecs, "2s", "2 secs");
	ok(&def_msecs, "0", "0");
	ok(&def_msecs, "1 ms", "1 ms");
}
END_TEST

START_TEST(test_value_enum_port_oct_str)
{
	ok(&def_enum, "required", "required");
	ok(&def_enum, "no", "no");
	bad(&def_enum, "abc", "Invalid value: abc");
	bad(&def_enum, "", "Invalid value: ");
	bad(&def_enum, "req", "Invalid value: req");
	ok(&def_port, "143", "143");
	ok(&def_port, "0", "0");
	ok(&def_port, "65535", "65535");
	bad(&def_port, "70000", "Invalid port number 70000");
	bad(&def_port, "65536", "Invalid port number 65536");
	ok(&def_oct, "0666", "0666");
	ok(&def_oct, "0", "00");
	ok(&def_oct, "1", "01");
	ok(&def_oct, "666", "01232");
	bad(&def_oct, "0999", "Invalid number: 0999");
	ok(&def_str, "  any thing  ", "  any thing  ");
}
END_TEST

START_TEST(test_value_printers)
{
	ck_assert_str_eq(config_size_str(pool, 0), "0");
	ck_assert_str_eq(config_size_str(pool, 1), "1 B");
	ck_assert_str_eq(config_size_str(pool, 1024), "1 k");
	ck_assert_str_eq(config_size_str(pool, 1024ULL * 1024 * 1024), "1 G");
	ck_assert_str_eq(config_size_str(pool, 1ULL << 50), "1024 T");
	ck_assert_str_eq(config_size_str(pool, UINT64_MAX),
			 "18446744073709551615 B");
	ck_assert_str_eq(config_time_str(pool, 0), "0");
	ck_assert_str_eq(config_time_str(pool, 59), "59 secs");
	ck_assert_str_eq(config_time_str(pool, 120), "2 mins");
	ck_assert_str_eq(config_time_str(pool, 5400), "90 mins");
	ck_assert_str_eq(config_time_str(pool, 86400), "1 days");
	ck_assert_str_eq(config_time_str(pool, 90000), "25 hours");
	ck_assert_str_eq(config_time_str(pool, 1209600), "2 weeks");
	ck_assert_str_eq(config_msecs_str(pool, 0), "0");
	ck_assert_str_eq(config_msecs_str(pool, 1500), "1500 ms");
	ck_assert_str_eq(config_msecs_str(pool, 60000), "1 mins");
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_value_limits)
{
	bad(&def_size, "99999999999999999999",
	    "Invalid size: 99999999999999999999");
	bad(&def_uint, "99999999999999999999999",
	    "Invalid number 99999999999999999999999: Number too large");
	bad(&def_time, "99999999999999999999 s",
	    "Invalid time interval: 99999999999999999999 s");
	ok(&def_size, "18446744073709551615", "18446744073709551615 B");
	/* the number fits, number x unit does not */
	bad(&def_size, "17179869184 T", "Size is too large: 17179869184 T");
	bad(&def_size, "16777216 T", "Size is too large: 16777216 T");
	ok(&def_size, "16777215 T", "16777215 T");
	/* over 2^32 seconds (or milliseconds) */
	bad(&def_time, "4294967296 s", "Time interval is too large: "
	    "4294967296 s");
	bad(&def_time, "49711 days", "Time interval is too large: 49711 days");
	bad(&def_time, "18446744073709551615 s",
	    "Time interval is too large: 18446744073709551615 s");
	bad(&def_msecs, "4294967296 ms",
	    "Time interval is too large: 4294967296 ms");
	bad(&def_msecs, "4294968 s", "Time interval is too large: 4294968 s");
	ok(&def_msecs, "4294967295 ms", "4294967295 ms");
	/* an over-long octal mode is cut to 32 bits, as in Dovecot */
	ok(&def_oct, "077777777777777777", "037777777777");
	ok(&def_oct, "01777777777777777777777", "037777777777");
	ok(&def_oct, "0100000000000", "00");
	bad(&def_oct, "02000000000000000000000",
	    "Invalid number: 02000000000000000000000");
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_value_malformed)
{
	bad(&def_size, " 10", "Invalid size:  10");
	bad(&def_size, "M", "Invalid size: M");
	bad(&def_size, "10 k extra", "Invalid size: 10 k extra");
	bad(&def_time, "s", "Invalid time interval: s");
	bad(&def_time, "-5s", "Invalid time interval: -5s");
	bad(&def_time, "5 s x", "Invalid time interval: 5 s x");
	bad(&def_uint, "12abc", "Invalid number 12abc: Not a valid number");
	bad(&def_uint, " 1", "Invalid number  1: Not a valid number");
	bad(&def_port, "-1", "Invalid port number -1");
	bad(&def_port, "abc", "Invalid port number abc");
	bad(&def_port, "", "Invalid port number ");
	bad(&def_oct, "0x1f", "Invalid number: 0x1f");
}
END_TEST

Suite *make_config_value_suite(void)
{
	Suite *s = suite_create("config_value");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_value_bool);
	tcase_add_test(tc, test_value_uint);
	tcase_add_test(tc, test_value_size);
	tcase_add_test(tc, test_value_time);
	tcase_add_test(tc, test_value_msecs);
	tcase_add_test(tc, test_value_enum_port_oct_str);
	tcase_add_test(tc, test_value_printers);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_value_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_value_malformed);
	suite_add_tcase(s, tc);
	return s;
}

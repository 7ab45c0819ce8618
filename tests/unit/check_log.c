/* check_log.c - unit tests of lib/log.c: Dovecot's line formats
 * ("<prefix><Level>: <msg>"), fatal exits, panics and log files. */
#include "suites.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void setup(void)
{
	log_set_prefix(NULL);
	test_log_capture_start();
}

static void teardown(void)
{
	test_log_capture_stop();
	log_set_prefix(NULL);
	log_close();
}

START_TEST(test_log_levels)
{
	log_set_prefix("test: ");
	i_info("hello %d", 42);
	i_warning("careful");
	i_error("broken: %s", "disk");
	i_debug("details");
	ck_assert_str_eq(test_log_captured(),
			 "test: Info: hello 42\n"
			 "test: Warning: careful\n"
			 "test: Error: broken: disk\n"
			 "test: Debug: details\n");
	ck_assert_uint_eq(test_log_captured_count(), 4);
}
END_TEST

static enum log_type last_type;
static char last_line[256];

static void record_type(enum log_type type, const char *line,
			void *context ATTR_UNUSED)
{
	last_type = type;
	snprintf(last_line, sizeof(last_line), "%s", line);
}

START_TEST(test_log_types)
{
	log_set_capture(record_type, NULL);
	log_set_prefix("imap(alice)<123><sess>: ");
	i_log(LOG_TYPE_ERROR, "x=%s", "y");
	ck_assert_int_eq(last_type, LOG_TYPE_ERROR);
	ck_assert_str_eq(last_line, "imap(alice)<123><sess>: Error: x=y");
	i_info("i");
	ck_assert_int_eq(last_type, LOG_TYPE_INFO);
	i_warning("w");
	ck_assert_int_eq(last_type, LOG_TYPE_WARNING);
	i_debug("d");
	ck_assert_int_eq(last_type, LOG_TYPE_DEBUG);
}
END_TEST

START_TEST(test_log_no_prefix)
{
	ck_assert_str_eq(log_get_prefix(), "");
	i_info("plain");
	log_set_prefix("p: ");
	ck_assert_str_eq(log_get_prefix(), "p: ");
	log_set_prefix(NULL);
	ck_assert_str_eq(log_get_prefix(), "");
	i_warning("again");
	ck_assert_str_eq(test_log_captured(),
			 "Info: plain\nWarning: again\n");
}
END_TEST

START_TEST(test_log_prefix_copied)
{
	char buf[16] = "mine: ";

	log_set_prefix(buf);
	memcpy(buf, "XXXX", 5);
	i_info("m");
	ck_assert_str_eq(test_log_captured(), "mine: Info: m\n");
}
END_TEST

START_TEST(test_log_type_prefix)
{
	ck_assert_str_eq(log_type_prefix(LOG_TYPE_DEBUG), "Debug: ");
	ck_assert_str_eq(log_type_prefix(LOG_TYPE_INFO), "Info: ");
	ck_assert_str_eq(log_type_prefix(LOG_TYPE_WARNING), "Warning: ");
	ck_assert_str_eq(log_type_prefix(LOG_TYPE_ERROR), "Error: ");
	ck_assert_str_eq(log_type_prefix(LOG_TYPE_FATAL), "Fatal: ");
	ck_assert_str_eq(log_type_prefix(LOG_TYPE_PANIC), "Panic: ");
	ck_assert_str_eq(log_type_prefix(LOG_TYPE_COUNT), "");
}
END_TEST

START_TEST(test_log_percent_in_args)
{
	i_info("%s", "100% %s %n");
	ck_assert_str_eq(test_log_captured(), "Info: 100% %s %n\n");
}
END_TEST

START_TEST(test_log_keeps_errno)
{
	errno = ENOENT;
	i_error("e");
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

static void log_from_capture(enum log_type type ATTR_UNUSED,
			     const char *line ATTR_UNUSED,
			     void *context)
{
	unsigned int *calls = context;

	(*calls)++;
	i_error("nested"); /* dropped by the recursion guard */
}

START_TEST(test_log_recursion)
{
	unsigned int calls = 0;

	log_set_capture(log_from_capture, &calls);
	i_info("outer");
	ck_assert_uint_eq(calls, 1);
	i_info("second");
	ck_assert_uint_eq(calls, 2);
}
END_TEST

/* A fatal or panic line must be logged exactly so before the exit: the
 * capture exits with 3 on anything else, which fails the exit test. */
static const char *expected_last;

static void check_line_or_exit(enum log_type type ATTR_UNUSED,
			       const char *line, void *context ATTR_UNUSED)
{
	if (strcmp(line, expected_last) != 0)
		_exit(3);
}

START_TEST(test_log_fatal_exit)
{
	log_set_prefix("doveconf: ");
	expected_last = "doveconf: Fatal: cannot go on: 1";
	log_set_capture(check_line_or_exit, NULL);
	i_fatal("cannot go on: %d", 1);
}
END_TEST

START_TEST(test_log_fatal_status)
{
	expected_last = "Fatal: temp";
	log_set_capture(check_line_or_exit, NULL);
	i_fatal_status(EXIT_TEMPFAIL, "temp");
}
END_TEST

START_TEST(test_log_panic_abort)
{
	log_set_prefix("p: ");
	expected_last = "p: Panic: our bug 7";
	log_set_capture(check_line_or_exit, NULL);
	i_panic("our bug %d", 7);
}
END_TEST

static void check_assert_line(enum log_type type, const char *line,
			      void *context ATTR_UNUSED)
{
	if (type != LOG_TYPE_PANIC ||
	    strstr(line, "assertion failed: (two == 3)") == NULL ||
	    strncmp(line, "Panic: file ", 12) != 0)
		_exit(3);
}

START_TEST(test_log_assert_abort)
{
	int two = 2;

	log_set_capture(check_assert_line, NULL);
	i_assert(two == 3);
}
END_TEST

START_TEST(test_log_open_file)
{
	const char *dir = test_tmpdir_create(), *error = NULL;
	char *path, *text;

	path = test_write_file(dir, "roost.log", "old line\n", 9);
	log_set_capture(NULL, NULL);
	ck_assert_int_eq(log_open_file(path, "X ", &error), 0);
	log_set_prefix("imap: ");
	i_info("msg %d", 1);
	i_warning("w");
	i_error("e");
	log_close();
	text = test_read_file(path, NULL);
	ck_assert_str_eq(text, "old line\n"
			 "X imap: Info: msg 1\n"
			 "X imap: Warning: w\n"
			 "X imap: Error: e\n");
	free(text);
	free(path);
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_log_open_paths_split)
{
	const char *dir = test_tmpdir_create(), *error = NULL;
	char *err = i_strdup_printf("%s/err.log", dir);
	char *info = i_strdup_printf("%s/info.log", dir);
	char *debug = i_strdup_printf("%s/debug.log", dir), *text;
	struct log_paths paths = {
		.log_path = err, .info_log_path = info,
		.debug_log_path = debug, .log_timestamp = "",
		.syslog_ident = "dovecot", .syslog_facility = "mail",
	};

	log_set_capture(NULL, NULL);
	ck_assert_int_eq(log_open_paths(&paths, &error), 0);
	i_debug("d");
	i_info("i");
	i_warning("w");
	i_error("e");
	log_close();
	text = test_read_file(err, NULL);
	ck_assert_str_eq(text, "Warning: w\nError: e\n");
	free(text);
	text = test_read_file(info, NULL);
	ck_assert_str_eq(text, "Info: i\n");
	free(text);
	text = test_read_file(debug, NULL);
	ck_assert_str_eq(text, "Debug: d\n");
	free(text);
	/* debug_log_path empty: debug lines follow the info lines */
	paths.debug_log_path = "";
	ck_assert_int_eq(log_open_paths(&paths, &error), 0);
	i_debug("d2");
	log_close();
	text = test_read_file(info, NULL);
	ck_assert_str_eq(text, "Info: i\nDebug: d2\n");
	free(text);
	/* a file that can't be opened changes nothing */
	paths.info_log_path = "/nonexistent-roost-dir/info.log";
	ck_assert_int_eq(log_open_paths(&paths, &error), -1);
	ck_assert_str_eq(error,
		"open(/nonexistent-roost-dir/info.log) failed: "
		"No such file or directory");
	paths.syslog_facility = "nosuch";
	paths.log_path = "syslog";
	ck_assert_int_eq(log_open_paths(&paths, &error), -1);
	ck_assert_str_eq(error, "Invalid syslog_facility");
	free(err);
	free(info);
	free(debug);
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_log_open_file_no_timestamp)
{
	const char *dir = test_tmpdir_create(), *error = NULL;
	char *path = i_strdup_printf("%s/new.log", dir), *text;

	log_set_capture(NULL, NULL);
	ck_assert_int_eq(log_open_file(path, "", &error), 0);
	i_info("bare");
	/* a capture set later takes over from the file */
	test_log_capture_start();
	i_info("captured");
	log_close();
	text = test_read_file(path, NULL);
	ck_assert_str_eq(text, "Info: bare\n");
	ck_assert_str_eq(test_log_captured(), "Info: captured\n");
	free(text);
	free(path);
	test_tmpdir_remove();
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_log_long_message)
{
	size_t len = 200000;
	char *big = i_malloc(len + 1);

	memset(big, 'm', len);
	big[len] = '\0';
	log_set_capture(record_type, NULL);
	i_info("%s", big);
	log_set_capture(NULL, NULL);
	test_log_capture_start();
	i_info("%s", big);
	ck_assert_uint_eq(strlen(test_log_captured()), len + 7);
	ck_assert_int_eq(strncmp(test_log_captured(), "Info: mmm", 9), 0);
	free(big);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_log_open_file_fails)
{
	const char *error = NULL;

	ck_assert_int_eq(log_open_file("/nonexistent-roost-dir/x.log", "",
				       &error), -1);
	ck_assert_str_eq(error, "open(/nonexistent-roost-dir/x.log) failed: "
			 "No such file or directory");
	/* the old target stays in use */
	i_info("still captured");
	ck_assert_str_eq(test_log_captured(), "Info: still captured\n");
}
END_TEST

START_TEST(test_log_syslog_bad_facility)
{
	const char *error = NULL;

	ck_assert_int_eq(log_open_syslog("roost", "nosuchfacility", &error),
			 -1);
	ck_assert_str_eq(error, "Invalid syslog_facility");
}
END_TEST

START_TEST(test_log_newline_in_message)
{
	/* no escaping: the message is passed through as it is */
	i_error("two\nlines");
	ck_assert_str_eq(test_log_captured(), "Error: two\nlines\n");
	ck_assert_uint_eq(test_log_captured_count(), 1);
}
END_TEST

Suite *make_log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_log_levels);
	tcase_add_test(tc, test_log_types);
	tcase_add_test(tc, test_log_no_prefix);
	tcase_add_test(tc, test_log_prefix_copied);
	tcase_add_test(tc, test_log_type_prefix);
	tcase_add_test(tc, test_log_percent_in_args);
	tcase_add_test(tc, test_log_keeps_errno);
	tcase_add_test(tc, test_log_recursion);
	tcase_add_exit_test(tc, test_log_fatal_exit, 89);
	tcase_add_exit_test(tc, test_log_fatal_status, 75);
	tcase_add_test_raise_signal(tc, test_log_panic_abort, SIGABRT);
	tcase_add_test_raise_signal(tc, test_log_assert_abort, SIGABRT);
	tcase_add_test(tc, test_log_open_file);
	tcase_add_test(tc, test_log_open_file_no_timestamp);
	tcase_add_test(tc, test_log_open_paths_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_log_long_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_log_open_file_fails);
	tcase_add_test(tc, test_log_syslog_bad_facility);
	tcase_add_test(tc, test_log_newline_in_message);
	suite_add_tcase(s, tc);
	return s;
}

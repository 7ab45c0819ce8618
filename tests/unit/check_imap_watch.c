/* check_imap_watch.c - unit tests of daemon/imap/imap-watch.c, the one
 * inotify instance a mail worker shares among its sessions (IDLE and
 * NOTIFY): two subscribers of one directory are each called once per
 * batch of events, a callback may remove the other subscriber (ASan
 * catches a use after free) or itself, a missing path gives NULL, and
 * the instance is closed when the last watch goes and reopened later. */
#include "suites.h"
#include "ioloop.h"
#include "imap-watch.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUARD_MSECS 5000

static struct ioloop *loop;
static struct imap_watch *watch_a, *watch_b;
static unsigned int calls_a, calls_b;
static bool remove_other, remove_self;

static void setup(void)
{
	loop = io_loop_create();
	calls_a = calls_b = 0;
	remove_other = remove_self = false;
}

static void teardown(void)
{
	imap_watch_remove(&watch_a);
	imap_watch_remove(&watch_b);
	io_loop_destroy(&loop);
	test_tmpdir_remove();
}

static void stop_cb(void *context ATTR_UNUSED)
{
	io_loop_stop(loop);
}

/* Run the loop for msecs. */
static void run_for(unsigned int msecs)
{
	struct timeout *to = timeout_add(loop, msecs, stop_cb, NULL);

	io_loop_run(loop);
	timeout_remove(&to);
}

static void cb_a(void *context ATTR_UNUSED)
{
	calls_a++;
	if (remove_other)
		imap_watch_remove(&watch_b);
	if (remove_self)
		imap_watch_remove(&watch_a);
}

static void cb_b(void *context ATTR_UNUSED)
{
	calls_b++;
	if (remove_other)
		imap_watch_remove(&watch_a);
}

static void touch(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
}

START_TEST(test_two_subscribers_one_call_per_batch)
{
	const char *dir = test_tmpdir_create();

	watch_a = imap_watch_add(loop, dir, cb_a, NULL);
	watch_b = imap_watch_add(loop, dir, cb_b, NULL);
	ck_assert_ptr_nonnull(watch_a);
	ck_assert_ptr_nonnull(watch_b);
	/* several events before the loop reads them: one call each */
	touch(dir, "one");
	touch(dir, "two");
	run_for(200);
	ck_assert_uint_eq(calls_a, 1);
	ck_assert_uint_eq(calls_b, 1);
	/* nothing more happens: no more calls */
	run_for(100);
	ck_assert_uint_eq(calls_a, 1);
	imap_watch_remove(&watch_b);
	touch(dir, "three");
	run_for(200);
	ck_assert_uint_eq(calls_a, 2);
	ck_assert_uint_eq(calls_b, 1);
}
END_TEST

START_TEST(test_remove_inside_callback)
{
	const char *dir = test_tmpdir_create();

	watch_a = imap_watch_add(loop, dir, cb_a, NULL);
	watch_b = imap_watch_add(loop, dir, cb_b, NULL);
	remove_other = true;
	touch(dir, "one");
	run_for(200);
	/* whichever ran first removed the other, which wasn't called */
	ck_assert_uint_eq(calls_a + calls_b, 1);
	ck_assert(watch_a == NULL || watch_b == NULL);
	remove_other = false;
	remove_self = true;
	imap_watch_remove(&watch_b);
	if (watch_a == NULL)
		watch_a = imap_watch_add(loop, dir, cb_a, NULL);
	calls_a = 0;
	touch(dir, "two");
	run_for(200);
	ck_assert_uint_eq(calls_a, 1);
	ck_assert_ptr_null(watch_a);
	/* the instance was closed with its last watch: a new one works */
	remove_self = false;
	watch_a = imap_watch_add(loop, dir, cb_a, NULL);
	ck_assert_ptr_nonnull(watch_a);
	touch(dir, "three");
	run_for(200);
	ck_assert_uint_eq(calls_a, 2);
}
END_TEST

START_TEST(test_missing_path)
{
	const char *dir = test_tmpdir_create();
	char path[512];

	snprintf(path, sizeof(path), "%s/nonexistent", dir);
	ck_assert_ptr_null(imap_watch_add(loop, path, cb_a, NULL));
	/* a removed directory's watch is still removable */
	snprintf(path, sizeof(path), "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	watch_a = imap_watch_add(loop, path, cb_a, NULL);
	ck_assert_ptr_nonnull(watch_a);
	ck_assert_int_eq(rmdir(path), 0);
	run_for(200);
	imap_watch_remove(&watch_a);
	ck_assert_ptr_null(watch_a);
}
END_TEST

Suite *make_imap_watch_suite(void)
{
	Suite *s = suite_create("imap_watch");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_two_subscribers_one_call_per_batch);
	tcase_add_test(tc, test_remove_inside_callback);
	tcase_add_test(tc, test_missing_path);
	suite_add_tcase(s, tc);
	return s;
}

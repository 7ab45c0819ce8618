/* check_file_lock.c - unit tests of lib/file-lock.c (fcntl/flock/lockf
 * locks with timeouts, against a child process holding the lock) and of
 * lib/file-dotlock.c (O_EXCL and link() dotlocks, stale lock takeover,
 * lost-lock warnings, the replace mode). */
#include "suites.h"
#include "file-lock.h"
#include "file-dotlock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static char *file_path;

static void setup(void)
{
	dir = test_tmpdir_create();
	file_path = test_write_file(dir, "mbox", "hello\n", 6);
}

static void teardown(void)
{
	log_set_capture(NULL, NULL);
	free(file_path);
	test_tmpdir_remove();
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fork a child that takes a lock on file_path, tells us over a pipe, and
 * holds it for hold_msecs (or until killed). */
static pid_t child_lock(int lock_type, enum file_lock_method method,
			unsigned int hold_msecs)
{
	int fds[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct file_lock *lock;
		const char *error;
		int fd = open(file_path, O_RDWR);

		close(fds[0]);
		if (fd < 0 || file_wait_lock(fd, file_path, lock_type, method,
					     5, &lock, &error) != 1)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		usleep(hold_msecs * 1000);
		file_unlock(&lock);
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void child_reap(pid_t pid)
{
	int status;

	/* SIGKILL: Check's SIGTERM handler (inherited) would kill our group */
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

START_TEST(test_lock_method_parse)
{
	enum file_lock_method m;

	ck_assert(file_lock_method_parse("fcntl", &m));
	ck_assert_int_eq(m, FILE_LOCK_METHOD_FCNTL);
	ck_assert(file_lock_method_parse("flock", &m));
	ck_assert_int_eq(m, FILE_LOCK_METHOD_FLOCK);
	ck_assert(file_lock_method_parse("lockf", &m));
	ck_assert_int_eq(m, FILE_LOCK_METHOD_LOCKF);
	ck_assert(!file_lock_method_parse("dotlock", &m));
	ck_assert(!file_lock_method_parse("", &m));
	ck_assert(!file_lock_method_parse("FCNTL", &m));
	ck_assert_str_eq(file_lock_method_to_str(FILE_LOCK_METHOD_FLOCK),
			 "flock");
}
END_TEST

static const enum file_lock_method all_methods[] = {
	FILE_LOCK_METHOD_FCNTL, FILE_LOCK_METHOD_FLOCK, FILE_LOCK_METHOD_LOCKF
};

START_TEST(test_lock_conflict_child)
{
	enum file_lock_method method = all_methods[_i];
	struct file_lock *lock;
	const char *error;
	int fd = open(file_path, O_RDWR);
	pid_t pid;
	double start;

	ck_assert_int_ge(fd, 0);
	pid = child_lock(F_WRLCK, method, 60000);
	/* try once: busy */
	ck_assert_int_eq(file_try_lock(fd, file_path, F_WRLCK, method, &lock,
				       &error), 0);
	ck_assert_ptr_null(lock);
	ck_assert_ptr_nonnull(error);
	if (method == FILE_LOCK_METHOD_FCNTL) {
		ck_assert_msg(strstr(error, "WRITE lock held by pid") != NULL,
			      "%s", error);
	}
	/* wait 1 second: timeout */
	start = now_secs();
	ck_assert_int_eq(file_wait_lock(fd, file_path, F_WRLCK, method, 1,
					&lock, &error), 0);
	ck_assert(now_secs() - start >= 0.9);
	ck_assert_msg(strstr(error, "Timed out after 1 seconds") != NULL,
		      "%s", error);
	ck_assert_int_eq(errno, EAGAIN);
	child_reap(pid);
	/* the child is gone: its lock too */
	ck_assert_int_eq(file_try_lock(fd, file_path, F_WRLCK, method, &lock,
				       &error), 1);
	ck_assert_int_eq(file_lock_get_type(lock), F_WRLCK);
	ck_assert_int_eq(file_lock_get_fd(lock), fd);
	file_unlock(&lock);
	ck_assert_ptr_null(lock);
	close(fd);
}
END_TEST

START_TEST(test_lock_wait_release)
{
	enum file_lock_method method = all_methods[_i];
	struct file_lock *lock;
	const char *error;
	int fd = open(file_path, O_RDWR);
	pid_t pid;
	double start;

	pid = child_lock(F_WRLCK, method, 500);
	start = now_secs();
	ck_assert_int_eq(file_wait_lock(fd, file_path, F_WRLCK, method, 10,
					&lock, &error), 1);
	ck_assert(now_secs() - start >= 0.3);
	ck_assert(now_secs() - start < 5);
	file_unlock(&lock);
	child_reap(pid);
	close(fd);
}
END_TEST

START_TEST(test_lock_shared)
{
	/* two readers coexist (fcntl and flock), a writer waits */
	enum file_lock_method method = _i == 0 ? FILE_LOCK_METHOD_FCNTL :
		FILE_LOCK_METHOD_FLOCK;
	struct file_lock *lock;
	const char *error;
	int fd = open(file_path, O_RDWR);
	pid_t pid;

	pid = child_lock(F_RDLCK, method, 60000);
	ck_assert_int_eq(file_try_lock(fd, file_path, F_RDLCK, method, &lock,
				       &error), 1);
	file_unlock(&lock);
	ck_assert_int_eq(file_try_lock(fd, file_path, F_WRLCK, method, &lock,
				       &error), 0);
	if (method == FILE_LOCK_METHOD_FCNTL) {
		ck_assert_msg(strstr(error, "READ lock held by pid") != NULL,
			      "%s", error);
	}
	child_reap(pid);
	close(fd);
}
END_TEST

START_TEST(test_lock_change_type)
{
	struct file_lock *lock;
	const char *error;
	int fd = open(file_path, O_RDWR);
	pid_t pid;

	ck_assert_int_eq(file_try_lock(fd, file_path, F_RDLCK,
				       FILE_LOCK_METHOD_FCNTL, &lock, &error),
			 1);
	ck_assert_int_eq(file_lock_change_type(lock, F_WRLCK, 0, &error), 1);
	ck_assert_int_eq(file_lock_get_type(lock), F_WRLCK);
	ck_assert_int_eq(file_lock_change_type(lock, F_RDLCK, 0, &error), 1);
	/* another reader can now join, and blocks our upgrade */
	pid = child_lock(F_RDLCK, FILE_LOCK_METHOD_FCNTL, 60000);
	ck_assert_int_eq(file_lock_change_type(lock, F_WRLCK, 0, &error), 0);
	ck_assert_int_eq(file_lock_get_type(lock), F_RDLCK);
	child_reap(pid);
	file_unlock(&lock);
	close(fd);
}
END_TEST

START_TEST(test_lock_lockf_keeps_offset)
{
	struct file_lock *lock;
	const char *error;
	int fd = open(file_path, O_RDWR);

	ck_assert_int_eq(lseek(fd, 3, SEEK_SET), 3);
	ck_assert_int_eq(file_try_lock(fd, file_path, F_WRLCK,
				       FILE_LOCK_METHOD_LOCKF, &lock, &error),
			 1);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 3);
	file_unlock(&lock);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 3);
	close(fd);
}
END_TEST

START_TEST(test_lock_bad_fd)
{
	struct file_lock *lock;
	const char *error;

	ck_assert_int_eq(file_try_lock(-1, "nofile", F_WRLCK,
				       FILE_LOCK_METHOD_FCNTL, &lock, &error),
			 -1);
	ck_assert_msg(strstr(error, "fcntl(write-lock, F_SETLKW, nofile) "
			     "locking failed: ") != NULL, "%s", error);
}
END_TEST

/* ---- dotlocks ---- */

static struct dotlock_settings dset(unsigned int timeout,
				    unsigned int stale, bool excl)
{
	struct dotlock_settings set = {
		.timeout = timeout, .stale_timeout = stale,
		.use_excl = excl, .lock_suffix = NULL,
	};
	return set;
}

static char *lock_path_of(const char *path)
{
	return i_strdup_printf("%s.lock", path);
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Child that holds path's dotlock until killed (or hold_msecs), touching
 * it every touch_msecs if non-zero. */
static pid_t child_dotlock(bool excl, unsigned int hold_msecs,
			   unsigned int touch_msecs)
{
	int fds[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct dotlock_settings set = dset(5, 0, excl);
		struct dotlock *dl;
		unsigned int waited = 0;

		close(fds[0]);
		if (file_dotlock_create(&set, file_path, &dl) != 1)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		while (waited < hold_msecs) {
			unsigned int step = touch_msecs != 0 ?
				touch_msecs : hold_msecs;

			usleep(step * 1000);
			waited += step;
			if (touch_msecs != 0)
				(void)file_dotlock_touch(dl);
		}
		_exit(file_dotlock_delete(&dl) == 1 ? 0 : 2);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

START_TEST(test_dotlock_basic)
{
	bool excl = _i == 0;
	struct dotlock_settings set = dset(1, 0, excl);
	struct dotlock *dl, *dl2;
	char *lock_path = lock_path_of(file_path), *content;

	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 1);
	ck_assert(path_exists(lock_path));
	ck_assert_str_eq(file_dotlock_get_lock_path(dl), lock_path);
	ck_assert(file_dotlock_is_locked(dl));
	/* "<pid>:<host>" like Dovecot */
	content = test_read_file(lock_path, NULL);
	ck_assert_int_eq(strtol(content, NULL, 10), getpid());
	ck_assert_ptr_nonnull(strchr(content, ':'));
	free(content);
	/* we (or anyone) can't take it twice */
	set.timeout = 0;
	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl2), 0);
	ck_assert_ptr_null(dl2);
	ck_assert_int_eq(file_dotlock_touch(dl), 0);
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
	ck_assert_ptr_null(dl);
	ck_assert(!path_exists(lock_path));
	/* no temp files left behind in link() mode */
	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 1);
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
	i_free(lock_path);
}
END_TEST

START_TEST(test_dotlock_no_temp_leftovers)
{
	struct dotlock_settings set = dset(0, 0, false);
	struct dotlock *dl;
	pid_t pid = child_dotlock(false, 60000, 0);
	char *cmd;

	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 0);
	child_reap(pid);
	/* only mbox and mbox.lock (the killed child's) remain */
	cmd = i_strdup_printf("test $(ls -A %s | wc -l) = 2", dir);
	ck_assert_int_eq(system(cmd), 0);
	i_free(cmd);
}
END_TEST

START_TEST(test_dotlock_child_timeout)
{
	bool excl = _i == 0;
	struct dotlock_settings set = dset(1, 60, excl);
	struct dotlock *dl;
	pid_t pid = child_dotlock(excl, 60000, 0);
	double start = now_secs();

	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 0);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert(now_secs() - start >= 0.9);
	ck_assert(now_secs() - start < 4);
	child_reap(pid);
}
END_TEST

START_TEST(test_dotlock_child_release)
{
	bool excl = _i == 0;
	struct dotlock_settings set = dset(10, 60, excl);
	struct dotlock *dl;
	pid_t pid = child_dotlock(excl, 600, 0);
	int status;

	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
}
END_TEST

START_TEST(test_dotlock_stale_old_mtime)
{
	/* procmail/Postfix-style empty lock file left by a crash 10 minutes
	   ago: older than stale_timeout, so taken over */
	struct dotlock_settings set = dset(5, 120, true);
	struct dotlock *dl;
	char *lock_path = lock_path_of(file_path);
	struct timeval tv[2];
	double start = now_secs();

	free(test_write_file(dir, "mbox.lock", "", 0));
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= 600;
	tv[1] = tv[0];
	ck_assert_int_eq(utimes(lock_path, tv), 0);
	ck_assert_int_eq(utimes(file_path, tv), 0);
	test_log_capture_start();
	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 1);
	ck_assert(now_secs() - start < 2);
	ck_assert_msg(strstr(test_log_captured(), "stale") != NULL, "%s",
		      test_log_captured());
	test_log_capture_stop();
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
	i_free(lock_path);
}
END_TEST

START_TEST(test_dotlock_stale_unchanged)
{
	/* a fresh lock file that nobody touches: overridden once it has been
	   unchanged for stale_timeout seconds */
	struct dotlock_settings set = dset(10, 2, _i == 0);
	struct dotlock *dl;
	double start;

	free(test_write_file(dir, "mbox.lock", "", 0));
	start = now_secs();
	test_log_silence();
	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 1);
	ck_assert(now_secs() - start >= 1.0);
	ck_assert(now_secs() - start < 5);
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
}
END_TEST

START_TEST(test_dotlock_touched_not_stale)
{
	/* the holder touches its lock: no takeover, we time out */
	struct dotlock_settings set = dset(4, 2, true);
	struct dotlock *dl;
	pid_t pid = child_dotlock(true, 60000, 200);

	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 0);
	child_reap(pid);
}
END_TEST

START_TEST(test_dotlock_replace_holder_killed)
{
	/* a replace-mode holder (dovecot-uidlist.lock) SIGKILLed before it
	   wrote its content: its lock names it, so the next one takes the
	   lock over at once instead of after the 120 s stale timeout */
	struct dotlock_settings set = dset(30, 120, _i == 0);
	struct dotlock *dl;
	char *uidlist = test_write_file(dir, "dovecot-uidlist", "3 V1 N1\n",
					8);
	char *lock_path = i_strdup_printf("%s.lock", uidlist), *content;
	int pfd[2], status, fd;
	struct timespec t0, t1;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct dotlock *cdl;

		if (file_dotlock_open(&set, uidlist, &cdl) < 0)
			_exit(1);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	content = test_read_file(lock_path, NULL);
	ck_assert_msg(strtol(content, NULL, 10) == (long)pid, "%s", content);
	free(content);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	test_log_capture_start();
	fd = file_dotlock_open(&set, uidlist, &dl);
	ck_assert_int_ge(fd, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
	ck_assert_msg(strstr(test_log_captured(), "no longer exists") != NULL,
		      "%s", test_log_captured());
	test_log_capture_stop();
	/* content shorter than "<pid>:<host>": nothing of it is left */
	ck_assert_int_eq(write(fd, "3\n", 2), 2);
	ck_assert_int_eq(file_dotlock_replace(&dl), 1);
	content = test_read_file(uidlist, NULL);
	ck_assert_str_eq(content, "3\n");
	free(content);
	free(uidlist);
	i_free(lock_path);
}
END_TEST

START_TEST(test_dotlock_dead_pid)
{
	/* a lock whose "<pid>:<our host>" process is gone is overridden at
	   once; another host's isn't */
	struct dotlock_settings set = dset(1, 0, true);
	struct dotlock *dl;
	char host[256] = "", *text;
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	gethostname(host, sizeof(host) - 1);
	text = i_strdup_printf("%ld:%s", (long)pid, host);
	free(test_write_file(dir, "mbox.lock", text, strlen(text)));
	i_free(text);
	test_log_capture_start();
	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 1);
	ck_assert_msg(strstr(test_log_captured(), "no longer exists") != NULL,
		      "%s", test_log_captured());
	test_log_capture_stop();
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);

	text = i_strdup_printf("%ld:otherhost.invalid", (long)pid);
	free(test_write_file(dir, "mbox.lock", text, strlen(text)));
	i_free(text);
	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 0);
}
END_TEST

START_TEST(test_dotlock_deleted_by_other)
{
	struct dotlock_settings set = dset(1, 0, true);
	struct dotlock *dl;
	char *lock_path = lock_path_of(file_path);

	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 1);
	ck_assert_int_eq(unlink(lock_path), 0);
	ck_assert(!file_dotlock_is_locked(dl));
	test_log_capture_start();
	ck_assert_int_eq(file_dotlock_delete(&dl), 0);
	ck_assert_msg(strstr(test_log_captured(), "Warning: ") != NULL &&
		      strstr(test_log_captured(), "was deleted") != NULL,
		      "%s", test_log_captured());
	test_log_capture_stop();

	/* overridden: someone else's lock is left alone */
	ck_assert_int_eq(file_dotlock_create(&set, file_path, &dl), 1);
	ck_assert_int_eq(unlink(lock_path), 0);
	free(test_write_file(dir, "mbox.lock", "other", 5));
	test_log_capture_start();
	ck_assert_int_eq(file_dotlock_touch(dl), -1);
	ck_assert_int_eq(file_dotlock_delete(&dl), 0);
	ck_assert_msg(strstr(test_log_captured(), "was overridden") != NULL,
		      "%s", test_log_captured());
	test_log_capture_stop();
	ck_assert(path_exists(lock_path));
	i_free(lock_path);
}
END_TEST

START_TEST(test_dotlock_suffix)
{
	struct dotlock_settings set = dset(0, 0, _i == 0);
	struct dotlock *dl;
	char *uidlist = test_write_file(dir, "dovecot-uidlist", "3 V1 N1\n",
					8);
	char *lock_path = i_strdup_printf("%s/dovecot-uidlist.lock", dir);

	/* Maildir: lock_suffix ".lock" on dovecot-uidlist */
	set.lock_suffix = ".lock";
	ck_assert_int_eq(file_dotlock_create(&set, uidlist, &dl), 1);
	ck_assert(path_exists(lock_path));
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
	set.lock_suffix = ".LCK";
	ck_assert_int_eq(file_dotlock_create(&set, uidlist, &dl), 1);
	ck_assert(!path_exists(lock_path));
	ck_assert(str_ends(file_dotlock_get_lock_path(dl),
			   "/dovecot-uidlist.LCK"));
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
	free(uidlist);
	i_free(lock_path);
}
END_TEST

START_TEST(test_dotlock_replace)
{
	struct dotlock_settings set = dset(1, 0, _i == 0);
	struct dotlock *dl;
	char *uidlist = test_write_file(dir, "dovecot-uidlist", "old\n", 4);
	char *lock_path = i_strdup_printf("%s.lock", uidlist), *content;
	struct stat st;
	int fd;

	ck_assert_int_eq(chmod(uidlist, 0640), 0);
	fd = file_dotlock_open(&set, uidlist, &dl);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(file_dotlock_get_fd(dl), fd);
	ck_assert_int_eq(write(fd, "new content\n", 12), 12);
	/* the old file is untouched until the replace */
	content = test_read_file(uidlist, NULL);
	ck_assert_str_eq(content, "old\n");
	free(content);
	/* others see it locked */
	{
		struct dotlock *dl2;

		set.timeout = 0;
		ck_assert_int_eq(file_dotlock_open(&set, uidlist, &dl2), -1);
		ck_assert_int_eq(errno, EAGAIN);
	}
	ck_assert_int_eq(file_dotlock_replace(&dl), 1);
	ck_assert_ptr_null(dl);
	content = test_read_file(uidlist, NULL);
	ck_assert_str_eq(content, "new content\n");
	free(content);
	ck_assert(!path_exists(lock_path));
	ck_assert_int_eq(stat(uidlist, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);

	/* overridden meanwhile: nothing replaced */
	set.timeout = 1;
	fd = file_dotlock_open(&set, uidlist, &dl);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "lost\n", 5), 5);
	ck_assert_int_eq(unlink(lock_path), 0);
	free(test_write_file(dir, "dovecot-uidlist.lock", "theirs", 6));
	test_log_silence();
	ck_assert_int_eq(file_dotlock_replace(&dl), -1);
	content = test_read_file(uidlist, NULL);
	ck_assert_str_eq(content, "new content\n");
	free(content);
	content = test_read_file(lock_path, NULL);
	ck_assert_str_eq(content, "theirs");
	free(content);

	/* delete instead of replace leaves the file as it was */
	ck_assert_int_eq(unlink(lock_path), 0);
	fd = file_dotlock_open(&set, uidlist, &dl);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "junk", 4), 4);
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
	content = test_read_file(uidlist, NULL);
	ck_assert_str_eq(content, "new content\n");
	free(content);
	free(uidlist);
	i_free(lock_path);
}
END_TEST

START_TEST(test_dotlock_missing_dir)
{
	struct dotlock_settings set = dset(0, 0, _i == 0);
	struct dotlock *dl;
	const char *error;
	char *path = i_strdup_printf("%s/nodir/mbox", dir);

	ck_assert_int_eq(file_dotlock_create_full(&set, path, 0, 0, &dl,
						  &error), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(error, "nodir"));
	test_log_silence();
	ck_assert_int_eq(file_dotlock_create(&set, path, &dl), -1);
	i_free(path);
}
END_TEST

START_TEST(test_dotlock_contention)
{
	/* several processes increment a counter file under the dotlock:
	   no increment is lost */
	enum { PROCS = 4, ROUNDS = 25 };
	bool excl = _i == 0;
	char *counter = test_write_file(dir, "counter", "0", 1), *content;
	pid_t pids[PROCS];
	int status;

	for (unsigned int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] != 0)
			continue;
		for (unsigned int r = 0; r < ROUNDS; r++) {
			struct dotlock_settings set = dset(30, 0, excl);
			struct dotlock *dl;
			char buf[32];
			int fd, n;
			long val;

			fd = file_dotlock_open(&set, counter, &dl);
			if (fd < 0)
				_exit(1);
			content = test_read_file(counter, NULL);
			val = strtol(content + (content[0] == 'n'), NULL, 10);
			free(content);
			/* not digits alone: see file_dotlock_open() */
			n = snprintf(buf, sizeof(buf), "n%ld", val + 1);
			if (write(fd, buf, (size_t)n) != n)
				_exit(1);
			if (file_dotlock_replace_nofsync(&dl) != 1)
				_exit(1);
		}
		_exit(0);
	}
	for (unsigned int p = 0; p < PROCS; p++) {
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	content = test_read_file(counter, NULL);
	ck_assert_int_eq(strtol(content + (content[0] == 'n'), NULL, 10),
			 PROCS * ROUNDS);
	free(content);
	free(counter);
}
END_TEST

Suite *make_file_lock_suite(void)
{
	Suite *s = suite_create("file_lock");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_lock_method_parse);
	tcase_add_loop_test(tc, test_lock_conflict_child, 0, 3);
	tcase_add_loop_test(tc, test_lock_wait_release, 0, 3);
	tcase_add_loop_test(tc, test_lock_shared, 0, 2);
	tcase_add_test(tc, test_lock_change_type);
	tcase_add_test(tc, test_lock_lockf_keeps_offset);
	tcase_add_loop_test(tc, test_dotlock_basic, 0, 2);
	tcase_add_test(tc, test_dotlock_no_temp_leftovers);
	tcase_add_loop_test(tc, test_dotlock_child_timeout, 0, 2);
	tcase_add_loop_test(tc, test_dotlock_child_release, 0, 2);
	tcase_add_loop_test(tc, test_dotlock_suffix, 0, 2);
	tcase_add_loop_test(tc, test_dotlock_replace, 0, 2);
	tcase_add_loop_test(tc, test_dotlock_contention, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("Stale");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dotlock_stale_old_mtime);
	tcase_add_loop_test(tc, test_dotlock_stale_unchanged, 0, 2);
	tcase_add_test(tc, test_dotlock_touched_not_stale);
	tcase_add_test(tc, test_dotlock_dead_pid);
	tcase_add_loop_test(tc, test_dotlock_replace_holder_killed, 0, 2);
	tcase_add_test(tc, test_dotlock_deleted_by_other);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lock_bad_fd);
	tcase_add_loop_test(tc, test_dotlock_missing_dir, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

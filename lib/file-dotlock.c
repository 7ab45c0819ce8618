/* file-dotlock.c - dot-locks shared with MTAs and Dovecot. Holding the
 * lock means having created "<path><suffix>". A waiter watches the lock
 * file (inode, size, mtime, ctime) and the locked file (size, mtime);
 * once neither has changed for stale_timeout seconds the lock is taken
 * over. A lock file holding "<pid>:<our hostname>" whose process is gone
 * is taken over at once (with a warning). Our own locks contain
 * "<pid>:<hostname>" too, also in the replace mode until the new content
 * is written over it (Dovecot leaves those empty: a Dovecot process killed
 * holding dovecot-uidlist.lock still costs the stale timeout). */
#include "file-dotlock.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DOTLOCK_DEFAULT_SUFFIX ".lock"

struct dotlock {
	char *path, *lock_path;
	int fd;			/* open mode only, else -1 */
	dev_t dev;
	ino_t ino;
	/* ctime tells our file from a new one that reused the inode */
	struct timespec ctime;
	time_t lock_time;
};

/* What a waiter knows about someone else's lock. */
struct lock_info {
	const struct dotlock_settings *set;
	const char *path, *lock_path;
	mode_t mode;
	bool open_mode;
	char *temp_path;	/* link() mode: our temporary file */
	int fd;			/* our new lock file once created */

	bool seen;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	bool file_seen;
	off_t file_size;
	struct timespec file_mtime;
	double last_change;	/* wall clock, sub-second */
	pid_t pid;		/* from "<pid>:<our host>" or 0 */
};

static _Thread_local char dotlock_errbuf[512];
static unsigned int temp_counter;

static const char *my_hostname(void)
{
	static char host[256];

	if (host[0] == '\0') {
		if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
			strcpy(host, "localhost");
		/* keep it usable in a file name and in "pid:host" */
		for (char *p = host; *p != '\0'; p++) {
			if (*p == '/' || *p == ':')
				*p = '_';
		}
	}
	return host;
}

static time_t now_time(void)
{
	return time(NULL);
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double ts_secs(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static int set_error(const char **error_r, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
static int set_error(const char **error_r, const char *fmt, ...)
{
	int err = errno;
	va_list args;

	va_start(args, fmt);
	vsnprintf(dotlock_errbuf, sizeof(dotlock_errbuf), fmt, args);
	va_end(args);
	*error_r = dotlock_errbuf;
	errno = err;
	return -1;
}

static bool timespec_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Read "<pid>:<host>" from the lock file; pid if host is ours, else 0. */
static pid_t lock_file_read_pid(const char *lock_path)
{
	char buf[300], *host;
	FILE *f = fopen(lock_path, "r");
	size_t n;
	long pid;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n == 0 || buf[0] < '0' || buf[0] > '9')
		return 0;
	pid = strtol(buf, &host, 10);
	if (*host != ':' || pid <= 0 || pid > 0x7fffffffL)
		return 0;
	host++;
	host[strcspn(host, "\r\n")] = '\0';
	return strcmp(host, my_hostname()) == 0 ? (pid_t)pid : 0;
}

/* Look at the existing lock. Returns 1 if the caller should retry at once
 * (lock gone or overridden as stale), 0 to wait, -1 on error. */
static int check_lock(struct lock_info *info, const char **error_r)
{
	struct stat st;
	double now = now_real();

	if (lstat(info->lock_path, &st) < 0) {
		if (errno == ENOENT)
			return 1;
		return set_error(error_r, "lstat(%s) failed: %s",
				 info->lock_path, strerror(errno));
	}
	if (!info->seen || info->dev != st.st_dev || info->ino != st.st_ino) {
		/* a lock we haven't seen: its age counts from its mtime */
		info->seen = true;
		info->dev = st.st_dev;
		info->ino = st.st_ino;
		info->size = st.st_size;
		info->mtime = st.st_mtim;
		info->ctime = st.st_ctim;
		info->last_change = MIN(now, ts_secs(&st.st_mtim));
		info->pid = lock_file_read_pid(info->lock_path);
	} else if (info->size != st.st_size ||
		   !timespec_eq(&info->mtime, &st.st_mtim) ||
		   !timespec_eq(&info->ctime, &st.st_ctim)) {
		info->size = st.st_size;
		info->mtime = st.st_mtim;
		info->ctime = st.st_ctim;
		info->last_change = now;
		if (info->pid == 0)
			info->pid = lock_file_read_pid(info->lock_path);
	}

	/* the locked file changing means its lock holder is alive */
	if (stat(info->path, &st) == 0) {
		if (!info->file_seen) {
			info->file_seen = true;
			info->file_size = st.st_size;
			info->file_mtime = st.st_mtim;
			if (ts_secs(&st.st_mtim) > info->last_change)
				info->last_change = MIN(now, ts_secs(&st.st_mtim));
		} else if (info->file_size != st.st_size ||
			   !timespec_eq(&info->file_mtime, &st.st_mtim)) {
			info->file_size = st.st_size;
			info->file_mtime = st.st_mtim;
			info->last_change = now;
		}
	}

	bool dead_owner = info->pid > 0 && info->pid != getpid() &&
		kill(info->pid, 0) < 0 && errno == ESRCH;
	bool stale = info->set->stale_timeout > 0 &&
		now - info->last_change >= (double)info->set->stale_timeout;
	if (!dead_owner && !stale)
		return 0;

	/* override it, unless it was replaced meanwhile (another waiter
	   may have overridden it first and now holds a fresh lock) */
	if (lstat(info->lock_path, &st) < 0 || st.st_dev != info->dev ||
	    st.st_ino != info->ino) {
		info->seen = false;
		return 1;
	}
	if (unlink(info->lock_path) < 0 && errno != ENOENT) {
		return set_error(error_r, "unlink(%s) failed: %s",
				 info->lock_path, strerror(errno));
	}
	if (dead_owner) {
		i_warning("dotlock %s: overriding the lock of a process that "
			  "no longer exists (pid %ld)", info->lock_path,
			  (long)info->pid);
	} else {
		i_warning("dotlock %s: overriding a stale lock (not changed "
			  "for %ld seconds)", info->lock_path,
			  (long)(now - info->last_change + 0.5));
	}
	info->seen = false;
	info->file_seen = false;
	return 1;
}

static int create_temp_file(struct lock_info *info, const char **error_r)
{
	const char *slash = strrchr(info->lock_path, '/');
	string_t *str = str_new(256);
	int fd;

	for (unsigned int tries = 0;; tries++) {
		str_clear(str);
		if (slash != NULL)
			str_append_n(str, info->lock_path,
				     (size_t)(slash - info->lock_path) + 1);
		str_printfa(str, ".temp.%s.%ld.%u", my_hostname(),
			    (long)getpid(), ++temp_counter);
		fd = open(str_c(str), O_RDWR | O_CREAT | O_EXCL, info->mode);
		if (fd >= 0 || errno != EEXIST || tries > 100)
			break;
	}
	if (fd < 0) {
		set_error(error_r, "open(%s) failed: %s", str_c(str),
			  strerror(errno));
		str_free(&str);
		return -1;
	}
	info->temp_path = str_free_without_data(&str);
	info->fd = fd;
	return 0;
}

/* One attempt to create the lock file: 1 created, 0 exists, -1 error. */
static int try_create_lock(struct lock_info *info, const char **error_r)
{
	if (info->set->use_excl) {
		int fd = open(info->lock_path, O_RDWR | O_CREAT | O_EXCL,
			      info->mode);

		if (fd < 0) {
			if (errno == EEXIST)
				return 0;
			return set_error(error_r, "open(%s) failed: %s",
					 info->lock_path, strerror(errno));
		}
		info->fd = fd;
		return 1;
	}

	if (info->temp_path == NULL && create_temp_file(info, error_r) < 0)
		return -1;
	if (link(info->temp_path, info->lock_path) < 0) {
		struct stat st;
		int err = errno;

		if (err == EEXIST)
			return 0;
		/* NFS may report failure of a link() that succeeded */
		if (fstat(info->fd, &st) < 0 || st.st_nlink != 2) {
			errno = err;
			return set_error(error_r, "link(%s, %s) failed: %s",
					 info->temp_path, info->lock_path,
					 strerror(err));
		}
	}
	if (unlink(info->temp_path) < 0 && errno != ENOENT)
		i_error("unlink(%s) failed: %m", info->temp_path);
	i_free(info->temp_path);
	return 1;
}

static void sleep_msecs(unsigned int msecs)
{
	struct timespec ts = { msecs / 1000, (long)(msecs % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
}

/* Our freshly created lock file: fill in the owner and remember it. In
 * the replace mode too: the new content is written over it from offset 0
 * (and the rest cut at replace), so a holder killed before writing its
 * content leaves a lock that names a dead process, taken over at once
 * instead of after stale_timeout. */
static int lock_created(struct lock_info *info, struct dotlock *dotlock,
			const char **error_r)
{
	struct stat st;
	char buf[300];
	int len = snprintf(buf, sizeof(buf), "%ld:%s",
			   (long)getpid(), my_hostname());

	if (write(info->fd, buf, (size_t)len) != len) {
		set_error(error_r, "write(%s) failed: %s",
			  info->lock_path, errno == 0 ? "short write"
			  : strerror(errno));
		goto fail;
	}
	if (info->open_mode && lseek(info->fd, 0, SEEK_SET) < 0) {
		set_error(error_r, "lseek(%s) failed: %s", info->lock_path,
			  strerror(errno));
		goto fail;
	}
	if (fstat(info->fd, &st) < 0) {
		set_error(error_r, "fstat(%s) failed: %s", info->lock_path,
			  strerror(errno));
		goto fail;
	}
	dotlock->dev = st.st_dev;
	dotlock->ino = st.st_ino;
	dotlock->ctime = st.st_ctim;
	dotlock->lock_time = now_time();
	if (info->open_mode) {
		dotlock->fd = info->fd;
	} else {
		dotlock->fd = -1;
		if (close(info->fd) < 0) {
			set_error(error_r, "close(%s) failed: %s",
				  info->lock_path, strerror(errno));
			info->fd = -1;
			(void)unlink(info->lock_path);
			return -1;
		}
	}
	info->fd = -1;
	return 0;
fail:
	(void)close(info->fd);
	info->fd = -1;
	(void)unlink(info->lock_path);
	return -1;
}

int file_dotlock_create_full(const struct dotlock_settings *set,
			     const char *path, enum dotlock_create_flags flags,
			     mode_t mode, struct dotlock **dotlock_r,
			     const char **error_r)
{
	const char *suffix = set->lock_suffix != NULL ? set->lock_suffix :
		DOTLOCK_DEFAULT_SUFFIX;
	char *lock_path = i_strdup_printf("%s%s", path, suffix);
	struct lock_info info;
	struct timespec start, now;
	double waited;
	unsigned int delay = 10;
	bool nonblock = (flags & DOTLOCK_CREATE_FLAG_NONBLOCK) != 0 ||
		set->timeout == 0;
	int ret;

	*dotlock_r = NULL;
	*error_r = NULL;
	memset(&info, 0, sizeof(info));
	info.set = set;
	info.path = path;
	info.lock_path = lock_path;
	info.fd = -1;
	info.open_mode = (flags & DOTLOCK_CREATE_FLAG_OPEN) != 0;
	info.mode = mode;
	if (info.mode == 0) {
		struct stat st;

		info.mode = 0600;
		if (info.open_mode && stat(path, &st) == 0)
			info.mode = st.st_mode & 07777;
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		ret = try_create_lock(&info, error_r);
		if (ret != 0)
			break;
		ret = check_lock(&info, error_r);
		if (ret < 0)
			break;
		if (ret > 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (double)(now.tv_sec - start.tv_sec) +
			(double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (nonblock || waited >= (double)set->timeout) {
			errno = EAGAIN;
			set_error(error_r, "dotlock %s: timed out after %u "
				  "seconds", lock_path, nonblock ? 0 :
				  set->timeout);
			break;
		}
		sleep_msecs(delay);
		if (delay < 50)
			delay += 10;
	}
	if (info.temp_path != NULL) {
		int err = errno;

		(void)close(info.fd);
		info.fd = -1;
		(void)unlink(info.temp_path);
		i_free(info.temp_path);
		errno = err;
	}
	if (ret > 0) {
		struct dotlock *dotlock = i_new(struct dotlock, 1);

		dotlock->path = i_strdup(path);
		dotlock->lock_path = lock_path;
		if (lock_created(&info, dotlock, error_r) < 0) {
			i_free(dotlock->path);
			i_free(dotlock);
			i_free(lock_path);
			return -1;
		}
		*dotlock_r = dotlock;
		return 1;
	}
	i_free(lock_path);
	return ret;
}

int file_dotlock_create(const struct dotlock_settings *set, const char *path,
			struct dotlock **dotlock_r)
{
	const char *error;
	int ret;

	ret = file_dotlock_create_full(set, path, 0, 0, dotlock_r, &error);
	if (ret < 0) {
		int err = errno;

		i_error("file_dotlock_create(%s) failed: %s", path, error);
		errno = err;
	}
	return ret;
}

int file_dotlock_open(const struct dotlock_settings *set, const char *path,
		      struct dotlock **dotlock_r)
{
	const char *error;
	int ret;

	ret = file_dotlock_create_full(set, path, DOTLOCK_CREATE_FLAG_OPEN, 0,
				       dotlock_r, &error);
	if (ret < 0) {
		int err = errno;

		i_error("file_dotlock_open(%s) failed: %s", path, error);
		errno = err;
		return -1;
	}
	if (ret == 0) {
		errno = EAGAIN;
		return -1;
	}
	return (*dotlock_r)->fd;
}

int file_dotlock_get_fd(const struct dotlock *dotlock)
{
	return dotlock->fd;
}

const char *file_dotlock_get_lock_path(const struct dotlock *dotlock)
{
	return dotlock->lock_path;
}

/* 1 if the lock file is still ours, 0 if gone/replaced, -1 on error. */
static int dotlock_check_ours(struct dotlock *dotlock, const char **what_r)
{
	struct stat st;

	if (lstat(dotlock->lock_path, &st) < 0) {
		if (errno == ENOENT) {
			*what_r = "deleted";
			return 0;
		}
		i_error("lstat(%s) failed: %m", dotlock->lock_path);
		return -1;
	}
	if (dotlock->fd >= 0) {
		/* we write into it: compare with our open file */
		struct stat st2;

		if (fstat(dotlock->fd, &st2) == 0)
			dotlock->ctime = st2.st_ctim;
	}
	if (st.st_dev != dotlock->dev || st.st_ino != dotlock->ino ||
	    !timespec_eq(&st.st_ctim, &dotlock->ctime)) {
		*what_r = "overridden";
		return 0;
	}
	return 1;
}

bool file_dotlock_is_locked(struct dotlock *dotlock)
{
	const char *what;

	return dotlock_check_ours(dotlock, &what) != 0;
}

static void dotlock_free(struct dotlock *dotlock)
{
	if (dotlock->fd >= 0)
		(void)close(dotlock->fd);
	i_free(dotlock->path);
	i_free(dotlock->lock_path);
	i_free(dotlock);
}

static void dotlock_warn_lost(struct dotlock *dotlock, const char *what)
{
	i_warning("Our dotlock file %s was %s (kept it %ld secs)",
		  dotlock->lock_path, what,
		  (long)(now_time() - dotlock->lock_time));
}

int file_dotlock_delete(struct dotlock **_dotlock)
{
	struct dotlock *dotlock = *_dotlock;
	const char *what;
	int ret;

	if (dotlock == NULL)
		return 1;
	*_dotlock = NULL;
	ret = dotlock_check_ours(dotlock, &what);
	if (ret > 0) {
		if (unlink(dotlock->lock_path) == 0) {
			ret = 1;
		} else if (errno == ENOENT) {
			what = "deleted";
			ret = 0;
		} else {
			i_error("unlink(%s) failed: %m", dotlock->lock_path);
			ret = -1;
		}
	}
	if (ret == 0)
		dotlock_warn_lost(dotlock, what);
	dotlock_free(dotlock);
	return ret;
}

int file_dotlock_touch(struct dotlock *dotlock)
{
	struct stat st;
	const char *what;
	int ret = dotlock_check_ours(dotlock, &what);

	if (ret <= 0) {
		if (ret == 0)
			dotlock_warn_lost(dotlock, what);
		return -1;
	}
	if (utimes(dotlock->lock_path, NULL) < 0) {
		i_error("utimes(%s) failed: %m", dotlock->lock_path);
		return -1;
	}
	if (lstat(dotlock->lock_path, &st) == 0 && st.st_ino == dotlock->ino)
		dotlock->ctime = st.st_ctim;
	return 0;
}

static int dotlock_replace(struct dotlock **_dotlock, bool do_fsync)
{
	struct dotlock *dotlock = *_dotlock;
	const char *what;
	int ret;

	*_dotlock = NULL;
	if (dotlock->fd >= 0) {
		/* what is left of "<pid>:<host>" after a shorter content */
		off_t end = lseek(dotlock->fd, 0, SEEK_CUR);

		if (end < 0 || ftruncate(dotlock->fd, end) < 0) {
			i_error("ftruncate(%s) failed: %m", dotlock->lock_path);
			ret = -1;
			goto unlink_ours;
		}
	}
	if (dotlock->fd >= 0 && do_fsync && fdatasync(dotlock->fd) < 0) {
		i_error("fdatasync(%s) failed: %m", dotlock->lock_path);
		ret = -1;
		goto unlink_ours;
	}
	/* check while the fd is still open: our inode can't be reused */
	ret = dotlock_check_ours(dotlock, &what);
	if (ret <= 0) {
		if (ret == 0) {
			i_error("dotlock %s was %s, not replacing %s",
				dotlock->lock_path, what, dotlock->path);
		}
		dotlock_free(dotlock);
		errno = EEXIST;
		return -1;
	}
	if (dotlock->fd >= 0) {
		int fd = dotlock->fd;

		dotlock->fd = -1;
		if (close(fd) < 0) {
			i_error("close(%s) failed: %m", dotlock->lock_path);
			ret = -1;
			goto unlink_ours;
		}
	}
	if (rename(dotlock->lock_path, dotlock->path) < 0) {
		i_error("rename(%s, %s) failed: %m", dotlock->lock_path,
			dotlock->path);
		ret = -1;
		goto unlink_ours;
	}
	dotlock_free(dotlock);
	return 1;

unlink_ours:
	if (dotlock_check_ours(dotlock, &what) > 0)
		(void)unlink(dotlock->lock_path);
	dotlock_free(dotlock);
	return ret;
}

int file_dotlock_replace(struct dotlock **dotlock)
{
	return dotlock_replace(dotlock, true);
}

int file_dotlock_replace_nofsync(struct dotlock **dotlock)
{
	return dotlock_replace(dotlock, false);
}

/* file-lock.c - fcntl/flock/lockf locks with a timeout. Waiting is done
 * by retrying the non-blocking call with short growing sleeps instead of
 * alarm() + a blocking call, so no signal handler is needed and an event
 * loop process has no pending SIGALRM to worry about. */
#include "file-lock.h"

#include <errno.h>
#include <stdio.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct file_lock {
	int fd;
	char *path;
	int lock_type;
	enum file_lock_method method;
};

/* Error texts live here until the next call (processes are single
 * threaded; thread-local keeps it safe anyway). */
static _Thread_local char lock_errbuf[512];

static const char *const method_names[] = {
	[FILE_LOCK_METHOD_FCNTL] = "fcntl",
	[FILE_LOCK_METHOD_FLOCK] = "flock",
	[FILE_LOCK_METHOD_LOCKF] = "lockf",
};

bool file_lock_method_parse(const char *name, enum file_lock_method *method_r)
{
	for (unsigned int i = 0; i < N_ELEMENTS(method_names); i++) {
		if (strcmp(name, method_names[i]) == 0) {
			*method_r = (enum file_lock_method)i;
			return true;
		}
	}
	return false;
}

const char *file_lock_method_to_str(enum file_lock_method method)
{
	return method < N_ELEMENTS(method_names) ? method_names[method] : "?";
}

static const char *lock_type_name(int lock_type)
{
	switch (lock_type) {
	case F_RDLCK: return "read-lock";
	case F_WRLCK: return "write-lock";
	default: return "unlock";
	}
}

/* Who holds a conflicting fcntl lock: " (WRITE lock held by pid 123)". */
static const char *lock_holder(int fd, int lock_type)
{
	static _Thread_local char buf[64];
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = (short)lock_type;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		return "";
	snprintf(buf, sizeof(buf), " (%s lock held by pid %ld)",
		 fl.l_type == F_RDLCK ? "READ" : "WRITE", (long)fl.l_pid);
	return buf;
}

/* One non-blocking attempt: 1 locked, 0 busy, -1 error (errno set). */
static int lock_try_once(int fd, int lock_type, enum file_lock_method method)
{
	int ret;

	switch (method) {
	case FILE_LOCK_METHOD_FCNTL: {
		struct flock fl;

		memset(&fl, 0, sizeof(fl));
		fl.l_type = (short)lock_type;
		fl.l_whence = SEEK_SET;
		ret = fcntl(fd, F_SETLK, &fl);
		if (ret < 0 && (errno == EAGAIN || errno == EACCES))
			return 0;
		break;
	}
	case FILE_LOCK_METHOD_FLOCK: {
		int op = lock_type == F_RDLCK ? LOCK_SH :
			lock_type == F_WRLCK ? LOCK_EX : LOCK_UN;

		ret = flock(fd, op | (lock_type == F_UNLCK ? 0 : LOCK_NB));
		if (ret < 0 && errno == EWOULDBLOCK)
			return 0;
		break;
	}
	case FILE_LOCK_METHOD_LOCKF: {
		/* lockf() covers offset..EOF: lock the whole file from 0,
		   then put the offset back for the caller */
		off_t old_offset = lseek(fd, 0, SEEK_CUR);
		int err;

		if (old_offset < 0 || lseek(fd, 0, SEEK_SET) < 0)
			return -1;
		ret = lockf(fd, lock_type == F_UNLCK ? F_ULOCK : F_TLOCK, 0);
		err = errno;
		(void)lseek(fd, old_offset, SEEK_SET);
		errno = err;
		if (ret < 0 && (errno == EAGAIN || errno == EACCES))
			return 0;
		break;
	}
	default:
		errno = EINVAL;
		return -1;
	}
	return ret < 0 ? -1 : 1;
}

static const char *lock_call_name(enum file_lock_method method,
				  int lock_type)
{
	static _Thread_local char buf[64];

	switch (method) {
	case FILE_LOCK_METHOD_FCNTL:
		snprintf(buf, sizeof(buf), "fcntl(%s, F_SETLKW",
			 lock_type_name(lock_type));
		break;
	case FILE_LOCK_METHOD_FLOCK:
		snprintf(buf, sizeof(buf), "flock(%s",
			 lock_type == F_RDLCK ? "LOCK_SH" : "LOCK_EX");
		break;
	default:
		snprintf(buf, sizeof(buf), "lockf(%s",
			 lock_type == F_UNLCK ? "F_ULOCK" : "F_LOCK");
		break;
	}
	return buf;
}

static void sleep_msecs(unsigned int msecs)
{
	struct timespec ts = { msecs / 1000, (long)(msecs % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Retry until locked or timeout: 1 / 0 / -1 with error text. */
static int lock_wait(int fd, const char *path, int lock_type,
		     enum file_lock_method method, unsigned int timeout_secs,
		     const char **error_r)
{
	double deadline = now_secs() + timeout_secs;
	unsigned int delay = 5;
	int ret;

	for (;;) {
		ret = lock_try_once(fd, lock_type, method);
		if (ret != 0)
			break;
		if (timeout_secs == 0 || now_secs() >= deadline)
			break;
		sleep_msecs(delay);
		if (delay < 200)
			delay *= 2;
	}
	if (ret > 0)
		return 1;
	if (ret < 0) {
		int err = errno;

		snprintf(lock_errbuf, sizeof(lock_errbuf),
			 "%s, %s) locking failed: %s",
			 lock_call_name(method, lock_type), path,
			 strerror(err));
		errno = err;
		*error_r = lock_errbuf;
		return -1;
	}
	if (timeout_secs == 0) {
		snprintf(lock_errbuf, sizeof(lock_errbuf),
			 "%s, %s) locking failed: Resource temporarily "
			 "unavailable%s", lock_call_name(method, lock_type),
			 path, method == FILE_LOCK_METHOD_FCNTL ?
			 lock_holder(fd, lock_type) : "");
	} else {
		snprintf(lock_errbuf, sizeof(lock_errbuf),
			 "%s, %s) locking failed: Timed out after %u "
			 "seconds%s", lock_call_name(method, lock_type), path,
			 timeout_secs, method == FILE_LOCK_METHOD_FCNTL ?
			 lock_holder(fd, lock_type) : "");
	}
	errno = EAGAIN;
	*error_r = lock_errbuf;
	return 0;
}

int file_wait_lock(int fd, const char *path, int lock_type,
		   enum file_lock_method method, unsigned int timeout_secs,
		   struct file_lock **lock_r, const char **error_r)
{
	struct file_lock *lock;
	int ret;

	*lock_r = NULL;
	*error_r = NULL;
	i_assert(lock_type == F_RDLCK || lock_type == F_WRLCK);
	ret = lock_wait(fd, path, lock_type, method, timeout_secs, error_r);
	if (ret <= 0)
		return ret;
	lock = i_new(struct file_lock, 1);
	lock->fd = fd;
	lock->path = i_strdup(path);
	lock->lock_type = lock_type;
	lock->method = method;
	*lock_r = lock;
	return 1;
}

int file_try_lock(int fd, const char *path, int lock_type,
		  enum file_lock_method method, struct file_lock **lock_r,
		  const char **error_r)
{
	return file_wait_lock(fd, path, lock_type, method, 0, lock_r,
			      error_r);
}

int file_lock_change_type(struct file_lock *lock, int lock_type,
			  unsigned int timeout_secs, const char **error_r)
{
	int ret;

	*error_r = NULL;
	if (lock->lock_type == lock_type)
		return 1;
	if (lock->method == FILE_LOCK_METHOD_LOCKF) {
		/* lockf locks are always exclusive */
		lock->lock_type = lock_type;
		return 1;
	}
	ret = lock_wait(lock->fd, lock->path, lock_type, lock->method,
			timeout_secs, error_r);
	if (ret > 0) {
		lock->lock_type = lock_type;
		return 1;
	}
	if (lock->method == FILE_LOCK_METHOD_FLOCK) {
		/* flock() conversion isn't atomic: the old lock may be gone.
		   Take it back (a shared lock can't be refused for long). */
		const char *error2;

		if (lock_wait(lock->fd, lock->path, lock->lock_type,
			      lock->method, 0, &error2) <= 0)
			i_error("%s", error2);
	}
	return ret;
}

int file_lock_get_type(const struct file_lock *lock)
{
	return lock->lock_type;
}

int file_lock_get_fd(const struct file_lock *lock)
{
	return lock->fd;
}

void file_unlock(struct file_lock **_lock)
{
	struct file_lock *lock = *_lock;
	const char *error;

	if (lock == NULL)
		return;
	*_lock = NULL;
	if (lock_wait(lock->fd, lock->path, F_UNLCK, lock->method, 0,
		      &error) < 0 && errno != EBADF)
		i_error("file_unlock(%s) failed: %s", lock->path, error);
	i_free(lock->path);
	i_free(lock);
}

void file_lock_free(struct file_lock **_lock)
{
	struct file_lock *lock = *_lock;

	if (lock == NULL)
		return;
	*_lock = NULL;
	i_free(lock->path);
	i_free(lock);
}

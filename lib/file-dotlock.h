/* file-dotlock.h - "<path>.lock" dot-locks that interoperate with
 * Dovecot, procmail, Postfix and liblockfile: the lock is the existence of
 * the lock file, created atomically (O_EXCL, or link() of a temporary
 * file), and a lock file that stops changing for stale_timeout seconds is
 * taken over. The replace mode writes a file atomically under its lock:
 * the new content goes into the lock file, which is renamed over the file
 * (how Dovecot writes dovecot-uidlist). */
#ifndef ROOST_FILE_DOTLOCK_H
#define ROOST_FILE_DOTLOCK_H

#include "lib.h"

#include <sys/types.h>

struct dotlock;

struct dotlock_settings {
	/* give up after this many seconds of waiting (0: try once) */
	unsigned int timeout;
	/* a lock file (and the locked file) unchanged for this many seconds
	   is stale and gets overridden; 0 = never */
	unsigned int stale_timeout;
	/* create with O_EXCL (dotlock_use_excl = yes, local filesystems);
	   false: write a temporary file and link() it (NFS-safe) */
	bool use_excl;
	/* NULL means ".lock" */
	const char *lock_suffix;
};

enum dotlock_create_flags {
	/* only try once, ignoring set->timeout */
	DOTLOCK_CREATE_FLAG_NONBLOCK = 0x01,
	/* the "replace" mode: keep the lock file open for writing */
	DOTLOCK_CREATE_FLAG_OPEN = 0x02,
};

/* Lock path (creating path.lock). Returns 1 locked, 0 timed out, -1 error
 * (logged, errno kept). */
int file_dotlock_create(const struct dotlock_settings *set, const char *path,
			struct dotlock **dotlock_r);
/* The same without logging: error_r says what failed (errno kept, e.g.
 * EACCES when the directory isn't writable: the mbox code then retries
 * with the privileged group). mode is the lock file's mode (0 = 0600 or,
 * with FLAG_OPEN, the mode of the existing file at path). */
int file_dotlock_create_full(const struct dotlock_settings *set,
			     const char *path, enum dotlock_create_flags flags,
			     mode_t mode, struct dotlock **dotlock_r,
			     const char **error_r);
/* Remove our lock file. Returns 1 ok, 0 if someone else deleted or
 * overrode it meanwhile (warned about; the other lock is left alone), -1
 * on error. *dotlock = NULL always. */
int file_dotlock_delete(struct dotlock **dotlock);
/* Update the lock file's mtime so that others don't think it stale.
 * Returns 0 or -1 (e.g. the lock was taken over). */
int file_dotlock_touch(struct dotlock *dotlock);
/* Has the lock been deleted or overridden by someone else? */
bool file_dotlock_is_locked(struct dotlock *dotlock);
const char *file_dotlock_get_lock_path(const struct dotlock *dotlock);

/* Replace mode: lock path and return an fd (>= 0) of the lock file for
 * the new content, positioned at 0 (the file holds "<pid>:<host>" until
 * the content is written over it; replace cuts it at the fd's offset);
 * -1 with errno on error (logged), and with errno = EAGAIN on timeout.
 * The record is Dovecot's, so a Dovecot finding it after a Roost process
 * died takes it over too. Its price: a first write() of the content that
 * is only digits shorter than the record leaves "<digits>:<host>", which
 * others read as the record of a (likely dead) process and take over.
 * Every content written here starts with a digit run followed by another
 * character in the same write (dovecot-uidlist "3 V..", maildirsize
 * "NS,..") or with no digit at all (dict files), and is written whole. */
int file_dotlock_open(const struct dotlock_settings *set, const char *path,
		      struct dotlock **dotlock_r);
int file_dotlock_get_fd(const struct dotlock *dotlock);
/* Close the fd (after fsync unless nofsync) and rename the lock file over
 * the path; fails (-1, lock file removed if still ours) if the lock was
 * overridden. *dotlock = NULL always. */
int file_dotlock_replace(struct dotlock **dotlock);
int file_dotlock_replace_nofsync(struct dotlock **dotlock);

#endif

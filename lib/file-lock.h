/* file-lock.h - advisory locks on an open file with fcntl(), flock() or
 * lockf(), waiting up to a timeout, with Dovecot's error texts. The mbox
 * driver shares these with MTAs (mbox_read_locks/mbox_write_locks), the
 * index code uses them per lock_method. */
#ifndef ROOST_FILE_LOCK_H
#define ROOST_FILE_LOCK_H

#include "lib.h"

#include <fcntl.h>

enum file_lock_method {
	FILE_LOCK_METHOD_FCNTL,
	FILE_LOCK_METHOD_FLOCK,
	FILE_LOCK_METHOD_LOCKF,
};

struct file_lock;

/* "fcntl", "flock", "lockf" -> method. Returns false if unknown. */
bool file_lock_method_parse(const char *name, enum file_lock_method *method_r);
const char *file_lock_method_to_str(enum file_lock_method method);

/* Lock fd (whose name is path, for messages) with lock_type F_RDLCK or
 * F_WRLCK. timeout_secs 0 tries once without waiting. Returns 1 locked,
 * 0 timed out (or, with timeout 0, held by someone else), -1 error. On 0
 * and -1, error_r says why in Dovecot's words ("fcntl(write-lock, F_SETLKW,
 * path) locking failed: Timed out after 300 seconds (WRITE lock held by
 * pid 123)"). lockf() has exclusive locks only: F_RDLCK takes one too, and
 * fd must be open for writing. fcntl and lockf locks are per process: any
 * close() of the same file by this process drops them, so keep one fd. */
int file_wait_lock(int fd, const char *path, int lock_type,
		   enum file_lock_method method, unsigned int timeout_secs,
		   struct file_lock **lock_r, const char **error_r);
/* file_wait_lock() with timeout 0. */
int file_try_lock(int fd, const char *path, int lock_type,
		  enum file_lock_method method, struct file_lock **lock_r,
		  const char **error_r);
/* Change a held lock to lock_type (e.g. read -> write), waiting like
 * file_wait_lock(). On 0/-1 the old lock is still held (flock may have
 * dropped it while converting: then -1 with the lock freed is avoided by
 * re-taking the old type). */
int file_lock_change_type(struct file_lock *lock, int lock_type,
			  unsigned int timeout_secs, const char **error_r);
int file_lock_get_type(const struct file_lock *lock);
int file_lock_get_fd(const struct file_lock *lock);
/* Unlock and free; *lock = NULL. A NULL *lock is a no-op. */
void file_unlock(struct file_lock **lock);
/* Free without unlocking (the fd was closed, which released it). */
void file_lock_free(struct file_lock **lock);

#endif

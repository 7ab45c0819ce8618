/* mbox-lock.c - the locks an mbox file shares with MTAs, procmail, mutt
 * and Dovecot: mbox_read_locks (default "fcntl") for reading and
 * mbox_write_locks (default "fcntl dotlock") for writing, taken in the
 * order the admin listed them, all within mbox_lock_timeout seconds.
 * Dotlocks ("<mbox>.lock") are overridden after
 * mbox_dotlock_change_timeout seconds without change; when the spool
 * directory isn't writable, the dotlock is created with
 * mail_privileged_group's gid as Dovecot does. Locks are held only within
 * one driver call (sync, flag write, expunge, save commit). */
#include "mbox-private.h"
#include "settings-structs.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *name;
	enum mbox_lock_method method;
} lock_names[] = {
	{ "dotlock", MBOX_LOCK_DOTLOCK },
	{ "dotlock_try", MBOX_LOCK_DOTLOCK_TRY },
	{ "fcntl", MBOX_LOCK_FCNTL },
	{ "flock", MBOX_LOCK_FLOCK },
	{ "lockf", MBOX_LOCK_LOCKF },
};

int mbox_lock_methods_parse(const char *str, struct mbox_lock_set *set_r,
			    const char **error_r)
{
	static char errbuf[128];
	const char *p = str;

	memset(set_r, 0, sizeof(*set_r));
	while (*p != '\0') {
		size_t len;
		unsigned int i;
		bool dup = false;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		len = strcspn(p, " ,\t");
		if (len == 0)
			break;
		for (i = 0; i < N_ELEMENTS(lock_names); i++) {
			if (strlen(lock_names[i].name) == len &&
			    strncmp(p, lock_names[i].name, len) == 0)
				break;
		}
		if (i == N_ELEMENTS(lock_names)) {
			snprintf(errbuf, sizeof(errbuf),
				 "Invalid mbox lock method: %.*s", (int)len, p);
			*error_r = errbuf;
			return -1;
		}
		for (unsigned int j = 0; j < set_r->count; j++) {
			if (set_r->methods[j] == lock_names[i].method)
				dup = true;
		}
		if (!dup && set_r->count < MBOX_LOCK_METHODS_MAX)
			set_r->methods[set_r->count++] = lock_names[i].method;
		p += len;
	}
	return 0;
}

static const struct settings_root *mbox_set(struct mbox_mailbox *mbox)
{
	return mbox->box.user->set;
}

static gid_t privileged_gid(struct mbox_mailbox *mbox)
{
	const char *name = mbox_set(mbox)->mail_privileged_group;
	struct group *gr;
	char *end;
	unsigned long num;

	if (name == NULL || name[0] == '\0')
		return (gid_t)-1;
	num = strtoul(name, &end, 10);
	if (*end == '\0')
		return (gid_t)num;
	gr = getgrnam(name);
	return gr == NULL ? (gid_t)-1 : gr->gr_gid;
}

/* 1 locked (or skipped for dotlock_try), 0 timeout, -1 error. */
static int mbox_dotlock(struct mbox_mailbox *mbox, unsigned int timeout,
			bool try_only)
{
	const struct settings_root *set = mbox_set(mbox);
	struct dotlock_settings dset = {
		.timeout = timeout,
		.stale_timeout = set->mbox_dotlock_change_timeout,
		.use_excl = set->dotlock_use_excl,
		.lock_suffix = ".lock",
	};
	const char *error;
	int ret;

	ret = file_dotlock_create_full(&dset, mbox->box.path, 0, 0,
				       &mbox->dotlock, &error);
	if (ret < 0 && errno == EACCES) {
		gid_t gid = privileged_gid(mbox), old_gid = getegid();

		if (gid != (gid_t)-1 && setegid(gid) == 0) {
			ret = file_dotlock_create_full(&dset, mbox->box.path,
						       0, 0, &mbox->dotlock,
						       &error);
			if (setegid(old_gid) < 0)
				i_fatal("setegid(%ld) failed: %m", (long)old_gid);
		}
		if (ret < 0 && errno == EACCES) {
			if (try_only)
				return 1;
			mailbox_set_critical(&mbox->box,
				"%s (euid=%ld egid=%ld; set mail_privileged_group "
				"to the spool directory's group?)", error,
				(long)geteuid(), (long)getegid());
			return -1;
		}
	}
	if (ret < 0) {
		mailbox_set_critical(&mbox->box, "%s", error);
		return -1;
	}
	if (ret == 0) {
		if (try_only)
			return 1;
		mailbox_set_error(&mbox->box, MAIL_ERROR_TEMP,
				  "Timeout while waiting for lock");
		return 0;
	}
	return 1;
}

static bool kernel_locks_held(const struct mbox_mailbox *mbox)
{
	for (unsigned int i = 0; i < MBOX_LOCK_METHODS_MAX; i++) {
		if (mbox->flocks[i] != NULL)
			return true;
	}
	return false;
}

static void release_kernel_locks(struct mbox_mailbox *mbox)
{
	for (int i = MBOX_LOCK_METHODS_MAX - 1; i >= 0; i--)
		file_unlock(&mbox->flocks[i]);
}

static void release_all(struct mbox_mailbox *mbox)
{
	for (int i = MBOX_LOCK_METHODS_MAX - 1; i >= 0; i--)
		file_unlock(&mbox->flocks[i]);
	if (mbox->dotlock != NULL) {
		/* the dotlock may have needed mail_privileged_group to be
		   made (/var/mail): removing it needs it too */
		gid_t gid = privileged_gid(mbox), old_gid = getegid();
		bool switched = gid != (gid_t)-1 && gid != old_gid &&
			setegid(gid) == 0;

		(void)file_dotlock_delete(&mbox->dotlock);
		if (switched && setegid(old_gid) < 0)
			i_fatal("setegid(%ld) failed: %m", (long)old_gid);
	}
	mbox->lock_type = F_UNLCK;
}

/* The file at box->path isn't the one we have open (renamed over or
 * recreated): reopen it. */
static int reopen_if_replaced(struct mbox_mailbox *mbox)
{
	struct stat st;

	if (stat(mbox->box.path, &st) < 0 ||
	    (st.st_ino == mbox->ino && st.st_dev == mbox->dev))
		return 0;
	mbox_file_close(mbox);
	return mbox_file_open(mbox);
}

int mbox_lock(struct mbox_mailbox *mbox, int lock_type)
{
	const struct settings_root *set = mbox_set(mbox);
	const struct mbox_lock_set *methods;
	struct timespec start, now;
	unsigned int timeout = set->mbox_lock_timeout;
	int ret = 1;

	if (mbox->lock_type == F_WRLCK ||
	    (mbox->lock_type == F_RDLCK && lock_type == F_RDLCK))
		return 1;
	if (mbox->lock_type == F_RDLCK)
		release_all(mbox);
	if (lock_type == F_WRLCK && mbox->fd_readonly) {
		mailbox_set_error(&mbox->box, MAIL_ERROR_PERM,
				  "Mailbox is read-only: no write access to %s",
				  mbox->box.path);
		return -1;
	}
	if (reopen_if_replaced(mbox) < 0)
		return -1;
	methods = lock_type == F_RDLCK ? &mbox->read_locks : &mbox->write_locks;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned int i = 0; i < methods->count && ret > 0; i++) {
		enum mbox_lock_method m = methods->methods[i];
		enum file_lock_method fm;
		unsigned int left;
		const char *error;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = now.tv_sec - start.tv_sec >= (time_t)timeout ? 0 :
			timeout - (unsigned int)(now.tv_sec - start.tv_sec);
		switch (m) {
		case MBOX_LOCK_DOTLOCK:
			if (mbox->dotlock != NULL)
				continue;
			if (!kernel_locks_held(mbox)) {
				ret = mbox_dotlock(mbox, left, false);
				continue;
			}
			/* Postfix and procmail take the dotlock first and
			   then wait for our fcntl lock: rather than hold it
			   while waiting for their dotlock, let go, wait for
			   the dotlock alone, then take the rest again */
			ret = mbox_dotlock(mbox, 0, false);
			if (ret != 0)
				continue;
			release_kernel_locks(mbox);
			ret = mbox_dotlock(mbox, left, false);
			if (ret > 0)
				i = UINT_MAX;	/* again from the first */
			continue;
		case MBOX_LOCK_DOTLOCK_TRY:
			if (mbox->dotlock == NULL)
				ret = mbox_dotlock(mbox, left, true);
			continue;
		case MBOX_LOCK_FCNTL:
			fm = FILE_LOCK_METHOD_FCNTL;
			break;
		case MBOX_LOCK_FLOCK:
			fm = FILE_LOCK_METHOD_FLOCK;
			break;
		default:
			/* lockf() needs write access; readers skip it */
			if (mbox->fd_readonly)
				continue;
			fm = FILE_LOCK_METHOD_LOCKF;
			break;
		}
		if (mbox->flocks[i] != NULL)
			continue;
		ret = file_wait_lock(mbox->fd, mbox->box.path, lock_type, fm,
				     left, &mbox->flocks[i], &error);
		if (ret == 0) {
			mailbox_set_error(&mbox->box, MAIL_ERROR_TEMP,
					  "Timeout while waiting for lock");
		} else if (ret < 0) {
			mailbox_set_critical(&mbox->box, "%s", error);
		}
	}
	if (ret <= 0) {
		release_all(mbox);
		return ret;
	}
	mbox->lock_type = lock_type;
	return 1;
}

void mbox_unlock(struct mbox_mailbox *mbox)
{
	if (mbox->lock_type != F_UNLCK)
		release_all(mbox);
}

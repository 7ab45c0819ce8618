/* userdb.c - the userdb driver registry and uid/gid parsing shared by
 * the userdb drivers (a number or a name, as Dovecot accepts both). */
#include "auth-db-private.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <unistd.h>

static const struct userdb_driver *const userdb_drivers[] = {
	&userdb_driver_checkpassword,
	&userdb_driver_passwd,
	&userdb_driver_passwd_file,
	&userdb_driver_prefetch,
	&userdb_driver_static,
	NULL
};

const struct userdb_driver *userdb_driver_find(const char *name)
{
	for (unsigned int i = 0; userdb_drivers[i] != NULL; i++) {
		if (strcmp(userdb_drivers[i]->name, name) == 0)
			return userdb_drivers[i];
	}
	return NULL;
}

const struct userdb_driver *const *userdb_drivers_list(void)
{
	return userdb_drivers;
}

/* A decimal id that fits in 32 bits and isn't the -1 "no id" value. */
static bool parse_id(const char *str, unsigned long *id_r)
{
	char *end;
	unsigned long n;

	if (*str < '0' || *str > '9')
		return false;
	errno = 0;
	n = strtoul(str, &end, 10);
	if (errno != 0 || *end != '\0' || n >= UINT32_MAX)
		return false;
	*id_r = n;
	return true;
}

static size_t nss_buf_size(int name)
{
	long size = sysconf(name);

	return size <= 0 ? 16384 : (size_t)size;
}

int userdb_parse_uid(const char *str, uid_t *uid_r)
{
	struct passwd pw, *result = NULL;
	unsigned long id;
	size_t size = nss_buf_size(_SC_GETPW_R_SIZE_MAX);
	char *buf;
	int err;

	if (parse_id(str, &id)) {
		*uid_r = (uid_t)id;
		return 0;
	}
	for (;;) {
		buf = i_malloc(size);
		err = getpwnam_r(str, &pw, buf, size, &result);
		if (err != ERANGE || size >= 1024 * 1024)
			break;
		free(buf);
		size *= 2;
	}
	if (err != 0 && err != ENOENT && err != ESRCH) {
		errno = err;
		i_error("getpwnam() failed: %m");
		free(buf);
		return -1;
	}
	if (result == NULL) {
		i_error("Invalid UID value '%s'", str);
		free(buf);
		return -1;
	}
	*uid_r = pw.pw_uid;
	free(buf);
	return 0;
}

int userdb_parse_gid(const char *str, gid_t *gid_r)
{
	struct group gr, *result = NULL;
	unsigned long id;
	size_t size = nss_buf_size(_SC_GETGR_R_SIZE_MAX);
	char *buf;
	int err;

	if (parse_id(str, &id)) {
		*gid_r = (gid_t)id;
		return 0;
	}
	for (;;) {
		buf = i_malloc(size);
		err = getgrnam_r(str, &gr, buf, size, &result);
		if (err != ERANGE || size >= 1024 * 1024)
			break;
		free(buf);
		size *= 2;
	}
	if (err != 0 && err != ENOENT && err != ESRCH) {
		errno = err;
		i_error("getgrnam() failed: %m");
		free(buf);
		return -1;
	}
	if (result == NULL) {
		i_error("Invalid GID value '%s'", str);
		free(buf);
		return -1;
	}
	*gid_r = gr.gr_gid;
	free(buf);
	return 0;
}

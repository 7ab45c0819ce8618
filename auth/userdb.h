/* userdb.h - user databases: passwd, passwd-file, static, prefetch,
 * checkpassword. They fill uid, gid, home, mail and other fields. */
#ifndef ROOST_USERDB_H
#define ROOST_USERDB_H

#include "passdb.h"

#include <sys/types.h>

enum userdb_result {
	USERDB_RESULT_INTERNAL_FAILURE = -1,
	USERDB_RESULT_USER_UNKNOWN = -2,
	USERDB_RESULT_OK = 1,
};

struct userdb_module;

struct userdb_driver {
	const char *name;
	bool blocking;
	/* Sets (*module_r)->driver. Returns -1 with *error_r. */
	int (*create)(pool_t pool, const char *args,
		      struct userdb_module **module_r, const char **error_r);
	/* Optional, as passdb_driver->init. */
	void (*init)(struct userdb_module *module,
		     const struct auth_db_settings *set);
	void (*deinit)(struct userdb_module *module);
	/* Fill lookup->extra_fields with uid, gid, home, mail ... (without
	   a userdb_ prefix). USER_UNKNOWN sets lookup->log_reason. */
	enum userdb_result (*lookup)(struct userdb_module *module,
				     struct auth_lookup *lookup);
	/* Iterate every user (doveadm user '*', LIST). NULL if not
	   supported. Calls callback per user name; returns -1 on error
	   (logged). */
	int (*iterate)(struct userdb_module *module,
		       void (*callback)(const char *user, void *context),
		       void *context);
};

struct userdb_module {
	const struct userdb_driver *driver;
	const char *args;
	bool blocking;
	/* The cache key template ("%u" for passwd); NULL = the userdb's
	   results are not cached (as Dovecot 2.3: passwd-file, static,
	   prefetch, checkpassword). */
	const char *cache_key;
};

const struct userdb_driver *userdb_driver_find(const char *name);
/* Every userdb driver, NULL-terminated, in name order. */
const struct userdb_driver *const *userdb_drivers_list(void);

/* A uid/gid written as a number or as a user/group name (Dovecot's
 * userdb_parse_uid/gid). Returns -1 when it is neither, after logging
 * "Invalid UID value 'x'" / "Invalid GID value 'x'" as Dovecot does
 * (or "getpwnam() failed: ..." when NSS fails). */
int userdb_parse_uid(const char *str, uid_t *uid_r);
int userdb_parse_gid(const char *str, gid_t *gid_r);

#endif

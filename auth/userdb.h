/* userdb.h - user databases: passwd, passwd-file, static, prefetch,
 * checkpassword. They fill uid, gid, home, mail and other fields. */
#ifndef ROOST_USERDB_H
#define ROOST_USERDB_H

#include "passdb.h"

enum userdb_result {
	USERDB_RESULT_INTERNAL_FAILURE = -1,
	USERDB_RESULT_USER_UNKNOWN = -2,
	USERDB_RESULT_OK = 1,
};

struct userdb_module;

struct userdb_driver {
	const char *name;
	bool blocking;
	int (*create)(pool_t pool, const char *args,
		      struct userdb_module **module_r, const char **error_r);
	void (*deinit)(struct userdb_module *module);
	/* Fill lookup->extra_fields with uid, gid, home, mail ... */
	enum userdb_result (*lookup)(struct userdb_module *module,
				     struct auth_lookup *lookup);
	/* Iterate every user (doveadm user '*', LIST). NULL if not
	   supported. Calls callback per user name; returns -1 on error. */
	int (*iterate)(struct userdb_module *module,
		       void (*callback)(const char *user, void *context),
		       void *context);
};

struct userdb_module {
	const struct userdb_driver *driver;
	const char *args;
	bool blocking;
};

const struct userdb_driver *userdb_driver_find(const char *name);

#endif

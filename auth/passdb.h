/* passdb.h - password databases: pam, passwd, shadow, passwd-file,
 * static, checkpassword. A driver answers synchronously; the auth service
 * runs drivers marked blocking in its worker processes, never in its
 * event loop. */
#ifndef ROOST_PASSDB_H
#define ROOST_PASSDB_H

#include "lib.h"
#include "pool.h"
#include "mech.h"
#include "auth-fields.h"

/* What a lookup knows about the login attempt. */
struct auth_lookup {
	pool_t pool;
	const char *user;		/* after auth_username_format */
	const char *original_user;	/* as the client typed it */
	const char *service;		/* imap, pop3, smtp, lda, doveadm */
	const char *local_ip, *remote_ip;	/* may be NULL */
	unsigned int local_port, remote_port;
	const char *session_id;
	const char *mech;		/* "PLAIN" ... */
	bool secured;
	/* Filled by the driver: passdb extra fields (user=, nologin,
	   userdb_* for prefetch, proxy, host= ...) or userdb fields (uid=,
	   gid=, home=, mail= ...). */
	struct auth_fields *extra_fields;
	/* Filled by lookup_credentials: the stored password and its default
	   scheme. */
	const char *password, *default_scheme;
	/* Log text for auth_verbose ("Password mismatch", "unknown user",
	   "pam_authenticate() failed: ..."). */
	const char *log_reason;
};

struct passdb_module;

struct passdb_driver {
	const char *name;	/* "passwd-file" */
	/* Must run in an auth worker (PAM, checkpassword, crypt calls that
	   may be slow for bcrypt/argon2 are decided per lookup by the
	   service: see passdb_module->blocking). */
	bool blocking;
	/* Parse args ("scheme=SHA512-CRYPT username_format=%n /etc/users").
	   Returns -1 with *error_r in Dovecot's words. */
	int (*create)(pool_t pool, const char *args,
		      struct passdb_module **module_r, const char **error_r);
	void (*deinit)(struct passdb_module *module);
	enum passdb_result (*verify_plain)(struct passdb_module *module,
					   struct auth_lookup *lookup,
					   const char *password);
	/* Fills lookup->password and ->default_scheme (NULL password with
	   OK = no password, e.g. nopassword). NULL if the driver can't. */
	enum passdb_result (*lookup_credentials)(struct passdb_module *module,
						 struct auth_lookup *lookup);
};

struct passdb_module {
	const struct passdb_driver *driver;
	const char *args;
	const char *default_pass_scheme;
	bool blocking;
};

const struct passdb_driver *passdb_driver_find(const char *name);

#endif

/* db-checkpassword.h - running a checkpassword program the way Dovecot
 * does (the qmail checkpassword interface): "user\0password\0\0" on fd 3,
 * the program runs "checkpassword-reply" on success, which writes
 * TAB-separated key=value fields to fd 4; exit codes tell the result. */
#ifndef ROOST_DB_CHECKPASSWORD_H
#define ROOST_DB_CHECKPASSWORD_H

#include "passdb.h"

/* Where Debian's Dovecot has its reply helper; Roost installs itself
 * there under that name (argv[0] dispatch to checkpassword_reply_main). */
#define CHECKPASSWORD_REPLY_PATH "/usr/lib/dovecot/checkpassword-reply"
/* The longest "user\0password\0\0" Dovecot sends. */
#define CHECKPASSWORD_MAX_REQUEST_LEN 512
/* A reply longer than this is an error. */
#define CHECKPASSWORD_MAX_REPLY_LEN (64 * 1024)
/* A program that takes longer is killed. */
#define CHECKPASSWORD_TIMEOUT_SECS 120

/* The reply helper path given to programs; tests point it elsewhere. */
extern const char *checkpassword_reply_path;

enum db_checkpassword_status {
	DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE = -1,
	/* wrong password, or (lookups) unknown user */
	DB_CHECKPASSWORD_STATUS_FAILURE = 0,
	DB_CHECKPASSWORD_STATUS_OK = 1,
};

/* Run program_tmpl (a % template; arguments split on spaces) for the
 * lookup. password NULL means a passdb/userdb lookup without
 * authentication (AUTHORIZED=1 in the environment, and for credentials
 * lookups CREDENTIALS_LOOKUP=1 SCHEME=...). On OK *fields_r holds the
 * reply's fields ("key=value", unescaped), NULL-terminated, from
 * lookup->pool. driver names the log prefix. */
enum db_checkpassword_status
db_checkpassword_call(const char *program_tmpl, struct auth_lookup *lookup,
		      const char *password, bool credentials_lookup,
		      const char *driver, const char *const **fields_r);

/* The checkpassword-reply program: USER, HOME and the variables EXTRA
 * names become fields on fd 4 (userdb_uid/userdb_gid default to our
 * uid/gid). Returns the exit code: 0 after authentication, 2 for a
 * lookup the script supports (AUTHORIZED=2), 111 on errors. */
int checkpassword_reply_main(void);

#endif

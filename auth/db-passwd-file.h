/* db-passwd-file.h - the passwd-file database shared by passdb and userdb
 * passwd-file: "user:password:uid:gid:gecos:home:shell:extra_fields"
 * lines, one file or one per expanded %path, reread when it changes. */
#ifndef ROOST_DB_PASSWD_FILE_H
#define ROOST_DB_PASSWD_FILE_H

#include "passdb.h"

#include <sys/types.h>

/* Lines of this many bytes or more are skipped with an error. */
#define PASSWD_FILE_MAX_LINE 65536

struct passwd_user {
	const char *name;
	const char *password;	/* NULL: the line had only a user name */
	/* (uid_t)-1: not given; 0: the line has no userdb info (userdb
	   lookups then say "unknown user") */
	uid_t uid;
	gid_t gid;
	const char *home;	/* NULL: empty */
	/* "key=value" or "key" words of the extra_fields column, NULL
	   terminated; NULL when there are none. Values are % templates. */
	const char *const *extra_fields;
};

struct db_passwd_file;

#define PASSWD_FILE_DEFAULT_USERNAME_FORMAT "%u"

/* Split passwd-file args: "key=value" words until a word that starts with
 * '/', then the path (spaces and all). Keys: scheme= (only when scheme is
 * not NULL: passdb), username_format=. Returns -1 with *error_r
 * ("Unknown setting: x", "Missing args"). */
int db_passwd_file_parse_args(pool_t pool, const char *args,
			      const char **scheme, const char **format,
			      const char **path_r, const char **error_r);

/* One database per path template: a passdb and a userdb naming the same
 * path share it (and its error lines). userdb: the file is also used as
 * a userdb, so uid/gid are checked. */
struct db_passwd_file *db_passwd_file_init(const char *path, bool userdb);
void db_passwd_file_unref(struct db_passwd_file **db);
/* The init step: remember the settings and, for a path without
 * variables, read the file now (errors are logged, not fatal). */
void db_passwd_file_parse(struct db_passwd_file *db,
			  const struct auth_db_settings *set);

/* Find lookup->user (formatted with username_format) in the file the
 * path names for this lookup. Returns 1 with *user_r, 0 when the user or
 * the file is unknown (lookup->log_reason set), -1 on an internal error
 * (logged). driver names the log prefix ("passwd-file"). */
int db_passwd_file_lookup(struct db_passwd_file *db,
			  struct auth_lookup *lookup,
			  const char *username_format,
			  struct passwd_user **user_r);
/* Every user name in the file, in file order (userdb iteration).
 * Returns -1 (logged) for %variable paths and unreadable files. */
int db_passwd_file_iterate(struct db_passwd_file *db,
			   void (*callback)(const char *user, void *context),
			   void *context);

/* Expand the user's extra fields for a lookup and set them in dest.
 * prefix NULL: every field; "userdb_": only those, without the prefix.
 * Returns -1 (logged, "Failed to expand extra field ...") on error. */
int db_passwd_file_export_fields(const struct passwd_user *pu,
				 struct auth_lookup *lookup,
				 struct auth_fields *dest, const char *prefix);

#endif

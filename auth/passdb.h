/* passdb.h - password databases: pam, passwd, shadow, passwd-file,
 * static, checkpassword. A driver answers synchronously; the auth service
 * runs drivers marked blocking in its worker processes, never in its
 * event loop. Also the helpers every passdb and userdb driver shares:
 * % variables of a lookup, log lines with Dovecot's prefix, templates. */
#ifndef ROOST_PASSDB_H
#define ROOST_PASSDB_H

#include "lib.h"
#include "pool.h"
#include "mech.h"
#include "auth-fields.h"

struct var_expand_table;

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
	/* auth_debug: drivers write "Debug:" lines about what they do. */
	bool debug;
	/* Filled by the driver: passdb extra fields (user=, nologin,
	   userdb_* for prefetch, proxy, host= ...) or userdb fields (uid=,
	   gid=, home=, mail= ...; userdb drivers add them without any
	   userdb_ prefix). */
	struct auth_fields *extra_fields;
	/* Filled by lookup_credentials, and by verify_plain of drivers
	   that compare with a stored password: the stored password and its
	   default scheme. */
	const char *password, *default_scheme;
	/* Log text for auth_verbose ("Password mismatch", "unknown user",
	   "pam_authenticate() failed: ..."), which the caller logs at Info
	   level with auth_lookup_log_prefix() when auth_verbose=yes. Errors
	   (a broken file, a failed exec) are not put here: drivers log them
	   at once with auth_lookup_log_error(), whatever auth_verbose says. */
	const char *log_reason;

	/* -- inputs for particular drivers; all optional -- */
	/* A credentials lookup's wanted scheme ("CRAM-MD5"; NULL or "" for a
	   plain lookup): checkpassword passes it as SCHEME=. */
	const char *credentials_scheme;
	/* userdb lookups: the fields the passdb returned in this request.
	   prefetch takes their userdb_* fields. When NULL, prefetch reads
	   the userdb_* fields of extra_fields instead (for callers that run
	   both chains on one lookup). */
	const struct auth_fields *passdb_fields;
	/* A userdb lookup that doesn't follow an authentication in this
	   request (doveadm user, LMTP/LDA, auth-userdb USER): userdb static
	   without allow_all_users then asks user_exists() first, as Dovecot
	   asks its passdbs, and prefetch words its failure differently. */
	bool userdb_only;
	/* Does the passdb chain know lookup->user? 1 yes, 0 no, -1 it can't
	   tell (no passdb supports lookups) or failed. NULL: can't tell. */
	int (*user_exists)(struct auth_lookup *lookup, void *context);
	void *user_exists_context;
};

/* Facts about the whole auth configuration some drivers need; given to
 * the drivers' init(). */
struct auth_db_settings {
	bool debug;			/* auth_debug */
	unsigned int userdb_count;	/* userdb blocks configured */
	/* first_valid_uid / last_valid_uid: userdb passwd iterates only
	   users in this range (last 0 = no upper bound). */
	unsigned int first_valid_uid, last_valid_uid;
};
/* Dovecot's defaults: one userdb, uids 500 and up. */
extern const struct auth_db_settings auth_db_default_settings;

struct passdb_module;

struct passdb_driver {
	const char *name;	/* "passwd-file" */
	/* Must run in an auth worker (PAM, checkpassword, crypt calls that
	   may be slow for bcrypt/argon2 are decided per lookup by the
	   service: see passdb_module->blocking). */
	bool blocking;
	/* Parse args ("scheme=SHA512-CRYPT username_format=%n /etc/users").
	   Returns -1 with *error_r in Dovecot's words. Sets
	   (*module_r)->driver. */
	int (*create)(pool_t pool, const char *args,
		      struct passdb_module **module_r, const char **error_r);
	/* Optional (NULL = nothing to do): called once after every passdb
	   and userdb was created, before the first lookup, like Dovecot's
	   init step. passwd-file reads its file here, so what is wrong with
	   it is logged at startup. Drivers also work when it is never
	   called (with auth_db_default_settings). */
	void (*init)(struct passdb_module *module,
		     const struct auth_db_settings *set);
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
	/* The passdb's cache key template (pam cache_key=, "%u" for
	   passwd/shadow/passwd-file); NULL = not cacheable as is. */
	const char *cache_key;
	/* Set by a driver when the worker process that ran this lookup
	   should exit after replying (pam max_requests=N reached): PAM
	   modules leak. Only meaningful inside a worker. */
	bool restart_worker;
};

const struct passdb_driver *passdb_driver_find(const char *name);
/* Every passdb driver, NULL-terminated, in name order. */
const struct passdb_driver *const *passdb_drivers_list(void);

/* ---- helpers for drivers (and the service) ---- */

/* The % variables of a lookup, Dovecot 2.3's auth table: %u user,
 * %n username, %d domain, %s service, %l lip, %r rip, %a lport, %b rport,
 * %m mech, %c secured, %h home (from extra_fields), %{session},
 * %{orig_user}, %{orig_username}, %{orig_domain}, %{real_lip} ...
 * fix, when given, rewrites every value first (passwd-file paths cut
 * them at '/'). From lookup->pool. */
const struct var_expand_table *
auth_lookup_var_table(struct auth_lookup *lookup,
		      const char *(*fix)(pool_t pool, const char *value));
/* Expand tmpl with the lookup's variables. Returns 0 with *result_r
 * (from lookup->pool), or -1 with *error_r ("Unknown variable '%x'"). */
int auth_lookup_var_expand(struct auth_lookup *lookup, const char *tmpl,
			   const char **result_r, const char **error_r);

/* The user name in log prefixes: longer ones are cut to 61 bytes and
 * "..." (Dovecot's str_sanitize(user, 64)). */
#define AUTH_LOG_USER_MAX 64
struct string;
/* Append src with control characters as '?', cut to max_len as
 * above. */
void auth_str_append_sanitized(struct string *dest, const char *src,
			       size_t max_len);

/* "<driver>(<user>,<rip>,<session>): " as Dovecot's auth process
 * prefixes db lines: "passwd-file(alice,192.0.2.10): ",
 * "pam(bob,192.0.2.1,<kXtYdSVhK9Z/AAAW>): ", "passwd(nosuch): ". */
const char *auth_lookup_log_prefix(const struct auth_lookup *lookup,
				   const char *driver);
/* A login failure's auth_verbose text as Dovecot writes it: with
 * auth_verbose_passwords plain or sha1 (":N" truncates), "Password
 * mismatch" and "unknown user" get " (given password: X)" / " (SHA1 of
 * given password: X)" (just a space when there is no password) and
 * " - trying the next passdb" when more passdbs follow. Other reasons
 * come back as they are. */
const char *auth_login_failure_text(pool_t pool, const char *verbose_passwords,
				    const char *reason, const char *password,
				    bool next_passdb);
/* Inside an auth worker: text put before every auth log line
 * ("conn unix:auth-worker (pid=1,uid=2): auth-worker<3>: "), or NULL. */
void auth_lookup_log_set_process_prefix(const char *prefix);
/* Log an Error line with that prefix now. */
void auth_lookup_log_error(struct auth_lookup *lookup, const char *driver,
			   const char *fmt, ...) ATTR_FORMAT(3, 4);
/* Log a Debug line with that prefix when lookup->debug. */
void auth_lookup_log_debug(struct auth_lookup *lookup, const char *driver,
			   const char *fmt, ...) ATTR_FORMAT(3, 4);
/* Set lookup->log_reason (formatted, from lookup->pool). */
void auth_lookup_set_reason(struct auth_lookup *lookup, const char *fmt, ...)
	ATTR_FORMAT(2, 3);

/* Check a plaintext password against a stored one the way Dovecot's
 * auth_request_password_verify() does, for drivers that store hashes:
 * the "nopassword" extra field with an empty stored password accepts
 * anything; a mismatch sets log_reason "Password mismatch"; a stored
 * password that can't be used (unknown scheme, bad data) is logged as an
 * error and counts as a mismatch. Sets lookup->password and
 * ->default_scheme to the stored password (the auth cache keeps it).
 * Returns OK or PASSWORD_MISMATCH. */
enum passdb_result passdb_verify_password(struct auth_lookup *lookup,
					  const char *driver,
					  const char *plain,
					  const char *stored,
					  const char *default_scheme);
/* Fill lookup->password and ->default_scheme from a stored password for
 * lookup_credentials (NULL password when "nopassword" is set). */
void passdb_set_credentials(struct auth_lookup *lookup, const char *driver,
			    const char *stored, const char *default_scheme);

/* Split args into words on spaces (Dovecot's t_strsplit_spaces); from
 * pool, NULL-terminated. */
const char *const *auth_args_split(pool_t pool, const char *args);
/* Parse a yes/no argument value ("yes", "no", also "y"/"n", "1"/"0" as
 * Dovecot's settings do). Returns -1 if it is neither. */
int auth_args_parse_bool(const char *value, bool *result_r);

/* A list of "key=value" fields whose values are % templates, expanded
 * per lookup (static passdb/userdb args, userdb passwd args). */
struct auth_template;
struct auth_template *auth_template_parse(pool_t pool, const char *args);
/* Remove key from the template; returns its raw value through *value_r
 * ("" for a bare key) or false if it is not there. */
bool auth_template_remove(struct auth_template *tmpl, const char *key,
			  const char **value_r);
bool auth_template_is_empty(const struct auth_template *tmpl);
unsigned int auth_template_count(const struct auth_template *tmpl);
void auth_template_get_idx(const struct auth_template *tmpl,
			   unsigned int idx, const char **key_r,
			   const char **value_r);
/* Replace the raw value of key (or add it). */
void auth_template_set(struct auth_template *tmpl, const char *key,
		       const char *value);
/* Expand every value and set it in dest. Returns -1 with *error_r
 * ("Failed to expand template: ...") when a value fails to expand. */
int auth_template_export(const struct auth_template *tmpl,
			 struct auth_lookup *lookup, struct auth_fields *dest,
			 const char **error_r);

#endif

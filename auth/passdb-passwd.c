/* passdb-passwd.c - passdb passwd: getpwnam() and crypt(3) of pw_passwd
 * (scheme CRYPT). Blocking: NSS may go over the network. Shadowed systems
 * have "x" there and want passdb shadow or pam instead. */
#include "auth-db-private.h"

#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#define PASSWD_PASS_SCHEME "CRYPT"
#define PASSWD_CACHE_KEY "%u"
#define PASSWD_DRIVER "passwd"

/* A valid crypt(3) hash is never empty and a locked account starts with
 * '*' or '!' (Dovecot's IS_VALID_PASSWD). */
static bool passwd_is_valid(const char *pass)
{
	return pass[0] != '\0' && pass[0] != '*' && pass[0] != '!';
}

static int passwd_create(pool_t pool, const char *args,
			 struct passdb_module **module_r, const char **error_r)
{
	struct passdb_module *module = p_new(pool, struct passdb_module, 1);

	module->driver = &passdb_driver_passwd;
	module->args = p_strdup(pool, args);
	module->blocking = true;
	if (strcmp(args, "blocking=no") == 0)
		module->blocking = false;
	else if (strcmp(args, "blocking=yes") != 0 && *args != '\0') {
		*error_r = p_strdup_printf(pool, "Unknown setting: %s", args);
		return -1;
	}
	module->default_pass_scheme = PASSWD_PASS_SCHEME;
	module->cache_key = PASSWD_CACHE_KEY;
	*module_r = module;
	return 0;
}

/* getpwnam() into a malloc'd buffer. Returns 1 found, 0 unknown user
 * (log_reason set), -1 error (logged). */
static int passwd_getpwnam(struct auth_lookup *lookup, struct passwd *pw,
			   char **buf_r)
{
	struct passwd *result = NULL;
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = max <= 0 ? 16384 : (size_t)max;
	int err;

	for (;;) {
		*buf_r = i_malloc(size);
		err = getpwnam_r(lookup->user == NULL ? "" : lookup->user,
				 pw, *buf_r, size, &result);
		if (err != ERANGE || size >= 1024 * 1024)
			break;
		i_free(*buf_r);
		size *= 2;
	}
	if (err != 0 && err != ENOENT && err != ESRCH) {
		errno = err;
		auth_lookup_log_error(lookup, PASSWD_DRIVER,
				      "getpwnam() failed: %m");
		return -1;
	}
	if (result == NULL) {
		lookup->log_reason = "unknown user";
		return 0;
	}
	return 1;
}

static void wipe_free(char **buf, struct passwd *pw)
{
	explicit_bzero(pw->pw_passwd, strlen(pw->pw_passwd));
	i_free(*buf);
}

/* Look the user up; on OK *pw and *buf_r hold the entry. */
static enum passdb_result passwd_lookup(struct auth_lookup *lookup,
					struct passwd *pw, char **buf_r)
{
	int ret;

	auth_lookup_log_debug(lookup, PASSWD_DRIVER, "lookup");
	ret = passwd_getpwnam(lookup, pw, buf_r);
	if (ret <= 0) {
		i_free(*buf_r);
		return ret < 0 ? PASSDB_RESULT_INTERNAL_FAILURE :
			PASSDB_RESULT_USER_UNKNOWN;
	}
	if (!passwd_is_valid(pw->pw_passwd)) {
		/* the field of a locked account may hold a hash: show
		   only what marks it */
		auth_lookup_set_reason(lookup,
				       "invalid password field '%.1s%s'",
				       pw->pw_passwd,
				       strlen(pw->pw_passwd) > 1 ? "..." : "");
		wipe_free(buf_r, pw);
		return PASSDB_RESULT_USER_DISABLED;
	}
	return PASSDB_RESULT_OK;
}

static enum passdb_result passwd_verify_plain(struct passdb_module *module,
					      struct auth_lookup *lookup,
					      const char *password)
{
	enum passdb_result result;
	struct passwd pw;
	char *buf = NULL;

	result = passwd_lookup(lookup, &pw, &buf);
	if (result != PASSDB_RESULT_OK)
		return result;
	result = passdb_verify_password(lookup, PASSWD_DRIVER, password,
					pw.pw_passwd,
					module->default_pass_scheme);
	if (result == PASSDB_RESULT_OK) {
		/* the name exactly as the database has it */
		auth_fields_set(lookup->extra_fields, "user", pw.pw_name);
	}
	wipe_free(&buf, &pw);
	return result;
}

static enum passdb_result
passwd_lookup_credentials(struct passdb_module *module,
			  struct auth_lookup *lookup)
{
	enum passdb_result result;
	struct passwd pw;
	char *buf = NULL;

	result = passwd_lookup(lookup, &pw, &buf);
	if (result != PASSDB_RESULT_OK)
		return result;
	passdb_set_credentials(lookup, PASSWD_DRIVER, pw.pw_passwd,
			       module->default_pass_scheme);
	auth_fields_set(lookup->extra_fields, "user", pw.pw_name);
	wipe_free(&buf, &pw);
	return PASSDB_RESULT_OK;
}

const struct passdb_driver passdb_driver_passwd = {
	.name = "passwd",
	.blocking = true,
	.create = passwd_create,
	.verify_plain = passwd_verify_plain,
	.lookup_credentials = passwd_lookup_credentials,
};

/* passdb-shadow.c - passdb shadow: getspnam() and crypt(3) of sp_pwdp
 * (scheme CRYPT). Blocking. Needs root (or the shadow group) to read
 * /etc/shadow; the auth service has it. */
#include "auth-db-private.h"

#include <errno.h>
#include <shadow.h>

#define SHADOW_PASS_SCHEME "CRYPT"
#define SHADOW_CACHE_KEY "%u"
#define SHADOW_DRIVER "shadow"

static int shadow_create(pool_t pool, const char *args,
			 struct passdb_module **module_r, const char **error_r)
{
	struct passdb_module *module = p_new(pool, struct passdb_module, 1);

	module->driver = &passdb_driver_shadow;
	module->args = p_strdup(pool, args);
	module->blocking = true;
	if (strcmp(args, "blocking=no") == 0)
		module->blocking = false;
	else if (strcmp(args, "blocking=yes") != 0 && *args != '\0') {
		*error_r = p_strdup_printf(pool, "Unknown setting: %s", args);
		return -1;
	}
	module->default_pass_scheme = SHADOW_PASS_SCHEME;
	module->cache_key = SHADOW_CACHE_KEY;
	*module_r = module;
	return 0;
}

/* The user's shadow entry: name and hash copied (the libc buffer is
 * static). Returns OK, USER_UNKNOWN, USER_DISABLED or INTERNAL_FAILURE. */
static enum passdb_result shadow_lookup(struct auth_lookup *lookup,
					char **name_r, char **hash_r)
{
	struct spwd *spw;

	auth_lookup_log_debug(lookup, SHADOW_DRIVER, "lookup");
	errno = 0;
	/* getspnam, not getspnam_r: what NSS wrappers intercept, and a
	   worker does one lookup at a time */
	spw = getspnam(lookup->user == NULL ? "" : lookup->user);
	if (spw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH) {
			auth_lookup_log_error(lookup, SHADOW_DRIVER,
					      "getspnam() failed: %m");
			return PASSDB_RESULT_INTERNAL_FAILURE;
		}
		lookup->log_reason = "unknown user";
		return PASSDB_RESULT_USER_UNKNOWN;
	}
	if (spw->sp_pwdp == NULL || spw->sp_pwdp[0] == '\0' ||
	    spw->sp_pwdp[0] == '*' || spw->sp_pwdp[0] == '!') {
		lookup->log_reason = "invalid password field";
		return PASSDB_RESULT_USER_DISABLED;
	}
	*name_r = i_strdup(spw->sp_namp);
	*hash_r = i_strdup(spw->sp_pwdp);
	explicit_bzero(spw->sp_pwdp, strlen(spw->sp_pwdp));
	return PASSDB_RESULT_OK;
}

static enum passdb_result shadow_verify_plain(struct passdb_module *module,
					      struct auth_lookup *lookup,
					      const char *password)
{
	enum passdb_result result;
	char *name = NULL, *hash = NULL;

	result = shadow_lookup(lookup, &name, &hash);
	if (result != PASSDB_RESULT_OK)
		return result;
	result = passdb_verify_password(lookup, SHADOW_DRIVER, password, hash,
					module->default_pass_scheme);
	if (result == PASSDB_RESULT_OK)
		auth_fields_set(lookup->extra_fields, "user", name);
	auth_secret_free(&hash);
	i_free(name);
	return result;
}

static enum passdb_result
shadow_lookup_credentials(struct passdb_module *module,
			  struct auth_lookup *lookup)
{
	enum passdb_result result;
	char *name = NULL, *hash = NULL;

	result = shadow_lookup(lookup, &name, &hash);
	if (result != PASSDB_RESULT_OK)
		return result;
	passdb_set_credentials(lookup, SHADOW_DRIVER, hash,
			       module->default_pass_scheme);
	auth_fields_set(lookup->extra_fields, "user", name);
	auth_secret_free(&hash);
	i_free(name);
	return PASSDB_RESULT_OK;
}

const struct passdb_driver passdb_driver_shadow = {
	.name = "shadow",
	.blocking = true,
	.create = shadow_create,
	.verify_plain = shadow_verify_plain,
	.lookup_credentials = shadow_lookup_credentials,
};

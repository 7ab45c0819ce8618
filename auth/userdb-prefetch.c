/* userdb-prefetch.c - userdb prefetch: the userdb_* fields the passdb
 * already returned (passwd-file extra fields, SQL password_query columns)
 * become the userdb reply, without the prefix. No args. */
#include "auth-db-private.h"

#define PREFETCH_DRIVER "prefetch"

struct prefetch_userdb_module {
	struct userdb_module module;
	/* 0 until init() tells; 1 = prefetch is the only userdb, so a
	   miss is an error rather than "try the next one" */
	unsigned int userdb_count;
};

static int prefetch_create(pool_t pool, const char *args,
			   struct userdb_module **module_r,
			   const char **error_r)
{
	struct prefetch_userdb_module *module;

	if (*args != '\0') {
		*error_r = p_strdup_printf(pool, "Unknown setting: %s", args);
		return -1;
	}
	module = p_new(pool, struct prefetch_userdb_module, 1);
	module->module.driver = &userdb_driver_prefetch;
	module->module.args = "";
	*module_r = &module->module;
	return 0;
}

static void prefetch_init(struct userdb_module *_module,
			  const struct auth_db_settings *set)
{
	struct prefetch_userdb_module *module =
		(struct prefetch_userdb_module *)_module;

	module->userdb_count = set->userdb_count;
}

static bool fields_have_prefix(const struct auth_fields *fields,
			       const char *prefix)
{
	size_t len = strlen(prefix);

	for (unsigned int i = 0; i < auth_fields_count(fields); i++) {
		const char *key, *value;

		auth_fields_get_idx(fields, i, &key, &value);
		if (strncmp(key, prefix, len) == 0 && key[len] != '\0')
			return true;
	}
	return false;
}

static enum userdb_result prefetch_lookup(struct userdb_module *_module,
					  struct auth_lookup *lookup)
{
	struct prefetch_userdb_module *module =
		(struct prefetch_userdb_module *)_module;
	const struct auth_fields *src = lookup->passdb_fields != NULL ?
		lookup->passdb_fields : lookup->extra_fields;

	if (src == NULL || !fields_have_prefix(src, "userdb_")) {
		lookup->log_reason = lookup->userdb_only ?
			"userdb lookup not possible with only userdb prefetch" :
			"passdb didn't return userdb entries";
		if (module->userdb_count == 1) {
			auth_lookup_log_error(lookup, PREFETCH_DRIVER, "%s",
					      lookup->log_reason);
			return USERDB_RESULT_INTERNAL_FAILURE;
		}
		auth_lookup_log_debug(lookup, PREFETCH_DRIVER,
			"%s, trying the next userdb", lookup->log_reason);
		return USERDB_RESULT_USER_UNKNOWN;
	}
	auth_fields_merge(lookup->extra_fields, src, "userdb_", true);
	auth_lookup_log_debug(lookup, PREFETCH_DRIVER, "success");
	return USERDB_RESULT_OK;
}

const struct userdb_driver userdb_driver_prefetch = {
	.name = "prefetch",
	.blocking = false,
	.create = prefetch_create,
	.init = prefetch_init,
	.lookup = prefetch_lookup,
};

/* userdb-static.c - userdb static: "args = uid=vmail gid=vmail
 * home=/var/vmail/%d/%n [allow_all_users=yes]": the same fields (% templates)
 * for every user. uid/gid names become numbers once, at startup. Without
 * allow_all_users a lookup that follows no authentication asks the passdbs
 * whether the user exists. */
#include "auth-db-private.h"

#define STATIC_DRIVER "static"

struct static_userdb_module {
	struct userdb_module module;
	struct auth_template *tmpl;
	bool allow_all_users;
};

/* uid=name and gid=name without variables: resolve now. */
static int static_resolve_ids(pool_t pool, struct auth_template *tmpl,
			      const char **error_r)
{
	for (unsigned int i = 0; i < auth_template_count(tmpl); i++) {
		const char *key, *value;

		auth_template_get_idx(tmpl, i, &key, &value);
		if (value == NULL || strchr(value, '%') != NULL)
			continue;
		if (strcmp(key, "uid") == 0) {
			uid_t uid;

			if (userdb_parse_uid(value, &uid) < 0) {
				*error_r = p_strdup_printf(pool,
					"Invalid uid: %s", value);
				return -1;
			}
			auth_template_set(tmpl, key, p_strdup_printf(pool,
					  "%lu", (unsigned long)uid));
		} else if (strcmp(key, "gid") == 0) {
			gid_t gid;

			if (userdb_parse_gid(value, &gid) < 0) {
				*error_r = p_strdup_printf(pool,
					"Invalid gid: %s", value);
				return -1;
			}
			auth_template_set(tmpl, key, p_strdup_printf(pool,
					  "%lu", (unsigned long)gid));
		}
	}
	return 0;
}

static int static_userdb_create(pool_t pool, const char *args,
				struct userdb_module **module_r,
				const char **error_r)
{
	struct static_userdb_module *module =
		p_new(pool, struct static_userdb_module, 1);
	const char *value;

	module->module.driver = &userdb_driver_static;
	module->module.args = p_strdup(pool, args);
	module->tmpl = auth_template_parse(pool, args);
	if (auth_template_remove(module->tmpl, "allow_all_users", &value)) {
		/* a bare "allow_all_users" means yes */
		if (*value == '\0')
			module->allow_all_users = true;
		else if (auth_args_parse_bool(value,
					      &module->allow_all_users) < 0) {
			*error_r = p_strdup_printf(pool,
				"Invalid allow_all_users value: %s", value);
			return -1;
		}
	}
	if (static_resolve_ids(pool, module->tmpl, error_r) < 0)
		return -1;
	*module_r = &module->module;
	return 0;
}

/* For a userdb-only lookup: does a passdb know the user? */
static enum userdb_result static_check_user(struct auth_lookup *lookup)
{
	int ret = lookup->user_exists == NULL ? -1 :
		lookup->user_exists(lookup, lookup->user_exists_context);

	if (ret > 0)
		return USERDB_RESULT_OK;
	if (ret == 0) {
		lookup->log_reason = "unknown user";
		return USERDB_RESULT_USER_UNKNOWN;
	}
	auth_lookup_log_error(lookup, STATIC_DRIVER,
		"passdb doesn't support lookups, "
		"can't verify user's existence");
	return USERDB_RESULT_INTERNAL_FAILURE;
}

static enum userdb_result static_userdb_lookup(struct userdb_module *_module,
					       struct auth_lookup *lookup)
{
	struct static_userdb_module *module =
		(struct static_userdb_module *)_module;
	enum userdb_result result;
	const char *error;

	if (lookup->userdb_only && !module->allow_all_users) {
		result = static_check_user(lookup);
		if (result != USERDB_RESULT_OK)
			return result;
	}
	if (auth_template_export(module->tmpl, lookup, lookup->extra_fields,
				 &error) < 0) {
		auth_lookup_log_error(lookup, STATIC_DRIVER,
				      "Failed to expand template: %s", error);
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	return USERDB_RESULT_OK;
}

const struct userdb_driver userdb_driver_static = {
	.name = "static",
	.blocking = false,
	.create = static_userdb_create,
	.lookup = static_userdb_lookup,
};

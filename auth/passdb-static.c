/* passdb-static.c - passdb static: "args = password=%n-secret proxy
 * host=10.0.0.1 ...": the same password (a % template, default scheme
 * PLAIN) and fields for every user; "nopassword" accepts any password. */
#include "auth-db-private.h"

#define STATIC_PASS_SCHEME "PLAIN"
#define STATIC_DRIVER "static"

struct static_passdb_module {
	struct passdb_module module;
	struct auth_template *tmpl;
	const char *password_tmpl;	/* NULL: no password= */
};

static int static_create(pool_t pool, const char *args,
			 struct passdb_module **module_r,
			 const char **error_r ATTR_UNUSED)
{
	struct static_passdb_module *module =
		p_new(pool, struct static_passdb_module, 1);
	const char *value;

	module->module.driver = &passdb_driver_static;
	module->module.args = p_strdup(pool, args);
	module->module.default_pass_scheme = STATIC_PASS_SCHEME;
	module->tmpl = auth_template_parse(pool, args);
	if (auth_template_remove(module->tmpl, "password", &value))
		module->password_tmpl = value;
	*module_r = &module->module;
	return 0;
}

/* Export the fields and find the password: OK with *password_r ("" for
 * nopassword), PASSWORD_MISMATCH when there is none, INTERNAL_FAILURE. */
static enum passdb_result
static_save_fields(struct static_passdb_module *module,
		   struct auth_lookup *lookup, const char **password_r)
{
	const char *error;

	*password_r = NULL;
	auth_lookup_log_debug(lookup, STATIC_DRIVER, "lookup");
	if (auth_template_export(module->tmpl, lookup, lookup->extra_fields,
				 &error) < 0) {
		auth_lookup_log_error(lookup, STATIC_DRIVER,
				      "Failed to expand template: %s", error);
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	if (module->password_tmpl != NULL) {
		if (auth_lookup_var_expand(lookup, module->password_tmpl,
					   password_r, &error) < 0) {
			auth_lookup_log_error(lookup, STATIC_DRIVER,
				"Failed to expand password=%s: %s",
				module->password_tmpl, error);
			return PASSDB_RESULT_INTERNAL_FAILURE;
		}
	} else if (auth_fields_exists(lookup->extra_fields, "nopassword")) {
		*password_r = "";
	} else {
		lookup->log_reason = "No password returned (and no nopassword)";
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	}
	return PASSDB_RESULT_OK;
}

static enum passdb_result static_verify_plain(struct passdb_module *_module,
					      struct auth_lookup *lookup,
					      const char *password)
{
	struct static_passdb_module *module =
		(struct static_passdb_module *)_module;
	enum passdb_result result;
	const char *stored;

	result = static_save_fields(module, lookup, &stored);
	if (result != PASSDB_RESULT_OK)
		return result;
	return passdb_verify_password(lookup, STATIC_DRIVER, password, stored,
				      STATIC_PASS_SCHEME);
}

static enum passdb_result
static_lookup_credentials(struct passdb_module *_module,
			  struct auth_lookup *lookup)
{
	struct static_passdb_module *module =
		(struct static_passdb_module *)_module;
	enum passdb_result result;
	const char *stored;

	result = static_save_fields(module, lookup, &stored);
	if (result != PASSDB_RESULT_OK)
		return result;
	passdb_set_credentials(lookup, STATIC_DRIVER, stored,
			       STATIC_PASS_SCHEME);
	return PASSDB_RESULT_OK;
}

const struct passdb_driver passdb_driver_static = {
	.name = "static",
	.blocking = false,
	.create = static_create,
	.verify_plain = static_verify_plain,
	.lookup_credentials = static_lookup_credentials,
};

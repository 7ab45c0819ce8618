/* passdb-checkpassword.c - passdb checkpassword: "args =
 * /usr/bin/checkpassword-script" run per login (see db-checkpassword.h).
 * The reply's fields become extra fields (userdb_* for prefetch); a
 * "password=" field answers credentials lookups. Blocking. */
#include "auth-db-private.h"
#include "db-checkpassword.h"
#include "password-scheme.h"

#define CHECKPASSWORD_DRIVER "checkpassword"

struct checkpassword_passdb_module {
	struct passdb_module module;
	const char *program;
};

static int checkpassword_create(pool_t pool, const char *args,
				struct passdb_module **module_r,
				const char **error_r)
{
	struct checkpassword_passdb_module *module;

	while (*args == ' ')
		args++;
	if (*args == '\0') {
		*error_r = "Missing args (checkpassword program path)";
		return -1;
	}
	module = p_new(pool, struct checkpassword_passdb_module, 1);
	module->module.driver = &passdb_driver_checkpassword;
	module->module.args = p_strdup(pool, args);
	module->module.blocking = true;
	module->module.default_pass_scheme = "PLAIN";
	module->program = module->module.args;
	*module_r = &module->module;
	return 0;
}

/* Set the reply's fields; returns the password= field's value or NULL. */
static const char *checkpassword_set_fields(struct auth_lookup *lookup,
					    const char *const *fields)
{
	const char *password = NULL;

	for (unsigned int i = 0; fields[i] != NULL; i++) {
		const char *eq = strchr(fields[i], '=');
		const char *key = eq == NULL ? fields[i] :
			p_strndup(lookup->pool, fields[i],
				  (size_t)(eq - fields[i]));

		if (*key == '\0')
			continue;
		if (strcmp(key, "password") == 0) {
			password = eq == NULL ? "" : eq + 1;
			continue;
		}
		auth_fields_set(lookup->extra_fields, key,
				eq == NULL ? NULL : eq + 1);
	}
	return password;
}

static enum passdb_result
checkpassword_verify_plain(struct passdb_module *_module,
			   struct auth_lookup *lookup, const char *password)
{
	struct checkpassword_passdb_module *module =
		(struct checkpassword_passdb_module *)_module;
	const char *const *fields;

	switch (db_checkpassword_call(module->program, lookup, password,
				      false, CHECKPASSWORD_DRIVER, &fields)) {
	case DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE:
		return PASSDB_RESULT_INTERNAL_FAILURE;
	case DB_CHECKPASSWORD_STATUS_FAILURE:
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	case DB_CHECKPASSWORD_STATUS_OK:
		break;
	}
	(void)checkpassword_set_fields(lookup, fields);
	return PASSDB_RESULT_OK;
}

static enum passdb_result
checkpassword_lookup_credentials(struct passdb_module *_module,
				 struct auth_lookup *lookup)
{
	struct checkpassword_passdb_module *module =
		(struct checkpassword_passdb_module *)_module;
	const char *const *fields;
	const char *password;

	switch (db_checkpassword_call(module->program, lookup, NULL, true,
				      CHECKPASSWORD_DRIVER, &fields)) {
	case DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE:
		return PASSDB_RESULT_INTERNAL_FAILURE;
	case DB_CHECKPASSWORD_STATUS_FAILURE:
		return PASSDB_RESULT_USER_UNKNOWN;
	case DB_CHECKPASSWORD_STATUS_OK:
		break;
	}
	password = checkpassword_set_fields(lookup, fields);
	if (password == NULL) {
		lookup->log_reason = "checkpassword program didn't return "
			"a password= field for the credentials lookup";
		return PASSDB_RESULT_SCHEME_NOT_AVAILABLE;
	}
	passdb_set_credentials(lookup, CHECKPASSWORD_DRIVER, password,
			       module->module.default_pass_scheme);
	return PASSDB_RESULT_OK;
}

const struct passdb_driver passdb_driver_checkpassword = {
	.name = "checkpassword",
	.blocking = true,
	.create = checkpassword_create,
	.verify_plain = checkpassword_verify_plain,
	.lookup_credentials = checkpassword_lookup_credentials,
};

/* userdb-checkpassword.c - userdb checkpassword: runs the program with
 * AUTHORIZED=1 and no password; a script that supports lookups execs
 * checkpassword-reply with AUTHORIZED=2 (exit 2 = found, 3 = unknown).
 * Reply fields become userdb fields, userdb_ prefix dropped. Blocking. */
#include "auth-db-private.h"
#include "db-checkpassword.h"

#define CHECKPASSWORD_DRIVER "checkpassword"

struct checkpassword_userdb_module {
	struct userdb_module module;
	const char *program;
};

static int checkpassword_userdb_create(pool_t pool, const char *args,
				       struct userdb_module **module_r,
				       const char **error_r)
{
	struct checkpassword_userdb_module *module;

	while (*args == ' ')
		args++;
	if (*args == '\0') {
		*error_r = "Missing args (checkpassword program path)";
		return -1;
	}
	module = p_new(pool, struct checkpassword_userdb_module, 1);
	module->module.driver = &userdb_driver_checkpassword;
	module->module.args = p_strdup(pool, args);
	module->module.blocking = true;
	module->program = module->module.args;
	*module_r = &module->module;
	return 0;
}

static enum userdb_result
checkpassword_userdb_lookup(struct userdb_module *_module,
			    struct auth_lookup *lookup)
{
	struct checkpassword_userdb_module *module =
		(struct checkpassword_userdb_module *)_module;
	const char *const *fields;

	switch (db_checkpassword_call(module->program, lookup, NULL, false,
				      CHECKPASSWORD_DRIVER, &fields)) {
	case DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE:
		return USERDB_RESULT_INTERNAL_FAILURE;
	case DB_CHECKPASSWORD_STATUS_FAILURE:
		return USERDB_RESULT_USER_UNKNOWN;
	case DB_CHECKPASSWORD_STATUS_OK:
		break;
	}
	for (unsigned int i = 0; fields[i] != NULL; i++) {
		const char *eq = strchr(fields[i], '=');
		const char *key = eq == NULL ? fields[i] :
			p_strndup(lookup->pool, fields[i],
				  (size_t)(eq - fields[i]));

		(void)str_begins(key, "userdb_", &key);
		if (*key == '\0')
			continue;
		auth_fields_set(lookup->extra_fields, key,
				eq == NULL ? NULL : eq + 1);
	}
	return USERDB_RESULT_OK;
}

const struct userdb_driver userdb_driver_checkpassword = {
	.name = "checkpassword",
	.blocking = true,
	.create = checkpassword_userdb_create,
	.lookup = checkpassword_userdb_lookup,
};

/* passdb-passwd-file.c - passdb passwd-file: "args = [scheme=S]
 * [username_format=F] /path/%d/users". The stored password defaults to
 * scheme CRYPT; every extra field (userdb_* ones too, for prefetch) is
 * returned after % expansion. */
#include "auth-db-private.h"
#include "db-passwd-file.h"

#define PASSWD_FILE_DEFAULT_SCHEME "CRYPT"

struct passwd_file_passdb_module {
	struct passdb_module module;
	struct db_passwd_file *pwf;
	const char *username_format;
};

static int passwd_file_create(pool_t pool, const char *args,
			      struct passdb_module **module_r,
			      const char **error_r)
{
	struct passwd_file_passdb_module *module;
	const char *scheme = PASSWD_FILE_DEFAULT_SCHEME;
	const char *format = PASSWD_FILE_DEFAULT_USERNAME_FORMAT;
	const char *path;

	if (db_passwd_file_parse_args(pool, args, &scheme, &format,
				      &path, error_r) < 0)
		return -1;
	module = p_new(pool, struct passwd_file_passdb_module, 1);
	module->module.driver = &passdb_driver_passwd_file;
	module->module.args = p_strdup(pool, args);
	module->module.default_pass_scheme = scheme;
	/* no cache_key: Dovecot 2.3 never caches passwd-file lookups (the
	   file is in memory and reread when it changes) */
	module->username_format = format;
	module->pwf = db_passwd_file_init(path, false);
	*module_r = &module->module;
	return 0;
}

static void passwd_file_init(struct passdb_module *_module,
			     const struct auth_db_settings *set)
{
	struct passwd_file_passdb_module *module =
		(struct passwd_file_passdb_module *)_module;

	db_passwd_file_parse(module->pwf, set);
}

static void passwd_file_deinit(struct passdb_module *_module)
{
	struct passwd_file_passdb_module *module =
		(struct passwd_file_passdb_module *)_module;

	db_passwd_file_unref(&module->pwf);
}

/* Find the user and return its fields. */
static enum passdb_result
passwd_file_find(struct passwd_file_passdb_module *module,
		 struct auth_lookup *lookup, struct passwd_user **pu_r)
{
	int ret;

	ret = db_passwd_file_lookup(module->pwf, lookup,
				    module->username_format, pu_r);
	if (ret <= 0) {
		return ret < 0 ? PASSDB_RESULT_INTERNAL_FAILURE :
			PASSDB_RESULT_USER_UNKNOWN;
	}
	if (db_passwd_file_export_fields(*pu_r, lookup, lookup->extra_fields,
					 NULL) < 0)
		return PASSDB_RESULT_INTERNAL_FAILURE;
	return PASSDB_RESULT_OK;
}

static enum passdb_result
passwd_file_verify_plain(struct passdb_module *_module,
			 struct auth_lookup *lookup, const char *password)
{
	struct passwd_file_passdb_module *module =
		(struct passwd_file_passdb_module *)_module;
	struct passwd_user *pu;
	enum passdb_result result;

	result = passwd_file_find(module, lookup, &pu);
	if (result != PASSDB_RESULT_OK)
		return result;
	return passdb_verify_password(lookup, "passwd-file", password,
				      pu->password,
				      module->module.default_pass_scheme);
}

static enum passdb_result
passwd_file_lookup_credentials(struct passdb_module *_module,
			       struct auth_lookup *lookup)
{
	struct passwd_file_passdb_module *module =
		(struct passwd_file_passdb_module *)_module;
	struct passwd_user *pu;
	enum passdb_result result;

	result = passwd_file_find(module, lookup, &pu);
	if (result != PASSDB_RESULT_OK)
		return result;
	passdb_set_credentials(lookup, "passwd-file", pu->password,
			       module->module.default_pass_scheme);
	return PASSDB_RESULT_OK;
}

const struct passdb_driver passdb_driver_passwd_file = {
	.name = "passwd-file",
	.blocking = false,
	.create = passwd_file_create,
	.init = passwd_file_init,
	.deinit = passwd_file_deinit,
	.verify_plain = passwd_file_verify_plain,
	.lookup_credentials = passwd_file_lookup_credentials,
};

/* userdb-passwd-file.c - userdb passwd-file: "args = [username_format=F]
 * /path/%d/users". Returns uid, gid and home of the user's line and its
 * userdb_* extra fields without the prefix (% expanded). Iterates users
 * of a path without variables. */
#include "auth-db-private.h"
#include "db-passwd-file.h"

struct passwd_file_userdb_module {
	struct userdb_module module;
	struct db_passwd_file *pwf;
	const char *username_format;
};

static int passwd_file_userdb_create(pool_t pool, const char *args,
				     struct userdb_module **module_r,
				     const char **error_r)
{
	struct passwd_file_userdb_module *module;
	const char *format = PASSWD_FILE_DEFAULT_USERNAME_FORMAT, *path;

	if (db_passwd_file_parse_args(pool, args, NULL, &format, &path,
				      error_r) < 0)
		return -1;
	module = p_new(pool, struct passwd_file_userdb_module, 1);
	module->module.driver = &userdb_driver_passwd_file;
	module->module.args = p_strdup(pool, args);
	module->username_format = format;
	module->pwf = db_passwd_file_init(path, true);
	*module_r = &module->module;
	return 0;
}

static void passwd_file_userdb_init(struct userdb_module *_module,
				    const struct auth_db_settings *set)
{
	struct passwd_file_userdb_module *module =
		(struct passwd_file_userdb_module *)_module;

	db_passwd_file_parse(module->pwf, set);
}

static void passwd_file_userdb_deinit(struct userdb_module *_module)
{
	struct passwd_file_userdb_module *module =
		(struct passwd_file_userdb_module *)_module;

	db_passwd_file_unref(&module->pwf);
}

static enum userdb_result
passwd_file_userdb_lookup(struct userdb_module *_module,
			  struct auth_lookup *lookup)
{
	struct passwd_file_userdb_module *module =
		(struct passwd_file_userdb_module *)_module;
	struct passwd_user *pu;
	int ret;

	ret = db_passwd_file_lookup(module->pwf, lookup,
				    module->username_format, &pu);
	if (ret < 0)
		return USERDB_RESULT_INTERNAL_FAILURE;
	if (ret == 0 || pu->uid == 0) {
		/* uid 0: a passdb-only line (no uid/gid columns) */
		return USERDB_RESULT_USER_UNKNOWN;
	}
	if (pu->uid != (uid_t)-1) {
		auth_fields_set(lookup->extra_fields, "uid",
			p_strdup_printf(lookup->pool, "%lu",
					(unsigned long)pu->uid));
	}
	if (pu->gid != (gid_t)-1) {
		auth_fields_set(lookup->extra_fields, "gid",
			p_strdup_printf(lookup->pool, "%lu",
					(unsigned long)pu->gid));
	}
	if (pu->home != NULL)
		auth_fields_set(lookup->extra_fields, "home", pu->home);
	if (db_passwd_file_export_fields(pu, lookup, lookup->extra_fields,
					 "userdb_") < 0)
		return USERDB_RESULT_INTERNAL_FAILURE;
	return USERDB_RESULT_OK;
}

static int passwd_file_userdb_iterate(struct userdb_module *_module,
				      void (*callback)(const char *user,
						       void *context),
				      void *context)
{
	struct passwd_file_userdb_module *module =
		(struct passwd_file_userdb_module *)_module;

	return db_passwd_file_iterate(module->pwf, callback, context);
}

const struct userdb_driver userdb_driver_passwd_file = {
	.name = "passwd-file",
	.blocking = false,
	.create = passwd_file_userdb_create,
	.init = passwd_file_userdb_init,
	.deinit = passwd_file_userdb_deinit,
	.lookup = passwd_file_userdb_lookup,
	.iterate = passwd_file_userdb_iterate,
};

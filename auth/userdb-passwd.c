/* userdb-passwd.c - userdb passwd: getpwnam() gives uid, gid, home and
 * system_groups_user; args are extra fields (a template, as Dovecot 2.3
 * still accepts them with a warning). Iterates with getpwent() over the
 * first_valid_uid..last_valid_uid range. Blocking. */
#include "auth-db-private.h"

#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#define PASSWD_DRIVER "passwd"
#define USERDB_PASSWD_CACHE_KEY "%u"

struct passwd_userdb_module {
	struct userdb_module module;
	struct auth_template *tmpl;
	struct auth_db_settings set;
};

static int passwd_userdb_create(pool_t pool, const char *args,
				struct userdb_module **module_r,
				const char **error_r)
{
	struct passwd_userdb_module *module =
		p_new(pool, struct passwd_userdb_module, 1);
	const char *value;

	module->module.driver = &userdb_driver_passwd;
	module->module.args = p_strdup(pool, args);
	module->module.blocking = true;
	module->module.cache_key = USERDB_PASSWD_CACHE_KEY;
	module->set = auth_db_default_settings;
	module->tmpl = auth_template_parse(pool, args);
	if (auth_template_remove(module->tmpl, "blocking", &value)) {
		bool blocking;

		if (auth_args_parse_bool(value, &blocking) < 0) {
			*error_r = p_strdup_printf(pool,
				"Invalid blocking value: %s", value);
			return -1;
		}
		module->module.blocking = blocking;
	}
	if (!auth_template_is_empty(module->tmpl)) {
		i_warning("userdb passwd: Move templates args to "
			  "override_fields setting");
	}
	*module_r = &module->module;
	return 0;
}

static void passwd_userdb_init(struct userdb_module *_module,
			       const struct auth_db_settings *set)
{
	struct passwd_userdb_module *module =
		(struct passwd_userdb_module *)_module;

	module->set = *set;
}

static enum userdb_result passwd_userdb_lookup(struct userdb_module *_module,
					       struct auth_lookup *lookup)
{
	struct passwd_userdb_module *module =
		(struct passwd_userdb_module *)_module;
	struct passwd pw, *result = NULL;
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = max <= 0 ? 16384 : (size_t)max;
	const char *error;
	char *buf;
	int err;

	auth_lookup_log_debug(lookup, PASSWD_DRIVER, "lookup");
	for (;;) {
		buf = i_malloc(size);
		err = getpwnam_r(lookup->user == NULL ? "" : lookup->user,
				 &pw, buf, size, &result);
		if (err != ERANGE || size >= 1024 * 1024)
			break;
		free(buf);
		size *= 2;
	}
	if (err != 0 && err != ENOENT && err != ESRCH) {
		errno = err;
		auth_lookup_log_error(lookup, PASSWD_DRIVER,
				      "getpwnam() failed: %m");
		free(buf);
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	if (result == NULL) {
		lookup->log_reason = "unknown user";
		free(buf);
		return USERDB_RESULT_USER_UNKNOWN;
	}
	auth_fields_set(lookup->extra_fields, "system_groups_user",
			pw.pw_name);
	auth_fields_set(lookup->extra_fields, "uid",
			p_strdup_printf(lookup->pool, "%lu",
					(unsigned long)pw.pw_uid));
	auth_fields_set(lookup->extra_fields, "gid",
			p_strdup_printf(lookup->pool, "%lu",
					(unsigned long)pw.pw_gid));
	auth_fields_set(lookup->extra_fields, "home", pw.pw_dir);
	explicit_bzero(buf, size);
	free(buf);
	if (auth_template_export(module->tmpl, lookup, lookup->extra_fields,
				 &error) < 0) {
		auth_lookup_log_error(lookup, PASSWD_DRIVER,
				      "Failed to expand template: %s", error);
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	return USERDB_RESULT_OK;
}

static int passwd_userdb_iterate(struct userdb_module *_module,
				 void (*callback)(const char *user,
						  void *context),
				 void *context)
{
	struct passwd_userdb_module *module =
		(struct passwd_userdb_module *)_module;
	const struct auth_db_settings *set = &module->set;
	struct passwd *pw;

	setpwent();
	for (;;) {
		errno = 0;
		pw = getpwent();
		if (pw == NULL)
			break;
		/* below first_valid_uid are daemons and such */
		if (pw->pw_uid < (uid_t)set->first_valid_uid)
			continue;
		if (set->last_valid_uid != 0 &&
		    pw->pw_uid > (uid_t)set->last_valid_uid)
			continue;
		callback(pw->pw_name, context);
	}
	if (errno != 0 && errno != ENOENT && errno != ESRCH) {
		i_error("getpwent() failed: %m");
		endpwent();
		return -1;
	}
	endpwent();
	return 0;
}

const struct userdb_driver userdb_driver_passwd = {
	.name = "passwd",
	.blocking = true,
	.create = passwd_userdb_create,
	.init = passwd_userdb_init,
	.lookup = passwd_userdb_lookup,
	.iterate = passwd_userdb_iterate,
};

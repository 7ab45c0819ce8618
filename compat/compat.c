/* compat.c - config discovery and loading shared by every front end. */
#include "lib.h"
#include "compat.h"
#include "config-check.h"
#include "config-yaml.h"
#include "config-bind.h"
#include "log.h"
#include "dialect.h"
#include "mail-storage.h"
#include "quota.h"
#include "zeroconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *roost_default_config_path(void)
{
	static char buf[4096];
	const char *etc = getenv("ROOST_CONFIG_DIR");

	if (etc == NULL)
		etc = SYSCONFDIR;
	snprintf(buf, sizeof(buf), "%s/dovecot/dovecot.conf", etc);
	if (access(buf, F_OK) == 0)
		return buf;
	snprintf(buf, sizeof(buf), "%s/dovecot.conf", etc);
	if (access(buf, F_OK) == 0)
		return buf;
	return ROOST_BUILTIN_CONFIG;
}

static bool path_is_yaml(const char *path)
{
	return str_ends(path, ".yaml") || str_ends(path, ".yml");
}

/* Dovecot 1.x and 2.4 files are translated into 2.3 text first
 * (dialect.h); a 2.3 file is read as it is. */
static int load_any_dialect(const char *path, enum config_parse_flags flags,
			    struct config **config_r, const char **error_r)
{
	pool_t pool = pool_create("config dialect", 16 * 1024);
	struct dialect_detection det;
	const char *text, *error;
	int ret;

	*config_r = NULL;
	if (dialect_detect(pool, path, &det, &error) < 0 ||
	    det.dialect == CONFIG_DIALECT_23) {
		/* the 2.3 parser gives its own (Dovecot's) error texts */
		pool_destroy(&pool);
		return config_parse_file(path, flags, config_r, error_r);
	}
	if (dialect_translate(pool, path, det.dialect, &text, &error) < 0) {
		*error_r = roost_error_keep(error);
		pool_destroy(&pool);
		return -1;
	}
	flags |= CONFIG_PARSE_LINE_MARKERS;
	if (det.dialect == CONFIG_DIALECT_24)
		flags |= CONFIG_PARSE_NO_OBSOLETE;
	if (getenv("ROOST_DIALECT_DEBUG") != NULL)
		fputs(text, stderr);
	ret = config_parse_string(path, text, flags, config_r, error_r);
	pool_destroy(&pool);
	return ret;
}

const char *roost_error_keep(const char *msg)
{
	static char *kept;
	char *old = kept;

	kept = i_strdup(msg);
	free(old);
	return kept;
}

int roost_config_load(const char *path, enum config_parse_flags flags,
		      struct config **config_r, const char **error_r)
{
	int ret;

	/* the trash file of a 2.4 config's trash_priority settings */
	quota_trash_file_hook = dialect_dbfile_text;
	if (strcmp(path, ROOST_BUILTIN_CONFIG) == 0 &&
	    (flags & CONFIG_PARSE_DEFAULTS_ONLY) == 0) {
		/* no config file: the zero-config set-up (zeroconf.h), whose
		   empty mail_location falls back to Debian's mbox layout */
		mail_user_set_autodetect_mbox_fallback(true);
		ret = config_parse_string(ROOST_BUILTIN_CONFIG,
					  zeroconf_config_text(), flags,
					  config_r, error_r);
	} else if (path_is_yaml(path) &&
		   (flags & CONFIG_PARSE_DEFAULTS_ONLY) == 0) {
		/* the master's snapshot of a zero-config set-up (its children
		   inherit $ROOST_ZEROCONF_MTA): the same fallback */
		if (getenv("ROOST_ZEROCONF_MTA") != NULL)
			mail_user_set_autodetect_mbox_fallback(true);
		ret = config_yaml_load(path, flags, config_r, error_r);
	} else if ((flags & CONFIG_PARSE_DEFAULTS_ONLY) != 0)
		ret = config_parse_file(path, flags, config_r, error_r);
	else
		ret = load_any_dialect(path, flags, config_r, error_r);
	if (ret < 0)
		return -1;
	return config_check(*config_r, error_r);
}

int roost_log_open(const struct settings_root *set, const char **error_r)
{
	const struct log_paths paths = {
		.log_path = set->log_path,
		.info_log_path = set->info_log_path,
		.debug_log_path = set->debug_log_path,
		.log_timestamp = set->log_timestamp,
		.syslog_ident = set->instance_name,
		.syslog_facility = set->syslog_facility,
	};

	return log_open_paths(&paths, error_r);
}

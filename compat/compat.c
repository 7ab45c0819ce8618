/* compat.c - config discovery and loading shared by every front end. */
#include "lib.h"
#include "compat.h"
#include "config-check.h"
#include "config-yaml.h"
#include "config-bind.h"
#include "log.h"

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

int roost_config_load(const char *path, enum config_parse_flags flags,
		      struct config **config_r, const char **error_r)
{
	int ret;

	if (strcmp(path, ROOST_BUILTIN_CONFIG) == 0)
		flags |= CONFIG_PARSE_DEFAULTS_ONLY;
	/* doveconf -n --yaml output reads back like a dovecot.conf */
	if (path_is_yaml(path) && (flags & CONFIG_PARSE_DEFAULTS_ONLY) == 0)
		ret = config_yaml_load(path, flags, config_r, error_r);
	else
		ret = config_parse_file(path, flags, config_r, error_r);
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

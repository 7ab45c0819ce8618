/* compat.c - config discovery and loading shared by every front end. */
#include "lib.h"
#include "compat.h"
#include "config-check.h"
#include "config-yaml.h"
#include "mail-storage.h"
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

int roost_config_load(const char *path, enum config_parse_flags flags,
		      struct config **config_r, const char **error_r)
{
	int ret;

	if (strcmp(path, ROOST_BUILTIN_CONFIG) == 0 &&
	    (flags & CONFIG_PARSE_DEFAULTS_ONLY) == 0) {
		/* no config file: the zero-config set-up (zeroconf.h), whose
		   empty mail_location falls back to Debian's mbox layout */
		mail_user_set_autodetect_mbox_fallback(true);
		ret = config_parse_string(ROOST_BUILTIN_CONFIG,
					  zeroconf_config_text(), flags,
					  config_r, error_r);
	} else if (path_is_yaml(path) &&
		   (flags & CONFIG_PARSE_DEFAULTS_ONLY) == 0)
		ret = config_yaml_load(path, flags, config_r, error_r);
	else
		ret = config_parse_file(path, flags, config_r, error_r);
	if (ret < 0)
		return -1;
	return config_check(*config_r, error_r);
}

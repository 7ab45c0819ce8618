/* config-yaml.h - the effective settings as YAML (doveconf -n --yaml),
 * written and read back with libyaml. */
#ifndef ROOST_CONFIG_YAML_H
#define ROOST_CONFIG_YAML_H

#include <stdio.h>
#include "config-parser.h"

/* Write the non-default settings of every filter block as YAML. */
int config_yaml_dump(struct config *config, FILE *out, const char **error_r);
/* Read such YAML back into a config (as if it were a dovecot.conf). */
int config_yaml_load(const char *path, struct config **config_r,
		     const char **error_r);

#endif

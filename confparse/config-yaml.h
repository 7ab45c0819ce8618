/* config-yaml.h - the effective settings as YAML (doveconf [-n] --yaml),
 * written and read back with libyaml. The document layout is described
 * at the top of config-yaml.c. */
#ifndef ROOST_CONFIG_YAML_H
#define ROOST_CONFIG_YAML_H

#include <stdio.h>
#include "config-parser.h"
#include "config-export.h"

/* Write the global block's settings in scope (doveconf -n: CHANGED,
 * --yaml alone: ALL) and the settings every filter block sets. Nothing
 * is written on failure. */
int config_yaml_dump(struct config *config, enum config_dump_scope scope,
		     FILE *out, const char **error_r);
/* Read such YAML back into a config, as if it were a dovecot.conf. On
 * failure returns -1 with "YAML error in PATH line N: ..." (or the
 * parser's message, its line number being the YAML line); *config_r is
 * then NULL. Files over 16 MB are refused. */
int config_yaml_load(const char *path, enum config_parse_flags flags,
		     struct config **config_r, const char **error_r);
/* The same for YAML held in memory; name is used in messages. */
int config_yaml_load_string(const char *name, const char *text, size_t size,
			    enum config_parse_flags flags,
			    struct config **config_r, const char **error_r);

#endif

/* config-check.h - the checks Dovecot runs after a config is read
 * (cross-setting rules, keyword lists, existing users), with its texts. */
#ifndef ROOST_CONFIG_CHECK_H
#define ROOST_CONFIG_CHECK_H

#include "config-parser.h"

/* Check every block's settings as seen by a connection with no filter.
 * Returns -1 with "Error in configuration file F: <first problem>". */
int config_check(struct config *config, const char **error_r);
/* Check one merged tree; print each problem with i_error(). Returns -1
 * if there was any. */
int config_check_print(const struct config_node *root);
/* Collect the problems of a merged tree: returns their count and the
 * first one in *first_r. Each is passed to callback when non-NULL. */
unsigned int config_check_node(const struct config_node *root,
			       void (*callback)(const char *msg, void *ctx),
			       void *context, const char **first_r);

#endif

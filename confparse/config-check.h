/* config-check.h - the checks Dovecot runs after a config is read
 * (cross-setting rules, keyword lists, existing users), with its texts. */
#ifndef ROOST_CONFIG_CHECK_H
#define ROOST_CONFIG_CHECK_H

#include "config-parser.h"

/* Check every block as a connection matching its filter sees it (the
 * global block first), stopping at the first problem; warns about
 * ssl=no overriding a block's ssl. Returns -1 with "Error in
 * configuration file F: <problem>" (which may also be a filter
 * conflict). */
int config_check(struct config *config, const char **error_r);
/* Check one merged tree; print each module's first problem with
 * i_error(), as doveconf does while dumping. Returns -1 if there was
 * any. */
int config_check_print(const struct config_node *root);
/* The problems of a merged tree, one per module (Dovecot checks module
 * by module and stops a module at its first problem): returns their
 * count and the first one in *first_r. Each is passed to callback when
 * non-NULL. */
unsigned int config_check_node(const struct config_node *root,
			       void (*callback)(const char *msg, void *ctx),
			       void *context, const char **first_r);
/* The first problem of a merged tree, or NULL. *end_key_r is the last
 * top-level setting doveconf -S prints before stopping at it (NULL: it
 * prints everything). */
const char *config_check_first(const struct config_node *root,
			       const char **end_key_r);

/* Run only the check modules whose bits are set (doveconf -m; bit i is
 * the i-th module in doveconf's order, as settings-modules.h records). */
void config_check_set_modules(unsigned int mask);

#endif

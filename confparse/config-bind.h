/* config-bind.h - turn a parsed settings tree into the typed structs of
 * settings-structs.h (generated from settings.tsv), which the daemons,
 * auth and mailstore read directly: set->mail_location,
 * set->service[i]->inet_listener[j]->port, sizes in bytes, times in
 * seconds (msecs settings in milliseconds), booleans as bool. */
#ifndef ROOST_CONFIG_BIND_H
#define ROOST_CONFIG_BIND_H

#include "pool.h"
#include "config-parser.h"
#include "settings-structs.h"

/* Bind root (a merged tree) into structs allocated from pool. A value
 * that is exactly "$name" of a top-level setting (service user =
 * $default_internal_user) is replaced by that setting's value. Returns
 * NULL with an error only if a stored value no longer parses, which means
 * a bug in the parser. */
struct settings_root *config_bind(pool_t pool, const struct config_node *root,
				  const char **error_r);
/* The settings a connection matching filter sees (global + filters). */
struct settings_root *config_bind_filter(pool_t pool, struct config *config,
					 const struct config_filter *filter,
					 const char **error_r);

#endif

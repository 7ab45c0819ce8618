/* mail-plugins.h - the mail_plugins setting as Dovecot 2.3 loads it:
 * names split on spaces and commas, a "libNN_" prefix and ".so" suffix
 * dropped; an unknown name is fatal, a plugin that needs another one
 * missing from the list is fatal, and a Dovecot plugin Roost does not
 * implement is reported so the caller can warn about it. */
#ifndef ROOST_MAIL_PLUGINS_H
#define ROOST_MAIL_PLUGINS_H

#include "lib.h"
#include "pool.h"

/* Check mail_plugins. Returns -1 with Dovecot's fatal text in *error_r
 * ("Plugin 'x' not found from directory DIR", "Couldn't load required
 * plugin DIR/libNN_x_plugin.so: Plugin y must be loaded also (you must
 * set: mail_plugins=$mail_plugins y)"). Else 0 and *missing_r is the
 * space-separated list of Dovecot plugins named that Roost lacks ("" if
 * none). Strings come from pool. */
int mail_plugins_check(pool_t pool, const char *mail_plugins,
		       const char *plugin_dir, const char **missing_r,
		       const char **error_r);
/* Is error one of mail_plugins_check()'s (a load failure that is fatal
 * for the process in Dovecot, exit 89)? */
bool mail_plugins_error_is_load(const char *error);
/* Is plugin name (e.g. "quota") in mail_plugins (normalized)? */
bool mail_plugins_has(const char *mail_plugins, const char *name);

#endif

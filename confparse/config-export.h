/* config-export.h - flatten a settings tree into doveconf's "key=value"
 * strings (the form of doveconf -S, and the input of the -n/-a printer). */
#ifndef ROOST_CONFIG_EXPORT_H
#define ROOST_CONFIG_EXPORT_H

#include "config-tree.h"

enum config_dump_scope {
	CONFIG_DUMP_SCOPE_ALL,		/* doveconf -a */
	CONFIG_DUMP_SCOPE_SET,		/* doveconf -N: explicitly set */
	CONFIG_DUMP_SCOPE_CHANGED,	/* doveconf -n: differs from default */
};

enum config_key_type {
	CONFIG_KEY_NORMAL,
	CONFIG_KEY_LIST,	/* "service=imap pop3", "plugin=" */
	CONFIG_KEY_UNIQUE_KEY,	/* the setting that names its section */
};

typedef void config_export_callback(const char *key, const char *value,
				    enum config_key_type type, void *context);

/* hide_list_defaults: inside services, listeners, namespaces... a value
 * the config did not set counts as that block's default (the -n view). */
void config_export(pool_t pool, const struct config_node *root,
		   enum config_dump_scope scope, bool hide_list_defaults,
		   config_export_callback *callback, void *context);

/* doveconf -s: also print hidden settings that keep their default. */
void config_export_set_show_hidden(bool show);

#endif

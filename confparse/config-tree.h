/* config-tree.h - a parsed settings tree: one node per settings block
 * (the top level, each service, listener, namespace, passdb ...), every
 * value kept in doveconf's printed form with a flag telling whether the
 * config set it explicitly. */
#ifndef ROOST_CONFIG_TREE_H
#define ROOST_CONFIG_TREE_H

#include "lib.h"
#include "pool.h"
#include "settings-schema.h"

struct config_node;

struct config_slot {
	const char *value;	/* NULL for SET_DEFLIST and SET_STRLIST */
	bool changed;		/* set by the config, not a default */
	bool present;		/* SET_STRLIST: the section appeared */
	/* where the config first set it ("file line N") and the parser's
	   running count of assignments then: for Dovecot's "Global setting
	   X won't change the setting inside an earlier filter at ..." */
	const char *first_set_at;
	unsigned int first_set_seq;
	/* SET_DEFLIST: child blocks in order */
	struct config_node **children;
	unsigned int child_count, child_cap;
	/* SET_STRLIST: key, value, key, value ... */
	const char **pairs;
	unsigned int pair_count, pair_cap;
};

struct config_node {
	enum setting_info_id info_id;
	const struct setting_info *info;
	struct config_slot *slots;	/* [info->count] */
};

/* A node of info_id with every value at its schema default. */
struct config_node *config_node_new(pool_t pool, enum setting_info_id info_id);
/* The top level with the built-in services and listeners. */
struct config_node *config_node_new_root(pool_t pool);
struct config_node *config_node_dup(pool_t pool, const struct config_node *node);
/* Mark every value of node and its children as not set by the config. */
void config_node_clear_changes(struct config_node *node);

/* The name of a list element as it appears in paths: the escaped value of
 * its key setting, or its index when it has none. Allocated from pool. */
const char *config_node_list_id(pool_t pool, const struct config_node *child,
				unsigned int idx);
/* Find a child of list slot idx by its key value (unescaped). */
struct config_node *config_node_find_child(const struct config_node *node,
					   unsigned int slot_idx,
					   const char *name);
struct config_node *config_node_add_child(pool_t pool, struct config_node *node,
					  unsigned int slot_idx);
/* Set a free-form key of a SET_STRLIST slot (replacing an earlier one). */
void config_node_strlist_set(pool_t pool, struct config_slot *slot,
			     const char *key, const char *value);
const char *config_node_strlist_get(const struct config_slot *slot,
				    const char *key);

/* Resolve "service/imap/process_limit"-style paths (escaped ids). Returns
 * the node and slot index of the last component, or false. */
bool config_node_lookup(struct config_node *root, const char *path,
			struct config_node **node_r, unsigned int *idx_r);
/* The block named by "service/imap" or "namespace/inbox/mailbox/Sent". */
struct config_node *config_node_lookup_node(struct config_node *root,
					    const char *path);
/* Value of a simple path, or NULL. */
const char *config_node_get(struct config_node *root, const char *path);

/* Dovecot's escaping of section names inside paths:
 * '=' \e, '/' \s, '\' \\, ' ' \_, ',' \+ */
const char *settings_section_escape(pool_t pool, const char *name);
const char *settings_section_unescape(pool_t pool, const char *name);

#endif

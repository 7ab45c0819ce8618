/* dialect-private.h - the line tree shared by the dialect reader
 * (dialect.c), the 1.x translation (dialect.c) and the 2.4 one
 * (dialect-24.c). */
#ifndef ROOST_DIALECT_PRIVATE_H
#define ROOST_DIALECT_PRIVATE_H

#include "dialect.h"

/* One line of a config: a setting, or a section with its children. */
struct dnode {
	struct dnode *parent, *next, *children;
	bool section;
	bool removed;
	const char *key;	/* setting name or section type */
	const char *name;	/* section name (unquoted), NULL for none */
	/* settings: the value as written after '=' (quotes, '<' kept),
	   or NULL when val/is_file replace it */
	const char *raw;
	const char *val;	/* unquoted value (raw == NULL: to write) */
	bool is_file;		/* '<file' */
	bool expand;
	bool done;
	bool garbage;		/* text after '{' (ignored by 1.x) */		/* written by a translation: not re-read */		/* val holds $name references: no quotes */
	const char *file;
	unsigned int line;
};

struct dtree {
	pool_t pool;
	struct dnode *root;
	enum config_dialect dialect;
	const char *error;
};

/* Parse a whole file (and its includes) or a string into a tree. */
int dtree_read_file(struct dtree *tree, const char *path);
int dtree_read_string(struct dtree *tree, const char *name, const char *text);

struct dnode *dnode_new_setting(pool_t pool, const struct dnode *at,
				const char *key, const char *value,
				bool is_file);
struct dnode *dnode_new_section(pool_t pool, const struct dnode *at,
				const char *key, const char *name);
void dnode_append(struct dnode *parent, struct dnode *child);
void dnode_insert_after(struct dnode *after, struct dnode *node);
/* The value of a setting without quotes. */
const char *dnode_value(pool_t pool, const struct dnode *node);
void dnode_set_value(struct dnode *node, const char *value);
/* The first child setting/section named key that is not removed. */
struct dnode *dnode_child(const struct dnode *node, const char *key);

/* Write the tree as 2.3 text with "#@line" markers, or (markers=false)
 * as plain text with indentation. */
void dtree_write(const struct dtree *tree, string_t *out, bool markers);

void dialect_error(struct dtree *tree, const struct dnode *at,
		   const char *fmt, ...) ATTR_FORMAT(3, 4);
void dialect_warning(const struct dnode *at, const char *fmt, ...)
	ATTR_FORMAT(2, 3);

/* The 2.3 root setting's schema type, or -1 if there is none. */
int dialect_root_type(const char *key);

int dialect_translate_24(struct dtree *tree);

#endif

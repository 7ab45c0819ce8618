/* config-parser-private.h - the reader's state, shared by config-parser.c
 * and the 2.x compatibility rewrites of config-obsolete.c. */
#ifndef ROOST_CONFIG_PARSER_PRIVATE_H
#define ROOST_CONFIG_PARSER_PRIVATE_H

#include "config-parser.h"
#include "str.h"

enum section_type {
	SECTION_ROOT,
	SECTION_FILTER,
	SECTION_LIST,	 /* a block of a SET_DEFLIST: service, namespace... */
	SECTION_STRLIST, /* plugin {}, dict {} */
};

struct section {
	struct section *prev;
	enum section_type type;
	struct config_block *block;
	/* SECTION_ROOT/FILTER/LIST; NULL for a filter opened inside a
	   section its block does not have (every setting is unknown) */
	struct config_node *node;
	struct config_slot *strlist;	/* SECTION_STRLIST */
	const char *key_prefix;		/* "service { inet_listener { " */
	/* where node is in its block: "" or "service/imap/unix_listener/x";
	   NULL inside a plugin {} or dict {} */
	const char *path;
	const char *open_file;
	unsigned int open_line;
	unsigned int depth;
};

struct input {
	struct input *prev;
	const char *path;	/* as shown in messages */
	const char *text;	/* whole contents */
	size_t size, pos;
	unsigned int linenum;
};

struct config_obsolete;

struct parse_ctx {
	struct config *config;
	pool_t pool;
	enum config_parse_flags flags;
	struct input *input;
	struct section *section;
	string_t *full_line;
	unsigned int include_depth;
	/* bytes read from all files so far, against CONFIG_MAX_TOTAL_SIZE */
	size_t total_size;
	/* counts assignments, to find the earliest of several filters */
	unsigned int set_seq;
	struct config_obsolete *obsolete;
	const char *error;
};

enum line_type {
	LINE_SKIP,
	LINE_CONTINUE,
	LINE_ERROR,
	LINE_KEYVALUE,
	LINE_KEYFILE,
	LINE_KEYVARIABLE,
	LINE_SECTION_BEGIN,
	LINE_SECTION_END,
	LINE_INCLUDE,
	LINE_INCLUDE_TRY,
};

struct line {
	enum line_type type;
	const char *key;
	const char *value;
};

void config_parser_error(struct parse_ctx *ctx, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* Is the current section the top level of its block (the global block
   or directly inside a filter)? Only there are 2.x settings rewritten
   and global settings compared with filters. */
static inline bool config_parser_at_top(const struct parse_ctx *ctx)
{
	return ctx->section->node != NULL &&
		ctx->section->node == ctx->section->block->root &&
		ctx->section->type != SECTION_STRLIST;
}
/* Apply key = value (LINE_KEYVALUE, LINE_KEYFILE or LINE_KEYVARIABLE) in
 * the current section, as a line of the file would. */
int config_parser_apply(struct parse_ctx *ctx, enum line_type type,
			const char *key, const char *value);
/* Set "service/imap-login/inet_listener/imap/port"-style paths, or
 * "plugin/KEY", in block. Returns -1 (with ctx->error) if the path does
 * not exist or the value is invalid. */
int config_parser_apply_path(struct parse_ctx *ctx, struct config_block *block,
			     const char *path, const char *value);
int config_parser_begin_section(struct parse_ctx *ctx, const char *key,
				const char *name);

/* config-obsolete.c: Dovecot 2.0-2.2 settings, rewritten with warnings.
 * Returns true when the line was consumed; *ret_r is then its result. */
bool config_obsolete_handle(struct parse_ctx *ctx, const struct line *line,
			    int *ret_r);

#endif

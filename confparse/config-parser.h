/* config-parser.h - the dovecot.conf language (Dovecot 2.3 syntax):
 * key = value, sections, !include, <file, $setting, filters. */
#ifndef ROOST_CONFIG_PARSER_H
#define ROOST_CONFIG_PARSER_H

#include "lib.h"
#include "net.h"
#include "pool.h"
#include "config-tree.h"

/* Which connections a block of settings applies to. */
struct config_filter {
	const char *protocol;	/* "imap", "!imap" or NULL */
	const char *local_name;	/* TLS SNI name(s) or NULL */
	struct ip_addr local_net, remote_net;
	unsigned int local_bits, remote_bits;	/* 0 = any */
};

/* The settings of one filter: the global block has an empty filter. */
struct config_block {
	struct config_filter filter;
	struct config_node *root;
	struct config_block *parent;	/* enclosing block, for $vars */
	const char *file_and_line;	/* where the filter first appeared */
};

struct config {
	pool_t pool;
	const char *path;
	struct config_block **blocks;	/* [0] is the global block */
	unsigned int block_count, block_cap;
};

enum config_parse_flags {
	/* Replace "<file" values by the file's contents now (doveconf -x). */
	CONFIG_PARSE_EXPAND_FILES = 0x01,
	/* Parse only the built-in defaults (doveconf -d). */
	CONFIG_PARSE_DEFAULTS_ONLY = 0x02,
	/* Expand every $setting and $ENV:name reference, not only a
	   setting's reference to itself (doveconf -x). */
	CONFIG_PARSE_EXPAND_VARIABLES = 0x04,
	/* The text is in 2.3 form already (written by Roost, e.g. from
	   YAML): no rewriting of 2.0-2.2 settings, every value as written. */
	CONFIG_PARSE_NO_OBSOLETE = 0x08,
	/* The text was translated from another file (a Dovecot 1.x or 2.4
	   dialect, compat/dialect.c): a line "#@line N FILE" makes the next
	   line count as line N of FILE in every message. */
	CONFIG_PARSE_LINE_MARKERS = 0x10,
};

/* Parse path. On failure returns -1 and the error in Dovecot's words
 * ("Error in configuration file F line N: ..."); *config_r is still set
 * when what was read so far can be shown (a missing '}' at the end), else
 * NULL. open() failures give "open(PATH) failed: ...". */
int config_parse_file(const char *path, enum config_parse_flags flags,
		      struct config **config_r, const char **error_r);
/* Parse a config given as a string (tests, fuzzing, YAML import). */
int config_parse_string(const char *name, const char *text,
			enum config_parse_flags flags,
			struct config **config_r, const char **error_r);
void config_free(struct config **config);

/* Filters */
bool config_filter_match(const struct config_filter *mask,
			 const struct config_filter *filter);
bool config_filters_equal(const struct config_filter *f1,
			  const struct config_filter *f2);
/* Parse doveconf's "-f key=value" (protocol, service, local, remote,
 * lname). */
int config_filter_parse_arg(pool_t pool, struct config_filter *filter,
			    const char *arg, const char **error_r);
/* The settings in effect for a connection that matches filter: the global
 * block with every matching filter block applied, the most specific one
 * winning. Returns -1 with "Conflict in setting ..." on an ambiguity. */
int config_get_merged(struct config *config, const struct config_filter *filter,
		      struct config_node **root_r, const char **error_r);
/* The same, allocating the tree (and the error) from pool. */
int config_get_merged_pool(struct config *config,
			   const struct config_filter *filter, pool_t pool,
			   struct config_node **root_r, const char **error_r);
/* Filter blocks other than the global one that could apply to filter
 * (doveconf prints these as sections), least specific first. */
unsigned int config_get_subset(struct config *config,
			       const struct config_filter *filter,
			       struct config_block ***blocks_r);

#endif

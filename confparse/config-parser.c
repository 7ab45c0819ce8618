/* config-parser.c - reads dovecot.conf (2.3 syntax) into settings trees,
 * one per filter block, with Dovecot's error texts and warnings. */
#include "config-parser-private.h"
#include "config-value.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>

/* Dovecot has none of these limits. The include depth is far above what
 * PATH_MAX allows for a growing relative path (where Dovecot stops with
 * "No matches"); sections cost a few bytes each; the size limits are
 * checked before a line or file is kept in memory (DESIGN.md). */
#define CONFIG_MAX_INCLUDE_DEPTH 1000
#define CONFIG_MAX_SECTION_DEPTH 10000
#define CONFIG_MAX_LINE_LENGTH (16 * 1024 * 1024)
#define CONFIG_MAX_FILE_SIZE (64 * 1024 * 1024)
#define CONFIG_MAX_TOTAL_SIZE (256 * 1024 * 1024)

#define IS_WHITE(c) ((c) == ' ' || (c) == '\t')

static int parse_input(struct parse_ctx *ctx);

/* Errors outlive the parse pools (callers free the config on errors). */
static const char *error_keep(const char *msg)
{
	static char *kept;

	free(kept);
	kept = i_strdup(msg);
	return kept;
}

void config_parser_error(struct parse_ctx *ctx, const char *fmt, ...)
{
	va_list args;
	const char *msg;

	va_start(args, fmt);
	msg = p_strdup_vprintf(ctx->pool, fmt, args);
	va_end(args);
	ctx->error = p_strdup_printf(ctx->pool,
		"Error in configuration file %s line %u: %s",
		ctx->input->path, ctx->input->linenum, msg);
}

/* Remove backslash escapes of a quoted value. */
static char *str_unescape_inplace(char *str)
{
	char *dest = str, *src = str;

	for (; *src != '\0'; src++) {
		if (*src == '\\' && src[1] != '\0')
			src++;
		*dest++ = *src;
	}
	*dest = '\0';
	return str;
}

/* Cut a comment off line, respecting quotes; warn about a '#' glued to
 * the text before it. */
static void strip_comment(struct parse_ctx *ctx, char *line)
{
	for (char *p = line; *p != '\0'; p++) {
		if (*p == '\'' || *p == '"') {
			char quote = *p;

			for (p++; *p != quote && *p != '\0'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
			}
			if (*p == '\0')
				break;
		} else if (*p == '#') {
			if (p > line && !IS_WHITE(p[-1])) {
				i_warning("Configuration file %s line %u: "
					  "Ambiguous '#' character in line, "
					  "treating it as comment. Add a space "
					  "before it to remove this warning.",
					  ctx->input->path,
					  ctx->input->linenum);
			}
			*p = '\0';
			break;
		}
	}
}

/* The part after "key =": a file, a quoted string or plain text. */
static void parse_line_value(char *line, struct line *r)
{
	size_t len;

	while (IS_WHITE(*line))
		line++;
	if (*line == '<') {
		line++;
		while (IS_WHITE(*line))
			line++;
		r->value = line;
		r->type = LINE_KEYFILE;
		return;
	}
	len = strlen(line);
	if (len > 0 && ((line[0] == '"' && line[len - 1] == '"') ||
			(line[0] == '\'' && line[len - 1] == '\''))) {
		line[len - 1] = '\0';
		line = str_unescape_inplace(line + 1);
		r->type = LINE_KEYVALUE;
	} else if (line[0] != '"' && line[0] != '\'' &&
		   strchr(line, '$') != NULL) {
		r->type = LINE_KEYVARIABLE;
	} else {
		r->type = LINE_KEYVALUE;
	}
	r->value = line;
}

/* "type [name] {": the name is a word or "..." (which ends at the next
 * quote: Dovecot does not honour escapes there). */
static void parse_section_begin(char *line, struct line *r)
{
	if (*line == '{') {
		r->value = "";
	} else if (*line != '"') {
		r->value = line;
		while (!IS_WHITE(*line) && *line != '\0')
			line++;
		if (*line != '\0') {
			*line++ = '\0';
			while (IS_WHITE(*line))
				line++;
		}
	} else {
		char *name = ++line;

		while (*line != '"' && *line != '\0')
			line++;
		if (*line == '"') {
			*line++ = '\0';
			while (IS_WHITE(*line))
				line++;
			r->value = str_unescape_inplace(name);
		}
	}
	if (*line != '{') {
		r->type = LINE_ERROR;
		r->value = "Expecting '{'";
	} else if (line[1] != '\0') {
		r->type = LINE_ERROR;
		r->value = "Garbage after '{'";
	} else {
		r->type = LINE_SECTION_BEGIN;
	}
}

/* Split one physical line into its parts (Dovecot's config_parse_line). */
static void parse_line(struct parse_ctx *ctx, char *line, struct line *r)
{
	char *key;
	size_t len;

	memset(r, 0, sizeof(*r));
	while (IS_WHITE(*line))
		line++;
	if (*line == '#' || *line == '\0') {
		/* a blank line after a continuation drops the setting, as
		   Dovecot does */
		if (*line == '\0')
			str_clear(ctx->full_line);
		r->type = LINE_SKIP;
		return;
	}
	strip_comment(ctx, line);
	len = strlen(line);
	while (len > 0 && IS_WHITE(line[len - 1]))
		len--;
	line[len] = '\0';

	if (len > 0 && line[len - 1] == '\\') {
		/* continues on the next line */
		len--;
		while (len > 0 && IS_WHITE(line[len - 1]))
			len--;
		if (len > 0) {
			str_append_n(ctx->full_line, line, len);
			str_append_c(ctx->full_line, ' ');
		}
		r->type = LINE_CONTINUE;
		return;
	}
	if (str_len(ctx->full_line) > 0) {
		str_append(ctx->full_line, line);
		line = p_strdup(ctx->pool, str_c(ctx->full_line));
		str_clear(ctx->full_line);
	}
	if (*line == '\0') {
		r->type = LINE_SKIP;
		return;
	}

	/* a) key = value, b) type [name] {, c) } */
	key = line;
	while (!IS_WHITE(*line) && *line != '\0' && *line != '=')
		line++;
	if (IS_WHITE(*line)) {
		*line++ = '\0';
		while (IS_WHITE(*line))
			line++;
	}
	r->key = key;
	r->value = line;

	if (strcmp(key, "!include") == 0 || strcmp(key, "!include_try") == 0) {
		r->type = key[8] == '\0' ? LINE_INCLUDE : LINE_INCLUDE_TRY;
		return;
	}
	if (*line == '=') {
		*line++ = '\0';
		parse_line_value(line, r);
		return;
	}
	if (strcmp(key, "}") == 0 && *line == '\0') {
		r->type = LINE_SECTION_END;
		return;
	}
	parse_section_begin(line, r);
}

/* ---- $variables ---- */

/* A setting's value for "key = $key ...": from the current filter block
 * if it set it, else from the enclosing blocks, ending at the global
 * value or default. Returns NULL if there is no such setting. */
static const char *
lookup_var_self(struct parse_ctx *ctx, const char *name, bool *list_r)
{
	struct config_block *block = ctx->section->block;

	*list_r = false;
	for (; block != NULL; block = block->parent) {
		struct config_node *node;
		unsigned int idx;

		if (!config_node_lookup(block->root, name, &node, &idx))
			return NULL;
		if (node->slots[idx].value == NULL) {
			*list_r = true;
			return NULL;
		}
		if (node->slots[idx].changed || block->parent == NULL)
			return node->slots[idx].value;
	}
	return NULL;
}

/* doveconf -x: any other setting, as the current block has it (its own
 * value or the default, not the enclosing block's). */
static const char *
lookup_var_other(struct parse_ctx *ctx, const char *name, bool *list_r)
{
	struct config_node *node;
	unsigned int idx;

	*list_r = false;
	if (!config_node_lookup(ctx->section->block->root, name, &node, &idx))
		return NULL;
	if (node->slots[idx].value == NULL)
		*list_r = true;
	return node->slots[idx].value;
}

/* Append the value of one "$word" to str. */
static int expand_word(struct parse_ctx *ctx, const char *key,
		       const char *name, string_t *str)
{
	const char *value;
	bool self = strcmp(name, key) == 0, list;

	if (str_begins(name, "ENV:", &value)) {
		value = getenv(value);
		if (value != NULL)
			str_append(str, value);
		return 0;
	}
	value = self ? lookup_var_self(ctx, name, &list) :
		lookup_var_other(ctx, name, &list);
	if (value == NULL) {
		config_parser_error(ctx, "%s variable: $%s",
				    list ? "Invalid" : "Unknown", name);
		return -1;
	}
	str_append(str, value);
	return 0;
}

/* A value with a '$' in it: split on spaces, expand "$word"s (only the
 * setting's reference to itself unless doveconf -x), re-join the words
 * with single spaces (Dovecot's config_write_keyvariable). */
static int expand_vars(struct parse_ctx *ctx, const char *key,
		       const char *value, const char **result_r)
{
	bool expand_all = (ctx->flags & CONFIG_PARSE_EXPAND_VARIABLES) != 0;
	string_t *str = str_new(strlen(value) + 64);
	const char *p = value;
	int ret = 0;

	for (;;) {
		const char *end = strchr(p, ' ');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);
		char *word = p_strndup(ctx->pool, p, len);

		if (word[0] != '$' ||
		    (!expand_all && strcmp(word + 1, key) != 0))
			str_append(str, word);
		else if ((ret = expand_word(ctx, key, word + 1, str)) < 0)
			break;
		if (end == NULL)
			break;
		str_append_c(str, ' ');
		while (*end == ' ')
			end++;
		p = end;
	}
	*result_r = p_strdup(ctx->pool, str_c(str));
	str_free(&str);
	return ret;
}

/* ---- files ---- */

/* Resolve a path relative to the directory of the file being read, as
 * Dovecot shows it ("dir/" + path). */
static const char *relative_path(struct parse_ctx *ctx, const char *path)
{
	const char *slash = strrchr(ctx->input->path, '/');

	if (path[0] == '/' || slash == NULL)
		return p_strdup(ctx->pool, path);
	return p_strdup_printf(ctx->pool, "%.*s%s",
			       (int)(slash + 1 - ctx->input->path),
			       ctx->input->path, path);
}

/* Read a whole file, refusing more than max_size bytes. Returns -1 if it
 * can't be opened (errno is kept), -2 on other errors. */
static int read_file(pool_t pool, const char *path, size_t max_size,
		     char **text_r, size_t *size_r, const char **error_r)
{
	FILE *f = fopen(path, "r");
	string_t *str;
	char buf[8192];
	size_t n;
	struct stat st;

	if (f == NULL) {
		*error_r = p_strdup_printf(pool, "open(%s) failed: %s", path,
					   strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    (uintmax_t)st.st_size > max_size) {
		*error_r = p_strdup_printf(pool, "%s: File too large "
					   "(over %zu bytes)", path, max_size);
		fclose(f);
		return -2;
	}
	str = str_new(sizeof(buf));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (str_len(str) + n > max_size) {
			*error_r = p_strdup_printf(pool, "%s: File too large "
						   "(over %zu bytes)", path,
						   max_size);
			fclose(f);
			str_free(&str);
			return -2;
		}
		str_append_n(str, buf, n);
	}
	if (ferror(f)) {
		*error_r = p_strdup_printf(pool, "read(%s) failed: %s", path,
					   strerror(errno));
		fclose(f);
		str_free(&str);
		return -2;
	}
	fclose(f);
	*size_r = str_len(str);
	*text_r = p_strndup(pool, str_c(str), str_len(str));
	str_free(&str);
	return 0;
}

/* The room left under CONFIG_MAX_TOTAL_SIZE for one more file. */
static size_t read_limit(const struct parse_ctx *ctx)
{
	size_t left = ctx->total_size >= CONFIG_MAX_TOTAL_SIZE ? 0 :
		CONFIG_MAX_TOTAL_SIZE - ctx->total_size;

	return MIN(left, (size_t)CONFIG_MAX_FILE_SIZE);
}

static int include_file(struct parse_ctx *ctx, const char *path)
{
	struct input *input, *in;
	char *text;
	size_t size;
	const char *error;
	int ret;

	for (in = ctx->input; in != NULL; in = in->prev) {
		if (strcmp(in->path, path) == 0) {
			config_parser_error(ctx, "Recursive include file: %s",
					    path);
			return -1;
		}
	}
	if (ctx->include_depth >= CONFIG_MAX_INCLUDE_DEPTH) {
		config_parser_error(ctx, "Too many nested include files: %s",
				    path);
		return -1;
	}
	if (read_file(ctx->pool, path, read_limit(ctx), &text, &size,
		      &error) < 0) {
		config_parser_error(ctx, "%s", error);
		return -1;
	}
	ctx->total_size += size;
	input = p_new(ctx->pool, struct input, 1);
	input->prev = ctx->input;
	input->path = path;
	input->text = text;
	input->size = size;
	ctx->input = input;
	ctx->include_depth++;
	ret = parse_input(ctx);
	ctx->include_depth--;
	if (ret == 0)
		ctx->input = input->prev;
	return ret;
}

static int handle_include(struct parse_ctx *ctx, const char *pattern,
			  bool ignore_missing)
{
	const char *path = relative_path(ctx, pattern);
	glob_t globbuf;
	int ret;

	memset(&globbuf, 0, sizeof(globbuf));
	ret = glob(path, GLOB_BRACE, NULL, &globbuf);
	if (ret == GLOB_NOMATCH) {
		globfree(&globbuf);
		if (ignore_missing)
			return 0;
		config_parser_error(ctx, "No matches");
		return -1;
	}
	if (ret != 0) {
		globfree(&globbuf);
		config_parser_error(ctx, "glob() failed: %s",
				    ret == GLOB_NOSPACE ?
				    "Not enough memory" : "Read error");
		return -1;
	}
	for (size_t i = 0; i < globbuf.gl_pathc; i++) {
		if (include_file(ctx, p_strdup(ctx->pool,
					       globbuf.gl_pathv[i])) < 0) {
			globfree(&globbuf);
			return -1;
		}
	}
	globfree(&globbuf);
	return 0;
}

/* ---- sections ---- */

static bool in_auth_restricted_filter(const struct parse_ctx *ctx)
{
	const struct config_filter *f = &ctx->section->block->filter;

	return f->local_bits > 0 || f->remote_bits > 0 ||
		f->local_name != NULL;
}

static struct section *push_section(struct parse_ctx *ctx,
				    enum section_type type)
{
	struct section *s = p_new(ctx->pool, struct section, 1);

	s->prev = ctx->section;
	s->type = type;
	s->block = ctx->section->block;
	s->node = ctx->section->node;
	s->key_prefix = ctx->section->key_prefix;
	s->path = ctx->section->path;
	s->open_file = ctx->input->path;
	s->open_line = ctx->input->linenum;
	s->depth = ctx->section->depth + 1;
	ctx->section = s;
	return s;
}

static struct config_block *
find_or_add_block(struct parse_ctx *ctx, const struct config_filter *filter)
{
	struct config *config = ctx->config;
	struct config_block *block;

	for (unsigned int i = 0; i < config->block_count; i++) {
		if (config_filters_equal(&config->blocks[i]->filter, filter))
			return config->blocks[i];
	}
	if (config->block_count == config->block_cap) {
		unsigned int new_cap = config->block_cap * 2;

		config->blocks = p_realloc(config->pool, config->blocks,
			sizeof(*config->blocks) * config->block_cap,
			sizeof(*config->blocks) * new_cap);
		config->block_cap = new_cap;
	}
	block = p_new(config->pool, struct config_block, 1);
	block->filter = *filter;
	block->root = config_node_new_root(config->pool);
	block->parent = ctx->section->block;
	block->file_and_line = p_strdup_printf(config->pool, "%s:%u",
					       ctx->input->path,
					       ctx->input->linenum);
	config->blocks[config->block_count++] = block;
	return block;
}

/* local/remote NET inside a block: parse it and check that it lies inside
 * the enclosing block's network of the same kind. */
static int filter_set_net(struct parse_ctx *ctx, const char *key,
			  const char *name, struct ip_addr *net,
			  unsigned int *bits)
{
	struct ip_addr parent_net = *net;
	unsigned int parent_bits = *bits;
	const char *error;

	if (net_parse_range(name, net, bits, &error) < 0) {
		config_parser_error(ctx, "%s", error);
		return -1;
	}
	if (parent_bits > *bits ||
	    (parent_bits > 0 &&
	     !net_is_in_network(net, &parent_net, parent_bits))) {
		config_parser_error(ctx, "%s net1 { %s net2 { .. } } requires "
				    "net2 to be inside net1", key, key);
		return -1;
	}
	return 0;
}

/* Check what may enclose a new filter of kind key (Dovecot's order:
 * local > local_name > remote > protocol). Returns the error or NULL. */
static const char *filter_nesting_error(const struct config_filter *parent,
					const char *key)
{
	if (strcmp(key, "protocol") == 0) {
		return parent->protocol == NULL ? NULL :
			"Nested protocol { protocol { .. } } block not allowed";
	}
	if (strcmp(key, "remote") != 0 && parent->remote_bits > 0) {
		return strcmp(key, "local") == 0 ?
			"remote { local { .. } } not allowed (use local { "
			"remote { .. } } instead)" :
			"remote { local_name { .. } } not allowed (use "
			"local_name { remote { .. } } instead)";
	}
	if (parent->protocol != NULL) {
		if (strcmp(key, "local") == 0)
			return "protocol { local { .. } } not allowed (use "
				"local { protocol { .. } } instead)";
		if (strcmp(key, "remote") == 0)
			return "protocol { remote { .. } } not allowed (use "
				"remote { protocol { .. } } instead)";
		return "protocol { local_name { .. } } not allowed (use "
			"local_name { protocol { .. } } instead)";
	}
	if (strcmp(key, "local") == 0 && parent->local_name != NULL)
		return "local_name { local { .. } } not allowed (use local { "
			"local_name { .. } } instead)";
	return NULL;
}

static int begin_filter(struct parse_ctx *ctx, const char *key,
			const char *name)
{
	struct config_filter filter = ctx->section->block->filter;
	const char *error;

	if ((error = filter_nesting_error(&filter, key)) != NULL) {
		config_parser_error(ctx, "%s", error);
		return -1;
	}
	if (strcmp(key, "protocol") == 0) {
		filter.protocol = p_strdup(ctx->config->pool, name);
	} else if (strcmp(key, "local_name") == 0) {
		filter.local_name = p_strdup(ctx->config->pool, name);
	} else if (strcmp(key, "local") == 0) {
		if (filter_set_net(ctx, key, name, &filter.local_net,
				   &filter.local_bits) < 0)
			return -1;
	} else {
		if (filter_set_net(ctx, key, name, &filter.remote_net,
				   &filter.remote_bits) < 0)
			return -1;
	}
	struct config_block *block = find_or_add_block(ctx, &filter);
	struct section *s = push_section(ctx, SECTION_FILTER);

	s->block = block;
	if (s->path == NULL) {
		/* inside plugin {}: Dovecot then knows no setting */
		s->node = NULL;
	} else if (s->path[0] == '\0') {
		s->node = block->root;
		s->key_prefix = "";
	} else {
		/* inside a section (service imap { protocol imap { ... } }):
		   the same section of the filter's block, if it has one */
		s->node = config_node_lookup_node(block->root, s->path);
	}
	return 0;
}

/* A non-unique list's child with this name (compared as Dovecot does,
 * without case). */
static struct config_node *
find_named_child(struct config_node *node, unsigned int slot_idx,
		 const char *name)
{
	struct config_slot *slot = &node->slots[slot_idx];
	int name_idx;

	for (unsigned int i = 0; i < slot->child_count; i++) {
		struct config_node *child = slot->children[i];

		name_idx = child->info->key_idx >= 0 ? child->info->key_idx :
			setting_info_find(child->info, "name");
		if (name_idx >= 0 &&
		    strcasecmp(child->slots[name_idx].value, name) == 0)
			return child;
	}
	return NULL;
}

static void mark_changed(struct config_node *node, const char *key,
			 const char *value)
{
	int idx = setting_info_find(node->info, key);

	if (idx >= 0) {
		if (value != NULL)
			node->slots[idx].value = value;
		node->slots[idx].changed = true;
	}
}

/* The child of list slot idx a "key name {" line opens: the same block
 * again for unique lists (service, namespace, ...), a new one else. */
static struct config_node *
open_list_child(struct parse_ctx *ctx, struct config_node *node,
		unsigned int idx, const char *key, const char *name)
{
	const struct setting_info *cinfo =
		&setting_infos[node->info->defs[idx].list_info];
	struct config_node *child;

	if (cinfo->key_idx >= 0) {
		child = name[0] == '\0' ? NULL :
			config_node_find_child(node, idx, name);
		if (child == NULL)
			child = config_node_add_child(ctx->config->pool, node,
						      idx);
		mark_changed(child, cinfo->defs[cinfo->key_idx].key,
			     p_strdup(ctx->config->pool, name));
		return child;
	}
	if (name[0] != '\0' && find_named_child(node, idx, name) != NULL) {
		config_parser_error(ctx, "%s/%s already exists", key, name);
		return NULL;
	}
	child = config_node_add_child(ctx->config->pool, node, idx);
	mark_changed(child, "name", p_strdup(ctx->config->pool, name));
	return child;
}

/* "service/imap": a list entry's path inside its block. */
static const char *list_child_path(struct parse_ctx *ctx, const char *parent,
				   const struct config_node *node,
				   unsigned int idx,
				   const struct config_node *child)
{
	const struct config_slot *slot = &node->slots[idx];
	unsigned int i;

	for (i = 0; i < slot->child_count; i++) {
		if (slot->children[i] == child)
			break;
	}
	return p_strdup_printf(ctx->pool, "%s%s%s/%s", parent,
			       parent[0] == '\0' ? "" : "/",
			       node->info->defs[idx].key,
			       config_node_list_id(ctx->pool, child, i));
}

static int begin_settings_section(struct parse_ctx *ctx, const char *key,
				  const char *name)
{
	struct config_node *node = ctx->section->node;
	const char *prefix = p_strdup_printf(ctx->pool, "%s%s { ",
					     ctx->section->key_prefix, key);
	struct config_node *child;
	struct section *s;
	int idx;

	if (ctx->section->type == SECTION_STRLIST) {
		config_parser_error(ctx, "Section not allowed here");
		return -1;
	}
	idx = node == NULL ? -1 : setting_info_find(node->info, key);
	if (idx < 0 || (node->info->defs[idx].type != SET_DEFLIST &&
			node->info->defs[idx].type != SET_STRLIST)) {
		config_parser_error(ctx, "Unknown setting: %s%s", prefix, key);
		return -1;
	}
	if (node->info->defs[idx].type == SET_STRLIST) {
		s = push_section(ctx, SECTION_STRLIST);
		s->strlist = &node->slots[idx];
		s->strlist->present = true;
		s->key_prefix = prefix;
		s->path = NULL;
		return 0;
	}
	child = open_list_child(ctx, node, (unsigned int)idx, key, name);
	if (child == NULL)
		return -1;
	s = push_section(ctx, SECTION_LIST);
	s->node = child;
	s->key_prefix = prefix;
	s->path = list_child_path(ctx, s->prev->path, node, (unsigned int)idx,
				  child);
	return 0;
}

int config_parser_begin_section(struct parse_ctx *ctx, const char *key,
				const char *name)
{
	if (ctx->section->depth >= CONFIG_MAX_SECTION_DEPTH) {
		config_parser_error(ctx, "Too deep section nesting");
		return -1;
	}
	if (strcmp(key, "protocol") == 0 || strcmp(key, "local") == 0 ||
	    strcmp(key, "remote") == 0 || strcmp(key, "local_name") == 0)
		return begin_filter(ctx, key, name);
	return begin_settings_section(ctx, key, name);
}

/* ---- key = value ---- */

static int read_value_file(struct parse_ctx *ctx, const char *key,
			   const char *path, const char **value_r)
{
	const char *full = relative_path(ctx, path), *error;
	char *text;
	size_t size;

	int ret = read_file(ctx->pool, full, read_limit(ctx), &text, &size,
			    &error);

	if (ret == -1) {
		config_parser_error(ctx, "%s: Can't open file %s: %s", key,
				    full, strerror(errno));
		return -1;
	}
	if (ret < 0) {
		config_parser_error(ctx, "%s: %s", key, error);
		return -1;
	}
	ctx->total_size += size;
	*value_r = text;
	return 0;
}

/* Remember where a filter first set a top-level key; warn when a global
 * line sets one that an earlier filter set (it won't change that
 * filter's value). */
static void check_global_override(struct parse_ctx *ctx,
				  struct config_slot *slot, unsigned int idx)
{
	struct config *config = ctx->config;
	const struct config_slot *first = NULL;

	if (!config_parser_at_top(ctx))
		return;
	if (ctx->section->type == SECTION_FILTER) {
		if (slot->first_set_at == NULL) {
			slot->first_set_at = p_strdup_printf(config->pool,
				"%s line %u", ctx->input->path,
				ctx->input->linenum);
			slot->first_set_seq = ++ctx->set_seq;
		}
		return;
	}
	for (unsigned int i = 1; i < config->block_count; i++) {
		const struct config_slot *s =
			&config->blocks[i]->root->slots[idx];

		if (s->first_set_at != NULL &&
		    (first == NULL || s->first_set_seq < first->first_set_seq))
			first = s;
	}
	if (first != NULL) {
		i_warning("%s line %u: Global setting %s won't change the "
			  "setting inside an earlier filter at %s (if this is "
			  "intentional, avoid this warning by moving the "
			  "global setting before %s)", ctx->input->path,
			  ctx->input->linenum,
			  ctx->section->node->info->defs[idx].key,
			  first->first_set_at, first->first_set_at);
	}
}

/* "service = a b": the list's entries by id (name, or index when
 * unnamed); missing ones are added without a name, as Dovecot does.
 * "plugin = x" does nothing. */
static void apply_list_ids(struct parse_ctx *ctx, struct config_node *node,
			   unsigned int idx, const char *value)
{
	char *copy = p_strdup(ctx->pool, value), *save = NULL, *id;
	struct config_slot *slot = &node->slots[idx];

	if (node->info->defs[idx].type != SET_DEFLIST)
		return;
	for (id = strtok_r(copy, " ", &save); id != NULL;
	     id = strtok_r(NULL, " ", &save)) {
		struct config_node *child = NULL;

		for (unsigned int i = 0; i < slot->child_count; i++) {
			if (strcmp(config_node_list_id(ctx->pool,
					slot->children[i], i), id) == 0)
				child = slot->children[i];
		}
		if (child == NULL)
			(void)config_node_add_child(ctx->config->pool, node,
						    idx);
	}
}

/* The value as written, with <file and $variables resolved. */
static int resolve_value(struct parse_ctx *ctx, enum line_type type,
			 const char *key, const char *value,
			 const char **value_r)
{
	if (type == LINE_KEYFILE) {
		if ((ctx->flags & CONFIG_PARSE_EXPAND_FILES) != 0)
			return read_value_file(ctx, key, value, value_r);
		*value_r = p_strdup_printf(ctx->pool, "<%s", value);
		return 0;
	}
	if (type == LINE_KEYVARIABLE)
		return expand_vars(ctx, key, value, value_r);
	*value_r = value;
	return 0;
}

int config_parser_apply(struct parse_ctx *ctx, enum line_type type,
			const char *key, const char *value)
{
	struct section *section = ctx->section;
	struct config_node *node = section->node;
	const char *canon, *error;
	int idx;

	if (section->type == SECTION_STRLIST) {
		if (resolve_value(ctx, type, key, value, &value) < 0)
			return -1;
		config_node_strlist_set(ctx->config->pool, section->strlist,
					key, value);
		return 0;
	}
	idx = node == NULL ? -1 : setting_info_find(node->info, key);
	if (idx < 0) {
		config_parser_error(ctx, "Unknown setting: %s%s",
				    section->key_prefix, key);
		return -1;
	}
	if (node->info->defs[idx].type == SET_DEFLIST ||
	    node->info->defs[idx].type == SET_STRLIST) {
		if (resolve_value(ctx, type, key, value, &value) < 0)
			return -1;
		apply_list_ids(ctx, node, (unsigned int)idx, value);
		return 0;
	}
	check_global_override(ctx, &node->slots[idx], (unsigned int)idx);
	if (resolve_value(ctx, type, key, value, &value) < 0)
		return -1;

	const struct setting_def *def = &node->info->defs[idx];

	if ((def->flags & SET_FLAG_AUTH) != 0 &&
	    in_auth_restricted_filter(ctx)) {
		config_parser_error(ctx, "Auth settings not supported inside "
				    "local/remote blocks: %s", key);
		return -1;
	}
	if (config_value_normalize(ctx->config->pool, def, value, &canon,
				   &error) < 0) {
		config_parser_error(ctx, "%s", error);
		return -1;
	}
	node->slots[idx].value = canon;
	node->slots[idx].changed = true;
	return 0;
}

int config_parser_apply_path(struct parse_ctx *ctx, struct config_block *block,
			     const char *path, const char *value)
{
	struct config_node *node;
	unsigned int idx;
	const char *canon, *error, *slash;
	int sidx;

	if (str_begins(path, "plugin/", &slash)) {
		sidx = setting_info_find(block->root->info, "plugin");
		i_assert(sidx >= 0);
		block->root->slots[sidx].present = true;
		config_node_strlist_set(ctx->config->pool,
					&block->root->slots[sidx], slash,
					value);
		return 0;
	}
	if (!config_node_lookup(block->root, path, &node, &idx) ||
	    node->slots[idx].value == NULL) {
		config_parser_error(ctx, "Unknown setting: %s", path);
		return -1;
	}
	if (config_value_normalize(ctx->config->pool, &node->info->defs[idx],
				   value, &canon, &error) < 0) {
		config_parser_error(ctx, "%s", error);
		return -1;
	}
	node->slots[idx].value = canon;
	node->slots[idx].changed = true;
	return 0;
}

/* ---- driver ---- */

static int handle_section_end(struct parse_ctx *ctx)
{
	if (ctx->section->prev == NULL) {
		config_parser_error(ctx, "Unexpected '}'");
		return -1;
	}
	ctx->section = ctx->section->prev;
	return 0;
}

static int handle_line(struct parse_ctx *ctx, char *text)
{
	struct line line;
	int ret;

	parse_line(ctx, text, &line);
	if (line.type == LINE_CONTINUE || line.type == LINE_SKIP)
		return 0;
	if (config_obsolete_handle(ctx, &line, &ret))
		return ret;
	switch (line.type) {
	case LINE_SKIP:
	case LINE_CONTINUE:
		return 0;
	case LINE_ERROR:
		config_parser_error(ctx, "%s", line.value);
		return -1;
	case LINE_KEYVALUE:
	case LINE_KEYFILE:
	case LINE_KEYVARIABLE:
		if (line.key[0] == '\0') {
			config_parser_error(ctx, "Missing key name ('=' at the "
					    "beginning of line)");
			return -1;
		}
		return config_parser_apply(ctx, line.type, line.key,
					   line.value);
	case LINE_SECTION_BEGIN:
		return config_parser_begin_section(ctx, line.key, line.value);
	case LINE_SECTION_END:
		return handle_section_end(ctx);
	case LINE_INCLUDE:
	case LINE_INCLUDE_TRY:
		return handle_include(ctx, line.value,
				      line.type == LINE_INCLUDE_TRY);
	}
	i_unreached();
}

/* "#@line N FILE" of a translated text: the next line is FILE:N. */
static bool line_marker(struct parse_ctx *ctx, char *line)
{
	const char *rest;
	char *end;
	unsigned long n;

	if (!str_begins(line, "#@line ", &rest))
		return false;
	n = strtoul(rest, &end, 10);
	if (end == rest || *end != ' ' || n == 0 || n > UINT_MAX)
		return false;
	ctx->input->linenum = (unsigned int)n - 1;
	ctx->input->path = p_strdup(ctx->pool, end + 1);
	return true;
}

static int parse_input(struct parse_ctx *ctx)
{
	struct input *input = ctx->input;

	while (input->pos < input->size) {
		const char *start = input->text + input->pos;
		const char *nl = memchr(start, '\n', input->size - input->pos);
		size_t len = nl == NULL ? input->size - input->pos :
			(size_t)(nl - start);
		const char *nul;
		char *line;

		input->linenum++;
		input->pos += len + (nl == NULL ? 0 : 1);
		if (len > CONFIG_MAX_LINE_LENGTH) {
			config_parser_error(ctx, "Line too long (over %u "
					    "bytes)", CONFIG_MAX_LINE_LENGTH);
			return -1;
		}
		/* as in Dovecot, a NUL ends the line for the parser */
		if ((nul = memchr(start, '\0', len)) != NULL)
			len = (size_t)(nul - start);
		else if (len > 0 && start[len - 1] == '\r')
			len--;
		line = p_strndup(ctx->pool, start, len);
		if ((ctx->flags & CONFIG_PARSE_LINE_MARKERS) != 0 &&
		    line_marker(ctx, line))
			continue;
		if (handle_line(ctx, line) < 0)
			return -1;
	}
	/* a continuation on the last line of a file is dropped */
	str_clear(ctx->full_line);
	return 0;
}

static struct config *config_new(const char *path)
{
	pool_t pool = pool_create("config", 64 * 1024);
	struct config *config = p_new(pool, struct config, 1);

	config->pool = pool;
	config->path = p_strdup(pool, path);
	config->block_cap = 8;
	config->blocks = p_new(pool, struct config_block *, config->block_cap);
	config->blocks[0] = p_new(pool, struct config_block, 1);
	config->blocks[0]->root = config_node_new_root(pool);
	config->blocks[0]->file_and_line = "";
	config->block_count = 1;
	return config;
}

static int parse_text(struct config *config, const char *path,
		      const char *text, size_t size,
		      enum config_parse_flags flags, const char **error_r)
{
	struct parse_ctx ctx;
	struct section root;
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	memset(&root, 0, sizeof(root));
	ctx.config = config;
	ctx.pool = pool_create("config parse", 16 * 1024);
	ctx.flags = flags;
	ctx.full_line = str_new(256);
	ctx.total_size = size;
	root.type = SECTION_ROOT;
	root.block = config->blocks[0];
	root.node = root.block->root;
	root.key_prefix = "";
	root.path = "";
	ctx.section = &root;
	ctx.input = p_new(ctx.pool, struct input, 1);
	ctx.input->path = p_strdup(ctx.pool, path);
	ctx.input->text = text;
	ctx.input->size = size;

	ret = parse_input(&ctx);
	if (ret == 0 && ctx.section != &root) {
		ctx.error = p_strdup_printf(ctx.pool,
			"Error in configuration file %s: Missing '}' "
			"(section started at %s:%u)", path,
			ctx.section->open_file, ctx.section->open_line);
		ret = -2;
	}
	if (ret < 0)
		*error_r = error_keep(ctx.error);
	str_free(&ctx.full_line);
	pool_destroy(&ctx.pool);
	return ret;
}

int config_parse_string(const char *name, const char *text,
			enum config_parse_flags flags,
			struct config **config_r, const char **error_r)
{
	struct config *config = config_new(name);
	size_t size = strlen(text);
	int ret;

	if (size > CONFIG_MAX_FILE_SIZE) {
		*error_r = error_keep(p_strdup_printf(config->pool,
			"%s: File too large (over %u bytes)", name,
			CONFIG_MAX_FILE_SIZE));
		config_free(&config);
		*config_r = NULL;
		return -1;
	}
	ret = parse_text(config, name, text, size, flags, error_r);
	if (ret == -1) {
		config_free(&config);
		*config_r = NULL;
		return -1;
	}
	*config_r = config;
	return ret < 0 ? -1 : 0;
}

int config_parse_file(const char *path, enum config_parse_flags flags,
		      struct config **config_r, const char **error_r)
{
	struct config *config = config_new(path);
	char *text;
	size_t size;
	int ret;

	*config_r = NULL;
	if ((flags & CONFIG_PARSE_DEFAULTS_ONLY) != 0) {
		*config_r = config;
		return 0;
	}
	if (read_file(config->pool, path, CONFIG_MAX_FILE_SIZE, &text, &size,
		      error_r) < 0) {
		*error_r = error_keep(*error_r);
		config_free(&config);
		return -1;
	}
	ret = parse_text(config, path, text, size, flags, error_r);
	if (ret == -1) {
		config_free(&config);
		return -1;
	}
	*config_r = config;
	return ret < 0 ? -1 : 0;
}

void config_free(struct config **_config)
{
	struct config *config = *_config;

	if (config == NULL)
		return;
	*_config = NULL;
	pool_destroy(&config->pool);
}

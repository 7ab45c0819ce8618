/* config-parser.c - reads dovecot.conf (2.3 syntax) into settings trees,
 * one per filter block, with Dovecot's error texts. */
#include "config-parser.h"
#include "config-value.h"
#include "str.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <sys/stat.h>

#define CONFIG_MAX_INCLUDE_DEPTH 50
#define CONFIG_MAX_SECTION_DEPTH 100
#define CONFIG_MAX_LINE_LENGTH (1024 * 1024)

#define IS_WHITE(c) ((c) == ' ' || (c) == '\t')

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
	struct config_node *node;	/* SECTION_ROOT/FILTER/LIST */
	struct config_slot *strlist;	/* SECTION_STRLIST */
	const char *key_prefix;		/* "service { inet_listener { " */
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

struct parse_ctx {
	struct config *config;
	pool_t pool;
	enum config_parse_flags flags;
	struct input *input;
	struct section *section;
	string_t *full_line;
	unsigned int include_depth;
	const char *error;
};

enum line_type {
	LINE_SKIP,
	LINE_CONTINUE,
	LINE_ERROR,
	LINE_KEYVALUE,
	LINE_KEYFILE,
	LINE_SECTION_BEGIN,
	LINE_SECTION_END,
	LINE_INCLUDE,
	LINE_INCLUDE_TRY,
};

struct line {
	enum line_type type;
	const char *key;
	const char *value;
	bool quoted;
};

static int parse_input(struct parse_ctx *ctx);

static void ctx_error(struct parse_ctx *ctx, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
static void ctx_error(struct parse_ctx *ctx, const char *fmt, ...)
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

/* Split one physical line into its parts (Dovecot's config_parse_line). */
static void parse_line(struct parse_ctx *ctx, char *line, struct line *r)
{
	char *p, *key;
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
	/* strip the comment, respecting quotes */
	for (p = line; *p != '\0'; p++) {
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
		if (len > 1 && ((line[0] == '"' && line[len - 1] == '"') ||
				(line[0] == '\'' && line[len - 1] == '\''))) {
			line[len - 1] = '\0';
			line = str_unescape_inplace(line + 1);
			r->quoted = true;
		}
		r->value = line;
		r->type = LINE_KEYVALUE;
		return;
	}
	if (strcmp(key, "}") == 0 && *line == '\0') {
		r->type = LINE_SECTION_END;
		return;
	}

	/* section begin: key is the type, value the name */
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

		while (*line != '"' && *line != '\0') {
			if (*line == '\\' && line[1] != '\0')
				line++;
			line++;
		}
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
		return;
	}
	if (line[1] != '\0') {
		r->type = LINE_ERROR;
		r->value = "Garbage after '{'";
		return;
	}
	r->type = LINE_SECTION_BEGIN;
}

/* ---- $variables ---- */

/* Look a setting up for $name: in the current filter block if it set it,
 * else in the enclosing blocks, ending at the global defaults. */
static const char *
lookup_var(struct parse_ctx *ctx, const char *name)
{
	struct config_block *block = ctx->section->block;

	for (; block != NULL; block = block->parent) {
		struct config_node *node;
		unsigned int idx;

		if (!config_node_lookup(block->root, name, &node, &idx))
			return NULL;
		if (node->slots[idx].value == NULL)
			return NULL;
		if (node->slots[idx].changed || block->parent == NULL)
			return node->slots[idx].value;
	}
	return NULL;
}

/* Dovecot 2.3 expands at parse time only a setting's reference to itself
 * ("mail_plugins = $mail_plugins acl"); other $words stay literal. */
static int expand_vars(struct parse_ctx *ctx, const char *key,
		       const char *value, const char **result_r)
{
	string_t *str;
	const char *p = value, *word_end;

	const char *ref = p_strdup_printf(ctx->pool, "$%s", key);
	const char *pos = strstr(value, ref);

	/* only a whole-word reference to the key itself counts */
	while (pos != NULL &&
	       !((pos == value || pos[-1] == ' ') &&
		 (pos[strlen(ref)] == ' ' || pos[strlen(ref)] == '\0')))
		pos = strstr(pos + 1, ref);
	if (pos == NULL) {
		*result_r = value;
		return 0;
	}
	str = str_new(strlen(value) + 64);
	/* with a reference the words are re-joined by single spaces (an
	   empty expansion still gets its separator: " imap") */
	bool first = true;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		word_end = strchr(p, ' ');
		if (word_end == NULL)
			word_end = p + strlen(p);
		size_t wlen = (size_t)(word_end - p);

		if (!first)
			str_append_c(str, ' ');
		first = false;
		if (*p == '$' && wlen - 1 == strlen(key) &&
		    strncmp(p + 1, key, wlen - 1) == 0) {
			const char *var = lookup_var(ctx, key);

			if (var == NULL) {
				ctx_error(ctx, "Unknown variable: $%s", key);
				str_free(&str);
				return -1;
			}
			str_append(str, var);
		} else {
			str_append_n(str, p, wlen);
		}
		p = word_end;
	}
	*result_r = p_strdup(ctx->pool, str_c(str));
	str_free(&str);
	return 0;
}

/* ---- files ---- */

static const char *path_dirname(pool_t pool, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return ".";
	if (slash == path)
		return "/";
	return p_strndup(pool, path, (size_t)(slash - path));
}

/* Resolve a path relative to the file being read, as Dovecot shows it. */
static const char *relative_path(struct parse_ctx *ctx, const char *path)
{
	if (path[0] == '/' || strchr(ctx->input->path, '/') == NULL)
		return p_strdup(ctx->pool, path);
	return p_strdup_printf(ctx->pool, "%s/%s",
			       path_dirname(ctx->pool, ctx->input->path), path);
}

static int read_file(pool_t pool, const char *path, char **text_r,
		     size_t *size_r, const char **error_r)
{
	FILE *f = fopen(path, "r");
	string_t *str;
	char buf[8192];
	size_t n;

	if (f == NULL) {
		*error_r = p_strdup_printf(pool, "open(%s) failed: %s", path,
					   strerror(errno));
		return -1;
	}
	str = str_new(sizeof(buf));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		str_append_n(str, buf, n);
	if (ferror(f)) {
		*error_r = p_strdup_printf(pool, "read(%s) failed: %s", path,
					   strerror(errno));
		fclose(f);
		str_free(&str);
		return -1;
	}
	fclose(f);
	*size_r = str_len(str);
	*text_r = p_strndup(pool, str_c(str), str_len(str));
	str_free(&str);
	return 0;
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
			ctx_error(ctx, "Recursive include file: %s", path);
			return -1;
		}
	}
	if (ctx->include_depth >= CONFIG_MAX_INCLUDE_DEPTH) {
		ctx_error(ctx, "Too many nested include files: %s", path);
		return -1;
	}
	if (read_file(ctx->pool, path, &text, &size, &error) < 0) {
		ctx_error(ctx, "%s", error);
		return -1;
	}
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
		ctx_error(ctx, "No matches");
		return -1;
	}
	if (ret != 0) {
		globfree(&globbuf);
		ctx_error(ctx, "glob(%s) failed: %s", path,
			  ret == GLOB_NOSPACE ? "Out of memory" :
			  "Read error");
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

static int begin_filter(struct parse_ctx *ctx, const char *key,
			const char *name)
{
	struct config_filter filter = ctx->section->block->filter;
	const char *error;

	if (ctx->section->type != SECTION_ROOT &&
	    ctx->section->type != SECTION_FILTER) {
		ctx_error(ctx, "Section not allowed here");
		return -1;
	}
	if (strcmp(key, "protocol") == 0) {
		if (filter.protocol != NULL) {
			ctx_error(ctx, "Nested protocol { protocol { .. } } "
				  "block not allowed");
			return -1;
		}
		filter.protocol = p_strdup(ctx->config->pool, name);
	} else if (strcmp(key, "local_name") == 0) {
		if (filter.protocol != NULL) {
			ctx_error(ctx, "protocol { local_name { .. } } not "
				  "allowed (use local_name { protocol { .. } } "
				  "instead)");
			return -1;
		}
		filter.local_name = p_strdup(ctx->config->pool, name);
	} else {
		bool local = strcmp(key, "local") == 0;
		struct ip_addr ip;
		unsigned int bits;

		if (filter.protocol != NULL) {
			ctx_error(ctx, "protocol { %s { .. } } not allowed "
				  "(use %s { protocol { .. } } instead)",
				  key, key);
			return -1;
		}
		if (local && filter.local_name != NULL) {
			ctx_error(ctx, "local_name { local { .. } } not "
				  "allowed (use local { local_name { .. } } "
				  "instead)");
			return -1;
		}
		if (net_parse_range(name, &ip, &bits, &error) < 0) {
			ctx_error(ctx, "%s", error);
			return -1;
		}
		if (local) {
			filter.local_net = ip;
			filter.local_bits = bits;
		} else {
			filter.remote_net = ip;
			filter.remote_bits = bits;
		}
	}
	struct config_block *block = find_or_add_block(ctx, &filter);
	struct section *s = push_section(ctx, SECTION_FILTER);

	s->block = block;
	s->node = block->root;
	s->key_prefix = "";
	return 0;
}

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
		    strcmp(child->slots[name_idx].value, name) == 0)
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
		ctx_error(ctx, "Section not allowed here");
		return -1;
	}
	idx = setting_info_find(node->info, key);
	if (idx < 0 || (node->info->defs[idx].type != SET_DEFLIST &&
			node->info->defs[idx].type != SET_STRLIST)) {
		ctx_error(ctx, "Unknown setting: %s%s", prefix, key);
		return -1;
	}
	if (node->info->defs[idx].type == SET_STRLIST) {
		s = push_section(ctx, SECTION_STRLIST);
		s->strlist = &node->slots[idx];
		s->strlist->present = true;
		s->key_prefix = prefix;
		return 0;
	}
	const struct setting_info *cinfo =
		&setting_infos[node->info->defs[idx].list_info];

	if (cinfo->key_idx >= 0) {
		/* unique list: a name given twice means the same block */
		child = name[0] == '\0' ? NULL :
			config_node_find_child(node, (unsigned int)idx, name);
		if (child == NULL) {
			child = config_node_add_child(ctx->config->pool, node,
						      (unsigned int)idx);
		}
		mark_changed(child, cinfo->defs[cinfo->key_idx].key,
			     p_strdup(ctx->config->pool, name));
	} else {
		if (name[0] != '\0' &&
		    find_named_child(node, (unsigned int)idx, name) != NULL) {
			ctx_error(ctx, "%s/%s already exists", key, name);
			return -1;
		}
		child = config_node_add_child(ctx->config->pool, node,
					      (unsigned int)idx);
		mark_changed(child, "name", p_strdup(ctx->config->pool, name));
	}
	if (child->info_id == INFO_NAMESPACE) {
		/* Dovecot always reports these two as set in namespaces */
		mark_changed(child, "location", NULL);
		mark_changed(child, "prefix", NULL);
	}
	s = push_section(ctx, SECTION_LIST);
	s->node = child;
	s->key_prefix = prefix;
	return 0;
}

static int begin_section(struct parse_ctx *ctx, const char *key,
			 const char *name)
{
	if (ctx->section->depth >= CONFIG_MAX_SECTION_DEPTH) {
		ctx_error(ctx, "Too deep section nesting");
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

	if (read_file(ctx->pool, full, &text, &size, &error) < 0) {
		ctx_error(ctx, "%s: Can't open file %s: %s", key, full,
			  strerror(errno));
		return -1;
	}
	*value_r = text;
	return 0;
}

static int set_value(struct parse_ctx *ctx, const struct line *line)
{
	struct section *section = ctx->section;
	struct config_node *node = section->node;
	const char *key = line->key, *value = line->value, *canon, *error;
	int idx;

	if (key[0] == '\0') {
		ctx_error(ctx, "Missing key name ('=' at the beginning of "
			  "line)");
		return -1;
	}
	if (line->type == LINE_KEYFILE) {
		if ((ctx->flags & CONFIG_PARSE_EXPAND_FILES) != 0) {
			if (read_value_file(ctx, key, value, &value) < 0)
				return -1;
		} else {
			value = p_strdup_printf(ctx->pool, "<%s", value);
		}
	} else if (!line->quoted) {
		if (expand_vars(ctx, key, value, &value) < 0)
			return -1;
	}
	if (section->type == SECTION_STRLIST) {
		config_node_strlist_set(ctx->config->pool, section->strlist,
					key, value);
		return 0;
	}
	idx = setting_info_find(node->info, key);
	if (idx < 0 || node->info->defs[idx].type == SET_DEFLIST ||
	    node->info->defs[idx].type == SET_STRLIST) {
		ctx_error(ctx, "Unknown setting: %s%s", section->key_prefix,
			  key);
		return -1;
	}
	const struct setting_def *def = &node->info->defs[idx];

	if ((def->flags & SET_FLAG_AUTH) != 0 &&
	    in_auth_restricted_filter(ctx)) {
		ctx_error(ctx, "Auth settings not supported inside "
			  "local/remote blocks: %s", key);
		return -1;
	}
	if (config_value_normalize(ctx->config->pool, def, value, &canon,
				   &error) < 0) {
		ctx_error(ctx, "%s", error);
		return -1;
	}
	node->slots[idx].value = canon;
	node->slots[idx].changed = true;
	return 0;
}

/* ---- driver ---- */

static int handle_line(struct parse_ctx *ctx, char *text)
{
	struct line line;

	parse_line(ctx, text, &line);
	switch (line.type) {
	case LINE_SKIP:
	case LINE_CONTINUE:
		return 0;
	case LINE_ERROR:
		ctx_error(ctx, "%s", line.value);
		return -1;
	case LINE_KEYVALUE:
	case LINE_KEYFILE:
		return set_value(ctx, &line);
	case LINE_SECTION_BEGIN:
		return begin_section(ctx, line.key, line.value);
	case LINE_SECTION_END:
		if (ctx->section->prev == NULL) {
			ctx_error(ctx, "Unexpected '}'");
			return -1;
		}
		ctx->section = ctx->section->prev;
		return 0;
	case LINE_INCLUDE:
	case LINE_INCLUDE_TRY:
		return handle_include(ctx, line.value,
				      line.type == LINE_INCLUDE_TRY);
	}
	i_unreached();
}

static int parse_input(struct parse_ctx *ctx)
{
	struct input *input = ctx->input;

	while (input->pos < input->size) {
		const char *start = input->text + input->pos;
		const char *nl = memchr(start, '\n', input->size - input->pos);
		size_t len = nl == NULL ? input->size - input->pos :
			(size_t)(nl - start);
		char *line;

		input->linenum++;
		input->pos += len + (nl == NULL ? 0 : 1);
		if (len > CONFIG_MAX_LINE_LENGTH) {
			ctx_error(ctx, "Line too long");
			return -1;
		}
		if (memchr(start, '\0', len) != NULL) {
			ctx_error(ctx, "Line contains NUL");
			return -1;
		}
		if (len > 0 && start[len - 1] == '\r')
			len--;
		line = p_strndup(ctx->pool, start, len);
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
	root.type = SECTION_ROOT;
	root.block = config->blocks[0];
	root.node = root.block->root;
	root.key_prefix = "";
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
	if (ret < 0) {
		/* outlives the config: callers free it on errors */
		static char errbuf[4096];

		snprintf(errbuf, sizeof(errbuf), "%s", ctx.error);
		*error_r = errbuf;
	}
	str_free(&ctx.full_line);
	pool_destroy(&ctx.pool);
	return ret;
}

int config_parse_string(const char *name, const char *text,
			enum config_parse_flags flags,
			struct config **config_r, const char **error_r)
{
	struct config *config = config_new(name);
	int ret = parse_text(config, name, text, strlen(text), flags, error_r);

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
	if (read_file(config->pool, path, &text, &size, error_r) < 0) {
		/* keep the message alive past config_free */
		static char errbuf[1024];

		snprintf(errbuf, sizeof(errbuf), "%s", *error_r);
		*error_r = errbuf;
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

/* config-yaml.c - the effective settings as YAML (doveconf [-n] --yaml),
 * written with libyaml's emitter, and the way back: YAML is parsed with
 * libyaml's event parser, turned into dovecot.conf text and handed to
 * config_parse_string(), so both formats share every rule and message.
 *
 * The document (every scalar is a string; read it without type
 * resolution, e.g. with a failsafe schema):
 *
 *   settings:                      the global block
 *     mail_location: "maildir:~/Maildir"
 *     service:                     lists: sequences of mappings, in order,
 *     - name: imap-login           each with its key setting (name, path,
 *       inet_listener:             metric_name) first; passdb and userdb
 *       - name: imaps              have none
 *         port: 993
 *     plugin:                      plugin, dict: plain mappings
 *       quota: "maildir:User quota"
 *   filters:                       each non-empty filter block, in the
 *   - filter:                      order doveconf -n prints them
 *       protocol: imap             protocol, local, remote, local_name
 *       local: 192.0.2.0/24        (networks always with /bits)
 *     settings:
 *       mail_max_userip_connections: 20
 *
 * What is written is decided by config_export() with hide_list_defaults,
 * exactly as for doveconf's text: the global block in the caller's scope,
 * filter blocks with the settings they set; a list entry or plugin {}
 * with nothing to show is left out, as doveconf leaves out its section.
 * A value is written plain when that is unambiguous and double-quoted
 * otherwise (empty, leading or trailing blanks, '#', ':', quotes,
 * non-ASCII ...), so it reads back byte for byte. Secrets are written as
 * they are: the YAML is meant to be loaded again.
 *
 * Reading back: scalars may use any YAML style ("key:" alone is the empty
 * string); a value starting with '<' is a file, as in doveconf -n's text
 * (read by -x). At most 16 MB, 32 levels of nesting and YAML_MAX_NODES
 * nodes; aliases, duplicate keys and multiple documents are refused;
 * values may not hold line breaks or NULs (dovecot.conf can't express
 * them). Structure errors name the YAML line ("YAML error in F line N:
 * ..."); errors found by the config parser ("Error in configuration file
 * F line N: ...") carry the YAML line the setting came from. */
#include "config-yaml.h"
#include "config-export.h"
#include "array.h"
#include "hash.h"
#include "str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 32
#define YAML_MAX_SIZE (16 * 1024 * 1024)
/* a full "doveconf --yaml" is a few thousand nodes */
#define YAML_MAX_NODES 200000

/* Static: errors outlive the pools (callers free the config on errors),
 * as in config-parser.c. */
static const char *error_keep(const char *msg)
{
	static char errbuf[2048];

	snprintf(errbuf, sizeof(errbuf), "%s", msg);
	return errbuf;
}

/* ---- writing ---- */

struct dump_ctx {
	pool_t pool;
	yaml_emitter_t emitter;
	struct hash_table *keys;	/* exported path -> value */
	string_t *path;			/* "service/imap/" while walking */
	const char *error;
};

static int yaml_write_str(void *data, unsigned char *buffer, size_t size)
{
	str_append_n(data, buffer, size);
	return 1;
}

static bool utf8_valid(const unsigned char *s)
{
	while (*s != '\0') {
		unsigned int width, i;
		uint32_t c;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf) {
			width = 2; c = *s & 0x1f;
		} else if (*s >= 0xe0 && *s <= 0xef) {
			width = 3; c = *s & 0x0f;
		} else if (*s >= 0xf0 && *s <= 0xf4) {
			width = 4; c = *s & 0x07;
		} else {
			return false;
		}
		for (i = 1; i < width; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (s[i] & 0x3f);
		}
		if ((width == 3 && c < 0x800) || (width == 4 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return false;
		s += width;
	}
	return true;
}

/* Plain style only for printable ASCII that no YAML reader could take
 * for anything but the same string; everything else is double-quoted. */
static bool yaml_plain_ok(const char *value)
{
	size_t len = strlen(value);

	if (len == 0 || value[0] == ' ' || value[len - 1] == ' ')
		return false;
	if (strchr("-?:,[]{}#&*!|>'\"%@`", value[0]) != NULL)
		return false;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e || strchr("#:\"'\\", *p) != NULL)
			return false;
	}
	return true;
}

static void emit_event(struct dump_ctx *ctx, yaml_event_t *event)
{
	if (!yaml_emitter_emit(&ctx->emitter, event) && ctx->error == NULL) {
		ctx->error = p_strdup_printf(ctx->pool,
			"YAML output failed: %s",
			ctx->emitter.problem != NULL ?
			ctx->emitter.problem : "unknown error");
	}
}

/* what names the value in errors (a setting path). */
static void emit_scalar(struct dump_ctx *ctx, const char *value,
			const char *what)
{
	yaml_event_t event;
	size_t len = strlen(value);

	if (ctx->error != NULL)
		return;
	if (!utf8_valid((const unsigned char *)value)) {
		ctx->error = p_strdup_printf(ctx->pool,
			"Can't write %s as YAML: not valid UTF-8", what);
		return;
	}
	if (len > INT_MAX ||
	    !yaml_scalar_event_initialize(&event, NULL, NULL,
		(const yaml_char_t *)value, (int)len, 1, 1,
		yaml_plain_ok(value) ? YAML_PLAIN_SCALAR_STYLE :
		YAML_DOUBLE_QUOTED_SCALAR_STYLE)) {
		ctx->error = p_strdup_printf(ctx->pool,
			"Can't write %s as YAML: value too long", what);
		return;
	}
	emit_event(ctx, &event);
}

static void emit_collection(struct dump_ctx *ctx, bool mapping, bool start)
{
	yaml_event_t event;

	if (ctx->error != NULL)
		return;
	if (mapping && start) {
		yaml_mapping_start_event_initialize(&event, NULL, NULL, 1,
			YAML_BLOCK_MAPPING_STYLE);
	} else if (start) {
		yaml_sequence_start_event_initialize(&event, NULL, NULL, 1,
			YAML_BLOCK_SEQUENCE_STYLE);
	} else if (mapping) {
		yaml_mapping_end_event_initialize(&event);
	} else {
		yaml_sequence_end_event_initialize(&event);
	}
	emit_event(ctx, &event);
}

static void emit_pair(struct dump_ctx *ctx, const char *key,
		      const char *value)
{
	const char *what = p_strdup_printf(ctx->pool, "%s%s",
					   str_c(ctx->path), key);

	emit_scalar(ctx, key, what);
	emit_scalar(ctx, value, what);
}

static void export_collect(const char *key, const char *value,
			   enum config_key_type type ATTR_UNUSED,
			   void *context)
{
	hash_insert(context, key, (void *)value);
}

static bool path_exported(struct dump_ctx *ctx, const char *key)
{
	size_t len = str_len(ctx->path);
	bool ret;

	str_append(ctx->path, key);
	ret = hash_lookup_full(ctx->keys, str_c(ctx->path), NULL, NULL);
	str_truncate(ctx->path, len);
	return ret;
}

static void path_push_child(struct dump_ctx *ctx, const char *list_key,
			    const struct config_node *child, unsigned int idx)
{
	str_printfa(ctx->path, "%s/%s/", list_key,
		    config_node_list_id(ctx->pool, child, idx));
}

/* Would doveconf's text show anything of node? Its key setting alone
 * does not count (doveconf leaves such a section out). */
static bool node_has_content(struct dump_ctx *ctx,
			     const struct config_node *node, bool unique)
{
	size_t len = str_len(ctx->path);

	for (unsigned int i = 0; i < node->info->count; i++) {
		const struct setting_def *def = &node->info->defs[i];
		const struct config_slot *slot = &node->slots[i];

		if (def->type == SET_STRLIST) {
			if (slot->pair_count > 0)
				return true;
		} else if (def->type == SET_DEFLIST) {
			for (unsigned int j = 0; j < slot->child_count; j++) {
				const struct config_node *child =
					slot->children[j];
				bool found;

				path_push_child(ctx, def->key, child, j);
				found = node_has_content(ctx, child,
					child->info->key_idx >= 0);
				str_truncate(ctx->path, len);
				if (found)
					return true;
			}
		} else if (!(unique && (int)i == node->info->key_idx) &&
			   path_exported(ctx, def->key)) {
			return true;
		}
	}
	return false;
}

static void emit_node(struct dump_ctx *ctx, const struct config_node *node,
		      bool unique);

static void emit_list(struct dump_ctx *ctx, const struct setting_def *def,
		      const struct config_slot *slot)
{
	size_t len = str_len(ctx->path);
	bool started = false;

	for (unsigned int i = 0; i < slot->child_count; i++) {
		const struct config_node *child = slot->children[i];
		bool unique = child->info->key_idx >= 0;

		path_push_child(ctx, def->key, child, i);
		if (node_has_content(ctx, child, unique)) {
			if (!started) {
				emit_scalar(ctx, def->key, def->key);
				emit_collection(ctx, false, true);
				started = true;
			}
			emit_collection(ctx, true, true);
			emit_node(ctx, child, unique);
			emit_collection(ctx, true, false);
		}
		str_truncate(ctx->path, len);
	}
	if (started)
		emit_collection(ctx, false, false);
}

static void emit_strlist(struct dump_ctx *ctx, const struct setting_def *def,
			 const struct config_slot *slot)
{
	size_t len = str_len(ctx->path);

	if (slot->pair_count == 0)
		return;
	emit_scalar(ctx, def->key, def->key);
	emit_collection(ctx, true, true);
	str_printfa(ctx->path, "%s/", def->key);
	for (unsigned int i = 0; i < slot->pair_count; i += 2)
		emit_pair(ctx, slot->pairs[i], slot->pairs[i + 1]);
	str_truncate(ctx->path, len);
	emit_collection(ctx, true, false);
}

/* The settings of one block as mapping entries, schema order; a list
 * element's key setting goes first. */
static void emit_node(struct dump_ctx *ctx, const struct config_node *node,
		      bool unique)
{
	int key_idx = unique ? node->info->key_idx : -1;

	if (key_idx >= 0) {
		emit_pair(ctx, node->info->defs[key_idx].key,
			  node->slots[key_idx].value);
	}
	for (unsigned int i = 0; i < node->info->count; i++) {
		const struct setting_def *def = &node->info->defs[i];
		const struct config_slot *slot = &node->slots[i];

		if ((int)i == key_idx)
			continue;
		if (def->type == SET_DEFLIST)
			emit_list(ctx, def, slot);
		else if (def->type == SET_STRLIST)
			emit_strlist(ctx, def, slot);
		else if (path_exported(ctx, def->key))
			emit_pair(ctx, def->key, slot->value);
	}
}

static void dump_keys_reset(struct dump_ctx *ctx,
			    const struct config_node *root,
			    enum config_dump_scope scope)
{
	if (ctx->keys != NULL)
		hash_destroy(&ctx->keys);
	ctx->keys = hash_create(false);
	config_export(ctx->pool, root, scope, true, export_collect, ctx->keys);
}

static const char *filter_net(pool_t pool, const struct ip_addr *ip,
			      unsigned int bits)
{
	return p_strdup_printf(pool, "%s/%u", net_ip2addr(ip), bits);
}

static void emit_filter(struct dump_ctx *ctx, const struct config_block *block)
{
	const struct config_filter *f = &block->filter;

	emit_collection(ctx, true, true);
	emit_scalar(ctx, "filter", "filter");
	emit_collection(ctx, true, true);
	if (f->protocol != NULL)
		emit_pair(ctx, "protocol", f->protocol);
	if (f->local_bits > 0) {
		emit_pair(ctx, "local",
			  filter_net(ctx->pool, &f->local_net, f->local_bits));
	}
	if (f->remote_bits > 0) {
		emit_pair(ctx, "remote", filter_net(ctx->pool, &f->remote_net,
						    f->remote_bits));
	}
	if (f->local_name != NULL)
		emit_pair(ctx, "local_name", f->local_name);
	emit_collection(ctx, true, false);
	emit_scalar(ctx, "settings", "settings");
	emit_collection(ctx, true, true);
	emit_node(ctx, block->root, false);
	emit_collection(ctx, true, false);
	emit_collection(ctx, true, false);
}

/* Filter blocks with something to show, in doveconf -n's order. */
static void emit_filters(struct dump_ctx *ctx, struct config *config)
{
	struct config_filter no_filter;
	struct config_block **blocks;
	unsigned int count;
	bool started = false;

	memset(&no_filter, 0, sizeof(no_filter));
	count = config_get_subset(config, &no_filter, &blocks);
	for (unsigned int i = 0; i < count; i++) {
		dump_keys_reset(ctx, blocks[i]->root, CONFIG_DUMP_SCOPE_SET);
		if (!node_has_content(ctx, blocks[i]->root, false))
			continue;
		if (!started) {
			emit_scalar(ctx, "filters", "filters");
			emit_collection(ctx, false, true);
			started = true;
		}
		emit_filter(ctx, blocks[i]);
	}
	if (started)
		emit_collection(ctx, false, false);
}

static void emit_document(struct dump_ctx *ctx, struct config *config,
			  const struct config_node *root,
			  enum config_dump_scope scope)
{
	yaml_event_t event;

	yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
	emit_event(ctx, &event);
	yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 1);
	emit_event(ctx, &event);
	emit_collection(ctx, true, true);

	emit_scalar(ctx, "settings", "settings");
	emit_collection(ctx, true, true);
	dump_keys_reset(ctx, root, scope);
	emit_node(ctx, root, false);
	emit_collection(ctx, true, false);
	emit_filters(ctx, config);

	emit_collection(ctx, true, false);
	if (ctx->error != NULL)
		return;
	yaml_document_end_event_initialize(&event, 1);
	emit_event(ctx, &event);
	yaml_stream_end_event_initialize(&event);
	emit_event(ctx, &event);
}

int config_yaml_dump(struct config *config, enum config_dump_scope scope,
		     FILE *out, const char **error_r)
{
	struct dump_ctx ctx;
	struct config_filter no_filter;
	struct config_node *root;
	string_t *buf;
	const char *error;
	int ret = 0;

	memset(&no_filter, 0, sizeof(no_filter));
	if (config_get_merged(config, &no_filter, &root, &error) < 0) {
		*error_r = error_keep(error);
		return -1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool_create("config yaml dump", 64 * 1024);
	ctx.path = str_new(256);
	buf = str_new(16 * 1024);
	yaml_emitter_initialize(&ctx.emitter);
	yaml_emitter_set_output(&ctx.emitter, yaml_write_str, buf);
	yaml_emitter_set_unicode(&ctx.emitter, 1);
	yaml_emitter_set_width(&ctx.emitter, -1);
	yaml_emitter_set_indent(&ctx.emitter, 2);

	emit_document(&ctx, config, root, scope);
	yaml_emitter_delete(&ctx.emitter);
	if (ctx.error != NULL) {
		*error_r = error_keep(ctx.error);
		ret = -1;
	} else if (fwrite(str_c(buf), 1, str_len(buf), out) != str_len(buf) ||
		   fflush(out) != 0) {
		*error_r = error_keep(p_strdup_printf(ctx.pool,
			"write(YAML) failed: %s", strerror(errno)));
		ret = -1;
	}
	if (ctx.keys != NULL)
		hash_destroy(&ctx.keys);
	str_free(&buf);
	str_free(&ctx.path);
	pool_destroy(&ctx.pool);
	return ret;
}

/* ---- reading ---- */

enum ynode_type { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING };

struct ynode {
	enum ynode_type type;
	unsigned int line;	/* 1-based */
	bool null;		/* a plain empty scalar: "key:" */
	bool has_nul;
	const char *value;	/* YNODE_SCALAR */
	/* YNODE_SEQUENCE: items; YNODE_MAPPING: key, value, key, value.. */
	struct ynode **items;
	unsigned int count, cap;
};

struct load_ctx {
	pool_t pool;
	const char *path;
	unsigned int node_count;
	string_t *conf;			/* the generated dovecot.conf */
	ARRAY(unsigned int) lines;	/* YAML line of each conf line */
	const char *error;
};

static int load_error(struct load_ctx *ctx, unsigned int line,
		      const char *fmt, ...) ATTR_FORMAT(3, 4);
static int load_error(struct load_ctx *ctx, unsigned int line,
		      const char *fmt, ...)
{
	va_list args;
	const char *msg;

	va_start(args, fmt);
	msg = p_strdup_vprintf(ctx->pool, fmt, args);
	va_end(args);
	ctx->error = p_strdup_printf(ctx->pool, "YAML error in %s line %u: %s",
				     ctx->path, line, msg);
	return -1;
}

static const char *ynode_kind(const struct ynode *node)
{
	switch (node->type) {
	case YNODE_SCALAR: return "a single value";
	case YNODE_SEQUENCE: return "a sequence";
	case YNODE_MAPPING: return "a mapping";
	}
	i_unreached();
}

static struct ynode *ynode_new(struct load_ctx *ctx,
			       const yaml_event_t *event)
{
	struct ynode *node = p_new(ctx->pool, struct ynode, 1);

	node->line = (unsigned int)MIN(event->start_mark.line + 1, UINT_MAX);
	switch (event->type) {
	case YAML_SCALAR_EVENT: {
		const char *value = (const char *)event->data.scalar.value;
		size_t len = event->data.scalar.length;

		node->type = YNODE_SCALAR;
		node->value = p_strndup(ctx->pool, value, len);
		node->has_nul = memchr(value, '\0', len) != NULL;
		node->null = len == 0 &&
			event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
		node->type = YNODE_SEQUENCE;
		break;
	default:
		node->type = YNODE_MAPPING;
		break;
	}
	return node;
}

static void ynode_add(struct load_ctx *ctx, struct ynode *parent,
		      struct ynode *child)
{
	if (parent->count == parent->cap) {
		unsigned int new_cap = parent->cap == 0 ? 8 : parent->cap * 2;

		parent->items = p_realloc(ctx->pool, parent->items,
			sizeof(*parent->items) * parent->cap,
			size_mul(sizeof(*parent->items), new_cap));
		parent->cap = new_cap;
	}
	parent->items[parent->count++] = child;
}

struct tree_build {
	struct ynode *stack[YAML_MAX_DEPTH];
	unsigned int depth, documents;
	struct ynode *root;
	bool done;
};

/* Add one parser event to the tree being built. */
static int tree_event(struct load_ctx *ctx, struct tree_build *tb,
		      const yaml_event_t *event)
{
	unsigned int line =
		(unsigned int)MIN(event->start_mark.line + 1, UINT_MAX);
	struct ynode *node;

	switch (event->type) {
	case YAML_STREAM_END_EVENT:
		tb->done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++tb->documents > 1)
			return load_error(ctx, line, "More than one document");
		return 0;
	case YAML_ALIAS_EVENT:
		return load_error(ctx, line, "Aliases are not supported");
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		i_assert(tb->depth > 0);
		tb->depth--;
		return 0;
	case YAML_SCALAR_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	default:
		return 0;
	}
	if (++ctx->node_count > YAML_MAX_NODES)
		return load_error(ctx, line, "More than %u nodes",
				  YAML_MAX_NODES);
	if (event->type != YAML_SCALAR_EVENT && tb->depth == YAML_MAX_DEPTH) {
		return load_error(ctx, line, "Nesting deeper than %u levels",
				  YAML_MAX_DEPTH);
	}
	node = ynode_new(ctx, event);
	if (tb->depth > 0)
		ynode_add(ctx, tb->stack[tb->depth - 1], node);
	else
		tb->root = node;
	if (event->type != YAML_SCALAR_EVENT)
		tb->stack[tb->depth++] = node;
	return 0;
}

/* libyaml's message: "found unexpected end of stream (while scanning a
 * quoted scalar started on line 2)". */
static int parser_error(struct load_ctx *ctx, const yaml_parser_t *parser)
{
	unsigned int line = (unsigned int)MIN(parser->problem_mark.line + 1,
					      UINT_MAX);
	const char *problem = parser->problem != NULL ? parser->problem :
		"parse error";

	if (parser->context == NULL)
		return load_error(ctx, line, "%s", problem);
	return load_error(ctx, line, "%s (%s started on line %u)", problem,
			  parser->context, (unsigned int)MIN(
				  parser->context_mark.line + 1, UINT_MAX));
}

/* Parse the YAML into a tree of ynodes. *root_r is NULL for an empty
 * stream. */
static int yaml_build_tree(struct load_ctx *ctx, const char *text,
			   size_t size, struct ynode **root_r)
{
	yaml_parser_t parser;
	yaml_event_t event;
	struct tree_build tb;
	int ret = 0;

	memset(&tb, 0, sizeof(tb));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     size);
	while (!tb.done && ret == 0) {
		if (!yaml_parser_parse(&parser, &event)) {
			ret = parser_error(ctx, &parser);
			break;
		}
		ret = tree_event(ctx, &tb, &event);
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);
	*root_r = tb.root;
	return ret;
}

/* -- tree -> dovecot.conf -- */

static void conf_line(struct load_ctx *ctx, unsigned int yaml_line,
		      const char *fmt, ...) ATTR_FORMAT(3, 4);
static void conf_line(struct load_ctx *ctx, unsigned int yaml_line,
		      const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	str_vprintfa(ctx->conf, fmt, args);
	va_end(args);
	str_append_c(ctx->conf, '\n');
	array_push(&ctx->lines, yaml_line);
}

/* "value" with '"' and '\' escaped: read back verbatim, no $vars. */
static const char *conf_quote(struct load_ctx *ctx, const char *value)
{
	string_t *str = str_new(strlen(value) + 3);
	const char *ret;

	str_append_c(str, '"');
	for (; *value != '\0'; value++) {
		if (*value == '"' || *value == '\\')
			str_append_c(str, '\\');
		str_append_c(str, *value);
	}
	str_append_c(str, '"');
	ret = p_strdup(ctx->pool, str_c(str));
	str_free(&str);
	return ret;
}

/* "<path" can be written unquoted (so -x still reads the file) when the
 * parser would give back the same string. */
static bool conf_file_ref_ok(const char *value)
{
	size_t len = strlen(value);

	return len > 1 && value[0] == '<' && value[1] != ' ' &&
		value[1] != '\t' && value[len - 1] != ' ' &&
		value[len - 1] != '\t' && value[len - 1] != '\\' &&
		value[len - 1] != '\r' && strpbrk(value, "#\"'") == NULL;
}

static int scalar_get(struct load_ctx *ctx, const struct ynode *node,
		      const char *what, const char **value_r)
{
	if (node->type != YNODE_SCALAR) {
		return load_error(ctx, node->line, "%s must be a single value, "
				  "not %s", what, ynode_kind(node));
	}
	if (node->has_nul)
		return load_error(ctx, node->line, "%s contains NUL", what);
	if (strchr(node->value, '\n') != NULL) {
		return load_error(ctx, node->line, "%s contains a line break "
				  "(not possible in dovecot.conf)", what);
	}
	*value_r = node->value;
	return 0;
}

static int map_key_get(struct load_ctx *ctx, const struct ynode *node,
		       const char **key_r)
{
	if (node->type != YNODE_SCALAR || node->null) {
		return load_error(ctx, node->line,
				  "A mapping key must be a non-empty string");
	}
	return scalar_get(ctx, node, "A key", key_r);
}

/* Free-form keys (plugin, dict) must read back as one word. */
static bool conf_key_ok(const char *key)
{
	if (key[0] == '\0' || key[0] == '!')
		return false;
	for (; *key != '\0'; key++) {
		if (*key <= 0x20 || *key == 0x7f ||
		    strchr("=#{}\"'\\", *key) != NULL)
			return false;
	}
	return true;
}

static int conv_value(struct load_ctx *ctx, const char *key,
		      const struct ynode *node)
{
	const char *value;

	if (scalar_get(ctx, node, key, &value) < 0)
		return -1;
	if (conf_file_ref_ok(value))
		conf_line(ctx, node->line, "%s = %s", key, value);
	else
		conf_line(ctx, node->line, "%s = %s", key,
			  conf_quote(ctx, value));
	return 0;
}

static int conv_strlist(struct load_ctx *ctx, const char *key,
			const struct ynode *node)
{
	struct hash_table *seen;
	int ret = 0;

	if (!node->null && node->type != YNODE_MAPPING) {
		return load_error(ctx, node->line, "%s must be a mapping, "
				  "not %s", key, ynode_kind(node));
	}
	conf_line(ctx, node->line, "%s {", key);
	seen = hash_create(false);
	for (unsigned int i = 0; i + 1 < node->count && ret == 0; i += 2) {
		const struct ynode *k = node->items[i];
		const char *name;

		if (map_key_get(ctx, k, &name) < 0)
			ret = -1;
		else if (!conf_key_ok(name))
			ret = load_error(ctx, k->line, "Invalid key in %s: %s",
					 key, name);
		else if (hash_insert(seen, name, (void *)k) != NULL)
			ret = load_error(ctx, k->line, "Duplicate key: %s",
					 name);
		else
			ret = conv_value(ctx, name, node->items[i + 1]);
	}
	hash_destroy(&seen);
	conf_line(ctx, node->line, "}");
	return ret;
}

static int conv_settings(struct load_ctx *ctx, const struct ynode *map,
			 const struct setting_info *info, int skip_idx,
			 const char *prefix);

/* The name of a list element: its key setting's value. */
static int list_item_name(struct load_ctx *ctx, const struct ynode *item,
			  const struct setting_info *info, const char **name_r)
{
	const char *key = info->defs[info->key_idx].key;

	*name_r = "";
	for (unsigned int i = 0; i + 1 < item->count; i += 2) {
		const struct ynode *k = item->items[i];

		if (k->type == YNODE_SCALAR && strcmp(k->value, key) == 0)
			return scalar_get(ctx, item->items[i + 1], key,
					  name_r);
	}
	return 0;
}

static int conv_list(struct load_ctx *ctx, const char *key,
		     const struct ynode *node, const struct setting_info *info,
		     const char *prefix)
{
	const char *cprefix = p_strdup_printf(ctx->pool, "%s%s { ", prefix,
					      key);

	if (node->null)
		return 0;
	if (node->type != YNODE_SEQUENCE) {
		return load_error(ctx, node->line, "%s must be a sequence, "
				  "not %s", key, ynode_kind(node));
	}
	for (unsigned int i = 0; i < node->count; i++) {
		const struct ynode *item = node->items[i];
		const char *name;

		if (item->type != YNODE_MAPPING) {
			return load_error(ctx, item->line, "%s entries must "
					  "be mappings, not %s", key,
					  ynode_kind(item));
		}
		if (info->key_idx < 0) {
			conf_line(ctx, item->line, "%s {", key);
		} else {
			if (list_item_name(ctx, item, info, &name) < 0)
				return -1;
			conf_line(ctx, item->line, "%s %s {", key,
				  conf_quote(ctx, name));
		}
		if (conv_settings(ctx, item, info, info->key_idx, cprefix) < 0)
			return -1;
		conf_line(ctx, item->line, "}");
	}
	return 0;
}

/* A mapping of settings of one block described by info. */
static int conv_settings(struct load_ctx *ctx, const struct ynode *map,
			 const struct setting_info *info, int skip_idx,
			 const char *prefix)
{
	bool *seen = p_new(ctx->pool, bool, info->count);

	for (unsigned int i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		const struct setting_def *def;
		const char *key;
		int idx, ret;

		if (map_key_get(ctx, k, &key) < 0)
			return -1;
		idx = setting_info_find(info, key);
		if (idx < 0) {
			return load_error(ctx, k->line, "Unknown setting: %s%s",
					  prefix, key);
		}
		if (seen[idx])
			return load_error(ctx, k->line, "Duplicate key: %s",
					  key);
		seen[idx] = true;
		if (idx == skip_idx)
			continue;
		def = &info->defs[idx];
		if (def->type == SET_DEFLIST)
			ret = conv_list(ctx, key, v,
					&setting_infos[def->list_info], prefix);
		else if (def->type == SET_STRLIST)
			ret = conv_strlist(ctx, key, v);
		else
			ret = conv_value(ctx, key, v);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int conv_block_settings(struct load_ctx *ctx, const struct ynode *node)
{
	if (node->null)
		return 0;
	if (node->type != YNODE_MAPPING) {
		return load_error(ctx, node->line, "settings must be a "
				  "mapping, not %s", ynode_kind(node));
	}
	return conv_settings(ctx, node, &setting_infos[INFO_ROOT], -1, "");
}

/* filter: {protocol, local, remote, local_name} -> nested sections in
 * the order the parser accepts. Returns the number opened, or -1. */
static int conv_filter_open(struct load_ctx *ctx, const struct ynode *node)
{
	static const char *const order[] = {
		"local", "local_name", "remote", "protocol"
	};
	const struct ynode *values[N_ELEMENTS(order)] = { NULL };
	const char *key, *value;
	int opened = 0;

	if (node->type != YNODE_MAPPING) {
		return load_error(ctx, node->line, "filter must be a mapping, "
				  "not %s", ynode_kind(node));
	}
	for (unsigned int i = 0; i + 1 < node->count; i += 2) {
		unsigned int j;

		if (map_key_get(ctx, node->items[i], &key) < 0)
			return -1;
		for (j = 0; j < N_ELEMENTS(order); j++) {
			if (strcmp(order[j], key) == 0)
				break;
		}
		if (j == N_ELEMENTS(order)) {
			return load_error(ctx, node->items[i]->line,
				"Unknown filter: %s (expected protocol, "
				"local, remote or local_name)", key);
		}
		if (values[j] != NULL) {
			return load_error(ctx, node->items[i]->line,
					  "Duplicate key: %s", key);
		}
		values[j] = node->items[i + 1];
	}
	for (unsigned int j = 0; j < N_ELEMENTS(order); j++) {
		if (values[j] == NULL)
			continue;
		if (scalar_get(ctx, values[j], order[j], &value) < 0)
			return -1;
		conf_line(ctx, values[j]->line, "%s %s {", order[j],
			  conf_quote(ctx, value));
		opened++;
	}
	if (opened == 0)
		return load_error(ctx, node->line, "Empty filter");
	return opened;
}

static int conv_filter(struct load_ctx *ctx, const struct ynode *item)
{
	const struct ynode *filter = NULL, *settings = NULL;
	const char *key;
	int opened;

	if (item->type != YNODE_MAPPING) {
		return load_error(ctx, item->line, "filters entries must be "
				  "mappings, not %s", ynode_kind(item));
	}
	for (unsigned int i = 0; i + 1 < item->count; i += 2) {
		const struct ynode **dest;

		if (map_key_get(ctx, item->items[i], &key) < 0)
			return -1;
		if (strcmp(key, "filter") == 0)
			dest = &filter;
		else if (strcmp(key, "settings") == 0)
			dest = &settings;
		else
			return load_error(ctx, item->items[i]->line,
				"Unknown key in filters entry: %s "
				"(expected filter or settings)", key);
		if (*dest != NULL)
			return load_error(ctx, item->items[i]->line,
					  "Duplicate key: %s", key);
		*dest = item->items[i + 1];
	}
	if (filter == NULL)
		return load_error(ctx, item->line, "filters entry without "
				  "filter");
	if ((opened = conv_filter_open(ctx, filter)) < 0)
		return -1;
	if (settings != NULL && conv_block_settings(ctx, settings) < 0)
		return -1;
	while (opened-- > 0)
		conf_line(ctx, item->line, "}");
	return 0;
}

static int conv_filters(struct load_ctx *ctx, const struct ynode *node)
{
	if (node->null)
		return 0;
	if (node->type != YNODE_SEQUENCE) {
		return load_error(ctx, node->line, "filters must be a "
				  "sequence, not %s", ynode_kind(node));
	}
	for (unsigned int i = 0; i < node->count; i++) {
		if (conv_filter(ctx, node->items[i]) < 0)
			return -1;
	}
	return 0;
}

static int conv_document(struct load_ctx *ctx, const struct ynode *root)
{
	const struct ynode *settings = NULL, *filters = NULL;
	const char *key;

	if (root == NULL || root->null)
		return 0;
	if (root->type != YNODE_MAPPING) {
		return load_error(ctx, root->line, "The document must be a "
				  "mapping (settings:, filters:), not %s",
				  ynode_kind(root));
	}
	for (unsigned int i = 0; i + 1 < root->count; i += 2) {
		const struct ynode **dest;

		if (map_key_get(ctx, root->items[i], &key) < 0)
			return -1;
		if (strcmp(key, "settings") == 0)
			dest = &settings;
		else if (strcmp(key, "filters") == 0)
			dest = &filters;
		else
			return load_error(ctx, root->items[i]->line,
				"Unknown top-level key: %s (expected "
				"settings or filters)", key);
		if (*dest != NULL)
			return load_error(ctx, root->items[i]->line,
					  "Duplicate key: %s", key);
		*dest = root->items[i + 1];
	}
	if (settings != NULL && conv_block_settings(ctx, settings) < 0)
		return -1;
	if (filters != NULL && conv_filters(ctx, filters) < 0)
		return -1;
	return 0;
}

/* The parser's "... file F line N: msg" with N mapped to the YAML line
 * the generated line came from. */
static const char *map_parse_error(struct load_ctx *ctx, const char *error)
{
	const char *prefix = p_strdup_printf(ctx->pool,
		"Error in configuration file %s line ", ctx->path);
	const char *rest;
	char *end;
	unsigned long n;

	if (!str_begins(error, prefix, &rest))
		return error;
	errno = 0;
	n = strtoul(rest, &end, 10);
	if (end == rest || *end != ':' || errno != 0 || n == 0 ||
	    n > ctx->lines.count)
		return error;
	return p_strdup_printf(ctx->pool, "%s%u%s", prefix,
			       ctx->lines.v[n - 1], end);
}

int config_yaml_load_string(const char *name, const char *text, size_t size,
			    enum config_parse_flags flags,
			    struct config **config_r, const char **error_r)
{
	struct load_ctx ctx;
	struct ynode *root;
	const char *error;
	int ret = -1;

	*config_r = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool_create("config yaml load", 64 * 1024);
	ctx.path = name;
	ctx.conf = str_new(16 * 1024);
	if (size > YAML_MAX_SIZE) {
		ctx.error = p_strdup_printf(ctx.pool, "YAML error in %s: "
			"larger than %u MB", name, YAML_MAX_SIZE / 1024 / 1024);
	} else if (yaml_build_tree(&ctx, text, size, &root) == 0 &&
		   conv_document(&ctx, root) == 0) {
		ret = config_parse_string(name, str_c(ctx.conf),
					  flags | CONFIG_PARSE_NO_OBSOLETE,
					  config_r, &error);
		if (ret < 0)
			ctx.error = map_parse_error(&ctx, error);
	}
	if (ret < 0)
		*error_r = error_keep(ctx.error);
	array_free(&ctx.lines);
	str_free(&ctx.conf);
	pool_destroy(&ctx.pool);
	return ret;
}

static int yaml_read_file(const char *path, string_t *buf,
			  const char **error_r)
{
	FILE *f = fopen(path, "r");
	char chunk[8192], msg[1024];
	size_t n;

	if (f == NULL) {
		snprintf(msg, sizeof(msg), "open(%s) failed: %s", path,
			 strerror(errno));
		*error_r = error_keep(msg);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		str_append_n(buf, chunk, n);
		if (str_len(buf) > YAML_MAX_SIZE)
			break;
	}
	if (ferror(f)) {
		snprintf(msg, sizeof(msg), "read(%s) failed: %s", path,
			 strerror(errno));
		*error_r = error_keep(msg);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int config_yaml_load(const char *path, enum config_parse_flags flags,
		     struct config **config_r, const char **error_r)
{
	string_t *buf = str_new(16 * 1024);
	int ret;

	*config_r = NULL;
	ret = yaml_read_file(path, buf, error_r);
	if (ret == 0) {
		ret = config_yaml_load_string(path, str_c(buf), str_len(buf),
					      flags, config_r, error_r);
	}
	str_free(&buf);
	return ret;
}

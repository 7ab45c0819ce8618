/* dialect.c - reading Dovecot 1.x and 2.4 dovecot.conf files: a line tree
 * reader for every dialect, the detection, the writer of 2.3 text with
 * "#@line N FILE" markers, and the 1.x -> 2.3 translation. The 2.4 one is
 * in dialect-24.c.
 *
 * The 1.x translation rewrites only what Dovecot 2.3's own converter
 * (confparse/config-obsolete.c, "Obsolete setting" warnings) does not:
 * namespace types, auth sockets, several auth sections, settings renamed
 * or removed before 2.0, unitless times. What 2.3 converts itself
 * (auth default {}, ssl_disable, login_*, imaps ...) is left in place so
 * its messages are Dovecot's own. */
#include "lib.h"
#include "str.h"
#include "dialect-private.h"
#include "settings-schema.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#define DIALECT_MAX_INCLUDE_DEPTH 100
#define DIALECT_MAX_DEPTH 1000
#define DIALECT_MAX_FILE_SIZE (64 * 1024 * 1024)
#define DIALECT_MAX_TOTAL_SIZE (256 * 1024 * 1024)

#define IS_WHITE(c) ((c) == ' ' || (c) == '\t')

const char *dialect_name(enum config_dialect dialect)
{
	switch (dialect) {
	case CONFIG_DIALECT_23: return "2.3";
	case CONFIG_DIALECT_1X: return "1.x";
	case CONFIG_DIALECT_24: return "2.4";
	}
	return "?";
}

/* ---- messages ---- */

void dialect_error(struct dtree *tree, const struct dnode *at,
		   const char *fmt, ...)
{
	va_list args;
	char *msg;

	if (tree->error != NULL)
		return;
	va_start(args, fmt);
	msg = p_strdup_vprintf(tree->pool, fmt, args);
	va_end(args);
	tree->error = p_strdup_printf(tree->pool,
		"Error in configuration file %s line %u: %s",
		at->file, at->line, msg);
}

void dialect_warning(const struct dnode *at, const char *fmt, ...)
{
	va_list args;
	char *msg;

	va_start(args, fmt);
	msg = i_strdup_vprintf(fmt, args);
	va_end(args);
	i_warning("%s:%u: %s", at->file, at->line, msg);
	free(msg);
}

int dialect_root_type(const char *key)
{
	int idx = setting_info_find(&setting_infos[INFO_ROOT], key);

	return idx < 0 ? -1 : (int)setting_infos[INFO_ROOT].defs[idx].type;
}

/* ---- nodes ---- */

static struct dnode *dnode_new(pool_t pool, const struct dnode *at)
{
	struct dnode *node = p_new(pool, struct dnode, 1);

	if (at != NULL) {
		node->file = at->file;
		node->line = at->line;
	}
	return node;
}

struct dnode *dnode_new_setting(pool_t pool, const struct dnode *at,
				const char *key, const char *value,
				bool is_file)
{
	struct dnode *node = dnode_new(pool, at);

	node->key = p_strdup(pool, key);
	node->val = p_strdup(pool, value);
	node->is_file = is_file;
	return node;
}

struct dnode *dnode_new_section(pool_t pool, const struct dnode *at,
				const char *key, const char *name)
{
	struct dnode *node = dnode_new(pool, at);

	node->section = true;
	node->key = p_strdup(pool, key);
	node->name = name == NULL ? NULL : p_strdup(pool, name);
	return node;
}

void dnode_append(struct dnode *parent, struct dnode *child)
{
	struct dnode **p = &parent->children;

	while (*p != NULL)
		p = &(*p)->next;
	*p = child;
	child->parent = parent;
	child->next = NULL;
}

void dnode_insert_after(struct dnode *after, struct dnode *node)
{
	node->parent = after->parent;
	node->next = after->next;
	after->next = node;
}

struct dnode *dnode_child(const struct dnode *node, const char *key)
{
	for (struct dnode *c = node->children; c != NULL; c = c->next) {
		if (!c->removed && strcmp(c->key, key) == 0)
			return c;
	}
	return NULL;
}

struct dnode *dnode_child_setting(const struct dnode *node, const char *key)
{
	for (struct dnode *c = node->children; c != NULL; c = c->next) {
		if (!c->removed && !c->section && strcmp(c->key, key) == 0)
			return c;
	}
	return NULL;
}

struct dnode *dnode_add_setting(pool_t pool, struct dnode *parent,
				const struct dnode *at, const char *key,
				const char *value, bool done)
{
	struct dnode *n = dnode_new_setting(pool, at, key, value, false);

	n->done = done;
	dnode_append(parent, n);
	return n;
}

struct dnode *dialect_scope_plugin(pool_t pool, struct dnode *scope,
				  const struct dnode *at)
{
	struct dnode *plugin = NULL;

	for (struct dnode *c = scope->children; c != NULL; c = c->next) {
		if (c->section && !c->removed && strcmp(c->key, "plugin") == 0)
			plugin = c;
	}
	if (plugin == NULL) {
		plugin = dnode_new_section(pool, at, "plugin", NULL);
		plugin->done = true;
		dnode_append(scope, plugin);
	}
	return plugin;
}

const char *dialect_strip_prefix(const char *key, const char *prefix)
{
	const char *rest;

	return str_begins(key, prefix, &rest) && *rest != '\0' ? rest : key;
}

static char *unescape(pool_t pool, const char *s, size_t len)
{
	char *ret = p_malloc(pool, len + 1), *d = ret;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		*d++ = s[i];
	}
	*d = '\0';
	return ret;
}

const char *dnode_value(pool_t pool, const struct dnode *node)
{
	const char *v = node->raw;
	size_t len;

	if (v == NULL)
		return node->val == NULL ? "" : node->val;
	if (*v == '<') {
		v++;
		while (IS_WHITE(*v))
			v++;
		return v;
	}
	len = strlen(v);
	if (len >= 2 && ((v[0] == '"' && v[len - 1] == '"') ||
			 (v[0] == '\'' && v[len - 1] == '\'')))
		return unescape(pool, v + 1, len - 2);
	return v;
}

void dnode_set_value(struct dnode *node, const char *value)
{
	node->is_file = node->raw != NULL && node->raw[0] == '<';
	node->raw = NULL;
	node->val = value;
}

/* ---- reader ---- */

struct reader {
	struct dtree *tree;
	struct dnode *cur;
	unsigned int depth, include_depth;
	size_t total;
	const char *const *stack;	/* files being read, for recursion */
};

static int read_whole_file(pool_t pool, const char *path, size_t max,
			   char **text_r, size_t *size_r, const char **error_r)
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
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (str_len(str) + n > max) {
			*error_r = p_strdup_printf(pool, "%s: File too large "
						   "(over %zu bytes)", path, max);
			fclose(f);
			str_free(&str);
			return -1;
		}
		str_append_n(str, buf, n);
	}
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

static int read_text(struct reader *r, const char *path, const char *text,
		     size_t size);

static int read_include(struct reader *r, const struct dnode *at,
			const char *pattern, bool try_only)
{
	struct dtree *tree = r->tree;
	const char *slash = strrchr(at->file, '/');
	const char *path = pattern;
	glob_t gl;
	int ret;

	if (pattern[0] != '/' && slash != NULL) {
		path = p_strdup_printf(tree->pool, "%.*s%s",
				       (int)(slash + 1 - at->file), at->file,
				       pattern);
	}
	memset(&gl, 0, sizeof(gl));
	ret = glob(path, GLOB_BRACE, NULL, &gl);
	if (ret == GLOB_NOMATCH) {
		globfree(&gl);
		if (!try_only)
			dialect_error(tree, at, "No matches");
		return try_only ? 0 : -1;
	}
	if (ret != 0) {
		globfree(&gl);
		dialect_error(tree, at, "glob() failed");
		return -1;
	}
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		const char *file = p_strdup(tree->pool, gl.gl_pathv[i]);
		char *text;
		size_t size;
		const char *error;

		if (r->include_depth >= DIALECT_MAX_INCLUDE_DEPTH) {
			dialect_error(tree, at, "Too many nested include "
				      "files: %s", file);
			globfree(&gl);
			return -1;
		}
		for (const char *const *s = r->stack; s != NULL && *s != NULL;
		     s++) {
			if (strcmp(*s, file) == 0) {
				dialect_error(tree, at, "Recursive include "
					      "file: %s", file);
				globfree(&gl);
				return -1;
			}
		}
		if (read_whole_file(tree->pool, file,
				    DIALECT_MAX_FILE_SIZE, &text, &size,
				    &error) < 0) {
			dialect_error(tree, at, "%s", error);
			globfree(&gl);
			return -1;
		}
		r->total += size;
		if (r->total > DIALECT_MAX_TOTAL_SIZE) {
			dialect_error(tree, at, "%s: File too large", file);
			globfree(&gl);
			return -1;
		}
		r->include_depth++;
		ret = read_text(r, file, text, size);
		r->include_depth--;
		if (ret < 0) {
			globfree(&gl);
			return -1;
		}
	}
	globfree(&gl);
	return 0;
}

static void strip_comment(char *line)
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
			*p = '\0';
			break;
		}
	}
}

/* One logical line (continuations joined) at file:linenum. */
static int read_line(struct reader *r, const char *path, unsigned int linenum,
		     char *line)
{
	struct dtree *tree = r->tree;
	struct dnode at = { .file = path, .line = linenum };
	struct dnode *node;
	char *key, *p;

	key = line;
	if (*line == '"') {
		/* 2.4: a quoted key (strlist/boollist entries) */
		bool closed;

		for (p = line + 1; *p != '"' && *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
		}
		closed = *p == '"';
		key = unescape(tree->pool, line + 1, (size_t)(p - line - 1));
		if (closed)
			p++;
		line = p;
		if (IS_WHITE(*line))
			*line++ = '\0';
	} else {
		while (!IS_WHITE(*line) && *line != '\0' && *line != '=')
			line++;
		if (IS_WHITE(*line))
			*line++ = '\0';
	}
	while (IS_WHITE(*line))
		line++;
	if (strcmp(key, "!include") == 0 || strcmp(key, "!include_try") == 0)
		return read_include(r, &at, line, key[8] != '\0');
	if (*line == '=') {
		*line++ = '\0';
		while (IS_WHITE(*line))
			line++;
		node = dnode_new(tree->pool, &at);
		node->key = p_strdup(tree->pool, key);
		node->raw = p_strdup(tree->pool, line);
		dnode_append(r->cur, node);
		return 0;
	}
	if (strcmp(key, "}") == 0 && *line == '\0') {
		if (r->cur == tree->root) {
			dialect_error(tree, &at, "Unexpected '}'");
			return -1;
		}
		r->cur = r->cur->parent;
		r->depth--;
		return 0;
	}
	if (key[0] == '\0') {
		dialect_error(tree, &at, "Missing key name ('=' at the "
			      "beginning of line)");
		return -1;
	}
	node = dnode_new(tree->pool, &at);
	node->section = true;
	node->key = p_strdup(tree->pool, key);
	if (*line == '"') {
		char *name = ++line;

		while (*line != '"' && *line != '\0')
			line++;
		node->name = p_strndup(tree->pool, name,
				       (size_t)(line - name));
		if (*line == '"')
			line++;
		while (IS_WHITE(*line))
			line++;
	} else if (*line != '{' && *line != '\0') {
		char *name = line;

		while (!IS_WHITE(*line) && *line != '\0')
			line++;
		node->name = p_strndup(tree->pool, name,
				       (size_t)(line - name));
		while (IS_WHITE(*line))
			line++;
		if (strcmp(key, "group") == 0 && node->name[0] == '@' &&
		    tree->dialect == CONFIG_DIALECT_24 && *line != '{' &&
		    *line != '\0') {
			/* group @label name { }: name = "@label name" */
			name = line;
			while (!IS_WHITE(*line) && *line != '\0')
				line++;
			node->name = p_strdup_printf(tree->pool, "%s %.*s",
						     node->name,
						     (int)(line - name), name);
			while (IS_WHITE(*line))
				line++;
		}
	}
	if (*line != '{') {
		dialect_error(tree, &at, "Expecting '{'");
		return -1;
	}
	/* 1.x ignored anything after '{' */
	if (line[1] != '\0' && tree->dialect != CONFIG_DIALECT_1X) {
		dialect_error(tree, &at, "Garbage after '{'");
		return -1;
	}
	node->garbage = line[1] != '\0';
	if (++r->depth > DIALECT_MAX_DEPTH) {
		dialect_error(tree, &at, "Too deeply nested sections");
		return -1;
	}
	dnode_append(r->cur, node);
	r->cur = node;
	return 0;
}

static int read_text(struct reader *r, const char *path, const char *text,
		     size_t size)
{
	string_t *full = str_new(256);
	const char *const *old_stack = r->stack;
	const char **stack;
	unsigned int linenum = 0, full_line = 0, n = 0;
	size_t pos = 0;
	int ret = 0;

	while (old_stack != NULL && old_stack[n] != NULL)
		n++;
	stack = p_new(r->tree->pool, const char *, n + 2);
	for (unsigned int i = 0; i < n; i++)
		stack[i] = old_stack[i];
	stack[n] = path;
	r->stack = stack;

	while (pos < size && ret == 0) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', size - pos);
		size_t len = nl == NULL ? size - pos : (size_t)(nl - start);
		const char *nul;
		char *line, *p;

		linenum++;
		pos += len + (nl == NULL ? 0 : 1);
		if ((nul = memchr(start, '\0', len)) != NULL)
			len = (size_t)(nul - start);
		else if (len > 0 && start[len - 1] == '\r')
			len--;
		line = p_strndup(r->tree->pool, start, len);
		while (IS_WHITE(*line))
			line++;
		if (*line == '\0') {
			str_clear(full);
			continue;
		}
		if (*line == '#')
			continue;
		strip_comment(line);
		len = strlen(line);
		while (len > 0 && IS_WHITE(line[len - 1]))
			len--;
		line[len] = '\0';
		if (len > 0 && line[len - 1] == '\\') {
			if (str_len(full) == 0)
				full_line = linenum;
			len--;
			if (r->tree->dialect == CONFIG_DIALECT_1X) {
				/* 1.x joins without adding a space */
				str_append_n(full, line, len);
			} else {
				while (len > 0 && IS_WHITE(line[len - 1]))
					len--;
				if (len > 0) {
					str_append_n(full, line, len);
					str_append_c(full, ' ');
				}
			}
			continue;
		}
		if (str_len(full) > 0) {
			str_append(full, line);
			line = p_strdup(r->tree->pool, str_c(full));
			str_clear(full);
		} else {
			full_line = linenum;
		}
		if (*line == '\0')
			continue;
		p = line;
		ret = read_line(r, path, full_line, p);
	}
	str_free(&full);
	r->stack = old_stack;
	return ret;
}

static int read_start(struct dtree *tree, struct reader *r)
{
	memset(r, 0, sizeof(*r));
	r->tree = tree;
	tree->root = p_new(tree->pool, struct dnode, 1);
	tree->root->section = true;
	tree->root->key = "";
	r->cur = tree->root;
	return 0;
}

static int read_finish(struct dtree *tree, struct reader *r, const char *path,
		       int ret)
{
	if (ret == 0 && r->cur != tree->root) {
		tree->error = p_strdup_printf(tree->pool,
			"Error in configuration file %s: Missing '}' "
			"(section started at %s:%u)", path, r->cur->file,
			r->cur->line);
		return -1;
	}
	return ret < 0 || tree->error != NULL ? -1 : 0;
}

int dtree_read_string(struct dtree *tree, const char *name, const char *text)
{
	struct reader r;

	(void)read_start(tree, &r);
	return read_finish(tree, &r, name,
			   read_text(&r, p_strdup(tree->pool, name), text,
				     strlen(text)));
}

int dtree_read_file(struct dtree *tree, const char *path)
{
	struct reader r;
	char *text;
	size_t size;
	const char *error;

	(void)read_start(tree, &r);
	if (read_whole_file(tree->pool, path, DIALECT_MAX_FILE_SIZE, &text,
			    &size, &error) < 0) {
		tree->error = error;
		return -1;
	}
	r.total = size;
	return read_finish(tree, &r, path,
			   read_text(&r, p_strdup(tree->pool, path), text,
				     size));
}

/* ---- writer ---- */

static bool value_needs_quotes(const struct dnode *node, const char *v)
{
	size_t len = strlen(v);

	if (len == 0)
		return false;
	if (IS_WHITE(v[0]) || IS_WHITE(v[len - 1]) || v[0] == '"' ||
	    v[0] == '\'' || v[0] == '<' || strchr(v, '#') != NULL ||
	    v[len - 1] == '\\')
		return true;
	return !node->expand && strchr(v, '$') != NULL;
}

static void write_value(string_t *out, const struct dnode *node)
{
	const char *v = node->val == NULL ? "" : node->val;

	if (node->is_file) {
		str_printfa(out, "<%s", v);
		return;
	}
	if (!value_needs_quotes(node, v)) {
		str_append(out, v);
		return;
	}
	str_append_c(out, '"');
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			str_append_c(out, '\\');
		str_append_c(out, *v);
	}
	str_append_c(out, '"');
}

static void write_name(string_t *out, const char *name)
{
	bool quote = *name == '\0' || strpbrk(name, " \t\"{}#") != NULL;

	if (quote)
		str_printfa(out, "\"%s\"", name);
	else
		str_append(out, name);
}

static void write_nodes(const struct dnode *parent, string_t *out,
			bool markers, unsigned int depth)
{
	for (const struct dnode *n = parent->children; n != NULL;
	     n = n->next) {
		if (n->removed)
			continue;
		if (markers && n->file != NULL)
			str_printfa(out, "#@line %u %s\n", n->line, n->file);
		for (unsigned int i = 0; !markers && i < depth; i++)
			str_append(out, "  ");
		if (!n->section) {
			str_printfa(out, "%s = ", n->key);
			if (n->raw != NULL)
				str_append(out, n->raw);
			else
				write_value(out, n);
			str_append_c(out, '\n');
			continue;
		}
		str_append(out, n->key);
		if (n->name != NULL) {
			str_append_c(out, ' ');
			write_name(out, n->name);
		}
		str_append(out, " {\n");
		write_nodes(n, out, markers, depth + 1);
		if (markers && n->file != NULL)
			str_printfa(out, "#@line %u %s\n", n->line, n->file);
		for (unsigned int i = 0; !markers && i < depth; i++)
			str_append(out, "  ");
		str_append(out, "}\n");
	}
}

void dtree_write(const struct dtree *tree, string_t *out, bool markers)
{
	write_nodes(tree->root, out, markers, 0);
}

/* ---- detection ---- */

/* Settings only Dovecot 1.x had (2.x's converter may still read some). */
static const char *const markers_1x[] = {
	"ssl_cert_file", "ssl_key_file", "ssl_ca_file", "ssl_disable",
	"ssl_listen", "login_process_per_connection",
	"login_processes_count", "login_max_processes_count",
	"login_max_connections", "login_process_size", "login_executable",
	"login_user", "login_chroot", "login_dir", "max_mail_processes",
	"mail_executable", "mail_process_size", "mail_drop_priv_before_exec",
	"auth_executable", "auth_process_size", "mail_extra_groups",
	"default_mail_env", "umask", "login_greeting_capability",
	"mail_read_mmaped", "mmap_no_write", "nfs_check", "fsync_disable",
	"dict_process_count", "auth_worker_max_request_count",
	"auth_ntlm_use_winbind", "maildir_check_content_changes",
	"mailbox_list_index_disable",
};

/* Settings and sections only Dovecot 2.4 has. */
static const char *const markers_24[] = {
	"dovecot_storage_version", "mail_driver", "mail_path",
	"mail_inbox_path", "mail_index_path", "ssl_server_cert_file",
	"ssl_server_key_file", "ssl_server", "ssl_client",
	"auth_allow_cleartext", "sieve_script", "mysql", "pgsql",
	"passdb_fields", "userdb_fields",
};

struct detect_ctx {
	pool_t pool;
	string_t *reasons_1x, *reasons_1x_weak, *reasons_24;
	unsigned int count_1x, count_1x_weak, count_24;
};

static bool str_in(const char *s, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(s, list[i]) == 0)
			return true;
	}
	return false;
}

static void add_reason(string_t *str, unsigned int *count,
		       const struct dnode *n, const char *fmt, ...)
	ATTR_FORMAT(4, 5);
static void add_reason(string_t *str, unsigned int *count,
		       const struct dnode *n, const char *fmt, ...)
{
	va_list args;

	if (++*count > 5)
		return;
	str_printfa(str, "%s:%u: ", n->file, n->line);
	va_start(args, fmt);
	str_vprintfa(str, fmt, args);
	va_end(args);
	str_append_c(str, '\n');
}

static bool has_word(const char *value, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = value; (p = strstr(p, word)) != NULL; p++) {
		if ((p == value || IS_WHITE(p[-1]) || p[-1] == ',') &&
		    (p[len] == '\0' || IS_WHITE(p[len]) || p[len] == ','))
			return true;
	}
	return false;
}

/* "*:143", "10.0.0.1:143", "[::1]:143": an address with a port. */
static bool listen_has_port(const char *value)
{
	const char *colon = strrchr(value, ':');

	if (colon == NULL || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return false;
	/* a bare IPv6 address has more colons and no brackets */
	return strchr(value, ':') == colon || colon[-1] == ']';
}

/* 2.x merges blocks of one namespace name: one of them may give the
 * type and another (or a protocol filter's) only add settings. */
static bool namespace_typed_elsewhere(const struct dnode *root,
				      const struct dnode *ns)
{
	for (const struct dnode *n = root->children; n != NULL; n = n->next) {
		if (n != ns && n->section && strcmp(n->key, "namespace") == 0 &&
		    n->name != NULL && strcmp(n->name, ns->name) == 0 &&
		    dnode_child(n, "type") != NULL)
			return true;
	}
	return false;
}

static void detect_walk(struct detect_ctx *ctx, const struct dnode *parent)
{
	for (const struct dnode *n = parent->children; n != NULL;
	     n = n->next) {
		const char *k = n->key;

		if (n->section) {
			if ((strcmp(k, "auth") == 0 || strcmp(k, "server") == 0)
			    && parent->parent == NULL) {
				add_reason(ctx->reasons_1x, &ctx->count_1x, n,
					   "%s %s { (1.x section)", k,
					   n->name == NULL ? "" : n->name);
			} else if ((strcmp(k, "passdb") == 0 ||
				    strcmp(k, "userdb") == 0) &&
				   strcmp(parent->key, "auth") == 0) {
				add_reason(ctx->reasons_1x, &ctx->count_1x, n,
					   "%s %s { inside auth { }", k,
					   n->name == NULL ? "" : n->name);
			} else if (n->garbage) {
				add_reason(ctx->reasons_1x, &ctx->count_1x, n,
					   "text after '{' (ignored by 1.x, an "
					   "error in 2.x)");
			} else if (strcmp(k, "namespace") == 0 &&
				   parent->parent == NULL &&
				   n->name != NULL &&
				   dnode_child(n, "type") == NULL &&
				   !namespace_typed_elsewhere(parent, n) &&
				   (strcmp(n->name, "private") == 0 ||
				    strcmp(n->name, "shared") == 0 ||
				    strcmp(n->name, "public") == 0)) {
				/* also a 2.x namespace that is only named so:
				   counts only with another 1.x marker */
				add_reason(ctx->reasons_1x_weak,
					   &ctx->count_1x_weak, n,
					   "namespace %s { without type (1.x: "
					   "the name is the type)", n->name);
			} else if (strcmp(k, "protocol") == 0 &&
				   n->name != NULL &&
				   strcmp(n->name, "managesieve") == 0) {
				add_reason(ctx->reasons_1x, &ctx->count_1x, n,
					   "protocol managesieve { (1.x name of "
					   "sieve)");
			} else if (strcmp(k, "socket") == 0) {
				add_reason(ctx->reasons_1x, &ctx->count_1x, n,
					   "socket %s { (1.x auth socket)",
					   n->name == NULL ? "" : n->name);
			} else if (str_in(k, markers_24,
					  N_ELEMENTS(markers_24)) ||
				   ((strcmp(k, "fields") == 0) &&
				    (strcmp(parent->key, "passdb") == 0 ||
				     strcmp(parent->key, "userdb") == 0))) {
				add_reason(ctx->reasons_24, &ctx->count_24, n,
					   "%s { (2.4 section)", k);
			} else if ((strcmp(k, "passdb") == 0 ||
				    strcmp(k, "userdb") == 0) &&
				   n->name != NULL &&
				   dnode_child(n, "driver") == NULL &&
				   dnode_child(n, "args") == NULL &&
				   parent->parent == NULL) {
				/* 2.4: the name is the driver */
				add_reason(ctx->reasons_24, &ctx->count_24, n,
					   "%s %s { without driver (2.4 "
					   "named %s)", k, n->name, k);
			}
			detect_walk(ctx, n);
			continue;
		}
		if (str_in(k, markers_1x, N_ELEMENTS(markers_1x))) {
			add_reason(ctx->reasons_1x, &ctx->count_1x, n,
				   "%s (1.x setting)", k);
		} else if (strcmp(k, "protocols") == 0 && n->raw != NULL &&
			   (has_word(n->raw, "imaps") ||
			    has_word(n->raw, "pop3s") ||
			    has_word(n->raw, "managesieve") ||
			    strcmp(n->raw, "none") == 0)) {
			add_reason(ctx->reasons_1x, &ctx->count_1x, n,
				   "protocols = %s (imaps, pop3s, managesieve "
				   "and none are 1.x protocol names)", n->raw);
		} else if ((strcmp(k, "listen") == 0 ||
			    strcmp(k, "ssl_listen") == 0) && n->raw != NULL &&
			   listen_has_port(n->raw)) {
			add_reason(ctx->reasons_1x, &ctx->count_1x, n,
				   "%s = %s (a port in listen is 1.x)", k,
				   n->raw);
		} else if (str_in(k, markers_24, N_ELEMENTS(markers_24))) {
			add_reason(ctx->reasons_24, &ctx->count_24, n,
				   "%s (2.4 setting)", k);
		} else if (n->raw != NULL && strstr(n->raw, "$SET:") != NULL) {
			add_reason(ctx->reasons_24, &ctx->count_24, n,
				   "$SET: reference (2.4)");
		} else if (n->raw != NULL && strstr(n->raw, "%{") != NULL &&
			   strchr(strstr(n->raw, "%{"), '|') != NULL) {
			add_reason(ctx->reasons_24, &ctx->count_24, n,
				   "%%{variable | filter} (2.4 syntax)");
		}
	}
}

static void detect_tree(pool_t pool, const struct dtree *tree,
			struct dialect_detection *det)
{
	struct detect_ctx ctx;
	const struct dnode *first = tree->root->children;
	string_t *reasons = str_new(256);

	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.reasons_1x = str_new(256);
	ctx.reasons_1x_weak = str_new(256);
	ctx.reasons_24 = str_new(256);
	detect_walk(&ctx, tree->root);

	memset(det, 0, sizeof(*det));
	if (first != NULL && !first->section &&
	    strcmp(first->key, "dovecot_config_version") == 0) {
		det->dialect = CONFIG_DIALECT_24;
		det->version = dnode_value(pool, first);
		str_printfa(reasons, "%s:%u: dovecot_config_version = %s is "
			    "the first setting (2.4)\n", first->file,
			    first->line, det->version);
		str_append_str(reasons, ctx.reasons_24);
	} else if (ctx.count_1x > 0) {
		det->dialect = CONFIG_DIALECT_1X;
		str_append_str(reasons, ctx.reasons_1x);
		str_append_str(reasons, ctx.reasons_1x_weak);
	} else if (ctx.count_24 > 0 ||
		   (dnode_child(tree->root, "dovecot_config_version") !=
		    NULL)) {
		det->dialect = CONFIG_DIALECT_24;
		str_append_str(reasons, ctx.reasons_24);
	} else {
		det->dialect = CONFIG_DIALECT_23;
	}
	det->reasons = p_strdup(pool, str_c(reasons));
	str_free(&reasons);
	str_free(&ctx.reasons_1x);
	str_free(&ctx.reasons_1x_weak);
	str_free(&ctx.reasons_24);
}

int dialect_detect(pool_t pool, const char *path,
		   struct dialect_detection *det_r, const char **error_r)
{
	struct dtree tree;

	memset(&tree, 0, sizeof(tree));
	tree.pool = pool;
	/* read with 2.x rules: the 1.x differences (continuations, text
	   after '{') cannot change which markers are there */
	tree.dialect = CONFIG_DIALECT_1X;
	if (dtree_read_file(&tree, path) < 0) {
		const struct dnode *first = tree.root == NULL ? NULL :
			tree.root->children;

		/* a 2.4 file with an error: the translation reports it */
		if (first != NULL && !first->section &&
		    strcmp(first->key, "dovecot_config_version") == 0) {
			detect_tree(pool, &tree, det_r);
			return 0;
		}
		*error_r = tree.error;
		return -1;
	}
	detect_tree(pool, &tree, det_r);
	return 0;
}

/* ---- 1.x -> 2.3 ---- */

/* 1.x settings with no 2.x meaning: dropped with a warning. */
static const struct {
	const char *key, *why;
} removed_1x[] = {
	{ "umask", "removed in 1.2 (files get the mode of their directory)" },
	{ "mail_read_mmaped", "removed in 1.1" },
	{ "mmap_no_write", "removed in 1.1 (use mmap_disable)" },
	{ "nfs_check", "no 2.x equivalent" },
	{ "login_greeting_capability", "removed in 1.2 (capabilities are "
	  "always sent)" },
	{ "maildir_check_content_changes", "no 2.x equivalent" },
	{ "dbox_rotate_days", "removed in 2.0 (nearest: "
	  "mdbox_rotate_interval)" },
	{ "convert_mail", "the convert plugin is gone (use dsync)" },
};

struct t1x_ctx {
	struct dtree *tree;
	struct dnode *first_auth;
	unsigned int ns_count[3];
};

/* The space-separated words of s. */
static char **split_spaces(pool_t pool, const char *s, unsigned int *count_r)
{
	char *copy = p_strdup(pool, s), *save = NULL, *w;
	char **words = p_new(pool, char *, strlen(s) / 2 + 2);
	unsigned int n = 0;

	for (w = strtok_r(copy, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	*count_r = n;
	return words;
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
	}
	return true;
}

/* 1.x times are bare seconds; 2.3 wants a unit. */
static void fix_time_units(struct t1x_ctx *ctx, struct dnode *n,
			   const char *key23)
{
	const char *v = dnode_value(ctx->tree->pool, n);

	if (dialect_root_type(key23) == SET_TIME && all_digits(v))
		dnode_set_value(n, p_strdup_printf(ctx->tree->pool,
						   "%s secs", v));
}

static const char *words_replace(pool_t pool, const char *value,
				 const char *from, const char *to,
				 bool *changed_r)
{
	string_t *str = str_new(64);
	const char *ret, *p = value;

	*changed_r = false;
	while (*p != '\0') {
		const char *end = p;

		while (*end != '\0' && !IS_WHITE(*end))
			end++;
		if ((size_t)(end - p) == strlen(from) &&
		    strncmp(p, from, strlen(from)) == 0) {
			str_append(str, to);
			*changed_r = true;
		} else {
			str_append_n(str, p, (size_t)(end - p));
		}
		for (p = end; IS_WHITE(*p); p++)
			str_append_c(str, *p);
	}
	ret = p_strdup(pool, str_c(str));
	str_free(&str);
	return ret;
}

/* A setting at the top level or in protocol { } of a 1.x file. */
static void t1x_setting(struct t1x_ctx *ctx, struct dnode *n)
{
	pool_t pool = ctx->tree->pool;
	const char *k = n->key, *v = dnode_value(pool, n);
	bool changed;

	for (unsigned int i = 0; i < N_ELEMENTS(removed_1x); i++) {
		if (strcmp(k, removed_1x[i].key) == 0) {
			dialect_warning(n, "1.x setting %s has no 2.x meaning "
					"and is ignored: %s", k,
					removed_1x[i].why);
			n->removed = true;
			return;
		}
	}
	if (strcmp(k, "default_mail_env") == 0) {
		dialect_warning(n, "1.x setting default_mail_env is "
				"mail_location in 2.x");
		n->key = "mail_location";
	} else if (strcmp(k, "mail_extra_groups") == 0) {
		dialect_warning(n, "1.x setting mail_extra_groups is "
				"mail_access_groups in 2.x");
		n->key = "mail_access_groups";
	} else if (strcmp(k, "auth_ntlm_use_winbind") == 0) {
		n->key = "auth_use_winbind";
	} else if (strcmp(k, "mailbox_list_index_disable") == 0) {
		n->key = "mailbox_list_index";
		dnode_set_value(n, strcasecmp(v, "yes") == 0 ? "no" : "yes");
	} else if (strcmp(k, "dict_process_count") == 0) {
		struct dnode *svc = dnode_new_section(pool, n, "service",
						      "dict");

		dnode_append(svc, dnode_new_setting(pool, n, "process_limit",
						    v, false));
		dnode_insert_after(n, svc);
		n->removed = true;
	} else if (strcmp(k, "dbox_rotate_size") == 0 && all_digits(v)) {
		/* 1.x: kilobytes (2.3's own converter would keep bytes) */
		dialect_warning(n, "1.x setting dbox_rotate_size is "
				"mdbox_rotate_size in 2.x (%s kilobytes)", v);
		n->key = "mdbox_rotate_size";
		dnode_set_value(n, p_strdup_printf(pool, "%sk", v));
	} else if (strcmp(k, "protocols") == 0 && strcmp(v, "none") == 0) {
		dnode_set_value(n, "");
	} else if (strcmp(k, "mail_plugins") == 0) {
		const char *nv = words_replace(pool, v, "cmusieve", "sieve",
					       &changed);
		if (changed) {
			dialect_warning(n, "mail_plugins: the cmusieve plugin "
					"is sieve (Pigeonhole) in 2.x");
			dnode_set_value(n, nv);
		}
	} else {
		fix_time_units(ctx, n, k);
	}
}

/* unix_listener for a 1.x auth socket: a path under the default base_dir
 * becomes relative to base_dir, as 2.x names its listeners. */
static const char *socket_listener_name(const char *path)
{
	const char *rel;

	if (str_begins(path, "/var/run/dovecot/", &rel) ||
	    str_begins(path, "/run/dovecot/", &rel))
		return rel;
	return path;
}

static void t1x_socket(struct t1x_ctx *ctx, struct dnode *auth,
		       struct dnode *sock)
{
	pool_t pool = ctx->tree->pool;
	struct dnode *svc = NULL;

	sock->removed = true;
	if (sock->name == NULL || strcmp(sock->name, "listen") != 0) {
		dialect_warning(sock, "1.x auth socket %s { } (an external "
				"auth server) has no 2.x form here and is "
				"ignored: set auth_socket_path instead",
				sock->name == NULL ? "" : sock->name);
		return;
	}
	for (struct dnode *c = sock->children; c != NULL; c = c->next) {
		struct dnode *path, *lis;
		const char *name;

		if (!c->section || (strcmp(c->key, "client") != 0 &&
				    strcmp(c->key, "master") != 0)) {
			dialect_error(ctx->tree, c, "Unknown section in 1.x "
				      "socket listen { }: %s", c->key);
			return;
		}
		path = dnode_child(c, "path");
		if (path == NULL) {
			dialect_error(ctx->tree, c, "1.x auth socket %s { } "
				      "without path", c->key);
			return;
		}
		name = socket_listener_name(dnode_value(pool, path));
		if (strcmp(c->key, "master") == 0 &&
		    !str_ends(name, "-master") && !str_ends(name, "-userdb")) {
			dialect_warning(c, "1.x auth master socket %s: 2.x "
					"serves userdb lookups on a listener "
					"whose name ends in -master or -userdb; "
					"using auth-userdb", name);
			name = "auth-userdb";
		}
		if (svc == NULL) {
			svc = dnode_new_section(pool, sock, "service", "auth");
			dnode_insert_after(auth, svc);
		}
		lis = dnode_new_section(pool, c, "unix_listener", name);
		dnode_append(svc, lis);
		for (struct dnode *s = c->children; s != NULL; s = s->next) {
			if (s == path)
				continue;
			if (s->section || (strcmp(s->key, "mode") != 0 &&
					   strcmp(s->key, "user") != 0 &&
					   strcmp(s->key, "group") != 0)) {
				dialect_error(ctx->tree, s, "Unknown setting "
					      "in 1.x auth socket: %s", s->key);
				return;
			}
			dnode_append(lis, dnode_new_setting(pool, s, s->key,
				dnode_value(pool, s), false));
		}
	}
}

static void t1x_authdb(struct t1x_ctx *ctx, struct dnode *db)
{
	pool_t pool = ctx->tree->pool;
	struct dnode *args = dnode_child(db, "args");

	if (strcmp(db->key, "userdb") == 0 && db->name != NULL &&
	    strcmp(db->name, "nss") == 0) {
		dialect_warning(db, "userdb nss is gone since 2.3: using "
				"userdb passwd");
		db->name = "passwd";
	}
	if (args != NULL && db->name != NULL &&
	    strcmp(db->name, "pam") == 0) {
		const char *v = dnode_value(pool, args);
		string_t *str = str_new(64);
		bool changed = false;
		unsigned int count;
		char **words = split_spaces(pool, v, &count);

		for (unsigned int i = 0; i < count; i++) {
			if (str_begins(words[i], "blocking=", NULL)) {
				changed = true;
				continue;
			}
			if (str_len(str) > 0)
				str_append_c(str, ' ');
			str_append(str, words[i]);
		}
		if (changed) {
			dialect_warning(args, "passdb pam: blocking= is gone "
					"since 1.1 (always blocking)");
			dnode_set_value(args, p_strdup(pool, str_c(str)));
		}
		str_free(&str);
	}
}

static void t1x_auth(struct t1x_ctx *ctx, struct dnode *auth)
{
	pool_t pool = ctx->tree->pool;

	if (ctx->first_auth != NULL) {
		struct dnode *c = auth->children, *next;

		dialect_warning(auth, "a second 1.x auth section (%s): 2.x "
				"has one auth configuration, its settings and "
				"databases are added to the first one",
				auth->name == NULL ? "" : auth->name);
		for (; c != NULL; c = next) {
			next = c->next;
			dnode_append(ctx->first_auth, c);
		}
		auth->children = NULL;
		auth->removed = true;
		return;
	}
	ctx->first_auth = auth;
	for (struct dnode *c = auth->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (c->section) {
			if (strcmp(c->key, "socket") == 0)
				t1x_socket(ctx, auth, c);
			else if (strcmp(c->key, "passdb") == 0 ||
				 strcmp(c->key, "userdb") == 0)
				t1x_authdb(ctx, c);
			continue;
		}
		if (strcmp(c->key, "ntlm_use_winbind") == 0)
			c->key = "use_winbind";
		if (strcmp(c->key, "worker_max_request_count") == 0)
			continue;	/* t1x_finish() */
		fix_time_units(ctx, c, str_begins(c->key, "auth_", NULL) ?
			       c->key : p_strdup_printf(pool, "auth_%s",
							c->key));
	}
}

/* 1.x "namespace private|shared|public {": the name was the type. */
static void t1x_namespace(struct t1x_ctx *ctx, struct dnode *ns)
{
	static const char *const types[] = { "private", "shared", "public" };
	pool_t pool = ctx->tree->pool;
	struct dnode *inbox, *type;
	unsigned int t;

	if (ns->name == NULL || dnode_child(ns, "type") != NULL)
		return;
	for (t = 0; t < N_ELEMENTS(types); t++) {
		if (strcmp(ns->name, types[t]) == 0)
			break;
	}
	if (t == N_ELEMENTS(types))
		return;
	inbox = dnode_child(ns, "inbox");
	if (t == 0 && inbox != NULL &&
	    strcasecmp(dnode_value(pool, inbox), "yes") == 0)
		ns->name = "inbox";
	else if (ctx->ns_count[t]++ > 0)
		ns->name = p_strdup_printf(pool, "%s%u", types[t],
					   ctx->ns_count[t]);
	type = dnode_new_setting(pool, ns, "type", types[t], false);
	type->next = ns->children;
	type->parent = ns;
	ns->children = type;
}

static void t1x_walk(struct t1x_ctx *ctx, struct dnode *parent)
{
	for (struct dnode *n = parent->children; n != NULL; n = n->next) {
		if (n->removed)
			continue;
		if (!n->section) {
			t1x_setting(ctx, n);
			continue;
		}
		if (strcmp(n->key, "server") == 0) {
			dialect_error(ctx->tree, n, "1.x server %s { } "
				      "sections (several servers in one file) "
				      "are not supported: run one instance "
				      "per configuration file",
				      n->name == NULL ? "" : n->name);
			return;
		}
		if (strcmp(n->key, "auth") == 0 && parent == ctx->tree->root)
			t1x_auth(ctx, n);
		else if (strcmp(n->key, "namespace") == 0)
			t1x_namespace(ctx, n);
		else if (strcmp(n->key, "protocol") == 0)
			t1x_walk(ctx, n);
	}
}

/* 1.x plugin { autocreate = X  autosubscribe2 = Y }: mailbox auto in 2.x. */
static void t1x_autocreate(struct t1x_ctx *ctx, struct dnode *plugin)
{
	pool_t pool = ctx->tree->pool;
	struct dnode *root = ctx->tree->root, *ns = NULL;

	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		const char *rest, *name, *auto_value;
		struct dnode *box = NULL;

		if (c->removed || c->section)
			continue;
		if (str_begins(c->key, "autocreate", &rest))
			auto_value = "create";
		else if (str_begins(c->key, "autosubscribe", &rest))
			auto_value = "subscribe";
		else
			continue;
		if (strspn(rest, "0123456789") != strlen(rest))
			continue;
		name = dnode_value(pool, c);
		c->removed = true;
		dialect_warning(c, "plugin { %s }: the autocreate plugin is "
				"namespace { mailbox %s { auto = %s } } in 2.x",
				c->key, name, auto_value);
		if (ns == NULL) {
			for (struct dnode *n = root->children; n != NULL;
			     n = n->next) {
				struct dnode *inbox;

				if (n->removed || !n->section ||
				    strcmp(n->key, "namespace") != 0)
					continue;
				inbox = dnode_child(n, "inbox");
				if (inbox != NULL && strcasecmp(
				    dnode_value(pool, inbox), "yes") == 0)
					ns = n;
			}
		}
		if (ns == NULL) {
			ns = dnode_new_section(pool, c, "namespace", "inbox");
			dnode_append(ns, dnode_new_setting(pool, c, "inbox",
							   "yes", false));
			dnode_append(root, ns);
		}
		for (struct dnode *m = ns->children; m != NULL; m = m->next) {
			if (m->section && m->name != NULL &&
			    strcmp(m->key, "mailbox") == 0 &&
			    strcmp(m->name, name) == 0)
				box = m;
		}
		if (box == NULL) {
			box = dnode_new_section(pool, c, "mailbox", name);
			dnode_append(ns, box);
		}
		/* subscribe includes create */
		if (dnode_child(box, "auto") == NULL)
			dnode_append(box, dnode_new_setting(pool, c, "auto",
							    auto_value, false));
		else if (strcmp(auto_value, "subscribe") == 0)
			dnode_set_value(dnode_child(box, "auto"), "subscribe");
	}
}

/* auth_worker_max_request_count (1.1) is PAM's max_requests= since 1.2. */
static void t1x_max_requests(struct t1x_ctx *ctx, struct dnode *n)
{
	pool_t pool = ctx->tree->pool;
	struct dnode *pam = NULL, *args;

	if (ctx->first_auth != NULL) {
		for (struct dnode *c = ctx->first_auth->children; c != NULL;
		     c = c->next) {
			if (c->section && strcmp(c->key, "passdb") == 0 &&
			    c->name != NULL && strcmp(c->name, "pam") == 0)
				pam = c;
		}
	}
	n->removed = true;
	if (pam == NULL) {
		dialect_warning(n, "1.x setting %s has no 2.x meaning without "
				"a PAM passdb and is ignored", n->key);
		return;
	}
	dialect_warning(n, "1.x setting %s is max_requests= in the PAM "
			"passdb's args in 2.x", n->key);
	args = dnode_child(pam, "args");
	if (args == NULL) {
		dnode_append(pam, dnode_new_setting(pool, n, "args",
			p_strdup_printf(pool, "max_requests=%s",
					dnode_value(pool, n)), false));
	} else {
		dnode_set_value(args, p_strdup_printf(pool,
			"max_requests=%s %s", dnode_value(pool, n),
			dnode_value(pool, args)));
	}
}

static void t1x_finish(struct t1x_ctx *ctx)
{
	pool_t pool = ctx->tree->pool;
	struct dnode *root = ctx->tree->root, *first = root->children;

	for (struct dnode *n = root->children; n != NULL; n = n->next) {
		if (n->removed)
			continue;
		if (n->section && strcmp(n->key, "plugin") == 0)
			t1x_autocreate(ctx, n);
		else if (!n->section &&
			 strcmp(n->key, "auth_worker_max_request_count") == 0)
			t1x_max_requests(ctx, n);
	}
	if (ctx->first_auth != NULL) {
		for (struct dnode *c = ctx->first_auth->children; c != NULL;
		     c = c->next) {
			if (!c->removed && !c->section &&
			    strcmp(c->key, "worker_max_request_count") == 0)
				t1x_max_requests(ctx, c);
		}
	}
	if (dnode_child(root, "protocols") == NULL && first != NULL &&
	    ctx->first_auth != NULL) {
		/* Dovecot 2.x would enable every protocol it has. Only for
		   files with an auth { } section: the obsolete names alone
		   (fsync_disable ...) are also found in 2.0-2.2 files, which
		   mean 2.x's default */
		struct dnode *set = dnode_new_setting(pool, first, "protocols",
						      "imap", false);

		dialect_warning(first, "protocols is not set: using the Dovecot "
				"1.x default, imap (with its imaps listener)");
		set->next = root->children;
		set->parent = root;
		root->children = set;
	}
}

static int translate_tree(struct dtree *tree)
{
	if (tree->dialect == CONFIG_DIALECT_1X) {
		struct t1x_ctx ctx;

		memset(&ctx, 0, sizeof(ctx));
		ctx.tree = tree;
		t1x_walk(&ctx, tree->root);
		if (tree->error == NULL)
			t1x_finish(&ctx);
		return tree->error == NULL ? 0 : -1;
	}
	return dialect_translate_24(tree);
}

int dialect_translate(pool_t pool, const char *path,
		      enum config_dialect dialect, const char **text_r,
		      const char **error_r)
{
	struct dtree tree;
	string_t *out;

	memset(&tree, 0, sizeof(tree));
	tree.pool = pool;
	tree.dialect = dialect;
	if (dtree_read_file(&tree, path) < 0 || translate_tree(&tree) < 0) {
		*error_r = tree.error;
		return -1;
	}
	out = str_new(4096);
	dtree_write(&tree, out, true);
	*text_r = p_strdup(pool, str_c(out));
	str_free(&out);
	return 0;
}

int dialect_translate_string(pool_t pool, const char *name, const char *text,
			     enum config_dialect dialect, const char **text_r,
			     const char **error_r)
{
	struct dtree tree;
	string_t *out;

	memset(&tree, 0, sizeof(tree));
	tree.pool = pool;
	tree.dialect = dialect;
	if (dtree_read_string(&tree, name, text) < 0 ||
	    translate_tree(&tree) < 0) {
		*error_r = tree.error;
		return -1;
	}
	out = str_new(4096);
	dtree_write(&tree, out, true);
	*text_r = p_strdup(pool, str_c(out));
	str_free(&out);
	return 0;
}

/* doveconf.c - the doveconf command: prints the configuration the way
 * Dovecot 2.3's doveconf does (-n, -a, -N, -S, -h, -f, -P, -x, section
 * and setting names), plus --yaml. */
#include "lib.h"
#include "str.h"
#include "pool.h"
#include "config-parser.h"
#include "config-export.h"
#include "config-check.h"
#include "config-yaml.h"
#include "settings-modules.h"
#include "hash.h"
#include "compat.h"
#include "dialect.h"
#include "genfile.h"
#include "zeroconf.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

#define LIST_KEY_PREFIX '\001'
#define UNIQUE_KEY_MARK '\xff'

struct dump_strings {
	pool_t pool;
	const char **v;
	unsigned int count, cap;
	/* names asked for are shown whatever -m says */
	bool all_modules;
};

struct doveconf_opts {
	enum config_dump_scope scope;
	struct config_filter filter;
	bool hide_key, hide_passwords, simple, expand, defaults, yaml;
	bool dialect, as_24;
	const char *config_path;
	char **names;
};

/* doveconf -m: the top-level settings to show, each with its place in
 * -S order (1, 2, ...). NULL shows everything in schema order. */
static struct hash_table *module_keys;
static unsigned int module_key_count, module_checks;

static void modules_add(const char *name)
{
	const char *keys = setting_module_base_keys;
	char *copy, *save = NULL, *key;

	for (unsigned int i = 0; setting_modules[i].name != NULL; i++) {
		if (strcmp(setting_modules[i].name, name) == 0) {
			keys = setting_modules[i].keys;
			module_checks |= setting_modules[i].check_mask;
		}
	}
	if (module_keys == NULL)
		module_keys = hash_create(false);
	copy = i_strdup(keys);
	for (key = strtok_r(copy, " ", &save); key != NULL;
	     key = strtok_r(NULL, " ", &save)) {
		if (hash_lookup(module_keys, key) == NULL) {
			hash_insert(module_keys, key,
				    (void *)(uintptr_t)++module_key_count);
		}
	}
	free(copy);
}

/* Where the top-level setting of key comes in -S order, 0 if -m hides
 * it. */
static unsigned int key_rank(const struct config_node *root, const char *key)
{
	const char *slash = strchr(key, '/');
	char top[256];

	snprintf(top, sizeof(top), "%.*s",
		 (int)(slash == NULL ? strlen(key) : (size_t)(slash - key)),
		 key);
	if (module_keys != NULL)
		return (unsigned int)(uintptr_t)hash_lookup(module_keys, top);
	return (unsigned int)(setting_info_find(root->info, top) + 1);
}

static bool key_wanted(const char *key)
{
	return module_keys == NULL || key_rank(NULL, key) > 0;
}

static void strings_add(struct dump_strings *s, const char *str)
{
	if (s->count == s->cap) {
		unsigned int new_cap = s->cap == 0 ? 256 : s->cap * 2;

		s->v = p_realloc(s->pool, s->v, sizeof(*s->v) * s->cap,
				 sizeof(*s->v) * new_cap);
		s->cap = new_cap;
	}
	s->v[s->count++] = str;
}

static void collect_string(const char *key, const char *value,
			   enum config_key_type type, void *context)
{
	struct dump_strings *s = context;
	const char *slash;

	if (!s->all_modules && !key_wanted(key))
		return;
	switch (type) {
	case CONFIG_KEY_NORMAL:
		strings_add(s, p_strdup_printf(s->pool, "%s=%s", key, value));
		break;
	case CONFIG_KEY_LIST:
		strings_add(s, p_strdup_printf(s->pool, "%c%s=%s",
					       LIST_KEY_PREFIX, key, value));
		break;
	case CONFIG_KEY_UNIQUE_KEY:
		slash = strrchr(key, '/');
		i_assert(slash != NULL);
		strings_add(s, p_strdup_printf(s->pool, "%.*s/%c%s=%s",
					       (int)(slash - key), key,
					       UNIQUE_KEY_MARK, slash + 1,
					       value));
		break;
	}
}

/* Dovecot's order: '=' ends a key and sorts first; bytes compare as
 * signed chars, so the unique-key mark (0xff) sorts before letters. */
static int config_string_cmp(const void *p1, const void *p2)
{
	const char *s1 = *(const char *const *)p1;
	const char *s2 = *(const char *const *)p2;
	unsigned int i = 0;

	while (s1[i] == s2[i]) {
		if (s1[i] == '\0' || s1[i] == '=')
			return 0;
		i++;
	}
	if (s1[i] == '=')
		return -1;
	if (s2[i] == '=')
		return 1;
	return (signed char)s1[i] - (signed char)s2[i];
}

static bool value_need_quote(const char *value)
{
	size_t len = strlen(value);

	if (len == 0)
		return false;
	if (strchr(value, '#') != NULL)
		return true;
	return value[0] == ' ' || value[0] == '\t' ||
		value[len - 1] == ' ' || value[len - 1] == '\t';
}

static void append_escaped(string_t *out, const char *value)
{
	for (; *value != '\0'; value++) {
		if (*value == '"' || *value == '\\' || *value == '\'')
			str_append_c(out, '\\');
		str_append_c(out, *value);
	}
}

static bool key_is_secret(const char *key)
{
	const char *name = strrchr(key, '/');

	name = name == NULL ? key : name + 1;
	return str_ends(name, "_password") || str_ends(name, "_key") ||
		str_ends(name, "_nonce") ||
		str_begins(name, "ssl_key", NULL) ||
		strcmp(name, "ssl_dh") == 0;
}

static void append_indent(string_t *out, unsigned int indent)
{
	for (unsigned int i = 0; i < indent; i++)
		str_append(out, "  ");
}

struct open_section {
	unsigned int prefix_idx;
	/* where this section's header starts in the pending buffer, or
	   UINT32_MAX once written out */
	size_t pending_pos;
	bool pending;
};

struct human_ctx {
	pool_t pool;
	string_t *out;		/* what is printed */
	string_t *pending;	/* section headers not yet printed */
	const char **prefixes;
	unsigned int prefix_count;
	struct open_section *stack;
	unsigned int depth;
	unsigned int indent;
	bool any_sent;
};

static void close_sections_until(struct human_ctx *ctx, const char *key)
{
	while (ctx->depth > 0) {
		struct open_section *top = &ctx->stack[ctx->depth - 1];
		const char *prefix = ctx->prefixes[top->prefix_idx];

		if (strncmp(prefix, key, strlen(prefix)) == 0)
			return;
		ctx->depth--;
		ctx->indent--;
		if (top->pending) {
			str_truncate(ctx->pending, top->pending_pos);
		} else {
			append_indent(ctx->out, ctx->indent);
			str_append(ctx->out, "}\n");
		}
	}
}

/* Open the innermost section prefix that key belongs to, if any. Returns
 * true if a section was opened (the caller retries the same key). */
static bool open_section_for(struct human_ctx *ctx, const char *key,
			     bool unique, const char *value)
{
	unsigned int j = 0;
	const char *rel, *slash;

	if (ctx->depth > 0)
		j = ctx->stack[ctx->depth - 1].prefix_idx + 1;
	for (; j < ctx->prefix_count; j++) {
		size_t len = strlen(ctx->prefixes[j]);

		if (strncmp(ctx->prefixes[j], key, len) != 0)
			continue;
		rel = key + (ctx->depth == 0 ? 0 :
			     strlen(ctx->prefixes[ctx->stack[ctx->depth - 1].
						  prefix_idx]));
		struct open_section *s = &ctx->stack[ctx->depth++];

		s->prefix_idx = j;
		s->pending = unique;
		s->pending_pos = str_len(ctx->pending);
		append_indent(ctx->pending, ctx->indent);
		slash = strchr(rel, '/');
		str_append_n(ctx->pending, rel,
			     slash == NULL ? strlen(rel) : (size_t)(slash - rel));
		if (unique && value[0] != '\0') {
			if (strchr(value, ' ') == NULL) {
				str_printfa(ctx->pending, " %s", value);
			} else {
				str_append(ctx->pending, " \"");
				append_escaped(ctx->pending, value);
				str_append_c(ctx->pending, '"');
			}
		}
		str_append(ctx->pending, " {\n");
		ctx->indent++;
		return true;
	}
	return false;
}

static void flush_pending(struct human_ctx *ctx)
{
	str_append_str(ctx->out, ctx->pending);
	str_clear(ctx->pending);
	for (unsigned int i = 0; i < ctx->depth; i++)
		ctx->stack[i].pending = false;
	ctx->any_sent = true;
}

/* Print sorted "key=value" strings as nested blocks (doveconf -n/-a). */
static void print_human(pool_t pool, struct dump_strings *s, string_t *out,
			string_t *header, unsigned int indent,
			const char *name_filter, bool hide_passwords,
			bool *sent_r)
{
	struct human_ctx ctx;
	unsigned int i;

	if (s->count > 1)
		qsort(s->v, s->count, sizeof(*s->v), config_string_cmp);
	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.out = out;
	ctx.pending = str_new(256);
	if (header != NULL)
		str_append_str(ctx.pending, header);
	ctx.indent = indent;
	ctx.prefixes = p_new(pool, const char *, 1);
	ctx.stack = p_new(pool, struct open_section, 64);

	/* list keys sort first: they define the section prefixes */
	unsigned int cap = 1;
	for (i = 0; i < s->count && s->v[i][0] == LIST_KEY_PREFIX; i++) {
		const char *eq = strchr(s->v[i], '=');
		const char *list = p_strndup(pool, s->v[i] + 1,
					     (size_t)(eq - s->v[i] - 1));
		const char *p = eq + 1;

		do {
			const char *sp = strchr(p, ' ');
			size_t len = sp == NULL ? strlen(p) : (size_t)(sp - p);

			if (ctx.prefix_count == cap) {
				ctx.prefixes = p_realloc(pool, ctx.prefixes,
					sizeof(*ctx.prefixes) * cap,
					sizeof(*ctx.prefixes) * cap * 2);
				cap *= 2;
			}
			ctx.prefixes[ctx.prefix_count++] = eq[1] == '\0' ?
				p_strdup_printf(pool, "%s/", list) :
				p_strdup_printf(pool, "%s/%.*s/", list,
						(int)len, p);
			p = sp == NULL ? NULL : sp + 1;
		} while (p != NULL && eq[1] != '\0');
	}
	size_t filter_len = name_filter == NULL ? 0 : strlen(name_filter);

	for (; i < s->count; i++) {
		const char *eq = strchr(s->v[i], '='), *value = eq + 1;
		char *key = p_strndup(pool, s->v[i], (size_t)(eq - s->v[i]));
		char *mark = strrchr(key, '/');
		bool unique = false;

		if (mark != NULL && mark[1] == UNIQUE_KEY_MARK) {
			memmove(mark + 1, mark + 2, strlen(mark + 2) + 1);
			unique = true;
		}
		if (filter_len > 0 &&
		    !(strncmp(name_filter, key, filter_len) == 0 &&
		      (key[filter_len] == '/' || key[filter_len] == '\0')))
			continue;
		bool opened_unique = false;

		for (;;) {
			close_sections_until(&ctx, key);
			if (!open_section_for(&ctx, key, unique, value))
				break;
			if (unique) {
				opened_unique = true;
				break;
			}
		}
		if (opened_unique)
			continue;
		flush_pending(&ctx);
		size_t skip = ctx.depth == 0 ? 0 :
			strlen(ctx.prefixes[ctx.stack[ctx.depth - 1].prefix_idx]);
		const char *rel = key + skip;

		append_indent(out, ctx.indent);
		str_printfa(out, "%s = ", rel);
		if (hide_passwords && value[0] != '\0' && key_is_secret(rel)) {
			str_append(out, "# hidden, use -P to show it");
		} else if (!value_need_quote(value)) {
			str_append(out, value);
		} else {
			str_append_c(out, '"');
			append_escaped(out, value);
			str_append_c(out, '"');
		}
		str_append_c(out, '\n');
	}
	while (ctx.depth > 0) {
		struct open_section *top = &ctx.stack[--ctx.depth];

		if (top->pending)
			break;
		ctx.indent--;
		append_indent(out, ctx.indent);
		str_append(out, "}\n");
	}
	*sent_r = ctx.any_sent;
	str_free(&ctx.pending);
}

static void filter_header(string_t *str, const struct config_filter *f,
			  unsigned int *indent_r)
{
	unsigned int indent = 0;

	if (f->local_bits > 0) {
		str_printfa(str, "local %s", net_ip2addr(&f->local_net));
		if (f->local_bits != (f->local_net.family == AF_INET ? 32 : 128))
			str_printfa(str, "/%u", f->local_bits);
		str_append(str, " {\n");
		indent++;
	}
	if (f->local_name != NULL) {
		append_indent(str, indent++);
		str_printfa(str, "local_name %s {\n", f->local_name);
	}
	if (f->remote_bits > 0) {
		append_indent(str, indent++);
		str_printfa(str, "remote %s", net_ip2addr(&f->remote_net));
		if (f->remote_bits !=
		    (f->remote_net.family == AF_INET ? 32 : 128))
			str_printfa(str, "/%u", f->remote_bits);
		str_append(str, " {\n");
	}
	if (f->protocol != NULL) {
		append_indent(str, indent++);
		str_printfa(str, "protocol %s {\n", f->protocol);
	}
	*indent_r = indent;
}

static void print_filter_sections(struct config *config,
				  const struct doveconf_opts *opts,
				  string_t *out)
{
	struct config_block **blocks;
	unsigned int count = config_get_subset(config, &opts->filter, &blocks);

	for (unsigned int i = 0; i < count; i++) {
		pool_t pool = pool_create("doveconf filter", 64 * 1024);
		struct dump_strings s = { .pool = pool };
		string_t *header = str_new(128);
		unsigned int indent;
		bool sent;

		filter_header(header, &blocks[i]->filter, &indent);
		config_export(pool, blocks[i]->root, CONFIG_DUMP_SCOPE_SET,
			      true, collect_string, &s);
		print_human(pool, &s, out, header, indent, NULL,
			    opts->hide_passwords, &sent);
		if (sent) {
			while (indent > 0) {
				append_indent(out, --indent);
				str_append(out, "}\n");
			}
		}
		str_free(&header);
		pool_destroy(&pool);
	}
}

static void write_out(string_t *out)
{
	fwrite(str_c(out), 1, str_len(out), stdout);
	fflush(stdout);
	str_clear(out);
}

/* The main dump, then every filter block as its own section. */
static int dump_human(struct config *config, const struct doveconf_opts *opts,
		      const char *name_filter)
{
	pool_t pool = pool_create("doveconf", 256 * 1024);
	struct dump_strings s = { .pool = pool };
	struct config_node *root;
	string_t *out = str_new(64 * 1024);
	const char *error;
	bool sent;
	int ret = 0;

	if (config_get_merged(config, &opts->filter, &root, &error) < 0) {
		/* Dovecot shows the filter blocks anyway, and exits 0 */
		i_error("%s", error);
	} else {
		config_export(pool, root, opts->scope, true, collect_string,
			      &s);
		print_human(pool, &s, out, NULL, 0, name_filter,
			    opts->hide_passwords, &sent);
		write_out(out);
		if (config_check_print(root) < 0)
			ret = -1;
	}
	if (name_filter == NULL) {
		print_filter_sections(config, opts, out);
		write_out(out);
	}
	str_free(&out);
	pool_destroy(&pool);
	return ret;
}

struct one_ctx {
	const char *name;
	size_t len;
	const char *value;
	bool section;
};

static void find_one(const char *key, const char *value,
		     enum config_key_type type, void *context)
{
	struct one_ctx *ctx = context;

	/* list keys ("dict=", "service=a b") never match a name; -m does
	   not limit the names asked for */
	if (type == CONFIG_KEY_LIST)
		return;
	if (ctx->value != NULL || strncmp(key, ctx->name, ctx->len) != 0)
		return;
	if (key[ctx->len] == '\0')
		ctx->value = value;
	else if (key[ctx->len] == '/')
		ctx->section = true;
}

/* doveconf NAME: one setting, or a whole section by its path. */
static int dump_one(struct config *config, const struct doveconf_opts *opts,
		    const char *name)
{
	pool_t pool = pool_create("doveconf one", 64 * 1024);
	struct one_ctx ctx = { .name = name, .len = strlen(name) };
	struct config_node *root;
	const char *error;
	int ret = 0;

	if (config_get_merged(config, &opts->filter, &root, &error) < 0) {
		i_error("%s", error);
		pool_destroy(&pool);
		return -1;
	}
	config_export(pool, root, opts->scope, false, find_one, &ctx);
	if (ctx.value != NULL) {
		if (opts->hide_key)
			printf("%s\n", ctx.value);
		else
			printf("%s = %s\n", name, ctx.value);
	} else if (ctx.section) {
		struct dump_strings s = { .pool = pool, .all_modules = true };
		string_t *out = str_new(4096);
		bool sent;

		config_export(pool, root, opts->scope, true, collect_string,
			      &s);
		print_human(pool, &s, out, NULL, 0, name, opts->hide_passwords,
			    &sent);
		write_out(out);
		str_free(&out);
	}
	fflush(stdout);
	pool_destroy(&pool);
	return ret;
}

struct simple_line {
	unsigned int rank;
	size_t start, end;
};

struct simple_ctx {
	char **names;
	string_t *out;
	struct simple_line *lines;
	unsigned int count, cap;
	const struct config_node *root;
};

static bool simple_name_matches(char **names, const char *key)
{
	if (names == NULL)
		return true;
	for (unsigned int i = 0; names[i] != NULL; i++) {
		size_t len = strlen(names[i]);

		if (strncmp(names[i], key, len) == 0 &&
		    (key[len] == '\0' || key[len] == '/'))
			return true;
	}
	return false;
}

static void collect_simple(const char *key, const char *value,
			   enum config_key_type type ATTR_UNUSED, void *context)
{
	struct simple_ctx *ctx = context;
	unsigned int rank = key_rank(ctx->root, key);

	if (!simple_name_matches(ctx->names, key) || rank == 0)
		return;
	if (ctx->count == ctx->cap) {
		ctx->cap = ctx->cap == 0 ? 1024 : ctx->cap * 2;
		ctx->lines = i_reallocarray(ctx->lines, ctx->cap,
					    sizeof(*ctx->lines));
	}
	ctx->lines[ctx->count].rank = rank;
	ctx->lines[ctx->count].start = str_len(ctx->out);
	str_printfa(ctx->out, "%s=%s\n", key, value);
	ctx->lines[ctx->count++].end = str_len(ctx->out);
}

/* -S order: by the rank of the top-level setting, keeping the export's
 * order within one (stable insertion sort; ranks mostly ascend). */
static void sort_simple_lines(struct simple_ctx *ctx)
{
	for (unsigned int i = 1; i < ctx->count; i++) {
		struct simple_line line = ctx->lines[i];
		unsigned int j = i;

		while (j > 0 && ctx->lines[j - 1].rank > line.rank) {
			ctx->lines[j] = ctx->lines[j - 1];
			j--;
		}
		ctx->lines[j] = line;
	}
}

/* doveconf -S: "key=value" lines in schema order. Like Dovecot, the
 * output stops after the settings module whose check fails. */
static int dump_simple(struct config *config, const struct doveconf_opts *opts)
{
	pool_t pool = pool_create("doveconf simple", 64 * 1024);
	struct simple_ctx ctx = { .names = opts->names };
	struct config_node *root;
	const char *error, *end_key = NULL;
	unsigned int end_rank = UINT_MAX;
	int ret = 0;

	if (config_get_merged(config, &opts->filter, &root, &error) < 0) {
		i_error("%s", error);
		pool_destroy(&pool);
		return -1;
	}
	ctx.root = root;
	ctx.out = str_new(64 * 1024);
	config_export(pool, root, opts->scope, false, collect_simple, &ctx);
	sort_simple_lines(&ctx);
	error = config_check_first(root, &end_key);
	if (error != NULL && end_key != NULL &&
	    key_rank(root, end_key) > 0)
		end_rank = key_rank(root, end_key);
	for (unsigned int i = 0; i < ctx.count; i++) {
		if (ctx.lines[i].rank > end_rank)
			break;
		fwrite(str_c(ctx.out) + ctx.lines[i].start, 1,
		       ctx.lines[i].end - ctx.lines[i].start, stdout);
	}
	fflush(stdout);
	if (error != NULL) {
		i_error("%s", error);
		ret = -1;
	}
	str_free(&ctx.out);
	free(ctx.lines);
	pool_destroy(&pool);
	return ret;
}

#define HIDDEN_TEXT "# hidden, use -P to show it"
#define HIDDEN_MARK "\001hidden\001"

static void str_replace_all(string_t *str, const char *from, const char *to)
{
	string_t *out = str_new(str_len(str) + 64);
	const char *p = str_c(str), *hit;

	while ((hit = strstr(p, from)) != NULL) {
		str_append_n(out, p, (size_t)(hit - p));
		str_append(out, to);
		p = hit + strlen(from);
	}
	str_append(out, p);
	str_clear(str);
	str_append_str(str, out);
	str_free(&out);
}

/* doveconf -n --as 2.4: the 2.3 output turned into Dovecot 2.4 form. */
static int dump_as_24(struct config *config, struct doveconf_opts *opts)
{
	FILE *tmp = tmpfile();
	pool_t pool;
	string_t *text, *out;
	const char *error;
	char buf[8192];
	size_t n;
	int saved, ret;

	if (tmp == NULL)
		i_fatal("tmpfile() failed: %s", strerror(errno));
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0)
		i_fatal("dup2() failed: %s", strerror(errno));
	ret = dump_human(config, opts, NULL);
	fflush(stdout);
	/* hidden secrets stay hidden: a marker the export passes through */
	if (dup2(saved, STDOUT_FILENO) < 0)
		i_fatal("dup2() failed: %s", strerror(errno));
	close(saved);
	rewind(tmp);
	text = str_new(8192);
	while ((n = fread(buf, 1, sizeof(buf), tmp)) > 0)
		str_append_n(text, buf, n);
	fclose(tmp);
	pool = pool_create("doveconf as 2.4", 16 * 1024);
	out = str_new(8192);
	str_replace_all(text, HIDDEN_TEXT, HIDDEN_MARK);
	dialect_acl_set_config_path(opts->config_path);
	if (dialect_export_24(pool, str_c(text), out, &error) < 0) {
		i_error("%s", error);
		ret = -1;
	} else {
		str_replace_all(out, HIDDEN_MARK, HIDDEN_TEXT);
		fputs(str_c(out), stdout);
	}
	str_free(&out);
	str_free(&text);
	pool_destroy(&pool);
	return ret;
}

/* doveconf -n of a Dovecot 2.4 file with SQL/LDAP passdbs or userdbs
 * (or trash priorities): the 2.3 files their settings name, as comments
 * (compat/README.md). Passwords hidden as in the settings. */
static void dump_dbfiles(const struct doveconf_opts *opts)
{
	const char *path, *text;

	for (unsigned int i = 0; dialect_dbfile_get(i, &path, &text); i++) {
		char *copy = i_strdup(text), *line, *save = NULL;

		printf("# Dovecot 2.3 args file %s (generated from the 2.4 "
		       "settings; create it to run Dovecot 2.3):\n", path);
		for (line = strtok_r(copy, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			char *pw;

			if (opts->hide_passwords &&
			    (strncmp(line, "dnpass =", 8) == 0 ||
			     strncmp(line, "client_secret =", 15) == 0)) {
				printf("#   %.*s= %s\n",
				       (int)(strchr(line, '=') - line), line,
				       HIDDEN_TEXT);
				continue;
			}
			pw = opts->hide_passwords &&
				strncmp(line, "connect =", 9) == 0 ?
				strstr(line, "password=") : NULL;
			if (pw != NULL) {
				char *end = strchr(pw, ' ');

				printf("#   %.*spassword=<hidden>%s\n",
				       (int)(pw - line), line,
				       end == NULL ? "" : end);
				continue;
			}
			printf("#   %s\n", line);
		}
		free(copy);
	}
	/* the global ACL file of a 2.4 config's acl { } filters */
	for (unsigned int i = 0; genfile_iter("acl", i, &path, &text); i++) {
		char *copy = i_strdup(text), *line, *save = NULL;

		printf("# Dovecot 2.3 global ACL file %s (not written by "
		       "Roost; create it to run Dovecot 2.3):\n", path);
		for (line = strtok_r(copy, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			printf("#   %s\n", line);
		free(copy);
	}
}

/* doveconf --dialect: which dovecot.conf dialect the file is, and why. */
static int print_dialect(const char *path)
{
	pool_t pool = pool_create("doveconf dialect", 4096);
	struct dialect_detection det;
	const char *error;

	if (strcmp(path, ROOST_BUILTIN_CONFIG) == 0) {
		printf("2.3\n# %s: no file, built-in defaults\n", path);
		pool_destroy(&pool);
		return 0;
	}
	if (dialect_detect(pool, path, &det, &error) < 0)
		i_fatal("%s", error);
	printf("%s\n", dialect_name(det.dialect));
	if (*det.reasons == '\0')
		printf("# %s: no 1.x or 2.4 markers: read as 2.0-2.3\n", path);
	else {
		const char *p = det.reasons;

		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t len = nl == NULL ? strlen(p) : (size_t)(nl - p);

			printf("# %.*s\n", (int)len, p);
			p += len + (nl == NULL ? 0 : 1);
		}
	}
	pool_destroy(&pool);
	return 0;
}

static void print_banner(const char *path)
{
	struct utsname u;
	char host[256] = "";

	printf("# Roost %s (Dovecot 2.3.19.1 compatible): %s\n", ROOST_VERSION,
	       path);
	if (uname(&u) == 0)
		printf("# OS: %s %s %s\n", u.sysname, u.release, u.machine);
	if (gethostname(host, sizeof(host) - 1) == 0)
		printf("# Hostname: %s\n", host);
	if (strcmp(path, ROOST_BUILTIN_CONFIG) == 0)
		fputs(zeroconf_describe(), stdout);
	fflush(stdout);
}

static void ATTR_NORETURN usage(void)
{
	fprintf(stderr,
		"Usage: doveconf [-adnNPSx] [-c <config file>] [-f <filter>] "
		"[--yaml] [--as 2.3|2.4]\n"
		"       doveconf --dialect [-c <config file>]\n"
		"       doveconf [-n] [-c <config file>] section_name ...\n"
		"       doveconf [-h] [-c <config file>] [-f <filter>] "
		"setting_name ...\n");
	exit(EXIT_CONFIG);
}

int doveconf_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "yaml", no_argument, NULL, 'Y' },
		{ "dialect", no_argument, NULL, 'D' },
		{ "as", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct doveconf_opts opts;
	pool_t pool = pool_create("doveconf args", 1024);
	struct config *config;
	const char *error, *arg_error;
	int c, ret, ret2 = 0;

	memset(&opts, 0, sizeof(opts));
	opts.scope = CONFIG_DUMP_SCOPE_ALL;
	opts.hide_passwords = true;
	log_set_prefix("doveconf: ");
	while ((c = getopt_long(argc, argv, "ac:df:hm:nNpPsSx", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'a': break;
		case 'c': opts.config_path = optarg; break;
		case 'd': opts.defaults = true; break;
		case 'f':
			if (config_filter_parse_arg(pool, &opts.filter, optarg,
						    &arg_error) < 0)
				i_fatal("%s", arg_error);
			break;
		case 'h': opts.hide_key = true; break;
		case 'm': modules_add(optarg); break;
		case 'n': opts.scope = CONFIG_DUMP_SCOPE_CHANGED; break;
		case 'N': opts.scope = CONFIG_DUMP_SCOPE_SET; break;
		case 'p': break;
		case 'P': opts.hide_passwords = false; break;
		case 's': config_export_set_show_hidden(true); break;
		case 'S': opts.simple = true; break;
		case 'x': opts.expand = true; break;
		case 'Y': opts.yaml = true; break;
		case 'D': opts.dialect = true; break;
		case 'A':
			if (strcmp(optarg, "2.4") == 0)
				opts.as_24 = true;
			else if (strcmp(optarg, "2.3") != 0)
				i_fatal("--as: unknown dialect %s (use 2.3 "
					"or 2.4)", optarg);
			break;
		default: usage();
		}
	}
	if (opts.config_path == NULL)
		opts.config_path = roost_default_config_path();
	if (opts.dialect) {
		ret = print_dialect(opts.config_path);
		pool_destroy(&pool);
		return ret;
	}
	if (module_keys != NULL)
		config_check_set_modules(module_checks);
	if (argv[optind] != NULL)
		opts.names = &argv[optind];
	else if (!opts.simple && !opts.yaml)
		print_banner(opts.config_path);

	ret = roost_config_load(opts.config_path,
				(opts.expand ? CONFIG_PARSE_EXPAND_FILES |
				 CONFIG_PARSE_EXPAND_VARIABLES : 0) |
				(opts.defaults ? CONFIG_PARSE_DEFAULTS_ONLY : 0),
				&config, &error);
	if (config == NULL)
		i_fatal("%s", error);

	if (opts.yaml) {
		ret2 = config_yaml_dump(config, opts.scope, stdout,
					&arg_error);
		if (ret2 < 0)
			i_error("%s", arg_error);
	} else if (opts.simple) {
		ret2 = dump_simple(config, &opts);
	} else if (opts.names != NULL) {
		ret = 0; /* lookups work even with a config that fails checks */
		for (unsigned int i = 0; opts.names[i] != NULL; i++) {
			if (dump_one(config, &opts, opts.names[i]) < 0)
				ret2 = -1;
		}
	} else {
		if (opts.scope == CONFIG_DUMP_SCOPE_ALL)
			printf("# NOTE: Send doveconf -n output instead when "
			       "asking for help.\n");
		fflush(stdout);
		if (opts.as_24)
			ret2 = dump_as_24(config, &opts);
		else {
			ret2 = dump_human(config, &opts, NULL);
			dump_dbfiles(&opts);
		}
	}
	if (ret < 0)
		i_fatal("%s", error);
	if (ret2 < 0)
		i_fatal("Errors in configuration");
	config_free(&config);
	pool_destroy(&pool);
	return 0;
}

/* dialect-acl.c - the acl plugin's settings between the Dovecot 2.4 form
 * and the 2.3 one (compat/README.md, "Config dialects"):
 *
 * - acl ID { rights = [-]LETTERS } list filters at the top level, in
 *   namespace NAME { } and in namespace NAME { mailbox NAME { } } (and
 *   2.4.0-2.4.2's acl_global_path) <-> the 2.3 global ACL file named by
 *   plugin { acl = vfile:PATH }, lines "PATTERN [-]ID RIGHTS". A 2.4
 *   file's rules become the text of that file: a file next to the config
 *   that says the same, else one registered in-process (lib/genfile.h:
 *   mailstore/acl.c reads it there; the master writes it into base_dir
 *   for its children; doveconf -n prints it as comments);
 * - namespace NAME { acl_ignore = yes } <-> acl_ignore_namespace[N] =
 *   PREFIX;
 * - 2.3's plugin master_user (the ACL name when acl_user is not set):
 *   2.4's acl_user defaults to %{master_user}: dropped with a warning. */

#include "lib.h"
#include "str.h"
#include "genfile.h"
#include "acl.h"
#include "dialect-private.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define GENFILE_KIND "acl"
#define ACL_GLOBAL_MAX (1024 * 1024)
#define DEFAULT_BASE_DIR "/var/run/dovecot"
#define GENERATED_NAME "roost-global-acl"

/* The state between dialect_acl_24_collect() and _finish(). */
static struct {
	string_t *text;			/* the global file's lines */
	const struct dnode *first;	/* first acl { } (for errors) */
	const struct dnode *global_path; /* acl_global_path, or NULL */
	const char *path;		/* the 2.3 global file, or NULL */
	struct dnode *ignores;		/* acl_ignore = yes nodes */
	const char **ignore_prefixes;
	unsigned int ignore_count;
	/* only compute the text (--as 2.4 checks its acl { } filters) */
	bool dry;
	/* the rules so far, for the overlap check */
	struct rule {
		const char *pattern, *id;
		const struct dnode *node;
		unsigned int level, rights;
		bool neg;
	} *rules;
	unsigned int rules_count;
} st;

static const char *export_config_path;

/* What joins the last part of the mail_attachment_fs being built to the
 * next one: " " after a driver that takes its parent as its args (sis,
 * plain names), ":" after compress:METHOD:LEVEL, NULL after posix with
 * options (nothing may follow). */
static const struct dnode *fs_set;
static const char *fs_join;

/* The config file's directory ("." for a bare name). */
static const char *config_dir(pool_t pool, const char *file)
{
	const char *slash = strrchr(file, '/');

	if (slash == NULL)
		return ".";
	if (slash == file)
		return "/";
	return p_strndup(pool, file, (size_t)(slash - file));
}

/* The text of a global ACL file on disk (regular, 1 MiB at most), or
 * NULL. */
static const char *file_read(pool_t pool, const char *path)
{
	struct stat stbuf;
	char *data;
	ssize_t ret;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &stbuf) < 0 || !S_ISREG(stbuf.st_mode) ||
	    stbuf.st_size > ACL_GLOBAL_MAX) {
		close(fd);
		return NULL;
	}
	data = p_malloc(pool, (size_t)stbuf.st_size + 1);
	ret = read(fd, data, (size_t)stbuf.st_size);
	close(fd);
	if (ret != stbuf.st_size || memchr(data, '\0', (size_t)ret) != NULL)
		return NULL;
	return data;
}

struct rule_line {
	const char *line, *id;
	unsigned int idx;
};

static int rule_line_cmp(const void *p1, const void *p2)
{
	const struct rule_line *a = p1, *b = p2;
	int ret = strcmp(a->id, b->id);

	if (ret != 0)
		return ret;
	return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

/* A global file's rules, one "PATTERN ID RIGHTS" line each with single
 * spaces, comments and blank lines left out, ordered by identifier: the
 * order of lines matters only between those of one identifier (a later
 * one replaces an earlier), which keep theirs. */
static const char *rules_text(pool_t pool, const char *text, bool sort)
{
	string_t *out = str_new(256), *l = str_new(128);
	char *copy = p_strdup(pool, text), *line, *save = NULL;
	struct rule_line *lines = NULL;
	unsigned int count = 0;
	const char *ret;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w, *wsave = NULL;
		const char *id = "";
		unsigned int n = 0;

		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		str_truncate(l, 0);
		for (w = strtok_r(line, " \t\r", &wsave); w != NULL;
		     w = strtok_r(NULL, " \t\r", &wsave)) {
			if (n > 0)
				str_append_c(l, ' ');
			str_append(l, w);
			if (n++ == 1)
				id = w;
		}
		lines = p_realloc(pool, lines, sizeof(*lines) * count,
				  sizeof(*lines) * (count + 1));
		lines[count].line = p_strdup(pool, str_c(l));
		lines[count].id = id;
		lines[count].idx = count;
		count++;
	}
	if (count > 1 && sort)
		qsort(lines, count, sizeof(*lines), rule_line_cmp);
	for (unsigned int i = 0; i < count; i++)
		str_printfa(out, "%s\n", lines[i].line);
	ret = p_strdup(pool, str_c(out));
	str_free(&out);
	str_free(&l);
	return ret;
}

static const char *rules_canonical(pool_t pool, const char *text)
{
	return rules_text(pool, text, true);
}

/* A file of dir whose name has "acl" in it and whose rules are text's
 * (the file a 2.3 config named before doveconf --as 2.4), or NULL. */
static const char *find_existing(pool_t pool, const char *dir,
				 const char *text)
{
	struct dirent **names;
	const char *found = NULL, *want = rules_canonical(pool, text);
	int n = scandir(dir, &names, NULL, alphasort);

	if (n < 0)
		return NULL;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name, *path, *contents;

		if (found == NULL && name[0] != '.' &&
		    strstr(name, "acl") != NULL && !str_ends(name, ".conf")) {
			path = strcmp(dir, ".") == 0 ? p_strdup(pool, name) :
				p_strdup_printf(pool, "%s%s%s", dir,
						str_ends(dir, "/") ? "" : "/",
						name);
			contents = file_read(pool, path);
			if (contents != NULL &&
			    strcmp(rules_canonical(pool, contents), want) == 0)
				found = path;
		}
		free(names[i]);
	}
	free(names);
	return found;
}

static bool value_is_yes(pool_t pool, const struct dnode *n)
{
	const char *v = dnode_value(pool, n);

	return strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0 ||
		strcasecmp(v, "y") == 0;
}

/* Whether some mailbox name matches both wildcard patterns: a search
 * over the pairs of positions (i, j), each visited once. */
static bool globs_intersect(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), w = lb + 1;
	size_t n = size_mul(la + 1, w), top = 0;
	bool *seen = i_calloc(n, sizeof(bool)), found = false;
	size_t *stack = i_malloc(size_mul(n, sizeof(*stack)));

	seen[0] = true;
	stack[top++] = 0;
	while (top > 0 && !found) {
		size_t cur = stack[--top], i = cur / w, j = cur % w;
		size_t next[4];
		unsigned int count = 0;

		if (i == la && j == lb) {
			found = true;
			break;
		}
		if (i < la && a[i] == '*') {
			next[count++] = (i + 1) * w + j;
			if (j < lb)
				next[count++] = i * w + j + 1;
		}
		if (j < lb && b[j] == '*') {
			next[count++] = i * w + j + 1;
			if (i < la)
				next[count++] = (i + 1) * w + j;
		}
		if (i < la && j < lb && a[i] != '*' && b[j] != '*' &&
		    (a[i] == '?' || b[j] == '?' || a[i] == b[j]))
			next[count++] = (i + 1) * w + j + 1;
		for (unsigned int k = 0; k < count; k++) {
			if (!seen[next[k]]) {
				seen[next[k]] = true;
				stack[top++] = next[k];
			}
		}
	}
	i_free(seen);
	i_free(stack);
	return found;
}

/* A 2.4 filter for an identifier replaces a less specific one's for the
 * mailboxes both match; a 2.3 global file adds the lines up. Exact only
 * when the sum is the replacement: the same sign, and the less specific
 * rights within the more specific (equal ones at the same level). */
static int rule_overlap_check(struct dtree *tree, const struct dnode *acl,
			      const char *pattern, const char *id,
			      unsigned int level, unsigned int rights,
			      bool neg)
{
	for (unsigned int i = 0; i < st.rules_count; i++) {
		const struct rule *r = &st.rules[i];
		bool exact;

		if (strcmp(r->id, id) != 0 ||
		    !globs_intersect(r->pattern, pattern))
			continue;
		exact = r->neg == neg && (r->level < level ?
			(r->rights & ~rights) == 0 : r->rights == rights);
		if (!exact) {
			dialect_error(tree, acl, "acl %s { }: no Dovecot 2.3 "
				      "form (it replaces the rights of acl %s "
				      "{ } at %s:%u for mailboxes both match; "
				      "a 2.3 global ACL file adds them up)",
				      id, r->id, r->node->file, r->node->line);
			return -1;
		}
	}
	st.rules = p_realloc(tree->pool, st.rules,
			     sizeof(*st.rules) * st.rules_count,
			     sizeof(*st.rules) * (st.rules_count + 1));
	st.rules[st.rules_count].pattern = pattern;
	st.rules[st.rules_count].id = id;
	st.rules[st.rules_count].node = acl;
	st.rules[st.rules_count].level = level;
	st.rules[st.rules_count].rights = rights;
	st.rules[st.rules_count].neg = neg;
	st.rules_count++;
	return 0;
}

/* acl ID { rights = ... } as a global file line for pattern. */
static int rule_add(struct dtree *tree, struct dnode *acl,
		    const char *pattern, unsigned int level)
{
	pool_t pool = tree->pool;
	const char *id = acl->name, *rights = NULL;
	const struct dnode *rights_node = acl;
	ARRAY_ACL entries = ARRAY_INIT;
	char errbuf[256];
	const char *line;
	bool neg;
	int ret;

	for (struct dnode *c = acl->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (!c->section && (strcmp(c->key, "rights") == 0 ||
				    strcmp(c->key, "acl_rights") == 0)) {
			rights = dnode_value(pool, c);
			rights_node = c;
		} else if (!c->section && (strcmp(c->key, "id") == 0 ||
					   strcmp(c->key, "acl_id") == 0)) {
			id = dnode_value(pool, c);
		} else {
			dialect_error(tree, c, "acl %s { %s }: no Dovecot 2.3 "
				      "form (an acl filter has only id and "
				      "rights)", id == NULL ? "" : id, c->key);
			return -1;
		}
	}
	if (id == NULL || *id == '\0') {
		dialect_error(tree, acl, "acl { } is missing section name");
		return -1;
	}
	if (rights == NULL) {
		dialect_error(tree, acl, "acl %s { }: rights is not set", id);
		return -1;
	}
	if (id[0] == '-' || strpbrk(id, " \t%$") != NULL) {
		dialect_error(tree, acl, "acl %s { }: Invalid identifier '%s'"
			      "%s", id, id, id[0] == '-' ? " (negative "
			      "rights are written rights = -LETTERS)" : "");
		return -1;
	}
	neg = rights[0] == '-';
	if (neg)
		rights++;
	if (*rights == '\0' || strpbrk(rights, " \t") != NULL) {
		dialect_error(tree, rights_node, "acl %s { rights = %s }: "
			      "Invalid rights", id, rights);
		return -1;
	}
	/* what Dovecot 2.3's vfile reader will make of the line */
	line = p_strdup_printf(pool, "%s%s %s", neg ? "-" : "", id, rights);
	ret = acl_vfile_parse(line, strlen(line), &entries, errbuf,
			      sizeof(errbuf));
	if (ret < 0) {
		acl_entries_free(&entries);
		dialect_error(tree, rights_node, "acl %s { }: %s", id,
			      strncmp(errbuf, "line 1: ", 8) == 0 ?
			      errbuf + 8 : errbuf);
		return -1;
	}
	ret = rule_overlap_check(tree, acl, pattern, p_strdup(pool, id),
				 level, entries.count == 0 ? 0 :
				 entries.v[0].rights, neg);
	acl_entries_free(&entries);
	if (ret < 0)
		return -1;
	if (st.first == NULL)
		st.first = acl;
	str_printfa(st.text, "%s %s\n", pattern, line);
	if (!st.dry)
		acl->removed = true;
	return 0;
}

static const char *ns_prefix(pool_t pool, const struct dnode *ns)
{
	const struct dnode *p = dnode_child(ns, "prefix");

	return p == NULL ? "" : dnode_value(pool, p);
}

/* The literal start of a namespace prefix (before variables). */
static const char *prefix_head(pool_t pool, const char *prefix)
{
	return p_strndup(pool, prefix, strcspn(prefix, "%$"));
}

/* The namespace (other than ns) whose mailboxes pattern, meant for ns's
 * (prefix ns_prefix), would also match in a 2.3 global file, or NULL. */
static const struct dnode *
pattern_conflict(pool_t pool, const struct dnode *root,
		 const struct dnode *ns, const char *ns_prefix_,
		 const char *pattern)
{
	size_t wild = strcspn(pattern, "*?");
	const char *head = p_strndup(pool, pattern, wild);

	for (const struct dnode *c = root->children; c != NULL; c = c->next) {
		const char *other;

		if (c == ns || c->removed || !c->section ||
		    strcmp(c->key, "namespace") != 0)
			continue;
		other = prefix_head(pool, ns_prefix(pool, c));
		if (strlen(other) <= strlen(ns_prefix_))
			continue;	/* names there are ns's (longest) */
		if (str_begins(head, other, NULL) ||
		    (pattern[wild] != '\0' && str_begins(other, head, NULL)))
			return c;
	}
	return NULL;
}

static int rule_add_ns(struct dtree *tree, struct dnode *ns,
		       const char *prefix, struct dnode *acl,
		       const char *pattern, unsigned int level)
{
	const struct dnode *other = pattern_conflict(tree->pool, tree->root,
						     ns, prefix, pattern);

	if (other != NULL) {
		dialect_error(tree, acl, "acl %s { }: no Dovecot 2.3 form (the "
			      "global ACL file pattern %s would also match "
			      "namespace %s's mailboxes)",
			      acl->name == NULL ? "" : acl->name, pattern,
			      other->name == NULL ? "" : other->name);
		return -1;
	}
	return rule_add(tree, acl, pattern, level);
}

static int namespace_collect(struct dtree *tree, struct dnode *ns,
			     unsigned int ns_count)
{
	pool_t pool = tree->pool;
	const char *prefix = ns_prefix(pool, ns);
	const char *label = ns->name == NULL ? "" : ns->name;

	for (unsigned int pass = 0; pass < 2; pass++)
	for (struct dnode *c = ns->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (pass == 0 && !c->section && !st.dry &&
		    strcmp(c->key, "acl_ignore") == 0) {
			if (value_is_yes(pool, c)) {
				if (*prefix == '\0') {
					dialect_error(tree, c, "namespace %s "
						"{ acl_ignore }: Dovecot 2.3's "
						"acl_ignore_namespace needs a "
						"namespace prefix", label);
					return -1;
				}
				st.ignore_prefixes = p_realloc(pool,
					st.ignore_prefixes,
					sizeof(char *) * st.ignore_count,
					sizeof(char *) * (st.ignore_count + 1));
				st.ignore_prefixes[st.ignore_count++] = prefix;
				if (st.ignores == NULL)
					st.ignores = c;
			}
			c->removed = true;
			continue;
		}
		if (!c->section)
			continue;
		if (pass == 0 && strcmp(c->key, "acl") == 0) {
			if (*prefix == '\0' && ns_count > 1) {
				dialect_error(tree, c, "namespace %s { acl %s "
					"{ } }: no Dovecot 2.3 form (the "
					"namespace has no prefix: a global ACL "
					"file can't tell its mailboxes from the "
					"other namespaces'; use mailbox { } "
					"filters)", label,
					c->name == NULL ? "" : c->name);
				return -1;
			}
			if (strpbrk(prefix, "%$ \t") != NULL) {
				dialect_error(tree, c, "namespace %s { acl %s "
					"{ } }: no Dovecot 2.3 form for the "
					"prefix %s", label,
					c->name == NULL ? "" : c->name, prefix);
				return -1;
			}
			if (rule_add_ns(tree, ns, prefix, c,
					p_strdup_printf(pool, "%s*",
							prefix), 1) < 0)
				return -1;
			continue;
		}
		if (pass == 1 && strcmp(c->key, "mailbox") == 0) {
			for (struct dnode *m = c->children; m != NULL;
			     m = m->next) {
				if (m->removed || !m->section ||
				    strcmp(m->key, "acl") != 0)
					continue;
				if (c->name == NULL || *c->name == '\0' ||
				    strpbrk(c->name, " \t") != NULL ||
				    strpbrk(prefix, "%$ \t") != NULL) {
					dialect_error(tree, m, "mailbox %s { "
						"acl %s { } }: no Dovecot 2.3 "
						"form for the mailbox name",
						c->name == NULL ? "" : c->name,
						m->name == NULL ? "" : m->name);
					return -1;
				}
				if (rule_add_ns(tree, ns, prefix, m,
					p_strdup_printf(pool, "%s%s", prefix,
							c->name), 2) < 0)
					return -1;
			}
		}
	}
	return 0;
}

static int acl_24_collect(struct dtree *tree);

int dialect_acl_24_collect(struct dtree *tree)
{
	int ret;

	memset(&st, 0, sizeof(st));
	fs_set = NULL;
	fs_join = NULL;
	genfile_reset(GENFILE_KIND);
	st.text = str_new(256);
	ret = acl_24_collect(tree);
	str_free(&st.text);
	return ret;
}

static int acl_24_collect(struct dtree *tree)
{
	pool_t pool = tree->pool;
	struct dnode *root = tree->root;
	unsigned int ns_count = 0;
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		if (!c->removed && c->section &&
		    strcmp(c->key, "namespace") == 0)
			ns_count++;
	}
	/* the least specific rules first: a later line for the same
	   identifier replaces an earlier one */
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (c->section && strcmp(c->key, "acl") == 0) {
			if (rule_add(tree, c, "*", 0) < 0)
				return -1;
		} else if (!c->section &&
			   strcmp(c->key, "acl_global_path") == 0) {
			const char *ver = dnode_value(pool, root->children);

			if (strcmp(ver, "0.0.0") != 0 &&
			    strverscmp(ver, "2.4.3") >= 0) {
				dialect_error(tree, c, "Unknown setting: "
					"acl_global_path (removed in Dovecot "
					"2.4.3: write the rules as acl { } "
					"filters)");
				return -1;
			}
			st.global_path = c;
			st.path = dnode_value(pool, c);
			c->removed = true;
		} else if (!c->section && strcmp(c->key, "acl_ignore") == 0) {
			if (value_is_yes(pool, c)) {
				dialect_error(tree, c, "acl_ignore outside "
					"namespace { } has no Dovecot 2.3 "
					"form");
				return -1;
			}
			c->removed = true;
		}
	}
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		if (!c->removed && c->section &&
		    strcmp(c->key, "namespace") == 0 &&
		    namespace_collect(tree, c, ns_count) < 0)
			return -1;
	}
	if (str_len(st.text) > 0 && st.global_path != NULL) {
		dialect_error(tree, st.global_path, "acl_global_path and acl "
			      "{ } filters: no Dovecot 2.3 form (2.3 has one "
			      "global ACL file)");
		return -1;
	}
	if (str_len(st.text) > 0) {
		const struct dnode *bd = dnode_child(root, "base_dir");

		st.path = find_existing(pool, config_dir(pool, st.first->file),
					str_c(st.text));
		if (st.path == NULL) {
			st.path = p_strdup_printf(pool, "%s/%s", bd == NULL ?
				DEFAULT_BASE_DIR : dnode_value(pool, bd),
				GENERATED_NAME);
			genfile_register(GENFILE_KIND, st.path,
					 str_c(st.text));
		}
	}
	return 0;
}

/* Append :PATH to every plugin { acl = vfile } (true if one was found). */
static bool driver_set_path(pool_t pool, struct dnode *scope,
			    const char *path)
{
	bool found = false;

	for (struct dnode *c = scope->children; c != NULL; c = c->next) {
		if (c->removed || !c->section)
			continue;
		if (strcmp(c->key, "plugin") == 0) {
			struct dnode *acl = dnode_child(c, "acl");

			if (acl != NULL &&
			    strcmp(dnode_value(pool, acl), "vfile") == 0) {
				dnode_set_value(acl, p_strdup_printf(pool,
					"vfile:%s", path));
				found = true;
			}
		} else if (driver_set_path(pool, c, path)) {
			found = true;
		}
	}
	return found;
}

int dialect_acl_24_finish(struct dtree *tree)
{
	pool_t pool = tree->pool;
	struct dnode *root = tree->root, *plugin = NULL;
	int ret = 0;

	if (st.path != NULL && !driver_set_path(pool, root, st.path)) {
		const struct dnode *at = st.first != NULL ? st.first :
			st.global_path;

		dialect_error(tree, at, "%s: no Dovecot 2.3 form without "
			      "acl_driver = vfile", st.first != NULL ?
			      "acl { } filters" : "acl_global_path");
		ret = -1;
	}
	if (ret == 0 && st.ignore_count > 0) {
		for (struct dnode *c = root->children; c != NULL;
		     c = c->next) {
			if (c->section && !c->removed &&
			    strcmp(c->key, "plugin") == 0)
				plugin = c;
		}
		if (plugin == NULL) {
			plugin = dnode_new_section(pool, st.ignores, "plugin",
						   NULL);
			plugin->done = true;
			dnode_append(root, plugin);
		}
		for (unsigned int i = 0; i < st.ignore_count; i++) {
			const char *key = i == 0 ? "acl_ignore_namespace" :
				p_strdup_printf(pool, "acl_ignore_namespace%u",
						i + 1);

			dnode_append(plugin, dnode_new_setting(pool,
				st.ignores, key, st.ignore_prefixes[i], false));
		}
	}
	return ret;
}

/* ---- 2.3 -> 2.4 (doveconf -n --as 2.4) ---- */

void dialect_acl_set_config_path(const char *path)
{
	export_config_path = path;
}

/* The text the 2.4 reader makes of the acl { } filters in root. */
static const char *dry_text(pool_t pool, struct dnode *root)
{
	struct dtree tree;
	unsigned int ns_count = 0;
	const char *ret = NULL;

	memset(&tree, 0, sizeof(tree));
	tree.pool = pool;
	tree.root = root;
	memset(&st, 0, sizeof(st));
	st.dry = true;
	st.text = str_new(256);
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		if (!c->removed && c->section &&
		    strcmp(c->key, "namespace") == 0)
			ns_count++;
	}
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		if (!c->removed && c->section && strcmp(c->key, "acl") == 0 &&
		    rule_add(&tree, c, "*", 0) < 0)
			goto out;
	}
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		if (!c->removed && c->section &&
		    strcmp(c->key, "namespace") == 0 &&
		    namespace_collect(&tree, c, ns_count) < 0)
			goto out;
	}
	ret = p_strdup(pool, str_c(st.text));
out:
	str_free(&st.text);
	memset(&st, 0, sizeof(st));
	return ret;
}

struct new_rule {
	struct dnode *acl, *parent;
	bool created_parent;
};

/* Where the 2.4 form of a global file line goes: root, a namespace, or
 * a mailbox of one (created when missing: *created_r). NULL: nowhere. */
static struct dnode *rule_parent(pool_t pool, struct dnode *root,
				 const char *pattern, const struct dnode *at,
				 bool *created_r)
{
	struct dnode *best = NULL, *empty = NULL, *mbox;
	const char *best_prefix = "", *rest;
	unsigned int ns_count = 0;

	*created_r = false;
	if (strcmp(pattern, "*") == 0)
		return root;
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		const char *prefix;

		if (c->removed || !c->section ||
		    strcmp(c->key, "namespace") != 0)
			continue;
		ns_count++;
		prefix = ns_prefix(pool, c);
		if (*prefix == '\0' && empty == NULL)
			empty = c;
		else if (*prefix != '\0' && str_begins(pattern, prefix, NULL) &&
			 strlen(prefix) > strlen(best_prefix)) {
			best = c;
			best_prefix = prefix;
		}
	}
	if (best == NULL) {
		best = empty;
		if (best == NULL)
			return NULL;
	}
	rest = pattern + strlen(best_prefix);
	if (strcmp(rest, "*") == 0 && (*best_prefix != '\0' || ns_count == 1))
		return best;
	if (*rest == '\0')
		return NULL;
	for (mbox = best->children; mbox != NULL; mbox = mbox->next) {
		if (!mbox->removed && mbox->section &&
		    strcmp(mbox->key, "mailbox") == 0 && mbox->name != NULL &&
		    strcmp(mbox->name, rest) == 0)
			return mbox;
	}
	mbox = dnode_new_section(pool, at, "mailbox", p_strdup(pool, rest));
	mbox->done = true;
	dnode_append(best, mbox);
	*created_r = true;
	return mbox;
}

/* acl = vfile:FILE -> acl { } filters; false (nothing changed) when the
 * 2.4 form would not name the same file with the same lines. */
static bool global_file_export(pool_t pool, struct dnode *root,
			       struct dnode *acl)
{
	const char *value = dnode_value(pool, acl), *path, *text;
	char *copy, *line, *save = NULL;
	struct new_rule *rules = NULL;
	unsigned int count = 0;
	const char *want, *got;
	bool ok = true;

	if (!str_begins(value, "vfile:", &path) || *path == '\0' ||
	    strchr(path, ':') != NULL)
		return false;
	text = genfile_get(path);
	if (text == NULL) {
		/* a file on disk: only one next to the config is found by
		   the 2.4 form's reader */
		text = file_read(pool, path);
		if (text == NULL || export_config_path == NULL)
			return false;
		path = p_strdup(pool, path);
		if (strcmp(config_dir(pool, export_config_path),
			   config_dir(pool, path)) != 0)
			return false;
		got = find_existing(pool, config_dir(pool, path), text);
		if (got == NULL || strcmp(got, path) != 0)
			return false;
	}
	want = rules_canonical(pool, text);
	if (*want == '\0')
		return false;
	copy = p_strdup(pool, rules_text(pool, text, false));
	for (line = strtok_r(copy, "\n", &save); line != NULL && ok;
	     line = strtok_r(NULL, "\n", &save)) {
		char *pattern = line, *id, *rights;
		bool neg, created;
		struct dnode *parent, *a;

		id = strchr(pattern, ' ');
		rights = id == NULL ? NULL : strchr(id + 1, ' ');
		if (rights == NULL || strchr(rights + 1, ' ') != NULL) {
			ok = false;
			break;
		}
		*id++ = '\0';
		*rights++ = '\0';
		neg = id[0] == '-';
		if (neg)
			id++;
		parent = rule_parent(pool, root, pattern, acl, &created);
		if (parent == NULL) {
			ok = false;
			break;
		}
		/* 2.4 keeps one filter per identifier in a scope: the same
		   identifier with and without '-' can't both be there */
		for (unsigned int i = 0; i < count; i++) {
			if (rules[i].parent == parent &&
			    strcmp(rules[i].acl->name, id) == 0 &&
			    strcmp(dnode_value(pool, rules[i].acl->children),
				   rights) != 0 &&
			    (dnode_value(pool, rules[i].acl->children)[0] ==
			     '-') != neg)
				ok = false;
		}
		a = dnode_new_section(pool, acl, "acl", p_strdup(pool, id));
		dnode_append(a, dnode_new_setting(pool, acl, "rights",
			p_strdup_printf(pool, "%s%s", neg ? "-" : "", rights),
			false));
		a->done = true;
		dnode_append(parent, a);
		rules = p_realloc(pool, rules, sizeof(*rules) * count,
				  sizeof(*rules) * (count + 1));
		rules[count].acl = a;
		rules[count].parent = parent;
		rules[count].created_parent = created;
		count++;
	}
	if (ok) {
		got = dry_text(pool, root);
		ok = got != NULL && strcmp(rules_canonical(pool, got),
					   want) == 0;
	}
	if (!ok) {
		for (unsigned int i = 0; i < count; i++) {
			rules[i].acl->removed = true;
			if (rules[i].created_parent)
				rules[i].parent->removed = true;
		}
		return false;
	}
	dnode_set_value(acl, "vfile");
	return true;
}

/* acl_ignore_namespace, acl_ignore_namespace2, ... -> acl_ignore = yes
 * in the namespaces with those prefixes: all or none, and only when the
 * 2.4 form numbers them the same (namespaces in the same order). */
static void ignore_export(pool_t pool, struct dnode *root,
			  struct dnode *plugin)
{
	struct dnode **sets = NULL, **spaces = NULL;
	unsigned int count = 0, others = 0;
	struct dnode *last_ns = NULL;

	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		const char *rest;

		if (!c->removed && !c->section &&
		    str_begins(c->key, "acl_ignore_namespace", &rest))
			others++;
	}
	for (unsigned int i = 1;; i++) {
		const char *key = i == 1 ? "acl_ignore_namespace" :
			p_strdup_printf(pool, "acl_ignore_namespace%u", i);
		struct dnode *set = dnode_child(plugin, key), *ns = NULL;
		const char *v;
		bool after = last_ns == NULL;

		if (set == NULL)
			break;
		v = dnode_value(pool, set);
		if (*v == '\0')
			break;
		for (struct dnode *c = root->children; c != NULL;
		     c = c->next) {
			if (c == last_ns)
				after = true;
			if (c->removed || !c->section ||
			    strcmp(c->key, "namespace") != 0 ||
			    strcmp(ns_prefix(pool, c), v) != 0)
				continue;
			if (ns != NULL || !after || c == last_ns)
				return;	/* two with the prefix, or order */
			ns = c;
		}
		if (ns == NULL)
			return;
		last_ns = ns;
		sets = p_realloc(pool, sets, sizeof(*sets) * count,
				 sizeof(*sets) * (count + 1));
		spaces = p_realloc(pool, spaces, sizeof(*spaces) * count,
				   sizeof(*spaces) * (count + 1));
		sets[count] = set;
		spaces[count] = ns;
		count++;
	}
	if (count == 0 || count != others)
		return;
	for (unsigned int i = 0; i < count; i++) {
		struct dnode *y = dnode_new_setting(pool, sets[i],
						    "acl_ignore", "yes", false);

		y->done = true;
		dnode_append(spaces[i], y);
		sets[i]->removed = true;
	}
}

void dialect_acl_23_to_24(pool_t pool, struct dnode *root,
			  struct dnode *plugin)
{
	struct dnode *c;

	ignore_export(pool, root, plugin);
	c = dnode_child(plugin, "master_user");
	if (c != NULL) {
		i_warning("doveconf --as 2.4: plugin { master_user = %s } "
			  "dropped: Dovecot 2.4's acl_user defaults to "
			  "%%{master_user} (set acl_user to keep this name)",
			  dnode_value(pool, c));
		c->removed = true;
	}
	c = dnode_child(plugin, "acl");
	if (c != NULL && strchr(dnode_value(pool, c), ':') != NULL &&
	    !global_file_export(pool, root, c)) {
		const char *v = dnode_value(pool, c), *path;

		if (str_begins(v, "vfile:", &path))
			i_warning("doveconf --as 2.4: acl = %s: the global "
				  "ACL file is not carried over as acl { } "
				  "filters (missing, a directory, not next to "
				  "the config, options, or rules without an "
				  "exact 2.4 form)", v);
	}
}

/* ---- fs NAME { } blocks with settings <-> 2.3 fs URIs ---- */


static const char *fs_setting(pool_t pool, const struct dnode *c,
			      const char *driver)
{
	const char *k = c->key, *rest;
	char *pfx = p_strdup_printf(pool, "fs_%s_", driver);

	if (str_begins(k, pfx, &rest))
		return rest;
	pfx = p_strdup_printf(pool, "%s_", driver);
	if (str_begins(k, pfx, &rest) && strcmp(driver, "compress") != 0)
		return rest;
	return k;
}

int dialect_fs_24_append(struct dtree *tree, const struct dnode *filter,
			 struct dnode *fs, struct dnode *set)
{
	pool_t pool = tree->pool;
	const char *driver = fs->name, *method = NULL, *level = NULL;
	const char *prefix = NULL, *elem, *join = " ";

	for (struct dnode *c = fs->children; c != NULL; c = c->next) {
		const char *k;

		if (c->removed)
			continue;
		k = c->section ? c->key : fs_setting(pool, c, driver);
		if (!c->section && strcmp(driver, "posix") == 0 &&
		    strcmp(k, "prefix") == 0 && prefix == NULL)
			prefix = dnode_value(pool, c);
		else if (!c->section && strcmp(driver, "compress") == 0 &&
			 strcmp(k, "write_method") == 0 && method == NULL)
			method = dnode_value(pool, c);
		else if (!c->section && strcmp(driver, "compress") == 0 &&
			 str_begins(k, "compress_", NULL) &&
			 str_ends(k, "_level") && level == NULL)
			level = dnode_value(pool, c);
		else {
			dialect_error(tree, c, "%s { fs %s { %s } }: no "
				      "Dovecot 2.3 form here", filter->key,
				      driver, c->key);
			return -1;
		}
		c->removed = true;
	}
	if (strcmp(driver, "compress") == 0) {
		if (method == NULL || strspn(method, "abcdefghijklmnopqrstuvwxyz"
					     "0123456789") != strlen(method) ||
		    *method == '\0') {
			dialect_error(tree, fs, "%s { fs compress { } }: "
				      "write_method is %s", filter->key,
				      method == NULL ? "not set" : "invalid");
			return -1;
		}
		if (level == NULL && strcmp(method, "gz") == 0)
			level = "6";	/* 2.4's compress_gz_level default */
		if (level == NULL || *level == '\0' ||
		    strspn(level, "0123456789") != strlen(level)) {
			dialect_error(tree, fs, "%s { fs compress { } }: "
				      "Dovecot 2.3 needs compress_%s_level",
				      filter->key, method);
			return -1;
		}
		elem = p_strdup_printf(pool, "compress:%s:%s", method, level);
		join = ":";
	} else if (prefix != NULL) {
		if (*prefix == '\0' || strpbrk(prefix, ": \t") != NULL) {
			dialect_error(tree, fs, "%s { fs posix { prefix = %s } "
				      "}: no Dovecot 2.3 form", filter->key,
				      prefix);
			return -1;
		}
		elem = p_strdup_printf(pool, "posix:prefix=%s", prefix);
		join = NULL;
	} else {
		elem = driver;
	}
	if (fs_set != set) {
		fs_set = set;
		dnode_set_value(set, elem);
	} else if (fs_join == NULL) {
		dialect_error(tree, fs, "%s { fs %s { } }: the fs before it "
			      "takes no parent in Dovecot 2.3", filter->key,
			      driver);
		return -1;
	} else {
		dnode_set_value(set, p_strdup_printf(pool, "%s%s%s",
			dnode_value(pool, set), fs_join, elem));
	}
	fs_join = join;
	return 0;
}

struct dnode *dialect_fs_uri_to_24(pool_t pool, const struct dnode *at,
				   const char *uri)
{
	struct dnode *f = dnode_new_section(pool, at, "mail_ext_attachment",
					    NULL);
	string_t *back = str_new(128);
	const char *s = uri, *join = "";
	bool ok = true, end = false;

	while (ok && !end) {
		struct dnode *fs;
		const char *rest;

		if (*s == '\0' || join == NULL) {
			ok = false;
			break;
		}
		str_append(back, join);
		if (str_begins(s, "compress:", &rest)) {
			const char *c1 = strchr(rest, ':');
			const char *c2 = c1 == NULL ? NULL : strchr(c1 + 1, ':');
			const char *method, *level;

			if (c2 == NULL) {
				ok = false;
				break;
			}
			method = p_strndup(pool, rest, (size_t)(c1 - rest));
			level = p_strndup(pool, c1 + 1, (size_t)(c2 - c1 - 1));
			fs = dnode_new_section(pool, at, "fs", "compress");
			dnode_append(fs, dnode_new_setting(pool, at,
				"write_method", method, false));
			if (strcmp(method, "gz") != 0 ||
			    strcmp(level, "6") != 0)
				dnode_append(fs, dnode_new_setting(pool, at,
					p_strdup_printf(pool, "compress_%s_level",
							method), level, false));
			str_printfa(back, "compress:%s:%s", method, level);
			join = ":";
			s = c2 + 1;
		} else if (str_begins(s, "posix:prefix=", &rest)) {
			if (*rest == '\0' || strpbrk(rest, ": \t") != NULL) {
				/* more options, or none */
				ok = false;
				break;
			}
			fs = dnode_new_section(pool, at, "fs", "posix");
			dnode_append(fs, dnode_new_setting(pool, at, "prefix",
							   rest, false));
			str_printfa(back, "posix:prefix=%s", rest);
			join = NULL;
			end = true;
		} else {
			size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz-");

			if (n == 0 || (s[n] != '\0' && s[n] != ' ')) {
				ok = false;
				break;
			}
			fs = dnode_new_section(pool, at, "fs",
					       p_strndup(pool, s, n));
			str_append_n(back, s, n);
			join = " ";
			s += n;
			if (*s == '\0')
				end = true;
			else
				s++;
		}
		dnode_append(f, fs);
	}
	/* only what reads back as the same URI */
	ok = ok && strcmp(str_c(back), uri) == 0;
	str_free(&back);
	if (!ok)
		return NULL;
	for (struct dnode *c = f->children; c != NULL; c = c->next)
		c->done = true;
	f->done = true;
	return f;
}

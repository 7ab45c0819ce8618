/* dialect-mailbox.c - 2.3 plugin settings that Dovecot 2.4 moved into
 * mailbox NAME { } filters, both ways (see compat/README.md, "Config
 * dialects"):
 *
 *   quota_rule[N] = NAME:storage=+SIZE / NAME:ignore (every quota root)
 *       <-> mailbox NAME { quota_storage_extra = SIZE  quota_ignore = yes }
 *   quotaM_rule[N] (one root only)
 *       <-> mailbox NAME { quota ROOT { quota_storage_extra quota_ignore } }
 *   fts_autoindex_exclude[N] = NAME | \Flag
 *       <-> mailbox NAME { fts_autoindex = no }
 *   lazy_expunge_exclude[N] = NAME <-> mailbox NAME { lazy_expunge_mailbox = }
 *   notify_status_mailbox[N] = NAME <-> mailbox NAME { notify_status = yes }
 *   trash = FILE ("PRIORITY NAME" lines)
 *       <-> mailbox NAME { trash_priority = N }
 *   imapsieve_mailboxN_name/_causes/_before/_after/_from
 *       <-> mailbox NAME { sieve_script S { type cause path } }
 *           (from: mailbox NAME { imapsieve_from FROM { sieve_script S } })
 *
 * Mailbox names: a mailbox { } of a namespace is its prefix + NAME in
 * 2.3 (the plugins match full mailbox names); one at the top level is
 * NAME. \Flag: a mailbox { } declaring exactly one special_use flag is
 * that flag for fts_autoindex_exclude (2.3 matches it by special use).
 * 2.3 -> 2.4 is used only where reading the result back gives the same
 * settings in the same order; else the 2.3 settings stay (untranslated). */

#include "lib.h"
#include "str.h"
#include "dialect-private.h"

#include "genfile.h"
#include "mkdir-parents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_BASE_DIR "/var/run/dovecot"
#define TRASH_FILE_NAME "roost-trash.conf.ext"

enum mb_kind {
	MB_QUOTA,
	MB_FTS,
	MB_LAZY,
	MB_NOTIFY,
	MB_TRASH,
	MB_SIEVE,
	MB_KIND_COUNT
};

static const struct {
	enum mb_kind kind;
	const char *k23, *k24, *v24;
} mb_lists[] = {
	{ MB_FTS, "fts_autoindex_exclude", "fts_autoindex", "no" },
	{ MB_LAZY, "lazy_expunge_exclude", "lazy_expunge_mailbox", "" },
	{ MB_NOTIFY, "notify_status_mailbox", "notify_status", "yes" },
};

struct mb_entry {
	struct mb_entry *next;
	enum mb_kind kind;
	/* 2.3 mailbox name (namespace prefix included) or \Flag */
	const char *vname;
	/* MB_QUOTA: the quota root's name, NULL for every root */
	const char *quota;
	const char *extra;	/* MB_QUOTA: 2.4 size, NULL: none */
	bool ignore;		/* MB_QUOTA */
	const char *prio;	/* MB_TRASH */
	/* MB_SIEVE */
	const char *from, *causes, *before, *after;
	struct dnode *at;	/* 2.4: where it was; 2.3: its setting */
	struct dnode *more[4];	/* 2.3: its other settings (imapsieve) */
	struct dnode *block;	/* 2.3 -> 2.4: the mailbox { } it goes to */
	bool block_new;
};

struct dialect_mailbox {
	pool_t pool;
	struct mb_entry *head, **tail;
	/* 2.3 -> 2.4: quota rules taken out of plugin { } */
	struct dnode *taken[64];
	const char *taken_root[64], *taken_vname[64];
	unsigned int taken_count;
	bool kind_ok[MB_KIND_COUNT];
	struct mb_place *place;
};

static struct dialect_mailbox *mb_new(pool_t pool)
{
	struct dialect_mailbox *mb = p_new(pool, struct dialect_mailbox, 1);

	mb->pool = pool;
	mb->tail = &mb->head;
	return mb;
}

static struct mb_entry *mb_add(struct dialect_mailbox *mb, enum mb_kind kind,
			       const char *vname, struct dnode *at)
{
	struct mb_entry *e = p_new(mb->pool, struct mb_entry, 1);

	e->kind = kind;
	e->vname = vname;
	e->at = at;
	*mb->tail = e;
	mb->tail = &e->next;
	return e;
}

static bool all_digits(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* "100M", "1 G" -> "100M"; false if it is no plain size */
static const char *size_plain(pool_t pool, const char *v)
{
	string_t *s = str_new(32);
	const char *ret = NULL;
	size_t digits;

	for (; *v != '\0'; v++) {
		if (*v != ' ')
			str_append_c(s, *v);
	}
	digits = strspn(str_c(s), "0123456789");
	if (digits > 0 && (str_c(s)[digits] == '\0' ||
	    (strchr("bBkKmMgGtT", str_c(s)[digits]) != NULL &&
	     str_c(s)[digits + 1] == '\0')))
		ret = p_strdup(pool, str_c(s));
	str_free(&s);
	return ret;
}

/* The one special_use flag a mailbox { } declares, else NULL. */
static const char *single_flag(pool_t pool, const struct dnode *m)
{
	struct dnode *s = dnode_child_setting(m, "special_use");
	const char *v;

	if (s == NULL)
		s = dnode_child_setting(m, "mailbox_special_use");
	if (s == NULL)
		return NULL;
	v = dnode_value(pool, s);
	if (v[0] != '\\' || strpbrk(v, " \t,") != NULL)
		return NULL;
	return v;
}

static bool yes_no(struct dtree *tree, struct dnode *c, bool *value_r)
{
	const char *v = dnode_value(tree->pool, c);

	if (strcasecmp(v, "yes") == 0)
		*value_r = true;
	else if (strcasecmp(v, "no") == 0)
		*value_r = false;
	else {
		dialect_error(tree, c, "%s: Invalid boolean: %s", c->key, v);
		return false;
	}
	return true;
}

/* ---- 2.4 -> 2.3 ---- */

static struct mb_entry *quota_entry(struct dialect_mailbox *mb,
				    const char *vname, const char *quota,
				    struct dnode *at)
{
	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		if (e->kind == MB_QUOTA && strcmp(e->vname, vname) == 0 &&
		    (e->quota == NULL || quota == NULL ||
		     strcmp(e->quota, quota) == 0) && e->at != at)
			return NULL;	/* given twice: caller errors */
	}
	return mb_add(mb, MB_QUOTA, vname, at);
}

static int quota_settings_24(struct dtree *tree, struct dialect_mailbox *mb,
			     struct dnode *sec, const char *vname,
			     const char *quota, struct mb_entry **entry)
{
	for (struct dnode *c = sec->children; c != NULL; c = c->next) {
		const char *k = c->key;
		bool b;

		if (c->removed || c->section)
			continue;
		if (quota != NULL)
			k = dialect_strip_prefix(k, "quota_");
		if (strcmp(k, quota != NULL ? "storage_extra" :
			   "quota_storage_extra") != 0 &&
		    strcmp(k, quota != NULL ? "ignore" : "quota_ignore") != 0) {
			if (quota == NULL)
				continue;
			dialect_error(tree, c, "Unknown setting in mailbox %s "
				      "{ quota %s { } }: %s (Dovecot 2.3 "
				      "rules have only quota_storage_extra "
				      "and quota_ignore)", sec->parent->name,
				      quota, c->key);
			return -1;
		}
		if (*entry == NULL) {
			*entry = quota_entry(mb, vname, quota, sec);
			if (*entry == NULL) {
				dialect_error(tree, c, "mailbox %s: quota "
					      "settings given twice have no "
					      "Dovecot 2.3 form", vname);
				return -1;
			}
			(*entry)->quota = quota;
		}
		if (strstr(k, "extra") != NULL) {
			const char *v = size_plain(tree->pool,
						   dnode_value(tree->pool, c));

			if (v == NULL) {
				dialect_error(tree, c, "%s: Invalid size: %s",
					      c->key, dnode_value(tree->pool,
								  c));
				return -1;
			}
			(*entry)->extra = v;
		} else {
			if (!yes_no(tree, c, &b))
				return -1;
			(*entry)->ignore = b;
		}
		c->removed = true;
	}
	return 0;
}

static int sieve_24(struct dtree *tree, struct dialect_mailbox *mb,
		    struct dnode *s, const char *vname, const char *from);

/* The settings of one mailbox NAME { } that 2.3 keeps in plugin { }. */
static int mailbox_24(struct dtree *tree, struct dialect_mailbox *mb,
		      struct dnode *m, const char *prefix)
{
	pool_t pool = tree->pool;
	const char *vname, *flag = single_flag(pool, m);
	struct mb_entry *qe = NULL, *e;
	bool took = false, have_sections = false;

	if (m->name == NULL)
		return 0;
	vname = p_strdup_printf(pool, "%s%s", prefix, m->name);
	for (struct dnode *c = m->children; c != NULL; c = c->next) {
		const char *k = c->key, *v;
		bool b;

		if (c->removed)
			continue;
		if (c->section) {
			if (strcmp(k, "quota") == 0 ||
			    strcmp(k, "sieve_script") == 0 ||
			    strcmp(k, "imapsieve_from") == 0)
				have_sections = true;
			continue;
		}
		v = dnode_value(pool, c);
		if (strcmp(k, "quota_storage_extra") == 0 ||
		    strcmp(k, "quota_ignore") == 0) {
			if (quota_settings_24(tree, mb, m, vname, NULL,
					      &qe) < 0)
				return -1;
			took = true;
			continue;
		} else if (strcmp(k, "fts_autoindex") == 0) {
			if (!yes_no(tree, c, &b))
				return -1;
			if (b) {
				dialect_error(tree, c, "mailbox %s { "
					      "fts_autoindex = yes }: Dovecot "
					      "2.3 can only exclude mailboxes "
					      "(fts_autoindex_exclude)",
					      m->name);
				return -1;
			}
			mb_add(mb, MB_FTS, flag != NULL ? flag : vname, c);
		} else if (strcmp(k, "lazy_expunge_mailbox") == 0) {
			if (*v != '\0') {
				dialect_error(tree, c, "mailbox %s { "
					      "lazy_expunge_mailbox = %s }: "
					      "Dovecot 2.3 has one "
					      "lazy_expunge mailbox for all "
					      "(only an empty value, "
					      "lazy_expunge_exclude, has a 2.3 "
					      "form)", m->name, v);
				return -1;
			}
			mb_add(mb, MB_LAZY, vname, c);
		} else if (strcmp(k, "notify_status") == 0 ||
			   strcmp(k, "mailbox_notify_status") == 0) {
			if (!yes_no(tree, c, &b))
				return -1;
			if (b)
				mb_add(mb, MB_NOTIFY, vname, c);
		} else if (strcmp(k, "trash_priority") == 0) {
			if (!all_digits(v)) {
				dialect_error(tree, c, "trash_priority: "
					      "Invalid number: %s", v);
				return -1;
			}
			e = mb_add(mb, MB_TRASH, vname, c);
			e->prio = v;
		} else {
			continue;
		}
		c->removed = true;
		took = true;
	}
	if (have_sections) {
		for (struct dnode *c = m->children; c != NULL; c = c->next) {
			if (c->removed || !c->section)
				continue;
			if (strcmp(c->key, "quota") == 0) {
				struct mb_entry *re = NULL;

				if (c->name == NULL) {
					dialect_error(tree, c, "quota { } is "
						      "missing section name");
					return -1;
				}
				if (qe != NULL) {
					dialect_error(tree, c, "mailbox %s: "
						"quota settings both for every "
						"quota and in quota %s { } "
						"have no Dovecot 2.3 form",
						m->name, c->name);
					return -1;
				}
				if (quota_settings_24(tree, mb, c, vname,
						      c->name, &re) < 0)
					return -1;
			} else if (strcmp(c->key, "sieve_script") == 0) {
				if (sieve_24(tree, mb, c, vname, NULL) < 0)
					return -1;
			} else if (strcmp(c->key, "imapsieve_from") == 0) {
				if (c->name == NULL) {
					dialect_error(tree, c, "imapsieve_from"
						" { } is missing section name");
					return -1;
				}
				for (struct dnode *s = c->children; s != NULL;
				     s = s->next) {
					if (s->removed)
						continue;
					if (!s->section || strcmp(s->key,
					    "sieve_script") != 0) {
						dialect_error(tree, s, "Unknown"
							" setting in "
							"imapsieve_from %s "
							"{ }: %s", c->name,
							s->key);
						return -1;
					}
					if (sieve_24(tree, mb, s, vname,
						     c->name) < 0)
						return -1;
				}
			} else {
				continue;
			}
			c->removed = true;
			took = true;
		}
	}
	if (took && (strchr(prefix, '%') != NULL ||
		     strchr(prefix, '$') != NULL)) {
		dialect_error(tree, m, "mailbox %s { }: plugin settings in a "
			      "namespace whose prefix has variables have no "
			      "Dovecot 2.3 form", m->name);
		return -1;
	}
	if (took) {
		bool empty = true;

		for (struct dnode *c = m->children; c != NULL; c = c->next)
			empty = empty && c->removed;
		/* 2.3 prints no empty mailbox { } */
		if (empty)
			m->removed = true;
	}
	return 0;
}

static bool owned(const struct dnode *c)
{
	static const char *const keys[] = {
		"quota_storage_extra", "quota_ignore", "fts_autoindex",
		"lazy_expunge_mailbox", "notify_status",
		"mailbox_notify_status", "trash_priority", "quota",
		"sieve_script", "imapsieve_from",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(keys); i++) {
		if (strcmp(c->key, keys[i]) == 0 &&
		    (c->section == (i >= 7)))
			return true;
	}
	return false;
}

/* mailbox { } blocks inside protocol/local/remote filters: 2.3 would
 * need the filter's own plugin { } rules; not translated. */
static int filter_mailboxes(struct dtree *tree, const struct dnode *filter)
{
	for (struct dnode *n = filter->children; n != NULL; n = n->next) {
		bool ns = strcmp(n->key, "namespace") == 0;

		if (n->removed || !n->section)
			continue;
		if (strcmp(n->key, "protocol") == 0 ||
		    strcmp(n->key, "local") == 0 ||
		    strcmp(n->key, "remote") == 0 ||
		    strcmp(n->key, "local_name") == 0) {
			if (filter_mailboxes(tree, n) < 0)
				return -1;
			continue;
		}
		for (struct dnode *m = ns ? n->children : n; m != NULL;
		     m = ns ? m->next : NULL) {
			if (m->removed || !m->section ||
			    strcmp(m->key, "mailbox") != 0)
				continue;
			for (struct dnode *c = m->children; c != NULL;
			     c = c->next) {
				if (c->removed || !owned(c))
					continue;
				dialect_error(tree, c, "mailbox %s { %s } "
					"inside %s %s { }: per-mailbox plugin "
					"settings are translated only outside "
					"filters", m->name == NULL ? "" :
					m->name, c->key, filter->key,
					filter->name == NULL ? "" :
					filter->name);
				return -1;
			}
		}
	}
	return 0;
}

int dialect_mailbox_24_collect(struct dtree *tree,
			       struct dialect_mailbox **mb_r)
{
	struct dialect_mailbox *mb = mb_new(tree->pool);

	*mb_r = mb;
	for (struct dnode *n = tree->root->children; n != NULL; n = n->next) {
		if (n->removed || !n->section)
			continue;
		if (strcmp(n->key, "mailbox") == 0) {
			if (mailbox_24(tree, mb, n, "") < 0)
				return -1;
		} else if ((strcmp(n->key, "protocol") == 0 ||
			    strcmp(n->key, "local") == 0 ||
			    strcmp(n->key, "remote") == 0 ||
			    strcmp(n->key, "local_name") == 0) &&
			   filter_mailboxes(tree, n) < 0) {
			return -1;
		} else if (strcmp(n->key, "namespace") == 0) {
			struct dnode *p = dnode_child_setting(n, "prefix");
			const char *prefix;

			if (p == NULL)
				p = dnode_child_setting(n, "namespace_prefix");
			prefix = p == NULL ? "" : dnode_value(tree->pool, p);
			for (struct dnode *m = n->children; m != NULL;
			     m = m->next) {
				if (m->removed || !m->section ||
				    strcmp(m->key, "mailbox") != 0)
					continue;
				if (mailbox_24(tree, mb, m, prefix) < 0)
					return -1;
			}
		}
	}
	return 0;
}

static struct dnode *root_plugin(struct dtree *tree, const struct dnode *at)
{
	struct dnode *plugin = NULL;

	for (struct dnode *c = tree->root->children; c != NULL; c = c->next) {
		if (c->section && !c->removed && strcmp(c->key, "plugin") == 0)
			plugin = c;
	}
	if (plugin == NULL) {
		plugin = dnode_new_section(tree->pool, at, "plugin", NULL);
		plugin->done = true;
		dnode_append(tree->root, plugin);
	}
	return plugin;
}

/* key, key2, key3 ...: the first one plugin does not have */
static const char *next_key(pool_t pool, struct dnode *plugin,
			    const char *key)
{
	const char *k = key;

	for (unsigned int i = 2; dnode_child_setting(plugin, k) != NULL; i++)
		k = p_strdup_printf(pool, "%s%u", key, i);
	return k;
}

static int quota_rule_23(struct dtree *tree, struct dnode *plugin,
			 const struct mb_entry *e)
{
	pool_t pool = tree->pool;
	string_t *rule;
	bool found = false;

	if (e->extra == NULL && !e->ignore)
		return 0;
	if (strchr(e->vname, ':') != NULL || strcmp(e->vname, "*") == 0) {
		dialect_error(tree, e->at, "mailbox %s { } quota settings: "
			      "Dovecot 2.3 quota rules can't name this "
			      "mailbox", e->vname);
		return -1;
	}
	rule = str_new(64);
	str_append(rule, e->vname);
	if (e->extra != NULL)
		str_printfa(rule, ":storage=+%s", e->extra);
	if (e->ignore)
		str_append(rule, ":ignore");
	for (unsigned int i = 1; i < 100; i++) {
		const char *root = i == 1 ? "quota" :
			p_strdup_printf(pool, "quota%u", i);
		struct dnode *r = dnode_child_setting(plugin, root);
		const char *v, *colon;

		if (r == NULL)
			break;
		v = dnode_value(pool, r);
		colon = strchr(v, ':');
		if (e->quota != NULL &&
		    (colon == NULL || strcmp(colon + 1, e->quota) != 0))
			continue;
		found = true;
		dnode_add_setting(pool, plugin, e->at, next_key(pool, plugin,
			p_strdup_printf(pool, "%s_rule", root)), str_c(rule), true);
	}
	str_free(&rule);
	if (!found && e->quota != NULL) {
		dialect_error(tree, e->at, "mailbox %s { quota %s { } }: no "
			      "quota %s { } is defined", e->at->parent->name,
			      e->quota, e->quota);
		return -1;
	}
	if (!found)
		dialect_warning(e->at, "mailbox %s { } quota settings: no "
				"quota NAME { } uses them, ignored",
				e->at->name);
	return 0;
}

/* "PRIORITY NAME" lines (blank and # lines skipped) -> the names and
 * priorities in order; false if a line is something else. */
static bool trash_parse(pool_t pool, const char *text, const char ***names_r,
			const char ***prios_r, unsigned int *count_r)
{
	unsigned int count = 0, cap = 8;
	const char **names = p_new(pool, const char *, cap);
	const char **prios = p_new(pool, const char *, cap);
	char *copy = p_strdup(pool, text), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp;
		size_t len = strlen(line);

		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		sp = strchr(line, ' ');
		if (sp == NULL || sp[1] == '\0' || sp[1] == ' ')
			return false;
		*sp = '\0';
		if (!all_digits(line) || strlen(line) > 9)
			return false;
		if (count == cap) {
			const char **nn = p_new(pool, const char *, cap * 2);
			const char **np = p_new(pool, const char *, cap * 2);

			memcpy(nn, names, sizeof(*nn) * count);
			memcpy(np, prios, sizeof(*np) * count);
			names = nn;
			prios = np;
			cap *= 2;
		}
		prios[count] = line;
		names[count++] = sp + 1;
	}
	*names_r = names;
	*prios_r = prios;
	*count_r = count;
	return true;
}

static bool trash_same(pool_t pool, const char *a, const char *b)
{
	const char **an, **ap, **bn, **bp;
	unsigned int ac, bc;

	bool *used;

	if (!trash_parse(pool, a, &an, &ap, &ac) ||
	    !trash_parse(pool, b, &bn, &bp, &bc) || ac != bc)
		return false;
	/* the plugin orders by priority: the lines' order does not count */
	used = p_new(pool, bool, bc + 1);
	for (unsigned int i = 0; i < ac; i++) {
		unsigned int j;

		for (j = 0; j < bc; j++) {
			if (!used[j] && strcmp(an[i], bn[j]) == 0 &&
			    strtoul(ap[i], NULL, 10) ==
			    strtoul(bp[j], NULL, 10))
				break;
		}
		if (j == bc)
			return false;
		used[j] = true;
	}
	return true;
}

static bool trash_same_cb(pool_t pool, const char *text,
			  const char *contents, void *context ATTR_UNUSED)
{
	return trash_same(pool, text, contents);
}

static int trash_23(struct dtree *tree, struct dialect_mailbox *mb,
		    struct dnode *plugin)
{
	pool_t pool = tree->pool;
	string_t *text = str_new(256);
	struct dnode *first = NULL, *bd;
	const char *slash, *dir, *path, *base_dir = DEFAULT_BASE_DIR;

	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		if (e->kind != MB_TRASH)
			continue;
		if (first == NULL)
			first = e->at;
		if (strchr(e->vname, '\n') != NULL) {
			str_free(&text);
			dialect_error(tree, e->at, "bad mailbox name");
			return -1;
		}
		str_printfa(text, "%s %s\n", e->prio, e->vname);
	}
	if (first == NULL) {
		str_free(&text);
		return 0;
	}
	slash = strrchr(first->file, '/');
	dir = slash == NULL ? "." : p_strndup(pool, first->file,
					      (size_t)(slash - first->file));
	if (*dir == '\0')
		dir = "/";
	path = dialect_dbfile_find(pool, dir, "trash", trash_same_cb,
				   str_c(text), NULL);
	if (path == NULL) {
		bd = dnode_child_setting(tree->root, "base_dir");
		if (bd != NULL)
			base_dir = dnode_value(pool, bd);
		path = p_strdup_printf(pool, "%s/%s", base_dir,
				       TRASH_FILE_NAME);
		dialect_dbfile_register(path, str_c(text));
	}
	str_free(&text);
	dnode_add_setting(pool, plugin, first, "trash", path, true);
	return 0;
}

static int sieve_23(struct dtree *tree, struct dialect_mailbox *mb,
		    struct dnode *plugin);

int dialect_mailbox_24_emit(struct dtree *tree, struct dialect_mailbox *mb)
{
	pool_t pool = tree->pool;
	struct dnode *plugin;

	if (mb->head == NULL)
		return 0;
	plugin = root_plugin(tree, mb->head->at);
	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		if (e->kind == MB_QUOTA && quota_rule_23(tree, plugin, e) < 0)
			return -1;
	}
	for (unsigned int l = 0; l < N_ELEMENTS(mb_lists); l++) {
		for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
			if (e->kind == mb_lists[l].kind) {
				dnode_add_setting(pool, plugin, e->at, next_key(pool,
					plugin, mb_lists[l].k23), e->vname, true);
			}
		}
	}
	if (trash_23(tree, mb, plugin) < 0)
		return -1;
	return sieve_23(tree, mb, plugin);
}

/* ---- imapsieve ---- */

/* sieve_script NAME { type = before|after  cause = ..  path = ..
 * (driver) } in mailbox vname (from: inside imapsieve_from FROM { }) */
static int sieve_24(struct dtree *tree, struct dialect_mailbox *mb,
		    struct dnode *s, const char *vname, const char *from)
{
	pool_t pool = tree->pool;
	const char *type = NULL, *cause = NULL, *path = NULL, *driver = NULL;
	const char *v, *error;
	struct mb_entry *e;

	for (struct dnode *c = s->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(
			dialect_strip_prefix(c->key, "sieve_script_"), "sieve_");

		if (c->removed)
			continue;
		if (c->section) {
			dialect_error(tree, c, "Unknown section in "
				      "sieve_script %s { }: %s", s->name,
				      c->key);
			return -1;
		}
		v = dnode_value(pool, c);
		if (strcmp(k, "type") == 0)
			type = v;
		else if (strcmp(k, "cause") == 0 ||
			 strcmp(k, "imapsieve_cause") == 0)
			cause = v;
		else if (strcmp(k, "path") == 0)
			path = v;
		else if (strcmp(k, "driver") == 0)
			driver = v;
		else {
			dialect_error(tree, c, "Unknown setting in mailbox %s "
				      "{ sieve_script %s { } }: %s (Dovecot "
				      "2.3 imapsieve rules have type, cause, "
				      "driver and path)", vname,
				      s->name == NULL ? "" : s->name, c->key);
			return -1;
		}
	}
	if (type == NULL || (strcmp(type, "before") != 0 &&
			     strcmp(type, "after") != 0) || path == NULL) {
		dialect_error(tree, s, "mailbox %s { sieve_script %s { } }: "
			      "Dovecot 2.3 imapsieve needs type = before or "
			      "after and a path", vname,
			      s->name == NULL ? "" : s->name);
		return -1;
	}
	if (driver != NULL)
		path = p_strdup_printf(pool, "%s:%s", driver, path);
	path = dialect_vars_24_to_23(pool, "", path, &error);
	if (path == NULL) {
		dialect_error(tree, s, "%s", error);
		return -1;
	}
	/* one 2.3 rule: the same mailbox, from and cause, one before and
	   one after script */
	for (e = mb->head; e != NULL; e = e->next) {
		if (e->kind == MB_SIEVE && strcmp(e->vname, vname) == 0 &&
		    null_strcmp(e->from, from) == 0 &&
		    null_strcmp(e->causes, cause) == 0 &&
		    (type[0] == 'b' ? e->before : e->after) == NULL)
			break;
	}
	if (e == NULL) {
		e = mb_add(mb, MB_SIEVE, vname, s);
		e->from = from;
		e->causes = cause;
	}
	if (type[0] == 'b')
		e->before = path;
	else
		e->after = path;
	return 0;
}

static int sieve_23(struct dtree *tree, struct dialect_mailbox *mb,
		    struct dnode *plugin)
{
	pool_t pool = tree->pool;
	unsigned int n = 0;

	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		const char *const keys[] = {
			"name", "causes", "from", "before", "after"
		};
		const char *const values[] = {
			e->vname, e->causes, e->from, e->before, e->after
		};

		if (e->kind != MB_SIEVE)
			continue;
		n++;
		for (unsigned int i = 0; i < N_ELEMENTS(keys); i++) {
			if (values[i] == NULL)
				continue;
			dnode_add_setting(pool, plugin, e->at, p_strdup_printf(pool,
				"imapsieve_mailbox%u_%s", n, keys[i]),
				values[i], true);
		}
	}
	return 0;
}

/* ---- 2.3 -> 2.4 ---- */

/* "NAME:storage=+SIZE:ignore" (either part, in this order, as 2.4 -> 2.3
 * writes it) -> e; false for anything else */
static bool quota_rule_24(pool_t pool, const char *v, struct mb_entry *e)
{
	const char *colon = strchr(v, ':'), *rest;
	char *copy, *tok, *save = NULL;
	bool any = false;

	if (colon == NULL || colon == v)
		return false;
	e->vname = p_strndup(pool, v, (size_t)(colon - v));
	if (strcmp(e->vname, "*") == 0 || strpbrk(e->vname, "*?%") != NULL)
		return false;
	copy = p_strdup(pool, colon + 1);
	for (tok = strtok_r(copy, ":", &save); tok != NULL;
	     tok = strtok_r(NULL, ":", &save)) {
		if (str_begins(tok, "storage=+", &rest) && e->extra == NULL &&
		    !e->ignore) {
			const char *size = size_plain(pool, rest);

			if (size == NULL || strcmp(size, rest) != 0)
				return false;
			e->extra = size;
		} else if (strcmp(tok, "ignore") == 0 && !e->ignore) {
			e->ignore = true;
		} else {
			return false;
		}
		any = true;
	}
	return any && strstr(colon + 1, "::") == NULL &&
		colon[strlen(colon) - 1] != ':';
}

static void take_quota(struct dialect_mailbox *mb, struct dnode *plugin)
{
	pool_t pool = mb->pool;

	for (unsigned int i = 1; i < 10; i++) {
		const char *root = i == 1 ? "quota" :
			p_strdup_printf(pool, "quota%u", i);
		struct dnode *r = dnode_child_setting(plugin, root);
		struct mb_entry *first = NULL, **tail = mb->tail;
		unsigned int taken = mb->taken_count;
		const char *v, *colon;
		bool ok = true;

		if (r == NULL)
			break;
		v = dnode_value(pool, r);
		colon = strchr(v, ':');
		if (colon == NULL)
			continue;
		for (unsigned int j = 1; ok; j++) {
			const char *key = j == 1 ?
				p_strdup_printf(pool, "%s_rule", root) :
				p_strdup_printf(pool, "%s_rule%u", root, j);
			struct dnode *x = dnode_child_setting(plugin, key);
			struct mb_entry *e;

			if (x == NULL)
				break;
			v = dnode_value(pool, x);
			if (j == 1 && str_begins(v, "*:", NULL))
				continue;
			e = mb_add(mb, MB_QUOTA, NULL, x);
			if (first == NULL)
				first = e;
			e->quota = colon + 1;
			ok = quota_rule_24(pool, v, e) &&
				mb->taken_count < N_ELEMENTS(mb->taken);
			for (struct mb_entry *o = first; ok && o != e;
			     o = o->next) {
				if (strcmp(o->vname, e->vname) == 0)
					ok = false;
			}
			if (ok) {
				mb->taken_root[mb->taken_count] = e->quota;
				mb->taken_vname[mb->taken_count] = e->vname;
				mb->taken[mb->taken_count++] = x;
			}
		}
		if (!ok) {
			/* this root's rules stay as they are */
			*tail = NULL;
			mb->tail = tail;
			mb->taken_count = taken;
			continue;
		}
		for (unsigned int t = taken; t < mb->taken_count; t++)
			mb->taken[t]->removed = true;
	}
}

static struct dnode *inbox_namespace(pool_t pool, struct dnode *scope)
{
	for (struct dnode *n = scope->children; n != NULL; n = n->next) {
		struct dnode *inbox;

		if (n->removed || !n->section || strcmp(n->key, "namespace") != 0)
			continue;
		inbox = dnode_child_setting(n, "inbox");
		if (inbox != NULL &&
		    strcasecmp(dnode_value(pool, inbox), "yes") == 0)
			return n;
	}
	return NULL;
}

static struct dnode *find_block(const struct dnode *parent, const char *name)
{
	for (struct dnode *c = parent->children; c != NULL; c = c->next) {
		if (!c->removed && c->section && c->name != NULL &&
		    strcmp(c->key, "mailbox") == 0 &&
		    strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

static unsigned int child_index(const struct dnode *parent,
				const struct dnode *child)
{
	unsigned int i = 0;

	for (struct dnode *c = parent->children; c != NULL; c = c->next) {
		if (c == child)
			return i;
		i++;
	}
	return i;
}

struct mb_place {
	struct dialect_mailbox *mb;
	struct dnode *scope, *plugin, *out, *ns;
	const char *prefix;
	/* blocks made so far: in ns or (top level) in out */
	struct dnode *made[128];
	bool made_in_ns[128];
	unsigned int made_count;
};

/* The block e goes to (made if needed), NULL if its name can't be
 * carried exactly. */
static struct dnode *place(struct mb_place *pl, struct mb_entry *e)
{
	pool_t pool = pl->mb->pool;
	struct dnode *parent, *block = NULL;
	const char *name = e->vname, *rest;

	if (e->vname[0] == '\\') {
		if (e->kind != MB_FTS || pl->ns == NULL)
			return NULL;
		for (struct dnode *c = pl->ns->children; c != NULL;
		     c = c->next) {
			if (c->removed || !c->section ||
			    strcmp(c->key, "mailbox") != 0 || c->name == NULL)
				continue;
			if (null_strcmp(single_flag(pool, c), e->vname) != 0)
				continue;
			if (block != NULL)
				return NULL;
			block = c;
		}
		return block;
	}
	if (pl->ns != NULL && (pl->prefix[0] == '\0' ||
	    (str_begins(e->vname, pl->prefix, &rest) && *rest != '\0'))) {
		parent = pl->ns;
		if (pl->prefix[0] != '\0')
			name = rest;
	} else {
		parent = pl->out;
	}
	block = find_block(parent, name);
	if (block == NULL && parent == pl->ns) {
		/* one this translation made */
		for (unsigned int i = 0; i < pl->made_count; i++) {
			if (pl->made_in_ns[i] &&
			    strcmp(pl->made[i]->name, name) == 0)
				block = pl->made[i];
		}
	}
	if (block != NULL) {
		/* a special-use block reads back as \Flag */
		if (e->kind == MB_FTS && single_flag(pool, block) != NULL)
			return NULL;
		return block;
	}
	if (pl->made_count == N_ELEMENTS(pl->made))
		return NULL;
	block = dnode_new_section(pool, e->at, "mailbox", name);
	e->block_new = true;
	if (parent == pl->ns) {
		/* appended to ns only when applied: kept aside until then */
		pl->made_in_ns[pl->made_count] = true;
	} else {
		dnode_append(pl->out, block);
	}
	pl->made[pl->made_count++] = block;
	return block;
}

/* Where e's block stands in the 2.4 text, for the order check. */
static unsigned long position(struct mb_place *pl, const struct mb_entry *e)
{
	struct dnode *b = e->block;

	for (unsigned int i = 0; i < pl->made_count; i++) {
		if (pl->made[i] == b) {
			unsigned long major = pl->made_in_ns[i] ?
				child_index(pl->scope, pl->ns) * 2UL :
				child_index(pl->scope, pl->plugin) * 2UL + 1;
			return major * 100000UL + 50000UL + i;
		}
	}
	return child_index(pl->scope, b->parent) * 2UL * 100000UL +
		child_index(b->parent, b);
}

/* Reading back gives the entries of one list in the order of their
 * blocks: they must already be in that order, one per block. */
static bool order_ok(struct mb_place *pl, enum mb_kind kind,
		     const char *quota)
{
	unsigned long last = 0;
	bool first = true;

	if (kind == MB_QUOTA) {
		/* the root's rules in their 2.3 order */
		struct dialect_mailbox *mb = pl->mb;

		for (unsigned int t = 0; t < mb->taken_count; t++) {
			struct mb_entry *e;
			unsigned long pos;

			if (strcmp(mb->taken_root[t], quota) != 0)
				continue;
			for (e = mb->head; e != NULL; e = e->next) {
				if (e->kind == MB_QUOTA &&
				    strcmp(e->vname, mb->taken_vname[t]) == 0 &&
				    (e->quota == NULL ||
				     strcmp(e->quota, quota) == 0))
					break;
			}
			if (e == NULL || e->block == NULL)
				return false;
			pos = position(pl, e);
			if (!first && pos <= last)
				return false;
			first = false;
			last = pos;
		}
		return true;
	}
	for (struct mb_entry *e = pl->mb->head; e != NULL; e = e->next) {
		unsigned long pos;

		if (e->kind != kind)
			continue;
		pos = position(pl, e);
		if (!first && pos <= last)
			return false;
		first = false;
		last = pos;
	}
	return true;
}

/* consecutive KEY, KEY2, KEY3 ... settings -> entries; false (nothing
 * added) if numbered ones follow a gap */
static bool take_list(struct dialect_mailbox *mb, struct dnode *plugin,
		      enum mb_kind kind, const char *k23)
{
	pool_t pool = mb->pool;
	unsigned int count = 0, last = 0;

	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		const char *rest;

		if (c->removed || c->section || !str_begins(c->key, k23, &rest))
			continue;
		if (*rest == '\0')
			count++;
		else if (all_digits(rest) && rest[0] != '0' &&
			 strtoul(rest, NULL, 10) > last)
			last = (unsigned int)strtoul(rest, NULL, 10);
		else if (all_digits(rest))
			return false;
	}
	if (count == 0)
		return false;
	for (unsigned int i = 2; i <= last; i++) {
		if (dnode_child_setting(plugin, p_strdup_printf(pool, "%s%u", k23, i)) ==
		    NULL)
			return false;
	}
	for (unsigned int i = 1; i <= last || i == 1; i++) {
		struct dnode *x = dnode_child_setting(plugin, i == 1 ? k23 :
			p_strdup_printf(pool, "%s%u", k23, i));
		const char *v = dnode_value(pool, x);

		if (*v == '\0')
			return false;
		mb_add(mb, kind, v, x);
	}
	return true;
}

static bool take_trash(struct dialect_mailbox *mb, struct dnode *plugin)
{
	pool_t pool = mb->pool;
	struct dnode *t = dnode_child_setting(plugin, "trash");
	const char **names, **prios, *text, *base;
	unsigned int count;

	if (t == NULL)
		return false;
	/* reading back finds a *trash*.conf.ext file next to the config
	   (or generates one): other names would not come back */
	base = strrchr(dnode_value(pool, t), '/');
	base = base == NULL ? dnode_value(pool, t) : base + 1;
	if (strstr(base, "trash") == NULL || !str_ends(base, ".conf.ext"))
		return false;
	text = dialect_dbfile_read(pool, dnode_value(pool, t));
	if (text == NULL || !trash_parse(pool, text, &names, &prios, &count) ||
	    count == 0)
		return false;
	for (unsigned int i = 0; i < count; i++) {
		struct mb_entry *e = mb_add(mb, MB_TRASH, names[i], t);
		char *p = p_strdup(pool, prios[i]);

		/* 2.4 reads the number: leading zeros go */
		while (p[0] == '0' && p[1] != '\0')
			p++;
		e->prio = p;
	}
	return true;
}

/* imapsieve_mailboxN_name/_causes/_from/_before/_after */
static bool take_sieve(struct dialect_mailbox *mb, struct dnode *plugin)
{
	pool_t pool = mb->pool;
	unsigned int n = 0, count = 0;

	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		if (!c->removed && !c->section &&
		    str_begins(c->key, "imapsieve_mailbox", NULL))
			count++;
	}
	if (count == 0)
		return false;
	for (unsigned int i = 1;; i++) {
		const char *p = p_strdup_printf(pool, "imapsieve_mailbox%u_",
						i);
		struct dnode *name = dnode_child_setting(plugin, p_strdup_printf(pool,
			"%sname", p));
		struct mb_entry *e;

		if (name == NULL)
			break;
		e = mb_add(mb, MB_SIEVE, dnode_value(pool, name), name);
		n++;
		const char *const keys[] = {
			"causes", "from", "before", "after"
		};
		const char **dest[] = {
			&e->causes, &e->from, &e->before, &e->after
		};
		for (unsigned int k = 0; k < N_ELEMENTS(keys); k++) {
			struct dnode *x = dnode_child_setting(plugin, p_strdup_printf(
				pool, "%s%s", p, keys[k]));

			if (x == NULL)
				continue;
			n++;
			e->more[k] = x;
			*dest[k] = dnode_value(pool, x);
			if (**dest[k] == '\0')
				return false;
		}
		if (e->before == NULL && e->after == NULL)
			return false;
	}
	/* every imapsieve_mailbox setting was one of these */
	return n == count;
}

/* 2.3 "file:PATH" / "PATH" -> driver, path; false with ;params */
static bool sieve_loc(pool_t pool, const char *v, const char **driver_r,
		      const char **path_r)
{
	const char *colon = strchr(v, ':'), *slash = strchr(v, '/');

	if (strchr(v, ';') != NULL)
		return false;
	*driver_r = NULL;
	if (colon != NULL && (slash == NULL || colon < slash)) {
		*driver_r = p_strndup(pool, v, (size_t)(colon - v));
		v = colon + 1;
	}
	if (*v == '\0')
		return false;
	*path_r = dialect_vars_23_to_24(pool, "", v);
	return true;
}

static void sieve_script_24(pool_t pool, struct dnode *parent,
			    const struct mb_entry *e, unsigned int n,
			    const char *type, const char *loc)
{
	const char *driver, *path;
	struct dnode *s;

	(void)sieve_loc(pool, loc, &driver, &path);
	s = dnode_new_section(pool, e->at, "sieve_script",
			      p_strdup_printf(pool, "imapsieve%u-%s", n, type));
	s->done = true;
	dnode_add_setting(pool, s, e->at, "type", type, true);
	if (e->causes != NULL)
		dnode_add_setting(pool, s, e->at, "cause", e->causes, true);
	if (driver != NULL)
		dnode_add_setting(pool, s, e->at, "driver", driver, true);
	dnode_add_setting(pool, s, e->at, "path", path, true);
	dnode_append(parent, s);
}

static void apply(struct mb_place *pl, struct mb_entry *e, unsigned int n)
{
	pool_t pool = pl->mb->pool;
	struct dnode *b = e->block, *parent = b;

	switch (e->kind) {
	case MB_QUOTA:
		if (e->quota != NULL) {
			parent = dnode_new_section(pool, e->at, "quota",
						   e->quota);
			parent->done = true;
			dnode_append(b, parent);
		}
		if (e->extra != NULL)
			dnode_add_setting(pool, parent, e->at, "quota_storage_extra",
				e->extra, true);
		if (e->ignore)
			dnode_add_setting(pool, parent, e->at, "quota_ignore", "yes", true);
		break;
	case MB_FTS:
	case MB_LAZY:
	case MB_NOTIFY:
		for (unsigned int l = 0; l < N_ELEMENTS(mb_lists); l++) {
			if (mb_lists[l].kind == e->kind)
				dnode_add_setting(pool, b, e->at, mb_lists[l].k24,
					mb_lists[l].v24, true);
		}
		break;
	case MB_TRASH:
		dnode_add_setting(pool, b, e->at, "trash_priority", e->prio, true);
		break;
	case MB_SIEVE:
		if (e->from != NULL) {
			parent = dnode_new_section(pool, e->at,
						   "imapsieve_from", e->from);
			parent->done = true;
			dnode_append(b, parent);
		}
		if (e->before != NULL)
			sieve_script_24(pool, parent, e, n, "before",
					e->before);
		if (e->after != NULL)
			sieve_script_24(pool, parent, e, n, "after", e->after);
		break;
	case MB_KIND_COUNT:
		i_unreached();
	}
	e->at->removed = true;
	for (unsigned int i = 0; i < N_ELEMENTS(e->more); i++) {
		if (e->more[i] != NULL)
			e->more[i]->removed = true;
	}
}

/* The quota rules of one mailbox in every root alike -> one entry
 * without a root name. */
static void quota_merge(struct dialect_mailbox *mb, struct dnode *plugin)
{
	pool_t pool = mb->pool;
	unsigned int roots = 0;

	while (dnode_child_setting(plugin, roots == 0 ? "quota" :
			 p_strdup_printf(pool, "quota%u", roots + 1)) != NULL)
		roots++;
	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		unsigned int same = 0;

		if (e->kind != MB_QUOTA || e->quota == NULL)
			continue;
		for (struct mb_entry *o = e; o != NULL; o = o->next) {
			if (o->kind == MB_QUOTA && o->quota != NULL &&
			    strcmp(o->vname, e->vname) == 0 &&
			    null_strcmp(o->extra, e->extra) == 0 &&
			    o->ignore == e->ignore)
				same++;
		}
		if (same != roots)
			continue;
		for (struct mb_entry **p = &e->next; *p != NULL;) {
			if ((*p)->kind == MB_QUOTA && (*p)->quota != NULL &&
			    strcmp((*p)->vname, e->vname) == 0) {
				/* the taken rule node stays removed */
				(*p)->at->removed = true;
				*p = (*p)->next;
			} else {
				p = &(*p)->next;
			}
		}
		e->quota = NULL;
	}
	mb->tail = &mb->head;
	while (*mb->tail != NULL)
		mb->tail = &(*mb->tail)->next;
}

static int quota_index(struct mb_entry **q, unsigned int count,
		       const char *vname, const char *quota)
{
	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(q[i]->vname, vname) == 0 &&
		    (q[i]->quota == NULL || strcmp(q[i]->quota, quota) == 0))
			return (int)i;
	}
	return -1;
}

static void quota_place(struct mb_place *pl)
{
	struct dialect_mailbox *mb = pl->mb;
	struct mb_entry *q[64];
	unsigned int count = 0, indeg[64], done = 0;
	bool edge[64][64], used[64];

	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		if (e->kind == MB_QUOTA && count < N_ELEMENTS(q))
			q[count++] = e;
	}
	memset(edge, 0, sizeof(edge));
	memset(indeg, 0, sizeof(indeg));
	memset(used, 0, sizeof(used));
	/* each root's rules in order: a before b */
	for (unsigned int t = 0; t + 1 < mb->taken_count; t++) {
		for (unsigned int u = t + 1; u < mb->taken_count; u++) {
			int a, b;

			if (strcmp(mb->taken_root[t], mb->taken_root[u]) != 0)
				continue;
			a = quota_index(q, count, mb->taken_vname[t],
					mb->taken_root[t]);
			b = quota_index(q, count, mb->taken_vname[u],
					mb->taken_root[u]);
			if (a >= 0 && b >= 0 && a != b && !edge[a][b]) {
				edge[a][b] = true;
				indeg[b]++;
			}
			break;
		}
	}
	while (done < count && mb->kind_ok[MB_QUOTA]) {
		unsigned int i;

		for (i = 0; i < count; i++) {
			if (!used[i] && indeg[i] == 0)
				break;
		}
		if (i == count) {
			/* the roots want different orders */
			mb->kind_ok[MB_QUOTA] = false;
			break;
		}
		used[i] = true;
		done++;
		for (unsigned int j = 0; j < count; j++) {
			if (edge[i][j])
				indeg[j]--;
		}
		q[i]->block = place(pl, q[i]);
		if (q[i]->block == NULL)
			mb->kind_ok[MB_QUOTA] = false;
	}
}

struct dialect_mailbox *
dialect_mailbox_23_plan(pool_t pool, struct dnode *scope, struct dnode *plugin,
			struct dnode *out)
{
	struct dialect_mailbox *mb = mb_new(pool);
	struct mb_place *pl = p_new(pool, struct mb_place, 1);
	struct dnode *p;

	mb->place = pl;
	pl->mb = mb;
	pl->scope = scope;
	pl->plugin = plugin;
	pl->out = out;
	pl->ns = inbox_namespace(pool, scope);
	p = pl->ns == NULL ? NULL : dnode_child_setting(pl->ns, "prefix");
	pl->prefix = p == NULL ? "" : dnode_value(pool, p);
	if (strchr(pl->prefix, '%') != NULL || strchr(pl->prefix, '$') != NULL)
		pl->ns = NULL;
	for (unsigned int k = 0; k < MB_KIND_COUNT; k++)
		mb->kind_ok[k] = true;
	take_quota(mb, plugin);
	quota_merge(mb, plugin);
	for (unsigned int l = 0; l < N_ELEMENTS(mb_lists); l++)
		mb->kind_ok[mb_lists[l].kind] = take_list(mb, plugin,
			mb_lists[l].kind, mb_lists[l].k23);
	mb->kind_ok[MB_TRASH] = take_trash(mb, plugin);
	mb->kind_ok[MB_SIEVE] = take_sieve(mb, plugin);

	/* where each goes; a kind with one entry that can't go is left
	   (quota: new blocks made in an order every root's rules keep) */
	quota_place(pl);
	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		if (e->block != NULL)
			continue;
		if (!mb->kind_ok[e->kind])
			continue;
		e->block = place(pl, e);
		if (e->block == NULL)
			mb->kind_ok[e->kind] = false;
	}
	for (unsigned int k = 0; k < MB_KIND_COUNT; k++) {
		if (mb->kind_ok[k] && k != MB_QUOTA && k != MB_TRASH &&
		    !order_ok(pl, (enum mb_kind)k, NULL))
			mb->kind_ok[k] = false;
	}
	for (unsigned int i = 1; i < 10 && mb->kind_ok[MB_QUOTA]; i++) {
		const char *root = i == 1 ? "quota" :
			p_strdup_printf(pool, "quota%u", i);
		struct dnode *r = dnode_child_setting(plugin, root);
		const char *colon;

		if (r == NULL)
			break;
		colon = strchr(dnode_value(pool, r), ':');
		if (colon != NULL && !order_ok(pl, MB_QUOTA, colon + 1))
			mb->kind_ok[MB_QUOTA] = false;
	}
	/* sieve locations with ;parameters stay */
	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		const char *d, *pth;

		if (e->kind == MB_SIEVE &&
		    ((e->before != NULL &&
		      !sieve_loc(pool, e->before, &d, &pth)) ||
		     (e->after != NULL &&
		      !sieve_loc(pool, e->after, &d, &pth))))
			mb->kind_ok[MB_SIEVE] = false;
	}
	if (!mb->kind_ok[MB_QUOTA]) {
		/* the quota translation sees them and keeps quota as 2.3 */
		for (unsigned int t = 0; t < mb->taken_count; t++)
			mb->taken[t]->removed = false;
	}
	return mb;
}

void dialect_mailbox_23_apply(struct dialect_mailbox *mb, bool quota_ok)
{
	struct mb_place *pl = mb->place;
	unsigned int sieve_n = 0;

	if (!quota_ok && mb->kind_ok[MB_QUOTA]) {
		for (unsigned int t = 0; t < mb->taken_count; t++)
			mb->taken[t]->removed = false;
		mb->kind_ok[MB_QUOTA] = false;
	}
	/* the blocks made in the namespace, in the order planned */
	for (unsigned int i = 0; i < pl->made_count; i++) {
		if (pl->made_in_ns[i])
			dnode_append(pl->ns, pl->made[i]);
	}
	for (struct mb_entry *e = mb->head; e != NULL; e = e->next) {
		if (!mb->kind_ok[e->kind])
			continue;
		apply(pl, e, e->kind == MB_SIEVE ? ++sieve_n : 0);
	}
	/* blocks made for kinds left untranslated go away */
	for (unsigned int i = 0; i < pl->made_count; i++) {
		if (pl->made[i]->children == NULL)
			pl->made[i]->removed = true;
	}
}

/* ---- the running server ---- */

/* path with text, through a temp file and rename; -1 with errbuf */
static int write_generated(const char *path, const char *text,
			   char *errbuf, size_t errsize)
{
	const char *slash = strrchr(path, '/');
	char *dir, *tmp;
	size_t len = strlen(text);
	int fd, ret = 0;

	dir = slash == NULL ? i_strdup("") :
		i_strndup(path, (size_t)(slash - path));
	tmp = i_strdup_printf("%s.tmp", path);
	if (*dir != '\0' && mkdir_parents(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(errbuf, errsize, "mkdir(%s) failed: %s", dir,
			 strerror(errno));
		ret = -1;
	} else if ((void)unlink(tmp), (fd = open(tmp, O_WRONLY | O_CREAT |
						 O_EXCL | O_CLOEXEC,
						 0644)) < 0) {
		snprintf(errbuf, errsize, "open(%s) failed: %s", tmp,
			 strerror(errno));
		ret = -1;
	} else if (write(fd, text, len) != (ssize_t)len || close(fd) < 0 ||
		   rename(tmp, path) < 0) {
		snprintf(errbuf, errsize, "write(%s) failed: %s", path,
			 strerror(errno));
		(void)unlink(tmp);
		ret = -1;
	}
	i_free(dir);
	i_free(tmp);
	return ret;
}

int dialect_write_runtime_files(const char **error_r)
{
	static char errbuf[512];
	const char *path, *text;

	/* the trash priority file */
	for (unsigned int i = 0; dialect_dbfile_get(i, &path, &text); i++) {
		const char *slash = strrchr(path, '/');

		if (slash == NULL || strcmp(slash + 1, TRASH_FILE_NAME) != 0)
			continue;
		if (write_generated(path, text, errbuf, sizeof(errbuf)) < 0) {
			*error_r = errbuf;
			return -1;
		}
	}
	/* the global ACL file of acl { } filters (dialect-acl.c): the
	   server's children read the master's snapshot, not the 2.4 file,
	   so they find the rules on disk */
	for (unsigned int i = 0; genfile_iter("acl", i, &path, &text); i++) {
		if (write_generated(path, text, errbuf, sizeof(errbuf)) < 0) {
			*error_r = errbuf;
			return -1;
		}
	}
	return 0;
}

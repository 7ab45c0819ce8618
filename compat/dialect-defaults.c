/* dialect-defaults.c - the defaults Dovecot 2.4 changed, which
 * dovecot_config_version selects (its "Changed Setting Defaults" per
 * 2.4.x release), and the 2.4 settings that only limit what 2.3 did
 * without limit. A 2.4 file that leaves such a setting alone is read as
 * the 2.3 value giving that version's 2.4 default; doveconf --as 2.4
 * writes the 2.3 default explicitly where the 2.4 version it writes
 * (2.4.0) would change it. */

#include "lib.h"
#include "str.h"
#include "dialect-private.h"

#include <stdlib.h>
#include <strings.h>

/* The version the export writes. */
#define EXPORT_VERSION "2.4.0"

enum default_cond {
	COND_ALWAYS,
	/* only when the service section is in the file (the service
	   exists only with a plugin package: managesieve) */
	COND_SECTION,
	/* only when plugin { } has a setting whose name starts with arg:
	   the plugin is configured */
	COND_PLUGIN,
	/* not when mail_location's driver is maildir (2.4.3 emptied the
	   maildir filter's default again) */
	COND_NOT_MAILDIR,
};

/* path: the 2.3 place, "key", "plugin/key", "service/NAME/key" or
 * "service/NAME/unix_listener/PATH/key"; value: the 2.3 value that gives
 * 2.4's default from version since (up to, not including, until);
 * def24: for rows the export writes, 2.3's default in 2.4 syntax. */
static const struct default_row {
	const char *path, *value, *since, *until;
	enum default_cond cond;
	const char *cond_arg, *def24;
} rows[] = {
	{ "submission_max_mail_size", "40 M", "2.4.0", NULL,
	  COND_ALWAYS, NULL, "0" },
	{ "service/anvil/chroot", "", "2.4.0", NULL, COND_ALWAYS, NULL,
	  "empty" },
	{ "service/anvil/user", "", "2.4.0", NULL, COND_ALWAYS, NULL,
	  "$SET:default_internal_user" },
	{ "lmtp_user_concurrency_limit", "10", "2.4.1", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "mail_cache_fields", "flags hdr.date hdr.subject hdr.from "
	  "hdr.sender hdr.reply-to hdr.to hdr.cc hdr.bcc hdr.in-reply-to "
	  "hdr.message-id date.received size.virtual imap.bodystructure "
	  "mime.parts hdr.references hdr.importance hdr.x-priority "
	  "hdr.x-open-xchange-share-url pop3.uidl pop3.order", "2.4.1", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/lmtp/service_count", "1", "2.4.1", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/auth/unix_listener/auth-userdb/group",
	  "$default_internal_group", "2.4.1", NULL, COND_ALWAYS, NULL, NULL },
	{ "service/anvil/unix_listener/anvil/mode", "0660", "2.4.2", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/anvil/unix_listener/anvil/group", "$default_internal_group",
	  "2.4.2", NULL, COND_ALWAYS, NULL, NULL },
	{ "mail_attachment_detection_options",
	  "add-flags content-type=!application/signature", "2.4.2", "2.4.3",
	  COND_ALWAYS, NULL, NULL },
	{ "mail_attachment_detection_options",
	  "add-flags content-type=!application/signature", "2.4.3", NULL,
	  COND_NOT_MAILDIR, NULL, NULL },
	{ "mail_access_groups", "$default_internal_group", "2.4.3", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "plugin/lazy_expunge_only_last_instance", "yes", "2.4.3", NULL,
	  COND_PLUGIN, "lazy_expunge", NULL },
	{ "service/doveadm/extra_groups", "", "2.4.3", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/imap/extra_groups", "", "2.4.3", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/imap-urlauth-worker/extra_groups", "", "2.4.3", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/indexer-worker/extra_groups", "", "2.4.3", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/lmtp/extra_groups", "", "2.4.3", "2.4.4",
	  COND_ALWAYS, NULL, NULL },
	{ "service/pop3/extra_groups", "", "2.4.3", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/submission/extra_groups", "", "2.4.3", NULL,
	  COND_ALWAYS, NULL, NULL },
	{ "service/managesieve/extra_groups", "", "2.4.3", NULL,
	  COND_SECTION, NULL, NULL },
	{ "service/anvil/unix_listener/anvil-auth-penalty/mode", "0660",
	  "2.4.3", NULL, COND_ALWAYS, NULL, NULL },
	{ "service/anvil/unix_listener/anvil-auth-penalty/group",
	  "$default_internal_group", "2.4.3", NULL, COND_ALWAYS, NULL, NULL },
	{ "service/imap/unix_listener/imap-master/user",
	  "$default_internal_user", "2.4.3", NULL, COND_ALWAYS, NULL, NULL },
	{ "plugin/sieve_max_cpu_time", "30s", "2.4.5", NULL,
	  COND_PLUGIN, "sieve", NULL },
};

/* 2.4 settings 2.3 does not have: 2.3 behaved as value23 (written by
 * the export; the same value read from a 2.4 file is dropped). */
static const struct {
	const char *key, *value23, *alt23;
} new_24[] = {
	{ "auth_allow_weak_schemes", "yes", NULL },
	{ "mail_cache_max_headers_count", "0", "unlimited" },
	{ "mail_cache_max_header_name_length", "0", "unlimited" },
};

/* uint settings where 0 meant unlimited: 0 is an error from 2.4.3 on,
 * unlimited is 2.3's 0 */
static const char *const zero_unlimited[] = {
	"submission_max_recipients", "last_valid_uid", "last_valid_gid",
	"mail_sort_max_read_count", "mail_vsize_bg_after_count",
	"mail_cache_max_headers_count", "mail_cache_max_header_name_length",
	"imapc_max_line_length",
};

/* imapc_features words Dovecot 2.4 made always on (2.4.0 warns about
 * them and drops them, 2.4.4 refuses them) */
static const char *const imapc_always_on[] = {
	"rfc822.size", "fetch-headers", "search", "modseq", "delay-login",
	"fetch-bodystructure", "acl",
};

static bool imapc_always_on_word(const char *word)
{
	for (unsigned int i = 0; i < N_ELEMENTS(imapc_always_on); i++) {
		if (strcasecmp(word, imapc_always_on[i]) == 0)
			return true;
	}
	return false;
}
#define UNTRANSLATED "roost_untranslated"

static const char *cur_version = "2.4.0";
static const char *global_scheme = NULL;

int dialect_version_cmp(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0') {
		unsigned long x = strtoul(a, (char **)&a, 10);
		unsigned long y = strtoul(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if ((*a == '\0') != (*b == '\0'))
			return *a == '\0' ? -1 : 1;
	}
	return 0;
}

/* version is 0.0.0 ("the latest") or >= since */
bool dialect_version_has(const char *version, const char *since)
{
	return strcmp(version, "0.0.0") == 0 ||
		dialect_version_cmp(version, since) >= 0;
}

static bool row_applies(const struct default_row *row, const char *version)
{
	if (!dialect_version_has(version, row->since))
		return false;
	return row->until == NULL || !dialect_version_has(version, row->until);
}

static struct dnode *find_section(const struct dnode *parent,
				  const char *key, const char *name)
{
	for (struct dnode *c = parent->children; c != NULL; c = c->next) {
		if (c->removed || !c->section || strcmp(c->key, key) != 0)
			continue;
		if (name == NULL ? c->name == NULL :
		    (c->name != NULL && strcmp(c->name, name) == 0))
			return c;
	}
	return NULL;
}

static struct dnode *find_setting(const struct dnode *parent,
				  const char *key)
{
	for (struct dnode *c = parent->children; c != NULL; c = c->next) {
		if (!c->removed && !c->section && strcmp(c->key, key) == 0)
			return c;
	}
	return NULL;
}

/* The section that holds path's last part (created when create is true
 * and it is missing, else NULL), *key_r the setting's name. */
static struct dnode *path_parent(pool_t pool, struct dnode *root,
				 const struct dnode *at, const char *path,
				 bool create, const char **key_r)
{
	const char *parts[6];
	unsigned int count = 0, i = 0;
	struct dnode *cur = root;

	for (const char *p = path, *slash;; p = slash + 1) {
		slash = strchr(p, '/');
		i_assert(count < N_ELEMENTS(parts));
		if (slash == NULL) {
			parts[count++] = p_strdup(pool, p);
			break;
		}
		parts[count++] = p_strndup(pool, p, (size_t)(slash - p));
	}
	while (i + 1 < count) {
		const char *key = parts[i], *name = NULL;
		struct dnode *next;

		if (strcmp(key, "service") == 0 ||
		    strcmp(key, "unix_listener") == 0) {
			name = parts[i + 1];
			i += 2;
		} else {
			i++;
		}
		next = find_section(cur, key, name);
		if (next == NULL) {
			if (!create)
				return NULL;
			next = dnode_new_section(pool, at, key, name);
			next->done = true;
			dnode_append(cur, next);
		}
		cur = next;
	}
	*key_r = parts[count - 1];
	return cur;
}

static bool plugin_has_prefix(const struct dnode *root, const char *prefix)
{
	const struct dnode *plugin = find_section(root, "plugin", NULL);

	if (plugin == NULL)
		return false;
	for (const struct dnode *c = plugin->children; c != NULL;
	     c = c->next) {
		if (!c->removed && !c->section &&
		    str_begins(c->key, prefix, NULL))
			return true;
	}
	return false;
}

static bool cond_holds(pool_t pool, struct dnode *root,
		       const struct default_row *row)
{
	const struct dnode *loc;
	const char *key;

	switch (row->cond) {
	case COND_ALWAYS:
		return true;
	case COND_SECTION:
		return path_parent(pool, root, NULL, row->path, false,
				   &key) != NULL;
	case COND_PLUGIN:
		return plugin_has_prefix(root, row->cond_arg);
	case COND_NOT_MAILDIR:
		loc = find_setting(root, "mail_location");
		return loc == NULL ||
			!str_begins(dnode_value(pool, loc), "maildir:", NULL);
	}
	return false;
}

/* "$SET:name" -> "$name" */
static const char *value_23(pool_t pool, const char *v24)
{
	const char *rest;

	if (str_begins(v24, "$SET:", &rest))
		return p_strdup_printf(pool, "$%s", rest);
	return v24;
}

void dialect_defaults_start(const char *version)
{
	cur_version = version;
	global_scheme = NULL;
}

const char *dialect_default_password_scheme(void)
{
	if (global_scheme != NULL)
		return global_scheme;
	return dialect_version_has(cur_version, "2.4.3") ? "CRYPT" : "PLAIN";
}

int dialect_defaults_setting_24(struct dtree *tree, struct dnode *n)
{
	pool_t pool = tree->pool;
	const char *v = dnode_value(pool, n);

	if (strcmp(n->key, "passdb_default_password_scheme") == 0) {
		/* the default of every passwd-file and sql passdb */
		if (n->parent != tree->root) {
			dialect_error(tree, n, "%s inside a filter has no "
				      "Dovecot 2.3 form (2.3 sets the scheme "
				      "per passdb)", n->key);
			return -1;
		}
		global_scheme = p_strdup(pool, v);
		n->removed = true;
		return 1;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(zero_unlimited); i++) {
		if (strcmp(n->key, zero_unlimited[i]) != 0)
			continue;
		if (strcmp(v, "0") == 0 && dialect_version_has(cur_version, "2.4.3")) {
			dialect_error(tree, n, "%s = 0 is invalid with "
				      "dovecot_config_version %s (0 meant "
				      "unlimited before 2.4.3): write "
				      "unlimited", n->key, cur_version);
			return -1;
		}
		if (strcasecmp(v, "unlimited") == 0)
			dnode_set_value(n, "0");
		break;
	}
	if (strcmp(n->key, "imapc_features") == 0) {
		/* drop the always-on words here; all are added at the end */
		string_t *str = str_new(64);
		char *copy = p_strdup(pool, v), *save = NULL, *w;

		for (w = strtok_r(copy, " ,", &save); w != NULL;
		     w = strtok_r(NULL, " ,", &save)) {
			bool on = imapc_always_on_word(w);

			if (on) {
				dialect_warning(n, "imapc_features: %s is always "
						"on in Dovecot 2.4 (2.4.4 refuses "
						"the word)", w);
				continue;
			}
			str_printfa(str, "%s%s", str_len(str) > 0 ? " " : "",
				    w);
		}
		dnode_set_value(n, p_strdup(pool, str_c(str)));
		str_free(&str);
		n->done = true;
		return 0;
	}
	if (strcmp(n->key, "imapc_user") == 0 &&
	    strcmp(v, "%{owner_user}") == 0) {
		/* 2.3's empty imapc_user is the owner's name */
		n->removed = true;
		return 1;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(new_24); i++) {
		if (strcmp(n->key, new_24[i].key) != 0)
			continue;
		v = dnode_value(pool, n);
		if (strcasecmp(v, new_24[i].value23) != 0 &&
		    (new_24[i].alt23 == NULL ||
		     strcasecmp(v, new_24[i].alt23) != 0)) {
			dialect_warning(n, "%s = %s: Roost does as Dovecot "
					"2.3 did (%s = %s), the limit is not "
					"applied", n->key, v, n->key,
					new_24[i].value23);
		}
		n->removed = true;
		return 1;
	}
	return 0;
}

/* imapc used: mail_location imapc:, imapc_host or imapc_features set */
static bool imapc_used(pool_t pool, const struct dnode *root)
{
	const struct dnode *loc = find_setting(root, "mail_location");

	return (loc != NULL &&
		str_begins(dnode_value(pool, loc), "imapc:", NULL)) ||
		find_setting(root, "imapc_host") != NULL ||
		find_setting(root, "imapc_features") != NULL;
}

/* 2.4's always-on imapc features as 2.3 imapc_features words */
static void imapc_features_24_to_23(struct dtree *tree, struct dnode *at)
{
	pool_t pool = tree->pool;
	struct dnode *n = find_setting(tree->root, "imapc_features");
	string_t *str;

	if (!imapc_used(pool, tree->root))
		return;
	if (n != NULL && n->raw != NULL)
		return;	/* 2.3 text of roost_untranslated { } */
	str = str_new(128);
	if (n != NULL)
		str_append(str, dnode_value(pool, n));
	for (unsigned int i = 0; i < N_ELEMENTS(imapc_always_on); i++) {
		str_printfa(str, "%s%s", str_len(str) > 0 ? " " : "",
			    imapc_always_on[i]);
	}
	if (n == NULL) {
		n = dnode_new_setting(pool, at, "imapc_features", "", false);
		n->done = true;
		dnode_insert_after(at, n);
	}
	dnode_set_value(n, p_strdup(pool, str_c(str)));
	str_free(&str);
}

/* 2.4's service auth-worker { process_limit = N }: 2.3 caps the workers
 * at auth_worker_max_count (30) too, so above 30 that is set to N */
static void auth_worker_24_to_23(struct dtree *tree, struct dnode *at)
{
	pool_t pool = tree->pool;
	struct dnode *svc = find_section(tree->root, "service", "auth-worker");
	struct dnode *limit, *max;
	const char *v;

	if (svc == NULL ||
	    (limit = find_setting(svc, "process_limit")) == NULL ||
	    find_setting(tree->root, "auth_worker_max_count") != NULL)
		return;
	v = dnode_value(pool, limit);
	if (strcmp(v, "0") == 0 || strtoul(v, NULL, 10) <= 30)
		return;
	max = dnode_new_setting(pool, limit, "auth_worker_max_count", v, false);
	max->done = true;
	dnode_insert_after(at, max);
}

void dialect_defaults_24_to_23(struct dtree *tree, struct dnode *at)
{
	pool_t pool = tree->pool;

	imapc_features_24_to_23(tree, at);
	auth_worker_24_to_23(tree, at);

	for (unsigned int i = 0; i < N_ELEMENTS(rows); i++) {
		struct dnode *parent, *set, *existing;
		const char *key;

		if (!row_applies(&rows[i], cur_version) ||
		    !cond_holds(pool, tree->root, &rows[i]))
			continue;
		parent = path_parent(pool, tree->root, at, rows[i].path,
				     true, &key);
		existing = find_setting(parent, key);
		if (existing != NULL) {
			/* 2.3's default written out (by --as 2.4): 2.3 text
			   leaves it unset */
			if (rows[i].def24 != NULL &&
			    strcmp(dnode_value(pool, existing),
				   value_23(pool, rows[i].def24)) == 0)
				existing->removed = true;
			continue;
		}
		set = dnode_new_setting(pool, at, key, rows[i].value, false);
		set->expand = strchr(rows[i].value, '$') != NULL;
		set->done = true;
		if (parent == tree->root)
			dnode_insert_after(at, set);
		else
			dnode_append(parent, set);
	}
}

/* put set at *pos (the front of root's list, in table order) */
static void insert_front(struct dnode *root, struct dnode ***pos,
			 struct dnode *set)
{
	set->parent = root;
	set->next = **pos;
	**pos = set;
	*pos = &set->next;
}

/* A 2.3 imapc_features without 2.4's always-on words (2.4.4 refuses
 * them); when it lacks some of them 2.4 can't turn them off: kept in 2.3
 * form inside roost_untranslated { } */
static void imapc_features_23_to_24(pool_t pool, struct dnode *root)
{
	struct dnode *n = find_setting(root, "imapc_features"), *sec, *copy;
	const char *v;
	string_t *str;
	bool all = true;
	bool used;

	used = n != NULL || find_setting(root, "imapc_host") != NULL;
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		if (!c->removed && !c->section &&
		    strcmp(c->key, "mail_driver") == 0 &&
		    strcmp(dnode_value(pool, c), "imapc") == 0)
			used = true;
	}
	if (!used)
		return;
	v = n == NULL ? "" : dnode_value(pool, n);
	str = str_new(64);
	for (unsigned int i = 0; i < N_ELEMENTS(imapc_always_on); i++) {
		bool found = false;
		char *copyv = p_strdup(pool, v), *save = NULL, *w;

		for (w = strtok_r(copyv, " ,", &save); w != NULL;
		     w = strtok_r(NULL, " ,", &save)) {
			if (strcasecmp(w, imapc_always_on[i]) == 0)
				found = true;
		}
		if (!found) {
			all = false;
			str_printfa(str, " %s", imapc_always_on[i]);
		}
	}
	if (!all) {
		i_warning("doveconf --as 2.4: imapc_features: Dovecot 2.4 "
			  "always enables%s; written as in 2.3", str_c(str));
		str_free(&str);
		if (n == NULL)
			n = dnode_new_setting(pool, NULL, "imapc_features", "",
					      false);
		sec = find_section(root, UNTRANSLATED, NULL);
		if (sec == NULL) {
			sec = dnode_new_section(pool, NULL, UNTRANSLATED,
						NULL);
			dnode_append(root, sec);
		}
		copy = p_new(pool, struct dnode, 1);
		*copy = *n;
		copy->next = NULL;
		copy->children = NULL;
		/* first: a plugin { } there must stay last */
		copy->parent = sec;
		copy->next = sec->children;
		sec->children = copy;
		n->removed = true;
		return;
	}
	str_truncate(str, 0);
	{
		char *copyv = p_strdup(pool, v), *save = NULL, *w;

		for (w = strtok_r(copyv, " ,", &save); w != NULL;
		     w = strtok_r(NULL, " ,", &save)) {
			bool on = imapc_always_on_word(w);

			if (!on)
				str_printfa(str, "%s%s",
					    str_len(str) > 0 ? " " : "", w);
		}
	}
	dnode_set_value(n, p_strdup(pool, str_c(str)));
	n->raw = NULL;
	str_free(&str);
}

/* auth_worker_max_count (gone in 2.4) caps 2.3's auth workers; 2.4 has
 * only service auth-worker's process_limit. Where 2.3 sets both to the
 * same value over 30 (2.3's cap), process_limit says it all. Runs on the
 * 2.3 tree, before the export (otherwise the setting is untranslated). */
void dialect_defaults_23_pre(pool_t pool, struct dtree *tree)
{
	struct dnode *root = tree->root;
	struct dnode *max = find_setting(root, "auth_worker_max_count");
	struct dnode *svc, *limit;

	if (max == NULL)
		return;
	svc = find_section(root, "service", "auth-worker");
	limit = svc == NULL ? NULL : find_setting(svc, "process_limit");
	if (limit != NULL &&
	    strcmp(dnode_value(pool, limit), dnode_value(pool, max)) == 0 &&
	    strtoul(dnode_value(pool, max), NULL, 10) > 30)
		max->removed = true;
}

void dialect_defaults_23_to_24(pool_t pool, struct dtree *tree)
{
	struct dnode *root = tree->root, **pos = &root->children;

	imapc_features_23_to_24(pool, root);

	/* 2.3 defaults that 2.4.0 changed, kept as they were */
	for (unsigned int i = 0; i < N_ELEMENTS(rows); i++) {
		const struct default_row *row = &rows[i];
		struct dnode *parent, *set;
		const char *key;

		if (row->def24 == NULL || !row_applies(row, EXPORT_VERSION))
			continue;
		parent = path_parent(pool, root, NULL, row->path, true, &key);
		if (find_setting(parent, key) != NULL)
			continue;
		set = dnode_new_setting(pool, NULL, key, row->def24, false);
		set->expand = strchr(row->def24, '$') != NULL;
		if (parent == root)
			insert_front(root, &pos, set);
		else
			dnode_append(parent, set);
	}
	/* the settings 2.4 added to limit what 2.3 did without limit */
	for (unsigned int i = 0; i < N_ELEMENTS(new_24); i++) {
		if (find_setting(root, new_24[i].key) != NULL)
			continue;
		insert_front(root, &pos, dnode_new_setting(pool, NULL,
			new_24[i].key, new_24[i].value23, false));
	}
}

bool dialect_default_get(unsigned int i, const char **path_r,
			 const char **value_r, const char **since_r)
{
	if (i >= N_ELEMENTS(rows))
		return false;
	*path_r = rows[i].path;
	*value_r = rows[i].value;
	*since_r = rows[i].since;
	return true;
}

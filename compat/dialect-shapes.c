/* dialect-shapes.c - plugin settings that Dovecot 2.4 turned into
 * sections, both ways: quota NAME { } (2.3 quota, quota_rule,
 * quota_warning, quotaN_*), sieve_script NAME { } (2.3 sieve,
 * sieve_before/after/default/discard/global[N]), mail-crypt's global
 * keys. 2.4 -> 2.3 gives plugin { } settings; 2.3 -> 2.4 takes them out
 * of plugin { } only when reading the result back gives the same. */

#include "lib.h"
#include "str.h"
#include "dialect-private.h"

#include <stdlib.h>
#include <strings.h>

/* "1 G" -> "1G"; "unlimited" -> "0" (2.3's no limit). */
static const char *size_23(pool_t pool, const char *v)
{
	string_t *s;
	const char *ret;

	if (strcmp(v, "unlimited") == 0)
		return "0";
	s = str_new(32);
	for (; *v != '\0'; v++) {
		if (*v != ' ')
			str_append_c(s, *v);
	}
	ret = p_strdup(pool, str_c(s));
	str_free(&s);
	return ret;
}

/* ---- quota ---- */

static const char *const quota_drivers[] = {
	"count", "maildir", "fs", "imapc",
};

static bool quota_driver_ok(const char *d)
{
	for (unsigned int i = 0; i < N_ELEMENTS(quota_drivers); i++) {
		if (strcmp(d, quota_drivers[i]) == 0)
			return true;
	}
	return false;
}

/* warning NAME { quota_storage_percentage, quota_message_percentage,
 * threshold, execute SERVICE { args } } -> "storage=95%% SERVICE ARGS" */
static int quota_warning_23(struct dtree *tree, struct dnode *w,
			    string_t *out)
{
	pool_t pool = tree->pool;
	const char *storage = NULL, *messages = NULL, *service = NULL;
	const char *args = NULL, *error;
	bool under = false;

	for (struct dnode *c = w->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(
			dialect_strip_prefix(c->key, "quota_"), "warning_");

		if (c->removed)
			continue;
		if (c->section && strcmp(k, "execute") == 0 && c->name != NULL) {
			service = c->name;
			for (struct dnode *e = c->children; e != NULL;
			     e = e->next) {
				if (e->section || strcmp(dialect_strip_prefix(e->key,
						"execute_"), "args") != 0) {
					dialect_error(tree, e, "Unknown setting"
						" in execute %s { }: %s",
						c->name, e->key);
					return -1;
				}
				args = dialect_vars_24_to_23(pool, "",
					dnode_value(pool, e), &error);
				if (args == NULL) {
					dialect_error(tree, e, "%s: %s",
						      e->key, error);
					return -1;
				}
			}
		} else if (!c->section && strcmp(k, "storage_percentage") == 0)
			storage = dnode_value(pool, c);
		else if (!c->section && strcmp(k, "message_percentage") == 0)
			messages = dnode_value(pool, c);
		else if (!c->section && strcmp(k, "threshold") == 0)
			under = strcmp(dnode_value(pool, c), "under") == 0;
		else {
			dialect_error(tree, c, "Unknown setting in warning %s "
				      "{ }: %s", w->name, c->key);
			return -1;
		}
	}
	if (storage == NULL && messages == NULL) {
		dialect_error(tree, w, "warning %s { }: no "
			      "quota_storage_percentage or "
			      "quota_message_percentage", w->name);
		return -1;
	}
	if (under)
		str_append_c(out, '-');
	if (storage != NULL)
		str_printfa(out, "storage=%s%%%%", storage);
	if (messages != NULL)
		str_printfa(out, "%smessages=%s%%%%",
			    storage != NULL ? ":" : "", messages);
	if (service != NULL)
		str_printfa(out, " %s", service);
	if (args != NULL && *args != '\0')
		str_printfa(out, " %s", args);
	return 0;
}

int dialect_quota_24_to_23(struct dtree *tree, struct dnode *q,
			   unsigned int idx, const char *def_storage,
			   const char *def_messages, struct dnode *plugin)
{
	pool_t pool = tree->pool;
	const char *driver = "count", *storage = def_storage;
	const char *messages = def_messages;
	const char *root = idx <= 1 ? "quota" :
		p_strdup_printf(pool, "quota%u", idx);
	string_t *rule, *warn;
	unsigned int warnings = 0;
	int ret = -1;

	if (q->name == NULL) {
		dialect_error(tree, q, "quota { } is missing section name");
		return -1;
	}
	rule = str_new(64);
	warn = str_new(64);
	for (struct dnode *c = q->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(c->key, "quota_");

		if (c->removed)
			continue;
		if (c->section && strcmp(k, "warning") == 0) {
			str_truncate(warn, 0);
			if (quota_warning_23(tree, c, warn) < 0)
				goto out;
			warnings++;
			dnode_add_setting(pool, plugin, c, warnings == 1 ?
				p_strdup_printf(pool, "%s_warning", root) :
				p_strdup_printf(pool, "%s_warning%u", root,
						warnings), str_c(warn), false);
		} else if (!c->section && strcmp(k, "driver") == 0)
			driver = dnode_value(pool, c);
		else if (!c->section && strcmp(k, "storage_size") == 0)
			storage = dnode_value(pool, c);
		else if (!c->section && strcmp(k, "message_count") == 0)
			messages = dnode_value(pool, c);
		else {
			dialect_error(tree, c, "Unknown setting in quota %s "
				      "{ }: %s", q->name, c->key);
			goto out;
		}
	}
	if (!quota_driver_ok(driver)) {
		dialect_error(tree, q, "quota %s { driver = %s }: not a "
			      "Dovecot quota driver", q->name, driver);
		goto out;
	}
	dnode_add_setting(pool, plugin, q, root, p_strdup_printf(pool, "%s:%s", driver,
						       q->name), false);
	if (storage != NULL)
		str_printfa(rule, ":storage=%s", size_23(pool, storage));
	if (messages != NULL)
		str_printfa(rule, ":messages=%s",
			    strcmp(messages, "unlimited") == 0 ? "0" :
			    messages);
	if (str_len(rule) > 0)
		dnode_add_setting(pool, plugin, q, p_strdup_printf(pool, "%s_rule",
			root), p_strdup_printf(pool, "*%s", str_c(rule)), false);
	/* 2.4's count driver always counts virtual sizes; 2.3's needs it */
	if (strcmp(driver, "count") == 0 &&
	    dnode_child(plugin, "quota_vsizes") == NULL)
		dnode_add_setting(pool, plugin, q, "quota_vsizes", "yes", false);
	ret = 0;
out:
	str_free(&rule);
	str_free(&warn);
	return ret;
}

/* "storage=95%% quota-warning 95 %u" -> warning { } in quota */
static bool quota_warning_24(pool_t pool, struct dnode *q, const char *v,
			     unsigned int n)
{
	char *copy = p_strdup(pool, v), *rule, *rest, *tok, *save = NULL;
	struct dnode *w = dnode_new_section(pool, q, "warning",
					    p_strdup_printf(pool, "warn-%u", n));
	bool under = *copy == '-';

	rule = copy + (under ? 1 : 0);
	rest = strchr(rule, ' ');
	if (rest != NULL)
		*rest++ = '\0';
	for (tok = strtok_r(rule, ":", &save); tok != NULL;
	     tok = strtok_r(NULL, ":", &save)) {
		size_t len = strlen(tok);
		const char *k;

		if (len < 3 || strcmp(tok + len - 2, "%%") != 0)
			return false;
		tok[len - 2] = '\0';
		if (str_begins(tok, "storage=", &k))
			dnode_add_setting(pool, w, q, "quota_storage_percentage", k, false);
		else if (str_begins(tok, "messages=", &k))
			dnode_add_setting(pool, w, q, "quota_message_percentage", k, false);
		else
			return false;
		if (*k == '\0' || strspn(k, "0123456789") != strlen(k))
			return false;
	}
	if (w->children == NULL)
		return false;
	if (under)
		dnode_add_setting(pool, w, q, "threshold", "under", false);
	if (rest != NULL && *rest != '\0') {
		char *sp = strchr(rest, ' ');
		struct dnode *e;

		if (sp != NULL)
			*sp++ = '\0';
		e = dnode_new_section(pool, q, "execute", rest);
		if (sp != NULL && *sp != '\0')
			dnode_add_setting(pool, e, q, "args",
				dialect_vars_23_to_24(pool, "", sp), false);
		dnode_append(w, e);
	}
	dnode_append(q, w);
	return true;
}

/* quota_rule "*:storage=1G:messages=10" -> settings of q */
static bool quota_rule_24(pool_t pool, struct dnode *q, const char *v)
{
	char *copy, *tok, *save = NULL;

	if (!str_begins(v, "*:", NULL))
		return false;
	copy = p_strdup(pool, v + 2);
	for (tok = strtok_r(copy, ":", &save); tok != NULL;
	     tok = strtok_r(NULL, ":", &save)) {
		const char *k;

		if (str_begins(tok, "storage=", &k) && *k != '+' &&
		    *k != '-' && strchr(k, '%') == NULL && *k != '\0')
			dnode_add_setting(pool, q, q, "storage_size",
				strcmp(k, "0") == 0 ? "unlimited" : k, false);
		else if (str_begins(tok, "messages=", &k) && *k != '\0' &&
			 strspn(k, "0123456789") == strlen(k))
			dnode_add_setting(pool, q, q, "message_count",
				strcmp(k, "0") == 0 ? "unlimited" : k, false);
		else
			return false;
	}
	return true;
}

static void move_children(struct dnode *from, struct dnode *to)
{
	struct dnode *next;

	for (struct dnode *c = from->children; c != NULL; c = next) {
		next = c->next;
		dnode_append(to, c);
	}
	from->children = NULL;
}

bool dialect_quota_23_to_24(pool_t pool, struct dnode *plugin,
			    struct dnode *out_r)
{
	struct dnode *out = dnode_new_section(pool, plugin, "", NULL);
	struct dnode *used[64], *vs = dnode_child_setting(plugin, "quota_vsizes");
	unsigned int used_count = 0;
	bool count_driver = false;

	for (unsigned int idx = 1; idx < 10; idx++) {
		const char *root = idx == 1 ? "quota" :
			p_strdup_printf(pool, "quota%u", idx);
		struct dnode *r = dnode_child_setting(plugin, root), *q, *x;
		const char *v, *colon;

		if (r == NULL)
			break;
		v = dnode_value(pool, r);
		colon = strchr(v, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL ||
		    colon[1] == '\0' ||
		    !quota_driver_ok(p_strndup(pool, v, (size_t)(colon - v))))
			return false;
		q = dnode_new_section(pool, r, "quota", colon + 1);
		dnode_add_setting(pool, q, r, "driver",
			p_strndup(pool, v, (size_t)(colon - v)), false);
		count_driver = count_driver || str_begins(v, "count:", NULL);
		used[used_count++] = r;
		x = dnode_child_setting(plugin, p_strdup_printf(pool, "%s_rule", root));
		if (x != NULL) {
			if (!quota_rule_24(pool, q, dnode_value(pool, x)))
				return false;
			used[used_count++] = x;
		}
		if (dnode_child_setting(plugin, p_strdup_printf(pool, "%s_rule2",
						       root)) != NULL)
			return false;
		for (unsigned int w = 1; w < 20; w++) {
			x = dnode_child_setting(plugin, w == 1 ?
				p_strdup_printf(pool, "%s_warning", root) :
				p_strdup_printf(pool, "%s_warning%u", root, w));
			if (x == NULL)
				break;
			if (used_count >= N_ELEMENTS(used) - 2 ||
			    !quota_warning_24(pool, q, dnode_value(pool, x), w))
				return false;
			used[used_count++] = x;
		}
		dnode_append(out, q);
		if (used_count >= N_ELEMENTS(used) - 2)
			return false;
	}
	if (used_count == 0)
		return false;
	/* 2.4 count always uses virtual sizes: 2.3 must have said so */
	if (count_driver) {
		if (vs == NULL || strcasecmp(dnode_value(pool, vs), "yes") != 0)
			return false;
		used[used_count++] = vs;
	}
	for (unsigned int i = 0; i < used_count; i++)
		used[i]->removed = true;
	move_children(out, out_r);
	return true;
}

/* ---- sieve ---- */

static const struct {
	const char *k23, *type;
} sieve_types[] = {
	{ "sieve", "personal" }, { "sieve_before", "before" },
	{ "sieve_after", "after" }, { "sieve_default", "default" },
	{ "sieve_discard", "discard" }, { "sieve_global", "global" },
};

/* sieve_script NAME { type driver path active_path bin_path } -> the
 * 2.3 location string, in the plugin setting of its type (numbered). */
int dialect_sieve_24_to_23(struct dtree *tree, struct dnode *s,
			   struct dnode *plugin)
{
	pool_t pool = tree->pool;
	const char *type = "personal", *driver = NULL, *path = NULL;
	const char *active = NULL, *bindir = NULL, *name = NULL, *k23 = NULL;
	const char *v, *error, *key;
	string_t *loc;
	unsigned int n = 1;

	if (s->name == NULL) {
		dialect_error(tree, s, "sieve_script { } is missing section "
			      "name");
		return -1;
	}
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
		else if (strcmp(k, "driver") == 0)
			driver = v;
		else if (strcmp(k, "path") == 0)
			path = v;
		else if (strcmp(k, "active_path") == 0)
			active = v;
		else if (strcmp(k, "bin_path") == 0)
			bindir = v;
		else if (strcmp(k, "name") == 0 || strcmp(k, "script_name") == 0)
			name = v;
		else {
			dialect_error(tree, c, "Unknown setting in "
				      "sieve_script %s { }: %s", s->name,
				      c->key);
			return -1;
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(sieve_types); i++) {
		if (strcmp(type, sieve_types[i].type) == 0)
			k23 = sieve_types[i].k23;
	}
	if (k23 == NULL || path == NULL) {
		dialect_error(tree, s, k23 == NULL ? "sieve_script %s { type = "
			      "%s }: no Dovecot 2.3 form" : "sieve_script %s "
			      "{ }: path is not set", s->name, type);
		return -1;
	}
	if (name != NULL && strcmp(type, "default") == 0) {
		dnode_add_setting(pool, plugin, s, "sieve_default_name", name, false);
		name = NULL;
	}
	loc = str_new(128);
	if (driver != NULL)
		str_printfa(loc, "%s:", driver);
	str_append(loc, path);
	if (active != NULL)
		str_printfa(loc, ";active=%s", active);
	if (bindir != NULL)
		str_printfa(loc, ";bindir=%s", bindir);
	if (name != NULL)
		str_printfa(loc, ";name=%s", name);
	v = dialect_vars_24_to_23(pool, "", str_c(loc), &error);
	str_free(&loc);
	if (v == NULL) {
		dialect_error(tree, s, "%s", error);
		return -1;
	}
	key = k23;
	while (dnode_child_setting(plugin, key) != NULL) {
		if (strcmp(k23, "sieve") == 0) {
			dialect_error(tree, s, "A second personal sieve_script "
				      "has no Dovecot 2.3 form");
			return -1;
		}
		key = p_strdup_printf(pool, "%s%u", k23, ++n);
	}
	dnode_add_setting(pool, plugin, s, key, v, false);
	return 0;
}

static bool sieve_loc_24(pool_t pool, struct dnode *at, const char *name,
			 const char *type, const char *v, struct dnode *out)
{
	struct dnode *s = dnode_new_section(pool, at, "sieve_script", name);
	char *copy = p_strdup(pool, v), *params = strchr(copy, ';');
	char *colon = strchr(copy, ':'), *slash = strchr(copy, '/');
	char *path = copy, *tok, *save = NULL;

	if (params != NULL)
		*params++ = '\0';
	if (strcmp(type, "personal") != 0)
		dnode_add_setting(pool, s, at, "type", type, false);
	if (colon != NULL && (slash == NULL || colon < slash) &&
	    (params == NULL || colon < params)) {
		*colon = '\0';
		dnode_add_setting(pool, s, at, "driver", copy, false);
		path = colon + 1;
	}
	if (*path == '\0')
		return false;
	dnode_add_setting(pool, s, at, "path", dialect_vars_23_to_24(pool, "", path), false);
	for (tok = params == NULL ? NULL : strtok_r(params, ";", &save);
	     tok != NULL; tok = strtok_r(NULL, ";", &save)) {
		const char *pv;

		if (str_begins(tok, "active=", &pv))
			dnode_add_setting(pool, s, at, "active_path",
				dialect_vars_23_to_24(pool, "", pv), false);
		else if (str_begins(tok, "bindir=", &pv))
			dnode_add_setting(pool, s, at, "bin_path",
				dialect_vars_23_to_24(pool, "", pv), false);
		else if (str_begins(tok, "name=", &pv))
			dnode_add_setting(pool, s, at, "script_name", pv, false);
		else
			return false;
	}
	dnode_append(out, s);
	return true;
}

bool dialect_sieve_23_to_24(pool_t pool, struct dnode *plugin,
			    struct dnode *out_r)
{
	struct dnode *out = dnode_new_section(pool, plugin, "", NULL);
	struct dnode *used[64], *defname;
	unsigned int used_count = 0;

	for (unsigned int t = 0; t < N_ELEMENTS(sieve_types); t++) {
		for (unsigned int i = 1; i < 20; i++) {
			const char *key = i == 1 ? sieve_types[t].k23 :
				p_strdup_printf(pool, "%s%u",
						sieve_types[t].k23, i);
			struct dnode *x = dnode_child_setting(plugin, key);
			const char *name;

			if (x == NULL)
				break;
			if (t == 0 && i > 1)
				return false;
			name = t == 0 ? "personal" : p_strdup_printf(pool,
				"%s%u", sieve_types[t].type, i);
			if (used_count == N_ELEMENTS(used) - 1 ||
			    !sieve_loc_24(pool, x, name, sieve_types[t].type,
					  dnode_value(pool, x), out))
				return false;
			used[used_count++] = x;
		}
	}
	defname = dnode_child_setting(plugin, "sieve_default_name");
	if (defname != NULL) {
		struct dnode *def = NULL;

		for (struct dnode *s = out->children; s != NULL; s = s->next) {
			if (strcmp(s->name, "default1") == 0)
				def = s;
		}
		if (def == NULL)
			return false;
		dnode_add_setting(pool, def, defname, "script_name",
			dnode_value(pool, defname), false);
		used[used_count++] = defname;
	}
	if (used_count == 0)
		return false;
	for (unsigned int i = 0; i < used_count; i++)
		used[i]->removed = true;
	move_children(out, out_r);
	return true;
}

/* ---- mail-crypt, fts, language ---- */

struct dnode *dialect_dict_user_24(pool_t pool, struct dnode *set,
				   bool plugin);

/* crypt_global_private_key NAME { crypt_private_key_file,
 * crypt_private_key_password } -> mail_crypt_global_private_key[N] =
 * <file (+ mail_crypt_global_private_password) */
int dialect_crypt_key_24_to_23(struct dtree *tree, struct dnode *k,
			       struct dnode *plugin)
{
	pool_t pool = tree->pool;
	const char *file = NULL, *password = NULL, *key = NULL;
	unsigned int n = 1;

	for (struct dnode *c = k->children; c != NULL; c = c->next) {
		const char *ck = dialect_strip_prefix(c->key, "crypt_");

		if (c->removed)
			continue;
		if (!c->section && strcmp(ck, "private_key_file") == 0)
			file = dnode_value(pool, c);
		else if (!c->section && strcmp(ck, "private_key_password") == 0)
			password = dnode_value(pool, c);
		else {
			dialect_error(tree, c, "Unknown setting in %s %s { }: "
				      "%s", k->key, k->name == NULL ? "" :
				      k->name, c->key);
			return -1;
		}
	}
	if (file == NULL) {
		dialect_error(tree, k, "%s { }: crypt_private_key_file is not "
			      "set", k->key);
		return -1;
	}
	key = "mail_crypt_global_private_key";
	while (dnode_child_setting(plugin, key) != NULL)
		key = p_strdup_printf(pool, "mail_crypt_global_private_key%u",
				      ++n);
	dnode_append(plugin, dnode_new_setting(pool, k, key, file, true));
	if (password != NULL) {
		if (dnode_child_setting(plugin, "mail_crypt_global_private_password")
		    != NULL) {
			dialect_error(tree, k, "A second private key password "
				      "has no Dovecot 2.3 form");
			return -1;
		}
		dnode_add_setting(pool, plugin, k, "mail_crypt_global_private_password",
			password, false);
	}
	return 0;
}

/* The fts_solr options after url= in the order 2.3 writes them back:
 * batch_size soft_commit rawlog_dir (2.4: fts_solr_batch_size,
 * fts_solr_soft_commit, http_client_rawlog_dir). */
static const char *const solr_opts[][2] = {
	{ "batch_size", "batch_size" },
	{ "soft_commit", "soft_commit" },
	{ "http_client_rawlog_dir", "rawlog_dir" },
};

/* fts DRIVER { url } -> fts = DRIVER (+ fts_solr = url=URL) */
int dialect_fts_24_to_23(struct dtree *tree, struct dnode *f,
			 struct dnode *plugin)
{
	pool_t pool = tree->pool;
	struct dnode *prev = dnode_child_setting(plugin, "fts");
	const char *driver = f->name, *url = NULL;
	const char *opts[N_ELEMENTS(solr_opts)] = { NULL };

	for (struct dnode *c = f->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(
			dialect_strip_prefix(c->key, "fts_"), "solr_");
		unsigned int i;

		if (c->removed)
			continue;
		for (i = 0; i < N_ELEMENTS(solr_opts); i++) {
			if (strcmp(k, solr_opts[i][0]) == 0)
				break;
		}
		if (!c->section && strcmp(k, "driver") == 0)
			driver = dnode_value(pool, c);
		else if (!c->section && strcmp(k, "url") == 0)
			url = dnode_value(pool, c);
		else if (!c->section && i < N_ELEMENTS(solr_opts) &&
			 *dnode_value(pool, c) != '\0' &&
			 strpbrk(dnode_value(pool, c), " \t") == NULL)
			opts[i] = dnode_value(pool, c);
		else {
			dialect_error(tree, c, "Unknown setting in fts %s { }: "
				      "%s", f->name == NULL ? "" : f->name,
				      c->key);
			return -1;
		}
	}
	if (driver == NULL) {
		dialect_error(tree, f, "fts { } is missing section name");
		return -1;
	}
	if (url != NULL && strcmp(driver, "solr") != 0) {
		dialect_error(tree, f, "fts %s { url }: only fts solr has a "
			      "url", driver);
		return -1;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(solr_opts); i++) {
		if (opts[i] == NULL)
			continue;
		if (url == NULL || strcmp(driver, "solr") != 0) {
			dialect_error(tree, f, "fts %s { %s }: no Dovecot 2.3 "
				      "form without fts solr { url }", driver,
				      solr_opts[i][0]);
			return -1;
		}
		if (i == 1 && strcasecmp(opts[i], "yes") != 0 &&
		    strcasecmp(opts[i], "no") != 0) {
			dialect_error(tree, f, "fts solr { soft_commit = %s }: "
				      "Invalid boolean value (use yes or no)",
				      opts[i]);
			return -1;
		}
		url = p_strdup_printf(pool, "%s %s=%s", url, solr_opts[i][1],
				      i != 1 ? opts[i] :
				      strcasecmp(opts[i], "yes") == 0 ? "yes" : "no");
	}
	if (prev != NULL) {
		dialect_error(tree, f, "A second fts { } has no Dovecot 2.3 "
			      "form");
		return -1;
	}
	dnode_add_setting(pool, plugin, f, "fts", driver, false);
	if (url != NULL)
		dnode_add_setting(pool, plugin, f, "fts_solr",
			p_strdup_printf(pool, "url=%s", url), false);
	return 0;
}

/* language NAME { default = yes } -> fts_languages, the default first */
int dialect_language_24_to_23(struct dtree *tree, struct dnode *l,
			      struct dnode *plugin)
{
	pool_t pool = tree->pool;
	struct dnode *prev = dnode_child_setting(plugin, "fts_languages");
	bool def = false;

	if (l->name == NULL) {
		dialect_error(tree, l, "language { } is missing section name");
		return -1;
	}
	for (struct dnode *c = l->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (c->section || strcmp(dialect_strip_prefix(c->key, "language_"),
					 "default") != 0) {
			dialect_error(tree, c, "language %s { %s }: no Dovecot "
				      "2.3 form here", l->name, c->key);
			return -1;
		}
		def = strcasecmp(dnode_value(pool, c), "yes") == 0;
	}
	if (prev == NULL)
		dnode_add_setting(pool, plugin, l, "fts_languages", l->name, false);
	else if (def)
		dnode_set_value(prev, p_strdup_printf(pool, "%s %s", l->name,
				dnode_value(pool, prev)));
	else
		dnode_set_value(prev, p_strdup_printf(pool, "%s %s",
				dnode_value(pool, prev), l->name));
	return 0;
}

bool dialect_misc_23_to_24(pool_t pool, struct dnode *plugin,
			   struct dnode *out)
{
	struct dnode *x, *pw;
	bool any = false;

	/* mail-crypt: only <file keys have a 2.4 form */
	pw = dnode_child_setting(plugin, "mail_crypt_global_private_password");
	x = dnode_child_setting(plugin, "mail_crypt_global_public_key");
	if (x != NULL && x->raw != NULL && x->raw[0] == '<') {
		dnode_add_setting(pool, out, x, "crypt_global_public_key_file",
			dnode_value(pool, x), false);
		x->removed = true;
		any = true;
	}
	for (unsigned int i = 1; i < 10; i++) {
		const char *key = i == 1 ? "mail_crypt_global_private_key" :
			p_strdup_printf(pool, "mail_crypt_global_private_key%u",
					i);
		struct dnode *k;

		x = dnode_child_setting(plugin, key);
		if (x == NULL || x->raw == NULL || x->raw[0] != '<' ||
		    (pw != NULL && i > 1))
			break;
		k = dnode_new_section(pool, x, "crypt_global_private_key",
				      i == 1 ? "main" :
				      p_strdup_printf(pool, "key%u", i));
		dnode_add_setting(pool, k, x, "crypt_private_key_file",
			dnode_value(pool, x), false);
		if (pw != NULL) {
			dnode_add_setting(pool, k, pw, "crypt_private_key_password",
				dnode_value(pool, pw), false);
			pw->removed = true;
		}
		dnode_append(out, k);
		x->removed = true;
		any = true;
	}
	/* quota_clone_dict ... -> quota_clone { dict DRIVER { } } */
	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		struct dnode *f;

		if (c->removed || c->section ||
		    (f = dialect_dict_user_24(pool, c, true)) == NULL)
			continue;
		dnode_append(out, f);
		c->removed = true;
		any = true;
	}
	/* acl_anyone = allow|forbid -> imap_acl_allow_anyone = yes|no */
	x = dnode_child_setting(plugin, "acl_anyone");
	if (x != NULL && (strcmp(dnode_value(pool, x), "allow") == 0 ||
			  strcmp(dnode_value(pool, x), "forbid") == 0)) {
		dnode_add_setting(pool, out, x, "imap_acl_allow_anyone",
			dnode_value(pool, x)[0] == 'a' ? "yes" : "no", false);
		x->removed = true;
		any = true;
	}
	/* mail_lua_script -> mail_lua { lua_file } */
	x = dnode_child_setting(plugin, "mail_lua_script");
	if (x != NULL) {
		struct dnode *f = dnode_new_section(pool, x, "mail_lua", NULL);

		dnode_add_setting(pool, f, x, "lua_file", dnode_value(pool, x), false);
		dnode_append(out, f);
		x->removed = true;
		any = true;
	}
	/* fts = DRIVER (+ fts_solr = url=URL) */
	x = dnode_child_setting(plugin, "fts");
	if (x != NULL) {
		const char *d = dnode_value(pool, x);
		struct dnode *solr = dnode_child_setting(plugin, "fts_solr");
		const char *url = NULL;

		const char *opts[N_ELEMENTS(solr_opts)] = { NULL };

		if (solr != NULL && (strcmp(d, "solr") != 0 ||
		    !str_begins(dnode_value(pool, solr), "url=", &url)))
			d = "";
		if (*d != '\0' && url != NULL && strchr(url, ' ') != NULL) {
			/* url=U batch_size=N soft_commit=no rawlog_dir=D,
			   only in the order written back */
			char *copy = p_strdup(pool, url), *w, *save = NULL;
			const char *back;
			unsigned int next = 0;

			url = strtok_r(copy, " ", &save);
			back = url;
			while ((w = strtok_r(NULL, " ", &save)) != NULL) {
				char *eq = strchr(w, '=');
				unsigned int i = next;

				if (eq == NULL)
					break;
				*eq = '\0';
				while (i < N_ELEMENTS(solr_opts) &&
				       strcmp(w, solr_opts[i][1]) != 0)
					i++;
				if (i == N_ELEMENTS(solr_opts) ||
				    eq[1] == '\0' || (i == 1 &&
				    strcmp(eq + 1, "yes") != 0 &&
				    strcmp(eq + 1, "no") != 0))
					break;
				opts[i] = eq + 1;
				next = i + 1;
				back = p_strdup_printf(pool, "%s %s=%s", back,
						       w, eq + 1);
			}
			if (strcmp(back, dnode_value(pool, solr) + 4) != 0)
				d = "";
		}
		if (*d != '\0' && strspn(d, "abcdefghijklmnopqrstuvwxyz") ==
		    strlen(d) && strcmp(d, "lucene") != 0 &&
		    strcmp(d, "squat") != 0) {
			struct dnode *f = dnode_new_section(pool, x, "fts", d);

			if (url != NULL) {
				dnode_add_setting(pool, f, solr, "url", url, false);
				for (unsigned int i = 0;
				     i < N_ELEMENTS(solr_opts); i++) {
					if (opts[i] != NULL)
						dnode_add_setting(pool, f, solr,
							solr_opts[i][0],
							opts[i], false);
				}
				solr->removed = true;
			}
			dnode_append(out, f);
			x->removed = true;
			any = true;
		}
	}
	/* fts_languages = en de -> language en { default = yes } ... */
	x = dnode_child_setting(plugin, "fts_languages");
	if (x != NULL) {
		char *copy = p_strdup(pool, dnode_value(pool, x)), *w;
		char *save = NULL;
		bool first = true;

		for (w = strtok_r(copy, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save)) {
			struct dnode *l = dnode_new_section(pool, x,
							    "language", w);

			if (first)
				dnode_add_setting(pool, l, x, "default", "yes", false);
			first = false;
			dnode_append(out, l);
		}
		x->removed = true;
		any = true;
	}
	return any;
}

/* ---- dict URIs ---- */

static const struct {
	const char *param, *k24;
	bool secs;
} redis_params[] = {
	{ "host", "redis_host", false }, { "port", "redis_port", false },
	{ "prefix", "redis_key_prefix", false }, { "db", "redis_db_id", false },
	{ "expire_secs", "redis_expire", true },
};

/* dict NAME { driver path name ... } -> a 2.3 dict URI */
const char *dialect_dict_24_to_uri(struct dtree *tree, struct dnode *d)
{
	pool_t pool = tree->pool;
	const char *driver = d->name, *path = NULL, *name = NULL;
	const char *socket = NULL;
	string_t *redis;
	const char *ret = NULL;

	if (dialect_dict_is_sql_24(pool, d))
		return dialect_dict_sql_24_to_uri(tree, d);	/* dbfile.c */
	redis = str_new(64);
	for (struct dnode *c = d->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(c->key, "dict_"), *v;
		bool found = false;

		if (c->removed)
			continue;
		v = dnode_value(pool, c);
		if (c->section) {
			dialect_error(tree, c, "dict %s { %s { } }: no Dovecot "
				      "2.3 form here", d->name, c->key);
			goto out;
		}
		if (strcmp(k, "driver") == 0) {
			driver = v;
			continue;
		}
		if (strcmp(k, "path") == 0 || strcmp(k, "file_path") == 0) {
			path = v;
			continue;
		}
		if (strcmp(k, "name") == 0 || strcmp(k, "proxy_name") == 0) {
			name = v;
			continue;
		}
		if (strcmp(k, "socket_path") == 0 ||
		    strcmp(k, "proxy_socket_path") == 0) {
			socket = v;
			continue;
		}
		for (unsigned int i = 0; i < N_ELEMENTS(redis_params); i++) {
			const char *rv = v;

			if (strcmp(k, redis_params[i].k24) != 0)
				continue;
			if (redis_params[i].secs) {
				char *end;
				unsigned long n = strtoul(v, &end, 10);

				while (*end == ' ')
					end++;
				if (end == v || (*end != '\0' &&
				    strcmp(end, "s") != 0 &&
				    strcmp(end, "secs") != 0))
					break;
				rv = p_strdup_printf(pool, "%lu", n);
			}
			str_printfa(redis, ":%s=%s", redis_params[i].param, rv);
			found = true;
		}
		if (!found) {
			dialect_error(tree, c, "Unknown setting in dict %s { }:"
				      " %s", d->name == NULL ? "" : d->name,
				      c->key);
			goto out;
		}
	}
	if (driver == NULL) {
		dialect_error(tree, d, "dict { } is missing section name");
		goto out;
	}
	if (strcmp(driver, "file") == 0 && path != NULL &&
	    name == NULL && socket == NULL && str_len(redis) == 0)
		ret = p_strdup_printf(pool, "file:%s", path);
	else if (strcmp(driver, "proxy") == 0 && name != NULL &&
		 path == NULL && str_len(redis) == 0)
		ret = p_strdup_printf(pool, "proxy:%s:%s",
				      socket == NULL ? "" : socket, name);
	else if (strcmp(driver, "redis") == 0 && path == NULL &&
		 name == NULL && socket == NULL)
		ret = p_strdup_printf(pool, "redis%s", str_c(redis));
	else
		dialect_error(tree, d, "dict %s { }: no Dovecot 2.3 form here "
			      "(file, proxy and redis dicts have one)",
			      driver);
out:
	str_free(&redis);
	return ret;
}

/* A 2.3 dict URI -> dict DRIVER { } (section name: label or the
 * driver); NULL when it has no 2.4 form here. */
struct dnode *dialect_dict_uri_to_24(pool_t pool, const struct dnode *at,
				     const char *label, const char *uri)
{
	struct dnode *d;
	const char *rest;

	if (str_begins(uri, "file:", &rest) && *rest != '\0') {
		d = dnode_new_section(pool, at, "dict", label != NULL ? label :
				      "file");
		if (label != NULL)
			dnode_add_setting(pool, d, at, "driver", "file", false);
		dnode_add_setting(pool, d, at, "path",
			dialect_vars_23_to_24(pool, "", rest), false);
		return d;
	}
	if (str_begins(uri, "proxy:", &rest)) {
		const char *colon = strchr(rest, ':');

		if (colon == NULL || colon[1] == '\0' ||
		    strchr(colon + 1, ':') != NULL)
			return NULL;
		d = dnode_new_section(pool, at, "dict", label != NULL ? label :
				      "proxy");
		if (label != NULL)
			dnode_add_setting(pool, d, at, "driver", "proxy", false);
		if (colon != rest)
			dnode_add_setting(pool, d, at, "socket_path",
				p_strndup(pool, rest, (size_t)(colon - rest)), false);
		dnode_add_setting(pool, d, at, "name", colon + 1, false);
		return d;
	}
	if (str_begins(uri, "redis", &rest) && (*rest == '\0' ||
						*rest == ':')) {
		char *copy = p_strdup(pool, rest), *tok, *save = NULL;

		d = dnode_new_section(pool, at, "dict", label != NULL ? label :
				      "redis");
		if (label != NULL)
			dnode_add_setting(pool, d, at, "driver", "redis", false);
		for (tok = strtok_r(copy, ":", &save); tok != NULL;
		     tok = strtok_r(NULL, ":", &save)) {
			char *eq = strchr(tok, '=');
			bool found = false;

			if (eq == NULL)
				return NULL;
			*eq = '\0';
			for (unsigned int i = 0; i < N_ELEMENTS(redis_params);
			     i++) {
				if (strcmp(tok, redis_params[i].param) != 0)
					continue;
				if (redis_params[i].secs &&
				    strspn(eq + 1, "0123456789") !=
				    strlen(eq + 1))
					return NULL;
				dnode_add_setting(pool, d, at, redis_params[i].k24,
					redis_params[i].secs ?
					p_strdup_printf(pool, "%ss", eq + 1) :
					eq + 1, false);
				found = true;
			}
			if (!found)
				return NULL;
		}
		return d;
	}
	/* mysql:, pgsql:, sqlite:, cassandra: (dialect-dbfile.c) */
	return dialect_dict_sql_uri_to_24(pool, at, label, uri);
}

/* 2.4 named filters holding a dict and their 2.3 setting */
static const struct {
	const char *filter, *k23;
	bool plugin;
} dict_users[] = {
	{ "mail_attribute", "mail_attribute_dict", false },
	{ "quota_clone", "quota_clone_dict", true },
	{ "last_login", "last_login_dict", true },
	{ "acl_sharing_map", "acl_shared_dict", true },
	{ "notify_status", "notify_status_dict", true },
};

const char *dialect_dict_user_23(const char *filter)
{
	for (unsigned int i = 0; i < N_ELEMENTS(dict_users); i++) {
		if (strcmp(filter, dict_users[i].filter) == 0)
			return dict_users[i].k23;
	}
	return NULL;
}

/* the 2.3 setting holding a dict URI -> FILTER { dict DRIVER { } } */
struct dnode *dialect_dict_user_24(pool_t pool, struct dnode *set,
				   bool plugin)
{
	for (unsigned int i = 0; i < N_ELEMENTS(dict_users); i++) {
		struct dnode *f, *d;

		if (strcmp(set->key, dict_users[i].k23) != 0 ||
		    dict_users[i].plugin != plugin)
			continue;
		d = dialect_dict_uri_to_24(pool, set, NULL,
					   dnode_value(pool, set));
		if (d == NULL)
			return NULL;
		f = dnode_new_section(pool, set, dict_users[i].filter, NULL);
		dnode_append(f, d);
		return f;
	}
	return NULL;
}

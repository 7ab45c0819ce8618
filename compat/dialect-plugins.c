/* dialect-plugins.c - plugin settings whose 2.4 form is a list, a
 * section or another name, both ways (renames-2.3-2.4.tsv rows: sieve
 * editheader/spamtest/virustest/vacation, charset_aliases, apparmor_hat,
 * fts_decoder/fts_tika/fts_enforced, zlib/mail_compress,
 * quota_over_script, welcome_script, push_notification_driver,
 * event_exporter transports, mail_crypt_private_key, and the removed
 * settings that --as 2.4 drops with a warning).
 *
 * 2.4 -> 2.3: dialect_plugins_24_section() takes the sections (called
 * by t24_section before the generic code), dialect_plugins_24_finish()
 * rewrites the 2.4 names that t24_root_setting put into each plugin { }
 * unchanged. 2.3 -> 2.4: dialect_plugins_23_to_24() takes the plugin
 * settings whose 2.4 form reads back the same (else they stay for
 * roost_untranslated { }), dialect_plugins_23_mail_plugins() renames
 * plugins in mail_plugins, dialect_plugins_23_exporter() rewrites an
 * event_exporter NAME { } block. */

#include "lib.h"
#include "str.h"
#include "dialect-private.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

#define WARN_24 "doveconf --as 2.4: "

/* ---- helpers ---- */

/* A Sieve extension Dovecot 2.4 removed */
static bool sieve_ext_removed(const char *ext)
{
	return strcmp(ext, "notify") == 0 || strcmp(ext, "imapflags") == 0 ||
		strcmp(ext, "vnd.dovecot.duplicate") == 0;
}

/* "list word" (word alone when list is empty) */
static const char *join(pool_t pool, const char *list, const char *word)
{
	return *list == '\0' ? p_strdup(pool, word) :
		p_strdup_printf(pool, "%s %s", list, word);
}

static int bool_value(struct dtree *tree, const struct dnode *n,
		      bool *value_r)
{
	const char *v = dnode_value(tree->pool, n);

	if (strcasecmp(v, "yes") == 0)
		*value_r = true;
	else if (strcasecmp(v, "no") == 0)
		*value_r = false;
	else {
		dialect_error(tree, n, "%s: Invalid boolean value: %s (use "
			      "yes or no)", n->key, v);
		return -1;
	}
	return 0;
}

/* Append word to a space-separated setting of plugin (created). */
static void list_append(pool_t pool, struct dnode *plugin,
			const struct dnode *at, const char *key,
			const char *word)
{
	struct dnode *x = dnode_child_setting(plugin, key);

	if (x == NULL)
		dnode_add_setting(pool, plugin, at, key, word, true);
	else
		dnode_set_value(x, p_strdup_printf(pool, "%s %s",
				dnode_value(pool, x), word));
}

static bool all_digits(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s) &&
		(s[0] != '0' || s[1] == '\0');
}

static bool simple_word(const char *s)
{
	return *s != '\0' && strpbrk(s, " \t\"'{}#=,$\\") == NULL;
}

/* "NAME args" of a 2.3 script setting from execute NAME { args }. */
static const char *execute_23(struct dtree *tree, struct dnode *owner,
			      struct dnode *e)
{
	pool_t pool = tree->pool;
	const char *args = NULL, *error;

	if (e->name == NULL) {
		dialect_error(tree, e, "execute { } is missing section name");
		return NULL;
	}
	for (struct dnode *c = e->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (c->section || strcmp(dialect_strip_prefix(c->key, "execute_"),
					 "args") != 0) {
			dialect_error(tree, c, "%s { execute %s { %s } }: no "
				      "Dovecot 2.3 form here", owner->key,
				      e->name, c->key);
			return NULL;
		}
		args = dnode_value(pool, c);
	}
	if (args == NULL || *args == '\0')
		return e->name;
	args = dialect_vars_24_to_23(pool, "", args, &error);
	if (args == NULL) {
		dialect_error(tree, e, "%s { execute %s { args } }: %s",
			      owner->key, e->name, error);
		return NULL;
	}
	return p_strdup_printf(pool, "%s %s", e->name, args);
}

/* ---- 2.4 -> 2.3: sections ---- */

/* sieve_editheader_header NAME { forbid_add forbid_delete } */
static int t24_editheader(struct dtree *tree, struct dnode *n,
			  struct dnode *plugin)
{
	pool_t pool = tree->pool;
	bool add = false, del = false;

	if (n->name == NULL || !simple_word(n->name)) {
		dialect_error(tree, n, "sieve_editheader_header { } needs a "
			      "header name as section name");
		return -1;
	}
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(
			dialect_strip_prefix(c->key, "sieve_editheader_header_"), "sieve_editheader_");
		bool v;

		if (c->removed)
			continue;
		if (c->section || (strcmp(k, "forbid_add") != 0 &&
				   strcmp(k, "forbid_delete") != 0)) {
			dialect_error(tree, c, "Unknown setting in "
				      "sieve_editheader_header %s { }: %s",
				      n->name, c->key);
			return -1;
		}
		if (bool_value(tree, c, &v) < 0)
			return -1;
		if (strcmp(k, "forbid_add") == 0)
			add = v;
		else
			del = v;
	}
	if (add && del)
		list_append(pool, plugin, n, "sieve_editheader_protected",
			    n->name);
	else if (add)
		list_append(pool, plugin, n, "sieve_editheader_forbid_add",
			    n->name);
	else if (del)
		list_append(pool, plugin, n, "sieve_editheader_forbid_delete",
			    n->name);
	return 0;
}

/* strlist { k = v } into plugin settings: sieve_spamtest_text_value
 * { 1 = ham } -> sieve_spamtest_text_value1; charset_aliases { a = b }
 * -> charset_aliases = a=b */
static int t24_strlist(struct dtree *tree, struct dnode *n,
		       struct dnode *plugin, bool numbered)
{
	pool_t pool = tree->pool;

	if (n->name != NULL) {
		dialect_error(tree, n, "%s { } is a string list: no section "
			      "name expected", n->key);
		return -1;
	}
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		const char *v = dnode_value(pool, c);

		if (c->removed)
			continue;
		if (c->section) {
			dialect_error(tree, c, "Unexpected section inside "
				      "%s { }", n->key);
			return -1;
		}
		if (numbered) {
			const char *key;

			if (!all_digits(c->key)) {
				dialect_error(tree, c, "%s { %s }: the keys "
					      "are numbers (1, 2 ...)", n->key,
					      c->key);
				return -1;
			}
			key = p_strdup_printf(pool, "%s%s", n->key, c->key);
			if (dnode_child_setting(plugin, key) != NULL) {
				dialect_error(tree, c, "%s { %s } is set "
					      "twice", n->key, c->key);
				return -1;
			}
			dnode_add_setting(pool, plugin, c, key, v, true);
		} else {
			if (!simple_word(c->key) || !simple_word(v)) {
				dialect_error(tree, c, "%s { %s = %s }: no "
					      "Dovecot 2.3 form (a=b words)",
					      n->key, c->key, v);
				return -1;
			}
			list_append(pool, plugin, c, n->key,
				    p_strdup_printf(pool, "%s=%s", c->key, v));
		}
	}
	return 0;
}

/* quota_over_status { execute NAME { args } } -> quota_over_script; the
 * other settings are left to the named-filter code. */
static int t24_quota_over(struct dtree *tree, struct dnode *n,
			  struct dnode *plugin)
{
	const char *script;

	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		if (c->removed || !c->section)
			continue;
		if (strcmp(c->key, "execute") != 0) {
			dialect_error(tree, c, "Unknown section name: %s "
				      "(inside quota_over_status { })", c->key);
			return -1;
		}
		if (dnode_child_setting(plugin, "quota_over_script") != NULL) {
			dialect_error(tree, c, "A second execute in "
				      "quota_over_status { } has no Dovecot "
				      "2.3 form");
			return -1;
		}
		if ((script = execute_23(tree, n, c)) == NULL)
			return -1;
		dnode_add_setting(tree->pool, plugin, c, "quota_over_script", script, true);
		c->removed = true;
	}
	return 0;
}

/* welcome { execute NAME { args } wait } -> welcome_script, welcome_wait */
static int t24_welcome(struct dtree *tree, struct dnode *n,
		       struct dnode *plugin)
{
	pool_t pool = tree->pool;
	const char *script;

	if (n->name != NULL) {
		dialect_error(tree, n, "%s { } takes no section name", n->key);
		return -1;
	}
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (c->section && strcmp(c->key, "execute") == 0) {
			if (dnode_child_setting(plugin, "welcome_script") != NULL) {
				dialect_error(tree, c, "A second execute in "
					      "%s { } has no Dovecot 2.3 form",
					      n->key);
				return -1;
			}
			if ((script = execute_23(tree, n, c)) == NULL)
				return -1;
			dnode_add_setting(pool, plugin, c, "welcome_script", script, true);
		} else if (!c->section &&
			   strcmp(dialect_strip_prefix(c->key, "welcome_"), "wait") == 0) {
			dnode_add_setting(pool, plugin, c, "welcome_wait",
				dnode_value(pool, c), true);
		} else {
			dialect_error(tree, c, "Unknown setting in %s { }: %s",
				      n->key, c->key);
			return -1;
		}
	}
	return 0;
}

/* push_notification NAME { driver url user_from_metadata lua_file } ->
 * push_notification_driver[N] = DRIVER:args */
static int t24_push(struct dtree *tree, struct dnode *n,
		    struct dnode *plugin)
{
	pool_t pool = tree->pool;
	const char *driver = n->name, *url = NULL, *lua = NULL, *key;
	bool from_md = false;
	const char *s;
	unsigned int i = 1;

	if (n->name == NULL) {
		dialect_error(tree, n, "push_notification { } is missing "
			      "section name");
		return -1;
	}
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(c->key, "push_notification_");

		if (c->removed)
			continue;
		if (!c->section && strcmp(k, "driver") == 0)
			driver = dnode_value(pool, c);
		else if (!c->section && (strcmp(k, "url") == 0 ||
					 strcmp(k, "ox_url") == 0))
			url = dnode_value(pool, c);
		else if (!c->section &&
			 (strcmp(k, "user_from_metadata") == 0 ||
			  strcmp(k, "ox_user_from_metadata") == 0)) {
			if (bool_value(tree, c, &from_md) < 0)
				return -1;
		} else if (!c->section && (strcmp(k, "lua_file") == 0 ||
					   strcmp(k, "lua_lua_file") == 0))
			lua = dnode_value(pool, c);
		else {
			dialect_error(tree, c, "push_notification %s { %s }: "
				      "no Dovecot 2.3 form here", n->name,
				      c->key);
			return -1;
		}
	}
	s = driver;
	if (strcmp(driver, "ox") == 0) {
		if (url == NULL || lua != NULL) {
			dialect_error(tree, n, "push_notification %s { }: the "
				      "ox driver needs url (and no lua_file)",
				      n->name);
			return -1;
		}
		s = p_strdup_printf(pool, "%s:url=%s%s", s, url, from_md ?
				    " user_from_metadata" : "");
	} else if (strcmp(driver, "lua") == 0) {
		if (lua == NULL || url != NULL || from_md) {
			dialect_error(tree, n, "push_notification %s { }: the "
				      "lua driver needs lua_file (and no ox "
				      "settings)", n->name);
			return -1;
		}
		s = p_strdup_printf(pool, "%s:file=%s", s, lua);
	} else if (strcmp(driver, "dlog") == 0) {
		if (url != NULL || lua != NULL || from_md) {
			dialect_error(tree, n, "push_notification %s { }: the "
				      "dlog driver has no settings", n->name);
			return -1;
		}
	} else {
		dialect_error(tree, n, "push_notification %s { }: unknown "
			      "driver %s (ox, dlog, lua)", n->name, driver);
		return -1;
	}
	key = "push_notification_driver";
	while (dnode_child_setting(plugin, key) != NULL)
		key = p_strdup_printf(pool, "push_notification_driver%u", ++i);
	dnode_add_setting(pool, plugin, n, key, s, true);
	return 0;
}

/* event_exporter NAME { driver time_format http_post_url
 * http_client_request_timeout } renamed in place to the 2.3 settings
 * (transport format_args transport_args transport_timeout). */
static int t24_exporter(struct dtree *tree, struct dnode *n)
{
	pool_t pool = tree->pool;
	const char *driver = NULL;

	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(c->key, "event_exporter_");

		if (c->removed || c->section)
			continue;
		if (strcmp(k, "driver") == 0)
			driver = dnode_value(pool, c);
		else if (strcmp(k, "transport") == 0 ||
			 strcmp(k, "format_args") == 0 ||
			 strcmp(k, "transport_args") == 0 ||
			 strcmp(k, "transport_timeout") == 0) {
			dialect_error(tree, c, "Unknown setting: %s (Dovecot "
				      "2.3 name; 2.4 has event_exporter_driver,"
				      " _time_format, _http_post_url, "
				      "http_client_request_timeout)", c->key);
			return -1;
		}
	}
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		const char *k = dialect_strip_prefix(c->key, "event_exporter_");
		const char *v;

		if (c->removed)
			continue;
		if (c->section) {
			dialect_error(tree, c, "event_exporter %s { %s { } }: "
				      "no Dovecot 2.3 form here",
				      n->name == NULL ? "" : n->name, c->key);
			return -1;
		}
		v = dnode_value(pool, c);
		if (strcmp(k, "driver") == 0) {
			if (strcmp(v, "log") != 0 && strcmp(v, "drop") != 0 &&
			    strcmp(v, "http-post") != 0) {
				dialect_error(tree, c, "event_exporter_driver "
					      "= %s has no Dovecot 2.3 form "
					      "(log, drop, http-post)", v);
				return -1;
			}
			c->key = "transport";
		} else if (strcmp(k, "time_format") == 0) {
			if (strcmp(v, "rfc3339") != 0 &&
			    strcmp(v, "unix") != 0) {
				dialect_error(tree, c, "event_exporter_time_"
					      "format = %s: rfc3339 or unix", v);
				return -1;
			}
			c->key = "format_args";
			dnode_set_value(c, p_strdup_printf(pool, "time-%s",
							   v));
		} else if (strcmp(k, "http_post_url") == 0 ||
			   strcmp(k, "http_client_request_timeout") == 0) {
			if (driver == NULL || strcmp(driver, "http-post") != 0) {
				dialect_error(tree, c, "%s: only the http-post "
					      "event_exporter_driver has it "
					      "(no Dovecot 2.3 form otherwise)",
					      c->key);
				return -1;
			}
			c->key = strcmp(k, "http_post_url") == 0 ?
				"transport_args" : "transport_timeout";
		} else if (strcmp(k, "format") == 0) {
			c->key = "format";
		} else {
			dialect_error(tree, c, "event_exporter %s { %s }: no "
				      "Dovecot 2.3 form here",
				      n->name == NULL ? "" : n->name, c->key);
			return -1;
		}
	}
	return 0;
}

/* apparmor_hats { a = yes } (boolean lists kept in 2.3's plugin { }):
 * merged with the value set before in this scope or an enclosing one */
static int t24_plugin_boollist(struct dtree *tree, struct dnode *scope,
			       struct dnode *n)
{
	pool_t pool = tree->pool;
	struct dnode *plugin = dialect_scope_plugin(pool, scope, n), *x = NULL;
	const char *base = "", *list = "";
	char *copy, *w, *save = NULL;

	for (struct dnode *sc = scope; sc != NULL && x == NULL;
	     sc = sc->parent) {
		for (struct dnode *c = sc->children; c != NULL; c = c->next) {
			if (c->section && !c->removed &&
			    strcmp(c->key, "plugin") == 0 &&
			    dnode_child_setting(c, n->key) != NULL)
				x = dnode_child_setting(c, n->key);
		}
	}
	if (x != NULL)
		base = dnode_value(pool, x);
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		bool yes;

		if (c->removed)
			continue;
		if (c->section || bool_value(tree, c, &yes) < 0) {
			if (c->section)
				dialect_error(tree, c, "%s { }: each entry "
					      "must be NAME = yes|no", n->key);
			return -1;
		}
	}
	copy = p_strdup(pool, base);
	for (w = strtok_r(copy, " ,", &save); w != NULL;
	     w = strtok_r(NULL, " ,", &save)) {
		bool drop = false;

		for (struct dnode *c = n->children; c != NULL; c = c->next) {
			if (!c->removed && strcmp(c->key, w) == 0)
				drop = true;
		}
		if (!drop)
			list = join(pool, list, w);
	}
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		if (!c->removed && strcasecmp(dnode_value(pool, c), "yes") == 0)
			list = join(pool, list, c->key);
	}
	if (x != NULL && x->parent == plugin)
		dnode_set_value(x, list);
	else
		dnode_add_setting(pool, plugin, n, n->key, list, true);
	return 0;
}

int dialect_plugins_24_section(struct dtree *tree, struct dnode *scope,
			       struct dnode *n)
{
	pool_t pool = tree->pool;
	const char *k = n->key;

	if (strcmp(k, "event_exporter") == 0)
		return t24_exporter(tree, n) < 0 ? -1 : 0;
	if (strcmp(k, "quota_over_status") == 0)
		return t24_quota_over(tree, n, dialect_scope_plugin(pool, scope, n)) <
			0 ? -1 : 0;
	if (strcmp(k, "sieve_editheader_header") == 0) {
		n->removed = true;
		return t24_editheader(tree, n, dialect_scope_plugin(pool, scope, n)) <
			0 ? -1 : 1;
	}
	if (strcmp(k, "sieve_spamtest_text_value") == 0 ||
	    strcmp(k, "sieve_virustest_text_value") == 0 ||
	    strcmp(k, "charset_aliases") == 0) {
		n->removed = true;
		return t24_strlist(tree, n, dialect_scope_plugin(pool, scope, n),
				   k[0] == 's') < 0 ? -1 : 1;
	}
	if (strcmp(k, "apparmor_hats") == 0 ||
	    strcmp(k, "fts_header_excludes") == 0 ||
	    strcmp(k, "fts_header_includes") == 0) {
		n->removed = true;
		return t24_plugin_boollist(tree, scope, n) < 0 ? -1 : 1;
	}
	if (strcmp(k, "welcome") == 0) {
		n->removed = true;
		return t24_welcome(tree, n, dialect_scope_plugin(pool, scope, n)) < 0 ?
			-1 : 1;
	}
	if (strcmp(k, "push_notification") == 0) {
		n->removed = true;
		return t24_push(tree, n, dialect_scope_plugin(pool, scope, n)) < 0 ?
			-1 : 1;
	}
	return 0;
}

/* ---- 2.4 -> 2.3: the settings t24_root_setting put in plugin { } ---- */

/* 2.3 plugin settings a 2.4 file cannot have, with the 2.4 form. */
static const struct {
	const char *k23, *hint;
	bool numbered;
} names_23[] = {
	{ "sieve_editheader_forbid_add", "sieve_editheader_header NAME "
	  "{ forbid_add = yes }", false },
	{ "sieve_editheader_forbid_delete", "sieve_editheader_header NAME "
	  "{ forbid_delete = yes }", false },
	{ "sieve_editheader_protected", "sieve_editheader_header NAME "
	  "{ forbid_add = yes  forbid_delete = yes }", false },
	{ "sieve_spamtest_text_value", "sieve_spamtest_text_value { N = "
	  "text }", true },
	{ "sieve_virustest_text_value", "sieve_virustest_text_value { N = "
	  "text }", true },
	{ "sieve_vacation_dont_check_recipient",
	  "sieve_vacation_check_recipient", false },
	{ "sieve_subaddress_sep", "recipient_delimiter", false },
	{ "apparmor_hat", "apparmor_hats", true },
	{ "fts_decoder", "fts_decoder_driver = script + "
	  "fts_decoder_script_socket_path", false },
	{ "fts_tika", "fts_decoder_driver = tika + fts_decoder_tika { url }",
	  false },
	{ "fts_enforced", "fts_search_add_missing + fts_search_read_fallback",
	  false },
	{ "zlib_save_level", "compress_<method>_level", false },
	{ "quota_over_script", "quota_over_status { execute NAME { args } }",
	  false },
	{ "welcome_script", "welcome { execute NAME { args } }", false },
	{ "mail_crypt_private_key", "crypt_private_key_file", false },
	{ "fts_stopwords_workaround", NULL, false },
	{ "imap_zlib_compression_level", NULL, false },
	{ "imap_zlib_compress_level", NULL, false },
	{ "quota_set", NULL, false },
	{ "mail_crypt_save_version", NULL, false },
	{ "pop3_uidl_migrate_format", NULL, false },
	{ "sieve_vacation_max_subject_codepoints", NULL, false },
	{ "mailbox_alias_old", NULL, true },
	{ "mailbox_alias_new", NULL, true },
};

static const char *const compress_methods[] = {
	"gz", "bz2", "lz4", "zstd", "deflate",
};

static int finish_plugin(struct dtree *tree, struct dnode *root,
			 struct dnode *plugin)
{
	pool_t pool = tree->pool;
	struct dnode *x, *drv, *sock, *tika, *add, *fallback;

	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		/* 2.3 text of roost_untranslated { } (the settings put
		   here by the translation have no raw text): as it is */
		if (!c->removed && c->raw != NULL)
			return 0;
	}
	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		if (c->removed || c->section || c->done)
			continue;
		for (unsigned int i = 0; i < N_ELEMENTS(names_23); i++) {
			const char *rest;

			if (!str_begins(c->key, names_23[i].k23, &rest) ||
			    (*rest != '\0' && (!names_23[i].numbered ||
					       !all_digits(rest))))
				continue;
			if (names_23[i].hint == NULL)
				dialect_error(tree, c, "Unknown setting: %s "
					      "(removed in Dovecot 2.4)",
					      c->key);
			else
				dialect_error(tree, c, "Unknown setting: %s "
					      "(Dovecot 2.3 name; 2.4 has %s)",
					      c->key, names_23[i].hint);
			return -1;
		}
	}
	/* Sieve extensions 2.4 removed */
	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		char *copy, *w, *save = NULL;

		if (c->removed || c->section ||
		    (strcmp(c->key, "sieve_extensions") != 0 &&
		     strcmp(c->key, "sieve_global_extensions") != 0 &&
		     strcmp(c->key, "sieve_personal_extensions") != 0))
			continue;
		copy = p_strdup(pool, dnode_value(pool, c));
		for (w = strtok_r(copy, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save)) {
			const char *e = w[0] == '+' || w[0] == '-' ? w + 1 : w;

			if (sieve_ext_removed(e)) {
				dialect_error(tree, c, "%s: the Sieve extension "
					      "%s was removed in Dovecot 2.4",
					      c->key, e);
				return -1;
			}
		}
	}
	/* sieve_vacation_check_recipient: inverted */
	if ((x = dnode_child_setting(plugin, "sieve_vacation_check_recipient")) !=
	    NULL) {
		bool v;

		if (bool_value(tree, x, &v) < 0)
			return -1;
		x->key = "sieve_vacation_dont_check_recipient";
		dnode_set_value(x, v ? "no" : "yes");
	}
	/* apparmor_hats = a b -> apparmor_hat = a, apparmor_hat2 = b */
	if ((x = dnode_child_setting(plugin, "apparmor_hats")) != NULL) {
		char *copy = p_strdup(pool, dnode_value(pool, x)), *w;
		char *save = NULL;
		unsigned int i = 0;
		struct dnode *after = x;

		for (w = strtok_r(copy, " ,", &save); w != NULL;
		     w = strtok_r(NULL, " ,", &save)) {
			struct dnode *h = dnode_new_setting(pool, x,
				i == 0 ? "apparmor_hat" :
				p_strdup_printf(pool, "apparmor_hat%u", i + 1),
				w, false);

			i++;
			dnode_insert_after(after, h);
			after = h;
		}
		x->removed = true;
	}
	/* crypt_private_key_file = PATH -> mail_crypt_private_key = <PATH */
	if ((x = dnode_child_setting(plugin, "crypt_private_key_file")) != NULL) {
		x->key = "mail_crypt_private_key";
		dnode_set_value(x, dnode_value(pool, x));
		x->is_file = true;
	}
	/* fts_decoder_driver = script|tika */
	drv = dnode_child_setting(plugin, "fts_decoder_driver");
	sock = dnode_child_setting(plugin, "fts_decoder_script_socket_path");
	tika = dnode_child_setting(plugin, "fts_decoder_tika_url");
	if (drv != NULL || sock != NULL || tika != NULL) {
		const char *d = drv == NULL ? "" : dnode_value(pool, drv);
		struct dnode *at = drv != NULL ? drv : sock != NULL ? sock :
			tika;

		if (strcmp(d, "script") == 0 && sock != NULL && tika == NULL) {
			sock->key = "fts_decoder";
		} else if (strcmp(d, "tika") == 0 && tika != NULL &&
			   sock == NULL) {
			tika->key = "fts_tika";
		} else {
			dialect_error(tree, at, "fts_decoder_driver = %s: no "
				      "Dovecot 2.3 form here (script with "
				      "fts_decoder_script_socket_path, or tika "
				      "with fts_decoder_tika { url })", d);
			return -1;
		}
		if (drv != NULL)
			drv->removed = true;
	}
	/* fts_search_add_missing + fts_search_read_fallback -> fts_enforced */
	add = dnode_child_setting(plugin, "fts_search_add_missing");
	fallback = dnode_child_setting(plugin, "fts_search_read_fallback");
	if (add != NULL || fallback != NULL) {
		bool a = true, f = true;

		if ((add != NULL && bool_value(tree, add, &a) < 0) ||
		    (fallback != NULL && bool_value(tree, fallback, &f) < 0))
			return -1;
		if (!a) {
			dialect_error(tree, add, "fts_search_add_missing = no "
				      "has no Dovecot 2.3 form (2.3 always "
				      "indexes missing mails on search)");
			return -1;
		}
		x = add != NULL ? add : fallback;
		x->key = "fts_enforced";
		dnode_set_value(x, f ? "no" : "yes");
		if (add != NULL && fallback != NULL)
			fallback->removed = true;
	}
	if ((x = dnode_child_setting(plugin, "zlib_save")) != NULL &&
	    strcmp(dnode_value(pool, x), "xz") == 0) {
		dialect_error(tree, x, "mail_compress_write_method = xz: xz "
			      "was removed in Dovecot 2.4");
		return -1;
	}
	/* compress_<method>_level -> zlib_save_level (the method written) */
	for (unsigned int i = 0; i < N_ELEMENTS(compress_methods); i++) {
		const char *key = p_strdup_printf(pool, "compress_%s_level",
						  compress_methods[i]);
		struct dnode *save;

		if ((x = dnode_child_setting(plugin, key)) == NULL)
			continue;
		save = dnode_child_setting(plugin, "zlib_save");
		if (save == NULL && plugin != root)
			save = dnode_child_setting(root, "zlib_save");
		if (save == NULL || strcmp(dnode_value(pool, save),
					   compress_methods[i]) != 0 ||
		    dnode_child_setting(plugin, "zlib_save_level") != NULL) {
			dialect_error(tree, x, "%s: no Dovecot 2.3 form unless "
				      "mail_compress_write_method = %s (2.3 "
				      "has one zlib_save_level)", key,
				      compress_methods[i]);
			return -1;
		}
		x->key = "zlib_save_level";
	}
	return 0;
}

/* mail_plugins: 2.4's mail_compress is 2.3's zlib; zlib and imap_zlib are
 * not 2.4 names. */
static int finish_mail_plugins(struct dtree *tree, struct dnode *n)
{
	pool_t pool = tree->pool;
	const char *v = dnode_value(pool, n), *p;
	string_t *s;
	bool changed = false;

	for (p = v; *p != '\0'; ) {
		size_t len = strcspn(p, " ");
		const char *w = p_strndup(pool, p, len);

		if (len == 0) {
			p++;
			continue;
		}
		p += len;
		if (strcmp(w, "zlib") == 0 || strcmp(w, "imap_zlib") == 0 ||
		    strcmp(w, "mailbox_alias") == 0) {
			dialect_error(tree, n, "mail_plugins: %s %s", w,
				      w[0] == 'z' ? "is called mail_compress "
				      "in Dovecot 2.4" : w[0] == 'i' ?
				      "was removed in Dovecot 2.4 (IMAP "
				      "COMPRESS is built in)" :
				      "was removed in Dovecot 2.4");
			return -1;
		}
		if (strcmp(w, "mail_compress") == 0)
			changed = true;
	}
	if (!changed)
		return 0;
	/* word by word, the spaces kept as they are */
	s = str_new(strlen(v) + 8);
	for (p = v; *p != '\0'; ) {
		size_t len = strcspn(p, " ");

		if (len == 0) {
			str_append_c(s, *p++);
			continue;
		}
		if (len == strlen("mail_compress") &&
		    strncmp(p, "mail_compress", len) == 0)
			str_append(s, "zlib");
		else
			str_append_n(s, p, len);
		p += len;
	}
	{
		bool expand = n->expand, file = n->is_file;

		dnode_set_value(n, p_strdup(pool, str_c(s)));
		n->expand = expand;
		n->is_file = file;
	}
	str_free(&s);
	return 0;
}

static int finish_walk(struct dtree *tree, struct dnode *root,
		       struct dnode *scope)
{
	for (struct dnode *c = scope->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (!c->section) {
			/* done: 2.3 text of roost_untranslated { } */
			if (!c->done && strcmp(c->key, "mail_plugins") == 0 &&
			    finish_mail_plugins(tree, c) < 0)
				return -1;
			continue;
		}
		if (strcmp(c->key, "plugin") == 0) {
			if (finish_plugin(tree, root, c) < 0)
				return -1;
		} else if (strcmp(c->key, "protocol") == 0 ||
			   strcmp(c->key, "local") == 0 ||
			   strcmp(c->key, "remote") == 0 ||
			   strcmp(c->key, "local_name") == 0) {
			if (finish_walk(tree, root, c) < 0)
				return -1;
		}
	}
	return 0;
}

int dialect_plugins_24_finish(struct dtree *tree)
{
	struct dnode *root = NULL;

	for (struct dnode *c = tree->root->children; c != NULL; c = c->next) {
		if (c->section && !c->removed && strcmp(c->key, "plugin") == 0)
			root = c;
	}
	if (root == NULL) {
		static struct dnode empty;

		root = &empty;
	}
	return finish_walk(tree, root, tree->root);
}

/* ---- 2.3 -> 2.4 ---- */

static void dropped(struct dnode *x, const char *why)
{
	i_warning(WARN_24 "plugin { %s } dropped: %s", x->key, why);
	x->removed = true;
}

/* "NAME args" -> execute NAME { args } when it reads back the same. */
static struct dnode *execute_24(pool_t pool, struct dnode *x)
{
	const char *v = dnode_value(pool, x), *sp = strchr(v, ' ');
	const char *name = sp == NULL ? v : p_strndup(pool, v, sp - v);
	const char *args = sp == NULL ? NULL : sp + 1, *args24, *back, *error;
	struct dnode *e;

	if (*name == '\0' || strpbrk(name, "\t\"'{}#=$\\") != NULL)
		return NULL;
	e = dnode_new_section(pool, x, "execute", name);
	if (args != NULL) {
		args24 = dialect_vars_23_to_24(pool, "", args);
		back = dialect_vars_24_to_23(pool, "", args24, &error);
		if (*args == '\0' || *args == ' ' || back == NULL ||
		    strcmp(back, args) != 0)
			return NULL;
		dnode_add_setting(pool, e, x, "args", args24, true);
	}
	return e;
}

static void x24_editheader(pool_t pool, struct dnode *plugin,
			   struct dnode *out)
{
	static const char *const keys[] = {
		"sieve_editheader_forbid_add",
		"sieve_editheader_forbid_delete",
		"sieve_editheader_protected",
	};
	struct dnode *x[3];
	const char *names[64];
	unsigned int flags[64], count = 0;
	const char *back[3] = { "", "", "" };
	bool any = false;

	for (unsigned int i = 0; i < 3; i++) {
		x[i] = dnode_child_setting(plugin, keys[i]);
		any = any || x[i] != NULL;
	}
	if (!any)
		return;
	for (unsigned int i = 0; i < 3; i++) {
		char *copy, *w, *save = NULL;

		if (x[i] == NULL)
			continue;
		copy = p_strdup(pool, dnode_value(pool, x[i]));
		for (w = strtok_r(copy, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save)) {
			unsigned int j;

			if (!simple_word(w))
				return;
			for (j = 0; j < count; j++) {
				if (strcasecmp(names[j], w) == 0)
					break;
			}
			if (j == count) {
				if (count == N_ELEMENTS(names))
					return;
				names[count] = w;
				flags[count++] = 0;
			}
			if ((flags[j] & (1U << i)) != 0 ||
			    (flags[j] != 0 && (i == 2 || flags[j] == 4)))
				return;
			flags[j] |= 1U << i;
		}
	}
	/* the 2.3 lists as reading the blocks back writes them */
	for (unsigned int j = 0; j < count; j++) {
		unsigned int i = flags[j] == 1 ? 0 : flags[j] == 2 ? 1 :
			flags[j] == 4 ? 2 : 3;

		if (i == 3)
			return;	/* add + delete: 2.4 reads back protected */
		back[i] = join(pool, back[i], names[j]);
	}
	for (unsigned int i = 0; i < 3; i++) {
		if ((x[i] == NULL) != (*back[i] == '\0') ||
		    (x[i] != NULL && strcmp(back[i],
					    dnode_value(pool, x[i])) != 0))
			return;
	}
	for (unsigned int j = 0; j < count; j++) {
		struct dnode *h = dnode_new_section(pool, plugin,
			"sieve_editheader_header", names[j]);

		if ((flags[j] & 5) != 0)
			dnode_add_setting(pool, h, h, "forbid_add", "yes", true);
		if ((flags[j] & 6) != 0)
			dnode_add_setting(pool, h, h, "forbid_delete", "yes", true);
		dnode_append(out, h);
	}
	for (unsigned int i = 0; i < 3; i++) {
		if (x[i] != NULL)
			x[i]->removed = true;
	}
}

/* sieve_spamtest_text_valueN -> sieve_spamtest_text_value { N = } */
static void x24_numbered_strlist(pool_t pool, struct dnode *plugin,
				 struct dnode *out, const char *prefix)
{
	struct dnode *block = NULL;

	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		const char *rest;

		if (c->removed || c->section ||
		    !str_begins(c->key, prefix, &rest))
			continue;
		if (!all_digits(rest))
			return;
	}
	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		const char *rest;

		if (c->removed || c->section ||
		    !str_begins(c->key, prefix, &rest))
			continue;
		if (block == NULL) {
			block = dnode_new_section(pool, c, prefix, NULL);
			dnode_append(out, block);
		}
		dnode_add_setting(pool, block, c, rest, dnode_value(pool, c), true);
		c->removed = true;
	}
}

static void x24_charset_aliases(pool_t pool, struct dnode *plugin,
				struct dnode *out)
{
	struct dnode *x = dnode_child_setting(plugin, "charset_aliases"), *block;
	char *copy, *w, *save = NULL;
	const char *back = "";

	if (x == NULL)
		return;
	block = dnode_new_section(pool, x, "charset_aliases", NULL);
	copy = p_strdup(pool, dnode_value(pool, x));
	for (w = strtok_r(copy, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');

		if (eq == NULL)
			return;
		*eq = '\0';
		if (!simple_word(w) || !simple_word(eq + 1))
			return;
		dnode_add_setting(pool, block, x, w, eq + 1, true);
		back = join(pool, back, p_strdup_printf(pool, "%s=%s", w,
							 eq + 1));
	}
	if (strcmp(back, dnode_value(pool, x)) != 0 ||
	    block->children == NULL)
		return;
	dnode_append(out, block);
	x->removed = true;
}

static void x24_apparmor(pool_t pool, struct dnode *plugin,
			 struct dnode *out)
{
	struct dnode *hats[32];
	unsigned int count = 0, total = 0;
	const char *s = "";

	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		const char *rest;

		if (!c->removed && !c->section &&
		    str_begins(c->key, "apparmor_hat", &rest) &&
		    (*rest == '\0' || all_digits(rest)))
			total++;
	}
	for (unsigned int i = 1; i <= N_ELEMENTS(hats); i++) {
		struct dnode *x = dnode_child_setting(plugin, i == 1 ? "apparmor_hat" :
			p_strdup_printf(pool, "apparmor_hat%u", i));

		if (x == NULL)
			break;
		if (!simple_word(dnode_value(pool, x)))
			return;
		hats[count++] = x;
		s = join(pool, s, dnode_value(pool, x));
	}
	if (count == 0 || count != total)
		return;
	dnode_add_setting(pool, out, hats[0], "apparmor_hats", s, true);
	for (unsigned int i = 0; i < count; i++)
		hats[i]->removed = true;
}

static void x24_fts(pool_t pool, struct dnode *plugin, struct dnode *out)
{
	struct dnode *dec = dnode_child_setting(plugin, "fts_decoder");
	struct dnode *tika = dnode_child_setting(plugin, "fts_tika");
	struct dnode *enf = dnode_child_setting(plugin, "fts_enforced");
	struct dnode *x;

	if (dec != NULL && tika == NULL &&
	    *dnode_value(pool, dec) != '\0') {
		dnode_add_setting(pool, out, dec, "fts_decoder_driver", "script", true);
		dnode_add_setting(pool, out, dec, "fts_decoder_script_socket_path",
			dnode_value(pool, dec), true);
		dec->removed = true;
	} else if (tika != NULL && dec == NULL &&
		   *dnode_value(pool, tika) != '\0') {
		struct dnode *f = dnode_new_section(pool, tika,
						    "fts_decoder_tika", NULL);

		dnode_add_setting(pool, out, tika, "fts_decoder_driver", "tika", true);
		dnode_add_setting(pool, f, tika, "url", dnode_value(pool, tika), true);
		dnode_append(out, f);
		tika->removed = true;
	}
	if (enf != NULL) {
		const char *v = dnode_value(pool, enf);

		if (strcmp(v, "yes") == 0) {
			dnode_add_setting(pool, out, enf, "fts_search_add_missing",
				"yes", true);
			dnode_add_setting(pool, out, enf, "fts_search_read_fallback",
				"no", true);
			enf->removed = true;
		} else if (strcmp(v, "no") == 0) {
			dnode_add_setting(pool, out, enf, "fts_search_read_fallback",
				"yes", true);
			enf->removed = true;
		}
	}
	if ((x = dnode_child_setting(plugin, "fts_stopwords_workaround")) != NULL)
		dropped(x, "removed in Dovecot 2.4 (no such setting)");
}

static void x24_zlib(pool_t pool, struct dnode *plugin, struct dnode *out)
{
	struct dnode *save = dnode_child_setting(plugin, "zlib_save");
	struct dnode *level = dnode_child_setting(plugin, "zlib_save_level");
	struct dnode *x;

	if (level != NULL && save != NULL) {
		const char *m = dnode_value(pool, save);

		for (unsigned int i = 0; i < N_ELEMENTS(compress_methods);
		     i++) {
			if (strcmp(m, compress_methods[i]) != 0)
				continue;
			dnode_add_setting(pool, out, level, p_strdup_printf(pool,
				"compress_%s_level", m),
				dnode_value(pool, level), true);
			level->removed = true;
		}
	}
	if (save != NULL && strcmp(dnode_value(pool, save), "xz") == 0)
		i_warning(WARN_24 "plugin { zlib_save = xz }: Dovecot 2.4 "
			  "can neither write nor read xz mail: recompress it "
			  "with another method (kept in roost_untranslated)");
	if ((x = dnode_child_setting(plugin, "imap_zlib_compression_level")) != NULL)
		dropped(x, "removed in Dovecot 2.4 (IMAP COMPRESS is built "
			"in)");
	if ((x = dnode_child_setting(plugin, "imap_zlib_compress_level")) != NULL)
		dropped(x, "removed in Dovecot 2.4 (IMAP COMPRESS is built "
			"in)");
}

/* sieve_subaddress_sep: 2.4's Sieve uses recipient_delimiter; dropped
 * when that is the same separator (the scope's or an enclosing one's,
 * else the default "+"), else left for roost_untranslated { }. */
static void x24_subaddress(pool_t pool, struct dnode *plugin)
{
	struct dnode *x = dnode_child_setting(plugin, "sieve_subaddress_sep");
	const char *delim = NULL;

	if (x == NULL)
		return;
	for (struct dnode *sc = plugin->parent; sc != NULL && delim == NULL;
	     sc = sc->parent) {
		for (struct dnode *c = sc->children; c != NULL; c = c->next) {
			if (!c->removed && !c->section &&
			    strcmp(c->key, "recipient_delimiter") == 0)
				delim = dnode_value(pool, c);
		}
	}
	if (strcmp(dnode_value(pool, x), delim == NULL ? "+" : delim) == 0)
		dropped(x, "the same as recipient_delimiter, which Dovecot "
			"2.4's Sieve uses");
}

/* Sieve extensions 2.4 removed: taken out of the extension lists. */
static void x24_sieve_extensions(pool_t pool, struct dnode *plugin)
{
	static const char *const keys[] = {
		"sieve_extensions", "sieve_global_extensions",
		"sieve_personal_extensions",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(keys); i++) {
		struct dnode *x = dnode_child_setting(plugin, keys[i]);
		char *copy, *w, *save = NULL;
		const char *list = "";
		bool changed = false;

		if (x == NULL)
			continue;
		copy = p_strdup(pool, dnode_value(pool, x));
		for (w = strtok_r(copy, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save)) {
			const char *e = w[0] == '+' || w[0] == '-' ? w + 1 : w;

			if (sieve_ext_removed(e)) {
				i_warning(WARN_24 "%s %s dropped: the Sieve "
					  "extension was removed in Dovecot "
					  "2.4", keys[i], w);
				changed = true;
				continue;
			}
			list = join(pool, list, w);
		}
		if (changed)
			dnode_set_value(x, list);
	}
}

void dialect_plugins_23_to_24(pool_t pool, struct dnode *plugin,
			      struct dnode *out)
{
	struct dnode *x;

	x24_editheader(pool, plugin, out);
	x24_numbered_strlist(pool, plugin, out, "sieve_spamtest_text_value");
	x24_numbered_strlist(pool, plugin, out, "sieve_virustest_text_value");
	x = dnode_child_setting(plugin, "sieve_vacation_dont_check_recipient");
	if (x != NULL && (strcmp(dnode_value(pool, x), "yes") == 0 ||
			  strcmp(dnode_value(pool, x), "no") == 0)) {
		dnode_add_setting(pool, out, x, "sieve_vacation_check_recipient",
			dnode_value(pool, x)[0] == 'y' ? "no" : "yes", true);
		x->removed = true;
	}
	x24_subaddress(pool, plugin);
	x24_sieve_extensions(pool, plugin);
	if ((x = dnode_child_setting(plugin, "sieve_vacation_max_subject_codepoints")) !=
	    NULL)
		dropped(x, "removed in Dovecot 2.4");
	x24_charset_aliases(pool, plugin, out);
	x24_apparmor(pool, plugin, out);
	x24_fts(pool, plugin, out);
	x24_zlib(pool, plugin, out);
	/* quota_over_script -> quota_over_status { execute } */
	x = dnode_child_setting(plugin, "quota_over_script");
	if (x != NULL) {
		struct dnode *e = execute_24(pool, x), *f;

		if (e != NULL) {
			f = dnode_new_section(pool, x, "quota_over_status",
					      NULL);
			dnode_append(f, e);
			dnode_append(out, f);
			x->removed = true;
		}
	}
	if ((x = dnode_child_setting(plugin, "quota_set")) != NULL)
		dropped(x, "removed in Dovecot 2.4 (no SETQUOTA)");
	/* welcome_script -> welcome { execute } */
	x = dnode_child_setting(plugin, "welcome_script");
	if (x != NULL) {
		struct dnode *e = execute_24(pool, x), *f;

		if (e != NULL) {
			f = dnode_new_section(pool, x, "welcome", NULL);
			dnode_append(f, e);
			dnode_append(out, f);
			x->removed = true;
		}
	}
	/* push_notification_driver[N] -> push_notification NAME { } */
	{
		struct dnode *blocks[16];
		struct dnode *sets[16];
		unsigned int count = 0;
		bool ok = true;

		for (unsigned int i = 1; i <= N_ELEMENTS(blocks) && ok; i++) {
			const char *v, *rest, *url;
			struct dnode *b;

			x = dnode_child_setting(plugin, i == 1 ?
				"push_notification_driver" :
				p_strdup_printf(pool,
					"push_notification_driver%u", i));
			if (x == NULL)
				break;
			v = dnode_value(pool, x);
			if (strcmp(v, "dlog") == 0) {
				b = dnode_new_section(pool, x,
					"push_notification", "dlog");
			} else if (str_begins(v, "lua:file=", &rest) &&
				   simple_word(rest)) {
				b = dnode_new_section(pool, x,
					"push_notification", "lua");
				dnode_add_setting(pool, b, x, "lua_file", rest, true);
			} else if (str_begins(v, "ox:url=", &url) &&
				   *url != '\0') {
				const char *sp = strchr(url, ' ');
				bool md = false;

				if (sp != NULL) {
					md = strcmp(sp, " user_from_metadata")
						== 0;
					url = p_strndup(pool, url, sp - url);
				}
				if ((sp != NULL && !md) ||
				    strpbrk(url, " \"'#$\\") != NULL) {
					ok = false;
					break;
				}
				b = dnode_new_section(pool, x,
					"push_notification", "ox");
				dnode_add_setting(pool, b, x, "url", url, true);
				if (md)
					dnode_add_setting(pool, b, x,
						"user_from_metadata", "yes", true);
			} else {
				ok = false;
				break;
			}
			for (unsigned int j = 0; j < count; j++) {
				if (strcmp(blocks[j]->name, b->name) == 0)
					ok = false;
			}
			blocks[count] = b;
			sets[count++] = x;
		}
		for (unsigned int j = 0; ok && j < count; j++) {
			dnode_append(out, blocks[j]);
			sets[j]->removed = true;
		}
	}
	/* mail-crypt: the user's private key file */
	x = dnode_child_setting(plugin, "mail_crypt_private_key");
	if (x != NULL && x->raw != NULL && x->raw[0] == '<' &&
	    x->raw[1] != '\0') {
		dnode_add_setting(pool, out, x, "crypt_private_key_file",
			dnode_value(pool, x), true);
		x->removed = true;
	}
	if ((x = dnode_child_setting(plugin, "mail_crypt_save_version")) != NULL)
		dropped(x, "removed in Dovecot 2.4 (only the current format "
			"is written)");
	if ((x = dnode_child_setting(plugin, "pop3_uidl_migrate_format")) != NULL)
		dropped(x, "removed in Dovecot 2.4");
	for (struct dnode *c = plugin->children; c != NULL; c = c->next) {
		if (!c->removed && !c->section &&
		    str_begins(c->key, "mailbox_alias_", NULL))
			dropped(c, "the mailbox_alias plugin was removed in "
				"Dovecot 2.4 (use special_use or Sieve)");
	}
}

bool dialect_plugins_23_untranslated(pool_t pool, const struct dnode *c)
{
	const char *rest;

	/* xz is gone: never write mail_compress_write_method = xz */
	if (strcmp(c->key, "zlib_save") == 0 &&
	    strcmp(dnode_value(pool, c), "xz") == 0)
		return true;
	/* left by dialect_plugins_23_to_24(): no exact 2.4 form (2.4's
	   push_notification_driver is 2.3's push_notification_backend) */
	return (str_begins(c->key, "push_notification_driver", &rest) ||
		str_begins(c->key, "apparmor_hat", &rest)) &&
		(*rest == '\0' || all_digits(rest));
}

void dialect_plugins_23_mail_plugins(pool_t pool, struct dnode *n)
{
	const char *v, *p;
	string_t *s;
	bool changed = false, dropped_any = false;

	if (strcmp(n->key, "mail_plugins") != 0)
		return;
	v = dnode_value(pool, n);
	s = str_new(strlen(v) + 32);
	/* word by word, the spaces kept as they are */
	for (p = v; *p != '\0'; ) {
		size_t len = strcspn(p, " ");
		const char *w = p_strndup(pool, p, len);

		if (len == 0) {
			str_append_c(s, *p++);
			continue;
		}
		p += len;
		if (strcmp(w, "imap_zlib") == 0 ||
		    strcmp(w, "mailbox_alias") == 0) {
			i_warning(WARN_24 "mail_plugins %s dropped: the "
				  "plugin was removed in Dovecot 2.4%s", w,
				  w[0] == 'i' ? " (IMAP COMPRESS is built "
				  "in)" : "");
			dropped_any = true;
			continue;
		}
		if (strcmp(w, "zlib") == 0) {
			w = "mail_compress";
			changed = true;
		}
		str_append(s, w);
	}
	if (dropped_any) {
		/* the list without the dropped words: single spaces */
		char *copy = p_strdup(pool, str_c(s)), *w, *save = NULL;
		const char *list = "";

		for (w = strtok_r(copy, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save))
			list = join(pool, list, w);
		dnode_set_value(n, list);
	} else if (changed)
		dnode_set_value(n, p_strdup(pool, str_c(s)));
	str_free(&s);
}

bool dialect_plugins_23_exporter(pool_t pool, struct dnode *n)
{
	struct dnode *transport = NULL;
	const char *t;

	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (c->section)
			return false;
		if (strcmp(c->key, "transport") == 0)
			transport = c;
		else if (strcmp(c->key, "format") != 0 &&
			 strcmp(c->key, "format_args") != 0 &&
			 strcmp(c->key, "transport_args") != 0 &&
			 strcmp(c->key, "transport_timeout") != 0)
			return false;
	}
	t = transport == NULL ? "" : dnode_value(pool, transport);
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		const char *v = dnode_value(pool, c);

		if (c->removed)
			continue;
		if (strcmp(c->key, "format_args") == 0 &&
		    strcmp(v, "time-rfc3339") != 0 &&
		    strcmp(v, "time-unix") != 0)
			return false;
		if ((strcmp(c->key, "transport_args") == 0 ||
		     strcmp(c->key, "transport_timeout") == 0) &&
		    strcmp(t, "http-post") != 0)
			return false;
	}
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (strcmp(c->key, "transport") == 0)
			c->key = "driver";
		else if (strcmp(c->key, "format_args") == 0) {
			c->key = "time_format";
			dnode_set_value(c, dnode_value(pool, c) + 5);
		} else if (strcmp(c->key, "transport_args") == 0)
			c->key = "http_post_url";
		else if (strcmp(c->key, "transport_timeout") == 0)
			c->key = "http_client_request_timeout";
		c->done = true;
	}
	return true;
}

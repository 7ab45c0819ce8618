/* mail-plugins.c - which names mail_plugins may hold: the plugins
 * Dovecot 2.3 ships (Debian's dovecot-core, -imapd, -lucene, -solr,
 * -sieve, fts-xapian), with the load priority in their file names and
 * the plugin each one needs loaded too, and which of them Roost
 * implements. */
#include "mail-plugins.h"
#include "str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct plugin_def {
	const char *name;
	unsigned int prio;	/* the NN of libNN_name_plugin.so */
	const char *needs;	/* NULL or the plugin that must be loaded */
	bool roost;		/* implemented by Roost */
};

static const struct plugin_def plugins[] = {
	{ "acl", 1, NULL, true },
	{ "apparmor", 1, NULL, false },
	{ "mail_lua", 1, NULL, false },
	{ "imap_acl", 2, "acl", true },
	{ "lazy_expunge", 2, NULL, false },
	{ "mail_crypt_acl", 5, "acl", false },
	{ "pop3_migration", 5, NULL, false },
	{ "last_login", 10, NULL, true },
	{ "mail_crypt", 10, NULL, false },
	{ "quota", 10, NULL, true },
	{ "imap_quota", 11, "quota", true },
	{ "trash", 11, "quota", true },
	/* notify only lets other plugins see mail events: nothing of its
	   own to implement */
	{ "notify", 15, NULL, true },
	{ "charset_alias", 20, NULL, false },
	{ "fts", 20, NULL, false },
	{ "listescape", 20, NULL, false },
	{ "mail_log", 20, "notify", true },
	{ "mailbox_alias", 20, NULL, false },
	{ "notify_status", 20, "notify", false },
	{ "push_notification", 20, "notify", false },
	{ "quota_clone", 20, "quota", true },
	{ "replication", 20, "notify", false },
	{ "virtual", 20, NULL, false },
	{ "zlib", 20, NULL, true },
	{ "fts_squat", 21, "fts", false },
	{ "fts_lucene", 21, "fts", false },
	{ "fts_solr", 21, "fts", false },
	{ "fts_xapian", 21, "fts", false },
	{ "push_notification_lua", 22, "push_notification", false },
	{ "imap_zlib", 30, NULL, true },
	{ "old_stats", 90, NULL, false },
	{ "imap_sieve", 95, NULL, false },
	{ "imap_filter_sieve", 95, NULL, false },
	{ "imap_old_stats", 95, "old_stats", false },
	{ "sieve", 90, NULL, false },
	{ "welcome", 99, NULL, false },
};

static const struct plugin_def *plugin_find(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(plugins); i++) {
		if (strcmp(plugins[i].name, name) == 0)
			return &plugins[i];
	}
	return NULL;
}

/* "lib10_quota.so" -> "quota" (as Dovecot names a plugin), into buf. */
static void name_normalize(const char *word, size_t len, char *buf,
			   size_t bufsize)
{
	if (len > 6 && strncmp(word, "lib", 3) == 0 &&
	    isdigit((unsigned char)word[3]) &&
	    isdigit((unsigned char)word[4]) && word[5] == '_') {
		word += 6;
		len -= 6;
	}
	if (len > 3 && strncmp(word + len - 3, ".so", 3) == 0)
		len -= 3;
	if (len >= bufsize)
		len = bufsize - 1;
	memcpy(buf, word, len);
	buf[len] = '\0';
}

/* Calls cb for each normalized name; stops when it returns false. */
static void plugins_foreach(const char *list,
			    bool (*cb)(const char *name, void *context),
			    void *context)
{
	const char *p = list == NULL ? "" : list;
	char name[128];

	while (*p != '\0') {
		size_t len;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		len = strcspn(p, " ,\t");
		if (len == 0)
			break;
		name_normalize(p, len, name, sizeof(name));
		p += len;
		if (!cb(name, context))
			return;
	}
}

struct has_ctx {
	const char *name;
	bool found;
};

static bool has_cb(const char *name, void *context)
{
	struct has_ctx *ctx = context;

	if (strcmp(name, ctx->name) == 0)
		ctx->found = true;
	return !ctx->found;
}

bool mail_plugins_has(const char *mail_plugins, const char *name)
{
	struct has_ctx ctx = { .name = name };

	plugins_foreach(mail_plugins, has_cb, &ctx);
	return ctx.found;
}

struct check_ctx {
	const char *list;
	const char *unknown;	/* first unknown name */
	const struct plugin_def *missing_dep;	/* lowest priority first */
	string_t *lacking;
	char unknown_buf[128];
};

static bool check_cb(const char *name, void *context)
{
	struct check_ctx *ctx = context;
	const struct plugin_def *def = plugin_find(name);

	if (def == NULL) {
		if (ctx->unknown == NULL) {
			snprintf(ctx->unknown_buf, sizeof(ctx->unknown_buf),
				 "%s", name);
			ctx->unknown = ctx->unknown_buf;
		}
		return true;
	}
	if (def->needs != NULL && !mail_plugins_has(ctx->list, def->needs) &&
	    (ctx->missing_dep == NULL ||
	     def->prio < ctx->missing_dep->prio))
		ctx->missing_dep = def;
	if (!def->roost) {
		/* each name once */
		const char *s = str_c(ctx->lacking);
		size_t n = strlen(name);
		bool dup = false;

		for (const char *p = s; (p = strstr(p, name)) != NULL; p += n) {
			if ((p == s || p[-1] == ' ') &&
			    (p[n] == '\0' || p[n] == ' '))
				dup = true;
		}
		if (!dup) {
			if (str_len(ctx->lacking) > 0)
				str_append_c(ctx->lacking, ' ');
			str_append(ctx->lacking, name);
		}
	}
	return true;
}

#define LOAD_ERROR_DEP "Couldn't load required plugin "
#define LOAD_ERROR_UNKNOWN "Plugin '"

bool mail_plugins_error_is_load(const char *error)
{
	return strncmp(error, LOAD_ERROR_DEP, strlen(LOAD_ERROR_DEP)) == 0 ||
		strncmp(error, LOAD_ERROR_UNKNOWN,
			strlen(LOAD_ERROR_UNKNOWN)) == 0;
}

int mail_plugins_check(pool_t pool, const char *mail_plugins,
		       const char *plugin_dir, const char **missing_r,
		       const char **error_r)
{
	struct check_ctx ctx;
	int ret = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.list = mail_plugins;
	ctx.lacking = str_new(64);
	plugins_foreach(mail_plugins, check_cb, &ctx);
	/* Dovecot loads in priority order: a missing dependency shows up
	   before the names it could not find */
	if (ctx.missing_dep != NULL) {
		*error_r = p_strdup_printf(pool,
			LOAD_ERROR_DEP "%s/lib%02u_%s_plugin.so: Plugin %s must be loaded "
			"also (you must set: mail_plugins=$mail_plugins %s)",
			plugin_dir, ctx.missing_dep->prio,
			ctx.missing_dep->name, ctx.missing_dep->needs,
			ctx.missing_dep->needs);
		ret = -1;
	} else if (ctx.unknown != NULL) {
		*error_r = p_strdup_printf(pool,
			LOAD_ERROR_UNKNOWN "%s' not found from directory %s",
			ctx.unknown, plugin_dir);
		ret = -1;
	}
	*missing_r = p_strdup(pool, str_c(ctx.lacking));
	str_free(&ctx.lacking);
	return ret;
}

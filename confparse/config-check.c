/* config-check.c - post-parse validation of a settings tree. */
#include "config-check.h"
#include "pool.h"

#include <pwd.h>
#include <stdio.h>

struct check_ctx {
	pool_t pool;
	unsigned int count;
	const char *first;
	void (*callback)(const char *msg, void *ctx);
	void *context;
};

static void problem(struct check_ctx *ctx, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
static void problem(struct check_ctx *ctx, const char *fmt, ...)
{
	va_list args;
	const char *msg;

	va_start(args, fmt);
	msg = p_strdup_vprintf(ctx->pool, fmt, args);
	va_end(args);
	if (ctx->count++ == 0)
		ctx->first = msg;
	if (ctx->callback != NULL)
		ctx->callback(msg, ctx->context);
}

static const char *get(const struct config_node *node, const char *key)
{
	int idx = setting_info_find(node->info, key);

	i_assert(idx >= 0);
	return node->slots[idx].value;
}

static const struct config_slot *list(const struct config_node *node,
				      const char *key)
{
	int idx = setting_info_find(node->info, key);

	i_assert(idx >= 0);
	return &node->slots[idx];
}

/* Each space-separated word of value must be one of allowed. Returns the
 * first unknown word, or NULL. */
static const char *unknown_word(pool_t pool, const char *value,
				const char *const *allowed)
{
	char *copy = p_strdup(pool, value), *save = NULL, *word;

	for (word = strtok_r(copy, " ", &save); word != NULL;
	     word = strtok_r(NULL, " ", &save)) {
		unsigned int i;

		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], word) == 0)
				break;
		}
		if (allowed[i] == NULL)
			return word;
	}
	return NULL;
}

static void check_keywords(struct check_ctx *ctx,
			   const struct config_node *root)
{
	static const char *const imap_wa[] = {
		"delay-newmail", "tb-extra-mailbox-sep", "tb-lsub-flags", NULL
	};
	static const char *const pop3_wa[] = {
		"outlook-no-nuls", "oe-ns-eoh", NULL
	};
	static const char *const lmtp_wa[] = {
		"whitespace-before-path", "mailbox-for-path", NULL
	};
	static const char *const smtp_wa[] = {
		"whitespace-before-path", "mailbox-for-path", NULL
	};
	static const char *const protocols[] = {
		"imap", "pop3", "lmtp", "submission", "none", NULL
	};
	static const char *const ssl_opts[] = {
		"compression", "no_compression", "no_ticket", NULL
	};
	const char *w;

	if ((w = unknown_word(ctx->pool, get(root, "imap_client_workarounds"),
			      imap_wa)) != NULL)
		problem(ctx, "imap_client_workarounds: Unknown workaround: %s",
			w);
	if ((w = unknown_word(ctx->pool, get(root, "pop3_client_workarounds"),
			      pop3_wa)) != NULL)
		problem(ctx, "pop3_client_workarounds: Unknown workaround: %s",
			w);
	if ((w = unknown_word(ctx->pool, get(root, "lmtp_client_workarounds"),
			      lmtp_wa)) != NULL)
		problem(ctx, "lmtp_client_workarounds: Unknown workaround: %s",
			w);
	if ((w = unknown_word(ctx->pool,
			      get(root, "submission_client_workarounds"),
			      smtp_wa)) != NULL)
		problem(ctx, "submission_client_workarounds: "
			"Unknown workaround: %s", w);
	if ((w = unknown_word(ctx->pool, get(root, "protocols"),
			      protocols)) != NULL)
		problem(ctx, "protocols: Unknown protocol: %s", w);
	if ((w = unknown_word(ctx->pool, get(root, "ssl_options"),
			      ssl_opts)) != NULL)
		problem(ctx, "ssl_options: unknown flag: '%s'", w);
}

static void check_users(struct check_ctx *ctx, const struct config_node *root)
{
	static const char *const keys[] = {
		"default_internal_user", "default_login_user"
	};

	for (size_t i = 0; i < N_ELEMENTS(keys); i++) {
		const char *user = get(root, keys[i]);

		if (user[0] != '\0' && getpwnam(user) == NULL)
			problem(ctx, "%s doesn't exist: %s", keys[i], user);
	}
}

static void check_namespaces(struct check_ctx *ctx,
			     const struct config_node *root)
{
	static const char *const special[] = {
		"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Important",
		"\\Junk", "\\Sent", "\\Trash", NULL
	};
	const struct config_slot *nss = list(root, "namespace");

	for (unsigned int i = 0; i < nss->child_count; i++) {
		const struct config_node *ns = nss->children[i];
		const struct config_slot *boxes = list(ns, "mailbox");

		if (strlen(get(ns, "separator")) > 1)
			problem(ctx, "Namespace '%s': Hierarchy separator "
				"must be only one character long",
				get(ns, "prefix"));
		for (unsigned int j = 0; j < boxes->child_count; j++) {
			const struct config_node *box = boxes->children[j];
			const char *w = unknown_word(ctx->pool,
				get(box, "special_use"), special);

			if (w != NULL)
				problem(ctx, "mailbox %s: unknown special_use: "
					"%s", get(box, "name"), w);
		}
	}
}

static void check_auth_dbs(struct check_ctx *ctx,
			   const struct config_node *root)
{
	static const char *const kinds[] = { "passdb", "userdb" };

	for (size_t k = 0; k < N_ELEMENTS(kinds); k++) {
		const struct config_slot *dbs = list(root, kinds[k]);

		for (unsigned int i = 0; i < dbs->child_count; i++) {
			if (get(dbs->children[i], "driver")[0] == '\0')
				problem(ctx, "%s is missing driver", kinds[k]);
		}
	}
}

static void check_services(struct check_ctx *ctx,
			   const struct config_node *root)
{
	static const char *const types[] = {
		"startup", "login", "config", "log", "anvil", "worker", NULL
	};
	const struct config_slot *services = list(root, "service");

	for (unsigned int i = 0; i < services->child_count; i++) {
		const char *type = get(services->children[i], "type");

		if (type[0] != '\0' &&
		    unknown_word(ctx->pool, type, types) != NULL)
			problem(ctx, "Unknown service type: %s", type);
	}
}

static void check_stats(struct check_ctx *ctx, const struct config_node *root)
{
	const struct config_slot *metrics = list(root, "metric");
	const struct config_slot *exporters = list(root, "event_exporter");

	for (unsigned int i = 0; i < metrics->child_count; i++) {
		const struct config_node *m = metrics->children[i];

		if (get(m, "filter")[0] == '\0')
			problem(ctx, "metric %s { filter } is empty - will "
				"not match anything", get(m, "metric_name"));
	}
	for (unsigned int i = 0; i < exporters->child_count; i++) {
		const struct config_node *e = exporters->children[i];

		if (get(e, "transport")[0] == '\0')
			problem(ctx, "Exporter transport name can't be empty");
		else if (get(e, "format")[0] == '\0')
			problem(ctx, "Exporter format name can't be empty");
		else if (strcmp(get(e, "format"), "json") == 0 &&
			 strstr(get(e, "format_args"), "time-") == NULL)
			problem(ctx, "json exporter format requires a time-* "
				"argument");
	}
}

static void check_misc(struct check_ctx *ctx, const struct config_node *root)
{
	const char *verbose = get(root, "auth_verbose_passwords");

	if (strcmp(get(root, "pop3_delete_type"), "flag") == 0 &&
	    get(root, "pop3_deleted_flag")[0] == '\0')
		problem(ctx, "pop3_delete_type=flag, but pop3_deleted_flag "
			"not set");
	if (strchr(get(root, "pop3_uidl_format"), '%') == NULL)
		problem(ctx, "pop3_uidl_format setting doesn't contain any "
			"%% variables.");
	if (strcmp(verbose, "no") != 0 && strcmp(verbose, "yes") != 0 &&
	    strcmp(verbose, "plain") != 0 && strcmp(verbose, "sha1") != 0 &&
	    !str_begins(verbose, "sha1:", NULL))
		problem(ctx, "auth_verbose_passwords: Invalid value");
	if (get(root, "auth_policy_server_url")[0] != '\0' &&
	    get(root, "auth_policy_hash_nonce")[0] == '\0')
		problem(ctx, "auth_policy_hash_nonce must be set when policy "
			"server is used");
}

unsigned int config_check_node(const struct config_node *root,
			       void (*callback)(const char *msg, void *ctx),
			       void *context, const char **first_r)
{
	static char first[1024];
	struct check_ctx ctx = {
		.pool = pool_create("config check", 4096),
		.callback = callback,
		.context = context,
	};

	check_auth_dbs(&ctx, root);
	check_services(&ctx, root);
	check_namespaces(&ctx, root);
	check_stats(&ctx, root);
	check_misc(&ctx, root);
	check_keywords(&ctx, root);
	check_users(&ctx, root);
	if (ctx.count > 0 && first_r != NULL) {
		snprintf(first, sizeof(first), "%s", ctx.first);
		*first_r = first;
	}
	pool_destroy(&ctx.pool);
	return ctx.count;
}

static void print_problem(const char *msg, void *context ATTR_UNUSED)
{
	i_error("%s", msg);
}

int config_check_print(const struct config_node *root)
{
	return config_check_node(root, print_problem, NULL, NULL) > 0 ? -1 : 0;
}

int config_check(struct config *config, const char **error_r)
{
	static char errbuf[2048];
	const char *first;

	if (config_check_node(config->blocks[0]->root, NULL, NULL,
			      &first) == 0)
		return 0;
	snprintf(errbuf, sizeof(errbuf),
		 "Error in configuration file %s: %s", config->path, first);
	*error_r = errbuf;
	return -1;
}

/* config-check.c - post-parse validation of a settings tree, as Dovecot
 * 2.3's settings check functions do it: per module, in doveconf's module
 * order, each module stopping at its first problem. */
#include "config-check.h"
#include "config-value.h"
#include "pool.h"
#include "str.h"

#include <pwd.h>
#include <stdio.h>
#include <strings.h>

struct check_ctx {
	pool_t pool;
};

/* One of Dovecot's settings modules: its check, and the last top-level
 * setting doveconf -S prints for it (NULL: the last one of all). */
struct check_module {
	const char *(*check)(struct check_ctx *ctx,
			     const struct config_node *root);
	const char *end_key;
};

static const char *get(const struct config_node *node, const char *key)
{
	int idx = setting_info_find(node->info, key);

	i_assert(idx >= 0);
	return node->slots[idx].value;
}

static bool get_bool(const struct config_node *node, const char *key)
{
	return strcmp(get(node, key), "yes") == 0;
}

static unsigned int get_uint(const struct config_node *node, const char *key)
{
	unsigned int num = 0;
	const char *error;

	(void)config_parse_uint(get(node, key), &num, &error);
	return num;
}

static uint64_t get_size(const struct config_node *node, const char *key)
{
	uint64_t size = 0;
	const char *error;

	(void)config_parse_size(get(node, key), &size, &error);
	return size;
}

static const struct config_slot *list(const struct config_node *node,
				      const char *key)
{
	int idx = setting_info_find(node->info, key);

	i_assert(idx >= 0);
	return &node->slots[idx];
}

/* The words of value (split at spaces and extra separators). */
static char **words(pool_t pool, const char *value, const char *seps,
		    unsigned int *count_r)
{
	char *copy = p_strdup(pool, value), *save = NULL, *word;
	char **ret = p_new(pool, char *, strlen(value) / 2 + 2);
	unsigned int n = 0;

	for (word = strtok_r(copy, seps, &save); word != NULL;
	     word = strtok_r(NULL, seps, &save))
		ret[n++] = word;
	*count_r = n;
	return ret;
}

static bool word_in(const char *word, const char *const *allowed)
{
	for (unsigned int i = 0; allowed[i] != NULL; i++) {
		if (strcmp(allowed[i], word) == 0)
			return true;
	}
	return false;
}

/* "KEY: Unknown workaround: W" for the first word not in allowed. */
static const char *check_workarounds(struct check_ctx *ctx,
				     const struct config_node *root,
				     const char *key,
				     const char *const *allowed)
{
	unsigned int count;
	char **list_words = words(ctx->pool, get(root, key), " ,", &count);

	for (unsigned int i = 0; i < count; i++) {
		if (!word_in(list_words[i], allowed))
			return p_strdup_printf(ctx->pool, "%s: Unknown "
					       "workaround: %s", key,
					       list_words[i]);
	}
	return NULL;
}

/* Dovecot's str_to_uint(): digits only. */
static bool str_is_uint(const char *str, unsigned int *num_r)
{
	return config_parse_uint(str, num_r, &str) == 0;
}

static bool utf8_is_valid(const char *str)
{
	const unsigned char *p = (const unsigned char *)str;

	while (*p != '\0') {
		unsigned int len, cp;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			len = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			len = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			len = 4;
			cp = *p & 0x07;
		} else {
			return false;
		}
		for (unsigned int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
	}
	return true;
}

/* ---- master_service_ssl ---- */

static const char *check_ssl(struct check_ctx *ctx,
			     const struct config_node *root)
{
	static const char *const flags[] = {
		"compression", "no_compression", "no_ticket", NULL
	};
	unsigned int count;
	char **opts;

	if (strcmp(get(root, "ssl"), "no") == 0)
		return NULL;
	if (get_bool(root, "ssl_verify_client_cert") &&
	    get(root, "ssl_ca")[0] == '\0')
		return "ssl_verify_client_cert set, but ssl_ca not";
	opts = words(ctx->pool, get(root, "ssl_options"), " ,", &count);
	for (unsigned int i = 0; i < count; i++) {
		if (!word_in(opts[i], flags))
			return p_strdup_printf(ctx->pool, "ssl_options: "
				"unknown flag: '%s'", opts[i]);
	}
	return NULL;
}

/* ---- auth ---- */

static const char *check_verbose_passwords(struct check_ctx *ctx,
					   const struct config_node *root)
{
	const char *value = get(root, "auth_verbose_passwords");
	const char *p = strchr(value, ':');
	unsigned int num;

	if (p != NULL) {
		if (!str_is_uint(p + 1, &num) || num == 0)
			return p_strdup_printf(ctx->pool,
				"auth_verbose_passwords: Invalid truncation "
				"number: '%s'", p + 1);
		value = p_strndup(ctx->pool, value, (size_t)(p - value));
	}
	if (strcmp(value, "no") != 0 && strcmp(value, "plain") != 0 &&
	    strcmp(value, "sha1") != 0 && strcmp(value, "yes") != 0)
		return "auth_verbose_passwords: Invalid value";
	return NULL;
}

static const char *check_auth_policy(struct check_ctx *ctx,
				     const struct config_node *root)
{
	static const struct {
		const char *name;
		unsigned int bits;
	} hashes[] = {
		{ "md4", 128 }, { "md5", 128 }, { "sha1", 160 },
		{ "sha256", 256 }, { "sha384", 384 }, { "sha512", 512 },
		{ "sha3-256", 256 }, { "sha3-512", 512 },
	};
	const char *mech = get(root, "auth_policy_hash_mech");
	unsigned int truncate = get_uint(root, "auth_policy_hash_truncate");

	if (get(root, "auth_policy_server_url")[0] == '\0')
		return NULL;
	if (get(root, "auth_policy_hash_nonce")[0] == '\0')
		return "auth_policy_hash_nonce must be set when policy server "
			"is used";
	for (size_t i = 0; i < N_ELEMENTS(hashes); i++) {
		if (strcmp(hashes[i].name, mech) != 0)
			continue;
		if (truncate > 0 && truncate >= hashes[i].bits)
			return p_strdup_printf(ctx->pool,
				"policy_hash_truncate is not smaller than "
				"digest size (%u >= %u)", truncate,
				hashes[i].bits);
		return NULL;
	}
	return "invalid auth_policy_hash_mech given";
}

static const char *check_auth(struct check_ctx *ctx,
			      const struct config_node *root)
{
	uint64_t cache_size = get_size(root, "auth_cache_size");
	const struct config_slot *passdbs = list(root, "passdb");
	const struct config_slot *userdbs = list(root, "userdb");
	const char *error;

	if (get_uint(root, "auth_worker_max_count") == 0)
		return "auth_worker_max_count must be above zero";
	if (cache_size > 0 && cache_size < 1024)
		return p_strdup_printf(ctx->pool, "auth_cache_size value is "
			"too small (%llu bytes)",
			(unsigned long long)cache_size);
	if ((error = check_verbose_passwords(ctx, root)) != NULL ||
	    (error = check_auth_policy(ctx, root)) != NULL)
		return error;
	for (unsigned int i = 0; i < passdbs->child_count; i++) {
		const struct config_node *db = passdbs->children[i];

		if (get(db, "driver")[0] == '\0')
			return "passdb is missing driver";
		if (get_bool(db, "pass") &&
		    strcmp(get(db, "result_success"), "return-ok") != 0)
			return "Obsolete pass=yes setting mixed with "
				"non-default result_success";
	}
	for (unsigned int i = 0; i < userdbs->child_count; i++) {
		if (get(userdbs->children[i], "driver")[0] == '\0')
			return "userdb is missing driver";
	}
	return NULL;
}

/* ---- imap, lmtp, pop3, submission ---- */

static const char *check_imap(struct check_ctx *ctx,
			      const struct config_node *root)
{
	static const char *const allowed[] = {
		"delay-newmail", "tb-extra-mailbox-sep", "tb-lsub-flags", NULL
	};

	return check_workarounds(ctx, root, "imap_client_workarounds",
				 allowed);
}

static const char *check_lmtp(struct check_ctx *ctx,
			      const struct config_node *root)
{
	static const char *const allowed[] = {
		"whitespace-before-path", "mailbox-for-path", NULL
	};

	return check_workarounds(ctx, root, "lmtp_client_workarounds",
				 allowed);
}

static const char *check_pop3(struct check_ctx *ctx,
			      const struct config_node *root)
{
	static const char *const allowed[] = {
		"outlook-no-nuls", "oe-ns-eoh", NULL
	};
	const char *error;

	if ((error = check_workarounds(ctx, root, "pop3_client_workarounds",
				       allowed)) != NULL)
		return error;
	if (strcmp(get(root, "pop3_delete_type"), "flag") == 0 &&
	    get(root, "pop3_deleted_flag")[0] == '\0')
		return "pop3_delete_type=flag, but pop3_deleted_flag not set";
	return NULL;
}

static const char *check_submission(struct check_ctx *ctx,
				    const struct config_node *root)
{
	static const char *const allowed[] = {
		"whitespace-before-path", "mailbox-for-path", NULL
	};

	return check_workarounds(ctx, root, "submission_client_workarounds",
				 allowed);
}

/* ---- mail storage ---- */

/* The variable a "%..." in pop3_uidl_format names, after its width and
 * modifiers, as Dovecot's var_get_key() finds it. */
static char var_key(const char *p)
{
	while ((*p >= '0' && *p <= '9') || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		while ((*p >= '0' && *p <= '9') || *p == '-')
			p++;
	}
	while (*p != '\0' && strchr("LUEXRHNMDT", *p) != NULL)
		p++;
	return *p;
}

static const char *check_uidl_format(struct check_ctx *ctx,
				     const struct config_node *root)
{
	bool found = false;

	for (const char *p = get(root, "pop3_uidl_format"); *p != '\0'; p++) {
		if (p[0] != '%' || p[1] == '\0')
			continue;
		char c = var_key(++p);

		if (c == '%')
			continue;
		if (strchr("vumfg", c) == NULL || c == '\0')
			return p_strdup_printf(ctx->pool, "Unknown "
				"pop3_uidl_format variable: %%%c", c);
		found = true;
	}
	if (!found)
		return "pop3_uidl_format setting doesn't contain any %% "
			"variables.";
	return NULL;
}

static const char *check_attachment_options(struct check_ctx *ctx,
					    const struct config_node *root)
{
	unsigned int count;
	char **opts = words(ctx->pool,
			    get(root, "mail_attachment_detection_options"),
			    " ", &count);

	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(opts[i], "add-flags") != 0 &&
		    strcmp(opts[i], "add-flags-on-save") != 0 &&
		    strcmp(opts[i], "no-flags-on-fetch") != 0 &&
		    strcmp(opts[i], "exclude-inlined") != 0 &&
		    !str_begins(opts[i], "content-type=", NULL))
			return p_strdup_printf(ctx->pool,
				"mail_attachment_detection_options: Unknown "
				"option: %s", opts[i]);
	}
	return NULL;
}

static const char *check_mail_storage(struct check_ctx *ctx,
				      const struct config_node *root)
{
	bool nfs_index = get_bool(root, "mail_nfs_index");
	const char *error;

	if (strcmp(get(root, "mailbox_idle_check_interval"), "0") == 0)
		return "mailbox_idle_check_interval must not be 0";
	if (nfs_index && !get_bool(root, "mmap_disable"))
		return "mail_nfs_index=yes requires mmap_disable=yes";
	if (nfs_index && strcmp(get(root, "mail_fsync"), "always") != 0)
		return "mail_nfs_index=yes requires mail_fsync=always";
	if (get_uint(root, "mail_cache_purge_delete_percentage") > 100)
		return "mail_cache_purge_delete_percentage can't be over 100";
	if ((error = check_uidl_format(ctx, root)) != NULL)
		return error;
	if (strchr(get(root, "mail_attachment_hash"), '/') != NULL)
		return "mail_attachment_hash setting must not contain '/' "
			"characters";
	if (strchr(get(root, "mail_attachment_hash"), '-') != NULL)
		return "mail_attachment_hash setting must not contain '-' "
			"characters";
	return check_attachment_options(ctx, root);
}

/* ---- mail user: namespaces and mailboxes ---- */

static const char *check_mailbox(struct check_ctx *ctx,
				 const struct config_node *box)
{
	static const char *const uses[] = {
		"All", "Archive", "Drafts", "Flagged", "Important", "Junk",
		"Sent", "Trash",
	};
	const char *name = get(box, "name");
	unsigned int count;
	char **list_words = words(ctx->pool, get(box, "special_use"), " ",
				  &count);

	if (!utf8_is_valid(name))
		return p_strdup_printf(ctx->pool, "mailbox %s: name isn't "
				       "valid UTF-8", name);
	for (unsigned int i = 0; i < count; i++) {
		const char *w = list_words[i];
		size_t j = N_ELEMENTS(uses);

		if (w[0] == '\\') {
			for (j = 0; j < N_ELEMENTS(uses); j++) {
				if (strcasecmp(w + 1, uses[j]) == 0)
					break;
			}
		}
		if (j == N_ELEMENTS(uses))
			return p_strdup_printf(ctx->pool, "mailbox %s: unknown "
					       "special_use: %s", name, w);
	}
	return NULL;
}

static const char *check_namespace(struct check_ctx *ctx,
				   const struct config_slot *nss,
				   const struct config_node *ns)
{
	const char *prefix = get(ns, "prefix"), *alias = get(ns, "alias_for");
	const char *sep = get(ns, "separator");
	unsigned int i;

	if (sep[0] != '\0' && sep[1] != '\0')
		return p_strdup_printf(ctx->pool, "Namespace '%s': Hierarchy "
			"separator must be only one character long", prefix);
	if (!utf8_is_valid(prefix))
		return p_strdup_printf(ctx->pool, "Namespace prefix not valid "
				       "UTF8: %s", prefix);
	if (alias[0] == '\0' || get_bool(ns, "disabled"))
		return NULL;
	for (i = 0; i < nss->child_count; i++) {
		if (strcmp(get(nss->children[i], "prefix"), alias) == 0)
			break;
	}
	if (i == nss->child_count)
		return p_strdup_printf(ctx->pool, "Namespace '%s': alias_for "
			"points to unknown namespace: %s", prefix, alias);
	if (get(nss->children[i], "alias_for")[0] != '\0')
		return p_strdup_printf(ctx->pool, "Namespace '%s': alias_for "
			"chaining isn't allowed: %s -> %s", prefix, alias,
			get(nss->children[i], "alias_for"));
	return NULL;
}

static const char *check_mail_user(struct check_ctx *ctx,
				   const struct config_node *root)
{
	const struct config_slot *nss = list(root, "namespace");
	const char *error;

	for (unsigned int i = 0; i < nss->child_count; i++) {
		const struct config_node *ns = nss->children[i];
		const struct config_slot *boxes = list(ns, "mailbox");

		if ((error = check_namespace(ctx, nss, ns)) != NULL)
			return error;
		for (unsigned int j = 0; j < boxes->child_count; j++) {
			error = check_mailbox(ctx, boxes->children[j]);
			if (error != NULL)
				return error;
		}
	}
	return NULL;
}

/* ---- master: services ---- */

struct master_ctx {
	struct check_ctx *ctx;
	const struct config_node *root;
	const char *base_dir;
	char **protocols;
	unsigned int protocol_count;
	/* "port:address" and absolute paths of the listeners */
	const char **listeners;
	unsigned int listener_count, listener_cap;
	unsigned int auth_clients, anvil_clients;
	string_t *auth_reason, *anvil_reason;
};

static void add_listener(struct master_ctx *m, const char *str)
{
	if (m->listener_count == m->listener_cap) {
		unsigned int new_cap = m->listener_cap == 0 ? 32 :
			m->listener_cap * 2;

		m->listeners = p_realloc(m->ctx->pool, m->listeners,
			sizeof(*m->listeners) * m->listener_cap,
			sizeof(*m->listeners) * new_cap);
		m->listener_cap = new_cap;
	}
	m->listeners[m->listener_count++] = str;
}

static bool service_is_enabled(const struct master_ctx *m,
			       const struct config_node *service)
{
	const char *protocol = get(service, "protocol");

	if (protocol[0] == '\0')
		return true;
	for (unsigned int i = 0; i < m->protocol_count; i++) {
		if (strcmp(m->protocols[i], protocol) == 0)
			return true;
	}
	return false;
}

/* Unix and fifo listeners: path checks, absolute paths collected. */
static const char *file_listeners(struct master_ctx *m,
				  const struct config_node *service,
				  const char *kind)
{
	const struct config_slot *files = list(service, kind);
	size_t base_len = strlen(m->base_dir);

	for (unsigned int i = 0; i < files->child_count; i++) {
		const struct config_node *l = files->children[i];
		const char *path = get(l, "path");

		if (path[0] == '\0')
			return p_strdup_printf(m->ctx->pool, "service(%s): %s: "
					       "path must not be empty",
					       get(service, "name"), kind);
		if (path[0] != '/') {
			path = p_strdup_printf(m->ctx->pool, "%s/%s",
					       m->base_dir, path);
		} else if (strncmp(path, m->base_dir, base_len) == 0 &&
			   path[base_len] == '/') {
			i_warning("You should remove base_dir prefix from "
				  "unix_listener: %s", path);
		}
		/* listeners with mode 0 are disabled */
		if (strspn(get(l, "mode"), "0") != strlen(get(l, "mode")))
			add_listener(m, path);
	}
	return NULL;
}

static bool process_limit_1(const char *name)
{
	static const char *const names[] = {
		"anvil", "auth", "director", "indexer", "ipc", "log",
		"old-stats", "replicator", NULL
	};

	return word_in(name, names);
}

/* What master_settings_verify() checks for each enabled service. */
static const char *check_service(struct master_ctx *m,
				 const struct config_node *service)
{
	pool_t pool = m->ctx->pool;
	const char *name = get(service, "name"), *type = get(service, "type");
	const struct config_slot *inets = list(service, "inet_listener");
	unsigned int limit = get_uint(service, "process_limit");
	uint64_t vsz = get_size(service, "vsz_limit");
	const char *error;

	if (get_bool(service, "drop_priv_before_exec") &&
	    get(service, "chroot")[0] != '\0')
		return p_strdup_printf(pool, "service(%s): "
			"drop_priv_before_exec=yes can't be used with chroot",
			name);
	if (limit == 0)
		limit = get_uint(m->root, "default_process_limit");
	if (get_uint(service, "process_min_avail") > limit)
		return p_strdup_printf(pool, "service(%s): process_min_avail "
				       "is higher than process_limit", name);
	if (vsz < 1024 * 1024 && vsz != 0)
		return p_strdup_printf(pool, "service(%s): vsz_limit is too "
				       "low", name);
	if (process_limit_1(name) && limit > 1)
		return p_strdup_printf(pool, "service(%s): process_limit must "
				       "be 1", name);
	if (get(service, "protocol")[0] != '\0' &&
	    (get_uint(service, "service_count") != 1 ||
	     strcmp(type, "login") == 0) &&
	    strcmp(name, "imap-hibernate") != 0) {
		str_printfa(m->auth_reason,
			    " + service %s { process_limit=%u }", name, limit);
		m->auth_clients += limit;
	}
	if (strcmp(type, "login") == 0 || strcmp(name, "auth") == 0) {
		m->anvil_clients += limit;
		str_printfa(m->anvil_reason,
			    " + service %s { process_limit=%u }", name, limit);
	}
	if ((error = file_listeners(m, service, "unix_listener")) != NULL ||
	    (error = file_listeners(m, service, "fifo_listener")) != NULL)
		return error;
	for (unsigned int i = 0; i < inets->child_count; i++) {
		const struct config_node *l = inets->children[i];

		if (get_uint(l, "port") != 0)
			add_listener(m, p_strdup_printf(pool, "%u:%s",
				get_uint(l, "port"), get(l, "address")));
	}
	return NULL;
}

static unsigned int service_client_limit(const struct master_ctx *m,
					 const char *name)
{
	const struct config_slot *services = list(m->root, "service");

	for (unsigned int i = 0; i < services->child_count; i++) {
		const struct config_node *s = services->children[i];

		if (strcmp(get(s, "name"), name) == 0 &&
		    get_uint(s, "client_limit") != 0)
			return get_uint(s, "client_limit");
	}
	return get_uint(m->root, "default_client_limit");
}

/* Dovecot warns about these once per process. */
static void warn_client_limits(struct master_ctx *m)
{
	static bool warned_auth = false, warned_anvil = false;
	unsigned int limit = service_client_limit(m, "auth");

	/* the reasons start with " + " */
	str_append(m->auth_reason, "   ");
	str_append(m->anvil_reason, "   ");

	if (limit < m->auth_clients && !warned_auth) {
		warned_auth = true;
		str_truncate(m->auth_reason, str_len(m->auth_reason) - 3);
		i_warning("service auth { client_limit=%u } is lower than "
			  "required under max. load (%u). Counted for protocol "
			  "services with service_count != 1: %s", limit,
			  m->auth_clients, str_c(m->auth_reason) + 3);
	}
	limit = service_client_limit(m, "anvil");
	if (limit < m->anvil_clients && !warned_anvil) {
		warned_anvil = true;
		str_truncate(m->anvil_reason, str_len(m->anvil_reason) - 3);
		i_warning("service anvil { client_limit=%u } is lower than "
			  "required under max. load (%u). Counted with: %s",
			  limit, m->anvil_clients,
			  str_len(m->anvil_reason) < 3 ? "" :
			  str_c(m->anvil_reason) + 3);
	}
}

static int strcmp_p(const void *p1, const void *p2)
{
	return strcmp(*(const char *const *)p1, *(const char *const *)p2);
}

/* Names, types and protocols of the services. */
static const char *check_service_names(struct master_ctx *m)
{
	static const char *const types[] = {
		"log", "config", "anvil", "login", "startup", "worker", NULL
	};
	const struct config_slot *services = list(m->root, "service");
	pool_t pool = m->ctx->pool;

	for (unsigned int i = 0; i < services->child_count; i++) {
		const char *name = get(services->children[i], "name");
		const char *type = get(services->children[i], "type");

		if (name[0] == '\0')
			return p_strdup_printf(pool, "Service #%u is missing "
					       "name", i);
		if (type[0] != '\0' && !word_in(type, types))
			return p_strdup_printf(pool, "Unknown service type: %s",
					       type);
		for (unsigned int j = 0; j < i; j++) {
			const char *name2 = get(services->children[j], "name");

			if (strcmp(name, name2) == 0)
				return p_strdup_printf(pool, "Duplicate "
					"service name: %s", name);
		}
	}
	m->protocols = words(pool, get(m->root, "protocols"), " ",
			     &m->protocol_count);
	if (m->protocol_count == 1 && strcmp(m->protocols[0], "none") == 0)
		m->protocol_count = 0;
	for (unsigned int i = 0; i < m->protocol_count; i++) {
		unsigned int j;

		for (j = 0; j < services->child_count; j++) {
			if (strcmp(get(services->children[j], "protocol"),
				   m->protocols[i]) == 0)
				break;
		}
		if (j == services->child_count)
			return p_strdup_printf(pool, "protocols: Unknown "
					       "protocol: %s", m->protocols[i]);
	}
	return NULL;
}

static const char *check_users(struct master_ctx *m)
{
	static const char *const keys[] = {
		"default_login_user", "default_internal_user"
	};

	for (size_t i = 0; i < N_ELEMENTS(keys); i++) {
		const char *user = get(m->root, keys[i]);

		if (getpwnam(user) == NULL)
			return p_strdup_printf(m->ctx->pool, "%s doesn't "
					       "exist: %s", keys[i], user);
	}
	return NULL;
}

static const char *check_master(struct check_ctx *ctx,
				const struct config_node *root)
{
	const struct config_slot *services = list(root, "service");
	struct master_ctx m = {
		.ctx = ctx,
		.root = root,
		.anvil_clients = 2,	/* blocking, nonblocking pipes */
	};
	unsigned int last_uid = get_uint(root, "last_valid_uid");
	unsigned int last_gid = get_uint(root, "last_valid_gid");
	size_t len;
	const char *error = NULL;

	if (get(root, "listen")[0] == '\0')
		return "listen can't be set empty";
	m.base_dir = get(root, "base_dir");
	len = strlen(m.base_dir);
	if (len > 0 && m.base_dir[len - 1] == '/')
		m.base_dir = p_strndup(ctx->pool, m.base_dir, len - 1);
	if (last_uid != 0 && get_uint(root, "first_valid_uid") > last_uid)
		return "first_valid_uid can't be larger than last_valid_uid";
	if (last_gid != 0 && get_uint(root, "first_valid_gid") > last_gid)
		return "first_valid_gid can't be larger than last_valid_gid";
	if ((error = check_users(&m)) != NULL ||
	    (error = check_service_names(&m)) != NULL)
		return error;
	m.auth_reason = str_new(256);
	m.anvil_reason = str_new(256);
	for (unsigned int i = 0; i < services->child_count && error == NULL;
	     i++) {
		if (service_is_enabled(&m, services->children[i]))
			error = check_service(&m, services->children[i]);
	}
	if (error == NULL) {
		warn_client_limits(&m);
		if (m.listener_count > 1)
			qsort(m.listeners, m.listener_count,
			      sizeof(*m.listeners), strcmp_p);
		for (unsigned int i = 1; i < m.listener_count; i++) {
			if (strcmp(m.listeners[i - 1], m.listeners[i]) == 0) {
				error = p_strdup_printf(ctx->pool, "duplicate "
					"listener: %s", m.listeners[i]);
				break;
			}
		}
	}
	str_free(&m.auth_reason);
	str_free(&m.anvil_reason);
	return error;
}

/* ---- stats ---- */

static const char *check_exporter(struct check_ctx *ctx,
				  const struct config_node *e)
{
	const char *format = get(e, "format"), *transport = get(e, "transport");
	bool need_time = strcmp(format, "none") != 0;
	unsigned int count, time_args = 0;
	char **args;

	if (get(e, "name")[0] == '\0')
		return "Exporter name can't be empty";
	if (format[0] == '\0')
		return "Exporter format name can't be empty";
	if (strcmp(format, "none") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "tab-text") != 0)
		return p_strdup_printf(ctx->pool, "Unknown exporter format "
				       "'%s'", format);
	if (transport[0] == '\0')
		return "Exporter transport name can't be empty";
	if (strcmp(transport, "drop") != 0 &&
	    strcmp(transport, "http-post") != 0 &&
	    strcmp(transport, "log") != 0)
		return p_strdup_printf(ctx->pool, "Unknown transport type '%s'",
				       transport);
	args = words(ctx->pool, get(e, "format_args"), " ", &count);
	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(args[i], "time-rfc3339") != 0 &&
		    strcmp(args[i], "time-unix") != 0)
			return p_strdup_printf(ctx->pool, "Unknown exporter "
					       "format arg: %s", args[i]);
		if (time_args > 0 && strcmp(args[i], args[0]) != 0)
			return p_strdup_printf(ctx->pool, "Exporter '%s' "
				"specifies multiple time format args",
				get(e, "name"));
		time_args++;
	}
	if (need_time && time_args == 0)
		return p_strdup_printf(ctx->pool, "%s exporter format requires "
				       "a time-* argument", format);
	return NULL;
}

static const char *check_stats(struct check_ctx *ctx,
			       const struct config_node *root)
{
	const struct config_slot *metrics = list(root, "metric");
	const struct config_slot *exporters = list(root, "event_exporter");
	const char *error;

	/* the module's own check first: exporters that metrics name */
	for (unsigned int i = 0; exporters->child_count > 0 &&
	     i < metrics->child_count; i++) {
		const char *exporter = get(metrics->children[i], "exporter");
		unsigned int j;

		if (exporter[0] == '\0')
			continue;
		for (j = 0; j < exporters->child_count; j++) {
			if (strcmp(get(exporters->children[j], "name"),
				   exporter) == 0)
				break;
		}
		if (j == exporters->child_count)
			return p_strdup_printf(ctx->pool, "metric %s refers to "
				"non-existent exporter '%s'",
				get(metrics->children[i], "metric_name"),
				exporter);
	}
	for (unsigned int i = 0; i < metrics->child_count; i++) {
		const struct config_node *m = metrics->children[i];

		if (get(m, "metric_name")[0] == '\0')
			return "Metric name can't be empty";
		if (get(m, "filter")[0] == '\0')
			return p_strdup_printf(ctx->pool, "metric %s { filter "
				"} is empty - will not match anything",
				get(m, "metric_name"));
	}
	for (unsigned int i = 0; i < exporters->child_count; i++) {
		error = check_exporter(ctx, exporters->children[i]);
		if (error != NULL)
			return error;
	}
	return NULL;
}

/* doveconf's module order; submission's settings are checked twice
 * (the submission-login and submission modules both have them). */
static const struct check_module modules[] = {
	{ check_ssl, "ssl_options" },
	{ check_auth, "last_valid_gid" },
	{ check_imap, "imap_urlauth_port" },
	{ check_lmtp, "login_trusted_networks" },
	{ check_mail_storage, "pop3_uidl_format" },
	{ check_mail_user, "namespace" },
	{ check_master, "service" },
	{ check_pop3, "pop3_delete_type" },
	{ check_stats, "event_exporter" },
	{ check_submission, "submission_client_workarounds" },
	{ check_submission, NULL },
};

static unsigned int wanted_modules = ~0U;

void config_check_set_modules(unsigned int mask)
{
	wanted_modules = mask;
}

/* Run the modules from the first one, stopping at the first problem
 * unless all is set. Calls callback for each problem found. */
static unsigned int run_modules(const struct config_node *root, bool all,
				void (*callback)(const char *msg,
						 const char *end_key,
						 void *context),
				void *context)
{
	struct check_ctx ctx = { .pool = pool_create("config check", 4096) };
	unsigned int count = 0;

	for (size_t i = 0; i < N_ELEMENTS(modules); i++) {
		const char *error;

		if ((wanted_modules & (1U << i)) == 0)
			continue;
		error = modules[i].check(&ctx, root);
		if (error == NULL)
			continue;
		count++;
		if (callback != NULL)
			callback(error, modules[i].end_key, context);
		if (!all)
			break;
	}
	pool_destroy(&ctx.pool);
	return count;
}

struct first_ctx {
	char first[1024];
	const char *end_key;
	bool found;
};

static void keep_first(const char *msg, const char *end_key, void *context)
{
	struct first_ctx *ctx = context;

	if (ctx->found)
		return;
	ctx->found = true;
	snprintf(ctx->first, sizeof(ctx->first), "%s", msg);
	ctx->end_key = end_key;
}

struct node_cb_ctx {
	void (*callback)(const char *msg, void *ctx);
	void *context;
	struct first_ctx *first;
};

static void node_cb(const char *msg, const char *end_key, void *context)
{
	struct node_cb_ctx *ctx = context;

	keep_first(msg, end_key, ctx->first);
	if (ctx->callback != NULL)
		ctx->callback(msg, ctx->context);
}

unsigned int config_check_node(const struct config_node *root,
			       void (*callback)(const char *msg, void *ctx),
			       void *context, const char **first_r)
{
	static struct first_ctx first;
	struct node_cb_ctx ctx = {
		.callback = callback,
		.context = context,
		.first = &first,
	};
	unsigned int count;

	memset(&first, 0, sizeof(first));
	count = run_modules(root, true, node_cb, &ctx);
	if (count > 0 && first_r != NULL)
		*first_r = first.first;
	return count;
}

static void print_problem(const char *msg, void *context ATTR_UNUSED)
{
	i_error("%s", msg);
}

int config_check_print(const struct config_node *root)
{
	return config_check_node(root, print_problem, NULL, NULL) > 0 ? -1 : 0;
}

const char *config_check_first(const struct config_node *root,
			       const char **end_key_r)
{
	static struct first_ctx first;

	memset(&first, 0, sizeof(first));
	if (run_modules(root, false, keep_first, &first) == 0)
		return NULL;
	*end_key_r = first.end_key;
	return first.first;
}

/* The top-level ssl a block sets itself, or NULL. */
static const char *block_own_ssl(const struct config_block *block)
{
	int idx = setting_info_find(block->root->info, "ssl");

	i_assert(idx >= 0);
	return block->root->slots[idx].changed ?
		block->root->slots[idx].value : NULL;
}

int config_check(struct config *config, const char **error_r)
{
	static char errbuf[2048];
	const char *global_ssl = block_own_ssl(config->blocks[0]);
	bool ssl_warned = false, failed = false;

	if (global_ssl == NULL)
		global_ssl = "";
	/* every block as a connection matching its filter sees it */
	for (unsigned int i = 0; i < config->block_count && !failed; i++) {
		struct config_block *block = config->blocks[i];
		pool_t pool = pool_create("config check merge", 64 * 1024);
		const char *ssl = block_own_ssl(block), *error, *end_key;
		struct config_node *root;

		if (ssl == NULL)
			ssl = global_ssl;
		if (config_get_merged_pool(config, &block->filter, pool, &root,
					   &error) < 0) {
			failed = true;
		} else {
			if (strcmp(ssl, "no") != 0 &&
			    strcmp(global_ssl, "no") == 0 && !ssl_warned) {
				i_warning("SSL is disabled because global "
					  "ssl=no, ignoring ssl=%s for "
					  "subsection", ssl);
				ssl_warned = true;
			}
			error = config_check_first(root, &end_key);
			failed = error != NULL;
		}
		if (failed) {
			snprintf(errbuf, sizeof(errbuf),
				 "Error in configuration file %s: %s",
				 config->path, error);
			*error_r = errbuf;
		}
		pool_destroy(&pool);
	}
	return failed ? -1 : 0;
}

/* config-obsolete.c - settings of Dovecot 2.0-2.2 that 2.3 still reads:
 * each is rewritten to its 2.3 form with an "Obsolete setting in F:N"
 * warning, as Dovecot's old-set-parser.c does (same texts, same order,
 * same quirks). Only lines at the top level or directly inside a filter
 * are looked at, and only plain values (no $variables, no <file). */
#include "config-parser-private.h"

#include <stdio.h>
#include <strings.h>

struct config_obsolete {
	bool warned;
	/* 1 inside a 2.0-style auth {} block, more inside its sections */
	unsigned int auth_section;
	bool seen_auth_section;
};

static const struct config_filter imap_filter = { .protocol = "imap" };
static const struct config_filter pop3_filter = { .protocol = "pop3" };
static const struct config_filter sieve_filter = { .protocol = "sieve" };

static struct config_obsolete *get_state(struct parse_ctx *ctx)
{
	if (ctx->obsolete == NULL)
		ctx->obsolete = p_new(ctx->pool, struct config_obsolete, 1);
	return ctx->obsolete;
}

static void obsolete(struct parse_ctx *ctx, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
static void obsolete(struct parse_ctx *ctx, const char *fmt, ...)
{
	struct config_obsolete *state = get_state(ctx);
	va_list args;
	char *msg;

	if (!state->warned) {
		i_warning("NOTE: You can get a new clean config file with: "
			  "doveconf -Pn > dovecot-new.conf");
		state->warned = true;
	}
	va_start(args, fmt);
	msg = p_strdup_vprintf(ctx->pool, fmt, args);
	va_end(args);
	i_warning("Obsolete setting in %s:%u: %s", ctx->input->path,
		  ctx->input->linenum, msg);
}

static bool filter_is_global(const struct config_filter *filter)
{
	return filter->protocol == NULL && filter->local_name == NULL &&
		filter->local_bits == 0 && filter->remote_bits == 0;
}

/* The words of value split at any of seps, empty ones dropped. */
static char **split_words(pool_t pool, const char *value, const char *seps,
			  unsigned int *count_r)
{
	char *copy = p_strdup(pool, value), *save = NULL, *word;
	char **words = p_new(pool, char *, strlen(value) / 2 + 2);
	unsigned int n = 0;

	for (word = strtok_r(copy, seps, &save); word != NULL;
	     word = strtok_r(NULL, seps, &save))
		words[n++] = word;
	*count_r = n;
	return words;
}

static const char *join_words(pool_t pool, char *const *words,
			      unsigned int count)
{
	string_t *str = str_new(128);
	const char *ret;

	for (unsigned int i = 0; i < count; i++) {
		if (i > 0)
			str_append_c(str, ' ');
		str_append(str, words[i]);
	}
	ret = p_strdup(pool, str_c(str));
	str_free(&str);
	return ret;
}

static int set_rename(struct parse_ctx *ctx, const char *old_key,
		      const char *key, const char *value)
{
	obsolete(ctx, "%s has been renamed to %s", old_key, key);
	return config_parser_apply(ctx, LINE_KEYVALUE, key, value);
}

/* ---- settings that moved into services ---- */

/* A "listen" with a port is split into listen and listener ports. */
static bool listen_has_port(pool_t pool, const char *value)
{
	struct ip_addr ip;
	unsigned int count;
	char **addrs;

	if (strchr(value, ':') == NULL)
		return false;
	addrs = split_words(pool, value, ", ", &count);
	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(addrs[i], "*") != 0 && strcmp(addrs[i], "::") != 0 &&
		    strcmp(addrs[i], "[::]") != 0 &&
		    net_addr2ip(addrs[i], &ip) < 0)
			return true;
	}
	return false;
}

/* Set KEY of the login (or mail) service, or of its inet_listener
 * PROTO<ssl> when ssl is not NULL, in the global block, for each of imap
 * and pop3 that the current filter covers. An invalid value is an error,
 * except where the filter covers sieve too: Dovecot then also tries the
 * (missing) managesieve service, and clears the error after it. */
static int apply_service_set(struct parse_ctx *ctx, bool login,
			     const char *ssl, const char *key,
			     const char *value)
{
	const struct config_filter *filter = &ctx->section->block->filter;
	struct config_block *global = ctx->config->blocks[0];
	static const char *const protos[] = { "imap", "pop3" };
	const struct config_filter *filters[] = { &imap_filter, &pop3_filter };

	for (unsigned int i = 0; i < N_ELEMENTS(protos); i++) {
		const char *path;

		if (!config_filter_match(filter, filters[i]))
			continue;
		path = p_strdup_printf(ctx->pool, "service/%s%s/", protos[i],
				       login ? "-login" : "");
		if (ssl != NULL) {
			path = p_strdup_printf(ctx->pool,
				"%sinet_listener/%s%s/", path, protos[i], ssl);
		}
		path = p_strdup_printf(ctx->pool, "%s%s", path, key);
		(void)config_parser_apply_path(ctx, global, path, value);
	}
	if ((ssl == NULL || *ssl == '\0') &&
	    config_filter_match(filter, &sieve_filter))
		ctx->error = NULL;
	return ctx->error == NULL ? 0 : -1;
}

static int handle_listen(struct parse_ctx *ctx, const char *key,
			 const char *value, bool root)
{
	const char *ssl = strcmp(key, "ssl_listen") == 0 ? "s" : "";
	const char *p = strrchr(value, ':');

	if (*value == '\0')
		return 0;
	if (p != NULL && listen_has_port(ctx->pool, value)) {
		obsolete(ctx, "%s=..:port has been replaced by service { "
			 "inet_listener { port } }", key);
		value = p_strndup(ctx->pool, value, (size_t)(p - value));
		/* an error is reported after the rest is done */
		(void)apply_service_set(ctx, true, ssl, "port", p + 1);
	}
	if (root && *ssl == '\0') {
		struct section *section = ctx->section;
		int ret;

		/* Dovecot applies it at the top level */
		while (ctx->section->prev != NULL)
			ctx->section = ctx->section->prev;
		ret = config_parser_apply(ctx, LINE_KEYVALUE, key, value);
		ctx->section = section;
		return ret < 0 || ctx->error != NULL ? -1 : 0;
	}
	obsolete(ctx, "protocol { %s } has been replaced by service { "
		 "inet_listener { address } }", key);
	return apply_service_set(ctx, true, ssl, "address", value);
}

static const struct {
	const char *old_key, *key;
	bool login;
} service_renames[] = {
	{ "login_user", "user", true },
	{ "login_executable", "executable", true },
	{ "login_processes_count", "process_min_avail", true },
	{ "login_max_processes_count", "process_limit", true },
	{ "login_max_connections", "client_limit", true },
	{ "max_mail_processes", "process_limit", false },
	{ "mail_executable", "executable", false },
	{ "mail_drop_priv_before_exec", "drop_priv_before_exec", false },
};

/* login_* and mail_* process settings: per-service now. */
static bool handle_service_keys(struct parse_ctx *ctx, const char *key,
				const char *value, int *ret_r)
{
	const char *new_key = NULL;
	bool login = false;

	for (unsigned int i = 0; i < N_ELEMENTS(service_renames); i++) {
		if (strcmp(key, service_renames[i].old_key) == 0) {
			new_key = service_renames[i].key;
			login = service_renames[i].login;
		}
	}
	if (strcmp(key, "login_chroot") == 0) {
		new_key = "chroot";
		login = true;
		value = strcmp(value, "no") == 0 ? "" : "login";
	} else if (strcmp(key, "login_process_size") == 0 ||
		   strcmp(key, "mail_process_size") == 0) {
		new_key = "vsz_limit";
		login = key[0] == 'l';
		value = p_strdup_printf(ctx->pool, "%s M", value);
	} else if (strcmp(key, "login_process_per_connection") == 0) {
		new_key = "service_count";
		login = true;
		value = strcmp(value, "no") == 0 ? "0" : "1";
	}
	if (new_key == NULL)
		return false;
	obsolete(ctx, "%s has been replaced by service { %s }", key, new_key);
	*ret_r = apply_service_set(ctx, login, NULL, new_key, value);
	return true;
}

static bool is_uoff(const char *value, uint64_t *num_r)
{
	uint64_t num = 0;

	if (*value == '\0')
		return false;
	for (; *value != '\0'; value++) {
		if (*value < '0' || *value > '9' || num > UINT64_MAX / 10 - 1)
			return false;
		num = num * 10 + (uint64_t)(*value - '0');
	}
	*num_r = num;
	return true;
}

/* The auth process settings of 2.0 (and auth {} contents). */
static bool handle_auth_keys(struct parse_ctx *ctx, const char *key,
			     const char *value, int *ret_r)
{
	static const char *const keys[] = {
		"auth_executable", "executable", "auth_process_size",
		"vsz_limit", "auth_user", "user", "auth_chroot", "chroot",
	};
	struct config_block *global = ctx->config->blocks[0];
	uint64_t size;

	if (get_state(ctx)->auth_section == 1 &&
	    !str_begins(key, "auth_", NULL))
		key = p_strdup_printf(ctx->pool, "auth_%s", key);
	for (unsigned int i = 0; i < N_ELEMENTS(keys); i += 2) {
		if (strcmp(key, keys[i]) != 0)
			continue;
		obsolete(ctx, "%s has been replaced by service auth { %s }",
			 key, keys[i + 1]);
		if (strcmp(keys[i + 1], "vsz_limit") == 0)
			value = p_strdup_printf(ctx->pool, "%s M", value);
		*ret_r = config_parser_apply_path(ctx, global,
			p_strdup_printf(ctx->pool, "service/auth/%s",
					keys[i + 1]), value);
		return true;
	}
	if (strcmp(key, "auth_cache_size") == 0 && is_uoff(value, &size) &&
	    size > 0 && size < 1024) {
		obsolete(ctx, "auth_cache_size value no longer defaults to "
			 "megabytes. Use %sM", value);
		(void)config_parser_apply_path(ctx, global, key,
			p_strdup_printf(ctx->pool, "%sM", value));
		*ret_r = 0;
		return true;
	}
	if (strcmp(key, "auth_count") == 0) {
		if (strcmp(value, "count") == 0)
			obsolete(ctx, "auth_count has been removed");
		else
			obsolete(ctx, "auth_count has been removed, and its "
				 "value must be 1");
		*ret_r = 0;
		return true;
	}
	return false;
}

/* Dovecot's old_settings_handle_proto(): what moved into services. */
static bool handle_proto(struct parse_ctx *ctx, const char *key,
			 const char *value, int *ret_r)
{
	bool root = filter_is_global(&ctx->section->block->filter);

	if (strcmp(key, "ssl_listen") == 0 ||
	    (strcmp(key, "listen") == 0 &&
	     (listen_has_port(ctx->pool, value) || !root))) {
		*ret_r = handle_listen(ctx, key, value, root);
		return true;
	}
	if (handle_service_keys(ctx, key, value, ret_r))
		return true;
	return handle_auth_keys(ctx, key, value, ret_r);
}

/* ---- renamed and removed settings ---- */

/* protocols: imaps and pop3s are gone, managesieve is sieve now; the
 * list is always re-joined with single spaces. */
static int handle_protocols(struct parse_ctx *ctx, const char *key,
			    const char *value)
{
	bool have_imap = false, have_imaps = false;
	bool have_pop3 = false, have_pop3s = false;
	unsigned int count, n = 0;
	char **protos = split_words(ctx->pool, value, " ", &count);

	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(protos[i], "imap") == 0) {
			have_imap = true;
		} else if (strcmp(protos[i], "imaps") == 0) {
			have_imaps = true;
			continue;
		} else if (strcmp(protos[i], "pop3") == 0) {
			have_pop3 = true;
		} else if (strcmp(protos[i], "pop3s") == 0) {
			have_pop3s = true;
			continue;
		} else if (strcmp(protos[i], "managesieve") == 0) {
			protos[i] = "sieve";
			obsolete(ctx, "protocols=managesieve has been renamed "
				 "to protocols=sieve");
		}
		protos[n++] = protos[i];
	}
	value = join_words(ctx->pool, protos, n);
	if (have_imaps && !have_imap) {
		obsolete(ctx, "'imaps' protocol can no longer be specified "
			 "(use protocols=imap). to disable non-ssl imap, use "
			 "service imap-login { inet_listener imap { "
			 "port=0 } }");
		value = p_strdup_printf(ctx->pool, "%s imap", value);
		(void)config_parser_apply_path(ctx, ctx->section->block,
			"service/imap-login/inet_listener/imap/port", "0");
	} else if (have_imaps) {
		obsolete(ctx, "'imaps' protocol is no longer necessary, "
			 "remove it");
	}
	if (have_pop3s && !have_pop3) {
		obsolete(ctx, "'pop3s' protocol can no longer be specified "
			 "(use protocols=pop3). to disable non-ssl pop3, use "
			 "service pop3-login { inet_listener pop3 { "
			 "port=0 } }");
		value = p_strdup_printf(ctx->pool, "%s pop3", value);
		(void)config_parser_apply_path(ctx, ctx->section->block,
			"service/pop3-login/inet_listener/pop3/port", "0");
	} else if (have_pop3s) {
		obsolete(ctx, "'pop3s' protocol is no longer necessary, "
			 "remove it");
	}
	if (*value == ' ')
		value++;
	return config_parser_apply(ctx, LINE_KEYVALUE, key, value);
}

/* ssl_protocols = !SSLv3 !TLSv1 -> the lowest protocol left enabled. */
static int ssl_protocols_to_min(pool_t pool, const char *ssl_protocols,
				const char **min_r, const char **error_r)
{
	static const char *const versions[] = {
		"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2",
	};
	int state[N_ELEMENTS(versions)] = { 0 };	/* -1 off, 1 on */
	bool explicit_enable = false;
	unsigned int count, min = N_ELEMENTS(versions);
	char **words = split_words(pool, ssl_protocols, ", ", &count);

	for (unsigned int i = 0; i < count; i++) {
		const char *p = words[i];
		bool enable = *p != '!';
		unsigned int v;

		if (!enable)
			p++;
		for (v = 0; v < N_ELEMENTS(versions); v++) {
			if (strcmp(p, versions[v]) == 0)
				break;
		}
		if (v == N_ELEMENTS(versions)) {
			*error_r = p_strdup_printf(pool, "Unrecognized "
						   "protocol '%s'", p);
			return -1;
		}
		state[v] = enable ? 1 : -1;
		explicit_enable = explicit_enable || enable;
	}
	for (unsigned int v = 0; v < N_ELEMENTS(versions) && min > v; v++) {
		if (explicit_enable ? state[v] > 0 : state[v] == 0)
			min = v;
	}
	if (min == N_ELEMENTS(versions)) {
		*error_r = "All protocols disabled";
		return -1;
	}
	*min_r = versions[min];
	return 0;
}

static int handle_ssl_protocols(struct parse_ctx *ctx, const char *key,
				const char *value)
{
	const char *min, *error;

	obsolete(ctx, "%s has been replaced by ssl_min_protocol", key);
	if (ssl_protocols_to_min(ctx->pool, value, &min, &error) < 0) {
		i_error("Could not find a minimum ssl_min_protocol setting "
			"from ssl_protocols = %s: %s", value, error);
		return 0;
	}
	return config_parser_apply(ctx, LINE_KEYVALUE, "ssl_min_protocol", min);
}

/* imap_client_workarounds: two are gone; the list is re-joined. */
static int handle_imap_workarounds(struct parse_ctx *ctx, const char *key,
				   const char *value)
{
	unsigned int count;
	char **args = split_words(ctx->pool, value, " ,", &count);

	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(args[i], "outlook-idle") == 0) {
			args[i] = "";
			obsolete(ctx, "imap_client_workarounds=outlook-idle "
				 "is no longer necessary");
		} else if (strcmp(args[i], "netscape-eoh") == 0) {
			args[i] = "";
			obsolete(ctx, "imap_client_workarounds=netscape-eoh "
				 "is no longer supported");
		}
	}
	return config_parser_apply(ctx, LINE_KEYVALUE, key,
				   join_words(ctx->pool, args, count));
}

static const char *const removed_settings[] = {
	"login_dir", "dbox_rotate_min_size", "dbox_rotate_days",
	"director_consistent_hashing", "mail_log_max_lines_per_sec",
	"maildir_copy_preserve_filename",
};

/* Simple renames, with the value turned around where it must be. */
static bool handle_renames(struct parse_ctx *ctx, const char *key,
			   const char *value, int *ret_r)
{
	const char *suffix;

	if (strcmp(key, "ssl_disable") == 0) {
		if (strcasecmp(value, "yes") == 0)
			value = "no";
		else if (strcasecmp(value, "no") == 0)
			value = "yes";
		*ret_r = set_rename(ctx, key, "ssl", value);
	} else if (strcmp(key, "fsync_disable") == 0) {
		if (strcasecmp(value, "yes") == 0)
			value = "never";
		else if (strcasecmp(value, "no") == 0)
			value = "optimized";
		*ret_r = set_rename(ctx, key, "mail_fsync", value);
	} else if (strcmp(key, "dbox_rotate_size") == 0) {
		*ret_r = set_rename(ctx, key, "mdbox_rotate_size", value);
	} else if (str_begins(key, "mail_cache_compress_", &suffix)) {
		*ret_r = set_rename(ctx, key, p_strdup_printf(ctx->pool,
			"mail_cache_purge_%s", suffix), value);
	} else {
		return false;
	}
	return true;
}

/* Dovecot's old_settings_handle_root(). */
static bool handle_root(struct parse_ctx *ctx, const char *key,
			const char *value, int *ret_r)
{
	*ret_r = 0;
	if (strcmp(key, "protocols") == 0) {
		*ret_r = handle_protocols(ctx, key, value);
		return true;
	}
	if (strcmp(key, "ssl_cert_file") == 0 ||
	    strcmp(key, "ssl_key_file") == 0 ||
	    strcmp(key, "ssl_ca_file") == 0) {
		const char *new_key = p_strndup(ctx->pool, key,
			(size_t)(strrchr(key, '_') - key));

		if (*value == '\0')
			return true;
		obsolete(ctx, "%s has been replaced by %s = <file", key,
			 new_key);
		*ret_r = config_parser_apply(ctx, LINE_KEYFILE, new_key, value);
		return true;
	}
	if (strcmp(key, "ssl_parameters_regenerate") == 0 ||
	    strcmp(key, "ssl_dh_parameters_length") == 0) {
		obsolete(ctx, "%s is no longer needed", key);
		return true;
	}
	if (strcmp(key, "ssl_protocols") == 0) {
		*ret_r = handle_ssl_protocols(ctx, key, value);
		return true;
	}
	if (strcmp(key, "sieve") == 0 || strcmp(key, "sieve_storage") == 0) {
		if (strcmp(key, "sieve_storage") == 0)
			obsolete(ctx, "sieve_storage has been moved into "
				 "plugin { sieve_dir }");
		else
			obsolete(ctx, "%s has been moved into plugin {} "
				 "section", key);
		(void)config_parser_apply_path(ctx, ctx->section->block,
			p_strdup_printf(ctx->pool, "plugin/%s", key), value);
		return true;
	}
	if (handle_renames(ctx, key, value, ret_r))
		return true;
	if (strcmp(key, "imap_client_workarounds") == 0) {
		*ret_r = handle_imap_workarounds(ctx, key, value);
		return true;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(removed_settings); i++) {
		if (strcmp(key, removed_settings[i]) == 0) {
			obsolete(ctx, "%s has been removed", key);
			return true;
		}
	}
	if (get_state(ctx)->auth_section == 1) {
		if (!str_begins(key, "auth_", NULL))
			key = p_strdup_printf(ctx->pool, "auth_%s", key);
		*ret_r = config_parser_apply(ctx, LINE_KEYVALUE, key, value);
		return true;
	}
	return false;
}

/* ---- sections ---- */

/* 2.0's auth NAME { ... }: its settings get an auth_ prefix, its passdb
 * and userdb blocks name the driver. */
static bool handle_auth_section(struct parse_ctx *ctx, const char *key,
				const char *value, int *ret_r)
{
	struct config_obsolete *state = get_state(ctx);

	*ret_r = 0;
	if (state->auth_section == 0 && state->seen_auth_section) {
		obsolete(ctx, "Multiple auth sections are no longer supported");
		return false;
	}
	state->seen_auth_section = true;
	state->auth_section++;
	if ((strcmp(key, "passdb") == 0 || strcmp(key, "userdb") == 0) &&
	    state->auth_section == 2) {
		obsolete(ctx, "%s %s {} has been replaced by %s { driver=%s }",
			 key, value, key, value);
		if ((*ret_r = config_parser_begin_section(ctx, key, "")) == 0)
			*ret_r = config_parser_apply(ctx, LINE_KEYVALUE,
						     "driver", value);
		return true;
	}
	return false;
}

static bool handle_section_begin(struct parse_ctx *ctx,
				 const struct line *line, int *ret_r)
{
	bool top = config_parser_at_top(ctx);

	if (get_state(ctx)->auth_section > 0)
		return handle_auth_section(ctx, line->key, line->value, ret_r);
	if (!top)
		return false;
	if (strcmp(line->key, "auth") == 0) {
		obsolete(ctx, "add auth_ prefix to all settings inside auth {} "
			 "and remove the auth {} section completely");
		get_state(ctx)->auth_section = 1;
		*ret_r = 0;
		return true;
	}
	if (strcmp(line->key, "protocol") == 0 &&
	    strcmp(line->value, "managesieve") == 0) {
		obsolete(ctx, "protocol managesieve {} has been replaced by "
			 "protocol sieve { }");
		*ret_r = config_parser_begin_section(ctx, "protocol", "sieve");
		return true;
	}
	if (strcmp(line->key, "service") == 0 &&
	    strcmp(line->value, "dns_client") == 0) {
		obsolete(ctx, "service dns_client {} has been replaced by "
			 "service dns-client { }");
		*ret_r = config_parser_begin_section(ctx, "service",
						     "dns-client");
		return true;
	}
	return false;
}

bool config_obsolete_handle(struct parse_ctx *ctx, const struct line *line,
			    int *ret_r)
{
	struct config_obsolete *state = ctx->obsolete;

	if ((ctx->flags & CONFIG_PARSE_NO_OBSOLETE) != 0)
		return false;
	switch (line->type) {
	case LINE_KEYVALUE:
		if (!config_parser_at_top(ctx) || line->key[0] == '\0')
			return false;
		if (handle_proto(ctx, line->key, line->value, ret_r))
			return true;
		return handle_root(ctx, line->key, line->value, ret_r);
	case LINE_SECTION_BEGIN:
		return handle_section_begin(ctx, line, ret_r);
	case LINE_SECTION_END:
		if (state != NULL && state->auth_section > 0 &&
		    --state->auth_section == 0) {
			*ret_r = 0;
			return true;
		}
		return false;
	default:
		return false;
	}
}

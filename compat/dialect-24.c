/* dialect-24.c - Dovecot 2.4 dovecot.conf <-> the 2.3 model: the 2.4 file
 * is rewritten into 2.3 text (renamed settings, mail_driver/mail_path ...
 * into mail_location, named passdb/userdb with per-driver settings into
 * driver + args, %{var | filter} into 2.3 variables, boolean-list blocks,
 * named filters like ssl_server { }, plugin settings into plugin { });
 * dialect_export_24() goes the other way from `doveconf -n` output.
 * The rules are those of ../shared/reference/renames-2.3-2.4.tsv. */
#include "lib.h"
#include "str.h"
#include "dialect-private.h"
#include "settings-schema.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#define IS_WHITE(c) ((c) == ' ' || (c) == '\t')

/* Settings `doveconf --as 2.4` could not translate, kept in 2.3 form
 * inside this section (Dovecot 2.4 refuses it: the admin must act). */
#define UNTRANSLATED "roost_untranslated"

/* ---- variables ---- */

struct var_map {
	const char *v24;	/* "var|filter|filter", no spaces */
	const char *v23;
};

/* Used everywhere unless a setting has its own table. */
static const struct var_map vars_generic[] = {
	{ "user", "%u" }, { "user|username", "%n" }, { "user|domain", "%d" },
	{ "user|lower", "%Lu" }, { "user|username|lower", "%Ln" },
	{ "user|domain|lower", "%Ld" }, { "user|upper", "%Uu" },
	{ "home", "%h" }, { "service", "%s" }, { "protocol", "%s" },
	{ "remote_ip", "%r" }, { "local_ip", "%l" }, { "mechanism", "%m" },
	{ "password", "%w" }, { "client_pid", "%p" }, { "secured", "%c" },
	{ "local_port", "%{lport}" }, { "remote_port", "%{rport}" },
	{ "real_remote_ip", "%{real_rip}" }, { "real_local_ip", "%{real_lip}" },
	{ "original_user", "%{orig_user}" },
	{ "original_user|username", "%{orig_username}" },
	{ "original_user|domain", "%{orig_domain}" },
	{ "auth_user|username", "%{auth_username}" },
	{ "auth_user|domain", "%{auth_domain}" },
	{ "owner_user", "%%u" }, { "owner_user|username", "%%n" },
	{ "owner_user|domain", "%%d" }, { "owner_home", "%%h" },
	{ "process:pid", "%{pid}" },
	{ "user|md5|hexlify(1)", "%1Mu" },
	{ "user|md5|substr(0,8)%256|hex(2)", "%2.256Nu" },
	{ "user|md5|substr(0,8)%256|hex", "%256Nu" },
	{ NULL, NULL }
};

static const struct var_map vars_uidl[] = {
	{ "uid|hex(8)", "%08Xu" }, { "uidvalidity|hex(8)", "%08Xv" },
	{ "uid", "%u" }, { "uidvalidity", "%v" }, { "md5", "%m" },
	{ "filename", "%f" }, { "guid", "%g" }, { NULL, NULL }
};

static const struct var_map vars_imap_logout[] = {
	{ "input", "%i" }, { "output", "%o" }, { NULL, NULL }
};

static const struct var_map vars_pop3_logout[] = {
	{ "top_count", "%t" }, { "top_bytes", "%p" }, { "retr_count", "%r" },
	{ "retr_bytes", "%b" }, { "deleted_count", "%d" },
	{ "message_count", "%m" }, { "message_bytes", "%s" },
	{ "input", "%i" }, { "output", "%o" }, { "uidl_change", "%u" },
	{ NULL, NULL }
};

static const struct var_map vars_login_elements[] = {
	{ "user", "%u" }, { "mechanism", "%m" }, { "remote_ip", "%r" },
	{ "local_ip", "%l" }, { "mail_pid", "%e" }, { "secured", "%c" },
	{ NULL, NULL }
};

static const struct var_map vars_login_format[] = {
	{ "message", "%$" }, { "elements", "%s" }, { NULL, NULL }
};

static const struct var_map vars_deliver[] = {
	{ "msgid", "%m" }, { "message", "%$" }, { "subject", "%s" },
	{ "from", "%f" }, { "size", "%p" }, { "vsize", "%w" },
	{ NULL, NULL }
};

static const struct var_map vars_rejection[] = {
	{ "subject", "%s" }, { "to", "%t" }, { "reason", "%r" },
	{ "recipient", "%n" }, { NULL, NULL }
};

static const struct var_map vars_policy[] = {
	{ "remote_ip", "%{rip}" }, { "local_ip", "%{lip}" },
	{ "protocol", "%s" }, { NULL, NULL }
};

static const struct var_map *vars_table(const char *key)
{
	if (key == NULL)
		return NULL;
	if (strcmp(key, "auth_policy_request_attributes") == 0)
		return vars_policy;
	if (strcmp(key, "pop3_uidl_format") == 0)
		return vars_uidl;
	if (strcmp(key, "pop3_logout_format") == 0)
		return vars_pop3_logout;
	if (str_ends(key, "_logout_format"))
		return vars_imap_logout;
	if (strcmp(key, "login_log_format_elements") == 0)
		return vars_login_elements;
	if (strcmp(key, "login_log_format") == 0)
		return vars_login_format;
	if (strcmp(key, "deliver_log_format") == 0)
		return vars_deliver;
	if (strcmp(key, "rejection_reason") == 0 ||
	    strcmp(key, "rejection_subject") == 0)
		return vars_rejection;
	return NULL;
}

static const char *var_lookup_24(const struct var_map *table, const char *v)
{
	for (unsigned int i = 0; table != NULL && table[i].v24 != NULL; i++) {
		if (strcmp(table[i].v24, v) == 0)
			return table[i].v23;
	}
	return NULL;
}

static const char *var_lookup_23(const struct var_map *table, const char *v)
{
	for (unsigned int i = 0; table != NULL && table[i].v24 != NULL; i++) {
		if (strcmp(table[i].v23, v) == 0)
			return table[i].v24;
	}
	return NULL;
}

/* "user | username" with the spaces of the pipeline taken out. */
static void squeeze(string_t *dest, const char *s, size_t len)
{
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'')
			quoted = !quoted;
		if (!quoted && IS_WHITE(s[i]))
			continue;
		str_append_c(dest, s[i]);
	}
}

const char *dialect_vars_24_to_23(pool_t pool, const char *key,
				  const char *value, const char **error_r)
{
	const struct var_map *table = vars_table(key);
	string_t *out = str_new(128), *expr = str_new(64);
	const char *ret = NULL;
	const char *p = value;

	*error_r = NULL;
	while (*p != '\0') {
		const char *end, *v23;
		bool quoted = false;

		if (p[0] != '%') {
			str_append_c(out, *p++);
			continue;
		}
		if (p[1] == '%' && p[2] == '{') {
			/* %%{x}: a literal %{x} */
			str_append(out, "%%{");
			p += 3;
			continue;
		}
		if (p[1] != '{') {
			/* a % before anything else is literal in 2.4; 2.3
			   reads "%%" and unknown letters the same way */
			str_append_c(out, *p++);
			if (*p == '%')
				str_append_c(out, *p++);
			continue;
		}
		for (end = p + 2; *end != '\0'; end++) {
			if (*end == '\'')
				quoted = !quoted;
			else if (*end == '}' && !quoted)
				break;
		}
		if (*end != '}') {
			*error_r = p_strdup_printf(pool, "Unterminated "
						   "variable: %s", p);
			goto out;
		}
		str_clear(expr);
		squeeze(expr, p + 2, (size_t)(end - p - 2));
		v23 = var_lookup_24(table, str_c(expr));
		if (v23 == NULL)
			v23 = var_lookup_24(vars_generic, str_c(expr));
		if (v23 == NULL && strchr(str_c(expr), '|') == NULL) {
			/* a plain %{name}: 2.3 knows it by that name */
			v23 = p_strdup_printf(pool, "%%{%s}", str_c(expr));
		}
		if (v23 == NULL) {
			*error_r = p_strdup_printf(pool, "Variable %.*s has "
				"no Dovecot 2.3 equivalent",
				(int)(end - p + 1), p);
			goto out;
		}
		str_append(out, v23);
		p = end + 1;
	}
	ret = p_strdup(pool, str_c(out));
out:
	str_free(&out);
	str_free(&expr);
	return ret;
}

/* 2.3 "%Lu", "%{rip}", "%08Xu" -> 2.4 "%{user | lower}" ...; what has no
 * table entry is kept as written. */
const char *dialect_vars_23_to_24(pool_t pool, const char *key,
				  const char *value)
{
	const struct var_map *table = vars_table(key);
	static const struct { const char *v23, *v24; } renamed[] = {
		{ "%{rip}", "remote_ip" }, { "%{lip}", "local_ip" },
		{ "%{rport}", "remote_port" }, { "%{lport}", "local_port" },
		{ "%{mech}", "mechanism" }, { "%{user}", "user" },
		{ "%{username}", "user | username" },
		{ "%{domain}", "user | domain" }, { "%{home}", "home" },
		{ "%{service}", "service" }, { "%{pid}", "process:pid" },
	};
	string_t *out = str_new(128);
	const char *ret, *p = value;

	while (*p != '\0') {
		const char *q, *v24 = NULL;
		char tok[64];
		size_t len;

		if (*p != '%') {
			str_append_c(out, *p++);
			continue;
		}
		if (p[1] == '%') {
			/* %%u in shared namespaces: the owner */
			q = p + 2;
			if (*q == 'u' || *q == 'n' || *q == 'd' || *q == 'h') {
				snprintf(tok, sizeof(tok), "%%%%%c", *q);
				v24 = var_lookup_23(vars_generic, tok);
				str_printfa(out, "%%{%s}", v24);
				p += 3;
			} else {
				str_append(out, "%%");
				p += 2;
			}
			continue;
		}
		if (p[1] == '{') {
			q = strchr(p, '}');
			if (q == NULL) {
				str_append(out, p);
				break;
			}
			len = (size_t)(q - p + 1);
			for (unsigned int i = 0; i < N_ELEMENTS(renamed); i++) {
				if (strlen(renamed[i].v23) == len &&
				    strncmp(renamed[i].v23, p, len) == 0)
					v24 = renamed[i].v24;
			}
			if (v24 == NULL && len < sizeof(tok)) {
				snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
				v24 = var_lookup_23(table, tok);
				if (v24 == NULL)
					v24 = var_lookup_23(vars_generic, tok);
			}
			if (v24 != NULL)
				str_printfa(out, "%%{%s}", v24);
			else
				str_append_n(out, p, len);
			p = q + 1;
			continue;
		}
		/* %[modifiers][width]letter */
		q = p + 1;
		while (*q != '\0' && (isdigit((unsigned char)*q) || *q == '.' ||
				      strchr("LUEXRHNMDT", *q) != NULL))
			q++;
		if (*q == '\0') {
			str_append(out, p);
			break;
		}
		len = (size_t)(q - p + 1);
		if (len < sizeof(tok)) {
			snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
			v24 = var_lookup_23(table, tok);
			if (v24 == NULL)
				v24 = var_lookup_23(vars_generic, tok);
		}
		if (v24 != NULL) {
			/* "user|username" -> "user | username" */
			str_append(out, "%{");
			for (const char *c = v24; *c != '\0'; c++) {
				if (*c == '|')
					str_append(out, " | ");
				else
					str_append_c(out, *c);
			}
			str_append_c(out, '}');
		} else {
			str_append_n(out, p, len);
		}
		p = q + 1;
	}
	ret = p_strdup(pool, str_c(out));
	str_free(&out);
	return ret;
}

/* ---- tables ---- */

enum value_map {
	VM_COPY,
	VM_FILE,	/* 2.4 path <-> 2.3 "<path" */
	VM_INVERT,	/* yes <-> no */
	VM_CIPHERS,	/* server/client <-> yes/no */
};

/* Top-level settings renamed between 2.3 and 2.4. */
static const struct {
	const char *k24, *k23;
	enum value_map map;
} renames_root[] = {
	{ "ssl_server_cert_file", "ssl_cert", VM_FILE },
	{ "ssl_server_key_file", "ssl_key", VM_FILE },
	{ "ssl_server_ca_file", "ssl_ca", VM_FILE },
	{ "ssl_server_dh_file", "ssl_dh", VM_FILE },
	{ "ssl_server_alt_cert_file", "ssl_alt_cert", VM_FILE },
	{ "ssl_server_alt_key_file", "ssl_alt_key", VM_FILE },
	{ "ssl_client_cert_file", "ssl_client_cert", VM_FILE },
	{ "ssl_client_key_file", "ssl_client_key", VM_FILE },
	{ "ssl_server_key_password", "ssl_key_password", VM_COPY },
	{ "ssl_server_cert_username_field", "ssl_cert_username_field",
	  VM_COPY },
	{ "ssl_server_request_client_cert", "ssl_verify_client_cert",
	  VM_COPY },
	{ "ssl_server_require_crl", "ssl_require_crl", VM_COPY },
	{ "ssl_server_prefer_ciphers", "ssl_prefer_server_ciphers",
	  VM_CIPHERS },
	{ "auth_allow_cleartext", "disable_plaintext_auth", VM_INVERT },
	{ "auth_default_domain", "auth_default_realm", VM_COPY },
	{ "default_idle_kill_interval", "default_idle_kill", VM_COPY },
	{ "mail_ext_attachment_path", "mail_attachment_dir", VM_COPY },
	{ "mail_ext_attachment_hash", "mail_attachment_hash", VM_COPY },
	{ "mail_ext_attachment_min_size", "mail_attachment_min_size",
	  VM_COPY },
};

/* Plugin settings renamed (2.4 top level <-> 2.3 plugin { }). */
static const struct {
	const char *k24, *k23;
} renames_plugin[] = {
	{ "quota_storage_grace", "quota_grace" },
	{ "quota_mail_size", "quota_max_mail_size" },
	{ "quota_over_status_current", "quota_over_flag" },
	{ "quota_over_status_lazy_check", "quota_over_flag_lazy_check" },
	{ "quota_over_status_mask", "quota_over_flag_value" },
	{ "lazy_expunge_mailbox", "lazy_expunge" },
	{ "sieve_quota_script_count", "sieve_quota_max_scripts" },
	{ "sieve_quota_storage_size", "sieve_quota_max_storage" },
	{ "sieve_user_log_path", "sieve_user_log" },
	{ "sieve_spamtest_score_max_header", "sieve_spamtest_max_header" },
	{ "sieve_spamtest_score_max_value", "sieve_spamtest_max_value" },
	{ "sieve_virustest_score_max_header", "sieve_virustest_max_header" },
	{ "sieve_virustest_score_max_value", "sieve_virustest_max_value" },
	{ "sieve_variables_max_scope_count", "sieve_variables_max_scope_size" },
	{ "sieve_variables_max_value_size",
	  "sieve_variables_max_variable_size" },
	{ "crypt_user_key_curve", "mail_crypt_curve" },
	{ "crypt_acl_require_secure_key_sharing",
	  "mail_crypt_acl_require_secure_key_sharing" },
	{ "crypt_user_key_require_encrypted",
	  "mail_crypt_require_encrypted_user_key" },
	{ "crypt_private_key_password", "mail_crypt_private_password" },
	{ "textcat_config_path", "fts_language_config" },
	{ "fts_search_timeout", "fts_index_timeout" },
	{ "language_filters", "fts_filters" },
	{ "language_tokenizers", "fts_tokenizers" },
	{ "mail_compress_write_method", "zlib_save" },
	{ "mailbox_list_storage_escape_char", "listescape_char" },
	{ "push_notification_driver", "push_notification_backend" },
	{ "acl_driver", "acl" },
	{ "mail_lua_lua_file", "mail_lua_script" },
};

/* 2.3 settings a 2.4 file cannot have (renamed or removed in 2.4). */
static const struct {
	const char *k23, *hint;
} gone_in_24[] = {
	{ "mail_location", "mail_driver, mail_path, mail_inbox_path ..." },
	{ "disable_plaintext_auth", "auth_allow_cleartext" },
	{ "master_user", "acl_user (default %{master_user})" },
	{ "auth_default_realm", "auth_default_domain" },
	{ "ssl_cert", "ssl_server_cert_file" },
	{ "ssl_key", "ssl_server_key_file" },
	{ "ssl_ca", "ssl_server_ca_file" },
	{ "ssl_dh", "ssl_server_dh_file" },
	{ "ssl_alt_cert", "ssl_server_alt_cert_file" },
	{ "ssl_alt_key", "ssl_server_alt_key_file" },
	{ "ssl_key_password", "ssl_server_key_password" },
	{ "ssl_cert_username_field", "ssl_server_cert_username_field" },
	{ "ssl_verify_client_cert", "ssl_server_request_client_cert" },
	{ "ssl_require_crl", "ssl_server_require_crl" },
	{ "ssl_prefer_server_ciphers", "ssl_server_prefer_ciphers" },
	{ "ssl_client_cert", "ssl_client_cert_file" },
	{ "ssl_client_key", "ssl_client_key_file" },
	{ "ssl_protocols", "ssl_min_protocol" },
	{ "verbose_ssl", "log_debug = category=ssl" },
	{ "auth_worker_max_count", "service auth-worker { process_limit }" },
	{ "default_idle_kill", "default_idle_kill_interval" },
	{ "mail_attachment_dir", "mail_ext_attachment_path" },
	{ "mail_attachment_hash", "mail_ext_attachment_hash" },
	{ "mail_attachment_min_size", "mail_ext_attachment_min_size" },
	{ "master_user_separator", "auth_master_user_separator" },
	{ "login_access_sockets", NULL }, { "config_cache_size", NULL },
	{ "dict_db_config", NULL }, { "imap_id_log", NULL },
	{ "auth_stats", NULL }, { "lmtp_address_translate", NULL },
	{ "auth_policy_server_timeout_msecs",
	  "auth_policy { http_client_request_timeout }" },
	{ "doveadm_http_rawlog_dir",
	  "doveadm_server { http_client_rawlog_dir }" },
	{ "stats_http_rawlog_dir", "stats_server { http_client_rawlog_dir }" },
	{ "mail_attachment_fs", "mail_ext_attachment { fs NAME { } }" },
	{ "mail_attribute_dict", "mail_attribute { dict NAME { } }" },
	{ "imapc_ssl_verify", "ssl_client_require_valid_cert" },
};

/* Settings whose 2.4 value is a boolean list (block form allowed). */
static const char *const boollists[] = {
	"mail_plugins", "protocols", "auth_mechanisms", "auth_realms",
	"imap_capability", "mail_cache_fields", "mail_never_cache_fields",
	"mail_always_cache_fields", "imap_client_workarounds",
	"pop3_client_workarounds", "mbox_read_locks", "mbox_write_locks",
	"mail_access_groups", "login_trusted_networks", "listen",
	"mail_log_events", "mail_log_fields", "fts_header_excludes",
	"fts_header_includes", "sieve_extensions", "sieve_global_extensions",
	"sieve_plugins", "special_use",
};

/* Named filters of 2.4 whose settings carry the filter's name as prefix. */
static const char *const named_filters[] = {
	"ssl_server", "ssl_client", "auth_policy", "doveadm_server",
	"stats_server", "dict_server", "last_login", "quota_clone",
	"mail_attribute", "mail_ext_attachment", "oauth2", "mail_lua",
	"quota_over_status", "acl_sharing_map", "fts_decoder_tika",
	"notify_status",
};

/* Services Dovecot 2.4 no longer has. */
static const char *const services_gone_24[] = {
	"ipc", "director", "replicator", "aggregator", "old-stats",
	"ssl-params", "tcpwrap",
};

static bool in_list(const char *s, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(s, list[i]) == 0)
			return true;
	}
	return false;
}

/* Compare "2.4.1" style versions. */
static int version_cmp(const char *a, const char *b)
{
	return dialect_version_cmp(a, b);
}

static bool is_file_setting(const char *k24)
{
	for (unsigned int i = 0; i < N_ELEMENTS(renames_root); i++) {
		if (renames_root[i].map == VM_FILE &&
		    strcmp(k24, renames_root[i].k24) == 0)
			return true;
	}
	return false;
}


/* Apply renames_root to setting n (2.4 name -> 2.3 when to23, else the
 * other way): its key and value. Returns the row's value_map, or -1 when
 * no row names it. */
static int rename_root_apply(struct dnode *n, pool_t pool, bool to23)
{
	for (unsigned int i = 0; i < N_ELEMENTS(renames_root); i++) {
		const char *from = to23 ? renames_root[i].k24 :
			renames_root[i].k23;
		const char *v;
		bool yes;

		if (strcmp(n->key, from) != 0)
			continue;
		v = dnode_value(pool, n);
		yes = strcasecmp(v, "yes") == 0;
		n->key = to23 ? renames_root[i].k23 : renames_root[i].k24;
		switch (renames_root[i].map) {
		case VM_COPY:
			break;
		case VM_FILE:
			n->raw = NULL;
			n->val = v;
			n->is_file = to23 && *v != '\0';
			break;
		case VM_INVERT:
			dnode_set_value(n, yes ? "no" : "yes");
			break;
		case VM_CIPHERS:
			if (to23)
				dnode_set_value(n, strcasecmp(v, "server") == 0
						? "yes" : "no");
			else
				dnode_set_value(n, yes ? "server" : "client");
			break;
		}
		return (int)renames_root[i].map;
	}
	return -1;
}

/* ---- mail location ---- */

/* mail_location parameters and their 2.4 settings. */
static const struct {
	const char *param, *k24;
	bool flag;	/* no value */
} loc_params[] = {
	{ "INBOX", "mail_inbox_path", false },
	{ "INDEX", "mail_index_path", false },
	{ "INDEXPVT", "mail_index_private_path", false },
	{ "INDEXCACHE", "mail_cache_path", false },
	{ "CONTROL", "mail_control_path", false },
	{ "ALT", "mail_alt_path", false },
	{ "LAYOUT", "mailbox_list_layout", false },
	{ "SUBSCRIPTIONS", "mailbox_subscriptions_filename", false },
	{ "DIRNAME", "mailbox_directory_name", false },
	{ "MAILBOXDIR", "mailbox_root_directory_name", false },
	{ "VOLATILEDIR", "mail_volatile_path", false },
	{ "LISTINDEX", "mailbox_list_index_prefix", false },
	{ "BROKENCHAR", "mailbox_list_visible_escape_char", false },
	{ "ALTNOCHECK", "mail_alt_check", true },
	{ "ITERINDEX", "mailbox_list_iter_from_index_dir", true },
	{ "NO-NOSELECT", "mailbox_list_drop_noselect", true },
	{ "NO-FS-VALIDATION", "mailbox_list_validate_fs_names", true },
	{ "UTF-8", "mailbox_list_utf8", true },
};

/* The value of a flag setting that stands for the 2.3 flag. */
static const char *loc_flag_value(const char *k24)
{
	if (strcmp(k24, "mail_alt_check") == 0 ||
	    strcmp(k24, "mailbox_list_validate_fs_names") == 0)
		return "no";
	return "yes";
}

static bool is_loc_key(const char *k)
{
	if (strcmp(k, "mail_driver") == 0 || strcmp(k, "mail_path") == 0 ||
	    strcmp(k, "mailbox_directory_name_legacy") == 0)
		return true;
	for (unsigned int i = 0; i < N_ELEMENTS(loc_params); i++) {
		if (strcmp(k, loc_params[i].k24) == 0)
			return true;
	}
	return false;
}

/* A 2.4 userdb's location fields (mail_driver, mail_path, mail_*_path,
 * mailbox_list_* ...), gathered into the one 2.3 field mail=. */
struct field_loc {
	const char *driver, *path, *noselect;
	string_t *params;
};

static bool field_loc_collect(struct field_loc *fl, const char *k,
			      const char *v)
{
	if (strcmp(k, "mail_driver") == 0) {
		fl->driver = v;
		return true;
	}
	if (strcmp(k, "mail_path") == 0) {
		fl->path = v;
		return true;
	}
	if (strcmp(k, "mailbox_list_drop_noselect") == 0) {
		fl->noselect = v;
		return true;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(loc_params); i++) {
		if (strcmp(k, loc_params[i].k24) != 0)
			continue;
		if (fl->params == NULL)
			fl->params = str_new(64);
		if (!loc_params[i].flag)
			str_printfa(fl->params, ":%s=%s", loc_params[i].param, v);
		else if (strcasecmp(v, loc_flag_value(k)) == 0)
			str_printfa(fl->params, ":%s", loc_params[i].param);
		return true;
	}
	return false;
}

/* " mail=DRIVER:PATH:PARAMS" onto dest; global_noselect: the file's
 * top-level mailbox_list_drop_noselect (2.4's default yes if NULL) */
static bool field_loc_emit(struct field_loc *fl, string_t *dest,
			   const char *global_noselect)
{
	const char *noselect = fl->noselect != NULL ? fl->noselect :
		global_noselect != NULL ? global_noselect : "yes";
	bool ret = fl->path != NULL ||
		(fl->driver == NULL && fl->params == NULL);

	if (fl->path != NULL) {
		str_append(dest, " mail=");
		if (fl->driver != NULL)
			str_printfa(dest, "%s:", fl->driver);
		if (fl->path != NULL)
			str_append(dest, fl->path);
		if (fl->params != NULL)
			str_append_str(dest, fl->params);
		if (fl->driver != NULL && strcasecmp(noselect, "yes") == 0)
			str_append(dest, ":NO-NOSELECT");
	}
	if (fl->params != NULL)
		str_free(&fl->params);
	memset(fl, 0, sizeof(*fl));
	return ret;
}

/* ---- 2.4 -> 2.3 ---- */

enum scope {
	SCOPE_ROOT,
	SCOPE_FILTER,
	SCOPE_NAMESPACE,
	SCOPE_MAILBOX,
	SCOPE_SERVICE,
	SCOPE_LISTENER,
	SCOPE_OTHER,
};

struct t24_ctx {
	struct dtree *tree;
	const char *version;
	struct dnode *version_node;
	/* the top-level SQL/LDAP settings (sql_driver, mysql HOST { },
	   ldap_* ...): they go into the args files of the sql/ldap dbs */
	struct dnode *dbglobals;
	bool sql_used, ldap_used, oauth2_used;
	/* quota NAME { } seen so far; the top-level limits they inherit */
	unsigned int quota_count;
	const char *quota_storage, *quota_messages;
	struct dnode *quota_defaults[2];
};

static bool is_dbglobal(const struct dnode *n)
{
	if (n->section)
		return strcmp(n->key, "mysql") == 0 ||
			strcmp(n->key, "pgsql") == 0 ||
			strcmp(n->key, "oauth2") == 0 ||
			strcmp(n->key, "oauth2_local_validation") == 0 ||
			strcmp(n->key, "cassandra") == 0;
	return strcmp(n->key, "sql_driver") == 0 ||
		str_begins(n->key, "cassandra_", NULL) ||
		str_begins(n->key, "oauth2_", NULL) ||
		str_begins(n->key, "sqlite_", NULL) ||
		str_begins(n->key, "mysql_", NULL) ||
		str_begins(n->key, "pgsql_", NULL) ||
		str_begins(n->key, "ldap_", NULL);
}

static struct dnode *dnode_copy(pool_t pool, const struct dnode *n)
{
	struct dnode *copy = p_new(pool, struct dnode, 1);

	*copy = *n;
	copy->next = NULL;
	copy->children = NULL;
	copy->parent = NULL;
	for (const struct dnode *c = n->children; c != NULL; c = c->next) {
		if (!c->removed)
			dnode_append(copy, dnode_copy(pool, c));
	}
	return copy;
}

/* The nodes under n (n too) stand at at's file and line: a built-in
 * group's settings name the line that applied it. */
static void relocate(struct dnode *n, const struct dnode *at)
{
	n->file = at->file;
	n->line = at->line;
	for (struct dnode *c = n->children; c != NULL; c = c->next)
		relocate(c, at);
}

/* group @label name { } at the top and "@label = name" in a filter:
 * the group's settings copied into the filter, before the filter's own
 * (which win over them). */
static int expand_groups(struct t24_ctx *ctx, struct dnode *scope,
			 struct dnode *const *groups, unsigned int count)
{
	pool_t pool = ctx->tree->pool;

	for (struct dnode *n = scope->children; n != NULL; n = n->next) {
		const char *want;
		struct dnode *group = NULL, **head;

		if (n->removed)
			continue;
		if (n->section) {
			if (expand_groups(ctx, n, groups, count) < 0)
				return -1;
			continue;
		}
		if (n->key[0] != '@')
			continue;
		want = p_strdup_printf(pool, "%s %s", n->key,
				       dnode_value(pool, n));
		for (unsigned int i = 0; i < count; i++) {
			if (strcmp(groups[i]->name, want) == 0)
				group = groups[i];
		}
		if (group == NULL) {
			dialect_error(ctx->tree, n, "%s: no group %s { } "
				      "is defined%s", n->key, want,
				      strcmp(n->key, "@metric_defaults") == 0 ?
				      " (Dovecot 2.4's built-in metric groups "
				      "have no 2.3 form)" :
				      strcmp(n->key, "@mailbox_defaults") == 0 ?
				      " (the built-in one is english)" : "");
			return -1;
		}
		n->removed = true;
		head = &scope->children;
		for (struct dnode *c = group->children; c != NULL;
		     c = c->next) {
			struct dnode *copy;

			if (c->removed)
				continue;
			copy = dnode_copy(pool, c);
			if (group->line == 0 ||
			    str_begins(group->file, "(built-in", NULL))
				relocate(copy, n);
			copy->parent = scope;
			copy->next = *head;
			*head = copy;
			head = &copy->next;
		}
	}
	return 0;
}

/* Dovecot 2.4's built-in group @mailbox_defaults english: the inbox
 * namespace's four special-use mailboxes, auto-subscribed from 2.4.3. */
static struct dnode *builtin_mailbox_defaults(struct t24_ctx *ctx)
{
	static const char *const boxes[][2] = {
		{ "Drafts", "\\Drafts" }, { "Junk", "\\Junk" },
		{ "Sent", "\\Sent" }, { "Trash", "\\Trash" },
	};
	bool subscribe = dialect_version_has(ctx->version, "2.4.3");
	struct dtree tmp;
	string_t *text = str_new(512);
	struct dnode *group;

	str_append(text, "group @mailbox_defaults english {\n"
		   "namespace inbox {\ninbox = yes\n");
	for (unsigned int i = 0; i < N_ELEMENTS(boxes); i++) {
		str_printfa(text, "mailbox %s {\n%sspecial_use = %s\n}\n",
			    boxes[i][0], subscribe ? "auto = subscribe\n" : "",
			    boxes[i][1]);
	}
	str_append(text, "}\n}\n");
	memset(&tmp, 0, sizeof(tmp));
	tmp.pool = ctx->tree->pool;
	tmp.dialect = CONFIG_DIALECT_24;
	if (dtree_read_string(&tmp, "(built-in @mailbox_defaults english)",
			      str_c(text)) < 0)
		i_panic("built-in @mailbox_defaults: %s", tmp.error);
	str_free(&text);
	group = tmp.root->children;
	group->parent = ctx->tree->root;
	group->next = NULL;
	return group;
}


static int collect_groups(struct t24_ctx *ctx)
{
	struct dnode *root = ctx->tree->root;
	struct dnode **groups = NULL;
	unsigned int count = 0;
	bool have_defaults = false;

	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		if (c->removed || !c->section || strcmp(c->key, "group") != 0)
			continue;
		if (c->name == NULL || c->name[0] != '@' ||
		    strchr(c->name, ' ') == NULL) {
			dialect_error(ctx->tree, c, "group { } needs a @label "
				      "and a name: group @label name { }");
			return -1;
		}
		groups = p_realloc(ctx->tree->pool, groups,
				   sizeof(*groups) * count,
				   sizeof(*groups) * (count + 1));
		groups[count++] = c;
		c->removed = true;
		if (strcmp(c->name, "@mailbox_defaults english") == 0)
			have_defaults = true;
	}
	if (!have_defaults) {
		groups = p_realloc(ctx->tree->pool, groups,
				   sizeof(*groups) * count,
				   sizeof(*groups) * (count + 1));
		groups[count++] = builtin_mailbox_defaults(ctx);
	}
	return expand_groups(ctx, root, groups, count);
}

/* Move the top-level SQL/LDAP settings into ctx->dbglobals. */
static void collect_dbglobals(struct t24_ctx *ctx)
{
	struct dnode *root = ctx->tree->root;

	ctx->dbglobals = dnode_new_section(ctx->tree->pool, root, "", NULL);
	for (struct dnode *c = root->children; c != NULL; c = c->next) {
		struct dnode *copy;

		if (c->removed || !is_dbglobal(c))
			continue;
		if (c->section && strcmp(c->key, "oauth2") == 0) {
			/* oauth2 { x } is oauth2_x */
			for (struct dnode *o = c->children; o != NULL;
			     o = o->next) {
				copy = p_new(ctx->tree->pool, struct dnode, 1);
				*copy = *o;
				copy->next = NULL;
				copy->key = p_strdup_printf(ctx->tree->pool,
					"oauth2_%s", dialect_strip_prefix(o->key,
								  "oauth2_"));
				dnode_append(ctx->dbglobals, copy);
			}
			c->removed = true;
			continue;
		}
		copy = p_new(ctx->tree->pool, struct dnode, 1);
		*copy = *c;
		copy->next = NULL;
		dnode_append(ctx->dbglobals, copy);
		c->removed = true;
	}
}

/* The value a boolean-list block starts from: the setting as it stands
 * before the block in this scope or an enclosing one, else its default. */
static const char *boollist_base(struct dnode *scope, struct dnode *before,
				 const char *key, pool_t pool)
{
	const char *value = NULL;
	int idx;

	for (struct dnode *s = scope; s != NULL && value == NULL;
	     s = s->parent) {
		for (struct dnode *c = s->children; c != NULL && c != before;
		     c = c->next) {
			if (!c->removed && !c->section &&
			    strcmp(c->key, key) == 0)
				value = dnode_value(pool, c);
		}
		before = s;
	}
	if (value != NULL)
		return value;
	/* 2.4 enables no protocol by default */
	if (strcmp(key, "protocols") == 0)
		return "";
	idx = setting_info_find(&setting_infos[INFO_ROOT], key);
	return idx < 0 ? "" : setting_infos[INFO_ROOT].defs[idx].default_value;
}

static int boollist_block(struct t24_ctx *ctx, struct dnode *scope,
			  struct dnode *n)
{
	pool_t pool = ctx->tree->pool;
	const char *base = boollist_base(scope, n, n->key, pool);
	string_t *str = str_new(128);
	char **words;
	unsigned int count = 0;
	bool capability = strcmp(n->key, "imap_capability") == 0;
	struct dnode *set;

	words = p_new(pool, char *, strlen(base) / 2 + 2);
	{
		char *copy = p_strdup(pool, base), *save = NULL, *w;

		for (w = strtok_r(copy, " ,", &save); w != NULL;
		     w = strtok_r(NULL, " ,", &save))
			words[count++] = w;
	}
	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		const char *v = dnode_value(pool, c);
		bool yes = strcasecmp(v, "yes") == 0;

		if (c->section || (!yes && strcasecmp(v, "no") != 0)) {
			dialect_error(ctx->tree, c, "%s { }: each entry must "
				      "be NAME = yes|no", n->key);
			str_free(&str);
			return -1;
		}
		for (unsigned int i = 0; i < count; i++) {
			if (words[i] != NULL && strcmp(words[i], c->key) == 0)
				words[i] = NULL;
		}
		if (yes) {
			words = p_realloc(pool, words,
					  sizeof(char *) * (count + 1),
					  sizeof(char *) * (count + 2));
			words[count++] = capability && *base == '\0' ?
				p_strdup_printf(pool, "+%s", c->key) :
				p_strdup(pool, c->key);
		}
	}
	for (unsigned int i = 0; i < count; i++) {
		if (words[i] == NULL)
			continue;
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, words[i]);
	}
	set = dnode_new_setting(pool, n, n->key, str_c(str), false);
	dnode_insert_after(n, set);
	n->removed = true;
	str_free(&str);
	return 0;
}

/* strlist blocks that were strings in 2.3. */
static int strlist_block(struct t24_ctx *ctx, struct dnode *n)
{
	pool_t pool = ctx->tree->pool;
	string_t *str = str_new(128);
	bool id_send = strcmp(n->key, "imap_id_send") == 0;

	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		const char *v = dnode_value(pool, c);

		if (c->section) {
			dialect_error(ctx->tree, c, "Unexpected section "
				      "inside %s { }", n->key);
			str_free(&str);
			return -1;
		}
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		if (id_send && strchr(v, ' ') != NULL)
			str_printfa(str, "%s \"%s\"", c->key, v);
		else if (id_send)
			str_printfa(str, "%s %s", c->key, v);
		else
			str_printfa(str, "%s=%s", c->key, v);
	}
	dnode_insert_after(n, dnode_new_setting(pool, n, n->key, str_c(str),
						false));
	n->removed = true;
	str_free(&str);
	return 0;
}

/* A value of a 2.4 setting written the 2.3 way: variables and $SET:. */
static int convert_value(struct t24_ctx *ctx, struct dnode *n,
			 const char *key)
{
	pool_t pool = ctx->tree->pool;
	const char *v = dnode_value(pool, n), *nv, *error;
	bool was_file = n->raw != NULL && n->raw[0] == '<';

	nv = dialect_vars_24_to_23(pool, key, v, &error);
	if (nv == NULL) {
		dialect_error(ctx->tree, n, "%s: %s", n->key, error);
		return -1;
	}
	if (strstr(nv, "$SET:") != NULL) {
		string_t *s = str_new(64);

		for (const char *p = nv; *p != '\0'; p++) {
			if (str_begins(p, "$SET:", NULL)) {
				str_append_c(s, '$');
				p += 4;
			} else {
				str_append_c(s, *p);
			}
		}
		nv = p_strdup(pool, str_c(s));
		str_free(&s);
		n->raw = NULL;
		n->val = nv;
		n->is_file = was_file;
		n->expand = true;
		return 0;
	}
	if (n->raw != NULL && strcmp(nv, v) == 0 &&
	    strchr(n->raw, '$') == NULL)
		return 0;
	n->raw = NULL;
	n->val = nv;
	n->is_file = was_file;
	return 0;
}

struct location {
	const char *driver, *path;
	const char *params[N_ELEMENTS(loc_params)];
	unsigned int order[N_ELEMENTS(loc_params)], seq;
	bool legacy_set, legacy;
	struct dnode *first;
};

static void loc_collect(struct t24_ctx *ctx, struct location *loc,
			struct dnode *n)
{
	pool_t pool = ctx->tree->pool;
	const char *v = dnode_value(pool, n);

	if (loc->first == NULL)
		loc->first = n;
	n->removed = true;
	if (strcmp(n->key, "mail_driver") == 0) {
		loc->driver = v;
		return;
	}
	if (strcmp(n->key, "mail_path") == 0) {
		loc->path = v;
		return;
	}
	if (strcmp(n->key, "mailbox_directory_name_legacy") == 0) {
		loc->legacy_set = true;
		loc->legacy = strcasecmp(v, "yes") == 0;
		return;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(loc_params); i++) {
		if (strcmp(n->key, loc_params[i].k24) == 0) {
			loc->params[i] = v;
			loc->order[i] = ++loc->seq;
		}
	}
}

static int loc_emit(struct t24_ctx *ctx, struct location *loc,
		    const char *key)
{
	pool_t pool = ctx->tree->pool;
	string_t *str;
	struct dnode *set;
	const char *error, *v;

	if (loc->first == NULL)
		return 0;
	str = str_new(128);
	if (loc->driver != NULL)
		str_printfa(str, "%s:", loc->driver);
	else if (loc->path != NULL)
		str_append(str, "auto:");
	if (loc->path != NULL)
		str_append(str, loc->path);
	for (unsigned int j = 0; j < N_ELEMENTS(loc_params); j++) {
		/* in the order the file has them, the rest after */
		unsigned int i = j, best = UINT_MAX;

		for (unsigned int k = 0; k < N_ELEMENTS(loc_params); k++) {
			unsigned int o = loc->order[k] == 0 ?
				1000 + k : loc->order[k];
			unsigned int rank = 0;

			for (unsigned int m = 0; m < N_ELEMENTS(loc_params);
			     m++) {
				unsigned int om = loc->order[m] == 0 ?
					1000 + m : loc->order[m];
				if (om < o)
					rank++;
			}
			if (rank == j && o < best) {
				best = o;
				i = k;
			}
		}
		const char *pv = loc->params[i];
		bool drop_noselect = strcmp(loc_params[i].param,
					    "NO-NOSELECT") == 0;

		if (drop_noselect && pv == NULL && loc->driver != NULL)
			pv = "yes";	/* the 2.4 default */
		if (pv == NULL)
			continue;
		if (loc_params[i].flag) {
			if (strcasecmp(pv, loc_flag_value(loc_params[i].k24))
			    == 0)
				str_printfa(str, ":%s", loc_params[i].param);
			continue;
		}
		if (strcmp(loc_params[i].param, "DIRNAME") == 0 &&
		    loc->legacy_set && !loc->legacy) {
			str_printfa(str, ":FULLDIRNAME=%s", pv);
			continue;
		}
		str_printfa(str, ":%s=%s", loc_params[i].param, pv);
	}
	v = dialect_vars_24_to_23(pool, "mail_location", str_c(str), &error);
	str_free(&str);
	if (v == NULL) {
		dialect_error(ctx->tree, loc->first, "%s", error);
		return -1;
	}
	set = dnode_new_setting(pool, loc->first, key, v, false);
	dnode_insert_after(loc->first, set);
	return 0;
}

static int t24_block(struct t24_ctx *ctx, struct dnode *scope,
		     enum scope kind);

/* passdb/userdb settings with the same name in 2.3 and 2.4. */
static const char *const authdb_keys[] = {
	"skip", "result_success", "result_failure", "result_internalfail",
	"deny", "master", "pass", "username_filter", "auth_verbose",
	"mechanisms", "override_fields", "default_fields",
};

/* passdb NAME { } / userdb NAME { } -> 2.3 driver + args. */
/* The file's top-level mailbox_list_drop_noselect, NULL if unset. */
static const char *root_noselect(struct dtree *tree)
{
	const char *v = NULL;

	for (struct dnode *c = tree->root->children; c != NULL; c = c->next) {
		if (!c->section &&
		    strcmp(c->key, "mailbox_list_drop_noselect") == 0)
			v = dnode_value(tree->pool, c);
	}
	return v;
}

static int t24_authdb(struct t24_ctx *ctx, struct dnode *db)
{
	pool_t pool = ctx->tree->pool;
	bool passdb = strcmp(db->key, "passdb") == 0;
	const char *prefix = passdb ? "passdb_" : "userdb_";
	struct dnode *drv = dnode_child(db, "driver"), *first;
	const char *driver, *name = db->name;
	string_t *args = str_new(64), *over = str_new(64), *def = str_new(64);
	const char *a_session = NULL, *a_setcred = NULL, *a_fail = NULL;
	const char *a_max = NULL, *a_service = NULL, *a_path = NULL;
	const char *a_scheme = NULL, *a_ufmt = NULL, *a_password = NULL;
	const char *a_all = NULL, *a_args = NULL, *a_dbfile = NULL;
	const char *a_lua = NULL;
	string_t *lua_args = str_new(64);
	bool is_static;
	int ret = -1;

	if (name == NULL) {
		dialect_error(ctx->tree, db, "%s { } is missing section name",
			      db->key);
		goto out;
	}
	driver = drv != NULL ? dnode_value(pool, drv) : name;
	if (drv != NULL)
		drv->removed = true;
	is_static = strcmp(driver, "static") == 0;
	if ((strcmp(driver, "sql") == 0 || strcmp(driver, "ldap") == 0 ||
	     strcmp(driver, "oauth2") == 0) && dnode_child(db, "args") == NULL) {
		if (dialect_dbfile_translate(ctx->tree, ctx->dbglobals, db,
					     driver, name, &a_dbfile) < 0)
			goto out;
		if (driver[0] == 's')
			ctx->sql_used = true;
		else if (driver[0] == 'l')
			ctx->ldap_used = true;
		else
			ctx->oauth2_used = true;
	}
	for (struct dnode *c = db->children; c != NULL; c = c->next) {
		const char *k = c->key, *v, *rest;

		if (c->removed)
			continue;
		if (str_begins(k, prefix, &rest))
			k = rest;
		if (c->section && strcmp(k, "lua_settings") == 0 &&
		    strcmp(driver, "lua") == 0) {
			/* passdb lua { lua_settings { k = v } }: args k=v */
			for (struct dnode *f = c->children; f != NULL;
			     f = f->next) {
				if (f->section)
					continue;
				str_printfa(lua_args, " %s=%s", f->key,
					    dnode_value(pool, f));
			}
			c->removed = true;
			continue;
		}
		if (c->section) {
			if (strcmp(k, "fields") != 0) {
				dialect_error(ctx->tree, c, "Unknown section "
					      "in %s %s { }: %s", db->key,
					      name, c->key);
				goto out;
			}
			struct field_loc loc_over, loc_def;

			memset(&loc_over, 0, sizeof(loc_over));
			memset(&loc_def, 0, sizeof(loc_def));
			for (struct dnode *f = c->children; f != NULL;
			     f = f->next) {
				const char *fk = f->key, *fv;
				string_t *dest = over;

				if (convert_value(ctx, f, "fields") < 0)
					goto out;
				fv = dnode_value(pool, f);
				if (str_ends(fk, ":default")) {
					fk = p_strndup(pool, fk,
						       strlen(fk) - 8);
					dest = def;
				}
				if (!passdb && field_loc_collect(
				    dest == def ? &loc_def : &loc_over, fk, fv))
					continue;
				if (is_static && dest == over)
					dest = args;
				str_printfa(dest, " %s=%s", fk, fv);
			}
			if (!field_loc_emit(&loc_over, is_static ? args : over,
					    root_noselect(ctx->tree)) ||
			    !field_loc_emit(&loc_def, def,
					    root_noselect(ctx->tree))) {
				dialect_error(ctx->tree, c, "%s %s { fields }: "
					"mail_driver or mail_* paths without "
					"mail_path have no Dovecot 2.3 form (a "
					"2.3 userdb returns the whole location "
					"as mail=)", db->key, name);
				goto out;
			}
			c->removed = true;
			continue;
		}
		if (convert_value(ctx, c, k) < 0)
			goto out;
		v = dnode_value(pool, c);
		c->removed = true;
		if (strcmp(k, "pam_session") == 0 || strcmp(k, "session") == 0)
			a_session = v;
		else if (strcmp(k, "pam_setcred") == 0 ||
			 strcmp(k, "setcred") == 0)
			a_setcred = v;
		else if (strcmp(k, "pam_failure_show_msg") == 0 ||
			 strcmp(k, "failure_show_msg") == 0)
			a_fail = v;
		else if (strcmp(k, "pam_max_requests") == 0 ||
			 strcmp(k, "max_requests") == 0)
			a_max = v;
		else if (strcmp(k, "pam_service_name") == 0 ||
			 strcmp(k, "service_name") == 0)
			a_service = strcmp(v, "%s") == 0 ? "*" : v;
		else if (strcmp(k, "passwd_file_path") == 0)
			a_path = v;
		else if (strcmp(k, "default_password_scheme") == 0)
			a_scheme = v;
		else if (strcmp(k, "auth_username_format") == 0)
			a_ufmt = v;
		else if (strcmp(k, "static_password") == 0 ||
			 strcmp(k, "password") == 0)
			a_password = v;
		else if (strcmp(k, "static_allow_all_users") == 0 ||
			 strcmp(k, "allow_all_users") == 0)
			a_all = v;
		else if (strcmp(k, "args") == 0)
			a_args = v;
		else if (strcmp(k, "lua_file") == 0 &&
			 strcmp(driver, "lua") == 0)
			a_lua = v;
		else if (strcmp(k, "mechanisms_filter") == 0) {
			c->key = "mechanisms";
			c->removed = false;
		} else if (strcmp(k, "use_worker") == 0 ||
			 strcmp(k, "use_cache") == 0 ||
			 strcmp(k, "fields_import_all") == 0) {
			dialect_warning(c, "%s %s { %s }: no 2.3 equivalent, "
					"ignored", db->key, name, k);
		} else if (in_list(k, authdb_keys, N_ELEMENTS(authdb_keys))) {
			c->key = k;
			c->removed = false;
		} else {
			dialect_error(ctx->tree, c, "Unknown setting in %s "
				      "%s { }: %s", db->key, name, c->key);
			goto out;
		}
	}
	if (a_session != NULL && strcasecmp(a_session, "yes") == 0)
		str_append(args, " session=yes");
	if (a_setcred != NULL && strcasecmp(a_setcred, "yes") == 0)
		str_append(args, " setcred=yes");
	if (a_fail != NULL && strcasecmp(a_fail, "yes") == 0)
		str_append(args, " failure_show_msg=yes");
	if (a_max != NULL)
		str_printfa(args, " max_requests=%s", a_max);
	if (a_scheme == NULL && passdb && strcmp(driver, "passwd-file") == 0)
		a_scheme = dialect_default_password_scheme();
	if (a_scheme != NULL && passdb &&
	    strcmp(driver, "passwd-file") == 0 &&
	    strcasecmp(a_scheme, "CRYPT") == 0) {
		/* 2.3's passwd-file default */
		a_scheme = NULL;
	}
	if (a_scheme != NULL)
		str_printfa(args, " scheme=%s", a_scheme);
	if (a_ufmt != NULL)
		str_printfa(args, " username_format=%s", a_ufmt);
	if (a_password != NULL)
		str_printfa(args, " password=%s", a_password);
	if (a_all != NULL && strcasecmp(a_all, "yes") == 0)
		str_append(args, " allow_all_users=yes");
	if (a_service != NULL)
		str_printfa(args, " %s", a_service);
	if (a_path != NULL)
		str_printfa(args, " %s", a_path);
	if (a_dbfile != NULL)
		str_printfa(args, " %s", a_dbfile);
	if (a_lua != NULL)
		str_printfa(args, " file=%s", a_lua);
	str_append_str(args, lua_args);
	if (a_args != NULL) {
		dialect_warning(db, "%s %s { args }: not a Dovecot 2.4 "
				"setting, read as in 2.3", db->key, name);
		str_printfa(args, " %s", a_args);
	}
	/* the 2.3 block: unnamed when the name was only the driver */
	first = dnode_new_setting(pool, db, "driver", driver, false);
	first->next = db->children;
	db->children = first;
	first->parent = db;
	{
		const char *rest;

		if ((strcmp(name, driver) == 0 && drv == NULL) ||
		    (str_begins(name, driver, &rest) && rest[0] == '_' &&
		     rest[1] != '\0' && strspn(rest + 1, "0123456789") ==
		     strlen(rest + 1)))
			db->name = NULL;
	}
	if (str_len(args) > 0) {
		struct dnode *a = dnode_new_setting(pool, db, "args",
						    str_c(args) + 1, false);
		dnode_insert_after(first, a);
	}
	if (str_len(def) > 0)
		dnode_append(db, dnode_new_setting(pool, db, "default_fields",
						   str_c(def) + 1, false));
	if (str_len(over) > 0)
		dnode_append(db, dnode_new_setting(pool, db,
						   "override_fields",
						   str_c(over) + 1, false));
	ret = 0;
out:
	str_free(&args);
	str_free(&over);
	str_free(&def);
	str_free(&lua_args);
	return ret;
}

/* 2.4 shared namespace prefix variables and their 2.3 spelling. */
static const char *const prefix_vars[][2] = {
	{ "$username", "%%n" }, { "$user", "%%u" }, { "$domain", "%%d" },
};

/* Replace each prefix_vars[i][from] by [i][to] in value. */
static const char *replace_words(pool_t pool, const char *value,
				 const char *const table[][2],
				 unsigned int from, unsigned int to)
{
	string_t *str = str_new(64);
	const char *ret;

	for (const char *p = value; *p != '\0';) {
		bool hit = false;

		for (unsigned int i = 0; i < N_ELEMENTS(prefix_vars); i++) {
			size_t len = strlen(table[i][from]);

			if (strncmp(p, table[i][from], len) == 0) {
				str_append(str, table[i][to]);
				p += len;
				hit = true;
				break;
			}
		}
		if (!hit)
			str_append_c(str, *p++);
	}
	ret = p_strdup(pool, str_c(str));
	str_free(&str);
	return ret;
}


/* A setting inside service/listener/namespace/mailbox. */
static int t24_inner_setting(struct t24_ctx *ctx, struct dnode *n,
			     enum scope kind, const char *section)
{
	pool_t pool = ctx->tree->pool;
	const char *v;

	if (kind != SCOPE_SERVICE || (strcmp(n->key, "service_count") != 0 &&
				      strcmp(n->key, "service_idle_kill") != 0))
		n->key = dialect_strip_prefix(n->key,
				      p_strdup_printf(pool, "%s_", section));
	if (kind == SCOPE_SERVICE) {
		if (strcmp(n->key, "restart_request_count") == 0) {
			v = dnode_value(pool, n);
			n->key = "service_count";
			dnode_set_value(n, strcmp(v, "unlimited") == 0 ?
					"0" : v);
		} else if (strcmp(n->key, "idle_kill_interval") == 0) {
			n->key = "idle_kill";
		} else if (strcmp(n->key, "service_count") == 0 ||
			   strcmp(n->key, "idle_kill") == 0) {
			dialect_error(ctx->tree, n, "Unknown setting: %s "
				      "(Dovecot 2.3 name; 2.4 has %s)", n->key,
				      n->key[0] == 's' ?
				      "restart_request_count" :
				      "idle_kill_interval");
			return -1;
		}
	} else if (kind == SCOPE_LISTENER) {
		if (strcmp(n->key, "listen") == 0) {
			n->key = "address";
		} else if (strcmp(n->key, "address") == 0) {
			dialect_error(ctx->tree, n, "Unknown setting: address "
				      "(Dovecot 2.3 name; 2.4 has listen)");
			return -1;
		}
	} else if (kind == SCOPE_NAMESPACE && strcmp(n->key, "prefix") == 0) {
		/* shared namespaces: $user -> %%u ... */
		v = dnode_value(pool, n);
		if (strchr(v, '$') != NULL) {
			dnode_set_value(n, replace_words(pool, v,
						       prefix_vars, 0, 1));
			return 0;
		}
	} else if (kind == SCOPE_NAMESPACE && strcmp(n->key, "location") == 0) {
		dialect_error(ctx->tree, n, "Unknown setting: location "
			      "(Dovecot 2.3 name; 2.4 has mail_driver, "
			      "mail_path ...)");
		return -1;
	}
	if (in_list(n->key, boollists, N_ELEMENTS(boollists)) &&
	    strcmp(n->key, "listen") != 0 &&
	    strcmp(n->key, "login_trusted_networks") != 0) {
		v = dnode_value(pool, n);
		if (strchr(v, ',') != NULL) {
			/* "a, b" -> "a b" */
			string_t *str = str_new(64);
			char *c = p_strdup(pool, v), *save = NULL, *w;

			for (w = strtok_r(c, ", ", &save); w != NULL;
			     w = strtok_r(NULL, ", ", &save)) {
				if (str_len(str) > 0)
					str_append_c(str, ' ');
				str_append(str, w);
			}
			dnode_set_value(n, p_strdup(pool, str_c(str)));
			str_free(&str);
		}
	}
	return convert_value(ctx, n, n->key);
}

/* A top-level (or filter-level) setting of a 2.4 file. */
static int t24_root_setting(struct t24_ctx *ctx, struct dnode *scope,
			    struct dnode *n, struct location *loc)
{
	pool_t pool = ctx->tree->pool;
	const char *k = n->key;
	int map;

	if (strcmp(k, "dovecot_config_version") == 0) {
		if (n != ctx->version_node) {
			dialect_error(ctx->tree, n, "dovecot_config_version "
				      "must be the first setting of the file");
			return -1;
		}
		n->removed = true;
		return 0;
	}
	if (strcmp(k, "dovecot_storage_version") == 0) {
		n->removed = true;
		return 0;
	}
	/* versioned defaults and limits (dialect-defaults.c) */
	map = dialect_defaults_setting_24(ctx->tree, n);
	if (map != 0)
		return map < 0 ? -1 : 0;
	if (n->raw != NULL && n->raw[0] == '<' && is_file_setting(k)) {
		dialect_error(ctx->tree, n, "%s = <file: Dovecot 2.4 file "
			      "settings take a plain path (the 2.3 '<' would "
			      "read the file and use its contents as the path)",
			      k);
		return -1;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(gone_in_24); i++) {
		if (strcmp(k, gone_in_24[i].k23) != 0)
			continue;
		if (gone_in_24[i].hint != NULL) {
			dialect_error(ctx->tree, n, "Unknown setting: %s "
				      "(Dovecot 2.3 name; 2.4 has %s)", k,
				      gone_in_24[i].hint);
		} else {
			dialect_error(ctx->tree, n, "Unknown setting: %s "
				      "(removed in Dovecot 2.4)", k);
		}
		return -1;
	}
	if (str_begins(k, "director_", NULL) ||
	    str_begins(k, "replication_", NULL) ||
	    str_begins(k, "replicator_", NULL) ||
	    str_begins(k, "old_stats_", NULL)) {
		dialect_error(ctx->tree, n, "Unknown setting: %s (removed in "
			      "Dovecot 2.4)", k);
		return -1;
	}
	if (is_loc_key(k)) {
		loc_collect(ctx, loc, n);
		return 0;
	}
	map = rename_root_apply(n, pool, true);
	if (map >= 0 && map != VM_COPY)
		return 0;
	if (in_list(n->key, boollists, N_ELEMENTS(boollists)))
		(void)t24_inner_setting(ctx, n, SCOPE_ROOT, "");
	else if (convert_value(ctx, n, n->key) < 0)
		return -1;
	if (dialect_root_type(n->key) < 0) {
		/* what 2.3 keeps in plugin { } */
		struct dnode *plugin = dialect_scope_plugin(ctx->tree->pool, scope, n);
		struct dnode *set;

		for (unsigned int i = 0; i < N_ELEMENTS(renames_plugin); i++) {
			if (strcmp(n->key, renames_plugin[i].k24) == 0)
				n->key = renames_plugin[i].k23;
		}
		if (strcmp(n->key, "imap_acl_allow_anyone") == 0) {
			/* yes/no in 2.4, allow/forbid in 2.3 */
			n->key = "acl_anyone";
			dnode_set_value(n, strcasecmp(dnode_value(pool, n),
				"yes") == 0 ? "allow" : "forbid");
		}
		if (strcmp(n->key, "crypt_global_public_key_file") == 0) {
			/* a path in 2.4, the key itself (<file) in 2.3 */
			n->key = "mail_crypt_global_public_key";
			n->is_file = true;
		}
		set = dnode_new_setting(pool, n, n->key, dnode_value(pool, n),
					n->is_file || (n->raw != NULL &&
						       n->raw[0] == '<'));
		set->expand = n->expand;
		dnode_append(plugin, set);
		n->removed = true;
	}
	return 0;
}

/* One fs NAME { } of mail_ext_attachment { }: appended to *set_r, the
 * mail_attachment_fs setting (created after "after" the first time). */
static int t24_fs_chain(struct t24_ctx *ctx, struct dnode *filter,
			struct dnode *fs, struct dnode *after,
			struct dnode **set_r)
{
	pool_t pool = ctx->tree->pool;
	struct dnode *set = *set_r;

	if (fs->name == NULL) {
		dialect_error(ctx->tree, fs, "fs { } is missing section name");
		return -1;
	}
	if (set == NULL) {
		set = dnode_new_setting(pool, fs, "mail_attachment_fs",
					fs->name, false);
		set->done = true;
		dnode_insert_after(after, set);
		*set_r = set;
	}
	/* the fs settings 2.3 URIs can carry: dialect-acl.c */
	return dialect_fs_24_append(ctx->tree, filter, fs, set);
}

static int t24_section(struct t24_ctx *ctx, struct dnode *scope,
		       struct dnode *n, enum scope kind)
{
	pool_t pool = ctx->tree->pool;
	const char *k = n->key;

	if (kind == SCOPE_ROOT || kind == SCOPE_FILTER) {
		int ret = dialect_plugins_24_section(ctx->tree, scope, n);

		if (ret != 0)
			return ret < 0 ? -1 : 0;
	}
	if (in_list(k, boollists, N_ELEMENTS(boollists)))
		return boollist_block(ctx, scope, n);
	if (strcmp(k, "import_environment") == 0 ||
	    strcmp(k, "imap_id_send") == 0 ||
	    strcmp(k, "auth_policy_request_attributes") == 0)
		return strlist_block(ctx, n);
	if (kind == SCOPE_ROOT || kind == SCOPE_FILTER) {
		if (strcmp(k, "protocol") == 0 || strcmp(k, "local") == 0 ||
		    strcmp(k, "remote") == 0 || strcmp(k, "local_name") == 0)
			return t24_block(ctx, n, SCOPE_FILTER);
		if (strcmp(k, UNTRANSLATED) == 0) {
			/* written by doveconf --as 2.4: 2.3 text as is */
			struct dnode *c = n->children, *next, *after = n;

			dialect_warning(n, "%s { }: read as Dovecot 2.3 "
					"settings", UNTRANSLATED);
			for (; c != NULL; c = next) {
				next = c->next;
				c->done = true;
				dnode_insert_after(after, c);
				after = c;
			}
			n->children = NULL;
			n->removed = true;
			return 0;
		}
		if (strcmp(k, "plugin") == 0) {
			dialect_error(ctx->tree, n, "Unknown section name: "
				      "plugin (Dovecot 2.4 has no plugin { }: "
				      "write its settings at the top level)");
			return -1;
		}
		if (in_list(k, named_filters, N_ELEMENTS(named_filters))) {
			/* ssl_server { cert_file } = ssl_server_cert_file */
			struct dnode *c = n->children, *next, *after = n;
			const char *prefix = p_strdup_printf(pool, "%s_", k);
			const char *dict23 = dialect_dict_user_23(k);
			struct dnode *fs_set = NULL;

			for (; c != NULL; c = next) {
				next = c->next;
				if (c->section && strcmp(c->key, "fs") == 0 &&
				    strcmp(k, "mail_ext_attachment") == 0) {
					/* fs sis { } fs posix { } ->
					   mail_attachment_fs = sis posix */
					if (t24_fs_chain(ctx, n, c, after,
							 &fs_set) < 0)
						return -1;
					continue;
				}
				if (c->section && strcmp(c->key, "dict") == 0 &&
				    (dict23 != NULL ||
				     strcmp(k, "dict_server") == 0)) {
					/* mail_attribute { dict file { } } */
					const char *uri = dialect_dict_24_to_uri(
						ctx->tree, c), *error;

					if (uri == NULL)
						return -1;
					uri = dialect_vars_24_to_23(pool, "",
						uri, &error);
					if (uri == NULL) {
						dialect_error(ctx->tree, c,
							"%s", error);
						return -1;
					}
					if (dict23 != NULL &&
					    dialect_root_type(dict23) < 0) {
						/* quota_clone_dict ... */
						dnode_append(dialect_scope_plugin(
							pool, scope, c),
							dnode_new_setting(pool,
							c, dict23, uri,
							false));
						continue;
					} else if (dict23 != NULL) {
						c = dnode_new_setting(pool, c,
							dict23, uri, false);
						c->done = true;
					} else if (c->name == NULL) {
						dialect_error(ctx->tree, c,
							"dict { } is missing "
							"section name");
						return -1;
					} else {
						/* dict_server: 2.3 dict { } */
						struct dnode *d =
							dnode_new_section(pool,
							c, "dict", NULL);

						dnode_append(d,
							dnode_new_setting(pool,
							c, c->name, uri,
							false));
						d->done = true;
						c = d;
					}
				} else if (!c->section &&
					   !str_begins(c->key, prefix, NULL))
					c->key = p_strdup_printf(pool, "%s%s",
								 prefix,
								 c->key);
				dnode_insert_after(after, c);
				after = c;
			}
			n->children = NULL;
			n->removed = true;
			return 0;	/* the moved nodes come next */
		}
		if (strcmp(k, "quota") == 0) {
			n->removed = true;
			return dialect_quota_24_to_23(ctx->tree, n,
				++ctx->quota_count, ctx->quota_storage,
				ctx->quota_messages,
				dialect_scope_plugin(ctx->tree->pool, scope, n));
		}
		if (strcmp(k, "sieve_script") == 0) {
			n->removed = true;
			return dialect_sieve_24_to_23(ctx->tree, n,
				dialect_scope_plugin(ctx->tree->pool, scope, n));
		}
		if (strcmp(k, "crypt_global_private_key") == 0) {
			n->removed = true;
			return dialect_crypt_key_24_to_23(ctx->tree, n,
				dialect_scope_plugin(ctx->tree->pool, scope, n));
		}
		if (strcmp(k, "fts") == 0) {
			n->removed = true;
			return dialect_fts_24_to_23(ctx->tree, n,
				dialect_scope_plugin(ctx->tree->pool, scope, n));
		}
		if (strcmp(k, "language") == 0) {
			n->removed = true;
			return dialect_language_24_to_23(ctx->tree, n,
				dialect_scope_plugin(ctx->tree->pool, scope, n));
		}
		if (strcmp(k, "service") == 0 && n->name != NULL &&
		    in_list(n->name, services_gone_24,
			    N_ELEMENTS(services_gone_24))) {
			dialect_error(ctx->tree, n, "Unknown section: service "
				      "%s { } (removed in Dovecot 2.4)",
				      n->name);
			return -1;
		}
		if (strcmp(k, "service") == 0)
			return t24_block(ctx, n, SCOPE_SERVICE);
		if (strcmp(k, "namespace") == 0)
			return t24_block(ctx, n, SCOPE_NAMESPACE);
		if (strcmp(k, "passdb") == 0 || strcmp(k, "userdb") == 0)
			return t24_authdb(ctx, n);
		if (strcmp(k, "dict") == 0 && n->name == NULL)
			return 0;	/* the 2.3 dict { } (Roost) */
		if (strcmp(k, "metric") == 0 ||
		    strcmp(k, "event_exporter") == 0)
			return t24_block(ctx, n, SCOPE_OTHER);
	}
	if (kind == SCOPE_SERVICE && (strcmp(k, "inet_listener") == 0 ||
				      strcmp(k, "unix_listener") == 0 ||
				      strcmp(k, "fifo_listener") == 0))
		return t24_block(ctx, n, SCOPE_LISTENER);
	if (kind == SCOPE_NAMESPACE && strcmp(k, "mailbox") == 0)
		return t24_block(ctx, n, SCOPE_MAILBOX);
	if (kind == SCOPE_OTHER)
		return t24_block(ctx, n, SCOPE_OTHER);
	if (strcmp(k, "fs") == 0 ||
	    strcmp(k, "mysql") == 0 || strcmp(k, "pgsql") == 0 ||
	    strcmp(k, "dict") == 0 || strcmp(k, "quota") == 0 ||
	    strcmp(k, "acl") == 0) {
		dialect_error(ctx->tree, n, "Dovecot 2.4 section %s %s { } is "
			      "not translated to the 2.3 model yet",
			      k, n->name == NULL ? "" : n->name);
		return -1;
	}
	if (kind == SCOPE_ROOT && strcmp(k, "mailbox") == 0) {
		dialect_error(ctx->tree, n, "mailbox %s { } outside a "
			      "namespace has no 2.3 equivalent: put it inside "
			      "namespace inbox { }",
			      n->name == NULL ? "" : n->name);
		return -1;
	}
	dialect_error(ctx->tree, n, "Unknown section name: %s", k);
	return -1;
}

static int t24_block(struct t24_ctx *ctx, struct dnode *scope,
		     enum scope kind)
{
	struct location loc;
	const char *section = scope->key;

	memset(&loc, 0, sizeof(loc));
	for (struct dnode *n = scope->children; n != NULL; n = n->next) {
		int ret;

		if (n->removed || n->done)
			continue;
		if (n->section)
			ret = t24_section(ctx, scope, n, kind);
		else if (kind == SCOPE_ROOT || kind == SCOPE_FILTER)
			ret = t24_root_setting(ctx, scope, n, &loc);
		else if (kind == SCOPE_NAMESPACE && is_loc_key(n->key)) {
			loc_collect(ctx, &loc, n);
			ret = 0;
		} else if (kind == SCOPE_OTHER)
			ret = convert_value(ctx, n, n->key);
		else
			ret = t24_inner_setting(ctx, n, kind, section);
		if (ret < 0)
			return -1;
	}
	if (loc_emit(ctx, &loc, kind == SCOPE_NAMESPACE ?
		     "location" : "mail_location") < 0)
		return -1;
	return 0;
}

int dialect_translate_24(struct dtree *tree)
{
	struct t24_ctx ctx;
	struct dnode *first = tree->root->children;
	struct dialect_mailbox *mailbox_plugin;

	memset(&ctx, 0, sizeof(ctx));
	ctx.tree = tree;
	if (first == NULL || first->section ||
	    strcmp(first->key, "dovecot_config_version") != 0) {
		struct dnode *v = dnode_child(tree->root,
					      "dovecot_config_version");
		struct dnode at = { .file = first == NULL ? "?" : first->file,
				    .line = first == NULL ? 1 : first->line };

		dialect_error(tree, v != NULL ? v : &at,
			      "dovecot_config_version must be the first "
			      "setting of a Dovecot 2.4 file");
		return -1;
	}
	ctx.version_node = first;
	ctx.version = dnode_value(tree->pool, first);
	dialect_dbfile_reset();
	dialect_defaults_start(ctx.version);
	if (version_cmp(ctx.version, "2.4.0") < 0 &&
	    strcmp(ctx.version, "0.0.0") != 0) {
		dialect_error(tree, first, "Invalid dovecot_config_version: "
			      "Currently supported versions are: 2.4.0 2.4.1 "
			      "2.4.2 2.4.3 2.4.4");
		return -1;
	}
	if (collect_groups(&ctx) < 0)
		return -1;
	collect_dbglobals(&ctx);
	dialect_dbfile_set_globals(ctx.dbglobals);	/* sql dicts */
	if (dialect_acl_24_collect(tree) < 0)
		return -1;
	/* the limits every quota NAME { } inherits */
	for (struct dnode *c = tree->root->children; c != NULL; c = c->next) {
		if (c->removed || c->section)
			continue;
		if (strcmp(c->key, "passdb_default_password_scheme") == 0) {
			/* applies to the passdbs before it too */
			(void)dialect_defaults_setting_24(tree, c);
			continue;
		}
		if (strcmp(c->key, "quota_storage_size") == 0) {
			ctx.quota_storage = dnode_value(tree->pool, c);
			ctx.quota_defaults[0] = c;
			c->removed = true;
		} else if (strcmp(c->key, "quota_message_count") == 0) {
			ctx.quota_messages = dnode_value(tree->pool, c);
			ctx.quota_defaults[1] = c;
			c->removed = true;
		}
	}
	/* mailbox NAME { quota_ignore fts_autoindex ... } -> plugin { } */
	if (dialect_mailbox_24_collect(tree, &mailbox_plugin) < 0)
		return -1;
	if (t24_block(&ctx, tree->root, SCOPE_ROOT) < 0 ||
	    dialect_plugins_24_finish(tree) < 0 ||
	    dialect_acl_24_finish(tree) < 0)
		return -1;
	if (dialect_mailbox_24_emit(tree, mailbox_plugin) < 0)
		return -1;
	for (unsigned int i = 0; i < N_ELEMENTS(ctx.quota_defaults); i++) {
		if (ctx.quota_defaults[i] != NULL && ctx.quota_count == 0)
			dialect_warning(ctx.quota_defaults[i], "%s: no quota "
					"NAME { } uses it, ignored",
					ctx.quota_defaults[i]->key);
	}
	for (struct dnode *c = ctx.dbglobals->children; c != NULL;
	     c = c->next) {
		const char *kind = str_begins(c->key, "ldap_", NULL) ? "ldap" :
			str_begins(c->key, "oauth2_", NULL) ? "oauth2" : "sql";
		bool used = kind[0] == 'l' ? ctx.ldap_used :
			kind[0] == 'o' ? ctx.oauth2_used :
			ctx.sql_used || dialect_dbfile_globals_used();

		if (!used) {
			dialect_warning(c, "%s: no %s passdb or userdb uses "
					"it, ignored", c->key, kind);
		}
	}
	/* 2.4 defaults that differ from 2.3's (dialect-defaults.c) */
	dialect_defaults_24_to_23(tree, first);
	return 0;
}

/* ---- 2.3 -> 2.4 (doveconf -n --as 2.4) ---- */

struct x24_ctx {
	pool_t pool;
	struct dtree *tree;
	unsigned int untranslated;
	/* the top-level SQL and LDAP settings written so far, as text */
	const char *sql_globals, *ldap_globals, *oauth2_globals;
};

static void x24_note(struct x24_ctx *ctx, const struct dnode *n,
		     const char *what)
{
	ctx->untranslated++;
	i_warning("doveconf --as 2.4: %s has no Dovecot 2.4 form here; "
		  "written as in 2.3", what);
	(void)n;
}

/* mail_location -> mail_driver, mail_path, ... after node at. */
static void x24_location(struct x24_ctx *ctx, struct dnode *at,
			 const char *value)
{
	pool_t pool = ctx->pool;
	char *copy = p_strdup(pool, value), *p, *part;
	struct dnode *after = at;
	bool noselect = false, fulldir = false, have_driver = false;
	const char *colon = strchr(copy, ':'), *slash = strchr(copy, '/');

#define X24_ADD(k, val) do { \
		struct dnode *x_ = dnode_new_setting(pool, at, (k), \
			dialect_vars_23_to_24(pool, "mail_location", (val)), \
			false); \
		dnode_insert_after(after, x_); after = x_; } while (0)

	at->removed = true;
	if (*copy == '\0')
		return;
	if (colon == NULL || (slash != NULL && slash < colon)) {
		/* no driver: autodetected */
		p = copy;
	} else {
		copy[colon - copy] = '\0';
		X24_ADD("mail_driver", copy);
		have_driver = true;
		p = copy + (colon - copy) + 1;
	}
	part = strsep(&p, ":");
	if (part != NULL && *part != '\0')
		X24_ADD("mail_path", part);
	while ((part = strsep(&p, ":")) != NULL) {
		char *eq = strchr(part, '=');
		const char *name = part, *pv = "";
		bool found = false;

		if (eq != NULL) {
			*eq = '\0';
			pv = eq + 1;
		}
		if (strcmp(name, "FULLDIRNAME") == 0) {
			name = "DIRNAME";
			fulldir = true;
		}
		for (unsigned int i = 0; i < N_ELEMENTS(loc_params); i++) {
			if (strcmp(name, loc_params[i].param) != 0)
				continue;
			found = true;
			if (strcmp(name, "NO-NOSELECT") == 0) {
				noselect = true;
				break;
			}
			X24_ADD(loc_params[i].k24, loc_params[i].flag ?
				loc_flag_value(loc_params[i].k24) : pv);
			if (strcmp(name, "DIRNAME") == 0)
				X24_ADD("mailbox_directory_name_legacy",
					fulldir ? "no" : "yes");
		}
		if (!found)
			x24_note(ctx, at, p_strdup_printf(pool, "mail_location "
				 "parameter %s", name));
	}
	if (!noselect && have_driver)
		X24_ADD("mailbox_list_drop_noselect", "no");
#undef X24_ADD
}

static void x24_values(struct x24_ctx *ctx, struct dnode *n)
{
	pool_t pool = ctx->pool;
	const char *v = dnode_value(pool, n), *nv;
	string_t *s;

	nv = dialect_vars_23_to_24(pool, n->key, v);
	if (strchr(nv, '$') != NULL) {
		/* "$name" of a setting -> "$SET:name" */
		s = str_new(64);
		for (const char *p = nv; *p != '\0'; p++) {
			size_t len = 0;

			if (*p == '$') {
				while (isalnum((unsigned char)p[1 + len]) ||
				       p[1 + len] == '_')
					len++;
			}
			if (len > 0) {
				char *name = p_strndup(pool, p + 1, len);

				if (dialect_root_type(name) >= 0)
					str_append(s, "$SET:");
				else
					str_append_c(s, '$');
				str_append(s, name);
				p += len;
			} else {
				str_append_c(s, *p);
			}
		}
		nv = p_strdup(pool, str_c(s));
		str_free(&s);
	}
	if (strcmp(nv, v) != 0 || n->raw == NULL)
		dnode_set_value(n, nv);
	if (n->val != NULL && strchr(n->val, '$') != NULL)
		n->expand = true;
}

static void x24_block(struct x24_ctx *ctx, struct dnode *scope,
		      enum scope kind);

static bool is_gone_in_24(const char *k)
{
	for (unsigned int i = 0; i < N_ELEMENTS(gone_in_24); i++) {
		if (strcmp(k, gone_in_24[i].k23) == 0)
			return true;
	}
	return str_begins(k, "director_", NULL) ||
		str_begins(k, "replication_", NULL) ||
		str_begins(k, "replicator_", NULL) ||
		str_begins(k, "old_stats_", NULL);
}

static void x24_untranslated(struct x24_ctx *ctx, struct dnode *scope,
			     struct dnode *n);

/* Plugin settings removed in 2.4 (beyond the director/replication/
 * old_stats prefixes). */
static const char *const gone_plugin_24[] = {
	/* removed */
	"mail_replica", "replication_sync_timeout", "quota_set",
	"quota_vsizes", "fts_stopwords_workaround",
	"sieve_vacation_max_subject_codepoints", "pop3_uidl_migrate_format",
	"mail_crypt_save_version", "sieve_dir", "sieve_global_dir",
	"sieve_global_path",
	/* named filters or other shapes in 2.4, not translated */
	"acl_shared_dict", "fts_autoindex_exclude", "fts_decoder",
	"fts_enforced", "fts_languages", "fts_solr", "fts_tika",
	"zlib_save_level", "last_login_dict", "lazy_expunge_exclude",
	"mail_crypt_global_private_key",
	"notify_status_dict", "quota_over_script", "quota_clone_dict",
	"sieve", "sieve_default", "sieve_discard", "sieve_global",
	"sieve_editheader_forbid_add", "sieve_editheader_forbid_delete",
	"sieve_editheader_protected",
	"mail_crypt_global_public_key", "mail_crypt_private_key",
	"apparmor_hat", "acl_ignore_namespace", "sieve_default_name",
	"sieve_subaddress_sep", "sieve_vacation_dont_check_recipient",
};

/* A plugin { } setting: renamed for 2.4 and returned true to be moved
 * to the top of its scope, or kept in roost_untranslated { plugin { } }
 * when 2.4 has no such setting or its name is a 2.3 core setting. */
static bool x24_plugin_setting(struct x24_ctx *ctx, struct dnode *scope,
			       struct dnode *c)
{
	pool_t pool = ctx->pool;

	static const char *const shaped[] = {
		/* 2.4 made these named filters: not translated */
		"quota", "fts", "trash", "welcome_script", "charset_aliases",
	};
	static const char *const shaped_prefixes[] = {
		"quota_rule", "quota_warning", "sieve_before", "sieve_after",
		"acl_ignore_namespace",
		"imapsieve_mailbox", "notify_status_mailbox",
		"fts_autoindex_exclude", "lazy_expunge_exclude",
		"sieve_spamtest_text_value", "sieve_virustest_text_value",
	};
	bool untranslated = in_list(c->key, shaped, N_ELEMENTS(shaped)) ||
		dialect_plugins_23_untranslated(pool, c) ||
		(strcmp(c->key, "acl") == 0 &&
		 strchr(dnode_value(pool, c), ':') != NULL);

	for (unsigned int i = 0; i < N_ELEMENTS(shaped_prefixes); i++) {
		const char *rest;

		if (str_begins(c->key, shaped_prefixes[i], &rest) &&
		    strspn(rest, "0123456789") == strlen(rest))
			untranslated = true;
	}
	if (str_begins(c->key, "imapsieve_mailbox", NULL) &&
	    strchr(c->key, '_') != NULL) {
		/* imapsieve_mailbox1_name ... */
		const char *rest = c->key + 17;

		rest += strspn(rest, "0123456789");
		if (*rest == '_')
			untranslated = true;
	}
	if (str_begins(c->key, "quota", NULL) &&
	    c->key[5] >= '2' && c->key[5] <= '9') {
		/* quota2, quota2_rule3 ...: with quota NAME { } or not */
		const char *rest = c->key + 6 + strspn(c->key + 6,
						       "0123456789");

		if (*rest == '\0' || str_begins(rest, "_rule", NULL) ||
		    str_begins(rest, "_warning", NULL))
			untranslated = true;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(renames_plugin) &&
	     !untranslated; i++) {
		if (strcmp(c->key, renames_plugin[i].k23) == 0) {
			c->key = renames_plugin[i].k24;
			break;
		}
	}
	if (untranslated || c->section || dialect_root_type(c->key) >= 0 ||
	    is_loc_key(c->key) || is_gone_in_24(c->key) ||
	    in_list(c->key, gone_plugin_24, N_ELEMENTS(gone_plugin_24))) {
		struct dnode *sec = dnode_new_section(pool, c, "plugin", NULL);

		x24_note(ctx, c, p_strdup_printf(pool, "plugin { %s }",
						 c->key));
		x24_untranslated(ctx, scope, sec);
		/* fill the plugin { } that now ends roost_untranslated */
		for (struct dnode *u = scope->children; u != NULL;
		     u = u->next) {
			if (u->section && !u->removed &&
			    strcmp(u->key, UNTRANSLATED) == 0) {
				struct dnode *last = u->children;

				while (last->next != NULL)
					last = last->next;
				dnode_append(last, c);
			}
		}
		return false;
	}
	x24_values(ctx, c);
	c->done = true;
	return true;
}

/* Move n (kept in 2.3 form) into the scope's roost_untranslated { }. */
static void x24_untranslated(struct x24_ctx *ctx, struct dnode *scope,
			     struct dnode *n)
{
	struct dnode *sec = NULL, *copy;

	for (struct dnode *c = scope->children; c != NULL; c = c->next) {
		if (c->section && !c->removed &&
		    strcmp(c->key, UNTRANSLATED) == 0)
			sec = c;
	}
	if (sec == NULL) {
		sec = dnode_new_section(ctx->pool, n, UNTRANSLATED, NULL);
		sec->done = true;
		dnode_append(scope, sec);
	}
	if (n->section && strcmp(n->key, "plugin") == 0 && n->children == NULL) {
		/* one plugin { } inside: reuse it (it must come last) */
		struct dnode *last = sec->children;

		while (last != NULL && last->next != NULL)
			last = last->next;
		if (last != NULL && last->section &&
		    strcmp(last->key, "plugin") == 0)
			return;
	}
	copy = p_new(ctx->pool, struct dnode, 1);
	*copy = *n;
	copy->next = NULL;
	dnode_append(sec, copy);
	n->removed = true;
}

/* args of the drivers whose 2.4 settings we know: rebuilt and compared,
 * so that only an exact translation is used. */
/* A 2.3 userdb field mail=LOCATION as 2.4 fields (mail_driver, mail_path
 * ...) appended to fields, with ":default" when def. */
static void x24_field_location(struct x24_ctx *ctx, struct dnode *db,
			       struct dnode *fields, const char *value,
			       bool def)
{
	struct dnode *at = dnode_new_setting(ctx->pool, db, "mail", value,
					     false);

	dnode_append(fields, at);
	x24_location(ctx, at, value);
	for (struct dnode *f = at->next; def && f != NULL; f = f->next)
		f->key = p_strdup_printf(ctx->pool, "%s:default", f->key);
}

static bool x24_args(struct x24_ctx *ctx, struct dnode *db, const char *driver,
		     const char *args, struct dnode *after)
{
	pool_t pool = ctx->pool;
	struct dtree tmp;
	struct dnode *copy;
	char *c = p_strdup(pool, args), *save = NULL, *w;
	const char *nargs;
	struct dnode *fields = NULL, *lua = NULL;
	struct dnode *news[16];
	unsigned int n = 0;
	bool is_pass = strcmp(db->key, "passdb") == 0;

	for (w = strtok_r(c, " ", &save); w != NULL && n < N_ELEMENTS(news) - 1;
	     w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');
		const char *k = NULL, *v = eq == NULL ? w : eq + 1;

		if (eq != NULL)
			*eq = '\0';
		if (strcmp(driver, "pam") == 0) {
			if (eq == NULL)
				k = "service_name";
			else if (strcmp(w, "session") == 0 ||
				 strcmp(w, "setcred") == 0 ||
				 strcmp(w, "failure_show_msg") == 0 ||
				 strcmp(w, "max_requests") == 0)
				k = w;
			if (k != NULL && strcmp(k, "service_name") == 0 &&
			    strcmp(v, "*") == 0)
				v = "%{protocol}";
		} else if (strcmp(driver, "passwd-file") == 0) {
			if (eq == NULL)
				k = "passwd_file_path";
			else if (strcmp(w, "scheme") == 0)
				k = "default_password_scheme";
			else if (strcmp(w, "username_format") == 0)
				k = "auth_username_format";
		} else if (strcmp(driver, "lua") == 0 && eq != NULL) {
			if (strcmp(w, "file") == 0)
				k = "lua_file";
			else {
				if (lua == NULL)
					lua = dnode_new_section(pool, db,
						"lua_settings", NULL);
				dnode_append(lua, dnode_new_setting(pool,
					db, w, v, false));
				continue;
			}
		} else if (strcmp(driver, "static") == 0 && eq != NULL) {
			if (strcmp(w, "password") == 0 && is_pass)
				k = "password";
			else if (strcmp(w, "allow_all_users") == 0 && !is_pass)
				k = "allow_all_users";
			else if (!is_pass) {
				if (fields == NULL)
					fields = dnode_new_section(pool, db,
						"fields", NULL);
				if (strcmp(w, "mail") == 0) {
					x24_field_location(ctx, db, fields, v,
							   false);
					continue;
				}
				dnode_append(fields, dnode_new_setting(pool,
					db, w, dialect_vars_23_to_24(pool,
					"fields", v), false));
				continue;
			}
		}
		if (k == NULL)
			return false;
		news[n++] = dnode_new_setting(pool, db, k,
			dialect_vars_23_to_24(pool, k, v), false);
	}
	if (is_pass && strcmp(driver, "passwd-file") == 0) {
		/* 2.3's passwd-file default; 2.4.0's is PLAIN */
		bool have = false;

		for (unsigned int i = 0; i < n; i++) {
			if (strcmp(news[i]->key, "default_password_scheme") == 0)
				have = true;
		}
		if (!have) {
			news[n++] = dnode_new_setting(pool, db,
				"default_password_scheme", "CRYPT", false);
		}
	}
	/* check: translating back gives the same args */
	memset(&tmp, 0, sizeof(tmp));
	tmp.pool = pool;
	tmp.root = dnode_new_section(pool, db, "", NULL);
	copy = dnode_new_section(pool, db, db->key, driver);
	dnode_append(tmp.root, copy);
	for (unsigned int i = 0; i < n; i++)
		dnode_append(copy, dnode_new_setting(pool, db, news[i]->key,
						     news[i]->val, false));
	if (fields != NULL) {
		struct dnode *fc = dnode_new_section(pool, db, "fields", NULL);

		for (struct dnode *f = fields->children; f != NULL;
		     f = f->next) {
			if (!f->removed)
				dnode_append(fc, dnode_new_setting(pool, db,
					f->key, f->val, false));
		}
		dnode_append(copy, fc);
	}
	if (lua != NULL) {
		struct dnode *lc = dnode_new_section(pool, db, "lua_settings",
						     NULL);

		for (struct dnode *f = lua->children; f != NULL; f = f->next)
			dnode_append(lc, dnode_new_setting(pool, db, f->key,
							   f->val, false));
		dnode_append(copy, lc);
	}
	{
		struct t24_ctx tctx;
		struct dnode *a;

		memset(&tctx, 0, sizeof(tctx));
		tctx.tree = &tmp;
		if (t24_authdb(&tctx, copy) < 0)
			return false;
		a = dnode_child(copy, "args");
		nargs = a == NULL ? "" : dnode_value(pool, a);
		if (strcmp(nargs, args) != 0)
			return false;
	}
	for (unsigned int i = 0; i < n; i++) {
		dnode_insert_after(after, news[i]);
		after = news[i];
	}
	if (fields != NULL) {
		dnode_insert_after(after, fields);
		after = fields;
	}
	if (lua != NULL)
		dnode_insert_after(after, lua);
	return true;
}

static void x24_fields(struct x24_ctx *ctx, struct dnode *db,
		       struct dnode *fields, const char *value, bool def)
{
	pool_t pool = ctx->pool;
	char *c = p_strdup(pool, value), *save = NULL, *w;

	for (w = strtok_r(c, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');
		const char *k = w, *v = "";

		if (eq != NULL) {
			*eq = '\0';
			v = eq + 1;
		}
		if (strcmp(k, "mail") == 0 && strcmp(db->key, "userdb") == 0) {
			x24_field_location(ctx, db, fields, v, def);
			continue;
		}
		if (def)
			k = p_strdup_printf(pool, "%s:default", k);
		dnode_append(fields, dnode_new_setting(pool, db, k,
			dialect_vars_23_to_24(pool, "fields", v), false));
	}
}

/* The text of a list of settings and sections (to compare them). */
static void nodes_text(const struct dnode *list, string_t *out)
{
	for (const struct dnode *c = list; c != NULL; c = c->next) {
		if (c->section) {
			str_printfa(out, "%s %s {\n", c->key,
				    c->name == NULL ? "" : c->name);
			nodes_text(c->children, out);
			str_append(out, "}\n");
		} else {
			str_printfa(out, "%s=%s\n", c->key, c->val == NULL ?
				    "" : c->val);
		}
	}
}

/* Whether every top-level setting or section of seen (nodes_text() of
 * the first db's globals), and every setting directly inside such a
 * section, is set again in glob: a db whose own globals go into its
 * block must inherit nothing from the first one's. */
static bool globals_overridden(pool_t pool, const char *seen,
			       const struct dnode *glob)
{
	char *copy = p_strdup(pool, seen), *line, *save = NULL;
	const struct dnode *sec = NULL;
	int depth = 0;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		bool open = line[len - 1] == '{';
		const struct dnode *in = depth == 0 ? glob : sec;
		const struct dnode *found = NULL;
		const char *name = NULL;

		if (strcmp(line, "}") == 0) {
			depth--;
			continue;
		}
		if (depth <= 1 && (depth == 0 || sec != NULL)) {
			if (open) {
				/* "key name {" or "key  {" */
				char *sp;

				line[--len] = '\0';
				while (len > 0 && line[len - 1] == ' ')
					line[--len] = '\0';
				sp = strchr(line, ' ');
				name = sp == NULL ? "" : sp + 1;
				if (sp != NULL)
					*sp = '\0';
			} else {
				line[strcspn(line, "=")] = '\0';
			}
			for (const struct dnode *c = in->children; c != NULL;
			     c = c->next) {
				if (strcmp(c->key, line) == 0 &&
				    c->section == open &&
				    (!open || strcmp(c->name == NULL ? "" :
						     c->name, name) == 0))
					found = c;
			}
			if (found == NULL)
				return false;
			if (depth == 0)
				sec = open ? found : NULL;
		}
		if (open)
			depth++;
	}
	return true;
}

/* passdb/userdb sql/ldap { args = FILE }: the file's settings in 2.4
 * form; the top-level ones once before the first such db (a later db
 * whose file says otherwise gets its own inside its block). */
static bool x24_dbfile(struct x24_ctx *ctx, struct dnode *scope,
		       struct dnode *db, const char *driver, const char *path)
{
	pool_t pool = ctx->pool;
	struct dnode *glob, *loc, *next;
	const char **seen = driver[0] == 's' ? &ctx->sql_globals :
		driver[0] == 'l' ? &ctx->ldap_globals : &ctx->oauth2_globals;
	string_t *text;
	bool local;

	if (!dialect_dbfile_export(pool, db, driver, path, &glob, &loc))
		return false;
	text = str_new(256);
	nodes_text(glob->children, text);
	local = *seen != NULL && strcmp(*seen, str_c(text)) != 0;
	if (local && !globals_overridden(pool, *seen, glob)) {
		/* the top-level settings written for the first db would
		   reach this one too */
		str_free(&text);
		return false;
	}
	if (*seen == NULL && glob->children != NULL) {
		/* before db in its scope */
		struct dnode **pp = &scope->children;

		*seen = p_strdup(pool, str_c(text));
		while (*pp != db)
			pp = &(*pp)->next;
		for (struct dnode *c = glob->children; c != NULL; c = next) {
			next = c->next;
			c->parent = scope;
			c->done = true;
			c->next = db;
			*pp = c;
			pp = &c->next;
		}
	} else if (local) {
		for (struct dnode *c = glob->children; c != NULL; c = next) {
			next = c->next;
			c->next = NULL;
			c->done = true;
			dnode_append(db, c);
		}
	}
	str_free(&text);
	for (struct dnode *c = loc->children; c != NULL; c = next) {
		next = c->next;
		c->next = NULL;
		c->done = true;
		dnode_append(db, c);
	}
	return true;
}

static void x24_authdb(struct x24_ctx *ctx, struct dnode *scope,
		       struct dnode *db, unsigned int *seen,
		       const char ***names)
{
	pool_t pool = ctx->pool;
	struct dnode *drv = dnode_child(db, "driver");
	struct dnode *args = dnode_child(db, "args");
	const char *driver = drv == NULL ? "" : dnode_value(pool, drv);
	struct dnode *fields = NULL;
	struct dnode *name_set = dnode_child(db, "name");
	const char *name = db->name;
	bool named;

	if (name == NULL && name_set != NULL) {
		name = dnode_value(pool, name_set);
		name_set->removed = true;
		db->name = name;
	}
	name_set = NULL;
	named = name != NULL;
	if (name == NULL) {
		unsigned int count = 0;
		const char *pfx = p_strdup_printf(pool, "%s/%s", db->key,
						  driver);

		for (unsigned int i = 0; i < *seen; i++) {
			if (str_begins((*names)[i], pfx, NULL))
				count++;
		}
		name = count == 0 ? driver :
			p_strdup_printf(pool, "%s_%u", driver, count + 1);
		db->name = name;
	}
	*names = p_realloc(pool, *names, sizeof(char *) * (*seen),
			   sizeof(char *) * (*seen + 1));
	(*names)[(*seen)++] = p_strdup_printf(pool, "%s/%s", db->key, name);
	/* an unnamed 2.3 db is named after its driver; a named one keeps
	   an explicit driver so that the name survives the way back */
	if (drv != NULL && strcmp(db->name, driver) == 0 && name_set == NULL &&
	    db->name == name && !named)
		drv->removed = true;
	if (args != NULL) {
		const char *a = dnode_value(pool, args);

		if ((strcmp(driver, "sql") == 0 ||
		     strcmp(driver, "ldap") == 0 ||
		     strcmp(driver, "oauth2") == 0) &&
		    x24_dbfile(ctx, scope, db, driver, a))
			args->removed = true;
		else if (x24_args(ctx, db, driver, a, args))
			args->removed = true;
		else {
			x24_note(ctx, args, p_strdup_printf(pool,
				 "%s %s { args = %s }", db->key, db->name, a));
		}
	}
	for (struct dnode *c = db->children; c != NULL; c = c->next) {
		if (c->removed || c->section || c->done)
			continue;
		if ((strcmp(c->key, "default_fields") == 0 ||
		     strcmp(c->key, "override_fields") == 0) &&
		    !(strcmp(driver, "static") == 0 && c->key[0] == 'o')) {
			if (fields == NULL) {
				fields = dnode_child(db, "fields");
				if (fields == NULL) {
					fields = dnode_new_section(pool, c,
						"fields", NULL);
					dnode_append(db, fields);
				}
			}
			x24_fields(ctx, db, fields, dnode_value(pool, c),
				   c->key[0] == 'd');
			c->removed = true;
		} else if (strcmp(c->key, "mechanisms") == 0) {
			c->key = "mechanisms_filter";
		} else if (strcmp(c->key, "auth_verbose") == 0 ||
			   strcmp(c->key, "pass") == 0) {
			x24_note(ctx, c, p_strdup_printf(pool, "%s %s { %s }",
				 db->key, db->name, c->key));
		} else {
			x24_values(ctx, c);
		}
	}
}

/* 2.3 dict { NAME = URI } -> dict_server { dict NAME { } } */
static bool x24_dict_server(struct x24_ctx *ctx, struct dnode *n)
{
	struct dnode *srv = dnode_new_section(ctx->pool, n, "dict_server",
					      NULL);

	for (struct dnode *c = n->children; c != NULL; c = c->next) {
		struct dnode *d;

		if (c->removed)
			continue;
		d = c->section ? NULL : dialect_dict_uri_to_24(ctx->pool, c,
			c->key, dnode_value(ctx->pool, c));
		if (d == NULL)
			return false;
		dnode_append(srv, d);
	}
	srv->done = true;
	dnode_insert_after(n, srv);
	n->removed = true;
	return true;
}

static void x24_block(struct x24_ctx *ctx, struct dnode *scope,
		      enum scope kind)
{
	pool_t pool = ctx->pool;
	unsigned int seen_db = 0;
	const char **db_names = p_new(pool, const char *, 1);

	for (struct dnode *n = scope->children; n != NULL; n = n->next) {
		if (n->removed || n->done)
			continue;
		if (n->section) {
			const char *k = n->key;

			if (strcmp(k, "protocol") == 0 ||
			    strcmp(k, "local") == 0 ||
			    strcmp(k, "remote") == 0 ||
			    strcmp(k, "local_name") == 0)
				x24_block(ctx, n, SCOPE_FILTER);
			else if (strcmp(k, "service") == 0 &&
				 n->name != NULL &&
				 in_list(n->name, services_gone_24,
					 N_ELEMENTS(services_gone_24))) {
				x24_note(ctx, n, p_strdup_printf(pool,
					 "service %s { }", n->name));
				x24_untranslated(ctx, scope, n);
			} else if (strcmp(k, "service") == 0)
				x24_block(ctx, n, SCOPE_SERVICE);
			else if (strcmp(k, "namespace") == 0)
				x24_block(ctx, n, SCOPE_NAMESPACE);
			else if (strcmp(k, "mailbox") == 0)
				x24_block(ctx, n, SCOPE_MAILBOX);
			else if (str_ends(k, "_listener"))
				x24_block(ctx, n, SCOPE_LISTENER);
			else if (strcmp(k, "passdb") == 0 ||
				 strcmp(k, "userdb") == 0)
				x24_authdb(ctx, scope, n, &seen_db,
					   &db_names);
			else if (strcmp(k, "plugin") == 0) {
				/* its settings go to this scope's top */
				struct dnode *c, *next;
				struct dnode *after = n;
				struct dnode *shaped = dnode_new_section(pool,
					n, "", NULL);

				/* quota and sieve: sections in 2.4; the
				   per-mailbox ones: mailbox NAME { } */
				struct dialect_mailbox *mbox = kind ==
					SCOPE_ROOT ? dialect_mailbox_23_plan(
					pool, scope, n, shaped) : NULL;
				bool quota_ok =
					dialect_quota_23_to_24(pool, n, shaped);

				if (mbox != NULL)
					dialect_mailbox_23_apply(mbox,
								 quota_ok);
				(void)dialect_sieve_23_to_24(pool, n, shaped);
				(void)dialect_misc_23_to_24(pool, n, shaped);
				dialect_plugins_23_to_24(pool, n, shaped);
				if (kind == SCOPE_ROOT)
					dialect_acl_23_to_24(pool, scope, n);
				for (c = shaped->children; c != NULL;
				     c = next) {
					next = c->next;
					c->done = true;
					dnode_insert_after(after, c);
					after = c;
				}
				for (c = n->children; c != NULL; c = next) {
					next = c->next;
					if (c->removed)
						continue;
					if (x24_plugin_setting(ctx, scope, c)) {
						dnode_insert_after(after, c);
						after = c;
					}
				}
				n->children = NULL;
				n->removed = true;
			} else if (strcmp(k, "dict") == 0 &&
				   x24_dict_server(ctx, n)) {
				continue;
			} else if (strcmp(k, "dict") == 0) {
				x24_note(ctx, n, "dict { }");
				x24_untranslated(ctx, scope, n);
			} else if (strcmp(k, "event_exporter") == 0 &&
				   !dialect_plugins_23_exporter(pool, n)) {
				x24_note(ctx, n, "event_exporter { }");
				x24_untranslated(ctx, scope, n);
			} else {
				x24_block(ctx, n, SCOPE_OTHER);
			}
			continue;
		}
		if (kind == SCOPE_ROOT || kind == SCOPE_FILTER) {
			if (strcmp(n->key, "mail_location") == 0) {
				x24_location(ctx, n, dnode_value(pool, n));
				continue;
			}
			(void)rename_root_apply(n, pool, false);
			dialect_plugins_23_mail_plugins(pool, n);
			if (strcmp(n->key, "mail_attachment_fs") == 0) {
				/* sis posix -> fs sis { } fs posix { } */
				const char *v = dnode_value(pool, n);
				char *copy = p_strdup(pool, v), *w, *sv = NULL;
				struct dnode *f = dnode_new_section(pool, n,
					"mail_ext_attachment", NULL);

				if (*v != '\0' && strspn(v,
				    "abcdefghijklmnopqrstuvwxyz- ") !=
				    strlen(v) &&
				    (f = dialect_fs_uri_to_24(pool, n,
							      v)) != NULL) {
					/* compress:gz:6:posix:prefix=/x */
					dnode_insert_after(n, f);
					n->removed = true;
					continue;
				}
				if (*v != '\0' && strspn(v,
				    "abcdefghijklmnopqrstuvwxyz- ") ==
				    strlen(v)) {
					for (w = strtok_r(copy, " ", &sv);
					     w != NULL;
					     w = strtok_r(NULL, " ", &sv))
						dnode_append(f,
							dnode_new_section(pool,
							n, "fs", w));
					f->done = true;
					dnode_insert_after(n, f);
					n->removed = true;
					continue;
				}
			}
			{
				struct dnode *f =
					dialect_dict_user_24(pool, n, false);

				if (f != NULL) {
					f->done = true;
					dnode_insert_after(n, f);
					n->removed = true;
					continue;
				}
			}
			if (is_gone_in_24(n->key)) {
				x24_note(ctx, n, n->key);
				x24_untranslated(ctx, scope, n);
				continue;
			}
		} else if (kind == SCOPE_SERVICE) {
			if (strcmp(n->key, "service_count") == 0) {
				const char *v = dnode_value(pool, n);

				n->key = "restart_request_count";
				dnode_set_value(n, strcmp(v, "0") == 0 ?
						"unlimited" : v);
			} else if (strcmp(n->key, "idle_kill") == 0) {
				n->key = "idle_kill_interval";
			}
		} else if (kind == SCOPE_LISTENER &&
			   strcmp(n->key, "address") == 0) {
			n->key = "listen";
		} else if (kind == SCOPE_NAMESPACE &&
			   strcmp(n->key, "location") == 0) {
			x24_location(ctx, n, dnode_value(pool, n));
			continue;
		} else if (kind == SCOPE_NAMESPACE &&
			   strcmp(n->key, "prefix") == 0 &&
			   strstr(dnode_value(pool, n), "%%") != NULL) {
			dnode_set_value(n, replace_words(pool,
				dnode_value(pool, n), prefix_vars, 1, 0));
			n->expand = true;
			continue;
		}
		if (n->is_file || (n->raw != NULL && n->raw[0] == '<'))
			continue;
		x24_values(ctx, n);
	}
}

int dialect_export_24(pool_t pool, const char *text23, string_t *out,
		      const char **error_r)
{
	struct dtree tree;
	struct x24_ctx ctx;
	struct dnode *ver, *stor;

	memset(&tree, 0, sizeof(tree));
	tree.pool = pool;
	tree.dialect = CONFIG_DIALECT_23;
	if (dtree_read_string(&tree, "doveconf -n", text23) < 0) {
		*error_r = tree.error;
		return -1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.tree = &tree;
	dialect_defaults_start("2.4.0");
	dialect_defaults_23_pre(pool, &tree);
	x24_block(&ctx, tree.root, SCOPE_ROOT);
	/* 2.3 defaults that 2.4 changed, kept (dialect-defaults.c) */
	dialect_defaults_23_to_24(pool, &tree);
	stor = dnode_new_setting(pool, NULL, "dovecot_storage_version",
				 "2.4.0", false);
	ver = dnode_new_setting(pool, NULL, "dovecot_config_version", "2.4.0",
				false);
	stor->next = tree.root->children;
	stor->parent = tree.root;
	ver->next = stor;
	ver->parent = tree.root;
	tree.root->children = ver;
	dtree_write(&tree, out, false);
	return 0;
}

/* ---- tables for the unit tests ---- */

bool dialect_rename_get(unsigned int i, const char **k24_r,
			const char **k23_r, bool *is_file_r)
{
	if (i >= N_ELEMENTS(renames_root))
		return false;
	*k24_r = renames_root[i].k24;
	*k23_r = renames_root[i].k23;
	*is_file_r = renames_root[i].map == VM_FILE;
	return true;
}

bool dialect_plugin_rename_get(unsigned int i, const char **k24_r,
			       const char **k23_r)
{
	if (i >= N_ELEMENTS(renames_plugin))
		return false;
	*k24_r = renames_plugin[i].k24;
	*k23_r = renames_plugin[i].k23;
	return true;
}

bool dialect_var_get(unsigned int i, const char **key_r, const char **v24_r,
		     const char **v23_r)
{
	static const struct {
		const char *key;
		const struct var_map *table;
	} tables[] = {
		{ "", vars_generic }, { "pop3_uidl_format", vars_uidl },
		{ "imap_logout_format", vars_imap_logout },
		{ "pop3_logout_format", vars_pop3_logout },
		{ "login_log_format_elements", vars_login_elements },
		{ "login_log_format", vars_login_format },
		{ "deliver_log_format", vars_deliver },
		{ "rejection_reason", vars_rejection },
		{ "auth_policy_request_attributes", vars_policy },
	};

	for (unsigned int t = 0; t < N_ELEMENTS(tables); t++) {
		const struct var_map *m = tables[t].table;
		unsigned int n = 0;

		while (m[n].v24 != NULL)
			n++;
		if (i < n) {
			*key_r = tables[t].key;
			*v24_r = m[i].v24;
			*v23_r = m[i].v23;
			return true;
		}
		i -= n;
	}
	return false;
}

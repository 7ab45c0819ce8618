/* check_dialect.c - the Dovecot 1.x and 2.4 translation tables and the
 * translation itself (compat/dialect.c, dialect-24.c): every table row
 * translates both ways, errors name the original line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "config-parser.h"
#include "config-tree.h"
#include "dialect.h"
#include "genfile.h"
#include "settings-schema.h"
#include "str.h"
#include "suites.h"

/* Translate text of dialect and parse it as 2.3: the config (or NULL with
 * the error in *error_r). */
static struct config *translate(pool_t pool, const char *text,
				enum config_dialect dialect,
				const char **error_r)
{
	struct config *config;
	const char *text23;

	if (dialect_translate_string(pool, "t.conf", text, dialect, &text23,
				     error_r) < 0)
		return NULL;
	if (config_parse_string("t.conf", text23, CONFIG_PARSE_LINE_MARKERS |
				(dialect == CONFIG_DIALECT_24 ?
				 CONFIG_PARSE_NO_OBSOLETE : 0),
				&config, error_r) < 0)
		return NULL;
	return config;
}

static const char *get(struct config *config, const char *path)
{
	return config_node_get(config->blocks[0]->root, path);
}

static const char *plugin_get(struct config *config, const char *key)
{
	struct config_node *root = config->blocks[0]->root;
	int idx = setting_info_find(root->info, "plugin");

	return config_node_strlist_get(&root->slots[idx], key);
}

static int root_type(const char *key)
{
	int idx = setting_info_find(&setting_infos[INFO_ROOT], key);

	return idx < 0 ? -1 : (int)setting_infos[INFO_ROOT].defs[idx].type;
}

START_TEST(test_var_tables)
{
	pool_t pool = pool_create("test", 4096);
	const char *key, *v24, *v23, *error;
	unsigned int i;

	for (i = 0; dialect_var_get(i, &key, &v24, &v23); i++) {
		const char *k = *key == '\0' ? "mail_home" : key;
		string_t *in = str_new(64);
		const char *out, *back, *again;

		/* "user|username" written as 2.4 does: "%{user | username}" */
		str_append(in, "%{");
		for (const char *p = v24; *p != '\0'; p++) {
			if (*p == '|')
				str_append(in, " | ");
			else
				str_append_c(in, *p);
		}
		str_append_c(in, '}');
		out = dialect_vars_24_to_23(pool, k, str_c(in), &error);
		ck_assert_msg(out != NULL, "%s: %s", str_c(in), error);
		ck_assert_str_eq(out, v23);
		/* and back: a 2.4 spelling that means the same 2.3 text */
		back = dialect_vars_23_to_24(pool, k, v23);
		again = dialect_vars_24_to_23(pool, k, back, &error);
		ck_assert_msg(again != NULL, "%s -> %s: %s", v23, back, error);
		ck_assert_str_eq(again, v23);
		str_free(&in);
	}
	ck_assert_uint_gt(i, 40);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_var_errors)
{
	pool_t pool = pool_create("test", 4096);
	const char *error;

	ck_assert_ptr_null(dialect_vars_24_to_23(pool, "x", "%{user | rot13}",
						 &error));
	ck_assert_str_eq(error, "Variable %{user | rot13} has no Dovecot 2.3 "
			 "equivalent");
	ck_assert_ptr_null(dialect_vars_24_to_23(pool, "x", "a%{user", &error));
	/* literal text and unknown plain names pass */
	ck_assert_str_eq(dialect_vars_24_to_23(pool, "x", "95% %%{x} %{foo}",
					       &error), "95% %%{x} %{foo}");
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_root_renames)
{
	pool_t pool = pool_create("test", 4096);
	const char *k24, *k23, *error;
	bool is_file;
	unsigned int i;

	for (i = 0; dialect_rename_get(i, &k24, &k23, &is_file); i++) {
		char text[512], exported[512];
		const char *value = is_file ? "/etc/x.pem" :
			root_type(k23) == SET_BOOL ? "yes" :
			root_type(k23) == SET_SIZE ? "1k" :
			strcmp(k24, "ssl_server_prefer_ciphers") == 0 ?
			"server" : strcmp(k24, "auth_allow_cleartext") == 0 ?
			"yes" : strcmp(k24, "default_idle_kill_interval") == 0 ?
			"5 mins" : "v";
		struct config *config;
		string_t *out = str_new(256);

		snprintf(text, sizeof(text), "dovecot_config_version = 2.4.0\n"
			 "%s = %s\n", k24, value);
		config = translate(pool, text, CONFIG_DIALECT_24, &error);
		ck_assert_msg(config != NULL, "%s: %s", k24, error);
		ck_assert_ptr_nonnull(get(config, k23));
		if (is_file) {
			ck_assert_str_eq(get(config, k23), "</etc/x.pem");
		}
		config_free(&config);
		/* the 2.3 name exported to 2.4 is the 2.4 name again */
		snprintf(exported, sizeof(exported), "%s = x\n", k23);
		ck_assert_int_eq(dialect_export_24(pool, exported, out,
						   &error), 0);
		ck_assert_msg(strstr(str_c(out), k24) != NULL, "%s: %s", k23,
			      str_c(out));
		str_free(&out);
	}
	ck_assert_uint_gt(i, 15);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_plugin_renames)
{
	pool_t pool = pool_create("test", 4096);
	const char *k24, *k23, *error;
	unsigned int i;

	for (i = 0; dialect_plugin_rename_get(i, &k24, &k23); i++) {
		char text[512];
		struct config *config;

		snprintf(text, sizeof(text), "dovecot_config_version = 2.4.0\n"
			 "%s = v\n", k24);
		config = translate(pool, text, CONFIG_DIALECT_24, &error);
		ck_assert_msg(config != NULL, "%s: %s", k24, error);
		ck_assert_msg(plugin_get(config, k23) != NULL, "%s -> %s",
			      k24, k23);
		config_free(&config);
	}
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_location)
{
	pool_t pool = pool_create("test", 4096);
	const char *error;
	struct config *config = translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"mail_driver = mbox\n"
		"mail_path = ~/mail\n"
		"mail_inbox_path = /var/mail/%{user}\n"
		"mailbox_list_drop_noselect = no\n"
		"namespace x {\n"
		"  mail_driver = maildir\n"
		"  mail_path = /srv/%{user | domain}\n"
		"  mail_alt_check = no\n"
		"}\n", CONFIG_DIALECT_24, &error);

	ck_assert_msg(config != NULL, "%s", error);
	ck_assert_str_eq(get(config, "mail_location"),
			 "mbox:~/mail:INBOX=/var/mail/%u");
	ck_assert_str_eq(get(config, "namespace/x/location"),
			 "maildir:/srv/%d:ALTNOCHECK:NO-NOSELECT");
	config_free(&config);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_errors_name_line)
{
	pool_t pool = pool_create("test", 4096);
	const char *error;

	ck_assert_ptr_null(translate(pool, "dovecot_config_version = 2.4.0\n"
				     "\n# comment\nmail_location = x\n",
				     CONFIG_DIALECT_24, &error));
	ck_assert_msg(strstr(error, "t.conf line 4: Unknown setting: "
			     "mail_location") != NULL, "%s", error);
	/* an error the 2.3 parser finds after the translation */
	ck_assert_ptr_null(translate(pool, "dovecot_config_version = 2.4.0\n"
				     "auth_allow_cleartext = yes\n"
				     "mail_max_userip_connections = many\n",
				     CONFIG_DIALECT_24, &error));
	ck_assert_msg(strstr(error, "t.conf line 3:") != NULL, "%s", error);
	/* a lone quote where a key is expected */
	ck_assert_ptr_null(translate(pool, "dovecot_config_version = 2.4.0\n"
				     "\"\n", CONFIG_DIALECT_24, &error));
	ck_assert_msg(strstr(error, "t.conf line 2:") != NULL, "%s", error);
	ck_assert_ptr_null(translate(pool, "ssl_disable = no\n\n"
				     "mail_locaton = x\n",
				     CONFIG_DIALECT_1X, &error));
	ck_assert_str_eq(error, "Error in configuration file t.conf line 3: "
			 "Unknown setting: mail_locaton");
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_1x)
{
	pool_t pool = pool_create("test", 4096);
	const char *error;
	struct config *config;

	test_log_silence();
	config = translate(pool,
		"default_mail_env = maildir:~/Maildir\n"
		"mailbox_idle_check_interval = 30\n"
		"auth default {\n"
		"  cache_ttl = 60\n"
		"  passdb pam {\n"
		"  }\n"
		"  socket listen {\n"
		"    client {\n"
		"      path = /var/spool/postfix/private/auth\n"
		"      mode = 0660\n"
		"    }\n"
		"  }\n"
		"}\n"
		"namespace public {\n"
		"  prefix = Public/\n"
		"}\n", CONFIG_DIALECT_1X, &error);
	ck_assert_msg(config != NULL, "%s", error);
	ck_assert_str_eq(get(config, "mail_location"), "maildir:~/Maildir");
	ck_assert_str_eq(get(config, "mailbox_idle_check_interval"),
			 "30 secs");
	ck_assert_str_eq(get(config, "auth_cache_ttl"), "1 mins");
	ck_assert_str_eq(get(config, "namespace/public/type"), "public");
	ck_assert_str_eq(get(config, "service/auth/unix_listener/"
			     "\\svar\\sspool\\spostfix\\sprivate\\sauth/mode"),
			 "0660");
	config_free(&config);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_export_24)
{
	pool_t pool = pool_create("test", 4096);
	string_t *out = str_new(1024);
	const char *error;

	ck_assert_int_eq(dialect_export_24(pool,
		"mail_location = maildir:~/Maildir:LAYOUT=fs\n"
		"disable_plaintext_auth = no\n"
		"ssl_cert = </etc/c.pem\n"
		"passdb {\n"
		"  args = session=yes dovecot\n"
		"  driver = pam\n"
		"}\n"
		"userdb {\n"
		"  args = uid=vmail home=/srv/%d/%n\n"
		"  driver = static\n"
		"}\n"
		"plugin {\n"
		"  quota_grace = 10M\n"
		"  quota = count:User\n"
		"}\n", out, &error), 0);
	ck_assert_str_eq(str_c(out),
		"dovecot_config_version = 2.4.0\n"
		"dovecot_storage_version = 2.4.0\n"
		"submission_max_mail_size = 0\n"
		"auth_allow_weak_schemes = yes\n"
		"mail_cache_max_headers_count = 0\n"
		"mail_cache_max_header_name_length = 0\n"
		"mail_driver = maildir\n"
		"mail_path = ~/Maildir\n"
		"mailbox_list_layout = fs\n"
		"mailbox_list_drop_noselect = no\n"
		"auth_allow_cleartext = yes\n"
		"ssl_server_cert_file = /etc/c.pem\n"
		"passdb pam {\n"
		"  session = yes\n"
		"  service_name = dovecot\n"
		"}\n"
		"userdb static {\n"
		"  fields {\n"
		"    uid = vmail\n"
		"    home = /srv/%{user | domain}/%{user | username}\n"
		"  }\n"
		"}\n"
		"quota_storage_grace = 10M\n"
		"roost_untranslated {\n"
		"  plugin {\n"
		"    quota = count:User\n"
		"  }\n"
		"}\n"
		"service anvil {\n"
		"  chroot = empty\n"
		"  user = $SET:default_internal_user\n"
		"}\n");
	str_free(&out);
	pool_destroy(&pool);
}
END_TEST

/* Every versioned 2.4 default (compat/dialect-defaults.c) is written out
 * from its version on, and not before it. */
START_TEST(test_version_defaults)
{
	pool_t pool = pool_create("test", 4096);
	const char *path, *value, *since, *text23, *error;
	static const char *const before[] = {
		"2.4.0", "2.4.1", "2.4.2", "2.4.3", "2.4.4",
	};
	unsigned int i;

	for (i = 0; dialect_default_get(i, &path, &value, &since); i++) {
		const char *key = strrchr(path, '/'), *want, *body, *prev;

		key = key == NULL ? path : key + 1;
		want = p_strdup_printf(pool, "%s = %s\n", key, value);
		body = "protocols = imap\n"
			"mail_driver = mbox\nmail_path = ~/mail\n"
			"lazy_expunge_mailbox = X\n"
			"sieve_script p {\n  type = personal\n"
			"  path = ~/s\n}\n"
			"service managesieve {\n  process_limit = 1\n}\n";
		ck_assert_int_eq(dialect_translate_string(pool, "t.conf",
			p_strdup_printf(pool, "dovecot_config_version = %s\n"
				"dovecot_storage_version = 2.4.0\n%s", since,
				body), CONFIG_DIALECT_24, &text23, &error), 0);
		ck_assert_msg(strstr(text23, want) != NULL, "%s at %s", path,
			      since);
		/* another row writing the same line: not checked before */
		unsigned int same = 0;
		const char *p2, *v2, *s2, *k2;

		for (unsigned int j = 0; dialect_default_get(j, &p2, &v2, &s2);
		     j++) {
			k2 = strrchr(p2, '/');
			k2 = k2 == NULL ? p2 : k2 + 1;
			if (strcmp(k2, key) == 0 && strcmp(v2, value) == 0)
				same++;
		}
		if (same > 1)
			continue;
		prev = NULL;
		for (unsigned int j = 0; j < N_ELEMENTS(before); j++) {
			if (strcmp(before[j], since) == 0)
				break;
			prev = before[j];
		}
		if (prev == NULL)
			continue;
		ck_assert_int_eq(dialect_translate_string(pool, "t.conf",
			p_strdup_printf(pool, "dovecot_config_version = %s\n"
				"dovecot_storage_version = 2.4.0\n%s", prev,
				body), CONFIG_DIALECT_24, &text23, &error), 0);
		ck_assert_msg(strstr(text23, want) == NULL, "%s at %s", path,
			      prev);
	}
	ck_assert_uint_ge(i, 20);
	/* set in the file: kept */
	ck_assert_int_eq(dialect_translate_string(pool, "t.conf",
		"dovecot_config_version = 2.4.3\n"
		"dovecot_storage_version = 2.4.0\n"
		"mail_access_groups = mail\n"
		"last_valid_uid = unlimited\n", CONFIG_DIALECT_24, &text23,
		&error), 0);
	ck_assert_ptr_null(strstr(text23, "$default_internal_group\n"
				  "mail_access"));
	ck_assert_ptr_nonnull(strstr(text23, "mail_access_groups = mail\n"));
	ck_assert_ptr_nonnull(strstr(text23, "last_valid_uid = 0\n"));
	/* 0 is invalid from 2.4.3 on, still 2.3's 0 before */
	ck_assert_int_eq(dialect_translate_string(pool, "t.conf",
		"dovecot_config_version = 2.4.3\n"
		"dovecot_storage_version = 2.4.0\n"
		"submission_max_recipients = 0\n", CONFIG_DIALECT_24, &text23,
		&error), -1);
	ck_assert_ptr_nonnull(strstr(error, "line 3: submission_max_recipients"
				     " = 0 is invalid"));
	ck_assert_int_eq(dialect_translate_string(pool, "t.conf",
		"dovecot_config_version = 2.4.2\n"
		"dovecot_storage_version = 2.4.0\n"
		"submission_max_recipients = 0\n", CONFIG_DIALECT_24, &text23,
		&error), 0);
	/* sql passdb at 2.4.3: CRYPT */
	ck_assert_int_eq(dialect_translate_string(pool, "t.conf",
		"dovecot_config_version = 2.4.3\n"
		"dovecot_storage_version = 2.4.0\n"
		"sql_driver = sqlite\nsqlite_path = /x.db\n"
		"passdb sql {\n  query = SELECT 1\n}\n", CONFIG_DIALECT_24,
		&text23, &error), 0);
	ck_assert_ptr_nonnull(dialect_dbfile_get(0, &path, &value) ?
			      strstr(value, "default_pass_scheme = CRYPT\n") :
			      NULL);
	pool_destroy(&pool);
}
END_TEST

/* 2.4 SQL settings -> a generated 2.3 args file; a 2.3 LDAP args file
 * on disk -> 2.4 settings (compat/dialect-dbfile.c). */
START_TEST(test_dbfile)
{
	pool_t pool = pool_create("test", 4096);
	string_t *out = str_new(1024);
	const char *text23, *error, *path, *text;
	char tmp[] = "/tmp/roost-check-dialect.XXXXXX";
	FILE *f;
	int fd;

	ck_assert_int_eq(dialect_translate_string(pool, "t.conf",
		"dovecot_config_version = 2.4.0\n"
		"sql_driver = pgsql\n"
		"pgsql db {\n"
		"  parameters {\n"
		"    dbname = mail\n"
		"  }\n"
		"}\n"
		"passdb sql {\n"
		"  query = SELECT password FROM u WHERE n = '%{user | lower}'\n"
		"}\n", CONFIG_DIALECT_24, &text23, &error), 0);
	ck_assert_ptr_nonnull(strstr(text23, "args = /var/run/dovecot/"
				     "roost-sql-passdb-sql.conf.ext"));
	ck_assert(dialect_dbfile_get(0, &path, &text));
	ck_assert_str_eq(path, "/var/run/dovecot/roost-sql-passdb-sql.conf.ext");
	ck_assert_str_eq(text, "driver = pgsql\n"
			 "connect = host=db dbname=mail\n"
			 "password_query = SELECT password FROM u WHERE "
			 "n = '%Lu'\n"
			 "default_pass_scheme = PLAIN\n");
	ck_assert(!dialect_dbfile_get(1, &path, &text));
	/* no sql_driver: an error at the passdb's line */
	ck_assert_int_lt(dialect_translate_string(pool, "t.conf",
		"dovecot_config_version = 2.4.0\n"
		"passdb sql {\n"
		"  query = SELECT 1\n"
		"}\n", CONFIG_DIALECT_24, &text23, &error), 0);
	ck_assert_str_eq(error, "Error in configuration file t.conf line 2: "
			 "passdb sql { }: sql_driver is not set");

	fd = mkstemp(tmp);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("uris = ldap://l\nbase = dc=x\npass_filter = (uid=%u)\n"
	      "pass_attrs = uid=user,=home=/h/%{ldap:uid}\n", f);
	fclose(f);
	ck_assert_int_eq(dialect_export_24(pool, p_strdup_printf(pool, 
		"passdb {\n  args = %s\n  driver = ldap\n}\n", tmp),
		out, &error), 0);
	ck_assert_str_eq(str_c(out),
		"dovecot_config_version = 2.4.0\n"
		"dovecot_storage_version = 2.4.0\n"
		"submission_max_mail_size = 0\n"
		"auth_allow_weak_schemes = yes\n"
		"mail_cache_max_headers_count = 0\n"
		"mail_cache_max_header_name_length = 0\n"
		"ldap_uris = ldap://l\n"
		"ldap_base = dc=x\n"
		"passdb ldap {\n"
		"  filter = (uid=%{user})\n"
		"  fields {\n"
		"    user = %{ldap:uid}\n"
		"    home = /h/%{ldap:uid}\n"
		"  }\n"
		"}\n"
		"service anvil {\n"
		"  chroot = empty\n"
		"  user = $SET:default_internal_user\n"
		"}\n");
	/* a key with no 2.4 form here: args kept */
	f = fopen(tmp, "a");
	fputs("tls_require_cert = allow\n", f);
	fclose(f);
	str_truncate(out, 0);
	ck_assert_int_eq(dialect_export_24(pool, p_strdup_printf(pool, 
		"passdb {\n  args = %s\n  driver = ldap\n}\n", tmp),
		out, &error), 0);
	ck_assert_ptr_nonnull(strstr(str_c(out), "  args = "));
	unlink(tmp);
	str_free(&out);
	pool_destroy(&pool);
}
END_TEST

/* The 2.3 export of one args file (registered at path) named by conf:
 * the 2.4 text. */
static const char *export_with(pool_t pool, const char *path,
			       const char *file, const char *conf)
{
	string_t *out = str_new(1024);
	const char *error, *ret;

	dialect_dbfile_reset();
	dialect_dbfile_add(path, file);
	ck_assert_int_eq(dialect_export_24(pool, conf, out, &error), 0);
	ret = p_strdup(pool, str_c(out));
	str_free(&out);
	dialect_dbfile_reset();
	return ret;
}

/* The generated args file of a 2.4 text (the first one). */
static const char *args_of(pool_t pool, const char *text24)
{
	const char *text23, *error, *path, *text;

	if (dialect_translate_string(pool, "t.conf", text24,
				     CONFIG_DIALECT_24, &text23, &error) < 0)
		return p_strdup_printf(pool, "ERROR %s", error);
	if (!dialect_dbfile_get(0, &path, &text))
		return "";
	return p_strdup(pool, text);
}

/* LDAP tls_require_cert, OAuth2 client settings, cassandra, SQL dicts
 * (dialect-dbfile.c): every table row both ways. */
START_TEST(test_dbfile_rows)
{
	static const struct {
		const char *v23, *v24;
	} certs[] = {
		{ "never", "no" }, { "demand", "yes" }, { "hard", "yes" },
		{ "allow", NULL }, { "try", NULL },
	};
	static const struct {
		const char *k23, *v23, *k24, *v24;
	} oauth2[] = {
		{ "timeout_msecs", "1500", "http_client_request_timeout",
		  "1500ms" },
		{ "max_idle_time_msecs", "60000", "http_client_max_idle_time",
		  "60000ms" },
		{ "max_parallel_connections", "3",
		  "http_client_max_parallel_connections", "3" },
		{ "max_pipelined_requests", "2",
		  "http_client_max_pipelined_requests", "2" },
		{ "rawlog_dir", "/tmp/r", "http_client_rawlog_dir", "/tmp/r" },
		{ "tls_ca_cert_file", "/c", "ssl_client_ca_file", "/c" },
		{ "tls_ca_cert_dir", "/d", "ssl_client_ca_dir", "/d" },
		{ "tls_cert_file", "/e", "ssl_client_cert_file", "/e" },
		{ "tls_key_file", "/f", "ssl_client_key_file", "/f" },
		{ "tls_cipher_suite", "HIGH", "ssl_cipher_list", "HIGH" },
		{ "tls_allow_invalid_cert", "yes",
		  "ssl_client_require_valid_cert", "no" },
		{ "tls_allow_invalid_cert", "no",
		  "ssl_client_require_valid_cert", "yes" },
	};
	static const struct {
		const char *p23, *k24, *v24;
	} cass[] = {
		{ "port=9042", "cassandra_port", "9042" },
		{ "keyspace=k", "cassandra_keyspace", "k" },
		{ "user=u", "cassandra_user", "u" },
		{ "password=p", "cassandra_password", "p" },
		{ "num_threads=4", "cassandra_io_thread_count", "4" },
		{ "version=3", "cassandra_protocol_version", "3" },
		{ "ssl_verify=cert-ip", "cassandra_ssl", "cert-ip" },
		{ "connect_timeout=5s", "cassandra_connect_timeout", "5s" },
		{ "request_timeout=1min", "cassandra_request_timeout",
		  "1min" },
		{ "warn_timeout=100ms", "cassandra_warn_timeout", "100ms" },
		{ "heartbeat_interval=0", "cassandra_heartbeat_interval", "0" },
		{ "idle_timeout=60s", "cassandra_idle_timeout", "60s" },
		{ "execution_retry_interval=1s",
		  "cassandra_execution_retry_interval", "1s" },
		{ "execution_retry_times=3", "cassandra_execution_retry_times",
		  "3" },
		{ "page_size=10", "cassandra_page_size", "10" },
		{ "metrics=/m", "cassandra_metrics", "/m" },
		{ "log_level=debug", "cassandra_log_level", "debug" },
		{ "debug_queries=yes", "cassandra_debug_queries", "yes" },
		{ "latency_aware_routing=yes",
		  "cassandra_latency_aware_routing", "yes" },
		{ "read_consistency=one", "cassandra_read_consistency", "one" },
		{ "read_fallback_consistency=two",
		  "cassandra_read_fallback_consistency", "two" },
		{ "write_consistency=all", "cassandra_write_consistency",
		  "all" },
		{ "write_fallback_consistency=any",
		  "cassandra_write_fallback_consistency", "any" },
		{ "delete_consistency=quorum", "cassandra_delete_consistency",
		  "quorum" },
		{ "delete_fallback_consistency=serial",
		  "cassandra_delete_fallback_consistency", "serial" },
	};
	pool_t pool = pool_create("test", 16384);
	const char *out, *want;

	for (unsigned int i = 0; i < N_ELEMENTS(certs); i++) {
		out = export_with(pool, "/l.conf.ext", p_strdup_printf(pool,
			"uris = ldap://l\ntls_require_cert = %s\n",
			certs[i].v23),
			"passdb {\n  args = /l.conf.ext\n  driver = ldap\n}\n");
		if (certs[i].v24 == NULL) {
			ck_assert_ptr_nonnull(strstr(out, "args = "));
			continue;
		}
		want = p_strdup_printf(pool, "ssl_client_require_valid_cert = "
				       "%s\n", certs[i].v24);
		ck_assert_msg(strstr(out, want) != NULL, "%s: %s",
			      certs[i].v23, out);
		want = p_strdup_printf(pool, "tls_require_cert = %s\n",
			certs[i].v24[0] == 'y' ? "demand" : "never");
		ck_assert_str_eq(args_of(pool, p_strdup_printf(pool,
			"dovecot_config_version = 2.4.0\n"
			"ldap_uris = ldap://l\npassdb ldap {\n"
			"  ssl_client_require_valid_cert = %s\n}\n",
			certs[i].v24)),
			p_strdup_printf(pool, "uris = ldap://l\n%s", want));
	}
	for (unsigned int i = 0; i < N_ELEMENTS(oauth2); i++) {
		out = export_with(pool, "/o.conf.ext", p_strdup_printf(pool,
			"tokeninfo_url = http://t/\n%s = %s\n",
			oauth2[i].k23, oauth2[i].v23),
			"passdb {\n  args = /o.conf.ext\n  driver = oauth2\n}\n");
		want = p_strdup_printf(pool, "oauth2 {\n  %s = %s\n}\n",
				       oauth2[i].k24, oauth2[i].v24);
		ck_assert_msg(strstr(out, want) != NULL, "%s: %s",
			      oauth2[i].k23, out);
		ck_assert_str_eq(args_of(pool, p_strdup_printf(pool,
			"dovecot_config_version = 2.4.0\n"
			"oauth2 {\n  tokeninfo_url = http://t/\n"
			"  %s = %s\n}\npassdb oauth2 {\n}\n",
			oauth2[i].k24, oauth2[i].v24)),
			p_strdup_printf(pool, "tokeninfo_url = http://t/\n"
					"%s = %s\n", oauth2[i].k23,
					oauth2[i].v23));
	}
	/* times: any unit, in msecs */
	ck_assert_str_eq(args_of(pool, "dovecot_config_version = 2.4.0\n"
		"oauth2 {\n  http_client_request_timeout = 2 mins\n}\n"
		"passdb oauth2 {\n}\n"), "timeout_msecs = 120000\n");
	/* debug = yes <-> log_debug = category=oauth2; not when log_debug
	   is set already; use_grant_password dropped */
	out = export_with(pool, "/o.conf.ext",
		"tokeninfo_url = http://t/\ndebug = yes\n"
		"use_grant_password = yes\n",
		"passdb {\n  args = /o.conf.ext\n  driver = oauth2\n}\n");
	ck_assert_ptr_nonnull(strstr(out, "log_debug = category=oauth2\n"));
	ck_assert_ptr_null(strstr(out, "grant"));
	ck_assert_ptr_null(strstr(out, "args = "));
	out = export_with(pool, "/o.conf.ext",
		"tokeninfo_url = http://t/\ndebug = yes\n",
		"log_debug = category=mail\n"
		"passdb {\n  args = /o.conf.ext\n  driver = oauth2\n}\n");
	ck_assert_ptr_nonnull(strstr(out, "args = /o.conf.ext"));
	ck_assert_str_eq(args_of(pool, "dovecot_config_version = 2.4.0\n"
		"log_debug = category=oauth2\n"
		"oauth2_tokeninfo_url = http://t/\npassdb oauth2 {\n}\n"),
		"tokeninfo_url = http://t/\ndebug = yes\n");
	/* local validation dict */
	out = export_with(pool, "/o.conf.ext",
		"tokeninfo_url = http://t/\n"
		"local_validation_key_dict = proxy:/run/d:keys\n",
		"passdb {\n  args = /o.conf.ext\n  driver = oauth2\n}\n");
	ck_assert_ptr_nonnull(strstr(out, "oauth2_local_validation {\n"
		"  dict proxy {\n    socket_path = /run/d\n"
		"    name = keys\n  }\n}\n"));
	ck_assert_str_eq(args_of(pool, "dovecot_config_version = 2.4.0\n"
		"oauth2 {\n  local_validation {\n    dict proxy {\n"
		"      socket_path = /run/d\n      name = keys\n    }\n"
		"  }\n}\noauth2_tokeninfo_url = http://t/\n"
		"passdb oauth2 {\n}\n"),
		"local_validation_key_dict = proxy:/run/d:keys\n"
		"tokeninfo_url = http://t/\n");
	/* cassandra */
	for (unsigned int i = 0; i < N_ELEMENTS(cass); i++) {
		out = export_with(pool, "/c.conf.ext", p_strdup_printf(pool,
			"driver = cassandra\nconnect = host=h %s\n"
			"password_query = SELECT 1\n", cass[i].p23),
			"passdb {\n  args = /c.conf.ext\n  driver = sql\n}\n");
		want = p_strdup_printf(pool, "%s = %s\n", cass[i].k24,
				       cass[i].v24);
		ck_assert_msg(strstr(out, want) != NULL, "%s: %s",
			      cass[i].p23, out);
		ck_assert_str_eq(args_of(pool, p_strdup_printf(pool,
			"dovecot_config_version = 2.4.0\n"
			"sql_driver = cassandra\ncassandra_hosts = h\n"
			"%s = %s\npassdb sql {\n  query = SELECT 1\n}\n",
			cass[i].k24, cass[i].v24)),
			p_strdup_printf(pool, "driver = cassandra\n"
				"connect = host=h %s\npassword_query = "
				"SELECT 1\ndefault_pass_scheme = PLAIN\n",
				cass[i].p23));
	}
	out = export_with(pool, "/c.conf.ext", "driver = cassandra\n"
		"connect = host=h ssl_verify=cert-dns\n",
		"passdb {\n  args = /c.conf.ext\n  driver = sql\n}\n");
	ck_assert_ptr_nonnull(strstr(out, "args = /c.conf.ext"));
	/* SQL dict: per-field types, typed key fields; a value_type that
	   does not match value_field stays */
	out = export_with(pool, "/d.conf.ext", "connect = host=h\n"
		"map {\n pattern = shared/a/$k\n table = t\n"
		" value_field = a,b\n value_type = uint,hexblob\n"
		" fields {\n  k = ${int:k}\n }\n}\n",
		"dict {\n  x = mysql:/d.conf.ext\n}\n");
	ck_assert_ptr_nonnull(strstr(out, "dict x {\n    driver = sql\n"));
	ck_assert_ptr_nonnull(strstr(out, "      value_field b {\n"
		"        type = hexblob\n      }\n      key_field k {\n"
		"        type = int\n        value = \"$k\"\n"));
	out = export_with(pool, "/d.conf.ext", "connect = host=h\n"
		"map {\n pattern = a\n table = t\n"
		" value_field = a,b\n value_type = uint\n}\n",
		"dict {\n  x = mysql:/d.conf.ext\n}\n");
	ck_assert_ptr_nonnull(strstr(out, "roost_untranslated"));
	pool_destroy(&pool);
}
END_TEST

/* quota and sieve plugin settings <-> 2.4 sections (dialect-shapes.c) */
START_TEST(test_shapes)
{
	pool_t pool = pool_create("test", 4096);
	string_t *out = str_new(1024);
	struct config *config;
	const char *error;

	config = translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"quota \"User quota\" {\n"
		"  storage_size = 1 G\n"
		"}\n"
		"sieve_script x {\n"
		"  type = before\n"
		"  path = /s/%{user | username}.sieve\n"
		"}\n", CONFIG_DIALECT_24, &error);
	ck_assert_msg(config != NULL, "%s", error);
	ck_assert_str_eq(plugin_get(config, "quota"), "count:User quota");
	ck_assert_str_eq(plugin_get(config, "quota_rule"), "*:storage=1G");
	ck_assert_str_eq(plugin_get(config, "quota_vsizes"), "yes");
	ck_assert_str_eq(plugin_get(config, "sieve_before"), "/s/%n.sieve");
	config_free(&config);

	ck_assert_int_eq(dialect_export_24(pool,
		"plugin {\n"
		"  quota = maildir:Q\n"
		"  quota_rule = *:messages=5\n"
		"  sieve = file:~/s;active=~/.s\n"
		"}\n", out, &error), 0);
	ck_assert_str_eq(str_c(out),
		"dovecot_config_version = 2.4.0\n"
		"dovecot_storage_version = 2.4.0\n"
		"submission_max_mail_size = 0\n"
		"auth_allow_weak_schemes = yes\n"
		"mail_cache_max_headers_count = 0\n"
		"mail_cache_max_header_name_length = 0\n"
		"quota Q {\n"
		"  driver = maildir\n"
		"  message_count = 5\n"
		"}\n"
		"sieve_script personal {\n"
		"  driver = file\n"
		"  path = ~/s\n"
		"  active_path = ~/.s\n"
		"}\n"
		"service anvil {\n"
		"  chroot = empty\n"
		"  user = $SET:default_internal_user\n"
		"}\n");
	str_free(&out);
	pool_destroy(&pool);
}
END_TEST

/* plugin settings <-> mailbox NAME { } settings (dialect-mailbox.c) */
START_TEST(test_mailbox_shapes)
{
	pool_t pool = pool_create("test", 4096);
	string_t *out = str_new(1024);
	struct config *config;
	const char *error, *path, *text;

	config = translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"quota A {\n"
		"  storage_size = 1G\n"
		"}\n"
		"quota B {\n"
		"}\n"
		"namespace inbox {\n"
		"  prefix = INBOX.\n"
		"  mailbox Trash {\n"
		"    special_use = \\Trash\n"
		"    quota_ignore = yes\n"
		"    fts_autoindex = no\n"
		"    trash_priority = 5\n"
		"  }\n"
		"  mailbox Spam {\n"
		"    quota B {\n"
		"      quota_storage_extra = 1 M\n"
		"    }\n"
		"    fts_autoindex = no\n"
		"    notify_status = no\n"
		"  }\n"
		"}\n", CONFIG_DIALECT_24, &error);
	ck_assert_msg(config != NULL, "%s", error);
	ck_assert_str_eq(plugin_get(config, "quota_rule2"),
			 "INBOX.Trash:ignore");
	ck_assert_str_eq(plugin_get(config, "quota2_rule"),
			 "INBOX.Trash:ignore");
	ck_assert_str_eq(plugin_get(config, "quota2_rule2"),
			 "INBOX.Spam:storage=+1M");
	ck_assert_str_eq(plugin_get(config, "fts_autoindex_exclude"),
			 "\\Trash");
	ck_assert_str_eq(plugin_get(config, "fts_autoindex_exclude2"),
			 "INBOX.Spam");
	ck_assert_ptr_null(plugin_get(config, "notify_status_mailbox"));
	ck_assert_str_eq(plugin_get(config, "trash"),
			 "/var/run/dovecot/roost-trash.conf.ext");
	ck_assert(dialect_dbfile_get(0, &path, &text));
	ck_assert_str_eq(path, "/var/run/dovecot/roost-trash.conf.ext");
	ck_assert_str_eq(text, "5 INBOX.Trash\n");
	config_free(&config);

	/* the two roots want the two rules in different orders: no 2.4
	   form keeps both, so they stay as 2.3 settings */
	ck_assert_int_eq(dialect_export_24(pool,
		"plugin {\n"
		"  quota = count:A\n"
		"  quota_rule = X:ignore\n"
		"  quota_rule2 = Y:ignore\n"
		"  quota2 = count:B\n"
		"  quota2_rule = Y:ignore\n"
		"  quota2_rule2 = X:ignore\n"
		"  quota_vsizes = yes\n"
		"  lazy_expunge_exclude = Drafts\n"
		"}\n", out, &error), 0);
	ck_assert_msg(strstr(str_c(out), "roost_untranslated {\n"
			     "  plugin {\n    quota = count:A\n") != NULL,
		      "%s", str_c(out));
	ck_assert_msg(strstr(str_c(out), "mailbox Drafts {\n"
			     "  lazy_expunge_mailbox = \n}\n") != NULL,
		      "%s", str_c(out));
	str_free(&out);
	pool_destroy(&pool);
}
END_TEST

/* compat/dialect-plugins.c: list, strlist and execute shapes both ways. */
START_TEST(test_plugin_shapes)
{
	pool_t pool = pool_create("test", 4096);
	string_t *out = str_new(1024);
	struct config *config;
	const char *error;

	config = translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"mail_plugins = mail_compress\n"
		"sieve_editheader_header X-A {\n"
		"  forbid_add = yes\n"
		"  forbid_delete = yes\n"
		"}\n"
		"sieve_virustest_text_value {\n"
		"  3 = bad\n"
		"}\n"
		"sieve_vacation_check_recipient = yes\n"
		"quota_over_status {\n"
		"  execute over {\n"
		"    args = %{user}\n"
		"  }\n"
		"}\n"
		"fts_decoder_driver = tika\n"
		"fts_decoder_tika {\n"
		"  url = http://t/\n"
		"}\n", CONFIG_DIALECT_24, &error);
	ck_assert_msg(config != NULL, "%s", error);
	ck_assert_str_eq(get(config, "mail_plugins"), "zlib");
	ck_assert_str_eq(plugin_get(config, "sieve_editheader_protected"),
			 "X-A");
	ck_assert_str_eq(plugin_get(config, "sieve_virustest_text_value3"),
			 "bad");
	ck_assert_str_eq(plugin_get(config,
				    "sieve_vacation_dont_check_recipient"),
			 "no");
	ck_assert_str_eq(plugin_get(config, "quota_over_script"), "over %u");
	ck_assert_str_eq(plugin_get(config, "fts_tika"), "http://t/");
	config_free(&config);

	ck_assert_ptr_null(translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"welcome {\n"
		"  execute w {\n"
		"    args = %{user | rot13}\n"
		"  }\n"
		"}\n", CONFIG_DIALECT_24, &error));

	ck_assert_int_eq(dialect_export_24(pool,
		"mail_plugins = quota zlib imap_zlib\n"
		"plugin {\n"
		"  charset_aliases = a=b\n"
		"  welcome_script = w %u\n"
		"  quota_set = x\n"
		"}\n", out, &error), 0);
	ck_assert_str_eq(str_c(out),
		"dovecot_config_version = 2.4.0\n"
		"dovecot_storage_version = 2.4.0\n"
		"submission_max_mail_size = 0\n"
		"auth_allow_weak_schemes = yes\n"
		"mail_cache_max_headers_count = 0\n"
		"mail_cache_max_header_name_length = 0\n"
		"mail_plugins = quota mail_compress\n"
		"charset_aliases {\n"
		"  a = b\n"
		"}\n"
		"welcome {\n"
		"  execute w {\n"
		"    args = %{user}\n"
		"  }\n"
		"}\n"
		"service anvil {\n"
		"  chroot = empty\n"
		"  user = $SET:default_internal_user\n"
		"}\n");
	str_free(&out);
	pool_destroy(&pool);
}
END_TEST

/* acl { } filters -> a registered 2.3 global ACL file (compat/
 * dialect-acl.c) and acl_ignore_namespace; back through --as 2.4. */
START_TEST(test_acl)
{
	pool_t pool = pool_create("test", 4096);
	string_t *out = str_new(1024);
	struct config *config;
	const char *error, *path, *text;

	config = translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"dovecot_storage_version = 2.4.0\n"
		"base_dir = /tmp/roost-check-acl\n"
		"acl_driver = vfile\n"
		"acl anyone {\n  rights = l\n}\n"
		"namespace inbox {\n  inbox = yes\n"
		"  mailbox Spam {\n    acl owner {\n      rights = -x\n"
		"    }\n  }\n}\n"
		"namespace tmp {\n  prefix = Tmp/\n  acl_ignore = yes\n"
		"  acl user=bob {\n    acl_rights = lr\n  }\n}\n",
		CONFIG_DIALECT_24, &error);
	ck_assert_msg(config != NULL, "%s", error);
	ck_assert_str_eq(plugin_get(config, "acl"),
			 "vfile:/tmp/roost-check-acl/roost-global-acl");
	ck_assert_str_eq(plugin_get(config, "acl_ignore_namespace"), "Tmp/");
	ck_assert(genfile_iter("acl", 0, &path, &text));
	ck_assert_str_eq(path, "/tmp/roost-check-acl/roost-global-acl");
	ck_assert_str_eq(text, "* anyone l\nSpam -owner x\nTmp/* user=bob lr\n");
	ck_assert_str_eq(genfile_get(path), text);
	ck_assert(!genfile_iter("acl", 1, &path, &text));
	config_free(&config);

	/* the registered file comes back as the filters */
	ck_assert_int_eq(dialect_export_24(pool,
		"namespace inbox {\n  inbox = yes\n  prefix = \n}\n"
		"namespace tmp {\n  prefix = Tmp/\n}\n"
		"plugin {\n"
		"  acl = vfile:/tmp/roost-check-acl/roost-global-acl\n"
		"  acl_ignore_namespace = Tmp/\n"
		"  master_user = boss\n"
		"}\n", out, &error), 0);
	ck_assert_str_eq(str_c(out),
		"dovecot_config_version = 2.4.0\n"
		"dovecot_storage_version = 2.4.0\n"
		"submission_max_mail_size = 0\n"
		"auth_allow_weak_schemes = yes\n"
		"mail_cache_max_headers_count = 0\n"
		"mail_cache_max_header_name_length = 0\n"
		"namespace inbox {\n  inbox = yes\n  prefix = \n"
		"  mailbox Spam {\n    acl owner {\n      rights = -x\n"
		"    }\n  }\n}\n"
		"namespace tmp {\n  prefix = Tmp/\n  acl_ignore = yes\n"
		"  acl user=bob {\n    rights = lr\n  }\n}\n"
		"acl_driver = vfile\n"
		"acl anyone {\n  rights = l\n}\n"
		"service anvil {\n  chroot = empty\n"
		"  user = $SET:default_internal_user\n}\n");
	genfile_reset("acl");
	ck_assert(!genfile_iter("acl", 0, &path, &text));

	/* two rules of one identifier that 2.3 would add up */
	ck_assert(translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"acl_driver = vfile\n"
		"acl owner {\n  rights = lrwstipekxa\n}\n"
		"namespace inbox {\n  mailbox Spam {\n"
		"    acl owner {\n      rights = lr\n    }\n  }\n}\n",
		CONFIG_DIALECT_24, &error) == NULL);
	ck_assert_str_eq(error, "Error in configuration file t.conf line 8: "
		"acl owner { }: no Dovecot 2.3 form (it replaces the rights "
		"of acl owner { } at t.conf:3 for mailboxes both match; a 2.3 "
		"global ACL file adds them up)");
	/* wildcard patterns: overlapping ones of one identifier refused,
	   disjoint ones fine */
	ck_assert(translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"acl_driver = vfile\n"
		"namespace inbox {\n"
		"  mailbox Pub* {\n    acl owner {\n      rights = lr\n"
		"    }\n  }\n"
		"  mailbox P?b/*x {\n    acl owner {\n      rights = lrs\n"
		"    }\n  }\n}\n",
		CONFIG_DIALECT_24, &error) == NULL);
	ck_assert_msg(strstr(error, "line 10: acl owner { }: no Dovecot 2.3 "
			     "form") != NULL, "%s", error);
	config = translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"acl_driver = vfile\n"
		"namespace inbox {\n"
		"  mailbox Pub* {\n    acl owner {\n      rights = lr\n"
		"    }\n  }\n"
		"  mailbox Pri?/*x {\n    acl owner {\n      rights = lrs\n"
		"    }\n  }\n"
		"  mailbox **********************************a* {\n"
		"    acl user=x {\n      rights = l\n    }\n  }\n"
		"  mailbox ***********************************b* {\n"
		"    acl user=x {\n      rights = lr\n    }\n  }\n}\n",
		CONFIG_DIALECT_24, &error);
	ck_assert(config == NULL);	/* the last two overlap */
	ck_assert_msg(strstr(error, "line 20: acl user=x { }") != NULL,
		      "%s", error);
	config = translate(pool,
		"dovecot_config_version = 2.4.0\n"
		"acl_driver = vfile\n"
		"namespace inbox {\n"
		"  mailbox Pub* {\n    acl owner {\n      rights = lr\n"
		"    }\n  }\n"
		"  mailbox Pri?/*x {\n    acl owner {\n      rights = lrs\n"
		"    }\n  }\n}\n",
		CONFIG_DIALECT_24, &error);
	ck_assert_msg(config != NULL, "%s", error);
	config_free(&config);
	genfile_reset("acl");
	str_free(&out);
	pool_destroy(&pool);
}
END_TEST

Suite *make_dialect_suite(void)
{
	Suite *s = suite_create("dialect");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_var_tables);
	tcase_add_test(tc, test_var_errors);
	tcase_add_test(tc, test_root_renames);
	tcase_add_test(tc, test_plugin_renames);
	tcase_add_test(tc, test_location);
	tcase_add_test(tc, test_errors_name_line);
	tcase_add_test(tc, test_1x);
	tcase_add_test(tc, test_export_24);
	tcase_add_test(tc, test_dbfile);
	tcase_add_test(tc, test_dbfile_rows);
	tcase_add_test(tc, test_shapes);
	tcase_add_test(tc, test_version_defaults);
	tcase_add_test(tc, test_mailbox_shapes);
	tcase_add_test(tc, test_plugin_shapes);
	tcase_add_test(tc, test_acl);
	suite_add_tcase(s, tc);
	return s;
}

/* check_config_yaml.c - doveconf --yaml output and its loader: round trips
 * through YAML keep every setting, hostile YAML fails with an error. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib.h"
#include "config-parser.h"
#include "config-export.h"
#include "config-yaml.h"
#include "str.h"

static const char *const roundtrip_conf =
	"protocols = imap pop3 lmtp\n"
	"mail_location = maildir:~/Maildir:LAYOUT=fs\n"
	"auth_mechanisms = plain login\n"
	"namespace inbox {\n"
	"  inbox = yes\n"
	"  separator = /\n"
	"  mailbox \"Sent Messages\" {\n"
	"    special_use = \\Sent\n"
	"    auto = subscribe\n"
	"  }\n"
	"  mailbox Trash {\n"
	"    special_use = \\Trash\n"
	"  }\n"
	"}\n"
	"namespace shared {\n"
	"  type = shared\n"
	"  prefix = shared/%u/\n"
	"  location = maildir:%h/Maildir:INDEX=~/shared/%u\n"
	"}\n"
	"service imap-login {\n"
	"  inet_listener imap {\n"
	"    port = 0\n"
	"  }\n"
	"  inet_listener imaps {\n"
	"    port = 993\n"
	"    ssl = yes\n"
	"  }\n"
	"  process_min_avail = 4\n"
	"}\n"
	"service auth {\n"
	"  unix_listener /var/spool/postfix/private/auth {\n"
	"    mode = 0660\n"
	"    user = postfix\n"
	"  }\n"
	"}\n"
	"passdb {\n"
	"  driver = pam\n"
	"}\n"
	"passdb named {\n"
	"  driver = passwd-file\n"
	"  args = scheme=CRYPT /etc/roost/users\n"
	"}\n"
	"userdb {\n"
	"  driver = passwd\n"
	"}\n"
	"plugin {\n"
	"  quota = maildir:User quota\n"
	"  quota_rule = *:storage=1G\n"
	"  sieve = file:~/sieve;active=~/.dovecot.sieve\n"
	"}\n"
	"protocol imap {\n"
	"  mail_max_userip_connections = 20\n"
	"  mail_plugins = $mail_plugins imap_quota\n"
	"}\n"
	"local 192.0.2.0/24 {\n"
	"  protocol pop3 {\n"
	"    pop3_uidl_format = %08Xu%08Xv\n"
	"  }\n"
	"}\n"
	"remote 2001:db8::/32 {\n"
	"  login_greeting = v6 lab\n"
	"}\n"
	"local_name mail.example.com {\n"
	"  ssl_cert = </etc/ssl/mail.pem\n"
	"}\n";

static struct config *parse_conf(const char *text)
{
	struct config *config;
	const char *error = NULL;

	if (config_parse_string("test.conf", text, 0, &config, &error) < 0)
		ck_abort_msg("config_parse_string: %s", error);
	return config;
}

/* The YAML of config in scope, as a malloc()ed string. */
static char *dump_yaml(struct config *config, enum config_dump_scope scope)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	const char *error = NULL;

	ck_assert_ptr_nonnull(f);
	if (config_yaml_dump(config, scope, f, &error) < 0)
		ck_abort_msg("config_yaml_dump: %s", error);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static struct config *load_yaml(const char *yaml)
{
	struct config *config = NULL;
	const char *error = NULL;

	if (config_yaml_load_string("test.yaml", yaml, strlen(yaml), 0,
				    &config, &error) < 0)
		ck_abort_msg("config_yaml_load_string: %s\n%s", error, yaml);
	ck_assert_ptr_nonnull(config);
	return config;
}

/* Expect a load failure whose message contains want. */
static void load_fails(const char *yaml, size_t size, const char *want)
{
	struct config *config = (struct config *)1;
	const char *error = NULL;

	ck_assert_int_eq(config_yaml_load_string("bad.yaml", yaml, size, 0,
						 &config, &error), -1);
	ck_assert_ptr_null(config);
	ck_assert_ptr_nonnull(error);
	if (strstr(error, want) == NULL)
		ck_abort_msg("error \"%s\" lacks \"%s\"", error, want);
}

static const char *plugin_get(struct config_node *root, const char *key)
{
	int idx = setting_info_find(root->info, "plugin");

	ck_assert_int_ge(idx, 0);
	return config_node_strlist_get(&root->slots[idx], key);
}

/* ---- Core ---- */

START_TEST(test_roundtrip_full)
{
	struct config *config = parse_conf(roundtrip_conf), *back;
	char *yaml = dump_yaml(config, CONFIG_DUMP_SCOPE_CHANGED), *yaml2;

	back = load_yaml(yaml);
	yaml2 = dump_yaml(back, CONFIG_DUMP_SCOPE_CHANGED);
	ck_assert_str_eq(yaml2, yaml);

	/* a few values looked up in the loaded tree */
	struct config_node *root = back->blocks[0]->root;

	ck_assert_str_eq(config_node_get(root, "mail_location"),
			 "maildir:~/Maildir:LAYOUT=fs");
	ck_assert_str_eq(config_node_get(root,
		"service/imap-login/inet_listener/imaps/port"), "993");
	ck_assert_str_eq(config_node_get(root,
		"service/imap-login/process_min_avail"), "4");
	ck_assert_str_eq(config_node_get(root,
		"namespace/inbox/mailbox/Sent\\_Messages/auto"), "subscribe");
	ck_assert_str_eq(config_node_get(root,
		"service/auth/unix_listener/"
		"\\svar\\sspool\\spostfix\\sprivate\\sauth/user"), "postfix");
	ck_assert_str_eq(config_node_get(root, "passdb/1/name"), "named");
	ck_assert_str_eq(plugin_get(root, "quota"),
			 "maildir:User quota");
	ck_assert_ptr_nonnull(strstr(yaml, "filters:"));
	ck_assert_ptr_nonnull(strstr(yaml, "local: 192.0.2.0/24"));
	ck_assert_ptr_nonnull(strstr(yaml, "local_name: mail.example.com"));
	free(yaml);
	free(yaml2);
	config_free(&back);
	config_free(&config);
}
END_TEST

/* Filter blocks come back with the same filters and settings. */
START_TEST(test_roundtrip_filters)
{
	struct config *config = parse_conf(roundtrip_conf), *back;
	char *yaml = dump_yaml(config, CONFIG_DUMP_SCOPE_CHANGED);
	struct config_filter f;
	struct config_node *root;
	const char *error;

	back = load_yaml(yaml);
	memset(&f, 0, sizeof(f));
	f.protocol = "imap";
	ck_assert_int_eq(config_get_merged(back, &f, &root, &error), 0);
	ck_assert_str_eq(config_node_get(root, "mail_max_userip_connections"),
			 "20");
	ck_assert_int_eq(config_filter_parse_arg(back->pool, &f,
		"local=192.0.2.7", &error), 0);
	f.protocol = "pop3";
	ck_assert_int_eq(config_get_merged(back, &f, &root, &error), 0);
	ck_assert_str_eq(config_node_get(root, "pop3_uidl_format"),
			 "%08Xu%08Xv");
	free(yaml);
	config_free(&back);
	config_free(&config);
}
END_TEST

START_TEST(test_quoting)
{
	static const char *const conf =
		"login_greeting = \"  two blanks, # hash, \\\"dq\\\" "
		"'sq' \\\\ bs  \"\n"
		"postmaster_address = \"\"\n"
		"mail_log_prefix = \"%s(%u): \"\n"
		"hostname = \"colon: here\"\n"
		"auth_anonymous_username = \"$not_a_variable\"\n"
		"plugin {\n"
		"  note = \"#start\"\n"
		"}\n";
	struct config *config = parse_conf(conf), *back;
	char *yaml = dump_yaml(config, CONFIG_DUMP_SCOPE_CHANGED), *yaml2;
	struct config_node *root;

	ck_assert_ptr_nonnull(strstr(yaml, "mail_log_prefix: \"%s(%u): \""));
	ck_assert_ptr_nonnull(strstr(yaml, "hostname: \"colon: here\""));
	back = load_yaml(yaml);
	root = back->blocks[0]->root;
	ck_assert_str_eq(config_node_get(root, "login_greeting"),
			 "  two blanks, # hash, \"dq\" 'sq' \\ bs  ");
	ck_assert_str_eq(config_node_get(root, "mail_log_prefix"),
			 "%s(%u): ");
	ck_assert_str_eq(config_node_get(root, "hostname"), "colon: here");
	ck_assert_str_eq(config_node_get(root, "auth_anonymous_username"),
			 "$not_a_variable");
	ck_assert_str_eq(plugin_get(root, "note"), "#start");
	yaml2 = dump_yaml(back, CONFIG_DUMP_SCOPE_CHANGED);
	ck_assert_str_eq(yaml2, yaml);
	free(yaml);
	free(yaml2);
	config_free(&back);
	config_free(&config);
}
END_TEST

/* Hand-written YAML: any scalar style, keys in any order. */
START_TEST(test_handwritten)
{
	static const char *const yaml =
		"settings:\n"
		"  service:\n"
		"  - process_limit: '7'\n"
		"    name: imap\n"
		"  namespace: [{name: inbox, inbox: 'yes', prefix: ''}]\n"
		"  login_greeting: >-\n"
		"    folded\n"
		"    text\n"
		"filters:\n"
		"- settings: {mail_debug: 'yes'}\n"
		"  filter: {protocol: lmtp}\n";
	struct config *config = load_yaml(yaml);
	struct config_node *root = config->blocks[0]->root;

	ck_assert_str_eq(config_node_get(root, "service/imap/process_limit"),
			 "7");
	ck_assert_str_eq(config_node_get(root, "namespace/inbox/inbox"),
			 "yes");
	ck_assert_str_eq(config_node_get(root, "login_greeting"),
			 "folded text");
	ck_assert_uint_eq(config->block_count, 2);
	ck_assert_str_eq(config->blocks[1]->filter.protocol, "lmtp");
	config_free(&config);
}
END_TEST

START_TEST(test_scope_all)
{
	struct config *config = parse_conf(roundtrip_conf), *back;
	char *yaml = dump_yaml(config, CONFIG_DUMP_SCOPE_ALL);

	/* every default is there */
	ck_assert_ptr_nonnull(strstr(yaml, "base_dir: /run/dovecot"));
	back = load_yaml(yaml);
	ck_assert_str_eq(config_node_get(back->blocks[0]->root, "protocols"),
			 "imap pop3 lmtp");
	free(yaml);
	config_free(&back);
	config_free(&config);
}
END_TEST

START_TEST(test_empty)
{
	struct config *config = load_yaml("");

	ck_assert_uint_eq(config->block_count, 1);
	config_free(&config);
	config = load_yaml("settings: {}\n");
	config_free(&config);
}
END_TEST

/* ---- Limits ---- */

static char *nested(unsigned int depth)
{
	char *s = malloc(depth * 2 + 2);

	ck_assert_ptr_nonnull(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[depth * 2] = '\n';
	s[depth * 2 + 1] = '\0';
	return s;
}

START_TEST(test_depth_limit)
{
	char *s = nested(32);

	/* 32 levels parse (and are then refused for what they are) */
	load_fails(s, strlen(s), "The document must be a mapping");
	free(s);
	s = nested(33);
	load_fails(s, strlen(s), "Nesting deeper than 32 levels");
	free(s);
}
END_TEST

START_TEST(test_size_limit)
{
	size_t size = 16 * 1024 * 1024 + 1;
	char *s = malloc(size + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, '#', size);
	s[size] = '\0';
	load_fails(s, size, "larger than 16 MB");
	free(s);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_unclosed_quote)
{
	static const char yaml[] = "settings:\n  hostname: \"abc\n";

	load_fails(yaml, strlen(yaml), "YAML error in bad.yaml line 3:");
	load_fails(yaml, strlen(yaml), "quoted scalar");
}
END_TEST

START_TEST(test_sequence_for_mapping)
{
	static const char yaml[] = "settings:\n  - hostname\n";
	static const char yaml2[] = "settings:\n  plugin:\n    - a\n";
	static const char yaml3[] = "filters:\n- [protocol, imap]\n";

	load_fails(yaml, strlen(yaml),
		   "line 2: settings must be a mapping, not a sequence");
	load_fails(yaml2, strlen(yaml2), "line 3: plugin must be a mapping");
	load_fails(yaml3, strlen(yaml3), "line 2: filters entries must be");
}
END_TEST

START_TEST(test_deep_nesting)
{
	char *s = nested(1000);

	load_fails(s, strlen(s), "YAML error in bad.yaml line 1: Nesting");
	free(s);
	/* the same in block style */
	string_t *str = str_new(64 * 1024);

	for (unsigned int i = 0; i < 1000; i++) {
		for (unsigned int j = 0; j < i; j++)
			str_append_c(str, ' ');
		str_append(str, "a:\n");
	}
	load_fails(str_c(str), str_len(str), "Nesting deeper than 32");
	str_free(&str);
}
END_TEST

START_TEST(test_malformed_misc)
{
	static const struct {
		const char *yaml, *error;
	} tests[] = {
		{ "settings: &a {hostname: x}\nfilters: *a\n",
		  "line 2: Aliases are not supported" },
		{ "settings: {}\n---\nsettings: {}\n", "More than one document" },
		{ "settings:\n  hostname: x\n  hostname: y\n",
		  "line 3: Duplicate key: hostname" },
		{ "settings:\n  no_such_setting: x\n",
		  "line 2: Unknown setting: no_such_setting" },
		{ "settings:\n  hostname: \"a\\0b\"\n", "contains NUL" },
		{ "settings:\n  hostname: \"a\\nb\"\n", "line break" },
		{ "settings:\n  hostname: [a]\n", "must be a single value" },
		{ "settings:\n  service:\n  - name: \"x\\n}\"\n",
		  "line break" },
		{ "settings:\n  plugin:\n    \"a = b\": c\n",
		  "Invalid key in plugin" },
		{ "settings:\n  service: [imap]\n",
		  "service entries must be mappings" },
		{ "filters:\n- settings: {hostname: x}\n",
		  "filters entry without filter" },
		{ "filters:\n- filter: {}\n", "Empty filter" },
		{ "filters:\n- filter: {port: 1}\n", "Unknown filter: port" },
		{ "other: 1\n", "Unknown top-level key: other" },
		{ "- a\n", "The document must be a mapping" },
		{ "settings:\n  ? [a]\n  : b\n", "mapping key must be" },
		{ "settings:\n\thostname: x\n", "YAML error in bad.yaml line 2" },
		/* found by the config parser, reported at the YAML line */
		{ "settings:\n  hostname: x\n  mail_debug: maybe\n",
		  "bad.yaml line 3: Invalid boolean" },
		{ "filters:\n- filter: {remote: 10.0.0.0/8}\n"
		  "  settings:\n    auth_debug: 'yes'\n",
		  "bad.yaml line 4: Auth settings not supported" },
	};

	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++)
		load_fails(tests[i].yaml, strlen(tests[i].yaml),
			   tests[i].error);
}
END_TEST

START_TEST(test_invalid_utf8_dump)
{
	struct config *config = parse_conf("login_greeting = caf\xe9\n");
	const char *error = NULL;
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	ck_assert_int_eq(config_yaml_dump(config, CONFIG_DUMP_SCOPE_CHANGED,
					  f, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "login_greeting"));
	fclose(f);
	ck_assert_uint_eq(size, 0);	/* nothing half-written */
	free(buf);
	config_free(&config);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config *config;
	const char *error;

	ck_assert_int_eq(config_yaml_load("/nonexistent/x.yaml", 0, &config,
					  &error), -1);
	ck_assert_ptr_null(config);
	ck_assert_ptr_nonnull(strstr(error, "open(/nonexistent/x.yaml)"));
}
END_TEST

Suite *make_config_yaml_suite(void);
Suite *make_config_yaml_suite(void)
{
	Suite *s = suite_create("config_yaml");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_roundtrip_full);
	tcase_add_test(tc, test_roundtrip_filters);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_handwritten);
	tcase_add_test(tc, test_scope_all);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_size_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_unclosed_quote);
	tcase_add_test(tc, test_sequence_for_mapping);
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_malformed_misc);
	tcase_add_test(tc, test_invalid_utf8_dump);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return s;
}

/* check_config_parser.c - unit tests of confparse/config-parser.c: the
 * dovecot.conf language (lexing, sections, filters, $variables,
 * includes) and Dovecot 2.3's error texts. Every expectation was checked
 * against Debian's doveconf 2.3.19 ("doveconf -n -c FILE"). */
#include "suites.h"
#include "config-tree.h"
#include "config-check.h"
#include "str.h"

#include <stdio.h>

#define E1 "Error in configuration file t.conf line 1: "
#define E2 "Error in configuration file t.conf line 2: "
#define E3 "Error in configuration file t.conf line 3: "

static void setup(void)
{
	test_log_capture_start();
}

static void teardown(void)
{
	test_log_capture_stop();
}

/* The global value of path after parsing text must be expected. */
static void assert_value(const char *text, const char *path,
			 const char *expected)
{
	char *value = test_parse_get(text, path);

	ck_assert_msg(value != NULL, "%s not found", path);
	ck_assert_msg(strcmp(value, expected) == 0,
		      "%s = '%s', expected '%s'", path, value, expected);
	free(value);
}

/* Parsing text must fail with exactly expected. */
static void assert_error(const char *text, const char *expected)
{
	const char *error = test_parse_fail(text);

	ck_assert_msg(strcmp(error, expected) == 0, "error '%s', expected '%s'",
		      error, expected);
}

/* The block whose filter has this protocol. */
static struct config_block *protocol_block(struct config *config,
					   const char *protocol)
{
	for (unsigned int i = 1; i < config->block_count; i++) {
		if (null_strcmp(config->blocks[i]->filter.protocol,
				protocol) == 0)
			return config->blocks[i];
	}
	ck_abort_msg("no protocol %s block", protocol);
	return NULL;
}

/* ---- Core: lexing ---- */

START_TEST(test_parse_key_value)
{
	struct config *config =
		test_parse("mail_location = maildir:~/Maildir\n"
			   "login_greeting=no spaces\n"
			   "\tmail_max_userip_connections\t=\t20\t\n");

	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(test_get(config, "mail_location"),
			 "maildir:~/Maildir");
	ck_assert_str_eq(test_get(config, "login_greeting"), "no spaces");
	ck_assert_str_eq(test_get(config, "mail_max_userip_connections"),
			 "20");
	/* untouched settings keep their schema defaults */
	ck_assert_str_eq(test_get(config, "auth_mechanisms"), "plain");
	ck_assert_str_eq(test_get(config, "imap_max_line_length"), "64 k");
	ck_assert_ptr_null(test_get(config, "no_such_setting"));
	config_free(&config);
	ck_assert_ptr_null(config);
}
END_TEST

START_TEST(test_parse_whitespace_kept)
{
	assert_value("login_greeting = Hello   there   \n", "login_greeting",
		     "Hello   there");
	assert_value("login_greeting = a = b\n", "login_greeting", "a = b");
	assert_value("login_greeting=x\n", "login_greeting", "x");
}
END_TEST

START_TEST(test_parse_last_wins)
{
	assert_value("login_greeting = one\nlogin_greeting = two\n"
		     "login_greeting = three\n", "login_greeting", "three");
}
END_TEST

START_TEST(test_parse_comments)
{
	assert_value("# a comment\n   # indented comment\n\n"
		     "mail_max_userip_connections = 10 # limit\n",
		     "mail_max_userip_connections", "10");
	ck_assert_str_eq(test_log_captured(), "");
	assert_value("login_greeting = \"a # b\"\n", "login_greeting",
		     "a # b");
	assert_value("login_greeting = \"a # b\" # c\n", "login_greeting",
		     "a # b");
	ck_assert_str_eq(test_log_captured(), "");
}
END_TEST

START_TEST(test_parse_glued_hash)
{
	assert_value("mail_location = maildir:~/M#x\n", "mail_location",
		     "maildir:~/M");
	ck_assert_str_eq(test_log_captured(),
		"Warning: Configuration file t.conf line 1: Ambiguous '#' "
		"character in line, treating it as comment. Add a space "
		"before it to remove this warning.\n");
}
END_TEST

START_TEST(test_parse_continuation)
{
	assert_value("auth_mechanisms = plain \\\n  login\n",
		     "auth_mechanisms", "plain login");
	assert_value("auth_mechanisms = plain\\\n login \\\n  cram-md5\n",
		     "auth_mechanisms", "plain login cram-md5");
}
END_TEST

START_TEST(test_parse_quotes)
{
	assert_value("login_greeting = \"Hello \\\"world\\\"\"\n",
		     "login_greeting", "Hello \"world\"");
	assert_value("login_greeting = 'it''s'\n", "login_greeting",
		     "it''s");
	assert_value("login_trusted_networks = \"10.0.0.0/8\" "
		     "\"192.168.0.0/16\"\n", "login_trusted_networks",
		     "10.0.0.0/8\" \"192.168.0.0/16");
	assert_value("login_greeting = \"\"\n", "login_greeting", "");
	assert_value("login_greeting = \"abc\n", "login_greeting", "\"abc");
}
END_TEST

START_TEST(test_parse_crlf)
{
	struct config *config =
		test_parse("login_greeting = x\r\nmail_location = y\r\n");

	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(test_get(config, "login_greeting"), "x");
	ck_assert_str_eq(test_get(config, "mail_location"), "y");
	config_free(&config);
}
END_TEST

START_TEST(test_parse_empty)
{
	struct config *config = test_parse("");

	ck_assert_ptr_nonnull(config);
	ck_assert_uint_eq(config->block_count, 1);
	ck_assert_str_eq(test_get(config, "login_greeting"),
			 "Dovecot (Debian) ready.");
	config_free(&config);
	config = test_parse("# only\n\n   \n# comments\n");
	ck_assert_ptr_nonnull(config);
	config_free(&config);
}
END_TEST

START_TEST(test_parse_typed_values)
{
	struct config *config =
		test_parse("imap_max_line_length = 1048576\n"
			   "imap_idle_notify_interval = 60s\n"
			   "verbose_ssl = YES\n"
			   "ssl = required\n"
			   "imap_urlauth_port = 1143\n"
			   "mail_max_userip_connections = 007\n");

	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(test_get(config, "imap_max_line_length"), "1 M");
	ck_assert_str_eq(test_get(config, "imap_idle_notify_interval"),
			 "1 mins");
	ck_assert_str_eq(test_get(config, "verbose_ssl"), "yes");
	ck_assert_str_eq(test_get(config, "ssl"), "required");
	ck_assert_str_eq(test_get(config, "imap_urlauth_port"), "1143");
	ck_assert_str_eq(test_get(config, "mail_max_userip_connections"), "7");
	config_free(&config);
}
END_TEST

START_TEST(test_parse_value_errors)
{
	assert_error("verbose_ssl = true\n",
		     E1 "Invalid boolean value: true (use yes or no)");
	assert_error("mail_max_userip_connections = abc\n",
		     E1 "Invalid number abc: Not a valid number");
	assert_error("\nimap_max_line_length = 1.5M\n",
		     E2 "Invalid size: 1.5M");
	assert_error("imap_idle_notify_interval = 10\n",
		     E1 "Time interval '10' is missing units (add e.g. 's' "
		     "for seconds)");
	assert_error("imap_idle_notify_interval = 100ms\n",
		     E1 "Milliseconds not supported for this setting: 100ms");
	assert_error("ssl = abc\n", E1 "Invalid value: abc");
	assert_error("imap_urlauth_port = 70000\n",
		     E1 "Invalid port number 70000");
	assert_error("service auth {\n unix_listener x {\n  mode = 0999\n"
		     " }\n}\n", E3 "Invalid number: 0999");
}
END_TEST

START_TEST(test_parse_octal_mode)
{
	assert_value("service auth {\n unix_listener x {\n  mode = 666\n"
		     " }\n}\n", "service/auth/unix_listener/x/mode", "01232");
	assert_value("service auth {\n unix_listener x {\n  mode = 0666\n"
		     " }\n}\n", "service/auth/unix_listener/x/mode", "0666");
}
END_TEST

START_TEST(test_parse_msecs_setting)
{
	assert_value("event_exporter x {\n transport_timeout = 250 ms\n}\n",
		     "event_exporter/x/transport_timeout", "250 ms");
}
END_TEST

/* ---- Core: $variables and <file ---- */

START_TEST(test_parse_var_self)
{
	assert_value("mail_plugins = quota\n"
		     "mail_plugins = $mail_plugins acl\n",
		     "mail_plugins", "quota acl");
	/* the default of an unset setting is "" */
	assert_value("mail_plugins = $mail_plugins quota\n",
		     "mail_plugins", " quota");
}
END_TEST

START_TEST(test_parse_var_in_filter)
{
	struct config *config =
		test_parse("mail_plugins = quota\n"
			   "mail_plugins = $mail_plugins acl\n"
			   "protocol imap {\n"
			   "  mail_plugins = $mail_plugins imap_quota\n"
			   "}\n");
	struct config_block *imap;

	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(test_get(config, "mail_plugins"), "quota acl");
	imap = protocol_block(config, "imap");
	ck_assert_str_eq(config_node_get(imap->root, "mail_plugins"),
			 "quota acl imap_quota");
	config_free(&config);
}
END_TEST

START_TEST(test_parse_var_nested_filters)
{
	struct config *config =
		test_parse("mail_plugins = quota\n"
			   "local 1.2.3.4 {\n"
			   "  mail_plugins = $mail_plugins l\n"
			   "  protocol imap {\n"
			   "    mail_plugins = $mail_plugins imap_quota\n"
			   "  }\n"
			   "}\n");

	ck_assert_ptr_nonnull(config);
	ck_assert_uint_eq(config->block_count, 3);
	ck_assert_str_eq(config_node_get(config->blocks[1]->root,
					 "mail_plugins"), "quota l");
	ck_assert_str_eq(config_node_get(config->blocks[2]->root,
					 "mail_plugins"),
			 "quota l imap_quota");
	config_free(&config);
}
END_TEST

START_TEST(test_parse_var_quoted_literal)
{
	assert_value("mail_location = maildir:~/M\n"
		     "mail_location = \"$mail_location\"\n",
		     "mail_location", "$mail_location");
}
END_TEST

START_TEST(test_parse_var_unknown)
{
	/* Dovecot 2.3 expands only a setting's reference to itself; other
	 * $words stay literal, known or not (doveconf -x refuses unknown
	 * ones: test_parse_var_expand_all) */
	assert_value("mail_plugins = $nonexistent acl\n", "mail_plugins",
		     "$nonexistent acl");
	assert_value("mail_location = maildir:~/M\n"
		     "login_greeting = $mail_location x\n",
		     "login_greeting", "$mail_location x");
	/* a self-reference re-joins the words with single spaces */
	assert_value("mail_plugins = $mail_plugins  acl   x\n",
		     "mail_plugins", " acl x");
	assert_value("mail_plugins = a  b\n", "mail_plugins", "a  b");
	/* any '$' re-joins the words, even without a self-reference */
	assert_value("login_greeting = a   b   $mail_location  c\n",
		     "login_greeting", "a b $mail_location c");
	/* a self-reference the lookup cannot resolve is an error */
	assert_error("plugin {\n  quota = $quota x\n}\n",
		     E2 "Unknown variable: $quota");
	assert_error("service imap {\n  executable = $executable x\n}\n",
		     E2 "Unknown variable: $executable");
}
END_TEST

START_TEST(test_parse_var_not_word_start)
{
	assert_value("mail_plugins = a$mail_plugins\n", "mail_plugins",
		     "a$mail_plugins");
}
END_TEST

START_TEST(test_parse_var_expand_all)
{
	struct config *config;

	/* doveconf -x: every $setting and $ENV:name is expanded */
	config = test_parse_flags("mail_location = maildir:~/M\n"
		"login_greeting = $mail_location x $hostname y\n"
		"imap_capability = $default_vsz_limit $mail_debug "
		"$service/imap-login/inet_listener/imap/port "
		"pre$mail_location\n"
		"protocol imap {\n"
		"  login_greeting = a $mail_location b $login_greeting\n"
		"}\n", CONFIG_PARSE_EXPAND_VARIABLES);
	ck_assert_msg(config != NULL, "%s", test_parse_error());
	ck_assert_str_eq(test_get(config, "login_greeting"),
			 "maildir:~/M x  y");
	ck_assert_str_eq(test_get(config, "imap_capability"),
			 "256 M no 143 pre$mail_location");
	/* inside a filter another setting is the filter's own (a default
	   here), a self-reference the enclosing value */
	ck_assert_str_eq(config_node_get(protocol_block(config, "imap")->root,
					 "login_greeting"),
			 "a  b maildir:~/M x  y");
	config_free(&config);

	config = test_parse_flags("login_greeting = $ENV:ROOST_UNIT_ENV x\n",
				  CONFIG_PARSE_EXPAND_VARIABLES);
	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(test_get(config, "login_greeting"), " x");
	config_free(&config);

	ck_assert_ptr_null(test_parse_flags("mail_plugins = $nonexistent acl\n",
					    CONFIG_PARSE_EXPAND_VARIABLES));
	ck_assert_str_eq(test_parse_error(),
			 E1 "Unknown variable: $nonexistent");
	ck_assert_ptr_null(test_parse_flags("login_greeting = $namespace\n",
					    CONFIG_PARSE_EXPAND_VARIABLES));
	ck_assert_str_eq(test_parse_error(), E1 "Invalid variable: $namespace");
	/* a tab does not split words */
	ck_assert_ptr_null(test_parse_flags("login_greeting = $mail_location\t"
					    "$mail_location\n",
					    CONFIG_PARSE_EXPAND_VARIABLES));
	ck_assert_str_eq(test_parse_error(), E1 "Unknown variable: "
			 "$mail_location\t$mail_location");
}
END_TEST

START_TEST(test_parse_global_override_warning)
{
	struct config *config = test_parse("protocol imap {\n"
		"  mail_plugins = a\n"
		"}\n"
		"protocol pop3 {\n"
		"  login_greeting = x\n"
		"  mail_plugins = b\n"
		"}\n"
		"mail_plugins = c\n"
		"login_greeting = y\n"
		"mail_debug = yes\n");

	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(test_log_captured(),
		"Warning: t.conf line 8: Global setting mail_plugins won't "
		"change the setting inside an earlier filter at t.conf line 2 "
		"(if this is intentional, avoid this warning by moving the "
		"global setting before t.conf line 2)\n"
		"Warning: t.conf line 9: Global setting login_greeting won't "
		"change the setting inside an earlier filter at t.conf line 5 "
		"(if this is intentional, avoid this warning by moving the "
		"global setting before t.conf line 5)\n");
	/* the global value is set all the same */
	ck_assert_str_eq(test_get(config, "mail_plugins"), "c");
	config_free(&config);
}
END_TEST

START_TEST(test_parse_obsolete)
{
	struct config *config = test_parse(
		"protocols = imap imaps pop3 pop3s\n"
		"ssl_protocols = !SSLv3 !TLSv1\n"
		"ssl_parameters_regenerate = 168\n"
		"mail_cache_compress_min_size = 32768 B\n"
		"imap_client_workarounds = outlook-idle,delay-newmail\n"
		"login_process_size = 64\n");

	ck_assert_msg(config != NULL, "%s", test_parse_error());
	ck_assert_str_eq(test_log_captured(),
		"Warning: NOTE: You can get a new clean config file with: "
		"doveconf -Pn > dovecot-new.conf\n"
		"Warning: Obsolete setting in t.conf:1: 'imaps' protocol is no "
		"longer necessary, remove it\n"
		"Warning: Obsolete setting in t.conf:1: 'pop3s' protocol is no "
		"longer necessary, remove it\n"
		"Warning: Obsolete setting in t.conf:2: ssl_protocols has been "
		"replaced by ssl_min_protocol\n"
		"Warning: Obsolete setting in t.conf:3: "
		"ssl_parameters_regenerate is no longer needed\n"
		"Warning: Obsolete setting in t.conf:4: "
		"mail_cache_compress_min_size has been renamed to "
		"mail_cache_purge_min_size\n"
		"Warning: Obsolete setting in t.conf:5: "
		"imap_client_workarounds=outlook-idle is no longer necessary\n"
		"Warning: Obsolete setting in t.conf:6: login_process_size has "
		"been replaced by service { vsz_limit }\n");
	ck_assert_str_eq(test_get(config, "protocols"), "imap pop3");
	ck_assert_str_eq(test_get(config, "ssl_min_protocol"), "TLSv1.1");
	ck_assert_str_eq(test_get(config, "mail_cache_purge_min_size"), "32 k");
	ck_assert_str_eq(test_get(config, "imap_client_workarounds"),
			 " delay-newmail");
	ck_assert_str_eq(test_get(config, "service/imap-login/vsz_limit"),
			 "64 M");
	ck_assert_str_eq(test_get(config, "service/pop3-login/vsz_limit"),
			 "64 M");
	config_free(&config);

	/* imaps alone still means imap, with its plain listener off */
	assert_value("protocols = imaps\n", "service/imap-login/inet_listener/"
		     "imap/port", "0");
	assert_value("protocols = imaps\n", "protocols", "imap");
	/* only plain values are rewritten */
	assert_error("ssl_protocols = $x\n", E1 "Unknown setting: "
		     "ssl_protocols");
	assert_error("auth_process_size = 64M\n", E1 "Invalid size: 64M M");
}
END_TEST

START_TEST(test_parse_list_ids)
{
	struct config *config;
	int idx;

	/* "service = x" adds an unnamed service (which the checks refuse);
	   "service = imap" names an existing one */
	config = test_parse("namespace = x y\nservice = imap\n");
	ck_assert_msg(config != NULL, "%s", test_parse_error());
	idx = setting_info_find(config->blocks[0]->root->info, "namespace");
	ck_assert_uint_eq(config->blocks[0]->root->slots[idx].child_count, 2);
	config_free(&config);
	assert_value("plugin = x\n", "mail_location", "");
}
END_TEST

START_TEST(test_parse_section_name_quotes)
{
	/* a quoted name ends at the next quote: no escapes there */
	assert_error("namespace inbox {\n  mailbox \"Spam \\\"Folder\\\"\" {\n"
		     "  }\n}\n", E2 "Expecting '{'");
	assert_value("namespace inbox {\n  mailbox \"Sent Items\" {\n"
		     "    auto = create\n  }\n}\n",
		     "namespace/inbox/mailbox/Sent\\_Items/auto", "create");
}
END_TEST

START_TEST(test_parse_filter_in_section)
{
	/* a filter inside a section sets that section in the filter's
	   block, if the block has it (a built-in service) */
	struct config *config = test_parse("service imap-login {\n"
					   "  inet_listener imap {\n"
					   "    protocol imap {\n"
					   "      port = 1\n"
					   "    }\n"
					   "  }\n"
					   "}\n");
	struct config_block *imap;

	ck_assert_msg(config != NULL, "%s", test_parse_error());
	imap = protocol_block(config, "imap");
	ck_assert_str_eq(config_node_get(imap->root, "service/imap-login/"
					 "inet_listener/imap/port"), "1");
	ck_assert_str_eq(test_get(config, "service/imap-login/inet_listener/"
				  "imap/port"), "143");
	config_free(&config);
	assert_error("service foo {\n  protocol imap {\n"
		     "    process_limit = 2\n  }\n}\n",
		     E3 "Unknown setting: service { process_limit");
	assert_error("plugin {\n  protocol imap {\n    x = 5\n  }\n}\n",
		     E3 "Unknown setting: plugin { x");
}
END_TEST

START_TEST(test_parse_file_value)
{
	assert_value("ssl_cert = </etc/ssl/certs/roost.pem\n", "ssl_cert",
		     "</etc/ssl/certs/roost.pem");
	assert_value("ssl_cert = <  relative.pem\n", "ssl_cert",
		     "<relative.pem");
}
END_TEST

/* ---- Core: sections ---- */

START_TEST(test_parse_sections)
{
	struct config *config =
		test_parse("service imap {\n"
			   "  process_limit = 5\n"
			   "}\n"
			   "namespace inbox {\n"
			   "  inbox = yes\n"
			   "  mailbox Sent {\n"
			   "    special_use = \\Sent\n"
			   "  }\n"
			   "}\n"
			   "plugin {\n"
			   "  quota = maildir:User quota\n"
			   "}\n");
	struct config_node *root;
	int idx;

	ck_assert_ptr_nonnull(config);
	root = config->blocks[0]->root;
	ck_assert_str_eq(test_get(config, "service/imap/process_limit"), "5");
	ck_assert_str_eq(test_get(config, "namespace/inbox/inbox"), "yes");
	ck_assert_str_eq(test_get(config,
		"namespace/inbox/mailbox/Sent/special_use"), "\\Sent");
	idx = setting_info_find(root->info, "plugin");
	ck_assert_int_ge(idx, 0);
	ck_assert(root->slots[idx].present);
	ck_assert_str_eq(config_node_strlist_get(&root->slots[idx], "quota"),
			 "maildir:User quota");
	config_free(&config);
}
END_TEST

START_TEST(test_parse_service_merge)
{
	struct config *config =
		test_parse("service imap {\n  process_limit = 5\n}\n"
			   "service imap {\n  client_limit = 7\n}\n");
	struct config_node *root;
	unsigned int imaps = 0;
	int idx;

	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(test_get(config, "service/imap/process_limit"), "5");
	ck_assert_str_eq(test_get(config, "service/imap/client_limit"), "7");
	root = config->blocks[0]->root;
	idx = setting_info_find(root->info, "service");
	ck_assert_int_ge(idx, 0);
	for (unsigned int i = 0; i < root->slots[idx].child_count; i++) {
		const char *name = config_node_get(root->slots[idx].children[i],
						   "name");

		if (name != NULL && strcmp(name, "imap") == 0)
			imaps++;
	}
	ck_assert_uint_eq(imaps, 1);
	config_free(&config);
}
END_TEST

START_TEST(test_parse_filters_blocks)
{
	struct config *config =
		test_parse("protocol imap {\n  login_greeting = I\n}\n"
			   "local 10.0.0.0/8 {\n  login_greeting = L\n}\n"
			   "remote 192.168.0.0/16 {\n  login_greeting = R\n}\n"
			   "local_name mail.example.com {\n"
			   "  login_greeting = N\n}\n"
			   "protocol imap {\n  mail_plugins = x\n}\n");
	const struct config_filter *f;

	ck_assert_ptr_nonnull(config);
	/* the second protocol imap joins the first block */
	ck_assert_uint_eq(config->block_count, 5);
	f = &config->blocks[1]->filter;
	ck_assert_str_eq(f->protocol, "imap");
	ck_assert_str_eq(config->blocks[1]->file_and_line, "t.conf:1");
	ck_assert_str_eq(config_node_get(config->blocks[1]->root,
					 "mail_plugins"), "x");
	f = &config->blocks[2]->filter;
	ck_assert_uint_eq(f->local_bits, 8);
	ck_assert_str_eq(net_ip2addr(&f->local_net), "10.0.0.0");
	f = &config->blocks[3]->filter;
	ck_assert_uint_eq(f->remote_bits, 16);
	ck_assert_str_eq(config->blocks[3]->file_and_line, "t.conf:7");
	f = &config->blocks[4]->filter;
	ck_assert_str_eq(f->local_name, "mail.example.com");
	ck_assert_str_eq(test_get(config, "login_greeting"),
			 "Dovecot (Debian) ready.");
	config_free(&config);
}
END_TEST

/* ---- Core: includes ---- */

static char *write_conf(const char *dir, const char *name, const char *text)
{
	return test_write_file(dir, name, text, strlen(text));
}

/* Parse path that must parse; returns the global value of key. */
static char *parse_file_get(const char *path, const char *key)
{
	struct config *config = NULL;
	const char *error = NULL, *value;
	char *ret;

	ck_assert_msg(config_parse_file(path, 0, &config, &error) == 0,
		      "config_parse_file(%s): %s", path, error);
	value = config_node_get(config->blocks[0]->root, key);
	ret = value == NULL ? NULL : i_strdup(value);
	config_free(&config);
	return ret;
}

/* Parse path that must fail; returns the error (malloc'd). */
static char *parse_file_fail(const char *path)
{
	struct config *config = NULL;
	const char *error = NULL;

	ck_assert_int_eq(config_parse_file(path, 0, &config, &error), -1);
	ck_assert_ptr_nonnull(error);
	config_free(&config);
	return i_strdup(error);
}

START_TEST(test_parse_include_relative)
{
	const char *dir = test_tmpdir_create();
	char *main_path = write_conf(dir, "main.conf",
		"login_greeting = main\n!include sub/a.conf\n");
	char *value;

	free(write_conf(dir, "sub/a.conf", "!include b.conf\n"));
	free(write_conf(dir, "sub/b.conf", "login_greeting = fromb\n"
			"mail_location = maildir:~/b\n"));
	value = parse_file_get(main_path, "login_greeting");
	ck_assert_str_eq(value, "fromb");
	free(value);
	value = parse_file_get(main_path, "mail_location");
	ck_assert_str_eq(value, "maildir:~/b");
	free(value);
	free(main_path);
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_parse_include_glob)
{
	const char *dir = test_tmpdir_create();
	char *main_path = write_conf(dir, "dovecot.conf",
		"!include conf.d/*.conf\n");
	char *value;

	free(write_conf(dir, "conf.d/10-a.conf", "login_greeting = a\n"));
	free(write_conf(dir, "conf.d/20-b.conf", "login_greeting = b\n"));
	free(write_conf(dir, "conf.d/ignored.txt", "login_greeting = c\n"));
	value = parse_file_get(main_path, "login_greeting");
	ck_assert_str_eq(value, "b"); /* sorted: 20-b.conf is last */
	free(value);
	free(main_path);
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_parse_include_try)
{
	const char *dir = test_tmpdir_create();
	char *path = write_conf(dir, "try.conf",
		"!include_try nothere.conf\nlogin_greeting = ok\n");
	char *value = parse_file_get(path, "login_greeting");

	ck_assert_str_eq(value, "ok");
	free(value);
	free(path);
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_parse_include_missing)
{
	const char *dir = test_tmpdir_create();
	char *path = write_conf(dir, "t.conf", "\n!include missing.conf\n");
	char *error = parse_file_fail(path), *expected;

	expected = i_strdup_printf("Error in configuration file %s line 2: "
				   "No matches", path);
	ck_assert_str_eq(error, expected);
	free(expected);
	free(error);
	free(path);
	test_tmpdir_remove();
	/* relative to nothing from a string: still no matches */
	assert_error("!include /nonexistent-roost/x.conf\n", E1 "No matches");
}
END_TEST

START_TEST(test_parse_include_loop)
{
	const char *dir = test_tmpdir_create();
	char *self = write_conf(dir, "loop.conf", "!include loop.conf\n");
	char *l1 = write_conf(dir, "l1.conf", "!include x1.conf\n");
	char *x1 = write_conf(dir, "x1.conf", "!include l1.conf\n");
	char *error, *expected;

	error = parse_file_fail(self);
	expected = i_strdup_printf("Error in configuration file %s line 1: "
				   "Recursive include file: %s", self, self);
	ck_assert_str_eq(error, expected);
	free(error);
	free(expected);

	error = parse_file_fail(l1);
	expected = i_strdup_printf("Error in configuration file %s line 1: "
				   "Recursive include file: %s", x1, l1);
	ck_assert_str_eq(error, expected);
	free(error);
	free(expected);
	free(self);
	free(l1);
	free(x1);
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_parse_include_section_spans)
{
	/* a section opened in an included file may continue after it */
	const char *dir = test_tmpdir_create();
	char *main_path = write_conf(dir, "main.conf",
		"service imap {\n!include inner.conf\n}\n");
	char *value;

	free(write_conf(dir, "inner.conf", "process_limit = 9\n"));
	value = parse_file_get(main_path, "service/imap/process_limit");
	ck_assert_str_eq(value, "9");
	free(value);
	free(main_path);
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_parse_file_open_error)
{
	struct config *config = NULL;
	const char *error = NULL;

	ck_assert_int_eq(config_parse_file("/nonexistent-roost/dovecot.conf",
					   0, &config, &error), -1);
	ck_assert_ptr_null(config);
	ck_assert_str_eq(error, "open(/nonexistent-roost/dovecot.conf) "
			 "failed: No such file or directory");
}
END_TEST

/* ---- Malformed: syntax errors ---- */

START_TEST(test_parse_unknown_setting)
{
	assert_error("Mail_Location = x\n",
		     E1 "Unknown setting: Mail_Location");
	assert_error("\n\nno_such_thing = 1\n",
		     E3 "Unknown setting: no_such_thing");
}
END_TEST

START_TEST(test_parse_missing_key)
{
	assert_error("= value\n",
		     E1 "Missing key name ('=' at the beginning of line)");
}
END_TEST

START_TEST(test_parse_expecting_brace)
{
	assert_error("login_greeting value\n", E1 "Expecting '{'");
}
END_TEST

START_TEST(test_parse_garbage_after_brace)
{
	assert_error("service imap { process_limit = 5 }\n",
		     E1 "Garbage after '{'");
	assert_error("service imap {}\n", E1 "Garbage after '{'");
}
END_TEST

START_TEST(test_parse_missing_close)
{
	struct config *config = NULL;
	const char *error = NULL;

	ck_assert_int_eq(config_parse_string("t.conf", "service imap {\n", 0,
					     &config, &error), -1);
	ck_assert_str_eq(error, "Error in configuration file t.conf: "
			 "Missing '}' (section started at t.conf:1)");
	/* what was read so far can still be shown */
	ck_assert_ptr_nonnull(config);
	config_free(&config);

	ck_assert_int_eq(config_parse_string("t.conf",
		"login_greeting = x\nnamespace inbox {\n  mailbox a {\n  }\n",
		0, &config, &error), -1);
	ck_assert_str_eq(error, "Error in configuration file t.conf: "
			 "Missing '}' (section started at t.conf:2)");
	config_free(&config);
}
END_TEST

START_TEST(test_parse_stray_close)
{
	assert_error("}\n", E1 "Unexpected '}'");
	assert_error("service imap {\n}\n}\n", E3 "Unexpected '}'");
}
END_TEST

START_TEST(test_parse_unknown_in_sections)
{
	assert_error("service imap {\n  foo = 1\n}\n",
		     E2 "Unknown setting: service { foo");
	assert_error("foo {\n}\n", E1 "Unknown setting: foo { foo");
	assert_error("namespace x {\n  mailbox y {\n    zz = 1\n  }\n}\n",
		     E3 "Unknown setting: namespace { mailbox { zz");
	assert_error("mailbox x {\n}\n",
		     E1 "Unknown setting: mailbox { mailbox");
}
END_TEST

START_TEST(test_parse_section_not_allowed)
{
	assert_error("plugin {\n  a {\n  }\n}\n",
		     E2 "Section not allowed here");
}
END_TEST

START_TEST(test_parse_duplicate_passdb)
{
	assert_error("passdb foo {\n}\npassdb foo {\n}\n",
		     E3 "passdb/foo already exists");
	/* names compare without case */
	assert_error("passdb users {\n}\npassdb Users {\n}\n",
		     E3 "passdb/Users already exists");
	assert_error("userdb u {\n}\nuserdb U {\n}\n",
		     E3 "userdb/U already exists");
}
END_TEST

START_TEST(test_parse_filter_nesting_errors)
{
	assert_error("protocol imap {\n  local 1.2.3.4 {\n  }\n}\n",
		     E2 "protocol { local { .. } } not allowed "
		     "(use local { protocol { .. } } instead)");
	assert_error("protocol imap {\n  protocol pop3 {\n  }\n}\n",
		     E2 "Nested protocol { protocol { .. } } block not "
		     "allowed");
	assert_error("local 1.2.3.4 {\n  auth_mechanisms = plain\n}\n",
		     E2 "Auth settings not supported inside local/remote "
		     "blocks: auth_mechanisms");
	assert_error("remote 10.0.0.0/8 {\n  local 1.2.3.4 {\n  }\n}\n",
		     E2 "remote { local { .. } } not allowed (use local { "
		     "remote { .. } } instead)");
	assert_error("remote 10.0.0.0/8 {\n  local_name x {\n  }\n}\n",
		     E2 "remote { local_name { .. } } not allowed (use "
		     "local_name { remote { .. } } instead)");
	assert_error("protocol imap {\n  remote 1.2.3.4 {\n  }\n}\n",
		     E2 "protocol { remote { .. } } not allowed (use remote { "
		     "protocol { .. } } instead)");
	/* an inner network must lie inside the outer one */
	assert_error("local 10.0.0.0/8 {\n  local 192.168.1.0/24 {\n  }\n}\n",
		     E2 "local net1 { local net2 { .. } } requires net2 to be "
		     "inside net1");
	assert_error("remote 10.0.0.0/16 {\n  remote 10.0.0.0/8 {\n  }\n}\n",
		     E2 "remote net1 { remote net2 { .. } } requires net2 to "
		     "be inside net1");
	assert_error("local 192.0.2.1/33 {\n}\n",
		     E1 "Invalid network mask: 33");
	assert_error("local 10.0.0.0/+8 {\n}\n",
		     E1 "Invalid network mask: +8");
	assert_error("remote ::/129 {\n}\n", E1 "Invalid network mask: 129");
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_parse_nul_byte)
{
	/* as in Dovecot, a NUL ends the line: the rest is ignored */
	static const char text[] = "login_greeting = ab\0cd\n"
		"\0garbage = 1\n"
		"service imap {\0 junk\n"
		"  process_limit = 5\n"
		"}\n"
		"auth_realms = \"a\0\" b\n";
	const char *dir = test_tmpdir_create();
	char *path = test_write_file(dir, "nul.conf", text, sizeof(text) - 1);
	char *value = parse_file_get(path, "login_greeting");

	ck_assert_str_eq(value, "ab");
	free(value);
	value = parse_file_get(path, "service/imap/process_limit");
	ck_assert_str_eq(value, "5");
	free(value);
	/* a quote at one end only is kept */
	value = parse_file_get(path, "auth_realms");
	ck_assert_str_eq(value, "\"a");
	free(value);
	free(path);

	static const char key[] = "login_greeting = x\nmail_loc\0ation = x\n";
	char *error, *where;

	path = test_write_file(dir, "key.conf", key, sizeof(key) - 1);
	error = parse_file_fail(path);
	where = i_strdup_printf("%s line 2: Expecting '{'", path);
	ck_assert_msg(strstr(error, where) != NULL, "error: %s", error);
	free(where);
	free(error);
	free(path);
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_parse_long_line)
{
	/* Dovecot has no line limit; Roost allows 16 MB lines */
	size_t len = 1100 * 1024;
	string_t *text = str_new(len + 64);
	const char *error;
	char *value;

	str_append(text, "# first\nlogin_greeting = ");
	for (size_t i = 0; i < len; i++)
		str_append_c(text, 'a');
	str_append_c(text, '\n');
	value = test_parse_get(str_c(text), "login_greeting");
	ck_assert_uint_eq(strlen(value), len);
	free(value);

	len = 16 * 1024 * 1024 + 1;
	str_clear(text);
	str_append(text, "# first\n");
	for (size_t i = 0; i < len; i++)
		str_append_c(text, '#');
	str_append_c(text, '\n');
	ck_assert_ptr_null(test_parse(str_c(text)));
	error = test_parse_error();
	ck_assert_msg(strstr(error, "t.conf line 2: Line too long") != NULL,
		      "error: %s", error);
	str_free(&text);
}
END_TEST

START_TEST(test_parse_long_value_ok)
{
	size_t len = 100 * 1024;
	string_t *text = str_new(len + 64);
	char *value;

	str_append(text, "login_greeting = ");
	for (size_t i = 0; i < len; i++)
		str_append_c(text, (char)('a' + i % 26));
	str_append_c(text, '\n');
	value = test_parse_get(str_c(text), "login_greeting");
	ck_assert_uint_eq(strlen(value), len);
	ck_assert_int_eq(memcmp(value, str_c(text) + 17, len), 0);
	free(value);
	str_free(&text);
}
END_TEST

START_TEST(test_parse_deep_nesting)
{
	string_t *text = str_new(8192);
	struct config *config = NULL;
	const char *error = NULL;

	/* Dovecot has no depth limit: 200 levels are fine */
	str_append(text, "local 127.0.0.0/8 {\n");
	for (unsigned int i = 0; i < 200; i++)
		str_append(text, "remote 10.0.0.0/8 {\n");
	str_append(text, "login_greeting = deep\n");
	for (unsigned int i = 0; i < 201; i++)
		str_append(text, "}\n");
	ck_assert_msg(config_parse_string("t.conf", str_c(text), 0, &config,
					  &error) == 0, "%s", error);
	ck_assert_uint_eq(config->block_count, 3);
	config_free(&config);

	/* Roost stops at 10000 */
	str_clear(text);
	for (unsigned int i = 0; i < 10001; i++)
		str_append(text, "local 1.2.3.4 {\n");
	ck_assert_int_eq(config_parse_string("t.conf", str_c(text), 0,
					     &config, &error), -1);
	ck_assert_str_eq(error, "Error in configuration file t.conf line "
			 "10001: Too deep section nesting");
	config_free(&config);

	str_clear(text);
	for (unsigned int i = 0; i < 200; i++)
		str_append(text, "namespace n {\n");
	(void)config_parse_string("t.conf", str_c(text), 0, &config, &error);
	config_free(&config);
	str_free(&text);
}
END_TEST

START_TEST(test_parse_many_settings)
{
	string_t *text = str_new(1024 * 1024);
	struct config *config;

	for (unsigned int i = 0; i < 2000; i++) {
		str_printfa(text, "namespace ns%u {\n  prefix = p%u/\n"
			    "  separator = /\n}\n", i, i);
		str_printfa(text, "plugin {\n  key%u = v%u\n}\n", i, i);
	}
	config = test_parse(str_c(text));
	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(test_get(config, "namespace/ns1999/prefix"),
			 "p1999/");
	config_free(&config);
	str_free(&text);
}
END_TEST

START_TEST(test_parse_many_filters)
{
	string_t *text = str_new(64 * 1024);
	struct config *config;

	for (unsigned int i = 0; i < 300; i++)
		str_printfa(text, "local 10.0.%u.%u {\n  login_greeting = g%u\n"
			    "}\n", i / 256, i % 256, i);
	config = test_parse(str_c(text));
	ck_assert_ptr_nonnull(config);
	ck_assert_uint_eq(config->block_count, 301);
	ck_assert_str_eq(config_node_get(config->blocks[300]->root,
					 "login_greeting"), "g299");
	config_free(&config);
	str_free(&text);
}
END_TEST

/* ---- Malformed: odd input ---- */

START_TEST(test_parse_odd_input)
{
	static const char *const inputs[] = {
		"{\n", "}\n}\n", "=\n", "\"\n", "'\n", "\\\n", "#\n",
		"!include\n", "<\n", "a = <\n", "service {\n}\n",
		"service \"unterminated {\n", "service \"a\\\" {\n}\n",
		"local {\n}\n", "local /8 {\n}\n", "protocol {\n}\n",
		"login_greeting = $\n", "login_greeting = $$ $\n",
		"plugin {\n = x\n}\n", "\x01\x02\x03\n", "\xff\xfe = 1\n",
		"login_greeting = a \\", "service imap {\n  }  \n",
	};

	for (size_t i = 0; i < N_ELEMENTS(inputs); i++) {
		struct config *config = NULL;
		const char *error = NULL;

		if (config_parse_string("t.conf", inputs[i], 0, &config,
					&error) < 0)
			ck_assert_ptr_nonnull(error);
		config_free(&config);
	}
}
END_TEST

/* ---- Checks: config-check.c, run after parsing ---- */

/* config_check() on text must fail with "...t.conf: expected". */
static void assert_check_error(const char *text, const char *expected)
{
	struct config *config = test_parse(text);
	const char *error = NULL;
	char *full = i_strdup_printf("Error in configuration file t.conf: %s",
				     expected);

	ck_assert_msg(config != NULL, "parse: %s", test_parse_error());
	ck_assert_int_eq(config_check(config, &error), -1);
	ck_assert_str_eq(error, full);
	free(full);
	config_free(&config);
}

START_TEST(test_check_master)
{
	assert_check_error("listen =\n", "listen can't be set empty");
	assert_check_error("service dict {\n  vsz_limit = 1023k\n}\n",
			   "service(dict): vsz_limit is too low");
	assert_check_error("service = x\n", "Service #30 is missing name");
	assert_check_error("first_valid_uid = 10\nlast_valid_uid = 5\n",
			   "first_valid_uid can't be larger than "
			   "last_valid_uid");
	assert_check_error("protocols = imap nntp\n",
			   "protocols: Unknown protocol: nntp");
	assert_check_error("protocols = imap\nservice imap {\n"
			   "  unix_listener foo {\n  }\n}\n"
			   "service imap-login {\n  unix_listener foo {\n"
			   "  }\n}\n", "duplicate listener: /run/dovecot/foo");
	assert_check_error("protocols = imap\nservice imap {\n"
			   "  inet_listener a {\n    port = 143\n  }\n}\n",
			   "duplicate listener: 143:");
	assert_check_error("service log {\n  process_limit = 2\n}\n",
			   "service(log): process_limit must be 1");
	/* services of protocols not enabled are not checked */
	struct config *config = test_parse("service submission {\n"
					   "  vsz_limit = 512k\n}\n");
	const char *error;

	ck_assert_int_eq(config_check(config, &error), 0);
	config_free(&config);
}
END_TEST

START_TEST(test_check_modules_order)
{
	/* one problem per module; the first module's is the error */
	struct config *config = test_parse("listen =\n"
		"ssl_options = bogus\n"
		"imap_client_workarounds = bogus\n"
		"submission_client_workarounds = bogus\n"
		"namespace a {\n  prefix = a/\n  alias_for = foo\n}\n");
	const char *first = NULL;

	ck_assert_ptr_nonnull(config);
	ck_assert_uint_eq(config_check_node(config->blocks[0]->root, NULL,
					    NULL, &first), 6);
	ck_assert_str_eq(first, "ssl_options: unknown flag: 'bogus'");
	ck_assert_int_eq(config_check_print(config->blocks[0]->root), -1);
	ck_assert_str_eq(test_log_captured(),
		"Error: ssl_options: unknown flag: 'bogus'\n"
		"Error: imap_client_workarounds: Unknown workaround: bogus\n"
		"Error: Namespace 'a/': alias_for points to unknown namespace: "
		"foo\n"
		"Error: listen can't be set empty\n"
		"Error: submission_client_workarounds: Unknown workaround: "
		"bogus\n"
		"Error: submission_client_workarounds: Unknown workaround: "
		"bogus\n");
	config_free(&config);
}
END_TEST

START_TEST(test_check_filters)
{
	struct config *config;
	const char *error;

	/* each filter block is checked as its connections see it */
	assert_check_error("protocol imap {\n  imap_client_workarounds = x\n"
			   "}\n", "imap_client_workarounds: Unknown "
			   "workaround: x");
	/* and ssl=no globally wins, with a warning */
	config = test_parse("ssl = no\nlocal 192.0.2.1 {\n  ssl = yes\n}\n");
	ck_assert_int_eq(config_check(config, &error), 0);
	ck_assert_str_eq(test_log_captured(), "Warning: SSL is disabled "
			 "because global ssl=no, ignoring ssl=yes for "
			 "subsection\n");
	config_free(&config);
	/* a block whose filter matches two unrelated blocks */
	assert_check_error("protocol imap {\n  login_greeting = a\n}\n"
			   "local 1.2.3.4 {\n  login_greeting = b\n"
			   "  protocol imap {\n    mail_debug = yes\n  }\n"
			   "}\n", "Conflict in setting login_greeting found "
			   "from filter at t.conf:1");
}
END_TEST

START_TEST(test_check_texts)
{
	assert_check_error("auth_verbose_passwords = sha1:0\n",
			   "auth_verbose_passwords: Invalid truncation "
			   "number: '0'");
	assert_check_error("auth_cache_size = 100b\n",
			   "auth_cache_size value is too small (100 bytes)");
	assert_check_error("pop3_uidl_format = %{uid}\n",
			   "Unknown pop3_uidl_format variable: %{");
	assert_check_error("pop3_uidl_format = x\n", "pop3_uidl_format "
			   "setting doesn't contain any %% variables.");
	assert_check_error("namespace a {\n  prefix = a/\n  alias_for = b/\n"
			   "}\nnamespace b {\n  prefix = b/\n"
			   "  alias_for = a/\n}\n", "Namespace 'a/': "
			   "alias_for chaining isn't allowed: b/ -> a/");
	assert_check_error("namespace inbox {\n  mailbox x {\n"
			   "    special_use = \\Spam\n  }\n}\n",
			   "mailbox x: unknown special_use: \\Spam");
	assert_check_error("event_exporter ex {\n}\n",
			   "Exporter format name can't be empty");
	assert_check_error("mail_nfs_index = yes\n",
			   "mail_nfs_index=yes requires mmap_disable=yes");
}
END_TEST

Suite *make_config_parser_suite(void)
{
	Suite *s = suite_create("config_parser");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_key_value);
	tcase_add_test(tc, test_parse_whitespace_kept);
	tcase_add_test(tc, test_parse_last_wins);
	tcase_add_test(tc, test_parse_comments);
	tcase_add_test(tc, test_parse_glued_hash);
	tcase_add_test(tc, test_parse_continuation);
	tcase_add_test(tc, test_parse_quotes);
	tcase_add_test(tc, test_parse_crlf);
	tcase_add_test(tc, test_parse_empty);
	tcase_add_test(tc, test_parse_typed_values);
	tcase_add_test(tc, test_parse_value_errors);
	tcase_add_test(tc, test_parse_octal_mode);
	tcase_add_test(tc, test_parse_msecs_setting);
	tcase_add_test(tc, test_parse_var_self);
	tcase_add_test(tc, test_parse_var_in_filter);
	tcase_add_test(tc, test_parse_var_nested_filters);
	tcase_add_test(tc, test_parse_var_quoted_literal);
	tcase_add_test(tc, test_parse_var_unknown);
	tcase_add_test(tc, test_parse_var_not_word_start);
	tcase_add_test(tc, test_parse_var_expand_all);
	tcase_add_test(tc, test_parse_global_override_warning);
	tcase_add_test(tc, test_parse_obsolete);
	tcase_add_test(tc, test_parse_list_ids);
	tcase_add_test(tc, test_parse_section_name_quotes);
	tcase_add_test(tc, test_parse_filter_in_section);
	tcase_add_test(tc, test_parse_file_value);
	tcase_add_test(tc, test_parse_sections);
	tcase_add_test(tc, test_parse_service_merge);
	tcase_add_test(tc, test_parse_filters_blocks);
	tcase_add_test(tc, test_parse_include_relative);
	tcase_add_test(tc, test_parse_include_glob);
	tcase_add_test(tc, test_parse_include_try);
	tcase_add_test(tc, test_parse_include_missing);
	tcase_add_test(tc, test_parse_include_loop);
	tcase_add_test(tc, test_parse_include_section_spans);
	tcase_add_test(tc, test_parse_file_open_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_nul_byte);
	tcase_add_test(tc, test_parse_long_line);
	tcase_add_test(tc, test_parse_long_value_ok);
	tcase_add_test(tc, test_parse_deep_nesting);
	tcase_add_test(tc, test_parse_many_settings);
	tcase_add_test(tc, test_parse_many_filters);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_unknown_setting);
	tcase_add_test(tc, test_parse_missing_key);
	tcase_add_test(tc, test_parse_expecting_brace);
	tcase_add_test(tc, test_parse_garbage_after_brace);
	tcase_add_test(tc, test_parse_missing_close);
	tcase_add_test(tc, test_parse_stray_close);
	tcase_add_test(tc, test_parse_unknown_in_sections);
	tcase_add_test(tc, test_parse_section_not_allowed);
	tcase_add_test(tc, test_parse_duplicate_passdb);
	tcase_add_test(tc, test_parse_filter_nesting_errors);
	tcase_add_test(tc, test_parse_odd_input);
	suite_add_tcase(s, tc);
	tc = tcase_create("Checks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_check_master);
	tcase_add_test(tc, test_check_modules_order);
	tcase_add_test(tc, test_check_filters);
	tcase_add_test(tc, test_check_texts);
	suite_add_tcase(s, tc);
	return s;
}

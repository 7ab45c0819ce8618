/* check_config_bind.c - typed settings structs from parsed configs. */
#include "suites.h"
#include "config-bind.h"

static struct settings_root *bind_text(const char *text, pool_t *pool_r,
				       struct config **config_r)
{
	struct config *config = test_parse(text);
	const char *error = NULL;
	struct settings_root *set;

	ck_assert_msg(config != NULL, "parse: %s", test_parse_error());
	*pool_r = pool_create("bind test", 4096);
	set = config_bind(*pool_r, config->blocks[0]->root, &error);
	ck_assert_msg(set != NULL, "bind: %s", error);
	*config_r = config;
	return set;
}

START_TEST(test_bind_defaults)
{
	pool_t pool;
	struct config *config;
	struct settings_root *set = bind_text("", &pool, &config);

	ck_assert_str_eq(set->base_dir, "/run/dovecot");
	ck_assert(set->disable_plaintext_auth);
	ck_assert(!set->auth_debug);
	ck_assert_uint_eq(set->default_vsz_limit, 256ULL * 1024 * 1024);
	ck_assert_uint_eq(set->auth_failure_delay, 2);
	ck_assert_uint_eq(set->default_client_limit, 1000);
	ck_assert_str_eq(set->ssl, "yes");
	/* 30 built-in services, imap-login with its two listeners */
	ck_assert_uint_eq(set->service_count, 30);
	for (unsigned int i = 0; i < set->service_count; i++) {
		struct settings_service *svc = set->service[i];

		if (strcmp(svc->name, "imap-login") != 0)
			continue;
		ck_assert_str_eq(svc->user, "dovenull");
		ck_assert_uint_eq(svc->service_count, 1);
		ck_assert_uint_eq(svc->inet_listener_count, 2);
		ck_assert_str_eq(svc->inet_listener[1]->name, "imaps");
		ck_assert_uint_eq(svc->inet_listener[1]->port, 993);
		ck_assert(svc->inet_listener[1]->ssl);
		ck_assert_uint_eq(svc->vsz_limit, UINT64_MAX);
	}
	ck_assert_ptr_null(set->service[set->service_count]);
	pool_destroy(&pool);
	config_free(&config);
}
END_TEST

START_TEST(test_bind_values)
{
	pool_t pool;
	struct config *config;
	struct settings_root *set = bind_text(
		"mail_location = maildir:~/Maildir\n"
		"auth_cache_ttl = 2 hours\n"
		"imap_max_line_length = 128k\n"
		"verbose_ssl = yes\n"
		"passdb {\n  driver = pam\n}\n"
		"passdb {\n  driver = passwd-file\n  args = /etc/users\n}\n"
		"namespace inbox {\n  inbox = yes\n  separator = /\n"
		"  mailbox Trash {\n    auto = subscribe\n"
		"    special_use = \\Trash\n    autoexpunge = 30d\n  }\n}\n"
		"service auth {\n  unix_listener auth-client {\n"
		"    mode = 0660\n  }\n}\n"
		"plugin {\n  quota = maildir\n  quota_rule = *:storage=1G\n}\n"
		"event_exporter e {\n  transport_timeout = 2s\n}\n",
		&pool, &config);

	ck_assert_str_eq(set->mail_location, "maildir:~/Maildir");
	ck_assert_uint_eq(set->auth_cache_ttl, 7200);
	ck_assert_uint_eq(set->imap_max_line_length, 128 * 1024);
	ck_assert(set->verbose_ssl);
	ck_assert_uint_eq(set->passdb_count, 2);
	ck_assert_str_eq(set->passdb[1]->driver, "passwd-file");
	ck_assert_str_eq(set->passdb[1]->args, "/etc/users");
	ck_assert_uint_eq(set->namespace_count, 1);
	ck_assert(set->namespace[0]->inbox);
	ck_assert_str_eq(set->namespace[0]->separator, "/");
	ck_assert_uint_eq(set->namespace[0]->mailbox_count, 1);
	ck_assert_str_eq(set->namespace[0]->mailbox[0]->auto_, "subscribe");
	ck_assert_uint_eq(set->namespace[0]->mailbox[0]->autoexpunge,
			  30 * 86400);
	ck_assert_uint_eq(set->plugin_count, 2);
	ck_assert_str_eq(set->plugin[2], "quota_rule");
	ck_assert_str_eq(set->plugin[3], "*:storage=1G");
	ck_assert_uint_eq(set->event_exporter_count, 1);
	ck_assert_uint_eq(set->event_exporter[0]->transport_timeout, 2000);
	for (unsigned int i = 0; i < set->service_count; i++) {
		struct settings_service *svc = set->service[i];

		if (strcmp(svc->name, "auth") != 0)
			continue;
		for (unsigned int j = 0; j < svc->unix_listener_count; j++) {
			if (strcmp(svc->unix_listener[j]->path,
				   "auth-client") == 0)
				ck_assert_uint_eq(svc->unix_listener[j]->mode,
						  0660);
		}
	}
	pool_destroy(&pool);
	config_free(&config);
}
END_TEST

START_TEST(test_bind_filter)
{
	struct config *config = test_parse(
		"mail_max_userip_connections = 10\n"
		"protocol imap {\n  mail_max_userip_connections = 20\n}\n");
	struct config_filter imap = { .protocol = "imap" };
	struct config_filter pop3 = { .protocol = "pop3" };
	pool_t pool = pool_create("bind test", 4096);
	const char *error;
	struct settings_root *set;

	ck_assert_ptr_nonnull(config);
	set = config_bind_filter(pool, config, &imap, &error);
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(set->mail_max_userip_connections, 20);
	set = config_bind_filter(pool, config, &pop3, &error);
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(set->mail_max_userip_connections, 10);
	pool_destroy(&pool);
	config_free(&config);
}
END_TEST

Suite *make_config_bind_suite(void)
{
	Suite *s = suite_create("config_bind");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_bind_defaults);
	tcase_add_test(tc, test_bind_values);
	tcase_add_test(tc, test_bind_filter);
	suite_add_tcase(s, tc);
	return s;
}

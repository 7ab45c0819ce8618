/* check_config_filter.c - unit tests of confparse/config-filter.c:
 * which filter blocks apply to a connection, their precedence and
 * conflicts. Every expectation was checked against Debian's doveconf
 * 2.3.19 ("doveconf -c FILE -f protocol=imap -f local=... -h KEY"). */
#include "suites.h"
#include "config-tree.h"

static pool_t pool;

static void setup(void)
{
	pool = pool_create("filter test", 1024);
	test_log_capture_start();
}

static void teardown(void)
{
	test_log_capture_stop();
	pool_destroy(&pool);
}

/* A connection filter from doveconf-style "-f" arguments, NULL-ended. */
static struct config_filter make_filter(const char *arg, ...)
{
	struct config_filter filter;
	const char *error = NULL;
	va_list args;

	memset(&filter, 0, sizeof(filter));
	va_start(args, arg);
	for (; arg != NULL; arg = va_arg(args, const char *)) {
		ck_assert_msg(config_filter_parse_arg(pool, &filter, arg,
						      &error) == 0,
			      "filter %s: %s", arg, error);
	}
	va_end(args);
	return filter;
}

/* key's value as seen by a connection matching filter. */
static const char *merged_get(struct config *config,
			      const struct config_filter *filter,
			      const char *key)
{
	struct config_node *root = NULL;
	const char *error = NULL;

	ck_assert_msg(config_get_merged(config, filter, &root, &error) == 0,
		      "config_get_merged: %s", error);
	return config_node_get(root, key);
}

static struct config *parse(const char *text)
{
	struct config *config = test_parse(text);

	ck_assert_msg(config != NULL, "parse: %s", test_parse_error());
	return config;
}

static void assert_greeting(struct config *config, const char *expected,
			    const struct config_filter *filter)
{
	const char *value = merged_get(config, filter, "login_greeting");

	ck_assert_msg(value != NULL && strcmp(value, expected) == 0,
		      "login_greeting = '%s', expected '%s'",
		      value == NULL ? "(null)" : value, expected);
}

START_TEST(test_filter_protocol)
{
	struct config *config = parse("login_greeting = G\n"
				      "mail_location = maildir:~/M\n"
				      "protocol imap {\n"
				      "  login_greeting = I\n"
				      "}\n");
	struct config_filter imap = make_filter("protocol=imap", NULL);
	struct config_filter pop3 = make_filter("protocol=pop3", NULL);
	struct config_filter none = make_filter(NULL);

	assert_greeting(config, "I", &imap);
	assert_greeting(config, "G", &pop3);
	assert_greeting(config, "G", &none);
	/* what the filter block does not set comes from the global one */
	ck_assert_str_eq(merged_get(config, &imap, "mail_location"),
			 "maildir:~/M");
	/* and what nobody sets is the default */
	ck_assert_str_eq(merged_get(config, &imap, "auth_mechanisms"),
			 "plain");
	config_free(&config);
}
END_TEST

START_TEST(test_filter_service_alias)
{
	struct config *config = parse("protocol lmtp {\n"
				      "  login_greeting = L\n}\n");
	struct config_filter f = make_filter("service=lmtp", NULL);

	assert_greeting(config, "L", &f);
	config_free(&config);
}
END_TEST

START_TEST(test_filter_not_protocol)
{
	struct config *config = parse("login_greeting = G\n"
				      "protocol !imap {\n"
				      "  login_greeting = N\n"
				      "}\n");
	struct config_filter imap = make_filter("protocol=imap", NULL);
	struct config_filter pop3 = make_filter("protocol=pop3", NULL);
	struct config_filter none = make_filter(NULL);

	assert_greeting(config, "G", &imap);
	assert_greeting(config, "N", &pop3);
	assert_greeting(config, "G", &none);
	config_free(&config);
}
END_TEST

START_TEST(test_filter_local_remote)
{
	struct config *config = parse("login_greeting = G\n"
				      "local 10.0.0.0/8 {\n"
				      "  login_greeting = A\n"
				      "}\n"
				      "local 10.1.0.0/16 {\n"
				      "  login_greeting = B\n"
				      "}\n"
				      "remote 192.168.0.0/16 {\n"
				      "  login_greeting = R\n"
				      "}\n"
				      "remote 2001:db8::/32 {\n"
				      "  login_greeting = R6\n"
				      "}\n");
	struct config_filter f;

	f = make_filter("local=10.1.2.3", NULL);
	assert_greeting(config, "B", &f); /* the longer prefix wins */
	f = make_filter("local=10.2.2.3", NULL);
	assert_greeting(config, "A", &f);
	f = make_filter("local=11.2.2.3", NULL);
	assert_greeting(config, "G", &f);
	f = make_filter("remote=192.168.7.7", NULL);
	assert_greeting(config, "R", &f);
	f = make_filter("remote=192.169.7.7", NULL);
	assert_greeting(config, "G", &f);
	f = make_filter("remote=2001:db8:1::5", NULL);
	assert_greeting(config, "R6", &f);
	f = make_filter("remote=2001:db9::5", NULL);
	assert_greeting(config, "G", &f);
	/* a local block never applies to a remote address */
	f = make_filter("remote=10.1.2.3", NULL);
	assert_greeting(config, "G", &f);
	config_free(&config);
}
END_TEST

START_TEST(test_filter_local_name)
{
	struct config *config = parse("login_greeting = G\n"
				      "local_name mail.example.com {\n"
				      "  login_greeting = S\n"
				      "}\n"
				      "local_name *.example.org {\n"
				      "  login_greeting = W\n"
				      "}\n");
	struct config_filter f;

	f = make_filter("lname=mail.example.com", NULL);
	assert_greeting(config, "S", &f);
	f = make_filter("lname=MAIL.example.com", NULL);
	assert_greeting(config, "S", &f);
	f = make_filter("lname=other.example.com", NULL);
	assert_greeting(config, "G", &f);
	f = make_filter("lname=x.example.org", NULL);
	assert_greeting(config, "W", &f);
	f = make_filter(NULL);
	assert_greeting(config, "G", &f);
	config_free(&config);
}
END_TEST

START_TEST(test_filter_precedence)
{
	struct config *config = parse("login_greeting = G\n"
				      "local 1.2.3.4 {\n"
				      "  login_greeting = L\n"
				      "}\n"
				      "local 1.2.3.4 {\n"
				      "  protocol imap {\n"
				      "    login_greeting = LI\n"
				      "  }\n"
				      "}\n");
	struct config_filter f;

	f = make_filter("protocol=imap", "local=1.2.3.4", NULL);
	assert_greeting(config, "LI", &f);
	f = make_filter("protocol=pop3", "local=1.2.3.4", NULL);
	assert_greeting(config, "L", &f);
	f = make_filter("protocol=imap", "local=1.2.3.5", NULL);
	assert_greeting(config, "G", &f);
	config_free(&config);
}
END_TEST

START_TEST(test_filter_plugin_merge)
{
	struct config *config = parse("plugin {\n"
				      "  quota = a\n"
				      "  acl = vfile\n"
				      "}\n"
				      "protocol imap {\n"
				      "  plugin {\n"
				      "    quota = b\n"
				      "  }\n"
				      "}\n");
	struct config_filter f = make_filter("protocol=imap", NULL);
	struct config_node *root = NULL;
	const char *error = NULL;
	int idx;

	ck_assert_int_eq(config_get_merged(config, &f, &root, &error), 0);
	idx = setting_info_find(root->info, "plugin");
	ck_assert_str_eq(config_node_strlist_get(&root->slots[idx], "quota"),
			 "b");
	ck_assert_str_eq(config_node_strlist_get(&root->slots[idx], "acl"),
			 "vfile");
	f = make_filter("protocol=pop3", NULL);
	ck_assert_int_eq(config_get_merged(config, &f, &root, &error), 0);
	ck_assert_str_eq(config_node_strlist_get(&root->slots[idx], "quota"),
			 "a");
	config_free(&config);
}
END_TEST

START_TEST(test_filter_v4_mapped)
{
	struct config *config = parse("login_greeting = G\n"
				      "local 10.0.0.0/8 {\n"
				      "  login_greeting = A\n"
				      "}\n");
	struct config_filter f = make_filter("local=::ffff:10.0.0.1", NULL);

	assert_greeting(config, "A", &f);
	config_free(&config);
}
END_TEST

/* List entries that only a less specific block has keep their values but
 * lose their "set" marks: doveconf -n -f ... does not show them. */
START_TEST(test_filter_list_copies_unchanged)
{
	struct config *config = parse("namespace inbox {\n"
				      "  separator = /\n"
				      "}\n"
				      "namespace other {\n"
				      "  prefix = o/\n"
				      "}\n"
				      "service imap {\n"
				      "  process_limit = 7\n"
				      "}\n"
				      "passdb {\n"
				      "  driver = pam\n"
				      "}\n"
				      "protocol imap {\n"
				      "  namespace other {\n"
				      "    hidden = yes\n"
				      "  }\n"
				      "  passdb {\n"
				      "    driver = static\n"
				      "  }\n"
				      "}\n");
	struct config_filter f = make_filter("protocol=imap", NULL);
	struct config_node *root = NULL, *node;
	const char *error = NULL;
	unsigned int idx;

	ck_assert_int_eq(config_get_merged(config, &f, &root, &error), 0);
	/* a copy: the value is there, not marked as set */
	ck_assert(config_node_lookup(root, "namespace/inbox/separator", &node,
				     &idx));
	ck_assert_str_eq(node->slots[idx].value, "/");
	ck_assert(!node->slots[idx].changed);
	/* an entry both have is merged with its marks */
	ck_assert(config_node_lookup(root, "namespace/other/prefix", &node,
				     &idx));
	ck_assert_str_eq(node->slots[idx].value, "o/");
	ck_assert(node->slots[idx].changed);
	ck_assert(config_node_lookup(root, "service/imap/process_limit",
				     &node, &idx));
	ck_assert(node->slots[idx].changed);
	/* passdbs of the filter come first, the global ones after */
	ck_assert_str_eq(config_node_get(root, "passdb/0/driver"), "static");
	ck_assert_str_eq(config_node_get(root, "passdb/1/driver"), "pam");
	config_free(&config);
}
END_TEST

START_TEST(test_filter_match_equal)
{
	struct config_filter mask, f;

	memset(&mask, 0, sizeof(mask));
	f = make_filter("protocol=imap", "local=10.1.1.1", NULL);
	ck_assert(config_filter_match(&mask, &f));
	mask = make_filter("local=10.0.0.0/8", NULL);
	ck_assert(config_filter_match(&mask, &f));
	mask = make_filter("local=10.0.0.0/8", "protocol=pop3", NULL);
	ck_assert(!config_filter_match(&mask, &f));
	mask = make_filter("remote=10.0.0.0/8", NULL);
	ck_assert(!config_filter_match(&mask, &f));

	mask = make_filter("protocol=imap", "local=10.0.0.0/8", NULL);
	f = make_filter("local=10.0.0.0/8", "protocol=imap", NULL);
	ck_assert(config_filters_equal(&mask, &f));
	f = make_filter("local=10.0.0.0/9", "protocol=imap", NULL);
	ck_assert(!config_filters_equal(&mask, &f));
	mask = make_filter("lname=A.example.com", NULL);
	f = make_filter("lname=a.EXAMPLE.com", NULL);
	ck_assert(config_filters_equal(&mask, &f));
	memset(&f, 0, sizeof(f));
	ck_assert(!config_filters_equal(&mask, &f));
}
END_TEST

START_TEST(test_filter_subset)
{
	struct config *config = parse("protocol imap {\n"
				      "  login_greeting = I\n}\n"
				      "protocol pop3 {\n"
				      "  login_greeting = P\n}\n"
				      "local 1.2.3.4 {\n"
				      "  login_greeting = L\n}\n");
	struct config_filter f = make_filter("protocol=imap", NULL);
	struct config_block **blocks;
	unsigned int count;

	count = config_get_subset(config, &f, &blocks);
	ck_assert_uint_eq(count, 2); /* protocol imap and local 1.2.3.4 */
	for (unsigned int i = 0; i < count; i++)
		ck_assert(blocks[i]->filter.protocol == NULL ||
			  strcmp(blocks[i]->filter.protocol, "imap") == 0);
	config_free(&config);
}
END_TEST

/* ---- Malformed: conflicts and bad arguments ---- */

START_TEST(test_filter_conflict)
{
	struct config *config = parse("login_greeting = G\n"
				      "protocol imap {\n"
				      "  login_greeting = P\n"
				      "}\n"
				      "local 1.2.3.4 {\n"
				      "  login_greeting = L\n"
				      "}\n");
	struct config_filter f = make_filter("protocol=imap",
					     "local=1.2.3.4", NULL);
	struct config_node *root;
	const char *error = NULL;

	ck_assert_int_eq(config_get_merged(config, &f, &root, &error), -1);
	ck_assert_str_eq(error, "Conflict in setting login_greeting found "
			 "from filter at t.conf:2");
	/* no conflict for connections only one block applies to */
	f = make_filter("protocol=pop3", "local=1.2.3.4", NULL);
	assert_greeting(config, "L", &f);
	f = make_filter("protocol=imap", "local=1.2.3.5", NULL);
	assert_greeting(config, "P", &f);
	config_free(&config);
}
END_TEST

START_TEST(test_filter_conflict_equal_values)
{
	/* Dovecot reports the conflict even when both blocks say the same */
	struct config *config = parse("protocol imap {\n"
				      "  login_greeting = same\n"
				      "}\n"
				      "local 1.2.3.4 {\n"
				      "  login_greeting = same\n"
				      "}\n");
	struct config_filter f = make_filter("protocol=imap",
					     "local=1.2.3.4", NULL);
	struct config_node *root;
	const char *error = NULL;

	ck_assert_int_eq(config_get_merged(config, &f, &root, &error), -1);
	ck_assert_str_eq(error, "Conflict in setting login_greeting found "
			 "from filter at t.conf:1");
	config_free(&config);
}
END_TEST

START_TEST(test_filter_conflict_order)
{
	struct config *config = parse("login_greeting = G\n"
				      "local 1.2.3.4 {\n"
				      "  login_greeting = L\n"
				      "}\n"
				      "protocol imap {\n"
				      "  login_greeting = P\n"
				      "}\n");
	struct config_filter f = make_filter("protocol=imap",
					     "local=1.2.3.4", NULL);
	struct config_node *root;
	const char *error = NULL;

	ck_assert_int_eq(config_get_merged(config, &f, &root, &error), -1);
	ck_assert_str_eq(error, "Conflict in setting login_greeting found "
			 "from filter at t.conf:5");
	config_free(&config);
}
END_TEST

START_TEST(test_filter_conflict_local_remote)
{
	struct config *config = parse("login_greeting = G\n"
				      "local 1.2.3.4 {\n"
				      "  login_greeting = L\n"
				      "}\n"
				      "remote 10.0.0.0/8 {\n"
				      "  login_greeting = R\n"
				      "}\n");
	struct config_filter f = make_filter("remote=10.1.1.1",
					     "local=1.2.3.4", NULL);
	struct config_node *root;
	const char *error = NULL;

	ck_assert_int_eq(config_get_merged(config, &f, &root, &error), -1);
	ck_assert_str_eq(error, "Conflict in setting login_greeting found "
			 "from filter at t.conf:5");
	config_free(&config);
}
END_TEST

START_TEST(test_filter_bad_args)
{
	struct config_filter f;
	const char *error = NULL;

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(config_filter_parse_arg(pool, &f, "foo=bar", &error),
			 -1);
	ck_assert_str_eq(error, "Unknown filter argument: foo=bar");
	error = NULL;
	ck_assert_int_eq(config_filter_parse_arg(pool, &f, "local=1.2.3.4/40",
						 &error), -1);
	ck_assert_str_eq(error, "local filter: Invalid network mask: 40");
	error = NULL;
	ck_assert_int_eq(config_filter_parse_arg(pool, &f, "remote=::/200",
						 &error), -1);
	ck_assert_str_eq(error, "remote filter: Invalid network mask: 200");
	ck_assert_int_eq(config_filter_parse_arg(pool, &f, "local=10.0.0.0/ 8",
						 &error), -1);
	ck_assert_str_eq(error, "local filter: Invalid network mask:  8");
}
END_TEST

Suite *make_config_filter_suite(void)
{
	Suite *s = suite_create("config_filter");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_filter_protocol);
	tcase_add_test(tc, test_filter_service_alias);
	tcase_add_test(tc, test_filter_not_protocol);
	tcase_add_test(tc, test_filter_local_remote);
	tcase_add_test(tc, test_filter_local_name);
	tcase_add_test(tc, test_filter_precedence);
	tcase_add_test(tc, test_filter_plugin_merge);
	tcase_add_test(tc, test_filter_match_equal);
	tcase_add_test(tc, test_filter_v4_mapped);
	tcase_add_test(tc, test_filter_list_copies_unchanged);
	tcase_add_test(tc, test_filter_subset);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_filter_conflict);
	tcase_add_test(tc, test_filter_conflict_equal_values);
	tcase_add_test(tc, test_filter_conflict_order);
	tcase_add_test(tc, test_filter_conflict_local_remote);
	tcase_add_test(tc, test_filter_bad_args);
	suite_add_tcase(s, tc);
	return s;
}

/* check_mail_sort.c - SORT through the storage API on a Maildir: every
 * sort key, REVERSE, multi-key programs, ties by sequence number, and
 * the Date/INTERNALDATE fallback. The expected orders are what Dovecot
 * 2.3.19 answered for the same messages. */
#include "suites.h"
#include "config-bind.h"
#include "mail-sort.h"

#include <stdio.h>
#include <unistd.h>

#define T0 1700000000

static pool_t pool;
static struct config *config;
static struct mail_user *user;
static struct mailbox *box;

static void save(const char *text, time_t received)
{
	struct mailbox_transaction *t = mailbox_transaction_begin(box);
	struct mail_save_context *ctx = mailbox_save_alloc(t);

	mailbox_save_set_received_date(ctx, received, 0);
	ck_assert_int_eq(mailbox_save_begin(ctx), 0);
	ck_assert_int_eq(mailbox_save_continue(ctx, text, strlen(text)), 0);
	ck_assert_int_eq(mailbox_save_finish(&ctx), 0);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
}

static void setup(void)
{
	const char *dir = test_tmpdir_create(), *error;
	struct settings_root *set;
	struct mail_user_info info;
	char *conf = i_strdup_printf("mail_location = maildir:%s/Maildir\n",
				     dir);
	string_t *big = str_new(1024);

	config = test_parse(conf);
	i_free(conf);
	ck_assert_msg(config != NULL, "%s", test_parse_error());
	pool = pool_create("test", 1024);
	set = config_bind(pool, config->blocks[0]->root, &error);
	ck_assert_msg(set != NULL, "%s", error);
	memset(&info, 0, sizeof(info));
	info.username = "alice";
	info.home = dir;
	info.uid = getuid();
	info.gid = getgid();
	ck_assert_msg(mail_user_init(set, &info, &user, &error) == 0, "%s",
		      error);
	box = mailbox_alloc(user, "INBOX", 0);
	ck_assert_int_eq(mailbox_open(box), 0);
	save("From: Bob <bob@x.org>\nTo: carol@x.org\nSubject: Re: beta\n"
	     "Date: Tue, 21 Nov 2023 10:00:00 +0000\n\nbody\n", T0 + 300);
	save("From: alice@x.org\nTo: \"Zed\" <zed@x.org>\nCc: eve@x.org\n"
	     "Subject: alpha\n\nbody\n", T0 + 100);
	save("From: =?utf-8?q?=C3=89mile?= <emile@x.org>\n"
	     "To: Adam <adam@x.org>\nSubject: [list] Gamma (fwd)\n"
	     "Date: Mon, 20 Nov 2023 10:00:00 +0100\n\nbody\n", T0 + 200);
	save("From: _x@x.org\nCc: Dan <dan@x.org>\n"
	     "Subject: =?utf-8?q?=C3=A9clair?=\nDate: garbage\n\nbody\n", T0);
	save("To: undisclosed-recipients:;\nSubject: Fwd: Alpha\n"
	     "Date: Wed, 22 Nov 2023 10:00:00 +0000\n\nbody\n", T0 + 100);
	str_append(big, "From: \"Zoe\" <aaa@x.org>\nTo: bob@x.org\n"
		   "Subject: alpha\nDate: Tue, 21 Nov 2023 10:00:00 +0000\n\n");
	for (unsigned int i = 0; i < 20; i++)
		str_append(big, "long body\n");
	save(str_c(big), T0 + 50);
	str_free(&big);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 6);
}

static void teardown(void)
{
	mailbox_free(&box);
	mail_user_deinit(&user);
	pool_destroy(&pool);
	config_free(&config);
	test_tmpdir_remove();
}

/* Sort all messages by program ("REVERSE DATE SUBJECT"), as "4 2 1". */
static const char *sorted(const char *program)
{
	static char buf[256];
	struct mail_sort_key keys[8];
	uint32_t seqs[16];
	unsigned int n = 0, count = mailbox_count(box);
	char *copy = i_strdup(program), *save_ptr = NULL;
	bool reverse = false;

	for (char *w = strtok_r(copy, " ", &save_ptr); w != NULL;
	     w = strtok_r(NULL, " ", &save_ptr)) {
		if (strcmp(w, "REVERSE") == 0) {
			reverse = true;
			continue;
		}
		ck_assert_msg(mail_sort_type_parse(w, &keys[n].type) == 0,
			      "%s", w);
		keys[n++].reverse = reverse;
		reverse = false;
	}
	keys[n].type = MAIL_SORT_END;
	i_free(copy);
	for (unsigned int i = 0; i < count; i++)
		seqs[i] = i + 1;
	ck_assert_int_eq(mail_sort_seqs(box, keys, seqs, count), 0);
	buf[0] = '\0';
	for (unsigned int i = 0; i < count; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, sizeof(buf) - len, "%s%u",
			 i > 0 ? " " : "", seqs[i]);
	}
	return buf;
}

START_TEST(test_sort_numbers)
{
	/* ARRIVAL ties (2 and 5) stay in sequence order, also reversed */
	ck_assert_str_eq(sorted("ARRIVAL"), "4 6 2 5 3 1");
	ck_assert_str_eq(sorted("REVERSE ARRIVAL"), "1 3 2 5 6 4");
	/* no Date (2) and a broken one (4) use INTERNALDATE */
	ck_assert_str_eq(sorted("DATE"), "4 2 3 1 6 5");
	ck_assert_str_eq(sorted("REVERSE DATE"), "5 1 6 3 2 4");
	ck_assert_str_eq(sorted("SIZE"), "2 4 5 1 3 6");
}
END_TEST

START_TEST(test_sort_strings)
{
	/* ALPHA ALPHA ALPHA BETA ECLAIR GAMMA (é decomposed sorts as E) */
	ck_assert_str_eq(sorted("SUBJECT"), "2 5 6 1 4 3");
	/* "" (none), AAA, ALICE, BOB, EMILE, _X (_ after letters) */
	ck_assert_str_eq(sorted("FROM"), "5 6 2 1 3 4");
	/* "", ADAM, BOB, CAROL, UNDISCLOSED-RECIPIENTS (group), ZED */
	ck_assert_str_eq(sorted("TO"), "4 3 6 1 5 2");
	ck_assert_str_eq(sorted("CC"), "1 3 5 6 4 2");
	/* display names: "", alice@x.org, Bob, Émile, Zoe, _x@x.org */
	ck_assert_str_eq(sorted("DISPLAYFROM"), "5 2 1 3 6 4");
	ck_assert_str_eq(sorted("DISPLAYTO"), "4 3 6 1 5 2");
}
END_TEST

START_TEST(test_sort_programs)
{
	ck_assert_str_eq(sorted("SUBJECT REVERSE DATE"), "5 6 2 1 4 3");
	ck_assert_str_eq(sorted("REVERSE CC FROM"), "2 4 5 6 1 3");
	ck_assert_str_eq(sorted("SUBJECT ARRIVAL"), "6 2 5 1 4 3");
}
END_TEST

START_TEST(test_sort_parse)
{
	enum mail_sort_type type;
	struct mail_sort_key keys[] = { { MAIL_SORT_END, false } };
	uint32_t seqs[] = { 3, 1, 2 };

	ck_assert_int_eq(mail_sort_type_parse("displayfrom", &type), 0);
	ck_assert_int_eq(type, MAIL_SORT_DISPLAYFROM);
	ck_assert_int_eq(mail_sort_type_parse("Arrival", &type), 0);
	ck_assert_int_eq(type, MAIL_SORT_ARRIVAL);
	ck_assert_int_eq(mail_sort_type_parse("REVERSE", &type), -1);
	ck_assert_int_eq(mail_sort_type_parse("", &type), -1);
	ck_assert_int_eq(mail_sort_type_parse("DATEX", &type), -1);
	/* no keys: nothing moves */
	ck_assert_int_eq(mail_sort_seqs(box, keys, seqs, 3), 0);
	ck_assert_uint_eq(seqs[0], 3);
	ck_assert_uint_eq(seqs[1], 1);
	ck_assert_uint_eq(seqs[2], 2);
}
END_TEST

START_TEST(test_sort_subset)
{
	struct mail_sort_key keys[] = {
		{ MAIL_SORT_SUBJECT, true }, { MAIL_SORT_END, false } };
	uint32_t seqs[] = { 6, 4, 2 };

	ck_assert_int_eq(mail_sort_seqs(box, keys, seqs, 3), 0);
	/* ECLAIR, then the two ALPHAs in sequence order */
	ck_assert_uint_eq(seqs[0], 4);
	ck_assert_uint_eq(seqs[1], 2);
	ck_assert_uint_eq(seqs[2], 6);
	ck_assert_int_eq(mail_sort_seqs(box, keys, seqs, 0), 0);
}
END_TEST

Suite *make_mail_sort_suite(void)
{
	Suite *s = suite_create("mail_sort");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sort_numbers);
	tcase_add_test(tc, test_sort_strings);
	tcase_add_test(tc, test_sort_programs);
	tcase_add_test(tc, test_sort_subset);
	suite_add_tcase(s, tc);
	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sort_parse);
	suite_add_tcase(s, tc);
	return s;
}

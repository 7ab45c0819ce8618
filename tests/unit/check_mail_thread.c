/* check_mail_thread.c - THREAD through the storage API on a Maildir:
 * REFERENCES (dummy parents, In-Reply-To, loops, duplicate Message-IDs,
 * subject merging), REFS and ORDEREDSUBJECT, UIDs and subsets. The
 * expected strings are what Dovecot 2.3.19 answered for the same
 * messages. */
#include "suites.h"
#include "config-bind.h"
#include "mail-thread.h"

#include <stdio.h>
#include <unistd.h>

#define T0 1700000000

static pool_t pool;
static struct config *config;
static struct mail_user *user;
static struct mailbox *box;

static const char *const messages[] = {
	"Subject: A\nMessage-ID: <1@x>\n"
	"Date: Tue, 21 Nov 2023 10:00:00 +0000\n",
	"Subject: Re: A\nMessage-ID: <2@x>\nReferences: <1@x>\n"
	"Date: Tue, 21 Nov 2023 11:00:00 +0000\n",
	"Subject: Re: A\nMessage-ID: <3@x>\nIn-Reply-To: <1@x>\n"
	"Date: Tue, 21 Nov 2023 10:30:00 +0000\n",
	/* two replies to a message we don't have */
	"Subject: B\nMessage-ID: <4@x>\nReferences: <gone@x>\n"
	"Date: Tue, 21 Nov 2023 09:00:00 +0000\n",
	"Subject: Re: B\nMessage-ID: <5@x>\nReferences: <gone@x>\n"
	"Date: Tue, 21 Nov 2023 12:00:00 +0000\n",
	/* joins A's thread by subject only */
	"Subject: Re: re: a\nDate: Tue, 21 Nov 2023 13:00:00 +0000\n",
	/* a reference loop */
	"Subject: C\nMessage-ID: <7@x>\nReferences: <8@x>\n"
	"Date: Tue, 21 Nov 2023 14:00:00 +0000\n",
	"Subject: C\nMessage-ID: <8@x>\nReferences: <7@x>\n"
	"Date: Tue, 21 Nov 2023 15:00:00 +0000\n",
	/* a duplicate Message-ID: threaded by its References only */
	"Subject: D\nMessage-ID: <1@x>\nReferences: <3@x>\n"
	"Date: Tue, 21 Nov 2023 08:00:00 +0000\n",
};

static void save(const char *text, time_t received)
{
	struct mailbox_transaction *t = mailbox_transaction_begin(box);
	struct mail_save_context *ctx = mailbox_save_alloc(t);

	mailbox_save_set_received_date(ctx, received, 0);
	ck_assert_int_eq(mailbox_save_begin(ctx), 0);
	ck_assert_int_eq(mailbox_save_continue(ctx, text, strlen(text)), 0);
	ck_assert_int_eq(mailbox_save_continue(ctx, "\nbody\n", 6), 0);
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
	for (size_t i = 0; i < N_ELEMENTS(messages); i++)
		save(messages[i], T0);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), N_ELEMENTS(messages));
}

static void teardown(void)
{
	mailbox_free(&box);
	mail_user_deinit(&user);
	pool_destroy(&pool);
	config_free(&config);
	test_tmpdir_remove();
}

/* Thread seqs first..last. */
static const char *thread(enum mail_thread_type type, uint32_t first,
			  uint32_t last, bool uid)
{
	static char buf[512];
	uint32_t seqs[32];
	unsigned int n = 0;
	string_t *out = str_new(128);

	for (uint32_t seq = first; seq <= last; seq++)
		seqs[n++] = seq;
	ck_assert_int_eq(mail_thread_build(box, type, seqs, n, uid, out), 0);
	snprintf(buf, sizeof(buf), "%s", str_c(out));
	str_free(&out);
	return buf;
}

START_TEST(test_thread_references)
{
	ck_assert_str_eq(thread(MAIL_THREAD_REFERENCES, 1, 9, false),
			 "((4)(5))(1 (3 9)(2)(6))(8 7)");
	/* without A: the two replies are merged under a dummy */
	ck_assert_str_eq(thread(MAIL_THREAD_REFERENCES, 3, 8, false),
			 "((4)(5))((3)(6))(8 7)");
}
END_TEST

START_TEST(test_thread_refs)
{
	/* no subject merging; threads by their newest message */
	ck_assert_str_eq(thread(MAIL_THREAD_REFS, 1, 9, false),
			 "(1 (3 9)(2))((4)(5))(6)(8 7)");
	ck_assert_str_eq(thread(MAIL_THREAD_REFS, 3, 8, false),
			 "(3)((4)(5))(6)(8 7)");
}
END_TEST

START_TEST(test_thread_orderedsubject)
{
	ck_assert_str_eq(thread(MAIL_THREAD_ORDEREDSUBJECT, 1, 9, false),
			 "(9)(4 5)(1 (3)(2)(6))(7 8)");
}
END_TEST

START_TEST(test_thread_uid_and_empty)
{
	struct mail *mail = mail_alloc(box);
	char expect[128];
	uint32_t uids[4];

	for (uint32_t seq = 1; seq <= 3; seq++) {
		mail_set_seq(mail, seq);
		uids[seq] = mail->uid;
	}
	mail_free(&mail);
	snprintf(expect, sizeof(expect), "(%u (%u)(%u))", uids[1], uids[3],
		 uids[2]);
	ck_assert_str_eq(thread(MAIL_THREAD_REFS, 1, 3, true), expect);
	ck_assert_str_eq(thread(MAIL_THREAD_REFERENCES, 1, 0, false), "");
}
END_TEST

START_TEST(test_thread_parse)
{
	enum mail_thread_type type;

	ck_assert_int_eq(mail_thread_type_parse("references", &type), 0);
	ck_assert_int_eq(type, MAIL_THREAD_REFERENCES);
	ck_assert_int_eq(mail_thread_type_parse("REFS", &type), 0);
	ck_assert_int_eq(type, MAIL_THREAD_REFS);
	ck_assert_int_eq(mail_thread_type_parse("OrderedSubject", &type), 0);
	ck_assert_int_eq(type, MAIL_THREAD_ORDEREDSUBJECT);
	ck_assert_int_eq(mail_thread_type_parse("REF", &type), -1);
	ck_assert_int_eq(mail_thread_type_parse("", &type), -1);
}
END_TEST

Suite *make_mail_thread_suite(void)
{
	Suite *s = suite_create("mail_thread");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_thread_references);
	tcase_add_test(tc, test_thread_refs);
	tcase_add_test(tc, test_thread_orderedsubject);
	tcase_add_test(tc, test_thread_uid_and_empty);
	suite_add_tcase(s, tc);
	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_thread_parse);
	suite_add_tcase(s, tc);
	return s;
}

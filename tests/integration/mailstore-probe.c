/* mailstore-probe.c - a test-only program linked with Roost's objects
 * that drives the storage API for the crash and concurrency tests
 * (mailstore-crash.py):
 *
 *   mailstore-probe LOCATION save N TAG    save N messages "Message-ID:
 *       <TAG-i>" one per transaction; after each commit prints
 *       "saved TAG-i UID" (flushed), so a kill leaves a trustworthy log
 *   mailstore-probe LOCATION churn N       N rounds of: sync, flag a
 *       random message, expunge a random message whose id ends in an odd
 *       digit; prints "expunged ID UID" after each commit
 *   mailstore-probe LOCATION dump          "UID ID FLAGS" for every
 *       message, then "uidvalidity V"
 *
 * LOCATION is a mail_location such as maildir:/tmp/x/Maildir. */
#include "lib.h"
#include "config-bind.h"
#include "config-parser.h"
#include "mail-storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct mail_user *user_init(const char *location, pool_t pool)
{
	struct config *config = NULL;
	struct settings_root *set;
	struct mail_user *user;
	struct mail_user_info info;
	const char *error;
	char *conf = i_strdup_printf("mail_location = %s\n", location);

	if (config_parse_string("probe.conf", conf, 0, &config, &error) < 0)
		i_fatal("config: %s", error);
	set = config_bind(pool, config->blocks[0]->root, &error);
	if (set == NULL)
		i_fatal("bind: %s", error);
	memset(&info, 0, sizeof(info));
	info.username = "probe";
	info.home = getenv("HOME");
	info.uid = getuid();
	info.gid = getgid();
	if (mail_user_init(set, &info, &user, &error) < 0)
		i_fatal("mail_user_init: %s", error);
	/* set points into pool, not into the parsed tree */
	config_free(&config);
	i_free(conf);
	return user;
}

static struct mailbox *box_open(struct mail_user *user)
{
	struct mailbox *box = mailbox_alloc(user, "INBOX", 0);

	if (mailbox_open(box) < 0 || mailbox_sync(box, 0, NULL, NULL) < 0)
		i_fatal("open: %s", mailbox_get_last_error(box, NULL));
	return box;
}

static void cmd_save(struct mail_user *user, unsigned int n, const char *tag)
{
	struct mailbox *box = box_open(user);

	for (unsigned int i = 0; i < n; i++) {
		struct mailbox_transaction *t = mailbox_transaction_begin(box);
		struct mail_save_context *ctx = mailbox_save_alloc(t);
		struct mail_transaction_commit_changes changes;
		char *msg = i_strdup_printf("Message-ID: <%s-%u>\nSubject: %u\n\n"
					    "body of %s-%u\n", tag, i, i, tag, i);

		if (mailbox_save_begin(ctx) < 0 ||
		    mailbox_save_continue(ctx, msg, strlen(msg)) < 0 ||
		    mailbox_save_finish(&ctx) < 0)
			i_fatal("save: %s", mailbox_get_last_error(box, NULL));
		if (mailbox_transaction_commit(&t, &changes) < 0)
			i_fatal("commit: %s", mailbox_get_last_error(box, NULL));
		printf("saved %s-%u %u\n", tag, i, changes.saved_uids.v[0]);
		fflush(stdout);
		mail_transaction_commit_changes_free(&changes);
		i_free(msg);
	}
	mailbox_free(&box);
}

static const char *msg_id(struct mail *mail)
{
	const char *value;

	if (mail_get_first_header(mail, "Message-ID", &value) < 0 ||
	    value == NULL)
		return "-";
	return value;
}

static void cmd_churn(struct mail_user *user, unsigned int n)
{
	struct mailbox *box = box_open(user);
	struct mail *mail = mail_alloc(box);

	srand((unsigned int)getpid());
	for (unsigned int i = 0; i < n; i++) {
		uint32_t count;
		struct mailbox_transaction *t;

		if (mailbox_sync(box, 0, NULL, NULL) < 0)
			i_fatal("sync: %s", mailbox_get_last_error(box, NULL));
		count = mailbox_count(box);
		if (count == 0) {
			usleep(1000);
			continue;
		}
		t = mailbox_transaction_begin(box);
		mail_set_seq(mail, 1 + (uint32_t)rand() % count);
		mail_update_flags(t, mail, (rand() & 1) ? MODIFY_ADD : MODIFY_REMOVE,
				  MAIL_SEEN | MAIL_FLAGGED);
		mail_set_seq(mail, 1 + (uint32_t)rand() % count);
		const char *id = msg_id(mail);
		size_t len = strlen(id);
		bool expunge = len > 2 && ((id[len - 2] - '0') & 1) != 0;
		char *saved_id = i_strdup(id);
		uint32_t uid = mail->uid;
		if (expunge)
			mail_expunge(t, mail);
		if (mailbox_transaction_commit(&t, NULL) < 0)
			i_fatal("commit: %s", mailbox_get_last_error(box, NULL));
		if (expunge) {
			printf("expunged %s %u\n", saved_id, uid);
			fflush(stdout);
		}
		i_free(saved_id);
	}
	mail_free(&mail);
	mailbox_free(&box);
}

static void cmd_dump(struct mail_user *user)
{
	struct mailbox *box = box_open(user);
	struct mail *mail = mail_alloc(box);

	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
		mail_set_seq(mail, seq);
		printf("%u %s %d\n", mail->uid, msg_id(mail),
		       (int)mail_get_flags(mail));
	}
	printf("uidvalidity %u\n", mailbox_get_uidvalidity(box));
	mail_free(&mail);
	mailbox_free(&box);
}

int main(int argc, char *argv[])
{
	pool_t pool;
	struct mail_user *user;

	if (argc < 3) {
		fprintf(stderr, "usage: mailstore-probe LOCATION save|churn|dump ...\n");
		return EXIT_USAGE;
	}
	log_set_prefix("mailstore-probe: ");
	pool = pool_create("probe", 1024);
	user = user_init(argv[1], pool);
	if (strcmp(argv[2], "save") == 0 && argc == 5)
		cmd_save(user, (unsigned int)atoi(argv[3]), argv[4]);
	else if (strcmp(argv[2], "churn") == 0 && argc == 4)
		cmd_churn(user, (unsigned int)atoi(argv[3]));
	else if (strcmp(argv[2], "dump") == 0)
		cmd_dump(user);
	else
		i_fatal("bad arguments");
	mail_user_deinit(&user);
	pool_destroy(&pool);
	return 0;
}

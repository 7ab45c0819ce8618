/* check_mail_storage.c - the storage API over the Maildir driver: UIDs
 * kept in dovecot-uidlist, flags and keywords in file names, sync change
 * records, expunge, copy, the mailbox list and subscriptions, the index
 * snapshot and its damage handling; plus modified UTF-7 and the uidlist
 * parser on malformed input. */
#include "suites.h"
#include "config-bind.h"
#include "mail-storage-private.h"
#include "maildir-private.h"
#include "mkdir-parents.h"
#include "mutf7.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static pool_t pool;
static const char *dir;
static struct settings_root *set;
static struct mail_user *user;
static struct config *config;

static void user_setup(const char *extra_conf)
{
	char *conf;
	const char *error;
	struct mail_user_info info;

	dir = test_tmpdir_create();
	conf = i_strdup_printf("mail_location = maildir:%s/Maildir\n%s",
			       dir, extra_conf);
	config = test_parse(conf);
	ck_assert_msg(config != NULL, "%s", test_parse_error());
	pool = pool_create("test", 1024);
	set = config_bind(pool, config->blocks[0]->root, &error);
	ck_assert_msg(set != NULL, "%s", error);
	memset(&info, 0, sizeof(info));
	info.username = "alice";
	info.home = dir;
	info.uid = getuid();
	info.gid = getgid();
	ck_assert_msg(mail_user_init(set, &info, &user, &error) == 0, "%s", error);
	i_free(conf);
}

static void setup(void)
{
	user_setup("");
}

static void teardown(void)
{
	mail_user_deinit(&user);
	config_free(&config);
	pool_destroy(&pool);
	test_tmpdir_remove();
}

static void save_msg(struct mailbox *box, const char *text,
		     enum mail_flags flags, const char *const *keywords)
{
	struct mailbox_transaction *t = mailbox_transaction_begin(box);
	struct mail_save_context *ctx = mailbox_save_alloc(t);

	mailbox_save_set_flags(ctx, flags, keywords);
	ck_assert_int_eq(mailbox_save_begin(ctx), 0);
	ck_assert_int_eq(mailbox_save_continue(ctx, text, strlen(text)), 0);
	ck_assert_int_eq(mailbox_save_finish(&ctx), 0);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
}

static struct mailbox *open_box(const char *vname, enum mailbox_flags flags)
{
	struct mailbox *box = mailbox_alloc(user, vname, flags);

	ck_assert_msg(mailbox_open(box) == 0, "%s",
		      mailbox_get_last_error(box, NULL));
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	return box;
}

static char *read_path(const char *rel)
{
	char *path = i_strdup_printf("%s/%s", dir, rel);
	char *data = test_read_file(path, NULL);

	i_free(path);
	return data;
}

START_TEST(test_mutf7)
{
	string_t *s = str_new(64);

	ck_assert_int_eq(mutf7_encode(s, "Entwürfe"), 0);
	ck_assert_str_eq(str_c(s), "Entw&APw-rfe");
	str_clear(s);
	ck_assert_int_eq(mutf7_encode(s, "A&B"), 0);
	ck_assert_str_eq(str_c(s), "A&-B");
	str_clear(s);
	ck_assert_int_eq(mutf7_encode(s, "日本語"), 0);
	ck_assert_str_eq(str_c(s), "&ZeVnLIqe-");
	str_clear(s);
	ck_assert_int_eq(mutf7_decode(s, "&ZeVnLIqe-"), 0);
	ck_assert_str_eq(str_c(s), "日本語");
	str_clear(s);
	ck_assert_int_eq(mutf7_decode(s, "Entw&APw-rfe &- x"), 0);
	ck_assert_str_eq(str_c(s), "Entwürfe & x");
	str_clear(s);
	/* an emoji is a surrogate pair */
	ck_assert_int_eq(mutf7_encode(s, "\xf0\x9f\x98\x80"), 0);
	ck_assert_str_eq(str_c(s), "&2D3eAA-");
	str_clear(s);
	ck_assert_int_eq(mutf7_decode(s, "&2D3eAA-"), 0);
	ck_assert_str_eq(str_c(s), "\xf0\x9f\x98\x80");
	/* malformed */
	ck_assert_int_eq(mutf7_decode(s, "&ZeVn"), -1);	/* no '-' */
	ck_assert_int_eq(mutf7_decode(s, "&AGE-"), -1);	/* encoded 'a' */
	ck_assert_int_eq(mutf7_decode(s, "&2D0-"), -1);	/* lone surrogate */
	ck_assert_int_eq(mutf7_decode(s, "a\x80"), -1);
	ck_assert_int_eq(mutf7_encode(s, "\xc3"), -1);	/* bad UTF-8 */
	str_free(&s);
}
END_TEST

START_TEST(test_uidlist_parse)
{
	struct maildir_uidlist ul;
	const char *error;
	const char *good =
		"3 V1795663225 N1 G4338231779a5076b8473000083ecc375\n"
		"1 :1795663225.M422292P29572.vm,S=630,W=654\n"
		"2 W147 :1795663225.M426684P29572.vm,S=140\n";

	maildir_uidlist_init(&ul);
	ck_assert_int_eq(maildir_uidlist_parse(&ul, good, strlen(good), &error), 0);
	ck_assert_uint_eq(ul.uidvalidity, 1795663225);
	/* N is stale: the next uid follows the last record */
	ck_assert_uint_eq(ul.next_uid, 3);
	ck_assert_str_eq(ul.guid, "4338231779a5076b8473000083ecc375");
	ck_assert_uint_eq(maildir_uidlist_lookup(&ul,
		"1795663225.M426684P29572.vm,S=140"), 2);
	ck_assert_uint_eq(ul.recs.v[1].vsize, 147);
	maildir_uidlist_deinit(&ul);

	/* version 1 */
	maildir_uidlist_init(&ul);
	ck_assert_int_eq(maildir_uidlist_parse(&ul,
		"1 1000 5\n3 a.b.c\n", 17, &error), 0);
	ck_assert_uint_eq(ul.uidvalidity, 1000);
	ck_assert_uint_eq(ul.next_uid, 5);
	ck_assert_uint_eq(maildir_uidlist_lookup(&ul, "a.b.c"), 3);
	maildir_uidlist_deinit(&ul);

	/* a truncated last line (writer died) is ignored */
	maildir_uidlist_init(&ul);
	ck_assert_int_eq(maildir_uidlist_parse(&ul,
		"3 V7 N1 G\n1 :x\n2 :y", 19, &error), 0);
	ck_assert_uint_eq(ul.recs.count, 1);
	maildir_uidlist_deinit(&ul);

	static const char *const bad[] = {
		"",
		"x V1 N1\n",
		"3 V0 N1\n",
		"3 V1 N1\n1 :a\n1 :b\n",	/* uids not ascending */
		"3 V1 N1\nabc :a\n",
		"3 V1 N1\n5 W1\n",
		"3 V1 N1\n5 :a/b\n",
		"3 V1 N1\n0 :a\n",
		"9 V1 N1\n",
	};
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		maildir_uidlist_init(&ul);
		ck_assert_msg(maildir_uidlist_parse(&ul, bad[i], strlen(bad[i]),
						    &error) < 0, "%s", bad[i]);
		maildir_uidlist_deinit(&ul);
	}
	maildir_uidlist_init(&ul);
	ck_assert_int_eq(maildir_uidlist_parse(&ul, "3 V1 N1\n1 :a\0b\n", 15,
					       &error), -1);
	maildir_uidlist_deinit(&ul);
}
END_TEST

START_TEST(test_filename)
{
	enum mail_flags flags;
	const char *kw;
	uint64_t size;
	char *key;

	maildir_filename_flags("1.M2P3.host,S=10,W=12:2,DFRSTab", &flags, &kw);
	ck_assert_int_eq(flags, MAIL_DRAFT | MAIL_FLAGGED | MAIL_ANSWERED |
			 MAIL_SEEN | MAIL_DELETED);
	ck_assert_str_eq(kw, "ab");
	maildir_filename_flags("1.M2P3.host", &flags, &kw);
	ck_assert_int_eq(flags, 0);
	ck_assert(maildir_filename_size("1.M2P3.host,S=10,W=12:2,S", 'W', &size));
	ck_assert_uint_eq(size, 12);
	ck_assert(maildir_filename_size("1.M2P3.host,S=10,W=12:2,S", 'S', &size));
	ck_assert_uint_eq(size, 10);
	ck_assert(!maildir_filename_size("1.M2P3.host:2,S", 'S', &size));
	ck_assert(!maildir_filename_size("1.M2P3.host,S=x", 'S', &size));
	key = maildir_filename_key("1.M2P3.host,S=10:2,S");
	ck_assert_str_eq(key, "1.M2P3.host,S=10");
	i_free(key);
}
END_TEST

START_TEST(test_save_and_reopen)
{
	struct mailbox *box = open_box("INBOX", 0);
	struct mailbox_status status;
	struct mail *mail;
	const unsigned char *data;
	size_t size;
	uint64_t vsize;
	uint32_t uidvalidity;
	char *ul;

	save_msg(box, "Subject: one\n\nbody 1\n", 0, NULL);
	save_msg(box, "Subject: two\n\nbody 2\n", MAIL_SEEN, NULL);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 2);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 1), 1);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 2), 2);
	ck_assert_int_eq(mailbox_seq_flags(box, 2) & MAIL_SEEN, MAIL_SEEN);
	uidvalidity = mailbox_get_uidvalidity(box);
	ck_assert_uint_ne(uidvalidity, 0);

	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_stream(mail, &data, &size), 0);
	ck_assert_uint_eq(size, 21);
	ck_assert(memcmp(data, "Subject: one\n", 13) == 0);
	ck_assert_int_eq(mail_get_virtual_size(mail, &vsize), 0);
	ck_assert_uint_eq(vsize, 24);
	mail_free(&mail);
	mailbox_free(&box);

	/* the uidlist is Dovecot's format */
	ul = read_path("Maildir/dovecot-uidlist");
	ck_assert_msg(strncmp(ul, "3 V", 3) == 0, "%s", ul);
	ck_assert_msg(strstr(ul, "\n1 :") != NULL && strstr(ul, "\n2 :") != NULL,
		      "%s", ul);
	ck_assert_msg(strstr(ul, ",S=21,W=24\n") != NULL, "%s", ul);
	i_free(ul);

	/* reopen without the index: same UIDs and UIDVALIDITY */
	char *ix = i_strdup_printf("%s/Maildir/roost.index", dir);
	ck_assert_int_eq(unlink(ix), 0);
	i_free(ix);
	box = open_box("INBOX", 0);
	ck_assert_int_eq(mailbox_get_status(box, STATUS_MESSAGES | STATUS_UNSEEN,
					    &status), 0);
	ck_assert_uint_eq(status.messages, 2);
	ck_assert_uint_eq(status.uidvalidity, uidvalidity);
	ck_assert_uint_eq(status.uidnext, 3);
	ck_assert_uint_eq(status.unseen, 1);
	ck_assert_uint_eq(status.first_unseen_seq, 1);
	mailbox_free(&box);
}
END_TEST

START_TEST(test_flags_keywords)
{
	struct mailbox *box = open_box("INBOX", 0);
	struct mailbox_transaction *t;
	struct mail *mail;
	const char *kws[] = { "$Forwarded", "custom", NULL };
	const char *const *got;
	char *kwfile;
	DIR *d;
	struct dirent *de;
	bool found = false;

	save_msg(box, "a\n", 0, NULL);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	mail_update_flags(t, mail, MODIFY_ADD, MAIL_FLAGGED | MAIL_SEEN);
	ck_assert_int_eq(mail_update_keywords(t, mail, MODIFY_ADD, kws), 0);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mail_free(&mail);
	mailbox_free(&box);

	/* file name carries FS and the keyword letters */
	char *cur = i_strdup_printf("%s/Maildir/cur", dir);
	d = opendir(cur);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_msg(str_ends(de->d_name, ":2,FSab"), "%s", de->d_name);
		found = true;
	}
	closedir(d);
	i_free(cur);
	ck_assert(found);
	kwfile = read_path("Maildir/dovecot-keywords");
	ck_assert_str_eq(kwfile, "0 $Forwarded\n1 custom\n");
	i_free(kwfile);

	/* reopened with a fresh index: the same flags and keywords */
	char *ix = i_strdup_printf("%s/Maildir/roost.index", dir);
	unlink(ix);
	i_free(ix);
	box = open_box("INBOX", 0);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_flags(mail), MAIL_FLAGGED | MAIL_SEEN);
	got = mail_get_keywords(mail);
	ck_assert_str_eq(got[0], "$Forwarded");
	ck_assert_str_eq(got[1], "custom");
	ck_assert_ptr_null(got[2]);
	/* remove one keyword */
	t = mailbox_transaction_begin(box);
	const char *rm[] = { "custom", NULL };
	ck_assert_int_eq(mail_update_keywords(t, mail, MODIFY_REMOVE, rm), 0);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	got = mail_get_keywords(mail);
	ck_assert_str_eq(got[0], "$Forwarded");
	ck_assert_ptr_null(got[1]);
	/* invalid keyword */
	t = mailbox_transaction_begin(box);
	const char *bad[] = { "a(b", NULL };
	ck_assert_int_eq(mail_update_keywords(t, mail, MODIFY_ADD, bad), -1);
	mailbox_transaction_rollback(&t);
	mail_free(&mail);
	mailbox_free(&box);
}
END_TEST

struct sync_log {
	char text[512];
};

static void sync_cb(const struct mailbox_sync_rec *rec, void *context)
{
	struct sync_log *log = context;
	size_t len = strlen(log->text);
	const char *type = rec->type == MAILBOX_SYNC_EXPUNGE ? "E" :
		rec->type == MAILBOX_SYNC_FLAGS ? "F" : "N";

	snprintf(log->text + len, sizeof(log->text) - len, "%s%u ", type,
		 rec->seq);
}

START_TEST(test_sync_changes)
{
	struct mailbox *box1 = open_box("INBOX", 0);
	struct mailbox *box2;
	struct mailbox_transaction *t;
	struct mail *mail;
	struct sync_log log = { "" };

	for (unsigned int i = 0; i < 4; i++)
		save_msg(box1, "x\n", 0, NULL);
	ck_assert_int_eq(mailbox_sync(box1, 0, NULL, NULL), 0);
	box2 = open_box("INBOX", 0);
	ck_assert_uint_eq(mailbox_count(box2), 4);

	/* session 1 expunges 2 and flags 4; session 2 sees it at sync */
	t = mailbox_transaction_begin(box1);
	mail = mail_alloc(box1);
	mail_set_seq(mail, 2);
	mail_expunge(t, mail);
	mail_set_seq(mail, 4);
	mail_update_flags(t, mail, MODIFY_ADD, MAIL_ANSWERED);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mail_free(&mail);
	save_msg(box1, "new\n", 0, NULL);

	/* NO_EXPUNGES keeps the expunged message in the view */
	ck_assert_int_eq(mailbox_sync(box2, MAILBOX_SYNC_FLAG_NO_EXPUNGES,
				      sync_cb, &log), 0);
	ck_assert_str_eq(log.text, "F4 N5 ");
	ck_assert_uint_eq(mailbox_count(box2), 5);
	mail = mail_alloc(box2);
	mail_set_seq(mail, 2);
	ck_assert(mail->expunged);
	mail_free(&mail);
	log.text[0] = '\0';
	ck_assert_int_eq(mailbox_sync(box2, 0, sync_cb, &log), 0);
	ck_assert_str_eq(log.text, "E2 ");
	ck_assert_uint_eq(mailbox_count(box2), 4);
	ck_assert_uint_eq(mailbox_seq_to_uid(box2, 4), 5);
	ck_assert_int_eq(mailbox_seq_flags(box2, 3) & MAIL_FLAGS_MASK, MAIL_ANSWERED);
	/* modseqs grew and the expunge is in the history */
	ARRAY_U32 uids = ARRAY_INIT;
	mailbox_get_expunged_since(box2, 0, &uids);
	ck_assert_uint_eq(uids.count, 2);
	ck_assert_uint_eq(uids.v[0], 2);
	ck_assert_uint_eq(uids.v[1], 2);
	array_free(&uids);
	mailbox_free(&box1);
	mailbox_free(&box2);
}
END_TEST

/* Modseqs as Dovecot numbers them (one per change record: appends,
 * flags, each keyword, expunges) and the expunge history as ranges that
 * survive a reopen; past its bound old ranges merge, and UIDs still in
 * the mailbox are never reported. */
START_TEST(test_modseq_history)
{
	static const char *const kw[] = { "kwa", "kwb", NULL };
	struct mailbox *box = open_box("INBOX", 0);
	struct mailbox_transaction *t;
	struct mail *mail;
	ARRAY_U32 r = ARRAY_INIT;

	ck_assert_uint_eq(mailbox_get_highest_modseq(box), 1);
	save_msg(box, "a\n", MAIL_SEEN, kw);	/* append + 2 keywords */
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_get_highest_modseq(box), 4);
	for (unsigned int i = 0; i < 9; i++)
		save_msg(box, "b\n", 0, NULL);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_get_highest_modseq(box), 13);
	/* one flag change of three messages: one modseq */
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	for (uint32_t seq = 2; seq <= 4; seq++) {
		mail_set_seq(mail, seq);
		mail_update_flags(t, mail, MODIFY_ADD, MAIL_DELETED);
	}
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mail_set_seq(mail, 3);
	ck_assert_uint_eq(mail_get_modseq(mail), 14);
	mail_free(&mail);
	/* expunge UIDs 2..4 and 6: one modseq, two ranges */
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	for (uint32_t seq = 2; seq <= 6; seq++) {
		if (seq == 5)
			continue;
		mail_set_seq(mail, seq);
		mail_expunge(t, mail);
	}
	mail_free(&mail);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_get_highest_modseq(box), 15);
	mailbox_free(&box);

	box = open_box("INBOX", 0);
	mailbox_get_expunged_since(box, 14, &r);
	ck_assert_uint_eq(r.count, 4);
	ck_assert_uint_eq(r.v[0], 2);
	ck_assert_uint_eq(r.v[1], 4);
	ck_assert_uint_eq(r.v[2], 6);
	ck_assert_uint_eq(r.v[3], 6);
	array_clear(&r);
	mailbox_get_expunged_since(box, 15, &r);
	ck_assert_uint_eq(r.count, 0);
	/* 5000 single expunges: the oldest ranges merge, the list stays
	   bounded, and present UIDs (1, 5, 7..10) are left out */
	for (unsigned int i = 0; i < 5000; i++)
		mail_expunge_history_add(&box->disk, (uint32_t[]){ 11 + 2 * i }, 1);
	ck_assert_uint_le(box->disk.exp.count, 4097);
	mailbox_get_expunged_since(box, 0, &r);
	for (size_t i = 0; i < r.count; i += 2) {
		for (uint32_t u = r.v[i]; u <= r.v[i + 1]; u++)
			ck_assert(u != 1 && u != 5 && (u < 7 || u > 10));
	}
	ck_assert_uint_eq(r.v[0], 2);
	ck_assert_uint_eq(r.v[r.count - 1], 11 + 2 * 4999);
	array_free(&r);
	mailbox_free(&box);

	/* Mail Dovecot indexed: modseqs start above any it can have given,
	   and a modseq from before Roost's history gets every missing UID */
	box = mailbox_alloc(user, "Dv", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), 0);
	mailbox_free(&box);
	char *p = test_write_file(dir, "Maildir/.Dv/dovecot.index.log", "x", 1);
	i_free(p);
	box = open_box("Dv", 0);
	ck_assert_uint_gt(mailbox_get_highest_modseq(box), 1000000000);
	for (unsigned int i = 0; i < 3; i++)
		save_msg(box, "c\n", 0, NULL);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	mail_set_seq(mail, 2);
	mail_expunge(t, mail);
	mail_free(&mail);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	mailbox_get_expunged_since(box, 5, &r);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_uint_eq(r.v[0], 2);
	ck_assert_uint_eq(r.v[1], 2);
	array_clear(&r);
	/* UIDs never expunged but missing (a gap) count before the history */
	box->disk.exp.count = 0;
	mailbox_get_expunged_since(box, 5, &r);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_uint_eq(r.v[0], 2);
	array_clear(&r);
	mailbox_get_expunged_since(box, mailbox_get_highest_modseq(box), &r);
	ck_assert_uint_eq(r.count, 0);
	array_free(&r);
	mailbox_free(&box);
}
END_TEST

START_TEST(test_recent)
{
	struct mailbox *box = open_box("INBOX", 0), *imap1, *imap2;
	struct mailbox_status st;

	save_msg(box, "x\n", 0, NULL);
	mailbox_free(&box);
	imap1 = open_box("INBOX", MAILBOX_FLAG_DROP_RECENT);
	ck_assert_int_eq(mailbox_seq_flags(imap1, 1) & MAIL_RECENT, MAIL_RECENT);
	imap2 = open_box("INBOX", MAILBOX_FLAG_DROP_RECENT);
	ck_assert_int_eq(mailbox_seq_flags(imap2, 1) & MAIL_RECENT, 0);
	ck_assert_int_eq(mailbox_get_status(imap1, STATUS_RECENT, &st), 0);
	ck_assert_uint_eq(st.recent, 1);
	mailbox_free(&imap1);
	mailbox_free(&imap2);
}
END_TEST

START_TEST(test_external_delivery)
{
	struct mailbox *box = open_box("INBOX", MAILBOX_FLAG_DROP_RECENT);
	struct sync_log log = { "" };
	char *path;
	struct mail *mail;
	const char *guid;

	/* an MDA drops a file into new/ */
	path = test_write_file(dir, "Maildir/new/1700000000.P123Q1.extmda",
			       "Subject: ext\n\nhi\n", 17);
	i_free(path);
	/* the directory mtime may not change within one clock tick: the
	   recent-mtime rule makes sync rescan anyway */
	ck_assert_int_eq(mailbox_sync(box, 0, sync_cb, &log), 0);
	ck_assert_str_eq(log.text, "N1 ");
	ck_assert_int_eq(mailbox_seq_flags(box, 1), MAIL_RECENT);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_guid(mail, &guid), 0);
	ck_assert_str_eq(guid, "1700000000.P123Q1.extmda");
	mail_free(&mail);
	mailbox_free(&box);
	/* an IMAP session moved it to cur/ with an empty flag part */
	struct stat st;
	char *cur = i_strdup_printf("%s/Maildir/cur/1700000000.P123Q1.extmda:2,",
				    dir);
	ck_assert_int_eq(stat(cur, &st), 0);
	i_free(cur);
}
END_TEST

START_TEST(test_copy_and_pop3_uidl)
{
	struct mailbox *src = open_box("INBOX", 0), *dest;
	struct mailbox_transaction *t;
	struct mail_save_context *ctx;
	struct mail *mail;
	struct mail_transaction_commit_changes changes;
	const char *uidl;
	char expect[32];

	save_msg(src, "Subject: c\n\nbody\n", MAIL_FLAGGED, NULL);
	ck_assert_int_eq(mailbox_sync(src, 0, NULL, NULL), 0);
	dest = mailbox_alloc(user, "Archive", 0);
	ck_assert_int_eq(mailbox_create(dest, NULL, false), 0);
	ck_assert_int_eq(mailbox_open(dest), 0);
	t = mailbox_transaction_begin(dest);
	mail = mail_alloc(src);
	mail_set_seq(mail, 1);
	ctx = mailbox_save_alloc(t);
	ck_assert_int_eq(mailbox_copy(&ctx, mail), 0);
	ck_assert_int_eq(mailbox_transaction_commit(&t, &changes), 0);
	ck_assert_uint_eq(changes.saved_uids.count, 1);
	ck_assert_uint_eq(changes.saved_uids.v[0], 1);
	ck_assert_uint_eq(changes.uidvalidity, mailbox_get_uidvalidity(dest));
	mail_transaction_commit_changes_free(&changes);
	ck_assert_int_eq(mail_get_pop3_uidl(mail, &uidl), 0);
	snprintf(expect, sizeof(expect), "%08x%08x", 1,
		 mailbox_get_uidvalidity(src));
	ck_assert_str_eq(uidl, expect);
	mail_free(&mail);
	ck_assert_int_eq(mailbox_sync(dest, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(dest), 1);
	ck_assert_int_eq(mailbox_seq_flags(dest, 1) & MAIL_FLAGS_MASK, MAIL_FLAGGED);
	ck_assert_uint_ne(mailbox_get_uidvalidity(dest),
			  mailbox_get_uidvalidity(src));
	mailbox_free(&src);
	mailbox_free(&dest);
	char *mf = i_strdup_printf("%s/Maildir/.Archive/maildirfolder", dir);
	struct stat st;
	ck_assert_int_eq(stat(mf, &st), 0);
	i_free(mf);
}
END_TEST

static const char *list_all(const char *pattern, enum mailbox_list_iter_flags flags)
{
	static char buf[1024];
	const char *patterns[] = { pattern, NULL };
	struct mailbox_list_iter *iter = mailbox_list_iter_init(user, patterns, flags);
	const struct mailbox_info *info;

	buf[0] = '\0';
	while ((info = mailbox_list_iter_next(iter)) != NULL) {
		size_t len = strlen(buf);
		snprintf(buf + len, sizeof(buf) - len, "%s%s%s%s ", info->vname,
			 (info->flags & MAILBOX_NOSELECT) ? "/NS" : "",
			 (info->flags & MAILBOX_CHILDREN) ? "/C" : "",
			 (info->flags & MAILBOX_SUBSCRIBED) ? "/S" : "");
	}
	ck_assert_int_eq(mailbox_list_iter_deinit(&iter), 0);
	return buf;
}

START_TEST(test_list_create_rename_delete)
{
	static const char *const names[] = {
		"Work", "Work.Sub", "Deep.A.B", "Entwürfe",
	};
	struct mailbox *box;

	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		box = mailbox_alloc(user, names[i], 0);
		ck_assert_msg(mailbox_create(box, NULL, false) == 0, "%s: %s",
			      names[i], mailbox_get_last_error(box, NULL));
		mailbox_free(&box);
	}
	box = mailbox_alloc(user, "Work", 0);
	enum mail_error err;
	ck_assert_int_eq(mailbox_create(box, NULL, false), -1);
	mailbox_get_last_error(box, &err);
	ck_assert_int_eq(err, MAIL_ERROR_EXISTS);
	mailbox_free(&box);
	/* Dovecot's order: newest first as a tree, INBOX last */
	ck_assert_str_eq(list_all("*", 0),
		"Entwürfe Deep/NS/C Deep.A/NS/C Deep.A.B Work/C Work.Sub INBOX ");
	ck_assert_str_eq(list_all("%", 0), "Entwürfe Deep/NS/C Work/C INBOX ");
	ck_assert_str_eq(list_all("inbox", 0), "INBOX ");
	/* on disk: Maildir++ names, modified UTF-7 */
	struct stat st;
	char *p = i_strdup_printf("%s/Maildir/.Entw&APw-rfe", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	i_free(p);

	/* invalid names */
	box = mailbox_alloc(user, "a/b", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), -1);
	ck_assert_str_eq(mailbox_get_last_error(box, NULL),
		"Invalid mailbox name: Name must not have '/' characters");
	mailbox_free(&box);
	box = mailbox_alloc(user, "a..b", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), -1);
	mailbox_free(&box);

	/* rename with children */
	struct mailbox *src = mailbox_alloc(user, "Work", 0);
	struct mailbox *dest = mailbox_alloc(user, "Job", 0);
	ck_assert_int_eq(mailbox_rename(src, dest), 0);
	mailbox_free(&src);
	mailbox_free(&dest);
	ck_assert_str_eq(list_all("J*", 0), "Job/C Job.Sub ");

	/* subscriptions in Dovecot's format */
	ck_assert_int_eq(mailbox_list_subscribe(user, "Job.Sub", true), 0);
	ck_assert_int_eq(mailbox_list_subscribe(user, "INBOX", true), 0);
	ck_assert_int_eq(mailbox_list_subscribe(user, "Gone", true), 0);
	char *subs = read_path("Maildir/subscriptions");
	ck_assert_str_eq(subs, "V\t2\n\nJob\tSub\nINBOX\nGone\n");
	i_free(subs);
	ck_assert_str_eq(list_all("*", MAILBOX_LIST_ITER_SUBSCRIBED),
			 "Job.Sub/S INBOX/S Gone/NS/S ");	/* file order */
	ck_assert_int_eq(mailbox_list_subscribe(user, "Gone", false), 0);

	/* delete */
	box = mailbox_alloc(user, "Job.Sub", 0);
	ck_assert_int_eq(mailbox_delete(box), 0);
	mailbox_free(&box);
	box = mailbox_alloc(user, "INBOX", 0);
	ck_assert_int_eq(mailbox_delete(box), -1);
	mailbox_free(&box);
	box = mailbox_alloc(user, "Nope", 0);
	ck_assert_int_eq(mailbox_open(box), -1);
	mailbox_get_last_error(box, &err);
	ck_assert_int_eq(err, MAIL_ERROR_NOTFOUND);
	mailbox_free(&box);
}
END_TEST

START_TEST(test_damaged_index)
{
	struct mailbox *box = open_box("INBOX", 0);
	char *ix;
	uint32_t uidvalidity;

	save_msg(box, "1\n", MAIL_SEEN, NULL);
	save_msg(box, "2\n", 0, NULL);
	uidvalidity = mailbox_get_uidvalidity(box);
	mailbox_free(&box);
	ix = i_strdup_printf("%s/Maildir/roost.index", dir);
	/* flip bytes in the middle */
	size_t len;
	char *data = test_read_file(ix, &len);
	ck_assert_uint_gt(len, 100);
	data[len / 2] ^= 0x55;
	char *p = test_write_file(dir, "Maildir/roost.index", data, len);
	i_free(p);
	i_free(data);
	test_log_capture_start();
	box = open_box("INBOX", 0);
	ck_assert_msg(strstr(test_log_captured(), "Corrupted index file") != NULL,
		      "%s", test_log_captured());
	test_log_capture_stop();
	ck_assert_uint_eq(mailbox_count(box), 2);
	ck_assert_uint_eq(mailbox_get_uidvalidity(box), uidvalidity);
	ck_assert_int_eq(mailbox_seq_flags(box, 1), MAIL_SEEN);
	/* modseqs start over above anything the lost index gave */
	ck_assert_uint_gt(mailbox_get_highest_modseq(box), 1000000000);
	mailbox_free(&box);
	/* truncated to a few bytes */
	p = test_write_file(dir, "Maildir/roost.index", "ROOSTIX1", 8);
	i_free(p);
	box = open_box("INBOX", 0);
	ck_assert_uint_eq(mailbox_count(box), 2);
	mailbox_free(&box);
	i_free(ix);
}
END_TEST

/* Maildir files whose names carry S= are indexed without a stat():
 * their dates are looked up when first asked for (also after another
 * process renamed the file), then kept in the index. */
START_TEST(test_maildir_lazy_dates)
{
	static const char msg[] = "Subject: a\n\nx\n";
	struct mailbox *box = open_box("INBOX", 0);
	struct timeval tv[2] = { { 0, 0 }, { 0, 0 } };
	struct mail *mail;
	time_t t;
	char *p, *q;

	mailbox_free(&box);
	for (unsigned int i = 1; i <= 3; i++) {
		p = i_strdup_printf("Maildir/cur/16000000%02u.M%uP1.h,S=%zu:2,S",
				    i, i, sizeof(msg) - 1);
		q = test_write_file(dir, p, msg, sizeof(msg) - 1);
		tv[0].tv_sec = tv[1].tv_sec = 1500000000 + i * 100;
		ck_assert_int_eq(utimes(q, tv), 0);
		i_free(q);
		i_free(p);
	}
	box = open_box("INBOX", 0);
	ck_assert_uint_eq(mailbox_count(box), 3);
	/* another process sets \Flagged on 2 and expunges 3 */
	p = i_strdup_printf("%s/Maildir/cur/1600000002.M2P1.h,S=%zu:2,S", dir,
			    sizeof(msg) - 1);
	q = i_strdup_printf("%s/Maildir/cur/1600000002.M2P1.h,S=%zu:2,FS", dir,
			    sizeof(msg) - 1);
	ck_assert_int_eq(rename(p, q), 0);
	i_free(p);
	i_free(q);
	p = i_strdup_printf("%s/Maildir/cur/1600000003.M3P1.h,S=%zu:2,S", dir,
			    sizeof(msg) - 1);
	ck_assert_int_eq(unlink(p), 0);
	i_free(p);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_received_date(mail, &t), 0);
	ck_assert_int_eq(t, 1500000100);
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_get_received_date(mail, &t), 0);
	ck_assert_int_eq(t, 1500000200);
	ck_assert_int_eq(mail_get_save_date(mail, &t), 0);
	ck_assert_int_gt(t, 1500000200);	/* the ctime: now */
	mail_set_seq(mail, 3);
	ck_assert_int_eq(mail_get_received_date(mail, &t), -1);
	mail_free(&mail);
	mailbox_free(&box);

	/* the index keeps them: a later change of the mtime is not seen */
	p = i_strdup_printf("%s/Maildir/cur/1600000001.M1P1.h,S=%zu:2,S", dir,
			    sizeof(msg) - 1);
	tv[0].tv_sec = tv[1].tv_sec = 1400000000;
	ck_assert_int_eq(utimes(p, tv), 0);
	i_free(p);
	box = open_box("INBOX", 0);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_received_date(mail, &t), 0);
	ck_assert_int_eq(t, 1500000100);
	mail_free(&mail);
	mailbox_free(&box);
}
END_TEST

/* An index written by an older Roost (version 2: byte-wise FNV-1a
 * checksum) is still read: no rebuild, the modseqs stay. */
START_TEST(test_index_v2_read)
{
	struct mailbox *box = open_box("INBOX", 0);
	uint64_t modseq, h = 0xcbf29ce484222325ULL;
	char *ix, *p, *data;
	size_t len;

	save_msg(box, "1\n", MAIL_SEEN, NULL);
	save_msg(box, "2\n", 0, NULL);
	mailbox_free(&box);
	box = open_box("INBOX", 0);
	modseq = mailbox_get_highest_modseq(box);
	mailbox_free(&box);
	ix = i_strdup_printf("%s/Maildir/roost.index", dir);
	data = test_read_file(ix, &len);
	ck_assert_uint_gt(len, 100);
	ck_assert(memcmp(data, "ROOSTIX3", 8) == 0);
	memcpy(data, "ROOSTIX2", 8);
	for (size_t i = 0; i < len - 8; i++) {
		h ^= (unsigned char)data[i];
		h *= 0x100000001b3ULL;
	}
	memcpy(data + len - 8, &h, 8);
	p = test_write_file(dir, "Maildir/roost.index", data, len);
	i_free(p);
	test_log_capture_start();
	box = open_box("INBOX", 0);
	ck_assert_msg(strstr(test_log_captured(), "Corrupted") == NULL,
		      "%s", test_log_captured());
	test_log_capture_stop();
	ck_assert_uint_eq(mailbox_count(box), 2);
	ck_assert_uint_eq(mailbox_get_highest_modseq(box), modseq);
	ck_assert_int_ne(mailbox_seq_flags(box, 1) & MAIL_SEEN, 0);
	mailbox_free(&box);
	/* one flipped byte in a version 2 file is still caught */
	data[len / 2] ^= 0x55;
	p = test_write_file(dir, "Maildir/roost.index", data, len);
	i_free(p);
	test_log_capture_start();
	box = open_box("INBOX", 0);
	ck_assert_msg(strstr(test_log_captured(), "Corrupted index file") != NULL,
		      "%s", test_log_captured());
	test_log_capture_stop();
	ck_assert_uint_eq(mailbox_count(box), 2);
	mailbox_free(&box);
	i_free(data);
	i_free(ix);
}
END_TEST

/* The parsed-field cache lives on in roost.cache: a later session gets
 * the field without parsing; a damaged tail and a file of another
 * UIDVALIDITY are dealt with; an expunged message's fields go. */
START_TEST(test_persistent_cache)
{
	struct mailbox *box = open_box("INBOX", 0);
	struct mail *mail;
	const char *value;
	char *data, *p;
	size_t len;

	save_msg(box, "Subject: a\n\n1\n", 0, NULL);
	save_msg(box, "Subject: b\n\n2\n", 0, NULL);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_cached_field(mail, "imap.envelope", &value), 0);
	ck_assert_ptr_null(value);
	mail_set_cached_field(mail, "imap.envelope", "(\"env 1\"\r\nline)");
	mail_set_seq(mail, 2);
	mail_set_cached_field(mail, "imap.body", "(body 2)");
	mail_free(&mail);
	mailbox_free(&box);

	/* a new session reads them from the file */
	box = open_box("INBOX", 0);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_cached_field(mail, "imap.envelope", &value), 0);
	ck_assert_str_eq(value, "(\"env 1\"\r\nline)");
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_get_cached_field(mail, "imap.body", &value), 0);
	ck_assert_str_eq(value, "(body 2)");
	mail_free(&mail);
	mailbox_free(&box);

	/* a write cut short: the good records stay */
	data = read_path("Maildir/roost.cache");
	p = i_strdup_printf("%s2 imap.bodystructure 99\npartial", data);
	{
		char *w = test_write_file(dir, "Maildir/roost.cache", p, strlen(p));
		i_free(w);
	}
	i_free(p);
	i_free(data);
	box = open_box("INBOX", 0);
	mail = mail_alloc(box);
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_get_cached_field(mail, "imap.bodystructure", &value), 0);
	ck_assert_ptr_null(value);
	ck_assert_int_eq(mail_get_cached_field(mail, "imap.body", &value), 0);
	ck_assert_str_eq(value, "(body 2)");
	mail_free(&mail);
	mailbox_free(&box);
	data = read_path("Maildir/roost.cache");
	ck_assert_ptr_null(strstr(data, "partial"));
	i_free(data);

	/* another UIDVALIDITY: nothing of it is used */
	data = test_read_file(p = i_strdup_printf("%s/Maildir/roost.cache", dir), &len);
	i_free(p);
	ck_assert(strncmp(data, "ROOSTCACHE1 ", 12) == 0);
	data[12] = data[12] == '1' ? '2' : '1';
	{
		char *w = test_write_file(dir, "Maildir/roost.cache", data, len);
		i_free(w);
	}
	i_free(data);
	box = open_box("INBOX", 0);
	mail = mail_alloc(box);
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_get_cached_field(mail, "imap.body", &value), 0);
	ck_assert_ptr_null(value);
	mail_free(&mail);
	mailbox_free(&box);
}
END_TEST

START_TEST(test_namespace_prefix)
{
	mail_user_deinit(&user);
	config_free(&config);
	pool_destroy(&pool);
	test_tmpdir_remove();
	user_setup("namespace inbox {\n inbox = yes\n prefix = INBOX.\n separator = .\n"
		   " mailbox Sent {\n  special_use = \\Sent\n  auto = subscribe\n }\n}\n");
	ck_assert_str_eq(list_all("*", 0), "INBOX/C INBOX.Sent/S ");
	ck_assert_str_eq(list_all("*", MAILBOX_LIST_ITER_SUBSCRIBED),
			 "INBOX.Sent/S ");
	const char *patterns[] = { "*", NULL };
	struct mailbox_list_iter *iter = mailbox_list_iter_init(user, patterns,
		MAILBOX_LIST_ITER_SPECIALUSE_ONLY);
	const struct mailbox_info *info = mailbox_list_iter_next(iter);
	ck_assert_ptr_nonnull(info);
	ck_assert_str_eq(info->vname, "INBOX.Sent");
	ck_assert_int_eq(info->flags & MAILBOX_SPECIALUSE_SENT,
			 MAILBOX_SPECIALUSE_SENT);
	mailbox_list_iter_deinit(&iter);
	struct mailbox *box = open_box("inbox", 0);
	ck_assert_str_eq(mailbox_get_vname(box), "INBOX");
	mailbox_free(&box);
}
END_TEST

/* An empty mail_location: Dovecot's autodetection, and zero-config's
 * mbox fallback when it finds nothing. Returns the "driver:root:inbox"
 * picked, or the error. */
static char *autodetect(const char *home)
{
	struct config *c = test_parse("namespace inbox {\n inbox = yes\n}\n");
	pool_t p = pool_create("autodetect", 1024);
	const char *error;
	struct settings_root *s = config_bind(p, c->blocks[0]->root, &error);
	struct mail_user_info info;
	struct mail_user *u;
	char *ret;

	ck_assert_msg(s != NULL, "%s", error);
	memset(&info, 0, sizeof(info));
	info.username = "zc-user";
	info.home = home;
	info.uid = getuid();
	info.gid = getgid();
	if (mail_user_init(s, &info, &u, &error) < 0) {
		ret = (char *)error;	/* allocated by mail_user_init */
	} else {
		const struct mailbox_list *l = u->namespaces->mlist;
		ret = i_strdup_printf("%s:%s:%s", u->namespaces->driver,
				      l->root, l->inbox_path == NULL ? "-" :
				      l->inbox_path);
		mail_user_deinit(&u);
	}
	config_free(&c);
	pool_destroy(&p);
	return ret;
}

START_TEST(test_autodetect_mbox_fallback)
{
	const char *home = test_tmpdir_create();
	char *mail_env = getenv("MAIL") == NULL ? NULL : i_strdup(getenv("MAIL"));
	char *got, *want;

	unsetenv("MAIL");
	/* nothing to find: Dovecot fails, zero-config picks Debian's mbox */
	got = autodetect(home);
	ck_assert_msg(strstr(got, "autodetection failed") != NULL, "%s", got);
	i_free(got);
	mail_user_set_autodetect_mbox_fallback(true);
	got = autodetect(home);
	want = i_strdup_printf("mbox:%s/mail:/var/mail/zc-user", home);
	ck_assert_str_eq(got, want);
	i_free(got);
	i_free(want);
	/* ~/Maildir wins over the fallback */
	want = i_strdup_printf("%s/Maildir/cur", home);
	ck_assert_int_eq(mkdir_parents(want, 0700), 0);
	i_free(want);
	got = autodetect(home);
	want = i_strdup_printf("maildir:%s/Maildir:-", home);
	ck_assert_str_eq(got, want);
	i_free(got);
	i_free(want);
	mail_user_set_autodetect_mbox_fallback(false);
	if (mail_env != NULL)
		setenv("MAIL", mail_env, 1);
	i_free(mail_env);
	test_tmpdir_remove();
}
END_TEST

Suite *make_mail_storage_suite(void)
{
	Suite *s = suite_create("mail_storage");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_mutf7);
	tcase_add_test(tc, test_uidlist_parse);
	tcase_add_test(tc, test_filename);
	tcase_add_test(tc, test_autodetect_mbox_fallback);
	suite_add_tcase(s, tc);

	tc = tcase_create("Maildir");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_save_and_reopen);
	tcase_add_test(tc, test_flags_keywords);
	tcase_add_test(tc, test_sync_changes);
	tcase_add_test(tc, test_modseq_history);
	tcase_add_test(tc, test_recent);
	tcase_add_test(tc, test_external_delivery);
	tcase_add_test(tc, test_copy_and_pop3_uidl);
	tcase_add_test(tc, test_list_create_rename_delete);
	tcase_add_test(tc, test_damaged_index);
	tcase_add_test(tc, test_index_v2_read);
	tcase_add_test(tc, test_maildir_lazy_dates);
	tcase_add_test(tc, test_namespace_prefix);
	tcase_add_test(tc, test_persistent_cache);
	suite_add_tcase(s, tc);
	return s;
}

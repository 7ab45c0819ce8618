/* check_mail_search.c - search args: the doveadm query language turned
 * into trees (AND/OR/NOT, lists, every key), Dovecot's error texts for
 * bad queries, the size/interval/date parsers, and matching against a
 * Maildir through the storage API (flags, keywords, dates, sizes,
 * decoded headers and bodies, sequence and UID sets). */
#include "suites.h"
#include "config-bind.h"
#include "mail-search.h"

#include <stdio.h>
#include <sys/stat.h>
#include <utime.h>
#include <unistd.h>

/* A compact dump of a tree: "AND(SEEN,OR(UID,NOT:FLAGS))". */
static void dump_arg(string_t *out, const struct mail_search_arg *arg);

static void dump_list(string_t *out, const struct mail_search_arg *arg)
{
	for (; arg != NULL; arg = arg->next) {
		dump_arg(out, arg);
		if (arg->next != NULL)
			str_append_c(out, ',');
	}
}

static void dump_arg(string_t *out, const struct mail_search_arg *arg)
{
	static const char *const names[] = {
		"OR", "SUB", "ALL", "SEQSET", "UIDSET", "FLAGS", "KEYWORDS",
		"BEFORE", "ON", "SINCE", "SMALLER", "LARGER", "HEADER",
		"ADDRESS", "COMPRESS", "BODY", "TEXT", "MODSEQ", "GUID",
		"MAILBOX", "MAILBOX_GUID", "MAILBOX_GLOB", "EMAILID",
		"THREADID",
	};

	if (arg->match_not)
		str_append(out, "NOT:");
	str_append(out, names[arg->type]);
	if (arg->type == SEARCH_OR || arg->type == SEARCH_SUB) {
		str_append_c(out, '(');
		dump_list(out, arg->value.subargs);
		str_append_c(out, ')');
	} else if (arg->type == SEARCH_FLAGS) {
		str_printfa(out, "=%x", arg->value.flags);
	} else if (arg->value.str != NULL && arg->type != SEARCH_UIDSET) {
		str_printfa(out, "=%s", arg->value.str);
	}
}

static const char *parse(const char *query)
{
	static char buf[1024];
	char *copy = i_strdup(query), *save = NULL;
	const char *argv[64], *error;
	struct mail_search_args *args;
	unsigned int n = 0;

	for (char *tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	if (mail_search_parse_cmdline(argv, &args, &error) < 0) {
		snprintf(buf, sizeof(buf), "ERR %s", error);
	} else {
		string_t *out = str_new(256);

		dump_list(out, args->args);
		snprintf(buf, sizeof(buf), "%s", str_c(out));
		str_free(&out);
		mail_search_args_free(&args);
	}
	i_free(copy);
	return buf;
}

START_TEST(test_parse_trees)
{
	ck_assert_str_eq(parse("all"), "ALL");
	ck_assert_str_eq(parse("mailbox INBOX seen"),
			 "MAILBOX_GLOB=INBOX,FLAGS=8");
	ck_assert_str_eq(parse("unseen"), "NOT:FLAGS=8");
	ck_assert_str_eq(parse("not seen"), "NOT:FLAGS=8");
	ck_assert_str_eq(parse("not not seen"), "FLAGS=8");
	ck_assert_str_eq(parse("new"), "SUB(FLAGS=20,NOT:FLAGS=8)");
	/* "or" turns the enclosing list into an OR list */
	ck_assert_str_eq(parse("seen or flagged"), "OR(FLAGS=8,FLAGS=2)");
	ck_assert_str_eq(parse("seen flagged or draft"),
			 "OR(FLAGS=8,FLAGS=2,FLAGS=10)");
	ck_assert_str_eq(parse("mailbox X ( seen or flagged ) 1:3"),
			 "MAILBOX_GLOB=X,OR(FLAGS=8,FLAGS=2),SEQSET");
	ck_assert_str_eq(parse("not ( seen answered )"),
			 "NOT:SUB(FLAGS=8,FLAGS=1)");
	ck_assert_str_eq(parse("SUBJECT hello FROM bob"),
			 "COMPRESS=hello,ADDRESS=bob");
	ck_assert_str_eq(parse("header x-spam yes"), "HEADER=yes");
	ck_assert_str_eq(parse("keyword $Label1 unkeyword x"),
			 "KEYWORDS=$Label1,NOT:KEYWORDS=x");
	ck_assert_str_eq(parse("body a text b"), "BODY=a,TEXT=b");
	ck_assert_str_eq(parse("since 2024-01-31 savedbefore 30d "
			       "sentbefore 1-Feb-2024"), "SINCE,BEFORE,BEFORE");
	ck_assert_str_eq(parse("larger 10k smaller 1M"), "LARGER,SMALLER");
	ck_assert_str_eq(parse("guid abc mailbox-guid 0123 modseq 5"),
			 "GUID=abc,MAILBOX_GUID=0123,MODSEQ");
	ck_assert_str_eq(parse("uid 1:* 2,4:*"), "UIDSET,SEQSET");
	ck_assert_str_eq(parse("x-mailbox Work older 60 younger 60"),
			 "MAILBOX_GLOB=Work,BEFORE,SINCE");
}
END_TEST

START_TEST(test_parse_errors)
{
	static const struct {
		const char *query, *error;
	} cases[] = {
		{ "bogus", "Unknown argument BOGUS" },
		{ "(", "Missing ')'" },
		{ ")", "Unexpected ')'" },
		{ "( )", "No search parameters inside list" },
		{ "not", "Missing argument" },
		{ "or", "Missing argument" },
		{ "seen or flagged uid 1",
		  "Use parenthesis when mixing ANDs and ORs" },
		{ "uid", "Missing parameter for search key (for search key: UID)" },
		{ "header subject",
		  "Missing parameter for search key (for search key: HEADER)" },
		{ "uid 1:x", "Invalid UID messageset" },
		{ "uid 0", "Invalid UID messageset" },
		{ "1:x", "Invalid messageset" },
		{ "since foo", "Invalid search date parameter: foo" },
		{ "before 1ms", "Invalid search date parameter: 1ms" },
		{ "larger 1x", "Invalid size: 1x" },
		{ "larger 99999999999999999999999",
		  "Invalid size: 99999999999999999999999" },
		{ "older x", "Invalid search interval parameter" },
		{ "older 0", "Invalid search interval parameter" },
		{ "modseq x", "Invalid MODSEQ value" },
		/* OBJECTID keys are IMAP's only */
		{ "emailid M123", "Unknown argument EMAILID" },
		{ "threadid T123", "Unknown argument THREADID" },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char expect[256];

		snprintf(expect, sizeof(expect), "ERR %s", cases[i].error);
		ck_assert_msg(strcmp(parse(cases[i].query), expect) == 0,
			      "%s: %s", cases[i].query, parse(cases[i].query));
	}
}
END_TEST

START_TEST(test_parse_limits)
{
	/* deep nesting is refused, not a stack overflow */
	const char **argv = i_new(const char *, 20002);
	struct mail_search_args *args;
	const char *error;

	for (unsigned int i = 0; i < 10000; i++) {
		argv[i] = "(";
		argv[10000 + i] = ")";
	}
	argv[20000] = NULL;
	argv[10000] = "all";
	ck_assert_int_eq(mail_search_parse_cmdline(argv, &args, &error), -1);
	ck_assert_str_eq(error, "Too much nesting in search query");
	for (unsigned int i = 0; i < 10000; i++)
		argv[i] = "not";
	argv[10000] = "seen";
	argv[10001] = NULL;
	ck_assert_int_eq(mail_search_parse_cmdline(argv, &args, &error), -1);
	ck_assert_str_eq(error, "Too much nesting in search query");
	i_free(argv);
}
END_TEST

START_TEST(test_small_parsers)
{
	uint64_t size;
	unsigned int secs;
	time_t t;

	ck_assert_int_eq(mail_search_parse_size("10", &size), 0);
	ck_assert_uint_eq(size, 10);
	ck_assert_int_eq(mail_search_parse_size("10k", &size), 0);
	ck_assert_uint_eq(size, 10240);
	ck_assert_int_eq(mail_search_parse_size("2 MiB", &size), 0);
	ck_assert_uint_eq(size, 2 * 1024 * 1024);
	ck_assert_int_eq(mail_search_parse_size("1kb", &size), 0);
	ck_assert_int_eq(mail_search_parse_size("1q", &size), -1);
	ck_assert_int_eq(mail_search_parse_size("", &size), -1);
	ck_assert_int_eq(mail_search_parse_size("-1", &size), -1);
	ck_assert_int_eq(mail_search_parse_interval("30d", &secs), 0);
	ck_assert_uint_eq(secs, 30 * 86400);
	ck_assert_int_eq(mail_search_parse_interval("2 weeks", &secs), 0);
	ck_assert_uint_eq(secs, 14 * 86400);
	ck_assert_int_eq(mail_search_parse_interval("90 mins", &secs), 0);
	ck_assert_uint_eq(secs, 5400);
	ck_assert_int_eq(mail_search_parse_interval("3600", &secs), 0);
	ck_assert_uint_eq(secs, 3600);
	ck_assert_int_eq(mail_search_parse_interval("1ms", &secs), -1);
	ck_assert_int_eq(mail_search_parse_interval("5 fortnights", &secs), -1);
	ck_assert(mail_search_parse_imap_date("1-Feb-2024", &t));
	ck_assert_int_eq(t, 1706745600);
	ck_assert(mail_search_parse_imap_date("01-feb-2024", &t));
	ck_assert(!mail_search_parse_imap_date("1-Fev-2024", &t));
	ck_assert(!mail_search_parse_imap_date("1-Feb-24", &t));
	ck_assert(!mail_search_parse_imap_date("Feb-1-2024", &t));
}
END_TEST

START_TEST(test_casefold)
{
	string_t *s = str_new(64);

	const char *text = "ABC Grüße ÄÖÜ ΑΒΓ ПРИВЕТ";

	mail_search_casefold(text, strlen(text), s);
	ck_assert_str_eq(str_c(s), "ABC GRU\xcc\x88\xc3\x9f" "E "
			 "A\xcc\x88O\xcc\x88U\xcc\x88 ΑΒΓ ПРИВЕТ");
	str_clear(s);
	/* invalid UTF-8 becomes U+FFFD */
	mail_search_casefold("A\xff" "b", 3, s);
	ck_assert_str_eq(str_c(s), "A\xef\xbf\xbd" "B");
	str_free(&s);
}
END_TEST

/* ---- matching through the storage API ---- */

static pool_t pool;
static struct config *config;
static struct mail_user *user;
static struct mailbox *box;

static void save(const char *text, enum mail_flags flags,
		 const char *const *keywords, time_t received)
{
	struct mailbox_transaction *t = mailbox_transaction_begin(box);
	struct mail_save_context *ctx = mailbox_save_alloc(t);

	mailbox_save_set_flags(ctx, flags, keywords);
	if (received != 0)
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
	static const char *const kw[] = { "$Label1", NULL };
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
	save("From: Bob <bob@example.com>\nSubject: Hello  world\n"
	     "Date: Tue, 21 Nov 2023 23:30:00 -0500\nX-Spam: no\n\n"
	     "first body apple\n", MAIL_SEEN, kw, 1700000000);
	save("From: =?utf-8?q?J=C3=B6rg?= <j@x.org>\n"
	     "Subject: =?iso-8859-1?q?Gr=FC=DFe?=\n"
	     "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
	     "Content-Transfer-Encoding: quoted-printable\n\nK=E4se\n",
	     MAIL_FLAGGED, NULL, 1700100000);
	save("Subject: big\n\n", 0, NULL, 1700200000);
	{
		/* make the third one large */
		string_t *big = str_new(4096);

		str_append(big, "Subject: big one\nContent-Type: multipart/mixed;"
			   " boundary=b\n\n--b\nContent-Type: text/plain\n\n"
			   "inline text\n--b\nContent-Type: application/"
			   "octet-stream\nContent-Transfer-Encoding: base64\n\n"
			   "c2VjcmV0IHdvcmQ=\n--b--\n");
		for (unsigned int i = 0; i < 100; i++)
			str_append(big, "padding padding padding padding\n");
		save(str_c(big), MAIL_ANSWERED | MAIL_DELETED, NULL,
		     1700300000);
		str_free(&big);
	}
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
}

static void teardown(void)
{
	mailbox_free(&box);
	mail_user_deinit(&user);
	pool_destroy(&pool);
	config_free(&config);
	test_tmpdir_remove();
}

/* The UIDs matching query, as "1 3". */
static const char *matches(const char *query)
{
	static char buf[256];
	char *copy = i_strdup(query), *save_ptr = NULL;
	const char *argv[64], *error;
	struct mail_search_args *args;
	struct mail *mail;
	unsigned int n = 0;

	for (char *tok = strtok_r(copy, " ", &save_ptr); tok != NULL;
	     tok = strtok_r(NULL, " ", &save_ptr)) {
		/* '~' stands for a space inside one argument */
		for (char *p = tok; *p != '\0'; p++) {
			if (*p == '~')
				*p = ' ';
		}
		argv[n++] = tok;
	}
	argv[n] = NULL;
	ck_assert_msg(mail_search_parse_cmdline(argv, &args, &error) == 0,
		      "%s: %s", query, error);
	ck_assert_int_eq(mail_search_args_init(args, box), 0);
	buf[0] = '\0';
	mail = mail_alloc(box);
	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
		mail_set_seq(mail, seq);
		int ret = mail_search_match(mail, args->args);

		ck_assert_int_ge(ret, 0);
		if (ret > 0) {
			size_t len = strlen(buf);
			snprintf(buf + len, sizeof(buf) - len, "%s%u",
				 len > 0 ? " " : "", mail->uid);
		}
	}
	mail_free(&mail);
	mail_search_args_free(&args);
	i_free(copy);
	return buf;
}

START_TEST(test_match_flags_sets)
{
	ck_assert_str_eq(matches("all"), "1 2 3 4");
	ck_assert_str_eq(matches("seen"), "1");
	ck_assert_str_eq(matches("unseen"), "2 3 4");
	ck_assert_str_eq(matches("flagged or answered"), "2 4");
	ck_assert_str_eq(matches("deleted answered"), "4");
	ck_assert_str_eq(matches("not ( seen or flagged )"), "3 4");
	/* nothing was taken by an IMAP session: all recent */
	ck_assert_str_eq(matches("recent"), "1 2 3 4");
	ck_assert_str_eq(matches("new"), "2 3 4");
	ck_assert_str_eq(matches("keyword $label1"), "1");
	ck_assert_str_eq(matches("keyword nosuch"), "");
	ck_assert_str_eq(matches("unkeyword $Label1"), "2 3 4");
	ck_assert_str_eq(matches("2:*"), "2 3 4");
	ck_assert_str_eq(matches("*"), "4");
	ck_assert_str_eq(matches("uid 1,3:4"), "1 3 4");
	ck_assert_str_eq(matches("uid 9:*"), "4");
	ck_assert_str_eq(matches("mailbox INBOX 1"), "1");
	ck_assert_str_eq(matches("mailbox inbox 1"), "1");
	ck_assert_str_eq(matches("mailbox Work all"), "");
	ck_assert_str_eq(matches("mailbox I* 1"), "1");
}
END_TEST

START_TEST(test_match_dates_sizes)
{
	/* received: 1700000000 (2023-11-14 22:13:20 UTC) and +1d, +2d, +3d */
	ck_assert_str_eq(matches("before 15-Nov-2023"), "1");
	ck_assert_str_eq(matches("since 17-Nov-2023"), "3 4");
	ck_assert_str_eq(matches("since 1-Jan-2100"), "");
	ck_assert_str_eq(matches("savedsince 1h"), "1 2 3 4");
	/* Date: header, in its own timezone; none = 1970 */
	ck_assert_str_eq(matches("senton 21-Nov-2023"), "1");
	ck_assert_str_eq(matches("sentbefore 21-Nov-2023"), "2 3 4");
	ck_assert_str_eq(matches("larger 1k"), "4");
	ck_assert_str_eq(matches("smaller 20"), "3");
}
END_TEST

START_TEST(test_match_text)
{
	ck_assert_str_eq(matches("subject hello"), "1");
	/* runs of blanks in Subject: count as one */
	ck_assert_str_eq(matches("subject hello~world"), "1");
	ck_assert_str_eq(matches("subject hello~~world"), "");
	ck_assert_str_eq(matches("from BOB@EXAMPLE"), "1");
	/* RFC 2047 words and quoted-printable latin-1 bodies decoded */
	ck_assert_str_eq(matches("from jörg"), "2");
	ck_assert_str_eq(matches("subject GRÜSSE"), "");
	ck_assert_str_eq(matches("subject grüße"), "2");
	ck_assert_str_eq(matches("body käse"), "2");
	ck_assert_str_eq(matches("body KÄSE"), "2");
	ck_assert_str_eq(matches("body apple"), "1");
	ck_assert_str_eq(matches("body x-spam"), "");
	ck_assert_str_eq(matches("text x-spam"), "1");
	ck_assert_str_eq(matches("header x-spam no"), "1");
	ck_assert_str_eq(matches("header x-spam yes"), "");
	/* attachments (non-text parts) are not searched */
	ck_assert_str_eq(matches("body inline"), "4");
	ck_assert_str_eq(matches("body secret"), "");
}
END_TEST

START_TEST(test_mailbox_helpers)
{
	const char *argv1[] = { "mailbox", "Work*", "or", "mailbox", "INBOX",
				NULL };
	const char *argv2[] = { "mailbox", "Archive", "seen", NULL };
	const char *argv3[] = { "not", "mailbox", "Archive", "seen", NULL };
	const char *argv4[] = { "mailbox", "X", NULL };
	struct mail_search_args *args;
	ARRAY_STR patterns = ARRAY_INIT;
	bool have_guid, have_wildcards;
	const char *error;

	ck_assert_int_eq(mail_search_parse_cmdline(argv1, &args, &error), 0);
	ck_assert(mail_search_args_match_mailbox(args, "Work.Sub", '.'));
	ck_assert(mail_search_args_match_mailbox(args, "INBOX", '.'));
	ck_assert(!mail_search_args_match_mailbox(args, "Archive", '.'));
	(void)mail_search_args_get_mailbox_patterns(args, &patterns,
						    &have_guid,
						    &have_wildcards);
	ck_assert_uint_eq(patterns.count, 0);	/* inside an OR */
	ck_assert(!mail_search_args_have_nonmailbox(args));
	mail_search_args_free(&args);

	ck_assert_int_eq(mail_search_parse_cmdline(argv2, &args, &error), 0);
	(void)mail_search_args_get_mailbox_patterns(args, &patterns,
						    &have_guid,
						    &have_wildcards);
	ck_assert_uint_eq(patterns.count, 1);
	ck_assert_str_eq(patterns.v[0], "Archive");
	ck_assert(!have_wildcards);	/* no '*' or '%': an exact name */
	ck_assert(mail_search_args_have_nonmailbox(args));
	array_free(&patterns);
	mail_search_args_free(&args);

	ck_assert_int_eq(mail_search_parse_cmdline(argv3, &args, &error), 0);
	ck_assert(!mail_search_args_match_mailbox(args, "Archive", '.'));
	ck_assert(mail_search_args_match_mailbox(args, "Other", '.'));
	mail_search_args_free(&args);

	ck_assert_int_eq(mail_search_parse_cmdline(argv4, &args, &error), 0);
	ck_assert(!mail_search_args_have_nonmailbox(args));
	mail_search_args_free(&args);

	const char *masks[] = { "INBOX", NULL };
	args = mail_search_args_from_mailboxes(masks);
	(void)mail_search_args_get_mailbox_patterns(args, &patterns,
						    &have_guid,
						    &have_wildcards);
	ck_assert(!have_wildcards);	/* an exact name */
	array_free(&patterns);
	mail_search_args_free(&args);
}
END_TEST

Suite *make_mail_search_suite(void)
{
	Suite *s = suite_create("mail_search");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_parse_trees);
	tcase_add_test(tc, test_small_parsers);
	tcase_add_test(tc, test_casefold);
	tcase_add_test(tc, test_mailbox_helpers);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_parse_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_parse_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("Match");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_match_flags_sets);
	tcase_add_test(tc, test_match_dates_sizes);
	tcase_add_test(tc, test_match_text);
	suite_add_tcase(s, tc);
	return s;
}

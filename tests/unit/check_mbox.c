/* check_mbox.c - the mbox driver: From_ lines, the Dovecot header fields
 * (parsed, rebuilt in place and written at save byte for byte as Dovecot
 * 2.3 does), the scanner on good and malformed files, and the driver
 * through the storage API: saves, flag changes that reproduce Dovecot's
 * file exactly, expunges, mail appended by an MTA, files changed by
 * others, UIDs surviving a lost index, and rewrites interrupted by a
 * crash at every step. */
#include "suites.h"
#include "config-bind.h"
#include "mail-storage-private.h"
#include "mbox-private.h"
#include "file-dotlock.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* 2026-11-26 07:26:11 UTC */
#define T0 ((time_t)1795677971)

static const char *tpath(const char *d, const char *rel)
{
	static char bufs[4][4096];
	static unsigned int n;

	n = (n + 1) % 4;
	snprintf(bufs[n], sizeof(bufs[n]), "%s/%s", d, rel);
	return bufs[n];
}

static void utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

/* ---- From_ lines ---- */

static bool from_ok(const char *line, time_t *t_r, size_t *sender_len_r)
{
	return mbox_from_parse((const unsigned char *)line, strlen(line), t_r,
			       sender_len_r);
}

START_TEST(test_from_parse)
{
	time_t t;
	size_t slen;

	utc();
	ck_assert(from_ok("From sender@example.org  Thu Nov 26 07:26:11 2026",
			  &t, &slen));
	ck_assert_int_eq(t, T0);
	ck_assert_uint_eq(slen, strlen("sender@example.org"));
	/* single space, line end, CRLF */
	ck_assert(from_ok("From a@b Thu Nov 26 07:26:11 2026\n", &t, &slen));
	ck_assert_int_eq(t, T0);
	ck_assert(from_ok("From a@b  Thu Nov 26 07:26:11 2026\r\n", &t, &slen));
	ck_assert_int_eq(t, T0);
	/* asctime's space-padded day */
	ck_assert(from_ok("From MAILER-DAEMON  Fri Nov  6 07:26:11 2026", &t,
			  &slen));
	ck_assert_int_eq(t, T0 - 20 * 86400);
	ck_assert_uint_eq(slen, 13);
	/* no weekday, no seconds */
	ck_assert(from_ok("From a  Nov 26 07:26 2026", &t, &slen));
	ck_assert_int_eq(t, T0 - 11);
	/* zone after and before the year */
	ck_assert(from_ok("From a  Thu Nov 26 09:26:11 2026 +0200", &t, &slen));
	ck_assert_int_eq(t, T0);
	ck_assert(from_ok("From a  Thu Nov 26 02:26:11 -0500 2026", &t, &slen));
	ck_assert_int_eq(t, T0);
	ck_assert(from_ok("From a  Thu Nov 26 07:26:11 EST 2026", &t, &slen));
	/* two-digit year, UUCP trailer */
	ck_assert(from_ok("From a  Thu Nov 26 07:26:11 26", &t, &slen));
	ck_assert_int_eq(t, T0);
	ck_assert(from_ok("From a  Thu Nov 26 07:26:11 2026 remote from x",
			  &t, &slen));
	/* senders with blanks, empty sender */
	ck_assert(from_ok("From John Doe  Thu Nov 26 07:26:11 2026", &t, &slen));
	ck_assert_uint_eq(slen, 8);
	ck_assert(from_ok("From \"a b\"@c  Thu Nov 26 07:26:11 2026", &t, &slen));
	ck_assert_uint_eq(slen, 7);
	ck_assert(from_ok("From   Thu Nov 26 07:26:11 2026", &t, &slen));
	ck_assert_uint_eq(slen, 0);
	/* local time with DST, and the hour that doesn't exist */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	ck_assert(from_ok("From a  Thu Jul  2 12:00:00 2026", &t, &slen));
	ck_assert_int_eq(t, 1782986400);	/* 10:00 UTC */
	ck_assert(from_ok("From a  Thu Nov 26 08:26:11 2026", &t, &slen));
	ck_assert_int_eq(t, T0);
	ck_assert(from_ok("From a  Sun Mar 29 02:30:00 2026", &t, &slen));
	utc();
}
END_TEST

START_TEST(test_from_parse_invalid)
{
	static const char *const bad[] = {
		"From me to you",
		"From x",
		"From ",
		"from a  Thu Nov 26 07:26:11 2026",
		"From a  Thu Nox 26 07:26:11 2026",
		"From a  Thu Nov 32 07:26:11 2026",
		"From a  Thu Nov 26 25:26:11 2026",
		"From a  Thu Nov 26 07:61:11 2026",
		"From a  Thu Nov 26 07:26:11",
		"From a  Thu Nov 26 07:26:11 999",
		"From a  Thu Nov 26 07:26:11 1969",
		"From a  Thu Nov 26 07:26:11 2026x",
		"From a  Thu Nov 26 7",
		">From a  Thu Nov 26 07:26:11 2026",
		"From \"unterminated  Thu Nov 26 07:26:11 2026",
	};
	time_t t;
	size_t slen;

	utc();
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++)
		ck_assert_msg(!from_ok(bad[i], &t, &slen), "%s", bad[i]);
	/* NUL inside */
	{
		static const char nul[] = "From a\0 Thu Nov 26 07:26:11 2026";

		ck_assert(!mbox_from_parse((const unsigned char *)nul,
					   sizeof(nul) - 1, &t, &slen) ||
			  slen == 2);
	}
}
END_TEST

START_TEST(test_from_create)
{
	string_t *str = str_new(64);

	utc();
	mbox_from_create(str, "sender@example.org", T0);
	ck_assert_str_eq(str_c(str),
			 "From sender@example.org  Thu Nov 26 07:26:11 2026\n");
	str_clear(str);
	mbox_from_create(str, "MAILER-DAEMON", T0 - 20 * 86400);
	ck_assert_str_eq(str_c(str),
			 "From MAILER-DAEMON  Fri Nov  6 07:26:11 2026\n");
	/* what we write we read back */
	{
		time_t t;
		size_t slen;

		ck_assert(mbox_from_parse((const unsigned char *)str_c(str),
					  str_len(str), &t, &slen));
		ck_assert_int_eq(t, T0 - 20 * 86400);
	}
	str_free(&str);
}
END_TEST

START_TEST(test_from_envelope)
{
	char buf[256];

	ck_assert_str_eq(mbox_from_envelope("sender@example.org", "u", buf,
					    sizeof(buf)), "sender@example.org");
	ck_assert_str_eq(mbox_from_envelope("<a@b>", "u", buf, sizeof(buf)),
			 "a@b");
	ck_assert_str_eq(mbox_from_envelope("<>", "u", buf, sizeof(buf)),
			 "MAILER-DAEMON");
	ck_assert_str_eq(mbox_from_envelope("", "u", buf, sizeof(buf)),
			 "MAILER-DAEMON");
	ck_assert_str_eq(mbox_from_envelope("bad addr@x", "u", buf, sizeof(buf)),
			 "MAILER-DAEMON");
	ck_assert_str_eq(mbox_from_envelope("a\tb", "u", buf, sizeof(buf)),
			 "MAILER-DAEMON");
	/* IMAP APPEND: user@host, or the user if it has a domain */
	ck_assert_str_eq(mbox_from_envelope(NULL, "bob@example.com", buf,
					    sizeof(buf)), "bob@example.com");
	setenv("DOVECOT_HOSTDOMAIN", "vm", 1);
	ck_assert(str_ends(mbox_from_envelope(NULL, "carol", buf, sizeof(buf)),
			   "@vm") ||
		  strncmp(buf, "carol@", 6) == 0);
	ck_assert_str_eq(mbox_from_envelope(NULL, "", buf, sizeof(buf)),
			 "MAILER-DAEMON");
}
END_TEST

/* ---- header fields ---- */

static enum mbox_header_type htype(const char *line)
{
	return mbox_header_type((const unsigned char *)line, strlen(line));
}

START_TEST(test_header_types)
{
	ck_assert_int_eq(htype("X-IMAPbase: 1 2\n"), MBOX_HDR_IMAPBASE);
	ck_assert_int_eq(htype("x-imapBASE:1 2"), MBOX_HDR_IMAPBASE);
	ck_assert_int_eq(htype("X-IMAP: 1 2"), MBOX_HDR_IMAP);
	ck_assert_int_eq(htype("X-UID: 5"), MBOX_HDR_UID);
	ck_assert_int_eq(htype("Status : RO"), MBOX_HDR_STATUS);
	ck_assert_int_eq(htype("X-Status: A"), MBOX_HDR_XSTATUS);
	ck_assert_int_eq(htype("X-Keywords: a"), MBOX_HDR_KEYWORDS);
	ck_assert_int_eq(htype("Content-Length: 5"), MBOX_HDR_CONTENT_LENGTH);
	ck_assert_int_eq(htype("Subject: X-UID: 5"), MBOX_HDR_NONE);
	ck_assert_int_eq(htype("X-UIDx: 5"), MBOX_HDR_NONE);
	ck_assert_int_eq(htype("Status"), MBOX_HDR_NONE);
	ck_assert_int_eq(htype(""), MBOX_HDR_NONE);
	ck_assert_int_eq(htype(":"), MBOX_HDR_NONE);
}
END_TEST

START_TEST(test_header_values)
{
	string_t *str = str_new(32);
	ARRAY_STR kws = ARRAY_INIT;
	uint32_t uv, last;
	uint64_t num;
	bool nonrecent;

	ck_assert_int_eq(mbox_status_parse((const unsigned char *)"RO", 2,
					   &nonrecent), MAIL_SEEN);
	ck_assert(nonrecent);
	ck_assert_int_eq(mbox_status_parse((const unsigned char *)"", 0,
					   &nonrecent), 0);
	ck_assert(!nonrecent);
	ck_assert_int_eq(mbox_xstatus_parse((const unsigned char *)"ATDF", 4),
			 MAIL_ANSWERED | MAIL_DRAFT | MAIL_DELETED |
			 MAIL_FLAGGED);
	mbox_xstatus_append(str, MAIL_ANSWERED | MAIL_DRAFT | MAIL_DELETED);
	ck_assert_str_eq(str_c(str), "ATD");	/* Dovecot's letter order */
	str_clear(str);
	mbox_status_append(str, MAIL_SEEN, true);
	ck_assert_str_eq(str_c(str), "RO");

	ck_assert(mbox_parse_uint((const unsigned char *)"42   ", 5, 100, &num));
	ck_assert_uint_eq(num, 42);
	ck_assert(!mbox_parse_uint((const unsigned char *)"101", 3, 100, &num));
	ck_assert(!mbox_parse_uint((const unsigned char *)"", 0, 100, &num));
	ck_assert(!mbox_parse_uint((const unsigned char *)"1x", 2, 100, &num));
	ck_assert(!mbox_parse_uint((const unsigned char *)
		"99999999999999999999999", 23, UINT64_MAX, &num));

	ck_assert(mbox_base_parse((const unsigned char *)
		"1795677971 0000000003 $Work Junk", 32, &uv, &last, &kws));
	ck_assert_uint_eq(uv, 1795677971);
	ck_assert_uint_eq(last, 3);
	ck_assert_uint_eq(kws.count, 2);
	ck_assert_str_eq(kws.v[0], "$Work");
	ck_assert_str_eq(kws.v[1], "Junk");
	for (size_t i = 0; i < kws.count; i++)
		free((char *)kws.v[i]);
	array_free(&kws);
	ck_assert(!mbox_base_parse((const unsigned char *)"0 5", 3, &uv, &last,
				   &kws));
	ck_assert(!mbox_base_parse((const unsigned char *)"x 5", 3, &uv, &last,
				   &kws));
	ck_assert(!mbox_base_parse((const unsigned char *)"5", 1, &uv, &last,
				   &kws));
	ck_assert(!mbox_base_parse((const unsigned char *)"5 6x", 4, &uv, &last,
				   &kws));
	str_free(&str);
}
END_TEST

static char *spaces(unsigned int n)
{
	char *s = i_malloc(n + 1);

	memset(s, ' ', n);
	s[n] = '\0';
	return s;
}

START_TEST(test_save_headers_dovecot)
{
	/* byte for byte what Dovecot 2.3.19 wrote (on-disk.md and lab) */
	static const char *const kws[] = { "$Label1", "custom" };
	struct mbox_hdr_state st;
	string_t *str = str_new(256);
	char *pad, *expect;

	memset(&st, 0, sizeof(st));
	st.base = true;
	st.uidvalidity = 1795677965;
	st.last_uid = 1;
	st.uid = 1;
	st.body_size = 13;
	mbox_save_append_headers(str, &st);
	pad = spaces(72);
	expect = i_strdup_printf("X-IMAPbase: 1795677965 0000000001\n"
				 "X-UID: 1\nStatus: \nX-Keywords:%s\n"
				 "Content-Length: 13\n\n", pad);
	ck_assert_str_eq(str_c(str), expect);
	i_free(pad);
	i_free(expect);

	/* APPEND (\Seen \Flagged $Label1 custom) */
	str_clear(str);
	st.base_keywords = kws;
	st.base_keywords_count = 2;
	st.last_uid = 2;
	st.flags = MAIL_SEEN | MAIL_FLAGGED;
	st.keywords = kws;
	st.keywords_count = 2;
	st.body_size = 6;
	mbox_save_append_headers(str, &st);
	pad = spaces(58);
	expect = i_strdup_printf("X-IMAPbase: 1795677965 0000000002 $Label1 "
				 "custom\nX-UID: 1\nStatus: R\nX-Status: F\n"
				 "X-Keywords: $Label1 custom%s\n"
				 "Content-Length: 6\n\n", pad);
	ck_assert_str_eq(str_c(str), expect);
	i_free(pad);
	i_free(expect);

	/* not first; X-Status letters in Dovecot's order */
	str_clear(str);
	memset(&st, 0, sizeof(st));
	st.uid = 2;
	st.flags = MAIL_ANSWERED | MAIL_DRAFT | MAIL_DELETED;
	st.body_size = 6;
	mbox_save_append_headers(str, &st);
	pad = spaces(73);
	expect = i_strdup_printf("X-UID: 2\nStatus: \nX-Status: ATD\n"
				 "X-Keywords:%s\nContent-Length: 6\n\n", pad);
	ck_assert_str_eq(str_c(str), expect);
	i_free(pad);
	i_free(expect);
	str_free(&str);
}
END_TEST

START_TEST(test_header_rebuild_in_place)
{
	/* Dovecot's in-place update after SELECT and STORE: the padding on
	   X-Keywords absorbs every change, X-Status is added at the end */
	static const char *const kws[] = { "$Work", "Junk" };
	struct mbox_hdr_state st;
	string_t *str = str_new(256);
	char *pad72 = spaces(72), *pad47 = spaces(47), *pad48 = spaces(48);
	char *old1, *new1, *old2, *new2;

	old1 = i_strdup_printf("From: bob@example.com\nSubject: m1\n"
		"X-IMAPbase: 1795677971 0000000001\nX-UID: 1\nStatus: \n"
		"X-Keywords:%s\nContent-Length: 30\n\n", pad72);
	new1 = i_strdup_printf("From: bob@example.com\nSubject: m1\n"
		"X-IMAPbase: 1795677971 0000000003 $Work Junk\nX-UID: 1\n"
		"Status: RO\nX-Keywords:%s\nContent-Length: 30\n"
		"X-Status: A\n\n", pad47);
	memset(&st, 0, sizeof(st));
	st.uid = 1;
	st.flags = MAIL_SEEN | MAIL_ANSWERED;
	st.nonrecent = true;
	st.base = true;
	st.uidvalidity = 1795677971;
	st.last_uid = 3;
	st.base_keywords = kws;
	st.base_keywords_count = 2;
	st.body_size = 30;
	st.eol = "\n";
	ck_assert(mbox_header_rebuild(str, (const unsigned char *)old1,
				      strlen(old1), true, &st, strlen(old1)));
	ck_assert_str_eq(str_c(str), new1);

	old2 = i_strdup_printf("From: bob@example.com\nSubject: m2\n"
		"X-UID: 2\nStatus: \nX-Keywords:%s\nContent-Length: 30\n\n",
		pad72);
	new2 = i_strdup_printf("From: bob@example.com\nSubject: m2\n"
		"X-UID: 2\nStatus: O\nX-Keywords: $Work Junk%s\n"
		"Content-Length: 30\nX-Status: F\n\n", pad48);
	memset(&st, 0, sizeof(st));
	st.uid = 2;
	st.flags = MAIL_FLAGGED;
	st.nonrecent = true;
	st.keywords = kws;
	st.keywords_count = 2;
	st.body_size = 30;
	st.eol = "\n";
	str_clear(str);
	ck_assert(mbox_header_rebuild(str, (const unsigned char *)old2,
				      strlen(old2), true, &st, strlen(old2)));
	ck_assert_str_eq(str_c(str), new2);

	/* flags removed: X-Status stays, empty, as Dovecot leaves it */
	st.flags = 0;
	st.keywords_count = 0;
	str_clear(str);
	ck_assert(mbox_header_rebuild(str, (const unsigned char *)new2,
				      strlen(new2), true, &st, strlen(new2)));
	ck_assert(strstr(str_c(str), "\nX-Status: \n") != NULL);
	ck_assert_uint_eq(str_len(str), strlen(new2));

	/* too big for the padding: refused (caller rewrites) */
	{
		static const char *const many[] = {
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		};
		st.keywords = many;
		st.keywords_count = 2;
		str_clear(str);
		str_append(str, "prefix");
		ck_assert(!mbox_header_rebuild(str, (const unsigned char *)old2,
					       strlen(old2), true, &st,
					       strlen(old2)));
		ck_assert_str_eq(str_c(str), "prefix");
	}
	i_free(old1);
	i_free(new1);
	i_free(old2);
	i_free(new2);
	i_free(pad72);
	i_free(pad47);
	i_free(pad48);
	str_free(&str);
}
END_TEST

START_TEST(test_header_rebuild_mta)
{
	/* an MTA's message gets X-IMAPbase and X-UID with 50 spaces (as
	   Dovecot's EXAMINE wrote); SELECT's 'O' then fits in place */
	struct mbox_hdr_state st;
	string_t *str = str_new(256), *str2 = str_new(256);
	const char *old = "From: a@b\nSubject: mta1\n\n";
	char *pad50 = spaces(50), *pad40 = spaces(40), *expect;

	memset(&st, 0, sizeof(st));
	st.uid = 1;
	st.base = true;
	st.uidvalidity = 1795678027;
	st.last_uid = 2;
	st.eol = "\n";
	ck_assert(mbox_header_rebuild(str, (const unsigned char *)old,
				      strlen(old), true, &st, 0));
	expect = i_strdup_printf("From: a@b\nSubject: mta1\nX-IMAPbase: "
		"1795678027 0000000002\nX-UID: 1%s\n\n", pad50);
	ck_assert_str_eq(str_c(str), expect);
	i_free(expect);

	st.nonrecent = true;
	ck_assert(mbox_header_rebuild(str2, (const unsigned char *)str_c(str),
				      str_len(str), true, &st, str_len(str)));
	expect = i_strdup_printf("From: a@b\nSubject: mta1\nX-IMAPbase: "
		"1795678027 0000000002\nX-UID: 1%s\nStatus: O\n\n", pad40);
	ck_assert_str_eq(str_c(str2), expect);
	i_free(expect);

	/* duplicates are dropped; X-IMAPbase leaves non-first messages;
	   CRLF lines keep their CRLF */
	str_clear(str);
	memset(&st, 0, sizeof(st));
	st.uid = 7;
	st.eol = "\r\n";
	old = "X-UID: 3\r\nX-IMAPbase: 1 2\r\nX-UID: 4\r\nSubject: x\r\n\r\n";
	ck_assert(mbox_header_rebuild(str, (const unsigned char *)old,
				      strlen(old), true, &st, 0));
	expect = i_strdup_printf("X-UID: 7%s\r\nSubject: x\r\n\r\n", pad50);
	ck_assert_str_eq(str_c(str), expect);
	i_free(expect);

	/* a cut-short header without an empty line */
	str_clear(str);
	old = "Subject: x";
	ck_assert(mbox_header_rebuild(str, (const unsigned char *)old,
				      strlen(old), false, &st, 0));
	ck_assert(strncmp(str_c(str), "Subject: x\r\nX-UID: 7", 20) == 0);
	i_free(pad50);
	i_free(pad40);
	str_free(&str);
	str_free(&str2);
}
END_TEST

START_TEST(test_save_filter_header)
{
	string_t *str = str_new(256);
	const char *msg = "From evil  Thu Nov 26 07:26:11 2026\nSubject: x\n"
		"X-UID: 77\nStatus: RO\nX-Keywords: fake\n  folded\n"
		"Content-Length: 999\nTo: y\n\nbody\nX-UID: 1\n";
	bool eoh;
	size_t n;

	n = mbox_save_filter_header(str, (const unsigned char *)msg,
				    strlen(msg), &eoh);
	ck_assert(eoh);
	ck_assert_str_eq(str_c(str), "Subject: x\nTo: y\n");
	ck_assert_str_eq(msg + n, "body\nX-UID: 1\n");
	/* no empty line, no final LF */
	str_clear(str);
	n = mbox_save_filter_header(str, (const unsigned char *)"Subject: x",
				    10, &eoh);
	ck_assert(!eoh);
	ck_assert_uint_eq(n, 10);
	ck_assert_str_eq(str_c(str), "Subject: x\n");
	/* no header at all */
	str_clear(str);
	n = mbox_save_filter_header(str, (const unsigned char *)"\nbody", 5,
				    &eoh);
	ck_assert(eoh);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(str_c(str), "");
	str_free(&str);
}
END_TEST

/* ---- the scanner ---- */

static struct mbox_scan scan;

static int scan_text(const char *text, size_t len)
{
	const char *error;

	mbox_scan_free(&scan);
	mbox_scan_init(&scan);
	return mbox_scan_buffer((const unsigned char *)text, len, &scan,
				&error);
}

static char *export_msg(const char *text, unsigned int idx)
{
	string_t *str = str_new(128);

	mbox_msg_export((const unsigned char *)text, &scan.msgs.v[idx], str);
	return str_free_without_data(&str);
}

static void scan_teardown(void)
{
	mbox_scan_free(&scan);
}

static const char dovecot_file[] =
	"From sender@example.org  Thu Nov 26 03:24:41 2026\n"
	"From: bob@example.com\n"
	"Message-ID: <s1@example.com>\n"
	"X-IMAPbase: 1795663481 0000000004 $Work Junk\n"
	"X-UID: 1\n"
	"Status: RO\n"
	"X-Keywords:                                               \n"
	"Content-Length: 13\n"
	"X-Status: A\n"
	"\n"
	"Just a line.\n"
	"\n"
	"From sender@example.org  Thu Nov 26 03:24:41 2026\n"
	"Subject: two\n"
	"X-UID: 2\n"
	"Status: O\n"
	"X-Keywords: $Work Junk                                               \n"
	"Content-Length: 49\n"
	"X-Status: F\n"
	"\n"
	"From me to you\n"
	"\n"
	"From x  Thu Nov 26 03:24:41 2026\n"
	"\n"
	"From carol@vm  Thu Nov 26 03:24:47 2026\n"
	"Subject: three\n"
	"X-UID: 4\n"
	"Status: \n"
	"X-Keywords:   \n"
	"Content-Length: 2\n"
	"\n"
	"x\n"
	"\n";

START_TEST(test_scan_dovecot_file)
{
	const struct mbox_msg *m;
	char *text;

	utc();
	ck_assert_int_eq(scan_text(dovecot_file, strlen(dovecot_file)), 0);
	ck_assert_uint_eq(scan.msgs.count, 3);
	ck_assert(scan.have_base);
	ck_assert_uint_eq(scan.base_uidvalidity, 1795663481);
	ck_assert_uint_eq(scan.base_last_uid, 4);
	ck_assert_uint_eq(scan.base_keywords.count, 2);

	m = &scan.msgs.v[0];
	ck_assert_uint_eq(m->uid, 1);
	ck_assert_int_eq(m->flags, MAIL_SEEN | MAIL_ANSWERED);
	ck_assert(m->nonrecent);
	ck_assert(m->cl_valid);
	ck_assert_uint_eq(m->kw_count, 0);
	ck_assert_int_eq(m->received, 1795663481);
	text = export_msg(dovecot_file, 0);
	ck_assert_str_eq(text, "From: bob@example.com\n"
			 "Message-ID: <s1@example.com>\n\nJust a line.\n");
	ck_assert_uint_eq(m->size, strlen(text));
	ck_assert_uint_eq(mbox_msg_vsize((const unsigned char *)dovecot_file,
					 m), strlen(text) + 4);
	i_free(text);

	/* body "From " lines are data: Content-Length delimits */
	m = &scan.msgs.v[1];
	ck_assert_uint_eq(m->uid, 2);
	ck_assert_int_eq(m->flags, MAIL_FLAGGED);
	ck_assert_uint_eq(m->kw_count, 2);
	ck_assert_str_eq(scan.kw_names.v[m->kw_first], "$Work");
	ck_assert(m->cl_valid);
	text = export_msg(dovecot_file, 1);
	ck_assert_str_eq(text, "Subject: two\n\nFrom me to you\n\n"
			 "From x  Thu Nov 26 03:24:41 2026\n");
	i_free(text);

	m = &scan.msgs.v[2];
	ck_assert_uint_eq(m->uid, 4);
	ck_assert_int_eq(m->flags, 0);
	ck_assert(!m->nonrecent);
	ck_assert_uint_eq(m->kw_count, 0);
	ck_assert_uint_eq(m->next_offset, strlen(dovecot_file));
	text = export_msg(dovecot_file, 2);
	ck_assert_str_eq(text, "Subject: three\n\nx\n");
	i_free(text);
}
END_TEST

START_TEST(test_scan_no_content_length)
{
	/* what Dovecot made of these (RFC822.SIZE 18, 23, 12 with CRLF) */
	const char *f = "From a  Thu Nov 26 01:02:03 2026\nSubject: x\n\nline\n"
		"From b  Thu Nov 26 01:02:03 2026\nSubject: y\n\nline2\n\n\n"
		"From c  Thu Nov 26 01:02:03 2026\nSubject: z\n\n";
	char *text;

	ck_assert_int_eq(scan_text(f, strlen(f)), 0);
	ck_assert_uint_eq(scan.msgs.count, 3);
	text = export_msg(f, 0);
	ck_assert_str_eq(text, "Subject: x\n\nline");
	i_free(text);
	text = export_msg(f, 1);
	ck_assert_str_eq(text, "Subject: y\n\nline2\n\n");
	i_free(text);
	text = export_msg(f, 2);
	ck_assert_str_eq(text, "Subject: z\n");
	i_free(text);
	ck_assert_uint_eq(scan.msgs.v[0].size, 16);
	ck_assert_uint_eq(scan.msgs.v[1].size, 19);
	ck_assert_uint_eq(scan.msgs.v[2].size, 11);
	ck_assert(!scan.have_base);
	ck_assert_uint_eq(scan.msgs.v[0].file_uid, 0);

	/* "From " lines without a valid date don't split */
	f = "From a  Thu Nov 26 01:02:03 2026\n\nFrom me to you\nFrom x\n\n";
	ck_assert_int_eq(scan_text(f, strlen(f)), 0);
	ck_assert_uint_eq(scan.msgs.count, 1);
}
END_TEST

START_TEST(test_scan_wrong_content_length)
{
	const char *f =
		"From a  Thu Nov 26 01:02:03 2026\nContent-Length: 3\n\nabcdef\n\n"
		"From b  Thu Nov 26 01:02:03 2026\nContent-Length: 9999\n\nxy\n\n"
		"From c  Thu Nov 26 01:02:03 2026\nContent-Length: 2\n\nzz\n";
	char *text;

	ck_assert_int_eq(scan_text(f, strlen(f)), 0);
	ck_assert_uint_eq(scan.msgs.count, 3);
	ck_assert(!scan.msgs.v[0].cl_valid);
	ck_assert(!scan.msgs.v[1].cl_valid);
	ck_assert(scan.msgs.v[2].cl_valid);
	text = export_msg(f, 0);
	ck_assert_str_eq(text, "\nabcdef\n");
	i_free(text);
	text = export_msg(f, 1);
	ck_assert_str_eq(text, "\nxy\n");
	i_free(text);
	/* valid, ending at the end of the file without a separator */
	text = export_msg(f, 2);
	ck_assert_str_eq(text, "\nzz");
	i_free(text);
}
END_TEST

START_TEST(test_scan_huge_content_length)
{
	/* 1 GB Content-Length in a small file: ignored */
	const char *f = "From a  Thu Nov 26 01:02:03 2026\n"
		"Content-Length: 1073741824\n\nbody\n\n"
		"From b  Thu Nov 26 01:02:03 2026\n"
		"Content-Length: 18446744073709551615\n\nbody2\n\n"
		"From c  Thu Nov 26 01:02:03 2026\n"
		"Content-Length: 99999999999999999999999999\n\nbody3\n";
	char *text;

	ck_assert_int_eq(scan_text(f, strlen(f)), 0);
	ck_assert_uint_eq(scan.msgs.count, 3);
	for (unsigned int i = 0; i < 3; i++)
		ck_assert(!scan.msgs.v[i].cl_valid);
	text = export_msg(f, 2);
	ck_assert_str_eq(text, "\nbody3");
	i_free(text);
}
END_TEST

START_TEST(test_scan_not_mbox)
{
	const char *error;

	mbox_scan_free(&scan);
	mbox_scan_init(&scan);
	ck_assert_int_eq(mbox_scan_buffer((const unsigned char *)
		"Subject: nofrom\n\nbody\n", 22, &scan, &error), -1);
	ck_assert_str_eq(error, "Mailbox isn't a valid mbox file");
	ck_assert_int_eq(scan_text("\nFrom a  Thu Nov 26 01:02:03 2026\n", 34),
			 -1);
	ck_assert_int_eq(scan_text(">From a", 7), -1);
	ck_assert_int_eq(scan_text("\0From", 5), -1);
	/* empty and blank files are empty mailboxes */
	ck_assert_int_eq(scan_text("", 0), 0);
	ck_assert_uint_eq(scan.msgs.count, 0);
	ck_assert_int_eq(scan_text("\n\r\n \t\n", 6), 0);
	ck_assert_uint_eq(scan.msgs.count, 0);
}
END_TEST

START_TEST(test_scan_truncated)
{
	/* every prefix of a real file scans, with sane offsets */
	size_t len = strlen(dovecot_file);

	for (size_t n = 0; n <= len; n++) {
		int ret = scan_text(dovecot_file, n);

		ck_assert_int_eq(ret, n > 0 && n < 5 ? -1 : 0);
		for (size_t i = 0; i < scan.msgs.count; i++) {
			const struct mbox_msg *m = &scan.msgs.v[i];

			ck_assert(m->from_offset < m->hdr_offset ||
				  m->hdr_offset == n);
			ck_assert(m->hdr_offset <= m->hdr_end);
			ck_assert(m->msg_end <= m->next_offset);
			ck_assert(m->next_offset <= n);
			ck_assert(m->msg_end >= m->hdr_offset ||
				  m->hdr_offset == n);
			if (i + 1 < scan.msgs.count)
				ck_assert_uint_eq(m->next_offset,
					scan.msgs.v[i + 1].from_offset);
			else
				ck_assert_uint_eq(m->next_offset, n);
			free(export_msg(dovecot_file, (unsigned int)i));
		}
	}
}
END_TEST

START_TEST(test_scan_nul_crlf)
{
	static const char f[] =
		"From a  Thu Nov 26 01:02:03 2026\r\nSubject: x\r\n"
		"X-UID: 5\r\nStatus: R\r\n\r\nbo\0dy\r\n\r\n"
		"From b  Thu Nov 26 01:02:03 2026\r\nSubject: \0y\r\n\r\nz\0\r\n";
	char *text;
	string_t *str = str_new(64);

	ck_assert_int_eq(scan_text(f, sizeof(f) - 1), 0);
	ck_assert_uint_eq(scan.msgs.count, 2);
	ck_assert(scan.msgs.v[0].crlf);
	ck_assert_uint_eq(scan.msgs.v[0].file_uid, 5);
	ck_assert_int_eq(scan.msgs.v[0].flags, MAIL_SEEN);
	mbox_msg_export((const unsigned char *)f, &scan.msgs.v[0], str);
	/* header lines lose their CRs, as Dovecot shows them */
	ck_assert_uint_eq(str_len(str), 19);
	ck_assert_uint_eq(scan.msgs.v[0].size, 19);
	ck_assert(memcmp(str_c(str), "Subject: x\n\nbo\0dy\r\n", 19) == 0);
	ck_assert_uint_eq(mbox_msg_vsize((const unsigned char *)f,
					 &scan.msgs.v[0]), 21);
	str_clear(str);
	mbox_msg_export((const unsigned char *)f, &scan.msgs.v[1], str);
	ck_assert_uint_eq(str_len(str), 15);
	ck_assert(memcmp(str_c(str), "Subject: \0y\n\nz\0", 15) == 0);
	str_free(&str);
	/* a file that is one From_ line without line end */
	ck_assert_int_eq(scan_text("From a  Thu Nov 26 01:02:03 2026", 32), 0);
	ck_assert_uint_eq(scan.msgs.count, 1);
	text = export_msg("From a  Thu Nov 26 01:02:03 2026", 0);
	ck_assert_str_eq(text, "");
	i_free(text);
}
END_TEST

START_TEST(test_scan_header_cut_by_from)
{
	/* the next message starts inside the header: the first ends there */
	const char *f = "From a  Thu Nov 26 01:02:03 2026\nSubject: x\n"
		"X-UID: 3\n"
		"From b  Thu Nov 26 01:02:03 2026\nSubject: y\n\nbody\n";
	char *text;

	ck_assert_int_eq(scan_text(f, strlen(f)), 0);
	ck_assert_uint_eq(scan.msgs.count, 2);
	ck_assert(!scan.msgs.v[0].has_eoh);
	ck_assert_uint_eq(scan.msgs.v[0].file_uid, 3);
	text = export_msg(f, 0);
	ck_assert_str_eq(text, "Subject: x\n");
	i_free(text);
	text = export_msg(f, 1);
	ck_assert_str_eq(text, "Subject: y\n\nbody");
	i_free(text);
}
END_TEST

START_TEST(test_scan_pseudo)
{
	/* UW-IMAP's folder internal data message carries X-IMAP */
	const char *f = "From MAILER-DAEMON  Thu Nov 26 01:02:03 2026\n"
		"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
		"X-IMAP: 1000 0000000007 kw1\n\npseudo\n\n"
		"From a  Thu Nov 26 01:02:03 2026\nX-UID: 7\n\nreal\n";

	ck_assert_int_eq(scan_text(f, strlen(f)), 0);
	ck_assert_uint_eq(scan.msgs.count, 2);
	ck_assert(scan.msgs.v[0].pseudo);
	ck_assert(!scan.msgs.v[1].pseudo);
	ck_assert(scan.have_base);
	ck_assert_uint_eq(scan.base_uidvalidity, 1000);
	ck_assert_uint_eq(scan.base_last_uid, 7);
	ck_assert_int_eq(mbox_scan_find_uid(&scan, 7), 1);
	ck_assert_int_eq(mbox_scan_find_uid(&scan, 8), -1);
}
END_TEST

/* ---- the driver through the storage API ---- */

static pool_t pool;
static const char *dir;
static struct settings_root *set;
static struct mail_user *user;
static struct config *config;
static char *mbox_path;

static void user_setup(void)
{
	char *conf;
	const char *error;
	struct mail_user_info info;

	utc();
	dir = test_tmpdir_create();
	mbox_path = i_strdup_printf("%s/mbox", dir);
	conf = i_strdup_printf("mail_location = mbox:%s/mail:INBOX=%s\n"
			       "mbox_lock_timeout = 10s\n", dir, mbox_path);
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
	ck_assert_msg(mail_user_init(set, &info, &user, &error) == 0, "%s",
		      error);
	i_free(conf);
}

static void user_teardown(void)
{
	log_set_capture(NULL, NULL);
	mbox_rewrite_crash_at = 0;
	mail_user_deinit(&user);
	pool_destroy(&pool);
	config_free(&config);
	i_free(mbox_path);
	test_tmpdir_remove();
}

static struct mailbox *open_box(const char *vname, enum mailbox_flags flags)
{
	struct mailbox *box = mailbox_alloc(user, vname, flags);

	ck_assert_msg(mailbox_open(box) == 0, "%s",
		      mailbox_get_last_error(box, NULL));
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	return box;
}

static void save_full(struct mailbox *box, const char *text,
		      enum mail_flags flags, const char *const *keywords,
		      const char *envelope, time_t date)
{
	struct mailbox_transaction *t = mailbox_transaction_begin(box);
	struct mail_save_context *ctx = mailbox_save_alloc(t);

	mailbox_save_set_flags(ctx, flags, keywords);
	if (envelope != NULL)
		mailbox_save_set_from_envelope(ctx, envelope);
	mailbox_save_set_received_date(ctx, date, 0);
	ck_assert_int_eq(mailbox_save_begin(ctx), 0);
	ck_assert_int_eq(mailbox_save_continue(ctx, text, strlen(text)), 0);
	ck_assert_int_eq(mailbox_save_finish(&ctx), 0);
	ck_assert_msg(mailbox_transaction_commit(&t, NULL) == 0, "%s",
		      mailbox_get_last_error(box, NULL));
}

static void deliver3(void)
{
	struct mailbox *box = mailbox_alloc(user, "INBOX",
					    MAILBOX_FLAG_SAVEONLY);

	for (unsigned int i = 1; i <= 3; i++) {
		char *msg = i_strdup_printf("From: bob@example.com\n"
			"Subject: m%u\nMessage-ID: <s%u@example.com>\n\n"
			"Body %u\nFrom me to you\n>From x\n", i, i, i);
		save_full(box, msg, 0, NULL, "sender@example.org", T0);
		i_free(msg);
	}
	mailbox_free(&box);
}

static char *mbox_text(void)
{
	return test_read_file(mbox_path, NULL);
}

/* The file Dovecot 2.3.19 left after three LDA deliveries, SELECT,
 * STORE 1 +FLAGS (\Seen \Answered), STORE 2 +FLAGS ($Work Junk \Flagged)
 * (the lab run behind on-disk.md), with this UIDVALIDITY. */
static char *dovecot_after_store(uint32_t uidvalidity)
{
	char *p47 = spaces(47), *p48 = spaces(48), *p71 = spaces(71), *ret;

	ret = i_strdup_printf(
		"From sender@example.org  Thu Nov 26 07:26:11 2026\n"
		"From: bob@example.com\nSubject: m1\n"
		"Message-ID: <s1@example.com>\n"
		"X-IMAPbase: %u 0000000003 $Work Junk\nX-UID: 1\nStatus: RO\n"
		"X-Keywords:%s\nContent-Length: 30\nX-Status: A\n\n"
		"Body 1\nFrom me to you\n>From x\n\n"
		"From sender@example.org  Thu Nov 26 07:26:11 2026\n"
		"From: bob@example.com\nSubject: m2\n"
		"Message-ID: <s2@example.com>\n"
		"X-UID: 2\nStatus: O\nX-Keywords: $Work Junk%s\n"
		"Content-Length: 30\nX-Status: F\n\n"
		"Body 2\nFrom me to you\n>From x\n\n"
		"From sender@example.org  Thu Nov 26 07:26:11 2026\n"
		"From: bob@example.com\nSubject: m3\n"
		"Message-ID: <s3@example.com>\n"
		"X-UID: 3\nStatus: O\nX-Keywords:%s\nContent-Length: 30\n\n"
		"Body 3\nFrom me to you\n>From x\n\n",
		uidvalidity, p47, p48, p71);
	i_free(p47);
	i_free(p48);
	i_free(p71);
	return ret;
}

START_TEST(test_driver_save_format)
{
	struct mailbox *box;
	char *text, *pad, *expect;
	uint32_t uv;

	deliver3();
	box = open_box("INBOX", 0);
	uv = mailbox_get_uidvalidity(box);
	ck_assert_uint_ne(uv, 0);
	ck_assert_uint_eq(mailbox_count(box), 3);
	ck_assert_uint_eq(mailbox_get_uidnext(box), 4);
	mailbox_free(&box);
	text = mbox_text();
	pad = spaces(72);
	expect = i_strdup_printf(
		"From sender@example.org  Thu Nov 26 07:26:11 2026\n"
		"From: bob@example.com\nSubject: m1\n"
		"Message-ID: <s1@example.com>\n"
		"X-IMAPbase: %u 0000000003\nX-UID: 1\nStatus: \n"
		"X-Keywords:%s\nContent-Length: 30\n\n"
		"Body 1\nFrom me to you\n>From x\n\n", uv, pad);
	ck_assert_msg(strncmp(text, expect, strlen(expect)) == 0, "%s", text);
	ck_assert(strstr(text, "\nX-UID: 3\nStatus: \n") != NULL);
	i_free(expect);
	i_free(pad);
	i_free(text);

	/* UIDVALIDITY came from the list's dovecot-uidvalidity */
	{
		char *path = i_strdup_printf("%s/mail/.imap/dovecot-uidvalidity",
					     dir);
		char *hex = test_read_file(path, NULL);
		char want[16];

		snprintf(want, sizeof(want), "%08x", uv);
		ck_assert_str_eq(hex, want);
		free(hex);
		i_free(path);
		path = i_strdup_printf("%s/mail/.imap/dovecot-uidvalidity.%08x",
				       dir, uv);
		ck_assert_int_eq(access(path, F_OK), 0);
		i_free(path);
	}
}
END_TEST

START_TEST(test_driver_flags_like_dovecot)
{
	static const char *const kws[] = { "$Work", "Junk", NULL };
	struct mailbox *box;
	struct mailbox_transaction *t;
	struct mail *mail;
	char *text, *expect;

	deliver3();
	box = open_box("INBOX", MAILBOX_FLAG_DROP_RECENT);
	ck_assert_int_eq(mailbox_seq_flags(box, 1) & MAIL_RECENT, MAIL_RECENT);
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	mail_update_flags(t, mail, MODIFY_ADD, MAIL_SEEN | MAIL_ANSWERED);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	t = mailbox_transaction_begin(box);
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_update_keywords(t, mail, MODIFY_ADD, kws), 0);
	mail_update_flags(t, mail, MODIFY_ADD, MAIL_FLAGGED);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mail_free(&mail);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	expect = dovecot_after_store(mailbox_get_uidvalidity(box));
	mailbox_free(&box);
	text = mbox_text();
	ck_assert_msg(strcmp(text, expect) == 0, "got:\n%s\nwant:\n%s", text,
		      expect);
	i_free(text);
	i_free(expect);

	/* everything comes back from the file alone (index deleted) */
	{
		char *ix = i_strdup_printf("%s/mail/.imap/INBOX/roost.index",
					   dir);
		unsigned int count;
		const char *const *names;

		ck_assert_int_eq(unlink(ix), 0);
		i_free(ix);
		box = open_box("INBOX", 0);
		ck_assert_uint_eq(mailbox_count(box), 3);
		ck_assert_int_eq(mailbox_seq_flags(box, 1) & MAIL_FLAGS_MASK,
				 MAIL_SEEN | MAIL_ANSWERED);
		ck_assert_int_eq(mailbox_seq_flags(box, 2) & MAIL_FLAGS_MASK, MAIL_FLAGGED);
		ck_assert_int_eq(mailbox_seq_flags(box, 3) & MAIL_FLAGS_MASK, 0);
		names = mailbox_keywords(box, &count);
		ck_assert_uint_eq(count, 2);
		ck_assert_str_eq(names[0], "$Work");
		ck_assert_str_eq(names[1], "Junk");
		mail = mail_alloc(box);
		mail_set_seq(mail, 2);
		names = mail_get_keywords(mail);
		ck_assert_str_eq(names[0], "$Work");
		ck_assert_str_eq(names[1], "Junk");
		ck_assert_ptr_null(names[2]);
		mail_free(&mail);
		ck_assert_uint_eq(mailbox_get_uidnext(box), 4);
		mailbox_free(&box);
	}
}
END_TEST

START_TEST(test_driver_expunge_like_dovecot)
{
	static const char *const kws[] = { "$Work", "Junk", NULL };
	struct mailbox *box;
	struct mailbox_transaction *t;
	struct mail *mail;
	char *text, *expect, *cut_start, *cut_end;
	uint32_t uv;

	deliver3();
	box = open_box("INBOX", MAILBOX_FLAG_DROP_RECENT);
	uv = mailbox_get_uidvalidity(box);
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	mail_update_flags(t, mail, MODIFY_ADD, MAIL_SEEN | MAIL_ANSWERED);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	t = mailbox_transaction_begin(box);
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_update_keywords(t, mail, MODIFY_ADD, kws), 0);
	mail_update_flags(t, mail, MODIFY_ADD, MAIL_FLAGGED | MAIL_DELETED);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	t = mailbox_transaction_begin(box);
	mail_expunge(t, mail);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mail_free(&mail);
	ck_assert_int_eq(mailbox_sync(box, MAILBOX_SYNC_FLAG_EXPUNGE, NULL,
				      NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 2);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 2), 3);
	mailbox_free(&box);

	/* Dovecot's result: message 2 cut out, the rest unchanged */
	expect = dovecot_after_store(uv);
	cut_start = strstr(expect, "From sender@example.org  Thu Nov 26 07:26:11"
			   " 2026\nFrom: bob@example.com\nSubject: m2");
	cut_end = strstr(cut_start, "Body 2\nFrom me to you\n>From x\n\n");
	cut_end += strlen("Body 2\nFrom me to you\n>From x\n\n");
	memmove(cut_start, cut_end, strlen(cut_end) + 1);
	text = mbox_text();
	ck_assert_msg(strcmp(text, expect) == 0, "got:\n%s\nwant:\n%s", text,
		      expect);
	i_free(text);
	i_free(expect);
}
END_TEST

START_TEST(test_driver_expunge_first)
{
	/* X-IMAPbase moves to the new first message; UIDs stay */
	struct mailbox *box;
	struct mailbox_transaction *t;
	struct mail *mail;
	char *text, *ix;
	uint32_t uv;

	deliver3();
	box = open_box("INBOX", 0);
	uv = mailbox_get_uidvalidity(box);
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	mail_expunge(t, mail);
	mail_free(&mail);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mailbox_free(&box);
	text = mbox_text();
	ck_assert(strstr(text, "Subject: m1") == NULL);
	ck_assert_msg(strncmp(text, "From sender@example.org  Thu Nov 26 07:26:11"
			      " 2026\nFrom: bob@example.com\nSubject: m2\n", 71)
		      == 0, "%s", text);
	/* added after the other fields, within the padding */
	ck_assert_msg(strstr(text, "\nContent-Length: 30\nX-IMAPbase: ") !=
		      NULL && strstr(text, " 0000000003\n\nBody 2") != NULL,
		      "%s", text);
	i_free(text);
	ix = i_strdup_printf("%s/mail/.imap/INBOX/roost.index", dir);
	ck_assert_int_eq(unlink(ix), 0);
	i_free(ix);
	box = open_box("INBOX", 0);
	ck_assert_uint_eq(mailbox_get_uidvalidity(box), uv);
	ck_assert_uint_eq(mailbox_count(box), 2);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 1), 2);
	ck_assert_uint_eq(mailbox_get_uidnext(box), 4);
	/* expunge everything: the index keeps UIDVALIDITY and UIDNEXT */
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	mail_expunge(t, mail);
	mail_set_seq(mail, 2);
	mail_expunge(t, mail);
	mail_free(&mail);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mailbox_free(&box);
	text = mbox_text();
	ck_assert_str_eq(text, "");
	i_free(text);
	box = open_box("INBOX", 0);
	ck_assert_uint_eq(mailbox_count(box), 0);
	ck_assert_uint_eq(mailbox_get_uidvalidity(box), uv);
	ck_assert_uint_eq(mailbox_get_uidnext(box), 4);
	save_full(box, "Subject: again\n\nx\n", 0, NULL, NULL, T0);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 1), 4);
	mailbox_free(&box);
	text = mbox_text();
	ck_assert(strstr(text, " 0000000004\nX-UID: 4\n") != NULL);
	i_free(text);
}
END_TEST

static void append_raw(const char *text)
{
	int fd = open(mbox_path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

struct sync_log {
	unsigned int expunges, flags, news;
	uint32_t new_seq;
};

static void sync_cb(const struct mailbox_sync_rec *rec, void *context)
{
	struct sync_log *log = context;

	switch (rec->type) {
	case MAILBOX_SYNC_EXPUNGE:
		log->expunges++;
		break;
	case MAILBOX_SYNC_FLAGS:
		log->flags++;
		break;
	case MAILBOX_SYNC_NEW:
		log->news++;
		log->new_seq = rec->seq;
		break;
	}
}

START_TEST(test_driver_mta_append)
{
	struct mailbox *box;
	struct sync_log log;
	struct mail *mail;
	const unsigned char *data;
	size_t size;
	char *text, *pad50, *want;
	uint32_t uv;

	/* a brand-new spool file written by an MTA */
	append_raw("From mta@example.net  Thu Nov 26 01:02:03 2026\n"
		   "From: a@b\nSubject: mta1\n\nhello\n\n");
	box = open_box("INBOX", 0);
	uv = mailbox_get_uidvalidity(box);
	ck_assert_uint_eq(mailbox_count(box), 1);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 1), 1);
	text = mbox_text();
	pad50 = spaces(50);
	want = i_strdup_printf("From mta@example.net  Thu Nov 26 01:02:03 2026\n"
		"From: a@b\nSubject: mta1\nX-IMAPbase: %u 0000000001\n"
		"X-UID: 1%s\n\nhello\n\n", uv, pad50);
	ck_assert_msg(strcmp(text, want) == 0, "%s", text);
	i_free(want);
	i_free(text);

	/* more mail arrives during the session */
	append_raw("From mta@example.net  Thu Nov 26 01:02:04 2026\n"
		   "From: a@b\nSubject: mta2\n\nFrom me\nhello2\n\n");
	memset(&log, 0, sizeof(log));
	ck_assert_int_eq(mailbox_sync(box, 0, sync_cb, &log), 0);
	ck_assert_uint_eq(log.news, 1);
	ck_assert_uint_eq(log.new_seq, 2);
	ck_assert_uint_eq(mailbox_count(box), 2);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 2), 2);
	ck_assert_uint_eq(mailbox_get_uidnext(box), 3);
	mail = mail_alloc(box);
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_get_stream(mail, &data, &size), 0);
	ck_assert_uint_eq(size, strlen("From: a@b\nSubject: mta2\n\n"
				       "From me\nhello2\n"));
	ck_assert(memcmp(data, "From: a@b\nSubject: mta2\n\nFrom me\nhello2\n",
			 size) == 0);
	mail_free(&mail);
	mailbox_free(&box);
	text = mbox_text();
	ck_assert_msg(strstr(text, "X-IMAPbase: ") != NULL &&
		      strstr(text, " 0000000002\n") != NULL, "%s", text);
	ck_assert(strstr(text, "Subject: mta2\nX-UID: 2") != NULL);
	i_free(text);
	i_free(pad50);
}
END_TEST

START_TEST(test_driver_dirty_append)
{
	/* appends are scanned from the last message on (mbox_dirty_syncs);
	   a Dovecot LDA's in-place X-IMAPbase update is read again */
	struct mailbox *box;
	struct sync_log log;
	char *text, *p;
	int fd;

	deliver3();
	box = open_box("INBOX", 0);
	ck_assert_uint_eq(mailbox_count(box), 3);
	/* as Dovecot's LDA: last UID 0000000003 -> 0000000004 in place,
	   then the new message with its X-UID */
	text = mbox_text();
	p = strstr(text, " 0000000003\n");
	ck_assert_ptr_nonnull(p);
	memcpy(p, " 0000000004\n", 12);
	fd = open(mbox_path, O_WRONLY);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	i_free(text);
	append_raw("From dovecot@example.net  Thu Nov 26 01:02:04 2026\n"
		   "Subject: m4\nX-UID: 4\nStatus: \nX-Keywords: \n"
		   "Content-Length: 5\n\nm4 4\n\n"
		   "From mta@example.net  Thu Nov 26 01:02:05 2026\n"
		   "Subject: m5\n\nm5\n\n");
	memset(&log, 0, sizeof(log));
	ck_assert_int_eq(mailbox_sync(box, 0, sync_cb, &log), 0);
	ck_assert_uint_eq(log.news, 1);
	ck_assert_uint_eq(mailbox_count(box), 5);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 4), 4);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 5), 5);
	ck_assert_uint_eq(mailbox_get_uidnext(box), 6);
	/* the file has X-UID 5 and X-IMAPbase 5 now */
	text = mbox_text();
	ck_assert(strstr(text, " 0000000005\n") != NULL);
	ck_assert(strstr(text, "Subject: m5\nX-UID: 5") != NULL);
	i_free(text);
	/* a full resync agrees */
	ck_assert_int_eq(mailbox_sync(box, MAILBOX_SYNC_FLAG_FORCE_RESYNC,
				      NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 5);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 5), 5);
	mailbox_free(&box);
}
END_TEST

START_TEST(test_driver_changed_by_others)
{
	struct mailbox *box;
	struct sync_log log;
	char *text, *p;
	int fd;

	deliver3();
	box = open_box("INBOX", 0);
	ck_assert_int_eq(mailbox_seq_flags(box, 2) & MAIL_FLAGS_MASK, 0);
	/* another program sets \Seen and \Flagged in place (keeping the
	   size: "Status: \n" + padding -> "Status: R\n" + one less) */
	text = mbox_text();
	p = strstr(text, "X-UID: 2\nStatus: \nX-Keywords: ");
	ck_assert_ptr_nonnull(p);
	memcpy(p, "X-UID: 2\nStatus: R\nX-Status: F\nX-Keywords:", 42);
	fd = open(mbox_path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	i_free(text);
	/* make sure mtime differs even on coarse clocks */
	{
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { T0, 0 } };
		ck_assert_int_eq(utimensat(AT_FDCWD, mbox_path, ts, 0), 0);
	}
	memset(&log, 0, sizeof(log));
	ck_assert_int_eq(mailbox_sync(box, 0, sync_cb, &log), 0);
	ck_assert_uint_eq(log.flags, 1);
	ck_assert_int_eq(mailbox_seq_flags(box, 2) & MAIL_FLAGS_MASK, MAIL_SEEN | MAIL_FLAGGED);

	/* and expunges the first message with a rewrite (like mutt): the
	   X-IMAPbase goes with it */
	text = mbox_text();
	p = strstr(text + 1, "From sender@example.org");
	fd = open(mbox_path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, p, strlen(p)), (ssize_t)strlen(p));
	close(fd);
	i_free(text);
	memset(&log, 0, sizeof(log));
	ck_assert_int_eq(mailbox_sync(box, 0, sync_cb, &log), 0);
	ck_assert_uint_eq(log.expunges, 1);
	ck_assert_uint_eq(mailbox_count(box), 2);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 1), 2);
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 2), 3);
	ck_assert_uint_eq(mailbox_get_uidnext(box), 4);
	mailbox_free(&box);
	/* X-IMAPbase was put back on the new first message */
	text = mbox_text();
	ck_assert_msg(strstr(text, "X-IMAPbase: ") != NULL &&
		      strstr(text, " 0000000003") != NULL, "%s", text);
	i_free(text);
}
END_TEST

START_TEST(test_driver_keywords_grow)
{
	/* keywords that don't fit the padding: the message grows and the
	   rest of the file moves (through the journal) */
	const char *kws[5];
	char names[4][64];
	struct mailbox *box;
	struct mailbox_transaction *t;
	struct mail *mail;
	const unsigned char *data;
	size_t size;

	deliver3();
	for (unsigned int i = 0; i < 4; i++) {
		snprintf(names[i], sizeof(names[i]), "keyword%u_%s", i,
			 "abcdefghijklmnopqrstuvwxyz0123456789");
		kws[i] = names[i];
	}
	kws[4] = NULL;
	box = open_box("INBOX", 0);
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_update_keywords(t, mail, MODIFY_ADD, kws), 0);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mail_set_seq(mail, 3);
	ck_assert_int_eq(mail_get_stream(mail, &data, &size), 0);
	ck_assert(memcmp(data, "From: bob@example.com\nSubject: m3\n", 34) == 0);
	mail_free(&mail);
	mailbox_free(&box);
	/* reread from scratch */
	{
		char *ix = i_strdup_printf("%s/mail/.imap/INBOX/roost.index",
					   dir);
		unlink(ix);
		i_free(ix);
	}
	box = open_box("INBOX", 0);
	ck_assert_uint_eq(mailbox_count(box), 3);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	{
		const char *const *got = mail_get_keywords(mail);

		for (unsigned int i = 0; i < 4; i++)
			ck_assert_str_eq(got[i], names[i]);
	}
	mail_free(&mail);
	mailbox_free(&box);
	{
		char *j = i_strdup_printf("%s/mail/.imap/INBOX/"
					  MBOX_JOURNAL_NAME, dir);
		ck_assert_int_ne(access(j, F_OK), 0);
		i_free(j);
	}
}
END_TEST

START_TEST(test_driver_list)
{
	struct mailbox *box;
	struct mailbox_list_iter *iter;
	const struct mailbox_info *info;
	const char *const patterns[] = { "*", NULL };
	unsigned int seen = 0;
	struct stat st;

	box = mailbox_alloc(user, "Archive", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), 0);
	mailbox_free(&box);
	box = mailbox_alloc(user, "Work/Sub", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), 0);
	mailbox_free(&box);
	box = mailbox_alloc(user, "Archive/2023", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), -1);
	ck_assert_str_eq(mailbox_get_last_error(box, NULL),
			 "Mailbox doesn't allow inferior mailboxes");
	mailbox_free(&box);
	box = mailbox_alloc(user, "Archive", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), -1);
	mailbox_free(&box);
	box = mailbox_alloc(user, "bad.lock", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), -1);
	mailbox_free(&box);
	box = mailbox_alloc(user, ".imap", 0);
	ck_assert_int_eq(mailbox_create(box, NULL, false), -1);
	mailbox_free(&box);
	ck_assert_int_eq(stat(tpath(dir, "mail/Archive"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(stat(tpath(dir, "mail/Work"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));

	/* a stray dotlock isn't a mailbox */
	free(test_write_file(dir, "mail/Archive.lock", "", 0));
	iter = mailbox_list_iter_init(user, patterns, 0);
	while ((info = mailbox_list_iter_next(iter)) != NULL) {
		if (strcmp(info->vname, "INBOX") == 0) {
			seen |= 1;
		} else if (strcmp(info->vname, "Archive") == 0) {
			ck_assert(info->flags & MAILBOX_NOINFERIORS);
			ck_assert(info->flags & MAILBOX_UNMARKED);
			seen |= 2;
		} else if (strcmp(info->vname, "Work") == 0) {
			ck_assert(info->flags & MAILBOX_NOSELECT);
			ck_assert(info->flags & MAILBOX_CHILDREN);
			seen |= 4;
		} else if (strcmp(info->vname, "Work/Sub") == 0) {
			ck_assert(info->flags & MAILBOX_NOINFERIORS);
			seen |= 8;
		} else {
			ck_abort_msg("unexpected %s", info->vname);
		}
	}
	ck_assert_int_eq(mailbox_list_iter_deinit(&iter), 0);
	ck_assert_uint_eq(seen, 15);

	/* index under the parent's .imap as Dovecot; subscriptions file */
	box = open_box("Work/Sub", 0);
	save_full(box, "Subject: x\n\nbody\n", 0, NULL, NULL, T0);
	mailbox_free(&box);
	ck_assert_int_eq(stat(tpath(dir, "mail/Work/.imap/Sub/roost.index"),
			      &st), 0);
	ck_assert_int_eq(mailbox_list_subscribe(user, "Work/Sub", true), 0);
	{
		char *subs = test_read_file(tpath(dir, "mail/.subscriptions"),
					    NULL);
		ck_assert_str_eq(subs, "V\t2\n\nWork\tSub\n");
		free(subs);
	}
	/* rename and delete */
	{
		struct mailbox *dest = mailbox_alloc(user, "New/Name", 0);

		box = mailbox_alloc(user, "Work/Sub", 0);
		ck_assert_int_eq(mailbox_rename(box, dest), 0);
		mailbox_free(&box);
		mailbox_free(&dest);
		box = open_box("New/Name", 0);
		ck_assert_uint_eq(mailbox_count(box), 1);
		mailbox_free(&box);
		box = mailbox_alloc(user, "New", 0);
		ck_assert_int_eq(mailbox_delete(box), -1);
		mailbox_free(&box);
		box = mailbox_alloc(user, "New/Name", 0);
		ck_assert_int_eq(mailbox_delete(box), 0);
		mailbox_free(&box);
		box = mailbox_alloc(user, "New", 0);
		ck_assert_int_eq(mailbox_delete(box), 0);
		mailbox_free(&box);
	}
}
END_TEST

START_TEST(test_driver_not_mbox)
{
	struct mailbox *box;

	append_raw("Subject: nofrom\n\nbody\n");
	box = mailbox_alloc(user, "INBOX", 0);
	ck_assert_int_eq(mailbox_open(box), -1);
	ck_assert_str_eq(mailbox_get_last_error(box, NULL),
			 "Mailbox isn't a valid mbox file");
	mailbox_free(&box);
}
END_TEST

START_TEST(test_driver_save_variants)
{
	static const char *const kws[] = { "$Label1", "custom", NULL };
	struct mailbox *box = open_box("INBOX", 0);
	struct mail *mail;
	const unsigned char *data;
	size_t size;
	char *text;

	/* no final newline, spoofed Dovecot headers, CRLF */
	save_full(box, "From: a@b\nSubject: nonl\nX-UID: 77\nStatus: RO\n"
		  "X-Keywords: fake\nContent-Length: 999\n\nno newline at end",
		  0, NULL, "<>", T0);
	save_full(box, "From: a@b\r\nSubject: crlf\r\n\r\nline1\r\nline2\r\n",
		  0, NULL, "bad addr@x", T0);
	save_full(box, "Subject: app\r\n\r\nbody\r\n\r\n",
		  MAIL_SEEN | MAIL_FLAGGED, kws, NULL, T0);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 3);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_stream(mail, &data, &size), 0);
	ck_assert_uint_eq(size, strlen("From: a@b\nSubject: nonl\n\n"
				       "no newline at end\n"));
	mail_set_seq(mail, 3);
	ck_assert_int_eq(mail_get_flags(mail) & MAIL_FLAGS_MASK, MAIL_SEEN | MAIL_FLAGGED);
	ck_assert_str_eq(mail_get_keywords(mail)[1], "custom");
	mail_free(&mail);
	mailbox_free(&box);
	text = mbox_text();
	ck_assert_msg(strstr(text, "From MAILER-DAEMON  Thu Nov 26 07:26:11 2026\n"
			     "From: a@b\nSubject: nonl\nX-IMAPbase: ") == text,
		      "%s", text);
	ck_assert(strstr(text, " 0000000003 $Label1 custom\nX-UID: 1\n"
			 "Status: \nX-Keywords:") != NULL);
	ck_assert(strstr(text, "\nContent-Length: 18\n\nno newline at end\n\n"
			 "From MAILER-DAEMON  ") != NULL);
	ck_assert(strstr(text, "Subject: crlf\nX-UID: 2\n") != NULL);
	ck_assert(strstr(text, "\nContent-Length: 12\n\nline1\nline2\n\n") !=
		  NULL);
	ck_assert(strstr(text, "\nSubject: app\nX-UID: 3\nStatus: R\n"
			 "X-Status: F\nX-Keywords: $Label1 custom ") != NULL);
	ck_assert(strstr(text, "\nContent-Length: 6\n\nbody\n\n\n") != NULL);
	ck_assert(strstr(text, "\r") == NULL);
	i_free(text);
}
END_TEST

START_TEST(test_driver_save_bytewise_and_big)
{
	/* CRLF split across calls, one byte at a time; and a message big
	   enough to spill to the temporary file */
	const char *msg = "Subject: bytes\r\n\r\na\rb\r\nc\r\r\n\r";
	struct mailbox *box = open_box("INBOX", 0);
	struct mailbox_transaction *t;
	struct mail_save_context *ctx;
	struct mail *mail;
	const unsigned char *data;
	size_t size, big_len = 6 * 1024 * 1024;
	char *big = i_malloc(big_len + 1);

	t = mailbox_transaction_begin(box);
	ctx = mailbox_save_alloc(t);
	ck_assert_int_eq(mailbox_save_begin(ctx), 0);
	for (size_t i = 0; msg[i] != '\0'; i++)
		ck_assert_int_eq(mailbox_save_continue(ctx, msg + i, 1), 0);
	ck_assert_int_eq(mailbox_save_finish(&ctx), 0);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);

	memcpy(big, "Subject: big\r\n\r\n", 16);
	for (size_t i = 16; i < big_len; i++)
		big[i] = (i % 64) == 62 ? '\r' : (i % 64) == 63 ? '\n' :
			(char)('a' + i % 26);
	t = mailbox_transaction_begin(box);
	ctx = mailbox_save_alloc(t);
	ck_assert_int_eq(mailbox_save_begin(ctx), 0);
	for (size_t off = 0; off < big_len; off += 100000) {
		size_t n = MIN(100000, big_len - off);
		ck_assert_int_eq(mailbox_save_continue(ctx, big + off, n), 0);
	}
	ck_assert_int_eq(mailbox_save_finish(&ctx), 0);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);

	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 2);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_stream(mail, &data, &size), 0);
	/* the final lone CR stays, then the LF every message ends with */
	ck_assert_uint_eq(size, strlen("Subject: bytes\n\na\rb\nc\r\n\r\n"));
	ck_assert(memcmp(data, "Subject: bytes\n\na\rb\nc\r\n\r\n", size) == 0);
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_get_stream(mail, &data, &size), 0);
	/* every CRLF became LF */
	{
		size_t want = 14 + (big_len - 16);

		for (size_t i = 16; i < big_len; i++) {
			if (i % 64 == 63)
				want--;
		}
		ck_assert_uint_eq(size, want);
	}
	ck_assert(memcmp(data, "Subject: big\n\n", 14) == 0);
	ck_assert(memchr(data, '\r', size) == NULL);
	mail_free(&mail);
	mailbox_free(&box);
	i_free(big);
}
END_TEST

START_TEST(test_driver_appends_after_unterminated)
{
	/* the last message ends at EOF without the empty line: a save
	   must not glue onto its body */
	struct mailbox *box;
	struct mail *mail;
	const unsigned char *data;
	size_t size;

	append_raw("From a  Thu Nov 26 01:02:03 2026\nContent-Length: 5\n\n"
		   "body\n");
	box = open_box("INBOX", 0);
	save_full(box, "Subject: 2\n\nx\n", 0, NULL, NULL, T0);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 2);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ck_assert_int_eq(mail_get_stream(mail, &data, &size), 0);
	ck_assert_uint_eq(size, 6);
	ck_assert(memcmp(data, "\nbody\n", 6) == 0);
	mail_set_seq(mail, 2);
	ck_assert_int_eq(mail_get_stream(mail, &data, &size), 0);
	ck_assert_uint_eq(size, 14);
	mail_free(&mail);
	mailbox_free(&box);
}
END_TEST

static void store_seen(struct mailbox *box, uint32_t seq)
{
	struct mailbox_transaction *t = mailbox_transaction_begin(box);
	struct mail *mail = mail_alloc(box);

	mail_set_seq(mail, seq);
	mail_update_flags(t, mail, MODIFY_ADD, MAIL_SEEN);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	mail_free(&mail);
}

static bool m1_seen_on_disk(void)
{
	char *text = mbox_text();
	const char *m1 = strstr(text, "Subject: m1\n");
	const char *m2 = strstr(text, "Subject: m2\n");
	const char *r = m1 == NULL ? NULL : strstr(m1, "Status: R");
	bool ret = r != NULL && (m2 == NULL || r < m2);

	i_free(text);
	return ret;
}

START_TEST(test_driver_lazy_writes)
{
	/* mbox_lazy_writes = yes: a flag change is in the index (and any
	   other session's view) at once, in the file only at close or
	   with an expunge; no: in the file at commit */
	struct mailbox *box, *box2;

	deliver3();
	box = open_box("INBOX", 0);
	store_seen(box, 1);
	ck_assert(!m1_seen_on_disk());
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert(!m1_seen_on_disk());
	/* another session sees it from the index */
	box2 = open_box("INBOX", MAILBOX_FLAG_READONLY);
	ck_assert_uint_eq(mailbox_seq_flags(box2, 1) & MAIL_SEEN, MAIL_SEEN);
	mailbox_free(&box2);
	ck_assert(!m1_seen_on_disk());
	mailbox_free(&box);
	ck_assert(m1_seen_on_disk());

	/* IMAP CHECK: mailbox_flush() writes them at once */
	box = open_box("INBOX", 0);
	store_seen(box, 2);
	ck_assert_int_eq(mailbox_flush(box), 0);
	{
		char *text = mbox_text();
		const char *m2 = strstr(text, "Subject: m2\n");

		ck_assert_ptr_nonnull(m2);
		ck_assert_ptr_nonnull(strstr(m2, "Status: R"));
		i_free(text);
	}
	mailbox_free(&box);

	set->mbox_lazy_writes = false;
	box = open_box("INBOX", 0);
	{
		struct mailbox_transaction *t = mailbox_transaction_begin(box);
		struct mail *mail = mail_alloc(box);

		mail_set_seq(mail, 1);
		mail_update_flags(t, mail, MODIFY_REMOVE, MAIL_SEEN);
		ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
		mail_free(&mail);
	}
	ck_assert(!m1_seen_on_disk());
	store_seen(box, 1);
	ck_assert(m1_seen_on_disk());
	set->mbox_lazy_writes = true;
	mailbox_free(&box);
}
END_TEST

START_TEST(test_driver_min_index_size)
{
	/* mbox_min_index_size: no index file for a smaller mbox (an
	   existing one is still read); 0 = always */
	char *ix = i_strdup_printf("%s/mail/.imap/INBOX/roost.index", dir);
	struct mailbox *box;

	deliver3();
	(void)unlink(ix);
	set->mbox_min_index_size = 1024 * 1024;
	box = open_box("INBOX", 0);
	store_seen(box, 1);
	mailbox_free(&box);
	ck_assert(m1_seen_on_disk());
	ck_assert_int_ne(access(ix, F_OK), 0);
	set->mbox_min_index_size = 100;	/* bytes: the file is bigger */
	box = open_box("INBOX", 0);
	store_seen(box, 2);
	mailbox_free(&box);
	ck_assert_int_eq(access(ix, F_OK), 0);
	set->mbox_min_index_size = 0;
	i_free(ix);
}
END_TEST

START_TEST(test_driver_locked_by_mta)
{
	/* an MTA holds the dotlock: our write waits, then times out */
	struct dotlock_settings dset = { 60, 0, true, ".lock" };
	struct dotlock *dl;
	struct mailbox *box;
	struct mailbox_transaction *t;
	struct mail *mail;

	deliver3();
	box = open_box("INBOX", 0);
	ck_assert_int_eq(file_dotlock_create(&dset, mbox_path, &dl), 1);
	set->mbox_lock_timeout = 1;
	t = mailbox_transaction_begin(box);
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	mail_update_flags(t, mail, MODIFY_ADD, MAIL_SEEN);
	test_log_silence();
	/* as Dovecot: the change is committed (index, view) and written
	   when the lock can be had; each sync meanwhile warns */
	set->mbox_lazy_writes = false;
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	ck_assert_ptr_nonnull(mailbox_get_sync_warning(box));
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_str_eq(mailbox_get_sync_warning(box),
			 "Timeout while waiting for lock");
	ck_assert_uint_eq(mailbox_seq_flags(box, 1) & MAIL_SEEN, MAIL_SEEN);
	{
		char *text = mbox_text();

		ck_assert_ptr_null(strstr(text, "Status: R"));
		i_free(text);
	}
	/* appends fail at once (nothing half-saved) */
	{
		struct mailbox_transaction *st = mailbox_transaction_begin(box);
		struct mail_save_context *ctx = mailbox_save_alloc(st);

		ck_assert_int_eq(mailbox_save_begin(ctx), 0);
		ck_assert_int_eq(mailbox_save_continue(ctx, "Subject: s\n\nx\n",
						       14), 0);
		ck_assert_int_eq(mailbox_save_finish(&ctx), 0);
		ck_assert_int_eq(mailbox_transaction_commit(&st, NULL), -1);
		ck_assert_str_eq(mailbox_get_last_error(box, NULL),
				 "Timeout while waiting for lock");
	}
	/* expunges wait too: the message stays until written */
	t = mailbox_transaction_begin(box);
	mail_set_seq(mail, 2);
	mail_expunge(t, mail);
	ck_assert_int_eq(mailbox_transaction_commit(&t, NULL), 0);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 3);
	ck_assert_int_eq(file_dotlock_delete(&dl), 1);
	/* lock free: the next sync writes both */
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_ptr_null(mailbox_get_sync_warning(box));
	ck_assert_uint_eq(mailbox_count(box), 2);
	ck_assert_uint_eq(mailbox_seq_flags(box, 1) & MAIL_SEEN, MAIL_SEEN);
	{
		char *text = mbox_text();

		ck_assert_msg(strstr(text, "Subject: m1\n") <
			      strstr(text, "Status: R\n"), "%s", text);
		ck_assert_ptr_null(strstr(text, "Subject: m2"));
		ck_assert_ptr_null(strstr(text, "Subject: s\n"));
		i_free(text);
	}
	set->mbox_lazy_writes = true;
	mail_free(&mail);
	mailbox_free(&box);
}
END_TEST

/* Fork a child that expunges UID 2 (and with grow, adds long keywords to
 * UID 1 first) and "crashes" at rewrite step `step`. */
static void crash_child(unsigned int step, bool grow)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct mailbox *box;
		struct mailbox_transaction *t;
		struct mail *mail;

		test_log_silence();
		box = mailbox_alloc(user, "INBOX", 0);
		if (mailbox_open(box) < 0)
			_exit(1);
		mbox_rewrite_crash_at = step;
		t = mailbox_transaction_begin(box);
		mail = mail_alloc(box);
		if (grow) {
			static const char *const kws[] = {
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
				NULL };
			mail_set_seq(mail, 1);
			(void)mail_update_keywords(t, mail, MODIFY_ADD, kws);
		} else {
			mail_set_seq(mail, 2);
			mail_expunge(t, mail);
		}
		(void)mailbox_transaction_commit(&t, NULL);
		/* mbox_lazy_writes: flag changes are written at close */
		mail_free(&mail);
		mailbox_free(&box);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), step == 0 ? 0 : 99);
}

static unsigned int count_subject(const char *text, const char *subject)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, subject)) != NULL; p++)
		n++;
	return n;
}

START_TEST(test_driver_crash_recovery)
{
	unsigned int step = _i % 7;
	bool grow = _i >= 7, appended = (_i % 2) == 1;
	struct mailbox *box;
	char *text;

	deliver3();
	box = open_box("INBOX", 0);	/* UIDs/base written, index made */
	mailbox_free(&box);
	crash_child(step, grow);
	if (appended) {
		/* the MTA delivers after our locks died with us */
		append_raw("From mta@example.net  Thu Nov 26 01:02:04 2026\n"
			   "Subject: m4\n\nlate\n\n");
	}
	test_log_silence();
	box = open_box("INBOX", 0);
	text = mbox_text();
	ck_assert_uint_eq(count_subject(text, "Subject: m1\n"), 1);
	ck_assert_uint_eq(count_subject(text, "Subject: m3\n"), 1);
	ck_assert_uint_eq(count_subject(text, "Subject: m4\n"),
			  appended ? 1 : 0);
	/* the change happened iff its journal was committed */
	ck_assert_uint_eq(count_subject(text, "Subject: m2\n"),
			  !grow && step != 6 ? 0 : 1);
	ck_assert_uint_eq(mailbox_count(box),
			  (appended ? 4 : 3) - (!grow && step != 6 ? 1 : 0));
	ck_assert_uint_eq(mailbox_seq_to_uid(box, 1), 1);
	if (grow && step != 6) {
		struct mail *mail = mail_alloc(box);

		mail_set_seq(mail, 1);
		ck_assert_ptr_nonnull(mail_get_keywords(mail)[1]);
		mail_free(&mail);
	}
	ck_assert(memmem(text, strlen(text), "ROOST-STALE", 11) == NULL);
	i_free(text);
	mailbox_free(&box);
	{
		char *j = i_strdup_printf("%s/mail/.imap/INBOX/"
					  MBOX_JOURNAL_NAME, dir);
		ck_assert_int_ne(access(j, F_OK), 0);
		i_free(j);
	}
}
END_TEST

START_TEST(test_driver_concurrent_mta)
{
	/* an MTA-like writer appends under dotlock + fcntl while we flag
	   and expunge: nothing lost, nothing twice */
	enum { MTA_MSGS = 40 };
	struct mailbox *box;
	pid_t pid;
	int status;
	unsigned int expunged = 0;
	char *text;

	deliver3();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* like Postfix's local(8): dotlock, then fcntl tried a few
		   times; on failure defer (drop the dotlock) and retry */
		for (unsigned int i = 0; i < MTA_MSGS; i++) {
			struct dotlock_settings dset = { 30, 120, true, ".lock" };
			struct dotlock *dl;
			struct file_lock *lock = NULL;
			const char *error;
			char msg[256];
			int fd = open(mbox_path, O_RDWR | O_APPEND);

			if (fd < 0 ||
			    file_dotlock_create(&dset, mbox_path, &dl) != 1)
				_exit(1);
			for (unsigned int try = 0; try < 5 && lock == NULL;
			     try++) {
				if (file_try_lock(fd, mbox_path, F_WRLCK,
						  FILE_LOCK_METHOD_FCNTL, &lock,
						  &error) < 0)
					_exit(1);
				if (lock == NULL)
					usleep(20000);
			}
			if (lock == NULL) {
				/* deferred: try this message again */
				close(fd);
				(void)file_dotlock_delete(&dl);
				usleep(5000);
				i--;
				continue;
			}
			snprintf(msg, sizeof(msg),
				 "From mta@example.net  Thu Nov 26 01:02:03 2026\n"
				 "Subject: mta%03u\n\nbody %u\n\n", i, i);
			if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
				_exit(1);
			file_unlock(&lock);
			close(fd);
			(void)file_dotlock_delete(&dl);
			usleep(2000);
		}
		_exit(0);
	}
	box = open_box("INBOX", MAILBOX_FLAG_DROP_RECENT);
	for (unsigned int round = 0; round < 30; round++) {
		struct mailbox_transaction *t;
		struct mail *mail;
		uint32_t count;

		ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
		count = mailbox_count(box);
		t = mailbox_transaction_begin(box);
		mail = mail_alloc(box);
		mail_set_seq(mail, 1 + round % count);
		mail_update_flags(t, mail, MODIFY_ADD, MAIL_SEEN);
		if (round % 5 == 4 && count > 2) {
			/* expunge one of the first three only */
			mail_set_seq(mail, 1);
			if (mailbox_seq_to_uid(box, 1) <= 3) {
				mail_expunge(t, mail);
				expunged++;
			}
		}
		mail_free(&mail);
		ck_assert_msg(mailbox_transaction_commit(&t, NULL) == 0, "%s",
			      mailbox_get_last_error(box, NULL));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(mailbox_sync(box, 0, NULL, NULL), 0);
	ck_assert_uint_eq(mailbox_count(box), 3 + MTA_MSGS - expunged);
	mailbox_free(&box);
	text = mbox_text();
	for (unsigned int i = 0; i < MTA_MSGS; i++) {
		char subj[32];

		snprintf(subj, sizeof(subj), "Subject: mta%03u\n", i);
		ck_assert_msg(count_subject(text, subj) == 1, "%s", subj);
	}
	i_free(text);
}
END_TEST

Suite *make_mbox_suite(void)
{
	Suite *s = suite_create("mbox");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_from_parse);
	tcase_add_test(tc, test_from_create);
	tcase_add_test(tc, test_from_envelope);
	tcase_add_test(tc, test_header_types);
	tcase_add_test(tc, test_header_values);
	tcase_add_test(tc, test_save_headers_dovecot);
	tcase_add_test(tc, test_header_rebuild_in_place);
	tcase_add_test(tc, test_header_rebuild_mta);
	tcase_add_test(tc, test_save_filter_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("Scan");
	tcase_add_checked_fixture(tc, NULL, scan_teardown);
	tcase_add_test(tc, test_scan_dovecot_file);
	tcase_add_test(tc, test_scan_no_content_length);
	tcase_add_test(tc, test_scan_pseudo);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, NULL, scan_teardown);
	tcase_add_test(tc, test_from_parse_invalid);
	tcase_add_test(tc, test_scan_wrong_content_length);
	tcase_add_test(tc, test_scan_huge_content_length);
	tcase_add_test(tc, test_scan_not_mbox);
	tcase_add_test(tc, test_scan_truncated);
	tcase_add_test(tc, test_scan_nul_crlf);
	tcase_add_test(tc, test_scan_header_cut_by_from);
	suite_add_tcase(s, tc);

	tc = tcase_create("Driver");
	tcase_add_checked_fixture(tc, user_setup, user_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_driver_save_format);
	tcase_add_test(tc, test_driver_flags_like_dovecot);
	tcase_add_test(tc, test_driver_expunge_like_dovecot);
	tcase_add_test(tc, test_driver_expunge_first);
	tcase_add_test(tc, test_driver_mta_append);
	tcase_add_test(tc, test_driver_changed_by_others);
	tcase_add_test(tc, test_driver_dirty_append);
	tcase_add_test(tc, test_driver_keywords_grow);
	tcase_add_test(tc, test_driver_list);
	tcase_add_test(tc, test_driver_not_mbox);
	tcase_add_test(tc, test_driver_save_variants);
	tcase_add_test(tc, test_driver_appends_after_unterminated);
	tcase_add_test(tc, test_driver_save_bytewise_and_big);
	tcase_add_test(tc, test_driver_locked_by_mta);
	tcase_add_test(tc, test_driver_lazy_writes);
	tcase_add_test(tc, test_driver_min_index_size);
	tcase_add_loop_test(tc, test_driver_crash_recovery, 0, 14);
	tcase_add_test(tc, test_driver_concurrent_mta);
	suite_add_tcase(s, tc);
	return s;
}

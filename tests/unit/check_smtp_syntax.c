/* check_smtp_syntax.c - unit tests of daemon/smtp: command splitting,
 * paths (quoted local parts, UTF-8, <>), ESMTP parameters, xtext,
 * replies; then the server state machine fed whole sessions at once
 * and one byte at a time over a socketpair (LMTP per-recipient replies,
 * dot-unstuffing, bare LF, BDAT, long lines, PIPELINING order, async
 * callbacks). */
#include "suites.h"
#include "smtp-syntax.h"
#include "smtp-server.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

static pool_t tpool;

static void syn_setup(void)
{
	tpool = pool_create("test", 1024);
}

static void syn_teardown(void)
{
	pool_destroy(&tpool);
}

/* ---- Core: syntax ------------------------------------------------- */

START_TEST(test_command_split)
{
	char verb[16];
	const char *args;

	ck_assert_int_eq(smtp_command_split("mail FROM:<a@b>", verb,
					    sizeof(verb), &args), 0);
	ck_assert_str_eq(verb, "MAIL");
	ck_assert_str_eq(args, "FROM:<a@b>");
	ck_assert_int_eq(smtp_command_split("QUIT", verb, sizeof(verb),
					    &args), 0);
	ck_assert_str_eq(args, "");
	ck_assert_int_eq(smtp_command_split("", verb, sizeof(verb), &args), -1);
	ck_assert_int_eq(smtp_command_split(" NOOP", verb, sizeof(verb),
					    &args), -1);
	ck_assert_int_eq(smtp_command_split("N\x01OP", verb, sizeof(verb),
					    &args), -1);
	ck_assert_int_eq(smtp_command_split("AAAAAAAAAAAAAAAAAAAAAA", verb,
					    sizeof(verb), &args), -1);
}
END_TEST

START_TEST(test_path_parse)
{
	struct smtp_address a;
	const char *rest, *error;

	ck_assert_int_eq(smtp_path_parse(tpool, "<alice@example.com> SIZE=1",
					 false, &a, &rest, &error), 0);
	ck_assert_str_eq(a.localpart, "alice");
	ck_assert_str_eq(a.domain, "example.com");
	ck_assert_str_eq(rest, "SIZE=1");
	ck_assert(!a.utf8);

	ck_assert_int_eq(smtp_path_parse(tpool, "<\"a b\\\"c\"@x.org>", false,
					 &a, &rest, &error), 0);
	ck_assert_str_eq(a.localpart, "a b\"c");
	ck_assert_str_eq(smtp_address_encode(tpool, &a), "\"a b\\\"c\"@x.org");

	ck_assert_int_eq(smtp_path_parse(tpool, "<>", true, &a, &rest,
					 &error), 0);
	ck_assert_ptr_null(a.localpart);
	ck_assert_str_eq(smtp_address_encode(tpool, &a), "");
	ck_assert_int_eq(smtp_path_parse(tpool, "<>", false, &a, &rest,
					 &error), -1);
	ck_assert_str_eq(error, "Null path not allowed");

	ck_assert_int_eq(smtp_path_parse(tpool, "<postmaster>", false, &a,
					 &rest, &error), 0);
	ck_assert_ptr_null(a.domain);

	ck_assert_int_eq(smtp_path_parse(tpool, "<jürgen@bücher.de>", false,
					 &a, &rest, &error), 0);
	ck_assert(a.utf8);

	ck_assert_int_eq(smtp_path_parse(tpool, "<@r1,@r2:u@d>", false, &a,
					 &rest, &error), 0);
	ck_assert_str_eq(a.localpart, "u");

	ck_assert_int_eq(smtp_path_parse(tpool, "<u@[127.0.0.1]>", false,
					 &a, &rest, &error), 0);
	ck_assert_str_eq(a.domain, "[127.0.0.1]");
	ck_assert_int_eq(smtp_path_parse(tpool, "a@b", false, &a, &rest,
					 &error), -1);
	ck_assert_str_eq(error, "Missing '<' at beginning of path");
}
END_TEST

START_TEST(test_params)
{
	struct smtp_params_mail m;
	struct smtp_params_rcpt r;
	const char *error;
	enum smtp_capability all = SMTP_CAP_SIZE | SMTP_CAP_8BITMIME |
		SMTP_CAP_BINARYMIME | SMTP_CAP_SMTPUTF8 | SMTP_CAP_DSN |
		SMTP_CAP_AUTH;

	ck_assert_int_eq(smtp_params_mail_parse(tpool, "SIZE=1000 "
		"BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=a+2Bb AUTH=<>", all,
		&m, &error), SMTP_PARAM_OK);
	ck_assert(m.size_given);
	ck_assert_uint_eq(m.size, 1000);
	ck_assert_int_eq(m.body, SMTP_BODY_8BITMIME);
	ck_assert(m.smtputf8);
	ck_assert_int_eq(m.ret, SMTP_DSN_RET_HDRS);
	ck_assert_str_eq(m.envid, "a+b");
	ck_assert_str_eq(m.auth, "<>");
	ck_assert_int_eq(smtp_params_mail_parse(tpool, "body=binarymime",
		all, &m, &error), SMTP_PARAM_OK);
	ck_assert_int_eq(m.body, SMTP_BODY_BINARYMIME);
	/* not offered */
	ck_assert_int_eq(smtp_params_mail_parse(tpool, "SIZE=10",
		SMTP_CAP_8BITMIME, &m, &error), SMTP_PARAM_UNSUPPORTED);
	ck_assert_str_eq(error, "Unsupported parameters");
	ck_assert_int_eq(smtp_params_mail_parse(tpool, "BODY=BINARYMIME",
		SMTP_CAP_8BITMIME, &m, &error), SMTP_PARAM_UNSUPPORTED);

	ck_assert_int_eq(smtp_params_rcpt_parse(tpool,
		"NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b", all, &r, &error),
		SMTP_PARAM_OK);
	ck_assert_uint_eq(r.notify, SMTP_DSN_NOTIFY_SUCCESS |
			  SMTP_DSN_NOTIFY_FAILURE);
	ck_assert_str_eq(r.orcpt_type, "rfc822");
	ck_assert_str_eq(r.orcpt, "a@b");
}
END_TEST

START_TEST(test_xtext_reply)
{
	const char *v;
	string_t *s = str_new(64);

	ck_assert_int_eq(smtp_xtext_decode(tpool, "a+3Db", 5, &v), 0);
	ck_assert_str_eq(v, "a=b");
	smtp_xtext_encode(s, "a=b+c d");
	ck_assert_str_eq(str_c(s), "a+3Db+2Bc+20d");
	str_clear(s);
	smtp_reply_append(s, 250, "2.0.0", "first\nsecond");
	ck_assert_str_eq(str_c(s), "250-2.0.0 first\r\n250 2.0.0 second\r\n");
	str_clear(s);
	smtp_reply_append(s, 354, NULL, "OK");
	ck_assert_str_eq(str_c(s), "354 OK\r\n");
	str_clear(s);
	smtp_reply_append(s, 550, "5.1.1", "bad\rtext");
	ck_assert_str_eq(str_c(s), "550 5.1.1 bad text\r\n");
	str_free(&s);
}
END_TEST

/* ---- Limits / Malformed: syntax ------------------------------------ */

START_TEST(test_path_malformed)
{
	static const char *const bad[] = {
		"<", "<a", "<a@", "<a@b", "<a@b>x", "<\"a@b>", "<a b@c>",
		"<a@b..c>", "<a@.b>", "<a@[1.2>", "<\"a\\", "<@r1:>",
		"<a@[]>", "<a\x01@b>", "<a@b\x7f>",
	};
	struct smtp_address a;
	const char *rest, *error;
	char *longpath;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		ck_assert_msg(smtp_path_parse(tpool, bad[i], true, &a, &rest,
					      &error) < 0, "%s", bad[i]);
	}
	longpath = i_malloc(SMTP_MAX_PATH_LENGTH * 4);
	memset(longpath, 'a', SMTP_MAX_PATH_LENGTH * 4 - 1);
	longpath[0] = '<';
	longpath[SMTP_MAX_PATH_LENGTH * 4 - 1] = '\0';
	ck_assert_int_eq(smtp_path_parse(tpool, longpath, true, &a, &rest,
					 &error), -1);
	free(longpath);
}
END_TEST

START_TEST(test_params_malformed)
{
	static const char *const bad[] = {
		"SIZE", "SIZE=", "SIZE=-1", "SIZE=99999999999999999999999",
		"SIZE=1 SIZE=2", "BODY=8BITMIME BODY=7BIT", "=x", "RET=X",
		"ENVID=a+zz", "ENVID=a+00", "SMTPUTF8=yes", "A=b=c",
	};
	struct smtp_params_mail m;
	struct smtp_params_rcpt r;
	const char *error, *v;
	enum smtp_capability all = SMTP_CAP_SIZE | SMTP_CAP_8BITMIME |
		SMTP_CAP_SMTPUTF8 | SMTP_CAP_DSN;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		ck_assert_msg(smtp_params_mail_parse(tpool, bad[i], all, &m,
						     &error) != SMTP_PARAM_OK,
			      "%s", bad[i]);
	}
	ck_assert_int_ne(smtp_params_rcpt_parse(tpool, "NOTIFY=NEVER,DELAY",
						all, &r, &error), SMTP_PARAM_OK);
	ck_assert_int_ne(smtp_params_rcpt_parse(tpool, "NOTIFY=", all, &r,
						&error), SMTP_PARAM_OK);
	ck_assert_int_ne(smtp_params_rcpt_parse(tpool, "ORCPT=x", all, &r,
						&error), SMTP_PARAM_OK);
	ck_assert_int_ne(smtp_params_rcpt_parse(tpool, "ORCPT=;a", all, &r,
						&error), SMTP_PARAM_OK);
	ck_assert_int_eq(smtp_xtext_decode(tpool, "+4", 2, &v), -1);
	ck_assert_int_eq(smtp_xtext_decode(tpool, "a b", 3, &v), -1);
}
END_TEST

/* ---- Server ---------------------------------------------------------- */

struct srv_test {
	struct ioloop *loop;
	struct smtp_server_conn *conn;
	int peer;
	string_t *messages;	/* each delivered message + "|" */
	const char *disconnect_reason;
	bool async;		/* answer RCPT asynchronously */
	struct timeout *to_async;
	enum smtp_server_result async_result;
};

static struct srv_test st;

static enum smtp_server_result
srv_rcpt(struct smtp_server_conn *conn, void *context ATTR_UNUSED,
	 struct smtp_server_transaction *t ATTR_UNUSED,
	 struct smtp_server_recipient *rcpt)
{
	enum smtp_server_result result = SMTP_SERVER_ACCEPT;

	if (strcmp(rcpt->path.localpart, "nobody") == 0) {
		smtp_server_reply(conn, 550, "5.1.1",
				  "<%s> User doesn't exist: %s",
				  rcpt->address, rcpt->address);
		result = SMTP_SERVER_REPLIED_FAIL;
	}
	if (st.async) {
		st.async_result = result;
		return SMTP_SERVER_ASYNC;
	}
	return result;
}

static void srv_async_done(void *context ATTR_UNUSED)
{
	timeout_remove(&st.to_async);
	smtp_server_command_finish(st.conn, st.async_result);
}

static enum smtp_server_result
srv_data(struct smtp_server_conn *conn, void *context ATTR_UNUSED,
	 struct smtp_server_transaction *t)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(t->data_fd, buf, sizeof(buf))) > 0)
		str_append_n(st.messages, buf, (size_t)n);
	str_append_c(st.messages, '|');
	for (unsigned int i = 0; i < t->rcpt_count; i++) {
		smtp_server_reply(conn, 250, "2.0.0", "<%s> Saved",
				  t->rcpts[i]->address);
	}
	return SMTP_SERVER_REPLIED_OK;
}

static void srv_disconnected(struct smtp_server_conn *conn ATTR_UNUSED,
			     void *context ATTR_UNUSED, const char *reason)
{
	st.disconnect_reason = reason;
	smtp_server_conn_free(&st.conn);
	io_loop_stop(st.loop);
}

static enum smtp_server_result
srv_rcpt_wrapper(struct smtp_server_conn *conn, void *context,
		 struct smtp_server_transaction *t,
		 struct smtp_server_recipient *rcpt)
{
	enum smtp_server_result r = srv_rcpt(conn, context, t, rcpt);

	if (r == SMTP_SERVER_ASYNC)
		st.to_async = timeout_add(st.loop, 1, srv_async_done, NULL);
	return r;
}

static const struct smtp_server_callbacks srv_callbacks = {
	.cmd_rcpt = srv_rcpt_wrapper,
	.data = srv_data,
	.disconnected = srv_disconnected,
};

static void srv_stop(void *context ATTR_UNUSED)
{
	io_loop_stop(st.loop);
}

/* Run the loop until it goes quiet for a moment (or the conn ends). */
static void srv_run(unsigned int msecs)
{
	struct timeout *to = timeout_add(st.loop, msecs, srv_stop, NULL);

	io_loop_run(st.loop);
	timeout_remove(&to);
}

static void srv_start(enum smtp_server_protocol protocol, size_t max_line)
{
	struct smtp_server_settings set = {
		.protocol = protocol,
		.hostname = "mx.test",
		.greeting = "Dovecot ready.",
		.capabilities = SMTP_CAP_8BITMIME | SMTP_CAP_CHUNKING |
			SMTP_CAP_ENHANCEDSTATUSCODES | SMTP_CAP_PIPELINING,
		.max_command_line = max_line,
		.idle_timeout_msecs = 2000,
	};
	int sv[2];

	memset(&st, 0, sizeof(st));
	st.loop = io_loop_create();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	st.peer = sv[1];
	(void)fcntl(st.peer, F_SETFL, O_NONBLOCK);
	st.messages = str_new(256);
	st.conn = smtp_server_conn_create(st.loop, sv[0], &set,
					  &srv_callbacks, NULL);
}

static void srv_read(string_t *out)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(st.peer, buf, sizeof(buf))) > 0)
		str_append_n(out, buf, (size_t)n);
}

/* Send input in pieces of chunk bytes, return everything received. */
static string_t *srv_session(const char *input, size_t len, size_t chunk)
{
	string_t *out = str_new(1024);

	for (size_t off = 0; off < len && st.conn != NULL; off += chunk) {
		size_t n = MIN(chunk, len - off);

		ck_assert_int_eq(write(st.peer, input + off, n), (ssize_t)n);
		srv_run(chunk == 1 ? 1 : 30);
		srv_read(out);
	}
	srv_run(50);
	srv_read(out);
	return out;
}

static void srv_stop_all(void)
{
	smtp_server_conn_free(&st.conn);
	timeout_remove(&st.to_async);
	close(st.peer);
	str_free(&st.messages);
	io_loop_destroy(&st.loop);
}

static const char lmtp_session[] =
	"LHLO client\r\n"
	"MAIL FROM:<a@b.c>\r\n"
	"RCPT TO:<alice@x>\r\n"
	"RCPT TO:<nobody@x>\r\n"
	"RCPT TO:<bob@x>\r\n"
	"DATA\r\n"
	"Subject: s\r\n\r\n..dot\r\nbare\nlf\rcr\r\n.\r\n"
	"NOOP\r\n"
	"QUIT\r\n";

static const char lmtp_expected[] =
	"220 mx.test Dovecot ready.\r\n"
	"250-mx.test\r\n250-8BITMIME\r\n250-CHUNKING\r\n"
	"250-ENHANCEDSTATUSCODES\r\n250 PIPELINING\r\n"
	"250 2.1.0 OK\r\n"
	"250 2.1.5 OK\r\n"
	"550 5.1.1 <nobody@x> User doesn't exist: nobody@x\r\n"
	"250 2.1.5 OK\r\n"
	"354 OK\r\n"
	"250 2.0.0 <alice@x> Saved\r\n"
	"250 2.0.0 <bob@x> Saved\r\n"
	"250 2.0.0 OK\r\n"
	"221 2.0.0 Bye\r\n";

static void check_lmtp_session(size_t chunk, bool async)
{
	string_t *out;

	srv_start(SMTP_SERVER_PROTOCOL_LMTP, 0);
	st.async = async;
	out = srv_session(lmtp_session, sizeof(lmtp_session) - 1, chunk);
	ck_assert_str_eq(str_c(out), lmtp_expected);
	ck_assert_str_eq(str_c(st.messages),
			 "Subject: s\r\n\r\n.dot\r\nbare\nlf\rcr\r\n|");
	ck_assert_str_eq(st.disconnect_reason, "Logged out");
	str_free(&out);
	srv_stop_all();
}

START_TEST(test_server_lmtp_whole)
{
	check_lmtp_session(sizeof(lmtp_session), false);
}
END_TEST

START_TEST(test_server_lmtp_bytewise)
{
	check_lmtp_session(1, false);
}
END_TEST

START_TEST(test_server_lmtp_async)
{
	check_lmtp_session(sizeof(lmtp_session), true);
	check_lmtp_session(7, true);
}
END_TEST

static void check_simple(const char *input, const char *expected_tail,
			 const char *messages)
{
	string_t *out;
	const char *p;

	srv_start(SMTP_SERVER_PROTOCOL_LMTP, 0);
	out = srv_session(input, strlen(input), strlen(input));
	p = strstr(str_c(out), "250 PIPELINING\r\n");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p + 16, expected_tail);
	if (messages != NULL)
		ck_assert_str_eq(str_c(st.messages), messages);
	str_free(&out);
	srv_stop_all();
}

START_TEST(test_server_bdat)
{
	check_simple("LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@x>\r\n"
		     "BDAT 5\r\nab\r\nc"
		     "BDAT 0\r\n"
		     "BDAT 3 LAST\r\n\r\n.QUIT\r\n",
		     "250 2.1.0 OK\r\n250 2.1.5 OK\r\n"
		     "250 2.0.0 Added 5 octets\r\n"
		     "250 2.0.0 Added 0 octets\r\n"
		     "250 2.0.0 <a@x> Saved\r\n221 2.0.0 Bye\r\n",
		     "ab\r\nc\r\n.|");
	/* errors still read the chunk, as Dovecot */
	check_simple("LHLO c\r\nBDAT 3 FOO\r\nQUIT\r\nBDAT x\r\n"
		     "BDAT 4\r\nNOOPQUIT\r\n",
		     "501 5.5.4 Invalid end marker parameter\r\n"
		     "500 5.5.1 Unknown command\r\n"
		     "501 5.5.4 Invalid chunk size parameter\r\n"
		     "503 5.5.0 MAIL needed first\r\n221 2.0.0 Bye\r\n", "");
}
END_TEST

START_TEST(test_server_order)
{
	check_simple("LHLO c\r\nRCPT TO:<a@x>\r\nDATA\r\nMAIL FROM:a\r\n"
		     "MAIL FROM:<a@b> FOO=1\r\nHELO x\r\nEHLO x\r\n"
		     "MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nDATA\r\n"
		     "RCPT TO:<>\r\nRSET\r\nVRFY x\r\nFOO\r\n\r\n"
		     "DATA x\r\nQUIT\r\n",
		     "503 5.5.0 MAIL needed first\r\n"
		     "503 5.5.0 MAIL needed first\r\n"
		     "501 5.5.4 Invalid FROM: Missing '<' at beginning of "
		     "path\r\n"
		     "555 5.5.4 Unsupported parameters\r\n"
		     "500 5.5.1 Unknown command\r\n"
		     "500 5.5.1 Unknown command\r\n"
		     "250 2.1.0 OK\r\n"
		     "503 5.5.0 MAIL already given\r\n"
		     "503 5.5.0 No valid recipients\r\n"
		     "501 5.5.4 Invalid TO: Null path not allowed\r\n"
		     "250 2.0.0 OK\r\n"
		     "252 2.3.3 Try RCPT instead\r\n"
		     "500 5.5.1 Unknown command\r\n"
		     "500 5.5.1 Unknown command\r\n"
		     "501 5.5.4 Invalid parameters\r\n"
		     "221 2.0.0 Bye\r\n", "");
}
END_TEST

/* A line far over the limit is skipped whole, answered once, and the
 * session goes on; the buffer never grows past the limit. */
START_TEST(test_server_long_line)
{
	size_t big = 10 * 1024 * 1024;
	char *input = i_malloc(big + 64);
	string_t *out;
	size_t len;

	memcpy(input, "LHLO c\r\nNOOP ", 13);
	memset(input + 13, 'x', big);
	len = 13 + big;
	memcpy(input + len, "\r\nNOOP\r\nQUIT\r\n", 14);
	len += 14;
	srv_start(SMTP_SERVER_PROTOCOL_LMTP, 0);
	out = srv_session(input, len, 65536);
	ck_assert_ptr_nonnull(strstr(str_c(out), "250 PIPELINING\r\n"
		"500 5.5.2 Line too long\r\n250 2.0.0 OK\r\n221 2.0.0 Bye\r\n"));
	str_free(&out);
	srv_stop_all();
	free(input);
}
END_TEST

/* Dovecot's boundary: 4096 bytes of parameters pass, 4097 don't. */
START_TEST(test_server_line_limit)
{
	string_t *in = str_new(9000);

	str_append(in, "LHLO c\r\nNOOP ");
	for (int i = 0; i < 4096; i++)
		str_append_c(in, 'x');
	str_append(in, "\r\nNOOP ");
	for (int i = 0; i < 4097; i++)
		str_append_c(in, 'x');
	str_append(in, "\r\nQUIT\r\n");
	check_simple(str_c(in), "250 2.0.0 OK\r\n500 5.5.2 Line too long\r\n"
		     "221 2.0.0 Bye\r\n", NULL);
	str_free(&in);
}
END_TEST

START_TEST(test_server_nul_and_timeout)
{
	static const char input[] = "LHLO c\r\nNO\0OP\r\nMAIL FROM:<>\r\n"
		"RCPT TO:<a@x>\r\nBDAT 100 LAST\r\nabc";
	string_t *out;

	srv_start(SMTP_SERVER_PROTOCOL_LMTP, 0);
	out = srv_session(input, sizeof(input) - 1, sizeof(input));
	ck_assert_ptr_nonnull(strstr(str_c(out),
		"500 5.5.2 Invalid command syntax\r\n250 2.1.0 OK\r\n"
		"250 2.1.5 OK\r\n"));
	/* the chunk never completes: the idle timeout ends it */
	srv_run(3000);
	srv_read(out);
	ck_assert_ptr_nonnull(strstr(str_c(out),
		"421 4.4.2 mx.test Disconnected for inactivity\r\n"));
	ck_assert_ptr_null(st.conn);
	ck_assert_str_eq(st.disconnect_reason, "Disconnected for inactivity "
			 "(unfinished BDAT command)");
	ck_assert_str_eq(str_c(st.messages), "");
	str_free(&out);
	srv_stop_all();
}
END_TEST

START_TEST(test_server_peer_close_in_data)
{
	static const char input[] = "LHLO c\r\nMAIL FROM:<>\r\n"
		"RCPT TO:<a@x>\r\nDATA\r\npartial";
	string_t *out;

	srv_start(SMTP_SERVER_PROTOCOL_LMTP, 0);
	out = srv_session(input, sizeof(input) - 1, sizeof(input));
	shutdown(st.peer, SHUT_WR);
	srv_run(500);
	ck_assert_ptr_null(st.conn);
	ck_assert_str_eq(st.disconnect_reason,
			 "Connection closed (unfinished DATA command)");
	ck_assert_str_eq(str_c(st.messages), "");
	str_free(&out);
	srv_stop_all();
}
END_TEST

Suite *make_smtp_syntax_suite(void)
{
	Suite *s = suite_create("smtp_syntax");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, syn_setup, syn_teardown);
	tcase_add_test(tc, test_command_split);
	tcase_add_test(tc, test_path_parse);
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_xtext_reply);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, syn_setup, syn_teardown);
	tcase_add_test(tc, test_path_malformed);
	tcase_add_test(tc, test_params_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("Server");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_server_lmtp_whole);
	tcase_add_test(tc, test_server_lmtp_bytewise);
	tcase_add_test(tc, test_server_lmtp_async);
	tcase_add_test(tc, test_server_bdat);
	tcase_add_test(tc, test_server_order);
	tcase_add_test(tc, test_server_long_line);
	tcase_add_test(tc, test_server_line_limit);
	tcase_add_test(tc, test_server_nul_and_timeout);
	tcase_add_test(tc, test_server_peer_close_in_data);
	suite_add_tcase(s, tc);
	return s;
}

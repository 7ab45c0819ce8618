/* check_smtp_client.c - unit tests of daemon/smtp/smtp-client.h: reply
 * and EHLO line parsing, dot-stuffing fed in pieces, and whole sessions
 * against a scripted relay in a child process (pipelined MAIL/RCPT,
 * a dot-stuffed DATA, BDAT with CHUNKING, AUTH PLAIN, XCLIENT, a refused
 * connection, a relay that hangs up). */
#include "suites.h"
#include "smtp-client.h"
#include "str.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_reply_line)
{
	unsigned int status;
	const char *text;

	ck_assert_int_eq(smtp_reply_line_parse("250 2.0.0 Ok", &status, &text), 1);
	ck_assert_uint_eq(status, 250);
	ck_assert_str_eq(text, "2.0.0 Ok");
	ck_assert_int_eq(smtp_reply_line_parse("250-PIPELINING", &status, &text), 0);
	ck_assert_str_eq(text, "PIPELINING");
	ck_assert_int_eq(smtp_reply_line_parse("354", &status, &text), 1);
	ck_assert_str_eq(text, "");
	ck_assert_int_eq(smtp_reply_line_parse("25 ok", &status, &text), -1);
	ck_assert_int_eq(smtp_reply_line_parse("650 x", &status, &text), -1);
	ck_assert_int_eq(smtp_reply_line_parse("250x", &status, &text), -1);
	ck_assert_int_eq(smtp_reply_line_parse("", &status, &text), -1);
}
END_TEST

START_TEST(test_enhanced)
{
	char enh[16];
	const char *rest;

	ck_assert(smtp_reply_split_enhanced("2.1.0 Ok", enh, &rest));
	ck_assert_str_eq(enh, "2.1.0");
	ck_assert_str_eq(rest, "Ok");
	ck_assert(smtp_reply_split_enhanced("5.7.10 x", enh, &rest));
	ck_assert_str_eq(enh, "5.7.10");
	ck_assert(!smtp_reply_split_enhanced("Ok", enh, &rest));
	ck_assert(!smtp_reply_split_enhanced("2.1 Ok", enh, &rest));
	ck_assert(!smtp_reply_split_enhanced("2.1.1234 x", enh, &rest));
	ck_assert(!smtp_reply_split_enhanced("7.1.0 x", enh, &rest));
}
END_TEST

START_TEST(test_ehlo_line)
{
	uint64_t size = 1;

	ck_assert_int_eq(smtp_ehlo_line_parse("SIZE 10240000", &size), SMTP_CLIENT_CAP_SIZE);
	ck_assert_uint_eq(size, 10240000);
	ck_assert_int_eq(smtp_ehlo_line_parse("SIZE", &size), SMTP_CLIENT_CAP_SIZE);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(smtp_ehlo_line_parse("pipelining", NULL), SMTP_CLIENT_CAP_PIPELINING);
	ck_assert_int_eq(smtp_ehlo_line_parse("AUTH PLAIN LOGIN", NULL), SMTP_CLIENT_CAP_AUTH);
	ck_assert_int_eq(smtp_ehlo_line_parse("AUTH=PLAIN", NULL), SMTP_CLIENT_CAP_AUTH);
	ck_assert_int_eq(smtp_ehlo_line_parse("CHUNKING", NULL), SMTP_CLIENT_CAP_CHUNKING);
	ck_assert_int_eq(smtp_ehlo_line_parse("XCLIENT NAME ADDR", NULL), SMTP_CLIENT_CAP_XCLIENT);
	ck_assert_int_eq(smtp_ehlo_line_parse("ETRN", NULL), 0);
	ck_assert_int_eq(smtp_ehlo_line_parse("SIZEX", NULL), 0);
}
END_TEST

START_TEST(test_dot_stuff)
{
	static const char *const pieces[] = { ".a\r\n", "b\r\n.", ".c\r", "\n.", "" };
	string_t *out = str_new(64);
	bool bol = true;

	for (unsigned int i = 0; i < N_ELEMENTS(pieces); i++)
		smtp_dot_stuff(out, (const unsigned char *)pieces[i],
			       strlen(pieces[i]), &bol);
	ck_assert_str_eq(str_c(out), "..a\r\nb\r\n...c\r\n..");
	/* one byte at a time gives the same */
	str_clear(out);
	bol = true;
	const char *all = ".a\r\nb\r\n..c\r\n.";
	for (size_t i = 0; all[i] != '\0'; i++)
		smtp_dot_stuff(out, (const unsigned char *)all + i, 1, &bol);
	ck_assert_str_eq(str_c(out), "..a\r\nb\r\n...c\r\n..");
	str_free(&out);
}
END_TEST

START_TEST(test_crlf_convert)
{
	static const char *const pieces[] = { "a\nb\r", "\nc\n\r\n", "\rd\n" };
	string_t *out = str_new(64);
	bool last_cr = false;

	for (unsigned int i = 0; i < N_ELEMENTS(pieces); i++)
		smtp_crlf_convert(out, (const unsigned char *)pieces[i],
				  strlen(pieces[i]), &last_cr);
	ck_assert_str_eq(str_c(out), "a\r\nb\r\nc\r\n\r\n\rd\r\n");
	str_free(&out);
}
END_TEST

/* ---- sessions against a scripted relay ---- */

struct relay_script {
	const char *ehlo_caps;	/* "250-x\r\n250 PIPELINING\r\n" after the name */
	bool hang_up_after_greeting;
};

/* The child: one connection, answers every command, writes what it got
 * (commands and the message bytes) to out_fd. */
static void relay_child(int lfd, int out_fd, const struct relay_script *script)
{
	int fd = accept(lfd, NULL, NULL);
	FILE *in, *out;
	char line[4096];

	if (fd < 0)
		_exit(1);
	in = fdopen(fd, "r");
	out = fdopen(dup(fd), "w");
	setvbuf(out, NULL, _IONBF, 0);
	fputs("220 relay.test ESMTP\r\n", out);
	if (script->hang_up_after_greeting)
		_exit(0);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (write(out_fd, line, strlen(line)) < 0)
			_exit(1);
		if (strncmp(line, "EHLO", 4) == 0) {
			fprintf(out, "250-relay.test\r\n%s", script->ehlo_caps);
		} else if (strncmp(line, "DATA", 4) == 0) {
			fputs("354 go\r\n", out);
			while (fgets(line, sizeof(line), in) != NULL) {
				if (write(out_fd, line, strlen(line)) < 0)
					_exit(1);
				if (strcmp(line, ".\r\n") == 0)
					break;
			}
			fputs("250 2.0.0 queued as X1\r\n", out);
		} else if (strncmp(line, "BDAT ", 5) == 0) {
			size_t n = strtoul(line + 5, NULL, 10);
			char *buf = malloc(n + 1);
			if (fread(buf, 1, n, in) != n)
				_exit(1);
			if (write(out_fd, buf, n) < 0)
				_exit(1);
			free(buf);
			fputs("250 2.0.0 queued as X2\r\n", out);
		} else if (strncmp(line, "AUTH PLAIN ", 11) == 0) {
			fputs("235 2.7.0 ok\r\n", out);
		} else if (strncmp(line, "XCLIENT", 7) == 0) {
			fputs("220 relay.test ESMTP\r\n", out);
		} else if (strncmp(line, "RCPT TO:<bad", 12) == 0) {
			fputs("550 5.1.1 no such user\r\n", out);
		} else if (strncmp(line, "QUIT", 4) == 0) {
			fputs("221 2.0.0 bye\r\n", out);
			break;
		} else {
			fputs("250 2.0.0 ok\r\n", out);
		}
	}
	_exit(0);
}

struct session_ctx {
	struct ioloop *loop;
	struct smtp_client *client;
	string_t *log;		/* "status text|" per reply */
	int msg_fd;
	uint64_t msg_size;
	bool done;
};

static void log_reply(struct session_ctx *ctx, const struct smtp_reply *reply)
{
	str_printfa(ctx->log, "%u %s|", reply->status, reply->text);
}

static void msg_reply(const struct smtp_reply *reply, void *context)
{
	struct session_ctx *ctx = context;

	log_reply(ctx, reply);
	ctx->done = true;
	io_loop_stop(ctx->loop);
}

static void cmd_reply(const struct smtp_reply *reply, void *context)
{
	log_reply(context, reply);
}

static void ready(const struct smtp_reply *reply, void *context)
{
	struct session_ctx *ctx = context;

	str_printfa(ctx->log, "ready %u|", reply->status);
	if (reply->status != 250) {
		str_printfa(ctx->log, "%s|", reply->text);
		ctx->done = true;
		io_loop_stop(ctx->loop);
		return;
	}
	smtp_client_command(ctx->client, "MAIL FROM:<a@b>", cmd_reply, ctx);
	smtp_client_command(ctx->client, "RCPT TO:<c@d>", cmd_reply, ctx);
	smtp_client_command(ctx->client, "RCPT TO:<bad@d>", cmd_reply, ctx);
	smtp_client_send_message(ctx->client, "Received: x\r\n", ctx->msg_fd,
				 ctx->msg_size, msg_reply, ctx);
}

static void guard(void *context)
{
	struct session_ctx *ctx = context;

	io_loop_stop(ctx->loop);
}

/* Run one session; returns what the relay got, the client's log in
 * log_r. */
static char *run_session(const struct relay_script *script,
			 struct smtp_client_settings *set, const char *msg,
			 char **log_r)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), pipefd[2];
	struct session_ctx ctx;
	FILE *tmp = tmpfile();
	char buf[65536];
	string_t *got = str_new(1024);
	pid_t pid;
	ssize_t n;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		relay_child(lfd, pipefd[1], script);
	}
	close(lfd);
	close(pipefd[1]);
	fputs(msg, tmp);
	fflush(tmp);

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = io_loop_create();
	ctx.log = str_new(256);
	ctx.msg_fd = fileno(tmp);
	ctx.msg_size = strlen(msg);
	set->host = "127.0.0.1";
	set->port = ntohs(sin.sin_port);
	set->helo_name = "sub.test";
	set->connect_timeout_msecs = 5000;
	set->command_timeout_msecs = 5000;
	ctx.client = smtp_client_create(ctx.loop, set);
	smtp_client_connect(ctx.client, ready, &ctx);
	struct timeout *to = timeout_add(ctx.loop, 10000, guard, &ctx);
	io_loop_run(ctx.loop);
	timeout_remove(&to);
	ck_assert(ctx.done);
	smtp_client_destroy(&ctx.client);
	io_loop_destroy(&ctx.loop);
	while ((n = read(pipefd[0], buf, sizeof(buf))) > 0)
		str_append_n(got, buf, (size_t)n);
	close(pipefd[0]);
	(void)waitpid(pid, NULL, 0);
	fclose(tmp);
	*log_r = str_free_without_data(&ctx.log);
	return str_free_without_data(&got);
}

START_TEST(test_session_data)
{
	struct relay_script script = {
		.ehlo_caps = "250-SIZE 1000\r\n250 PIPELINING\r\n",
	};
	struct smtp_client_settings set;
	char *log, *got;

	memset(&set, 0, sizeof(set));
	got = run_session(&script, &set, "Subject: x\n\r\n.dot\r\nend", &log);
	ck_assert_str_eq(log, "ready 250|250 2.0.0 ok|250 2.0.0 ok|"
			 "550 5.1.1 no such user|250 2.0.0 queued as X1|");
	ck_assert_str_eq(got, "EHLO sub.test\r\nMAIL FROM:<a@b>\r\n"
			 "RCPT TO:<c@d>\r\nRCPT TO:<bad@d>\r\nDATA\r\n"
			 "Received: x\r\nSubject: x\r\n\r\n..dot\r\nend\r\n.\r\n"
			 "QUIT\r\n");
	free(log);
	free(got);
}
END_TEST

START_TEST(test_session_bdat_auth_xclient)
{
	struct relay_script script = {
		.ehlo_caps = "250-CHUNKING\r\n250-AUTH PLAIN\r\n"
			"250-XCLIENT ADDR HELO LOGIN\r\n250 PIPELINING\r\n",
	};
	struct smtp_client_settings set;
	char *log, *got;

	memset(&set, 0, sizeof(set));
	set.user = "alice";
	set.master_user = "master";
	set.password = "pw";
	set.xclient = true;
	set.xclient_addr = "192.0.2.1";
	set.xclient_helo = "client host";
	set.xclient_login = "alice";
	got = run_session(&script, &set, ".dot\n", &log);
	ck_assert_str_eq(log, "ready 250|250 2.0.0 ok|250 2.0.0 ok|"
			 "550 5.1.1 no such user|250 2.0.0 queued as X2|");
	/* "alice\0master\0pw" */
	ck_assert_str_eq(got, "EHLO sub.test\r\n"
			 "AUTH PLAIN YWxpY2UAbWFzdGVyAHB3\r\n"
			 "XCLIENT HELO=client+20host LOGIN=alice ADDR=192.0.2.1\r\n"
			 "EHLO sub.test\r\n"
			 "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<bad@d>\r\n"
			 "BDAT 19 LAST\r\nReceived: x\r\n.dot\r\nQUIT\r\n");
	free(log);
	free(got);
}
END_TEST

START_TEST(test_session_hangup)
{
	struct relay_script script = { .hang_up_after_greeting = true };
	struct smtp_client_settings set;
	char *log, *got;

	memset(&set, 0, sizeof(set));
	got = run_session(&script, &set, "x\r\n", &log);
	ck_assert_str_eq(log, "ready 0|connection lost|");
	free(log);
	free(got);
}
END_TEST

static void refused_ready(const struct smtp_reply *reply, void *context)
{
	struct session_ctx *ctx = context;

	str_printfa(ctx->log, "%u %s", reply->status, reply->text);
	io_loop_stop(ctx->loop);
}

START_TEST(test_connect_refused)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct smtp_client_settings set;
	struct session_ctx ctx;
	char *expect;

	/* a port nobody listens on: bound, never listening */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memset(&set, 0, sizeof(set));
	memset(&ctx, 0, sizeof(ctx));
	set.host = "127.0.0.1";
	set.port = ntohs(sin.sin_port);
	set.connect_timeout_msecs = 5000;
	ctx.loop = io_loop_create();
	ctx.log = str_new(128);
	ctx.client = smtp_client_create(ctx.loop, &set);
	smtp_client_connect(ctx.client, refused_ready, &ctx);
	struct timeout *to = timeout_add(ctx.loop, 10000, guard, &ctx);
	io_loop_run(ctx.loop);
	timeout_remove(&to);
	expect = i_strdup_printf("0 connect(127.0.0.1:%u) failed: "
				 "Connection refused", set.port);
	ck_assert_str_eq(str_c(ctx.log), expect);
	i_free(expect);
	smtp_client_destroy(&ctx.client);
	io_loop_destroy(&ctx.loop);
	str_free(&ctx.log);
	close(fd);
}
END_TEST

Suite *make_smtp_client_suite(void)
{
	Suite *s = suite_create("smtp_client");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_reply_line);
	tcase_add_test(tc, test_enhanced);
	tcase_add_test(tc, test_ehlo_line);
	tcase_add_test(tc, test_dot_stuff);
	tcase_add_test(tc, test_crlf_convert);
	tcase_add_test(tc, test_session_data);
	tcase_add_test(tc, test_session_bdat_auth_xclient);
	tcase_add_test(tc, test_session_hangup);
	tcase_add_test(tc, test_connect_refused);
	suite_add_tcase(s, tc);
	return s;
}

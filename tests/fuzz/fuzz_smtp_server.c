/* fuzz_smtp_server.c - libFuzzer harness for daemon/smtp: every input
 * line is first given to the path and parameter parsers directly, then
 * the whole input is a session of the server state machine on one end
 * of a socketpair (written in chunks that vary with the input, then
 * EOF). The first byte picks SMTP or LMTP, all extensions or none,
 * synchronous or asynchronous callbacks and a small line limit. A
 * session still running after the tick budget is ended as a shutdown
 * would end it. */
#include "lib.h"
#include "ioloop.h"
#include "smtp-syntax.h"
#include "smtp-server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define FUZZ_MAX_TICKS 3000

struct fuzz_ctx {
	struct ioloop *loop;
	struct smtp_server_conn *conn;
	int fd;
	struct timeout *tick, *to_async;
	const uint8_t *out;
	size_t out_left, chunk;
	unsigned int ticks;
	bool async, done;
	enum smtp_server_result async_result;
};

static struct fuzz_ctx *fctx;

static void fuzz_async_done(void *context)
{
	struct fuzz_ctx *ctx = context;

	timeout_remove(&ctx->to_async);
	if (ctx->conn != NULL)
		smtp_server_command_finish(ctx->conn, ctx->async_result);
}

static enum smtp_server_result
fuzz_result(struct fuzz_ctx *ctx, enum smtp_server_result result)
{
	if (!ctx->async || ctx->to_async != NULL)
		return result;
	ctx->async_result = result;
	ctx->to_async = timeout_add(ctx->loop, 0, fuzz_async_done, ctx);
	return SMTP_SERVER_ASYNC;
}

static void fuzz_helo(struct smtp_server_conn *conn ATTR_UNUSED,
		      void *context ATTR_UNUSED, const char *verb ATTR_UNUSED,
		      const char *domain ATTR_UNUSED, string_t *extra)
{
	str_append(extra, "AUTH PLAIN LOGIN\nBURL imap");
}

static enum smtp_server_result
fuzz_rcpt(struct smtp_server_conn *conn, void *context,
	  struct smtp_server_transaction *t ATTR_UNUSED,
	  struct smtp_server_recipient *rcpt)
{
	if (rcpt->path.localpart[0] == 'x') {
		smtp_server_reply(conn, 550, "5.1.1", "<%s> no", rcpt->address);
		return fuzz_result(context, SMTP_SERVER_REPLIED_FAIL);
	}
	return fuzz_result(context, SMTP_SERVER_ACCEPT);
}

static enum smtp_server_result
fuzz_data(struct smtp_server_conn *conn, void *context,
	  struct smtp_server_transaction *t)
{
	char buf[4096];
	uint64_t total = 0;
	ssize_t n;

	while ((n = read(t->data_fd, buf, sizeof(buf))) > 0)
		total += (uint64_t)n;
	if (total != t->data_size)
		abort();
	for (unsigned int i = 0; i < t->rcpt_count; i++)
		smtp_server_reply(conn, 250, "2.0.0", "<%s> Saved",
				  t->rcpts[i]->address);
	return fuzz_result(context, SMTP_SERVER_REPLIED_OK);
}

static enum smtp_server_result
fuzz_other(struct smtp_server_conn *conn, void *context, const char *verb,
	   const char *args ATTR_UNUSED)
{
	if (strcmp(verb, "STARTTLS") == 0) {
		smtp_server_conn_reset(conn);
		smtp_server_reply(conn, 220, "2.0.0", "Begin TLS");
		return fuzz_result(context, SMTP_SERVER_REPLIED_OK);
	}
	return fuzz_result(context, SMTP_SERVER_UNKNOWN);
}

static void fuzz_disconnected(struct smtp_server_conn *conn ATTR_UNUSED,
			      void *context, const char *reason ATTR_UNUSED)
{
	struct fuzz_ctx *ctx = context;

	timeout_remove(&ctx->to_async);
	smtp_server_conn_free(&ctx->conn);
	ctx->done = true;
	io_loop_stop(ctx->loop);
}

static const struct smtp_server_callbacks fuzz_callbacks = {
	.helo = fuzz_helo,
	.cmd_rcpt = fuzz_rcpt,
	.data = fuzz_data,
	.cmd_other = fuzz_other,
	.disconnected = fuzz_disconnected,
};

static void fuzz_tick(void *context)
{
	struct fuzz_ctx *ctx = context;
	char buf[65536];

	while (read(ctx->fd, buf, sizeof(buf)) > 0)
		;
	if (ctx->out_left > 0) {
		size_t n = MIN(ctx->chunk, ctx->out_left);
		ssize_t ret = write(ctx->fd, ctx->out, n);

		if (ret > 0) {
			ctx->out += ret;
			ctx->out_left -= (size_t)ret;
		}
		if (ctx->out_left == 0)
			shutdown(ctx->fd, SHUT_WR);
	}
	if (++ctx->ticks > FUZZ_MAX_TICKS)
		io_loop_stop(ctx->loop);
}

/* The parsers on their own, line by line. */
static void fuzz_syntax(const uint8_t *data, size_t size)
{
	pool_t pool = pool_create("fuzz", 1024);
	char *copy = i_strndup((const char *)data, size);
	char *line = copy;

	while (line != NULL) {
		char *nl = strchr(line, '\n'), verb[32];
		const char *rest, *error, *args;
		struct smtp_address addr;
		struct smtp_params_mail mp;
		struct smtp_params_rcpt rp;
		string_t *str = str_new(64);

		if (nl != NULL)
			*nl = '\0';
		if (smtp_path_parse(pool, line, true, &addr, &rest, &error) == 0) {
			(void)smtp_address_encode(pool, &addr);
			(void)smtp_params_mail_parse(pool, rest, ~0u, &mp, &error);
			(void)smtp_params_rcpt_parse(pool, rest, ~0u, &rp, &error);
		}
		(void)smtp_command_split(line, verb, sizeof(verb), &args);
		(void)smtp_xtext_decode(pool, line, strlen(line), &rest);
		smtp_xtext_encode(str, line);
		smtp_reply_append(str, 250, "2.0.0", line);
		str_free(&str);
		line = nl == NULL ? NULL : nl + 1;
	}
	free(copy);
	pool_destroy(&pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_server_settings set = {
		.hostname = "mx.fuzz",
		.greeting = "ready.",
		.temp_dir = "/tmp",
		.idle_timeout_msecs = 200,
	};
	struct fuzz_ctx ctx;
	int sv[2];
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	fuzz_syntax(data, size);

	memset(&ctx, 0, sizeof(ctx));
	set.protocol = (mode & 1) != 0 ? SMTP_SERVER_PROTOCOL_LMTP :
		SMTP_SERVER_PROTOCOL_SMTP;
	set.capabilities = (mode & 2) != 0 ? ~0u : SMTP_CAP_PIPELINING;
	if ((mode & 4) != 0)
		set.max_command_line = 64;
	if ((mode & 8) != 0) {
		set.max_message_size = 100;
		set.max_recipients = 2;
	}
	ctx.async = (mode & 16) != 0;
	ctx.chunk = (size_t)61 << (mode >> 5);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
	ctx.loop = io_loop_create();
	ctx.fd = sv[1];
	ctx.out = data;
	ctx.out_left = size;
	fctx = &ctx;
	ctx.conn = smtp_server_conn_create(ctx.loop, sv[0], &set,
					   &fuzz_callbacks, &ctx);
	if (size == 0)
		shutdown(ctx.fd, SHUT_WR);
	ctx.tick = timeout_add(ctx.loop, 0, fuzz_tick, &ctx);
	io_loop_run(ctx.loop);
	timeout_remove(&ctx.tick);
	timeout_remove(&ctx.to_async);
	smtp_server_conn_free(&ctx.conn);
	close(ctx.fd);
	io_loop_destroy(&ctx.loop);
	return 0;
}

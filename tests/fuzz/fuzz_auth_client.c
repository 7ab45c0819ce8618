/* fuzz_auth_client.c - libFuzzer harness for the auth-client protocol
 * (what Postfix and the login processes send to auth-client/auth-login):
 * a real auth service (static passdb and userdb) and ioloop, a socketpair,
 * auth_client_connection on one end and the fuzz input written into the
 * other; the loop runs until the server has read everything and gone
 * quiet, then everything is destroyed.
 *
 * Input: byte 0 is a header, the rest is what the client sends.
 *   bit 0     the socket is a login socket (auth-login: OK'd requests are
 *             kept for a master REQUEST until the connection ends)
 *   bit 1     shut down the client's write side after the input (EOF)
 *   bits 2-7  0: write the input at once; n: write it n bytes per loop
 *             round for the first 64 rounds (lines split anywhere)
 * Every line the server sends back must be one of the protocol's replies
 * (VERSION MECH SPID CUID COOKIE DONE OK CONT FAIL, ids numeric): a value
 * that smuggles a TAB or LF into a reply aborts. */
#include "lib.h"
#include "ioloop.h"
#include "config-parser.h"
#include "config-bind.h"
#include "auth.h"
#include "auth-client-connection.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#define FUZZ_MAX_INPUT (64 * 1024)
#define FUZZ_CHUNKED_ROUNDS 64
#define FUZZ_TICK_MSECS 1
#define FUZZ_IDLE_TICKS 2
#define FUZZ_MAX_TICKS 200	/* a penalty or delay timer is not waited */

static const char fuzz_config[] =
	"auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 "
	"scram-sha-256 anonymous external\n"
	"auth_failure_delay = 0\n"
	"auth_verbose = yes\n"
	"auth_debug = yes\n"
	"auth_realms = example.com example.org\n"
	"auth_master_user_separator = *\n"
	"passdb {\n"
	"  driver = static\n"
	"  args = password=secret\n"
	"}\n"
	"userdb {\n"
	"  driver = static\n"
	"  args = uid=1000 gid=1000 home=/nonexistent/%u\n"
	"}\n";

struct fuzz_ctx {
	struct ioloop *loop;
	int fd;			/* the client's end */
	struct io *io;
	struct timeout *tick;
	const uint8_t *out;	/* input not yet written */
	size_t out_left, chunk;
	unsigned int rounds, ticks, idle;
	bool shutdown_after, activity, eof;
	char line[512];		/* start of the current reply line */
	size_t line_len;
	bool line_long;
};

static const struct settings_root *fuzz_settings(void)
{
	/* parsed once, kept for the whole run */
	static const struct settings_root *set;
	static struct config *config;
	static pool_t pool;
	struct config_node *root;
	const char *error;

	if (set != NULL)
		return set;
	pool = pool_create("fuzz auth settings", 16 * 1024);
	struct config_filter filter = { .protocol = "auth" };

	if (config_parse_string("fuzz-auth.conf", fuzz_config, 0, &config,
				&error) < 0 ||
	    config_get_merged_pool(config, &filter, pool, &root, &error) < 0 ||
	    (set = config_bind(pool, root, &error)) == NULL)
		i_panic("fuzz config: %s", error);
	return set;
}

/* A reply line is complete: check it is one the protocol has. */
static void fuzz_check_line(struct fuzz_ctx *ctx)
{
	static const char *const words[] = {
		"VERSION", "MECH", "SPID", "CUID", "COOKIE", "DONE",
		"OK", "CONT", "FAIL", NULL
	};
	const char *line = ctx->line, *tab = strchr(line, '\t');
	size_t wlen = tab == NULL ? strlen(line) : (size_t)(tab - line);
	unsigned int i;

	for (i = 0; words[i] != NULL; i++) {
		if (strlen(words[i]) == wlen &&
		    memcmp(words[i], line, wlen) == 0)
			break;
	}
	if (words[i] == NULL || memchr(line, '\0', ctx->line_len) != NULL)
		abort();
	if (i >= 6) {
		/* OK/CONT/FAIL <id>: digits */
		const char *p = tab + 1;

		if (tab == NULL || *p < '0' || *p > '9')
			abort();
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p != '\0' && *p != '\t')
			abort();
	}
}

static void fuzz_reply_bytes(struct fuzz_ctx *ctx, const char *data,
			     size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n') {
			if (!ctx->line_long) {
				ctx->line[ctx->line_len] = '\0';
				fuzz_check_line(ctx);
			}
			ctx->line_len = 0;
			ctx->line_long = false;
		} else if (ctx->line_len < sizeof(ctx->line) - 1) {
			ctx->line[ctx->line_len++] = data[i];
		} else {
			ctx->line_long = true;	/* the head was checked */
		}
	}
}

static void fuzz_client_input(void *context)
{
	struct fuzz_ctx *ctx = context;
	char buf[8192];
	ssize_t ret = read(ctx->fd, buf, sizeof(buf));

	if (ret > 0) {
		ctx->activity = true;
		fuzz_reply_bytes(ctx, buf, (size_t)ret);
		return;
	}
	if (ret < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* the server closed the connection: nothing more can happen */
	ctx->eof = true;
	io_remove(&ctx->io);
	io_loop_stop(ctx->loop);
}

static void fuzz_write_some(struct fuzz_ctx *ctx)
{
	size_t n = ctx->out_left;
	ssize_t ret;

	if (n == 0)
		return;
	if (ctx->chunk > 0 && ctx->rounds++ < FUZZ_CHUNKED_ROUNDS)
		n = MIN(n, ctx->chunk);
	ret = send(ctx->fd, ctx->out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (ret > 0) {
		ctx->out += ret;
		ctx->out_left -= (size_t)ret;
		ctx->activity = true;
	} else if (ret < 0 && errno != EAGAIN && errno != EINTR) {
		ctx->out_left = 0;	/* the server is gone */
	}
	if (ctx->out_left == 0 && ctx->shutdown_after)
		(void)shutdown(ctx->fd, SHUT_WR);
}

/* Once per millisecond: feed more input; stop when the server has read
 * all of it and nothing moved for FUZZ_IDLE_TICKS rounds. */
static void fuzz_tick(void *context)
{
	struct fuzz_ctx *ctx = context;
	int unread = 0;

	fuzz_write_some(ctx);
	/* bytes sent but not yet read by the server */
	if (ioctl(ctx->fd, SIOCOUTQ, &unread) < 0)
		unread = 0;
	if (ctx->activity || unread > 0 || ctx->out_left > 0)
		ctx->idle = 0;
	else
		ctx->idle++;
	ctx->activity = false;
	if (ctx->idle >= FUZZ_IDLE_TICKS || ++ctx->ticks >= FUZZ_MAX_TICKS)
		io_loop_stop(ctx->loop);
}

static void quiet(enum log_type type ATTR_UNUSED, const char *line,
		  void *context ATTR_UNUSED)
{
	(void)strlen(line);	/* a whole string */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct settings_root *set;
	struct fuzz_ctx ctx = { 0 };
	struct auth *auth;
	const char *error;
	pool_t pool;
	int fds[2];

	if (size < 1 || size > FUZZ_MAX_INPUT + 1)
		return 0;
	log_set_capture(quiet, NULL);
	set = fuzz_settings();
	pool = pool_create("fuzz auth", 16 * 1024);
	ctx.loop = io_loop_create();
	if (auth_init(pool, ctx.loop, set, &auth, &error) < 0)
		i_panic("auth_init: %s", error);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		i_panic("socketpair: %s", strerror(errno));

	ctx.fd = fds[1];
	ctx.shutdown_after = (data[0] & 0x02) != 0;
	ctx.chunk = data[0] >> 2;
	ctx.out = data + 1;
	ctx.out_left = size - 1;
	(void)auth_client_connection_create(auth, fds[0],
					    (data[0] & 0x01) != 0);
	ctx.io = io_add(ctx.loop, ctx.fd, IO_READ, fuzz_client_input, &ctx);
	fuzz_write_some(&ctx);
	ctx.tick = timeout_add(ctx.loop, FUZZ_TICK_MSECS, fuzz_tick, &ctx);
	io_loop_run(ctx.loop);

	/* the connection may have ended itself; destroy what is left */
	auth_client_connections_destroy_all();
	timeout_remove(&ctx.tick);
	if (ctx.io != NULL)
		io_remove(&ctx.io);
	close(ctx.fd);
	auth_deinit(&auth);
	io_loop_destroy(&ctx.loop);
	pool_destroy(&pool);
	log_set_capture(NULL, NULL);
	return 0;
}

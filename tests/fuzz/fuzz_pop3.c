/* fuzz_pop3.c - libFuzzer harness for the logged-in POP3 session: a
 * real Maildir (made once, refilled when DELE+QUIT emptied it), a real
 * ioloop and pop3_client on one end of a socketpair, the fuzz input
 * written into the other end (then EOF) while the replies are read and
 * dropped. Sanitizers catch memory errors; a session that doesn't end
 * within the tick budget is ended as a server shutdown would end it
 * (exercising that path too). */
#include "lib.h"
#include "ioloop.h"
#include "config-parser.h"
#include "config-bind.h"
#include "mail-storage.h"
#include "pop3-client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define FUZZ_MAX_TICKS 400

static struct settings_root *set;
static struct config *config;
static pool_t pool;
static struct mail_user *user;
static char dir[] = "/tmp/roost-fuzz-pop3.XXXXXX";

struct fuzz_ctx {
	struct ioloop *loop;
	int fd;
	struct io *io;
	struct timeout *tick;
	const uint8_t *out;
	size_t out_left;
	unsigned int ticks;
	bool done;
};

static void fill_mailbox(void)
{
	static const char *const msgs[] = {
		"Subject: a\n\nbody\n.\n..x\n",
		"Subject: b\r\n\r\nline\r\n",
		"no header end",
	};
	struct mailbox *box = mailbox_alloc(user, "INBOX", 0);

	if (mailbox_open(box) < 0 || mailbox_sync(box, 0, NULL, NULL) < 0)
		abort();
	for (uint32_t i = mailbox_count(box); i < N_ELEMENTS(msgs); i++) {
		struct mailbox_transaction *t = mailbox_transaction_begin(box);
		struct mail_save_context *ctx = mailbox_save_alloc(t);

		if (mailbox_save_begin(ctx) < 0 ||
		    mailbox_save_continue(ctx, msgs[i], strlen(msgs[i])) < 0 ||
		    mailbox_save_finish(&ctx) < 0 ||
		    mailbox_transaction_commit(&t, NULL) < 0)
			abort();
	}
	mailbox_free(&box);
}

static void fuzz_init(void)
{
	struct mail_user_info info;
	const char *error;
	char *conf;

	if (mkdtemp(dir) == NULL)
		abort();
	conf = i_strdup_printf("mail_location = maildir:%s/Maildir\n"
			       "pop3_enable_last = yes\n"
			       "pop3_client_workarounds = outlook-no-nuls\n", dir);
	if (config_parse_string("fuzz.conf", conf, 0, &config, &error) < 0)
		abort();
	pool = pool_create("fuzz", 4096);
	set = config_bind(pool, config->blocks[0]->root, &error);
	if (set == NULL)
		abort();
	memset(&info, 0, sizeof(info));
	info.username = "fuzz";
	info.home = dir;
	info.uid = getuid();
	info.gid = getgid();
	if (mail_user_init(set, &info, &user, &error) < 0)
		abort();
	log_set_capture(NULL, NULL);
	i_free(conf);
}

static void client_gone(void *context)
{
	struct fuzz_ctx *ctx = context;

	ctx->done = true;
}

static void fuzz_io(void *context)
{
	struct fuzz_ctx *ctx = context;
	char buf[8192];
	ssize_t n;

	if (ctx->out_left > 0) {
		n = write(ctx->fd, ctx->out, ctx->out_left);
		if (n > 0) {
			ctx->out += n;
			ctx->out_left -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN) {
			ctx->out_left = 0;
		}
		if (ctx->out_left == 0)
			(void)shutdown(ctx->fd, SHUT_WR);
	}
	while ((n = read(ctx->fd, buf, sizeof(buf))) > 0)
		;
	if (n == 0)
		ctx->done = true;
	io_set_condition(ctx->io, ctx->out_left > 0 ? IO_READ | IO_WRITE :
			 IO_READ);
}

static void fuzz_tick(void *context)
{
	struct fuzz_ctx *ctx = context;

	if (ctx->done || ++ctx->ticks >= FUZZ_MAX_TICKS)
		io_loop_stop(ctx->loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialized;
	struct fuzz_ctx ctx;
	struct pop3_client *client;
	const char *error;
	int sv[2];

	if (!initialized) {
		fuzz_init();
		initialized = true;
	}
	if (size > 64 * 1024)
		return 0;
	fill_mailbox();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = io_loop_create();
	ctx.fd = sv[1];
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
	ctx.out = data;
	ctx.out_left = size;
	client = pop3_client_create(ctx.loop, sv[0], user, set, "fuzz",
				    POP3_CLIENT_SEND_LOGGED_IN, client_gone,
				    &ctx, &error);
	if (client == NULL)
		abort();
	if (size == 0)
		(void)shutdown(sv[1], SHUT_WR);
	ctx.io = io_add(ctx.loop, sv[1], IO_READ | IO_WRITE, fuzz_io, &ctx);
	ctx.tick = timeout_add(ctx.loop, 1, fuzz_tick, &ctx);
	io_loop_run(ctx.loop);
	if (!ctx.done) {
		/* still streaming (e.g. a huge LIST): end it like a server
		   shutdown would */
		close(sv[1]);
		sv[1] = -1;
		pop3_client_destroy(client, NULL);
	}
	io_remove(&ctx.io);
	timeout_remove(&ctx.tick);
	io_loop_destroy(&ctx.loop);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}

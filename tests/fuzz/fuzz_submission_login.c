/* fuzz_submission_login.c - libFuzzer harness for SMTP submission before
 * login: the real submission-login (daemon/login/submission-login.c on
 * login-common and the daemon/smtp server) in one login worker, with a
 * fake auth service on the auth socket (PLAIN and LOGIN; a request with
 * an initial response fails, one without gets a "334" continuation
 * whose answer fails) and a loopback listener. Each input is what one
 * client sends (then EOF); the replies are read and dropped.
 * Sanitizers catch memory errors, LeakSanitizer a client that is never
 * freed. */
#include "lib.h"
#include "ioloop.h"
#include "config-parser.h"
#include "config-bind.h"
#include "login-common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FUZZ_MAX_TICKS 300

extern const struct login_protocol submission_login_protocol;

static struct login_worker *worker;
static int auth_fd = -1;
static struct io *auth_io;
static char auth_buf[65536];
static size_t auth_len;
static unsigned int listen_port;

struct fuzz_ctx {
	int fd;
	struct io *io;
	struct timeout *tick;
	const uint8_t *out;
	size_t out_left;
	unsigned int ticks;
	bool done;
};

static void auth_write(const char *line)
{
	if (write(auth_fd, line, strlen(line)) < 0)
		abort();
}

/* The fake auth service: AUTH with resp= fails, without it continues;
 * CONT fails. */
static void auth_input(void *context ATTR_UNUSED)
{
	ssize_t n = read(auth_fd, auth_buf + auth_len,
			 sizeof(auth_buf) - auth_len - 1);
	char *line, *nl;

	if (n <= 0)
		return;
	auth_len += (size_t)n;
	auth_buf[auth_len] = '\0';
	line = auth_buf;
	while ((nl = strchr(line, '\n')) != NULL) {
		char reply[64];
		unsigned long id;

		*nl = '\0';
		if (strncmp(line, "AUTH\t", 5) == 0) {
			id = strtoul(line + 5, NULL, 10);
			if (strstr(line, "\tresp=") != NULL)
				snprintf(reply, sizeof(reply), "FAIL\t%lu\tuser=fuzz\n", id);
			else
				snprintf(reply, sizeof(reply), "CONT\t%lu\t\n", id);
			auth_write(reply);
		} else if (strncmp(line, "CONT\t", 5) == 0) {
			id = strtoul(line + 5, NULL, 10);
			snprintf(reply, sizeof(reply), "FAIL\t%lu\n", id);
			auth_write(reply);
		}
		line = nl + 1;
	}
	auth_len -= (size_t)(line - auth_buf);
	memmove(auth_buf, line, auth_len);
}

static void wait_ready(void *context ATTR_UNUSED)
{
	if (worker->auth_ready)
		io_loop_stop(worker->loop);
}

static void fuzz_init(void)
{
	static char dir[] = "/tmp/roost-fuzz-sublogin.XXXXXX";
	struct settings_root *set;
	struct config *config;
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	const char *error;
	pool_t pool;
	int lfd, sv[2], tcp;
	char *path;

	if (mkdtemp(dir) == NULL)
		abort();
	if (config_parse_string("fuzz.conf", "ssl = no\n"
				"auth_mechanisms = plain login\n"
				"hostname = fuzz.test\n"
				"submission_max_mail_size = 1k\n",
				0, &config, &error) < 0)
		abort();
	pool = pool_create("fuzz", 4096);
	set = config_bind(pool, config->blocks[0]->root, &error);
	if (set == NULL)
		abort();
	/* the auth socket: connect() succeeds on the backlog, the harness
	   accepts afterwards */
	path = i_strdup_printf("%s/auth", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(lfd, 1) < 0)
		abort();
	log_set_capture(NULL, NULL);
	login_worker_init(&submission_login_protocol, set, path);
	auth_fd = accept(lfd, NULL, NULL);
	if (auth_fd < 0)
		abort();
	close(lfd);
	i_free(path);
	auth_write("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
		   "MECH\tLOGIN\tplaintext\nCOOKIE\tabc\nDONE\n");
	/* fd 3: the master's control socket, fd 4: the listener */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 ||
	    dup2(sv[0], LOGIN_CONTROL_FD) < 0)
		abort();
	tcp = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(tcp, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(tcp, 16) < 0 ||
	    getsockname(tcp, (struct sockaddr *)&sin, &len) < 0 ||
	    dup2(tcp, LOGIN_FIRST_LISTENER_FD) < 0)
		abort();
	close(tcp);
	listen_port = ntohs(sin.sin_port);
	worker = login_worker_get();
	auth_io = io_add(worker->loop, auth_fd, IO_READ, auth_input, NULL);
	/* login_worker_run() sets up and runs the loop: stop it once the
	   auth handshake is done; inputs run the loop again */
	struct timeout *to = timeout_add(worker->loop, 5, wait_ready, NULL);
	(void)login_worker_run(1, "0");
	timeout_remove(&to);
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
	if (n == 0 || (n < 0 && errno != EAGAIN))
		ctx->done = true;
	io_set_condition(ctx->io, ctx->out_left > 0 ? IO_READ | IO_WRITE :
			 IO_READ);
}

static void fuzz_tick(void *context)
{
	struct fuzz_ctx *ctx = context;

	if (ctx->done || ++ctx->ticks >= FUZZ_MAX_TICKS)
		io_loop_stop(worker->loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialized;
	struct sockaddr_in sin;
	struct fuzz_ctx ctx;

	if (!initialized) {
		fuzz_init();
		initialized = true;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)listen_port);
	if (connect(ctx.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		abort();
	(void)fcntl(ctx.fd, F_SETFL, O_NONBLOCK);
	ctx.out = data;
	ctx.out_left = size;
	if (size == 0)
		(void)shutdown(ctx.fd, SHUT_WR);
	ctx.io = io_add(worker->loop, ctx.fd, IO_READ | IO_WRITE, fuzz_io, &ctx);
	ctx.tick = timeout_add(worker->loop, 1, fuzz_tick, &ctx);
	io_loop_run(worker->loop);
	io_remove(&ctx.io);
	timeout_remove(&ctx.tick);
	close(ctx.fd);
	/* let the worker see the close and free the client */
	ctx.done = false;
	ctx.ticks = FUZZ_MAX_TICKS - 20;
	ctx.tick = timeout_add(worker->loop, 1, fuzz_tick, &ctx);
	io_loop_run(worker->loop);
	timeout_remove(&ctx.tick);
	return 0;
}

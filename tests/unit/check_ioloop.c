/* check_ioloop.c - unit tests of lib/ioloop.h: fd readiness on pipes and
 * socketpairs, changing the condition, removing ios from inside
 * callbacks (run under ASan to catch use-after-free), timer ordering,
 * repeating timers, timeout_reset, io_loop_stop and signals through
 * signalfd. */
#include "suites.h"
#include "ioloop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Every test stays well below this; a test that reaches it has hung. */
#define GUARD_MSECS 5000

static struct ioloop *loop;
static bool guard_fired;

static void setup(void)
{
	loop = io_loop_create();
	guard_fired = false;
}

static void teardown(void)
{
	if (loop != NULL)
		io_loop_destroy(&loop);
}

static void guard_cb(void *context ATTR_UNUSED)
{
	guard_fired = true;
	io_loop_stop(loop);
}

/* Run until a callback stops the loop; false if msecs passed first. */
static bool run_loop_max(unsigned int msecs)
{
	struct timeout *guard = timeout_add(loop, msecs, guard_cb, NULL);

	guard_fired = false;
	io_loop_run(loop);
	timeout_remove(&guard);
	return !guard_fired;
}

static bool run_loop(void)
{
	return run_loop_max(GUARD_MSECS);
}

/* Run the loop for msecs whatever happens (to see that nothing does). */
static void run_for(unsigned int msecs)
{
	(void)run_loop_max(msecs);
}

static void make_pipe(int fds[2])
{
	ck_assert_int_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void write_all(int fd, const char *data)
{
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
}

/* ---- ios ---- */

struct io_ctx {
	int fd;
	struct io *io;
	unsigned int calls;
	bool stop;		/* stop the loop when called */
	bool remove_self;
	struct io_ctx *other;	/* remove this one's io when called */
	char buf[64];
	size_t len;
};

static void io_ctx_cb(void *context)
{
	struct io_ctx *ctx = context;
	ssize_t ret;

	ctx->calls++;
	ret = read(ctx->fd, ctx->buf + ctx->len,
		   sizeof(ctx->buf) - 1 - ctx->len);
	if (ret > 0) {
		ctx->len += (size_t)ret;
		ctx->buf[ctx->len] = '\0';
	}
	if (ctx->other != NULL)
		io_remove(&ctx->other->io);
	if (ctx->remove_self)
		io_remove(&ctx->io);
	if (ctx->stop)
		io_loop_stop(loop);
}

START_TEST(test_io_read_pipe)
{
	struct io_ctx ctx = { .stop = true };
	int fds[2];

	make_pipe(fds);
	ctx.fd = fds[0];
	ctx.io = io_add(loop, fds[0], IO_READ, io_ctx_cb, &ctx);

	/* nothing to read: the callback is not called */
	run_for(30);
	ck_assert_uint_eq(ctx.calls, 0);

	write_all(fds[1], "hello");
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 1);
	ck_assert_str_eq(ctx.buf, "hello");

	/* everything was read: quiet again */
	run_for(30);
	ck_assert_uint_eq(ctx.calls, 1);

	write_all(fds[1], " again");
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 2);
	ck_assert_str_eq(ctx.buf, "hello again");

	io_remove(&ctx.io);
	ck_assert_ptr_null(ctx.io);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* Level-triggered: unread data keeps calling the callback. */
START_TEST(test_io_level_triggered)
{
	struct io_ctx ctx = { 0 };
	int fds[2];
	unsigned int calls;
	char c;

	make_pipe(fds);
	write_all(fds[1], "x");
	/* a callback that reads nothing */
	ctx.fd = -1;
	ctx.io = io_add(loop, fds[0], IO_READ, io_ctx_cb, &ctx);
	run_for(30);
	ck_assert_uint_gt(ctx.calls, 1);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	calls = ctx.calls;
	run_for(30);
	ck_assert_uint_le(ctx.calls, calls + 1);
	io_remove(&ctx.io);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

struct cond_ctx {
	struct io *io;
	unsigned int calls;
};

static void cond_cb(void *context)
{
	struct cond_ctx *ctx = context;

	ctx->calls++;
	io_loop_stop(loop);
}

START_TEST(test_io_set_condition)
{
	struct cond_ctx ctx = { 0 };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv), 0);
	ctx.io = io_add(loop, sv[0], IO_READ, cond_cb, &ctx);
	/* nothing to read */
	run_for(30);
	ck_assert_uint_eq(ctx.calls, 0);

	/* an empty socket buffer is writable at once */
	io_set_condition(ctx.io, IO_WRITE);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 1);

	/* the same condition again changes nothing */
	io_set_condition(ctx.io, IO_WRITE);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 2);

	/* back to reading: quiet until the peer writes */
	io_set_condition(ctx.io, IO_READ);
	run_for(30);
	ck_assert_uint_eq(ctx.calls, 2);
	write_all(sv[1], "x");
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 3);

	io_set_condition(ctx.io, IO_READ | IO_WRITE);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 4);

	io_remove(&ctx.io);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* The callback removes its own io while its fd stays readable. */
START_TEST(test_io_remove_self)
{
	struct io_ctx ctx = { .remove_self = true };
	int fds[2];

	make_pipe(fds);
	write_all(fds[1], "more than one read of data");
	ctx.fd = -1;	/* read nothing: the fd stays readable */
	ctx.io = io_add(loop, fds[0], IO_READ, io_ctx_cb, &ctx);
	run_for(50);
	ck_assert_uint_eq(ctx.calls, 1);
	ck_assert_ptr_null(ctx.io);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* Two ios ready in the same epoll batch; whichever runs first removes
 * the other (and itself). The other must not be called with a freed io. */
START_TEST(test_io_remove_other_same_batch)
{
	struct io_ctx a = { .remove_self = true }, b = { .remove_self = true };
	int fa[2], fb[2];

	make_pipe(fa);
	make_pipe(fb);
	write_all(fa[1], "a");
	write_all(fb[1], "b");
	a.fd = fa[0];
	b.fd = fb[0];
	a.other = &b;
	b.other = &a;
	a.io = io_add(loop, fa[0], IO_READ, io_ctx_cb, &a);
	b.io = io_add(loop, fb[0], IO_READ, io_ctx_cb, &b);
	run_for(50);
	ck_assert_uint_eq(a.calls + b.calls, 1);
	ck_assert_ptr_null(a.io);
	ck_assert_ptr_null(b.io);
	close(fa[0]);
	close(fa[1]);
	close(fb[0]);
	close(fb[1]);
}
END_TEST

/* Remove another ready io, close its fd and add a new io (which may
 * get the same fd number) in the same batch. */
struct replace_ctx {
	struct io *io_a, *io_b, *io_new;
	int fa[2], fb[2], fnew[2];
	unsigned int old_calls, new_calls;
};

static void replace_new_cb(void *context)
{
	struct replace_ctx *ctx = context;
	char buf[16];

	ctx->new_calls++;
	ck_assert_int_eq(read(ctx->fnew[0], buf, sizeof(buf)), 3);
	io_remove(&ctx->io_new);
	io_loop_stop(loop);
}

static void replace_old_cb(void *context)
{
	struct replace_ctx *ctx = context;

	/* first callback of the batch: remove both old ios, close their
	   fds, open a new pipe (likely reusing a closed fd number) and
	   watch it */
	ctx->old_calls++;
	io_remove(&ctx->io_a);
	io_remove(&ctx->io_b);
	close(ctx->fa[0]);
	close(ctx->fb[0]);
	make_pipe(ctx->fnew);
	ctx->io_new = io_add(loop, ctx->fnew[0], IO_READ, replace_new_cb,
			     ctx);
	write_all(ctx->fnew[1], "new");
}

START_TEST(test_io_remove_close_readd)
{
	struct replace_ctx ctx = { 0 };

	make_pipe(ctx.fa);
	make_pipe(ctx.fb);
	write_all(ctx.fa[1], "a");
	write_all(ctx.fb[1], "b");
	ctx.io_a = io_add(loop, ctx.fa[0], IO_READ, replace_old_cb, &ctx);
	ctx.io_b = io_add(loop, ctx.fb[0], IO_READ, replace_old_cb, &ctx);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.old_calls, 1);
	ck_assert_uint_eq(ctx.new_calls, 1);
	close(ctx.fa[1]);
	close(ctx.fb[1]);
	close(ctx.fnew[0]);
	close(ctx.fnew[1]);
}
END_TEST

/* io_remove() after the fd was closed (epoll dropped it already). */
START_TEST(test_io_remove_after_close)
{
	struct io_ctx ctx = { 0 };
	int fds[2];

	make_pipe(fds);
	ctx.io = io_add(loop, fds[0], IO_READ, io_ctx_cb, &ctx);
	close(fds[0]);
	io_remove(&ctx.io);
	ck_assert_ptr_null(ctx.io);
	/* removing NULL is a no-op */
	io_remove(&ctx.io);
	run_for(20);
	ck_assert_uint_eq(ctx.calls, 0);
	close(fds[1]);
}
END_TEST

/* ---- timeouts ---- */

struct order_ctx {
	char order[16];
	unsigned int n;
	unsigned int want;
};

struct order_timer {
	struct order_ctx *ctx;
	struct timeout *to;
	char id;
};

static void order_cb(void *context)
{
	struct order_timer *t = context;

	t->ctx->order[t->ctx->n++] = t->id;
	timeout_remove(&t->to);
	if (t->ctx->n == t->ctx->want)
		io_loop_stop(loop);
}

START_TEST(test_timeout_order)
{
	struct order_ctx ctx = { .want = 3 };
	struct order_timer t[3] = {
		{ &ctx, NULL, 'A' }, { &ctx, NULL, 'B' }, { &ctx, NULL, 'C' },
	};

	/* added out of order */
	t[0].to = timeout_add(loop, 60, order_cb, &t[0]);
	t[1].to = timeout_add(loop, 10, order_cb, &t[1]);
	t[2].to = timeout_add(loop, 35, order_cb, &t[2]);
	ck_assert(run_loop());
	ck_assert_str_eq(ctx.order, "BCA");
	for (unsigned int i = 0; i < 3; i++)
		ck_assert_ptr_null(t[i].to);
}
END_TEST

/* Timers due at the same time run in the order they were added. */
START_TEST(test_timeout_same_time)
{
	struct order_ctx ctx = { .want = 3 };
	struct order_timer t[3] = {
		{ &ctx, NULL, 'A' }, { &ctx, NULL, 'B' }, { &ctx, NULL, 'C' },
	};

	for (unsigned int i = 0; i < 3; i++)
		t[i].to = timeout_add(loop, 0, order_cb, &t[i]);
	ck_assert(run_loop());
	ck_assert_str_eq(ctx.order, "ABC");
}
END_TEST

/* Many timers (the heap): added in a scrambled order, some reset, some
 * removed; the rest fire in deadline order. Each deadline is known to lie
 * in [lo, hi]: the clock read just before and just after the call that
 * set it, plus the interval (a loaded machine may stall between them). */
struct many_timer {
	struct timeout *to;
	unsigned int msecs;
	uint64_t lo, hi;
	unsigned int idx;
	unsigned int *fired, *count;
};

static void many_timer_cb(void *context)
{
	struct many_timer *t = context;

	t->fired[(*t->count)++] = t->idx;
	timeout_remove(&t->to);
}

static void many_stop_cb(void *context ATTR_UNUSED)
{
	io_loop_stop(loop);
}

START_TEST(test_timeout_many)
{
	enum { N = 600 };
	struct many_timer *t = i_new(struct many_timer, N);
	unsigned int fired[N], count = 0, expected = 0;
	struct timeout *stop;

	for (unsigned int i = 0; i < N; i++) {
		t[i].idx = i;
		t[i].msecs = 20 * (1 + (i * 37) % 10);
		t[i].fired = fired;
		t[i].count = &count;
		t[i].lo = io_loop_time_msecs() + t[i].msecs;
		t[i].to = timeout_add(loop, t[i].msecs, many_timer_cb, &t[i]);
		t[i].hi = io_loop_time_msecs() + t[i].msecs;
	}
	/* every third one removed, every fifth reset (same interval) */
	for (unsigned int i = 0; i < N; i++) {
		if (i % 3 == 0) {
			timeout_remove(&t[i].to);
		} else if (i % 5 == 0) {
			t[i].lo = io_loop_time_msecs() + t[i].msecs;
			timeout_reset(t[i].to);
			t[i].hi = io_loop_time_msecs() + t[i].msecs;
		}
	}
	for (unsigned int i = 0; i < N; i++)
		expected += i % 3 != 0;
	stop = timeout_add(loop, 400, many_stop_cb, NULL);
	ck_assert(run_loop());
	timeout_remove(&stop);
	ck_assert_uint_eq(count, expected);
	/* a timer can't fire before one whose deadline is surely earlier */
	for (unsigned int i = 1; i < count; i++) {
		ck_assert_uint_le(t[fired[i - 1]].lo, t[fired[i]].hi);
	}
	for (unsigned int i = 0; i < N; i++)
		ck_assert_ptr_null(t[i].to);
	i_free(t);
}
END_TEST

struct repeat_ctx {
	struct timeout *to;
	unsigned int calls, max;
	uint64_t first, last;
};

static void repeat_cb(void *context)
{
	struct repeat_ctx *ctx = context;

	if (ctx->calls++ == 0)
		ctx->first = io_loop_time_msecs();
	ctx->last = io_loop_time_msecs();
	if (ctx->calls == ctx->max)
		timeout_remove(&ctx->to);
}

static void stop_cb(void *context ATTR_UNUSED)
{
	io_loop_stop(loop);
}

START_TEST(test_timeout_repeat)
{
	struct repeat_ctx ctx = { .max = 5 };
	uint64_t start = io_loop_time_msecs();
	struct timeout *stop;

	ctx.to = timeout_add(loop, 10, repeat_cb, &ctx);
	stop = timeout_add(loop, 200, stop_cb, NULL);
	ck_assert(run_loop());
	timeout_remove(&stop);
	/* exactly max times: removed from its own callback */
	ck_assert_uint_eq(ctx.calls, 5);
	ck_assert_ptr_null(ctx.to);
	ck_assert_uint_ge(ctx.first - start, 10);
	/* four more periods between the first and the last call */
	ck_assert_uint_ge(ctx.last - ctx.first, 40);
}
END_TEST

struct reset_ctx {
	struct timeout *target, *resetter;
	uint64_t start, fired_at, reset_at;
};

static void reset_target_cb(void *context)
{
	struct reset_ctx *ctx = context;

	ctx->fired_at = io_loop_time_msecs();
	timeout_remove(&ctx->target);
	io_loop_stop(loop);
}

static void reset_resetter_cb(void *context)
{
	struct reset_ctx *ctx = context;

	ctx->reset_at = io_loop_time_msecs();
	timeout_reset(ctx->target);
	timeout_remove(&ctx->resetter);
}

START_TEST(test_timeout_reset)
{
	struct reset_ctx ctx = { 0 };

	ctx.start = io_loop_time_msecs();
	ctx.target = timeout_add(loop, 80, reset_target_cb, &ctx);
	ctx.resetter = timeout_add(loop, 50, reset_resetter_cb, &ctx);
	ck_assert(run_loop());
	ck_assert_uint_ne(ctx.reset_at, 0);
	/* not at start+80 but a whole period after the reset */
	ck_assert_uint_ge(ctx.fired_at, ctx.reset_at + 80);
	ck_assert_uint_ge(ctx.fired_at - ctx.start, 130);
}
END_TEST

/* A timer removes another timer that is due in the same round. */
struct remove_other_ctx {
	struct timeout *a, *b;
	unsigned int a_calls, b_calls;
};

static void remove_other_a(void *context)
{
	struct remove_other_ctx *ctx = context;

	ctx->a_calls++;
	timeout_remove(&ctx->a);
	timeout_remove(&ctx->b);
}

static void remove_other_b(void *context)
{
	struct remove_other_ctx *ctx = context;

	ctx->b_calls++;
	timeout_remove(&ctx->b);
}

START_TEST(test_timeout_remove_other)
{
	struct remove_other_ctx ctx = { 0 };

	ctx.a = timeout_add(loop, 5, remove_other_a, &ctx);
	ctx.b = timeout_add(loop, 5, remove_other_b, &ctx);
	run_for(50);
	ck_assert_uint_eq(ctx.a_calls, 1);
	ck_assert_uint_eq(ctx.b_calls, 0);
	ck_assert_ptr_null(ctx.a);
	ck_assert_ptr_null(ctx.b);
}
END_TEST

/* ---- io_loop_stop ---- */

START_TEST(test_loop_stop_from_timer)
{
	struct io_ctx ctx = { 0 };
	struct timeout *to;
	uint64_t start;
	int fds[2];

	make_pipe(fds);
	ctx.fd = fds[0];
	/* an io that never becomes ready */
	ctx.io = io_add(loop, fds[0], IO_READ, io_ctx_cb, &ctx);
	start = io_loop_time_msecs();
	to = timeout_add(loop, 20, stop_cb, NULL);
	ck_assert(run_loop());
	ck_assert_uint_ge(io_loop_time_msecs() - start, 20);
	timeout_remove(&to);

	/* the loop runs again after a stop */
	to = timeout_add(loop, 10, stop_cb, NULL);
	ck_assert(run_loop());
	timeout_remove(&to);
	ck_assert_uint_eq(ctx.calls, 0);
	io_remove(&ctx.io);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* A stop inside an io callback ends io_loop_run(). */
START_TEST(test_loop_stop_from_io)
{
	struct io_ctx ctx = { .stop = true };
	int fds[2];

	make_pipe(fds);
	write_all(fds[1], "x");
	ctx.fd = fds[0];
	ctx.io = io_add(loop, fds[0], IO_READ, io_ctx_cb, &ctx);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 1);
	io_remove(&ctx.io);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_loop_time)
{
	uint64_t a = io_loop_time_msecs(), b;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	b = io_loop_time_msecs();
	ck_assert_uint_ge(b, a + 20);
	ck_assert_uint_lt(b, a + 5000);
}
END_TEST

/* ---- signals ---- */

struct sig_ctx {
	int signo;
	unsigned int calls;
	void *context_seen;
};

static void sig_cb(int signo, void *context)
{
	struct sig_ctx *ctx = context;

	ctx->signo = signo;
	ctx->calls++;
	ctx->context_seen = context;
	io_loop_stop(loop);
}

static bool signal_blocked(int signo)
{
	sigset_t set;

	ck_assert_int_eq(sigprocmask(SIG_BLOCK, NULL, &set), 0);
	return sigismember(&set, signo) == 1;
}

START_TEST(test_signal)
{
	struct sig_ctx ctx = { 0 };

	io_loop_set_signal(loop, SIGUSR1, sig_cb, &ctx);
	/* blocked for normal delivery: the default action (terminate)
	   would end the test otherwise */
	ck_assert(signal_blocked(SIGUSR1));
	ck_assert_int_eq(raise(SIGUSR1), 0);
	/* not called synchronously */
	ck_assert_uint_eq(ctx.calls, 0);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 1);
	ck_assert_int_eq(ctx.signo, SIGUSR1);
	ck_assert_ptr_eq(ctx.context_seen, &ctx);

	/* a second one */
	ck_assert_int_eq(raise(SIGUSR1), 0);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.calls, 2);
}
END_TEST

START_TEST(test_signal_two)
{
	struct sig_ctx c1 = { 0 }, c2 = { 0 };

	io_loop_set_signal(loop, SIGUSR1, sig_cb, &c1);
	io_loop_set_signal(loop, SIGUSR2, sig_cb, &c2);
	ck_assert_int_eq(raise(SIGUSR2), 0);
	ck_assert_int_eq(raise(SIGUSR1), 0);
	/* each handler stops the loop; both may come in one round */
	for (unsigned int i = 0; i < 2 && (c1.calls == 0 || c2.calls == 0);
	     i++)
		ck_assert(run_loop());
	ck_assert_uint_eq(c1.calls, 1);
	ck_assert_int_eq(c1.signo, SIGUSR1);
	ck_assert_uint_eq(c2.calls, 1);
	ck_assert_int_eq(c2.signo, SIGUSR2);
}
END_TEST

/* A NULL callback restores normal delivery; destroying the loop
 * unblocks its signals. */
START_TEST(test_signal_restore)
{
	struct sig_ctx ctx = { 0 };

	io_loop_set_signal(loop, SIGUSR1, sig_cb, &ctx);
	io_loop_set_signal(loop, SIGUSR2, sig_cb, &ctx);
	ck_assert(signal_blocked(SIGUSR1));
	ck_assert(signal_blocked(SIGUSR2));
	io_loop_set_signal(loop, SIGUSR2, NULL, NULL);
	ck_assert(!signal_blocked(SIGUSR2));
	ck_assert(signal_blocked(SIGUSR1));
	io_loop_destroy(&loop);
	ck_assert(!signal_blocked(SIGUSR1));
}
END_TEST

/* ---- Limits ---- */

/* More ready fds than one epoll_wait() returns (MAX_EVENTS = 128). */
#define MANY_IOS 300

struct many_ctx {
	struct io *io;
	int fds[2];
	unsigned int calls;
	unsigned int *total;
};

static void many_cb(void *context)
{
	struct many_ctx *ctx = context;
	char c;

	ctx->calls++;
	ck_assert_int_eq(read(ctx->fds[0], &c, 1), 1);
	io_remove(&ctx->io);
	if (++*ctx->total == MANY_IOS)
		io_loop_stop(loop);
}

START_TEST(test_many_ios)
{
	struct many_ctx *ctx = calloc(MANY_IOS, sizeof(*ctx));
	unsigned int total = 0;

	ck_assert_ptr_nonnull(ctx);
	for (unsigned int i = 0; i < MANY_IOS; i++) {
		make_pipe(ctx[i].fds);
		write_all(ctx[i].fds[1], "x");
		ctx[i].total = &total;
		ctx[i].io = io_add(loop, ctx[i].fds[0], IO_READ, many_cb,
				   &ctx[i]);
	}
	ck_assert(run_loop());
	for (unsigned int i = 0; i < MANY_IOS; i++) {
		ck_assert_uint_eq(ctx[i].calls, 1);
		close(ctx[i].fds[0]);
		close(ctx[i].fds[1]);
	}
	free(ctx);
}
END_TEST

/* A repeating 0 ms timer runs once per loop round, so ios still get
 * their turn (run_timeouts: "each due timer once per round"). */
struct zero_ctx {
	struct timeout *to;
	unsigned int calls;
	int wfd;
};

static void zero_cb(void *context)
{
	struct zero_ctx *ctx = context;

	/* the first call makes the io ready */
	if (ctx->calls++ == 0)
		write_all(ctx->wfd, "x");
	/* bound the damage if the loop never gets back to epoll */
	if (ctx->calls >= 100000)
		io_loop_stop(loop);
}

START_TEST(test_zero_msec_repeating_timer)
{
	struct zero_ctx zctx = { 0 };
	struct io_ctx ictx = { .stop = true };
	int fds[2];

	make_pipe(fds);
	zctx.wfd = fds[1];
	ictx.fd = fds[0];
	ictx.io = io_add(loop, fds[0], IO_READ, io_ctx_cb, &ictx);
	zctx.to = timeout_add(loop, 0, zero_cb, &zctx);
	ck_assert(run_loop());
	ck_assert_uint_eq(ictx.calls, 1);
	/* a few rounds at most, not a spin inside run_timeouts() */
	ck_assert_uint_lt(zctx.calls, 100);
	timeout_remove(&zctx.to);
	io_remove(&ictx.io);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* An io that waits for nothing (condition 0, as a paused connection
 * without output sets it) is not called when the peer hangs up. */
START_TEST(test_condition_none_hangup)
{
	struct io_ctx ctx = { 0 };
	int fds[2];

	make_pipe(fds);
	ctx.fd = -1;
	ctx.io = io_add(loop, fds[0], IO_READ, io_ctx_cb, &ctx);
	io_set_condition(ctx.io, 0);
	close(fds[1]);
	run_for(50);
	ck_assert_uint_eq(ctx.calls, 0);
	io_remove(&ctx.io);
	close(fds[0]);
}
END_TEST

Suite *make_ioloop_suite(void)
{
	Suite *s = suite_create("ioloop");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_io_read_pipe);
	tcase_add_test(tc, test_io_level_triggered);
	tcase_add_test(tc, test_io_set_condition);
	tcase_add_test(tc, test_io_remove_self);
	tcase_add_test(tc, test_io_remove_other_same_batch);
	tcase_add_test(tc, test_io_remove_close_readd);
	tcase_add_test(tc, test_io_remove_after_close);
	tcase_add_test(tc, test_timeout_order);
	tcase_add_test(tc, test_timeout_same_time);
	tcase_add_test(tc, test_timeout_repeat);
	tcase_add_test(tc, test_timeout_reset);
	tcase_add_test(tc, test_timeout_remove_other);
	tcase_add_test(tc, test_timeout_many);
	tcase_add_test(tc, test_loop_stop_from_timer);
	tcase_add_test(tc, test_loop_stop_from_io);
	tcase_add_test(tc, test_loop_time);
	tcase_add_test(tc, test_signal);
	tcase_add_test(tc, test_signal_two);
	tcase_add_test(tc, test_signal_restore);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_many_ios);
	tcase_add_test(tc, test_zero_msec_repeating_timer);
	tcase_add_test(tc, test_condition_none_hangup);
	suite_add_tcase(s, tc);
	return s;
}

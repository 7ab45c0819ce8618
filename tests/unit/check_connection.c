/* check_connection.c - unit tests of lib/connection.h over a socketpair:
 * line splitting, "\r\n", the line limit, output bigger than the socket
 * buffer, backpressure, pause/resume, peer close, and freeing the
 * connection from its own callbacks (run under ASan). */
#include "suites.h"
#include "connection.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GUARD_MSECS 5000

struct conn_ctx {
	struct connection *conn;
	string_t *lines;	/* each line followed by '|' */
	unsigned int line_count;
	unsigned int stop_after;	/* stop the loop at this many lines */
	unsigned int pause_at;		/* pause after this line */
	unsigned int free_at;		/* free the connection here */
	const char *reason;
	unsigned int disconnects;
	bool free_on_disconnect;
	/* set while the test itself is inside a connection_*() call */
	bool in_call;
	bool disconnected_in_call;
};

static struct ioloop *loop;
static bool guard_fired;
static int peer = -1;
static int conn_fd = -1;
static struct conn_ctx ctx;

static void setup(void)
{
	int sv[2];

	loop = io_loop_create();
	guard_fired = false;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	conn_fd = sv[0];
	peer = sv[1];
	memset(&ctx, 0, sizeof(ctx));
	ctx.lines = str_new(256);
}

static void teardown(void)
{
	connection_free(&ctx.conn);
	str_free(&ctx.lines);
	if (peer >= 0)
		close(peer);
	peer = -1;
	io_loop_destroy(&loop);
}

static void guard_cb(void *context ATTR_UNUSED)
{
	guard_fired = true;
	io_loop_stop(loop);
}

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

static void run_for(unsigned int msecs)
{
	(void)run_loop_max(msecs);
}

static bool test_input_line(struct connection *conn, char *line)
{
	struct conn_ctx *c = conn->context;

	ck_assert_ptr_eq(conn, c->conn);
	str_append(c->lines, line);
	str_append_c(c->lines, '|');
	c->line_count++;
	if (c->free_at != 0 && c->line_count == c->free_at) {
		connection_free(&c->conn);
		io_loop_stop(loop);
		return false;
	}
	if (c->pause_at != 0 && c->line_count == c->pause_at)
		connection_pause(conn, true);
	if (c->stop_after != 0 && c->line_count >= c->stop_after)
		io_loop_stop(loop);
	return true;
}

static void test_disconnected(struct connection *conn, const char *reason)
{
	struct conn_ctx *c = conn->context;

	ck_assert_ptr_eq(conn, c->conn);
	c->reason = reason;
	c->disconnects++;
	if (c->in_call)
		c->disconnected_in_call = true;
	if (c->free_on_disconnect)
		connection_free(&c->conn);
	io_loop_stop(loop);
}

static const struct connection_vfuncs test_vfuncs = {
	.input_line = test_input_line,
	.disconnected = test_disconnected,
};

static void conn_create(size_t max_line, size_t max_output)
{
	ctx.conn = connection_create(loop, conn_fd, max_line, max_output,
				     &test_vfuncs, &ctx);
	ck_assert_ptr_nonnull(ctx.conn);
	ck_assert_int_eq(ctx.conn->fd, conn_fd);
	/* made non-blocking */
	ck_assert((fcntl(conn_fd, F_GETFL) & O_NONBLOCK) != 0);
}

static void peer_write(const char *data)
{
	size_t len = strlen(data), off = 0;

	while (off < len) {
		ssize_t ret = write(peer, data + off, len - off);

		ck_assert_msg(ret > 0, "write: %s", strerror(errno));
		off += (size_t)ret;
	}
}

static void peer_close(void)
{
	close(peer);
	peer = -1;
}

/* ---- Core ---- */

START_TEST(test_line_split_across_writes)
{
	conn_create(1024, 65536);
	peer_write("hel");
	run_for(30);
	ck_assert_uint_eq(ctx.line_count, 0);

	ctx.stop_after = 1;
	peer_write("lo\nwor");
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "hello|");

	ctx.stop_after = 2;
	peer_write("l");
	run_for(30);
	ck_assert_uint_eq(ctx.line_count, 1);
	peer_write("d\n");
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "hello|world|");
	ck_assert_uint_eq(ctx.disconnects, 0);
}
END_TEST

START_TEST(test_lines_in_one_write)
{
	conn_create(1024, 65536);
	ctx.stop_after = 4;
	peer_write("a\nbb\n\nccc\n");
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "a|bb||ccc|");
	/* nothing else pending */
	run_for(30);
	ck_assert_uint_eq(ctx.line_count, 4);
}
END_TEST

START_TEST(test_crlf)
{
	conn_create(1024, 65536);
	ctx.stop_after = 5;
	/* one trailing "\r" is removed, inner ones stay */
	peer_write("one\r\ntwo\n\r\na\rb\r\nc\r\r\n");
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "one|two||a\rb|c\r|");
}
END_TEST

START_TEST(test_line_too_long)
{
	char buf[100];

	conn_create(16, 65536);
	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	peer_write(buf);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert_str_eq(ctx.reason, "Input line too long");
	ck_assert_uint_eq(ctx.line_count, 0);
	ck_assert(ctx.conn->disconnected);

	/* nothing more comes, whatever the peer sends */
	peer_write("\nafter\n");
	run_for(30);
	ck_assert_uint_eq(ctx.line_count, 0);
	ck_assert_uint_eq(ctx.disconnects, 1);
}
END_TEST

/* Good lines before the long one in the same read are delivered. */
START_TEST(test_line_too_long_after_lines)
{
	conn_create(16, 65536);
	peer_write("ok\nfine\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "ok|fine|");
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert_str_eq(ctx.reason, "Input line too long");
}
END_TEST

/* connection_process_input() finds the over-long line: the owner hears
 * of it from the loop, not inside the call. (The input buffer is filled
 * with connection_input_inject().) */
START_TEST(test_line_too_long_reported_from_loop)
{
	conn_create(16, 65536);
	char *fill = i_malloc(ctx.conn->in_max);

	memset(fill, 'x', ctx.conn->in_max);
	ck_assert_int_eq(connection_input_inject(ctx.conn, fill,
						 ctx.conn->in_max), 0);
	i_free(fill);
	ctx.in_call = true;
	ck_assert(connection_process_input(ctx.conn));
	ctx.in_call = false;
	ck_assert_uint_eq(ctx.disconnects, 0);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert(!ctx.disconnected_in_call);
	ck_assert_str_eq(ctx.reason, "Input line too long");
}
END_TEST

/* Freeing the connection in the disconnected callback is allowed. */
START_TEST(test_free_in_disconnected)
{
	conn_create(16, 65536);
	ctx.free_on_disconnect = true;
	peer_write("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert_ptr_null(ctx.conn);
	/* more data for the freed connection's fd changes nothing */
	run_for(30);
	ck_assert_uint_eq(ctx.disconnects, 1);
}
END_TEST

/* ---- output ---- */

struct reader {
	int fd;
	struct io *io;
	size_t total, want;
	bool mismatch;
};

static unsigned char pattern_byte(size_t i)
{
	return (unsigned char)('a' + (i * 7 + i / 251) % 26);
}

static void reader_cb(void *context)
{
	struct reader *r = context;
	unsigned char buf[65536];
	ssize_t ret;

	while ((ret = read(r->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < ret; i++) {
			if (buf[i] != pattern_byte(r->total + (size_t)i))
				r->mismatch = true;
		}
		r->total += (size_t)ret;
	}
	if (r->total >= r->want)
		io_loop_stop(loop);
}

#define BIG_OUTPUT (4 * 1024 * 1024)

START_TEST(test_output_bigger_than_socket_buffer)
{
	unsigned char *data = malloc(BIG_OUTPUT);
	struct reader r = { .want = BIG_OUTPUT };

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < BIG_OUTPUT; i++)
		data[i] = pattern_byte(i);
	conn_create(1024, 2 * BIG_OUTPUT);
	connection_send(ctx.conn, data, BIG_OUTPUT);
	/* copied: the caller's buffer may go */
	memset(data, 0, BIG_OUTPUT);
	free(data);
	/* the socket buffer can't take it all at once */
	ck_assert_uint_gt(ctx.conn->out_len, 0);

	ck_assert_int_eq(fcntl(peer, F_SETFL, O_NONBLOCK), 0);
	r.fd = peer;
	r.io = io_add(loop, peer, IO_READ, reader_cb, &r);
	ck_assert(run_loop());
	io_remove(&r.io);
	ck_assert_uint_eq(r.total, BIG_OUTPUT);
	ck_assert(!r.mismatch);
	ck_assert_uint_eq(ctx.conn->out_len, 0);
	ck_assert_uint_eq(ctx.disconnects, 0);
}
END_TEST

/* Several sends are delivered in order. */
START_TEST(test_output_order)
{
	char buf[64];
	size_t total = 0;

	conn_create(1024, 65536);
	connection_send_str(ctx.conn, "one\n");
	connection_send(ctx.conn, "two\n", 4);
	connection_send_str(ctx.conn, "");
	connection_send_str(ctx.conn, "three\n");
	while (total < 14) {
		ssize_t ret = read(peer, buf + total, sizeof(buf) - total);

		ck_assert_int_gt(ret, 0);
		total += (size_t)ret;
	}
	ck_assert_uint_eq(total, 14);
	ck_assert(memcmp(buf, "one\ntwo\nthree\n", 14) == 0);
}
END_TEST

/* While max_output bytes wait to be written, input is not read. */
START_TEST(test_output_backpressure)
{
	unsigned char *data = malloc(BIG_OUTPUT);
	struct reader r = { .want = BIG_OUTPUT };

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < BIG_OUTPUT; i++)
		data[i] = pattern_byte(i);
	conn_create(1024, 4096);
	connection_send(ctx.conn, data, BIG_OUTPUT);
	free(data);
	ck_assert_uint_ge(ctx.conn->out_len, 4096);

	peer_write("ping\n");
	run_for(50);
	ck_assert_uint_eq(ctx.line_count, 0);

	/* the peer drains the output: the line is read meanwhile */
	ck_assert_int_eq(fcntl(peer, F_SETFL, O_NONBLOCK), 0);
	r.fd = peer;
	r.io = io_add(loop, peer, IO_READ, reader_cb, &r);
	ctx.stop_after = 1;
	while (r.total < BIG_OUTPUT || ctx.line_count == 0)
		ck_assert(run_loop());
	io_remove(&r.io);
	ck_assert_uint_eq(r.total, BIG_OUTPUT);
	ck_assert(!r.mismatch);
	ck_assert_str_eq(str_c(ctx.lines), "ping|");
}
END_TEST

/* ---- pause ---- */

START_TEST(test_pause_resume)
{
	conn_create(1024, 65536);
	ctx.pause_at = 2;
	ctx.stop_after = 2;
	peer_write("a\nb\nc\nd\n");
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "a|b|");
	ck_assert(ctx.conn->paused);

	/* paused: no lines, though c and d are buffered and more comes */
	ctx.stop_after = 0;
	peer_write("e\n");
	run_for(50);
	ck_assert_str_eq(str_c(ctx.lines), "a|b|");

	/* resume: the buffered lines come from connection_process_input */
	connection_pause(ctx.conn, false);
	ck_assert(!ctx.conn->paused);
	ck_assert(connection_process_input(ctx.conn));
	ck_assert_str_eq(str_c(ctx.lines), "a|b|c|d|");

	/* and what was still in the socket from the loop */
	ctx.stop_after = 5;
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "a|b|c|d|e|");
}
END_TEST

/* Pausing from outside a callback stops reading too. */
START_TEST(test_pause_outside_callback)
{
	conn_create(1024, 65536);
	connection_pause(ctx.conn, true);
	peer_write("a\n");
	run_for(40);
	ck_assert_uint_eq(ctx.line_count, 0);
	connection_pause(ctx.conn, false);
	/* nothing buffered yet */
	ck_assert(connection_process_input(ctx.conn));
	ck_assert_uint_eq(ctx.line_count, 0);
	ctx.stop_after = 1;
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "a|");
}
END_TEST

/* ---- peer close ---- */

START_TEST(test_peer_close)
{
	conn_create(1024, 65536);
	peer_close();
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert_str_eq(ctx.reason, "Connection closed");
	ck_assert_uint_eq(ctx.line_count, 0);
	/* reported once */
	run_for(30);
	ck_assert_uint_eq(ctx.disconnects, 1);
}
END_TEST

START_TEST(test_peer_close_after_lines)
{
	conn_create(1024, 65536);
	peer_write("last\npartial");
	peer_close();
	ck_assert(run_loop());
	/* the complete line first, the partial one is dropped */
	ck_assert_str_eq(str_c(ctx.lines), "last|");
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert_str_eq(ctx.reason, "Connection closed");
}
END_TEST

START_TEST(test_peer_shutdown_write)
{
	conn_create(1024, 65536);
	ck_assert_int_eq(shutdown(peer, SHUT_WR), 0);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert_str_eq(ctx.reason, "Connection closed");
}
END_TEST

/* A send that fails (peer gone) is reported from the loop, not from
 * inside connection_send(); later sends are ignored. */
START_TEST(test_send_to_closed_peer)
{
	conn_create(1024, 65536);
	peer_close();
	ctx.in_call = true;
	connection_send_str(ctx.conn, "hello\n");
	connection_send_str(ctx.conn, "again\n");
	ctx.in_call = false;
	ck_assert_uint_eq(ctx.disconnects, 0);
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert(!ctx.disconnected_in_call);
	ck_assert_str_eq(ctx.reason, "Connection closed");
	connection_send_str(ctx.conn, "ignored\n");
	run_for(30);
	ck_assert_uint_eq(ctx.disconnects, 1);
}
END_TEST

/* ---- freeing from input_line ---- */

START_TEST(test_free_in_input_line)
{
	conn_create(1024, 65536);
	ctx.free_at = 1;
	peer_write("a\nb\nc\n");
	ck_assert(run_loop());
	ck_assert_ptr_null(ctx.conn);
	ck_assert_str_eq(str_c(ctx.lines), "a|");
	ck_assert_uint_eq(ctx.disconnects, 0);
	/* the loop goes on without the connection */
	run_for(30);
	ck_assert_str_eq(str_c(ctx.lines), "a|");
}
END_TEST

/* The same from connection_process_input(): it returns false. */
START_TEST(test_free_in_input_line_process_input)
{
	conn_create(1024, 65536);
	ctx.pause_at = 1;
	ctx.stop_after = 1;
	peer_write("a\nb\nc\n");
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines), "a|");
	ctx.free_at = 2;
	connection_pause(ctx.conn, false);
	ck_assert(!connection_process_input(ctx.conn));
	ck_assert_ptr_null(ctx.conn);
	ck_assert_str_eq(str_c(ctx.lines), "a|b|");
	run_for(30);
	ck_assert_str_eq(str_c(ctx.lines), "a|b|");
}
END_TEST

/* Two connections ready in the same round; the first one's callback
 * frees the other one. */
struct pair_ctx {
	struct connection *a, *b;
	unsigned int calls;
};

static bool pair_input_line(struct connection *conn, char *line ATTR_UNUSED)
{
	struct pair_ctx *p = conn->context;

	p->calls++;
	connection_free(&p->a);
	connection_free(&p->b);
	io_loop_stop(loop);
	return false;
}

static void pair_disconnected(struct connection *conn ATTR_UNUSED,
			      const char *reason ATTR_UNUSED)
{
	ck_abort_msg("unexpected disconnect");
}

static const struct connection_vfuncs pair_vfuncs = {
	.input_line = pair_input_line,
	.disconnected = pair_disconnected,
};

START_TEST(test_free_other_connection_same_batch)
{
	struct pair_ctx p = { 0 };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	p.a = connection_create(loop, conn_fd, 1024, 65536, &pair_vfuncs, &p);
	conn_fd = -1;
	p.b = connection_create(loop, sv[0], 1024, 65536, &pair_vfuncs, &p);
	peer_write("x\n");
	ck_assert_int_eq(write(sv[1], "y\n", 2), 2);
	ck_assert(run_loop());
	ck_assert_uint_eq(p.calls, 1);
	run_for(30);
	ck_assert_uint_eq(p.calls, 1);
	close(sv[1]);
}
END_TEST

/* ---- Limits ---- */

/* A line of exactly max_line characters is fine, with "\n" or "\r\n". */
START_TEST(test_line_limit_exact)
{
	conn_create(16, 65536);
	ctx.stop_after = 2;
	peer_write("0123456789abcdef\n0123456789abcdef\r\n");
	ck_assert(run_loop());
	ck_assert_str_eq(str_c(ctx.lines),
			 "0123456789abcdef|0123456789abcdef|");
	run_for(30);
	ck_assert_uint_eq(ctx.disconnects, 0);
}
END_TEST

/* One character more than max_line is too long. */
START_TEST(test_line_limit_plus_one)
{
	conn_create(16, 65536);
	ctx.stop_after = 1;
	peer_write("0123456789abcdefg\n");
	ck_assert(run_loop());
	ck_assert_uint_eq(ctx.line_count, 0);
	ck_assert_uint_eq(ctx.disconnects, 1);
	ck_assert_str_eq(ctx.reason, "Input line too long");
}
END_TEST

START_TEST(test_many_lines)
{
	string_t *all = str_new(1 << 16), *want = str_new(1 << 16);

	conn_create(64, 65536);
	for (unsigned int i = 0; i < 5000; i++) {
		str_printfa(all, "line %u\r\n", i);
		str_printfa(want, "line %u|", i);
	}
	ctx.stop_after = 5000;
	/* in odd-sized pieces */
	for (size_t off = 0; off < str_len(all); off += 777) {
		size_t n = MIN(777, str_len(all) - off);

		ck_assert_int_eq(write(peer, str_c(all) + off, n), (ssize_t)n);
		run_for(1);
	}
	if (ctx.line_count < 5000)
		ck_assert(run_loop());
	ck_assert_uint_eq(ctx.line_count, 5000);
	ck_assert_str_eq(str_c(ctx.lines), str_c(want));
	str_free(&all);
	str_free(&want);
}
END_TEST

static uint64_t cpu_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A paused connection whose peer hangs up waits quietly (it hears of
 * the close when resumed) instead of spinning on EPOLLHUP. */
START_TEST(test_paused_peer_close_no_spin)
{
	uint64_t cpu;

	conn_create(1024, 65536);
	connection_pause(ctx.conn, true);
	peer_close();
	cpu = cpu_msecs();
	run_for(300);
	cpu = cpu_msecs() - cpu;
	ck_assert_uint_eq(ctx.disconnects, 0);
	ck_assert_msg(cpu < 30, "the loop used %llu ms of CPU in 300 ms",
		      (unsigned long long)cpu);
	connection_pause(ctx.conn, false);
	ck_assert(run_loop());
	ck_assert_str_eq(ctx.reason, "Connection closed");
}
END_TEST

Suite *make_connection_suite(void)
{
	Suite *s = suite_create("connection");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_line_split_across_writes);
	tcase_add_test(tc, test_lines_in_one_write);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_line_too_long);
	tcase_add_test(tc, test_line_too_long_after_lines);
	tcase_add_test(tc, test_line_too_long_reported_from_loop);
	tcase_add_test(tc, test_free_in_disconnected);
	tcase_add_test(tc, test_output_bigger_than_socket_buffer);
	tcase_add_test(tc, test_output_order);
	tcase_add_test(tc, test_output_backpressure);
	tcase_add_test(tc, test_pause_resume);
	tcase_add_test(tc, test_pause_outside_callback);
	tcase_add_test(tc, test_peer_close);
	tcase_add_test(tc, test_peer_close_after_lines);
	tcase_add_test(tc, test_peer_shutdown_write);
	tcase_add_test(tc, test_send_to_closed_peer);
	tcase_add_test(tc, test_free_in_input_line);
	tcase_add_test(tc, test_free_in_input_line_process_input);
	tcase_add_test(tc, test_free_other_connection_same_batch);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_line_limit_exact);
	tcase_add_test(tc, test_line_limit_plus_one);
	tcase_add_test(tc, test_many_lines);
	tcase_add_test(tc, test_paused_peer_close_no_spin);
	suite_add_tcase(s, tc);
	return s;
}

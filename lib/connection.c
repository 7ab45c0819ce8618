/* connection.c - buffered line I/O over a non-blocking socket. */
#include "connection.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

static void connection_update_io(struct connection *conn)
{
	enum io_condition cond = 0;

	if (conn->disconnected)
		return;
	if (!conn->paused && conn->out_len < conn->out_max)
		cond |= IO_READ;
	if (conn->out_len > 0 || conn->want_output)
		cond |= IO_WRITE;
	io_set_condition(conn->io, cond);
}

static void connection_report_disconnect(void *context)
{
	struct connection *conn = context;

	timeout_remove(&conn->disconnect_to);
	conn->v->disconnected(conn, conn->disconnect_reason);
}

/* The owner hears of the disconnection from the event loop, never from
 * inside connection_send() or a read: the connection stays valid until
 * the current call returns. */
static void connection_fail(struct connection *conn, const char *reason)
{
	if (conn->disconnected)
		return;
	conn->disconnected = true;
	conn->disconnect_reason = reason;
	io_set_condition(conn->io, 0);
	conn->disconnect_to = timeout_add(conn->loop, 0,
					  connection_report_disconnect, conn);
}

static void connection_flush(struct connection *conn)
{
	while (conn->out_len > 0) {
		ssize_t ret = send(conn->fd, conn->outbuf, conn->out_len,
				   MSG_NOSIGNAL);

		if (ret < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			connection_fail(conn, "Connection closed");
			return;
		}
		memmove(conn->outbuf, conn->outbuf + ret,
			conn->out_len - (size_t)ret);
		conn->out_len -= (size_t)ret;
	}
	if (conn->out_len == 0 && conn->out_cap > 0) {
		free(conn->outbuf);
		conn->outbuf = NULL;
		conn->out_cap = 0;
	}
}

/* Input buffers exist only while they hold bytes: an idle connection
 * keeps none (DESIGN.md: idle connections cost kilobytes). */
static void connection_input_release(struct connection *conn)
{
	if (conn->in_len == 0 && conn->inbuf != NULL) {
		free(conn->inbuf);
		conn->inbuf = NULL;
		conn->in_cap = 0;
	}
}

static void connection_input_reserve(struct connection *conn, size_t size)
{
	size_t cap;

	if (conn->in_len + size <= conn->in_cap)
		return;
	cap = MAX(conn->in_cap * 2, 4096);
	while (cap < conn->in_len + size)
		cap = size_mul(cap, 2);
	if (cap > conn->in_max)
		cap = conn->in_max;
	conn->inbuf = i_realloc(conn->inbuf, cap);
	conn->in_cap = cap;
}

void connection_input_skip(struct connection *conn, size_t size)
{
	i_assert(size <= conn->in_len);
	if (size == 0)
		return;
	memmove(conn->inbuf, conn->inbuf + size, conn->in_len - size);
	conn->in_len -= size;
}

static bool connection_process_raw(struct connection *conn)
{
	while (!conn->paused && !conn->disconnected && conn->in_len > 0) {
		size_t before = conn->in_len;

		if (!conn->v->input_raw(conn))
			return false;
		if (conn->in_len == before)
			break;	/* needs more input */
	}
	if (!conn->disconnected && !conn->paused &&
	    conn->in_len >= conn->in_max)
		connection_fail(conn, "Input line too long");
	connection_input_release(conn);
	return true;
}

bool connection_process_input(struct connection *conn)
{
	char *nl;

	if (conn->v->input_raw != NULL)
		return connection_process_raw(conn);
	while (!conn->paused && !conn->disconnected && conn->in_len > 0 &&
	       (nl = memchr(conn->inbuf, '\n', conn->in_len)) != NULL) {
		size_t len = (size_t)(nl - conn->inbuf);
		char *line;
		bool cont;

		if (len - (len > 0 && conn->inbuf[len - 1] == '\r') >
		    conn->in_max - 2) {
			connection_fail(conn, "Input line too long");
			return true;
		}
		line = i_strndup(conn->inbuf, len);

		memmove(conn->inbuf, nl + 1, conn->in_len - len - 1);
		conn->in_len -= len + 1;
		if (len > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		cont = conn->v->input_line(conn, line);
		free(line);
		if (!cont)
			return false;
	}
	if (!conn->disconnected && conn->in_len >= conn->in_max)
		connection_fail(conn, "Input line too long");
	connection_input_release(conn);
	return true;
}

static void connection_io(void *context)
{
	struct connection *conn = context;

	if (conn->out_len > 0) {
		connection_flush(conn);
		if (conn->disconnected)
			return;
	}
	while (conn->want_output && conn->out_len < conn->out_max / 2 &&
	       conn->v->output_ready != NULL && !conn->disconnected) {
		size_t before = conn->out_len;

		if (!conn->v->output_ready(conn))
			return;
		/* nothing more was queued: the owner is done for now */
		if (conn->out_len == before)
			break;
	}
	if (!conn->paused && conn->out_len < conn->out_max &&
	    conn->in_len < conn->in_max) {
		ssize_t ret;

		connection_input_reserve(conn, MIN(conn->in_max - conn->in_len,
						   (size_t)16384));
		ret = read(conn->fd, conn->inbuf + conn->in_len,
			   conn->in_cap - conn->in_len);

		if (ret == 0) {
			connection_fail(conn, "Connection closed");
			return;
		}
		if (ret < 0 && errno != EAGAIN && errno != EINTR) {
			connection_fail(conn, "Connection closed");
			return;
		}
		if (ret > 0) {
			conn->in_len += (size_t)ret;
			conn->bytes_in += (uint64_t)ret;
			if (!connection_process_input(conn))
				return;
		}
	}
	connection_update_io(conn);
}

struct connection *connection_create(struct ioloop *loop, int fd,
				     size_t max_line, size_t max_output,
				     const struct connection_vfuncs *v,
				     void *context)
{
	struct connection *conn = i_new(struct connection, 1);
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	conn->loop = loop;
	conn->fd = fd;
	conn->v = v;
	conn->context = context;
	conn->in_max = max_line + 2;
	conn->out_max = max_output;
	conn->io = io_add(loop, fd, IO_READ, connection_io, conn);
	return conn;
}

void connection_free(struct connection **_conn)
{
	struct connection *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	timeout_remove(&conn->disconnect_to);
	io_remove(&conn->io);
	close(conn->fd);
	free(conn->inbuf);
	free(conn->outbuf);
	free(conn);
}

void connection_send(struct connection *conn, const void *data, size_t size)
{
	if (conn->disconnected || size == 0)
		return;
	conn->bytes_out += size;
	if (conn->out_len + size > conn->out_cap) {
		size_t cap = MAX(conn->out_cap * 2, 1024);

		while (cap < conn->out_len + size)
			cap = size_mul(cap, 2);
		conn->outbuf = i_realloc(conn->outbuf, cap);
		conn->out_cap = cap;
	}
	memcpy(conn->outbuf + conn->out_len, data, size);
	conn->out_len += size;
	if (conn->corked)
		return;
	connection_flush(conn);
	connection_update_io(conn);
}

void connection_send_str(struct connection *conn, const char *str)
{
	connection_send(conn, str, strlen(str));
}

void connection_cork(struct connection *conn, bool cork)
{
	conn->corked = cork;
	if (!cork) {
		connection_flush(conn);
		connection_update_io(conn);
	}
}

void connection_want_output(struct connection *conn, bool want)
{
	conn->want_output = want;
	connection_update_io(conn);
}

int connection_flush_wait(struct connection *conn, int timeout_msecs)
{
	uint64_t end = io_loop_time_msecs() + (uint64_t)timeout_msecs;

	connection_flush(conn);
	while (conn->out_len > 0 && !conn->disconnected) {
		uint64_t now = io_loop_time_msecs();
		struct pollfd pfd = { .fd = conn->fd, .events = POLLOUT };

		if (now >= end || poll(&pfd, 1, (int)(end - now)) < 0)
			return -1;
		connection_flush(conn);
	}
	return conn->out_len == 0 && !conn->disconnected ? 0 : -1;
}

int connection_replace_fd(struct connection *conn, int fd)
{
	int old_fd = conn->fd;
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	io_remove(&conn->io);
	conn->fd = fd;
	conn->in_len = 0;
	connection_input_release(conn);
	conn->io = io_add(conn->loop, fd, IO_READ, connection_io, conn);
	connection_update_io(conn);
	return old_fd;
}

int connection_input_inject(struct connection *conn, const void *data,
			    size_t size)
{
	if (size > conn->in_max - conn->in_len)
		return -1;
	if (size == 0)
		return 0;
	connection_input_reserve(conn, size);
	memcpy(conn->inbuf + conn->in_len, data, size);
	conn->in_len += size;
	return 0;
}

size_t connection_output_queued(const struct connection *conn)
{
	return conn->out_len;
}

void connection_pause(struct connection *conn, bool pause)
{
	conn->paused = pause;
	connection_update_io(conn);
}

/* connection.h - a line-oriented, non-blocking connection on the event
 * loop: bounded input (an over-long line ends the connection before it is
 * buffered whole), queued output with backpressure (no reading while too
 * much output waits). Used by the auth protocols and later the master's
 * internal sockets. */
#ifndef ROOST_CONNECTION_H
#define ROOST_CONNECTION_H

#include "lib.h"
#include "ioloop.h"

struct connection;

struct connection_vfuncs {
	/* One line without its "\n" (a trailing "\r" is removed). Return
	   false if the connection was freed by the callback: nothing may
	   touch it afterwards. (To stop reading, use connection_pause().) */
	bool (*input_line)(struct connection *conn, char *line);
	/* The peer closed, an error happened or a line was too long. The
	   owner must call connection_free() (now or later). */
	void (*disconnected)(struct connection *conn, const char *reason);
	/* Optional: the queued output drained below half of max_output
	   after connection_want_output(conn, TRUE) (streaming a large
	   reply piece by piece). Return false if conn was freed. */
	bool (*output_ready)(struct connection *conn);
	/* Optional: raw input instead of lines (IMAP literals). Called
	   while unread bytes are buffered (conn->inbuf, conn->in_len); the
	   owner consumes what it can with connection_input_skip() and
	   returns; consuming nothing means "need more bytes". A full buffer
	   that nobody consumes ends the connection. Return false if conn
	   was freed. */
	bool (*input_raw)(struct connection *conn);
};

struct connection {
	struct ioloop *loop;
	int fd;
	struct io *io;
	const struct connection_vfuncs *v;
	void *context;

	char *inbuf;		/* NULL while empty */
	size_t in_len, in_cap, in_max;
	char *outbuf;
	size_t out_len, out_cap, out_max;
	bool disconnected, paused, want_output, corked;
	struct timeout *disconnect_to;
	const char *disconnect_reason;	/* static text */
	/* bytes read from the fd and queued for it, for the logout
	   lines' in=%i out=%o */
	uint64_t bytes_in, bytes_out;
};

/* Take ownership of fd (made non-blocking). max_line bounds one input
 * line; max_output the queued output before reading pauses. */
struct connection *connection_create(struct ioloop *loop, int fd,
				     size_t max_line, size_t max_output,
				     const struct connection_vfuncs *v,
				     void *context);
/* Closes the fd and frees the connection. */
void connection_free(struct connection **conn);
/* Queue data; written as the socket allows. */
void connection_send(struct connection *conn, const void *data, size_t size);
void connection_send_str(struct connection *conn, const char *str);
/* While corked, connection_send() only queues: a reply line and the
 * data behind it leave in one write when uncorked. */
void connection_cork(struct connection *conn, bool cork);
/* Ask for (or stop asking for) the output_ready callback. */
void connection_want_output(struct connection *conn, bool want);
/* Put bytes into the input buffer as if they had been read (input that
 * arrived on another process's copy of the socket). -1 if they don't
 * fit. The caller then runs connection_process_input(). */
int connection_input_inject(struct connection *conn, const void *data,
			    size_t size);
/* Write everything queued, waiting up to timeout_msecs for the socket
 * (before a STARTTLS switch). -1 if it couldn't. */
int connection_flush_wait(struct connection *conn, int timeout_msecs);
/* Continue on another fd (the connection's old fd is returned, not
 * closed): a STARTTLS switch onto a TLS proxy's socketpair. Buffered
 * input is discarded: nothing sent before the switch may be taken as
 * sent after it. */
int connection_replace_fd(struct connection *conn, int fd);
/* Raw mode: drop size consumed bytes from the front of the input. */
void connection_input_skip(struct connection *conn, size_t size);
/* Bytes queued and not yet written. */
size_t connection_output_queued(const struct connection *conn);

/* Stop or resume reading input (e.g. while a request is pending). */
void connection_pause(struct connection *conn, bool pause);
/* Call input_line for lines already buffered (after resuming). Returns
 * false if the connection was freed meanwhile. */
bool connection_process_input(struct connection *conn);

#endif

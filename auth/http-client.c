/* http-client.c - non-blocking HTTP/1.1 POSTs to one server: requests
 * queue for up to HTTP_CLIENT_MAX_CONNECTIONS connections, a kept-alive
 * connection takes the next one, a request that finds its reused
 * connection closed by the server is sent once more on a new one.
 * Responses: Content-Length, chunked or until close; 1xx skipped. */
#include "http-client.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_conn;

struct http_client_request {
	struct http_client_request *prev, *next;
	struct http_client *client;
	struct http_conn *conn;		/* NULL while queued */
	string_t *out;
	size_t out_pos;
	http_client_callback_t *callback;
	void *context;
	struct timeout *to;
	uint64_t created_msecs, first_sent_msecs;
	unsigned int attempts;
};

struct http_conn {
	struct http_conn *prev, *next;
	struct http_client *client;
	int fd;
	struct io *io;
	bool connected;
	bool reused;	/* a response came on it before */
	struct http_client_request *req;
	string_t *in;
	/* the response being read */
	bool headers_done, chunked, close_after, got_bytes;
	unsigned int status;
	char *reason;
	long long content_length;	/* -1: none given */
	size_t pos;			/* parsed up to here in in */
	string_t *body;
};

struct http_client {
	struct ioloop *loop;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char *host_port;	/* "127.0.0.1:18080" for errors */
	char *base, *path, *host_header, *user_agent, *header;
	unsigned int timeout_msecs;
	struct http_client_request *queue_head, *queue_tail;
	struct http_conn *conns;
	unsigned int conn_count;
	struct timeout *kick;
};

static void client_dispatch(struct http_client *client);
static void conn_destroy(struct http_conn *conn);

static const char *syscall_error(const char *func, int err)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "Connection lost: %s() failed: %s", func,
		 strerror(err));
	return buf;
}

/* ---- the client ---- */

static int parse_url(struct http_client *client, const char *url,
		     char **host_r, char **port_r, const char **error_r)
{
	const char *p, *host_end, *hp_end;

	if (strncasecmp(url, "https://", 8) == 0) {
		*error_r = "https:// is not supported (no TLS to the policy "
			"server yet)";
		return -1;
	}
	if (strncasecmp(url, "http://", 7) != 0) {
		*error_r = "URL must start with http://";
		return -1;
	}
	p = url + 7;
	hp_end = p + strcspn(p, "/?#");
	if (hp_end == p) {
		*error_r = "URL has no host";
		return -1;
	}
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(hp_end - p));
		if (host_end == NULL) {
			*error_r = "Invalid IPv6 address in URL";
			return -1;
		}
		*host_r = i_strndup(p + 1, (size_t)(host_end - p - 1));
		host_end++;
	} else {
		host_end = memchr(p, ':', (size_t)(hp_end - p));
		if (host_end == NULL)
			host_end = hp_end;
		*host_r = i_strndup(p, (size_t)(host_end - p));
	}
	if (host_end < hp_end && *host_end == ':')
		*port_r = i_strndup(host_end + 1,
				    (size_t)(hp_end - host_end - 1));
	else
		*port_r = i_strdup("80");
	client->host_header = i_strndup(p, (size_t)(hp_end - p));
	client->base = i_strndup(url, (size_t)(hp_end - url));
	client->path = *hp_end == '/' ? i_strdup(hp_end) :
		i_strdup_printf("/%s", hp_end);
	return 0;
}

struct http_client *http_client_create(struct ioloop *loop, const char *url,
				       const char *user_agent,
				       const char *header,
				       unsigned int timeout_msecs,
				       const char **error_r)
{
	struct http_client *client = i_new(struct http_client, 1);
	struct addrinfo hints, *ai = NULL;
	char *host = NULL, *port = NULL;
	int ret;

	client->loop = loop;
	client->timeout_msecs = timeout_msecs;
	client->user_agent = i_strdup(user_agent);
	client->header = header == NULL || *header == '\0' ? NULL :
		i_strdup(header);
	if (parse_url(client, url, &host, &port, error_r) < 0) {
		free(host);
		free(port);
		http_client_destroy(&client);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* resolved once, at startup: the loop never waits for DNS */
	ret = getaddrinfo(host, port, &hints, &ai);
	if (ret != 0 || ai == NULL) {
		*error_r = i_strdup_printf("%s: %s", host, gai_strerror(ret));
		free(host);
		free(port);
		http_client_destroy(&client);
		return NULL;
	}
	memcpy(&client->addr, ai->ai_addr, ai->ai_addrlen);
	client->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	client->host_port = i_strdup_printf(strchr(host, ':') != NULL ?
					    "[%s]:%s" : "%s:%s", host, port);
	free(host);
	free(port);
	return client;
}

static void request_free(struct http_client_request *req)
{
	timeout_remove(&req->to);
	str_free(&req->out);
	free(req);
}

/* Take req off the queue (it is there while conn is NULL). */
static void queue_unlink(struct http_client *client,
			 struct http_client_request *req)
{
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		client->queue_head = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	else
		client->queue_tail = req->prev;
	req->prev = req->next = NULL;
}

static void queue_append(struct http_client *client,
			 struct http_client_request *req, bool head)
{
	if (head) {
		req->next = client->queue_head;
		if (client->queue_head != NULL)
			client->queue_head->prev = req;
		else
			client->queue_tail = req;
		client->queue_head = req;
		return;
	}
	req->prev = client->queue_tail;
	if (client->queue_tail != NULL)
		client->queue_tail->next = req;
	else
		client->queue_head = req;
	client->queue_tail = req;
}

void http_client_destroy(struct http_client **_client)
{
	struct http_client *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	while (client->conns != NULL) {
		struct http_conn *conn = client->conns;

		if (conn->req != NULL) {
			request_free(conn->req);
			conn->req = NULL;
		}
		conn_destroy(conn);
	}
	while (client->queue_head != NULL) {
		struct http_client_request *req = client->queue_head;

		queue_unlink(client, req);
		request_free(req);
	}
	timeout_remove(&client->kick);
	free(client->host_port);
	free(client->base);
	free(client->path);
	free(client->host_header);
	free(client->user_agent);
	free(client->header);
	free(client);
}

const char *http_client_get_path(const struct http_client *client)
{
	return client->path;
}

const char *http_client_get_base(const struct http_client *client)
{
	return client->base;
}

/* ---- finishing a request ---- */

static void request_done(struct http_client_request *req, unsigned int status,
			 const char *reason, const char *body, size_t size,
			 const char *error)
{
	http_client_callback_t *callback = req->callback;
	void *context = req->context;

	if (req->conn != NULL)
		req->conn->req = NULL;
	req->conn = NULL;
	request_free(req);
	callback(status, reason, body, size, error, context);
}

static void kick_cb(void *context)
{
	struct http_client *client = context;

	timeout_remove(&client->kick);
	client_dispatch(client);
}

/* Dispatch from the loop, so that no callback runs inside a call. */
static void client_kick(struct http_client *client)
{
	if (client->kick == NULL)
		client->kick = timeout_add(client->loop, 0, kick_cb, client);
}

static void request_timeout(void *context)
{
	struct http_client_request *req = context;
	struct http_client *client = req->client;
	uint64_t now = io_loop_time_msecs();
	uint64_t queued = now - req->created_msecs;
	uint64_t sending = req->first_sent_msecs == 0 ? 0 :
		now - req->first_sent_msecs;
	char error[256];

	snprintf(error, sizeof(error), "Absolute request timeout expired "
		 "(Request queued %llu.%03llu secs ago, %u send attempts in "
		 "%llu.%03llu secs, 0.000 in other ioloops)",
		 (unsigned long long)(queued / 1000),
		 (unsigned long long)(queued % 1000), req->attempts,
		 (unsigned long long)(sending / 1000),
		 (unsigned long long)(sending % 1000));
	if (req->conn != NULL) {
		/* half-done on that connection: it can't be reused */
		struct http_conn *conn = req->conn;

		conn->req = NULL;
		req->conn = NULL;
		conn_destroy(conn);
	} else {
		queue_unlink(client, req);
	}
	request_done(req, 0, NULL, NULL, 0, error);
	client_kick(client);
}

/* ---- connections ---- */

static void conn_reset_response(struct http_conn *conn)
{
	conn->headers_done = conn->chunked = conn->close_after = false;
	conn->got_bytes = false;
	conn->status = 0;
	free(conn->reason);
	conn->reason = NULL;
	conn->content_length = -1;
	conn->pos = 0;
	str_clear(conn->in);
	str_clear(conn->body);
}

static void conn_destroy(struct http_conn *conn)
{
	struct http_client *client = conn->client;

	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		client->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	client->conn_count--;
	io_remove(&conn->io);
	if (conn->fd >= 0)
		close(conn->fd);
	free(conn->reason);
	str_free(&conn->in);
	str_free(&conn->body);
	free(conn);
}

/* The connection failed: the request fails with error, or is sent once
 * more on a new connection when a reused one turned out closed. */
static void conn_failed(struct http_conn *conn, const char *error)
{
	struct http_client *client = conn->client;
	struct http_client_request *req = conn->req;

	conn->req = NULL;
	if (req != NULL && conn->reused && !conn->got_bytes &&
	    req->attempts < 2) {
		req->conn = NULL;
		req->out_pos = 0;
		queue_append(client, req, true);
		req = NULL;
	}
	conn_destroy(conn);
	if (req != NULL) {
		req->conn = NULL;
		request_done(req, 0, NULL, NULL, 0, error);
	}
	client_kick(client);
}

static void conn_update_io(struct http_conn *conn)
{
	enum io_condition cond = IO_READ;

	if (!conn->connected ||
	    (conn->req != NULL && conn->req->out_pos < str_len(conn->req->out)))
		cond |= IO_WRITE;
	io_set_condition(conn->io, cond);
}

/* A complete response: hand it over, keep the connection if we may. */
static void conn_response_done(struct http_conn *conn)
{
	struct http_client *client = conn->client;
	struct http_client_request *req = conn->req;
	unsigned int status = conn->status;
	bool keep = !conn->close_after;
	string_t *body = conn->body;
	char *reason = conn->reason;

	/* bytes after the response: a server we don't understand */
	if (conn->pos < str_len(conn->in))
		keep = false;
	conn->body = str_new(256);
	conn->reason = NULL;
	conn->req = NULL;
	conn->reused = true;
	conn_reset_response(conn);
	if (!keep)
		conn_destroy(conn);
	else
		conn_update_io(conn);
	if (req != NULL) {
		req->conn = NULL;
		request_done(req, status, reason == NULL ? "" : reason,
			     str_c(body), str_len(body), NULL);
	}
	free(reason);
	str_free(&body);
	client_kick(client);
}

/* Find "\r\n" (or a bare "\n") from pos; returns the line length and
 * sets *next_r past its end, or -1 when it isn't all there yet. */
static long line_end(const string_t *in, size_t pos, size_t *next_r)
{
	const char *p = memchr(str_c(in) + pos, '\n', str_len(in) - pos);
	size_t len;

	if (p == NULL)
		return -1;
	len = (size_t)(p - (str_c(in) + pos));
	*next_r = pos + len + 1;
	if (len > 0 && str_c(in)[pos + len - 1] == '\r')
		len--;
	return (long)len;
}

static bool header_is(const char *line, size_t len, const char *name,
		      const char **value_r)
{
	size_t nlen = strlen(name);

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 ||
	    line[nlen] != ':')
		return false;
	*value_r = line + nlen + 1;
	while (**value_r == ' ' || **value_r == '\t')
		(*value_r)++;
	return true;
}

/* Parse the status line and headers. Returns 1 done, 0 need more, -1
 * with *error_r. */
static int conn_parse_headers(struct http_conn *conn, const char **error_r)
{
	size_t next;
	long len;

	for (;;) {
		const char *line, *value;

		len = line_end(conn->in, conn->pos, &next);
		if (len < 0) {
			if (str_len(conn->in) > HTTP_CLIENT_MAX_HEADER_SIZE) {
				*error_r = "Response header too large";
				return -1;
			}
			return 0;
		}
		line = str_c(conn->in) + conn->pos;
		conn->pos = next;
		if (conn->pos > HTTP_CLIENT_MAX_HEADER_SIZE) {
			*error_r = "Response header too large";
			return -1;
		}
		if (conn->status == 0) {
			unsigned int major, minor, status;
			int n = 0;

			if (sscanf(line, "HTTP/%u.%u %3u%n", &major, &minor,
				   &status, &n) != 3 || status < 100 ||
			    status > 999 || n > len) {
				*error_r = "Invalid HTTP status line";
				return -1;
			}
			conn->status = status;
			conn->close_after = major == 1 && minor == 0;
			free(conn->reason);
			conn->reason = i_strndup(line + n + (n < len),
				(size_t)(len - n - (n < len)));
			continue;
		}
		if (len == 0)
			break;
		if (header_is(line, (size_t)len, "Content-Length", &value)) {
			char *end;

			errno = 0;
			conn->content_length = strtoll(value, &end, 10);
			if (errno != 0 || conn->content_length < 0 ||
			    end == value) {
				*error_r = "Invalid Content-Length";
				return -1;
			}
		} else if (header_is(line, (size_t)len, "Transfer-Encoding",
				     &value)) {
			conn->chunked = strncasecmp(value, "chunked", 7) == 0;
		} else if (header_is(line, (size_t)len, "Connection",
				     &value)) {
			if (strncasecmp(value, "close", 5) == 0)
				conn->close_after = true;
			else if (strncasecmp(value, "keep-alive", 10) == 0)
				conn->close_after = false;
		}
	}
	if (conn->status < 200) {
		/* 100 Continue and the like: the real one follows */
		str_delete(conn->in, 0, conn->pos);
		conn->pos = 0;
		conn->status = 0;
		conn->content_length = -1;
		conn->chunked = false;
		return conn_parse_headers(conn, error_r);
	}
	conn->headers_done = true;
	if (conn->status == 204 || conn->status == 304)
		conn->content_length = 0;
	if (!conn->chunked && conn->content_length < 0)
		conn->close_after = true;	/* body until EOF */
	if (conn->content_length > HTTP_CLIENT_MAX_BODY_SIZE) {
		*error_r = "Response body too large";
		return -1;
	}
	return 1;
}

/* Body bytes so far: returns 1 complete, 0 need more, -1 error. */
static int conn_parse_body(struct http_conn *conn, bool eof,
			   const char **error_r)
{
	size_t avail = str_len(conn->in) - conn->pos;

	if (!conn->chunked && conn->content_length >= 0) {
		size_t want = (size_t)conn->content_length - str_len(conn->body);
		size_t take = MIN(want, avail);

		str_append_n(conn->body, str_c(conn->in) + conn->pos, take);
		conn->pos += take;
		if (str_len(conn->body) == (size_t)conn->content_length)
			return 1;
		if (eof) {
			*error_r = "Connection lost: Connection closed";
			return -1;
		}
		return 0;
	}
	if (!conn->chunked) {
		/* until the server closes */
		str_append_n(conn->body, str_c(conn->in) + conn->pos, avail);
		conn->pos += avail;
		if (str_len(conn->body) > HTTP_CLIENT_MAX_BODY_SIZE) {
			*error_r = "Response body too large";
			return -1;
		}
		return eof ? 1 : 0;
	}
	for (;;) {
		size_t next;
		long len = line_end(conn->in, conn->pos, &next);
		unsigned long size;
		char *end;

		if (len < 0)
			break;
		size = strtoul(str_c(conn->in) + conn->pos, &end, 16);
		if (end == str_c(conn->in) + conn->pos) {
			*error_r = "Invalid chunk size";
			return -1;
		}
		if (size == 0) {
			/* the last chunk: skip trailers up to the empty
			   line */
			size_t p = next;
			long tlen;

			while ((tlen = line_end(conn->in, p, &next)) > 0)
				p = next;
			if (tlen < 0)
				break;
			conn->pos = next;
			return 1;
		}
		if (size > HTTP_CLIENT_MAX_BODY_SIZE - str_len(conn->body)) {
			*error_r = "Response body too large";
			return -1;
		}
		/* data and its CRLF must both be there */
		if (str_len(conn->in) - next < size + 2)
			break;
		str_append_n(conn->body, str_c(conn->in) + next, size);
		conn->pos = next + size;
		if (str_c(conn->in)[conn->pos] == '\r')
			conn->pos++;
		if (str_c(conn->in)[conn->pos] == '\n')
			conn->pos++;
	}
	if (eof) {
		*error_r = "Connection lost: Connection closed";
		return -1;
	}
	return 0;
}

static void conn_input(struct http_conn *conn)
{
	char buf[4096];
	const char *error = NULL;
	ssize_t ret;
	bool eof = false;
	int r;

	ret = recv(conn->fd, buf, sizeof(buf), 0);
	if (ret < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_failed(conn, syscall_error("recv", errno));
		return;
	}
	if (ret == 0)
		eof = true;
	else if (conn->req == NULL) {
		/* nothing asked: a server talking out of turn */
		conn_destroy(conn);
		return;
	}
	if (conn->req == NULL) {
		/* an idle kept-alive connection the server closed */
		conn_destroy(conn);
		return;
	}
	if (ret > 0) {
		conn->got_bytes = true;
		str_append_n(conn->in, buf, (size_t)ret);
	}
	if (!conn->headers_done) {
		r = conn_parse_headers(conn, &error);
		if (r == 0 && eof)
			error = conn->got_bytes ?
				"Connection lost: Connection closed" :
				"Connection lost: Connection closed by server";
		if (r < 0 || (r == 0 && eof)) {
			conn_failed(conn, error);
			return;
		}
		if (r == 0)
			return;
	}
	r = conn_parse_body(conn, eof, &error);
	if (r < 0)
		conn_failed(conn, error);
	else if (r > 0)
		conn_response_done(conn);
}

static void conn_output(struct http_conn *conn)
{
	struct http_client_request *req = conn->req;
	ssize_t ret;

	if (req == NULL || req->out_pos >= str_len(req->out))
		return;
	ret = send(conn->fd, str_c(req->out) + req->out_pos,
		   str_len(req->out) - req->out_pos, MSG_NOSIGNAL);
	if (ret < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_failed(conn, syscall_error("send", errno));
		return;
	}
	req->out_pos += (size_t)ret;
	conn_update_io(conn);
}

static void conn_io(void *context)
{
	struct http_conn *conn = context;

	if (!conn->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err,
			       &len) < 0)
			err = errno;
		if (err == EINPROGRESS)
			return;
		if (err != 0) {
			char error[256];

			snprintf(error, sizeof(error),
				 "connect(%s) failed: %s",
				 conn->client->host_port, strerror(err));
			conn_failed(conn, error);
			return;
		}
		conn->connected = true;
		conn_update_io(conn);
	}
	if (conn->req != NULL && conn->req->out_pos < str_len(conn->req->out)) {
		conn_output(conn);
		return;	/* conn may be gone */
	}
	conn_input(conn);
}

static struct http_conn *conn_create(struct http_client *client,
				     const char **error_r)
{
	static char errbuf[256];
	struct http_conn *conn;
	int fd;

	fd = socket(client->addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(errbuf, sizeof(errbuf), "socket() failed: %s",
			 strerror(errno));
		*error_r = errbuf;
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&client->addr,
		    client->addr_len) < 0 && errno != EINPROGRESS) {
		snprintf(errbuf, sizeof(errbuf), "connect(%s) failed: %s",
			 client->host_port, strerror(errno));
		*error_r = errbuf;
		close(fd);
		return NULL;
	}
	conn = i_new(struct http_conn, 1);
	conn->client = client;
	conn->fd = fd;
	conn->in = str_new(1024);
	conn->body = str_new(256);
	conn->content_length = -1;
	conn->io = io_add(client->loop, fd, IO_READ | IO_WRITE, conn_io,
			  conn);
	conn->next = client->conns;
	if (client->conns != NULL)
		client->conns->prev = conn;
	client->conns = conn;
	client->conn_count++;
	return conn;
}

static void client_dispatch(struct http_client *client)
{
	while (client->queue_head != NULL) {
		struct http_client_request *req = client->queue_head;
		struct http_conn *conn;
		const char *error;

		for (conn = client->conns; conn != NULL; conn = conn->next) {
			if (conn->connected && conn->req == NULL)
				break;
		}
		if (conn == NULL) {
			if (client->conn_count >= HTTP_CLIENT_MAX_CONNECTIONS)
				return;
			conn = conn_create(client, &error);
			if (conn == NULL) {
				queue_unlink(client, req);
				request_done(req, 0, NULL, NULL, 0, error);
				continue;
			}
		}
		queue_unlink(client, req);
		conn->req = req;
		req->conn = conn;
		req->attempts++;
		if (req->first_sent_msecs == 0)
			req->first_sent_msecs = io_loop_time_msecs();
		conn_update_io(conn);
	}
}

/* ---- requests ---- */

static void append_date(string_t *str)
{
	char buf[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	str_append(str, buf);
}

struct http_client_request *
http_client_post(struct http_client *client, const char *path_query,
		 const char *content_type, const char *body,
		 http_client_callback_t *callback, void *context)
{
	struct http_client_request *req = i_new(struct http_client_request, 1);
	size_t body_len = strlen(body);

	req->client = client;
	req->callback = callback;
	req->context = context;
	req->created_msecs = io_loop_time_msecs();
	req->out = str_new(512 + body_len);
	/* the header lines in the order Dovecot's client sends them */
	str_printfa(req->out, "POST %s HTTP/1.1\r\nHost: %s\r\nDate: ",
		    path_query, client->host_header);
	append_date(req->out);
	str_printfa(req->out, "\r\nUser-Agent: %s\r\nContent-Length: %zu\r\n"
		    "Connection: Keep-Alive\r\nContent-Type: %s\r\n",
		    client->user_agent, body_len, content_type);
	if (client->header != NULL)
		str_printfa(req->out, "%s\r\n", client->header);
	str_append(req->out, "\r\n");
	str_append_n(req->out, body, body_len);
	if (client->timeout_msecs > 0) {
		req->to = timeout_add(client->loop, client->timeout_msecs,
				      request_timeout, req);
	}
	queue_append(client, req, false);
	client_kick(client);
	return req;
}

void http_client_request_abort(struct http_client_request **_req)
{
	struct http_client_request *req = *_req;

	if (req == NULL)
		return;
	*_req = NULL;
	if (req->conn != NULL) {
		/* mid-flight: the connection's state is unknown now */
		struct http_conn *conn = req->conn;

		conn->req = NULL;
		conn_destroy(conn);
		client_kick(req->client);
	} else {
		queue_unlink(req->client, req);
	}
	request_free(req);
}

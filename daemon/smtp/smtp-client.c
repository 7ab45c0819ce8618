/* smtp-client.c - the relay side of the submission service: one
 * connection to the MTA, driven by a queue of commands whose replies
 * come back in order (RFC 5321, 2920 PIPELINING, 3030 CHUNKING, 3207
 * STARTTLS, 4954 AUTH, Postfix's XCLIENT). TLS runs in a lib/tls.c
 * proxy pump, so the SMTP code always talks plain text on a socket. */
#include "smtp-client.h"
#include "array.h"
#include "base64.h"
#include "connection.h"
#include "str.h"
#include "tls.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SMTP_CLIENT_MAX_LINE 8192
#define SMTP_CLIENT_MAX_OUTPUT (256 * 1024)
#define SMTP_CLIENT_MAX_REPLY_LINES 64
#define SMTP_CLIENT_READ_CHUNK 65536

enum smtp_cmd_type {
	CMD_LINE,		/* a command line, one reply */
	CMD_GREETING,		/* nothing sent: the 220 greeting */
	CMD_DATA,		/* "DATA", then the message after 354 */
	CMD_BDAT,		/* "BDAT n LAST" + the message */
};

struct smtp_cmd {
	enum smtp_cmd_type type;
	char *line;
	bool sent, data_started;
	/* the message */
	const char *prefix;
	char *prefix_copy;
	int fd;
	uint64_t size, offset;
	size_t prefix_sent;
	bool bol, ends_crlf, last_cr;
	smtp_client_reply_callback_t *callback;
	void *context;
};

enum smtp_client_state {
	STATE_NEW,
	STATE_CONNECTING,
	STATE_TLS_HANDSHAKE,
	STATE_SETUP,		/* greeting, EHLO, STARTTLS, AUTH, XCLIENT */
	STATE_READY,
	STATE_FAILED,
};

struct smtp_client {
	struct ioloop *loop;
	struct smtp_client_settings set;
	char *host, *helo_name, *user, *master_user, *password;
	char *xclient_addr, *xclient_helo, *xclient_login, *xclient_proto,
		*xclient_destaddr;
	char *rawlog_dir;
	enum smtp_client_state state;
	int fd;
	struct io *connect_io;
	struct timeout *to, *idle_to;
	struct connection *conn;
	struct tls_ctx *tls_ctx;
	struct tls_conn *tls_conn;
	struct tls_proxy *tls_proxy;
	int tls_plain_fd;	/* the proxy's end, until the handshake */
	bool tls_active, did_xclient;
	struct timeout *fail_to;

	ARRAY(struct smtp_cmd *) cmds;	/* in order; sent ones first */
	/* the reply being read */
	unsigned int reply_status;
	string_t *reply_text;
	unsigned int reply_lines;

	enum smtp_client_capability caps;
	uint64_t max_size;
	char *auth_mechs;

	smtp_client_reply_callback_t *ready_callback;
	void *ready_context;
	smtp_client_lost_callback_t *lost_callback;
	void *lost_context;
	int rawlog_in, rawlog_out;
	bool destroyed;
};

static void client_send_next(struct smtp_client *client);
static void client_fail(struct smtp_client *client, const char *reason);
static void setup_ehlo(struct smtp_client *client);

/* ---- helpers ---- */

int smtp_reply_line_parse(const char *line, unsigned int *status_r,
			  const char **text_r)
{
	if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) || line[0] < '2' || line[0] > '5')
		return -1;
	*status_r = (unsigned int)((line[0] - '0') * 100 + (line[1] - '0') * 10 +
				   (line[2] - '0'));
	if (line[3] == '\0') {
		*text_r = line + 3;
		return 1;
	}
	if (line[3] != ' ' && line[3] != '-')
		return -1;
	*text_r = line + 4;
	return line[3] == ' ' ? 1 : 0;
}

bool smtp_reply_split_enhanced(const char *text, char enhanced[16],
			       const char **rest_r)
{
	const char *p = text;
	size_t len;

	/* class "." subject "." detail: 1 digit, 1-3 digits, 1-3 digits */
	if (*p < '2' || *p > '5' || p[1] != '.')
		return false;
	p += 2;
	for (int part = 0; part < 2; part++) {
		size_t n = 0;

		while (isdigit((unsigned char)p[n]))
			n++;
		if (n == 0 || n > 3)
			return false;
		p += n;
		if (part == 0) {
			if (*p != '.')
				return false;
			p++;
		}
	}
	if (*p != ' ' && *p != '\0')
		return false;
	len = (size_t)(p - text);
	memcpy(enhanced, text, len);
	enhanced[len] = '\0';
	*rest_r = *p == ' ' ? p + 1 : p;
	return true;
}

enum smtp_client_capability smtp_ehlo_line_parse(const char *line, uint64_t *size_r)
{
	static const struct {
		const char *name;
		enum smtp_client_capability cap;
	} names[] = {
		{ "8BITMIME", SMTP_CLIENT_CAP_8BITMIME },
		{ "SIZE", SMTP_CLIENT_CAP_SIZE },
		{ "DSN", SMTP_CLIENT_CAP_DSN },
		{ "SMTPUTF8", SMTP_CLIENT_CAP_SMTPUTF8 },
		{ "CHUNKING", SMTP_CLIENT_CAP_CHUNKING },
		{ "PIPELINING", SMTP_CLIENT_CAP_PIPELINING },
		{ "STARTTLS", SMTP_CLIENT_CAP_STARTTLS },
		{ "AUTH", SMTP_CLIENT_CAP_AUTH },
		{ "ENHANCEDSTATUSCODES", SMTP_CLIENT_CAP_ENHANCEDSTATUSCODES },
		{ "XCLIENT", SMTP_CLIENT_CAP_XCLIENT },
		{ "BINARYMIME", SMTP_CLIENT_CAP_BINARYMIME },
		{ "VRFY", SMTP_CLIENT_CAP_VRFY },
	};
	size_t len = strcspn(line, " =\n");

	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		if (strlen(names[i].name) != len ||
		    strncasecmp(line, names[i].name, len) != 0)
			continue;
		if (names[i].cap == SMTP_CLIENT_CAP_SIZE && size_r != NULL) {
			const char *p = line + len;
			uint64_t v = 0;

			*size_r = 0;
			if (*p == ' ') {
				for (p++; isdigit((unsigned char)*p); p++) {
					if (v > (UINT64_MAX - 9) / 10)
						break;
					v = v * 10 + (uint64_t)(*p - '0');
				}
				*size_r = v;
			}
		}
		return names[i].cap;
	}
	return 0;
}

void smtp_dot_stuff(string_t *dest, const unsigned char *data, size_t size,
		    bool *bol)
{
	size_t start = 0;

	for (size_t i = 0; i < size; i++) {
		if (*bol && data[i] == '.') {
			str_append_n(dest, data + start, i - start);
			str_append_c(dest, '.');
			start = i;
		}
		*bol = data[i] == '\n';
	}
	str_append_n(dest, data + start, size - start);
}

void smtp_crlf_convert(string_t *dest, const unsigned char *data, size_t size,
		       bool *last_cr)
{
	size_t start = 0;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' && !(i > 0 ? data[i - 1] == '\r' : *last_cr)) {
			str_append_n(dest, data + start, i - start);
			str_append_c(dest, '\r');
			start = i;
		}
	}
	str_append_n(dest, data + start, size - start);
	if (size > 0)
		*last_cr = data[size - 1] == '\r';
}

/* The size of fd's first size bytes once bare LFs are CRLFs (BDAT must
 * say it first). -1 if the file can't be read. */
static int64_t crlf_converted_size(int fd, uint64_t size)
{
	unsigned char buf[SMTP_CLIENT_READ_CHUNK];
	uint64_t offset = 0, extra = 0;
	bool last_cr = false;

	while (offset < size) {
		size_t want = size - offset > sizeof(buf) ? sizeof(buf) :
			(size_t)(size - offset);
		ssize_t n = pread(fd, buf, want, (off_t)offset);

		if (n <= 0)
			return -1;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && !(i > 0 ? buf[i - 1] == '\r' : last_cr))
				extra++;
		}
		last_cr = buf[n - 1] == '\r';
		offset += (uint64_t)n;
	}
	return (int64_t)(size + extra);
}

/* ---- rawlog ---- */

static void rawlog_open(struct smtp_client *client)
{
	static unsigned int counter;
	char stamp[32], *path;
	time_t now = time(NULL);
	struct tm tm;

	client->rawlog_in = client->rawlog_out = -1;
	if (client->rawlog_dir == NULL || client->rawlog_dir[0] == '\0')
		return;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	counter++;
	for (int i = 0; i < 2; i++) {
		path = i_strdup_printf("%s/%s.%ld.%u.%s", client->rawlog_dir,
				       stamp, (long)getpid(), counter,
				       i == 0 ? "in" : "out");
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0600);
		if (fd < 0)
			i_error("rawlog: open(%s) failed: %m", path);
		if (i == 0)
			client->rawlog_in = fd;
		else
			client->rawlog_out = fd;
		i_free(path);
	}
}

static void rawlog_write(int fd, const void *data, size_t size)
{
	if (fd >= 0 && write(fd, data, size) < 0) {
		/* a full disk must not stop mail */
	}
}

static void client_send(struct smtp_client *client, const void *data,
			size_t size)
{
	rawlog_write(client->rawlog_out, data, size);
	connection_send(client->conn, data, size);
}

static void client_send_line(struct smtp_client *client, const char *line)
{
	string_t *str = str_new(strlen(line) + 3);

	str_append(str, line);
	str_append(str, "\r\n");
	client_send(client, str_c(str), str_len(str));
	str_free(&str);
}

/* ---- the command queue ---- */

static struct smtp_cmd *cmd_new(struct smtp_client *client,
				enum smtp_cmd_type type, const char *line,
				smtp_client_reply_callback_t *callback,
				void *context)
{
	struct smtp_cmd *cmd = i_new(struct smtp_cmd, 1);

	cmd->type = type;
	cmd->line = line == NULL ? NULL : i_strdup(line);
	cmd->fd = -1;
	cmd->callback = callback;
	cmd->context = context;
	array_push(&client->cmds, cmd);
	return cmd;
}

static void cmd_free(struct smtp_cmd *cmd)
{
	i_free(cmd->line);
	i_free(cmd->prefix_copy);
	i_free(cmd);
}

/* Remove the first command and give it its reply. Returns false if the
 * client was destroyed by the callback. */
static bool cmd_reply(struct smtp_client *client, const struct smtp_reply *reply)
{
	struct smtp_cmd *cmd;

	if (client->cmds.count == 0)
		return true;
	cmd = client->cmds.v[0];
	array_delete(&client->cmds, 0);
	if (cmd->callback != NULL)
		cmd->callback(reply, cmd->context);
	cmd_free(cmd);
	return !client->destroyed;
}

static void client_idle_timeout(void *context)
{
	struct smtp_client *client = context;

	client_fail(client, "Disconnected: idle time exceeded");
}

static void client_command_timeout(void *context)
{
	struct smtp_client *client = context;
	char *reason = i_strdup_printf("Command timed out after %u seconds",
				       client->set.command_timeout_msecs / 1000);

	client_fail(client, reason);
	i_free(reason);
}

/* Timers: the command timeout runs while a reply is awaited, the idle
 * timeout while nothing is. */
static void client_update_timers(struct smtp_client *client)
{
	bool waiting = client->cmds.count > 0 && client->cmds.v[0]->sent;

	if (client->state != STATE_SETUP && client->state != STATE_READY)
		return;
	if (waiting) {
		timeout_remove(&client->idle_to);
		if (client->to == NULL && client->set.command_timeout_msecs > 0)
			client->to = timeout_add(client->loop,
				client->set.command_timeout_msecs,
				client_command_timeout, client);
	} else {
		timeout_remove(&client->to);
		if (client->state == STATE_READY && client->idle_to == NULL &&
		    client->set.max_idle_msecs > 0)
			client->idle_to = timeout_add(client->loop,
				client->set.max_idle_msecs,
				client_idle_timeout, client);
	}
}

/* Queue as much of the message as the output buffer takes. Returns
 * true when all of it (and the terminator) is queued. */
static bool cmd_stream_message(struct smtp_client *client, struct smtp_cmd *cmd)
{
	unsigned char *buf = NULL;
	string_t *out = str_new(SMTP_CLIENT_READ_CHUNK + 1024);
	bool data = cmd->type == CMD_DATA;

	while (connection_output_queued(client->conn) < SMTP_CLIENT_MAX_OUTPUT / 2) {
		size_t plen = strlen(cmd->prefix);

		str_clear(out);
		if (cmd->prefix_sent < plen) {
			const unsigned char *p = (const unsigned char *)cmd->prefix +
				cmd->prefix_sent;
			size_t n = plen - cmd->prefix_sent;

			if (data)
				smtp_dot_stuff(out, p, n, &cmd->bol);
			else
				str_append_n(out, p, n);
			cmd->prefix_sent = plen;
			cmd->ends_crlf = plen >= 2 && p[n - 1] == '\n';
		} else if (cmd->offset < cmd->size) {
			size_t want = cmd->size - cmd->offset > SMTP_CLIENT_READ_CHUNK ?
				SMTP_CLIENT_READ_CHUNK :
				(size_t)(cmd->size - cmd->offset);
			ssize_t n;

			if (buf == NULL)
				buf = i_malloc(SMTP_CLIENT_READ_CHUNK);
			n = pread(cmd->fd, buf, want, (off_t)cmd->offset);
			if (n <= 0) {
				i_error("pread(message) failed: %s", n < 0 ?
					strerror(errno) : "unexpected EOF");
				free(buf);
				str_free(&out);
				client_fail(client, "Failed to read the message");
				return false;
			}
			cmd->offset += (uint64_t)n;
			/* line ends go out as CRLF whatever the client sent */
			if (data) {
				string_t *conv = str_new((size_t)n + 64);

				smtp_crlf_convert(conv, buf, (size_t)n, &cmd->last_cr);
				smtp_dot_stuff(out, (const unsigned char *)str_c(conv),
					       str_len(conv), &cmd->bol);
				str_free(&conv);
			} else {
				smtp_crlf_convert(out, buf, (size_t)n, &cmd->last_cr);
			}
			cmd->ends_crlf = buf[n - 1] == '\n';
		} else {
			if (data) {
				client_send(client, cmd->ends_crlf || cmd->size +
					    plen == 0 ? ".\r\n" : "\r\n.\r\n",
					    cmd->ends_crlf || cmd->size + plen == 0 ?
					    3 : 5);
			}
			free(buf);
			str_free(&out);
			connection_want_output(client->conn, false);
			return true;
		}
		client_send(client, str_c(out), str_len(out));
	}
	free(buf);
	str_free(&out);
	connection_want_output(client->conn, true);
	return false;
}

static bool client_output_ready(struct connection *conn)
{
	struct smtp_client *client = conn->context;

	for (size_t i = 0; i < client->cmds.count; i++) {
		struct smtp_cmd *cmd = client->cmds.v[i];

		if (cmd->data_started && cmd->offset <= cmd->size &&
		    cmd->fd >= 0) {
			if (cmd_stream_message(client, cmd)) {
				cmd->fd = -1;	/* all of it queued */
				client_send_next(client);
			}
			return !client->destroyed;
		}
	}
	connection_want_output(conn, false);
	return true;
}

/* Is a message being streamed, or does a sent command forbid sending
 * more before its reply? */
static bool client_blocked(struct smtp_client *client)
{
	bool pipelining = client->state == STATE_READY &&
		(client->caps & SMTP_CLIENT_CAP_PIPELINING) != 0;

	for (size_t i = 0; i < client->cmds.count; i++) {
		struct smtp_cmd *cmd = client->cmds.v[i];

		if (!cmd->sent)
			break;
		if (!pipelining || cmd->type == CMD_DATA ||
		    cmd->type == CMD_GREETING || (cmd->fd >= 0 &&
		    cmd->data_started))
			return true;
	}
	return false;
}

static void client_send_next(struct smtp_client *client)
{
	if (client->conn == NULL || client->destroyed)
		return;
	for (size_t i = 0; i < client->cmds.count; i++) {
		struct smtp_cmd *cmd = client->cmds.v[i];

		if (cmd->sent)
			continue;
		if (client_blocked(client))
			break;
		cmd->sent = true;
		if (cmd->line != NULL)
			client_send_line(client, cmd->line);
		if (cmd->type == CMD_BDAT) {
			cmd->data_started = true;
			if (!cmd_stream_message(client, cmd))
				break;
			cmd->fd = -1;
		}
	}
	client_update_timers(client);
}

/* ---- input ---- */

static void client_input_reply(struct smtp_client *client)
{
	struct smtp_reply reply;
	const char *text = str_c(client->reply_text), *rest;
	struct smtp_cmd *cmd;

	memset(&reply, 0, sizeof(reply));
	reply.status = client->reply_status;
	reply.text = text;
	if (smtp_reply_split_enhanced(text, reply.enhanced, &rest))
		reply.text = text;
	timeout_remove(&client->to);
	if (client->cmds.count == 0 || !client->cmds.v[0]->sent) {
		/* a reply nobody asked for: the relay closes, as Postfix
		   does on a timeout ("421 ... Error: timeout exceeded") */
		client_fail(client, reply.status == 421 ? text :
			    "Unexpected reply from server");
		return;
	}
	cmd = client->cmds.v[0];
	if (cmd->type == CMD_DATA && !cmd->data_started &&
	    reply.status == 354) {
		/* go ahead: stream the message; its final reply comes to
		   the same command */
		cmd->data_started = true;
		if (cmd_stream_message(client, cmd)) {
			cmd->fd = -1;
		}
		client_update_timers(client);
		return;
	}
	if (!cmd_reply(client, &reply))
		return;
	client_send_next(client);
}

static bool client_input_line(struct connection *conn, char *line)
{
	struct smtp_client *client = conn->context;
	unsigned int status;
	const char *text;
	int ret;

	rawlog_write(client->rawlog_in, line, strlen(line));
	rawlog_write(client->rawlog_in, "\r\n", 2);
	if (client->to != NULL)
		timeout_reset(client->to);
	ret = smtp_reply_line_parse(line, &status, &text);
	if (ret < 0 || (client->reply_lines > 0 && status != client->reply_status)) {
		client_fail(client, "Invalid reply from server");
		return !client->destroyed && client->conn != NULL;
	}
	if (client->reply_lines++ == 0) {
		client->reply_status = status;
		str_clear(client->reply_text);
	} else {
		str_append_c(client->reply_text, '\n');
	}
	if (client->reply_lines > SMTP_CLIENT_MAX_REPLY_LINES) {
		client_fail(client, "Reply from server has too many lines");
		return !client->destroyed && client->conn != NULL;
	}
	str_append(client->reply_text, text);
	if (ret == 0)
		return true;
	client->reply_lines = 0;
	client_input_reply(client);
	return !client->destroyed && client->conn != NULL;
}

static void client_disconnected(struct connection *conn, const char *reason)
{
	struct smtp_client *client = conn->context;

	(void)reason;
	client_fail(client, "connection lost");
}

static const struct connection_vfuncs client_vfuncs = {
	.input_line = client_input_line,
	.disconnected = client_disconnected,
	.output_ready = client_output_ready,
};

/* ---- failure ---- */

static void client_close(struct smtp_client *client)
{
	io_remove(&client->connect_io);
	timeout_remove(&client->to);
	timeout_remove(&client->idle_to);
	if (client->conn != NULL)
		connection_free(&client->conn);
	else if (client->fd >= 0 && client->tls_proxy == NULL)
		close(client->fd);
	client->fd = -1;
	if (client->tls_plain_fd >= 0)
		close(client->tls_plain_fd);
	client->tls_plain_fd = -1;
	if (client->tls_proxy != NULL)
		tls_proxy_free(&client->tls_proxy);
	else if (client->tls_conn != NULL) {
		int fd = tls_conn_get_fd(client->tls_conn);
		tls_conn_free(&client->tls_conn);
		close(fd);
	}
	client->tls_conn = NULL;
}

/* The connection is unusable: every pending command and the setup
 * callback get status 0 with the reason; then the lost callback. */
static void client_fail(struct smtp_client *client, const char *reason)
{
	enum smtp_client_state old_state = client->state;
	struct smtp_reply reply;
	char *why = i_strdup(reason);

	if (client->state == STATE_FAILED)
		return;
	client->state = STATE_FAILED;
	client_close(client);
	memset(&reply, 0, sizeof(reply));
	reply.text = why;
	while (client->cmds.count > 0) {
		if (!cmd_reply(client, &reply)) {
			i_free(why);
			return;
		}
	}
	if (old_state != STATE_READY && client->ready_callback != NULL) {
		smtp_client_reply_callback_t *cb = client->ready_callback;

		client->ready_callback = NULL;
		cb(&reply, client->ready_context);
	} else if (old_state == STATE_READY && client->lost_callback != NULL) {
		client->lost_callback(why, client->lost_context);
	}
	i_free(why);
}

/* A setup step was refused: the connection is given up, and the setup
 * callback hears the relay's reply. */
static void setup_refused(struct smtp_client *client,
			  const struct smtp_reply *reply)
{
	smtp_client_reply_callback_t *cb = client->ready_callback;
	char *text = i_strdup(reply->text);
	struct smtp_reply copy = *reply;

	client->ready_callback = NULL;
	client->state = STATE_FAILED;
	client_close(client);
	copy.text = text;
	while (client->cmds.count > 0) {
		struct smtp_reply none = { .status = 0, .text = text };
		if (!cmd_reply(client, &none)) {
			i_free(text);
			return;
		}
	}
	if (cb != NULL)
		cb(&copy, client->ready_context);
	i_free(text);
}

/* ---- setup ---- */

static void setup_done(struct smtp_client *client, const struct smtp_reply *reply)
{
	smtp_client_reply_callback_t *cb = client->ready_callback;

	client->state = STATE_READY;
	client->ready_callback = NULL;
	client_update_timers(client);
	if (cb != NULL)
		cb(reply, client->ready_context);
}

static void setup_xclient_reply(const struct smtp_reply *reply, void *context)
{
	struct smtp_client *client = context;

	if (reply->status == 0)
		return;
	if (reply->status != 220) {
		setup_refused(client, reply);
		return;
	}
	/* XCLIENT resets the session: EHLO again */
	client->did_xclient = true;
	setup_ehlo(client);
}

static void xclient_add(string_t *str, const char *name, const char *value,
			const char *offered)
{
	if (value == NULL || value[0] == '\0')
		return;
	if (offered != NULL && strstr(offered, name) == NULL)
		return;
	str_printfa(str, " %s=", name);
	/* xtext (RFC 1891): '+', '=' and anything outside 33..126 as +XX */
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			str_printfa(str, "+%02X", *p);
		else
			str_append_c(str, (char)*p);
	}
}

static void setup_after_auth(struct smtp_client *client,
			     const struct smtp_reply *ehlo_reply)
{
	if (client->set.xclient && !client->did_xclient &&
	    (client->caps & SMTP_CLIENT_CAP_XCLIENT) != 0) {
		string_t *str = str_new(256);
		char port[16];

		/* Dovecot's order */
		str_append(str, "XCLIENT");
		xclient_add(str, "HELO", client->xclient_helo, NULL);
		xclient_add(str, "PROTO", client->xclient_proto, NULL);
		xclient_add(str, "LOGIN", client->xclient_login, NULL);
		if (client->set.xclient_port != 0) {
			snprintf(port, sizeof(port), "%u", client->set.xclient_port);
			xclient_add(str, "PORT", port, NULL);
		}
		xclient_add(str, "ADDR", client->xclient_addr, NULL);
		cmd_new(client, CMD_LINE, str_c(str), setup_xclient_reply, client);
		str_free(&str);
		client_send_next(client);
		return;
	}
	setup_done(client, ehlo_reply);
}

static void setup_auth_reply(const struct smtp_reply *reply, void *context)
{
	struct smtp_client *client = context;
	struct smtp_reply ehlo = { .status = 250, .text = "" };

	if (reply->status == 0)
		return;
	if (reply->status != 235) {
		setup_refused(client, reply);
		return;
	}
	setup_after_auth(client, &ehlo);
}

static void setup_auth(struct smtp_client *client)
{
	string_t *plain = str_new(256), *line = str_new(512);
	const char *authz = client->master_user[0] != '\0' ? client->user : "";
	const char *authc = client->master_user[0] != '\0' ?
		client->master_user : client->user;

	str_append(plain, authz);
	str_append_c(plain, '\0');
	str_append(plain, authc);
	str_append_c(plain, '\0');
	str_append(plain, client->password);
	str_append(line, "AUTH PLAIN ");
	base64_encode(line, str_c(plain), str_len(plain));
	cmd_new(client, CMD_LINE, str_c(line), setup_auth_reply, client);
	explicit_bzero(plain->data, str_len(plain));
	explicit_bzero(line->data, str_len(line));
	str_free(&plain);
	str_free(&line);
	client_send_next(client);
}

static void setup_starttls(struct smtp_client *client);

static void setup_ehlo_reply(const struct smtp_reply *reply, void *context)
{
	struct smtp_client *client = context;
	const char *text = reply->text;

	if (reply->status == 0)
		return;
	if (reply->status != 250) {
		setup_refused(client, reply);
		return;
	}
	client->caps = 0;
	client->max_size = 0;
	/* the first line is the relay's name */
	for (const char *p = strchr(text, '\n'); p != NULL;
	     p = strchr(p + 1, '\n')) {
		uint64_t size = 0;
		enum smtp_client_capability cap = smtp_ehlo_line_parse(p + 1, &size);

		client->caps |= cap;
		if (cap == SMTP_CLIENT_CAP_SIZE)
			client->max_size = size;
		if (cap == SMTP_CLIENT_CAP_AUTH) {
			const char *end = strchr(p + 1, '\n');
			i_free(client->auth_mechs);
			client->auth_mechs = end == NULL ? i_strdup(p + 1) :
				i_strndup(p + 1, (size_t)(end - p - 1));
		}
	}
	if (client->set.ssl == SMTP_CLIENT_SSL_STARTTLS && !client->tls_active) {
		if ((client->caps & SMTP_CLIENT_CAP_STARTTLS) == 0) {
			client_fail(client, "STARTTLS not supported by server");
			return;
		}
		setup_starttls(client);
		return;
	}
	if (client->user[0] != '\0' && !client->did_xclient) {
		if ((client->caps & SMTP_CLIENT_CAP_AUTH) == 0) {
			client_fail(client, "Authentication not supported by server");
			return;
		}
		setup_auth(client);
		return;
	}
	setup_after_auth(client, reply);
}

static void setup_ehlo(struct smtp_client *client)
{
	char *line = i_strdup_printf("EHLO %s", client->helo_name);

	cmd_new(client, CMD_LINE, line, setup_ehlo_reply, client);
	i_free(line);
	client_send_next(client);
}

static void setup_greeting_reply(const struct smtp_reply *reply, void *context)
{
	struct smtp_client *client = context;

	if (reply->status == 0)
		return;
	if (reply->status != 220) {
		setup_refused(client, reply);
		return;
	}
	setup_ehlo(client);
}

static void tls_proxy_closed(struct tls_proxy *proxy ATTR_UNUSED,
			     const char *reason ATTR_UNUSED, void *context)
{
	struct smtp_client *client = context;

	/* the plain side sees EOF as well; the connection's disconnect
	   reports it */
	(void)client;
}

static int client_tls_start(struct smtp_client *client, int tcp_fd);

static void setup_starttls_reply(const struct smtp_reply *reply, void *context)
{
	struct smtp_client *client = context;

	if (reply->status == 0)
		return;
	if (reply->status != 220) {
		setup_refused(client, reply);
		return;
	}
	(void)client_tls_start(client, -1);
}

static void setup_starttls(struct smtp_client *client)
{
	cmd_new(client, CMD_LINE, "STARTTLS", setup_starttls_reply, client);
	client_send_next(client);
}

/* ---- connecting ---- */

static void client_start_conn(struct smtp_client *client, int fd)
{
	client->conn = connection_create(client->loop, fd, SMTP_CLIENT_MAX_LINE,
					 SMTP_CLIENT_MAX_OUTPUT, &client_vfuncs,
					 client);
	client->state = STATE_SETUP;
}

static void tls_handshaked(struct tls_conn *conn, bool success, void *context)
{
	struct smtp_client *client = context;

	if (!success) {
		const char *err = tls_conn_error(conn);
		char *reason = i_strdup_printf("TLS handshake failed: %s",
					       err == NULL ? "unknown error" : err);
		client_fail(client, reason);
		i_free(reason);
		return;
	}
	client->tls_active = true;
	client->tls_proxy = tls_proxy_create(client->loop, conn,
					     client->tls_plain_fd, 0,
					     tls_proxy_closed, client);
	client->tls_plain_fd = -1;
	client->tls_conn = NULL;
	client->state = STATE_SETUP;
	connection_pause(client->conn, false);
	if (client->set.ssl == SMTP_CLIENT_SSL_SMTPS) {
		/* the greeting is awaited (queued in client_connected) */
		client_update_timers(client);
	} else {
		setup_ehlo(client);
	}
}

/* Put TLS under the connection: the TCP socket (tcp_fd, or the
 * connection's own for STARTTLS) goes to a TLS client connection, and
 * the SMTP connection continues on a socketpair whose other end the
 * proxy pump gets once the handshake succeeded. */
static int client_tls_start(struct smtp_client *client, int tcp_fd)
{
	const char *error;
	int sv[2];

	if (client->tls_ctx == NULL) {
		struct tls_settings tset;

		memset(&tset, 0, sizeof(tset));
		tset.client_ca_file = client->set.ssl_client_ca_file;
		tset.client_ca_dir = client->set.ssl_client_ca_dir;
		if (tls_ctx_create_client(&tset, client->set.ssl_verify,
					  &client->tls_ctx, &error) < 0) {
			if (tcp_fd >= 0)
				close(tcp_fd);
			client_fail(client, error);
			return -1;
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		if (tcp_fd >= 0)
			close(tcp_fd);
		client_fail(client, "socketpair() failed");
		return -1;
	}
	if (client->conn == NULL) {
		client_start_conn(client, sv[1]);
	} else {
		tcp_fd = connection_replace_fd(client->conn, sv[1]);
	}
	/* nothing to read before the handshake is done */
	connection_pause(client->conn, true);
	client->tls_plain_fd = sv[0];
	client->state = STATE_TLS_HANDSHAKE;
	client->tls_conn = tls_conn_create_client(client->tls_ctx, tcp_fd,
						  client->host);
	if (client->tls_conn == NULL) {
		close(tcp_fd);
		client_fail(client, "TLS initialization failed");
		return -1;
	}
	tls_conn_handshake_start(client->tls_conn, client->loop,
				 tls_handshaked, client);
	return 0;
}

static void client_connected(void *context)
{
	struct smtp_client *client = context;
	int err = 0;
	socklen_t len = sizeof(err);
	int fd = client->fd;

	io_remove(&client->connect_io);
	timeout_remove(&client->to);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		char *reason = i_strdup_printf("connect(%s:%u) failed: %s",
			client->host, client->set.port, strerror(err));
		client_fail(client, reason);
		i_free(reason);
		return;
	}
	client->fd = -1;
	if (client->set.ssl == SMTP_CLIENT_SSL_SMTPS) {
		if (client_tls_start(client, fd) < 0)
			return;
	} else {
		client_start_conn(client, fd);
	}
	cmd_new(client, CMD_GREETING, NULL, setup_greeting_reply, client);
	client->cmds.v[0]->sent = true;
	if (client->set.ssl != SMTP_CLIENT_SSL_SMTPS)
		client_update_timers(client);
}

static void client_connect_timeout(void *context)
{
	struct smtp_client *client = context;
	char *reason = i_strdup_printf("connect(%s:%u) failed: "
				       "Connection timed out in %u seconds",
				       client->host, client->set.port,
				       client->set.connect_timeout_msecs / 1000);

	client_fail(client, reason);
	i_free(reason);
}

void smtp_client_connect(struct smtp_client *client,
			 smtp_client_reply_callback_t *callback, void *context)
{
	struct addrinfo hints, *res = NULL;
	char port[16];
	int ret, fd;

	i_assert(client->state == STATE_NEW);
	client->ready_callback = callback;
	client->ready_context = context;
	client->state = STATE_CONNECTING;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", client->set.port);
	ret = getaddrinfo(client->host, port, &hints, &res);
	if (ret != 0) {
		char *reason = i_strdup_printf("Failed to lookup host %s: %s",
					       client->host, gai_strerror(ret));
		/* reported from the loop, as every other failure */
		client->fd = -1;
		client_fail(client, reason);
		i_free(reason);
		return;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		/* commands go out as written: Nagle with the relay's delayed
		   ACKs held each small one ~40 ms */
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
	}
	if (fd < 0 || (connect(fd, res->ai_addr, res->ai_addrlen) < 0 &&
		       errno != EINPROGRESS)) {
		char *reason = i_strdup_printf("connect(%s:%u) failed: %m",
					       client->host, client->set.port);
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		client_fail(client, reason);
		i_free(reason);
		return;
	}
	freeaddrinfo(res);
	client->fd = fd;
	rawlog_open(client);
	client->connect_io = io_add(client->loop, fd, IO_WRITE,
				    client_connected, client);
	if (client->set.connect_timeout_msecs > 0)
		client->to = timeout_add(client->loop,
					 client->set.connect_timeout_msecs,
					 client_connect_timeout, client);
}

/* ---- public ---- */

static char *strdup_empty(const char *s)
{
	return i_strdup(s == NULL ? "" : s);
}

struct smtp_client *smtp_client_create(struct ioloop *loop,
				       const struct smtp_client_settings *set)
{
	struct smtp_client *client = i_new(struct smtp_client, 1);

	client->loop = loop;
	client->set = *set;
	client->fd = -1;
	client->tls_plain_fd = -1;
	client->rawlog_in = client->rawlog_out = -1;
	client->host = strdup_empty(set->host);
	client->helo_name = strdup_empty(set->helo_name);
	client->user = strdup_empty(set->user);
	client->master_user = strdup_empty(set->master_user);
	client->password = strdup_empty(set->password);
	client->xclient_addr = strdup_empty(set->xclient_addr);
	client->xclient_helo = strdup_empty(set->xclient_helo);
	client->xclient_login = strdup_empty(set->xclient_login);
	client->xclient_proto = strdup_empty(set->xclient_proto);
	client->xclient_destaddr = strdup_empty(set->xclient_destaddr);
	client->rawlog_dir = strdup_empty(set->rawlog_dir);
	client->reply_text = str_new(128);
	/* pointers into the caller's settings are not kept */
	client->set.host = client->set.helo_name = NULL;
	client->set.user = client->set.master_user = client->set.password = NULL;
	client->set.rawlog_dir = NULL;
	client->set.ssl_client_ca_file = NULL;
	client->set.ssl_client_ca_dir = NULL;
	if (set->ssl_client_ca_file != NULL && set->ssl_client_ca_file[0] != '\0')
		client->set.ssl_client_ca_file = i_strdup(set->ssl_client_ca_file);
	if (set->ssl_client_ca_dir != NULL && set->ssl_client_ca_dir[0] != '\0')
		client->set.ssl_client_ca_dir = i_strdup(set->ssl_client_ca_dir);
	return client;
}

void smtp_client_set_lost_callback(struct smtp_client *client,
				   smtp_client_lost_callback_t *callback,
				   void *context)
{
	client->lost_callback = callback;
	client->lost_context = context;
}

void smtp_client_destroy(struct smtp_client **_client)
{
	struct smtp_client *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	client->destroyed = true;
	if (client->state == STATE_READY && client->conn != NULL &&
	    !client->conn->disconnected) {
		client_send_line(client, "QUIT");
		(void)connection_flush_wait(client->conn, 0);
	}
	client_close(client);
	timeout_remove(&client->fail_to);
	for (size_t i = 0; i < client->cmds.count; i++)
		cmd_free(client->cmds.v[i]);
	array_free(&client->cmds);
	if (client->tls_ctx != NULL)
		tls_ctx_free(&client->tls_ctx);
	if (client->rawlog_in >= 0)
		close(client->rawlog_in);
	if (client->rawlog_out >= 0)
		close(client->rawlog_out);
	if (client->password != NULL)
		explicit_bzero(client->password, strlen(client->password));
	str_free(&client->reply_text);
	i_free(client->host);
	i_free(client->helo_name);
	i_free(client->user);
	i_free(client->master_user);
	i_free(client->password);
	i_free(client->xclient_addr);
	i_free(client->xclient_helo);
	i_free(client->xclient_login);
	i_free(client->xclient_proto);
	i_free(client->xclient_destaddr);
	i_free(client->rawlog_dir);
	i_free(client->auth_mechs);
	free((char *)client->set.ssl_client_ca_file);
	free((char *)client->set.ssl_client_ca_dir);
	i_free(client);
}

bool smtp_client_is_ready(const struct smtp_client *client)
{
	return client->state == STATE_READY;
}

enum smtp_client_capability smtp_client_caps(const struct smtp_client *client)
{
	return client->caps;
}

uint64_t smtp_client_max_size(const struct smtp_client *client)
{
	return client->max_size;
}

/* Commands queued on a failed connection are answered from the loop
 * (callers never get a callback from inside their own call). */
static void client_fail_queued(void *context)
{
	struct smtp_client *client = context;
	struct smtp_reply reply = { .status = 0, .text = "connection lost" };

	timeout_remove(&client->fail_to);
	while (client->cmds.count > 0) {
		if (!cmd_reply(client, &reply))
			return;
	}
}

static void client_queued(struct smtp_client *client)
{
	if (client->state == STATE_READY)
		client_send_next(client);
	else if (client->state == STATE_FAILED && client->fail_to == NULL)
		client->fail_to = timeout_add(client->loop, 0,
					      client_fail_queued, client);
}

void smtp_client_command(struct smtp_client *client, const char *line,
			 smtp_client_reply_callback_t *callback, void *context)
{
	cmd_new(client, CMD_LINE, line, callback, context);
	client_queued(client);
}

void smtp_client_send_message(struct smtp_client *client, const char *prefix,
			      int fd, uint64_t size,
			      smtp_client_reply_callback_t *callback,
			      void *context)
{
	bool bdat = (client->caps & SMTP_CLIENT_CAP_CHUNKING) != 0;
	struct smtp_cmd *cmd;
	char *line;

	if (bdat) {
		int64_t converted = crlf_converted_size(fd, size);

		if (converted < 0) {
			i_error("pread(message) failed: %m");
			converted = (int64_t)size;
		}
		line = i_strdup_printf("BDAT %llu LAST",
			(unsigned long long)((uint64_t)converted + strlen(prefix)));
		cmd = cmd_new(client, CMD_BDAT, line, callback, context);
		i_free(line);
	} else {
		cmd = cmd_new(client, CMD_DATA, "DATA", callback, context);
	}
	cmd->prefix_copy = i_strdup(prefix);
	cmd->prefix = cmd->prefix_copy;
	cmd->fd = fd;
	cmd->size = size;
	cmd->bol = true;
	client_queued(client);
}

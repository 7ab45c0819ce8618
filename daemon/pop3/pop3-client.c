/* pop3-client.c - a logged-in POP3 session: the fixed message list,
 * streamed replies with backpressure (a message is never copied whole
 * into memory: it is mapped and sent as the socket drains), QUIT applying
 * DELE and \Seen in one transaction, and Dovecot's logout line. */
#include "pop3-private.h"
#include "var-expand.h"

#include <stdio.h>
#include <unistd.h>

/* Dovecot's pop3 idle timeout */
#define POP3_IDLE_TIMEOUT_MSECS (10 * 60 * 1000)

static void client_idle_timeout(void *context);

/* Several sessions share a worker: every entry point sets the log
 * prefix of the session it runs for (Dovecot's mail_log_prefix). */
static void client_set_log_prefix(struct pop3_client *client)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "pop3(%s)<%ld><%s>: ",
		 client->user->username, (long)getpid(), client->session_id);
	log_set_prefix(prefix);
}

void pop3_send_line(struct pop3_client *client, const char *line)
{
	connection_send_str(client->conn, line);
	connection_send(client->conn, "\r\n", 2);
}

void pop3_send_linef(struct pop3_client *client, const char *fmt, ...)
{
	va_list args;
	char *line;

	va_start(args, fmt);
	line = i_strdup_vprintf(fmt, args);
	va_end(args);
	pop3_send_line(client, line);
	i_free(line);
}

static void client_stream_finished(struct pop3_client *client)
{
	client->stream = NULL;
	client->data = NULL;
	connection_want_output(client->conn, false);
	connection_pause(client->conn, false);
}

/* Feed the stream until the output buffer is half full. Returns false
 * if the client is gone. from_output: called as the output drained, not
 * from inside a command (whose caller goes on reading input itself). */
static bool client_stream_continue(struct pop3_client *client,
				   bool from_output)
{
	while (client->stream != NULL &&
	       connection_output_queued(client->conn) < POP3_OUTPUT_BUFFER / 2) {
		if (client->stream(client)) {
			client_stream_finished(client);
			/* pipelined commands waiting in the input buffer */
			return !from_output ||
				connection_process_input(client->conn);
		}
		if (client->conn->disconnected)
			break;
	}
	return true;
}

void pop3_start_stream(struct pop3_client *client, pop3_stream_fn *fn)
{
	client->stream = fn;
	connection_pause(client->conn, true);
	connection_want_output(client->conn, true);
	(void)client_stream_continue(client, false);
}

/* One chunk of a message: LF -> CRLF, leading '.' doubled, TOP's body
 * line limit, NULs replaced as pop3_client_workarounds asks. */
/* Append bytes, replacing NULs when pop3_client_workarounds asks. */
static void append_segment(struct pop3_client *client, string_t *out,
			   const unsigned char *p, size_t len)
{
	const unsigned char *nul;

	if (!client->no_nuls) {
		str_append_n(out, p, len);
		return;
	}
	while (len > 0 && (nul = memchr(p, '\0', len)) != NULL) {
		str_append_n(out, p, (size_t)(nul - p));
		str_append_c(out, (char)0x80);
		len -= (size_t)(nul - p) + 1;
		p = nul + 1;
	}
	str_append_n(out, p, len);
}

/* One chunk (up to ~64 KB out) of a message, line by line: LF -> CRLF,
 * a leading '.' doubled, TOP's body line limit. A line longer than a
 * chunk is sent in pieces: memory stays bounded whatever the mail. */
static bool stream_message(struct pop3_client *client)
{
	const unsigned char *p = client->data + client->data_pos;
	const unsigned char *end = client->data + client->data_size;
	string_t *out = str_new(65536 + 16);

	while (p < end && str_len(out) < 32768) {
		const unsigned char *nl, *seg_end;

		if (client->stream_line_start) {
			unsigned char c = *p;

			if (!client->stream_in_body && (c == '\n' ||
			    (c == '\r' && p + 1 < end && p[1] == '\n'))) {
				/* the empty line ending the header */
				client->stream_in_body = true;
			} else if (client->stream_in_body &&
				   !client->stream_all_body) {
				if (client->stream_body_lines == 0) {
					p = end;
					break;
				}
				client->stream_body_lines--;
			}
			if (c == '.')
				str_append_c(out, '.');
			client->stream_line_start = false;
		}
		seg_end = p + MIN((size_t)(end - p), (size_t)32768);
		nl = memchr(p, '\n', (size_t)(seg_end - p));
		if (nl == NULL) {
			/* no line end in this piece */
			append_segment(client, out, p, (size_t)(seg_end - p));
			client->stream_last_cr = seg_end[-1] == '\r';
			p = seg_end;
			continue;
		}
		append_segment(client, out, p, (size_t)(nl - p));
		if (!(nl > p ? nl[-1] == '\r' : client->stream_last_cr))
			str_append_c(out, '\r');
		str_append_c(out, '\n');
		client->stream_line_start = true;
		client->stream_last_cr = false;
		p = nl + 1;
	}
	client->data_pos = (size_t)(p - client->data);
	if (p == end) {
		/* the last line without a newline still ends the message */
		if (!client->stream_line_start)
			str_append(out, "\r\n");
		/* an empty message is sent as one empty line (as
		   Dovecot) */
		if (client->data_size == 0)
			str_append(out, "\r\n");
		str_append(out, ".\r\n");
	}
	connection_send(client->conn, str_c(out), str_len(out));
	if (client->stream_all_body)
		client->retr_bytes += str_len(out);
	else
		client->top_bytes += str_len(out);
	str_free(&out);
	return p == end;
}

void pop3_start_message(struct pop3_client *client, uint32_t seq,
			bool all_body, uint64_t body_lines)
{
	const unsigned char *data;
	size_t size;

	mail_set_seq(client->mail, seq);
	if (mail_get_stream(client->mail, &data, &size) < 0) {
		enum mail_error err;
		const char *errstr = mailbox_get_last_error(client->box, &err);

		if (err == MAIL_ERROR_EXPUNGED)
			pop3_send_line(client, "-ERR Message was expunged by another session.");
		else
			pop3_send_linef(client, "-ERR [SYS/TEMP] %s", errstr);
		return;
	}
	/* the reply line and the first part of the message in one write */
	connection_cork(client->conn, true);
	if (all_body)
		pop3_send_linef(client, "+OK %llu octets",
				(unsigned long long)client->sizes[seq - 1]);
	else
		pop3_send_line(client, "+OK");
	client->data = data;
	client->data_size = size;
	client->data_pos = 0;
	client->stream_in_body = false;
	client->stream_line_start = true;
	client->stream_last_cr = false;
	client->stream_all_body = all_body;
	client->stream_body_lines = body_lines;
	pop3_start_stream(client, stream_message);
	if (client->conn != NULL)
		connection_cork(client->conn, false);
}

static const char *client_logout_stats(struct pop3_client *client)
{
	char t[16], p[24], r[16], b[24], d[16], m[16], s[24];
	const struct var_expand_table table[] = {
		{ 't', t, "top_count" },
		{ 'p', p, "top_bytes" },
		{ 'r', r, "retr_count" },
		{ 'b', b, "retr_bytes" },
		{ 'd', d, "deleted_count" },
		{ 'm', m, "message_count" },
		{ 's', s, "message_bytes" },
		{ 'u', "", "uidl_change" },
		{ '\0', NULL, NULL },
	};
	static char result[512];
	string_t *str = str_new(128);
	const char *error;

	snprintf(t, sizeof(t), "%u", client->top_count);
	snprintf(p, sizeof(p), "%llu", (unsigned long long)client->top_bytes);
	snprintf(r, sizeof(r), "%u", client->retr_count);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)client->retr_bytes);
	snprintf(d, sizeof(d), "%u", client->expunged_count);
	snprintf(m, sizeof(m), "%u", client->count);
	snprintf(s, sizeof(s), "%llu", (unsigned long long)client->total_size);
	(void)var_expand(str, client->set->pop3_logout_format, table, NULL,
			 NULL, &error);
	snprintf(result, sizeof(result), "%s", str_c(str));
	str_free(&str);
	return result;
}

static void client_free(struct pop3_client *client)
{
	pop3_client_destroyed_t *destroyed = client->destroyed;
	void *context = client->destroyed_context;

	timeout_remove(&client->idle_to);
	timeout_remove(&client->inject_to);
	mail_free(&client->mail);
	mailbox_free(&client->box);
	connection_free(&client->conn);
	i_free(client->sizes);
	i_free(client->deleted);
	i_free(client->seen);
	i_free(client->session_id);
	i_free(client);
	if (destroyed != NULL)
		destroyed(context);
}

void pop3_client_destroy(struct pop3_client *client, const char *reason)
{
	if (reason != NULL) {
		i_info("Disconnected: %s %s", reason, client_logout_stats(client));
	}
	client_free(client);
}

/* Apply \Seen for RETR'd messages and expunge DELE'd ones, in one
 * transaction. Returns -1 on failure (nothing is expunged then). */
static int client_update_mails(struct pop3_client *client)
{
	struct mailbox_transaction *t;
	bool flags = !client->set->pop3_no_flag_updates;
	bool expunge_flag = strcmp(client->set->pop3_delete_type, "flag") == 0 &&
		client->set->pop3_deleted_flag[0] != '\0';
	unsigned int expunged = 0;

	if (client->deleted_count == 0 && !flags)
		return 0;
	t = mailbox_transaction_begin(client->box);
	for (uint32_t i = 0; i < client->count; i++) {
		mail_set_seq(client->mail, i + 1);
		if (client->deleted[i]) {
			if (expunge_flag) {
				const char *kw[] = { client->set->pop3_deleted_flag, NULL };
				(void)mail_update_keywords(t, client->mail,
							   MODIFY_ADD, kw);
			} else {
				mail_expunge(t, client->mail);
			}
			expunged++;
		} else if (flags && client->seen[i] &&
			   (mail_get_flags(client->mail) & MAIL_SEEN) == 0) {
			mail_update_flags(t, client->mail, MODIFY_ADD, MAIL_SEEN);
		}
	}
	if (mailbox_transaction_commit(&t, NULL) < 0)
		return -1;
	client->expunged_count = expunged;
	return 0;
}

bool pop3_client_quit(struct pop3_client *client)
{
	if (client_update_mails(client) < 0) {
		pop3_send_linef(client, "-ERR [SYS/TEMP] %s",
				mailbox_get_last_error(client->box, NULL));
	} else if (client->deleted_count > 0) {
		pop3_send_line(client, "+OK Logging out, messages deleted.");
	} else {
		pop3_send_line(client, "+OK Logging out.");
	}
	client->quitting = true;
	i_info("Disconnected: Logged out %s", client_logout_stats(client));
	/* the reply goes out before the socket closes */
	connection_pause(client->conn, true);
	if (connection_output_queued(client->conn) == 0) {
		client_free(client);
		return false;
	}
	connection_want_output(client->conn, true);
	return true;
}

static bool client_input_line(struct connection *conn, char *line)
{
	struct pop3_client *client = conn->context;

	client_set_log_prefix(client);
	timeout_reset(client->idle_to);
	if (client->quitting)
		return true;
	return pop3_command_run(client, line);
}

static void client_disconnected(struct connection *conn, const char *reason)
{
	struct pop3_client *client = conn->context;

	client_set_log_prefix(client);
	if (client->quitting) {
		client_free(client);
		return;
	}
	pop3_client_destroy(client, reason);
}

static bool client_output_ready(struct connection *conn)
{
	struct pop3_client *client = conn->context;

	if (client->quitting) {
		if (connection_output_queued(conn) == 0) {
			client_free(client);
			return false;
		}
		return true;
	}
	if (client->stream == NULL) {
		connection_want_output(conn, false);
		return true;
	}
	return client_stream_continue(client, true);
}

static const struct connection_vfuncs pop3_conn_vfuncs = {
	.input_line = client_input_line,
	.disconnected = client_disconnected,
	.output_ready = client_output_ready,
};

static void client_idle_timeout(void *context)
{
	struct pop3_client *client = context;

	client_set_log_prefix(client);
	pop3_send_line(client, "-ERR Disconnected for inactivity.");
	pop3_client_destroy(client, "Disconnected for inactivity.");
}

static int client_open_inbox(struct pop3_client *client, const char **error_r)
{
	enum mailbox_flags flags = MAILBOX_FLAG_POP3_SESSION;

	client->box = mailbox_alloc(client->user, "INBOX", flags);
	if (mailbox_open(client->box) < 0 ||
	    mailbox_sync(client->box, 0, NULL, NULL) < 0) {
		*error_r = mailbox_get_last_error(client->box, NULL);
		return -1;
	}
	client->mail = mail_alloc(client->box);
	client->count = mailbox_count(client->box);
	client->sizes = i_new(uint64_t, MAX(client->count, 1));
	client->deleted = i_new(uint8_t, MAX(client->count, 1));
	client->seen = i_new(uint8_t, MAX(client->count, 1));
	for (uint32_t i = 0; i < client->count; i++) {
		mail_set_seq(client->mail, i + 1);
		if (mail_get_virtual_size(client->mail, &client->sizes[i]) < 0) {
			*error_r = mailbox_get_last_error(client->box, NULL);
			return -1;
		}
		client->total_size += client->sizes[i];
	}
	return 0;
}

struct pop3_client *pop3_client_create(struct ioloop *loop, int fd,
				       struct mail_user *user,
				       const struct settings_root *set,
				       const char *session_id,
				       enum pop3_client_flags flags,
				       pop3_client_destroyed_t *destroyed,
				       void *context, const char **error_r)
{
	struct pop3_client *client = i_new(struct pop3_client, 1);
	const char *w = set->pop3_client_workarounds;

	client->loop = loop;
	client->user = user;
	client->set = set;
	client->session_id = i_strdup(session_id == NULL ? "" : session_id);
	client->destroyed = destroyed;
	client->destroyed_context = context;
	client->no_nuls = strstr(w, "outlook-no-nuls") != NULL;
	client->oe_ns_eoh = strstr(w, "oe-ns-eoh") != NULL;
	if (client_open_inbox(client, error_r) < 0) {
		static char err[256];
		snprintf(err, sizeof(err), "%s", *error_r);
		*error_r = err;
		mail_free(&client->mail);
		mailbox_free(&client->box);
		i_free(client->sizes);
		i_free(client->deleted);
		i_free(client->seen);
		i_free(client->session_id);
		i_free(client);
		return NULL;
	}
	client->conn = connection_create(loop, fd, POP3_MAX_INBUF_SIZE,
					 POP3_OUTPUT_BUFFER, &pop3_conn_vfuncs,
					 client);
	client->idle_to = timeout_add(loop, POP3_IDLE_TIMEOUT_MSECS,
				      client_idle_timeout, client);
	if ((flags & POP3_CLIENT_SEND_LOGGED_IN) != 0)
		pop3_send_line(client, "+OK Logged in.");
	return client;
}

static void client_process_injected(void *context)
{
	struct pop3_client *client = context;

	timeout_remove(&client->inject_to);
	(void)connection_process_input(client->conn);
}

void pop3_client_add_input(struct pop3_client *client, const void *data,
			   size_t size)
{
	if (connection_input_inject(client->conn, data, size) < 0) {
		i_error("Hand-over input too long");
		return;
	}
	if (client->inject_to == NULL)
		client->inject_to = timeout_add(client->loop, 0,
						client_process_injected, client);
}

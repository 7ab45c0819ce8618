/* smtp-server.h - the server side of an SMTP or LMTP connection on
 * lib/connection: greeting, HELO/EHLO/LHLO, MAIL, RCPT, DATA (dot-
 * unstuffed into an unlinked temp file, never whole in memory), BDAT
 * (CHUNKING), RSET, NOOP, VRFY, QUIT, PIPELINING (replies in command
 * order), bounded lines ("500 5.5.2 Line too long", the connection
 * lives on), the idle timeout. The owner (LMTP, submission, submission-
 * login) decides through callbacks: extra EHLO lines, whether a sender
 * or a recipient is accepted, what happens to a finished message, and
 * any command the server doesn't know (AUTH, STARTTLS, XCLIENT, BURL).
 * See daemon/smtp/README.md for the contract. */
#ifndef ROOST_SMTP_SERVER_H
#define ROOST_SMTP_SERVER_H

#include "lib.h"
#include "ioloop.h"
#include "connection.h"
#include "smtp-syntax.h"

struct smtp_server_conn;

enum smtp_server_protocol {
	SMTP_SERVER_PROTOCOL_SMTP = 0,
	SMTP_SERVER_PROTOCOL_LMTP,
};

/* Where a connection is; the names (smtp_server_state_name) are the
 * state= of Dovecot's disconnect log lines. */
enum smtp_server_state {
	SMTP_SERVER_STATE_GREETING = 0,	/* no HELO/EHLO/LHLO yet */
	SMTP_SERVER_STATE_READY,	/* no transaction */
	SMTP_SERVER_STATE_MAIL_FROM,	/* MAIL given, no recipient */
	SMTP_SERVER_STATE_RCPT_TO,	/* recipients given */
	SMTP_SERVER_STATE_DATA,		/* DATA or BDAT chunks */
};

struct smtp_server_settings {
	enum smtp_server_protocol protocol;
	/* first word of the greeting and of the EHLO reply */
	const char *hostname;
	/* the greeting after "220 hostname " ("Dovecot ready.") */
	const char *greeting;
	/* extensions in the EHLO/LHLO reply, in Dovecot's order */
	enum smtp_capability capabilities;
	/* longest parameters after the verb and its space (0: 4096, as
	   Dovecot); longer lines get "500 5.5.2 Line too long" */
	size_t max_command_line;
	/* 0 = no limit: larger messages get 552 5.3.4 */
	uint64_t max_message_size;
	/* 0 = no limit: more get 452 4.5.3 */
	unsigned int max_recipients;
	/* idle (and stalled DATA/BDAT) timeout; 0 = 5 minutes */
	unsigned int idle_timeout_msecs;
	/* where DATA/BDAT temp files go (unlinked at once); NULL = /tmp */
	const char *temp_dir;
	/* don't send the greeting (a session taken over after login) */
	bool no_greeting;
	/* the reply to a message over max_message_size (MAIL SIZE= and
	   after the data): NULL = "5.3.4" and the texts above; submission
	   says "5.2.3" "Message size exceeds administrative limit" */
	const char *size_limit_enh, *size_limit_text;
	/* EHLO: PIPELINING as the last line instead of in sorted order
	   (Dovecot's submission-login) */
	bool pipelining_last;
	/* Dovecot's *_client_workarounds: whitespace-before-path ("MAIL
	   FROM: <a@b>"), mailbox-for-path ("MAIL FROM:a@b") */
	bool workaround_whitespace_before_path;
	bool workaround_mailbox_for_path;
	/* without SMTPUTF8 a non-ASCII path is a syntax error (Dovecot's
	   submission); Dovecot's lmtp takes such paths */
	bool ascii_paths_only;
	/* DATA/BDAT without an accepted recipient: 554 (Dovecot's
	   submission) instead of 503 (its lmtp) */
	bool no_rcpt_554;
	/* MAIL/RCPT/DATA/BDAT before HELO/EHLO/LHLO get "503 5.5.1 Invalid
	   command: Send HELO/EHLO first" (Dovecot's lmtp doesn't insist) */
	bool require_helo;
};

struct smtp_server_recipient {
	struct smtp_address path;
	/* path as text (local@domain), and the RCPT line's parameters */
	const char *address;
	struct smtp_params_rcpt params;
	/* 0-based number among every RCPT of the transaction, refused ones
	   included (Dovecot's ":R<index+1>" recipient ids) */
	unsigned int index;
	/* the owner's */
	void *context;
};

struct smtp_server_transaction {
	pool_t pool;		/* freed with the transaction */
	/* 1-based number of the transaction within the connection */
	unsigned int seq;
	struct smtp_address mail_from;
	const char *mail_from_str;	/* "" for <> */
	struct smtp_params_mail mail_params;
	/* accepted recipients, in RCPT order */
	struct smtp_server_recipient **rcpts;
	unsigned int rcpt_count, rcpt_alloc;
	/* RCPT commands seen, refused ones included */
	unsigned int rcpt_commands;
	/* the message, after DATA/BDAT LAST: an unlinked file holding the
	   bytes as received (line ends as sent, dots unstuffed for DATA) */
	int data_fd;
	uint64_t data_size;
	/* the owner's */
	void *context;
};

/* What a callback did (for MAIL, RCPT, DATA and other commands). */
enum smtp_server_result {
	/* async: input stops until smtp_server_command_finish() */
	SMTP_SERVER_ASYNC = -1,
	/* refused; the callback sent the reply (smtp_server_reply()) */
	SMTP_SERVER_REPLIED_FAIL = 0,
	/* accepted; the server sends its default reply */
	SMTP_SERVER_ACCEPT = 1,
	/* accepted; the callback sent the reply */
	SMTP_SERVER_REPLIED_OK = 2,
	/* cmd_other only: not a command the owner knows (500 5.5.1) */
	SMTP_SERVER_UNKNOWN = 3,
};

struct smtp_server_callbacks {
	/* Optional. A HELO/EHLO/LHLO was accepted. Append capability
	   lines ("AUTH PLAIN LOGIN", "SIZE 1000"), one per line without
	   codes, '\n' separated, to extra_caps; they come after the
	   built-in ones, before PIPELINING ordering is applied (all lines
	   are sorted as Dovecot does: alphabetically). */
	void (*helo)(struct smtp_server_conn *conn, void *context,
		     const char *verb, const char *domain,
		     string_t *extra_caps);
	/* Optional: MAIL FROM parsed (trans->mail_from, mail_params).
	   Default: accept. Refused: the transaction is dropped. */
	enum smtp_server_result (*cmd_mail)(struct smtp_server_conn *conn,
					    void *context,
					    struct smtp_server_transaction *t);
	/* RCPT TO parsed. Accepted recipients are added to t->rcpts. */
	enum smtp_server_result (*cmd_rcpt)(struct smtp_server_conn *conn,
					    void *context,
					    struct smtp_server_transaction *t,
					    struct smtp_server_recipient *rcpt);
	/* The message is complete (t->data_fd, t->data_size). The owner
	   replies: LMTP once per accepted recipient, in order; SMTP once.
	   Return SMTP_SERVER_REPLIED_OK/FAIL, or ASYNC. The transaction
	   ends after this command either way. */
	enum smtp_server_result (*data)(struct smtp_server_conn *conn,
					void *context,
					struct smtp_server_transaction *t);
	/* Optional: the transaction is about to be freed (RSET, a new
	   MAIL, end of DATA, disconnect). */
	void (*transaction_free)(struct smtp_server_conn *conn, void *context,
				 struct smtp_server_transaction *t);
	/* Optional: a command the server doesn't handle itself (verb is
	   upper-case). Return SMTP_SERVER_UNKNOWN to get 500 5.5.1. */
	enum smtp_server_result (*cmd_other)(struct smtp_server_conn *conn,
					     void *context, const char *verb,
					     const char *args);
	/* Optional: every command line before the server looks at it (verb
	   upper-case). Return true when the owner replied to it itself
	   (submission-login: MAIL/RCPT/DATA/BDAT/VRFY before AUTH get 530,
	   and a BDAT chunk is then not read); false to go on as usual. */
	bool (*cmd_pre)(struct smtp_server_conn *conn, void *context,
			const char *verb, const char *args);
	/* Optional: RSET, after the transaction was dropped. Default (and
	   SMTP_SERVER_ACCEPT) "250 2.0.0 OK"; submission passes the relay's
	   reply (ASYNC). */
	enum smtp_server_result (*cmd_rset)(struct smtp_server_conn *conn,
					    void *context);
	/* Optional: VRFY. Default "252 2.3.3 Try RCPT instead". */
	enum smtp_server_result (*cmd_vrfy)(struct smtp_server_conn *conn,
					    void *context, const char *args);
	/* Optional: BURL (RFC 4468) is a command. Called with dest NULL to
	   check the URL's syntax ("501 5.5.4 Invalid chunk URL: <error>"),
	   then, in a transaction, with dest to fetch the bytes ("554 5.6.6
	   IMAP URLAUTH resolution failed: <error>"). Returns 0 or -1 with
	   *error_r. The bytes are added to the message as a BDAT chunk. */
	int (*burl)(struct smtp_server_conn *conn, void *context,
		    const char *url, string_t *dest, const char **error_r);
	/* The connection ended: reason is "Logged out" after QUIT,
	   "Connection closed", "Disconnected for inactivity", ... The
	   owner must call smtp_server_conn_free() (now or later). */
	void (*disconnected)(struct smtp_server_conn *conn, void *context,
			     const char *reason);
};

/* Take over fd (the greeting is sent unless set->no_greeting). set's
 * strings must live as long as the connection. */
struct smtp_server_conn *
smtp_server_conn_create(struct ioloop *loop, int fd,
			const struct smtp_server_settings *set,
			const struct smtp_server_callbacks *callbacks,
			void *context);
/* Closes the fd, frees the transaction (transaction_free called). */
void smtp_server_conn_free(struct smtp_server_conn **conn);

/* Send a reply: "code enh text"; '\n' in the text makes a multi-line
 * reply. enh NULL or "" leaves the enhanced code out. */
void smtp_server_reply(struct smtp_server_conn *conn, unsigned int code,
		       const char *enh, const char *fmt, ...)
	ATTR_FORMAT(4, 5);
/* Finish a command whose callback returned SMTP_SERVER_ASYNC: result
 * as a synchronous callback would have returned it. Input resumes. */
void smtp_server_command_finish(struct smtp_server_conn *conn,
				enum smtp_server_result result);

/* Send 421 <hostname> text and close (disconnected callback follows
 * from the event loop with reason). */
void smtp_server_conn_terminate(struct smtp_server_conn *conn,
				const char *enh, const char *text);

/* A session taken over after login: behave as if HELO/EHLO domain had
 * been given. */
void smtp_server_conn_set_helo(struct smtp_server_conn *conn,
			       const char *domain, bool ehlo);
/* Capabilities changed (after STARTTLS: no more STARTTLS). */
void smtp_server_conn_set_capabilities(struct smtp_server_conn *conn,
				       enum smtp_capability caps);
/* Back to before HELO, transaction dropped (after STARTTLS, RFC 3207). */
void smtp_server_conn_reset(struct smtp_server_conn *conn);
/* While set, input lines (without CRLF) go to handler instead of being
 * commands (a SASL exchange: "334 ..." then the client's line). The
 * handler returns false if it freed conn. NULL ends it. */
typedef bool smtp_server_line_handler_t(struct smtp_server_conn *conn,
					void *context, const char *line);
void smtp_server_conn_set_line_handler(struct smtp_server_conn *conn,
				       smtp_server_line_handler_t *handler);

/* The lib/connection under the server (STARTTLS: connection_flush_wait
 * and connection_replace_fd; fd passing). */
struct connection *smtp_server_conn_get_connection(struct smtp_server_conn *conn);
/* Input read but not yet processed (pipelined behind AUTH), moved into
 * dest (hand-over). */
void smtp_server_conn_take_input(struct smtp_server_conn *conn,
				 string_t *dest);
/* Stop or resume processing input. */
void smtp_server_conn_pause(struct smtp_server_conn *conn, bool pause);

enum smtp_server_state smtp_server_conn_get_state(const struct smtp_server_conn *conn);
/* "GREETING", "READY", "MAIL FROM", "RCPT TO", "DATA" */
const char *smtp_server_state_name(enum smtp_server_state state);
/* HELO/EHLO/LHLO domain given, or NULL */
const char *smtp_server_conn_get_helo(const struct smtp_server_conn *conn);
/* The open transaction, or NULL. */
struct smtp_server_transaction *
smtp_server_conn_get_transaction(struct smtp_server_conn *conn);

#endif

/* smtp-client.h - an asynchronous SMTP client on the event loop: the
 * submission service's connection to its relay MTA. It connects (with a
 * timeout), reads the greeting, says EHLO and learns the relay's
 * extensions, upgrades with STARTTLS or starts in TLS (smtps),
 * authenticates with AUTH PLAIN (optionally as a master user), sends
 * XCLIENT when the relay trusts us, and then runs commands: pipelined
 * when the relay offers PIPELINING, one by one otherwise; a message
 * goes out with DATA (dot-stuffed, streamed from a file) or with one
 * BDAT ... LAST when the relay offers CHUNKING. */
#ifndef ROOST_SMTP_CLIENT_H
#define ROOST_SMTP_CLIENT_H

#include "lib.h"
#include "ioloop.h"
#include "str.h"

#include <sys/types.h>

/* The relay's EHLO extensions we care about. */
enum smtp_client_capability {
	SMTP_CLIENT_CAP_8BITMIME = 0x0001,
	SMTP_CLIENT_CAP_SIZE = 0x0002,
	SMTP_CLIENT_CAP_DSN = 0x0004,
	SMTP_CLIENT_CAP_SMTPUTF8 = 0x0008,
	SMTP_CLIENT_CAP_CHUNKING = 0x0010,
	SMTP_CLIENT_CAP_PIPELINING = 0x0020,
	SMTP_CLIENT_CAP_STARTTLS = 0x0040,
	SMTP_CLIENT_CAP_AUTH = 0x0080,
	SMTP_CLIENT_CAP_ENHANCEDSTATUSCODES = 0x0100,
	SMTP_CLIENT_CAP_XCLIENT = 0x0200,
	SMTP_CLIENT_CAP_BINARYMIME = 0x0400,
	SMTP_CLIENT_CAP_VRFY = 0x0800,
};

enum smtp_client_ssl {
	SMTP_CLIENT_SSL_NO = 0,
	SMTP_CLIENT_SSL_SMTPS,		/* TLS from the first byte */
	SMTP_CLIENT_SSL_STARTTLS,
};

struct smtp_client_settings {
	const char *host;
	unsigned int port;
	const char *helo_name;		/* EHLO argument (hostname) */
	enum smtp_client_ssl ssl;
	bool ssl_verify;
	const char *ssl_client_ca_file, *ssl_client_ca_dir;
	/* AUTH PLAIN: authzid = user when master_user is set, authcid =
	   master_user or user */
	const char *user, *master_user, *password;
	/* XCLIENT attributes, sent when xclient is true and the relay
	   offers XCLIENT (only those it lists) */
	bool xclient;
	const char *xclient_addr, *xclient_helo, *xclient_login,
		*xclient_proto, *xclient_destaddr;
	unsigned int xclient_port, xclient_destport;
	unsigned int connect_timeout_msecs;
	unsigned int command_timeout_msecs;
	/* disconnect after this long without a command (0 = never) */
	unsigned int max_idle_msecs;
	/* write <dir>/<time>.<pid>.<n>.in and .out (plain text) */
	const char *rawlog_dir;
};

/* A reply: status 0 means the connection failed before one came
 * (text then says why, for a log line). Lines are joined with "\n",
 * each without its "NNN-" prefix. enhanced is "2.0.0" or "". */
struct smtp_reply {
	unsigned int status;
	char enhanced[16];
	const char *text;
};

struct smtp_client;

typedef void smtp_client_reply_callback_t(const struct smtp_reply *reply,
					  void *context);
/* The connection could not be used any more (after it was ready): reason
 * for the log. Pending commands have had their callbacks with status 0
 * first. */
typedef void smtp_client_lost_callback_t(const char *reason, void *context);

struct smtp_client *smtp_client_create(struct ioloop *loop,
				       const struct smtp_client_settings *set);
/* Connect and log in: callback gets the last reply of the setup (the
 * EHLO reply, status 250) or the failure (status 0 for network errors,
 * else the relay's refusal). */
void smtp_client_connect(struct smtp_client *client,
			 smtp_client_reply_callback_t *callback,
			 void *context);
void smtp_client_set_lost_callback(struct smtp_client *client,
				   smtp_client_lost_callback_t *callback,
				   void *context);
/* Free the client; pending callbacks are not called. QUIT is sent when
 * the connection was ready (not waited for). */
void smtp_client_destroy(struct smtp_client **client);

bool smtp_client_is_ready(const struct smtp_client *client);
enum smtp_client_capability smtp_client_caps(const struct smtp_client *client);
/* The relay's SIZE limit (0 = none given). */
uint64_t smtp_client_max_size(const struct smtp_client *client);

/* Queue a command line (without CRLF). */
void smtp_client_command(struct smtp_client *client, const char *line,
			 smtp_client_reply_callback_t *callback,
			 void *context);
/* Send a message: prefix (the Received header, may be "") and then size
 * bytes of fd from offset 0 (CRLF line endings), with DATA or BDAT.
 * The fd stays the caller's and must stay open until the callback. The
 * callback gets the DATA/BDAT refusal or the final reply. */
void smtp_client_send_message(struct smtp_client *client, const char *prefix,
			      int fd, uint64_t size,
			      smtp_client_reply_callback_t *callback,
			      void *context);

/* ---- helpers, exported for tests ---- */

/* Parse one reply line: 1 last line, 0 continuation ("250-"), -1 bad.
 * status_r gets the code, text_r points into line after "NNN[- ]". */
int smtp_reply_line_parse(const char *line, unsigned int *status_r,
			  const char **text_r);
/* "2.1.0 text" -> enhanced "2.1.0", rest "text"; false if none. */
bool smtp_reply_split_enhanced(const char *text, char enhanced[16],
			       const char **rest_r);
/* One EHLO reply line's keyword ("SIZE 1000") to its capability bit,
 * and the SIZE value when it has one. */
enum smtp_client_capability smtp_ehlo_line_parse(const char *line, uint64_t *size_r);
/* Dot-stuff: append data to dest with every line that starts with '.'
 * getting another; *bol says whether the next byte begins a line (true
 * at the start, kept across calls). */
void smtp_dot_stuff(string_t *dest, const unsigned char *data, size_t size,
		    bool *bol);

/* Bare LF to CRLF: append data to dest; *last_cr carries whether the
 * previous piece ended in CR (false at the start). */
void smtp_crlf_convert(string_t *dest, const unsigned char *data, size_t size,
		       bool *last_cr);

#endif

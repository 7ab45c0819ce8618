/* submission-client.h - one logged-in submission session (RFC 6409) in
 * the user's mail worker: the client's SMTP connection (daemon/smtp
 * server) relayed command by command to the site's MTA
 * (submission_relay_*, daemon/smtp client), with Dovecot's capabilities,
 * Received header, replies and log lines. */
#ifndef ROOST_SUBMISSION_CLIENT_H
#define ROOST_SUBMISSION_CLIENT_H

#include "lib.h"
#include "ioloop.h"
#include "str.h"

#include <time.h>
#include "settings-structs.h"

struct submission_client;

/* What the login process knew about the connection. */
struct submission_client_start {
	const char *helo;	/* HELO/EHLO name given before login, or NULL */
	bool ehlo;		/* it was EHLO */
	bool tls;		/* the client talks TLS (ESMTPSA) */
	const char *rip, *lip;
	unsigned int rport, lport;
	/* input the client pipelined behind AUTH */
	const void *input;
	size_t input_size;
	/* answer "235 2.7.0 Logged in." first */
	bool send_logged_in;
	/* the user's mail, for BURL (NULL: BURL URLs can't be resolved);
	   owned by the caller, alive as long as the session */
	struct mail_user *user;
};

typedef void submission_client_destroyed_t(void *context);

/* Take over fd and run the session; destroyed is called once at its
 * end (also when it fails at once). */
struct submission_client *
submission_client_create(struct ioloop *loop, int fd, const char *username,
			 const struct settings_root *set,
			 const char *session_id,
			 const struct submission_client_start *start,
			 submission_client_destroyed_t *destroyed,
			 void *context);

/* The Received: header Dovecot's submission adds (exported for tests):
 * helo NULL = "unknown"; rcpt NULL when not exactly one recipient. */
void submission_received_header(string_t *dest, const char *helo,
				const char *rip, const char *hostname,
				bool ehlo, bool tls, const char *id,
				const char *mail_from, const char *rcpt,
				time_t now);

#endif

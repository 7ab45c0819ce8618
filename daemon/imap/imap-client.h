/* imap-client.h - a logged-in IMAP session (RFC 3501 and Dovecot's
 * everyday extensions) over the storage API. The login side (greeting,
 * CAPABILITY, STARTTLS, LOGIN, AUTHENTICATE) lives in the login worker;
 * this is what the user's mail worker runs after the hand-over, and what
 * `roost imap -u USER` runs pre-authenticated on stdin/stdout. */
#ifndef ROOST_IMAP_CLIENT_H
#define ROOST_IMAP_CLIENT_H

#include "lib.h"
#include "ioloop.h"
#include "mail-storage.h"

struct settings_root;
struct imap_client;

struct imap_client_start {
	/* the tag of the login command: "<tag> OK [CAPABILITY ...] Logged
	   in" is sent; NULL with preauth: "* PREAUTH ..."; NULL without
	   preauth: nothing */
	const char *login_tag;
	/* the client asked for CAPABILITY before logging in: the
	   capabilities go in an untagged reply instead of the OK */
	bool capability_sent;
	bool preauth;
	/* input the client pipelined after its login command */
	const void *input;
	size_t input_size;
};

/* Called after the session ended and its memory was freed. */
typedef void imap_client_destroyed_t(void *context);

/* Start a session on fd (taken over) for user. */
struct imap_client *imap_client_create(struct ioloop *loop, int fd,
				       struct mail_user *user,
				       const struct settings_root *set,
				       const char *session_id,
				       const struct imap_client_start *start,
				       imap_client_destroyed_t *destroyed,
				       void *context);
/* Close the session now (server shutdown): "* BYE Server shutting
 * down." and the logout line. */
void imap_client_destroy(struct imap_client *client, const char *reason);

/* The post-login CAPABILITY string for set (imap_capability honoured). */
const char *imap_client_capability(const struct settings_root *set);

#endif

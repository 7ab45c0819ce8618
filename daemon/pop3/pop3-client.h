/* pop3-client.h - a logged-in POP3 session (RFC 1939, 2449) on a plain
 * socket, over the storage API. The login side (greeting, CAPA, STLS,
 * USER/PASS, AUTH) lives in the login worker; this is what the user's
 * mail worker runs after the hand-over. */
#ifndef ROOST_POP3_CLIENT_H
#define ROOST_POP3_CLIENT_H

#include "lib.h"
#include "ioloop.h"
#include "connection.h"
#include "mail-storage.h"

struct settings_root;

/* Bytes of one input line after login (Dovecot's pop3 limit). */
#define POP3_MAX_INBUF_SIZE 8192
/* Output queued before a long reply (RETR/LIST/UIDL) pauses. */
#define POP3_OUTPUT_BUFFER 262144

struct pop3_client;

enum pop3_client_flags {
	/* send "+OK Logged in." when the session starts */
	POP3_CLIENT_SEND_LOGGED_IN = 0x01,
};

/* Called after the session ended and its memory was freed. */
typedef void pop3_client_destroyed_t(void *context);

/* Start a session on fd (taken over) for user, whose INBOX is opened
 * and synced once: the message list is fixed for the session. Returns
 * NULL with error_r when INBOX can't be opened (the caller answers
 * "-ERR [SYS/TEMP] ..." and closes). */
struct pop3_client *pop3_client_create(struct ioloop *loop, int fd,
				       struct mail_user *user,
				       const struct settings_root *set,
				       const char *session_id,
				       enum pop3_client_flags flags,
				       pop3_client_destroyed_t *destroyed,
				       void *context, const char **error_r);
/* Input the client sent after its login command, before the hand-over
 * (pipelining): processed as if it had just arrived. */
void pop3_client_add_input(struct pop3_client *client, const void *data,
			   size_t size);
/* Close the session now (server shutdown): "-ERR Server shutting
 * down." and the logout line. Pending DELEs are not applied. */
void pop3_client_destroy(struct pop3_client *client, const char *reason);

#endif

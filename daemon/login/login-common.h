/* login-common.h - what every login worker shares (DESIGN.md: login
 * workers are unprivileged, event-driven and serve many connections):
 * accepting on the listeners the master passed, the auth-client
 * connection to the auth service, SASL exchanges, the hand-over of a
 * logged-in client to the master, and Dovecot's login log lines. The
 * protocols (pop3-login.c, imap-login.c) plug in through
 * struct login_protocol. */
#ifndef ROOST_LOGIN_COMMON_H
#define ROOST_LOGIN_COMMON_H

#include "lib.h"
#include "array.h"
#include "ioloop.h"
#include "connection.h"
#include "net.h"
#include "str.h"
#include "settings-structs.h"

#include <time.h>

struct login_client;

/* The fds a login worker starts with (set up by the master). */
#define LOGIN_CONTROL_FD 3
#define LOGIN_FIRST_LISTENER_FD 4

struct login_protocol {
	const char *name;		/* "pop3" */
	const char *process_name;	/* "pop3-login" (log prefix) */
	size_t max_line;
	/* sent before the pre-login idle timeout disconnects */
	const char *idle_bye;
	/* a new connection: send the greeting */
	void (*client_created)(struct login_client *client);
	/* one input line; return false if the client was freed */
	bool (*client_input)(struct login_client *client, char *line);
	/* instead of client_input: raw bytes in client->conn->inbuf, consumed
	   with connection_input_skip() (IMAP literals). Return false if the
	   client was freed. */
	bool (*client_input_raw)(struct login_client *client);
	/* optional: the protocol makes the client's connection itself
	   (submission-login: an SMTP server connection with its own input
	   handling and idle timeout). login-common then uses client->conn
	   only to send, for STARTTLS and for the hand-over; it neither
	   reads nor frees it: client_free must. */
	struct connection *(*client_connection_create)(struct login_client *client,
						       int fd);
	/* optional: free what client->proto holds (login-common frees
	   client->proto itself afterwards) */
	void (*client_free)(struct login_client *client);
	/* optional: the protocol's session flags for the hand-over
	   (space-separated tokens without tabs, e.g. "tag=a1 capa") */
	const char *(*handover_flags)(struct login_client *client);
	/* SASL: a challenge to send ("+ <base64>") */
	void (*send_challenge)(struct login_client *client, const char *b64);
	/* authentication finished: success is followed by the hand-over;
	   failure: reply with reason (NULL = generic) */
	void (*auth_failed)(struct login_client *client, const char *reason,
			    bool temp);
	/* the master took the session (mail worker pid) or failed */
	void (*handover_failed)(struct login_client *client,
				const char *reason);
};

/* Why the last authentication attempt failed: it picks the reason of
 * the "Disconnected:" line, as Dovecot's login processes do. */
enum login_auth_fail {
	LOGIN_AUTH_FAIL_NONE = 0,
	LOGIN_AUTH_FAIL_TEMP,		/* auth service: temp failure */
	LOGIN_AUTH_FAIL_AUTHZ,		/* code=authz_fail */
	LOGIN_AUTH_FAIL_USER_DISABLED,
	LOGIN_AUTH_FAIL_PASS_EXPIRED,
	LOGIN_AUTH_FAIL_INVALID_BASE64,
	LOGIN_AUTH_FAIL_MECH_INVALID,	/* unsupported mechanism */
	LOGIN_AUTH_FAIL_MECH_SSL_REQUIRED, /* plaintext mech refused */
};

struct login_client {
	struct login_worker *worker;
	struct connection *conn;
	struct ip_addr local_ip, remote_ip;
	unsigned int local_port, remote_port;
	char session_id[24];
	bool secured, ssl;
	/* shared with the TLS proxy: was the handshake done when it ended */
	struct login_tls_state *tls_state;
	/* user name given (USER, LOGIN) or from the last auth attempt */
	char *user;
	char *auth_mech;
	unsigned int auth_id;
	unsigned int handover_tag;
	unsigned int auth_attempts;
	uint64_t created_msecs;
	/* wall-clock seconds, as Dovecot's "in N secs" counts them */
	time_t created_secs, auth_first_started;
	enum login_auth_fail last_auth_fail;
	/* a SASL exchange began and the client never finished it (it is
	   waiting for a response, or the client cancelled it) */
	bool sasl_unfinished;
	bool authenticating, auth_waiting_continue, handing_over, destroyed;
	/* protocol state */
	void *proto;
	unsigned int bad_commands;
	struct timeout *idle_to;
};

struct tls_ctx;

struct login_worker {
	struct ioloop *loop;
	/* NULL when ssl = no or no certificate is configured */
	struct tls_ctx *tls_ctx;
	/* per listener: implicit TLS (pop3s) */
	bool *listen_ssl;
	/* per listener: haproxy = yes (a PROXY header comes first) */
	bool *listen_haproxy;
	const struct login_protocol *proto;
	const struct settings_root *set;
	struct connection *auth;	/* to the auth service */
	bool auth_ready;
	char *auth_mechs;		/* "PLAIN LOGIN ..." (MECH lines) */
	char *auth_plaintext_mechs;	/* only those allowed without TLS */
	char *cookie;
	unsigned int auth_id_counter;
	unsigned int handover_tag;
	struct io *control_io;
	struct io **listen_ios;
	unsigned int listen_count;
	ARRAY(struct login_client *) clients;
};

/* Connect to the auth service (before dropping privileges: the socket
 * is outside the chroot)... */
void login_worker_init(const struct login_protocol *proto,
		       const struct settings_root *set,
		       const char *auth_socket_path);
/* ...then serve the listeners on fds 4.. and the master's control
 * socket on fd 3 until the master goes away. ssl_flags: one char per
 * listener: '0' plain, '1' implicit TLS, 'h'/'H' the same behind a
 * PROXY protocol header (haproxy = yes). */
int login_worker_run(unsigned int listener_count, const char *ssl_flags);

/* The worker login_worker_init() made (the fuzz harness drives its loop
 * itself). */
struct login_worker *login_worker_get(void);

/* Is TLS available (ssl != no and a certificate)? */
bool login_tls_available(void);
/* STARTTLS: after the protocol queued its "go ahead" reply, flush it and
 * continue the connection inside TLS (input already buffered is thrown
 * away). Returns -1 (and the client was destroyed) on failure. */
int login_client_starttls(struct login_client *client);
/* May this connection authenticate with plaintext mechanisms? (ssl =
 * required asks for TLS whatever disable_plaintext_auth says) */

void login_client_send_line(struct login_client *client, const char *line);
void login_client_destroy(struct login_client *client, const char *reason);
/* The master refused the hand-over with "[LIMIT] <text>"
 * (mail_max_userip_connections): log "Disconnected: <text>: user=..."
 * and free the client (true), after the protocol sent its reply. False
 * (nothing done) for any other reason. */
bool login_client_refused_limit(struct login_client *client,
				const char *reason);
/* Start SASL with mech and an initial response (base64, or NULL). */
void login_client_auth_begin(struct login_client *client, const char *mech,
			     const char *initial_resp);
/* Continue SASL with a client response line (base64, or "*" = cancel). */
void login_client_auth_continue(struct login_client *client,
				const char *resp);
/* The client gave up the SASL exchange waiting for its response ("*",
 * or a response the protocol refused): forget the request. */
void login_client_auth_abort(struct login_client *client);
/* An authentication attempt refused before it reached the auth service
 * (plaintext disallowed, unknown mechanism): counted and remembered
 * for the disconnect line. mech may be NULL (LOGIN/USER+PASS). */
void login_client_auth_refused(struct login_client *client, const char *mech,
			       enum login_auth_fail why);
/* Log a line with the client's variables appended: "<msg>: user=<..>,
 * rip=.., session=<..>" (imap_id_log's "ID sent: ..."). */
void login_client_log_info(struct login_client *client, const char *msg);
bool login_client_plaintext_allowed(const struct login_client *client);
/* Mechanism list for CAPA/CAPABILITY: all when secured, else only those
 * not sending cleartext, or empty when plaintext is disabled. */
const char *login_client_mechs(const struct login_client *client);
/* Is mech (any case) a word of the space-separated list mechs? */
bool login_mech_in_list(const char *mechs, const char *mech);
/* Are all of line's characters base64 ones (a SASL response's check)? */
bool login_base64_chars_valid(const char *line);
/* The base64 SASL PLAIN response for user and pass (a LOGIN or
 * USER+PASS login); free it with login_sasl_plain_free(), which wipes it. */
string_t *login_sasl_plain(const char *user, const char *pass);
void login_sasl_plain_free(string_t **b64);

#endif

/* tls.h - TLS over OpenSSL 3 for non-blocking sockets on the event loop:
 * server contexts built from Dovecot's ssl_* settings (with SNI contexts
 * per local_name), connections with handshake/read/write/shutdown that
 * say which way they are blocked, STARTTLS upgrades, peer certificates,
 * channel binding for SCRAM-PLUS, and the pump that proxies a TLS client
 * to a plain socket (a logged-in session handed to its mail worker). */
#ifndef ROOST_TLS_H
#define ROOST_TLS_H

#include "lib.h"
#include "ioloop.h"

#include <sys/types.h>

/* Dovecot's ssl_* settings, as the config layer has them: "<file" values
 * already read into PEM text. NULL and "" both mean unset. */
struct tls_settings {
	const char *cert;		/* ssl_cert: leaf first, then chain */
	const char *key;		/* ssl_key */
	const char *key_password;	/* ssl_key_password */
	const char *alt_cert;		/* ssl_alt_cert (e.g. ECDSA beside RSA) */
	const char *alt_key;		/* ssl_alt_key */
	/* ssl_ca: CAs (and CRLs) that client certificates are verified
	   against, and whose names the server sends in CertificateRequest */
	const char *ca;
	bool verify_client_cert;	/* ssl_verify_client_cert */
	bool require_crl;		/* ssl_require_crl (Dovecot: yes) */
	/* ssl_client_ca_file / ssl_client_ca_dir: trust anchors for our
	   *outgoing* connections only (tls_ctx_create_client). A server
	   never uses them for client certificates: Debian's default is
	   /etc/ssl/certs, and every public CA would vouch for logins. */
	const char *client_ca_file;
	const char *client_ca_dir;
	/* ssl_min_protocol: SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 ANY LATEST
	   (unset: TLSv1.2, Dovecot's default) */
	const char *min_protocol;
	const char *cipher_list;	/* ssl_cipher_list (TLSv1.2 and lower) */
	const char *cipher_suites;	/* ssl_cipher_suites (TLSv1.3) */
	const char *curve_list;		/* ssl_curve_list */
	bool prefer_server_ciphers;	/* ssl_prefer_server_ciphers */
	const char *dh;			/* ssl_dh: PEM DH parameters */
	/* ssl_options: space-separated "no_compression", "compression",
	   "no_ticket" */
	const char *options;
	/* ssl_cert_username_field (unset: commonName) */
	const char *cert_username_field;
};

struct tls_ctx;
struct tls_conn;

/* Build a server context. Errors are Dovecot's texts, e.g. "Can't set
 * cipher list to 'X' (ssl_cipher_list setting): error:0A0000B9:SSL
 * routines::no cipher match" (the caller logs "Failed to initialize SSL
 * server context: " before it, as Dovecot does). Static error text. */
int tls_ctx_create_server(const struct tls_settings *set,
			  struct tls_ctx **ctx_r, const char **error_r);
/* A client context (outgoing connections, and the tests' clients):
 * verifies the server against client_ca_file/dir when verify is true;
 * cert/key, when set, are presented as the client certificate. */
int tls_ctx_create_client(const struct tls_settings *set, bool verify,
			  struct tls_ctx **ctx_r, const char **error_r);
/* Frees the context and the SNI contexts added to it. Connections keep
 * what they use alive (OpenSSL reference counts). */
void tls_ctx_free(struct tls_ctx **ctx);

/* Use sni_ctx (built from a local_name { } block's settings) when the
 * client asks for one of names: a space-separated list of host names,
 * each exact or "*.example.com" (one label), compared without case.
 * Exact names win over wildcards; no match keeps ctx. ctx takes
 * ownership of sni_ctx. */
int tls_ctx_add_sni(struct tls_ctx *ctx, const char *names,
		    struct tls_ctx *sni_ctx, const char **error_r);
/* Session tickets that work across processes: every login worker given
 * the same 80 random bytes (the master makes them) can resume the
 * others' sessions. Without it each process has its own ticket key. */
void tls_ctx_set_ticket_key(struct tls_ctx *ctx, const unsigned char key[80]);

/* ---- connections ---- */

/* Server side over a connected socket (made non-blocking). The fd stays
 * the caller's: tls_conn_free() does not close it. */
struct tls_conn *tls_conn_create(struct tls_ctx *ctx, int fd);
/* The same with bytes already read from fd that belong to the TLS
 * stream (after a PROXY header was read with them). */
struct tls_conn *tls_conn_create_with_input(struct tls_ctx *ctx, int fd,
					    const void *data, size_t size);
/* STARTTLS: the plain session on fd is upgraded; buffered is what the
 * plaintext reader already holds after the STARTTLS command. Those bytes
 * came before the handshake, unprotected: they are discarded, never fed
 * to the TLS session or the protocol (the STARTTLS command injection of
 * CVE-2011-0411). *discarded_r says how many, for the log. */
struct tls_conn *tls_conn_starttls(struct tls_ctx *ctx, int fd,
				   const void *buffered, size_t buffered_len,
				   size_t *discarded_r);
/* Client side; servername (may be NULL) is sent as SNI and, with a
 * verifying context, checked against the certificate. */
struct tls_conn *tls_conn_create_client(struct tls_ctx *ctx, int fd,
					const char *servername);
void tls_conn_free(struct tls_conn **conn);
int tls_conn_get_fd(const struct tls_conn *conn);

/* Drive the handshake: 1 done, 0 blocked (wait for tls_conn_want()),
 * -1 failed (tls_conn_error(): "SSL_accept() failed: error:0A000102:SSL
 * routines::unsupported protocol", or "Connection closed"). */
int tls_conn_handshake(struct tls_conn *conn);
bool tls_conn_handshake_done(const struct tls_conn *conn);

/* Read decrypted bytes (handshaking first if needed). Returns >0 bytes,
 * 0 blocked (wait for tls_conn_want()), -1 at EOF (tls_conn_eof()) or
 * on error (tls_conn_error()). */
ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t size);
/* Bytes OpenSSL has decrypted but not handed out: the socket will not
 * become readable for them, so read again before waiting. */
bool tls_conn_pending(struct tls_conn *conn);
/* Write: >0 bytes taken, 0 blocked, -1 error. After 0, call again with
 * at least the same bytes (they may have moved). */
ssize_t tls_conn_write(struct tls_conn *conn, const void *data, size_t size);
/* Send close_notify: 1 sent, 0 blocked, -1 error. Doesn't wait for the
 * peer's close_notify. */
int tls_conn_shutdown(struct tls_conn *conn);
/* What the last blocked call waits for: IO_READ and/or IO_WRITE. */
enum io_condition tls_conn_want(const struct tls_conn *conn);
bool tls_conn_eof(const struct tls_conn *conn);
/* Last error text (Dovecot's wording), or NULL. */
const char *tls_conn_error(const struct tls_conn *conn);
/* Free OpenSSL's read/write buffers of an idle connection (they come
 * back on the next read or write). Also done automatically
 * (SSL_MODE_RELEASE_BUFFERS); returns true if they were freed now or
 * already. */
bool tls_conn_release_buffers(struct tls_conn *conn);

/* The name the client sent (SNI), or NULL. */
const char *tls_conn_get_servername(const struct tls_conn *conn);
/* "TLSv1.3", "TLS_AES_256_GCM_SHA384", and Dovecot's %{ssl_security}
 * text "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)". */
const char *tls_conn_get_protocol(const struct tls_conn *conn);
const char *tls_conn_get_cipher(const struct tls_conn *conn);
const char *tls_conn_get_security_string(const struct tls_conn *conn);
bool tls_conn_session_reused(const struct tls_conn *conn);

/* Peer certificate: sent at all, and valid (chain to ssl_ca, CRLs as
 * ssl_require_crl says). An invalid certificate doesn't fail the
 * handshake, as in Dovecot: auth_ssl_require_client_cert decides. */
bool tls_conn_has_peer_cert(const struct tls_conn *conn);
bool tls_conn_peer_cert_valid(const struct tls_conn *conn);
/* The peer certificate's subject, one line ("CN=alice,O=Example"),
 * or NULL. Allocated; caller frees. */
char *tls_conn_get_peer_subject(const struct tls_conn *conn);
/* The user name for auth_ssl_username_from_cert: the subject field
 * ssl_cert_username_field names (commonName by default) of a *valid*
 * certificate. NULL when there is none, the field is missing, or its
 * value holds a NUL (a forged "alice\0@evil"). Allocated; caller frees. */
char *tls_conn_get_peer_username(const struct tls_conn *conn);

/* Channel binding data for SCRAM-*-PLUS: type "tls-unique" (TLSv1.2 and
 * lower: the first Finished message) or "tls-exporter" (RFC 9266:
 * TLSv1.3, or TLSv1.2 with extended master secret). Returns a malloc'd
 * buffer and its length, or NULL with error_r when the type is unknown
 * or not defined for this session. */
unsigned char *tls_conn_get_channel_binding(struct tls_conn *conn,
					    const char *type, size_t *len_r,
					    const char **error_r);

/* ---- handshake on the event loop ---- */

/* Called once: success, or failure with tls_conn_error() set. */
typedef void tls_handshake_callback_t(struct tls_conn *conn, bool success,
				      void *context);
/* Run the handshake from the loop with its own io (removed before the
 * callback). Reported from the loop, never from inside this call.
 * Cancel with tls_conn_free(). */
void tls_conn_handshake_start(struct tls_conn *conn, struct ioloop *loop,
			      tls_handshake_callback_t *callback,
			      void *context);

/* ---- TLS <-> plain proxy pump ---- */

struct tls_proxy;
/* Both directions are finished (or one failed); reason is "Connection
 * closed", "Disconnected by server" or a TLS error text. Called from the
 * loop; free the proxy here or later. */
typedef void tls_proxy_callback_t(struct tls_proxy *proxy,
				  const char *reason, void *context);

/* Copy bytes between a handshaken (or handshaking) TLS connection and
 * plain_fd (our end of the socketpair to the mail worker), with buffers
 * of at most bufsize bytes each way (0 = 16 KB): a full buffer stops
 * reading its source. Buffers exist only while they hold data. A side's
 * EOF is passed on (close_notify towards the client, shutdown(SHUT_WR)
 * towards the mail worker) once what was buffered for it has gone.
 * Takes ownership of conn, its fd and plain_fd; a handshake running
 * from tls_conn_handshake_start() is taken over (no callback then). */
struct tls_proxy *tls_proxy_create(struct ioloop *loop, struct tls_conn *conn,
				   int plain_fd, size_t bufsize,
				   tls_proxy_callback_t *callback,
				   void *context);
/* Closes both fds and frees the TLS connection. */
void tls_proxy_free(struct tls_proxy **proxy);
struct tls_conn *tls_proxy_get_conn(struct tls_proxy *proxy);

#endif

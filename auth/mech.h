/* mech.h - server side of the SASL mechanisms (PLAIN, LOGIN, CRAM-MD5,
 * DIGEST-MD5, SCRAM-SHA-1/-256[-PLUS], EXTERNAL, ANONYMOUS, OAUTHBEARER
 * later). A mechanism only talks to its caller through struct mech_ops,
 * so it can be tested with published vectors and fuzzed on its own. */
#ifndef ROOST_MECH_H
#define ROOST_MECH_H

#include "lib.h"
#include "pool.h"

enum mech_flags {
	MECH_FLAG_PLAINTEXT = 0x01,	/* "plaintext" in the MECH line */
	MECH_FLAG_DICTIONARY = 0x02,
	MECH_FLAG_ACTIVE = 0x04,
	MECH_FLAG_FORWARD_SECRECY = 0x08,
	MECH_FLAG_MUTUAL_AUTH = 0x10,
	MECH_FLAG_ANONYMOUS = 0x20,
	MECH_FLAG_CHANNEL_BINDING = 0x40, /* needs TLS channel binding data */
};

enum passdb_result {
	PASSDB_RESULT_INTERNAL_FAILURE = -1,
	PASSDB_RESULT_SCHEME_NOT_AVAILABLE = -2,
	PASSDB_RESULT_USER_UNKNOWN = -3,
	PASSDB_RESULT_USER_DISABLED = -4,
	PASSDB_RESULT_PASS_EXPIRED = -5,
	PASSDB_RESULT_NEXT = -6,
	PASSDB_RESULT_PASSWORD_MISMATCH = 0,
	PASSDB_RESULT_OK = 1,
};

/* Largest client message a mechanism takes in one step (after base64
 * decoding). A bigger one fails the request. It is the auth-client
 * protocol's line limit: Dovecot bounds SASL data only by that line
 * (a 10 KB user name in PLAIN is looked up like any other). */
#define MECH_MAX_INPUT_SIZE 16384

/* The one failure code mechanisms give ops->fail(): the passdb had an
 * internal failure. The caller answers FAIL with "temp" (Dovecot's
 * code=temp_fail). user_disabled/password_expired come from the passdb
 * result the caller saw itself. */
#define MECH_FAIL_CODE_TEMP "temp_fail"

/* Credentials that ops->lookup_credentials(scheme) must hand back
 * through mech_credentials_result(), as password_get_credentials() makes
 * them from any stored scheme that allows it:
 *
 *   "CRAM-MD5"      32 bytes: Dovecot's HMAC-MD5 context, i.e. the binary
 *                   of the 64 hex digits of a {CRAM-MD5} password. The
 *                   MD5 state (A, B, C, D as little-endian 32-bit words)
 *                   after one compression of key^opad (bytes 0-15, the
 *                   outer state) and of key^ipad (bytes 16-31, the inner
 *                   state).
 *   "DIGEST-MD5"    16 bytes: MD5("user:realm:password"), the binary of a
 *                   {DIGEST-MD5} password, user and realm as the
 *                   mechanism set them ("chris@elwood.innosoft.com" is
 *                   user "chris", realm "elwood.innosoft.com").
 *   "SCRAM-SHA-1"   text, not NUL-terminated: the data of a {SCRAM-SHA-1}
 *   "SCRAM-SHA-256" ({SCRAM-SHA-256}) password, "iter,salt,stored,server":
 *                   iteration count (4096 .. INT_MAX), base64 salt,
 *                   base64 StoredKey and base64 ServerKey (20 or 32
 *                   bytes each). The -PLUS mechanisms ask for the same.
 *
 * Anything else (wrong length, bad fields) fails the request with an
 * error logged, as Dovecot does. */

struct mech_request;

/* What a mechanism asks of the auth request that runs it. Every call
 * may answer later (the passdb may be a worker process): the answer
 * comes back through mech_verify_plain_result() and
 * mech_credentials_result(). success() and fail() end the request: the
 * mechanism touches nothing of it afterwards, so they may free it. */
struct mech_ops {
	/* Set the user (authcid) and optional authzid (master login: log in
	   as authzid with authcid's password). authzid is NULL when the
	   client gave none, an empty one, or the same name as username.
	   Returns false if a name is refused (bad chars, too long, no master
	   passdb); the mechanism logs *error_r (info) and fails the request.
	   When it is the authzid that is refused, *error_r starts with
	   "login user: " (Dovecot's text for PLAIN and EXTERNAL; DIGEST-MD5
	   and SCRAM log it without that prefix, as Dovecot does). */
	bool (*set_username)(struct mech_request *req, const char *username,
			     const char *authzid, const char **error_r);
	void (*verify_plain)(struct mech_request *req, const char *password);
	/* scheme: "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" */
	void (*lookup_credentials)(struct mech_request *req,
				   const char *scheme);
	/* A challenge, raw bytes: the caller base64-encodes it. */
	void (*reply_continue)(struct mech_request *req,
			       const unsigned char *data, size_t size);
	/* data = final server data (DIGEST-MD5 "rspauth=...", SCRAM
	   "v=..."), may be empty. A client that did not say final-resp-ok
	   gets it as one more CONT, answered by an empty response, before
	   OK (Dovecot's auth_request_success()). */
	void (*success)(struct mech_request *req, const unsigned char *data,
			size_t size);
	/* reason NULL = authentication failed; else MECH_FAIL_CODE_TEMP. */
	void (*fail)(struct mech_request *req, const char *reason);
	/* TLS channel binding data for "tls-unique"/"tls-exporter" of this
	   connection, or NULL (the pointer itself may be NULL: none). The
	   data is copied. It must be NULL when the server does not offer a
	   -PLUS mechanism on this connection: SCRAM refuses a client's "y"
	   flag (RFC 5802 section 6, downgrade) exactly when it is not. */
	const unsigned char *(*channel_binding)(struct mech_request *req,
						const char *type,
						size_t *size_r);
	/* Optional: write a mechanism's log line. user is the name the
	   mechanism knows (NULL = not yet, log "?"); Dovecot's prefix is
	   "<mech in lower case>(<user>,<rip>,<session>): ". Info lines are
	   for auth_verbose only. NULL: mech.c writes "<mech>(<user>): msg"
	   itself, info only with set->verbose. */
	void (*log)(struct mech_request *req, enum log_type type,
		    const char *user, const char *msg);
};

/* Per request: the caller fills cert_username from the AUTH request, so
 * it copies the auth's settings for each request that has a certificate
 * (the rest is the same for all). */
struct mech_settings {
	const char *anonymous_username;	/* auth_anonymous_username */
	const char *realms;		/* auth_realms (DIGEST-MD5), space
					   separated */
	const char *default_realm;	/* applied by the caller's
					   set_username, not by mechanisms */
	bool ssl_username_from_cert;	/* EXTERNAL */
	const char *cert_username;	/* from the verified client cert */
	const char *hostname;		/* CRAM-MD5 challenge; NULL =
					   gethostname() */
	bool verbose;			/* auth_verbose, for the default log */
};

struct mech_module {
	const char *name;	/* "PLAIN" */
	enum mech_flags flags;
	/* true: the mechanism needs a credentials lookup (not plaintext) */
	bool needs_credentials;
	struct mech_request *(*request_new)(pool_t pool);
	/* first client data (SASL initial response; data may be NULL = none,
	   distinct from an empty response). Called once, first. */
	void (*auth_initial)(struct mech_request *req,
			     const unsigned char *data, size_t size);
	/* A client response to reply_continue(). Data that comes when the
	   mechanism is not waiting for it (before the initial step, during a
	   lookup) fails the request; after the end it is ignored. More than
	   MECH_MAX_INPUT_SIZE bytes fails the request. */
	void (*auth_continue)(struct mech_request *req,
			      const unsigned char *data, size_t size);
	/* Results of the lookups it asked for; NULL = the default handling
	   (OK → success with no data, INTERNAL_FAILURE → fail with
	   MECH_FAIL_CODE_TEMP, anything else → fail). */
	void (*verify_plain_callback)(struct mech_request *req,
				      enum passdb_result result);
	void (*credentials_callback)(struct mech_request *req,
				     enum passdb_result result,
				     const unsigned char *cred, size_t size);
	/* Optional: wipe the secrets the request holds (derived keys). */
	void (*auth_free)(struct mech_request *req);
};

enum mech_state {
	MECH_STATE_NEW = 0,	/* auth_initial not called yet */
	MECH_STATE_CLIENT,	/* waiting for client data */
	MECH_STATE_LOOKUP,	/* waiting for a passdb answer */
	MECH_STATE_DONE,	/* success() or fail() was called */
};

/* The generic part every mechanism's request starts with. */
struct mech_request {
	const struct mech_module *mech;
	const struct mech_ops *ops;
	const struct mech_settings *set;
	void *context;		/* the caller's auth request */
	pool_t pool;
	enum mech_state state;
	/* The last name given to set_username (for log lines), or NULL. */
	const char *username;
	/* Tests and fuzzing only: the server nonce to use instead of a
	   random one (DIGEST-MD5 nonce, SCRAM s-nonce; for CRAM-MD5 the
	   whole challenge "<...>"). Set right after mech_request_new(). */
	const char *test_nonce;
};

/* Answers to ops->verify_plain() and ops->lookup_credentials(). The
 * mechanism copies what it needs of cred; the caller wipes it after. An
 * answer for a request that already ended is ignored. */
void mech_verify_plain_result(struct mech_request *req,
			      enum passdb_result result);
void mech_credentials_result(struct mech_request *req,
			     enum passdb_result result,
			     const unsigned char *cred, size_t size);

/* Find by name (case-insensitive); NULL if Roost has no such mechanism. */
const struct mech_module *mech_module_find(const char *name);
/* Every mechanism Roost has, NULL-terminated. */
const struct mech_module *const *mech_modules_list(void);
/* Start a request: allocates from pool, fills the generic part. */
struct mech_request *mech_request_new(const struct mech_module *mech,
				      pool_t pool, const struct mech_ops *ops,
				      const struct mech_settings *set,
				      void *context);
/* Wipe the request's secrets and end it (an answer arriving later is
 * ignored); *req = NULL. The memory stays in the pool. Call it before
 * destroying the pool of a request that may not have finished. */
void mech_request_free(struct mech_request **req);

#endif

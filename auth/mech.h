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

struct mech_request;

/* What a mechanism asks of the auth request that runs it. Every call
 * may answer later (the passdb may be a worker process): the answer
 * comes back through mech_verify_plain_result() and
 * mech_credentials_result(). */
struct mech_ops {
	/* Set the user (authcid) and optional authzid (master login). Returns
	 * false if the name is refused (bad chars, too long): the mechanism
	 * then fails with ops->fail(). */
	bool (*set_username)(struct mech_request *req, const char *username,
			     const char *authzid, const char **error_r);
	void (*verify_plain)(struct mech_request *req, const char *password);
	/* scheme: "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" */
	void (*lookup_credentials)(struct mech_request *req,
				   const char *scheme);
	void (*reply_continue)(struct mech_request *req,
			       const unsigned char *data, size_t size);
	/* data = final server data (SCRAM "v=..."), may be empty */
	void (*success)(struct mech_request *req, const unsigned char *data,
			size_t size);
	/* reason NULL = plain failure; code like "invalid_base64" etc. */
	void (*fail)(struct mech_request *req, const char *reason);
	/* TLS channel binding data for "tls-unique"/"tls-exporter", or NULL */
	const unsigned char *(*channel_binding)(struct mech_request *req,
						const char *type,
						size_t *size_r);
};

struct mech_settings {
	const char *anonymous_username;	/* auth_anonymous_username */
	const char *realms;		/* auth_realms (DIGEST-MD5) */
	const char *default_realm;
	bool ssl_username_from_cert;	/* EXTERNAL */
	const char *cert_username;	/* from the verified client cert */
};

struct mech_module {
	const char *name;	/* "PLAIN" */
	enum mech_flags flags;
	/* true: the mechanism needs a credentials lookup (not plaintext) */
	bool needs_credentials;
	struct mech_request *(*request_new)(pool_t pool);
	/* first client data (SASL initial response; data may be NULL = none,
	   distinct from an empty response) */
	void (*auth_initial)(struct mech_request *req,
			     const unsigned char *data, size_t size);
	void (*auth_continue)(struct mech_request *req,
			      const unsigned char *data, size_t size);
	/* Results of the lookups it asked for; NULL = the default handling
	   (OK → success with no data, anything else → fail). */
	void (*verify_plain_callback)(struct mech_request *req,
				      enum passdb_result result);
	void (*credentials_callback)(struct mech_request *req,
				     enum passdb_result result,
				     const unsigned char *cred, size_t size);
};

/* The generic part every mechanism's request starts with. */
struct mech_request {
	const struct mech_module *mech;
	const struct mech_ops *ops;
	const struct mech_settings *set;
	void *context;		/* the caller's auth request */
	pool_t pool;
};

/* Answers to ops->verify_plain() and ops->lookup_credentials(). */
void mech_verify_plain_result(struct mech_request *req,
			      enum passdb_result result);
void mech_credentials_result(struct mech_request *req,
			     enum passdb_result result,
			     const unsigned char *cred, size_t size);

/* Find by name (case-insensitive); NULL if Roost has no such mechanism. */
const struct mech_module *mech_module_find(const char *name);
/* Start a request: allocates from pool, fills the generic part. */
struct mech_request *mech_request_new(const struct mech_module *mech,
				      pool_t pool, const struct mech_ops *ops,
				      const struct mech_settings *set,
				      void *context);

#endif

/* auth-request.h - one authentication attempt: username normalisation,
 * the SASL mechanism, the passdb chain with its result_* rules, extra
 * fields, the userdb chain, failure delay. */
#ifndef ROOST_AUTH_REQUEST_H
#define ROOST_AUTH_REQUEST_H

#include "auth.h"
#include "auth-fields.h"

struct auth_request;

/* How the owner (a client or master connection, doveadm) hears back. */
struct auth_request_handler {
	void (*reply_continue)(struct auth_request *req,
			       const unsigned char *data, size_t size);
	/* data: final SASL data (may be empty) */
	void (*reply_success)(struct auth_request *req,
			      const unsigned char *data, size_t size);
	/* after the failure delay; reason may be NULL */
	void (*reply_fail)(struct auth_request *req, const char *code,
			   const char *reason);
};

struct auth_request {
	struct auth *auth;
	pool_t pool;
	unsigned int id;
	struct auth_lookup lookup;
	const struct mech_module *mech;
	struct mech_request *mech_req;
	const struct auth_request_handler *handler;
	void *handler_context;

	const char *master_user;	/* authcid of a master login */
	const char *login_user;		/* the user being logged in as */
	bool no_login, no_penalty, debug, valid_client_cert;
	bool no_delay;	/* master/doveadm lookups: fail at once */
	bool final_resp_ok;	/* the client takes SASL data in OK */
	bool username_rejected;	/* auth_username_* refused the login */
	bool success_pending;	/* success data sent as CONT; OK next */
	bool finished, failed;

	/* passdb chain */
	unsigned int passdb_idx;
	bool passdb_success, password_verified;
	enum passdb_result passdb_result;
	bool passdb_ran, passdb_internal_failure;
	struct auth_fields *saved_fields;	/* before the current passdb */
	const char *fail_code;	/* user_disabled, temp_fail */
	char *pending_password;		/* wiped when freed */
	const char *wanted_scheme;	/* lookup_credentials */
	bool passdb_credentials;	/* the current passdb step looks up
					   credentials (no password check) */
	/* auth cache: the current passdb/userdb step was answered from
	   it (nothing to store); the entry a worker is verifying */
	bool passdb_cached, userdb_cached;
	bool cache_fallback;	/* answering from an expired entry */
	bool passdb_keep_fields; /* a failure keeps this passdb's fields */
	/* debug lines: "Performing passdb lookup" was logged, "Finished"
	   not yet */
	bool passdb_performing, userdb_performing;
	const char *cred_driver;	/* the passdb that gave credentials */
	/* auth policy (auth-policy.c) */
	struct policy_call *policy_call;	/* a check in flight */
	bool tls;		/* "secured=tls": the policy's "tls" */
	bool policy_rejected;	/* the server said -1 */
	bool policy_after_done;
	const char *client_id;	/* %{client_id} */
	unsigned char *success_data;	/* kept over the after-auth check */
	size_t success_size;
	const char *cache_verify_key;
	bool cache_verify_neg_expired;
	const char *const *cache_verify_fields;
	/* userdb chain */
	unsigned int userdb_idx;
	bool userdb_success;
	struct auth_fields *userdb_fields;
	void (*userdb_callback)(struct auth_request *req, bool found);

	/* penalty before start, failure delay before FAIL */
	struct timeout *delay_to;
	void *delay_context;
	uint64_t created_msecs;
};

struct auth_request *auth_request_new(struct auth *auth,
				      const struct mech_module *mech,
				      const struct auth_request_handler *h,
				      void *context);
void auth_request_free(struct auth_request **req);
/* Set a request parameter from the client protocol ("service=smtp",
 * "rip=1.2.3.4", "secured", "nologin" ...). Unknown ones are ignored. */
void auth_request_import(struct auth_request *req, const char *key,
			 const char *value);
/* Start the mechanism with the initial response (NULL = none). */
void auth_request_initial(struct auth_request *req,
			  const unsigned char *data, size_t size);
void auth_request_continue(struct auth_request *req,
			   const unsigned char *data, size_t size);

/* Without a mechanism: set the user and run the passdb chain with the
 * password (doveadm auth test) or without one (password NULL: a lookup,
 * PASS in the master protocol). */
void auth_request_set_user(struct auth_request *req, const char *user);
void auth_request_verify_plain_direct(struct auth_request *req,
				      const char *password);
/* Run the userdb chain; callback gets whether the user was found.
 * Fields in req->userdb_fields. */
void auth_request_lookup_user(struct auth_request *req,
			      void (*callback)(struct auth_request *req,
					       bool found));

/* Normalise a login name per auth_username_* settings. Returns NULL with
 * *error_r when refused. */
const char *auth_request_fix_username(struct auth_request *req,
				      const char *username,
				      const char **error_r);

/* The login name as the client typed it, when the reply should carry
 * it as original_user= (it differs from the user, or was refused). */
const char *auth_request_original_user(struct auth_request *req);

/* The name used in log prefixes: "passwd-file(alice,1.2.3.4,<sess>)" */
const char *auth_request_log_prefix(struct auth_request *req,
				    const char *subsystem);

/* "<mech>(<user>,<rip>,<session>): " for the mechanism's lines (user
 * NULL: "?"). */
const char *auth_request_mech_log_prefix(struct auth_request *req,
					 const char *user);

/* ---- the auth cache as requests use it (auth-request-cache.c) ---- */

/* Answer the current passdb step (credentials: a lookup, else a check of
 * req->pending_password) from the cache. Returns 1 with *result_r and
 * the cached fields, password and scheme set on req->lookup; 0 when the
 * database must be asked (miss, expired, or a mismatch against an entry
 * whose last check succeeded); 2 when an auth worker verifies the
 * password (auth_cache_verify_password_with_worker): verified() is
 * called later. use_expired: the database failed, an expired entry is
 * better than nothing. Debug lines "cache miss/expired/hit: ..." as
 * Dovecot's. */
int auth_request_passdb_cache_lookup(struct auth_request *req,
				     struct auth_passdb *pdb, bool use_expired,
				     void (*verified)(struct auth_request *req,
						      int result),
				     enum passdb_result *result_r);
/* After a worker's verification of a cached password: 1 use *result_r
 * (fields set, and kept even for a mismatch, as Dovecot does), 0 ask
 * the database. */
int auth_request_passdb_cache_verified(struct auth_request *req,
				       struct auth_passdb *pdb,
				       enum passdb_result result,
				       enum passdb_result *result_r);
/* Store what the database said for the current passdb step. */
void auth_request_passdb_cache_save(struct auth_request *req,
				    struct auth_passdb *pdb,
				    enum passdb_result result);
/* The userdb step from the cache: 1 answered (*fields_r = the cached
 * fields, NULL for USER_UNKNOWN), 0 not. */
int auth_request_userdb_cache_lookup(struct auth_request *req,
				     struct auth_userdb *udb, bool use_expired,
				     enum userdb_result *result_r,
				     struct auth_fields **fields_r);
/* Store this userdb's fields (defaults, its own, overrides; NULL for
 * USER_UNKNOWN). */
void auth_request_userdb_cache_save(struct auth_request *req,
				    struct auth_userdb *udb,
				    enum userdb_result result,
				    const struct auth_fields *fields);

#endif

/* auth-worker.h - blocking passdb/userdb calls (PAM, getpwnam, crypt of
 * costly schemes, checkpassword) run in forked worker processes, one
 * request at a time each, so the auth service's event loop never
 * blocks. auth_worker_max_count bounds the pool; a worker exits after
 * `service auth-worker { service_count }` requests (0 = never) or when
 * a driver asks for it (pam max_requests). */
#ifndef ROOST_AUTH_WORKER_H
#define ROOST_AUTH_WORKER_H

#include "auth-request.h"

enum auth_worker_op {
	AUTH_WORKER_PASSV,	/* verify a password */
	AUTH_WORKER_CRED,	/* look up the stored password */
	AUTH_WORKER_USER,	/* userdb lookup */
	AUTH_WORKER_PASSW,	/* check a password against a cached one */
};

/* result is an enum passdb_result or userdb_result; fields were merged
 * into req->lookup.extra_fields, password/default_scheme set for CRED. */
typedef void auth_worker_callback_t(struct auth_request *req, int result);

struct auth_worker_pool *auth_worker_pool_create(struct auth *auth,
						 unsigned int max_count);
void auth_worker_pool_destroy(struct auth_worker_pool **pool);
void auth_worker_call(struct auth_worker_pool *pool, struct auth_request *req,
		      enum auth_worker_op op, unsigned int db_idx,
		      const char *password, auth_worker_callback_t *callback);
/* auth_cache_verify_password_with_worker: check plain against the
 * cached password ("{SCHEME}data") in a worker; the callback gets OK or
 * PASSWORD_MISMATCH (log_reason set). */
void auth_worker_verify_cached(struct auth_worker_pool *pool,
			       struct auth_request *req, unsigned int db_idx,
			       const char *plain, const char *cached,
			       auth_worker_callback_t *callback);
/* A request is going away: forget its pending call. */
void auth_worker_cancel(struct auth_worker_pool *pool,
			struct auth_request *req);

/* Run a driver call synchronously in this process (what a worker does;
 * also used when a driver is not blocking). */
int auth_worker_run_sync(struct auth *auth, struct auth_lookup *lookup,
			 enum auth_worker_op op, unsigned int db_idx,
			 const char *password);

#endif

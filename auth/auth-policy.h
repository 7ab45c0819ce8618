/* auth-policy.h - Dovecot's authentication policy server client
 * (auth_policy_*): a JSON POST to auth_policy_server_url?command=allow
 * before the passdbs are asked and after they accepted, and
 * ?command=report when the attempt ends. The answer's "status" refuses
 * (-1), delays (seconds > 0) or lets through (0). */
#ifndef ROOST_AUTH_POLICY_H
#define ROOST_AUTH_POLICY_H

#include "auth-request.h"

struct auth_policy;

/* NULL in *policy_r when auth_policy_server_url is empty. Errors are
 * Dovecot's words ("auth_policy_hash_nonce must be set when policy
 * server is used"). */
int auth_policy_init(struct auth *auth, struct auth_policy **policy_r,
		     const char **error_r);
void auth_policy_deinit(struct auth_policy **policy);

/* Called when a check is done: refused = the attempt must fail (the
 * server's "msg", if any, is the reason= extra field; a refusal from the
 * server also sets req->policy_rejected). A delay asked for has already
 * been waited. */
typedef void auth_policy_callback_t(struct auth_request *req, bool refused);

/* Whether checks are configured (before = auth_policy_check_before_auth,
 * else _after_auth). */
bool auth_policy_wants_check(const struct auth_request *req, bool after);
/* Ask the server; callback later, from the event loop. */
void auth_policy_check(struct auth_request *req, bool after,
		       auth_policy_callback_t *callback);
/* Tell the server how the attempt ended (auth_policy_report_after_auth);
 * the answer is only logged, the request may be freed meanwhile. */
void auth_policy_report(struct auth_request *req);
/* The request goes away: forget its check (no callback). */
void auth_policy_abort(struct auth_request *req);

#endif

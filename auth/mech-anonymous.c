/* mech-anonymous.c - ANONYMOUS (RFC 4505): anyone logs in as
 * auth_anonymous_username; the client's trace text is only logged
 * ("anonymous(<trace>): login", with auth_verbose). No passdb runs. */
#include "mech-private.h"

/* RFC 4505: trace = email / 1*255TCHAR; longer is cut in the log. */
#define ANONYMOUS_TRACE_LOG_MAX 255

static void mech_anonymous_auth_continue(struct mech_request *req,
					 const unsigned char *data,
					 size_t size)
{
	const char *anon = req->set->anonymous_username;
	char *trace;

	if (!mech_req_input_continue(req, size))
		return;
	if (anon == NULL || anon[0] == '\0') {
		mech_req_error(req, "auth_anonymous_username is not set");
		mech_req_fail(req);
		return;
	}
	/* NULs become '?' too: the trace is never parsed, only logged */
	trace = p_malloc(req->pool, size_add(size, 1));
	for (size_t i = 0; i < size; i++)
		trace[i] = data[i] == '\0' ? '?' : (char)data[i];
	mech_req_log(req, LOG_TYPE_INFO,
		     mech_sanitize(req->pool, trace, ANONYMOUS_TRACE_LOG_MAX),
		     "login");
	if (!mech_req_set_username(req, anon, NULL, false)) {
		mech_req_fail(req);
		return;
	}
	mech_req_success(req, "", 0);
}

static struct mech_request *mech_anonymous_auth_new(pool_t pool)
{
	return p_new(pool, struct mech_request, 1);
}

const struct mech_module mech_anonymous = {
	.name = "ANONYMOUS",
	.flags = MECH_FLAG_ANONYMOUS,
	.needs_credentials = false,
	.request_new = mech_anonymous_auth_new,
	.auth_initial = mech_generic_auth_initial,
	.auth_continue = mech_anonymous_auth_continue,
};

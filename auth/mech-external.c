/* mech-external.c - EXTERNAL (RFC 4422 appendix A): the user is the one
 * of the verified client certificate (auth_ssl_username_from_cert); the
 * client may send an authzid, which makes it a master user login as in
 * Dovecot. The passdb still runs, with an empty password. */
#include "mech-private.h"

static void mech_external_auth_continue(struct mech_request *req,
					const unsigned char *data,
					size_t size)
{
	const struct mech_settings *set = req->set;
	const char *authzid;

	if (!mech_req_input_continue(req, size))
		return;
	authzid = mech_strndup_nonul(req->pool, data, size);
	if (authzid == NULL) {
		mech_req_info(req, "invalid input");
		mech_req_fail(req);
		return;
	}
	if (!set->ssl_username_from_cert || set->cert_username == NULL ||
	    set->cert_username[0] == '\0') {
		mech_req_info(req, "username not known");
		mech_req_fail(req);
		return;
	}
	if (!mech_req_set_username(req, set->cert_username, authzid, false)) {
		mech_req_fail(req);
		return;
	}
	mech_req_verify_plain(req, "");
}

static struct mech_request *mech_external_auth_new(pool_t pool)
{
	return p_new(pool, struct mech_request, 1);
}

const struct mech_module mech_external = {
	.name = "EXTERNAL",
	.flags = 0,
	.needs_credentials = false,
	.request_new = mech_external_auth_new,
	.auth_initial = mech_generic_auth_initial,
	.auth_continue = mech_external_auth_continue,
};

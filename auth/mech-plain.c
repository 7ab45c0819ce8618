/* mech-plain.c - PLAIN (RFC 4616): "authzid NUL authcid NUL password" in
 * one message. An authzid other than the authcid is a master user login,
 * as in Dovecot. */
#include "mech-private.h"

/* Split the message at its two NULs; false unless there are exactly
 * two (Dovecot 2.3: "invalid input"). */
static bool plain_parse(const unsigned char *data, size_t size,
			size_t *nul1_r, size_t *nul2_r)
{
	const unsigned char *p1, *p2;

	p1 = size == 0 ? NULL : memchr(data, '\0', size);
	if (p1 == NULL)
		return false;
	p2 = memchr(p1 + 1, '\0', size - (size_t)(p1 + 1 - data));
	if (p2 == NULL)
		return false;
	if (memchr(p2 + 1, '\0', size - (size_t)(p2 + 1 - data)) != NULL)
		return false;
	*nul1_r = (size_t)(p1 - data);
	*nul2_r = (size_t)(p2 - data);
	return true;
}

static void mech_plain_auth_continue(struct mech_request *req,
				     const unsigned char *data, size_t size)
{
	const char *authzid, *authcid;
	size_t nul1, nul2, pass_len;
	char *pass;

	if (!mech_req_input_continue(req, size))
		return;
	if (!plain_parse(data, size, &nul1, &nul2)) {
		mech_req_info(req, "invalid input");
		mech_req_fail(req);
		return;
	}
	authzid = p_strndup(req->pool, data, nul1);
	authcid = p_strndup(req->pool, data + nul1 + 1, nul2 - nul1 - 1);
	if (!mech_req_set_username(req, authcid, authzid, false)) {
		mech_req_fail(req);
		return;
	}
	/* the password lives outside the pool so it can be wiped even if
	   the answer ends (and frees) the request synchronously */
	pass_len = size - nul2 - 1;
	pass = i_malloc(size_add(pass_len, 1));
	memcpy(pass, data + nul2 + 1, pass_len);
	pass[pass_len] = '\0';
	mech_req_verify_plain(req, pass);
	explicit_bzero(pass, pass_len);
	free(pass);
}

static struct mech_request *mech_plain_auth_new(pool_t pool)
{
	return p_new(pool, struct mech_request, 1);
}

const struct mech_module mech_plain = {
	.name = "PLAIN",
	.flags = MECH_FLAG_PLAINTEXT,
	.needs_credentials = false,
	.request_new = mech_plain_auth_new,
	.auth_initial = mech_generic_auth_initial,
	.auth_continue = mech_plain_auth_continue,
};

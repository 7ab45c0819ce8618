/* mech-login.c - LOGIN (draft-murchison-sasl-login): the server asks
 * "Username:" then "Password:", the client answers each. An initial
 * response is taken as the user name, as Dovecot does. */
#include "mech-private.h"

static const char login_prompt_user[] = "Username:";
static const char login_prompt_pass[] = "Password:";

struct login_request {
	struct mech_request req;
	bool have_user;
};

static void mech_login_auth_continue(struct mech_request *req,
				     const unsigned char *data, size_t size)
{
	struct login_request *lreq = (struct login_request *)req;
	const char *username;
	char *pass;

	if (!mech_req_input_continue(req, size))
		return;
	if (!lreq->have_user) {
		username = mech_strndup_nonul(req->pool, data, size);
		if (username == NULL) {
			mech_req_info(req, "invalid input");
			mech_req_fail(req);
			return;
		}
		if (!mech_req_set_username(req, username, NULL, false)) {
			mech_req_fail(req);
			return;
		}
		lreq->have_user = true;
		mech_req_reply_continue(req, login_prompt_pass,
					strlen(login_prompt_pass));
		return;
	}
	if (size > 0 && memchr(data, '\0', size) != NULL) {
		mech_req_info(req, "invalid input");
		mech_req_fail(req);
		return;
	}
	pass = i_malloc(size_add(size, 1));
	if (size > 0)
		memcpy(pass, data, size);
	pass[size] = '\0';
	mech_req_verify_plain(req, pass);
	explicit_bzero(pass, size);
	free(pass);
}

static void mech_login_auth_initial(struct mech_request *req,
				    const unsigned char *data, size_t size)
{
	if (!mech_req_input_initial(req, size))
		return;
	if (size == 0) {
		mech_req_reply_continue(req, login_prompt_user,
					strlen(login_prompt_user));
	} else {
		mech_login_auth_continue(req, data, size);
	}
}

static struct mech_request *mech_login_auth_new(pool_t pool)
{
	struct login_request *lreq = p_new(pool, struct login_request, 1);

	return &lreq->req;
}

const struct mech_module mech_login = {
	.name = "LOGIN",
	.flags = MECH_FLAG_PLAINTEXT,
	.needs_credentials = false,
	.request_new = mech_login_auth_new,
	.auth_initial = mech_login_auth_initial,
	.auth_continue = mech_login_auth_continue,
};

/* mech.c - the SASL mechanism registry and the request state every
 * mechanism shares: which input is expected when, the size bound, the
 * default handling of passdb answers, logging. */
#include "mech-private.h"

#include <errno.h>
#include <strings.h>
#include <sys/random.h>

static const struct mech_module *const mech_modules[] = {
	&mech_plain,
	&mech_login,
	&mech_cram_md5,
	&mech_digest_md5,
	&mech_scram_sha1,
	&mech_scram_sha1_plus,
	&mech_scram_sha256,
	&mech_scram_sha256_plus,
	&mech_external,
	&mech_anonymous,
	NULL
};

const struct mech_module *mech_module_find(const char *name)
{
	for (unsigned int i = 0; mech_modules[i] != NULL; i++) {
		if (strcasecmp(mech_modules[i]->name, name) == 0)
			return mech_modules[i];
	}
	return NULL;
}

const struct mech_module *const *mech_modules_list(void)
{
	return mech_modules;
}

struct mech_request *mech_request_new(const struct mech_module *mech,
				      pool_t pool, const struct mech_ops *ops,
				      const struct mech_settings *set,
				      void *context)
{
	struct mech_request *req = mech->request_new(pool);

	req->mech = mech;
	req->ops = ops;
	req->set = set;
	req->context = context;
	req->pool = pool;
	req->state = MECH_STATE_NEW;
	return req;
}

/* Wipe the secrets once; safe to call again. */
static void mech_req_wipe(struct mech_request *req)
{
	if (req->mech->auth_free != NULL)
		req->mech->auth_free(req);
}

void mech_request_free(struct mech_request **_req)
{
	struct mech_request *req = *_req;

	if (req == NULL)
		return;
	*_req = NULL;
	mech_req_wipe(req);
	req->state = MECH_STATE_DONE;
}

/* ---- input checks ---- */

static bool mech_req_input_size(struct mech_request *req, size_t size)
{
	if (size <= MECH_MAX_INPUT_SIZE)
		return true;
	mech_req_info(req, "Client sent too much data (%zu bytes)", size);
	mech_req_fail(req);
	return false;
}

bool mech_req_input_initial(struct mech_request *req, size_t size)
{
	if (req->state == MECH_STATE_DONE)
		return false;
	if (req->state != MECH_STATE_NEW) {
		mech_req_info(req, "Unexpected initial response");
		mech_req_fail(req);
		return false;
	}
	req->state = MECH_STATE_CLIENT;
	return mech_req_input_size(req, size);
}

bool mech_req_input_continue(struct mech_request *req, size_t size)
{
	switch (req->state) {
	case MECH_STATE_CLIENT:
		return mech_req_input_size(req, size);
	case MECH_STATE_DONE:
		return false;
	case MECH_STATE_NEW:
		mech_req_info(req, "Client data before the initial step");
		break;
	case MECH_STATE_LOOKUP:
		mech_req_info(req, "Client data while waiting for the passdb");
		break;
	}
	mech_req_fail(req);
	return false;
}

void mech_generic_auth_initial(struct mech_request *req,
			       const unsigned char *data, size_t size)
{
	if (!mech_req_input_initial(req, size))
		return;
	if (data == NULL)
		mech_req_reply_continue(req, "", 0);
	else
		req->mech->auth_continue(req, data, size);
}

/* ---- calls to the caller ---- */

bool mech_req_set_username(struct mech_request *req, const char *username,
			   const char *authzid, bool strip_login_prefix)
{
	const char *error = NULL, *suffix;

	if (authzid != NULL &&
	    (authzid[0] == '\0' || strcmp(authzid, username) == 0))
		authzid = NULL;
	req->username = p_strdup(req->pool, username);
	if (req->ops->set_username(req, username, authzid, &error))
		return true;
	if (error == NULL)
		error = "Invalid username";
	if (str_begins(error, "login user: ", &suffix)) {
		/* the authcid was fine: log lines keep it */
		if (strip_login_prefix)
			error = suffix;
	} else {
		req->username = NULL;
	}
	mech_req_info(req, "%s", error);
	return false;
}

void mech_req_reply_continue(struct mech_request *req, const void *data,
			     size_t size)
{
	i_assert(req->state != MECH_STATE_DONE);
	req->state = MECH_STATE_CLIENT;
	req->ops->reply_continue(req, data, size);
}

void mech_req_verify_plain(struct mech_request *req, const char *password)
{
	i_assert(req->state != MECH_STATE_DONE);
	req->state = MECH_STATE_LOOKUP;
	req->ops->verify_plain(req, password);
}

void mech_req_lookup_credentials(struct mech_request *req,
				 const char *scheme)
{
	i_assert(req->state != MECH_STATE_DONE);
	req->state = MECH_STATE_LOOKUP;
	req->ops->lookup_credentials(req, scheme);
}

void mech_req_success(struct mech_request *req, const void *data,
		      size_t size)
{
	i_assert(req->state != MECH_STATE_DONE);
	req->state = MECH_STATE_DONE;
	mech_req_wipe(req);
	req->ops->success(req, data, size);
}

static void mech_req_fail_reason(struct mech_request *req,
				 const char *reason)
{
	i_assert(req->state != MECH_STATE_DONE);
	req->state = MECH_STATE_DONE;
	mech_req_wipe(req);
	req->ops->fail(req, reason);
}

void mech_req_fail(struct mech_request *req)
{
	mech_req_fail_reason(req, NULL);
}

void mech_req_internal_failure(struct mech_request *req)
{
	mech_req_fail_reason(req, MECH_FAIL_CODE_TEMP);
}

/* ---- passdb answers ---- */

/* True if an answer is expected now; a late one (the request already
 * failed) is dropped, one out of the blue is the caller's bug. */
static bool mech_req_answer_expected(struct mech_request *req)
{
	if (req->state == MECH_STATE_DONE)
		return false;
	if (req->state != MECH_STATE_LOOKUP)
		i_panic("%s: passdb answer without a lookup", req->mech->name);
	/* the answer may start the next step; no lookup is pending now */
	req->state = MECH_STATE_CLIENT;
	return true;
}

static void mech_default_result(struct mech_request *req,
				enum passdb_result result)
{
	if (result == PASSDB_RESULT_OK)
		mech_req_success(req, "", 0);
	else if (result == PASSDB_RESULT_INTERNAL_FAILURE)
		mech_req_internal_failure(req);
	else
		mech_req_fail(req);
}

void mech_verify_plain_result(struct mech_request *req,
			      enum passdb_result result)
{
	if (!mech_req_answer_expected(req))
		return;
	if (req->mech->verify_plain_callback != NULL)
		req->mech->verify_plain_callback(req, result);
	else
		mech_default_result(req, result);
}

void mech_credentials_result(struct mech_request *req,
			     enum passdb_result result,
			     const unsigned char *cred, size_t size)
{
	if (!mech_req_answer_expected(req))
		return;
	if (result == PASSDB_RESULT_OK && cred == NULL && size > 0)
		i_panic("%s: credentials of %zu bytes at NULL",
			req->mech->name, size);
	if (req->mech->credentials_callback != NULL)
		req->mech->credentials_callback(req, result, cred, size);
	else
		mech_default_result(req, result);
}

/* ---- logging and small helpers ---- */

void mech_req_log(struct mech_request *req, enum log_type type,
		  const char *user, const char *fmt, ...)
{
	char *msg, *name;
	va_list args;

	if (user == NULL)
		user = req->username;
	va_start(args, fmt);
	msg = i_strdup_vprintf(fmt, args);
	va_end(args);
	if (req->ops->log != NULL) {
		req->ops->log(req, type, user, msg);
	} else if (type != LOG_TYPE_INFO || req->set->verbose) {
		name = i_strdup(req->mech->name);
		for (char *p = name; *p != '\0'; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
		i_log(type, "%s(%s): %s", name,
		      user == NULL ? "?" : mech_sanitize(req->pool, user, 64),
		      msg);
		free(name);
	}
	free(msg);
}

void mech_random_fill(void *buf, size_t size)
{
	unsigned char *p = buf;

	while (size > 0) {
		ssize_t ret = getrandom(p, size, 0);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			i_fatal("getrandom() failed: %s", strerror(errno));
		}
		p += ret;
		size -= (size_t)ret;
	}
}

char *mech_strndup_nonul(pool_t pool, const unsigned char *data,
			 size_t size)
{
	if (size == 0)
		return p_strdup(pool, ""); /* data may be NULL */
	if (memchr(data, '\0', size) != NULL)
		return NULL;
	return p_strndup(pool, data, size);
}

const char *mech_sanitize(pool_t pool, const char *text, size_t max)
{
	size_t len = strlen(text), keep = MIN(len, max);
	char *out = p_malloc(pool, size_add(keep, 4));

	for (size_t i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)text[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (keep < len)
		memcpy(out + keep, "...", 4);
	return out;
}

/* @UNSAFE: out has 2 * size + 1 bytes (callers' arrays) */
void mech_hex(const unsigned char *data, size_t size, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < size; i++) {
		out[i * 2] = digits[data[i] >> 4];
		out[i * 2 + 1] = digits[data[i] & 0x0f];
	}
	out[size * 2] = '\0';
}

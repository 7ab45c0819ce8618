/* mech-cram-md5.c - CRAM-MD5 (RFC 2195): the server sends
 * "<random.timestamp@hostname>", the client answers "user SP hex(HMAC-MD5
 * (password, challenge))". The passdb gives Dovecot's 32-byte HMAC-MD5
 * context (mech.h), so the password itself is never needed. */

/* The context is two raw MD5 states: only OpenSSL's low-level MD5 API
 * lets us resume from one. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "mech-private.h"

#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <time.h>
#include <unistd.h>

#define CRAM_MD5_CONTEXT_LEN 32
#define CRAM_MD5_DIGEST_LEN 16

struct cram_request {
	struct mech_request req;
	char *challenge;
	char response[CRAM_MD5_DIGEST_LEN * 2 + 1];
};

static const char *cram_hostname(struct mech_request *req)
{
	char host[256];

	if (req->set->hostname != NULL && req->set->hostname[0] != '\0')
		return req->set->hostname;
	if (gethostname(host, sizeof(host) - 1) < 0)
		return "localhost";
	host[sizeof(host) - 1] = '\0';
	return p_strdup(req->pool, host);
}

static char *cram_challenge(struct mech_request *req)
{
	unsigned char rnd[16];
	char digits[sizeof(rnd) + 1];

	if (req->test_nonce != NULL)
		return p_strdup(req->pool, req->test_nonce);
	mech_random_fill(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		digits[i] = (char)('0' + rnd[i] % 10);
	digits[sizeof(rnd)] = '\0';
	return p_strdup_printf(req->pool, "<%s.%lld@%s>", digits,
			       (long long)time(NULL), cram_hostname(req));
}

/* An MD5 state that has hashed exactly one 64-byte block. */
static void cram_load_state(MD5_CTX *ctx, const unsigned char *p)
{
	MD5_LONG *words[4] = { &ctx->A, &ctx->B, &ctx->C, &ctx->D };

	memset(ctx, 0, sizeof(*ctx));
	for (unsigned int i = 0; i < 4; i++, p += 4) {
		*words[i] = (MD5_LONG)p[0] | (MD5_LONG)p[1] << 8 |
			(MD5_LONG)p[2] << 16 | (MD5_LONG)p[3] << 24;
	}
	ctx->Nl = 64 * 8; /* bits */
}

/* HMAC-MD5 of the challenge from the stored context. */
static void cram_hmac(const unsigned char *context, const char *challenge,
		      unsigned char digest[CRAM_MD5_DIGEST_LEN])
{
	MD5_CTX inner, outer;
	unsigned char inner_digest[CRAM_MD5_DIGEST_LEN];

	cram_load_state(&outer, context);
	cram_load_state(&inner, context + 16);
	MD5_Update(&inner, challenge, strlen(challenge));
	MD5_Final(inner_digest, &inner);
	MD5_Update(&outer, inner_digest, sizeof(inner_digest));
	MD5_Final(digest, &outer);
	OPENSSL_cleanse(&inner, sizeof(inner));
	OPENSSL_cleanse(&outer, sizeof(outer));
	OPENSSL_cleanse(inner_digest, sizeof(inner_digest));
}

static void mech_cram_md5_credentials(struct mech_request *req,
				      enum passdb_result result,
				      const unsigned char *cred, size_t size)
{
	struct cram_request *creq = (struct cram_request *)req;
	unsigned char digest[CRAM_MD5_DIGEST_LEN];
	char hex[CRAM_MD5_DIGEST_LEN * 2 + 1];
	bool match;

	if (result == PASSDB_RESULT_INTERNAL_FAILURE) {
		mech_req_internal_failure(req);
		return;
	}
	if (result != PASSDB_RESULT_OK) {
		mech_req_fail(req);
		return;
	}
	if (size != CRAM_MD5_CONTEXT_LEN) {
		mech_req_error(req, "invalid credentials length");
		mech_req_fail(req);
		return;
	}
	cram_hmac(cred, creq->challenge, digest);
	mech_hex(digest, sizeof(digest), hex);
	match = CRYPTO_memcmp(hex, creq->response, sizeof(hex) - 1) == 0;
	OPENSSL_cleanse(digest, sizeof(digest));
	OPENSSL_cleanse(hex, sizeof(hex));
	if (!match) {
		mech_req_info(req, "Password mismatch");
		mech_req_fail(req);
		return;
	}
	mech_req_success(req, "", 0);
}

/* "<username> SP <digest>": the user name may hold spaces, so the last
 * space separates. */
static const char *cram_parse(struct cram_request *creq,
			      const unsigned char *data, size_t size,
			      const char **username_r)
{
	size_t space = 0;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0')
			return "NULs in response";
		if (data[i] == ' ')
			space = i;
	}
	if (space == 0)
		return "missing digest";
	if (size - space - 1 != CRAM_MD5_DIGEST_LEN * 2)
		return "Invalid digest length";
	*username_r = p_strndup(creq->req.pool, data, space);
	memcpy(creq->response, data + space + 1, CRAM_MD5_DIGEST_LEN * 2);
	return NULL;
}

static void mech_cram_md5_auth_continue(struct mech_request *req,
					const unsigned char *data,
					size_t size)
{
	struct cram_request *creq = (struct cram_request *)req;
	const char *username, *error;

	if (!mech_req_input_continue(req, size))
		return;
	error = cram_parse(creq, data, size, &username);
	if (error != NULL) {
		mech_req_info(req, "%s", error);
		mech_req_fail(req);
		return;
	}
	if (!mech_req_set_username(req, username, NULL, false)) {
		mech_req_fail(req);
		return;
	}
	mech_req_lookup_credentials(req, "CRAM-MD5");
}

/* An initial response is ignored: the challenge must come first. */
static void mech_cram_md5_auth_initial(struct mech_request *req,
				       const unsigned char *data ATTR_UNUSED,
				       size_t size ATTR_UNUSED)
{
	struct cram_request *creq = (struct cram_request *)req;

	if (!mech_req_input_initial(req, 0))
		return;
	creq->challenge = cram_challenge(req);
	mech_req_reply_continue(req, creq->challenge,
				strlen(creq->challenge));
}

static struct mech_request *mech_cram_md5_auth_new(pool_t pool)
{
	struct cram_request *creq = p_new(pool, struct cram_request, 1);

	return &creq->req;
}

const struct mech_module mech_cram_md5 = {
	.name = "CRAM-MD5",
	.flags = MECH_FLAG_DICTIONARY | MECH_FLAG_ACTIVE,
	.needs_credentials = true,
	.request_new = mech_cram_md5_auth_new,
	.auth_initial = mech_cram_md5_auth_initial,
	.auth_continue = mech_cram_md5_auth_continue,
	.credentials_callback = mech_cram_md5_credentials,
};

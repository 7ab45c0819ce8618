/* fuzz_mech.c - libFuzzer harness for the SASL mechanisms: arbitrary
 * client steps against each mechanism, with a fake caller that answers
 * lookups with fixed, valid credentials (those of the RFC examples, so
 * the RFC exchanges in the seeds succeed and the fuzzer starts deep).
 *
 * Input: byte 0 picks the mechanism, byte 1 the caller's behaviour
 * (below), the rest is the client steps separated by 0xff (a byte that
 * never occurs in SASL's UTF-8 text); the first step is the initial
 * response. */
#include "lib.h"
#include "mech.h"

#include <stdlib.h>

#define FUZZ_STEP_SEP 0xff
#define FUZZ_MAX_STEPS 8

enum fuzz_flags {
	FUZZ_NO_INITIAL = 0x01,	 /* auth_initial(NULL) before the steps */
	FUZZ_ASYNC = 0x02,	 /* answer lookups only between steps */
	FUZZ_STEP_EARLY = 0x04,	 /* ... or never before the next step */
	FUZZ_CHANNEL_BINDING = 0x08, /* the connection has tls-unique */
	FUZZ_REFUSE_USER = 0x10,
	FUZZ_BAD_RESULT = 0x20,	 /* lookups fail (result from bit 6) */
	FUZZ_INTERNAL_FAILURE = 0x40,
	FUZZ_BAD_CRED = 0x80,	 /* credentials one byte short */
};

/* RFC 2195 tim/tanstaaftanstaaf as doveadm pw -s CRAM-MD5 stores it */
static const unsigned char cram_cred[32] = {
	0xd0, 0x6d, 0x4e, 0x1b, 0x26, 0xfc, 0xca, 0xa4,
	0xb0, 0xb6, 0x18, 0x01, 0x13, 0x23, 0x40, 0xa3,
	0x54, 0xb2, 0x11, 0x52, 0x71, 0x1f, 0xb6, 0x04,
	0xca, 0x3e, 0x03, 0x5e, 0x70, 0x15, 0x11, 0x6b,
};
/* RFC 2831 chris/elwood.innosoft.com/secret */
static const unsigned char digest_cred[16] = {
	0xeb, 0x5a, 0x75, 0x00, 0x53, 0xe4, 0xd2, 0xc3,
	0x4a, 0xa8, 0x4b, 0xbc, 0x9b, 0x0b, 0x6e, 0xe7,
};
/* RFC 5802 and RFC 7677 user/pencil */
static const char scram_sha1_cred[] = "4096,QSXCR+Q6sek8bf92,"
	"6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=";
static const char scram_sha256_cred[] = "4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

struct fuzz_ctx {
	unsigned int flags;
	struct mech_request *req;
	bool pending_plain, pending_cred, done;
	const void *cred;
	size_t cred_size;
	char *password;
};

static enum passdb_result fuzz_result(struct fuzz_ctx *ctx)
{
	if ((ctx->flags & FUZZ_INTERNAL_FAILURE) != 0)
		return PASSDB_RESULT_INTERNAL_FAILURE;
	if ((ctx->flags & FUZZ_BAD_RESULT) != 0)
		return PASSDB_RESULT_USER_UNKNOWN;
	return PASSDB_RESULT_OK;
}

static void fuzz_answer(struct fuzz_ctx *ctx)
{
	enum passdb_result result = fuzz_result(ctx);

	if (ctx->pending_plain) {
		ctx->pending_plain = false;
		/* "secret", or "" for EXTERNAL */
		if (result == PASSDB_RESULT_OK && ctx->password != NULL &&
		    strcmp(ctx->password, "secret") != 0 &&
		    ctx->password[0] != '\0')
			result = PASSDB_RESULT_PASSWORD_MISMATCH;
		mech_verify_plain_result(ctx->req, result);
	} else if (ctx->pending_cred) {
		size_t size = ctx->cred_size;

		ctx->pending_cred = false;
		if ((ctx->flags & FUZZ_BAD_CRED) != 0 && size > 0)
			size--;
		mech_credentials_result(ctx->req, result,
					result == PASSDB_RESULT_OK ?
					ctx->cred : NULL,
					result == PASSDB_RESULT_OK ? size : 0);
	}
}

static bool fuzz_set_username(struct mech_request *req,
			      const char *username ATTR_UNUSED,
			      const char *authzid ATTR_UNUSED,
			      const char **error_r)
{
	struct fuzz_ctx *ctx = req->context;

	if ((ctx->flags & FUZZ_REFUSE_USER) != 0) {
		*error_r = authzid != NULL ? "login user: refused" : "refused";
		return false;
	}
	return true;
}

static void fuzz_verify_plain(struct mech_request *req, const char *password)
{
	struct fuzz_ctx *ctx = req->context;

	free(ctx->password);
	ctx->password = i_strdup(password);
	ctx->pending_plain = true;
	if ((ctx->flags & FUZZ_ASYNC) == 0)
		fuzz_answer(ctx);
}

static void fuzz_lookup_credentials(struct mech_request *req,
				    const char *scheme)
{
	struct fuzz_ctx *ctx = req->context;

	if (strcmp(scheme, "CRAM-MD5") == 0) {
		ctx->cred = cram_cred;
		ctx->cred_size = sizeof(cram_cred);
	} else if (strcmp(scheme, "DIGEST-MD5") == 0) {
		ctx->cred = digest_cred;
		ctx->cred_size = sizeof(digest_cred);
	} else if (strcmp(scheme, "SCRAM-SHA-1") == 0) {
		ctx->cred = scram_sha1_cred;
		ctx->cred_size = strlen(scram_sha1_cred);
	} else if (strcmp(scheme, "SCRAM-SHA-256") == 0) {
		ctx->cred = scram_sha256_cred;
		ctx->cred_size = strlen(scram_sha256_cred);
	} else {
		abort(); /* a scheme mech.h does not document */
	}
	ctx->pending_cred = true;
	if ((ctx->flags & FUZZ_ASYNC) == 0)
		fuzz_answer(ctx);
}

static void fuzz_reply_continue(struct mech_request *req,
				const unsigned char *data, size_t size)
{
	struct fuzz_ctx *ctx = req->context;

	if (ctx->done || (size > 0 && data == NULL))
		abort();
}

static void fuzz_finish(struct mech_request *req, const unsigned char *data,
			size_t size)
{
	struct fuzz_ctx *ctx = req->context;

	/* exactly one end, with readable data */
	if (ctx->done || (size > 0 && data == NULL))
		abort();
	for (size_t i = 0; i < size; i++)
		(void)*(volatile const unsigned char *)&data[i];
	ctx->done = true;
}

static void fuzz_fail(struct mech_request *req, const char *reason)
{
	fuzz_finish(req, (const unsigned char *)reason,
		    reason == NULL ? 0 : strlen(reason));
}

static const unsigned char *fuzz_channel_binding(struct mech_request *req,
						 const char *type,
						 size_t *size_r)
{
	struct fuzz_ctx *ctx = req->context;

	if ((ctx->flags & FUZZ_CHANNEL_BINDING) == 0 ||
	    strcmp(type, "tls-unique") != 0)
		return NULL;
	*size_r = 12;
	return (const unsigned char *)"tls-unique!!";
}

static void fuzz_log(struct mech_request *req ATTR_UNUSED,
		     enum log_type type ATTR_UNUSED,
		     const char *user, const char *msg)
{
	/* the texts must be whole strings */
	(void)strlen(msg);
	if (user != NULL)
		(void)strlen(user);
}

static const struct mech_ops fuzz_ops = {
	.set_username = fuzz_set_username,
	.verify_plain = fuzz_verify_plain,
	.lookup_credentials = fuzz_lookup_credentials,
	.reply_continue = fuzz_reply_continue,
	.success = fuzz_finish,
	.fail = fuzz_fail,
	.channel_binding = fuzz_channel_binding,
	.log = fuzz_log,
};

static const char *fuzz_nonce(const char *mech)
{
	if (strcmp(mech, "CRAM-MD5") == 0)
		return "<1896.697170952@postoffice.reston.mci.net>";
	if (strcmp(mech, "DIGEST-MD5") == 0)
		return "OA6MG9tEQGm2hh";
	if (strncmp(mech, "SCRAM-SHA-256", 13) == 0)
		return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
	return "3rfcNHYJY1ZVvWVs7j";
}

/* Give one step to the mechanism (a copy: exact size, so ASan sees any
 * read past it). */
static void fuzz_step(struct fuzz_ctx *ctx, const uint8_t *data, size_t size,
		      bool initial)
{
	unsigned char *copy = malloc(size == 0 ? 1 : size);

	memcpy(copy, data, size);
	if (initial)
		ctx->req->mech->auth_initial(ctx->req, copy, size);
	else
		ctx->req->mech->auth_continue(ctx->req, copy, size);
	free(copy);
}

static void quiet(enum log_type type ATTR_UNUSED, const char *line ATTR_UNUSED,
		  void *context ATTR_UNUSED)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mech_module *const *list = mech_modules_list();
	struct mech_settings set = {
		.anonymous_username = "anonymous",
		.realms = "elwood.innosoft.com example.org",
		.ssl_username_from_cert = true,
		.cert_username = "alice",
		.hostname = "fuzz.example.org",
		.verbose = true,
	};
	struct fuzz_ctx ctx = { 0 };
	unsigned int count = 0, steps = 0;
	const uint8_t *p, *end;
	bool initial = true;
	pool_t pool;

	if (size < 2 || size > 64 * 1024)
		return 0;
	log_set_capture(quiet, NULL);
	while (list[count] != NULL)
		count++;
	ctx.flags = data[1];
	pool = pool_create("fuzz mech", 1024);
	ctx.req = mech_request_new(list[data[0] % count], pool, &fuzz_ops,
				   &set, &ctx);
	ctx.req->test_nonce = fuzz_nonce(ctx.req->mech->name);

	if ((ctx.flags & FUZZ_NO_INITIAL) != 0) {
		ctx.req->mech->auth_initial(ctx.req, NULL, 0);
		initial = false;
	}
	p = data + 2;
	end = data + size;
	while (!ctx.done && steps++ < FUZZ_MAX_STEPS) {
		const uint8_t *sep = memchr(p, FUZZ_STEP_SEP, (size_t)(end - p));
		const uint8_t *step_end = sep == NULL ? end : sep;

		fuzz_step(&ctx, p, (size_t)(step_end - p), initial);
		initial = false;
		if ((ctx.flags & FUZZ_STEP_EARLY) == 0)
			fuzz_answer(&ctx);
		if (sep == NULL)
			break;
		p = sep + 1;
	}
	/* a late answer, then the end of the request */
	fuzz_answer(&ctx);
	mech_request_free(&ctx.req);
	pool_destroy(&pool);
	free(ctx.password);
	log_set_capture(NULL, NULL);
	return 0;
}

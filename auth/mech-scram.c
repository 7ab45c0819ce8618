/* mech-scram.c - SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) and
 * their -PLUS variants with TLS channel binding ("tls-unique", RFC 5929;
 * "tls-exporter", RFC 9266). The passdb gives Dovecot's stored form
 * "iter,salt,StoredKey,ServerKey" (mech.h); the final success data is
 * "v=<ServerSignature>". */
#include "mech-private.h"
#include "base64.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SCRAM_SERVER_NONCE_LEN 64
#define SCRAM_MIN_ITERATE_COUNT 4096
#define SCRAM_MAX_ITERATE_COUNT INT_MAX

struct scram_request {
	struct mech_request req;
	const EVP_MD *md;
	size_t digest_len;
	const char *scheme;	/* "SCRAM-SHA-1" for the credentials lookup */
	bool plus;

	/* client-first-message */
	char *gs2_header;	/* "n,,", "p=tls-unique,a=bob," ... */
	unsigned char *cbind;	/* channel binding data (p= only) */
	size_t cbind_size;
	char *cnonce;
	char *client_first_bare;
	/* server-first-message */
	char *server_first;
	char *snonce;
	/* from the credentials, wiped at the end */
	unsigned char stored_key[EVP_MAX_MD_SIZE];
	unsigned char server_key[EVP_MAX_MD_SIZE];
};

/* saslname with "=2C" and "=3D" decoded; NULL if an '=' starts anything
 * else (RFC 5802 5.1: MUST fail) or the name is empty. */
static char *scram_unescape(pool_t pool, const char *in)
{
	size_t len = strlen(in);
	char *out = p_malloc(pool, size_add(len, 1)), *dest = out;

	if (len == 0)
		return NULL;
	for (const char *p = in; *p != '\0'; p++) {
		if (*p != '=') {
			*dest++ = *p;
		} else if (p[1] == '2' && p[2] == 'C') {
			*dest++ = ',';
			p += 2;
		} else if (p[1] == '3' && p[2] == 'D') {
			*dest++ = '=';
			p += 2;
		} else {
			return NULL;
		}
	}
	*dest = '\0';
	return out;
}

/* printable = %x21-2B / %x2D-7E: no comma, no space, no control */
static bool scram_nonce_valid(const char *nonce)
{
	if (nonce[0] == '\0')
		return false;
	for (const char *p = nonce; *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == ',')
			return false;
	}
	return true;
}

/* Cut str at the next ',' (returned, or NULL at the end). */
static char *scram_field(char *str)
{
	char *p = strchr(str, ',');

	if (p != NULL)
		*p++ = '\0';
	return p;
}

static bool scram_server_has_cb(struct mech_request *req)
{
	static const char *const types[] = { "tls-exporter", "tls-unique" };
	size_t size;

	if (req->ops->channel_binding == NULL)
		return false;
	for (unsigned int i = 0; i < N_ELEMENTS(types); i++) {
		if (req->ops->channel_binding(req, types[i], &size) != NULL)
			return true;
	}
	return false;
}

/* gs2-cbind-flag = ("p=" cb-name) / "n" / "y" */
static const char *scram_cbind_flag(struct scram_request *sreq,
				    const char *flag)
{
	struct mech_request *req = &sreq->req;
	const unsigned char *data;
	const char *name;
	size_t size = 0;

	if (strcmp(flag, "n") == 0 || strcmp(flag, "y") == 0) {
		if (sreq->plus)
			return "Channel binding required by the -PLUS mechanism";
		if (flag[0] == 'y' && scram_server_has_cb(req)) {
			return "Client sent 'y' but the server supports "
				"channel binding (downgrade?)";
		}
		return NULL;
	}
	if (!str_begins(flag, "p=", &name))
		return "Invalid GS2 header";
	if (!sreq->plus)
		return "Channel binding not supported";
	if (strcmp(name, "tls-unique") != 0 &&
	    strcmp(name, "tls-exporter") != 0) {
		return p_strdup_printf(req->pool,
				       "Unsupported channel binding type: %s",
				       mech_sanitize(req->pool, name, 32));
	}
	data = req->ops->channel_binding == NULL ? NULL :
		req->ops->channel_binding(req, name, &size);
	if (data == NULL || size == 0) {
		return p_strdup_printf(req->pool, "Channel binding type %s "
				       "not available", name);
	}
	sreq->cbind = p_malloc(req->pool, size);
	memcpy(sreq->cbind, data, size);
	sreq->cbind_size = size;
	return NULL;
}

/* client-first-message = gs2-header client-first-message-bare
   gs2-header = gs2-cbind-flag "," [ authzid ] ","
   client-first-message-bare = [reserved-mext ","] username "," nonce
                               ["," extensions] */
static const char *scram_parse_first(struct scram_request *sreq,
				     const unsigned char *data, size_t size,
				     const char **username_r,
				     const char **authzid_r)
{
	pool_t pool = sreq->req.pool;
	char *copy, *flag, *authzid, *bare, *user, *nonce;
	const char *error, *value;

	if ((copy = mech_strndup_nonul(pool, data, size)) == NULL)
		return "Invalid initial client message: NUL";
	flag = copy;
	if ((authzid = scram_field(flag)) == NULL) {
		return "Invalid initial client message: "
			"Missing first ',' in GS2 header";
	}
	if ((bare = scram_field(authzid)) == NULL) {
		return "Invalid initial client message: "
			"Missing second ',' in GS2 header";
	}
	sreq->gs2_header = p_strdup_printf(pool, "%s,%s,", flag, authzid);
	sreq->client_first_bare = p_strdup(pool, bare);
	user = bare;
	if ((nonce = scram_field(user)) == NULL)
		return "Invalid initial client message: Missing nonce field";
	/* extensions after the nonce are ignored (RFC 5802 section 7) */
	(void)scram_field(nonce);

	if ((error = scram_cbind_flag(sreq, flag)) != NULL)
		return error;
	if (authzid[0] == '\0') {
		*authzid_r = NULL;
	} else if (!str_begins(authzid, "a=", &value)) {
		return "Invalid authzid field";
	} else if ((*authzid_r = scram_unescape(pool, value)) == NULL) {
		return "authzid escaping is invalid";
	}
	if (str_begins(user, "m=", NULL))
		return "Mandatory extension(s) not supported";
	if (!str_begins(user, "n=", &value))
		return "Invalid username field";
	if ((*username_r = scram_unescape(pool, value)) == NULL)
		return "Username escaping is invalid";
	if (!str_begins(nonce, "r=", &value) || !scram_nonce_valid(value))
		return "Invalid client nonce";
	sreq->cnonce = p_strdup(pool, value);
	return NULL;
}

/* Decode base64 text into exactly size bytes; false otherwise. */
static bool scram_decode_exact(const char *b64, unsigned char *out,
			       size_t size)
{
	string_t *buf = str_new(64);
	bool ok = base64_decode(buf, b64, strlen(b64)) == 0 &&
		str_len(buf) == size;

	if (ok)
		memcpy(out, str_c(buf), size);
	explicit_bzero(buf->data, buf->cap);
	str_free(&buf);
	return ok;
}

/* "iter,salt,StoredKey,ServerKey" (Dovecot's scram_scheme_parse). */
static const char *scram_parse_credentials(struct scram_request *sreq,
					   const unsigned char *cred,
					   size_t size, unsigned long *iter_r,
					   const char **salt_r)
{
	pool_t pool = sreq->req.pool;
	char *copy, *fields[4], *next;
	unsigned int count = 0;
	string_t *salt;
	bool salt_ok;

	copy = mech_strndup_nonul(pool, cred, size);
	if (copy == NULL)
		return "Invalid passdb entry format";
	for (next = copy; next != NULL && count < 4; count++) {
		fields[count] = next;
		next = scram_field(next);
	}
	if (count != 4 || next != NULL)
		return "Invalid passdb entry format";
	if (fields[0][0] == '\0' || strlen(fields[0]) > 10 ||
	    strspn(fields[0], "0123456789") != strlen(fields[0]) ||
	    (*iter_r = strtoul(fields[0], NULL, 10)) < SCRAM_MIN_ITERATE_COUNT ||
	    *iter_r > SCRAM_MAX_ITERATE_COUNT)
		return "Invalid iteration count in passdb";
	salt = str_new(32);
	salt_ok = fields[1][0] != '\0' &&
		base64_decode(salt, fields[1], strlen(fields[1])) == 0;
	str_free(&salt);
	if (!salt_ok)
		return "Invalid salt in passdb";
	if (!scram_decode_exact(fields[2], sreq->stored_key, sreq->digest_len))
		return "Invalid StoredKey in passdb";
	if (!scram_decode_exact(fields[3], sreq->server_key, sreq->digest_len))
		return "Invalid ServerKey in passdb";
	*salt_r = fields[1];
	return NULL;
}

static char *scram_server_nonce(struct mech_request *req)
{
	unsigned char rnd[SCRAM_SERVER_NONCE_LEN];
	char *nonce;

	if (req->test_nonce != NULL)
		return p_strdup(req->pool, req->test_nonce);
	/* printable, no ',': '!' .. '~' less the comma, 93 symbols */
	mech_random_fill(rnd, sizeof(rnd));
	nonce = p_malloc(req->pool, sizeof(rnd) + 1);
	for (size_t i = 0; i < sizeof(rnd); i++) {
		char c = (char)('!' + rnd[i] % 93);

		nonce[i] = c >= ',' ? c + 1 : c;
	}
	return nonce;
}

static void mech_scram_credentials(struct mech_request *req,
				   enum passdb_result result,
				   const unsigned char *cred, size_t size)
{
	struct scram_request *sreq = (struct scram_request *)req;
	const char *error, *salt;
	unsigned long iter;

	if (result == PASSDB_RESULT_INTERNAL_FAILURE) {
		mech_req_internal_failure(req);
		return;
	}
	if (result != PASSDB_RESULT_OK) {
		mech_req_fail(req);
		return;
	}
	error = scram_parse_credentials(sreq, cred, size, &iter, &salt);
	if (error != NULL) {
		mech_req_error(req, "%s: %s", sreq->scheme, error);
		mech_req_fail(req);
		return;
	}
	sreq->snonce = scram_server_nonce(req);
	sreq->server_first = p_strdup_printf(req->pool, "r=%s%s,s=%s,i=%lu",
					     sreq->cnonce, sreq->snonce,
					     salt, iter);
	mech_req_reply_continue(req, sreq->server_first,
				strlen(sreq->server_first));
}

/* HMAC(key, client-first-bare "," server-first "," final-without-proof) */
static void scram_hmac(struct scram_request *sreq, const unsigned char *key,
		       const char *without_proof, unsigned char *out)
{
	char *msg = p_strdup_printf(sreq->req.pool, "%s,%s,%s",
				    sreq->client_first_bare,
				    sreq->server_first, without_proof);
	unsigned int len = 0;

	if (HMAC(sreq->md, key, (int)sreq->digest_len,
		 (const unsigned char *)msg, strlen(msg), out, &len) == NULL ||
	    len != sreq->digest_len)
		i_fatal("OpenSSL: HMAC failed");
}

/* ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the proof
 * is right if H(ClientKey) = StoredKey. */
static bool scram_verify(struct scram_request *sreq, const char *without_proof,
			 const unsigned char *proof)
{
	unsigned char sig[EVP_MAX_MD_SIZE], key[EVP_MAX_MD_SIZE];
	unsigned char stored[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	bool match;

	scram_hmac(sreq, sreq->stored_key, without_proof, sig);
	for (size_t i = 0; i < sreq->digest_len; i++)
		key[i] = proof[i] ^ sig[i];
	if (EVP_Digest(key, sreq->digest_len, stored, &len, sreq->md,
		       NULL) != 1 || len != sreq->digest_len)
		i_fatal("OpenSSL: digest failed");
	match = CRYPTO_memcmp(stored, sreq->stored_key, sreq->digest_len) == 0;
	OPENSSL_cleanse(sig, sizeof(sig));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(stored, sizeof(stored));
	return match;
}

/* c= must be base64 of the gs2 header (+ the channel binding data). */
static bool scram_cbind_valid(struct scram_request *sreq, const char *b64)
{
	size_t hlen = strlen(sreq->gs2_header);
	string_t *buf = str_new(128);
	bool ok;

	ok = base64_decode(buf, b64, strlen(b64)) == 0 &&
		str_len(buf) == hlen + sreq->cbind_size &&
		memcmp(str_c(buf), sreq->gs2_header, hlen) == 0 &&
		(sreq->cbind_size == 0 ||
		 CRYPTO_memcmp(str_c(buf) + hlen, sreq->cbind,
			       sreq->cbind_size) == 0);
	str_free(&buf);
	return ok;
}

/* client-final-message = channel-binding "," nonce ["," extensions]
                          "," proof */
static const char *scram_parse_final(struct scram_request *sreq,
				     const unsigned char *data, size_t size,
				     const char **without_proof_r,
				     unsigned char *proof)
{
	pool_t pool = sreq->req.pool;
	char *copy, *last, *cbind, *nonce;
	const char *value;

	if ((copy = mech_strndup_nonul(pool, data, size)) == NULL)
		return "Invalid final client message: NUL";
	if ((last = strrchr(copy, ',')) == NULL)
		return "Invalid final client message";
	*last++ = '\0';
	if (!str_begins(last, "p=", &value))
		return "Invalid ClientProof";
	if (!scram_decode_exact(value, proof, sreq->digest_len))
		return "Invalid ClientProof";
	*without_proof_r = p_strdup(pool, copy);
	cbind = copy;
	if ((nonce = scram_field(cbind)) == NULL)
		return "Invalid final client message";
	(void)scram_field(nonce);
	if (!str_begins(cbind, "c=", &value) ||
	    !scram_cbind_valid(sreq, value))
		return "Invalid channel binding data";
	if (!str_begins(nonce, "r=", &value) ||
	    !str_begins(value, sreq->cnonce, &value) ||
	    strcmp(value, sreq->snonce) != 0)
		return "Wrong nonce";
	return NULL;
}

static void scram_final(struct scram_request *sreq,
			const unsigned char *data, size_t size)
{
	struct mech_request *req = &sreq->req;
	unsigned char proof[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
	const char *error, *without_proof;
	string_t *str;
	bool ok;

	error = scram_parse_final(sreq, data, size, &without_proof, proof);
	if (error != NULL) {
		mech_req_info(req, "%s", error);
		mech_req_fail(req);
		return;
	}
	ok = scram_verify(sreq, without_proof, proof);
	OPENSSL_cleanse(proof, sizeof(proof));
	if (!ok) {
		mech_req_info(req, "Password mismatch");
		mech_req_fail(req);
		return;
	}
	/* server-final-message = "v=" base64(ServerSignature) */
	scram_hmac(sreq, sreq->server_key, without_proof, sig);
	str = str_new(64);
	str_append(str, "v=");
	base64_encode(str, sig, sreq->digest_len);
	OPENSSL_cleanse(sig, sizeof(sig));
	/* from the pool: str is freed before the call that ends the request */
	error = p_strdup(req->pool, str_c(str));
	str_free(&str);
	mech_req_success(req, error, strlen(error));
}

static void mech_scram_auth_continue(struct mech_request *req,
				     const unsigned char *data, size_t size)
{
	struct scram_request *sreq = (struct scram_request *)req;
	const char *error, *username = NULL, *authzid = NULL;

	if (!mech_req_input_continue(req, size))
		return;
	if (sreq->server_first != NULL) {
		scram_final(sreq, data, size);
		return;
	}
	error = scram_parse_first(sreq, data, size, &username, &authzid);
	if (error != NULL) {
		mech_req_info(req, "%s", error);
		mech_req_fail(req);
		return;
	}
	if (!mech_req_set_username(req, username, authzid, true)) {
		mech_req_fail(req);
		return;
	}
	mech_req_lookup_credentials(req, sreq->scheme);
}

static void mech_scram_auth_free(struct mech_request *req)
{
	struct scram_request *sreq = (struct scram_request *)req;

	OPENSSL_cleanse(sreq->stored_key, sizeof(sreq->stored_key));
	OPENSSL_cleanse(sreq->server_key, sizeof(sreq->server_key));
}

static struct mech_request *
scram_auth_new(pool_t pool, const EVP_MD *md, const char *scheme, bool plus)
{
	struct scram_request *sreq = p_new(pool, struct scram_request, 1);

	sreq->md = md;
	sreq->digest_len = (size_t)EVP_MD_get_size(md);
	sreq->scheme = scheme;
	sreq->plus = plus;
	return &sreq->req;
}

static struct mech_request *scram_sha1_new(pool_t pool)
{
	return scram_auth_new(pool, EVP_sha1(), "SCRAM-SHA-1", false);
}

static struct mech_request *scram_sha1_plus_new(pool_t pool)
{
	return scram_auth_new(pool, EVP_sha1(), "SCRAM-SHA-1", true);
}

static struct mech_request *scram_sha256_new(pool_t pool)
{
	return scram_auth_new(pool, EVP_sha256(), "SCRAM-SHA-256", false);
}

static struct mech_request *scram_sha256_plus_new(pool_t pool)
{
	return scram_auth_new(pool, EVP_sha256(), "SCRAM-SHA-256", true);
}

#define SCRAM_MODULE(_name, _new, _flags) { \
	.name = _name, \
	.flags = MECH_FLAG_MUTUAL_AUTH | (_flags), \
	.needs_credentials = true, \
	.request_new = _new, \
	.auth_initial = mech_generic_auth_initial, \
	.auth_continue = mech_scram_auth_continue, \
	.credentials_callback = mech_scram_credentials, \
	.auth_free = mech_scram_auth_free, \
}

const struct mech_module mech_scram_sha1 =
	SCRAM_MODULE("SCRAM-SHA-1", scram_sha1_new, 0);
const struct mech_module mech_scram_sha1_plus =
	SCRAM_MODULE("SCRAM-SHA-1-PLUS", scram_sha1_plus_new,
		     MECH_FLAG_CHANNEL_BINDING);
const struct mech_module mech_scram_sha256 =
	SCRAM_MODULE("SCRAM-SHA-256", scram_sha256_new, 0);
const struct mech_module mech_scram_sha256_plus =
	SCRAM_MODULE("SCRAM-SHA-256-PLUS", scram_sha256_plus_new,
		     MECH_FLAG_CHANNEL_BINDING);

/* mech-digest-md5.c - DIGEST-MD5 (RFC 2831), authentication only
 * (qop=auth, no integrity or privacy layer, no subsequent
 * authentication), as Dovecot 2.3 offers it. The passdb gives
 * MD5(user:realm:password) (mech.h); the final success data is
 * "rspauth=<hex>". */
#include "mech-private.h"
#include "base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

#define DIGEST_MD5_CRED_LEN 16
#define DIGEST_RESPONSE_LEN 32
#define IS_LWS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

struct digest_request {
	struct mech_request req;

	/* sent */
	char *nonce;
	/* received */
	char *username, *realm, *cnonce, *nonce_count, *qop_value;
	char *digest_uri, *authzid;
	char response[DIGEST_RESPONSE_LEN + 1];
	unsigned long maxbuf;
	bool nonce_found, have_charset;
};

/* realm="a",realm="b",nonce="...",qop="auth",charset="utf-8",
   algorithm="md5-sess" - Dovecot's order. No realms: realm="". */
static string_t *digest_challenge(struct digest_request *dreq)
{
	struct mech_request *req = &dreq->req;
	const char *realms = req->set->realms == NULL ? "" : req->set->realms;
	string_t *str = str_new(256);
	bool any_realm = false;
	unsigned char rnd[16];

	while (*realms != '\0') {
		size_t len = strcspn(realms, " ,");

		if (len > 0) {
			str_append(str, "realm=\"");
			for (size_t i = 0; i < len; i++) {
				if (realms[i] == '"' || realms[i] == '\\')
					str_append_c(str, '\\');
				str_append_c(str, realms[i]);
			}
			str_append(str, "\",");
			any_realm = true;
		}
		realms += len;
		if (*realms != '\0')
			realms++;
	}
	if (!any_realm)
		str_append(str, "realm=\"\",");

	if (req->test_nonce != NULL) {
		dreq->nonce = p_strdup(req->pool, req->test_nonce);
	} else {
		string_t *nonce = str_new(32);

		mech_random_fill(rnd, sizeof(rnd));
		base64_encode(nonce, rnd, sizeof(rnd));
		dreq->nonce = p_strdup(req->pool, str_c(nonce));
		str_free(&nonce);
	}
	str_printfa(str, "nonce=\"%s\",qop=\"auth\",charset=\"utf-8\","
		    "algorithm=\"md5-sess\"", dreq->nonce);
	return str;
}

/* ---- parsing the client's digest-response ---- */

/* One key=value pair at *pos (a NUL-terminated copy): the value is
 * unquoted in place. Returns 1 with a pair, 0 at the end, -1 on bad
 * syntax. Empty list elements (",,") are skipped.
 * @UNSAFE: writes behind the read pointer, never past the NUL. */
static int digest_next(char **pos, char **key_r, char **value_r)
{
	char *p = *pos, *dest;

	while (IS_LWS(*p) || *p == ',')
		p++;
	if (*p == '\0')
		return 0;
	*key_r = p;
	while (*p != '\0' && *p != '=' && *p != ',' && !IS_LWS(*p))
		p++;
	dest = p;
	while (IS_LWS(*p))
		p++;
	if (*p != '=' || dest == *key_r)
		return -1;
	*dest = '\0';
	p++;
	while (IS_LWS(*p))
		p++;
	if (*p == '"') {
		*value_r = dest = ++p;
		while (*p != '"') {
			if (*p == '\0')
				return -1; /* unterminated */
			if (*p == '\\' && p[1] != '\0')
				p++;
			*dest++ = *p++;
		}
		p++;
		*dest = '\0';
	} else {
		*value_r = p;
		while (*p != '\0' && *p != ',')
			p++;
		dest = p;
		while (dest > *value_r && IS_LWS(dest[-1]))
			dest--;
		if (*p == ',')
			p++;
		*dest = '\0';
		*pos = p;
		return 1;
	}
	while (IS_LWS(*p))
		p++;
	if (*p != ',' && *p != '\0')
		return -1; /* junk after the quoted string */
	*pos = p;
	return 1;
}

/* Store value in *field unless it is there already. */
static const char *digest_once(struct digest_request *dreq, char **field,
			       const char *key, const char *value)
{
	if (*field != NULL)
		return p_strdup_printf(dreq->req.pool,
				       "%s must not exist more than once", key);
	*field = p_strdup(dreq->req.pool, value);
	return NULL;
}

static const char *digest_nc(struct digest_request *dreq, const char *value)
{
	unsigned long nc = 0;

	if (dreq->nonce_count != NULL)
		return "nonce-count must not exist more than once";
	if (value[0] == '\0' || strlen(value) > 8 ||
	    strspn(value, "0123456789") != strlen(value))
		return "nonce-count value invalid";
	nc = strtoul(value, NULL, 10);
	if (nc != 1)
		return "re-auth not supported currently";
	dreq->nonce_count = p_strdup(dreq->req.pool, value);
	return NULL;
}

static const char *digest_qop(struct digest_request *dreq, const char *value)
{
	if (dreq->qop_value != NULL)
		return "qop must not exist more than once";
	if (strcasecmp(value, "auth-int") == 0 ||
	    strcasecmp(value, "auth-conf") == 0)
		return "Nonallowed QoP requested";
	if (strcasecmp(value, "auth") != 0) {
		return p_strdup_printf(dreq->req.pool, "Unknown QoP value: %s",
				       mech_sanitize(dreq->req.pool, value, 32));
	}
	dreq->qop_value = p_strdup(dreq->req.pool, value);
	return NULL;
}

static const char *digest_maxbuf(struct digest_request *dreq,
				 const char *value)
{
	if (dreq->maxbuf != 0)
		return "maxbuf must not exist more than once";
	if (value[0] == '\0' || strlen(value) > 9 ||
	    strspn(value, "0123456789") != strlen(value) ||
	    (dreq->maxbuf = strtoul(value, NULL, 10)) == 0)
		return "Invalid maxbuf value";
	return NULL;
}

/* Handle one key=value; returns an error text or NULL. */
static const char *digest_pair(struct digest_request *dreq, const char *key,
			       const char *value)
{
	if (strcasecmp(key, "realm") == 0) {
		/* the first non-empty one counts, as in Dovecot */
		if (dreq->realm == NULL && value[0] != '\0')
			dreq->realm = p_strdup(dreq->req.pool, value);
		return NULL;
	}
	if (strcasecmp(key, "username") == 0) {
		if (value[0] == '\0' && dreq->username == NULL)
			return "empty username";
		return digest_once(dreq, &dreq->username, key, value);
	}
	if (strcasecmp(key, "nonce") == 0) {
		if (strcmp(value, dreq->nonce) != 0)
			return "Invalid nonce";
		dreq->nonce_found = true;
		return NULL;
	}
	if (strcasecmp(key, "cnonce") == 0) {
		if (value[0] == '\0' && dreq->cnonce == NULL)
			return "cnonce can't contain empty value";
		return digest_once(dreq, &dreq->cnonce, key, value);
	}
	if (strcasecmp(key, "nc") == 0)
		return digest_nc(dreq, value);
	if (strcasecmp(key, "qop") == 0)
		return digest_qop(dreq, value);
	if (strcasecmp(key, "digest-uri") == 0) {
		/* serv-type "/" host [ "/" serv-name ] */
		if (strchr(value, '/') == NULL)
			return "Invalid digest-uri";
		return digest_once(dreq, &dreq->digest_uri, key, value);
	}
	if (strcasecmp(key, "maxbuf") == 0)
		return digest_maxbuf(dreq, value);
	if (strcasecmp(key, "charset") == 0) {
		if (strcasecmp(value, "utf-8") != 0)
			return "Only utf-8 charset is allowed";
		dreq->have_charset = true;
		return NULL;
	}
	if (strcasecmp(key, "response") == 0) {
		if (dreq->response[0] != '\0')
			return "response must not exist more than once";
		if (strlen(value) != DIGEST_RESPONSE_LEN)
			return "Invalid response value";
		memcpy(dreq->response, value, DIGEST_RESPONSE_LEN + 1);
		return NULL;
	}
	if (strcasecmp(key, "authzid") == 0) {
		if (value[0] == '\0' && dreq->authzid == NULL)
			return "empty authzid";
		return digest_once(dreq, &dreq->authzid, key, value);
	}
	/* cipher and unknown keys are ignored */
	return NULL;
}

static const char *digest_parse(struct digest_request *dreq,
				const unsigned char *data, size_t size)
{
	char *copy, *pos, *key, *value;
	const char *error;
	int ret;

	if (size == 0)
		return "Client sent no input";
	copy = mech_strndup_nonul(dreq->req.pool, data, size);
	if (copy == NULL)
		return "NULs in response";
	pos = copy;
	while ((ret = digest_next(&pos, &key, &value)) > 0) {
		if ((error = digest_pair(dreq, key, value)) != NULL)
			return error;
	}
	if (ret < 0)
		return "Invalid digest-response syntax";
	if (!dreq->nonce_found)
		return "Missing nonce parameter";
	if (dreq->cnonce == NULL)
		return "Missing cnonce parameter";
	if (dreq->username == NULL)
		return "Missing username parameter";
	if (dreq->response[0] == '\0')
		return "Missing response parameter";
	if (dreq->nonce_count == NULL)
		dreq->nonce_count = p_strdup(dreq->req.pool, "00000001");
	if (dreq->qop_value == NULL)
		dreq->qop_value = p_strdup(dreq->req.pool, "auth");
	return NULL;
}

/* ---- verifying ---- */

/* MD5 of the NULL-terminated list of strings, the first one size0
 * bytes of binary (or a string if size0 is 0), as lower-case hex. */
static void digest_md5_hex(char hex[DIGEST_RESPONSE_LEN + 1],
			   const void *first, size_t size0, ...)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	const char *part;
	va_list args;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		i_fatal("OpenSSL: MD5 not available");
	(void)EVP_DigestUpdate(ctx, first, size0 != 0 ? size0 :
			       strlen(first));
	va_start(args, size0);
	while ((part = va_arg(args, const char *)) != NULL)
		(void)EVP_DigestUpdate(ctx, part, strlen(part));
	va_end(args);
	if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 16)
		i_fatal("OpenSSL: MD5 failed");
	EVP_MD_CTX_free(ctx);
	mech_hex(md, 16, hex);
	OPENSSL_cleanse(md, sizeof(md));
}

/* response = HEX(MD5(HEX(MD5(A1)) ":" nonce ":" nc ":" cnonce ":" qop ":"
   HEX(MD5(A2)))), A1 = MD5(user:realm:pass) ":" nonce ":" cnonce
   [":" authzid], A2 = "AUTHENTICATE:" digest-uri (":" digest-uri for
   rspauth). Returns false on mismatch; fills rspauth on a match. */
static bool digest_verify(struct digest_request *dreq,
			  const unsigned char *cred,
			  char rspauth[DIGEST_RESPONSE_LEN + 1])
{
	const char *uri = dreq->digest_uri == NULL ? "" : dreq->digest_uri;
	char a1[DIGEST_RESPONSE_LEN + 1], a2[DIGEST_RESPONSE_LEN + 1];
	char resp[DIGEST_RESPONSE_LEN + 1];
	bool match;

	if (dreq->authzid != NULL) {
		digest_md5_hex(a1, cred, DIGEST_MD5_CRED_LEN, ":", dreq->nonce,
			       ":", dreq->cnonce, ":", dreq->authzid,
			       (const char *)NULL);
	} else {
		digest_md5_hex(a1, cred, DIGEST_MD5_CRED_LEN, ":", dreq->nonce,
			       ":", dreq->cnonce, (const char *)NULL);
	}
	digest_md5_hex(a2, "AUTHENTICATE:", 0, uri, (const char *)NULL);
	digest_md5_hex(resp, a1, 0, ":", dreq->nonce, ":", dreq->nonce_count,
		       ":", dreq->cnonce, ":", dreq->qop_value, ":", a2,
		       (const char *)NULL);
	match = CRYPTO_memcmp(resp, dreq->response, DIGEST_RESPONSE_LEN) == 0;
	if (match) {
		digest_md5_hex(a2, ":", 0, uri, (const char *)NULL);
		digest_md5_hex(rspauth, a1, 0, ":", dreq->nonce, ":",
			       dreq->nonce_count, ":", dreq->cnonce, ":",
			       dreq->qop_value, ":", a2, (const char *)NULL);
	}
	OPENSSL_cleanse(a1, sizeof(a1));
	OPENSSL_cleanse(resp, sizeof(resp));
	return match;
}

static void mech_digest_md5_credentials(struct mech_request *req,
					enum passdb_result result,
					const unsigned char *cred, size_t size)
{
	struct digest_request *dreq = (struct digest_request *)req;
	char rspauth[DIGEST_RESPONSE_LEN + 1];
	char final[sizeof("rspauth=") + DIGEST_RESPONSE_LEN];

	if (result == PASSDB_RESULT_INTERNAL_FAILURE) {
		mech_req_internal_failure(req);
		return;
	}
	if (result != PASSDB_RESULT_OK) {
		mech_req_fail(req);
		return;
	}
	if (size != DIGEST_MD5_CRED_LEN) {
		mech_req_error(req, "invalid credentials length");
		mech_req_fail(req);
		return;
	}
	if (!digest_verify(dreq, cred, rspauth)) {
		mech_req_info(req, "Password mismatch");
		mech_req_fail(req);
		return;
	}
	memcpy(final, "rspauth=", 8);
	memcpy(final + 8, rspauth, DIGEST_RESPONSE_LEN + 1);
	mech_req_success(req, final, strlen(final));
}

static void mech_digest_md5_auth_continue(struct mech_request *req,
					  const unsigned char *data,
					  size_t size)
{
	struct digest_request *dreq = (struct digest_request *)req;
	const char *error, *username;

	if (!mech_req_input_continue(req, size))
		return;
	if ((error = digest_parse(dreq, data, size)) != NULL) {
		mech_req_info(req, "%s", error);
		mech_req_fail(req);
		return;
	}
	username = dreq->username;
	if (dreq->realm != NULL && strchr(username, '@') == NULL) {
		username = p_strdup_printf(req->pool, "%s@%s", username,
					   dreq->realm);
	}
	if (!mech_req_set_username(req, username, dreq->authzid, true)) {
		mech_req_fail(req);
		return;
	}
	mech_req_lookup_credentials(req, "DIGEST-MD5");
}

/* An initial response is ignored: there is no subsequent
 * authentication, the challenge comes first. */
static void mech_digest_md5_auth_initial(struct mech_request *req,
					 const unsigned char *data ATTR_UNUSED,
					 size_t size ATTR_UNUSED)
{
	struct digest_request *dreq = (struct digest_request *)req;
	string_t *challenge;

	if (!mech_req_input_initial(req, 0))
		return;
	challenge = digest_challenge(dreq);
	mech_req_reply_continue(req, str_c(challenge), str_len(challenge));
	str_free(&challenge);
}

static struct mech_request *mech_digest_md5_auth_new(pool_t pool)
{
	struct digest_request *dreq = p_new(pool, struct digest_request, 1);

	return &dreq->req;
}

const struct mech_module mech_digest_md5 = {
	.name = "DIGEST-MD5",
	.flags = MECH_FLAG_DICTIONARY | MECH_FLAG_ACTIVE |
		MECH_FLAG_MUTUAL_AUTH,
	.needs_credentials = true,
	.request_new = mech_digest_md5_auth_new,
	.auth_initial = mech_digest_md5_auth_initial,
	.auth_continue = mech_digest_md5_auth_continue,
	.credentials_callback = mech_digest_md5_credentials,
};

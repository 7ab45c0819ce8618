/* password-scheme.c - the scheme table, "{SCHEME.enc}data" parsing and
 * encoding, verify/generate/credentials, and the plain and digest schemes
 * (PLAIN*, MD5/SHA* and their salted forms, CRAM-MD5, DIGEST-MD5). The
 * crypt(3), KDF and OTP schemes live in password-scheme-*.c. */
#include "lib.h"
#include "str.h"
#include "base64.h"
#include "password-scheme-private.h"
#include "hex.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SALTED_SALT_LEN 4
#define MD5_LEN 16
#define SHA1_LEN 20
#define SHA256_LEN 32
#define SHA512_LEN 64

bool password_cost_limited = false;

/* ---- helpers shared by the scheme files ---- */

static const char salt_chars[] =
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void password_random_fill(void *buf, size_t size)
{
	if (size > 0 && RAND_bytes(buf, (int)size) != 1)
		i_fatal("RAND_bytes(%zu) failed", size);
}

void password_salt_append(string_t *out, size_t len)
{
	unsigned char rnd[64];

	i_assert(len <= sizeof(rnd));
	password_random_fill(rnd, len);
	/* 64 characters: the low 6 bits of a byte pick one without bias */
	for (size_t i = 0; i < len; i++)
		str_append_c(out, salt_chars[rnd[i] & 63]);
	explicit_bzero(rnd, sizeof(rnd));
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool b64_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int password_base64_decode(string_t *dest, const char *src, size_t len)
{
	unsigned int group[4], n = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		int v;

		if (b64_is_space(src[i]))
			continue;
		if (src[i] == '=') {
			/* "xx==" or "xxx=" ends the data */
			if (!((pad == 0 && n >= 2) || (pad == 1 && n == 2)))
				return -1;
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_value((unsigned char)src[i])) < 0)
			return -1;
		group[n++] = (unsigned int)v;
		if (n < 4)
			continue;
		str_append_c(dest, (char)(group[0] << 2 | group[1] >> 4));
		str_append_c(dest, (char)((group[1] & 15) << 4 | group[2] >> 2));
		str_append_c(dest, (char)((group[2] & 3) << 6 | group[3]));
		n = 0;
	}
	if (pad == 0)
		return n == 0 ? 0 : -1;
	if (n + pad != 4)
		return -1;
	str_append_c(dest, (char)(group[0] << 2 | group[1] >> 4));
	if (n == 3)
		str_append_c(dest, (char)((group[1] & 15) << 4 | group[2] >> 2));
	return 0;
}

int password_hex_decode(string_t *dest, const char *src, size_t len)
{
	if (len % 2 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit_value(src[i]), lo = hex_digit_value(src[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		str_append_c(dest, (char)(hi << 4 | lo));
	}
	return 0;
}

void password_hex_append(string_t *dest, const unsigned char *data,
			 size_t size, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	str_reserve(dest, size_mul(size, 2));
	for (size_t i = 0; i < size; i++) {
		str_append_c(dest, digits[data[i] >> 4]);
		str_append_c(dest, digits[data[i] & 15]);
	}
}

bool password_str_to_uint(const char *s, size_t len, unsigned int *num_r)
{
	unsigned long long n = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (unsigned int)(s[i] - '0');
		if (n > UINT_MAX)
			return false;
	}
	*num_r = (unsigned int)n;
	return true;
}

bool password_mem_equals(const void *a, size_t alen, const void *b,
			 size_t blen)
{
	return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

const char *password_error(const char *fmt, ...)
{
	/* a message may quote the previous one: rotate the buffers */
	static _Thread_local char bufs[4][512];
	static _Thread_local unsigned int next;
	char *buf = bufs[next++ % N_ELEMENTS(bufs)];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(bufs[0]), fmt, args);
	va_end(args);
	return buf;
}

void password_str_free_secret(string_t **str)
{
	if (*str == NULL)
		return;
	explicit_bzero((*str)->data, (*str)->cap);
	str_free(str);
}

void password_digest(const char *md, const void *data, size_t size,
		     unsigned char *digest, unsigned int *len_r)
{
	const EVP_MD *type = EVP_get_digestbyname(md);

	if (type == NULL || EVP_Digest(data, size, digest, len_r, type,
				       NULL) != 1)
		i_fatal("OpenSSL digest %s failed", md);
}

void password_schemes_limit_cost(bool limit)
{
	password_cost_limited = limit;
}

/* ---- PLAIN, CLEAR, CLEARTEXT, PLAIN-TRUNC ---- */

static int plain_generate(const char *plaintext,
			  const struct password_params *p ATTR_UNUSED,
			  string_t *out, const char **error_r ATTR_UNUSED)
{
	str_append(out, plaintext);
	return 0;
}

static int plain_verify(const char *plaintext,
			const struct password_params *p ATTR_UNUSED,
			const unsigned char *raw, size_t size,
			const char **error_r ATTR_UNUSED)
{
	return password_mem_equals(plaintext, strlen(plaintext), raw, size) ?
		1 : 0;
}

/* "<length>-<password>": a password stored cut to length matches any
 * plaintext that starts with it. */
static int plain_trunc_verify(const char *plaintext,
			      const struct password_params *p ATTR_UNUSED,
			      const unsigned char *raw, size_t size,
			      const char **error_r)
{
	size_t i, trunc_len = 0, plain_len = strlen(plaintext);

	for (i = 0; i < size && raw[i] >= '0' && raw[i] <= '9'; i++) {
		if (trunc_len > SIZE_MAX / 10 - 10)
			break;
		trunc_len = trunc_len * 10 + (size_t)(raw[i] - '0');
	}
	if (i == size || raw[i] != '-') {
		*error_r = "PLAIN-TRUNC missing length: prefix";
		return -1;
	}
	i++;
	if (size - i == trunc_len && plain_len >= trunc_len)
		return CRYPTO_memcmp(raw + i, plaintext, trunc_len) == 0 ? 1 : 0;
	return password_mem_equals(raw + i, size - i, plaintext, plain_len) ?
		1 : 0;
}

/* ---- unsalted digests ---- */

static void digest_append(string_t *out, const char *md, const void *data,
			  size_t size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len;

	password_digest(md, data, size, digest, &len);
	str_append_n(out, digest, len);
	explicit_bzero(digest, sizeof(digest));
}

#define DIGEST_GENERATOR(fname, md) \
static int fname(const char *plaintext, \
		 const struct password_params *p ATTR_UNUSED, \
		 string_t *out, const char **error_r ATTR_UNUSED) \
{ \
	digest_append(out, md, plaintext, strlen(plaintext)); \
	return 0; \
}
DIGEST_GENERATOR(md5_generate, "MD5")
DIGEST_GENERATOR(sha1_generate, "SHA1")
DIGEST_GENERATOR(sha256_generate, "SHA256")
DIGEST_GENERATOR(sha512_generate, "SHA512")

static int md4_generate(const char *plaintext,
			const struct password_params *p ATTR_UNUSED,
			string_t *out, const char **error_r ATTR_UNUSED)
{
	unsigned char digest[PASSWORD_MD4_LEN];

	password_md4(plaintext, strlen(plaintext), digest);
	str_append_n(out, digest, sizeof(digest));
	return 0;
}

/* ---- salted digests: digest(plaintext salt) salt ---- */

static void salted_digest(const char *md, const char *plaintext,
			  const unsigned char *salt, size_t salt_len,
			  unsigned char *digest, unsigned int *len_r)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *type = EVP_get_digestbyname(md);

	if (ctx == NULL || type == NULL ||
	    EVP_DigestInit_ex(ctx, type, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, plaintext, strlen(plaintext)) != 1 ||
	    EVP_DigestUpdate(ctx, salt, salt_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, digest, len_r) != 1)
		i_fatal("OpenSSL digest %s failed", md);
	EVP_MD_CTX_free(ctx);
}

static void salted_generate(const char *md, const char *plaintext,
			    string_t *out)
{
	unsigned char salt[SALTED_SALT_LEN], digest[EVP_MAX_MD_SIZE];
	unsigned int len;

	password_random_fill(salt, sizeof(salt));
	salted_digest(md, plaintext, salt, sizeof(salt), digest, &len);
	str_append_n(out, digest, len);
	str_append_n(out, salt, sizeof(salt));
	explicit_bzero(digest, sizeof(digest));
}

static int salted_verify(const char *md, const char *name,
			 unsigned int digest_len, const char *plaintext,
			 const unsigned char *raw, size_t size,
			 const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len;
	int ret;

	if (size <= digest_len) {
		*error_r = password_error("%s password is too short", name);
		return -1;
	}
	salted_digest(md, plaintext, raw + digest_len, size - digest_len,
		      digest, &len);
	ret = CRYPTO_memcmp(digest, raw, digest_len) == 0 ? 1 : 0;
	explicit_bzero(digest, sizeof(digest));
	return ret;
}

#define SALTED_SCHEME(prefix, md, name, len) \
static int prefix##_generate(const char *plaintext, \
			     const struct password_params *p ATTR_UNUSED, \
			     string_t *out, const char **error_r ATTR_UNUSED) \
{ \
	salted_generate(md, plaintext, out); \
	return 0; \
} \
static int prefix##_verify(const char *plaintext, \
			   const struct password_params *p ATTR_UNUSED, \
			   const unsigned char *raw, size_t size, \
			   const char **error_r) \
{ \
	return salted_verify(md, name, len, plaintext, raw, size, error_r); \
}
SALTED_SCHEME(smd5, "MD5", "SMD5", MD5_LEN)
SALTED_SCHEME(ssha, "SHA1", "SSHA", SHA1_LEN)
SALTED_SCHEME(ssha256, "SHA256", "SSHA256", SHA256_LEN)
SALTED_SCHEME(ssha512, "SHA512", "SSHA512", SHA512_LEN)

/* ---- CRAM-MD5 / HMAC-MD5 and DIGEST-MD5 ---- */

static int cram_md5_generate(const char *plaintext,
			     const struct password_params *p ATTR_UNUSED,
			     string_t *out, const char **error_r ATTR_UNUSED)
{
	unsigned char ctx[PASSWORD_CRAM_MD5_CONTEXT_LEN];

	password_cram_md5_context(plaintext, strlen(plaintext), ctx);
	str_append_n(out, ctx, sizeof(ctx));
	explicit_bzero(ctx, sizeof(ctx));
	return 0;
}

/* MD5("user:realm:password"); "user@realm" is split at the last '@' so
 * user@domain@realm keeps the domain in the user name. */
static int digest_md5_generate(const char *plaintext,
			       const struct password_params *p,
			       string_t *out, const char **error_r)
{
	const char *realm;
	string_t *a1;

	if (p->user == NULL) {
		*error_r = "digest_md5_generate(): username not given";
		return -1;
	}
	a1 = str_new(strlen(p->user) + strlen(plaintext) + 4);
	realm = strrchr(p->user, '@');
	if (realm != NULL) {
		str_append_n(a1, p->user, (size_t)(realm - p->user));
		realm++;
	} else {
		str_append(a1, p->user);
		realm = "";
	}
	str_append_c(a1, ':');
	str_append(a1, realm);
	str_append_c(a1, ':');
	str_append(a1, plaintext);
	digest_append(out, "MD5", str_c(a1), str_len(a1));
	password_str_free_secret(&a1);
	return 0;
}

/* ---- the table ---- */

static const struct password_scheme scheme_plain = {
	"PLAIN", PW_ENCODING_NONE, 0, PW_FAMILY_PLAIN,
	plain_verify, plain_generate };
static const struct password_scheme scheme_clear = {
	"CLEAR", PW_ENCODING_NONE, 0, PW_FAMILY_PLAIN,
	plain_verify, plain_generate };
static const struct password_scheme scheme_cleartext = {
	"CLEARTEXT", PW_ENCODING_NONE, 0, PW_FAMILY_PLAIN,
	plain_verify, plain_generate };
static const struct password_scheme scheme_plain_trunc = {
	"PLAIN-TRUNC", PW_ENCODING_NONE, 0, PW_FAMILY_PLAIN,
	plain_trunc_verify, plain_generate };
static const struct password_scheme scheme_sha = {
	"SHA", PW_ENCODING_BASE64, SHA1_LEN, PW_FAMILY_SHA1,
	NULL, sha1_generate };
static const struct password_scheme scheme_sha1 = {
	"SHA1", PW_ENCODING_BASE64, SHA1_LEN, PW_FAMILY_SHA1,
	NULL, sha1_generate };
static const struct password_scheme scheme_sha256 = {
	"SHA256", PW_ENCODING_BASE64, SHA256_LEN, PW_FAMILY_NONE,
	NULL, sha256_generate };
static const struct password_scheme scheme_sha512 = {
	"SHA512", PW_ENCODING_BASE64, SHA512_LEN, PW_FAMILY_NONE,
	NULL, sha512_generate };
static const struct password_scheme scheme_smd5 = {
	"SMD5", PW_ENCODING_BASE64, 0, PW_FAMILY_NONE,
	smd5_verify, smd5_generate };
static const struct password_scheme scheme_ssha = {
	"SSHA", PW_ENCODING_BASE64, 0, PW_FAMILY_NONE,
	ssha_verify, ssha_generate };
static const struct password_scheme scheme_ssha256 = {
	"SSHA256", PW_ENCODING_BASE64, 0, PW_FAMILY_NONE,
	ssha256_verify, ssha256_generate };
static const struct password_scheme scheme_ssha512 = {
	"SSHA512", PW_ENCODING_BASE64, 0, PW_FAMILY_NONE,
	ssha512_verify, ssha512_generate };
static const struct password_scheme scheme_cram_md5 = {
	"CRAM-MD5", PW_ENCODING_HEX, PASSWORD_CRAM_MD5_CONTEXT_LEN,
	PW_FAMILY_CRAM_MD5, NULL, cram_md5_generate };
static const struct password_scheme scheme_hmac_md5 = {
	"HMAC-MD5", PW_ENCODING_HEX, PASSWORD_CRAM_MD5_CONTEXT_LEN,
	PW_FAMILY_CRAM_MD5, NULL, cram_md5_generate };
static const struct password_scheme scheme_digest_md5 = {
	"DIGEST-MD5", PW_ENCODING_HEX, MD5_LEN, PW_FAMILY_NONE,
	NULL, digest_md5_generate };
static const struct password_scheme scheme_plain_md4 = {
	"PLAIN-MD4", PW_ENCODING_HEX, PASSWORD_MD4_LEN, PW_FAMILY_NONE,
	NULL, md4_generate };
static const struct password_scheme scheme_plain_md5 = {
	"PLAIN-MD5", PW_ENCODING_HEX, MD5_LEN, PW_FAMILY_PLAIN_MD5,
	NULL, md5_generate };
static const struct password_scheme scheme_ldap_md5 = {
	"LDAP-MD5", PW_ENCODING_BASE64, MD5_LEN, PW_FAMILY_PLAIN_MD5,
	NULL, md5_generate };

/* In the order Dovecot 2.3.19's `doveadm pw -l` prints (its hash table
 * order), which scripts may have come to expect. */
static const struct password_scheme *const schemes[] = {
	&scheme_sha1, &scheme_ssha512, &password_scheme_scram_sha256,
	&password_scheme_blf_crypt, &scheme_plain, &scheme_hmac_md5,
	&password_scheme_otp, &scheme_sha512, &scheme_sha,
	&password_scheme_des_crypt, &password_scheme_crypt, &scheme_ssha,
	&password_scheme_md5_crypt, &scheme_plain_md4, &scheme_plain_md5,
	&password_scheme_scram_sha1, &password_scheme_sha512_crypt,
	&scheme_clear, &scheme_cleartext, &password_scheme_argon2i,
	&password_scheme_argon2id, &scheme_ssha256, &password_scheme_md5,
	&password_scheme_pbkdf2, &scheme_sha256, &scheme_cram_md5,
	&scheme_plain_trunc, &password_scheme_sha256_crypt, &scheme_smd5,
	&scheme_digest_md5, &scheme_ldap_md5,
};

const char *const *password_schemes_list(void)
{
	static const char *names[N_ELEMENTS(schemes) + 1];

	if (names[0] == NULL) {
		for (size_t i = 0; i < N_ELEMENTS(schemes); i++)
			names[i] = schemes[i]->name;
	}
	return names;
}

/* Find "NAME" or "NAME.enc" (len bytes of name). NULL if unknown, also
 * for an unknown encoding suffix. */
static const struct password_scheme *
scheme_lookup(const char *name, size_t len, enum password_encoding *enc_r,
	      bool *explicit_r)
{
	const char *dot = memchr(name, '.', len);
	size_t base_len = dot == NULL ? len : (size_t)(dot - name);
	const struct password_scheme *scheme = NULL;

	for (size_t i = 0; i < N_ELEMENTS(schemes); i++) {
		if (strlen(schemes[i]->name) == base_len &&
		    strncasecmp(schemes[i]->name, name, base_len) == 0) {
			scheme = schemes[i];
			break;
		}
	}
	if (scheme == NULL)
		return NULL;
	*explicit_r = dot != NULL;
	if (dot == NULL) {
		*enc_r = scheme->default_encoding;
		return scheme;
	}
	dot++;
	len -= base_len + 1;
	if ((len == 3 && strncasecmp(dot, "b64", 3) == 0) ||
	    (len == 6 && strncasecmp(dot, "base64", 6) == 0))
		*enc_r = PW_ENCODING_BASE64;
	else if (len == 3 && strncasecmp(dot, "hex", 3) == 0)
		*enc_r = PW_ENCODING_HEX;
	else
		return NULL;
	return scheme;
}

static const struct password_scheme *scheme_find(const char *name)
{
	enum password_encoding enc;
	bool explicit_enc;

	return name == NULL ? NULL :
		scheme_lookup(name, strlen(name), &enc, &explicit_enc);
}

bool password_scheme_is_known(const char *scheme)
{
	return scheme_find(scheme) != NULL;
}

bool password_scheme_is_alias(const char *scheme1, const char *scheme2)
{
	const struct password_scheme *s1 = scheme_find(scheme1);
	const struct password_scheme *s2 = scheme_find(scheme2);

	if (s1 == NULL || s2 == NULL)
		return false;
	return s1 == s2 ||
		(s1->family != PW_FAMILY_NONE && s1->family == s2->family);
}

bool password_scheme_needs_user(const char *scheme)
{
	return scheme_find(scheme) == &scheme_digest_md5;
}

/* ---- splitting ---- */

struct stored_parts {
	const char *scheme;	/* NULL = no prefix */
	size_t scheme_len;
	const char *data;
	size_t data_len;
};

static void stored_split(const char *stored, struct stored_parts *parts)
{
	const char *p, *end;

	memset(parts, 0, sizeof(*parts));
	parts->data = stored;
	parts->data_len = strlen(stored);
	if (strncmp(stored, "$1$", 3) == 0 &&
	    (p = strchr(stored + 3, '$')) != NULL) {
		/* $1$<salt>$<hash>[$<ignored>] */
		end = strchr(p + 1, '$');
		if (end != NULL)
			parts->data_len = (size_t)(end - stored);
		parts->scheme = "MD5-CRYPT";
		parts->scheme_len = 9;
		return;
	}
	if (stored[0] != '{' || (p = strchr(stored, '}')) == NULL)
		return;
	parts->scheme = stored + 1;
	parts->scheme_len = (size_t)(p - stored - 1);
	parts->data = p + 1;
	parts->data_len = strlen(p + 1);
}

void password_split(pool_t pool, const char *stored,
		    const char *default_scheme, const char **scheme_r,
		    const char **data_r)
{
	struct stored_parts parts;

	stored_split(stored, &parts);
	*scheme_r = parts.scheme != NULL ?
		p_strndup(pool, parts.scheme, parts.scheme_len) :
		(default_scheme == NULL ? NULL : p_strdup(pool, default_scheme));
	*data_r = p_strndup(pool, parts.data, parts.data_len);
}

/* ---- decoding and encoding ---- */

static int scheme_decode(const struct password_scheme *scheme,
			 enum password_encoding enc, bool explicit_enc,
			 const char *data, size_t len, string_t *raw,
			 const char **error_r)
{
	bool guessed = false;

	if (enc != PW_ENCODING_NONE && scheme->raw_len != 0 && !explicit_enc) {
		/* hex and base64 lengths only meet for tiny sizes */
		enc = len == scheme->raw_len * 2 ? PW_ENCODING_HEX :
			PW_ENCODING_BASE64;
		guessed = true;
	}
	switch (enc) {
	case PW_ENCODING_NONE:
		str_append_n(raw, data, len);
		break;
	case PW_ENCODING_HEX:
		if (password_hex_decode(raw, data, len) == 0)
			break;
		if (!guessed) {
			*error_r = "Input isn't valid HEX encoded data";
			return -1;
		}
		/* some lengths are valid as both: try base64 after all */
		str_clear(raw);
		/* fall through */
	case PW_ENCODING_BASE64:
		if (password_base64_decode(raw, data, len) < 0) {
			*error_r = "Input isn't valid base64 encoded data";
			return -1;
		}
		break;
	}
	if (scheme->raw_len != 0 && str_len(raw) != scheme->raw_len) {
		*error_r = password_error(
			"Input length isn't valid (%zu instead of %u)",
			str_len(raw), scheme->raw_len);
		return -1;
	}
	return 0;
}

/* Decode into a fresh string; NULL with *ret_r 0 (unknown) or -1. */
static string_t *decode_parts(const char *scheme_name, size_t scheme_len,
			      const char *data, size_t data_len,
			      const struct password_scheme **scheme_r,
			      int *ret_r, const char **error_r)
{
	const struct password_scheme *scheme;
	enum password_encoding enc;
	bool explicit_enc;
	string_t *raw;

	scheme = scheme_lookup(scheme_name, scheme_len, &enc, &explicit_enc);
	if (scheme == NULL) {
		*error_r = "Unknown scheme";
		*ret_r = 0;
		return NULL;
	}
	raw = str_new(data_len + 1);
	if (scheme_decode(scheme, enc, explicit_enc, data, data_len, raw,
			  error_r) < 0) {
		password_str_free_secret(&raw);
		*ret_r = -1;
		return NULL;
	}
	*scheme_r = scheme;
	*ret_r = 1;
	return raw;
}

int password_decode(const char *data, const char *scheme,
		    unsigned char **raw_r, size_t *size_r,
		    const char **error_r)
{
	const struct password_scheme *s;
	string_t *raw;
	int ret;

	raw = decode_parts(scheme, strlen(scheme), data, strlen(data), &s,
			   &ret, error_r);
	if (raw == NULL)
		return ret;
	*size_r = str_len(raw);
	*raw_r = (unsigned char *)str_free_without_data(&raw);
	return 1;
}

static int scheme_verify(const struct password_scheme *scheme,
			 const char *plaintext, const unsigned char *raw,
			 size_t size, const char *user, const char **error_r)
{
	struct password_params params = { .user = user };
	string_t *generated;
	int ret;

	if (scheme->verify != NULL) {
		ret = scheme->verify(plaintext, &params, raw, size, error_r);
	} else {
		generated = str_new(strlen(plaintext) + 256);
		ret = scheme->generate(plaintext, &params, generated, error_r);
		if (ret == 0) {
			ret = password_mem_equals(str_c(generated),
						  str_len(generated),
						  raw, size) ? 1 : 0;
		}
		password_str_free_secret(&generated);
	}
	if (ret == 0)
		*error_r = "Password mismatch";
	else if (ret > 0)
		*error_r = NULL;
	return ret;
}

int password_verify_raw(const char *plaintext, const char *scheme,
			const unsigned char *raw, size_t size,
			const char *user, const char **error_r)
{
	const struct password_scheme *s = scheme_find(scheme);

	if (s == NULL) {
		*error_r = "Unknown password scheme";
		return -1;
	}
	return scheme_verify(s, plaintext, raw, size, user, error_r);
}

int password_verify(const char *plaintext, const char *stored,
		    const char *default_scheme, const char *user,
		    const char **error_r)
{
	const struct password_scheme *scheme;
	struct stored_parts parts;
	const char *error = NULL;
	string_t *raw;
	int ret;

	stored_split(stored, &parts);
	if (parts.scheme == NULL) {
		if (default_scheme == NULL) {
			*error_r = "Missing {scheme} prefix from password";
			return -1;
		}
		parts.scheme = default_scheme;
		parts.scheme_len = strlen(default_scheme);
	}
	raw = decode_parts(parts.scheme, parts.scheme_len, parts.data,
			   parts.data_len, &scheme, &ret, &error);
	if (raw == NULL) {
		*error_r = ret == 0 ?
			password_error("Unknown scheme %.*s",
				       (int)parts.scheme_len, parts.scheme) :
			password_error("Password data is not valid for "
				       "scheme %.*s: %s", (int)parts.scheme_len,
				       parts.scheme, error);
		return -1;
	}
	ret = scheme_verify(scheme, plaintext, (const unsigned char *)str_c(raw),
			    str_len(raw), user, &error);
	password_str_free_secret(&raw);
	if (ret < 0)
		*error_r = password_error("Invalid password in passdb: %s",
					  error);
	else
		*error_r = error;
	return ret;
}

static void encode_append(string_t *out, enum password_encoding enc,
			  const string_t *raw)
{
	switch (enc) {
	case PW_ENCODING_NONE:
		str_append_str(out, raw);
		break;
	case PW_ENCODING_BASE64:
		base64_encode(out, str_c(raw), str_len(raw));
		break;
	case PW_ENCODING_HEX:
		password_hex_append(out, (const unsigned char *)str_c(raw),
				    str_len(raw), false);
		break;
	}
}

char *password_generate(const char *plaintext, const char *scheme_name,
			const char *user, unsigned int rounds,
			const char **error_r)
{
	struct password_params params = { .user = user, .rounds = rounds };
	const struct password_scheme *scheme;
	enum password_encoding enc;
	bool explicit_enc;
	string_t *raw, *out;

	scheme = scheme_lookup(scheme_name, strlen(scheme_name), &enc,
			       &explicit_enc);
	out = str_new(128);
	str_append_c(out, '{');
	str_append(out, scheme_name);
	str_ucase(out);
	if (scheme == NULL) {
		*error_r = password_error("Unknown scheme: %s", str_c(out) + 1);
		str_free(&out);
		return NULL;
	}
	raw = str_new(strlen(plaintext) + 256);
	if (scheme->generate(plaintext, &params, raw, error_r) < 0) {
		password_str_free_secret(&raw);
		str_free(&out);
		return NULL;
	}
	str_append_c(out, '}');
	encode_append(out, enc, raw);
	password_str_free_secret(&raw);
	return str_free_without_data(&out);
}

/* ---- credentials for SASL mechanisms ---- */

/* The plaintext of a plain scheme's data (PLAIN-TRUNC without its
 * "<length>-"). */
static const char *plain_credentials(const struct password_scheme *scheme,
				     const string_t *raw)
{
	const char *p = str_c(raw);

	if (scheme == &scheme_plain_trunc) {
		while (*p >= '0' && *p <= '9')
			p++;
		return *p == '-' ? p + 1 : str_c(raw);
	}
	return p;
}

int password_get_credentials(const char *stored, const char *default_scheme,
			     const char *wanted_scheme, const char *user,
			     unsigned char **cred_r, size_t *size_r,
			     const char **error_r)
{
	struct password_params params = { .user = user };
	const struct password_scheme *scheme, *wanted;
	struct stored_parts parts;
	const char *error = NULL;
	string_t *raw, *gen;
	int ret;

	stored_split(stored, &parts);
	if (parts.scheme == NULL) {
		if (default_scheme == NULL) {
			*error_r = "Missing {scheme} prefix from password";
			return -1;
		}
		parts.scheme = default_scheme;
		parts.scheme_len = strlen(default_scheme);
	}
	raw = decode_parts(parts.scheme, parts.scheme_len, parts.data,
			   parts.data_len, &scheme, &ret, &error);
	if (raw == NULL) {
		*error_r = ret == 0 ?
			password_error("Unknown scheme %.*s",
				       (int)parts.scheme_len, parts.scheme) :
			password_error("Password data is not valid for "
				       "scheme %.*s: %s", (int)parts.scheme_len,
				       parts.scheme, error);
		return -1;
	}
	wanted = wanted_scheme == NULL || wanted_scheme[0] == '\0' ? scheme :
		scheme_find(wanted_scheme);
	if (wanted == scheme || (wanted != NULL &&
				 wanted->family != PW_FAMILY_NONE &&
				 wanted->family == scheme->family)) {
		*size_r = str_len(raw);
		*cred_r = (unsigned char *)str_free_without_data(&raw);
		return 1;
	}
	if (scheme->family != PW_FAMILY_PLAIN) {
		*error_r = password_error(
			"Requested %s scheme, but we have only %.*s",
			wanted_scheme, (int)parts.scheme_len, parts.scheme);
		password_str_free_secret(&raw);
		return 0;
	}
	if (wanted == NULL) {
		*error_r = password_error("Requested unknown scheme %s",
					  wanted_scheme);
		password_str_free_secret(&raw);
		return -1;
	}
	/* anything can be made from a plaintext password */
	gen = str_new(str_len(raw) + 256);
	ret = wanted->generate(plain_credentials(scheme, raw), &params, gen,
			       error_r);
	password_str_free_secret(&raw);
	if (ret < 0) {
		password_str_free_secret(&gen);
		return -1;
	}
	*size_r = str_len(gen);
	*cred_r = (unsigned char *)str_free_without_data(&gen);
	return 1;
}

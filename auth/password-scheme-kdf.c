/* password-scheme-kdf.c - the key-derivation schemes: PBKDF2
 * ("$1$salt$rounds$hex", HMAC-SHA1), SCRAM-SHA-1/-256
 * ("iter,salt,StoredKey,ServerKey", RFC 5802/7677) and ARGON2I/ARGON2ID
 * (the PHC strings libsodium writes for Dovecot, made here by
 * libargon2). */
#include "lib.h"
#include "str.h"
#include "base64.h"
#include "password-scheme-private.h"

#include <argon2.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define PBKDF2_KEY_LEN 20
#define PBKDF2_SALT_LEN 16
#define PBKDF2_ROUNDS_DEFAULT 5000

#define SCRAM_ITER_MIN 4096
#define SCRAM_ITER_MAX INT_MAX
#define SCRAM_ITER_DEFAULT 4096
#define SCRAM_SALT_LEN 16

#define ARGON2_SALT_LEN 16
#define ARGON2_HASH_LEN 32
/* libsodium's limits (Dovecot sizes memory by the rounds it is given) */
#define ARGON2I_OPS_INTERACTIVE 4
#define ARGON2I_OPS_MODERATE 6
#define ARGON2I_OPS_SENSITIVE 8
#define ARGON2I_MEM_INTERACTIVE_KIB (32 * 1024)
#define ARGON2I_MEM_MODERATE_KIB (128 * 1024)
#define ARGON2I_MEM_SENSITIVE_KIB (512 * 1024)
#define ARGON2ID_OPS_INTERACTIVE 2
#define ARGON2ID_OPS_MODERATE 3
#define ARGON2ID_OPS_SENSITIVE 4
#define ARGON2ID_MEM_INTERACTIVE_KIB (64 * 1024)
#define ARGON2ID_MEM_MODERATE_KIB (256 * 1024)
#define ARGON2ID_MEM_SENSITIVE_KIB (1024 * 1024)

/* ---- PBKDF2 ---- */

static void pbkdf2_run(const char *plaintext, const char *salt,
		       size_t salt_len, unsigned int rounds,
		       unsigned char key[PBKDF2_KEY_LEN])
{
	if (PKCS5_PBKDF2_HMAC(plaintext, (int)strlen(plaintext),
			      (const unsigned char *)salt, (int)salt_len,
			      (int)rounds, EVP_sha1(), PBKDF2_KEY_LEN,
			      key) != 1)
		i_fatal("PKCS5_PBKDF2_HMAC(rounds=%u) failed", rounds);
}

static int pbkdf2_generate(const char *plaintext,
			   const struct password_params *p, string_t *out,
			   const char **error_r ATTR_UNUSED)
{
	unsigned int rounds = p->rounds == 0 ? PBKDF2_ROUNDS_DEFAULT :
		MIN(p->rounds, (unsigned int)INT_MAX);
	unsigned char key[PBKDF2_KEY_LEN];
	size_t salt_pos;

	str_append(out, "$1$");
	salt_pos = str_len(out);
	password_salt_append(out, PBKDF2_SALT_LEN);
	pbkdf2_run(plaintext, str_c(out) + salt_pos, PBKDF2_SALT_LEN, rounds,
		   key);
	str_printfa(out, "$%u$", rounds);
	password_hex_append(out, key, sizeof(key), false);
	explicit_bzero(key, sizeof(key));
	return 0;
}

/* "$1$<salt>$<rounds>$<40 hex digits>" */
static int pbkdf2_verify(const char *plaintext,
			 const struct password_params *p ATTR_UNUSED,
			 const unsigned char *raw, size_t size,
			 const char **error_r)
{
	const char *s = (const char *)raw, *end = s + size, *f1, *f2;
	unsigned char key[PBKDF2_KEY_LEN], stored[PBKDF2_KEY_LEN];
	unsigned int rounds;
	string_t *hex;
	int ret;

	if (size < 3 || memcmp(s, "$1$", 3) != 0) {
		*error_r = "Invalid PBKDF2 passdb entry prefix";
		return -1;
	}
	s += 3;
	f1 = memchr(s, '$', (size_t)(end - s));
	f2 = f1 == NULL ? NULL : memchr(f1 + 1, '$', (size_t)(end - f1 - 1));
	if (f2 == NULL || memchr(f2 + 1, '$', (size_t)(end - f2 - 1)) != NULL ||
	    memchr(s, '\0', size - 3) != NULL ||
	    !password_str_to_uint(f1 + 1, (size_t)(f2 - f1 - 1), &rounds) ||
	    rounds > INT_MAX) {
		*error_r = "Invalid PBKDF2 passdb entry format";
		return -1;
	}
	hex = str_new(PBKDF2_KEY_LEN + 1);
	if ((size_t)(end - f2 - 1) != PBKDF2_KEY_LEN * 2 ||
	    password_hex_decode(hex, f2 + 1, PBKDF2_KEY_LEN * 2) < 0) {
		str_free(&hex);
		*error_r = "PBKDF2 hash not 160bit hex-encoded";
		return -1;
	}
	memcpy(stored, str_c(hex), sizeof(stored));
	str_free(&hex);
	if (rounds == 0)
		return 0; /* PBKDF2 needs one round: nothing can match */
	if (password_cost_limited && rounds > PASSWORD_LIMIT_ROUNDS) {
		*error_r = "PBKDF2 rounds are above the limit";
		return -1;
	}
	pbkdf2_run(plaintext, s, (size_t)(f1 - s), rounds, key);
	ret = CRYPTO_memcmp(key, stored, sizeof(key)) == 0 ? 1 : 0;
	explicit_bzero(key, sizeof(key));
	return ret;
}

/* ---- SCRAM-SHA-1, SCRAM-SHA-256 ---- */

struct scram_keys {
	unsigned char stored_key[EVP_MAX_MD_SIZE];
	unsigned char server_key[EVP_MAX_MD_SIZE];
};

/* SaltedPassword = Hi(password, salt, i); StoredKey = H(HMAC(salted,
 * "Client Key")); ServerKey = HMAC(salted, "Server Key"). */
static void scram_keys_make(const EVP_MD *md, const char *plaintext,
			    const unsigned char *salt, size_t salt_len,
			    unsigned int iter, struct scram_keys *keys)
{
	unsigned char salted[EVP_MAX_MD_SIZE], client_key[EVP_MAX_MD_SIZE];
	int len = EVP_MD_get_size(md);
	unsigned int out_len;

	if (PKCS5_PBKDF2_HMAC(plaintext, (int)strlen(plaintext), salt,
			      (int)salt_len, (int)iter, md, len, salted) != 1 ||
	    HMAC(md, salted, len, (const unsigned char *)"Client Key", 10,
		 client_key, &out_len) == NULL ||
	    EVP_Digest(client_key, (size_t)len, keys->stored_key, &out_len,
		       md, NULL) != 1 ||
	    HMAC(md, salted, len, (const unsigned char *)"Server Key", 10,
		 keys->server_key, &out_len) == NULL)
		i_fatal("OpenSSL SCRAM key derivation failed");
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
}

/* Dovecot 2.3 always writes 4096 iterations, whatever -r says. */
static int scram_generate(const EVP_MD *md, const char *plaintext,
			  string_t *out)
{
	const unsigned int rounds = SCRAM_ITER_DEFAULT;
	unsigned char salt[SCRAM_SALT_LEN];
	struct scram_keys keys;
	size_t len = (size_t)EVP_MD_get_size(md);

	password_random_fill(salt, sizeof(salt));
	scram_keys_make(md, plaintext, salt, sizeof(salt), rounds, &keys);
	str_printfa(out, "%u,", rounds);
	base64_encode(out, salt, sizeof(salt));
	str_append_c(out, ',');
	base64_encode(out, keys.stored_key, len);
	str_append_c(out, ',');
	base64_encode(out, keys.server_key, len);
	explicit_bzero(&keys, sizeof(keys));
	return 0;
}

/* Decode one base64 key field that must be exactly len bytes. */
static bool scram_key_decode(const char *field, size_t field_len,
			     size_t len, unsigned char *key)
{
	string_t *buf = str_new(field_len + 1);
	bool ok = password_base64_decode(buf, field, field_len) == 0 &&
		str_len(buf) == len;

	if (ok)
		memcpy(key, str_c(buf), len);
	password_str_free_secret(&buf);
	return ok;
}

static int scram_verify(const EVP_MD *md, const char *name,
			const char *plaintext, const unsigned char *raw,
			size_t size, const char **error_r)
{
	const char *fields[4], *end = (const char *)raw + size, *p;
	size_t lens[4], len = (size_t)EVP_MD_get_size(md);
	unsigned char stored_key[EVP_MAX_MD_SIZE], server_key[EVP_MAX_MD_SIZE];
	struct scram_keys keys;
	unsigned int n = 0, iter;
	string_t *salt;
	int ret;

	/* iter,salt,stored_key,server_key */
	for (p = (const char *)raw; n < 4; n++) {
		const char *comma = memchr(p, ',', (size_t)(end - p));

		fields[n] = p;
		lens[n] = (size_t)((comma == NULL ? end : comma) - p);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (n != 3 || memchr(raw, '\0', size) != NULL) {
		*error_r = password_error("Invalid %s passdb entry format",
					  name);
		return -1;
	}
	if (!password_str_to_uint(fields[0], lens[0], &iter) ||
	    iter < SCRAM_ITER_MIN || iter > SCRAM_ITER_MAX) {
		*error_r = password_error(
			"Invalid %s iteration count in passdb", name);
		return -1;
	}
	if (!scram_key_decode(fields[2], lens[2], len, stored_key)) {
		*error_r = password_error("Invalid %s StoredKey in passdb",
					  name);
		return -1;
	}
	if (!scram_key_decode(fields[3], lens[3], len, server_key)) {
		*error_r = password_error("Invalid %s ServerKey in passdb",
					  name);
		return -1;
	}
	if (password_cost_limited && iter > PASSWORD_LIMIT_ROUNDS) {
		*error_r = "SCRAM iterations are above the limit";
		return -1;
	}
	/* Dovecot takes whatever base64 of the salt decodes */
	salt = str_new(lens[1] + 1);
	(void)password_base64_decode(salt, fields[1], lens[1]);
	scram_keys_make(md, plaintext, (const unsigned char *)str_c(salt),
			str_len(salt), iter, &keys);
	str_free(&salt);
	ret = CRYPTO_memcmp(keys.stored_key, stored_key, len) == 0 ? 1 : 0;
	explicit_bzero(&keys, sizeof(keys));
	return ret;
}

static int scram_sha1_generate(const char *plaintext,
			       const struct password_params *p ATTR_UNUSED,
			       string_t *out, const char **error_r ATTR_UNUSED)
{
	return scram_generate(EVP_sha1(), plaintext, out);
}

static int scram_sha256_generate(const char *plaintext,
				 const struct password_params *p ATTR_UNUSED,
				 string_t *out, const char **error_r ATTR_UNUSED)
{
	return scram_generate(EVP_sha256(), plaintext, out);
}

static int scram_sha1_verify(const char *plaintext,
			     const struct password_params *p ATTR_UNUSED,
			     const unsigned char *raw, size_t size,
			     const char **error_r)
{
	return scram_verify(EVP_sha1(), "SCRAM-SHA-1", plaintext, raw, size,
			    error_r);
}

static int scram_sha256_verify(const char *plaintext,
			       const struct password_params *p ATTR_UNUSED,
			       const unsigned char *raw, size_t size,
			       const char **error_r)
{
	return scram_verify(EVP_sha256(), "SCRAM-SHA-256", plaintext, raw,
			    size, error_r);
}

/* ---- ARGON2I, ARGON2ID ---- */

static int argon2_generate(argon2_type type, const char *plaintext,
			   uint32_t t_cost, uint32_t m_kib, string_t *out)
{
	unsigned char salt[ARGON2_SALT_LEN];
	size_t enc_len = argon2_encodedlen(t_cost, m_kib, 1, ARGON2_SALT_LEN,
					   ARGON2_HASH_LEN, type);
	char *encoded = i_malloc(enc_len);
	int ret;

	password_random_fill(salt, sizeof(salt));
	ret = argon2_hash(t_cost, m_kib, 1, plaintext, strlen(plaintext),
			  salt, sizeof(salt), NULL, ARGON2_HASH_LEN, encoded,
			  enc_len, type, ARGON2_VERSION_13);
	if (ret != ARGON2_OK)
		i_fatal("argon2_hash() failed: %s", argon2_error_message(ret));
	str_append(out, encoded);
	free(encoded);
	return 0;
}

static int argon2i_generate(const char *plaintext,
			    const struct password_params *p, string_t *out,
			    const char **error_r ATTR_UNUSED)
{
	unsigned int rounds = p->rounds == 0 ? ARGON2I_OPS_INTERACTIVE :
		p->rounds;
	uint32_t m_kib = rounds >= ARGON2I_OPS_SENSITIVE ?
		ARGON2I_MEM_SENSITIVE_KIB : rounds >= ARGON2I_OPS_MODERATE ?
		ARGON2I_MEM_MODERATE_KIB : ARGON2I_MEM_INTERACTIVE_KIB;

	return argon2_generate(Argon2_i, plaintext, rounds, m_kib, out);
}

static int argon2id_generate(const char *plaintext,
			     const struct password_params *p, string_t *out,
			     const char **error_r ATTR_UNUSED)
{
	unsigned int rounds = p->rounds == 0 ? ARGON2ID_OPS_INTERACTIVE :
		p->rounds;
	uint32_t m_kib = rounds >= ARGON2ID_OPS_SENSITIVE ?
		ARGON2ID_MEM_SENSITIVE_KIB : rounds >= ARGON2ID_OPS_MODERATE ?
		ARGON2ID_MEM_MODERATE_KIB : ARGON2ID_MEM_INTERACTIVE_KIB;

	/* Dovecot: libsodium 1.0.13 wanted at least 3 passes */
	return argon2_generate(Argon2_id, plaintext, MAX(rounds, 3U), m_kib,
			       out);
}

/* The number after "<key>=" in the parameter part, or UINT_MAX. */
static unsigned int argon2_param(const char *encoded, const char *key)
{
	const char *p = strstr(encoded, key);
	size_t len = 0;
	unsigned int n;

	if (p == NULL)
		return UINT_MAX;
	p += strlen(key);
	while (p[len] >= '0' && p[len] <= '9')
		len++;
	return password_str_to_uint(p, len, &n) ? n : UINT_MAX;
}

/* Either variant checks either string, as libsodium's
 * crypto_pwhash_str_verify() does; anything else is a mismatch. */
static int argon2_verify_any(const char *plaintext,
			     const struct password_params *p ATTR_UNUSED,
			     const unsigned char *raw, size_t size,
			     const char **error_r)
{
	char *encoded = i_strndup((const char *)raw, size);
	argon2_type type;
	int ret;

	if (strncmp(encoded, "$argon2id$", 10) == 0)
		type = Argon2_id;
	else if (strncmp(encoded, "$argon2i$", 9) == 0)
		type = Argon2_i;
	else {
		free(encoded);
		return 0;
	}
	if (password_cost_limited &&
	    (argon2_param(encoded, "$m=") > PASSWORD_LIMIT_ARGON2_M_KIB ||
	     argon2_param(encoded, ",t=") > PASSWORD_LIMIT_ARGON2_T ||
	     argon2_param(encoded, ",p=") > 1)) {
		free(encoded);
		*error_r = "Argon2 cost is above the limit";
		return -1;
	}
	ret = argon2_verify(encoded, plaintext, strlen(plaintext), type) ==
		ARGON2_OK ? 1 : 0;
	free(encoded);
	return ret;
}

const struct password_scheme password_scheme_pbkdf2 = {
	"PBKDF2", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	pbkdf2_verify, pbkdf2_generate };
const struct password_scheme password_scheme_scram_sha1 = {
	"SCRAM-SHA-1", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	scram_sha1_verify, scram_sha1_generate };
const struct password_scheme password_scheme_scram_sha256 = {
	"SCRAM-SHA-256", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	scram_sha256_verify, scram_sha256_generate };
const struct password_scheme password_scheme_argon2i = {
	"ARGON2I", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	argon2_verify_any, argon2i_generate };
const struct password_scheme password_scheme_argon2id = {
	"ARGON2ID", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	argon2_verify_any, argon2id_generate };

/* password-scheme-private.h - what the password-scheme-*.c files share:
 * the scheme table row, the salt and encoding helpers, the cost limit. */
#ifndef ROOST_PASSWORD_SCHEME_PRIVATE_H
#define ROOST_PASSWORD_SCHEME_PRIVATE_H

#include "password-scheme.h"
#include "str.h"

enum password_encoding {
	PW_ENCODING_NONE,
	PW_ENCODING_BASE64,
	PW_ENCODING_HEX,
};

/* Schemes with the same generator are aliases of each other (Dovecot's
 * password_scheme_is_alias()); 0 = only itself. */
enum password_family {
	PW_FAMILY_NONE = 0,
	PW_FAMILY_PLAIN,
	PW_FAMILY_SHA1,
	PW_FAMILY_CRAM_MD5,
	PW_FAMILY_MD5_CRYPT,
	PW_FAMILY_PLAIN_MD5,
	PW_FAMILY_BLF_CRYPT,
};

struct password_params {
	const char *user;	/* NULL when not given */
	unsigned int rounds;	/* 0 = default */
};

struct password_scheme {
	const char *name;
	enum password_encoding default_encoding;
	/* Exact size of the decoded data, 0 = any. With a non-zero size and
	   no suffix, hex is tried when the data is twice as long, else
	   base64 (Dovecot guesses the same way). */
	unsigned int raw_len;
	enum password_family family;
	/* 1 match, 0 mismatch, -1 error with *error_r. NULL = generate and
	   compare in constant time. */
	int (*verify)(const char *plaintext, const struct password_params *p,
		      const unsigned char *raw, size_t size,
		      const char **error_r);
	/* Append the raw (unencoded) password to out. -1 with *error_r when
	   it can't be made (DIGEST-MD5 without a user). */
	int (*generate)(const char *plaintext, const struct password_params *p,
			string_t *out, const char **error_r);
};

/* Rows defined by the scheme files, looked up by name in
 * password-scheme.c. */
extern const struct password_scheme password_scheme_crypt,
	password_scheme_des_crypt, password_scheme_blf_crypt,
	password_scheme_md5, password_scheme_md5_crypt,
	password_scheme_sha256_crypt, password_scheme_sha512_crypt,
	password_scheme_pbkdf2, password_scheme_scram_sha1,
	password_scheme_scram_sha256, password_scheme_argon2i,
	password_scheme_argon2id, password_scheme_otp;

/* Dovecot's salt alphabet ("./0-9A-Za-z"): append len random chars. */
void password_salt_append(string_t *out, size_t len);
/* Fill buf with random bytes (OpenSSL's RNG); fatal if it fails. */
void password_random_fill(void *buf, size_t size);

/* Dovecot's base64 reader: whitespace ignored, padding required, no
 * data after it; trailing bits may be set. Appends what it decoded even
 * on error. Returns 0 or -1. */
int password_base64_decode(string_t *dest, const char *src, size_t len);
/* Even number of hex digits, either case. Returns 0 or -1. */
int password_hex_decode(string_t *dest, const char *src, size_t len);
void password_hex_append(string_t *dest, const unsigned char *data,
			 size_t size, bool upper);

/* "%u" without sign, spaces or overflow (Dovecot's str_to_uint()). */
bool password_str_to_uint(const char *s, size_t len, unsigned int *num_r);

/* Constant-time equality of two byte strings (the length is not
 * hidden). */
bool password_mem_equals(const void *a, size_t alen, const void *b,
			 size_t blen);
/* A formatted error in the thread's error buffer. */
const char *password_error(const char *fmt, ...) ATTR_FORMAT(1, 2);
/* Wipe a string's whole buffer and free it. */
void password_str_free_secret(string_t **str);

/* Cost bound for fuzzing (password_schemes_limit_cost()). */
extern bool password_cost_limited;
#define PASSWORD_LIMIT_ROUNDS 10000
#define PASSWORD_LIMIT_BCRYPT_COST 6
#define PASSWORD_LIMIT_ARGON2_T 4
#define PASSWORD_LIMIT_ARGON2_M_KIB 1024

/* Legacy digests (password-scheme-legacy.c): OpenSSL keeps MD4 and the
 * raw MD5 state only in its deprecated low-level API. */
#define PASSWORD_MD4_LEN 16
#define PASSWORD_CRAM_MD5_CONTEXT_LEN 32
void password_md4(const void *data, size_t size,
		  unsigned char digest[PASSWORD_MD4_LEN]);
/* Dovecot's HMAC-MD5 context of key: the MD5 states after key^opad and
 * key^ipad, A B C D as little-endian words, outer first. */
void password_cram_md5_context(const void *key, size_t key_len,
			       unsigned char ctx[PASSWORD_CRAM_MD5_CONTEXT_LEN]);

/* Digests through OpenSSL EVP by name ("MD5", "SHA1", "SHA256",
 * "SHA512"). */
void password_digest(const char *md, const void *data, size_t size,
		     unsigned char *digest, unsigned int *len_r);

#endif

/* password-scheme.h - Dovecot's password schemes: "{SCHEME}data" strings
 * as stored in passwd-files, SQL, LDAP, and as made by `doveadm pw`.
 *
 * A stored password is "{SCHEME}data", "{SCHEME.b64}data" or
 * "{SCHEME.hex}data" (the suffix, any case, overrides the scheme's own
 * encoding of binary data), a bare "$1$salt$hash" (always MD5-CRYPT, as
 * Dovecot reads it), or anything else, which is data of the passdb's
 * default scheme (scheme=..., CRYPT for passwd-file). Scheme names are
 * case-insensitive.
 *
 * Error texts are Dovecot's. They stay valid until the next call of a
 * password_*() function in the same thread. */
#ifndef ROOST_PASSWORD_SCHEME_H
#define ROOST_PASSWORD_SCHEME_H

#include "lib.h"
#include "pool.h"

/* Split a stored password into its scheme (as written, suffix included,
 * e.g. "sha.HEX"; default_scheme when there is no {} prefix) and its
 * data. A bare "$1$salt$hash$junk" is cut after the hash. *scheme_r is
 * NULL when there is no prefix and default_scheme is NULL. Both results
 * are allocated from pool. */
void password_split(pool_t pool, const char *stored,
		    const char *default_scheme, const char **scheme_r,
		    const char **data_r);

/* Check plaintext against a stored password. user is needed by schemes
 * that salt with it (DIGEST-MD5: "user@realm", the realm after the last
 * '@'). default_scheme NULL = a {SCHEME} prefix is required. Returns 1
 * match, 0 mismatch (*error_r = "Password mismatch"), -1 error with
 * *error_r the line the auth process logs: "Unknown scheme X",
 * "Password data is not valid for scheme X: <why>", "Invalid password in
 * passdb: <why>". */
int password_verify(const char *plaintext, const char *stored,
		    const char *default_scheme, const char *user,
		    const char **error_r);

/* Make a new password in scheme (".b64"/".hex" suffix allowed), with a
 * fresh salt: the "{SCHEME}..." string `doveadm pw -s SCHEME` prints,
 * scheme upper-cased. rounds 0 = the scheme's default; others are
 * clamped to the scheme's bounds (BLF-CRYPT/CRYPT 4..31, SHA*-CRYPT
 * 1000..999999999; PBKDF2 and ARGON2* take them as given, ARGON2* also
 * raise memory with them; SCRAM and the rest ignore them, as Dovecot
 * 2.3 does).
 * Returns NULL with *error_r for an unknown scheme ("Unknown scheme: X")
 * or a missing user. The result is malloc'd. */
char *password_generate(const char *plaintext, const char *scheme,
			const char *user, unsigned int rounds,
			const char **error_r);

/* Credentials for a SASL mechanism: turn a stored password into the raw
 * form wanted_scheme needs (auth/mech.h lists them): the stored data
 * decoded when the stored scheme is wanted_scheme or an alias of it
 * (HMAC-MD5 = CRAM-MD5), else generated from a plaintext scheme
 * (PLAIN, CLEAR, CLEARTEXT, PLAIN-TRUNC). wanted_scheme NULL or "" =
 * whatever is stored, decoded. Returns 1 ok; 0 when the stored scheme
 * can't give it, *error_r = "Requested X scheme, but we have only Y"
 * (Dovecot logs it as info); -1 error as for password_verify() (also
 * "Requested unknown scheme X"). *cred_r is malloc'd binary of *size_r
 * bytes with a NUL after them; wipe it (explicit_bzero) before free. */
int password_get_credentials(const char *stored, const char *default_scheme,
			     const char *wanted_scheme, const char *user,
			     unsigned char **cred_r, size_t *size_r,
			     const char **error_r);

/* The two steps of password_verify(), with the error texts `doveadm pw
 * -t` prints after "reverse decode check failed: " and "reverse password
 * verification check failed: ". */

/* Decode data as scheme gives it: returns 1 with *raw_r (malloc'd, NUL
 * after the bytes), 0 for an unknown scheme ("Unknown scheme"), -1 for
 * bad data ("Input isn't valid base64 encoded data", "Input length
 * isn't valid (3 instead of 20)"). */
int password_decode(const char *data, const char *scheme,
		    unsigned char **raw_r, size_t *size_r,
		    const char **error_r);
/* Check plaintext against decoded data: 1 match, 0 mismatch ("Password
 * mismatch"), -1 error ("SSHA password is too short", ...). */
int password_verify_raw(const char *plaintext, const char *scheme,
			const unsigned char *raw, size_t size,
			const char *user, const char **error_r);

/* Every scheme name this build supports, NULL-terminated, in the order
 * Dovecot 2.3's `doveadm pw -l` prints them. */
const char *const *password_schemes_list(void);
/* scheme may carry a .b64/.hex suffix. */
bool password_scheme_is_known(const char *scheme);
/* Same scheme, or two names of one generator (SHA = SHA1, CRAM-MD5 =
 * HMAC-MD5, PLAIN = CLEAR, CRYPT = BLF-CRYPT, ...); suffixes ignored. */
bool password_scheme_is_alias(const char *scheme1, const char *scheme2);
/* The scheme can only be generated or checked with a user name
 * (DIGEST-MD5). */
bool password_scheme_needs_user(const char *scheme);

/* Fuzzing and tests: refuse (as invalid data) stored passwords whose
 * work factor is above a cheap bound (bcrypt cost 6, 10000 rounds or
 * iterations, Argon2 t=4 and 1 MiB, crypt(3) methods without a cost we
 * check). Off by default. */
void password_schemes_limit_cost(bool limit);

#endif

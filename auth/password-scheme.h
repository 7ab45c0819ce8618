/* password-scheme.h - Dovecot's password schemes: "{SCHEME}data" strings
 * as stored in passwd-files, SQL, LDAP, and as made by `doveadm pw`. */
#ifndef ROOST_PASSWORD_SCHEME_H
#define ROOST_PASSWORD_SCHEME_H

#include "lib.h"

/* Split "{SCHEME}data" (or "{SCHEME.b64}"/"{SCHEME.hex}") from a stored
 * password. Without a {} prefix, default_scheme applies (passdb args
 * scheme=..., default "CRYPT" for passwd-file). Scheme names are
 * case-insensitive; the returned name is upper-case. */
void password_split(const char *stored, const char *default_scheme,
		    const char **scheme_r, const char **data_r);

/* Check plaintext against a stored password. user is needed by schemes
 * that salt with it (DIGEST-MD5). Returns 1 match, 0 mismatch, -1 error
 * ("Unknown scheme: X", "Invalid password format") with *error_r set. */
int password_verify(const char *plaintext, const char *stored,
		    const char *default_scheme, const char *user,
		    const char **error_r);

/* Make a new password in scheme, with a fresh salt: the "{SCHEME}..."
 * string `doveadm pw -s SCHEME` prints. rounds 0 = the default. Returns
 * NULL with *error_r for an unknown scheme. Result is malloc'd. */
char *password_generate(const char *plaintext, const char *scheme,
			const char *user, unsigned int rounds,
			const char **error_r);

/* Credentials for a SASL mechanism: turn a stored password into the raw
 * form wanted_scheme needs (e.g. CRAM-MD5 context from PLAIN, or the
 * stored CRAM-MD5 hash as is). Returns 1 ok, 0 when the stored scheme
 * can't give it (e.g. SHA512-CRYPT for CRAM-MD5), -1 error. *cred_r is
 * malloc'd binary of *size_r bytes. */
int password_get_credentials(const char *stored, const char *default_scheme,
			     const char *wanted_scheme, const char *user,
			     unsigned char **cred_r, size_t *size_r,
			     const char **error_r);

/* Every scheme name this build supports, NULL-terminated, in the order
 * `doveadm pw -l` prints them. */
const char *const *password_schemes_list(void);
bool password_scheme_is_known(const char *scheme);

#endif

/* fuzz_password_verify.c - libFuzzer harness for the password schemes:
 * arbitrary stored passwords ("{SCHEME.enc}data" or bare data of a
 * default scheme) checked against a plaintext, and turned into SASL
 * credentials. Input: one byte choosing the default scheme and the
 * wanted credentials, then "<plaintext>\n<stored>". Work factors above
 * a cheap bound (bcrypt cost, rounds, Argon2 memory) are refused, so a
 * run does not stall on one expensive hash. */
#include "lib.h"
#include "pool.h"
#include "password-scheme.h"

#include <stdlib.h>

#define MAX_INPUT 4096

static const char *const default_schemes[] = {
	NULL, "PLAIN", "CRYPT", "MD5", "SHA", "DIGEST-MD5", "PLAIN-TRUNC",
	"SCRAM-SHA-1", "OTP",
};
static const char *const wanted_schemes[] = {
	NULL, "", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
	"PLAIN", "NOPE",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *default_scheme, *wanted, *error, *scheme, *stored_data;
	char *plaintext, *stored, *nl;
	unsigned char *cred;
	size_t cred_size;
	pool_t pool;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	password_schemes_limit_cost(true);
	default_scheme = default_schemes[data[0] % N_ELEMENTS(default_schemes)];
	wanted = wanted_schemes[(data[0] >> 4) % N_ELEMENTS(wanted_schemes)];
	/* the API takes C strings: a NUL ends each part, as in a passdb */
	plaintext = i_strndup((const char *)data + 1, size - 1);
	nl = strchr(plaintext, '\n');
	if (nl == NULL) {
		stored = plaintext;
		plaintext = i_strdup("secret");
	} else {
		*nl = '\0';
		stored = i_strdup(nl + 1);
	}

	(void)password_verify(plaintext, stored, default_scheme,
			      "user@realm", &error);
	(void)password_verify(plaintext, stored, default_scheme, NULL, &error);
	if (password_get_credentials(stored, default_scheme, wanted,
				     "user@realm", &cred, &cred_size,
				     &error) > 0) {
		explicit_bzero(cred, cred_size);
		free(cred);
	}
	pool = pool_create("fuzz", 1024);
	password_split(pool, stored, default_scheme, &scheme, &stored_data);
	if (scheme != NULL &&
	    password_decode(stored_data, scheme, &cred, &cred_size,
			    &error) > 0) {
		(void)password_verify_raw(plaintext, scheme, cred, cred_size,
					  "u", &error);
		free(cred);
	}
	(void)password_scheme_is_alias(stored, wanted == NULL ? "" : wanted);
	pool_destroy(&pool);
	free(plaintext);
	free(stored);
	return 0;
}

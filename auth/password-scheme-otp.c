/* password-scheme-otp.c - the OTP scheme (RFC 2289 one-time passwords):
 * "<algo> <seq> <seed> <16 hex digits>", the hash of seed+passphrase,
 * folded to 64 bits and hashed seq more times. Algorithms md4, md5 and
 * sha1 (Dovecot's names); new entries use sha1, seq 1024 and a random
 * 16-digit hex seed, like Dovecot's. */
#include "lib.h"
#include "str.h"
#include "password-scheme-private.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <openssl/crypto.h>

#define OTP_HASH_LEN 8
#define OTP_SEED_MAX 16
#define OTP_NEW_SEQ 1024

enum otp_algo { OTP_MD4, OTP_MD5, OTP_SHA1 };
static const char *const otp_algo_names[] = { "md4", "md5", "sha1" };

struct otp_state {
	enum otp_algo algo;
	int seq;
	char seed[OTP_SEED_MAX + 1];
	unsigned char hash[OTP_HASH_LEN];
};

/* One OTP step: digest data and fold it to 64 bits. The SHA-1 fold
 * reverses each 32-bit half, as the RFC 2289 reference code (and so
 * Dovecot) does on little-endian hosts. */
static void otp_step(enum otp_algo algo, const void *data, size_t size,
		     unsigned char out[OTP_HASH_LEN])
{
	unsigned char d[20];
	unsigned int len;

	switch (algo) {
	case OTP_MD4:
		password_md4(data, size, d);
		break;
	case OTP_MD5:
		password_digest("MD5", data, size, d, &len);
		break;
	case OTP_SHA1:
		password_digest("SHA1", data, size, d, &len);
		for (unsigned int i = 0; i < 4; i++) {
			out[3 - i] = d[i] ^ d[8 + i] ^ d[16 + i];
			out[7 - i] = d[4 + i] ^ d[12 + i];
		}
		explicit_bzero(d, sizeof(d));
		return;
	}
	for (unsigned int i = 0; i < OTP_HASH_LEN; i++)
		out[i] = d[i] ^ d[i + 8];
	explicit_bzero(d, sizeof(d));
}

static void otp_hash(struct otp_state *state, const char *passphrase)
{
	string_t *first = str_new(strlen(passphrase) + OTP_SEED_MAX + 1);

	str_append(first, state->seed);
	str_append(first, passphrase);
	otp_step(state->algo, str_c(first), str_len(first), state->hash);
	password_str_free_secret(&first);
	for (int i = 0; i < state->seq; i++)
		otp_step(state->algo, state->hash, OTP_HASH_LEN, state->hash);
}

static bool otp_is_lws(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse a passdb entry the way Dovecot's lib-otp does: algorithm name,
 * a decimal seq, up to 16 alphanumerics of seed (lower-cased), one
 * space, 16 hex digits (blanks between them allowed). */
static bool otp_parse(const char *p, struct otp_state *state)
{
	const char *end = p;
	unsigned int i, digits = 0;
	long long seq = 0;
	string_t *hex;
	bool ok;

	while (*end != '\0' && !otp_is_lws(*end))
		end++;
	if (*end == '\0')
		return false;
	for (i = 0; i < N_ELEMENTS(otp_algo_names); i++) {
		if (strlen(otp_algo_names[i]) == (size_t)(end - p) &&
		    strncmp(otp_algo_names[i], p, (size_t)(end - p)) == 0)
			break;
	}
	if (i == N_ELEMENTS(otp_algo_names))
		return false;
	state->algo = (enum otp_algo)i;
	p = end + 1;
	/* a negative seq would run the hash ~4 billion times in Dovecot */
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		seq = seq * 10 + (*p - '0');
		if (seq > INT_MAX)
			return false;
	}
	if (digits == 0 || !otp_is_lws(*p))
		return false;
	state->seq = (int)seq;
	p++;
	for (i = 0; i < OTP_SEED_MAX && isalnum((unsigned char)*p); i++, p++)
		state->seed[i] = (char)tolower((unsigned char)*p);
	state->seed[i] = '\0';
	if (*p++ != ' ')
		return false;
	hex = str_new(OTP_HASH_LEN * 2 + 1);
	for (; *p != '\0' && str_len(hex) < OTP_HASH_LEN * 2; p++) {
		if (isxdigit((unsigned char)*p))
			str_append_c(hex, *p);
		else if (!otp_is_lws(*p))
			break;
	}
	ok = str_len(hex) == OTP_HASH_LEN * 2;
	str_free(&hex);
	return ok;
}

static void otp_print(const struct otp_state *state, string_t *out)
{
	str_printfa(out, "%s %d %s ", otp_algo_names[state->algo], state->seq,
		    state->seed);
	password_hex_append(out, state->hash, OTP_HASH_LEN, false);
}

static int otp_generate(const char *plaintext,
			const struct password_params *p ATTR_UNUSED,
			string_t *out, const char **error_r ATTR_UNUSED)
{
	struct otp_state state;
	unsigned char rnd[OTP_SEED_MAX / 2];
	string_t *seed = str_new(OTP_SEED_MAX + 1);

	memset(&state, 0, sizeof(state));
	state.algo = OTP_SHA1;
	state.seq = OTP_NEW_SEQ;
	password_random_fill(rnd, sizeof(rnd));
	password_hex_append(seed, rnd, sizeof(rnd), false);
	memcpy(state.seed, str_c(seed), OTP_SEED_MAX);
	str_free(&seed);
	otp_hash(&state, plaintext);
	otp_print(&state, out);
	explicit_bzero(&state, sizeof(state));
	return 0;
}

/* Recompute the entry from its own algo, seq and seed and compare the
 * whole text case-insensitively (Dovecot's check). */
static int otp_verify(const char *plaintext,
		      const struct password_params *p ATTR_UNUSED,
		      const unsigned char *raw, size_t size,
		      const char **error_r)
{
	char *stored = i_strndup((const char *)raw, size);
	struct otp_state state;
	string_t *generated;
	int ret;

	memset(&state, 0, sizeof(state));
	if (!otp_parse(stored, &state)) {
		free(stored);
		*error_r = "Invalid OTP data in passdb";
		return -1;
	}
	if (password_cost_limited && state.seq > PASSWORD_LIMIT_ROUNDS) {
		free(stored);
		*error_r = "OTP sequence is above the limit";
		return -1;
	}
	otp_hash(&state, plaintext);
	generated = str_new(64);
	otp_print(&state, generated);
	/* ASCII case-folded copies, compared in constant time */
	str_lcase(generated);
	for (char *c = stored; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	ret = password_mem_equals(str_c(generated), str_len(generated),
				  stored, strlen(stored)) ? 1 : 0;
	str_free(&generated);
	explicit_bzero(&state, sizeof(state));
	free(stored);
	return ret;
}

const struct password_scheme password_scheme_otp = {
	"OTP", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	otp_verify, otp_generate };

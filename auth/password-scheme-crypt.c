/* password-scheme-crypt.c - the crypt(3) schemes through libxcrypt:
 * CRYPT, DES-CRYPT, MD5-CRYPT (and MD5, which is MD5-CRYPT or PLAIN-MD5),
 * SHA256-CRYPT, SHA512-CRYPT, BLF-CRYPT. As in Dovecot 2.3, every
 * *-CRYPT scheme checks any crypt(3) string libxcrypt knows ($1$, $5$,
 * $6$, $2y$, $y$, DES ...), and CRYPT makes bcrypt hashes. */
#include "lib.h"
#include "str.h"
#include "password-scheme-private.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>

#define BLF_ROUNDS_DEFAULT 5
#define BLF_ROUNDS_MIN 4
#define BLF_ROUNDS_MAX 31
#define BLF_KEY_MAX 72 /* bcrypt ignores what follows */
#define BLF_SETTING_LEN (7 + 22 + 1) /* "$2y$05$", salt, 1 more */
#define SHA2_ROUNDS_DEFAULT 5000
#define SHA2_ROUNDS_MIN 1000
#define SHA2_ROUNDS_MAX 999999999
#define SHA2_SALT_LEN 16
#define MD5_SALT_LEN 8
#define DES_SALT_LEN 2

/* crypt(3) of plaintext with setting; NULL if libxcrypt refuses the
 * setting (or a plaintext of CRYPT_MAX_PASSPHRASE_SIZE bytes or more).
 * The result is malloc'd; libxcrypt's buffer is wiped. */
static char *crypt_run(const char *plaintext, const char *setting)
{
	struct crypt_data *data = i_new(struct crypt_data, 1);
	char *result, *copy;
	int saved_errno;

	if (strncmp(setting, "$2", 2) == 0 &&
	    strlen(plaintext) > BLF_KEY_MAX) {
		/* bcrypt uses 72 bytes; Dovecot's own bcrypt takes longer
		   passwords that libxcrypt would refuse */
		memcpy(data->input, plaintext, BLF_KEY_MAX);
		data->input[BLF_KEY_MAX] = '\0';
		plaintext = data->input;
	}
	errno = 0;
	result = crypt_rn(plaintext, setting, data, sizeof(*data));
	copy = result == NULL || result[0] == '*' ? NULL : i_strdup(result);
	saved_errno = errno;
	explicit_bzero(data, sizeof(*data));
	free(data);
	errno = saved_errno;
	return copy;
}

/* With the cost limit on: true if setting is a method and cost we allow
 * (bcrypt <= 6, $5$/$6$ rounds <= 10000, $1$, DES). */
static bool crypt_cost_ok(const char *setting)
{
	unsigned int n;
	const char *end;

	if (!password_cost_limited)
		return true;
	if (setting[0] != '$')
		return setting[0] != '_';
	if (setting[1] == '2' && setting[2] != '\0' && setting[3] == '$')
		return strlen(setting) > 6 && setting[6] == '$' &&
			password_str_to_uint(setting + 4, 2, &n) &&
			n <= PASSWORD_LIMIT_BCRYPT_COST;
	if (strncmp(setting, "$1$", 3) == 0)
		return true;
	if (strncmp(setting, "$5$", 3) != 0 && strncmp(setting, "$6$", 3) != 0)
		return false;
	if (strncmp(setting + 3, "rounds=", 7) != 0)
		return true;
	end = strchr(setting + 10, '$');
	return end != NULL &&
		password_str_to_uint(setting + 10, (size_t)(end - setting - 10),
				     &n) && n <= PASSWORD_LIMIT_ROUNDS;
}

static int crypt_compare(const char *plaintext, const char *stored,
			 const char **error_r)
{
	char *crypted;
	int ret;

	if (!crypt_cost_ok(stored)) {
		*error_r = "crypt() cost is above the limit";
		return -1;
	}
	crypted = crypt_run(plaintext, stored);
	ret = crypted != NULL && password_mem_equals(crypted, strlen(crypted),
						     stored, strlen(stored)) ?
		1 : 0;
	i_free(crypted);
	return ret;
}

static int blf_verify(const char *plaintext,
		      const struct password_params *p ATTR_UNUSED,
		      const unsigned char *raw, size_t size,
		      const char **error_r)
{
	/* stored data may hold a NUL: it ends the string, as in Dovecot */
	char *stored = i_strndup((const char *)raw, size);
	char *crypted;
	int ret;

	if (stored[0] == '\0') {
		/* crypt() of an empty setting would be an empty match */
		ret = 0;
	} else if (strlen(stored) < BLF_SETTING_LEN ||
		   strncmp(stored, "$2", 2) != 0 ||
		   stored[2] < 'a' || stored[2] > 'z' || stored[3] != '$') {
		*error_r = "Password is not blowfish password";
		ret = -1;
	} else if (!crypt_cost_ok(stored)) {
		*error_r = "crypt() cost is above the limit";
		ret = -1;
	} else if ((crypted = crypt_run(plaintext, stored)) == NULL) {
		/* Dovecot's own bcrypt code names itself here */
		*error_r = password_error("crypt_blowfish_rn failed: %s",
					  strerror(errno == 0 ? EINVAL : errno));
		ret = -1;
	} else {
		ret = password_mem_equals(crypted, strlen(crypted), stored,
					  strlen(stored)) ? 1 : 0;
		free(crypted);
	}
	free(stored);
	return ret;
}

static int crypt_verify(const char *plaintext, const struct password_params *p,
			const unsigned char *raw, size_t size,
			const char **error_r)
{
	char *stored;
	int ret;

	if (size > 4 && raw[0] == '$' && raw[1] == '2' && raw[3] == '$')
		return blf_verify(plaintext, p, raw, size, error_r);
	stored = i_strndup((const char *)raw, size);
	/* an empty setting would give an empty "hash": no match */
	ret = stored[0] == '\0' ? 0 : crypt_compare(plaintext, stored, error_r);
	free(stored);
	return ret;
}

/* MD5-CRYPT only ever matches a "$1$salt$hash" string. */
static int md5_crypt_verify(const char *plaintext,
			    const struct password_params *p ATTR_UNUSED,
			    const unsigned char *raw, size_t size,
			    const char **error_r)
{
	char *stored = i_strndup((const char *)raw, size);
	int ret = strncmp(stored, "$1$", 3) != 0 ? 0 :
		crypt_compare(plaintext, stored, error_r);

	free(stored);
	return ret;
}

/* {MD5} is MD5-CRYPT when it starts with $1$, else PLAIN-MD5 (hex or
 * base64). */
static int md5_verify(const char *plaintext, const struct password_params *p,
		      const unsigned char *raw, size_t size,
		      const char **error_r)
{
	char *stored = i_strndup((const char *)raw, size);
	unsigned char *md5;
	size_t md5_size;
	const char *error = NULL;
	int ret;

	if (strncmp(stored, "$1$", 3) == 0) {
		ret = crypt_compare(plaintext, stored, error_r);
	} else if (password_decode(stored, "PLAIN-MD5", &md5, &md5_size,
				   &error) <= 0) {
		*error_r = "Not a valid MD5-CRYPT or PLAIN-MD5 password";
		ret = -1;
	} else {
		ret = password_verify_raw(plaintext, "PLAIN-MD5", md5,
					  md5_size, p->user, error_r);
		free(md5);
	}
	free(stored);
	return ret;
}

/* Only a plaintext too long for libxcrypt fails here: Dovecot would
 * write the useless hash "*0" then. */
static int crypt_generate_setting(const char *plaintext, const char *setting,
				  string_t *out, const char **error_r)
{
	char *crypted = crypt_run(plaintext, setting);

	if (crypted == NULL) {
		*error_r = errno == ERANGE ?
			password_error("crypt() failed: Password is longer "
				       "than %d bytes",
				       CRYPT_MAX_PASSPHRASE_SIZE - 1) :
			password_error("crypt() failed: %s",
				       strerror(errno == 0 ? EINVAL : errno));
		return -1;
	}
	str_append(out, crypted);
	explicit_bzero(crypted, strlen(crypted));
	free(crypted);
	return 0;
}

static int blf_generate(const char *plaintext, const struct password_params *p,
			string_t *out, const char **error_r)
{
	unsigned int rounds = p->rounds;
	unsigned char rnd[16];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (rounds == 0)
		rounds = BLF_ROUNDS_DEFAULT;
	rounds = MAX(BLF_ROUNDS_MIN, MIN(rounds, BLF_ROUNDS_MAX));
	password_random_fill(rnd, sizeof(rnd));
	if (crypt_gensalt_rn("$2y$", rounds, (const char *)rnd, sizeof(rnd),
			     setting, sizeof(setting)) == NULL)
		i_fatal("crypt_gensalt($2y$, %u) failed", rounds);
	return crypt_generate_setting(plaintext, setting, out, error_r);
}

static int sha2_generate(const char *magic, const char *plaintext,
			 unsigned int rounds, string_t *out, const char **error_r)
{
	string_t *setting = str_new(64);
	int ret;

	if (rounds == 0)
		rounds = SHA2_ROUNDS_DEFAULT;
	rounds = MAX(SHA2_ROUNDS_MIN, MIN(rounds, SHA2_ROUNDS_MAX));
	str_append(setting, magic);
	if (rounds != SHA2_ROUNDS_DEFAULT)
		str_printfa(setting, "rounds=%u$", rounds);
	password_salt_append(setting, SHA2_SALT_LEN);
	ret = crypt_generate_setting(plaintext, str_c(setting), out,
				     error_r);
	str_free(&setting);
	return ret;
}

static int sha256_crypt_generate(const char *plaintext,
				 const struct password_params *p,
				 string_t *out, const char **error_r)
{
	return sha2_generate("$5$", plaintext, p->rounds, out, error_r);
}

static int sha512_crypt_generate(const char *plaintext,
				 const struct password_params *p,
				 string_t *out, const char **error_r)
{
	return sha2_generate("$6$", plaintext, p->rounds, out, error_r);
}

static int md5_crypt_generate(const char *plaintext,
			      const struct password_params *p ATTR_UNUSED,
			      string_t *out, const char **error_r)
{
	string_t *setting = str_new(16);
	int ret;

	str_append(setting, "$1$");
	password_salt_append(setting, MD5_SALT_LEN);
	ret = crypt_generate_setting(plaintext, str_c(setting), out,
				     error_r);
	str_free(&setting);
	return ret;
}

static int des_crypt_generate(const char *plaintext,
			      const struct password_params *p ATTR_UNUSED,
			      string_t *out, const char **error_r)
{
	string_t *setting = str_new(8);
	int ret;

	password_salt_append(setting, DES_SALT_LEN);
	ret = crypt_generate_setting(plaintext, str_c(setting), out,
				     error_r);
	str_free(&setting);
	return ret;
}

const struct password_scheme password_scheme_crypt = {
	"CRYPT", PW_ENCODING_NONE, 0, PW_FAMILY_BLF_CRYPT,
	crypt_verify, blf_generate };
const struct password_scheme password_scheme_blf_crypt = {
	"BLF-CRYPT", PW_ENCODING_NONE, 0, PW_FAMILY_BLF_CRYPT,
	blf_verify, blf_generate };
const struct password_scheme password_scheme_des_crypt = {
	"DES-CRYPT", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	crypt_verify, des_crypt_generate };
const struct password_scheme password_scheme_sha256_crypt = {
	"SHA256-CRYPT", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	crypt_verify, sha256_crypt_generate };
const struct password_scheme password_scheme_sha512_crypt = {
	"SHA512-CRYPT", PW_ENCODING_NONE, 0, PW_FAMILY_NONE,
	crypt_verify, sha512_crypt_generate };
const struct password_scheme password_scheme_md5_crypt = {
	"MD5-CRYPT", PW_ENCODING_NONE, 0, PW_FAMILY_MD5_CRYPT,
	md5_crypt_verify, md5_crypt_generate };
const struct password_scheme password_scheme_md5 = {
	"MD5", PW_ENCODING_NONE, 0, PW_FAMILY_MD5_CRYPT,
	md5_verify, md5_crypt_generate };

/* check_mech.c - unit tests of the SASL mechanisms (auth/mech*.c), each
 * driven through a fake mech_ops: the RFC 2195, 2831, 5802 and 7677
 * exchanges, Dovecot's credential formats (made by `doveadm pw`), the
 * request state rules, and malformed input that must fail, not crash. */
#include "suites.h"
#include "mech.h"
#include "base64.h"
#include "str.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>

/* ---- the fake caller ---- */

struct fake {
	/* behaviour */
	bool refuse_user;	/* set_username fails with refuse_error */
	const char *refuse_error;
	const char *password;	/* verify_plain: OK if equal, else MISMATCH */
	enum passdb_result plain_result; /* used when password is NULL */
	const void *cred;	/* lookup_credentials answer */
	size_t cred_size;
	enum passdb_result cred_result;
	bool async;		/* answer lookups only in fake_answer() */
	const char *cb_type;	/* channel binding the connection has */
	const void *cb_data;
	size_t cb_size;

	/* what happened */
	unsigned int continues, lookups;
	string_t *challenge;	/* the last reply_continue data */
	bool succeeded, failed;
	const char *fail_reason;
	string_t *success_data;
	char *user, *authzid, *verified_password, *scheme;
	bool pending_plain, pending_cred;
	string_t *log;

	pool_t pool;
	struct mech_settings set;
	struct mech_request *req;
};

static struct fake *fake_of(struct mech_request *req)
{
	return req->context;
}

static bool fake_set_username(struct mech_request *req, const char *username,
			      const char *authzid, const char **error_r)
{
	struct fake *f = fake_of(req);

	free(f->user);
	free(f->authzid);
	f->user = i_strdup(username);
	f->authzid = authzid == NULL ? NULL : i_strdup(authzid);
	if (f->refuse_user) {
		*error_r = f->refuse_error;
		return false;
	}
	return true;
}

static void fake_answer_plain(struct fake *f)
{
	enum passdb_result result = f->plain_result;

	if (f->password != NULL) {
		result = strcmp(f->password, f->verified_password) == 0 ?
			PASSDB_RESULT_OK : PASSDB_RESULT_PASSWORD_MISMATCH;
	}
	f->pending_plain = false;
	mech_verify_plain_result(f->req, result);
}

static void fake_answer_cred(struct fake *f)
{
	f->pending_cred = false;
	mech_credentials_result(f->req, f->cred_result, f->cred, f->cred_size);
}

static void fake_verify_plain(struct mech_request *req, const char *password)
{
	struct fake *f = fake_of(req);

	f->lookups++;
	free(f->verified_password);
	f->verified_password = i_strdup(password);
	f->pending_plain = true;
	if (!f->async)
		fake_answer_plain(f);
}

static void fake_lookup_credentials(struct mech_request *req,
				    const char *scheme)
{
	struct fake *f = fake_of(req);

	f->lookups++;
	free(f->scheme);
	f->scheme = i_strdup(scheme);
	f->pending_cred = true;
	if (!f->async)
		fake_answer_cred(f);
}

static void fake_reply_continue(struct mech_request *req,
				const unsigned char *data, size_t size)
{
	struct fake *f = fake_of(req);

	ck_assert(!f->succeeded && !f->failed);
	f->continues++;
	str_clear(f->challenge);
	str_append_n(f->challenge, data, size);
}

static void fake_success(struct mech_request *req, const unsigned char *data,
			 size_t size)
{
	struct fake *f = fake_of(req);

	ck_assert(!f->succeeded && !f->failed);
	f->succeeded = true;
	str_append_n(f->success_data, data, size);
}

static void fake_fail(struct mech_request *req, const char *reason)
{
	struct fake *f = fake_of(req);

	ck_assert(!f->succeeded && !f->failed);
	f->failed = true;
	f->fail_reason = reason;
}

static const unsigned char *fake_channel_binding(struct mech_request *req,
						 const char *type,
						 size_t *size_r)
{
	struct fake *f = fake_of(req);

	if (f->cb_type == NULL || strcmp(f->cb_type, type) != 0)
		return NULL;
	*size_r = f->cb_size;
	return f->cb_data;
}

static void fake_log(struct mech_request *req, enum log_type type,
		     const char *user, const char *msg)
{
	struct fake *f = fake_of(req);

	for (const char *p = req->mech->name; *p != '\0'; p++)
		str_append_c(f->log, (char)(*p >= 'A' && *p <= 'Z' ?
					    *p - 'A' + 'a' : *p));
	str_printfa(f->log, "(%s): %s%s\n", user == NULL ? "?" : user,
		    type == LOG_TYPE_ERROR ? "Error: " : "", msg);
}

static const struct mech_ops fake_ops = {
	.set_username = fake_set_username,
	.verify_plain = fake_verify_plain,
	.lookup_credentials = fake_lookup_credentials,
	.reply_continue = fake_reply_continue,
	.success = fake_success,
	.fail = fake_fail,
	.channel_binding = fake_channel_binding,
	.log = fake_log,
};

static struct fake *fake_new(void)
{
	struct fake *f = i_new(struct fake, 1);

	f->pool = pool_create("mech test", 1024);
	f->challenge = str_new(64);
	f->success_data = str_new(64);
	f->log = str_new(256);
	f->refuse_error = "Invalid username";
	f->plain_result = PASSDB_RESULT_OK;
	f->cred_result = PASSDB_RESULT_OK;
	f->set.anonymous_username = "anonymous";
	f->set.hostname = "mail.example.org";
	return f;
}

static void fake_start(struct fake *f, const char *mech_name,
		       const char *nonce)
{
	const struct mech_module *mech = mech_module_find(mech_name);

	ck_assert_msg(mech != NULL, "no mechanism %s", mech_name);
	f->req = mech_request_new(mech, f->pool, &fake_ops, &f->set, f);
	f->req->test_nonce = nonce;
}

static void fake_free(struct fake **_f)
{
	struct fake *f = *_f;

	mech_request_free(&f->req);
	pool_destroy(&f->pool);
	str_free(&f->challenge);
	str_free(&f->success_data);
	str_free(&f->log);
	free(f->user);
	free(f->authzid);
	free(f->verified_password);
	free(f->scheme);
	free(f);
	*_f = NULL;
}

static void step_initial(struct fake *f, const void *data, size_t size)
{
	f->req->mech->auth_initial(f->req, data, size);
}

static void step(struct fake *f, const void *data, size_t size)
{
	f->req->mech->auth_continue(f->req, data, size);
}

#define STEP_STR(f, s) step((f), (s), strlen(s))
#define STEP_LIT(f, s) step((f), (s), sizeof(s) - 1)

static void assert_failed(struct fake *f)
{
	ck_assert_msg(f->failed && !f->succeeded,
		      "expected failure (log: %s)", str_c(f->log));
	ck_assert(f->req->state == MECH_STATE_DONE);
}

static void assert_succeeded(struct fake *f, const char *data)
{
	ck_assert_msg(f->succeeded && !f->failed,
		      "expected success (log: %s)", str_c(f->log));
	ck_assert_str_eq(str_c(f->success_data), data);
	ck_assert(f->req->state == MECH_STATE_DONE);
}

static void hex_decode(const char *hex, unsigned char *out)
{
	for (size_t i = 0; hex[i * 2] != '\0'; i++) {
		unsigned int byte;

		ck_assert_int_eq(sscanf(hex + i * 2, "%2x", &byte), 1);
		out[i] = (unsigned char)byte;
	}
}

/* ---- registry ---- */

START_TEST(test_mech_registry)
{
	static const char *const names[] = {
		"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1",
		"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS",
		"EXTERNAL", "ANONYMOUS",
	};
	const struct mech_module *const *list = mech_modules_list();
	unsigned int count = 0;

	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		const struct mech_module *m = mech_module_find(names[i]);

		ck_assert_ptr_nonnull(m);
		ck_assert_str_eq(m->name, names[i]);
	}
	while (list[count] != NULL)
		count++;
	ck_assert_uint_eq(count, N_ELEMENTS(names));
	ck_assert_ptr_eq(mech_module_find("cram-md5"),
			 mech_module_find("CRAM-MD5"));
	ck_assert_ptr_null(mech_module_find("NTLM"));
	ck_assert_ptr_null(mech_module_find("PLAIN "));
	ck_assert_ptr_null(mech_module_find(""));
	/* Dovecot's MECH line flags */
	ck_assert_int_eq(mech_module_find("PLAIN")->flags,
			 MECH_FLAG_PLAINTEXT);
	ck_assert_int_eq(mech_module_find("CRAM-MD5")->flags,
			 MECH_FLAG_DICTIONARY | MECH_FLAG_ACTIVE);
	ck_assert_int_eq(mech_module_find("DIGEST-MD5")->flags,
			 MECH_FLAG_DICTIONARY | MECH_FLAG_ACTIVE |
			 MECH_FLAG_MUTUAL_AUTH);
	ck_assert_int_eq(mech_module_find("SCRAM-SHA-256")->flags,
			 MECH_FLAG_MUTUAL_AUTH);
	ck_assert_int_eq(mech_module_find("SCRAM-SHA-1-PLUS")->flags,
			 MECH_FLAG_MUTUAL_AUTH | MECH_FLAG_CHANNEL_BINDING);
	ck_assert_int_eq(mech_module_find("ANONYMOUS")->flags,
			 MECH_FLAG_ANONYMOUS);
	ck_assert_int_eq(mech_module_find("EXTERNAL")->flags, 0);
	ck_assert(mech_module_find("SCRAM-SHA-1")->needs_credentials);
	ck_assert(!mech_module_find("LOGIN")->needs_credentials);
}
END_TEST

/* ---- PLAIN ---- */

START_TEST(test_plain_ok)
{
	struct fake *f = fake_new();

	f->password = "secret";
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "\0alice\0secret", 13);
	assert_succeeded(f, "");
	ck_assert_str_eq(f->user, "alice");
	ck_assert_ptr_null(f->authzid);
	ck_assert_str_eq(f->verified_password, "secret");
	ck_assert_uint_eq(f->continues, 0);
	fake_free(&f);
}
END_TEST

START_TEST(test_plain_no_initial_response)
{
	struct fake *f = fake_new();

	f->password = "secret";
	fake_start(f, "PLAIN", NULL);
	step_initial(f, NULL, 0);
	ck_assert_uint_eq(f->continues, 1);
	ck_assert_uint_eq(str_len(f->challenge), 0);
	ck_assert(!f->succeeded && !f->failed);
	step(f, "\0alice\0secret", 13);
	assert_succeeded(f, "");
	fake_free(&f);
}
END_TEST

START_TEST(test_plain_authzid)
{
	struct fake *f = fake_new();

	/* authzid == authcid is no master login */
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "dave@example.com\0dave@example.com\0secret", 40);
	assert_succeeded(f, "");
	ck_assert_str_eq(f->user, "dave@example.com");
	ck_assert_ptr_null(f->authzid);
	fake_free(&f);

	/* authzid != authcid: master login, refused without master passdb */
	f = fake_new();
	f->refuse_user = true;
	f->refuse_error = "login user: Master user login attempted without "
		"master passdbs";
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "bob\0alice\0secret", 16);
	assert_failed(f);
	ck_assert_ptr_null(f->fail_reason);
	ck_assert_str_eq(f->user, "alice");
	ck_assert_str_eq(f->authzid, "bob");
	ck_assert_uint_eq(f->lookups, 0);
	ck_assert_str_eq(str_c(f->log), "plain(alice): login user: Master "
			 "user login attempted without master passdbs\n");
	fake_free(&f);

	/* and allowed with one */
	f = fake_new();
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "bob\0alice\0secret", 16);
	assert_succeeded(f, "");
	ck_assert_str_eq(f->authzid, "bob");
	fake_free(&f);
}
END_TEST

START_TEST(test_plain_results)
{
	struct fake *f = fake_new();

	f->password = "secret";
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "\0alice\0wrong", 12);
	assert_failed(f);
	ck_assert_ptr_null(f->fail_reason);
	fake_free(&f);

	/* empty password goes to the passdb (Dovecot does so) */
	f = fake_new();
	f->password = "secret";
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "\0alice\0", 7);
	assert_failed(f);
	ck_assert_str_eq(f->verified_password, "");
	fake_free(&f);

	f = fake_new();
	f->plain_result = PASSDB_RESULT_INTERNAL_FAILURE;
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "\0alice\0secret", 13);
	assert_failed(f);
	ck_assert_str_eq(f->fail_reason, MECH_FAIL_CODE_TEMP);
	fake_free(&f);

	f = fake_new();
	f->plain_result = PASSDB_RESULT_USER_DISABLED;
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "\0alice\0secret", 13);
	assert_failed(f);
	ck_assert_ptr_null(f->fail_reason);
	fake_free(&f);

	/* a refused user name fails before any passdb call */
	f = fake_new();
	f->refuse_user = true;
	f->refuse_error = "Empty username";
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "\0\0secret", 8);
	assert_failed(f);
	ck_assert_uint_eq(f->lookups, 0);
	ck_assert_str_eq(str_c(f->log), "plain(?): Empty username\n");
	fake_free(&f);
}
END_TEST

START_TEST(test_plain_async)
{
	struct fake *f = fake_new();

	f->async = true;
	f->password = "secret";
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "\0alice\0secret", 13);
	ck_assert(f->pending_plain);
	ck_assert(f->req->state == MECH_STATE_LOOKUP);
	ck_assert(!f->succeeded && !f->failed);
	fake_answer_plain(f);
	assert_succeeded(f, "");
	fake_free(&f);
}
END_TEST

/* ---- LOGIN ---- */

START_TEST(test_login_ok)
{
	struct fake *f = fake_new();

	f->password = "secret";
	fake_start(f, "LOGIN", NULL);
	step_initial(f, NULL, 0);
	ck_assert_str_eq(str_c(f->challenge), "Username:");
	STEP_LIT(f, "alice");
	ck_assert_str_eq(str_c(f->challenge), "Password:");
	ck_assert_str_eq(f->user, "alice");
	ck_assert_uint_eq(f->lookups, 0);
	STEP_LIT(f, "secret");
	assert_succeeded(f, "");
	ck_assert_uint_eq(f->continues, 2);
	fake_free(&f);

	/* an empty initial response is no user name yet */
	f = fake_new();
	fake_start(f, "LOGIN", NULL);
	step_initial(f, "", 0);
	ck_assert_str_eq(str_c(f->challenge), "Username:");
	fake_free(&f);
}
END_TEST

START_TEST(test_login_initial_response)
{
	struct fake *f = fake_new();

	f->password = "secret";
	fake_start(f, "LOGIN", NULL);
	step_initial(f, "alice", 5);
	ck_assert_str_eq(str_c(f->challenge), "Password:");
	ck_assert_uint_eq(f->continues, 1);
	STEP_LIT(f, "wrong");
	assert_failed(f);
	fake_free(&f);
}
END_TEST

/* ---- CRAM-MD5 ---- */

/* doveadm pw -s CRAM-MD5 -p tanstaaftanstaaf */
static const char cram_tim_hex[] =
	"d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b";
static unsigned char cram_tim[32];

static struct fake *cram_start(const char *challenge)
{
	struct fake *f = fake_new();

	hex_decode(cram_tim_hex, cram_tim);
	f->cred = cram_tim;
	f->cred_size = sizeof(cram_tim);
	fake_start(f, "CRAM-MD5", challenge);
	step_initial(f, NULL, 0);
	return f;
}

START_TEST(test_cram_md5_rfc2195)
{
	struct fake *f =
		cram_start("<1896.697170952@postoffice.reston.mci.net>");

	ck_assert_str_eq(str_c(f->challenge),
			 "<1896.697170952@postoffice.reston.mci.net>");
	STEP_LIT(f, "tim b913a602c7eda7a495b4e6e7334d3890");
	assert_succeeded(f, "");
	ck_assert_str_eq(f->user, "tim");
	ck_assert_str_eq(f->scheme, "CRAM-MD5");
	fake_free(&f);

	/* user names may hold spaces: the last one separates */
	f = cram_start("<1896.697170952@postoffice.reston.mci.net>");
	STEP_LIT(f, "tim smith b913a602c7eda7a495b4e6e7334d3890");
	assert_succeeded(f, "");
	ck_assert_str_eq(f->user, "tim smith");
	fake_free(&f);
}
END_TEST

START_TEST(test_cram_md5_random_challenge)
{
	struct fake *f = cram_start(NULL);
	const char *c = str_c(f->challenge), *at;
	unsigned char md[16];
	unsigned int len = 0;
	char response[64];

	/* "<16 digits.unixtime@hostname>" like Dovecot */
	ck_assert_int_eq(c[0], '<');
	ck_assert_uint_eq(strspn(c + 1, "0123456789"), 16);
	ck_assert_int_eq(c[17], '.');
	at = strchr(c, '@');
	ck_assert_ptr_nonnull(at);
	ck_assert_uint_ge(strspn(c + 18, "0123456789"), 10);
	ck_assert_str_eq(at, "@mail.example.org>");

	/* a real client's HMAC of it with the password */
	HMAC(EVP_md5(), "tanstaaftanstaaf", 16, (const unsigned char *)c,
	     strlen(c), md, &len);
	ck_assert_uint_eq(len, 16);
	strcpy(response, "tim ");
	for (unsigned int i = 0; i < 16; i++)
		sprintf(response + 4 + i * 2, "%02x", md[i]);
	STEP_STR(f, response);
	assert_succeeded(f, "");
	fake_free(&f);

	/* two challenges differ */
	struct fake *f1 = cram_start(NULL), *f2 = cram_start(NULL);

	ck_assert_str_ne(str_c(f1->challenge), str_c(f2->challenge));
	fake_free(&f1);
	fake_free(&f2);
}
END_TEST

START_TEST(test_cram_md5_wrong)
{
	struct fake *f = cram_start("<1896.697170952@postoffice.reston.mci.net>");

	STEP_LIT(f, "tim b913a602c7eda7a495b4e6e7334d3891");
	assert_failed(f);
	ck_assert_str_eq(str_c(f->log), "cram-md5(tim): Password mismatch\n");
	fake_free(&f);

	/* Dovecot compares lower-case hex only */
	f = cram_start("<1896.697170952@postoffice.reston.mci.net>");
	STEP_LIT(f, "tim B913A602C7EDA7A495B4E6E7334D3890");
	assert_failed(f);
	fake_free(&f);

	/* credentials that are no CRAM-MD5 context */
	f = cram_start("<1896.697170952@postoffice.reston.mci.net>");
	f->cred_size = 16;
	STEP_LIT(f, "tim b913a602c7eda7a495b4e6e7334d3890");
	assert_failed(f);
	ck_assert_str_eq(str_c(f->log),
			 "cram-md5(tim): Error: invalid credentials length\n");
	fake_free(&f);

	f = cram_start("<1896.697170952@postoffice.reston.mci.net>");
	f->cred_result = PASSDB_RESULT_SCHEME_NOT_AVAILABLE;
	f->cred_size = 0;
	STEP_LIT(f, "tim b913a602c7eda7a495b4e6e7334d3890");
	assert_failed(f);
	fake_free(&f);
}
END_TEST

/* ---- DIGEST-MD5 ---- */

/* doveadm pw -s DIGEST-MD5 -u chris@elwood.innosoft.com -p secret */
static const char digest_chris_hex[] = "eb5a750053e4d2c34aa84bbc9b0b6ee7";
static unsigned char digest_chris[16];

#define RFC2831_CHALLENGE \
	"realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\"," \
	"qop=\"auth\",charset=\"utf-8\",algorithm=\"md5-sess\""
#define RFC2831_RESPONSE \
	"charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\"," \
	"nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\"," \
	"digest-uri=\"imap/elwood.innosoft.com\"," \
	"response=d388dad90d4bbd760a152321f2143af7,qop=auth"

static struct fake *digest_start(const char *realms)
{
	struct fake *f = fake_new();

	hex_decode(digest_chris_hex, digest_chris);
	f->cred = digest_chris;
	f->cred_size = sizeof(digest_chris);
	f->set.realms = realms;
	fake_start(f, "DIGEST-MD5", "OA6MG9tEQGm2hh");
	step_initial(f, NULL, 0);
	return f;
}

START_TEST(test_digest_md5_rfc2831)
{
	struct fake *f = digest_start("elwood.innosoft.com");

	ck_assert_str_eq(str_c(f->challenge), RFC2831_CHALLENGE);
	STEP_LIT(f, RFC2831_RESPONSE);
	assert_succeeded(f, "rspauth=ea40f60335c427b5527b84dbabcdfffd");
	ck_assert_str_eq(f->user, "chris@elwood.innosoft.com");
	ck_assert_ptr_null(f->authzid);
	ck_assert_str_eq(f->scheme, "DIGEST-MD5");
	fake_free(&f);

	/* the same with spaces, upper-case keys and quoted everything */
	f = digest_start("elwood.innosoft.com");
	STEP_LIT(f, " Charset = \"utf-8\" , USERNAME=\"chris\" ,"
		 "realm=\"elwood.innosoft.com\",,nonce=\"OA6MG9tEQGm2hh\","
		 "nc=\"00000001\",cnonce=\"OA6MHXh6VqTrRk\",cipher=rc4,"
		 "digest-uri=\"imap/elwood.innosoft.com\",unknown=x,"
		 "response=\"d388dad90d4bbd760a152321f2143af7\",qop=\"auth\" ");
	assert_succeeded(f, "rspauth=ea40f60335c427b5527b84dbabcdfffd");
	fake_free(&f);
}
END_TEST

START_TEST(test_digest_md5_challenge)
{
	struct fake *f = digest_start(NULL);

	ck_assert_str_eq(str_c(f->challenge),
			 "realm=\"\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\","
			 "charset=\"utf-8\",algorithm=\"md5-sess\"");
	fake_free(&f);

	f = digest_start("example.org  example.net");
	ck_assert_str_eq(str_c(f->challenge),
			 "realm=\"example.org\",realm=\"example.net\","
			 "nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\","
			 "charset=\"utf-8\",algorithm=\"md5-sess\"");
	fake_free(&f);

	/* a random nonce: base64 of 16 bytes, like Dovecot */
	f = fake_new();
	fake_start(f, "DIGEST-MD5", NULL);
	step_initial(f, NULL, 0);
	const char *n = strstr(str_c(f->challenge), "nonce=\"");

	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n[7 + 24], '"');
	ck_assert_int_eq(n[7 + 22], '=');
	fake_free(&f);
}
END_TEST

START_TEST(test_digest_md5_wrong)
{
	struct fake *f = digest_start("elwood.innosoft.com");
	unsigned char other[16];

	memcpy(other, digest_chris, 16);
	other[0] ^= 1;
	f->cred = other;
	STEP_LIT(f, RFC2831_RESPONSE);
	assert_failed(f);
	ck_assert_str_eq(str_c(f->log),
			 "digest-md5(chris@elwood.innosoft.com): "
			 "Password mismatch\n");
	fake_free(&f);

	f = digest_start("elwood.innosoft.com");
	f->cred_size = 15;
	STEP_LIT(f, RFC2831_RESPONSE);
	assert_failed(f);
	fake_free(&f);

	/* authzid: a master login, refused here; logged without "login
	   user: " like Dovecot */
	f = digest_start("elwood.innosoft.com");
	f->refuse_user = true;
	f->refuse_error = "login user: Master user login attempted without "
		"master passdbs";
	STEP_LIT(f, RFC2831_RESPONSE ",authzid=\"bob\"");
	assert_failed(f);
	ck_assert_str_eq(f->authzid, "bob");
	ck_assert_str_eq(str_c(f->log),
			 "digest-md5(chris@elwood.innosoft.com): Master user "
			 "login attempted without master passdbs\n");
	fake_free(&f);
}
END_TEST

/* ---- SCRAM ---- */

struct scram_keys {
	const EVP_MD *md;
	size_t len;
	unsigned char client_key[EVP_MAX_MD_SIZE];
	unsigned char stored_key[EVP_MAX_MD_SIZE];
	unsigned char server_key[EVP_MAX_MD_SIZE];
	char cred[512];
};

/* What `doveadm pw -s SCRAM-SHA-*` stores, from password and salt. */
static void scram_keys_make(struct scram_keys *k, const EVP_MD *md,
			    const char *password, const char *salt_b64,
			    unsigned int iter)
{
	unsigned char salted[EVP_MAX_MD_SIZE];
	unsigned int len;
	string_t *salt = str_new(32), *s1 = str_new(64), *s2 = str_new(64);

	k->md = md;
	k->len = (size_t)EVP_MD_get_size(md);
	ck_assert_int_eq(base64_decode(salt, salt_b64, strlen(salt_b64)), 0);
	ck_assert_int_eq(PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
					   (const unsigned char *)str_c(salt),
					   (int)str_len(salt), (int)iter, md,
					   (int)k->len, salted), 1);
	HMAC(md, salted, (int)k->len, (const unsigned char *)"Client Key",
	     10, k->client_key, &len);
	HMAC(md, salted, (int)k->len, (const unsigned char *)"Server Key",
	     10, k->server_key, &len);
	EVP_Digest(k->client_key, k->len, k->stored_key, &len, md, NULL);
	base64_encode(s1, k->stored_key, k->len);
	base64_encode(s2, k->server_key, k->len);
	snprintf(k->cred, sizeof(k->cred), "%u,%s,%s,%s", iter, salt_b64,
		 str_c(s1), str_c(s2));
	str_free(&salt);
	str_free(&s1);
	str_free(&s2);
}

/* A client's final message for the exchange so far ("c=...,r=..."
 * without_proof), with the proof appended; *v_r gets the server's
 * expected "v=". Returned string is malloc'd. */
static char *scram_client_final(const struct scram_keys *k,
				const char *first_bare,
				const char *server_first,
				const char *without_proof, char **v_r)
{
	unsigned char sig[EVP_MAX_MD_SIZE], proof[EVP_MAX_MD_SIZE];
	char *msg = i_strdup_printf("%s,%s,%s", first_bare, server_first,
				    without_proof);
	unsigned int len;
	string_t *out = str_new(256), *v = str_new(64);

	HMAC(k->md, k->stored_key, (int)k->len, (const unsigned char *)msg,
	     strlen(msg), sig, &len);
	for (size_t i = 0; i < k->len; i++)
		proof[i] = k->client_key[i] ^ sig[i];
	str_printfa(out, "%s,p=", without_proof);
	base64_encode(out, proof, k->len);
	HMAC(k->md, k->server_key, (int)k->len, (const unsigned char *)msg,
	     strlen(msg), sig, &len);
	str_append(v, "v=");
	base64_encode(v, sig, k->len);
	free(msg);
	*v_r = str_free_without_data(&v);
	return str_free_without_data(&out);
}

static struct scram_keys rfc5802_keys, rfc7677_keys;

static struct fake *scram_start(const char *mech, const struct scram_keys *k,
				const char *snonce)
{
	struct fake *f = fake_new();

	f->cred = k->cred;
	f->cred_size = strlen(k->cred);
	fake_start(f, mech, snonce);
	step_initial(f, NULL, 0);
	ck_assert_uint_eq(str_len(f->challenge), 0);
	return f;
}

START_TEST(test_scram_sha1_rfc5802)
{
	struct fake *f;

	scram_keys_make(&rfc5802_keys, EVP_sha1(), "pencil",
			"QSXCR+Q6sek8bf92", 4096);
	f = scram_start("SCRAM-SHA-1", &rfc5802_keys, "3rfcNHYJY1ZVvWVs7j");
	STEP_LIT(f, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
	ck_assert_str_eq(f->user, "user");
	ck_assert_str_eq(f->scheme, "SCRAM-SHA-1");
	ck_assert_str_eq(str_c(f->challenge),
			 "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
			 "s=QSXCR+Q6sek8bf92,i=4096");
	STEP_LIT(f, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
		 "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
	assert_succeeded(f, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
	fake_free(&f);
}
END_TEST

START_TEST(test_scram_sha256_rfc7677)
{
	struct fake *f;

	scram_keys_make(&rfc7677_keys, EVP_sha256(), "pencil",
			"W22ZaJ0SNY7soEsUEjb6gQ==", 4096);
	f = scram_start("SCRAM-SHA-256", &rfc7677_keys,
			"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
	STEP_LIT(f, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
	ck_assert_str_eq(str_c(f->challenge),
			 "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			 "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	STEP_LIT(f, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
		 "hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	assert_succeeded(f, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	fake_free(&f);
}
END_TEST

/* A whole exchange with a random server nonce; returns the fake after
 * the final message. first is the client-first-message. */
static struct fake *scram_run(const char *mech, const struct scram_keys *k,
			      const char *first, const char *cbind_b64,
			      struct fake *f)
{
	const char *bare;
	char *without_proof, *final, *v, *server_first;

	if (f == NULL) {
		f = fake_new();
		f->cred = k->cred;
		f->cred_size = strlen(k->cred);
	}
	fake_start(f, mech, NULL);
	step_initial(f, first, strlen(first));
	if (f->failed)
		return f;
	server_first = i_strdup(str_c(f->challenge));
	ck_assert(str_begins(server_first, "r=", NULL));
	/* the bare part: after the second comma of the gs2 header */
	bare = strchr(strchr(first, ',') + 1, ',') + 1;
	without_proof = i_strdup_printf("c=%s,%.*s", cbind_b64,
					(int)strcspn(server_first, ","),
					server_first);
	final = scram_client_final(k, bare, server_first, without_proof, &v);
	STEP_STR(f, final);
	if (f->succeeded)
		ck_assert_str_eq(str_c(f->success_data), v);
	free(server_first);
	free(without_proof);
	free(final);
	free(v);
	return f;
}

START_TEST(test_scram_dovecot_credentials)
{
	/* doveadm pw -s SCRAM-SHA-1 -p pencil; -s SCRAM-SHA-256 */
	static const char sha1[] = "4096,lk0zMwrzjmvy90ewBvcc/A==,"
		"gf0wl4BtE7qW7HVUJPjD2SIRBck=,bZ3rqGle2Gfw7OeRFW7Cq6giIgo=";
	static const char sha256[] = "4096,fn4tCARuE+sh+LNjMoe+Hw==,"
		"OFUuSTfesgpLCa3PrEqLn9KOW+XRWLGClHcOtR1c5ik=,"
		"aW3BOjEE+ASIx7ZZzCnIyYl1F75dZ59PLG1dLhkRDNY=";
	struct scram_keys k1, k256;
	struct fake *f;
	const char *nonce;

	scram_keys_make(&k1, EVP_sha1(), "pencil", "lk0zMwrzjmvy90ewBvcc/A==",
			4096);
	ck_assert_str_eq(k1.cred, sha1);
	scram_keys_make(&k256, EVP_sha256(), "pencil",
			"fn4tCARuE+sh+LNjMoe+Hw==", 4096);
	ck_assert_str_eq(k256.cred, sha256);

	f = scram_run("SCRAM-SHA-1", &k1, "n,,n=user,r=abcdefgh", "biws",
		      NULL);
	ck_assert(f->succeeded);
	/* the server nonce: 64 printable characters, no comma */
	nonce = str_c(f->challenge) + strlen("r=abcdefgh");
	ck_assert_uint_eq(strcspn(nonce, ","), 64);
	for (unsigned int i = 0; i < 64; i++)
		ck_assert(nonce[i] > 0x20 && nonce[i] < 0x7f);
	fake_free(&f);

	f = scram_run("SCRAM-SHA-256", &k256, "y,,n=user,r=abcdefgh", "eSws",
		      NULL);
	ck_assert(f->succeeded);
	fake_free(&f);
}
END_TEST

START_TEST(test_scram_authzid_and_escapes)
{
	struct fake *f;

	scram_keys_make(&rfc5802_keys, EVP_sha1(), "pencil",
			"QSXCR+Q6sek8bf92", 4096);
	/* "=2C" and "=3D" in names; an authzid is a master login */
	f = scram_run("SCRAM-SHA-1", &rfc5802_keys,
		      "n,a=b=3Dob,n=us=2Cer,r=xyz", "bixhPWI9M0RvYiw=", NULL);
	ck_assert(f->succeeded);
	ck_assert_str_eq(f->user, "us,er");
	ck_assert_str_eq(f->authzid, "b=ob");
	fake_free(&f);

	/* authzid = user is none */
	f = scram_run("SCRAM-SHA-1", &rfc5802_keys,
		      "n,a=user,n=user,r=xyz,ext=ignored", "bixhPXVzZXIs", NULL);
	ck_assert(f->succeeded);
	ck_assert_ptr_null(f->authzid);
	fake_free(&f);

	/* refused master login: logged without "login user: " */
	f = fake_new();
	f->refuse_user = true;
	f->refuse_error = "login user: Master user login attempted without "
		"master passdbs";
	fake_start(f, "SCRAM-SHA-1", NULL);
	step_initial(f, "n,a=alice,n=user,r=xyz", 22);
	assert_failed(f);
	ck_assert_str_eq(str_c(f->log), "scram-sha-1(user): Master user login "
			 "attempted without master passdbs\n");
	fake_free(&f);
}
END_TEST

START_TEST(test_scram_plus)
{
	static const unsigned char cb[] = "\x01\x02tls-unique-data\x00\xff";
	struct fake *f;
	string_t *c = str_new(64);
	char *c_b64;

	scram_keys_make(&rfc7677_keys, EVP_sha256(), "pencil",
			"W22ZaJ0SNY7soEsUEjb6gQ==", 4096);
	str_append(c, "p=tls-unique,,");
	str_append_n(c, cb, sizeof(cb) - 1);
	{
		string_t *b = str_new(64);

		base64_encode(b, str_c(c), str_len(c));
		c_b64 = str_free_without_data(&b);
	}

	f = fake_new();
	f->cred = rfc7677_keys.cred;
	f->cred_size = strlen(rfc7677_keys.cred);
	f->cb_type = "tls-unique";
	f->cb_data = cb;
	f->cb_size = sizeof(cb) - 1;
	f = scram_run("SCRAM-SHA-256-PLUS", &rfc7677_keys,
		      "p=tls-unique,,n=user,r=abc", c_b64, f);
	assert_succeeded(f, str_c(f->success_data));
	fake_free(&f);

	/* the binding data differs from the connection's: fail */
	f = fake_new();
	f->cred = rfc7677_keys.cred;
	f->cred_size = strlen(rfc7677_keys.cred);
	f->cb_type = "tls-unique";
	f->cb_data = "other connection";
	f->cb_size = 16;
	f = scram_run("SCRAM-SHA-256-PLUS", &rfc7677_keys,
		      "p=tls-unique,,n=user,r=abc", c_b64, f);
	assert_failed(f);
	ck_assert_str_eq(str_c(f->log), "scram-sha-256-plus(user): "
			 "Invalid channel binding data\n");
	fake_free(&f);

	/* a binding type the connection does not have */
	f = fake_new();
	f->cb_type = "tls-unique";
	f->cb_data = cb;
	f->cb_size = 4;
	fake_start(f, "SCRAM-SHA-1-PLUS", NULL);
	step_initial(f, "p=tls-exporter,,n=user,r=abc", 28);
	assert_failed(f);
	ck_assert_uint_eq(f->lookups, 0);
	fake_free(&f);

	/* -PLUS wants p=, plain SCRAM refuses it */
	f = fake_new();
	f->cb_type = "tls-unique";
	f->cb_data = cb;
	f->cb_size = 4;
	fake_start(f, "SCRAM-SHA-1-PLUS", NULL);
	step_initial(f, "n,,n=user,r=abc", 15);
	assert_failed(f);
	fake_free(&f);

	f = fake_new();
	fake_start(f, "SCRAM-SHA-1", NULL);
	step_initial(f, "p=tls-unique,,n=user,r=abc", 26);
	assert_failed(f);
	ck_assert_str_eq(str_c(f->log),
			 "scram-sha-1(?): Channel binding not supported\n");
	fake_free(&f);

	/* "y" (client could, thinks we can't) when we can: downgrade */
	f = fake_new();
	f->cb_type = "tls-exporter";
	f->cb_data = cb;
	f->cb_size = 4;
	fake_start(f, "SCRAM-SHA-1", NULL);
	step_initial(f, "y,,n=user,r=abc", 15);
	assert_failed(f);
	ck_assert_uint_eq(f->lookups, 0);
	fake_free(&f);

	free(c_b64);
	str_free(&c);
}
END_TEST

/* ---- EXTERNAL, ANONYMOUS ---- */

START_TEST(test_external)
{
	struct fake *f = fake_new();

	f->set.ssl_username_from_cert = true;
	f->set.cert_username = "alice";
	fake_start(f, "EXTERNAL", NULL);
	step_initial(f, NULL, 0);
	ck_assert_uint_eq(f->continues, 1);
	ck_assert_uint_eq(str_len(f->challenge), 0);
	step(f, "", 0);
	assert_succeeded(f, "");
	ck_assert_str_eq(f->user, "alice");
	ck_assert_ptr_null(f->authzid);
	ck_assert_str_eq(f->verified_password, "");
	fake_free(&f);

	/* authzid: master login as Dovecot; the same name is none */
	f = fake_new();
	f->set.ssl_username_from_cert = true;
	f->set.cert_username = "alice";
	fake_start(f, "EXTERNAL", NULL);
	step_initial(f, "bob", 3);
	assert_succeeded(f, "");
	ck_assert_str_eq(f->authzid, "bob");
	fake_free(&f);

	f = fake_new();
	f->set.ssl_username_from_cert = true;
	f->set.cert_username = "alice";
	fake_start(f, "EXTERNAL", NULL);
	step_initial(f, "alice", 5);
	assert_succeeded(f, "");
	ck_assert_ptr_null(f->authzid);
	fake_free(&f);

	/* no certificate user, or not configured to take it */
	f = fake_new();
	fake_start(f, "EXTERNAL", NULL);
	step_initial(f, "", 0);
	assert_failed(f);
	ck_assert_str_eq(str_c(f->log), "external(?): username not known\n");
	ck_assert_uint_eq(f->lookups, 0);
	fake_free(&f);

	f = fake_new();
	f->set.cert_username = "alice";
	fake_start(f, "EXTERNAL", NULL);
	step_initial(f, "", 0);
	assert_failed(f);
	fake_free(&f);
}
END_TEST

START_TEST(test_anonymous)
{
	struct fake *f = fake_new();

	fake_start(f, "ANONYMOUS", NULL);
	step_initial(f, "trace@example", 13);
	assert_succeeded(f, "");
	ck_assert_str_eq(f->user, "anonymous");
	ck_assert_uint_eq(f->lookups, 0);
	ck_assert_str_eq(str_c(f->log), "anonymous(trace@example): login\n");
	fake_free(&f);

	f = fake_new();
	fake_start(f, "ANONYMOUS", NULL);
	step_initial(f, NULL, 0);
	step(f, "a\nb\0c", 5);
	assert_succeeded(f, "");
	ck_assert_str_eq(str_c(f->log), "anonymous(a?b?c): login\n");
	fake_free(&f);

	f = fake_new();
	f->set.anonymous_username = "";
	fake_start(f, "ANONYMOUS", NULL);
	step_initial(f, "", 0);
	assert_failed(f);
	fake_free(&f);
}
END_TEST

/* Without ops->log, mech.c logs itself: info only with verbose. */
START_TEST(test_mech_default_log)
{
	static struct mech_ops ops;
	struct fake *f = fake_new();

	ops = fake_ops;
	ops.log = NULL;
	test_log_capture_start();
	f->req = mech_request_new(mech_module_find("PLAIN"), f->pool, &ops,
				  &f->set, f);
	step_initial(f, "", 0);
	assert_failed(f);
	ck_assert_str_eq(test_log_captured(), "");
	mech_request_free(&f->req);

	f->set.verbose = true;
	f->req = mech_request_new(mech_module_find("PLAIN"), f->pool, &ops,
				  &f->set, f);
	f->failed = false;
	step_initial(f, "", 0);
	ck_assert(strstr(test_log_captured(), "plain(?): invalid input\n") !=
		  NULL);
	test_log_capture_stop();
	fake_free(&f);
}
END_TEST

/* ---- Limits: state rules and sizes ---- */

START_TEST(test_mech_state_rules)
{
	struct fake *f = fake_new();

	/* data after the end is ignored */
	fake_start(f, "PLAIN", NULL);
	step_initial(f, "\0alice\0secret", 13);
	assert_succeeded(f, "");
	step(f, "\0alice\0secret", 13);
	ck_assert_uint_eq(f->lookups, 1);
	/* and a late passdb answer too */
	mech_verify_plain_result(f->req, PASSDB_RESULT_OK);
	fake_free(&f);

	/* continue before initial fails */
	f = fake_new();
	fake_start(f, "LOGIN", NULL);
	STEP_LIT(f, "alice");
	assert_failed(f);
	fake_free(&f);

	/* client data while the passdb works fails; its answer is dropped */
	f = fake_new();
	f->async = true;
	fake_start(f, "LOGIN", NULL);
	step_initial(f, "alice", 5);
	STEP_LIT(f, "secret");
	ck_assert(f->pending_plain);
	STEP_LIT(f, "again");
	assert_failed(f);
	fake_answer_plain(f);
	ck_assert(!f->succeeded);
	fake_free(&f);

	/* mech_request_free ends it: answers are dropped */
	f = fake_new();
	f->async = true;
	f->cred = "4096,QSXCR+Q6sek8bf92,x,y";
	f->cred_size = strlen(f->cred);
	fake_start(f, "SCRAM-SHA-1", NULL);
	step_initial(f, "n,,n=user,r=abc", 15);
	ck_assert(f->pending_cred);
	struct mech_request *req = f->req;

	mech_request_free(&f->req);
	ck_assert_ptr_null(f->req);
	mech_credentials_result(req, PASSDB_RESULT_OK, f->cred, f->cred_size);
	ck_assert(!f->succeeded && !f->failed);
	fake_free(&f);
}
END_TEST

START_TEST(test_mech_input_limit)
{
	const struct mech_module *const *list = mech_modules_list();
	unsigned char *big = i_malloc(MECH_MAX_INPUT_SIZE + 1);

	memset(big, 'a', MECH_MAX_INPUT_SIZE + 1);
	for (unsigned int i = 0; list[i] != NULL; i++) {
		struct fake *f = fake_new();

		f->set.cert_username = "alice";
		f->set.ssl_username_from_cert = true;
		fake_start(f, list[i]->name, NULL);
		step_initial(f, NULL, 0);
		ck_assert_msg(!f->failed, "%s", list[i]->name);
		step(f, big, MECH_MAX_INPUT_SIZE + 1);
		ck_assert_msg(f->failed, "%s took %u bytes", list[i]->name,
			      MECH_MAX_INPUT_SIZE + 1);
		ck_assert_uint_eq(f->lookups, 0);
		fake_free(&f);
	}
	/* the limit itself is fine */
	struct fake *f = fake_new();

	big[0] = '\0';
	big[1] = 'u';
	big[2] = '\0';
	f->password = (const char *)big + 3;
	big[MECH_MAX_INPUT_SIZE] = '\0';
	fake_start(f, "PLAIN", NULL);
	step_initial(f, big, MECH_MAX_INPUT_SIZE);
	assert_succeeded(f, "");
	ck_assert_uint_eq(strlen(f->verified_password), MECH_MAX_INPUT_SIZE - 3);
	fake_free(&f);

	/* an oversized initial response */
	f = fake_new();
	fake_start(f, "PLAIN", NULL);
	step_initial(f, big, MECH_MAX_INPUT_SIZE + 1);
	assert_failed(f);
	fake_free(&f);
	free(big);
}
END_TEST

/* An empty step may come as (NULL, 0): no mechanism may touch it. */
START_TEST(test_mech_null_empty_step)
{
	const struct mech_module *const *list = mech_modules_list();

	for (unsigned int i = 0; list[i] != NULL; i++) {
		struct fake *f = fake_new();

		f->set.cert_username = "alice";
		f->set.ssl_username_from_cert = true;
		f->cred = "x";
		f->cred_size = 1;
		fake_start(f, list[i]->name, NULL);
		step_initial(f, NULL, 0);
		for (unsigned int s = 0; s < 3 && !f->failed && !f->succeeded;
		     s++)
			step(f, NULL, 0);
		ck_assert_msg(f->failed || f->succeeded, "%s", list[i]->name);
		fake_free(&f);
	}
}
END_TEST

/* ---- Malformed ---- */

struct bad_input {
	const char *data;
	size_t size;
};
#define BAD(s) { s, sizeof(s) - 1 }

START_TEST(test_plain_malformed)
{
	static const struct bad_input bad[] = {
		BAD(""), BAD("alice"), BAD("\0alice"), BAD("alice\0secret"),
		BAD("\0alice\0secret\0"), BAD("\0alice\0sec\0ret"),
		BAD("\0\0\0"), BAD("\0"),
	};

	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		struct fake *f = fake_new();

		fake_start(f, "PLAIN", NULL);
		step_initial(f, bad[i].data, bad[i].size);
		assert_failed(f);
		ck_assert_uint_eq(f->lookups, 0);
		ck_assert_str_eq(str_c(f->log), "plain(?): invalid input\n");
		fake_free(&f);
	}
}
END_TEST

START_TEST(test_login_malformed)
{
	struct fake *f = fake_new();

	fake_start(f, "LOGIN", NULL);
	step_initial(f, "ali\0ce", 6);
	assert_failed(f);
	fake_free(&f);

	f = fake_new();
	fake_start(f, "LOGIN", NULL);
	step_initial(f, "alice", 5);
	step(f, "sec\0ret", 7);
	assert_failed(f);
	ck_assert_uint_eq(f->lookups, 0);
	fake_free(&f);
}
END_TEST

START_TEST(test_cram_md5_malformed)
{
	static const struct bad_input bad[] = {
		BAD(""), BAD("tim"), BAD(" b913a602c7eda7a495b4e6e7334d3890"),
		BAD("timb913a602c7eda7a495b4e6e7334d3890"),
		BAD("tim b913a602c7eda7a495b4e6e7334d389"),
		BAD("tim b913a602c7eda7a495b4e6e7334d38900"),
		BAD("tim b913a602c7eda7a495b4e6e7334d3890 "),
		BAD("t\0m b913a602c7eda7a495b4e6e7334d3890"),
		BAD("tim b913a602c7eda7a495b4e6e7334d389\0"),
	};

	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		struct fake *f = cram_start("<1.2@h>");

		step(f, bad[i].data, bad[i].size);
		assert_failed(f);
		ck_assert_msg(f->lookups == 0, "case %u", i);
		fake_free(&f);
	}
}
END_TEST

START_TEST(test_digest_md5_malformed)
{
	static const char *const bad[] = {
		"",
		/* replayed/other nonce */
		"username=\"chris\",nonce=\"OTHERNONCE\",cnonce=\"x\","
		"nc=00000001,response=d388dad90d4bbd760a152321f2143af7",
		/* missing pieces */
		"username=\"chris\",cnonce=\"x\",nc=00000001,"
		"response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001,"
		"response=d388dad90d4bbd760a152321f2143af7",
		"nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\",nc=00000001,"
		"response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\"",
		/* duplicates and bad values */
		"username=\"chris\",username=\"bob\",nonce=\"OA6MG9tEQGm2hh\","
		"cnonce=\"x\",response=d388dad90d4bbd760a152321f2143af7",
		"username=\"\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"\","
		"response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"nc=00000002,response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"nc=0000000x,response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"qop=auth-int,response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"qop=bogus,response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"charset=iso-8859-1,response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"digest-uri=\"imap\",response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"maxbuf=0,response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"response=d388dad90d4bbd760a152321f2143af",
		"username=\"chris\",nonce=\"OA6MG9tEQGm2hh\",cnonce=\"x\","
		"authzid=\"\",response=d388dad90d4bbd760a152321f2143af7",
		/* syntax */
		"username=\"chris,nonce=\"OA6MG9tEQGm2hh\"",
		"username=\"chris\"junk,nonce=\"OA6MG9tEQGm2hh\"",
		"=x", "username", "username=\"\\", ",,,,", "\"\"\"",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		struct fake *f = digest_start("elwood.innosoft.com");

		STEP_STR(f, bad[i]);
		ck_assert_msg(f->failed, "case %u: %s", i, bad[i]);
		ck_assert_msg(f->lookups == 0, "case %u: %s", i, bad[i]);
		fake_free(&f);
	}
	/* NUL inside */
	struct fake *f = digest_start("elwood.innosoft.com");

	step(f, RFC2831_RESPONSE "\0x", sizeof(RFC2831_RESPONSE) + 1);
	assert_failed(f);
	fake_free(&f);
}
END_TEST

START_TEST(test_scram_first_malformed)
{
	static const struct bad_input bad[] = {
		BAD(""), BAD("n"), BAD("n,"), BAD("n,,"), BAD("n,,n=user"),
		BAD("x,,n=user,r=abc"),		/* bad gs2 flag */
		BAD("nn,,n=user,r=abc"), BAD("p,,n=user,r=abc"),
		BAD("n,b=x,n=user,r=abc"),	/* bad authzid */
		BAD("n,a=,n=user,r=abc"), BAD("n,a=x=2D,n=user,r=abc"),
		BAD("n,,m=ext,n=user,r=abc"),	/* mandatory extension */
		BAD("n,,u=user,r=abc"), BAD("n,,n=,r=abc"),
		BAD("n,,n=us=er,r=abc"), BAD("n,,n=user=2,r=abc"),
		BAD("n,,n=user,x=abc"), BAD("n,,n=user,r="),
		BAD("n,,n=user,r=a b"), BAD("n,,n=user,r=a\x7f"),
		BAD("n,,n=us\0er,r=abc"), BAD("n,,n=user,r=abc\0"),
		BAD("p=tls-unique,,n=user,r=abc"),  /* not -PLUS */
	};

	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		struct fake *f = fake_new();

		fake_start(f, "SCRAM-SHA-1", NULL);
		step_initial(f, bad[i].data, bad[i].size);
		ck_assert_msg(f->failed, "case %u", i);
		ck_assert_msg(f->lookups == 0, "case %u", i);
		fake_free(&f);
	}
}
END_TEST

START_TEST(test_scram_final_malformed)
{
	static const char first[] = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
	static const char *const bad[] = {
		"",
		/* a replayed final message of another session (nonce) */
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawLOTHERNONCE,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		/* bad proof: wrong, short, long, bad base64, missing */
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Tt=",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=AAAA",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts!",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=",
		/* channel binding: other header, garbage, missing */
		"c=eSws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=!!!!,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biws,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		",,,,",
	};

	scram_keys_make(&rfc5802_keys, EVP_sha1(), "pencil",
			"QSXCR+Q6sek8bf92", 4096);
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		struct fake *f = scram_start("SCRAM-SHA-1", &rfc5802_keys,
					     "3rfcNHYJY1ZVvWVs7j");

		STEP_STR(f, first);
		ck_assert_uint_eq(f->continues, 2);
		STEP_STR(f, bad[i]);
		ck_assert_msg(f->failed && !f->succeeded, "case %u: %s", i,
			      bad[i]);
		fake_free(&f);
	}
	/* NUL in the final message */
	struct fake *f = scram_start("SCRAM-SHA-1", &rfc5802_keys,
				     "3rfcNHYJY1ZVvWVs7j");
	STEP_STR(f, first);
	STEP_LIT(f, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j\0,"
		 "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
	assert_failed(f);
	fake_free(&f);
}
END_TEST

START_TEST(test_scram_bad_credentials)
{
	static const char *const bad[] = {
		"", "4096", "4096,QSXCR+Q6sek8bf92,x",
		"4095,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,"
		"D+CSWLOshSulAsxiupA+qs2/fTE=",
		"99999999999,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,"
		"D+CSWLOshSulAsxiupA+qs2/fTE=",
		"x096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,"
		"D+CSWLOshSulAsxiupA+qs2/fTE=",
		"4096,,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=",
		"4096,Q!,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=",
		"4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=!,"
		"D+CSWLOshSulAsxiupA+qs2/fTE=",
		"4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,"
		"D+CSWLOshSulAsxiupA+qs2/fT==",
		"4096,QSXCR+Q6sek8bf92,,D+CSWLOshSulAsxiupA+qs2/fTE=",
		/* SHA-256 sized keys for SHA-1 */
		"4096,QSXCR+Q6sek8bf92,"
		"OFUuSTfesgpLCa3PrEqLn9KOW+XRWLGClHcOtR1c5ik=,"
		"aW3BOjEE+ASIx7ZZzCnIyYl1F75dZ59PLG1dLhkRDNY=",
		"4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,"
		"D+CSWLOshSulAsxiupA+qs2/fTE=,extra",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		struct fake *f = fake_new();

		f->cred = bad[i];
		f->cred_size = strlen(bad[i]);
		fake_start(f, "SCRAM-SHA-1", NULL);
		step_initial(f, "n,,n=user,r=abc", 15);
		ck_assert_msg(f->failed, "case %u: %s", i, bad[i]);
		ck_assert_ptr_nonnull(strstr(str_c(f->log), "Error: "));
		fake_free(&f);
	}
	/* NUL in the credentials */
	struct fake *f = fake_new();

	f->cred = "4096,QSXCR\0Q6sek8bf92,x,y";
	f->cred_size = 25;
	fake_start(f, "SCRAM-SHA-1", NULL);
	step_initial(f, "n,,n=user,r=abc", 15);
	assert_failed(f);
	fake_free(&f);

	/* internal failure of the lookup */
	f = fake_new();
	f->cred_result = PASSDB_RESULT_INTERNAL_FAILURE;
	fake_start(f, "SCRAM-SHA-256", NULL);
	step_initial(f, "n,,n=user,r=abc", 15);
	assert_failed(f);
	ck_assert_str_eq(f->fail_reason, MECH_FAIL_CODE_TEMP);
	fake_free(&f);
}
END_TEST

/* Pseudo-random garbage as every step of every mechanism: it must end
 * in failure or keep asking, never crash or succeed. */
START_TEST(test_mech_garbage)
{
	const struct mech_module *const *list = mech_modules_list();
	static const unsigned char cb[] = "cbdata";
	uint32_t seed = 12345;
	unsigned char buf[300];

	scram_keys_make(&rfc5802_keys, EVP_sha1(), "pencil",
			"QSXCR+Q6sek8bf92", 4096);
	hex_decode(cram_tim_hex, cram_tim);
	hex_decode(digest_chris_hex, digest_chris);
	for (unsigned int round = 0; round < 200; round++) {
		for (unsigned int m = 0; list[m] != NULL; m++) {
			struct fake *f = fake_new();
			const char *name = list[m]->name;

			f->password = "\x01never";
			f->cb_type = "tls-unique";
			f->cb_data = cb;
			f->cb_size = 6;
			if (strstr(name, "SCRAM") != NULL) {
				f->cred = rfc5802_keys.cred;
				f->cred_size = strlen(f->cred);
			} else if (strcmp(name, "CRAM-MD5") == 0) {
				f->cred = cram_tim;
				f->cred_size = 32;
			} else {
				f->cred = digest_chris;
				f->cred_size = 16;
			}
			fake_start(f, name, "nonce");
			for (unsigned int s = 0; s < 4 && !f->failed &&
			     !f->succeeded; s++) {
				size_t len;

				seed = seed * 1103515245 + 12345;
				len = (seed >> 8) % sizeof(buf);
				for (size_t i = 0; i < len; i++) {
					seed = seed * 1103515245 + 12345;
					buf[i] = (unsigned char)(seed >> 16);
				}
				if (s == 0)
					step_initial(f, buf, len);
				else
					step(f, buf, len);
			}
			/* ANONYMOUS accepts anything by design */
			ck_assert_msg(!f->succeeded ||
				      strcmp(name, "ANONYMOUS") == 0, "%s", name);
			fake_free(&f);
		}
	}
}
END_TEST

Suite *make_mech_suite(void)
{
	Suite *s = suite_create("mech");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_mech_registry);
	tcase_add_test(tc, test_plain_ok);
	tcase_add_test(tc, test_plain_no_initial_response);
	tcase_add_test(tc, test_plain_authzid);
	tcase_add_test(tc, test_plain_results);
	tcase_add_test(tc, test_plain_async);
	tcase_add_test(tc, test_login_ok);
	tcase_add_test(tc, test_login_initial_response);
	tcase_add_test(tc, test_cram_md5_rfc2195);
	tcase_add_test(tc, test_cram_md5_random_challenge);
	tcase_add_test(tc, test_cram_md5_wrong);
	tcase_add_test(tc, test_digest_md5_rfc2831);
	tcase_add_test(tc, test_digest_md5_challenge);
	tcase_add_test(tc, test_digest_md5_wrong);
	tcase_add_test(tc, test_scram_sha1_rfc5802);
	tcase_add_test(tc, test_scram_sha256_rfc7677);
	tcase_add_test(tc, test_scram_dovecot_credentials);
	tcase_add_test(tc, test_scram_authzid_and_escapes);
	tcase_add_test(tc, test_scram_plus);
	tcase_add_test(tc, test_external);
	tcase_add_test(tc, test_anonymous);
	tcase_add_test(tc, test_mech_default_log);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_mech_state_rules);
	tcase_add_test(tc, test_mech_input_limit);
	tcase_add_test(tc, test_mech_null_empty_step);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_plain_malformed);
	tcase_add_test(tc, test_login_malformed);
	tcase_add_test(tc, test_cram_md5_malformed);
	tcase_add_test(tc, test_digest_md5_malformed);
	tcase_add_test(tc, test_scram_first_malformed);
	tcase_add_test(tc, test_scram_final_malformed);
	tcase_add_test(tc, test_scram_bad_credentials);
	tcase_add_test(tc, test_mech_garbage);
	suite_add_tcase(s, tc);
	return s;
}

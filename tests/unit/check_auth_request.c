/* check_auth_request.c - unit tests of auth/auth-request.h: whole
 * authentication attempts (PLAIN) through a struct auth built from a
 * config string with passwd-file and static passdbs/userdbs, against
 * Dovecot 2.3's passdb chain rules (auth-request.c
 * auth_request_handle_passdb_callback(): result_success, result_failure,
 * result_internalfail, deny, skip, mechanisms, default/override fields,
 * nologin, user=), username normalisation, master logins, the userdb
 * chain (auth_request_userdb_callback()) and the per-IP penalty. Only
 * non-blocking drivers: blocking ones would fork worker processes. */
#include "suites.h"
#include "auth-request.h"
#include "config-bind.h"
#include "str.h"

#include <stdarg.h>
#include <stdio.h>

#define GUARD_MSECS 10000
#define RIP "192.0.2.10"

static pool_t pool;
static const char *dir;
static struct ioloop *loop;
static struct config *config;
static struct auth *auth;
static bool guard_fired;

/* What the fake handler saw. Strings are copied to the test pool. */
struct result {
	bool done, success;
	const char *code, *reason;	/* failure; NULL when none */
	const char *user;		/* req->lookup.user at the answer */
	unsigned int continues;
	enum passdb_result passdb_result;
	struct auth_fields *fields;	/* copy of the passdb extra fields */
	uint64_t at;			/* when it came (msecs) */
};

static void setup(void)
{
	pool = pool_create("check_auth_request", 4096);
	dir = test_tmpdir_create();
	loop = io_loop_create();
	test_log_capture_start();
}

static void auth_stop(void)
{
	if (auth != NULL)
		auth_deinit(&auth);
	config_free(&config);
}

static void teardown(void)
{
	auth_stop();
	io_loop_destroy(&loop);
	test_log_capture_stop();
	test_tmpdir_remove();
	pool_destroy(&pool);
}

static void guard_cb(void *context ATTR_UNUSED)
{
	guard_fired = true;
	io_loop_stop(loop);
}

static bool run_loop(void)
{
	struct timeout *guard = timeout_add(loop, GUARD_MSECS, guard_cb, NULL);

	guard_fired = false;
	io_loop_run(loop);
	timeout_remove(&guard);
	return !guard_fired;
}

/* Build the auth service from config text (printf format). Every config
 * gets auth_failure_delay = 0 first unless it sets its own. */
static void ATTR_FORMAT(1, 2) auth_start(const char *fmt, ...)
{
	const struct settings_root *set;
	const char *text, *error = NULL;
	va_list args;

	auth_stop();
	va_start(args, fmt);
	text = p_strdup_vprintf(pool, fmt, args);
	va_end(args);
	if (strstr(text, "auth_failure_delay") == NULL)
		text = p_strdup_printf(pool, "auth_failure_delay = 0\n%s",
				       text);
	config = test_parse(text);
	ck_assert_msg(config != NULL, "config: %s\n%s", test_parse_error(),
		      text);
	set = config_bind(pool, config->blocks[0]->root, &error);
	ck_assert_msg(set != NULL, "config_bind: %s", error);
	ck_assert_msg(auth_init(pool, loop, set, &auth, &error) == 0,
		      "auth_init: %s\n%s", error, text);
}

static const char *write_file(const char *name, const char *text)
{
	char *path = test_write_file(dir, name, text, strlen(text));
	const char *ret = p_strdup(pool, path);

	free(path);
	return ret;
}

/* ---- the fake handler ---- */

static void copy_fields(struct result *res, struct auth_request *req)
{
	const struct auth_fields *f = req->lookup.extra_fields;

	res->fields = auth_fields_new(pool);
	for (unsigned int i = 0; i < auth_fields_count(f); i++) {
		const char *key, *value;

		auth_fields_get_idx(f, i, &key, &value);
		auth_fields_set(res->fields, p_strdup(pool, key),
				value == NULL ? NULL : p_strdup(pool, value));
	}
}

static void answer(struct auth_request *req, struct result *res)
{
	ck_assert_msg(!res->done, "answered twice");
	res->done = true;
	res->user = req->lookup.user == NULL ? NULL :
		p_strdup(pool, req->lookup.user);
	res->passdb_result = req->passdb_result;
	res->at = io_loop_time_msecs();
	copy_fields(res, req);
	io_loop_stop(loop);
}

static void h_continue(struct auth_request *req,
		       const unsigned char *data ATTR_UNUSED,
		       size_t size ATTR_UNUSED)
{
	struct result *res = req->handler_context;

	res->continues++;
	io_loop_stop(loop);
}

static void h_success(struct auth_request *req,
		      const unsigned char *data ATTR_UNUSED, size_t size)
{
	struct result *res = req->handler_context;

	ck_assert_uint_eq(size, 0);
	answer(req, res);
	res->success = true;
}

static void h_fail(struct auth_request *req, const char *code,
		   const char *reason)
{
	struct result *res = req->handler_context;

	answer(req, res);
	res->code = code == NULL ? NULL : p_strdup(pool, code);
	res->reason = reason == NULL ? NULL : p_strdup(pool, reason);
}

static const struct auth_request_handler handler = {
	.reply_continue = h_continue,
	.reply_success = h_success,
	.reply_fail = h_fail,
};

/* Start PLAIN with "authzid NUL user NUL pass". rip may be NULL. */
static struct auth_request *
plain_start(struct result *res, const char *authzid, const char *user,
	    const char *pass, const char *rip)
{
	const struct mech_module *plain = mech_module_find("PLAIN");
	struct auth_request *req;
	string_t *data = str_new(64);

	memset(res, 0, sizeof(*res));
	ck_assert_ptr_nonnull(plain);
	req = auth_request_new(auth, plain, &handler, res);
	auth_request_import(req, "service", "imap");
	auth_request_import(req, "secured", NULL);
	if (rip != NULL)
		auth_request_import(req, "rip", rip);
	str_append(data, authzid);
	str_append_c(data, '\0');
	str_append(data, user);
	str_append_c(data, '\0');
	str_append(data, pass);
	auth_request_initial(req, (const unsigned char *)str_c(data),
			     str_len(data));
	str_free(&data);
	return req;
}

/* One whole PLAIN attempt; the result is in *res. */
static void plain_auth_rip(struct result *res, const char *authzid,
			   const char *user, const char *pass, const char *rip)
{
	struct auth_request *req = plain_start(res, authzid, user, pass, rip);

	if (!res->done)
		ck_assert_msg(run_loop(), "no answer for %s", user);
	ck_assert(res->done);
	ck_assert_uint_eq(res->continues, 0);
	auth_request_free(&req);
	ck_assert_ptr_null(req);
}

/* Without a rip: failures add no penalty, so a test can fail often. */
static void plain_auth(struct result *res, const char *user,
		       const char *pass)
{
	plain_auth_rip(res, "", user, pass, NULL);
}

static bool plain_ok(const char *user, const char *pass)
{
	struct result res;

	plain_auth(&res, user, pass);
	return res.success;
}

#define assert_success(user, pass) \
	ck_assert_msg(plain_ok(user, pass), "%s/%s should succeed", user, pass)
#define assert_failure(user, pass) \
	ck_assert_msg(!plain_ok(user, pass), "%s/%s should fail", user, pass)

#define PASSDB_STATIC \
	"passdb {\n driver = static\n args = password=secret\n}\n"

static const char *field(const struct result *res, const char *key)
{
	return res->fields == NULL ? NULL : auth_fields_get(res->fields, key);
}

/* ---- single passdbs ---- */

START_TEST(test_static_passdb)
{
	struct result res;

	auth_start("passdb {\n driver = static\n args = password=secret\n}\n");
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "alice");
	plain_auth(&res, "alice", "wrong");
	ck_assert(!res.success);
	ck_assert_ptr_null(res.code);
	ck_assert_ptr_null(res.reason);
}
END_TEST

START_TEST(test_passwd_file_passdb)
{
	const char *path = write_file("users",
		"alice:{PLAIN}secret:1000:1000::/home/alice::\n"
		"bob:{PLAIN}bobpass::::::\n");
	struct result res;

	auth_start("passdb {\n driver = passwd-file\n args = %s\n}\n", path);
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "alice");
	assert_success("bob", "bobpass");
	plain_auth(&res, "alice", "bobpass");
	ck_assert(!res.success);
	ck_assert_int_eq(res.passdb_result, PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_ptr_null(res.code);
	plain_auth(&res, "nobody", "secret");
	ck_assert(!res.success);
	ck_assert_int_eq(res.passdb_result, PASSDB_RESULT_USER_UNKNOWN);
	ck_assert_ptr_null(res.code);
}
END_TEST

/* The answer may come from the loop: here it comes once, either way. */
START_TEST(test_answer_once)
{
	struct result res;
	struct auth_request *req;

	auth_start("passdb {\n driver = static\n args = password=secret\n}\n");
	req = plain_start(&res, "", "alice", "secret", RIP);
	if (!res.done)
		ck_assert(run_loop());
	ck_assert(res.success);
	ck_assert(req->finished);
	ck_assert(!req->failed);
	auth_request_free(&req);
}
END_TEST

/* ---- result_* rules, one passdb ---- */

static const char *const rules[] = {
	"return-ok", "return", "return-fail",
	"continue", "continue-ok", "continue-fail",
};

/* Dovecot: the state starts as failure; return-ok/continue-ok set it,
 * return-fail/continue-fail clear it, return/continue keep it. */
START_TEST(test_result_success_single)
{
	/* "return" is left to test_result_return_first_passdb */
	const bool want[] = { true, false, false, false, true, false };

	for (unsigned int i = 0; i < N_ELEMENTS(rules); i++) {
		struct result res;

		if (strcmp(rules[i], "return") == 0)
			continue;
		auth_start("passdb {\n driver = static\n"
			   " args = password=secret\n"
			   " result_success = %s\n}\n", rules[i]);
		plain_auth(&res, "alice", "secret");
		ck_assert_msg(res.success == want[i],
			      "result_success=%s: %s", rules[i],
			      res.success ? "success" : "failure");
	}
}
END_TEST

START_TEST(test_result_failure_single)
{
	const bool want[] = { true, false, false, false, true, false };

	for (unsigned int i = 0; i < N_ELEMENTS(rules); i++) {
		struct result res;

		auth_start("passdb {\n driver = static\n"
			   " args = password=secret\n"
			   " result_failure = %s\n}\n", rules[i]);
		plain_auth(&res, "alice", "wrong");
		ck_assert_msg(res.success == want[i],
			      "result_failure=%s: %s", rules[i],
			      res.success ? "success" : "failure");
		/* a plain failure is never a temporary one */
		if (!res.success)
			ck_assert_ptr_null(res.code);
	}
}
END_TEST

/* "return" returns the earlier state, which starts as failure: a first
 * passdb with result_success = return fails even with the right
 * password (Dovecot: auth_request_success_continue() fails a request
 * without passdb_success). */
START_TEST(test_result_return_first_passdb)
{
	struct result res;

	auth_start("passdb {\n driver = static\n args = password=secret\n"
		   " result_success = return\n}\n");
	plain_auth(&res, "alice", "secret");
	ck_assert(!res.success);
}
END_TEST

/* ---- result_* rules, two passdbs ----
 * The second passdb has another password and leaves the mark "p2". */

static void two_passdbs(const char *rule_key, const char *rule,
			const char *p2_rules)
{
	auth_start("passdb {\n driver = static\n args = password=one\n"
		   " %s = %s\n}\n"
		   "passdb {\n driver = static\n args = password=two p2=yes\n"
		   "%s}\n", rule_key, rule, p2_rules);
}

START_TEST(test_result_success_chain)
{
	struct result res;

	/* return-ok: the second passdb isn't asked */
	two_passdbs("result_success", "return-ok", "");
	plain_auth(&res, "alice", "one");
	ck_assert(res.success);
	ck_assert_ptr_null(field(&res, "p2"));
	/* the second one's own password still works */
	plain_auth(&res, "alice", "two");
	ck_assert(res.success);
	ck_assert_str_eq(field(&res, "p2"), "yes");

	two_passdbs("result_success", "return-fail", "");
	plain_auth(&res, "alice", "one");
	ck_assert(!res.success);
	ck_assert_ptr_null(field(&res, "p2"));

	/* continue after a verified password: the next passdb skips the
	   password check and decides */
	two_passdbs("result_success", "continue", "");
	plain_auth(&res, "alice", "one");
	ck_assert(res.success);
	ck_assert_str_eq(field(&res, "p2"), "yes");
	two_passdbs("result_success", "continue",
		    " result_success = return-fail\n");
	plain_auth(&res, "alice", "one");
	ck_assert(!res.success);

	two_passdbs("result_success", "continue-ok", "");
	plain_auth(&res, "alice", "one");
	ck_assert(res.success);
	ck_assert_str_eq(field(&res, "p2"), "yes");
	/* continue-ok then a passdb that says "return": the state is
	   success */
	two_passdbs("result_success", "continue-ok",
		    " result_success = return\n");
	plain_auth(&res, "alice", "one");
	ck_assert(res.success);
	/* continue-ok then a passdb that says return-fail */
	two_passdbs("result_success", "continue-ok",
		    " result_success = return-fail\n");
	plain_auth(&res, "alice", "one");
	ck_assert(!res.success);
}
END_TEST

/* continue-fail: "the following passdbs will still verify the
 * password" (Dovecot doesn't set skip_password_check): the second
 * passdb has another password, so the attempt fails. */
START_TEST(test_result_continue_fail_still_verifies)
{
	struct result res;

	two_passdbs("result_success", "continue-fail", "");
	plain_auth(&res, "alice", "one");
	ck_assert(!res.success);
	/* with the second passdb's password it succeeds */
	plain_auth(&res, "alice", "two");
	ck_assert(res.success);
}
END_TEST

START_TEST(test_result_failure_chain)
{
	struct result res;

	/* continue (the default): the second passdb decides */
	two_passdbs("result_failure", "continue", "");
	plain_auth(&res, "alice", "two");
	ck_assert(res.success);
	ck_assert_str_eq(field(&res, "p2"), "yes");
	plain_auth(&res, "alice", "three");
	ck_assert(!res.success);

	two_passdbs("result_failure", "return", "");
	plain_auth(&res, "alice", "two");
	ck_assert(!res.success);
	ck_assert_ptr_null(field(&res, "p2"));

	two_passdbs("result_failure", "return-fail", "");
	plain_auth(&res, "alice", "two");
	ck_assert(!res.success);

	/* return-ok on a failure: the admin's choice, success */
	two_passdbs("result_failure", "return-ok", "");
	plain_auth(&res, "alice", "three");
	ck_assert(res.success);
	ck_assert_ptr_null(field(&res, "p2"));

	/* continue-fail: the second passdb verifies the password */
	two_passdbs("result_failure", "continue-fail", "");
	plain_auth(&res, "alice", "two");
	ck_assert(res.success);
	plain_auth(&res, "alice", "three");
	ck_assert(!res.success);

	/* continue-ok: the state is success, so even a wrong password for
	   both ends in success */
	two_passdbs("result_failure", "continue-ok", "");
	plain_auth(&res, "alice", "three");
	ck_assert(res.success);
	ck_assert_str_eq(field(&res, "p2"), "yes");
}
END_TEST

/* continue-ok: "the following passdbs will skip password verification"
 * (Dovecot sets skip_password_check whatever the result), so a later
 * passdb that would refuse the password accepts it. */
START_TEST(test_result_failure_continue_ok_skips_password)
{
	struct result res;

	two_passdbs("result_failure", "continue-ok",
		    " result_failure = return-fail\n");
	plain_auth(&res, "alice", "three");
	ck_assert(res.success);
}
END_TEST

/* An internal failure: a static passdb whose password template can't
 * be expanded. */
#define BROKEN_PASSDB \
	"passdb {\n driver = static\n args = password=%%{nosuchvariable}\n"

START_TEST(test_result_internalfail_single)
{
	struct result res;

	auth_start(BROKEN_PASSDB "}\n");
	plain_auth(&res, "alice", "secret");
	ck_assert(!res.success);
	ck_assert_int_eq(res.passdb_result, PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_ptr_nonnull(res.code);
	ck_assert_str_eq(res.code, MECH_FAIL_CODE_TEMP);
	/* the driver logged why */
	ck_assert_ptr_nonnull(strstr(test_log_captured(), "nosuchvariable"));
}
END_TEST

START_TEST(test_result_internalfail_chain)
{
	const char *second =
		"passdb {\n driver = static\n args = password=two p2=yes\n}\n";
	struct result res;

	/* continue (the default): the next passdb decides */
	auth_start(BROKEN_PASSDB "}\n%s", second);
	plain_auth(&res, "alice", "two");
	ck_assert(res.success);

	auth_start(BROKEN_PASSDB " result_internalfail = return\n}\n%s",
		   second);
	plain_auth(&res, "alice", "two");
	ck_assert(!res.success);
	ck_assert_ptr_nonnull(res.code);
	ck_assert_str_eq(res.code, MECH_FAIL_CODE_TEMP);
	ck_assert_ptr_null(field(&res, "p2"));

	/* return-fail keeps the internal failure: temporary */
	auth_start(BROKEN_PASSDB " result_internalfail = return-fail\n}\n%s",
		   second);
	plain_auth(&res, "alice", "two");
	ck_assert(!res.success);
	ck_assert_ptr_nonnull(res.code);
	ck_assert_str_eq(res.code, MECH_FAIL_CODE_TEMP);

	auth_start(BROKEN_PASSDB " result_internalfail = return-ok\n}\n%s",
		   second);
	plain_auth(&res, "alice", "anything");
	ck_assert(res.success);

	auth_start(BROKEN_PASSDB " result_internalfail = continue-ok\n}\n%s",
		   second);
	plain_auth(&res, "alice", "anything");
	ck_assert(res.success);
	ck_assert_str_eq(field(&res, "p2"), "yes");

	auth_start(BROKEN_PASSDB
		   " result_internalfail = continue-fail\n}\n%s", second);
	plain_auth(&res, "alice", "two");
	ck_assert(res.success);
}
END_TEST

/* After an internal failure the chain went on and found nothing: the
 * user may have been in the failed passdb, so the answer is a temporary
 * failure (Dovecot's passdbs_seen_internal_failure). */
START_TEST(test_result_internalfail_then_mismatch_is_temp)
{
	struct result res;

	auth_start(BROKEN_PASSDB "}\n"
		   "passdb {\n driver = static\n args = password=two\n}\n");
	plain_auth(&res, "alice", "wrong");
	ck_assert(!res.success);
	ck_assert_msg(res.code != NULL &&
		      strcmp(res.code, MECH_FAIL_CODE_TEMP) == 0,
		      "code %s", res.code == NULL ? "NULL" : res.code);
}
END_TEST

/* ---- deny, skip, mechanisms ---- */

START_TEST(test_deny_passdb)
{
	const char *deny = write_file("deny", "mallory\neve\n");
	struct result res;

	auth_start("auth_verbose = yes\n"
		   "passdb {\n driver = passwd-file\n args = %s\n"
		   " deny = yes\n}\n"
		   "passdb {\n driver = static\n args = password=secret\n}\n",
		   deny);
	assert_success("alice", "secret");
	plain_auth(&res, "mallory", "secret");
	ck_assert(!res.success);
	ck_assert_int_eq(res.passdb_result, PASSDB_RESULT_USER_DISABLED);
	ck_assert_ptr_nonnull(strstr(test_log_captured(),
				     "User found from deny passdb"));
	/* after auth_username_format = %Lu */
	assert_failure("EVE", "secret");
	/* a wrong password is no way around it */
	assert_failure("mallory", "wrong");
}
END_TEST

/* Dovecot answers a user found in a deny passdb with
 * FAIL ... code=user_disabled (auth_request_handler_reply_failure_finish:
 * passdb_result USER_DISABLED); the handler gets that code. */
START_TEST(test_deny_passdb_code)
{
	const char *deny = write_file("deny", "mallory\n");
	struct result res;

	auth_start("passdb {\n driver = passwd-file\n args = %s\n"
		   " deny = yes\n}\n"
		   "passdb {\n driver = static\n args = password=secret\n}\n",
		   deny);
	plain_auth(&res, "mallory", "secret");
	ck_assert(!res.success);
	ck_assert_msg(res.code != NULL &&
		      strcmp(res.code, "user_disabled") == 0,
		      "code %s", res.code == NULL ? "NULL" : res.code);
}
END_TEST

START_TEST(test_skip_authenticated)
{
	struct result res;

	/* authenticated by the first: the second (which would refuse) is
	   skipped */
	auth_start("passdb {\n driver = static\n args = password=one\n"
		   " result_success = continue-ok\n}\n"
		   "passdb {\n driver = static\n args = password=two p2=yes\n"
		   " skip = authenticated\n result_success = return-fail\n"
		   "}\n");
	plain_auth(&res, "alice", "one");
	ck_assert(res.success);
	ck_assert_ptr_null(field(&res, "p2"));
	/* not authenticated: the second runs */
	plain_auth(&res, "alice", "two");
	ck_assert(!res.success);
	ck_assert_str_eq(field(&res, "p2"), "yes");
}
END_TEST

/* "authenticated" means a passdb verified the password and continued
 * (Dovecot: skip_password_check), also with plain "continue", which
 * doesn't change the success state. */
START_TEST(test_skip_authenticated_after_continue)
{
	struct result res;

	auth_start("passdb {\n driver = static\n args = password=one\n"
		   " result_success = continue\n}\n"
		   "passdb {\n driver = static\n args = password=two p2=yes\n"
		   " skip = authenticated\n result_success = return-fail\n"
		   "}\n"
		   "passdb {\n driver = static\n args = password=three\n}\n");
	plain_auth(&res, "alice", "one");
	ck_assert(res.success);
	ck_assert_ptr_null(field(&res, "p2"));
}
END_TEST

START_TEST(test_skip_unauthenticated)
{
	const char *path = write_file("users", "alice:{PLAIN}secret::::::\n");
	struct result res;

	auth_start("passdb {\n driver = passwd-file\n args = %s\n"
		   " result_success = continue-ok\n}\n"
		   "passdb {\n driver = static\n args = password=x p2=yes\n"
		   " skip = unauthenticated\n}\n", path);
	/* authenticated: the second passdb runs (without a password
	   check) and adds its field */
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(field(&res, "p2"), "yes");
	/* not authenticated: skipped, and nothing else succeeds */
	plain_auth(&res, "alice", "x");
	ck_assert(!res.success);
	ck_assert_ptr_null(field(&res, "p2"));
}
END_TEST

START_TEST(test_mechanisms_filter)
{
	struct result res;

	auth_start("auth_mechanisms = plain login\n"
		   "passdb {\n driver = static\n args = password=one p1=yes\n"
		   " mechanisms = login\n}\n"
		   "passdb {\n driver = static\n args = password=two\n}\n");
	/* PLAIN skips the first passdb */
	plain_auth(&res, "alice", "one");
	ck_assert(!res.success);
	ck_assert_ptr_null(field(&res, "p1"));
	assert_success("alice", "two");

	/* a list, case-insensitive */
	auth_start("auth_mechanisms = plain login\n"
		   "passdb {\n driver = static\n args = password=one\n"
		   " mechanisms = LOGIN, plain\n}\n"
		   "passdb {\n driver = static\n args = password=two\n}\n");
	assert_success("alice", "one");
}
END_TEST

/* Every passdb skipped: Dovecot logs "All password databases were
 * skipped" and fails with an internal failure. */
START_TEST(test_all_passdbs_skipped)
{
	struct result res;

	auth_start("auth_mechanisms = plain login\n"
		   "passdb {\n driver = static\n args = password=one\n"
		   " mechanisms = login\n}\n");
	plain_auth(&res, "alice", "one");
	ck_assert(!res.success);
	ck_assert_msg(res.code != NULL &&
		      strcmp(res.code, MECH_FAIL_CODE_TEMP) == 0,
		      "code %s", res.code == NULL ? "NULL" : res.code);
}
END_TEST

/* ---- fields ---- */

START_TEST(test_default_override_fields)
{
	struct result res;

	auth_start("passdb {\n driver = static\n"
		   " args = password=secret a=fromdb b=fromdb\n"
		   " default_fields = a=default c=default home=/home/%%u\n"
		   " override_fields = b=override d=override\n}\n");
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	/* the passdb's own value beats default_fields */
	ck_assert_str_eq(field(&res, "a"), "fromdb");
	/* override_fields beats the passdb */
	ck_assert_str_eq(field(&res, "b"), "override");
	ck_assert_str_eq(field(&res, "c"), "default");
	ck_assert_str_eq(field(&res, "d"), "override");
	/* % variables are expanded */
	ck_assert_str_eq(field(&res, "home"), "/home/alice");
}
END_TEST

/* Fields a failed passdb returned are dropped before the next passdb
 * (Dovecot's auth_fields_rollback()): neither a user= rename nor a
 * nologin of the first passdb's entry, whose password didn't match,
 * applies when the second passdb authenticates. */
START_TEST(test_failed_passdb_fields_dropped)
{
	const char *path = write_file("users",
		"alice:{PLAIN}other::::::user=mallory p1=yes\n"
		"bob:{PLAIN}other::::::nologin reason=fromp1\n");
	struct result res;

	auth_start("passdb {\n driver = passwd-file\n args = %s\n}\n"
		   "passdb {\n driver = static\n args = password=secret\n}\n",
		   path);
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "alice");
	ck_assert_ptr_null(field(&res, "p1"));
	plain_auth(&res, "bob", "secret");
	ck_assert_msg(res.success, "failed: reason %s",
		      res.reason == NULL ? "NULL" : res.reason);
	ck_assert_ptr_null(field(&res, "nologin"));
}
END_TEST

START_TEST(test_user_field_renames)
{
	const char *path = write_file("users",
		"alice:{PLAIN}secret::::::user=bob\n"
		"carol:{PLAIN}secret::::::\n");
	struct result res;

	auth_start("passdb {\n driver = passwd-file\n args = %s\n}\n", path);
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "bob");
	plain_auth(&res, "carol", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "carol");
	/* the password is still alice's */
	assert_failure("bob", "secret");
}
END_TEST

START_TEST(test_nologin)
{
	struct result res;

	/* as Dovecot's auth service: the password check succeeds and the
	   nologin/reason fields go to the login process, which refuses */
	auth_start("passdb {\n driver = static\n"
		   " args = password=secret nologin reason=Maintenance\n}\n");
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	ck_assert(auth_fields_exists(res.fields, "nologin"));
	ck_assert_str_eq(auth_fields_get(res.fields, "reason"), "Maintenance");
	/* a wrong password is an ordinary failure, no reason given */
	plain_auth(&res, "alice", "wrong");
	ck_assert(!res.success);
	ck_assert_ptr_null(res.reason);

	/* with proxy, nologin just means "don't log in here" */
	auth_start("passdb {\n driver = static\n"
		   " args = password=secret nologin proxy host=192.0.2.1\n"
		   "}\n");
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(field(&res, "host"), "192.0.2.1");
}
END_TEST

/* ---- usernames ---- */

START_TEST(test_username_format)
{
	const char *path = write_file("users",
		"alice:{PLAIN}secret::::::\n"
		"bob:{PLAIN}secret::::::\n");
	struct result res;

	auth_start("auth_username_format = %%Lu\n"
		   "passdb {\n driver = passwd-file\n args = %s\n}\n", path);
	plain_auth(&res, "ALICE", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "alice");
	/* the default is %Lu too */
	auth_start("passdb {\n driver = passwd-file\n args = %s\n}\n", path);
	plain_auth(&res, "Alice", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "alice");
	/* %n drops the domain */
	auth_start("auth_username_format = %%n\n"
		   "passdb {\n driver = passwd-file\n args = %s\n}\n", path);
	plain_auth(&res, "bob@example.com", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "bob");
	/* no format: as typed */
	auth_start("auth_username_format =\n"
		   "passdb {\n driver = static\n args = password=secret\n}\n");
	plain_auth(&res, "MiXeD", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "MiXeD");
}
END_TEST

START_TEST(test_username_chars)
{
	struct result res;

	auth_start("auth_verbose = yes\n"
		   "passdb {\n driver = static\n args = password=secret\n}\n");
	plain_auth(&res, "al!ce", "secret");
	ck_assert(!res.success);
	ck_assert_ptr_nonnull(strstr(test_log_captured(),
		"Username character disallowed by auth_username_chars: "
		"0x21 (username: al!ce)"));
	plain_auth(&res, "al ce", "secret");
	ck_assert(!res.success);
	/* allowed ones */
	assert_success("a.l-i_c3@example.com", "secret");

	/* an empty auth_username_chars allows everything */
	auth_start("auth_username_chars =\n"
		   "passdb {\n driver = static\n args = password=secret\n}\n");
	assert_success("al!ce", "secret");

	/* a narrow set */
	auth_start("auth_username_chars = abc\n"
		   "passdb {\n driver = static\n args = password=secret\n}\n");
	assert_success("abc", "secret");
	assert_failure("abcd", "secret");
}
END_TEST

START_TEST(test_default_realm)
{
	const char *path = write_file("users",
		"alice@example.com:{PLAIN}secret::::::\n"
		"bob@other.org:{PLAIN}secret::::::\n");
	struct result res;

	auth_start("auth_default_realm = example.com\n"
		   "passdb {\n driver = passwd-file\n args = %s\n}\n", path);
	plain_auth(&res, "alice", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "alice@example.com");
	/* a name with a domain keeps it */
	plain_auth(&res, "bob@other.org", "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "bob@other.org");
	assert_failure("bob", "secret");
}
END_TEST

START_TEST(test_master_login_without_master_passdbs)
{
	struct result res;

	auth_start("auth_verbose = yes\n"
		   "passdb {\n driver = static\n args = password=secret\n}\n");
	/* PLAIN: authzid bob (log in as), authcid alice */
	plain_auth_rip(&res, "bob", "alice", "secret", RIP);
	ck_assert(!res.success);
	ck_assert_ptr_null(res.code);
	/* Dovecot reports the authcid */
	ck_assert_str_eq(res.user, "alice");
	ck_assert_ptr_nonnull(strstr(test_log_captured(),
		"Master user login attempted without master passdbs"));
	/* an authzid equal to the authcid is no master login */
	plain_auth_rip(&res, "alice", "alice", "secret", RIP);
	ck_assert(res.success);
	ck_assert_str_eq(res.user, "alice");
}
END_TEST

/* The default realm is added before auth_username_chars is checked
 * (Dovecot's auth_request_fix_username()): a set without '@' and '.'
 * refuses a name that gets "@example.com". */
START_TEST(test_default_realm_checked_by_chars)
{
	auth_start("auth_username_chars = abcdefghijklmnopqrstuvwxyz\n"
		   "auth_default_realm = example.com\n" PASSDB_STATIC);
	assert_failure("alice", "secret");
}
END_TEST

/* ---- the userdb chain ---- */

struct user_result {
	bool done, found;
	struct auth_fields *fields;
	const char *user;
};

static void user_cb(struct auth_request *req, bool found)
{
	struct user_result *ur = req->handler_context;
	const struct auth_fields *f = req->userdb_fields;

	ck_assert(!ur->done);
	ur->done = true;
	ur->found = found;
	ur->user = p_strdup(pool, req->lookup.user);
	ur->fields = auth_fields_new(pool);
	for (unsigned int i = 0; i < auth_fields_count(f); i++) {
		const char *key, *value;

		auth_fields_get_idx(f, i, &key, &value);
		auth_fields_set(ur->fields, p_strdup(pool, key),
				value == NULL ? NULL : p_strdup(pool, value));
	}
	io_loop_stop(loop);
}

/* A userdb lookup without authentication (as doveadm user / LDA). */
static void lookup_user(struct user_result *ur, const char *user)
{
	struct auth_request *req = auth_request_new(auth, NULL, &handler, ur);

	memset(ur, 0, sizeof(*ur));
	auth_request_import(req, "service", "lda");
	auth_request_set_user(req, user);
	auth_request_lookup_user(req, user_cb);
	if (!ur->done)
		ck_assert(run_loop());
	ck_assert(ur->done);
	auth_request_free(&req);
}

static const char *ufield(const struct user_result *ur, const char *key)
{
	return auth_fields_get(ur->fields, key);
}

static const char *userdb_file(void)
{
	return write_file("userdb",
		"alice:{PLAIN}secret:1000:1001::/home/alice::"
		"userdb_mail=maildir:~/Maildir\n"
		"bob:{PLAIN}secret:2000:2000::/home/bob::\n");
}

START_TEST(test_userdb_chain)
{
	const char *path = userdb_file();
	struct user_result ur;

	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n}\n"
		   "userdb {\n driver = static\n"
		   " args = uid=5000 gid=5000 home=/srv/%%u"
		   " allow_all_users=yes\n}\n", path);
	/* found in the first: return-ok, the static one isn't used */
	lookup_user(&ur, "alice");
	ck_assert(ur.found);
	ck_assert_str_eq(ufield(&ur, "uid"), "1000");
	ck_assert_str_eq(ufield(&ur, "gid"), "1001");
	ck_assert_str_eq(ufield(&ur, "home"), "/home/alice");
	ck_assert_str_eq(ufield(&ur, "mail"), "maildir:~/Maildir");
	/* not there: the static userdb answers */
	lookup_user(&ur, "carol");
	ck_assert(ur.found);
	ck_assert_str_eq(ufield(&ur, "uid"), "5000");
	ck_assert_str_eq(ufield(&ur, "home"), "/srv/carol");
	ck_assert_ptr_null(ufield(&ur, "mail"));
}
END_TEST

START_TEST(test_userdb_chain_rules)
{
	const char *path = userdb_file();
	struct user_result ur;

	/* continue-ok: both run, the later one's values win */
	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n"
		   " result_success = continue-ok\n}\n"
		   "userdb {\n driver = static\n"
		   " args = uid=5000 quota=1G allow_all_users=yes\n}\n", path);
	lookup_user(&ur, "alice");
	ck_assert(ur.found);
	ck_assert_str_eq(ufield(&ur, "uid"), "5000");
	ck_assert_str_eq(ufield(&ur, "gid"), "1001");
	ck_assert_str_eq(ufield(&ur, "home"), "/home/alice");
	ck_assert_str_eq(ufield(&ur, "quota"), "1G");

	/* skip = found */
	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n"
		   " result_success = continue-ok\n}\n"
		   "userdb {\n driver = static\n"
		   " args = uid=5000 quota=1G allow_all_users=yes\n"
		   " skip = found\n}\n", path);
	lookup_user(&ur, "alice");
	ck_assert(ur.found);
	ck_assert_str_eq(ufield(&ur, "uid"), "1000");
	ck_assert_ptr_null(ufield(&ur, "quota"));
	lookup_user(&ur, "carol");
	ck_assert(ur.found);
	ck_assert_str_eq(ufield(&ur, "uid"), "5000");

	/* skip = notfound */
	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n"
		   " result_success = continue-ok\n}\n"
		   "userdb {\n driver = static\n"
		   " args = quota=1G allow_all_users=yes\n"
		   " skip = notfound\n}\n", path);
	lookup_user(&ur, "alice");
	ck_assert(ur.found);
	ck_assert_str_eq(ufield(&ur, "quota"), "1G");
	lookup_user(&ur, "carol");
	ck_assert(!ur.found);

	/* return-fail on success */
	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n"
		   " result_success = return-fail\n}\n"
		   "userdb {\n driver = static\n"
		   " args = uid=5000 allow_all_users=yes\n}\n", path);
	lookup_user(&ur, "alice");
	ck_assert(!ur.found);

	/* result_failure = return-fail: not found ends the chain */
	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n"
		   " result_failure = return-fail\n}\n"
		   "userdb {\n driver = static\n"
		   " args = uid=5000 allow_all_users=yes\n}\n", path);
	lookup_user(&ur, "carol");
	ck_assert(!ur.found);
	lookup_user(&ur, "bob");
	ck_assert(ur.found);
	ck_assert_str_eq(ufield(&ur, "uid"), "2000");

	/* only passwd-file: unknown is not found */
	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n}\n", path);
	lookup_user(&ur, "carol");
	ck_assert(!ur.found);
}
END_TEST

/* "return" returns the earlier userdb_success, false at the start
 * (Dovecot's auth_request_userdb_callback()). */
START_TEST(test_userdb_return_first)
{
	const char *path = userdb_file();
	struct user_result ur;

	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n"
		   " result_success = return\n}\n", path);
	lookup_user(&ur, "alice");
	ck_assert(!ur.found);
}
END_TEST

/* userdb default_fields / override_fields (Dovecot applies them in
 * auth_request_lookup_user() and auth_request_userdb_callback()). */
START_TEST(test_userdb_default_override_fields)
{
	const char *path = userdb_file();
	struct user_result ur;

	auth_start(PASSDB_STATIC
		   "userdb {\n driver = passwd-file\n args = %s\n"
		   " default_fields = mail=mbox:~/mail quota=1G\n"
		   " override_fields = home=/override/%%u\n}\n", path);
	lookup_user(&ur, "alice");
	ck_assert(ur.found);
	/* the userdb's value beats default_fields */
	ck_assert_str_eq(ufield(&ur, "mail"), "maildir:~/Maildir");
	ck_assert_ptr_nonnull(ufield(&ur, "quota"));
	ck_assert_str_eq(ufield(&ur, "quota"), "1G");
	ck_assert_ptr_nonnull(ufield(&ur, "home"));
	ck_assert_str_eq(ufield(&ur, "home"), "/override/alice");
}
END_TEST

/* After an authentication, the userdb answer holds the userdb's fields,
 * not the passdb's extra fields (Dovecot keeps userdb_reply apart from
 * extra_fields; only userdb_* passdb fields go to the userdb). */
struct auth_then_user {
	struct result res;
	struct user_result ur;
};

static void atu_user_cb(struct auth_request *req, bool found)
{
	struct auth_then_user *atu = req->handler_context;
	const struct auth_fields *f = req->userdb_fields;

	atu->ur.done = true;
	atu->ur.found = found;
	atu->ur.user = p_strdup(pool, req->lookup.user);
	atu->ur.fields = auth_fields_new(pool);
	for (unsigned int i = 0; i < auth_fields_count(f); i++) {
		const char *key, *value;

		auth_fields_get_idx(f, i, &key, &value);
		auth_fields_set(atu->ur.fields, p_strdup(pool, key),
				value == NULL ? NULL : p_strdup(pool, value));
	}
	io_loop_stop(loop);
}

static void auth_then_lookup_user(struct auth_then_user *atu,
				  const char *user, const char *pass)
{
	struct auth_request *req;

	memset(atu, 0, sizeof(*atu));
	req = plain_start(&atu->res, "", user, pass, RIP);
	if (!atu->res.done)
		ck_assert(run_loop());
	ck_assert(atu->res.success);
	auth_request_lookup_user(req, atu_user_cb);
	if (!atu->ur.done)
		ck_assert(run_loop());
	ck_assert(atu->ur.done);
	auth_request_free(&req);
}

START_TEST(test_userdb_after_auth_renamed_user)
{
	const char *path = userdb_file();
	const char *pw = write_file("passdb",
		"robert:{PLAIN}secret::::::user=bob\n");
	struct auth_then_user atu;

	auth_start("passdb {\n driver = passwd-file\n args = %s\n}\n"
		   "userdb {\n driver = passwd-file\n args = %s\n}\n",
		   pw, path);
	/* user=bob from the passdb: the userdb looks up bob */
	auth_then_lookup_user(&atu, "robert", "secret");
	ck_assert_str_eq(atu.res.user, "bob");
	ck_assert(atu.ur.found);
	ck_assert_str_eq(atu.ur.user, "bob");
	ck_assert_str_eq(ufield(&atu.ur, "uid"), "2000");
}
END_TEST

START_TEST(test_userdb_fields_not_passdb_fields)
{
	struct auth_then_user atu;

	auth_start("passdb {\n driver = static\n"
		   " args = password=secret proxy_x=passdb-only\n}\n"
		   "userdb {\n driver = static\n"
		   " args = uid=5000 allow_all_users=yes\n}\n");
	auth_then_lookup_user(&atu, "alice", "secret");
	ck_assert(atu.ur.found);
	ck_assert_str_eq(ufield(&atu.ur, "uid"), "5000");
	ck_assert_ptr_null(ufield(&atu.ur, "proxy_x"));
}
END_TEST

/* ---- failure delay and penalty ---- */

START_TEST(test_failure_delay)
{
	struct result res;
	struct auth_request *req;
	uint64_t start;

	auth_start("auth_failure_delay = 1 secs\n" PASSDB_STATIC);
	start = io_loop_time_msecs();
	req = plain_start(&res, "", "alice", "wrong", NULL);
	/* not at once */
	ck_assert(!res.done);
	ck_assert(run_loop());
	ck_assert(res.done);
	ck_assert(!res.success);
	ck_assert_uint_ge(res.at - start, 1000);
	auth_request_free(&req);

	/* success isn't delayed */
	start = io_loop_time_msecs();
	plain_auth_rip(&res, "", "alice", "secret", NULL);
	ck_assert(res.success);
	ck_assert_uint_lt(res.at - start, 1000);
}
END_TEST

/* Freeing a request while its failure delay runs is safe. */
START_TEST(test_free_during_failure_delay)
{
	struct result res;
	struct auth_request *req;

	auth_start("auth_failure_delay = 1 secs\n" PASSDB_STATIC);
	req = plain_start(&res, "", "alice", "wrong", NULL);
	ck_assert(!res.done);
	auth_request_free(&req);
	/* the timer is gone: nothing fires */
	{
		struct timeout *to = timeout_add(loop, 1200, guard_cb, NULL);

		io_loop_run(loop);
		timeout_remove(&to);
	}
	ck_assert(!res.done);
}
END_TEST

START_TEST(test_penalty)
{
	struct result res;
	struct auth_request *req;
	uint64_t start;

	auth_start(PASSDB_STATIC);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 0);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, NULL), 0);

	plain_auth_rip(&res, "", "alice", "wrong", RIP);
	ck_assert(!res.success);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 2000);
	/* per IP */
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, "192.0.2.99"), 0);

	/* the next attempt from that IP waits before it starts */
	start = io_loop_time_msecs();
	req = plain_start(&res, "", "alice", "secret", RIP);
	ck_assert(!res.done);
	ck_assert_ptr_nonnull(req->delay_to);
	ck_assert(run_loop());
	ck_assert(res.success);
	ck_assert_uint_ge(res.at - start, 2000);
	auth_request_free(&req);
	/* and its success forgets the failures */
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 0);
}
END_TEST

START_TEST(test_penalty_growth)
{
	struct result res;

	auth_start(PASSDB_STATIC);
	plain_auth_rip(&res, "", "alice", "wrong", RIP);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 2000);
	/* doubling up to 15 s */
	auth_penalty_update(auth, RIP, true);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 4000);
	auth_penalty_update(auth, RIP, true);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 8000);
	auth_penalty_update(auth, RIP, true);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 15000);
	for (unsigned int i = 0; i < 50; i++)
		auth_penalty_update(auth, RIP, true);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 15000);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, "192.0.2.11"), 0);
	auth_penalty_update(auth, RIP, false);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 0);
}
END_TEST

/* no-penalty: the request neither waits nor counts. */
START_TEST(test_no_penalty)
{
	struct result res;
	struct auth_request *req;
	const struct mech_module *plain = mech_module_find("PLAIN");
	static const unsigned char wrong[] = "\0alice\0wrong";

	auth_start(PASSDB_STATIC);
	auth_penalty_update(auth, RIP, true);
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 2000);
	memset(&res, 0, sizeof(res));
	req = auth_request_new(auth, plain, &handler, &res);
	auth_request_import(req, "rip", RIP);
	auth_request_import(req, "no-penalty", NULL);
	auth_request_initial(req, wrong, sizeof(wrong) - 1);
	if (!res.done)
		ck_assert(run_loop());
	ck_assert(!res.success);
	ck_assert_ptr_null(req->delay_to);
	auth_request_free(&req);
	/* unchanged */
	ck_assert_uint_eq(auth_penalty_get_msecs(auth, RIP), 2000);
}
END_TEST

/* Freeing a request that waits for its penalty is safe. */
START_TEST(test_free_during_penalty)
{
	struct result res;
	struct auth_request *req;

	auth_start(PASSDB_STATIC);
	auth_penalty_update(auth, RIP, true);
	req = plain_start(&res, "", "alice", "secret", RIP);
	ck_assert_ptr_nonnull(req->delay_to);
	auth_request_free(&req);
	{
		struct timeout *to = timeout_add(loop, 2200, guard_cb, NULL);

		io_loop_run(loop);
		timeout_remove(&to);
	}
	ck_assert(!res.done);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_plain_malformed)
{
	static const unsigned char no_nul[] = "alicesecret";
	static const unsigned char three_nuls[] = "\0alice\0secret\0x";
	const struct mech_module *plain = mech_module_find("PLAIN");
	const unsigned char *inputs[] = { no_nul, three_nuls };
	const size_t sizes[] = { sizeof(no_nul) - 1, sizeof(three_nuls) - 1 };
	struct result res;

	auth_start(PASSDB_STATIC);
	for (unsigned int i = 0; i < N_ELEMENTS(inputs); i++) {
		struct auth_request *req;

		memset(&res, 0, sizeof(res));
		req = auth_request_new(auth, plain, &handler, &res);
		auth_request_import(req, "service", "imap");
		auth_request_initial(req, inputs[i], sizes[i]);
		if (!res.done)
			ck_assert(run_loop());
		ck_assert(!res.success);
		auth_request_free(&req);
	}
	/* an empty user */
	plain_auth(&res, "", "secret");
	ck_assert(!res.success);
}
END_TEST

/* An empty name is refused whatever auth_username_format is (Dovecot:
 * "Empty username", checked after the format, also without one). */
START_TEST(test_empty_username_without_format)
{
	struct result res;

	auth_start("auth_verbose = yes\nauth_username_format =\n"
		   PASSDB_STATIC);
	plain_auth(&res, "", "secret");
	ck_assert_msg(!res.success, "logged in as user '%s'",
		      res.user == NULL ? "(null)" : res.user);
}
END_TEST

START_TEST(test_username_long)
{
	char user[10001];
	struct result res;

	/* no limit of its own, as in Dovecot (the protocol lines bound
	   it); the log prefix shows the first 61 bytes and "..." */
	memset(user, 'a', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	auth_start(PASSDB_STATIC);
	plain_auth(&res, user, "secret");
	ck_assert(res.success);
	ck_assert_str_eq(res.user, user);
	auth_start("auth_verbose = yes\n"
		   "passdb {\n driver = static\n args = password=x\n}\n");
	test_log_capture_stop();
	test_log_capture_start();
	plain_auth(&res, user, "secret");
	ck_assert(!res.success);
	ck_assert_str_eq(test_log_captured(),
		"Info: static(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaa...): Password mismatch\n");
}
END_TEST

Suite *make_auth_request_suite(void)
{
	Suite *s = suite_create("auth_request");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_static_passdb);
	tcase_add_test(tc, test_passwd_file_passdb);
	tcase_add_test(tc, test_answer_once);
	tcase_add_test(tc, test_result_success_single);
	tcase_add_test(tc, test_result_failure_single);
	tcase_add_test(tc, test_result_return_first_passdb);
	tcase_add_test(tc, test_result_success_chain);
	tcase_add_test(tc, test_result_continue_fail_still_verifies);
	tcase_add_test(tc, test_result_failure_chain);
	tcase_add_test(tc, test_result_failure_continue_ok_skips_password);
	tcase_add_test(tc, test_result_internalfail_single);
	tcase_add_test(tc, test_result_internalfail_chain);
	tcase_add_test(tc, test_result_internalfail_then_mismatch_is_temp);
	tcase_add_test(tc, test_deny_passdb);
	tcase_add_test(tc, test_deny_passdb_code);
	tcase_add_test(tc, test_skip_authenticated);
	tcase_add_test(tc, test_skip_authenticated_after_continue);
	tcase_add_test(tc, test_skip_unauthenticated);
	tcase_add_test(tc, test_mechanisms_filter);
	tcase_add_test(tc, test_all_passdbs_skipped);
	tcase_add_test(tc, test_default_override_fields);
	tcase_add_test(tc, test_failed_passdb_fields_dropped);
	tcase_add_test(tc, test_user_field_renames);
	tcase_add_test(tc, test_nologin);
	tcase_add_test(tc, test_username_format);
	tcase_add_test(tc, test_username_chars);
	tcase_add_test(tc, test_default_realm);
	tcase_add_test(tc, test_default_realm_checked_by_chars);
	tcase_add_test(tc, test_master_login_without_master_passdbs);
	tcase_add_test(tc, test_userdb_chain);
	tcase_add_test(tc, test_userdb_chain_rules);
	tcase_add_test(tc, test_userdb_return_first);
	tcase_add_test(tc, test_userdb_default_override_fields);
	tcase_add_test(tc, test_userdb_after_auth_renamed_user);
	tcase_add_test(tc, test_userdb_fields_not_passdb_fields);
	tcase_add_test(tc, test_failure_delay);
	tcase_add_test(tc, test_free_during_failure_delay);
	tcase_add_test(tc, test_penalty);
	tcase_add_test(tc, test_penalty_growth);
	tcase_add_test(tc, test_no_penalty);
	tcase_add_test(tc, test_free_during_penalty);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_malformed);
	tcase_add_test(tc, test_username_long);
	tcase_add_test(tc, test_empty_username_without_format);
	suite_add_tcase(s, tc);
	return s;
}

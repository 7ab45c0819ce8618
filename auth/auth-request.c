/* auth-request.c - one authentication attempt from the client's first
 * AUTH to OK/FAIL: the mechanism, the passdb chain with Dovecot's
 * result_success/result_failure/result_internalfail rules, extra fields,
 * the userdb chain, the failure delay. */
#include "auth-request.h"
#include "auth-cache.h"
#include "auth-policy.h"
#include "auth-worker.h"
#include "password-scheme.h"
#include "var-expand.h"
#include "str.h"
#include "net.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>


static void passdb_chain_next(struct auth_request *req);
static void passdb_handle_result(struct auth_request *req, int res);
static void passdb_cache_worker_callback(struct auth_request *req,
					 int result);
static bool passdb_result_cache(struct auth_request *req,
				struct auth_passdb *pdb,
				enum passdb_result *result);
static void userdb_chain_next(struct auth_request *req);
static void auth_request_fail(struct auth_request *req, const char *code,
			      const char *reason);

/* ---- variables ---- */

static const struct var_expand_table *
auth_request_var_table(struct auth_request *req)
{
	return auth_lookup_var_table(&req->lookup, NULL);
}

static const char *expand(struct auth_request *req, const char *tmpl)
{
	string_t *str = str_new(128);
	const char *error, *ret;

	if (var_expand(str, tmpl, auth_request_var_table(req), NULL, NULL,
		       &error) < 0)
		i_error("%sFailed to expand %s: %s",
			auth_request_log_prefix(req, "auth"), tmpl, error);
	ret = p_strdup(req->pool, str_c(str));
	str_free(&str);
	return ret;
}

const char *auth_request_original_user(struct auth_request *req)
{
	const char *orig = req->lookup.original_user;

	if (orig == NULL || req->lookup.user == NULL)
		return NULL;
	if (!req->username_rejected && strcmp(orig, req->lookup.user) == 0)
		return NULL;
	return orig;
}

const char *auth_request_log_prefix(struct auth_request *req,
				    const char *subsystem)
{
	return auth_lookup_log_prefix(&req->lookup, subsystem);
}

const char *auth_request_mech_log_prefix(struct auth_request *req,
					 const char *user)
{
	struct auth_lookup tmp = req->lookup;
	char *name = p_strdup(req->pool, req->mech == NULL ? "auth" :
			      req->mech->name);

	for (char *p = name; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	tmp.user = user;
	return auth_lookup_log_prefix(&tmp, name);
}

static bool verbose_passwords(const struct auth_request *req)
{
	const char *vp = req->auth->set->auth_verbose_passwords;

	return vp[0] != '\0' && strncmp(vp, "no", 2) != 0;
}

/* A db's reason for failing ("Password mismatch", "unknown user", ...)
 * at Info, with auth_verbose or auth_verbose_passwords (which adds the
 * password). */
static void auth_request_log_reason(struct auth_request *req,
				    const char *driver, const char *reason,
				    bool next_passdb)
{
	const char *line;

	if (!req->auth->set->auth_verbose && !verbose_passwords(req))
		return;
	line = p_strdup_printf(req->pool, "%s%s",
		auth_request_log_prefix(req, driver),
		auth_login_failure_text(req->pool,
			req->auth->set->auth_verbose_passwords, reason,
			req->pending_password, next_passdb));
	i_info("%s", line);
}

static void auth_request_log_debug(struct auth_request *req,
				   const char *subsystem, const char *msg)
{
	if (req->lookup.debug)
		i_debug("%s%s", auth_request_log_prefix(req, subsystem), msg);
}

static void passdb_log_finished(struct auth_request *req, const char *driver)
{
	if (req->passdb_performing)
		auth_request_log_debug(req, driver, "Finished passdb lookup");
	req->passdb_performing = false;
}

/* ---- lifecycle ---- */

struct auth_request *auth_request_new(struct auth *auth,
				      const struct mech_module *mech,
				      const struct auth_request_handler *h,
				      void *context)
{
	pool_t pool = pool_create("auth request", 2048);
	struct auth_request *req = p_new(pool, struct auth_request, 1);

	req->auth = auth;
	req->pool = pool;
	req->mech = mech;
	req->handler = h;
	req->handler_context = context;
	req->lookup.pool = pool;
	req->lookup.extra_fields = auth_fields_new(pool);
	req->lookup.debug = auth->set->auth_debug;
	req->lookup.mech = mech == NULL ? "" : mech->name;
	req->userdb_fields = auth_fields_new(pool);
	req->created_msecs = io_loop_time_msecs();
	return req;
}

void auth_request_free(struct auth_request **_req)
{
	struct auth_request *req = *_req;
	pool_t pool;

	if (req == NULL)
		return;
	*_req = NULL;
	if (req->auth->workers != NULL)
		auth_worker_cancel(req->auth->workers, req);
	auth_policy_abort(req);
	timeout_remove(&req->delay_to);
	if (req->mech_req != NULL)
		mech_request_free(&req->mech_req);
	if (req->pending_password != NULL) {
		explicit_bzero(req->pending_password,
			       strlen(req->pending_password));
		free(req->pending_password);
	}
	pool = req->pool;
	pool_destroy(&pool);
}

void auth_request_import(struct auth_request *req, const char *key,
			 const char *value)
{
	const char *v = value == NULL ? NULL : p_strdup(req->pool, value);

	if (strcmp(key, "service") == 0)
		req->lookup.service = v;
	else if (strcmp(key, "lip") == 0)
		req->lookup.local_ip = v;
	else if (strcmp(key, "rip") == 0)
		req->lookup.remote_ip = v;
	else if (strcmp(key, "lport") == 0 && v != NULL)
		req->lookup.local_port = (unsigned int)atoi(v);
	else if (strcmp(key, "rport") == 0 && v != NULL)
		req->lookup.remote_port = (unsigned int)atoi(v);
	else if (strcmp(key, "session") == 0)
		req->lookup.session_id = v;
	else if (strcmp(key, "secured") == 0) {
		req->lookup.secured = true;
		req->tls = v != NULL && strcmp(v, "tls") == 0;
	} else if (strcmp(key, "client_id") == 0)
		req->client_id = v;
	else if (strcmp(key, "nologin") == 0)
		req->no_login = true;
	else if (strcmp(key, "no-penalty") == 0)
		req->no_penalty = true;
	else if (strcmp(key, "valid-client-cert") == 0)
		req->valid_client_cert = true;
	else if (strcmp(key, "debug") == 0)
		req->debug = true;
	else if (strcmp(key, "final-resp-ok") == 0)
		req->final_resp_ok = true;
}

/* ---- usernames ---- */

const char *auth_request_fix_username(struct auth_request *req,
				      const char *username,
				      const char **error_r)
{
	const struct settings_root *set = req->auth->set;
	string_t *str;
	const char *user = username, *ret;

	/* no length limit of its own, as in Dovecot: the protocols' line
	   limits bound it */
	if (set->auth_username_translation[0] != '\0') {
		/* "from to from to ..." character pairs */
		char *copy = p_strdup(req->pool, user);
		const char *tr = set->auth_username_translation;
		size_t tlen = strlen(tr);

		for (char *p = copy; *p != '\0'; p++) {
			for (size_t i = 0; i + 1 < tlen; i += 2) {
				if (*p == tr[i]) {
					*p = tr[i + 1];
					break;
				}
			}
		}
		user = copy;
	}
	if (strchr(user, '@') == NULL && set->auth_default_realm[0] != '\0')
		user = p_strdup_printf(req->pool, "%s@%s", user,
				       set->auth_default_realm);
	if (user[0] == '\0') {
		*error_r = "Empty username";
		return NULL;
	}
	if (set->auth_username_chars[0] != '\0') {
		for (const char *p = user; *p != '\0'; p++) {
			if (strchr(set->auth_username_chars, *p) == NULL) {
				*error_r = p_strdup_printf(req->pool,
					"Username character disallowed by "
					"auth_username_chars: 0x%02x (username: "
					"%s)", (unsigned char)*p, user);
				return NULL;
			}
		}
	}
	if (set->auth_username_format[0] == '\0')
		return user;
	/* auth_username_format is expanded with the user being set */
	req->lookup.user = user;
	str = str_new(64);
	{
		const char *error;

		(void)var_expand(str, set->auth_username_format,
				 auth_request_var_table(req), NULL, NULL,
				 &error);
	}
	ret = p_strdup(req->pool, str_c(str));
	str_free(&str);
	if (ret[0] == '\0') {
		*error_r = "Empty username";
		return NULL;
	}
	return ret;
}

void auth_request_set_user(struct auth_request *req, const char *user)
{
	req->lookup.original_user = p_strdup(req->pool, user);
	req->lookup.user = p_strdup(req->pool, user);
}

static bool mech_set_username(struct mech_request *mreq, const char *username,
			      const char *authzid, const char **error_r)
{
	struct auth_request *req = mreq->context;
	const char *user;

	req->lookup.original_user = p_strdup(req->pool, username);
	const char *sep = req->auth->set->auth_master_user_separator;
	const char *p;

	if ((authzid == NULL || authzid[0] == '\0') && sep[0] != '\0' &&
	    (p = strstr(username, sep)) != NULL) {
		/* "user*master": log in as user with master's password */
		authzid = p_strndup(req->pool, username,
				    (size_t)(p - username));
		username = p_strdup(req->pool, p + strlen(sep));
		req->lookup.original_user = username;
	}
	if (authzid != NULL && authzid[0] != '\0' &&
	    strcmp(authzid, username) != 0) {
		/* login as authzid with authcid's (master) password */
		if (!req->auth->have_master_passdbs) {
			/* Dovecot reports the authcid in the FAIL */
			req->lookup.user = p_strdup(req->pool, username);
			/* the mechanism logs it with its own prefix */
			*error_r = "login user: Master user login attempted "
				"without master passdbs";
			return false;
		}
		user = auth_request_fix_username(req, username, error_r);
		if (user == NULL) {
			req->lookup.user = p_strdup(req->pool, username);
			req->username_rejected = true;
			return false;
		}
		req->master_user = user;
		username = authzid;
	}
	user = auth_request_fix_username(req, username, error_r);
	if (user == NULL) {
		/* Dovecot's FAIL names the login as given */
		req->lookup.user = p_strdup(req->pool, username);
		req->username_rejected = true;
		return false;
	}
	req->lookup.user = user;
	return true;
}

/* ---- the passdb chain ---- */

/* passdbs to try for this request: master ones for the master user. */
static bool passdb_applies(struct auth_request *req,
			   const struct auth_passdb *pdb)
{
	const struct settings_passdb *set = pdb->set;

	if (set->master != (req->master_user != NULL &&
			    !req->password_verified))
		return false;
	if (strcmp(set->skip, "authenticated") == 0 && req->password_verified)
		return false;
	if (strcmp(set->skip, "unauthenticated") == 0 &&
	    !req->password_verified)
		return false;
	if (set->mechanisms[0] != '\0' && req->mech != NULL) {
		char *copy = p_strdup(req->pool, set->mechanisms);
		char *save = NULL, *m;
		bool found = false;

		for (m = strtok_r(copy, " ,", &save); m != NULL;
		     m = strtok_r(NULL, " ,", &save)) {
			if (strcasecmp(m, req->mech->name) == 0)
				found = true;
		}
		if (!found)
			return false;
	}
	return true;
}

static void apply_fields_to(struct auth_request *req,
			    struct auth_fields *dest, const char *tmpl,
			    bool override)
{
	struct auth_fields *tmp;

	if (tmpl == NULL || tmpl[0] == '\0')
		return;
	tmp = auth_fields_new(req->pool);
	auth_fields_import(tmp, expand(req, tmpl));
	for (unsigned int i = 0; i < auth_fields_count(tmp); i++) {
		const char *key, *value;

		auth_fields_get_idx(tmp, i, &key, &value);
		if (override || !auth_fields_exists(dest, key))
			auth_fields_set(dest, key, value);
	}
}

static void apply_fields(struct auth_request *req, const char *tmpl,
			 bool override)
{
	apply_fields_to(req, req->lookup.extra_fields, tmpl, override);
}

/* The allow_nets extra field: the remote IP must be in one of the
 * listed networks ("local" = connections without rip). */
static bool allow_nets_ok(struct auth_request *req)
{
	const char *nets = auth_fields_get(req->lookup.extra_fields,
					   "allow_nets");
	struct ip_addr rip, net;
	char *copy, *save = NULL, *tok;
	unsigned int bits;
	const char *error;

	if (nets == NULL)
		return true;
	if (req->lookup.remote_ip == NULL ||
	    net_addr2ip(req->lookup.remote_ip, &rip) < 0) {
		/* no remote IP: allowed only if "local" is listed */
		return strstr(nets, "local") != NULL;
	}
	copy = p_strdup(req->pool, nets);
	for (tok = strtok_r(copy, " ,", &save); tok != NULL;
	     tok = strtok_r(NULL, " ,", &save)) {
		if (strcmp(tok, "local") == 0)
			continue;
		if (net_parse_range(tok, &net, &bits, &error) < 0) {
			i_error("%sallow_nets: Invalid network '%s'",
				auth_request_log_prefix(req, "auth"), tok);
			continue;
		}
		if (net_is_in_network(&rip, &net, bits))
			return true;
	}
	i_info("%sallow_nets check failed: IP not in allowed networks",
	       auth_request_log_prefix(req, "auth"));
	return false;
}

static void passdb_finish(struct auth_request *req)
{
	enum passdb_result result = req->passdb_success ? PASSDB_RESULT_OK :
		(req->passdb_result == PASSDB_RESULT_OK ?
		 PASSDB_RESULT_PASSWORD_MISMATCH : req->passdb_result);

	if (!req->passdb_success) {
		/* an earlier internal error makes the failure temporary,
		   as it does in Dovecot */
		if (req->passdb_internal_failure)
			result = PASSDB_RESULT_INTERNAL_FAILURE;
		if (result == PASSDB_RESULT_USER_DISABLED)
			req->fail_code = "user_disabled";
		else if (result == PASSDB_RESULT_INTERNAL_FAILURE)
			req->fail_code = MECH_FAIL_CODE_TEMP;
	}
	const char *user = auth_fields_get(req->lookup.extra_fields, "user");

	if (user != NULL && user[0] != '\0')
		req->lookup.user = p_strdup(req->pool, user);
	/* nologin/reason go to the client in OK: the login process
	   refuses the login, as with Dovecot */
	if (result == PASSDB_RESULT_OK && !allow_nets_ok(req)) {
		req->fail_code = NULL;
		result = PASSDB_RESULT_PASSWORD_MISMATCH;
	}
	const char *driver = req->passdb_idx < req->auth->passdb_count ?
		req->auth->passdbs[req->passdb_idx].set->driver : "auth";

	if (req->pending_password != NULL || req->wanted_scheme == NULL) {
		passdb_log_finished(req, driver);
		if (req->mech_req != NULL)
			mech_verify_plain_result(req->mech_req, result);
		else if (result == PASSDB_RESULT_OK)
			req->handler->reply_success(req, NULL, 0);
		else
			auth_request_fail(req, NULL, NULL);
		return;
	}
	/* credentials for CRAM-MD5/DIGEST-MD5/SCRAM */
	if (result != PASSDB_RESULT_OK || req->lookup.password == NULL) {
		passdb_log_finished(req, driver);
		mech_credentials_result(req->mech_req,
			result == PASSDB_RESULT_OK ?
			PASSDB_RESULT_SCHEME_NOT_AVAILABLE : result, NULL, 0);
		return;
	}
	unsigned char *cred;
	size_t size;
	const char *error;
	/* DIGEST-MD5 credentials are made with the name as the client
	   gave it, before auth_username_format (Dovecot does the same) */
	int ret = password_get_credentials(req->lookup.password,
					   req->lookup.default_scheme,
					   req->wanted_scheme,
					   req->lookup.original_user != NULL ?
					   req->lookup.original_user :
					   req->lookup.user, &cred, &size,
					   &error);

	/* logged with the name of the passdb that had the password */
	const char *cred_driver = req->cred_driver != NULL ?
		req->cred_driver : driver;

	if (ret <= 0) {
		if (ret < 0)
			i_error("%s%s", auth_request_log_prefix(req,
								cred_driver),
				error);
		else
			i_info("%s%s", auth_request_log_prefix(req,
							       cred_driver),
			       error);
		passdb_log_finished(req, driver);
		mech_credentials_result(req->mech_req,
					PASSDB_RESULT_SCHEME_NOT_AVAILABLE,
					NULL, 0);
		return;
	}
	passdb_log_finished(req, driver);
	mech_credentials_result(req->mech_req, PASSDB_RESULT_OK, cred, size);
	explicit_bzero(cred, size);
	free(cred);
}

/* Apply one passdb's result with its result_* rule; continue or stop. */
static void passdb_handle_result(struct auth_request *req, int res)
{
	struct auth_passdb *pdb = &req->auth->passdbs[req->passdb_idx];
	enum passdb_result result = (enum passdb_result)res;
	const char *rule;

	if (!passdb_result_cache(req, pdb, &result))
		return;
	req->cache_fallback = false;

	/* back to the user being logged in as, unless the master user's own
	   password was wrong: then Dovecot's FAIL names the master user */
	if (pdb->set->master && result == PASSDB_RESULT_OK)
		req->lookup.user = req->login_user;

	if (pdb->set->deny) {
		/* a deny passdb that knows the user refuses it */
		if (result == PASSDB_RESULT_OK) {
			i_info("%sUser found from deny passdb",
			       auth_request_log_prefix(req, pdb->set->driver));
			req->passdb_success = false;
			req->passdb_result = PASSDB_RESULT_USER_DISABLED;
			passdb_finish(req);
			return;
		}
		req->passdb_idx++;
		passdb_chain_next(req);
		return;
	}
	req->passdb_ran = true;
	if (result != PASSDB_RESULT_OK) {
		/* a failed passdb's fields don't count (except after a
		   worker's check of a cached password) */
		if (!req->passdb_keep_fields)
			req->lookup.extra_fields = req->saved_fields;
		req->passdb_keep_fields = false;
		req->lookup.password = NULL;
		req->lookup.default_scheme = NULL;
	}
	if (result == PASSDB_RESULT_INTERNAL_FAILURE)
		req->passdb_internal_failure = true;
	if (result != PASSDB_RESULT_OK && req->lookup.log_reason != NULL)
		auth_request_log_reason(req, pdb->set->driver,
					req->lookup.log_reason,
					req->passdb_idx + 1 <
					req->auth->passdb_count);
	req->lookup.log_reason = NULL;
	if (result == PASSDB_RESULT_OK)
		req->cred_driver = pdb->set->driver;
	if (result == PASSDB_RESULT_OK) {
		/* Dovecot's order: default_fields first, then what the
		   passdb returned, then override_fields */
		struct auth_fields *fields = auth_fields_new(req->pool);

		apply_fields_to(req, fields, pdb->set->default_fields, true);
		auth_fields_merge(fields, req->lookup.extra_fields, NULL,
				  false);
		req->lookup.extra_fields = fields;
		apply_fields(req, pdb->set->override_fields, true);
		rule = pdb->set->result_success;
	} else if (result == PASSDB_RESULT_INTERNAL_FAILURE) {
		rule = pdb->set->result_internalfail;
	} else {
		rule = pdb->set->result_failure;
	}
	if (result != PASSDB_RESULT_OK && result != PASSDB_RESULT_NEXT)
		req->passdb_result = result;
	if (pdb->set->master && result == PASSDB_RESULT_OK) {
		/* the master user's password was right: now look up the
		   user to log in as, without a password check */
		req->password_verified = true;
		if (!pdb->set->pass) {
			req->passdb_success = true;
			passdb_finish(req);
			return;
		}
	}
	if (strcmp(rule, "return-ok") == 0 ||
	    strcmp(rule, "continue-ok") == 0) {
		req->passdb_success = true;
	} else if (strcmp(rule, "return-fail") == 0 ||
		   strcmp(rule, "continue-fail") == 0) {
		req->passdb_success = false;
	}
	/* "return" and "continue" keep the state (failure at the start);
	   later passdbs skip the password check after continue(-ok) */
	if (strcmp(rule, "continue-ok") == 0 ||
	    (strcmp(rule, "continue") == 0 && result == PASSDB_RESULT_OK))
		req->password_verified = true;
	if (strncmp(rule, "return", 6) == 0) {
		passdb_finish(req);
		return;
	}
	passdb_log_finished(req, pdb->set->driver);
	req->passdb_idx++;
	passdb_chain_next(req);
}

static void passdb_worker_callback(struct auth_request *req, int result)
{
	passdb_handle_result(req, result);
}

/* Ask the passdb itself: in a worker when it blocks. */
static void passdb_call_db(struct auth_request *req, struct auth_passdb *pdb,
			   enum auth_worker_op op, const char *password)
{
	struct auth *auth = req->auth;

	req->passdb_cached = false;
	if (pdb->module->blocking && auth->workers != NULL) {
		auth_worker_call(auth->workers, req, op, pdb->idx, password,
				 passdb_worker_callback);
		return;
	}
	passdb_handle_result(req, auth_worker_run_sync(auth, &req->lookup,
		op, pdb->idx, password));
}

/* A worker checked the password against the cached one. */
static void passdb_cache_worker_callback(struct auth_request *req,
					 int result)
{
	struct auth_passdb *pdb = &req->auth->passdbs[req->passdb_idx];
	enum passdb_result res;

	if (auth_request_passdb_cache_verified(req, pdb,
			(enum passdb_result)result, &res) == 0) {
		if (req->cache_fallback) {
			/* only the expired entry was left: the failure
			   stands */
			req->passdb_cached = true;
			passdb_handle_result(req,
				PASSDB_RESULT_INTERNAL_FAILURE);
			return;
		}
		passdb_call_db(req, pdb, AUTH_WORKER_PASSV,
			       req->pending_password);
		return;
	}
	req->passdb_cached = true;
	passdb_handle_result(req, res);
}

/* The auth cache's part of a passdb result: store what the database
 * said, or when it failed, fall back to an expired entry. Returns false
 * when a worker now verifies the password (the result comes later). */
static bool passdb_result_cache(struct auth_request *req,
				struct auth_passdb *pdb,
				enum passdb_result *result)
{
	enum passdb_result cached;

	if (req->passdb_cached || req->auth->cache == NULL)
		return true;
	req->passdb_cached = true;
	if (*result != PASSDB_RESULT_INTERNAL_FAILURE) {
		auth_request_passdb_cache_save(req, pdb, *result);
		return true;
	}
	req->lookup.extra_fields = auth_fields_new(req->pool);
	auth_fields_merge(req->lookup.extra_fields, req->saved_fields, NULL,
			  false);
	req->cache_fallback = true;
	switch (auth_request_passdb_cache_lookup(req, pdb, true,
			passdb_cache_worker_callback, &cached)) {
	case 1:
		i_info("%sFalling back to expired data from cache",
		       auth_request_log_prefix(req, pdb->set->driver));
		*result = cached;
		break;
	case 2:
		return false;
	default:
		break;
	}
	req->cache_fallback = false;
	return true;
}

static void passdb_all_skipped(struct auth_request *req)
{
	i_error("%sAll password databases were skipped",
		auth_request_log_prefix(req, "auth"));
	req->passdb_internal_failure = true;
}

static void passdb_chain_next(struct auth_request *req)
{
	struct auth *auth = req->auth;

	for (; req->passdb_idx < auth->passdb_count; req->passdb_idx++) {
		struct auth_passdb *pdb = &auth->passdbs[req->passdb_idx];
		enum auth_worker_op op;
		enum passdb_result cached;
		const char *password = NULL;

		req->passdb_cached = false;
		if (!passdb_applies(req, pdb))
			continue;
		if (pdb->set->deny || req->password_verified ||
		    req->pending_password == NULL) {
			op = AUTH_WORKER_CRED;
		} else {
			op = AUTH_WORKER_PASSV;
			password = req->pending_password;
		}
		if (op == AUTH_WORKER_CRED &&
		    pdb->module->driver->lookup_credentials == NULL) {
			if (pdb->set->deny || req->password_verified)
				continue;
			req->passdb_cached = true; /* not the db's answer */
			passdb_handle_result(req,
				PASSDB_RESULT_SCHEME_NOT_AVAILABLE);
			return;
		}
		req->saved_fields = auth_fields_new(req->pool);
		auth_fields_merge(req->saved_fields, req->lookup.extra_fields,
				  NULL, false);
		/* a master passdb checks the master user's password */
		req->lookup.user = pdb->set->master ? req->master_user :
			req->login_user;
		req->passdb_credentials = op == AUTH_WORKER_CRED;
		req->passdb_performing = true;
		auth_request_log_debug(req, pdb->set->driver,
				       "Performing passdb lookup");
		switch (auth_request_passdb_cache_lookup(req, pdb, false,
				passdb_cache_worker_callback, &cached)) {
		case 1:
			req->passdb_cached = true;
			passdb_handle_result(req, cached);
			return;
		case 2:
			return;	/* a worker checks the cached password */
		default:
			break;
		}
		passdb_call_db(req, pdb, op, password);
		return;
	}
	if (!req->passdb_ran)
		passdb_all_skipped(req);
	passdb_finish(req);
}

static void passdb_start(struct auth_request *req)
{
	req->passdb_ran = false;
	req->passdb_internal_failure = false;
	req->login_user = req->lookup.user;
	req->passdb_idx = 0;
	req->passdb_success = false;
	req->password_verified = false;
	req->passdb_result = PASSDB_RESULT_USER_UNKNOWN;
	passdb_chain_next(req);
}

void auth_request_verify_plain_direct(struct auth_request *req,
				      const char *password)
{
	if (password != NULL)
		req->pending_password = i_strdup(password);
	passdb_start(req);
}

/* ---- mechanism ops ---- */

/* The policy server said no (or failed, with reject_on_fail). */
static void policy_refused(struct auth_request *req)
{
	auth_request_fail(req, NULL, NULL);
}

static void policy_before_done(struct auth_request *req, bool refused)
{
	if (refused)
		policy_refused(req);
	else
		passdb_start(req);
}

/* Ask the policy server first when it wants to be asked. */
static void passdb_start_checked(struct auth_request *req)
{
	if (auth_policy_wants_check(req, false))
		auth_policy_check(req, false, policy_before_done);
	else
		passdb_start(req);
}

static void mech_verify_plain(struct mech_request *mreq, const char *password)
{
	struct auth_request *req = mreq->context;

	req->pending_password = i_strdup(password);
	passdb_start_checked(req);
}

static void mech_lookup_credentials(struct mech_request *mreq,
				    const char *scheme)
{
	struct auth_request *req = mreq->context;

	req->wanted_scheme = p_strdup(req->pool, scheme);
	req->lookup.credentials_scheme = req->wanted_scheme;
	passdb_start_checked(req);
}

static void mech_reply_continue(struct mech_request *mreq,
				const unsigned char *data, size_t size)
{
	struct auth_request *req = mreq->context;

	req->handler->reply_continue(req, data, size);
}

static void mech_success(struct mech_request *mreq,
			 const unsigned char *data, size_t size);

static void policy_after_done(struct auth_request *req, bool refused)
{
	if (refused) {
		policy_refused(req);
		return;
	}
	req->policy_after_done = true;
	mech_success(req->mech_req, req->success_data, req->success_size);
}

static void mech_success(struct mech_request *mreq,
			 const unsigned char *data, size_t size)
{
	struct auth_request *req = mreq->context;

	if (!req->policy_after_done && auth_policy_wants_check(req, true)) {
		/* the passdbs said yes: the policy server decides */
		req->success_data = p_malloc(req->pool, size + 1);
		if (size > 0)
			memcpy(req->success_data, data, size);
		req->success_size = size;
		auth_policy_check(req, true, policy_after_done);
		return;
	}
	if (size > 0 && !req->final_resp_ok) {
		/* the client can't take data in OK: one more round */
		req->success_pending = true;
		req->handler->reply_continue(req, data, size);
		return;
	}
	req->finished = true;
	auth_request_log_debug(req, "auth", "Auth request finished");
	auth_policy_report(req);
	auth_penalty_update(req->auth, req->lookup.remote_ip, false);
	req->handler->reply_success(req, data, size);
}

static void mech_fail(struct mech_request *mreq, const char *reason)
{
	if (reason != NULL && strcmp(reason, MECH_FAIL_CODE_TEMP) == 0)
		auth_request_fail(mreq->context, MECH_FAIL_CODE_TEMP, NULL);
	else
		auth_request_fail(mreq->context, NULL, NULL);
}

static const unsigned char *
mech_channel_binding(struct mech_request *mreq ATTR_UNUSED,
		     const char *type ATTR_UNUSED, size_t *size_r)
{
	/* the login side does not pass TLS channel bindings yet */
	*size_r = 0;
	return NULL;
}

/* A mechanism's log line with Dovecot's "<mech>(<user>,<rip>,<session>): "
 * prefix; info lines only with auth_verbose, debug ones with auth_debug. */
static void mech_log(struct mech_request *mreq, enum log_type type,
		     const char *user, const char *msg)
{
	struct auth_request *req = mreq->context;

	if ((type == LOG_TYPE_INFO && !req->auth->set->auth_verbose) ||
	    (type == LOG_TYPE_DEBUG && !req->lookup.debug))
		return;
	i_log(type, "%s%s", auth_request_mech_log_prefix(req, user), msg);
}

static const struct mech_ops auth_mech_ops = {
	.set_username = mech_set_username,
	.verify_plain = mech_verify_plain,
	.lookup_credentials = mech_lookup_credentials,
	.reply_continue = mech_reply_continue,
	.success = mech_success,
	.fail = mech_fail,
	.channel_binding = mech_channel_binding,
	.log = mech_log,
};

static void start_mech(struct auth_request *req, const unsigned char *data,
		       size_t size, bool have_data)
{
	req->mech_req = mech_request_new(req->mech, req->pool, &auth_mech_ops,
					 &req->auth->mech_set, req);
	req->mech->auth_initial(req->mech_req, have_data ? data : NULL,
				have_data ? size : 0);
}

struct delayed_start {
	unsigned char *data;
	size_t size;
	bool have_data;
};

static void penalty_done(void *context)
{
	struct auth_request *req = context;
	struct delayed_start *ds = req->delay_context;

	timeout_remove(&req->delay_to);
	start_mech(req, ds->data, ds->size, ds->have_data);
}

void auth_request_initial(struct auth_request *req,
			  const unsigned char *data, size_t size)
{
	unsigned int penalty = req->no_penalty ? 0 :
		auth_penalty_get_msecs(req->auth, req->lookup.remote_ip);

	if (penalty == 0 || req->auth->loop == NULL) {
		start_mech(req, data, size, data != NULL);
		return;
	}
	/* slow down an IP that failed before */
	struct delayed_start *ds = p_new(req->pool, struct delayed_start, 1);

	ds->have_data = data != NULL;
	ds->size = size;
	ds->data = data == NULL ? NULL : p_malloc(req->pool, size + 1);
	if (data != NULL)
		memcpy(ds->data, data, size);
	req->delay_context = ds;
	req->delay_to = timeout_add(req->auth->loop, penalty, penalty_done,
				    req);
}

void auth_request_continue(struct auth_request *req,
			   const unsigned char *data, size_t size)
{
	if (req->success_pending) {
		req->success_pending = false;
		req->finished = true;
		auth_request_log_debug(req, "auth", "Auth request finished");
		auth_policy_report(req);
		auth_penalty_update(req->auth, req->lookup.remote_ip, false);
		req->handler->reply_success(req, NULL, 0);
		return;
	}
	if (req->mech_req == NULL) {
		auth_request_fail(req, NULL, NULL);
		return;
	}
	req->mech->auth_continue(req->mech_req, data, size);
}

/* ---- failure ---- */

struct fail_ctx {
	const char *code, *reason;
};

static void fail_delay_done(void *context)
{
	struct auth_request *req = context;
	struct fail_ctx *fc = req->delay_context;

	timeout_remove(&req->delay_to);
	req->handler->reply_fail(req, fc->code, fc->reason);
}

static void auth_request_fail(struct auth_request *req, const char *code,
			      const char *reason)
{
	unsigned int delay = req->auth->set->auth_failure_delay * 1000;

	req->failed = true;
	req->finished = true;
	if (req->mech != NULL) {
		auth_request_log_debug(req, "auth", "Auth request finished");
		auth_policy_report(req);
	}
	if (code == NULL)
		code = req->fail_code;
	if (!req->no_penalty)
		auth_penalty_update(req->auth, req->lookup.remote_ip, true);
	if (delay == 0 || req->auth->loop == NULL || req->no_delay ||
	    auth_fields_exists(req->lookup.extra_fields, "nodelay")) {
		req->handler->reply_fail(req, code, reason);
		return;
	}
	struct fail_ctx *fc = p_new(req->pool, struct fail_ctx, 1);

	fc->code = code == NULL ? NULL : p_strdup(req->pool, code);
	fc->reason = reason == NULL ? NULL : p_strdup(req->pool, reason);
	req->delay_context = fc;
	req->delay_to = timeout_add(req->auth->loop, delay, fail_delay_done,
				    req);
}

/* ---- the userdb chain ---- */

static void userdb_finish(struct auth_request *req)
{
	req->userdb_callback(req, req->userdb_success);
}

/* The auth cache's part of a userdb result: store this userdb's fields,
 * or when the database failed, fall back to an expired entry. */
static void userdb_result_cache(struct auth_request *req,
				struct auth_userdb *udb, int *res)
{
	struct auth_fields *own, *cached;
	enum userdb_result ures;

	if (req->userdb_cached || req->auth->cache == NULL)
		return;
	if (*res == USERDB_RESULT_INTERNAL_FAILURE) {
		if (auth_request_userdb_cache_lookup(req, udb, true, &ures,
						     &cached) > 0) {
			i_info("%sFalling back to expired data from cache",
			       auth_request_log_prefix(req, udb->set->driver));
			req->userdb_cached = true;
			req->lookup.extra_fields = cached != NULL ? cached :
				auth_fields_new(req->pool);
			*res = ures;
		}
		return;
	}
	own = NULL;
	if (*res == USERDB_RESULT_OK) {
		/* what this userdb gives: its default_fields, the db's own
		   fields, its override_fields */
		own = auth_fields_new(req->pool);
		apply_fields_to(req, own, udb->set->default_fields, true);
		auth_fields_merge(own, req->lookup.extra_fields, NULL, false);
		apply_fields_to(req, own, udb->set->override_fields, true);
	}
	auth_request_userdb_cache_save(req, udb, (enum userdb_result)*res,
				       own);
}

static void userdb_handle_result(struct auth_request *req, int res)
{
	struct auth_userdb *udb = &req->auth->userdbs[req->userdb_idx];
	const char *rule;

	userdb_result_cache(req, udb, &res);
	/* (prefetch wrote its own debug line already) */
	if (res != USERDB_RESULT_OK && req->lookup.log_reason != NULL &&
	    strcmp(udb->set->driver, "prefetch") != 0)
		auth_request_log_reason(req, udb->set->driver,
					req->lookup.log_reason, false);
	req->lookup.log_reason = NULL;
	if (req->userdb_performing)
		auth_request_log_debug(req, udb->set->driver,
				       "Finished userdb lookup");
	req->userdb_performing = false;
	if (res == USERDB_RESULT_OK && req->userdb_cached) {
		/* a cached result is this userdb's whole contribution:
		   defaults and overrides are in it already */
		struct auth_fields *fields = auth_fields_new(req->pool);

		auth_fields_merge(fields, req->userdb_fields, NULL, false);
		auth_fields_merge(fields, req->lookup.extra_fields, NULL,
				  false);
		req->userdb_fields = fields;
		rule = udb->set->result_success;
	} else if (res == USERDB_RESULT_OK) {
		/* default_fields first, then the userdb's, then override */
		/* Dovecot's order: default_fields, what came before (the
		   passdb's userdb_* fields, earlier userdbs), this userdb's
		   fields, override_fields */
		struct auth_fields *fields = auth_fields_new(req->pool);

		apply_fields_to(req, fields, udb->set->default_fields, true);
		/* (a default_fields value wins over the passdb's) */
		for (unsigned int i = 0;
		     i < auth_fields_count(req->userdb_fields); i++) {
			const char *key, *value;

			auth_fields_get_idx(req->userdb_fields, i, &key,
					    &value);
			if (!auth_fields_exists(fields, key))
				auth_fields_set(fields, key, value);
		}
		auth_fields_merge(fields, req->lookup.extra_fields, NULL,
				  false);
		apply_fields_to(req, fields, udb->set->override_fields, true);
		req->userdb_fields = fields;
		rule = udb->set->result_success;
	} else if (res == USERDB_RESULT_INTERNAL_FAILURE) {
		rule = udb->set->result_internalfail;
	} else {
		rule = udb->set->result_failure;
	}
	if (strcmp(rule, "return-ok") == 0 ||
	    strcmp(rule, "continue-ok") == 0)
		req->userdb_success = true;
	else if (strcmp(rule, "return-fail") == 0 ||
		 strcmp(rule, "continue-fail") == 0)
		req->userdb_success = false;
	if (strncmp(rule, "return", 6) == 0) {
		userdb_finish(req);
		return;
	}
	req->userdb_idx++;
	userdb_chain_next(req);
}

static void userdb_worker_callback(struct auth_request *req, int result)
{
	userdb_handle_result(req, result);
}

static void userdb_chain_next(struct auth_request *req)
{
	struct auth *auth = req->auth;

	while (req->userdb_idx < auth->userdb_count) {
		struct auth_userdb *udb = &auth->userdbs[req->userdb_idx];
		struct auth_fields *cached;
		enum userdb_result ures;

		if ((strcmp(udb->set->skip, "found") == 0 &&
		     req->userdb_success) ||
		    (strcmp(udb->set->skip, "notfound") == 0 &&
		     !req->userdb_success)) {
			req->userdb_idx++;
			continue;
		}
		/* each userdb fills fresh fields; prefetch reads the
		   passdb's userdb_* fields through passdb_fields */
		req->lookup.extra_fields = auth_fields_new(req->pool);
		req->userdb_cached = false;
		req->userdb_performing = true;
		auth_request_log_debug(req, udb->set->driver,
				       "Performing userdb lookup");
		if (auth_request_userdb_cache_lookup(req, udb, false, &ures,
						     &cached) > 0) {
			req->userdb_cached = true;
			if (cached != NULL)
				req->lookup.extra_fields = cached;
			userdb_handle_result(req, ures);
			return;
		}
		if (udb->module->blocking && auth->workers != NULL) {
			auth_worker_call(auth->workers, req, AUTH_WORKER_USER,
					 req->userdb_idx, NULL,
					 userdb_worker_callback);
			return;
		}
		userdb_handle_result(req, auth_worker_run_sync(auth,
			&req->lookup, AUTH_WORKER_USER, req->userdb_idx,
			NULL));
		return;
	}
	userdb_finish(req);
}

/* For userdb static without allow_all_users: does a passdb know the
 * user? Only drivers that answer without blocking can say here. */
static int auth_request_user_exists(struct auth_lookup *lookup, void *context)
{
	struct auth_request *req = context;
	struct auth *auth = req->auth;
	int ret = -1;

	for (unsigned int i = 0; i < auth->passdb_count; i++) {
		struct passdb_module *m = auth->passdbs[i].module;
		struct auth_lookup tmp;

		if (auth->passdbs[i].set->deny || auth->passdbs[i].set->master ||
		    m->blocking || m->driver->lookup_credentials == NULL)
			continue;
		tmp = *lookup;
		tmp.extra_fields = auth_fields_new(req->pool);
		switch (m->driver->lookup_credentials(m, &tmp)) {
		case PASSDB_RESULT_OK:
			return 1;
		case PASSDB_RESULT_USER_UNKNOWN:
			ret = 0;
			break;
		default:
			break;
		}
	}
	return ret;
}

void auth_request_lookup_user(struct auth_request *req,
			      void (*callback)(struct auth_request *req,
					       bool found))
{
	req->userdb_callback = callback;
	req->lookup.passdb_fields = req->lookup.extra_fields;
	/* the passdb's userdb_* fields come first, as in Dovecot */
	auth_fields_merge(req->userdb_fields, req->lookup.extra_fields,
			  "userdb_", true);
	req->lookup.user_exists = auth_request_user_exists;
	req->lookup.user_exists_context = req;
	req->userdb_idx = 0;
	req->userdb_success = false;
	userdb_chain_next(req);
}

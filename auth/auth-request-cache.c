/* auth-request-cache.c - the auth cache as one request uses it, with
 * Dovecot 2.3's rules: keys "P<n>\t<key>" / "U<n>\t<key>" (a "+" after
 * the number for master logins) from each db's cache key template;
 * passdb values "<{SCHEME}password>\t<fields the db set>", userdb values
 * the db's fields, "" for an unknown user; a positive entry whose last
 * check succeeded sends a mismatch back to the database once. */
#include "auth-request.h"
#include "auth-cache.h"
#include "auth-worker.h"
#include "password-scheme.h"
#include "var-expand.h"
#include "str.h"

/* A userdb entry with no fields still needs a value: "" is negative. */
#define USERDB_CACHE_EMPTY_KEY " "
/* What a passdb that checks passwords itself (PAM) caches: the hash of
 * the password that worked. */
#define CACHED_PASSWORD_SCHEME "SHA1"

static const char *cache_key(struct auth_request *req, const char *tmpl,
			     char kind, unsigned int idx)
{
	static bool error_logged = false;
	string_t *str = str_new(128);
	const char *error, *ret;

	str_printfa(str, "%c%u%s", kind, idx + 1,
		    req->master_user != NULL ? "+" : "");
	if (tmpl != NULL) {
		str_append_c(str, '\t');
		if (var_expand(str, tmpl, auth_lookup_var_table(&req->lookup,
								NULL),
			       NULL, NULL, &error) < 0 && !error_logged) {
			error_logged = true;
			i_error("Failed to expand auth cache key %s: %s",
				tmpl, error);
		}
	}
	ret = p_strdup(req->pool, str_c(str));
	str_free(&str);
	return ret;
}

/* The value as the debug line shows it: the password hidden unless
 * auth_debug_passwords. */
static const char *cache_value_log(struct auth_request *req,
				   const char *value)
{
	const char *tab;

	if (req->auth->set->auth_debug_passwords || value[0] == '\0' ||
	    value[0] == '\t')
		return value;
	tab = strchr(value, '\t');
	return tab == NULL ? "<hidden>" :
		p_strdup_printf(req->pool, "<hidden>%s", tab);
}

/* Split a value at TABs and unescape the parts; NULL-terminated. */
static const char **cache_value_split(pool_t pool, const char *value)
{
	unsigned int count = 1, n = 0;
	const char **list;

	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\t')
			count++;
	}
	list = p_new(pool, const char *, count + 1);
	for (const char *p = value;; ) {
		size_t len = strcspn(p, "\t");

		list[n++] = auth_tabunescape(pool, p_strndup(pool, p, len));
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return list;
}

static void cache_fields_import(struct auth_fields *dest,
				const char *const *list, pool_t pool)
{
	for (; *list != NULL; list++) {
		const char *eq = strchr(*list, '=');

		if ((*list)[0] == '\0' ||
		    strcmp(*list, USERDB_CACHE_EMPTY_KEY) == 0)
			continue;
		if (eq == NULL)
			auth_fields_set(dest, *list, NULL);
		else
			auth_fields_set(dest, p_strndup(pool, *list,
							(size_t)(eq - *list)),
					eq + 1);
	}
}

static void fields_append(string_t *str, const struct auth_fields *fields,
			  const struct auth_fields *before)
{
	bool first = true;

	for (unsigned int i = 0; i < auth_fields_count(fields); i++) {
		const char *key, *value, *old;

		auth_fields_get_idx(fields, i, &key, &value);
		if (before != NULL && auth_fields_exists(before, key)) {
			/* only what this lookup set */
			old = auth_fields_get(before, key);
			if (null_strcmp(old, value == NULL ? "" : value) == 0)
				continue;
		}
		if (!first)
			str_append_c(str, '\t');
		first = false;
		auth_str_append_tabescaped(str, key);
		if (value != NULL) {
			str_append_c(str, '=');
			auth_str_append_tabescaped(str, value);
		}
	}
}

/* ---- passdb ---- */

/* Check the password against a cached one here. */
static enum passdb_result cache_verify(struct auth_request *req,
				       struct auth_passdb *pdb,
				       const char *cached_pw)
{
	const char *error, *user = req->lookup.original_user != NULL ?
		req->lookup.original_user : req->lookup.user;
	int ret = password_verify(req->pending_password, cached_pw, NULL,
				  user, &error);

	if (ret > 0)
		return PASSDB_RESULT_OK;
	if (ret < 0)
		i_error("%s%s", auth_request_log_prefix(req, pdb->set->driver),
			error);
	return PASSDB_RESULT_PASSWORD_MISMATCH;
}

static void cache_set_fields(struct auth_request *req, const char *const *list)
{
	cache_fields_import(req->lookup.extra_fields, list, req->pool);
}

int auth_request_passdb_cache_lookup(struct auth_request *req,
				     struct auth_passdb *pdb, bool use_expired,
				     void (*verified)(struct auth_request *req,
						      int result),
				     enum passdb_result *result_r)
{
	struct auth_cache *cache = req->auth->cache;
	struct auth_cache_node *node;
	const char *key, *value, *const *list, *prefix;
	bool expired, neg_expired;
	enum passdb_result ret;

	if (cache == NULL)
		return 0;
	if (pdb->cache_key == NULL && !(req->passdb_credentials &&
					use_expired)) {
		/* Dovecot still looks (and misses) after a failed
		   credentials lookup of an uncached passdb */
		return 0;
	}
	key = cache_key(req, pdb->cache_key, 'P', pdb->idx);
	value = auth_cache_lookup(cache, key, &node, &expired, &neg_expired);
	prefix = auth_request_log_prefix(req, pdb->set->driver);
	if (pdb->cache_key == NULL)
		value = NULL;
	if (value == NULL || (expired && !use_expired)) {
		if (req->lookup.debug)
			i_debug("%s%s", prefix, value == NULL ? "cache miss" :
				"cache expired");
		return 0;
	}
	if (req->lookup.debug)
		i_debug("%scache hit: %s", prefix, cache_value_log(req, value));
	if (value[0] == '\0') {
		req->lookup.log_reason = "unknown user";
		*result_r = PASSDB_RESULT_USER_UNKNOWN;
		return 1;
	}
	list = cache_value_split(req->pool, value);
	if (req->passdb_credentials) {
		cache_set_fields(req, list + 1);
		req->lookup.password = list[0][0] == '\0' ? NULL : list[0];
		req->lookup.default_scheme = NULL;
		*result_r = PASSDB_RESULT_OK;
		return 1;
	}
	if (list[0][0] == '\0') {
		i_info("%sCached NULL password access", prefix);
		ret = PASSDB_RESULT_OK;
	} else if (req->auth->set->auth_cache_verify_password_with_worker &&
		   req->auth->workers != NULL) {
		req->cache_verify_key = key;
		req->cache_verify_neg_expired = neg_expired;
		req->cache_verify_fields = list + 1;
		if (req->lookup.debug)
			i_debug("%scache: validating password on worker",
				prefix);
		auth_worker_verify_cached(req->auth->workers, req, pdb->idx,
					  req->pending_password, list[0],
					  verified);
		return 2;
	} else {
		ret = cache_verify(req, pdb, list[0]);
		if (ret == PASSDB_RESULT_PASSWORD_MISMATCH &&
		    (node->last_success || neg_expired)) {
			/* the password may have changed since it worked:
			   ask the database (once) */
			node->last_success = false;
			return 0;
		}
		if (ret == PASSDB_RESULT_PASSWORD_MISMATCH)
			req->lookup.log_reason = "Password mismatch";
	}
	node->last_success = ret == PASSDB_RESULT_OK;
	cache_set_fields(req, list + 1);
	*result_r = ret;
	return 1;
}

int auth_request_passdb_cache_verified(struct auth_request *req,
				       struct auth_passdb *pdb ATTR_UNUSED,
				       enum passdb_result result,
				       enum passdb_result *result_r)
{
	struct auth_cache_node *node = NULL;
	struct auth_cache *cache = req->auth->cache;

	/* Dovecot 2.3.19 takes the worker's word as it is: no second
	   look at the database after a mismatch, and the cached fields
	   stay even in the FAIL reply */
	if (cache != NULL && req->cache_verify_key != NULL)
		node = auth_cache_peek(cache, req->cache_verify_key);
	if (result != PASSDB_RESULT_OK)
		result = PASSDB_RESULT_PASSWORD_MISMATCH;
	if (node != NULL)
		node->last_success = result == PASSDB_RESULT_OK;
	if (req->cache_verify_fields != NULL)
		cache_set_fields(req, req->cache_verify_fields);
	req->passdb_keep_fields = result != PASSDB_RESULT_OK;
	*result_r = result;
	return 1;
}

void auth_request_passdb_cache_save(struct auth_request *req,
				    struct auth_passdb *pdb,
				    enum passdb_result result)
{
	struct auth_cache *cache = req->auth->cache;
	const char *password = req->lookup.password, *scheme, *error;
	char *generated = NULL;
	string_t *str;

	switch (result) {
	case PASSDB_RESULT_USER_UNKNOWN:
	case PASSDB_RESULT_PASSWORD_MISMATCH:
	case PASSDB_RESULT_OK:
		break;
	default:
		/* disabled, expired, next: a hit would look like success;
		   scheme not available: nothing learned */
		return;
	}
	if (cache == NULL || pdb->cache_key == NULL)
		return;
	if (result == PASSDB_RESULT_USER_UNKNOWN) {
		auth_cache_insert(cache, cache_key(req, pdb->cache_key, 'P',
						   pdb->idx), "", false);
		return;
	}
	if (password == NULL &&
	    !auth_fields_exists(req->lookup.extra_fields, "nopassword")) {
		/* the passdb checked the password itself: keep a hash of
		   the one that worked */
		if (result != PASSDB_RESULT_OK || req->pending_password == NULL)
			return;
		generated = password_generate(req->pending_password,
					      CACHED_PASSWORD_SCHEME,
					      req->lookup.user, 0, &error);
		if (generated == NULL)
			return;
		password = generated;
	}
	str = str_new(256);
	if (password != NULL) {
		if (password[0] != '{') {
			scheme = req->lookup.default_scheme != NULL ?
				req->lookup.default_scheme :
				pdb->module->default_pass_scheme;
			str_printfa(str, "{%s}", scheme == NULL ? "PLAIN" :
				    scheme);
		}
		auth_str_append_tabescaped(str, password);
	}
	if (auth_fields_count(req->lookup.extra_fields) > 0) {
		str_append_c(str, '\t');
		fields_append(str, req->lookup.extra_fields, req->saved_fields);
	}
	auth_cache_insert(cache, cache_key(req, pdb->cache_key, 'P', pdb->idx),
			  str_c(str), result == PASSDB_RESULT_OK);
	explicit_bzero(str->data, str->cap);
	str_free(&str);
	if (generated != NULL) {
		explicit_bzero(generated, strlen(generated));
		free(generated);
	}
}

/* ---- userdb ---- */

int auth_request_userdb_cache_lookup(struct auth_request *req,
				     struct auth_userdb *udb, bool use_expired,
				     enum userdb_result *result_r,
				     struct auth_fields **fields_r)
{
	struct auth_cache *cache = req->auth->cache;
	const char *key, *value, *prefix;
	bool expired, neg_expired;

	if (cache == NULL || udb->cache_key == NULL)
		return 0;
	key = cache_key(req, udb->cache_key, 'U', udb->idx);
	value = auth_cache_lookup(cache, key, NULL, &expired, &neg_expired);
	prefix = auth_request_log_prefix(req, udb->set->driver);
	if (value == NULL || (expired && !use_expired)) {
		if (req->lookup.debug)
			i_debug("%s%s", prefix, value == NULL ?
				"userdb cache miss" : "userdb cache expired");
		return 0;
	}
	if (req->lookup.debug)
		i_debug("%suserdb cache hit: %s", prefix, value);
	*fields_r = NULL;
	if (value[0] == '\0') {
		*result_r = USERDB_RESULT_USER_UNKNOWN;
		return 1;
	}
	*fields_r = auth_fields_new(req->pool);
	cache_fields_import(*fields_r, cache_value_split(req->pool, value),
			    req->pool);
	*result_r = USERDB_RESULT_OK;
	return 1;
}

void auth_request_userdb_cache_save(struct auth_request *req,
				    struct auth_userdb *udb,
				    enum userdb_result result,
				    const struct auth_fields *fields)
{
	struct auth_cache *cache = req->auth->cache;
	string_t *str;

	if (cache == NULL || udb->cache_key == NULL ||
	    result == USERDB_RESULT_INTERNAL_FAILURE)
		return;
	str = str_new(256);
	if (result == USERDB_RESULT_OK) {
		if (fields != NULL)
			fields_append(str, fields, NULL);
		if (str_len(str) == 0)
			str_append(str, USERDB_CACHE_EMPTY_KEY);
	}
	/* last_success means nothing for userdbs */
	auth_cache_insert(cache, cache_key(req, udb->cache_key, 'U', udb->idx),
			  str_c(str), false);
	str_free(&str);
}

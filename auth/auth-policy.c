/* auth-policy.c - the policy server client: the request JSON from
 * auth_policy_request_attributes (keys sorted, "a/b" keys nested, then
 * success/policy_reject for reports and tls), the password hash
 * H(nonce || login || NUL || password) cut to auth_policy_hash_truncate
 * bits, the answer's {"status":N,"msg":"..."} and what it does to the
 * attempt, with Dovecot 2.3's log lines. */
#include "auth-policy.h"
#include "http-client.h"
#include "var-expand.h"
#include "str.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

/* A server can ask to delay a login; more than this is taken as this. */
#define POLICY_MAX_TARPIT_SECS 3600

struct policy_attr {
	const char *key, *value;	/* "login", "%{requested_username}" */
};

struct policy_call;

struct auth_policy {
	struct auth *auth;
	struct policy_call *calls;	/* in flight, freed at deinit */
	const struct settings_root *set;
	struct http_client *http;
	const EVP_MD *md;
	struct policy_attr *attrs;
	unsigned int attr_count;
	pool_t pool;
};

struct policy_call {
	struct policy_call *prev, *next;
	struct auth_policy *policy;
	struct auth_request *req;	/* NULL for a report */
	char *log_prefix;
	bool after, report;
	auth_policy_callback_t *callback;
	struct http_client_request *http;
	struct timeout *tarpit;
};

static void policy_call_free(struct policy_call *call);

/* ---- setup ---- */

static int attr_cmp(const void *p1, const void *p2)
{
	const struct policy_attr *a1 = p1, *a2 = p2;

	return strcmp(a1->key, a2->key);
}

static void policy_parse_attrs(struct auth_policy *policy, const char *spec)
{
	const char *const *words = auth_args_split(policy->pool, spec);
	unsigned int count = 0;

	while (words[count] != NULL)
		count++;
	policy->attrs = p_new(policy->pool, struct policy_attr, count + 1);
	for (unsigned int i = 0; i < count; i++) {
		const char *eq = strchr(words[i], '=');

		if (eq == NULL)
			continue;
		policy->attrs[policy->attr_count].key =
			p_strndup(policy->pool, words[i],
				  (size_t)(eq - words[i]));
		policy->attrs[policy->attr_count].value = eq + 1;
		policy->attr_count++;
	}
	qsort(policy->attrs, policy->attr_count, sizeof(*policy->attrs),
	      attr_cmp);
}

int auth_policy_init(struct auth *auth, struct auth_policy **policy_r,
		     const char **error_r)
{
	const struct settings_root *set = auth->set;
	struct auth_policy *policy;
	const char *error;

	*policy_r = NULL;
	if (set->auth_policy_server_url[0] == '\0')
		return 0;
	if (set->auth_policy_hash_nonce[0] == '\0') {
		*error_r = "auth_policy_hash_nonce must be set when policy "
			"server is used";
		return -1;
	}
	policy = i_new(struct auth_policy, 1);
	policy->pool = pool_create("auth policy", 1024);
	policy->auth = auth;
	policy->set = set;
	policy->md = EVP_get_digestbyname(set->auth_policy_hash_mech);
	if (policy->md == NULL) {
		*error_r = p_strdup_printf(auth->pool,
			"auth_policy_hash_mech: Unknown hash method '%s'",
			set->auth_policy_hash_mech);
		auth_policy_deinit(&policy);
		return -1;
	}
	policy_parse_attrs(policy, set->auth_policy_request_attributes);
	if (auth->loop != NULL) {
		policy->http = http_client_create(auth->loop,
			set->auth_policy_server_url,
			"dovecot/auth-policy-client",
			set->auth_policy_server_api_header,
			set->auth_policy_server_timeout_msecs, &error);
		if (policy->http == NULL) {
			*error_r = p_strdup_printf(auth->pool,
				"auth_policy_server_url: %s", error);
			auth_policy_deinit(&policy);
			return -1;
		}
	}
	if (set->auth_policy_log_only) {
		i_warning("auth-policy: Currently in log-only mode. Ignoring "
			  "tarpit and disconnect instructions from policy "
			  "server");
	}
	*policy_r = policy;
	return 0;
}

void auth_policy_deinit(struct auth_policy **_policy)
{
	struct auth_policy *policy = *_policy;

	if (policy == NULL)
		return;
	*_policy = NULL;
	while (policy->calls != NULL)
		policy_call_free(policy->calls);
	http_client_destroy(&policy->http);
	pool_destroy(&policy->pool);
	free(policy);
}

/* ---- the request ---- */

/* H(nonce || login || NUL || password) cut to the first bits bits (0 =
 * all), as hex: the bytes holding them, shifted right. */
static const char *policy_hashed_password(struct auth_policy *policy,
					  struct auth_request *req,
					  const char *login)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0, bits = policy->set->auth_policy_hash_truncate;
	const char *password = req->pending_password == NULL ? "" :
		req->pending_password;
	const char *nonce = policy->set->auth_policy_hash_nonce;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	string_t *str;
	const char *ret;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, policy->md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, nonce, strlen(nonce)) != 1 ||
	    EVP_DigestUpdate(ctx, login, strlen(login) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, password, strlen(password)) != 1 ||
	    EVP_DigestFinal_ex(ctx, digest, &len) != 1)
		i_fatal("auth-policy: hashing the password failed");
	EVP_MD_CTX_free(ctx);
	if (bits > 0 && bits < len * 8) {
		unsigned int bytes = (bits + 7) / 8, shift = bytes * 8 - bits;

		/* the first bytes as one big number, shifted right */
		for (unsigned int i = bytes; i-- > 0;) {
			unsigned int v = digest[i] >> shift;

			if (i > 0 && shift > 0)
				v |= (unsigned int)(digest[i - 1] <<
						    (8 - shift)) & 0xff;
			digest[i] = (unsigned char)v;
		}
		len = bytes;
	}
	str = str_new(len * 2 + 1);
	for (unsigned int i = 0; i < len; i++)
		str_printfa(str, "%02x", digest[i]);
	ret = p_strdup(req->pool, str_c(str));
	str_free(&str);
	explicit_bzero(digest, sizeof(digest));
	return ret;
}

static void json_append_string(string_t *dest, const char *src)
{
	str_append_c(dest, '"');
	for (; *src != '\0'; src++) {
		unsigned char c = (unsigned char)*src;

		switch (c) {
		case '"':
			str_append(dest, "\\\"");
			break;
		case '\\':
			str_append(dest, "\\\\");
			break;
		case '\n':
			str_append(dest, "\\n");
			break;
		case '\r':
			str_append(dest, "\\r");
			break;
		case '\t':
			str_append(dest, "\\t");
			break;
		default:
			if (c < 0x20)
				str_printfa(dest, "\\u%04x", c);
			else
				str_append_c(dest, (char)c);
		}
	}
	str_append_c(dest, '"');
}

/* The auth variables and the policy's own ones. */
static const struct var_expand_table *
policy_var_table(struct auth_policy *policy, struct auth_request *req)
{
	const struct var_expand_table *base =
		auth_lookup_var_table(&req->lookup, NULL);
	const char *login = req->lookup.original_user != NULL ?
		req->lookup.original_user : req->lookup.user == NULL ? "" :
		req->lookup.user;
	struct var_expand_table *tab;
	unsigned int n = 0;

	while (base[n].key != '\0' || base[n].long_key != NULL)
		n++;
	tab = p_new(req->pool, struct var_expand_table, n + 4);
	memcpy(tab, base, sizeof(*tab) * n);
	tab[n].long_key = "requested_username";
	tab[n++].value = login;
	tab[n].long_key = "hashed_password";
	tab[n++].value = policy_hashed_password(policy, req, login);
	tab[n].long_key = "client_id";
	tab[n++].value = req->client_id == NULL ? "" : req->client_id;
	return tab;
}

/* Write attrs[first..last) whose keys share the first depth path
 * components, as JSON members (nested objects for "a/b" keys). */
static void json_append_attrs(string_t *json, const struct policy_attr *attrs,
			      const char *const *values, unsigned int first,
			      unsigned int last, unsigned int depth)
{
	bool comma = false;

	for (unsigned int i = first; i < last;) {
		const char *key = attrs[i].key;
		const char *part;
		size_t len;

		for (unsigned int d = 0; d < depth; d++)
			key = strchr(key, '/') + 1;
		len = strcspn(key, "/");
		part = key;
		if (comma)
			str_append_c(json, ',');
		comma = true;
		str_append_c(json, '"');
		str_append_n(json, part, len);
		str_append(json, "\":");
		if (key[len] != '/') {
			json_append_string(json, values[i]);
			i++;
			continue;
		}
		/* an object of every following key with this component */
		unsigned int j = i + 1;

		while (j < last) {
			const char *k = attrs[j].key;

			for (unsigned int d = 0; d < depth; d++)
				k = strchr(k, '/') + 1;
			if (strncmp(k, part, len) != 0 || k[len] != '/')
				break;
			j++;
		}
		str_append_c(json, '{');
		json_append_attrs(json, attrs, values, i, j, depth + 1);
		str_append_c(json, '}');
		i = j;
	}
}

static const char *policy_json(struct auth_policy *policy,
			       struct auth_request *req, bool report)
{
	const struct var_expand_table *tab = policy_var_table(policy, req);
	const char **values = p_new(req->pool, const char *,
				    policy->attr_count + 1);
	string_t *json = str_new(256), *value = str_new(64);
	const char *error, *ret;

	for (unsigned int i = 0; i < policy->attr_count; i++) {
		str_clear(value);
		(void)var_expand(value, policy->attrs[i].value, tab, NULL,
				 NULL, &error);
		values[i] = p_strdup(req->pool, str_c(value));
	}
	str_append_c(json, '{');
	json_append_attrs(json, policy->attrs, values, 0, policy->attr_count,
			  0);
	if (policy->attr_count > 0)
		str_append_c(json, ',');
	if (report) {
		str_printfa(json, "\"success\":%s,\"policy_reject\":%s,",
			    req->failed ? "false" : "true",
			    req->policy_rejected ? "true" : "false");
	}
	str_printfa(json, "\"tls\":%s}", req->tls ? "true" : "false");
	ret = p_strdup(req->pool, str_c(json));
	str_free(&json);
	str_free(&value);
	return ret;
}

/* ---- the answer ---- */

static const char *json_skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
			   *p == '\n'))
		p++;
	return p;
}

/* A JSON string at p (after its '"'): unescaped into dest (may be NULL).
 * Returns the position after the closing quote, NULL if malformed. */
static const char *json_string(const char *p, const char *end,
			       string_t *dest)
{
	for (; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p != '\\') {
			if (dest != NULL)
				str_append_c(dest, *p);
			continue;
		}
		if (++p == end)
			return NULL;
		switch (*p) {
		case 'n': if (dest != NULL) str_append_c(dest, '\n'); break;
		case 't': if (dest != NULL) str_append_c(dest, '\t'); break;
		case 'r': if (dest != NULL) str_append_c(dest, '\r'); break;
		case 'b': if (dest != NULL) str_append_c(dest, '\b'); break;
		case 'f': if (dest != NULL) str_append_c(dest, '\f'); break;
		case 'u':
			/* kept as '?': messages are for logs */
			if (end - p < 5)
				return NULL;
			p += 4;
			if (dest != NULL)
				str_append_c(dest, '?');
			break;
		default:
			if (dest != NULL)
				str_append_c(dest, *p);
		}
	}
	return NULL;
}

/* Skip any JSON value; NULL if malformed. */
static const char *json_skip_value(const char *p, const char *end,
				   unsigned int depth)
{
	p = json_skip_ws(p, end);
	if (p == end || depth > 32)
		return NULL;
	if (*p == '"')
		return json_string(p + 1, end, NULL);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p = json_skip_ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = json_skip_ws(p, end);
				if (p == end || *p != '"' ||
				    (p = json_string(p + 1, end, NULL)) == NULL)
					return NULL;
				p = json_skip_ws(p, end);
				if (p == end || *p++ != ':')
					return NULL;
			}
			if ((p = json_skip_value(p, end, depth + 1)) == NULL)
				return NULL;
			p = json_skip_ws(p, end);
			if (p == end)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	while (p < end && strchr(",}] \t\r\n", *p) == NULL)
		p++;
	return p;
}

/* {"status":N,"msg":"..."}: returns 0, or -1 with *error_r (a parse
 * error) or 1 (status not a number: malformed). */
static int policy_parse_response(const char *body, size_t size, int *status_r,
				 string_t *msg, const char **error_r)
{
	const char *p = body, *end = body + size;
	string_t *key = str_new(32);
	int ret = 0;

	*status_r = 0;
	p = json_skip_ws(p, end);
	if (p == end || *p != '{') {
		*error_r = "Object doesn't begin with '{'";
		str_free(&key);
		return -1;
	}
	p = json_skip_ws(p + 1, end);
	if (p < end && *p == '}') {
		str_free(&key);
		return 0;
	}
	while (ret >= 0) {
		const char *vstart;

		str_clear(key);
		p = json_skip_ws(p, end);
		if (p == end || *p != '"' ||
		    (p = json_string(p + 1, end, key)) == NULL) {
			*error_r = "Expected a key";
			ret = -1;
			break;
		}
		p = json_skip_ws(p, end);
		if (p == end || *p++ != ':') {
			*error_r = "Expected ':'";
			ret = -1;
			break;
		}
		vstart = json_skip_ws(p, end);
		if ((p = json_skip_value(p, end, 0)) == NULL) {
			*error_r = "Invalid value";
			ret = -1;
			break;
		}
		if (strcmp(str_c(key), "status") == 0) {
			char *nend;
			long v = strtol(vstart, &nend, 10);

			if (nend != p || vstart == p || *vstart == '"')
				ret = 1;
			else
				*status_r = (int)v;
		} else if (strcmp(str_c(key), "msg") == 0 && *vstart == '"') {
			str_clear(msg);
			(void)json_string(vstart + 1, end, msg);
		}
		p = json_skip_ws(p, end);
		if (p < end && *p == '}')
			break;
		if (p == end || *p++ != ',') {
			*error_r = "Expected ',' or '}'";
			ret = -1;
		}
	}
	str_free(&key);
	return ret;
}

static void policy_call_free(struct policy_call *call)
{
	struct auth_policy *policy = call->policy;

	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		policy->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	if (call->req != NULL && call->req->policy_call == call)
		call->req->policy_call = NULL;
	http_client_request_abort(&call->http);
	timeout_remove(&call->tarpit);
	free(call->log_prefix);
	free(call);
}

static void policy_continue(struct policy_call *call, bool refused)
{
	struct auth_request *req = call->req;
	auth_policy_callback_t *callback = call->callback;

	policy_call_free(call);
	callback(req, refused);
}

static void policy_tarpit_done(void *context)
{
	policy_continue(context, false);
}

/* What a check's answer does to the attempt. */
static void policy_check_result(struct policy_call *call, bool http_failed,
				int status, const char *msg)
{
	const struct settings_root *set = call->policy->set;
	struct auth_request *req = call->req;
	const char *prefix = call->log_prefix;
	bool log_only = set->auth_policy_log_only;

	if (http_failed) {
		if (!set->auth_policy_reject_on_fail) {
			if (req->lookup.debug)
				i_debug("%sPolicy check action is continue",
					prefix);
			policy_continue(call, false);
			return;
		}
		i_info("%sPolicy check action is drop connection", prefix);
		policy_continue(call, true);
		return;
	}
	if (status < 0) {
		i_info("%sAuthentication failure due to policy server "
		       "refusal%s%s", prefix, msg == NULL ? "" : ": ",
		       msg == NULL ? "" : msg);
		req->policy_rejected = true;
		/* the message goes to the client as reason=, in FAIL (and
		   in OK when only logging, as Dovecot does) */
		if (msg != NULL)
			auth_fields_set(req->lookup.extra_fields, "reason",
					p_strdup(req->pool, msg));
		if (log_only) {
			i_info("%sPolicy check action 'drop connection' "
			       "ignored", prefix);
			policy_continue(call, false);
			return;
		}
		i_info("%sPolicy check action is drop connection", prefix);
		policy_continue(call, true);
		return;
	}
	if (status > 0) {
		if (log_only) {
			i_info("%sPolicy check action 'tarpit %d second(s)' "
			       "ignored", prefix, status);
			policy_continue(call, false);
			return;
		}
		i_info("%sPolicy check action is tarpit %d second(s)", prefix,
		       status);
		if (call->after) {
			/* after the passdbs only a refusal counts (Dovecot
			   logs the tarpit but doesn't wait) */
			policy_continue(call, false);
			return;
		}
		call->tarpit = timeout_add(req->auth->loop,
			(unsigned int)MIN(status, POLICY_MAX_TARPIT_SECS) *
			1000, policy_tarpit_done, call);
		return;
	}
	if (req->lookup.debug)
		i_debug("%sPolicy check action is continue", prefix);
	policy_continue(call, false);
}

static void policy_http_callback(unsigned int http_status, const char *reason,
				 const char *body, size_t size,
				 const char *http_error, void *context)
{
	struct policy_call *call = context;
	const struct settings_root *set = call->policy->set;
	const char *prefix = call->log_prefix, *error;
	string_t *msg = str_new(64);
	bool have_msg = false, failed = false;
	int status = 0, ret;

	call->http = NULL;
	if (http_status == 0) {
		i_error("%sPolicy server HTTP error: %s", prefix, http_error);
		failed = true;
	} else if (http_status != 200) {
		i_error("%sPolicy server HTTP error: %u %s", prefix,
			http_status, reason);
		failed = true;
	} else if (!call->report) {
		/* (a report's answer isn't even read) */
		ret = policy_parse_response(body, size, &status, msg, &error);
		if (ret < 0) {
			i_error("%sPolicy server response JSON parse error: "
				"%s", prefix, error);
			status = 0;
		} else if (ret > 0) {
			i_error("%sPolicy server response was malformed",
				prefix);
			status = 0;
		}
		have_msg = str_len(msg) > 0;
		/* (not for reports, whose answer means nothing) */
		if (set->auth_debug && !call->report &&
		    (status >= 0 || have_msg)) {
			if (status < 0)
				i_debug("%sPolicy response %d with message: "
					"%s", prefix, status, str_c(msg));
			else
				i_debug("%sPolicy response %d", prefix,
					status);
		}
	}
	if (call->report) {
		if (set->auth_debug)
			i_debug("%sPolicy report action finished", prefix);
		policy_call_free(call);
	} else {
		policy_check_result(call, failed, status,
				    have_msg ? str_c(msg) : NULL);
	}
	str_free(&msg);
}

static void policy_send(struct policy_call *call, struct auth_request *req)
{
	struct auth_policy *policy = call->policy;

	call->next = policy->calls;
	if (policy->calls != NULL)
		policy->calls->prev = call;
	policy->calls = call;
	const char *path = http_client_get_path(policy->http);
	const char *json = policy_json(policy, req, call->report);
	const char *cmd = call->report ? "report" : "allow";
	char *path_query;

	/* "?command=...", or just "command=..." after a trailing '&' */
	path_query = i_strdup_printf("%s%scommand=%s", path,
				     str_ends(path, "&") ? "" : "?", cmd);
	call->log_prefix = i_strdup(auth_request_log_prefix(req, "policy"));
	if (req->lookup.debug) {
		i_debug("%sPolicy request %s%s", call->log_prefix,
			http_client_get_base(policy->http), path_query);
		i_debug("%sPolicy server request JSON: %s", call->log_prefix,
			json);
	}
	call->http = http_client_post(policy->http, path_query,
				      "application/json", json,
				      policy_http_callback, call);
	free(path_query);
}

bool auth_policy_wants_check(const struct auth_request *req, bool after)
{
	const struct settings_root *set = req->auth->set;

	if (req->auth->policy == NULL || req->auth->policy->http == NULL ||
	    req->mech == NULL)
		return false;
	return after ? set->auth_policy_check_after_auth :
		set->auth_policy_check_before_auth;
}

void auth_policy_check(struct auth_request *req, bool after,
		       auth_policy_callback_t *callback)
{
	struct policy_call *call = i_new(struct policy_call, 1);

	call->policy = req->auth->policy;
	call->req = req;
	call->after = after;
	call->callback = callback;
	req->policy_call = call;
	policy_send(call, req);
}

void auth_policy_report(struct auth_request *req)
{
	struct policy_call *call;

	if (req->auth->policy == NULL || req->auth->policy->http == NULL ||
	    req->mech == NULL || !req->auth->set->auth_policy_report_after_auth)
		return;
	call = i_new(struct policy_call, 1);
	call->policy = req->auth->policy;
	call->report = true;
	policy_send(call, req);
}

void auth_policy_abort(struct auth_request *req)
{
	if (req->policy_call != NULL)
		policy_call_free(req->policy_call);
}

/* passdb.c - the passdb driver registry and the helpers every passdb and
 * userdb driver shares: the % variables of a lookup (Dovecot 2.3's auth
 * table), log lines with Dovecot's "driver(user,rip,<session>): " prefix,
 * password checks, and key=value templates. */
#include "auth-db-private.h"
#include "password-scheme.h"
#include "str.h"
#include "var-expand.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <strings.h>

const struct auth_db_settings auth_db_default_settings = {
	.debug = false,
	.userdb_count = 1,
	.first_valid_uid = 500,
	.last_valid_uid = 0,
};

static const struct passdb_driver *const passdb_drivers[] = {
	&passdb_driver_checkpassword,
	&passdb_driver_pam,
	&passdb_driver_passwd,
	&passdb_driver_passwd_file,
	&passdb_driver_shadow,
	&passdb_driver_static,
	NULL
};

const struct passdb_driver *passdb_driver_find(const char *name)
{
	for (unsigned int i = 0; passdb_drivers[i] != NULL; i++) {
		if (strcmp(passdb_drivers[i]->name, name) == 0)
			return passdb_drivers[i];
	}
	return NULL;
}

const struct passdb_driver *const *passdb_drivers_list(void)
{
	return passdb_drivers;
}

void auth_secret_free(char **secret)
{
	if (*secret == NULL)
		return;
	explicit_bzero(*secret, strlen(*secret));
	i_free(*secret);
}

/* ---- % variables ---- */

#define VAR_TABLE_SIZE 32

static const char *empty_if_null(const char *s)
{
	return s == NULL ? "" : s;
}

static const char *user_name_part(pool_t pool, const char *user)
{
	const char *at = strchr(user, '@');

	return at == NULL ? user : p_strndup(pool, user, (size_t)(at - user));
}

static const char *user_domain_part(const char *user)
{
	const char *at = strchr(user, '@');

	return at == NULL ? "" : at + 1;
}

static const char *port_str(pool_t pool, unsigned int port)
{
	return port == 0 ? "" : p_strdup_printf(pool, "%u", port);
}

const struct var_expand_table *
auth_lookup_var_table(struct auth_lookup *lookup,
		      const char *(*fix)(pool_t pool, const char *value))
{
	pool_t pool = lookup->pool;
	struct var_expand_table *tab =
		p_new(pool, struct var_expand_table, VAR_TABLE_SIZE);
	const char *user = empty_if_null(lookup->user);
	const char *orig = lookup->original_user != NULL ?
		lookup->original_user : user;
	const char *domain = user_domain_part(user);
	const char *last_at = strrchr(user, '@');
	const char *home = lookup->extra_fields == NULL ? NULL :
		auth_fields_get(lookup->extra_fields, "home");
	unsigned int n = 0;

#define VAR(k, v, l) do { \
	tab[n].key = (k); tab[n].value = (v); tab[n].long_key = (l); n++; \
} while (0)
	VAR('u', user, "user");
	VAR('n', user_name_part(pool, user), "username");
	VAR('d', domain, "domain");
	VAR('s', empty_if_null(lookup->service), "service");
	VAR('h', empty_if_null(home), "home");
	VAR('l', empty_if_null(lookup->local_ip), "lip");
	VAR('r', empty_if_null(lookup->remote_ip), "rip");
	VAR('m', empty_if_null(lookup->mech), "mech");
	VAR('c', lookup->secured ? "secured" : "", "secured");
	VAR('a', port_str(pool, lookup->local_port), "lport");
	VAR('b', port_str(pool, lookup->remote_port), "rport");
	VAR('\0', empty_if_null(lookup->session_id), "session");
	VAR('\0', empty_if_null(lookup->local_ip), "real_lip");
	VAR('\0', empty_if_null(lookup->remote_ip), "real_rip");
	VAR('\0', port_str(pool, lookup->local_port), "real_lport");
	VAR('\0', port_str(pool, lookup->remote_port), "real_rport");
	/* "user@first@last" style names */
	VAR('\0', p_strndup(pool, domain, strcspn(domain, "@")),
	    "domain_first");
	VAR('\0', last_at == NULL ? "" : last_at + 1, "domain_last");
	VAR('\0', orig, "orig_user");
	VAR('\0', user_name_part(pool, orig), "orig_username");
	VAR('\0', user_domain_part(orig), "orig_domain");
	VAR('\0', orig, "auth_user");
	VAR('\0', user_name_part(pool, orig), "auth_username");
	VAR('\0', user_domain_part(orig), "auth_domain");
	VAR('\0', user, "login_user");
	VAR('\0', user_name_part(pool, user), "login_username");
	VAR('\0', domain, "login_domain");
#undef VAR
	i_assert(n < VAR_TABLE_SIZE);
	if (fix != NULL) {
		for (unsigned int i = 0; i < n; i++)
			tab[i].value = fix(pool, tab[i].value);
	}
	/* tab[n] is the zeroed end marker */
	return tab;
}

int auth_lookup_var_expand(struct auth_lookup *lookup, const char *tmpl,
			   const char **result_r, const char **error_r)
{
	string_t *dest;
	const char *error;
	int ret;

	if (strchr(tmpl, '%') == NULL) {
		*result_r = tmpl;
		return 0;
	}
	dest = str_new(strlen(tmpl) + 64);
	ret = var_expand(dest, tmpl, auth_lookup_var_table(lookup, NULL),
			 NULL, NULL, &error);
	if (ret <= 0) {
		*error_r = p_strdup(lookup->pool, error);
		str_free(&dest);
		return -1;
	}
	*result_r = p_strdup(lookup->pool, str_c(dest));
	str_free(&dest);
	return 0;
}

/* ---- logging ---- */

void auth_str_append_sanitized(string_t *dest, const char *src,
				size_t max_len)
{
	size_t len = strlen(src), i;

	if (len > max_len) {
		/* cut at a UTF-8 character boundary, with "..." */
		len = max_len < 3 ? 0 : max_len - 3;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		str_append_c(dest, c < 32 || c == 127 ? '?' : (char)c);
	}
	if (i < strlen(src))
		str_append(dest, "...");
}

static char *process_prefix;

void auth_lookup_log_set_process_prefix(const char *prefix)
{
	free(process_prefix);
	process_prefix = prefix == NULL ? NULL : i_strdup(prefix);
}

const char *auth_lookup_log_prefix(const struct auth_lookup *lookup,
				   const char *driver)
{
	string_t *str = str_new(128);
	const char *ret;

	if (process_prefix != NULL)
		str_append(str, process_prefix);
	str_printfa(str, "%s(", driver);
	auth_str_append_sanitized(str, lookup->user == NULL ? "?" :
				  lookup->user, AUTH_LOG_USER_MAX);
	if (lookup->remote_ip != NULL && lookup->remote_ip[0] != '\0')
		str_printfa(str, ",%s", lookup->remote_ip);
	if (lookup->session_id != NULL && lookup->session_id[0] != '\0')
		str_printfa(str, ",<%s>", lookup->session_id);
	str_append(str, "): ");
	ret = p_strdup(lookup->pool, str_c(str));
	str_free(&str);
	return ret;
}

const char *auth_login_failure_text(pool_t pool, const char *verbose_passwords,
				    const char *reason, const char *password,
				    bool next_passdb)
{
	const char *vp = verbose_passwords, *colon = strchr(vp, ':');
	size_t vlen = colon == NULL ? strlen(vp) : (size_t)(colon - vp);
	size_t trunc = colon == NULL ? 0 : strtoul(colon + 1, NULL, 10);
	string_t *str;
	const char *ret;

	if (vlen == 0 || (vlen == 2 && strncmp(vp, "no", 2) == 0) ||
	    (strcmp(reason, "Password mismatch") != 0 &&
	     strcmp(reason, "unknown user") != 0))
		return reason;
	str = str_new(128);
	str_printfa(str, "%s ", reason);
	if (password != NULL) {
		char value[SHA_DIGEST_LENGTH * 2 + 1];
		const char *shown = password;
		size_t len;

		if (vlen == 4 && strncmp(vp, "sha1", 4) == 0) {
			unsigned char digest[SHA_DIGEST_LENGTH];

			SHA1((const unsigned char *)password, strlen(password),
			     digest);
			for (unsigned int i = 0; i < SHA_DIGEST_LENGTH; i++)
				snprintf(value + i * 2, 3, "%02x", digest[i]);
			shown = value;
		}
		len = strlen(shown);
		if (trunc > 0 && trunc < len)
			len = trunc;
		str_printfa(str, "(%sgiven password: %.*s)",
			    shown == password ? "" : "SHA1 of ", (int)len,
			    shown);
	}
	if (next_passdb)
		str_append(str, " - trying the next passdb");
	ret = p_strdup(pool, str_c(str));
	explicit_bzero(str->data, str->cap);
	str_free(&str);
	return ret;
}

void auth_lookup_log_error(struct auth_lookup *lookup, const char *driver,
			   const char *fmt, ...)
{
	va_list args;
	char *msg;

	va_start(args, fmt);
	msg = i_strdup_vprintf(fmt, args);
	va_end(args);
	i_error("%s%s", auth_lookup_log_prefix(lookup, driver), msg);
	free(msg);
}

void auth_lookup_log_debug(struct auth_lookup *lookup, const char *driver,
			   const char *fmt, ...)
{
	va_list args;
	char *msg;

	if (!lookup->debug)
		return;
	va_start(args, fmt);
	msg = i_strdup_vprintf(fmt, args);
	va_end(args);
	i_debug("%s%s", auth_lookup_log_prefix(lookup, driver), msg);
	free(msg);
}

void auth_lookup_set_reason(struct auth_lookup *lookup, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	lookup->log_reason = p_strdup_vprintf(lookup->pool, fmt, args);
	va_end(args);
}

/* ---- passwords ---- */

/* "nopassword" counts only while the stored password is empty; Dovecot
 * logs an error and ignores it otherwise. */
static bool passdb_nopassword(struct auth_lookup *lookup, const char *driver,
			      const char *stored)
{
	const char *scheme, *data;

	if (lookup->extra_fields == NULL ||
	    !auth_fields_exists(lookup->extra_fields, "nopassword"))
		return false;
	if (stored != NULL) {
		password_split(lookup->pool, stored, "PLAIN", &scheme, &data);
		if (*data != '\0') {
			auth_lookup_log_error(lookup, driver,
				"nopassword set but password is non-empty");
			return false;
		}
	}
	return true;
}

enum passdb_result passdb_verify_password(struct auth_lookup *lookup,
					  const char *driver,
					  const char *plain,
					  const char *stored,
					  const char *default_scheme)
{
	const char *error;
	int ret;

	if (passdb_nopassword(lookup, driver, stored)) {
		auth_lookup_log_debug(lookup, driver, "Allowing any password");
		return PASSDB_RESULT_OK;
	}
	if (stored == NULL)
		stored = "";
	/* kept for the auth cache, which stores what the passdb had */
	lookup->password = p_strdup(lookup->pool, stored);
	lookup->default_scheme = default_scheme;
	ret = password_verify(plain, stored, default_scheme,
			      lookup->original_user != NULL ?
			      lookup->original_user : lookup->user, &error);
	if (ret > 0)
		return PASSDB_RESULT_OK;
	if (ret < 0) {
		auth_lookup_log_error(lookup, driver, "%s", error);
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	}
	lookup->log_reason = "Password mismatch";
	return PASSDB_RESULT_PASSWORD_MISMATCH;
}

void passdb_set_credentials(struct auth_lookup *lookup, const char *driver,
			    const char *stored, const char *default_scheme)
{
	if (passdb_nopassword(lookup, driver, stored)) {
		lookup->password = NULL;
		lookup->default_scheme = default_scheme;
		return;
	}
	lookup->password = p_strdup(lookup->pool, stored == NULL ? "" : stored);
	lookup->default_scheme = default_scheme;
}

/* ---- argument helpers ---- */

const char *const *auth_args_split(pool_t pool, const char *args)
{
	const char **words;
	unsigned int count = 0, n = 0;
	const char *p;

	for (p = args; *p != '\0'; ) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		count++;
		p += strcspn(p, " \t");
	}
	words = p_new(pool, const char *, count + 1);
	for (p = args; *p != '\0'; ) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " \t");
		words[n++] = p_strndup(pool, p, len);
		p += len;
	}
	words[n] = NULL;
	return words;
}

int auth_args_parse_bool(const char *value, bool *result_r)
{
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "y") == 0 ||
	    strcmp(value, "1") == 0)
		*result_r = true;
	else if (strcasecmp(value, "no") == 0 ||
		 strcasecmp(value, "n") == 0 || strcmp(value, "0") == 0)
		*result_r = false;
	else
		return -1;
	return 0;
}

/* ---- templates ---- */

struct auth_template {
	pool_t pool;
	const char **keys, **values;	/* value NULL: bare key */
	unsigned int count, cap;
};

void auth_template_set(struct auth_template *tmpl, const char *key,
		       const char *value)
{
	for (unsigned int i = 0; i < tmpl->count; i++) {
		if (strcmp(tmpl->keys[i], key) == 0) {
			tmpl->values[i] = value == NULL ? NULL :
				p_strdup(tmpl->pool, value);
			return;
		}
	}
	if (tmpl->count == tmpl->cap) {
		unsigned int cap = tmpl->cap == 0 ? 8 : tmpl->cap * 2;

		tmpl->keys = p_realloc(tmpl->pool, tmpl->keys,
				       size_mul(tmpl->cap, sizeof(char *)),
				       size_mul(cap, sizeof(char *)));
		tmpl->values = p_realloc(tmpl->pool, tmpl->values,
					 size_mul(tmpl->cap, sizeof(char *)),
					 size_mul(cap, sizeof(char *)));
		tmpl->cap = cap;
	}
	tmpl->keys[tmpl->count] = p_strdup(tmpl->pool, key);
	tmpl->values[tmpl->count] = value == NULL ? NULL :
		p_strdup(tmpl->pool, value);
	tmpl->count++;
}

struct auth_template *auth_template_parse(pool_t pool, const char *args)
{
	struct auth_template *tmpl = p_new(pool, struct auth_template, 1);
	const char *const *words = auth_args_split(pool, args);

	tmpl->pool = pool;
	for (unsigned int i = 0; words[i] != NULL; i++) {
		const char *eq = strchr(words[i], '=');

		if (eq == words[i])
			continue;
		if (eq == NULL)
			auth_template_set(tmpl, words[i], NULL);
		else
			auth_template_set(tmpl, p_strndup(pool, words[i],
					  (size_t)(eq - words[i])), eq + 1);
	}
	return tmpl;
}

bool auth_template_remove(struct auth_template *tmpl, const char *key,
			  const char **value_r)
{
	for (unsigned int i = 0; i < tmpl->count; i++) {
		if (strcmp(tmpl->keys[i], key) != 0)
			continue;
		*value_r = tmpl->values[i] == NULL ? "" : tmpl->values[i];
		memmove(&tmpl->keys[i], &tmpl->keys[i + 1],
			(tmpl->count - i - 1) * sizeof(char *));
		memmove(&tmpl->values[i], &tmpl->values[i + 1],
			(tmpl->count - i - 1) * sizeof(char *));
		tmpl->count--;
		return true;
	}
	return false;
}

bool auth_template_is_empty(const struct auth_template *tmpl)
{
	return tmpl->count == 0;
}

unsigned int auth_template_count(const struct auth_template *tmpl)
{
	return tmpl->count;
}

void auth_template_get_idx(const struct auth_template *tmpl,
			   unsigned int idx, const char **key_r,
			   const char **value_r)
{
	i_assert(idx < tmpl->count);
	*key_r = tmpl->keys[idx];
	*value_r = tmpl->values[idx];
}

int auth_template_export(const struct auth_template *tmpl,
			 struct auth_lookup *lookup, struct auth_fields *dest,
			 const char **error_r)
{
	for (unsigned int i = 0; i < tmpl->count; i++) {
		const char *value = tmpl->values[i], *error;

		if (value != NULL &&
		    auth_lookup_var_expand(lookup, value, &value, &error) < 0) {
			*error_r = p_strdup_printf(lookup->pool, "%s=%s: %s",
						   tmpl->keys[i],
						   tmpl->values[i], error);
			return -1;
		}
		auth_fields_set(dest, tmpl->keys[i], value);
	}
	return 0;
}

/* smtp-syntax.c - SMTP command lines, paths, ESMTP parameters, xtext and
 * replies (smtp-syntax.h). Nothing here trusts its input: every loop is
 * bounded by the input's length and the SMTP_MAX_* limits. */
#include "smtp-syntax.h"

#include <ctype.h>
#include <strings.h>

int smtp_command_split(const char *line, char *verb_r, size_t verb_size,
		       const char **args_r)
{
	size_t i = 0;

	i_assert(verb_size > 0);
	while (line[i] != '\0' && line[i] != ' ') {
		unsigned char c = (unsigned char)line[i];

		if (i + 1 >= verb_size || !(isalnum(c) || c == '-' || c == '_'))
			return -1;
		verb_r[i] = (char)toupper(c);
		i++;
	}
	verb_r[i] = '\0';
	if (i == 0)
		return -1;
	*args_r = line[i] == ' ' ? line + i + 1 : line + i;
	return 0;
}

/* RFC 5321 atext, plus UTF-8 octets (RFC 6531). */
static bool smtp_is_atext(unsigned char c)
{
	if (isalnum(c) || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool smtp_is_qtext(unsigned char c)
{
	return (c >= 32 && c <= 126 && c != '"' && c != '\\') || c >= 0x80;
}

static int smtp_parse_localpart(pool_t pool, const char **p, const char *end,
				struct smtp_address *addr,
				const char **error_r)
{
	string_t *lp = str_new(64);
	const char *s = *p;

	if (s < end && *s == '"') {
		s++;
		for (;;) {
			if (s >= end) {
				*error_r = "Invalid localpart: Missing quote";
				str_free(&lp);
				return -1;
			}
			unsigned char c = (unsigned char)*s;
			if (c == '"')
				break;
			if (c == '\\') {
				if (s + 1 >= end || (unsigned char)s[1] < 32 ||
				    (unsigned char)s[1] == 127) {
					*error_r = "Invalid localpart: "
						"Invalid quoted-pair";
					str_free(&lp);
					return -1;
				}
				s++;
				c = (unsigned char)*s;
			} else if (!smtp_is_qtext(c)) {
				*error_r = "Invalid localpart: "
					"Invalid character in quoted string";
				str_free(&lp);
				return -1;
			}
			if (c >= 0x80)
				addr->utf8 = true;
			str_append_c(lp, (char)c);
			s++;
		}
		s++;
	} else {
		while (s < end && (smtp_is_atext((unsigned char)*s) ||
				   *s == '.')) {
			if ((unsigned char)*s >= 0x80)
				addr->utf8 = true;
			str_append_c(lp, *s);
			s++;
		}
		if (str_len(lp) == 0) {
			*error_r = "Invalid localpart";
			str_free(&lp);
			return -1;
		}
	}
	addr->localpart = p_strndup(pool, str_c(lp), str_len(lp));
	str_free(&lp);
	*p = s;
	return 0;
}

static int smtp_parse_domain(pool_t pool, const char **p, const char *end,
			     struct smtp_address *addr, const char **error_r)
{
	const char *s = *p, *start = s;

	if (s < end && *s == '[') {
		/* address literal: no brackets or backslashes inside */
		s++;
		while (s < end && *s != ']') {
			unsigned char c = (unsigned char)*s;
			if (c < 33 || c > 126 || c == '[' || c == '\\') {
				*error_r = "Invalid domain: "
					"Invalid address literal";
				return -1;
			}
			s++;
		}
		if (s >= end || s == start + 1) {
			*error_r = "Invalid domain: Invalid address literal";
			return -1;
		}
		s++;
	} else {
		while (s < end) {
			unsigned char c = (unsigned char)*s;
			if (!(isalnum(c) || c == '-' || c == '.' || c >= 0x80))
				break;
			if (c >= 0x80)
				addr->utf8 = true;
			s++;
		}
		if (s == start) {
			*error_r = "Missing domain";
			return -1;
		}
		if (*start == '.' || s[-1] == '.' ||
		    memmem(start, (size_t)(s - start), "..", 2) != NULL) {
			*error_r = "Invalid domain";
			return -1;
		}
	}
	addr->domain = p_strndup(pool, start, (size_t)(s - start));
	*p = s;
	return 0;
}

int smtp_path_parse(pool_t pool, const char *str, bool allow_null,
		    struct smtp_address *addr_r, const char **rest_r,
		    const char **error_r)
{
	const char *p = str, *end;

	memset(addr_r, 0, sizeof(*addr_r));
	if (*p != '<') {
		*error_r = "Missing '<' at beginning of path";
		return -1;
	}
	/* the path ends at its '>': a quoted local part may hold spaces */
	end = p + strlen(p);
	if ((size_t)(end - p) > SMTP_MAX_PATH_LENGTH + 2)
		end = p + SMTP_MAX_PATH_LENGTH + 2;
	p++;
	if (p < end && *p == '>') {
		if (!allow_null) {
			*error_r = "Null path not allowed";
			return -1;
		}
		p++;
		goto rest;
	}
	/* obsolete source route: @a,@b: */
	if (p < end && *p == '@') {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		if (colon == NULL) {
			*error_r = "Invalid route";
			return -1;
		}
		p = colon + 1;
	}
	if (smtp_parse_localpart(pool, &p, end, addr_r, error_r) < 0)
		return -1;
	if (p < end && *p == '@') {
		p++;
		if (smtp_parse_domain(pool, &p, end, addr_r, error_r) < 0)
			return -1;
	}
	if (p >= end || *p != '>') {
		if (p >= end && (size_t)(end - str) >= SMTP_MAX_PATH_LENGTH)
			*error_r = "Path too long";
		else if (p < end && *p != ' ' && *p != '\0')
			*error_r = "Invalid character in path";
		else
			*error_r = "Missing '>' at end of path";
		return -1;
	}
	p++;
rest:
	if (*p != '\0' && *p != ' ') {
		*error_r = "Invalid character after path";
		return -1;
	}
	while (*p == ' ')
		p++;
	*rest_r = p;
	return 0;
}

static bool smtp_localpart_is_dotatom(const char *lp)
{
	bool dot_ok = false;

	if (*lp == '\0')
		return false;
	for (; *lp != '\0'; lp++) {
		if (*lp == '.') {
			if (!dot_ok)
				return false;
			dot_ok = false;
		} else if (smtp_is_atext((unsigned char)*lp)) {
			dot_ok = true;
		} else {
			return false;
		}
	}
	return dot_ok;
}

const char *smtp_address_encode(pool_t pool, const struct smtp_address *addr)
{
	string_t *str;
	const char *ret;

	if (addr->localpart == NULL)
		return p_strdup(pool, "");
	str = str_new(64);
	if (smtp_localpart_is_dotatom(addr->localpart)) {
		str_append(str, addr->localpart);
	} else {
		str_append_c(str, '"');
		for (const char *p = addr->localpart; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				str_append_c(str, '\\');
			str_append_c(str, *p);
		}
		str_append_c(str, '"');
	}
	if (addr->domain != NULL) {
		str_append_c(str, '@');
		str_append(str, addr->domain);
	}
	ret = p_strndup(pool, str_c(str), str_len(str));
	str_free(&str);
	return ret;
}

int smtp_parse_uint64(const char *str, size_t len, uint64_t *num_r)
{
	uint64_t n = 0;

	if (len == 0 || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned int d;

		if (str[i] < '0' || str[i] > '9')
			return -1;
		d = (unsigned int)(str[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*num_r = n;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int smtp_xtext_decode(pool_t pool, const char *xtext, size_t len,
		      const char **value_r)
{
	string_t *str = str_new(len + 1);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)xtext[i];

		if (c == '+') {
			int hi, lo;

			if (len - i < 3 ||
			    (hi = hexval(xtext[i + 1])) < 0 ||
			    (lo = hexval(xtext[i + 2])) < 0 ||
			    (hi == 0 && lo == 0)) {
				str_free(&str);
				return -1;
			}
			str_append_c(str, (char)(hi * 16 + lo));
			i += 2;
		} else if (c >= 33 && c <= 126 && c != '=') {
			str_append_c(str, (char)c);
		} else {
			str_free(&str);
			return -1;
		}
	}
	*value_r = p_strndup(pool, str_c(str), str_len(str));
	str_free(&str);
	return 0;
}

void smtp_xtext_encode(string_t *dest, const char *value)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0';
	     p++) {
		if (*p >= 33 && *p <= 126 && *p != '+' && *p != '=')
			str_append_c(dest, (char)*p);
		else
			str_printfa(dest, "+%02X", *p);
	}
}

/* The next "KEY[=VALUE]" of args; *p advanced past it and the spaces
 * behind. -1 for a malformed one. */
static int smtp_param_next(const char **p, const char **key_r,
			   size_t *key_len_r, const char **value_r,
			   size_t *value_len_r, bool utf8)
{
	const char *s = *p, *key = s;

	while (isalnum((unsigned char)*s) || *s == '-')
		s++;
	if (s == key || !isalnum((unsigned char)*key))
		return -1;
	*key_r = key;
	*key_len_r = (size_t)(s - key);
	*value_r = NULL;
	*value_len_r = 0;
	if (*s == '=') {
		const char *val = ++s;

		while (*s != '\0' && *s != ' ') {
			unsigned char c = (unsigned char)*s;
			if (c == '=' || (c < 33 && c != 0) || c == 127 ||
			    (c >= 0x80 && !utf8))
				return -1;
			s++;
		}
		if (s == val || (size_t)(s - val) > SMTP_MAX_PARAM_VALUE)
			return -1;
		*value_r = val;
		*value_len_r = (size_t)(s - val);
	}
	if (*s != '\0' && *s != ' ')
		return -1;
	while (*s == ' ')
		s++;
	*p = s;
	return 0;
}

static bool key_is(const char *key, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(key, name, len) == 0;
}

static bool val_is(const char *val, size_t len, const char *name)
{
	return val != NULL && strlen(name) == len &&
		strncasecmp(val, name, len) == 0;
}

enum smtp_param_result
smtp_params_mail_parse(pool_t pool, const char *args,
		       enum smtp_capability caps,
		       struct smtp_params_mail *params_r,
		       const char **error_r)
{
	const char *p = args, *key, *val;
	size_t klen, vlen;

	memset(params_r, 0, sizeof(*params_r));
	while (*p != '\0') {
		if (smtp_param_next(&p, &key, &klen, &val, &vlen, true) < 0) {
			*error_r = "Invalid parameters";
			return SMTP_PARAM_INVALID;
		}
		if (key_is(key, klen, "SIZE") && (caps & SMTP_CAP_SIZE) != 0) {
			if (params_r->size_given || val == NULL ||
			    smtp_parse_uint64(val, vlen, &params_r->size) < 0) {
				*error_r = "Invalid SIZE parameter";
				return SMTP_PARAM_INVALID;
			}
			params_r->size_given = true;
		} else if (key_is(key, klen, "BODY") &&
			   (caps & SMTP_CAP_8BITMIME) != 0) {
			if (params_r->body != SMTP_BODY_UNSPECIFIED) {
				*error_r = "Duplicate BODY parameter";
				return SMTP_PARAM_INVALID;
			}
			if (val_is(val, vlen, "7BIT"))
				params_r->body = SMTP_BODY_7BIT;
			else if (val_is(val, vlen, "8BITMIME"))
				params_r->body = SMTP_BODY_8BITMIME;
			else if (val_is(val, vlen, "BINARYMIME") &&
				 (caps & SMTP_CAP_BINARYMIME) != 0)
				params_r->body = SMTP_BODY_BINARYMIME;
			else {
				*error_r = "Unsupported mail BODY type";
				return SMTP_PARAM_UNSUPPORTED;
			}
		} else if (key_is(key, klen, "SMTPUTF8") &&
			   (caps & SMTP_CAP_SMTPUTF8) != 0) {
			if (val != NULL || params_r->smtputf8) {
				*error_r = "Invalid SMTPUTF8 parameter";
				return SMTP_PARAM_INVALID;
			}
			params_r->smtputf8 = true;
		} else if (key_is(key, klen, "RET") &&
			   (caps & SMTP_CAP_DSN) != 0) {
			if (params_r->ret != SMTP_DSN_RET_UNSPECIFIED) {
				*error_r = "Duplicate RET parameter";
				return SMTP_PARAM_INVALID;
			}
			if (val_is(val, vlen, "FULL"))
				params_r->ret = SMTP_DSN_RET_FULL;
			else if (val_is(val, vlen, "HDRS"))
				params_r->ret = SMTP_DSN_RET_HDRS;
			else {
				*error_r = "Invalid RET parameter";
				return SMTP_PARAM_INVALID;
			}
		} else if (key_is(key, klen, "ENVID") &&
			   (caps & SMTP_CAP_DSN) != 0) {
			if (params_r->envid != NULL || val == NULL ||
			    vlen > 100 ||
			    smtp_xtext_decode(pool, val, vlen,
					      &params_r->envid) < 0) {
				*error_r = "Invalid ENVID parameter";
				return SMTP_PARAM_INVALID;
			}
		} else if (key_is(key, klen, "AUTH") &&
			   (caps & SMTP_CAP_AUTH) != 0) {
			if (params_r->auth != NULL || val == NULL ||
			    smtp_xtext_decode(pool, val, vlen,
					      &params_r->auth) < 0) {
				*error_r = "Invalid AUTH parameter";
				return SMTP_PARAM_INVALID;
			}
		} else {
			*error_r = "Unsupported parameters";
			return SMTP_PARAM_UNSUPPORTED;
		}
	}
	return SMTP_PARAM_OK;
}

static int smtp_parse_notify(const char *val, size_t vlen,
			     unsigned int *notify_r)
{
	const char *end = val + vlen;
	unsigned int n = 0;

	while (val < end) {
		const char *comma = memchr(val, ',', (size_t)(end - val));
		size_t len = (size_t)((comma == NULL ? end : comma) - val);

		if (val_is(val, len, "NEVER"))
			n |= SMTP_DSN_NOTIFY_NEVER;
		else if (val_is(val, len, "SUCCESS"))
			n |= SMTP_DSN_NOTIFY_SUCCESS;
		else if (val_is(val, len, "FAILURE"))
			n |= SMTP_DSN_NOTIFY_FAILURE;
		else if (val_is(val, len, "DELAY"))
			n |= SMTP_DSN_NOTIFY_DELAY;
		else
			return -1;
		if (comma == NULL)
			break;
		val = comma + 1;
		if (val == end)
			return -1;
	}
	/* NEVER stands alone */
	if ((n & SMTP_DSN_NOTIFY_NEVER) != 0 && n != SMTP_DSN_NOTIFY_NEVER)
		return -1;
	*notify_r = n;
	return 0;
}

enum smtp_param_result
smtp_params_rcpt_parse(pool_t pool, const char *args,
		       enum smtp_capability caps,
		       struct smtp_params_rcpt *params_r,
		       const char **error_r)
{
	const char *p = args, *key, *val;
	size_t klen, vlen;

	memset(params_r, 0, sizeof(*params_r));
	while (*p != '\0') {
		if (smtp_param_next(&p, &key, &klen, &val, &vlen, true) < 0) {
			*error_r = "Invalid parameters";
			return SMTP_PARAM_INVALID;
		}
		if (key_is(key, klen, "NOTIFY") && (caps & SMTP_CAP_DSN) != 0) {
			if (params_r->notify != 0 || val == NULL ||
			    smtp_parse_notify(val, vlen,
					      &params_r->notify) < 0) {
				*error_r = "Invalid NOTIFY parameter";
				return SMTP_PARAM_INVALID;
			}
		} else if (key_is(key, klen, "ORCPT") &&
			   (caps & SMTP_CAP_DSN) != 0) {
			const char *semi = val == NULL ? NULL :
				memchr(val, ';', vlen);

			if (params_r->orcpt != NULL || semi == NULL ||
			    semi == val || vlen > 500 ||
			    smtp_xtext_decode(pool, semi + 1,
					      vlen - (size_t)(semi - val) - 1,
					      &params_r->orcpt) < 0 ||
			    params_r->orcpt[0] == '\0') {
				*error_r = "Invalid ORCPT parameter";
				return SMTP_PARAM_INVALID;
			}
			params_r->orcpt_type = p_strndup(pool, val,
				(size_t)(semi - val));
		} else {
			*error_r = "Unsupported parameters";
			return SMTP_PARAM_UNSUPPORTED;
		}
	}
	return SMTP_PARAM_OK;
}

void smtp_reply_append(string_t *dest, unsigned int code, const char *enh,
		       const char *text)
{
	const char *line = text;

	i_assert(code >= 200 && code <= 599);
	for (;;) {
		const char *nl = strchr(line, '\n');
		bool last = nl == NULL;
		size_t len = last ? strlen(line) : (size_t)(nl - line);

		str_printfa(dest, "%u%c", code, last ? ' ' : '-');
		if (enh != NULL && *enh != '\0') {
			str_append(dest, enh);
			if (len > 0)
				str_append_c(dest, ' ');
		}
		/* no CR or LF may reach the peer from inside a text */
		for (size_t i = 0; i < len; i++)
			str_append_c(dest, line[i] == '\r' ? ' ' : line[i]);
		str_append(dest, "\r\n");
		if (last)
			break;
		line = nl + 1;
	}
}

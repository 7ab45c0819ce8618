/* imap-urlauth.c - URLAUTH (RFC 4467) URLs, keys, tokens and fetching;
 * see imap-urlauth.h. URL syntax (RFC 5092, absolute form only):
 *
 *   imap://user[;AUTH=x]@host[:port]/mailbox[;UIDVALIDITY=n]/;UID=n
 *     [/;SECTION=s][/;PARTIAL=o[.l]][;EXPIRE=date-time]
 *     ;URLAUTH=access[:mech:token]
 *
 * Error texts are Dovecot 2.3's where it has one for the case. */
#include "imap-urlauth.h"
#include "imap-attr-dict.h"
#include "file-dotlock.h"
#include "imap-bodystructure.h"
#include "mail-storage.h"
#include "message-section.h"
#include "settings-structs.h"
#include "imap-url.h"
#include "hex.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URLAUTH_TOKEN_VERSION 0x01
#define URLAUTH_TOKEN_MIN_HEX 32

static bool parse_digits(const char **p, const char *end, unsigned int count,
			 int *num_r)
{
	int n = 0;

	if (end - *p < (ptrdiff_t)count)
		return false;
	for (unsigned int i = 0; i < count; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		n = n * 10 + (c - '0');
	}
	*p += count;
	*num_r = n;
	return true;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
static bool parse_datetime(const char *p, const char *end, time_t *time_r)
{
	struct tm tm;
	int year, mon, day, hour, min, sec, tzh = 0, tzm = 0, sign = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!parse_digits(&p, end, 4, &year) || p == end || *p++ != '-' ||
	    !parse_digits(&p, end, 2, &mon) || p == end || *p++ != '-' ||
	    !parse_digits(&p, end, 2, &day) || p == end ||
	    (*p != 'T' && *p != 't') || ++p == end ||
	    !parse_digits(&p, end, 2, &hour) || p == end || *p++ != ':' ||
	    !parse_digits(&p, end, 2, &min) || p == end || *p++ != ':' ||
	    !parse_digits(&p, end, 2, &sec))
		return false;
	if (p < end && *p == '.') {
		p++;
		if (p == end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p == end)
		return false;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!parse_digits(&p, end, 2, &tzh) || p == end ||
		    *p++ != ':' || !parse_digits(&p, end, 2, &tzm) ||
		    tzh > 23 || tzm > 59)
			return false;
	} else {
		return false;
	}
	if (p != end || mon < 1 || mon > 12 || day < 1 || day > 31 ||
	    hour > 23 || min > 59 || sec > 60 || year < 1970)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*time_r = t - sign * (tzh * 3600 + tzm * 60);
	return true;
}

/* characters a URI may hold as they are (RFC 3986) */
static bool uri_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/%?#[]",
						  c) != NULL);
}

/* find needle (lower case) in [p, end), case-insensitively */
static const char *find_ci(const char *p, const char *end, const char *needle)
{
	size_t len = strlen(needle);

	for (; (size_t)(end - p) >= len; p++) {
		if (strncasecmp(p, needle, len) == 0)
			return p;
	}
	return NULL;
}

static int url_fail(const char **error_r, const char *text)
{
	*error_r = text;
	return -1;
}

/* ;EXPIRE= and ;URLAUTH= at p (up to end): the tail of the URL */
static int url_parse_urlauth(pool_t pool, const char *url, const char *p,
			     const char *end, struct imap_urlauth_url *u,
			     const char **error_r)
{
	const char *semi, *colon, *colon2, *q;

	if (strncasecmp(p, ";EXPIRE=", 8) == 0) {
		p += 8;
		semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL)
			semi = end;
		if (!parse_datetime(p, semi, &u->expire))
			return url_fail(error_r, "Invalid URL: invalid date-time "
					"for `;EXPIRE='");
		u->have_expire = true;
		p = semi;
	}
	if (p == end)
		return 0;
	if (strncasecmp(p, ";URLAUTH=", 9) != 0)
		return url_fail(error_r, p_strdup_printf(pool,
			"Invalid URL: Unexpected IMAP URL path segment: `%s'", p));
	p += 9;
	colon = memchr(p, ':', (size_t)(end - p));
	q = colon == NULL ? end : colon;
	if (q == p)
		return url_fail(error_r, "Invalid URL: Empty URLAUTH access");
	u->access = p_strndup(pool, p, (size_t)(q - p));
	u->rump = p_strndup(pool, url, (size_t)(q - url));
	{
		const char *plus = strchr(u->access, '+');

		if (plus == NULL) {
			u->application = u->access;
		} else {
			u->application = p_strndup(pool, u->access,
						   (size_t)(plus - u->access));
			if (!imap_url_decode(pool, plus + 1, plus + strlen(plus),
					&u->access_user))
				return url_fail(error_r, "Invalid URL: "
						"Invalid URLAUTH access user");
		}
	}
	if (colon == NULL)
		return 0;
	colon2 = memchr(colon + 1, ':', (size_t)(end - colon - 1));
	if (colon2 == NULL || colon2 == colon + 1)
		return url_fail(error_r, "Invalid URL: Invalid URLAUTH mechanism");
	u->mech = p_strndup(pool, colon + 1, (size_t)(colon2 - colon - 1));
	q = colon2 + 1;
	if (end - q < URLAUTH_TOKEN_MIN_HEX)
		return url_fail(error_r, "Too short URLAUTH token");
	if ((end - q) % 2 != 0)
		return url_fail(error_r, "Invalid URLAUTH token");
	for (const char *t = q; t < end; t++) {
		if (hex_digit_value(*t) < 0)
			return url_fail(error_r, "Invalid URLAUTH token");
	}
	u->token = p_strndup(pool, q, (size_t)(end - q));
	return 0;
}

int imap_urlauth_url_parse(pool_t pool, const char *url,
			   struct imap_urlauth_url *u, const char **error_r)
{
	const char *p = url, *end = url + strlen(url), *q, *at, *slash;
	const char *mbox_end, *semi;

	memset(u, 0, sizeof(*u));
	u->section = "";
	u->port = 143;
	/* the scheme */
	q = p;
	if (isalpha((unsigned char)*q)) {
		while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' ||
		       *q == '.')
			q++;
	}
	if (q == p || *q != ':') {
		for (q = p; q < end; q++) {
			if (!uri_char((unsigned char)*q))
				return url_fail(error_r, "Path component "
						"contains invalid character");
		}
		return url_fail(error_r, "Relative URL not allowed");
	}
	for (q = p; q < end; q++) {
		if (!uri_char((unsigned char)*q))
			return url_fail(error_r, "Invalid URL: "
					"URL contains invalid character");
	}
	if (strncasecmp(p, "imap://", 7) != 0)
		return url_fail(error_r, "Invalid URL: Not an IMAP URL");
	p += 7;
	/* iserver: [user[;AUTH=x]@]host[:port] */
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = end;
	at = memchr(p, '@', (size_t)(slash - p));
	if (at != NULL) {
		semi = memchr(p, ';', (size_t)(at - p));
		if (semi != NULL && strncasecmp(semi, ";AUTH=", 6) != 0)
			return url_fail(error_r, "Invalid URL: "
					"Invalid IMAP URL user");
		if (!imap_url_decode(pool, p, semi != NULL ? semi : at, &u->userid) ||
		    u->userid[0] == '\0')
			return url_fail(error_r, "Invalid URL: "
					"Invalid IMAP URL user");
		p = at + 1;
	}
	q = memchr(p, ':', (size_t)(slash - p));
	u->host = p_strndup(pool, p, (size_t)((q != NULL ? q : slash) - p));
	if (u->host[0] == '\0')
		return url_fail(error_r, "Invalid URL: Missing host name");
	if (q != NULL) {
		uint32_t port;

		if (!imap_url_parse_u32(q + 1, slash, &port) || port > 65535)
			return url_fail(error_r, "Invalid URL: Invalid port");
		u->port = port;
	}
	if (u->userid == NULL)
		return url_fail(error_r, "Invalid URL: Missing user name");
	if (slash == end || strchr(slash, '?') != NULL)
		return url_fail(error_r,
				"Invalid URL: Must be an URLAUTH rump URL");
	p = slash + 1;
	if (*p == ';' || *p == '\0')
		return url_fail(error_r,
				"Invalid URL: Must be an URLAUTH rump URL");
	/* mailbox[;UIDVALIDITY=n] up to "/;UID=" */
	mbox_end = find_ci(p, end, "/;uid=");
	semi = memchr(p, ';', (size_t)((mbox_end != NULL ? mbox_end : end) - p));
	if (semi != NULL && (mbox_end == NULL ||
			     strncasecmp(semi, ";UIDVALIDITY=", 13) != 0))
		return url_fail(error_r, "Invalid URL: "
				"Encountered stray ';' in mailbox reference");
	if (mbox_end == NULL || mbox_end == p)
		return url_fail(error_r,
				"Invalid URL: Must be an URLAUTH rump URL");
	if (!imap_url_decode(pool, p, semi != NULL ? semi : mbox_end, &u->mailbox) ||
	    u->mailbox[0] == '\0')
		return url_fail(error_r, "Invalid URL: Invalid mailbox name");
	if (semi != NULL && !imap_url_parse_u32(semi + 13, mbox_end, &u->uidvalidity))
		return url_fail(error_r, "Invalid URL: Invalid UIDVALIDITY");
	p = mbox_end + 6;
	q = p;
	while (q < end && *q >= '0' && *q <= '9')
		q++;
	if (!imap_url_parse_u32(p, q, &u->uid))
		return url_fail(error_r, "Invalid URL: Invalid UID");
	p = q;
	if (strncasecmp(p, "/;SECTION=", 10) == 0) {
		p += 10;
		q = p;
		while (q < end && *q != ';' && !(q[0] == '/' && q[1] == ';'))
			q++;
		if (q == p || !imap_url_decode(pool, p, q, &u->section))
			return url_fail(error_r, "Invalid URL: Invalid section");
		p = q;
	}
	if (strncasecmp(p, "/;PARTIAL=", 10) == 0) {
		const char *dot;

		p += 10;
		q = p;
		while (q < end && *q != ';' && *q != '/')
			q++;
		dot = memchr(p, '.', (size_t)(q - p));
		u->partial = true;
		if (!imap_url_parse_u64(p, dot != NULL ? dot : q, &u->partial_offset) ||
		    (dot != NULL && (!imap_url_parse_u64(dot + 1, q, &u->partial_size) ||
				     u->partial_size == 0)))
			return url_fail(error_r, "Invalid URL: Invalid PARTIAL");
		p = q;
	}
	return url_parse_urlauth(pool, url, p, end, u, error_r);
}

void imap_urlauth_context_init(struct imap_urlauth_context *ctx,
			       struct mail_user *user, const char *username,
			       const struct settings_root *set, bool submit)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->user = user;
	ctx->username = username;
	ctx->submit = submit;
	ctx->host = set->imap_urlauth_host != NULL &&
		set->imap_urlauth_host[0] != '\0' ? set->imap_urlauth_host :
		set->hostname;
	ctx->port = set->imap_urlauth_port;
	ctx->attribute_dict = set->mail_attribute_dict;
}

/* ---- keys ---- */

static const char *urlauth_dict_path(struct imap_urlauth_context *ctx,
				     pool_t pool, const char **error_r)
{
	const char *dict = ctx->attribute_dict;

	if (dict == NULL || strncmp(dict, "file:", 5) != 0) {
		*error_r = "URLAUTH needs a file: mail_attribute_dict";
		return NULL;
	}
	return md_expand(pool, ctx->user, dict + 5);
}

static const char *key_entry(pool_t pool, const char *guid)
{
	return p_strdup_printf(pool, "priv/%s/" IMAP_URLAUTH_KEY_ENTRY, guid);
}

/* The mailbox's key; created when create and missing. 1 found, 0 not
 * there, -1 error. */
static int urlauth_key_get(struct imap_urlauth_context *ctx, pool_t pool,
			   const char *guid, bool create,
			   unsigned char key_r[IMAP_URLAUTH_KEY_LEN],
			   const char **error_r)
{
	struct md_dict dict;
	struct md_pair *pair;
	struct dotlock *dotlock = NULL;
	const char *path = urlauth_dict_path(ctx, pool, error_r);
	const char *entry = key_entry(pool, guid);
	int ret = 0;

	if (path == NULL)
		return -1;
	/* a key may be created: read and write under the dict's lock */
	if (create && md_dict_lock(path, &dotlock) < 0) {
		*error_r = "Failed to lock the URLAUTH key";
		return -1;
	}
	if (md_dict_load(&dict, path) < 0) {
		md_dict_free(&dict);
		if (dotlock != NULL)
			(void)file_dotlock_delete(&dotlock);
		*error_r = "Failed to read the URLAUTH key";
		return -1;
	}
	pair = md_dict_find(&dict, entry);
	if (pair != NULL && strlen(pair->value) == IMAP_URLAUTH_KEY_LEN * 2) {
		for (unsigned int i = 0; i < IMAP_URLAUTH_KEY_LEN; i++) {
			int hi = hex_digit_value(pair->value[i * 2]);
			int lo = hex_digit_value(pair->value[i * 2 + 1]);

			if (hi < 0 || lo < 0)
				break;
			key_r[i] = (unsigned char)(hi * 16 + lo);
			if (i == IMAP_URLAUTH_KEY_LEN - 1)
				ret = 1;
		}
	}
	if (ret == 0 && create) {
		string_t *hex = str_new(IMAP_URLAUTH_KEY_LEN * 2 + 1);

		if (RAND_bytes(key_r, IMAP_URLAUTH_KEY_LEN) != 1) {
			i_error("URLAUTH: RAND_bytes() failed");
			ret = -1;
		} else {
			for (unsigned int i = 0; i < IMAP_URLAUTH_KEY_LEN; i++)
				str_printfa(hex, "%02x", key_r[i]);
			md_dict_set(&dict, entry, str_c(hex));
			ret = md_dict_save(&dict, &dotlock) < 0 ? -1 : 1;
		}
		str_free(&hex);
		if (ret < 0)
			*error_r = "Failed to store the URLAUTH key";
	}
	if (dotlock != NULL)
		(void)file_dotlock_delete(&dotlock);
	md_dict_free(&dict);
	return ret;
}

static void urlauth_token(const unsigned char key[IMAP_URLAUTH_KEY_LEN],
			  const char *rump, string_t *dest)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	(void)HMAC(EVP_sha1(), key, IMAP_URLAUTH_KEY_LEN,
		   (const unsigned char *)rump, strlen(rump), mac, &mac_len);
	str_printfa(dest, "%02x", URLAUTH_TOKEN_VERSION);
	for (unsigned int i = 0; i < mac_len; i++)
		str_printfa(dest, "%02x", mac[i]);
}

/* Open the mailbox of u and check its message; *guid_r. -1 with
 * *error_r and the box freed. */
static int urlauth_open(struct imap_urlauth_context *ctx, pool_t pool,
			const struct imap_urlauth_url *u,
			struct mailbox **box_r, const char **guid_r,
			const char **error_r)
{
	struct mailbox *box;
	struct mailbox_status status;

	box = mailbox_alloc(ctx->user, u->mailbox, MAILBOX_FLAG_READONLY);
	if (mailbox_open(box) < 0 || mailbox_sync(box, 0, NULL, NULL) < 0 ||
	    mailbox_get_status(box, STATUS_GUID, &status) < 0) {
		*error_r = p_strdup(pool, mailbox_get_last_error(box, NULL));
		mailbox_free(&box);
		return -1;
	}
	if (status.guid[0] == '\0') {
		*error_r = "Mailbox has no GUID";
		mailbox_free(&box);
		return -1;
	}
	*guid_r = p_strdup(pool, status.guid);
	*box_r = box;
	return 0;
}

static bool message_exists(struct mailbox *box, uint32_t uid)
{
	struct mail *mail = mail_alloc(box);
	bool ret = mail_set_uid(mail, uid);

	mail_free(&mail);
	return ret;
}

/* the URL is for this server and user */
static int urlauth_check_server(struct imap_urlauth_context *ctx,
				const struct imap_urlauth_url *u, bool fetch,
				const char **error_r)
{
	/* Dovecot 2.3 compares the host case-insensitively for GENURLAUTH
	   but not for URLFETCH */
	if (ctx->host == NULL ||
	    (fetch ? strcmp(u->host, ctx->host) :
	     strcasecmp(u->host, ctx->host)) != 0)
		return url_fail(error_r, "Invalid URL: Inappropriate host name");
	if (u->port != ctx->port)
		return url_fail(error_r, "Invalid URL: Inappropriate server port");
	return 0;
}

int imap_urlauth_generate(struct imap_urlauth_context *ctx, pool_t pool,
			  const char *rump, const char *mech,
			  const char **url_r, const char **error_r)
{
	struct imap_urlauth_url u;
	unsigned char key[IMAP_URLAUTH_KEY_LEN];
	struct mailbox *box;
	const char *guid, *error;
	string_t *str;

	if (imap_urlauth_url_parse(pool, rump, &u, &error) < 0) {
		*error_r = strncmp(error, "Invalid URL: ", 13) == 0 ? error :
			p_strdup_printf(pool, "Invalid URL: %s", error);
		return -1;
	}
	if (u.access == NULL || u.mech != NULL)
		return url_fail(error_r,
				"Invalid URL: Must be an URLAUTH rump URL");
	if (strcasecmp(mech, "INTERNAL") != 0) {
		*error_r = p_strdup_printf(pool,
			"Unsupported URLAUTH mechanism: %s", mech);
		return -1;
	}
	if (urlauth_check_server(ctx, &u, false, error_r) < 0)
		return -1;
	if (strcmp(u.userid, ctx->username) != 0) {
		*error_r = p_strdup_printf(pool,
			"Not permitted to generate URLAUTH for user %s",
			u.userid);
		return -1;
	}
	if (u.have_expire && u.expire <= time(NULL))
		return url_fail(error_r, "URLAUTH has already expired");
	if (urlauth_open(ctx, pool, &u, &box, &guid, &error) < 0) {
		*error_r = p_strdup_printf(pool, "Invalid URL: %s", error);
		return -1;
	}
	if (u.uidvalidity != 0 &&
	    u.uidvalidity != mailbox_get_uidvalidity(box)) {
		mailbox_free(&box);
		return url_fail(error_r, "Invalid URL: Invalid UIDVALIDITY");
	}
	if (!message_exists(box, u.uid)) {
		mailbox_free(&box);
		return url_fail(error_r, "Invalid URL: Message not found");
	}
	mailbox_free(&box);
	if (urlauth_key_get(ctx, pool, guid, true, key, error_r) <= 0)
		return -1;
	str = str_new(strlen(rump) + 64);
	str_append(str, rump);
	str_append(str, ":internal:");
	urlauth_token(key, rump, str);
	*url_r = p_strdup(pool, str_c(str));
	str_free(&str);
	return 0;
}

int imap_urlauth_reset(struct imap_urlauth_context *ctx, pool_t pool,
		       const char *mailbox, const char **error_r)
{
	struct md_dict dict;
	struct dotlock *dotlock = NULL;
	const char *path = urlauth_dict_path(ctx, pool, error_r);
	const char *guid = NULL;
	int ret = 0;

	if (path == NULL)
		return -1;
	if (mailbox != NULL) {
		struct imap_urlauth_url u;
		struct mailbox *box;

		memset(&u, 0, sizeof(u));
		u.mailbox = mailbox;
		if (urlauth_open(ctx, pool, &u, &box, &guid, error_r) < 0)
			return -1;
		mailbox_free(&box);
	}
	if (md_dict_lock(path, &dotlock) < 0) {
		*error_r = "Failed to lock the URLAUTH keys";
		return -1;
	}
	if (md_dict_load(&dict, path) < 0) {
		md_dict_free(&dict);
		(void)file_dotlock_delete(&dotlock);
		*error_r = "Failed to read the URLAUTH keys";
		return -1;
	}
	if (guid != NULL) {
		if (md_dict_find(&dict, key_entry(pool, guid)) != NULL) {
			md_dict_set(&dict, key_entry(pool, guid), NULL);
			ret = md_dict_save(&dict, &dotlock);
		}
	} else {
		size_t suffix_len = strlen("/" IMAP_URLAUTH_KEY_ENTRY);
		bool changed = false;

		for (size_t i = 0; i < dict.pairs.count;) {
			const char *key = dict.pairs.v[i].key;
			size_t len = strlen(key);

			if (strncmp(key, "priv/", 5) == 0 && len > suffix_len &&
			    strcmp(key + len - suffix_len,
				   "/" IMAP_URLAUTH_KEY_ENTRY) == 0 &&
			    memchr(key + 5, '/', len - suffix_len - 5) == NULL) {
				md_dict_set(&dict, key, NULL);
				changed = true;
			} else {
				i++;
			}
		}
		if (changed)
			ret = md_dict_save(&dict, &dotlock);
	}
	if (dotlock != NULL)
		(void)file_dotlock_delete(&dotlock);
	md_dict_free(&dict);
	if (ret < 0)
		*error_r = "Failed to write the URLAUTH keys";
	return ret;
}

/* ---- fetch ---- */

struct imap_urlauth_fetch {
	pool_t pool;
	struct imap_urlauth_url url;
	struct mailbox *box;
	struct mail *mail;
	const unsigned char *data;
	size_t size;
	struct message_part *parts;
	struct message_section section;
};

static int urlauth_check_access(struct imap_urlauth_context *ctx,
				pool_t pool, const struct imap_urlauth_url *u,
				const char **error_r)
{
	const char *app = u->application;

	if (ctx->submit) {
		if (strcasecmp(app, "submit") == 0 && u->access_user != NULL &&
		    strcmp(u->access_user, ctx->username) == 0)
			return 0;
		if (strcasecmp(app, "submit") == 0)
			*error_r = p_strdup_printf(pool,
				"No '%s' access allowed for user %s",
				u->access, ctx->username);
		else
			*error_r = p_strdup_printf(pool,
				"No '%s' access allowed for submission service",
				u->access);
		return -1;
	}
	if (strcasecmp(app, "anonymous") == 0 ||
	    strcasecmp(app, "authuser") == 0)
		return 0;
	if (strcasecmp(app, "user") == 0) {
		if (u->access_user == NULL)
			return url_fail(error_r,
				"URLAUTH `user' access is missing userid");
		/* the fetcher owns the mail (only own URLs are resolved,
		   so user+<anyone> is the owner's too, as in Dovecot) */
		return 0;
	}
	*error_r = p_strdup_printf(pool, "No '%s' access allowed for user %s",
				   u->access, ctx->username);
	return -1;
}

static bool token_equal(const char *a, const char *b)
{
	size_t len = strlen(a);
	unsigned char diff = 0;

	if (len != strlen(b))
		return false;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(tolower((unsigned char)a[i]) ^
					tolower((unsigned char)b[i]));
	return diff == 0;
}

int imap_urlauth_fetch_open(struct imap_urlauth_context *ctx, pool_t err_pool,
			    const char *url, struct imap_urlauth_fetch **fetch_r,
			    const char **error_r)
{
	pool_t pool = pool_create("urlauth fetch", 1024);
	struct imap_urlauth_fetch *f = p_new(pool, struct imap_urlauth_fetch, 1);
	struct imap_urlauth_url *u = &f->url;
	unsigned char key[IMAP_URLAUTH_KEY_LEN];
	const char *guid, *error;
	string_t *token;
	bool valid;
	int ret;

	f->pool = pool;
	*fetch_r = NULL;
	if (imap_urlauth_url_parse(pool, url, u, &error) < 0)
		goto fail;
	if (u->mech == NULL) {
		error = "Invalid URL: Must be a full URLAUTH URL";
		goto fail;
	}
	if (urlauth_check_server(ctx, u, true, &error) < 0)
		goto fail;
	if (strcasecmp(u->mech, "internal") != 0) {
		error = p_strdup_printf(pool,
			"Unsupported URLAUTH mechanism: %s", u->mech);
		goto fail;
	}
	if (u->have_expire && u->expire <= time(NULL)) {
		error = "URLAUTH has expired";
		goto fail;
	}
	if (urlauth_check_access(ctx, pool, u, &error) < 0)
		goto fail;
	if (strcmp(u->userid, ctx->username) != 0) {
		error = "URLAUTH of another user not supported";
		goto fail;
	}
	if (urlauth_open(ctx, pool, u, &f->box, &guid, &error) < 0) {
		error = "URLAUTH verification failed";
		goto fail;
	}
	ret = urlauth_key_get(ctx, pool, guid, false, key, &error);
	if (ret < 0)
		goto fail;
	token = str_new(64);
	if (ret > 0)
		urlauth_token(key, u->rump, token);
	valid = ret > 0 && token_equal(str_c(token), u->token);
	str_free(&token);
	if (!valid) {
		error = "URLAUTH verification failed";
		goto fail;
	}
	if (u->uidvalidity != 0 &&
	    u->uidvalidity != mailbox_get_uidvalidity(f->box)) {
		error = "Invalid URL: Invalid UIDVALIDITY";
		goto fail;
	}
	f->mail = mail_alloc(f->box);
	if (!mail_set_uid(f->mail, u->uid) ||
	    mail_get_stream(f->mail, &f->data, &f->size) < 0) {
		error = "Invalid URL: Message not found";
		goto fail;
	}
	if (message_section_parse(pool, u->section, &f->section, &error) < 0) {
		error = p_strdup_printf(pool, "Invalid URL: Invalid section: %s",
					error);
		goto fail;
	}
	message_parse(pool, f->data, f->size, &f->parts);
	*fetch_r = f;
	return 0;
fail:
	*error_r = p_strdup(err_pool, error);
	imap_urlauth_fetch_close(&f);
	return -1;
}

static void apply_partial(const struct imap_urlauth_url *u,
			  const unsigned char *data, size_t size,
			  string_t *dest)
{
	uint64_t start = 0, len = size;

	if (u->partial) {
		start = u->partial_offset > size ? size : u->partial_offset;
		len = size - start;
		if (u->partial_size != 0 && u->partial_size < len)
			len = u->partial_size;
	}
	str_append_n(dest, (const char *)data + start, (size_t)len);
}

void imap_urlauth_fetch_body(struct imap_urlauth_fetch *f, string_t *dest)
{
	struct message_section_result res;
	string_t *body;

	(void)message_section_get(f->pool, f->parts, f->data, f->size,
				  &f->section, &res);
	body = str_new((size_t)res.virtual_size + 1);
	message_section_result_append(&res, f->data, body);
	apply_partial(&f->url, (const unsigned char *)str_c(body),
		      str_len(body), dest);
	str_free(&body);
}

int imap_urlauth_fetch_binary(struct imap_urlauth_fetch *f, string_t *dest,
			      bool *literal8_r, const char **error_r)
{
	struct message_binary_result res;
	string_t *body = str_new(1024);

	if (message_section_binary(f->parts, f->data, f->size, &f->section,
				   body, 0, &res) < 0) {
		str_free(&body);
		switch (res.error) {
		case MESSAGE_BINARY_ERR_UNKNOWN_CTE:
			*error_r = "Unknown Content-Transfer-Encoding";
			break;
		default:
			*error_r = "Invalid data in MIME part";
			break;
		}
		return -1;
	}
	*literal8_r = res.literal8;
	apply_partial(&f->url, (const unsigned char *)str_c(body),
		      str_len(body), dest);
	str_free(&body);
	return 0;
}

void imap_urlauth_fetch_bodypartstructure(struct imap_urlauth_fetch *f,
					  string_t *dest)
{
	const struct message_part *part = f->parts;

	if (f->section.part_path[0] != '\0' &&
	    message_part_find(f->parts, f->section.part_path, &part) <= 0)
		part = f->parts;
	imap_bodystructure_write(part, dest, true);
}

void imap_urlauth_fetch_close(struct imap_urlauth_fetch **_f)
{
	struct imap_urlauth_fetch *f = *_f;

	if (f == NULL)
		return;
	*_f = NULL;
	if (f->mail != NULL)
		mail_free(&f->mail);
	if (f->box != NULL)
		mailbox_free(&f->box);
	pool_destroy(&f->pool);
}

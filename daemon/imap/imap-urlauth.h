/* imap-urlauth.h - URLAUTH (RFC 4467) for the IMAP session (GENURLAUTH,
 * URLFETCH, RESETKEY) and the submission session (BURL, RFC 4468):
 * parsing of absolute IMAP URLs (RFC 5092) with ;EXPIRE= and ;URLAUTH=,
 * the per-mailbox keys, tokens, access identifiers and fetching the part
 * a URL names.
 *
 * Compatible with Dovecot 2.3: the key of a mailbox is 64 random bytes,
 * hex in the file: mail_attribute_dict under
 *   priv/<mailbox GUID>/vendor/vendor.dovecot/imap-urlauth
 * and the INTERNAL token is "01" + hex(HMAC-SHA1(key, rump URL)), the
 * rump URL being exactly what the client sent before ":internal:".
 * URLs made by either server verify on the other.
 *
 * Only URLs of the session's own user are resolved (the process runs
 * as that user); Dovecot's imap-urlauth service for other users' URLs is
 * not there: such URLs fail with "URLAUTH of another user not supported". */
#ifndef ROOST_IMAP_URLAUTH_H
#define ROOST_IMAP_URLAUTH_H

#include "lib.h"
#include "pool.h"
#include "str.h"

#include <time.h>

struct mail_user;
struct settings_root;

#define IMAP_URLAUTH_KEY_LEN 64
#define IMAP_URLAUTH_KEY_ENTRY "vendor/vendor.dovecot/imap-urlauth"

struct imap_urlauth_url {
	const char *userid;		/* NULL: none given */
	const char *host;
	unsigned int port;		/* 143 when not given */
	const char *mailbox;		/* decoded */
	uint32_t uidvalidity;		/* 0: not given */
	uint32_t uid;
	const char *section;		/* decoded; "" for the whole message */
	bool partial;
	uint64_t partial_offset, partial_size;	/* size 0: to the end */
	bool have_expire;
	time_t expire;
	const char *access;		/* "submit+alice", NULL: no URLAUTH */
	const char *application;	/* "submit" */
	const char *access_user;	/* "alice", NULL when no '+' */
	const char *mech;		/* NULL in a rump URL */
	const char *token;		/* hex, NULL in a rump URL */
	const char *rump;		/* the URL before ":mech:token" */
};

/* Parse an absolute IMAP URL. -1 with *error_r as Dovecot words it
 * ("Relative URL not allowed", "Invalid URL: ..."). */
int imap_urlauth_url_parse(pool_t pool, const char *url,
			   struct imap_urlauth_url *url_r,
			   const char **error_r);

struct imap_urlauth_context {
	struct mail_user *user;		/* owner and fetcher */
	const char *username;
	/* submission (BURL): only submit+<username> */
	bool submit;
	const char *host;		/* imap_urlauth_host (or hostname) */
	unsigned int port;		/* imap_urlauth_port */
	const char *attribute_dict;	/* mail_attribute_dict */
};

void imap_urlauth_context_init(struct imap_urlauth_context *ctx,
			       struct mail_user *user, const char *username,
			       const struct settings_root *set, bool submit);

/* GENURLAUTH of one rump URL with mechanism mech: the full URL, or -1
 * with *error_r (the text after "Error in IMAP command GENURLAUTH: "). */
int imap_urlauth_generate(struct imap_urlauth_context *ctx, pool_t pool,
			  const char *rump, const char *mech,
			  const char **url_r, const char **error_r);

/* RESETKEY: mailbox NULL drops every key; otherwise the mailbox's key.
 * -1 with *error_r (the NO text). */
int imap_urlauth_reset(struct imap_urlauth_context *ctx, pool_t pool,
		       const char *mailbox, const char **error_r);

struct imap_urlauth_fetch;

/* Check and open what a full URL names: -1 with *error_r (the text
 * after "Failed to fetch URLAUTH \"url\": ", without the final ".",
 * allocated from err_pool). */
int imap_urlauth_fetch_open(struct imap_urlauth_context *ctx, pool_t err_pool,
			    const char *url, struct imap_urlauth_fetch **fetch_r,
			    const char **error_r);
/* BODY: the section's bytes, cut by ;PARTIAL=. */
void imap_urlauth_fetch_body(struct imap_urlauth_fetch *fetch, string_t *dest);
/* BINARY (RFC 5524): the decoded section; *literal8_r when it must be
 * sent as ~{n}. -1 with *error_r. */
int imap_urlauth_fetch_binary(struct imap_urlauth_fetch *fetch, string_t *dest,
			      bool *literal8_r, const char **error_r);
/* BODYPARTSTRUCTURE: the BODYSTRUCTURE of the part the section names. */
void imap_urlauth_fetch_bodypartstructure(struct imap_urlauth_fetch *fetch,
					  string_t *dest);
void imap_urlauth_fetch_close(struct imap_urlauth_fetch **fetch);

#endif

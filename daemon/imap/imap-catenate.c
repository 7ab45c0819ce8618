/* imap-catenate.c - the URL parts of APPEND's CATENATE (RFC 4469): IMAP
 * URLs (RFC 5092) relative to the session, as Dovecot 2.3 takes them
 * without imap_urlauth_host:
 *   /mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]
 *   ;UID=n[...]            (the selected mailbox)
 * Absolute imap:// URLs are refused ("Relative URL required"), as are
 * URLAUTH and the other segments. The part's bytes are BODY[section] of
 * the message, cut by PARTIAL (URL-PARTIAL, RFC 5550). */
#include "imap-save.h"
#include "message-section.h"
#include "imap-url.h"

#include <stdlib.h>
#include <strings.h>

struct imap_url {
	const char *mailbox;	/* vname; NULL: the selected mailbox */
	uint32_t uidvalidity;	/* 0: not given */
	uint32_t uid;
	const char *section;	/* "" for the whole message */
	bool partial;
	uint64_t partial_offset, partial_size;	/* size 0: to the end */
};

/* Parse url; -1 with *error_r (after "Invalid IMAP URL: "). */
static int url_parse(pool_t pool, const char *url, struct imap_url *url_r,
		     const char **error_r)
{
	const char *p = url, *seg_end, *end = url + strlen(url);

	memset(url_r, 0, sizeof(*url_r));
	url_r->section = "";
	if (strncasecmp(p, "imap:", 5) == 0 || strstr(p, "://") != NULL) {
		*error_r = "Relative URL required";
		return -1;
	}
	if (*p == '/') {
		/* /mailbox[;UIDVALIDITY=n]/ */
		const char *mbox_end, *semi;

		p++;
		mbox_end = strchr(p, '/');
		if (mbox_end == NULL || mbox_end == p) {
			*error_r = "Mailbox name missing";
			return -1;
		}
		semi = memchr(p, ';', (size_t)(mbox_end - p));
		if (!imap_url_decode(pool, p, semi != NULL ? semi : mbox_end,
				&url_r->mailbox)) {
			*error_r = "Invalid mailbox name";
			return -1;
		}
		if (semi != NULL) {
			if (strncasecmp(semi, ";UIDVALIDITY=", 13) != 0 ||
			    !imap_url_parse_u32(semi + 13, mbox_end, &url_r->uidvalidity)) {
				*error_r = "Invalid UIDVALIDITY";
				return -1;
			}
		}
		p = mbox_end + 1;
	}
	/* ;UID=n */
	seg_end = strchr(p, '/');
	if (seg_end == NULL)
		seg_end = end;
	if (strncasecmp(p, ";UID=", 5) != 0) {
		*error_r = "Message UID missing";
		return -1;
	}
	if (!imap_url_parse_u32(p + 5, seg_end, &url_r->uid)) {
		*error_r = "Invalid UID";
		return -1;
	}
	p = seg_end;
	while (*p == '/') {
		p++;
		seg_end = strchr(p, '/');
		/* a section may contain '/' only encoded */
		if (seg_end == NULL)
			seg_end = end;
		if (strncasecmp(p, ";SECTION=", 9) == 0 && !url_r->partial &&
		    url_r->section[0] == '\0') {
			if (!imap_url_decode(pool, p + 9, seg_end, &url_r->section)) {
				*error_r = "Invalid section";
				return -1;
			}
		} else if (strncasecmp(p, ";PARTIAL=", 9) == 0 &&
			   !url_r->partial) {
			const char *dot = memchr(p + 9, '.',
						 (size_t)(seg_end - p - 9));

			url_r->partial = true;
			if (!imap_url_parse_u64(p + 9, dot != NULL ? dot : seg_end,
				       &url_r->partial_offset) ||
			    (dot != NULL &&
			     (!imap_url_parse_u64(dot + 1, seg_end,
					 &url_r->partial_size) ||
			      url_r->partial_size == 0))) {
				*error_r = "Invalid PARTIAL";
				return -1;
			}
		} else {
			*error_r = p_strdup_printf(pool,
				"Unexpected IMAP URL path segment: `%.*s'",
				(int)(seg_end - p), p);
			return -1;
		}
		p = seg_end;
	}
	return 0;
}

static int url_fail(pool_t pool, const char *url, const char *text,
		    const char **error_r)
{
	*error_r = p_strdup_printf(pool, "[BADURL %s] %s", url, text);
	return -1;
}

int imap_catenate_url(struct client_command_context *cmd, const char *url,
		      string_t *dest, const char **error_r)
{
	struct imap_client *client = cmd->client;
	struct imap_url u;
	struct mailbox *box = NULL;
	struct mail *mail = NULL;
	struct message_section section;
	struct message_section_result res;
	struct message_part *parts;
	const unsigned char *data;
	const char *error;
	size_t size;
	pool_t pool;
	bool own = false;
	int ret = -1;
	string_t *body;

	if (url_parse(cmd->pool, url, &u, &error) < 0)
		return url_fail(cmd->pool, url, p_strdup_printf(cmd->pool,
				"Invalid IMAP URL: %s", error), error_r);
	if (u.mailbox == NULL) {
		if (client->mailbox == NULL)
			return url_fail(cmd->pool, url,
				"Invalid IMAP URL: No mailbox selected",
				error_r);
		box = client->mailbox;
	} else if (client->mailbox != NULL &&
		   strcmp(mailbox_get_vname(client->mailbox), u.mailbox) == 0) {
		box = client->mailbox;
	} else {
		box = mailbox_alloc(client->user, u.mailbox, MAILBOX_FLAG_READONLY);
		own = true;
		if (mailbox_open(box) < 0 ||
		    mailbox_sync(box, 0, NULL, NULL) < 0) {
			(void)url_fail(cmd->pool, url,
				       mailbox_get_last_error(box, NULL), error_r);
			mailbox_free(&box);
			return -1;
		}
	}
	if (u.uidvalidity != 0 && u.uidvalidity != mailbox_get_uidvalidity(box)) {
		(void)url_fail(cmd->pool, url, "Invalid UIDVALIDITY", error_r);
		goto out;
	}
	mail = mail_alloc(box);
	if (!mail_set_uid(mail, u.uid) ||
	    mail_get_stream(mail, &data, &size) < 0) {
		(void)url_fail(cmd->pool, url, "Message not found", error_r);
		goto out;
	}
	if (message_section_parse(cmd->pool, u.section, &section, &error) < 0) {
		(void)url_fail(cmd->pool, url, p_strdup_printf(cmd->pool,
			"Invalid IMAP URL: Invalid section: %s", error),
			error_r);
		goto out;
	}
	pool = pool_create("catenate url", 1024);
	message_parse(pool, data, size, &parts);
	(void)message_section_get(pool, parts, data, size, &section, &res);
	body = str_new((size_t)res.virtual_size + 1);
	message_section_result_append(&res, data, body);
	pool_destroy(&pool);
	if (u.partial) {
		uint64_t start = u.partial_offset, len = str_len(body);

		if (start > len)
			start = len;
		len -= start;
		if (u.partial_size != 0 && u.partial_size < len)
			len = u.partial_size;
		str_append_n(dest, str_c(body) + start, (size_t)len);
	} else {
		str_append_n(dest, str_c(body), str_len(body));
	}
	str_free(&body);
	ret = 0;
out:
	if (mail != NULL)
		mail_free(&mail);
	if (own)
		mailbox_free(&box);
	return ret;
}

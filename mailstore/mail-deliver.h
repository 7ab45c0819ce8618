/* mail-deliver.h - delivering one message into a user's mailbox, the part
 * dovecot-lda (compat/lda.c) and LMTP (daemon/lmtp/) share, as Dovecot's
 * lib-lda does: the header values of the log line, deliver_log_format,
 * saving with lda_mailbox_autocreate/_autosubscribe and the fallback to
 * INBOX, and which failures are temporary (quota_full_tempfail). */
#ifndef ROOST_MAIL_DELIVER_H
#define ROOST_MAIL_DELIVER_H

#include "lib.h"
#include "pool.h"
#include "str.h"
#include "mail-storage.h"

struct settings_root;

/* The envelope sender when there is none (and for -f garbage). */
#define MAIL_DELIVER_DEFAULT_SENDER "MAILER-DAEMON"
/* The part of the header looked at for the log line. */
#define MAIL_DELIVER_MAX_HEADER_SIZE (64 * 1024)

struct mail_deliver_context {
	pool_t pool;			/* strings of the delivery */
	const struct settings_root *set;
	struct mail_user *user;

	/* the message: mem/mem_size, or the first size bytes of fd (read
	   with pread, so the offset doesn't matter) */
	const unsigned char *mem;
	size_t mem_size;
	int fd;
	uint64_t size;
	/* written before the message (LMTP's Return-Path, Delivered-To,
	   Received lines, CRLF-ended); NULL = none */
	const char *prefix;

	/* the saved mail's received date (0 = now) and envelope sender */
	time_t received_time;
	const char *envelope_sender;

	/* the log line's variables (mail_deliver_info_init) */
	const char *msgid, *subject, *from;
	uint64_t vsize;
	string_t *header;		/* the header, up to the limit */
};

/* Call fn for the message's bytes in order (prefix excluded). */
int mail_deliver_input_foreach(struct mail_deliver_context *ctx,
			       int (*fn)(const void *data, size_t size,
					 void *context),
			       void *context);
/* Read the header and fill msgid ("<id>" or "unspecified"), subject,
 * from (the address) and vsize. */
void mail_deliver_info_init(struct mail_deliver_context *ctx);
void mail_deliver_info_deinit(struct mail_deliver_context *ctx);

/* The first value of header name in hdr, unfolded and trimmed, or NULL. */
const char *mail_deliver_header_get(pool_t pool, const string_t *hdr,
				    const char *name);
/* The address of a From:-like value: inside <...>, else the value. */
const char *mail_deliver_address_of(pool_t pool, const char *value);
/* Dovecot's sanitizing of an envelope sender: an address, else
 * MAILER-DAEMON. */
const char *mail_deliver_address_sanitize(pool_t pool, const char *address);

/* One line in deliver_log_format (%$ = the formatted text) via i_info. */
void mail_deliver_log(struct mail_deliver_context *ctx, const char *fmt, ...)
	ATTR_FORMAT(2, 3);

/* Save into vname: 0 saved ("saved mail to X" logged); -1 with
 * *error_r and *error_class_r ("save failed to ..." logged). */
int mail_deliver_save(struct mail_deliver_context *ctx, const char *vname,
		      const char **error_r, enum mail_error *error_class_r);
/* Save into mailbox (normalized), falling back to INBOX when that
 * fails, as Dovecot's LDA and LMTP do. */
int mail_deliver(struct mail_deliver_context *ctx, const char *mailbox,
		 const char **error_r, enum mail_error *error_class_r);
/* Is a failed delivery temporary (try again later) rather than a
 * rejection? Only a full quota rejects, and not with
 * quota_full_tempfail. */
bool mail_deliver_error_is_tempfail(const struct settings_root *set,
				    enum mail_error error_class,
				    const char *error);

#endif

/* mail-deliver.c - one message into one user's mailbox (mail-deliver.h),
 * shared by dovecot-lda and LMTP. */
#include "mail-deliver.h"
#include "var-expand.h"
#include "settings-structs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

int mail_deliver_input_foreach(struct mail_deliver_context *ctx,
			       int (*fn)(const void *data, size_t size,
					 void *context),
			       void *context)
{
	unsigned char buf[65536];
	uint64_t off = 0;

	if (ctx->fd < 0)
		return ctx->mem_size == 0 ? 0 :
			fn(ctx->mem, ctx->mem_size, context);
	while (off < ctx->size) {
		size_t want = (size_t)MIN((uint64_t)sizeof(buf),
					  ctx->size - off);
		ssize_t n = pread(ctx->fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			i_error("read(message) failed: %s",
				n < 0 ? strerror(errno) : "unexpected EOF");
			return -1;
		}
		if (fn(buf, (size_t)n, context) < 0)
			return -1;
		off += (uint64_t)n;
	}
	return 0;
}

static int header_collect(const void *data, size_t size, void *context)
{
	string_t *hdr = context;
	size_t room = MAIL_DELIVER_MAX_HEADER_SIZE - str_len(hdr);
	const char *end;

	const char *blank;

	str_append_n(hdr, data, MIN(size, room));
	/* the header ends at the first empty line: no need to read on */
	end = str_c(hdr);
	if (*end == '\n' || (end[0] == '\r' && end[1] == '\n')) {
		str_truncate(hdr, 0);
		return -1;
	}
	blank = strstr(end, "\n\n");
	if (blank == NULL || (strstr(end, "\n\r\n") != NULL &&
			      strstr(end, "\n\r\n") < blank))
		blank = strstr(end, "\n\r\n");
	if (blank != NULL) {
		str_truncate(hdr, (size_t)(blank - end) + 1);
		return -1;
	}
	return str_len(hdr) >= MAIL_DELIVER_MAX_HEADER_SIZE ? -1 : 0;
}

const char *mail_deliver_header_get(pool_t pool, const string_t *hdr,
				    const char *name)
{
	const char *p = str_c(hdr), *end = p + str_len(hdr);
	size_t nlen = strlen(name);

	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
					   p[1] == '\n')) {
		const char *eol = p;

		for (;;) {
			eol = memchr(eol, '\n', (size_t)(end - eol));
			if (eol == NULL) {
				eol = end;
				break;
			}
			if (eol + 1 < end && (eol[1] == ' ' || eol[1] == '\t')) {
				eol++;
				continue;
			}
			break;
		}
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			string_t *v = str_new(64);
			const char *s, *ret;
			size_t len;

			for (const char *c = p + nlen + 1; c < eol; c++) {
				if (*c == '\r' || *c == '\n')
					continue;
				str_append_c(v, *c == '\t' ? ' ' : *c);
			}
			s = str_c(v);
			while (*s == ' ')
				s++;
			len = strlen(s);
			while (len > 0 && s[len - 1] == ' ')
				len--;
			ret = p_strndup(pool, s, len);
			str_free(&v);
			return ret;
		}
		p = eol < end ? eol + 1 : end;
	}
	return NULL;
}

/* "<id@host>" or "unspecified" */
static const char *msgid_of(const char *value)
{
	size_t len;

	if (value == NULL)
		return "unspecified";
	len = strlen(value);
	if (len < 3 || value[0] != '<' || strchr(value, '>') != value + len - 1 ||
	    strpbrk(value, " \t") != NULL || len > 200)
		return "unspecified";
	return value;
}

const char *mail_deliver_address_of(pool_t pool, const char *value)
{
	const char *lt, *gt;

	if (value == NULL)
		return "";
	lt = strrchr(value, '<');
	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		return p_strndup(pool, lt + 1, (size_t)(gt - lt - 1));
	return value;
}

const char *mail_deliver_address_sanitize(pool_t pool, const char *address)
{
	const char *addr = mail_deliver_address_of(pool, address), *at;

	if (*addr == '\0' || strpbrk(addr, " \t\"()<>,;") != NULL)
		return MAIL_DELIVER_DEFAULT_SENDER;
	at = strchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0')
		return MAIL_DELIVER_DEFAULT_SENDER;
	return addr;
}

struct vsize_ctx {
	uint64_t vsize;
	bool last_cr;
};

static int vsize_count(const void *data, size_t size, void *context)
{
	struct vsize_ctx *ctx = context;
	const unsigned char *p = data;

	for (size_t i = 0; i < size; i++) {
		if (p[i] == '\n' && !ctx->last_cr)
			ctx->vsize++;
		ctx->last_cr = p[i] == '\r';
		ctx->vsize++;
	}
	return 0;
}

void mail_deliver_info_init(struct mail_deliver_context *ctx)
{
	struct vsize_ctx vctx = { 0, false };

	ctx->header = str_new(4096);
	(void)mail_deliver_input_foreach(ctx, header_collect, ctx->header);
	ctx->msgid = msgid_of(mail_deliver_header_get(ctx->pool, ctx->header,
						      "Message-ID"));
	ctx->subject = mail_deliver_header_get(ctx->pool, ctx->header,
					       "Subject");
	if (ctx->subject == NULL)
		ctx->subject = "";
	ctx->from = mail_deliver_address_of(ctx->pool,
		mail_deliver_header_get(ctx->pool, ctx->header, "From"));
	(void)mail_deliver_input_foreach(ctx, vsize_count, &vctx);
	ctx->vsize = vctx.vsize;
}

void mail_deliver_info_deinit(struct mail_deliver_context *ctx)
{
	if (ctx->header != NULL)
		str_free(&ctx->header);
}

/* deliver_log_format: %$ the result, %m msgid, %s subject, %f from,
 * %e envelope sender, %p size, %w virtual size. */
void mail_deliver_log(struct mail_deliver_context *ctx, const char *fmt, ...)
{
	char size[32], vsize[32], *msg;
	const char *envelope = ctx->envelope_sender == NULL ||
		strcmp(ctx->envelope_sender, MAIL_DELIVER_DEFAULT_SENDER) == 0 ?
		"" : ctx->envelope_sender;
	string_t *dest = str_new(256);
	const char *error;
	va_list args;

	va_start(args, fmt);
	msg = i_strdup_vprintf(fmt, args);
	va_end(args);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)ctx->size);
	snprintf(vsize, sizeof(vsize), "%llu", (unsigned long long)ctx->vsize);
	const struct var_expand_table table[] = {
		{ '$', msg, NULL },
		{ 'm', ctx->msgid, "msgid" },
		{ 's', ctx->subject, "subject" },
		{ 'f', ctx->from, "from" },
		{ 'e', envelope, "from_envelope" },
		{ 'p', size, "size" },
		{ 'w', vsize, "vsize" },
		{ '\0', NULL, NULL },
	};
	(void)var_expand(dest, ctx->set->deliver_log_format, table, NULL,
			 NULL, &error);
	i_info("%s", str_c(dest));
	str_free(&dest);
	free(msg);
}

static int save_chunk(const void *data, size_t size, void *context)
{
	return mailbox_save_continue(context, data, size);
}

/* Create vname if lda_mailbox_autocreate says so. -1 logged. */
static int mail_deliver_autocreate(struct mail_deliver_context *ctx,
				   struct mailbox *box, const char *vname,
				   const char **error_r,
				   enum mail_error *error_class_r)
{
	bool exists;

	if (!ctx->set->lda_mailbox_autocreate ||
	    mailbox_exists(box, &exists) < 0 || exists)
		return 0;
	if (mailbox_create(box, NULL, false) == 0) {
		if (ctx->set->lda_mailbox_autosubscribe)
			(void)mailbox_list_subscribe(ctx->user, vname, true);
		return 0;
	}
	*error_r = p_strdup(ctx->pool, mailbox_get_last_error(box,
							      error_class_r));
	if (*error_class_r == MAIL_ERROR_EXISTS)
		return 0;	/* created meanwhile */
	mail_deliver_log(ctx, "save failed to open mailbox %s: %s", vname,
			 *error_r);
	return -1;
}

int mail_deliver_save(struct mail_deliver_context *ctx, const char *vname,
		      const char **error_r, enum mail_error *error_class_r)
{
	struct mailbox *box;
	struct mailbox_transaction *t;
	struct mail_save_context *save;
	int ret = 0;

	/* deliveries into INBOX succeed whatever its ACL says (Dovecot) */
	box = mailbox_alloc(ctx->user, vname, MAILBOX_FLAG_SAVEONLY |
			    (strcasecmp(vname, "INBOX") == 0 ?
			     MAILBOX_FLAG_IGNORE_ACLS : 0));
	if (mail_deliver_autocreate(ctx, box, vname, error_r,
				    error_class_r) < 0) {
		mailbox_free(&box);
		return -1;
	}
	if (mailbox_open(box) < 0) {
		*error_r = p_strdup(ctx->pool,
			mailbox_get_last_error(box, error_class_r));
		mail_deliver_log(ctx, "save failed to open mailbox %s: %s",
				 vname, *error_r);
		mailbox_free(&box);
		return -1;
	}
	t = mailbox_transaction_begin(box);
	save = mailbox_save_alloc(t);
	if (ctx->received_time > 0)
		mailbox_save_set_received_date(save, ctx->received_time, 0);
	mailbox_save_set_from_envelope(save, ctx->envelope_sender != NULL ?
				       ctx->envelope_sender :
				       MAIL_DELIVER_DEFAULT_SENDER);
	if (mailbox_save_begin(save) < 0 ||
	    (ctx->prefix != NULL &&
	     mailbox_save_continue(save, ctx->prefix,
				   strlen(ctx->prefix)) < 0) ||
	    mail_deliver_input_foreach(ctx, save_chunk, save) < 0 ||
	    mailbox_save_finish(&save) < 0)
		ret = -1;
	if (save != NULL)
		mailbox_save_cancel(&save);
	if (ret == 0 && mailbox_transaction_commit(&t, NULL) < 0)
		ret = -1;
	if (t != NULL)
		mailbox_transaction_rollback(&t);
	if (ret < 0) {
		*error_r = p_strdup(ctx->pool,
			mailbox_get_last_error(box, error_class_r));
		mail_deliver_log(ctx, "save failed to %s: %s", vname, *error_r);
	} else {
		mail_deliver_log(ctx, "saved mail to %s", vname);
	}
	mailbox_free(&box);
	return ret;
}

int mail_deliver(struct mail_deliver_context *ctx, const char *mailbox,
		 const char **error_r, enum mail_error *error_class_r)
{
	const char *dest = mailbox_vname_normalize(ctx->user, mailbox);

	if (mail_deliver_save(ctx, dest, error_r, error_class_r) == 0)
		return 0;
	if (strcmp(dest, "INBOX") == 0)
		return -1;
	/* whatever went wrong, INBOX is where mail goes then */
	return mail_deliver_save(ctx, "INBOX", error_r, error_class_r);
}

bool mail_deliver_error_is_tempfail(const struct settings_root *set,
				    enum mail_error error_class,
				    const char *error)
{
	/* a full disk is temporary; a full quota is a rejection unless
	   quota_full_tempfail */
	return error_class != MAIL_ERROR_NOQUOTA || set->quota_full_tempfail ||
		strcmp(error, "Not enough disk space") == 0;
}

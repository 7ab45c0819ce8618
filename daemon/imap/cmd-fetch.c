/* cmd-fetch.c - FETCH and UID FETCH: one message at a time, bodies
 * streamed from the mapped message in 32 KB pieces (LF -> CRLF, NUL ->
 * 0x80) and paused whenever the client's output queue is full, \Seen set
 * by non-PEEK body items, Dovecot's answers for expunged messages and
 * BINARY decoding errors. */
#include "imap-fetch.h"
#include "imap-condstore.h"
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "imap-quote.h"
#include "mail-preview.h"
#include "imap-rev2.h"
#include "imap-utf8.h"

#include <stdio.h>
#include <strings.h>
#include <time.h>

#define FETCH_CHUNK (32 * 1024)

struct fetch_literal {
	bool active;
	/* range mode: [pos, end) of src, converted; range_start for the
	   CRLF check at chunk starts */
	const unsigned char *src;
	uint64_t range_start, pos, end;
	bool nul80;
	/* buffer mode: final bytes */
	string_t *buf;
	size_t buf_pos;
	uint64_t skip, left;	/* converted bytes to drop / to send */
};

struct fetch_ctx {
	struct imap_fetch_request req;
	ARRAY_U32 seqs;
	size_t next;
	/* some item reads the message itself (BODY[], BINARY, RFC822...) */
	bool need_stream;
	/* ENVELOPE/BODY/BODYSTRUCTURE: read the message only when one of
	   them isn't in the cache for it */
	bool need_parsed;
	struct mailbox_transaction *t;
	struct mail *mail;
	string_t *line, *tmp;

	/* the current message */
	bool in_msg, first, seen_changed, msg_expunged;
	size_t item_idx;
	const unsigned char *data;
	size_t size;
	pool_t msg_pool;
	struct message_part *parts;
	bool stat_body, stat_hdr;
	struct fetch_literal lit;

	bool some_expunged;
	/* CONDSTORE: messages whose \Seen this fetch set (their new
	   MODSEQ is sent after the commit, as Dovecot) */
	ARRAY_U32 seen_seqs;
	const char *fail_code, *fail_text;	/* tagged NO */
	bool internal_error, disconnected;
	uint32_t failed_uid;
	uint64_t changedsince;
};

static uint32_t fetch_failed_uid;	/* disconnect-after: the last failure */

static int local_tz_offset(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return (int)(tm.tm_gmtoff / 60);
}

static void append_datetime(string_t *str, time_t t)
{
	str_append_c(str, '"');
	imap_append_datetime(str, t, local_tz_offset(t));
	str_append_c(str, '"');
}

static void append_atom_or_string(string_t *str, const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL) {
			imap_append_string(str, value);
			return;
		}
	}
	if (value[0] == '\0')
		str_append(str, "\"\"");
	else
		str_append(str, value);
}

/* Bytes of [start, end) after bare LFs become CRLF. */
static uint64_t crlf_size(const unsigned char *data, uint64_t start,
			  uint64_t end)
{
	uint64_t size = end - start, i = start;
	const unsigned char *lf;

	while (i < end && (lf = memchr(data + i, '\n', end - i)) != NULL) {
		uint64_t pos = (uint64_t)(lf - data);

		if (pos == start || data[pos - 1] != '\r')
			size++;
		i = pos + 1;
	}
	return size;
}

static void nul_to_80(string_t *str, size_t from)
{
	for (size_t i = from; i < str_len(str); i++) {
		if (str->data[i] == '\0')
			str->data[i] = (char)0x80;
	}
}

/* ---- per message ---- */

static void fetch_msg_reset(struct fetch_ctx *ctx)
{
	if (ctx->lit.buf != NULL)
		str_free(&ctx->lit.buf);
	memset(&ctx->lit, 0, sizeof(ctx->lit));
	if (ctx->msg_pool != NULL)
		pool_destroy(&ctx->msg_pool);
	ctx->parts = NULL;
	ctx->data = NULL;
	ctx->size = 0;
	ctx->in_msg = false;
}

static const char *cached_field_name(enum imap_fetch_type type)
{
	return type == IMAP_FETCH_ENVELOPE ? "imap.envelope" :
		type == IMAP_FETCH_BODY ? "imap.body" : "imap.bodystructure";
}

/* Are the ENVELOPE/BODY/BODYSTRUCTURE items all in the cache for the
 * current message (so its file needn't be read at all, as Dovecot)? */
static bool fetch_all_cached(struct fetch_ctx *ctx)
{
	const struct imap_fetch_item *item;

	array_foreach(&ctx->req.items, item) {
		const char *value;

		if (item->type != IMAP_FETCH_ENVELOPE &&
		    item->type != IMAP_FETCH_BODY &&
		    item->type != IMAP_FETCH_BODYSTRUCTURE)
			continue;
		if (mail_get_cached_field(ctx->mail, cached_field_name(item->type),
					  &value) < 0 || value == NULL)
			return false;
	}
	return true;
}

static void fetch_parse(struct fetch_ctx *ctx)
{
	if (ctx->parts != NULL)
		return;
	ctx->msg_pool = pool_create("fetch message", 4096);
	message_parse(ctx->msg_pool, ctx->data, ctx->size, &ctx->parts);
}

static void append_sep(struct fetch_ctx *ctx, string_t *str)
{
	if (ctx->first)
		ctx->first = false;
	else
		str_append_c(str, ' ');
}

/* PREVIEW / SNIPPET: made from the message each time (mail-preview.c) */
static void fetch_write_preview(struct fetch_ctx *ctx,
				const struct imap_fetch_item *item)
{
	string_t *str = ctx->line;
	string_t *text = str_new(256);

	if (!ctx->msg_expunged && ctx->data != NULL) {
		fetch_parse(ctx);
		message_preview_generate(ctx->parts, ctx->data, ctx->size,
					 MAIL_PREVIEW_MAX_CHARS, text);
	}
	imap_append_string(str, str_c(text));
	if (strchr(item->name, '(') != NULL)
		str_append_c(str, ')');
	str_free(&text);
}

static void fetch_write_buffered(struct client_command_context *cmd,
				 struct fetch_ctx *ctx,
				 const struct imap_fetch_item *item)
{
	struct mail *mail = ctx->mail;
	string_t *str = ctx->line;
	uint64_t size;
	time_t t;
	const char *guid;

	if (item->type == IMAP_FETCH_FLAGS && !ctx->req.flags_requested &&
	    !ctx->seen_changed)
		return;
	append_sep(ctx, str);
	str_append(str, item->name);
	str_append_c(str, ' ');
	switch (item->type) {
	case IMAP_FETCH_UID:
	case IMAP_FETCH_X_REAL_UID:
		str_printfa(str, "%u", mail->uid);
		break;
	case IMAP_FETCH_FLAGS:
		str_append_c(str, '(');
		imap_write_flags(str, imap_client_flags(cmd->client,
							mail_get_flags(mail)),
				 mail_get_keywords(mail));
		str_append_c(str, ')');
		break;
	case IMAP_FETCH_INTERNALDATE:
		if (ctx->msg_expunged || mail_get_received_date(mail, &t) < 0)
			str_append(str, "\"01-Jan-1970 00:00:00 +0000\"");
		else
			append_datetime(str, t);
		break;
	case IMAP_FETCH_RFC822_SIZE:
		if (ctx->msg_expunged || mail_get_virtual_size(mail, &size) < 0)
			size = 0;
		str_printfa(str, "%llu", (unsigned long long)size);
		break;
	case IMAP_FETCH_SAVEDATE:
	case IMAP_FETCH_X_SAVEDATE:
		if (ctx->msg_expunged || mail_get_save_date(mail, &t) < 0 ||
		    t == 0)
			str_append(str, "NIL");
		else
			append_datetime(str, t);
		break;
	case IMAP_FETCH_X_GUID:
		if (ctx->msg_expunged || mail_get_guid(mail, &guid) < 0)
			guid = "";
		append_atom_or_string(str, guid);
		break;
	case IMAP_FETCH_X_MAILBOX:
		imap_client_append_mailbox_name(cmd->client, str, mailbox_get_vname(cmd->client->mailbox), false);
		break;
	case IMAP_FETCH_MODSEQ:
		str_printfa(str, "(%llu)",
			    (unsigned long long)mail_get_modseq(mail));
		imap_condstore_sent_modseq(cmd->client, mail_get_modseq(mail));
		break;
	case IMAP_FETCH_PREVIEW:
		fetch_write_preview(ctx, item);
		break;
	case IMAP_FETCH_EMAILID: {
		const char *id = ctx->msg_expunged ? NULL :
			imap_objectid_emailid(cmd->pool, mail);

		if (id == NULL)
			str_append(str, "NIL");
		else
			str_printfa(str, "(%s)", id);
		break;
	}
	case IMAP_FETCH_THREADID: {
		const char *id = ctx->msg_expunged ? NULL :
			imap_objectid_threadid(cmd->pool, mail);

		if (id == NULL)
			str_append(str, "NIL");
		else
			str_printfa(str, "(%s)", id);
		break;
	}
	default:
		i_unreached();
	}
}

/* ENVELOPE, BODY, BODYSTRUCTURE: from the session cache or computed. */
/* After ENABLE UTF8=ACCEPT, the UTF-8 strings of what was appended from
   start on are sent quoted, not as literals (RFC 6855 3). */
static void fetch_structure_utf8(struct imap_client *client, string_t *str,
				 size_t start)
{
	string_t *conv;

	if ((client->enabled & IMAP_ENABLED_UTF8_ACCEPT) == 0)
		return;
	conv = str_new(str_len(str) - start + 16);
	imap_utf8_literals_to_quoted(str_c(str) + start, str_len(str) - start,
				     conv);
	str_truncate(str, start);
	str_append_str(str, conv);
	str_free(&conv);
}

static void fetch_write_structure(struct imap_client *client,
				  struct fetch_ctx *ctx,
				  const struct imap_fetch_item *item)
{
	string_t *str = ctx->line;
	const char *field, *value;
	size_t start;

	append_sep(ctx, str);
	str_append(str, item->name);
	str_append_c(str, ' ');
	if (ctx->msg_expunged) {
		/* Dovecot's answers for a message whose file is gone */
		if (item->type == IMAP_FETCH_ENVELOPE)
			imap_envelope_write(NULL, str);
		else
			str_append(str, "NIL");
		return;
	}
	field = cached_field_name(item->type);
	start = str_len(str);
	if (mail_get_cached_field(ctx->mail, field, &value) == 0 &&
	    value != NULL) {
		str_append(str, value);
		fetch_structure_utf8(client, str, start);
		return;
	}
	fetch_parse(ctx);
	if (item->type == IMAP_FETCH_ENVELOPE) {
		imap_envelope_write_header(ctx->data,
			(size_t)ctx->parts->header_size.physical_size, str);
	} else {
		imap_bodystructure_write(ctx->parts, str,
					 item->type == IMAP_FETCH_BODYSTRUCTURE);
	}
	mail_set_cached_field(ctx->mail, field, str_c(str) + start);
	fetch_structure_utf8(client, str, start);
}

static bool section_has_body(const struct imap_fetch_item *item)
{
	switch (item->section.type) {
	case MESSAGE_SECTION_HEADER:
	case MESSAGE_SECTION_HEADER_FIELDS:
	case MESSAGE_SECTION_HEADER_FIELDS_NOT:
	case MESSAGE_SECTION_MIME:
		return false;
	default:
		return true;
	}
}

static void literal_start(struct client_command_context *cmd,
			  struct fetch_ctx *ctx,
			  const struct imap_fetch_item *item,
			  uint64_t total, bool literal8)
{
	struct fetch_literal *lit = &ctx->lit;
	struct imap_client *client = cmd->client;
	uint64_t size = total;

	if (item->partial) {
		size = item->partial_start >= total ? 0 :
			total - item->partial_start;
		if (size > item->partial_count)
			size = item->partial_count;
		lit->skip = item->partial_start;
	}
	lit->left = size;
	lit->active = size > 0;
	append_sep(ctx, ctx->line);
	str_printfa(ctx->line, "%s %s{%llu}\r\n", item->name,
		    literal8 ? "~" : "", (unsigned long long)size);
	client_send_data(client, ((const unsigned char *)str_c(ctx->line)), str_len(ctx->line));
	str_truncate(ctx->line, 0);
	if (section_has_body(item)) {
		ctx->stat_body = true;
		client->fetch_body_bytes += size;
	} else {
		ctx->stat_hdr = true;
		client->fetch_hdr_bytes += size;
	}
	if (!lit->active && lit->buf != NULL)
		str_free(&lit->buf);
}

static void literal_send(struct client_command_context *cmd,
			 struct fetch_ctx *ctx, const unsigned char *data,
			 size_t size)
{
	struct fetch_literal *lit = &ctx->lit;
	size_t off = 0, n;

	if (lit->skip >= size) {
		lit->skip -= size;
		return;
	}
	off = (size_t)lit->skip;
	lit->skip = 0;
	n = size - off;
	if (n > lit->left)
		n = (size_t)lit->left;
	client_send_data(cmd->client, data + off, n);
	lit->left -= n;
}

/* One piece of the current literal. */
static void literal_step(struct client_command_context *cmd,
			 struct fetch_ctx *ctx)
{
	struct fetch_literal *lit = &ctx->lit;

	if (lit->buf != NULL) {
		size_t n = str_len(lit->buf) - lit->buf_pos;

		if (n > FETCH_CHUNK)
			n = FETCH_CHUNK;
		literal_send(cmd, ctx, ((const unsigned char *)str_c(lit->buf)) + lit->buf_pos, n);
		lit->buf_pos += n;
		if (lit->buf_pos == str_len(lit->buf))
			lit->left = 0;
	} else {
		uint64_t p = lit->pos, e = lit->end;

		if (e - p > FETCH_CHUNK)
			e = p + FETCH_CHUNK;
		str_truncate(ctx->tmp, 0);
		if (p > lit->range_start && lit->src[p] == '\n' &&
		    lit->src[p - 1] == '\r') {
			str_append_c(ctx->tmp, '\n');
			p++;
		}
		message_crlf_append(ctx->tmp, lit->src + p, (size_t)(e - p));
		if (lit->nul80)
			nul_to_80(ctx->tmp, 0);
		lit->pos = e;
		literal_send(cmd, ctx, ((const unsigned char *)str_c(ctx->tmp)), str_len(ctx->tmp));
		if (lit->pos == lit->end)
			lit->left = 0;
	}
	if (lit->left == 0) {
		lit->active = false;
		if (lit->buf != NULL)
			str_free(&lit->buf);
	}
}

/* A failure that Dovecot treats as an internal error: logged now,
 * answered per imap_fetch_failure when the fetch finishes. */
static void fetch_fail_internal(struct fetch_ctx *ctx, const char *reason)
{
	i_error("FETCH for mailbox %s UID %u failed: %s",
		mailbox_get_vname(ctx->mail->box), ctx->mail->uid, reason);
	ctx->internal_error = true;
	ctx->failed_uid = ctx->mail->uid;
}

/* After an internal error: disconnect (BYE, no tagged reply) or NO. */
static bool fetch_finish_internal(struct client_command_context *cmd,
				  struct fetch_ctx *ctx)
{
	struct imap_client *client = cmd->client;
	const char *mode = client->set->imap_fetch_failure;
	char stamp[32], *text;
	time_t now = time(NULL);
	struct tm tm;
	bool disconnect;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	text = i_strdup_printf("Internal error occurred. Refer to server log "
			       "for more information. [%s]", stamp);
	disconnect = mode == NULL ||
		strcmp(mode, "disconnect-immediately") == 0 ||
		(strcmp(mode, "disconnect-after") == 0 &&
		 fetch_failed_uid == ctx->failed_uid);
	fetch_failed_uid = ctx->failed_uid;
	if (disconnect) {
		client_send_linef(client, "* BYE FETCH failed: %s", text);
		client_disconnect(client, "FETCH failed");
		ctx->disconnected = true;
	} else {
		cmd_no(cmd, text);
	}
	i_free(text);
	return !disconnect;
}

/* BINARY[..] / BINARY.SIZE[..]. Returns false if the fetch stops. */
static bool fetch_binary(struct client_command_context *cmd,
			 struct fetch_ctx *ctx,
			 const struct imap_fetch_item *item)
{
	struct message_binary_result res;
	string_t *dest = NULL;

	fetch_parse(ctx);
	if (item->type == IMAP_FETCH_SECTION)
		dest = str_new(1024);
	if (message_section_binary(ctx->parts, ctx->data, ctx->size,
				   &item->section, dest, 0, &res) < 0) {
		if (dest != NULL)
			str_free(&dest);
		switch (res.error) {
		case MESSAGE_BINARY_ERR_UNKNOWN_CTE:
			ctx->fail_code = "[UNKNOWN-CTE] ";
			ctx->fail_text = "Unknown Content-Transfer-Encoding";
			break;
		case MESSAGE_BINARY_ERR_INVALID:
			ctx->fail_code = "[PARSE] ";
			ctx->fail_text = "Invalid data in MIME part";
			break;
		default:
			fetch_fail_internal(ctx, "Invalid data in MIME part");
			break;
		}
		return false;
	}
	if (item->type == IMAP_FETCH_BINARY_SIZE) {
		append_sep(ctx, ctx->line);
		str_printfa(ctx->line, "%s %llu", item->name,
			    (unsigned long long)res.size);
		return true;
	}
	memset(&ctx->lit, 0, sizeof(ctx->lit));
	ctx->lit.buf = dest;
	literal_start(cmd, ctx, item, str_len(dest), res.literal8);
	return true;
}

static void fetch_section(struct client_command_context *cmd,
			  struct fetch_ctx *ctx,
			  const struct imap_fetch_item *item)
{
	struct fetch_literal *lit = &ctx->lit;
	struct message_section_result res;

	i_assert(lit->buf == NULL);
	memset(lit, 0, sizeof(*lit));
	lit->src = ctx->data;
	lit->nul80 = true;
	if (item->section.type == MESSAGE_SECTION_BODY &&
	    item->section.part_path[0] == '\0') {
		lit->range_start = lit->pos = 0;
		lit->end = ctx->size;
	} else {
		fetch_parse(ctx);
		if (message_section_get(ctx->msg_pool, ctx->parts, ctx->data,
					ctx->size, &item->section, &res) <= 0) {
			memset(&res, 0, sizeof(res));
		}
		if (res.data != NULL) {
			lit->buf = str_new(res.data_size + 1);
			str_append_n(lit->buf, res.data, res.data_size);
			nul_to_80(lit->buf, 0);
			literal_start(cmd, ctx, item, str_len(lit->buf), false);
			return;
		}
		lit->range_start = lit->pos = res.offset;
		lit->end = res.offset + res.size;
	}
	literal_start(cmd, ctx, item,
		      crlf_size(ctx->data, lit->range_start, lit->end), false);
}

/* Start a message: \Seen, the stream, the buffered items. Returns false
 * if the fetch must stop. */
static bool fetch_msg_begin(struct client_command_context *cmd,
			    struct fetch_ctx *ctx)
{
	struct imap_client *client = cmd->client;
	const struct imap_fetch_item *item;
	uint32_t seq = ctx->seqs.v[ctx->next++];

	fetch_msg_reset(ctx);
	ctx->in_msg = true;
	ctx->first = true;
	ctx->seen_changed = false;
	ctx->msg_expunged = false;
	ctx->stat_body = ctx->stat_hdr = false;
	ctx->item_idx = 0;
	mail_set_seq(ctx->mail, seq);
	if ((ctx->need_stream ||
	     (ctx->need_parsed && !fetch_all_cached(ctx))) &&
	    mail_get_stream(ctx->mail, &ctx->data, &ctx->size) < 0) {
		if (!ctx->mail->expunged) {
			str_truncate(ctx->line, 0);
			fetch_fail_internal(ctx, mailbox_get_last_error(
						client->mailbox, NULL));
			return false;
		}
		ctx->msg_expunged = true;
		ctx->some_expunged = true;
	}
	if (ctx->req.set_seen && !client->readonly && !ctx->msg_expunged &&
	    (mail_get_flags(ctx->mail) & MAIL_SEEN) == 0) {
		mail_update_flags(ctx->t, ctx->mail, MODIFY_ADD, MAIL_SEEN);
		ctx->seen_changed = true;
		if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0)
			array_push(&ctx->seen_seqs, seq);
	}
	str_truncate(ctx->line, 0);
	str_printfa(ctx->line, "* %u FETCH (", seq);
	array_foreach(&ctx->req.items, item) {
		if (!IMAP_FETCH_TYPE_BUFFERED(item->type))
			break;
		fetch_write_buffered(cmd, ctx, item);
		ctx->item_idx++;
	}
	return true;
}

static void fetch_msg_end(struct client_command_context *cmd,
			  struct fetch_ctx *ctx)
{
	struct imap_client *client = cmd->client;

	if (ctx->first && ctx->fail_text != NULL) {
		/* nothing went out before the failing item: Dovecot
		   sends the UID rather than an empty list */
		str_printfa(ctx->line, "UID %u", ctx->mail->uid);
	}
	str_append(ctx->line, ")\r\n");
	client_send_data(client, ((const unsigned char *)str_c(ctx->line)), str_len(ctx->line));
	str_truncate(ctx->line, 0);
	if (ctx->stat_body)
		client->fetch_body_count++;
	else if (ctx->stat_hdr)
		client->fetch_hdr_count++;
	fetch_msg_reset(ctx);
}

/* The next non-buffered item of the message. Returns false if the fetch
 * stops. */
static bool fetch_next_item(struct client_command_context *cmd,
			    struct fetch_ctx *ctx)
{
	const struct imap_fetch_item *item = &ctx->req.items.v[ctx->item_idx++];

	switch (item->type) {
	case IMAP_FETCH_ENVELOPE:
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
		fetch_write_structure(cmd->client, ctx, item);
		return true;
	default:
		break;
	}
	if (ctx->msg_expunged) {
		append_sep(ctx, ctx->line);
		str_printfa(ctx->line, "%s %s", item->name,
			    item->type == IMAP_FETCH_BINARY_SIZE ? "0" : "NIL");
		return true;
	}
	if (item->binary)
		return fetch_binary(cmd, ctx, item);
	fetch_section(cmd, ctx, item);
	return true;
}

/* The modseqs that \Seen gave (untagged, as Dovecot's sync sends). */
static void fetch_send_seen_modseqs(struct client_command_context *cmd,
				    struct fetch_ctx *ctx)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->uid || (client->enabled & IMAP_ENABLED_QRESYNC) != 0;

	for (size_t i = 0; i < ctx->seen_seqs.count; i++) {
		uint32_t seq = ctx->seen_seqs.v[i];

		mail_set_seq(ctx->mail, seq);
		imap_condstore_sent_modseq(client, mail_get_modseq(ctx->mail));
		if (uid) {
			client_send_linef(client, "* %u FETCH (UID %u MODSEQ (%llu))",
					  seq, ctx->mail->uid, (unsigned long long)
					  mail_get_modseq(ctx->mail));
		} else {
			client_send_linef(client, "* %u FETCH (MODSEQ (%llu))",
					  seq, (unsigned long long)
					  mail_get_modseq(ctx->mail));
		}
	}
}

static bool cmd_fetch_finish(struct client_command_context *cmd)
{
	struct fetch_ctx *ctx = cmd->context;
	struct imap_client *client = cmd->client;
	int ret = 0;

	if (ctx->t != NULL)
		ret = mailbox_transaction_commit(&ctx->t, NULL);
	if (ret == 0 && ctx->seen_seqs.count > 0 && !ctx->disconnected)
		fetch_send_seen_modseqs(cmd, ctx);
	if (ctx->disconnected) {
		/* no tagged reply: the session closes after the BYE */
		return false;
	}
	if (ctx->internal_error)
		return fetch_finish_internal(cmd, ctx);
	if (ctx->fail_text != NULL) {
		char *text = i_strdup_printf("%s%s", ctx->fail_code,
					     ctx->fail_text);
		cmd_no(cmd, text);
		i_free(text);
		return true;
	}
	if (ret < 0)
		return cmd_no_storage_error(cmd, client->mailbox);
	if (ctx->some_expunged)
		return cmd_ok(cmd, "[EXPUNGEISSUED] Some messages were "
			      "already expunged");
	return cmd_ok(cmd, "Fetch completed");
}

static bool cmd_fetch_continue(struct client_command_context *cmd)
{
	struct fetch_ctx *ctx = cmd->context;
	struct imap_client *client = cmd->client;

	while (!client_output_full(client)) {
		if (ctx->lit.active) {
			literal_step(cmd, ctx);
			continue;
		}
		if (!ctx->in_msg) {
			if (ctx->next == ctx->seqs.count)
				return cmd_fetch_finish(cmd);
			if (!fetch_msg_begin(cmd, ctx))
				return cmd_fetch_finish(cmd);
			continue;
		}
		if (ctx->item_idx == ctx->req.items.count) {
			fetch_msg_end(cmd, ctx);
			continue;
		}
		if (!fetch_next_item(cmd, ctx)) {
			fetch_msg_end(cmd, ctx);
			ctx->next = ctx->seqs.count;
			return cmd_fetch_finish(cmd);
		}
	}
	return false;
}

static void cmd_fetch_cleanup(struct client_command_context *cmd)
{
	struct fetch_ctx *ctx = cmd->context;

	if (ctx == NULL)
		return;
	fetch_msg_reset(ctx);
	if (ctx->t != NULL)
		mailbox_transaction_rollback(&ctx->t);
	if (ctx->mail != NULL)
		mail_free(&ctx->mail);
	str_free(&ctx->line);
	str_free(&ctx->tmp);
	array_free(&ctx->seqs);
	array_free(&ctx->seen_seqs);
	imap_fetch_request_free(&ctx->req);
	i_free(ctx);
	cmd->context = NULL;
}

/* (CHANGEDSINCE n [VANISHED]) with Dovecot's texts */
static bool fetch_parse_modifiers(struct client_command_context *cmd,
				  const struct imap_arg *list,
				  bool *changedsince_r, bool *vanished_r,
				  const char **error_r)
{
	struct fetch_ctx *ctx = cmd->context;
	const char *name, *value;

	for (; !imap_arg_is_eol(list); list++) {
		if (!imap_arg_get_atom(list, &name)) {
			*error_r = "FETCH modifiers contain non-atoms.";
			return false;
		}
		if (strcasecmp(name, "CHANGEDSINCE") == 0) {
			list++;
			if (!imap_arg_get_atom(list, &value) ||
			    !imap_parse_modseq(value, &ctx->changedsince)) {
				*error_r = "Invalid CHANGEDSINCE modseq";
				return false;
			}
			/* enabled here, even if a later modifier fails */
			imap_condstore_enable(cmd->client,
					      IMAP_ENABLED_CONDSTORE);
			*changedsince_r = true;
		} else if (strcasecmp(name, "VANISHED") == 0 && cmd->uid) {
			if ((cmd->client->enabled & IMAP_ENABLED_QRESYNC) == 0) {
				*error_r = "QRESYNC not enabled";
				return false;
			}
			*vanished_r = true;
		} else {
			*error_r = "Unknown FETCH modifier";
			return false;
		}
	}
	if (*vanished_r && !*changedsince_r) {
		*error_r = "VANISHED used without CHANGEDSINCE";
		return false;
	}
	return true;
}

/* CHANGEDSINCE without MODSEQ asked: it is answered after the items
 * read from the index. */
static void fetch_add_modseq_item(struct imap_fetch_request *req)
{
	struct imap_fetch_item item;
	size_t pos = 0;

	while (pos < req->items.count &&
	       IMAP_FETCH_TYPE_BUFFERED(req->items.v[pos].type))
		pos++;
	memset(&item, 0, sizeof(item));
	item.type = IMAP_FETCH_MODSEQ;
	item.name = "MODSEQ";
	array_push(&req->items, item);
	memmove(&req->items.v[pos + 1], &req->items.v[pos],
		(req->items.count - 1 - pos) * sizeof(item));
	req->items.v[pos] = item;
}

/* Keep only the messages changed after modseq. */
static void fetch_filter_changed(struct imap_client *client, ARRAY_U32 *seqs,
				 uint64_t modseq)
{
	struct mail *mail = mail_alloc(client->mailbox);
	size_t n = 0;

	for (size_t i = 0; i < seqs->count; i++) {
		mail_set_seq(mail, seqs->v[i]);
		if (mail_get_modseq(mail) > modseq)
			seqs->v[n++] = seqs->v[i];
	}
	seqs->count = n;
	mail_free(&mail);
}

bool cmd_fetch(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	struct fetch_ctx *ctx;
	const struct imap_fetch_item *item;
	const char *set, *error;
	bool changedsince = false, vanished = false, modseq_item = false;

	if (!imap_arg_get_atom(&cmd->args[0], &set) ||
	    imap_arg_is_eol(&cmd->args[1]))
		return cmd_bad_error(cmd, "Invalid arguments");
	ctx = i_new(struct fetch_ctx, 1);
	cmd->context = ctx;
	cmd->cleanup = cmd_fetch_cleanup;
	ctx->line = str_new(256);
	ctx->tmp = str_new(FETCH_CHUNK * 2 + 16);
	if (imap_fetch_parse(cmd->pool, &cmd->args[1], cmd->uid, &ctx->req,
			     &error) < 0)
		return cmd_bad_error(cmd, error);
	if (!imap_arg_is_eol(&cmd->args[2])) {
		/* modifiers: CHANGEDSINCE, VANISHED (RFC 7162) */
		const struct imap_arg *list;

		if (!imap_arg_get_list(&cmd->args[2], &list))
			return cmd_bad_error(cmd, "Invalid arguments");
		if (!fetch_parse_modifiers(cmd, list, &changedsince,
					   &vanished, &error))
			return cmd_bad_error(cmd, error);
	}
	if (imap_seqset_parse(client, set, cmd->uid, &ctx->seqs, &error) < 0)
		return cmd_bad_error(cmd, error);
	array_foreach(&ctx->req.items, item) {
		if (item->type == IMAP_FETCH_MODSEQ)
			modseq_item = true;
	}
	if (modseq_item || changedsince)
		imap_condstore_enable(client, IMAP_ENABLED_CONDSTORE);
	if (changedsince) {
		if (!modseq_item)
			fetch_add_modseq_item(&ctx->req);
		fetch_filter_changed(client, &ctx->seqs, ctx->changedsince);
	}
	if (vanished) {
		ARRAY_U32 within = ARRAY_INIT;

		if (imap_seqset_parse_ranges(set, &within) == 0)
			imap_send_vanished_earlier(client, ctx->changedsince,
						   &within);
		else
			imap_send_vanished_earlier(client, ctx->changedsince,
						   NULL);
		array_free(&within);
	}
	array_foreach(&ctx->req.items, item) {
		if (item->type == IMAP_FETCH_ENVELOPE ||
		    item->type == IMAP_FETCH_BODY ||
		    item->type == IMAP_FETCH_BODYSTRUCTURE)
			ctx->need_parsed = true;
		else if (!IMAP_FETCH_TYPE_BUFFERED(item->type) ||
			 item->type == IMAP_FETCH_PREVIEW)
			ctx->need_stream = true;
	}
	ctx->mail = mail_alloc(client->mailbox);
	if (ctx->req.set_seen && !client->readonly)
		ctx->t = mailbox_transaction_begin(client->mailbox);
	cmd->func = cmd_fetch_continue;
	return cmd_fetch_continue(cmd);
}

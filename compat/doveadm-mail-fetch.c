/* doveadm-mail-fetch.c - `doveadm fetch <fields> <query>`: one row per
 * matching message, Dovecot 2.3's fields and value formats (dates in
 * local time "2024-01-31 10:00:00", flags as IMAP writes them, hdr.NAME
 * as every instance of the field, bodies streamed), pager output unless
 * -f says otherwise. */
#include "lib.h"
#include "str.h"
#include "array.h"
#include "doveadm.h"
#include "doveadm-mail.h"
#include "message-parser.h"
#include "message-header.h"
#include "message-address.h"
#include "message-section.h"
#include "imap-envelope.h"
#include "imap-bodystructure.h"
#include "charset.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

struct fetch_ctx;

struct fetch_field {
	const char *name;
	int (*print)(struct fetch_ctx *ctx, const char *name);
};

struct fetch_item {
	const struct fetch_field *field;
	const char *name;	/* as given, lowercased */
};

struct fetch_ctx {
	struct doveadm_mail_cmd_context *mctx;
	ARRAY(struct fetch_item) items;
	struct mail *mail;
	uint32_t first_recent_uid;
	char mailbox_guid[33];
	string_t *str;
	/* an unknown hdr.NAME.FILTER: fatal when the first value is made,
	   as in Dovecot */
	const char *bad_filter;
	/* the current message parsed, on first need */
	pool_t msg_pool;
	struct message_part *parts;
};

static const char *unixdate2str(time_t t)
{
	static char buf[64];
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static int f_user(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	doveadm_print(ctx->mctx->cur_username);
	return 0;
}

static int f_mailbox(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	doveadm_print(mailbox_get_vname(ctx->mail->box));
	return 0;
}

static int f_mailbox_guid(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	doveadm_print(ctx->mailbox_guid);
	return 0;
}

static int f_seq(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	doveadm_print_num(ctx->mail->seq);
	return 0;
}

static int f_uid(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	doveadm_print_num(ctx->mail->uid);
	return 0;
}

static int f_guid(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	const char *guid;

	if (mail_get_guid(ctx->mail, &guid) < 0)
		return -1;
	doveadm_print(guid);
	return 0;
}

static int f_flags(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	enum mail_flags flags = mail_get_flags(ctx->mail) & MAIL_FLAGS_MASK;

	if (mail_search_is_recent(ctx->mail, ctx->first_recent_uid))
		flags |= MAIL_RECENT;
	str_clear(ctx->str);
	doveadm_mail_write_flags(ctx->str, flags,
				 mail_get_keywords(ctx->mail));
	doveadm_print(str_c(ctx->str));
	return 0;
}

static int f_modseq(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	doveadm_print_num(mail_get_modseq(ctx->mail));
	return 0;
}

static int get_parts(struct fetch_ctx *ctx, const unsigned char **data_r,
		     size_t *size_r, size_t *hdr_size_r)
{
	if (mail_get_stream(ctx->mail, data_r, size_r) < 0 ||
	    mail_get_header_size(ctx->mail, hdr_size_r) < 0)
		return -1;
	if (*hdr_size_r > *size_r)
		*hdr_size_r = *size_r;
	return 0;
}

static int get_parts_parsed(struct fetch_ctx *ctx,
			    const unsigned char **data_r, size_t *size_r);

static void print_data(const unsigned char *data, size_t size)
{
	if (size > 0)
		doveadm_print_stream(data, size);
	doveadm_print_stream("", 0);
}

static int f_hdr(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	const unsigned char *data;
	size_t size, hdr_size;

	if (get_parts(ctx, &data, &size, &hdr_size) < 0)
		return -1;
	print_data(data, hdr_size);
	return 0;
}

static int f_body(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	const unsigned char *data;
	size_t size, hdr_size;

	if (get_parts(ctx, &data, &size, &hdr_size) < 0)
		return -1;
	print_data(data + hdr_size, size - hdr_size);
	return 0;
}

static int f_text(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	const unsigned char *data;
	size_t size, hdr_size;

	if (get_parts(ctx, &data, &size, &hdr_size) < 0)
		return -1;
	print_data(data, size);
	return 0;
}

/* text.utf8: every part's header with words decoded, then its body
 * decoded to UTF-8. */
static int f_text_utf8(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	const unsigned char *data;
	size_t size;
	string_t *s;

	if (get_parts_parsed(ctx, &data, &size) < 0)
		return -1;
	s = str_new(size + 64);
	mail_search_message_utf8(ctx->parts, data, size, false, false, s);
	print_data((const unsigned char *)str_c(s), str_len(s));
	str_free(&s);
	return 0;
}

static int f_size_physical(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	uint64_t size;

	if (mail_get_physical_size(ctx->mail, &size) < 0)
		return -1;
	doveadm_print_num(size);
	return 0;
}

static int f_size_virtual(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	uint64_t size;

	if (mail_get_virtual_size(ctx->mail, &size) < 0)
		return -1;
	doveadm_print_num(size);
	return 0;
}

static int f_date_received(struct fetch_ctx *ctx, const char *name)
{
	time_t t;

	if (mail_get_received_date(ctx->mail, &t) < 0)
		return -1;
	if (str_ends(name, ".unixtime"))
		doveadm_print_num((uint64_t)t);
	else
		doveadm_print(unixdate2str(t));
	return 0;
}

static int f_date_saved(struct fetch_ctx *ctx, const char *name)
{
	time_t t;

	if (mail_get_save_date(ctx->mail, &t) < 0)
		return -1;
	if (str_ends(name, ".unixtime"))
		doveadm_print_num((uint64_t)t);
	else
		doveadm_print(unixdate2str(t));
	return 0;
}

static int f_date_sent(struct fetch_ctx *ctx, const char *name)
{
	time_t t;
	int tz;
	char sign;

	if (mail_get_date(ctx->mail, &t, &tz) < 0)
		return -1;
	if (str_ends(name, ".unixtime")) {
		doveadm_print(doveadm_tmp_printf("%lld", (long long)t));
		return 0;
	}
	sign = tz < 0 ? '-' : '+';
	if (tz < 0)
		tz = -tz;
	doveadm_print(doveadm_tmp_printf("%s (%c%02u%02u)", unixdate2str(t),
					 sign, (unsigned)tz / 60,
					 (unsigned)tz % 60));
	return 0;
}

/* pop3.uidl is the UIDL the storage saved for the message (Dovecot's
 * "backend" UIDL, e.g. after a migration); a UIDL that pop3_uidl_format
 * makes from UID and UIDVALIDITY isn't one, so this is empty, as in
 * Dovecot. */
static int f_empty(struct fetch_ctx *ctx ATTR_UNUSED,
		   const char *name ATTR_UNUSED)
{
	doveadm_print("");
	return 0;
}

static int f_refcount(struct fetch_ctx *ctx ATTR_UNUSED,
		      const char *name ATTR_UNUSED)
{
	/* a Maildir file counts once (hard links aren't counted) */
	doveadm_print("1");
	return 0;
}

static int get_parts_parsed(struct fetch_ctx *ctx,
			    const unsigned char **data_r, size_t *size_r)
{
	size_t hdr_size;

	if (get_parts(ctx, data_r, size_r, &hdr_size) < 0)
		return -1;
	if (ctx->parts == NULL) {
		if (ctx->msg_pool == NULL)
			ctx->msg_pool = pool_create("fetch message", 4096);
		message_parse(ctx->msg_pool, *data_r, *size_r, &ctx->parts);
	}
	return 0;
}

/* Without the outer parentheses, as Dovecot keeps the value. */
static void print_unparenthesized(string_t *s)
{
	if (str_len(s) >= 2 && str_c(s)[0] == '(' &&
	    str_c(s)[str_len(s) - 1] == ')') {
		str_truncate(s, str_len(s) - 1);
		doveadm_print(str_c(s) + 1);
	} else {
		doveadm_print(str_c(s));
	}
}

static int f_imap_envelope(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	const unsigned char *data;
	size_t size, hdr_size;

	if (get_parts(ctx, &data, &size, &hdr_size) < 0)
		return -1;
	str_clear(ctx->str);
	imap_envelope_write_header(data, hdr_size, ctx->str);
	print_unparenthesized(ctx->str);
	return 0;
}

static int f_imap_body(struct fetch_ctx *ctx, const char *name)
{
	const unsigned char *data;
	size_t size;
	string_t *s;

	if (get_parts_parsed(ctx, &data, &size) < 0)
		return -1;
	s = str_new(256);
	imap_bodystructure_write(ctx->parts, s,
				 strcmp(name, "imap.bodystructure") == 0);
	print_unparenthesized(s);
	str_free(&s);
	return 0;
}

/* body.snippet: the start of the first text part, decoded, blanks
 * collapsed, quoted lines left out, at most 200 characters. */
static void snippet_add(string_t *dest, const char *text, size_t len,
			bool html)
{
	bool line_start = true, in_tag = false, quoted = false, space = false;
	size_t chars = 0;

	for (size_t i = 0; i < len && chars < 200; i++) {
		unsigned char c = (unsigned char)text[i];

		if (html) {
			if (c == '<') {
				in_tag = true;
				continue;
			}
			if (in_tag) {
				if (c == '>')
					in_tag = false;
				continue;
			}
		}
		if (line_start && c == '>')
			quoted = true;
		if (c == '\n') {
			line_start = true;
			quoted = false;
			space = str_len(dest) > 0;
			continue;
		}
		line_start = false;
		if (quoted)
			continue;
		if (c == ' ' || c == '\t' || c == '\r') {
			space = str_len(dest) > 0;
			continue;
		}
		if (space) {
			str_append_c(dest, ' ');
			chars++;
			space = false;
		}
		str_append_c(dest, (char)c);
		if ((c & 0xc0) != 0x80)
			chars++;
	}
	/* don't end inside a UTF-8 sequence */
	while (str_len(dest) > 0 &&
	       (unsigned char)str_c(dest)[str_len(dest) - 1] >= 0x80 &&
	       !uni_utf8_data_is_valid(str_c(dest), str_len(dest)))
		str_truncate(dest, str_len(dest) - 1);
}

static int f_body_snippet(struct fetch_ctx *ctx, const char *name ATTR_UNUSED)
{
	const unsigned char *data;
	const struct message_part *part;
	size_t size;
	string_t *text;

	if (get_parts_parsed(ctx, &data, &size) < 0)
		return -1;
	str_clear(ctx->str);
	for (part = ctx->parts; part != NULL;) {
		const char *subtype = part->data->content_subtype;

		if ((part->flags & MESSAGE_PART_FLAG_TEXT) != 0 &&
		    part->children == NULL) {
			bool html = subtype != NULL &&
				strcasecmp(subtype, "html") == 0;

			text = str_new(part->body_size.physical_size + 16);
			mail_search_part_body_utf8(part, data, size, text);
			snippet_add(ctx->str, str_c(text), str_len(text), html);
			str_free(&text);
			break;
		}
		if (part->children != NULL) {
			part = part->children;
			continue;
		}
		while (part != NULL && part->next == NULL)
			part = part->parent;
		if (part != NULL)
			part = part->next;
	}
	doveadm_print(str_c(ctx->str));
	return 0;
}

/* body.<section> and binary.<section>, e.g. body.1.mime, binary.2 */
static int f_section(struct fetch_ctx *ctx, const char *name)
{
	bool binary = strncmp(name, "binary.", 7) == 0;
	struct message_section section;
	struct message_section_result result;
	struct message_binary_result bres;
	const unsigned char *data;
	const char *error;
	char *spec;
	size_t size;
	string_t *out;
	int ret = 0;

	if (get_parts_parsed(ctx, &data, &size) < 0)
		return -1;
	spec = i_strdup(name + (binary ? 7 : 5));
	for (char *p = spec; *p != '\0'; p++) {
		if (*p == ',')
			*p = ' ';
	}
	if (message_section_parse(ctx->msg_pool, spec, &section, &error) < 0) {
		free(spec);
		return -1;
	}
	free(spec);
	out = str_new(1024);
	if (!binary) {
		(void)message_section_get(ctx->msg_pool, ctx->parts, data, size,
					  &section, &result);
		message_section_result_append(&result, data, out);
	} else if (message_section_binary(ctx->parts, data, size, &section,
					  out, 0, &bres) < 0) {
		ret = -1;
	}
	if (ret == 0) {
		if (str_len(out) > 0)
			doveadm_print_stream(str_c(out), str_len(out));
		doveadm_print_stream("", 0);
	}
	str_free(&out);
	return ret;
}

/* hdr.NAME: every instance of the field, each unfolded only of CRs,
 * joined with LFs. */
struct hdr_collect {
	const char *name;
	size_t name_len;
	string_t *dest;
	unsigned int count;
};

static void hdr_collect_fields(const unsigned char *hdr, size_t size,
			       struct hdr_collect *c)
{
	size_t pos = 0;

	while (pos < size && hdr[pos] != '\n' &&
	       !(hdr[pos] == '\r' && pos + 1 < size && hdr[pos + 1] == '\n')) {
		size_t end = pos, colon;

		for (;;) {
			while (end < size && hdr[end] != '\n')
				end++;
			if (end + 1 < size && (hdr[end + 1] == ' ' ||
					       hdr[end + 1] == '\t')) {
				end++;
				continue;
			}
			break;
		}
		for (colon = pos; colon < end && hdr[colon] != ':'; colon++)
			;
		size_t nlen = colon - pos;
		while (nlen > 0 && (hdr[pos + nlen - 1] == ' ' ||
				    hdr[pos + nlen - 1] == '\t'))
			nlen--;
		if (colon < end && nlen == c->name_len &&
		    strncasecmp((const char *)hdr + pos, c->name, nlen) == 0) {
			size_t v = colon + 1;

			while (v < end && (hdr[v] == ' ' || hdr[v] == '\t'))
				v++;
			if (c->count++ > 0)
				str_append_c(c->dest, '\n');
			for (; v < end; v++) {
				if (hdr[v] == '\r' &&
				    (v + 1 == end || hdr[v + 1] == '\n'))
					continue;
				str_append_c(c->dest, (char)hdr[v]);
			}
		}
		pos = end < size ? end + 1 : size;
	}
}

/* .utf8: each value RFC 2047-decoded, one per line (folded lines stay
 * with their value). */
static void hdr_filter_utf8(const string_t *values, unsigned int count,
			    string_t *out)
{
	const char *p = str_c(values), *end = p + str_len(values);

	if (count == 0)
		return;
	for (;;) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));

		while (lf != NULL && lf + 1 < end &&
		       (lf[1] == ' ' || lf[1] == '\t'))
			lf = memchr(lf + 1, '\n', (size_t)(end - lf - 1));
		(void)message_header_decode_utf8(p, lf == NULL ?
			(size_t)(end - p) : (size_t)(lf - p), out);
		if (lf == NULL)
			break;
		str_append_c(out, '\n');
		p = lf + 1;
	}
}

/* .address, .address_name, .address_name.utf8: one address per line */
static void hdr_filter_address(const string_t *values, const char *filter,
			       string_t *out)
{
	pool_t pool = pool_create("fetch address", 1024);
	const struct message_address *addr =
		message_address_parse(pool, str_c(values), str_len(values),
				      UINT_MAX, 0);

	for (bool add_lf = false; addr != NULL; addr = addr->next) {
		if (add_lf)
			str_append_c(out, '\n');
		add_lf = true;
		if (strcmp(filter, "address") == 0) {
			if (addr->mailbox != NULL)
				str_append(out, addr->mailbox);
			if (addr->domain != NULL) {
				str_append_c(out, '@');
				str_append(out, addr->domain);
			}
		} else if (addr->name == NULL) {
			continue;
		} else if (strcmp(filter, "address_name") == 0) {
			str_append(out, addr->name);
		} else {
			(void)message_header_decode_utf8(addr->name,
				strlen(addr->name), out);
		}
	}
	pool_destroy(&pool);
}

/* hdr.NAME[.utf8|.address|.address_name|.address_name.utf8] */
static int f_hdr_field(struct fetch_ctx *ctx, const char *name)
{
	const unsigned char *data;
	size_t size, hdr_size;
	struct hdr_collect c;
	const char *filter;
	char *field;
	string_t *out;

	name += 4;	/* "hdr." */
	filter = strchr(name, '.');
	field = filter == NULL ? i_strdup(name) :
		i_strndup(name, (size_t)(filter - name));
	if (get_parts(ctx, &data, &size, &hdr_size) < 0) {
		free(field);
		return -1;
	}
	str_clear(ctx->str);
	c.name = field;
	c.name_len = strlen(field);
	c.dest = ctx->str;
	c.count = 0;
	hdr_collect_fields(data, hdr_size, &c);
	free(field);
	if (filter == NULL) {
		doveadm_print(str_c(ctx->str));
		return 0;
	}
	out = str_new(str_len(ctx->str) + 16);
	if (strcmp(filter + 1, "utf8") == 0)
		hdr_filter_utf8(ctx->str, c.count, out);
	else
		hdr_filter_address(ctx->str, filter + 1, out);
	doveadm_print(str_c(out));
	str_free(&out);
	return 0;
}

static const struct fetch_field fetch_fields[] = {
	{ "user", f_user },
	{ "mailbox", f_mailbox },
	{ "mailbox-guid", f_mailbox_guid },
	{ "seq", f_seq },
	{ "uid", f_uid },
	{ "guid", f_guid },
	{ "flags", f_flags },
	{ "modseq", f_modseq },
	{ "hdr", f_hdr },
	{ "body", f_body },
	{ "text", f_text },
	{ "text.utf8", f_text_utf8 },
	{ "size.physical", f_size_physical },
	{ "size.virtual", f_size_virtual },
	{ "date.received", f_date_received },
	{ "date.sent", f_date_sent },
	{ "date.saved", f_date_saved },
	{ "date.received.unixtime", f_date_received },
	{ "date.sent.unixtime", f_date_sent },
	{ "date.saved.unixtime", f_date_saved },
	{ "body.snippet", f_body_snippet },
	{ "imap.envelope", f_imap_envelope },
	{ "imap.body", f_imap_body },
	{ "imap.bodystructure", f_imap_body },
	{ "pop3.uidl", f_empty },
	{ "pop3.order", f_empty },
	{ "refcount", f_refcount },
	{ "storageid", f_empty },
};
static const struct fetch_field hdr_field = { "hdr.", f_hdr_field };
static const struct fetch_field section_field = { "body.", f_section };

/* Dovecot's list, also naming what this build can't fetch yet. */
static void print_fetch_fields(void)
{
	fflush(stdout);
	fprintf(stderr, "Available fetch fields: hdr.<name> body.<section> "
		"binary.<section> user mailbox mailbox-guid seq uid guid "
		"flags modseq hdr body body.preview body.snippet text "
		"text.utf8 size.physical size.virtual date.received "
		"date.sent date.saved date.received.unixtime "
		"date.sent.unixtime date.saved.unixtime imap.envelope "
		"imap.body imap.bodystructure pop3.uidl pop3.order refcount "
		"storageid\n");
}

static void parse_fields(struct fetch_ctx *ctx, const char *str)
{
	while (*str != '\0') {
		size_t len = strcspn(str, " ");
		char *name = i_strndup(str, len);
		struct fetch_item *item;
		size_t i;

		str += len;
		str += strspn(str, " ");
		if (len == 0) {
			free(name);
			continue;
		}
		for (char *p = name; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		doveadm_print_header_simple(name);
		for (i = 0; i < N_ELEMENTS(fetch_fields); i++) {
			if (strcmp(fetch_fields[i].name, name) == 0)
				break;
		}
		item = array_append_space(&ctx->items);
		item->name = name;
		if (i < N_ELEMENTS(fetch_fields)) {
			item->field = &fetch_fields[i];
		} else if (strncmp(name, "hdr.", 4) == 0) {
			const char *filter = strchr(name + 4, '.');

			item->field = &hdr_field;
			if (filter != NULL && strcmp(filter, ".utf8") != 0 &&
			    strcmp(filter, ".address") != 0 &&
			    strcmp(filter, ".address_name") != 0 &&
			    strcmp(filter, ".address_name.utf8") != 0)
				ctx->bad_filter = filter + 1;
		} else if (strncmp(name, "body.", 5) == 0 ||
			   strncmp(name, "binary.", 7) == 0) {
			const char *spec = name + (name[1] == 'o' ? 5 : 7);
			struct message_section section;
			const char *error;
			pool_t pool = pool_create("section", 256);

			if (message_section_parse(pool, spec, &section,
						  &error) < 0) {
				print_fetch_fields();
				i_fatal_status(EXIT_TEMPFAIL,
					       "Unknown fetch section: %s", spec);
			}
			pool_destroy(&pool);
			item->field = &section_field;
		} else {
			print_fetch_fields();
			i_fatal_status(EXIT_TEMPFAIL, "Unknown fetch field: %s",
				       name);
		}
	}
}

static void cmd_fetch_init(struct doveadm_mail_cmd_context *mctx,
			   const char *const *args)
{
	struct fetch_ctx *ctx = i_new(struct fetch_ctx, 1);

	if (args[0] == NULL || args[1] == NULL)
		doveadm_mail_help(mctx->cmd);
	ctx->mctx = mctx;
	ctx->str = str_new(256);
	mctx->cmd_ctx = ctx;
	parse_fields(ctx, args[0]);
	mctx->search_args = doveadm_mail_build_search_args(args + 1);
}

static int fetch_mail(struct fetch_ctx *ctx)
{
	int ret = 0;

	if (ctx->bad_filter != NULL) {
		fflush(stdout);
		i_fatal_status(EXIT_TEMPFAIL, "Unknown header filter: %s",
			       ctx->bad_filter);
	}
	ctx->parts = NULL;
	if (ctx->msg_pool != NULL)
		pool_destroy(&ctx->msg_pool);

	for (size_t i = 0; i < ctx->items.count; i++) {
		const struct fetch_item *item = &ctx->items.v[i];

		if (item->field->print(ctx, item->name) < 0) {
			i_error("fetch(%s) failed for box=%s uid=%u: %s",
				item->name, mailbox_get_vname(ctx->mail->box),
				ctx->mail->uid,
				mailbox_get_last_error(ctx->mail->box, NULL));
			doveadm_mail_failed_mailbox(ctx->mctx, ctx->mail->box);
			/* keep the columns in step */
			doveadm_print("");
			ret = -1;
		}
	}
	return ret;
}

static int cmd_fetch_run(struct doveadm_mail_cmd_context *mctx,
			 struct mail_user *user)
{
	struct fetch_ctx *ctx = mctx->cmd_ctx;
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *info;
	int ret = 0;

	iter = doveadm_mailbox_iter_init(mctx, user, mctx->search_args, true);
	while ((info = doveadm_mailbox_iter_next(iter)) != NULL) {
		struct doveadm_mail_iter *miter;

		if (doveadm_mail_iter_init(mctx, user, info->vname,
					   mctx->search_args, false,
					   &miter) < 0) {
			ret = -1;
			continue;
		}
		struct mailbox *box = doveadm_mail_iter_get_mailbox(miter);
		struct mailbox_status status;

		memset(&status, 0, sizeof(status));
		if (box != NULL)
			(void)mailbox_get_status(box, STATUS_GUID |
						 STATUS_FIRST_RECENT_UID,
						 &status);
		ctx->first_recent_uid = status.first_recent_uid;
		memcpy(ctx->mailbox_guid, status.guid, sizeof(status.guid));
		while ((ctx->mail = doveadm_mail_iter_next(miter)) != NULL) {
			if (fetch_mail(ctx) < 0)
				ret = -1;
		}
		if (doveadm_mail_iter_deinit(&miter, false) < 0)
			ret = -1;
	}
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	return ret;
}

static void cmd_fetch_deinit(struct doveadm_mail_cmd_context *mctx)
{
	struct fetch_ctx *ctx = mctx->cmd_ctx;

	if (ctx == NULL)
		return;
	for (size_t i = 0; i < ctx->items.count; i++)
		free((char *)ctx->items.v[i].name);
	array_free(&ctx->items);
	str_free(&ctx->str);
	if (ctx->msg_pool != NULL)
		pool_destroy(&ctx->msg_pool);
	free(ctx);
}

static const struct doveadm_mail_cmd fetch_cmd = {
	"fetch", "<fields> <search query>", NULL, "pager",
	NULL, cmd_fetch_init, cmd_fetch_run, cmd_fetch_deinit
};

static int cmd_fetch(struct doveadm_context *ctx, int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&fetch_cmd, ctx, argc, argv);
}

const struct doveadm_cmd doveadm_cmd_fetch = {
	"fetch", DOVEADM_CMD_MAIL_USAGE_PREFIX "<fields> <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, cmd_fetch
};

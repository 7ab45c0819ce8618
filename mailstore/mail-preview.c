/* mail-preview.c - message preview text (see mail-preview.h). */
#include "mail-preview.h"
#include "unichar.h"
#include "charset.h"
#include "mail-search.h"

#include <strings.h>

enum preview_state {
	PREVIEW_LINE_START,
	PREVIEW_NORMAL,
	PREVIEW_QUOTED,
};

struct preview_text {
	string_t *str;
	unsigned int chars_left;
	bool pending_space;
};

struct preview_ctx {
	struct preview_text main, quoted;
	enum preview_state state;
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/* One character (or skipped byte) at data; returns the bytes used. */
static size_t preview_add(struct preview_ctx *ctx, struct preview_text *t,
			  const unsigned char *data, size_t size)
{
	unsigned int len;

	if (size >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf)
		return 3;	/* byte order mark */
	if (data[0] == '\0')
		return 1;
	if (is_space(data[0])) {
		if (str_len(t->str) > 0)
			t->pending_space = true;
		if (data[0] == '\n')
			ctx->state = PREVIEW_LINE_START;
		return 1;
	}
	len = data[0] < 0x80 ? 1 : uni_utf8_char_len(data, size);
	if (len == 0)
		len = 1;
	if (t->chars_left == 0)
		return len;
	t->chars_left--;
	if (t->pending_space) {
		if (t->chars_left == 0)
			return len;	/* no trailing space */
		str_append_c(t->str, ' ');
		t->pending_space = false;
		t->chars_left--;
	}
	str_append_n(t->str, data, len);
	return len;
}

/* Feed decoded UTF-8 text. Returns false when the preview is full. */
static bool preview_feed(struct preview_ctx *ctx, const unsigned char *data,
			 size_t size)
{
	struct preview_text *t = ctx->state == PREVIEW_QUOTED ?
		&ctx->quoted : &ctx->main;

	for (size_t i = 0; i < size;) {
		if (ctx->state == PREVIEW_LINE_START) {
			if (data[i] == '>') {
				ctx->state = PREVIEW_QUOTED;
				t = &ctx->quoted;
				if (++i == size)
					break;
			} else {
				ctx->state = PREVIEW_NORMAL;
				t = &ctx->main;
			}
		}
		i += preview_add(ctx, t, data + i, size - i);
		if (ctx->main.chars_left == 0)
			return false;
	}
	return true;
}

/* ---- HTML ---- */

static const struct {
	const char *name;
	const char *utf8;
} html_entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
	{ "apos", "'" }, { "nbsp", "\xc2\xa0" }, { "copy", "\xc2\xa9" },
	{ "reg", "\xc2\xae" }, { "euro", "\xe2\x82\xac" },
	{ "hellip", "\xe2\x80\xa6" }, { "mdash", "\xe2\x80\x94" },
	{ "ndash", "\xe2\x80\x93" }, { "laquo", "\xc2\xab" },
	{ "raquo", "\xc2\xbb" }, { "auml", "\xc3\xa4" }, { "ouml", "\xc3\xb6" },
	{ "uuml", "\xc3\xbc" }, { "Auml", "\xc3\x84" }, { "Ouml", "\xc3\x96" },
	{ "Uuml", "\xc3\x9c" }, { "szlig", "\xc3\x9f" }, { "eacute", "\xc3\xa9" },
};

static void append_unichar(string_t *dest, uint32_t c)
{
	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	uni_ucs4_to_utf8_c(c, dest);
}

/* "&...;" at data[0] == '&': appended (nothing for unknown names and
 * invalid numbers), returns bytes used (0: no ';' ends it: the '&' alone
 * is dropped). */
static size_t html_entity(const unsigned char *data, size_t size,
			  string_t *dest)
{
	size_t end = 1;

	while (end < size && end < 12 && data[end] != ';' &&
	       !is_space(data[end]) && data[end] != '&' && data[end] != '<')
		end++;
	if (end >= size || data[end] != ';' || end == 1)
		return 0;
	if (data[1] == '#') {
		uint32_t c = 0;
		size_t i = 2;
		bool hex = i < end && (data[i] == 'x' || data[i] == 'X');

		if (hex)
			i++;
		if (i == end)
			return end + 1;
		for (; i < end; i++) {
			unsigned char ch = data[i];
			unsigned int v;

			if (ch >= '0' && ch <= '9')
				v = ch - '0';
			else if (hex && ch >= 'a' && ch <= 'f')
				v = ch - 'a' + 10;
			else if (hex && ch >= 'A' && ch <= 'F')
				v = ch - 'A' + 10;
			else
				return end + 1;
			c = c * (hex ? 16 : 10) + v;
			if (c > 0x10ffff)
				c = 0x110000;
		}
		if (c != 0 && c <= 0x10ffff && (c < 0xd800 || c > 0xdfff))
			append_unichar(dest, c);
		return end + 1;
	}
	for (size_t i = 0; i < N_ELEMENTS(html_entities); i++) {
		size_t len = strlen(html_entities[i].name);

		if (len == end - 1 &&
		    memcmp(data + 1, html_entities[i].name, len) == 0) {
			str_append(dest, html_entities[i].utf8);
			return end + 1;
		}
	}
	return end + 1;
}

static bool tag_is(const unsigned char *p, size_t size, const char *name)
{
	size_t len = strlen(name);

	return size > len && strncasecmp((const char *)p, name, len) == 0 &&
		(p[len] == '>' || p[len] == '/' || is_space(p[len]));
}

/* end of a raw-text element (</style>, </script>) from data, or size */
static size_t skip_until_close(const unsigned char *data, size_t size,
			       const char *close)
{
	size_t len = strlen(close);

	for (size_t i = 0; i + len <= size; i++) {
		if (data[i] == '<' &&
		    strncasecmp((const char *)data + i, close, len) == 0)
			return i + len;
	}
	return size;
}

void message_html_to_text(const unsigned char *data, size_t size,
			  string_t *dest)
{
	size_t i = 0;

	while (i < size) {
		if (data[i] == '&') {
			size_t n = html_entity(data + i, size - i, dest);

			i += n > 0 ? n : 1;
			continue;
		}
		if (data[i] != '<') {
			str_append_c(dest, (char)data[i++]);
			continue;
		}
		/* a tag, comment or declaration */
		if (size - i >= 4 && memcmp(data + i, "<!--", 4) == 0) {
			size_t j = i + 4;

			while (j + 3 <= size && memcmp(data + j, "-->", 3) != 0)
				j++;
			i = j + 3 <= size ? j + 3 : size;
			continue;
		}
		if (tag_is(data + i + 1, size - i - 1, "style")) {
			i += skip_until_close(data + i, size - i, "</style>");
			continue;
		}
		if (tag_is(data + i + 1, size - i - 1, "script")) {
			i += skip_until_close(data + i, size - i, "</script>");
			continue;
		}
		{
			const unsigned char *p = data + i + 1;
			size_t left = size - i - 1;
			bool block = false;
			static const char *const blocks[] = {
				"p", "/p", "br", "div", "/div", "li", "tr",
				"h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
				"/blockquote", "table", "/table", "ul", "/ul",
				"ol", "/ol", "hr", "td", "th",
			};

			for (size_t k = 0; k < N_ELEMENTS(blocks); k++)
				block = block || tag_is(p, left, blocks[k]);
			while (i < size && data[i] != '>')
				i++;
			if (i < size)
				i++;
			str_append_c(dest, block ? '\n' : ' ');
		}
	}
}

/* ---- parts ---- */

static bool part_is_html(const struct message_part *part)
{
	const struct message_part_data *d = part->data;

	return d->content_type != NULL && d->content_subtype != NULL &&
		strcasecmp(d->content_type, "text") == 0 &&
		strcasecmp(d->content_subtype, "html") == 0;
}

/* The raw value of the part's first Content-Type field is exactly
 * "text" (Dovecot takes such a part as the text, and finds nothing in
 * it). */
static bool part_ct_is_bare_text(const struct message_part *part,
				 const unsigned char *msg, size_t msg_size)
{
	uint64_t pos = part->physical_pos;
	uint64_t end = pos + part->header_size.physical_size;

	if (end > msg_size)
		end = msg_size;
	while (pos < end) {
		const unsigned char *line = msg + pos;
		const unsigned char *nl = memchr(line, '\n', end - pos);
		size_t len = nl == NULL ? end - pos : (size_t)(nl - line);

		if (len >= 13 && strncasecmp((const char *)line,
					     "Content-Type:", 13) == 0) {
			size_t i = 13;

			while (i < len && (line[i] == ' ' || line[i] == '\t'))
				i++;
			while (len > i && (line[len - 1] == '\r' ||
					   line[len - 1] == ' ' ||
					   line[len - 1] == '\t'))
				len--;
			return len - i == 4 &&
				strncasecmp((const char *)line + i, "text", 4) == 0;
		}
		pos += len + 1;
	}
	return false;
}

enum part_kind { PART_SKIP, PART_TEXT, PART_EMPTY_TEXT };

/* Text for the preview: no Content-Type, or text/something. */
static enum part_kind part_kind(const struct message_part *part,
				const unsigned char *msg, size_t msg_size)
{
	const struct message_part_data *d = part->data;

	if ((part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0)
		return PART_SKIP;
	if (d->content_type == NULL)
		return PART_TEXT;
	if (strcasecmp(d->content_type, "text") != 0)
		return PART_SKIP;
	if (d->content_subtype != NULL && d->content_subtype[0] != '\0')
		return PART_TEXT;
	return part_ct_is_bare_text(part, msg, msg_size) ?
		PART_EMPTY_TEXT : PART_SKIP;
}

/* The transfer encoding as Dovecot's decoder reads it: the first token,
 * whatever follows. */
static enum message_cte part_decoder_cte(const struct message_part *part)
{
	const char *value = part->data->content_transfer_encoding;
	size_t len;

	if (value == NULL)
		return part->data->cte;
	value += strspn(value, " \t\r\n");
	len = strcspn(value, " \t\r\n(;");
	if (len == 6 && strncasecmp(value, "base64", 6) == 0)
		return MESSAGE_CTE_BASE64;
	if (len == 16 && strncasecmp(value, "quoted-printable", 16) == 0)
		return MESSAGE_CTE_QP;
	return part->data->cte == MESSAGE_CTE_BINARY ?
		MESSAGE_CTE_BINARY : MESSAGE_CTE_78BIT;
}

/* Runs of U+FFFD (one per invalid byte) become one, as Dovecot's
 * decoder writes them. */
static void collapse_replacements(string_t *text)
{
	const char *src = str_c(text);
	size_t len = str_len(text), out = 0;
	char *dst = text->data;

	for (size_t i = 0; i < len;) {
		if (i + 3 <= len && memcmp(src + i, "\xef\xbf\xbd", 3) == 0 &&
		    out >= 3 && memcmp(dst + out - 3, "\xef\xbf\xbd", 3) == 0) {
			i += 3;
			continue;
		}
		dst[out++] = src[i++];
	}
	str_truncate(text, out);
}

/* The next leaf after part (message/rfc822 isn't entered), or NULL. */
static const struct message_part *next_leaf(const struct message_part *part)
{
	while (part != NULL && part->next == NULL)
		part = part->parent;
	if (part == NULL)
		return NULL;
	part = part->next;
	while ((part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0 &&
	       part->children != NULL)
		part = part->children;
	return part;
}

void message_preview_generate(const struct message_part *parts,
			      const unsigned char *msg, size_t msg_size,
			      unsigned int max_chars, string_t *dest)
{
	const struct message_part *part = parts;
	struct message_part copy;
	struct message_part_data data_copy;
	struct preview_ctx ctx;
	enum part_kind kind = PART_SKIP;
	string_t *text;

	if (part == NULL || max_chars == 0)
		return;
	/* the first text leaf; message/rfc822 isn't entered */
	while ((part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0 &&
	       part->children != NULL)
		part = part->children;
	for (; part != NULL; part = next_leaf(part)) {
		kind = part_kind(part, msg, msg_size);
		if (kind != PART_SKIP)
			break;
	}
	if (part == NULL || kind == PART_EMPTY_TEXT)
		return;

	text = str_new(1024);
	if ((part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) != 0) {
		/* a digest member without Content-Type: its text as is */
		uint64_t start = message_part_body_offset(part);
		uint64_t size = part->body_size.physical_size;

		if (start <= msg_size) {
			if (size > msg_size - start)
				size = msg_size - start;
			(void)uni_utf8_get_valid_data(msg + start, size, text);
		}
	} else {
		copy = *part;
		data_copy = *part->data;
		data_copy.cte = part_decoder_cte(part);
		copy.data = &data_copy;
		mail_search_part_body_utf8(&copy, msg, msg_size, text);
	}
	collapse_replacements(text);
	if (part_is_html(part)) {
		string_t *plain = str_new(str_len(text) + 1);

		message_html_to_text((const unsigned char *)str_c(text),
				     str_len(text), plain);
		str_free(&text);
		text = plain;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.main.str = str_new(max_chars * 4 + 8);
	ctx.main.chars_left = max_chars;
	ctx.quoted.str = str_new(max_chars * 4 + 8);
	ctx.quoted.chars_left = max_chars - 1;	/* room for the '>' */
	(void)preview_feed(&ctx, (const unsigned char *)str_c(text),
			   str_len(text));
	if (str_len(ctx.main.str) > 0) {
		str_append_n(dest, str_c(ctx.main.str), str_len(ctx.main.str));
	} else if (str_len(ctx.quoted.str) > 0) {
		str_append_c(dest, '>');
		str_append_n(dest, str_c(ctx.quoted.str),
			     str_len(ctx.quoted.str));
	}
	str_free(&ctx.main.str);
	str_free(&ctx.quoted.str);
	str_free(&text);
}

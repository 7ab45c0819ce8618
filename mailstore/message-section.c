/* message-section.c - BODY[section] ranges and BINARY[section] decoding
 * over a parsed in-memory message. */
#include "message-section.h"
#include "message-header.h"
#include "array.h"
#include "qp.h"

#include <ctype.h>
#include <strings.h>

/* ---- section syntax ---- */

/* "1.2.3" prefix: returns its length (0 if none) or -1 if broken. */
static int parse_part_path(const char *spec)
{
	const char *p = spec, *last_ok = spec;

	while (*p >= '1' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
		last_ok = p;
		if (*p != '.' || !(p[1] >= '0' && p[1] <= '9'))
			break;
		if (p[1] == '0')
			return -1;
		p++;
	}
	if (*spec == '0')
		return -1;
	return (int)(last_ok - spec);
}

static bool is_astring_char(char c)
{
	return c > ' ' && c < 0x7f && c != '(' && c != ')' && c != '"' &&
		c != '{' && c != '\\' && c != '%' && c != '*' && c != ']';
}

/* " (name name \"name\")" after HEADER.FIELDS[.NOT] */
static int parse_field_list(pool_t pool, const char *p,
			    struct message_section *section)
{
	ARRAY(const char *) fields = ARRAY_INIT;
	const char **list;

	if (*p++ != ' ' || *p++ != '(')
		return -1;
	while (*p != ')') {
		const char *start;

		if (fields.count > 0 && *p++ != ' ')
			goto fail;
		if (*p == '"') {
			start = ++p;
			while (*p != '\0' && *p != '"' && *p != '\\')
				p++;
			if (*p != '"')
				goto fail;
			array_push(&fields, p_strndup(pool, start,
						      (size_t)(p - start)));
			p++;
		} else {
			start = p;
			while (is_astring_char(*p))
				p++;
			if (p == start)
				goto fail;
			array_push(&fields, p_strndup(pool, start,
						      (size_t)(p - start)));
		}
	}
	if (fields.count == 0 || p[1] != '\0')
		goto fail;
	list = p_new(pool, const char *, fields.count + 1);
	memcpy(list, fields.v, fields.count * sizeof(*list));
	section->fields = list;
	array_free(&fields);
	return 0;
fail:
	array_free(&fields);
	return -1;
}

int message_section_parse(pool_t pool, const char *spec,
			  struct message_section *section_r,
			  const char **error_r)
{
	int len = parse_part_path(spec);
	const char *p;

	memset(section_r, 0, sizeof(*section_r));
	*error_r = "Invalid BODY[..] parameter";
	if (len < 0)
		return -1;
	section_r->part_path = p_strndup(pool, spec, (size_t)len);
	p = spec + len;
	if (*p == '\0') {
		section_r->type = MESSAGE_SECTION_BODY;
		return 0;
	}
	if (len > 0 && *p++ != '.')
		return -1;
	if (strcasecmp(p, "HEADER") == 0) {
		section_r->type = MESSAGE_SECTION_HEADER;
	} else if (strcasecmp(p, "TEXT") == 0) {
		section_r->type = MESSAGE_SECTION_TEXT;
	} else if (strcasecmp(p, "MIME") == 0 && len > 0) {
		section_r->type = MESSAGE_SECTION_MIME;
	} else if (strncasecmp(p, "HEADER.FIELDS.NOT", 17) == 0) {
		section_r->type = MESSAGE_SECTION_HEADER_FIELDS_NOT;
		return parse_field_list(pool, p + 17, section_r);
	} else if (strncasecmp(p, "HEADER.FIELDS", 13) == 0) {
		section_r->type = MESSAGE_SECTION_HEADER_FIELDS;
		return parse_field_list(pool, p + 13, section_r);
	} else {
		return -1;
	}
	return 0;
}

/* ---- finding parts ---- */

int message_part_find(const struct message_part *parts, const char *path,
		      const struct message_part **part_r)
{
	const struct message_part *part = parts;
	const char *p = path;

	if (*p != '\0' && parse_part_path(path) != (int)strlen(path))
		return -1;
	while (*p != '\0' && part != NULL) {
		unsigned long num = 0;

		while (*p >= '0' && *p <= '9') {
			if (num < 1000000)
				num = num * 10 + (unsigned long)(*p - '0');
			p++;
		}
		if (*p == '.')
			p++;
		if ((part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0) {
			for (part = part->children; part != NULL && num > 1;
			     num--)
				part = part->next;
		} else if (num != 1) {
			part = NULL;
		} else if (*p != '\0' &&
			   (part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) == 0) {
			/* "1" names a single part only at the end */
			part = NULL;
		}
		/* more numbers after a message/rfc822 part: go inside */
		if (part != NULL && *p != '\0' &&
		    (part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) != 0)
			part = part->children;
	}
	*part_r = part;
	return part == NULL ? 0 : 1;
}

/* The message that HEADER/TEXT/HEADER.FIELDS of a section refer to. */
static const struct message_part *
section_message(const struct message_section *section,
		const struct message_part *part)
{
	if (section->part_path[0] == '\0')
		return part;
	if ((part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) == 0)
		return NULL;
	return part->children;
}

/* ---- BODY[] ---- */

void message_crlf_append(string_t *dest, const void *_data, size_t size)
{
	const unsigned char *data = _data, *lf;
	size_t pos = 0;

	while ((lf = memchr(data + pos, '\n', size - pos)) != NULL) {
		size_t i = (size_t)(lf - data);

		if (i == 0 || data[i - 1] != '\r') {
			str_append_n(dest, data + pos, i - pos);
			str_append(dest, "\r\n");
		} else {
			str_append_n(dest, data + pos, i + 1 - pos);
		}
		pos = i + 1;
	}
	str_append_n(dest, data + pos, size - pos);
}

/* What BODY[] sends: CRLF line ends, and NULs as 0x80 (Dovecot). */
static void body_text_append(string_t *dest, const unsigned char *data,
			     size_t size)
{
	size_t start = str_len(dest), i;

	message_crlf_append(dest, data, size);
	for (i = start; i < str_len(dest); i++) {
		if (dest->data[i] == '\0')
			dest->data[i] = (char)0x80;
	}
}

void message_section_result_append(const struct message_section_result *res,
				   const void *msg, string_t *dest)
{
	if (res->data != NULL) {
		str_append_n(dest, res->data, res->data_size);
		return;
	}
	body_text_append(dest, (const unsigned char *)msg + res->offset,
			 res->size);
}

static void result_range(struct message_section_result *res, uint64_t offset,
			 const struct message_size *size)
{
	res->offset = offset;
	res->size = size->physical_size;
	res->virtual_size = size->virtual_size;
}

static bool field_listed(const struct message_section *section,
			 const struct message_header_line *line)
{
	const char *const *f;

	if (line->no_colon)
		return false;
	for (f = section->fields; *f != NULL; f++) {
		if (message_header_line_is(line, *f))
			return true;
	}
	return false;
}

/* The message's own HEADER.FIELDS: each field ends in CRLF, then a
   CRLF follows, whatever the header looked like. */
static void root_header_fields(const unsigned char *hdr, size_t hdr_size,
			       const struct message_section *section,
			       string_t *out)
{
	struct message_header_iter iter;
	struct message_header_line line;

	message_header_iter_init(&iter, hdr, hdr_size);
	while (message_header_iter_next(&iter, &line)) {
		if (!field_listed(section, &line))
			continue;
		body_text_append(out, hdr + line.offset, line.size);
		if (line.no_newline)
			str_append(out, "\r\n");
	}
	str_append(out, "\r\n");
}

/* HEADER.FIELDS.NOT, and HEADER.FIELDS of an embedded message: the
   header is read from its start up to a blank line or the end of the
   message (not up to its parsed size: a header that ran into a boundary
   goes on past it, as in Dovecot); the kept fields are copied as they
   are and the blank line follows if there is one. */
static void filter_header_fields(const unsigned char *hdr, size_t size,
				 const struct message_section *section,
				 string_t *out)
{
	bool want = section->type == MESSAGE_SECTION_HEADER_FIELDS;
	struct message_header_iter iter;
	struct message_header_line line;
	size_t fields_end = 0;

	message_header_iter_init(&iter, hdr, size);
	while (message_header_iter_next(&iter, &line)) {
		fields_end = line.offset + line.size;
		if (field_listed(section, &line) == want)
			body_text_append(out, hdr + line.offset, line.size);
	}
	if (message_header_iter_end(&iter) > fields_end) {
		body_text_append(out, hdr + fields_end,
				 message_header_iter_end(&iter) - fields_end);
	}
}

static void header_fields_result(pool_t pool, const unsigned char *msg,
				 size_t msg_size, const struct message_part *m,
				 const struct message_section *section,
				 struct message_section_result *res)
{
	string_t *out = str_new(256);

	if (section->part_path[0] == '\0' &&
	    section->type == MESSAGE_SECTION_HEADER_FIELDS) {
		root_header_fields(msg + m->physical_pos,
				   m->header_size.physical_size, section, out);
	} else {
		filter_header_fields(msg + m->physical_pos,
				     msg_size - m->physical_pos, section, out);
	}
	res->data_size = str_len(out);
	res->data = (const unsigned char *)p_strndup(pool, str_c(out),
						     str_len(out));
	res->virtual_size = res->data_size;
	str_free(&out);
}

int message_section_get(pool_t pool, const struct message_part *parts,
			const void *msg, size_t msg_size,
			const struct message_section *section,
			struct message_section_result *res)
{
	const struct message_part *part, *m;
	struct message_size full;

	memset(res, 0, sizeof(*res));
	if (message_part_find(parts, section->part_path, &part) <= 0)
		return 0;
	switch (section->type) {
	case MESSAGE_SECTION_BODY:
		if (section->part_path[0] != '\0') {
			result_range(res, message_part_body_offset(part),
				     &part->body_size);
			return 1;
		}
		full = part->header_size;
		full.physical_size += part->body_size.physical_size;
		full.virtual_size += part->body_size.virtual_size;
		result_range(res, part->physical_pos, &full);
		i_assert(res->offset + res->size <= msg_size);
		return 1;
	case MESSAGE_SECTION_MIME:
		result_range(res, part->physical_pos, &part->header_size);
		return 1;
	default:
		break;
	}
	if ((m = section_message(section, part)) == NULL)
		return 0;
	if (section->type == MESSAGE_SECTION_HEADER)
		result_range(res, m->physical_pos, &m->header_size);
	else if (section->type == MESSAGE_SECTION_TEXT)
		result_range(res, message_part_body_offset(m), &m->body_size);
	else
		header_fields_result(pool, msg, msg_size, m, section, res);
	return 1;
}

/* ---- BINARY[] ---- */

#define BINARY_CHUNK (64 * 1024)

struct binary_ctx {
	const unsigned char *msg;
	string_t *dest;
	uint64_t max_size;
	struct message_binary_result *result;
};

static bool binary_failed(const struct binary_ctx *ctx)
{
	return ctx->result->error != MESSAGE_BINARY_OK;
}

static void binary_fail(struct binary_ctx *ctx, enum message_binary_error e)
{
	if (!binary_failed(ctx))
		ctx->result->error = e;
}

static void out_append(struct binary_ctx *ctx, const void *data, size_t size)
{
	if (binary_failed(ctx) || size == 0)
		return;
	if (ctx->max_size != 0 && ctx->result->size + size > ctx->max_size) {
		binary_fail(ctx, MESSAGE_BINARY_ERR_TOO_LARGE);
		return;
	}
	ctx->result->size += size;
	if (ctx->dest != NULL)
		str_append_n(ctx->dest, data, size);
}

/* Copy [start, end) of the message, bare LFs as CRLF, in chunks. */
static void out_crlf_range(struct binary_ctx *ctx, uint64_t start,
			   uint64_t end)
{
	string_t *tmp = str_new(BINARY_CHUNK + 1024);
	bool first = true;

	while (start < end && !binary_failed(ctx)) {
		size_t n = (size_t)MIN(end - start, (uint64_t)BINARY_CHUNK);

		str_truncate(tmp, 0);
		if (!first && ctx->msg[start] == '\n' &&
		    ctx->msg[start - 1] == '\r') {
			/* CRLF split across chunks */
			str_append_c(tmp, '\n');
			message_crlf_append(tmp, ctx->msg + start + 1, n - 1);
		} else {
			message_crlf_append(tmp, ctx->msg + start, n);
		}
		out_append(ctx, str_c(tmp), str_len(tmp));
		start += n;
		first = false;
	}
	str_free(&tmp);
}

/* base64 with Dovecot's error classes. */
struct b64_state {
	unsigned int acc, count;	/* chars in the current group */
	unsigned int pad;
	bool done;			/* padding completed a group */
};

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static enum message_binary_error
b64_decode_more(struct b64_state *st, const unsigned char *p, size_t size,
		string_t *out)
{
	size_t i;

	for (i = 0; i < size; i++) {
		unsigned char c = p[i];
		int v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			if (st->done || st->count < 2)
				return MESSAGE_BINARY_ERR_INVALID;
			st->pad++;
			if (st->count + st->pad == 4)
				st->done = true;
			continue;
		}
		if ((v = b64_value(c)) < 0)
			return MESSAGE_BINARY_ERR_INVALID;
		if (st->done || st->pad > 0)
			return MESSAGE_BINARY_ERR_INVALID;
		st->acc = (st->acc << 6) | (unsigned int)v;
		if (++st->count == 4) {
			char b[3] = { (char)(st->acc >> 16),
				      (char)(st->acc >> 8), (char)st->acc };
			str_append_n(out, b, 3);
			st->acc = 0;
			st->count = 0;
		}
	}
	return MESSAGE_BINARY_OK;
}

static enum message_binary_error b64_finish(struct b64_state *st,
					    string_t *out)
{
	if (st->count == 0)
		return MESSAGE_BINARY_OK;
	if (!st->done)
		return MESSAGE_BINARY_ERR_TRUNCATED;
	if (st->count == 2) {
		str_append_c(out, (char)(st->acc >> 4));
	} else {
		str_append_c(out, (char)(st->acc >> 10));
		str_append_c(out, (char)(st->acc >> 2));
	}
	return MESSAGE_BINARY_OK;
}

static void decode_base64(struct binary_ctx *ctx, uint64_t start,
			  uint64_t end, string_t *out)
{
	struct b64_state st;
	enum message_binary_error err = MESSAGE_BINARY_OK;

	memset(&st, 0, sizeof(st));
	while (start < end && err == MESSAGE_BINARY_OK) {
		size_t n = (size_t)MIN(end - start, (uint64_t)BINARY_CHUNK);

		err = b64_decode_more(&st, ctx->msg + start, n, out);
		start += n;
		if (ctx->max_size != 0 && str_len(out) > ctx->max_size)
			err = MESSAGE_BINARY_ERR_TOO_LARGE;
	}
	if (err == MESSAGE_BINARY_OK)
		err = b64_finish(&st, out);
	if (err != MESSAGE_BINARY_OK)
		binary_fail(ctx, err);
}

static void decode_qp(struct binary_ctx *ctx, uint64_t start, uint64_t end,
		      string_t *out)
{
	struct qp_decoder *qp = qp_decoder_init(out);
	const char *error;
	size_t pos;
	bool invalid = false;

	while (start < end && !invalid) {
		size_t n = (size_t)MIN(end - start, (uint64_t)BINARY_CHUNK);

		if (qp_decoder_more(qp, ctx->msg + start, n, &pos, &error) < 0)
			invalid = true;
		start += n;
		if (ctx->max_size != 0 && str_len(out) > ctx->max_size) {
			binary_fail(ctx, MESSAGE_BINARY_ERR_TOO_LARGE);
			break;
		}
	}
	if (invalid)
		binary_fail(ctx, MESSAGE_BINARY_ERR_INVALID);
	switch (qp_decoder_finish(qp, &error)) {
	case -1:
		binary_fail(ctx, MESSAGE_BINARY_ERR_INVALID);
		break;
	case -2:
		/* Dovecot treats a final lone '=' like truncated base64 */
		binary_fail(ctx, MESSAGE_BINARY_ERR_TRUNCATED);
		break;
	}
	qp_decoder_deinit(&qp);
}

/* BINARY decodes every part without children, even a multipart that
   has none (Dovecot). */
static bool part_is_leaf(const struct message_part *part)
{
	return part->children == NULL;
}

/* Decode a leaf's body into decoded (base64/QP) or return false when
   the body is sent as it is. */
static bool leaf_decode(struct binary_ctx *ctx,
			const struct message_part *part, string_t *decoded)
{
	uint64_t start = message_part_body_offset(part);
	uint64_t end = start + part->body_size.physical_size;

	switch (part->data->cte) {
	case MESSAGE_CTE_78BIT:
	case MESSAGE_CTE_BINARY:
		return false;
	case MESSAGE_CTE_BASE64:
		decode_base64(ctx, start, end, decoded);
		return true;
	case MESSAGE_CTE_QP:
		decode_qp(ctx, start, end, decoded);
		return true;
	case MESSAGE_CTE_UNKNOWN:
		binary_fail(ctx, MESSAGE_BINARY_ERR_UNKNOWN_CTE);
		return true;
	}
	i_unreached();
}

/* A decoded leaf's header: its Content-Transfer-Encoding fields are
   dropped and "Content-Transfer-Encoding: binary" goes last, before the
   blank line (where Dovecot puts it). */
static void out_rewritten_header(struct binary_ctx *ctx,
				 const struct message_part *part)
{
	const unsigned char *hdr = ctx->msg + part->physical_pos;
	uint64_t base = part->physical_pos;
	struct message_header_iter iter;
	struct message_header_line line;
	size_t pos = 0, fields_end = 0;

	message_header_iter_init(&iter, hdr, part->header_size.physical_size);
	while (message_header_iter_next(&iter, &line)) {
		fields_end = line.offset + line.size;
		if (line.no_colon ||
		    !message_header_line_is(&line,
					    "Content-Transfer-Encoding"))
			continue;
		out_crlf_range(ctx, base + pos, base + line.offset);
		pos = fields_end;
	}
	out_crlf_range(ctx, base + pos, base + fields_end);
	out_append(ctx, "Content-Transfer-Encoding: binary\r\n", 35);
	/* the blank line */
	out_crlf_range(ctx, base + fields_end,
		       base + part->header_size.physical_size);
}

static void binary_leaf_body(struct binary_ctx *ctx,
			     const struct message_part *part,
			     bool with_header)
{
	string_t *decoded = str_new(256);
	uint64_t start = message_part_body_offset(part);

	/* NULs in the header or body make Dovecot send a literal8 */
	if ((part->flags & MESSAGE_PART_FLAG_HAS_NULS) != 0)
		ctx->result->literal8 = true;
	if (!leaf_decode(ctx, part, decoded)) {
		if (with_header)
			out_crlf_range(ctx, part->physical_pos, start);
		out_crlf_range(ctx, start,
			       start + part->body_size.physical_size);
	} else if (!binary_failed(ctx)) {
		/* Dovecot counts a part as converted when its encoded body
		   is not empty (even if it decodes to nothing) */
		bool converted = part->body_size.physical_size > 0;

		if (with_header && converted)
			out_rewritten_header(ctx, part);
		else if (with_header)
			out_crlf_range(ctx, part->physical_pos, start);
		if (converted)
			ctx->result->literal8 = true;
		out_append(ctx, str_c(decoded), str_len(decoded));
	}
	str_free(&decoded);
}

static void binary_part(struct binary_ctx *ctx,
			const struct message_part *part, bool with_header);

/* The body of a multipart or message/rfc822 part: boundaries and the
   text between parts as they are, every child converted. */
static void binary_container_body(struct binary_ctx *ctx,
				  const struct message_part *part)
{
	const struct message_part *child;
	uint64_t pos = message_part_body_offset(part);
	uint64_t end = pos + part->body_size.physical_size;

	for (child = part->children; child != NULL && !binary_failed(ctx);
	     child = child->next) {
		out_crlf_range(ctx, pos, child->physical_pos);
		binary_part(ctx, child, true);
		pos = message_part_body_offset(child) +
			child->body_size.physical_size;
	}
	out_crlf_range(ctx, pos, end);
}

/* Recursion is bounded by the parser's nesting limit. */
static void binary_part(struct binary_ctx *ctx,
			const struct message_part *part, bool with_header)
{
	if (part_is_leaf(part)) {
		binary_leaf_body(ctx, part, with_header);
		return;
	}
	/* a container is never decoded, but Dovecot refuses one whose
	   transfer encoding it does not know */
	if (part->data->cte == MESSAGE_CTE_UNKNOWN) {
		binary_fail(ctx, MESSAGE_BINARY_ERR_UNKNOWN_CTE);
		return;
	}
	if (with_header) {
		out_crlf_range(ctx, part->physical_pos,
			       message_part_body_offset(part));
	}
	binary_container_body(ctx, part);
}

static void binary_plain(struct binary_ctx *ctx, pool_t pool,
			 const struct message_part *parts, size_t msg_size,
			 const struct message_section *section)
{
	struct message_section_result res;

	if (message_section_get(pool, parts, ctx->msg, msg_size, section,
				&res) <= 0)
		return;
	if (res.data == NULL)
		out_crlf_range(ctx, res.offset, res.offset + res.size);
	else
		out_append(ctx, res.data, res.data_size);
}

int message_section_binary(const struct message_part *parts,
			   const void *msg, size_t msg_size,
			   const struct message_section *section,
			   string_t *dest, uint64_t max_size,
			   struct message_binary_result *result_r)
{
	struct binary_ctx ctx;
	const struct message_part *part, *m;
	size_t dest_start = dest == NULL ? 0 : str_len(dest), i;
	pool_t pool;

	memset(result_r, 0, sizeof(*result_r));
	memset(&ctx, 0, sizeof(ctx));
	ctx.msg = msg;
	ctx.dest = dest;
	ctx.max_size = max_size;
	ctx.result = result_r;
	if (message_part_find(parts, section->part_path, &part) <= 0)
		return 0;
	/* NULs in a leaf's header or body: Dovecot sends literal8 (a
	   container's own NULs do not count) */
	if (part->children == NULL &&
	    (part->flags & MESSAGE_PART_FLAG_HAS_NULS) != 0)
		result_r->literal8 = true;
	switch (section->type) {
	case MESSAGE_SECTION_BODY:
		binary_part(&ctx, part, section->part_path[0] == '\0');
		break;
	case MESSAGE_SECTION_TEXT:
		if ((m = section_message(section, part)) != NULL)
			binary_part(&ctx, m, false);
		break;
	default:
		pool = pool_create("binary section", 1024);
		binary_plain(&ctx, pool, parts, msg_size, section);
		pool_destroy(&pool);
		break;
	}
	if (!result_r->literal8 && dest != NULL) {
		/* a plain literal cannot carry NULs: Dovecot sends 0x80 */
		for (i = dest_start; i < str_len(dest); i++) {
			if (dest->data[i] == '\0')
				dest->data[i] = (char)0x80;
		}
	}
	return binary_failed(&ctx) ? -1 : 0;
}

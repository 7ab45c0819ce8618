/* message-parser.c - one forward pass over an in-memory message building
 * the MIME part tree. Iterative: open parts are reached through parent
 * links and the active boundaries live in an array, so hostile nesting
 * costs memory per part, never stack. */
#include "message-parser.h"
#include "message-part-data.h"
#include "array.h"

#include <strings.h>

struct boundary {
	const char *str;
	size_t len;
	struct message_part *part;	/* the multipart that owns it */
};

/* Cumulative line / bare-LF counts up to pos; only moves forward. */
struct size_cursor {
	size_t pos;
	uint64_t lines, bare_lfs;
};

struct parser_ctx {
	pool_t pool;
	const unsigned char *data;
	size_t size;
	unsigned int max_nested, max_total;

	ARRAY(struct boundary) boundaries;	/* innermost last */
	unsigned int total_parts;
	bool boundaries_stopped;	/* the total limit was reached */

	struct message_part *part;	/* deepest open part */
	struct size_cursor cursor;

	/* Where the current header or body segment began, and the part
	   whose header ended there (NULL after a boundary line): decides
	   who loses the line end before a boundary. */
	size_t seg_start;
	struct message_part *seg_header_part;
};

/* What a boundary line found at a line start means. */
struct boundary_hit {
	size_t idx;		/* in ctx->boundaries */
	size_t line_start;	/* offset of "--" */
	size_t line_end;	/* just past the line's LF (or size) */
	bool is_end;		/* "--boundary--" */
};

static void cursor_advance(struct parser_ctx *ctx, size_t pos)
{
	struct size_cursor *c = &ctx->cursor;
	const unsigned char *p;

	if (pos < c->pos) {
		/* never expected: recount from the start */
		memset(c, 0, sizeof(*c));
	}
	while ((p = memchr(ctx->data + c->pos, '\n', pos - c->pos)) != NULL) {
		size_t i = (size_t)(p - ctx->data);

		c->lines++;
		if (i == 0 || ctx->data[i - 1] != '\r')
			c->bare_lfs++;
		c->pos = i + 1;
	}
	c->pos = pos;
}

/* Size of [start, end); start must be >= every earlier call's end. */
static void range_size(struct parser_ctx *ctx, size_t start, size_t end,
		       struct message_size *size_r)
{
	uint64_t lines0, bare0;

	cursor_advance(ctx, start);
	lines0 = ctx->cursor.lines;
	bare0 = ctx->cursor.bare_lfs;
	cursor_advance(ctx, end);
	size_r->physical_size = end - start;
	size_r->lines = ctx->cursor.lines - lines0;
	size_r->virtual_size = size_r->physical_size +
		(ctx->cursor.bare_lfs - bare0);
	/* a range starting at the LF of a CRLF counts it as bare */
	if (end > start && ctx->data[start] == '\n' && start > 0 &&
	    ctx->data[start - 1] == '\r')
		size_r->virtual_size++;
}

/* Bodies of nested parts overlap, so a body's size is taken as the
   difference of the cumulative counts at its start and at its end. Until
   the part is closed its body_size holds the counts at the start. */
static void body_size_begin(struct parser_ctx *ctx, struct message_part *part)
{
	size_t start = message_part_body_offset(part);

	cursor_advance(ctx, start);
	part->body_size.lines = ctx->cursor.lines;
	part->body_size.virtual_size = ctx->cursor.bare_lfs;
}

static void body_size_end(struct parser_ctx *ctx, struct message_part *part,
			  size_t end)
{
	size_t start = message_part_body_offset(part);

	cursor_advance(ctx, end);
	part->body_size.physical_size = end - start;
	part->body_size.lines = ctx->cursor.lines - part->body_size.lines;
	part->body_size.virtual_size = part->body_size.physical_size +
		(ctx->cursor.bare_lfs - part->body_size.virtual_size);
	if (end > start && ctx->data[start] == '\n' && start > 0 &&
	    ctx->data[start - 1] == '\r')
		part->body_size.virtual_size++;
}

void message_size_count(const unsigned char *data, size_t start,
			size_t end, struct message_size *size_r)
{
	size_t i;

	memset(size_r, 0, sizeof(*size_r));
	size_r->physical_size = end - start;
	for (i = start; i < end; i++) {
		if (data[i] != '\n')
			continue;
		size_r->lines++;
		if (i == start || data[i - 1] != '\r')
			size_r->virtual_size++;
	}
	size_r->virtual_size += size_r->physical_size;
}

static struct message_part *part_new(struct parser_ctx *ctx,
				     struct message_part *parent, size_t pos)
{
	struct message_part *part = p_new(ctx->pool, struct message_part, 1);
	struct message_part **pp;

	part->parent = parent;
	part->physical_pos = pos;
	part->data = p_new(ctx->pool, struct message_part_data, 1);
	if (parent != NULL) {
		part->depth = parent->depth + 1;
		for (pp = &parent->children; *pp != NULL; pp = &(*pp)->next) ;
		*pp = part;
		parent->children_count++;
	}
	if (++ctx->total_parts >= ctx->max_total)
		ctx->boundaries_stopped = true;
	return part;
}

/* Is the line at pos a boundary line of an active boundary? */
static bool boundary_line_find(struct parser_ctx *ctx, size_t pos,
			       struct boundary_hit *hit_r)
{
	const unsigned char *q = ctx->data + pos + 2, *lf;
	size_t left, find_size, i, best = SIZE_MAX;
	bool trailing_dashes = false;

	if (ctx->boundaries.count == 0 || ctx->boundaries_stopped ||
	    ctx->size - pos < 2 || ctx->data[pos] != '-' ||
	    ctx->data[pos + 1] != '-')
		return false;
	left = ctx->size - pos - 2;
	lf = memchr(q, '\n', left);
	if (lf != NULL) {
		find_size = (size_t)(lf - q);
		if (find_size > 0 && q[find_size - 1] == '\r')
			find_size--;
		trailing_dashes = find_size > 2 && q[find_size - 1] == '-' &&
			q[find_size - 2] == '-';
	} else {
		find_size = MIN(left, (size_t)MESSAGE_BOUNDARY_MAX_LEN + 4);
	}
	/* innermost first; the longest prefix wins, an exact match ends
	   the search */
	for (i = ctx->boundaries.count; i-- > 0; ) {
		const struct boundary *b = &ctx->boundaries.v[i];

		if (b->len > find_size || memcmp(b->str, q, b->len) != 0 ||
		    (best != SIZE_MAX && ctx->boundaries.v[best].len >= b->len))
			continue;
		best = i;
		if (b->len == find_size ||
		    (trailing_dashes && b->len + 2 == find_size))
			break;
	}
	if (best == SIZE_MAX)
		return false;
	hit_r->idx = best;
	hit_r->line_start = pos;
	hit_r->line_end = lf == NULL ? ctx->size : (size_t)(lf - ctx->data) + 1;
	i = ctx->boundaries.v[best].len;
	hit_r->is_end = left >= i + 2 && q[i] == '-' && q[i + 1] == '-';
	return true;
}

static size_t line_next(const struct parser_ctx *ctx, size_t pos)
{
	const unsigned char *lf = memchr(ctx->data + pos, '\n',
					 ctx->size - pos);

	return lf == NULL ? ctx->size : (size_t)(lf - ctx->data) + 1;
}

/* Where a part ends when a boundary line starts at line_start: the line
   end before it belongs to the boundary, unless it is before min. */
static size_t end_before_boundary(const struct parser_ctx *ctx,
				  size_t line_start, size_t min)
{
	size_t end = line_start;

	if (end > min && ctx->data[end - 1] == '\n') {
		end--;
		if (end > min && ctx->data[end - 1] == '\r')
			end--;
	}
	return end;
}

/* Find the end of the header starting at start: a blank line (included)
   or a boundary line (not included). */
static bool header_find_end(struct parser_ctx *ctx, size_t start,
			    size_t *hdr_end_r, struct boundary_hit *hit_r)
{
	size_t pos = start;

	while (pos < ctx->size) {
		if (boundary_line_find(ctx, pos, hit_r)) {
			/* handle_boundary() takes the line end off */
			*hdr_end_r = pos;
			return true;
		}
		if (ctx->data[pos] == '\n') {
			*hdr_end_r = pos + 1;
			return false;
		}
		if (ctx->data[pos] == '\r' && pos + 1 < ctx->size &&
		    ctx->data[pos + 1] == '\n') {
			*hdr_end_r = pos + 2;
			return false;
		}
		pos = line_next(ctx, pos);
	}
	*hdr_end_r = ctx->size;
	return false;
}

/* The Content-Type reading that decides the structure (flags and
   boundary); message-part-data.c keeps the BODYSTRUCTURE view. */
static void parse_structure_content_type(struct parser_ctx *ctx,
					 struct message_part *part,
					 const struct message_header_line *line,
					 const char **boundary_r)
{
	struct rfc822_parser parser;
	string_t *value = str_new(line->value_len + 1), *ct = str_new(64);
	const char *t;
	struct mime_param *params;
	unsigned int i, count;
	int ret;

	message_header_value_get(line, value);
	rfc822_parser_init(&parser, str_c(value), str_len(value), NULL);
	(void)rfc822_skip_lwsp(&parser);
	ret = rfc822_parse_content_type(&parser, ct);
	t = str_c(ct);
	if (strcasecmp(t, "message/rfc822") == 0)
		part->flags |= MESSAGE_PART_FLAG_MESSAGE_RFC822;
	else if (strncasecmp(t, "text", 4) == 0 && (t[4] == '\0' || t[4] == '/'))
		part->flags |= MESSAGE_PART_FLAG_TEXT;
	else if (strncasecmp(t, "multipart/", 10) == 0) {
		part->flags |= MESSAGE_PART_FLAG_MULTIPART;
		if (strcasecmp(t + 10, "digest") == 0)
			part->flags |= MESSAGE_PART_FLAG_MULTIPART_DIGEST;
	}
	if (ret >= 0 && (part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0) {
		(void)rfc2231_parse(&parser, ctx->pool, &params, &count);
		for (i = 0; i < count; i++) {
			if (strcasecmp(params[i].name, "boundary") == 0) {
				*boundary_r = p_strndup(ctx->pool,
					params[i].value,
					strnlen(params[i].value,
						MESSAGE_BOUNDARY_MAX_LEN));
				break;
			}
		}
	}
	str_free(&value);
	str_free(&ct);
}

static bool envelope_wanted(const struct message_part *part)
{
	return part->parent == NULL ||
		(part->parent->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) != 0;
}

/* Read the fields of part's header [start, end). */
static void parse_header_fields(struct parser_ctx *ctx,
				struct message_part *part, size_t start,
				size_t end, const char **boundary_r)
{
	struct message_header_iter iter;
	struct message_header_line line;
	bool seen_content_type = false, want_env = envelope_wanted(part);

	/* a multipart's children are MIME parts whatever their header */
	if (part->parent != NULL &&
	    (part->parent->flags & MESSAGE_PART_FLAG_MULTIPART) != 0)
		part->flags |= MESSAGE_PART_FLAG_IS_MIME;
	message_header_iter_init(&iter, ctx->data + start, end - start);
	while (message_header_iter_next(&iter, &line)) {
		if (line.has_nuls)
			part->flags |= MESSAGE_PART_FLAG_HAS_NULS;
		if (message_header_line_is(&line, "MIME-Version")) {
			part->flags |= MESSAGE_PART_FLAG_IS_MIME;
		} else if (message_header_line_is(&line, "Content-Type") &&
			   !line.no_colon) {
			part->flags |= MESSAGE_PART_FLAG_IS_MIME;
			if (!seen_content_type)
				parse_structure_content_type(ctx, part, &line,
							     boundary_r);
			seen_content_type = true;
		}
		message_part_data_add_header(ctx->pool, part, &line, want_env);
	}
	if (want_env && part->data->envelope == NULL) {
		part->data->envelope = p_new(ctx->pool,
					     struct message_part_envelope, 1);
	}
	if ((part->flags & MESSAGE_PART_FLAG_IS_MIME) == 0) {
		/* not MIME: whatever Content-Type said does not count */
		part->flags &= MESSAGE_PART_FLAG_HAS_NULS;
		*boundary_r = NULL;
	}
	if (!seen_content_type || (part->flags & MESSAGE_PART_FLAG_IS_MIME) == 0) {
		if (part->parent != NULL && (part->parent->flags &
		    MESSAGE_PART_FLAG_MULTIPART_DIGEST) != 0)
			part->flags |= MESSAGE_PART_FLAG_MESSAGE_RFC822;
		else
			part->flags |= MESSAGE_PART_FLAG_TEXT;
	}
	message_part_data_finish(part);
}

/* Can part hold parts? The nesting limit applies to both kinds; the
   total limit only to message/rfc822 (a multipart past it simply never
   finds a boundary, as in Dovecot). */
static bool container_allowed(const struct parser_ctx *ctx,
			      const struct message_part *part)
{
	if (part->depth + 1 >= ctx->max_nested)
		return false;
	return (part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) == 0 ||
		ctx->total_parts < ctx->max_total;
}

static void boundary_push(struct parser_ctx *ctx, struct message_part *part,
			  const char *str)
{
	struct boundary *b = array_append_space(&ctx->boundaries);

	b->str = str;
	b->len = strlen(str);
	b->part = part;
}

/* Close ctx->part with its body ending at end (never before the body
   start) and make its parent current. */
static void part_close(struct parser_ctx *ctx, size_t end)
{
	struct message_part *part = ctx->part;
	size_t body_start = message_part_body_offset(part);

	size_t own_end;

	if (end < body_start)
		end = body_start;
	body_size_end(ctx, part, end);
	/* NULs in the body of a part without children (a multipart that
	   found no boundary counts; a preamble or epilogue does not, as in
	   Dovecot) */
	own_end = part->children != NULL ? body_start : end;
	if (own_end > body_start &&
	    memchr(ctx->data + body_start, '\0', own_end - body_start) != NULL)
		part->flags |= MESSAGE_PART_FLAG_HAS_NULS;
	ctx->part = part->parent;
}

enum parse_step { STEP_HEADER, STEP_SCAN, STEP_DONE };

/* Take the line end before a boundary off a header that ran into it
   (the body is empty). */
static void header_drop_line_end(struct message_part *part, size_t nl)
{
	part->header_size.physical_size -= nl;
	part->header_size.virtual_size -= 2;
	part->header_size.lines--;
	memset(&part->body_size, 0, sizeof(part->body_size));
}

static bool part_is_below(const struct message_part *part,
			  const struct message_part *ancestor)
{
	for (part = part->parent; part != NULL; part = part->parent) {
		if (part == ancestor)
			return true;
	}
	return false;
}

/* The part whose header holds the line end before a boundary line at
   line_start, or NULL if that line end is not taken from a header. */
static struct message_part *
boundary_header_victim(struct parser_ctx *ctx, struct message_part *owner,
		       size_t line_start, struct message_part *hdr_part)
{
	struct message_part *x;

	if (hdr_part != NULL && hdr_part->physical_pos < line_start)
		x = hdr_part;	/* a header ran into the boundary */
	else if (line_start == ctx->seg_start)
		x = ctx->seg_header_part; /* right after a blank line */
	else
		return NULL;
	return x != NULL && part_is_below(x, owner) ? x : NULL;
}

/* Close the parts inside owner for a boundary line at line_start. The
   line end before it is not counted in the innermost content: when
   that is a body, every closed part ends before it; when it ends a
   header (the boundary came first thing after it), only that header
   loses it and the enclosing parts keep it. Right after another
   boundary line nobody loses anything. hdr_part: the part whose header
   scan found the boundary. */
static void close_parts_at_boundary(struct parser_ctx *ctx,
				    struct message_part *owner,
				    size_t line_start,
				    struct message_part *hdr_part)
{
	size_t end = end_before_boundary(ctx, line_start, 0);
	struct message_part *x, *p;

	x = boundary_header_victim(ctx, owner, line_start, hdr_part);
	if (x == NULL || end == line_start) {
		if (hdr_part == NULL && line_start != ctx->seg_start)
			line_start = end;
		while (ctx->part != owner)
			part_close(ctx, line_start);
		return;
	}
	/* the empty parts inside x move to x's new end */
	while (ctx->part != x) {
		p = ctx->part;
		part_close(ctx, line_start);
		p->physical_pos = end;
	}
	header_drop_line_end(x, line_start - end);
	ctx->part = x->parent;
	while (ctx->part != owner)
		part_close(ctx, line_start);
}

/* A boundary line was found: close the parts inside its multipart and
   start the next sibling, or go on with the multipart's epilogue. */
static enum parse_step handle_boundary(struct parser_ctx *ctx,
				       const struct boundary_hit *hit,
				       struct message_part *hdr_part,
				       size_t *pos_r)
{
	struct message_part *owner = ctx->boundaries.v[hit->idx].part;

	close_parts_at_boundary(ctx, owner, hit->line_start, hdr_part);
	/* boundaries of the closed parts are gone; a final one goes too */
	ctx->boundaries.count = hit->idx + (hit->is_end ? 0 : 1);
	*pos_r = hit->line_end;
	ctx->seg_start = hit->line_end;
	ctx->seg_header_part = NULL;
	/* a boundary line cut by the end of the message starts nothing */
	if (hit->is_end || ctx->data[hit->line_end - 1] != '\n')
		return STEP_SCAN;
	ctx->part = part_new(ctx, owner, hit->line_end);
	return STEP_HEADER;
}

static enum parse_step parse_header_step(struct parser_ctx *ctx, size_t *pos)
{
	struct message_part *part = ctx->part;
	struct boundary_hit hit;
	const char *boundary = NULL;
	size_t hdr_end;
	bool at_boundary;

	at_boundary = header_find_end(ctx, *pos, &hdr_end, &hit);
	range_size(ctx, *pos, hdr_end, &part->header_size);
	body_size_begin(ctx, part);
	parse_header_fields(ctx, part, *pos, hdr_end, &boundary);
	*pos = hdr_end;
	if ((part->flags & (MESSAGE_PART_FLAG_MULTIPART |
			    MESSAGE_PART_FLAG_MESSAGE_RFC822)) != 0 &&
	    !container_allowed(ctx, part)) {
		part->flags &= ~(MESSAGE_PART_FLAG_MULTIPART |
				 MESSAGE_PART_FLAG_MULTIPART_DIGEST |
				 MESSAGE_PART_FLAG_MESSAGE_RFC822);
		part->flags |= MESSAGE_PART_FLAG_OVERFLOW;
	}
	if (at_boundary) {
		/* no body; a message/rfc822 part still holds an (empty)
		   message */
		if ((part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) != 0) {
			ctx->part = part_new(ctx, part, *pos);
			range_size(ctx, *pos, *pos, &ctx->part->header_size);
			body_size_begin(ctx, ctx->part);
			parse_header_fields(ctx, ctx->part, *pos, *pos,
					    &boundary);
		}
		return handle_boundary(ctx, &hit, part, pos);
	}
	ctx->seg_start = *pos;
	ctx->seg_header_part = part;
	if ((part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0 &&
	    boundary != NULL) {
		boundary_push(ctx, part, boundary);
	} else if ((part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) != 0) {
		ctx->part = part_new(ctx, part, *pos);
		return STEP_HEADER;
	}
	return STEP_SCAN;
}

/* Look for the next boundary line from pos; at the end of the data close
   every open part. */
static enum parse_step parse_scan_step(struct parser_ctx *ctx, size_t *pos)
{
	struct boundary_hit hit;
	size_t p = *pos;

	if (ctx->boundaries.count > 0) {
		while (p < ctx->size && !ctx->boundaries_stopped) {
			if (boundary_line_find(ctx, p, &hit))
				return handle_boundary(ctx, &hit, NULL, pos);
			p = line_next(ctx, p);
		}
	}
	while (ctx->part != NULL)
		part_close(ctx, ctx->size);
	return STEP_DONE;
}

void message_parse_settings(pool_t pool, const void *data, size_t size,
			    const struct message_parser_settings *set,
			    struct message_part **parts_r)
{
	struct parser_ctx ctx;
	struct message_part *root;
	enum parse_step step = STEP_HEADER;
	size_t pos = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.data = data;
	ctx.size = size;
	ctx.max_nested = set != NULL && set->max_nested_mime_parts > 0 ?
		set->max_nested_mime_parts :
		MESSAGE_PARSER_DEFAULT_MAX_NESTED_MIME_PARTS;
	ctx.max_total = set != NULL && set->max_total_mime_parts > 0 ?
		set->max_total_mime_parts :
		MESSAGE_PARSER_DEFAULT_MAX_TOTAL_MIME_PARTS;
	/* the writers recurse once per level */
	if (ctx.max_nested > MESSAGE_PARSER_MAX_NESTED_LIMIT)
		ctx.max_nested = MESSAGE_PARSER_MAX_NESTED_LIMIT;
	root = ctx.part = part_new(&ctx, NULL, 0);
	while (step != STEP_DONE) {
		if (step == STEP_HEADER)
			step = parse_header_step(&ctx, &pos);
		else
			step = parse_scan_step(&ctx, &pos);
	}
	array_free(&ctx.boundaries);
	*parts_r = root;
}

void message_parse(pool_t pool, const void *data, size_t size,
		   struct message_part **parts_r)
{
	message_parse_settings(pool, data, size, NULL, parts_r);
}

unsigned int message_part_count(const struct message_part *part)
{
	const struct message_part *p = part;
	unsigned int count = 0;

	/* pre-order walk without recursion */
	while (p != NULL) {
		count++;
		if (p->children != NULL) {
			p = p->children;
			continue;
		}
		while (p != part && p->next == NULL)
			p = p->parent;
		if (p == part)
			break;
		p = p->next;
	}
	return count;
}

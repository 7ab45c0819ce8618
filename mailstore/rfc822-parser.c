/* rfc822-parser.c - RFC 5322 / RFC 2045 tokens and RFC 2231 parameters,
 * with Dovecot 2.3's leniency (observed against doveadm/imap 2.3.19). */
#include "rfc822-parser.h"
#include "array.h"
#include "hex.h"

#include <strings.h>

/* RFC 5322 atext: ALPHA DIGIT and these, plus every 8-bit byte. */
static const char atext_specials[] = "!#$%&'*+-/=?^_`{|}~";

bool rfc822_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr(atext_specials, c) != NULL;
}

static bool is_token_char(unsigned char c)
{
	if (c == '.')
		return true;
	return rfc822_is_atext(c) && c != '/' && c != '=' && c != '?';
}

void rfc822_parser_init(struct rfc822_parser *ctx, const void *data,
			size_t size, string_t *last_comment)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->data = data;
	ctx->end = ctx->data + size;
	ctx->last_comment = last_comment;
}

static void comment_append(struct rfc822_parser *ctx,
			   const unsigned char *start,
			   const unsigned char *end)
{
	if (ctx->last_comment != NULL && end > start)
		str_append_n(ctx->last_comment, start, (size_t)(end - start));
}

int rfc822_skip_comment(struct rfc822_parser *ctx)
{
	const unsigned char *start;
	unsigned int level = 1;

	i_assert(*ctx->data == '(');
	if (ctx->last_comment != NULL)
		str_truncate(ctx->last_comment, 0);
	start = ++ctx->data;
	for (; ctx->data < ctx->end; ctx->data++) {
		switch (*ctx->data) {
		case '(':
			level++;
			break;
		case ')':
			if (--level > 0)
				break;
			comment_append(ctx, start, ctx->data);
			ctx->data++;
			return 1;
		case '\n': {
			/* folding: drop the line end, keep the whitespace */
			const unsigned char *e = ctx->data;

			if (e > start && e[-1] == '\r')
				e--;
			comment_append(ctx, start, e);
			start = ctx->data + 1;
			break;
		}
		case '\\':
			if (ctx->data + 1 >= ctx->end)
				return -1;
			comment_append(ctx, start, ctx->data);
			start = ++ctx->data;
			break;
		default:
			break;
		}
	}
	return -1; /* missing ')' */
}

int rfc822_skip_lwsp(struct rfc822_parser *ctx)
{
	while (ctx->data < ctx->end) {
		unsigned char c = *ctx->data;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			ctx->data++;
			continue;
		}
		if (c != '(')
			break;
		if (rfc822_skip_comment(ctx) < 0)
			return -1;
	}
	return ctx->data < ctx->end ? 1 : 0;
}

int rfc822_parse_atom_or_dot(struct rfc822_parser *ctx, string_t *str)
{
	const unsigned char *start = ctx->data;

	while (ctx->data < ctx->end &&
	       (rfc822_is_atext(*ctx->data) || *ctx->data == '.'))
		ctx->data++;
	str_append_n(str, start, (size_t)(ctx->data - start));
	if (ctx->data >= ctx->end)
		return 0;
	return rfc822_skip_lwsp(ctx);
}

int rfc822_parse_quoted_string(struct rfc822_parser *ctx, string_t *str)
{
	const unsigned char *start;

	i_assert(ctx->data < ctx->end && *ctx->data == '"');
	start = ++ctx->data;
	for (; ctx->data < ctx->end; ctx->data++) {
		switch (*ctx->data) {
		case '\0':
			if (ctx->nul_replacement == NULL)
				break;
			str_append_n(str, start, (size_t)(ctx->data - start));
			str_append(str, ctx->nul_replacement);
			start = ctx->data + 1;
			break;
		case '"':
			str_append_n(str, start, (size_t)(ctx->data - start));
			ctx->data++;
			return rfc822_skip_lwsp(ctx);
		case '\r':
		case '\n':
			/* folding inside the string: drop the line end */
			str_append_n(str, start, (size_t)(ctx->data - start));
			start = ctx->data + 1;
			break;
		case '\\':
			if (ctx->data + 1 >= ctx->end)
				return -1;
			str_append_n(str, start, (size_t)(ctx->data - start));
			start = ++ctx->data;
			break;
		default:
			break;
		}
	}
	return -1; /* missing '"' */
}

int rfc822_parse_phrase(struct rfc822_parser *ctx, string_t *str)
{
	int ret;

	if (ctx->data >= ctx->end)
		return 0;
	if (*ctx->data == '.')
		return -1;
	for (;;) {
		if (*ctx->data == '"')
			ret = rfc822_parse_quoted_string(ctx, str);
		else
			ret = rfc822_parse_atom_or_dot(ctx, str);
		if (ret <= 0)
			return ret;
		if (!rfc822_is_atext(*ctx->data) && *ctx->data != '"' &&
		    *ctx->data != '.')
			break;
		str_append_c(str, ' ');
	}
	return rfc822_skip_lwsp(ctx);
}

int rfc822_parse_local_dot_atom(struct rfc822_parser *ctx, string_t *str)
{
	int ret;

	for (;;) {
		const unsigned char *start = ctx->data;

		while (ctx->data < ctx->end &&
		       (rfc822_is_atext(*ctx->data) || *ctx->data == '.'))
			ctx->data++;
		if (ctx->data == start)
			return -1;
		str_append_n(str, start, (size_t)(ctx->data - start));
		if (ctx->data[-1] == '.') {
			/* after a final dot only "@" or the end may come */
			if (ctx->data >= ctx->end)
				return 0;
			if (*ctx->data != '@')
				return -1;
		}
		if ((ret = rfc822_skip_lwsp(ctx)) <= 0)
			return ret;
		if (*ctx->data != '.')
			return 1;
	}
}

static int parse_domain_literal(struct rfc822_parser *ctx, string_t *str)
{
	const unsigned char *start = ctx->data;

	for (ctx->data++; ctx->data < ctx->end; ctx->data++) {
		if (*ctx->data == '\\') {
			if (++ctx->data >= ctx->end)
				break;
		} else if (*ctx->data == ']') {
			ctx->data++;
			str_append_n(str, start, (size_t)(ctx->data - start));
			return rfc822_skip_lwsp(ctx);
		}
	}
	return -1;
}

static int parse_strict_dot_atom(struct rfc822_parser *ctx, string_t *str)
{
	int ret;

	for (;;) {
		const unsigned char *start = ctx->data;

		while (ctx->data < ctx->end && rfc822_is_atext(*ctx->data))
			ctx->data++;
		if (ctx->data == start)
			return -1;
		str_append_n(str, start, (size_t)(ctx->data - start));
		if ((ret = rfc822_skip_lwsp(ctx)) <= 0)
			return ret;
		if (*ctx->data != '.')
			return 1;
		ctx->data++;
		str_append_c(str, '.');
		if (rfc822_skip_lwsp(ctx) <= 0)
			return -1; /* trailing dot */
	}
}

int rfc822_parse_domain(struct rfc822_parser *ctx, string_t *str)
{
	i_assert(ctx->data < ctx->end && *ctx->data == '@');
	ctx->data++;
	if (rfc822_skip_lwsp(ctx) <= 0)
		return -1;
	if (*ctx->data == '[')
		return parse_domain_literal(ctx, str);
	return parse_strict_dot_atom(ctx, str);
}

int rfc822_parse_mime_token(struct rfc822_parser *ctx, string_t *str)
{
	const unsigned char *start = ctx->data;

	while (ctx->data < ctx->end && is_token_char(*ctx->data))
		ctx->data++;
	/* Dovecot: a NUL right after a token breaks it (unless NULs are
	   being replaced, as inside parameter lists) */
	if (ctx->data < ctx->end && *ctx->data == '\0' &&
	    ctx->nul_replacement == NULL)
		return -1;
	str_append_n(str, start, (size_t)(ctx->data - start));
	if (ctx->data >= ctx->end)
		return 0;
	return rfc822_skip_lwsp(ctx);
}

int rfc822_parse_content_type(struct rfc822_parser *ctx, string_t *str)
{
	size_t start_len = str_len(str), sub_start;

	if (rfc822_skip_lwsp(ctx) <= 0)
		return -1;
	/* the main type; at the end of input it stays in str */
	if (rfc822_parse_mime_token(ctx, str) <= 0 ||
	    str_len(str) == start_len)
		return -1;
	if (*ctx->data != '/') {
		str_truncate(str, start_len);
		return -1;
	}
	ctx->data++;
	if (rfc822_skip_lwsp(ctx) <= 0) {
		str_truncate(str, start_len);
		return -1;
	}
	str_append_c(str, '/');
	sub_start = str_len(str);
	if (rfc822_parse_mime_token(ctx, str) < 0 ||
	    str_len(str) == sub_start ||
	    (ctx->data < ctx->end && *ctx->data != ';')) {
		/* "type/subtype junk" is no content type at all */
		str_truncate(str, start_len);
		return -1;
	}
	return ctx->data < ctx->end ? 1 : 0;
}

/* The "name==?utf-8?b?...?=" mailers write: taken up to ';' or space. */
static void parse_broken_encoded_value(struct rfc822_parser *ctx,
				       string_t *value)
{
	while (ctx->data < ctx->end && *ctx->data != ';' &&
	       *ctx->data != ' ' && *ctx->data != '\t' &&
	       *ctx->data != '\r' && *ctx->data != '\n') {
		str_append_c(value, (char)*ctx->data);
		ctx->data++;
	}
}

int rfc822_parse_content_param(struct rfc822_parser *ctx, string_t *key,
			       string_t *value)
{
	int ret;

	str_truncate(key, 0);
	str_truncate(value, 0);
	if (ctx->data >= ctx->end)
		return 0;
	if (*ctx->data != ';')
		return -1;
	ctx->data++;
	if (rfc822_skip_lwsp(ctx) <= 0)
		return -1;
	if (rfc822_parse_mime_token(ctx, key) <= 0)
		return -1;
	if (*ctx->data != '=')
		return -1;
	ctx->data++;
	if ((ret = rfc822_skip_lwsp(ctx)) <= 0) {
		/* no value */
	} else if (*ctx->data == '"') {
		ret = rfc822_parse_quoted_string(ctx, value);
	} else if (*ctx->data == '=') {
		parse_broken_encoded_value(ctx, value);
	} else {
		ret = rfc822_parse_mime_token(ctx, value);
	}
	return ret < 0 ? -1 : 1;
}

/* ---- RFC 2231 ---- */

struct rfc2231_piece {
	const char *key, *value;
	unsigned int idx;
	bool extended;
};

static int rfc2231_piece_cmp(const void *p1, const void *p2)
{
	const struct rfc2231_piece *a = p1, *b = p2;
	int ret = strcmp(a->key, b->key);

	if (ret != 0)
		return ret;
	return a->idx < b->idx ? -1 : (a->idx > b->idx ? 1 : 0);
}

struct rfc2231_ctx {
	pool_t pool;
	ARRAY(struct mime_param) result;
	ARRAY(struct rfc2231_piece) pieces;
	/* Dovecot keeps the index of the previous "name*N" for a bare
	   "name*"; so do we. */
	struct rfc2231_piece cur;
};

static void result_add(struct rfc2231_ctx *rc, const char *key,
		       const char *value)
{
	struct mime_param *p = array_append_space(&rc->result);

	p->name = key;
	p->value = value;
}

/* Sort "key*N[*]" into the pieces, or return false for a plain key. */
static bool rfc2231_piece_add(struct rfc2231_ctx *rc, const char *key,
			      const char *value)
{
	const char *star = strchr(key, '*'), *p = star;

	if (star == NULL)
		return false;
	if (p[1] != '\0') {
		p++;
		rc->cur.idx = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			rc->cur.idx = rc->cur.idx * 10 + (unsigned int)(*p - '0');
	}
	rc->cur.extended = *p == '*';
	if (rc->cur.extended)
		p++;
	if (*p != '\0')
		return false;
	rc->cur.key = p_strndup(rc->pool, key, (size_t)(star - key));
	rc->cur.value = value;
	array_push(&rc->pieces, rc->cur);
	return true;
}

static void rfc2231_escape(string_t *dest, const char *src)
{
	for (; *src != '\0'; src++) {
		if (*src == '%')
			str_append(dest, "%25");
		else
			str_append_c(dest, *src);
	}
}

/* Merge pieces [first, last) of one key. */
static void rfc2231_merge(struct rfc2231_ctx *rc, unsigned int first,
			  unsigned int last, string_t *tmp)
{
	const struct rfc2231_piece *pc = rc->pieces.v;
	bool ok = true, have_extended = false;
	unsigned int i;

	for (i = first; i < last; i++) {
		if (pc[i].idx != i - first)
			ok = false;
		if (pc[i].extended)
			have_extended = true;
	}
	if (!ok) {
		for (i = first; i < last; i++) {
			result_add(rc, p_strdup_printf(rc->pool,
				pc[i].extended ? "%s*%u*" : "%s*%u",
				pc[i].key, pc[i].idx), pc[i].value);
		}
		return;
	}
	str_truncate(tmp, 0);
	if (!pc[first].extended && have_extended)
		str_append(tmp, "''");
	for (i = first; i < last; i++) {
		if (!pc[i].extended && have_extended)
			rfc2231_escape(tmp, pc[i].value);
		else
			str_append(tmp, pc[i].value);
	}
	result_add(rc, have_extended ?
		   p_strdup_printf(rc->pool, "%s*", pc[first].key) :
		   pc[first].key, p_strdup(rc->pool, str_c(tmp)));
}

static void rfc2231_collect(struct rfc822_parser *ctx,
			    struct rfc2231_ctx *rc, bool *broken_r)
{
	string_t *key = str_new(64), *value = str_new(128);
	int ret;

	while ((ret = rfc822_parse_content_param(ctx, key, value)) != 0) {
		const char *k, *v;

		if (ret < 0) {
			/* skip a byte and try again */
			*broken_r = true;
			if (ctx->data >= ctx->end)
				break;
			ctx->data++;
			continue;
		}
		k = p_strdup(rc->pool, str_c(key));
		v = p_strdup(rc->pool, str_c(value));
		if (!rfc2231_piece_add(rc, k, v))
			result_add(rc, k, v);
	}
	str_free(&key);
	str_free(&value);
}

int rfc2231_parse(struct rfc822_parser *ctx, pool_t pool,
		  struct mime_param **params_r, unsigned int *count_r)
{
	struct rfc2231_ctx rc;
	const char *prev_nul = ctx->nul_replacement;
	bool broken = false;
	unsigned int i, j;

	memset(&rc, 0, sizeof(rc));
	rc.pool = pool;
	ctx->nul_replacement = RFC822_NUL_REPLACEMENT;
	rfc2231_collect(ctx, &rc, &broken);
	ctx->nul_replacement = prev_nul;

	if (rc.pieces.count > 0) {
		string_t *tmp = str_new(128);

		qsort(rc.pieces.v, rc.pieces.count, sizeof(*rc.pieces.v),
		      rfc2231_piece_cmp);
		for (i = 0; i < rc.pieces.count; i = j) {
			for (j = i + 1; j < rc.pieces.count; j++) {
				if (strcmp(rc.pieces.v[i].key,
					   rc.pieces.v[j].key) != 0)
					break;
			}
			rfc2231_merge(&rc, i, j, tmp);
		}
		str_free(&tmp);
	}
	*count_r = (unsigned int)rc.result.count;
	*params_r = p_new(pool, struct mime_param, rc.result.count + 1);
	if (rc.result.count > 0) {
		memcpy(*params_r, rc.result.v,
		       rc.result.count * sizeof(*rc.result.v));
	}
	array_free(&rc.result);
	array_free(&rc.pieces);
	return broken ? -1 : 0;
}

bool rfc2231_decode_value(const char *value, string_t *charset,
			  string_t *dest)
{
	const char *q1 = strchr(value, '\''), *q2, *p;

	if (q1 == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL)
		return false;
	str_append_n(charset, value, (size_t)(q1 - value));
	for (p = q2 + 1; *p != '\0'; p++) {
		int hi, lo;

		if (*p == '%' && (hi = hex_digit_value(p[1])) >= 0 &&
		    (lo = hex_digit_value(p[2])) >= 0) {
			str_append_c(dest, (char)(hi * 16 + lo));
			p += 2;
		} else {
			str_append_c(dest, *p);
		}
	}
	return true;
}

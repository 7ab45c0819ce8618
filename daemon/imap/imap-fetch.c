/* imap-fetch.c - the FETCH item list: macros, simple items, BODY[...] /
 * BINARY[...] sections with partials, RFC822.*, as Dovecot 2.3 parses
 * them (its BAD texts) and orders them (items answered from the index
 * first, in request order; message contents after, in request order). */
#include "imap-fetch.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

static const char *const macro_all[] = {
	"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", NULL
};
static const char *const macro_fast[] = {
	"FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL
};
static const char *const macro_full[] = {
	"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY", NULL
};

static const struct {
	const char *name;
	enum imap_fetch_type type;
} simple_items[] = {
	{ "UID", IMAP_FETCH_UID },
	{ "FLAGS", IMAP_FETCH_FLAGS },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "SAVEDATE", IMAP_FETCH_SAVEDATE },
	{ "X-SAVEDATE", IMAP_FETCH_X_SAVEDATE },
	{ "X-GUID", IMAP_FETCH_X_GUID },
	{ "X-MAILBOX", IMAP_FETCH_X_MAILBOX },
	{ "X-REAL-UID", IMAP_FETCH_X_REAL_UID },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
	{ "PREVIEW", IMAP_FETCH_PREVIEW },
	{ "SNIPPET", IMAP_FETCH_PREVIEW },
	{ "EMAILID", IMAP_FETCH_EMAILID },
	{ "THREADID", IMAP_FETCH_THREADID },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
};

struct parse_ctx {
	pool_t pool;
	ARRAY(struct imap_fetch_item) list;	/* request order */
	struct imap_fetch_request *req;
	const char *error;
};

/* "123" -> value; false if no digits or it overflows */
static bool parse_u64(const char **p, uint64_t *num_r)
{
	uint64_t num = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (num > (UINT64_MAX - 9) / 10)
			return false;
		num = num * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*num_r = num;
	return true;
}

static bool parse_partial(struct parse_ctx *ctx, struct imap_fetch_item *item,
			  const char *p, const char *what)
{
	if (*p == '\0')
		return true;
	if (*p != '<') {
		ctx->error = p_strdup_printf(ctx->pool, "Invalid %s[..] parameter: "
					     "Unexpected data after ']'", what);
		return false;
	}
	p++;
	if (!parse_u64(&p, &item->partial_start)) {
		ctx->error = p_strdup_printf(ctx->pool, "Invalid %s[..] parameter: "
					     "Too big partial start", what);
		return false;
	}
	item->partial_count = UINT64_MAX;
	if (*p == '.') {
		p++;
		if (!parse_u64(&p, &item->partial_count)) {
			ctx->error = p_strdup_printf(ctx->pool,
				"Invalid %s[..] parameter: Too big partial end",
				what);
			return false;
		}
	}
	if (*p != '>') {
		ctx->error = p_strdup_printf(ctx->pool, "Invalid %s[..] parameter: "
					     "Missing '>' in partial", what);
		return false;
	}
	if (p[1] != '\0') {
		ctx->error = p_strdup_printf(ctx->pool, "Invalid %s[..] parameter: "
					     "Unexpected data after '>'", what);
		return false;
	}
	item->partial = true;
	return true;
}

/* The part number prefix with Dovecot's leniency: "0" and "1.0" parse
 * (they name no part), leading zeros are dropped. Writes the canonical
 * spec into dest; *missing_r when a number is 0. */
static void section_normalize(const char *spec, string_t *dest,
			      bool *missing_r)
{
	const char *p = spec;

	*missing_r = false;
	while (*p >= '0' && *p <= '9') {
		const char *start = p;
		bool nonzero = false;

		while (*p >= '0' && *p <= '9') {
			if (*p != '0')
				nonzero = true;
			p++;
		}
		if (*p != '\0' && *p != '.')
			break;
		if (!nonzero) {
			*missing_r = true;
			str_append_c(dest, '1');
		} else {
			while (*start == '0')
				start++;
			str_append_n(dest, start, (size_t)(p - start));
		}
		if (*p == '\0')
			return;
		str_append_c(dest, *p++);
		if (!(*p >= '0' && *p <= '9'))
			break;
	}
	str_append(dest, p);
}

/* The section as Dovecot echoes it: upper case, header names as atoms
 * or quoted strings, single spaces. */
static const char *section_echo(pool_t pool, const char *spec)
{
	const char *paren = strchr(spec, '(');
	string_t *str = str_new(64);
	const char *p;
	char *ret;

	if (paren == NULL) {
		str_append(str, spec);
	} else {
		str_append_n(str, spec, (size_t)(paren - spec));
		str_append_c(str, '(');
		p = paren + 1;
		bool first = true;
		while (*p != '\0' && *p != ')') {
			if (*p == ' ') {
				p++;
				continue;
			}
			if (!first)
				str_append_c(str, ' ');
			first = false;
			if (*p == '"') {
				const char *start = p++;

				while (*p != '\0' && *p != '"')
					p++;
				if (*p == '"')
					p++;
				str_append_n(str, start, (size_t)(p - start));
			} else {
				const char *start = p;

				while (*p != '\0' && *p != ' ' && *p != ')')
					p++;
				str_append_n(str, start, (size_t)(p - start));
			}
		}
		str_append_c(str, ')');
	}
	ret = p_strdup(pool, str_c(str));
	str_free(&str);
	return ret;
}

static bool parse_section_item(struct parse_ctx *ctx, const char *name)
{
	struct imap_fetch_item item;
	const char *what, *p, *close, *error;
	string_t *spec, *resp;
	bool missing;
	char *section;
	int ret;

	memset(&item, 0, sizeof(item));
	if (strncmp(name, "BINARY", 6) == 0) {
		what = "BINARY";
		item.binary = true;
		p = name + 6;
		if (strncmp(p, ".PEEK", 5) == 0) {
			item.peek = true;
			p += 5;
		} else if (strncmp(p, ".SIZE", 5) == 0) {
			item.peek = true;
			p += 5;
			item.type = IMAP_FETCH_BINARY_SIZE;
		}
		if (item.type != IMAP_FETCH_BINARY_SIZE)
			item.type = IMAP_FETCH_SECTION;
	} else {
		what = "BODY";
		item.type = IMAP_FETCH_SECTION;
		p = name + 4;
		if (strncmp(p, ".PEEK", 5) == 0) {
			item.peek = true;
			p += 5;
		}
	}
	if (*p != '[' || (close = strchr(p, ']')) == NULL) {
		ctx->error = p_strdup_printf(ctx->pool, "Invalid %s[..] parameter: "
					     "Missing '['", what);
		return false;
	}
	section = p_strndup(ctx->pool, p + 1, (size_t)(close - p - 1));
	spec = str_new(64);
	section_normalize(section, spec, &missing);
	ret = message_section_parse(ctx->pool, str_c(spec), &item.section,
				    &error);
	str_free(&spec);
	if (ret < 0) {
		ctx->error = p_strdup_printf(ctx->pool, "Invalid %s[..] section",
					     what);
		return false;
	}
	if (missing)
		item.section.part_path = "0";
	if (item.type == IMAP_FETCH_SECTION &&
	    !parse_partial(ctx, &item, close + 1, what))
		return false;
	resp = str_new(64);
	str_append(resp, item.type == IMAP_FETCH_BINARY_SIZE ? "BINARY.SIZE" :
		   what);
	str_append_c(resp, '[');
	str_append(resp, section_echo(ctx->pool, section));
	str_append_c(resp, ']');
	if (item.partial)
		str_printfa(resp, "<%llu>",
			    (unsigned long long)item.partial_start);
	item.name = p_strdup(ctx->pool, str_c(resp));
	str_free(&resp);
	if (!item.peek)
		ctx->req->set_seen = true;
	array_push(&ctx->list, item);
	return true;
}

static bool parse_rfc822(struct parse_ctx *ctx, const char *name)
{
	struct imap_fetch_item item;

	memset(&item, 0, sizeof(item));
	item.name = p_strdup(ctx->pool, name);
	item.rfc822 = true;
	item.type = IMAP_FETCH_SECTION;
	item.section.part_path = "";
	if (strcmp(name, "RFC822") == 0) {
		item.section.type = MESSAGE_SECTION_BODY;
	} else if (strcmp(name, "RFC822.HEADER") == 0) {
		item.section.type = MESSAGE_SECTION_HEADER;
		item.peek = true;
	} else if (strcmp(name, "RFC822.TEXT") == 0) {
		item.section.type = MESSAGE_SECTION_TEXT;
	} else if (strcmp(name, "RFC822.SIZE") == 0) {
		item.type = IMAP_FETCH_RFC822_SIZE;
		item.rfc822 = false;
		item.peek = true;
	} else {
		ctx->error = p_strdup_printf(ctx->pool, "Unknown parameter %s",
					     name);
		return false;
	}
	if (!item.peek)
		ctx->req->set_seen = true;
	array_push(&ctx->list, item);
	return true;
}

static bool parse_item(struct parse_ctx *ctx, const char *name)
{
	size_t keylen = strcspn(name, ".[");
	struct imap_fetch_item item;

	if (keylen == 6 && strncmp(name, "BINARY", 6) == 0)
		return parse_section_item(ctx, name);
	if (keylen == 4 && strncmp(name, "BODY", 4) == 0) {
		if (name[4] == '\0') {
			memset(&item, 0, sizeof(item));
			item.type = IMAP_FETCH_BODY;
			item.name = "BODY";
			array_push(&ctx->list, item);
			return true;
		}
		return parse_section_item(ctx, name);
	}
	if (keylen == 6 && strncmp(name, "RFC822", 6) == 0)
		return parse_rfc822(ctx, name);
	for (unsigned int i = 0; i < N_ELEMENTS(simple_items); i++) {
		if (strlen(simple_items[i].name) == keylen &&
		    strncmp(name, simple_items[i].name, keylen) == 0) {
			memset(&item, 0, sizeof(item));
			item.type = simple_items[i].type;
			item.name = simple_items[i].name;
			if (strcmp(item.name, "SNIPPET") == 0)
				item.name = "SNIPPET (FUZZY";
			array_push(&ctx->list, item);
			return true;
		}
	}
	ctx->error = p_strdup_printf(ctx->pool, "Unknown parameter: %s", name);
	return false;
}

static bool parse_atom(struct parse_ctx *ctx, const char *str)
{
	char *name = p_strdup(ctx->pool, str);

	for (char *p = name; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return parse_item(ctx, name);
}

static bool item_is_dup(const struct imap_fetch_request *req,
			const struct imap_fetch_item *item)
{
	const struct imap_fetch_item *old;

	if (item->type == IMAP_FETCH_BINARY_SIZE ||
	    item->type == IMAP_FETCH_PREVIEW ||
	    (item->type == IMAP_FETCH_SECTION && !item->rfc822))
		return false;
	array_foreach(&req->items, old) {
		if (old->type == item->type &&
		    (!item->rfc822 || strcmp(old->name, item->name) == 0))
			return true;
	}
	return false;
}

static void request_add(struct imap_fetch_request *req,
			const struct imap_fetch_item *item)
{
	if (!item_is_dup(req, item))
		array_push(&req->items, *item);
}

/* PREVIEW (LAZY), (FUZZY), (LAZY=FUZZY) after PREVIEW or SNIPPET: the
 * FUZZY forms answer "PREVIEW (FUZZY text)" (RFC 8970's draft form that
 * Dovecot 2.3 keeps); LAZY is accepted (the preview is always made). */
static bool parse_preview_modifiers(struct parse_ctx *ctx,
				    const struct imap_arg *list)
{
	struct imap_fetch_item *item = &ctx->list.v[ctx->list.count - 1];
	bool fuzzy = false;
	const char *str;

	if (imap_arg_is_eol(list)) {
		ctx->error = "FETCH list contains non-atoms";
		return false;
	}
	for (; !imap_arg_is_eol(list); list++) {
		if (!imap_arg_get_atom(list, &str)) {
			ctx->error = "FETCH list contains non-atoms";
			return false;
		}
		if (strcasecmp(str, "FUZZY") == 0 ||
		    strcasecmp(str, "LAZY=FUZZY") == 0) {
			fuzzy = true;
		} else if (strcasecmp(str, "LAZY") != 0) {
			ctx->error = p_strdup_printf(ctx->pool,
				"'%s' is not a supported PREVIEW modifier", str);
			return false;
		}
	}
	if (fuzzy && strcmp(item->name, "PREVIEW") == 0)
		item->name = "PREVIEW (FUZZY";
	return true;
}

/* Dovecot's order: the buffered items in request order (UID first for
 * UID FETCH), FLAGS when only \Seen changes show it, then the rest. */
static void request_order(struct parse_ctx *ctx, bool uid)
{
	struct imap_fetch_request *req = ctx->req;
	struct imap_fetch_item *item, flags;

	if (uid) {
		memset(&flags, 0, sizeof(flags));
		flags.type = IMAP_FETCH_UID;
		flags.name = "UID";
		request_add(req, &flags);
	}
	array_foreach(&ctx->list, item) {
		if (item->type == IMAP_FETCH_FLAGS)
			req->flags_requested = true;
		if (IMAP_FETCH_TYPE_BUFFERED(item->type))
			request_add(req, item);
	}
	if (req->set_seen && !req->flags_requested) {
		memset(&flags, 0, sizeof(flags));
		flags.type = IMAP_FETCH_FLAGS;
		flags.name = "FLAGS";
		array_push(&req->items, flags);
	}
	array_foreach(&ctx->list, item) {
		if (!IMAP_FETCH_TYPE_BUFFERED(item->type))
			request_add(req, item);
	}
	array_foreach(&req->items, item) {
		if (item->type != IMAP_FETCH_UID &&
		    item->type != IMAP_FETCH_FLAGS &&
		    item->type != IMAP_FETCH_X_MAILBOX &&
		    item->type != IMAP_FETCH_MODSEQ &&
		    item->type != IMAP_FETCH_X_REAL_UID)
			req->need_mail = true;
	}
}

int imap_fetch_parse(pool_t pool, const struct imap_arg *arg, bool uid,
		     struct imap_fetch_request *req, const char **error_r)
{
	struct parse_ctx ctx;
	const struct imap_arg *list;
	const char *str;
	const char *const *macro = NULL;
	bool ok = true;

	memset(req, 0, sizeof(*req));
	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.req = req;
	if (imap_arg_get_atom(arg, &str)) {
		if (strcasecmp(str, "ALL") == 0)
			macro = macro_all;
		else if (strcasecmp(str, "FAST") == 0)
			macro = macro_fast;
		else if (strcasecmp(str, "FULL") == 0)
			macro = macro_full;
		if (macro != NULL) {
			for (; *macro != NULL && ok; macro++)
				ok = parse_atom(&ctx, *macro);
		} else {
			ok = parse_atom(&ctx, str);
		}
	} else if (imap_arg_get_list(arg, &list)) {
		if (imap_arg_is_eol(list)) {
			ctx.error = "FETCH list is empty";
			ok = false;
		}
		for (; ok && !imap_arg_is_eol(list); list++) {
			if (!imap_arg_get_atom(list, &str)) {
				ctx.error = "Invalid fetch arguments";
				ok = false;
			} else {
				ok = parse_atom(&ctx, str);
				if (!ok || ctx.list.v[ctx.list.count - 1].type !=
				    IMAP_FETCH_PREVIEW ||
				    imap_arg_is_eol(&list[1]) ||
				    list[1].type == IMAP_ARG_ATOM)
					continue;
				/* PREVIEW's modifiers */
				list++;
				if (list->type == IMAP_ARG_LIST) {
					ok = parse_preview_modifiers(&ctx,
						list->list);
				} else {
					ctx.error = "FETCH list contains "
						"non-atoms";
					ok = false;
				}
			}
		}
	} else {
		ctx.error = "Invalid arguments";
		ok = false;
	}
	if (ok)
		request_order(&ctx, uid);
	array_free(&ctx.list);
	if (!ok) {
		*error_r = ctx.error;
		imap_fetch_request_free(req);
		return -1;
	}
	return 0;
}

void imap_fetch_request_free(struct imap_fetch_request *req)
{
	array_free(&req->items);
}

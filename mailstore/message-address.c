/* message-address.c - address-list parsing with Dovecot 2.3's recovery
 * rules (observed with imap FETCH ENVELOPE on crafted headers). */
#include "message-address.h"
#include "rfc822-parser.h"

struct address_ctx {
	pool_t pool;
	struct rfc822_parser parser;
	string_t *str;
	struct message_address addr;
	struct message_address *first, *last;
	bool fill_missing;
};

static void add_address(struct address_ctx *ctx)
{
	struct message_address *addr = p_new(ctx->pool,
					     struct message_address, 1);

	*addr = ctx->addr;
	addr->next = NULL;
	memset(&ctx->addr, 0, sizeof(ctx->addr));
	if (ctx->last == NULL)
		ctx->first = addr;
	else
		ctx->last->next = addr;
	ctx->last = addr;
}

static int parse_local_part(struct address_ctx *ctx)
{
	int ret;

	str_truncate(ctx->str, 0);
	if (*ctx->parser.data == '"')
		ret = rfc822_parse_quoted_string(&ctx->parser, ctx->str);
	else
		ret = rfc822_parse_local_dot_atom(&ctx->parser, ctx->str);
	if (ret < 0)
		return -1;
	ctx->addr.mailbox = p_strdup(ctx->pool, str_c(ctx->str));
	return ret;
}

static int parse_domain(struct address_ctx *ctx)
{
	int ret;

	str_truncate(ctx->str, 0);
	if ((ret = rfc822_parse_domain(&ctx->parser, ctx->str)) < 0)
		return -1;
	ctx->addr.domain = p_strdup(ctx->pool, str_c(ctx->str));
	return ret;
}

/* "@a,@b" route of an angle address; 1 when it was complete. */
static int parse_domain_list(struct address_ctx *ctx)
{
	struct rfc822_parser *p = &ctx->parser;
	int ret;

	str_truncate(ctx->str, 0);
	for (;;) {
		if (p->data >= p->end)
			return 0;
		if (*p->data != '@')
			break;
		if (str_len(ctx->str) > 0)
			str_append_c(ctx->str, ',');
		str_append_c(ctx->str, '@');
		if ((ret = rfc822_parse_domain(p, ctx->str)) <= 0)
			return ret;
		while (rfc822_skip_lwsp(p) > 0 && *p->data == ',')
			p->data++;
	}
	ctx->addr.route = p_strdup(ctx->pool, str_c(ctx->str));
	return 1;
}

static int parse_angle_route(struct address_ctx *ctx)
{
	struct rfc822_parser *p = &ctx->parser;

	if (parse_domain_list(ctx) > 0 && *p->data == ':') {
		p->data++;
	} else {
		if (ctx->fill_missing)
			ctx->addr.route = "INVALID_ROUTE";
		if (p->data >= p->end)
			return -1;
	}
	return rfc822_skip_lwsp(p) <= 0 ? -1 : 1;
}

/* "<" [route ":"] [local-part ["@" domain]] ">" */
static int parse_angle_addr(struct address_ctx *ctx)
{
	struct rfc822_parser *p = &ctx->parser;

	p->data++;
	if (rfc822_skip_lwsp(p) <= 0)
		return -1;
	if (*p->data == '@' && parse_angle_route(ctx) < 0)
		return -1;
	if (*p->data != '>') {
		if (parse_local_part(ctx) <= 0)
			return -1;
		if (*p->data == '@' && parse_domain(ctx) <= 0)
			return -1;
	}
	if (*p->data != '>')
		return -1;
	p->data++;
	return rfc822_skip_lwsp(p);
}

static int parse_name_addr(struct address_ctx *ctx)
{
	struct rfc822_parser *p = &ctx->parser;

	str_truncate(ctx->str, 0);
	if (rfc822_parse_phrase(p, ctx->str) <= 0 || *p->data != '<')
		return -1;
	ctx->addr.name = str_len(ctx->str) == 0 ? NULL :
		p_strdup(ctx->pool, str_c(ctx->str));
	if (parse_angle_addr(ctx) < 0) {
		ctx->addr.domain = "SYNTAX_ERROR";
		ctx->addr.invalid = true;
	}
	return p->data < p->end ? 1 : 0;
}

/* A bare word with neither "@domain" nor a comment: alone it is a
   mailbox, followed by more words it was a display name. */
static void addr_spec_fallback(struct address_ctx *ctx, bool quoted)
{
	size_t orig_len;

	str_append_c(ctx->str, ' ');
	orig_len = str_len(ctx->str);
	(void)rfc822_parse_phrase(&ctx->parser, ctx->str);
	if (str_len(ctx->str) != orig_len) {
		ctx->addr.mailbox = NULL;
		ctx->addr.name = p_strdup(ctx->pool, str_c(ctx->str));
	} else if (!quoted) {
		ctx->addr.domain = "";
	} else {
		/* a lone "quoted string" is a name */
		ctx->addr.name = ctx->addr.mailbox;
		ctx->addr.mailbox = NULL;
	}
	ctx->addr.invalid = true;
}

static int parse_addr_spec(struct address_ctx *ctx)
{
	struct rfc822_parser *p = &ctx->parser;
	bool quoted = *p->data == '"';
	int ret, ret2 = -2;

	str_truncate(ctx->parser.last_comment, 0);
	ret = parse_local_part(ctx);
	if (ret <= 0)
		ctx->addr.invalid = true;
	if (ret != 0 && p->data < p->end && *p->data == '@') {
		ret2 = parse_domain(ctx);
		if (ret2 <= 0)
			ret = ret2;
	}
	if (str_len(p->last_comment) > 0) {
		ctx->addr.name = p_strdup(ctx->pool, str_c(p->last_comment));
	} else if (ret2 == -2) {
		addr_spec_fallback(ctx, quoted);
	}
	return ret;
}

static void fill_missing(struct address_ctx *ctx)
{
	if (!ctx->fill_missing)
		return;
	/* an empty quoted mailbox ("") stays empty */
	if (ctx->addr.mailbox == NULL)
		ctx->addr.mailbox = "MISSING_MAILBOX";
	if (ctx->addr.domain == NULL || *ctx->addr.domain == '\0')
		ctx->addr.domain = "MISSING_DOMAIN";
}

static int parse_mailbox(struct address_ctx *ctx)
{
	const unsigned char *start = ctx->parser.data;
	int ret;

	if ((ret = parse_name_addr(ctx)) < 0) {
		ctx->parser.data = start;
		memset(&ctx->addr, 0, sizeof(ctx->addr));
		ret = parse_addr_spec(ctx);
		if (ret < 0)
			ctx->addr.invalid = true;
	}
	fill_missing(ctx);
	add_address(ctx);
	return ret;
}

static int parse_group_members(struct address_ctx *ctx, int ret)
{
	struct rfc822_parser *p = &ctx->parser;

	if (ret > 0 && *p->data != ';') {
		for (;;) {
			/* a broken member (even an empty one between two
			   commas) does not end the group, the end of the
			   input does */
			int r = parse_mailbox(ctx);

			if (r == 0 || p->data >= p->end)
				return -1;
			if (*p->data != ',') {
				if (r < 0)
					return -1;
				break;
			}
			p->data++;
			if (rfc822_skip_lwsp(p) <= 0)
				return -1;
		}
	}
	if (ret < 0)
		return ret;
	if (p->data >= p->end || *p->data != ';')
		return -1;
	p->data++;
	return rfc822_skip_lwsp(p);
}

static int parse_group(struct address_ctx *ctx)
{
	struct rfc822_parser *p = &ctx->parser;
	int ret;

	str_truncate(ctx->str, 0);
	if (rfc822_parse_phrase(p, ctx->str) <= 0 || *p->data != ':')
		return -1;
	/* from here on it is a group, whatever follows */
	p->data++;
	if ((ret = rfc822_skip_lwsp(p)) <= 0)
		ctx->addr.invalid = true;
	ctx->addr.mailbox = p_strdup(ctx->pool, str_c(ctx->str));
	add_address(ctx);

	ret = parse_group_members(ctx, ret);
	if (ret < 0)
		ctx->addr.invalid = true;
	add_address(ctx);
	return ret == 0 ? 0 : 1;
}

static int parse_address(struct address_ctx *ctx)
{
	const unsigned char *start = ctx->parser.data;
	int ret;

	if ((ret = parse_group(ctx)) < 0) {
		ctx->parser.data = start;
		memset(&ctx->addr, 0, sizeof(ctx->addr));
		ret = parse_mailbox(ctx);
	}
	return ret;
}

static void parse_address_list(struct address_ctx *ctx,
			       unsigned int max_addresses)
{
	struct rfc822_parser *p = &ctx->parser;
	int ret;

	while (max_addresses-- > 0) {
		if (parse_address(ctx) == 0)
			break;
		if (p->data >= p->end || *p->data != ',')
			break;
		p->data++;
		if ((ret = rfc822_skip_lwsp(p)) <= 0) {
			if (ret < 0) {
				/* garbage (an unclosed comment) after the
				   comma: an empty, invalid address */
				memset(&ctx->addr, 0, sizeof(ctx->addr));
				ctx->addr.invalid = true;
				fill_missing(ctx);
				add_address(ctx);
			}
			break;
		}
	}
}

struct message_address *
message_address_parse(pool_t pool, const void *data, size_t size,
		      unsigned int max_addresses,
		      enum message_address_parse_flags flags)
{
	struct address_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.str = str_new(128);
	ctx.fill_missing = (flags & MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING) != 0;
	rfc822_parser_init(&ctx.parser, data, size, str_new(64));
	if (rfc822_skip_lwsp(&ctx.parser) > 0)
		parse_address_list(&ctx, max_addresses);
	str_free(&ctx.parser.last_comment);
	str_free(&ctx.str);
	return ctx.first;
}

static void write_quoted_name(string_t *str, const char *name)
{
	const char *p;
	bool need_quotes = false;

	if (strstr(name, "=?") != NULL) {
		/* an encoded word may not be quoted (RFC 2047 5) */
		str_append(str, name);
		return;
	}
	for (p = name; *p != '\0'; p++) {
		if (!rfc822_is_atext((unsigned char)*p))
			need_quotes = true;
	}
	if (!need_quotes) {
		str_append(str, name);
		return;
	}
	str_append_c(str, '"');
	for (p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			str_append_c(str, '\\');
		str_append_c(str, *p);
	}
	str_append_c(str, '"');
}

static void write_addr_spec(string_t *str, const struct message_address *a)
{
	if (a->route != NULL) {
		str_append(str, a->route);
		str_append_c(str, ':');
	}
	if (a->mailbox != NULL)
		str_append(str, a->mailbox);
	if (a->domain != NULL && *a->domain != '\0') {
		str_append_c(str, '@');
		str_append(str, a->domain);
	}
}

static bool addr_is_group_end(const struct message_address *a)
{
	return a->name == NULL && a->route == NULL && a->mailbox == NULL &&
		a->domain == NULL;
}

/* A group start has no domain and an end entry follows it. */
static bool addr_is_group_start(const struct message_address *a)
{
	if (a->domain != NULL || a->mailbox == NULL)
		return false;
	for (a = a->next; a != NULL; a = a->next) {
		if (addr_is_group_end(a))
			return true;
	}
	return false;
}

void message_address_write(string_t *str,
			   const struct message_address *addr)
{
	bool first = true, in_group = false, group_first = false;

	for (; addr != NULL; addr = addr->next) {
		if (in_group && addr_is_group_end(addr)) {
			str_append_c(str, ';');
			in_group = false;
			continue;
		}
		if (group_first)
			str_append_c(str, ' ');
		else if (!first)
			str_append(str, ", ");
		first = group_first = false;
		if (!in_group && addr_is_group_start(addr)) {
			write_quoted_name(str, addr->mailbox);
			str_append_c(str, ':');
			in_group = group_first = true;
		} else if (addr->mailbox == NULL) {
			write_addr_spec(str, addr);
		} else {
			/* Dovecot's normalized form: <user@host> always */
			if (addr->name != NULL && addr->name[0] != '\0') {
				write_quoted_name(str, addr->name);
				str_append_c(str, ' ');
			}
			str_append_c(str, '<');
			write_addr_spec(str, addr);
			str_append_c(str, '>');
		}
	}
}

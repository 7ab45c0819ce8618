/* imap-parser.c - incremental, bounded IMAP command parser. */
#include "imap-parser.h"
#include "array.h"
#include "pool.h"

#include <strings.h>

/* a non-synchronizing literal larger than this under LITERAL- */
#define LITERAL_MINUS_MAX 4096

enum parser_state {
	ST_ARG,		/* between args */
	ST_ATOM,
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_LITERAL8,	/* after '~', expecting '{' */
	ST_LITERAL_SIZE,	/* digits after '{' */
	ST_LITERAL_CR,	/* after '}', expecting CRLF */
	ST_LITERAL_LF,
	ST_LITERAL_DATA,
	ST_EOL_LF,	/* after the line's CR */
	ST_DONE,	/* the line ended (or a LITERAL_SIZE stop) */
};

typedef ARRAY(struct imap_arg) ARRAY_ARG;

struct imap_parser {
	size_t max_size, used;
	pool_t pool;
	ARRAY_ARG stack[IMAP_PARSER_MAX_DEPTH + 1];
	unsigned int depth;
	enum parser_state state;

	char *tok;
	size_t tok_len, tok_cap;
	bool in_bracket;	/* atom BODY[...]: spaces and parens kept */

	uint64_t literal_size, literal_left;
	bool literal_plus, literal8, literal_had_digit;

	bool want_cont, started, fatal, line_ended;
	/* stopped at a literal inside a CATENATE list (its data is the
	   caller's) */
	bool literal_pending;
	const char *error;
};

struct imap_parser *imap_parser_create(size_t max_size)
{
	struct imap_parser *parser = i_new(struct imap_parser, 1);

	parser->max_size = max_size;
	return parser;
}

void imap_parser_reset(struct imap_parser *parser)
{
	for (unsigned int i = 0; i <= IMAP_PARSER_MAX_DEPTH; i++)
		array_free(&parser->stack[i]);
	if (parser->pool != NULL)
		pool_destroy(&parser->pool);
	free(parser->tok);
	size_t max_size = parser->max_size;
	memset(parser, 0, sizeof(*parser));
	parser->max_size = max_size;
}

void imap_parser_destroy(struct imap_parser **_parser)
{
	struct imap_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	imap_parser_reset(parser);
	i_free(parser);
}

bool imap_parser_is_started(const struct imap_parser *parser)
{
	return parser->started;
}

size_t imap_parser_token_len(const struct imap_parser *parser)
{
	switch (parser->state) {
	case ST_ATOM:
	case ST_QUOTED:
	case ST_QUOTED_ESC:
		return parser->tok_len;
	default:
		return 0;
	}
}

bool imap_parser_is_line_done(const struct imap_parser *parser)
{
	return parser->state == ST_DONE && parser->line_ended;
}

bool imap_parser_want_continuation(struct imap_parser *parser)
{
	bool ret = parser->want_cont;

	parser->want_cont = false;
	return ret;
}

const char *imap_parser_get_error(struct imap_parser *parser, bool *fatal_r)
{
	*fatal_r = parser->fatal;
	return parser->error == NULL ? "Invalid arguments." : parser->error;
}

size_t imap_parser_skip_line(const unsigned char *data, size_t size,
			     bool *found_r)
{
	const unsigned char *lf = memchr(data, '\n', size);

	*found_r = lf != NULL;
	return lf == NULL ? size : (size_t)(lf - data) + 1;
}

static pool_t parser_pool(struct imap_parser *parser)
{
	if (parser->pool == NULL)
		parser->pool = pool_create("imap parser", 1024);
	return parser->pool;
}

static void tok_append(struct imap_parser *parser, const void *data,
		       size_t size)
{
	if (parser->tok_len + size + 1 > parser->tok_cap) {
		size_t cap = MAX(parser->tok_cap * 2, 64);

		while (cap < parser->tok_len + size + 1)
			cap = size_mul(cap, 2);
		parser->tok = i_realloc(parser->tok, cap);
		parser->tok_cap = cap;
	}
	memcpy(parser->tok + parser->tok_len, data, size);
	parser->tok_len += size;
}

static struct imap_arg *arg_add(struct imap_parser *parser,
				enum imap_arg_type type)
{
	struct imap_arg *arg = array_append_space(&parser->stack[parser->depth]);

	memset(arg, 0, sizeof(*arg));
	arg->type = type;
	return arg;
}

static void arg_add_token(struct imap_parser *parser, enum imap_arg_type type)
{
	struct imap_arg *arg;

	if (type == IMAP_ARG_ATOM && parser->tok_len == 3 &&
	    strncasecmp(parser->tok, "NIL", 3) == 0)
		type = IMAP_ARG_NIL;
	arg = arg_add(parser, type);
	arg->str = p_strndup(parser_pool(parser), parser->tok == NULL ? "" :
			     parser->tok, parser->tok_len);
	arg->str_len = parser->tok_len;
	arg->literal8 = parser->literal8;
	parser->tok_len = 0;
	parser->literal8 = false;
}

/* Freeze a finished level into the pool as an EOL-terminated array. */
static const struct imap_arg *level_freeze(struct imap_parser *parser,
					   ARRAY_ARG *level,
					   unsigned int *count_r)
{
	struct imap_arg *list = p_new(parser_pool(parser), struct imap_arg,
				      level->count + 1);

	if (level->count > 0)
		memcpy(list, level->v, level->count * sizeof(*list));
	*count_r = (unsigned int)level->count;
	array_clear(level);
	return list;
}

static int parser_fail(struct imap_parser *parser, const char *error,
		       bool fatal)
{
	parser->error = error;
	parser->fatal = fatal;
	return -1;
}

/* A literal's size is known (after "{n}" or "{n+}" and its CRLF). */
static int literal_begin(struct imap_parser *parser,
			 enum imap_parse_flags flags)
{
	if (parser->literal_plus &&
	    (flags & IMAP_PARSE_FLAG_LITERAL_MINUS) != 0 &&
	    parser->literal_size > LITERAL_MINUS_MAX)
		return parser_fail(parser, "Non-synchronizing literal size too large", true);
	if ((flags & IMAP_PARSE_FLAG_LITERAL_SIZE) != 0) {
		struct imap_arg *arg = arg_add(parser, IMAP_ARG_LITERAL_SIZE);

		arg->literal_size = parser->literal_size;
		arg->literal8 = parser->literal8;
		arg->literal_sync = !parser->literal_plus;
		parser->literal8 = false;
		if (parser->depth > 0) {
			/* inside a list the size is all the caller gets and
			   parsing goes on after it, as Dovecot does: the
			   command then fails on the list. CATENATE's list
			   (RFC 4469) stops: the caller reads the data. */
			parser->state = ST_ARG;
			if (parser->depth == 1 && parser->stack[0].count > 0 &&
			    parser->stack[0].v[parser->stack[0].count - 1].type ==
			    IMAP_ARG_ATOM &&
			    (strcasecmp(parser->stack[0].v[parser->stack[0].count - 1].str,
					"CATENATE") == 0 ||
			     strcasecmp(parser->stack[0].v[parser->stack[0].count - 1].str,
					"UTF8") == 0)) {
				parser->literal_pending = true;
				return 2;
			}
			return 0;
		}
		parser->state = ST_DONE;
		return 1;
	}
	if (parser->literal_size > parser->max_size - parser->used) {
		/* the connection goes even for a synchronizing literal,
		   as Dovecot does */
		return parser_fail(parser, "Literal size too large", true);
	}
	if (!parser->literal_plus)
		parser->want_cont = true;
	parser->literal_left = parser->literal_size;
	parser->tok_len = 0;
	parser->state = ST_LITERAL_DATA;
	if (parser->literal_left == 0) {
		arg_add_token(parser, IMAP_ARG_LITERAL);
		parser->state = ST_ARG;
	}
	return 0;
}

static bool atom_bracket_start(const struct imap_parser *parser)
{
	static const char *const words[] = {
		"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(words); i++) {
		if (strlen(words[i]) == parser->tok_len &&
		    strncasecmp(parser->tok, words[i], parser->tok_len) == 0)
			return true;
	}
	return false;
}

int imap_parser_read(struct imap_parser *parser, const unsigned char *data,
		     size_t size, size_t *consumed_r,
		     enum imap_parse_flags flags, unsigned int count)
{
	size_t i = 0;
	int ret = 0;

	*consumed_r = 0;
	parser->literal_pending = false;
	if (parser->error != NULL)
		return -1;
	if (parser->state == ST_DONE)
		return 1;
	if (size > 0)
		parser->started = true;
	while (i < size) {
		unsigned char c = data[i];

		if (parser->used >= parser->max_size &&
		    parser->state != ST_DONE) {
			ret = parser_fail(parser, "Too long argument.", false);
			break;
		}
		switch (parser->state) {
		case ST_ARG:
			if (parser->depth == 0 && count > 0 &&
			    parser->stack[0].count >= count) {
				*consumed_r = i;
				return 1;
			}
			if (c == ' ') {
				break;
			} else if (c == '\r') {
				parser->state = ST_EOL_LF;
			} else if (c == '\n') {
				goto eol;
			} else if (c == '(') {
				if (parser->depth >= IMAP_PARSER_MAX_DEPTH) {
					ret = parser_fail(parser, "Too deep list nesting", false);
					goto out;
				}
				parser->depth++;
			} else if (c == ')') {
				const struct imap_arg *list;
				unsigned int n;
				struct imap_arg *arg;

				if (parser->depth == 0) {
					ret = parser_fail(parser, "Unexpected ')'", false);
					goto out;
				}
				list = level_freeze(parser,
					&parser->stack[parser->depth], &n);
				parser->depth--;
				arg = arg_add(parser, IMAP_ARG_LIST);
				arg->list = list;
				arg->list_count = n;
			} else if (c == '"') {
				parser->tok_len = 0;
				parser->state = ST_QUOTED;
			} else if (c == '{') {
				parser->literal_size = 0;
				parser->literal_plus = false;
				parser->literal_had_digit = false;
				parser->state = ST_LITERAL_SIZE;
			} else if (c == '~' && (flags & IMAP_PARSE_FLAG_LITERAL8) != 0) {
				parser->state = ST_LITERAL8;
			} else if (c == '\0') {
				ret = parser_fail(parser, "NULs not allowed in command", false);
				goto out;
			} else {
				parser->tok_len = 0;
				parser->in_bracket = false;
				parser->state = ST_ATOM;
				continue;	/* the char starts the atom */
			}
			break;
		case ST_ATOM:
			if (parser->in_bracket) {
				if (c == '\r' || c == '\n' || c == '\0') {
					ret = parser_fail(parser, "Missing ']'", false);
					goto out;
				}
				if (c == ']')
					parser->in_bracket = false;
				tok_append(parser, &c, 1);
				break;
			}
			if (c == ' ' || c == '\r' || c == '\n' || c == '(' ||
			    c == ')') {
				arg_add_token(parser, IMAP_ARG_ATOM);
				parser->state = ST_ARG;
				continue;	/* the delimiter is handled there */
			}
			if (c < 0x20 || c == 0x7f || c == '"' || c == '{') {
				ret = parser_fail(parser, c == '\0' ?
					"NULs not allowed in command" :
					"Invalid characters in atom", false);
				goto out;
			}
			if (c >= 0x80) {
				ret = parser_fail(parser, "8bit data in atom",
						  false);
				goto out;
			}
			if (c == '[' && atom_bracket_start(parser))
				parser->in_bracket = true;
			tok_append(parser, &c, 1);
			break;
		case ST_QUOTED:
			if (c == '"') {
				arg_add_token(parser, IMAP_ARG_STRING);
				parser->state = ST_ARG;
			} else if (c == '\\') {
				parser->state = ST_QUOTED_ESC;
			} else if (c == '\r' || c == '\n') {
				ret = parser_fail(parser, "Missing '\"'", false);
				goto out;
			} else if (c == '\0') {
				ret = parser_fail(parser, "NULs not allowed in strings", false);
				goto out;
			} else {
				tok_append(parser, &c, 1);
			}
			break;
		case ST_QUOTED_ESC:
			if (c == '\r' || c == '\n' || c == '\0') {
				ret = parser_fail(parser, "Missing '\"'", false);
				goto out;
			}
			tok_append(parser, &c, 1);
			parser->state = ST_QUOTED;
			break;
		case ST_LITERAL8:
			if (c != '{') {
				/* not a literal8: an atom that starts with
				   '~' ("APPEND ~/Mail {5}"), as Dovecot reads
				   it */
				const unsigned char tilde = '~';

				parser->tok_len = 0;
				parser->in_bracket = false;
				tok_append(parser, &tilde, 1);
				parser->state = ST_ATOM;
				continue;	/* c continues the atom */
			}
			parser->literal8 = true;
			parser->literal_size = 0;
			parser->literal_plus = false;
			parser->literal_had_digit = false;
			parser->state = ST_LITERAL_SIZE;
			break;
		case ST_LITERAL_SIZE:
			if (c >= '0' && c <= '9' && !parser->literal_plus) {
				if (parser->literal_size > (UINT64_MAX - 9) / 10) {
					ret = parser_fail(parser, "Invalid literal size", false);
					goto out;
				}
				parser->literal_size = parser->literal_size * 10 +
					(uint64_t)(c - '0');
				parser->literal_had_digit = true;
			} else if (c == '+' && parser->literal_had_digit &&
				   !parser->literal_plus) {
				if ((flags & IMAP_PARSE_FLAG_NO_LITERAL_PLUS) != 0) {
					ret = parser_fail(parser, "Invalid literal size", false);
					goto out;
				}
				parser->literal_plus = true;
			} else if (c == '}' && parser->literal_had_digit) {
				parser->state = ST_LITERAL_CR;
			} else {
				ret = parser_fail(parser, "Invalid literal size", false);
				goto out;
			}
			break;
		case ST_LITERAL_CR:
			if (c == '\r') {
				parser->state = ST_LITERAL_LF;
				break;
			}
			/* a bare LF is accepted too */
			/* fall through */
		case ST_LITERAL_LF:
			if (c != '\n') {
				ret = parser_fail(parser, "Missing LF after literal size", false);
				if ((flags & IMAP_PARSE_FLAG_LITERAL_SIZE) != 0) {
					/* APPEND, as Dovecot: the line ends
					   here, and the byte that isn't LF
					   starts the next command */
					parser->state = ST_DONE;
					parser->line_ended = true;
				} else if (!parser->literal_plus) {
					/* Dovecot has asked for the literal
					   before it sees the byte */
					parser->want_cont = true;
				}
				goto out;
			}
			i++;
			parser->used++;
			ret = literal_begin(parser, flags);
			if (ret == 2) {
				ret = 0;
				goto out;
			}
			if (ret != 0)
				goto out;
			continue;
		case ST_LITERAL_DATA: {
			size_t n = MIN(size - i, parser->literal_left);

			tok_append(parser, data + i, n);
			parser->literal_left -= n;
			parser->used += n;
			i += n;
			if (parser->literal_left == 0) {
				arg_add_token(parser, IMAP_ARG_LITERAL);
				parser->state = ST_ARG;
			}
			continue;
		}
		case ST_EOL_LF:
			if (c != '\n') {
				ret = parser_fail(parser, "CR without LF", false);
				goto out;
			}
		eol:
			i++;
			parser->line_ended = true;
			if (parser->depth > 0) {
				*consumed_r = i;
				parser->state = ST_DONE;
				return parser_fail(parser, "Missing ')'", false);
			}
			parser->state = ST_DONE;
			ret = 1;
			goto out;
		case ST_DONE:
			i_unreached();
		}
		i++;
		parser->used++;
	}
	if (ret == 0 && parser->state == ST_ARG && parser->depth == 0 &&
	    count > 0 && parser->stack[0].count >= count)
		ret = 1;
out:
	*consumed_r = i;
	return ret;
}

const struct imap_arg *imap_parser_get_args(struct imap_parser *parser,
					    unsigned int *count_r)
{
	ARRAY_ARG *top = &parser->stack[0];
	struct imap_arg *eol;

	/* keep the EOL outside the count so later reads append after the
	   real args */
	eol = array_append_space(top);
	memset(eol, 0, sizeof(*eol));
	top->count--;
	if (count_r != NULL)
		*count_r = (unsigned int)top->count;
	return top->v;
}

bool imap_parser_literal_pending(const struct imap_parser *parser)
{
	return parser->literal_pending;
}

const struct imap_arg *imap_parser_get_open_list(struct imap_parser *parser,
						 unsigned int *count_r)
{
	ARRAY_ARG *level = &parser->stack[parser->depth];

	*count_r = (unsigned int)level->count;
	return level->v;
}

/* ---- looking at args ---- */

bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
		return false;
	*str_r = arg->str;
	return true;
}

bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_STRING && arg->type != IMAP_ARG_LITERAL)
		return false;
	*str_r = arg->str;
	return true;
}

bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r)
{
	return imap_arg_get_atom(arg, str_r) || imap_arg_get_string(arg, str_r);
}

bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type == IMAP_ARG_NIL) {
		*str_r = NULL;
		return true;
	}
	return imap_arg_get_string(arg, str_r);
}

bool imap_arg_get_list(const struct imap_arg *arg,
		       const struct imap_arg **list_r)
{
	if (arg->type != IMAP_ARG_LIST)
		return false;
	*list_r = arg->list;
	return true;
}

bool imap_arg_atom_equals(const struct imap_arg *arg, const char *str)
{
	return (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL) &&
		strcasecmp(arg->str, str) == 0;
}

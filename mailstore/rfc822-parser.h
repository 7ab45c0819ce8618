/* rfc822-parser.h - the RFC 5322 / RFC 2045 lexer under the address,
 * Content-Type and parameter parsers: comments, atoms, quoted strings,
 * domains, MIME tokens. Lenient the way Dovecot 2.3 is (8-bit bytes are
 * atom text, whitespace is allowed before a dot, broken input stops the
 * token instead of failing the header).
 *
 * Every parse function returns -1 on a syntax error, 0 when the input is
 * used up, and 1 when more input follows (ctx->data then points at it,
 * past any whitespace and comments the function skipped). Parsed text is
 * appended to a string_t; it may contain NUL bytes when the input does. */
#ifndef ROOST_RFC822_PARSER_H
#define ROOST_RFC822_PARSER_H

#include "lib.h"
#include "str.h"
#include "pool.h"

/* U+FFFD, which Dovecot puts in place of NUL bytes in header values. */
#define RFC822_NUL_REPLACEMENT "\xef\xbf\xbd"

struct rfc822_parser {
	const unsigned char *data, *end;
	/* When non-NULL, the text of the last comment skipped (cleared at
	   the start of each comment; folding line ends removed). */
	string_t *last_comment;
	/* When non-NULL, NULs inside quoted strings are replaced by it. */
	const char *nul_replacement;
};

/* One MIME parameter (Content-Type, Content-Disposition). */
struct mime_param {
	const char *name, *value;
};

void rfc822_parser_init(struct rfc822_parser *ctx, const void *data,
			size_t size, string_t *last_comment);

/* 1 if c may appear in an atom (RFC 5322 atext, plus 8-bit bytes). */
bool rfc822_is_atext(unsigned char c);

/* Skip one "(comment)", nested ones included. */
int rfc822_skip_comment(struct rfc822_parser *ctx);
/* Skip whitespace, line ends and comments. */
int rfc822_skip_lwsp(struct rfc822_parser *ctx);
/* A run of atom text and dots ("obs-phrase" words). */
int rfc822_parse_atom_or_dot(struct rfc822_parser *ctx, string_t *str);
/* "quoted string": contents without quotes or backslashes; folding line
   ends are dropped. */
int rfc822_parse_quoted_string(struct rfc822_parser *ctx, string_t *str);
/* phrase: words (atoms with dots, quoted strings) joined by one space.
   Fails on a leading dot; an empty phrase (ctx at a special) is 1. */
int rfc822_parse_phrase(struct rfc822_parser *ctx, string_t *str);
/* The local part of an addr-spec outside a quoted string: atom text and
   dots, whitespace allowed before a dot; a run ending in a dot must be
   followed by "@" or the end of input. */
int rfc822_parse_local_dot_atom(struct rfc822_parser *ctx, string_t *str);
/* "@" domain: strict dot-atom (whitespace around dots allowed, empty
   labels not) or "[domain literal]" kept as written. ctx->data must be
   at the '@'. */
int rfc822_parse_domain(struct rfc822_parser *ctx, string_t *str);
/* RFC 2045 token (atom text minus "/=?", plus "."). A NUL right after
   the token fails it (nothing appended) unless nul_replacement is set. */
int rfc822_parse_mime_token(struct rfc822_parser *ctx, string_t *str);
/* "type/subtype" appended as written; only ';' (parameters) or the end
   may follow. On -1, str keeps what was read: "text" when the input
   ends after the type, "" in every other broken case. */
int rfc822_parse_content_type(struct rfc822_parser *ctx, string_t *str);
/* One "; name=value" parameter into key and value (both cleared first).
   Returns 0 at the end of input, -1 on a broken parameter. */
int rfc822_parse_content_param(struct rfc822_parser *ctx, string_t *key,
			       string_t *value);

/* Every parameter after a Content-Type or Content-Disposition value,
   RFC 2231 continuations merged the way Dovecot does: "name*0", "name*1"
   become "name"; with any "*" (extended) piece the result is "name*" and
   its value stays percent-encoded ("utf-8''%E2%82%AC"); incomplete
   sequences are kept as they were written. Plain parameters come first,
   then the merged ones sorted by name (case-sensitively, as Dovecot:
   "B*0" and "b*1" are different parameters). NULs in values become U+FFFD.
   Returns 0, or -1 if some parameter was broken (the rest are still
   returned). The array and strings come from pool. */
int rfc2231_parse(struct rfc822_parser *ctx, pool_t pool,
		  struct mime_param **params_r, unsigned int *count_r);

/* Decode an RFC 2231 extended value "charset'language'%XX...": the
   charset is appended to charset, the raw bytes to dest. Returns false
   if the value lacks the two quotes. */
bool rfc2231_decode_value(const char *value, string_t *charset,
			  string_t *dest);

#endif

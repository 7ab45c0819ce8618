/* imap-parser.h - the IMAP command parser (RFC 3501 section 9 syntax),
 * shared by imap-login and the logged-in session. It is fed bytes as
 * they arrive and keeps its place between calls, so a command never
 * has to sit whole in the connection's input buffer:
 *
 *   size_t used;
 *   int ret = imap_parser_read(parser, data, size, &used, flags, 0);
 *   connection_input_skip(conn, used);
 *   if (imap_parser_want_continuation(parser))  send "+ OK"
 *   ret 1: imap_parser_get_args() holds the command; imap_parser_reset()
 *   ret 0: feed more bytes;  ret -1: imap_parser_get_error()
 *
 * Bounded: every byte of the command (literals included, except the
 * message literals of APPEND read with IMAP_PARSE_FLAG_LITERAL_SIZE) counts
 * against max_size, a literal announced beyond the remaining budget is
 * refused before a byte of it is read, and lists nest at most
 * IMAP_PARSER_MAX_DEPTH deep. An idle parser (after reset) holds no
 * memory beyond its small struct. */
#ifndef ROOST_IMAP_PARSER_H
#define ROOST_IMAP_PARSER_H

#include "lib.h"

#define IMAP_PARSER_MAX_DEPTH 64

enum imap_arg_type {
	IMAP_ARG_EOL = 0,	/* terminates every arg array */
	IMAP_ARG_NIL,		/* the atom NIL (str is "NIL") */
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING,	/* "quoted" */
	IMAP_ARG_LITERAL,	/* {n} data (str holds the data) */
	IMAP_ARG_LIST,		/* ( ... ) */
	/* IMAP_PARSE_FLAG_LITERAL_SIZE: {n}/~{n} whose data the caller
	   reads itself (APPEND message); always the last arg returned */
	IMAP_ARG_LITERAL_SIZE,
};

struct imap_arg {
	enum imap_arg_type type;
	/* ~{n} (RFC 3516 literal8) */
	bool literal8;
	/* LITERAL_SIZE: the client waits for "+ OK" before sending */
	bool literal_sync;
	/* ATOM/NIL/STRING/LITERAL: NUL-terminated (a literal may hold
	   NULs: use str_len) */
	const char *str;
	size_t str_len;
	/* LIST: EOL-terminated array */
	const struct imap_arg *list;
	unsigned int list_count;
	uint64_t literal_size;
};

enum imap_parse_flags {
	/* stop at a literal and return it as IMAP_ARG_LITERAL_SIZE */
	IMAP_PARSE_FLAG_LITERAL_SIZE = 0x01,
	/* accept ~{n} literal8 */
	IMAP_PARSE_FLAG_LITERAL8 = 0x02,
	/* the server does not announce LITERAL+: {n+} is an error */
	IMAP_PARSE_FLAG_NO_LITERAL_PLUS = 0x04,
	/* LITERAL- (RFC 7888): {n+} only up to 4096 bytes */
	IMAP_PARSE_FLAG_LITERAL_MINUS = 0x08,
};

struct imap_parser;

struct imap_parser *imap_parser_create(size_t max_size);
void imap_parser_destroy(struct imap_parser **parser);
/* Forget the command: ready for the next one (frees its memory). */
void imap_parser_reset(struct imap_parser *parser);

/* Parse from data. count: stop after that many top-level args (0: at
 * the end of the line). *consumed_r: bytes used (the caller drops
 * them). Returns 1 when the args are complete (the line's CRLF, when
 * reached, is consumed), 0 when more input is needed, -1 on error. */
int imap_parser_read(struct imap_parser *parser, const unsigned char *data,
		     size_t size, size_t *consumed_r,
		     enum imap_parse_flags flags, unsigned int count);
/* The args parsed so far, EOL-terminated; valid until the next read or
 * reset. */
const struct imap_arg *imap_parser_get_args(struct imap_parser *parser,
					    unsigned int *count_r);
/* True once after a synchronizing literal's "{n}\r\n" was read: the
 * caller sends "+ OK" (unless it refuses the command). */
bool imap_parser_want_continuation(struct imap_parser *parser);
/* The reason of the last -1, and whether the connection must go (the
 * client sent a non-synchronizing literal we refused: its bytes follow
 * and cannot be told apart from commands). Otherwise the caller skips
 * the rest of the line (imap_parser_skip_line). */
const char *imap_parser_get_error(struct imap_parser *parser, bool *fatal_r);
/* After an error: drop input up to and including the next LF. Returns
 * the bytes to drop and whether the LF was found. */
size_t imap_parser_skip_line(const unsigned char *data, size_t size,
			     bool *found_r);
/* Did the line end (its LF consumed) with the last read? */
bool imap_parser_is_line_done(const struct imap_parser *parser);
/* Bytes of the atom or quoted string being read (0 between tokens and
 * inside literals): a login worker refuses overlong tokens early. */
size_t imap_parser_token_len(const struct imap_parser *parser);
/* Has the parser seen any byte of a command since the last reset? */
bool imap_parser_is_started(const struct imap_parser *parser);

/* After a read that returned 0: did it stop at a literal inside the list
 * after a CATENATE (RFC 4469) or UTF8 (RFC 6855 APPEND) atom? Its LITERAL_SIZE arg is the last one
 * of imap_parser_get_open_list(); the caller consumes the literal's bytes
 * itself, then reads on (needs IMAP_PARSE_FLAG_LITERAL_SIZE). */
bool imap_parser_literal_pending(const struct imap_parser *parser);
/* The args of the innermost list still open (not EOL-terminated), valid
 * until the next read. */
const struct imap_arg *imap_parser_get_open_list(struct imap_parser *parser,
						 unsigned int *count_r);

/* ---- looking at args ---- */

static inline bool imap_arg_is_eol(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_EOL;
}
/* ATOM (not NIL unless nil_ok) */
bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r);
/* quoted or literal */
bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r);
/* atom, NIL (as "NIL"), quoted or literal */
bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r);
/* string or NIL (*str_r = NULL) */
bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r);
bool imap_arg_get_list(const struct imap_arg *arg,
		       const struct imap_arg **list_r);
/* case-insensitive atom compare */
bool imap_arg_atom_equals(const struct imap_arg *arg, const char *str);

#endif

/* message-header.h - iterate over the fields of an RFC 5322 header held
 * in memory (folded lines, fields without a colon, NUL bytes), turn raw
 * values into the strings IMAP and SEARCH use, and decode RFC 2047
 * encoded words to UTF-8.
 *
 *   struct message_header_iter iter;
 *   struct message_header_line line;
 *   message_header_iter_init(&iter, hdr, hdr_size);
 *   while (message_header_iter_next(&iter, &line)) {
 *           if (message_header_line_is(&line, "Subject")) ...
 *   }
 *
 * Nothing is copied: lines point into the caller's buffer (usually the
 * mmap()ed message). */
#ifndef ROOST_MESSAGE_HEADER_H
#define ROOST_MESSAGE_HEADER_H

#include "lib.h"
#include "pool.h"
#include "str.h"

struct message_header_line {
	/* Field name, trailing blanks removed. For a line without a colon
	   it is the whole line; for continuation lines at the very start
	   of the header (no field to continue) it is empty. */
	const unsigned char *name;
	size_t name_len;
	/* Raw value: after the colon and the blanks that follow it, up to
	   the last line end (excluded). Folded lines keep their CR/LF and
	   leading whitespace. */
	const unsigned char *value;
	size_t value_len;
	/* Offset of the field's first byte within the header block, and
	   its size including the final line end. */
	size_t offset, size;
	bool no_colon;		/* first line had no ':' */
	bool no_newline;	/* the data ended before the field's LF */
	bool has_nuls;		/* a NUL byte somewhere in the field */
};

struct message_header_iter {
	const unsigned char *data;
	size_t size, pos;
	bool eoh;		/* the blank line (or end of data) was seen */
};

/* Iterate over the header at data. Iteration stops at the first empty
   line or at size; message_header_iter_end() then gives the offset just
   past the empty line. */
void message_header_iter_init(struct message_header_iter *iter,
			      const void *data, size_t size);
bool message_header_iter_next(struct message_header_iter *iter,
			      struct message_header_line *line_r);
size_t message_header_iter_end(const struct message_header_iter *iter);

/* Case-insensitive name comparison. */
bool message_header_line_is(const struct message_header_line *line,
			    const char *name);

/* The value as Dovecot's parsers see it ("full value"): the CR of each
   CRLF dropped, folding LFs and whitespace kept. Appended to dest. */
void message_header_value_get(const struct message_header_line *line,
			      string_t *dest);
/* Duplicate size bytes, replacing NULs with U+FFFD (Dovecot's
   message_header_strdup semantics). */
const char *message_header_strdup(pool_t pool, const void *data,
				  size_t size);
/* The value unfolded onto one line: CR and LF removed, NULs as U+FFFD. */
void message_header_value_unfold(const struct message_header_line *line,
				 string_t *dest);

/* Decode RFC 2047 encoded words (=?charset?Q|B?text?=) in size bytes of
   a header value and append UTF-8 to dest: whitespace between adjacent
   encoded words is dropped, words in unknown charsets or with broken
   syntax are kept as written, and any invalid UTF-8 (decoded or raw)
   becomes U+FFFD. Returns true if everything decoded cleanly. */
bool message_header_decode_utf8(const void *data, size_t size,
				string_t *dest);

/* Appends the normalized form of size bytes of valid UTF-8 to dest. */
typedef int message_header_normalizer_t(const void *data, size_t size,
					string_t *dest);
/* message_header_decode_utf8() with the plain text and every decoded
   word put through normalize, except words in charsets iconv doesn't
   know: those are appended as they are (only made valid UTF-8), as
   Dovecot decodes for SEARCH and SORT (so "=?x-unknown?q?abc?=" is
   "abc", not "ABC", in i;unicode-casemap text). */
bool message_header_decode_utf8_normalized(const void *data, size_t size,
					   string_t *dest,
					   message_header_normalizer_t *normalize);

#endif

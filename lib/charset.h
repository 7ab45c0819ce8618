/* charset.h - text in a named charset to UTF-8 (through iconv), and
 * UTF-8 validation. Used for RFC 2047 header words, body text searched
 * by SEARCH, and anything else that must become UTF-8.
 *
 * Invalid input never fails a conversion: bad bytes become U+FFFD and
 * the caller is told ("translated with errors"). Only an unknown charset
 * is an error. "us-ascii", "utf-8" and "utf8" (any case) need no iconv:
 * the bytes are only validated as UTF-8. */
#ifndef ROOST_CHARSET_H
#define ROOST_CHARSET_H

#include "lib.h"
#include "str.h"

#define UNICODE_REPLACEMENT_CHAR_UTF8 "\xef\xbf\xbd"

enum charset_result {
	CHARSET_RET_OK = 1,
	/* the input ends inside a multibyte sequence: feed the rest again
	   together with more data (streaming only) */
	CHARSET_RET_INCOMPLETE_INPUT = 0,
	/* some bytes were invalid and became U+FFFD */
	CHARSET_RET_INVALID_INPUT = -1,
};

struct charset_translation;

/* True for the names that are handled as UTF-8 without iconv. */
bool charset_is_utf8(const char *charset);

/* Start a streaming translation. Returns 0, or -1 for a charset iconv
   does not know, with *error_r set to "Unknown charset". */
int charset_to_utf8_begin(const char *charset,
			  struct charset_translation **t_r,
			  const char **error_r);
void charset_to_utf8_end(struct charset_translation **t);
/* Forget any state (for ISO-2022-* shift states) before new text. */
void charset_to_utf8_reset(struct charset_translation *t);
/* Translate *src_size bytes, appending UTF-8 to dest. On
   CHARSET_RET_INCOMPLETE_INPUT, *src_size is set to the bytes used. */
enum charset_result charset_to_utf8(struct charset_translation *t,
				    const void *src, size_t *src_size,
				    string_t *dest);

/* One shot: the whole of src, an incomplete tail becoming U+FFFD.
   Returns 0 (with *invalid_r telling whether anything was replaced) or
   -1 for an unknown charset, dest then unchanged. */
int charset_to_utf8_str(const char *charset, const void *src, size_t size,
			string_t *dest, bool *invalid_r);

/* UTF-8 validity (overlongs, surrogates and code points past U+10FFFF
   are invalid). */
bool uni_utf8_data_is_valid(const void *data, size_t size);
/* Append data with every invalid sequence replaced by U+FFFD. Returns
   true if nothing was replaced. */
bool uni_utf8_get_valid_data(const void *data, size_t size, string_t *dest);
/* Length of the valid UTF-8 sequence at data (1-4), or 0 if the bytes
   there do not start one. */
unsigned int uni_utf8_char_len(const unsigned char *data, size_t size);

#endif

/* str.h - growable byte strings that carry their length and capacity and
 * always keep a NUL after the data (Postfix VSTRING, Dovecot string_t). */
#ifndef ROOST_STR_H
#define ROOST_STR_H

#include "lib.h"

typedef struct string {
	char *data;	/* always NUL-terminated; may contain NULs */
	size_t len;	/* bytes used, not counting the spare NUL */
	size_t cap;	/* bytes allocated, including the spare NUL */
} string_t;

string_t *str_new(size_t initial_size);
void str_free(string_t **str);
/* Give up ownership of the buffer: returns the data, frees the struct. */
char *str_free_without_data(string_t **str);

/* Make room for at least extra more bytes (plus the spare NUL). */
void str_reserve(string_t *str, size_t extra);
void str_append(string_t *str, const char *cstr);
void str_append_n(string_t *str, const void *data, size_t len);
void str_append_c_grow(string_t *str, char c);
/* inline: it is called per byte in decoders and case folding */
static inline void str_append_c(string_t *str, char c)
{
	if (str->cap - str->len >= 2) {
		str->data[str->len++] = c;
		str->data[str->len] = '\0';
	} else {
		str_append_c_grow(str, c);
	}
}
void str_append_str(string_t *dest, const string_t *src);
void str_printfa(string_t *str, const char *fmt, ...) ATTR_FORMAT(2, 3);
void str_vprintfa(string_t *str, const char *fmt, va_list args)
	ATTR_FORMAT(2, 0);
void str_insert(string_t *str, size_t pos, const char *cstr);
void str_delete(string_t *str, size_t pos, size_t len);
void str_truncate(string_t *str, size_t len);
static inline void str_clear(string_t *str) { str_truncate(str, 0); }

static inline const char *str_c(const string_t *str) { return str->data; }
static inline size_t str_len(const string_t *str) { return str->len; }
bool str_equals(const string_t *s1, const string_t *s2);

/* Lowercase / uppercase ASCII letters in place. */
void str_lcase(string_t *str);
void str_ucase(string_t *str);

#endif

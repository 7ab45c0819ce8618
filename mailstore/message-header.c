/* message-header.c - header field iteration over an in-memory header,
 * value helpers and RFC 2047 decoding. */
#include "message-header.h"
#include "rfc822-parser.h"
#include "charset.h"
#include "hex.h"

#include <strings.h>

void message_header_iter_init(struct message_header_iter *iter,
			      const void *data, size_t size)
{
	memset(iter, 0, sizeof(*iter));
	iter->data = data;
	iter->size = size;
}

/* Offset just past the LF ending the line at pos (or size). */
static size_t line_next(const unsigned char *data, size_t size, size_t pos)
{
	const unsigned char *lf = memchr(data + pos, '\n', size - pos);

	return lf == NULL ? size : (size_t)(lf - data) + 1;
}

static bool is_blank_line(const unsigned char *data, size_t size,
			  size_t pos, size_t *end_r)
{
	if (data[pos] == '\n') {
		*end_r = pos + 1;
		return true;
	}
	if (data[pos] == '\r' && pos + 1 < size && data[pos + 1] == '\n') {
		*end_r = pos + 2;
		return true;
	}
	return false;
}

static void header_line_split(struct message_header_line *line,
			      const unsigned char *start,
			      const unsigned char *first_end,
			      const unsigned char *value_end)
{
	const unsigned char *colon, *name_end, *v;

	if (*start == ' ' || *start == '\t') {
		/* continuation with nothing to continue */
		line->name = start;
		line->name_len = 0;
		line->value = start;
		line->value_len = (size_t)(value_end - start);
		return;
	}
	colon = memchr(start, ':', (size_t)(first_end - start));
	if (colon == NULL) {
		line->no_colon = true;
		name_end = first_end;
		v = value_end;
	} else {
		name_end = colon;
		v = colon + 1;
		while (v < value_end && (*v == ' ' || *v == '\t'))
			v++;
	}
	while (name_end > start && (name_end[-1] == ' ' ||
				    name_end[-1] == '\t'))
		name_end--;
	line->name = start;
	line->name_len = (size_t)(name_end - start);
	line->value = v;
	line->value_len = (size_t)(value_end - v);
}

bool message_header_iter_next(struct message_header_iter *iter,
			      struct message_header_line *line_r)
{
	const unsigned char *data = iter->data;
	size_t start = iter->pos, end, first_end, value_end;

	memset(line_r, 0, sizeof(*line_r));
	if (iter->eoh || start >= iter->size) {
		iter->eoh = true;
		return false;
	}
	if (is_blank_line(data, iter->size, start, &end)) {
		iter->pos = end;
		iter->eoh = true;
		return false;
	}
	end = line_next(data, iter->size, start);
	first_end = end;
	while (end < iter->size && (data[end] == ' ' || data[end] == '\t'))
		end = line_next(data, iter->size, end);
	iter->pos = end;

	value_end = end;
	if (value_end > start && data[value_end - 1] == '\n') {
		value_end--;
		if (value_end > start && data[value_end - 1] == '\r')
			value_end--;
	} else {
		line_r->no_newline = true;
	}
	if (first_end > value_end)
		first_end = value_end;
	header_line_split(line_r, data + start, data + first_end,
			  data + value_end);
	line_r->offset = start;
	line_r->size = end - start;
	line_r->has_nuls = memchr(data + start, '\0', end - start) != NULL;
	return true;
}

size_t message_header_iter_end(const struct message_header_iter *iter)
{
	return iter->pos;
}

bool message_header_line_is(const struct message_header_line *line,
			    const char *name)
{
	size_t len = strlen(name);

	return line->name_len == len &&
		strncasecmp((const char *)line->name, name, len) == 0;
}

void message_header_value_get(const struct message_header_line *line,
			      string_t *dest)
{
	const unsigned char *p = line->value, *end = p + line->value_len;
	const unsigned char *start = p;

	for (; p < end; p++) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n') {
			str_append_n(dest, start, (size_t)(p - start));
			start = p + 1;
		}
	}
	str_append_n(dest, start, (size_t)(end - start));
}

const char *message_header_strdup(pool_t pool, const void *data, size_t size)
{
	const unsigned char *p = data;
	string_t *str;
	char *ret;
	size_t i, start = 0;

	if (memchr(p, '\0', size) == NULL)
		return p_strndup(pool, p, size);
	str = str_new(size + 16);
	for (i = 0; i < size; i++) {
		if (p[i] != '\0')
			continue;
		str_append_n(str, p + start, i - start);
		str_append(str, RFC822_NUL_REPLACEMENT);
		start = i + 1;
	}
	str_append_n(str, p + start, size - start);
	ret = p_strndup(pool, str_c(str), str_len(str));
	str_free(&str);
	return ret;
}

void message_header_value_unfold(const struct message_header_line *line,
				 string_t *dest)
{
	size_t i;

	for (i = 0; i < line->value_len; i++) {
		unsigned char c = line->value[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c == '\0')
			str_append(dest, RFC822_NUL_REPLACEMENT);
		else
			str_append_c(dest, (char)c);
	}
}

/* ---- RFC 2047 ---- */

struct encoded_word {
	const unsigned char *charset, *text;
	size_t charset_len, text_len;
	char encoding;		/* 'Q' or 'B' */
	size_t size;		/* of the whole "=?...?=" */
};

/* Parse "=?charset?X?text?=" at data (which starts with "=?"). */
static bool encoded_word_parse(const unsigned char *data, size_t size,
			       struct encoded_word *w)
{
	const unsigned char *p = data + 2, *end = data + size, *q;

	q = p;
	while (q < end && *q != '?' && *q != ' ' && *q != '\t' &&
	       *q != '\r' && *q != '\n')
		q++;
	if (q == p || q + 3 > end || *q != '?' || q[2] != '?')
		return false;
	w->charset = p;
	w->charset_len = (size_t)(q - p);
	w->encoding = (char)(q[1] & ~0x20);
	if (w->encoding != 'Q' && w->encoding != 'B')
		return false;
	w->text = q + 3;
	for (q = w->text; q + 1 < end; q++) {
		if (*q == '?' && q[1] == '=') {
			w->text_len = (size_t)(q - w->text);
			w->size = (size_t)(q + 2 - data);
			return true;
		}
	}
	return false;
}

static void decode_q(const unsigned char *p, size_t size, string_t *dest)
{
	size_t i;

	for (i = 0; i < size; i++) {
		int hi, lo;

		if (p[i] == '_') {
			str_append_c(dest, ' ');
		} else if (p[i] == '=' && i + 2 < size &&
			   (hi = hex_digit_value(p[i + 1])) >= 0 &&
			   (lo = hex_digit_value(p[i + 2])) >= 0) {
			str_append_c(dest, (char)(hi << 4 | lo));
			i += 2;
		} else {
			str_append_c(dest, (char)p[i]);
		}
	}
}

/* Lenient base64: characters outside the alphabet are skipped. */
static void decode_b(const unsigned char *p, size_t size, string_t *dest)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789+/";
	unsigned int acc = 0, bits = 0;
	size_t i;

	for (i = 0; i < size && p[i] != '='; i++) {
		const char *pos = p[i] == '\0' ? NULL :
			strchr(alphabet, p[i]);

		if (pos == NULL)
			continue;
		acc = (acc << 6) | (unsigned int)(pos - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			str_append_c(dest, (char)((acc >> bits) & 0xff));
		}
	}
}

/* Append size bytes of valid UTF-8 to dest, through normalize if set. */
static void append_normalized(const void *data, size_t size, string_t *dest,
			      message_header_normalizer_t *normalize)
{
	if (normalize == NULL)
		str_append_n(dest, data, size);
	else
		(void)normalize(data, size, dest);
}

/* Decode one word into UTF-8; false if its bytes were not clean. A word
   in a charset iconv doesn't know is kept as far as it is valid UTF-8,
   not normalized (as Dovecot). */
static bool encoded_word_decode(const struct encoded_word *w,
				string_t *dest,
				message_header_normalizer_t *normalize)
{
	string_t *raw = str_new(w->text_len + 1);
	string_t *utf8 = normalize == NULL ? dest : str_new(w->text_len + 16);
	char charset[128];
	size_t clen = MIN(w->charset_len, sizeof(charset) - 1);
	char *star;
	bool invalid = false, ok;

	/* @UNSAFE: clen is bounded by the buffer */
	memcpy(charset, w->charset, clen);
	charset[clen] = '\0';
	/* RFC 2231 section 5: "charset*language" */
	if ((star = strchr(charset, '*')) != NULL)
		*star = '\0';
	if (w->encoding == 'Q')
		decode_q(w->text, w->text_len, raw);
	else
		decode_b(w->text, w->text_len, raw);
	if (charset_to_utf8_str(charset, str_c(raw), str_len(raw), utf8,
				&invalid) < 0) {
		/* unknown charset: keep what is valid UTF-8 */
		ok = uni_utf8_get_valid_data(str_c(raw), str_len(raw), dest);
		invalid = !ok;
	} else if (utf8 != dest) {
		append_normalized(str_c(utf8), str_len(utf8), dest, normalize);
	}
	if (utf8 != dest)
		str_free(&utf8);
	str_free(&raw);
	return !invalid;
}

/* Plain text between words: invalid UTF-8 as U+FFFD, normalized. */
static bool plain_decode(const unsigned char *p, size_t size, string_t *dest,
			 message_header_normalizer_t *normalize)
{
	string_t *valid;
	bool ok;

	if (normalize == NULL)
		return uni_utf8_get_valid_data(p, size, dest);
	valid = str_new(size + 16);
	ok = uni_utf8_get_valid_data(p, size, valid);
	append_normalized(str_c(valid), str_len(valid), dest, normalize);
	str_free(&valid);
	return ok;
}

static bool only_lwsp(const unsigned char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
		    p[i] != '\n')
			return false;
	}
	return true;
}

bool message_header_decode_utf8(const void *data, size_t size,
				string_t *dest)
{
	return message_header_decode_utf8_normalized(data, size, dest, NULL);
}

bool message_header_decode_utf8_normalized(const void *data, size_t size,
					   string_t *dest,
					   message_header_normalizer_t *normalize)
{
	const unsigned char *p = data;
	size_t pos = 0, plain_start = 0;
	bool last_encoded = false, clean = true;

	while (pos + 1 < size) {
		struct encoded_word w;

		if (p[pos] != '=' || p[pos + 1] != '?' ||
		    !encoded_word_parse(p + pos, size - pos, &w)) {
			pos++;
			continue;
		}
		if (!last_encoded ||
		    !only_lwsp(p + plain_start, pos - plain_start)) {
			if (!plain_decode(p + plain_start,
					  pos - plain_start, dest, normalize))
				clean = false;
		}
		if (!encoded_word_decode(&w, dest, normalize))
			clean = false;
		pos += w.size;
		plain_start = pos;
		last_encoded = true;
	}
	if (!plain_decode(p + plain_start, size - plain_start, dest,
			  normalize))
		clean = false;
	return clean;
}

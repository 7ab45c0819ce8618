/* imap-utf8.c - UTF8=ACCEPT output (see imap-utf8.h). ENVELOPE and
 * BODYSTRUCTURE are made (and cached) as Dovecot 2.3 writes them, 8-bit
 * strings as literals; for a client that enabled UTF8=ACCEPT the UTF-8
 * ones become quoted strings here. */
#include "imap-utf8.h"
#include "charset.h"

#include <limits.h>

/* The literal at src[i] ("{n}\r\n" + n bytes): sets *data_r, *len_r and
   returns its total length, or 0 if it isn't one. */
static size_t literal_at(const char *src, size_t size, size_t i,
			 size_t *data_r, size_t *len_r)
{
	size_t j = i + 1, n = 0;

	if (j >= size || src[j] < '0' || src[j] > '9')
		return 0;
	for (; j < size && src[j] >= '0' && src[j] <= '9'; j++) {
		if (n > (SIZE_MAX - 9) / 10)
			return 0;
		n = n * 10 + (size_t)(src[j] - '0');
	}
	if (size - j < 3 || src[j] != '}' || src[j + 1] != '\r' ||
	    src[j + 2] != '\n')
		return 0;
	j += 3;
	if (n > size - j)
		return 0;
	*data_r = j;
	*len_r = n;
	return j + n - i;
}

static bool utf8_quotable(const unsigned char *p, size_t len)
{
	bool high = false;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
			return false;
		if (p[i] >= 0x80)
			high = true;
	}
	return high && uni_utf8_data_is_valid(p, len);
}

void imap_utf8_literals_to_quoted(const char *src, size_t size,
				  string_t *dest)
{
	size_t i = 0;

	while (i < size) {
		size_t start = i, data, len, total;

		if (src[i] == '"') {
			/* a quoted string: copied to its closing quote */
			for (i++; i < size && src[i] != '"'; i++) {
				if (src[i] == '\\' && i + 1 < size)
					i++;
			}
			if (i < size)
				i++;
			str_append_n(dest, src + start, i - start);
			continue;
		}
		if (src[i] == '{' &&
		    (total = literal_at(src, size, i, &data, &len)) > 0) {
			i += total;
			if (!utf8_quotable((const unsigned char *)src + data,
					   len)) {
				str_append_n(dest, src + start, total);
				continue;
			}
			str_append_c(dest, '"');
			for (size_t k = data; k < data + len; k++) {
				if (src[k] == '"' || src[k] == '\\')
					str_append_c(dest, '\\');
				str_append_c(dest, src[k]);
			}
			str_append_c(dest, '"');
			continue;
		}
		/* anything else up to the next string */
		for (i++; i < size && src[i] != '"' && src[i] != '{'; i++) ;
		str_append_n(dest, src + start, i - start);
	}
}

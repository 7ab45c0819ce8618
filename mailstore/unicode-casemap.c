/* unicode-casemap.c - i;unicode-casemap (RFC 5051): a binary search in
 * the generated table, ASCII and Hangul done here. */
#include "unicode-casemap.h"
#include "unicode-casemap-private.h"
#include "charset.h"
#include "unichar.h"

#define HANGUL_FIRST 0xac00
#define HANGUL_LAST 0xd7a3
#define HANGUL_L 0x1100
#define HANGUL_V 0x1161
#define HANGUL_T 0x11a7
#define HANGUL_V_COUNT 21
#define HANGUL_T_COUNT 28

const unsigned char *uni_ucs4_casemap(uint32_t c, unsigned int *len_r)
{
	unsigned int lo = 0, hi = uni_casemap_count;

	if (c < 0x10000 &&
	    (uni_casemap_bmp_blocks[c >> 9] & (1U << ((c >> 6) & 7))) == 0) {
		/* nothing in this block of 64 changes (most of CJK) */
		*len_r = 0;
		return NULL;
	}

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (uni_casemap_keys[mid] < c)
			lo = mid + 1;
		else if (uni_casemap_keys[mid] > c)
			hi = mid;
		else {
			uint32_t v = uni_casemap_vals[mid];

			*len_r = v & 0xff;
			return uni_casemap_utf8 + (v >> 8);
		}
	}
	*len_r = 0;
	return NULL;
}

/* a conjoining jamo (U+1100..U+11FF) as its three UTF-8 bytes */
static inline unsigned char *put_jamo(unsigned char *d, uint32_t c)
{
	d[0] = 0xe1;
	d[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
	d[2] = (unsigned char)(0x80 | (c & 0x3f));
	return d + 3;
}

static void hangul_decompose(uint32_t c, string_t *dest)
{
	uint32_t s = c - HANGUL_FIRST;
	uint32_t t = s % HANGUL_T_COUNT;
	unsigned char *d, *start;

	str_reserve(dest, 9);
	start = d = (unsigned char *)dest->data + dest->len;
	d = put_jamo(d, HANGUL_L + s / (HANGUL_V_COUNT * HANGUL_T_COUNT));
	d = put_jamo(d, HANGUL_V + (s % (HANGUL_V_COUNT * HANGUL_T_COUNT)) /
		     HANGUL_T_COUNT);
	if (t != 0)
		d = put_jamo(d, HANGUL_T + t);
	dest->len += (size_t)(d - start);
	dest->data[dest->len] = '\0';
}

/* str_append_n() inline: this runs over every byte SEARCH looks at */
static inline void append(string_t *dest, const void *data, size_t len)
{
	if (dest->cap - dest->len <= len)
		str_reserve(dest, len);
	memcpy(dest->data + dest->len, data, len);
	dest->len += len;
	dest->data[dest->len] = '\0';
}

/* U+FFFD, once for a run of invalid bytes (nor after a U+FFFD that was
   in the text), as Dovecot does */
static void add_replacement_char(string_t *dest)
{
	size_t len = str_len(dest);

	if (len >= 3 && memcmp(str_c(dest) + len - 3, "\xef\xbf\xbd", 3) == 0)
		return;
	str_append_n(dest, "\xef\xbf\xbd", 3);
}

int uni_utf8_to_casemap(const void *data, size_t size, string_t *dest)
{
	const unsigned char *p = data;
	size_t i = 0;
	int ret = 0;

	while (i < size) {
		const unsigned char *m;
		unsigned int len, mlen;
		uint32_t c;

		if (p[i] < 0x80) {
			/* a run of ASCII: only a-z change, written in place */
			size_t start = i, n;
			char *d;

			while (i < size && p[i] < 0x80)
				i++;
			n = i - start;
			str_reserve(dest, n);
			d = dest->data + dest->len;
			for (size_t k = 0; k < n; k++) {
				unsigned char b = p[start + k];

				d[k] = (char)(b >= 'a' && b <= 'z' ? b - 32 : b);
			}
			dest->len += n;
			dest->data[dest->len] = '\0';
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf && i + 1 < size &&
		    (p[i + 1] & 0xc0) == 0x80) {
			/* two bytes: a direct lookup */
			uint32_t k = uni_casemap_2byte[(((p[i] & 0x1fU) << 6) |
						       (p[i + 1] & 0x3fU)) - 0x80];

			if (k == 0) {
				append(dest, p + i, 2);
			} else {
				uint32_t v = uni_casemap_vals[k - 1];

				append(dest, uni_casemap_utf8 + (v >> 8),
					     v & 0xff);
			}
			i += 2;
			continue;
		}
		if (p[i] >= 0xe0 && p[i] <= 0xef && size - i >= 3 &&
		    (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80) {
			/* three bytes: decoded here */
			c = ((p[i] & 0x0fU) << 12) | ((p[i + 1] & 0x3fU) << 6) |
				(p[i + 2] & 0x3fU);
			if (c >= 0x800 && (c < 0xd800 || c > 0xdfff)) {
				if (c >= HANGUL_FIRST && c <= HANGUL_LAST)
					hangul_decompose(c, dest);
				else if ((m = uni_ucs4_casemap(c, &mlen)) != NULL)
					append(dest, m, mlen);
				else
					append(dest, p + i, 3);
				i += 3;
				continue;
			}
		}
		len = uni_utf8_char_len(p + i, size - i);
		if (len == 0) {
			add_replacement_char(dest);
			ret = -1;
			i++;
			continue;
		}
		(void)uni_utf8_get_char(p + i, &c);
		if (c >= HANGUL_FIRST && c <= HANGUL_LAST)
			hangul_decompose(c, dest);
		else if ((m = uni_ucs4_casemap(c, &mlen)) != NULL)
			append(dest, m, mlen);
		else
			append(dest, p + i, len);
		i += len;
	}
	return ret;
}

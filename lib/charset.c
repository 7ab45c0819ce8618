/* charset.c - charset to UTF-8 through iconv, with U+FFFD for invalid
 * bytes, and UTF-8 validation. */
#include "charset.h"

#include <errno.h>
#include <iconv.h>
#include <strings.h>

struct charset_translation {
	iconv_t cd;		/* (iconv_t)-1 for the UTF-8 pass-through */
};

bool charset_is_utf8(const char *charset)
{
	return strcasecmp(charset, "us-ascii") == 0 ||
		strcasecmp(charset, "utf-8") == 0 ||
		strcasecmp(charset, "utf8") == 0;
}

int charset_to_utf8_begin(const char *charset,
			  struct charset_translation **t_r,
			  const char **error_r)
{
	struct charset_translation *t;
	iconv_t cd = (iconv_t)-1;

	if (!charset_is_utf8(charset)) {
		cd = iconv_open("UTF-8", charset);
		if (cd == (iconv_t)-1) {
			*error_r = "Unknown charset";
			return -1;
		}
	}
	t = i_new(struct charset_translation, 1);
	t->cd = cd;
	*t_r = t;
	return 0;
}

void charset_to_utf8_end(struct charset_translation **_t)
{
	struct charset_translation *t = *_t;

	if (t == NULL)
		return;
	*_t = NULL;
	if (t->cd != (iconv_t)-1)
		iconv_close(t->cd);
	free(t);
}

void charset_to_utf8_reset(struct charset_translation *t)
{
	if (t->cd != (iconv_t)-1)
		(void)iconv(t->cd, NULL, NULL, NULL, NULL);
}

unsigned int uni_utf8_char_len(const unsigned char *p, size_t size)
{
	unsigned int len, i;
	uint32_t cp;

	if (size == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (size < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Bytes of the longest prefix of an incomplete but so far valid
   sequence at the end of the data (0 if none). */
static size_t utf8_incomplete_tail(const unsigned char *p, size_t size)
{
	size_t i, back;

	for (back = 1; back <= 3 && back <= size; back++) {
		unsigned char c = p[size - back];
		unsigned int need;

		if ((c & 0xc0) == 0x80)
			continue;
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
		if (need <= back)
			return 0;
		for (i = size - back + 1; i < size; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		}
		return back;
	}
	return 0;
}

bool uni_utf8_data_is_valid(const void *data, size_t size)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < size) {
		unsigned int len = uni_utf8_char_len(p + i, size - i);

		if (len == 0)
			return false;
		i += len;
	}
	return true;
}

bool uni_utf8_get_valid_data(const void *data, size_t size, string_t *dest)
{
	const unsigned char *p = data;
	size_t i = 0, start = 0;
	bool valid = true;

	while (i < size) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		unsigned int len = uni_utf8_char_len(p + i, size - i);

		if (len > 0) {
			i += len;
			continue;
		}
		str_append_n(dest, p + start, i - start);
		str_append(dest, UNICODE_REPLACEMENT_CHAR_UTF8);
		valid = false;
		start = ++i;
	}
	str_append_n(dest, p + start, i - start);
	return valid;
}

static enum charset_result
utf8_pass_through(const unsigned char *src, size_t *src_size, string_t *dest)
{
	size_t size = *src_size, tail = utf8_incomplete_tail(src, size);
	bool valid = uni_utf8_get_valid_data(src, size - tail, dest);

	if (tail > 0) {
		*src_size = size - tail;
		return CHARSET_RET_INCOMPLETE_INPUT;
	}
	return valid ? CHARSET_RET_OK : CHARSET_RET_INVALID_INPUT;
}

enum charset_result charset_to_utf8(struct charset_translation *t,
				    const void *src, size_t *src_size,
				    string_t *dest)
{
	char *in = (char *)src;
	size_t inleft = *src_size;
	bool invalid = false;

	if (t->cd == (iconv_t)-1)
		return utf8_pass_through(src, src_size, dest);
	while (inleft > 0) {
		char buf[4096], *out = buf;
		size_t outleft = sizeof(buf);
		size_t ret = iconv(t->cd, &in, &inleft, &out, &outleft);
		int err = errno;

		str_append_n(dest, buf, sizeof(buf) - outleft);
		if (ret != (size_t)-1 || err == E2BIG)
			continue;
		if (err == EINVAL) {
			/* incomplete multibyte sequence at the end */
			*src_size -= inleft;
			return CHARSET_RET_INCOMPLETE_INPUT;
		}
		/* EILSEQ: replace one byte and go on */
		str_append(dest, UNICODE_REPLACEMENT_CHAR_UTF8);
		in++;
		inleft--;
		invalid = true;
	}
	return invalid ? CHARSET_RET_INVALID_INPUT : CHARSET_RET_OK;
}

int charset_to_utf8_str(const char *charset, const void *src, size_t size,
			string_t *dest, bool *invalid_r)
{
	struct charset_translation *t;
	const char *error;
	size_t used = size;
	enum charset_result ret;

	*invalid_r = false;
	if (charset_to_utf8_begin(charset, &t, &error) < 0)
		return -1;
	ret = charset_to_utf8(t, src, &used, dest);
	if (ret == CHARSET_RET_INCOMPLETE_INPUT) {
		/* the tail can never complete */
		str_append(dest, UNICODE_REPLACEMENT_CHAR_UTF8);
		*invalid_r = true;
	} else if (ret == CHARSET_RET_INVALID_INPUT) {
		*invalid_r = true;
	}
	charset_to_utf8_end(&t);
	return 0;
}

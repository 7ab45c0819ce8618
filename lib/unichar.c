/* unichar.c - UTF-8 encoding and decoding of one character. */
#include "unichar.h"

unsigned int uni_utf8_get_char(const unsigned char *s, uint32_t *chr_r)
{
	unsigned int len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*chr_r = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at a NUL */
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*chr_r = c;
	return len;
}

void uni_ucs4_to_utf8_c(uint32_t c, string_t *dest)
{
	if (c < 0x80) {
		str_append_c(dest, (char)c);
	} else if (c < 0x800) {
		str_append_c(dest, (char)(0xc0 | (c >> 6)));
		str_append_c(dest, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		str_append_c(dest, (char)(0xe0 | (c >> 12)));
		str_append_c(dest, (char)(0x80 | ((c >> 6) & 0x3f)));
		str_append_c(dest, (char)(0x80 | (c & 0x3f)));
	} else {
		str_append_c(dest, (char)(0xf0 | (c >> 18)));
		str_append_c(dest, (char)(0x80 | ((c >> 12) & 0x3f)));
		str_append_c(dest, (char)(0x80 | ((c >> 6) & 0x3f)));
		str_append_c(dest, (char)(0x80 | (c & 0x3f)));
	}
}

/* base64.c - base64 encoding and strict decoding. */
#include "base64.h"

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_size(size_t size)
{
	return size_mul(size_add(size, 2) / 3, 4);
}

void base64_encode(string_t *dest, const void *src, size_t size)
{
	const unsigned char *p = src;
	size_t i;

	str_reserve(dest, base64_encoded_size(size));
	for (i = 0; i + 2 < size; i += 3) {
		char out[4] = {
			b64chars[p[i] >> 2],
			b64chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			b64chars[((p[i + 1] & 0x0f) << 2) | (p[i + 2] >> 6)],
			b64chars[p[i + 2] & 0x3f],
		};
		str_append_n(dest, out, 4);
	}
	if (i < size) {
		char out[4] = { b64chars[p[i] >> 2], '=', '=', '=' };

		if (i + 1 < size) {
			out[1] = b64chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			out[2] = b64chars[(p[i + 1] & 0x0f) << 2];
		} else {
			out[1] = b64chars[(p[i] & 3) << 4];
		}
		str_append_n(dest, out, 4);
	}
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(string_t *dest, const char *src, size_t len)
{
	unsigned int acc = 0, bits = 0;
	size_t i, pad = 0;

	for (i = 0; i < len; i++) {
		int v;

		if (src[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return -1; /* data after padding */
		v = b64_value(src[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			str_append_c(dest, (char)((acc >> bits) & 0xff));
		}
	}
	/* leftover bits must be zero, and padding must fit */
	if (pad > 2 || (pad > 0 && (len % 4) != 0) || bits >= 6 ||
	    (acc & ((1U << bits) - 1)) != 0)
		return -1;
	return 0;
}

/* mutf7.c - modified UTF-7: printable US-ASCII stands for itself except
 * '&', written "&-"; everything else is UTF-16 in a modified base64
 * (',' for '/') between '&' and '-'. */
#include "mutf7.h"
#include "unichar.h"

static const char mb64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int mb64_value(unsigned char c)
{
	const char *p = c == '\0' ? NULL : strchr(mb64, c);
	return p == NULL ? -1 : (int)(p - mb64);
}

bool mutf7_is_ascii(const char *src)
{
	for (; *src != '\0'; src++) {
		if (*src == '&' || (unsigned char)*src < 0x20 ||
		    (unsigned char)*src >= 0x7f)
			return false;
	}
	return true;
}

struct b64_state {
	uint32_t bits;
	unsigned int nbits;
	bool open;
};

static void b64_put_unit(string_t *dest, struct b64_state *st, uint16_t u)
{
	if (!st->open) {
		str_append_c(dest, '&');
		st->open = true;
	}
	st->bits = (st->bits << 16) | u;
	st->nbits += 16;
	while (st->nbits >= 6) {
		st->nbits -= 6;
		str_append_c(dest, mb64[(st->bits >> st->nbits) & 0x3f]);
	}
	st->bits &= (1u << st->nbits) - 1;
}

static void b64_close(string_t *dest, struct b64_state *st)
{
	if (!st->open)
		return;
	if (st->nbits > 0)
		str_append_c(dest, mb64[(st->bits << (6 - st->nbits)) & 0x3f]);
	str_append_c(dest, '-');
	st->bits = 0;
	st->nbits = 0;
	st->open = false;
}

int mutf7_encode(string_t *dest, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	struct b64_state st = { 0, 0, false };
	unsigned int len;
	uint32_t c;

	while (*s != '\0') {
		if (*s >= 0x20 && *s < 0x7f) {
			b64_close(dest, &st);
			if (*s == '&')
				str_append(dest, "&-");
			else
				str_append_c(dest, (char)*s);
			s++;
			continue;
		}
		len = uni_utf8_get_char(s, &c);
		if (len == 0)
			return -1;
		s += len;
		if (c >= 0x10000) {
			c -= 0x10000;
			b64_put_unit(dest, &st, (uint16_t)(0xd800 | (c >> 10)));
			b64_put_unit(dest, &st, (uint16_t)(0xdc00 | (c & 0x3ff)));
		} else {
			b64_put_unit(dest, &st, (uint16_t)c);
		}
	}
	b64_close(dest, &st);
	return 0;
}

static int decode_run(string_t *dest, const unsigned char **sp)
{
	const unsigned char *s = *sp;
	uint32_t bits = 0, high = 0;
	unsigned int nbits = 0;
	int v;
	bool any = false;

	for (; *s != '-'; s++) {
		if (*s == '\0' || (v = mb64_value(*s)) < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		any = true;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			uni_ucs4_to_utf8_c(0x10000 + ((high - 0xd800) << 10) +
				 (u - 0xdc00), dest);
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if ((u >= 0xdc00 && u <= 0xdfff) ||
			   (u >= 0x20 && u < 0x7f)) {
			/* lone low surrogate, or ASCII that must be direct */
			return -1;
		} else {
			uni_ucs4_to_utf8_c(u, dest);
		}
	}
	/* leftover bits must be zero padding of less than 6 bits... */
	if (!any || high != 0 || nbits >= 6 || bits != 0)
		return -1;
	*sp = s + 1;
	return 0;
}

int mutf7_decode(string_t *dest, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;

	while (*s != '\0') {
		if (*s != '&') {
			if (*s < 0x20 || *s >= 0x7f)
				return -1;
			str_append_c(dest, (char)*s++);
			continue;
		}
		s++;
		if (*s == '-') {
			str_append_c(dest, '&');
			s++;
			continue;
		}
		if (decode_run(dest, &s) < 0)
			return -1;
		/* two adjacent encoded runs are not minimal */
		if (*s == '&' && s[1] != '-')
			return -1;
	}
	return 0;
}

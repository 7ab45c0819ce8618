/* imap-url.c - the pieces of IMAP URL parsing (RFC 5092) that CATENATE's
 * relative URLs and URLAUTH's absolute ones share. */
#include "lib.h"
#include "imap-url.h"
#include "hex.h"
#include "str.h"

#include <stdint.h>

bool imap_url_decode(pool_t pool, const char *p, const char *end,
		     const char **result_r)
{
	string_t *str = str_new((size_t)(end - p) + 1);

	while (p < end) {
		if (*p == '%') {
			int hi, lo;

			if (end - p < 3 || (hi = hex_digit_value(p[1])) < 0 ||
			    (lo = hex_digit_value(p[2])) < 0 ||
			    (hi == 0 && lo == 0)) {
				str_free(&str);
				return false;
			}
			str_append_c(str, (char)(hi * 16 + lo));
			p += 3;
		} else {
			str_append_c(str, *p++);
		}
	}
	*result_r = p_strdup(pool, str_c(str));
	str_free(&str);
	return true;
}

bool imap_url_parse_u32(const char *p, const char *end, uint32_t *num_r)
{
	uint64_t n = 0;

	if (p == end)
		return false;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return false;
	}
	*num_r = (uint32_t)n;
	return n != 0;
}

bool imap_url_parse_u64(const char *p, const char *end, uint64_t *num_r)
{
	uint64_t n = 0;

	if (p == end)
		return false;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*num_r = n;
	return true;
}

#ifndef ROOST_IMAP_URL_H
#define ROOST_IMAP_URL_H

#include "pool.h"

#include <stdbool.h>
#include <stdint.h>

/* %XX decoding of [p, end) into *result_r (from pool); false for a bad
 * escape or an encoded NUL. */
bool imap_url_decode(pool_t pool, const char *p, const char *end,
		     const char **result_r);
/* A decimal nz-number of [p, end) that fits 32 bits. */
bool imap_url_parse_u32(const char *p, const char *end, uint32_t *num_r);
/* A decimal number (0 allowed) of [p, end) that fits 64 bits. */
bool imap_url_parse_u64(const char *p, const char *end, uint64_t *num_r);

#endif

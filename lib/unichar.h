/* unichar.h - single Unicode characters in UTF-8. */
#ifndef ROOST_UNICHAR_H
#define ROOST_UNICHAR_H

#include "lib.h"
#include "str.h"

/* Decode the UTF-8 sequence at s (NUL-terminated or not: at most 4
 * bytes are read, never past a NUL). Returns its length, or 0 if it is
 * invalid (overlong, surrogate, above U+10FFFF, truncated). */
unsigned int uni_utf8_get_char(const unsigned char *s, uint32_t *chr_r);
/* Append chr (at most U+10FFFF) as UTF-8. */
void uni_ucs4_to_utf8_c(uint32_t chr, string_t *dest);

#endif

/* unicode-casemap-private.h - the generated tables of unicode-casemap.c */
#ifndef ROOST_UNICODE_CASEMAP_PRIVATE_H
#define ROOST_UNICODE_CASEMAP_PRIVATE_H

#include <stdint.h>

extern const unsigned int uni_casemap_count;
extern const uint32_t uni_casemap_keys[];
extern const uint32_t uni_casemap_vals[];
extern const unsigned char uni_casemap_utf8[];
extern const uint16_t uni_casemap_2byte[0x780];
extern const uint8_t uni_casemap_bmp_blocks[0x80];

#endif

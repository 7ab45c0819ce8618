/* base64.h - RFC 4648 base64 (standard alphabet, '=' padding) as SASL,
 * the auth protocols, SCRAM and Dovecot's password schemes write it. */
#ifndef ROOST_BASE64_H
#define ROOST_BASE64_H

#include "lib.h"
#include "str.h"

/* Length of the base64 form of size bytes, padding included. Panics on
 * overflow. */
size_t base64_encoded_size(size_t size);

/* Append the base64 form of size bytes at src to dest. */
void base64_encode(string_t *dest, const void *src, size_t size);

/* Append the bytes that len characters of src (not NUL-terminated)
 * encode to dest. Strict: only the alphabet, no whitespace, nothing
 * after '=' padding, padding (when present) completing a multiple of 4,
 * unused trailing bits zero. A last group without padding is accepted.
 * Returns 0, or -1 on invalid input (dest may then hold part of the
 * data; callers discard it). */
int base64_decode(string_t *dest, const char *src, size_t len);

#endif

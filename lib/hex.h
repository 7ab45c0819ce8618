#ifndef ROOST_HEX_H
#define ROOST_HEX_H

/* The value of the hex digit c (either case), or -1 if c isn't one. */
static inline int hex_digit_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif

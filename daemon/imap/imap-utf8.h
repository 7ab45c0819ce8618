/* imap-utf8.h - output for clients that enabled UTF8=ACCEPT (RFC 6855). */
#ifndef ROOST_IMAP_UTF8_H
#define ROOST_IMAP_UTF8_H

#include "lib.h"
#include "str.h"

/* Copy size bytes of IMAP response text (an ENVELOPE or BODYSTRUCTURE) to
   dest, with every literal {n}\r\n whose data has 8-bit bytes, is valid
   UTF-8 and has no CR, LF or NUL written as a quoted string instead
   (RFC 6855 3: UTF-8 in quoted strings). Quoted strings, other literals
   and the rest are copied unchanged. */
void imap_utf8_literals_to_quoted(const char *src, size_t size,
				  string_t *dest);

#endif

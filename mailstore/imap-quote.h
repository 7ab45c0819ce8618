/* imap-quote.h - IMAP string output as Dovecot 2.3 writes it in FETCH
 * responses: "quoted" when possible, {n}\r\n literals for CR, LF and
 * 8-bit bytes, NIL for absent values. */
#ifndef ROOST_IMAP_QUOTE_H
#define ROOST_IMAP_QUOTE_H

#include "lib.h"
#include "str.h"

/* "src" with \ and " escaped; CR, LF and 8-bit bytes are dropped. */
void imap_append_quoted(string_t *dest, const char *src);
/* A quoted string, or a literal if src has CR, LF, 8-bit bytes or more
   than four characters to escape (" and \). */
void imap_append_string(string_t *dest, const char *src);
/* An astring as Dovecot writes names (mailbox, quota root, ACL id,
   URL): an atom when it can be one (not empty, not NIL, no CTL, 8-bit
   or atom-special byte, nor any of more_specials), else
   imap_append_string(). */
void imap_append_astring(string_t *dest, const char *src,
			 const char *more_specials);
/* imap_append_string(), or NIL for NULL. */
void imap_append_nstring(string_t *dest, const char *src);
/* imap_append_nstring() after removing line ends (CRLF, LF); a lone CR
   becomes a space. */
void imap_append_nstring_nolf(string_t *dest, const char *src);
/* For text shown to people (ENVELOPE subject and names): whitespace
   runs (CR, LF, tab, space) become one space, leading and trailing
   whitespace goes, NULs become 0x80. Unchanged text is quoted as is;
   anything changed, escaped or 8-bit is sent as a literal. */
void imap_append_string_for_humans(string_t *dest, const void *src,
				   size_t size);

#endif

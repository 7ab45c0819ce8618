/* imap-bodystructure.h - IMAP BODY and BODYSTRUCTURE of a parsed
 * message, byte for byte as Dovecot 2.3.19 writes them: type names as
 * the header wrote them ("TEXT" "Plain"), except "message" "rfc822";
 * no usable Content-Type gives "text" "plain" ("charset" "us-ascii");
 * a text part without a charset gets ("charset" "us-ascii") appended;
 * a missing Content-Transfer-Encoding is "7bit"; sizes are virtual
 * (CRLF) sizes; extension data is md5, (disposition (params)),
 * (languages), location. A multipart without children shows one empty
 * text/plain part; a container cut by a parser limit, or a part whose
 * type is "multipart" without being parsed as one, shows as
 * "application" "octet-stream". */
#ifndef ROOST_IMAP_BODYSTRUCTURE_H
#define ROOST_IMAP_BODYSTRUCTURE_H

#include "message-parser.h"

/* Append "(...)" for part and everything under it: BODYSTRUCTURE when
   extended, BODY otherwise. Recursion depth is bounded by the parser's
   nesting limit. */
void imap_bodystructure_write(const struct message_part *part,
			      string_t *dest, bool extended);

#endif

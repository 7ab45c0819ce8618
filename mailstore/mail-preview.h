/* mail-preview.h - the preview text of a message (IMAP PREVIEW, RFC 8970,
 * and Dovecot 2.3's SNIPPET=FUZZY), generated as Dovecot 2.3 does: the
 * first leaf part (a message/rfc822 part counts as a leaf: it isn't
 * entered), when it is text (or has no Content-Type), decoded to UTF-8,
 * HTML turned into text; whitespace runs become one space, leading and
 * trailing whitespace go, NULs and byte order marks are dropped, lines
 * starting with ">" are left out (used, after a ">", only when nothing
 * else is there); at most max_chars characters. */
#ifndef ROOST_MAIL_PREVIEW_H
#define ROOST_MAIL_PREVIEW_H

#include "message-parser.h"
#include "str.h"

/* Dovecot's length for IMAP */
#define MAIL_PREVIEW_MAX_CHARS 200

void message_preview_generate(const struct message_part *parts,
			      const unsigned char *msg, size_t msg_size,
			      unsigned int max_chars, string_t *dest);

/* The text of an HTML document as the preview sees it (tags dropped,
 * entities decoded, <style>/<script>/comments skipped, block tags as
 * line breaks). */
void message_html_to_text(const unsigned char *data, size_t size,
			  string_t *dest);

#endif

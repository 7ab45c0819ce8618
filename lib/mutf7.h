/* mutf7.h - IMAP's modified UTF-7 (RFC 3501 5.1.3), used for mailbox
 * names on the wire and, as Dovecot does, in Maildir/mbox folder names
 * on disk. */
#ifndef ROOST_MUTF7_H
#define ROOST_MUTF7_H

#include "lib.h"
#include "str.h"

/* Append src (UTF-8) as modified UTF-7. Returns -1 if src isn't valid
 * UTF-8 (dest then holds a partial result). */
int mutf7_encode(string_t *dest, const char *src);
/* Append src (modified UTF-7) as UTF-8. Returns -1 on malformed input:
 * bad base64, non-minimal "&-" use, unpaired surrogates, encoded
 * printable ASCII, or a missing '-'. */
int mutf7_decode(string_t *dest, const char *src);
/* Is src plain printable ASCII without '&' (so encoding changes
 * nothing)? */
bool mutf7_is_ascii(const char *src);

#endif

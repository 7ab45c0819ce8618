/* imap-envelope.h - the IMAP ENVELOPE of a message, byte for byte as
 * Dovecot 2.3.19 writes it:
 *   ("date" "subject" (from) (sender) (reply-to) (to) (cc) (bcc)
 *    "in-reply-to" "message-id")
 * Sender and Reply-To fall back to From; absent fields are NIL; the
 * subject and display names are whitespace-normalized ("for humans"),
 * other strings only lose their CR/LF; 8-bit text goes out as literals.
 * Values are raw (no RFC 2047 decoding), as IMAP requires. */
#ifndef ROOST_IMAP_ENVELOPE_H
#define ROOST_IMAP_ENVELOPE_H

#include "message-parser.h"

/* Append "(...)" for env; NULL gives ten NILs. */
void imap_envelope_write(const struct message_part_envelope *env,
			 string_t *str);

/* Parse the header block at hdr (hdr_size bytes, e.g. the root part's
   header_size.physical_size) and append its ENVELOPE. */
void imap_envelope_write_header(const void *hdr, size_t hdr_size,
				string_t *str);

/* Append an address list as ENVELOPE writes it: ((name route mailbox
   domain)...) or NIL. */
void imap_envelope_write_addresses(const struct message_address *addr,
				   string_t *str);

#endif

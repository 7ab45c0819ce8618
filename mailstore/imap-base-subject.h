/* imap-base-subject.h - the "base subject" of RFC 5256 section 2.1, used
 * by SORT SUBJECT and by the THREAD algorithms, and the comparison form
 * of strings that SORT uses (i;unicode-casemap: titlecase, decomposed).
 *
 *   bool reply;
 *   imap_base_subject_get("Re: [list] Fwd: Hello (fwd)", dest, &reply);
 *   -> "HELLO", reply = true */
#ifndef ROOST_IMAP_BASE_SUBJECT_H
#define ROOST_IMAP_BASE_SUBJECT_H

#include "lib.h"
#include "str.h"

/* Append the base subject of a raw Subject value (RFC 2047 words not yet
   decoded) to dest, in comparison form (imap_sort_casefold). Sets
   *is_reply_or_forward_r (may be NULL) when a "Re:"/"Fw:"/"Fwd:" leader,
   a "(fwd)" trailer or a "[fwd: ...]" wrapper was removed. */
void imap_base_subject_get(const char *subject, string_t *dest,
			   bool *is_reply_or_forward_r);

/* Append size bytes of UTF-8 in the form SORT compares: the
   i;unicode-casemap form of unicode-casemap.h, each character titlecased
   and decomposed (U+00E9 -> "E" U+0301) as Dovecot does; invalid UTF-8
   becomes U+FFFD. */
void imap_sort_casefold(const void *data, size_t size, string_t *dest);

#endif

/* mail-thread.h - IMAP THREAD (RFC 5256): ORDEREDSUBJECT, REFERENCES,
 * and Dovecot's REFS (REFERENCES without merging threads by subject,
 * threads ordered by their newest message), written as the body of the
 * "* THREAD" response.
 *
 *   string_t *out = str_new(256);
 *   mail_thread_build(box, MAIL_THREAD_REFERENCES, seqs, count, false,
 *                     out);     -> "(1 2)(3 (4)(5))" */
#ifndef ROOST_MAIL_THREAD_H
#define ROOST_MAIL_THREAD_H

#include "mail-storage.h"

enum mail_thread_type {
	MAIL_THREAD_ORDEREDSUBJECT,
	MAIL_THREAD_REFERENCES,
	MAIL_THREAD_REFS,
};

/* An algorithm name, case-insensitively ("references"). -1 if unknown. */
int mail_thread_type_parse(const char *name, enum mail_thread_type *type_r);

/* Thread the messages seqs (ascending sequence numbers of box's current
   view) and append the THREAD response body without "* THREAD ", e.g.
   "(1 2)(3 (4)(5))", to dest; "" when count is 0. uid: write UIDs
   instead of sequence numbers. Returns 0, or -1 with the mailbox error
   set. */
int mail_thread_build(struct mailbox *box, enum mail_thread_type type,
		      const uint32_t *seqs, unsigned int count, bool uid,
		      string_t *dest);

#endif

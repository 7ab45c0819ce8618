/* mail-sort.h - IMAP SORT (RFC 5256) and SORT=DISPLAY (RFC 5957) over
 * the messages of a mailbox's current view, with Dovecot 2.3's choices:
 * strings compared in i;unicode-casemap form (imap_sort_casefold), a
 * missing field sorting as "", DATE falling back to INTERNALDATE, and
 * every tie (REVERSE or not) broken by ascending sequence number.
 *
 *   struct mail_sort_key keys[] = {
 *           { MAIL_SORT_DATE, true }, { MAIL_SORT_SUBJECT, false },
 *           { MAIL_SORT_END, false } };
 *   mail_sort_seqs(box, keys, seqs, count);
 *
 * The caller parses the sort program: "REVERSE" is not a sort type;
 * it sets the reverse flag of the key that follows it. */
#ifndef ROOST_MAIL_SORT_H
#define ROOST_MAIL_SORT_H

#include "mail-storage.h"

enum mail_sort_type {
	MAIL_SORT_ARRIVAL,
	MAIL_SORT_CC,
	MAIL_SORT_DATE,
	MAIL_SORT_FROM,
	MAIL_SORT_SIZE,
	MAIL_SORT_SUBJECT,
	MAIL_SORT_TO,
	MAIL_SORT_DISPLAYFROM,	/* RFC 5957 */
	MAIL_SORT_DISPLAYTO,	/* RFC 5957 */
	MAIL_SORT_END
};

struct mail_sort_key {
	enum mail_sort_type type;
	bool reverse;
};

/* A sort criterion name, case-insensitively ("arrival", "DISPLAYFROM").
   "REVERSE" is not one: returns -1 for it (the caller handles it, see
   above), as for unknown names. */
int mail_sort_type_parse(const char *name, enum mail_sort_type *type_r);

/* Sort seqs (sequence numbers of box's current view) in place by keys,
   terminated by MAIL_SORT_END. Returns 0, or -1 with the mailbox error
   set (a message vanished and could not be read). */
int mail_sort_seqs(struct mailbox *box, const struct mail_sort_key *keys,
		   uint32_t *seqs, unsigned int count);

/* The string a message sorts by for a string key (CC, FROM, SUBJECT,
   TO, DISPLAYFROM, DISPLAYTO), appended to dest in comparison form.
   Exposed for the thread code and tests. Returns 0 or -1. */
int mail_sort_get_string(struct mail *mail, enum mail_sort_type type,
			 string_t *dest);
/* DATE's value: the Date: header, or INTERNALDATE when it is missing
   or unparsable. */
int mail_sort_get_date(struct mail *mail, time_t *date_r);

#endif

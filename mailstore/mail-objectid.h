/* mail-objectid.h - OBJECTID (RFC 8474) identifiers of a message, derived
 * from what the message itself carries so that they need no storage and
 * stay the same across restarts, renames, MOVE and COPY:
 *
 *   EMAILID  "M" + 24 hex digits hashed from the message's bytes
 *            (identical copies share it, as RFC 8474 allows);
 *   THREADID "T" + 24 hex digits hashed from the Message-ID of the
 *            thread's root: the first message id of References (else of
 *            In-Reply-To, else the message's own Message-ID). A message
 *            with none of these is a thread alone: "T" + its EMAILID's
 *            digits. So a thread's root and every reply whose References
 *            start at it share one THREADID in every mailbox.
 *
 * Both are kept in the mailbox's cache (roost.cache) once computed.
 * Both return NULL (mailbox error set) if the message can't be read. */
#ifndef ROOST_MAIL_OBJECTID_H
#define ROOST_MAIL_OBJECTID_H

#include "mail-storage.h"

const char *mail_objectid_emailid(pool_t pool, struct mail *mail);
const char *mail_objectid_threadid(pool_t pool, struct mail *mail);
/* Is str a valid objectid (RFC 8474: 1-255 of A-Z a-z 0-9 _ -)? */
bool mail_objectid_is_valid(const char *str);

#endif

/* imap-rev2.h - IMAP4rev2 (RFC 9051) after "ENABLE IMAP4rev2", and
 * OBJECTID (RFC 8474): what the commands ask of these two. Roost-only:
 * Dovecot 2.3 has neither (tests/integration/test_imap_ext.py checks them
 * against their RFCs). */
#ifndef ROOST_IMAP_REV2_H
#define ROOST_IMAP_REV2_H

#include "imap-common.h"

static inline bool imap_rev2(const struct imap_client *client)
{
	return (client->enabled & IMAP_ENABLED_IMAP4REV2) != 0;
}

/* Flags as the client may see them: no \Recent under IMAP4rev2. */
static inline enum mail_flags imap_client_flags(const struct imap_client *client,
					       enum mail_flags flags)
{
	return imap_rev2(client) ? (flags & ~MAIL_RECENT) : flags;
}

/* SELECT/EXAMINE under IMAP4rev2: the LIST line of the mailbox. */
void imap_rev2_send_select_list(struct imap_client *client,
				const char *vname);

/* OBJECTID: "M" + 24 hex digits hashed from the message's content (so
 * stable across restarts, renames, MOVE and COPY; identical messages
 * share it, as RFC 8474 allows), NULL if it can't be read. */
const char *imap_objectid_emailid(pool_t pool, struct mail *mail);
/* "T" + 24 hex digits from the thread root's Message-ID (see
 * mailstore/mail-objectid.h), NULL if the message can't be read. */
const char *imap_objectid_threadid(pool_t pool, struct mail *mail);
/* "F" + the mailbox GUID (kept in dovecot-uidlist: stable across
 * restarts and renames), NULL if the storage has none. */
const char *imap_objectid_mailboxid(pool_t pool, struct mailbox *box);

#endif

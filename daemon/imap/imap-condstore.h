/* imap-condstore.h - CONDSTORE and QRESYNC (RFC 7162) pieces shared by
 * ENABLE, SELECT/EXAMINE, FETCH, STORE, SEARCH, STATUS, EXPUNGE and the
 * sync. Private to daemon/imap/. */
#ifndef ROOST_IMAP_CONDSTORE_H
#define ROOST_IMAP_CONDSTORE_H

#include "imap-common.h"

/* Enable CONDSTORE (and QRESYNC) for the session. When CONDSTORE comes
 * on with a mailbox selected, "* OK [HIGHESTMODSEQ n] Highest" is sent
 * and the mailbox remembers that modseqs are in use (as Dovecot). */
void imap_condstore_enable(struct imap_client *client,
			   enum imap_client_enabled features);
/* A MODSEQ value went out in a FETCH response. */
void imap_condstore_sent_modseq(struct imap_client *client, uint64_t modseq);
/* At the end of a sync with QRESYNC on: tell the client the new
 * HIGHESTMODSEQ when the sync's VANISHED/EXISTS raised it beyond what
 * FETCH responses showed (in the command's tagged OK when it has no
 * response code yet, else untagged), as Dovecot does. */
void imap_condstore_sync_end(struct imap_client *client, bool no_expunges);
/* A mod-sequence value: digits, 0..2^63-1. */
bool imap_parse_modseq(const char *str, uint64_t *modseq_r);
/* (first, last) UID pairs as "1:3,5" */
void imap_write_uid_pairs(string_t *dest, const uint32_t *pairs,
			  size_t count);
/* "* VANISHED (EARLIER) set" for UIDs expunged after since, limited to
 * the UID (first, last) pairs of within (NULL: all). Nothing if none. */
void imap_send_vanished_earlier(struct imap_client *client, uint64_t since,
				const ARRAY_U32 *within);

/* SELECT/EXAMINE parameters. */
struct imap_select_params {
	bool condstore, qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	ARRAY_U32 known_uids;	/* (first, last) pairs; empty = all */
};
/* Parse the parameter list; false with the BAD reply set. */
bool imap_select_params_parse(struct client_command_context *cmd,
			      const struct imap_arg *list,
			      struct imap_select_params *params);
/* After a QRESYNC SELECT's untagged lines: VANISHED (EARLIER) and the
 * FETCH of every known message changed since the client's modseq. */
void imap_select_qresync(struct imap_client *client,
			 const struct imap_select_params *params);

#endif

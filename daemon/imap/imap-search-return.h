/* imap-search-return.h - SEARCH and SORT RETURN options: ESEARCH (RFC
 * 4731: MIN MAX ALL COUNT), SEARCHRES SAVE (RFC 5182), ESORT and
 * CONTEXT=SEARCH (RFC 5267: PARTIAL, UPDATE with ADDTO/REMOVEFROM
 * notifications, CANCELUPDATE). Shared by cmd-search.c and cmd-sort.c;
 * the update hooks are called by imap-sync.c. */
#ifndef ROOST_IMAP_SEARCH_RETURN_H
#define ROOST_IMAP_SEARCH_RETURN_H

#include "imap-common.h"
#include "mail-search.h"

enum search_return {
	SEARCH_RETURN_ESEARCH = 0x01,	/* RETURN given */
	SEARCH_RETURN_MIN = 0x02,
	SEARCH_RETURN_MAX = 0x04,
	SEARCH_RETURN_ALL = 0x08,
	SEARCH_RETURN_COUNT = 0x10,
	SEARCH_RETURN_SAVE = 0x20,
	SEARCH_RETURN_PARTIAL = 0x40,
	SEARCH_RETURN_UPDATE = 0x80,
	SEARCH_RETURN_CONTEXT = 0x100,
};

struct imap_search_return {
	enum search_return opts;
	/* PARTIAL lo:hi, 1-based positions in the result, lo <= hi */
	uint32_t partial_lo, partial_hi;
};

/* The list of RETURN (...). -1 with *error_r (Dovecot's texts). */
int imap_search_return_parse(const struct imap_arg *list,
			     struct imap_search_return *ret_r,
			     const char **error_r);

/* Send the result (seqs in the order to report: ascending for SEARCH,
 * sorted for SORT) as "* ESEARCH" (or nothing when only SAVE was
 * asked), and do the SAVE. modseq != 0 adds MODSEQ. sort tells SORT's
 * SAVE rule apart. */
void imap_search_return_send(struct client_command_context *cmd,
			     const struct imap_search_return *ret,
			     const uint32_t *seqs, size_t count,
			     uint64_t modseq, bool sort);
/* A failed SAVE search leaves $ empty (RFC 5182). */
void imap_search_return_save_failed(struct imap_client *client,
				    const struct imap_search_return *ret);

/* RETURN (UPDATE): remember the search (takes args) and its result
 * (seqs in any order) to report later changes of the result with
 * "* ESEARCH (TAG ...) ADDTO/REMOVEFROM". */
void imap_search_update_add(struct client_command_context *cmd,
			    struct mail_search_args *args,
			    const uint32_t *seqs, size_t count);

/* ---- called by imap-sync.c ---- */
/* a sync starts (its output may be corked) */
void imap_search_updates_sync_begin(struct imap_client *client);
/* message uid (client's seq) is going away: */
void imap_search_updates_expunge(struct imap_client *client, uint32_t uid,
				 uint32_t seq, bool announced);
/* the REMOVEFROMs of the expunges collected (before the EXPUNGEs) */
void imap_search_updates_flush_expunges(struct imap_client *client);
/* after a sync: re-check changed and new messages, send the changes */
void imap_search_updates_sync(struct imap_client *client);
/* the mailbox is closed */
void imap_search_updates_free(struct imap_client *client);

bool cmd_cancelupdate(struct client_command_context *cmd);

#endif

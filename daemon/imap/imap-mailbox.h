/* imap-mailbox.h - what cmd-mailbox.c, cmd-list.c and cmd-status.c
 * share: argument checks with Dovecot's texts, and STATUS items. */
#ifndef ROOST_IMAP_MAILBOX_H
#define ROOST_IMAP_MAILBOX_H

#include "imap-common.h"

/* BAD "Error in IMAP command X: Missing arguments" */
bool imap_cmd_missing_args(struct client_command_context *cmd);
/* Decode a mailbox argument; NULL after setting the NO reply. */
const char *imap_cmd_mailbox_vname(struct client_command_context *cmd,
				   const char *name);

/* STATUS item list "(MESSAGES UNSEEN)" to items; NULL or the BAD
 * text. DELETED only for a client that enabled IMAP4rev2 (client may
 * be NULL). */
const char *imap_status_parse_items(struct imap_client *client,
				    const struct imap_arg *list,
				    enum mailbox_status_items *items_r);
/* "* STATUS name (...)"; -1 with the box's error set */
int imap_status_send(struct imap_client *client, const char *vname,
		     const char *name_as_given,
		     enum mailbox_status_items items, struct mailbox **box_r);

#endif

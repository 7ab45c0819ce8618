/* cmd-select.c - SELECT, EXAMINE, CLOSE, UNSELECT: opening a mailbox
 * for the session (with Dovecot's untagged lines, in its order) and
 * leaving it. */
#include "imap-common.h"
#include "imap-rev2.h"

static bool select_open(struct client_command_context *cmd, bool readonly)
{
	struct imap_client *client = cmd->client;
	struct mailbox_status status;
	const char *name, *vname, *error;
	struct mailbox *box;

	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_args(cmd);
	if (cmd->args[1].type == IMAP_ARG_LIST) {
		/* SELECT parameters (CONDSTORE/QRESYNC come with issue 7);
		   anything else after the name is ignored, as Dovecot does */
		if (!imap_arg_is_eol(cmd->args[1].list))
			return cmd_bad(cmd, "Error in IMAP command SELECT: "
				       "Unknown FETCH modifier");
	}
	if (client->mailbox != NULL) {
		client_close_mailbox(client);
		client_send_line(client, "* OK [CLOSED] Previous mailbox closed.");
	}
	vname = imap_mailbox_name_decode(client, name, &error);
	if (vname == NULL)
		return cmd_no(cmd, error);
	box = mailbox_alloc(client->user, vname, readonly ?
			    MAILBOX_FLAG_READONLY : MAILBOX_FLAG_DROP_RECENT);
	if (mailbox_open(box) < 0 || mailbox_sync(box, 0, NULL, NULL) < 0 ||
	    mailbox_get_status(box, STATUS_MESSAGES | STATUS_RECENT |
			       STATUS_FIRST_UNSEEN_SEQ | STATUS_UIDVALIDITY |
			       STATUS_UIDNEXT | STATUS_HIGHESTMODSEQ,
			       &status) < 0) {
		cmd_no_storage_error(cmd, box);
		mailbox_free(&box);
		return true;
	}
	client->mailbox = box;
	client->readonly = readonly || mailbox_is_readonly(box);
	imap_send_flags(client);
	client_send_linef(client, "* %u EXISTS", status.messages);
	if (!imap_rev2(client))
		client_send_linef(client, "* %u RECENT", status.recent);
	if (status.first_unseen_seq != 0 && !imap_rev2(client)) {
		client_send_linef(client, "* OK [UNSEEN %u] First unseen.",
				  status.first_unseen_seq);
	}
	client_send_linef(client, "* OK [UIDVALIDITY %u] UIDs valid",
			  status.uidvalidity);
	client_send_linef(client, "* OK [UIDNEXT %u] Predicted next UID",
			  status.uidnext);
	if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0) {
		client_send_linef(client, "* OK [HIGHESTMODSEQ %llu] Highest",
				  (unsigned long long)status.highest_modseq);
	}
	{
		/* OBJECTID (RFC 8474) */
		const char *id = imap_objectid_mailboxid(cmd->pool, box);

		if (id != NULL)
			client_send_linef(client, "* OK [MAILBOXID (%s)] Ok", id);
	}
	if (imap_rev2(client))
		imap_rev2_send_select_list(client, vname);
	client->messages_count = status.messages;
	client->recent_count = status.recent;
	return cmd_ok(cmd, client->readonly ?
		      (readonly ? "[READ-ONLY] Examine completed" :
		       "[READ-ONLY] Select completed") :
		      "[READ-WRITE] Select completed");
}

bool cmd_select(struct client_command_context *cmd)
{
	return select_open(cmd, false);
}

bool cmd_examine(struct client_command_context *cmd)
{
	return select_open(cmd, true);
}

bool cmd_close(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;

	if (!client->readonly)
		(void)imap_expunge_deleted(client, NULL);
	client_close_mailbox(client);
	return cmd_ok(cmd, "Close completed");
}

bool cmd_unselect(struct client_command_context *cmd)
{
	client_close_mailbox(cmd->client);
	return cmd_ok(cmd, "Unselect completed");
}

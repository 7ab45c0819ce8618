/* cmd-select.c - SELECT, EXAMINE, CLOSE, UNSELECT: opening a mailbox
 * for the session (with Dovecot's untagged lines, in its order) and
 * leaving it. */
#include "imap-condstore.h"
#include "imap-common.h"
#include "imap-rev2.h"

static bool select_open(struct client_command_context *cmd, bool readonly)
{
	struct imap_client *client = cmd->client;
	struct imap_select_params params;
	struct mailbox_status status;
	const char *name, *vname, *error;
	struct mailbox *box;
	bool ok;

	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_args(cmd);
	if (client->mailbox != NULL) {
		client_close_mailbox(client);
		client_send_line(client, "* OK [CLOSED] Previous mailbox closed.");
	}
	/* CONDSTORE / QRESYNC parameters (imap-condstore.c); anything
	   else after the list is ignored, as Dovecot does */
	memset(&params, 0, sizeof(params));
	ok = cmd->args[1].type != IMAP_ARG_LIST ||
		imap_select_params_parse(cmd, cmd->args[1].list, &params);
	if (!ok) {
		array_free(&params.known_uids);
		return true;
	}
	vname = imap_mailbox_name_decode(client, name, &error);
	if (vname == NULL) {
		array_free(&params.known_uids);
		return cmd_no(cmd, error);
	}
	box = mailbox_alloc(client->user, vname, readonly ?
			    MAILBOX_FLAG_READONLY : MAILBOX_FLAG_DROP_RECENT);
	if (mailbox_open(box) < 0 || mailbox_sync(box, 0, NULL, NULL) < 0 ||
	    mailbox_get_status(box, STATUS_MESSAGES | STATUS_RECENT |
			       STATUS_FIRST_UNSEEN_SEQ | STATUS_UIDVALIDITY |
			       STATUS_UIDNEXT | STATUS_HIGHESTMODSEQ,
			       &status) < 0) {
		cmd_no_storage_error(cmd, box);
		mailbox_free(&box);
		array_free(&params.known_uids);
		return true;
	}
	client->mailbox = box;
	client->readonly = readonly || mailbox_is_readonly(box);
	client->examined = readonly;
	if (params.condstore)
		client->enabled |= IMAP_ENABLED_CONDSTORE;
	if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		mailbox_enable_modseqs(box);
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
	/* as Dovecot: once CONDSTORE was used on the mailbox, always */
	if (mailbox_modseqs_enabled(box)) {
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
	client->sync_last_full_modseq = status.highest_modseq;
	client->highest_fetch_modseq = 0;
	if (params.qresync)
		imap_select_qresync(client, &params);
	array_free(&params.known_uids);
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

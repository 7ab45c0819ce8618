/* cmd-mailbox.c - CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE: the
 * mailbox tree through the storage API, with Dovecot's replies. */
#include "imap-common.h"
#include "imap-rev2.h"
#include "imap-mailbox.h"

#include <strings.h>

bool imap_cmd_missing_args(struct client_command_context *cmd)
{
	return cmd_bad_error(cmd, "Missing arguments");
}

/* The vname of a client's mailbox argument, or NULL after a NO reply
 * (bad modified UTF-7, a name outside every namespace). */
const char *imap_cmd_mailbox_vname(struct client_command_context *cmd,
				   const char *name)
{
	struct mail_user *user = cmd->client->user;
	const char *vname, *error;
	struct mail_namespace *ns;

	vname = imap_mailbox_name_decode(cmd->client, name, &error);
	if (vname == NULL) {
		cmd_no(cmd, error);
		return NULL;
	}
	ns = mail_namespace_find(user, vname);
	if (ns == NULL) {
		struct mail_namespace *inbox = mail_namespace_find_inbox(user);
		char *text = i_strdup_printf(
			"Client tried to access nonexistent namespace. "
			"(Mailbox name should probably be prefixed with: %s)",
			inbox == NULL ? "" : inbox->prefix);

		cmd_no(cmd, text);
		i_free(text);
		return NULL;
	}
	return p_strdup(cmd->pool, vname);
}

bool cmd_create(struct client_command_context *cmd)
{
	const char *name, *vname;
	struct mail_namespace *ns;
	struct mailbox *box;
	bool directory = false;
	size_t len;
	char *tmp;

	if (imap_arg_is_eol(&cmd->args[0]))
		return imap_cmd_missing_args(cmd);
	/* CREATE-SPECIAL-USE isn't announced: Dovecot 2.3 accepts and
	   ignores the parameter list */
	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_args(cmd);
	vname = imap_cmd_mailbox_vname(cmd, name);
	if (vname == NULL)
		return true;
	ns = mail_namespace_find(cmd->client->user, vname);
	len = strlen(vname);
	if (len > 0 && vname[len - 1] == ns->sep &&
	    len > strlen(ns->prefix)) {
		/* "Dir/" asks for a directory (\Noselect container) */
		directory = true;
		tmp = p_strndup(cmd->pool, vname, len - 1);
		vname = tmp;
	}
	if (strcmp(vname, ns->prefix) == 0)
		return cmd_no(cmd, "[CANNOT] Invalid mailbox name: Name is empty");
	box = mailbox_alloc(cmd->client->user, vname, 0);
	if (mailbox_create(box, NULL, directory) < 0)
		cmd_no_storage_error(cmd, box);
	else {
		/* RFC 8474 4.1: the new mailbox's MAILBOXID in the OK */
		const char *id = directory ? NULL :
			imap_objectid_mailboxid(cmd->pool, box);

		if (id == NULL)
			cmd_ok(cmd, "Create completed");
		else
			cmd_ok(cmd, p_strdup_printf(cmd->pool,
				"[MAILBOXID (%s)] Create completed", id));
	}
	mailbox_free(&box);
	return true;
}

static bool mailbox_is_selected(struct imap_client *client, const char *vname)
{
	return client->mailbox != NULL &&
		strcmp(mailbox_get_vname(client->mailbox), vname) == 0;
}

bool cmd_delete(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const char *name, *vname;
	struct mailbox *box;
	bool selected;

	if (imap_arg_is_eol(&cmd->args[0]))
		return imap_cmd_missing_args(cmd);
	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_args(cmd);
	vname = imap_cmd_mailbox_vname(cmd, name);
	if (vname == NULL)
		return true;
	if (strcmp(vname, "INBOX") == 0)
		return cmd_no(cmd, "INBOX can't be deleted");
	selected = mailbox_is_selected(client, vname);
	if (selected)
		client_close_mailbox(client);
	box = mailbox_alloc(client->user, vname, 0);
	if (mailbox_delete(box) < 0) {
		const char *text = mailbox_get_last_error(box, NULL);

		/* Dovecot sends this one without a response code */
		if (strcmp(text, "Mailbox has children, delete them first") == 0)
			cmd_no(cmd, text);
		else
			cmd_no_storage_error(cmd, box);
	} else {
		cmd_ok(cmd, "Delete completed");
		if (selected) {
			client->bye_after_reply =
				"Selected mailbox was deleted, have to disconnect.";
		}
	}
	mailbox_free(&box);
	return true;
}

bool cmd_rename(struct client_command_context *cmd)
{
	const char *name1, *name2, *vname1, *vname2;
	struct mailbox *src, *dest;

	if (imap_arg_is_eol(&cmd->args[0]) || imap_arg_is_eol(&cmd->args[1]))
		return imap_cmd_missing_args(cmd);
	if (!imap_arg_get_astring(&cmd->args[0], &name1) ||
	    !imap_arg_get_astring(&cmd->args[1], &name2))
		return cmd_bad_args(cmd);
	vname1 = imap_cmd_mailbox_vname(cmd, name1);
	if (vname1 == NULL)
		return true;
	vname2 = imap_cmd_mailbox_vname(cmd, name2);
	if (vname2 == NULL)
		return true;
	if (strcmp(vname1, vname2) == 0)
		return cmd_no(cmd, "[ALREADYEXISTS] Can't rename mailbox to itself");
	{
		struct mail_namespace *ns = mail_namespace_find(cmd->client->user,
								vname1);
		size_t len = strlen(vname1);

		if (ns != NULL && strncmp(vname2, vname1, len) == 0 &&
		    vname2[len] == ns->sep)
			return cmd_no(cmd, "Can't rename mailbox under its own child");
	}
	src = mailbox_alloc(cmd->client->user, vname1, 0);
	dest = mailbox_alloc(cmd->client->user, vname2, 0);
	if (mailbox_rename(src, dest) < 0)
		cmd_no_storage_error(cmd, src);
	else
		cmd_ok(cmd, "Rename completed");
	mailbox_free(&dest);
	mailbox_free(&src);
	return true;
}

static bool subscribe(struct client_command_context *cmd, bool set)
{
	struct mail_user *user = cmd->client->user;
	const char *name, *vname;

	if (imap_arg_is_eol(&cmd->args[0]))
		return imap_cmd_missing_args(cmd);
	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_args(cmd);
	vname = imap_cmd_mailbox_vname(cmd, name);
	if (vname == NULL)
		return true;
	if (set) {
		struct mailbox *box = mailbox_alloc(user, vname, 0);
		bool exists;

		if (mailbox_exists(box, &exists) < 0) {
			cmd_no_storage_error(cmd, box);
			mailbox_free(&box);
			return true;
		}
		mailbox_free(&box);
		if (!exists) {
			char *text = i_strdup_printf(
				"Mailbox doesn't exist: %s", vname);

			cmd_no(cmd, text);
			i_free(text);
			return true;
		}
	}
	if (mailbox_list_subscribe(user, vname, set) < 0)
		return cmd_no_storage_error(cmd, NULL);
	return cmd_ok(cmd, set ? "Subscribe completed" :
		      "Unsubscribe completed");
}

bool cmd_subscribe(struct client_command_context *cmd)
{
	return subscribe(cmd, true);
}

bool cmd_unsubscribe(struct client_command_context *cmd)
{
	return subscribe(cmd, false);
}

/* cmd-status.c - STATUS (and the STATUS lines of LIST-STATUS): the items
 * Dovecot 2.3.19 knows, in its order, from the storage's status. */
#include "imap-condstore.h"
#include "imap-mailbox.h"
#include "imap-quote.h"
#include "imap-rev2.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

static const struct {
	const char *name;
	enum mailbox_status_items item;
} status_items[] = {
	{ "MESSAGES", STATUS_MESSAGES },
	{ "RECENT", STATUS_RECENT },
	{ "UIDNEXT", STATUS_UIDNEXT },
	{ "UIDVALIDITY", STATUS_UIDVALIDITY },
	{ "UNSEEN", STATUS_UNSEEN },
	{ "HIGHESTMODSEQ", STATUS_HIGHESTMODSEQ },
	{ "SIZE", STATUS_SIZE },
	/* IMAP4rev2 (RFC 9051), OBJECTID (RFC 8474) */
	{ "DELETED", STATUS_DELETED },
	{ "MAILBOXID", STATUS_GUID },
};

const char *imap_status_parse_items(struct imap_client *client,
				    const struct imap_arg *list,
				    enum mailbox_status_items *items_r)
{
	static char error[160];

	*items_r = 0;
	if (imap_arg_is_eol(list))
		return "Empty status list";
	for (; !imap_arg_is_eol(list); list++) {
		const char *atom;
		unsigned int i;

		if (!imap_arg_get_atom(list, &atom))
			return "Status list contains non-atoms";
		for (i = 0; i < N_ELEMENTS(status_items); i++) {
			if (strcasecmp(atom, status_items[i].name) == 0 &&
			    (status_items[i].item != STATUS_DELETED ||
			     (client != NULL && imap_rev2(client))))
				break;
		}
		if (i == N_ELEMENTS(status_items)) {
			size_t n = 0;

			n = (size_t)snprintf(error, sizeof(error),
					     "Invalid status item ");
			for (const char *p = atom;
			     *p != '\0' && n + 1 < sizeof(error); p++)
				error[n++] = (char)toupper((unsigned char)*p);
			error[n] = '\0';
			return error;
		}
		*items_r |= status_items[i].item;
	}
	return NULL;
}

int imap_status_send(struct imap_client *client, const char *vname,
		     const char *name_as_given,
		     enum mailbox_status_items items, struct mailbox **box_r)
{
	struct mailbox_status status;
	struct mailbox *box;
	string_t *str;
	bool first = true;

	if (client->mailbox != NULL &&
	    strcmp(mailbox_get_vname(client->mailbox), vname) == 0) {
		box = client->mailbox;
		*box_r = NULL;
	} else {
		box = mailbox_alloc(client->user, vname,
				    MAILBOX_FLAG_READONLY);
		*box_r = box;
	}
	if (mailbox_get_status(box, items, &status) < 0)
		return -1;
	/* as Dovecot: asking for it starts modseq tracking in the mailbox */
	if ((items & STATUS_HIGHESTMODSEQ) != 0)
		mailbox_enable_modseqs(box);
	str = str_new(128);
	str_append(str, "* STATUS ");
	if (name_as_given != NULL &&
	    (client->enabled & IMAP_ENABLED_UTF8_ACCEPT) != 0)
		imap_client_append_mailbox_name(client, str, name_as_given,
						false);
	else if (name_as_given != NULL)
		imap_append_astring(str, name_as_given, "");
	else
		imap_client_append_mailbox_name(client, str, vname, false);
	str_append(str, " (");
	for (unsigned int i = 0; i < N_ELEMENTS(status_items); i++) {
		unsigned long long value;

		if ((items & status_items[i].item) == 0)
			continue;
		switch (status_items[i].item) {
		case STATUS_MESSAGES: value = status.messages; break;
		case STATUS_RECENT: value = status.recent; break;
		case STATUS_UIDNEXT: value = status.uidnext; break;
		case STATUS_UIDVALIDITY: value = status.uidvalidity; break;
		case STATUS_UNSEEN: value = status.unseen; break;
		case STATUS_HIGHESTMODSEQ: value = status.highest_modseq; break;
		case STATUS_SIZE: value = status.vsize; break;
		case STATUS_DELETED: value = status.deleted; break;
		case STATUS_GUID:
			str_printfa(str, "%sMAILBOXID (F%s)", first ? "" : " ",
				    status.guid);
			first = false;
			continue;
		default: value = 0; break;
		}
		str_printfa(str, "%s%s %llu", first ? "" : " ",
			    status_items[i].name, value);
		first = false;
	}
	str_append_c(str, ')');
	client_send_line(client, str_c(str));
	str_free(&str);
	return 0;
}

bool cmd_status(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	enum mailbox_status_items items;
	const struct imap_arg *list;
	const char *name, *vname, *error;
	struct mailbox *box;

	if (imap_arg_is_eol(&cmd->args[0]) || imap_arg_is_eol(&cmd->args[1]))
		return imap_cmd_missing_args(cmd);
	if (!imap_arg_get_astring(&cmd->args[0], &name) ||
	    !imap_arg_get_list(&cmd->args[1], &list) ||
	    !imap_arg_is_eol(&cmd->args[2]))
		return cmd_bad_args(cmd);
	error = imap_status_parse_items(client, list, &items);
	if (error != NULL) {
		char *text = i_strdup_printf("Error in IMAP command STATUS: %s",
					     error);

		cmd_bad(cmd, text);
		i_free(text);
		return true;
	}
	vname = imap_cmd_mailbox_vname(cmd, name);
	if (vname == NULL)
		return true;
	/* Dovecot enables CONDSTORE for the session when HIGHESTMODSEQ is
	   asked for (imap-condstore.c) */
	if ((items & STATUS_HIGHESTMODSEQ) != 0)
		imap_condstore_enable(client, IMAP_ENABLED_CONDSTORE);
	if (imap_status_send(client, vname, name, items, &box) < 0) {
		struct mailbox *ebox = box != NULL ? box : client->mailbox;
		const char *text = mailbox_get_last_error(ebox, NULL);

		/* Dovecot sends this one without a response code */
		if (strcmp(text, "Mailbox isn't selectable") == 0)
			cmd_no(cmd, text);
		else
			cmd_no_storage_error(cmd, ebox);
	} else if (box == NULL) {
		cmd_ok(cmd, "[CLIENTBUG] Status on selected mailbox completed");
	} else {
		cmd_ok(cmd, "Status completed");
	}
	if (box != NULL)
		mailbox_free(&box);
	return true;
}

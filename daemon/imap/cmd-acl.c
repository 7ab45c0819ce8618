/* cmd-acl.c - the imap_acl plugin (RFC 4314): GETACL, SETACL,
 * DELETEACL, LISTRIGHTS and MYRIGHTS over mailstore/acl.h, with Dovecot
 * 2.3's replies and identifiers ("$group", "-id" for negative rights,
 * "owner", anyone/authenticated only with acl_anyone = allow). Unknown
 * commands without the plugin. */
#include "imap-plugins.h"
#include "imap-quote.h"
#include "mail-plugins.h"
#include "acl.h"

#include <strings.h>

static bool imap_acl_enabled(struct imap_client *client)
{
	return mail_plugins_has(client->set->mail_plugins, "imap_acl") &&
		acl_enabled(client->user);
}

/* The mailbox argument: decoded and allocated; NULL after replying. */
static struct mailbox *acl_box_get(struct client_command_context *cmd,
				   const char *name)
{
	const char *vname, *error;

	vname = imap_mailbox_name_decode(cmd->client, name, &error);
	if (vname == NULL) {
		cmd_no(cmd, error);
		return NULL;
	}
	return mailbox_alloc(cmd->client->user, vname, 0);
}

static bool reply_nonexistent(struct client_command_context *cmd,
			      struct mailbox *box)
{
	char *text = i_strdup_printf("[NONEXISTENT] Mailbox doesn't exist: %s.",
				     mailbox_get_vname(box));

	cmd_no(cmd, text);
	i_free(text);
	return true;
}

/* Rights on an existing mailbox; false after replying (not there, not
 * visible, error). */
static bool box_rights(struct client_command_context *cmd, struct mailbox *box,
		       bool must_exist, unsigned int *rights_r)
{
	bool exists;

	if (acl_mailbox_rights(box, rights_r) < 0) {
		cmd_no_storage_error(cmd, box);
		return false;
	}
	if ((*rights_r & (ACL_LOOKUP | ACL_ADMIN)) == 0) {
		reply_nonexistent(cmd, box);
		return false;
	}
	if (!must_exist)
		return true;
	if (mailbox_exists(box, &exists) < 0) {
		cmd_no_storage_error(cmd, box);
		return false;
	}
	if (!exists) {
		reply_nonexistent(cmd, box);
		return false;
	}
	return true;
}

static bool need_admin(struct client_command_context *cmd, unsigned int rights)
{
	if ((rights & ACL_ADMIN) != 0)
		return true;
	cmd_no(cmd, "[NOPERM] You lack administrator privileges on this "
	       "mailbox.");
	return false;
}

static void append_box(struct client_command_context *cmd, string_t *dest,
		       struct mailbox *box)
{
	imap_client_append_mailbox_name(cmd->client, dest,
					mailbox_get_vname(box), false);
}

bool cmd_getacl(struct client_command_context *cmd)
{
	ARRAY_ACL entries = ARRAY_INIT;
	struct mailbox *box;
	const char *name;
	unsigned int rights;
	string_t *str;

	if (!imap_acl_enabled(cmd->client))
		return cmd_bad_error(cmd, "Unknown command");
	if (imap_arg_is_eol(&cmd->args[0]))
		return cmd_bad_error(cmd, "Missing arguments.");
	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_error(cmd, "Invalid arguments.");
	if ((box = acl_box_get(cmd, name)) == NULL)
		return true;
	if (!box_rights(cmd, box, true, &rights) || !need_admin(cmd, rights)) {
		mailbox_free(&box);
		return true;
	}
	if (acl_mailbox_get_entries(box, &entries) < 0) {
		cmd_no_storage_error(cmd, box);
		mailbox_free(&box);
		return true;
	}
	str = str_new(256);
	str_append(str, "* ACL ");
	append_box(cmd, str, box);
	for (size_t i = 0; i < entries.count; i++) {
		str_append_c(str, ' ');
		imap_append_astring(str,
			acl_entry_id_name(box, &entries.v[i],
					  cmd->client->user->pool), "]");
		str_append_c(str, ' ');
		acl_rights_append(str, entries.v[i].rights,
				  entries.v[i].is_default, true);
	}
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
	acl_entries_free(&entries);
	mailbox_free(&box);
	return cmd_ok(cmd, "Getacl completed.");
}

bool cmd_myrights(struct client_command_context *cmd)
{
	struct mailbox *box;
	const char *name;
	unsigned int rights;
	string_t *str;

	if (!imap_acl_enabled(cmd->client))
		return cmd_bad_error(cmd, "Unknown command");
	if (imap_arg_is_eol(&cmd->args[0]))
		return cmd_bad_error(cmd, "Missing arguments.");
	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_error(cmd, "Invalid arguments.");
	if ((box = acl_box_get(cmd, name)) == NULL)
		return true;
	if (!box_rights(cmd, box, false, &rights)) {
		mailbox_free(&box);
		return true;
	}
	if (acl_namespace_ignored(mailbox_get_namespace(box)) &&
	    acl_mailbox_my_rights(box, &rights) < 0) {
		/* not enforced there, but Dovecot shows the ACL's rights */
		cmd_no_storage_error(cmd, box);
		mailbox_free(&box);
		return true;
	}
	str = str_new(128);
	str_append(str, "* MYRIGHTS ");
	append_box(cmd, str, box);
	str_append_c(str, ' ');
	acl_rights_append(str, rights, true, true);
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
	mailbox_free(&box);
	return cmd_ok(cmd, "Myrights completed.");
}

bool imap_acl_list_myrights_enabled(struct imap_client *client)
{
	return imap_acl_enabled(client);
}

void imap_acl_send_myrights(struct imap_client *client, const char *vname)
{
	struct mailbox *box = mailbox_alloc(client->user, vname, 0);
	unsigned int rights;

	if (acl_mailbox_rights(box, &rights) == 0 &&
	    (rights & (ACL_LOOKUP | ACL_ADMIN)) != 0) {
		string_t *str = str_new(128);

		str_append(str, "* MYRIGHTS ");
		imap_client_append_mailbox_name(client, str, vname, false);
		str_append_c(str, ' ');
		acl_rights_append(str, rights, true, true);
		client_send_line(client, str_c(str));
		str_free(&str);
	}
	mailbox_free(&box);
}

bool cmd_listrights(struct client_command_context *cmd)
{
	struct mailbox *box;
	const char *name, *id;
	unsigned int rights;
	string_t *str;

	if (!imap_acl_enabled(cmd->client))
		return cmd_bad_error(cmd, "Unknown command");
	if (imap_arg_is_eol(&cmd->args[0]) || imap_arg_is_eol(&cmd->args[1]))
		return cmd_bad_error(cmd, "Missing arguments.");
	if (!imap_arg_get_astring(&cmd->args[0], &name) ||
	    !imap_arg_get_astring(&cmd->args[1], &id))
		return cmd_bad_error(cmd, "Invalid arguments.");
	if ((box = acl_box_get(cmd, name)) == NULL)
		return true;
	if (!box_rights(cmd, box, false, &rights)) {
		mailbox_free(&box);
		return true;
	}
	str = str_new(128);
	str_append(str, "* LISTRIGHTS ");
	append_box(cmd, str, box);
	str_append_c(str, ' ');
	imap_append_astring(str, id, "]");
	/* nothing is always granted; every right can be given alone */
	str_append(str, " \"\" l r w s t p i e k x a c d");
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
	mailbox_free(&box);
	return cmd_ok(cmd, "Listrights completed.");
}

/* IMAP identifier -> entry; -1 after replying BAD. */
static int id_parse(struct client_command_context *cmd, const char *id,
		    struct acl_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (id[0] == '-') {
		e->neg = true;
		id++;
	}
	if (id[0] == '\0') {
		cmd_bad_error(cmd, "Invalid arguments.");
		return -1;
	}
	if (strcmp(id, "anyone") == 0 || strcmp(id, "authenticated") == 0) {
		if (!acl_anyone_allowed(cmd->client->user)) {
			char *text = i_strdup_printf(
				"'%s' identifier is disallowed.", id);
			cmd_bad_error(cmd, text);
			i_free(text);
			return -1;
		}
		e->type = id[1] == 'n' ? ACL_ID_ANYONE : ACL_ID_AUTHENTICATED;
	} else if (strcmp(id, "owner") == 0) {
		e->type = ACL_ID_OWNER;
	} else if (id[0] == '$' && id[1] != '\0') {
		e->type = ACL_ID_GROUP;
		e->name = (char *)id + 1;
	} else {
		e->type = ACL_ID_USER;
		e->name = (char *)id;
	}
	return 0;
}

static bool acl_change(struct client_command_context *cmd, bool delete_id)
{
	struct acl_entry e;
	enum modify_type mode = MODIFY_REPLACE;
	struct mailbox *box;
	const char *name, *id, *letters = "";
	unsigned int rights;
	char bad;

	if (!imap_acl_enabled(cmd->client))
		return cmd_bad_error(cmd, "Unknown command");
	if (imap_arg_is_eol(&cmd->args[0]) || imap_arg_is_eol(&cmd->args[1]) ||
	    (!delete_id && imap_arg_is_eol(&cmd->args[2])))
		return cmd_bad_error(cmd, "Missing arguments.");
	if (!imap_arg_get_astring(&cmd->args[0], &name) ||
	    !imap_arg_get_astring(&cmd->args[1], &id) ||
	    (!delete_id && !imap_arg_get_astring(&cmd->args[2], &letters)))
		return cmd_bad_error(cmd, "Invalid arguments.");
	if (id_parse(cmd, id, &e) < 0)
		return true;
	if (letters[0] == '+') {
		mode = MODIFY_ADD;
		letters++;
	} else if (letters[0] == '-') {
		mode = MODIFY_REMOVE;
		letters++;
	}
	if (acl_rights_parse_imap(letters, &e.rights, &bad) < 0) {
		char *text = i_strdup_printf("Invalid ACL right: %c.", bad);
		cmd_bad_error(cmd, text);
		i_free(text);
		return true;
	}
	if ((box = acl_box_get(cmd, name)) == NULL)
		return true;
	if (!box_rights(cmd, box, true, &rights) || !need_admin(cmd, rights)) {
		mailbox_free(&box);
		return true;
	}
	if (e.type == ACL_ID_OWNER &&
	    mailbox_get_namespace(box)->type == MAIL_NAMESPACE_PUBLIC) {
		mailbox_free(&box);
		return cmd_no(cmd, "Public namespaces have no owner");
	}
	if (acl_mailbox_update(box, &e, mode, delete_id) < 0) {
		cmd_no_storage_error(cmd, box);
		mailbox_free(&box);
		return true;
	}
	mailbox_free(&box);
	return cmd_ok(cmd, delete_id ? "Deleteacl complete." :
		      "Setacl complete.");
}

bool cmd_setacl(struct client_command_context *cmd)
{
	return acl_change(cmd, false);
}

bool cmd_deleteacl(struct client_command_context *cmd)
{
	return acl_change(cmd, true);
}

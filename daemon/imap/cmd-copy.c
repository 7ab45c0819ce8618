/* cmd-copy.c - COPY and MOVE (RFC 6851), with their UID forms: the
 * messages are copied (hard links where the storage can) into the
 * destination in one transaction, answered with UIDPLUS's COPYUID; MOVE
 * then expunges the originals and reports them at once. Also the
 * helpers APPEND shares (imap-save.h). */
#include "imap-save.h"
#include "imap-mailbox.h"

#include <stdlib.h>

/* mailbox-list.c: the special-use flags the config gives a mailbox */
enum mailbox_info_flags mailbox_special_use_flags(struct mail_namespace *ns,
						  const char *name);

bool imap_save_cmd_error(struct client_command_context *cmd,
                         const char *error)
{
	return cmd_bad_error(cmd, error);
}

static int uid_cmp(const void *p1, const void *p2)
{
	uint32_t a = *(const uint32_t *)p1, b = *(const uint32_t *)p2;

	return a < b ? -1 : a > b ? 1 : 0;
}

void imap_save_write_uidset(string_t *dest, const ARRAY_U32 *uids)
{
	uint32_t *v = i_new(uint32_t, uids->count + 1);
	size_t i = 0;
	bool first = true;

	if (uids->count > 0)
		memcpy(v, uids->v, uids->count * sizeof(*v));
	qsort(v, uids->count, sizeof(*v), uid_cmp);
	while (i < uids->count) {
		size_t j = i;

		while (j + 1 < uids->count && v[j + 1] <= v[j] + 1)
			j++;
		if (!first)
			str_append_c(dest, ',');
		first = false;
		if (v[i] == v[j])
			str_printfa(dest, "%u", v[i]);
		else
			str_printfa(dest, "%u:%u", v[i], v[j]);
		i = j + 1;
	}
	i_free(v);
}

/* Dovecot's checks of where separators may be in a name, with its
 * texts; NULL if the name is fine. */
static const char *save_name_error(struct mail_user *user, const char *vname)
{
	struct mail_namespace *ns = mail_namespace_find(user, vname);
	const char *name = vname + strlen(ns->prefix);
	size_t len = strlen(name);

	if (len == 0)
		return "Name is empty";
	if (name[0] == ns->sep)
		return "Begins with hierarchy separator";
	for (size_t i = 1; i < len; i++) {
		if (name[i] == ns->sep && name[i - 1] == ns->sep)
			return "Has adjacent hierarchy separators";
	}
	if (name[len - 1] == ns->sep)
		return "Ends with hierarchy separator";
	return NULL;
}

struct mailbox *imap_save_open_dest(struct client_command_context *cmd,
				    const char *name, bool *own_r)
{
	struct imap_client *client = cmd->client;
	const char *vname, *error;
	struct mailbox *box;
	enum mail_error err;

	*own_r = false;
	vname = imap_cmd_mailbox_vname(cmd, name);
	if (vname == NULL)
		return NULL;
	error = save_name_error(client->user, vname);
	if (error != NULL) {
		char *text = i_strdup_printf("[CANNOT] Invalid mailbox name: %s",
					     error);

		cmd_no(cmd, text);
		i_free(text);
		return NULL;
	}
	if (client->mailbox != NULL && !client->readonly &&
	    strcmp(mailbox_get_vname(client->mailbox), vname) == 0)
		return client->mailbox;
	/* an EXAMINEd mailbox takes new mail through its own instance */
	/* saving only, as Dovecot opens it: flagless mail goes to new/ */
	box = mailbox_alloc(client->user, vname, MAILBOX_FLAG_SAVEONLY);
	if (mailbox_open(box) < 0) {
		error = mailbox_get_last_error(box, &err);
		if (err == MAIL_ERROR_NOTFOUND) {
			char *text = i_strdup_printf("[TRYCREATE] %s", error);

			cmd_no(cmd, text);
			i_free(text);
		} else {
			cmd_no_storage_error(cmd, box);
		}
		mailbox_free(&box);
		return NULL;
	}
	*own_r = true;
	return box;
}

/* Dovecot's "trashed" logout counter: copies into a \Trash mailbox */
static void copy_count_trashed(struct imap_client *client,
			       struct mailbox *box, unsigned int count)
{
	struct mail_namespace *ns = mailbox_get_namespace(box);
	const char *name = mailbox_get_vname(box);
	size_t prefix_len = strlen(ns->prefix);

	if (strncmp(name, ns->prefix, prefix_len) == 0)
		name += prefix_len;
	if ((mailbox_special_use_flags(ns, name) &
	     MAILBOX_SPECIALUSE_TRASH) != 0)
		client->trashed += count;
}

/* MOVE's expunge of the originals. An EXAMINEd mailbox can't expunge:
 * they go through a writable instance of it, as Dovecot moves out of a
 * read-only mailbox too. */
static int move_expunge(struct imap_client *client, const ARRAY_U32 *uids)
{
	struct mailbox *box = client->mailbox;
	struct mailbox_transaction *t;
	struct mail *mail;
	int ret;

	if (client->readonly) {
		box = mailbox_alloc(client->user,
				    mailbox_get_vname(client->mailbox), 0);
		if (mailbox_open(box) < 0) {
			mailbox_free(&box);
			return -1;
		}
	}
	t = mailbox_transaction_begin(box);
	mailbox_transaction_set_moving(t);
	mail = mail_alloc(box);
	for (size_t i = 0; i < uids->count; i++) {
		if (mail_set_uid(mail, uids->v[i]))
			mail_expunge(t, mail);
	}
	mail_free(&mail);
	ret = mailbox_transaction_commit(&t, NULL);
	if (box != client->mailbox)
		mailbox_free(&box);
	return ret;
}

/* Copy seqs into dest's transaction t; the source UIDs go to
 * src_uids. */
static int copy_mails(struct imap_client *client, const ARRAY_U32 *seqs,
		      struct mailbox_transaction *t, ARRAY_U32 *src_uids)
{
	struct mail *mail = mail_alloc(client->mailbox);
	int ret = 0;

	for (size_t i = 0; i < seqs->count && ret == 0; i++) {
		struct mail_save_context *save;

		mail_set_seq(mail, seqs->v[i]);
		if (mail->expunged) {
			ret = 1;
			break;
		}
		save = mailbox_save_alloc(t);
		if (mailbox_copy(&save, mail) < 0)
			ret = mail->expunged ? 1 : -1;
		array_push(src_uids, mail->uid);
	}
	mail_free(&mail);
	return ret;
}

/* The tagged reply after a successful commit (and MOVE's untagged
 * COPYUID). */
static void copy_reply(struct client_command_context *cmd, bool move,
		       struct mailbox *dest, const ARRAY_U32 *src_uids,
		       struct mail_transaction_commit_changes *changes)
{
	string_t *str;

	if (src_uids->count == 0) {
		cmd_ok(cmd, "No messages found.");
		return;
	}
	copy_count_trashed(cmd->client, dest, (unsigned int)src_uids->count);
	if (changes->saved_uids.count == 0) {
		/* no UIDs to tell (acl: the user can't read dest) */
		if (move)
			cmd_ok(cmd, "Move completed.");
		else
			cmd_ok(cmd, "Copy completed.");
		return;
	}
	str = str_new(128);
	str_printfa(str, "%s[COPYUID %u ", move ? "* OK " : "",
		    changes->uidvalidity);
	imap_save_write_uidset(str, src_uids);
	str_append_c(str, ' ');
	imap_save_write_uidset(str, &changes->saved_uids);
	if (move) {
		str_append(str, "] Moved UIDs.");
		client_send_line(cmd->client, str_c(str));
		cmd_ok(cmd, "Move completed.");
	} else {
		str_append(str, "] Copy completed.");
		cmd_ok(cmd, str_c(str));
	}
	str_free(&str);
}

static bool cmd_copy_full(struct client_command_context *cmd, bool move)
{
	struct imap_client *client = cmd->client;
	struct mailbox_transaction *t;
	struct mail_transaction_commit_changes changes;
	ARRAY_U32 seqs = ARRAY_INIT, src_uids = ARRAY_INIT;
	const char *set, *name, *error;
	struct mailbox *dest;
	bool own;
	int ret;

	if (imap_arg_is_eol(&cmd->args[0]) || imap_arg_is_eol(&cmd->args[1]))
		return imap_save_cmd_error(cmd, "Missing arguments");
	if (!imap_arg_get_astring(&cmd->args[0], &set) ||
	    !imap_arg_get_astring(&cmd->args[1], &name))
		return cmd_bad_args(cmd);
	if (imap_seqset_parse(client, set, cmd->uid, &seqs, &error) < 0) {
		array_free(&seqs);
		return imap_save_cmd_error(cmd, error);
	}
	if (seqs.count == 0) {
		/* before the destination is looked at, as Dovecot */
		array_free(&seqs);
		return cmd_ok(cmd, "No messages found.");
	}
	dest = imap_save_open_dest(cmd, name, &own);
	if (dest == NULL) {
		array_free(&seqs);
		return true;
	}
	t = mailbox_transaction_begin(dest);
	if (move)
		mailbox_transaction_set_moving(t);
	ret = copy_mails(client, &seqs, t, &src_uids);
	array_free(&seqs);
	memset(&changes, 0, sizeof(changes));
	if (ret != 0) {
		mailbox_transaction_rollback(&t);
	} else if (mailbox_transaction_commit(&t, &changes) < 0) {
		ret = -1;
	} else {
		copy_reply(cmd, move, dest, &src_uids, &changes);
	}
	mail_transaction_commit_changes_free(&changes);
	if (ret < 0)
		cmd_no_storage_error(cmd, dest);
	else if (ret == 0 && move && move_expunge(client, &src_uids) < 0)
		cmd_no_storage_error(cmd, client->mailbox);
	array_free(&src_uids);
	if (own)
		mailbox_free(&dest);
	if (ret > 0) {
		return cmd_no(cmd, "[EXPUNGEISSUED] Some of the requested "
			      "messages no longer exist.");
	}
	if (move && ret == 0) {
		/* MOVE answers with the EXPUNGEs even though it numbers
		   messages by seq (RFC 6851 4.3) */
		imap_sync(client, false);
	}
	return true;
}

bool cmd_copy(struct client_command_context *cmd)
{
	return cmd_copy_full(cmd, false);
}

bool cmd_move(struct client_command_context *cmd)
{
	return cmd_copy_full(cmd, true);
}

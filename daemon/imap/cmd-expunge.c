/* cmd-expunge.c - EXPUNGE and UID EXPUNGE (RFC 4315): every \Deleted
 * message (of the UID set) goes; the EXPUNGE responses come from the
 * sync before the tagged reply. */
#include "imap-common.h"

int imap_expunge_deleted(struct imap_client *client, const ARRAY_U32 *seqs)
{
	struct mailbox *box = client->mailbox;
	struct mailbox_transaction *t = mailbox_transaction_begin(box);
	struct mail *mail = mail_alloc(box);
	uint32_t count = mailbox_count(box);
	size_t n = seqs == NULL ? count : seqs->count;
	unsigned int expunged = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t seq = seqs == NULL ? (uint32_t)i + 1 : seqs->v[i];

		if ((mailbox_seq_flags(box, seq) & MAIL_DELETED) == 0)
			continue;
		mail_set_seq(mail, seq);
		mail_expunge(t, mail);
		expunged++;
	}
	mail_free(&mail);
	if (mailbox_transaction_commit(&t, NULL) < 0)
		return -1;
	client->expunged += expunged;
	return 0;
}

bool cmd_expunge(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	ARRAY_U32 seqs = ARRAY_INIT;
	const char *set, *error;
	int ret = 0;

	if (client->readonly)
		return cmd_ok(cmd, "Expunge completed");
	if (cmd->uid) {
		if (imap_arg_is_eol(&cmd->args[0])) {
			return cmd_bad(cmd, "Error in IMAP command UID EXPUNGE: "
				       "Missing arguments");
		}
		if (!imap_arg_get_atom(&cmd->args[0], &set))
			return cmd_bad_args(cmd);
		if (imap_seqset_parse(client, set, true, &seqs, &error) < 0) {
			array_free(&seqs);
			return cmd_bad(cmd, error);
		}
		ret = imap_expunge_deleted(client, &seqs);
		array_free(&seqs);
	} else {
		/* arguments are ignored, as Dovecot does */
		ret = imap_expunge_deleted(client, NULL);
	}
	/* read-only (EXAMINE): nothing is expunged, and Dovecot still
	   answers OK */
	if (ret < 0)
		return cmd_no_storage_error(cmd, client->mailbox);
	return cmd_ok(cmd, "Expunge completed");
}

/* cmd-store.c - STORE and UID STORE: FLAGS, +FLAGS, -FLAGS (.SILENT)
 * with system flags and keywords, in one transaction. Each message whose
 * flags changed gets an untagged FETCH (unless .SILENT), after new
 * keywords were announced with FLAGS/PERMANENTFLAGS, as Dovecot does. */
#include "imap-common.h"
#include "imap-save.h"
#include "imap-condstore.h"
#include "imap-rev2.h"

#include <strings.h>

struct store_args {
	enum modify_type type;
	bool unchangedsince_set;
	uint64_t unchangedsince;
	bool silent;
	enum mail_flags flags;
	ARRAY_STR keywords;
	bool has_keywords;
};

int imap_save_parse_flags(const struct imap_arg *args,
			  enum mail_flags *flags_r, ARRAY_STR *keywords,
			  const char **error_r)
{
	*flags_r = 0;
	for (; !imap_arg_is_eol(args); args++) {
		struct imap_arg one[2];
		enum mail_flags flag;
		const char *atom;

		if (!imap_arg_get_atom(args, &atom)) {
			*error_r = "Flags list contains non-atoms.";
			return -1;
		}
		if (atom[0] != '\\') {
			bool dup = false;

			for (size_t i = 0; i < keywords->count; i++)
				dup = dup || strcasecmp(keywords->v[i], atom) == 0;
			if (!dup)
				array_push(keywords, atom);
			continue;
		}
		/* a system flag: imap-util knows them */
		one[0] = *args;
		memset(&one[1], 0, sizeof(one[1]));
		if (imap_parse_flags(one, &flag, NULL, error_r) < 0)
			return -1;
		*flags_r |= flag;
	}
	return 0;
}

int imap_save_check_keywords(struct imap_client *client,
			     const ARRAY_STR *keywords, const char **error_r)
{
	for (size_t i = 0; i < keywords->count; i++) {
		const unsigned char *p = (const unsigned char *)keywords->v[i];
		size_t len = 0;

		for (; p[len] != '\0'; len++) {
			if (p[len] <= ' ' || p[len] == 0x7f ||
			    strchr("(){%*\"\\]", p[len]) != NULL) {
				*error_r = "Invalid characters in keyword";
				return -1;
			}
			if (p[len] >= 0x80) {
				*error_r = "8bit characters in keyword";
				return -1;
			}
		}
		if (len > client->set->mail_max_keyword_length) {
			*error_r = "Keyword length too long";
			return -1;
		}
	}
	return 0;
}

/* "FLAGS", "+FLAGS.SILENT", ... */
static bool store_parse_type(const char *str, struct store_args *sa)
{
	if (*str == '+') {
		sa->type = MODIFY_ADD;
		str++;
	} else if (*str == '-') {
		sa->type = MODIFY_REMOVE;
		str++;
	} else {
		sa->type = MODIFY_REPLACE;
	}
	if (strncasecmp(str, "FLAGS", 5) != 0)
		return false;
	sa->silent = strcasecmp(str + 5, ".SILENT") == 0;
	return sa->silent || str[5] == '\0';
}

/* The args after the sequence set; false with the reply set. */
static bool store_parse_args(struct client_command_context *cmd,
			     const struct imap_arg *args, struct store_args *sa)
{
	const struct imap_arg *list;
	const char *type, *error;

	if (imap_arg_get_list(args, &list)) {
		const char *name, *value;

		/* modifiers: UNCHANGEDSINCE (RFC 7162) */
		for (; !imap_arg_is_eol(list); list += 2) {
			if (!imap_arg_get_atom(&list[0], &name) ||
			    !imap_arg_get_atom(&list[1], &value)) {
				(void)imap_save_cmd_error(cmd,
					"Invalid STORE modifiers.");
				return false;
			}
			if (strcasecmp(name, "UNCHANGEDSINCE") != 0) {
				(void)imap_save_cmd_error(cmd,
					"Unknown STORE modifier");
				return false;
			}
			if (!imap_parse_modseq(value, &sa->unchangedsince)) {
				(void)imap_save_cmd_error(cmd, "Invalid modseq");
				return false;
			}
			sa->unchangedsince_set = true;
		}
		args++;
	}
	if (!imap_arg_get_astring(args, &type) ||
	    !store_parse_type(type, sa)) {
		(void)cmd_bad_args(cmd);
		return false;
	}
	args++;
	if (imap_arg_get_list(args, &list))
		args = list;
	if (imap_save_parse_flags(args, &sa->flags, &sa->keywords,
				  &error) < 0) {
		(void)imap_save_cmd_error(cmd, error);
		return false;
	}
	if (imap_save_check_keywords(cmd->client, &sa->keywords, &error) < 0) {
		char *text = i_strdup_printf("[CANNOT] %s", error);

		cmd_no(cmd, text);
		i_free(text);
		return false;
	}
	sa->has_keywords = sa->keywords.count > 0;
	array_push(&sa->keywords, NULL);
	return true;
}

/* Flags and keyword bitmap of a message, to see whether STORE changed
 * it. */
static bool store_flags_equal(enum mail_flags f1, const char *const *kw1,
			      struct mail *mail)
{
	const char *const *kw2 = mail_get_keywords(mail);
	size_t i;

	if (f1 != mail_get_flags(mail))
		return false;
	for (i = 0; kw1[i] != NULL && kw2[i] != NULL; i++) {
		if (strcmp(kw1[i], kw2[i]) != 0)
			return false;
	}
	return kw1[i] == NULL && kw2[i] == NULL;
}

static void store_send_fetch(struct imap_client *client, struct mail *mail,
			     bool uid, bool silent)
{
	string_t *str = str_new(128);

	str_printfa(str, "* %u FETCH (", mail->seq);
	if (uid)
		str_printfa(str, "UID %u ", mail->uid);
	if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0) {
		str_printfa(str, "MODSEQ (%llu)",
			    (unsigned long long)mail_get_modseq(mail));
		imap_condstore_sent_modseq(client, mail_get_modseq(mail));
		if (!silent)
			str_append_c(str, ' ');
	}
	if (!silent) {
		str_append(str, "FLAGS (");
		imap_write_flags(str, imap_client_flags(client,
							mail_get_flags(mail)),
				 mail_get_keywords(mail));
		str_append_c(str, ')');
	}
	str_append_c(str, ')');
	client_send_line(client, str_c(str));
	str_free(&str);
}

/* Apply sa to seqs; changed_r gets the seqs whose flags changed. */
static int store_apply(struct imap_client *client, const ARRAY_U32 *seqs,
		       const struct store_args *sa, ARRAY_U32 *changed_r,
		       bool cmd_uid, ARRAY_U32 *modified_r)
{
	struct mailbox *box = client->mailbox;
	struct mailbox_transaction *t = mailbox_transaction_begin(box);
	struct mail *mail = mail_alloc(box);
	const char *const *keywords = sa->keywords.v;
	bool update_kw = sa->has_keywords || sa->type == MODIFY_REPLACE;
	unsigned int deleted = 0;
	int ret = 0;

	/* Dovecot creates the keywords it is given even to remove them */
	for (size_t i = 0; keywords[i] != NULL; i++)
		(void)mailbox_keyword_lookup(box, keywords[i], true);
	for (size_t i = 0; i < seqs->count && ret == 0; i++) {
		enum mail_flags old_flags;
		char **old_kw;
		size_t n;

		mail_set_seq(mail, seqs->v[i]);
		if (mail->expunged)
			continue;
		if (sa->unchangedsince_set &&
		    mail_get_modseq(mail) > sa->unchangedsince) {
			/* changed since the client looked: [MODIFIED] */
			array_push(modified_r, cmd_uid ? mail->uid : seqs->v[i]);
			continue;
		}
		old_flags = mail_get_flags(mail);
		if ((sa->flags & MAIL_DELETED) != 0 &&
		    sa->type != MODIFY_REMOVE &&
		    (old_flags & MAIL_DELETED) == 0)
			deleted++;
		{
			const char *const *kw = mail_get_keywords(mail);

			for (n = 0; kw[n] != NULL; n++) ;
			old_kw = i_new(char *, n + 1);
			for (size_t k = 0; k < n; k++)
				old_kw[k] = i_strdup(kw[k]);
		}
		if (sa->type == MODIFY_REPLACE || sa->flags != 0)
			mail_update_flags(t, mail, sa->type, sa->flags);
		if (update_kw && mail_update_keywords(t, mail, sa->type,
						      sa->has_keywords ?
						      keywords : NULL) < 0)
			ret = -1;
		if (ret == 0 &&
		    !store_flags_equal(old_flags, (const char *const *)old_kw,
				       mail))
			array_push(changed_r, seqs->v[i]);
		for (size_t k = 0; k < n; k++)
			i_free(old_kw[k]);
		i_free(old_kw);
	}
	mail_free(&mail);
	if (ret < 0) {
		mailbox_transaction_rollback(&t);
		return -1;
	}
	if (mailbox_transaction_commit(&t, NULL) < 0)
		return -1;
	client->deleted += deleted;
	return 0;
}

bool cmd_store(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	struct store_args sa;
	ARRAY_U32 seqs = ARRAY_INIT, changed = ARRAY_INIT;
	ARRAY_U32 modified = ARRAY_INIT;
	const char *set, *error;
	unsigned int kw_count;

	memset(&sa, 0, sizeof(sa));
	if (!imap_arg_get_atom(&cmd->args[0], &set))
		return cmd_bad_args(cmd);
	if (imap_seqset_parse(client, set, cmd->uid, &seqs, &error) < 0) {
		array_free(&seqs);
		return imap_save_cmd_error(cmd, error);
	}
	if (!store_parse_args(cmd, &cmd->args[1], &sa)) {
		array_free(&seqs);
		array_free(&sa.keywords);
		return true;
	}
	if (client->readonly && client->examined) {
		array_free(&seqs);
		array_free(&sa.keywords);
		return cmd_ok(cmd, "Store ignored with read-only mailbox.");
	}
	if (sa.unchangedsince_set)
		imap_condstore_enable(client, IMAP_ENABLED_CONDSTORE);
	if (store_apply(client, &seqs, &sa, &changed, cmd->uid,
			&modified) < 0) {
		array_free(&seqs);
		array_free(&modified);
		array_free(&changed);
		array_free(&sa.keywords);
		return cmd_no_storage_error(cmd, client->mailbox);
	}
	(void)mailbox_keywords(client->mailbox, &kw_count);
	if (kw_count != client->keywords_count)
		imap_send_flags(client);
	if (!sa.silent ||
	    (client->enabled & IMAP_ENABLED_CONDSTORE) != 0) {
		struct mail *mail = mail_alloc(client->mailbox);

		for (size_t i = 0; i < changed.count; i++) {
			mail_set_seq(mail, changed.v[i]);
			store_send_fetch(client, mail, cmd->uid ||
					 (client->enabled &
					  IMAP_ENABLED_QRESYNC) != 0,
					 sa.silent);
		}
		mail_free(&mail);
	}
	array_free(&seqs);
	array_free(&changed);
	array_free(&sa.keywords);
	if (modified.count > 0) {
		string_t *str = str_new(64);

		str_append(str, "[MODIFIED ");
		imap_save_write_uidset(str, &modified);
		str_append(str, "] Conditional store failed");
		cmd_ok(cmd, str_c(str));
		str_free(&str);
		array_free(&modified);
		return true;
	}
	return cmd_ok(cmd, "Store completed.");
}

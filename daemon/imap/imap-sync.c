/* imap-sync.c - telling the client what changed in its selected mailbox:
 * EXPUNGE for messages gone (unless the running command forbids it),
 * FETCH FLAGS for changes by others, FLAGS when new keywords appear,
 * EXISTS and RECENT when the counts moved. */
#include "imap-condstore.h"
#include "imap-save.h"
#include "imap-common.h"
#include "imap-search-return.h"
#include "imap-rev2.h"

struct imap_sync_ctx {
	struct imap_client *client;
	string_t *line;
	/* expunges not sent yet, as the client numbers them, and their
	   UIDs (QRESYNC: one VANISHED line) */
	ARRAY_U32 expunges, vanished;
	bool counts_changed;
};

/* Send the collected expunges highest seq first, as Dovecot does: each
 * number stays valid for the client as the ones above it go. */
static void sync_flush_expunges(struct imap_sync_ctx *ctx)
{
	struct imap_client *client = ctx->client;

	if (ctx->expunges.count > 0 || ctx->vanished.count > 0)
		imap_search_updates_flush_expunges(client);
	if ((client->enabled & IMAP_ENABLED_QRESYNC) != 0 &&
	    ctx->vanished.count > 0) {
		string_t *str = str_new(64);

		str_append(str, "* VANISHED ");
		imap_save_write_uidset(str, &ctx->vanished);
		client_send_line(client, str_c(str));
		str_free(&str);
		client->messages_count -= (uint32_t)ctx->vanished.count;
		ctx->counts_changed = true;
		array_clear(&ctx->expunges);
	}
	array_clear(&ctx->vanished);
	for (size_t i = ctx->expunges.count; i > 0; i--) {
		client_send_linef(client, "* %u EXPUNGE", ctx->expunges.v[i - 1]);
		client->messages_count--;
		ctx->counts_changed = true;
	}
	array_clear(&ctx->expunges);
}

void imap_send_flags(struct imap_client *client)
{
	unsigned int count;
	const char *const *names = mailbox_keywords(client->mailbox, &count);
	/* the view's names are counted, imap_write_flags wants a NULL */
	const char **keywords = i_new(const char *, count + 1);
	string_t *str = str_new(256);

	for (unsigned int i = 0; i < count; i++)
		keywords[i] = names[i];

	str_append(str, "* FLAGS (");
	imap_write_flags(str, MAIL_FLAGS_MASK, keywords);
	str_append_c(str, ')');
	client_send_line(client, str_c(str));
	str_truncate(str, 0);
	if (client->readonly) {
		str_append(str, "* OK [PERMANENTFLAGS ()] Read-only mailbox.");
	} else {
		struct mailbox_status st;
		size_t pos;

		/* all of them, unless acl limits what may change */
		if (mailbox_get_status(client->mailbox,
				       STATUS_PERMANENT_FLAGS, &st) < 0) {
			st.permanent_flags = MAIL_FLAGS_MASK;
			st.permanent_keywords = st.allow_new_keywords = true;
		}
		str_append(str, "* OK [PERMANENTFLAGS (");
		pos = str_len(str);
		imap_write_flags(str, st.permanent_flags,
				 st.permanent_keywords ? keywords : NULL);
		if (st.allow_new_keywords)
			str_append(str, str_len(str) > pos ? " \\*" : "\\*");
		str_append(str, ")] Flags permitted.");
	}
	client_send_line(client, str_c(str));
	str_free(&str);
	i_free(keywords);
	client->keywords_count = count;
}

static void sync_callback(const struct mailbox_sync_rec *rec, void *context)
{
	struct imap_sync_ctx *ctx = context;
	struct imap_client *client = ctx->client;

	switch (rec->type) {
	case MAILBOX_SYNC_EXPUNGE: {
		/* the storage reports them in ascending order, each seq
		   counted after the ones before it went */
		uint32_t seq = rec->seq + (uint32_t)ctx->expunges.count;

		imap_search_updates_expunge(client, rec->uid, seq,
					    seq <= client->messages_count);
		if (seq > client->messages_count)
			break;	/* never announced */
		array_push(&ctx->expunges, seq);
		array_push(&ctx->vanished, rec->uid);
		break;
	}
	case MAILBOX_SYNC_FLAGS: {
		struct mail *mail;
		const char *const *keywords;
		uint32_t seq = rec->seq;

		if ((client->enabled & IMAP_ENABLED_QRESYNC) == 0) {
			sync_flush_expunges(ctx);
		} else {
			/* QRESYNC: one VANISHED at the end of the sync, as
			   Dovecot; until then the client's numbering still
			   has the expunged messages */
			for (size_t i = 0; i < ctx->expunges.count; i++) {
				if (ctx->expunges.v[i] <= seq)
					seq++;
			}
		}
		if (seq > client->messages_count)
			break;	/* EXISTS will announce it */
		{
			unsigned int kw_count;

			(void)mailbox_keywords(client->mailbox, &kw_count);
			if (kw_count != client->keywords_count)
				imap_send_flags(client);
		}
		mail = mail_alloc(client->mailbox);
		mail_set_seq(mail, rec->seq);
		keywords = mail_get_keywords(mail);
		str_truncate(ctx->line, 0);
		str_printfa(ctx->line, "* %u FETCH (", seq);
		if ((client->cmd != NULL && client->cmd->uid) ||
		    (client->enabled & IMAP_ENABLED_QRESYNC) != 0)
			str_printfa(ctx->line, "UID %u ", rec->uid);
		if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0) {
			uint64_t modseq = mail_get_modseq(mail);

			str_printfa(ctx->line, "MODSEQ (%llu) ",
				    (unsigned long long)modseq);
			imap_condstore_sent_modseq(client, modseq);
		}
		str_append(ctx->line, "FLAGS (");
		imap_write_flags(ctx->line,
				 imap_client_flags(client, mail_get_flags(mail)),
				 keywords);
		str_append(ctx->line, "))");
		client_send_line(client, str_c(ctx->line));
		mail_free(&mail);
		break;
	}
	case MAILBOX_SYNC_NEW:
		ctx->counts_changed = true;
		break;
	}
}

static uint32_t count_recent(struct mailbox *box)
{
	uint32_t count = mailbox_count(box), recent = 0;

	for (uint32_t seq = 1; seq <= count; seq++) {
		if ((mailbox_seq_flags(box, seq) & MAIL_RECENT) != 0)
			recent++;
	}
	return recent;
}

void imap_sync(struct imap_client *client, bool no_expunges)
{
	struct imap_sync_ctx ctx;
	unsigned int kw_count;
	uint32_t count, recent, old_count;

	if (client->mailbox == NULL)
		return;
	memset(&ctx, 0, sizeof(ctx));
	ctx.client = client;
	ctx.line = str_new(128);
	enum mailbox_sync_flags flags = no_expunges ?
		MAILBOX_SYNC_FLAG_NO_EXPUNGES : 0;

	if ((client->workarounds & WORKAROUND_DELAY_NEWMAIL) != 0 &&
	    client->cmd != NULL && client->cmd->command != NULL &&
	    strcmp(client->cmd->command->name, "NOOP") != 0 &&
	    strcmp(client->cmd->command->name, "CHECK") != 0 &&
	    strcmp(client->cmd->command->name, "IDLE") != 0)
		flags |= MAILBOX_SYNC_FLAG_NO_NEWMAIL;
	if (imap_notify_hides_new_mail(client))
		flags |= MAILBOX_SYNC_FLAG_NO_NEWMAIL;
	imap_search_updates_sync_begin(client);
	if (mailbox_sync(client->mailbox, flags,
			 sync_callback, &ctx) < 0) {
		/* the view stays as it was; the next command retries */
		i_error("Mailbox %s: sync failed: %s",
			mailbox_get_vname(client->mailbox),
			mailbox_get_last_error(client->mailbox, NULL));
	} else if (mailbox_get_sync_warning(client->mailbox) != NULL &&
		   (client->cmd == NULL || client->cmd->reply_status == NULL ||
		    strcmp(client->cmd->reply_status, "NO") != 0)) {
		/* committed changes still waiting to be written (an mbox
		   locked by another process), as Dovecot says it */
		client_send_linef(client, "* NO %s",
			mailbox_get_sync_warning(client->mailbox));
	}
	sync_flush_expunges(&ctx);
	array_free(&ctx.expunges);
	array_free(&ctx.vanished);
	str_free(&ctx.line);
	(void)mailbox_keywords(client->mailbox, &kw_count);
	if (kw_count != client->keywords_count)
		imap_send_flags(client);
	count = mailbox_count(client->mailbox);
	old_count = client->messages_count;
	if (count != client->messages_count) {
		client_send_linef(client, "* %u EXISTS", count);
		client->messages_count = count;
		ctx.counts_changed = true;
	}
	if (ctx.counts_changed) {
		recent = count_recent(client->mailbox);
		if (recent != client->recent_count && !imap_rev2(client)) {
			client_send_linef(client, "* %u RECENT", recent);
			client->recent_count = recent;
		}
	}
	if (count > old_count)
		imap_notify_new_messages(client, old_count + 1, count);
	imap_condstore_sync_end(client, no_expunges);
	imap_search_updates_sync(client);
}

/* doveadm-mail-dedup.c - doveadm deduplicate, purge and altmove.
 *
 * deduplicate [-m] <query>: in each mailbox the query matches, every
 * matching message whose GUID (-m: Message-ID header) was already seen
 * on an earlier (lower UID) matching message of the same mailbox is
 * expunged; messages without a Message-ID are left alone with -m.
 *
 * purge and altmove [-r] <query> work on dbox files (purge: remove the
 * expunged messages' bytes; altmove: move mail to the alternate
 * storage). Roost stores Maildir and mbox only, where Dovecot 2.3 does
 * nothing for them and exits 0: so does Roost, after the same checks
 * (user lookup, arguments, query syntax). */
#include "lib.h"
#include "str.h"
#include "array.h"
#include "hash.h"
#include "doveadm.h"
#include "doveadm-mail.h"

#include <stdio.h>
#include <stdlib.h>

struct dedup_ctx {
	bool by_msgid;
};

static struct dedup_ctx *dedup_get(struct doveadm_mail_cmd_context *mctx)
{
	if (mctx->cmd_ctx == NULL)
		mctx->cmd_ctx = i_new(struct dedup_ctx, 1);
	return mctx->cmd_ctx;
}

static void dedup_deinit(struct doveadm_mail_cmd_context *mctx)
{
	i_free(mctx->cmd_ctx);
}

static bool dedup_parse_arg(struct doveadm_mail_cmd_context *mctx, int c,
			    const char *arg ATTR_UNUSED)
{
	if (c != 'm')
		return false;
	dedup_get(mctx)->by_msgid = true;
	return true;
}

static void query_init(struct doveadm_mail_cmd_context *mctx,
		       const char *const *args)
{
	if (args[0] == NULL)
		doveadm_mail_help(mctx->cmd);
	mctx->search_args = doveadm_mail_build_search_args(args);
}

static void dedup_init(struct doveadm_mail_cmd_context *mctx,
		       const char *const *args)
{
	(void)dedup_get(mctx);
	query_init(mctx, args);
	mctx->missing_box = DOVEADM_MISSING_BOX_SYNC;
}

/* One mailbox: the first message of each key stays. */
static int dedup_box(struct doveadm_mail_cmd_context *mctx,
		     struct mail_user *user, const char *vname)
{
	bool by_msgid = dedup_get(mctx)->by_msgid;
	struct doveadm_mail_iter *iter;
	struct hash_table *seen;
	struct mail *mail;
	int ret = 0;

	if (doveadm_mail_iter_init(mctx, user, vname, mctx->search_args,
				   false, &iter) < 0)
		return -1;
	seen = hash_create(false);
	while ((mail = doveadm_mail_iter_next(iter)) != NULL) {
		const char *key = NULL;

		if (by_msgid) {
			if (mail_get_first_header(mail, "Message-ID",
						  &key) < 0)
				key = NULL;
		} else if (mail_get_guid(mail, &key) < 0) {
			key = NULL;
		}
		if (key == NULL || key[0] == '\0') {
			if (!by_msgid && !mail->expunged) {
				i_error("Couldn't lookup GUID: %s",
					mailbox_get_last_error(mail->box,
							       NULL));
				doveadm_mail_failed_mailbox(mctx, mail->box);
				ret = -1;
			}
			continue;
		}
		if (hash_lookup_full(seen, key, NULL, NULL)) {
			mail_expunge(doveadm_mail_iter_get_transaction(iter),
				     mail);
			continue;
		}
		(void)hash_insert(seen, key, NULL);
	}
	hash_destroy(&seen);
	if (doveadm_mail_iter_deinit(&iter, true) < 0)
		ret = -1;
	return ret;
}

static int dedup_run(struct doveadm_mail_cmd_context *mctx,
		     struct mail_user *user)
{
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *info;
	ARRAY_STR names = ARRAY_INIT;
	int ret = 0;

	iter = doveadm_mailbox_iter_init(mctx, user, mctx->search_args, true);
	while ((info = doveadm_mailbox_iter_next(iter)) != NULL)
		array_push(&names, i_strdup(info->vname));
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	for (size_t i = 0; i < names.count; i++) {
		if (dedup_box(mctx, user, names.v[i]) < 0)
			ret = -1;
		free((char *)names.v[i]);
	}
	array_free(&names);
	return ret;
}

/* ---- purge, altmove: dbox only ---- */

static void purge_init(struct doveadm_mail_cmd_context *mctx ATTR_UNUSED,
		       const char *const *args)
{
	if (args[0] != NULL) {
		fflush(stdout);
		fprintf(stderr, "Error: Extraneous arguments found: %s\n",
			args[0]);
		exit(EXIT_USAGE);
	}
}

static int nothing_run(struct doveadm_mail_cmd_context *mctx ATTR_UNUSED,
		       struct mail_user *user ATTR_UNUSED)
{
	/* no dbox storage: nothing to purge or move, as Dovecot */
	return 0;
}

static bool altmove_parse_arg(struct doveadm_mail_cmd_context *mctx ATTR_UNUSED,
			      int c, const char *arg ATTR_UNUSED)
{
	return c == 'r';
}

static void plain_deinit(struct doveadm_mail_cmd_context *mctx ATTR_UNUSED)
{
}

static const struct doveadm_mail_cmd dedup_cmd = {
	"deduplicate", "[-m] <search query>", "m", NULL,
	dedup_parse_arg, dedup_init, dedup_run, dedup_deinit
};
static const struct doveadm_mail_cmd purge_cmd = {
	"purge", "", NULL, NULL,
	NULL, purge_init, nothing_run, plain_deinit
};
static const struct doveadm_mail_cmd altmove_cmd = {
	"altmove", "[-r] <search query>", "r", NULL,
	altmove_parse_arg, query_init, nothing_run, plain_deinit
};

static int dedup_main(struct doveadm_context *dctx, int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&dedup_cmd, dctx, argc, argv);
}

static int purge_main(struct doveadm_context *dctx, int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&purge_cmd, dctx, argc, argv);
}

static int altmove_main(struct doveadm_context *dctx, int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&altmove_cmd, dctx, argc, argv);
}

#define USAGE DOVEADM_CMD_MAIL_USAGE_PREFIX

const struct doveadm_cmd doveadm_cmd_deduplicate = {
	"deduplicate", USAGE "[-m] <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, dedup_main
};
const struct doveadm_cmd doveadm_cmd_purge = {
	"purge", USAGE,
	DOVEADM_CMD_FLAG_FORMATTED, purge_main
};
const struct doveadm_cmd doveadm_cmd_altmove = {
	"altmove", USAGE "[-r] <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, altmove_main
};

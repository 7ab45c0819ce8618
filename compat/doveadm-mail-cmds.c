/* doveadm-mail-cmds.c - the doveadm mail commands that work on messages
 * found by a query or on whole mailboxes: search, expunge, flags
 * add|remove|replace, copy, move, index, force-resync, save, import. */
#include "lib.h"
#include "str.h"
#include "array.h"
#include "pool.h"
#include "doveadm.h"
#include "doveadm-mail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

struct cmds_ctx {
	/* flags */
	enum modify_type modify;
	enum mail_flags flags;
	const char *const *keywords;
	pool_t pool;
	/* expunge -m */
	bool delete_empty;
	/* copy/move */
	bool move;
	const char *dest;
	const char *source_user;
	/* save */
	const char *save_mailbox;
	const char *save_path;
	/* import */
	const char *import_location, *import_parent, *import_user;
	bool import_subscribe;
};

static struct cmds_ctx *ctx_get(struct doveadm_mail_cmd_context *mctx)
{
	if (mctx->cmd_ctx == NULL) {
		struct cmds_ctx *ctx = i_new(struct cmds_ctx, 1);

		ctx->pool = pool_create("doveadm cmd", 1024);
		mctx->cmd_ctx = ctx;
	}
	return mctx->cmd_ctx;
}

static void cmds_deinit(struct doveadm_mail_cmd_context *mctx)
{
	struct cmds_ctx *ctx = mctx->cmd_ctx;

	if (ctx == NULL)
		return;
	pool_destroy(&ctx->pool);
	i_free(mctx->cmd_ctx);
}

/* Run fn on every matching message of every matching mailbox. */
typedef int mail_fn_t(struct doveadm_mail_cmd_context *mctx,
		      struct doveadm_mail_iter *iter, struct mail *mail);

static int foreach_mail(struct doveadm_mail_cmd_context *mctx,
			struct mail_user *user, bool readonly,
			const char *skip_vname, mail_fn_t *fn,
			int (*box_done)(struct doveadm_mail_cmd_context *,
					struct mail_user *, const char *))
{
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *info;
	ARRAY_STR names = ARRAY_INIT;
	int ret = 0;

	/* list first: the work may create or delete mailboxes */
	iter = doveadm_mailbox_iter_init(mctx, user, mctx->search_args, true);
	while ((info = doveadm_mailbox_iter_next(iter)) != NULL)
		array_push(&names, i_strdup(info->vname));
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	for (size_t i = 0; i < names.count; i++) {
		struct doveadm_mail_iter *miter;
		struct mail *mail;
		int bret = 0;

		if (skip_vname != NULL && strcmp(names.v[i], skip_vname) == 0)
			continue;
		if (doveadm_mail_iter_init(mctx, user, names.v[i],
					   mctx->search_args, readonly,
					   &miter) < 0) {
			ret = -1;
			continue;
		}
		while ((mail = doveadm_mail_iter_next(miter)) != NULL) {
			if (fn(mctx, miter, mail) < 0)
				bret = -1;
		}
		if (doveadm_mail_iter_deinit(&miter, true) < 0)
			bret = -1;
		if (bret == 0 && box_done != NULL &&
		    box_done(mctx, user, names.v[i]) < 0)
			bret = -1;
		if (bret < 0)
			ret = -1;
	}
	for (size_t i = 0; i < names.count; i++)
		free((char *)names.v[i]);
	array_free(&names);
	return ret;
}

/* ---- search ---- */

static void cmd_search_init(struct doveadm_mail_cmd_context *mctx,
			    const char *const *args)
{
	if (args[0] == NULL)
		doveadm_mail_help(mctx->cmd);
	doveadm_print_header("mailbox-guid", "mailbox-guid",
			     DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE);
	doveadm_print_header("uid", "uid",
			     DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE);
	mctx->search_args = doveadm_mail_build_search_args(args);
	mctx->missing_box = DOVEADM_MISSING_BOX_GUID;
}

static int cmd_search_run(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user)
{
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *info;
	int ret = 0;

	iter = doveadm_mailbox_iter_init(mctx, user, mctx->search_args, true);
	while ((info = doveadm_mailbox_iter_next(iter)) != NULL) {
		struct doveadm_mail_iter *miter;
		struct mailbox_status status;
		struct mail *mail;

		if (doveadm_mail_iter_init(mctx, user, info->vname,
					   mctx->search_args, false,
					   &miter) < 0) {
			ret = -1;
			continue;
		}
		memset(&status, 0, sizeof(status));
		while ((mail = doveadm_mail_iter_next(miter)) != NULL) {
			if (status.guid[0] == '\0')
				(void)mailbox_get_status(mail->box,
							 STATUS_GUID, &status);
			doveadm_print(status.guid);
			doveadm_print_num(mail->uid);
		}
		if (doveadm_mail_iter_deinit(&miter, false) < 0)
			ret = -1;
	}
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	return ret;
}

/* ---- expunge ---- */

static bool expunge_parse_arg(struct doveadm_mail_cmd_context *mctx, int c,
			      const char *arg ATTR_UNUSED)
{
	if (c != 'm')
		return false;
	ctx_get(mctx)->delete_empty = true;
	return true;
}

static void cmd_expunge_init(struct doveadm_mail_cmd_context *mctx,
			     const char *const *args)
{
	(void)ctx_get(mctx);
	if (args[0] == NULL)
		doveadm_mail_help(mctx->cmd);
	mctx->search_args = doveadm_mail_build_search_args(args);
	mctx->missing_box = DOVEADM_MISSING_BOX_SYNCING;
	if (!mail_search_args_have_nonmailbox(mctx->search_args)) {
		fflush(stdout);
		i_fatal_status(EXIT_USAGE, "expunge: To avoid accidents, each "
			       "branch in search query must contain something "
			       "else besides MAILBOX (e.g. just add \"all\" if "
			       "you want everything)");
	}
}

static int expunge_mail(struct doveadm_mail_cmd_context *mctx ATTR_UNUSED,
			struct doveadm_mail_iter *iter, struct mail *mail)
{
	mail_expunge(doveadm_mail_iter_get_transaction(iter), mail);
	return 0;
}

/* expunge -m: the mailbox goes too once it is empty */
static int expunge_box_done(struct doveadm_mail_cmd_context *mctx,
			    struct mail_user *user, const char *vname)
{
	struct mailbox *box;
	struct mailbox_status status;
	int ret = 0;

	if (!ctx_get(mctx)->delete_empty)
		return 0;
	box = mailbox_alloc(user, vname, 0);
	if (mailbox_get_status(box, STATUS_MESSAGES, &status) == 0 &&
	    status.messages == 0 && mailbox_delete(box) < 0) {
		i_error("Deleting mailbox %s failed: %s", vname,
			mailbox_get_last_error(box, NULL));
		doveadm_mail_failed_mailbox(mctx, box);
		ret = -1;
	}
	mailbox_free(&box);
	return ret;
}

static int cmd_expunge_run(struct doveadm_mail_cmd_context *mctx,
			   struct mail_user *user)
{
	return foreach_mail(mctx, user, false, NULL, expunge_mail,
			    expunge_box_done);
}

/* ---- flags ---- */

static void flags_init(struct doveadm_mail_cmd_context *mctx,
		       const char *const *args, enum modify_type modify)
{
	struct cmds_ctx *ctx = ctx_get(mctx);
	const char *error;

	if (args[0] == NULL || args[1] == NULL)
		doveadm_mail_help(mctx->cmd);
	ctx->modify = modify;
	if (doveadm_mail_parse_flags(ctx->pool, args[0], &ctx->flags,
				     &ctx->keywords, &error) < 0) {
		fflush(stdout);
		i_fatal_status(EXIT_TEMPFAIL, "%s", error);
	}
	mctx->search_args = doveadm_mail_build_search_args(args + 1);
	mctx->missing_box = DOVEADM_MISSING_BOX_SYNC;
}

static void cmd_flags_add_init(struct doveadm_mail_cmd_context *mctx,
			       const char *const *args)
{
	flags_init(mctx, args, MODIFY_ADD);
}

static void cmd_flags_remove_init(struct doveadm_mail_cmd_context *mctx,
				  const char *const *args)
{
	flags_init(mctx, args, MODIFY_REMOVE);
}

static void cmd_flags_replace_init(struct doveadm_mail_cmd_context *mctx,
				   const char *const *args)
{
	flags_init(mctx, args, MODIFY_REPLACE);
}

static int flags_mail(struct doveadm_mail_cmd_context *mctx,
		      struct doveadm_mail_iter *iter, struct mail *mail)
{
	struct cmds_ctx *ctx = ctx_get(mctx);
	struct mailbox_transaction *t = doveadm_mail_iter_get_transaction(iter);

	mail_update_flags(t, mail, ctx->modify, ctx->flags);
	if (ctx->keywords[0] != NULL || ctx->modify == MODIFY_REPLACE) {
		if (mail_update_keywords(t, mail, ctx->modify,
					 ctx->keywords) < 0) {
			i_error("Invalid keywords: %s",
				mailbox_get_last_error(mail->box, NULL));
			doveadm_mail_failed_mailbox(mctx, mail->box);
			return -1;
		}
	}
	return 0;
}

static int cmd_flags_run(struct doveadm_mail_cmd_context *mctx,
			 struct mail_user *user)
{
	return foreach_mail(mctx, user, false, NULL, flags_mail, NULL);
}

/* ---- copy / move ---- */

struct copy_state {
	struct mailbox *dest;
	struct mailbox_transaction *dest_t;
};

static void copy_init(struct doveadm_mail_cmd_context *mctx,
		      const char *const *args, bool move)
{
	struct cmds_ctx *ctx = ctx_get(mctx);
	const char *dest = args[0];

	if (dest == NULL || args[1] == NULL)
		doveadm_mail_help(mctx->cmd);
	ctx->move = move;
	ctx->dest = dest;
	args++;
	if (args[0] != NULL && args[1] != NULL &&
	    strcasecmp(args[0], "user") == 0) {
		if (args[2] == NULL)
			doveadm_mail_help(mctx->cmd);
		ctx->source_user = args[1];
		args += 2;
	}
	doveadm_mailbox_args_check((const char *const []){ dest, NULL });
	mctx->search_args = doveadm_mail_build_search_args(args);
	mctx->missing_box = DOVEADM_MISSING_BOX_SYNC;
}

static void cmd_copy_init(struct doveadm_mail_cmd_context *mctx,
			  const char *const *args)
{
	copy_init(mctx, args, false);
}

static void cmd_move_init(struct doveadm_mail_cmd_context *mctx,
			  const char *const *args)
{
	copy_init(mctx, args, true);
}

/* Copy the matches of one source mailbox into dest. */
static int copy_box(struct doveadm_mail_cmd_context *mctx,
		    struct mail_user *src_user, const char *vname,
		    struct mailbox *dest)
{
	struct cmds_ctx *ctx = ctx_get(mctx);
	struct doveadm_mail_iter *miter;
	struct mailbox_transaction *t;
	struct mail *mail;
	int ret = 0;

	if (doveadm_mail_iter_init(mctx, src_user, vname, mctx->search_args,
				   !ctx->move, &miter) < 0)
		return -1;
	t = mailbox_transaction_begin(dest);
	if (ctx->move && mailbox_get_user(dest) == src_user)
		mailbox_transaction_set_moving(t);
	while ((mail = doveadm_mail_iter_next(miter)) != NULL) {
		struct mail_save_context *save = mailbox_save_alloc(t);

		if (mailbox_copy(&save, mail) < 0) {
			i_error("Copying message UID %u from '%s' failed: %s",
				mail->uid, vname,
				mailbox_get_last_error(dest, NULL));
			doveadm_mail_failed_mailbox(mctx, dest);
			ret = -1;
			break;
		}
		if (ctx->move) {
			mail_expunge(doveadm_mail_iter_get_transaction(miter),
				     mail);
		}
	}
	if (mailbox_transaction_commit(&t, NULL) < 0) {
		i_error("Committing %s mails failed: %s",
			ctx->move ? "moved" : "copied",
			mailbox_get_last_error(dest, NULL));
		doveadm_mail_failed_mailbox(mctx, dest);
		ret = -1;
	}
	/* expunge the sources only when the copies are in place */
	if (doveadm_mail_iter_deinit(&miter, ret == 0 && ctx->move) < 0)
		ret = -1;
	return ret;
}

static int cmd_copy_run(struct doveadm_mail_cmd_context *mctx,
			struct mail_user *user)
{
	struct cmds_ctx *ctx = ctx_get(mctx);
	struct mail_user *src_user = user;
	struct mail_service_user *src_suser = NULL;
	struct mail_user *src_owned = NULL;
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *info;
	struct mailbox *dest;
	ARRAY_STR names = ARRAY_INIT;
	const char *error;
	int ret = 0;

	dest = mailbox_alloc(user, ctx->dest, 0);
	if (mailbox_open(dest) < 0) {
		i_error("Can't open mailbox '%s': %s", ctx->dest,
			mailbox_get_last_error(dest, NULL));
		doveadm_mail_failed_mailbox(mctx, dest);
		mailbox_free(&dest);
		return -1;
	}
	if (ctx->source_user != NULL) {
		/* the other user's mail, read with our privileges */
		switch (mail_service_lookup(mctx->service, ctx->source_user,
					    true, &src_suser, &error)) {
		case -1:
			i_error("%s", error);
			doveadm_mail_failed_error(mctx, MAIL_ERROR_TEMP);
			mailbox_free(&dest);
			return -1;
		case 0:
			i_error("Couldn't lookup user %s: User doesn't exist",
				ctx->source_user);
			mctx->exit_code = EXIT_NOUSER;
			mailbox_free(&dest);
			return -1;
		}
		if (mail_user_init(src_suser->set, &src_suser->info,
				   &src_owned, &error) < 0) {
			i_error("Couldn't initialize user %s: %s",
				ctx->source_user, error);
			free((char *)error);
			doveadm_mail_failed_error(mctx, MAIL_ERROR_TEMP);
			pool_destroy(&src_suser->pool);
			mailbox_free(&dest);
			return -1;
		}
		src_user = src_owned;
	}
	iter = doveadm_mailbox_iter_init(mctx, src_user, mctx->search_args,
					 true);
	while ((info = doveadm_mailbox_iter_next(iter)) != NULL)
		array_push(&names, i_strdup(info->vname));
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	for (size_t i = 0; i < names.count; i++) {
		/* not into itself */
		if (src_user == user &&
		    strcmp(mailbox_vname_normalize(user, names.v[i]),
			   mailbox_get_vname(dest)) == 0)
			continue;
		if (copy_box(mctx, src_user, names.v[i], dest) < 0)
			ret = -1;
	}
	for (size_t i = 0; i < names.count; i++)
		free((char *)names.v[i]);
	array_free(&names);
	mailbox_free(&dest);
	if (src_owned != NULL) {
		mail_user_deinit(&src_owned);
		/* the source user's pool only; privileges stay ours */
		pool_destroy(&src_suser->pool);
	}
	return ret;
}

/* ---- index / force-resync ---- */

static void mask_init(struct doveadm_mail_cmd_context *mctx,
		      const char *const *args)
{
	if (args[0] == NULL)
		doveadm_mail_help(mctx->cmd);
	doveadm_mailbox_args_check(args);
	mctx->search_args = mail_search_args_from_mailboxes(args);
}

static bool index_parse_arg(struct doveadm_mail_cmd_context *mctx ATTR_UNUSED,
			    int c, const char *arg ATTR_UNUSED)
{
	/* -q (queue to the indexer) and -n (max recent) change nothing
	   when the work is done here and now */
	return c == 'q' || c == 'n' || c == 'f';
}

static int sync_boxes(struct doveadm_mail_cmd_context *mctx,
		      struct mail_user *user, bool force)
{
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *info;
	int ret = 0;

	iter = doveadm_mailbox_iter_init(mctx, user, mctx->search_args, true);
	while ((info = doveadm_mailbox_iter_next(iter)) != NULL) {
		struct mailbox *box = mailbox_alloc(user, info->vname, 0);
		enum mail_error error;

		if (mailbox_open(box) < 0) {
			(void)mailbox_get_last_error(box, &error);
			if (error == MAIL_ERROR_NOTFOUND) {
				/* Dovecot says nothing either */
				mailbox_free(&box);
				continue;
			}
			i_error("Opening mailbox %s failed: %s", info->vname,
				mailbox_get_last_error(box, NULL));
			doveadm_mail_failed_mailbox(mctx, box);
			ret = -1;
		} else if (mailbox_sync(box, force ?
					MAILBOX_SYNC_FLAG_FORCE_RESYNC : 0,
					NULL, NULL) < 0) {
			i_error(force ? "Forcing a resync on mailbox %s "
				"failed: %s" : "Syncing mailbox %s failed: %s",
				info->vname, mailbox_get_last_error(box, NULL));
			doveadm_mail_failed_mailbox(mctx, box);
			ret = -1;
		}
		mailbox_free(&box);
	}
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	return ret;
}

static int cmd_index_run(struct doveadm_mail_cmd_context *mctx,
			 struct mail_user *user)
{
	return sync_boxes(mctx, user, false);
}

static int cmd_force_resync_run(struct doveadm_mail_cmd_context *mctx,
				struct mail_user *user)
{
	return sync_boxes(mctx, user, true);
}

/* ---- save ---- */

static bool save_parse_arg(struct doveadm_mail_cmd_context *mctx, int c,
			   const char *arg)
{
	if (c != 'm')
		return false;
	ctx_get(mctx)->save_mailbox = arg;
	return true;
}

static void cmd_save_init(struct doveadm_mail_cmd_context *mctx,
			  const char *const *args)
{
	struct cmds_ctx *ctx = ctx_get(mctx);

	if (ctx->save_mailbox == NULL)
		ctx->save_mailbox = "INBOX";
	if (args[0] != NULL)
		ctx->save_path = args[0];
	doveadm_mailbox_args_check((const char *const []){
		ctx->save_mailbox, NULL });
}

static int cmd_save_run(struct doveadm_mail_cmd_context *mctx,
			struct mail_user *user)
{
	struct cmds_ctx *ctx = ctx_get(mctx);
	struct mailbox *box = mailbox_alloc(user, ctx->save_mailbox, 0);
	struct mailbox_transaction *t;
	struct mail_save_context *save;
	const char *name = ctx->save_path == NULL ? "stdin" : ctx->save_path;
	char buf[65536];
	int fd = STDIN_FILENO, ret = 0;
	ssize_t n;

	if (mailbox_open(box) < 0) {
		i_error("Failed to open mailbox %s: %s", ctx->save_mailbox,
			mailbox_get_last_error(box, NULL));
		doveadm_mail_failed_mailbox(mctx, box);
		mailbox_free(&box);
		return -1;
	}
	if (ctx->save_path != NULL &&
	    (fd = open(ctx->save_path, O_RDONLY)) < 0) {
		i_error("Mailbox %s: Saving mail: read(%s) failed: "
			"open(%s) failed: %m", ctx->save_mailbox, name, name);
		doveadm_mail_failed_error(mctx, MAIL_ERROR_TEMP);
		mailbox_free(&box);
		return -1;
	}
	t = mailbox_transaction_begin(box);
	save = mailbox_save_alloc(t);
	if (mailbox_save_begin(save) < 0) {
		ret = -1;
	} else {
		while ((n = read(fd, buf, sizeof(buf))) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				i_error("read(%s) failed: %m", name);
				ret = -1;
				break;
			}
			if (mailbox_save_continue(save, buf, (size_t)n) < 0) {
				ret = -1;
				break;
			}
		}
	}
	if (ret == 0 && mailbox_save_finish(&save) < 0)
		ret = -1;
	if (save != NULL)
		mailbox_save_cancel(&save);
	if (ret == 0) {
		if (mailbox_transaction_commit(&t, NULL) < 0)
			ret = -1;
	} else {
		mailbox_transaction_rollback(&t);
	}
	if (ret < 0) {
		i_error("Saving failed: %s", mailbox_get_last_error(box, NULL));
		doveadm_mail_failed_mailbox(mctx, box);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	mailbox_free(&box);
	return ret;
}

/* ---- import ---- */

static bool import_parse_arg(struct doveadm_mail_cmd_context *mctx, int c,
			     const char *arg)
{
	struct cmds_ctx *ctx = ctx_get(mctx);

	switch (c) {
	case 's':
		ctx->import_subscribe = true;
		return true;
	case 'U':
		ctx->import_user = arg;
		return true;
	}
	return false;
}

static void cmd_import_init(struct doveadm_mail_cmd_context *mctx,
			    const char *const *args)
{
	struct cmds_ctx *ctx = ctx_get(mctx);

	if (args[0] == NULL || args[1] == NULL || args[2] == NULL)
		doveadm_mail_help(mctx->cmd);
	ctx->import_location = args[0];
	ctx->import_parent = args[1];
	doveadm_mailbox_args_check(args + 1);
	mctx->search_args = doveadm_mail_build_search_args(args + 2);
}

/* The destination of source mailbox vname under the parent. */
static const char *import_dest_name(struct mail_user *user,
				    const char *parent, const char *vname)
{
	struct mail_namespace *ns = mail_namespace_find_inbox(user);
	char sep = ns == NULL || ns->sep == '\0' ? '.' : ns->sep;

	if (parent[0] == '\0')
		return vname;
	return doveadm_tmp_printf("%s%c%s", parent, sep, vname);
}

static int import_box(struct doveadm_mail_cmd_context *mctx,
		      struct mail_user *user, struct mail_user *src_user,
		      const char *vname)
{
	struct cmds_ctx *ctx = ctx_get(mctx);
	char *dest_name = i_strdup(import_dest_name(user, ctx->import_parent,
						    vname));
	struct mailbox *dest = mailbox_alloc(user, dest_name, 0);
	struct doveadm_mail_iter *miter;
	struct mailbox_transaction *t;
	struct mail *mail;
	enum mail_error error;
	bool exists;
	int ret = 0;

	if (mailbox_exists(dest, &exists) == 0 && !exists) {
		if (mailbox_create(dest, NULL, false) < 0) {
			(void)mailbox_get_last_error(dest, &error);
			if (error != MAIL_ERROR_EXISTS) {
				i_error("Couldn't create mailbox %s: %s",
					dest_name,
					mailbox_get_last_error(dest, NULL));
				doveadm_mail_failed_mailbox(mctx, dest);
				ret = -1;
			}
		}
		if (ret == 0 && ctx->import_subscribe &&
		    mailbox_list_subscribe(user, dest_name, true) < 0) {
			i_error("Couldn't subscribe to mailbox %s: %s",
				dest_name, user->error_text);
		}
	}
	if (ret == 0 && mailbox_open(dest) < 0) {
		i_error("Opening mailbox %s failed: %s", dest_name,
			mailbox_get_last_error(dest, NULL));
		doveadm_mail_failed_mailbox(mctx, dest);
		ret = -1;
	}
	if (ret == 0 && doveadm_mail_iter_init(mctx, src_user, vname,
					       mctx->search_args, true,
					       &miter) < 0)
		ret = -1;
	if (ret < 0) {
		mailbox_free(&dest);
		free(dest_name);
		return -1;
	}
	t = mailbox_transaction_begin(dest);
	if (ctx->move && mailbox_get_user(dest) == src_user)
		mailbox_transaction_set_moving(t);
	while ((mail = doveadm_mail_iter_next(miter)) != NULL) {
		struct mail_save_context *save = mailbox_save_alloc(t);

		if (mailbox_copy(&save, mail) < 0) {
			i_error("Copying box=%s uid=%u failed: %s", vname,
				mail->uid, mailbox_get_last_error(dest, NULL));
			doveadm_mail_failed_mailbox(mctx, dest);
			ret = -1;
		}
	}
	if (mailbox_transaction_commit(&t, NULL) < 0) {
		i_error("Committing copied mails to %s failed: %s", dest_name,
			mailbox_get_last_error(dest, NULL));
		doveadm_mail_failed_mailbox(mctx, dest);
		ret = -1;
	}
	(void)doveadm_mail_iter_deinit(&miter, false);
	mailbox_free(&dest);
	free(dest_name);
	return ret;
}

static int cmd_import_run(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user)
{
	struct cmds_ctx *ctx = ctx_get(mctx);
	struct mail_service_user *src_suser;
	struct mail_user *src_user;
	struct mail_user_info info;
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *binfo;
	ARRAY_STR names = ARRAY_INIT;
	const char **fields;
	const char *error;
	size_t n = 0;
	int ret = 0;

	/* the source: this user (or -U's) with the given mail location */
	switch (mail_service_lookup(mctx->service, ctx->import_user != NULL ?
				    ctx->import_user : mctx->cur_username,
				    ctx->import_user != NULL, &src_suser,
				    &error)) {
	case -1:
		i_error("%s", error);
		doveadm_mail_failed_error(mctx, MAIL_ERROR_TEMP);
		return -1;
	case 0:
		i_error("Couldn't lookup user %s: User doesn't exist",
			ctx->import_user);
		mctx->exit_code = EXIT_NOUSER;
		return -1;
	}
	info = ctx->import_user != NULL ? src_suser->info :
		mctx->cur_service_user->info;
	for (const char *const *f = info.fields; f != NULL && *f != NULL; f++)
		n++;
	fields = p_new(src_suser->pool, const char *, n + 2);
	n = 0;
	for (const char *const *f = info.fields; f != NULL && *f != NULL; f++) {
		if (strncmp(*f, "mail=", 5) != 0)
			fields[n++] = *f;
	}
	fields[n] = p_strdup_printf(src_suser->pool, "mail=%s",
				    ctx->import_location);
	info.fields = fields;
	if (mail_user_init(mctx->cur_service_user->set, &info, &src_user,
			   &error) < 0) {
		i_error("Couldn't create mail user with location %s: %s",
			ctx->import_location, error);
		free((char *)error);
		doveadm_mail_failed_error(mctx, MAIL_ERROR_TEMP);
		pool_destroy(&src_suser->pool);
		return -1;
	}
	iter = doveadm_mailbox_iter_init(mctx, src_user, mctx->search_args,
					 true);
	while ((binfo = doveadm_mailbox_iter_next(iter)) != NULL)
		array_push(&names, i_strdup(binfo->vname));
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	for (size_t i = 0; i < names.count; i++) {
		if (import_box(mctx, user, src_user, names.v[i]) < 0)
			ret = -1;
		free((char *)names.v[i]);
	}
	array_free(&names);
	mail_user_deinit(&src_user);
	pool_destroy(&src_suser->pool);
	return ret;
}

/* ---- the table rows ---- */

static const struct doveadm_mail_cmd search_cmd = {
	"search", "<search query>", NULL, "flow",
	NULL, cmd_search_init, cmd_search_run, cmds_deinit
};
static const struct doveadm_mail_cmd expunge_cmd = {
	"expunge", "[-m] <search query>", "m", NULL,
	expunge_parse_arg, cmd_expunge_init, cmd_expunge_run, cmds_deinit
};
static const struct doveadm_mail_cmd flags_add_cmd = {
	"flags add", "<flags> <search query>", NULL, NULL,
	NULL, cmd_flags_add_init, cmd_flags_run, cmds_deinit
};
static const struct doveadm_mail_cmd flags_remove_cmd = {
	"flags remove", "<flags> <search query>", NULL, NULL,
	NULL, cmd_flags_remove_init, cmd_flags_run, cmds_deinit
};
static const struct doveadm_mail_cmd flags_replace_cmd = {
	"flags replace", "<flags> <search query>", NULL, NULL,
	NULL, cmd_flags_replace_init, cmd_flags_run, cmds_deinit
};
static const struct doveadm_mail_cmd copy_cmd = {
	"copy", "<destination> [user <source user>] <search query>", NULL,
	NULL, NULL, cmd_copy_init, cmd_copy_run, cmds_deinit
};
static const struct doveadm_mail_cmd move_cmd = {
	"move", "<destination> [user <source user>] <search query>", NULL,
	NULL, NULL, cmd_move_init, cmd_copy_run, cmds_deinit
};
static const struct doveadm_mail_cmd index_cmd = {
	"index", "[-q] [-n <max recent>] <mailbox mask>", "qn:", NULL,
	index_parse_arg, mask_init, cmd_index_run, cmds_deinit
};
static const struct doveadm_mail_cmd force_resync_cmd = {
	"force-resync", "[-f] <mailbox mask>", "f", NULL,
	index_parse_arg, mask_init, cmd_force_resync_run, cmds_deinit
};
static const struct doveadm_mail_cmd save_cmd = {
	"save", "[-m mailbox]", "m:", NULL,
	save_parse_arg, cmd_save_init, cmd_save_run, cmds_deinit
};
static const struct doveadm_mail_cmd import_cmd = {
	"import", "[-U source-user] [-s] <source mail location> "
	"<dest parent mailbox> <search query>", "sU:", NULL,
	import_parse_arg, cmd_import_init, cmd_import_run, cmds_deinit
};

#define MAIL_CMD_ROW(var, mcmd) \
static int var##_main(struct doveadm_context *dctx, int argc, char *argv[]) \
{ \
	return doveadm_mail_cmd_main(&mcmd, dctx, argc, argv); \
}

MAIL_CMD_ROW(search, search_cmd)
MAIL_CMD_ROW(expunge, expunge_cmd)
MAIL_CMD_ROW(flags_add, flags_add_cmd)
MAIL_CMD_ROW(flags_remove, flags_remove_cmd)
MAIL_CMD_ROW(flags_replace, flags_replace_cmd)
MAIL_CMD_ROW(copy, copy_cmd)
MAIL_CMD_ROW(move, move_cmd)
MAIL_CMD_ROW(index, index_cmd)
MAIL_CMD_ROW(force_resync, force_resync_cmd)
MAIL_CMD_ROW(save, save_cmd)
MAIL_CMD_ROW(import, import_cmd)

#define USAGE DOVEADM_CMD_MAIL_USAGE_PREFIX

const struct doveadm_cmd doveadm_cmd_search = {
	"search", USAGE "<search query>",
	DOVEADM_CMD_FLAG_FORMATTED, search_main
};
const struct doveadm_cmd doveadm_cmd_expunge = {
	"expunge", USAGE "[-m] <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, expunge_main
};
const struct doveadm_cmd doveadm_cmd_flags_add = {
	"flags add", USAGE "<flags> <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, flags_add_main
};
const struct doveadm_cmd doveadm_cmd_flags_remove = {
	"flags remove", USAGE "<flags> <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, flags_remove_main
};
const struct doveadm_cmd doveadm_cmd_flags_replace = {
	"flags replace", USAGE "<flags> <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, flags_replace_main
};
const struct doveadm_cmd doveadm_cmd_copy = {
	"copy", USAGE "<destination> [user <source user>] <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, copy_main
};
const struct doveadm_cmd doveadm_cmd_move = {
	"move", USAGE "<destination> [user <source user>] <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, move_main
};
const struct doveadm_cmd doveadm_cmd_index = {
	"index", USAGE "[-q] [-n <max recent>] <mailbox mask>",
	DOVEADM_CMD_FLAG_FORMATTED, index_main
};
const struct doveadm_cmd doveadm_cmd_force_resync = {
	"force-resync", USAGE "[-f] <mailbox mask>",
	DOVEADM_CMD_FLAG_FORMATTED, force_resync_main
};
const struct doveadm_cmd doveadm_cmd_save = {
	"save", USAGE "[-m mailbox]",
	DOVEADM_CMD_FLAG_FORMATTED, save_main
};
const struct doveadm_cmd doveadm_cmd_import = {
	"import", USAGE "[-U source-user] [-s] <source mail location> "
	"<dest parent mailbox> <search query>",
	DOVEADM_CMD_FLAG_FORMATTED, import_main
};

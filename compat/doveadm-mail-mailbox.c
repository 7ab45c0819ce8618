/* doveadm-mail-mailbox.c - `doveadm mailbox list|create|delete|rename|
 * status|subscribe|unsubscribe`, with Dovecot 2.3's options, messages
 * ("Can't create mailbox X: ...") and exit codes. */
#include "lib.h"
#include "str.h"
#include "array.h"
#include "mutf7.h"
#include "doveadm.h"
#include "doveadm-mail.h"

#include <stdio.h>

struct mailbox_cmd_ctx {
	bool subscriptions;	/* -s */
	bool mutf7;		/* list -7 */
	bool recursive;		/* delete -r */
	bool require_empty;	/* delete -e */
	bool total_sum;		/* status -t */
	enum mailbox_status_items status_items;
	bool want_vsize, want_guid, want_firstsaved;
	struct mailbox_status total;
	uint64_t total_vsize;
	const char *const *names;
};

static struct mailbox_cmd_ctx *ctx_get(struct doveadm_mail_cmd_context *mctx)
{
	if (mctx->cmd_ctx == NULL)
		mctx->cmd_ctx = i_new(struct mailbox_cmd_ctx, 1);
	return mctx->cmd_ctx;
}

static void mailbox_cmd_deinit(struct doveadm_mail_cmd_context *mctx)
{
	i_free(mctx->cmd_ctx);
}

static bool mailbox_parse_arg(struct doveadm_mail_cmd_context *mctx, int c,
			      const char *arg ATTR_UNUSED)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);

	switch (c) {
	case 's':
		ctx->subscriptions = true;
		return true;
	case '7':
		ctx->mutf7 = true;
		return true;
	case '8':
		ctx->mutf7 = false;
		return true;
	case 'r':
		ctx->recursive = true;
		return true;
	case 'e':
		ctx->require_empty = true;
		return true;
	case 'Z':
		return true;	/* unsafe delete: deleting is all we do */
	case 't':
		ctx->total_sum = true;
		return true;
	case 'f':
		return true;
	case 'g':
		/* the mailbox GUID can't be chosen in this storage yet */
		return true;
	}
	return false;
}

static void names_init(struct doveadm_mail_cmd_context *mctx,
		       const char *const *args)
{
	if (args[0] == NULL)
		doveadm_mail_help(mctx->cmd);
	doveadm_mailbox_args_check(args);
	ctx_get(mctx)->names = args;
}

/* ---- list ---- */

static void cmd_list_init(struct doveadm_mail_cmd_context *mctx,
			  const char *const *args)
{
	(void)ctx_get(mctx);
	doveadm_print_header("mailbox", "mailbox",
			     DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE);
	doveadm_mailbox_args_check(args);
	mctx->search_args = mail_search_args_from_mailboxes(args);
}

static int cmd_list_run(struct doveadm_mail_cmd_context *mctx,
			struct mail_user *user)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *info;
	string_t *str = str_new(128);
	int ret = 0;

	if (ctx->subscriptions) {
		/* subscribed mailboxes, existing or not */
		ARRAY_STR patterns = ARRAY_INIT;
		struct mailbox_list_iter *liter;
		bool have_guid, have_wildcards;

		(void)mail_search_args_get_mailbox_patterns(mctx->search_args,
			&patterns, &have_guid, &have_wildcards);
		if (patterns.count == 0)
			array_push(&patterns, "*");
		array_push(&patterns, NULL);
		liter = mailbox_list_iter_init(user, patterns.v,
					       MAILBOX_LIST_ITER_SUBSCRIBED);
		array_free(&patterns);
		while ((info = mailbox_list_iter_next(liter)) != NULL) {
			if (!mail_search_args_match_mailbox(mctx->search_args,
							    info->vname,
							    info->ns->sep))
				continue;
			str_clear(str);
			if (!ctx->mutf7 || mutf7_encode(str, info->vname) < 0)
				str_append(str, info->vname);
			doveadm_print(str_c(str));
		}
		if (mailbox_list_iter_deinit(&liter) < 0)
			ret = -1;
		str_free(&str);
		return ret;
	}
	iter = doveadm_mailbox_iter_init(mctx, user, mctx->search_args, false);
	while ((info = doveadm_mailbox_iter_next(iter)) != NULL) {
		str_clear(str);
		if (!ctx->mutf7 || mutf7_encode(str, info->vname) < 0)
			str_append(str, info->vname);
		doveadm_print(str_c(str));
	}
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	str_free(&str);
	return ret;
}

/* ---- create ---- */

static int cmd_create_run(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);
	int ret = 0;

	for (const char *const *np = ctx->names; *np != NULL; np++) {
		struct mail_namespace *ns = mail_namespace_find(user, *np);
		size_t len = strlen(*np);
		bool directory = false;
		char *name = i_strdup(*np);
		struct mailbox *box;

		if (ns != NULL && len > 0 && name[len - 1] == ns->sep) {
			name[len - 1] = '\0';
			directory = true;
		}
		box = mailbox_alloc(user, name, 0);
		if (name[0] == '\0') {
			/* the storage doesn't catch this one itself */
			i_error("Can't create mailbox : Invalid mailbox name: "
				"Name is empty");
			doveadm_mail_failed_error(mctx, MAIL_ERROR_PARAMS);
			ret = -1;
		} else if (mailbox_create(box, NULL, directory) < 0) {
			i_error("Can't create mailbox %s: %s", name,
				mailbox_get_last_error(box, NULL));
			doveadm_mail_failed_mailbox(mctx, box);
			ret = -1;
		}
		if (ctx->subscriptions &&
		    mailbox_list_subscribe(user, name, true) < 0) {
			i_error("Can't subscribe to mailbox %s: %s", name,
				user->error_text != NULL ? user->error_text :
				"Internal error");
			doveadm_mail_failed_error(mctx, user->error);
			ret = -1;
		}
		mailbox_free(&box);
		free(name);
	}
	return ret;
}

/* ---- delete ---- */

static int strcmp_reverse(const void *p1, const void *p2)
{
	const char *const *s1 = p1, *const *s2 = p2;

	return -strcmp(*s1, *s2);
}

static void add_children(struct mail_user *user, ARRAY_STR *names,
			 const char *name)
{
	struct mail_namespace *ns = mail_namespace_find(user, name);
	const char *patterns[2];
	struct mailbox_list_iter *iter;
	const struct mailbox_info *info;
	char *pattern;

	if (ns == NULL)
		return;
	pattern = name[0] == '\0' ? i_strdup("*") :
		i_strdup_printf("%s%c*", name, ns->sep);
	patterns[0] = pattern;
	patterns[1] = NULL;
	iter = mailbox_list_iter_init(user, patterns, 0);
	while ((info = mailbox_list_iter_next(iter)) != NULL)
		array_push(names, i_strdup(info->vname));
	(void)mailbox_list_iter_deinit(&iter);
	free(pattern);
}

static int cmd_delete_run(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);
	ARRAY_STR names = ARRAY_INIT;
	int ret = 0;

	for (const char *const *np = ctx->names; *np != NULL; np++) {
		if (ctx->recursive)
			add_children(user, &names, *np);
		if (!ctx->recursive || (*np)[0] != '\0')
			array_push(&names, i_strdup(*np));
	}
	/* children before their parents */
	qsort(names.v, names.count, sizeof(*names.v), strcmp_reverse);
	for (size_t i = 0; i < names.count; i++) {
		const char *name = names.v[i];
		struct mailbox *box = mailbox_alloc(user, name, 0);
		struct mailbox_status status;

		if (ctx->require_empty &&
		    mailbox_get_status(box, STATUS_MESSAGES, &status) == 0 &&
		    status.messages > 0) {
			i_error("Can't delete mailbox %s: Mailbox isn't empty",
				name);
			doveadm_mail_failed_error(mctx, MAIL_ERROR_EXISTS);
			ret = -1;
		} else if (mailbox_delete(box) < 0) {
			i_error("Can't delete mailbox %s: %s", name,
				mailbox_get_last_error(box, NULL));
			doveadm_mail_failed_mailbox(mctx, box);
			ret = -1;
		}
		if (ctx->subscriptions &&
		    mailbox_list_subscribe(user, name, false) < 0) {
			i_error("Can't unsubscribe mailbox %s: %s", name,
				user->error_text != NULL ? user->error_text :
				"Internal error");
			doveadm_mail_failed_error(mctx, user->error);
			ret = -1;
		}
		mailbox_free(&box);
	}
	for (size_t i = 0; i < names.count; i++)
		free((char *)names.v[i]);
	array_free(&names);
	return ret;
}

/* ---- rename ---- */

static void cmd_rename_init(struct doveadm_mail_cmd_context *mctx,
			    const char *const *args)
{
	if (args[0] == NULL || args[1] == NULL || args[2] != NULL)
		doveadm_mail_help(mctx->cmd);
	names_init(mctx, args);
}

static int cmd_rename_run(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);
	const char *oldname = ctx->names[0], *newname = ctx->names[1];
	struct mailbox *oldbox = mailbox_alloc(user, oldname, 0);
	struct mailbox *newbox = mailbox_alloc(user, newname, 0);
	int ret = 0;

	if (mailbox_rename(oldbox, newbox) < 0) {
		i_error("Can't rename mailbox %s to %s: %s", oldname, newname,
			mailbox_get_last_error(oldbox, NULL));
		doveadm_mail_failed_mailbox(mctx, oldbox);
		ret = -1;
	}
	if (ctx->subscriptions) {
		if (mailbox_list_subscribe(user, oldname, false) < 0) {
			i_error("Can't unsubscribe mailbox %s: %s", oldname,
				user->error_text);
			doveadm_mail_failed_error(mctx, user->error);
			ret = -1;
		}
		if (mailbox_list_subscribe(user, newname, true) < 0) {
			i_error("Can't subscribe to mailbox %s: %s", newname,
				user->error_text);
			doveadm_mail_failed_error(mctx, user->error);
			ret = -1;
		}
	}
	mailbox_free(&oldbox);
	mailbox_free(&newbox);
	return ret;
}

/* ---- subscribe / unsubscribe ---- */

static int subscribe_run(struct doveadm_mail_cmd_context *mctx,
			 struct mail_user *user, bool set)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);
	int ret = 0;

	for (const char *const *np = ctx->names; *np != NULL; np++) {
		if (mailbox_list_subscribe(user, *np, set) < 0) {
			i_error("Can't %s mailbox %s: %s",
				set ? "subscribe to" : "unsubscribe", *np,
				user->error_text != NULL ? user->error_text :
				"Internal error");
			doveadm_mail_failed_error(mctx, user->error);
			ret = -1;
		}
	}
	return ret;
}

static int cmd_subscribe_run(struct doveadm_mail_cmd_context *mctx,
			     struct mail_user *user)
{
	return subscribe_run(mctx, user, true);
}

static int cmd_unsubscribe_run(struct doveadm_mail_cmd_context *mctx,
			       struct mail_user *user)
{
	return subscribe_run(mctx, user, false);
}

/* ---- status ---- */

#define TOTAL_ITEMS (STATUS_MESSAGES | STATUS_RECENT | STATUS_UNSEEN)

static void status_parse_fields(struct mailbox_cmd_ctx *ctx, const char *str)
{
	static const struct {
		const char *name;
		enum mailbox_status_items item;
	} fields[] = {
		{ "messages", STATUS_MESSAGES },
		{ "recent", STATUS_RECENT },
		{ "uidnext", STATUS_UIDNEXT },
		{ "uidvalidity", STATUS_UIDVALIDITY },
		{ "unseen", STATUS_UNSEEN },
		{ "highestmodseq", STATUS_HIGHESTMODSEQ },
	};
	bool any = false;

	while (*str != '\0') {
		size_t len = strcspn(str, " ");
		char *field = i_strndup(str, len);
		bool not_total = false;

		str += len;
		str += strspn(str, " ");
		if (len == 0) {
			free(field);
			continue;
		}
		any = true;
		if (strcmp(field, "all") == 0) {
			if (ctx->total_sum) {
				ctx->status_items |= TOTAL_ITEMS;
				ctx->want_vsize = true;
			} else {
				ctx->status_items |= STATUS_MESSAGES |
					STATUS_RECENT | STATUS_UIDNEXT |
					STATUS_UIDVALIDITY | STATUS_UNSEEN |
					STATUS_HIGHESTMODSEQ;
				ctx->want_vsize = ctx->want_guid = true;
				ctx->want_firstsaved = true;
			}
		} else if (strcmp(field, "vsize") == 0) {
			ctx->want_vsize = true;
		} else if (strcmp(field, "guid") == 0) {
			ctx->want_guid = not_total = true;
		} else if (strcmp(field, "firstsaved") == 0) {
			ctx->want_firstsaved = not_total = true;
		} else {
			size_t i;

			for (i = 0; i < N_ELEMENTS(fields); i++) {
				if (strcmp(fields[i].name, field) == 0)
					break;
			}
			if (i == N_ELEMENTS(fields)) {
				fflush(stdout);
				i_fatal_status(EXIT_USAGE,
					       "Unknown status field: %s", field);
			}
			ctx->status_items |= fields[i].item;
			not_total = (fields[i].item & TOTAL_ITEMS) == 0;
		}
		if (ctx->total_sum && not_total) {
			fflush(stdout);
			i_fatal_status(EXIT_USAGE, "Status field %s can't be "
				       "used with -t", field);
		}
		free(field);
	}
	if (!any)
		i_fatal_status(EXIT_USAGE, "No status fields");
}

static void cmd_status_init(struct doveadm_mail_cmd_context *mctx,
			    const char *const *args)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);

	if (args[0] == NULL || args[1] == NULL)
		doveadm_mail_help(mctx->cmd);
	status_parse_fields(ctx, args[0]);
	doveadm_mailbox_args_check(args + 1);
	mctx->search_args = mail_search_args_from_mailboxes(args + 1);
	if (!ctx->total_sum) {
		doveadm_print_header("mailbox", "mailbox",
				     DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE);
	}
	if ((ctx->status_items & STATUS_MESSAGES) != 0)
		doveadm_print_header_simple("messages");
	if ((ctx->status_items & STATUS_RECENT) != 0)
		doveadm_print_header_simple("recent");
	if ((ctx->status_items & STATUS_UIDNEXT) != 0)
		doveadm_print_header_simple("uidnext");
	if ((ctx->status_items & STATUS_UIDVALIDITY) != 0)
		doveadm_print_header_simple("uidvalidity");
	if ((ctx->status_items & STATUS_UNSEEN) != 0)
		doveadm_print_header_simple("unseen");
	if ((ctx->status_items & STATUS_HIGHESTMODSEQ) != 0)
		doveadm_print_header_simple("highestmodseq");
	if (ctx->want_vsize)
		doveadm_print_header_simple("vsize");
	if (ctx->want_guid)
		doveadm_print_header_simple("guid");
	if (ctx->want_firstsaved)
		doveadm_print_header_simple("firstsaved");
}

static void status_output(struct mailbox_cmd_ctx *ctx, const char *vname,
			  const struct mailbox_status *st, uint64_t vsize,
			  time_t firstsaved)
{
	if (vname != NULL)
		doveadm_print(vname);
	if ((ctx->status_items & STATUS_MESSAGES) != 0)
		doveadm_print_num(st->messages);
	if ((ctx->status_items & STATUS_RECENT) != 0)
		doveadm_print_num(st->recent);
	if ((ctx->status_items & STATUS_UIDNEXT) != 0)
		doveadm_print_num(st->uidnext);
	if ((ctx->status_items & STATUS_UIDVALIDITY) != 0)
		doveadm_print_num(st->uidvalidity);
	if ((ctx->status_items & STATUS_UNSEEN) != 0)
		doveadm_print_num(st->unseen);
	if ((ctx->status_items & STATUS_HIGHESTMODSEQ) != 0)
		doveadm_print_num(st->highest_modseq);
	if (ctx->want_vsize)
		doveadm_print_num(vsize);
	if (ctx->want_guid)
		doveadm_print(st->guid);
	if (ctx->want_firstsaved) {
		if (firstsaved == (time_t)-1)
			doveadm_print("never");
		else
			doveadm_print_num((uint64_t)firstsaved);
	}
}

/* The save date of the first message, or -1 in an empty mailbox. */
static int first_saved(struct mailbox *box, time_t *date_r)
{
	struct mail *mail;
	int ret;

	*date_r = (time_t)-1;
	if (mailbox_count(box) == 0)
		return 0;
	mail = mail_alloc(box);
	mail_set_seq(mail, 1);
	ret = mail_get_save_date(mail, date_r);
	mail_free(&mail);
	return ret;
}

static int status_mailbox(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user, const char *vname)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);
	struct mailbox *box = doveadm_mailbox_find(user, vname);
	enum mailbox_status_items items = ctx->status_items | STATUS_GUID;
	struct mailbox_status st;
	time_t firstsaved = (time_t)-1;
	int ret = 0;

	if (ctx->want_vsize)
		items |= STATUS_SIZE;
	if (mailbox_get_status(box, items, &st) < 0 ||
	    (ctx->want_firstsaved && first_saved(box, &firstsaved) < 0)) {
		i_error("Mailbox %s: Failed to lookup mailbox status: %s",
			mailbox_get_vname(box),
			mailbox_get_last_error(box, NULL));
		doveadm_mail_failed_mailbox(mctx, box);
		ret = -1;
	} else if (!ctx->total_sum) {
		status_output(ctx, mailbox_get_vname(box), &st, st.vsize,
			      firstsaved);
	} else {
		ctx->total.messages += st.messages;
		ctx->total.recent += st.recent;
		ctx->total.unseen += st.unseen;
		ctx->total_vsize += st.vsize;
	}
	mailbox_free(&box);
	return ret;
}

static int cmd_status_run(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user)
{
	struct mailbox_cmd_ctx *ctx = ctx_get(mctx);
	struct doveadm_mailbox_iter *iter;
	const struct mailbox_info *info;
	int ret = 0;

	memset(&ctx->total, 0, sizeof(ctx->total));
	ctx->total_vsize = 0;
	iter = doveadm_mailbox_iter_init(mctx, user, mctx->search_args, true);
	while ((info = doveadm_mailbox_iter_next(iter)) != NULL) {
		if (status_mailbox(mctx, user, info->vname) < 0)
			ret = -1;
	}
	if (doveadm_mailbox_iter_deinit(&iter) < 0)
		ret = -1;
	if (ctx->total_sum)
		status_output(ctx, NULL, &ctx->total, ctx->total_vsize, -1);
	return ret;
}

static const struct doveadm_mail_cmd list_cmd = {
	"mailbox list", "[-7|-8] [-s] [<mailbox mask> [...]]", "78s", "flow",
	mailbox_parse_arg, cmd_list_init, cmd_list_run, mailbox_cmd_deinit
};
static const struct doveadm_mail_cmd create_cmd = {
	"mailbox create", "[-s] [-g <guid>] <mailbox> [...]", "g:s", NULL,
	mailbox_parse_arg, names_init, cmd_create_run, mailbox_cmd_deinit
};
static const struct doveadm_mail_cmd delete_cmd = {
	"mailbox delete", "[-e] [-r] [-s] [-Z] <mailbox> [...]", "ersZ", NULL,
	mailbox_parse_arg, names_init, cmd_delete_run, mailbox_cmd_deinit
};
static const struct doveadm_mail_cmd rename_cmd = {
	"mailbox rename", "[-s] <old name> <new name>", "s", NULL,
	mailbox_parse_arg, cmd_rename_init, cmd_rename_run, mailbox_cmd_deinit
};
static const struct doveadm_mail_cmd status_cmd = {
	"mailbox status", "<fields> <mailbox> [...]", "tf:", "flow",
	mailbox_parse_arg, cmd_status_init, cmd_status_run, mailbox_cmd_deinit
};
static const struct doveadm_mail_cmd subscribe_cmd = {
	"mailbox subscribe", "<mailbox> [...]", NULL, NULL,
	NULL, names_init, cmd_subscribe_run, mailbox_cmd_deinit
};
static const struct doveadm_mail_cmd unsubscribe_cmd = {
	"mailbox unsubscribe", "<mailbox> [...]", NULL, NULL,
	NULL, names_init, cmd_unsubscribe_run, mailbox_cmd_deinit
};

static int doveadm_cmd_mailbox_list_main(struct doveadm_context *dctx,
					 int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&list_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_mailbox_list = {
	"mailbox list", DOVEADM_CMD_MAIL_USAGE_PREFIX
	"[-7|-8] [-s] [<mailbox mask> [...]]",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_mailbox_list_main
};

static int doveadm_cmd_mailbox_create_main(struct doveadm_context *dctx,
					   int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&create_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_mailbox_create = {
	"mailbox create", DOVEADM_CMD_MAIL_USAGE_PREFIX
	"[-s] [-g <guid>] <mailbox> [...]",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_mailbox_create_main
};

static int doveadm_cmd_mailbox_delete_main(struct doveadm_context *dctx,
					   int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&delete_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_mailbox_delete = {
	"mailbox delete", DOVEADM_CMD_MAIL_USAGE_PREFIX
	"[-e] [-r] [-s] [-Z] <mailbox> [...]",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_mailbox_delete_main
};

static int doveadm_cmd_mailbox_rename_main(struct doveadm_context *dctx,
					   int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&rename_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_mailbox_rename = {
	"mailbox rename", DOVEADM_CMD_MAIL_USAGE_PREFIX
	"[-s] <old name> <new name>",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_mailbox_rename_main
};

static int doveadm_cmd_mailbox_status_main(struct doveadm_context *dctx,
					   int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&status_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_mailbox_status = {
	"mailbox status", DOVEADM_CMD_MAIL_USAGE_PREFIX
	"<fields> <mailbox> [...]",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_mailbox_status_main
};

static int doveadm_cmd_mailbox_subscribe_main(struct doveadm_context *dctx,
					      int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&subscribe_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_mailbox_subscribe = {
	"mailbox subscribe", DOVEADM_CMD_MAIL_USAGE_PREFIX "<mailbox> [...]",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_mailbox_subscribe_main
};

static int doveadm_cmd_mailbox_unsubscribe_main(struct doveadm_context *dctx,
						int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&unsubscribe_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_mailbox_unsubscribe = {
	"mailbox unsubscribe", DOVEADM_CMD_MAIL_USAGE_PREFIX "<mailbox> [...]",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_mailbox_unsubscribe_main
};

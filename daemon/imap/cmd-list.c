/* cmd-list.c - LIST (RFC 3501, LIST-EXTENDED RFC 5258, LIST-STATUS RFC
 * 5819, SPECIAL-USE RFC 6154) and LSUB, with Dovecot 2.3's flags, order
 * and texts. The storage's list iterator does the matching; this file
 * parses the options, joins reference and pattern, and writes lines. */
#include "imap-common.h"
#include "imap-mailbox.h"
#include "imap-plugins.h"
#include "imap-quote.h"

#include <strings.h>

enum list_sel {
	SEL_SUBSCRIBED = 0x01,
	SEL_REMOTE = 0x02,
	SEL_RECURSIVEMATCH = 0x04,
	SEL_SPECIALUSE = 0x08,
};

enum list_ret {
	RET_SUBSCRIBED = 0x01,
	RET_CHILDREN = 0x02,
	RET_SPECIALUSE = 0x04,
	RET_STATUS = 0x08,
	RET_MYRIGHTS = 0x10,	/* LIST-MYRIGHTS (RFC 8440), with imap_acl */
};

struct list_cmd {
	enum list_sel sel;
	enum list_ret ret;
	bool extended, lsub;
	enum mailbox_status_items status_items;
	ARRAY_STR patterns;
};

static const char *parse_select(struct list_cmd *ctx,
				const struct imap_arg *list)
{
	for (; !imap_arg_is_eol(list); list++) {
		const char *atom;

		if (!imap_arg_get_atom(list, &atom))
			return "List options contains non-atoms.";
		if (strcasecmp(atom, "SUBSCRIBED") == 0)
			ctx->sel |= SEL_SUBSCRIBED;
		else if (strcasecmp(atom, "REMOTE") == 0)
			ctx->sel |= SEL_REMOTE;
		else if (strcasecmp(atom, "RECURSIVEMATCH") == 0)
			ctx->sel |= SEL_RECURSIVEMATCH;
		else if (strcasecmp(atom, "SPECIAL-USE") == 0)
			ctx->sel |= SEL_SPECIALUSE;
		else
			return "Unknown select options";
	}
	if ((ctx->sel & SEL_RECURSIVEMATCH) != 0 &&
	    (ctx->sel & ~(SEL_RECURSIVEMATCH | SEL_REMOTE)) == 0)
		return "RECURSIVEMATCH must not be the only selection";
	return NULL;
}

static const char *parse_return(struct list_cmd *ctx,
				struct imap_client *client,
				const struct imap_arg *list)
{
	for (; !imap_arg_is_eol(list); list++) {
		const char *atom;

		if (!imap_arg_get_atom(list, &atom))
			return "List options contains non-atoms.";
		if (strcasecmp(atom, "SUBSCRIBED") == 0) {
			ctx->ret |= RET_SUBSCRIBED;
		} else if (strcasecmp(atom, "CHILDREN") == 0) {
			ctx->ret |= RET_CHILDREN;
		} else if (strcasecmp(atom, "SPECIAL-USE") == 0) {
			ctx->ret |= RET_SPECIALUSE;
		} else if (strcasecmp(atom, "STATUS") == 0 &&
			   list[1].type == IMAP_ARG_LIST) {
			const char *error;

			list++;
			/* NULL: IMAP4rev1's items (no DELETED) */
			error = imap_status_parse_items(NULL, list->list,
							&ctx->status_items);
			if (error != NULL)
				return error;
			ctx->ret |= RET_STATUS;
		} else if (strcasecmp(atom, "MYRIGHTS") == 0 &&
			   imap_acl_list_myrights_enabled(client)) {
			ctx->ret |= RET_MYRIGHTS;
		} else {
			return "Unknown return options";
		}
	}
	return NULL;
}

/* Reference and pattern as one pattern (Dovecot joins them as they
 * are, without a doubled separator). */
static const char *join_pattern(struct client_command_context *cmd,
				const char *ref, const char *pattern, char sep)
{
	size_t len = strlen(ref);

	if (len > 0 && ref[len - 1] == sep && pattern[0] == sep)
		pattern++;
	return p_strdup_printf(cmd->pool, "%s%s", ref, pattern);
}

static char list_default_sep(struct imap_client *client, const char *ref)
{
	struct mail_namespace *ns = mail_namespace_find(client->user, ref);

	if (ns == NULL)
		ns = mail_namespace_find_inbox(client->user);
	return ns == NULL ? '/' : ns->sep;
}

/* LIST "ref" "": the hierarchy delimiter and the reference's root */
static void list_root(struct client_command_context *cmd, const char *ref)
{
	char sep = list_default_sep(cmd->client, ref);
	const char *p = strrchr(ref, sep);
	char *root = i_strndup(ref, p == NULL ? 0 : (size_t)(p - ref) + 1);
	string_t *str = str_new(64);
	char sep_str[2] = { sep, '\0' };

	str_append(str, "* LIST (\\Noselect) ");
	imap_append_quoted(str, sep_str);
	str_append_c(str, ' ');
	imap_client_append_mailbox_name(cmd->client, str, root, false);
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
	i_free(root);
}

static void append_special_use(string_t *str, enum mailbox_info_flags flags)
{
	static const struct {
		enum mailbox_info_flags flag;
		const char *name;
	} uses[] = {
		{ MAILBOX_SPECIALUSE_ALL, "\\All" },
		{ MAILBOX_SPECIALUSE_ARCHIVE, "\\Archive" },
		{ MAILBOX_SPECIALUSE_DRAFTS, "\\Drafts" },
		{ MAILBOX_SPECIALUSE_FLAGGED, "\\Flagged" },
		{ MAILBOX_SPECIALUSE_JUNK, "\\Junk" },
		{ MAILBOX_SPECIALUSE_SENT, "\\Sent" },
		{ MAILBOX_SPECIALUSE_TRASH, "\\Trash" },
		{ MAILBOX_SPECIALUSE_IMPORTANT, "\\Important" },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(uses); i++) {
		if ((flags & uses[i].flag) == 0)
			continue;
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, uses[i].name);
	}
}

static void add_flag(string_t *str, const char *flag)
{
	if (str_len(str) > 0)
		str_append_c(str, ' ');
	str_append(str, flag);
}

static void list_flags(const struct list_cmd *ctx,
		       enum mailbox_info_flags flags, string_t *str)
{
	bool children = !ctx->extended || (ctx->ret & RET_CHILDREN) != 0;

	if ((flags & MAILBOX_SUBSCRIBED) != 0 &&
	    ((ctx->sel & SEL_SUBSCRIBED) != 0 ||
	     (ctx->ret & RET_SUBSCRIBED) != 0))
		add_flag(str, "\\Subscribed");
	if ((flags & MAILBOX_NONEXISTENT) != 0)
		add_flag(str, ctx->extended ? "\\NonExistent" : "\\Noselect");
	else if ((flags & MAILBOX_NOSELECT) != 0)
		add_flag(str, "\\Noselect");
	if ((flags & MAILBOX_NOINFERIORS) != 0) {
		add_flag(str, "\\NoInferiors");
	} else if (children) {
		if ((flags & MAILBOX_CHILDREN) != 0)
			add_flag(str, "\\HasChildren");
		else if ((flags & MAILBOX_NOCHILDREN) != 0)
			add_flag(str, "\\HasNoChildren");
	}
	/* \Marked/\UnMarked: Dovecot shows them only for mailboxes its
	   list index has seen opened; not reproduced, left out */
	if (!ctx->extended || (ctx->ret & RET_SPECIALUSE) != 0 ||
	    (ctx->sel & SEL_SPECIALUSE) != 0)
		append_special_use(str, flags);
}

static void list_send(struct client_command_context *cmd,
		      const struct list_cmd *ctx,
		      const struct mailbox_info *info, bool childinfo)
{
	string_t *str = str_new(128), *flags = str_new(64);
	char sep[2] = { info->ns->sep, '\0' };

	list_flags(ctx, info->flags, flags);
	str_printfa(str, "* %s (%s) ", ctx->lsub ? "LSUB" : "LIST",
		    str_c(flags));
	imap_append_quoted(str, sep);
	str_append_c(str, ' ');
	imap_client_append_mailbox_name(cmd->client, str, info->vname,
					false);
	if (childinfo)
		str_append(str, " (CHILDINFO (\"SUBSCRIBED\"))");
	client_send_line(cmd->client, str_c(str));
	str_free(&flags);
	str_free(&str);
}

static void list_status(struct client_command_context *cmd,
			const struct list_cmd *ctx,
			const struct mailbox_info *info)
{
	struct mailbox *box;

	if ((info->flags & (MAILBOX_NOSELECT | MAILBOX_NONEXISTENT)) != 0)
		return;
	if (imap_status_send(cmd->client, info->vname, NULL,
			     ctx->status_items, &box) < 0) {
		/* Dovecot reports a failing mailbox and goes on */
		enum mail_error error;
		const char *text = mailbox_get_last_error(
			box != NULL ? box : cmd->client->mailbox, &error);
		string_t *str = str_new(128);

		str_append(str, "* NO Mailbox ");
		imap_client_append_mailbox_name(cmd->client, str,
						info->vname, false);
		str_printfa(str, ": %s", text);
		client_send_line(cmd->client, str_c(str));
		str_free(&str);
	}
	if (box != NULL)
		mailbox_free(&box);
}

/* RETURN (MYRIGHTS): "* MYRIGHTS" after the mailbox's LIST (and STATUS)
 * line; none for \NoSelect or \NonExistent ones (RFC 8440). */
static void list_myrights(struct client_command_context *cmd,
			  const struct mailbox_info *info)
{
	if ((info->flags & (MAILBOX_NOSELECT | MAILBOX_NONEXISTENT)) != 0)
		return;
	imap_acl_send_myrights(cmd->client, info->vname);
}

typedef ARRAY(struct mailbox_info) ARRAY_INFO;

static bool patterns_match(const struct list_cmd *ctx, const char *vname,
			   char sep)
{
	for (size_t i = 0; i < ctx->patterns.count; i++) {
		const char *p = ctx->patterns.v[i];

		if (p != NULL && (mailbox_pattern_match(p, vname, sep) ||
				  (strcasecmp(vname, "INBOX") == 0 &&
				   strcasecmp(p, "INBOX") == 0)))
			return true;
	}
	return false;
}

static bool infos_have(const ARRAY_INFO *infos,
		       const char *vname)
{
	for (size_t i = 0; i < infos->count; i++) {
		if (strcmp(infos->v[i].vname, vname) == 0)
			return true;
	}
	return false;
}

static bool infos_have_child(const ARRAY_INFO *infos,
			     const char *vname, char sep)
{
	size_t len = strlen(vname);

	for (size_t i = 0; i < infos->count; i++) {
		if (strncmp(infos->v[i].vname, vname, len) == 0 &&
		    infos->v[i].vname[len] == sep)
			return true;
	}
	return false;
}

/* LSUB and LIST (SUBSCRIBED): the subscribed mailboxes that match, and
 * a parent that matches for a subscribed child that doesn't (LSUB:
 * \Noselect; RECURSIVEMATCH: with CHILDINFO). */
static void list_subscribed(struct client_command_context *cmd,
			    struct list_cmd *ctx)
{
	static const char *const all[] = { "*", NULL };
	ARRAY_INFO infos = ARRAY_INIT;
	ARRAY_STR done = ARRAY_INIT;
	const struct mailbox_info *info;
	struct mailbox_list_iter *iter;
	bool recursive = (ctx->sel & SEL_RECURSIVEMATCH) != 0;
	pool_t pool = cmd->pool;

	iter = mailbox_list_iter_init(cmd->client->user, all,
				      MAILBOX_LIST_ITER_SUBSCRIBED |
				      MAILBOX_LIST_ITER_RETURN_SUBSCRIBED |
				      MAILBOX_LIST_ITER_RETURN_CHILDREN);
	while ((info = mailbox_list_iter_next(iter)) != NULL) {
		struct mailbox_info *copy = array_append_space(&infos);

		*copy = *info;
		copy->vname = p_strdup(pool, info->vname);
	}
	(void)mailbox_list_iter_deinit(&iter);
	for (size_t i = 0; i < infos.count; i++) {
		struct mailbox_info out = infos.v[i];
		char sep = out.ns->sep;

		if (patterns_match(ctx, out.vname, sep)) {
			if (ctx->lsub) {
				/* tb-lsub-flags: Thunderbird looks only at
				   LSUB's flags, so with an fs layout (mbox)
				   \Noselect is kept */
				enum mailbox_info_flags keep =
					MAILBOX_SPECIALUSE_MASK;
				if ((cmd->client->workarounds &
				     WORKAROUND_TB_LSUB_FLAGS) != 0 &&
				    (out.ns->sep == '/' ||
				     strcmp(out.ns->driver, "mbox") == 0))
					keep |= MAILBOX_NOSELECT;
				out.flags &= keep;
			}
			list_send(cmd, ctx, &out, recursive &&
				  infos_have_child(&infos, out.vname, sep));
			if (!ctx->lsub && (ctx->ret & RET_STATUS) != 0)
				list_status(cmd, ctx, &out);
			if (!ctx->lsub && (ctx->ret & RET_MYRIGHTS) != 0)
				list_myrights(cmd, &out);
			continue;
		}
		if (!ctx->lsub && !recursive)
			continue;
		/* the parents of a child that didn't match */
		for (const char *p = strchr(out.vname, sep); p != NULL;
		     p = strchr(p + 1, sep)) {
			char *parent = p_strndup(pool, out.vname,
						 (size_t)(p - out.vname));
			struct mailbox_info pinfo = out;
			bool seen = false;

			if (!patterns_match(ctx, parent, sep) ||
			    infos_have(&infos, parent))
				continue;
			for (size_t j = 0; j < done.count && !seen; j++)
				seen = strcmp(done.v[j], parent) == 0;
			if (seen)
				continue;
			array_push(&done, parent);
			pinfo.vname = parent;
			if (ctx->lsub) {
				pinfo.flags = MAILBOX_NOSELECT;
			} else {
				struct mailbox *box = mailbox_alloc(
					cmd->client->user, parent, 0);
				bool exists = false;

				(void)mailbox_exists(box, &exists);
				mailbox_free(&box);
				pinfo.flags = exists ? 0 : MAILBOX_NONEXISTENT;
			}
			list_send(cmd, ctx, &pinfo, recursive);
		}
	}
	array_free(&done);
	array_free(&infos);
}

static void list_run(struct client_command_context *cmd,
		     struct list_cmd *ctx)
{
	enum mailbox_list_iter_flags flags = MAILBOX_LIST_ITER_RETURN_CHILDREN |
		MAILBOX_LIST_ITER_RETURN_SUBSCRIBED;
	const struct mailbox_info *info;
	struct mailbox_list_iter *iter;

	if ((ctx->sel & SEL_SUBSCRIBED) != 0 &&
	    (ctx->sel & SEL_SPECIALUSE) == 0) {
		list_subscribed(cmd, ctx);
		return;
	}
	array_push(&ctx->patterns, NULL);
	if ((ctx->sel & SEL_SUBSCRIBED) != 0)
		flags |= MAILBOX_LIST_ITER_SUBSCRIBED;
	if ((ctx->sel & SEL_SPECIALUSE) != 0)
		flags |= MAILBOX_LIST_ITER_SPECIALUSE_ONLY;
	iter = mailbox_list_iter_init(cmd->client->user, ctx->patterns.v,
				      flags);
	while ((info = mailbox_list_iter_next(iter)) != NULL) {
		bool childinfo = false;

		if ((ctx->sel & SEL_SUBSCRIBED) != 0 &&
		    (info->flags & MAILBOX_SUBSCRIBED) == 0) {
			/* listed for a subscribed child only */
			if ((ctx->sel & SEL_RECURSIVEMATCH) == 0)
				continue;
			childinfo = true;
		} else if ((ctx->sel & SEL_RECURSIVEMATCH) != 0 &&
			   (info->flags & MAILBOX_CHILD_SUBSCRIBED) != 0) {
			childinfo = true;
		}
		list_send(cmd, ctx, info, childinfo);
		if ((ctx->ret & RET_STATUS) != 0)
			list_status(cmd, ctx, info);
		if ((ctx->ret & RET_MYRIGHTS) != 0)
			list_myrights(cmd, info);
	}
	(void)mailbox_list_iter_deinit(&iter);
}

bool cmd_list(struct client_command_context *cmd)
{
	const struct imap_arg *args = cmd->args, *list;
	struct list_cmd ctx = { .lsub = false };
	const char *ref, *pattern, *error;
	char sep;

	if (imap_arg_get_list(args, &list)) {
		ctx.extended = true;
		error = parse_select(&ctx, list);
		if (error != NULL)
			return cmd_bad_error(cmd, error);
		args++;
	}
	if (!imap_arg_get_astring(&args[0], &ref))
		return cmd_bad_error(cmd, "Invalid reference");
	if (imap_arg_is_eol(&args[1]))
		return cmd_bad_error(cmd, "Invalid pattern");
	if (imap_arg_get_list(&args[1], &list)) {
		ctx.extended = true;
	} else if (!imap_arg_get_astring(&args[1], &pattern)) {
		return cmd_bad_error(cmd, "Invalid pattern");
	} else {
		list = NULL;
	}
	if (!imap_arg_is_eol(&args[2])) {
		const struct imap_arg *ret;

		if (!imap_arg_atom_equals(&args[2], "RETURN") ||
		    !imap_arg_get_list(&args[3], &ret))
			return cmd_bad_error(cmd, "Extra arguments");
		ctx.extended = true;
		error = parse_return(&ctx, cmd->client, ret);
		if (error != NULL)
			return cmd_bad_error(cmd, error);
		if (!imap_arg_is_eol(&args[4]))
			return cmd_bad_error(cmd, "Extra arguments");
	}
	sep = list_default_sep(cmd->client, ref);
	if (list == NULL) {
		if (pattern[0] == '\0' && !ctx.extended) {
			list_root(cmd, ref);
			return cmd_ok(cmd, "List completed");
		}
		array_push(&ctx.patterns,
			   join_pattern(cmd, ref, pattern, sep));
	} else {
		for (; !imap_arg_is_eol(list); list++) {
			if (!imap_arg_get_astring(list, &pattern)) {
				array_free(&ctx.patterns);
				return cmd_bad_error(cmd, "Invalid pattern list");
			}
			array_push(&ctx.patterns,
				   join_pattern(cmd, ref, pattern, sep));
		}
	}
	/* patterns are modified UTF-7 on the wire, UTF-8 in the storage */
	for (size_t i = 0; i < ctx.patterns.count; i++) {
		const char *vname = imap_mailbox_name_decode(
			cmd->client, ctx.patterns.v[i], &error);

		if (vname != NULL)
			ctx.patterns.v[i] = p_strdup(cmd->pool, vname);
	}
	if ((ctx.sel & SEL_SUBSCRIBED) != 0)
		ctx.ret |= RET_SUBSCRIBED;
	list_run(cmd, &ctx);
	array_free(&ctx.patterns);
	return cmd_ok(cmd, "List completed");
}

bool cmd_lsub(struct client_command_context *cmd)
{
	struct list_cmd ctx = { .lsub = true };
	const char *ref, *pattern, *error;

	/* Dovecot's texts: the reference, then the pattern */
	if (!imap_arg_get_astring(&cmd->args[0], &ref))
		return cmd_bad_error(cmd, "Invalid reference");
	if (!imap_arg_get_astring(&cmd->args[1], &pattern))
		return cmd_bad_error(cmd, "Invalid pattern");
	if (
	    !imap_arg_is_eol(&cmd->args[2]))
		return cmd_bad_args(cmd);
	pattern = join_pattern(cmd, ref, pattern,
			       list_default_sep(cmd->client, ref));
	{
		const char *vname = imap_mailbox_name_decode(cmd->client,
							     pattern, &error);

		array_push(&ctx.patterns, p_strdup(cmd->pool, vname != NULL ?
						   vname : pattern));
	}
	ctx.extended = true;	/* no children flags */
	ctx.ret = RET_SPECIALUSE;
	list_subscribed(cmd, &ctx);
	array_free(&ctx.patterns);
	return cmd_ok(cmd, "Lsub completed");
}

/* doveadm-acl.c - `doveadm acl get|rights|set|add|remove|delete|debug`
 * (the acl plugin's doveadm commands, there when mail_plugins has acl),
 * with Dovecot 2.3's output: get is a table of ID, Global and Rights
 * (right names sorted, negative ones as "-name"), rights the user's own
 * rights in canonical order; set/add/remove/delete change dovecot-acl
 * through the same code as IMAP SETACL. */
#include "doveadm.h"
#include "doveadm-mail.h"
#include "mail-plugins.h"
#include "acl.h"
#include "settings-structs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct acl_cmd_ctx {
	const char *mailbox;
	bool match_me;		/* get -m */
	struct acl_entry change;
	bool have_change;
	const char *const *args;
	bool with_rights;
};

static struct acl_cmd_ctx *ctx_get(struct doveadm_mail_cmd_context *mctx)
{
	if (mctx->cmd_ctx == NULL)
		mctx->cmd_ctx = i_new(struct acl_cmd_ctx, 1);
	return mctx->cmd_ctx;
}

static void acl_cmd_deinit(struct doveadm_mail_cmd_context *mctx)
{
	struct acl_cmd_ctx *ctx = mctx->cmd_ctx;

	if (ctx == NULL)
		return;
	i_free(ctx->change.name);
	i_free(ctx);
	mctx->cmd_ctx = NULL;
}

static void acl_plugin_check(struct doveadm_mail_cmd_context *mctx)
{
	const struct settings_root *set = mail_service_get_set(mctx->service);

	if (!mail_plugins_has(set->mail_plugins, "acl")) {
		i_fatal_status(EXIT_TEMPFAIL, "Unknown command 'acl', but "
			       "plugin acl exists. Try to set "
			       "mail_plugins=acl");
	}
}

/* The mailbox, open-checked as Dovecot's doveadm acl does; NULL after
 * the error. */
static struct mailbox *acl_box_open(struct doveadm_mail_cmd_context *mctx,
				    struct mail_user *user, const char *name)
{
	struct mailbox *box = doveadm_mailbox_find(user, name);
	bool exists;

	if (!acl_enabled(user)) {
		i_error("ACL not enabled for %s", user->username);
		doveadm_mail_failed_error(mctx, MAIL_ERROR_NOTFOUND);
		mailbox_free(&box);
		return NULL;
	}
	if (mailbox_exists(box, &exists) < 0 || !exists) {
		enum mail_error error;
		const char *text = mailbox_get_last_error(box, &error);

		if (error == MAIL_ERROR_NONE || error == MAIL_ERROR_NOTFOUND) {
			i_error("Can't open mailbox %s: Mailbox doesn't "
				"exist: %s", name, name);
			doveadm_mail_failed_error(mctx, MAIL_ERROR_NOTFOUND);
		} else {
			i_error("Can't open mailbox %s: %s", name, text);
			doveadm_mail_failed_mailbox(mctx, box);
		}
		mailbox_free(&box);
		return NULL;
	}
	return box;
}

/* ---- get ---- */

static bool get_parse_arg(struct doveadm_mail_cmd_context *mctx, int c,
			  const char *arg)
{
	(void)arg;
	if (c != 'm')
		return false;
	ctx_get(mctx)->match_me = true;
	return true;
}

static void get_init(struct doveadm_mail_cmd_context *mctx,
		     const char *const *args)
{
	acl_plugin_check(mctx);
	if (args[0] == NULL || args[1] != NULL)
		doveadm_mail_help(mctx->cmd);
	ctx_get(mctx)->mailbox = args[0];
	doveadm_print_header("id", "ID", 0);
	doveadm_print_header("global", "Global", 0);
	doveadm_print_header("rights", "Rights", 0);
}

static bool entry_applies(struct mail_user *user, struct mailbox *box,
			  const struct acl_entry *e)
{
	struct mail_namespace *ns = mailbox_get_namespace(box);

	switch (e->type) {
	case ACL_ID_ANYONE:
	case ACL_ID_AUTHENTICATED:
		return true;
	case ACL_ID_OWNER:
		return ns->owner != NULL &&
			strcmp(ns->owner, user->username) == 0;
	case ACL_ID_USER:
		return strcmp(e->name, user->username) == 0;
	case ACL_ID_GROUP:
	case ACL_ID_GROUP_OVERRIDE:
		return false;	/* groups come from the userdb: not here */
	}
	return false;
}

static int get_run(struct doveadm_mail_cmd_context *mctx,
		   struct mail_user *user)
{
	struct acl_cmd_ctx *ctx = ctx_get(mctx);
	ARRAY_ACL entries = ARRAY_INIT;
	struct mailbox *box;

	if ((box = acl_box_open(mctx, user, ctx->mailbox)) == NULL)
		return -1;
	if (acl_mailbox_get_entries(box, &entries) < 0) {
		i_error("Failed to iterate ACL: %s",
			mailbox_get_last_error(box, NULL));
		doveadm_mail_failed_mailbox(mctx, box);
		mailbox_free(&box);
		return -1;
	}
	for (size_t i = 0; i < entries.count; i++) {
		const struct acl_entry *e = &entries.v[i];
		const struct acl_entry *n = i + 1 < entries.count ?
			&entries.v[i + 1] : NULL;
		string_t *id = str_new(64), *rights = str_new(128);
		struct acl_entry pos = *e;

		if (e->is_default)
			goto next;	/* Dovecot lists the file's entries */
		if (ctx->match_me && !entry_applies(user, box, e))
			goto next;
		/* "id" and "-id" in one row: "lookup -write" */
		pos.neg = false;
		pos.global = false;
		acl_entry_write(id, &pos);
		str_truncate(id, strcspn(str_c(id), " "));
		if (!e->neg)
			acl_rights_append_names(rights, e->rights, false, "");
		if (!e->neg && n != NULL && n->neg && n->type == e->type &&
		    n->global == e->global &&
		    strcmp(n->name == NULL ? "" : n->name,
			   e->name == NULL ? "" : e->name) == 0) {
			e = n;
			i++;
		}
		if (e->neg) {
			if (str_len(rights) > 0)
				str_append_c(rights, ' ');
			acl_rights_append_names(rights, e->rights, false, "-");
		}
		doveadm_print(str_c(id));
		doveadm_print(e->global ? "global" : "");
		doveadm_print(str_c(rights));
	next:
		str_free(&id);
		str_free(&rights);
	}
	acl_entries_free(&entries);
	mailbox_free(&box);
	return 0;
}

/* ---- rights ---- */

static void rights_init(struct doveadm_mail_cmd_context *mctx,
			const char *const *args)
{
	acl_plugin_check(mctx);
	if (args[0] == NULL || args[1] != NULL)
		doveadm_mail_help(mctx->cmd);
	ctx_get(mctx)->mailbox = args[0];
	doveadm_print_header("rights", "Rights", 0);
}

static int rights_run(struct doveadm_mail_cmd_context *mctx,
		      struct mail_user *user)
{
	struct mailbox *box;
	unsigned int rights;
	string_t *str;

	if ((box = acl_box_open(mctx, user, ctx_get(mctx)->mailbox)) == NULL)
		return -1;
	if (acl_mailbox_my_rights(box, &rights) < 0) {
		i_error("Failed to get rights: %s",
			mailbox_get_last_error(box, NULL));
		doveadm_mail_failed_mailbox(mctx, box);
		mailbox_free(&box);
		return -1;
	}
	str = str_new(128);
	acl_rights_append_names(str, rights, true, "");
	doveadm_print(str_c(str));
	str_free(&str);
	mailbox_free(&box);
	return 0;
}

/* ---- set / add / remove / delete ---- */

static void change_init(struct doveadm_mail_cmd_context *mctx,
			const char *const *args, bool with_rights)
{
	struct acl_cmd_ctx *ctx = ctx_get(mctx);

	acl_plugin_check(mctx);
	if (args[0] == NULL || args[1] == NULL ||
	    (with_rights && args[2] == NULL) ||
	    (!with_rights && args[2] != NULL))
		doveadm_mail_help(mctx->cmd);
	ctx->mailbox = args[0];
	ctx->args = args;
	ctx->with_rights = with_rights;
}

/* The ID and rights, checked when the first user runs (Dovecot's fatal
 * line has the user's log prefix). */
static void change_parse(struct acl_cmd_ctx *ctx)
{
	const char *const *args = ctx->args;

	if (ctx->have_change)
		return;
	if (acl_id_parse(args[1], &ctx->change) < 0)
		i_fatal_status(EXIT_USAGE, "Invalid ID: %s", args[1]);
	for (unsigned int i = 2; ctx->with_rights && args[i] != NULL; i++) {
		unsigned int bit = acl_right_from_name(args[i]);

		if (bit == 0)
			i_fatal_status(EXIT_USAGE, "Invalid right '%s'",
				       args[i]);
		ctx->change.rights |= bit;
	}
	ctx->have_change = true;
}

static void set_init(struct doveadm_mail_cmd_context *mctx,
		     const char *const *args)
{
	change_init(mctx, args, true);
}

static void delete_init(struct doveadm_mail_cmd_context *mctx,
			const char *const *args)
{
	change_init(mctx, args, false);
}

static int change_run(struct doveadm_mail_cmd_context *mctx,
		      struct mail_user *user, enum modify_type mode,
		      bool delete_id)
{
	struct acl_cmd_ctx *ctx = ctx_get(mctx);
	struct mailbox *box;
	int ret = 0;

	change_parse(ctx);
	if ((box = acl_box_open(mctx, user, ctx->mailbox)) == NULL)
		return -1;
	if (acl_mailbox_update(box, &ctx->change, mode, delete_id) < 0) {
		i_error("Failed to set ACL: %s",
			mailbox_get_last_error(box, NULL));
		doveadm_mail_failed_mailbox(mctx, box);
		ret = -1;
	}
	mailbox_free(&box);
	return ret;
}

static int set_run(struct doveadm_mail_cmd_context *mctx,
		   struct mail_user *user)
{
	return change_run(mctx, user, MODIFY_REPLACE, false);
}

static int add_run(struct doveadm_mail_cmd_context *mctx,
		   struct mail_user *user)
{
	return change_run(mctx, user, MODIFY_ADD, false);
}

static int remove_run(struct doveadm_mail_cmd_context *mctx,
		      struct mail_user *user)
{
	return change_run(mctx, user, MODIFY_REMOVE, false);
}

static int delete_run(struct doveadm_mail_cmd_context *mctx,
		      struct mail_user *user)
{
	return change_run(mctx, user, MODIFY_REPLACE, true);
}

/* ---- debug ---- */

static void debug_init(struct doveadm_mail_cmd_context *mctx,
		       const char *const *args)
{
	acl_plugin_check(mctx);
	if (args[0] == NULL || args[1] != NULL)
		doveadm_mail_help(mctx->cmd);
	ctx_get(mctx)->mailbox = args[0];
}

static int debug_run(struct doveadm_mail_cmd_context *mctx,
		     struct mail_user *user)
{
	const char *name = ctx_get(mctx)->mailbox;
	struct mailbox *box;
	struct mail_namespace *ns;
	unsigned int rights;
	string_t *str;

	if ((box = acl_box_open(mctx, user, name)) == NULL)
		return -1;
	ns = mailbox_get_namespace(box);
	i_info("Mailbox '%s' is in namespace '%s'", name, ns->prefix);
	i_info("Mailbox path: %s", acl_mailbox_path(box));
	i_info("All message flags are shared across users in mailbox");
	if (acl_mailbox_my_rights(box, &rights) < 0) {
		i_error("Failed to get rights: %s",
			mailbox_get_last_error(box, NULL));
		doveadm_mail_failed_mailbox(mctx, box);
		mailbox_free(&box);
		return -1;
	}
	str = str_new(128);
	acl_rights_append_names(str, rights, true, "");
	i_info("User %s has rights: %s", user->username,
	       str_len(str) == 0 ? "none" : str_c(str));
	str_free(&str);
	if (ns->type == MAIL_NAMESPACE_PRIVATE) {
		i_info("Mailbox in user's private namespace");
	} else if ((rights & ACL_LOOKUP) == 0) {
		i_error("User %s is missing 'lookup' right", user->username);
		mailbox_free(&box);
		return 0;
	}
	i_info("Mailbox %s is visible in LIST", name);
	mailbox_free(&box);
	return 0;
}

#define ACL_CMD(var, cname, usage, opts, fmt, parse, init, run)	\
static const struct doveadm_mail_cmd var##_mcmd = {			\
	cname, usage, opts, fmt, parse, init, run, acl_cmd_deinit	\
};									\
static int var##_main(struct doveadm_context *dctx, int argc,		\
		      char *argv[])					\
{									\
	return doveadm_mail_cmd_main(&var##_mcmd, dctx, argc, argv);	\
}									\
const struct doveadm_cmd doveadm_cmd_##var = {				\
	cname, DOVEADM_CMD_MAIL_USAGE_PREFIX usage,			\
	DOVEADM_CMD_FLAG_FORMATTED, var##_main				\
}

ACL_CMD(acl_get, "acl get", "[-m] <mailbox>", "m", "table",
	get_parse_arg, get_init, get_run);
ACL_CMD(acl_rights, "acl rights", "<mailbox>", NULL, "table",
	NULL, rights_init, rights_run);
ACL_CMD(acl_set, "acl set", "<mailbox> <id> <right> [<right> ...]", NULL,
	NULL, NULL, set_init, set_run);
ACL_CMD(acl_add, "acl add", "<mailbox> <id> <right> [<right> ...]", NULL,
	NULL, NULL, set_init, add_run);
ACL_CMD(acl_remove, "acl remove", "<mailbox> <id> <right> [<right> ...]",
	NULL, NULL, NULL, set_init, remove_run);
ACL_CMD(acl_delete, "acl delete", "<mailbox> <id>", NULL, NULL,
	NULL, delete_init, delete_run);
ACL_CMD(acl_debug, "acl debug", "<mailbox>", NULL, NULL,
	NULL, debug_init, debug_run);

/* doveadm-mail.c - what every doveadm mail command shares, as Dovecot
 * 2.3 does it: -u USER (with '*'/'?' masks listing users through the
 * userdb), -A, -F FILE, $USER without -u; a "Username" column when more
 * than one user may print; the per-user log prefix "doveadm(user): ";
 * exit codes from storage errors (tempfail wins, else the first one);
 * mailboxes chosen by the query's mailbox keys; messages found by the
 * rest of the query. */
#include "lib.h"
#include "str.h"
#include "array.h"
#include "compat.h"
#include "doveadm.h"
#include "doveadm-mail.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define TMP_BUFS 8
#define TMP_BUF_SIZE 4096

const char *doveadm_tmp_printf(const char *fmt, ...)
{
	static char bufs[TMP_BUFS][TMP_BUF_SIZE];
	static unsigned int next;
	char *buf = bufs[next++ % TMP_BUFS];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, TMP_BUF_SIZE, fmt, args);
	va_end(args);
	return buf;
}

/* ---- exit codes ---------------------------------------------------- */

void doveadm_mail_failed_error(struct doveadm_mail_cmd_context *mctx,
			       enum mail_error error)
{
	int code = EXIT_TEMPFAIL;

	switch (error) {
	case MAIL_ERROR_NONE:
	case MAIL_ERROR_TEMP:
	case MAIL_ERROR_EXPUNGED:
	case MAIL_ERROR_INUSE:
		break;
	case MAIL_ERROR_NOTPOSSIBLE:
	case MAIL_ERROR_EXISTS:
	case MAIL_ERROR_LIMIT:
		code = EXIT_DATAERR;
		break;
	case MAIL_ERROR_PARAMS:
		code = EXIT_USAGE;
		break;
	case MAIL_ERROR_PERM:
		code = EXIT_NOPERM;
		break;
	case MAIL_ERROR_NOQUOTA:
		code = 73;	/* EX_CANTCREAT */
		break;
	case MAIL_ERROR_NOTFOUND:
		code = EXIT_NOTFOUND;
		break;
	}
	if (mctx->exit_code == 0 || code == EXIT_TEMPFAIL)
		mctx->exit_code = code;
}

void doveadm_mail_failed_mailbox(struct doveadm_mail_cmd_context *mctx,
				 struct mailbox *box)
{
	enum mail_error error;

	(void)mailbox_get_last_error(box, &error);
	doveadm_mail_failed_error(mctx, error);
}

void doveadm_mail_help(const struct doveadm_mail_cmd *cmd)
{
	fflush(stdout);
	fprintf(stderr, "doveadm %s " DOVEADM_CMD_MAIL_USAGE_PREFIX "%s\n",
		cmd->name, cmd->usage_args == NULL ? "" : cmd->usage_args);
	exit(EXIT_USAGE);
}

struct mail_search_args *doveadm_mail_build_search_args(const char *const *args)
{
	struct mail_search_args *sargs;
	const char *error;

	if (mail_search_parse_cmdline(args, &sargs, &error) < 0) {
		fflush(stdout);
		i_fatal_status(EXIT_TEMPFAIL, "%s", error);
	}
	return sargs;
}

/* ---- helpers ------------------------------------------------------- */

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
			(*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;

		if (len == 0 || (len == 2 && *p < 0xc2))
			return false;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
		}
		p += len;
	}
	return true;
}

void doveadm_mailbox_args_check(const char *const *args)
{
	for (; *args != NULL; args++) {
		if (!utf8_valid(*args)) {
			fflush(stdout);
			i_fatal_status(EXIT_DATAERR,
				       "Mailbox name not valid UTF-8: %s",
				       *args);
		}
	}
}

struct mailbox *doveadm_mailbox_find(struct mail_user *user, const char *vname)
{
	const char *args[2] = { vname, NULL };

	doveadm_mailbox_args_check(args);
	return mailbox_alloc(user, vname, 0);
}

uint32_t doveadm_mailbox_first_recent_uid(struct mailbox *box)
{
	struct mailbox_status status;

	if (mailbox_get_status(box, STATUS_FIRST_RECENT_UID, &status) < 0)
		return 0;
	return status.first_recent_uid;
}

static const struct {
	const char *name;
	enum mail_flags flag;
} system_flags[] = {
	{ "\\Answered", MAIL_ANSWERED },
	{ "\\Flagged", MAIL_FLAGGED },
	{ "\\Deleted", MAIL_DELETED },
	{ "\\Seen", MAIL_SEEN },
	{ "\\Draft", MAIL_DRAFT },
	{ "\\Recent", MAIL_RECENT },
};

void doveadm_mail_write_flags(string_t *dest, enum mail_flags flags,
			      const char *const *keywords)
{
	size_t start = str_len(dest);

	for (size_t i = 0; i < N_ELEMENTS(system_flags); i++) {
		if ((flags & system_flags[i].flag) == 0)
			continue;
		if (str_len(dest) > start)
			str_append_c(dest, ' ');
		str_append(dest, system_flags[i].name);
	}
	for (; keywords != NULL && *keywords != NULL; keywords++) {
		if (str_len(dest) > start)
			str_append_c(dest, ' ');
		str_append(dest, *keywords);
	}
}

int doveadm_mail_parse_flags(pool_t pool, const char *str,
			     enum mail_flags *flags_r,
			     const char *const **keywords_r,
			     const char **error_r)
{
	ARRAY_STR kws = ARRAY_INIT;
	const char **result;

	*flags_r = 0;
	while (*str != '\0') {
		size_t len = strcspn(str, " ");
		char *word = p_strndup(pool, str, len);

		str += len;
		str += strspn(str, " ");
		if (len == 0)
			continue;
		if (word[0] == '\\') {
			size_t i;

			for (i = 0; i < N_ELEMENTS(system_flags); i++) {
				if (strcasecmp(system_flags[i].name, word) == 0)
					break;
			}
			if (i == N_ELEMENTS(system_flags) ||
			    system_flags[i].flag == MAIL_RECENT) {
				*error_r = doveadm_tmp_printf(
					"Invalid system flag: %s", word);
				array_free(&kws);
				return -1;
			}
			*flags_r |= system_flags[i].flag;
		} else {
			array_push(&kws, word);
		}
	}
	result = p_new(pool, const char *, kws.count + 1);
	for (size_t i = 0; i < kws.count; i++)
		result[i] = kws.v[i];
	array_free(&kws);
	*keywords_r = result;
	return 0;
}

/* ---- mailbox iteration --------------------------------------------- */

struct doveadm_mailbox_iter {
	struct doveadm_mail_cmd_context *mctx;
	struct mail_user *user;
	struct mail_search_args *args;
	struct mailbox_list_iter *iter;
	bool only_selectable;
	/* exact names only: returned as they are, without listing */
	ARRAY_STR names;
	size_t name_idx;
	struct mailbox_info info;
};

struct doveadm_mailbox_iter *
doveadm_mailbox_iter_init(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user,
			  struct mail_search_args *args, bool only_selectable)
{
	struct doveadm_mailbox_iter *iter = i_new(struct doveadm_mailbox_iter, 1);
	ARRAY_STR patterns = ARRAY_INIT;
	bool have_guid, have_wildcards;

	iter->mctx = mctx;
	iter->user = user;
	iter->args = args;
	iter->only_selectable = only_selectable;
	(void)mail_search_args_get_mailbox_patterns(args, &patterns,
						    &have_guid,
						    &have_wildcards);
	if (patterns.count > 0 && !have_wildcards) {
		iter->names = patterns;
		return iter;
	}
	if (patterns.count == 0)
		array_push(&patterns, "*");
	array_push(&patterns, NULL);
	iter->iter = mailbox_list_iter_init(user, patterns.v, 0);
	array_free(&patterns);
	return iter;
}

const struct mailbox_info *
doveadm_mailbox_iter_next(struct doveadm_mailbox_iter *iter)
{
	const struct mailbox_info *info;

	if (iter->iter == NULL) {
		if (iter->name_idx == iter->names.count)
			return NULL;
		iter->info.vname = iter->names.v[iter->name_idx++];
		iter->info.ns = mail_namespace_find(iter->user,
						    iter->info.vname);
		iter->info.flags = 0;
		return &iter->info;
	}
	while ((info = mailbox_list_iter_next(iter->iter)) != NULL) {
		if (iter->only_selectable &&
		    (info->flags & (MAILBOX_NOSELECT | MAILBOX_NONEXISTENT)) != 0)
			continue;
		if (mail_search_args_match_mailbox(iter->args, info->vname,
						   info->ns->sep))
			return info;
	}
	return NULL;
}

int doveadm_mailbox_iter_deinit(struct doveadm_mailbox_iter **_iter)
{
	struct doveadm_mailbox_iter *iter = *_iter;
	int ret;

	*_iter = NULL;
	array_free(&iter->names);
	ret = iter->iter == NULL ? 0 : mailbox_list_iter_deinit(&iter->iter);
	if (ret < 0) {
		i_error("Listing mailboxes failed");
		doveadm_mail_failed_error(iter->mctx, MAIL_ERROR_TEMP);
	}
	free(iter);
	return ret;
}

/* ---- message iteration --------------------------------------------- */

struct doveadm_mail_iter {
	struct doveadm_mail_cmd_context *mctx;
	struct mail_search_args *args;
	struct mailbox *box;
	struct mailbox_transaction *t;
	struct mail *mail;
	uint32_t seq, count;
};

int doveadm_mail_iter_init(struct doveadm_mail_cmd_context *mctx,
			   struct mail_user *user, const char *vname,
			   struct mail_search_args *args, bool readonly,
			   struct doveadm_mail_iter **iter_r)
{
	struct doveadm_mail_iter *iter = i_new(struct doveadm_mail_iter, 1);
	enum mail_error error;
	const char *errstr;

	iter->mctx = mctx;
	iter->args = args;
	iter->box = mailbox_alloc(user, vname,
				  readonly ? MAILBOX_FLAG_READONLY : 0);
	if (mailbox_open(iter->box) < 0 ||
	    mailbox_sync(iter->box, 0, NULL, NULL) < 0 ||
	    mail_search_args_init(args, iter->box) < 0) {
		errstr = mailbox_get_last_error(iter->box, &error);
		switch (error != MAIL_ERROR_NOTFOUND ? -1 :
			(int)mctx->missing_box) {
		case DOVEADM_MISSING_BOX_SKIP:
			*iter_r = iter;
			return 0;
		case DOVEADM_MISSING_BOX_GUID:
			i_error("Couldn't get mailbox '%s' GUID: %s", vname,
				errstr);
			break;
		case DOVEADM_MISSING_BOX_SYNCING:
			i_error("Syncing mailbox '%s' failed: %s", vname,
				errstr);
			break;
		case DOVEADM_MISSING_BOX_SYNC:
			i_error("Mailbox %s: Mailbox sync failed: %s", vname,
				errstr);
			break;
		default:
			i_error("Syncing mailbox %s failed: %s", vname,
				errstr);
			break;
		}
		doveadm_mail_failed_error(mctx, error);
		mailbox_free(&iter->box);
		free(iter);
		return -1;
	}
	iter->t = mailbox_transaction_begin(iter->box);
	iter->mail = mail_alloc(iter->box);
	iter->count = mailbox_count(iter->box);
	*iter_r = iter;
	return 0;
}

struct mail *doveadm_mail_iter_next(struct doveadm_mail_iter *iter)
{
	int ret;

	if (iter->mail == NULL)
		return NULL;
	while (iter->seq < iter->count) {
		mail_set_seq(iter->mail, ++iter->seq);
		ret = mail_search_match(iter->mail, iter->args->args);
		if (ret > 0)
			return iter->mail;
		if (ret < 0) {
			i_error("Searching mailbox %s failed: %s",
				mailbox_get_vname(iter->box),
				mailbox_get_last_error(iter->box, NULL));
			doveadm_mail_failed_mailbox(iter->mctx, iter->box);
		}
	}
	return NULL;
}

struct mailbox *doveadm_mail_iter_get_mailbox(struct doveadm_mail_iter *iter)
{
	return iter->box;
}

struct mailbox_transaction *
doveadm_mail_iter_get_transaction(struct doveadm_mail_iter *iter)
{
	return iter->t;
}

int doveadm_mail_iter_deinit(struct doveadm_mail_iter **_iter, bool commit)
{
	struct doveadm_mail_iter *iter = *_iter;
	int ret = 0;

	*_iter = NULL;
	if (iter->mail != NULL)
		mail_free(&iter->mail);
	if (iter->t != NULL) {
		if (!commit) {
			mailbox_transaction_rollback(&iter->t);
		} else if (mailbox_transaction_commit(&iter->t, NULL) < 0) {
			i_error("Committing mailbox %s failed: %s",
				mailbox_get_vname(iter->box),
				mailbox_get_last_error(iter->box, NULL));
			doveadm_mail_failed_mailbox(iter->mctx, iter->box);
			ret = -1;
		}
	}
	if (iter->box != NULL)
		mailbox_free(&iter->box);
	free(iter);
	return ret;
}

/* ---- users --------------------------------------------------------- */

/* 1 done, 0 no such user, -1 error (*error_r). */
static int mail_cmd_user(struct doveadm_mail_cmd_context *mctx,
			 const char *username, bool userdb_lookup,
			 bool temp_drop, const char **error_r)
{
	struct mail_service_user *suser;
	struct mail_user *user = NULL;
	const char *error;
	int ret;

	log_set_prefix(doveadm_tmp_printf("doveadm(%s): ", username));
	ret = mail_service_lookup(mctx->service, username, userdb_lookup,
				  &suser, error_r);
	if (ret <= 0)
		return ret;
	if (mail_service_user_init(mctx->service, suser, temp_drop, true,
				   &user, &error) < 0) {
		*error_r = error;
		mail_service_user_free(mctx->service, &suser, &user);
		return -1;
	}
	mctx->cur_service_user = suser;
	mctx->cur_username = suser->username;
	/* ACLs don't restrict doveadm (Dovecot: MAILBOX_FLAG_IGNORE_ACLS) */
	user->admin = true;
	if (mctx->cmd->run(mctx, user) < 0 && mctx->exit_code == 0)
		mctx->exit_code = EXIT_TEMPFAIL;
	mctx->cur_service_user = NULL;
	mail_service_user_free(mctx->service, &suser, &user);
	return 1;
}

static int read_user_file(const char *path, ARRAY_STR *users)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	if (f == NULL) {
		i_error("open(%s) failed: %m", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		while (len > 0 && (line[len - 1] == '\n' ||
				   line[len - 1] == '\r'))
			line[--len] = '\0';
		array_push(users, i_strdup(line));
	}
	fclose(f);
	return 0;
}

static void mail_cmd_all_users(struct doveadm_mail_cmd_context *mctx,
			       const char *wildcard_user,
			       const char *user_file)
{
	ARRAY_STR users = ARRAY_INIT;
	const char *error;
	int ret = 0;

	if (user_file != NULL) {
		if (read_user_file(user_file, &users) < 0)
			ret = -1;
	} else if (mail_service_list_users(mctx->service,
					   wildcard_user == NULL ? "" :
					   wildcard_user, &users,
					   &error) < 0) {
		i_error("%s", error);
		ret = -1;
	}
	for (size_t i = 0; ret >= 0 && i < users.count; i++) {
		const char *user = users.v[i];

		doveadm_print_sticky("username", user);
		ret = mail_cmd_user(mctx, user, true, true, &error);
		if (ret < 0)
			i_error("%s", error);
		else if (ret == 0)
			i_info("User no longer exists, skipping");
	}
	log_set_prefix("doveadm: ");
	if (ret < 0) {
		i_error("Failed to iterate through some users");
		mctx->exit_code = EXIT_TEMPFAIL;
	}
	log_set_prefix("");
	for (size_t i = 0; i < users.count; i++)
		free((char *)users.v[i]);
	array_free(&users);
}

int doveadm_mail_cmd_main(const struct doveadm_mail_cmd *cmd,
			  struct doveadm_context *dctx, int argc,
			  char *argv[])
{
	struct doveadm_mail_cmd_context mctx;
	const char *username = getenv("USER"), *wildcard_user = NULL;
	const char *user_file = NULL, *error;
	bool all_users = false, userdb_lookup = false;
	char optstr[64];
	int c, exit_code;

	memset(&mctx, 0, sizeof(mctx));
	mctx.cmd = cmd;
	mctx.dctx = dctx;
	snprintf(optstr, sizeof(optstr), "%sAF:S:u:",
		 cmd->getopt_args == NULL ? "" : cmd->getopt_args);
	while ((c = getopt(argc, argv, optstr)) != -1) {
		switch (c) {
		case 'A':
			all_users = true;
			break;
		case 'S':
			/* no doveadm-server: the work is done here */
			break;
		case 'u':
			userdb_lookup = true;
			username = optarg;
			if (strpbrk(optarg, "*?") != NULL) {
				wildcard_user = optarg;
				username = NULL;
			}
			break;
		case 'F':
			userdb_lookup = true;
			wildcard_user = "*";
			user_file = optarg;
			break;
		default:
			if (c == '?' || cmd->parse_arg == NULL ||
			    !cmd->parse_arg(&mctx, c, optarg))
				return EXIT_USAGE;
		}
	}
	mctx.args = (const char *const *)argv + optind;
	if (mctx.args[0] != NULL && cmd->usage_args == NULL) {
		i_fatal_status(EXIT_USAGE, "doveadm %s: Unknown parameter: %s",
			       cmd->name, mctx.args[0]);
	}
	if (dctx->formatter != NULL)
		doveadm_print_init(dctx->formatter);
	else if (cmd->default_formatter != NULL)
		doveadm_print_init(cmd->default_formatter);

	mctx.iterate_single_user = !all_users && wildcard_user == NULL;
	if (doveadm_print_is_initialized() && !mctx.iterate_single_user) {
		doveadm_print_header("username", "Username",
				     DOVEADM_PRINT_HEADER_FLAG_STICKY |
				     DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE);
	}
	if (mctx.iterate_single_user && username == NULL) {
		i_fatal_status(EXIT_USAGE, "USER environment is missing and "
			       "-u option not used");
	}
	mctx.service = mail_service_init(doveadm_config_get(dctx), "doveadm",
					 dctx->overrides,
					 dctx->override_count, dctx->debug);
	if (cmd->init != NULL)
		cmd->init(&mctx, mctx.args);

	if (mctx.iterate_single_user) {
		switch (mail_cmd_user(&mctx, username, userdb_lookup, false,
				      &error)) {
		case -1:
			i_error("%s", error);
			mctx.exit_code = EXIT_TEMPFAIL;
			break;
		case 0:
			i_error("User doesn't exist");
			mctx.exit_code = EXIT_NOUSER;
			break;
		}
		log_set_prefix("");
	} else {
		mail_cmd_all_users(&mctx, all_users ? NULL : wildcard_user,
				   user_file);
	}
	if (cmd->deinit != NULL)
		cmd->deinit(&mctx);
	if (mctx.search_args != NULL)
		mail_search_args_free(&mctx.search_args);
	doveadm_print_deinit();
	mail_service_deinit(&mctx.service);
	exit_code = mctx.exit_code;
	return exit_code;
}

/* cmd-sort.c - SORT and UID SORT (RFC 5256, SORT=DISPLAY RFC 5957), THREAD
 * and UID THREAD (ORDEREDSUBJECT, REFERENCES, REFS), ESORT's RETURN
 * (imap-search-return.c, RFC 5267): the search runs in
 * slices as for SEARCH, then mailstore's mail-sort / mail-thread order
 * the matches. */
#include "imap-search-args.h"
#include "imap-search-return.h"
#include "mail-sort.h"
#include "mail-thread.h"

#include <strings.h>

#define SORT_MAX_KEYS 32

struct sort_cmd_ctx {
	struct imap_search_run *run;
	bool thread;
	enum mail_thread_type thread_type;
	struct imap_search_return ret;	/* ESORT: opts != 0 */
	bool modseq;
	struct mail_sort_key keys[SORT_MAX_KEYS + 1];
};

/* "(REVERSE DATE SUBJECT)": -1 with *error_r (Dovecot's texts). */
static int sort_parse_program(struct client_command_context *cmd,
			      const struct imap_arg *list,
			      struct mail_sort_key *keys, const char **error_r)
{
	unsigned int n = 0;
	bool reverse = false;

	if (imap_arg_is_eol(list)) {
		*error_r = "Empty sort program";
		return -1;
	}
	for (; !imap_arg_is_eol(list); list++) {
		const char *name;

		if (!imap_arg_get_atom(list, &name)) {
			*error_r = "Invalid sort argument";
			return -1;
		}
		if (strcasecmp(name, "REVERSE") == 0) {
			reverse = !reverse;
			continue;
		}
		if (n == SORT_MAX_KEYS) {
			*error_r = "Too many sort criteria";
			return -1;
		}
		if (mail_sort_type_parse(name, &keys[n].type) < 0) {
			*error_r = p_strdup_printf(cmd->pool,
				"Unknown sort argument: %s", name);
			return -1;
		}
		keys[n++].reverse = reverse;
		reverse = false;
	}
	if (reverse) {
		*error_r = "Sort list ends with REVERSE";
		return -1;
	}
	keys[n].type = MAIL_SORT_END;
	keys[n].reverse = false;
	return 0;
}

static void sort_cleanup(struct client_command_context *cmd)
{
	struct sort_cmd_ctx *ctx = cmd->context;

	imap_search_run_deinit(&ctx->run);
}

static bool sort_send_result(struct client_command_context *cmd,
			     struct sort_cmd_ctx *ctx)
{
	struct mailbox *box = cmd->client->mailbox;
	const ARRAY_U32 *result = imap_search_run_result(ctx->run);
	uint32_t *seqs = result->v;
	unsigned int count = (unsigned int)result->count;
	string_t *str = str_new(32 + count * 6);
	int ret;

	if (ctx->thread) {
		str_append(str, "* THREAD ");
		ret = mail_thread_build(box, ctx->thread_type, seqs, count,
					cmd->uid, str);
	} else {
		str_append(str, "* SORT");
		ret = mail_sort_seqs(box, ctx->keys, seqs, count);
		if (ret == 0 && ctx->ret.opts != 0) {
			str_free(&str);
			imap_search_return_send(cmd, &ctx->ret, seqs, count,
				ctx->modseq ? imap_search_run_highest_modseq(
					ctx->run) : 0, true);
			if ((ctx->ret.opts & SEARCH_RETURN_UPDATE) != 0) {
				imap_search_update_add(cmd,
					imap_search_run_take_args(ctx->run),
					seqs, count);
			}
			return cmd_ok(cmd, "Sort completed");
		}
		for (unsigned int i = 0; ret == 0 && i < count; i++) {
			str_printfa(str, " %u", cmd->uid ?
				    mailbox_seq_to_uid(box, seqs[i]) : seqs[i]);
		}
	}
	if (ret < 0) {
		str_free(&str);
		return cmd_no_storage_error(cmd, box);
	}
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
	return cmd_ok(cmd, ctx->thread ? "Thread completed" : "Sort completed");
}

static bool cmd_sort_more(struct client_command_context *cmd)
{
	struct sort_cmd_ctx *ctx = cmd->context;
	int ret = imap_search_run_more(ctx->run);

	if (ret == 0) {
		imap_search_run_progress(ctx->run, cmd, "Searching");
		cmd->yield = true;
		return false;
	}
	if (ret < 0) {
		imap_search_return_save_failed(cmd->client, &ctx->ret);
		return cmd_no_storage_error(cmd, cmd->client->mailbox);
	}
	return sort_send_result(cmd, ctx);
}

/* The charset and the search keys, then the run. */
static bool sort_start(struct client_command_context *cmd,
		       struct sort_cmd_ctx *ctx, const struct imap_arg *args)
{
	struct mail_search_args *sargs;
	const char *charset;
	bool badcharset;

	if (!imap_arg_get_astring(&args[0], &charset))
		return cmd_bad_error(cmd, ctx->thread ? "Invalid arguments" :
				"Invalid sort argument");
	if (imap_search_args_build(cmd, args + 1, charset, &sargs,
				   &badcharset) < 0) {
		if (badcharset)
			imap_search_return_save_failed(cmd->client, &ctx->ret);
		return true;
	}
	ctx->modseq = imap_search_args_have_modseq(sargs);
	ctx->run = imap_search_run_init(cmd->client, sargs);
	cmd->context = ctx;
	cmd->cleanup = sort_cleanup;
	cmd->func = cmd_sort_more;
	return cmd_sort_more(cmd);
}

bool cmd_sort(struct client_command_context *cmd)
{
	struct sort_cmd_ctx *ctx = p_new(cmd->pool, struct sort_cmd_ctx, 1);
	const struct imap_arg *args = cmd->args, *list;
	const char *error;

	if (imap_arg_atom_equals(&args[0], "RETURN") &&
	    imap_arg_get_list(&args[1], &list)) {
		if (imap_search_return_parse(list, &ctx->ret, &error) < 0)
			return cmd_bad_error(cmd, error);
		args += 2;
	}
	if (!imap_arg_get_list(&args[0], &list))
		return cmd_bad_error(cmd, "Invalid sort argument");
	if (sort_parse_program(cmd, list, ctx->keys, &error) < 0)
		return cmd_bad_error(cmd, error);
	return sort_start(cmd, ctx, args + 1);
}

bool cmd_thread(struct client_command_context *cmd)
{
	struct sort_cmd_ctx *ctx = p_new(cmd->pool, struct sort_cmd_ctx, 1);
	const char *name;

	if (!imap_arg_get_atom(&cmd->args[0], &name))
		return cmd_bad_error(cmd, "Invalid arguments");
	if (mail_thread_type_parse(name, &ctx->thread_type) < 0)
		return cmd_bad_error(cmd, "Unknown thread algorithm");
	ctx->thread = true;
	return sort_start(cmd, ctx, cmd->args + 1);
}

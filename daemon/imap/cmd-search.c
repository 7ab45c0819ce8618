/* cmd-search.c - SEARCH and UID SEARCH (RFC 3501 6.4.4) with RETURN
 * options (ESEARCH, SEARCHRES, CONTEXT=SEARCH: imap-search-return.c),
 * the search running in slices; SORT and THREAD are in cmd-sort.c. */
#include "imap-search-args.h"
#include "imap-search-return.h"

#include <strings.h>

struct search_cmd_ctx {
	struct imap_search_run *run;
	struct imap_search_return ret;
	bool modseq;
};

static void search_send_result(struct client_command_context *cmd,
			       struct search_cmd_ctx *ctx)
{
	const ARRAY_U32 *seqs = imap_search_run_result(ctx->run);
	uint64_t modseq = ctx->modseq ?
		imap_search_run_highest_modseq(ctx->run) : 0;
	string_t *str;

	if ((ctx->ret.opts & SEARCH_RETURN_ESEARCH) != 0) {
		imap_search_return_send(cmd, &ctx->ret, seqs->v, seqs->count,
					modseq, false);
		if ((ctx->ret.opts & SEARCH_RETURN_UPDATE) != 0) {
			imap_search_update_add(cmd,
				imap_search_run_take_args(ctx->run),
				seqs->v, seqs->count);
		}
		return;
	}
	str = str_new(16 + seqs->count * 6);
	str_append(str, "* SEARCH");
	for (size_t i = 0; i < seqs->count; i++)
		str_printfa(str, " %u", cmd->uid ? mailbox_seq_to_uid(
			cmd->client->mailbox, seqs->v[i]) : seqs->v[i]);
	if (modseq != 0 && seqs->count > 0)
		str_printfa(str, " (MODSEQ %llu)", (unsigned long long)modseq);
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
}

static void search_cleanup(struct client_command_context *cmd)
{
	struct search_cmd_ctx *ctx = cmd->context;

	imap_search_run_deinit(&ctx->run);
}

static bool cmd_search_more(struct client_command_context *cmd)
{
	struct search_cmd_ctx *ctx = cmd->context;
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
	search_send_result(cmd, ctx);
	return cmd_ok(cmd, "Search completed");
}

/* CONDSTORE is enabled by the first MODSEQ search (RFC 7162 3.1). */
static void search_enable_condstore(struct imap_client *client)
{
	if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		return;
	client->enabled |= IMAP_ENABLED_CONDSTORE;
	client_send_linef(client, "* OK [HIGHESTMODSEQ %llu] Highest",
			  (unsigned long long)
			  mailbox_get_highest_modseq(client->mailbox));
}

bool cmd_search(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *args = cmd->args, *list;
	struct search_cmd_ctx *ctx;
	struct mail_search_args *sargs;
	struct imap_search_return ret;
	const char *charset = NULL, *error;
	bool badcharset;

	memset(&ret, 0, sizeof(ret));
	/* IMAP4rev2 answers every SEARCH with ESEARCH (RFC 9051 7.3.4) */
	if ((client->enabled & IMAP_ENABLED_IMAP4REV2) != 0)
		ret.opts = SEARCH_RETURN_ESEARCH | SEARCH_RETURN_ALL;
	if (imap_arg_atom_equals(&args[0], "RETURN") &&
	    imap_arg_get_list(&args[1], &list)) {
		if (imap_search_return_parse(list, &ret, &error) < 0)
			return cmd_bad_error(cmd, error);
		args += 2;
	}
	if (imap_arg_atom_equals(&args[0], "CHARSET")) {
		/* RFC 6855 3: after ENABLE UTF8=ACCEPT a SEARCH has no
		   charset (the strings are UTF-8); refused with BAD */
		if ((client->enabled & IMAP_ENABLED_UTF8_ACCEPT) != 0)
			return cmd_bad_error(cmd, "CHARSET not allowed after "
					  "ENABLE UTF8=ACCEPT");
		if (!imap_arg_get_astring(&args[1], &charset))
			return cmd_bad_error(cmd, "Invalid charset argument");
		args += 2;
	}
	if (imap_search_args_build(cmd, args, charset, &sargs,
				   &badcharset) < 0) {
		if (badcharset)
			imap_search_return_save_failed(client, &ret);
		return true;
	}
	ctx = p_new(cmd->pool, struct search_cmd_ctx, 1);
	ctx->ret = ret;
	ctx->modseq = imap_search_args_have_modseq(sargs);
	if (ctx->modseq)
		search_enable_condstore(client);
	ctx->run = imap_search_run_init(client, sargs);
	cmd->context = ctx;
	cmd->cleanup = search_cleanup;
	cmd->func = cmd_search_more;
	return cmd_search_more(cmd);
}

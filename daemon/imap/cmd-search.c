/* cmd-search.c - SEARCH and UID SEARCH (RFC 3501 6.4.4) with ESEARCH's
 * RETURN (MIN MAX ALL COUNT) (RFC 4731) and SEARCHRES's SAVE (RFC 5182),
 * the search running in slices; SORT and THREAD are in cmd-sort.c. */
#include "imap-search-args.h"

#include <strings.h>

enum search_return {
	SEARCH_RETURN_ESEARCH = 0x01,	/* RETURN given */
	SEARCH_RETURN_MIN = 0x02,
	SEARCH_RETURN_MAX = 0x04,
	SEARCH_RETURN_ALL = 0x08,
	SEARCH_RETURN_COUNT = 0x10,
	SEARCH_RETURN_SAVE = 0x20,
};

struct search_cmd_ctx {
	struct imap_search_run *run;
	enum search_return opts;
	bool modseq;
};

static bool search_bad(struct client_command_context *cmd, const char *error)
{
	char *text = i_strdup_printf("Error in IMAP command %s: %s",
				     cmd->name, error);

	cmd_bad(cmd, text);
	i_free(text);
	return true;
}

/* RETURN (...): -1 with *error_r for an unknown option. */
static int parse_return(const struct imap_arg *list, enum search_return *opts_r,
			const char **error_r)
{
	static const struct {
		const char *name;
		enum search_return opt;
	} names[] = {
		{ "MIN", SEARCH_RETURN_MIN }, { "MAX", SEARCH_RETURN_MAX },
		{ "ALL", SEARCH_RETURN_ALL }, { "COUNT", SEARCH_RETURN_COUNT },
		{ "SAVE", SEARCH_RETURN_SAVE },
	};
	enum search_return opts = SEARCH_RETURN_ESEARCH;

	for (; !imap_arg_is_eol(list); list++) {
		const char *name;
		size_t i;

		if (!imap_arg_get_atom(list, &name)) {
			*error_r = "SEARCH return options contain non-atoms.";
			return -1;
		}
		for (i = 0; i < N_ELEMENTS(names); i++) {
			if (strcasecmp(names[i].name, name) == 0)
				break;
		}
		if (i == N_ELEMENTS(names)) {
			*error_r = "Unknown SEARCH return option";
			return -1;
		}
		opts |= names[i].opt;
	}
	/* RETURN () is RETURN (ALL) */
	if ((opts & ~(SEARCH_RETURN_ESEARCH | SEARCH_RETURN_SAVE)) == 0 &&
	    (opts & SEARCH_RETURN_SAVE) == 0)
		opts |= SEARCH_RETURN_ALL;
	*opts_r = opts;
	return 0;
}

/* SEARCHRES: the UIDs of the result, or only its MIN/MAX when those are
 * all that was asked besides SAVE (RFC 5182 2.4). */
static void search_save(struct imap_client *client, enum search_return opts,
			const ARRAY_U32 *seqs)
{
	struct mailbox *box = client->mailbox;
	bool minmax_only = (opts & (SEARCH_RETURN_MIN | SEARCH_RETURN_MAX)) != 0 &&
		(opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT)) == 0;

	array_clear(&client->search_saved);
	client->search_saved_valid = true;
	if (seqs->count == 0)
		return;
	if (!minmax_only) {
		for (size_t i = 0; i < seqs->count; i++)
			array_push(&client->search_saved,
				   mailbox_seq_to_uid(box, seqs->v[i]));
		return;
	}
	if ((opts & SEARCH_RETURN_MIN) != 0)
		array_push(&client->search_saved,
			   mailbox_seq_to_uid(box, seqs->v[0]));
	if ((opts & SEARCH_RETURN_MAX) != 0 &&
	    ((opts & SEARCH_RETURN_MIN) == 0 || seqs->count > 1))
		array_push(&client->search_saved,
			   mailbox_seq_to_uid(box, seqs->v[seqs->count - 1]));
}

static uint32_t result_num(struct client_command_context *cmd, uint32_t seq)
{
	return cmd->uid ? mailbox_seq_to_uid(cmd->client->mailbox, seq) : seq;
}

static void search_send_esearch(struct client_command_context *cmd,
				struct search_cmd_ctx *ctx,
				const ARRAY_U32 *seqs)
{
	enum search_return opts = ctx->opts;
	string_t *str = str_new(128 + seqs->count * 4);

	str_printfa(str, "* ESEARCH (TAG \"%s\")", cmd->tag);
	if (cmd->uid)
		str_append(str, " UID");
	if (seqs->count > 0) {
		if ((opts & SEARCH_RETURN_MIN) != 0)
			str_printfa(str, " MIN %u", result_num(cmd, seqs->v[0]));
		if ((opts & SEARCH_RETURN_MAX) != 0)
			str_printfa(str, " MAX %u",
				    result_num(cmd, seqs->v[seqs->count - 1]));
		if ((opts & SEARCH_RETURN_ALL) != 0) {
			uint32_t *nums = i_new(uint32_t, seqs->count);

			for (size_t i = 0; i < seqs->count; i++)
				nums[i] = result_num(cmd, seqs->v[i]);
			str_append(str, " ALL ");
			imap_write_seq_range(str, nums, seqs->count);
			i_free(nums);
		}
	}
	if ((opts & SEARCH_RETURN_COUNT) != 0)
		str_printfa(str, " COUNT %zu", seqs->count);
	if (ctx->modseq && seqs->count > 0)
		str_printfa(str, " MODSEQ %llu", (unsigned long long)
			    imap_search_run_highest_modseq(ctx->run));
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
}

static void search_send_result(struct client_command_context *cmd,
			       struct search_cmd_ctx *ctx)
{
	const ARRAY_U32 *seqs = imap_search_run_result(ctx->run);
	string_t *str;

	if ((ctx->opts & SEARCH_RETURN_SAVE) != 0)
		search_save(cmd->client, ctx->opts, seqs);
	if ((ctx->opts & SEARCH_RETURN_ESEARCH) != 0) {
		if ((ctx->opts & ~(SEARCH_RETURN_ESEARCH |
				   SEARCH_RETURN_SAVE)) != 0)
			search_send_esearch(cmd, ctx, seqs);
		return;
	}
	str = str_new(16 + seqs->count * 6);
	str_append(str, "* SEARCH");
	for (size_t i = 0; i < seqs->count; i++)
		str_printfa(str, " %u", result_num(cmd, seqs->v[i]));
	if (ctx->modseq && seqs->count > 0)
		str_printfa(str, " (MODSEQ %llu)", (unsigned long long)
			    imap_search_run_highest_modseq(ctx->run));
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
		cmd->yield = true;
		return false;
	}
	if (ret < 0) {
		if ((ctx->opts & SEARCH_RETURN_SAVE) != 0) {
			array_clear(&cmd->client->search_saved);
			cmd->client->search_saved_valid = true;
		}
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
	enum search_return opts = 0;
	const char *charset = NULL, *error;
	bool badcharset;

	if (imap_arg_atom_equals(&args[0], "RETURN") &&
	    imap_arg_get_list(&args[1], &list)) {
		if (parse_return(list, &opts, &error) < 0)
			return search_bad(cmd, error);
		args += 2;
	}
	if (imap_arg_atom_equals(&args[0], "CHARSET")) {
		if (!imap_arg_get_astring(&args[1], &charset))
			return search_bad(cmd, "Invalid charset argument");
		args += 2;
	}
	if (imap_search_args_build(cmd, args, charset, &sargs,
				   &badcharset) < 0) {
		if (badcharset && (opts & SEARCH_RETURN_SAVE) != 0) {
			array_clear(&client->search_saved);
			client->search_saved_valid = true;
		}
		return true;
	}
	ctx = p_new(cmd->pool, struct search_cmd_ctx, 1);
	ctx->opts = opts;
	ctx->modseq = imap_search_args_have_modseq(sargs);
	if (ctx->modseq)
		search_enable_condstore(client);
	ctx->run = imap_search_run_init(client, sargs);
	cmd->context = ctx;
	cmd->cleanup = search_cleanup;
	cmd->func = cmd_search_more;
	return cmd_search_more(cmd);
}

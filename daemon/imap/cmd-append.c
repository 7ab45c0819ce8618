/* cmd-append.c - APPEND with MULTIAPPEND (RFC 3502), LITERAL+ and
 * literal8: each message literal streams from the input buffer into the
 * storage as it arrives (never held whole in memory), all messages of
 * the command commit in one transaction (APPENDUID), and a client that
 * goes away mid-command leaves nothing saved. Errors, and which literals
 * are still read after one, follow Dovecot. CATENATE (RFC 4469): a
 * message made of TEXT literals (streamed as they come: the parser stops
 * at each one inside the list) and URL parts (imap-catenate.c). */
#include "imap-save.h"

#include <stdio.h>
#include <time.h>

/* an INTERNALDATE further in the future than this becomes "now" */
#define APPEND_MAX_FUTURE_SECS (2 * 3600)

enum append_state {
	APPEND_STATE_NAME,	/* reading the mailbox name literal */
	APPEND_STATE_LITERAL,	/* reading a message literal */
	APPEND_STATE_PARSE,	/* parsing the args after a literal */
};

struct append_context {
	enum append_state state;
	struct mailbox *box;
	bool own_box;
	struct mailbox_transaction *t;
	struct mail_save_context *save;
	/* the tagged reply is set: later literals are only skipped */
	bool failed;
	/* a save that failed mid-literal: its error is sent after it */
	bool save_failed;
	uint64_t literal_size, literal_left;
	string_t *name;		/* APPEND_STATE_NAME */
	/* CATENATE: the message being put together; the literal being
	   read is one of its TEXT parts */
	bool catenate, cat_literal;
	/* the CATENATE list is APPEND's UTF8 (literal8) of RFC 6855 */
	bool utf8;
	unsigned int cat_done;	/* list elements handled */
	size_t cat_index;	/* the CATENATE atom in the parser's args */
	const struct imap_arg *args_base;	/* the parser's args */
	/* REPLACE (RFC 8508): the UID of the message to replace */
	uint32_t replace_uid;
	unsigned int count;
	time_t started;
};

static bool append_parse_msg(struct client_command_context *cmd,
			     const struct imap_arg *args);
static bool append_catenate_continue(struct client_command_context *cmd,
				     const struct imap_arg *cat_arg);

static enum imap_parse_flags append_parse_flags(struct imap_client *client)
{
	return IMAP_PARSE_FLAG_LITERAL_SIZE | IMAP_PARSE_FLAG_LITERAL8 |
		(client->set->imap_literal_minus ?
		 IMAP_PARSE_FLAG_LITERAL_MINUS : 0);
}

static void append_cleanup(struct client_command_context *cmd)
{
	struct append_context *ctx = cmd->context;

	if (ctx == NULL)
		return;
	cmd->context = NULL;
	mailbox_save_cancel(&ctx->save);
	if (ctx->t != NULL)
		mailbox_transaction_rollback(&ctx->t);
	if (ctx->own_box)
		mailbox_free(&ctx->box);
	if (ctx->name != NULL)
		str_free(&ctx->name);
	i_free(ctx);
}

/* cmd->status: for the log line of a client that goes away mid-APPEND
 * (Dovecot's text) */
static const char *append_status(struct client_command_context *cmd)
{
	static char buf[128];
	struct append_context *ctx = cmd->context;
	int n;

	n = snprintf(buf, sizeof(buf), "While APPENDing: %u msgs, %u secs",
		     ctx->count, (unsigned int)(time(NULL) - ctx->started));
	if (ctx->literal_size > 0 && n > 0 && (size_t)n < sizeof(buf)) {
		uint64_t done = ctx->state == APPEND_STATE_LITERAL ?
			ctx->literal_size - ctx->literal_left : 0;

		snprintf(buf + n, sizeof(buf) - (size_t)n,
			 ", %llu/%llu bytes", (unsigned long long)done,
			 (unsigned long long)ctx->literal_size);
	}
	return buf;
}

/* REPLACE: the new message is saved; the old one goes (its EXPUNGE
 * comes with the sync). */
static void replace_finish(struct client_command_context *cmd,
			   struct mail_transaction_commit_changes *changes)
{
	struct append_context *ctx = cmd->context;
	struct imap_client *client = cmd->client;
	struct mailbox_transaction *t;
	struct mail *mail;
	uint32_t seq;

	if (changes->saved_uids.count > 0) {
		string_t *str = str_new(64);

		str_printfa(str, "* OK [APPENDUID %u ", changes->uidvalidity);
		imap_save_write_uidset(str, &changes->saved_uids);
		str_append(str, "] Replacement Message ready");
		client_send_line(client, str_c(str));
		str_free(&str);
	}
	seq = mailbox_uid_to_seq(client->mailbox, ctx->replace_uid);
	if (seq == 0) {
		cmd_ok(cmd, "Replace completed");
		return;
	}
	t = mailbox_transaction_begin(client->mailbox);
	mail = mail_alloc(client->mailbox);
	mail_set_seq(mail, seq);
	mail_expunge(t, mail);
	mail_free(&mail);
	if (mailbox_transaction_commit(&t, NULL) < 0) {
		cmd_no_storage_error(cmd, client->mailbox);
		return;
	}
	client->expunged++;
	/* RFC 8508 wants the EXPUNGE now, also after REPLACE by sequence
	   number (the core holds expunges back after such commands) */
	imap_sync(client, false);
	cmd_ok(cmd, "Replace completed");
}

/* After the last message: commit and answer. */
static bool append_finish(struct client_command_context *cmd)
{
	struct append_context *ctx = cmd->context;
	struct mail_transaction_commit_changes changes;
	string_t *str;

	if (ctx->failed)
		return true;
	if (ctx->count == 0)
		return imap_save_cmd_error(cmd, "Missing message size");
	if (mailbox_transaction_commit(&ctx->t, &changes) < 0) {
		mail_transaction_commit_changes_free(&changes);
		return cmd_no_storage_error(cmd, ctx->box);
	}
	if (ctx->replace_uid != 0) {
		replace_finish(cmd, &changes);
		mail_transaction_commit_changes_free(&changes);
		return true;
	}
	str = str_new(128);
	if (changes.saved_uids.count == 0) {
		str_append(str, "Append completed.");
	} else {
		str_printfa(str, "[APPENDUID %u ", changes.uidvalidity);
		imap_save_write_uidset(str, &changes.saved_uids);
		str_append(str, "] Append completed.");
	}
	cmd_ok(cmd, str_c(str));
	str_free(&str);
	mail_transaction_commit_changes_free(&changes);
	return true;
}

/* A message literal of size follows: set up reading it. */
static bool append_read_literal(struct client_command_context *cmd,
				const struct imap_arg *literal)
{
	struct append_context *ctx = cmd->context;

	if (literal->literal_sync) {
		/* refused: the client won't send it */
		if (ctx->failed)
			return true;
		client_send_line(cmd->client, "+ OK");
	}
	ctx->literal_size = ctx->literal_left = literal->literal_size;
	ctx->state = APPEND_STATE_LITERAL;
	return false;
}

/* "31-Feb-2023 ..." parses but names no day: Dovecot saves such a
 * message with the current time. */
static bool append_date_exists(const char *str, time_t date, int tz)
{
	time_t local = date + (time_t)tz * 60;
	struct tm tm;
	int day;

	if (sscanf(str, " %d", &day) != 1 || gmtime_r(&local, &tm) == NULL)
		return false;
	return tm.tm_mday == day;
}

/* [(flags)] ["date-time"] literal: start saving the message. */
static bool append_parse_msg(struct client_command_context *cmd,
			     const struct imap_arg *args)
{
	struct append_context *ctx = cmd->context;
	const struct imap_arg *flags_list = NULL, *literal;
	const char *date_str = NULL, *error;
	enum mail_flags flags = 0;
	ARRAY_STR keywords = ARRAY_INIT;
	time_t date = (time_t)-1;
	int tz = 0;
	bool catenate = false;

	if (imap_arg_is_eol(args))
		return append_finish(cmd);
	if (ctx->replace_uid != 0 && ctx->count > 0) {
		/* REPLACE takes one message */
		if (!ctx->failed)
			(void)imap_save_cmd_error(cmd, "Invalid arguments");
		return true;
	}
	if (imap_arg_get_list(args, &flags_list))
		args++;
	if (args->type == IMAP_ARG_STRING) {
		date_str = args->str;
		args++;
	}
	literal = args;
	if (imap_arg_atom_equals(args, "CATENATE") ||
	    (imap_arg_atom_equals(args, "UTF8") &&
	     (cmd->client->enabled & IMAP_ENABLED_UTF8_ACCEPT) != 0)) {
		catenate = true;
		ctx->utf8 = imap_arg_atom_equals(args, "UTF8");
		if (args[1].type != IMAP_ARG_LIST &&
		    !(imap_arg_is_eol(&args[1]) &&
		      imap_parser_literal_pending(cmd->client->parser))) {
			if (!ctx->failed)
				(void)imap_save_cmd_error(cmd, "Invalid arguments");
			return true;
		}
		if (args[1].type == IMAP_ARG_LIST && args[1].list_count == 0) {
			if (!ctx->failed)
				(void)imap_save_cmd_error(cmd,
							  "Empty CATENATE list");
			return true;
		}
	} else if (literal->type != IMAP_ARG_LITERAL_SIZE ||
	    !imap_arg_is_eol(&args[1])) {
		if (!ctx->failed)
			(void)imap_save_cmd_error(cmd, "Invalid arguments.");
		return true;
	}
	if (flags_list != NULL && !ctx->failed) {
		if (imap_save_parse_flags(flags_list, &flags, &keywords,
					  &error) < 0) {
			array_free(&keywords);
			return imap_save_cmd_error(cmd, error);
		}
		if (imap_save_check_keywords(cmd->client, &keywords,
					     &error) < 0) {
			/* a storage error: the literal is still read */
			char *text = i_strdup_printf("[CANNOT] %s", error);

			cmd_no(cmd, text);
			i_free(text);
			ctx->failed = true;
		}
	}
	if (date_str != NULL && !ctx->failed) {
		if (!imap_parse_datetime(date_str, &date, &tz)) {
			array_free(&keywords);
			return imap_save_cmd_error(cmd, "Invalid internal date.");
		}
		if (date > time(NULL) + APPEND_MAX_FUTURE_SECS ||
		    !append_date_exists(date_str, date, tz)) {
			date = (time_t)-1;
			tz = 0;
		}
	}
	if (!catenate && literal->literal_size == 0 && !ctx->failed) {
		cmd_no(cmd, "Can't save a zero byte message.");
		ctx->failed = true;
	}
	if (!ctx->failed) {
		array_push(&keywords, NULL);
		ctx->save = mailbox_save_alloc(ctx->t);
		mailbox_save_set_flags(ctx->save, flags, keywords.v);
		mailbox_save_set_received_date(ctx->save, date, tz);
		if (mailbox_save_begin(ctx->save) < 0) {
			mailbox_save_cancel(&ctx->save);
			cmd_no_storage_error(cmd, ctx->box);
			ctx->failed = true;
		}
	}
	array_free(&keywords);
	if (catenate) {
		ctx->catenate = true;
		ctx->cat_done = 0;
		ctx->cat_index = (size_t)(args - ctx->args_base);
		return append_catenate_continue(cmd, args);
	}
	ctx->count++;
	return append_read_literal(cmd, literal);
}

/* The message's save is complete (or failed). */
static void append_save_done(struct client_command_context *cmd)
{
	struct append_context *ctx = cmd->context;

	if (ctx->save_failed) {
		ctx->save_failed = false;
		if (!ctx->failed)
			cmd_no_storage_error(cmd, ctx->box);
		ctx->failed = true;
	} else if (ctx->save != NULL && mailbox_save_finish(&ctx->save) < 0) {
		if (!ctx->failed)
			cmd_no_storage_error(cmd, ctx->box);
		ctx->failed = true;
	}
	mailbox_save_cancel(&ctx->save);
}

/* A part failed: the rest of the command is only read. */
static void append_catenate_fail(struct client_command_context *cmd,
				 const char *bad, const char *no)
{
	struct append_context *ctx = cmd->context;

	if (!ctx->failed) {
		if (bad != NULL)
			(void)imap_save_cmd_error(cmd, bad);
		else
			cmd_no(cmd, no);
	}
	ctx->failed = true;
	mailbox_save_cancel(&ctx->save);
}

/* The CATENATE list parts not handled yet: URLs are appended, a TEXT
 * literal at the end of an open list is read next. cat_arg is the
 * CATENATE atom in the current args. */
static bool append_catenate_continue(struct client_command_context *cmd,
				     const struct imap_arg *cat_arg)
{
	struct append_context *ctx = cmd->context;
	const struct imap_arg *list;
	unsigned int count, i;
	bool complete = cat_arg[1].type == IMAP_ARG_LIST;

	if (complete) {
		list = cat_arg[1].list;
		count = cat_arg[1].list_count;
	} else {
		list = imap_parser_get_open_list(cmd->client->parser, &count);
	}
	if (ctx->utf8) {
		/* UTF8 (~{n}): exactly one literal */
		if (!complete && count == 1 && ctx->cat_done == 0 &&
		    list[0].type == IMAP_ARG_LITERAL_SIZE) {
			ctx->cat_done = 1;
			ctx->cat_literal = true;
			return append_read_literal(cmd, &list[0]);
		}
		if (!complete || count != 1 || ctx->cat_done != 1) {
			append_catenate_fail(cmd, "Invalid arguments", NULL);
			return true;
		}
		i = count;
	} else {
		i = ctx->cat_done;
	}
	for (; i < count; i += 2) {
		const char *url, *error;

		if (i + 1 < count && imap_arg_atom_equals(&list[i], "TEXT") &&
		    list[i + 1].type == IMAP_ARG_LITERAL_SIZE &&
		    !complete && i + 2 == count) {
			/* stream the literal into the message */
			ctx->cat_done = count;
			ctx->cat_literal = true;
			return append_read_literal(cmd, &list[i + 1]);
		}
		if (i + 1 < count && imap_arg_atom_equals(&list[i], "URL") &&
		    imap_arg_get_astring(&list[i + 1], &url)) {
			string_t *str;

			if (ctx->failed)
				continue;
			str = str_new(1024);
			if (imap_catenate_url(cmd, url, str, &error) < 0)
				append_catenate_fail(cmd, NULL, error);
			else if (ctx->save != NULL &&
				 mailbox_save_continue(ctx->save, str_c(str),
						       str_len(str)) < 0) {
				mailbox_save_cancel(&ctx->save);
				ctx->save_failed = true;
			}
			str_free(&str);
			continue;
		}
		append_catenate_fail(cmd, "Invalid arguments", NULL);
		return true;
	}
	if (!complete) {
		/* an open list stops only at a literal */
		append_catenate_fail(cmd, "Invalid arguments", NULL);
		return true;
	}
	ctx->catenate = false;
	ctx->utf8 = false;
	ctx->cat_done = 0;
	append_save_done(cmd);
	ctx->count++;
	return append_parse_msg(cmd, cat_arg + 2);
}

/* The message literal ended. */
static void append_literal_done(struct client_command_context *cmd)
{
	struct append_context *ctx = cmd->context;

	ctx->state = APPEND_STATE_PARSE;
	if (ctx->cat_literal) {
		/* a TEXT part: the list goes on */
		ctx->cat_literal = false;
		return;
	}
	append_save_done(cmd);
	imap_parser_reset(cmd->client->parser);
}

/* Message bytes from the input buffer into the save. */
static bool append_input_literal(struct client_command_context *cmd)
{
	struct append_context *ctx = cmd->context;
	struct connection *conn = cmd->client->conn;
	size_t n = conn->in_len;

	if (n > ctx->literal_left)
		n = (size_t)ctx->literal_left;
	if (ctx->save != NULL &&
	    mailbox_save_continue(ctx->save, conn->inbuf, n) < 0) {
		/* keep reading the client's bytes; the error comes after */
		mailbox_save_cancel(&ctx->save);
		ctx->save_failed = true;
	}
	cmd->client->in_bytes += n;
	connection_input_skip(conn, n);
	ctx->literal_left -= n;
	if (ctx->literal_left > 0)
		return false;
	append_literal_done(cmd);
	return true;
}

/* The mailbox name was a literal: collect it, then open the mailbox. */
static bool append_input_name(struct client_command_context *cmd)
{
	struct append_context *ctx = cmd->context;
	struct connection *conn = cmd->client->conn;
	size_t n = conn->in_len;

	if (n > ctx->literal_left)
		n = (size_t)ctx->literal_left;
	str_append_n(ctx->name, conn->inbuf, n);
	cmd->client->in_bytes += n;
	connection_input_skip(conn, n);
	ctx->literal_left -= n;
	if (ctx->literal_left > 0)
		return false;
	ctx->box = imap_save_open_dest(cmd, str_c(ctx->name), &ctx->own_box);
	if (ctx->box == NULL)
		ctx->failed = true;
	else
		ctx->t = mailbox_transaction_begin(ctx->box);
	imap_parser_reset(cmd->client->parser);
	ctx->state = APPEND_STATE_PARSE;
	return true;
}

/* Parse what follows a literal: CRLF, or the next message's args. */
static bool append_input_parse(struct client_command_context *cmd,
			       bool *done_r)
{
	struct imap_client *client = cmd->client;
	struct connection *conn = client->conn;
	const struct imap_arg *args;
	size_t used;
	int ret;

	*done_r = false;
	ret = imap_parser_read(client->parser,
			       (const unsigned char *)conn->inbuf, conn->in_len,
			       &used, append_parse_flags(client), 0);
	client->in_bytes += used;
	connection_input_skip(conn, used);
	if (ret < 0) {
		struct append_context *ctx = cmd->context;
		bool fatal;
		const char *error = imap_parser_get_error(client->parser, &fatal);

		if (fatal) {
			client_send_linef(client, "* BYE %s", error);
			client_disconnect(client, error);
		}
		if (!ctx->failed)
			(void)imap_save_cmd_error(cmd, error);
		client->skip_line = !imap_parser_is_line_done(client->parser);
		*done_r = true;
		return true;
	}
	if (ret == 0 && !imap_parser_literal_pending(client->parser))
		return false;
	args = imap_parser_get_args(client->parser, NULL);
	{
		struct append_context *ctx = cmd->context;

		ctx->args_base = args;
		if (ctx->catenate) {
			*done_r = append_catenate_continue(cmd,
							   args + ctx->cat_index);
		} else {
			*done_r = append_parse_msg(cmd, args);
		}
	}
	return true;
}

/* cmd->input: runs while the command reads its literals and args.
 * Returns true when it made progress (finished: cmd->finished). */
static bool append_input(struct client_command_context *cmd)
{
	struct append_context *ctx = cmd->context;
	struct connection *conn = cmd->client->conn;
	bool done = false;

	while (conn != NULL && !done) {
		if (ctx->state == APPEND_STATE_PARSE) {
			if (conn->in_len == 0 ||
			    !append_input_parse(cmd, &done))
				return false;
			continue;
		}
		if (conn->in_len == 0 && ctx->literal_left > 0)
			return false;
		if (ctx->state == APPEND_STATE_NAME)
			(void)append_input_name(cmd);
		else if (!append_input_literal(cmd))
			return false;
	}
	if (conn == NULL)
		return false;
	cmd->input = NULL;
	cmd->finished = true;
	return true;
}

/* APPEND's args (or REPLACE's after the message number) */
static bool append_start(struct client_command_context *cmd,
			 const struct imap_arg *args, uint32_t replace_uid)
{
	struct imap_client *client = cmd->client;
	struct append_context *ctx;
	const char *name;

	if (imap_arg_is_eol(&args[0]))
		return imap_save_cmd_error(cmd, "Missing arguments");
	ctx = i_new(struct append_context, 1);
	ctx->started = time(NULL);
	ctx->replace_uid = replace_uid;
	cmd->context = ctx;
	cmd->cleanup = append_cleanup;
	cmd->status = append_status;
	if (args[0].type == IMAP_ARG_LITERAL_SIZE && !args[0].literal8) {
		/* APPEND {5}\r\nINBOX ...: the name, then the rest of the
		   line */
		if (args[0].literal_size > client->set->imap_max_line_length &&
		    client->set->imap_max_line_length != 0)
			return imap_save_cmd_error(cmd, "Too long argument.");
		ctx->name = str_new(64);
		ctx->state = APPEND_STATE_NAME;
		ctx->literal_left = args[0].literal_size;
		if (args[0].literal_sync)
			client_send_line(client, "+ OK");
		cmd->input = append_input;
		return false;
	}
	if (!imap_arg_get_astring(&args[0], &name))
		return cmd_bad_args(cmd);
	/* the core's args start after the tag and the name */
	ctx->args_base = cmd->args - (cmd->uid ? 3 : 2);
	ctx->box = imap_save_open_dest(cmd, name, &ctx->own_box);
	if (ctx->box == NULL)
		ctx->failed = true;
	else
		ctx->t = mailbox_transaction_begin(ctx->box);
	if (append_parse_msg(cmd, &args[1]))
		return true;
	cmd->input = append_input;
	return false;
}

bool cmd_append(struct client_command_context *cmd)
{
	return append_start(cmd, cmd->args, 0);
}

/* REPLACE / UID REPLACE (RFC 8508): APPEND of one message, then the
 * message named is expunged. */
bool cmd_replace(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	ARRAY_U32 seqs = ARRAY_INIT;
	const char *set, *error;
	uint32_t uid;

	if (!imap_arg_get_atom(&cmd->args[0], &set) ||
	    imap_arg_is_eol(&cmd->args[1]))
		return imap_save_cmd_error(cmd, "Invalid arguments");
	if (imap_seqset_parse(client, set, cmd->uid, &seqs, &error) < 0) {
		array_free(&seqs);
		return imap_save_cmd_error(cmd, error);
	}
	if (seqs.count != 1) {
		array_free(&seqs);
		if (seqs.count == 0 && cmd->uid)
			return cmd_no(cmd, "Message not found");
		return imap_save_cmd_error(cmd, "Invalid messageset");
	}
	uid = mailbox_seq_to_uid(client->mailbox, seqs.v[0]);
	array_free(&seqs);
	return append_start(cmd, cmd->args + 1, uid);
}

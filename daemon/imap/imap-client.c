/* imap-client.c - a logged-in IMAP session: reading commands through
 * the incremental parser (literals answered with "+ OK" before they are
 * read, limits checked first), running them one at a time in order
 * (pipelined commands wait in the input buffer), streaming long replies
 * with backpressure, syncing the selected mailbox before each tagged
 * reply, and Dovecot's logout line. */
#include "imap-common.h"
#include "imap-plugins.h"
#include "imap-search-return.h"
#include "var-expand.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static void client_idle_timeout(void *context);
static bool client_command_finish(struct client_command_context *cmd);

/* Dovecot's post-login capabilities, in its order. The ones Roost does
 * not implement yet are left out (issue 7 adds them). */
static const struct {
	const char *name;
	bool implemented;
} capabilities[] = {
	{ "IMAP4rev1", true }, { "IMAP4rev2", true }, { "SASL-IR", true },
	{ "LOGIN-REFERRALS", true }, { "ID", true }, { "ENABLE", true },
	{ "IDLE", true }, { "SORT", true }, { "SORT=DISPLAY", true },
	{ "THREAD=REFERENCES", true }, { "THREAD=REFS", true },
	{ "THREAD=ORDEREDSUBJECT", true }, { "MULTIAPPEND", true },
	{ "URL-PARTIAL", true }, { "CATENATE", true },
	{ "UNSELECT", true }, { "CHILDREN", true }, { "NAMESPACE", true },
	{ "UIDPLUS", true }, { "LIST-EXTENDED", true },
	{ "I18NLEVEL=1", true }, { "CONDSTORE", true }, { "QRESYNC", true },
	{ "ESEARCH", true }, { "ESORT", true }, { "SEARCHRES", true },
	{ "WITHIN", true }, { "CONTEXT=SEARCH", true },
	{ "LIST-STATUS", true }, { "BINARY", true }, { "MOVE", true },
	{ "SNIPPET=FUZZY", true }, { "PREVIEW=FUZZY", true },
	{ "PREVIEW", true }, { "STATUS=SIZE", true }, { "SAVEDATE", true },
	{ "LITERAL+", true }, { "NOTIFY", true },
	/* beyond Dovecot 2.3 */
	{ "OBJECTID", true }, { "REPLACE", true }, { "UTF8=ACCEPT", true },
	{ "INPROGRESS", true },
};

const char *imap_client_capability(const struct settings_root *set)
{
	static char result[1024];
	const char *custom = set->imap_capability;
	string_t *str;

	if (custom[0] != '\0' && custom[0] != '+') {
		str = str_new(512);
		str_append(str, custom);
		imap_plugins_capability(set, str);
		snprintf(result, sizeof(result), "%s", str_c(str));
		str_free(&str);
		return result;
	}
	str = str_new(512);
	for (unsigned int i = 0; i < N_ELEMENTS(capabilities); i++) {
		const char *name = capabilities[i].name;

		if (!capabilities[i].implemented)
			continue;
		if (strcmp(name, "LITERAL+") == 0 && set->imap_literal_minus)
			name = "LITERAL-";
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, name);
	}
	if (custom[0] == '+' && custom[1] != '\0') {
		str_append_c(str, ' ');
		str_append(str, custom + 1);
	}
	if (imap_urlauth_enabled(set))
		str_append(str, " URLAUTH URLAUTH=BINARY");
	if (set->imap_metadata)
		str_append(str, " METADATA");
	/* as Dovecot: announced when a namespace has special-use mailboxes */
	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct settings_namespace *ns = set->namespace[i];
		bool found = false;

		for (unsigned int j = 0; j < ns->mailbox_count && !found; j++)
			found = ns->mailbox[j]->special_use[0] != '\0';
		if (found) {
			str_append(str, " SPECIAL-USE");
			break;
		}
	}
	imap_plugins_capability(set, str);
	snprintf(result, sizeof(result), "%s", str_c(str));
	str_free(&str);
	return result;
}

void client_set_log_prefix(struct imap_client *client)
{
	log_set_prefix(client->log_prefix);
}

/* ---- output ---- */

void client_send_data(struct imap_client *client, const void *data,
		      size_t size)
{
	if (client->conn == NULL)
		return;
	client->out_bytes += size;
	connection_send(client->conn, data, size);
}

void client_send_line(struct imap_client *client, const char *line)
{
	size_t len = strlen(line);
	char *buf = i_malloc(len + 2);

	memcpy(buf, line, len);
	memcpy(buf + len, "\r\n", 2);
	client_send_data(client, buf, len + 2);
	i_free(buf);
}

void client_send_linef(struct imap_client *client, const char *fmt, ...)
{
	va_list args;
	char *line;

	va_start(args, fmt);
	line = i_strdup_vprintf(fmt, args);
	va_end(args);
	client_send_line(client, line);
	i_free(line);
}

bool client_output_full(struct imap_client *client)
{
	return client->conn == NULL ||
		connection_output_queued(client->conn) >= IMAP_OUTPUT_BUFFER / 2;
}

/* ---- replies ---- */

bool cmd_reply(struct client_command_context *cmd, const char *status,
	       const char *text)
{
	cmd->reply_status = status;
	cmd->reply_text = p_strdup(cmd->pool, text);
	cmd->finished = true;
	return true;
}

bool cmd_ok(struct client_command_context *cmd, const char *text)
{
	return cmd_reply(cmd, "OK", text);
}

bool cmd_no(struct client_command_context *cmd, const char *text)
{
	return cmd_reply(cmd, "NO", text);
}

bool cmd_bad(struct client_command_context *cmd, const char *text)
{
	return cmd_reply(cmd, "BAD", text);
}

bool cmd_bad_error(struct client_command_context *cmd, const char *error)
{
	char *text = i_strdup_printf("Error in IMAP command %s: %s",
				     cmd->name, error);

	cmd_bad(cmd, text);
	i_free(text);
	return true;
}

bool cmd_bad_args(struct client_command_context *cmd)
{
	return cmd_bad_error(cmd, "Invalid arguments.");
}

static const char *mail_error_code(enum mail_error error)
{
	switch (error) {
	case MAIL_ERROR_NONE:
	case MAIL_ERROR_TEMP:
		return "SERVERBUG";
	case MAIL_ERROR_NOTPOSSIBLE:
		return "CANNOT";
	case MAIL_ERROR_PARAMS:
		return "CANNOT";
	case MAIL_ERROR_PERM:
		return "NOPERM";
	case MAIL_ERROR_NOQUOTA:
		return "OVERQUOTA";
	case MAIL_ERROR_NOTFOUND:
		return "NONEXISTENT";
	case MAIL_ERROR_EXISTS:
		return "ALREADYEXISTS";
	case MAIL_ERROR_EXPUNGED:
		return "EXPUNGEISSUED";
	case MAIL_ERROR_INUSE:
		return "INUSE";
	case MAIL_ERROR_LIMIT:
		return "LIMIT";
	}
	return "SERVERBUG";
}

bool cmd_no_storage_error(struct client_command_context *cmd,
			  struct mailbox *box)
{
	enum mail_error error;
	const char *text, *code;
	char *line;

	if (box != NULL) {
		text = mailbox_get_last_error(box, &error);
	} else {
		error = cmd->client->user->error;
		text = cmd->client->user->error_text;
	}
	if (text == NULL || text[0] == '\0')
		text = "Internal error occurred. Refer to server log for more information.";
	code = mail_error_code(error);
	if ((error == MAIL_ERROR_TEMP &&
	     strncmp(text, "Internal error occurred.", 24) == 0) ||
	    error == MAIL_ERROR_NONE) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		line = i_strdup_printf("[SERVERBUG] Internal error occurred. "
				       "Refer to server log for more "
				       "information. [%s]", stamp);
	} else if ((error == MAIL_ERROR_NOTFOUND ||
		    strcmp(text, "Mailbox isn't selectable") == 0) &&
		   (strncmp(text, "Mailbox doesn't exist", 21) == 0 ||
		    strcmp(text, "Mailbox isn't selectable") == 0) &&
		   cmd->command != NULL &&
		   (strcmp(cmd->command->name, "SELECT") == 0 ||
		    strcmp(cmd->command->name, "EXAMINE") == 0 ||
		    strcmp(cmd->command->name, "STATUS") == 0 ||
		    strcmp(cmd->command->name, "SUBSCRIBE") == 0)) {
		/* Dovecot sends these without a code */
		line = i_strdup(text);
	} else {
		line = i_strdup_printf("[%s] %s", code, text);
	}
	cmd_no(cmd, line);
	i_free(line);
	return true;
}

/* ---- commands ---- */

static uint64_t now_usecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static struct client_command_context *client_command_new(struct imap_client *client)
{
	struct client_command_context *cmd = i_new(struct client_command_context, 1);

	cmd->client = client;
	cmd->pool = pool_create("imap command", 1024);
	cmd->start_usecs = now_usecs();
	client->cmd = cmd;
	client->commands_count++;
	client->parse_stage = 0;
	return cmd;
}

static void client_command_free(struct imap_client *client)
{
	struct client_command_context *cmd = client->cmd;

	if (cmd == NULL)
		return;
	if (cmd->cleanup != NULL)
		cmd->cleanup(cmd);
	client->cmd = NULL;
	pool_destroy(&cmd->pool);
	i_free(cmd);
	imap_parser_reset(client->parser);
	client->parse_stage = 0;
}

static void client_send_tagline(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	uint64_t usecs = now_usecs() - cmd->start_usecs;
	const char *tag = cmd->tag == NULL ? "*" : cmd->tag;
	const char *text = cmd->reply_text;
	size_t len = strlen(text);

	/* the timing goes before the text's final '.' ("Invalid
	   arguments." -> "Invalid arguments (0.001 + 0.000 secs).") */
	if (len > 0 && text[len - 1] == '.')
		len--;
	client_send_linef(client, "%s %s %.*s (%u.%03u + 0.000 secs).", tag,
			  cmd->reply_status, (int)len, text,
			  (unsigned int)(usecs / 1000000),
			  (unsigned int)(usecs / 1000 % 1000));
}

static bool client_bad_limit(struct imap_client *client)
{
	if (++client->bad_counter < IMAP_MAX_BAD_COMMANDS)
		return false;
	client_send_line(client, "* BYE Too many invalid IMAP commands.");
	client_disconnect(client, "Too many invalid IMAP commands.");
	return true;
}

/* The command finished: sync, tagged reply, ready for the next. Returns
 * false if the client is going away. */
static bool client_command_finish(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	bool bad = strcmp(cmd->reply_status, "BAD") == 0;

	if (client->conn != NULL)
		connection_cork(client->conn, true);
	if (!bad && cmd->command != NULL &&
	    (cmd->command->flags & COMMAND_FLAG_NO_SYNC) == 0 &&
	    client->mailbox != NULL) {
		imap_sync(client, cmd->sync_no_expunges ||
			  ((cmd->command->flags & COMMAND_FLAG_USES_SEQS) != 0 &&
			   !cmd->uid));
	}
	imap_notify_command_end(client);
	client_send_tagline(cmd);
	if (client->bye_after_reply != NULL)
		client_send_linef(client, "* BYE %s", client->bye_after_reply);
	if (client->conn != NULL)
		connection_cork(client->conn, false);
	client_command_free(client);
	if (client->logout_pending)
		client_disconnect(client, "Logged out");
	else if (client->bye_after_reply != NULL)
		client_disconnect(client, client->bye_after_reply);
	if (client->logging_out)
		return false;
	if (bad) {
		if (client_bad_limit(client))
			return false;
	} else {
		client->bad_counter = 0;
	}
	if (client->conn != NULL) {
		connection_want_output(client->conn, false);
		connection_pause(client->conn, false);
	}
	return true;
}

/* A parse error before the command ran: BAD now, then skip its line. */
static bool client_parse_error(struct imap_client *client, const char *text,
			       bool fatal)
{
	struct client_command_context *cmd = client->cmd;
	bool line_done = imap_parser_is_line_done(client->parser);

	if (fatal) {
		client_send_linef(client, "* BYE %s", text);
		client_disconnect(client, text);
		return false;
	}
	cmd_bad(cmd, text);
	client_send_tagline(cmd);
	client_command_free(client);
	client->skip_line = !line_done;
	return !client_bad_limit(client);
}

static void client_command_run(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const struct command *command = cmd->command;

	if ((command->flags & COMMAND_FLAG_SELECTED) != 0 &&
	    client->mailbox == NULL) {
		cmd_bad(cmd, "No mailbox selected");
	} else {
		cmd->func = command->func;
		if (!cmd->func(cmd) && cmd->input != NULL) {
			/* waits for input (IDLE's DONE, APPEND data) */
			return;
		} else if (!cmd->finished) {
			/* streaming: continue as the output drains */
			connection_pause(client->conn, true);
			connection_want_output(client->conn, true);
			return;
		}
	}
	if (cmd->finished)
		(void)client_command_finish(cmd);
}

static enum imap_parse_flags client_parse_flags(struct imap_client *client,
						const char *name)
{
	enum imap_parse_flags flags = 0;

	if (client->set->imap_literal_minus)
		flags |= IMAP_PARSE_FLAG_LITERAL_MINUS;
	if (name != NULL && (strcasecmp(name, "APPEND") == 0 ||
			     strcasecmp(name, "REPLACE") == 0 ||
			     strcasecmp(name, "UID REPLACE") == 0))
		flags |= IMAP_PARSE_FLAG_LITERAL_SIZE | IMAP_PARSE_FLAG_LITERAL8;
	return flags;
}

static bool valid_tag(const char *tag)
{
	for (const char *p = tag; *p != '\0'; p++) {
		if (*p == '+' || *p == '*' || *p == '%' || *p == '\\' ||
		    *p == ']' || *p == '[')
			return false;
	}
	return tag[0] != '\0';
}

/* Read and run commands from the buffered input. Returns false if the
 * client was freed. */
static bool client_handle_input(struct imap_client *client)
{
	struct connection *conn = client->conn;

	while (conn != NULL && conn->in_len > 0 && !conn->paused &&
	       !conn->disconnected && !client->logging_out) {
		struct client_command_context *cmd = client->cmd;
		const struct imap_arg *args;
		unsigned int count;
		size_t used;
		int ret;

		if (cmd != NULL && cmd->input != NULL) {
			size_t before = conn->in_len;

			if (cmd->input(cmd) && cmd->finished) {
				if (!client_command_finish(cmd))
					return !client->destroying;
				continue;
			}
			if (conn->in_len == before)
				break;
			continue;
		}
		if (client->skip_line) {
			bool found;

			used = imap_parser_skip_line((const unsigned char *)conn->inbuf,
						     conn->in_len, &found);
			client->in_bytes += used;
			connection_input_skip(conn, used);
			client->skip_line = !found;
			continue;
		}
		if (cmd == NULL)
			cmd = client_command_new(client);
		ret = imap_parser_read(client->parser,
				       (const unsigned char *)conn->inbuf,
				       conn->in_len, &used,
				       client_parse_flags(client, cmd->name),
				       client->parse_stage == 0 ? 2 :
				       client->parse_stage == 1 ? 3 : 0);
		client->in_bytes += used;
		connection_input_skip(conn, used);
		if (ret < 0) {
			bool fatal;
			const char *error =
				imap_parser_get_error(client->parser, &fatal);
			char *text;

			if (imap_parser_want_continuation(client->parser))
				client_send_line(client, "+ OK");

			if (client->parse_stage == 0 && cmd->tag == NULL) {
				/* the tag parsed, the command name didn't */
				const char *tag;
				unsigned int n;
				const struct imap_arg *a =
					imap_parser_get_args(client->parser, &n);

				if (n >= 1 && imap_arg_get_atom(&a[0], &tag) &&
				    valid_tag(tag) && !fatal) {
					cmd->tag = p_strdup(cmd->pool, tag);
					if (!client_parse_error(client,
						"Error in IMAP command: Invalid command name",
						false))
						return !client->destroying;
					continue;
				}
			}

			if (!fatal && cmd->command != NULL && !cmd->uid &&
			    (cmd->command->flags & COMMAND_FLAG_IGNORE_ARGS) != 0) {
				/* the args don't matter: run it */
				static const struct imap_arg no_args[1];

				client->skip_line =
					!imap_parser_is_line_done(client->parser);
				cmd->args = no_args;
				client_command_run(cmd);
				if (client->destroying)
					return false;
				conn = client->conn;
				continue;
			}
			if (fatal)
				text = i_strdup(error);
			else if (cmd->name == NULL)
				text = i_strdup("Error in IMAP command received by server.");
			else
				text = i_strdup_printf("Error in IMAP command %s: %s",
						       cmd->name, error);
			if (!client_parse_error(client, text, fatal)) {
				i_free(text);
				return !client->destroying;
			}
			i_free(text);
			continue;
		}
		if (imap_parser_want_continuation(client->parser))
			client_send_line(client, "+ OK");
		if (ret == 0 && !imap_parser_literal_pending(client->parser))
			break;
		args = imap_parser_get_args(client->parser, &count);
		if (client->parse_stage == 0) {
			const char *tag = NULL, *name = NULL;

			if (count == 0 || !imap_arg_get_atom(&args[0], &tag) ||
			    !valid_tag(tag)) {
				cmd->tag = NULL;
				if (!client_parse_error(client,
					"Error in IMAP tag: Invalid tag", false))
					return !client->destroying;
				continue;
			}
			cmd->tag = p_strdup(cmd->pool, tag);
			if (count < 2 || !imap_arg_get_atom(&args[1], &name)) {
				if (!client_parse_error(client,
					"Error in IMAP command: Invalid command name", false))
					return !client->destroying;
				continue;
			}
			if (strcasecmp(name, "UID") == 0) {
				cmd->uid = true;
				client->parse_stage = 1;
				continue;
			}
			cmd->name = p_strdup(cmd->pool, name);
			client->parse_stage = 2;
		} else if (client->parse_stage == 1) {
			const char *name;

			if (count < 3 || !imap_arg_get_atom(&args[2], &name)) {
				if (!client_parse_error(client,
					"Error in IMAP command: Invalid command name", false))
					return !client->destroying;
				continue;
			}
			cmd->name = p_strdup_printf(cmd->pool, "UID %s", name);
			client->parse_stage = 2;
		}
		if (client->parse_stage == 2 && cmd->command == NULL) {
			const char *name = cmd->uid ? cmd->name + 4 : cmd->name;
			char *upper = p_strdup(cmd->pool, name);

			for (char *p = upper; *p != '\0'; p++)
				*p = (char)toupper((unsigned char)*p);
			cmd->command = command_find(upper);
			if (cmd->command == NULL ||
			    (cmd->uid && (cmd->command->flags &
					  COMMAND_FLAG_USES_SEQS) == 0 &&
			     strcmp(upper, "EXPUNGE") != 0)) {
				char *text = i_strdup_printf(
					"Error in IMAP command %s%s: Unknown command",
					cmd->uid ? "UID " : "", name);
				cmd->command = NULL;
				bool ok = client_parse_error(client, text, false);
				i_free(text);
				if (!ok)
					return !client->destroying;
				continue;
			}
			cmd->name = cmd->uid ?
				p_strdup_printf(cmd->pool, "UID %s", upper) : upper;
			if (!imap_parser_is_line_done(client->parser) &&
			    ret == 1 && count == (cmd->uid ? 3U : 2U)) {
				/* the args follow */
				continue;
			}
		}
		if (!imap_parser_is_line_done(client->parser) &&
		    !(count > 0 && args[count - 1].type == IMAP_ARG_LITERAL_SIZE) &&
		    !imap_parser_literal_pending(client->parser))
			continue;
		cmd->args = args + (cmd->uid ? 3 : 2);
		client_command_run(cmd);
		if (client->destroying)
			return false;
		conn = client->conn;
	}
	return true;
}

static bool client_input_raw(struct connection *conn)
{
	struct imap_client *client = conn->context;

	client_set_log_prefix(client);
	timeout_reset(client->idle_to);
	return client_handle_input(client);
}

static bool client_output_ready(struct connection *conn)
{
	struct imap_client *client = conn->context;
	struct client_command_context *cmd = client->cmd;

	client_set_log_prefix(client);
	if (client->logging_out) {
		if (connection_output_queued(conn) == 0) {
			imap_client_destroy(client, NULL);
			return false;
		}
		return true;
	}
	if (cmd == NULL || cmd->func == NULL || cmd->input != NULL) {
		connection_want_output(conn, false);
		return true;
	}
	while (!client_output_full(client)) {
		if (cmd->func(cmd)) {
			if (cmd->finished && !client_command_finish(cmd))
				return !client->destroying;
			/* pipelined commands waiting in the input buffer */
			return client_handle_input(client);
		}
		if (client->conn == NULL || client->conn->disconnected ||
		    client->logging_out)
			break;
		if (cmd->yield) {
			cmd->yield = false;
			break;
		}
	}
	return true;
}

/* ---- life cycle ---- */

static const char *client_logout_stats(struct imap_client *client)
{
	char in[24], out[24], deleted[16], expunged[16], trashed[16];
	char hdr_count[16], hdr_bytes[24], body_count[16], body_bytes[24];
	const struct var_expand_table table[] = {
		{ 'i', in, "input" },
		{ 'o', out, "output" },
		{ '\0', deleted, "deleted" },
		{ '\0', expunged, "expunged" },
		{ '\0', trashed, "trashed" },
		{ '\0', hdr_count, "fetch_hdr_count" },
		{ '\0', hdr_bytes, "fetch_hdr_bytes" },
		{ '\0', body_count, "fetch_body_count" },
		{ '\0', body_bytes, "fetch_body_bytes" },
		{ '\0', "", "autoexpunged" },
		{ '\0', "", "session" },
		{ '\0', NULL, NULL },
	};
	static char result[512];
	string_t *str = str_new(128);
	const char *error;

	snprintf(in, sizeof(in), "%llu", (unsigned long long)client->in_bytes);
	snprintf(out, sizeof(out), "%llu", (unsigned long long)client->out_bytes);
	snprintf(deleted, sizeof(deleted), "%u", client->deleted);
	snprintf(expunged, sizeof(expunged), "%u", client->expunged);
	snprintf(trashed, sizeof(trashed), "%u", client->trashed);
	snprintf(hdr_count, sizeof(hdr_count), "%u", client->fetch_hdr_count);
	snprintf(hdr_bytes, sizeof(hdr_bytes), "%llu",
		 (unsigned long long)client->fetch_hdr_bytes);
	snprintf(body_count, sizeof(body_count), "%u", client->fetch_body_count);
	snprintf(body_bytes, sizeof(body_bytes), "%llu",
		 (unsigned long long)client->fetch_body_bytes);
	(void)var_expand(str, client->set->imap_logout_format, table, NULL,
			 NULL, &error);
	snprintf(result, sizeof(result), "%s", str_c(str));
	str_free(&str);
	return result;
}

void client_close_mailbox(struct imap_client *client)
{
	if (client->notify_io != NULL)
		io_remove(&client->notify_io);
	if (client->mailbox != NULL)
		mailbox_free(&client->mailbox);
	client->messages_count = 0;
	client->recent_count = 0;
	client->keywords_count = 0;
	client->readonly = false;
	array_clear(&client->search_saved);
	client->search_saved_valid = false;
	imap_search_updates_free(client);
}

static void client_free(struct imap_client *client)
{
	imap_client_destroyed_t *destroyed = client->destroyed;
	void *context = client->destroyed_context;

	client->destroying = true;
	client_command_free(client);
	imap_notify_free(client);
	client_close_mailbox(client);
	array_free(&client->search_saved);
	timeout_remove(&client->idle_to);
	imap_parser_destroy(&client->parser);
	connection_free(&client->conn);
	i_free(client->session_id);
	i_free(client->log_prefix);
	i_free(client);
	if (destroyed != NULL)
		destroyed(context);
}

void imap_client_destroy(struct imap_client *client, const char *reason)
{
	client_set_log_prefix(client);
	if (reason != NULL && !client->logging_out) {
		if (client->conn != NULL && strcmp(reason, "Shutting down") == 0)
			client_send_line(client, "* BYE Shutting down");
		if (client->cmd != NULL && client->cmd->status != NULL) {
			i_info("Disconnected: %s (%s) %s", reason,
			       client->cmd->status(client->cmd),
			       client_logout_stats(client));
		} else {
			i_info("Disconnected: %s%s %s", reason,
			       client->commands_count == 0 &&
			       strcmp(reason, "Connection closed") == 0 ?
			       " (No commands sent)" : "",
			       client_logout_stats(client));
		}
	}
	client_free(client);
}

void client_disconnect(struct imap_client *client, const char *reason)
{
	if (client->logging_out)
		return;
	client->logging_out = true;
	i_info("Disconnected: %s %s", reason, client_logout_stats(client));
	if (client->conn == NULL)
		return;
	connection_pause(client->conn, true);
	connection_want_output(client->conn, true);
}

static void client_disconnected(struct connection *conn, const char *reason)
{
	struct imap_client *client = conn->context;

	client_set_log_prefix(client);
	if (client->logging_out) {
		imap_client_destroy(client, NULL);
		return;
	}
	imap_client_destroy(client, reason);
}

static void client_idle_timeout(void *context)
{
	struct imap_client *client = context;

	if (client->cmd != NULL && client->cmd->command != NULL &&
	    strcmp(client->cmd->command->name, "IDLE") == 0)
		return;	/* IDLE keeps itself alive */
	client_set_log_prefix(client);
	client_send_line(client, "* BYE Disconnected for inactivity.");
	client_disconnect(client, "Inactivity - no input for 1800 secs");
}

static const struct connection_vfuncs client_vfuncs = {
	.input_raw = client_input_raw,
	.disconnected = client_disconnected,
	.output_ready = client_output_ready,
};

static enum imap_client_workarounds parse_workarounds(const char *str)
{
	enum imap_client_workarounds ret = 0;
	char *copy = i_strdup(str), *save = NULL;

	for (char *w = strtok_r(copy, " ,", &save); w != NULL;
	     w = strtok_r(NULL, " ,", &save)) {
		if (strcmp(w, "delay-newmail") == 0)
			ret |= WORKAROUND_DELAY_NEWMAIL;
		else if (strcmp(w, "tb-extra-mailbox-sep") == 0)
			ret |= WORKAROUND_TB_EXTRA_MAILBOX_SEP;
		else if (strcmp(w, "tb-lsub-flags") == 0)
			ret |= WORKAROUND_TB_LSUB_FLAGS;
		/* others were refused when the config was read */
	}
	i_free(copy);
	return ret;
}

struct imap_client *imap_client_create(struct ioloop *loop, int fd,
				       struct mail_user *user,
				       const struct settings_root *set,
				       const char *session_id,
				       const struct imap_client_start *start,
				       imap_client_destroyed_t *destroyed,
				       void *context)
{
	struct imap_client *client = i_new(struct imap_client, 1);
	const char *capability = imap_client_capability(set);

	client->loop = loop;
	client->user = user;
	client->set = set;
	client->session_id = i_strdup(session_id);
	client->log_prefix = session_id[0] == '\0' ?
		i_strdup_printf("imap(%s): ", user->username) :
		i_strdup_printf("imap(%s)<%ld><%s>: ", user->username,
				(long)getpid(), session_id);
	client->destroyed = destroyed;
	client->destroyed_context = context;
	client->workarounds = parse_workarounds(set->imap_client_workarounds);
	client->parser = imap_parser_create(set->imap_max_line_length == 0 ?
					    65536 : set->imap_max_line_length);
	client->conn = connection_create(loop, fd,
		(set->imap_max_line_length == 0 ? 65536 :
		 set->imap_max_line_length) + 1024,
		IMAP_OUTPUT_BUFFER, &client_vfuncs, client);
	client->idle_to = timeout_add(loop, IMAP_CLIENT_IDLE_TIMEOUT_MSECS,
				      client_idle_timeout, client);
	client_set_log_prefix(client);

	if (start->preauth) {
		client_send_linef(client, "* PREAUTH [CAPABILITY %s] Logged in as %s",
				  capability, user->username);
	} else if (start->login_tag != NULL) {
		if (start->capability_sent) {
			client_send_linef(client, "* CAPABILITY %s", capability);
			client_send_linef(client, "%s OK Logged in",
					  start->login_tag);
		} else {
			client_send_linef(client, "%s OK [CAPABILITY %s] Logged in",
					  start->login_tag, capability);
		}
	}
	if (start->input_size > 0 &&
	    connection_input_inject(client->conn, start->input,
				    start->input_size) == 0) {
		if (!client_handle_input(client))
			return NULL;
	}
	return client;
}

/* pop3-commands.c - the post-login POP3 commands in one table, with
 * Dovecot's reply texts (shared/reference/protocols.md 2). */
#include "pop3-private.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

/* Returns false if the client was freed. */
typedef bool pop3_command_fn(struct pop3_client *client, const char *args);

struct pop3_command {
	const char *name;
	pop3_command_fn *func;
};

/* Parse a message number; replies and returns false when invalid. With
 * allow_deleted, a DELE'd message is accepted. */
static bool get_msgnum(struct pop3_client *client, const char **args,
		       uint32_t *seq_r, bool allow_deleted)
{
	const char *p = *args;
	unsigned long num;
	char *end;

	if (*p < '0' || *p > '9') {
		pop3_send_linef(client, "-ERR Invalid message number: %s", p);
		return false;
	}
	errno = 0;
	num = strtoul(p, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != ' ')) {
		pop3_send_linef(client, "-ERR Invalid message number: %s", p);
		return false;
	}
	if (num == 0 || num > client->count) {
		pop3_send_linef(client, "-ERR There's no message %lu.", num);
		return false;
	}
	if (!allow_deleted && client->deleted[num - 1]) {
		pop3_send_line(client, "-ERR Message is deleted.");
		return false;
	}
	*args = end;
	*seq_r = (uint32_t)num;
	return true;
}

static bool no_more_args(struct pop3_client *client, const char *args)
{
	if (*args != '\0') {
		pop3_send_linef(client, "-ERR Noise after message number: %s", args);
		return false;
	}
	return true;
}

static bool cmd_capa(struct pop3_client *client, const char *args ATTR_UNUSED)
{
	pop3_send_line(client, "+OK");
	pop3_send_line(client, "CAPA");
	pop3_send_line(client, "TOP");
	pop3_send_line(client, "UIDL");
	pop3_send_line(client, "RESP-CODES");
	pop3_send_line(client, "PIPELINING");
	pop3_send_line(client, "AUTH-RESP-CODE");
	pop3_send_line(client, ".");
	return true;
}

static bool cmd_dele(struct pop3_client *client, const char *args)
{
	uint32_t seq;

	if (!get_msgnum(client, &args, &seq, false) ||
	    !no_more_args(client, args))
		return true;
	client->deleted[seq - 1] = 1;
	client->deleted_count++;
	client->deleted_size += client->sizes[seq - 1];
	if (seq > client->last_accessed)
		client->last_accessed = seq;
	pop3_send_line(client, "+OK Marked to be deleted.");
	return true;
}

static bool stream_list(struct pop3_client *client)
{
	for (unsigned int n = 0; n < 256 && client->stream_seq < client->count; n++) {
		uint32_t i = client->stream_seq++;
		if (!client->deleted[i])
			pop3_send_linef(client, "%u %llu", i + 1,
					(unsigned long long)client->sizes[i]);
	}
	if (client->stream_seq < client->count)
		return false;
	pop3_send_line(client, ".");
	return true;
}

static bool cmd_list(struct pop3_client *client, const char *args)
{
	uint32_t seq;

	if (*args == '\0') {
		pop3_send_linef(client, "+OK %u messages:",
				client->count - client->deleted_count);
		client->stream_seq = 0;
		pop3_start_stream(client, stream_list);
		return true;
	}
	if (!get_msgnum(client, &args, &seq, false) ||
	    !no_more_args(client, args))
		return true;
	pop3_send_linef(client, "+OK %u %llu", seq,
			(unsigned long long)client->sizes[seq - 1]);
	return true;
}

static bool cmd_last(struct pop3_client *client, const char *args ATTR_UNUSED)
{
	pop3_send_linef(client, "+OK %u", client->last_accessed);
	return true;
}

static bool cmd_noop(struct pop3_client *client, const char *args ATTR_UNUSED)
{
	pop3_send_line(client, "+OK");
	return true;
}

static bool cmd_quit(struct pop3_client *client, const char *args ATTR_UNUSED)
{
	return pop3_client_quit(client);
}

static bool cmd_retr(struct pop3_client *client, const char *args)
{
	uint32_t seq;

	if (!get_msgnum(client, &args, &seq, false) ||
	    !no_more_args(client, args))
		return true;
	if (seq > client->last_accessed)
		client->last_accessed = seq;
	client->seen[seq - 1] = 1;
	client->retr_count++;
	pop3_start_message(client, seq, true, 0);
	return true;
}

static bool cmd_rset(struct pop3_client *client, const char *args ATTR_UNUSED)
{
	memset(client->deleted, 0, MAX(client->count, 1));
	memset(client->seen, 0, MAX(client->count, 1));
	client->deleted_count = 0;
	client->deleted_size = 0;
	client->last_accessed = 0;
	pop3_send_line(client, "+OK");
	return true;
}

static bool cmd_stat(struct pop3_client *client, const char *args ATTR_UNUSED)
{
	pop3_send_linef(client, "+OK %u %llu",
			client->count - client->deleted_count,
			(unsigned long long)(client->total_size -
					     client->deleted_size));
	return true;
}

static bool cmd_top(struct pop3_client *client, const char *args)
{
	uint32_t seq;
	unsigned long long lines;
	char *end;

	if (!get_msgnum(client, &args, &seq, false))
		return true;
	if (*args == '\0') {
		pop3_send_line(client, "-ERR Noise after message number: ");
		return true;
	}
	while (*args == ' ')
		args++;
	if (*args < '0' || *args > '9') {
		pop3_send_linef(client, "-ERR Invalid size: %s", args);
		return true;
	}
	errno = 0;
	lines = strtoull(args, &end, 10);
	if (errno == ERANGE) {
		pop3_send_linef(client, "-ERR Size too large: %s", args);
		return true;
	}
	if (*end != '\0') {
		pop3_send_linef(client, "-ERR Invalid size: %s", args);
		return true;
	}
	if (seq > client->last_accessed)
		client->last_accessed = seq;
	client->top_count++;
	pop3_start_message(client, seq, false, lines);
	return true;
}

static bool send_uidl(struct pop3_client *client, uint32_t seq, bool single)
{
	const char *uidl;

	mail_set_seq(client->mail, seq);
	if (mail_get_pop3_uidl(client->mail, &uidl) < 0) {
		pop3_send_linef(client, "-ERR [SYS/TEMP] %s",
				mailbox_get_last_error(client->box, NULL));
		return false;
	}
	pop3_send_linef(client, "%s%u %s", single ? "+OK " : "", seq, uidl);
	return true;
}

static bool stream_uidl(struct pop3_client *client)
{
	for (unsigned int n = 0; n < 256 && client->stream_seq < client->count; n++) {
		uint32_t i = client->stream_seq++;
		if (!client->deleted[i])
			(void)send_uidl(client, i + 1, false);
	}
	if (client->stream_seq < client->count)
		return false;
	pop3_send_line(client, ".");
	return true;
}

static bool cmd_uidl(struct pop3_client *client, const char *args)
{
	uint32_t seq;

	if (*args == '\0') {
		pop3_send_line(client, "+OK");
		client->stream_seq = 0;
		pop3_start_stream(client, stream_uidl);
		return true;
	}
	if (!get_msgnum(client, &args, &seq, false) ||
	    !no_more_args(client, args))
		return true;
	(void)send_uidl(client, seq, true);
	return true;
}

static const struct pop3_command pop3_commands[] = {
	{ "CAPA", cmd_capa },
	{ "DELE", cmd_dele },
	{ "LIST", cmd_list },
	{ "LAST", cmd_last },
	{ "NOOP", cmd_noop },
	{ "QUIT", cmd_quit },
	{ "RETR", cmd_retr },
	{ "RSET", cmd_rset },
	{ "STAT", cmd_stat },
	{ "TOP", cmd_top },
	{ "UIDL", cmd_uidl },
};

bool pop3_command_run(struct pop3_client *client, char *line)
{
	char *args = strchr(line, ' ');
	const struct pop3_command *cmd = NULL;

	if (args != NULL) {
		*args++ = '\0';
		while (*args == ' ')
			args++;
	} else {
		args = line + strlen(line);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(pop3_commands); i++) {
		if (strcasecmp(pop3_commands[i].name, line) == 0) {
			cmd = &pop3_commands[i];
			break;
		}
	}
	if (cmd != NULL && cmd->func == cmd_last && !client->set->pop3_enable_last)
		cmd = NULL;
	if (cmd == NULL) {
		for (char *p = line; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		pop3_send_linef(client, "-ERR Unknown command: %s", line);
		/* Dovecot disconnects after too many bad commands */
		if (++client->bad_commands >= 20) {
			pop3_send_line(client, "-ERR Too many bad commands.");
			pop3_client_destroy(client, "Too many bad commands.");
			return false;
		}
		return true;
	}
	return cmd->func(client, args);
}

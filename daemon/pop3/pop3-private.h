/* pop3-private.h - the session state shared by pop3-client.c (connection,
 * streaming output, QUIT/logout) and pop3-commands.c (the command table). */
#ifndef ROOST_POP3_PRIVATE_H
#define ROOST_POP3_PRIVATE_H

#include "pop3-client.h"
#include "settings-structs.h"

struct pop3_client;

/* A long reply produced piece by piece as the output drains. Returns
 * true when the reply is complete. */
typedef bool pop3_stream_fn(struct pop3_client *client);

struct pop3_client {
	struct ioloop *loop;
	struct connection *conn;
	struct mail_user *user;
	const struct settings_root *set;
	char *session_id;
	struct mailbox *box;
	struct mail *mail;
	pop3_client_destroyed_t *destroyed;
	void *destroyed_context;

	/* the session's fixed message list: seq i+1 of the box */
	uint32_t count;
	uint64_t *sizes;	/* virtual (CRLF) sizes */
	uint8_t *deleted;	/* DELE marks */
	uint8_t *seen;		/* RETR'd: gets \Seen at QUIT */
	uint64_t total_size;
	uint32_t deleted_count;
	uint64_t deleted_size;
	uint32_t last_accessed;	/* for LAST */

	/* a streaming reply in progress */
	pop3_stream_fn *stream;
	uint32_t stream_seq;		/* LIST/UIDL position */
	const unsigned char *data;	/* RETR/TOP message bytes */
	size_t data_size, data_pos;
	bool stream_in_body, stream_line_start, stream_last_cr;
	uint64_t stream_body_lines;	/* TOP: body lines left */
	bool stream_all_body;

	/* logout statistics (pop3_logout_format) */
	unsigned int top_count, retr_count;
	uint64_t top_bytes, retr_bytes, output_bytes_before;
	unsigned int expunged_count;
	unsigned int bad_commands;

	struct timeout *idle_to, *inject_to;
	bool quitting;
	bool no_nuls, oe_ns_eoh;
};

/* Send one line with CRLF. */
void pop3_send_line(struct pop3_client *client, const char *line);
void pop3_send_linef(struct pop3_client *client, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* Start streaming a long reply with fn. */
void pop3_start_stream(struct pop3_client *client, pop3_stream_fn *fn);
/* Stream message seq's headers and body_lines body lines (all when
 * all_body), dot-stuffed, CRLF line ends, ending with ".". */
void pop3_start_message(struct pop3_client *client, uint32_t seq,
			bool all_body, uint64_t body_lines);
/* Apply DELEs and \Seen marks, send the QUIT reply, end the session
 * once it is written. Returns false if the client was freed already. */
bool pop3_client_quit(struct pop3_client *client);

/* pop3-commands.c: run one command line. Returns false if the client
 * was destroyed. */
bool pop3_command_run(struct pop3_client *client, char *line);

#endif

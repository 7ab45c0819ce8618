/* imap-common.h - what the IMAP session's files share: the client and
 * command structs, the command table, replies, sync, and helpers for
 * sequence sets, flags and mailbox names. Private to daemon/imap/.
 *
 * A command is a function called with its args parsed:
 *
 *   static bool cmd_noop(struct client_command_context *cmd)
 *   {
 *           return cmd_ok(cmd, "NOOP completed");
 *   }
 *
 * It returns true when finished, having set its tagged reply with
 * cmd_ok()/cmd_no()/cmd_bad() (or cmd_reply()). A command that streams
 * (FETCH) sets cmd->func to its continuation and returns false: it is
 * called again as the output drains. After an OK or NO the session syncs
 * the selected mailbox (untagged EXPUNGE/FETCH/EXISTS/RECENT, no
 * EXPUNGE during FETCH/STORE/SEARCH) and only then sends the tagged
 * line, with Dovecot's "(0.001 + 0.000 secs)." timing. */
#ifndef ROOST_IMAP_COMMON_H
#define ROOST_IMAP_COMMON_H

#include "imap-client.h"
#include "imap-parser.h"
#include "array.h"
#include "connection.h"
#include "pool.h"
#include "str.h"
#include "settings-structs.h"

/* Dovecot's autologout for an idle authenticated session */
#define IMAP_CLIENT_IDLE_TIMEOUT_MSECS (30 * 60 * 1000)
/* Output queued before a streaming command pauses. */
#define IMAP_OUTPUT_BUFFER (256 * 1024)
/* BAD commands in a row before "* BYE Too many invalid IMAP commands." */
#define IMAP_MAX_BAD_COMMANDS 20

struct client_command_context;
typedef bool command_func_t(struct client_command_context *cmd);

enum command_flags {
	/* the command uses sequence numbers: no EXPUNGE may be sent
	   while it runs or right after it (RFC 3501 7.4.1) */
	COMMAND_FLAG_USES_SEQS = 0x01,
	/* needs a selected mailbox */
	COMMAND_FLAG_SELECTED = 0x02,
	/* no mailbox sync after it (LOGOUT) */
	COMMAND_FLAG_NO_SYNC = 0x04,
	/* takes no arguments (its UID form may): whatever follows, even
	   unparsable, is ignored (as Dovecot does) */
	COMMAND_FLAG_IGNORE_ARGS = 0x08,
};

struct command {
	const char *name;
	command_func_t *func;
	enum command_flags flags;
};

/* imap_client_workarounds */
enum imap_client_workarounds {
	/* EXISTS/RECENT only in replies to NOOP and CHECK (and IDLE) */
	WORKAROUND_DELAY_NEWMAIL = 0x01,
	/* a mailbox name's extra trailing separator is ignored */
	WORKAROUND_TB_EXTRA_MAILBOX_SEP = 0x02,
	/* LSUB shows \Noselect for mailboxes that can't be selected */
	WORKAROUND_TB_LSUB_FLAGS = 0x04,
};

enum imap_client_enabled {
	IMAP_ENABLED_CONDSTORE = 0x01,
	IMAP_ENABLED_QRESYNC = 0x02,
	IMAP_ENABLED_IMAP4REV2 = 0x04,
	IMAP_ENABLED_UTF8_ACCEPT = 0x08,
};

struct client_command_context {
	struct imap_client *client;
	pool_t pool;
	const char *tag, *name;
	const struct imap_arg *args;
	const struct command *command;
	bool uid;		/* "UID FETCH" ... */
	/* continuation of a streaming command */
	command_func_t *func;
	void *context;
	/* raw input for the command (APPEND data, IDLE's DONE): called
	   from the input handler while set; returns false if it needs
	   more bytes. It consumes with connection_input_skip(). */
	bool (*input)(struct client_command_context *cmd);

	/* called when the command is freed (finished or the client went
	   away): release ios and timers */
	void (*cleanup)(struct client_command_context *cmd);
	/* what the disconnect log line says while the command runs
	   ("While APPENDing: 1 msgs, 0 secs, 3/100 bytes"), or NULL */
	const char *(*status)(struct client_command_context *cmd);

	const char *reply_status;	/* "OK" / "NO" / "BAD" */
	const char *reply_text;
	uint64_t start_usecs;
	bool finished;
	bool sync_no_expunges;
	/* a streaming command that queued nothing but has more to do (a
	   long SEARCH): let the ioloop run before func is called again */
	bool yield;
};

struct imap_client {
	struct ioloop *loop;
	struct connection *conn;
	struct mail_user *user;
	const struct settings_root *set;
	char *session_id;
	char *log_prefix;
	imap_client_destroyed_t *destroyed;
	void *destroyed_context;

	struct imap_parser *parser;
	/* the command being read (tag/name/args) or run */
	struct client_command_context *cmd;
	unsigned int parse_stage;	/* 0 tag+name, 1 UID name, 2 args */
	bool skip_line;			/* after a parse error */
	unsigned int bad_counter;
	unsigned int commands_count;	/* commands read since login */
	struct timeout *idle_to;
	bool logging_out, destroying;
	bool logout_pending;	/* LOGOUT answered: close after it */
	/* "* BYE" text to send after the tagged reply, then disconnect
	   (DELETE of the selected mailbox) */
	const char *bye_after_reply;

	/* the selected mailbox */
	struct mailbox *mailbox;
	bool readonly;
	/* selected with EXAMINE (readonly may also come from acl) */
	bool examined;
	uint32_t messages_count;	/* EXISTS the client knows */
	uint32_t recent_count;
	unsigned int keywords_count;	/* keywords announced in FLAGS */
	enum imap_client_enabled enabled;
	/* QRESYNC (imap-condstore.c): HIGHESTMODSEQ after the last sync
	   that left no expunge unsent, and the highest MODSEQ sent in a
	   FETCH since the last sync */
	uint64_t sync_last_full_modseq, highest_fetch_modseq;
	enum imap_client_workarounds workarounds;
	/* SEARCHRES: the UIDs of the last SEARCH ... RETURN (SAVE) */
	ARRAY_U32 search_saved;
	bool search_saved_valid;
	/* CONTEXT=SEARCH: searches with RETURN (UPDATE) (imap-search-return.c) */
	struct imap_search_updates *search_updates;
	/* the notify io while IDLE */
	struct io *notify_io;
	/* NOTIFY SET's filters and state (cmd-notify.c), NULL without */
	struct imap_notify *notify;

	/* logout statistics (imap_logout_format) */
	uint64_t in_bytes, out_bytes;
	unsigned int deleted, expunged, trashed;
	unsigned int fetch_hdr_count, fetch_body_count;
	uint64_t fetch_hdr_bytes, fetch_body_bytes;
};

/* ---- imap-client.c ---- */
void client_send_line(struct imap_client *client, const char *line);
void client_send_linef(struct imap_client *client, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* raw bytes, already formatted (literals) */
void client_send_data(struct imap_client *client, const void *data,
		      size_t size);
/* The tagged reply of cmd. text without the final "." */
bool cmd_reply(struct client_command_context *cmd, const char *status,
	       const char *text);
bool cmd_ok(struct client_command_context *cmd, const char *text);
bool cmd_no(struct client_command_context *cmd, const char *text);
bool cmd_bad(struct client_command_context *cmd, const char *text);
/* NO with the storage's last error on box (or the user's): the right
 * response code for its class. */
bool cmd_no_storage_error(struct client_command_context *cmd,
			  struct mailbox *box);
/* BAD "Error in IMAP command NAME: error" (Dovecot's words for a
 * command it could not parse); returns true. */
bool cmd_bad_error(struct client_command_context *cmd, const char *error);
/* Dovecot's reply when a command's arguments don't parse */
bool cmd_bad_args(struct client_command_context *cmd);
/* Ask to be called again (cmd->func) when output drains below half of
 * IMAP_OUTPUT_BUFFER. */
bool client_output_full(struct imap_client *client);
/* Close the selected mailbox (no expunges). */
void client_close_mailbox(struct imap_client *client);
/* The session's log prefix as the current one. */
void client_set_log_prefix(struct imap_client *client);
/* Disconnect after the queued output is written. */
void client_disconnect(struct imap_client *client, const char *reason);

/* ---- imap-commands.c ---- */
const struct command *command_find(const char *name);

/* ---- imap-sync.c ---- */
/* Bring the selected mailbox up to date and send what changed. */
void imap_sync(struct imap_client *client, bool no_expunges);
/* "* FLAGS (...)" and PERMANENTFLAGS for the selected mailbox. */
void imap_send_flags(struct imap_client *client);

/* ---- imap-util.c ---- */
/* Sequence set ("1,3:5,7:*", "$" for the saved SEARCHRES) to sorted,
 * merged ranges of seqs (uid=false) or UIDs in the current view. An
 * empty mailbox with "*" gives no ranges. Returns -1 with *error_r. */
int imap_seqset_parse(struct imap_client *client, const char *str, bool uid,
		      ARRAY_U32 *seqs, const char **error_r);
/* Same, syntax only, into (start, end) pairs; '*' = (uint32_t)-1. */
int imap_seqset_parse_ranges(const char *str, ARRAY_U32 *pairs);
/* Flags list: "\Seen" etc. and keywords; -1 with *error_r */
int imap_parse_flags(const struct imap_arg *args, enum mail_flags *flags_r,
		     ARRAY_STR *keywords, const char **error_r);
/* "\Seen \Recent $Label1" (without parentheses) */
void imap_write_flags(string_t *dest, enum mail_flags flags,
		      const char *const *keywords);
/* Client mailbox name (modified UTF-7) to a vname, allocated from the
 * running command's pool; NULL with *error_r */
const char *imap_mailbox_name_decode(struct imap_client *client,
				     const char *name, const char **error_r);
/* vname to what the client sees, quoted as an astring */
void imap_append_mailbox_name(string_t *dest, const char *vname);
/* the same, always as a string (NAMESPACE prefixes) */
void imap_append_mailbox_name_quoted(string_t *dest, const char *vname);
/* The same for this client: raw UTF-8 after ENABLE UTF8=ACCEPT (RFC
 * 6855), else modified UTF-7. */
void imap_client_append_mailbox_name(struct imap_client *client,
				     string_t *dest, const char *vname,
				     bool always_quote);
/* "06-Nov-2023 10:00:00 +0100" */
bool imap_parse_datetime(const char *str, time_t *time_r, int *tz_r);
void imap_append_datetime(string_t *dest, time_t t, int tz_offset_min);

/* ---- cmd-expunge.c ---- */
/* Expunge the \Deleted messages (of seqs, or all); the sync reports
 * them. */
int imap_expunge_deleted(struct imap_client *client, const ARRAY_U32 *seqs);

/* ---- cmd-*.c ---- */
bool cmd_capability(struct client_command_context *cmd);
bool cmd_noop(struct client_command_context *cmd);
bool cmd_check(struct client_command_context *cmd);
bool cmd_logout(struct client_command_context *cmd);
bool cmd_enable(struct client_command_context *cmd);
bool cmd_id(struct client_command_context *cmd);
bool cmd_namespace(struct client_command_context *cmd);
bool cmd_select(struct client_command_context *cmd);
bool cmd_examine(struct client_command_context *cmd);
bool cmd_close(struct client_command_context *cmd);
bool cmd_unselect(struct client_command_context *cmd);
bool cmd_idle(struct client_command_context *cmd);
bool cmd_notify(struct client_command_context *cmd);

/* ---- cmd-notify.c ---- */
/* End NOTIFY (NOTIFY NONE, logout). */
void imap_notify_free(struct imap_client *client);
/* Before a command's tagged reply: the notifications held while it ran. */
void imap_notify_command_end(struct imap_client *client);
/* NOTIFY is on without MessageNew for the selected mailbox: the sync
 * leaves new mail out of the view (as Dovecot). */
bool imap_notify_hides_new_mail(struct imap_client *client);
/* The sync announced seqs first..last: FETCH them with the MessageNew
 * fetch-att of the selected filter, if it has one. */
void imap_notify_new_messages(struct imap_client *client, uint32_t first_seq,
			      uint32_t last_seq);
bool cmd_create(struct client_command_context *cmd);
bool cmd_delete(struct client_command_context *cmd);
bool cmd_rename(struct client_command_context *cmd);
bool cmd_subscribe(struct client_command_context *cmd);
bool cmd_unsubscribe(struct client_command_context *cmd);
bool cmd_list(struct client_command_context *cmd);
bool cmd_lsub(struct client_command_context *cmd);
bool cmd_status(struct client_command_context *cmd);
bool cmd_append(struct client_command_context *cmd);
bool cmd_replace(struct client_command_context *cmd);
bool cmd_getmetadata(struct client_command_context *cmd);
bool cmd_setmetadata(struct client_command_context *cmd);
bool cmd_fetch(struct client_command_context *cmd);
bool cmd_store(struct client_command_context *cmd);
bool cmd_copy(struct client_command_context *cmd);
bool cmd_move(struct client_command_context *cmd);
bool cmd_expunge(struct client_command_context *cmd);
bool cmd_search(struct client_command_context *cmd);
bool cmd_sort(struct client_command_context *cmd);
bool cmd_thread(struct client_command_context *cmd);
/* cmd-urlauth.c */
bool imap_urlauth_enabled(const struct settings_root *set);
bool cmd_resetkey(struct client_command_context *cmd);
bool cmd_genurlauth(struct client_command_context *cmd);
bool cmd_urlfetch(struct client_command_context *cmd);

#endif

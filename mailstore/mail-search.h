/* mail-search.h - search queries as a tree of search args, built from
 * Dovecot's doveadm query language ("mailbox INBOX unseen since 30d") or,
 * later, from IMAP SEARCH keys (the same tree: IMAP keys map 1:1), and
 * matched against messages through the storage API.
 *
 *   struct mail_search_args *args;
 *   if (mail_search_parse_cmdline(argv, &args, &error) < 0) ...
 *   mail_search_args_init(args, box);        once per mailbox
 *   for (seq = 1; seq <= mailbox_count(box); seq++) {
 *           mail_set_seq(mail, seq);
 *           if (mail_search_match(mail, args->args) > 0) ...
 *   }
 *   mail_search_args_free(&args);
 *
 * A list of args (linked by ->next) means AND; SEARCH_SUB holds an AND
 * list, SEARCH_OR an OR list; match_not negates any arg. */
#ifndef ROOST_MAIL_SEARCH_H
#define ROOST_MAIL_SEARCH_H

#include "mail-storage.h"
#include "message-parser.h"

enum mail_search_arg_type {
	SEARCH_OR,
	SEARCH_SUB,
	SEARCH_ALL,
	SEARCH_SEQSET,		/* value.ranges, message sequence numbers */
	SEARCH_UIDSET,		/* value.ranges, UIDs */
	SEARCH_FLAGS,		/* value.flags: all of them set */
	SEARCH_KEYWORDS,	/* value.str */
	SEARCH_BEFORE,		/* value.time, value.date_type */
	SEARCH_ON,
	SEARCH_SINCE,
	SEARCH_SMALLER,		/* value.size, against the virtual size */
	SEARCH_LARGER,
	SEARCH_HEADER,		/* hdr_field_name, value.str */
	SEARCH_HEADER_ADDRESS,	/* From/To/Cc/Bcc */
	SEARCH_HEADER_COMPRESS_LWSP, /* Subject: runs of blanks as one */
	SEARCH_BODY,		/* value.str, in the body */
	SEARCH_TEXT,		/* value.str, in header and body */
	SEARCH_MODSEQ,		/* value.modseq: modseq >= it */
	SEARCH_GUID,		/* value.str: the message GUID */
	SEARCH_MAILBOX,		/* value.str: exact mailbox name */
	SEARCH_MAILBOX_GUID,	/* value.str: 32 hex digits */
	SEARCH_MAILBOX_GLOB,	/* value.str: pattern with * and % */
	SEARCH_EMAILID,		/* value.str: OBJECTID (RFC 8474) EMAILID */
	SEARCH_THREADID,	/* value.str: OBJECTID THREADID */
};

enum mail_search_date_type {
	MAIL_SEARCH_DATE_TYPE_RECEIVED,	/* INTERNALDATE */
	MAIL_SEARCH_DATE_TYPE_SENT,	/* Date: header */
	MAIL_SEARCH_DATE_TYPE_SAVED,	/* when it was saved here */
};

/* seq2 == (uint32_t)-1 stands for '*' (the highest in the view). */
struct mail_search_range {
	uint32_t seq1, seq2;
};

struct mail_search_arg {
	struct mail_search_arg *next;
	enum mail_search_arg_type type;
	bool match_not;

	struct {
		struct mail_search_arg *subargs;	/* OR, SUB */
		struct mail_search_range *ranges;	/* SEQSET, UIDSET */
		unsigned int range_count;
		enum mail_flags flags;
		const char *str;
		time_t time;
		enum mail_search_date_type date_type;
		/* time is an absolute moment (doveadm "2024-01-31", "30d");
		   false: an IMAP date compared with the message's own
		   timezone, as RFC 3501 asks */
		bool use_tz;
		uint64_t size;
		uint64_t modseq;
	} value;
	/* SEARCH_HEADER*: the field, uppercase */
	const char *hdr_field_name;

	/* filled by mail_search_args_init() for the mailbox searched */
	struct {
		uint32_t first_recent_uid;
		const char *mailbox_guid;
	} init;
};

struct mail_search_args {
	pool_t pool;
	struct mail_search_arg *args;
	struct mailbox *box;	/* the mailbox of the last init */
};

/* The source of tokens: the doveadm command line today, an IMAP
 * command's parser later. parse_key returns 1 with *key_r, 0 at the end
 * (or at the ')' closing a list), -1 with error set. A key equal to
 * MAIL_SEARCH_KEY_LIST opens a parenthesised list. */
#define MAIL_SEARCH_KEY_LIST "("
struct mail_search_parser {
	int (*parse_key)(struct mail_search_parser *parser,
			 const char **key_r);
	/* the argument of a key; -1 with error set if missing */
	int (*parse_string)(struct mail_search_parser *parser,
			    const char **value_r);
	/* consume the next token if it equals str (case-insensitively) */
	bool (*skip_next)(struct mail_search_parser *parser, const char *str);
	const char *error;
	void *context;
};

enum mail_search_syntax {
	/* RFC 3501 keys and dates (1-Feb-2024), OR as a prefix */
	MAIL_SEARCH_SYNTAX_IMAP,
	/* doveadm-search-query(7): also yyyy-mm-dd and intervals (30d,
	   2w), sizes with units (10k), MAILBOX, MAILBOX-GUID, GUID,
	   SAVEDBEFORE/ON/SINCE, and OR between two keys */
	MAIL_SEARCH_SYNTAX_HUMAN,
};

/* Build the tree. Errors are Dovecot's texts ("Unknown argument FOO",
 * "Missing ')'", "Use parenthesis when mixing ANDs and ORs"). */
int mail_search_build(struct mail_search_parser *parser,
		      enum mail_search_syntax syntax,
		      struct mail_search_args **args_r, const char **error_r);
/* The doveadm command line: one token per argv element ("(" and ")"
 * alone). */
int mail_search_parse_cmdline(const char *const *argv,
			      struct mail_search_args **args_r,
			      const char **error_r);
/* "mailbox M1 OR mailbox M2 ..." for commands that take masks. */
struct mail_search_args *
mail_search_args_from_mailboxes(const char *const *masks);
void mail_search_args_free(struct mail_search_args **args);

/* Prepare args for searching box (keyword names, \Recent, the mailbox
 * GUID). Call again for each mailbox. */
int mail_search_args_init(struct mail_search_args *args, struct mailbox *box);
/* Does mail match the AND list args? 1 yes, 0 no, -1 error (the
 * mailbox's last error says why). */
int mail_search_match(struct mail *mail, const struct mail_search_arg *args);

/* Could anything in mailbox vname match (only mailbox args are looked
 * at; the rest count as "maybe")? */
bool mail_search_args_match_mailbox(const struct mail_search_args *args,
				    const char *vname, char sep);
/* The mailbox names/patterns of top-level MAILBOX args (none inside an
 * OR or NOT), for listing only those mailboxes. Sets *have_guid when a
 * MAILBOX-GUID arg exists, *have_wildcards when a pattern (rather than
 * an exact name) was given. Returns false if patterns can't be used. */
bool mail_search_args_get_mailbox_patterns(const struct mail_search_args *args,
					   ARRAY_STR *patterns,
					   bool *have_guid,
					   bool *have_wildcards);
/* Does every OR branch contain something besides mailbox args? (doveadm
 * expunge refuses "mailbox INBOX" alone.) */
bool mail_search_args_have_nonmailbox(const struct mail_search_args *args);
/* Is the message "recent" for this search: \Recent in the view, or not
 * yet claimed by any session (uid >= first recent uid), as Dovecot's
 * doveadm sees it. Needs mail_search_args_init() or the threshold. */
bool mail_search_is_recent(struct mail *mail, uint32_t first_recent_uid);

/* ---- message text as searches (and doveadm's text.utf8) see it ---- */

/* The header block as "Name: value" lines, each unfolded and with RFC
 * 2047 words decoded to UTF-8, then an empty line. */
void mail_search_header_utf8(const unsigned char *hdr, size_t size,
			     string_t *dest);
/* The body of a leaf part with its Content-Transfer-Encoding (base64,
 * quoted-printable) undone and, for text parts, its charset converted to
 * UTF-8. Multipart and message/rfc822 parts add nothing. */
void mail_search_part_body_utf8(const struct message_part *part,
				const unsigned char *msg, size_t msg_size,
				string_t *dest);
/* Append the decoded text of the message: each part's header (unless
 * skip_headers) and leaf body (only text/ * bodies with text_only, as
 * searches look at them), in order (no preamble or epilogue). */
void mail_search_message_utf8(const struct message_part *parts,
			      const unsigned char *msg, size_t msg_size,
			      bool skip_headers, bool text_only,
			      string_t *dest);
/* The form text and keys are matched in: i;unicode-casemap
 * (unicode-casemap.h), titlecased and decomposed, as Dovecot. */
void mail_search_casefold(const void *data, size_t size, string_t *dest);

/* Dovecot's size and interval syntax: "10k", "1 M", "30d", "2 weeks". */
int mail_search_parse_size(const char *str, uint64_t *size_r);
int mail_search_parse_interval(const char *str, unsigned int *secs_r);
/* RFC 3501 date "1-Feb-2024" as the UTC midnight of that day; a day the
 * month doesn't have ("30-Feb-2024") parses as MAIL_SEARCH_TIME_NEVER,
 * later than every message, as in Dovecot. */
#define MAIL_SEARCH_TIME_NEVER ((time_t)1 << 40)
bool mail_search_parse_imap_date(const char *str, time_t *time_r);

#endif

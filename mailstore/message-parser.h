/* message-parser.h - parse an RFC 5322 / MIME message held in memory
 * (normally the storage layer's mmap() of the message file) into a tree
 * of parts, with Dovecot 2.3's sizes and its answers to broken input.
 *
 *   pool_t pool = pool_create("message", 4096);
 *   struct message_part *parts;
 *   message_parse(pool, data, size, &parts);
 *   ... parts->body_size.virtual_size, parts->children, parts->data ...
 *   pool_destroy(&pool);
 *
 * The body is never copied: a part only records offsets and sizes into
 * data, which must stay mapped while the tree is used. Header values the
 * IMAP layer needs (Content-*, envelope fields) are copied into pool.
 *
 * Sizes come in two flavours: physical (bytes in the file) and virtual
 * (as sent over IMAP, where every line ends in CRLF: a bare LF counts 2
 * bytes, CRLF 2, a lone CR 1). RFC822.SIZE is the root part's header
 * plus body virtual size.
 *
 * Structure rules, as Dovecot applies them:
 * - A part is MIME when its parent is a multipart or its header has a
 *   MIME-Version or Content-Type field; the Content-* fields of other
 *   parts are ignored (they are text/plain, us-ascii, 7bit).
 * - Only the first Content-Type field counts, valid or not.
 * - Boundaries are matched at line starts by prefix ("--b" matches
 *   boundary "b" and "bxyz"; the longest active boundary wins), each one
 *   closes every part nested inside its multipart, and a final "--b--"
 *   retires the boundary: later "--b" lines are epilogue text.
 * - The line end before a boundary line belongs to the boundary: when it
 *   ends the body of the innermost open part, every part closed by the
 *   boundary ends before it; when it ends a header (a header running into
 *   the boundary, or a blank line right before it) only that header
 *   loses it and the enclosing parts keep it (Dovecot's accounting).
 * - A header that runs into a boundary line ends there; the part's body
 *   is then empty (a message/rfc822 part still gets an empty message).
 *   Data after the last boundary, or a missing final boundary, simply end
 *   at the end of the message.
 * - Content-Length is ignored; NUL bytes and CR-only lines are data.
 * - Limits (Dovecot's defaults): a part with
 *   MESSAGE_PARSER_DEFAULT_MAX_NESTED_MIME_PARTS - 1 (99) ancestors
 *   cannot be a container; a multipart or message/rfc822 part there is
 *   left unparsed with MESSAGE_PART_FLAG_OVERFLOW (BODYSTRUCTURE shows it
 *   as application/octet-stream). Once MESSAGE_PARSER_DEFAULT_MAX_TOTAL_
 *   MIME_PARTS (10000) parts exist no boundary is looked for any more
 *   (the last part runs to the end of the message, a multipart opened
 *   then stays childless) and a message/rfc822 part is not entered.
 * The parser is iterative (an explicit boundary stack and parent links),
 * so neither limit is needed for safety, only for compatibility. */
#ifndef ROOST_MESSAGE_PARSER_H
#define ROOST_MESSAGE_PARSER_H

#include "lib.h"
#include "pool.h"
#include "rfc822-parser.h"
#include "message-address.h"

#define MESSAGE_PARSER_DEFAULT_MAX_NESTED_MIME_PARTS 100
#define MESSAGE_PARSER_DEFAULT_MAX_TOTAL_MIME_PARTS 10000
/* Settings above this nesting are lowered to it: BODYSTRUCTURE and
   BINARY recurse once per level. */
#define MESSAGE_PARSER_MAX_NESTED_LIMIT 1000
/* Longer boundary parameters are cut to this many bytes before they are
   matched (Dovecot's limit; RFC 2046 allows 70). */
#define MESSAGE_BOUNDARY_MAX_LEN 80

struct message_size {
	uint64_t physical_size;
	uint64_t virtual_size;
	uint64_t lines;		/* LF count */
};

enum message_part_flags {
	/* Content-Type multipart/ *. Without a boundary parameter the
	   part has no children (BODYSTRUCTURE then shows one empty
	   text/plain child, as Dovecot does). */
	MESSAGE_PART_FLAG_MULTIPART = 0x01,
	MESSAGE_PART_FLAG_MULTIPART_DIGEST = 0x02,
	/* message/rfc822 (or a digest member without Content-Type): the
	   only child is the embedded message. */
	MESSAGE_PART_FLAG_MESSAGE_RFC822 = 0x04,
	/* text/ *, or no usable Content-Type at all */
	MESSAGE_PART_FLAG_TEXT = 0x08,
	/* NULs in the part's header or in the body of a part without
	   children */
	MESSAGE_PART_FLAG_HAS_NULS = 0x10,
	MESSAGE_PART_FLAG_IS_MIME = 0x20,
	/* a container left unparsed because of a limit */
	MESSAGE_PART_FLAG_OVERFLOW = 0x40,
};

enum message_cte {
	MESSAGE_CTE_78BIT = 0,	/* 7bit, 8bit, or no header */
	MESSAGE_CTE_UNKNOWN,	/* x-uuencode and the like */
	MESSAGE_CTE_BINARY,
	MESSAGE_CTE_QP,
	MESSAGE_CTE_BASE64,
};

/* The ENVELOPE fields of a message's header. Strings are raw values
   (folding kept, NULs as U+FFFD); the last field of a name wins, address
   fields of the same name are concatenated. */
struct message_part_envelope {
	const char *date, *subject, *message_id, *in_reply_to;
	struct message_address *from, *sender, *reply_to, *to, *cc, *bcc;
};

/* What BODYSTRUCTURE needs of one part's header. The first field of each
   name wins. NULL means absent. */
struct message_part_data {
	/* as written ("TEXT" stays "TEXT"); a broken value leaves what
	   could be read: "text" alone gives ("text", ""). */
	const char *content_type, *content_subtype;
	const struct mime_param *content_type_params;
	unsigned int content_type_params_count;
	const char *content_transfer_encoding;
	const char *content_id, *content_description;
	const char *content_disposition;
	const struct mime_param *content_disposition_params;
	unsigned int content_disposition_params_count;
	const char *content_md5;
	const char *const *content_language; /* NULL-terminated */
	const char *content_location;
	/* for the root and for the child of a message/rfc822 part */
	struct message_part_envelope *envelope;
	/* how BINARY decodes the body: the last Content-Transfer-Encoding
	   field, read even when the part is not MIME; a folded value is
	   unknown to Dovecot's decoder */
	enum message_cte cte;
	bool cte_seen;
};

struct message_part {
	struct message_part *parent, *next, *children;
	/* offset of the part's header in the message; the body follows
	   at physical_pos + header_size.physical_size */
	uint64_t physical_pos;
	struct message_size header_size, body_size;
	unsigned int children_count;	/* direct children */
	unsigned int depth;		/* ancestors */
	enum message_part_flags flags;
	struct message_part_data *data;	/* never NULL */
};

struct message_parser_settings {
	unsigned int max_nested_mime_parts;
	unsigned int max_total_mime_parts;
};

/* Parse size bytes at data. Never fails: any input gives a tree. */
void message_parse(pool_t pool, const void *data, size_t size,
		   struct message_part **parts_r);
/* The same with explicit limits (0 = the default). */
void message_parse_settings(pool_t pool, const void *data, size_t size,
			    const struct message_parser_settings *set,
			    struct message_part **parts_r);

/* The part's body offset in the message. */
static inline uint64_t message_part_body_offset(const struct message_part *p)
{
	return p->physical_pos + p->header_size.physical_size;
}

/* Number of parts in the tree under (and including) part. */
unsigned int message_part_count(const struct message_part *part);

/* Count lines and virtual size of [start, end) of data into size_r. */
void message_size_count(const unsigned char *data, size_t start,
			size_t end, struct message_size *size_r);

#endif

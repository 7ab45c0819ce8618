/* message-section.h - IMAP BODY[section] and BINARY[section] of a parsed
 * message, with Dovecot 2.3's answers:
 *
 *   ""                 the whole message
 *   HEADER, TEXT       the message's header (blank line included) / body
 *   HEADER.FIELDS (a b)      the named fields, in message order, then a
 *   HEADER.FIELDS.NOT (a b)  blank line (a new small buffer)
 *   1.2.3              a part's body: "1" of a single-part message is its
 *                      body; numbers after a message/rfc822 part go into
 *                      the embedded message
 *   1.2.MIME           that part's own header
 *   1.2.HEADER, .TEXT, .HEADER.FIELDS  on a message/rfc822 part: the
 *                      embedded message's header / body / fields; on any
 *                      other part they are empty
 *
 * A part that does not exist gives an empty result, not an error (as
 * Dovecot). Ranges are physical offsets into the message (usually the
 * mmap); everything is sent with bare LFs turned into CRLF, and the
 * virtual sizes here already count that. BINARY decodes base64 and
 * quoted-printable bodies (RFC 3516). */
#ifndef ROOST_MESSAGE_SECTION_H
#define ROOST_MESSAGE_SECTION_H

#include "message-parser.h"
#include "str.h"

enum message_section_type {
	MESSAGE_SECTION_BODY,		/* "" or a bare part number */
	MESSAGE_SECTION_HEADER,
	MESSAGE_SECTION_HEADER_FIELDS,
	MESSAGE_SECTION_HEADER_FIELDS_NOT,
	MESSAGE_SECTION_TEXT,
	MESSAGE_SECTION_MIME,
};

struct message_section {
	const char *part_path;		/* "1.2" or "" */
	enum message_section_type type;
	const char *const *fields;	/* HEADER.FIELDS names, NULL-ended */
};

struct message_section_result {
	/* The bytes to send: a range of the message when data is NULL,
	   else data (HEADER.FIELDS, already with CRLF line ends). */
	uint64_t offset, size;
	const unsigned char *data;
	size_t data_size;
	/* what will be sent, after LF -> CRLF */
	uint64_t virtual_size;
};

/* Parse the text between the brackets of BODY[...] / BINARY[...],
   e.g. "1.2.HEADER.FIELDS (From \"To\")". Case-insensitive. Returns 0,
   or -1 with *error_r for a malformed section. */
int message_section_parse(pool_t pool, const char *spec,
			  struct message_section *section_r,
			  const char **error_r);

/* Find the part that a part number such as "1.2.3" names ("" is the
   root). Returns 1 and *part_r, 0 if there is no such part, -1 if path
   is not a part number. */
int message_part_find(const struct message_part *parts, const char *path,
		      const struct message_part **part_r);

/* Locate BODY[section]. HEADER.FIELDS buffers come from pool. Returns
   1, or 0 when the part does not exist (result then empty). */
int message_section_get(pool_t pool, const struct message_part *parts,
			const void *msg, size_t msg_size,
			const struct message_section *section,
			struct message_section_result *result_r);

/* Append size bytes with every bare LF turned into CRLF. */
void message_crlf_append(string_t *dest, const void *data, size_t size);
/* Append the bytes of a result (converted to CRLF). */
void message_section_result_append(const struct message_section_result *res,
				   const void *msg, string_t *dest);

/* ---- BINARY (RFC 3516) ---- */

enum message_binary_error {
	MESSAGE_BINARY_OK = 0,
	/* a Content-Transfer-Encoding we cannot decode: IMAP answers
	   NO [UNKNOWN-CTE] */
	MESSAGE_BINARY_ERR_UNKNOWN_CTE,
	/* bytes that are not base64 or quoted-printable (also base64 data
	   after its padding): NO [PARSE] */
	MESSAGE_BINARY_ERR_INVALID,
	/* base64 that stops inside a group, quoted-printable ending in a
	   lone "=": Dovecot 2.3 reports an internal error and disconnects */
	MESSAGE_BINARY_ERR_TRUNCATED,
	/* the decoded data would exceed max_size */
	MESSAGE_BINARY_ERR_TOO_LARGE,
};

struct message_binary_result {
	uint64_t size;			/* decoded size (BINARY.SIZE) */
	/* send as ~{n}: Dovecot's rule is that a leaf in the part asked
	   for has NULs (MESSAGE_PART_FLAG_HAS_NULS) or was decoded. Otherwise any NUL that is sent anyway (in a multipart's
	   epilogue) becomes 0x80, as in BODY[]. */
	bool literal8;
	enum message_binary_error error;
};

/* BINARY[section]: a leaf part's body is decoded; BINARY[] and the body
   of a multipart or message/rfc822 part are rebuilt with every decoded
   leaf's Content-Transfer-Encoding header saying "binary"; MIME, HEADER
   and HEADER.FIELDS are as in BODY[]. Decoded bytes are appended to dest
   (if dest is NULL only the size is computed; nothing is kept). At most
   max_size bytes (0 = no limit). Returns 0, or -1 with result_r->error
   set (dest then holds partial output the caller drops). */
int message_section_binary(const struct message_part *parts,
			   const void *msg, size_t msg_size,
			   const struct message_section *section,
			   string_t *dest, uint64_t max_size,
			   struct message_binary_result *result_r);

#endif

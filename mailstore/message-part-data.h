/* message-part-data.h - fill a part's struct message_part_data and its
 * envelope from its header fields, the way Dovecot 2.3 reads them for
 * BODY, BODYSTRUCTURE and ENVELOPE. Called by message-parser.c for every
 * header field; usable on its own to re-read a header. */
#ifndef ROOST_MESSAGE_PART_DATA_H
#define ROOST_MESSAGE_PART_DATA_H

#include "message-parser.h"
#include "message-header.h"

/* Feed one header field of part. envelope_wanted: the part is a
   message root (the top or the child of a message/rfc822 part). */
void message_part_data_add_header(pool_t pool, struct message_part *part,
				  const struct message_header_line *line,
				  bool envelope_wanted);
/* After the last field: forget Content-* fields if the part turned out
   not to be MIME. */
void message_part_data_finish(struct message_part *part);

/* Feed one header field to an envelope (allocated on first use). */
void message_part_envelope_add_header(pool_t pool,
				      struct message_part_envelope **env,
				      const struct message_header_line *line);

/* The transfer encoding named by a Content-Transfer-Encoding value: one
   token (case-insensitive), comments allowed, nothing else. */
enum message_cte message_cte_parse(const void *value, size_t size);

#endif

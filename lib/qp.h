/* qp.h - quoted-printable decoding (RFC 2045 section 6.7), streaming and
 * lenient like Dovecot's: input may arrive in any pieces; "=XX" (either
 * case) becomes a byte; "=" followed by optional blanks and a line end is
 * a soft line break; blanks at the end of a line are dropped; a hard line
 * break becomes CRLF whatever the input used. A malformed "=" sequence or
 * a CR without LF is copied as it was and reported, and decoding goes
 * on. */
#ifndef ROOST_QP_H
#define ROOST_QP_H

#include "lib.h"
#include "str.h"

struct qp_decoder;

/* Decoded bytes are appended to dest. */
struct qp_decoder *qp_decoder_init(string_t *dest);
void qp_decoder_deinit(struct qp_decoder **qp);

/* Decode size more bytes. Returns 0, or -1 if this input contained a
   malformed sequence (the first one's offset within src is given in
   *invalid_src_pos_r and a description in *error_r); the data is still
   decoded as well as possible. */
int qp_decoder_more(struct qp_decoder *qp, const void *src, size_t size,
		    size_t *invalid_src_pos_r, const char **error_r);
/* End of input: flush what is pending (trailing blanks are dropped).
   Returns 0; -1 if the input ended in "=X"; -2 if it ended in a "="
   (plus blanks) that has no line end to join, or in a CR. Pending bytes are copied
   out as text. The decoder can then be reused. */
int qp_decoder_finish(struct qp_decoder *qp, const char **error_r);

/* One shot: returns 0, or -1 if anything was malformed. */
int qp_decode(string_t *dest, const void *src, size_t size);

#endif

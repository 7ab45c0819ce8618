/* qp.c - streaming quoted-printable decoder. The state machine keeps
 * the few bytes whose meaning depends on what follows (a "=" sequence,
 * blanks that may be trailing) in a small pending buffer. */
#include "qp.h"
#include "hex.h"

enum qp_state {
	QP_STATE_TEXT,
	QP_STATE_CR,		/* CR in text, maybe a line end */
	QP_STATE_SPACES,	/* blanks, maybe trailing */
	QP_STATE_SPACES_CR,	/* blanks then CR */
	QP_STATE_EQUALS,	/* "=" */
	QP_STATE_EQUALS_HEX,	/* "=X" */
	QP_STATE_EQUALS_SPACES,	/* "=" then blanks: soft break if a line
				   end follows */
	QP_STATE_EQUALS_CR,	/* "=" [blanks] CR */
};

struct qp_decoder {
	string_t *dest;
	string_t *pending;	/* bytes not yet decided */
	enum qp_state state;
	bool invalid;		/* a malformed sequence in this call */
	const char *error;
};

struct qp_decoder *qp_decoder_init(string_t *dest)
{
	struct qp_decoder *qp = i_new(struct qp_decoder, 1);

	qp->dest = dest;
	qp->pending = str_new(16);
	return qp;
}

void qp_decoder_deinit(struct qp_decoder **_qp)
{
	struct qp_decoder *qp = *_qp;

	if (qp == NULL)
		return;
	*_qp = NULL;
	str_free(&qp->pending);
	free(qp);
}

static void pending_flush(struct qp_decoder *qp)
{
	str_append_str(qp->dest, qp->pending);
	str_truncate(qp->pending, 0);
}

static void pending_set(struct qp_decoder *qp, enum qp_state state,
			unsigned char c)
{
	str_append_c(qp->pending, (char)c);
	qp->state = state;
}

static void hard_break(struct qp_decoder *qp)
{
	str_truncate(qp->pending, 0);
	str_append(qp->dest, "\r\n");
	qp->state = QP_STATE_TEXT;
}

static void soft_break(struct qp_decoder *qp)
{
	str_truncate(qp->pending, 0);
	qp->state = QP_STATE_TEXT;
}

/* A "=" sequence (or a lone CR) turned out malformed: keep it as
   text. */
static void equals_invalid(struct qp_decoder *qp, const char *error)
{
	if (!qp->invalid)
		qp->error = error;
	qp->invalid = true;
	pending_flush(qp);
	qp->state = QP_STATE_TEXT;
}

static void text_byte(struct qp_decoder *qp, unsigned char c)
{
	switch (c) {
	case '=':
		pending_set(qp, QP_STATE_EQUALS, c);
		break;
	case ' ':
	case '\t':
		pending_set(qp, QP_STATE_SPACES, c);
		break;
	case '\r':
		pending_set(qp, QP_STATE_CR, c);
		break;
	case '\n':
		hard_break(qp);
		break;
	default:
		str_append_c(qp->dest, (char)c);
		break;
	}
}

/* Feed one byte; returns false if it must be fed again (the state
   changed without consuming it). */
static bool qp_byte(struct qp_decoder *qp, unsigned char c)
{
	int hi, lo;

	switch (qp->state) {
	case QP_STATE_TEXT:
		text_byte(qp, c);
		return true;
	case QP_STATE_CR:
		if (c == '\n') {
			hard_break(qp);
			return true;
		}
		equals_invalid(qp, "CR not followed by LF");
		return false;
	case QP_STATE_SPACES:
		if (c == ' ' || c == '\t') {
			str_append_c(qp->pending, (char)c);
			return true;
		}
		if (c == '\r') {
			pending_set(qp, QP_STATE_SPACES_CR, c);
			return true;
		}
		if (c == '\n') {
			hard_break(qp);
			return true;
		}
		pending_flush(qp);
		qp->state = QP_STATE_TEXT;
		return false;
	case QP_STATE_SPACES_CR:
		if (c == '\n') {
			hard_break(qp);
			return true;
		}
		equals_invalid(qp, "CR not followed by LF");
		return false;
	case QP_STATE_EQUALS:
		if (hex_digit_value(c) >= 0) {
			pending_set(qp, QP_STATE_EQUALS_HEX, c);
			return true;
		}
		if (c == ' ' || c == '\t') {
			pending_set(qp, QP_STATE_EQUALS_SPACES, c);
			return true;
		}
		if (c == '\r') {
			pending_set(qp, QP_STATE_EQUALS_CR, c);
			return true;
		}
		if (c == '\n') {
			soft_break(qp);
			return true;
		}
		equals_invalid(qp, "'=' not followed by two hex digits");
		return false;
	case QP_STATE_EQUALS_HEX:
		if ((lo = hex_digit_value(c)) >= 0) {
			hi = hex_digit_value((unsigned char)str_c(qp->pending)[1]);
			str_truncate(qp->pending, 0);
			str_append_c(qp->dest, (char)(hi << 4 | lo));
			qp->state = QP_STATE_TEXT;
			return true;
		}
		equals_invalid(qp, "'=' not followed by two hex digits");
		return false;
	case QP_STATE_EQUALS_SPACES:
		if (c == ' ' || c == '\t') {
			str_append_c(qp->pending, (char)c);
			return true;
		}
		if (c == '\r') {
			pending_set(qp, QP_STATE_EQUALS_CR, c);
			return true;
		}
		if (c == '\n') {
			soft_break(qp);
			return true;
		}
		equals_invalid(qp, "'=' followed by blanks but no line end");
		return false;
	case QP_STATE_EQUALS_CR:
		if (c == '\n') {
			soft_break(qp);
			return true;
		}
		equals_invalid(qp, "'=' followed by a lone CR");
		return false;
	}
	i_unreached();
}

int qp_decoder_more(struct qp_decoder *qp, const void *_src, size_t size,
		    size_t *invalid_src_pos_r, const char **error_r)
{
	const unsigned char *src = _src;
	size_t i;
	bool reported = false;

	qp->invalid = false;
	*invalid_src_pos_r = 0;
	*error_r = NULL;
	for (i = 0; i < size; ) {
		if (qp_byte(qp, src[i]))
			i++;
		if (qp->invalid && !reported) {
			reported = true;
			*invalid_src_pos_r = i;
			*error_r = qp->error;
		}
	}
	return qp->invalid ? -1 : 0;
}

int qp_decoder_finish(struct qp_decoder *qp, const char **error_r)
{
	int ret = 0;

	*error_r = NULL;
	switch (qp->state) {
	case QP_STATE_SPACES:
		/* trailing blanks at the end of the input are dropped */
		str_truncate(qp->pending, 0);
		break;
	case QP_STATE_CR:
	case QP_STATE_SPACES_CR:
		*error_r = "Input ends with a CR";
		pending_flush(qp);
		ret = -2;
		break;
	case QP_STATE_EQUALS_HEX:
		*error_r = "'=' not followed by two hex digits";
		pending_flush(qp);
		ret = -1;
		break;
	case QP_STATE_EQUALS:
	case QP_STATE_EQUALS_SPACES:
	case QP_STATE_EQUALS_CR:
		*error_r = "Input ends with '=' (a soft line break without "
			"a line end)";
		pending_flush(qp);
		ret = -2;
		break;
	default:
		pending_flush(qp);
		break;
	}
	qp->state = QP_STATE_TEXT;
	return ret;
}

int qp_decode(string_t *dest, const void *src, size_t size)
{
	struct qp_decoder *qp = qp_decoder_init(dest);
	const char *error;
	size_t pos;
	int ret;

	ret = qp_decoder_more(qp, src, size, &pos, &error);
	if (qp_decoder_finish(qp, &error) < 0)
		ret = -1;
	(void)pos;
	qp_decoder_deinit(&qp);
	return ret;
}

/* mbox-scan.c - split an mbox file image into messages. A message is a
 * From_ line, header lines up to an empty line, and a body that ends where
 * Content-Length says when the next From_ line (or the end of the file)
 * is really there, else before the next "\nFrom " line with a valid date.
 * The line end before that From_ line (the empty line Dovecot writes
 * after each message) is the separator, not part of the message; at the
 * end of the file the last line end is the separator. Body "From " lines
 * are never escaped or unescaped: bytes are kept as they are. */
#include "mbox-private.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <strings.h>

/* a From_ line longer than this isn't one */
#define MBOX_FROM_LINE_MAX 1024

void mbox_scan_init(struct mbox_scan *scan)
{
	memset(scan, 0, sizeof(*scan));
}

static void names_free(ARRAY_STR *names)
{
	for (size_t i = 0; i < names->count; i++)
		free((char *)names->v[i]);
	array_free(names);
}

void mbox_scan_free(struct mbox_scan *scan)
{
	array_free(&scan->msgs);
	names_free(&scan->kw_names);
	names_free(&scan->base_keywords);
	memset(scan, 0, sizeof(*scan));
}

/* Is there a valid From_ line at pos? */
static bool from_line_at(const unsigned char *data, size_t size, size_t pos,
			 time_t *time_r)
{
	const unsigned char *nl;
	size_t max;
	size_t sender_len;
	time_t t;

	if (size - pos < 5 || memcmp(data + pos, "From ", 5) != 0)
		return false;
	max = MIN(size - pos, MBOX_FROM_LINE_MAX);
	nl = memchr(data + pos, '\n', max);
	if (nl == NULL) {
		if (size - pos > MBOX_FROM_LINE_MAX)
			return false;
		nl = data + size;
	}
	if (!mbox_from_parse(data + pos, (size_t)(nl - (data + pos)), &t,
			     &sender_len))
		return false;
	if (time_r != NULL)
		*time_r = t;
	return true;
}

/* The next "\nFrom " line with a valid From_ line at or after pos (the
 * '\n' may be at pos). Returns the offset of "From " or size. */
static size_t find_next_from(const unsigned char *data, size_t size,
			     size_t pos)
{
	while (pos + 6 <= size) {
		const unsigned char *p = memmem(data + pos, size - pos,
						"\nFrom ", 6);
		size_t q;

		if (p == NULL)
			break;
		q = (size_t)(p - data) + 1;
		if (from_line_at(data, size, q, NULL))
			return q;
		pos = q;
	}
	return size;
}

static size_t line_end_at(const unsigned char *data, size_t size, size_t pos)
{
	const unsigned char *nl = memchr(data + pos, '\n', size - pos);

	return nl == NULL ? size : (size_t)(nl - data) + 1;
}

/* Header lines from msg->hdr_offset: records the Dovecot fields and
 * where the header ends. Returns true if a From_ line cut it short. */
static bool scan_header(const unsigned char *data, size_t size,
			struct mbox_msg *msg)
{
	size_t p = msg->hdr_offset;

	for (unsigned int i = 0; i < MBOX_HDR_COUNT; i++)
		msg->hdrs[i].len = 0;
	while (p < size) {
		size_t line_end;
		enum mbox_header_type type;

		if (data[p] == '\n' ||
		    (data[p] == '\r' && p + 1 < size && data[p + 1] == '\n')) {
			msg->has_eoh = true;
			msg->hdr_end = p + (data[p] == '\n' ? 1 : 2);
			return false;
		}
		if (data[p] == 'F' && from_line_at(data, size, p, NULL)) {
			msg->hdr_end = p;
			return true;
		}
		line_end = line_end_at(data, size, p);
		while (line_end < size &&
		       (data[line_end] == ' ' || data[line_end] == '\t'))
			line_end = line_end_at(data, size, line_end);
		type = mbox_header_type(data + p, line_end - p);
		if (type != MBOX_HDR_NONE && msg->hdrs[type].len == 0 &&
		    p - msg->hdr_offset < UINT32_MAX &&
		    line_end - p < UINT32_MAX) {
			msg->hdrs[type].start = (uint32_t)(p - msg->hdr_offset);
			msg->hdrs[type].len = (uint32_t)(line_end - p);
		}
		p = line_end;
	}
	msg->hdr_end = size;
	return false;
}

/* Where the body ends: Content-Length if it is right, else the next
 * valid From_ line, else the end of the file. */
static void scan_body(const unsigned char *data, size_t size,
		      struct mbox_msg *msg)
{
	size_t body = msg->hdr_end, q;

	if (msg->have_cl && msg->content_length <= size - body) {
		size_t e = body + (size_t)msg->content_length;

		msg->cl_valid = true;
		if (e == size) {
			msg->msg_end = msg->next_offset = size;
			return;
		}
		if (data[e] == '\n' &&
		    (e + 1 == size || from_line_at(data, size, e + 1, NULL))) {
			msg->msg_end = e;
			msg->next_offset = e + 1;
			return;
		}
		if (data[e] == '\r' && e + 1 < size && data[e + 1] == '\n' &&
		    (e + 2 == size || from_line_at(data, size, e + 2, NULL))) {
			msg->msg_end = e;
			msg->next_offset = e + 2;
			return;
		}
		msg->cl_valid = false;
	}
	/* the '\n' before "From " may be the header's empty line */
	q = find_next_from(data, size, body > msg->hdr_offset ? body - 1 : body);
	msg->next_offset = q;
	if (q < size) {
		msg->msg_end = q - 1;
	} else {
		msg->msg_end = size;
		if (size > msg->hdr_offset && data[size - 1] == '\n')
			msg->msg_end = size - 1;
	}
	if (msg->msg_end > msg->hdr_offset && data[msg->msg_end - 1] == '\r' &&
	    msg->msg_end - 1 >= body)
		msg->msg_end--;
}

static void span_value(const unsigned char *data, const struct mbox_msg *msg,
		       enum mbox_header_type type,
		       const unsigned char **value_r, size_t *len_r)
{
	const struct mbox_span *span = &msg->hdrs[type];

	mbox_header_value(data + msg->hdr_offset + span->start, span->len,
			  value_r, len_r);
}

/* Size of the header part [start, limit) as FETCH shows it: without
 * the Dovecot header lines, and with CRLF line ends as LF (Dovecot's
 * header filter drops the CRs). */
static uint64_t header_export_size(const unsigned char *data, uint64_t start,
				   uint64_t limit)
{
	uint64_t p = start, size = 0;

	while (p < limit) {
		size_t line_end = line_end_at(data, limit, p);

		while (line_end < limit &&
		       (data[line_end] == ' ' || data[line_end] == '\t'))
			line_end = line_end_at(data, limit, line_end);
		if (mbox_header_type(data + p, line_end - p) == MBOX_HDR_NONE) {
			size += line_end - p;
			for (size_t i = p + 1; i < line_end; i++) {
				if (data[i] == '\n' && data[i - 1] == '\r')
					size--;
			}
		}
		p = line_end;
	}
	return size;
}

/* Dovecot's "apop3d" header MD5, its GUID for mbox mail: the values
 * (after ':' and one blank, continuation lines as they are) of
 * X-Delivery-ID and Delivered-To, of the first Received, and of Date and
 * Message-ID when no Received came before them. */
static void scan_guid(const unsigned char *data, struct mbox_msg *msg)
{
	uint64_t p = msg->hdr_offset, end = MIN(msg->hdr_end, msg->msg_end);
	string_t *str = str_new(128);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	bool seen_received = false, hashing = false;

	while (p < end) {
		size_t line_end = line_end_at(data, end, p), len = line_end - p;
		const unsigned char *line = data + p, *colon;
		size_t name_len;

		p = line_end;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t') {
			if (hashing)
				str_append_n(str, line, len);
			continue;
		}
		hashing = false;
		colon = memchr(line, ':', len);
		if (colon == NULL)
			continue;
		name_len = (size_t)(colon - line);
		while (name_len > 0 && (line[name_len - 1] == ' ' ||
					line[name_len - 1] == '\t'))
			name_len--;
#define NAME_IS(n) (name_len == sizeof(n) - 1 && \
		    strncasecmp((const char *)line, n, name_len) == 0)
		if (NAME_IS("X-Delivery-ID") || NAME_IS("Delivered-To")) {
			hashing = true;
		} else if (NAME_IS("Date") || NAME_IS("Message-ID")) {
			hashing = !seen_received;
		} else if (NAME_IS("Received")) {
			hashing = !seen_received;
			seen_received = true;
		}
#undef NAME_IS
		if (hashing) {
			const unsigned char *v = colon + 1, *vend = line + len;

			if (v < vend && (*v == ' ' || *v == '\t'))
				v++;
			str_append_n(str, v, (size_t)(vend - v));
		}
	}
	if (EVP_Digest(str_c(str), str_len(str), md, &md_len, EVP_md5(),
		       NULL) != 1 || md_len != 16)
		md_len = 0;
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(msg->guid + i * 2, 3, "%02x", md[i]);
	str_free(&str);
}

static void scan_fields(const unsigned char *data, struct mbox_scan *scan,
			struct mbox_msg *msg)
{
	const unsigned char *value;
	size_t len;
	uint64_t num;

	if (msg->hdrs[MBOX_HDR_UID].len > 0) {
		span_value(data, msg, MBOX_HDR_UID, &value, &len);
		if (mbox_parse_uint(value, len, UINT32_MAX - 1, &num))
			msg->file_uid = msg->uid = (uint32_t)num;
	}
	if (msg->hdrs[MBOX_HDR_STATUS].len > 0) {
		span_value(data, msg, MBOX_HDR_STATUS, &value, &len);
		msg->flags |= mbox_status_parse(value, len, &msg->nonrecent);
	}
	if (msg->hdrs[MBOX_HDR_XSTATUS].len > 0) {
		span_value(data, msg, MBOX_HDR_XSTATUS, &value, &len);
		msg->flags |= mbox_xstatus_parse(value, len);
	}
	if (msg->hdrs[MBOX_HDR_KEYWORDS].len > 0) {
		span_value(data, msg, MBOX_HDR_KEYWORDS, &value, &len);
		msg->kw_first = (uint32_t)scan->kw_names.count;
		mbox_keywords_split(value, len, &scan->kw_names);
		msg->kw_count = (uint32_t)scan->kw_names.count - msg->kw_first;
	}
	if (msg->hdrs[MBOX_HDR_CONTENT_LENGTH].len > 0) {
		span_value(data, msg, MBOX_HDR_CONTENT_LENGTH, &value, &len);
		if (mbox_parse_uint(value, len, (uint64_t)INT64_MAX, &num)) {
			msg->have_cl = true;
			msg->content_length = num;
		}
	}
}

static void scan_base(const unsigned char *data, struct mbox_scan *scan,
		      struct mbox_msg *msg)
{
	enum mbox_header_type type = MBOX_HDR_IMAPBASE;
	const unsigned char *value;
	size_t len;

	if (msg->hdrs[type].len == 0) {
		type = MBOX_HDR_IMAP;
		if (msg->hdrs[type].len == 0)
			return;
	}
	span_value(data, msg, type, &value, &len);
	if (!mbox_base_parse(value, len, &scan->base_uidvalidity,
			     &scan->base_last_uid, &scan->base_keywords)) {
		names_free(&scan->base_keywords);
		return;
	}
	scan->have_base = true;
	/* UW-IMAP keeps X-IMAP in a pseudo message that isn't mail */
	msg->pseudo = type == MBOX_HDR_IMAP;
}

/* Scan messages from pos (a From_ line) to the end. */
static void scan_from(const unsigned char *data, size_t size,
		      struct mbox_scan *scan, size_t pos)
{
	scan->file_size = size;
	while (pos < size) {
		struct mbox_msg *msg = array_append_space(&scan->msgs);
		size_t line_end = line_end_at(data, size, pos);
		time_t t = 0;

		msg->from_offset = pos;
		msg->crlf = line_end >= pos + 2 && data[line_end - 1] == '\n' &&
			data[line_end - 2] == '\r';
		if (!from_line_at(data, size, pos, &t))
			t = 0;	/* only the first line can be this lax */
		msg->received = t;
		msg->hdr_offset = line_end;
		if (scan_header(data, size, msg)) {
			/* cut short by the next From_ line, whose preceding
			   line end is the separator */
			msg->next_offset = msg->hdr_end;
			msg->msg_end = msg->hdr_end;
			if (msg->msg_end > msg->hdr_offset &&
			    data[msg->msg_end - 1] == '\n')
				msg->msg_end--;
			if (msg->msg_end > msg->hdr_offset &&
			    data[msg->msg_end - 1] == '\r')
				msg->msg_end--;
			scan_fields(data, scan, msg);
		} else {
			scan_fields(data, scan, msg);
			scan_body(data, size, msg);
		}
		{
			uint64_t hdr_limit = MIN(msg->hdr_end, msg->msg_end);
			uint64_t body = msg->msg_end > msg->hdr_end ?
				msg->msg_end - msg->hdr_end : 0;

			msg->size = header_export_size(data, msg->hdr_offset,
						       hdr_limit) + body;
		}
		scan_guid(data, msg);
		if (scan->msgs.count == 1)
			scan_base(data, scan, msg);
		i_assert(msg->next_offset > pos);
		pos = msg->next_offset;
	}
}

int mbox_scan_buffer(const unsigned char *data, size_t size,
		     struct mbox_scan *scan, const char **error_r)
{
	scan->file_size = size;
	if (size < 5 || memcmp(data, "From ", 5) != 0) {
		for (size_t i = 0; i < size; i++) {
			if (data[i] != '\n' && data[i] != '\r' &&
			    data[i] != ' ' && data[i] != '\t') {
				*error_r = "Mailbox isn't a valid mbox file";
				return -1;
			}
		}
		return 0;
	}
	scan_from(data, size, scan, 0);
	return 0;
}

void mbox_scan_continue(const unsigned char *data, size_t size,
			struct mbox_scan *scan, unsigned int idx)
{
	uint64_t pos = scan->msgs.v[idx].from_offset;

	i_assert(idx > 0 && idx < scan->msgs.count);
	scan->msgs.count = idx;
	scan_from(data, size, scan, pos);
}

bool mbox_scan_update_header(const unsigned char *data, size_t size,
			     struct mbox_scan *scan, unsigned int idx)
{
	struct mbox_msg *msg = &scan->msgs.v[idx];
	uint64_t hdr_end = msg->hdr_end;
	bool has_eoh = msg->has_eoh;
	uint64_t hdr_limit, body;

	/* same length: the header must end where it did */
	if (scan_header(data, size, msg) || msg->hdr_end != hdr_end ||
	    msg->has_eoh != has_eoh)
		return false;
	msg->file_uid = 0;
	msg->flags = 0;
	msg->nonrecent = false;
	msg->kw_count = 0;
	msg->have_cl = false;
	scan_fields(data, scan, msg);
	hdr_limit = MIN(msg->hdr_end, msg->msg_end);
	body = msg->msg_end > msg->hdr_end ? msg->msg_end - msg->hdr_end : 0;
	msg->size = header_export_size(data, msg->hdr_offset, hdr_limit) + body;
	scan_guid(data, msg);
	if (idx == 0) {
		names_free(&scan->base_keywords);
		scan->have_base = false;
		scan_base(data, scan, msg);
	}
	return true;
}

int mbox_scan_find_uid(const struct mbox_scan *scan, uint32_t uid)
{
	size_t lo = 0, hi = scan->msgs.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t m = scan->msgs.v[mid].uid;

		if (m == uid && !scan->msgs.v[mid].pseudo)
			return (int)mid;
		if (m < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* not sorted (broken UIDs not yet fixed): look at all */
	for (size_t i = 0; i < scan->msgs.count; i++) {
		if (scan->msgs.v[i].uid == uid && !scan->msgs.v[i].pseudo)
			return (int)i;
	}
	return -1;
}

uint64_t mbox_msg_vsize(const unsigned char *data, const struct mbox_msg *msg)
{
	uint64_t limit = MIN(msg->hdr_end, msg->msg_end), p = msg->hdr_offset;
	uint64_t vsize = msg->size;

	/* exported header lines end in bare LFs: each gets a CR */
	while (p < limit) {
		size_t line_end = line_end_at(data, limit, p);

		while (line_end < limit &&
		       (data[line_end] == ' ' || data[line_end] == '\t'))
			line_end = line_end_at(data, limit, line_end);
		if (mbox_header_type(data + p, line_end - p) == MBOX_HDR_NONE) {
			for (size_t i = p; i < line_end; i++) {
				/* one CR before each LF is dropped: what
				   precedes the LF in the copy? */
				if (data[i] != '\n')
					continue;
				if (i == p || data[i - 1] != '\r' ||
				    i - 1 == p || data[i - 2] != '\r')
					vsize++;
			}
		}
		p = line_end;
	}
	for (p = msg->hdr_end; p < msg->msg_end;) {
		const unsigned char *nl = memchr(data + p, '\n',
						 msg->msg_end - p);

		if (nl == NULL)
			break;
		p = (uint64_t)(nl - data);
		if (p == msg->hdr_end || data[p - 1] != '\r')
			vsize++;
		p++;
	}
	return vsize;
}

void mbox_msg_export(const unsigned char *data, const struct mbox_msg *msg,
		     string_t *dest)
{
	uint64_t limit = MIN(msg->hdr_end, msg->msg_end), p = msg->hdr_offset;

	while (p < limit) {
		size_t line_end = line_end_at(data, limit, p);

		while (line_end < limit &&
		       (data[line_end] == ' ' || data[line_end] == '\t'))
			line_end = line_end_at(data, limit, line_end);
		if (mbox_header_type(data + p, line_end - p) == MBOX_HDR_NONE) {
			size_t start = p;

			for (size_t i = p + 1; i < line_end; i++) {
				if (data[i] == '\n' && data[i - 1] == '\r') {
					str_append_n(dest, data + start,
						     i - 1 - start);
					start = i;
				}
			}
			str_append_n(dest, data + start, line_end - start);
		}
		p = line_end;
	}
	if (msg->msg_end > msg->hdr_end)
		str_append_n(dest, data + msg->hdr_end,
			     msg->msg_end - msg->hdr_end);
}

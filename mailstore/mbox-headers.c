/* mbox-headers.c - the header fields Dovecot keeps mbox state in:
 *   X-IMAPbase: <uidvalidity> <last uid, 10 digits> [keywords]  (1st msg)
 *   X-IMAP:     the same, in UW-IMAP's pseudo message
 *   X-UID: <uid>
 *   Status: R (\Seen) O (not \Recent)
 *   X-Status: A (\Answered) F (\Flagged) T (\Draft) D (\Deleted)
 *   X-Keywords: <names>, padded with spaces for in-place changes
 *   Content-Length: <body bytes>
 * They are parsed here, rebuilt for in-place updates (the padding absorbs
 * size changes) and written for new messages in Dovecot's order. */
#include "mbox-private.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

static const struct {
	const char *name;
	size_t len;
} header_names[MBOX_HDR_COUNT] = {
	[MBOX_HDR_IMAPBASE] = { "X-IMAPbase", 10 },
	[MBOX_HDR_IMAP] = { "X-IMAP", 6 },
	[MBOX_HDR_UID] = { "X-UID", 5 },
	[MBOX_HDR_STATUS] = { "Status", 6 },
	[MBOX_HDR_XSTATUS] = { "X-Status", 8 },
	[MBOX_HDR_KEYWORDS] = { "X-Keywords", 10 },
	[MBOX_HDR_CONTENT_LENGTH] = { "Content-Length", 14 },
};

static const struct {
	char letter;
	uint8_t flag;
} xstatus_letters[] = {
	{ 'A', MAIL_ANSWERED },
	{ 'F', MAIL_FLAGGED },
	{ 'T', MAIL_DRAFT },
	{ 'D', MAIL_DELETED },
};
#define XSTATUS_FLAGS_MASK \
	(MAIL_ANSWERED | MAIL_FLAGGED | MAIL_DRAFT | MAIL_DELETED)

enum mbox_header_type mbox_header_type(const unsigned char *line, size_t len)
{
	const unsigned char *colon = memchr(line, ':', len);
	size_t name_len;

	if (colon == NULL)
		return MBOX_HDR_NONE;
	name_len = (size_t)(colon - line);
	/* "Name :" (obsolete syntax) */
	while (name_len > 0 && (line[name_len - 1] == ' ' ||
				line[name_len - 1] == '\t'))
		name_len--;
	if (name_len < 5 || name_len > 14)
		return MBOX_HDR_NONE;
	for (unsigned int i = 0; i < MBOX_HDR_COUNT; i++) {
		if (header_names[i].len == name_len &&
		    strncasecmp((const char *)line, header_names[i].name,
				name_len) == 0)
			return (enum mbox_header_type)i;
	}
	return MBOX_HDR_NONE;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void mbox_header_value(const unsigned char *line, size_t len,
		       const unsigned char **value_r, size_t *value_len_r)
{
	const unsigned char *p = memchr(line, ':', len), *end = line + len;

	if (p == NULL) {
		*value_r = end;
		*value_len_r = 0;
		return;
	}
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	*value_r = p;
	*value_len_r = (size_t)(end - p);
}

uint8_t mbox_status_parse(const unsigned char *value, size_t len,
			  bool *nonrecent_r)
{
	uint8_t flags = 0;

	*nonrecent_r = false;
	for (size_t i = 0; i < len; i++) {
		if (value[i] == 'R')
			flags |= MAIL_SEEN;
		else if (value[i] == 'O')
			*nonrecent_r = true;
	}
	return flags;
}

uint8_t mbox_xstatus_parse(const unsigned char *value, size_t len)
{
	uint8_t flags = 0;

	for (size_t i = 0; i < len; i++) {
		for (unsigned int j = 0; j < N_ELEMENTS(xstatus_letters); j++) {
			if (value[i] == xstatus_letters[j].letter)
				flags |= xstatus_letters[j].flag;
		}
	}
	return flags;
}

void mbox_status_append(string_t *dest, uint8_t flags, bool nonrecent)
{
	if ((flags & MAIL_SEEN) != 0)
		str_append_c(dest, 'R');
	if (nonrecent)
		str_append_c(dest, 'O');
}

void mbox_xstatus_append(string_t *dest, uint8_t flags)
{
	for (unsigned int j = 0; j < N_ELEMENTS(xstatus_letters); j++) {
		if ((flags & xstatus_letters[j].flag) != 0)
			str_append_c(dest, xstatus_letters[j].letter);
	}
}

bool mbox_parse_uint(const unsigned char *value, size_t len, uint64_t max,
		     uint64_t *num_r)
{
	uint64_t num = 0;
	size_t i = 0;

	while (len > 0 && is_blank(value[len - 1]))
		len--;
	if (len == 0)
		return false;
	for (; i < len; i++) {
		if (!isdigit(value[i]))
			return false;
		if (num > (max - (uint64_t)(value[i] - '0')) / 10)
			return false;
		num = num * 10 + (uint64_t)(value[i] - '0');
	}
	*num_r = num;
	return true;
}

void mbox_keywords_split(const unsigned char *value, size_t len,
			 ARRAY_STR *names)
{
	const unsigned char *p = value, *end = value + len;

	while (p < end) {
		const unsigned char *start;

		while (p < end && is_blank(*p))
			p++;
		start = p;
		while (p < end && !is_blank(*p))
			p++;
		if (p > start)
			array_push(names, i_strndup((const char *)start,
						    (size_t)(p - start)));
	}
}

bool mbox_base_parse(const unsigned char *value, size_t len,
		     uint32_t *uidvalidity_r, uint32_t *last_uid_r,
		     ARRAY_STR *keywords)
{
	const unsigned char *p = value, *end = value + len, *start;
	uint64_t num;

	start = p;
	while (p < end && isdigit(*p))
		p++;
	if (!mbox_parse_uint(start, (size_t)(p - start), UINT32_MAX, &num) ||
	    num == 0)
		return false;
	*uidvalidity_r = (uint32_t)num;
	while (p < end && is_blank(*p))
		p++;
	start = p;
	while (p < end && isdigit(*p))
		p++;
	if (!mbox_parse_uint(start, (size_t)(p - start), UINT32_MAX, &num))
		return false;
	*last_uid_r = (uint32_t)num;
	if (p < end && !is_blank(*p))
		return false;
	mbox_keywords_split(p, (size_t)(end - p), keywords);
	return true;
}

/* ---- writing ---- */

static void append_names(string_t *dest, const char *const *names,
			 unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		str_append_c(dest, ' ');
		str_append(dest, names[i]);
	}
}

static void append_base_value(string_t *dest, const struct mbox_hdr_state *st)
{
	str_printfa(dest, " %u %010u", st->uidvalidity, st->last_uid);
	append_names(dest, st->base_keywords, st->base_keywords_count);
}

/* The line for type without its line end. */
static void append_managed(string_t *dest, enum mbox_header_type type,
			   const struct mbox_hdr_state *st)
{
	str_append(dest, header_names[type].name);
	str_append_c(dest, ':');
	switch (type) {
	case MBOX_HDR_IMAPBASE:
	case MBOX_HDR_IMAP:
		append_base_value(dest, st);
		break;
	case MBOX_HDR_UID:
		str_printfa(dest, " %u", st->uid);
		break;
	case MBOX_HDR_STATUS:
		str_append_c(dest, ' ');
		mbox_status_append(dest, st->flags, st->nonrecent);
		break;
	case MBOX_HDR_XSTATUS:
		str_append_c(dest, ' ');
		mbox_xstatus_append(dest, st->flags);
		break;
	case MBOX_HDR_KEYWORDS:
		append_names(dest, st->keywords, st->keywords_count);
		break;
	case MBOX_HDR_CONTENT_LENGTH:
		str_printfa(dest, " %llu", (unsigned long long)st->body_size);
		break;
	default:
		i_unreached();
	}
}

/* Is type rewritten by us for this message? (else copied as it is) */
static bool header_managed(enum mbox_header_type type,
			   const struct mbox_hdr_state *st)
{
	if (st->pseudo)
		return type == MBOX_HDR_IMAP;
	return true;
}

/* Is an existing line of type kept (rewritten) or dropped? */
static bool header_kept(enum mbox_header_type type,
			const struct mbox_hdr_state *st)
{
	switch (type) {
	case MBOX_HDR_IMAPBASE:
		return st->base && !st->pseudo;
	case MBOX_HDR_IMAP:
		return st->base && st->pseudo;
	default:
		return true;
	}
}

/* Is a missing line of type added? */
static bool header_added(enum mbox_header_type type,
			 const struct mbox_hdr_state *st)
{
	if (st->pseudo)
		return type == MBOX_HDR_IMAP && st->base;
	switch (type) {
	case MBOX_HDR_IMAPBASE:
		return st->base;
	case MBOX_HDR_UID:
		return st->uid != 0;
	case MBOX_HDR_STATUS:
		/* Dovecot adds an empty Status: only when saving */
		return (st->flags & MAIL_SEEN) != 0 || st->nonrecent;
	case MBOX_HDR_XSTATUS:
		return (st->flags & XSTATUS_FLAGS_MASK) != 0;
	case MBOX_HDR_KEYWORDS:
		return st->keywords_count > 0;
	default:
		return false;
	}
}

/* Insert count spaces at pos of dest. */
static void insert_spaces(string_t *dest, size_t pos, size_t count)
{
	size_t old_len = str_len(dest);

	str_reserve(dest, count);
	memmove(dest->data + pos + count, dest->data + pos, old_len - pos);
	memset(dest->data + pos, ' ', count);
	dest->len = old_len + count;
	dest->data[dest->len] = '\0';
}

/* Length of the line end at the end of [p, end): 0, 1 or 2. */
static size_t eol_len(const unsigned char *p, const unsigned char *end)
{
	if (end > p && end[-1] == '\n')
		return end - 1 > p && end[-2] == '\r' ? 2 : 1;
	return 0;
}

bool mbox_header_rebuild(string_t *dest, const unsigned char *hdr,
			 size_t hdr_len, bool has_eoh,
			 const struct mbox_hdr_state *st, size_t target_len)
{
	static const enum mbox_header_type add_order[] = {
		MBOX_HDR_IMAPBASE, MBOX_HDR_IMAP, MBOX_HDR_UID,
		MBOX_HDR_STATUS, MBOX_HDR_XSTATUS, MBOX_HDR_KEYWORDS,
	};
	const unsigned char *p = hdr, *end = hdr + hdr_len;
	const unsigned char *eoh = NULL;
	size_t start_len = str_len(dest), eoh_size = 0, cur_len, pad;
	size_t pad_pos = SIZE_MAX, last_pos = SIZE_MAX;
	bool seen[MBOX_HDR_COUNT] = { false };
	bool pad_is_kw = false, pad_found = false;

	if (has_eoh) {
		eoh_size = eol_len(hdr, end);
		end -= eoh_size;
		if (eoh_size > 0)
			eoh = end;
	}
	while (p < end) {
		const unsigned char *line_end = memchr(p, '\n',
						       (size_t)(end - p));
		enum mbox_header_type type;
		size_t raw_len, le;

		line_end = line_end == NULL ? end : line_end + 1;
		/* continuation lines belong to the field */
		while (line_end < end && (*line_end == ' ' || *line_end == '\t')) {
			const unsigned char *nl = memchr(line_end, '\n',
				(size_t)(end - line_end));
			line_end = nl == NULL ? end : nl + 1;
		}
		raw_len = (size_t)(line_end - p);
		type = mbox_header_type(p, raw_len);
		if (type == MBOX_HDR_NONE || !header_managed(type, st)) {
			str_append_n(dest, p, raw_len);
			if (line_end[-1] != '\n')
				str_append(dest, st->eol);
			p = line_end;
			continue;
		}
		if (seen[type] || !header_kept(type, st)) {
			/* duplicate or not wanted here: dropped */
			p = line_end;
			continue;
		}
		seen[type] = true;
		le = eol_len(p, line_end);
		append_managed(dest, type, st);
		if (type == MBOX_HDR_KEYWORDS) {
			pad_pos = str_len(dest);
			pad_is_kw = true;
		} else if (!pad_is_kw && !pad_found) {
			/* a line that carried padding keeps carrying it */
			size_t n = raw_len - le, spaces = 0;

			while (spaces < n && p[n - 1 - spaces] == ' ')
				spaces++;
			if (spaces >= 2) {
				pad_pos = str_len(dest);
				pad_found = true;
			}
		}
		last_pos = str_len(dest);
		if (le > 0)
			str_append_n(dest, line_end - le, le);
		else
			str_append(dest, st->eol);
		p = line_end;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(add_order); i++) {
		enum mbox_header_type type = add_order[i];

		if (seen[type] || !header_added(type, st))
			continue;
		append_managed(dest, type, st);
		if (type == MBOX_HDR_KEYWORDS) {
			pad_pos = str_len(dest);
			pad_is_kw = true;
		}
		last_pos = str_len(dest);
		str_append(dest, st->eol);
	}
	if (pad_pos == SIZE_MAX)
		pad_pos = last_pos;

	cur_len = str_len(dest) - start_len + eoh_size;
	if (target_len != 0) {
		if (cur_len > target_len || pad_pos == SIZE_MAX) {
			str_truncate(dest, start_len);
			return false;
		}
		pad = target_len - cur_len;
	} else {
		pad = pad_pos == SIZE_MAX ? 0 : MBOX_HEADER_PADDING;
	}
	if (pad > 0)
		insert_spaces(dest, pad_pos, pad);
	if (eoh != NULL)
		str_append_n(dest, eoh, eoh_size);
	return true;
}

size_t mbox_save_filter_header(string_t *dest, const unsigned char *data,
			       size_t size, bool *has_eoh_r)
{
	const unsigned char *p = data, *end = data + size;

	*has_eoh_r = false;
	while (p < end) {
		const unsigned char *line_end;
		enum mbox_header_type type;
		bool from_line;

		if (*p == '\n') {
			*has_eoh_r = true;
			return (size_t)(p + 1 - data);
		}
		if (*p == '\r' && p + 1 < end && p[1] == '\n') {
			*has_eoh_r = true;
			return (size_t)(p + 2 - data);
		}
		line_end = memchr(p, '\n', (size_t)(end - p));
		line_end = line_end == NULL ? end : line_end + 1;
		while (line_end < end && (*line_end == ' ' || *line_end == '\t')) {
			const unsigned char *nl = memchr(line_end, '\n',
				(size_t)(end - line_end));
			line_end = nl == NULL ? end : nl + 1;
		}
		type = mbox_header_type(p, (size_t)(line_end - p));
		from_line = line_end - p >= 5 && memcmp(p, "From ", 5) == 0;
		if (type == MBOX_HDR_NONE && !from_line) {
			str_append_n(dest, p, (size_t)(line_end - p));
			if (line_end[-1] != '\n')
				str_append_c(dest, '\n');
		}
		p = line_end;
	}
	return size;
}

void mbox_save_append_headers(string_t *dest,
			      const struct mbox_hdr_state *st)
{
	size_t kw_start, kw_len, cl_len;
	char cl[64];
	int n;

	if (st->base) {
		str_append(dest, "X-IMAPbase:");
		append_base_value(dest, st);
		str_append_c(dest, '\n');
	}
	str_printfa(dest, "X-UID: %u\n", st->uid);
	str_append(dest, "Status: ");
	mbox_status_append(dest, st->flags, st->nonrecent);
	str_append_c(dest, '\n');
	if ((st->flags & XSTATUS_FLAGS_MASK) != 0) {
		str_append(dest, "X-Status: ");
		mbox_xstatus_append(dest, st->flags);
		str_append_c(dest, '\n');
	}
	str_append(dest, "X-Keywords:");
	kw_start = str_len(dest);
	append_names(dest, st->keywords, st->keywords_count);
	kw_len = str_len(dest) - kw_start;
	n = snprintf(cl, sizeof(cl), "\nContent-Length: %llu",
		     (unsigned long long)st->body_size);
	cl_len = (size_t)n;
	if (kw_len + cl_len < MBOX_SAVE_KEYWORD_SPACE)
		insert_spaces(dest, str_len(dest),
			      MBOX_SAVE_KEYWORD_SPACE - kw_len - cl_len);
	str_append(dest, cl);
	str_append(dest, "\n\n");
}

/* imap-base-subject.c - RFC 5256 base subject extraction (section 2.1)
 * and the titlecase + decomposition fold that SORT compares with. The
 * subject is decoded and folded first, so leaders are matched in upper
 * case ("RE", "FWD"). */
#include "imap-base-subject.h"
#include "message-header.h"
#include "charset.h"
#include "unichar.h"
#include "unicode-casemap.h"

void imap_sort_casefold(const void *data, size_t size, string_t *dest)
{
	(void)uni_utf8_to_casemap(data, size, dest);
}

/* ---- base subject -------------------------------------------------- */

struct subject {
	const char *s;		/* folded, whitespace packed */
	size_t start, end;	/* the part still left */
	bool reply;
};

static bool subj_starts(const struct subject *subj, size_t pos,
			const char *prefix)
{
	size_t len = strlen(prefix);

	return subj->end - pos >= len &&
		memcmp(subj->s + pos, prefix, len) == 0;
}

/* Skip one subj-blob ("[" *BLOBCHAR "]" *WSP) at pos; 0 if none. */
static size_t skip_blob(const struct subject *subj, size_t pos)
{
	size_t i = pos;

	if (i >= subj->end || subj->s[i] != '[')
		return 0;
	for (i++; i < subj->end && subj->s[i] != ']'; i++) {
		if (subj->s[i] == '[')
			return 0;
	}
	if (i >= subj->end)
		return 0;
	for (i++; i < subj->end && subj->s[i] == ' '; i++)
		;
	return i - pos;
}

/* Remove a "(fwd)" or whitespace trailer; false if there is none. */
static bool remove_trailer(struct subject *subj)
{
	if (subj->end > subj->start && subj->s[subj->end - 1] == ' ') {
		subj->end--;
		return true;
	}
	if (subj->end - subj->start >= 5 &&
	    memcmp(subj->s + subj->end - 5, "(FWD)", 5) == 0) {
		subj->end -= 5;
		subj->reply = true;
		return true;
	}
	return false;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP */
static bool remove_leader(struct subject *subj)
{
	size_t pos = subj->start, n;

	if (pos < subj->end && subj->s[pos] == ' ') {
		subj->start++;
		return true;
	}
	while ((n = skip_blob(subj, pos)) > 0)
		pos += n;
	if (subj_starts(subj, pos, "RE"))
		pos += 2;
	else if (subj_starts(subj, pos, "FWD"))
		pos += 3;
	else if (subj_starts(subj, pos, "FW"))
		pos += 2;
	else
		return false;
	while (pos < subj->end && subj->s[pos] == ' ')
		pos++;
	pos += skip_blob(subj, pos);
	if (pos >= subj->end || subj->s[pos] != ':')
		return false;
	subj->start = pos + 1;
	subj->reply = true;
	return true;
}

/* A leading blob goes if something (non-blank) is left after it. */
static bool remove_blob(struct subject *subj)
{
	size_t n = skip_blob(subj, subj->start);

	if (n == 0 || subj->start + n >= subj->end)
		return false;
	subj->start += n;
	return true;
}

/* "[FWD:" ... "]" around the whole subject. */
static bool remove_fwd_wrapper(struct subject *subj)
{
	if (!subj_starts(subj, subj->start, "[FWD:") ||
	    subj->end - subj->start < 6 || subj->s[subj->end - 1] != ']')
		return false;
	subj->start += 5;
	subj->end--;
	subj->reply = true;
	return true;
}

/* Decode, fold and pack whitespace: blanks and line ends become single
   spaces, none at either end. */
static void subject_normalize(const char *subject, string_t *dest)
{
	string_t *folded = str_new(128);
	bool space = true;

	/* words in unknown charsets stay unfolded, as in Dovecot */
	(void)message_header_decode_utf8_normalized(subject, strlen(subject),
						    folded,
						    uni_utf8_to_casemap);
	for (size_t i = 0; i < str_len(folded); i++) {
		char c = str_c(folded)[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = true;
			continue;
		}
		if (space && str_len(dest) > 0)
			str_append_c(dest, ' ');
		space = false;
		str_append_c(dest, c);
	}
	str_free(&folded);
}

void imap_base_subject_get(const char *subject, string_t *dest,
			   bool *is_reply_or_forward_r)
{
	string_t *buf = str_new(128);
	struct subject subj;

	subject_normalize(subject, buf);
	memset(&subj, 0, sizeof(subj));
	subj.s = str_c(buf);
	subj.end = str_len(buf);
	do {
		while (remove_trailer(&subj))
			;
		while (remove_leader(&subj) || remove_blob(&subj))
			;
	} while (remove_fwd_wrapper(&subj));
	str_append_n(dest, subj.s + subj.start, subj.end - subj.start);
	if (is_reply_or_forward_r != NULL)
		*is_reply_or_forward_r = subj.reply;
	str_free(&buf);
}

/* imap-base-subject.c - RFC 5256 base subject extraction (section 2.1)
 * and the titlecase + decomposition fold that SORT compares with. The
 * subject is decoded and folded first, so leaders are matched in upper
 * case ("RE", "FWD"). */
#include "imap-base-subject.h"
#include "message-header.h"
#include "charset.h"
#include "unichar.h"

/* ---- i;unicode-casemap ------------------------------------------- */

/* Decompositions of the Latin-1 capitals U+00C0..U+00DD: base letter and
   combining mark, 0 where there is none. */
static const struct {
	char base;
	uint16_t mark;
} latin1_decomp[] = {
	{ 'A', 0x300 }, { 'A', 0x301 }, { 'A', 0x302 }, { 'A', 0x303 },
	{ 'A', 0x308 }, { 'A', 0x30a }, { 0, 0 }, { 'C', 0x327 },
	{ 'E', 0x300 }, { 'E', 0x301 }, { 'E', 0x302 }, { 'E', 0x308 },
	{ 'I', 0x300 }, { 'I', 0x301 }, { 'I', 0x302 }, { 'I', 0x308 },
	{ 0, 0 }, { 'N', 0x303 }, { 'O', 0x300 }, { 'O', 0x301 },
	{ 'O', 0x302 }, { 'O', 0x303 }, { 'O', 0x308 }, { 0, 0 },
	{ 0, 0 }, { 'U', 0x300 }, { 'U', 0x301 }, { 'U', 0x302 },
	{ 'U', 0x308 }, { 'Y', 0x301 },
};

/* Latin Extended-A capitals U+0100..U+017E (even/odd pairs): the base
   letter and the mark as "Xmmm" entries, indexed by (c - 0x100). "" has
   no canonical decomposition. */
static const char *const latin_ext_a_decomp[] = {
	"A304", "", "A306", "", "A328", "", "C301", "", "C302", "",
	"C307", "", "C30C", "", "D30C", "", "", "", "E304", "",
	"E306", "", "E307", "", "E328", "", "E30C", "", "G302", "",
	"G306", "", "G307", "", "G327", "", "H302", "", "", "",
	"I303", "", "I304", "", "I306", "", "I328", "", "I307", "",
	"", "", "J302", "", "K327", "", "", "L301", "", "L327",
	"", "L30C", "", "", "", "", "", "N301", "", "N327",
	"", "N30C", "", "", "", "", "O304", "", "O306", "",
	"O30B", "", "", "", "R301", "", "R327", "", "R30C", "",
	"S301", "", "S302", "", "S327", "", "S30C", "", "T327", "",
	"T30C", "", "", "", "U303", "", "U304", "", "U306", "",
	"U30A", "", "U30B", "", "U328", "", "W302", "", "Y302", "",
	"Y308", "Z301", "", "Z307", "", "Z30C", "",
};

/* Simple titlecase mapping of the scripts covered. */
static uint32_t titlecase_char(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if (c < 0x80)
		return c;
	if (c == 0xb5)
		return 0x39c;
	if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
		return c - 0x20;
	if (c == 0xff)
		return 0x178;
	if (c == 0x131)
		return 'I';
	if (c == 0x17f)
		return 'S';
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c & ~1U;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) != 0 ? c : c - 1;
	if (c == 0x3c2)
		return 0x3a3;
	if ((c >= 0x3b1 && c <= 0x3c1) || (c >= 0x3c3 && c <= 0x3cb))
		return c - 0x20;
	if (c >= 0x430 && c <= 0x44f)
		return c - 0x20;
	if (c >= 0x450 && c <= 0x45f)
		return c - 0x50;
	return c;
}

/* Append c (already titlecased) canonically decomposed. */
static void decompose_char(uint32_t c, string_t *dest)
{
	uint32_t base = 0, mark = 0;

	if (c >= 0xc0 && c <= 0xdd) {
		base = (unsigned char)latin1_decomp[c - 0xc0].base;
		mark = latin1_decomp[c - 0xc0].mark;
	} else if (c >= 0x100 && c < 0x100 + N_ELEMENTS(latin_ext_a_decomp) &&
		   latin_ext_a_decomp[c - 0x100][0] != '\0') {
		const char *d = latin_ext_a_decomp[c - 0x100];

		base = (unsigned char)d[0];
		mark = (uint32_t)strtoul(d + 1, NULL, 16);
	} else if (c == 0x178) {
		base = 'Y';
		mark = 0x308;
	} else if (c == 0x401 || c == 0x407) {
		base = c == 0x401 ? 0x415 : 0x406;
		mark = 0x308;
	} else if (c == 0x419 || c == 0x40e) {
		base = c == 0x419 ? 0x418 : 0x423;
		mark = 0x306;
	}
	if (base == 0) {
		uni_ucs4_to_utf8_c(c, dest);
		return;
	}
	uni_ucs4_to_utf8_c(base, dest);
	uni_ucs4_to_utf8_c(mark, dest);
}

void imap_sort_casefold(const void *data, size_t size, string_t *dest)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < size) {
		uint32_t c;
		unsigned int len = p[i] < 0x80 ? 1 :
			uni_utf8_char_len(p + i, size - i);

		if (len == 0) {
			uni_ucs4_to_utf8_c(0xfffd, dest);
			i++;
			continue;
		}
		if (len == 1)
			c = p[i];
		else
			(void)uni_utf8_get_char(p + i, &c);
		decompose_char(titlecase_char(c), dest);
		i += len;
	}
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
	string_t *decoded = str_new(128), *folded = str_new(128);
	bool space = true;

	(void)message_header_decode_utf8(subject, strlen(subject), decoded);
	imap_sort_casefold(str_c(decoded), str_len(decoded), folded);
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
	str_free(&decoded);
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

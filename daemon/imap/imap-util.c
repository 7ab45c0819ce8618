/* imap-util.c - small pieces every command needs: sequence sets, flag
 * lists, mailbox names on the wire (modified UTF-7), IMAP date-times. */
#include "imap-common.h"
#include "charset.h"
#include "imap-quote.h"
#include "mutf7.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

/* ---- sequence sets ---- */

static bool parse_number(const char **p, uint32_t *num_r)
{
	uint64_t num = 0;

	if (**p == '*') {
		(*p)++;
		*num_r = (uint32_t)-1;
		return true;
	}
	if (**p < '1' || **p > '9')
		return false;
	while (**p >= '0' && **p <= '9') {
		num = num * 10 + (uint64_t)(**p - '0');
		if (num > 0xffffffffULL)
			return false;
		(*p)++;
	}
	*num_r = (uint32_t)num;
	return true;
}

int imap_seqset_parse_ranges(const char *str, ARRAY_U32 *pairs)
{
	const char *p = str;

	if (*p == '\0')
		return -1;
	for (;;) {
		uint32_t n1, n2;

		if (!parse_number(&p, &n1))
			return -1;
		n2 = n1;
		if (*p == ':') {
			p++;
			if (!parse_number(&p, &n2))
				return -1;
		}
		if (n1 > n2) {
			uint32_t t = n1;
			n1 = n2;
			n2 = t;
		}
		array_push(pairs, n1);
		array_push(pairs, n2);
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return -1;
		p++;
	}
}

static int u32_cmp(const void *p1, const void *p2)
{
	uint32_t a = *(const uint32_t *)p1, b = *(const uint32_t *)p2;

	return a < b ? -1 : a > b ? 1 : 0;
}

/* Sort and drop duplicates. */
static void seqs_normalize(ARRAY_U32 *seqs)
{
	size_t n = 0;

	if (seqs->count < 2)
		return;
	qsort(seqs->v, seqs->count, sizeof(uint32_t), u32_cmp);
	for (size_t i = 0; i < seqs->count; i++) {
		if (n == 0 || seqs->v[n - 1] != seqs->v[i])
			seqs->v[n++] = seqs->v[i];
	}
	seqs->count = n;
}

int imap_seqset_parse(struct imap_client *client, const char *str, bool uid,
		      ARRAY_U32 *seqs, const char **error_r)
{
	struct mailbox *box = client->mailbox;
	uint32_t count = box == NULL ? 0 : mailbox_count(box);
	ARRAY_U32 pairs = ARRAY_INIT;
	bool sorted = true;

	if (strcmp(str, "$") == 0) {
		/* SEARCHRES: the saved UIDs still in the view */
		for (size_t i = 0; i < client->search_saved.count; i++) {
			uint32_t seq = mailbox_uid_to_seq(box,
						client->search_saved.v[i]);
			if (seq != 0)
				array_push(seqs, seq);
		}
		seqs_normalize(seqs);
		return 0;
	}
	if (imap_seqset_parse_ranges(str, &pairs) < 0) {
		array_free(&pairs);
		*error_r = uid ? "Invalid uidset" : "Invalid messageset";
		return -1;
	}
	for (size_t i = 0; i < pairs.count; i += 2) {
		uint32_t n1 = pairs.v[i], n2 = pairs.v[i + 1];

		if (uid) {
			uint32_t last_uid = count == 0 ? 0 :
				mailbox_seq_to_uid(box, count);
			uint32_t seq;

			if (n2 == (uint32_t)-1)
				n2 = last_uid;
			if (n1 == (uint32_t)-1)
				n1 = last_uid;
			if (n1 > n2) {
				/* "N:*" where N is above the highest UID is
				   the highest UID alone (RFC 3501 6.4.8) */
				uint32_t t = n1;
				n1 = n2;
				n2 = t;
			}
			if (count == 0)
				continue;
			for (seq = mailbox_uid_lookup_ge(box, n1);
			     seq <= count && mailbox_seq_to_uid(box, seq) <= n2;
			     seq++) {
				if (seqs->count > 0 && seqs->v[seqs->count - 1] >= seq)
					sorted = false;
				array_push(seqs, seq);
			}
		} else {
			if (n2 == (uint32_t)-1)
				n2 = count;
			if (n1 == (uint32_t)-1)
				n1 = count;
			if (n1 > n2) {
				uint32_t t = n1;
				n1 = n2;
				n2 = t;
			}
			if (n1 == 0 || n2 > count) {
				array_free(&pairs);
				*error_r = "Invalid messageset";
				return -1;
			}
			for (uint32_t seq = n1; seq <= n2; seq++) {
				if (seqs->count > 0 && seqs->v[seqs->count - 1] >= seq)
					sorted = false;
				array_push(seqs, seq);
			}
		}
	}
	array_free(&pairs);
	if (!sorted)
		seqs_normalize(seqs);
	return 0;
}

/* ---- flags ---- */

static const struct {
	const char *name;
	enum mail_flags flag;
} system_flags[] = {
	{ "\\Answered", MAIL_ANSWERED },
	{ "\\Flagged", MAIL_FLAGGED },
	{ "\\Deleted", MAIL_DELETED },
	{ "\\Seen", MAIL_SEEN },
	{ "\\Draft", MAIL_DRAFT },
};

static bool keyword_valid(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

int imap_parse_flags(const struct imap_arg *args, enum mail_flags *flags_r,
		     ARRAY_STR *keywords, const char **error_r)
{
	*flags_r = 0;
	for (; !imap_arg_is_eol(args); args++) {
		const char *atom;

		if (!imap_arg_get_atom(args, &atom)) {
			*error_r = "Flags list contains non-atoms.";
			return -1;
		}
		if (atom[0] == '\\') {
			unsigned int i;

			for (i = 0; i < N_ELEMENTS(system_flags); i++) {
				if (strcasecmp(atom, system_flags[i].name) == 0)
					break;
			}
			if (i == N_ELEMENTS(system_flags)) {
				static char error[128];
				char *upper = i_strdup(atom);

				for (char *p = upper; *p != '\0'; p++)
					*p = (char)toupper((unsigned char)*p);
				snprintf(error, sizeof(error),
					 "Invalid system flag %s", upper);
				i_free(upper);
				*error_r = error;
				return -1;
			}
			*flags_r |= system_flags[i].flag;
		} else {
			if (!keyword_valid(atom)) {
				*error_r = "Invalid characters in keyword";
				return -1;
			}
			if (keywords != NULL) {
				bool dup = false;

				for (size_t i = 0; i < keywords->count; i++)
					dup = dup || strcasecmp(keywords->v[i], atom) == 0;
				if (!dup)
					array_push(keywords, atom);
			}
		}
	}
	return 0;
}

void imap_write_flags(string_t *dest, enum mail_flags flags,
		      const char *const *keywords)
{
	size_t start = str_len(dest);

	for (unsigned int i = 0; i < N_ELEMENTS(system_flags); i++) {
		if ((flags & system_flags[i].flag) != 0) {
			if (str_len(dest) > start)
				str_append_c(dest, ' ');
			str_append(dest, system_flags[i].name);
		}
	}
	if ((flags & MAIL_RECENT) != 0) {
		if (str_len(dest) > start)
			str_append_c(dest, ' ');
		str_append(dest, "\\Recent");
	}
	for (unsigned int i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		if (str_len(dest) > start)
			str_append_c(dest, ' ');
		str_append(dest, keywords[i]);
	}
}

/* ---- mailbox names ---- */

const char *imap_mailbox_name_decode(struct imap_client *client,
				     const char *name, const char **error_r)
{
	string_t *str = str_new(strlen(name) + 16);
	const char *result;

	i_assert(client->cmd != NULL);
	if ((client->enabled & IMAP_ENABLED_UTF8_ACCEPT) != 0) {
		/* RFC 6855 3: names are UTF-8, '&' is just a character */
		if (!uni_utf8_data_is_valid(name, strlen(name))) {
			str_free(&str);
			*error_r = "Mailbox name is not valid UTF-8";
			return NULL;
		}
		str_append(str, name);
	} else if (mutf7_decode(str, name) < 0) {
		str_free(&str);
		*error_r = "Mailbox name is not valid mUTF-7";
		return NULL;
	}
	/* tb-extra-mailbox-sep: Thunderbird may add a separator at the end
	   (not for CREATE, where it asks for a directory) */
	if ((client->workarounds & WORKAROUND_TB_EXTRA_MAILBOX_SEP) != 0 &&
	    str_len(str) > 1 && client->cmd->command != NULL &&
	    strcmp(client->cmd->command->name, "CREATE") != 0) {
		struct mail_namespace *ns =
			mail_namespace_find(client->user, str_c(str));

		if (ns != NULL && str_c(str)[str_len(str) - 1] == ns->sep &&
		    str_len(str) > strlen(ns->prefix))
			str_truncate(str, str_len(str) - 1);
	}
	/* lives as long as the command (RENAME needs two at once) */
	result = p_strdup(client->cmd->pool,
			  mailbox_vname_normalize(client->user, str_c(str)));
	str_free(&str);
	return result;
}

static bool astring_atom_ok(const char *str)
{
	if (str[0] == '\0' || strcasecmp(str, "NIL") == 0)
		return false;
	for (const char *p = str; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\", c) != NULL)
			return false;
	}
	return true;
}

static void mailbox_name_append(string_t *dest, const char *vname,
				bool always_quote)
{
	string_t *enc = str_new(strlen(vname) + 16);

	if (mutf7_encode(enc, vname) < 0) {
		str_truncate(enc, 0);
		str_append(enc, vname);
	}
	if (!always_quote && astring_atom_ok(str_c(enc)))
		str_append_str(dest, enc);
	else
		imap_append_string(dest, str_c(enc));
	str_free(&enc);
}

void imap_client_append_mailbox_name(struct imap_client *client,
				     string_t *dest, const char *vname,
				     bool always_quote)
{
	bool plain = true;

	if ((client->enabled & IMAP_ENABLED_UTF8_ACCEPT) == 0) {
		mailbox_name_append(dest, vname, always_quote);
		return;
	}
	/* UTF-8 as is: an atom when it can be, else a quoted string (RFC
	   6855 allows UTF-8 there) */
	for (const char *p = vname; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			plain = false;
	}
	if (!always_quote && plain && astring_atom_ok(vname)) {
		str_append(dest, vname);
		return;
	}
	str_append_c(dest, '"');
	for (const char *p = vname; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			str_append_c(dest, '\\');
		str_append_c(dest, *p);
	}
	str_append_c(dest, '"');
}

void imap_append_mailbox_name(string_t *dest, const char *vname)
{
	mailbox_name_append(dest, vname, false);
}

void imap_append_mailbox_name_quoted(string_t *dest, const char *vname)
{
	mailbox_name_append(dest, vname, true);
}

/* ---- date-time ---- */

static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

bool imap_parse_datetime(const char *str, time_t *time_r, int *tz_r)
{
	struct tm tm;
	int day, year, hour, min, sec, tz;
	char mon[4], sign;
	unsigned int i;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (str[0] == ' ')
		str++;
	if (sscanf(str, "%2d-%3c-%4d %2d:%2d:%2d %c%4d%n", &day, mon, &year,
		   &hour, &min, &sec, &sign, &tz, &n) != 8 || str[n] != '\0')
		return false;
	mon[3] = '\0';
	for (i = 0; i < 12; i++) {
		if (strcasecmp(mon, month_names[i]) == 0)
			break;
	}
	if (i == 12 || (sign != '+' && sign != '-') || day < 1 || day > 31 ||
	    hour > 23 || min > 59 || sec > 60 || year < 1970 || tz > 2359 ||
	    tz % 100 > 59)
		return false;
	tm.tm_mday = day;
	tm.tm_mon = (int)i;
	tm.tm_year = year - 1900;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*tz_r = (tz / 100 * 60 + tz % 100) * (sign == '-' ? -1 : 1);
	*time_r = timegm(&tm) - (time_t)*tz_r * 60;
	return true;
}

void imap_append_datetime(string_t *dest, time_t t, int tz_offset_min)
{
	time_t local = t + (time_t)tz_offset_min * 60;
	struct tm tm;
	int off = tz_offset_min < 0 ? -tz_offset_min : tz_offset_min;

	gmtime_r(&local, &tm);
	str_printfa(dest, "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d",
		    tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900,
		    tm.tm_hour, tm.tm_min, tm.tm_sec,
		    tz_offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

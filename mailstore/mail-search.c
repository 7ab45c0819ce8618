/* mail-search.c - search args: building the tree from a token source
 * (doveadm's query language, IMAP SEARCH keys later), preparing it for a
 * mailbox, and matching messages through the public storage API.
 *
 * Text is matched as Dovecot does, after decoding: header values
 * unfolded with RFC 2047 words decoded (address headers normalized
 * first), bodies with base64/quoted-printable undone and text parts
 * converted to UTF-8; the comparison is a case-insensitive substring
 * search of the i;unicode-casemap forms (unicode-casemap.h) of the
 * key and the text. */
#include "mail-search.h"
#include "mail-objectid.h"
#include "unichar.h"
#include "unicode-casemap.h"
#include "pool.h"
#include "str.h"
#include "base64.h"
#include "charset.h"
#include "qp.h"
#include "message-header.h"
#include "message-address.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#define SEARCH_MAX_DEPTH 200

struct build_ctx {
	struct mail_search_parser *parser;
	enum mail_search_syntax syntax;
	pool_t pool;
	struct mail_search_arg *parent;
	unsigned int depth;
	const char *error;
};

typedef struct mail_search_arg *build_func_t(struct build_ctx *ctx,
					     const char *key);

static int build_key(struct build_ctx *ctx, struct mail_search_arg *parent,
		     struct mail_search_arg **arg_r);
static int build_list(struct build_ctx *ctx, struct mail_search_arg **arg_r);

/* ---- small parsers ---------------------------------------------- */

int mail_search_parse_size(const char *str, uint64_t *size_r)
{
	uint64_t num = 0, mul = 1;
	const char *p = str;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (num > (UINT64_MAX - 9) / 10)
			return -1;
		num = num * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	switch (toupper((unsigned char)*p)) {
	case 'B': mul = 1; p++; break;
	case 'K': mul = 1024ULL; p++; break;
	case 'M': mul = 1024ULL * 1024; p++; break;
	case 'G': mul = 1024ULL * 1024 * 1024; p++; break;
	case 'T': mul = 1024ULL * 1024 * 1024 * 1024; p++; break;
	default: break;
	}
	if (mul > 1) {
		/* k, ki, kib */
		if (toupper((unsigned char)*p) == 'I')
			p++;
		if (toupper((unsigned char)*p) == 'B')
			p++;
	}
	if (*p != '\0' || num > UINT64_MAX / mul)
		return -1;
	*size_r = num * mul;
	return 0;
}

/* Does p abbreviate (case-insensitively) one of the words? */
static bool unit_is(const char *p, const char *w1, const char *w2)
{
	size_t len = strlen(p);

	return strncasecmp(p, w1, len) == 0 ||
		(w2 != NULL && strncasecmp(p, w2, len) == 0);
}

int mail_search_parse_interval(const char *str, unsigned int *secs_r)
{
	uint64_t num = 0, mul = 1;
	const char *p = str;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (num > UINT32_MAX)
			return -1;
		num = num * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	if (*p != '\0') {
		switch (toupper((unsigned char)*p)) {
		case 'S':
			if (!unit_is(p, "secs", "seconds"))
				return -1;
			break;
		case 'M':
			if (!unit_is(p, "mins", "minutes"))
				return -1;	/* "ms": no milliseconds */
			mul = 60;
			break;
		case 'H':
			if (!unit_is(p, "hours", NULL))
				return -1;
			mul = 3600;
			break;
		case 'D':
			if (!unit_is(p, "days", NULL))
				return -1;
			mul = 86400;
			break;
		case 'W':
			if (!unit_is(p, "weeks", NULL))
				return -1;
			mul = 7 * 86400;
			break;
		default:
			return -1;
		}
	}
	if (num * mul > UINT32_MAX)
		return -1;
	*secs_r = (unsigned int)(num * mul);
	return 0;
}

bool mail_search_parse_imap_date(const char *str, time_t *time_r)
{
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm tm;
	int i;

	memset(&tm, 0, sizeof(tm));
	if (!isdigit((unsigned char)str[0]))
		return false;
	tm.tm_mday = str[0] - '0';
	str++;
	if (isdigit((unsigned char)str[0])) {
		tm.tm_mday = tm.tm_mday * 10 + (str[0] - '0');
		str++;
	}
	if (*str++ != '-')
		return false;
	for (i = 0; i < 12; i++) {
		if (strncasecmp(str, months[i], 3) == 0)
			break;
	}
	if (i == 12)
		return false;
	tm.tm_mon = i;
	str += 3;
	if (*str++ != '-')
		return false;
	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)str[i]))
			return false;
	}
	if (str[4] != '\0')
		return false;
	tm.tm_year = (str[0] - '0') * 1000 + (str[1] - '0') * 100 +
		(str[2] - '0') * 10 + (str[3] - '0') - 1900;
	i = tm.tm_mday;
	*time_r = timegm(&tm);
	if (*time_r == (time_t)-1)
		return false;
	if (tm.tm_mday != i) {
		/* a day the month doesn't have (30-Feb): Dovecot keeps the
		   key but with a time past every message (BEFORE matches
		   all, SINCE and ON nothing) */
		*time_r = MAIL_SEARCH_TIME_NEVER;
	}
	return true;
}

/* IMAP sequence-set: "1,3:5,7:*". */
static int parse_seqset(pool_t pool, const char *str,
			struct mail_search_range **ranges_r,
			unsigned int *count_r)
{
	unsigned int count = 1, n = 0;
	struct mail_search_range *ranges;
	const char *p;

	for (p = str; *p != '\0'; p++) {
		if (*p == ',')
			count++;
	}
	ranges = p_new(pool, struct mail_search_range, count);
	p = str;
	for (;;) {
		uint32_t nums[2];
		unsigned int k;

		for (k = 0; k < 2; k++) {
			uint64_t num = 0;

			if (*p == '*') {
				nums[k] = (uint32_t)-1;
				p++;
			} else if (isdigit((unsigned char)*p)) {
				for (; isdigit((unsigned char)*p); p++) {
					num = num * 10 + (uint64_t)(*p - '0');
					if (num > (uint32_t)-2)
						return -1;
				}
				if (num == 0)
					return -1;
				nums[k] = (uint32_t)num;
			} else {
				return -1;
			}
			if (k == 0 && *p != ':') {
				nums[1] = nums[0];
				break;
			}
			if (k == 0)
				p++;
		}
		ranges[n].seq1 = MIN(nums[0], nums[1]);
		ranges[n].seq2 = MAX(nums[0], nums[1]);
		n++;
		if (*p == '\0')
			break;
		if (*p++ != ',' || n == count)
			return -1;
	}
	*ranges_r = ranges;
	*count_r = n;
	return 0;
}

/* ---- building ----------------------------------------------------- */

static struct mail_search_arg *arg_new(struct build_ctx *ctx,
				       enum mail_search_arg_type type)
{
	struct mail_search_arg *arg = p_new(ctx->pool, struct mail_search_arg, 1);

	arg->type = type;
	return arg;
}

/* The argument of key; Dovecot names the key when it's missing. */
static bool parse_string(struct build_ctx *ctx, const char *key,
			 const char **value_r)
{
	if (ctx->parser->parse_string(ctx->parser, value_r) > 0)
		return true;
	ctx->error = p_strdup_printf(ctx->pool, "%s (for search key: %s)",
				     ctx->parser->error != NULL ?
				     ctx->parser->error :
				     "Missing parameter for search key", key);
	return false;
}

static struct mail_search_arg *build_str(struct build_ctx *ctx,
					 const char *key,
					 enum mail_search_arg_type type)
{
	struct mail_search_arg *arg = arg_new(ctx, type);
	const char *value;

	if (!parse_string(ctx, key, &value))
		return NULL;
	arg->value.str = p_strdup(ctx->pool, value);
	return arg;
}

static struct mail_search_arg *b_all(struct build_ctx *ctx,
				     const char *key ATTR_UNUSED)
{
	return arg_new(ctx, SEARCH_ALL);
}

static struct mail_search_arg *b_not(struct build_ctx *ctx,
				     const char *key ATTR_UNUSED)
{
	struct mail_search_arg *arg;

	if (build_key(ctx, ctx->parent, &arg) < 0)
		return NULL;
	arg->match_not = !arg->match_not;
	return arg;
}

/* IMAP: OR key1 key2, and "OR a OR b c" chains into one list. */
static struct mail_search_arg *b_or_imap(struct build_ctx *ctx,
					 const char *key ATTR_UNUSED)
{
	struct mail_search_arg *arg = arg_new(ctx, SEARCH_OR);
	struct mail_search_arg **sub = &arg->value.subargs;

	do {
		if (build_key(ctx, arg, sub) < 0)
			return NULL;
		sub = &(*sub)->next;
	} while (ctx->parser->skip_next(ctx->parser, "OR"));
	if (build_key(ctx, arg, sub) < 0)
		return NULL;
	return arg;
}

/* doveadm: "a OR b" turns the enclosing list into an OR list. */
static struct mail_search_arg *b_or_human(struct build_ctx *ctx,
					  const char *key ATTR_UNUSED)
{
	struct mail_search_arg *arg;

	ctx->parent->type = SEARCH_OR;
	if (build_key(ctx, ctx->parent, &arg) < 0)
		return NULL;
	return arg;
}

static struct mail_search_arg *b_uid(struct build_ctx *ctx, const char *key)
{
	struct mail_search_arg *arg = build_str(ctx, key, SEARCH_UIDSET);

	if (arg == NULL)
		return NULL;
	if (parse_seqset(ctx->pool, arg->value.str, &arg->value.ranges,
			 &arg->value.range_count) < 0) {
		ctx->error = "Invalid UID messageset";
		return NULL;
	}
	return arg;
}

static const struct {
	const char *key;
	enum mail_flags flags;
	bool not;
} flag_keys[] = {
	{ "ANSWERED", MAIL_ANSWERED, false },
	{ "UNANSWERED", MAIL_ANSWERED, true },
	{ "DELETED", MAIL_DELETED, false },
	{ "UNDELETED", MAIL_DELETED, true },
	{ "DRAFT", MAIL_DRAFT, false },
	{ "UNDRAFT", MAIL_DRAFT, true },
	{ "FLAGGED", MAIL_FLAGGED, false },
	{ "UNFLAGGED", MAIL_FLAGGED, true },
	{ "SEEN", MAIL_SEEN, false },
	{ "UNSEEN", MAIL_SEEN, true },
	{ "RECENT", MAIL_RECENT, false },
	{ "OLD", MAIL_RECENT, true },
};

static struct mail_search_arg *flag_arg(struct build_ctx *ctx,
					enum mail_flags flags, bool not)
{
	struct mail_search_arg *arg = arg_new(ctx, SEARCH_FLAGS);

	arg->value.flags = flags;
	arg->match_not = not;
	return arg;
}

static struct mail_search_arg *b_flag(struct build_ctx *ctx, const char *key)
{
	for (size_t i = 0; i < N_ELEMENTS(flag_keys); i++) {
		if (strcmp(flag_keys[i].key, key) == 0)
			return flag_arg(ctx, flag_keys[i].flags,
					flag_keys[i].not);
	}
	i_unreached();
}

/* NEW = RECENT UNSEEN */
static struct mail_search_arg *b_new(struct build_ctx *ctx,
				     const char *key ATTR_UNUSED)
{
	struct mail_search_arg *arg = arg_new(ctx, SEARCH_SUB);

	arg->value.subargs = flag_arg(ctx, MAIL_RECENT, false);
	arg->value.subargs->next = flag_arg(ctx, MAIL_SEEN, true);
	return arg;
}

static struct mail_search_arg *b_keyword(struct build_ctx *ctx,
					 const char *key)
{
	struct mail_search_arg *arg = build_str(ctx, key, SEARCH_KEYWORDS);

	if (arg != NULL && strcmp(key, "UNKEYWORD") == 0)
		arg->match_not = true;
	return arg;
}

static enum mail_search_date_type date_type_of(const char *key)
{
	if (strncmp(key, "SENT", 4) == 0)
		return MAIL_SEARCH_DATE_TYPE_SENT;
	if (strncmp(key, "SAVED", 5) == 0 || strncmp(key, "X-SAVED", 7) == 0)
		return MAIL_SEARCH_DATE_TYPE_SAVED;
	return MAIL_SEARCH_DATE_TYPE_RECEIVED;
}

static enum mail_search_arg_type date_cmp_of(const char *key)
{
	if (str_ends(key, "BEFORE"))
		return SEARCH_BEFORE;
	if (str_ends(key, "SINCE"))
		return SEARCH_SINCE;
	return SEARCH_ON;
}

/* yyyy-mm-dd (local midnight), an IMAP date, or an interval back from
 * now. */
static bool human_date(const char *value, time_t *time_r)
{
	unsigned int secs;

	if (strlen(value) == 10 && isdigit((unsigned char)value[0]) &&
	    isdigit((unsigned char)value[1]) &&
	    isdigit((unsigned char)value[2]) &&
	    isdigit((unsigned char)value[3]) && value[4] == '-' &&
	    isdigit((unsigned char)value[5]) &&
	    isdigit((unsigned char)value[6]) && value[7] == '-' &&
	    isdigit((unsigned char)value[8]) &&
	    isdigit((unsigned char)value[9])) {
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		tm.tm_year = atoi(value) - 1900;
		tm.tm_mon = atoi(value + 5) - 1;
		tm.tm_mday = atoi(value + 8);
		tm.tm_isdst = -1;
		*time_r = mktime(&tm);
		return *time_r != (time_t)-1;
	}
	if (mail_search_parse_imap_date(value, time_r))
		return true;
	if (mail_search_parse_interval(value, &secs) == 0) {
		*time_r = time(NULL) - (time_t)secs;
		return true;
	}
	return false;
}

static struct mail_search_arg *b_date(struct build_ctx *ctx, const char *key)
{
	struct mail_search_arg *arg = arg_new(ctx, date_cmp_of(key));
	const char *value;

	arg->value.date_type = date_type_of(key);
	if (!parse_string(ctx, key, &value))
		return NULL;
	if (ctx->syntax == MAIL_SEARCH_SYNTAX_HUMAN) {
		arg->value.use_tz = true;
		if (!human_date(value, &arg->value.time)) {
			ctx->error = p_strdup_printf(ctx->pool,
				"Invalid search date parameter: %s", value);
			return NULL;
		}
	} else if (!mail_search_parse_imap_date(value, &arg->value.time)) {
		ctx->error = "Invalid search date parameter";
		return NULL;
	}
	return arg;
}

static struct mail_search_arg *b_size(struct build_ctx *ctx, const char *key)
{
	struct mail_search_arg *arg =
		arg_new(ctx, strcmp(key, "LARGER") == 0 ?
			SEARCH_LARGER : SEARCH_SMALLER);
	const char *value;
	char *end;

	if (!parse_string(ctx, key, &value))
		return NULL;
	if (ctx->syntax == MAIL_SEARCH_SYNTAX_HUMAN) {
		if (mail_search_parse_size(value, &arg->value.size) < 0) {
			ctx->error = p_strdup_printf(ctx->pool,
				"Invalid size: %s", value);
			return NULL;
		}
		return arg;
	}
	if (!isdigit((unsigned char)value[0]) ||
	    (arg->value.size = strtoull(value, &end, 10), *end != '\0')) {
		ctx->error = "Invalid search size parameter";
		return NULL;
	}
	return arg;
}

static struct mail_search_arg *header_arg(struct build_ctx *ctx,
					  const char *key,
					  enum mail_search_arg_type type,
					  const char *field)
{
	struct mail_search_arg *arg = arg_new(ctx, type);
	const char *value;

	if (!parse_string(ctx, key, &value))
		return NULL;
	arg->value.str = p_strdup(ctx->pool, value);
	arg->hdr_field_name = p_strdup(ctx->pool, field);
	return arg;
}

static struct mail_search_arg *b_address(struct build_ctx *ctx,
					 const char *key)
{
	return header_arg(ctx, key, SEARCH_HEADER_ADDRESS, key);
}

static struct mail_search_arg *b_subject(struct build_ctx *ctx,
					 const char *key)
{
	return header_arg(ctx, key, SEARCH_HEADER_COMPRESS_LWSP, key);
}

static struct mail_search_arg *b_header(struct build_ctx *ctx, const char *key)
{
	const char *name;
	char *upper;

	if (!parse_string(ctx, key, &name))
		return NULL;
	upper = p_strdup(ctx->pool, name);
	for (char *p = upper; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return header_arg(ctx, key, SEARCH_HEADER, upper);
}

static struct mail_search_arg *b_body(struct build_ctx *ctx, const char *key)
{
	return build_str(ctx, key, strcmp(key, "BODY") == 0 ?
			 SEARCH_BODY : SEARCH_TEXT);
}

/* WITHIN: OLDER/YOUNGER n seconds */
static struct mail_search_arg *b_within(struct build_ctx *ctx, const char *key)
{
	bool older = strcmp(key, "OLDER") == 0;
	struct mail_search_arg *arg =
		arg_new(ctx, older ? SEARCH_BEFORE : SEARCH_SINCE);
	const char *value;
	char *end;
	unsigned long n;

	if (!parse_string(ctx, key, &value))
		return NULL;
	n = strtoul(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end != '\0' || n == 0 ||
	    n > UINT32_MAX) {
		ctx->error = "Invalid search interval parameter";
		return NULL;
	}
	arg->value.use_tz = true;
	arg->value.date_type = MAIL_SEARCH_DATE_TYPE_RECEIVED;
	arg->value.time = time(NULL) - (time_t)n;
	/* OLDER includes the second itself; BEFORE compares with < */
	if (older)
		arg->value.time++;
	return arg;
}

static struct mail_search_arg *b_modseq(struct build_ctx *ctx, const char *key)
{
	struct mail_search_arg *arg = arg_new(ctx, SEARCH_MODSEQ);
	const char *value, *type;
	char *end;

	if (!parse_string(ctx, key, &value))
		return NULL;
	if (strncasecmp(value, "/flags/", 7) == 0) {
		/* entry name and type: only the modseq itself counts here
		   (Dovecot's per-flag modseqs are not kept) */
		if (!parse_string(ctx, key, &type) ||
		    !parse_string(ctx, key, &value))
			return NULL;
		if (strcasecmp(type, "priv") != 0 &&
		    strcasecmp(type, "shared") != 0 &&
		    strcasecmp(type, "all") != 0) {
			ctx->error = "Invalid MODSEQ type";
			return NULL;
		}
	}
	arg->value.modseq = strtoull(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end != '\0') {
		ctx->error = "Invalid MODSEQ value";
		return NULL;
	}
	return arg;
}

static struct mail_search_arg *b_guid(struct build_ctx *ctx, const char *key)
{
	return build_str(ctx, key, SEARCH_GUID);
}

static struct mail_search_arg *b_mailbox(struct build_ctx *ctx,
					 const char *key)
{
	return build_str(ctx, key, SEARCH_MAILBOX_GLOB);
}

static struct mail_search_arg *b_mailbox_guid(struct build_ctx *ctx,
					      const char *key)
{
	return build_str(ctx, key, SEARCH_MAILBOX_GUID);
}

/* RFC 8474 4.4: EMAILID/THREADID objectid */
static struct mail_search_arg *b_objectid(struct build_ctx *ctx,
					  const char *key)
{
	struct mail_search_arg *arg =
		build_str(ctx, key, strcmp(key, "EMAILID") == 0 ?
			  SEARCH_EMAILID : SEARCH_THREADID);

	if (arg != NULL && !mail_objectid_is_valid(arg->value.str)) {
		ctx->error = p_strdup_printf(ctx->pool, "Invalid %s", key);
		return NULL;
	}
	return arg;
}

static struct mail_search_arg *b_seqset(struct build_ctx *ctx, const char *key)
{
	struct mail_search_arg *arg = arg_new(ctx, SEARCH_SEQSET);

	if (parse_seqset(ctx->pool, key, &arg->value.ranges,
			 &arg->value.range_count) < 0) {
		ctx->error = "Invalid messageset";
		return NULL;
	}
	return arg;
}

/* Keys in both syntaxes; the human-only ones are flagged. */
static const struct {
	const char *key;
	build_func_t *build;
	bool human_only, imap_only;
} search_keys[] = {
	{ "NOT", b_not, false, false },
	{ "ALL", b_all, false, false },
	{ "UID", b_uid, false, false },
	{ "ANSWERED", b_flag, false, false },
	{ "UNANSWERED", b_flag, false, false },
	{ "DELETED", b_flag, false, false },
	{ "UNDELETED", b_flag, false, false },
	{ "DRAFT", b_flag, false, false },
	{ "UNDRAFT", b_flag, false, false },
	{ "FLAGGED", b_flag, false, false },
	{ "UNFLAGGED", b_flag, false, false },
	{ "SEEN", b_flag, false, false },
	{ "UNSEEN", b_flag, false, false },
	{ "RECENT", b_flag, false, false },
	{ "OLD", b_flag, false, false },
	{ "NEW", b_new, false, false },
	{ "KEYWORD", b_keyword, false, false },
	{ "UNKEYWORD", b_keyword, false, false },
	{ "BEFORE", b_date, false, false },
	{ "ON", b_date, false, false },
	{ "SINCE", b_date, false, false },
	{ "SENTBEFORE", b_date, false, false },
	{ "SENTON", b_date, false, false },
	{ "SENTSINCE", b_date, false, false },
	{ "X-SAVEDBEFORE", b_date, false, false },
	{ "X-SAVEDON", b_date, false, false },
	{ "X-SAVEDSINCE", b_date, false, false },
	{ "SAVEDBEFORE", b_date, true, false },
	{ "SAVEDON", b_date, true, false },
	{ "SAVEDSINCE", b_date, true, false },
	{ "LARGER", b_size, false, false },
	{ "SMALLER", b_size, false, false },
	{ "BCC", b_address, false, false },
	{ "CC", b_address, false, false },
	{ "FROM", b_address, false, false },
	{ "TO", b_address, false, false },
	{ "SUBJECT", b_subject, false, false },
	{ "HEADER", b_header, false, false },
	{ "BODY", b_body, false, false },
	{ "TEXT", b_body, false, false },
	{ "OLDER", b_within, false, false },
	{ "YOUNGER", b_within, false, false },
	{ "MODSEQ", b_modseq, false, false },
	{ "X-GUID", b_guid, false, false },
	{ "X-MAILBOX", b_mailbox, false, false },
	{ "GUID", b_guid, true, false },
	{ "MAILBOX", b_mailbox, true, false },
	{ "MAILBOX-GUID", b_mailbox_guid, true, false },
	/* OBJECTID (RFC 8474): IMAP only, doveadm doesn't know them */
	{ "EMAILID", b_objectid, false, true },
	{ "THREADID", b_objectid, false, true },
};

static struct mail_search_arg *build_registered(struct build_ctx *ctx,
						const char *key)
{
	if (strcmp(key, "OR") == 0) {
		return ctx->syntax == MAIL_SEARCH_SYNTAX_HUMAN ?
			b_or_human(ctx, key) : b_or_imap(ctx, key);
	}
	for (size_t i = 0; i < N_ELEMENTS(search_keys); i++) {
		if (strcmp(search_keys[i].key, key) != 0)
			continue;
		if (search_keys[i].human_only &&
		    ctx->syntax != MAIL_SEARCH_SYNTAX_HUMAN)
			break;
		if (search_keys[i].imap_only &&
		    ctx->syntax != MAIL_SEARCH_SYNTAX_IMAP)
			break;
		return search_keys[i].build(ctx, key);
	}
	if (key[0] == '*' || isdigit((unsigned char)key[0]))
		return b_seqset(ctx, key);
	ctx->error = p_strdup_printf(ctx->pool, "Unknown argument %s", key);
	return NULL;
}

/* Returns 1 with *arg_r, 0 at the end of input or list, -1 on error. */
static int build_key_int(struct build_ctx *ctx, struct mail_search_arg *parent,
			 struct mail_search_arg **arg_r)
{
	struct mail_search_arg *old_parent = ctx->parent, *arg;
	const char *key;
	char *ukey;
	int ret;

	if (ctx->depth >= SEARCH_MAX_DEPTH) {
		ctx->error = "Too much nesting in search query";
		return -1;
	}
	if ((ret = ctx->parser->parse_key(ctx->parser, &key)) <= 0) {
		if (ret < 0)
			ctx->error = ctx->parser->error;
		return ret;
	}
	ctx->depth++;
	ctx->parent = parent;
	if (strcmp(key, MAIL_SEARCH_KEY_LIST) == 0) {
		if (build_list(ctx, &arg) < 0) {
			ctx->depth--;
			return -1;
		}
		if (arg->value.subargs == NULL) {
			ctx->error = "No search parameters inside list";
			ctx->depth--;
			return -1;
		}
	} else {
		ukey = p_strdup(ctx->pool, key);
		for (char *p = ukey; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		arg = build_registered(ctx, ukey);
	}
	ctx->parent = old_parent;
	ctx->depth--;
	*arg_r = arg;
	return arg == NULL ? -1 : 1;
}

static int build_key(struct build_ctx *ctx, struct mail_search_arg *parent,
		     struct mail_search_arg **arg_r)
{
	int ret = build_key_int(ctx, parent, arg_r);

	if (ret == 0)
		ctx->error = "Missing argument";
	return ret > 0 ? 0 : -1;
}

/* A list of keys until its end: AND, unless an OR key changed the list's
 * type; the types may not be mixed. */
static int build_list(struct build_ctx *ctx, struct mail_search_arg **arg_r)
{
	struct mail_search_arg *list = arg_new(ctx, SEARCH_SUB);
	struct mail_search_arg **sub = &list->value.subargs;
	enum mail_search_arg_type cur = SEARCH_SUB;
	int ret;

	while ((ret = build_key_int(ctx, list, sub)) > 0) {
		if (list->type != cur) {
			if (cur != SEARCH_SUB) {
				ctx->error = "Use parenthesis when mixing "
					"ANDs and ORs";
				return -1;
			}
			cur = list->type;
		}
		sub = &(*sub)->next;
		list->type = SEARCH_SUB;
	}
	if (ret < 0)
		return -1;
	list->type = cur;
	*arg_r = list;
	return 0;
}

int mail_search_build(struct mail_search_parser *parser,
		      enum mail_search_syntax syntax,
		      struct mail_search_args **args_r, const char **error_r)
{
	struct mail_search_args *args;
	struct mail_search_arg *root;
	struct build_ctx ctx;
	pool_t pool = pool_create("mail search args", 1024);

	memset(&ctx, 0, sizeof(ctx));
	ctx.parser = parser;
	ctx.syntax = syntax;
	ctx.pool = pool;
	if (build_list(&ctx, &root) < 0) {
		static char errbuf[512];

		snprintf(errbuf, sizeof(errbuf), "%s",
			 ctx.error != NULL ? ctx.error : "Invalid search");
		*error_r = errbuf;
		pool_destroy(&pool);
		return -1;
	}
	args = p_new(pool, struct mail_search_args, 1);
	args->pool = pool;
	if (root->type == SEARCH_SUB && !root->match_not)
		args->args = root->value.subargs;
	else
		args->args = root;
	*args_r = args;
	return 0;
}

void mail_search_args_free(struct mail_search_args **_args)
{
	struct mail_search_args *args = *_args;
	pool_t pool;

	if (args == NULL)
		return;
	*_args = NULL;
	pool = args->pool;
	pool_destroy(&pool);
}

/* ---- the command-line token source -------------------------------- */

struct cmdline_parser {
	const char *const *argv;
	unsigned int list_level;
};

static int cmdline_parse_key(struct mail_search_parser *parser,
			     const char **key_r)
{
	struct cmdline_parser *c = parser->context;

	if (c->argv[0] == NULL) {
		if (c->list_level != 0) {
			parser->error = "Missing ')'";
			return -1;
		}
		return 0;
	}
	if (strcmp(c->argv[0], "(") == 0) {
		c->list_level++;
		c->argv++;
		*key_r = MAIL_SEARCH_KEY_LIST;
		return 1;
	}
	if (strcmp(c->argv[0], ")") == 0) {
		if (c->list_level == 0) {
			parser->error = "Unexpected ')'";
			return -1;
		}
		c->list_level--;
		c->argv++;
		return 0;
	}
	*key_r = *c->argv++;
	return 1;
}

static int cmdline_parse_string(struct mail_search_parser *parser,
				const char **value_r)
{
	struct cmdline_parser *c = parser->context;

	if (c->argv[0] == NULL) {
		parser->error = "Missing parameter for search key";
		return -1;
	}
	*value_r = *c->argv++;
	return 1;
}

static bool cmdline_skip_next(struct mail_search_parser *parser,
			      const char *str)
{
	struct cmdline_parser *c = parser->context;

	if (c->argv[0] == NULL || strcasecmp(c->argv[0], str) != 0)
		return false;
	c->argv++;
	return true;
}

int mail_search_parse_cmdline(const char *const *argv,
			      struct mail_search_args **args_r,
			      const char **error_r)
{
	struct cmdline_parser c = { argv, 0 };
	struct mail_search_parser parser = {
		cmdline_parse_key, cmdline_parse_string, cmdline_skip_next,
		NULL, &c
	};

	return mail_search_build(&parser, MAIL_SEARCH_SYNTAX_HUMAN, args_r,
				 error_r);
}

struct mail_search_args *
mail_search_args_from_mailboxes(const char *const *masks)
{
	pool_t pool = pool_create("mail search args", 512);
	struct mail_search_args *args = p_new(pool, struct mail_search_args, 1);
	struct mail_search_arg *list = NULL, **tail = &list;
	unsigned int count = 0;

	args->pool = pool;
	for (; *masks != NULL; masks++) {
		struct mail_search_arg *arg =
			p_new(pool, struct mail_search_arg, 1);

		arg->type = strpbrk(*masks, "*%") != NULL ?
			SEARCH_MAILBOX_GLOB : SEARCH_MAILBOX;
		arg->value.str = p_strdup(pool, *masks);
		*tail = arg;
		tail = &arg->next;
		count++;
	}
	if (count > 1) {
		args->args = p_new(pool, struct mail_search_arg, 1);
		args->args->type = SEARCH_OR;
		args->args->value.subargs = list;
	} else {
		args->args = list;
	}
	return args;
}

/* ---- preparing for a mailbox ---------------------------------------- */

static void args_init(struct mail_search_arg *arg,
		      const struct mailbox_status *status, const char *guid)
{
	for (; arg != NULL; arg = arg->next) {
		arg->init.first_recent_uid = status->first_recent_uid;
		arg->init.mailbox_guid = guid;
		if (arg->type == SEARCH_OR || arg->type == SEARCH_SUB)
			args_init(arg->value.subargs, status, guid);
	}
}

int mail_search_args_init(struct mail_search_args *args, struct mailbox *box)
{
	struct mailbox_status status;
	const char *guid;

	if (mailbox_get_status(box, STATUS_FIRST_RECENT_UID | STATUS_GUID,
			       &status) < 0)
		return -1;
	guid = p_strdup(args->pool, status.guid);
	args->box = box;
	args_init(args->args, &status, guid);
	return 0;
}

/* ---- matching --------------------------------------------------- */

struct match_ctx {
	struct mail *mail;
	/* the message, fetched on first need */
	const unsigned char *data;
	size_t size, hdr_size;
	bool have_data;
	string_t *tmp;
	/* decoded and casefolded text: headers+bodies, bodies only */
	string_t *text_folded, *body_folded;
};

bool mail_search_is_recent(struct mail *mail, uint32_t first_recent_uid)
{
	return (mailbox_seq_flags(mail->box, mail->seq) & MAIL_RECENT) != 0 ||
		(first_recent_uid != 0 && mail->uid >= first_recent_uid);
}

static bool ranges_have(const struct mail_search_arg *arg, uint32_t num,
			uint32_t highest)
{
	for (unsigned int i = 0; i < arg->value.range_count; i++) {
		uint32_t lo = arg->value.ranges[i].seq1;
		uint32_t hi = arg->value.ranges[i].seq2;

		/* '*' is the highest number in use */
		if (hi == (uint32_t)-1)
			hi = highest;
		if (lo == (uint32_t)-1)
			lo = highest;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (num >= lo && num <= hi)
			return true;
	}
	return false;
}

static int match_get_data(struct match_ctx *ctx)
{
	if (ctx->have_data)
		return 0;
	if (mail_get_stream(ctx->mail, &ctx->data, &ctx->size) < 0 ||
	    mail_get_header_size(ctx->mail, &ctx->hdr_size) < 0)
		return -1;
	if (ctx->hdr_size > ctx->size)
		ctx->hdr_size = ctx->size;
	ctx->have_data = true;
	return 0;
}

/* The value of one header field unfolded: CR and LF dropped, TABs as
 * spaces (Dovecot's one-line form); with compress, runs of blanks as one
 * space. */
static void header_value(string_t *dest, const unsigned char *p, size_t len,
			 bool compress)
{
	bool prev_space = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c == '\t')
			c = ' ';
		if (compress && c == ' ') {
			if (!prev_space)
				str_append_c(dest, ' ');
			prev_space = true;
			continue;
		}
		prev_space = false;
		str_append_c(dest, (char)c);
	}
}

/* Call cb for each field of the header block: name and raw value. */
typedef bool header_cb_t(const unsigned char *name, size_t name_len,
			 const unsigned char *value, size_t value_len,
			 void *context);

static bool header_foreach(const unsigned char *hdr, size_t size,
			   header_cb_t *cb, void *context)
{
	size_t pos = 0;

	while (pos < size) {
		size_t start = pos, colon, end;

		if (hdr[pos] == '\n' || (hdr[pos] == '\r' && pos + 1 < size &&
					 hdr[pos + 1] == '\n'))
			break;	/* the empty line */
		/* the field runs to a line end not followed by a blank */
		end = pos;
		for (;;) {
			while (end < size && hdr[end] != '\n')
				end++;
			if (end + 1 < size &&
			    (hdr[end + 1] == ' ' || hdr[end + 1] == '\t')) {
				end++;
				continue;
			}
			break;
		}
		for (colon = start; colon < end && hdr[colon] != ':'; colon++)
			;
		if (colon < end) {
			size_t name_len = colon - start, v = colon + 1;

			while (name_len > 0 && (hdr[start + name_len - 1] == ' ' ||
						hdr[start + name_len - 1] == '\t'))
				name_len--;
			while (v < end && (hdr[v] == ' ' || hdr[v] == '\t'))
				v++;
			if (cb(hdr + start, name_len, hdr + v, end - v, context))
				return true;
		}
		pos = end < size ? end + 1 : size;
	}
	return false;
}

struct header_match {
	const struct mail_search_arg *arg;
	string_t *tmp, *tmp2;
	const char *key;	/* casefolded */
	bool found_field;
};

static bool header_match_cb(const unsigned char *name, size_t name_len,
			    const unsigned char *value, size_t value_len,
			    void *context)
{
	struct header_match *hm = context;
	const char *field = hm->arg->hdr_field_name;

	if (strlen(field) != name_len ||
	    strncasecmp((const char *)name, field, name_len) != 0)
		return false;
	hm->found_field = true;
	if (hm->arg->value.str[0] == '\0')
		return true;	/* existence */
	str_clear(hm->tmp);
	header_value(hm->tmp, value, value_len,
		     hm->arg->type == SEARCH_HEADER_COMPRESS_LWSP);
	if (hm->arg->type == SEARCH_HEADER_ADDRESS) {
		/* matched against the normalized address list */
		pool_t pool = pool_create("search address", 1024);
		struct message_address *addr =
			message_address_parse(pool, str_c(hm->tmp),
					      str_len(hm->tmp), UINT_MAX, 0);

		str_clear(hm->tmp);
		message_address_write(hm->tmp, addr);
		pool_destroy(&pool);
	}
	/* decoded and folded at once: words in unknown charsets stay
	   unfolded, as in Dovecot */
	str_clear(hm->tmp2);
	(void)message_header_decode_utf8_normalized(str_c(hm->tmp),
						    str_len(hm->tmp), hm->tmp2,
						    uni_utf8_to_casemap);
	return memmem(str_c(hm->tmp2), str_len(hm->tmp2), hm->key,
		      strlen(hm->key)) != NULL;
}

static int match_header(struct match_ctx *ctx,
			const struct mail_search_arg *arg)
{
	struct header_match hm;
	string_t *key = str_new(64);
	bool ret;

	if (match_get_data(ctx) < 0) {
		str_free(&key);
		return -1;
	}
	mail_search_casefold(arg->value.str, strlen(arg->value.str), key);
	memset(&hm, 0, sizeof(hm));
	hm.arg = arg;
	hm.tmp = ctx->tmp;
	hm.tmp2 = str_new(256);
	hm.key = str_c(key);
	ret = header_foreach(ctx->data, ctx->hdr_size, header_match_cb, &hm);
	str_free(&hm.tmp2);
	str_free(&key);
	return ret ? 1 : 0;
}

/* BODY / TEXT: the decoded, casefolded text, made once per message. */
static int match_text(struct match_ctx *ctx, const struct mail_search_arg *arg)
{
	bool body = arg->type == SEARCH_BODY;
	string_t **folded = body ? &ctx->body_folded : &ctx->text_folded;
	string_t *key;
	bool ret;

	if (arg->value.str[0] == '\0')
		return 1;
	if (*folded == NULL) {
		pool_t pool = pool_create("search message", 4096);
		struct message_part *parts;
		string_t *text = str_new(ctx->size + 64);

		if (match_get_data(ctx) < 0) {
			pool_destroy(&pool);
			str_free(&text);
			return -1;
		}
		message_parse(pool, ctx->data, ctx->size, &parts);
		mail_search_message_utf8(parts, ctx->data, ctx->size, body,
					 true, text);
		*folded = str_new(str_len(text) + 64);
		mail_search_casefold(str_c(text), str_len(text), *folded);
		str_free(&text);
		pool_destroy(&pool);
	}
	key = str_new(64);
	mail_search_casefold(arg->value.str, strlen(arg->value.str), key);
	ret = memmem(str_c(*folded), str_len(*folded), str_c(key),
		     str_len(key)) != NULL;
	str_free(&key);
	return ret ? 1 : 0;
}

static int match_date(struct match_ctx *ctx, const struct mail_search_arg *arg)
{
	time_t date = 0;
	int tz = 0, ret;
	bool have_tz = false;

	switch (arg->value.date_type) {
	case MAIL_SEARCH_DATE_TYPE_SENT:
		ret = mail_get_date(ctx->mail, &date, &tz);
		have_tz = true;
		break;
	case MAIL_SEARCH_DATE_TYPE_SAVED:
		ret = mail_get_save_date(ctx->mail, &date);
		break;
	default:
		ret = mail_get_received_date(ctx->mail, &date);
		break;
	}
	if (ret < 0)
		return -1;
	if (have_tz) {
		/* the Date: header is compared as its writer saw it
		   (RFC 3501 ignores the timezone), in both syntaxes */
		date += (time_t)tz * 60;
	} else if (!arg->value.use_tz) {
		/* an IMAP date is a day in local time */
		struct tm tm;

		localtime_r(&date, &tm);
		date += (time_t)tm.tm_gmtoff;
	}
	switch (arg->type) {
	case SEARCH_BEFORE:
		return date < arg->value.time;
	case SEARCH_ON:
		return date >= arg->value.time &&
			date < arg->value.time + 86400;
	default:
		return date >= arg->value.time;
	}
}

static int match_keyword(struct match_ctx *ctx,
			 const struct mail_search_arg *arg)
{
	const char *const *kws = mail_get_keywords(ctx->mail);

	for (; kws != NULL && *kws != NULL; kws++) {
		if (strcasecmp(*kws, arg->value.str) == 0)
			return 1;
	}
	return 0;
}

static int match_list(struct match_ctx *ctx, const struct mail_search_arg *arg,
		      bool or_list);
static bool mailbox_name_match(const struct mail_search_arg *arg,
			       const char *vname, char sep);

/* 1, 0 or -1 for one arg, before match_not. */
static int match_arg(struct match_ctx *ctx, const struct mail_search_arg *arg)
{
	struct mail *mail = ctx->mail;
	uint64_t size;
	const char *str;
	uint32_t count;

	switch (arg->type) {
	case SEARCH_OR:
		return match_list(ctx, arg->value.subargs, true);
	case SEARCH_SUB:
		return match_list(ctx, arg->value.subargs, false);
	case SEARCH_ALL:
		return 1;
	case SEARCH_SEQSET:
		return ranges_have(arg, mail->seq, mailbox_count(mail->box));
	case SEARCH_UIDSET:
		count = mailbox_count(mail->box);
		return ranges_have(arg, mail->uid, count == 0 ? 0 :
				   mailbox_seq_to_uid(mail->box, count));
	case SEARCH_FLAGS: {
		enum mail_flags flags = mail_get_flags(mail) & MAIL_FLAGS_MASK;

		if ((arg->value.flags & MAIL_RECENT) != 0 &&
		    mail_search_is_recent(mail, arg->init.first_recent_uid))
			flags |= MAIL_RECENT;
		return (flags & arg->value.flags) == arg->value.flags;
	}
	case SEARCH_KEYWORDS:
		return match_keyword(ctx, arg);
	case SEARCH_BEFORE:
	case SEARCH_ON:
	case SEARCH_SINCE:
		return match_date(ctx, arg);
	case SEARCH_SMALLER:
	case SEARCH_LARGER:
		if (mail_get_virtual_size(mail, &size) < 0)
			return -1;
		return arg->type == SEARCH_SMALLER ? size < arg->value.size :
			size > arg->value.size;
	case SEARCH_HEADER:
	case SEARCH_HEADER_ADDRESS:
	case SEARCH_HEADER_COMPRESS_LWSP:
		return match_header(ctx, arg);
	case SEARCH_BODY:
	case SEARCH_TEXT:
		return match_text(ctx, arg);
	case SEARCH_MODSEQ:
		return mail_get_modseq(mail) >= arg->value.modseq;
	case SEARCH_GUID:
		if (mail_get_guid(mail, &str) < 0)
			return -1;
		return strcmp(str, arg->value.str) == 0;
	case SEARCH_MAILBOX:
	case SEARCH_MAILBOX_GLOB:
		str = mailbox_get_vname(mail->box);
		return mailbox_name_match(arg, str,
			mailbox_get_namespace(mail->box)->sep);
	case SEARCH_MAILBOX_GUID:
		return arg->init.mailbox_guid != NULL &&
			strcmp(arg->init.mailbox_guid, arg->value.str) == 0;
	case SEARCH_EMAILID:
	case SEARCH_THREADID: {
		pool_t pool = pool_create("objectid", 128);

		str = arg->type == SEARCH_EMAILID ?
			mail_objectid_emailid(pool, mail) :
			mail_objectid_threadid(pool, mail);
		int ret = str == NULL ? -1 : strcmp(str, arg->value.str) == 0;
		pool_destroy(&pool);
		return ret;
	}
	}
	return 0;
}

/* AND (or OR) of the list starting at arg. */
static int match_list(struct match_ctx *ctx, const struct mail_search_arg *arg,
		      bool or_list)
{
	int ret;

	for (; arg != NULL; arg = arg->next) {
		ret = match_arg(ctx, arg);
		if (ret < 0)
			return -1;
		if (arg->match_not)
			ret = !ret;
		if (or_list && ret)
			return 1;
		if (!or_list && !ret)
			return 0;
	}
	return or_list ? 0 : 1;
}

int mail_search_match(struct mail *mail, const struct mail_search_arg *args)
{
	struct match_ctx ctx;
	int ret;

	if (mail->expunged)
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.mail = mail;
	ctx.tmp = str_new(256);
	ret = match_list(&ctx, args, false);
	str_free(&ctx.tmp);
	if (ctx.text_folded != NULL)
		str_free(&ctx.text_folded);
	if (ctx.body_folded != NULL)
		str_free(&ctx.body_folded);
	return ret;
}

/* ---- mailbox-level helpers ---------------------------------------- */

static bool mailbox_name_match(const struct mail_search_arg *arg,
			       const char *vname, char sep)
{
	if (strcasecmp(vname, "INBOX") == 0) {
		if (arg->type == SEARCH_MAILBOX)
			return strcasecmp(arg->value.str, "INBOX") == 0;
		/* INBOX is case-insensitive in patterns too */
		if (mailbox_pattern_match(arg->value.str, "INBOX", sep))
			return true;
		char *up = i_strdup(arg->value.str);
		if (strncasecmp(up, "INBOX", 5) == 0)
			memcpy(up, "INBOX", 5);
		bool ret = mailbox_pattern_match(up, "INBOX", sep);
		i_free(up);
		return ret;
	}
	if (arg->type == SEARCH_MAILBOX)
		return strcmp(arg->value.str, vname) == 0;
	if (strncasecmp(vname, "INBOX", 5) == 0 && vname[5] == sep &&
	    strncasecmp(arg->value.str, "INBOX", 5) == 0) {
		char *up = i_strdup(arg->value.str);
		memcpy(up, "INBOX", 5);
		bool ret = mailbox_pattern_match(up, vname, sep);
		i_free(up);
		return ret;
	}
	return mailbox_pattern_match(arg->value.str, vname, sep);
}

/* Three-valued: 1 yes, 0 no, -1 can't tell without the messages. */
static int mailbox_list_match(const struct mail_search_arg *arg,
			      const char *vname, char sep, bool or_list);

static int mailbox_arg_match(const struct mail_search_arg *arg,
			     const char *vname, char sep)
{
	int ret;

	switch (arg->type) {
	case SEARCH_OR:
		ret = mailbox_list_match(arg->value.subargs, vname, sep, true);
		break;
	case SEARCH_SUB:
		ret = mailbox_list_match(arg->value.subargs, vname, sep, false);
		break;
	case SEARCH_MAILBOX:
	case SEARCH_MAILBOX_GLOB:
		ret = mailbox_name_match(arg, vname, sep) ? 1 : 0;
		break;
	default:
		return -1;
	}
	if (ret >= 0 && arg->match_not)
		ret = !ret;
	return ret;
}

static int mailbox_list_match(const struct mail_search_arg *arg,
			      const char *vname, char sep, bool or_list)
{
	int result = or_list ? 0 : 1, ret;

	for (; arg != NULL; arg = arg->next) {
		ret = mailbox_arg_match(arg, vname, sep);
		if (or_list) {
			if (ret == 1)
				return 1;
			if (ret < 0)
				result = -1;
		} else {
			if (ret == 0)
				return 0;
			if (ret < 0)
				result = -1;
		}
	}
	return result;
}

bool mail_search_args_match_mailbox(const struct mail_search_args *args,
				    const char *vname, char sep)
{
	return mailbox_list_match(args->args, vname, sep, false) != 0;
}

static bool get_patterns(const struct mail_search_arg *arg,
			 ARRAY_STR *patterns, bool *have_guid,
			 bool *have_wildcards)
{
	for (; arg != NULL; arg = arg->next) {
		switch (arg->type) {
		case SEARCH_SUB:
			if (!arg->match_not &&
			    !get_patterns(arg->value.subargs, patterns,
					  have_guid, have_wildcards))
				return false;
			break;
		case SEARCH_MAILBOX_GLOB:
			/* a name without wildcards is an exact name */
			if (strpbrk(arg->value.str, "*%") != NULL)
				*have_wildcards = true;
			/* fall through */
		case SEARCH_MAILBOX:
			if (arg->match_not) {
				array_clear(patterns);
				return false;
			}
			array_push(patterns, arg->value.str);
			break;
		case SEARCH_MAILBOX_GUID:
			*have_guid = true;
			break;
		default:
			break;
		}
	}
	return true;
}

bool mail_search_args_get_mailbox_patterns(const struct mail_search_args *args,
					   ARRAY_STR *patterns,
					   bool *have_guid,
					   bool *have_wildcards)
{
	*have_guid = false;
	*have_wildcards = false;
	return get_patterns(args->args, patterns, have_guid, have_wildcards);
}

static bool is_mailbox_arg(const struct mail_search_arg *arg)
{
	return arg->type == SEARCH_MAILBOX ||
		arg->type == SEARCH_MAILBOX_GLOB ||
		arg->type == SEARCH_MAILBOX_GUID;
}

/* Does every way of satisfying the list need a non-mailbox key? */
static bool list_have_nonmailbox(const struct mail_search_arg *arg,
				 bool or_list)
{
	bool any = false;

	for (; arg != NULL; arg = arg->next) {
		bool have;

		if (arg->type == SEARCH_OR)
			have = list_have_nonmailbox(arg->value.subargs, true);
		else if (arg->type == SEARCH_SUB)
			have = list_have_nonmailbox(arg->value.subargs, false);
		else
			have = !is_mailbox_arg(arg);
		if (or_list && !have)
			return false;
		if (have)
			any = true;
	}
	return any;
}

bool mail_search_args_have_nonmailbox(const struct mail_search_args *args)
{
	return list_have_nonmailbox(args->args, false);
}

/* ---- decoded message text ------------------------------------------ */

void mail_search_header_utf8(const unsigned char *hdr, size_t size,
			     string_t *dest)
{
	struct message_header_iter iter;
	struct message_header_line line;
	string_t *value = str_new(256);

	message_header_iter_init(&iter, hdr, size);
	while (message_header_iter_next(&iter, &line)) {
		if (line.no_colon || line.name_len == 0)
			continue;
		str_append_n(dest, line.name, line.name_len);
		str_append(dest, ": ");
		/* blanks after the first one that follows the colon stay,
		   as in Dovecot's one-line form */
		const unsigned char *p = line.name + line.name_len;
		while (p < line.value && *p != ':')
			p++;
		if (p < line.value)
			p++;
		if (p < line.value && (*p == ' ' || *p == '\t'))
			p++;
		for (; p < line.value; p++) {
			if (*p == ' ' || *p == '\t')
				str_append_c(dest, ' ');
		}
		str_clear(value);
		message_header_value_unfold(&line, value);
		(void)message_header_decode_utf8(str_c(value), str_len(value),
						 dest);
		str_append_c(dest, '\n');
	}
	str_append_c(dest, '\n');
	str_free(&value);
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Lenient base64: anything outside the alphabet is skipped, '=' ends. */
static void base64_decode_lenient(const unsigned char *p, size_t size,
				  string_t *dest)
{
	uint32_t acc = 0;
	unsigned int n = 0;

	for (size_t i = 0; i < size && p[i] != '='; i++) {
		int v = b64val(p[i]);

		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		if (++n == 4) {
			str_append_c(dest, (char)(acc >> 16));
			str_append_c(dest, (char)(acc >> 8));
			str_append_c(dest, (char)acc);
			acc = 0;
			n = 0;
		}
	}
	if (n == 2) {
		str_append_c(dest, (char)(acc >> 4));
	} else if (n == 3) {
		str_append_c(dest, (char)(acc >> 10));
		str_append_c(dest, (char)(acc >> 2));
	}
}

static const char *part_charset(const struct message_part *part)
{
	const struct message_part_data *d = part->data;

	for (unsigned int i = 0; i < d->content_type_params_count; i++) {
		if (strcasecmp(d->content_type_params[i].name, "charset") == 0)
			return d->content_type_params[i].value;
	}
	return NULL;
}

void mail_search_part_body_utf8(const struct message_part *part,
				const unsigned char *msg, size_t msg_size,
				string_t *dest)
{
	uint64_t start = message_part_body_offset(part);
	uint64_t size = part->body_size.physical_size;
	const unsigned char *body;
	string_t *decoded;
	const char *charset;
	bool invalid;

	if ((part->flags & (MESSAGE_PART_FLAG_MULTIPART |
			    MESSAGE_PART_FLAG_MESSAGE_RFC822)) != 0)
		return;
	if (start > msg_size)
		return;
	if (size > msg_size - start)
		size = msg_size - start;
	body = msg + start;
	decoded = str_new(size + 16);
	switch (part->data->cte) {
	case MESSAGE_CTE_BASE64:
		base64_decode_lenient(body, size, decoded);
		break;
	case MESSAGE_CTE_QP:
		(void)qp_decode(decoded, body, size);
		break;
	default:
		str_append_n(decoded, body, size);
		break;
	}
	charset = part_charset(part);
	if ((part->flags & MESSAGE_PART_FLAG_TEXT) == 0 || charset == NULL ||
	    charset_is_utf8(charset) ||
	    charset_to_utf8_str(charset, str_c(decoded), str_len(decoded),
				dest, &invalid) < 0) {
		if ((part->flags & MESSAGE_PART_FLAG_TEXT) != 0)
			(void)uni_utf8_get_valid_data(str_c(decoded),
						      str_len(decoded), dest);
		else
			str_append_n(dest, str_c(decoded), str_len(decoded));
	}
	str_free(&decoded);
}

void mail_search_message_utf8(const struct message_part *parts,
			      const unsigned char *msg, size_t msg_size,
			      bool skip_headers, bool text_only,
			      string_t *dest)
{
	const struct message_part *part = parts;

	/* depth first, in message order */
	while (part != NULL) {
		if (!skip_headers && part->physical_pos < msg_size) {
			uint64_t hsize = part->header_size.physical_size;

			if (hsize > msg_size - part->physical_pos)
				hsize = msg_size - part->physical_pos;
			mail_search_header_utf8(msg + part->physical_pos,
						hsize, dest);
		}
		if (!text_only || (part->flags & MESSAGE_PART_FLAG_TEXT) != 0)
			mail_search_part_body_utf8(part, msg, msg_size, dest);
		if (part->children != NULL) {
			part = part->children;
			continue;
		}
		while (part != NULL && part->next == NULL)
			part = part->parent;
		if (part != NULL)
			part = part->next;
	}
}

void mail_search_casefold(const void *data, size_t size, string_t *dest)
{
	(void)uni_utf8_to_casemap(data, size, dest);
}

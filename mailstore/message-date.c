/* message-date.c - lenient RFC 5322 date parsing and formatting. */
#include "message-date.h"
#include "rfc822-parser.h"
#include "str.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const char weekday_names[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

struct date_tokens {
	struct rfc822_parser parser;
	string_t *tok;
};

/* Next word: a run of letters, digits, '+', '-' or ':' (times), after
   whitespace and comments; NULL at the end. */
static const char *next_token(struct date_tokens *t)
{
	const unsigned char *start;

	str_truncate(t->tok, 0);
	if (rfc822_skip_lwsp(&t->parser) <= 0)
		return NULL;
	if (*t->parser.data == ',') {
		t->parser.data++;
		str_append_c(t->tok, ',');
		return str_c(t->tok);
	}
	start = t->parser.data;
	while (t->parser.data < t->parser.end &&
	       (isalnum(*t->parser.data) || *t->parser.data == '+' ||
		*t->parser.data == '-' || *t->parser.data == ':'))
		t->parser.data++;
	if (t->parser.data == start) {
		/* something else: skip a byte so that we go on */
		t->parser.data++;
		str_append_c(t->tok, '?');
	} else {
		str_append_n(t->tok, start, (size_t)(t->parser.data - start));
	}
	return str_c(t->tok);
}

static bool parse_number(const char *s, unsigned int min_digits,
			 unsigned int max_digits, int *num_r)
{
	unsigned int n = 0;
	int num = 0;

	for (; *s >= '0' && *s <= '9'; s++, n++)
		num = num * 10 + (*s - '0');
	if (*s != '\0' || n < min_digits || n > max_digits)
		return false;
	*num_r = num;
	return true;
}

static int month_parse(const char *s)
{
	int i;

	if (strlen(s) < 3)
		return -1;
	for (i = 0; i < 12; i++) {
		if (strncasecmp(s, month_names[i], 3) == 0)
			return i;
	}
	return -1;
}

/* "10:00", "10:00:59" */
static bool time_parse(const char *s, struct tm *tm)
{
	int h = 0, m = 0, sec = 0, n = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2)
		return false;
	if (s[n] == ':' && sscanf(s + n + 1, "%2d", &sec) != 1)
		return false;
	if (h > 23 || m > 59 || sec > 60)
		return false;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = sec;
	return true;
}

static bool zone_parse(const char *s, int *offset_r)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	unsigned int i;
	int num;

	if ((s[0] == '+' || s[0] == '-') && parse_number(s + 1, 4, 4, &num)) {
		if (num % 100 > 59)
			return false;
		*offset_r = (num / 100) * 60 + num % 100;
		if (s[0] == '-')
			*offset_r = -*offset_r;
		return true;
	}
	for (i = 0; i < N_ELEMENTS(zones); i++) {
		if (strcasecmp(s, zones[i].name) == 0) {
			*offset_r = zones[i].hours * 60;
			return true;
		}
	}
	/* RFC 5322: military zones are unreliable, take them as +0000 */
	if (strlen(s) == 1 && isalpha((unsigned char)s[0]) &&
	    toupper((unsigned char)s[0]) != 'J') {
		*offset_r = 0;
		return true;
	}
	return false;
}

static int year_fix(int year, size_t digits)
{
	if (digits == 2)
		return year < 50 ? year + 2000 : year + 1900;
	if (digits == 3)
		return year + 1900;
	return year;
}

/* [weekday [","]] day month year time [zone] */
static bool date_parse_tokens(struct date_tokens *t, struct tm *tm,
			      int *offset_r)
{
	const char *s = next_token(t);
	int day, year, mon;

	if (s != NULL && isalpha((unsigned char)s[0])) {
		/* day of week, checked loosely */
		if ((s = next_token(t)) != NULL && strcmp(s, ",") == 0)
			s = next_token(t);
	}
	if (s == NULL || !parse_number(s, 1, 2, &day) || day < 1 || day > 31)
		return false;
	if ((s = next_token(t)) == NULL || (mon = month_parse(s)) < 0)
		return false;
	if ((s = next_token(t)) == NULL || !parse_number(s, 2, 4, &year))
		return false;
	tm->tm_mday = day;
	tm->tm_mon = mon;
	tm->tm_year = year_fix(year, strlen(s)) - 1900;
	if ((s = next_token(t)) == NULL || !time_parse(s, tm))
		return false;
	*offset_r = 0;
	if ((s = next_token(t)) != NULL && !zone_parse(s, offset_r))
		*offset_r = 0;
	return true;
}

bool message_date_parse(const void *data, size_t size, time_t *time_r,
			int *timezone_offset_r)
{
	struct date_tokens t;
	struct tm tm;
	int offset;
	bool ret;

	memset(&tm, 0, sizeof(tm));
	rfc822_parser_init(&t.parser, data, size, NULL);
	t.tok = str_new(32);
	ret = date_parse_tokens(&t, &tm, &offset);
	str_free(&t.tok);
	if (!ret)
		return false;
	*time_r = timegm(&tm);
	if (*time_r == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11))
		return false;
	*time_r -= (time_t)offset * 60;
	*timezone_offset_r = offset;
	return true;
}

void message_date_create(time_t t, int tz_offset, string_t *dest)
{
	struct tm tm;
	time_t local = t + (time_t)tz_offset * 60;
	int off = tz_offset < 0 ? -tz_offset : tz_offset;

	if (gmtime_r(&local, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	str_printfa(dest, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
		    weekday_names[tm.tm_wday % 7], tm.tm_mday,
		    month_names[tm.tm_mon % 12], tm.tm_year + 1900,
		    tm.tm_hour, tm.tm_min, tm.tm_sec,
		    tz_offset < 0 ? '-' : '+', off / 60 % 100, off % 60);
}

/* rfc822-date.c - lenient RFC 5322 date parsing. */
#include "rfc822-date.h"

#include <ctype.h>
#include <strings.h>

static const char *const months[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};

static const char *skip_ws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		/* comment, possibly nested */
		int depth = 0;
		do {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			else if (*p == '\\' && p[1] != '\0')
				p++;
			p++;
		} while (*p != '\0' && depth > 0);
	}
}

static bool get_num(const char **p, int max_digits, int *v_r)
{
	int v = 0, n = 0;

	while (isdigit((unsigned char)**p) && n < max_digits) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*v_r = v;
	return n > 0;
}

static bool parse_zone(const char *p, int *tz_r)
{
	static const struct { const char *name; int offset; } zones[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "UTC", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 },
		{ "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
		{ "PST", -480 }, { "PDT", -420 },
	};
	int v;

	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		const char *start = ++p;
		if (!get_num(&p, 4, &v) || p - start != 4)
			return false;
		*tz_r = sign * ((v / 100) * 60 + v % 100);
		return true;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(zones); i++) {
		size_t len = strlen(zones[i].name);
		if (strncasecmp(p, zones[i].name, len) == 0 &&
		    !isalpha((unsigned char)p[len])) {
			*tz_r = zones[i].offset;
			return true;
		}
	}
	*tz_r = 0;	/* unknown zone: RFC 5322 says treat as -0000 */
	return true;
}

bool rfc822_date_parse(const char *value, time_t *time_r, int *tz_offset_r)
{
	const char *p = skip_ws(value);
	struct tm tm;
	int day, year, hour, min, sec = 0, tz = 0, mon = -1;

	memset(&tm, 0, sizeof(tm));
	/* optional day name */
	if (isalpha((unsigned char)*p)) {
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_ws(p);
		if (*p == ',')
			p = skip_ws(p + 1);
	}
	if (!get_num(&p, 2, &day))
		return false;
	p = skip_ws(p);
	for (unsigned int i = 0; i < N_ELEMENTS(months); i++) {
		if (strncasecmp(p, months[i], 3) == 0) {
			mon = (int)i;
			break;
		}
	}
	if (mon < 0)
		return false;
	while (isalpha((unsigned char)*p))
		p++;
	p = skip_ws(p);
	const char *ystart = p;
	if (!get_num(&p, 4, &year))
		return false;
	if (p - ystart <= 2)
		year += year < 50 ? 2000 : 1900;
	else if (p - ystart == 3)
		year += 1900;
	p = skip_ws(p);
	if (!get_num(&p, 2, &hour) || *p != ':')
		return false;
	p++;
	if (!get_num(&p, 2, &min))
		return false;
	if (*p == ':') {
		p++;
		if (!get_num(&p, 2, &sec))
			return false;
	}
	p = skip_ws(p);
	if (*p != '\0' && !parse_zone(p, &tz))
		return false;
	if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*time_r = timegm(&tm) - (time_t)tz * 60;
	*tz_offset_r = tz;
	return true;
}

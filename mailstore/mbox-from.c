/* mbox-from.c - From_ lines: "From <envelope sender>  <asctime date>".
 * The parser accepts the date variants other mail programs write (no
 * weekday, no seconds, a timezone before or after the year, two-digit
 * years); the writer produces what Dovecot writes: two spaces after the
 * sender and a ctime-style date in local time with English names. */
#include "mbox-private.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const wday_names[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

static int name_index(const unsigned char *p, const unsigned char *end,
		      const char *const *names, unsigned int count)
{
	if (end - p < 3)
		return -1;
	for (unsigned int i = 0; i < count; i++) {
		if (strncasecmp((const char *)p, names[i], 3) == 0)
			return (int)i;
	}
	return -1;
}

static bool parse_digits(const unsigned char **_p, const unsigned char *end,
			 unsigned int min, unsigned int max, int *num_r)
{
	const unsigned char *p = *_p;
	unsigned int n = 0;
	int num = 0;

	while (p < end && isdigit(*p) && n < max) {
		num = num * 10 + (*p - '0');
		p++;
		n++;
	}
	if (n < min)
		return false;
	*_p = p;
	*num_r = num;
	return true;
}

static void skip_spaces(const unsigned char **p, const unsigned char *end)
{
	while (*p < end && **p == ' ')
		(*p)++;
}

/* "+0200" / "-0530": offset in seconds */
static bool parse_numeric_tz(const unsigned char **_p, const unsigned char *end,
			     int *offset_r)
{
	const unsigned char *p = *_p;
	int sign, hhmm;

	if (p >= end || (*p != '+' && *p != '-'))
		return false;
	sign = *p == '-' ? -1 : 1;
	p++;
	if (end - p < 4 || !parse_digits(&p, end, 4, 4, &hhmm))
		return false;
	*offset_r = sign * ((hhmm / 100) * 3600 + (hhmm % 100) * 60);
	*_p = p;
	return true;
}

/* An alphabetic zone name ("EST", "MET DST"): skipped, treated as local. */
static bool skip_alpha_tz(const unsigned char **_p, const unsigned char *end)
{
	const unsigned char *p = *_p;

	if (p >= end || !isalpha(*p))
		return false;
	while (p < end && isalpha(*p))
		p++;
	*_p = p;
	return true;
}

/* mktime() without its tzset() (which stats /etc/localtime on every
 * call - thousands of times per scan): the UTC value shifted by the local
 * offset found with localtime_r(), checked once more for DST edges. */
static time_t local_to_time(const struct tm *tm)
{
	struct tm copy = *tm, lt;
	time_t t0 = timegm(&copy), t;

	if (t0 == (time_t)-1 || localtime_r(&t0, &lt) == NULL)
		return (time_t)-1;
	t = t0 - lt.tm_gmtoff;
	if (localtime_r(&t, &lt) != NULL && t0 - lt.tm_gmtoff != t)
		t = t0 - lt.tm_gmtoff;
	return t;
}

/* The date part of a From_ line. */
static bool parse_date(const unsigned char *p, const unsigned char *end,
		       time_t *time_r)
{
	struct tm tm;
	int mon, num, tz_offset = 0;
	bool have_tz = false;

	memset(&tm, 0, sizeof(tm));
	skip_spaces(&p, end);
	/* optional weekday */
	if (name_index(p, end, wday_names, 7) >= 0 && end - p > 3 &&
	    (p[3] == ' ' || p[3] == ',')) {
		p += 3;
		if (p < end && *p == ',')
			p++;
		skip_spaces(&p, end);
	}
	mon = name_index(p, end, month_names, 12);
	if (mon < 0 || end - p < 4 || p[3] != ' ')
		return false;
	tm.tm_mon = mon;
	p += 3;
	skip_spaces(&p, end);
	if (!parse_digits(&p, end, 1, 2, &num) || num < 1 || num > 31)
		return false;
	tm.tm_mday = num;
	if (p >= end || *p != ' ')
		return false;
	skip_spaces(&p, end);
	/* hh:mm[:ss] */
	if (!parse_digits(&p, end, 1, 2, &num) || num > 23 || p >= end ||
	    *p != ':')
		return false;
	tm.tm_hour = num;
	p++;
	if (!parse_digits(&p, end, 2, 2, &num) || num > 59)
		return false;
	tm.tm_min = num;
	if (p < end && *p == ':') {
		p++;
		if (!parse_digits(&p, end, 2, 2, &num) || num > 60)
			return false;
		tm.tm_sec = num;
	}
	if (p >= end || *p != ' ')
		return false;
	skip_spaces(&p, end);
	/* timezone before the year? */
	if (parse_numeric_tz(&p, end, &tz_offset)) {
		have_tz = true;
		skip_spaces(&p, end);
	} else if (skip_alpha_tz(&p, end)) {
		skip_spaces(&p, end);
		/* "MET DST" */
		if (skip_alpha_tz(&p, end))
			skip_spaces(&p, end);
	}
	/* year: 4 digits, or 2 (70..99 = 19xx, else 20xx) */
	{
		const unsigned char *start = p;

		if (!parse_digits(&p, end, 2, 4, &num) || p - start == 3)
			return false;
		if (p - start == 2)
			num += num >= 70 ? 1900 : 2000;
		if (num < 1970)
			return false;
		tm.tm_year = num - 1900;
	}
	/* anything after the year must be separated by a space: a zone
	   (numeric kept) or words like "remote from host" (ignored) */
	if (p < end) {
		if (*p != ' ')
			return false;
		skip_spaces(&p, end);
		if (!have_tz && parse_numeric_tz(&p, end, &tz_offset))
			have_tz = true;
	}
	if (have_tz) {
		time_t t = timegm(&tm);

		if (t == (time_t)-1)
			return false;
		*time_r = t - tz_offset;
	} else {
		*time_r = local_to_time(&tm);
		if (*time_r == (time_t)-1)
			return false;
	}
	return true;
}

bool mbox_from_parse(const unsigned char *line, size_t len, time_t *time_r,
		     size_t *sender_len_r)
{
	const unsigned char *p, *end = line + len, *sender_end;

	if (len < 5 || memcmp(line, "From ", 5) != 0)
		return false;
	if (end > line && end[-1] == '\n')
		end--;
	if (end > line && end[-1] == '\r')
		end--;
	p = line + 5;
	if (p < end && *p == '"') {
		/* quoted local part: "john doe"@example.com */
		const unsigned char *q = memchr(p + 1, '"',
						(size_t)(end - p - 1));
		if (q == NULL)
			return false;
		p = q + 1;
	}
	while (p < end && *p != ' ')
		p++;
	sender_end = p;
	if (parse_date(p, end, time_r)) {
		*sender_len_r = (size_t)(sender_end - (line + 5));
		return true;
	}
	/* senders with spaces in them: try each later word as the date */
	for (p = sender_end; p < end; p++) {
		if (*p != ' ' || p + 1 >= end || p[1] == ' ')
			continue;
		if (parse_date(p + 1, end, time_r)) {
			sender_end = p;
			while (sender_end > line + 5 && sender_end[-1] == ' ')
				sender_end--;
			*sender_len_r = (size_t)(sender_end - (line + 5));
			return true;
		}
	}
	return false;
}

void mbox_from_create(string_t *dest, const char *sender, time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL) {
		t = 0;
		localtime_r(&t, &tm);
	}
	str_append(dest, "From ");
	str_append(dest, sender);
	str_printfa(dest, "  %s %s %2d %02d:%02d:%02d %d\n",
		    wday_names[tm.tm_wday % 7], month_names[tm.tm_mon % 12],
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    tm.tm_year + 1900);
}

/* The host's fully qualified name (Dovecot's my_hostdomain()). */
static const char *my_hostdomain(void)
{
	static char domain[256];
	char host[256];
	struct addrinfo hints, *ai = NULL;
	const char *env;

	if (domain[0] != '\0')
		return domain;
	env = getenv("DOVECOT_HOSTDOMAIN");
	if (env != NULL && env[0] != '\0' && strlen(env) < sizeof(domain)) {
		strcpy(domain, env);
		return domain;
	}
	if (gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL && strlen(ai->ai_canonname) < sizeof(domain))
		snprintf(domain, sizeof(domain), "%s", ai->ai_canonname);
	else
		snprintf(domain, sizeof(domain), "%s", host);
	if (ai != NULL)
		freeaddrinfo(ai);
	return domain;
}

const char *mbox_from_envelope(const char *sender, const char *username,
			       char *buf, size_t bufsize)
{
	size_t len;

	if (sender == NULL) {
		/* IMAP APPEND and friends: the user at this host */
		if (username == NULL || username[0] == '\0')
			return "MAILER-DAEMON";
		if (strchr(username, '@') != NULL)
			snprintf(buf, bufsize, "%s", username);
		else
			snprintf(buf, bufsize, "%s@%s", username,
				 my_hostdomain());
		for (char *p = buf; *p != '\0'; p++) {
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				return "MAILER-DAEMON";
		}
		return buf;
	}
	if (sender[0] == '<') {
		sender++;
		len = strlen(sender);
		if (len > 0 && sender[len - 1] == '>')
			len--;
	} else {
		len = strlen(sender);
	}
	if (len == 0 || len >= bufsize)
		return "MAILER-DAEMON";
	for (size_t i = 0; i < len; i++) {
		/* a From_ line can't carry blanks or controls in the sender */
		if ((unsigned char)sender[i] <= ' ' || sender[i] == 0x7f ||
		    sender[i] == '<' || sender[i] == '>')
			return "MAILER-DAEMON";
	}
	memcpy(buf, sender, len);
	buf[len] = '\0';
	return buf;
}

/* config-value.c - parsing and printing of typed setting values. */
#include "config-value.h"
#include "str.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

/* error texts live in a static buffer: the caller copies them at once */
static char errbuf[1024];

static const char *error_fmt(const char *fmt, const char *value)
{
	snprintf(errbuf, sizeof(errbuf), fmt, value);
	return errbuf;
}

int config_parse_bool(const char *value, bool *result_r, const char **error_r)
{
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "y") == 0 ||
	    strcmp(value, "1") == 0) {
		*result_r = true;
		return 0;
	}
	if (strcasecmp(value, "no") == 0) {
		*result_r = false;
		return 0;
	}
	*error_r = error_fmt("Invalid boolean value: %s (use yes or no)", value);
	return -1;
}

/* Parse a plain decimal number into *num_r, setting *end_r after it. */
static bool parse_decimal(const char *value, uint64_t *num_r,
			  const char **end_r, bool *overflow_r)
{
	uint64_t num = 0;
	const char *p = value;

	*overflow_r = false;
	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int digit = (unsigned int)(*p - '0');

		if (num > (UINT64_MAX - digit) / 10)
			*overflow_r = true;
		else
			num = num * 10 + digit;
	}
	*num_r = num;
	*end_r = p;
	return true;
}

int config_parse_uint(const char *value, unsigned int *result_r,
		      const char **error_r)
{
	uint64_t num;
	const char *end;
	bool overflow;

	if (value[0] == '-' && isdigit((unsigned char)value[1])) {
		*error_r = error_fmt("Invalid number %s: Number too small",
				     value);
		return -1;
	}
	if (!parse_decimal(value, &num, &end, &overflow) || *end != '\0') {
		*error_r = error_fmt("Invalid number %s: Not a valid number",
				     value);
		return -1;
	}
	if (overflow || num > UINT32_MAX) {
		*error_r = error_fmt("Invalid number %s: Number too large",
				     value);
		return -1;
	}
	*result_r = (unsigned int)num;
	return 0;
}

/* A mode: octal with a leading 0, else decimal. Like Dovecot, an octal
 * number is read as 64 bits and then cut to 32 (077777777777777777 is
 * 037777777777). */
static int parse_oct(const char *value, unsigned int *result_r,
		     const char **error_r)
{
	uint64_t num = 0;

	if (value[0] != '0')
		return config_parse_uint(value, result_r, error_r);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p < '0' || *p > '7' || num > UINT64_MAX / 8) {
			*error_r = error_fmt("Invalid number: %s", value);
			return -1;
		}
		num = num * 8 + (unsigned int)(*p - '0');
	}
	*result_r = (unsigned int)(num & UINT32_MAX);
	return 0;
}

int config_parse_size(const char *value, uint64_t *result_r,
		      const char **error_r)
{
	uint64_t num, mult = 1;
	const char *p;
	bool overflow;

	if (!parse_decimal(value, &num, &p, &overflow) || overflow)
		goto fail;
	while (*p == ' ')
		p++;
	switch (*p) {
	case '\0': break;
	case 'B': case 'b': mult = 1; p++; break;
	case 'k': case 'K': mult = 1024ULL; p++; break;
	case 'M': case 'm': mult = 1024ULL * 1024; p++; break;
	case 'G': case 'g': mult = 1024ULL * 1024 * 1024; p++; break;
	case 'T': case 't': mult = 1024ULL * 1024 * 1024 * 1024; p++; break;
	default: goto fail;
	}
	if (mult > 1) {
		/* "kB", "KiB", "Mb", "MiB" */
		if (*p == 'i')
			p++;
		if (*p == 'B' || *p == 'b')
			p++;
	}
	if (*p != '\0')
		goto fail;
	if (num != 0 && mult > UINT64_MAX / num) {
		*error_r = error_fmt("Size is too large: %s", value);
		return -1;
	}
	*result_r = num * mult;
	return 0;
fail:
	*error_r = error_fmt("Invalid size: %s", value);
	return -1;
}

static const struct {
	const char *name;
	uint64_t msecs;
} time_units[] = {
	{ "ms", 1 }, { "msec", 1 }, { "msecs", 1 }, { "millisecond", 1 },
	{ "milliseconds", 1 },
	{ "s", 1000 }, { "sec", 1000 }, { "secs", 1000 },
	{ "second", 1000 }, { "seconds", 1000 },
	{ "m", 60000 }, { "min", 60000 }, { "mins", 60000 },
	{ "minute", 60000 }, { "minutes", 60000 },
	{ "h", 3600000 }, { "hour", 3600000 }, { "hours", 3600000 },
	{ "d", 86400000 }, { "day", 86400000 }, { "days", 86400000 },
	{ "w", 604800000 }, { "week", 604800000 }, { "weeks", 604800000 },
};

int config_parse_time(const char *value, bool msecs, uint64_t *result_r,
		      const char **error_r)
{
	uint64_t num;
	const char *p;
	bool overflow;

	if (!parse_decimal(value, &num, &p, &overflow) || overflow) {
		*error_r = error_fmt("Invalid time interval: %s", value);
		return -1;
	}
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		if (num == 0) {
			*result_r = 0;
			return 0;
		}
		*error_r = error_fmt("Time interval '%s' is missing units "
				     "(add e.g. 's' for seconds)", value);
		return -1;
	}
	for (size_t i = 0; i < N_ELEMENTS(time_units); i++) {
		if (strcasecmp(p, time_units[i].name) != 0)
			continue;
		if (time_units[i].msecs == 1 && !msecs) {
			*error_r = error_fmt("Milliseconds not supported for "
					     "this setting: %s", value);
			return -1;
		}
		if (num > UINT64_MAX / time_units[i].msecs) {
			*error_r = error_fmt("Time interval is too large: %s",
					     value);
			return -1;
		}
		num *= time_units[i].msecs;
		*result_r = msecs ? num : num / 1000;
		return 0;
	}
	*error_r = error_fmt("Invalid time interval: %s", value);
	return -1;
}

const char *config_size_str(pool_t pool, uint64_t size)
{
	static const char suffixes[] = { 'B', 'k', 'M', 'G', 'T' };
	char suffix = suffixes[0];

	if (size == 0)
		return "0";
	for (size_t i = 1; i < N_ELEMENTS(suffixes) && size % 1024 == 0; i++) {
		suffix = suffixes[i];
		size /= 1024;
	}
	return p_strdup_printf(pool, "%llu %c", (unsigned long long)size,
			       suffix);
}

const char *config_time_str(pool_t pool, uint64_t secs)
{
	const char *suffix = "secs";

	if (secs == 0)
		return "0";
	if (secs % 60 == 0) {
		secs /= 60;
		suffix = "mins";
		if (secs % 60 == 0) {
			secs /= 60;
			suffix = "hours";
			if (secs % 24 == 0) {
				secs /= 24;
				suffix = "days";
				if (secs % 7 == 0) {
					secs /= 7;
					suffix = "weeks";
				}
			}
		}
	}
	return p_strdup_printf(pool, "%llu %s", (unsigned long long)secs,
			       suffix);
}

const char *config_msecs_str(pool_t pool, uint64_t msecs)
{
	if (msecs % 1000 == 0)
		return config_time_str(pool, msecs / 1000);
	return p_strdup_printf(pool, "%llu ms", (unsigned long long)msecs);
}

static bool enum_contains(const char *values, const char *value)
{
	size_t len = strlen(value);

	for (const char *p = values; p != NULL;) {
		const char *end = strchr(p, ',');
		size_t plen = end == NULL ? strlen(p) : (size_t)(end - p);

		if (plen == len && strncmp(p, value, len) == 0)
			return true;
		p = end == NULL ? NULL : end + 1;
	}
	return false;
}

int config_value_normalize(pool_t pool, const struct setting_def *def,
			   const char *value, const char **canon_r,
			   const char **error_r)
{
	unsigned int num;
	uint64_t big;
	bool b;

	switch (def->type) {
	case SET_STR:
		*canon_r = p_strdup(pool, value);
		return 0;
	case SET_BOOL:
		if (config_parse_bool(value, &b, error_r) < 0)
			return -1;
		*canon_r = b ? "yes" : "no";
		return 0;
	case SET_UINT:
		if (config_parse_uint(value, &num, error_r) < 0)
			return -1;
		*canon_r = p_strdup_printf(pool, "%u", num);
		return 0;
	case SET_OCT:
		if (parse_oct(value, &num, error_r) < 0)
			return -1;
		*canon_r = p_strdup_printf(pool, "0%o", num);
		return 0;
	case SET_PORT:
		if (config_parse_uint(value, &num, error_r) < 0 ||
		    num > 65535) {
			*error_r = error_fmt("Invalid port number %s", value);
			return -1;
		}
		*canon_r = p_strdup_printf(pool, "%u", num);
		return 0;
	case SET_SIZE:
		if (config_parse_size(value, &big, error_r) < 0)
			return -1;
		*canon_r = config_size_str(pool, big);
		return 0;
	case SET_TIME:
	case SET_MSECS:
		if (config_parse_time(value, def->type == SET_MSECS, &big,
				      error_r) < 0)
			return -1;
		if (big > UINT32_MAX) {
			*error_r = error_fmt("Time interval is too large: %s",
					     value);
			return -1;
		}
		*canon_r = def->type == SET_MSECS ?
			config_msecs_str(pool, big) :
			config_time_str(pool, big);
		return 0;
	case SET_ENUM:
		if (!enum_contains(def->enum_values, value)) {
			*error_r = error_fmt("Invalid value: %s", value);
			return -1;
		}
		*canon_r = p_strdup(pool, value);
		return 0;
	case SET_DEFLIST:
	case SET_STRLIST:
		break;
	}
	i_unreached();
}

int config_value_read_file(pool_t pool, const char *value,
			   const char **content_r, const char **error_r)
{
	FILE *f;
	string_t *str;
	char buf[4096];
	size_t n;

	if (value[0] != '<') {
		*content_r = value;
		return 0;
	}
	f = fopen(value + 1, "r");
	if (f == NULL) {
		*error_r = p_strdup_printf(pool, "open(%s) failed: %s",
					   value + 1, strerror(errno));
		return -1;
	}
	str = str_new(4096);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (str_len(str) + n > 16 * 1024 * 1024) {
			fclose(f);
			str_free(&str);
			*error_r = p_strdup_printf(pool, "%s: file too large",
						   value + 1);
			return -1;
		}
		str_append_n(str, buf, n);
	}
	fclose(f);
	*content_r = p_strdup(pool, str_c(str));
	str_free(&str);
	return 0;
}

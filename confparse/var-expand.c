/* var-expand.c - Dovecot 2.3's `%` variable expansion. The template is
 * admin-written, the values are not: a value is copied into the result
 * and never expanded again.
 *
 * The behaviour was taken from Dovecot 2.3.19 used as a black box (its
 * libdovecot's var_expand_with_funcs() fed the same templates; well-formed
 * ones come out byte for byte the same, hashes included). On broken
 * templates Roost is stricter:
 * - a %{ without its } is an error (-1, "Missing '}'"); Dovecot printed
 *   UNSUPPORTED_VARIABLE_{ and went on;
 * - the first error stops the expansion; Dovecot went on and reported
 *   the last one;
 * - nesting is limited (VAR_EXPAND_MAX_DEPTH), so are zero-padding,
 *   hash rounds and the length of what comes out;
 * - ':' and ';' inside a nested %{...} never split the outer one, and a
 *   backslash always escapes the next character while scanning.
 * Kept on purpose: %H is the PJW hash, %N the low 32 bits of the first 8
 * bytes of MD5 (the width is a modulus, the offset a padding), format=hexuc
 * prints lowercase, nothing after salt= is read and the salt is not
 * unescaped, a function that returns 0 and an unknown hash field insert
 * no text, and the error names the last unknown %{name}. */
#include "var-expand.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/evp.h>

/* Widths and offsets saturate here: longer than any value can be. */
#define VAR_NUM_MAX INT32_MAX
/* Upper bound of %{md5;rounds=N:...}: keeps one expansion cheap. */
#define VAR_HASH_MAX_ROUNDS 100000
#define VAR_ERROR_MAX 512

#define VAR_MODIFIERS "LUERXHNMDT"

struct var_spec {
	long long offset; /* %O.Wx: negative counts from the end */
	long long width;  /* negative: drop that many from the end */
	bool zero_pad;    /* %0Wx: pad with '0' instead of truncating */
};

struct var_ctx {
	const struct var_expand_table *table;
	const struct var_expand_func_table *funcs;
	void *context;
	unsigned int depth;
	size_t produced; /* bytes written by finished nested expansions */
	unsigned int unknown_count;
	const char *error;	/* the -1 error */
	char errbuf[VAR_ERROR_MAX];
	/* Dovecot names the last unknown %{name}, else the first %x */
	char unknown_short[VAR_ERROR_MAX], unknown_long[VAR_ERROR_MAX];
};

enum var_hash_format { VAR_HASH_HEX, VAR_HASH_BASE64 };

struct var_hash_args {
	unsigned int rounds;
	unsigned int truncate_bits;
	enum var_hash_format format;
	string_t *salt;
};

static int var_expand_str(struct var_ctx *ctx, string_t *dest, const char *p,
			  const char *end);
static int var_eval_body(struct var_ctx *ctx, const char *body,
			 const char *end, string_t *out, bool *unsupported_r);

static int ATTR_FORMAT(2, 3)
var_error(struct var_ctx *ctx, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(ctx->errbuf, sizeof(ctx->errbuf), fmt, args);
	va_end(args);
	ctx->error = ctx->errbuf;
	return -1;
}

/* Remember that a %{name} was unknown. */
static void var_unknown(struct var_ctx *ctx, const char *name, size_t len)
{
	ctx->unknown_count++;
	snprintf(ctx->unknown_long, sizeof(ctx->unknown_long),
		 "Unknown variable '%%%.*s'", (int)MIN(len, 256), name);
}

static void var_unknown_short(struct var_ctx *ctx, char key)
{
	if (ctx->unknown_short[0] == '\0') {
		snprintf(ctx->unknown_short, sizeof(ctx->unknown_short),
			 "Unknown variable '%%%c'", key);
	}
	ctx->unknown_count++;
}

static bool var_mem_eq(const char *p, const char *end, const char *word)
{
	size_t len = strlen(word);

	return (size_t)(end - p) == len && memcmp(p, word, len) == 0;
}

/* ---- %O.W ---- */

static long long var_parse_num(const char **_p, const char *end)
{
	const char *p = *_p;
	long long num = 0;

	for (; p < end && isdigit((unsigned char)*p); p++) {
		num = num * 10 + (*p - '0');
		if (num > VAR_NUM_MAX)
			num = VAR_NUM_MAX;
	}
	*_p = p;
	return num;
}

/* [-]W or [-]O.[-][0]W: a lone number is the width, and its sign is
 * ignored, as in Dovecot ("%-3u" = "%3u"). */
static void var_parse_spec(const char **_p, const char *end,
			   struct var_spec *spec_r)
{
	const char *p = *_p;
	bool neg = false;

	memset(spec_r, 0, sizeof(*spec_r));
	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	spec_r->zero_pad = p < end && *p == '0';
	spec_r->width = var_parse_num(&p, end);
	if (p < end && *p == '.') {
		p++;
		spec_r->offset = neg ? -spec_r->width : spec_r->width;
		neg = false;
		if (p < end && *p == '-') {
			neg = true;
			p++;
		}
		spec_r->zero_pad = p < end && *p == '0';
		spec_r->width = var_parse_num(&p, end);
		if (neg)
			spec_r->width = -spec_r->width;
	}
	*_p = p;
}

/* ---- scanning the template ---- */

/* Skip an optional offset/width and modifier letters after a '%'. */
static const char *var_skip_spec(const char *p, const char *end)
{
	struct var_spec spec;

	var_parse_spec(&p, end, &spec);
	while (p < end && *p != '\0' && strchr(VAR_MODIFIERS, *p) != NULL)
		p++;
	return p;
}

/* p is just after "%{": return its closing '}', or NULL. Backslash
 * escapes the next character; %% is a key; braces nest, both %{ (also
 * %L{ ...) and plain ones. */
static const char *var_find_close(const char *p, const char *end)
{
	size_t depth = 0;

	while (p < end) {
		if (*p == '\\') {
			p += p + 1 < end ? 2 : 1;
		} else if (*p == '%') {
			p = var_skip_spec(p + 1, end);
			if (p < end && *p == '%') {
				p++; /* %% (also %L%): the key '%' */
			} else if (p < end && *p == '{') {
				depth++;
				p++;
			}
		} else if (*p == '{') {
			depth++; /* balanced braces, as in a regex's {3} */
			p++;
		} else if (*p == '}') {
			if (depth == 0)
				return p;
			depth--;
			p++;
		} else {
			p++;
		}
	}
	return NULL;
}

/* First c in [p, end) that is not escaped nor inside a nested %{...};
 * end if none. The range is a complete body, so nesting is balanced. */
static const char *var_find_sep(const char *p, const char *end, char c)
{
	while (p < end && *p != c) {
		if (*p == '\\') {
			p += p + 1 < end ? 2 : 1;
		} else if (*p == '%') {
			p = var_skip_spec(p + 1, end);
			if (p < end && *p == '%') {
				p++;
			} else if (p < end && *p == '{') {
				const char *close = var_find_close(p + 1, end);

				p = close == NULL ? end : close + 1;
			}
		} else {
			p++;
		}
	}
	return p;
}

/* Copy [p, end) to dest turning "\x" into "x". */
static void var_unescape(string_t *dest, const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		str_append_c(dest, *p);
	}
}

/* ---- modifiers ---- */

/* The classic PJW/ELF string hash: what Dovecot prints for %H. */
static uint32_t var_pjw_hash(const string_t *value)
{
	uint32_t h = 0, g;

	for (size_t i = 0; i < value->len; i++) {
		h = (h << 4) + (unsigned char)value->data[i];
		g = h & 0xf0000000U;
		if (g != 0)
			h ^= (g >> 24) ^ g;
	}
	return h;
}

static void var_md5(const string_t *value,
		    unsigned char digest[EVP_MAX_MD_SIZE])
{
	unsigned int len;

	if (EVP_Digest(value->data, value->len, digest, &len, EVP_md5(),
		       NULL) != 1)
		i_panic("var_expand: MD5 failed");
}

static void var_append_hex(string_t *dest, const unsigned char *data,
			   size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		str_append_c(dest, hex[data[i] >> 4]);
		str_append_c(dest, hex[data[i] & 0x0f]);
	}
}

static void var_append_zeros(string_t *dest, size_t count)
{
	str_reserve(dest, count);
	memset(dest->data + dest->len, '0', count);
	dest->len += count;
	dest->data[dest->len] = '\0';
}

/* %H and %N: a number as hex; the width is a modulus and the offset a
 * zero-padding, both used up here. */
static int var_mod_hash(struct var_ctx *ctx, char mod, const string_t *value,
			string_t *out, struct var_spec *spec)
{
	char hex[16];
	uint64_t num = 0;
	int len;

	if (mod == 'H') {
		num = var_pjw_hash(value);
	} else {
		unsigned char digest[EVP_MAX_MD_SIZE];

		var_md5(value, digest);
		for (unsigned int i = 0; i < 8; i++)
			num = (num << 8) | digest[i];
	}
	if (spec->width > 0)
		num %= (uint64_t)spec->width;
	len = snprintf(hex, sizeof(hex), "%x", (unsigned int)num);
	if (spec->offset > VAR_EXPAND_MAX_PAD) {
		return var_error(ctx, "Padding width %lld exceeds the limit "
				 "of %d", spec->offset, VAR_EXPAND_MAX_PAD);
	}
	if (spec->offset > len)
		var_append_zeros(out, (size_t)(spec->offset - len));
	str_append_n(out, hex, (size_t)len);
	spec->offset = 0;
	spec->width = 0;
	return 0;
}

/* %X: a decimal number (digits only, else 0) in lowercase hex. */
static void var_mod_hex(const string_t *value, string_t *out)
{
	unsigned long long num = 0;

	for (size_t i = 0; i < value->len; i++) {
		unsigned int digit = (unsigned char)value->data[i] - '0';

		if (digit > 9 || num > (ULLONG_MAX - digit) / 10) {
			num = 0;
			break;
		}
		num = num * 10 + digit;
	}
	str_printfa(out, "%llx", num);
}

/* %E: a backslash before each ", ' and \. Written in place after one
 * str_reserve(), since %EEE... doubles the length each time. */
static void var_mod_escape(const string_t *value, string_t *out)
{
	char *p;

	str_reserve(out, size_mul(value->len, 2));
	p = out->data + out->len;
	for (size_t i = 0; i < value->len; i++) {
		char c = value->data[i];

		if (c == '"' || c == '\'' || c == '\\')
			*p++ = '\\';
		*p++ = c;
	}
	out->len = p - out->data;
	out->data[out->len] = '\0';
}

static void var_mod_reverse(const string_t *value, string_t *out)
{
	str_reserve(out, value->len);
	for (size_t i = 0; i < value->len; i++)
		out->data[out->len + i] = value->data[value->len - 1 - i];
	out->len += value->len;
	out->data[out->len] = '\0';
}

/* Apply one modifier: value in, result in out (both distinct). */
static int var_modify(struct var_ctx *ctx, char mod, string_t *value,
		      string_t *out, struct var_spec *spec)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t i;

	switch (mod) {
	case 'L':
	case 'U':
		str_append_str(out, value);
		if (mod == 'L')
			str_lcase(out);
		else
			str_ucase(out);
		break;
	case 'E':
		var_mod_escape(value, out);
		break;
	case 'R':
		var_mod_reverse(value, out);
		break;
	case 'X':
		var_mod_hex(value, out);
		break;
	case 'H':
	case 'N':
		return var_mod_hash(ctx, mod, value, out, spec);
	case 'M':
		var_md5(value, digest);
		var_append_hex(out, digest, 16);
		break;
	case 'D':
		for (i = 0; i < value->len;) {
			const char *dot = memchr(value->data + i, '.',
						 value->len - i);
			size_t n = dot == NULL ? value->len - i :
				(size_t)(dot - (value->data + i));

			str_append_n(out, value->data + i, n);
			i += n;
			if (dot != NULL) {
				str_append(out, ",dc=");
				i++;
			}
		}
		break;
	case 'T':
		for (i = value->len; i > 0; i--) {
			if (!isspace((unsigned char)value->data[i - 1]))
				break;
		}
		str_append_n(out, value->data, i);
		break;
	default:
		i_panic("var_expand: unknown modifier %c", mod);
	}
	return 0;
}

/* Apply the modifiers left to right; *_value may be replaced. */
static int var_apply_modifiers(struct var_ctx *ctx, string_t **_value,
			       const char *mods, const char *mods_end,
			       struct var_spec *spec)
{
	string_t *tmp = str_new(64), *swap;
	int ret = 0;

	for (; mods < mods_end && ret == 0; mods++) {
		str_clear(tmp);
		if (var_modify(ctx, *mods, *_value, tmp, spec) < 0) {
			ret = -1;
			break;
		}
		swap = *_value;
		*_value = tmp;
		tmp = swap;
		if (str_len(*_value) > VAR_EXPAND_MAX_VALUE) {
			/* %EEEE...: each E can double the length */
			ret = var_error(ctx, "Expanded value is longer than "
					"%d bytes", VAR_EXPAND_MAX_VALUE);
		}
	}
	str_free(&tmp);
	return ret;
}

/* Append the part of value that spec selects, or pad it with zeros. */
static int var_append_substring(struct var_ctx *ctx, string_t *dest,
				const string_t *value,
				const struct var_spec *spec)
{
	const char *s = str_c(value);
	size_t len = str_len(value);

	if (spec->offset > 0) {
		size_t off = MIN((size_t)spec->offset, len);

		s += off;
		len -= off;
	} else if (spec->offset < 0 && (size_t)-spec->offset <= len) {
		s += len - (size_t)-spec->offset;
		len = (size_t)-spec->offset;
	}
	if (spec->zero_pad && spec->width > 0) {
		if (spec->width > VAR_EXPAND_MAX_PAD) {
			return var_error(ctx, "Padding width %lld exceeds the "
					 "limit of %d", spec->width,
					 VAR_EXPAND_MAX_PAD);
		}
		if ((size_t)spec->width > len)
			var_append_zeros(dest, (size_t)spec->width - len);
	} else if (spec->width > 0) {
		len = MIN(len, (size_t)spec->width);
	} else if (spec->width < 0 && (size_t)-spec->width <= len) {
		len -= (size_t)-spec->width;
	}
	str_append_n(dest, s, len);
	return 0;
}

/* ---- %{if;...} ---- */

/* Match str against a mask of '*' (any run) and '?' (one byte). */
static bool var_wildcard_match(const char *str, const char *mask)
{
	const char *star = NULL, *retry = NULL;

	while (*str != '\0') {
		if (*mask == '*') {
			star = ++mask;
			retry = str;
		} else if (*mask != '\0' && (*mask == '?' || *mask == *str)) {
			mask++;
			str++;
		} else if (star != NULL) {
			mask = star;
			str = ++retry;
		} else {
			return false;
		}
	}
	while (*mask == '*')
		mask++;
	return *mask == '\0';
}

static bool var_parse_int(const char *str, long long *num_r)
{
	char *end;

	if (*str != '-' && !isdigit((unsigned char)*str))
		return false;
	errno = 0;
	*num_r = strtoll(str, &end, 10);
	return errno == 0 && *end == '\0' && end != str;
}

static int var_if_numeric(struct var_ctx *ctx, const char *op,
			  const char *lhs, const char *rhs, bool *result_r)
{
	long long a, b;

	if (!var_parse_int(lhs, &a))
		return var_error(ctx, "if: %.200s (lhs) is not a number", lhs);
	if (!var_parse_int(rhs, &b))
		return var_error(ctx, "if: %.200s (rhs) is not a number", rhs);
	if (strcmp(op, "==") == 0)
		*result_r = a == b;
	else if (strcmp(op, "!=") == 0)
		*result_r = a != b;
	else if (strcmp(op, "<") == 0)
		*result_r = a < b;
	else if (strcmp(op, "<=") == 0)
		*result_r = a <= b;
	else if (strcmp(op, ">") == 0)
		*result_r = a > b;
	else
		*result_r = a >= b;
	return 0;
}

static int var_if_regex(struct var_ctx *ctx, const char *lhs,
			const char *pattern, bool *result_r)
{
	regex_t re;
	char msg[128];
	int ret;

	ret = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (ret != 0) {
		regerror(ret, &re, msg, sizeof(msg));
		return var_error(ctx, "if: regex failed: %s", msg);
	}
	*result_r = regexec(&re, lhs, 0, NULL, 0) == 0;
	regfree(&re);
	return 0;
}

static int var_if_compare(struct var_ctx *ctx, const char *lhs,
			  const char *op, const char *rhs, bool *result_r)
{
	static const char *const numeric_ops[] = {
		"==", "!=", "<", "<=", ">", ">="
	};
	int cmp = strcmp(lhs, rhs);

	for (unsigned int i = 0; i < N_ELEMENTS(numeric_ops); i++) {
		if (strcmp(op, numeric_ops[i]) == 0)
			return var_if_numeric(ctx, op, lhs, rhs, result_r);
	}
	if (strcmp(op, "eq") == 0)
		*result_r = cmp == 0;
	else if (strcmp(op, "ne") == 0)
		*result_r = cmp != 0;
	else if (strcmp(op, "lt") == 0)
		*result_r = cmp < 0;
	else if (strcmp(op, "le") == 0)
		*result_r = cmp <= 0;
	else if (strcmp(op, "gt") == 0)
		*result_r = cmp > 0;
	else if (strcmp(op, "ge") == 0)
		*result_r = cmp >= 0;
	else if (strcmp(op, "*") == 0 || strcmp(op, "!*") == 0)
		*result_r = var_wildcard_match(lhs, rhs) == (op[0] == '*');
	else if (strcmp(op, "~") == 0 || strcmp(op, "!~") == 0) {
		if (var_if_regex(ctx, lhs, rhs, result_r) < 0)
			return -1;
		*result_r = *result_r == (op[0] == '~');
	} else {
		return var_error(ctx, "if: Unsupported comparator '%.200s'",
				 op);
	}
	return 0;
}

/* Expand a template fragment one level deeper, unescaping it first if
 * asked to. */
static int var_expand_nested(struct var_ctx *ctx, string_t *dest,
			     const char *p, const char *end, bool unescape)
{
	string_t *text = str_new(end - p + 1);
	int ret;

	if (ctx->depth >= VAR_EXPAND_MAX_DEPTH) {
		str_free(&text);
		return var_error(ctx, "Variables nested too deeply "
				 "(limit %d)", VAR_EXPAND_MAX_DEPTH);
	}
	if (unescape)
		var_unescape(text, p, end);
	else
		str_append_n(text, p, end - p);
	ctx->depth++;
	ret = var_expand_str(ctx, dest, str_c(text),
			     str_c(text) + str_len(text));
	ctx->depth--;
	str_free(&text);
	return ret;
}

/* Split [p, end) at each top-level c, storing up to max pieces; returns
 * how many there are. Like Dovecot, an empty last piece does not count:
 * "" has none, "a;" one, "a;;" two. */
static unsigned int var_split(const char *p, const char *end, char c,
			      const char **starts, const char **ends,
			      unsigned int max)
{
	unsigned int count = 0;

	for (;;) {
		const char *sep = var_find_sep(p, end, c);

		if (sep == end && sep == p)
			return count; /* a trailing empty piece is dropped */
		if (count < max) {
			starts[count] = p;
			ends[count] = sep;
		}
		count++;
		if (sep == end || count == UINT_MAX)
			return count;
		p = sep + 1;
	}
}

/* %{if;lhs;op;rhs;true[;false]}: params is what follows "if;" (NULL
 * for a bare "%{if}"). Every argument is expanded before comparing. */
static int var_func_if(struct var_ctx *ctx, const char *params,
		       const char *end, string_t *out)
{
	const char *starts[5], *ends[5];
	string_t *args[5] = { NULL };
	unsigned int i, count, unknown = ctx->unknown_count;
	bool result = false;
	int ret = 1;

	if (params == NULL)
		return var_error(ctx, "if: missing parameter(s)");
	count = var_split(params, end, ';', starts, ends, 5);
	if (count != 4 && count != 5) {
		return var_error(ctx, "if: requires four or five parameters, "
				 "got %u", count);
	}
	for (i = 0; i < count && ret > 0; i++) {
		args[i] = str_new(ends[i] - starts[i] + 16);
		if (var_expand_nested(ctx, args[i], starts[i], ends[i],
				      true) < 0)
			ret = -1;
		else if (ctx->unknown_count != unknown)
			ret = 0; /* an unknown variable: nothing comes out */
	}
	if (ret > 0 && var_if_compare(ctx, str_c(args[0]), str_c(args[1]),
				      str_c(args[2]), &result) < 0)
		ret = -1;
	if (ret > 0) {
		if (result)
			str_append_str(out, args[3]);
		else if (count == 5)
			str_append_str(out, args[4]);
	}
	for (i = 0; i < N_ELEMENTS(args); i++)
		str_free(&args[i]);
	return ret;
}

/* ---- %{md5;rounds=N,truncate=BITS,salt=S,format=F:field} ---- */

static const char *const var_hash_methods[] = {
	"md4", "md5", "sha1", "sha256", "sha384", "sha512",
	"sha3-256", "sha3-512"
};

static bool var_is_hash_method(const char *p, const char *end)
{
	for (unsigned int i = 0; i < N_ELEMENTS(var_hash_methods); i++) {
		if (var_mem_eq(p, end, var_hash_methods[i]))
			return true;
	}
	return false;
}

static int var_hash_parse_uint(struct var_ctx *ctx, const char *name,
			       const char *p, const char *end,
			       unsigned int *num_r)
{
	unsigned long long num = 0;

	for (const char *q = p; q < end; q++) {
		if (!isdigit((unsigned char)*q) || num > UINT_MAX / 10) {
			num = ULLONG_MAX;
			break;
		}
		num = num * 10 + (unsigned int)(*q - '0');
	}
	if (p == end || num > UINT_MAX) {
		return var_error(ctx, "Cannot parse hash arguments:'%.*s' is "
				 "not number for %s", (int)MIN(end - p, 200),
				 p, name);
	}
	*num_r = (unsigned int)num;
	return 0;
}

/* One name=value; returns 1 after salt= (the last one read), 0, -1. */
static int var_hash_parse_arg(struct var_ctx *ctx, const char *p,
			      const char *eq, const char *end,
			      struct var_hash_args *args)
{
	const char *value = eq + 1;

	if (var_mem_eq(p, eq, "rounds")) {
		if (var_hash_parse_uint(ctx, "rounds", value, end,
					&args->rounds) < 0)
			return -1;
		if (args->rounds == 0) {
			return var_error(ctx, "Cannot parse hash arguments:"
					 "rounds must be at least 1");
		}
		if (args->rounds > VAR_HASH_MAX_ROUNDS) {
			return var_error(ctx, "Cannot parse hash arguments:"
					 "rounds must be at most %d",
					 VAR_HASH_MAX_ROUNDS);
		}
	} else if (var_mem_eq(p, eq, "truncate")) {
		/* sic: Dovecot's word */
		return var_hash_parse_uint(ctx, "truncbits", value, end,
					   &args->truncate_bits);
	} else if (var_mem_eq(p, eq, "salt")) {
		args->salt = str_new(end - value + 16);
		if (var_expand_nested(ctx, args->salt, value, end, false) < 0)
			return -1;
		return 1;
	} else if (var_mem_eq(p, eq, "format")) {
		/* Dovecot 2.3 prints hexuc in lowercase too */
		if (var_mem_eq(value, end, "hex") ||
		    var_mem_eq(value, end, "hexuc"))
			args->format = VAR_HASH_HEX;
		else if (var_mem_eq(value, end, "base64"))
			args->format = VAR_HASH_BASE64;
		else {
			return var_error(ctx, "Cannot parse hash arguments:"
					 "'%.*s' is not supported format",
					 (int)MIN(end - value, 200), value);
		}
	}
	/* other names are ignored, as Dovecot does */
	return 0;
}

/* Comma-separated name=value pairs in [p, end). Dovecot 2.3 reads none
 * after salt= (%{md5;salt=x,rounds=9:user} is one round); the same is
 * done here, since what comes out may name files or keys. */
static int var_hash_parse_args(struct var_ctx *ctx, const char *p,
			       const char *end, struct var_hash_args *args)
{
	while (p < end) {
		const char *sep = var_find_sep(p, end, ',');
		const char *eq = memchr(p, '=', sep - p);
		int ret = eq == NULL ? 0 :
			var_hash_parse_arg(ctx, p, eq, sep, args);

		if (ret != 0)
			return ret < 0 ? -1 : 0;
		p = sep < end ? sep + 1 : end;
	}
	return 0;
}

/* MD4 (RFC 1320): Dovecot offers %{md4:...} but OpenSSL 3 keeps MD4 in
 * its legacy provider, so it is done here. */
struct var_md4 {
	uint32_t a, b, c, d;
};

static uint32_t var_rol(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

static void var_md4_block(struct var_md4 *st, const unsigned char *blk)
{
	static const unsigned int r1[] = { 3, 7, 11, 19 };
	static const unsigned int r2[] = { 3, 5, 9, 13 };
	static const unsigned int r3[] = { 3, 9, 11, 15 };
	static const unsigned int o3[] = {
		0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15
	};
	uint32_t x[16], v[4] = { st->a, st->b, st->c, st->d }, f;
	unsigned int i, k;

	for (i = 0; i < 16; i++) {
		x[i] = (uint32_t)blk[i * 4] | (uint32_t)blk[i * 4 + 1] << 8 |
			(uint32_t)blk[i * 4 + 2] << 16 |
			(uint32_t)blk[i * 4 + 3] << 24;
	}
	/* step i updates a, d, c, b in turn: v[(64 - i) % 4] */
	for (i = 0; i < 48; i++) {
		uint32_t *t = &v[(64 - i) % 4], b = v[(65 - i) % 4],
			c = v[(66 - i) % 4], d = v[(67 - i) % 4];

		if (i < 16) {
			f = (b & c) | (~b & d);
			k = i;
			*t = var_rol(*t + f + x[k], r1[i % 4]);
		} else if (i < 32) {
			f = (b & c) | (b & d) | (c & d);
			k = (i % 4) * 4 + (i - 16) / 4;
			*t = var_rol(*t + f + x[k] + 0x5a827999U, r2[i % 4]);
		} else {
			f = b ^ c ^ d;
			k = o3[i - 32];
			*t = var_rol(*t + f + x[k] + 0x6ed9eba1U, r3[i % 4]);
		}
	}
	st->a += v[0];
	st->b += v[1];
	st->c += v[2];
	st->d += v[3];
}

static void var_md4(const void *data1, size_t len1, const void *data2,
		    size_t len2, unsigned char digest[16])
{
	struct var_md4 st = {
		0x67452301U, 0xefcdab89U, 0x98badcfeU, 0x10325476U
	};
	unsigned char blk[64];
	uint64_t bits = (uint64_t)(len1 + len2) * 8;
	size_t fill = 0, i;
	const unsigned char *parts[2] = { data1, data2 };
	size_t lens[2] = { len1, len2 };

	for (unsigned int n = 0; n < 2; n++) {
		for (i = 0; i < lens[n]; i++) {
			blk[fill++] = parts[n][i];
			if (fill == 64) {
				var_md4_block(&st, blk);
				fill = 0;
			}
		}
	}
	blk[fill++] = 0x80;
	if (fill > 56) {
		memset(blk + fill, 0, 64 - fill);
		var_md4_block(&st, blk);
		fill = 0;
	}
	memset(blk + fill, 0, 56 - fill);
	for (i = 0; i < 8; i++)
		blk[56 + i] = (unsigned char)(bits >> (8 * i));
	var_md4_block(&st, blk);
	uint32_t words[4] = { st.a, st.b, st.c, st.d };
	for (i = 0; i < 16; i++)
		digest[i] = (unsigned char)(words[i / 4] >> (8 * (i % 4)));
}

/* Keep the first bits of digest (right-aligned, like Dovecot). */
static unsigned int var_hash_truncate(unsigned char *digest,
				      unsigned int len, unsigned int bits)
{
	unsigned int nbytes, shift;

	if (bits == 0 || bits >= len * 8)
		return len;
	nbytes = (bits + 7) / 8;
	shift = nbytes * 8 - bits;
	if (shift != 0) {
		for (unsigned int i = nbytes; i-- > 0;) {
			unsigned int prev = i > 0 ? digest[i - 1] : 0;

			digest[i] = (unsigned char)((digest[i] >> shift) |
						    (prev << (8 - shift)));
		}
	}
	return nbytes;
}

/* One round: digest = H(salt . data). */
static bool var_hash_once(const char *method, const string_t *salt,
			  const void *data, size_t len,
			  unsigned char digest[EVP_MAX_MD_SIZE],
			  unsigned int *len_r)
{
	const void *salt_data = salt == NULL ? "" : salt->data;
	size_t salt_len = salt == NULL ? 0 : salt->len;
	const EVP_MD *md;
	EVP_MD_CTX *mdctx;
	bool ok;

	if (strcmp(method, "md4") == 0) {
		var_md4(salt_data, salt_len, data, len, digest);
		*len_r = 16;
		return true;
	}
	md = EVP_get_digestbyname(method);
	mdctx = EVP_MD_CTX_new();
	ok = md != NULL && mdctx != NULL &&
		EVP_DigestInit_ex(mdctx, md, NULL) == 1 &&
		EVP_DigestUpdate(mdctx, salt_data, salt_len) == 1 &&
		EVP_DigestUpdate(mdctx, data, len) == 1 &&
		EVP_DigestFinal_ex(mdctx, digest, len_r) == 1;
	EVP_MD_CTX_free(mdctx);
	if (!ok)
		ERR_clear_error();
	return ok;
}

static int var_hash_digest(struct var_ctx *ctx, const char *method,
			   const string_t *input,
			   const struct var_hash_args *args, string_t *out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len;

	/* H(salt . input), then H(salt . digest) for each further round;
	 * the digest is read before it is overwritten */
	if (!var_hash_once(method, args->salt, input->data, input->len,
			   digest, &len))
		return var_error(ctx, "Hash method %s failed", method);
	for (unsigned int i = 1; i < args->rounds; i++) {
		if (!var_hash_once(method, args->salt, digest, len, digest,
				   &len))
			return var_error(ctx, "Hash method %s failed", method);
	}
	len = var_hash_truncate(digest, len, args->truncate_bits);
	if (args->format == VAR_HASH_HEX) {
		var_append_hex(out, digest, len);
	} else {
		char b64[(EVP_MAX_MD_SIZE + 2) / 3 * 4 + 1];
		int b64_len = EVP_EncodeBlock((unsigned char *)b64, digest,
					      (int)len);

		str_append_n(out, b64, (size_t)b64_len);
	}
	return 1;
}

/* %{method[;args]:field}: the field is a variable name or a function
 * call such as userdb:home, looked up one level deeper. */
static int var_func_hash(struct var_ctx *ctx, const char *method,
			 const char *method_end, const char *params,
			 const char *params_end, const char *field,
			 const char *end, string_t *out)
{
	struct var_hash_args args = { .rounds = 1 };
	char name[16];
	string_t *input = NULL;
	bool unsupported;
	int ret = 1;

	/* the field first: if it is unknown, bad args go unnoticed */
	if (field == NULL || field == end) {
		var_unknown(ctx, "", 0);
		ret = 0;
	} else if (ctx->depth >= VAR_EXPAND_MAX_DEPTH) {
		ret = var_error(ctx, "Variables nested too deeply (limit %d)",
				VAR_EXPAND_MAX_DEPTH);
	}
	if (ret > 0) {
		input = str_new(64);
		ctx->depth++;
		ret = var_eval_body(ctx, field, end, input, &unsupported);
		ctx->depth--;
	}
	if (ret > 0 && params != NULL &&
	    var_hash_parse_args(ctx, params, params_end, &args) < 0)
		ret = -1;
	if (ret > 0) {
		snprintf(name, sizeof(name), "%.*s",
			 (int)(method_end - method), method);
		ret = var_hash_digest(ctx, name, input, &args, out);
	}
	str_free(&input);
	str_free(&args.salt);
	return ret;
}

/* ---- variables and functions ---- */

static bool var_table_end(const struct var_expand_table *entry)
{
	return entry->key == '\0' && entry->long_key == NULL;
}

static bool var_find_short(const struct var_expand_table *table, char key,
			   const char **value_r)
{
	for (; table != NULL && !var_table_end(table); table++) {
		if (table->key == key && key != '\0') {
			*value_r = table->value == NULL ? "" : table->value;
			return true;
		}
	}
	return false;
}

static bool var_find_long(const struct var_expand_table *table,
			  const char *p, const char *end, const char **value_r)
{
	for (; table != NULL && !var_table_end(table); table++) {
		if (table->long_key != NULL &&
		    var_mem_eq(p, end, table->long_key)) {
			*value_r = table->value == NULL ? "" : table->value;
			return true;
		}
	}
	return false;
}

/* A caller's function or %{env:NAME}; returns -2 if name is neither. */
static int var_call_func(struct var_ctx *ctx, const char *name,
			 const char *name_end, const char *data,
			 const char *end, string_t *out)
{
	const struct var_expand_func_table *f = ctx->funcs;
	const char *value = NULL, *error = NULL;
	char *arg;
	int ret;

	for (; f != NULL && f->key != NULL; f++) {
		if (var_mem_eq(name, name_end, f->key))
			break;
	}
	if ((f == NULL || f->key == NULL) && !var_mem_eq(name, name_end, "env"))
		return -2;
	arg = data == NULL ? i_strdup("") : i_strndup(data, end - data);
	if (f != NULL && f->key != NULL) {
		ret = f->func(arg, ctx->context, &value, &error);
	} else {
		value = getenv(arg);
		ret = 1;
	}
	if (ret > 0 && value != NULL)
		str_append(out, value); /* value may point into arg */
	free(arg);
	if (ret == 0)
		var_unknown(ctx, name, name_end - name);
	else if (ret < 0) {
		if (error == NULL)
			return var_error(ctx, "%%{%.*s:...} failed",
					 (int)MIN(name_end - name, 200), name);
		ctx->error = error;
		return -1;
	}
	return ret > 0 ? 1 : ret;
}

/* Evaluate the inside of %{...}: a long variable name, if;..., a hash,
 * env:NAME or a caller's function. Returns 1 with the value in out, 0 if
 * unknown (*unsupported_r: insert UNSUPPORTED_VARIABLE_<name>), -1. */
static int var_eval_body(struct var_ctx *ctx, const char *body,
			 const char *end, string_t *out, bool *unsupported_r)
{
	const char *colon = var_find_sep(body, end, ':');
	const char *data = colon < end ? colon + 1 : NULL;
	const char *semi, *value;
	int ret;

	*unsupported_r = false;
	if (data == NULL && var_find_long(ctx->table, body, end, &value)) {
		str_append(out, value);
		return 1;
	}
	if (var_mem_eq(body, colon, "if"))
		return var_func_if(ctx, NULL, colon, out);
	if (colon - body >= 3 && memcmp(body, "if;", 3) == 0) {
		/* what follows an unescaped ':' is ignored, as in Dovecot */
		return var_func_if(ctx, body + 3, colon, out);
	}
	ret = var_call_func(ctx, body, colon, data, end, out);
	if (ret != -2)
		return ret;
	semi = var_find_sep(body, colon, ';');
	if (var_is_hash_method(body, semi)) {
		return var_func_hash(ctx, body, semi,
				     semi < colon ? semi + 1 : NULL, colon,
				     data, end, out);
	}
	var_unknown(ctx, body, colon - body);
	*unsupported_r = true;
	return 0;
}

/* ---- the main loop ---- */

static int var_expand_braces(struct var_ctx *ctx, string_t *dest,
			     const char **_p, const char *end, string_t *value)
{
	const char *body = *_p + 1, *close = var_find_close(body, end);
	bool unsupported;
	int ret;

	if (close == NULL) {
		return var_error(ctx, "Missing '}' after '%%{%.*s'",
				 (int)MIN(end - body, 40), body);
	}
	*_p = close + 1;
	ret = var_eval_body(ctx, body, close, value, &unsupported);
	if (unsupported) {
		str_append(dest, "UNSUPPORTED_VARIABLE_");
		str_append_n(dest, body, var_find_sep(body, close, ':') - body);
	}
	return ret;
}

/* One %-item; *_p is just after the '%'. */
static int var_expand_item(struct var_ctx *ctx, string_t *dest,
			   const char **_p, const char *end)
{
	const char *p = *_p, *mods, *mods_end, *value;
	struct var_spec spec;
	string_t *val;
	int ret;

	var_parse_spec(&p, end, &spec);
	mods = p;
	while (p < end && *p != '\0' && strchr(VAR_MODIFIERS, *p) != NULL)
		p++;
	mods_end = p;
	*_p = p;
	if (p == end)
		return 0; /* "%L" at the end expands to nothing */

	val = str_new(64);
	if (*p == '%') {
		str_append_c(val, '%'); /* %% and %L%: modifiers apply */
		*_p = p + 1;
		ret = 1;
	} else if (*p == '{') {
		ret = var_expand_braces(ctx, dest, _p, end, val);
	} else if (var_find_short(ctx->table, *p, &value)) {
		str_append(val, value);
		*_p = p + 1;
		ret = 1;
	} else {
		var_unknown_short(ctx, *p);
		str_append(dest, "UNSUPPORTED_VARIABLE_");
		str_append_c(dest, *p);
		*_p = p + 1;
		ret = 0;
	}
	if (ret > 0 &&
	    (var_apply_modifiers(ctx, &val, mods, mods_end, &spec) < 0 ||
	     var_append_substring(ctx, dest, val, &spec) < 0))
		ret = -1;
	str_free(&val);
	return ret < 0 ? -1 : 0;
}

static int var_expand_str(struct var_ctx *ctx, string_t *dest, const char *p,
			  const char *end)
{
	size_t start_len = str_len(dest);
	const char *pct;
	int ret = 0;

	/* The limit counts what nested %{if;...} arguments produced too,
	 * so that no template makes much more work than its result. */
	while (p < end) {
		if (ctx->produced + (str_len(dest) - start_len) >
		    VAR_EXPAND_MAX_LENGTH) {
			ret = var_error(ctx, "Expansion is longer than %d "
					"bytes", VAR_EXPAND_MAX_LENGTH);
			break;
		}
		pct = memchr(p, '%', end - p);
		if (pct == NULL) {
			str_append_n(dest, p, end - p);
			break;
		}
		str_append_n(dest, p, pct - p);
		p = pct + 1;
		if (p == end)
			break; /* a lone '%' at the end is dropped */
		if (var_expand_item(ctx, dest, &p, end) < 0) {
			ret = -1;
			break;
		}
	}
	ctx->produced += str_len(dest) - start_len;
	return ret;
}

int var_expand(string_t *dest, const char *str,
	       const struct var_expand_table *table,
	       const struct var_expand_func_table *funcs, void *context,
	       const char **error_r)
{
	static _Thread_local char errbuf[VAR_ERROR_MAX];
	struct var_ctx ctx = {
		.table = table,
		.funcs = funcs,
		.context = context,
	};

	if (var_expand_str(&ctx, dest, str, str + strlen(str)) < 0) {
		if (ctx.error == ctx.errbuf) {
			memcpy(errbuf, ctx.errbuf, sizeof(errbuf));
			ctx.error = errbuf;
		}
		*error_r = ctx.error;
		return -1;
	}
	if (ctx.unknown_count > 0) {
		memcpy(errbuf, ctx.unknown_long[0] != '\0' ?
		       ctx.unknown_long : ctx.unknown_short, sizeof(errbuf));
		*error_r = errbuf;
		return 0;
	}
	return 1;
}

/* ---- var_has_key ---- */

static bool var_str_has_key(const char *p, const char *end, char key,
			    const char *long_key, unsigned int depth);

/* Does the unescaped template piece [p, end) use the variable? */
static bool var_piece_has_key(const char *p, const char *end, char key,
			      const char *long_key, unsigned int depth)
{
	string_t *text = str_new(end - p + 1);
	bool ret;

	var_unescape(text, p, end);
	ret = var_str_has_key(str_c(text), str_c(text) + str_len(text), key,
			      long_key, depth + 1);
	str_free(&text);
	return ret;
}

/* Each top-level piece of [p, end) split at c. */
static bool var_pieces_have_key(const char *p, const char *end, char c,
				char key, const char *long_key,
				unsigned int depth)
{
	while (p < end) {
		const char *sep = var_find_sep(p, end, c);

		if (var_piece_has_key(p, sep, key, long_key, depth))
			return true;
		p = sep < end ? sep + 1 : end;
	}
	return false;
}

static bool var_body_has_key(const char *body, const char *end, char key,
			     const char *long_key, unsigned int depth)
{
	const char *colon = var_find_sep(body, end, ':'), *semi;

	if (depth >= VAR_EXPAND_MAX_DEPTH)
		return false;
	if (colon == end && long_key != NULL && var_mem_eq(body, end, long_key))
		return true;
	if (colon - body >= 3 && memcmp(body, "if;", 3) == 0)
		return var_pieces_have_key(body + 3, colon, ';', key, long_key,
					   depth);
	semi = var_find_sep(body, colon, ';');
	if (!var_is_hash_method(body, semi) || colon == end)
		return false;
	return var_body_has_key(colon + 1, end, key, long_key, depth + 1) ||
		(semi < colon &&
		 var_pieces_have_key(semi + 1, colon, ',', key, long_key,
				     depth));
}

static bool var_str_has_key(const char *p, const char *end, char key,
			    const char *long_key, unsigned int depth)
{
	while (p < end && (p = memchr(p, '%', end - p)) != NULL) {
		const char *close;

		p = var_skip_spec(p + 1, end);
		if (p == end)
			break;
		if (*p != '{') {
			if (key != '\0' && *p == key)
				return true;
			p++;
			continue;
		}
		close = var_find_close(p + 1, end);
		if (close == NULL)
			return false;
		if (var_body_has_key(p + 1, close, key, long_key, depth))
			return true;
		p = close + 1;
	}
	return false;
}

bool var_has_key(const char *str, char key, const char *long_key)
{
	return var_str_has_key(str, str + strlen(str), key, long_key, 0);
}

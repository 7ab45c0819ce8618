/* doveadm-mail-print.c - doveadm's output formatters as Dovecot 2.3 has
 * them: flow ("key=value key=value"), pager ("key: value" blocks split by
 * form feeds), tab, table (padded columns, the last widened to half the
 * free space of an 80-column line) and json (an array of objects with
 * string values). A command declares its columns, then prints values
 * row after row; long values may be streamed in pieces. */
#include "lib.h"
#include "str.h"
#include "array.h"
#include "doveadm-mail.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TABLE_DEFAULT_COLUMNS 80
#define TABLE_MIN_COLUMNS 30
#define TABLE_MAX_BUFFER_LINES 100

enum print_type {
	PRINT_FLOW,
	PRINT_PAGER,
	PRINT_TAB,
	PRINT_TABLE,
	PRINT_JSON,
};

struct print_header {
	char *key, *title;
	enum doveadm_print_header_flags flags;
	char *sticky_value;
	/* table */
	size_t min_length, max_length, length;
};

struct print_ctx {
	enum print_type type;
	ARRAY(struct print_header) headers;
	unsigned int idx;		/* column of the next value */
	bool stream_open;
	/* pager: no form feed before the first row */
	bool first_page;
	/* tab: the title line is ended by the first value */
	bool tab_header_written;
	/* json */
	bool json_first_row;
	/* table: values wait until the widths are known */
	ARRAY_STR buffered;
	bool lengths_set;
	unsigned int columns;
	string_t *stream;
	FILE *out;
};

static struct print_ctx *ctx;

static const struct {
	const char *name;
	enum print_type type;
} print_types[] = {
	{ "flow", PRINT_FLOW },
	{ "pager", PRINT_PAGER },
	{ "tab", PRINT_TAB },
	{ "table", PRINT_TABLE },
	{ "json", PRINT_JSON },
};

bool doveadm_print_is_initialized(void)
{
	return ctx != NULL;
}

void doveadm_print_init(const char *name)
{
	struct winsize ws;

	if (ctx != NULL)
		return;	/* -f given: it wins over the command's default */
	ctx = i_new(struct print_ctx, 1);
	ctx->out = stdout;
	ctx->first_page = true;
	ctx->json_first_row = true;
	ctx->stream = str_new(128);
	ctx->columns = TABLE_DEFAULT_COLUMNS;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		ctx->columns = ws.ws_col < TABLE_MIN_COLUMNS ?
			TABLE_MIN_COLUMNS : ws.ws_col;
	for (size_t i = 0; i < N_ELEMENTS(print_types); i++) {
		if (strcmp(print_types[i].name, name) == 0) {
			ctx->type = print_types[i].type;
			return;
		}
	}
	i_fatal_status(EXIT_TEMPFAIL, "Unknown print formatter: %s", name);
}

static void json_escape(string_t *dest, const unsigned char *p, size_t size)
{
	for (size_t i = 0; i < size;) {
		unsigned char c = p[i];
		uint32_t chr;
		size_t len;

		if (c < 0x80) {
			switch (c) {
			case '\b': str_append(dest, "\\b"); break;
			case '\f': str_append(dest, "\\f"); break;
			case '\n': str_append(dest, "\\n"); break;
			case '\r': str_append(dest, "\\r"); break;
			case '\t': str_append(dest, "\\t"); break;
			case '"': str_append(dest, "\\\""); break;
			case '\\': str_append(dest, "\\\\"); break;
			default:
				if (c < 0x20)
					str_printfa(dest, "\\u%04x", c);
				else
					str_append_c(dest, (char)c);
			}
			i++;
			continue;
		}
		/* valid UTF-8 is kept, anything else becomes U+FFFD */
		len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 :
			c >= 0xc2 && c < 0xe0 ? 2 : 0;
		if (c >= 0xf5)
			len = 0;
		chr = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
		for (size_t j = 1; len > 0 && j < len; j++) {
			if (i + j >= size || (p[i + j] & 0xc0) != 0x80) {
				len = 0;
				break;
			}
			chr = (chr << 6) | (p[i + j] & 0x3f);
		}
		if (len == 0 || (len == 3 && chr < 0x800) ||
		    (len == 4 && (chr < 0x10000 || chr > 0x10ffff)) ||
		    (chr >= 0xd800 && chr <= 0xdfff)) {
			str_append(dest, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (chr == 0x2028 || chr == 0x2029)
			str_printfa(dest, "\\u%04x", chr);
		else
			str_append_n(dest, p + i, len);
		i += len;
	}
}

void doveadm_print_header(const char *key, const char *title,
			  enum doveadm_print_header_flags flags)
{
	struct print_header *hdr;

	if (ctx == NULL)
		return;
	hdr = array_append_space(&ctx->headers);
	hdr->key = i_strdup(key);
	hdr->title = i_strdup(title);
	hdr->flags = flags;
	hdr->length = hdr->max_length = hdr->min_length = strlen(title);
	if (ctx->type == PRINT_TAB) {
		if (ctx->headers.count > 1)
			fputc('\t', ctx->out);
		fputs(title, ctx->out);
	}
}

void doveadm_print_header_simple(const char *key_title)
{
	doveadm_print_header(key_title, key_title, 0);
}

/* ---- per formatter ---- */

static void tab_flush_header(void)
{
	if (!ctx->tab_header_written) {
		fputc('\n', ctx->out);
		ctx->tab_header_written = true;
	}
}

static size_t utf8_strlen(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

static void table_calc_lengths(void)
{
	struct print_header *h = ctx->headers.v;
	unsigned int count = (unsigned int)ctx->headers.count;
	size_t lines = ctx->buffered.count / count, max_length = 0;

	ctx->lengths_set = true;
	for (size_t line = 0; line < lines; line++) {
		for (unsigned int i = 0; i < count; i++) {
			const char *v = ctx->buffered.v[line * count + i];
			size_t len = v == NULL ? 0 : utf8_strlen(v);

			if (h[i].min_length > len)
				h[i].min_length = len;
			if (h[i].max_length < len)
				h[i].max_length = h[i].length = len;
		}
	}
	for (unsigned int i = 0; i < count; i++)
		max_length += h[i].max_length + 1;
	max_length--;
	while (max_length > ctx->columns) {
		/* shrink columns from the right until it fits */
		size_t orig = max_length;

		for (unsigned int i = count - 1;; i--) {
			size_t diff = h[i].length - h[i].min_length;

			if (max_length - diff <= ctx->columns) {
				diff = max_length - ctx->columns;
				h[i].length -= diff;
				max_length -= diff;
				break;
			}
			if (diff > 0)
				h[i].length -= diff == 1 ? 1 : diff / 2;
			if (i == 0)
				break;
		}
		if (max_length == orig)
			break;
	}
	if (max_length < ctx->columns) {
		unsigned int i;

		for (i = 0; i < count; i++) {
			if ((h[i].flags & DOVEADM_PRINT_HEADER_FLAG_EXPAND) != 0) {
				i++;
				break;
			}
		}
		h[i - 1].length += (ctx->columns - max_length) / 2;
	}
}

static void table_print_next(const char *value)
{
	const struct print_header *h = &ctx->headers.v[ctx->idx];
	size_t extra = strlen(value) - utf8_strlen(value);
	int width = (int)(h->length + extra);

	if ((h->flags & DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY) == 0)
		fprintf(ctx->out, "%-*s", width, value);
	else
		fprintf(ctx->out, "%*s", width, value);
	if (++ctx->idx == ctx->headers.count) {
		ctx->idx = 0;
		fputc('\n', ctx->out);
	} else {
		fputc(' ', ctx->out);
	}
}

static void table_flush_buffer(void)
{
	const struct print_header *h = ctx->headers.v;
	unsigned int i, count = (unsigned int)ctx->headers.count;

	table_calc_lengths();
	for (i = 0; i < count; i++) {
		if ((h[i].flags & DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE) == 0)
			break;
	}
	if (i < count) {
		for (i = 0; i < count; i++) {
			if (i > 0)
				fputc(' ', ctx->out);
			if ((h[i].flags &
			     DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY) == 0)
				fprintf(ctx->out, "%-*s", (int)h[i].length,
					h[i].title);
			else
				fprintf(ctx->out, "%*s", (int)h[i].length,
					h[i].title);
		}
		fputc('\n', ctx->out);
	}
	ctx->idx = 0;
	for (size_t j = 0; j < ctx->buffered.count; j++) {
		table_print_next(ctx->buffered.v[j]);
		free((char *)ctx->buffered.v[j]);
	}
	array_clear(&ctx->buffered);
}

static void json_value_start(const struct print_header *hdr)
{
	string_t *s = str_new(64);

	if (ctx->idx == 0) {
		str_append_c(s, ctx->json_first_row ? '[' : ',');
		ctx->json_first_row = false;
		str_append_c(s, '{');
	} else {
		str_append_c(s, ',');
	}
	str_append_c(s, '"');
	json_escape(s, (const unsigned char *)hdr->key, strlen(hdr->key));
	str_append(s, "\":");
	fwrite(str_c(s), 1, str_len(s), ctx->out);
	str_free(&s);
}

static void json_value_end(void)
{
	if (ctx->idx + 1 == ctx->headers.count)
		fputc('}', ctx->out);
}

/* Print one complete value at the current column. */
static void print_value(const char *value)
{
	const struct print_header *hdr = &ctx->headers.v[ctx->idx];
	bool last = ctx->idx + 1 == ctx->headers.count;
	string_t *s;

	switch (ctx->type) {
	case PRINT_FLOW:
		if ((hdr->flags & DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE) == 0)
			fprintf(ctx->out, "%s=", hdr->title);
		fputs(value, ctx->out);
		fputc(last ? '\n' : ' ', ctx->out);
		break;
	case PRINT_PAGER:
		if (ctx->idx == 0 && !ctx->first_page)
			fputs("\f\n", ctx->out);
		ctx->first_page = false;
		if ((hdr->flags & DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE) == 0)
			fprintf(ctx->out, "%s: ", hdr->title);
		fputs(value, ctx->out);
		fputc('\n', ctx->out);
		break;
	case PRINT_TAB:
		tab_flush_header();
		if (ctx->idx > 0)
			fputc('\t', ctx->out);
		fputs(value, ctx->out);
		if (last)
			fputc('\n', ctx->out);
		break;
	case PRINT_TABLE:
		if (!ctx->lengths_set) {
			if (ctx->buffered.count / ctx->headers.count <
			    TABLE_MAX_BUFFER_LINES) {
				array_push(&ctx->buffered, i_strdup(value));
				break;
			}
			table_flush_buffer();
		}
		table_print_next(value);
		return;	/* table_print_next() moved idx */
	case PRINT_JSON:
		json_value_start(hdr);
		if ((hdr->flags & DOVEADM_PRINT_HEADER_FLAG_NUMBER) != 0) {
			fputs(value, ctx->out);
		} else {
			s = str_new(strlen(value) + 16);
			str_append_c(s, '"');
			json_escape(s, (const unsigned char *)value,
				    strlen(value));
			str_append_c(s, '"');
			fwrite(str_c(s), 1, str_len(s), ctx->out);
			str_free(&s);
		}
		json_value_end();
		break;
	}
	if (++ctx->idx == ctx->headers.count)
		ctx->idx = 0;
}

/* Sticky columns (the user name with -A) print themselves. */
static void print_sticky(void)
{
	for (;;) {
		const struct print_header *h = &ctx->headers.v[ctx->idx];

		if ((h->flags & DOVEADM_PRINT_HEADER_FLAG_STICKY) == 0)
			break;
		print_value(h->sticky_value == NULL ? "" : h->sticky_value);
		if (ctx->idx == 0)
			break;
	}
}

void doveadm_print(const char *value)
{
	if (ctx == NULL || ctx->headers.count == 0)
		return;
	print_sticky();
	print_value(value);
}

void doveadm_print_num(uint64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
	doveadm_print(buf);
}

/* A value in pieces; size 0 ends it. */
void doveadm_print_stream(const void *data, size_t size)
{
	const struct print_header *hdr;
	string_t *s;

	if (ctx == NULL || ctx->headers.count == 0)
		return;
	if (!ctx->stream_open) {
		print_sticky();
		ctx->stream_open = true;
		hdr = &ctx->headers.v[ctx->idx];
		switch (ctx->type) {
		case PRINT_FLOW:
			if ((hdr->flags & DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE) == 0)
				fprintf(ctx->out, "%s=", hdr->title);
			break;
		case PRINT_PAGER:
			if ((hdr->flags & DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE) == 0)
				fprintf(ctx->out, "%s:\n", hdr->title);
			break;
		case PRINT_JSON:
			json_value_start(hdr);
			fputc('"', ctx->out);
			break;
		default:
			break;
		}
	}
	hdr = &ctx->headers.v[ctx->idx];
	if (size > 0) {
		switch (ctx->type) {
		case PRINT_FLOW:
		case PRINT_PAGER:
			fwrite(data, 1, size, ctx->out);
			break;
		case PRINT_TAB:
			tab_flush_header();
			if (ctx->idx > 0)
				fputc('\t', ctx->out);
			fwrite(data, 1, size, ctx->out);
			break;
		case PRINT_TABLE:
			if (memchr(data, '\n', size) != NULL) {
				fflush(ctx->out);
				i_fatal_status(EXIT_TEMPFAIL, "table formatter "
					       "doesn't support multi-line "
					       "values");
			}
			str_append_n(ctx->stream, data, size);
			break;
		case PRINT_JSON:
			s = str_new(size + 16);
			json_escape(s, data, size);
			fwrite(str_c(s), 1, str_len(s), ctx->out);
			str_free(&s);
			break;
		}
		return;
	}
	/* the end of the value */
	ctx->stream_open = false;
	switch (ctx->type) {
	case PRINT_FLOW:
		fputc(ctx->idx + 1 == ctx->headers.count ? '\n' : ' ',
		      ctx->out);
		break;
	case PRINT_PAGER:
		break;
	case PRINT_TAB:
		/* Dovecot ends a streamed value by printing an empty one */
		tab_flush_header();
		if (ctx->idx > 0)
			fputc('\t', ctx->out);
		if (ctx->idx + 1 == ctx->headers.count)
			fputc('\n', ctx->out);
		break;
	case PRINT_TABLE: {
		char *v = i_strdup(str_c(ctx->stream));

		str_clear(ctx->stream);
		print_value(v);
		free(v);
		return;
	}
	case PRINT_JSON:
		fputc('"', ctx->out);
		json_value_end();
		break;
	}
	if (++ctx->idx == ctx->headers.count)
		ctx->idx = 0;
}

void doveadm_print_sticky(const char *key, const char *value)
{
	if (ctx == NULL)
		return;
	for (size_t i = 0; i < ctx->headers.count; i++) {
		if (strcmp(ctx->headers.v[i].key, key) == 0) {
			free(ctx->headers.v[i].sticky_value);
			ctx->headers.v[i].sticky_value = i_strdup(value);
			return;
		}
	}
}

void doveadm_print_flush(void)
{
	if (ctx == NULL)
		return;
	switch (ctx->type) {
	case PRINT_FLOW:
	case PRINT_PAGER:
		if (ctx->idx != 0) {
			fputc('\n', ctx->out);
			ctx->idx = 0;
		}
		break;
	case PRINT_TAB:
		tab_flush_header();
		break;
	case PRINT_TABLE:
		if (!ctx->lengths_set && ctx->headers.count > 0)
			table_flush_buffer();
		break;
	case PRINT_JSON:
		break;
	}
	fflush(ctx->out);
}

void doveadm_print_deinit(void)
{
	if (ctx == NULL)
		return;
	doveadm_print_flush();
	if (ctx->type == PRINT_JSON)
		fputs(ctx->json_first_row ? "[]" : "]", ctx->out);
	fflush(ctx->out);
	for (size_t i = 0; i < ctx->headers.count; i++) {
		free(ctx->headers.v[i].key);
		free(ctx->headers.v[i].title);
		free(ctx->headers.v[i].sticky_value);
	}
	array_free(&ctx->headers);
	for (size_t i = 0; i < ctx->buffered.count; i++)
		free((char *)ctx->buffered.v[i]);
	array_free(&ctx->buffered);
	str_free(&ctx->stream);
	i_free(ctx);
}

/* imap-quote.c - IMAP quoted strings and literals (Dovecot's choices,
 * observed in its ENVELOPE and BODYSTRUCTURE output). */
#include "imap-quote.h"

#include <string.h>
#include <strings.h>

void imap_append_quoted(string_t *dest, const char *src)
{
	str_append_c(dest, '"');
	for (; *src != '\0'; src++) {
		unsigned char c = (unsigned char)*src;

		if (c == '\r' || c == '\n' || c >= 0x80)
			continue;
		if (c == '"' || c == '\\')
			str_append_c(dest, '\\');
		str_append_c(dest, (char)c);
	}
	str_append_c(dest, '"');
}

static void append_literal(string_t *dest, const char *src, size_t len)
{
	str_printfa(dest, "{%zu}\r\n", len);
	str_append_n(dest, src, len);
}

void imap_append_astring(string_t *dest, const char *src,
			 const char *more_specials)
{
	bool atom = src[0] != '\0' && strcasecmp(src, "NIL") != 0;

	for (const unsigned char *p = (const unsigned char *)src;
	     *p != '\0' && atom; p++) {
		if (*p <= ' ' || *p >= 0x7f ||
		    strchr("(){%*\"\\", *p) != NULL ||
		    strchr(more_specials, *p) != NULL)
			atom = false;
	}
	if (atom)
		str_append(dest, src);
	else
		imap_append_string(dest, src);
}

void imap_append_string(string_t *dest, const char *src)
{
	unsigned int escapes = 0;
	const char *p;

	for (p = src; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		/* Dovecot prefers a literal to more than four escapes */
		if (c == '\r' || c == '\n' || c >= 0x80 ||
		    ((c == '"' || c == '\\') && ++escapes > 4)) {
			append_literal(dest, src, strlen(src));
			return;
		}
	}
	imap_append_quoted(dest, src);
}

void imap_append_nstring(string_t *dest, const char *src)
{
	if (src == NULL)
		str_append(dest, "NIL");
	else
		imap_append_string(dest, src);
}

void imap_append_nstring_nolf(string_t *dest, const char *src)
{
	string_t *tmp;

	if (src == NULL || strpbrk(src, "\r\n") == NULL) {
		imap_append_nstring(dest, src);
		return;
	}
	tmp = str_new(strlen(src) + 1);
	for (; *src != '\0'; src++) {
		if (*src == '\r' && src[1] == '\n')
			src++;
		else if (*src == '\r')
			str_append_c(tmp, ' ');
		else if (*src != '\n')
			str_append_c(tmp, *src);
	}
	imap_append_string(dest, str_c(tmp));
	str_free(&tmp);
}

static bool is_lwsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Does the text need changes (or escapes) before it can be sent? */
static bool humans_need_change(const unsigned char *src, size_t size)
{
	bool last_lwsp = true;
	size_t i;

	for (i = 0; i < size; i++) {
		unsigned char c = src[i];

		if (c == '\r' || c == '\n' || c == '\t' ||
		    (c == ' ' && last_lwsp) || c == '"' || c == '\\' ||
		    c == '\0' || c >= 0x80)
			return true;
		last_lwsp = c == ' ';
	}
	return last_lwsp && size > 0;
}

void imap_append_string_for_humans(string_t *dest, const void *_src,
				   size_t size)
{
	const unsigned char *src = _src;
	string_t *out;
	bool pending_space = false;
	size_t i;

	if (!humans_need_change(src, size)) {
		str_append_c(dest, '"');
		str_append_n(dest, src, size);
		str_append_c(dest, '"');
		return;
	}
	out = str_new(size + 1);
	for (i = 0; i < size; i++) {
		if (is_lwsp(src[i])) {
			pending_space = str_len(out) > 0;
			continue;
		}
		if (pending_space)
			str_append_c(out, ' ');
		pending_space = false;
		str_append_c(out, src[i] == '\0' ? (char)0x80 : (char)src[i]);
	}
	if (str_len(out) == 0)
		str_append(dest, "\"\"");
	else
		append_literal(dest, str_c(out), str_len(out));
	str_free(&out);
}

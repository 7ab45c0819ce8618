/* str.c - growable strings with an explicit length. */
#include "str.h"

#include <ctype.h>
#include <stdio.h>

string_t *str_new(size_t initial_size)
{
	string_t *str = i_new(string_t, 1);

	str->cap = MAX(initial_size, 16);
	str->data = i_malloc(str->cap);
	str->data[0] = '\0';
	return str;
}

void str_free(string_t **_str)
{
	string_t *str = *_str;

	if (str == NULL)
		return;
	*_str = NULL;
	free(str->data);
	free(str);
}

char *str_free_without_data(string_t **_str)
{
	string_t *str = *_str;
	char *data = str->data;

	*_str = NULL;
	free(str);
	return data;
}

void str_reserve(string_t *str, size_t extra)
{
	size_t need = size_add(size_add(str->len, extra), 1);
	size_t cap = str->cap;

	if (need <= cap)
		return;
	while (cap < need)
		cap = cap < SIZE_MAX / 2 ? cap * 2 : need;
	str->data = i_realloc(str->data, cap);
	str->cap = cap;
}

void str_append_n(string_t *str, const void *data, size_t len)
{
	str_reserve(str, len);
	memcpy(str->data + str->len, data, len);
	str->len += len;
	str->data[str->len] = '\0';
}

void str_append(string_t *str, const char *cstr)
{
	str_append_n(str, cstr, strlen(cstr));
}

void str_append_c_grow(string_t *str, char c)
{
	str_append_n(str, &c, 1);
}

void str_append_str(string_t *dest, const string_t *src)
{
	str_append_n(dest, src->data, src->len);
}

void str_vprintfa(string_t *str, const char *fmt, va_list args)
{
	va_list copy;
	int len;

	va_copy(copy, args);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0)
		i_panic("vsnprintf(%s) failed", fmt);
	str_reserve(str, (size_t)len);
	vsnprintf(str->data + str->len, (size_t)len + 1, fmt, args);
	str->len += (size_t)len;
}

void str_printfa(string_t *str, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	str_vprintfa(str, fmt, args);
	va_end(args);
}

void str_insert(string_t *str, size_t pos, const char *cstr)
{
	size_t len = strlen(cstr);

	if (pos > str->len)
		i_panic("str_insert(%zu) beyond length %zu", pos, str->len);
	str_reserve(str, len);
	memmove(str->data + pos + len, str->data + pos, str->len - pos + 1);
	memcpy(str->data + pos, cstr, len);
	str->len += len;
}

void str_delete(string_t *str, size_t pos, size_t len)
{
	if (pos >= str->len)
		return;
	if (len > str->len - pos)
		len = str->len - pos;
	memmove(str->data + pos, str->data + pos + len,
		str->len - pos - len + 1);
	str->len -= len;
}

void str_truncate(string_t *str, size_t len)
{
	if (len < str->len) {
		str->len = len;
		str->data[len] = '\0';
	}
}

bool str_equals(const string_t *s1, const string_t *s2)
{
	return s1->len == s2->len && memcmp(s1->data, s2->data, s1->len) == 0;
}

void str_lcase(string_t *str)
{
	for (size_t i = 0; i < str->len; i++)
		str->data[i] = (char)tolower((unsigned char)str->data[i]);
}

void str_ucase(string_t *str)
{
	for (size_t i = 0; i < str->len; i++)
		str->data[i] = (char)toupper((unsigned char)str->data[i]);
}

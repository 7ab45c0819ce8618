/* mem.c - allocation wrappers that abort instead of returning NULL. */
#include "lib.h"

#include <stdio.h>

static void ATTR_NORETURN out_of_memory(size_t size)
{
	i_panic("Out of memory (allocating %zu bytes)", size);
}

size_t size_add(size_t a, size_t b)
{
	size_t r;

	if (__builtin_add_overflow(a, b, &r))
		i_panic("size_add(%zu, %zu) overflows", a, b);
	return r;
}

size_t size_mul(size_t a, size_t b)
{
	size_t r;

	if (__builtin_mul_overflow(a, b, &r))
		i_panic("size_mul(%zu, %zu) overflows", a, b);
	return r;
}

void *i_malloc(size_t size)
{
	void *mem = malloc(size == 0 ? 1 : size);

	if (mem == NULL)
		out_of_memory(size);
	return mem;
}

void *i_calloc(size_t nmemb, size_t size)
{
	void *mem = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (mem == NULL)
		out_of_memory(size_mul(nmemb, size));
	return mem;
}

void *i_realloc(void *mem, size_t size)
{
	void *ret = realloc(mem, size == 0 ? 1 : size);

	if (ret == NULL)
		out_of_memory(size);
	return ret;
}

void *i_reallocarray(void *mem, size_t nmemb, size_t size)
{
	return i_realloc(mem, size_mul(nmemb, size));
}

char *i_strdup(const char *s)
{
	return s == NULL ? NULL : i_strndup(s, strlen(s));
}

char *i_strndup(const char *s, size_t n)
{
	char *ret = i_malloc(size_add(n, 1));

	memcpy(ret, s, n);
	ret[n] = '\0';
	return ret;
}

char *i_strdup_vprintf(const char *fmt, va_list args)
{
	va_list copy;
	char *ret;
	int len;

	va_copy(copy, args);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0)
		i_panic("vsnprintf(%s) failed", fmt);
	ret = i_malloc((size_t)len + 1);
	vsnprintf(ret, (size_t)len + 1, fmt, args);
	return ret;
}

char *i_strdup_printf(const char *fmt, ...)
{
	va_list args;
	char *ret;

	va_start(args, fmt);
	ret = i_strdup_vprintf(fmt, args);
	va_end(args);
	return ret;
}

int null_strcmp(const char *s1, const char *s2)
{
	if (s1 == NULL)
		return s2 == NULL ? 0 : -1;
	if (s2 == NULL)
		return 1;
	return strcmp(s1, s2);
}

bool str_begins(const char *str, const char *prefix, const char **suffix_r)
{
	size_t len = strlen(prefix);

	if (strncmp(str, prefix, len) != 0)
		return false;
	if (suffix_r != NULL)
		*suffix_r = str + len;
	return true;
}

bool str_ends(const char *str, const char *suffix)
{
	size_t len = strlen(str), slen = strlen(suffix);

	return len >= slen && memcmp(str + len - slen, suffix, slen) == 0;
}

/* lib.h - the foundation every Roost module includes: allocation that
 * aborts on failure, the panic/fatal entry points and small helpers. */
#ifndef ROOST_LIB_H
#define ROOST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdarg.h>

#define ATTR_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#define ATTR_NORETURN __attribute__((noreturn))
#define ATTR_UNUSED __attribute__((unused))
#define ATTR_NULL_TERMINATED __attribute__((sentinel))

#define N_ELEMENTS(arr) (sizeof(arr) / sizeof((arr)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

/* Exit codes shared by every command (sysexits.h values Dovecot uses). */
enum roost_exit {
	EXIT_USAGE = 64,
	EXIT_DATAERR = 65,
	EXIT_NOUSER = 67,
	EXIT_NOTFOUND = 68,
	EXIT_TEMPFAIL = 75,
	EXIT_NOPERM = 77,
	EXIT_CONFIG = 89, /* Dovecot's FATAL_DEFAULT */
};

/* Allocation never fails: these abort with a panic on out-of-memory or
 * on a size computation that would overflow. */
void *i_malloc(size_t size);
void *i_calloc(size_t nmemb, size_t size);
void *i_realloc(void *mem, size_t size);
void *i_reallocarray(void *mem, size_t nmemb, size_t size);
char *i_strdup(const char *s);
char *i_strndup(const char *s, size_t n);
char *i_strdup_printf(const char *fmt, ...) ATTR_FORMAT(1, 2);
char *i_strdup_vprintf(const char *fmt, va_list args) ATTR_FORMAT(1, 0);
/* Free *ptr and set it to NULL. */
#define i_free(ptr) do { free(ptr); (ptr) = NULL; } while (0)
#define i_new(type, count) ((type *)i_calloc((count), sizeof(type)))

/* Overflow-checked size arithmetic; panics on overflow. */
size_t size_add(size_t a, size_t b);
size_t size_mul(size_t a, size_t b);

/* Compare two strings, NULL sorting first. */
int null_strcmp(const char *s1, const char *s2);
bool str_begins(const char *str, const char *prefix, const char **suffix_r);
bool str_ends(const char *str, const char *suffix);

#include <stdlib.h>
#include "log.h"

#endif

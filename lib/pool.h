/* pool.h - memory pools: many small allocations freed together, one
 * pool per connection, per command or per parsed config. */
#ifndef ROOST_POOL_H
#define ROOST_POOL_H

#include "lib.h"

typedef struct pool *pool_t;

pool_t pool_create(const char *name, size_t block_size);
/* Free every allocation of the pool and the pool itself; *pool = NULL. */
void pool_destroy(pool_t *pool);
const char *pool_name(pool_t pool);
/* Total bytes handed out by this pool (for tests and accounting). */
size_t pool_used(pool_t pool);

/* Zero-filled, 16-byte aligned. Never fails. */
void *p_malloc(pool_t pool, size_t size);
/* Grow an allocation; the old one stays owned by the pool. */
void *p_realloc(pool_t pool, void *mem, size_t old_size, size_t new_size);
char *p_strdup(pool_t pool, const char *s);
char *p_strndup(pool_t pool, const void *s, size_t n);
char *p_strdup_printf(pool_t pool, const char *fmt, ...) ATTR_FORMAT(2, 3);
char *p_strdup_vprintf(pool_t pool, const char *fmt, va_list args)
	ATTR_FORMAT(2, 0);
#define p_new(pool, type, count) \
	((type *)p_malloc(pool, size_mul(sizeof(type), (count))))

#endif

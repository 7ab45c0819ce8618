/* pool.c - an alloc-only arena: blocks are chained and freed at once. */
#include "pool.h"

#include <stdio.h>

#define POOL_ALIGN 16

struct pool_block {
	struct pool_block *prev;
	size_t size, used;
	/* data follows, aligned */
	unsigned char data[] __attribute__((aligned(POOL_ALIGN)));
};

struct pool {
	char *name;
	size_t block_size;
	size_t total_used;
	struct pool_block *block;
};

static struct pool_block *pool_block_new(size_t size)
{
	struct pool_block *block =
		i_malloc(size_add(sizeof(struct pool_block), size));

	block->prev = NULL;
	block->size = size;
	block->used = 0;
	return block;
}

pool_t pool_create(const char *name, size_t block_size)
{
	pool_t pool = i_new(struct pool, 1);

	pool->name = i_strdup(name);
	pool->block_size = MAX(block_size, 256);
	pool->block = pool_block_new(pool->block_size);
	return pool;
}

void pool_destroy(pool_t *_pool)
{
	pool_t pool = *_pool;
	struct pool_block *block, *prev;

	if (pool == NULL)
		return;
	*_pool = NULL;
	for (block = pool->block; block != NULL; block = prev) {
		prev = block->prev;
		free(block);
	}
	free(pool->name);
	free(pool);
}

const char *pool_name(pool_t pool)
{
	return pool->name;
}

size_t pool_used(pool_t pool)
{
	return pool->total_used;
}

void *p_malloc(pool_t pool, size_t size)
{
	struct pool_block *block = pool->block;
	size_t asize = size_add(size, POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	void *mem;

	if (asize == 0)
		asize = POOL_ALIGN;
	if (block->size - block->used < asize) {
		size_t bsize = MAX(pool->block_size, asize);

		/* grow block sizes geometrically up to 1 MB */
		if (pool->block_size < 1024 * 1024)
			pool->block_size *= 2;
		block = pool_block_new(bsize);
		block->prev = pool->block;
		pool->block = block;
	}
	mem = block->data + block->used;
	block->used += asize;
	pool->total_used += asize;
	memset(mem, 0, size);
	return mem;
}

void *p_realloc(pool_t pool, void *mem, size_t old_size, size_t new_size)
{
	void *ret;

	if (new_size <= old_size)
		return mem;
	ret = p_malloc(pool, new_size);
	if (mem != NULL)
		memcpy(ret, mem, old_size);
	return ret;
}

char *p_strndup(pool_t pool, const void *s, size_t n)
{
	char *ret = p_malloc(pool, size_add(n, 1));

	memcpy(ret, s, n);
	ret[n] = '\0';
	return ret;
}

char *p_strdup(pool_t pool, const char *s)
{
	return s == NULL ? NULL : p_strndup(pool, s, strlen(s));
}

char *p_strdup_vprintf(pool_t pool, const char *fmt, va_list args)
{
	va_list copy;
	char *ret;
	int len;

	va_copy(copy, args);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0)
		i_panic("vsnprintf(%s) failed", fmt);
	ret = p_malloc(pool, (size_t)len + 1);
	vsnprintf(ret, (size_t)len + 1, fmt, args);
	return ret;
}

char *p_strdup_printf(pool_t pool, const char *fmt, ...)
{
	va_list args;
	char *ret;

	va_start(args, fmt);
	ret = p_strdup_vprintf(pool, fmt, args);
	va_end(args);
	return ret;
}

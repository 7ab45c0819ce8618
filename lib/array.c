/* array.c - growth of ARRAY() storage. */
#include "array.h"

#include <stdint.h>
#include <sys/mman.h>

#define ARRAY_HUGE_SIZE ((size_t)2 << 20)

/* A big array (a mailbox's records: ~100 bytes a message) is touched
 * page by page when it is filled; with 4 KB pages that is a page fault
 * every 40 messages, which on a virtual machine cost more than the
 * filling itself. Transparent huge pages for the 2 MB-aligned middle
 * of the block make it one fault per 2 MB (only a hint: the kernel may
 * say no, and with THP "never" nothing changes). */
static void array_advise_huge(void *data, size_t size)
{
	uintptr_t start = ((uintptr_t)data + ARRAY_HUGE_SIZE - 1) &
		~(uintptr_t)(ARRAY_HUGE_SIZE - 1);
	uintptr_t end = ((uintptr_t)data + size) &
		~(uintptr_t)(ARRAY_HUGE_SIZE - 1);

	if (end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

void array_grow_raw(void **data, size_t *cap, size_t min_cap,
		    size_t elem_size)
{
	size_t new_cap = *cap;

	if (min_cap <= *cap)
		return;
	if (new_cap < 8)
		new_cap = 8;
	while (new_cap < min_cap)
		new_cap = size_mul(new_cap, 2);
	*data = i_reallocarray(*data, new_cap, elem_size);
	*cap = new_cap;
	if (new_cap * elem_size >= ARRAY_HUGE_SIZE)
		array_advise_huge(*data, new_cap * elem_size);
}

/* array.h - type-safe growable arrays:
 *   ARRAY(int) nums = ARRAY_INIT;
 *   array_push(&nums, 5);  nums.v[0], nums.count;  array_free(&nums);
 */
#ifndef ROOST_ARRAY_H
#define ROOST_ARRAY_H

#include "lib.h"

#define ARRAY(type) struct { type *v; size_t count, cap; }
#define ARRAY_INIT { NULL, 0, 0 }
typedef ARRAY(const char *) ARRAY_STR;
typedef ARRAY(uint32_t) ARRAY_U32;

/* Make room for at least min_cap elements of elem_size bytes. */
void array_grow_raw(void **data, size_t *cap, size_t min_cap,
		    size_t elem_size);

#define array_reserve(arr, n) \
	array_grow_raw((void **)&(arr)->v, &(arr)->cap, (n), \
		       sizeof(*(arr)->v))
#define array_push(arr, value) do { \
	array_reserve(arr, size_add((arr)->count, 1)); \
	(arr)->v[(arr)->count++] = (value); \
} while (0)
/* Append a zero-filled element and return a pointer to it. */
#define array_append_space(arr) \
	(array_reserve(arr, size_add((arr)->count, 1)), \
	 memset(&(arr)->v[(arr)->count], 0, sizeof(*(arr)->v)), \
	 &(arr)->v[(arr)->count++])
#define array_free(arr) do { \
	free((arr)->v); (arr)->v = NULL; (arr)->count = (arr)->cap = 0; \
} while (0)
#define array_clear(arr) ((arr)->count = 0)
#define array_foreach(arr, elem) \
	for ((elem) = (arr)->v; (elem) != NULL && \
	     (elem) < (arr)->v + (arr)->count; (elem)++)
/* Remove element idx, keeping order. */
#define array_delete(arr, idx) do { \
	size_t idx_ = (idx); \
	if (idx_ < (arr)->count) { \
		memmove(&(arr)->v[idx_], &(arr)->v[idx_ + 1], \
			((arr)->count - idx_ - 1) * sizeof(*(arr)->v)); \
		(arr)->count--; \
	} \
} while (0)

#endif

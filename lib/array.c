/* array.c - growth of ARRAY() storage. */
#include "array.h"

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
}

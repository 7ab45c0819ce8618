/* check_pool.c - unit tests of lib/pool.c: alloc-only arenas with
 * zero-filled, 16-byte aligned allocations. */
#include "suites.h"
#include "pool.h"

#include <signal.h>
#include <stdio.h>

static bool all_zero(const void *mem, size_t size)
{
	const unsigned char *p = mem;

	for (size_t i = 0; i < size; i++) {
		if (p[i] != 0)
			return false;
	}
	return true;
}

START_TEST(test_pool_many_allocs)
{
	pool_t pool = pool_create("many", 1024);
	unsigned char *ptrs[5000];
	size_t sizes[5000], total = 0;

	for (unsigned int i = 0; i < N_ELEMENTS(ptrs); i++) {
		sizes[i] = 1 + (i * 7) % 200;
		ptrs[i] = p_malloc(pool, sizes[i]);
		memset(ptrs[i], (int)(i & 0xff), sizes[i]);
		total += sizes[i];
	}
	/* no allocation overlapped another (count mismatches: a Check
	 * assertion per byte is slow) */
	unsigned int bad = 0;
	for (unsigned int i = 0; i < N_ELEMENTS(ptrs); i++) {
		for (size_t j = 0; j < sizes[i]; j++)
			bad += ptrs[i][j] != (i & 0xff);
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_ge(pool_used(pool), total);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_alignment)
{
	pool_t pool = pool_create("align", 256);

	unsigned int bad = 0;
	for (size_t size = 0; size < 300; size++) {
		void *mem = p_malloc(pool, size);

		bad += mem == NULL || (uintptr_t)mem % 16 != 0;
	}
	ck_assert_uint_eq(bad, 0);
	for (unsigned int i = 0; i < 50; i++) {
		uint64_t *n = p_new(pool, uint64_t, 3);
		long double *d = p_new(pool, long double, 1);

		ck_assert_uint_eq((uintptr_t)n % 16, 0);
		ck_assert_uint_eq((uintptr_t)d % 16, 0);
	}
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_zero_fill)
{
	struct { int a; char *b; double c; } *rec;
	unsigned char *dirty = i_malloc(64 * 1024);
	pool_t pool;

	/* leave garbage in freed heap memory the pool's blocks may reuse */
	memset(dirty, 0xa5, 64 * 1024);
	free(dirty);
	pool = pool_create("zero", 60 * 1024);
	for (unsigned int round = 0; round < 40; round++) {
		size_t size = 100 + round * 97;
		unsigned char *mem = p_malloc(pool, size);

		ck_assert(all_zero(mem, size));
		memset(mem, 0x5a, size);
	}
	rec = p_new(pool, typeof(*rec), 4);
	ck_assert(all_zero(rec, sizeof(*rec) * 4));
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_realloc_grow)
{
	pool_t pool = pool_create("realloc", 256);
	size_t size = 10;
	unsigned char *mem = p_malloc(pool, size);

	for (size_t i = 0; i < size; i++)
		mem[i] = (unsigned char)i;
	/* grow past the block size several times */
	while (size < 100000) {
		size_t new_size = size * 3;

		mem = p_realloc(pool, mem, size, new_size);
		ck_assert_uint_eq((uintptr_t)mem % 16, 0);
		unsigned int bad = 0;
		for (size_t i = 0; i < size; i++)
			bad += mem[i] != (unsigned char)i;
		ck_assert_uint_eq(bad, 0);
		ck_assert(all_zero(mem + size, new_size - size));
		for (size_t i = size; i < new_size; i++)
			mem[i] = (unsigned char)i;
		size = new_size;
	}
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_realloc_shrink_null)
{
	pool_t pool = pool_create("realloc2", 256);
	char *mem = p_realloc(pool, NULL, 0, 32);

	ck_assert_ptr_nonnull(mem);
	ck_assert(all_zero(mem, 32));
	memcpy(mem, "0123456789", 11);
	mem = p_realloc(pool, mem, 32, 8); /* shrinking keeps the data */
	ck_assert_mem_eq(mem, "01234567", 8);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_big_allocs)
{
	pool_t pool = pool_create("big", 256);
	char *small1 = p_strdup(pool, "before");
	size_t big_size = 3 * 1024 * 1024;
	unsigned char *big = p_malloc(pool, big_size);
	char *small2 = p_strdup(pool, "after");
	unsigned char *big2 = p_malloc(pool, big_size * 2);

	ck_assert(all_zero(big, big_size));
	ck_assert(all_zero(big2, big_size * 2));
	memset(big, 0x11, big_size);
	memset(big2, 0x22, big_size * 2);
	for (unsigned int i = 0; i < 1000; i++)
		(void)p_strdup_printf(pool, "filler %u", i);
	ck_assert_str_eq(small1, "before");
	ck_assert_str_eq(small2, "after");
	ck_assert_uint_eq(big[0], 0x11);
	ck_assert_uint_eq(big[big_size - 1], 0x11);
	ck_assert_uint_eq(big2[big_size * 2 - 1], 0x22);
	ck_assert_uint_ge(pool_used(pool), big_size * 3);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_destroy_sets_null)
{
	pool_t pool = pool_create("name-kept", 0);

	ck_assert_str_eq(pool_name(pool), "name-kept");
	(void)p_malloc(pool, 10);
	pool_destroy(&pool);
	ck_assert_ptr_null(pool);
	pool_destroy(&pool); /* NULL is fine */
	ck_assert_ptr_null(pool);
}
END_TEST

START_TEST(test_pool_strings)
{
	pool_t pool = pool_create("strings", 256);
	char *s;

	ck_assert_str_eq(p_strdup(pool, "abc"), "abc");
	ck_assert_ptr_null(p_strdup(pool, NULL));
	ck_assert_str_eq(p_strdup(pool, ""), "");
	s = p_strndup(pool, "abcdef", 3);
	ck_assert_str_eq(s, "abc");
	ck_assert_str_eq(p_strndup(pool, "x", 0), "");
	ck_assert_str_eq(p_strdup_printf(pool, "%s-%03d", "n", 7), "n-007");
	ck_assert_str_eq(p_strdup_printf(pool, "%s", ""), "");
	pool_destroy(&pool);
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_pool_zero_size)
{
	pool_t pool = pool_create("zero-size", 256);
	void *a = p_malloc(pool, 0), *b = p_malloc(pool, 0);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_tiny_block_size)
{
	pool_t pool = pool_create("tiny", 1);

	unsigned int bad = 0;
	for (unsigned int i = 0; i < 10000; i++) {
		char *s = p_strdup_printf(pool, "%u", i);
		char buf[16];

		snprintf(buf, sizeof(buf), "%u", i);
		bad += strcmp(s, buf) != 0;
	}
	ck_assert_uint_eq(bad, 0);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_printf_long)
{
	pool_t pool = pool_create("long", 256);
	char *big = i_malloc(100001);
	char *s;

	memset(big, 'z', 100000);
	big[100000] = '\0';
	s = p_strdup_printf(pool, "<%s>", big);
	ck_assert_uint_eq(strlen(s), 100002);
	ck_assert_int_eq(s[100001], '>');
	free(big);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_pool_size_overflow)
{
	pool_t pool = pool_create("overflow", 256);

	test_log_silence();
	(void)p_malloc(pool, SIZE_MAX); /* rounding up overflows: panic */
}
END_TEST

START_TEST(test_pool_new_overflow)
{
	pool_t pool = pool_create("overflow", 256);

	test_log_silence();
	(void)p_new(pool, uint64_t, SIZE_MAX / 4); /* size_mul panics */
}
END_TEST

Suite *make_pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_pool_many_allocs);
	tcase_add_test(tc, test_pool_alignment);
	tcase_add_test(tc, test_pool_zero_fill);
	tcase_add_test(tc, test_pool_realloc_grow);
	tcase_add_test(tc, test_pool_realloc_shrink_null);
	tcase_add_test(tc, test_pool_big_allocs);
	tcase_add_test(tc, test_pool_destroy_sets_null);
	tcase_add_test(tc, test_pool_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_pool_zero_size);
	tcase_add_test(tc, test_pool_tiny_block_size);
	tcase_add_test(tc, test_pool_printf_long);
	tcase_add_test_raise_signal(tc, test_pool_size_overflow, SIGABRT);
	tcase_add_test_raise_signal(tc, test_pool_new_overflow, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

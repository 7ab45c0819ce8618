/* check_array.c - unit tests of lib/array.h: type-safe growable arrays. */
#include "suites.h"
#include "array.h"

#include <signal.h>

struct rec {
	int id;
	const char *name;
	double weight;
};

START_TEST(test_array_push)
{
	ARRAY(int) nums = ARRAY_INIT;

	ck_assert_uint_eq(nums.count, 0);
	for (int i = 0; i < 1000; i++)
		array_push(&nums, i * 3);
	ck_assert_uint_eq(nums.count, 1000);
	ck_assert_uint_ge(nums.cap, 1000);
	unsigned int bad = 0;
	for (int i = 0; i < 1000; i++)
		bad += nums.v[i] != i * 3;
	ck_assert_uint_eq(bad, 0);
	array_free(&nums);
}
END_TEST

START_TEST(test_array_delete)
{
	ARRAY(int) nums = ARRAY_INIT;

	for (int i = 0; i < 10; i++)
		array_push(&nums, i);
	array_delete(&nums, 0);		/* first */
	array_delete(&nums, 4);		/* middle: the 5 */
	array_delete(&nums, nums.count - 1); /* last */
	ck_assert_uint_eq(nums.count, 7);
	const int expect[] = { 1, 2, 3, 4, 6, 7, 8 };
	for (size_t i = 0; i < N_ELEMENTS(expect); i++)
		ck_assert_int_eq(nums.v[i], expect[i]);
	array_delete(&nums, 7);		/* out of range: no-op */
	array_delete(&nums, 1000);
	ck_assert_uint_eq(nums.count, 7);
	while (nums.count > 0)
		array_delete(&nums, 0);
	ck_assert_uint_eq(nums.count, 0);
	array_delete(&nums, 0);		/* empty: no-op */
	ck_assert_uint_eq(nums.count, 0);
	array_free(&nums);
}
END_TEST

START_TEST(test_array_append_space)
{
	ARRAY(struct rec) recs = ARRAY_INIT;
	struct rec *r;

	unsigned int bad = 0;
	for (int i = 0; i < 100; i++) {
		r = array_append_space(&recs);
		bad += r->id != 0 || r->name != NULL || r->weight != 0.0;
		r->id = i;
		r->name = "x";
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(recs.count, 100);
	ck_assert_int_eq(recs.v[99].id, 99);
	ck_assert_ptr_eq(&recs.v[99], r);
	/* space reused after a clear is zeroed again */
	array_clear(&recs);
	ck_assert_uint_eq(recs.count, 0);
	ck_assert_uint_ge(recs.cap, 100);
	r = array_append_space(&recs);
	ck_assert_int_eq(r->id, 0);
	ck_assert_ptr_null(r->name);
	array_free(&recs);
}
END_TEST

START_TEST(test_array_foreach)
{
	ARRAY(int) nums = ARRAY_INIT;
	ARRAY_STR strs = ARRAY_INIT;
	const char **sp;
	int *ip, sum = 0, n = 0;

	array_foreach(&nums, ip) /* empty, v == NULL */
		n++;
	ck_assert_int_eq(n, 0);
	for (int i = 1; i <= 100; i++)
		array_push(&nums, i);
	array_foreach(&nums, ip) {
		sum += *ip;
		*ip = 0;
	}
	ck_assert_int_eq(sum, 5050);
	ck_assert_int_eq(nums.v[99], 0);

	array_push(&strs, "a");
	array_push(&strs, "b");
	array_push(&strs, "c");
	char joined[8] = "";
	size_t pos = 0;
	array_foreach(&strs, sp)
		joined[pos++] = (*sp)[0];
	ck_assert_str_eq(joined, "abc");
	array_free(&nums);
	array_free(&strs);
}
END_TEST

START_TEST(test_array_free)
{
	ARRAY(int) nums = ARRAY_INIT;

	array_free(&nums); /* never used: fine */
	array_push(&nums, 1);
	array_free(&nums);
	ck_assert_ptr_null(nums.v);
	ck_assert_uint_eq(nums.count, 0);
	ck_assert_uint_eq(nums.cap, 0);
	array_push(&nums, 2); /* reusable */
	ck_assert_uint_eq(nums.count, 1);
	ck_assert_int_eq(nums.v[0], 2);
	array_free(&nums);
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_array_reserve)
{
	ARRAY(char) bytes = ARRAY_INIT;

	array_reserve(&bytes, 0);
	array_reserve(&bytes, 1);
	ck_assert_uint_ge(bytes.cap, 1);
	array_reserve(&bytes, 100000);
	ck_assert_uint_ge(bytes.cap, 100000);
	ck_assert_uint_eq(bytes.count, 0);
	memset(bytes.v, 'x', 100000);
	array_reserve(&bytes, 10); /* never shrinks */
	ck_assert_uint_ge(bytes.cap, 100000);
	array_free(&bytes);
}
END_TEST

START_TEST(test_array_many)
{
	ARRAY(uint64_t) nums = ARRAY_INIT;

	for (uint64_t i = 0; i < 1000000; i++)
		array_push(&nums, i);
	ck_assert_uint_eq(nums.count, 1000000);
	ck_assert_uint_eq(nums.v[999999], 999999);
	array_free(&nums);
}
END_TEST

START_TEST(test_array_reserve_overflow)
{
	ARRAY(uint64_t) nums = ARRAY_INIT;

	test_log_silence();
	array_reserve(&nums, SIZE_MAX / 2); /* capacity * size overflows */
}
END_TEST

Suite *make_array_suite(void)
{
	Suite *s = suite_create("array");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_array_push);
	tcase_add_test(tc, test_array_delete);
	tcase_add_test(tc, test_array_append_space);
	tcase_add_test(tc, test_array_foreach);
	tcase_add_test(tc, test_array_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_array_reserve);
	tcase_add_test(tc, test_array_many);
	tcase_add_test_raise_signal(tc, test_array_reserve_overflow, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

/* check_str.c - unit tests of lib/str.c: growable strings that carry
 * their length, may hold NULs and always keep a spare NUL. */
#include "suites.h"
#include "str.h"

#include <signal.h>

/* The invariant every operation must keep. */
static void assert_str_sane(const string_t *s)
{
	ck_assert_ptr_nonnull(s->data);
	ck_assert_uint_lt(s->len, s->cap);
	ck_assert_int_eq(s->data[s->len], '\0');
}

START_TEST(test_str_append)
{
	string_t *s = str_new(0);

	ck_assert_uint_eq(str_len(s), 0);
	ck_assert_str_eq(str_c(s), "");
	str_append(s, "hello");
	str_append_c(s, ' ');
	str_append_n(s, "world!!!", 5);
	ck_assert_str_eq(str_c(s), "hello world");
	ck_assert_uint_eq(str_len(s), 11);
	str_append(s, "");
	str_append_n(s, "xyz", 0);
	ck_assert_uint_eq(str_len(s), 11);
	assert_str_sane(s);
	str_free(&s);
	ck_assert_ptr_null(s);
	str_free(&s); /* NULL is fine */
}
END_TEST

START_TEST(test_str_append_str_equals)
{
	string_t *a = str_new(4), *b = str_new(64);

	str_append(a, "abc");
	str_append_str(b, a);
	str_append_str(b, a);
	ck_assert_str_eq(str_c(b), "abcabc");
	ck_assert(!str_equals(a, b));
	str_truncate(b, 3);
	ck_assert(str_equals(a, b));
	str_clear(a);
	str_clear(b);
	ck_assert(str_equals(a, b));
	str_free(&a);
	str_free(&b);
}
END_TEST

START_TEST(test_str_printfa)
{
	string_t *s = str_new(8);

	str_append(s, "x=");
	str_printfa(s, "%d, %s, %05.1f, %%, %c", 42, "str", 3.14159, 'Z');
	ck_assert_str_eq(str_c(s), "x=42, str, 003.1, %, Z");
	ck_assert_uint_eq(str_len(s), strlen("x=42, str, 003.1, %, Z"));
	str_printfa(s, "%s", "");
	ck_assert_str_eq(str_c(s), "x=42, str, 003.1, %, Z");
	str_printfa(s, "|%zu|%llx", (size_t)7, 0xdeadbeefULL);
	ck_assert_str_eq(str_c(s), "x=42, str, 003.1, %, Z|7|deadbeef");
	assert_str_sane(s);
	str_free(&s);
}
END_TEST

START_TEST(test_str_insert)
{
	string_t *s = str_new(0);

	str_append(s, "helloworld");
	str_insert(s, 5, ", ");
	ck_assert_str_eq(str_c(s), "hello, world");
	str_insert(s, 0, ">> ");
	ck_assert_str_eq(str_c(s), ">> hello, world");
	str_insert(s, str_len(s), "!");
	ck_assert_str_eq(str_c(s), ">> hello, world!");
	str_insert(s, 3, "");
	ck_assert_str_eq(str_c(s), ">> hello, world!");
	ck_assert_uint_eq(str_len(s), 16);
	assert_str_sane(s);
	str_free(&s);
}
END_TEST

START_TEST(test_str_delete)
{
	string_t *s = str_new(0);

	str_append(s, "0123456789");
	str_delete(s, 0, 2);
	ck_assert_str_eq(str_c(s), "23456789");
	str_delete(s, 3, 2);
	ck_assert_str_eq(str_c(s), "234789");
	str_delete(s, 4, 100); /* clamps at the end */
	ck_assert_str_eq(str_c(s), "2347");
	str_delete(s, 4, 1); /* at the end: nothing */
	str_delete(s, 99, 1);
	ck_assert_str_eq(str_c(s), "2347");
	str_delete(s, 1, 0);
	ck_assert_str_eq(str_c(s), "2347");
	str_delete(s, 0, str_len(s));
	ck_assert_str_eq(str_c(s), "");
	ck_assert_uint_eq(str_len(s), 0);
	assert_str_sane(s);
	str_free(&s);
}
END_TEST

START_TEST(test_str_truncate)
{
	string_t *s = str_new(0);

	str_append(s, "abcdef");
	str_truncate(s, 10); /* longer: no change */
	ck_assert_str_eq(str_c(s), "abcdef");
	str_truncate(s, 3);
	ck_assert_str_eq(str_c(s), "abc");
	ck_assert_uint_eq(str_len(s), 3);
	str_append(s, "X");
	ck_assert_str_eq(str_c(s), "abcX");
	str_clear(s);
	ck_assert_str_eq(str_c(s), "");
	assert_str_sane(s);
	str_free(&s);
}
END_TEST

START_TEST(test_str_case)
{
	string_t *s = str_new(0);

	str_append(s, "MiXeD 123 \xc3\x84");
	str_lcase(s);
	ck_assert_str_eq(str_c(s), "mixed 123 \xc3\x84");
	str_ucase(s);
	ck_assert_str_eq(str_c(s), "MIXED 123 \xc3\x84");
	str_free(&s);
}
END_TEST

START_TEST(test_str_free_without_data)
{
	string_t *s = str_new(0);
	char *data;

	str_append(s, "kept");
	data = str_free_without_data(&s);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(data, "kept");
	free(data);
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_str_growth_large)
{
	const size_t chunk = 1024 * 1024;
	char *buf = i_malloc(chunk);
	string_t *s = str_new(1);

	for (size_t i = 0; i < chunk; i++)
		buf[i] = (char)('a' + i % 26);
	for (unsigned int i = 0; i < 8; i++) {
		str_append_n(s, buf, chunk);
		assert_str_sane(s);
	}
	ck_assert_uint_eq(str_len(s), 8 * chunk);
	for (unsigned int i = 0; i < 8; i++)
		ck_assert_int_eq(memcmp(s->data + i * chunk, buf, chunk), 0);
	free(buf);
	str_free(&s);
}
END_TEST

START_TEST(test_str_growth_bytewise)
{
	string_t *s = str_new(0);

	for (unsigned int i = 0; i < 100000; i++)
		str_append_c(s, (char)('0' + i % 10));
	ck_assert_uint_eq(str_len(s), 100000);
	/* count mismatches: a Check assertion per byte is slow */
	unsigned int bad = 0;
	for (unsigned int i = 0; i < 100000; i++)
		bad += s->data[i] != '0' + (int)(i % 10);
	ck_assert_uint_eq(bad, 0);
	assert_str_sane(s);
	str_free(&s);
}
END_TEST

START_TEST(test_str_printfa_large)
{
	size_t len = 200 * 1024;
	char *big = i_malloc(len + 1);
	string_t *s = str_new(0);

	memset(big, 'q', len);
	big[len] = '\0';
	str_append(s, "<");
	str_printfa(s, "%s>%d", big, 7);
	ck_assert_uint_eq(str_len(s), len + 3);
	ck_assert_int_eq(s->data[0], '<');
	ck_assert_int_eq(s->data[len], 'q');
	ck_assert_int_eq(s->data[len + 1], '>');
	ck_assert_int_eq(s->data[len + 2], '7');
	assert_str_sane(s);
	free(big);
	str_free(&s);
}
END_TEST

START_TEST(test_str_insert_grows)
{
	string_t *s = str_new(0);
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	str_append(s, "[]");
	str_insert(s, 1, big);
	ck_assert_uint_eq(str_len(s), 2 + sizeof(big) - 1);
	ck_assert_int_eq(s->data[0], '[');
	ck_assert_int_eq(s->data[str_len(s) - 1], ']');
	assert_str_sane(s);
	str_free(&s);
}
END_TEST

START_TEST(test_str_new_sizes)
{
	string_t *s = str_new(0);

	ck_assert_uint_ge(s->cap, 1);
	assert_str_sane(s);
	str_free(&s);
	s = str_new(1000000);
	ck_assert_uint_ge(s->cap, 1000000);
	ck_assert_uint_eq(str_len(s), 0);
	str_reserve(s, 0);
	assert_str_sane(s);
	str_free(&s);
}
END_TEST

START_TEST(test_str_reserve_overflow)
{
	string_t *s = str_new(0);

	test_log_silence();
	str_append(s, "a");
	str_reserve(s, SIZE_MAX); /* len + extra + 1 overflows: panic */
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_str_nul_inside)
{
	string_t *a = str_new(0), *b = str_new(0);

	str_append_n(a, "a\0b", 3);
	ck_assert_uint_eq(str_len(a), 3);
	ck_assert_mem_eq(str_c(a), "a\0b", 4);
	str_append_c(a, '\0');
	ck_assert_uint_eq(str_len(a), 4);
	ck_assert_mem_eq(str_c(a), "a\0b\0", 5);
	str_append_n(b, "a\0b\0", 4);
	ck_assert(str_equals(a, b));
	b->data[3] = 'c';
	ck_assert(!str_equals(a, b));
	/* C-string functions stop at the first NUL, the length does not */
	str_append(a, "tail");
	ck_assert_uint_eq(str_len(a), 8);
	ck_assert_mem_eq(str_c(a), "a\0b\0tail", 9);
	str_delete(a, 1, 3);
	ck_assert_uint_eq(str_len(a), 5);
	ck_assert_str_eq(str_c(a), "atail");
	str_free(&a);
	str_free(&b);
}
END_TEST

START_TEST(test_str_insert_beyond)
{
	string_t *s = str_new(0);

	test_log_silence();
	str_append(s, "abc");
	str_insert(s, 4, "x"); /* our bug: panics */
}
END_TEST

Suite *make_str_suite(void)
{
	Suite *s = suite_create("str");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_str_append);
	tcase_add_test(tc, test_str_append_str_equals);
	tcase_add_test(tc, test_str_printfa);
	tcase_add_test(tc, test_str_insert);
	tcase_add_test(tc, test_str_delete);
	tcase_add_test(tc, test_str_truncate);
	tcase_add_test(tc, test_str_case);
	tcase_add_test(tc, test_str_free_without_data);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_str_growth_large);
	tcase_add_test(tc, test_str_growth_bytewise);
	tcase_add_test(tc, test_str_printfa_large);
	tcase_add_test(tc, test_str_insert_grows);
	tcase_add_test(tc, test_str_new_sizes);
	tcase_add_test_raise_signal(tc, test_str_reserve_overflow, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_str_nul_inside);
	tcase_add_test_raise_signal(tc, test_str_insert_beyond, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

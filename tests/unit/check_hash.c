/* check_hash.c - unit tests of lib/hash.c: string-keyed open-addressing
 * tables with tombstones, case-sensitive and case-insensitive. */
#include "suites.h"
#include "hash.h"

#include <stdio.h>
#include <stdlib.h>

#define MANY 10000

/* Values are small integers stored as pointers; 0 is never used. */
#define V(n) ((void *)(uintptr_t)(n))
#define N(p) ((unsigned int)(uintptr_t)(p))

static const char *key_of(unsigned int i)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "key-%u", i);
	return buf;
}

START_TEST(test_hash_insert_lookup)
{
	struct hash_table *t = hash_create(false);

	ck_assert_uint_eq(hash_count(t), 0);
	ck_assert_ptr_null(hash_lookup(t, "a"));
	ck_assert_ptr_null(hash_insert(t, "a", V(1)));
	ck_assert_ptr_null(hash_insert(t, "b", V(2)));
	ck_assert_uint_eq(hash_count(t), 2);
	ck_assert_uint_eq(N(hash_lookup(t, "a")), 1);
	ck_assert_uint_eq(N(hash_lookup(t, "b")), 2);
	ck_assert_ptr_null(hash_lookup(t, "c"));
	ck_assert_ptr_null(hash_lookup(t, "A")); /* case-sensitive */
	hash_destroy(&t);
	ck_assert_ptr_null(t);
	hash_destroy(&t);
}
END_TEST

START_TEST(test_hash_replace)
{
	struct hash_table *t = hash_create(false);

	hash_insert(t, "k", V(1));
	ck_assert_uint_eq(N(hash_insert(t, "k", V(2))), 1);
	ck_assert_uint_eq(N(hash_insert(t, "k", V(3))), 2);
	ck_assert_uint_eq(hash_count(t), 1);
	ck_assert_uint_eq(N(hash_lookup(t, "k")), 3);
	hash_destroy(&t);
}
END_TEST

START_TEST(test_hash_lookup_full)
{
	struct hash_table *t = hash_create(false);
	const char *key = NULL;
	void *value = V(99);

	hash_insert(t, "null-value", NULL);
	ck_assert_ptr_null(hash_lookup(t, "null-value"));
	ck_assert(hash_lookup_full(t, "null-value", &key, &value));
	ck_assert_str_eq(key, "null-value");
	ck_assert_ptr_null(value);
	ck_assert(hash_lookup_full(t, "null-value", NULL, NULL));
	ck_assert(!hash_lookup_full(t, "missing", &key, &value));
	ck_assert_uint_eq(hash_count(t), 1);
	hash_destroy(&t);
}
END_TEST

START_TEST(test_hash_keys_copied)
{
	struct hash_table *t = hash_create(false);
	char buf[16] = "original";
	const char *stored;

	hash_insert(t, buf, V(1));
	memcpy(buf, "changed!", 9);
	ck_assert_uint_eq(N(hash_lookup(t, "original")), 1);
	ck_assert_ptr_null(hash_lookup(t, "changed!"));
	ck_assert(hash_lookup_full(t, "original", &stored, NULL));
	ck_assert_ptr_ne(stored, buf);
	hash_destroy(&t);
}
END_TEST

START_TEST(test_hash_remove)
{
	struct hash_table *t = hash_create(false);

	hash_insert(t, "a", V(1));
	hash_insert(t, "b", V(2));
	ck_assert(hash_remove(t, "a"));
	ck_assert(!hash_remove(t, "a"));
	ck_assert(!hash_remove(t, "never"));
	ck_assert_uint_eq(hash_count(t), 1);
	ck_assert_ptr_null(hash_lookup(t, "a"));
	ck_assert_uint_eq(N(hash_lookup(t, "b")), 2);
	ck_assert_ptr_null(hash_insert(t, "a", V(3)));
	ck_assert_uint_eq(N(hash_lookup(t, "a")), 3);
	ck_assert_uint_eq(hash_count(t), 2);
	hash_destroy(&t);
}
END_TEST

/* Remove every other key of many: the probe chains must still reach the
 * survivors across the tombstones, and re-inserts must work. */
START_TEST(test_hash_tombstones)
{
	struct hash_table *t = hash_create(false);
	unsigned int bad = 0; /* mismatches, asserted once per phase */

	for (unsigned int i = 1; i <= MANY; i++)
		bad += hash_insert(t, key_of(i), V(i)) != NULL;
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hash_count(t), MANY);
	for (unsigned int i = 1; i <= MANY; i += 2)
		bad += !hash_remove(t, key_of(i));
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hash_count(t), MANY / 2);
	for (unsigned int i = 1; i <= MANY; i++) {
		if (i % 2 == 1)
			bad += hash_lookup(t, key_of(i)) != NULL;
		else
			bad += N(hash_lookup(t, key_of(i))) != i;
	}
	ck_assert_uint_eq(bad, 0);
	for (unsigned int i = 1; i <= MANY; i += 2)
		bad += hash_insert(t, key_of(i), V(i + 1)) != NULL;
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hash_count(t), MANY);
	for (unsigned int i = 1; i <= MANY; i++)
		bad += N(hash_lookup(t, key_of(i))) != (i % 2 == 1 ? i + 1 : i);
	ck_assert_uint_eq(bad, 0);
	hash_destroy(&t);
}
END_TEST

/* Insert/remove churn with few live keys: tombstones must not fill the
 * table (a lookup would then probe forever). */
START_TEST(test_hash_tombstone_churn)
{
	struct hash_table *t = hash_create(false);

	unsigned int bad = 0;

	hash_insert(t, "stay", V(7));
	for (unsigned int i = 1; i <= 100000; i++) {
		bad += hash_insert(t, key_of(i), V(i)) != NULL;
		bad += !hash_remove(t, key_of(i));
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hash_count(t), 1);
	ck_assert_ptr_null(hash_lookup(t, key_of(5)));
	ck_assert(!hash_remove(t, "absent"));
	ck_assert_uint_eq(N(hash_lookup(t, "stay")), 7);
	hash_destroy(&t);
}
END_TEST

START_TEST(test_hash_iterate)
{
	struct hash_table *t = hash_create(false);
	struct hash_iter iter = { 0 };
	unsigned char *seen = i_calloc(MANY + 1, 1);
	unsigned int n = 0;
	const char *key;
	void *value;

	ck_assert(!hash_iterate(t, &iter, &key, &value));
	for (unsigned int i = 1; i <= MANY; i++)
		hash_insert(t, key_of(i), V(i));
	for (unsigned int i = 3; i <= MANY; i += 3)
		hash_remove(t, key_of(i));
	memset(&iter, 0, sizeof(iter));
	unsigned int bad = 0;
	while (hash_iterate(t, &iter, &key, &value)) {
		unsigned int i = (unsigned int)strtoul(key + 4, NULL, 10);

		if (i < 1 || i > MANY || N(value) != i || i % 3 == 0 ||
		    seen[i] != 0) {
			bad++;
			continue;
		}
		seen[i] = 1;
		n++;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(n, MANY - MANY / 3);
	ck_assert_uint_eq(n, hash_count(t));
	/* the value pointer is optional */
	memset(&iter, 0, sizeof(iter));
	ck_assert(hash_iterate(t, &iter, &key, NULL));
	free(seen);
	hash_destroy(&t);
}
END_TEST

START_TEST(test_hash_case_insensitive)
{
	struct hash_table *t = hash_create(true);
	const char *key;
	void *value;

	hash_insert(t, "Foo", V(1));
	ck_assert_uint_eq(N(hash_lookup(t, "foo")), 1);
	ck_assert_uint_eq(N(hash_lookup(t, "FOO")), 1);
	ck_assert(hash_lookup_full(t, "fOo", &key, &value));
	ck_assert_str_eq(key, "Foo"); /* the spelling first inserted */
	ck_assert_uint_eq(N(hash_insert(t, "fOO", V(2))), 1);
	ck_assert_uint_eq(hash_count(t), 1);
	ck_assert_uint_eq(N(hash_lookup(t, "foo")), 2);
	ck_assert(hash_remove(t, "FOO"));
	ck_assert_uint_eq(hash_count(t), 0);
	for (unsigned int i = 1; i <= MANY; i++)
		hash_insert(t, key_of(i), V(i));
	unsigned int bad = 0;
	for (unsigned int i = 1; i <= MANY; i += 7) {
		char upper[32];

		snprintf(upper, sizeof(upper), "KEY-%u", i);
		bad += N(hash_lookup(t, upper)) != i;
	}
	ck_assert_uint_eq(bad, 0);
	hash_destroy(&t);

	/* a case-sensitive table keeps both spellings */
	t = hash_create(false);
	hash_insert(t, "Foo", V(1));
	hash_insert(t, "foo", V(2));
	ck_assert_uint_eq(hash_count(t), 2);
	ck_assert_uint_eq(N(hash_lookup(t, "Foo")), 1);
	ck_assert_uint_eq(N(hash_lookup(t, "foo")), 2);
	hash_destroy(&t);
}
END_TEST

START_TEST(test_hash_functions)
{
	/* FNV-1a test vectors */
	ck_assert_uint_eq(str_hash(""), 2166136261u);
	ck_assert_uint_eq(str_hash("a"), 0xe40c292cu);
	ck_assert_uint_eq(str_hash("foobar"), 0xbf9cf968u);
	ck_assert_uint_eq(strcase_hash("FooBar"), str_hash("foobar"));
	ck_assert_uint_eq(strcase_hash(""), str_hash(""));
	ck_assert_uint_ne(str_hash("FooBar"), str_hash("foobar"));
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_hash_long_key)
{
	struct hash_table *t = hash_create(true);
	size_t len = 100000;
	char *key = i_malloc(len + 1);

	memset(key, 'k', len);
	key[len] = '\0';
	hash_insert(t, key, V(1));
	key[len - 1] = 'K';
	ck_assert_uint_eq(N(hash_lookup(t, key)), 1);
	key[len - 1] = 'x';
	ck_assert_ptr_null(hash_lookup(t, key));
	free(key);
	hash_destroy(&t);
}
END_TEST

START_TEST(test_hash_empty_key)
{
	struct hash_table *t = hash_create(false);

	hash_insert(t, "", V(5));
	ck_assert_uint_eq(N(hash_lookup(t, "")), 5);
	ck_assert(hash_remove(t, ""));
	ck_assert_ptr_null(hash_lookup(t, ""));
	hash_destroy(&t);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_hash_high_bytes)
{
	struct hash_table *t = hash_create(true);

	/* only ASCII letters fold; other bytes compare as they are */
	hash_insert(t, "\xc3\x84pfel", V(1));
	hash_insert(t, "\xc3\xa4pfel", V(2));
	hash_insert(t, "\xff\xfe", V(3));
	ck_assert_uint_eq(hash_count(t), 3);
	ck_assert_uint_eq(N(hash_lookup(t, "\xc3\x84PFEL")), 1);
	ck_assert_uint_eq(N(hash_lookup(t, "\xc3\xa4PFEL")), 2);
	ck_assert_uint_eq(N(hash_lookup(t, "\xff\xfe")), 3);
	hash_destroy(&t);
}
END_TEST

Suite *make_hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_hash_insert_lookup);
	tcase_add_test(tc, test_hash_replace);
	tcase_add_test(tc, test_hash_lookup_full);
	tcase_add_test(tc, test_hash_keys_copied);
	tcase_add_test(tc, test_hash_remove);
	tcase_add_test(tc, test_hash_tombstones);
	tcase_add_test(tc, test_hash_iterate);
	tcase_add_test(tc, test_hash_case_insensitive);
	tcase_add_test(tc, test_hash_functions);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_hash_tombstone_churn);
	tcase_add_test(tc, test_hash_long_key);
	tcase_add_test(tc, test_hash_empty_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_hash_high_bytes);
	suite_add_tcase(s, tc);
	return s;
}

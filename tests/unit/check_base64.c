/* check_base64.c - unit tests of lib/base64.c: the RFC 4648 vectors,
 * round trips of every length, and the strict decoder's refusals (SASL
 * answers "invalid_base64" on them). */
#include "suites.h"
#include "base64.h"

#include <signal.h>

static const struct {
	const char *plain, *b64;
} rfc4648[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

START_TEST(test_base64_rfc4648)
{
	for (unsigned int i = 0; i < N_ELEMENTS(rfc4648); i++) {
		string_t *enc = str_new(0), *dec = str_new(0);
		const char *b64 = rfc4648[i].b64;

		base64_encode(enc, rfc4648[i].plain, strlen(rfc4648[i].plain));
		ck_assert_str_eq(str_c(enc), b64);
		ck_assert_uint_eq(base64_encoded_size(strlen(rfc4648[i].plain)),
				  strlen(b64));
		ck_assert_int_eq(base64_decode(dec, b64, strlen(b64)), 0);
		ck_assert_str_eq(str_c(dec), rfc4648[i].plain);
		str_free(&enc);
		str_free(&dec);
	}
}
END_TEST

START_TEST(test_base64_appends)
{
	string_t *str = str_new(0);

	str_append(str, "x=");
	base64_encode(str, "\0\xff", 2);
	ck_assert_str_eq(str_c(str), "x=AP8=");
	str_truncate(str, 2);
	ck_assert_int_eq(base64_decode(str, "YWI=", 4), 0);
	ck_assert_str_eq(str_c(str), "x=ab");
	str_free(&str);
}
END_TEST

START_TEST(test_base64_roundtrip)
{
	unsigned char buf[300];
	uint32_t seed = 1;

	for (size_t len = 0; len < sizeof(buf); len++) {
		string_t *enc = str_new(0), *dec = str_new(0);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = (unsigned char)(seed >> 16);
		}
		base64_encode(enc, buf, len);
		ck_assert_uint_eq(str_len(enc), base64_encoded_size(len));
		ck_assert_uint_eq(str_len(enc) % 4, 0);
		ck_assert_int_eq(base64_decode(dec, str_c(enc), str_len(enc)), 0);
		ck_assert_uint_eq(str_len(dec), len);
		ck_assert(memcmp(str_c(dec), buf, len) == 0);
		str_free(&enc);
		str_free(&dec);
	}
}
END_TEST

/* A last group without its padding is taken ("Zg" = "f"). */
START_TEST(test_base64_unpadded)
{
	string_t *dec = str_new(0);

	ck_assert_int_eq(base64_decode(dec, "Zg", 2), 0);
	ck_assert_str_eq(str_c(dec), "f");
	str_clear(dec);
	ck_assert_int_eq(base64_decode(dec, "Zm9vYmE", 7), 0);
	ck_assert_str_eq(str_c(dec), "fooba");
	str_free(&dec);
}
END_TEST

START_TEST(test_base64_large)
{
	size_t len = 1024 * 1024 + 1;
	unsigned char *buf = i_malloc(len);
	string_t *enc = str_new(0), *dec = str_new(0);

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7);
	base64_encode(enc, buf, len);
	ck_assert_uint_eq(str_len(enc), (len + 2) / 3 * 4);
	ck_assert_int_eq(base64_decode(dec, str_c(enc), str_len(enc)), 0);
	ck_assert_uint_eq(str_len(dec), len);
	ck_assert(memcmp(str_c(dec), buf, len) == 0);
	free(buf);
	str_free(&enc);
	str_free(&dec);
}
END_TEST

START_TEST(test_base64_size_overflow)
{
	test_log_silence();
	(void)base64_encoded_size(SIZE_MAX);
}
END_TEST

START_TEST(test_base64_invalid)
{
	static const char *const bad[] = {
		"!!!", "Zg=", "Zg===", "Z", "Z===", "=", "==", "====",
		"Zm9v=", "Zg==Zg==", "Zg==A", " Zg==", "Zg== ", "Zm 9v",
		"Zm9v\n", "Zh==", "Zm9=", "Zm-_", "Zm9v\x80",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		string_t *dec = str_new(0);

		ck_assert_msg(base64_decode(dec, bad[i], strlen(bad[i])) < 0,
			      "accepted \"%s\"", bad[i]);
		str_free(&dec);
	}
	/* a NUL is no alphabet character; the length is what counts */
	string_t *dec = str_new(0);

	ck_assert_int_lt(base64_decode(dec, "Zm\0v", 4), 0);
	str_clear(dec);
	ck_assert_int_eq(base64_decode(dec, "Zm9vXXXX", 4), 0);
	ck_assert_str_eq(str_c(dec), "foo");
	str_free(&dec);
}
END_TEST

Suite *make_base64_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_base64_rfc4648);
	tcase_add_test(tc, test_base64_appends);
	tcase_add_test(tc, test_base64_roundtrip);
	tcase_add_test(tc, test_base64_unpadded);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_base64_large);
	tcase_add_test_raise_signal(tc, test_base64_size_overflow, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_base64_invalid);
	suite_add_tcase(s, tc);
	return s;
}

/* check_qp.c - lib/qp.c: quoted-printable decoding all at once and one
 * byte at a time (the decoder is incremental), soft and hard line
 * breaks, trailing blanks, and malformed input (kept and reported). */
#include "suites.h"
#include "str.h"
#include "qp.h"

static const struct {
	const char *in, *out;
	int ret;
} qp_tests[] = {
	{ "", "", 0 },
	{ "plain", "plain", 0 },
	{ "a=3Db=3d", "a=b=", 0 },
	{ "caf=C3=A9", "caf\xc3\xa9", 0 },
	{ "soft=\nbreak", "softbreak", 0 },
	{ "soft=\r\nbreak", "softbreak", 0 },
	{ "soft= \t\r\nbreak", "softbreak", 0 },
	{ "line  \nnext", "line\r\nnext", 0 },
	{ "line \t\r\nnext", "line\r\nnext", 0 },
	{ "a\r\nb\nc", "a\r\nb\r\nc", 0 },
	{ "trailing   ", "trailing", 0 },
	{ "in the middle  x", "in the middle  x", 0 },
	{ "=0D=0A", "\r\n", 0 },
	{ "bad=ZZ", "bad=ZZ", -1 },
	{ "bad=4", "bad=4", -1 },
	{ "bad= x", "bad= x", -1 },
	{ "end=", "end=", -1 },
	{ "lone\rcr", "lone\rcr", -1 },
	{ "end\r", "end\r", -1 },
};

START_TEST(test_qp_decode)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(qp_tests); i++) {
		string_t *out = str_new(64);
		int ret = qp_decode(out, qp_tests[i].in, strlen(qp_tests[i].in));

		if (strcmp(str_c(out), qp_tests[i].out) != 0 ||
		    ret != qp_tests[i].ret)
			ck_abort_msg("\"%s\" -> \"%s\" (%d)", qp_tests[i].in,
				     str_c(out), ret);
		str_free(&out);
	}
}
END_TEST

START_TEST(test_qp_byte_at_a_time)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(qp_tests); i++) {
		string_t *out = str_new(64);
		struct qp_decoder *qp = qp_decoder_init(out);
		const char *in = qp_tests[i].in, *error;
		size_t j, pos;
		int ret = 0;

		for (j = 0; in[j] != '\0'; j++) {
			if (qp_decoder_more(qp, in + j, 1, &pos, &error) < 0)
				ret = -1;
		}
		if (qp_decoder_finish(qp, &error) < 0)
			ret = -1;
		ck_assert_str_eq(str_c(out), qp_tests[i].out);
		ck_assert_int_eq(ret, qp_tests[i].ret);
		qp_decoder_deinit(&qp);
		str_free(&out);
	}
}
END_TEST

START_TEST(test_qp_finish_codes)
{
	string_t *out = str_new(64);
	struct qp_decoder *qp = qp_decoder_init(out);
	const char *error;
	size_t pos;

	ck_assert_int_eq(qp_decoder_more(qp, "a=4", 3, &pos, &error), 0);
	ck_assert_int_eq(qp_decoder_finish(qp, &error), -1);
	ck_assert_ptr_nonnull(error);
	ck_assert_int_eq(qp_decoder_more(qp, "b=", 2, &pos, &error), 0);
	ck_assert_int_eq(qp_decoder_finish(qp, &error), -2);
	ck_assert_int_eq(qp_decoder_more(qp, "x=y", 3, &pos, &error), -1);
	ck_assert_uint_eq(pos, 2);
	ck_assert_int_eq(qp_decoder_finish(qp, &error), 0);
	ck_assert_str_eq(str_c(out), "a=4b=x=y");
	qp_decoder_deinit(&qp);
	str_free(&out);
}
END_TEST

START_TEST(test_qp_large)
{
	string_t *in = str_new(1 << 20), *out = str_new(1 << 20);
	unsigned int i;

	for (i = 0; i < 100000; i++)
		str_append(in, "=41=42C    =\r\n");
	ck_assert_int_eq(qp_decode(out, str_c(in), str_len(in)), 0);
	ck_assert_uint_eq(str_len(out), 100000 * 7);
	str_free(&in);
	str_free(&out);
}
END_TEST

Suite *make_qp_suite(void)
{
	Suite *s = suite_create("qp");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_qp_decode);
	tcase_add_test(tc, test_qp_byte_at_a_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_qp_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_qp_finish_codes);
	suite_add_tcase(s, tc);
	return s;
}

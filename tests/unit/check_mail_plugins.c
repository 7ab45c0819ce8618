/* check_mail_plugins.c - unit tests of mailstore/mail-plugins.c (the
 * mail_plugins names as Dovecot loads them) and mailstore/mail-zlib.c
 * (compressed mail files: detection, decompression, corrupt input). */
#include "suites.h"
#include "mail-plugins.h"
#include "mail-zlib.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#define DIR "/usr/lib/dovecot/modules"

START_TEST(test_plugins_has)
{
	ck_assert(mail_plugins_has("quota imap_quota", "quota"));
	ck_assert(mail_plugins_has(" quota,zlib", "zlib"));
	ck_assert(mail_plugins_has("lib10_quota_plugin.so", "quota_plugin"));
	ck_assert(mail_plugins_has("lib20_zlib.so", "zlib"));
	ck_assert(!mail_plugins_has("imap_quota", "quota"));
	ck_assert(!mail_plugins_has("", "quota"));
	ck_assert(!mail_plugins_has(NULL, "quota"));
}
END_TEST

START_TEST(test_plugins_check)
{
	pool_t pool = pool_create("test", 1024);
	const char *missing, *error;

	ck_assert_int_eq(mail_plugins_check(pool, "quota imap_quota zlib",
					    DIR, &missing, &error), 0);
	ck_assert_str_eq(missing, "");
	ck_assert_int_eq(mail_plugins_check(pool, "nosuch quota", DIR,
					    &missing, &error), -1);
	ck_assert_str_eq(error, "Plugin 'nosuch' not found from directory "
			 DIR);
	/* a missing dependency is reported before an unknown name */
	ck_assert_int_eq(mail_plugins_check(pool, "nosuch imap_quota", DIR,
					    &missing, &error), -1);
	ck_assert_str_eq(error, "Couldn't load required plugin " DIR
			 "/lib11_imap_quota_plugin.so: Plugin quota must be "
			 "loaded also (you must set: mail_plugins="
			 "$mail_plugins quota)");
	/* the lowest priority file first */
	ck_assert_int_eq(mail_plugins_check(pool, "mail_log imap_acl", DIR,
					    &missing, &error), -1);
	ck_assert(strstr(error, "lib02_imap_acl_plugin.so") != NULL);
	ck_assert_int_eq(mail_plugins_check(pool, "acl imap_acl acl fts",
					    DIR, &missing, &error), 0);
	/* acl and imap_acl are Roost's (mailstore/acl.c) */
	ck_assert_str_eq(missing, "fts");
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_zlib_decompress)
{
	static const char msg[] = "Subject: x\n\nhello hello hello\n";
	unsigned char comp[256], *out = NULL;
	size_t out_size;
	const char *error;
	z_stream z;

	ck_assert_int_eq(mail_zlib_decompress((const unsigned char *)msg,
					      sizeof(msg) - 1, &out, &out_size,
					      &error), 0);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)msg;
	z.avail_in = sizeof(msg) - 1;
	z.next_out = comp;
	z.avail_out = sizeof(comp);
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	ck_assert_int_eq(mail_zlib_decompress(comp, z.total_out, &out,
					      &out_size, &error), 1);
	ck_assert_uint_eq(out_size, sizeof(msg) - 1);
	ck_assert(memcmp(out, msg, out_size) == 0);
	free(out);
	out = NULL;
	/* cut short: an error, nothing returned */
	ck_assert_int_eq(mail_zlib_decompress(comp, z.total_out - 6, &out,
					      &out_size, &error), -1);
	ck_assert_str_eq(error, "gzip: Compressed data is corrupted");
	ck_assert_ptr_null(out);
	ck_assert_int_eq(mail_zlib_decompress((const unsigned char *)
					      "BZh9garbage", 11, &out,
					      &out_size, &error), -1);
	ck_assert_str_eq(error, "bzip2: Compressed data is corrupted");
}
END_TEST

Suite *make_mail_plugins_suite(void)
{
	Suite *s = suite_create("mail_plugins");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plugins_has);
	tcase_add_test(tc, test_plugins_check);
	tcase_add_test(tc, test_zlib_decompress);
	suite_add_tcase(s, tc);
	return s;
}

/* check_mail_plugins.c - unit tests of mailstore/mail-plugins.c (the
 * mail_plugins names as Dovecot loads them) and mailstore/mail-zlib.c
 * (compressed mail files: detection, decompression, corrupt input). */
#include "suites.h"
#include "mail-plugins.h"
#include "mail-zlib.h"

#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

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

/* xz, zstd (two frames) and Dovecot's lz4 container: round trips, and
   each cut short is an error with the format's name */
START_TEST(test_zlib_decompress_new_formats)
{
	static const char msg[] = "Subject: y\n\nbody body body body body\n";
	static const unsigned char lz4_hdr[] = {
		'D', 'o', 'v', 'e', 'c', 'o', 't', '-', 'L', 'Z', '4',
		0x0d, 0x2a, 0x9b, 0xc5, 0x00, 0x01, 0x00, 0x00
	};
	unsigned char comp[1024], *out = NULL;
	size_t len = 0, out_size, n1;
	const char *error;
	int n;

	/* xz */
	ck_assert_int_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL,
		(const uint8_t *)msg, sizeof(msg) - 1, comp, &len,
		sizeof(comp)), LZMA_OK);
	ck_assert_int_eq(mail_zlib_decompress(comp, len, &out, &out_size,
					      &error), 1);
	ck_assert_uint_eq(out_size, sizeof(msg) - 1);
	ck_assert(memcmp(out, msg, out_size) == 0);
	free(out);
	out = NULL;
	ck_assert_int_eq(mail_zlib_decompress(comp, len - 8, &out, &out_size,
					      &error), -1);
	ck_assert_str_eq(error, "xz: Compressed data is corrupted");
	ck_assert_ptr_null(out);

	/* zstd: two frames make one message */
	n1 = ZSTD_compress(comp, sizeof(comp), msg, 10, 3);
	ck_assert(!ZSTD_isError(n1));
	len = ZSTD_compress(comp + n1, sizeof(comp) - n1, msg + 10,
			    sizeof(msg) - 1 - 10, 3);
	ck_assert(!ZSTD_isError(len));
	len += n1;
	ck_assert_int_eq(mail_zlib_decompress(comp, len, &out, &out_size,
					      &error), 1);
	ck_assert_uint_eq(out_size, sizeof(msg) - 1);
	ck_assert(memcmp(out, msg, out_size) == 0);
	free(out);
	out = NULL;
	ck_assert_int_eq(mail_zlib_decompress(comp, n1 - 3, &out, &out_size,
					      &error), -1);
	ck_assert_str_eq(error, "zstd: Compressed data is corrupted");

	/* lz4: header, then a chunk of size + block */
	memcpy(comp, lz4_hdr, sizeof(lz4_hdr));
	n = LZ4_compress_default(msg, (char *)comp + sizeof(lz4_hdr) + 4,
				 (int)sizeof(msg) - 1,
				 (int)(sizeof(comp) - sizeof(lz4_hdr) - 4));
	ck_assert_int_gt(n, 0);
	comp[sizeof(lz4_hdr)] = 0;
	comp[sizeof(lz4_hdr) + 1] = 0;
	comp[sizeof(lz4_hdr) + 2] = (unsigned char)(n >> 8);
	comp[sizeof(lz4_hdr) + 3] = (unsigned char)n;
	len = sizeof(lz4_hdr) + 4 + (size_t)n;
	ck_assert_int_eq(mail_zlib_decompress(comp, len, &out, &out_size,
					      &error), 1);
	ck_assert_uint_eq(out_size, sizeof(msg) - 1);
	ck_assert(memcmp(out, msg, out_size) == 0);
	free(out);
	out = NULL;
	/* the header alone is an empty message */
	ck_assert_int_eq(mail_zlib_decompress(comp, sizeof(lz4_hdr), &out,
					      &out_size, &error), 1);
	ck_assert_uint_eq(out_size, 0);
	free(out);
	out = NULL;
	ck_assert_int_eq(mail_zlib_decompress(comp, len - 1, &out, &out_size,
					      &error), -1);
	ck_assert_str_eq(error, "lz4: Compressed data is corrupted");
	/* a chunk size of 0 in the header */
	comp[sizeof(lz4_hdr) - 3] = 0;
	ck_assert_int_eq(mail_zlib_decompress(comp, len, &out, &out_size,
					      &error), -1);
}
END_TEST

Suite *make_mail_plugins_suite(void)
{
	Suite *s = suite_create("mail_plugins");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plugins_has);
	tcase_add_test(tc, test_plugins_check);
	tcase_add_test(tc, test_zlib_decompress);
	tcase_add_test(tc, test_zlib_decompress_new_formats);
	suite_add_tcase(s, tc);
	return s;
}

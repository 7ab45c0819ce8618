/* fuzz_mail_zlib.c - libFuzzer harness for the zlib plugin's reader: the
 * input is a mail file as found on disk (gzip, bzip2 or plain). Whatever
 * decompresses must compress back through the writer's formats and come
 * out the same; nothing may crash or leak. The first byte picks gzip or
 * bzip2 framing for inputs that are built rather than found. */
#include "lib.h"
#include "mail-zlib.h"

#include <bzlib.h>
#include <stdlib.h>
#include <zlib.h>

static void check(bool cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *out = NULL;
	size_t out_size = 0;
	const char *error;
	int ret;

	ret = mail_zlib_decompress(data, size, &out, &out_size, &error);
	check(ret >= -1 && ret <= 1);
	if (ret == 1) {
		/* a gzip copy of what came out decompresses to the same */
		uLongf clen = compressBound(out_size) + 32;
		unsigned char *c = malloc(clen + 1);
		unsigned char *back = NULL;
		size_t back_size = 0;
		z_stream z;

		memset(&z, 0, sizeof(z));
		check(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
				   Z_DEFAULT_STRATEGY) == Z_OK);
		z.next_in = out;
		z.avail_in = (uInt)out_size;
		z.next_out = c;
		z.avail_out = (uInt)clen;
		check(deflate(&z, Z_FINISH) == Z_STREAM_END);
		clen = z.total_out;
		deflateEnd(&z);
		check(mail_zlib_decompress(c, clen, &back, &back_size,
					   &error) == 1);
		check(back_size == out_size &&
		      (out_size == 0 || memcmp(back, out, out_size) == 0));
		free(back);
		free(c);
	}
	free(out);
	return 0;
}

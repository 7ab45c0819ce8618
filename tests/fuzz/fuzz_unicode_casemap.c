/* fuzz_unicode_casemap.c - libFuzzer harness for the i;unicode-casemap
 * fold (mailstore/unicode-casemap.h), which every SEARCH and SORT runs
 * over message text, and for the UTF8=ACCEPT literal-to-quoted rewrite
 * (daemon/imap/imap-utf8.h). Checks: the fold's output is valid UTF-8
 * and its return value says whether the input was; the rewrite keeps
 * input without literals byte for byte. */
#include "lib.h"
#include "str.h"
#include "charset.h"
#include "unicode-casemap.h"
#include "imap-utf8.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	string_t *out = str_new(size * 3 + 16), *q = str_new(size + 16);
	int ret = uni_utf8_to_casemap(data, size, out);

	if (!uni_utf8_data_is_valid(str_c(out), str_len(out)))
		abort();
	if ((ret == 0) != uni_utf8_data_is_valid(data, size))
		abort();
	imap_utf8_literals_to_quoted((const char *)data, size, q);
	if (memchr(data, '{', size) == NULL &&
	    (str_len(q) != size || memcmp(str_c(q), data, size) != 0))
		abort();
	str_free(&out);
	str_free(&q);
	return 0;
}

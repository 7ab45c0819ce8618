/* casemap-probe.c - test-only program for tests/compat/casemap-diff.py:
 * reads lines of hex-encoded bytes on stdin and prints, for each, the
 * return value of uni_utf8_to_casemap() and its output in hex:
 *   "c3a9"  ->  "0 45cc81" */
#include "lib.h"
#include "str.h"
#include "unicode-casemap.h"
#include "hex.h"

#include <stdio.h>

int main(void)
{
	string_t *in = str_new(256), *out = str_new(256);
	char line[8192];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		int ret;

		str_clear(in);
		str_clear(out);
		for (size_t i = 0; line[i] != '\0' && line[i] != '\n'; i += 2) {
			int hi = hex_digit_value(line[i]);
			int lo = hi < 0 ? -1 : hex_digit_value(line[i + 1]);

			if (lo < 0) {
				fprintf(stderr, "bad hex line\n");
				return 1;
			}
			str_append_c(in, (char)(hi << 4 | lo));
		}
		ret = uni_utf8_to_casemap(str_c(in), str_len(in), out);
		printf("%d ", ret);
		for (size_t i = 0; i < str_len(out); i++)
			printf("%02x", (unsigned char)str_c(out)[i]);
		putchar('\n');
	}
	str_free(&in);
	str_free(&out);
	return fflush(stdout) == 0 ? 0 : 1;
}

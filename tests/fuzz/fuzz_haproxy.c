/* fuzz_haproxy.c - libFuzzer harness for the PROXY protocol parser
 * (lib/haproxy.h), the first bytes a login worker reads from a load
 * balancer. The input is fed twice: whole, and in chunks whose sizes
 * come from the input's first byte; both parsers must agree on the
 * result and on how many bytes the header took, and a finished header
 * must never have taken more than it was given. */
#include "lib.h"
#include "haproxy.h"

#include <stdlib.h>

static void check_info(struct haproxy_parser *parser)
{
	const struct haproxy_info *info = haproxy_parser_info(parser);

	/* touch everything: ASan catches dangling or short strings */
	if (info->authority != NULL && strlen(info->authority) > 1024)
		abort();
	if (info->ssl_cn != NULL && strlen(info->ssl_cn) > 1024)
		abort();
	if (info->unique_id_len > HAPROXY_UNIQUE_ID_MAX_LEN)
		abort();
	if (info->version != 1 && info->version != 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct haproxy_parser *whole, *chunked;
	enum haproxy_result r1, r2 = HAPROXY_NEED_MORE;
	size_t chunk, consumed1, consumed2 = 0, pos = 0, n;
	char *text;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] % 17) + 1;
	data++;
	size--;

	whole = haproxy_parser_create();
	r1 = haproxy_parser_feed(whole, data, size, &consumed1);
	if (consumed1 > size)
		abort();

	chunked = haproxy_parser_create();
	while (pos < size && r2 == HAPROXY_NEED_MORE) {
		size_t len = MIN(chunk, size - pos);

		r2 = haproxy_parser_feed(chunked, data + pos, len, &n);
		if (n > len)
			abort();
		consumed2 += n;
		pos += len;
	}
	if (size > 0 && r1 != r2)
		abort();
	if (r1 == HAPROXY_DONE) {
		if (consumed1 != consumed2)
			abort();
		check_info(whole);
		check_info(chunked);
	}
	text = haproxy_parser_log_text(whole, true, "192.0.2.1");
	free(text);
	haproxy_parser_free(&whole);
	haproxy_parser_free(&chunked);
	return 0;
}

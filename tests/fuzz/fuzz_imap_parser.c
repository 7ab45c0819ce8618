/* fuzz_imap_parser.c - libFuzzer harness for the IMAP command parser
 * (daemon/imap/imap-parser.c), the first code that reads a client's
 * bytes in imap-login and in the IMAP session. The first four input
 * bytes choose the parse flags, the arg count limit, the size limit and
 * the chunking; the rest is fed in chunks of pseudo-random size, as a
 * socket would deliver it. Each complete command's args are walked (the
 * sanitizers catch bad reads), errors skip to the next line as the
 * callers do, and literals stopped by IMAP_PARSE_FLAG_LITERAL_SIZE are
 * skipped as APPEND would read them. */
#include "lib.h"
#include "imap-parser.h"

#include <stdlib.h>

static size_t walk_args(const struct imap_arg *args, unsigned int depth)
{
	size_t total = 0;
	const char *str;
	const struct imap_arg *list;

	if (depth > IMAP_PARSER_MAX_DEPTH + 1)
		abort();
	for (; !imap_arg_is_eol(args); args++) {
		switch (args->type) {
		case IMAP_ARG_NIL:
		case IMAP_ARG_ATOM:
		case IMAP_ARG_STRING:
		case IMAP_ARG_LITERAL:
			if (args->str == NULL || args->str[args->str_len] != '\0')
				abort();
			total += args->str_len;
			(void)imap_arg_get_astring(args, &str);
			(void)imap_arg_get_nstring(args, &str);
			(void)imap_arg_atom_equals(args, "NIL");
			break;
		case IMAP_ARG_LIST:
			if (!imap_arg_get_list(args, &list))
				abort();
			total += walk_args(list, depth + 1);
			break;
		case IMAP_ARG_LITERAL_SIZE:
			total += (size_t)(args->literal_size & 0xff);
			break;
		case IMAP_ARG_EOL:
			abort();
		}
	}
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser *parser;
	enum imap_parse_flags flags;
	unsigned int count, seed;
	size_t max_size, pos, end, used, skip_literal = 0;
	bool skipping = false;

	if (size < 4)
		return 0;
	flags = data[0] & 0x0f;
	count = (data[0] >> 4) & 0x03;
	max_size = 16 + (size_t)data[1] * 64;
	seed = data[2] | (unsigned int)data[3] << 8;
	data += 4;
	size -= 4;

	parser = imap_parser_create(max_size);
	for (pos = 0; pos < size; pos = end) {
		size_t chunk;

		seed = seed * 1103515245u + 12345u;
		chunk = 1 + (seed >> 16) % 97;
		end = pos + MIN(chunk, size - pos);
		while (pos < end) {
			const struct imap_arg *args;
			unsigned int n;
			bool fatal, found;
			int ret;

			if (skip_literal > 0) {
				used = MIN(skip_literal, end - pos);
				skip_literal -= used;
				pos += used;
				continue;
			}
			if (skipping) {
				used = imap_parser_skip_line(data + pos, end - pos,
							     &found);
				pos += used;
				skipping = !found;
				continue;
			}
			ret = imap_parser_read(parser, data + pos, end - pos,
					       &used, flags, count);
			if (used > end - pos)
				abort();
			pos += used;
			(void)imap_parser_want_continuation(parser);
			(void)imap_parser_is_started(parser);
			if (ret == 0) {
				if (used == 0 && pos < end)
					abort();	/* no progress on input */
				continue;
			}
			if (ret < 0) {
				(void)imap_parser_get_error(parser, &fatal);
				(void)imap_parser_get_args(parser, &n);
				imap_parser_reset(parser);
				skipping = !(used > 0 && data[pos - 1] == '\n');
				continue;
			}
			args = imap_parser_get_args(parser, &n);
			(void)walk_args(args, 0);
			if (n > 0 && args[n - 1].type == IMAP_ARG_LITERAL_SIZE) {
				skip_literal = (size_t)MIN(args[n - 1].literal_size,
							   (uint64_t)SIZE_MAX);
				/* APPEND continues the line after the
				   literal: skip it as an error would */
				skipping = true;
			} else if (count > 0) {
				/* the rest of the line isn't wanted */
				skipping = !(used > 0 && data[pos - 1] == '\n');
			}
			imap_parser_reset(parser);
		}
	}
	imap_parser_destroy(&parser);
	return 0;
}

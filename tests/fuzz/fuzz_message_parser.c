/* fuzz_message_parser.c - libFuzzer harness for the MIME code: the input
 * is a message. It is parsed, its ENVELOPE, BODY and BODYSTRUCTURE are
 * written, and every part's sections (BODY[n], n.MIME, n.HEADER, n.TEXT,
 * HEADER.FIELDS[.NOT]) and BINARY[n] are fetched; the tree and the
 * section ranges are checked for consistency. The headers are also run
 * through the RFC 2047 decoder, the address and date parsers. */
#include "lib.h"
#include "pool.h"
#include "str.h"
#include "message-parser.h"
#include "message-section.h"
#include "message-header.h"
#include "message-address.h"
#include "message-date.h"
#include "imap-envelope.h"
#include "imap-bodystructure.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_PATHS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tree(const struct message_part *part, size_t size)
{
	const struct message_part *child;
	uint64_t body = message_part_body_offset(part);
	uint64_t end = body + part->body_size.physical_size, pos = body;

	if (end > size || part->header_size.virtual_size <
	    part->header_size.physical_size)
		abort();
	for (child = part->children; child != NULL; child = child->next) {
		if (child->parent != part || child->physical_pos < pos)
			abort();
		pos = message_part_body_offset(child) +
			child->body_size.physical_size;
		if (pos > end)
			abort();
		check_tree(child, size);
	}
}

static void fetch_section(pool_t pool, const struct message_part *parts,
			  const uint8_t *data, size_t size, const char *spec)
{
	struct message_section section;
	struct message_section_result res;
	struct message_binary_result bres;
	const char *error;
	string_t *out = str_new(256);

	if (message_section_parse(pool, spec, &section, &error) < 0)
		abort();
	if (message_section_get(pool, parts, data, size, &section, &res) > 0) {
		if (res.data == NULL && res.offset + res.size > size)
			abort();
		message_section_result_append(&res, data, out);
		if (str_len(out) != res.virtual_size)
			abort();
	}
	str_truncate(out, 0);
	if (message_section_binary(parts, data, size, &section, out,
				   16 * 1024 * 1024, &bres) == 0 &&
	    bres.size != str_len(out))
		abort();
	str_free(&out);
}

static void fetch_sections(pool_t pool, const struct message_part *parts,
			   const uint8_t *data, size_t size)
{
	static const char *suffixes[] = {
		"", ".MIME", ".HEADER", ".TEXT",
		".HEADER.FIELDS (FROM SUBJECT)", ".HEADER.FIELDS.NOT (TO)",
	};
	static const char *top[] = {
		"", "HEADER", "TEXT", "HEADER.FIELDS (FROM TO SUBJECT)",
		"HEADER.FIELDS.NOT (FROM)",
	};
	char path[64], spec[128];
	unsigned int i, j, k, n = 0;

	for (i = 0; i < N_ELEMENTS(top); i++)
		fetch_section(pool, parts, data, size, top[i]);
	/* part numbers up to three levels deep */
	for (i = 1; i <= 4 && n < MAX_PATHS; i++) {
		for (j = 0; j <= 4 && n < MAX_PATHS; j++) {
			for (k = 0; k <= (j == 0 ? 0 : 3); k++, n++) {
				const struct message_part *part;

				if (j == 0)
					snprintf(path, sizeof(path), "%u", i);
				else if (k == 0)
					snprintf(path, sizeof(path), "%u.%u", i, j);
				else
					snprintf(path, sizeof(path), "%u.%u.%u",
						 i, j, k);
				if (message_part_find(parts, path, &part) <= 0)
					continue;
				for (unsigned int s = 0; s < N_ELEMENTS(suffixes); s++) {
					snprintf(spec, sizeof(spec), "%s%s", path,
						 suffixes[s]);
					fetch_section(pool, parts, data, size, spec);
				}
			}
		}
	}
}

static void headers(pool_t pool, const uint8_t *data, size_t size)
{
	struct message_header_iter iter;
	struct message_header_line line;
	string_t *str = str_new(256);
	time_t t;
	int tz;

	message_header_iter_init(&iter, data, size);
	while (message_header_iter_next(&iter, &line)) {
		str_truncate(str, 0);
		(void)message_header_decode_utf8(line.value, line.value_len,
						 str);
		(void)message_address_parse(pool, line.value, line.value_len,
					    100, 0);
		(void)message_date_parse(line.value, line.value_len, &t, &tz);
	}
	str_free(&str);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t pool = pool_create("fuzz", 16384);
	struct message_part *parts;
	string_t *str = str_new(1024);

	message_parse(pool, data, size, &parts);
	check_tree(parts, size);
	if (parts->header_size.physical_size +
	    parts->body_size.physical_size != size)
		abort();
	imap_envelope_write(parts->data->envelope, str);
	imap_bodystructure_write(parts, str, false);
	imap_bodystructure_write(parts, str, true);
	fetch_sections(pool, parts, data, size);
	headers(pool, data, size);
	str_free(&str);
	pool_destroy(&pool);
	return 0;
}

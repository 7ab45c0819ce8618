/* mime-probe.c - test-only program: parse one message file with Roost's
 * MIME code and print FETCH results the way Dovecot's imap prints them,
 * for tests/compat/mime-diff.py.
 *   mime-probe FILE [ITEM...]   one response per ITEM (default: ENVELOPE
 *                               BODYSTRUCTURE BODY RFC822.SIZE)
 *   mime-probe --items FILE     the items worth asking for this message
 * ITEM is ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE, BODY.PEEK[sec],
 * BINARY.PEEK[sec] or BINARY.SIZE[sec]. Each item prints its untagged
 * "* 1 FETCH (...)" line (literals included) and then a status line:
 * "f OK", "f NO [PARSE]", "f NO [UNKNOWN-CTE]", "f BAD" or "BYE" (where
 * Dovecot disconnects). */
#include "lib.h"
#include "pool.h"
#include "str.h"
#include "message-parser.h"
#include "message-section.h"
#include "imap-envelope.h"
#include "imap-bodystructure.h"
#include "array.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PROBE_PATHS 25

struct probe {
	pool_t pool;
	const unsigned char *data;
	size_t size;
	struct message_part *parts;
};

static void emit(const string_t *str)
{
	fwrite(str_c(str), 1, str_len(str), stdout);
}

static void emit_literal(string_t *out, const char *name, bool literal8,
			 const string_t *value)
{
	str_printfa(out, "* 1 FETCH (%s %s{%zu}\r\n", name,
		    literal8 ? "~" : "", str_len(value));
	str_append_str(out, value);
	str_append(out, ")\r\nf OK\r\n");
}

/* "BODY.PEEK[1.MIME]" -> name "BODY[1.MIME]", section "1.MIME" */
static bool split_item(const char *item, const char *prefix,
		       const char *name_prefix, string_t *name,
		       const char **section_r)
{
	const char *sec;
	size_t len;

	if (!str_begins(item, prefix, &sec))
		return false;
	len = strlen(sec);
	if (len == 0 || sec[len - 1] != ']')
		return false;
	str_append(name, name_prefix);
	str_append_n(name, sec, len);
	*section_r = i_strndup(sec, len - 1);
	return true;
}

static void probe_body_section(struct probe *p, const char *name,
			       const char *spec, string_t *out)
{
	struct message_section section;
	struct message_section_result res;
	const char *error;
	string_t *value = str_new(256);

	if (message_section_parse(p->pool, spec, &section, &error) < 0) {
		str_append(out, "f BAD\r\n");
	} else {
		(void)message_section_get(p->pool, p->parts, p->data, p->size,
					  &section, &res);
		message_section_result_append(&res, p->data, value);
		emit_literal(out, name, false, value);
	}
	str_free(&value);
}

static const char *binary_status(enum message_binary_error error)
{
	switch (error) {
	case MESSAGE_BINARY_OK:
		return "f OK";
	case MESSAGE_BINARY_ERR_UNKNOWN_CTE:
		return "f NO [UNKNOWN-CTE]";
	case MESSAGE_BINARY_ERR_INVALID:
		return "f NO [PARSE]";
	case MESSAGE_BINARY_ERR_TRUNCATED:
		return "BYE";
	case MESSAGE_BINARY_ERR_TOO_LARGE:
		return "f NO [LIMIT]";
	}
	return "?";
}

static bool whole_message_ok(struct probe *p,
			     struct message_binary_result *res_r)
{
	struct message_section all;

	memset(&all, 0, sizeof(all));
	all.part_path = "";
	all.type = MESSAGE_SECTION_BODY;
	return message_section_binary(p->parts, p->data, p->size, &all, NULL,
				      0, res_r) == 0;
}

static void probe_binary_section(struct probe *p, const char *name,
				 const char *spec, bool size_only,
				 string_t *out)
{
	struct message_section section;
	struct message_binary_result res;
	const char *error;
	string_t *value = str_new(256);

	if (message_section_parse(p->pool, spec, &section, &error) < 0) {
		str_append(out, "f BAD\r\n");
	} else if (size_only && !whole_message_ok(p, &res)) {
		/* Dovecot sizes any part by converting the whole message */
		str_printfa(out, "%s\r\n", binary_status(res.error));
	} else if (message_section_binary(p->parts, p->data, p->size,
					  &section, size_only ? NULL : value,
					  0, &res) < 0) {
		str_printfa(out, "%s\r\n", binary_status(res.error));
	} else if (size_only) {
		str_printfa(out, "* 1 FETCH (%s %" PRIu64 ")\r\nf OK\r\n",
			    name, res.size);
	} else {
		emit_literal(out, name, res.literal8, value);
	}
	str_free(&value);
}

static void probe_item(struct probe *p, const char *item, string_t *out)
{
	string_t *name = str_new(64);
	const char *spec;

	if (strcmp(item, "ENVELOPE") == 0) {
		str_append(out, "* 1 FETCH (ENVELOPE ");
		imap_envelope_write(p->parts->data->envelope, out);
		str_append(out, ")\r\nf OK\r\n");
	} else if (strcmp(item, "BODYSTRUCTURE") == 0 ||
		   strcmp(item, "BODY") == 0) {
		str_printfa(out, "* 1 FETCH (%s ", item);
		imap_bodystructure_write(p->parts, out,
					 strcmp(item, "BODY") != 0);
		str_append(out, ")\r\nf OK\r\n");
	} else if (strcmp(item, "RFC822.SIZE") == 0) {
		str_printfa(out, "* 1 FETCH (RFC822.SIZE %" PRIu64 ")\r\nf OK\r\n",
			    p->parts->header_size.virtual_size +
			    p->parts->body_size.virtual_size);
	} else if (split_item(item, "BODY.PEEK[", "BODY[", name, &spec)) {
		probe_body_section(p, str_c(name), spec, out);
		free((char *)spec);
	} else if (split_item(item, "BINARY.PEEK[", "BINARY[", name, &spec)) {
		probe_binary_section(p, str_c(name), spec, false, out);
		free((char *)spec);
	} else if (split_item(item, "BINARY.SIZE[", "BINARY.SIZE[", name,
			      &spec)) {
		probe_binary_section(p, str_c(name), spec, true, out);
		free((char *)spec);
	} else {
		str_append(out, "f BAD\r\n");
	}
	str_free(&name);
}

/* ---- --items ---- */

static void add_path_items(const struct message_part *part, const char *path,
			   bool *leaf_header_done, string_t *out)
{
	str_printfa(out, "BODY.PEEK[%s]\nBODY.PEEK[%s.MIME]\n"
		    "BINARY.PEEK[%s]\nBINARY.SIZE[%s]\n",
		    path, path, path, path);
	if ((part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) != 0) {
		str_printfa(out, "BODY.PEEK[%s.HEADER]\nBODY.PEEK[%s.TEXT]\n"
			    "BODY.PEEK[%s.HEADER.FIELDS (SUBJECT FROM)]\n",
			    path, path, path);
	} else if (!*leaf_header_done) {
		str_printfa(out, "BODY.PEEK[%s.HEADER]\nBODY.PEEK[%s.TEXT]\n",
			    path, path);
		*leaf_header_done = true;
	}
}

/* Breadth-first over part numbers, each part listed once. */
static void list_items(struct probe *p, string_t *out)
{
	ARRAY(char *) queue = ARRAY_INIT;
	ARRAY(const struct message_part *) seen = ARRAY_INIT;
	bool leaf_header_done = false;
	unsigned int qi, count = 0, i, n;

	str_append(out, "ENVELOPE\nBODYSTRUCTURE\nBODY\nRFC822.SIZE\n"
		   "BINARY.PEEK[]\nBINARY.SIZE[]\nBODY.PEEK[]\n"
		   "BODY.PEEK[HEADER]\nBODY.PEEK[TEXT]\n"
		   "BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT CONTENT-TYPE X-NONE)]\n"
		   "BODY.PEEK[HEADER.FIELDS.NOT (FROM TO SUBJECT CONTENT-TYPE)]\n"
		   "BODY.PEEK[1.1]\nBODY.PEEK[1.1.1]\nBODY.PEEK[2.1]\n");
	array_push(&queue, i_strdup(""));
	for (qi = 0; qi < queue.count && count < MAX_PROBE_PATHS; qi++) {
		for (n = 1; n <= MAX_PROBE_PATHS; n++) {
			const struct message_part *part;
			char *path = queue.v[qi][0] == '\0' ?
				i_strdup_printf("%u", n) :
				i_strdup_printf("%s.%u", queue.v[qi], n);
			bool dup = false;

			if (message_part_find(p->parts, path, &part) <= 0) {
				if (qi == 0)
					str_printfa(out, "BODY.PEEK[%s]\n", path);
				free(path);
				break;
			}
			for (i = 0; i < seen.count; i++)
				dup = dup || seen.v[i] == part;
			if (dup || count >= MAX_PROBE_PATHS) {
				free(path);
				break;
			}
			array_push(&seen, part);
			add_path_items(part, path, &leaf_header_done, out);
			array_push(&queue, path);
			count++;
		}
	}
	for (qi = 0; qi < queue.count; qi++)
		free(queue.v[qi]);
	array_free(&queue);
	array_free(&seen);
}

static int map_file(const char *path, struct probe *p)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "mime-probe: %s: %s\n", path, strerror(errno));
		return -1;
	}
	p->size = (size_t)st.st_size;
	p->data = p->size == 0 ? (const unsigned char *)"" :
		mmap(NULL, p->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p->data == MAP_FAILED) {
		fprintf(stderr, "mime-probe: mmap(%s): %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	static const char *defaults[] = {
		"ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE", NULL
	};
	struct probe p;
	bool items = argc > 1 && strcmp(argv[1], "--items") == 0;
	const char *const *list;
	string_t *out = str_new(4096);
	int first = items ? 2 : 1;

	if (argc <= first) {
		fprintf(stderr, "usage: mime-probe [--items] FILE [ITEM...]\n");
		return EXIT_USAGE;
	}
	memset(&p, 0, sizeof(p));
	if (map_file(argv[first], &p) < 0)
		return EXIT_NOTFOUND;
	p.pool = pool_create("mime-probe", 16384);
	message_parse(p.pool, p.data, p.size, &p.parts);
	if (items) {
		list_items(&p, out);
	} else {
		list = argc > first + 1 ? (const char *const *)argv + first + 1 :
			defaults;
		for (; *list != NULL; list++)
			probe_item(&p, *list, out);
	}
	emit(out);
	str_free(&out);
	pool_destroy(&p.pool);
	return 0;
}

/* check_message_parser.c - the MIME part tree of mailstore/message-parser.c:
 * offsets and physical/virtual sizes of simple, multipart, nested and
 * message/rfc822 messages, CRLF and LF files giving the same virtual
 * sizes, the nesting and part-count limits (10,000-deep nesting, 10,001
 * parts), and broken input: bad or missing boundaries, NULs, CR-only
 * lines, truncation at every byte, a declared 1 GB Content-Length. */
#include "suites.h"
#include "pool.h"
#include "str.h"
#include "message-parser.h"
#include "message-section.h"
#include "imap-bodystructure.h"

#include <dirent.h>
#include <stdio.h>
#include <time.h>

static struct message_part *parse(pool_t pool, const char *msg)
{
	struct message_part *parts;

	message_parse(pool, msg, strlen(msg), &parts);
	return parts;
}

static void assert_size(const struct message_size *s, uint64_t physical,
			uint64_t virtual_size, uint64_t lines)
{
	ck_assert_uint_eq(s->physical_size, physical);
	ck_assert_uint_eq(s->virtual_size, virtual_size);
	ck_assert_uint_eq(s->lines, lines);
}

static const struct message_part *
find(const struct message_part *parts, const char *path)
{
	const struct message_part *part;

	ck_assert_int_eq(message_part_find(parts, path, &part), 1);
	return part;
}

/* Every child lies inside its parent's body, siblings in order. */
static void check_tree(const struct message_part *part, size_t size)
{
	const struct message_part *child;
	uint64_t body = message_part_body_offset(part);
	uint64_t end = body + part->body_size.physical_size, pos = body;

	ck_assert_uint_le(end, size);
	ck_assert_uint_ge(part->header_size.virtual_size,
			  part->header_size.physical_size);
	ck_assert_uint_ge(part->body_size.virtual_size,
			  part->body_size.physical_size);
	for (child = part->children; child != NULL; child = child->next) {
		ck_assert_ptr_eq(child->parent, part);
		ck_assert_uint_eq(child->depth, part->depth + 1);
		ck_assert_uint_ge(child->physical_pos, pos);
		pos = message_part_body_offset(child) +
			child->body_size.physical_size;
		ck_assert_uint_le(pos, end);
		check_tree(child, size);
	}
}

static char *read_corpus(const char *name, size_t *size_r)
{
	const char *dir = getenv("ROOST_SRCDIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/tests/data/mime/%s",
		 dir != NULL ? dir : ".", name);
	return test_read_file(path, size_r);
}

/* ---- Core ---- */

START_TEST(test_simple)
{
	pool_t pool = pool_create("test", 1024);
	const char *msg = "Subject: hi\nFrom: a@b\n\nline 1\nline 2\n";
	struct message_part *p = parse(pool, msg);

	ck_assert_ptr_null(p->children);
	ck_assert_uint_eq(p->physical_pos, 0);
	assert_size(&p->header_size, 23, 26, 3);
	assert_size(&p->body_size, 14, 16, 2);
	ck_assert(p->flags & MESSAGE_PART_FLAG_TEXT);
	ck_assert(!(p->flags & MESSAGE_PART_FLAG_IS_MIME));
	ck_assert_str_eq(p->data->envelope->subject, "hi");
	ck_assert_ptr_null(p->data->content_type);
	ck_assert_uint_eq(message_part_count(p), 1);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_multipart_nested)
{
	pool_t pool = pool_create("test", 1024);
	const char *msg =
		"Content-Type: multipart/mixed; boundary=\"outer\"\n"
		"\n"
		"preamble\n"
		"--outer\n"
		"Content-Type: multipart/alternative; boundary=inner\n"
		"\n"
		"--inner\n"
		"Content-Type: text/plain\n"
		"\n"
		"plain\n"
		"--inner\n"
		"Content-Type: text/html\n"
		"\n"
		"<p>html</p>\n"
		"--inner--\n"
		"--outer\n"
		"Content-Type: image/png\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"iVBORw0K\n"
		"--outer--\n"
		"epilogue\n";
	struct message_part *p = parse(pool, msg);
	const struct message_part *alt, *plain, *html, *png;

	check_tree(p, strlen(msg));
	ck_assert(p->flags & MESSAGE_PART_FLAG_MULTIPART);
	ck_assert_uint_eq(p->children_count, 2);
	ck_assert_uint_eq(message_part_count(p), 5);
	alt = find(p, "1");
	ck_assert(alt->flags & MESSAGE_PART_FLAG_MULTIPART);
	ck_assert_str_eq(alt->data->content_subtype, "alternative");
	plain = find(p, "1.1");
	html = find(p, "1.2");
	png = find(p, "2");
	ck_assert_str_eq(plain->data->content_subtype, "plain");
	assert_size(&plain->body_size, 5, 5, 0);
	ck_assert_str_eq(html->data->content_subtype, "html");
	assert_size(&html->body_size, 11, 11, 0);
	ck_assert_str_eq(png->data->content_transfer_encoding, "base64");
	ck_assert_int_eq(png->data->cte, MESSAGE_CTE_BASE64);
	assert_size(&png->body_size, 8, 8, 0);
	ck_assert_uint_eq(memcmp(msg + message_part_body_offset(png),
				 "iVBORw0K", 8), 0);
	/* the root body runs to the end, epilogue included */
	ck_assert_uint_eq(message_part_body_offset(p) +
			  p->body_size.physical_size, strlen(msg));
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_message_rfc822)
{
	pool_t pool = pool_create("test", 1024);
	const char *msg =
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\n"
		"Content-Type: message/rfc822\n"
		"\n"
		"Subject: inner\n"
		"Content-Type: text/plain\n"
		"\n"
		"inner body\n"
		"--b--\n";
	struct message_part *p = parse(pool, msg);
	const struct message_part *rfc, *inner;

	check_tree(p, strlen(msg));
	rfc = find(p, "1");
	ck_assert(rfc->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822);
	ck_assert_uint_eq(rfc->children_count, 1);
	inner = rfc->children;
	ck_assert_str_eq(inner->data->envelope->subject, "inner");
	ck_assert_ptr_eq(find(p, "1.1"), inner);
	assert_size(&inner->body_size, 10, 10, 0);
	/* the embedded message is the rfc822 part's whole body */
	ck_assert_uint_eq(inner->physical_pos, message_part_body_offset(rfc));
	ck_assert_uint_eq(rfc->body_size.physical_size,
			  inner->header_size.physical_size +
			  inner->body_size.physical_size);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_digest_default)
{
	pool_t pool = pool_create("test", 1024);
	const char *msg =
		"Content-Type: multipart/digest; boundary=d\n\n"
		"--d\n\nSubject: one\n\nbody\n"
		"--d\nContent-Type: text/plain\n\nplain\n"
		"--d--\n";
	struct message_part *p = parse(pool, msg);

	ck_assert(find(p, "1")->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822);
	ck_assert_str_eq(find(p, "1")->children->data->envelope->subject,
			 "one");
	ck_assert(find(p, "2")->flags & MESSAGE_PART_FLAG_TEXT);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_prefix_boundaries)
{
	pool_t pool = pool_create("test", 1024);
	/* "--ab" inside "abc" closes it; "--abc--" in "ab" starts a part */
	const char *msg =
		"Content-Type: multipart/mixed; boundary=ab\n\n"
		"--ab\n"
		"Content-Type: multipart/mixed; boundary=abc\n\n"
		"--abc\n\nin\n"
		"--ab\n\nout\n"
		"--abc--\n"
		"--ab--\n";
	struct message_part *p = parse(pool, msg);

	check_tree(p, strlen(msg));
	ck_assert_uint_eq(p->children_count, 3);
	ck_assert_uint_eq(find(p, "1")->children_count, 1);
	assert_size(&find(p, "2")->body_size, 3, 3, 0);
	assert_size(&find(p, "3")->body_size, 0, 0, 0);
	pool_destroy(&pool);
}
END_TEST

/* Every corpus message parses the same way with CRLF line ends as with
   LF ones: same tree, same virtual sizes and line counts, and the same
   BODYSTRUCTURE. */
START_TEST(test_crlf_same_virtual_sizes)
{
	const char *dir = getenv("ROOST_SRCDIR");
	char path[4096];
	struct dirent *de;
	DIR *d;
	unsigned int count = 0;

	snprintf(path, sizeof(path), "%s/tests/data/mime",
		 dir != NULL ? dir : ".");
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		pool_t pool = pool_create("test", 4096);
		struct message_part *lf, *crlf;
		string_t *conv, *bs1, *bs2;
		size_t size, i;
		char *data;

		if (!str_ends(de->d_name, ".eml")) {
			pool_destroy(&pool);
			continue;
		}
		data = read_corpus(de->d_name, &size);
		conv = str_new(size * 2 + 1);
		for (i = 0; i < size; i++) {
			if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
				str_append_c(conv, '\r');
			str_append_c(conv, data[i]);
		}
		message_parse(pool, data, size, &lf);
		message_parse(pool, str_c(conv), str_len(conv), &crlf);
		bs1 = str_new(256);
		bs2 = str_new(256);
		imap_bodystructure_write(lf, bs1, true);
		imap_bodystructure_write(crlf, bs2, true);
		if (strcmp(str_c(bs1), str_c(bs2)) != 0)
			ck_abort_msg("%s: LF and CRLF differ:\n%s\n%s",
				     de->d_name, str_c(bs1), str_c(bs2));
		ck_assert_uint_eq(lf->header_size.virtual_size +
				  lf->body_size.virtual_size,
				  crlf->header_size.virtual_size +
				  crlf->body_size.virtual_size);
		ck_assert_uint_eq(crlf->header_size.physical_size +
				  crlf->body_size.physical_size, str_len(conv));
		check_tree(lf, size);
		check_tree(crlf, str_len(conv));
		str_free(&bs1);
		str_free(&bs2);
		str_free(&conv);
		free(data);
		pool_destroy(&pool);
		count++;
	}
	closedir(d);
	ck_assert_uint_ge(count, 40);
}
END_TEST

START_TEST(test_virtual_size_counting)
{
	pool_t pool = pool_create("test", 1024);
	/* LF = 2, CRLF = 2, lone CR = 1 */
	const char *msg = "A: b\r\n\na\nb\r\nc\rd";
	struct message_part *p = parse(pool, msg);

	assert_size(&p->header_size, 7, 8, 2);
	assert_size(&p->body_size, 8, 9, 2);
	pool_destroy(&pool);
}
END_TEST

/* ---- Limits ---- */

static char *deep_multipart(unsigned int depth, size_t *size_r)
{
	string_t *s = str_new(depth * 80);
	unsigned int i;

	for (i = 0; i < depth; i++) {
		str_printfa(s, "Content-Type: multipart/mixed; "
			    "boundary=\"l%u=\"\n\n--l%u=\n", i, i);
	}
	str_append(s, "Content-Type: text/plain\n\nleaf\n");
	for (i = depth; i-- > 0; )
		str_printfa(s, "--l%u=--\n", i);
	*size_r = str_len(s);
	return str_free_without_data(&s);
}

START_TEST(test_nesting_10000_multipart)
{
	pool_t pool = pool_create("test", 65536);
	struct message_part *p;
	const struct message_part *part;
	string_t *bs = str_new(65536);
	size_t size;
	char *msg = deep_multipart(10000, &size);

	message_parse(pool, msg, size, &p);
	check_tree(p, size);
	for (part = p; part->children != NULL; part = part->children)
		ck_assert(part->flags & MESSAGE_PART_FLAG_MULTIPART);
	/* a part with 99 ancestors cannot hold parts */
	ck_assert_uint_eq(part->depth,
			  MESSAGE_PARSER_DEFAULT_MAX_NESTED_MIME_PARTS - 1);
	ck_assert(part->flags & MESSAGE_PART_FLAG_OVERFLOW);
	ck_assert_uint_eq(message_part_count(p),
			  MESSAGE_PARSER_DEFAULT_MAX_NESTED_MIME_PARTS);
	imap_bodystructure_write(p, bs, true);
	ck_assert(strstr(str_c(bs), "\"application\" \"octet-stream\"") != NULL);
	str_free(&bs);
	free(msg);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_nesting_10000_rfc822)
{
	pool_t pool = pool_create("test", 65536);
	string_t *s = str_new(10000 * 48);
	struct message_part *p;
	const struct message_part *part;
	unsigned int i;

	for (i = 0; i < 10000; i++)
		str_append(s, "Content-Type: message/rfc822\n\n");
	str_append(s, "Subject: leaf\n\nleaf\n");
	message_parse(pool, str_c(s), str_len(s), &p);
	check_tree(p, str_len(s));
	for (part = p; part->children != NULL; part = part->children)
		ck_assert(part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822);
	ck_assert_uint_eq(part->depth, 99);
	ck_assert(part->flags & MESSAGE_PART_FLAG_OVERFLOW);
	str_free(&s);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_total_parts_limit)
{
	pool_t pool = pool_create("test", 65536);
	string_t *s = str_new(200000);
	struct message_part *p;
	const struct message_part *last;
	unsigned int i;

	str_append(s, "Content-Type: multipart/mixed; boundary=z\n\n");
	for (i = 0; i < 10001; i++)
		str_printfa(s, "--z\n\n%u\n", i);
	str_append(s, "--z--\n");
	message_parse(pool, str_c(s), str_len(s), &p);
	/* 10,000 parts with the root; the last one runs to the end */
	ck_assert_uint_eq(message_part_count(p),
			  MESSAGE_PARSER_DEFAULT_MAX_TOTAL_MIME_PARTS);
	for (last = p->children; last->next != NULL; last = last->next) ;
	ck_assert_uint_eq(message_part_body_offset(last) +
			  last->body_size.physical_size, str_len(s));
	str_free(&s);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_custom_limits)
{
	pool_t pool = pool_create("test", 4096);
	struct message_parser_settings set = {
		.max_nested_mime_parts = 3, .max_total_mime_parts = 5,
	};
	struct message_part *p;
	size_t size;
	char *msg = deep_multipart(10, &size);

	message_parse_settings(pool, msg, size, &set, &p);
	ck_assert_uint_eq(message_part_count(p), 3);
	free(msg);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_declared_1gb_length)
{
	pool_t pool = pool_create("test", 1024);
	const char *msg = "Content-Type: text/plain\n"
		"Content-Length: 1073741824\n\nshort body\n";
	struct message_part *p = parse(pool, msg);

	assert_size(&p->body_size, 11, 12, 1);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_long_line)
{
	pool_t pool = pool_create("test", 1024);
	size_t size = 4 * 1024 * 1024;
	char *msg = malloc(size);
	struct message_part *p;

	memcpy(msg, "Subject: ", 9);
	memset(msg + 9, 'x', size - 9);
	message_parse(pool, msg, size, &p);
	assert_size(&p->header_size, size, size, 0);
	assert_size(&p->body_size, 0, 0, 0);
	free(msg);
	pool_destroy(&pool);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_broken_boundaries)
{
	pool_t pool = pool_create("test", 1024);
	const char *msg =
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\nContent-Type: text/plain\nno blank line\n"
		"--b\nContent-Type: text/plain\n"
		"--b\n"
		"--bxyz\nContent-Type: image/gif\n\nzz\n"
		"--b-- trailing\nepilogue\n--b\nmore\n";
	struct message_part *p = parse(pool, msg);

	check_tree(p, strlen(msg));
	ck_assert_uint_eq(p->children_count, 4);
	/* a header running into a boundary loses its line end */
	assert_size(&find(p, "1")->header_size, 38, 39, 1);
	assert_size(&find(p, "1")->body_size, 0, 0, 0);
	assert_size(&find(p, "3")->header_size, 0, 0, 0);
	assert_size(&find(p, "4")->body_size, 2, 2, 0);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_missing_final_boundary)
{
	pool_t pool = pool_create("test", 1024);
	const char *msg =
		"Content-Type: multipart/mixed; boundary=o\n\n"
		"--o\nContent-Type: multipart/alternative; boundary=i\n\n"
		"--i\n\nplain\n--i\n\nsecond";
	struct message_part *p = parse(pool, msg);

	check_tree(p, strlen(msg));
	assert_size(&find(p, "1.2")->body_size, 6, 6, 0);
	ck_assert_uint_eq(message_part_body_offset(p) +
			  p->body_size.physical_size, strlen(msg));
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_multipart_without_boundary)
{
	pool_t pool = pool_create("test", 1024);
	struct message_part *p =
		parse(pool, "Content-Type: multipart/mixed\n\n--x\n\nbody\n");
	const struct message_part *part;

	ck_assert(p->flags & MESSAGE_PART_FLAG_MULTIPART);
	ck_assert_ptr_null(p->children);
	ck_assert_int_eq(message_part_find(p, "1", &part), 0);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_nul_bytes)
{
	pool_t pool = pool_create("test", 1024);
	static const char msg[] = "Subject: a\0b\nContent-Type: multipart/"
		"mixed; boundary=n\n\n--n\n\nbo\0dy\n--n--\n";
	struct message_part *p;

	message_parse(pool, msg, sizeof(msg) - 1, &p);
	ck_assert(p->flags & MESSAGE_PART_FLAG_HAS_NULS);
	ck_assert_str_eq(p->data->envelope->subject, "a\xef\xbf\xbd" "b");
	ck_assert(find(p, "1")->flags & MESSAGE_PART_FLAG_HAS_NULS);
	assert_size(&find(p, "1")->body_size, 5, 5, 0);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_cr_only_lines)
{
	pool_t pool = pool_create("test", 1024);
	const char *msg = "Subject: x\rContent-Type: text/plain\r\rbody\r";
	struct message_part *p = parse(pool, msg);

	/* no LF at all: the whole message is one header line */
	assert_size(&p->header_size, strlen(msg), strlen(msg), 0);
	assert_size(&p->body_size, 0, 0, 0);
	pool_destroy(&pool);
}
END_TEST

START_TEST(test_empty_and_tiny)
{
	static const char *msgs[] = {
		"", "\n", "\r\n", "-", "--", "\n--", "Subject", ":", " x\n",
		"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n",
		"Content-Type: multipart/mixed; boundary=b\n\n--b",
		"Content-Type: message/rfc822\n\n",
		"Content-Type: message/rfc822",
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(msgs); i++) {
		pool_t pool = pool_create("test", 1024);
		struct message_part *p = parse(pool, msgs[i]);

		check_tree(p, strlen(msgs[i]));
		ck_assert_uint_eq(p->header_size.physical_size +
				  p->body_size.physical_size, strlen(msgs[i]));
		pool_destroy(&pool);
	}
}
END_TEST

/* A message cut at every byte still gives a consistent tree. */
START_TEST(test_truncated_everywhere)
{
	size_t size, len;
	char *data = read_corpus("04-html-attachments.eml", &size);

	for (len = 0; len <= size; len++) {
		pool_t pool = pool_create("test", 4096);
		struct message_part *p;
		string_t *bs = str_new(256);

		message_parse(pool, data, len, &p);
		check_tree(p, len);
		ck_assert_uint_eq(p->header_size.physical_size +
				  p->body_size.physical_size, len);
		imap_bodystructure_write(p, bs, true);
		str_free(&bs);
		pool_destroy(&pool);
	}
	free(data);
}
END_TEST

Suite *make_message_parser_suite(void)
{
	Suite *s = suite_create("message_parser");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_simple);
	tcase_add_test(tc, test_multipart_nested);
	tcase_add_test(tc, test_message_rfc822);
	tcase_add_test(tc, test_digest_default);
	tcase_add_test(tc, test_prefix_boundaries);
	tcase_add_test(tc, test_crlf_same_virtual_sizes);
	tcase_add_test(tc, test_virtual_size_counting);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_nesting_10000_multipart);
	tcase_add_test(tc, test_nesting_10000_rfc822);
	tcase_add_test(tc, test_total_parts_limit);
	tcase_add_test(tc, test_custom_limits);
	tcase_add_test(tc, test_declared_1gb_length);
	tcase_add_test(tc, test_long_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_broken_boundaries);
	tcase_add_test(tc, test_missing_final_boundary);
	tcase_add_test(tc, test_multipart_without_boundary);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_test(tc, test_cr_only_lines);
	tcase_add_test(tc, test_empty_and_tiny);
	tcase_add_test(tc, test_truncated_everywhere);
	suite_add_tcase(s, tc);
	return s;
}

/* check_imap_parser.c - unit tests of daemon/imap/imap-parser.h: whole
 * and byte-at-a-time feeding give the same args, literals (synchronizing
 * with their continuation, LITERAL+, literal8, APPEND's LITERAL_SIZE
 * stop), BODY[...] atoms, the count stop for tag and command name, and
 * every limit and malformed case. */
#include "suites.h"
#include "imap-parser.h"
#include "str.h"

#define MAX_SIZE 1024

/* Feed str whole (step 0) or step bytes at a time; returns the last
 * read's result, *consumed_r total bytes used. */
static int feed(struct imap_parser *parser, const char *str, size_t len,
		size_t step, enum imap_parse_flags flags, unsigned int count,
		size_t *consumed_r, unsigned int *conts_r)
{
	size_t pos = 0, used;
	int ret = 0;

	*conts_r = 0;
	while (pos < len) {
		size_t n = step == 0 ? len - pos : MIN(step, len - pos);

		ret = imap_parser_read(parser, (const unsigned char *)str + pos,
				       n, &used, flags, count);
		pos += used;
		if (imap_parser_want_continuation(parser))
			(*conts_r)++;
		if (ret != 0)
			break;
		if (used < n)
			break;
	}
	*consumed_r = pos;
	return ret;
}

/* Render args back as text for comparison. */
static void render(const struct imap_arg *args, string_t *dest)
{
	for (; !imap_arg_is_eol(args); args++) {
		if (str_len(dest) > 0 && str_c(dest)[str_len(dest) - 1] != '(')
			str_append_c(dest, ' ');
		switch (args->type) {
		case IMAP_ARG_NIL:
			str_append(dest, "NIL");
			break;
		case IMAP_ARG_ATOM:
			str_printfa(dest, "A:%s", args->str);
			break;
		case IMAP_ARG_STRING:
			str_printfa(dest, "S:%s", args->str);
			break;
		case IMAP_ARG_LITERAL:
			str_printfa(dest, "L%s:%s", args->literal8 ? "8" : "",
				    args->str);
			break;
		case IMAP_ARG_LIST:
			str_append_c(dest, '(');
			render(args->list, dest);
			str_append_c(dest, ')');
			break;
		case IMAP_ARG_LITERAL_SIZE:
			str_printfa(dest, "SIZE%s:%llu", args->literal_sync ?
				    "" : "+", (unsigned long long)args->literal_size);
			break;
		case IMAP_ARG_EOL:
			break;
		}
	}
}

static void check_parse(const char *input, const char *expected,
			unsigned int expected_conts)
{
	for (size_t step = 0; step <= 3; step++) {
		struct imap_parser *parser = imap_parser_create(MAX_SIZE);
		string_t *out = str_new(64);
		size_t used;
		unsigned int conts;
		int ret = feed(parser, input, strlen(input), step, 0, 0,
			       &used, &conts);

		ck_assert_int_eq(ret, 1);
		ck_assert_uint_eq(used, strlen(input));
		ck_assert_uint_eq(conts, expected_conts);
		render(imap_parser_get_args(parser, NULL), out);
		ck_assert_str_eq(str_c(out), expected);
		str_free(&out);
		imap_parser_destroy(&parser);
	}
}

START_TEST(test_basic)
{
	check_parse("a1 NOOP\r\n", "A:a1 A:NOOP", 0);
	check_parse("a1 nil NIL \"x y\" \"\" \"q\\\"\\\\\"\r\n",
		    "A:a1 NIL NIL S:x y S: S:q\"\\", 0);
	check_parse("t LOGIN {5}\r\nalice {3+}\r\npwd\r\n",
		    "A:t A:LOGIN L:alice L:pwd", 1);
	check_parse("t X {0}\r\n\r\n", "A:t A:X L:", 1);
	check_parse("t (a (b c) ()) d\n", "A:t (A:a (A:b A:c) ()) A:d", 0);
	check_parse("t FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10> "
		    "BODY[] FLAGS)\r\n",
		    "A:t A:FETCH A:1:* (A:BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10> "
		    "A:BODY[] A:FLAGS)", 0);
	check_parse("t STORE 1 +FLAGS (\\Seen $Label1)\r\n",
		    "A:t A:STORE A:1 A:+FLAGS (A:\\Seen A:$Label1)", 0);
	check_parse("t LIST \"\" %.*\r\n", "A:t A:LIST S: A:%.*", 0);
	/* a literal may hold anything, CRLF included */
	check_parse("t X {4}\r\na\r\nb\r\n", "A:t A:X L:a\r\nb", 1);
}
END_TEST

START_TEST(test_count_stop)
{
	struct imap_parser *parser = imap_parser_create(MAX_SIZE);
	const char *input = "tag UID FETCH 1 FLAGS\r\n";
	size_t used, total = 0;
	unsigned int count;
	const struct imap_arg *args;

	ck_assert_int_eq(imap_parser_read(parser, (const void *)input,
					  strlen(input), &used, 0, 2), 1);
	total += used;
	args = imap_parser_get_args(parser, &count);
	ck_assert_uint_eq(count, 2);
	ck_assert_str_eq(args[1].str, "UID");
	ck_assert_int_eq(imap_parser_read(parser, (const unsigned char *)input + total,
					  strlen(input) - total, &used, 0, 3), 1);
	total += used;
	args = imap_parser_get_args(parser, &count);
	ck_assert_uint_eq(count, 3);
	ck_assert_int_eq(imap_parser_read(parser, (const unsigned char *)input + total,
					  strlen(input) - total, &used, 0, 0), 1);
	total += used;
	ck_assert_uint_eq(total, strlen(input));
	args = imap_parser_get_args(parser, &count);
	ck_assert_uint_eq(count, 5);
	ck_assert_str_eq(args[4].str, "FLAGS");
	ck_assert(imap_arg_is_eol(&args[5]));
	imap_parser_destroy(&parser);
}
END_TEST

START_TEST(test_literal_size_stop)
{
	struct imap_parser *parser = imap_parser_create(MAX_SIZE);
	const char *input = "a APPEND INBOX (\\Seen) ~{5000000000+}\r\nDATA";
	size_t used;
	unsigned int count;
	const struct imap_arg *args;

	ck_assert_int_eq(imap_parser_read(parser, (const void *)input,
					  strlen(input), &used,
					  IMAP_PARSE_FLAG_LITERAL_SIZE |
					  IMAP_PARSE_FLAG_LITERAL8, 0), 1);
	/* stops right after the CRLF: the data is the caller's */
	ck_assert_uint_eq(used, strlen(input) - 4);
	args = imap_parser_get_args(parser, &count);
	ck_assert_uint_eq(count, 5);
	ck_assert_int_eq(args[4].type, IMAP_ARG_LITERAL_SIZE);
	ck_assert(args[4].literal8);
	ck_assert(!args[4].literal_sync);
	ck_assert_uint_eq(args[4].literal_size, 5000000000ULL);
	imap_parser_destroy(&parser);

	/* a literal inside a list only gives its size and parsing goes on
	   (Dovecot): the stop is at the top-level literal */
	parser = imap_parser_create(MAX_SIZE);
	input = "a APPEND INBOX ({2}\r\nxy) {3}\r\nabc";
	ck_assert_int_eq(imap_parser_read(parser, (const void *)input,
					  strlen(input), &used,
					  IMAP_PARSE_FLAG_LITERAL_SIZE, 0), 1);
	ck_assert_uint_eq(used, strlen(input) - 3);
	ck_assert(!imap_parser_want_continuation(parser));
	args = imap_parser_get_args(parser, &count);
	ck_assert_uint_eq(count, 5);
	ck_assert_int_eq(args[3].type, IMAP_ARG_LIST);
	ck_assert_int_eq(args[3].list[0].type, IMAP_ARG_LITERAL_SIZE);
	ck_assert_int_eq(args[3].list[1].type, IMAP_ARG_ATOM);
	ck_assert_int_eq(args[4].type, IMAP_ARG_LITERAL_SIZE);
	ck_assert_uint_eq(args[4].literal_size, 3);
	imap_parser_destroy(&parser);

	/* '~' without '{' starts an atom, literal8 allowed or not */
	parser = imap_parser_create(MAX_SIZE);
	input = "a APPEND ~/Mail ~ ~{3}\r\n";
	ck_assert_int_eq(imap_parser_read(parser, (const void *)input,
					  strlen(input), &used,
					  IMAP_PARSE_FLAG_LITERAL_SIZE |
					  IMAP_PARSE_FLAG_LITERAL8, 0), 1);
	args = imap_parser_get_args(parser, &count);
	ck_assert_uint_eq(count, 5);
	ck_assert_str_eq(args[2].str, "~/Mail");
	ck_assert_str_eq(args[3].str, "~");
	ck_assert_int_eq(args[4].type, IMAP_ARG_LITERAL_SIZE);
	ck_assert(args[4].literal8);
	imap_parser_destroy(&parser);
}
END_TEST

static void check_error(const char *input, const char *error, bool fatal,
			enum imap_parse_flags flags)
{
	struct imap_parser *parser = imap_parser_create(64);
	size_t used;
	unsigned int conts;
	bool is_fatal;

	ck_assert_int_eq(feed(parser, input, strlen(input), 0, flags, 0,
			      &used, &conts), -1);
	ck_assert_str_eq(imap_parser_get_error(parser, &is_fatal), error);
	ck_assert(is_fatal == fatal);
	ck_assert_uint_eq(conts, 0);
	imap_parser_destroy(&parser);
}

START_TEST(test_errors)
{
	check_error("t X )\r\n", "Unexpected ')'", false, 0);
	check_error("t X (a (b)\r\n", "Missing ')'", false, 0);
	check_error("t X \"abc\r\n", "Missing '\"'", false, 0);
	check_error("t X a\"b\r\n", "Invalid characters in atom", false, 0);
	check_error("t X a\001b\r\n", "Invalid characters in atom", false, 0);
	check_error("t X {abc}\r\n", "Invalid literal size", false, 0);
	check_error("t X {}\r\n", "Invalid literal size", false, 0);
	check_error("t X {99999999999999999999999}\r\n", "Invalid literal size", false, 0);
	/* refused before a byte of it is read */
	check_error("t X {4294967296}\r\n", "Literal size too large", true, 0);
	check_error("t X {100+}\r\n", "Literal size too large", true, 0);
	check_error("t X {5000+}\r\n", "Non-synchronizing literal size too large",
		    true, IMAP_PARSE_FLAG_LITERAL_MINUS);
	check_error("t X {5+}\r\n", "Invalid literal size", false,
		    IMAP_PARSE_FLAG_NO_LITERAL_PLUS);
	check_error("t X 0123456789012345678901234567890123456789"
		    "012345678901234567890123456789\r\n", "Too long argument.",
		    false, 0);
	check_error("t BODY[HEADER\r\n", "Missing ']'", false, 0);
}
END_TEST

START_TEST(test_nul)
{
	struct imap_parser *parser = imap_parser_create(64);
	const unsigned char input[] = "t X a\0b\r\n";
	size_t used;
	bool fatal;

	ck_assert_int_eq(imap_parser_read(parser, input, sizeof(input) - 1,
					  &used, 0, 0), -1);
	ck_assert_str_eq(imap_parser_get_error(parser, &fatal),
			 "NULs not allowed in command");
	imap_parser_destroy(&parser);
}
END_TEST

START_TEST(test_depth_and_reset)
{
	struct imap_parser *parser = imap_parser_create(4096);
	string_t *deep = str_new(256);
	size_t used;
	bool fatal;
	bool found;

	str_append(deep, "t X ");
	for (unsigned int i = 0; i <= IMAP_PARSER_MAX_DEPTH; i++)
		str_append_c(deep, '(');
	str_append(deep, "\r\nnext\r\n");
	ck_assert_int_eq(imap_parser_read(parser, (const void *)str_c(deep),
					  str_len(deep), &used, 0, 0), -1);
	ck_assert_str_eq(imap_parser_get_error(parser, &fatal),
			 "Too deep list nesting");
	/* the caller skips the rest of the line and starts over */
	used += imap_parser_skip_line((const unsigned char *)str_c(deep) + used,
				      str_len(deep) - used, &found);
	ck_assert(found);
	ck_assert_str_eq(str_c(deep) + used, "next\r\n");
	imap_parser_reset(parser);
	ck_assert(!imap_parser_is_started(parser));
	ck_assert_int_eq(imap_parser_read(parser, (const unsigned char *)str_c(deep) + used,
					  6, &used, 0, 0), 1);
	str_free(&deep);
	imap_parser_destroy(&parser);
}
END_TEST

/* CATENATE (RFC 4469): a literal in its list stops the read; the caller
 * takes the data and reads on inside the list */
START_TEST(test_catenate_literal_stop)
{
	struct imap_parser *parser = imap_parser_create(MAX_SIZE);
	const char *input = "a APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\" "
		"TEXT ~{3+}\r\nx)y URL u) {2}\r\n";
	const char *p = input;
	const struct imap_arg *args, *list;
	unsigned int count;
	size_t used;

	ck_assert_int_eq(imap_parser_read(parser, (const void *)p, strlen(p),
					  &used, IMAP_PARSE_FLAG_LITERAL_SIZE |
					  IMAP_PARSE_FLAG_LITERAL8, 0), 0);
	ck_assert(imap_parser_literal_pending(parser));
	p += used;
	ck_assert_int_eq(strncmp(p, "x)y URL", 7), 0);
	args = imap_parser_get_args(parser, &count);
	ck_assert_uint_eq(count, 4);
	ck_assert_str_eq(args[3].str, "CATENATE");
	list = imap_parser_get_open_list(parser, &count);
	ck_assert_uint_eq(count, 4);
	ck_assert_str_eq(list[1].str, "/INBOX/;UID=1");
	ck_assert_int_eq(list[3].type, IMAP_ARG_LITERAL_SIZE);
	ck_assert(list[3].literal8);
	ck_assert_uint_eq(list[3].literal_size, 3);
	/* the caller consumed the 3 bytes */
	p += 3;
	ck_assert_int_eq(imap_parser_read(parser, (const void *)p, strlen(p),
					  &used, IMAP_PARSE_FLAG_LITERAL_SIZE |
					  IMAP_PARSE_FLAG_LITERAL8, 0), 1);
	ck_assert(!imap_parser_literal_pending(parser));
	args = imap_parser_get_args(parser, &count);
	ck_assert_uint_eq(count, 6);
	ck_assert_int_eq(args[4].type, IMAP_ARG_LIST);
	ck_assert_uint_eq(args[4].list_count, 6);
	ck_assert_str_eq(args[4].list[5].str, "u");
	ck_assert_int_eq(args[5].type, IMAP_ARG_LITERAL_SIZE);
	imap_parser_destroy(&parser);

	/* other lists keep Dovecot's way: no stop */
	parser = imap_parser_create(MAX_SIZE);
	input = "a APPEND INBOX (x {1}\r\ny) {1}\r\n";
	ck_assert_int_eq(imap_parser_read(parser, (const void *)input,
					  strlen(input), &used,
					  IMAP_PARSE_FLAG_LITERAL_SIZE, 0), 1);
	ck_assert(!imap_parser_literal_pending(parser));
	imap_parser_destroy(&parser);
}
END_TEST

Suite *make_imap_parser_suite(void)
{
	Suite *s = suite_create("imap_parser");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_count_stop);
	tcase_add_test(tc, test_literal_size_stop);
	tcase_add_test(tc, test_catenate_literal_stop);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_depth_and_reset);
	suite_add_tcase(s, tc);
	return s;
}

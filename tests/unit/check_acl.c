/* check_acl.c - the acl plugin's vfile parser and writer
 * (mailstore/acl.h): identifiers, rights letters and names, the
 * obsolete c/d, comments, replaced lines, errors; the orders Dovecot
 * writes (file, GETACL) and shows (MYRIGHTS). */
#include "suites.h"
#include "acl.h"

#include <stdio.h>

static const char *entries_str(ARRAY_ACL *entries)
{
	static char buf[1024];
	string_t *str = str_new(256);

	acl_entries_sort(entries);
	for (size_t i = 0; i < entries->count; i++) {
		acl_entry_write(str, &entries->v[i]);
		str_append_c(str, '\n');
	}
	snprintf(buf, sizeof(buf), "%s", str_c(str));
	str_free(&str);
	return buf;
}

static int parse(const char *text, ARRAY_ACL *entries, char *err,
		 size_t errsize)
{
	return acl_vfile_parse(text, strlen(text), entries, err, errsize);
}

START_TEST(test_vfile_parse)
{
	ARRAY_ACL entries = ARRAY_INIT;
	char err[256];

	ck_assert_int_eq(parse("# comment\n\n  user=bob lr\n"
			       "-user=bob w\ngroup=staff lrwstipekxa\n"
			       "owner a\r\nanyone l\nauthenticated :read\n"
			       "group-override=admins cd\n"
			       "user=carol\tlr :write-seen :unknown-right\n",
			       &entries, err, sizeof(err)), 0);
	ck_assert_uint_eq(entries.count, 8);
	ck_assert_str_eq(entries_str(&entries),
			 "anyone l\n"
			 "authenticated r\n"
			 "group=staff akxeilprwts\n"
			 "owner a\n"
			 "user=bob lr\n"
			 "-user=bob w\n"
			 "user=carol lrs\n"
			 "group-override=admins kxet\n");
	acl_entries_free(&entries);

	/* a later line for the same identifier replaces */
	ck_assert_int_eq(parse("user=bob lr\nuser=bob w", &entries, err,
			       sizeof(err)), 0);
	ck_assert_str_eq(entries_str(&entries), "user=bob w\n");
	acl_entries_free(&entries);

	/* an identifier without rights is kept with none */
	ck_assert_int_eq(parse("user=x", &entries, err, sizeof(err)), 0);
	ck_assert_uint_eq(entries.count, 1);
	ck_assert_uint_eq(entries.v[0].rights, 0);
	acl_entries_free(&entries);
}
END_TEST

START_TEST(test_vfile_errors)
{
	ARRAY_ACL entries = ARRAY_INIT;
	char err[256];

	ck_assert_int_eq(parse("user=bob lrz\n", &entries, err,
			       sizeof(err)), -1);
	ck_assert_str_eq(err, "line 1: Unknown ACL right 'z'");
	acl_entries_free(&entries);
	ck_assert_int_eq(parse("\nbob lr\n", &entries, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "line 2: Unknown ACL identifier: bob");
	acl_entries_free(&entries);
	ck_assert_int_eq(parse("user= lr\n", &entries, err, sizeof(err)), -1);
	acl_entries_free(&entries);
	ck_assert_int_eq(parse("user=a\0b lr\n", &entries, err,
			       sizeof(err)), 0);	/* strlen stops at NUL */
	acl_entries_free(&entries);
	ck_assert_int_eq(acl_vfile_parse("user=a\0b lr\n", 12, &entries, err,
					 sizeof(err)), -1);
	ck_assert_str_eq(err, "line 1: NUL byte");
	acl_entries_free(&entries);
}
END_TEST

START_TEST(test_rights_letters)
{
	string_t *str = str_new(64);
	unsigned int rights;
	char bad = 0;

	acl_rights_append(str, ACL_ALL_RIGHTS, true, true);
	ck_assert_str_eq(str_c(str), "lrwstipekxacd");
	str_clear(str);
	acl_rights_append(str, ACL_ALL_RIGHTS, false, true);
	ck_assert_str_eq(str_c(str), "akxeilprwtscd");
	str_clear(str);
	acl_rights_append(str, ACL_DELETE, false, true);
	ck_assert_str_eq(str_c(str), "xc");
	str_clear(str);
	acl_rights_append(str, ACL_LOOKUP | ACL_READ | ACL_ADMIN, false, true);
	ck_assert_str_eq(str_c(str), "alr");
	str_clear(str);
	acl_rights_append(str, ACL_LOOKUP | ACL_READ | ACL_ADMIN, true, true);
	ck_assert_str_eq(str_c(str), "lra");
	str_free(&str);

	ck_assert_int_eq(acl_rights_parse_imap("cd", &rights, &bad), 0);
	ck_assert_uint_eq(rights, ACL_CREATE | ACL_DELETE | ACL_EXPUNGE |
			  ACL_WRITE_DELETED);
	ck_assert_int_eq(acl_rights_parse_imap("", &rights, &bad), 0);
	ck_assert_uint_eq(rights, 0);
	ck_assert_int_eq(acl_rights_parse_imap("lrZ", &rights, &bad), -1);
	ck_assert_int_eq(bad, 'Z');
}
END_TEST

START_TEST(test_global_parse)
{
	static const char file[] =
		"# global ACLs\n"
		"Pub owner lr\n"
		"P?b user=bob lrw\n"
		"Pu* user=carol l\n"
		"* user=dan l\n"
		"Other anyone lrwstipekxa\n";
	ARRAY_ACL entries = ARRAY_INIT;
	char err[256];

	ck_assert_int_eq(acl_global_parse(file, strlen(file), "Pub", &entries,
					  err, sizeof(err)), 0);
	ck_assert_uint_eq(entries.count, 4);
	for (size_t i = 0; i < entries.count; i++)
		ck_assert(entries.v[i].global);
	ck_assert_str_eq(entries_str(&entries),
			 "owner lr\nuser=bob lrw\nuser=carol l\nuser=dan l\n");
	acl_entries_free(&entries);
	ck_assert_int_eq(acl_global_parse(file, strlen(file), "INBOX",
					  &entries, err, sizeof(err)), 0);
	ck_assert_str_eq(entries_str(&entries), "user=dan l\n");
	acl_entries_free(&entries);
	ck_assert_int_eq(acl_global_parse("x user=a l\n* bad l\n", 18, "y",
					  &entries, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "line 2: Unknown ACL identifier: bad");
	acl_entries_free(&entries);
}
END_TEST

/* Matching lines of one identifier add up (Dovecot 2.3: "* owner lrsk"
 * and "Pub owner lrk" give lrsk on Pub, whichever comes first);
 * negative ones too, apart from the positive. */
START_TEST(test_global_union)
{
	static const char file[] =
		"Pub owner lrk\n"
		"* owner lrs\n"
		"* -user=bob w\n"
		"P* -user=bob e\n"
		"Other owner a\n";
	ARRAY_ACL entries = ARRAY_INIT;
	char err[256];

	ck_assert_int_eq(acl_global_parse(file, strlen(file), "Pub", &entries,
					  err, sizeof(err)), 0);
	ck_assert_uint_eq(entries.count, 2);
	ck_assert_str_eq(entries_str(&entries), "owner klrs\n-user=bob ew\n");
	acl_entries_free(&entries);
}
END_TEST

Suite *make_acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_vfile_parse);
	tcase_add_test(tc, test_vfile_errors);
	tcase_add_test(tc, test_rights_letters);
	tcase_add_test(tc, test_global_parse);
	tcase_add_test(tc, test_global_union);
	suite_add_tcase(s, tc);
	return s;
}

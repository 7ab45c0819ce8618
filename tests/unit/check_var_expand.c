/* check_var_expand.c - unit tests of confparse/var-expand.c: Dovecot's
 * `%` variables. The expected strings were printed by Dovecot 2.3.19's
 * own var_expand() for the same templates and values. */
#include "suites.h"
#include "str.h"
#include "var-expand.h"

#include <stdio.h>
#include <stdlib.h>

static const struct var_expand_table table[] = {
	{ 'u', "dave@example.com", "user" },
	{ 'n', "dave", "username" },
	{ 'd', "example.com", "domain" },
	{ 's', "imap", "service" },
	{ 'p', "1234", "pid" },
	{ 'i', "5000", "uid" },
	{ 'v', "1795663238", NULL },
	{ 'b', "22", NULL },
	{ 'w', "a\\b\"c'd  ", "password" },
	{ 'h', NULL, "home" },
	{ 'c', "", "secured" },
	{ 'x', "-42", "neg" },
	{ 'y', "sub.domain.org", "fqdn" },
	{ 'm', "Dave@Example.COM", NULL },
	{ 'e', "18446744073709551615", NULL },
	{ 'f', "18446744073709551616", NULL },
	{ 'k', " x \t\r\n\v\f ", NULL },
	{ 'q', "%u%{user}", "percent" },
	{ '\0', "vm", "hostname" },
	{ '\0', "X5IkgSVhSKt/AAAB", "session" },
	{ '\0', NULL, NULL }
};

/* userdb:NAME[:default] - "home" exists, "fail" fails, "empty" is "". */
static int func_userdb(const char *data, void *context,
		       const char **value_r, const char **error_r)
{
	const char *colon = strchr(data, ':');
	size_t len = colon == NULL ? strlen(data) : (size_t)(colon - data);

	ck_assert_ptr_eq(context, (void *)table);
	if (len == 4 && memcmp(data, "home", 4) == 0)
		*value_r = "/home/dave";
	else if (len == 4 && memcmp(data, "fail", 4) == 0) {
		*error_r = "userdb lookup failed";
		return -1;
	} else if (len == 5 && memcmp(data, "empty", 5) == 0)
		*value_r = "";
	else
		*value_r = colon == NULL ? NULL : colon + 1; /* into data */
	return 1;
}

static int func_zero(const char *data ATTR_UNUSED, void *context ATTR_UNUSED,
		     const char **value_r ATTR_UNUSED,
		     const char **error_r ATTR_UNUSED)
{
	return 0;
}

static int func_silent_fail(const char *data ATTR_UNUSED,
			    void *context ATTR_UNUSED,
			    const char **value_r ATTR_UNUSED,
			    const char **error_r ATTR_UNUSED)
{
	return -1;
}

static const struct var_expand_func_table funcs[] = {
	{ "userdb", func_userdb },
	{ "zero", func_zero },
	{ "silent", func_silent_fail },
	{ NULL, NULL }
};

static string_t *result;
static const char *result_error;

/* Expand and return the status; the text is in result. */
static int expand(const char *template)
{
	str_truncate(result, 0);
	result_error = NULL;
	return var_expand(result, template, table, funcs, (void *)table,
			  &result_error);
}

/* template must expand fully to want. */
static void ok_(const char *template, const char *want, int line)
{
	int ret = expand(template);

	ck_assert_msg(ret == 1, "line %d: %s: ret %d (%s)", line, template,
		      ret, result_error == NULL ? "" : result_error);
	ck_assert_msg(strcmp(str_c(result), want) == 0,
		      "line %d: %s: got '%s', want '%s'", line, template,
		      str_c(result), want);
}
#define ok(template, want) ok_(template, want, __LINE__)

/* template must return ret with this text and error. */
static void fail_(const char *template, int want_ret, const char *want,
		  const char *want_error, int line)
{
	int ret = expand(template);

	ck_assert_msg(ret == want_ret, "line %d: %s: ret %d, want %d (%s)",
		      line, template, ret, want_ret,
		      result_error == NULL ? "" : result_error);
	if (want != NULL) {
		ck_assert_msg(strcmp(str_c(result), want) == 0,
			      "line %d: %s: got '%s', want '%s'", line,
			      template, str_c(result), want);
	}
	ck_assert_msg(result_error != NULL &&
		      strcmp(result_error, want_error) == 0,
		      "line %d: %s: error '%s', want '%s'", line, template,
		      result_error == NULL ? "(null)" : result_error,
		      want_error);
}
#define unknown(template, want, error) fail_(template, 0, want, error, __LINE__)
#define bad(template, error) fail_(template, -1, NULL, error, __LINE__)

static void setup(void)
{
	result = str_new(64);
}

static void teardown(void)
{
	str_free(&result);
}

/* ---- Core ---- */

START_TEST(test_plain_variables)
{
	ok("", "");
	ok("no variables", "no variables");
	ok("%u", "dave@example.com");
	ok("%n@%d", "dave@example.com");
	ok("%{user} %{username} %{domain}",
	   "dave@example.com dave example.com");
	ok("%%", "%");
	ok("%%u", "%u");
	ok("%%%%u", "%%u");
	ok("100%", "100");	/* a lone % at the end is dropped */
	ok("%h|%{home}|%c", "||"); /* NULL and "" values */
	ok("%{hostname}", "vm");
	/* values are never expanded again */
	ok("%q", "%u%{user}");
	ok("%{percent}", "%u%{user}");
}
END_TEST

START_TEST(test_dovecot_defaults)
{
	ok("%s(%u)<%{pid}><%{session}>: ",
	   "imap(dave@example.com)<1234><X5IkgSVhSKt/AAAB>: ");
	ok("%08Xb%08Xv", "000000166b07a586"); /* pop3_uidl_format */
	ok("postmaster@%{if;%d;ne;;%d;%{hostname}}",
	   "postmaster@example.com");
	ok("postmaster@%{if;%c;ne;;%c;%{hostname}}", "postmaster@vm");
	ok("%Lm", "dave@example.com"); /* auth_username_format */
	ok("/var/mail/%d/%n", "/var/mail/example.com/dave");
}
END_TEST

START_TEST(test_unknown_variables)
{
	unknown("%Z", "UNSUPPORTED_VARIABLE_Z", "Unknown variable '%Z'");
	unknown("a%{nosuch}b", "aUNSUPPORTED_VARIABLE_nosuchb",
		"Unknown variable '%nosuch'");
	unknown("%{user:x}", "UNSUPPORTED_VARIABLE_user",
		"Unknown variable '%user'");
	unknown("%{foo;bar:x}", "UNSUPPORTED_VARIABLE_foo;bar",
		"Unknown variable '%foo;bar'");
	unknown("%{}", "UNSUPPORTED_VARIABLE_", "Unknown variable '%'");
	/* modifiers and widths leave the marker alone */
	unknown("%LZ|%3{nosuchvar}", "UNSUPPORTED_VARIABLE_Z|"
		"UNSUPPORTED_VARIABLE_nosuchvar",
		"Unknown variable '%nosuchvar'");
	/* a modifier letter is taken as the key after a width */
	unknown("%R3u", "UNSUPPORTED_VARIABLE_3u", "Unknown variable '%3'");
	unknown("%Z{user}", "UNSUPPORTED_VARIABLE_Z{user}",
		"Unknown variable '%Z'");
	/* Dovecot names the first short one, or else the last long one */
	unknown("%Z%Y", NULL, "Unknown variable '%Z'");
	unknown("%{aa}%{bb}", NULL, "Unknown variable '%bb'");
	unknown("%Z%{aa}", NULL, "Unknown variable '%aa'");
	unknown("%{aa}%Z", NULL, "Unknown variable '%aa'");
	/* everything else still expands */
	unknown("%Z-%u", "UNSUPPORTED_VARIABLE_Z-dave@example.com",
		"Unknown variable '%Z'");
}
END_TEST

START_TEST(test_case_reverse_trim)
{
	ok("%Uu", "DAVE@EXAMPLE.COM");
	ok("%U{user}", "DAVE@EXAMPLE.COM");
	ok("%Lm", "dave@example.com");
	ok("%Ru", "moc.elpmaxe@evad");
	ok("%RLm", "moc.elpmaxe@evad");
	ok("%LUm", "DAVE@EXAMPLE.COM"); /* left to right */
	ok("%ULm", "dave@example.com");
	ok("%Tk|", " x|");
	ok("%Tw|", "a\\b\"c'd|");
	ok("%Tc|", "|");
	ok("%Ew", "a\\\\b\\\"c\\'d  ");
	ok("%U%", "%"); /* %% with a modifier */
	ok("%U%{user}", "%{user}");
}
END_TEST

START_TEST(test_hex_md5_dn)
{
	ok("%Xi", "1388");
	ok("%X{uid}", "1388");
	ok("%Xe", "ffffffffffffffff");
	ok("%Xf", "0");	/* too large */
	ok("%Xx", "0");	/* negative */
	ok("%Xu", "0");	/* not a number */
	ok("%Mu", "6c1265401f75f9840d9c267655954800");
	ok("%3Mi", "a35");
	ok("%MXi", "0");
	ok("%Dd", "example,dc=com");
	ok("%Dy", "sub,dc=domain,dc=org");
	ok("%Dn", "dave");
	ok("%D{fqdn}", "sub,dc=domain,dc=org");
}
END_TEST

START_TEST(test_hash_modifiers)
{
	/* the values Dovecot printed in settings-2.3.md §8 are of "dave" */
	ok("%Hn", "6a8c5");
	ok("%Nn", "43cc90e3");
	ok("%Hu", "4e1acd");
	ok("%Nu", "1f75f984");
	ok("%Hm", "7078ad");
	ok("%Hh", "0");
	/* width is a modulus, offset a zero padding */
	ok("%256Nu", "84");
	ok("%2.256Nu", "84");
	ok("%2.256Hu", "cd");
	ok("%8.16Nu", "00000004");
	ok("%3.1Nu", "000");
	ok("%1000003Nu", "21981"); /* modulus of the 64-bit value */
	ok("%4.5Hm", "0000");
	ok("%4.5HNm", "14474e40"); /* used up by the first one */
	ok("%08Hm", "5");
	ok("%.-5Hu", "4e1acd");	/* a negative width is no modulus */
	ok("%3RHu", "1");
}
END_TEST

START_TEST(test_width_offset)
{
	ok("%3u", "dav");
	ok("%1.2u", "av");
	ok("%.3u", "dav");
	ok("%-3u", "dav");	/* a lone width's sign is ignored */
	ok("%-3.u", "com");
	ok("%-3.2u", "co");
	ok("%-2.2i", "00");
	ok("%0.-2u", "dave@example.c");
	ok("%3.-1u", "e@example.co");
	ok("%-3.-1u", "co");
	ok("%-3.-3u", "");
	ok("%-3.-5u", "com");	/* more than there is: nothing dropped */
	ok("%100u", "dave@example.com");
	ok("%20.5u", "");
	ok("%-20u", "dave@example.com");
	ok("%-20.3u", "dav");
	ok("%0u", "dave@example.com");
	ok("%3{user}", "dav");
	ok("%1.2{user}", "av");
	ok("%3Ru", "moc");	/* the substring is taken last */
	/* zero padding: padded, never truncated */
	ok("%04i", "5000");
	ok("%06i", "005000");
	ok("%1.04i", "0000");
	ok("%020u", "0000dave@example.com");
	ok("%2.020u", "000000ve@example.com");
	ok("%.-05u", "dave@exampl");
	ok("%-5.03u", "e.com");
	ok("%08Xb", "00000016");
}
END_TEST

START_TEST(test_if)
{
	ok("%{if;%d;ne;;has-domain;no-domain}", "has-domain");
	ok("%{if;%c;ne;;has;none}", "none");
	ok("%{if;%u;eq;dave@example.com;%Uu;no}", "DAVE@EXAMPLE.COM");
	ok("%{if;%{if;%u;eq;x;a;b};eq;b;B;A}", "B");
	ok("%{if;a;eq;b;y}", "");	/* four arguments */
	ok("%{if;a;eq;b;y;}", "");	/* an empty last one does not count */
	ok("%L{if;a;eq;a;XY;n}", "xy");
	ok("%5{if;a;eq;a;123456789;n}", "12345");
	/* numbers */
	ok("%{if;1;==;01;y;n}", "y");
	ok("%{if;1;!=;1;y;n}", "n");
	ok("%{if;-1;<;1;y;n}", "y");
	ok("%{if;2;<=;2;y;n}", "y");
	ok("%{if;10;>;9;y;n}", "y");
	ok("%{if;9;>=;10;y;n}", "n");
	ok("%{if;9223372036854775807;>;-9223372036854775808;y;n}", "y");
	/* strings */
	ok("%{if;10;gt;9;y;n}", "n");
	ok("%{if;a;lt;b;y;n}", "y");
	ok("%{if;b;le;a;y;n}", "n");
	ok("%{if;B;lt;a;y;n}", "y");
	ok("%{if;b;ge;b;y;n}", "y");
	/* wildcards and regular expressions */
	ok("%{if;abc;*;a*;y;n}", "y");
	ok("%{if;abc;!*;a*;y;n}", "n");
	ok("%{if;a.c;*;a?c;y;n}", "y");
	ok("%{if;A;*;a;y;n}", "n");
	ok("%{if;abc;*;*b*;y;n}", "y");
	ok("%{if;abc;~;^a.c$;y;n}", "y");
	ok("%{if;abc;!~;^a.c$;y;n}", "n");
	ok("%{if;abc;~;B;y;n}", "n");
	ok("%{if;dave;~;^[a-z]{4}$;y;n}", "y"); /* braces balance */
	/* escapes: unescaped, then expanded */
	ok("%{if;a\\;b;eq;a\\;b;y;n}", "y");
	ok("%{if;a;eq;a;x\\}y;n}", "x}y");
	ok("%{if;a;eq;a;x\\:y;n}", "x:y");
	ok("%{if;a;eq;a;\\%u;n}", "dave@example.com");
	ok("%{if;a;eq;a;%%;n}", "%");
	ok("%{if;a;eq;a;\\;;n}", ";");
	/* an unescaped ':' ends the arguments, as in Dovecot */
	ok("%{if;a;eq;a;x:y;n}", "x");
	/* a ':' inside a nested variable does not */
	ok("%{if;%{userdb:home};eq;/home/dave;y;n}", "y");
	/* an unknown variable in any argument: nothing comes out */
	unknown("%{if;a;eq;a;y;%Z}x", "x", "Unknown variable '%Z'");
	unknown("%{if;%Z;bogus;a;b;c}", "", "Unknown variable '%Z'");
}
END_TEST

START_TEST(test_hash_functions)
{
	ok("%{md5:user}", "6c1265401f75f9840d9c267655954800");
	ok("%{sha1:username}", "bfcdf3e6ca6cef45543bfbb57509c92aec9a39fb");
	ok("%{sha256:user}", "7b34211350ff567970974e1e2b98d319"
	   "a601969e74fd1a957bc889b8332d00eb");
	ok("%{sha3-256:user}", "260e06222e5c03d9f0878adeceaa2019"
	   "353872f91c1c136d2b2d7f7513fad8a5");
	ok("%{md4:home}", "31d6cfe0d16ae931b73c59d7e0c089c0");
	ok("%{md4:user}", "d80e18f608e385702e6454fbe273aa8e");
	ok("%{md5;truncate=12:user}", "06c1");
	ok("%{md5;truncate=7:user}", "36");
	ok("%{md5;truncate=1000:user}", "6c1265401f75f9840d9c267655954800");
	ok("%{sha1;truncate=32:user}", "e0c7c774");
	ok("%{md5;format=base64:user}", "bBJlQB91+YQNnCZ2VZVIAA==");
	ok("%{md5;format=base64,truncate=20:user}", "BsEm");
	ok("%{md5;format=hexuc:user}", "6c1265401f75f9840d9c267655954800");
	ok("%{md5;rounds=2:user}", "fcbe7142d9481474831afd6232efaf0d");
	ok("%{md5;salt=abc:user}", "1b9fa953ad578d8b465e47e0b01b5158");
	ok("%{md5;salt=%n:user}", "bb60a51c9af26f9690bec2fb7a8f839f");
	ok("%{md5;rounds=3,salt=abc:user}", "8f55ff86f26269d890fd1d1cd0e0b0a9");
	/* nothing after salt= is read, as in Dovecot */
	ok("%{md5;salt=abc,rounds=3:user}", "1b9fa953ad578d8b465e47e0b01b5158");
	ok("%{md5;bogus=1:user}", "6c1265401f75f9840d9c267655954800");
	ok("%U{md5:user}", "6C1265401F75F9840D9C267655954800");
	ok("%3{md5:user}", "6c1");
	/* the field may be a function call */
	ok("%{md5:userdb:home}", "3a97d30b2496e06b89ec0e12526282ee");
	ok("%{md5:md5:user}", "cb998b64176f1819e1799a2c8cc710a1");
	/* an unknown field: nothing comes out */
	unknown("%{md5:nosuch}x", "x", "Unknown variable '%nosuch'");
	unknown("%{md5:u}", "", "Unknown variable '%u'");
	unknown("%{md5:}", "", "Unknown variable '%'");
	unknown("%{sha224:user}", "UNSUPPORTED_VARIABLE_sha224",
		"Unknown variable '%sha224'");
}
END_TEST

START_TEST(test_functions)
{
	ok("%{userdb:home}", "/home/dave");
	ok("%{userdb:nope:default}", "default"); /* value points into data */
	ok("%{userdb:nope}|%{userdb}|%{userdb:empty}", "||");
	ok("%U{userdb:home}", "/HOME/DAVE");
	ok("%2.3{userdb:home}", "ome");
	unknown("%{zero:x}y", "y", "Unknown variable '%zero'");
	unknown("%{userdb;x:home}", "UNSUPPORTED_VARIABLE_userdb;x",
		"Unknown variable '%userdb;x'");
	bad("%{userdb:fail}", "userdb lookup failed");
	bad("%{silent:x}", "%{silent:...} failed");
	bad("%Z%{userdb:fail}", "userdb lookup failed");
	bad("%{if;a;eq;a;y;%{userdb:fail}}", "userdb lookup failed");

	setenv("ROOST_VAR_EXPAND_TEST", "env-value", 1);
	ok("%{env:ROOST_VAR_EXPAND_TEST}", "env-value");
	ok("%{env:ROOST_VAR_EXPAND_NOT_SET}|%{env:}", "|");
	unknown("%{ENV:HOME}", "UNSUPPORTED_VARIABLE_ENV",
		"Unknown variable '%ENV'");
}
END_TEST

START_TEST(test_null_tables)
{
	string_t *s = str_new(16);
	const char *error = NULL;

	ck_assert_int_eq(var_expand(s, "a%%b%{env:}", NULL, NULL, NULL,
				    &error), 1);
	ck_assert_str_eq(str_c(s), "a%b");
	ck_assert_int_eq(var_expand(s, "%u", NULL, NULL, NULL, &error), 0);
	ck_assert_str_eq(str_c(s), "a%bUNSUPPORTED_VARIABLE_u");
	ck_assert_str_eq(error, "Unknown variable '%u'");
	str_free(&s);
}
END_TEST

START_TEST(test_has_key)
{
	ck_assert(var_has_key("%n", 'n', "username"));
	ck_assert(var_has_key("%3.2Ln", 'n', NULL));
	ck_assert(var_has_key("x%{username}", 'n', "username"));
	ck_assert(var_has_key("%L{username}", '\0', "username"));
	ck_assert(!var_has_key("%{username}", 'n', NULL));
	ck_assert(!var_has_key("%%n", 'n', "username"));
	ck_assert(!var_has_key("%u", 'n', "username"));
	ck_assert(!var_has_key("%{username:x}", 'n', "username"));
	ck_assert(!var_has_key("%{username", 'n', "username"));
	ck_assert(!var_has_key("x%", 'n', "username"));
	/* also where Dovecot's own check does not look */
	ck_assert(var_has_key("%{if;%n;eq;a;b;c}", 'n', "username"));
	ck_assert(var_has_key("%{if;a;eq;%{if;%{username};eq;a;b;c};b;c}",
			      'n', "username"));
	ck_assert(var_has_key("%{md5:username}", 'n', "username"));
	ck_assert(var_has_key("%{md5;salt=%n:user}", 'n', "username"));
	ck_assert(var_has_key("%{sha1:md5:username}", 'n', "username"));
	ck_assert(!var_has_key("%{userdb:username}", 'n', "username"));
	ck_assert(!var_has_key("%{if;a;eq;b;%u;c}", 'n', "username"));
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_huge_widths)
{
	char buf[128];

	ok("%99999999999999999999u", "dave@example.com");
	ok("%99999999999999999999.2u", "");
	ok("%-99999999999999999999.2u", "da");
	ok("%.-99999999999999999999u", "dave@example.com");
	ok("%4294967296Hu", "4e1acd");

	snprintf(buf, sizeof(buf), "%%0%du", VAR_EXPAND_MAX_PAD);
	ck_assert_int_eq(expand(buf), 1);
	ck_assert_uint_eq(str_len(result), VAR_EXPAND_MAX_PAD);
	ck_assert(str_c(result)[0] == '0');
	ck_assert(str_ends(str_c(result), "0dave@example.com"));
	snprintf(buf, sizeof(buf), "%%0%du", VAR_EXPAND_MAX_PAD + 1);
	bad(buf, "Padding width 65537 exceeds the limit of 65536");
	bad("%099999999999999999999u",
	    "Padding width 2147483647 exceeds the limit of 65536");
	bad("%100000.5Hu", "Padding width 100000 exceeds the limit of 65536");
	bad("%{md5;rounds=100001:user}",
	    "Cannot parse hash arguments:rounds must be at most 100000");
	bad("%{md5;rounds=99999999999:user}", "Cannot parse hash arguments:"
	    "'99999999999' is not number for rounds");
}
END_TEST

/* n nested %{if}s around "deep". */
static char *nested_ifs(unsigned int n)
{
	string_t *s = str_new(64);

	for (unsigned int i = 0; i < n; i++)
		str_append(s, "%{if;a;eq;a;");
	str_append(s, "deep");
	for (unsigned int i = 0; i < n; i++)
		str_append(s, ";n}");
	return str_free_without_data(&s);
}

START_TEST(test_deep_nesting)
{
	char *text = nested_ifs(VAR_EXPAND_MAX_DEPTH);
	string_t *s = str_new(64);

	ok(text, "deep");
	free(text);
	text = nested_ifs(VAR_EXPAND_MAX_DEPTH + 1);
	bad(text, "Variables nested too deeply (limit 32)");
	free(text);
	text = nested_ifs(5000);
	bad(text, "Variables nested too deeply (limit 32)");
	free(text);

	/* hash fields nest too */
	for (unsigned int i = 0; i < 40; i++)
		str_append(s, "md5:");
	str_insert(s, 0, "%{");
	str_append(s, "user}");
	bad(str_c(s), "Variables nested too deeply (limit 32)");
	str_free(&s);

	/* plain braces nest without limit, nothing recurses */
	s = str_new(64);
	str_append(s, "%{");
	for (unsigned int i = 0; i < 10000; i++)
		str_append_c(s, '{');
	for (unsigned int i = 0; i < 10001; i++)
		str_append_c(s, '}');
	ck_assert_int_eq(expand(str_c(s)), 0);
	str_free(&s);
}
END_TEST

START_TEST(test_big_input)
{
	const size_t size = 1024 * 1024;
	char *text = i_malloc(size + 1);

	memset(text, 'x', size);
	text[size] = '\0';
	ok(text, text);

	/* 1 MB of %u */
	for (size_t i = 0; i + 1 < size; i += 2) {
		text[i] = '%';
		text[i + 1] = 'u';
	}
	ck_assert_int_eq(expand(text), 1);
	ck_assert_uint_eq(str_len(result),
			  size / 2 * strlen("dave@example.com"));

	/* 1 MB inside one %{if} */
	memset(text, 'y', size);
	memcpy(text, "%{if;a;eq;a;", 12);
	memcpy(text + size - 3, ";n}", 3);
	ck_assert_int_eq(expand(text), 1);
	ck_assert_uint_eq(str_len(result), size - 15);

	/* 1 MB with an unterminated %{ at the start */
	memset(text, 'z', size);
	memcpy(text, "%{", 2);
	bad(text, "Missing '}' after "
	    "'%{zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'");

	/* a 1 MB unknown name: the error stays short */
	memset(text, 'n', size);
	memcpy(text, "%{", 2);
	text[size - 1] = '}';
	ck_assert_int_eq(expand(text), 0);
	ck_assert_uint_lt(strlen(result_error), 300);
	free(text);
}
END_TEST

START_TEST(test_growth)
{
	string_t *s = str_new(64);

	/* each E doubles the backslashes */
	str_append_c(s, '%');
	for (unsigned int i = 0; i < 40; i++)
		str_append_c(s, 'E');
	str_append_c(s, 'w');
	bad(str_c(s), "Expanded value is longer than 1048576 bytes");
	str_free(&s);

	/* 2 MB of output from a short template (%0NNNN pads) */
	s = str_new(64);
	for (unsigned int i = 0; i < 40; i++)
		str_printfa(s, "%%0%du", VAR_EXPAND_MAX_PAD);
	ck_assert_int_eq(expand(str_c(s)), 1);
	ck_assert_uint_eq(str_len(result), 40 * VAR_EXPAND_MAX_PAD);
	/* past 16 MB the expansion stops */
	for (unsigned int i = 0; i < 300; i++)
		str_printfa(s, "%%0%du", VAR_EXPAND_MAX_PAD);
	bad(str_c(s), "Expansion is longer than 16777216 bytes");
	str_free(&s);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_malformed_braces)
{
	bad("%{user", "Missing '}' after '%{user'");
	bad("x%{user}y%{", "Missing '}' after '%{'");
	bad("%{if;a;eq;b", "Missing '}' after '%{if;a;eq;b'");
	bad("%{us\\}", "Missing '}' after '%{us\\}'");
	bad("%{a{b}", "Missing '}' after '%{a{b}'");
	ok("%{user}}", "dave@example.com}");
	unknown("%{us}er}", "UNSUPPORTED_VARIABLE_user}",
		"Unknown variable '%us'");
}
END_TEST

START_TEST(test_malformed_percent)
{
	ok("%", "");
	ok("abc%", "abc");
	ok("%L", "");
	ok("%LU", "");
	ok("%3", "");
	ok("%-1.-", "");
	ok("%3%%", "%");
	ok("%X%", "0");
	unknown("% user", "UNSUPPORTED_VARIABLE_ user",
		"Unknown variable '% '");
	unknown("%{ user}", "UNSUPPORTED_VARIABLE_ user",
		"Unknown variable '% user'");
	unknown("%\\", "UNSUPPORTED_VARIABLE_\\", "Unknown variable '%\\'");
}
END_TEST

START_TEST(test_malformed_if)
{
	bad("%{if;a;bogus;b;y;n}", "if: Unsupported comparator 'bogus'");
	bad("%{if;a;;b;y;n}", "if: Unsupported comparator ''");
	bad("%{if}", "if: missing parameter(s)");
	bad("%{if;}", "if: requires four or five parameters, got 0");
	bad("%{if;;}", "if: requires four or five parameters, got 1");
	bad("%{if;a;eq;a}", "if: requires four or five parameters, got 3");
	bad("%{if;a;eq;a;}", "if: requires four or five parameters, got 3");
	bad("%{if;a;eq;a;y;n;z}",
	    "if: requires four or five parameters, got 6");
	bad("%{if;a;==;1;y;n}", "if: a (lhs) is not a number");
	bad("%{if;1;==;b;y;n}", "if: b (rhs) is not a number");
	bad("%{if;+1;==;1;y;n}", "if: +1 (lhs) is not a number");
	bad("%{if; 1;==;1;y;n}", "if:  1 (lhs) is not a number");
	bad("%{if;;==;0;y;n}", "if:  (lhs) is not a number");
	bad("%{if;9223372036854775808;>;1;y;n}",
	    "if: 9223372036854775808 (lhs) is not a number");
	bad("%{if;abc;~;[;y;n}",
	    "if: regex failed: Invalid regular expression");
	bad("%{if;a;eq;a;%{userdb:fail};n}", "userdb lookup failed");
	/* the first error stops the expansion */
	bad("%{if;a;x;b;c}%{if;}", "if: Unsupported comparator 'x'");
}
END_TEST

START_TEST(test_malformed_hash)
{
	bad("%{md5;format=HEX:user}",
	    "Cannot parse hash arguments:'HEX' is not supported format");
	bad("%{md5;rounds=x:user}",
	    "Cannot parse hash arguments:'x' is not number for rounds");
	bad("%{md5;rounds=0:user}",
	    "Cannot parse hash arguments:rounds must be at least 1");
	bad("%{md5;truncate=:user}",
	    "Cannot parse hash arguments:'' is not number for truncbits");
	/* bad arguments go unnoticed when the field is unknown */
	unknown("%{md5;rounds=0:nosuch}", "", "Unknown variable '%nosuch'");
	unknown("%{md5}", "", "Unknown variable '%'");
}
END_TEST

/* Every prefix of these must come back in one piece (run under ASan). */
START_TEST(test_malformed_prefixes)
{
	static const char *const templates[] = {
		"%2.256Hu/%{if;%{userdb:home};~;^/h[a-z]{2}$;"
		"%-3.-1{md5;salt=%n,rounds=2:user};x\\;y}",
		"%{sha1;truncate=20,format=base64:userdb:nope:def}"
		"%E{if;%u;*;*@*;\\%\\:;%%}",
		"%-08.010LURXHNMDTu%{%{%{}}}\\",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(templates); i++) {
		size_t len = strlen(templates[i]);

		for (size_t n = 0; n <= len; n++) {
			char *prefix = i_strndup(templates[i], n);
			int ret = expand(prefix);

			ck_assert(ret >= -1 && ret <= 1);
			ck_assert(ret == 1 || result_error != NULL);
			ck_assert_uint_eq(strlen(str_c(result)),
					  str_len(result));
			(void)var_has_key(prefix, 'u', "user");
			free(prefix);
		}
	}
}
END_TEST

Suite *make_var_expand_suite(void)
{
	Suite *s = suite_create("var_expand");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_variables);
	tcase_add_test(tc, test_dovecot_defaults);
	tcase_add_test(tc, test_unknown_variables);
	tcase_add_test(tc, test_case_reverse_trim);
	tcase_add_test(tc, test_hex_md5_dn);
	tcase_add_test(tc, test_hash_modifiers);
	tcase_add_test(tc, test_width_offset);
	tcase_add_test(tc, test_if);
	tcase_add_test(tc, test_hash_functions);
	tcase_add_test(tc, test_functions);
	tcase_add_test(tc, test_null_tables);
	tcase_add_test(tc, test_has_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_huge_widths);
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_big_input);
	tcase_add_test(tc, test_growth);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_malformed_braces);
	tcase_add_test(tc, test_malformed_percent);
	tcase_add_test(tc, test_malformed_if);
	tcase_add_test(tc, test_malformed_hash);
	tcase_add_test(tc, test_malformed_prefixes);
	suite_add_tcase(s, tc);
	return s;
}

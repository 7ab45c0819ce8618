/* check_auth_db.c - unit tests of the passdb/userdb drivers that need no
 * system database (passwd-file, static, prefetch, checkpassword), the
 * driver registries and auth-fields. PAM, passwd and shadow run through
 * real stacks in tests/integration/auth-pam.sh. */
#include "suites.h"
#include "auth-fields.h"
#include "passdb.h"
#include "userdb.h"
#include "db-checkpassword.h"
#include "db-passwd-file.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pool_t pool;
static const char *dir;

static void setup(void)
{
	pool = pool_create("check_auth_db", 4096);
	dir = test_tmpdir_create();
	test_log_capture_start();
}

static void teardown(void)
{
	test_log_capture_stop();
	test_tmpdir_remove();
	pool_destroy(&pool);
}

static struct auth_lookup *lookup_new(const char *user)
{
	struct auth_lookup *lookup = p_new(pool, struct auth_lookup, 1);

	lookup->pool = pool;
	lookup->user = p_strdup(pool, user);
	lookup->original_user = lookup->user;
	lookup->service = "imap";
	lookup->remote_ip = "192.0.2.10";
	lookup->local_ip = "192.0.2.1";
	lookup->mech = "PLAIN";
	lookup->extra_fields = auth_fields_new(pool);
	return lookup;
}

static struct passdb_module *passdb_new(const char *driver, const char *args)
{
	const struct passdb_driver *d = passdb_driver_find(driver);
	struct passdb_module *module = NULL;
	const char *error = NULL;

	ck_assert_ptr_nonnull(d);
	ck_assert_msg(d->create(pool, args, &module, &error) == 0,
		      "create %s '%s': %s", driver, args, error);
	ck_assert_ptr_eq(module->driver, d);
	return module;
}

static const char *passdb_error(const char *driver, const char *args)
{
	const struct passdb_driver *d = passdb_driver_find(driver);
	struct passdb_module *module = NULL;
	const char *error = NULL;

	ck_assert_int_eq(d->create(pool, args, &module, &error), -1);
	ck_assert_ptr_nonnull(error);
	return error;
}

static struct userdb_module *userdb_new(const char *driver, const char *args)
{
	const struct userdb_driver *d = userdb_driver_find(driver);
	struct userdb_module *module = NULL;
	const char *error = NULL;

	ck_assert_ptr_nonnull(d);
	ck_assert_msg(d->create(pool, args, &module, &error) == 0,
		      "create %s '%s': %s", driver, args, error);
	ck_assert_ptr_eq(module->driver, d);
	return module;
}

static void passdb_free(struct passdb_module *module)
{
	if (module->driver->deinit != NULL)
		module->driver->deinit(module);
}

static void userdb_free(struct userdb_module *module)
{
	if (module->driver->deinit != NULL)
		module->driver->deinit(module);
}

static enum passdb_result verify(struct passdb_module *module,
				 struct auth_lookup *lookup,
				 const char *password)
{
	return module->driver->verify_plain(module, lookup, password);
}

static enum userdb_result ulookup(struct userdb_module *module,
				  struct auth_lookup *lookup)
{
	return module->driver->lookup(module, lookup);
}

static char *write_file(const char *name, const char *text)
{
	return test_write_file(dir, name, text, strlen(text));
}

static const char *field(struct auth_lookup *lookup, const char *key)
{
	return auth_fields_get(lookup->extra_fields, key);
}

static bool log_has(const char *text)
{
	return strstr(test_log_captured(), text) != NULL;
}

#define ck_assert_log(text) \
	ck_assert_msg(log_has(text), "log lacks '%s'; log:\n%s", (text), \
		      test_log_captured())

/* ---- auth-fields ---- */

START_TEST(test_fields_basic)
{
	struct auth_fields *f = auth_fields_new(pool);
	const char *key, *value;

	ck_assert_uint_eq(auth_fields_count(f), 0);
	ck_assert_ptr_null(auth_fields_get(f, "a"));
	auth_fields_set(f, "a", "1");
	auth_fields_set(f, "nologin", NULL);
	auth_fields_set(f, "b", "");
	ck_assert_uint_eq(auth_fields_count(f), 3);
	ck_assert_str_eq(auth_fields_get(f, "a"), "1");
	ck_assert_str_eq(auth_fields_get(f, "nologin"), "");
	ck_assert_str_eq(auth_fields_get(f, "b"), "");
	ck_assert(auth_fields_exists(f, "nologin"));
	ck_assert(!auth_fields_exists(f, "A"));
	/* replacing keeps the position */
	auth_fields_set(f, "a", "2");
	auth_fields_get_idx(f, 0, &key, &value);
	ck_assert_str_eq(key, "a");
	ck_assert_str_eq(value, "2");
	auth_fields_get_idx(f, 1, &key, &value);
	ck_assert_str_eq(key, "nologin");
	ck_assert_ptr_null(value);
	auth_fields_remove(f, "nologin");
	auth_fields_remove(f, "nosuch");
	ck_assert_uint_eq(auth_fields_count(f), 2);
	auth_fields_get_idx(f, 1, &key, &value);
	ck_assert_str_eq(key, "b");
	/* many fields: the array grows */
	for (unsigned int i = 0; i < 1000; i++) {
		char k[32];

		snprintf(k, sizeof(k), "k%u", i);
		auth_fields_set(f, k, k);
	}
	ck_assert_uint_eq(auth_fields_count(f), 1002);
	ck_assert_str_eq(auth_fields_get(f, "k999"), "k999");
}
END_TEST

START_TEST(test_fields_import)
{
	struct auth_fields *f = auth_fields_new(pool);
	const char *key, *value;

	auth_fields_import(f, "  a=1 flag  c= d=x=y =nokey e   ");
	ck_assert_uint_eq(auth_fields_count(f), 5);
	ck_assert_str_eq(auth_fields_get(f, "a"), "1");
	auth_fields_get_idx(f, 1, &key, &value);
	ck_assert_str_eq(key, "flag");
	ck_assert_ptr_null(value);
	auth_fields_get_idx(f, 2, &key, &value);
	ck_assert_str_eq(key, "c");
	ck_assert_str_eq(value, "");
	ck_assert_str_eq(auth_fields_get(f, "d"), "x=y");
	ck_assert(auth_fields_exists(f, "e"));
	auth_fields_import(f, "");
	auth_fields_import(f, "a=2");
	ck_assert_str_eq(auth_fields_get(f, "a"), "2");
}
END_TEST

START_TEST(test_fields_merge)
{
	struct auth_fields *src = auth_fields_new(pool);
	struct auth_fields *dest = auth_fields_new(pool);

	auth_fields_import(src, "userdb_uid=5 userdb_home=/h nologin "
			   "userdb_ userdb_flag");
	auth_fields_merge(dest, src, "userdb_", true);
	ck_assert_uint_eq(auth_fields_count(dest), 3);
	ck_assert_str_eq(auth_fields_get(dest, "uid"), "5");
	ck_assert_str_eq(auth_fields_get(dest, "home"), "/h");
	ck_assert(auth_fields_exists(dest, "flag"));
	auth_fields_merge(dest, src, NULL, false);
	ck_assert_uint_eq(auth_fields_count(dest), 8);
	/* into itself */
	auth_fields_merge(src, src, "userdb_", true);
	ck_assert_str_eq(auth_fields_get(src, "uid"), "5");
	ck_assert_uint_eq(auth_fields_count(src), 8);
}
END_TEST

START_TEST(test_fields_tabescape)
{
	/* Dovecot 2.3's escaping: \001 is the escape char */
	ck_assert_str_eq(auth_tabescape(pool, "plain"), "plain");
	ck_assert_str_eq(auth_tabescape(pool, ""), "");
	ck_assert_str_eq(auth_tabescape(pool, "a\tb"), "a\001tb");
	ck_assert_str_eq(auth_tabescape(pool, "a\nb\rc"), "a\001nb\001rc");
	ck_assert_str_eq(auth_tabescape(pool, "\001"), "\0011");
	ck_assert_str_eq(auth_tabescape(pool, "a\\b"), "a\\b");
	ck_assert_str_eq(auth_tabunescape(pool, "a\001tb\001n\001r\0011"),
			 "a\tb\n\r\001");
	ck_assert_str_eq(auth_tabunescape(pool, "a\\tb"), "a\\tb");
	/* unknown escape: the char itself; trailing escape: itself */
	ck_assert_str_eq(auth_tabunescape(pool, "x\001\001y"), "x\001y");
	ck_assert_str_eq(auth_tabunescape(pool, "x\001zy"), "xzy");
	ck_assert_str_eq(auth_tabunescape(pool, "x\001"), "x\001");
	/* every byte round trips */
	char all[256];

	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	ck_assert_str_eq(auth_tabunescape(pool, auth_tabescape(pool, all)),
			 all);
	ck_assert_ptr_null(strchr(auth_tabescape(pool, all), '\t'));
	ck_assert_ptr_null(strchr(auth_tabescape(pool, all), '\n'));
}
END_TEST

/* ---- registries and shared helpers ---- */

START_TEST(test_registry)
{
	static const char *const passdbs[] = {
		"checkpassword", "pam", "passwd", "passwd-file", "shadow",
		"static"
	};
	static const char *const userdbs[] = {
		"checkpassword", "passwd", "passwd-file", "prefetch", "static"
	};

	for (unsigned int i = 0; i < N_ELEMENTS(passdbs); i++) {
		const struct passdb_driver *d = passdb_driver_find(passdbs[i]);

		ck_assert_ptr_nonnull(d);
		ck_assert_str_eq(d->name, passdbs[i]);
		ck_assert_ptr_nonnull(d->create);
		ck_assert_ptr_nonnull(d->verify_plain);
		ck_assert_ptr_eq(passdb_drivers_list()[i], d);
	}
	ck_assert_ptr_null(passdb_drivers_list()[N_ELEMENTS(passdbs)]);
	for (unsigned int i = 0; i < N_ELEMENTS(userdbs); i++) {
		const struct userdb_driver *d = userdb_driver_find(userdbs[i]);

		ck_assert_ptr_nonnull(d);
		ck_assert_ptr_nonnull(d->lookup);
		ck_assert_ptr_eq(userdb_drivers_list()[i], d);
	}
	ck_assert_ptr_null(passdb_driver_find("sql"));
	ck_assert_ptr_null(userdb_driver_find("PASSWD"));
	ck_assert(passdb_driver_find("pam")->blocking);
	ck_assert(!passdb_driver_find("passwd-file")->blocking);
	ck_assert_ptr_null(passdb_driver_find("pam")->lookup_credentials);
	ck_assert_ptr_nonnull(userdb_driver_find("passwd")->iterate);
	ck_assert_ptr_null(userdb_driver_find("static")->iterate);
}
END_TEST

START_TEST(test_var_expand)
{
	struct auth_lookup *lookup = lookup_new("Alice@Mail.Example.com");
	const char *result, *error;

	lookup->original_user = "ALICE@Mail.Example.com";
	lookup->session_id = "sess1";
	lookup->remote_port = 143;
	ck_assert_int_eq(auth_lookup_var_expand(lookup,
		"%u|%n|%d|%s|%r|%l|%b|%{session}|%Ln|%{orig_username}",
		&result, &error), 0);
	ck_assert_str_eq(result, "Alice@Mail.Example.com|Alice|"
			 "Mail.Example.com|imap|192.0.2.10|192.0.2.1|143|"
			 "sess1|alice|ALICE");
	ck_assert_int_eq(auth_lookup_var_expand(lookup, "no vars", &result,
						&error), 0);
	ck_assert_str_eq(result, "no vars");
	ck_assert_int_eq(auth_lookup_var_expand(lookup, "%{nosuchvar}",
						&result, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "nosuchvar"));
	lookup = lookup_new("a@b@c");
	ck_assert_int_eq(auth_lookup_var_expand(lookup,
		"%{domain_first}/%{domain_last}", &result, &error), 0);
	ck_assert_str_eq(result, "b/c");
}
END_TEST

START_TEST(test_log_prefix)
{
	struct auth_lookup *lookup = lookup_new("alice");

	ck_assert_str_eq(auth_lookup_log_prefix(lookup, "passwd-file"),
			 "passwd-file(alice,192.0.2.10): ");
	lookup->session_id = "kXtYdSVhK9Z/AAAW";
	ck_assert_str_eq(auth_lookup_log_prefix(lookup, "pam"),
			 "pam(alice,192.0.2.10,<kXtYdSVhK9Z/AAAW>): ");
	lookup->remote_ip = NULL;
	lookup->session_id = NULL;
	ck_assert_str_eq(auth_lookup_log_prefix(lookup, "passwd"),
			 "passwd(alice): ");
	lookup->user = NULL;
	ck_assert_str_eq(auth_lookup_log_prefix(lookup, "x"), "x(?): ");
	lookup->user = "bob";
	auth_lookup_log_error(lookup, "static", "boom %d", 42);
	ck_assert_log("Error: static(bob): boom 42");
	auth_lookup_log_debug(lookup, "static", "quiet");
	ck_assert(!log_has("quiet"));
	lookup->debug = true;
	auth_lookup_log_debug(lookup, "static", "loud");
	ck_assert_log("Debug: static(bob): loud");
}
END_TEST

/* ---- passwd-file ---- */

static const char *const users_text =
	"# comment line\n"
	"\n"
	":nouser:1000:1000\n"
	"alice:{PLAIN}secret:1000:1001:Alice A:/home/alice:/bin/sh:"
	"userdb_mail=maildir:~/Maildir nologin quota=%n@%d userdb_x=%u\n"
	"crlf:{PLAIN}pw:1000:1000::/home/crlf\r\n"
	"hank:{PLAIN}pw::::/home/hank\n"
	"dave:{PLAIN}pw\n"
	"solo\n"
	"gina:{PLAIN}pw:1000:1000::::\n"
	"last:{PLAIN}pw3:1000:1000::/home/last";

START_TEST(test_pwfile_all_fields)
{
	char *path = write_file("users", users_text);
	struct passdb_module *pdb = passdb_new("passwd-file", path);
	struct userdb_module *udb = userdb_new("passwd-file", path);
	struct auth_lookup *lookup = lookup_new("alice");

	ck_assert_str_eq(pdb->default_pass_scheme, "CRYPT");
	ck_assert_int_eq(verify(pdb, lookup, "secret"), PASSDB_RESULT_OK);
	ck_assert_ptr_null(lookup->log_reason);
	/* every extra field for the passdb, % expanded, ':' kept */
	ck_assert_str_eq(field(lookup, "userdb_mail"), "maildir:~/Maildir");
	ck_assert(auth_fields_exists(lookup->extra_fields, "nologin"));
	ck_assert_str_eq(field(lookup, "quota"), "alice@");
	ck_assert_str_eq(field(lookup, "userdb_x"), "alice");
	ck_assert_ptr_null(field(lookup, "uid"));

	lookup = lookup_new("alice");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "uid"), "1000");
	ck_assert_str_eq(field(lookup, "gid"), "1001");
	ck_assert_str_eq(field(lookup, "home"), "/home/alice");
	ck_assert_str_eq(field(lookup, "mail"), "maildir:~/Maildir");
	ck_assert_str_eq(field(lookup, "x"), "alice");
	/* only userdb_ fields, without the prefix */
	ck_assert(!auth_fields_exists(lookup->extra_fields, "nologin"));
	ck_assert(!auth_fields_exists(lookup->extra_fields, "userdb_mail"));
	ck_assert_uint_eq(auth_fields_count(lookup->extra_fields), 5);

	/* credentials */
	lookup = lookup_new("alice");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_OK);
	ck_assert_str_eq(lookup->password, "{PLAIN}secret");
	ck_assert_str_eq(lookup->default_scheme, "CRYPT");
	/* only the two lines without userdb columns were complained about */
	ck_assert_uint_eq(test_log_captured_count(), 2);
	ck_assert_log("User dave is missing userdb info (line 7)");
	passdb_free(pdb);
	userdb_free(udb);
	free(path);
}
END_TEST

START_TEST(test_pwfile_lines)
{
	char *path = write_file("users", users_text);
	struct passdb_module *pdb = passdb_new("passwd-file", path);
	struct userdb_module *udb = userdb_new("passwd-file", path);
	struct auth_lookup *lookup;

	/* wrong password, unknown user */
	lookup = lookup_new("alice");
	ck_assert_int_eq(verify(pdb, lookup, "Secret"),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_str_eq(lookup->log_reason, "Password mismatch");
	lookup = lookup_new("nosuch");
	ck_assert_int_eq(verify(pdb, lookup, "x"), PASSDB_RESULT_USER_UNKNOWN);
	ck_assert_str_eq(lookup->log_reason, "unknown user");
	lookup = lookup_new("nosuch");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	/* comments and ":..." lines are no users */
	lookup = lookup_new("# comment line");
	ck_assert_int_eq(verify(pdb, lookup, "x"), PASSDB_RESULT_USER_UNKNOWN);
	lookup = lookup_new("");
	ck_assert_int_eq(verify(pdb, lookup, "nouser"),
			 PASSDB_RESULT_USER_UNKNOWN);
	/* CRLF line end and a last line without LF */
	lookup = lookup_new("crlf");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "home"), "/home/crlf");
	lookup = lookup_new("crlf");
	ck_assert_int_eq(verify(pdb, lookup, "pw"), PASSDB_RESULT_OK);
	lookup = lookup_new("last");
	ck_assert_int_eq(verify(pdb, lookup, "pw3"), PASSDB_RESULT_OK);
	lookup = lookup_new("last");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "home"), "/home/last");
	/* empty uid/gid: no uid/gid fields, home given */
	lookup = lookup_new("hank");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_ptr_null(field(lookup, "uid"));
	ck_assert_ptr_null(field(lookup, "gid"));
	ck_assert_str_eq(field(lookup, "home"), "/home/hank");
	/* empty home and extra fields */
	lookup = lookup_new("gina");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_ptr_null(field(lookup, "home"));
	ck_assert_uint_eq(auth_fields_count(lookup->extra_fields), 2);
	/* passdb-only line: a passdb user, not a userdb one */
	lookup = lookup_new("dave");
	ck_assert_int_eq(verify(pdb, lookup, "pw"), PASSDB_RESULT_OK);
	lookup = lookup_new("dave");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	ck_assert_log("Error: passwd-file ");
	ck_assert_log("users:User dave is missing userdb info (line 7)");
	ck_assert_log("users:User solo is missing userdb info (line 8)");
	/* a name alone: no password matches */
	lookup = lookup_new("solo");
	ck_assert_int_eq(verify(pdb, lookup, ""),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	passdb_free(pdb);
	userdb_free(udb);
	free(path);
}
END_TEST

START_TEST(test_pwfile_debug)
{
	char *path = write_file("users", "a:{PLAIN}b:1000:1000\n");
	struct passdb_module *pdb = passdb_new("passwd-file", path);
	struct auth_db_settings set = auth_db_default_settings;
	struct auth_lookup *lookup = lookup_new("a");
	char *expected;

	set.debug = true;
	pdb->driver->init(pdb, &set);
	expected = i_strdup_printf("Debug: passwd-file %s:Read 1 users in 0 "
				   "secs", path);
	ck_assert_log(expected);
	free(expected);
	lookup->debug = true;
	ck_assert_int_eq(verify(pdb, lookup, "b"), PASSDB_RESULT_OK);
	expected = i_strdup_printf("Debug: passwd-file(a,192.0.2.10): "
				   "lookup: user=a file=%s", path);
	ck_assert_log(expected);
	free(expected);
	passdb_free(pdb);
	free(path);
}
END_TEST

START_TEST(test_pwfile_passdb_only)
{
	/* a passdb alone doesn't check uid/gid nor want them */
	char *path = write_file("users", "a:{PLAIN}x:notanumber:0\n"
				"b:{PLAIN}y\n");
	struct passdb_module *pdb = passdb_new("passwd-file", path);
	struct auth_lookup *lookup = lookup_new("a");

	ck_assert_int_eq(verify(pdb, lookup, "x"), PASSDB_RESULT_OK);
	lookup = lookup_new("b");
	ck_assert_int_eq(verify(pdb, lookup, "y"), PASSDB_RESULT_OK);
	ck_assert_str_eq(test_log_captured(), "");
	passdb_free(pdb);
	free(path);
}
END_TEST

START_TEST(test_pwfile_args)
{
	char *path = write_file("users", "Bob:plainpw:1000:1000\n"
				"carl:pw[34]:1000:1000\n"
				"crypted:ab01FAX.bQRSU[13]:1000:1000\n");
	char *args = i_strdup_printf("scheme=PLAIN username_format=%%Ln %s",
				     path);
	struct passdb_module *pdb = passdb_new("passwd-file", args);
	struct auth_lookup *lookup;

	ck_assert_str_eq(pdb->default_pass_scheme, "PLAIN");
	/* %Ln of "BOB@example.com" is "bob": not "Bob" */
	lookup = lookup_new("BOB@example.com");
	ck_assert_int_eq(verify(pdb, lookup, "plainpw"),
			 PASSDB_RESULT_USER_UNKNOWN);
	passdb_free(pdb);
	free(args);

	args = i_strdup_printf("scheme=PLAIN username_format=%%n %s", path);
	pdb = passdb_new("passwd-file", args);
	lookup = lookup_new("Bob@example.com");
	ck_assert_int_eq(verify(pdb, lookup, "plainpw"), PASSDB_RESULT_OK);
	/* libpam-pwdfile "password[NN]" forms name the scheme */
	lookup = lookup_new("carl");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_OK);
	ck_assert_str_eq(lookup->password, "{PLAIN-MD5}pw");
	lookup = lookup_new("crypted");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_OK);
	ck_assert_str_eq(lookup->password, "{CRYPT}ab01FAX.bQRSU");
	passdb_free(pdb);
	free(args);

	ck_assert_str_eq(passdb_error("passwd-file", "foo=bar /x"),
			 "Unknown setting: foo");
	ck_assert_str_eq(passdb_error("passwd-file", "users"),
			 "Unknown setting: users");
	ck_assert_str_eq(passdb_error("passwd-file", ""), "Missing args");
	ck_assert_str_eq(passdb_error("passwd-file", "scheme=PLAIN"),
			 "Missing args");
	free(path);
}
END_TEST

START_TEST(test_pwfile_path_vars)
{
	char *p1 = write_file("dom/example.com", "ann:{PLAIN}s1:1000:1000::"
			      "/home/ann::userdb_mail=maildir:/m/%u\n");
	char *args = i_strdup_printf("username_format=%%n %s/dom/%%d", dir);
	struct passdb_module *pdb = passdb_new("passwd-file", args);
	struct userdb_module *udb = userdb_new("passwd-file", args);
	struct auth_lookup *lookup;
	char *missing;

	lookup = lookup_new("ann@example.com");
	ck_assert_int_eq(verify(pdb, lookup, "s1"), PASSDB_RESULT_OK);
	lookup = lookup_new("ann@example.com");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "mail"), "maildir:/m/ann@example.com");
	/* a domain without a file */
	lookup = lookup_new("ann@nodomain.org");
	ck_assert_int_eq(verify(pdb, lookup, "s1"),
			 PASSDB_RESULT_USER_UNKNOWN);
	missing = i_strdup_printf("missing passwd file: %s/dom/nodomain.org",
				  dir);
	ck_assert_str_eq(lookup->log_reason, missing);
	free(missing);
	/* no domain: the path is the directory itself */
	lookup = lookup_new("ann");
	ck_assert_int_eq(verify(pdb, lookup, "s1"),
			 PASSDB_RESULT_USER_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(lookup->log_reason,
		"Failed to normalize path: Path is outside '"));
	/* a slash in the domain is cut: no climbing out */
	lookup = lookup_new("ann@example.com/../../../etc/passwd");
	ck_assert_int_eq(verify(pdb, lookup, "s1"), PASSDB_RESULT_OK);
	lookup = lookup_new("ann@..");
	ck_assert_int_eq(verify(pdb, lookup, "s1"),
			 PASSDB_RESULT_USER_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(lookup->log_reason, "Path is outside"));
	/* iteration needs a fixed path */
	ck_assert_int_eq(udb->driver->iterate(udb, NULL, NULL), -1);
	ck_assert_log("passwd-file: User iteration isn't currently supported "
		      "with %variable paths");
	passdb_free(pdb);
	userdb_free(udb);
	free(args);
	free(p1);
}
END_TEST

START_TEST(test_pwfile_malformed)
{
	string_t *text = str_new(1024);
	struct passdb_module *pdb;
	struct userdb_module *udb;
	struct auth_lookup *lookup;
	char *path;

	str_append(text, "bob:{PLAIN}pw:abc:1000::/home/bob\n");	/* 1 */
	str_append(text, "carol:{PLAIN}pw:1000:xyz::/home/carol\n");	/* 2 */
	str_append(text, "eve:{PLAIN}pw:0:1000::/home/eve\n");	/* 3 */
	str_append(text, "fay:{PLAIN}pw:1000:0::/home/fay\n");	/* 4 */
	str_append(text, "ok:{PLAIN}pw:1000:1000::/home/ok\n");	/* 5 */
	str_append(text, "ok:{PLAIN}dup:1000:1000\n");		/* 6 */
	str_append(text, "nul:{PLAIN}p");				/* 7 */
	str_append_c(text, '\0');
	str_append(text, "w:1000:1000\n");
	str_append(text, "dm:x[56]:1000:1000\n");			/* 8 */
	str_append(text, "root1:{PLAIN}pw:root:root\n");		/* 9 */
	path = test_write_file(dir, "users", str_c(text), str_len(text));
	pdb = passdb_new("passwd-file", path);
	udb = userdb_new("passwd-file", path);
	udb->driver->init(udb, &auth_db_default_settings);
	pdb->driver->init(pdb, &auth_db_default_settings);

	ck_assert_log("Error: Invalid UID value 'abc'\n");
	ck_assert_log("users:User bob has invalid UID 'abc' (line 1)\n");
	ck_assert_log("Error: Invalid GID value 'xyz'\n");
	ck_assert_log("users:User carol has invalid GID 'xyz' (line 2)\n");
	ck_assert_log("users:User eve has invalid UID '0' (line 3)\n");
	ck_assert_log("users:User fay has invalid GID '0' (line 4)\n");
	ck_assert_log("users:User ok exists more than once (line 6)\n");
	ck_assert_log("users:Line 7 contains a NUL byte, skipped\n");
	ck_assert_log("users:User dm has invalid password (line 8)\n");
	ck_assert_log("users:User root1 has invalid UID 'root' (line 9)\n");
	/* the file was read once, at init, for both */
	ck_assert_uint_eq(test_log_captured_count(), 10);

	/* skipped lines are unknown users, for the passdb too */
	lookup = lookup_new("bob");
	ck_assert_int_eq(verify(pdb, lookup, "pw"), PASSDB_RESULT_USER_UNKNOWN);
	lookup = lookup_new("eve");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	lookup = lookup_new("nul");
	ck_assert_int_eq(verify(pdb, lookup, "pw"), PASSDB_RESULT_USER_UNKNOWN);
	/* the first "ok" wins */
	lookup = lookup_new("ok");
	ck_assert_int_eq(verify(pdb, lookup, "pw"), PASSDB_RESULT_OK);
	lookup = lookup_new("ok");
	ck_assert_int_eq(verify(pdb, lookup, "dup"),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_uint_eq(test_log_captured_count(), 10);
	passdb_free(pdb);
	userdb_free(udb);
	str_free(&text);
	free(path);
}
END_TEST

START_TEST(test_pwfile_long_lines)
{
	string_t *text = str_new(300000);
	struct passdb_module *pdb;
	struct auth_lookup *lookup;
	char *path;

	/* 1: a line far over the limit, 2: one exactly at it (too long),
	   3: one just under it, 4: a normal user after them */
	str_append(text, "huge:{PLAIN}");
	for (unsigned int i = 0; i < 200000; i++)
		str_append_c(text, 'x');
	str_append(text, ":1000:1000\n");
	str_append(text, "edge:{PLAIN}");
	for (unsigned int i = 0; i < PASSWD_FILE_MAX_LINE - 12; i++)
		str_append_c(text, 'y');
	str_append(text, "\n");
	str_append(text, "under:{PLAIN}");
	for (unsigned int i = 0; i < 65535 - 13; i++)
		str_append_c(text, 'z');
	str_append(text, "\n");
	str_append(text, "after:{PLAIN}pw:1000:1000\n");
	path = test_write_file(dir, "users", str_c(text), str_len(text));
	pdb = passdb_new("passwd-file", path);
	lookup = lookup_new("after");
	ck_assert_int_eq(verify(pdb, lookup, "pw"), PASSDB_RESULT_OK);
	ck_assert_log("users:Line 1 is longer than 65535 bytes, skipped\n");
	ck_assert_log("users:Line 2 is longer than 65535 bytes, skipped\n");
	ck_assert(!log_has("Line 3"));
	lookup = lookup_new("huge");
	ck_assert_int_eq(verify(pdb, lookup, "x"), PASSDB_RESULT_USER_UNKNOWN);
	lookup = lookup_new("under");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_OK);
	ck_assert_uint_eq(strlen(lookup->password), 65535 - 13 + 7);
	passdb_free(pdb);
	str_free(&text);
	free(path);
}
END_TEST

START_TEST(test_pwfile_missing_file)
{
	char *path = i_strdup_printf("%s/nosuch", dir);
	struct passdb_module *pdb = passdb_new("passwd-file", path);
	struct userdb_module *udb = userdb_new("passwd-file", path);
	struct auth_lookup *lookup;
	char *expected;

	/* startup: an error line, not fatal */
	pdb->driver->init(pdb, &auth_db_default_settings);
	expected = i_strdup_printf("Error: passwd-file %s:open(%s) failed: "
				   "No such file or directory", path, path);
	ck_assert_log(expected);
	free(expected);
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "b"), PASSDB_RESULT_USER_UNKNOWN);
	expected = i_strdup_printf("missing passwd file: %s", path);
	ck_assert_str_eq(lookup->log_reason, expected);
	lookup = lookup_new("a");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	ck_assert_str_eq(lookup->log_reason, expected);
	free(expected);
	ck_assert_int_eq(udb->driver->iterate(udb, NULL, NULL), -1);

	/* the file appears: used at once */
	free(write_file("nosuch", "a:{PLAIN}b:1000:1000::/h\n"));
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "b"), PASSDB_RESULT_OK);
	passdb_free(pdb);
	userdb_free(udb);
	free(path);
}
END_TEST

static void set_mtime(const char *path, time_t when)
{
	struct timespec ts[2] = {
		{ .tv_sec = when, .tv_nsec = 0 },
		{ .tv_sec = when, .tv_nsec = 0 },
	};

	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(test_pwfile_reread)
{
	char *path = write_file("users", "a:{PLAIN}one:1000:1000::/h1\n");
	char *tmp;
	struct passdb_module *pdb = passdb_new("passwd-file", path);
	struct userdb_module *udb = userdb_new("passwd-file", path);
	struct auth_lookup *lookup;

	set_mtime(path, 1000000000);
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "one"), PASSDB_RESULT_OK);

	/* 1: same size, same inode, same mtime: not reread */
	free(write_file("users", "a:{PLAIN}two:1000:1000::/h1\n"));
	set_mtime(path, 1000000000);
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "one"), PASSDB_RESULT_OK);
	/* 2: only the mtime changes */
	set_mtime(path, 1000000001);
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "two"), PASSDB_RESULT_OK);
	/* 3: only the size changes */
	free(write_file("users", "a:{PLAIN}three:1000:1000::/h1\n"));
	set_mtime(path, 1000000001);
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "three"), PASSDB_RESULT_OK);
	/* 4: only the inode changes (a new file renamed over it) */
	tmp = write_file("users.new", "a:{PLAIN}four_:1000:1000::/h1\n");
	set_mtime(tmp, 1000000001);
	ck_assert_int_eq(rename(tmp, path), 0);
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "four_"), PASSDB_RESULT_OK);
	/* the userdb shares it */
	lookup = lookup_new("a");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "home"), "/h1");
	/* 5: the file goes away: unknown; comes back: known */
	ck_assert_int_eq(unlink(path), 0);
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "four_"),
			 PASSDB_RESULT_USER_UNKNOWN);
	free(write_file("users", "a:{PLAIN}five:1000:1000::/h5\n"));
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "five"), PASSDB_RESULT_OK);
	ck_assert_str_eq(test_log_captured(), "");
	passdb_free(pdb);
	userdb_free(udb);
	free(tmp);
	free(path);
}
END_TEST

static void collect_user(const char *user, void *context)
{
	string_t *str = context;

	str_append(str, user);
	str_append_c(str, ',');
}

START_TEST(test_pwfile_iterate)
{
	char *path = write_file("users", users_text);
	struct userdb_module *udb = userdb_new("passwd-file", path);
	struct auth_db_settings set = auth_db_default_settings;
	string_t *str = str_new(128);

	/* the only userdb: every line, as Dovecot */
	ck_assert_int_eq(udb->driver->iterate(udb, collect_user, str), 0);
	ck_assert_str_eq(str_c(str), "alice,crlf,hank,dave,solo,gina,last,");
	/* with other userdbs, lines without userdb columns are skipped */
	set.userdb_count = 2;
	udb->driver->init(udb, &set);
	str_clear(str);
	ck_assert_int_eq(udb->driver->iterate(udb, collect_user, str), 0);
	ck_assert_str_eq(str_c(str), "alice,crlf,hank,gina,last,");
	str_free(&str);
	userdb_free(udb);
	free(path);
}
END_TEST

START_TEST(test_pwfile_many_users)
{
	string_t *text = str_new(1024 * 1024);
	struct passdb_module *pdb;
	struct auth_lookup *lookup;
	char *path;

	for (unsigned int i = 0; i < 20000; i++)
		str_printfa(text, "user%u:{PLAIN}pw%u:1000:1000::/home/%u\n",
			    i, i, i);
	path = test_write_file(dir, "users", str_c(text), str_len(text));
	pdb = passdb_new("passwd-file", path);
	for (unsigned int i = 0; i < 20000; i += 997) {
		char user[32], pw[32];

		snprintf(user, sizeof(user), "user%u", i);
		snprintf(pw, sizeof(pw), "pw%u", i);
		lookup = lookup_new(user);
		ck_assert_int_eq(verify(pdb, lookup, pw), PASSDB_RESULT_OK);
	}
	passdb_free(pdb);
	str_free(&text);
	free(path);
}
END_TEST

START_TEST(test_pwfile_nopassword)
{
	char *path = write_file("users", "np::1000:1000::::nopassword\n"
				"bad:{PLAIN}x:1000:1000::::nopassword\n");
	struct passdb_module *pdb = passdb_new("passwd-file", path);
	struct auth_lookup *lookup;

	lookup = lookup_new("np");
	ck_assert_int_eq(verify(pdb, lookup, "anything"), PASSDB_RESULT_OK);
	lookup = lookup_new("np");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_OK);
	ck_assert_ptr_null(lookup->password);
	/* nopassword with a password: Dovecot ignores it, loudly */
	lookup = lookup_new("bad");
	ck_assert_int_eq(verify(pdb, lookup, "anything"),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_log("nopassword set but password is non-empty");
	lookup = lookup_new("bad");
	ck_assert_int_eq(verify(pdb, lookup, "x"), PASSDB_RESULT_OK);
	passdb_free(pdb);
	free(path);
}
END_TEST

/* ---- static ---- */

START_TEST(test_static_passdb)
{
	struct passdb_module *pdb = passdb_new("static",
		"password=%n-pw userdb_mail=maildir:~/M%u proxy host=10.0.0.1");
	struct auth_lookup *lookup = lookup_new("bob@x.org");

	ck_assert_int_eq(verify(pdb, lookup, "bob-pw"), PASSDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "userdb_mail"), "maildir:~/Mbob@x.org");
	ck_assert(auth_fields_exists(lookup->extra_fields, "proxy"));
	ck_assert_str_eq(field(lookup, "host"), "10.0.0.1");
	ck_assert(!auth_fields_exists(lookup->extra_fields, "password"));
	lookup = lookup_new("bob@x.org");
	ck_assert_int_eq(verify(pdb, lookup, "bad"),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_str_eq(lookup->log_reason, "Password mismatch");
	lookup = lookup_new("carl");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_OK);
	ck_assert_str_eq(lookup->password, "carl-pw");
	ck_assert_str_eq(lookup->default_scheme, "PLAIN");

	pdb = passdb_new("static", "nopassword user=nopw");
	lookup = lookup_new("x");
	ck_assert_int_eq(verify(pdb, lookup, "whatever"), PASSDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "user"), "nopw");
	lookup = lookup_new("x");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_OK);
	ck_assert_ptr_null(lookup->password);

	pdb = passdb_new("static", "");
	lookup = lookup_new("x");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_str_eq(lookup->log_reason,
			 "No password returned (and no nopassword)");

	pdb = passdb_new("static", "password={PLAIN}%{nosuch}");
	lookup = lookup_new("x");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("Error: static(x,192.0.2.10): Failed to expand "
		      "password={PLAIN}%{nosuch}");
}
END_TEST

START_TEST(test_static_userdb)
{
	struct userdb_module *udb = userdb_new("static",
		"uid=root gid=0 home=/var/vmail/%d/%n mail=maildir:~/Maildir");
	struct auth_lookup *lookup = lookup_new("ann@example.com");
	const struct userdb_driver *d = userdb_driver_find("static");
	struct userdb_module *bad;
	const char *error;

	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "uid"), "0");
	ck_assert_str_eq(field(lookup, "gid"), "0");
	ck_assert_str_eq(field(lookup, "home"), "/var/vmail/example.com/ann");
	ck_assert_str_eq(field(lookup, "mail"), "maildir:~/Maildir");

	ck_assert_int_eq(d->create(pool, "uid=no-such-user-xyz", &bad, &error),
			 -1);
	ck_assert_str_eq(error, "Invalid uid: no-such-user-xyz");
	ck_assert_log("Error: Invalid UID value 'no-such-user-xyz'");
	ck_assert_int_eq(d->create(pool, "gid=no-such-group-xyz", &bad,
				   &error), -1);
	ck_assert_str_eq(error, "Invalid gid: no-such-group-xyz");
	ck_assert_int_eq(d->create(pool, "allow_all_users=maybe", &bad,
				   &error), -1);
}
END_TEST

static int user_exists_result;

static int fake_user_exists(struct auth_lookup *lookup ATTR_UNUSED,
			    void *context ATTR_UNUSED)
{
	return user_exists_result;
}

START_TEST(test_static_userdb_only)
{
	struct userdb_module *udb = userdb_new("static", "uid=5 gid=6");
	struct userdb_module *all =
		userdb_new("static", "uid=5 gid=6 allow_all_users=yes");
	struct auth_lookup *lookup;

	/* after an authentication: anyone */
	lookup = lookup_new("x");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	/* userdb-only: ask the passdbs */
	lookup = lookup_new("x");
	lookup->userdb_only = true;
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("passdb doesn't support lookups, can't verify "
		      "user's existence");
	lookup->user_exists = fake_user_exists;
	user_exists_result = 0;
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	user_exists_result = 1;
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "uid"), "5");
	/* allow_all_users=yes doesn't ask */
	lookup = lookup_new("y");
	lookup->userdb_only = true;
	ck_assert_int_eq(ulookup(all, lookup), USERDB_RESULT_OK);
	ck_assert(!auth_fields_exists(lookup->extra_fields, "allow_all_users"));
}
END_TEST

/* ---- prefetch ---- */

START_TEST(test_prefetch)
{
	struct userdb_module *udb = userdb_new("prefetch", "");
	struct auth_fields *passdb_fields = auth_fields_new(pool);
	struct auth_lookup *lookup;
	struct auth_db_settings set = auth_db_default_settings;

	auth_fields_import(passdb_fields, "user=a nologin userdb_uid=1000 "
			   "userdb_home=/h/a userdb_mail=maildir:~/M");
	lookup = lookup_new("a");
	lookup->passdb_fields = passdb_fields;
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_uint_eq(auth_fields_count(lookup->extra_fields), 3);
	ck_assert_str_eq(field(lookup, "uid"), "1000");
	ck_assert_str_eq(field(lookup, "home"), "/h/a");
	ck_assert_str_eq(field(lookup, "mail"), "maildir:~/M");

	/* no passdb_fields: from extra_fields */
	lookup = lookup_new("a");
	auth_fields_set(lookup->extra_fields, "userdb_gid", "7");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "gid"), "7");

	/* nothing to take: the next userdb may know */
	lookup = lookup_new("a");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	ck_assert_str_eq(lookup->log_reason,
			 "passdb didn't return userdb entries");
	lookup = lookup_new("a");
	lookup->userdb_only = true;
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	ck_assert_str_eq(lookup->log_reason, "userdb lookup not possible "
			 "with only userdb prefetch");
	ck_assert_str_eq(test_log_captured(), "");
	/* the only userdb: an error */
	set.userdb_count = 1;
	udb->driver->init(udb, &set);
	lookup = lookup_new("a");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("Error: prefetch(a,192.0.2.10): passdb didn't return "
		      "userdb entries");

	ck_assert_int_eq(userdb_driver_find("prefetch")->create(pool, "x",
		&udb, &lookup->log_reason), -1);
}
END_TEST

/* ---- passwd, shadow, pam without their stacks ---- */

START_TEST(test_system_args)
{
	struct passdb_module *m;

	m = passdb_new("passwd", "");
	ck_assert(m->blocking);
	ck_assert_str_eq(m->default_pass_scheme, "CRYPT");
	m = passdb_new("passwd", "blocking=no");
	ck_assert(!m->blocking);
	ck_assert_str_eq(passdb_error("passwd", "foo"), "Unknown setting: foo");
	m = passdb_new("shadow", "");
	ck_assert(m->blocking);
	ck_assert_str_eq(passdb_error("shadow", "x=y"), "Unknown setting: x=y");
	m = passdb_new("pam", "");
	ck_assert(m->blocking);
	ck_assert_str_eq(m->default_pass_scheme, "PLAIN");
	m = passdb_new("pam", "session=yes setcred=yes failure_show_msg=yes "
		       "max_requests=5 cache_key=%u%s imap2");
	ck_assert_str_eq(m->cache_key, "%u%s");
	ck_assert_str_eq(passdb_error("pam", "bogus=1 dovecot"),
			 "Unknown setting: bogus=1");
	m = passdb_new("pam", "max_requests=abc dovecot");
	ck_assert_log("Error: pam: Invalid requests_left value: abc");
}
END_TEST

START_TEST(test_passwd_root)
{
	struct userdb_module *udb = userdb_new("passwd", "");
	struct passdb_module *pdb = passdb_new("passwd", "");
	struct auth_lookup *lookup = lookup_new("root");
	struct auth_db_settings set = auth_db_default_settings;
	string_t *str = str_new(256);

	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "uid"), "0");
	ck_assert_str_eq(field(lookup, "gid"), "0");
	ck_assert_str_eq(field(lookup, "system_groups_user"), "root");
	ck_assert_ptr_nonnull(field(lookup, "home"));
	lookup = lookup_new("no-such-user-xyz");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	ck_assert_str_eq(lookup->log_reason, "unknown user");
	lookup = lookup_new("no-such-user-xyz");
	ck_assert_int_eq(verify(pdb, lookup, "x"), PASSDB_RESULT_USER_UNKNOWN);
	/* root (uid 0) is listed only from first_valid_uid=0 */
	ck_assert_int_eq(udb->driver->iterate(udb, collect_user, str), 0);
	ck_assert_ptr_null(strstr(str_c(str), "root,"));
	set.first_valid_uid = 0;
	udb->driver->init(udb, &set);
	str_clear(str);
	ck_assert_int_eq(udb->driver->iterate(udb, collect_user, str), 0);
	ck_assert_ptr_nonnull(strstr(str_c(str), "root,"));
	/* args are extra fields, with Dovecot's warning */
	udb = userdb_new("passwd", "blocking=no mail=maildir:~/%u");
	ck_assert(!udb->blocking);
	ck_assert_log("Warning: userdb passwd: Move templates args to "
		      "override_fields setting");
	lookup = lookup_new("root");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "mail"), "maildir:~/root");
	str_free(&str);
}
END_TEST

/* ---- checkpassword ---- */

static char *write_script(const char *name, const char *body)
{
	char *path = write_file(name, body);

	ck_assert_int_eq(chmod(path, 0700), 0);
	return path;
}

START_TEST(test_checkpassword_auth)
{
	char *req = i_strdup_printf("%s/request", dir);
	char *body = i_strdup_printf(
		"#!/bin/sh\n"
		"tr '\\000' '\\n' <&3 > %s\n"
		"case \"$AUTH_USER\" in\n"
		"  ok) printf 'user=ok\\tuserdb_uid=1000\\tuserdb_home=/h/ok"
		"\\tx=%%s %%s %%s\\tflag\\t' \"$SERVICE\" \"$TCPREMOTEIP\" "
		"\"$AUTHORIZED\" >&4; exit 0 ;;\n"
		"  fail) exit 1 ;;\n"
		"  vpop) exit 21 ;;\n"
		"  noinput) exit 0 ;;\n"
		"  two) exit 2 ;;\n"
		"  temp) exit 111 ;;\n"
		"  sig) kill -9 $$ ;;\n"
		"  nul) printf 'a=1\\000b' >&4; exit 0 ;;\n"
		"  lf) printf 'a=1\\nb=2' >&4; exit 0 ;;\n"
		"  esc) printf 'v=a\\001tb\\001nc\\t' >&4; exit 0 ;;\n"
		"esac\n"
		"exit 99\n", req);
	char *prog = write_script("cp.sh", body);
	struct passdb_module *pdb = passdb_new("checkpassword", prog);
	struct auth_lookup *lookup;
	char *data;
	size_t len;

	ck_assert(pdb->blocking);
	lookup = lookup_new("ok");
	ck_assert_int_eq(verify(pdb, lookup, "secret"), PASSDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "user"), "ok");
	ck_assert_str_eq(field(lookup, "userdb_uid"), "1000");
	ck_assert_str_eq(field(lookup, "userdb_home"), "/h/ok");
	/* an authentication has no AUTHORIZED */
	ck_assert_str_eq(field(lookup, "x"), "imap 192.0.2.10 ");
	ck_assert(auth_fields_exists(lookup->extra_fields, "flag"));
	data = test_read_file(req, &len);
	ck_assert_uint_eq(len, strlen("ok\nsecret\n\n"));
	ck_assert_str_eq(data, "ok\nsecret\n\n");
	free(data);

	lookup = lookup_new("fail");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_str_eq(lookup->log_reason, "Login failed (status=1)");
	lookup = lookup_new("vpop");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_str_eq(lookup->log_reason, "Login failed (status=21)");
	ck_assert_str_eq(test_log_captured(), "");

	lookup = lookup_new("noinput");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("Error: checkpassword(noinput,192.0.2.10): "
		      "Received no input");
	lookup = lookup_new("two");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("exited with status 2 (tried to use userdb-only "
		      "checkpassword program for passdb?)");
	lookup = lookup_new("temp");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("exited with status 111\n");
	lookup = lookup_new("sig");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("died with signal 9");
	lookup = lookup_new("nul");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("NUL characters in checkpassword reply");
	lookup = lookup_new("lf");
	ck_assert_int_eq(verify(pdb, lookup, "x"),
			 PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("LF characters in checkpassword reply");
	lookup = lookup_new("esc");
	ck_assert_int_eq(verify(pdb, lookup, "x"), PASSDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "v"), "a\tb\nc");
	free(req);
	free(body);
	free(prog);
}
END_TEST

START_TEST(test_checkpassword_limits)
{
	char *prog = write_script("cp.sh", "#!/bin/sh\n"
				  "printf 'a=1\\t' >&4\nexit 0\n");
	struct passdb_module *pdb = passdb_new("checkpassword", prog);
	struct auth_lookup *lookup;
	char user[400], pass[200];

	/* 512 bytes: still sent */
	memset(user, 'u', sizeof(user));
	user[sizeof(user) - 1] = '\0';
	memset(pass, 'p', sizeof(pass));
	pass[512 - 3 - 399] = '\0';
	lookup = lookup_new(user);
	ck_assert_int_eq(verify(pdb, lookup, pass), PASSDB_RESULT_OK);
	/* 513: refused before running anything */
	pass[512 - 3 - 399] = 'p';
	pass[513 - 3 - 399] = '\0';
	lookup = lookup_new(user);
	ck_assert_int_eq(verify(pdb, lookup, pass),
			 PASSDB_RESULT_PASSWORD_MISMATCH);
	ck_assert_str_eq(lookup->log_reason,
			 "Username+password combination too long (513 bytes)");

	/* a program that can't be run */
	pdb = passdb_new("checkpassword", "/nonexistent/checkpassword");
	lookup = lookup_new("a");
	ck_assert_int_eq(verify(pdb, lookup, "b"),
			 PASSDB_RESULT_INTERNAL_FAILURE);
	ck_assert_log("exited with status 84");
	ck_assert_str_eq(passdb_error("checkpassword", ""),
			 "Missing args (checkpassword program path)");
	free(prog);
}
END_TEST

START_TEST(test_checkpassword_lookup)
{
	/* a script that supports lookups: AUTHORIZED=1 in, exit 2 out */
	char *prog = write_script("cp.sh",
		"#!/bin/sh\n"
		"[ \"$AUTHORIZED\" = 1 ] || exit 99\n"
		"case \"$AUTH_USER\" in\n"
		"  known) printf 'userdb_uid=1234\\tuserdb_home=/h\\tpassword="
		"{PLAIN}pw\\tscheme=%s\\tcred=%s\\t' \"$SCHEME\" "
		"\"$CREDENTIALS_LOOKUP\" >&4; exit 2 ;;\n"
		"  nopw) printf 'userdb_uid=1\\t' >&4; exit 2 ;;\n"
		"  unknown) exit 3 ;;\n"
		"esac\n"
		"exit 111\n");
	struct passdb_module *pdb = passdb_new("checkpassword", prog);
	struct userdb_module *udb = userdb_new("checkpassword", prog);
	struct auth_lookup *lookup;

	lookup = lookup_new("known");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "uid"), "1234");
	ck_assert_str_eq(field(lookup, "home"), "/h");
	ck_assert_str_eq(field(lookup, "cred"), "");
	lookup = lookup_new("unknown");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_USER_UNKNOWN);
	ck_assert_str_eq(lookup->log_reason, "User unknown");
	lookup = lookup_new("other");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_INTERNAL_FAILURE);

	lookup = lookup_new("known");
	lookup->credentials_scheme = "CRAM-MD5";
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_OK);
	ck_assert_str_eq(lookup->password, "{PLAIN}pw");
	ck_assert_str_eq(field(lookup, "scheme"), "CRAM-MD5");
	ck_assert_str_eq(field(lookup, "cred"), "1");
	ck_assert(!auth_fields_exists(lookup->extra_fields, "password"));
	lookup = lookup_new("nopw");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_SCHEME_NOT_AVAILABLE);
	lookup = lookup_new("unknown");
	ck_assert_int_eq(pdb->driver->lookup_credentials(pdb, lookup),
			 PASSDB_RESULT_USER_UNKNOWN);
	free(prog);
}
END_TEST

/* Run checkpassword_reply_main() in a child with env and a pipe as fd 4;
 * returns its exit code and what it wrote. */
static int run_reply(const char *const *env, char **output_r)
{
	int fds[2], status;
	string_t *out = str_new(256);
	char buf[1024];
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		(void)clearenv();
		for (unsigned int i = 0; env[i] != NULL; i++)
			(void)putenv((char *)env[i]);
		/* the read end may be fd 4 itself: close it first */
		(void)close(fds[0]);
		if (fds[1] != 4) {
			(void)dup2(fds[1], 4);
			(void)close(fds[1]);
		}
		test_log_silence();
		_exit(checkpassword_reply_main());
	}
	(void)close(fds[1]);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		str_append_n(out, buf, (size_t)n);
	(void)close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*output_r = str_free_without_data(&out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_checkpassword_reply)
{
	static const char *const env1[] = {
		"USER=alice", "HOME=/home/a\tb",
		"EXTRA=USERDB_QUOTA nosuch FOO", "USERDB_QUOTA=1G", "FOO=bar",
		NULL
	};
	static const char *const env2[] = {
		"EXTRA=userdb_uid userdb_gid", "userdb_uid=5", "userdb_gid=6",
		"AUTHORIZED=2", NULL
	};
	static const char *const env3[] = { "AUTHORIZED=1", NULL };
	char *out, *expected;

	ck_assert_int_eq(run_reply(env1, &out), 0);
	expected = i_strdup_printf("user=alice\tuserdb_home=/home/a\001tb\t"
				   "userdb_quota=1G\tfoo=bar\tuserdb_uid=%u\t"
				   "userdb_gid=%u\t", (unsigned int)getuid(),
				   (unsigned int)getgid());
	ck_assert_str_eq(out, expected);
	free(expected);
	free(out);
	ck_assert_int_eq(run_reply(env2, &out), 2);
	ck_assert_str_eq(out, "userdb_uid=5\tuserdb_gid=6\t");
	free(out);
	/* AUTHORIZED=1: the script doesn't support lookups */
	ck_assert_int_eq(run_reply(env3, &out), 111);
	free(out);
}
END_TEST

START_TEST(test_checkpassword_with_reply_helper)
{
	/* the program execs its last argument, as real ones do; here the
	   reply helper is a script standing in for ours */
	char *helper = write_script("reply.sh", "#!/bin/sh\n"
		"printf 'user=%s\\tuserdb_home=%s\\t' \"$USER\" \"$HOME\" >&4\n"
		"[ \"$AUTHORIZED\" = 2 ] && exit 2\nexit 0\n");
	char *prog = write_script("cp.sh", "#!/bin/sh\n"
		"read -r line <&3 || true\n"
		"USER=canon HOME=/home/canon\nexport USER HOME\n"
		"[ \"$AUTHORIZED\" = 1 ] && "
		"{ AUTHORIZED=2; export AUTHORIZED; }\n"
		"exec \"$1\"\n");
	struct passdb_module *pdb = passdb_new("checkpassword", prog);
	struct userdb_module *udb = userdb_new("checkpassword", prog);
	const char *saved = checkpassword_reply_path;
	struct auth_lookup *lookup;

	checkpassword_reply_path = helper;
	lookup = lookup_new("x");
	ck_assert_int_eq(verify(pdb, lookup, "y"), PASSDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "user"), "canon");
	ck_assert_str_eq(field(lookup, "userdb_home"), "/home/canon");
	lookup = lookup_new("x");
	ck_assert_int_eq(ulookup(udb, lookup), USERDB_RESULT_OK);
	ck_assert_str_eq(field(lookup, "home"), "/home/canon");
	checkpassword_reply_path = saved;
	free(helper);
	free(prog);
}
END_TEST

Suite *make_auth_db_suite(void)
{
	Suite *s = suite_create("auth_db");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fields_basic);
	tcase_add_test(tc, test_fields_import);
	tcase_add_test(tc, test_fields_merge);
	tcase_add_test(tc, test_fields_tabescape);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_var_expand);
	tcase_add_test(tc, test_log_prefix);
	tcase_add_test(tc, test_pwfile_all_fields);
	tcase_add_test(tc, test_pwfile_lines);
	tcase_add_test(tc, test_pwfile_passdb_only);
	tcase_add_test(tc, test_pwfile_debug);
	tcase_add_test(tc, test_pwfile_args);
	tcase_add_test(tc, test_pwfile_path_vars);
	tcase_add_test(tc, test_pwfile_missing_file);
	tcase_add_test(tc, test_pwfile_reread);
	tcase_add_test(tc, test_pwfile_iterate);
	tcase_add_test(tc, test_pwfile_nopassword);
	tcase_add_test(tc, test_static_passdb);
	tcase_add_test(tc, test_static_userdb);
	tcase_add_test(tc, test_static_userdb_only);
	tcase_add_test(tc, test_prefetch);
	tcase_add_test(tc, test_system_args);
	tcase_add_test(tc, test_passwd_root);
	tcase_add_test(tc, test_checkpassword_auth);
	tcase_add_test(tc, test_checkpassword_lookup);
	tcase_add_test(tc, test_checkpassword_reply);
	tcase_add_test(tc, test_checkpassword_with_reply_helper);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pwfile_long_lines);
	tcase_add_test(tc, test_pwfile_many_users);
	tcase_add_test(tc, test_checkpassword_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pwfile_malformed);
	suite_add_tcase(s, tc);
	return s;
}

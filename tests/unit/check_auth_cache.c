/* check_auth_cache.c - unit tests of auth/auth-cache.h (keys, LRU
 * eviction by size, TTLs, flushing, statistics) and of the cache as
 * requests use it (auth/auth-request-cache.c): Dovecot 2.3's rules for
 * positive and negative passdb entries, the one database recheck after a
 * mismatch against an entry whose last check succeeded, userdb entries,
 * expiry and flushes. Request tests run a passwd-file passdb/userdb
 * given a cache key by hand (Dovecot caches passwd-file lookups never,
 * shadow/passwd/pam ones only in workers; the rules are the same). */
#include "suites.h"
#include "auth-cache.h"
#include "auth-request.h"
#include "config-bind.h"
#include "str.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

static time_t fake_time = 1000000;

static time_t fake_now(void)
{
	return fake_time;
}

static struct auth_cache *new_cache(size_t size, unsigned int ttl,
				    unsigned int neg_ttl)
{
	struct auth_cache *cache = auth_cache_new(size, ttl, neg_ttl);

	cache->now = fake_now;
	fake_time = 1000000;
	return cache;
}

static const char *lookup(struct auth_cache *cache, const char *key,
			  bool *expired_r)
{
	bool neg_expired;

	return auth_cache_lookup(cache, key, NULL, expired_r, &neg_expired);
}

/* ---- auth-cache.c ---- */

START_TEST(test_cache_insert_lookup)
{
	struct auth_cache *cache = new_cache(1024 * 1024, 3600, 3600);
	struct auth_cache_node *node;
	bool expired, neg_expired;

	ck_assert_ptr_null(lookup(cache, "P1\talice", &expired));
	auth_cache_insert(cache, "P1\talice", "{PLAIN}secret\tuser=alice",
			  true);
	ck_assert_str_eq(auth_cache_lookup(cache, "P1\talice", &node,
					   &expired, &neg_expired),
			 "{PLAIN}secret\tuser=alice");
	ck_assert(!expired);
	ck_assert(!neg_expired);
	ck_assert(node->last_success);
	/* replacing keeps one entry */
	auth_cache_insert(cache, "P1\talice", "{PLAIN}other", false);
	ck_assert_uint_eq(auth_cache_count(cache), 1);
	ck_assert_str_eq(lookup(cache, "P1\talice", &expired), "{PLAIN}other");
	ck_assert_uint_eq(cache->hit_count, 2);
	ck_assert_uint_eq(cache->miss_count, 1);
	/* negative entries */
	auth_cache_insert(cache, "P1\tnosuch", "", false);
	ck_assert_str_eq(lookup(cache, "P1\tnosuch", &expired), "");
	auth_cache_free(&cache);
	ck_assert_ptr_null(cache);
}
END_TEST

START_TEST(test_cache_negative_ttl_zero)
{
	struct auth_cache *cache = new_cache(1024, 3600, 0);
	bool expired;

	auth_cache_insert(cache, "P1\tnosuch", "", false);
	ck_assert_uint_eq(auth_cache_count(cache), 0);
	ck_assert_ptr_null(lookup(cache, "P1\tnosuch", &expired));
	auth_cache_free(&cache);
}
END_TEST

START_TEST(test_cache_ttl)
{
	struct auth_cache *cache = new_cache(1024 * 1024, 60, 10);
	struct auth_cache_node *node;
	bool expired, neg_expired;

	auth_cache_insert(cache, "P1\talice", "{PLAIN}x", true);
	auth_cache_insert(cache, "P1\tnosuch", "", false);
	fake_time += 10;
	/* exactly the TTL old is still fresh */
	ck_assert_str_eq(lookup(cache, "P1\tnosuch", &expired), "");
	ck_assert(!expired);
	fake_time += 1;
	ck_assert_str_eq(lookup(cache, "P1\tnosuch", &expired), "");
	ck_assert(expired);
	/* the positive entry is fresh but older than the negative TTL */
	ck_assert_str_eq(auth_cache_lookup(cache, "P1\talice", &node,
					   &expired, &neg_expired),
			 "{PLAIN}x");
	ck_assert(!expired);
	ck_assert(neg_expired);
	fake_time += 50;
	ck_assert_str_eq(lookup(cache, "P1\talice", &expired), "{PLAIN}x");
	ck_assert(expired);
	/* an expired lookup is a miss */
	ck_assert_uint_eq(cache->miss_count, 2);
	ck_assert_uint_eq(cache->hit_count, 2);
	auth_cache_free(&cache);
}
END_TEST

START_TEST(test_cache_lru_eviction)
{
	/* room for three entries of 32 + 5 + 1 + 5 + 1 = 44 bytes */
	struct auth_cache *cache = new_cache(3 * 44, 3600, 3600);
	bool expired;

	auth_cache_insert(cache, "P1\tu1", "v1234", true);
	auth_cache_insert(cache, "P1\tu2", "v1234", true);
	auth_cache_insert(cache, "P1\tu3", "v1234", true);
	ck_assert_uint_eq(cache->size_left, 0);
	/* using u1 makes u2 the oldest */
	ck_assert_ptr_nonnull(lookup(cache, "P1\tu1", &expired));
	auth_cache_insert(cache, "P1\tu4", "v1234", true);
	ck_assert_uint_eq(auth_cache_count(cache), 3);
	ck_assert_ptr_null(lookup(cache, "P1\tu2", &expired));
	ck_assert_ptr_nonnull(lookup(cache, "P1\tu1", &expired));
	ck_assert_ptr_nonnull(lookup(cache, "P1\tu3", &expired));
	ck_assert_ptr_nonnull(lookup(cache, "P1\tu4", &expired));
	/* a bigger entry pushes out as many as needed */
	auth_cache_insert(cache, "P1\tbig", "0123456789012345678901234567890"
			  "123456789", true);
	ck_assert_ptr_nonnull(lookup(cache, "P1\tbig", &expired));
	ck_assert_uint_le(cache->max_size - cache->size_left, cache->max_size);
	ck_assert_uint_eq(auth_cache_count(cache), 2);
	auth_cache_free(&cache);
}
END_TEST

START_TEST(test_cache_entry_too_big)
{
	struct auth_cache *cache = new_cache(60, 3600, 3600);
	bool expired;

	auth_cache_insert(cache, "P1\ta", "x", true);
	auth_cache_insert(cache, "P1\tb", "0123456789012345678901234567890",
			  true);
	ck_assert_ptr_null(lookup(cache, "P1\tb", &expired));
	ck_assert_ptr_nonnull(lookup(cache, "P1\ta", &expired));
	ck_assert_uint_eq(cache->size_left, 60 - (32 + 4 + 1 + 1 + 1));
	auth_cache_free(&cache);
}
END_TEST

START_TEST(test_cache_clear_users)
{
	struct auth_cache *cache = new_cache(1024 * 1024, 3600, 3600);
	static const char *const alice[] = { "alice", NULL };
	static const char *const two[] = { "bob", "nosuch", NULL };

	auth_cache_insert(cache, "P1\talice", "x", true);
	auth_cache_insert(cache, "U1\talice", "uid=1", false);
	auth_cache_insert(cache, "P12+\talice", "x", true);
	auth_cache_insert(cache, "P2\talice\timap", "x", true);
	/* other users, and keys that don't start with the user */
	auth_cache_insert(cache, "P1\talicex", "x", true);
	auth_cache_insert(cache, "P1\tAlice", "x", true);
	auth_cache_insert(cache, "P1\timap\talice", "x", true);
	auth_cache_insert(cache, "P1alice", "x", true);
	auth_cache_insert(cache, "P1\tbob", "x", true);
	auth_cache_insert(cache, "U3\tbob", "", false);
	ck_assert_uint_eq(auth_cache_clear_users(cache, alice), 4);
	ck_assert_uint_eq(auth_cache_count(cache), 6);
	ck_assert_uint_eq(auth_cache_clear_users(cache, two), 2);
	ck_assert_uint_eq(auth_cache_clear_users(cache, two), 0);
	ck_assert_uint_eq(auth_cache_clear(cache), 4);
	ck_assert_uint_eq(auth_cache_count(cache), 0);
	ck_assert_uint_eq(cache->size_left, cache->max_size);
	auth_cache_free(&cache);
}
END_TEST

START_TEST(test_cache_stats)
{
	struct auth_cache *cache = new_cache(1024 * 1024, 3600, 3600);
	bool expired;

	/* Dovecot's figures for these two entries were 154 and 43 bytes:
	   32 + key + 1 + value + 1 */
	auth_cache_insert(cache, "P1\tbob", "{CRYPT}$6$pepper12$0123456789012"
			  "345678901234567890123456789012345678901234567890123"
			  "4567890123456789012345\tuser=bob", true);
	auth_cache_insert(cache, "P1\tnosuch", "", false);
	(void)lookup(cache, "P1\tbob", &expired);
	(void)lookup(cache, "P1\tx", &expired);
	(void)lookup(cache, "P1\tx", &expired);
	test_log_capture_start();
	auth_cache_log_stats(cache);
	auth_cache_log_stats(cache);
	ck_assert_str_eq(test_log_captured(),
		"Info: Authentication cache hits 1/3 (33%)\n"
		"Info: Authentication cache inserts: positive: 1 entries 154 "
		"bytes, negative: 1 entries 43 bytes\n"
		"Info: Authentication cache current size: 197 bytes used of "
		"1048576 bytes (0%)\n"
		"Info: Authentication cache hits 0/0 (100%)\n"
		"Info: Authentication cache inserts: positive: 0 entries 0 "
		"bytes, negative: 0 entries 0 bytes\n"
		"Info: Authentication cache current size: 197 bytes used of "
		"1048576 bytes (0%)\n");
	test_log_capture_stop();
	auth_cache_free(&cache);
}
END_TEST

START_TEST(test_cache_parse_key)
{
	pool_t pool = pool_create("parse key", 1024);

	ck_assert_str_eq(auth_cache_parse_key(pool, "%u"), "%u");
	ck_assert_str_eq(auth_cache_parse_key(pool, "%u%s"), "%u\t%s");
	ck_assert_str_eq(auth_cache_parse_key(pool,
		"SELECT pw FROM users WHERE user='%u' AND svc='%s' -- %u %%"),
		"%u\t%s");
	ck_assert_str_eq(auth_cache_parse_key(pool, "%Ln@%{rip} %2.1d %Ln"),
			 "%Ln\t%{rip}\t%2.1d");
	ck_assert_str_eq(auth_cache_parse_key(pool, "%{if;%s;eq;imap;a;b}"),
			 "%{if;%s;eq;imap;a;b}");
	ck_assert_str_eq(auth_cache_parse_key(pool, "no variables"), "");
	ck_assert_str_eq(auth_cache_parse_key(pool, "trailing %"), "");
	pool_destroy(&pool);
}
END_TEST

/* ---- requests ---- */

static pool_t pool;
static const char *dir;
static struct ioloop *loop;
static struct config *config;
static struct auth *auth;

static void setup(void)
{
	pool = pool_create("check_auth_cache", 4096);
	dir = test_tmpdir_create();
	loop = io_loop_create();
	test_log_capture_start();
}

static void auth_stop(void)
{
	if (auth != NULL)
		auth_deinit(&auth);
	config_free(&config);
}

static void teardown(void)
{
	auth_stop();
	io_loop_destroy(&loop);
	test_log_capture_stop();
	test_tmpdir_remove();
	pool_destroy(&pool);
}

static const char *write_users(const char *text)
{
	char *path = test_write_file(dir, "users", text, strlen(text));
	const char *ret = p_strdup(pool, path);

	free(path);
	/* passwd-file rereads on an mtime change: make sure it sees one
	   even within the same clock tick */
	return ret;
}

/* A passwd-file passdb and userdb with the cache on; the passwd-file is
 * given the key Dovecot's passwd/shadow drivers use. */
static void ATTR_FORMAT(2, 3) auth_start(const char *users,
					 const char *fmt, ...)
{
	const struct settings_root *set;
	const char *text, *error = NULL, *path = write_users(users);
	va_list args;

	auth_stop();
	va_start(args, fmt);
	text = p_strdup_vprintf(pool, fmt, args);
	va_end(args);
	text = p_strdup_printf(pool,
		"auth_failure_delay = 0\nauth_cache_size = 1M\n"
		"auth_verbose = yes\nauth_debug = yes\n%s"
		"passdb {\n driver = passwd-file\n args = %s\n}\n"
		"userdb {\n driver = passwd-file\n args = %s\n}\n",
		text, path, path);
	config = test_parse(text);
	ck_assert_msg(config != NULL, "config: %s\n%s", test_parse_error(),
		      text);
	set = config_bind(pool, config->blocks[0]->root, &error);
	ck_assert_msg(set != NULL, "config_bind: %s", error);
	ck_assert_msg(auth_init(pool, loop, set, &auth, &error) == 0,
		      "auth_init: %s\n%s", error, text);
	ck_assert_ptr_nonnull(auth->cache);
	auth->cache->now = fake_now;
	fake_time = 1000000;
	auth->passdbs[0].cache_key = "%u";
	auth->userdbs[0].cache_key = "%u";
}

static void change_users(const char *users)
{
	(void)write_users(users);
	/* a new mtime even within the same tick */
	struct timespec ts[2] = { { 0, UTIME_NOW }, { fake_time, 0 } };
	char *path = p_strdup_printf(pool, "%s/users", dir);

	fake_time++;
	ts[1].tv_sec = fake_time;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

struct result {
	bool done, success;
};

static void answer(struct auth_request *req, bool success)
{
	struct result *res = req->handler_context;

	ck_assert(!res->done);
	res->done = true;
	res->success = success;
	io_loop_stop(loop);
}

static void h_continue(struct auth_request *req ATTR_UNUSED,
		       const unsigned char *data ATTR_UNUSED,
		       size_t size ATTR_UNUSED)
{
	ck_abort_msg("unexpected continue");
}

static void h_success(struct auth_request *req,
		      const unsigned char *data ATTR_UNUSED,
		      size_t size ATTR_UNUSED)
{
	answer(req, true);
}

static void h_fail(struct auth_request *req, const char *code ATTR_UNUSED,
		   const char *reason ATTR_UNUSED)
{
	answer(req, false);
}

static const struct auth_request_handler handler = {
	.reply_continue = h_continue,
	.reply_success = h_success,
	.reply_fail = h_fail,
};

static bool plain(const char *user, const char *pass)
{
	const struct mech_module *mech = mech_module_find("PLAIN");
	struct result res = { 0 };
	struct auth_request *req = auth_request_new(auth, mech, &handler,
						    &res);
	string_t *data = str_new(64);

	auth_request_import(req, "service", "imap");
	auth_request_import(req, "secured", NULL);
	str_append_c(data, '\0');
	str_append(data, user);
	str_append_c(data, '\0');
	str_append(data, pass);
	auth_request_initial(req, (const unsigned char *)str_c(data),
			     str_len(data));
	str_free(&data);
	if (!res.done)
		io_loop_run(loop);
	ck_assert(res.done);
	auth_request_free(&req);
	return res.success;
}

/* The captured log lines since the last call, cleared. */
static const char *log_take(void)
{
	const char *ret = p_strdup(pool, test_log_captured());

	test_log_capture_stop();
	test_log_capture_start();
	return ret;
}

static bool has(const char *log, const char *text)
{
	return strstr(log, text) != NULL;
}

#define DB_LOOKUP "passwd-file(alice): lookup: user=alice"

START_TEST(test_request_positive_entry)
{
	const char *log;

	auth_start("alice:{PLAIN}old:1000:1000::/home/alice::foo=bar\n",
		   "%s", "");
	ck_assert(plain("alice", "old"));
	log = log_take();
	ck_assert_msg(has(log, "Debug: passwd-file(alice): cache miss\n") &&
		      has(log, DB_LOOKUP), "%s", log);
	/* the password changes: the old one still works from the cache */
	change_users("alice:{PLAIN}new:1000:1000::/home/alice::foo=bar\n");
	ck_assert(plain("alice", "old"));
	log = log_take();
	ck_assert_msg(has(log, "Debug: passwd-file(alice): cache hit: "
			  "<hidden>\tfoo=bar\n") && !has(log, DB_LOOKUP),
		      "%s", log);
	/* the new one: a mismatch against an entry that worked last
	   time asks the database, which knows it */
	ck_assert(plain("alice", "new"));
	log = log_take();
	ck_assert_msg(has(log, "cache hit") && has(log, DB_LOOKUP) &&
		      !has(log, "Password mismatch"), "%s", log);
	/* the old one again: rechecked once ... */
	ck_assert(!plain("alice", "old"));
	log = log_take();
	ck_assert_msg(has(log, DB_LOOKUP) &&
		      has(log, "Info: passwd-file(alice): Password mismatch"),
		      "%s", log);
	/* ... then refused from the cache alone */
	ck_assert(!plain("alice", "old"));
	log = log_take();
	ck_assert_msg(!has(log, DB_LOOKUP) &&
		      has(log, "Info: passwd-file(alice): Password mismatch"),
		      "%s", log);
	ck_assert(plain("alice", "new"));
	ck_assert(!has(log_take(), DB_LOOKUP));
}
END_TEST

START_TEST(test_request_early_change)
{
	const char *log;

	/* Dovecot's "early change" case: a wrong password before the
	   change is refused until the entry expires */
	auth_start("alice:{PLAIN}x:1000:1000::/home/alice::\n",
		   "auth_cache_ttl = 100s\n");
	ck_assert(plain("alice", "x"));
	ck_assert(!plain("alice", "y"));
	ck_assert(has(log_take(), DB_LOOKUP));
	change_users("alice:{PLAIN}y:1000:1000::/home/alice::\n");
	ck_assert(!plain("alice", "y"));
	ck_assert(!has(log_take(), DB_LOOKUP));
	ck_assert(plain("alice", "x"));
	/* expired: the database again */
	fake_time += 101;
	ck_assert(plain("alice", "y"));
	log = log_take();
	ck_assert_msg(has(log, "Debug: passwd-file(alice): cache expired\n") &&
		      has(log, DB_LOOKUP), "%s", log);
	ck_assert(!plain("alice", "x"));
}
END_TEST

START_TEST(test_request_negative_entry)
{
	const char *log;

	auth_start("alice:{PLAIN}x:1000:1000::/home/alice::\n",
		   "auth_cache_negative_ttl = 30s\n");
	ck_assert(!plain("bob", "b"));
	log = log_take();
	ck_assert_msg(has(log, "Info: passwd-file(bob): unknown user\n"),
		      "%s", log);
	change_users("alice:{PLAIN}x:1000:1000::/home/alice::\n"
		     "bob:{PLAIN}b:1001:1001::/home/bob::\n");
	ck_assert(!plain("bob", "b"));
	log = log_take();
	ck_assert_msg(has(log, "Debug: passwd-file(bob): cache hit: \n") &&
		      has(log, "Info: passwd-file(bob): unknown user\n") &&
		      !has(log, "lookup: user=bob"), "%s", log);
	/* the negative TTL is its own */
	fake_time += 31;
	ck_assert(plain("bob", "b"));
	ck_assert(has(log_take(), "cache expired"));
	/* flushing works too */
	ck_assert(!plain("carol", "c"));
	change_users("carol:{PLAIN}c:1002:1002::/home/carol::\n");
	ck_assert(!plain("carol", "c"));
	ck_assert_uint_gt(auth_cache_clear(auth->cache), 0);
	ck_assert(plain("carol", "c"));
}
END_TEST

START_TEST(test_request_negative_ttl_zero)
{
	auth_start("alice:{PLAIN}x:1000:1000::/home/alice::\n",
		   "auth_cache_negative_ttl = 0s\n");
	ck_assert(!plain("bob", "b"));
	change_users("bob:{PLAIN}b:1001:1001::/home/bob::\n");
	ck_assert(plain("bob", "b"));
}
END_TEST

START_TEST(test_request_no_cache_key)
{
	const char *log;

	/* passwd-file as Dovecot has it: no cache key, never cached */
	auth_start("alice:{PLAIN}x:1000:1000::/home/alice::\n", "%s", "");
	auth->passdbs[0].cache_key = NULL;
	ck_assert(plain("alice", "x"));
	change_users("alice:{PLAIN}y:1000:1000::/home/alice::\n");
	ck_assert(!plain("alice", "x"));
	ck_assert(plain("alice", "y"));
	log = log_take();
	ck_assert_msg(!has(log, "cache"), "%s", log);
	ck_assert_uint_eq(auth_cache_count(auth->cache), 0);
}
END_TEST

START_TEST(test_request_no_cache_without_size)
{
	const struct settings_root *set;
	const char *error = NULL;

	config = test_parse("auth_cache_ttl = 1h\n"
			    "passdb {\n driver = static\n"
			    " args = password=x\n}\n");
	ck_assert_ptr_nonnull(config);
	set = config_bind(pool, config->blocks[0]->root, &error);
	ck_assert_ptr_nonnull(set);
	ck_assert_int_eq(auth_init(pool, loop, set, &auth, &error), 0);
	ck_assert_ptr_null(auth->cache);
}
END_TEST

/* ---- userdb ---- */

struct user_result {
	bool done, found;
	char *uid;
};

static void user_cb(struct auth_request *req, bool found)
{
	struct user_result *ur = req->handler_context;
	const char *uid = auth_fields_get(req->userdb_fields, "uid");

	ur->done = true;
	ur->found = found;
	ur->uid = uid == NULL ? NULL : p_strdup(pool, uid);
	io_loop_stop(loop);
}

static const char *user_uid_service(const char *user, const char *service)
{
	struct user_result ur = { 0 };
	struct auth_request *req = auth_request_new(auth, NULL, &handler, &ur);

	auth_request_import(req, "service", service);
	auth_request_set_user(req, user);
	req->lookup.userdb_only = true;
	auth_request_lookup_user(req, user_cb);
	if (!ur.done)
		io_loop_run(loop);
	ck_assert(ur.done);
	auth_request_free(&req);
	return ur.found ? ur.uid : "(not found)";
}

static const char *user_uid(const char *user)
{
	return user_uid_service(user, "lda");
}

START_TEST(test_request_userdb)
{
	static const char *const alice[] = { "alice", NULL };
	const char *log;

	auth_start("alice:{PLAIN}x:1000:1000::/home/alice::\n",
		   "%s", "");
	ck_assert_str_eq(user_uid("alice"), "1000");
	ck_assert_str_eq(user_uid("bob"), "(not found)");
	log = log_take();
	ck_assert_msg(has(log, "Debug: passwd-file(alice): userdb cache "
			  "miss\n"), "%s", log);
	change_users("alice:{PLAIN}x:2000:2000::/home/alice::\n"
		     "bob:{PLAIN}x:3000:3000::/home/bob::\n");
	ck_assert_str_eq(user_uid("alice"), "1000");
	ck_assert_str_eq(user_uid("bob"), "(not found)");
	log = log_take();
	ck_assert_msg(has(log, "Debug: passwd-file(alice): userdb cache hit: "
			  "uid=1000\tgid=1000\thome=/home/alice\n") &&
		      has(log, "Debug: passwd-file(bob): userdb cache hit: \n"),
		      "%s", log);
	ck_assert_uint_eq(auth_cache_clear_users(auth->cache, alice), 1);
	ck_assert_str_eq(user_uid("alice"), "2000");
	ck_assert_str_eq(user_uid("bob"), "(not found)");
}
END_TEST

START_TEST(test_request_userdb_default_fields)
{
	auth_start("alice:{PLAIN}x:1000:1000::/home/alice::\n", "%s", "");
	/* the key takes the default_fields' variables: per service */
	auth->userdbs[0].cache_key = "%u%s";
	ck_assert_str_eq(user_uid("alice"), "1000");
	change_users("alice:{PLAIN}x:2000:2000::/home/alice::\n");
	ck_assert_str_eq(user_uid("alice"), "1000");
	ck_assert_str_eq(user_uid_service("alice", "imap"), "2000");
	ck_assert_str_eq(user_uid("alice"), "1000");
}
END_TEST

Suite *make_auth_cache_suite(void)
{
	Suite *s = suite_create("auth_cache");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_cache_insert_lookup);
	tcase_add_test(tc, test_cache_negative_ttl_zero);
	tcase_add_test(tc, test_cache_ttl);
	tcase_add_test(tc, test_cache_lru_eviction);
	tcase_add_test(tc, test_cache_entry_too_big);
	tcase_add_test(tc, test_cache_clear_users);
	tcase_add_test(tc, test_cache_stats);
	tcase_add_test(tc, test_cache_parse_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("Requests");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_positive_entry);
	tcase_add_test(tc, test_request_early_change);
	tcase_add_test(tc, test_request_negative_entry);
	tcase_add_test(tc, test_request_negative_ttl_zero);
	tcase_add_test(tc, test_request_no_cache_key);
	tcase_add_test(tc, test_request_no_cache_without_size);
	tcase_add_test(tc, test_request_userdb);
	tcase_add_test(tc, test_request_userdb_default_fields);
	suite_add_tcase(s, tc);
	return s;
}

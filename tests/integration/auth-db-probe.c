/* auth-db-probe.c - test-only program: runs one passdb/userdb driver call
 * and prints what came back, so shell tests can drive the drivers through
 * real system stacks (PAM and NSS under pam_wrapper/nss_wrapper).
 *   auth-db-probe passdb DRIVER ARGS USER PASSWORD   verify a password
 *   auth-db-probe lookup DRIVER ARGS USER            credentials lookup
 *   auth-db-probe userdb DRIVER ARGS USER            userdb lookup
 *   auth-db-probe iterate DRIVER ARGS [FIRST_UID]    list users
 * Prints "result=NAME", "reason=TEXT", "password=..." and one
 * "field KEY=VALUE" line per field; log lines go to stderr. */
#include "lib.h"
#include "pool.h"
#include "userdb.h"

#include <stdio.h>

static const char *passdb_result_name(enum passdb_result result)
{
	switch (result) {
	case PASSDB_RESULT_OK: return "OK";
	case PASSDB_RESULT_PASSWORD_MISMATCH: return "PASSWORD_MISMATCH";
	case PASSDB_RESULT_USER_UNKNOWN: return "USER_UNKNOWN";
	case PASSDB_RESULT_USER_DISABLED: return "USER_DISABLED";
	case PASSDB_RESULT_PASS_EXPIRED: return "PASS_EXPIRED";
	case PASSDB_RESULT_SCHEME_NOT_AVAILABLE: return "SCHEME_NOT_AVAILABLE";
	case PASSDB_RESULT_NEXT: return "NEXT";
	case PASSDB_RESULT_INTERNAL_FAILURE: return "INTERNAL_FAILURE";
	}
	return "?";
}

static const char *userdb_result_name(enum userdb_result result)
{
	switch (result) {
	case USERDB_RESULT_OK: return "OK";
	case USERDB_RESULT_USER_UNKNOWN: return "USER_UNKNOWN";
	case USERDB_RESULT_INTERNAL_FAILURE: return "INTERNAL_FAILURE";
	}
	return "?";
}

static void print_lookup(const struct auth_lookup *lookup)
{
	if (lookup->log_reason != NULL)
		printf("reason=%s\n", lookup->log_reason);
	if (lookup->password != NULL)
		printf("password=%s\n", lookup->password);
	for (unsigned int i = 0; i < auth_fields_count(lookup->extra_fields);
	     i++) {
		const char *key, *value;

		auth_fields_get_idx(lookup->extra_fields, i, &key, &value);
		printf("field %s%s%s\n", key, value == NULL ? "" : "=",
		       value == NULL ? "" : value);
	}
}

static void print_user(const char *user, void *context ATTR_UNUSED)
{
	printf("user %s\n", user);
}

static int usage(void)
{
	fprintf(stderr, "usage: auth-db-probe passdb|lookup|userdb|iterate "
		"DRIVER ARGS [USER [PASSWORD]]\n");
	return EXIT_USAGE;
}

static int probe_passdb(pool_t pool, int argc, char **argv,
			struct auth_lookup *lookup)
{
	const struct passdb_driver *driver = passdb_driver_find(argv[2]);
	struct passdb_module *module;
	enum passdb_result result;
	const char *error;
	bool verify = strcmp(argv[1], "passdb") == 0;

	if (driver == NULL || argc < (verify ? 6 : 5))
		return usage();
	if (driver->create(pool, argv[3], &module, &error) < 0) {
		printf("create-error=%s\n", error);
		return 1;
	}
	if (driver->init != NULL)
		driver->init(module, &auth_db_default_settings);
	if (verify)
		result = driver->verify_plain(module, lookup, argv[5]);
	else if (driver->lookup_credentials == NULL)
		result = PASSDB_RESULT_SCHEME_NOT_AVAILABLE;
	else
		result = driver->lookup_credentials(module, lookup);
	printf("result=%s\n", passdb_result_name(result));
	print_lookup(lookup);
	if (driver->deinit != NULL)
		driver->deinit(module);
	return 0;
}

static int probe_userdb(pool_t pool, int argc, char **argv,
			struct auth_lookup *lookup)
{
	const struct userdb_driver *driver = userdb_driver_find(argv[2]);
	struct auth_db_settings set = auth_db_default_settings;
	struct userdb_module *module;
	const char *error;
	int ret = 0;

	if (driver == NULL || argc < 4)
		return usage();
	if (driver->create(pool, argv[3], &module, &error) < 0) {
		printf("create-error=%s\n", error);
		return 1;
	}
	if (strcmp(argv[1], "iterate") == 0 && argc > 4)
		set.first_valid_uid = (unsigned int)strtoul(argv[4], NULL, 10);
	if (driver->init != NULL)
		driver->init(module, &set);
	if (strcmp(argv[1], "iterate") == 0) {
		if (driver->iterate == NULL ||
		    driver->iterate(module, print_user, NULL) < 0)
			printf("result=INTERNAL_FAILURE\n");
		else
			printf("result=OK\n");
	} else if (argc < 5) {
		ret = usage();
	} else {
		printf("result=%s\n", userdb_result_name(
			driver->lookup(module, lookup)));
		print_lookup(lookup);
	}
	if (driver->deinit != NULL)
		driver->deinit(module);
	return ret;
}

int main(int argc, char **argv)
{
	pool_t pool;
	struct auth_lookup lookup;
	int ret;

	if (argc < 4)
		return usage();
	log_set_prefix("auth: ");
	pool = pool_create("auth-db-probe", 4096);
	memset(&lookup, 0, sizeof(lookup));
	lookup.pool = pool;
	lookup.user = argc > 4 ? argv[4] : "";
	lookup.original_user = lookup.user;
	lookup.service = "imap";
	lookup.remote_ip = "192.0.2.10";
	lookup.local_ip = "192.0.2.1";
	lookup.mech = "PLAIN";
	lookup.debug = getenv("PROBE_DEBUG") != NULL;
	lookup.extra_fields = auth_fields_new(pool);

	if (strcmp(argv[1], "passdb") == 0 || strcmp(argv[1], "lookup") == 0)
		ret = probe_passdb(pool, argc, argv, &lookup);
	else if (strcmp(argv[1], "userdb") == 0 ||
		 strcmp(argv[1], "iterate") == 0)
		ret = probe_userdb(pool, argc, argv, &lookup);
	else
		ret = usage();
	fflush(stdout);
	pool_destroy(&pool);
	return ret;
}

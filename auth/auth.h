/* auth.h - the authentication service's state: the configured passdbs
 * and userdbs (in order, with their result rules), the enabled SASL
 * mechanisms, failure delay and per-IP penalties. */
#ifndef ROOST_AUTH_H
#define ROOST_AUTH_H

#include "lib.h"
#include "pool.h"
#include "ioloop.h"
#include "hash.h"
#include "settings-structs.h"
#include "mech.h"
#include "passdb.h"
#include "userdb.h"

struct auth_worker_pool;
struct auth_cache;
struct auth_policy;

struct auth_passdb {
	unsigned int idx;
	const struct settings_passdb *set;
	struct passdb_module *module;
	/* The driver's cache key with default_fields appended (their
	   variables change the result too), or NULL: not cached. */
	const char *cache_key;
};

struct auth_userdb {
	unsigned int idx;
	const struct settings_userdb *set;
	struct userdb_module *module;
	const char *cache_key;	/* as in auth_passdb */
};

struct auth {
	pool_t pool;
	struct ioloop *loop;
	const struct settings_root *set;
	struct auth_passdb *passdbs;
	unsigned int passdb_count;
	bool have_master_passdbs;
	struct auth_userdb *userdbs;
	unsigned int userdb_count;
	const struct mech_module **mechs;
	unsigned int mech_count;
	struct mech_settings mech_set;
	/* blocking lookups go here; NULL inside a worker process itself */
	struct auth_worker_pool *workers;
	/* auth_cache_size > 0: passdb/userdb results (auth-cache.h) */
	struct auth_cache *cache;
	/* auth_policy_server_url set: the policy client (auth-policy.h) */
	struct auth_policy *policy;
	/* rip -> struct auth_penalty_entry */
	struct hash_table *penalties;
	unsigned int connection_uid_counter;
};

/* Build the service from bound settings: create every passdb/userdb
 * module and look up auth_mechanisms. Errors are config errors with
 * Dovecot's wording ("Unknown passdb driver 'x'"). */
int auth_init(pool_t pool, struct ioloop *loop,
	      const struct settings_root *set, struct auth **auth_r,
	      const char **error_r);
void auth_deinit(struct auth **auth);

const struct mech_module *auth_mech_find(const struct auth *auth,
					 const char *name);

/* Penalty: failed attempts from one remote IP slow its next attempts. */
unsigned int auth_penalty_get_msecs(struct auth *auth, const char *rip);
void auth_penalty_update(struct auth *auth, const char *rip, bool failed);

#endif

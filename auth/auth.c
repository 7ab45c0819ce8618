/* auth.c - building the auth service from settings; per-IP penalties. */
#include "auth.h"
#include "auth-cache.h"
#include "auth-policy.h"
#include "auth-worker.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#define PENALTY_MAX_MSECS (15 * 1000)
#define PENALTY_FORGET_MSECS (60 * 60 * 1000)

struct auth_penalty_entry {
	unsigned int failures;
	uint64_t last_msecs;
};

static int auth_mechs_init(struct auth *auth, const char **error_r)
{
	char *copy = p_strdup(auth->pool, auth->set->auth_mechanisms);
	char *save = NULL, *name;

	auth->mechs = p_new(auth->pool, const struct mech_module *, 32);
	for (name = strtok_r(copy, " ,", &save); name != NULL;
	     name = strtok_r(NULL, " ,", &save)) {
		const struct mech_module *mech = mech_module_find(name);

		if (mech == NULL) {
			*error_r = p_strdup_printf(auth->pool,
				"Unknown authentication mechanism '%s'", name);
			return -1;
		}
		if (auth_mech_find(auth, mech->name) != NULL)
			continue;
		if ((mech->flags & MECH_FLAG_CHANNEL_BINDING) != 0) {
			/* the login side can't pass TLS channel bindings
			   yet: offering -PLUS would only fail */
			i_warning("%s: TLS channel binding is not supported "
				  "yet, mechanism not offered", mech->name);
			continue;
		}
		if (auth->mech_count == 31) {
			*error_r = "Too many authentication mechanisms";
			return -1;
		}
		auth->mechs[auth->mech_count++] = mech;
	}
	if (auth->mech_count == 0) {
		*error_r = "No authentication mechanisms configured";
		return -1;
	}
	return 0;
}

/* A mechanism that needs the stored password (CRAM-MD5, DIGEST-MD5,
 * SCRAM) is refused at startup, as by Dovecot, when no passdb can look
 * passwords up (PAM, checkpassword-less setups ...). */
static int auth_mechs_check_passdbs(struct auth *auth, const char **error_r)
{
	bool credentials = false;

	for (unsigned int i = 0; i < auth->passdb_count; i++) {
		if (!auth->passdbs[i].set->master &&
		    auth->passdbs[i].module->driver->lookup_credentials != NULL)
			credentials = true;
	}
	/* Dovecot names the last such mechanism of auth_mechanisms */
	for (unsigned int i = auth->mech_count; i > 0; i--) {
		if (auth->mechs[i - 1]->needs_credentials && !credentials) {
			*error_r = p_strdup_printf(auth->pool,
				"%s mechanism can't be supported with given "
				"passdbs", auth->mechs[i - 1]->name);
			return -1;
		}
	}
	return 0;
}

static int auth_passdbs_init(struct auth *auth, const char **error_r)
{
	const struct settings_root *set = auth->set;

	auth->passdbs = p_new(auth->pool, struct auth_passdb,
			      set->passdb_count + 1);
	for (unsigned int i = 0; i < set->passdb_count; i++) {
		const struct settings_passdb *pset = set->passdb[i];
		const struct passdb_driver *driver =
			passdb_driver_find(pset->driver);
		struct auth_passdb *pdb = &auth->passdbs[i];
		const char *error;

		if (driver == NULL) {
			*error_r = p_strdup_printf(auth->pool,
				"Unknown passdb driver '%s'", pset->driver);
			return -1;
		}
		if (driver->create(auth->pool, pset->args, &pdb->module,
				   &error) < 0) {
			*error_r = p_strdup_printf(auth->pool, "passdb %s: %s",
						   pset->driver, error);
			return -1;
		}
		pdb->idx = i;
		pdb->set = pset;
		if (pdb->module->cache_key != NULL) {
			pdb->cache_key = p_strdup_printf(auth->pool, "%s%s",
				pdb->module->cache_key, pset->default_fields);
		}
		if (pset->master)
			auth->have_master_passdbs = true;
	}
	auth->passdb_count = set->passdb_count;
	return 0;
}

static int auth_userdbs_init(struct auth *auth, const char **error_r)
{
	const struct settings_root *set = auth->set;

	auth->userdbs = p_new(auth->pool, struct auth_userdb,
			      set->userdb_count + 1);
	for (unsigned int i = 0; i < set->userdb_count; i++) {
		const struct settings_userdb *uset = set->userdb[i];
		const struct userdb_driver *driver =
			userdb_driver_find(uset->driver);
		struct auth_userdb *udb = &auth->userdbs[i];
		const char *error;

		if (driver == NULL) {
			*error_r = p_strdup_printf(auth->pool,
				"Unknown userdb driver '%s'", uset->driver);
			return -1;
		}
		if (driver->create(auth->pool, uset->args, &udb->module,
				   &error) < 0) {
			*error_r = p_strdup_printf(auth->pool, "userdb %s: %s",
						   uset->driver, error);
			return -1;
		}
		udb->idx = i;
		udb->set = uset;
		if (udb->module->cache_key != NULL) {
			udb->cache_key = p_strdup_printf(auth->pool, "%s%s",
				udb->module->cache_key, uset->default_fields);
		}
	}
	auth->userdb_count = set->userdb_count;
	return 0;
}

int auth_init(pool_t pool, struct ioloop *loop,
	      const struct settings_root *set, struct auth **auth_r,
	      const char **error_r)
{
	struct auth *auth = p_new(pool, struct auth, 1);

	auth->pool = pool;
	auth->loop = loop;
	auth->set = set;
	auth->mech_set.anonymous_username = set->auth_anonymous_username;
	auth->mech_set.realms = set->auth_realms;
	auth->mech_set.default_realm = set->auth_default_realm;
	auth->mech_set.ssl_username_from_cert = set->auth_ssl_username_from_cert;
	auth->mech_set.verbose = set->auth_verbose;
	auth->mech_set.hostname = set->hostname[0] == '\0' ? NULL :
		set->hostname;
	if (auth_mechs_init(auth, error_r) < 0 ||
	    auth_passdbs_init(auth, error_r) < 0 ||
	    auth_userdbs_init(auth, error_r) < 0)
		return -1;
	struct auth_db_settings dbset = auth_db_default_settings;

	dbset.debug = set->auth_debug;
	dbset.userdb_count = auth->userdb_count;
	dbset.first_valid_uid = set->first_valid_uid;
	dbset.last_valid_uid = set->last_valid_uid;
	for (unsigned int i = 0; i < auth->passdb_count; i++) {
		struct passdb_module *m = auth->passdbs[i].module;

		if (m->driver->init != NULL)
			m->driver->init(m, &dbset);
	}
	for (unsigned int i = 0; i < auth->userdb_count; i++) {
		struct userdb_module *m = auth->userdbs[i].module;

		if (m->driver->init != NULL)
			m->driver->init(m, &dbset);
	}
	if (auth->passdb_count == 0) {
		*error_r = "No passdbs specified in configuration file. "
			"PLAIN mechanism needs one";
		return -1;
	}
	if (auth_mechs_check_passdbs(auth, error_r) < 0)
		return -1;
	auth->penalties = hash_create(false);
	/* Dovecot: no cache unless both a size and a TTL are set */
	if (set->auth_cache_size > 0 && set->auth_cache_ttl > 0) {
		auth->cache = auth_cache_new((size_t)set->auth_cache_size,
					     set->auth_cache_ttl,
					     set->auth_cache_negative_ttl);
	}
	if (auth_policy_init(auth, &auth->policy, error_r) < 0)
		return -1;
	if (loop != NULL)
		auth->workers = auth_worker_pool_create(auth,
					set->auth_worker_max_count);
	*auth_r = auth;
	return 0;
}

void auth_deinit(struct auth **_auth)
{
	struct auth *auth = *_auth;
	struct hash_iter iter = { 0 };
	const char *key;
	void *value;

	*_auth = NULL;
	if (auth->workers != NULL)
		auth_worker_pool_destroy(&auth->workers);
	auth_cache_free(&auth->cache);
	auth_policy_deinit(&auth->policy);
	while (hash_iterate(auth->penalties, &iter, &key, &value))
		free(value);
	hash_destroy(&auth->penalties);
	for (unsigned int i = 0; i < auth->passdb_count; i++) {
		struct passdb_module *m = auth->passdbs[i].module;

		if (m->driver->deinit != NULL)
			m->driver->deinit(m);
	}
	for (unsigned int i = 0; i < auth->userdb_count; i++) {
		struct userdb_module *m = auth->userdbs[i].module;

		if (m->driver->deinit != NULL)
			m->driver->deinit(m);
	}
}

const struct mech_module *auth_mech_find(const struct auth *auth,
					 const char *name)
{
	for (unsigned int i = 0; i < auth->mech_count; i++) {
		if (strcasecmp(auth->mechs[i]->name, name) == 0)
			return auth->mechs[i];
	}
	return NULL;
}

/* Failures double the wait for the next attempt from that IP: 0, then
 * 2 s, 4 s, 8 s ... up to 15 s; an hour without failures forgets. */
unsigned int auth_penalty_get_msecs(struct auth *auth, const char *rip)
{
	struct auth_penalty_entry *e;
	unsigned int msecs;

	if (rip == NULL || (e = hash_lookup(auth->penalties, rip)) == NULL)
		return 0;
	if (io_loop_time_msecs() - e->last_msecs > PENALTY_FORGET_MSECS ||
	    e->failures == 0)
		return 0;
	msecs = e->failures >= 4 ? PENALTY_MAX_MSECS :
		1000U << e->failures;
	return MIN(msecs, PENALTY_MAX_MSECS);
}

void auth_penalty_update(struct auth *auth, const char *rip, bool failed)
{
	struct auth_penalty_entry *e;

	if (rip == NULL)
		return;
	e = hash_lookup(auth->penalties, rip);
	if (!failed) {
		if (e != NULL) {
			hash_remove(auth->penalties, rip);
			free(e);
		}
		return;
	}
	if (e == NULL) {
		/* bound the table: forget everyone when it grows too big */
		if (hash_count(auth->penalties) >= 100000) {
			struct hash_iter iter = { 0 };
			const char *key;
			void *value;

			while (hash_iterate(auth->penalties, &iter, &key,
					    &value))
				free(value);
			hash_destroy(&auth->penalties);
			auth->penalties = hash_create(false);
		}
		e = i_new(struct auth_penalty_entry, 1);
		hash_insert(auth->penalties, rip, e);
	}
	e->failures++;
	e->last_msecs = io_loop_time_msecs();
}

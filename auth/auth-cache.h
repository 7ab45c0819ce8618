/* auth-cache.h - the passdb/userdb result cache (auth_cache_size,
 * auth_cache_ttl, auth_cache_negative_ttl): expanded cache keys mapped
 * to the values a lookup returned, evicted least recently used first
 * when the memory budget is spent. Knows nothing of requests: the keys
 * and values are built by auth-request.c. */
#ifndef ROOST_AUTH_CACHE_H
#define ROOST_AUTH_CACHE_H

#include "lib.h"
#include "pool.h"

#include <time.h>

/* What one entry costs against auth_cache_size besides its key and
 * value (and their NULs): the figure Dovecot 2.3 counts on 64-bit
 * Linux, so that the SIGUSR2 statistics read the same. */
#define AUTH_CACHE_NODE_OVERHEAD 32

struct auth_cache_node {
	struct auth_cache_node *prev, *next;	/* LRU: head = newest */
	time_t created;
	size_t alloc_size;
	/* The last password check against this entry succeeded: a
	   mismatch now makes the caller ask the database again. */
	bool last_success;
	char *key;	/* points into data */
	char *value;	/* "" = negative entry (user unknown) */
	char data[];
};

struct auth_cache {
	struct hash_table *hash;
	struct auth_cache_node *head, *tail;
	size_t max_size, size_left;
	unsigned int ttl_secs, neg_ttl_secs;
	/* since the last auth_cache_log_stats() */
	unsigned int hit_count, miss_count;
	unsigned int pos_entries, neg_entries;
	unsigned long long pos_size, neg_size;
	/* time(NULL); unit tests replace it */
	time_t (*now)(void);
};

struct auth_cache *auth_cache_new(size_t max_size, unsigned int ttl_secs,
				  unsigned int neg_ttl_secs);
void auth_cache_free(struct auth_cache **cache);

/* Turn a template into the cache key template of its % variables only,
 * each once, in order, TAB-separated: "%u %s@x %{rip} %u" -> "%u\t%s\t
 * %{rip}" (no spaces). Variables keep their modifiers ("%Ln"). From
 * pool; "" when the template has none. */
const char *auth_cache_parse_key(pool_t pool, const char *query);

/* The entry for key, or NULL (a miss). An entry older than its TTL
 * (auth_cache_negative_ttl for negative ones) is still returned, with
 * *expired_r set and counted as a miss; the caller uses it only as a
 * fallback when the database fails. *neg_expired_r: older than the
 * negative TTL (a positive entry's mismatches then go to the
 * database too). A hit moves the entry to the head. */
const char *auth_cache_lookup(struct auth_cache *cache, const char *key,
			      struct auth_cache_node **node_r,
			      bool *expired_r, bool *neg_expired_r);
/* Add or replace. value "" is a negative entry, not stored when
 * auth_cache_negative_ttl is 0. Older entries are evicted until it
 * fits; an entry larger than the whole cache is not stored. */
void auth_cache_insert(struct auth_cache *cache, const char *key,
		       const char *value, bool last_success);
void auth_cache_remove(struct auth_cache *cache, const char *key);
/* The entry for key without touching the LRU order or statistics. */
struct auth_cache_node *auth_cache_peek(struct auth_cache *cache,
					const char *key);
/* Drop everything; returns how many entries there were. */
unsigned int auth_cache_clear(struct auth_cache *cache);
/* Drop the entries of these users: keys "<P|U><id>[+]\t<user>" followed
 * by TAB or the end (a key template that starts with something else
 * than the user name can't be flushed per user). Returns the count. */
unsigned int auth_cache_clear_users(struct auth_cache *cache,
				    const char *const *users);
unsigned int auth_cache_count(const struct auth_cache *cache);

/* Log the three "Authentication cache ..." Info lines (SIGUSR2) and
 * reset the counters. */
void auth_cache_log_stats(struct auth_cache *cache);

#endif

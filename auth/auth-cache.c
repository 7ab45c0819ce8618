/* auth-cache.c - the auth result cache: a hash of expanded keys over a
 * doubly linked LRU list, bounded by auth_cache_size counted the way
 * Dovecot counts it (entry overhead + key + value). */
#include "auth-cache.h"
#include "hash.h"
#include "str.h"

#include <stdio.h>

static time_t auth_cache_time(void)
{
	return time(NULL);
}

struct auth_cache *auth_cache_new(size_t max_size, unsigned int ttl_secs,
				  unsigned int neg_ttl_secs)
{
	struct auth_cache *cache = i_new(struct auth_cache, 1);

	cache->hash = hash_create(false);
	cache->max_size = max_size;
	cache->size_left = max_size;
	cache->ttl_secs = ttl_secs;
	cache->neg_ttl_secs = neg_ttl_secs;
	cache->now = auth_cache_time;
	return cache;
}

void auth_cache_free(struct auth_cache **_cache)
{
	struct auth_cache *cache = *_cache;

	if (cache == NULL)
		return;
	*_cache = NULL;
	(void)auth_cache_clear(cache);
	hash_destroy(&cache->hash);
	free(cache);
}

/* ---- the key template ---- */

/* Length of the variable reference starting at p (just after '%'):
 * modifiers, width, then one letter or a {...} with nested braces. */
static size_t var_ref_len(const char *p)
{
	size_t i = 0;
	unsigned int depth = 0;

	/* modifiers (case, escape, hex, reverse, hash ...) and widths */
	while (p[i] != '\0' && (strchr("0123456789.-", p[i]) != NULL ||
				(strchr("LUEXRHNMDT", p[i]) != NULL &&
				 p[i + 1] != '\0' && p[i + 1] != ' ')))
		i++;
	if (p[i] != '{')
		return p[i] == '\0' ? i : i + 1;
	for (; p[i] != '\0'; i++) {
		if (p[i] == '{')
			depth++;
		else if (p[i] == '}' && --depth == 0)
			return i + 1;
	}
	return i;
}

const char *auth_cache_parse_key(pool_t pool, const char *query)
{
	string_t *key = str_new(64);
	const char *ret;

	for (const char *p = query; *p != '\0'; p++) {
		size_t len;

		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		len = var_ref_len(p + 1);
		if (len == 0)
			continue;
		/* each variable once */
		char *var = i_strndup(p, len + 1);
		bool seen = false;

		for (const char *k = str_c(key); *k != '\0';) {
			size_t klen = strcspn(k, "\t");

			if (klen == len + 1 && memcmp(k, var, klen) == 0)
				seen = true;
			k += klen;
			if (*k == '\t')
				k++;
		}
		if (!seen) {
			if (str_len(key) > 0)
				str_append_c(key, '\t');
			str_append(key, var);
		}
		free(var);
		p += len;
	}
	ret = p_strdup(pool, str_c(key));
	str_free(&key);
	return ret;
}

/* ---- the list ---- */

static void node_unlink(struct auth_cache *cache, struct auth_cache_node *node)
{
	if (node->prev != NULL)
		node->prev->next = node->next;
	else
		cache->head = node->next;
	if (node->next != NULL)
		node->next->prev = node->prev;
	else
		cache->tail = node->prev;
	node->prev = node->next = NULL;
}

static void node_link_head(struct auth_cache *cache,
			   struct auth_cache_node *node)
{
	node->prev = NULL;
	node->next = cache->head;
	if (cache->head != NULL)
		cache->head->prev = node;
	else
		cache->tail = node;
	cache->head = node;
}

static void node_destroy(struct auth_cache *cache,
			 struct auth_cache_node *node)
{
	node_unlink(cache, node);
	(void)hash_remove(cache->hash, node->key);
	cache->size_left += node->alloc_size;
	/* cached passwords are secrets too */
	explicit_bzero(node->data, strlen(node->key) + 1 +
		       strlen(node->value) + 1);
	free(node);
}

const char *auth_cache_lookup(struct auth_cache *cache, const char *key,
			      struct auth_cache_node **node_r,
			      bool *expired_r, bool *neg_expired_r)
{
	struct auth_cache_node *node = hash_lookup(cache->hash, key);
	time_t now = cache->now();
	unsigned int ttl;

	*expired_r = false;
	*neg_expired_r = false;
	if (node_r != NULL)
		*node_r = node;
	if (node == NULL) {
		cache->miss_count++;
		return NULL;
	}
	ttl = node->value[0] == '\0' ? cache->neg_ttl_secs : cache->ttl_secs;
	if (node->created < now - (time_t)ttl) {
		cache->miss_count++;
		*expired_r = true;
	} else {
		if (node != cache->head) {
			node_unlink(cache, node);
			node_link_head(cache, node);
		}
		cache->hit_count++;
	}
	if (node->created < now - (time_t)cache->neg_ttl_secs)
		*neg_expired_r = true;
	return node->value;
}

void auth_cache_insert(struct auth_cache *cache, const char *key,
		       const char *value, bool last_success)
{
	size_t key_len = strlen(key), value_len = strlen(value);
	size_t alloc_size = size_add(AUTH_CACHE_NODE_OVERHEAD,
				     size_add(key_len, value_len + 2));
	struct auth_cache_node *node;

	if (value[0] == '\0' && cache->neg_ttl_secs == 0)
		return;
	if ((node = hash_lookup(cache->hash, key)) != NULL)
		node_destroy(cache, node);
	if (alloc_size > cache->max_size)
		return;
	while (cache->size_left < alloc_size && cache->tail != NULL)
		node_destroy(cache, cache->tail);

	/* @UNSAFE */
	node = i_malloc(sizeof(*node) + key_len + 1 + value_len + 1);
	memset(node, 0, sizeof(*node));
	node->created = cache->now();
	node->alloc_size = alloc_size;
	node->last_success = last_success;
	node->key = node->data;
	memcpy(node->key, key, key_len + 1);
	node->value = node->data + key_len + 1;
	memcpy(node->value, value, value_len + 1);
	node_link_head(cache, node);
	cache->size_left -= alloc_size;
	(void)hash_insert(cache->hash, node->key, node);

	if (value[0] != '\0') {
		cache->pos_entries++;
		cache->pos_size += alloc_size;
	} else {
		cache->neg_entries++;
		cache->neg_size += alloc_size;
	}
}

void auth_cache_remove(struct auth_cache *cache, const char *key)
{
	struct auth_cache_node *node = hash_lookup(cache->hash, key);

	if (node != NULL)
		node_destroy(cache, node);
}

struct auth_cache_node *auth_cache_peek(struct auth_cache *cache,
					const char *key)
{
	return hash_lookup(cache->hash, key);
}

unsigned int auth_cache_clear(struct auth_cache *cache)
{
	unsigned int count = 0;

	while (cache->tail != NULL) {
		node_destroy(cache, cache->tail);
		count++;
	}
	return count;
}

static bool node_is_user(const struct auth_cache_node *node, const char *user)
{
	const char *p = node->key, *rest;

	if (*p != 'P' && *p != 'U')
		return false;
	p++;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '+')
		p++;
	if (*p != '\t')
		return false;
	p++;
	return str_begins(p, user, &rest) && (*rest == '\t' || *rest == '\0');
}

unsigned int auth_cache_clear_users(struct auth_cache *cache,
				    const char *const *users)
{
	unsigned int count = 0;

	for (; *users != NULL; users++) {
		struct auth_cache_node *node, *next;

		for (node = cache->head; node != NULL; node = next) {
			next = node->next;
			if (node_is_user(node, *users)) {
				node_destroy(cache, node);
				count++;
			}
		}
	}
	return count;
}

unsigned int auth_cache_count(const struct auth_cache *cache)
{
	return (unsigned int)hash_count(cache->hash);
}

void auth_cache_log_stats(struct auth_cache *cache)
{
	unsigned int total = cache->hit_count + cache->miss_count;
	size_t used = cache->max_size - cache->size_left;

	i_info("Authentication cache hits %u/%u (%u%%)", cache->hit_count,
	       total, total == 0 ? 100 : cache->hit_count * 100 / total);
	i_info("Authentication cache inserts: positive: %u entries %llu "
	       "bytes, negative: %u entries %llu bytes", cache->pos_entries,
	       cache->pos_size, cache->neg_entries, cache->neg_size);
	i_info("Authentication cache current size: %zu bytes used of %zu "
	       "bytes (%u%%)", used, cache->max_size,
	       cache->max_size == 0 ? 0 :
	       (unsigned int)(used * 100ULL / cache->max_size));
	cache->hit_count = cache->miss_count = 0;
	cache->pos_entries = cache->neg_entries = 0;
	cache->pos_size = cache->neg_size = 0;
}

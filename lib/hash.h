/* hash.h - string-keyed hash tables (open addressing, linear probing).
 * Keys are copied into the table; values are opaque pointers. */
#ifndef ROOST_HASH_H
#define ROOST_HASH_H

#include "lib.h"

struct hash_table;
struct hash_iter {
	size_t pos;
};

struct hash_table *hash_create(bool case_insensitive);
void hash_destroy(struct hash_table **table);
size_t hash_count(const struct hash_table *table);

/* Insert or replace; returns the previous value or NULL. */
void *hash_insert(struct hash_table *table, const char *key, void *value);
void *hash_lookup(const struct hash_table *table, const char *key);
bool hash_lookup_full(const struct hash_table *table, const char *key,
		      const char **key_r, void **value_r);
/* Remove the key; returns true if it was there. */
bool hash_remove(struct hash_table *table, const char *key);
/* Iterate in table order (not insertion order); must not modify. */
bool hash_iterate(const struct hash_table *table, struct hash_iter *iter,
		  const char **key_r, void **value_r);

uint32_t str_hash(const char *s);
uint32_t strcase_hash(const char *s);

#endif

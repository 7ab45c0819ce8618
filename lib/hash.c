/* hash.c - open-addressing string hash table with tombstones. */
#include "hash.h"

#include <strings.h>

struct hash_slot {
	char *key; /* NULL = empty; TOMBSTONE = deleted */
	void *value;
	uint32_t hash;
};

struct hash_table {
	struct hash_slot *slots;
	size_t size; /* power of two */
	size_t count, used; /* live keys; live + tombstones */
	bool icase;
};

static char tombstone_mark;
#define TOMBSTONE (&tombstone_mark)

uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

uint32_t strcase_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = (h ^ c) * 16777619u;
	}
	return h;
}

struct hash_table *hash_create(bool case_insensitive)
{
	struct hash_table *table = i_new(struct hash_table, 1);

	table->size = 16;
	table->slots = i_new(struct hash_slot, table->size);
	table->icase = case_insensitive;
	return table;
}

void hash_destroy(struct hash_table **_table)
{
	struct hash_table *table = *_table;

	if (table == NULL)
		return;
	*_table = NULL;
	for (size_t i = 0; i < table->size; i++) {
		if (table->slots[i].key != NULL &&
		    table->slots[i].key != TOMBSTONE)
			free(table->slots[i].key);
	}
	free(table->slots);
	free(table);
}

size_t hash_count(const struct hash_table *table)
{
	return table->count;
}

static uint32_t table_hash(const struct hash_table *table, const char *key)
{
	return table->icase ? strcase_hash(key) : str_hash(key);
}

static bool key_eq(const struct hash_table *table, const char *a,
		   const char *b)
{
	return table->icase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* Find the slot holding key, or NULL. */
static struct hash_slot *
hash_find(const struct hash_table *table, const char *key, uint32_t hash)
{
	size_t mask = table->size - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct hash_slot *slot = &table->slots[i];

		if (slot->key == NULL)
			return NULL;
		if (slot->key != TOMBSTONE && slot->hash == hash &&
		    key_eq(table, slot->key, key))
			return slot;
	}
}

static void hash_resize(struct hash_table *table, size_t new_size)
{
	struct hash_slot *old = table->slots;
	size_t old_size = table->size;

	table->slots = i_new(struct hash_slot, new_size);
	table->size = new_size;
	table->used = table->count;
	for (size_t i = 0; i < old_size; i++) {
		size_t mask = new_size - 1, j;

		if (old[i].key == NULL || old[i].key == TOMBSTONE)
			continue;
		for (j = old[i].hash & mask; table->slots[j].key != NULL;
		     j = (j + 1) & mask)
			;
		table->slots[j] = old[i];
	}
	free(old);
}

void *hash_insert(struct hash_table *table, const char *key, void *value)
{
	uint32_t hash = table_hash(table, key);
	struct hash_slot *slot = hash_find(table, key, hash);
	size_t mask, i;
	void *old;

	if (slot != NULL) {
		old = slot->value;
		slot->value = value;
		return old;
	}
	if ((table->used + 1) * 4 >= table->size * 3)
		hash_resize(table, table->count * 2 >= table->size / 2 ?
			    size_mul(table->size, 2) : table->size);
	mask = table->size - 1;
	for (i = hash & mask; table->slots[i].key != NULL &&
	     table->slots[i].key != TOMBSTONE; i = (i + 1) & mask)
		;
	if (table->slots[i].key == NULL)
		table->used++;
	table->slots[i].key = i_strdup(key);
	table->slots[i].value = value;
	table->slots[i].hash = hash;
	table->count++;
	return NULL;
}

void *hash_lookup(const struct hash_table *table, const char *key)
{
	struct hash_slot *slot = hash_find(table, key, table_hash(table, key));

	return slot == NULL ? NULL : slot->value;
}

bool hash_lookup_full(const struct hash_table *table, const char *key,
		      const char **key_r, void **value_r)
{
	struct hash_slot *slot = hash_find(table, key, table_hash(table, key));

	if (slot == NULL)
		return false;
	if (key_r != NULL)
		*key_r = slot->key;
	if (value_r != NULL)
		*value_r = slot->value;
	return true;
}

bool hash_remove(struct hash_table *table, const char *key)
{
	struct hash_slot *slot = hash_find(table, key, table_hash(table, key));

	if (slot == NULL)
		return false;
	free(slot->key);
	slot->key = TOMBSTONE;
	slot->value = NULL;
	table->count--;
	return true;
}

bool hash_iterate(const struct hash_table *table, struct hash_iter *iter,
		  const char **key_r, void **value_r)
{
	for (; iter->pos < table->size; iter->pos++) {
		struct hash_slot *slot = &table->slots[iter->pos];

		if (slot->key != NULL && slot->key != TOMBSTONE) {
			*key_r = slot->key;
			if (value_r != NULL)
				*value_r = slot->value;
			iter->pos++;
			return true;
		}
	}
	return false;
}

/* mail-cache.c - parsed fields of messages (ENVELOPE, BODYSTRUCTURE,
 * header values...) kept per mailbox for the session, keyed by uid and
 * field name, so a second FETCH of the same field doesn't reparse the
 * message. Memory only for now: a persistent cache file is future work
 * (mailstore/README.md). */
#include "mail-storage-private.h"
#include "hash.h"

#include <stdio.h>

struct mail_cache {
	struct hash_table *fields;	/* "uid/field" -> owned value */
	size_t bytes;
};

/* Forget everything past this many bytes (a session touching more is
 * reading through the mailbox once: no point holding it all). */
#define MAIL_CACHE_MAX_BYTES (16 * 1024 * 1024)

static void cache_clear(struct mail_cache *cache)
{
	struct hash_iter iter = { 0 };
	const char *key;
	void *value;

	while (hash_iterate(cache->fields, &iter, &key, &value))
		free(value);
	hash_destroy(&cache->fields);
	cache->fields = hash_create(false);
	cache->bytes = 0;
}

void mail_cache_free(struct mailbox *box)
{
	struct mail_cache *cache = box->cache;

	if (cache == NULL)
		return;
	box->cache = NULL;
	cache_clear(cache);
	hash_destroy(&cache->fields);
	i_free(cache);
}

int mail_get_cached_field(struct mail *mail, const char *field,
			  const char **value_r)
{
	char key[128];

	*value_r = NULL;
	if (mail->box->cache == NULL)
		return 0;
	snprintf(key, sizeof(key), "%u/%s", mail->uid, field);
	*value_r = hash_lookup(mail->box->cache->fields, key);
	return 0;
}

void mail_set_cached_field(struct mail *mail, const char *field,
			   const char *value)
{
	struct mailbox *box = mail->box;
	char key[128];
	size_t len = strlen(value);
	void *old;

	if (box->cache == NULL) {
		box->cache = i_new(struct mail_cache, 1);
		box->cache->fields = hash_create(false);
	}
	if (box->cache->bytes + len > MAIL_CACHE_MAX_BYTES)
		cache_clear(box->cache);
	snprintf(key, sizeof(key), "%u/%s", mail->uid, field);
	old = hash_insert(box->cache->fields, key, i_strdup(value));
	free(old);
	box->cache->bytes += len + strlen(key);
}

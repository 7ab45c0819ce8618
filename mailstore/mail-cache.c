/* mail-cache.c - parsed fields of messages (ENVELOPE, BODY,
 * BODYSTRUCTURE) kept per mailbox, keyed by uid and field name, so a
 * FETCH of the same field doesn't reparse the message - in this session
 * or any later one: the fields also go to "roost.cache" beside
 * roost.index.
 *
 * roost.cache is append-only text with explicit lengths:
 *
 *   "ROOSTCACHE1 <uidvalidity>\n"
 *   then per field: "<uid> <field> <length>\n" <value bytes> "\n"
 *
 * Each field is appended with one O_APPEND write, so sessions and
 * processes can add to it at once. It is read whole the first time a
 * session needs a field; a file from another UIDVALIDITY, or one whose
 * dead records (expunged messages) outnumber the live ones, is
 * rewritten; a damaged tail is cut off. Losing the file loses nothing
 * but time: everything in it can be parsed again. */
#include "mail-storage-private.h"
#include "hash.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_FILE "roost.cache"
#define CACHE_MAGIC "ROOSTCACHE1"

struct mail_cache {
	struct hash_table *fields;	/* "uid/field" -> owned value */
	size_t bytes;
	bool loaded;
	/* the file is too big to hold, or can't be written: memory only */
	bool file_off;
};

/* Hold at most this much; a bigger cache file is not loaded (and not
 * added to) - fields are then parsed per session as before. */
#define MAIL_CACHE_MAX_BYTES (16 * 1024 * 1024)
/* Rewrite the file when at least this many records are dead and they
 * outnumber the live ones. */
#define MAIL_CACHE_COMPACT_MIN 1000

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

static const char *cache_path(struct mailbox *box)
{
	return p_strdup_printf(box->pool, "%s/" CACHE_FILE, box->index_path);
}

static void cache_insert(struct mail_cache *cache, uint32_t uid,
			 const char *field, const char *value, size_t len)
{
	char key[128];
	void *old;

	snprintf(key, sizeof(key), "%u/%s", uid, field);
	old = hash_insert(cache->fields, key, i_strndup(value, len));
	if (old != NULL)
		free(old);
	else
		cache->bytes += len + strlen(key);
}

static void record_append(string_t *str, uint32_t uid, const char *field,
			  const char *value, size_t len)
{
	str_printfa(str, "%u %s %zu\n", uid, field, len);
	str_append_n(str, value, len);
	str_append_c(str, '\n');
}

/* Write the live fields anew (tmp + rename). */
static void cache_rewrite(struct mailbox *box, struct mail_cache *cache)
{
	const char *path = cache_path(box);
	char *tmp = i_strdup_printf("%s.%ld.tmp", path, (long)getpid());
	string_t *str = str_new(cache->bytes + 256);
	struct hash_iter iter = { 0 };
	const char *key;
	void *value;
	int fd;

	str_printfa(str, CACHE_MAGIC " %u\n", box->disk.uidvalidity);
	while (hash_iterate(cache->fields, &iter, &key, &value)) {
		const char *slash = strchr(key, '/');
		uint32_t uid = (uint32_t)strtoul(key, NULL, 10);

		if (slash != NULL && mail_record_set_find(&box->disk, uid) != NULL)
			record_append(str, uid, slash + 1, value, strlen(value));
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, str_c(str), str_len(str)) != (ssize_t)str_len(str) ||
	    rename(tmp, path) < 0) {
		if (errno != ENOENT)
			i_error("write(%s) failed: %m", tmp);
		(void)unlink(tmp);
		cache->file_off = true;
	}
	if (fd >= 0)
		close(fd);
	str_free(&str);
	i_free(tmp);
}

static bool parse_record_line(const char *p, const char *end,
			      unsigned int *uid_r, char *field, size_t field_size,
			      size_t *len_r)
{
	unsigned long long num = 0;
	const char *start;
	size_t flen;

	if (p == end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		num = num * 10 + (unsigned long long)(*p - '0');
		if (num > 0xffffffffULL)
			return false;
	}
	*uid_r = (unsigned int)num;
	if (p == end || *p++ != ' ')
		return false;
	start = p;
	while (p < end && *p != ' ')
		p++;
	flen = (size_t)(p - start);
	if (flen == 0 || flen >= field_size || p == end)
		return false;
	memcpy(field, start, flen);
	field[flen] = '\0';
	p++;
	num = 0;
	if (p == end)
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		num = num * 10 + (unsigned long long)(*p - '0');
		if (num > MAIL_CACHE_MAX_BYTES)
			return false;
	}
	*len_r = (size_t)num;
	return p == end;
}

/* Parse the file's records into the hash. Returns the offset where the
 * valid data ends; counts live and dead records. */
static size_t cache_parse(struct mailbox *box, struct mail_cache *cache,
			  const char *data, size_t size, unsigned int *live_r,
			  unsigned int *dead_r)
{
	size_t pos = 0;

	*live_r = *dead_r = 0;
	while (pos < size) {
		const char *nl = memchr(data + pos, '\n', size - pos);
		char field[64];
		unsigned int uid;
		size_t len;

		if (nl == NULL || nl - (data + pos) > 100)
			break;
		size_t rem = size - (size_t)(nl + 1 - data);

		/* "<uid> <field> <length>" parsed by hand: sscanf would
		   measure the whole rest of the file on every call */
		if (!parse_record_line(data + pos, nl, &uid, field,
				       sizeof(field), &len) ||
		    rem < 1 || len > rem - 1 || nl[1 + len] != '\n')
			break;
		if (mail_record_set_find(&box->disk, uid) != NULL) {
			cache_insert(cache, uid, field, nl + 1, len);
			(*live_r)++;
		} else {
			(*dead_r)++;
		}
		pos = (size_t)(nl + 1 - data) + len + 1;
	}
	return pos;
}

static void cache_load(struct mailbox *box, struct mail_cache *cache)
{
	const char *path;
	struct stat st;
	char *data = NULL, header[64];
	size_t size, hlen, end;
	unsigned int live, dead;
	ssize_t n;
	int fd;

	cache->loaded = true;
	if (box->index_path == NULL || box->disk.uidvalidity == 0) {
		cache->file_off = true;
		return;
	}
	path = cache_path(box);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			i_error("open(%s) failed: %m", path);
		cache_rewrite(box, cache);	/* a fresh file */
		return;
	}
	if (fstat(fd, &st) < 0 || st.st_size > MAIL_CACHE_MAX_BYTES) {
		close(fd);
		cache->file_off = true;
		return;
	}
	size = (size_t)st.st_size;
	data = i_malloc(size + 1);
	n = read(fd, data, size);
	close(fd);
	size = n < 0 ? 0 : (size_t)n;
	data[size] = '\0';
	snprintf(header, sizeof(header), CACHE_MAGIC " %u\n",
		 box->disk.uidvalidity);
	hlen = strlen(header);
	if (size < hlen || memcmp(data, header, hlen) != 0) {
		/* another UIDVALIDITY, or not ours: start over */
		i_free(data);
		cache_rewrite(box, cache);
		return;
	}
	end = hlen + cache_parse(box, cache, data + hlen, size - hlen,
				 &live, &dead);
	i_free(data);
	if (end < size ||
	    (dead >= MAIL_CACHE_COMPACT_MIN && dead > live)) {
		/* a damaged tail (a write cut short) or mostly dead
		   records: keep what is good */
		cache_rewrite(box, cache);
	}
}

int mail_get_cached_field(struct mail *mail, const char *field,
			  const char **value_r)
{
	struct mailbox *box = mail->box;
	char key[128];

	*value_r = NULL;
	if (box->cache == NULL) {
		box->cache = i_new(struct mail_cache, 1);
		box->cache->fields = hash_create(false);
	}
	if (!box->cache->loaded)
		cache_load(box, box->cache);
	snprintf(key, sizeof(key), "%u/%s", mail->uid, field);
	*value_r = hash_lookup(box->cache->fields, key);
	return 0;
}

void mail_set_cached_field(struct mail *mail, const char *field,
			   const char *value)
{
	struct mailbox *box = mail->box;
	struct mail_cache *cache;
	size_t len = strlen(value);

	if (box->cache == NULL) {
		box->cache = i_new(struct mail_cache, 1);
		box->cache->fields = hash_create(false);
	}
	cache = box->cache;
	if (!cache->loaded)
		cache_load(box, cache);
	if (cache->bytes + len > MAIL_CACHE_MAX_BYTES) {
		/* a session reading through a huge mailbox once: no point
		   holding it all */
		cache_clear(cache);
		cache->file_off = true;
	}
	cache_insert(cache, mail->uid, field, value, len);
	if (!cache->file_off) {
		string_t *str = str_new(len + 64);
		int fd = open(cache_path(box), O_WRONLY | O_APPEND | O_CLOEXEC);

		record_append(str, mail->uid, field, value, len);
		if (fd < 0 ||
		    write(fd, str_c(str), str_len(str)) != (ssize_t)str_len(str))
			cache->file_off = true;
		if (fd >= 0)
			close(fd);
		str_free(&str);
	}
}

/* mail-index.c - Roost's index file "roost.index" in a mailbox's index
 * directory: a snapshot of the last known disk state (records with
 * modseqs, sizes, dates, locations; keywords; expunge history; driver
 * stamps). Written whole to a temporary file and renamed into place, so
 * a reader sees the old or the new file, never a mix. A checksum and
 * bounds checks catch damage: the file is then ignored with a log line
 * and rebuilt from the mail itself. It is a cache: deleting it loses
 * nothing but modseq history. */
#include "mail-storage-private.h"
#include "mkdir-parents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* version 3: the checksum is taken 8 bytes at a time (version 2's
   byte-wise FNV-1a was most of the time of opening a big mailbox);
   version 2: the expunge history as (uid1, uid2, modseq) ranges;
   version 1 files (uid, modseq pairs) are still read */
#define INDEX_MAGIC "ROOSTIX3"
#define INDEX_MAGIC_V2 "ROOSTIX2"
#define INDEX_MAGIC_V1 "ROOSTIX1"
#define INDEX_FILE "roost.index"
#define INDEX_MAX_SIZE ((size_t)1 << 31)
#define NAME_NULL 0xffff

struct rbuf {
	const unsigned char *p, *end;
	bool error;
};

static void put(string_t *s, const void *data, size_t size)
{
	str_append_n(s, data, size);
}
static void put32(string_t *s, uint32_t v) { put(s, &v, sizeof(v)); }
static void put64(string_t *s, uint64_t v) { put(s, &v, sizeof(v)); }

static bool get(struct rbuf *b, void *dest, size_t size)
{
	if (b->error || (size_t)(b->end - b->p) < size) {
		b->error = true;
		memset(dest, 0, size);
		return false;
	}
	memcpy(dest, b->p, size);
	b->p += size;
	return true;
}
static uint32_t get32(struct rbuf *b) { uint32_t v; get(b, &v, 4); return v; }
static uint64_t get64(struct rbuf *b) { uint64_t v; get(b, &v, 8); return v; }

/* version 1 and 2: FNV-1a 64 over every byte */
static uint64_t checksum_v2(const unsigned char *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < size; i++) {
		h ^= data[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* version 3: each 8-byte word (native order, the tail zero-padded) is
   mixed in with a multiply and a shift; the size goes in last */
static uint64_t checksum(const unsigned char *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL, w;
	size_t i = 0;

	for (; i + 8 <= size; i += 8) {
		memcpy(&w, data + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	if (i < size) {
		w = 0;
		memcpy(&w, data + i, size - i);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h = (h ^ size) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

static const char *index_file_path(struct mailbox *box, const char *suffix)
{
	return p_strdup_printf(box->pool, "%s/" INDEX_FILE "%s",
			       box->index_path, suffix);
}

static void put_name(string_t *s, const char *name)
{
	size_t len = name == NULL ? NAME_NULL : strlen(name);

	if (len >= NAME_NULL && name != NULL)
		len = NAME_NULL - 1;	/* names are never this long */
	uint16_t l16 = (uint16_t)len;
	put(s, &l16, sizeof(l16));
	if (name != NULL)
		put(s, name, len);
}

static char *get_name(struct rbuf *b)
{
	uint16_t len;
	char *name;

	if (!get(b, &len, sizeof(len)) || len == NAME_NULL)
		return NULL;
	if ((size_t)(b->end - b->p) < len) {
		b->error = true;
		return NULL;
	}
	name = i_strndup((const char *)b->p, len);
	b->p += len;
	return name;
}

static void index_remember_st(struct mailbox *box, const struct stat *st)
{
	box->index_ino = st->st_ino;
	box->index_size = st->st_size;
	box->index_mtime = st->st_mtim;
}

static void index_remember(struct mailbox *box, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		index_remember_st(box, &st);
}

/* Flags another process may have set in the file since we read it:
 * they only ever get set, so they are kept. */
static uint32_t index_flags_on_disk(struct mailbox *box)
{
	unsigned char hdr[8 + 4 * 4 + 8 + 4];
	uint32_t flags = 0;
	int fd;

	fd = open(index_file_path(box, ""), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
	    (memcmp(hdr, INDEX_MAGIC, 8) == 0 ||
	     memcmp(hdr, INDEX_MAGIC_V2, 8) == 0))
		memcpy(&flags, hdr + 8 + 4 * 4 + 8, sizeof(flags));
	close(fd);
	return flags & MAIL_INDEX_FLAG_MODSEQS;
}

int mail_index_save(struct mailbox *box, const struct mail_record_set *set)
{
	uint32_t index_flags;
	string_t *s;
	const char *path, *tmp;
	unsigned int words = box->kw_words;
	int fd, ret = 0;

	if (box->index_path == NULL)
		return 0;	/* INDEX=MEMORY */
	if (box->index_write_disabled) {
		/* mbox_min_index_size: none, and no stale one either */
		path = index_file_path(box, "");
		if (unlink(path) < 0 && errno != ENOENT)
			i_error("unlink(%s) failed: %m", path);
		return 0;
	}
	index_flags = set->index_flags | index_flags_on_disk(box);
	if (set == &box->disk)
		box->disk.index_flags = index_flags;
	/* the exact size, or near: growing a 10 MB string by doubling
	   copied it several times */
	size_t est = 256 + set->exp.count * 16 + set->keywords.count * 64;
	for (size_t i = 0; i < set->recs.count; i++) {
		const struct mail_record *rec = &set->recs.v[i];
		est += 86 + words * 4 + (rec->name == NULL ? 0 :
					 strlen(rec->name));
	}
	s = str_new(est);
	put(s, INDEX_MAGIC, 8);
	put32(s, set->uidvalidity);
	put32(s, set->next_uid);
	put32(s, set->first_recent_uid);
	put32(s, words);
	put64(s, set->highest_modseq);
	put32(s, index_flags);
	put64(s, set->history_start);
	put(s, set->guid, 32);
	for (unsigned int i = 0; i < N_ELEMENTS(set->stamp); i++)
		put64(s, (uint64_t)set->stamp[i]);
	put32(s, (uint32_t)set->keywords.count);
	put32(s, (uint32_t)set->recs.count);
	put32(s, (uint32_t)set->exp.count);
	for (size_t i = 0; i < set->keywords.count; i++)
		put_name(s, set->keywords.v[i]);
	for (size_t i = 0; i < set->recs.count; i++) {
		const struct mail_record *rec = &set->recs.v[i];

		put32(s, rec->uid);
		put32(s, rec->flags);
		put64(s, rec->modseq);
		put64(s, rec->size);
		put64(s, rec->vsize);
		put64(s, (uint64_t)rec->received);
		put64(s, (uint64_t)rec->saved);
		put64(s, rec->offset);
		put64(s, rec->body_offset);
		put64(s, rec->body_size);
		put32(s, rec->driver_flags);
		put_name(s, rec->name);
		for (unsigned int w = 0; w < words; w++)
			put32(s, rec->kw == NULL ? 0 : rec->kw[w]);
	}
	for (size_t i = 0; i < set->exp.count; i++) {
		put32(s, set->exp.v[i].uid1);
		put32(s, set->exp.v[i].uid2);
		put64(s, set->exp.v[i].modseq);
	}
	put64(s, checksum((const unsigned char *)str_c(s), str_len(s)));

	path = index_file_path(box, "");
	/* per process: writers racing each other must not share it */
	tmp = p_strdup_printf(box->pool, "%s/" INDEX_FILE ".%ld.tmp",
			      box->index_path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 && errno == ENOENT) {
		/* the index directory is made on first use */
		if (mkdir_parents(box->index_path, 0700) == 0)
			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	}
	if (fd < 0) {
		if (errno != EACCES && errno != EROFS)
			i_error("open(%s) failed: %m", tmp);
		ret = -1;
	} else if (write(fd, str_c(s), str_len(s)) != (ssize_t)str_len(s) ||
		   close(fd) < 0 || rename(tmp, path) < 0) {
		i_error("write(%s) failed: %m", tmp);
		(void)unlink(tmp);
		ret = -1;
	} else {
		index_remember(box, path);
	}
	str_free(&s);
	return ret;
}

static int index_parse(struct mailbox *box, const unsigned char *data,
		       size_t size, struct mail_record_set *set,
		       const char **error_r)
{
	struct rbuf b = { data, data + size - 8, false };
	uint32_t kw_count, rec_count, exp_count, words;
	uint64_t sum;
	bool v1;

	if (size < 8 + 8 || (memcmp(data, INDEX_MAGIC, 8) != 0 &&
			     memcmp(data, INDEX_MAGIC_V2, 8) != 0 &&
			     memcmp(data, INDEX_MAGIC_V1, 8) != 0)) {
		*error_r = "bad header";
		return -1;
	}
	memcpy(&sum, data + size - 8, 8);
	if (sum != (memcmp(data, INDEX_MAGIC, 8) == 0 ?
		    checksum(data, size - 8) : checksum_v2(data, size - 8))) {
		*error_r = "checksum mismatch";
		return -1;
	}
	v1 = memcmp(data, INDEX_MAGIC_V1, 8) == 0;
	b.p += 8;
	set->uidvalidity = get32(&b);
	set->next_uid = get32(&b);
	set->first_recent_uid = get32(&b);
	words = get32(&b);
	set->highest_modseq = get64(&b);
	if (!v1) {
		set->index_flags = get32(&b);
		set->history_start = get64(&b);
	}
	get(&b, set->guid, 32);
	set->guid[32] = '\0';
	for (unsigned int i = 0; i < N_ELEMENTS(set->stamp); i++)
		set->stamp[i] = (int64_t)get64(&b);
	kw_count = get32(&b);
	rec_count = get32(&b);
	exp_count = get32(&b);
	if (b.error || words > 1024 || kw_count > words * 32 ||
	    rec_count > size / 40 || exp_count > size / 12) {
		*error_r = "bad counts";
		return -1;
	}
	for (uint32_t i = 0; i < kw_count && !b.error; i++) {
		char *name = get_name(&b);
		array_push(&set->keywords, name == NULL ? i_strdup("") : name);
	}
	box->kw_words = MAX(box->kw_words, MAX(words, 1));
	array_reserve(&set->recs, rec_count);
	for (uint32_t i = 0; i < rec_count && !b.error; i++) {
		struct mail_record *rec = array_append_space(&set->recs);
		bool any_kw = false;

		rec->uid = get32(&b);
		rec->flags = (uint8_t)(get32(&b) & MAIL_FLAGS_MASK);
		rec->modseq = get64(&b);
		rec->size = get64(&b);
		rec->vsize = get64(&b);
		rec->received = (int64_t)get64(&b);
		rec->saved = (int64_t)get64(&b);
		rec->offset = get64(&b);
		rec->body_offset = get64(&b);
		rec->body_size = get64(&b);
		rec->driver_flags = get32(&b);
		rec->name = get_name(&b);
		if (words > 0) {
			rec->kw = i_new(uint32_t, box->kw_words);
			for (unsigned int w = 0; w < words; w++) {
				rec->kw[w] = get32(&b);
				any_kw = any_kw || rec->kw[w] != 0;
			}
			if (!any_kw)
				i_free(rec->kw);
		}
		if (i > 0 && rec->uid <= set->recs.v[i - 1].uid)
			b.error = true;
	}
	for (uint32_t i = 0; i < exp_count && !b.error; i++) {
		struct mail_expunge_range *r = array_append_space(&set->exp);

		r->uid1 = get32(&b);
		r->uid2 = v1 ? r->uid1 : get32(&b);
		r->modseq = get64(&b);
		if (r->uid2 < r->uid1)
			b.error = true;
	}
	if (b.error || b.p != b.end) {
		*error_r = "truncated or inconsistent records";
		return -1;
	}
	/* version 1 kept a bounded list: complete from here on only */
	if (v1)
		set->history_start = set->highest_modseq;
	return 0;
}

int mail_index_load(struct mailbox *box, struct mail_record_set *set)
{
	const char *path, *error;
	unsigned char *data;
	void *map;
	struct stat st;
	ssize_t n;
	int fd;

	mail_record_set_clear(set);
	if (box->index_path == NULL)
		return 0;
	path = index_file_path(box, "");
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		if (errno != ENOENT)
			i_error("open(%s) failed: %m", path);
		return 0;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > INDEX_MAX_SIZE) {
		close(fd);
		return 0;
	}
	index_remember_st(box, &st);
	/* mapped, not read: no copy of a file that can be megabytes.
	   Writers never change the file in place (they rename a new one
	   over it), so the mapping can't shrink under us. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ,
		   MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map != MAP_FAILED) {
		data = map;
		n = st.st_size;
	} else {
		data = i_malloc((size_t)st.st_size);
		n = read(fd, data, (size_t)st.st_size);
	}
	close(fd);
	if (n == st.st_size &&
	    index_parse(box, data, (size_t)n, set, &error) < 0) {
		i_warning("Corrupted index file %s: %s - rebuilding it",
			  path, error);
		mail_record_set_clear(set);
		box->index_lost = true;
	}
	if (map != MAP_FAILED)
		(void)munmap(map, (size_t)st.st_size);
	else
		i_free(data);
	return 0;
}

void mail_index_reload_if_changed(struct mailbox *box)
{
	struct mail_record_set tmp, *set = &box->disk;
	unsigned int old_words = box->kw_words;
	struct stat st;
	bool ok;

	if (box->index_path == NULL ||
	    stat(index_file_path(box, ""), &st) < 0 ||
	    (st.st_ino == box->index_ino && st.st_size == box->index_size &&
	     st.st_mtim.tv_sec == box->index_mtime.tv_sec &&
	     st.st_mtim.tv_nsec == box->index_mtime.tv_nsec))
		return;
	mail_record_set_init(&tmp);
	(void)mail_index_load(box, &tmp);
	ok = box->kw_words == old_words &&
		tmp.uidvalidity == set->uidvalidity &&
		tmp.highest_modseq >= set->highest_modseq &&
		tmp.keywords.count >= set->keywords.count;
	for (size_t i = 0; ok && i < set->keywords.count; i++)
		ok = strcmp(tmp.keywords.v[i], set->keywords.v[i]) == 0;
	box->kw_words = old_words;
	if (!ok) {
		mail_record_set_clear(&tmp);
		return;
	}
	mail_record_set_clear(set);
	*set = tmp;
	mailbox_kw_words_update(box);
}

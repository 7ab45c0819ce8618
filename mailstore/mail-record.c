/* mail-record.c - record sets: the messages of a mailbox as sorted
 * arrays of records with keyword bitmaps, and the keyword name table. */
#include "mail-storage-private.h"

void mail_record_set_init(struct mail_record_set *set)
{
	memset(set, 0, sizeof(*set));
	set->next_uid = 1;
	set->first_recent_uid = 1;
}

void mail_record_free(struct mail_record *rec)
{
	i_free(rec->kw);
	i_free(rec->name);
}

void mail_record_set_clear(struct mail_record_set *set)
{
	for (size_t i = 0; i < set->recs.count; i++)
		mail_record_free(&set->recs.v[i]);
	array_free(&set->recs);
	for (size_t i = 0; i < set->keywords.count; i++)
		free((char *)set->keywords.v[i]);
	array_free(&set->keywords);
	array_free(&set->exp);
	mail_record_set_init(set);
}

static void record_copy(struct mail_record *dest, const struct mail_record *src,
			unsigned int kw_words)
{
	*dest = *src;
	dest->name = src->name == NULL ? NULL : i_strdup(src->name);
	dest->kw = NULL;
	if (src->kw != NULL && kw_words > 0) {
		dest->kw = i_new(uint32_t, kw_words);
		memcpy(dest->kw, src->kw, sizeof(uint32_t) * kw_words);
	}
}

void mail_record_set_copy(struct mail_record_set *dest,
			  const struct mail_record_set *src,
			  unsigned int kw_words)
{
	mail_record_set_clear(dest);
	dest->uidvalidity = src->uidvalidity;
	dest->next_uid = src->next_uid;
	dest->first_recent_uid = src->first_recent_uid;
	dest->highest_modseq = src->highest_modseq;
	dest->index_flags = src->index_flags;
	dest->history_start = src->history_start;
	memcpy(dest->guid, src->guid, sizeof(dest->guid));
	memcpy(dest->stamp, src->stamp, sizeof(dest->stamp));
	array_reserve(&dest->recs, src->recs.count);
	for (size_t i = 0; i < src->recs.count; i++)
		record_copy(&dest->recs.v[i], &src->recs.v[i], kw_words);
	dest->recs.count = src->recs.count;
	for (size_t i = 0; i < src->keywords.count; i++)
		array_push(&dest->keywords, i_strdup(src->keywords.v[i]));
	mail_expunge_history_copy(dest, src);
}

struct mail_record *mail_record_set_find(struct mail_record_set *set,
					 uint32_t uid)
{
	size_t lo = 0, hi = set->recs.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t m = set->recs.v[mid].uid;

		if (m == uid)
			return &set->recs.v[mid];
		if (m < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Keyword names: IMAP atoms without the special characters, and not
 * starting with '\'. */
static bool keyword_is_valid(const char *name)
{
	if (name[0] == '\0' || name[0] == '\\')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return false;
	}
	return true;
}

int mail_record_set_keyword(struct mail_record_set *set, const char *name,
			    bool create)
{
	for (size_t i = 0; i < set->keywords.count; i++) {
		if (strcasecmp(set->keywords.v[i], name) == 0)
			return (int)i;
	}
	if (!create || !keyword_is_valid(name) || set->keywords.count >= 4096)
		return -1;
	array_push(&set->keywords, i_strdup(name));
	return (int)set->keywords.count - 1;
}

bool mail_record_has_kw(const struct mail_record *rec, unsigned int idx)
{
	return rec->kw != NULL && (rec->kw[idx / 32] & (1u << (idx % 32))) != 0;
}

void mail_record_set_kw(struct mail_record *rec, unsigned int idx, bool set,
			unsigned int kw_words)
{
	i_assert(idx / 32 < kw_words);
	if (rec->kw == NULL) {
		if (!set)
			return;
		rec->kw = i_new(uint32_t, kw_words);
	}
	if (set)
		rec->kw[idx / 32] |= 1u << (idx % 32);
	else
		rec->kw[idx / 32] &= ~(1u << (idx % 32));
}

static void set_grow_kw(struct mail_record_set *set, unsigned int old_words,
			unsigned int new_words)
{
	for (size_t i = 0; i < set->recs.count; i++) {
		struct mail_record *rec = &set->recs.v[i];
		if (rec->kw == NULL)
			continue;
		rec->kw = i_reallocarray(rec->kw, new_words, sizeof(uint32_t));
		memset(rec->kw + old_words, 0,
		       (new_words - old_words) * sizeof(uint32_t));
	}
}

void mailbox_kw_words_update(struct mailbox *box)
{
	size_t count = MAX(box->disk.keywords.count, box->view.keywords.count);
	unsigned int words = (unsigned int)((count + 31) / 32);

	if (words == 0)
		words = 1;
	if (words <= box->kw_words)
		return;
	set_grow_kw(&box->disk, box->kw_words, words);
	set_grow_kw(&box->view, box->kw_words, words);
	box->kw_words = words;
}

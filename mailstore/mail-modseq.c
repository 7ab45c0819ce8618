/* mail-modseq.c - modification sequences as Dovecot 2.3 numbers them,
 * and the expunge history QRESYNC reads.
 *
 * Numbering: a change batch (one sync of the disk, one committed
 * transaction) is a series of records in this order: the appends, the
 * system flag changes, then per keyword (by index) an add and a remove.
 * Each record present raises the mailbox's highest modseq by one, and a
 * message gets the modseq of the last record that touched it. The
 * expunges of a batch are one more record (mail_expunge_history_add).
 * This is how Dovecot's transaction log counts (a new mailbox is at 1,
 * its first indexing of existing mail one append record: 2), so both
 * servers show the same values for the same history.
 *
 * Expunge history: (uid1, uid2, modseq) ranges in the order they were
 * made, consecutive UIDs of one batch in one range. Past
 * EXPUNGE_HISTORY_MAX ranges the oldest half is merged into one range
 * (lowest uid1 .. highest uid2, newest modseq): it may then cover UIDs
 * that still exist or never did, which is why readers
 * (mailbox_get_expunged_since) leave out every UID still in the mailbox;
 * RFC 7162 allows a VANISHED (EARLIER) reply to name UIDs the client
 * never saw. A 10,000-message mailbox expunged one message at a time
 * costs 16 bytes per range in roost.index, at most 64 KB. */
#include "mail-storage-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define EXPUNGE_HISTORY_MAX 4096

uint64_t mail_modseq_initial(struct mailbox *box)
{
	static const char *const names[] = {
		"dovecot.index.log", "dovecot.index"
	};
	char path[4096];

	/* a damaged index of ours: its clients may hold values up to what
	   it had */
	if (box->index_lost)
		return (uint64_t)time(NULL);
	/* Dovecot's modseqs live in its dovecot.index(.log), which Roost
	   doesn't read. Its clients may hold any of them: start above every
	   count of changes a mailbox can have had, so that CHANGEDSINCE
	   with such a value reports every message instead of too few. */
	for (unsigned int i = 0; box->index_path != NULL &&
	     i < N_ELEMENTS(names); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", box->index_path,
			     names[i]) < (int)sizeof(path) &&
		    access(path, F_OK) == 0)
			return (uint64_t)time(NULL);
	}
	return 1;
}

void mail_modseq_touch(ARRAY_MODSEQ_TOUCH *touches, uint32_t key, uint32_t uid)
{
	struct mail_modseq_touch t = { key, uid };

	array_push(touches, t);
}

void mail_modseq_touch_kw_replace(ARRAY_MODSEQ_TOUCH *touches,
				  const struct mail_record *rec,
				  const uint32_t *old_kw, unsigned int kw_words)
{
	for (unsigned int w = 0; w < kw_words; w++) {
		uint32_t now = rec->kw == NULL ? 0 : rec->kw[w];
		uint32_t before = old_kw == NULL ? 0 : old_kw[w];

		for (unsigned int b = 0; b < 32; b++) {
			uint32_t bit = 1u << b;

			if ((now & bit) != 0)
				mail_modseq_touch(touches,
					MAIL_MODSEQ_KEY_KW_ADD(w * 32 + b),
					rec->uid);
			else if ((before & bit) != 0)
				mail_modseq_touch(touches,
					MAIL_MODSEQ_KEY_KW_REMOVE(w * 32 + b),
					rec->uid);
		}
	}
}

void mail_modseq_assign(struct mail_record_set *set, ARRAY_MODSEQ_TOUCH *touches)
{
	uint32_t max_key = 0;
	uint64_t *key_modseq;

	if (touches->count == 0)
		return;
	for (size_t i = 0; i < touches->count; i++)
		max_key = MAX(max_key, touches->v[i].key);
	key_modseq = i_new(uint64_t, (size_t)max_key + 1);
	for (size_t i = 0; i < touches->count; i++)
		key_modseq[touches->v[i].key] = 1;
	for (uint32_t k = 0; k <= max_key; k++) {
		if (key_modseq[k] != 0)
			key_modseq[k] = ++set->highest_modseq;
	}
	for (size_t i = 0; i < touches->count; i++) {
		struct mail_record *rec =
			mail_record_set_find(set, touches->v[i].uid);
		uint64_t m = key_modseq[touches->v[i].key];

		if (rec != NULL && rec->modseq < m)
			rec->modseq = m;
	}
	i_free(key_modseq);
	array_clear(touches);
}

static void history_push(struct mail_record_set *set, uint32_t uid1,
			 uint32_t uid2, uint64_t modseq)
{
	struct mail_expunge_range *r = array_append_space(&set->exp);

	r->uid1 = uid1;
	r->uid2 = uid2;
	r->modseq = modseq;
}

/* Merge the oldest half of the ranges into one. */
static void history_shrink(struct mail_record_set *set)
{
	size_t half = set->exp.count / 2;
	struct mail_expunge_range merged = set->exp.v[0];

	for (size_t i = 1; i < half; i++) {
		merged.uid1 = MIN(merged.uid1, set->exp.v[i].uid1);
		merged.uid2 = MAX(merged.uid2, set->exp.v[i].uid2);
		merged.modseq = MAX(merged.modseq, set->exp.v[i].modseq);
	}
	set->exp.v[0] = merged;
	memmove(set->exp.v + 1, set->exp.v + half,
		(set->exp.count - half) * sizeof(set->exp.v[0]));
	set->exp.count -= half - 1;
}

void mail_expunge_history_add(struct mail_record_set *set,
			      const uint32_t *uids, size_t count)
{
	uint64_t modseq;

	if (count == 0)
		return;
	modseq = ++set->highest_modseq;
	for (size_t i = 0; i < count;) {
		size_t j = i + 1;

		while (j < count && uids[j] == uids[j - 1] + 1)
			j++;
		history_push(set, uids[i], uids[j - 1], modseq);
		i = j;
	}
	if (set->exp.count > EXPUNGE_HISTORY_MAX)
		history_shrink(set);
}

void mail_expunge_history_copy(struct mail_record_set *dest,
			       const struct mail_record_set *src)
{
	for (size_t i = 0; i < src->exp.count; i++)
		array_push(&dest->exp, src->exp.v[i]);
}

static int range_cmp(const void *p1, const void *p2)
{
	const struct mail_expunge_range *r1 = p1, *r2 = p2;

	return r1->uid1 < r2->uid1 ? -1 : r1->uid1 > r2->uid1 ? 1 : 0;
}

void mailbox_get_expunged_since(struct mailbox *box, uint64_t since,
				ARRAY_U32 *ranges)
{
	const struct mail_record_set *set = &box->disk;
	const struct mail_record_set *view = &box->view;
	ARRAY(struct mail_expunge_range) sel = ARRAY_INIT;
	size_t v = 0;

	for (size_t i = 0; i < set->exp.count; i++) {
		if (set->exp.v[i].modseq > since)
			array_push(&sel, set->exp.v[i]);
	}
	if (since < set->history_start && set->next_uid > 1) {
		/* from before the history: every UID not here may be gone */
		struct mail_expunge_range all = { 1, set->next_uid - 1,
						  set->history_start };
		array_push(&sel, all);
	}
	if (sel.count == 0)
		return;
	qsort(sel.v, sel.count, sizeof(sel.v[0]), range_cmp);
	for (size_t i = 0; i < sel.count; i++) {
		uint32_t lo = sel.v[i].uid1, hi = sel.v[i].uid2;

		/* overlapping ranges (merged history) */
		while (i + 1 < sel.count && sel.v[i + 1].uid1 <= hi + 1 &&
		       hi != UINT32_MAX) {
			i++;
			hi = MAX(hi, sel.v[i].uid2);
		}
		/* leave out UIDs still in the mailbox */
		while (v < view->recs.count && view->recs.v[v].uid < lo)
			v++;
		while (lo <= hi) {
			uint32_t end = hi;

			if (v < view->recs.count && view->recs.v[v].uid <= hi) {
				uint32_t present = view->recs.v[v].uid;

				v++;
				if (present == lo) {
					if (lo == UINT32_MAX)
						break;
					lo++;
					continue;
				}
				end = present - 1;
				array_push(ranges, lo);
				array_push(ranges, end);
				if (present == UINT32_MAX)
					break;
				lo = present + 1;
				continue;
			}
			array_push(ranges, lo);
			array_push(ranges, end);
			break;
		}
	}
	array_free(&sel);
}

void mailbox_enable_modseqs(struct mailbox *box)
{
	if ((box->disk.index_flags & MAIL_INDEX_FLAG_MODSEQS) != 0)
		return;
	box->disk.index_flags |= MAIL_INDEX_FLAG_MODSEQS;
	box->view.index_flags |= MAIL_INDEX_FLAG_MODSEQS;
	/* Dovecot starts tracking here: every message gets the highest
	   modseq (its earlier history is not shown) */
	for (size_t i = 0; i < box->disk.recs.count; i++)
		box->disk.recs.v[i].modseq = box->disk.highest_modseq;
	for (size_t i = 0; i < box->view.recs.count; i++)
		box->view.recs.v[i].modseq = box->disk.highest_modseq;
	/* also from EXAMINE, as Dovecot: it is index state, not mail */
	if (box->opened)
		(void)mail_index_save(box, &box->disk);
}

bool mailbox_modseqs_enabled(const struct mailbox *box)
{
	return (box->disk.index_flags & MAIL_INDEX_FLAG_MODSEQS) != 0;
}

bool mailbox_has_hidden_expunges(const struct mailbox *box)
{
	for (size_t i = 0; i < box->view.recs.count; i++) {
		if (box->view.recs.v[i].expunged)
			return true;
	}
	return false;
}

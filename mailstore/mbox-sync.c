/* mbox-sync.c - keeping the index snapshot and the mbox file in step.
 *
 * Reading: when the file's size, mtime or inode differ from the stamps in
 * the record set (or on force), the file is mapped under the read locks
 * and scanned; the messages' X-UID/X-IMAPbase give UIDs and UIDVALIDITY,
 * Status/X-Status/X-Keywords the flags. Messages without a valid X-UID
 * (delivered by an MTA, or inserted in the middle) get the next UIDs and
 * those are written into the file under the write locks at once, with
 * X-IMAPbase in the first message, as Dovecot does even for EXAMINE; if
 * the file isn't writable the UIDs live only in memory and the index.
 *
 * Writing: flag changes rebuild the message's Dovecot headers in place
 * when the padding absorbs the size change; otherwise, and for expunges,
 * the file is rewritten from that message on through the journal of
 * mbox-rewrite.c. Every write first rescans if someone else changed the
 * file since our last look, and finds messages by UID, not offset. */
#include "mbox-private.h"
#include "settings-structs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static void stamp_of(const struct stat *st, int64_t stamp[4])
{
	stamp[0] = (int64_t)st->st_dev;
	stamp[1] = (int64_t)st->st_ino;
	stamp[2] = (int64_t)st->st_size;
	stamp[3] = (int64_t)st->st_mtim.tv_sec * 1000000000 +
		st->st_mtim.tv_nsec;
}

static int file_stamp(struct mbox_mailbox *mbox, int64_t stamp[4])
{
	struct stat st;

	if (fstat(mbox->fd, &st) < 0) {
		mailbox_set_critical(&mbox->box, "fstat(%s) failed: %m",
				     mbox->box.path);
		return -1;
	}
	stamp_of(&st, stamp);
	return 0;
}

static void unmap_file(struct mbox_mailbox *mbox)
{
	if (mbox->map != NULL)
		munmap(mbox->map, mbox->map_size);
	mbox->map = NULL;
	mbox->map_size = 0;
}

/* Record of set with from_offset offset (set is in file order). */
static const struct mail_record *
set_find_offset(const struct mail_record_set *set, uint64_t offset)
{
	size_t lo = 0, hi = set->recs.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t o = set->recs.v[mid].offset;

		if (o == offset)
			return &set->recs.v[mid];
		if (o < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Decide every message's UID: X-UID when it ascends and isn't beyond
 * X-IMAPbase's last UID; otherwise the next free one (a message without a
 * valid X-UID in the middle renumbers those after it, since UIDs must
 * grow in file order). Without X-IMAPbase the index's UIDVALIDITY and
 * next UID are used. */
static void resolve_uids(struct mbox_mailbox *mbox)
{
	struct mbox_scan *scan = &mbox->scan;
	const struct mail_record_set *set = &mbox->box.disk;
	uint32_t limit, last, prev = 0;
	bool same_validity;

	if (scan->have_base) {
		mbox->uidvalidity = scan->base_uidvalidity;
		limit = last = scan->base_last_uid;
	} else {
		mbox->uidvalidity = set->uidvalidity;
		limit = UINT32_MAX - 1;
		last = 0;
		for (size_t i = 0; i < scan->msgs.count; i++) {
			const struct mbox_msg *m = &scan->msgs.v[i];

			if (!m->pseudo && m->file_uid > last)
				last = m->file_uid;
		}
	}
	same_validity = set->uidvalidity != 0 &&
		set->uidvalidity == mbox->uidvalidity;
	if (same_validity && set->next_uid > 0 && set->next_uid - 1 > last)
		last = set->next_uid - 1;
	mbox->uids_dirty = !scan->have_base && scan->msgs.count > 0;
	mbox->first_uid_without_o = 0;
	for (size_t i = 0; i < scan->msgs.count; i++) {
		struct mbox_msg *m = &scan->msgs.v[i];

		if (m->pseudo)
			continue;
		if (m->file_uid != 0 && m->file_uid > prev &&
		    m->file_uid <= limit) {
			m->uid = m->file_uid;
		} else {
			/* in-memory UIDs of an earlier sync stay with their
			   message while it stays where it is */
			const struct mail_record *rec = !same_validity ? NULL :
				set_find_offset(set, m->from_offset);

			if (rec != NULL && rec->uid > prev &&
			    rec->uid > limit && rec->uid <= last)
				m->uid = rec->uid;
			else if (last < UINT32_MAX - 1)
				m->uid = ++last;
			else
				m->uid = 0;	/* UID space exhausted */
			mbox->uids_dirty = true;
		}
		prev = m->uid;
		if (!m->nonrecent && mbox->first_uid_without_o == 0)
			mbox->first_uid_without_o = m->uid;
	}
	mbox->last_uid = last;
}

static void check_save(string_t **dest, const unsigned char *data,
		       const struct mbox_msg *m)
{
	if (*dest == NULL)
		*dest = str_new(1024);
	str_clear(*dest);
	str_append_n(*dest, data + m->from_offset, m->hdr_end - m->from_offset);
}

static bool check_matches(const string_t *check, const unsigned char *data,
			  size_t size, const struct mbox_msg *m)
{
	return check != NULL && m->from_offset + str_len(check) <= size &&
		memcmp(data + m->from_offset, str_c(check), str_len(check)) == 0;
}

/* Remember the first and last headers for recognizing appends. */
static void scan_checks_save(struct mbox_mailbox *mbox)
{
	const struct mbox_scan *scan = &mbox->scan;

	if (scan->msgs.count == 0)
		return;
	check_save(&mbox->head_check, mbox->map, &scan->msgs.v[0]);
	check_save(&mbox->tail_check, mbox->map,
		   &scan->msgs.v[scan->msgs.count - 1]);
}

/* mbox_dirty_syncs: the file only grew and its last message is where it
 * was: scan from that message on instead of the whole file. X-IMAPbase
 * rewritten in place (Dovecot's LDA does it on every delivery) is read
 * again. Other in-place changes by others are seen at the next full scan
 * (mailbox open, force-resync, or any size/inode change that isn't an
 * append), as with Dovecot's dirty syncs. 0 done, -1 scan everything. */
static int scan_appended(struct mbox_mailbox *mbox, const int64_t stamp[4])
{
	struct mbox_scan *scan = &mbox->scan;
	const struct mbox_msg *last;
	unsigned char *map;
	size_t size = (size_t)stamp[2];

	if (!mbox->box.user->set->mbox_dirty_syncs || scan->msgs.count < 2 ||
	    stamp[0] != mbox->scan_stamp[0] || stamp[1] != mbox->scan_stamp[1] ||
	    stamp[2] <= mbox->scan_stamp[2])
		return -1;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, mbox->fd, 0);
	if (map == MAP_FAILED)
		return -1;
	last = &scan->msgs.v[scan->msgs.count - 1];
	if (!check_matches(mbox->tail_check, map, size, last) ||
	    (size > last->next_offset &&
	     memcmp(map + last->next_offset, "From ",
		    MIN(5, size - last->next_offset)) != 0 &&
	     map[last->next_offset] != '\n' &&
	     map[last->next_offset] != '\r')) {
		munmap(map, size);
		return -1;
	}
	unmap_file(mbox);
	mbox->map = map;
	mbox->map_size = size;
	if (!check_matches(mbox->head_check, map, size, &scan->msgs.v[0]) &&
	    !mbox_scan_update_header(map, size, scan, 0))
		return -1;
	mbox_scan_continue(map, size, scan,
			   (unsigned int)scan->msgs.count - 1);
	return 0;
}

int mbox_scan_refresh(struct mbox_mailbox *mbox, bool force)
{
	int64_t stamp[4];
	const char *error;

	if (file_stamp(mbox, stamp) < 0)
		return -1;
	if (!force && mbox->scan_valid &&
	    memcmp(stamp, mbox->scan_stamp, sizeof(stamp)) == 0)
		return 0;
	if (!force && mbox->scan_valid && scan_appended(mbox, stamp) == 0) {
		resolve_uids(mbox);
		memcpy(mbox->scan_stamp, stamp, sizeof(stamp));
		scan_checks_save(mbox);
		return 0;
	}
	unmap_file(mbox);
	mbox_scan_free(&mbox->scan);
	mbox->scan_valid = false;
	if (stamp[2] > 0) {
		void *map = mmap(NULL, (size_t)stamp[2], PROT_READ, MAP_SHARED,
				 mbox->fd, 0);

		if (map == MAP_FAILED) {
			mailbox_set_critical(&mbox->box, "mmap(%s) failed: %m",
					     mbox->box.path);
			return -1;
		}
		mbox->map = map;
		mbox->map_size = (size_t)stamp[2];
	}
	if (mbox_scan_buffer(mbox->map, mbox->map_size, &mbox->scan,
			     &error) < 0) {
		mailbox_set_error(&mbox->box, MAIL_ERROR_NOTPOSSIBLE, "%s",
				  error);
		mbox_scan_free(&mbox->scan);
		return -1;
	}
	resolve_uids(mbox);
	memcpy(mbox->scan_stamp, stamp, sizeof(stamp));
	mbox->scan_valid = true;
	scan_checks_save(mbox);
	return 0;
}

/* ---- changes to messages ---- */

struct mbox_change {
	unsigned int idx;
	bool expunge, grow;
	struct mbox_hdr_state st;
	ARRAY_STR kws;		/* not owned */
	string_t *hdr;
};
typedef ARRAY(struct mbox_change) ARRAY_CHANGES;
typedef ARRAY(struct mbox_piece) ARRAY_PIECES;

static bool names_contain(const ARRAY_STR *names, const char *name)
{
	for (size_t i = 0; i < names->count; i++) {
		if (strcasecmp(names->v[i], name) == 0)
			return true;
	}
	return false;
}

/* The mailbox keyword list for X-IMAPbase: what it has, what messages
 * use, plus extra. Strings not owned (point into the scan / extra). */
static void base_keywords_collect(struct mbox_mailbox *mbox, ARRAY_STR *dest,
				  const char *const *extra,
				  unsigned int extra_count)
{
	const struct mbox_scan *scan = &mbox->scan;

	for (size_t i = 0; i < scan->base_keywords.count; i++) {
		if (!names_contain(dest, scan->base_keywords.v[i]))
			array_push(dest, scan->base_keywords.v[i]);
	}
	for (size_t i = 0; i < scan->kw_names.count; i++) {
		if (!names_contain(dest, scan->kw_names.v[i]))
			array_push(dest, scan->kw_names.v[i]);
	}
	for (unsigned int i = 0; i < extra_count; i++) {
		if (!names_contain(dest, extra[i]))
			array_push(dest, extra[i]);
	}
}

/* A change of message idx starting from its current state. */
static void change_init(struct mbox_mailbox *mbox, struct mbox_change *ch,
			unsigned int idx)
{
	const struct mbox_msg *m = &mbox->scan.msgs.v[idx];

	memset(ch, 0, sizeof(*ch));
	ch->idx = idx;
	ch->st.uid = m->uid;
	ch->st.flags = m->flags;
	ch->st.nonrecent = m->nonrecent;
	ch->st.pseudo = m->pseudo;
	for (uint32_t k = 0; k < m->kw_count; k++)
		array_push(&ch->kws, mbox->scan.kw_names.v[m->kw_first + k]);
	ch->st.body_size = m->msg_end > m->hdr_end ? m->msg_end - m->hdr_end : 0;
	ch->st.eol = m->crlf ? "\r\n" : "\n";
	if (idx == 0 && mbox->scan.have_base) {
		ch->st.base = true;
		ch->st.uidvalidity = mbox->uidvalidity;
		ch->st.last_uid = mbox->last_uid;
		ch->st.base_keywords =
			(const char *const *)mbox->scan.base_keywords.v;
		ch->st.base_keywords_count =
			(unsigned int)mbox->scan.base_keywords.count;
	}
}

static void change_finish(struct mbox_change *ch)
{
	ch->st.keywords = (const char *const *)ch->kws.v;
	ch->st.keywords_count = (unsigned int)ch->kws.count;
}

static void changes_free(ARRAY_CHANGES *changes)
{
	for (size_t i = 0; i < changes->count; i++) {
		array_free(&changes->v[i].kws);
		if (changes->v[i].hdr != NULL)
			str_free(&changes->v[i].hdr);
	}
	array_free(changes);
}

static struct mbox_change *changes_get(ARRAY_CHANGES *changes,
				       struct mbox_mailbox *mbox,
				       unsigned int idx)
{
	size_t pos = changes->count;

	for (size_t i = 0; i < changes->count; i++) {
		if (changes->v[i].idx == idx)
			return &changes->v[i];
		if (changes->v[i].idx > idx) {
			pos = i;
			break;
		}
	}
	array_reserve(changes, size_add(changes->count, 1));
	memmove(&changes->v[pos + 1], &changes->v[pos],
		(changes->count - pos) * sizeof(changes->v[0]));
	changes->count++;
	change_init(mbox, &changes->v[pos], idx);
	return &changes->v[pos];
}

static void add_piece(ARRAY_PIECES *pieces, bool copy,
		      uint64_t offset, const void *data, size_t len)
{
	struct mbox_piece *last = pieces->count == 0 ? NULL :
		&pieces->v[pieces->count - 1];
	struct mbox_piece *p;

	if (len == 0)
		return;
	if (copy && last != NULL && last->copy &&
	    last->offset + last->len == offset) {
		last->len += len;
		return;
	}
	p = array_append_space(pieces);
	p->copy = copy;
	p->offset = offset;
	p->data = data;
	p->len = len;
}

/* After in-place header writes only the changed headers need parsing
 * again (the file is mapped shared, so the map shows our writes), not
 * the whole file - a STORE on many messages stays cheap. -1: rescan. */
static int in_place_refresh(struct mbox_mailbox *mbox,
			    const ARRAY_CHANGES *changes)
{
	int64_t stamp[4];

	if (file_stamp(mbox, stamp) < 0 || stamp[0] != mbox->scan_stamp[0] ||
	    stamp[1] != mbox->scan_stamp[1] || stamp[2] != mbox->scan_stamp[2])
		return -1;
	for (size_t i = 0; i < changes->count; i++) {
		if (!mbox_scan_update_header(mbox->map, mbox->map_size,
					     &mbox->scan, changes->v[i].idx))
			return -1;
	}
	resolve_uids(mbox);
	memcpy(mbox->scan_stamp, stamp, sizeof(stamp));
	scan_checks_save(mbox);
	return 0;
}

/* Write the changes (sorted by message) to the file and rescan. */
static int apply_changes(struct mbox_mailbox *mbox,
			 ARRAY_CHANGES *changes)
{
	const unsigned char *data = mbox->map;
	struct mbox_scan *scan = &mbox->scan;
	unsigned int first_rewrite = UINT32_MAX;
	bool wrote = false;
	int ret = 0;

	i_assert(mbox->lock_type == F_WRLCK && mbox->scan_valid);
	for (size_t i = 0; i < changes->count; i++) {
		struct mbox_change *ch = &changes->v[i];
		const struct mbox_msg *m = &scan->msgs.v[ch->idx];
		size_t old_len = m->hdr_end - m->hdr_offset;

		change_finish(ch);
		if (ch->expunge) {
			first_rewrite = MIN(first_rewrite, ch->idx);
			continue;
		}
		ch->hdr = str_new(old_len + 128);
		if (old_len == 0 ||
		    !mbox_header_rebuild(ch->hdr, data + m->hdr_offset, old_len,
					 m->has_eoh, &ch->st, old_len)) {
			ch->grow = true;
			first_rewrite = MIN(first_rewrite, ch->idx);
		}
	}
	/* in place before the first message that moves */
	for (size_t i = 0; i < changes->count && ret == 0; i++) {
		struct mbox_change *ch = &changes->v[i];
		const struct mbox_msg *m = &scan->msgs.v[ch->idx];

		if (ch->idx >= first_rewrite)
			break;
		if (pwrite(mbox->fd, str_c(ch->hdr), str_len(ch->hdr),
			   (off_t)m->hdr_offset) != (ssize_t)str_len(ch->hdr)) {
			mailbox_set_critical(&mbox->box, "pwrite(%s) failed: %m",
					     mbox->box.path);
			ret = -1;
		}
		wrote = true;
	}
	if (ret == 0 && wrote && mbox_fsync_enabled(mbox) &&
	    fdatasync(mbox->fd) < 0) {
		mailbox_set_critical(&mbox->box, "fdatasync(%s) failed: %m",
				     mbox->box.path);
		ret = -1;
	}
	if (ret == 0 && first_rewrite != UINT32_MAX) {
		ARRAY_PIECES pieces = ARRAY_INIT;
		size_t c = 0;

		while (c < changes->count && changes->v[c].idx < first_rewrite)
			c++;
		for (size_t i = first_rewrite; i < scan->msgs.count; i++) {
			const struct mbox_msg *m = &scan->msgs.v[i];
			struct mbox_change *ch = NULL;

			if (c < changes->count && changes->v[c].idx == i)
				ch = &changes->v[c++];
			if (ch == NULL) {
				add_piece(&pieces, true, m->from_offset, NULL,
					  m->next_offset - m->from_offset);
				continue;
			}
			if (ch->expunge)
				continue;
			if (ch->grow) {
				str_clear(ch->hdr);
				(void)mbox_header_rebuild(ch->hdr,
					data + m->hdr_offset,
					m->hdr_end - m->hdr_offset,
					m->has_eoh, &ch->st, 0);
			}
			add_piece(&pieces, true, m->from_offset, NULL,
				  m->hdr_offset - m->from_offset);
			add_piece(&pieces, false, 0, str_c(ch->hdr),
				  str_len(ch->hdr));
			add_piece(&pieces, true, m->hdr_end, NULL,
				  m->next_offset - m->hdr_end);
		}
		ret = mbox_rewrite(mbox, data,
				   scan->msgs.v[first_rewrite].from_offset,
				   pieces.v, (unsigned int)pieces.count);
		array_free(&pieces);
	}
	if (ret == 0 && first_rewrite == UINT32_MAX &&
	    in_place_refresh(mbox, changes) == 0)
		return 0;
	mbox->scan_valid = false;
	if (mbox_scan_refresh(mbox, true) < 0)
		ret = -1;
	return ret;
}

/* ---- fixing UIDs, X-IMAPbase and Status: O ---- */

static bool want_nonrecent(struct mbox_mailbox *mbox, const struct mbox_msg *m)
{
	return m->nonrecent ||
		(m->uid < mbox->box.disk.first_recent_uid && !mbox->box.readonly);
}

int mbox_sync_fix(struct mbox_mailbox *mbox, const char *const *extra_keywords,
		  unsigned int extra_keywords_count, uint32_t reserve,
		  uint32_t *first_uid_r)
{
	struct mbox_scan *scan = &mbox->scan;
	ARRAY_CHANGES changes = ARRAY_INIT;
	ARRAY_STR base_kw = ARRAY_INIT;
	uint32_t last_uid;
	int ret = 0;

	i_assert(mbox->lock_type == F_WRLCK && mbox->scan_valid);
	if (mbox->uidvalidity == 0)
		mbox->uidvalidity = mbox_uidvalidity_next(mbox->box.list);
	last_uid = mbox->last_uid;
	if (reserve > UINT32_MAX - 1 - last_uid) {
		mailbox_set_error(&mbox->box, MAIL_ERROR_LIMIT,
				  "UID space exhausted");
		return -1;
	}
	if (first_uid_r != NULL)
		*first_uid_r = last_uid + 1;
	last_uid += reserve;
	base_keywords_collect(mbox, &base_kw, extra_keywords,
			      extra_keywords_count);

	for (size_t i = 0; i < scan->msgs.count; i++) {
		const struct mbox_msg *m = &scan->msgs.v[i];
		bool nonrecent;

		if (m->pseudo)
			continue;
		nonrecent = want_nonrecent(mbox, m);
		if (m->uid != m->file_uid || nonrecent != m->nonrecent) {
			struct mbox_change *ch =
				changes_get(&changes, mbox, (unsigned int)i);

			ch->st.nonrecent = nonrecent;
		}
	}
	if (scan->msgs.count > 0 &&
	    (!scan->have_base || scan->base_uidvalidity != mbox->uidvalidity ||
	     scan->base_last_uid != last_uid ||
	     scan->base_keywords.count != base_kw.count)) {
		struct mbox_change *ch = changes_get(&changes, mbox, 0);

		ch->st.base = true;
		ch->st.uidvalidity = mbox->uidvalidity;
		ch->st.last_uid = last_uid;
		ch->st.base_keywords = (const char *const *)base_kw.v;
		ch->st.base_keywords_count = (unsigned int)base_kw.count;
	}
	if (changes.count > 0) {
		/* the names point into the scan, which apply_changes
		   replaces only after the new headers are built */
		ret = apply_changes(mbox, &changes);
	}
	changes_free(&changes);
	array_free(&base_kw);
	if (ret == 0 && scan->msgs.count == 0)
		mbox->last_uid = last_uid;
	return ret;
}

/* ---- the record set ---- */

static void guid_generate(char guid[33])
{
	unsigned char rnd[16];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

		memcpy(rnd, &t, sizeof(t));
		memcpy(rnd + 8, &rnd, 8);
	}
	for (unsigned int i = 0; i < 16; i++)
		snprintf(guid + i * 2, 3, "%02x", rnd[i]);
}

/* Replace set's records with the scan's messages, keeping what the
 * index knew about unchanged ones (modseq, sizes). */
static void build_records(struct mbox_mailbox *mbox,
			  struct mail_record_set *set)
{
	struct mailbox *box = &mbox->box;
	const struct mbox_scan *scan = &mbox->scan;
	ARRAY(struct mail_record) recs = ARRAY_INIT;
	uint32_t highest_o = 0;

	/* keyword names first, so bitmaps have their final size */
	for (size_t i = 0; i < scan->base_keywords.count; i++)
		(void)mail_record_set_keyword(set, scan->base_keywords.v[i],
					      true);
	for (size_t i = 0; i < scan->kw_names.count; i++)
		(void)mail_record_set_keyword(set, scan->kw_names.v[i], true);
	mailbox_kw_words_update(box);

	array_reserve(&recs, scan->msgs.count);
	for (size_t i = 0; i < scan->msgs.count; i++) {
		const struct mbox_msg *m = &scan->msgs.v[i];
		const struct mail_record *old;
		struct mail_record *rec;

		if (m->pseudo || m->uid == 0)
			continue;
		if (recs.count > 0 && recs.v[recs.count - 1].uid >= m->uid)
			continue;	/* can't happen: UIDs ascend */
		old = mail_record_set_find(set, m->uid);
		rec = array_append_space(&recs);
		rec->uid = m->uid;
		rec->flags = m->flags & MAIL_FLAGS_MASK;
		if (old != NULL)
			rec->driver_flags = old->driver_flags &
				(MBOX_REC_DIRTY | MBOX_REC_EXPUNGE);
		if ((rec->driver_flags & MBOX_REC_DIRTY) != 0) {
			/* not written yet (lazy writes): ours are newer */
			rec->flags = old->flags;
			if (old->kw != NULL) {
				rec->kw = i_new(uint32_t, box->kw_words);
				memcpy(rec->kw, old->kw,
				       box->kw_words * sizeof(uint32_t));
			}
		}
		rec->modseq = old != NULL ? old->modseq : 0;
		rec->size = m->size;
		/* new mail is counted while the file is mapped anyway */
		rec->vsize = old != NULL && old->size == m->size &&
			old->vsize != MAIL_SIZE_UNKNOWN ? old->vsize :
			mbox_msg_vsize(mbox->map, m);
		rec->received = m->received;
		rec->saved = old != NULL ? old->saved : 0;
		rec->offset = m->from_offset;
		rec->body_offset = m->hdr_end;
		rec->body_size = m->msg_end > m->hdr_end ?
			m->msg_end - m->hdr_end : 0;
		/* the core shows a record's name as its GUID */
		if (m->guid[0] != '\0')
			rec->name = i_strdup(m->guid);
		for (uint32_t k = 0; k < m->kw_count &&
			     (rec->driver_flags & MBOX_REC_DIRTY) == 0; k++) {
			int idx = mail_record_set_keyword(set,
				scan->kw_names.v[m->kw_first + k], false);

			if (idx >= 0)
				mail_record_set_kw(rec, (unsigned int)idx, true,
						   box->kw_words);
		}
		if (m->nonrecent && m->uid > highest_o)
			highest_o = m->uid;
	}
	for (size_t i = 0; i < set->recs.count; i++)
		mail_record_free(&set->recs.v[i]);
	array_free(&set->recs);
	set->recs.v = recs.v;
	set->recs.count = recs.count;
	set->recs.cap = recs.cap;

	if (mbox->uidvalidity == 0)
		mbox->uidvalidity = mbox_uidvalidity_next(box->list);
	set->uidvalidity = mbox->uidvalidity;
	set->next_uid = mbox->last_uid + 1;
	/* someone (Dovecot, another session) took \Recent of these */
	if (highest_o >= set->first_recent_uid)
		set->first_recent_uid = highest_o + 1;
	if (set->guid[0] == '\0')
		guid_generate(set->guid);
	memcpy(set->stamp, mbox->scan_stamp, sizeof(mbox->scan_stamp));
}

static bool stamp_current(struct mbox_mailbox *mbox,
			  const struct mail_record_set *set)
{
	int64_t stamp[4];

	return file_stamp(mbox, stamp) == 0 &&
		memcmp(stamp, set->stamp, sizeof(stamp)) == 0;
}

static bool journal_pending(struct mbox_mailbox *mbox)
{
	const char *dir = mbox_journal_dir(mbox);
	char *path;
	struct stat st;
	bool ret;

	if (dir == NULL)
		return false;
	path = i_strdup_printf("%s/" MBOX_JOURNAL_NAME, dir);
	ret = stat(path, &st) == 0;
	i_free(path);
	return ret;
}

/* Does the file need UIDs, X-IMAPbase, keywords or 'O' written? */
static bool fix_needed(struct mbox_mailbox *mbox)
{
	const struct mbox_scan *scan = &mbox->scan;
	ARRAY_STR kws = ARRAY_INIT;
	bool ret;

	if (mbox->uids_dirty)
		return true;
	if (mbox->first_uid_without_o != 0 && !mbox->box.readonly &&
	    mbox->first_uid_without_o < mbox->box.disk.first_recent_uid)
		return true;
	base_keywords_collect(mbox, &kws, NULL, 0);
	ret = kws.count != scan->base_keywords.count;
	array_free(&kws);
	return ret;
}

static bool set_pending(const struct mail_record_set *set, bool dirty);

/* mbox_min_index_size: a small mbox gets no index file written (one
 * that exists is still read), unless changes wait in it to be written
 * to the file. */
static void min_index_size_check(struct mbox_mailbox *mbox,
				 const struct mail_record_set *set)
{
	uint64_t min = mbox->box.user->set->mbox_min_index_size;

	mbox->box.index_write_disabled = min > 0 && mbox->scan_valid &&
		(uint64_t)mbox->scan_stamp[2] < min &&
		!set_pending(set, true);
}

static int write_begin(struct mbox_mailbox *mbox);
static bool set_pending(const struct mail_record_set *set, bool dirty);
static int write_pending(struct mbox_mailbox *mbox,
			 struct mail_record_set *set, bool dirty);
static void clear_pending(struct mail_record_set *set, bool dirty);
static void set_lock_warning(struct mbox_mailbox *mbox);

int mbox_sync_read(struct mailbox *box, struct mail_record_set *set,
		   bool force)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)box;
	bool dirty = !box->user->set->mbox_lazy_writes;
	bool deferred = mbox->defer_writes;
	bool pending;
	int ret;

	mbox->defer_writes = false;
	if (mbox->fd < 0 && mbox_file_open(mbox) < 0)
		return -1;
	pending = !mbox->fd_readonly && !box->readonly &&
		set_pending(set, dirty);
	if (!force && set->uidvalidity != 0 && stamp_current(mbox, set) &&
	    !(mbox->first_uid_without_o != 0 && !box->readonly &&
	      !mbox->fd_readonly &&
	      mbox->first_uid_without_o < set->first_recent_uid) &&
	    !journal_pending(mbox) && !pending)
		return 0;

	if (pending) {
		/* committed changes first: they win over the file's */
		ret = deferred ? 0 : write_begin(mbox);
		if (ret == 0) {
			/* locked by another process: keep them pending and
			   the records as they are, say so (Dovecot's
			   untagged NO) */
			mailbox_set_error(box, MAIL_ERROR_TEMP,
					  "Timeout while waiting for lock");
			set_lock_warning(mbox);
			return 0;
		}
		if (ret < 0)
			return -1;
		if (write_pending(mbox, set, dirty) < 0) {
			mbox_unlock(mbox);
			return -1;
		}
		clear_pending(set, dirty);
	}
	if (!mbox->fd_readonly && journal_pending(mbox)) {
		if (mbox_lock(mbox, F_WRLCK) <= 0)
			return -1;
		if (mbox_rewrite_recover(mbox) < 0) {
			mbox_unlock(mbox);
			return -1;
		}
	} else if (mbox_lock(mbox, F_RDLCK) <= 0) {
		return -1;
	}
	if (mbox_scan_refresh(mbox, force) < 0) {
		mbox_unlock(mbox);
		return -1;
	}
	if (!mbox->fd_readonly && fix_needed(mbox)) {
		ret = mbox->lock_type == F_WRLCK ? 1 :
			mbox_lock(mbox, F_WRLCK);
		if (ret > 0) {
			if (mbox_rewrite_recover(mbox) < 0 ||
			    mbox_scan_refresh(mbox, false) < 0 ||
			    mbox_sync_fix(mbox, NULL, 0, 0, NULL) < 0) {
				mbox_unlock(mbox);
				return -1;
			}
		} else {
			/* can't lock for writing (permissions, timeout):
			   go on with the UIDs in memory */
			if (mbox_lock(mbox, F_RDLCK) <= 0 ||
			    mbox_scan_refresh(mbox, false) < 0) {
				mbox_unlock(mbox);
				return -1;
			}
		}
	}
	build_records(mbox, set);
	mbox_unlock(mbox);
	min_index_size_check(mbox, set);
	return 0;
}

/* ---- flag changes and expunges ---- */

/* Take the write locks and make the scan current. 1 locked, 0 timed out,
 * -1 error (set on the mailbox). */
static int write_begin(struct mbox_mailbox *mbox)
{
	int ret;

	if (mbox->fd < 0 && mbox_file_open(mbox) < 0)
		return -1;
	if ((ret = mbox_lock(mbox, F_WRLCK)) <= 0)
		return ret;
	if (mbox_rewrite_recover(mbox) < 0 ||
	    mbox_scan_refresh(mbox, false) < 0) {
		mbox_unlock(mbox);
		return -1;
	}
	return 1;
}

static bool rec_pending(const struct mail_record *rec, bool dirty)
{
	return (rec->driver_flags & MBOX_REC_EXPUNGE) != 0 ||
		(dirty && (rec->driver_flags & MBOX_REC_DIRTY) != 0);
}

static bool set_pending(const struct mail_record_set *set, bool dirty)
{
	for (size_t i = 0; i < set->recs.count; i++) {
		if (rec_pending(&set->recs.v[i], dirty))
			return true;
	}
	return false;
}

/* Under the write lock with a current scan: write the pending flags
 * (dirty) and expunges of set in one pass. The set's stamp is left as it
 * was, so the next sync rebuilds the records from the file. */
static int write_pending(struct mbox_mailbox *mbox,
			 struct mail_record_set *set, bool dirty)
{
	const struct mbox_scan *scan;
	ARRAY_CHANGES changes = ARRAY_INIT;
	ARRAY_STR base_kw = ARRAY_INIT, extra = ARRAY_INIT;
	bool any = false;
	int ret = 0;

	/* UIDs must be in the file before we can find messages by them;
	   'O' and X-IMAPbase keywords go with them */
	if (fix_needed(mbox) && mbox_sync_fix(mbox, NULL, 0, 0, NULL) < 0)
		return -1;
	scan = &mbox->scan;
	for (size_t i = 0; i < set->recs.count; i++) {
		const struct mail_record *rec = &set->recs.v[i];
		struct mbox_change *ch;
		int idx;

		if (!rec_pending(rec, dirty))
			continue;
		idx = mbox_scan_find_uid(scan, rec->uid);
		if (idx < 0)
			continue;	/* expunged by someone else */
		ch = changes_get(&changes, mbox, (unsigned int)idx);
		any = true;
		if ((rec->driver_flags & MBOX_REC_EXPUNGE) != 0) {
			ch->expunge = true;
			continue;
		}
		ch->st.flags = rec->flags & MAIL_FLAGS_MASK;
		ch->st.nonrecent = want_nonrecent(mbox, &scan->msgs.v[idx]);
		array_clear(&ch->kws);
		for (size_t k = 0; k < set->keywords.count; k++) {
			if (mail_record_has_kw(rec, (unsigned int)k))
				array_push(&ch->kws, set->keywords.v[k]);
		}
	}
	if (!any)
		return 0;
	/* every keyword of the mailbox goes into X-IMAPbase, as Dovecot
	   writes its index's list (also one only expunged mail had) */
	for (size_t k = 0; k < set->keywords.count; k++)
		array_push(&extra, set->keywords.v[k]);
	/* new keyword names go into X-IMAPbase too */
	base_keywords_collect(mbox, &base_kw, extra.v,
			      (unsigned int)extra.count);
	if (changes.v[0].idx == 0 && changes.v[0].expunge) {
		/* X-IMAPbase moves to the new first message */
		for (size_t i = 1; i < scan->msgs.count; i++) {
			struct mbox_change *ch =
				changes_get(&changes, mbox, (unsigned int)i);

			if (ch->expunge)
				continue;
			ch->st.base = true;
			ch->st.uidvalidity = mbox->uidvalidity;
			ch->st.last_uid = mbox->last_uid;
			ch->st.base_keywords = (const char *const *)base_kw.v;
			ch->st.base_keywords_count =
				(unsigned int)base_kw.count;
			break;
		}
	} else if (base_kw.count != scan->base_keywords.count) {
		struct mbox_change *bch = changes_get(&changes, mbox, 0);

		bch->st.base = true;
		bch->st.uidvalidity = mbox->uidvalidity;
		bch->st.last_uid = mbox->last_uid;
		bch->st.base_keywords = (const char *const *)base_kw.v;
		bch->st.base_keywords_count = (unsigned int)base_kw.count;
	}
	ret = apply_changes(mbox, &changes);
	changes_free(&changes);
	array_free(&base_kw);
	array_free(&extra);
	return ret;
}

static void clear_pending(struct mail_record_set *set, bool dirty)
{
	for (size_t i = 0; i < set->recs.count; i++) {
		set->recs.v[i].driver_flags &= ~MBOX_REC_EXPUNGE;
		if (dirty)
			set->recs.v[i].driver_flags &= ~MBOX_REC_DIRTY;
	}
}

static void set_lock_warning(struct mbox_mailbox *mbox)
{
	i_free(mbox->box.sync_warning);
	mbox->box.sync_warning = i_strdup(mailbox_get_last_error(&mbox->box,
								 NULL));
}

/* Write the pending changes now. 1 written (or nothing to do), 0 the
 * lock timed out (mbox->defer_writes set), -1 error. */
static int flush_pending(struct mbox_mailbox *mbox,
			 struct mail_record_set *set, bool dirty)
{
	int ret;

	if (mbox->fd_readonly || !set_pending(set, dirty))
		return 1;
	if (mbox->defer_writes)
		return 0;
	ret = write_begin(mbox);
	if (ret == 0)
		mbox->defer_writes = true;
	if (ret <= 0)
		return ret;
	ret = write_pending(mbox, set, dirty);
	mbox_unlock(mbox);
	if (ret < 0)
		return -1;
	clear_pending(set, dirty);
	return 1;
}

static bool lazy_writes(const struct mbox_mailbox *mbox)
{
	return mbox->box.user->set->mbox_lazy_writes;
}

int mbox_write_flags(struct mailbox *box ATTR_UNUSED,
		     struct mail_record_set *set ATTR_UNUSED,
		     struct mail_record *rec)
{
	/* written by mbox_commit_flush (or later: lazy writes, a lock
	   held by another process) */
	rec->driver_flags |= MBOX_REC_DIRTY;
	return 0;
}

void mbox_commit_flush(struct mailbox *box, struct mail_record_set *set)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)box;

	if (flush_pending(mbox, set, !lazy_writes(mbox)) <= 0)
		set_lock_warning(mbox);
	min_index_size_check(mbox, set);
}

int mbox_flush_all(struct mbox_mailbox *mbox, struct mail_record_set *set)
{
	int ret = flush_pending(mbox, set, true);

	if (ret <= 0)
		set_lock_warning(mbox);
	min_index_size_check(mbox, set);
	return ret > 0 ? 0 : -1;
}

int mbox_flush(struct mailbox *box, struct mail_record_set *set)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)box;

	if (box->readonly)
		return 0;
	return mbox_flush_all(mbox, set);
}

int mbox_expunge(struct mailbox *box ATTR_UNUSED,
		 struct mail_record_set *set,
		 const uint32_t *uids, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		struct mail_record *rec = mail_record_set_find(set, uids[i]);

		if (rec != NULL)
			rec->driver_flags |= MBOX_REC_EXPUNGE;
	}
	/* removed from the file by mbox_commit_flush; the next sync
	   reports them gone */
	return 1;
}

/* maildir-sync.c - Maildir disk state into records: new/ and cur/ are
 * read only when their mtimes (or dovecot-uidlist's) differ from the
 * stamps the index remembered, files without a UID get the next ones in
 * dovecot-uidlist (under its lock), new/ files move to cur/ when an IMAP
 * or POP3 session opens the mailbox (as Dovecot does), and flag changes
 * and expunges are renames and unlinks. */
#include "maildir-private.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum stamp_idx {
	STAMP_NEW, STAMP_CUR, STAMP_UL_MTIME, STAMP_UL_SIZE, STAMP_UL_INO,
	STAMP_KEYWORDS,
};

struct maildir_entry {
	char *fname;
	char *key;
	bool in_new;
	uint32_t uid;
};
typedef ARRAY(struct maildir_entry) ARRAY_ENTRY;

/* A directory's mtime in ns; 0 (= "always rescan") while it is so
 * recent that a change in the same clock tick could go unseen. */
static int64_t path_stamp(const char *path, bool *exists_r)
{
	struct stat st;
	int64_t ns;

	if (stat(path, &st) < 0) {
		if (exists_r != NULL)
			*exists_r = false;
		return -1;
	}
	if (exists_r != NULL)
		*exists_r = true;
	ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (st.st_mtim.tv_sec >= time(NULL) - 1)
		return 0;
	return ns;
}

static const char *subdir(struct mailbox *box, const char *name)
{
	return p_strdup_printf(box->pool, "%s/%s", box->path, name);
}

static void read_stamps(struct mailbox *box, int64_t stamp[6])
{
	struct stat st;
	const char *ul = p_strdup_printf(box->pool, "%s/" MAILDIR_UIDLIST_NAME,
					 box->control_path);
	const char *kw = p_strdup_printf(box->pool, "%s/" MAILDIR_KEYWORDS_NAME,
					 box->control_path);

	stamp[STAMP_NEW] = path_stamp(subdir(box, "new"), NULL);
	stamp[STAMP_CUR] = path_stamp(subdir(box, "cur"), NULL);
	if (stat(ul, &st) == 0) {
		stamp[STAMP_UL_MTIME] = (int64_t)st.st_mtim.tv_sec * 1000000000 +
			st.st_mtim.tv_nsec;
		stamp[STAMP_UL_SIZE] = st.st_size;
		stamp[STAMP_UL_INO] = (int64_t)st.st_ino;
		if (st.st_mtim.tv_sec >= time(NULL) - 1)
			stamp[STAMP_UL_MTIME] = 0;
	} else {
		stamp[STAMP_UL_MTIME] = stamp[STAMP_UL_SIZE] =
			stamp[STAMP_UL_INO] = -1;
	}
	stamp[STAMP_KEYWORDS] = path_stamp(kw, NULL);
}

static bool stamps_current(const int64_t now[6], const int64_t old[6])
{
	for (unsigned int i = 0; i < 6; i++) {
		if (now[i] == 0 || now[i] != old[i])
			return false;
	}
	return true;
}

static int scan_dir(struct mailbox *box, const char *dir, bool in_new,
		    ARRAY_ENTRY *entries)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL) {
		if (errno == ENOENT) {
			mailbox_set_error(box, MAIL_ERROR_NOTFOUND,
				"Mailbox doesn't exist: %s", box->vname);
			return -1;
		}
		mailbox_set_critical(box, "opendir(%s) failed: %m", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct maildir_entry *e;

		if (de->d_name[0] == '.')
			continue;
		e = array_append_space(entries);
		e->fname = i_strdup(de->d_name);
		e->key = maildir_filename_key(de->d_name);
		e->in_new = in_new;
	}
	closedir(d);
	return 0;
}

static void entries_free(ARRAY_ENTRY *entries)
{
	for (size_t i = 0; i < entries->count; i++) {
		i_free(entries->v[i].fname);
		i_free(entries->v[i].key);
	}
	array_free(entries);
}

static int entry_key_cmp(const void *p1, const void *p2)
{
	const struct maildir_entry *e1 = p1, *e2 = p2;
	return strcmp(e1->key, e2->key);
}

static int entry_uid_cmp(const void *p1, const void *p2)
{
	const struct maildir_entry *e1 = p1, *e2 = p2;
	return e1->uid < e2->uid ? -1 : e1->uid > e2->uid ? 1 : 0;
}

/* Give UIDs to the entries that have none, under the uidlist lock. */
static int assign_uids(struct mailbox *box, struct maildir_uidlist *ul,
		       ARRAY_ENTRY *entries, bool have_file)
{
	struct dotlock *lock;
	bool changed = !have_file || ul->guid[0] == '\0';
	size_t i;
	int ret;

	/* a read-only open (EXAMINE, STATUS) still gives UIDs and a
	   UIDVALIDITY, as Dovecot does: the mail itself is not touched;
	   where the uidlist can't be written it stays without them */
	ret = maildir_uidlist_lock(box, &lock);
	if (ret <= 0)
		return box->readonly ? 0 : -1;
	/* someone may have written it meanwhile */
	maildir_uidlist_deinit(ul);
	maildir_uidlist_init(ul);
	ret = maildir_uidlist_read(box, ul);
	if (ret < 0) {
		(void)file_dotlock_delete(&lock);
		return -1;
	}
	if (ret == 0 || ul->uidvalidity == 0) {
		ul->uidvalidity = maildir_uidvalidity_next(box->list);
		changed = true;
	}
	if (ul->guid[0] == '\0') {
		maildir_guid_generate(ul->guid);
		changed = true;
	}
	/* new files in name order (names start with the delivery time) */
	if (entries->count > 1)
		qsort(entries->v, entries->count, sizeof(*entries->v), entry_key_cmp);
	for (i = 0; i < entries->count; i++) {
		struct maildir_entry *e = &entries->v[i];

		e->uid = maildir_uidlist_lookup(ul, e->key);
		if (e->uid != 0)
			continue;
		e->uid = ul->next_uid;
		maildir_uidlist_add(ul, e->uid, e->key);
		changed = true;
	}
	if (!changed) {
		(void)file_dotlock_delete(&lock);
		return 0;
	}
	return maildir_uidlist_write(box, ul, &lock);
}

/* Move a new/ file into cur/ with an empty flag part. */
static void move_to_cur(struct mailbox *box, struct maildir_entry *e)
{
	char *src = i_strdup_printf("%s/new/%s", box->path, e->fname);
	char *fname = strchr(e->fname, ':') != NULL ? i_strdup(e->fname) :
		i_strdup_printf("%s:2,", e->fname);
	char *dest = i_strdup_printf("%s/cur/%s", box->path, fname);

	if (rename(src, dest) == 0) {
		i_free(e->fname);
		e->fname = fname;
		e->in_new = false;
	} else {
		if (errno != ENOENT)
			i_error("rename(%s, %s) failed: %m", src, dest);
		i_free(fname);
	}
	i_free(src);
	i_free(dest);
}

static void rec_fill_new(struct maildir_mailbox *mbox, struct mail_record *rec,
			 const struct maildir_entry *e, uint64_t ul_vsize)
{
	struct mailbox *box = &mbox->box;
	char *path;
	struct stat st;

	rec->uid = e->uid;
	rec->size = rec->vsize = MAIL_SIZE_UNKNOWN;
	if (!maildir_filename_size(e->key, 'S', &rec->size))
		rec->size = MAIL_SIZE_UNKNOWN;
	if (!maildir_filename_size(e->key, 'W', &rec->vsize))
		rec->vsize = ul_vsize;
	rec->received = rec->saved = MAIL_DATE_UNKNOWN;
	if (rec->size != MAIL_SIZE_UNKNOWN) {
		/* the dates wait for a reader (maildir_fill_dates): a
		   stat() per file was most of indexing a big Maildir */
		return;
	}
	path = i_strdup_printf("%s/%s/%s", box->path,
			       e->in_new ? "new" : "cur", e->fname);
	if (stat(path, &st) == 0) {
		rec->received = st.st_mtime;
		rec->saved = st.st_ctime;
		if (rec->size == MAIL_SIZE_UNKNOWN)
			rec->size = (uint64_t)st.st_size;
	}
	i_free(path);
}

int maildir_sync_read(struct mailbox *box, struct mail_record_set *set,
		      bool force)
{
	struct maildir_mailbox *mbox = (struct maildir_mailbox *)box;
	ARRAY_ENTRY entries = ARRAY_INIT;
	ARRAY(struct mail_record) recs = ARRAY_INIT;
	struct maildir_uidlist ul;
	int64_t stamp[6];
	bool need_assign = false, move_new;
	int ret;
	size_t i;

	read_stamps(box, stamp);
	if (!force && set->uidvalidity != 0 && stamps_current(stamp, set->stamp))
		return 0;
	if (maildir_keywords_read(mbox) < 0)
		return -1;

	maildir_uidlist_init(&ul);
	ret = maildir_uidlist_read(box, &ul);
	if (ret < 0 ||
	    scan_dir(box, subdir(box, "new"), true, &entries) < 0 ||
	    scan_dir(box, subdir(box, "cur"), false, &entries) < 0) {
		maildir_uidlist_deinit(&ul);
		entries_free(&entries);
		return -1;
	}
	for (i = 0; i < entries.count; i++) {
		entries.v[i].uid = maildir_uidlist_lookup(&ul, entries.v[i].key);
		if (entries.v[i].uid == 0)
			need_assign = true;
	}
	if ((need_assign || ret == 0 || ul.guid[0] == '\0') &&
	    assign_uids(box, &ul, &entries, ret > 0) < 0) {
		maildir_uidlist_deinit(&ul);
		entries_free(&entries);
		return -1;
	}
	move_new = !box->readonly &&
		(box->flags & (MAILBOX_FLAG_DROP_RECENT |
			       MAILBOX_FLAG_POP3_SESSION)) != 0;
	if (entries.count > 1)
		qsort(entries.v, entries.count, sizeof(*entries.v), entry_uid_cmp);

	for (i = 0; i < entries.count; i++) {
		enum mail_flags f;
		const char *l;
		maildir_filename_flags(entries.v[i].fname, &f, &l);
		if (*l != '\0')
			maildir_keywords_ensure(mbox, l);
	}
	if (set->uidvalidity != ul.uidvalidity) {
		/* a fresh index: as Dovecot, recent is everything above
		   the highest UID already moved to cur/ (a threshold, so
		   new/ mail below a cur/ one is not recent) */
		uint32_t first_recent = 1;
		for (i = 0; i < entries.count; i++) {
			if (!entries.v[i].in_new && entries.v[i].uid != 0 &&
			    entries.v[i].uid >= first_recent)
				first_recent = entries.v[i].uid + 1;
		}
		set->first_recent_uid = first_recent;
	}
	array_reserve(&recs, entries.count);
	for (i = 0; i < entries.count; i++) {
		struct maildir_entry *e = &entries.v[i];
		struct mail_record *old, *rec;
		enum mail_flags flags;
		const char *letters;
		uintptr_t ul_idx;

		if (e->uid == 0)
			continue;	/* read-only and unknown */
		if (recs.count > 0 && recs.v[recs.count - 1].uid == e->uid) {
			/* same file in new/ and cur/ during a move */
			continue;
		}
		if (e->in_new && move_new)
			move_to_cur(box, e);
		rec = array_append_space(&recs);
		old = mail_record_set_find(set, e->uid);
		if (old != NULL && old->name != NULL &&
		    strncmp(old->name, e->key, strlen(e->key)) == 0) {
			rec->uid = old->uid;
			rec->modseq = old->modseq;
			rec->size = old->size;
			rec->vsize = old->vsize;
			rec->received = old->received;
			rec->saved = old->saved;
		} else {
			ul_idx = (uintptr_t)hash_lookup(ul.keys, e->key);
			rec_fill_new(mbox, rec, e,
				     ul_idx == 0 ? MAIL_SIZE_UNKNOWN :
				     ul.recs.v[ul_idx - 1].vsize);
		}
		maildir_filename_flags(e->fname, &flags, &letters);
		rec->flags = (uint8_t)flags;
		rec->name = i_strdup(e->fname);
		rec->driver_flags = e->in_new ? MAILDIR_REC_NEW : 0;
		if (*letters != '\0') {
			rec->kw = i_new(uint32_t, box->kw_words);
			maildir_keywords_apply(mbox, rec, letters);
		}
		/* keywords beyond the 26 file name letters live only in the
		   index, as in Dovecot: keep them from the old record */
		if (old != NULL && old->kw != NULL)
			maildir_keywords_keep_unlettered(mbox, old, rec);
	}
	for (i = 0; i < set->recs.count; i++)
		mail_record_free(&set->recs.v[i]);
	array_free(&set->recs);
	set->recs.v = recs.v;
	set->recs.count = recs.count;
	set->recs.cap = recs.cap;
	set->uidvalidity = ul.uidvalidity;
	if (ul.next_uid > set->next_uid || ul.uidvalidity != set->uidvalidity)
		set->next_uid = ul.next_uid;
	if (ul.next_uid > set->next_uid)
		set->next_uid = ul.next_uid;
	memcpy(set->guid, ul.guid, sizeof(set->guid));
	maildir_uidlist_deinit(&ul);
	entries_free(&entries);
	read_stamps(box, set->stamp);
	return 0;
}

int maildir_fill_dates(struct mailbox *box, struct mail_record *rec)
{
	char path[PATH_MAX];
	struct stat st;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (rec->name == NULL ||
		    snprintf(path, sizeof(path), "%s/%s/%s", box->path,
			     (rec->driver_flags & MAILDIR_REC_NEW) != 0 ?
			     "new" : "cur", rec->name) >= (int)sizeof(path)) {
			rec->received = rec->saved = 0;
			return 0;
		}
		if (stat(path, &st) == 0) {
			rec->received = st.st_mtime;
			rec->saved = st.st_ctime;
			return 0;
		}
		if (errno != ENOENT) {
			/* as at sync before: unknown dates read as 0 */
			rec->received = rec->saved = 0;
			return 0;
		}
		/* renamed by another process (flags changed)? */
		if (attempt == 0 && maildir_find_file(box, rec) <= 0)
			break;
	}
	mailbox_set_error(box, MAIL_ERROR_EXPUNGED,
			  "Message was expunged (uid=%u)", rec->uid);
	return -1;
}

const char *maildir_rec_path(struct mailbox *box, const struct mail_record *rec)
{
	return p_strdup_printf(box->pool, "%s/%s/%s", box->path,
			       (rec->driver_flags & MAILDIR_REC_NEW) != 0 ?
			       "new" : "cur", rec->name);
}

/* rec's file was renamed by someone else: find it by its key. */
int maildir_find_file(struct mailbox *box, struct mail_record *rec)
{
	static const char *const dirs[] = { "cur", "new" };
	char *key = maildir_filename_key(rec->name);
	size_t klen = strlen(key);
	int ret = 0;

	for (unsigned int i = 0; i < N_ELEMENTS(dirs) && ret == 0; i++) {
		DIR *d = opendir(subdir(box, dirs[i]));
		struct dirent *de;

		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, key, klen) == 0 &&
			    (de->d_name[klen] == ':' || de->d_name[klen] == '\0')) {
				i_free(rec->name);
				rec->name = i_strdup(de->d_name);
				rec->driver_flags = i == 1 ? MAILDIR_REC_NEW : 0;
				ret = 1;
				break;
			}
		}
		closedir(d);
	}
	i_free(key);
	return ret;
}

int maildir_write_flags(struct mailbox *box, struct mail_record_set *set,
			struct mail_record *rec)
{
	struct maildir_mailbox *mbox = (struct maildir_mailbox *)box;
	char *key = maildir_filename_key(rec->name);
	char *fname = maildir_filename_with_flags(mbox, key, rec);
	const char *src, *dest;
	bool ours = path_stamp(subdir(box, "cur"), NULL) == set->stamp[STAMP_CUR] &&
		set->stamp[STAMP_CUR] != 0;
	int ret = 0;

	i_free(key);
	dest = p_strdup_printf(box->pool, "%s/cur/%s", box->path, fname);
	for (int attempt = 0; attempt < 2; attempt++) {
		src = maildir_rec_path(box, rec);
		if (strcmp(src, dest) == 0 || rename(src, dest) == 0) {
			i_free(rec->name);
			rec->name = fname;
			fname = NULL;
			rec->driver_flags &= ~MAILDIR_REC_NEW;
			break;
		}
		if (errno != ENOENT) {
			mailbox_set_critical(box, "rename(%s, %s) failed: %m",
					     src, dest);
			ret = -1;
			break;
		}
		if (attempt == 0 && maildir_find_file(box, rec) <= 0)
			break;	/* expunged by someone else */
	}
	i_free(fname);
	if (ours)
		set->stamp[STAMP_CUR] = path_stamp(subdir(box, "cur"), NULL);
	if ((rec->driver_flags & MAILDIR_REC_NEW) == 0)
		set->stamp[STAMP_NEW] = path_stamp(subdir(box, "new"), NULL) ==
			set->stamp[STAMP_NEW] ? set->stamp[STAMP_NEW] : 0;
	return ret;
}

int maildir_expunge(struct mailbox *box, struct mail_record_set *set,
		    const uint32_t *uids, unsigned int count)
{
	bool ours_cur = path_stamp(subdir(box, "cur"), NULL) == set->stamp[STAMP_CUR];
	bool ours_new = path_stamp(subdir(box, "new"), NULL) == set->stamp[STAMP_NEW];
	int ret = 0;

	for (unsigned int i = 0; i < count; i++) {
		struct mail_record *rec = mail_record_set_find(set, uids[i]);

		if (rec == NULL)
			continue;
		if (unlink(maildir_rec_path(box, rec)) == 0)
			continue;
		if (errno == ENOENT && maildir_find_file(box, rec) > 0 &&
		    unlink(maildir_rec_path(box, rec)) == 0)
			continue;
		if (errno != ENOENT) {
			mailbox_set_critical(box, "unlink(%s) failed: %m",
					     maildir_rec_path(box, rec));
			ret = -1;
		}
	}
	if (ours_cur)
		set->stamp[STAMP_CUR] = path_stamp(subdir(box, "cur"), NULL);
	if (ours_new)
		set->stamp[STAMP_NEW] = path_stamp(subdir(box, "new"), NULL);
	return ret;
}

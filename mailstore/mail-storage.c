/* mail-storage.c - mailboxes: alloc/open/free, sync of the disk state
 * into the index snapshot (assigning modseqs) and of the snapshot into
 * the session's view (reporting changes), status, and the view lookups. */
#include "mail-storage-private.h"
#include "quota-private.h"
#include "mail-log.h"
#include "acl.h"
#include "settings-structs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

void mailbox_set_error(struct mailbox *box, enum mail_error error,
		       const char *fmt, ...)
{
	va_list args;

	char *text;

	/* formatted first: an argument may be the old text */
	va_start(args, fmt);
	text = i_strdup_vprintf(fmt, args);
	va_end(args);
	i_free(box->error_text);
	box->error = error;
	box->error_text = text;
}

void mailbox_set_critical(struct mailbox *box, const char *fmt, ...)
{
	char tbuf[64];
	time_t now = time(NULL);
	struct tm tm;
	va_list args;
	char *msg;

	va_start(args, fmt);
	msg = i_strdup_vprintf(fmt, args);
	va_end(args);
	i_error("Mailbox %s: %s", box->vname, msg);
	i_free(msg);
	localtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);
	mailbox_set_error(box, MAIL_ERROR_TEMP,
		"Internal error occurred. Refer to server log for more information. [%s]",
		tbuf);
}

const char *mailbox_get_last_error(struct mailbox *box,
				   enum mail_error *error_r)
{
	if (error_r != NULL)
		*error_r = box->error;
	return box->error_text == NULL ? "" : box->error_text;
}

const char *mailbox_get_sync_warning(struct mailbox *box)
{
	return box->sync_warning;
}

int mailbox_flush(struct mailbox *box)
{
	if (!box->opened || box->readonly || box->v->flush == NULL)
		return 0;
	if (box->v->flush(box, &box->disk) < 0)
		return -1;
	return mail_index_save(box, &box->disk) < 0 ? -1 : 0;
}

struct mailbox *mailbox_alloc(struct mail_user *user, const char *vname,
			      enum mailbox_flags flags)
{
	struct mail_namespace *ns;
	const struct mail_storage_vfuncs *v;
	struct mailbox *box;
	pool_t pool;
	size_t plen;

	vname = mailbox_vname_normalize(user, vname);
	ns = mail_namespace_find(user, vname);
	if (ns == NULL)
		ns = mail_namespace_find_inbox(user);
	v = ns->mlist->v;
	pool = pool_create("mailbox", 1024);
	box = p_malloc(pool, MAX(v->box_size, sizeof(*box)));
	box->pool = pool;
	box->user = user;
	box->ns = ns;
	box->list = ns->mlist;
	box->v = v;
	box->flags = flags;
	box->vname = p_strdup(pool, vname);
	box->notify_fd = -1;
	plen = strlen(ns->prefix);
	if (strcmp(vname, "INBOX") == 0 && ns->inbox)
		box->name = "INBOX";
	else if (strncmp(vname, ns->prefix, plen) == 0)
		box->name = p_strdup(pool, vname + plen);
	else
		box->name = "";
	if (ns->inbox && strcmp(box->name, "INBOX") != 0 &&
	    strcasecmp(box->name, "INBOX") == 0)
		box->name = "INBOX";
	mail_record_set_init(&box->disk);
	mail_record_set_init(&box->view);
	box->kw_words = 1;
	box->readonly = (flags & MAILBOX_FLAG_READONLY) != 0;
	if (box->name[0] == '\0') {
		mailbox_set_error(box, MAIL_ERROR_NOTFOUND,
				  "Mailbox doesn't exist: %s", vname);
		box->deleting = true;	/* unusable */
	} else if (v->box_init(box) < 0) {
		box->deleting = true;
	}
	return box;
}

void mailbox_free(struct mailbox **_box)
{
	struct mailbox *box = *_box;

	if (box == NULL)
		return;
	*_box = NULL;
	/* sizes computed this session are kept for the next one */
	if (box->opened && box->index_dirty && !box->readonly)
		(void)mail_index_save(box, &box->disk);
	if (box->opened)
		box->v->box_close(box);
	if (box->notify_fd >= 0)
		close(box->notify_fd);
	mail_record_set_clear(&box->disk);
	mail_record_set_clear(&box->view);
	mail_cache_free(box);
	i_free(box->error_text);
	i_free(box->sync_warning);
	pool_destroy(&box->pool);
}

bool mailbox_is_readonly(struct mailbox *box) { return box->readonly; }
const char *mailbox_get_vname(const struct mailbox *box) { return box->vname; }
struct mail_namespace *mailbox_get_namespace(const struct mailbox *box)
{
	return box->ns;
}
struct mail_user *mailbox_get_user(const struct mailbox *box)
{
	return box->user;
}

/* An unusable box (bad name): the error was set at alloc. */
static bool box_unusable(struct mailbox *box)
{
	return box->deleting;
}

int mailbox_exists(struct mailbox *box, bool *exists_r)
{
	bool selectable;

	if (box_unusable(box)) {
		*exists_r = false;
		return box->error == MAIL_ERROR_NOTFOUND ? 0 : -1;
	}
	if (box->v->box_exists(box, exists_r, &selectable) < 0)
		return -1;
	if (*exists_r && !selectable)
		*exists_r = false;
	return 0;
}

/* acl: a mailbox the user may not look up doesn't exist for him; one
 * he lacks right on is "Permission denied". */
static int acl_check(struct mailbox *box, unsigned int need)
{
	unsigned int rights;

	if (box->user->acl == NULL)
		return 0;
	if (acl_mailbox_rights(box, &rights) < 0)
		return -1;
	if ((rights & ACL_LOOKUP) == 0) {
		mailbox_set_error(box, MAIL_ERROR_NOTFOUND,
				  "Mailbox doesn't exist: %s", box->vname);
		return -1;
	}
	if ((rights & need) != need) {
		mailbox_set_error(box, MAIL_ERROR_PERM, "Permission denied");
		return -1;
	}
	return 0;
}

int mailbox_create(struct mailbox *box, const char *special_use,
		   bool directory)
{
	(void)special_use;
	if (box_unusable(box))
		return -1;
	if (acl_mailbox_create_check(box) < 0)
		return -1;
	if (box->v->box_create(box, directory) < 0)
		return -1;
	acl_mailbox_created(box);
	mail_log_mailbox(box->user, MAIL_LOG_EVENT_MAILBOX_CREATE, box->vname,
			 NULL);
	return 0;
}

int mailbox_delete(struct mailbox *box)
{
	if (box_unusable(box))
		return -1;
	if (strcmp(box->vname, "INBOX") == 0 && box->ns->inbox) {
		mailbox_set_error(box, MAIL_ERROR_NOTPOSSIBLE,
				  "INBOX can't be deleted.");
		return -1;
	}
	if (acl_check(box, ACL_DELETE) < 0)
		return -1;
	/* mail_log: Dovecot expunges the messages first, one line each */
	ARRAY_STR log_lines = ARRAY_INIT;
	if (mail_log_enabled(box->user, MAIL_LOG_EVENT_EXPUNGE)) {
		struct mailbox *view = mailbox_alloc(box->user, box->vname,
						     MAILBOX_FLAG_READONLY);

		if (mailbox_open(view) == 0) {
			struct mail *mail = mail_alloc(view);

			for (uint32_t seq = 1; seq <= mailbox_count(view); seq++) {
				mail_set_seq(mail, seq);
				array_push(&log_lines, mail_log_format(mail,
					"expunge", false));
			}
			mail_free(&mail);
		}
		mailbox_free(&view);
	}
	if (box->v->box_delete(box) < 0) {
		for (size_t i = 0; i < log_lines.count; i++)
			free((char *)log_lines.v[i]);
		array_free(&log_lines);
		return -1;
	}
	for (size_t i = 0; i < log_lines.count; i++) {
		i_info("%s", log_lines.v[i]);
		free((char *)log_lines.v[i]);
	}
	array_free(&log_lines);
	mail_log_mailbox(box->user, MAIL_LOG_EVENT_MAILBOX_DELETE, box->vname,
			 NULL);
	quota_mailbox_deleted(box);
	return 0;
}

int mailbox_rename(struct mailbox *src, struct mailbox *dest)
{
	if (box_unusable(src))
		return -1;
	if (box_unusable(dest)) {
		mailbox_set_error(src, dest->error, "%s", dest->error_text);
		return -1;
	}
	if (src->v != dest->v) {
		mailbox_set_error(src, MAIL_ERROR_NOTPOSSIBLE,
			"Can't rename mailboxes across different storage types");
		return -1;
	}
	/* Dovecot checks the destination's parent first */
	if (acl_mailbox_create_check(dest) < 0) {
		mailbox_set_error(src, dest->error, "%s", dest->error_text);
		return -1;
	}
	if (acl_check(src, ACL_DELETE) < 0)
		return -1;
	if (src->v->box_rename(src, dest) < 0)
		return -1;
	mail_log_mailbox(src->user, MAIL_LOG_EVENT_MAILBOX_RENAME, src->vname,
			 dest->vname);
	return 0;
}

/* ---- sync ---- */

struct old_state {
	uint32_t uid;
	uint8_t flags;
	uint64_t kw_hash;
	uint32_t *kw;	/* copy of the bitmap, NULL if none */
};

typedef ARRAY(struct old_state) ARRAY_OLD_STATE;

static void old_states_free(ARRAY_OLD_STATE *old)
{
	for (size_t i = 0; i < old->count; i++)
		i_free(old->v[i].kw);
	array_free(old);
}

static uint64_t kw_hash(const struct mail_record *rec, unsigned int words)
{
	uint64_t h = 0;

	if (rec->kw == NULL)
		return 0;
	for (unsigned int i = 0; i < words; i++) {
		if (rec->kw[i] != 0)
			h = h * 1000003u + rec->kw[i] + i;
	}
	return h;
}

static bool kw_equal(const struct mail_record *r1, const struct mail_record *r2,
		     unsigned int words)
{
	for (unsigned int i = 0; i < words; i++) {
		uint32_t a = r1->kw == NULL ? 0 : r1->kw[i];
		uint32_t b = r2->kw == NULL ? 0 : r2->kw[i];
		if (a != b)
			return false;
	}
	return true;
}

/* Read the disk into box->disk, give changed messages new modseqs and
 * save the index when anything changed. */
int mailbox_sync_disk(struct mailbox *box, bool force)
{
	struct mail_record_set *set = &box->disk;
	ARRAY_OLD_STATE old = ARRAY_INIT;
	ARRAY_MODSEQ_TOUCH touches = ARRAY_INIT;
	ARRAY_U32 expunged = ARRAY_INIT;
	uint32_t old_uidvalidity = set->uidvalidity;
	unsigned int old_words = box->kw_words;
	size_t i, j;
	bool changed = false;
	int64_t old_stamp[6];

	i_free(box->sync_warning);
	/* another process's changes with the modseqs it gave them */
	if (box->opened)
		mail_index_reload_if_changed(box);
	memcpy(old_stamp, set->stamp, sizeof(old_stamp));
	array_reserve(&old, set->recs.count);
	for (i = 0; i < set->recs.count; i++) {
		old.v[i].uid = set->recs.v[i].uid;
		old.v[i].flags = set->recs.v[i].flags;
		old.v[i].kw_hash = kw_hash(&set->recs.v[i], box->kw_words);
		old.v[i].kw = NULL;
		if (set->recs.v[i].kw != NULL) {
			old.v[i].kw = i_new(uint32_t, old_words);
			memcpy(old.v[i].kw, set->recs.v[i].kw,
			       old_words * sizeof(uint32_t));
		}
	}
	old.count = set->recs.count;

	if (box->v->sync_read(box, set, force) < 0) {
		old_states_free(&old);
		return -1;
	}
	mailbox_kw_words_update(box);
	if (set->uidvalidity != old_uidvalidity && old_uidvalidity != 0) {
		/* a new UIDVALIDITY: everything is new */
		old_states_free(&old);
		array_clear(&set->exp);
		changed = true;
	}
	if (set->highest_modseq == 0) {
		set->highest_modseq = mail_modseq_initial(box);
		set->history_start = set->highest_modseq;
	}
	for (i = j = 0; i < set->recs.count || j < old.count;) {
		struct mail_record *rec = i < set->recs.count ? &set->recs.v[i] : NULL;
		struct old_state *o = j < old.count ? &old.v[j] : NULL;

		if (rec != NULL && (o == NULL || rec->uid < o->uid)) {
			/* new: the append, then its keywords */
			rec->modseq = 0;
			mail_modseq_touch(&touches, MAIL_MODSEQ_KEY_APPEND,
					  rec->uid);
			mail_modseq_touch_kw_replace(&touches, rec, NULL,
						     box->kw_words);
			changed = true;
			i++;
		} else if (rec == NULL || o->uid < rec->uid) {
			array_push(&expunged, o->uid);
			changed = true;
			j++;
		} else {
			if (rec->flags != o->flags) {
				mail_modseq_touch(&touches,
						  MAIL_MODSEQ_KEY_FLAGS,
						  rec->uid);
				changed = true;
			}
			if (kw_hash(rec, box->kw_words) != o->kw_hash) {
				uint32_t *okw = o->kw;

				if (okw != NULL && old_words < box->kw_words) {
					okw = i_new(uint32_t, box->kw_words);
					memcpy(okw, o->kw, old_words *
					       sizeof(uint32_t));
					i_free(o->kw);
					o->kw = okw;
				}
				mail_modseq_touch_kw_replace(&touches, rec, okw,
							     box->kw_words);
				changed = true;
			}
			if (rec->modseq == 0)
				rec->modseq = set->highest_modseq;
			i++;
			j++;
		}
	}
	mail_modseq_assign(set, &touches);
	mail_expunge_history_add(set, expunged.v, expunged.count);
	array_free(&touches);
	array_free(&expunged);
	old_states_free(&old);
	if (memcmp(old_stamp, set->stamp, sizeof(old_stamp)) != 0)
		changed = true;
	if (set->recs.count > 0 &&
	    set->next_uid <= set->recs.v[set->recs.count - 1].uid)
		set->next_uid = set->recs.v[set->recs.count - 1].uid + 1;
	if (changed && !box->readonly)
		(void)mail_index_save(box, set);
	return 0;
}

/* \Recent across sessions and processes: "roost.recent" beside
 * roost.index holds the lowest UID no claiming session (IMAP SELECT) has
 * taken yet, read and raised under an fcntl lock, so that of several
 * sessions seeing the same new message exactly one gets \Recent.
 * Returns the value before this call's claim (0 if unknown). */
static uint32_t recent_claim(struct mailbox *box, uint32_t next_uid,
			     bool claim)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[4096], buf[16];
	uint32_t value = 0;
	ssize_t n;
	int fd;

	if (box->index_path == NULL ||
	    snprintf(path, sizeof(path), "%s/roost.recent", box->index_path) >=
	    (int)sizeof(path))
		return 0;
	fd = open(path, claim ? O_RDWR | O_CREAT | O_CLOEXEC :
		  O_RDONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	if (!claim)
		fl.l_type = F_RDLCK;
	if (fcntl(fd, F_SETLKW, &fl) < 0) {
		close(fd);
		return 0;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		value = (uint32_t)strtoul(buf, NULL, 10);
	}
	if (claim && next_uid > value) {
		int len = snprintf(buf, sizeof(buf), "%u\n", next_uid);
		if (pwrite(fd, buf, (size_t)len, 0) != len ||
		    ftruncate(fd, len) < 0)
			i_error("write(%s) failed: %m", path);
	}
	close(fd);	/* releases the lock */
	return value;
}

/* Bring the view in line with box->disk, reporting changes. */
static void sync_view(struct mailbox *box, enum mailbox_sync_flags flags,
		      mailbox_sync_callback_t *callback, void *context)
{
	struct mail_record_set *view = &box->view, *disk = &box->disk;
	struct mailbox_sync_rec rec;
	size_t i, j;
	uint32_t first_new = 0;
	bool take_recent = (box->flags & MAILBOX_FLAG_DROP_RECENT) != 0 &&
		!box->readonly;

	/* keyword names: the view's list grows with the disk's */
	for (i = view->keywords.count; i < disk->keywords.count; i++)
		array_push(&view->keywords, i_strdup(disk->keywords.v[i]));
	for (i = j = 0; i < view->recs.count;) {
		struct mail_record *v = &view->recs.v[i];
		struct mail_record *d = j < disk->recs.count ? &disk->recs.v[j] : NULL;

		if (d != NULL && d->uid < v->uid) {
			/* appeared below the view's highest: can't be shown
			   (shouldn't happen with UIDs growing) */
			j++;
			continue;
		}
		if (d == NULL || d->uid > v->uid) {
			if ((flags & MAILBOX_SYNC_FLAG_NO_EXPUNGES) != 0) {
				v->expunged = true;
				i++;
				continue;
			}
			rec.type = MAILBOX_SYNC_EXPUNGE;
			rec.seq = (uint32_t)i + 1;
			rec.uid = v->uid;
			mail_record_free(v);
			array_delete(&view->recs, i);
			if (callback != NULL)
				callback(&rec, context);
			continue;
		}
		/* same uid */
		if (v->flags != d->flags || !kw_equal(v, d, box->kw_words) ||
		    v->modseq != d->modseq) {
			bool report = v->flags != d->flags ||
				!kw_equal(v, d, box->kw_words);
			v->flags = d->flags;
			v->modseq = d->modseq;
			if (d->kw != NULL) {
				if (v->kw == NULL)
					v->kw = i_new(uint32_t, box->kw_words);
				memcpy(v->kw, d->kw, box->kw_words * sizeof(uint32_t));
			} else {
				i_free(v->kw);
			}
			if (report && callback != NULL) {
				rec.type = MAILBOX_SYNC_FLAGS;
				rec.seq = (uint32_t)i + 1;
				rec.uid = v->uid;
				callback(&rec, context);
			}
		}
		v->size = d->size;
		v->vsize = d->vsize;
		v->offset = d->offset;
		v->body_offset = d->body_offset;
		v->body_size = d->body_size;
		v->driver_flags = d->driver_flags;
		if (null_strcmp(v->name, d->name) != 0) {
			i_free(v->name);
			v->name = d->name == NULL ? NULL : i_strdup(d->name);
		}
		i++;
		j++;
	}
	/* new messages */
	uint32_t last_uid = view->recs.count == 0 ? 0 :
		view->recs.v[view->recs.count - 1].uid;
	if ((flags & MAILBOX_SYNC_FLAG_NO_NEWMAIL) != 0)
		j = disk->recs.count;	/* no new messages this time */
	if (disk->recs.count > 0 && j < disk->recs.count &&
	    disk->recs.v[disk->recs.count - 1].uid > last_uid) {
		uint32_t shared = recent_claim(box, disk->next_uid,
					       take_recent);
		if (shared > disk->first_recent_uid)
			disk->first_recent_uid = shared;
	}
	if (j < disk->recs.count)
		array_reserve(&view->recs,
			      view->recs.count + (disk->recs.count - j));
	for (; j < disk->recs.count; j++) {
		struct mail_record *d = &disk->recs.v[j];
		struct mail_record *v;

		if (d->uid <= last_uid)
			continue;
		v = array_append_space(&view->recs);
		*v = *d;
		v->name = d->name == NULL ? NULL : i_strdup(d->name);
		v->kw = NULL;
		if (d->kw != NULL) {
			v->kw = i_new(uint32_t, box->kw_words);
			memcpy(v->kw, d->kw, box->kw_words * sizeof(uint32_t));
		}
		/* \Recent as Dovecot: every session sees it for messages no
		   session has claimed yet; only a claiming session (IMAP
		   SELECT) takes it away from the others */
		v->recent = d->uid >= disk->first_recent_uid;
		if (first_new == 0)
			first_new = (uint32_t)view->recs.count;
	}
	if (take_recent && (flags & MAILBOX_SYNC_FLAG_NO_NEWMAIL) == 0 &&
	    disk->first_recent_uid < disk->next_uid) {
		disk->first_recent_uid = disk->next_uid;
		(void)mail_index_save(box, disk);
	}
	view->uidvalidity = disk->uidvalidity;
	view->next_uid = disk->next_uid;
	view->highest_modseq = disk->highest_modseq;
	memcpy(view->guid, disk->guid, sizeof(view->guid));
	if (first_new != 0 && callback != NULL) {
		rec.type = MAILBOX_SYNC_NEW;
		rec.seq = first_new;
		rec.uid = view->recs.v[first_new - 1].uid;
		callback(&rec, context);
	}
}

int mailbox_open(struct mailbox *box)
{
	if (box->opened)
		return 0;
	if (box_unusable(box))
		return -1;
	if (box->user->acl != NULL) {
		unsigned int rights;
		bool saving = box->acl_saving ||
			(box->flags & MAILBOX_FLAG_SAVEONLY) != 0;

		if (acl_check(box, 0) < 0 ||
		    acl_mailbox_rights(box, &rights) < 0)
			return -1;
		if (saving ? (rights & (ACL_INSERT | ACL_POST)) == 0 :
		    (rights & ACL_READ) == 0) {
			mailbox_set_error(box, MAIL_ERROR_PERM,
					  "Permission denied");
			return -1;
		}
		if ((rights & (ACL_WRITE | ACL_WRITE_SEEN | ACL_WRITE_DELETED |
			       ACL_EXPUNGE | ACL_INSERT)) == 0)
			box->readonly = true;
	}
	if (box->v->box_open(box) < 0) {
		if (box->error == MAIL_ERROR_NOTFOUND &&
		    (box->flags & MAILBOX_FLAG_AUTOCREATE) != 0) {
			if (box->v->box_create(box, false) < 0) {
				if (box->error != MAIL_ERROR_EXISTS)
					return -1;
			} else {
				mail_log_mailbox(box->user,
					MAIL_LOG_EVENT_MAILBOX_CREATE,
					box->vname, NULL);
			}
			if (box->v->box_open(box) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	box->opened = true;
	(void)mail_index_load(box, &box->disk);
	mailbox_kw_words_update(box);
	if (mailbox_sync_disk(box, false) < 0) {
		box->v->box_close(box);
		box->opened = false;
		return -1;
	}
	if ((box->flags & MAILBOX_FLAG_SAVEONLY) == 0)
		sync_view(box, 0, NULL, NULL);
	box->view_loaded = true;
	return 0;
}

int mailbox_sync(struct mailbox *box, enum mailbox_sync_flags flags,
		 mailbox_sync_callback_t *callback, void *context)
{
	if (!box->opened && mailbox_open(box) < 0)
		return -1;
	if (mailbox_sync_disk(box, (flags & MAILBOX_SYNC_FLAG_FORCE_RESYNC) != 0) < 0)
		return -1;
	sync_view(box, flags, callback, context);
	return 0;
}

int mailbox_notify_fd(struct mailbox *box)
{
	const char *const *paths;

	if (box->notify_fd >= 0 || !box->opened || box->v->notify_paths == NULL)
		return box->notify_fd;
	paths = box->v->notify_paths(box);
	if (paths == NULL || paths[0] == NULL)
		return -1;
	box->notify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (box->notify_fd < 0) {
		i_error("inotify_init() failed: %m");
		return -1;
	}
	for (unsigned int i = 0; paths[i] != NULL; i++) {
		if (inotify_add_watch(box->notify_fd, paths[i],
				      IN_CREATE | IN_DELETE | IN_MOVED_FROM |
				      IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE) < 0 &&
		    errno != ENOENT)
			i_error("inotify_add_watch(%s) failed: %m", paths[i]);
	}
	return box->notify_fd;
}

const char *const *mailbox_get_notify_paths(struct mailbox *box)
{
	if (!box->opened || box->v->notify_paths == NULL)
		return NULL;
	return box->v->notify_paths(box);
}

void mailbox_notify_drain(struct mailbox *box)
{
	char buf[4096];

	if (box->notify_fd < 0)
		return;
	while (read(box->notify_fd, buf, sizeof(buf)) > 0) ;
}

/* ---- status ---- */

int mailbox_get_status(struct mailbox *box, enum mailbox_status_items items,
		       struct mailbox_status *status_r)
{
	const struct mail_record_set *view;

	memset(status_r, 0, sizeof(*status_r));
	if (!box->opened && mailbox_open(box) < 0)
		return -1;
	view = &box->view;
	status_r->messages = (uint32_t)view->recs.count;
	status_r->uidvalidity = view->uidvalidity;
	status_r->uidnext = view->next_uid;
	status_r->highest_modseq = view->highest_modseq;
	memcpy(status_r->guid, view->guid, sizeof(status_r->guid));
	status_r->first_recent_uid = box->disk.first_recent_uid;
	for (size_t i = 0; i < view->recs.count; i++) {
		const struct mail_record *rec = &view->recs.v[i];

		if (rec->recent)
			status_r->recent++;
		if ((rec->flags & MAIL_SEEN) == 0) {
			status_r->unseen++;
			if (status_r->first_unseen_seq == 0)
				status_r->first_unseen_seq = (uint32_t)i + 1;
		}
		if ((rec->flags & MAIL_DELETED) != 0)
			status_r->deleted++;
		if ((items & STATUS_SIZE) != 0 && rec->vsize != MAIL_SIZE_UNKNOWN)
			status_r->vsize += rec->vsize;
	}
	if ((items & STATUS_RECENT) != 0 &&
	    (box->flags & MAILBOX_FLAG_DROP_RECENT) == 0) {
		/* STATUS from another session: messages not yet claimed */
		status_r->recent = 0;
		for (size_t i = 0; i < view->recs.count; i++) {
			if (view->recs.v[i].uid >= box->disk.first_recent_uid)
				status_r->recent++;
		}
	}
	if ((items & STATUS_SIZE) != 0) {
		/* sizes not known yet are computed from the message */
		struct mail *mail = mail_alloc(box);
		status_r->vsize = 0;
		for (uint32_t seq = 1; seq <= view->recs.count; seq++) {
			uint64_t vsize;
			mail_set_seq(mail, seq);
			if (mail_get_virtual_size(mail, &vsize) == 0)
				status_r->vsize += vsize;
		}
		mail_free(&mail);
	}
	status_r->keywords = (const char *const *)view->keywords.v;
	status_r->keywords_count = (unsigned int)view->keywords.count;
	status_r->permanent_flags = box->readonly ? 0 : MAIL_FLAGS_MASK;
	status_r->permanent_keywords = !box->readonly;
	status_r->allow_new_keywords = !box->readonly;
	if (box->user->acl != NULL && !box->readonly) {
		enum mail_flags allowed;
		bool kw;

		/* acl: only what the rights let the user change */
		acl_mailbox_flag_rights(box, &allowed, &kw);
		status_r->permanent_flags &= allowed;
		status_r->permanent_keywords = kw;
		status_r->allow_new_keywords = kw;
	}
	return 0;
}

/* ---- view lookups ---- */

uint32_t mailbox_count(const struct mailbox *box)
{
	return (uint32_t)box->view.recs.count;
}

uint32_t mailbox_get_uidvalidity(const struct mailbox *box)
{
	return box->view.uidvalidity;
}

uint32_t mailbox_get_uidnext(const struct mailbox *box)
{
	return box->view.next_uid;
}

uint64_t mailbox_get_highest_modseq(const struct mailbox *box)
{
	return box->view.highest_modseq;
}

uint32_t mailbox_uid_lookup_ge(const struct mailbox *box, uint32_t uid)
{
	size_t lo = 0, hi = box->view.recs.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (box->view.recs.v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)lo + 1;
}

uint32_t mailbox_uid_to_seq(const struct mailbox *box, uint32_t uid)
{
	uint32_t seq = mailbox_uid_lookup_ge(box, uid);

	if (seq > box->view.recs.count || box->view.recs.v[seq - 1].uid != uid)
		return 0;
	return seq;
}

uint32_t mailbox_seq_to_uid(const struct mailbox *box, uint32_t seq)
{
	if (seq == 0 || seq > box->view.recs.count)
		return 0;
	return box->view.recs.v[seq - 1].uid;
}

enum mail_flags mailbox_seq_flags(const struct mailbox *box, uint32_t seq)
{
	const struct mail_record *rec;

	if (seq == 0 || seq > box->view.recs.count)
		return 0;
	rec = &box->view.recs.v[seq - 1];
	return (enum mail_flags)rec->flags | (rec->recent ? MAIL_RECENT : 0);
}

const char *const *mailbox_keywords(const struct mailbox *box,
				    unsigned int *count_r)
{
	*count_r = (unsigned int)box->view.keywords.count;
	return (const char *const *)box->view.keywords.v;
}

int mailbox_keyword_lookup(struct mailbox *box, const char *name, bool create)
{
	int idx;

	if (strlen(name) > box->user->set->mail_max_keyword_length)
		create = false;
	idx = mail_record_set_keyword(&box->disk, name, create && !box->readonly);

	if (idx < 0)
		return -1;
	/* keep the view's names in the same order */
	for (size_t i = box->view.keywords.count; i < box->disk.keywords.count; i++)
		array_push(&box->view.keywords, i_strdup(box->disk.keywords.v[i]));
	mailbox_kw_words_update(box);
	return idx;
}

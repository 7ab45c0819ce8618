/* mail-storage-private.h - what the storage core (mail-storage.c,
 * mail-index.c, mailbox-list.c) shares with the drivers (maildir-*.c,
 * mbox-*.c). Protocol code never includes this.
 *
 * Division of work:
 *  - the core keeps the session's view (an array of records sorted by
 *    UID), the index snapshot (last known disk state with modseqs),
 *    keywords, transactions, status, change reporting and the index and
 *    cache files;
 *  - a driver turns disk state into records (sync_read), applies flag
 *    changes and expunges to disk (sync_write), saves and copies, maps a
 *    message's bytes, and maps mailbox names to paths (list vfuncs). */
#ifndef ROOST_MAIL_STORAGE_PRIVATE_H
#define ROOST_MAIL_STORAGE_PRIVATE_H

#include "mail-storage.h"

#include <sys/stat.h>

#define MAIL_SIZE_UNKNOWN ((uint64_t)-1)
/* received/saved not looked up yet (the driver's fill_dates does it) */
#define MAIL_DATE_UNKNOWN INT64_MIN

/* One message as the core knows it. Records are kept sorted by uid. */
struct mail_record {
	uint32_t uid;
	uint8_t flags;		/* MAIL_FLAGS_MASK bits (no MAIL_RECENT) */
	/* set in the view only: this session owns \Recent for it */
	bool recent;
	/* view only: expunged on disk but not yet reported (NO_EXPUNGES) */
	bool expunged;
	/* bitmap of keyword indexes, box->kw_words words, NULL if none */
	uint32_t *kw;
	uint64_t modseq;
	uint64_t size, vsize;	/* MAIL_SIZE_UNKNOWN if not known */
	int64_t received, saved;
	/* driver location: maildir base file name (without ":2,flags"),
	   mbox: offset of the From_ line in `offset` */
	char *name;
	uint64_t offset;
	/* mbox: offset of the body and its size, from the last scan */
	uint64_t body_offset, body_size;
	/* driver's own per-message data (maildir: in new/ or cur/) */
	uint32_t driver_flags;
};

/* UIDs uid1..uid2 were expunged at modseq (or before it, for ranges
 * merged to keep the history small: see mail-modseq.c). */
struct mail_expunge_range {
	uint32_t uid1, uid2;
	uint64_t modseq;
};

/* A set of records plus the mailbox header fields that go with them. */
struct mail_record_set {
	ARRAY(struct mail_record) recs;
	uint32_t uidvalidity, next_uid;
	uint32_t first_recent_uid;
	uint64_t highest_modseq;
	/* MAIL_INDEX_FLAG_* */
	uint32_t index_flags;
	/* the expunge history is complete only after this modseq (when
	   the index was made): older queries get every missing UID */
	uint64_t history_start;
	char guid[33];
	/* keyword names by index (owned strings) */
	ARRAY_STR keywords;
	/* expunge history for QRESYNC (mail-modseq.c): UID ranges with
	   the modseq at which they went, oldest first, bounded */
	ARRAY(struct mail_expunge_range) exp;
	/* driver state saved in the index (maildir: new/ cur/ mtimes,
	   uidlist size/mtime/inode; mbox: file size/mtime/inode) */
	int64_t stamp[6];
};

/* CONDSTORE was used on the mailbox: SELECT shows HIGHESTMODSEQ from
   then on (Dovecot's "modseq tracking" in its index) */
#define MAIL_INDEX_FLAG_MODSEQS 0x01

struct mailbox_list;

/* What a driver implements. Every function returns 0 or -1 (with
 * mailbox_set_error() called) unless said otherwise. */
struct mail_storage_vfuncs {
	const char *name;	/* "maildir", "mbox" */
	size_t box_size;	/* sizeof the driver's struct mailbox subclass */

	/* --- mailbox list: names <-> paths, create/delete/rename --- */
	/* parse the location's driver-specific part; root/inbox already
	   parsed by the core into mlist */
	int (*list_init)(struct mailbox_list *list, const char **error_r);
	/* every existing mailbox's storage name (with the namespace's
	   separator, no prefix; INBOX as "INBOX"), plus whether it can be
	   selected and have children */
	int (*list_iter)(struct mailbox_list *list,
			 void (*cb)(const char *name,
				    enum mailbox_info_flags flags,
				    void *context), void *context);
	/* path of the subscriptions file */
	const char *(*subscriptions_path)(struct mailbox_list *list);

	/* --- mailbox --- */
	/* At alloc: validate box->name for this layout (error set and -1
	   if invalid: the box then fails every operation) and set
	   box->path, box->index_path and box->control_path. */
	int (*box_init)(struct mailbox *box);
	int (*box_exists)(struct mailbox *box, bool *exists_r,
			  bool *selectable_r);
	int (*box_create)(struct mailbox *box, bool directory);
	int (*box_delete)(struct mailbox *box);
	int (*box_rename)(struct mailbox *src, struct mailbox *dest);
	/* open: check the mailbox is there and usable */
	int (*box_open)(struct mailbox *box);
	void (*box_close)(struct mailbox *box);

	/* Read the disk state into set (which holds the index snapshot's
	   records as loaded: reuse what is current, add new messages with
	   UIDs assigned persistently, drop vanished ones, update flags).
	   UIDVALIDITY/next_uid/guid are the driver's truth (uidlist,
	   X-IMAPbase). With force, rescan everything. */
	int (*sync_read)(struct mailbox *box, struct mail_record_set *set,
			 bool force);
	/* Apply to disk: rec's flags/keywords changed from old_flags/old_kw
	   (recs is the set's record, already updated). */
	int (*write_flags)(struct mailbox *box, struct mail_record_set *set,
			   struct mail_record *rec);
	/* Remove these records from disk (uids ascending). Called with the
	   set; the core drops them from the set afterwards. 1 = deferred:
	   the records stay in the set and the driver removes them from disk
	   at a later write (commit_flush or sync_read), which then reports
	   them gone. */
	int (*expunge)(struct mailbox *box, struct mail_record_set *set,
		       const uint32_t *uids, unsigned int count);
	/* Optional: at the end of a commit that changed flags or expunged,
	   write what write_flags/expunge deferred. A failure leaves the
	   changes pending (a later sync retries and sets the sync warning). */
	void (*commit_flush)(struct mailbox *box, struct mail_record_set *set);
	/* Optional: write everything still pending, lazy changes too
	   (IMAP CHECK). 0, or -1 with the sync warning set. */
	int (*flush)(struct mailbox *box, struct mail_record_set *set);
	/* Map the message bytes (see mail_get_stream). The mapping stays
	   valid until unmap or the next map on the same mail. */
	int (*map_mail)(struct mailbox *box, const struct mail_record *rec,
			const unsigned char **data_r, size_t *size_r,
			void **map_ctx_r);
	void (*unmap_mail)(struct mailbox *box, void *map_ctx);
	/* Optional: set rec's received and saved dates, which sync left
	   MAIL_DATE_UNKNOWN (Maildir: a stat() per file costs more than
	   the rest of indexing a big mailbox, so it waits for a reader). */
	int (*fill_dates)(struct mailbox *box, struct mail_record *rec);

	/* --- save --- */
	/* Start a message; the core has filled ctx's flags/dates. */
	int (*save_begin)(struct mail_save_context *ctx);
	int (*save_continue)(struct mail_save_context *ctx, const void *data,
			     size_t size);
	/* The message is complete (written and fsynced as configured). */
	int (*save_finish)(struct mail_save_context *ctx);
	void (*save_cancel)(struct mail_save_context *ctx);
	/* Make every finished save of t visible and assign UIDs (taking
	   the driver's locks), appending to uids. On failure nothing saved
	   remains. */
	int (*save_commit)(struct mailbox_transaction *t,
			   ARRAY_U32 *uids);
	void (*save_rollback)(struct mailbox_transaction *t);
	/* Optional fast copy (hard link); return 1 if done, 0 to fall back
	   to a normal save of the bytes. */
	int (*copy)(struct mail_save_context *ctx, struct mail *mail);

	/* inotify targets for IDLE (directories or files), NULL-terminated */
	const char *const *(*notify_paths)(struct mailbox *box);
};

/* Parsed mail_location of a namespace. */
struct mailbox_list {
	pool_t pool;
	struct mail_namespace *ns;
	const struct mail_storage_vfuncs *v;
	const char *root;	/* root directory ("" = none) */
	const char *inbox_path;	/* INBOX= or NULL */
	const char *index_dir;	/* INDEX= or NULL (= root/mailbox dir) */
	const char *control_dir;	/* CONTROL= or NULL */
	const char *volatile_dir;	/* VOLATILEDIR= or NULL */
	const char *layout;	/* LAYOUT= or NULL (driver default) */
	const char *subscriptions_file;	/* SUBSCRIPTIONS= or NULL */
	bool full_dirname_escape;
	char storage_sep;	/* separator used on disk */
	void *driver_data;
};

struct mailbox {
	pool_t pool;
	struct mail_user *user;
	struct mail_namespace *ns;
	struct mailbox_list *list;
	const struct mail_storage_vfuncs *v;
	const char *vname;
	/* storage name: vname without the namespace prefix, ns separator
	   kept ("INBOX", "Work/Sub" for sep '/') */
	const char *name;
	enum mailbox_flags flags;
	bool opened, readonly, deleting;
	/* sizes learned from the mail itself: save the index at free */
	bool index_dirty;
	/* the index file as this process last read or wrote it: another
	   process's newer one is read before a sync, so that modseqs and
	   the expunge history are shared (mail_index_reload_if_changed) */
	ino_t index_ino;
	/* the index was there but damaged: modseqs start over above any
	   value it can have given (mail_modseq_initial) */
	bool index_lost;
	off_t index_size;
	struct timespec index_mtime;

	/* disk path of the mailbox (maildir dir, mbox file) and of its
	   index/control files */
	const char *path;
	const char *index_path;
	const char *control_path;

	/* the last known disk state (persisted in the index file) */
	struct mail_record_set disk;
	/* this session's view (seq = index + 1) */
	struct mail_record_set view;
	bool view_loaded;
	unsigned int kw_words;	/* words per keyword bitmap */

	enum mail_error error;
	char *error_text;
	/* set by a sync that succeeded only partly (mbox: pending writes
	   still waiting for the lock); cleared at each sync */
	char *sync_warning;
	/* the driver wants no index file written (mbox_min_index_size); an
	   existing one is still read */
	bool index_write_disabled;

	/* the message mapped for the current mail (one at a time per mail
	   object is enough for the protocols) */
	int notify_fd;
	/* cached parsed fields (mail-cache.c) */
	struct mail_cache *cache;
	/* open transactions (for NO_EXPUNGES rules) */
	unsigned int transaction_count;
	/* acl.c: the user's rights, computed at open */
	bool acl_cached;
	unsigned int acl_rights;
	/* opened by a save: insert/post suffices, read isn't needed */
	bool acl_saving;
};

struct mail_save_context {
	struct mailbox_transaction *t;
	struct mailbox *box;
	enum mail_flags flags;
	ARRAY_STR keywords;	/* owned names */
	time_t received_date;
	int received_tz;
	char *from_envelope;
	char *guid;
	/* bytes written so far and their CRLF size (core counts) */
	uint64_t size, vsize;
	bool last_cr;
	bool failed, finished;
	/* saved by mailbox_copy() (Maildir: flagless copies go to new/) */
	bool copying;
	/* quota already checked and counted (mailbox_copy) */
	bool quota_checked;
	/* mailbox_copy(): the source mailbox (mail_log's "copy from") */
	char *copy_src;
	void *driver_ctx;
};

struct mail_update {
	uint32_t uid;
	enum modify_type type;
	enum mail_flags flags;
	bool kw_change;
	ARRAY_STR keywords;
};

struct mailbox_transaction {
	struct mailbox *box;
	ARRAY(struct mail_update) updates;
	ARRAY_U32 expunges;
	/* finished saves, owned; the driver keeps its per-save data in
	   ctx->driver_ctx until commit/rollback */
	ARRAY(struct mail_save_context *) saves;
	void *driver_ctx;
	/* quota.c: usage before and this transaction's change; a MOVE */
	struct quota_transaction *quota;
	bool quota_moving;
};

void mailbox_set_error(struct mailbox *box, enum mail_error error,
		       const char *fmt, ...) ATTR_FORMAT(3, 4);
/* "Internal error occurred. Refer to server log for more information.
 * [timestamp]" to the client, the real text (with errno) to the log. */
void mailbox_set_critical(struct mailbox *box, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
void mail_user_set_error(struct mail_user *user, enum mail_error error,
			 const char *fmt, ...) ATTR_FORMAT(3, 4);

/* Record set helpers */
void mail_record_set_init(struct mail_record_set *set);
void mail_record_set_clear(struct mail_record_set *set);
void mail_record_set_copy(struct mail_record_set *dest,
			  const struct mail_record_set *src,
			  unsigned int kw_words);
struct mail_record *mail_record_set_find(struct mail_record_set *set,
					 uint32_t uid);
void mail_record_free(struct mail_record *rec);
/* keyword index by name in set, -1 if missing; with create, add it */
int mail_record_set_keyword(struct mail_record_set *set, const char *name,
			    bool create);
bool mail_record_has_kw(const struct mail_record *rec, unsigned int idx);
void mail_record_set_kw(struct mail_record *rec, unsigned int idx,
			bool set, unsigned int kw_words);
/* Grow every record's keyword bitmap in both sets if needed. */
void mailbox_kw_words_update(struct mailbox *box);

/* Index file (mail-index.c): load returns 0 and an empty set when the
 * file is missing or damaged (with a log line for damage). */
int mail_index_load(struct mailbox *box, struct mail_record_set *set);
int mail_index_save(struct mailbox *box, const struct mail_record_set *set);
/* Before a sync: take another process's newer index (same UIDVALIDITY,
 * keywords and modseqs not behind ours) as box->disk. */
void mail_index_reload_if_changed(struct mailbox *box);

/* Read the disk state into box->disk (driver sync_read), assigning
 * modseqs to what changed and saving the index if anything did. */
int mailbox_sync_disk(struct mailbox *box, bool force);

/* Modseqs (mail-modseq.c), numbered as Dovecot's transaction log does:
 * one change batch (a sync of the disk, a committed transaction) is a
 * series of "records" - appends, system flag changes, then per keyword
 * an add and a remove - and every record that touches a message raises
 * the highest modseq by one; a message gets the modseq of the last
 * record touching it. Expunges of a batch are one more record. */
enum mail_modseq_key {
	MAIL_MODSEQ_KEY_APPEND = 0,
	MAIL_MODSEQ_KEY_FLAGS = 1,
};
#define MAIL_MODSEQ_KEY_KW_ADD(idx) (2 + 2 * (uint32_t)(idx))
#define MAIL_MODSEQ_KEY_KW_REMOVE(idx) (3 + 2 * (uint32_t)(idx))
struct mail_modseq_touch {
	uint32_t key, uid;
};
typedef ARRAY(struct mail_modseq_touch) ARRAY_MODSEQ_TOUCH;
void mail_modseq_touch(ARRAY_MODSEQ_TOUCH *touches,
		       uint32_t key, uint32_t uid);
/* Touches for a message whose keywords changed from old_kw to rec's
 * (REPLACE: an add for every keyword it has now, a remove for every one
 * it lost). */
void mail_modseq_touch_kw_replace(ARRAY_MODSEQ_TOUCH *touches,
				  const struct mail_record *rec,
				  const uint32_t *old_kw, unsigned int kw_words);
/* Number the records of the batch and set the messages' modseqs. */
void mail_modseq_assign(struct mail_record_set *set,
			ARRAY_MODSEQ_TOUCH *touches);
/* The expunges of one batch (uids ascending): one new modseq. */
void mail_expunge_history_add(struct mail_record_set *set,
			      const uint32_t *uids, size_t count);
void mail_expunge_history_copy(struct mail_record_set *dest,
			       const struct mail_record_set *src);
/* HIGHESTMODSEQ of a mailbox Roost starts indexing: 1, or past any
 * value Dovecot can have given when its index files are there. */
uint64_t mail_modseq_initial(struct mailbox *box);

/* Parsed-field cache (mail-cache.c) */
void mail_cache_free(struct mailbox *box);

/* Expand ~ and %-variables of a location path for the user. */
const char *mail_user_home_expand(struct mail_user *user, const char *path);

/* A shared namespace's child for owner (home from the userdb), added
 * after template (mail-user.c). NULL if its location doesn't parse. */
struct mail_namespace *
mail_namespace_add_shared(struct mail_user *user,
			  struct mail_namespace *template,
			  const char *owner, const char *home);

/* Drivers */
extern const struct mail_storage_vfuncs maildir_storage;
extern const struct mail_storage_vfuncs mbox_storage;

#endif

/* mail-storage.h - the storage API shared by IMAP, POP3, LMTP, the LDA
 * and doveadm. Shape (STYLE.md): alloc -> open -> sync -> transaction ->
 * iterate -> free.
 *
 *   struct mail_user *user;   mail_user_init(set, &info, &user, &error)
 *   struct mailbox *box = mailbox_alloc(user, "INBOX", 0);
 *   mailbox_open(box);  mailbox_sync(box, 0, NULL, NULL);
 *   struct mail *mail = mail_alloc(box);  mail_set_seq(mail, 1);
 *   mail_get_stream(mail, &data, &size);  mail_free(&mail);
 *   mailbox_free(&box);  mail_user_deinit(&user);
 *
 * Names: every mailbox name in this API is a virtual name ("vname"): the
 * namespace prefix plus the name with the namespace's separator, in UTF-8,
 * exactly what a client sees after modified-UTF-7 decoding. Drivers map
 * vnames to paths (Maildir++ ".Work.Sub", fs "Work/Sub", mbox files).
 *
 * Messages are addressed by sequence number (1..count) in the mailbox's
 * current view, and by UID. The view changes only inside mailbox_sync(),
 * which reports every change as a record, so a protocol can turn them
 * into untagged EXPUNGE/FETCH/EXISTS responses in order.
 *
 * Errors: functions returning int give 0 or -1; the text and class of the
 * last error are kept on the mailbox or user (mailbox_get_last_error). */
#ifndef ROOST_MAIL_STORAGE_H
#define ROOST_MAIL_STORAGE_H

#include "lib.h"
#include "array.h"
#include "pool.h"
#include "str.h"

#include <sys/types.h>
#include <time.h>

struct settings_root;
struct mail_user;
struct mail_namespace;
struct mailbox;
struct mail;
struct mailbox_transaction;
struct mail_save_context;

/* IMAP system flags. MAIL_RECENT is per session and never written. */
enum mail_flags {
	MAIL_ANSWERED = 0x01,
	MAIL_FLAGGED = 0x02,
	MAIL_DELETED = 0x04,
	MAIL_SEEN = 0x08,
	MAIL_DRAFT = 0x10,
	MAIL_RECENT = 0x20,
};
#define MAIL_FLAGS_MASK 0x1f

/* Error classes; each maps to an IMAP response code. */
enum mail_error {
	MAIL_ERROR_NONE = 0,
	MAIL_ERROR_TEMP,	/* [SERVERBUG]/[UNAVAILABLE]: internal error */
	MAIL_ERROR_NOTPOSSIBLE,	/* [CANNOT] */
	MAIL_ERROR_PARAMS,	/* [CLIENTBUG] / invalid name */
	MAIL_ERROR_PERM,	/* [NOPERM] */
	MAIL_ERROR_NOQUOTA,	/* [OVERQUOTA] */
	MAIL_ERROR_NOTFOUND,	/* [NONEXISTENT] / [TRYCREATE] */
	MAIL_ERROR_EXISTS,	/* [ALREADYEXISTS] */
	MAIL_ERROR_EXPUNGED,	/* [EXPUNGEISSUED] */
	MAIL_ERROR_INUSE,	/* [INUSE] */
	MAIL_ERROR_LIMIT,	/* [LIMIT] */
};

/* ---- users and namespaces ---------------------------------------- */

/* What the userdb said about a user (the auth-master USER reply). */
struct mail_user_info {
	const char *username;
	const char *home;		/* NULL if none */
	uid_t uid;
	gid_t gid;
	/* userdb fields that override settings: "mail" (mail_location),
	   "mail_*" and namespace/... settings, as Dovecot allows */
	const char *const *fields;	/* key=value, NULL-terminated */
};

/* A plugin setting (quota_rule, last_login_dict, ...): the userdb field
 * of that name, else the plugin { } section's, with %u %n %d %h
 * expanded; allocated from pool. NULL when unset or empty. */
struct mail_user;
const char *mail_user_plugin_setting(struct mail_user *user,
				     const struct mail_user_info *info,
				     const char *key, pool_t pool);

enum mail_namespace_type {
	MAIL_NAMESPACE_PRIVATE,
	MAIL_NAMESPACE_SHARED,
	MAIL_NAMESPACE_PUBLIC,
};

/* A namespace as the protocols see it (the rest is private). */
struct mail_namespace {
	struct mail_namespace *next;
	struct mail_user *user;
	const char *name;	/* section name, may be "" */
	const char *prefix;	/* "" or e.g. "INBOX." (with separator) */
	char sep;		/* hierarchy separator */
	enum mail_namespace_type type;
	bool inbox;		/* holds INBOX */
	bool hidden;
	/* list = yes|no|children */
	bool list, list_children;
	bool subscriptions;	/* subscriptions stored here */
	/* driver name ("maildir", "mbox") */
	const char *driver;
	struct mailbox_list *mlist;	/* private */
	/* the user whose mailboxes these are: the session user for
	   private namespaces, the sharing user for shared ones, NULL for
	   public ones (acl's "owner") */
	const char *owner;
	/* a shared namespace whose prefix has %u: children are made per
	   owner on use (acl.c) from its location template */
	bool shared_template;
	const char *shared_location;
};

struct mail_user {
	pool_t pool;
	const char *username;
	const char *home;
	uid_t uid;
	gid_t gid;
	const struct settings_root *set;
	struct mail_namespace *namespaces;
	enum mail_error error;
	const char *error_text;
	/* the session's "%" variables: u, n, d, h, ... */
	const char *const *var_table;
	/* the quota plugin's state (quota.c), NULL without it */
	struct quota *quota;
	/* the acl plugin's state (acl.c), NULL without it */
	struct acl_user *acl;
	/* doveadm: ACLs don't apply to its mailboxes (Dovecot opens them
	   with MAILBOX_FLAG_IGNORE_ACLS) */
	bool admin;
};

/* Set up a user's namespaces from the config (and its empty-location
 * autodetection) and create/subscribe the "auto" mailboxes on first use.
 * Does not change the process's uid; the caller has already done so.
 * On failure *error_r is allocated (i_strdup): the caller frees it. */
int mail_user_init(const struct settings_root *set,
		   const struct mail_user_info *info,
		   struct mail_user **user_r, const char **error_r);
void mail_user_deinit(struct mail_user **user);
/* Zero-config (roost(7)): when an empty mail_location's autodetection
 * finds nothing, use mbox:~/mail:INBOX=/var/mail/USER (Debian's default
 * location) instead of failing. Off unless called, as in Dovecot. */
void mail_user_set_autodetect_mbox_fallback(bool enable);

/* The namespace a vname lives in (the longest matching prefix). INBOX
 * in any case maps to the inbox namespace. */
struct mail_namespace *mail_namespace_find(struct mail_user *user,
					   const char *vname);
struct mail_namespace *mail_namespace_find_inbox(struct mail_user *user);
/* vname with "INBOX" in any case normalized to "INBOX". */
const char *mailbox_vname_normalize(struct mail_user *user, const char *vname);

/* ---- mailbox list ------------------------------------------------- */

enum mailbox_info_flags {
	MAILBOX_NOSELECT = 0x001,
	MAILBOX_NONEXISTENT = 0x002,
	MAILBOX_CHILDREN = 0x004,
	MAILBOX_NOCHILDREN = 0x008,
	MAILBOX_NOINFERIORS = 0x010,
	MAILBOX_MARKED = 0x020,
	MAILBOX_UNMARKED = 0x040,
	MAILBOX_SUBSCRIBED = 0x080,
	MAILBOX_CHILD_SUBSCRIBED = 0x100,
	/* special-use (from the config's mailbox sections) */
	MAILBOX_SPECIALUSE_ALL = 0x01000,
	MAILBOX_SPECIALUSE_ARCHIVE = 0x02000,
	MAILBOX_SPECIALUSE_DRAFTS = 0x04000,
	MAILBOX_SPECIALUSE_FLAGGED = 0x08000,
	MAILBOX_SPECIALUSE_JUNK = 0x10000,
	MAILBOX_SPECIALUSE_SENT = 0x20000,
	MAILBOX_SPECIALUSE_TRASH = 0x40000,
	MAILBOX_SPECIALUSE_IMPORTANT = 0x80000,
};
#define MAILBOX_SPECIALUSE_MASK 0xff000

enum mailbox_list_iter_flags {
	/* only subscribed mailboxes (LSUB / LIST (SUBSCRIBED)) */
	MAILBOX_LIST_ITER_SUBSCRIBED = 0x01,
	/* also return \Subscribed info for listed mailboxes */
	MAILBOX_LIST_ITER_RETURN_SUBSCRIBED = 0x02,
	/* compute \HasChildren/\HasNoChildren */
	MAILBOX_LIST_ITER_RETURN_CHILDREN = 0x04,
	/* only mailboxes with a special-use flag */
	MAILBOX_LIST_ITER_SPECIALUSE_ONLY = 0x08,
	/* include hidden namespaces' mailboxes (doveadm) */
	MAILBOX_LIST_ITER_SHOW_HIDDEN = 0x10,
	/* patterns are matched without namespace prefix handling: raw */
	MAILBOX_LIST_ITER_NO_AUTO_INBOX = 0x20,
};

struct mailbox_info {
	const char *vname;
	enum mailbox_info_flags flags;
	struct mail_namespace *ns;
};

struct mailbox_list_iter;
/* patterns: IMAP LIST patterns with '*' and '%' in vname space,
 * NULL-terminated; the reference has already been joined by the caller. */
struct mailbox_list_iter *
mailbox_list_iter_init(struct mail_user *user, const char *const *patterns,
		       enum mailbox_list_iter_flags flags);
/* NULL at the end. Returned data is valid until the next call. */
const struct mailbox_info *mailbox_list_iter_next(struct mailbox_list_iter *iter);
int mailbox_list_iter_deinit(struct mailbox_list_iter **iter);

/* IMAP LIST pattern match ('*' any, '%' any but separator). */
bool mailbox_pattern_match(const char *pattern, const char *vname, char sep);

int mailbox_list_subscribe(struct mail_user *user, const char *vname,
			   bool set);
/* The directories whose entries change when a mailbox of user is
 * created, renamed or deleted, or a subscription changes (the namespaces'
 * roots and the subscriptions files' directories), without duplicates,
 * NULL-terminated, allocated from pool (IMAP NOTIFY watches them). */
const char *const *mail_user_get_list_notify_paths(struct mail_user *user,
						   pool_t pool);

/* ---- mailboxes ---------------------------------------------------- */

enum mailbox_flags {
	MAILBOX_FLAG_READONLY = 0x01,	/* EXAMINE, doveadm read-only */
	/* this session takes \Recent (IMAP SELECT); doveadm/POP3 don't */
	MAILBOX_FLAG_DROP_RECENT = 0x02,
	/* open even if it doesn't exist yet: create it (LDA autocreate) */
	MAILBOX_FLAG_AUTOCREATE = 0x04,
	/* saving only (LDA/LMTP): don't load the whole view */
	MAILBOX_FLAG_SAVEONLY = 0x08,
	/* POP3: keep new/ mails where they are unless flags change */
	MAILBOX_FLAG_POP3_SESSION = 0x10,
	/* acl: the user's rights don't apply (LDA into INBOX) */
	MAILBOX_FLAG_IGNORE_ACLS = 0x20,
};

struct mailbox *mailbox_alloc(struct mail_user *user, const char *vname,
			      enum mailbox_flags flags);
void mailbox_free(struct mailbox **box);
int mailbox_open(struct mailbox *box);
bool mailbox_is_readonly(struct mailbox *box);
const char *mailbox_get_vname(const struct mailbox *box);
struct mail_namespace *mailbox_get_namespace(const struct mailbox *box);
struct mail_user *mailbox_get_user(const struct mailbox *box);
/* Text and class of the last error on box (or "" / NONE). */
/* The warning of the last sync (NULL if none): changes committed but not
 * yet written to the file, e.g. "Timeout while waiting for lock" when
 * another process holds an mbox's lock. IMAP sends it as "* NO". */
const char *mailbox_get_sync_warning(struct mailbox *box);
/* Write what the driver keeps back (mbox_lazy_writes) now: IMAP CHECK.
 * 0, or -1 with the sync warning set (the changes stay pending). */
int mailbox_flush(struct mailbox *box);
const char *mailbox_get_last_error(struct mailbox *box,
				   enum mail_error *error_r);
/* Does the mailbox exist (without opening)? */
int mailbox_exists(struct mailbox *box, bool *exists_r);

/* special_use: e.g. "\\Sent" or NULL. Creates parents as needed where the
 * layout needs them. directory: create as a \Noselect container. */
int mailbox_create(struct mailbox *box, const char *special_use,
		   bool directory);
int mailbox_delete(struct mailbox *box);
int mailbox_rename(struct mailbox *src, struct mailbox *dest);

enum mailbox_status_items {
	STATUS_MESSAGES = 0x01,
	STATUS_RECENT = 0x02,
	STATUS_UIDNEXT = 0x04,
	STATUS_UIDVALIDITY = 0x08,
	STATUS_UNSEEN = 0x10,
	STATUS_FIRST_UNSEEN_SEQ = 0x20,
	STATUS_KEYWORDS = 0x40,
	STATUS_HIGHESTMODSEQ = 0x80,
	STATUS_SIZE = 0x100,		/* sum of virtual sizes */
	STATUS_GUID = 0x200,
	STATUS_PERMANENT_FLAGS = 0x400,
	STATUS_FIRST_RECENT_UID = 0x800,
	STATUS_DELETED = 0x1000,	/* count of \Deleted */
};

struct mailbox_status {
	uint32_t messages, recent, unseen, deleted;
	uint32_t uidvalidity, uidnext;
	uint32_t first_unseen_seq, first_recent_uid;
	uint64_t highest_modseq;
	uint64_t vsize;
	char guid[33];			/* 32 hex + NUL */
	/* keyword names defined in the mailbox (valid until next sync) */
	const char *const *keywords;
	unsigned int keywords_count;
	/* flags STORE can set permanently; \* when keywords can be made */
	enum mail_flags permanent_flags;
	bool permanent_keywords, allow_new_keywords;
};

/* May be called on a box that isn't open: then it opens and syncs it
 * itself (STATUS does this). */
int mailbox_get_status(struct mailbox *box, enum mailbox_status_items items,
		       struct mailbox_status *status_r);

/* ---- sync --------------------------------------------------------- */

enum mailbox_sync_flags {
	/* quick check only (NOOP/IDLE polling): skip when nothing changed */
	MAILBOX_SYNC_FLAG_FAST = 0x01,
	/* full resync: rescan everything, rewrite uidlist (force-resync) */
	MAILBOX_SYNC_FLAG_FORCE_RESYNC = 0x02,
	/* EXPUNGE/CLOSE: apply pending expunges of this session */
	MAILBOX_SYNC_FLAG_EXPUNGE = 0x04,
	/* don't report expunges yet (during FETCH/STORE/SEARCH: RFC 3501
	   forbids EXPUNGE responses there) */
	MAILBOX_SYNC_FLAG_NO_EXPUNGES = 0x08,
	/* leave new messages out of the view for now (IMAP's
	   delay-newmail workaround): a later sync brings them */
	MAILBOX_SYNC_FLAG_NO_NEWMAIL = 0x10,
};

enum mailbox_sync_type {
	/* message seq was removed; later seqs shift down by one. Reported
	   for each expunge, highest seq first per batch is NOT required:
	   the seq given is valid at the moment of the callback. */
	MAILBOX_SYNC_EXPUNGE,
	/* flags/keywords/modseq of seq changed (by another session or
	   process) */
	MAILBOX_SYNC_FLAGS,
	/* new messages were appended: seq..count are new */
	MAILBOX_SYNC_NEW,
};

struct mailbox_sync_rec {
	enum mailbox_sync_type type;
	uint32_t seq;
	uint32_t uid;
};

typedef void mailbox_sync_callback_t(const struct mailbox_sync_rec *rec,
				     void *context);

/* Bring the view up to date with the disk, reporting every change via
 * callback (may be NULL). */
int mailbox_sync(struct mailbox *box, enum mailbox_sync_flags flags,
		 mailbox_sync_callback_t *callback, void *context);
/* fd to watch for changes (inotify) or -1; after it becomes readable,
 * call mailbox_notify_drain() then mailbox_sync(). */
int mailbox_notify_fd(struct mailbox *box);
void mailbox_notify_drain(struct mailbox *box);
/* The files or directories whose changes mean "sync again" (for a
 * process that shares one inotify instance among many mailboxes), NULL
 * if the driver has none. The box must be open. */
const char *const *mailbox_get_notify_paths(struct mailbox *box);

/* ---- the current view --------------------------------------------- */

uint32_t mailbox_count(const struct mailbox *box);
uint32_t mailbox_get_uidvalidity(const struct mailbox *box);
uint32_t mailbox_get_uidnext(const struct mailbox *box);
uint64_t mailbox_get_highest_modseq(const struct mailbox *box);
/* 0 if no such message in the view */
uint32_t mailbox_uid_to_seq(const struct mailbox *box, uint32_t uid);
uint32_t mailbox_seq_to_uid(const struct mailbox *box, uint32_t seq);
/* first seq with uid >= uid (count+1 if none) */
uint32_t mailbox_uid_lookup_ge(const struct mailbox *box, uint32_t uid);
/* Flags (with MAIL_RECENT) of seq without allocating a mail. */
enum mail_flags mailbox_seq_flags(const struct mailbox *box, uint32_t seq);
/* Keyword names of the mailbox. Index i of a message's keyword bitmap
 * refers to names[i]. */
const char *const *mailbox_keywords(const struct mailbox *box,
				    unsigned int *count_r);
/* Look up (and with create, add) a keyword's index; -1 if not found or
 * the name is invalid. */
int mailbox_keyword_lookup(struct mailbox *box, const char *name,
			   bool create);
/* Does the view still hold messages expunged on disk (a sync with
 * MAILBOX_SYNC_FLAG_NO_EXPUNGES kept them)? */
bool mailbox_has_hidden_expunges(const struct mailbox *box);
/* CONDSTORE was used on the mailbox (kept in the index, as Dovecot's
 * modseq tracking): enable it / is it on? */
void mailbox_enable_modseqs(struct mailbox *box);
bool mailbox_modseqs_enabled(const struct mailbox *box);
/* Expunge history (for QRESYNC): UIDs expunged with modseq > since, as
 * ascending (first, last) pairs appended to ranges. May name UIDs that
 * never existed (old history is kept merged), never one in the view. */
void mailbox_get_expunged_since(struct mailbox *box, uint64_t since,
				ARRAY_U32 *ranges);

/* ---- messages ----------------------------------------------------- */

struct mail {
	struct mailbox *box;
	uint32_t seq, uid;
	bool expunged;		/* file vanished under us */
};

struct mail *mail_alloc(struct mailbox *box);
void mail_free(struct mail **mail);
/* Point mail at seq of the current view (1..count). */
void mail_set_seq(struct mail *mail, uint32_t seq);
bool mail_set_uid(struct mail *mail, uint32_t uid);

enum mail_flags mail_get_flags(struct mail *mail);
/* NULL-terminated names (valid until the next sync) */
const char *const *mail_get_keywords(struct mail *mail);
bool mail_has_keyword(struct mail *mail, unsigned int idx);
uint64_t mail_get_modseq(struct mail *mail);
int mail_get_physical_size(struct mail *mail, uint64_t *size_r);
/* size with every LF as CRLF (RFC822.SIZE, POP3 sizes) */
int mail_get_virtual_size(struct mail *mail, uint64_t *size_r);
int mail_get_received_date(struct mail *mail, time_t *date_r);
int mail_get_save_date(struct mail *mail, time_t *date_r);
/* Date: header (time and tz offset in minutes); 0 if none/invalid */
int mail_get_date(struct mail *mail, time_t *date_r, int *tz_r);
/* Message GUID: maildir base name / mbox generated, as Dovecot. */
int mail_get_guid(struct mail *mail, const char **guid_r);
/* POP3 UIDL per pop3_uidl_format (or the saved one). */
int mail_get_pop3_uidl(struct mail *mail, const char **uidl_r);
/* The message bytes as stored (LF or CRLF line ends), mapped read-only;
 * valid until the mail moves to another seq or is freed. For mbox, the
 * message without the From_ line and the Dovecot headers. */
int mail_get_stream(struct mail *mail, const unsigned char **data_r,
		    size_t *size_r);
/* The header block (including the empty line) and its size. */
int mail_get_header_size(struct mail *mail, size_t *size_r);
/* First value of a header field (unfolded, raw), NULL if none. */
int mail_get_first_header(struct mail *mail, const char *field,
			  const char **value_r);
/* Parsed fields cached in the cache file: "imap.envelope",
 * "imap.bodystructure", "imap.body", "pop3.uidl"... computed on first use
 * by the MIME layer through a hook set by the user of this API. */
int mail_get_cached_field(struct mail *mail, const char *field,
			  const char **value_r);
void mail_set_cached_field(struct mail *mail, const char *field,
			   const char *value);

enum modify_type {
	MODIFY_ADD,
	MODIFY_REMOVE,
	MODIFY_REPLACE,
};

/* Within a transaction: the change is applied on commit; the view shows
 * it at once. keywords: names, NULL-terminated, or NULL for none. */
void mail_update_flags(struct mailbox_transaction *t, struct mail *mail,
		       enum modify_type type, enum mail_flags flags);
int mail_update_keywords(struct mailbox_transaction *t, struct mail *mail,
			 enum modify_type type, const char *const *keywords);
void mail_expunge(struct mailbox_transaction *t, struct mail *mail);

/* ---- transactions, save, copy ------------------------------------- */

struct mailbox_transaction *mailbox_transaction_begin(struct mailbox *box);
/* Result of a commit: for UIDPLUS */
struct mail_transaction_commit_changes {
	uint32_t uidvalidity;
	ARRAY_U32 saved_uids;	/* in save order */
	unsigned int ignored_modseq_changes;
};
int mailbox_transaction_commit(struct mailbox_transaction **t,
			       struct mail_transaction_commit_changes *changes_r);
void mailbox_transaction_rollback(struct mailbox_transaction **t);
/* The transaction's copies are a MOVE (the caller expunges the sources):
 * quota doesn't check them, as Dovecot within one user. On the source's
 * expunge transaction: mail_log logs the expunges as the move's. */
void mailbox_transaction_set_moving(struct mailbox_transaction *t);
void mail_transaction_commit_changes_free(struct mail_transaction_commit_changes *c);

struct mail_save_context *mailbox_save_alloc(struct mailbox_transaction *t);
void mailbox_save_set_flags(struct mail_save_context *ctx,
			    enum mail_flags flags,
			    const char *const *keywords);
void mailbox_save_set_received_date(struct mail_save_context *ctx,
				    time_t date, int tz_offset);
/* mbox From_ envelope sender */
void mailbox_save_set_from_envelope(struct mail_save_context *ctx,
				    const char *sender);
/* Save-time POP3 UIDL / GUID (doveadm import, dsync) */
void mailbox_save_set_guid(struct mail_save_context *ctx, const char *guid);
int mailbox_save_begin(struct mail_save_context *ctx);
/* Feed the message (any line ends; stored as the driver wants). */
int mailbox_save_continue(struct mail_save_context *ctx, const void *data,
			  size_t size);
int mailbox_save_finish(struct mail_save_context **ctx);
void mailbox_save_cancel(struct mail_save_context **ctx);
/* Copy mail (from any mailbox) into the transaction's mailbox, keeping
 * flags/keywords/dates (hard link when the drivers allow). */
int mailbox_copy(struct mail_save_context **ctx, struct mail *mail);

#endif

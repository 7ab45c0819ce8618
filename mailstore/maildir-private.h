/* maildir-private.h - the Maildir driver's internals: file names, the
 * dovecot-uidlist and dovecot-keywords files Dovecot reads too, and the
 * mailbox subclass. */
#ifndef ROOST_MAILDIR_PRIVATE_H
#define ROOST_MAILDIR_PRIVATE_H

#include "mail-storage-private.h"
#include "hash.h"
#include "file-dotlock.h"

#define MAILDIR_UIDLIST_NAME "dovecot-uidlist"
#define MAILDIR_KEYWORDS_NAME "dovecot-keywords"
#define MAILDIR_UIDVALIDITY_NAME "dovecot-uidvalidity"
#define MAILDIR_SUBSCRIPTIONS_NAME "subscriptions"
/* driver_flags of a record: the file is in new/ */
#define MAILDIR_REC_NEW 0x01
/* Maildir filename keyword letters: 'a'..'z' = dovecot-keywords 0..25 */
#define MAILDIR_MAX_KEYWORD_LETTERS 26

struct maildir_mailbox {
	struct mailbox box;
	/* dovecot-keywords: file index -> name */
	ARRAY_STR file_keywords;
	/* the disk set's keyword index for each file index */
	ARRAY(int) file_kw_map;
	/* inotify */
	const char *notify_paths[3];
};

/* One entry of dovecot-uidlist. */
struct maildir_uidlist_rec {
	uint32_t uid;
	char *key;		/* file name without ":2,..." */
	uint64_t vsize;		/* from a W ext field, or MAIL_SIZE_UNKNOWN */
};

struct maildir_uidlist {
	uint32_t version, uidvalidity, next_uid;
	char guid[33];
	ARRAY(struct maildir_uidlist_rec) recs;	/* sorted by uid */
	struct hash_table *keys;	/* key -> rec index + 1 */
	/* stat of the file that was read (0 if none) */
	int64_t mtime_ns, size, ino;
};

/* maildir-uidlist.c */
void maildir_uidlist_init(struct maildir_uidlist *ul);
void maildir_uidlist_deinit(struct maildir_uidlist *ul);
/* Parse uidlist text. Returns -1 with error_r on a broken file. */
int maildir_uidlist_parse(struct maildir_uidlist *ul, const char *data,
			  size_t size, const char **error_r);
/* Read control_dir's uidlist: 1 read, 0 missing, -1 error (logged). */
int maildir_uidlist_read(struct mailbox *box, struct maildir_uidlist *ul);
/* Write the whole uidlist through its held dotlock (replace). */
int maildir_uidlist_write(struct mailbox *box, struct maildir_uidlist *ul,
			  struct dotlock **lock);
/* Take dovecot-uidlist.lock. 1 ok, 0 timeout, -1 error. */
int maildir_uidlist_lock(struct mailbox *box, struct dotlock **lock_r);
void maildir_uidlist_add(struct maildir_uidlist *ul, uint32_t uid,
			 const char *key);
/* uid for key, 0 if none */
uint32_t maildir_uidlist_lookup(const struct maildir_uidlist *ul,
				const char *key);
/* The next UIDVALIDITY from the root's dovecot-uidvalidity file. */
uint32_t maildir_uidvalidity_next(struct mailbox_list *list);
/* 32 lowercase hex digits of fresh randomness. */
void maildir_guid_generate(char guid[33]);

/* maildir-keywords.c */
int maildir_keywords_read(struct maildir_mailbox *mbox);
/* The letter index (0..25) of disk keyword idx, adding it to the file
 * when new (caller holds the uidlist lock). -1 if it can't be stored in
 * a file name (27th+ keyword). */
int maildir_keywords_letter(struct maildir_mailbox *mbox, unsigned int idx);
/* Name every letter used (unknown-N) before records are built: keeps
 * the keyword count stable while bitmaps are filled. */
void maildir_keywords_ensure(struct maildir_mailbox *mbox, const char *letters);
/* Map the letters of a file name into the record's keyword bits. */
/* Copy from old into rec the keywords that have no file name letter
 * (more than 26 in the mailbox): only the index holds them. */
void maildir_keywords_keep_unlettered(struct maildir_mailbox *mbox,
				      const struct mail_record *old,
				      struct mail_record *rec);
void maildir_keywords_apply(struct maildir_mailbox *mbox,
			    struct mail_record *rec, const char *letters);

/* maildir-filename.c */
/* key: the name up to ':' (or the whole name) */
char *maildir_filename_key(const char *fname);
/* flags and keyword letters after ":2," */
void maildir_filename_flags(const char *fname, enum mail_flags *flags_r,
			    const char **kw_letters_r);
/* ",S=" and ",W=" sizes of the key; false if not there */
bool maildir_filename_size(const char *fname, char type, uint64_t *size_r);
/* A new unique base name "<sec>.M<usec>P<pid>.<host>". */
char *maildir_filename_generate(void);
/* key + ":2," + flag letters + keyword letters, sorted as Dovecot */
char *maildir_filename_with_flags(struct maildir_mailbox *mbox,
				  const char *key, const struct mail_record *rec);

/* maildir-sync.c */
int maildir_sync_read(struct mailbox *box, struct mail_record_set *set,
		      bool force);
int maildir_write_flags(struct mailbox *box, struct mail_record_set *set,
			struct mail_record *rec);
int maildir_expunge(struct mailbox *box, struct mail_record_set *set,
		    const uint32_t *uids, unsigned int count);
/* Full path of rec's file; after ENOENT, maildir_find_file() looks the
 * key up in new/ and cur/ again (someone renamed it). */
int maildir_fill_dates(struct mailbox *box, struct mail_record *rec);
const char *maildir_rec_path(struct mailbox *box, const struct mail_record *rec);
int maildir_find_file(struct mailbox *box, struct mail_record *rec);

/* maildir-save.c */
int maildir_save_begin(struct mail_save_context *ctx);
int maildir_save_continue(struct mail_save_context *ctx, const void *data,
			  size_t size);
int maildir_save_finish(struct mail_save_context *ctx);
void maildir_save_cancel(struct mail_save_context *ctx);
int maildir_save_commit(struct mailbox_transaction *t, ARRAY_U32 *uids);
void maildir_save_rollback(struct mailbox_transaction *t);
int maildir_copy(struct mail_save_context *ctx, struct mail *mail);

#endif

/* mbox-private.h - the mbox driver's internals: the file scanner, the
 * Dovecot header fields (X-IMAPbase, X-UID, Status, X-Status, X-Keywords,
 * Content-Length), From_ lines, locking shared with MTAs, the crash-safe
 * rewrite journal and the mailbox subclass. Layout and formats follow
 * shared/reference/on-disk.md section 2 and what Dovecot 2.3 writes. */
#ifndef ROOST_MBOX_PRIVATE_H
#define ROOST_MBOX_PRIVATE_H

#include "mail-storage-private.h"
#include "file-lock.h"
#include "file-dotlock.h"

#include <sys/types.h>

/* spaces Dovecot leaves after the last of its headers when it adds them
   to a message, so later flag changes fit in place */
#define MBOX_HEADER_PADDING 50
/* at save: X-Keywords names + padding + "\nContent-Length: N" fill this
   many bytes after "X-Keywords:" (50 + 1 + 17 + 23, as Dovecot) */
#define MBOX_SAVE_KEYWORD_SPACE 91
#define MBOX_INDEX_DIR_NAME ".imap"
#define MBOX_SUBSCRIPTIONS_NAME ".subscriptions"
#define MBOX_UIDVALIDITY_NAME "dovecot-uidvalidity"
#define MBOX_JOURNAL_NAME "roost-mbox-rewrite"
/* X-IMAPbase keeps the last UID in this many zero-padded digits */
#define MBOX_LAST_UID_DIGITS 10

/* ---- mbox-from.c ---- */

/* Parse a From_ line (starting with "From ", without the line end):
 * the envelope sender and the date (asctime and the variants seen in the
 * wild: no weekday, no seconds, timezone before or after the year, 2-digit
 * year). Dates without a zone are local time. false if it isn't one. */
bool mbox_from_parse(const unsigned char *line, size_t len, time_t *time_r,
		     size_t *sender_len_r);
/* "From <sender>  Www Mmm dd hh:mm:ss yyyy\n" in local time. */
void mbox_from_create(string_t *dest, const char *sender, time_t t);
/* The envelope sender Dovecot would write: sender if usable, else
 * "MAILER-DAEMON"; NULL sender (IMAP APPEND) = user@hostname. */
const char *mbox_from_envelope(const char *sender, const char *username,
			       char *buf, size_t bufsize);

/* ---- mbox-headers.c ---- */

enum mbox_header_type {
	MBOX_HDR_IMAPBASE,
	MBOX_HDR_IMAP,
	MBOX_HDR_UID,
	MBOX_HDR_STATUS,
	MBOX_HDR_XSTATUS,
	MBOX_HDR_KEYWORDS,
	MBOX_HDR_CONTENT_LENGTH,
	MBOX_HDR_COUNT,
	MBOX_HDR_NONE = MBOX_HDR_COUNT,
};

/* The Dovecot header type of a header line (name before ':', any case),
 * or MBOX_HDR_NONE. */
enum mbox_header_type mbox_header_type(const unsigned char *line,
				       size_t len);
/* Value of a header line: after ':' and leading blanks, trailing blanks
 * and line end removed. */
void mbox_header_value(const unsigned char *line, size_t len,
		       const unsigned char **value_r, size_t *value_len_r);
/* Status: and X-Status: letters -> flags ('O' -> nonrecent). */
uint8_t mbox_status_parse(const unsigned char *value, size_t len,
			  bool *nonrecent_r);
uint8_t mbox_xstatus_parse(const unsigned char *value, size_t len);
void mbox_status_append(string_t *dest, uint8_t flags, bool nonrecent);
void mbox_xstatus_append(string_t *dest, uint8_t flags);
/* "123" (trailing blanks allowed) -> 123; false if not a number. */
bool mbox_parse_uint(const unsigned char *value, size_t len, uint64_t max,
		     uint64_t *num_r);
/* Split a space separated list into names (appended, owned). */
void mbox_keywords_split(const unsigned char *value, size_t len,
			 ARRAY_STR *names);
/* X-IMAPbase / X-IMAP value: "<uidvalidity> <last uid> [keywords]". */
bool mbox_base_parse(const unsigned char *value, size_t len,
		     uint32_t *uidvalidity_r, uint32_t *last_uid_r,
		     ARRAY_STR *keywords);

/* What a message's Dovecot headers should say. */
struct mbox_hdr_state {
	uint32_t uid;
	uint8_t flags;
	bool nonrecent;
	const char *const *keywords;	/* names, count below */
	unsigned int keywords_count;
	/* first message: the mailbox's X-IMAPbase (or X-IMAP for a pseudo
	   message); base_keywords as above */
	bool base;
	bool pseudo;
	uint32_t uidvalidity, last_uid;
	const char *const *base_keywords;
	unsigned int base_keywords_count;
	/* write Content-Length with this body size if the header has one */
	uint64_t body_size;
	const char *eol;	/* "\n" or "\r\n" */
};

/* Rebuild a message's header block (hdr: header lines, ending with the
 * empty line if has_eoh) into dest: the Dovecot headers that are there are
 * updated where they are, missing ones appended after the others (X-UID,
 * Status, X-Status if any flag, X-IMAPbase first), duplicates dropped.
 * With target_len != 0 the result is padded with spaces (on X-Keywords,
 * else on the line that had padding, else the last Dovecot line) to
 * exactly target_len bytes, for an in-place update; false if it doesn't
 * fit. With target_len 0 MBOX_HEADER_PADDING spaces are added. */
bool mbox_header_rebuild(string_t *dest, const unsigned char *hdr,
			 size_t hdr_len, bool has_eoh,
			 const struct mbox_hdr_state *state,
			 size_t target_len);
/* Append the header lines of a message being saved, without the Dovecot
 * headers and without "From " lines (the caller drops them). Returns the
 * header bytes consumed including the empty line (or all of data if no
 * empty line), and whether an empty line ended it. */
size_t mbox_save_filter_header(string_t *dest, const unsigned char *data,
			       size_t size, bool *has_eoh_r);
/* The Dovecot headers of a new message, as Dovecot's save writes them:
 * [X-IMAPbase] X-UID, Status, [X-Status], X-Keywords + padding,
 * Content-Length, empty line. */
void mbox_save_append_headers(string_t *dest,
			      const struct mbox_hdr_state *state);

/* ---- mbox-scan.c ---- */

/* A header line inside a message: start relative to hdr_offset, length
 * with the line end (and continuation lines); len 0 = not there. */
struct mbox_span {
	uint32_t start, len;
};

struct mbox_msg {
	uint64_t from_offset;	/* the "From " of the From_ line */
	uint64_t hdr_offset;	/* the first header line */
	uint64_t hdr_end;	/* after the header's empty line (or where it
				   was cut short) */
	uint64_t msg_end;	/* end of the body, before the separator */
	uint64_t next_offset;	/* the next From_ line or end of file */
	int64_t received;	/* From_ line date */
	uint64_t content_length;
	/* size of the message without the Dovecot headers (what FETCH
	   shows): header lines kept + body */
	uint64_t size;
	uint32_t file_uid;	/* X-UID, 0 if missing or not a number */
	uint32_t uid;		/* the UID in effect (file_uid if valid, else
				   assigned: in the file after a fix, or only
				   in memory when the file can't be written) */
	uint8_t flags;		/* Status/X-Status */
	bool nonrecent;		/* 'O' in Status */
	bool have_cl, cl_valid;
	bool has_eoh;		/* the header ended with an empty line */
	bool crlf;		/* the From_ line ended with CRLF */
	bool pseudo;		/* UW-IMAP's folder internal data message */
	struct mbox_span hdrs[MBOX_HDR_COUNT];
	/* keyword names: scan->kw_names[kw_first .. kw_first+kw_count) */
	uint32_t kw_first, kw_count;
	/* the message GUID Dovecot gives mbox mail (mbox_md5 = apop3d):
	   MD5 of the first Received, Date and Message-ID before it,
	   Delivered-To and X-Delivery-ID values; lowercase hex */
	char guid[33];
};

struct mbox_scan {
	ARRAY(struct mbox_msg) msgs;
	ARRAY_STR kw_names;		/* owned */
	/* X-IMAPbase (or X-IMAP) of the first message */
	bool have_base;
	uint32_t base_uidvalidity, base_last_uid;
	ARRAY_STR base_keywords;	/* owned */
	uint64_t file_size;
};

/* Split an mbox file image into messages. Returns 0, or -1 if it isn't an
 * mbox file (doesn't begin with "From "; whitespace only is empty). Never
 * fails on damaged content: a wrong Content-Length falls back to looking
 * for "\nFrom " lines with a valid date, a cut-off header ends the
 * message, NUL bytes and CRLF are data. */
int mbox_scan_buffer(const unsigned char *data, size_t size,
		     struct mbox_scan *scan, const char **error_r);
void mbox_scan_init(struct mbox_scan *scan);
void mbox_scan_free(struct mbox_scan *scan);
/* The file grew: scan again from message idx (> 0) on, keeping the
 * messages before it. */
void mbox_scan_continue(const unsigned char *data, size_t size,
			struct mbox_scan *scan, unsigned int idx);
/* Parse message idx's header again after it was rewritten in place
 * (same length; offsets stay). false if it no longer ends where it did
 * (then the caller rescans everything). */
bool mbox_scan_update_header(const unsigned char *data, size_t size,
			     struct mbox_scan *scan, unsigned int idx);
/* Index of the message with uid in a scan whose UIDs are assigned, or -1 */
int mbox_scan_find_uid(const struct mbox_scan *scan, uint32_t uid);
/* Its size with CRLF line ends (RFC822.SIZE), without copying it. */
uint64_t mbox_msg_vsize(const unsigned char *data, const struct mbox_msg *msg);
/* The message as FETCH sees it: header lines without the Dovecot headers,
 * then the body. */
void mbox_msg_export(const unsigned char *data, const struct mbox_msg *msg,
		     string_t *dest);

/* ---- mbox-lock.c ---- */

enum mbox_lock_method {
	MBOX_LOCK_DOTLOCK,
	MBOX_LOCK_DOTLOCK_TRY,
	MBOX_LOCK_FCNTL,
	MBOX_LOCK_FLOCK,
	MBOX_LOCK_LOCKF,
};
#define MBOX_LOCK_METHODS_MAX 5

struct mbox_lock_set {
	enum mbox_lock_method methods[MBOX_LOCK_METHODS_MAX];
	unsigned int count;
};

/* "fcntl dotlock" -> methods; -1 with error_r for an unknown name. */
int mbox_lock_methods_parse(const char *str, struct mbox_lock_set *set_r,
			    const char **error_r);

/* ---- the mailbox ---- */

struct mbox_mailbox {
	struct mailbox box;
	int fd;			/* -1 when closed */
	bool fd_readonly;	/* no write access to the file */
	dev_t dev;
	ino_t ino;

	/* locks held (one level: read or write) */
	int lock_type;		/* F_UNLCK, F_RDLCK, F_WRLCK */
	struct file_lock *flocks[MBOX_LOCK_METHODS_MAX];
	struct dotlock *dotlock;
	struct mbox_lock_set read_locks, write_locks;

	/* the file mapped for the last scan (valid while locked and the
	   stamp still matches) */
	unsigned char *map;
	size_t map_size;
	/* the last scan of the file and the file state it describes */
	struct mbox_scan scan;
	bool scan_valid;
	int64_t scan_stamp[4];	/* dev, ino, size, mtime ns */
	/* copies of the first and last messages' From_ line and header at
	   the last scan: an append-only change is recognized by them */
	string_t *head_check, *tail_check;
	/* UIDVALIDITY/last UID in effect for the scan (X-IMAPbase, else the
	   index's, else newly allocated) */
	uint32_t uidvalidity, last_uid;
	/* the file needs X-UID/X-IMAPbase fixes (some UIDs in memory only) */
	bool uids_dirty;
	/* smallest UID without 'O' in Status (0 = none) */
	uint32_t first_uid_without_o;

	/* a write lock timed out in this command: later writes wait no more
	   until the next sync_read (one wait per command, as Dovecot) */
	bool defer_writes;

	const char *notify_paths[2];
};

/* driver_flags of a record: its flags/keywords are newer than the file's
 * (mbox_lazy_writes, or a write that found the mbox locked); it is to be
 * expunged from the file (deferred). Kept in the index until written. */
#define MBOX_REC_DIRTY 0x01u
#define MBOX_REC_EXPUNGE 0x02u

/* mbox-lock.c */
/* Take read (F_RDLCK) or write (F_WRLCK) locks on mbox->fd per
 * mbox_read_locks / mbox_write_locks. Holding a read lock and asking for
 * a write lock drops the read lock first. 1 locked, 0 timeout, -1 error;
 * the error is set on the mailbox. */
int mbox_lock(struct mbox_mailbox *mbox, int lock_type);
void mbox_unlock(struct mbox_mailbox *mbox);

/* mbox-storage.c */
/* Open box->path (creating INBOX when missing). 0 ok, -1 error set. */
int mbox_file_open(struct mbox_mailbox *mbox);
void mbox_file_close(struct mbox_mailbox *mbox);
/* Next UIDVALIDITY from <index root>/dovecot-uidvalidity, as Dovecot. */
uint32_t mbox_uidvalidity_next(struct mailbox_list *list);
/* The directory for the rewrite journal (NULL if none). */
const char *mbox_journal_dir(struct mbox_mailbox *mbox);
bool mbox_fsync_enabled(struct mbox_mailbox *mbox);

/* mbox-sync.c */
/* Under a lock: bring mbox->scan up to date with the file (rescanning
 * when size/mtime/inode changed or force) and resolve its UIDs against
 * box->disk. 0 / -1. */
int mbox_scan_refresh(struct mbox_mailbox *mbox, bool force);
/* Under the write lock: give every message its UID in the file and the
 * first one X-IMAPbase, write 'O' where a session took \Recent, add
 * keywords missing from X-IMAPbase (and extra ones), and reserve
 * `reserve` more UIDs in X-IMAPbase (the first is returned in
 * first_uid_r). Rescans afterwards. 0 / -1. */
int mbox_sync_fix(struct mbox_mailbox *mbox, const char *const *extra_keywords,
		  unsigned int extra_keywords_count, uint32_t reserve,
		  uint32_t *first_uid_r);
int mbox_sync_read(struct mailbox *box, struct mail_record_set *set,
		   bool force);
int mbox_write_flags(struct mailbox *box, struct mail_record_set *set,
		     struct mail_record *rec);
int mbox_expunge(struct mailbox *box, struct mail_record_set *set,
		 const uint32_t *uids, unsigned int count);
/* Write the set's pending changes (MBOX_REC_DIRTY unless lazy, and
 * MBOX_REC_EXPUNGE) to the file. */
void mbox_commit_flush(struct mailbox *box, struct mail_record_set *set);
/* Write every pending change, lazy ones too (close, CHECK). 0 / -1. */
int mbox_flush_all(struct mbox_mailbox *mbox, struct mail_record_set *set);
int mbox_flush(struct mailbox *box, struct mail_record_set *set);

/* mbox-rewrite.c: crash-safe replacement of the file from an offset on. */
struct mbox_piece {
	bool copy;		/* copy len bytes of the file from offset */
	uint64_t offset;
	const void *data;	/* else these bytes */
	size_t len;
};
/* Replace everything from start on with the pieces (file bytes are read
 * from data, the current file image), through the journal. Caller holds
 * the write lock; afterwards the scan is invalid. 0 / -1. */
int mbox_rewrite(struct mbox_mailbox *mbox, const unsigned char *data,
		 uint64_t start, const struct mbox_piece *pieces,
		 unsigned int count);
/* Tests only: make the process _exit(99) at rewrite step n (1..4, see
 * mbox-rewrite.c) to simulate a crash there. 0 = never. */
extern unsigned int mbox_rewrite_crash_at;
/* Finish a rewrite that a crash interrupted. Under the write lock.
 * 0 (nothing to do or done) / -1. */
int mbox_rewrite_recover(struct mbox_mailbox *mbox);

/* mbox-save.c */
int mbox_save_begin(struct mail_save_context *ctx);
int mbox_save_continue(struct mail_save_context *ctx, const void *data,
		       size_t size);
int mbox_save_finish(struct mail_save_context *ctx);
void mbox_save_cancel(struct mail_save_context *ctx);
int mbox_save_commit(struct mailbox_transaction *t, ARRAY_U32 *uids);
void mbox_save_rollback(struct mailbox_transaction *t);

#endif

/* maildir-save.c - saving into a Maildir: the message is written into
 * tmp/ (fsynced per mail_fsync), and at commit, under the uidlist lock,
 * renamed into new/ (a delivery without flags) or cur/ with ":2,flags",
 * named <base>,S=<size>,W=<vsize> as Dovecot names them, and given the
 * next UIDs in dovecot-uidlist. A failure before the uidlist is written
 * removes every file of the transaction: nothing half-saved remains. */
#include "maildir-private.h"
#include "mail-zlib.h"
#include "settings-structs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

struct maildir_save {
	char *base;		/* unique base name */
	char *tmp_path;
	int fd;
	/* final name in new/ or cur/ (set at finish) */
	char *final_name;
	bool to_new;
	/* mail_save_crlf = no: CRLF is written as LF (Dovecot); a CR at
	   the end of a piece waits for the next one */
	bool lf_only, cr_pending;
	/* what went into the file, and its CRLF size (W=) */
	uint64_t written, vsize;
	bool last_written_cr;
	/* zlib_save: the file is written compressed (sizes stay the
	   uncompressed ones) */
	struct mail_zlib_writer *zlib;
};

static void save_free(struct mail_save_context *ctx)
{
	struct maildir_save *ms = ctx->driver_ctx;

	if (ms == NULL)
		return;
	if (ms->fd >= 0)
		close(ms->fd);
	mail_zlib_writer_free(&ms->zlib);
	i_free(ms->base);
	i_free(ms->tmp_path);
	i_free(ms->final_name);
	i_free(ms);
	ctx->driver_ctx = NULL;
}

static bool fsync_wanted(struct mailbox *box)
{
	return strcmp(box->user->set->mail_fsync, "never") != 0;
}

static int save_create_tmp(struct mail_save_context *ctx)
{
	struct mailbox *box = ctx->box;
	struct maildir_save *ms = i_new(struct maildir_save, 1);

	ms->fd = -1;
	ctx->driver_ctx = ms;
	for (int attempt = 0; attempt < 10; attempt++) {
		i_free(ms->base);
		i_free(ms->tmp_path);
		ms->base = maildir_filename_generate();
		ms->tmp_path = i_strdup_printf("%s/tmp/%s", box->path, ms->base);
		ms->fd = open(ms->tmp_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (ms->fd >= 0 || errno != EEXIST)
			break;
	}
	if (ms->fd < 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			mailbox_set_error(box, MAIL_ERROR_NOQUOTA,
					  "Not enough disk space");
		else
			mailbox_set_critical(box, "open(%s) failed: %m",
					     ms->tmp_path);
		save_free(ctx);
		return -1;
	}
	return 0;
}

int maildir_save_begin(struct mail_save_context *ctx)
{
	struct maildir_save *ms;

	if (save_create_tmp(ctx) < 0)
		return -1;
	ms = ctx->driver_ctx;
	ms->lf_only = !ctx->box->user->set->mail_save_crlf;
	ms->zlib = mail_zlib_writer_init(ctx->box->user);
	return 0;
}

static int save_write(struct mail_save_context *ctx, const void *data,
		      size_t size)
{
	struct maildir_save *ms = ctx->driver_ctx;
	const char *p = data;

	ms->written += size;
	ms->vsize += size;
	for (size_t i = 0; i < size; i++) {
		if (p[i] == '\n' && !(i == 0 ? ms->last_written_cr :
					p[i - 1] == '\r'))
			ms->vsize++;
	}
	if (size > 0)
		ms->last_written_cr = p[size - 1] == '\r';
	if (ms->zlib != NULL) {
		if (mail_zlib_writer_write(ms->zlib, ms->fd, p, size) == 0)
			return 0;
		if (errno == ENOSPC || errno == EDQUOT)
			mailbox_set_error(ctx->box, MAIL_ERROR_NOQUOTA,
					  "Not enough disk space");
		else
			mailbox_set_critical(ctx->box,
				"write(%s) failed: %m", ms->tmp_path);
		return -1;
	}
	while (size > 0) {
		ssize_t n = write(ms->fd, p, size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOSPC || errno == EDQUOT)
				mailbox_set_error(ctx->box, MAIL_ERROR_NOQUOTA,
						  "Not enough disk space");
			else
				mailbox_set_critical(ctx->box,
					"write(%s) failed: %m", ms->tmp_path);
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

int maildir_save_continue(struct mail_save_context *ctx, const void *data,
			  size_t size)
{
	struct maildir_save *ms = ctx->driver_ctx;
	const char *p = data, *end = p + size;

	if (!ms->lf_only)
		return save_write(ctx, data, size);
	if (size == 0)
		return 0;
	if (ms->cr_pending) {
		ms->cr_pending = false;
		if (*p != '\n' && save_write(ctx, "\r", 1) < 0)
			return -1;
	}
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));

		if (cr == NULL)
			return save_write(ctx, p, (size_t)(end - p));
		if (save_write(ctx, p, (size_t)(cr - p)) < 0)
			return -1;
		if (cr + 1 == end) {
			ms->cr_pending = true;
			return 0;
		}
		/* a CR before LF is dropped; a lone CR is kept */
		p = cr + 1;
		if (*p != '\n' && save_write(ctx, "\r", 1) < 0)
			return -1;
	}
	return 0;
}

static void save_set_final_name(struct mail_save_context *ctx,
				uint64_t size, uint64_t vsize)
{
	struct maildir_save *ms = ctx->driver_ctx;

	/* deliveries and copies without flags go to new/ (recent), IMAP
	   APPENDs to cur/, as Dovecot does */
	ms->to_new = ctx->flags == 0 && ctx->keywords.count == 0 &&
		((ctx->box->flags & MAILBOX_FLAG_SAVEONLY) != 0 || ctx->copying);
	i_free(ms->final_name);
	ms->final_name = i_strdup_printf("%s,S=%llu,W=%llu", ms->base,
					 (unsigned long long)size,
					 (unsigned long long)vsize);
}

int maildir_save_finish(struct mail_save_context *ctx)
{
	struct maildir_save *ms = ctx->driver_ctx;
	struct timeval tv[2];

	/* a CR that ends the message is dropped, as Dovecot's LF
	   conversion does */
	ms->cr_pending = false;
	if (ms->zlib != NULL && mail_zlib_writer_finish(ms->zlib, ms->fd) < 0) {
		mailbox_set_critical(ctx->box, "write(%s) failed: %m",
				     ms->tmp_path);
		return -1;
	}
	if (fsync_wanted(ctx->box) && fsync(ms->fd) < 0) {
		mailbox_set_critical(ctx->box, "fsync(%s) failed: %m",
				     ms->tmp_path);
		return -1;
	}
	if (close(ms->fd) < 0) {
		ms->fd = -1;
		mailbox_set_critical(ctx->box, "close(%s) failed: %m",
				     ms->tmp_path);
		return -1;
	}
	ms->fd = -1;
	/* the file's mtime is the message's INTERNALDATE */
	tv[0].tv_sec = tv[1].tv_sec = ctx->received_date;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	if (utimes(ms->tmp_path, tv) < 0)
		i_error("utimes(%s) failed: %m", ms->tmp_path);
	save_set_final_name(ctx, ms->written, ms->vsize);
	return 0;
}

void maildir_save_cancel(struct mail_save_context *ctx)
{
	struct maildir_save *ms = ctx->driver_ctx;

	if (ms != NULL && ms->tmp_path != NULL)
		(void)unlink(ms->tmp_path);
	save_free(ctx);
}

void maildir_save_rollback(struct mailbox_transaction *t)
{
	for (size_t i = 0; i < t->saves.count; i++)
		maildir_save_cancel(t->saves.v[i]);
}

/* The cur/ name of a save with its flags and keywords. */
static char *save_cur_name(struct maildir_mailbox *mbox,
			   struct mail_save_context *ctx)
{
	struct maildir_save *ms = ctx->driver_ctx;
	struct mail_record rec;
	char *name;

	memset(&rec, 0, sizeof(rec));
	rec.flags = (uint8_t)ctx->flags;
	for (size_t i = 0; i < ctx->keywords.count; i++) {
		int idx = mail_record_set_keyword(&mbox->box.disk,
						  ctx->keywords.v[i], true);
		mailbox_kw_words_update(&mbox->box);
		if (idx >= 0)
			mail_record_set_kw(&rec, (unsigned int)idx, true,
					   mbox->box.kw_words);
	}
	name = maildir_filename_with_flags(mbox, ms->final_name, &rec);
	i_free(rec.kw);
	return name;
}

int maildir_save_commit(struct mailbox_transaction *t, ARRAY_U32 *uids)
{
	struct mailbox *box = t->box;
	struct maildir_mailbox *mbox = (struct maildir_mailbox *)box;
	struct maildir_uidlist ul;
	struct dotlock *lock;
	ARRAY_STR done = ARRAY_INIT;
	size_t i;
	int ret;

	if (maildir_uidlist_lock(box, &lock) <= 0) {
		maildir_save_rollback(t);
		return -1;
	}
	maildir_uidlist_init(&ul);
	ret = maildir_uidlist_read(box, &ul);
	if (ret >= 0 && (ret == 0 || ul.uidvalidity == 0)) {
		ul.uidvalidity = maildir_uidvalidity_next(box->list);
		if (box->disk.uidvalidity != 0 && box->disk.recs.count == 0)
			ul.uidvalidity = box->disk.uidvalidity;
	}
	if (ret >= 0 && ul.guid[0] == '\0')
		maildir_guid_generate(ul.guid);
	(void)maildir_keywords_read(mbox);
	for (i = 0; ret >= 0 && i < t->saves.count; i++) {
		struct mail_save_context *ctx = t->saves.v[i];
		struct maildir_save *ms = ctx->driver_ctx;
		char *name = ms->to_new ? i_strdup(ms->final_name) :
			save_cur_name(mbox, ctx);
		char *dest = i_strdup_printf("%s/%s/%s", box->path,
					     ms->to_new ? "new" : "cur", name);

		if (rename(ms->tmp_path, dest) < 0) {
			mailbox_set_critical(box, "rename(%s, %s) failed: %m",
					     ms->tmp_path, dest);
			ret = -1;
		} else {
			array_push(&done, dest);
			dest = NULL;
			array_push(uids, ul.next_uid);
			maildir_uidlist_add(&ul, ul.next_uid, ms->final_name);
		}
		i_free(dest);
		i_free(name);
	}
	if (ret >= 0 && maildir_uidlist_write(box, &ul, &lock) < 0)
		ret = -1;
	if (ret < 0) {
		if (lock != NULL)
			(void)file_dotlock_delete(&lock);
		for (i = 0; i < done.count; i++)
			(void)unlink(done.v[i]);
		array_clear(uids);
		maildir_save_rollback(t);
	} else {
		for (i = 0; i < t->saves.count; i++)
			save_free(t->saves.v[i]);
	}
	for (i = 0; i < done.count; i++)
		free((char *)done.v[i]);
	array_free(&done);
	maildir_uidlist_deinit(&ul);
	return ret < 0 ? -1 : 0;
}

int maildir_copy(struct mail_save_context *ctx, struct mail *mail)
{
	struct mailbox *src_box = mail->box;
	struct maildir_save *ms;
	const struct mail_record *rec;
	uint64_t size, vsize;

	if (!ctx->box->user->set->maildir_copy_with_hardlinks ||
	    mail->seq == 0 || mail->seq > src_box->view.recs.count)
		return 0;
	rec = &src_box->view.recs.v[mail->seq - 1];
	if (rec->name == NULL || mail_get_physical_size(mail, &size) < 0 ||
	    mail_get_virtual_size(mail, &vsize) < 0)
		return 0;
	ms = i_new(struct maildir_save, 1);
	ms->fd = -1;
	ctx->driver_ctx = ms;
	ms->base = maildir_filename_generate();
	ms->tmp_path = i_strdup_printf("%s/tmp/%s", ctx->box->path, ms->base);
	if (link(maildir_rec_path(src_box, rec), ms->tmp_path) < 0) {
		/* other filesystem, or the file just moved: copy the bytes */
		save_free(ctx);
		return 0;
	}
	save_set_final_name(ctx, size, vsize);
	return 1;
}

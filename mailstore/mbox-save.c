/* mbox-save.c - appending messages to an mbox file. While the client
 * sends the message it goes to memory (spilling to an unlinked temporary
 * file past SAVE_MEM_MAX) with CRLF turned into LF, so the MTA is not
 * kept waiting on our locks; at commit the write locks are taken once,
 * X-IMAPbase gets the new last UID first (a crash then leaves a UID gap,
 * never a reused UID), and each message is written at the end as Dovecot
 * writes it:
 *
 *   From <envelope sender>  <date>
 *   <headers without X-UID/Status/X-Status/X-Keywords/Content-Length>
 *   [X-IMAPbase: ...]           (only when the file was empty)
 *   X-UID: <uid>
 *   Status: [R]
 *   [X-Status: AFTD]
 *   X-Keywords: <names><padding>
 *   Content-Length: <body bytes>
 *
 *   <body, ending with LF>
 *   <empty line>
 *
 * A failure truncates the file back to where it was. */
#include "mbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#define SAVE_MEM_MAX (4 * 1024 * 1024)

struct mbox_save {
	string_t *mem;		/* the message, LF line ends */
	int fd;			/* the rest beyond SAVE_MEM_MAX, or -1 */
	uint64_t file_size;
	bool pending_cr;
	char last_char;
};

static void save_free(struct mail_save_context *ctx)
{
	struct mbox_save *ms = ctx->driver_ctx;

	if (ms == NULL)
		return;
	str_free(&ms->mem);
	if (ms->fd >= 0)
		close(ms->fd);
	i_free(ms);
	ctx->driver_ctx = NULL;
}

static int spill_open(struct mail_save_context *ctx, struct mbox_save *ms)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)ctx->box;
	const char *dir = mbox_journal_dir(mbox);
	const char *tmpdir = getenv("TMPDIR");

	if (dir != NULL)
		ms->fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (ms->fd < 0) {
		char *path = i_strdup_printf("%s/roost-mbox-save.XXXXXX",
			tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");

		ms->fd = mkstemp(path);
		if (ms->fd >= 0)
			(void)unlink(path);
		i_free(path);
	}
	if (ms->fd < 0) {
		mailbox_set_critical(ctx->box,
				     "Can't create a temporary file: %m");
		return -1;
	}
	return 0;
}

/* Append converted bytes to memory or the spill file. */
static int save_out(struct mail_save_context *ctx, struct mbox_save *ms,
		    const unsigned char *data, size_t size)
{
	if (size == 0)
		return 0;
	ms->last_char = (char)data[size - 1];
	if (ms->fd < 0 && str_len(ms->mem) + size <= SAVE_MEM_MAX) {
		str_append_n(ms->mem, data, size);
		return 0;
	}
	if (ms->fd < 0 && spill_open(ctx, ms) < 0)
		return -1;
	while (size > 0) {
		ssize_t ret = pwrite(ms->fd, data, size, (off_t)ms->file_size);

		if (ret <= 0) {
			if (ret < 0 && errno == EINTR)
				continue;
			mailbox_set_critical(ctx->box,
				"write(temporary file) failed: %m");
			return -1;
		}
		data += ret;
		size -= (size_t)ret;
		ms->file_size += (uint64_t)ret;
	}
	return 0;
}

int mbox_save_begin(struct mail_save_context *ctx)
{
	struct mbox_save *ms = i_new(struct mbox_save, 1);

	ms->fd = -1;
	ms->mem = str_new(8192);
	ctx->driver_ctx = ms;
	return 0;
}

int mbox_save_continue(struct mail_save_context *ctx, const void *data,
		       size_t size)
{
	struct mbox_save *ms = ctx->driver_ctx;
	const unsigned char *p = data, *end = p + size, *start;

	if (size == 0)
		return 0;
	if (ms->pending_cr) {
		ms->pending_cr = false;
		if (*p != '\n' && save_out(ctx, ms, (const unsigned char *)"\r",
					   1) < 0)
			return -1;
	}
	start = p;
	while (p < end) {
		const unsigned char *cr = memchr(p, '\r', (size_t)(end - p));

		if (cr == NULL)
			break;
		if (cr + 1 == end) {
			/* maybe the CR of a CRLF split between calls */
			if (save_out(ctx, ms, start, (size_t)(cr - start)) < 0)
				return -1;
			ms->pending_cr = true;
			return 0;
		}
		if (cr[1] == '\n') {
			if (save_out(ctx, ms, start, (size_t)(cr - start)) < 0)
				return -1;
			start = cr + 1;
		}
		p = cr + 1;
	}
	return save_out(ctx, ms, start, (size_t)(end - start));
}

int mbox_save_finish(struct mail_save_context *ctx)
{
	struct mbox_save *ms = ctx->driver_ctx;

	if (ms->pending_cr) {
		ms->pending_cr = false;
		if (save_out(ctx, ms, (const unsigned char *)"\r", 1) < 0)
			return -1;
	}
	return 0;
}

void mbox_save_cancel(struct mail_save_context *ctx)
{
	save_free(ctx);
}

void mbox_save_rollback(struct mailbox_transaction *t)
{
	for (size_t i = 0; i < t->saves.count; i++)
		save_free(t->saves.v[i]);
}

static int write_at(struct mbox_mailbox *mbox, const void *data, size_t size,
		    uint64_t *offset)
{
	const unsigned char *p = data;

	while (size > 0) {
		ssize_t ret = pwrite(mbox->fd, p, size, (off_t)*offset);

		if (ret <= 0) {
			if (ret < 0 && errno == EINTR)
				continue;
			if (ret == 0)
				errno = ENOSPC;
			if (errno == ENOSPC || errno == EDQUOT) {
				mailbox_set_error(&mbox->box, MAIL_ERROR_NOQUOTA,
						  "Not enough disk space");
			} else {
				mailbox_set_critical(&mbox->box,
					"write(%s) failed: %m", mbox->box.path);
			}
			return -1;
		}
		p += ret;
		size -= (size_t)ret;
		*offset += (uint64_t)ret;
	}
	return 0;
}

/* The spilled part of a message onto the mbox. */
static int copy_spill(struct mbox_mailbox *mbox, struct mbox_save *ms,
		      uint64_t *offset)
{
	unsigned char buf[65536];
	uint64_t pos = 0;

	while (pos < ms->file_size) {
		size_t n = (size_t)MIN(sizeof(buf), ms->file_size - pos);
		ssize_t ret = pread(ms->fd, buf, n, (off_t)pos);

		if (ret <= 0) {
			if (ret < 0 && errno == EINTR)
				continue;
			mailbox_set_critical(&mbox->box,
				"read(temporary file) failed: %m");
			return -1;
		}
		if (write_at(mbox, buf, (size_t)ret, offset) < 0)
			return -1;
		pos += (uint64_t)ret;
	}
	return 0;
}

struct save_base {
	bool write;
	uint32_t uidvalidity, last_uid;
	const char *const *keywords;
	unsigned int keywords_count;
};

/* Write one message at *offset. */
static int save_write_one(struct mbox_mailbox *mbox,
			  struct mail_save_context *ctx, uint32_t uid,
			  const struct save_base *base, bool separator_first,
			  uint64_t *offset)
{
	struct mbox_save *ms = ctx->driver_ctx;
	const unsigned char *data = (const unsigned char *)str_c(ms->mem);
	size_t mem_len = str_len(ms->mem), hdr_len;
	struct mbox_hdr_state st;
	char envbuf[512];
	string_t *out = str_new(1024);
	uint64_t body_size;
	bool has_eoh, add_lf;
	int ret;

	memset(&st, 0, sizeof(st));
	if (separator_first)
		str_append_c(out, '\n');
	mbox_from_create(out, mbox_from_envelope(ctx->from_envelope,
						 mbox->box.user->username,
						 envbuf, sizeof(envbuf)),
			 ctx->received_date);
	hdr_len = mbox_save_filter_header(out, data, mem_len, &has_eoh);
	body_size = (mem_len - hdr_len) + ms->file_size;
	/* a message must end with LF (Content-Length counts it); a message
	   that is all header got its LF from the filter */
	add_lf = body_size > 0 && ms->last_char != '\n';
	if (add_lf)
		body_size++;
	st.uid = uid;
	st.flags = ctx->flags & MAIL_FLAGS_MASK;
	st.keywords = (const char *const *)ctx->keywords.v;
	st.keywords_count = (unsigned int)ctx->keywords.count;
	st.body_size = body_size;
	st.eol = "\n";
	if (base->write) {
		st.base = true;
		st.uidvalidity = base->uidvalidity;
		st.last_uid = base->last_uid;
		st.base_keywords = base->keywords;
		st.base_keywords_count = base->keywords_count;
	}
	mbox_save_append_headers(out, &st);
	ret = write_at(mbox, str_c(out), str_len(out), offset);
	str_free(&out);
	if (ret == 0)
		ret = write_at(mbox, data + hdr_len, mem_len - hdr_len, offset);
	if (ret == 0 && ms->fd >= 0)
		ret = copy_spill(mbox, ms, offset);
	if (ret == 0)
		ret = write_at(mbox, add_lf ? "\n\n" : "\n", add_lf ? 2 : 1,
			       offset);
	return ret;
}

/* Does appending right after the current end need a line end first? */
static bool need_separator(const struct mbox_mailbox *mbox)
{
	const struct mbox_scan *scan = &mbox->scan;
	const struct mbox_msg *last;

	if (mbox->map_size == 0 || scan->msgs.count == 0)
		return false;
	if (mbox->map[mbox->map_size - 1] != '\n')
		return true;
	/* the last body ends at the end of the file: its final LF is the
	   body's, not a separator */
	last = &scan->msgs.v[scan->msgs.count - 1];
	return last->msg_end == mbox->map_size;
}

static void collect_keywords(struct mailbox_transaction *t, ARRAY_STR *kws)
{
	for (size_t i = 0; i < t->saves.count; i++) {
		const struct mail_save_context *ctx = t->saves.v[i];

		for (size_t k = 0; k < ctx->keywords.count; k++) {
			bool found = false;

			for (size_t j = 0; j < kws->count && !found; j++)
				found = strcasecmp(kws->v[j],
						   ctx->keywords.v[k]) == 0;
			if (!found)
				array_push(kws, ctx->keywords.v[k]);
		}
	}
}

int mbox_save_commit(struct mailbox_transaction *t, ARRAY_U32 *uids)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)t->box;
	ARRAY_STR kws = ARRAY_INIT;
	struct save_base base;
	uint32_t first_uid, count = (uint32_t)t->saves.count;
	uint64_t orig_size, offset;
	int ret = 0;

	if (count == 0)
		return 0;
	if (mbox->fd < 0 && mbox_file_open(mbox) < 0) {
		mbox_save_rollback(t);
		return -1;
	}
	if ((ret = mbox_lock(mbox, F_WRLCK)) <= 0) {
		/* timed out: this command waits no more */
		mbox->defer_writes = ret == 0;
		mbox_save_rollback(t);
		return -1;
	}
	ret = 0;
	if (mbox_rewrite_recover(mbox) < 0 || mbox_scan_refresh(mbox, false) < 0)
		goto fail;
	if (mbox->scan.msgs.count == 0 && mbox->map_size > 0) {
		/* only blank lines: start the file afresh */
		if (ftruncate(mbox->fd, 0) < 0) {
			mailbox_set_critical(&mbox->box,
				"ftruncate(%s) failed: %m", mbox->box.path);
			goto fail;
		}
		if (mbox_scan_refresh(mbox, true) < 0)
			goto fail;
	}
	collect_keywords(t, &kws);
	if (mbox_sync_fix(mbox, kws.v, (unsigned int)kws.count, count,
			  &first_uid) < 0)
		goto fail;
	memset(&base, 0, sizeof(base));
	base.write = mbox->scan.msgs.count == 0;
	base.uidvalidity = mbox->uidvalidity;
	base.last_uid = first_uid + count - 1;
	base.keywords = kws.v;
	base.keywords_count = (unsigned int)kws.count;

	orig_size = offset = mbox->map_size;
	for (uint32_t i = 0; i < count && ret == 0; i++) {
		ret = save_write_one(mbox, t->saves.v[i], first_uid + i, &base,
				     i == 0 && need_separator(mbox), &offset);
		base.write = false;
	}
	if (ret == 0 && mbox_fsync_enabled(mbox) && fdatasync(mbox->fd) < 0) {
		mailbox_set_critical(&mbox->box, "fdatasync(%s) failed: %m",
				     mbox->box.path);
		ret = -1;
	}
	if (ret < 0) {
		/* nothing saved remains */
		if (ftruncate(mbox->fd, (off_t)orig_size) < 0)
			i_error("ftruncate(%s) failed: %m", mbox->box.path);
		goto fail;
	}
	for (uint32_t i = 0; i < count; i++)
		array_push(uids, first_uid + i);
	mbox->scan_valid = false;
	array_free(&kws);
	mbox_unlock(mbox);
	mbox_save_rollback(t);
	return 0;
fail:
	mbox->scan_valid = false;
	array_free(&kws);
	mbox_unlock(mbox);
	mbox_save_rollback(t);
	return -1;
}

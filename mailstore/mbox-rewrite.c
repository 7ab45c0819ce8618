/* mbox-rewrite.c - crash-safe rewrites of an mbox file in place.
 *
 * The file is never renamed (MTAs and other readers keep their fds and
 * fcntl locks on the inode, and /var/mail may not let us create files);
 * instead the new content from some offset on (the "tail") is first
 * written to a journal in the mailbox's index directory, and only then
 * copied over the file:
 *
 *   0. journal.tmp = header {start, tail length, orig size, L} + tail;
 *      fsync; rename to the journal name (state 0)
 *   1. if the tail grows the file: write the tail's end beyond the old
 *      end first (so the file reaches L = max(orig, start + tail))
 *   2. state 1; copy the rest of the tail to start
 *   3. if the file shrinks: mark the first stale byte; state 2; truncate
 *   4. unlink the journal
 *
 * A crash at any point leaves either the old file or the journal from
 * which the new one is finished on the next write lock
 * (mbox_rewrite_recover). Mail another program appended meanwhile (after
 * our locks died with us) is found at the file's end - where depends on
 * the state, which is why the states and the marker exist - and kept
 * after the new tail. No message is lost or duplicated. */
#include "mbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAGIC "ROOSTMBJ"
#define JOURNAL_VERSION 1
#define COPY_BUF_SIZE (1024 * 1024)
static const char junk_marker[] = "\0ROOST-STALE-TAIL\0";
#define JUNK_MARKER_LEN (sizeof(junk_marker) - 1)

unsigned int mbox_rewrite_crash_at = 0;

static void crash_point(unsigned int step)
{
	if (mbox_rewrite_crash_at == step)
		_exit(99);
}

struct journal_hdr {
	char magic[8];
	uint32_t version;
	uint32_t state;
	uint64_t start, tail_len, orig_size, locked_size;
	uint64_t dev, ino;
	uint64_t checksum;	/* of everything above except state */
};

static uint64_t hdr_checksum(const struct journal_hdr *h)
{
	struct journal_hdr tmp = *h;
	const unsigned char *p = (const unsigned char *)&tmp;
	uint64_t sum = 0xcbf29ce484222325ULL;

	tmp.state = 0;
	tmp.checksum = 0;
	for (size_t i = 0; i < sizeof(tmp); i++) {
		sum ^= p[i];
		sum *= 0x100000001b3ULL;
	}
	return sum;
}

static char *journal_path(struct mbox_mailbox *mbox, const char *suffix)
{
	const char *dir = mbox_journal_dir(mbox);

	return dir == NULL ? NULL :
		i_strdup_printf("%s/" MBOX_JOURNAL_NAME "%s", dir, suffix);
}

static int do_fsync(struct mbox_mailbox *mbox, int fd, const char *path)
{
	if (!mbox_fsync_enabled(mbox))
		return 0;
	if (fdatasync(fd) < 0) {
		mailbox_set_critical(&mbox->box, "fdatasync(%s) failed: %m",
				     path);
		return -1;
	}
	return 0;
}

static int fsync_dir_of(struct mbox_mailbox *mbox, const char *path)
{
	char *dir = i_strdup(path), *slash = strrchr(dir, '/');
	int fd, ret = 0;

	if (!mbox_fsync_enabled(mbox) || slash == NULL) {
		i_free(dir);
		return 0;
	}
	*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fsync(fd) < 0) {
		mailbox_set_critical(&mbox->box, "fsync(%s) failed: %m", dir);
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	i_free(dir);
	return ret;
}

static int pwrite_full(int fd, const void *data, size_t size, uint64_t offset)
{
	const unsigned char *p = data;

	while (size > 0) {
		ssize_t ret = pwrite(fd, p, size, (off_t)offset);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ret == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += ret;
		size -= (size_t)ret;
		offset += (uint64_t)ret;
	}
	return 0;
}

static ssize_t pread_full(int fd, void *data, size_t size, uint64_t offset)
{
	unsigned char *p = data;
	size_t done = 0;

	while (done < size) {
		ssize_t ret = pread(fd, p + done, size - done,
				    (off_t)(offset + done));

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ret == 0)
			break;
		done += (size_t)ret;
	}
	return (ssize_t)done;
}

/* Copy len bytes from in_fd at in_off to out_fd at out_off. */
static int copy_range(int in_fd, uint64_t in_off, int out_fd,
		      uint64_t out_off, uint64_t len)
{
	unsigned char *buf = i_malloc(COPY_BUF_SIZE);
	int ret = 0;

	while (len > 0) {
		size_t n = len > COPY_BUF_SIZE ? COPY_BUF_SIZE : (size_t)len;
		ssize_t r = pread_full(in_fd, buf, n, in_off);

		if (r != (ssize_t)n) {
			if (r >= 0)
				errno = EIO;
			ret = -1;
			break;
		}
		if (pwrite_full(out_fd, buf, n, out_off) < 0) {
			ret = -1;
			break;
		}
		in_off += n;
		out_off += n;
		len -= n;
	}
	i_free(buf);
	return ret;
}

static int set_state(struct mbox_mailbox *mbox, int jfd, const char *jpath,
		     uint32_t state)
{
	if (pwrite_full(jfd, &state, sizeof(state),
			offsetof(struct journal_hdr, state)) < 0) {
		mailbox_set_critical(&mbox->box, "write(%s) failed: %m", jpath);
		return -1;
	}
	return do_fsync(mbox, jfd, jpath);
}

/* Steps 1-4 with a committed journal. */
static int journal_apply(struct mbox_mailbox *mbox, int jfd, const char *jpath,
			 const struct journal_hdr *h)
{
	const char *path = mbox->box.path;
	uint64_t start = h->start, n = h->tail_len, orig = h->orig_size;
	uint64_t inside = MIN(n, orig - start);

	crash_point(1);
	if (start + n > orig &&
	    copy_range(jfd, sizeof(*h) + (orig - start), mbox->fd, orig,
		       start + n - orig) < 0) {
		mailbox_set_critical(&mbox->box,
				     "mbox rewrite of %s failed: %m", path);
		return -1;
	}
	if (do_fsync(mbox, mbox->fd, path) < 0 ||
	    set_state(mbox, jfd, jpath, 1) < 0)
		return -1;
	crash_point(2);
	if (copy_range(jfd, sizeof(*h), mbox->fd, start, inside / 2) < 0) {
		mailbox_set_critical(&mbox->box,
				     "mbox rewrite of %s failed: %m", path);
		return -1;
	}
	crash_point(3);
	if (copy_range(jfd, sizeof(*h) + inside / 2, mbox->fd,
		       start + inside / 2, inside - inside / 2) < 0) {
		mailbox_set_critical(&mbox->box,
				     "mbox rewrite of %s failed: %m", path);
		return -1;
	}
	if (start + n < orig) {
		size_t mlen = (size_t)MIN(JUNK_MARKER_LEN, orig - (start + n));

		if (pwrite_full(mbox->fd, junk_marker, mlen, start + n) < 0) {
			mailbox_set_critical(&mbox->box, "write(%s) failed: %m",
					     path);
			return -1;
		}
	}
	if (do_fsync(mbox, mbox->fd, path) < 0 ||
	    set_state(mbox, jfd, jpath, 2) < 0)
		return -1;
	crash_point(4);
	if (start + n < orig) {
		if (ftruncate(mbox->fd, (off_t)(start + n)) < 0) {
			mailbox_set_critical(&mbox->box,
					     "ftruncate(%s) failed: %m", path);
			return -1;
		}
		if (do_fsync(mbox, mbox->fd, path) < 0)
			return -1;
	}
	crash_point(5);
	if (unlink(jpath) < 0 && errno != ENOENT) {
		mailbox_set_critical(&mbox->box, "unlink(%s) failed: %m", jpath);
		return -1;
	}
	return 0;
}

struct jwriter {
	int fd;
	unsigned char *buf;
	size_t used;
	uint64_t offset;
	bool failed;
};

static void jw_flush(struct jwriter *w)
{
	if (w->used > 0 && !w->failed &&
	    pwrite_full(w->fd, w->buf, w->used, w->offset) < 0)
		w->failed = true;
	w->offset += w->used;
	w->used = 0;
}

static void jw_write(struct jwriter *w, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0 && !w->failed) {
		size_t n = MIN(len, COPY_BUF_SIZE - w->used);

		memcpy(w->buf + w->used, p, n);
		w->used += n;
		p += n;
		len -= n;
		if (w->used == COPY_BUF_SIZE)
			jw_flush(w);
	}
}

/* Write and commit a journal whose tail is the pieces (copy pieces read
 * from data) followed by extra_len bytes of the mbox file at extra_off.
 * Returns the journal fd or -1. */
static int journal_create(struct mbox_mailbox *mbox, const char *jpath,
			  struct journal_hdr *h, const unsigned char *data,
			  const struct mbox_piece *pieces, unsigned int count,
			  int old_jfd, uint64_t old_tail_len,
			  uint64_t extra_off, uint64_t extra_len)
{
	char *tmp = i_strdup_printf("%s.tmp", jpath);
	struct jwriter w = { .fd = -1 };
	int fd;

	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		mailbox_set_critical(&mbox->box, "open(%s) failed: %m", tmp);
		i_free(tmp);
		return -1;
	}
	h->checksum = hdr_checksum(h);
	crash_point(6);
	w.fd = fd;
	w.buf = i_malloc(COPY_BUF_SIZE);
	jw_write(&w, h, sizeof(*h));
	for (unsigned int i = 0; i < count; i++) {
		jw_write(&w, pieces[i].copy ? data + pieces[i].offset :
			 pieces[i].data, pieces[i].len);
	}
	jw_flush(&w);
	i_free(w.buf);
	if (!w.failed && old_jfd >= 0 &&
	    copy_range(old_jfd, sizeof(*h), fd, w.offset, old_tail_len) < 0)
		w.failed = true;
	if (!w.failed && extra_len > 0 &&
	    copy_range(mbox->fd, extra_off, fd, w.offset + old_tail_len,
		       extra_len) < 0)
		w.failed = true;
	if (w.failed) {
		mailbox_set_critical(&mbox->box, "write(%s) failed: %m", tmp);
		goto fail;
	}
	if (do_fsync(mbox, fd, tmp) < 0)
		goto fail;
	if (rename(tmp, jpath) < 0) {
		mailbox_set_critical(&mbox->box, "rename(%s, %s) failed: %m",
				     tmp, jpath);
		goto fail;
	}
	i_free(tmp);
	if (fsync_dir_of(mbox, jpath) < 0) {
		close(fd);
		return -1;
	}
	return fd;
fail:
	close(fd);
	(void)unlink(tmp);
	i_free(tmp);
	return -1;
}

static void invalidate_scan(struct mbox_mailbox *mbox)
{
	mbox->scan_valid = false;
}

int mbox_rewrite(struct mbox_mailbox *mbox, const unsigned char *data,
		 uint64_t start, const struct mbox_piece *pieces,
		 unsigned int count)
{
	char *jpath = journal_path(mbox, "");
	struct journal_hdr h;
	struct stat st;
	uint64_t n = 0;
	int jfd, ret;

	i_assert(mbox->lock_type == F_WRLCK);
	invalidate_scan(mbox);
	if (jpath == NULL) {
		mailbox_set_critical(&mbox->box,
			"mbox %s: no index directory for the rewrite journal, "
			"refusing an unsafe rewrite", mbox->box.path);
		return -1;
	}
	if (fstat(mbox->fd, &st) < 0) {
		mailbox_set_critical(&mbox->box, "fstat(%s) failed: %m",
				     mbox->box.path);
		i_free(jpath);
		return -1;
	}
	for (unsigned int i = 0; i < count; i++)
		n += pieces[i].len;
	i_assert(start <= (uint64_t)st.st_size);
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, JOURNAL_MAGIC, sizeof(h.magic));
	h.version = JOURNAL_VERSION;
	h.start = start;
	h.tail_len = n;
	h.orig_size = (uint64_t)st.st_size;
	h.locked_size = MAX(h.orig_size, start + n);
	h.dev = (uint64_t)st.st_dev;
	h.ino = (uint64_t)st.st_ino;
	jfd = journal_create(mbox, jpath, &h, data, pieces, count, -1, 0, 0, 0);
	if (jfd < 0) {
		i_free(jpath);
		return -1;
	}
	ret = journal_apply(mbox, jfd, jpath, &h);
	close(jfd);
	i_free(jpath);
	return ret;
}

/* A journal we can't use is moved aside (never deleted: it may hold the
 * only copy of mail). */
static void journal_set_aside(struct mbox_mailbox *mbox, const char *jpath,
			      const char *why)
{
	char *aside = i_strdup_printf("%s.broken.%ld", jpath, (long)time(NULL));

	i_error("mbox %s: rewrite journal %s %s, moved to %s",
		mbox->box.path, jpath, why, aside);
	if (rename(jpath, aside) < 0)
		i_error("rename(%s, %s) failed: %m", jpath, aside);
	i_free(aside);
}

static bool file_matches(int fd, uint64_t off, int jfd, uint64_t joff,
			 uint64_t len)
{
	unsigned char *a = i_malloc(COPY_BUF_SIZE), *b = i_malloc(COPY_BUF_SIZE);
	bool same = true;

	while (len > 0 && same) {
		size_t n = len > COPY_BUF_SIZE ? COPY_BUF_SIZE : (size_t)len;

		if (pread_full(fd, a, n, off) != (ssize_t)n ||
		    pread_full(jfd, b, n, joff) != (ssize_t)n ||
		    memcmp(a, b, n) != 0)
			same = false;
		off += n;
		joff += n;
		len -= n;
	}
	i_free(a);
	i_free(b);
	return same;
}

static bool marker_at(int fd, uint64_t off, uint64_t room)
{
	unsigned char buf[JUNK_MARKER_LEN];
	size_t n = (size_t)MIN(JUNK_MARKER_LEN, room);

	return pread_full(fd, buf, n, off) == (ssize_t)n &&
		memcmp(buf, junk_marker, n) == 0;
}

int mbox_rewrite_recover(struct mbox_mailbox *mbox)
{
	char *jpath = journal_path(mbox, ""), *tmp;
	struct journal_hdr h;
	struct stat st, jst;
	uint64_t size, appended_from, start, n, orig;
	int jfd, ret = -1;

	if (jpath == NULL)
		return 0;
	tmp = i_strdup_printf("%s.tmp", jpath);
	(void)unlink(tmp);	/* an uncommitted journal: nothing happened */
	i_free(tmp);
	jfd = open(jpath, O_RDWR);
	if (jfd < 0) {
		i_free(jpath);
		return 0;
	}
	i_assert(mbox->lock_type == F_WRLCK);
	invalidate_scan(mbox);
	if (pread_full(jfd, &h, sizeof(h), 0) != sizeof(h) ||
	    memcmp(h.magic, JOURNAL_MAGIC, sizeof(h.magic)) != 0 ||
	    h.version != JOURNAL_VERSION || h.checksum != hdr_checksum(&h) ||
	    h.state > 2 || fstat(jfd, &jst) < 0 ||
	    (uint64_t)jst.st_size != sizeof(h) + h.tail_len ||
	    h.start > h.orig_size) {
		journal_set_aside(mbox, jpath, "is damaged");
		goto out;
	}
	if (fstat(mbox->fd, &st) < 0) {
		mailbox_set_critical(&mbox->box, "fstat(%s) failed: %m",
				     mbox->box.path);
		goto out;
	}
	if ((uint64_t)st.st_ino != h.ino || (uint64_t)st.st_dev != h.dev) {
		journal_set_aside(mbox, jpath, "belongs to another file");
		goto out;
	}
	i_warning("mbox %s: finishing a rewrite that was interrupted",
		  mbox->box.path);
	size = (uint64_t)st.st_size;
	start = h.start;
	n = h.tail_len;
	orig = h.orig_size;
	switch (h.state) {
	case 0:
		/* did the file already grow to its new end? */
		if (start + n > orig && size >= h.locked_size &&
		    file_matches(mbox->fd, orig, jfd,
				 sizeof(h) + (orig - start),
				 start + n - orig))
			appended_from = h.locked_size;
		else
			appended_from = orig;
		break;
	case 1:
		appended_from = h.locked_size;
		break;
	default:
		if (start + n < orig &&
		    !(size > start + n &&
		      marker_at(mbox->fd, start + n, orig - (start + n)))) {
			/* truncated already: done */
			appended_from = size;
			if (unlink(jpath) < 0)
				mailbox_set_critical(&mbox->box,
					"unlink(%s) failed: %m", jpath);
			ret = 0;
			goto out;
		}
		appended_from = h.locked_size;
		if (start + n >= orig) {
			/* nothing to truncate: the copy is complete and any
			   appended mail follows it */
			(void)unlink(jpath);
			ret = 0;
			goto out;
		}
		break;
	}
	if (appended_from >= size) {
		ret = journal_apply(mbox, jfd, jpath, &h);
	} else {
		/* mail was appended after we died: it goes after the tail */
		struct journal_hdr h2 = h;
		uint64_t extra = size - appended_from;
		int jfd2;

		h2.state = 0;
		h2.tail_len = n + extra;
		h2.orig_size = size;
		h2.locked_size = MAX(size, start + n + extra);
		jfd2 = journal_create(mbox, jpath, &h2, NULL, NULL, 0, jfd, n,
				      appended_from, extra);
		if (jfd2 >= 0) {
			ret = journal_apply(mbox, jfd2, jpath, &h2);
			close(jfd2);
		}
	}
out:
	close(jfd);
	i_free(jpath);
	return ret;
}

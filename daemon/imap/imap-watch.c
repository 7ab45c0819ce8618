/* imap-watch.c - one inotify instance per process shared by every
 * session's watches (see imap-watch.h). A path watched by several
 * sessions is one kernel watch with a list of subscribers; all events
 * read in one go call each subscriber once. */
#include "imap-watch.h"
#include "array.h"
#include "lib.h"

#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		    IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)

struct imap_watch {
	int wd;
	imap_watch_callback_t *callback;
	void *context;
	bool called;	/* already called for the current batch */
};

struct watch_entry {
	int wd;
	ARRAY(struct imap_watch *) subs;
};

static int watch_fd = -1;
static struct io *watch_io;
static ARRAY(struct watch_entry) watch_entries;
static bool watch_limit_logged;

static struct watch_entry *entry_find(int wd)
{
	for (size_t i = 0; i < watch_entries.count; i++) {
		if (watch_entries.v[i].wd == wd)
			return &watch_entries.v[i];
	}
	return NULL;
}

/* w may have been freed: compared, never dereferenced */
static bool watch_registered(const struct imap_watch *w)
{
	for (size_t i = 0; i < watch_entries.count; i++) {
		const struct watch_entry *e = &watch_entries.v[i];

		for (size_t j = 0; j < e->subs.count; j++) {
			if (e->subs.v[j] == w)
				return true;
		}
	}
	return false;
}

static void watch_input(void *context ATTR_UNUSED)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ARRAY(struct imap_watch *) pending = ARRAY_INIT;
	ssize_t n;

	while (watch_fd >= 0 && (n = read(watch_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			const struct inotify_event *ev =
				(const struct inotify_event *)(buf + off);
			struct watch_entry *e = entry_find(ev->wd);

			off += (ssize_t)sizeof(*ev) + ev->len;
			for (size_t i = 0; e != NULL && i < e->subs.count; i++) {
				struct imap_watch *w = e->subs.v[i];

				if (!w->called) {
					w->called = true;
					array_push(&pending, w);
				}
			}
		}
	}
	/* a callback may remove other watches: each is looked up again
	   before it is used */
	for (size_t i = 0; i < pending.count; i++) {
		struct imap_watch *w = pending.v[i];

		if (!watch_registered(w))
			continue;
		w->called = false;
		w->callback(w->context);
	}
	array_free(&pending);
}

static bool watch_init(struct ioloop *loop)
{
	if (watch_fd >= 0)
		return true;
	watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (watch_fd < 0) {
		if (!watch_limit_logged)
			i_error("inotify_init() failed: %m");
		watch_limit_logged = true;
		return false;
	}
	watch_io = io_add(loop, watch_fd, IO_READ, watch_input, NULL);
	return true;
}

struct imap_watch *imap_watch_add(struct ioloop *loop, const char *path,
				  imap_watch_callback_t *callback,
				  void *context)
{
	struct watch_entry *e;
	struct imap_watch *w;
	int wd;

	if (!watch_init(loop))
		return NULL;
	wd = inotify_add_watch(watch_fd, path, WATCH_MASK);
	if (wd < 0) {
		if (errno == ENOSPC && !watch_limit_logged) {
			i_error("inotify_add_watch(%s) failed: %m "
				"(fs.inotify.max_user_watches reached: "
				"changes are found by polling)", path);
			watch_limit_logged = true;
		} else if (errno != ENOENT && errno != ENOTDIR &&
			   errno != ENOSPC) {
			i_error("inotify_add_watch(%s) failed: %m", path);
		}
		if (watch_entries.count == 0) {
			io_remove(&watch_io);
			close(watch_fd);
			watch_fd = -1;
		}
		return NULL;
	}
	e = entry_find(wd);
	if (e == NULL) {
		e = array_append_space(&watch_entries);
		memset(e, 0, sizeof(*e));
		e->wd = wd;
	}
	w = i_new(struct imap_watch, 1);
	w->wd = wd;
	w->callback = callback;
	w->context = context;
	array_push(&e->subs, w);
	return w;
}

void imap_watch_remove(struct imap_watch **_watch)
{
	struct imap_watch *w = *_watch;
	struct watch_entry *e;

	if (w == NULL)
		return;
	*_watch = NULL;
	e = entry_find(w->wd);
	for (size_t j = 0; e != NULL && j < e->subs.count; j++) {
		if (e->subs.v[j] == w) {
			e->subs.v[j] = e->subs.v[--e->subs.count];
			break;
		}
	}
	if (e != NULL && e->subs.count == 0) {
		(void)inotify_rm_watch(watch_fd, e->wd);
		array_free(&e->subs);
		*e = watch_entries.v[--watch_entries.count];
	}
	i_free(w);
	if (watch_entries.count == 0 && watch_fd >= 0) {
		array_free(&watch_entries);
		io_remove(&watch_io);
		close(watch_fd);
		watch_fd = -1;
	}
}

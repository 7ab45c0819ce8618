/* imap-watch.h - the process's one inotify instance, shared by every
 * session that waits for changes (IDLE's selected mailbox, NOTIFY's
 * mailboxes and mailbox lists): the kernel allows few instances per
 * user (128 by default) and a mail worker holds thousands of sessions,
 * so each path is watched once and every subscriber to it is called. */
#ifndef ROOST_IMAP_WATCH_H
#define ROOST_IMAP_WATCH_H

#include "ioloop.h"

struct imap_watch;
typedef void imap_watch_callback_t(void *context);

/* Call callback(context) (from the ioloop) when something in path (a
 * file or a directory's entries) changes. NULL when path can't be
 * watched: it doesn't exist (ENOENT, no error logged) or the kernel's
 * limits are reached (logged once per process). */
struct imap_watch *imap_watch_add(struct ioloop *loop, const char *path,
				  imap_watch_callback_t *callback,
				  void *context);
/* Stop calling; safe from inside any watch callback. */
void imap_watch_remove(struct imap_watch **watch);

#endif

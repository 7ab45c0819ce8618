/* mail-log.h - the mail_log plugin's log lines (mail-log.c), called by
 * the storage core where the events happen. */
#ifndef ROOST_MAIL_LOG_H
#define ROOST_MAIL_LOG_H

#include "mail-storage.h"

enum mail_log_event {
	MAIL_LOG_EVENT_DELETE = 0x001,
	MAIL_LOG_EVENT_UNDELETE = 0x002,
	MAIL_LOG_EVENT_EXPUNGE = 0x004,
	MAIL_LOG_EVENT_SAVE = 0x008,
	MAIL_LOG_EVENT_COPY = 0x010,
	MAIL_LOG_EVENT_MAILBOX_CREATE = 0x020,
	MAIL_LOG_EVENT_MAILBOX_DELETE = 0x040,
	MAIL_LOG_EVENT_MAILBOX_RENAME = 0x080,
	MAIL_LOG_EVENT_FLAG_CHANGE = 0x100,
};

/* Is mail_log loaded and event in mail_log_events? */
bool mail_log_enabled(const struct mail_user *user, unsigned int event);
/* "expunge: box=INBOX, uid=1, ..." for mail (malloc()ed); strip_recent
 * leaves \Recent out of flags= */
char *mail_log_format(struct mail *mail, const char *event_text,
		      bool strip_recent);
/* After a commit saved count messages into box: uids[i] and the source
 * mailbox of a copy (NULL for a save). */
void mail_log_saved(struct mailbox *box, const uint32_t *uids,
		    const char *const *copied_from, unsigned int count);
/* Mailbox created/deleted/renamed */
void mail_log_mailbox(struct mail_user *user, unsigned int event,
		      const char *vname, const char *new_vname);

#endif

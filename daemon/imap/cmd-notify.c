/* cmd-notify.c - NOTIFY (RFC 5465) as Dovecot 2.3 answers it.
 *
 * NOTIFY SET [STATUS] (filter events)... keeps a list of event filters
 * for the session. The mailboxes the filters name are watched with the
 * process's shared inotify instance (imap-watch.c): each mailbox's own
 * directories (Maildir new/ and cur/, the mbox file) up to
 * NOTIFY_MAX_WATCHES paths per session, and the namespaces' root and
 * subscriptions directories for MailboxName and SubscriptionChange.
 * Events are coalesced for NOTIFY_DELAY_MSECS, then the session compares
 * what it last told the client with what is there now:
 * - a mailbox other than the selected one whose counts moved gets an
 *   untagged STATUS with the items Dovecot sends for the change
 *   (MESSAGES UIDNEXT UNSEEN for new/expunged mail, UNSEEN for \Seen
 *   changes, HIGHESTMODSEQ with FlagChange, UIDVALIDITY when it
 *   changed);
 * - created, deleted and renamed mailboxes (found by their GUID) and
 *   subscription changes become LIST responses (\NonExistent, OLDNAME);
 * - the selected mailbox is synced as usual (EXPUNGE, FETCH FLAGS,
 *   EXISTS), with a FETCH of the MessageNew fetch-att for new mail.
 * Notifications go out at once while no command runs or during IDLE,
 * else before the running command's tagged reply. Mailboxes beyond
 * the watch limit (or when inotify is unavailable) are checked every
 * mailbox_idle_check_interval. More than NOTIFY_MAX_BATCH notifications
 * at once, or a client that doesn't read its output, end NOTIFY with
 * [NOTIFICATIONOVERFLOW] (RFC 5465 5.8). */
#include "imap-common.h"
#include "imap-condstore.h"
#include "imap-fetch.h"
#include "imap-rev2.h"
#include "imap-watch.h"
#include "ioloop.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#define NOTIFY_DELAY_MSECS 200
/* inotify paths one session may watch (a Maildir mailbox takes 2) */
#define NOTIFY_MAX_WATCHES 256
/* notifications one check may produce before it is an overflow */
#define NOTIFY_MAX_BATCH 200

enum notify_events {
	NE_MESSAGE_NEW = 0x01,
	NE_MESSAGE_EXPUNGE = 0x02,
	NE_FLAG_CHANGE = 0x04,
	NE_ANNOTATION_CHANGE = 0x08,
	NE_MAILBOX_NAME = 0x10,
	NE_SUBSCRIPTION_CHANGE = 0x20,
	NE_MAILBOX_METADATA_CHANGE = 0x40,
	NE_SERVER_METADATA_CHANGE = 0x80,
};
#define NE_MESSAGE_EVENTS (NE_MESSAGE_NEW | NE_MESSAGE_EXPUNGE | NE_FLAG_CHANGE)
/* Dovecot 2.3 refuses these with [BADEVENT], METADATA or not */
#define NE_UNSUPPORTED (NE_ANNOTATION_CHANGE | NE_MAILBOX_METADATA_CHANGE | \
			NE_SERVER_METADATA_CHANGE)

static const char *const event_names[] = {
	"MessageNew", "MessageExpunge", "FlagChange", "AnnotationChange",
	"MailboxName", "SubscriptionChange", "MailboxMetadataChange",
	"ServerMetadataChange",
};

typedef ARRAY(struct imap_watch *) ARRAY_WATCH;
typedef ARRAY(bool) ARRAY_BOOL;

enum notify_filter_type {
	NF_SELECTED,
	NF_SELECTED_DELAYED,
	NF_INBOXES,
	NF_PERSONAL,
	NF_SUBSCRIBED,
	NF_SUBTREE,
	NF_MAILBOXES,
};

static const char *const filter_names[] = {
	"selected", "selected-delayed", "inboxes", "personal", "subscribed",
	"subtree", "mailboxes",
};

struct notify_filter {
	enum notify_filter_type type;
	enum notify_events events;
	ARRAY_STR names;	/* subtree, mailboxes: vnames */
};

struct notify_box {
	struct imap_notify *notify;
	char *vname;
	bool subscribed, seen;
	char guid[33];
	/* what the client was last told (or the baseline) */
	bool have_status, dirty, polled;
	uint32_t messages, uidnext, uidvalidity, unseen;
	uint64_t highest_modseq;
	ARRAY_WATCH watches;
};

struct imap_notify {
	struct imap_client *client;
	pool_t pool;
	ARRAY(struct notify_filter) filters;
	/* the selected filter */
	bool have_selected, selected_delayed;
	enum notify_events selected_events;
	struct imap_fetch_request fetch;
	bool have_fetch;
	/* union of the other filters' events */
	enum notify_events events;

	ARRAY(struct notify_box *) boxes;
	ARRAY_WATCH list_watches;
	ARRAY_WATCH selected_watches;
	char *selected_vname;
	unsigned int watch_count;
	bool list_dirty, selected_dirty, pending, poll;
	unsigned int batch;
	bool overflow;
	struct timeout *delay_to, *poll_to;
};

static void notify_check(struct imap_notify *notify, bool send);

/* ---- which mailboxes a filter covers ---- */

static bool filter_match(struct imap_client *client,
			 const struct notify_filter *f, const char *vname,
			 bool subscribed)
{
	struct mail_namespace *ns;

	switch (f->type) {
	case NF_SELECTED:
	case NF_SELECTED_DELAYED:
		return false;
	case NF_INBOXES:
		return strcmp(vname, "INBOX") == 0;
	case NF_PERSONAL:
		ns = mail_namespace_find(client->user, vname);
		return ns != NULL && ns->type == MAIL_NAMESPACE_PRIVATE;
	case NF_SUBSCRIBED:
		return subscribed;
	case NF_SUBTREE:
		for (size_t i = 0; i < f->names.count; i++) {
			const char *name = f->names.v[i];
			size_t len = strlen(name);

			ns = mail_namespace_find(client->user, name);
			if (strcmp(vname, name) == 0 ||
			    (strncmp(vname, name, len) == 0 && ns != NULL &&
			     vname[len] == ns->sep))
				return true;
		}
		return false;
	case NF_MAILBOXES:
		for (size_t i = 0; i < f->names.count; i++) {
			if (strcmp(vname, f->names.v[i]) == 0)
				return true;
		}
		return false;
	}
	return false;
}

static enum notify_events box_events(struct imap_notify *notify,
				     const char *vname, bool subscribed)
{
	enum notify_events events = 0;

	for (size_t i = 0; i < notify->filters.count; i++) {
		const struct notify_filter *f = &notify->filters.v[i];

		if (filter_match(notify->client, f, vname, subscribed))
			events |= f->events;
	}
	return events;
}

static bool box_matches(struct imap_notify *notify,
			const struct notify_box *box)
{
	for (size_t i = 0; i < notify->filters.count; i++) {
		if (filter_match(notify->client, &notify->filters.v[i],
				 box->vname, box->subscribed))
			return true;
	}
	return false;
}

/* ---- output ---- */

static bool notify_room(struct imap_notify *notify)
{
	struct imap_client *client = notify->client;

	if (notify->overflow)
		return false;
	if (++notify->batch <= NOTIFY_MAX_BATCH &&
	    (client->conn == NULL ||
	     connection_output_queued(client->conn) < IMAP_OUTPUT_BUFFER / 2))
		return true;
	notify->overflow = true;
	return false;
}

static void notify_send_list(struct imap_notify *notify, const char *vname,
			     const char *flags, const char *oldname)
{
	struct imap_client *client = notify->client;
	struct mail_namespace *ns = mail_namespace_find(client->user, vname);
	string_t *str;

	if (!notify_room(notify))
		return;
	str = str_new(128);
	str_printfa(str, "* LIST (%s) ", flags);
	if (ns == NULL || ns->sep == '\0')
		str_append(str, "NIL");
	else if (ns->sep == '\\' || ns->sep == '"')
		str_printfa(str, "\"\\%c\"", ns->sep);
	else
		str_printfa(str, "\"%c\"", ns->sep);
	str_append_c(str, ' ');
	imap_client_append_mailbox_name(client, str, vname, false);
	if (oldname != NULL) {
		str_append(str, " (\"OLDNAME\" (");
		imap_client_append_mailbox_name(client, str, oldname, false);
		str_append(str, "))");
	}
	client_send_line(client, str_c(str));
	str_free(&str);
}

enum notify_status_items {
	NS_MESSAGES = 0x01,
	NS_UIDNEXT = 0x02,
	NS_UIDVALIDITY = 0x04,
	NS_UNSEEN = 0x08,
	NS_HIGHESTMODSEQ = 0x10,
};

static void notify_send_status(struct imap_notify *notify,
			       const struct notify_box *box,
			       enum notify_status_items items, bool initial)
{
	struct imap_client *client = notify->client;
	string_t *str;

	if (items == 0 || (!initial && !notify_room(notify)))
		return;
	str = str_new(128);
	str_append(str, "* STATUS ");
	imap_client_append_mailbox_name(client, str, box->vname, false);
	str_append(str, " (");
	if ((items & NS_MESSAGES) != 0)
		str_printfa(str, "MESSAGES %u ", box->messages);
	if ((items & NS_UIDNEXT) != 0)
		str_printfa(str, "UIDNEXT %u ", box->uidnext);
	if ((items & NS_UIDVALIDITY) != 0)
		str_printfa(str, "UIDVALIDITY %u ", box->uidvalidity);
	if ((items & NS_UNSEEN) != 0)
		str_printfa(str, "UNSEEN %u ", box->unseen);
	if ((items & NS_HIGHESTMODSEQ) != 0)
		str_printfa(str, "HIGHESTMODSEQ %llu ",
			    (unsigned long long)box->highest_modseq);
	str_truncate(str, str_len(str) - 1);
	str_append_c(str, ')');
	client_send_line(client, str_c(str));
	str_free(&str);
}

/* ---- watches ---- */

static void notify_schedule(struct imap_notify *notify);

static void box_changed(void *context)
{
	struct notify_box *box = context;

	box->dirty = true;
	notify_schedule(box->notify);
}

static void list_changed(void *context)
{
	struct imap_notify *notify = context;

	notify->list_dirty = true;
	notify_schedule(notify);
}

static void selected_changed(void *context)
{
	struct imap_notify *notify = context;

	notify->selected_dirty = true;
	notify_schedule(notify);
}

static void watches_free(struct imap_notify *notify,
			 ARRAY_WATCH *watches)
{
	for (size_t i = 0; i < watches->count; i++)
		imap_watch_remove(&watches->v[i]);
	if (notify->watch_count >= watches->count)
		notify->watch_count -= (unsigned int)watches->count;
	array_free(watches);
}

/* Watch paths for callback(context); false if some couldn't be. */
static bool watches_add(struct imap_notify *notify,
			const char *const *paths,
			ARRAY_WATCH *watches,
			imap_watch_callback_t *callback, void *context)
{
	bool all = true;

	for (unsigned int i = 0; paths != NULL && paths[i] != NULL; i++) {
		struct imap_watch *w = NULL;

		if (notify->watch_count < NOTIFY_MAX_WATCHES)
			w = imap_watch_add(notify->client->loop, paths[i],
					   callback, context);
		if (w == NULL) {
			all = false;
			continue;
		}
		array_push(watches, w);
		notify->watch_count++;
	}
	return all && paths != NULL;
}

static void notify_poll(void *context);

/* Some path isn't watched: look at everything every
 * mailbox_idle_check_interval. */
static void notify_timer_start(struct imap_notify *notify)
{
	unsigned int secs = notify->client->set->mailbox_idle_check_interval;

	if (notify->poll_to == NULL && !notify->overflow) {
		notify->poll_to = timeout_add(notify->client->loop,
					      (secs == 0 ? 30 : secs) * 1000,
					      notify_poll, notify);
	}
}

static void notify_poll_start(struct imap_notify *notify)
{
	notify->poll = true;
	notify_timer_start(notify);
}

/* ---- mailbox state ---- */

static struct notify_box *box_find(struct imap_notify *notify,
				   const char *vname)
{
	for (size_t i = 0; i < notify->boxes.count; i++) {
		if (strcmp(notify->boxes.v[i]->vname, vname) == 0)
			return notify->boxes.v[i];
	}
	return NULL;
}

static void box_free(struct notify_box *box)
{
	watches_free(box->notify, &box->watches);
	i_free(box->vname);
	i_free(box);
}

static bool box_is_selected(struct imap_notify *notify, const char *vname)
{
	return notify->client->mailbox != NULL &&
		strcmp(mailbox_get_vname(notify->client->mailbox), vname) == 0;
}

/* Read the box's counts (and its GUID, watching it the first time).
 * -1 if it can't be opened. */
static int box_refresh(struct imap_notify *notify, struct notify_box *box,
		       enum notify_events events, bool *changed_r,
		       enum notify_status_items *items_r)
{
	struct imap_client *client = notify->client;
	struct mailbox *mbox;
	struct mailbox_status st;
	enum notify_status_items items = 0;
	enum mailbox_status_items want = STATUS_MESSAGES | STATUS_UIDNEXT |
		STATUS_UIDVALIDITY | STATUS_UNSEEN | STATUS_HIGHESTMODSEQ;

	*changed_r = false;
	*items_r = 0;
	if ((events & NE_MAILBOX_NAME) != 0 && box->guid[0] == '\0')
		want |= STATUS_GUID;
	mbox = mailbox_alloc(client->user, box->vname, MAILBOX_FLAG_READONLY);
	if (mailbox_get_status(mbox, want, &st) < 0) {
		mailbox_free(&mbox);
		return -1;
	}
	if ((events & NE_FLAG_CHANGE) != 0 && !mailbox_modseqs_enabled(mbox)) {
		/* as STATUS HIGHESTMODSEQ: modseqs are counted from now */
		mailbox_enable_modseqs(mbox);
		st.highest_modseq = mailbox_get_highest_modseq(mbox);
	}
	if ((want & STATUS_GUID) != 0)
		memcpy(box->guid, st.guid, sizeof(box->guid));
	if ((events & NE_MESSAGE_EVENTS) != 0 && box->watches.count == 0 &&
	    !box->polled) {
		if (!watches_add(notify, mailbox_get_notify_paths(mbox),
				 &box->watches, box_changed, box)) {
			box->polled = true;
			notify_timer_start(notify);
		}
	}
	mailbox_free(&mbox);

	if (box->have_status) {
		bool appended = st.uidnext != box->uidnext;
		bool expunged = (uint64_t)box->messages +
			(st.uidnext > box->uidnext ? st.uidnext - box->uidnext : 0) >
			st.messages;

		if (st.uidvalidity != box->uidvalidity)
			items |= NS_MESSAGES | NS_UIDNEXT | NS_UIDVALIDITY |
				NS_UNSEEN;
		if ((appended && (events & NE_MESSAGE_NEW) != 0) ||
		    (expunged && (events & NE_MESSAGE_EXPUNGE) != 0))
			items |= NS_MESSAGES | NS_UIDNEXT | NS_UNSEEN;
		if (st.unseen != box->unseen &&
		    (events & NE_FLAG_CHANGE) != 0)
			items |= NS_UNSEEN;
		if (st.highest_modseq != box->highest_modseq &&
		    (events & NE_FLAG_CHANGE) != 0)
			items |= NS_HIGHESTMODSEQ;
		*changed_r = st.uidvalidity != box->uidvalidity ||
			st.uidnext != box->uidnext ||
			st.messages != box->messages ||
			st.unseen != box->unseen ||
			st.highest_modseq != box->highest_modseq;
	}
	box->have_status = true;
	box->messages = st.messages;
	box->uidnext = st.uidnext;
	box->uidvalidity = st.uidvalidity;
	box->unseen = st.unseen;
	box->highest_modseq = st.highest_modseq;
	*items_r = items;
	return 0;
}

/* The mailboxes that exist now, with their subscription state. */
static void list_current(struct imap_notify *notify, pool_t pool,
			 ARRAY_STR *vnames, ARRAY_BOOL *subscribed)
{
	static const char *const all[] = { "*", NULL };
	struct mailbox_list_iter *iter;
	const struct mailbox_info *info;

	iter = mailbox_list_iter_init(notify->client->user, all,
				      MAILBOX_LIST_ITER_RETURN_SUBSCRIBED);
	while ((info = mailbox_list_iter_next(iter)) != NULL) {
		if ((info->flags & (MAILBOX_NONEXISTENT | MAILBOX_NOSELECT)) != 0)
			continue;
		array_push(vnames, p_strdup(pool, info->vname));
		array_push(subscribed,
			   (info->flags & MAILBOX_SUBSCRIBED) != 0);
	}
	(void)mailbox_list_iter_deinit(&iter);
}

/* Compare the mailbox list with the last one: LIST responses for
 * MailboxName and SubscriptionChange. */
static void list_check(struct imap_notify *notify, bool send)
{
	ARRAY_STR vnames = ARRAY_INIT;
	ARRAY_BOOL subscribed = ARRAY_INIT;
	ARRAY(struct notify_box *) added = ARRAY_INIT;
	enum notify_events events;
	pool_t pool = pool_create("notify list", 4096);

	list_current(notify, pool, &vnames, &subscribed);
	for (size_t i = 0; i < notify->boxes.count; i++)
		notify->boxes.v[i]->seen = false;
	for (size_t i = 0; i < vnames.count; i++) {
		struct notify_box *box = box_find(notify, vnames.v[i]);

		if (box == NULL) {
			box = i_new(struct notify_box, 1);
			box->notify = notify;
			box->vname = i_strdup(vnames.v[i]);
			box->subscribed = subscribed.v[i];
			array_push(&notify->boxes, box);
			array_push(&added, box);
		} else if (box->subscribed != subscribed.v[i]) {
			box->subscribed = subscribed.v[i];
			events = box_events(notify, box->vname, true) |
				box_events(notify, box->vname, false);
			if (send && (events & NE_SUBSCRIPTION_CHANGE) != 0)
				notify_send_list(notify, box->vname,
						 box->subscribed ?
						 "\\Subscribed" : "", NULL);
		}
		box->seen = true;
	}
	/* new ones: their GUID tells a rename from a create */
	for (size_t i = 0; i < added.count; i++) {
		struct notify_box *box = added.v[i], *old = NULL;
		enum notify_status_items items;
		bool changed;

		events = box_events(notify, box->vname, box->subscribed);
		if ((events & (NE_MESSAGE_EVENTS | NE_MAILBOX_NAME)) != 0 ||
		    notify->events & NE_MAILBOX_NAME) {
			if (box_refresh(notify, box, events | NE_MAILBOX_NAME,
					&changed, &items) < 0)
				continue;
		}
		for (size_t j = 0; j < notify->boxes.count && box->guid[0] != '\0';
		     j++) {
			struct notify_box *b = notify->boxes.v[j];

			if (!b->seen && strcmp(b->guid, box->guid) == 0) {
				old = b;
				break;
			}
		}
		if (old != NULL) {
			enum notify_events old_events =
				box_events(notify, old->vname, old->subscribed);

			if (send && ((events | old_events) & NE_MAILBOX_NAME) != 0)
				notify_send_list(notify, box->vname,
						 box->subscribed ?
						 "\\Subscribed" : "",
						 old->vname);
			old->guid[0] = '\0';	/* reported */
			old->subscribed = false;
			old->vname[0] = '\0';
		} else if (send && (events & NE_MAILBOX_NAME) != 0) {
			notify_send_list(notify, box->vname,
					 box->subscribed ? "\\Subscribed" : "",
					 NULL);
		}
	}
	/* gone */
	for (size_t i = 0; i < notify->boxes.count;) {
		struct notify_box *box = notify->boxes.v[i];

		if (box->seen) {
			i++;
			continue;
		}
		if (box->vname[0] != '\0') {
			events = box_events(notify, box->vname, box->subscribed);
			if (send && (events & NE_MAILBOX_NAME) != 0)
				notify_send_list(notify, box->vname,
						 "\\NonExistent", NULL);
		}
		box_free(box);
		notify->boxes.v[i] = notify->boxes.v[--notify->boxes.count];
	}
	array_free(&added);
	array_free(&vnames);
	array_free(&subscribed);
	pool_destroy(&pool);
}

/* Watch what the selected filter needs: the selected mailbox. */
static void selected_watch(struct imap_notify *notify)
{
	struct imap_client *client = notify->client;
	const char *vname = client->mailbox == NULL ? NULL :
		mailbox_get_vname(client->mailbox);

	if (vname != NULL && notify->selected_vname != NULL &&
	    strcmp(vname, notify->selected_vname) == 0)
		return;
	watches_free(notify, &notify->selected_watches);
	i_free(notify->selected_vname);
	notify->selected_vname = vname == NULL ? NULL : i_strdup(vname);
	if (vname == NULL || !notify->have_selected ||
	    (notify->selected_events & NE_MESSAGE_EVENTS) == 0)
		return;
	if (!watches_add(notify, mailbox_get_notify_paths(client->mailbox),
			 &notify->selected_watches, selected_changed, notify))
		notify_poll_start(notify);
}

/* Look at everything marked changed; send what the client must hear
 * when send (else just take it as known). */
static void notify_check(struct imap_notify *notify, bool send)
{
	struct imap_client *client = notify->client;

	if (notify->overflow)
		return;
	notify->batch = 0;
	selected_watch(notify);
	if (notify->list_dirty) {
		notify->list_dirty = false;
		list_check(notify, send);
	}
	for (size_t i = 0; i < notify->boxes.count; i++) {
		struct notify_box *box = notify->boxes.v[i];
		enum notify_events events;
		enum notify_status_items items;
		bool changed;

		if (!box->dirty && box->have_status)
			continue;
		box->dirty = false;
		events = box_events(notify, box->vname, box->subscribed);
		if ((events & NE_MESSAGE_EVENTS) == 0)
			continue;
		if (box_is_selected(notify, box->vname)) {
			/* told through the sync; a fresh start after */
			box->have_status = false;
			continue;
		}
		if (box_refresh(notify, box, events, &changed, &items) < 0)
			continue;
		if (send)
			notify_send_status(notify, box, items, false);
	}
	if (notify->selected_dirty && client->mailbox != NULL &&
	    (notify->selected_events & NE_MESSAGE_EVENTS) != 0 && send &&
	    (client->cmd == NULL || client->cmd->input != NULL)) {
		notify->selected_dirty = false;
		/* selected-delayed: expunges wait for a command (or IDLE) */
		imap_sync(client, notify->selected_delayed &&
			  client->cmd == NULL);
	}
	if (notify->overflow) {
		client_send_line(client, "* OK [NOTIFICATIONOVERFLOW] "
				 "Too many mailbox changes");
		/* as NOTIFY NONE from now on (RFC 5465 5.8) */
		timeout_remove(&notify->delay_to);
		timeout_remove(&notify->poll_to);
		watches_free(notify, &notify->list_watches);
		watches_free(notify, &notify->selected_watches);
		for (size_t i = 0; i < notify->boxes.count; i++)
			watches_free(notify, &notify->boxes.v[i]->watches);
	}
}

static void notify_run(struct imap_notify *notify)
{
	struct imap_client *client = notify->client;

	/* between commands, or while IDLE; else before the running
	   command's tagged reply */
	if (client->cmd != NULL && (client->cmd->command == NULL ||
				    strcmp(client->cmd->command->name,
					   "IDLE") != 0)) {
		notify->pending = true;
		return;
	}
	client_set_log_prefix(client);
	if (client->conn != NULL)
		connection_cork(client->conn, true);
	notify_check(notify, true);
	if (client->conn != NULL)
		connection_cork(client->conn, false);
}

static void notify_delayed(void *context)
{
	struct imap_notify *notify = context;

	timeout_remove(&notify->delay_to);
	notify_run(notify);
}

static void notify_schedule(struct imap_notify *notify)
{
	if (notify->delay_to == NULL && !notify->overflow) {
		notify->delay_to = timeout_add(notify->client->loop,
					       NOTIFY_DELAY_MSECS,
					       notify_delayed, notify);
	}
}

static void notify_poll(void *context)
{
	struct imap_notify *notify = context;

	/* the list always (mailboxes deeper than the watched directories
	   in fs layouts and mbox), the rest where a watch is missing */
	notify->list_dirty = true;
	if (notify->poll)
		notify->selected_dirty = true;
	for (size_t i = 0; i < notify->boxes.count; i++) {
		struct notify_box *box = notify->boxes.v[i];

		if (notify->poll || box->polled)
			box->dirty = true;
	}
	notify_run(notify);
}

/* ---- hooks for the session ---- */

void imap_notify_free(struct imap_client *client)
{
	struct imap_notify *notify = client->notify;

	if (notify == NULL)
		return;
	client->notify = NULL;
	timeout_remove(&notify->delay_to);
	timeout_remove(&notify->poll_to);
	for (size_t i = 0; i < notify->boxes.count; i++)
		box_free(notify->boxes.v[i]);
	array_free(&notify->boxes);
	watches_free(notify, &notify->list_watches);
	watches_free(notify, &notify->selected_watches);
	for (size_t i = 0; i < notify->filters.count; i++)
		array_free(&notify->filters.v[i].names);
	array_free(&notify->filters);
	if (notify->have_fetch)
		imap_fetch_request_free(&notify->fetch);
	i_free(notify->selected_vname);
	pool_destroy(&notify->pool);
	i_free(notify);
}

void imap_notify_command_end(struct imap_client *client)
{
	struct imap_notify *notify = client->notify;

	if (notify == NULL || notify->overflow)
		return;
	/* SELECT, CLOSE...: watch the mailbox selected now */
	selected_watch(notify);
	if (!notify->pending)
		return;
	notify->pending = false;
	notify_check(notify, true);
}

bool imap_notify_hides_new_mail(struct imap_client *client)
{
	/* NOTIFY without a selected filter: nothing about the selected
	   mailbox's new mail, as Dovecot */
	return client->notify != NULL && !client->notify->overflow &&
		(!client->notify->have_selected ||
		 (client->notify->selected_events & NE_MESSAGE_NEW) == 0);
}

void imap_notify_new_messages(struct imap_client *client, uint32_t first_seq,
			      uint32_t last_seq)
{
	struct imap_notify *notify = client->notify;
	string_t *str;

	if (notify == NULL || !notify->have_fetch || notify->overflow ||
	    client->mailbox == NULL)
		return;
	str = str_new(128);
	for (uint32_t seq = first_seq; seq <= last_seq; seq++) {
		struct mail *mail = mail_alloc(client->mailbox);
		bool first = true;

		mail_set_seq(mail, seq);
		str_truncate(str, 0);
		str_printfa(str, "* %u FETCH (", seq);
		for (size_t i = 0; i < notify->fetch.items.count; i++) {
			const struct imap_fetch_item *item =
				&notify->fetch.items.v[i];
			uint64_t size;
			time_t t;
			struct tm tm;

			if (!first)
				str_append_c(str, ' ');
			first = false;
			str_append(str, item->name);
			str_append_c(str, ' ');
			switch (item->type) {
			case IMAP_FETCH_UID:
				str_printfa(str, "%u", mailbox_seq_to_uid(client->mailbox, seq));
				break;
			case IMAP_FETCH_FLAGS:
				str_append_c(str, '(');
				imap_write_flags(str, imap_client_flags(client,
						 mail_get_flags(mail)),
						 mail_get_keywords(mail));
				str_append_c(str, ')');
				break;
			case IMAP_FETCH_MODSEQ:
				str_printfa(str, "(%llu)", (unsigned long long)
					    mail_get_modseq(mail));
				break;
			case IMAP_FETCH_RFC822_SIZE:
				if (mail_get_virtual_size(mail, &size) < 0)
					size = 0;
				str_printfa(str, "%llu", (unsigned long long)size);
				break;
			case IMAP_FETCH_INTERNALDATE:
				if (mail_get_received_date(mail, &t) < 0)
					t = 0;
				localtime_r(&t, &tm);
				imap_append_datetime(str, t,
						     (int)(tm.tm_gmtoff / 60));
				break;
			default:
				/* refused by NOTIFY SET */
				i_unreached();
			}
		}
		str_append_c(str, ')');
		client_send_line(client, str_c(str));
		mail_free(&mail);
	}
	str_free(&str);
}

/* ---- the command ---- */

/* BAD "Invalid arguments"; false: the parse failed */
static bool notify_bad_args(struct client_command_context *cmd)
{
	(void)cmd_bad_args(cmd);
	return false;
}

static bool parse_event(const char *atom, enum notify_events *event_r)
{
	for (unsigned int i = 0; i < N_ELEMENTS(event_names); i++) {
		if (strcasecmp(atom, event_names[i]) == 0) {
			*event_r = 1U << i;
			return true;
		}
	}
	return false;
}

/* The fetch-att after MessageNew: Dovecot's grammar (a non-empty list,
 * no macros), then the items Roost sends with new mail. */
static bool parse_fetch_att(struct client_command_context *cmd,
			    struct imap_notify *notify,
			    const struct imap_arg *arg)
{
	const struct imap_arg *list;
	const char *atom, *error;

	if (!imap_arg_get_list(arg, &list) || imap_arg_is_eol(list))
		return notify_bad_args(cmd);
	for (const struct imap_arg *a = list; !imap_arg_is_eol(a); a++) {
		if (imap_arg_get_atom(a, &atom) &&
		    (strcasecmp(atom, "ALL") == 0 ||
		     strcasecmp(atom, "FAST") == 0 ||
		     strcasecmp(atom, "FULL") == 0)) {
			char *upper = i_strdup(atom), *text;

			for (char *p = upper; *p != '\0'; p++)
				*p = (char)toupper((unsigned char)*p);
			text = i_strdup_printf("Error in IMAP command NOTIFY: "
					       "Invalid fetch-att list: "
					       "Unknown parameter: %s", upper);
			i_free(upper);
			cmd_bad(cmd, text);
			i_free(text);
			return false;
		}
	}
	if (notify->have_fetch) {
		imap_fetch_request_free(&notify->fetch);
		notify->have_fetch = false;
	}
	if (imap_fetch_parse(notify->pool, arg, false, &notify->fetch,
			     &error) < 0) {
		char *text = i_strdup_printf("Error in IMAP command NOTIFY: "
					     "Invalid fetch-att list: %s", error);
		cmd_bad(cmd, text);
		i_free(text);
		return false;
	}
	notify->have_fetch = true;
	for (size_t i = 0; i < notify->fetch.items.count; i++) {
		const struct imap_fetch_item *item = &notify->fetch.items.v[i];

		switch (item->type) {
		case IMAP_FETCH_UID:
		case IMAP_FETCH_FLAGS:
		case IMAP_FETCH_MODSEQ:
		case IMAP_FETCH_RFC822_SIZE:
		case IMAP_FETCH_INTERNALDATE:
			break;
		default: {
			char *text = i_strdup_printf(
				"[CANNOT] NOTIFY can't send %s with new "
				"messages (UID FLAGS MODSEQ INTERNALDATE "
				"RFC822.SIZE can be)", item->name);
			cmd_no(cmd, text);
			i_free(text);
			return false;
		}
		}
	}
	return true;
}

/* One (filter events) list; false with the reply set. */
static bool parse_filter(struct client_command_context *cmd,
			 struct imap_notify *notify, const struct imap_arg *arg,
			 enum notify_events *bad_events)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *list, *events_list;
	struct notify_filter filter;
	const char *atom;
	unsigned int type;

	memset(&filter, 0, sizeof(filter));
	if (!imap_arg_get_list(arg, &list) || !imap_arg_get_atom(list, &atom))
		return notify_bad_args(cmd);
	for (type = 0; type < N_ELEMENTS(filter_names); type++) {
		if (strcasecmp(atom, filter_names[type]) == 0)
			break;
	}
	if (type == N_ELEMENTS(filter_names))
		return notify_bad_args(cmd);
	filter.type = (enum notify_filter_type)type;
	list++;
	if (filter.type == NF_SUBTREE || filter.type == NF_MAILBOXES) {
		const struct imap_arg *names;
		const char *name, *vname, *error;
		unsigned int count = 0;

		if (imap_arg_get_list(list, &names)) {
			for (; !imap_arg_is_eol(names); names++, count++) {
				if (!imap_arg_get_astring(names, &name))
					break;
				vname = imap_mailbox_name_decode(client, name,
								 &error);
				if (vname == NULL)
					continue; /* never matches */
				array_push(&filter.names,
					   p_strdup(notify->pool, vname));
			}
			if (!imap_arg_is_eol(names) || count == 0) {
				array_free(&filter.names);
				return notify_bad_args(cmd);
			}
		} else if (imap_arg_get_astring(list, &name)) {
			vname = imap_mailbox_name_decode(client, name, &error);
			if (vname != NULL)
				array_push(&filter.names,
					   p_strdup(notify->pool, vname));
		} else {
			return notify_bad_args(cmd);
		}
		list++;
	}
	if (imap_arg_get_atom(list, &atom) && strcasecmp(atom, "NONE") == 0) {
		filter.events = 0;
	} else if (imap_arg_get_list(list, &events_list) &&
		   !imap_arg_is_eol(events_list)) {
		for (; !imap_arg_is_eol(events_list); events_list++) {
			enum notify_events ev;

			if (!imap_arg_get_atom(events_list, &atom) ||
			    !parse_event(atom, &ev)) {
				array_free(&filter.names);
				return notify_bad_args(cmd);
			}
			filter.events |= ev;
			if (ev == NE_MESSAGE_NEW &&
			    events_list[1].type == IMAP_ARG_LIST) {
				if (filter.type != NF_SELECTED &&
				    filter.type != NF_SELECTED_DELAYED) {
					array_free(&filter.names);
					return notify_bad_args(cmd);
				}
				events_list++;
				if (!parse_fetch_att(cmd, notify, events_list)) {
					array_free(&filter.names);
					return false;
				}
			}
		}
	} else {
		array_free(&filter.names);
		return notify_bad_args(cmd);
	}
	list++;
	if (!imap_arg_is_eol(list)) {
		array_free(&filter.names);
		return notify_bad_args(cmd);
	}
	*bad_events |= filter.events & NE_UNSUPPORTED;
	if (filter.type == NF_SELECTED || filter.type == NF_SELECTED_DELAYED) {
		enum notify_events msg = filter.events &
			(NE_MESSAGE_NEW | NE_MESSAGE_EXPUNGE);

		array_free(&filter.names);
		if (notify->have_selected) {
			cmd_bad(cmd, "Error in IMAP command NOTIFY: "
				"Duplicate selected filter");
			return false;
		}
		if ((filter.events & NE_FLAG_CHANGE) != 0 &&
		    msg != (NE_MESSAGE_NEW | NE_MESSAGE_EXPUNGE)) {
			cmd_bad(cmd, "Error in IMAP command NOTIFY: "
				"FlagChange requires MessageNew and "
				"MessageExpunge");
			return false;
		}
		if (msg != 0 && msg != (NE_MESSAGE_NEW | NE_MESSAGE_EXPUNGE)) {
			cmd_bad(cmd, "Error in IMAP command NOTIFY: "
				"MessageNew and MessageExpunge must be "
				"together");
			return false;
		}
		notify->have_selected = true;
		notify->selected_delayed = filter.type == NF_SELECTED_DELAYED;
		notify->selected_events = filter.events;
		return true;
	}
	notify->events |= filter.events;
	array_push(&notify->filters, filter);
	return true;
}

bool cmd_notify(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *args = cmd->args;
	struct imap_notify *notify;
	enum notify_events bad_events = 0;
	const char *atom;
	bool status = false;

	if (!imap_arg_get_atom(args, &atom))
		return cmd_bad_args(cmd);
	if (strcasecmp(atom, "NONE") == 0) {
		/* whatever follows, as Dovecot */
		imap_notify_free(client);
		return cmd_ok(cmd, "NOTIFY completed");
	}
	if (strcasecmp(atom, "SET") != 0)
		return cmd_bad_args(cmd);
	args++;
	if (imap_arg_get_atom(args, &atom) && strcasecmp(atom, "STATUS") == 0) {
		status = true;
		args++;
	}
	notify = i_new(struct imap_notify, 1);
	notify->client = client;
	notify->pool = pool_create("imap notify", 1024);
	for (; !imap_arg_is_eol(args); args++) {
		if (!parse_filter(cmd, notify, args, &bad_events)) {
			struct imap_notify *old = client->notify;

			client->notify = notify;
			imap_notify_free(client);
			client->notify = old;
			return true;
		}
	}
	if (bad_events != 0) {
		string_t *str = str_new(128);
		struct imap_notify *old = client->notify;

		str_append(str, "[BADEVENT");
		for (unsigned int i = 0; i < N_ELEMENTS(event_names); i++) {
			if ((bad_events & (1U << i)) != 0)
				str_printfa(str, " %s", event_names[i]);
		}
		str_append(str, "] Unsupported NOTIFY events");
		cmd_no(cmd, str_c(str));
		str_free(&str);
		client->notify = notify;
		imap_notify_free(client);
		client->notify = old;
		return true;
	}
	imap_notify_free(client);
	client->notify = notify;
	if (((notify->events | notify->selected_events) & NE_FLAG_CHANGE) != 0)
		imap_condstore_enable(client, IMAP_ENABLED_CONDSTORE);

	/* the starting point: the mailboxes and their counts, sent with
	   STATUS */
	{
		const char *const *paths =
			mail_user_get_list_notify_paths(client->user,
							notify->pool);

		if ((notify->events & ~NE_UNSUPPORTED) != 0 &&
		    !watches_add(notify, paths, &notify->list_watches,
				 list_changed, notify))
			notify_poll_start(notify);
		if ((notify->events &
		     (NE_MAILBOX_NAME | NE_SUBSCRIPTION_CHANGE)) != 0)
			notify_timer_start(notify);
		list_check(notify, false);
		/* as Dovecot: STATUS for every mailbox a filter names, with
		   the items of all the filters' events together */
		for (size_t i = 0; status &&
		     (notify->events & NE_MESSAGE_EVENTS) != 0 &&
		     i < notify->boxes.count; i++) {
			struct notify_box *box = notify->boxes.v[i];
			enum notify_status_items items;
			bool changed;

			if (!box_matches(notify, box) ||
			    box_is_selected(notify, box->vname))
				continue;
			if (!box->have_status &&
			    box_refresh(notify, box, notify->events, &changed,
					&items) < 0)
				continue;
			items = NS_MESSAGES | NS_UIDNEXT | NS_UIDVALIDITY |
				NS_UNSEEN;
			if ((notify->events & NE_FLAG_CHANGE) != 0)
				items |= NS_HIGHESTMODSEQ;
			notify_send_status(notify, box, items, true);
		}
		selected_watch(notify);
	}
	return cmd_ok(cmd, "NOTIFY completed");
}

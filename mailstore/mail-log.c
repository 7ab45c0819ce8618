/* mail-log.c - the mail_log plugin (mail_plugins = notify mail_log):
 * one Info line per mail event, as Dovecot 2.3 writes them:
 *
 *   save: box=INBOX, uid=1, msgid=<abc@x>, size=75
 *   copy from INBOX: box=Foo, uid=3, msgid=<abc@x>, size=75
 *   expunge: / delete: / undelete: / flag_change: box=..., ...
 *   Mailbox created: Foo / Mailbox deleted: Bar / Mailbox renamed: Foo -> Bar
 *
 * plugin { mail_log_events } picks the events (default: delete undelete
 * expunge save copy mailbox_delete mailbox_rename), mail_log_fields the
 * fields (default: uid box msgid size), always printed in Dovecot's
 * order: box uid msgid size vsize from subject flags. From and Subject
 * are RFC 2047 decoded. */
#include "mail-log.h"
#include "mail-plugins.h"
#include "message-header.h"
#include "settings-structs.h"

#include <inttypes.h>

enum mail_log_field {
	FIELD_UID = 0x01,
	FIELD_BOX = 0x02,
	FIELD_MSGID = 0x04,
	FIELD_SIZE = 0x08,
	FIELD_VSIZE = 0x10,
	FIELD_FLAGS = 0x20,
	FIELD_FROM = 0x40,
	FIELD_SUBJECT = 0x80,
};

static const struct {
	const char *name;
	unsigned int bit;
} event_names[] = {
	{ "delete", MAIL_LOG_EVENT_DELETE },
	{ "undelete", MAIL_LOG_EVENT_UNDELETE },
	{ "expunge", MAIL_LOG_EVENT_EXPUNGE },
	{ "save", MAIL_LOG_EVENT_SAVE },
	{ "copy", MAIL_LOG_EVENT_COPY },
	{ "mailbox_create", MAIL_LOG_EVENT_MAILBOX_CREATE },
	{ "mailbox_delete", MAIL_LOG_EVENT_MAILBOX_DELETE },
	{ "mailbox_rename", MAIL_LOG_EVENT_MAILBOX_RENAME },
	{ "flag_change", MAIL_LOG_EVENT_FLAG_CHANGE },
}, field_names[] = {
	{ "uid", FIELD_UID }, { "box", FIELD_BOX }, { "msgid", FIELD_MSGID },
	{ "size", FIELD_SIZE }, { "vsize", FIELD_VSIZE },
	{ "flags", FIELD_FLAGS }, { "from", FIELD_FROM },
	{ "subject", FIELD_SUBJECT },
};

#define DEFAULT_EVENTS (MAIL_LOG_EVENT_DELETE | MAIL_LOG_EVENT_UNDELETE | \
	MAIL_LOG_EVENT_EXPUNGE | MAIL_LOG_EVENT_SAVE | MAIL_LOG_EVENT_COPY | \
	MAIL_LOG_EVENT_MAILBOX_DELETE | MAIL_LOG_EVENT_MAILBOX_RENAME)
#define DEFAULT_FIELDS (FIELD_UID | FIELD_BOX | FIELD_MSGID | FIELD_SIZE)

static const char *plugin_get(const struct settings_root *set,
			      const char *key)
{
	for (unsigned int i = 0; i < set->plugin_count; i++) {
		if (strcmp(set->plugin[i * 2], key) == 0)
			return set->plugin[i * 2 + 1];
	}
	return NULL;
}

static unsigned int parse_words(const char *value, const char *setting,
				bool events)
{
	unsigned int mask = 0;
	char word[64];

	while (value != NULL && *value != '\0') {
		size_t len = strcspn(value, " ,");
		bool found = false;

		if (len > 0 && len < sizeof(word)) {
			memcpy(word, value, len);
			word[len] = '\0';
			for (size_t i = 0; !found && i < (events ?
				N_ELEMENTS(event_names) :
				N_ELEMENTS(field_names)); i++) {
				const char *name = events ?
					event_names[i].name :
					field_names[i].name;

				if (strcmp(name, word) == 0) {
					mask |= events ? event_names[i].bit :
						field_names[i].bit;
					found = true;
				}
			}
			/* the 2.3 names for what Roost reports as these */
			if (!found && events &&
			    (strcmp(word, "append") == 0 ||
			     strcmp(word, "flag-change") == 0))
				found = true;
			if (!found)
				i_error("mail_log: Unknown %s in %s: %s",
					events ? "event" : "field", setting,
					word);
		}
		value += len;
		value += strspn(value, " ,");
	}
	return mask;
}

static unsigned int mail_log_fields(const struct mail_user *user)
{
	const char *v = plugin_get(user->set, "mail_log_fields");

	return v == NULL ? DEFAULT_FIELDS :
		parse_words(v, "mail_log_fields", false);
}

bool mail_log_enabled(const struct mail_user *user, unsigned int event)
{
	const char *v;
	unsigned int events;

	if (!mail_plugins_has(user->set->mail_plugins, "mail_log"))
		return false;
	v = plugin_get(user->set, "mail_log_events");
	events = v == NULL ? DEFAULT_EVENTS :
		parse_words(v, "mail_log_events", true);
	return (events & event) != 0;
}

static void append_header(string_t *str, struct mail *mail, const char *name)
{
	const char *value;

	if (mail_get_first_header(mail, name, &value) < 0 || value == NULL)
		return;
	(void)message_header_decode_utf8(value, strlen(value), str);
}

static void append_flags(string_t *str, enum mail_flags flags,
			 const char *const *keywords)
{
	static const struct {
		enum mail_flags flag;
		const char *name;
	} names[] = {
		{ MAIL_ANSWERED, "\\Answered" }, { MAIL_FLAGGED, "\\Flagged" },
		{ MAIL_DELETED, "\\Deleted" }, { MAIL_SEEN, "\\Seen" },
		{ MAIL_DRAFT, "\\Draft" }, { MAIL_RECENT, "\\Recent" },
	};
	bool first = true;

	str_append_c(str, '(');
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		if ((flags & names[i].flag) == 0)
			continue;
		if (!first)
			str_append_c(str, ' ');
		str_append(str, names[i].name);
		first = false;
	}
	for (unsigned int i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		if (!first)
			str_append_c(str, ' ');
		str_append(str, keywords[i]);
		first = false;
	}
	str_append_c(str, ')');
}

char *mail_log_format(struct mail *mail, const char *event_text,
		      bool strip_recent)
{
	struct mail_user *user = mailbox_get_user(mail->box);
	unsigned int fields = mail_log_fields(user);
	string_t *str = str_new(256);
	uint64_t size;

	str_append(str, event_text);
	str_append(str, ": ");
	if ((fields & FIELD_BOX) != 0)
		str_printfa(str, "box=%s, ", mailbox_get_vname(mail->box));
	if ((fields & FIELD_UID) != 0)
		str_printfa(str, "uid=%u, ", mail->uid);
	if ((fields & FIELD_MSGID) != 0) {
		str_append(str, "msgid=");
		append_header(str, mail, "Message-ID");
		str_append(str, ", ");
	}
	if ((fields & FIELD_SIZE) != 0 &&
	    mail_get_physical_size(mail, &size) == 0)
		str_printfa(str, "size=%" PRIu64 ", ", size);
	if ((fields & FIELD_VSIZE) != 0 &&
	    mail_get_virtual_size(mail, &size) == 0)
		str_printfa(str, "vsize=%" PRIu64 ", ", size);
	if ((fields & FIELD_FROM) != 0) {
		str_append(str, "from=");
		append_header(str, mail, "From");
		str_append(str, ", ");
	}
	if ((fields & FIELD_SUBJECT) != 0) {
		str_append(str, "subject=");
		append_header(str, mail, "Subject");
		str_append(str, ", ");
	}
	if ((fields & FIELD_FLAGS) != 0) {
		str_append(str, "flags=");
		append_flags(str, mail_get_flags(mail) &
			     (strip_recent ? ~(unsigned int)MAIL_RECENT : ~0U),
			     mail_get_keywords(mail));
		str_append(str, ", ");
	}
	str_truncate(str, str_len(str) - 2);
	return str_free_without_data(&str);
}

void mail_log_saved(struct mailbox *box, const uint32_t *uids,
		    const char *const *copied_from, unsigned int count)
{
	struct mail_user *user = mailbox_get_user(box);
	bool log_save = mail_log_enabled(user, MAIL_LOG_EVENT_SAVE);
	bool log_copy = mail_log_enabled(user, MAIL_LOG_EVENT_COPY);
	struct mailbox *view;
	struct mail *mail;

	if ((!log_save && !log_copy) || count == 0)
		return;
	/* a fresh view sees the new messages as they were stored */
	view = mailbox_alloc(user, mailbox_get_vname(box),
			     MAILBOX_FLAG_READONLY);
	if (mailbox_open(view) < 0) {
		mailbox_free(&view);
		return;
	}
	mail = mail_alloc(view);
	for (unsigned int i = 0; i < count; i++) {
		bool copy = copied_from[i] != NULL;

		if ((copy ? !log_copy : !log_save) ||
		    !mail_set_uid(mail, uids[i]))
			continue;
		char *text = copy ? i_strdup_printf("copy from %s",
						    copied_from[i]) : NULL;
		char *line = mail_log_format(mail, copy ? text : "save", true);

		i_info("%s", line);
		i_free(line);
		i_free(text);
	}
	mail_free(&mail);
	mailbox_free(&view);
}

void mail_log_mailbox(struct mail_user *user, unsigned int event,
		      const char *vname, const char *new_vname)
{
	if (!mail_log_enabled(user, event))
		return;
	switch (event) {
	case MAIL_LOG_EVENT_MAILBOX_CREATE:
		i_info("Mailbox created: %s", vname);
		break;
	case MAIL_LOG_EVENT_MAILBOX_DELETE:
		i_info("Mailbox deleted: %s", vname);
		break;
	case MAIL_LOG_EVENT_MAILBOX_RENAME:
		i_info("Mailbox renamed: %s -> %s", vname, new_vname);
		break;
	}
}

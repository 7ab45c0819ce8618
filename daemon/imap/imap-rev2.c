/* imap-rev2.c - IMAP4rev2 and OBJECTID helpers (see imap-rev2.h). */
#include "imap-rev2.h"
#include "imap-quote.h"
#include "mail-objectid.h"

void imap_rev2_send_select_list(struct imap_client *client, const char *vname)
{
	struct mail_namespace *ns = mail_namespace_find(client->user, vname);
	char sep[2] = { ns == NULL ? '/' : ns->sep, '\0' };
	string_t *str = str_new(128);

	/* RFC 9051 6.3.2: the mailbox's LIST response (its name as the
	   server spells it) */
	str_append(str, "* LIST () ");
	imap_append_quoted(str, sep);
	str_append_c(str, ' ');
	imap_client_append_mailbox_name(client, str, vname, false);
	client_send_line(client, str_c(str));
	str_free(&str);
}

const char *imap_objectid_emailid(pool_t pool, struct mail *mail)
{
	return mail_objectid_emailid(pool, mail);
}

const char *imap_objectid_threadid(pool_t pool, struct mail *mail)
{
	return mail_objectid_threadid(pool, mail);
}

const char *imap_objectid_mailboxid(pool_t pool, struct mailbox *box)
{
	struct mailbox_status status;

	if (mailbox_get_status(box, STATUS_GUID, &status) < 0 ||
	    status.guid[0] == '\0')
		return NULL;
	return p_strdup_printf(pool, "F%s", status.guid);
}

/* imap-rev2.c - IMAP4rev2 and OBJECTID helpers (see imap-rev2.h). */
#include "imap-rev2.h"
#include "imap-quote.h"

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

/* 64-bit FNV-1a of size bytes, starting from seed */
static uint64_t fnv1a(const unsigned char *data, size_t size, uint64_t seed)
{
	uint64_t h = seed;

	for (size_t i = 0; i < size; i++) {
		h ^= data[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

const char *imap_objectid_emailid(pool_t pool, struct mail *mail)
{
	const unsigned char *data;
	size_t size;

	/* the id of the message's (immutable) content: the same after
	   MOVE, COPY and restarts */
	if (mail_get_stream(mail, &data, &size) < 0)
		return NULL;
	return p_strdup_printf(pool, "M%016llx%08llx",
		(unsigned long long)fnv1a(data, size, 0xcbf29ce484222325ULL),
		(unsigned long long)(fnv1a(data, size, 0x84222325cbf29ce4ULL ^
					   size) & 0xffffffffULL));
}

const char *imap_objectid_mailboxid(pool_t pool, struct mailbox *box)
{
	struct mailbox_status status;

	if (mailbox_get_status(box, STATUS_GUID, &status) < 0 ||
	    status.guid[0] == '\0')
		return NULL;
	return p_strdup_printf(pool, "F%s", status.guid);
}

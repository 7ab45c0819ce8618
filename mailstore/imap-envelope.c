/* imap-envelope.c - ENVELOPE output. */
#include "imap-envelope.h"
#include "imap-quote.h"
#include "message-part-data.h"

static void write_name(string_t *str, const char *name)
{
	if (name == NULL)
		str_append(str, "NIL");
	else
		imap_append_string_for_humans(str, name, strlen(name));
}

void imap_envelope_write_addresses(const struct message_address *addr,
				   string_t *str)
{
	if (addr == NULL) {
		str_append(str, "NIL");
		return;
	}
	str_append_c(str, '(');
	for (; addr != NULL; addr = addr->next) {
		str_append_c(str, '(');
		write_name(str, addr->name);
		str_append_c(str, ' ');
		imap_append_nstring_nolf(str, addr->route);
		str_append_c(str, ' ');
		imap_append_nstring_nolf(str, addr->mailbox);
		str_append_c(str, ' ');
		imap_append_nstring_nolf(str, addr->domain);
		str_append_c(str, ')');
	}
	str_append_c(str, ')');
}

void imap_envelope_write(const struct message_part_envelope *env,
			 string_t *str)
{
	if (env == NULL) {
		str_append(str, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
		return;
	}
	str_append_c(str, '(');
	imap_append_nstring_nolf(str, env->date);
	str_append_c(str, ' ');
	write_name(str, env->subject);
	str_append_c(str, ' ');
	imap_envelope_write_addresses(env->from, str);
	str_append_c(str, ' ');
	imap_envelope_write_addresses(env->sender != NULL ? env->sender :
				      env->from, str);
	str_append_c(str, ' ');
	imap_envelope_write_addresses(env->reply_to != NULL ? env->reply_to :
				      env->from, str);
	str_append_c(str, ' ');
	imap_envelope_write_addresses(env->to, str);
	str_append_c(str, ' ');
	imap_envelope_write_addresses(env->cc, str);
	str_append_c(str, ' ');
	imap_envelope_write_addresses(env->bcc, str);
	str_append_c(str, ' ');
	imap_append_nstring_nolf(str, env->in_reply_to);
	str_append_c(str, ' ');
	imap_append_nstring_nolf(str, env->message_id);
	str_append_c(str, ')');
}

void imap_envelope_write_header(const void *hdr, size_t hdr_size,
				string_t *str)
{
	pool_t pool = pool_create("envelope", 1024);
	struct message_part_envelope *env = NULL;
	struct message_header_iter iter;
	struct message_header_line line;

	message_header_iter_init(&iter, hdr, hdr_size);
	while (message_header_iter_next(&iter, &line))
		message_part_envelope_add_header(pool, &env, &line);
	imap_envelope_write(env, str);
	pool_destroy(&pool);
}

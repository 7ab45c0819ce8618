/* imap-condstore.c - CONDSTORE and QRESYNC (RFC 7162): enabling them
 * (explicitly with ENABLE or SELECT parameters, implicitly by the
 * commands that use modseqs), the SELECT/EXAMINE parameters with
 * Dovecot's error texts, and VANISHED replies. Modseqs themselves are
 * the storage's (mailstore/mail-modseq.c numbers them as Dovecot does). */
#include "imap-condstore.h"

#include <stdlib.h>
#include <strings.h>

void imap_condstore_enable(struct imap_client *client,
			   enum imap_client_enabled features)
{
	bool was_on = (client->enabled & IMAP_ENABLED_CONDSTORE) != 0;

	if ((features & IMAP_ENABLED_QRESYNC) != 0) {
		features |= IMAP_ENABLED_CONDSTORE;
		if ((client->enabled & IMAP_ENABLED_QRESYNC) == 0 &&
		    client->mailbox != NULL) {
			/* what the client knows from now on */
			client->sync_last_full_modseq =
				mailbox_get_highest_modseq(client->mailbox);
		}
	}
	client->enabled |= features;
	if (was_on || client->mailbox == NULL)
		return;
	mailbox_enable_modseqs(client->mailbox);
	client_send_linef(client, "* OK [HIGHESTMODSEQ %llu] Highest",
			  (unsigned long long)
			  mailbox_get_highest_modseq(client->mailbox));
}

void imap_condstore_sent_modseq(struct imap_client *client, uint64_t modseq)
{
	if (client->highest_fetch_modseq < modseq)
		client->highest_fetch_modseq = modseq;
}

void imap_condstore_sync_end(struct imap_client *client, bool no_expunges)
{
	struct client_command_context *cmd = client->cmd;
	uint64_t highest = mailbox_get_highest_modseq(client->mailbox);
	bool delayed = no_expunges &&
		mailbox_has_hidden_expunges(client->mailbox);
	uint64_t send = 0;

	if ((client->enabled & IMAP_ENABLED_QRESYNC) == 0)
		return;
	if (delayed &&
	    client->highest_fetch_modseq > client->sync_last_full_modseq) {
		/* a client taking the highest MODSEQ it saw would lose the
		   expunges not sent yet: a lower value */
		send = client->sync_last_full_modseq;
	} else if (!delayed && highest > client->sync_last_full_modseq &&
		   highest > client->highest_fetch_modseq) {
		send = highest;
	}
	if (send == 0) {
		/* nothing to tell */
	} else if (cmd != NULL && cmd->reply_status != NULL &&
		   strcmp(cmd->reply_status, "OK") == 0 &&
		   cmd->reply_text != NULL && cmd->reply_text[0] != '[') {
		cmd->reply_text = p_strdup_printf(cmd->pool,
			"[HIGHESTMODSEQ %llu] %s", (unsigned long long)send,
			cmd->reply_text);
	} else {
		client_send_linef(client, "* OK [HIGHESTMODSEQ %llu] Highest",
				  (unsigned long long)send);
	}
	if (!delayed)
		client->sync_last_full_modseq = highest;
	client->highest_fetch_modseq = 0;
}

bool imap_parse_modseq(const char *str, uint64_t *modseq_r)
{
	uint64_t n = 0;

	if (*str == '\0')
		return false;
	for (; *str != '\0'; str++) {
		if (*str < '0' || *str > '9' || n > (INT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*str - '0');
	}
	*modseq_r = n;
	return true;
}

void imap_write_uid_pairs(string_t *dest, const uint32_t *pairs,
			  size_t count)
{
	bool first_out = true;

	for (size_t i = 0; i + 1 < count; i += 2) {
		uint32_t first = pairs[i], last = pairs[i + 1];

		/* adjacent pairs join */
		while (i + 3 < count && last != UINT32_MAX &&
		       pairs[i + 2] == last + 1) {
			last = pairs[i + 3];
			i += 2;
		}
		if (!first_out)
			str_append_c(dest, ',');
		first_out = false;
		if (first == last)
			str_printfa(dest, "%u", first);
		else
			str_printfa(dest, "%u:%u", first, last);
	}
}

static int u32_cmp(const void *p1, const void *p2)
{
	uint32_t a = *(const uint32_t *)p1, b = *(const uint32_t *)p2;

	return a < b ? -1 : a > b ? 1 : 0;
}

/* Sort (first, last) pairs by first and merge overlaps. */
static void pairs_normalize(ARRAY_U32 *pairs)
{
	size_t n = 0;

	qsort(pairs->v, pairs->count / 2, 2 * sizeof(uint32_t), u32_cmp);
	for (size_t i = 0; i + 1 < pairs->count; i += 2) {
		if (n > 0 && (pairs->v[n - 1] == UINT32_MAX ||
			      pairs->v[i] <= pairs->v[n - 1] + 1)) {
			pairs->v[n - 1] = MAX(pairs->v[n - 1], pairs->v[i + 1]);
			continue;
		}
		pairs->v[n++] = pairs->v[i];
		pairs->v[n++] = pairs->v[i + 1];
	}
	pairs->count = n;
}

/* The intersection of two normalized pair lists. */
static void pairs_intersect(const ARRAY_U32 *a, const ARRAY_U32 *b,
			    ARRAY_U32 *dest)
{
	size_t i = 0, j = 0;

	while (i < a->count && j < b->count) {
		uint32_t lo = MAX(a->v[i], b->v[j]);
		uint32_t hi = MIN(a->v[i + 1], b->v[j + 1]);

		if (lo <= hi) {
			array_push(dest, lo);
			array_push(dest, hi);
		}
		if (a->v[i + 1] < b->v[j + 1])
			i += 2;
		else
			j += 2;
	}
}

void imap_send_vanished_earlier(struct imap_client *client, uint64_t since,
				const ARRAY_U32 *within)
{
	ARRAY_U32 gone = ARRAY_INIT, sel = ARRAY_INIT;
	const ARRAY_U32 *out = &gone;
	string_t *str;

	mailbox_get_expunged_since(client->mailbox, since, &gone);
	if (within != NULL && within->count > 0) {
		ARRAY_U32 w = ARRAY_INIT;

		for (size_t i = 0; i < within->count; i++)
			array_push(&w, within->v[i]);
		pairs_normalize(&w);
		pairs_intersect(&gone, &w, &sel);
		array_free(&w);
		out = &sel;
	}
	if (out->count > 0) {
		str = str_new(64 + out->count * 8);
		str_append(str, "* VANISHED (EARLIER) ");
		imap_write_uid_pairs(str, out->v, out->count);
		client_send_line(client, str_c(str));
		str_free(&str);
	}
	array_free(&gone);
	array_free(&sel);
}

static bool select_bad(struct client_command_context *cmd,
                       const char *error)
{
	(void)cmd_bad_error(cmd, error);
	return false;
}

/* A UID set into normalized pairs ('*' as the highest UID). */
static bool parse_uid_pairs(const char *str, ARRAY_U32 *pairs)
{
	if (imap_seqset_parse_ranges(str, pairs) < 0)
		return false;
	pairs_normalize(pairs);
	return true;
}

static bool qresync_parse(struct client_command_context *cmd,
			  const struct imap_arg *args,
			  struct imap_select_params *params)
{
	const char *str, *seqs, *uids;
	const struct imap_arg *match;
	ARRAY_U32 tmp = ARRAY_INIT;
	unsigned long long n;
	char *end;

	if (!imap_arg_get_atom(&args[0], &str) || str[0] < '0' ||
	    str[0] > '9')
		return select_bad(cmd, "Invalid QRESYNC parameters");
	n = strtoull(str, &end, 10);
	if (*end != '\0' || n > UINT32_MAX)
		return select_bad(cmd, "Invalid QRESYNC parameters");
	params->uidvalidity = (uint32_t)n;
	if (!imap_arg_get_atom(&args[1], &str) ||
	    !imap_parse_modseq(str, &params->modseq))
		return select_bad(cmd, "Invalid QRESYNC parameters");
	args += 2;
	if (imap_arg_is_eol(args))
		return true;
	if (imap_arg_get_atom(args, &str)) {
		if (!parse_uid_pairs(str, &params->known_uids))
			return select_bad(cmd, "Invalid QRESYNC known-uids");
		args++;
	}
	if (imap_arg_is_eol(args))
		return true;
	/* the known sequence-set and UID match data: checked, not
	   needed (the expunge history answers for every modseq) */
	if (!imap_arg_get_list(args, &match) ||
	    !imap_arg_get_atom(&match[0], &seqs) ||
	    !imap_arg_get_atom(&match[1], &uids) ||
	    !imap_arg_is_eol(&match[2]) ||
	    imap_seqset_parse_ranges(seqs, &tmp) < 0 ||
	    imap_seqset_parse_ranges(uids, &tmp) < 0) {
		array_free(&tmp);
		return select_bad(cmd, "Invalid QRESYNC known-uid-set");
	}
	array_free(&tmp);
	if (!imap_arg_is_eol(&args[1]))
		return select_bad(cmd, "Invalid QRESYNC parameters");
	return true;
}

bool imap_select_params_parse(struct client_command_context *cmd,
			      const struct imap_arg *list,
			      struct imap_select_params *params)
{
	const struct imap_arg *qlist;
	const char *name;

	for (; !imap_arg_is_eol(list); list++) {
		if (!imap_arg_get_atom(list, &name))
			return select_bad(cmd, "Unknown FETCH modifier");
		if (strcasecmp(name, "CONDSTORE") == 0) {
			params->condstore = true;
		} else if (strcasecmp(name, "QRESYNC") == 0) {
			if ((cmd->client->enabled & IMAP_ENABLED_QRESYNC) == 0)
				return select_bad(cmd, "QRESYNC not enabled");
			if (list[1].type != IMAP_ARG_LIST)
				return select_bad(cmd,
					"QRESYNC parameters missing");
			list++;
			(void)imap_arg_get_list(list, &qlist);
			if (!qresync_parse(cmd, qlist, params))
				return false;
			params->qresync = true;
		} else {
			return select_bad(cmd, "Unknown FETCH modifier");
		}
	}
	return true;
}

void imap_select_qresync(struct imap_client *client,
			 const struct imap_select_params *params)
{
	struct mailbox *box = client->mailbox;
	uint32_t count = mailbox_count(box);
	const ARRAY_U32 *known = &params->known_uids;
	struct mail *mail;
	string_t *str;
	size_t k = 0;

	if (params->uidvalidity != mailbox_get_uidvalidity(box))
		return;
	imap_send_vanished_earlier(client, params->modseq, known);
	mail = mail_alloc(box);
	str = str_new(128);
	for (uint32_t seq = 1; seq <= count; seq++) {
		uint32_t uid = mailbox_seq_to_uid(box, seq);
		uint64_t modseq;

		if (known->count > 0) {
			while (k < known->count && known->v[k + 1] < uid)
				k += 2;
			if (k >= known->count)
				break;
			if (uid < known->v[k])
				continue;
		}
		mail_set_seq(mail, seq);
		modseq = mail_get_modseq(mail);
		if (modseq <= params->modseq)
			continue;
		str_truncate(str, 0);
		str_printfa(str, "* %u FETCH (UID %u FLAGS (", seq, uid);
		imap_write_flags(str, mail_get_flags(mail),
				 mail_get_keywords(mail));
		str_printfa(str, ") MODSEQ (%llu))", (unsigned long long)modseq);
		imap_condstore_sent_modseq(client, modseq);
		client_send_line(client, str_c(str));
	}
	str_free(&str);
	mail_free(&mail);
}

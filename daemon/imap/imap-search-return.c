/* imap-search-return.c - what SEARCH and SORT send back when RETURN is
 * given: the "* ESEARCH" line (MIN MAX ALL PARTIAL COUNT MODSEQ, in
 * Dovecot's order), the SEARCHRES SAVE, and CONTEXT=SEARCH's UPDATE: the
 * search is kept, and each sync re-checks the messages that changed
 * (modseq above the one last seen) or are new, reporting
 *   * ESEARCH (TAG "t") [UID] REMOVEFROM (0 set) ADDTO (0 set)
 * Expunged messages leave with a REMOVEFROM before their EXPUNGE lines.
 * Like Dovecot, the position is always 0, for SORT too. */
#include "imap-search-return.h"
#include "imap-search-args.h"

#include <stdlib.h>
#include <strings.h>

struct search_update {
	char *tag;
	bool uid;
	struct mail_search_args *args;
	ARRAY_U32 uids;		/* the current result, ascending */
	uint64_t modseq;	/* changes up to this one are known */
	uint32_t next_uid;	/* messages from this UID on are new */
	ARRAY_U32 expunged;	/* numbers for the next REMOVEFROM */
};

struct imap_search_updates {
	ARRAY(struct search_update *) list;
	/* where this sync's output starts in the corked output buffer:
	   Dovecot sends the REMOVEFROMs of expunges before anything else */
	size_t sync_pos;
	bool sync_pos_valid;
};

static int u32_cmp(const void *p1, const void *p2)
{
	uint32_t a = *(const uint32_t *)p1, b = *(const uint32_t *)p2;

	return a < b ? -1 : (a > b ? 1 : 0);
}

/* ---- RETURN (...) ---- */

static int parse_partial(const struct imap_arg *arg,
			 struct imap_search_return *ret, const char **error_r)
{
	const char *str, *p;
	unsigned long long lo, hi;
	char *end;

	if (!imap_arg_get_atom(arg, &str)) {
		*error_r = "PARTIAL range missing";
		return -1;
	}
	p = str;
	if (*p < '0' || *p > '9')
		goto broken;
	lo = strtoull(p, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		goto broken;
	hi = strtoull(end + 1, &end, 10);
	if (*end != '\0' || lo == 0 || hi == 0 || lo > UINT32_MAX ||
	    hi > UINT32_MAX)
		goto broken;
	if (lo > hi) {
		unsigned long long tmp = lo;

		lo = hi;
		hi = tmp;
	}
	ret->partial_lo = (uint32_t)lo;
	ret->partial_hi = (uint32_t)hi;
	return 0;
broken:
	*error_r = "PARTIAL range broken";
	return -1;
}

int imap_search_return_parse(const struct imap_arg *list,
			     struct imap_search_return *ret_r,
			     const char **error_r)
{
	static const struct {
		const char *name;
		enum search_return opt;
	} names[] = {
		{ "MIN", SEARCH_RETURN_MIN }, { "MAX", SEARCH_RETURN_MAX },
		{ "ALL", SEARCH_RETURN_ALL }, { "COUNT", SEARCH_RETURN_COUNT },
		{ "SAVE", SEARCH_RETURN_SAVE },
		{ "PARTIAL", SEARCH_RETURN_PARTIAL },
		{ "UPDATE", SEARCH_RETURN_UPDATE },
		{ "CONTEXT", SEARCH_RETURN_CONTEXT },
	};
	enum search_return opts = SEARCH_RETURN_ESEARCH;

	memset(ret_r, 0, sizeof(*ret_r));
	for (; !imap_arg_is_eol(list); list++) {
		const char *name;
		size_t i;

		if (!imap_arg_get_atom(list, &name)) {
			*error_r = "SEARCH return options contain non-atoms.";
			return -1;
		}
		for (i = 0; i < N_ELEMENTS(names); i++) {
			if (strcasecmp(names[i].name, name) == 0)
				break;
		}
		if (i == N_ELEMENTS(names)) {
			*error_r = "Unknown SEARCH return option";
			return -1;
		}
		if (names[i].opt == SEARCH_RETURN_PARTIAL) {
			if ((opts & SEARCH_RETURN_PARTIAL) != 0) {
				*error_r = "PARTIAL can be used only once";
				return -1;
			}
			if (imap_arg_is_eol(list + 1)) {
				*error_r = "PARTIAL range missing";
				return -1;
			}
			list++;
			if (parse_partial(list, ret_r, error_r) < 0)
				return -1;
		} else if ((opts & names[i].opt) != 0 &&
			   names[i].opt == SEARCH_RETURN_UPDATE) {
			/* Dovecot allows the others twice */
			*error_r = "SEARCH return options have duplicate UPDATE";
			return -1;
		}
		opts |= names[i].opt;
	}
	if ((opts & SEARCH_RETURN_PARTIAL) != 0 &&
	    (opts & SEARCH_RETURN_ALL) != 0) {
		*error_r = "PARTIAL conflicts with ALL";
		return -1;
	}
	/* RETURN () (or only CONTEXT) is RETURN (ALL) */
	if ((opts & ~(SEARCH_RETURN_ESEARCH | SEARCH_RETURN_CONTEXT)) == 0)
		opts |= SEARCH_RETURN_ALL;
	ret_r->opts = opts;
	return 0;
}

/* ---- the result ---- */

static uint32_t result_num(struct client_command_context *cmd, uint32_t seq)
{
	return cmd->uid ? mailbox_seq_to_uid(cmd->client->mailbox, seq) : seq;
}

/* positions lo..hi (1-based) of count, as [*start_r, *end_r) */
static void partial_window(const struct imap_search_return *ret, size_t count,
			   size_t *start_r, size_t *end_r)
{
	size_t lo = ret->partial_lo - 1, hi = ret->partial_hi;

	*start_r = lo < count ? lo : count;
	*end_r = hi < count ? hi : count;
}

static void write_nums(struct client_command_context *cmd, string_t *str,
		       const uint32_t *seqs, size_t count)
{
	uint32_t *nums = i_new(uint32_t, count + 1);

	for (size_t i = 0; i < count; i++)
		nums[i] = result_num(cmd, seqs[i]);
	imap_write_seq_range(str, nums, count);
	i_free(nums);
}

/* SEARCHRES (RFC 5182 2.4): the whole result, or only what MIN/MAX
 * (and PARTIAL) pick when those are all that was asked besides SAVE. */
static void search_save(struct imap_client *client,
			const struct imap_search_return *ret,
			const uint32_t *seqs, size_t count)
{
	struct mailbox *box = client->mailbox;
	enum search_return opts = ret->opts;
	bool picked = (opts & (SEARCH_RETURN_MIN | SEARCH_RETURN_MAX |
			       SEARCH_RETURN_PARTIAL)) != 0 &&
		(opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT)) == 0;
	ARRAY_U32 uids = ARRAY_INIT;

	array_clear(&client->search_saved);
	client->search_saved_valid = true;
	if (count == 0)
		return;
	if (!picked) {
		for (size_t i = 0; i < count; i++)
			array_push(&uids, mailbox_seq_to_uid(box, seqs[i]));
	} else {
		if ((opts & SEARCH_RETURN_MIN) != 0)
			array_push(&uids, mailbox_seq_to_uid(box, seqs[0]));
		if ((opts & SEARCH_RETURN_MAX) != 0)
			array_push(&uids, mailbox_seq_to_uid(box,
							     seqs[count - 1]));
		if ((opts & SEARCH_RETURN_PARTIAL) != 0) {
			size_t start, end;

			partial_window(ret, count, &start, &end);
			for (size_t i = start; i < end; i++)
				array_push(&uids,
					   mailbox_seq_to_uid(box, seqs[i]));
		}
	}
	/* ascending, without duplicates */
	if (uids.count > 0)
		qsort(uids.v, uids.count, sizeof(uint32_t), u32_cmp);
	for (size_t i = 0; i < uids.count; i++) {
		if (i == 0 || uids.v[i] != uids.v[i - 1])
			array_push(&client->search_saved, uids.v[i]);
	}
	array_free(&uids);
}

void imap_search_return_save_failed(struct imap_client *client,
				    const struct imap_search_return *ret)
{
	if ((ret->opts & SEARCH_RETURN_SAVE) == 0)
		return;
	array_clear(&client->search_saved);
	client->search_saved_valid = true;
}

void imap_search_return_send(struct client_command_context *cmd,
			     const struct imap_search_return *ret,
			     const uint32_t *seqs, size_t count,
			     uint64_t modseq, bool sort ATTR_UNUSED)
{
	enum search_return opts = ret->opts;
	string_t *str;

	if ((opts & SEARCH_RETURN_SAVE) != 0)
		search_save(cmd->client, ret, seqs, count);
	if ((opts & ~(SEARCH_RETURN_ESEARCH | SEARCH_RETURN_SAVE)) == 0)
		return;

	str = str_new(128 + count * 4);
	str_printfa(str, "* ESEARCH (TAG \"%s\")", cmd->tag);
	if (cmd->uid)
		str_append(str, " UID");
	if (count > 0) {
		if ((opts & SEARCH_RETURN_MIN) != 0)
			str_printfa(str, " MIN %u", result_num(cmd, seqs[0]));
		if ((opts & SEARCH_RETURN_MAX) != 0)
			str_printfa(str, " MAX %u",
				    result_num(cmd, seqs[count - 1]));
		if ((opts & SEARCH_RETURN_ALL) != 0) {
			str_append(str, " ALL ");
			write_nums(cmd, str, seqs, count);
		}
	}
	if ((opts & SEARCH_RETURN_PARTIAL) != 0) {
		size_t start, end;

		partial_window(ret, count, &start, &end);
		str_printfa(str, " PARTIAL (%u:%u ", ret->partial_lo,
			    ret->partial_hi);
		if (start == end)
			str_append(str, "NIL");
		else
			write_nums(cmd, str, seqs + start, end - start);
		str_append_c(str, ')');
	}
	if ((opts & SEARCH_RETURN_COUNT) != 0)
		str_printfa(str, " COUNT %zu", count);
	if (modseq != 0 && count > 0)
		str_printfa(str, " MODSEQ %llu", (unsigned long long)modseq);
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
}

/* ---- UPDATE ---- */

static void update_free(struct search_update **_upd)
{
	struct search_update *upd = *_upd;

	*_upd = NULL;
	i_free(upd->tag);
	mail_search_args_free(&upd->args);
	array_free(&upd->uids);
	array_free(&upd->expunged);
	i_free(upd);
}

static struct search_update *
update_find(struct imap_client *client, const char *tag, size_t *idx_r)
{
	struct imap_search_updates *ups = client->search_updates;

	if (ups == NULL)
		return NULL;
	for (size_t i = 0; i < ups->list.count; i++) {
		if (strcmp(ups->list.v[i]->tag, tag) == 0) {
			*idx_r = i;
			return ups->list.v[i];
		}
	}
	return NULL;
}

static void update_remove(struct imap_client *client, size_t idx)
{
	struct imap_search_updates *ups = client->search_updates;
	struct search_update *upd = ups->list.v[idx];

	memmove(ups->list.v + idx, ups->list.v + idx + 1,
		(ups->list.count - idx - 1) * sizeof(ups->list.v[0]));
	ups->list.count--;
	update_free(&upd);
}

void imap_search_update_add(struct client_command_context *cmd,
			    struct mail_search_args *args,
			    const uint32_t *seqs, size_t count)
{
	struct imap_client *client = cmd->client;
	struct mailbox *box = client->mailbox;
	struct search_update *upd;
	uint32_t msgs = mailbox_count(box);
	size_t idx;

	if (client->search_updates == NULL)
		client->search_updates = i_new(struct imap_search_updates, 1);
	/* a tag used again replaces the older search */
	if (update_find(client, cmd->tag, &idx) != NULL)
		update_remove(client, idx);
	upd = i_new(struct search_update, 1);
	upd->tag = i_strdup(cmd->tag);
	upd->uid = cmd->uid;
	upd->args = args;
	for (size_t i = 0; i < count; i++)
		array_push(&upd->uids, mailbox_seq_to_uid(box, seqs[i]));
	if (upd->uids.count > 0)
		qsort(upd->uids.v, upd->uids.count, sizeof(uint32_t), u32_cmp);
	upd->modseq = mailbox_get_highest_modseq(box);
	upd->next_uid = msgs == 0 ? 1 : mailbox_seq_to_uid(box, msgs) + 1;
	array_push(&client->search_updates->list, upd);
}

static bool uids_find(const ARRAY_U32 *uids, uint32_t uid, size_t *idx_r)
{
	size_t lo = 0, hi = uids->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uids->v[mid] == uid) {
			*idx_r = mid;
			return true;
		}
		if (uids->v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*idx_r = lo;
	return false;
}

static void uids_insert(ARRAY_U32 *uids, size_t idx, uint32_t uid)
{
	array_push(uids, 0);
	memmove(uids->v + idx + 1, uids->v + idx,
		(uids->count - idx - 1) * sizeof(uint32_t));
	uids->v[idx] = uid;
}

static void uids_delete(ARRAY_U32 *uids, size_t idx)
{
	memmove(uids->v + idx, uids->v + idx + 1,
		(uids->count - idx - 1) * sizeof(uint32_t));
	uids->count--;
}

void imap_search_updates_expunge(struct imap_client *client, uint32_t uid,
				 uint32_t seq, bool announced)
{
	struct imap_search_updates *ups = client->search_updates;

	if (ups == NULL)
		return;
	for (size_t i = 0; i < ups->list.count; i++) {
		struct search_update *upd = ups->list.v[i];
		size_t idx;

		if (!uids_find(&upd->uids, uid, &idx))
			continue;
		uids_delete(&upd->uids, idx);
		if (announced)
			array_push(&upd->expunged, upd->uid ? uid : seq);
	}
}

/* line into the corked output at *pos (or at the end) */
static void send_line_at(struct imap_client *client, size_t *pos,
			 const char *line)
{
	struct connection *conn = client->conn;
	size_t old, n = strlen(line) + 2;
	char *tmp;

	if (pos == NULL || conn == NULL || !conn->corked ||
	    *pos > conn->out_len) {
		client_send_line(client, line);
		return;
	}
	old = conn->out_len;
	client_send_line(client, line);
	if (conn->out_len != old + n)
		return;
	tmp = i_malloc(n);
	memcpy(tmp, conn->outbuf + old, n);
	memmove(conn->outbuf + *pos + n, conn->outbuf + *pos, old - *pos);
	memcpy(conn->outbuf + *pos, tmp, n);
	i_free(tmp);
	*pos += n;
}

static void update_send(struct imap_client *client, struct search_update *upd,
			ARRAY_U32 *removed, ARRAY_U32 *added, size_t *pos)
{
	string_t *str;

	if (removed->count == 0 && added->count == 0)
		return;
	str = str_new(128);
	str_printfa(str, "* ESEARCH (TAG \"%s\")", upd->tag);
	if (upd->uid)
		str_append(str, " UID");
	if (removed->count > 0) {
		qsort(removed->v, removed->count, sizeof(uint32_t), u32_cmp);
		str_append(str, " REMOVEFROM (0 ");
		imap_write_seq_range(str, removed->v, removed->count);
		str_append_c(str, ')');
	}
	if (added->count > 0) {
		qsort(added->v, added->count, sizeof(uint32_t), u32_cmp);
		str_append(str, " ADDTO (0 ");
		imap_write_seq_range(str, added->v, added->count);
		str_append_c(str, ')');
	}
	send_line_at(client, pos, str_c(str));
	str_free(&str);
}

void imap_search_updates_sync_begin(struct imap_client *client)
{
	struct imap_search_updates *ups = client->search_updates;

	if (ups == NULL)
		return;
	ups->sync_pos_valid = client->conn != NULL && client->conn->corked;
	if (ups->sync_pos_valid)
		ups->sync_pos = client->conn->out_len;
}

void imap_search_updates_flush_expunges(struct imap_client *client)
{
	struct imap_search_updates *ups = client->search_updates;
	ARRAY_U32 none = ARRAY_INIT;

	if (ups == NULL)
		return;
	for (size_t i = 0; i < ups->list.count; i++) {
		struct search_update *upd = ups->list.v[i];

		update_send(client, upd, &upd->expunged, &none,
			    ups->sync_pos_valid ? &ups->sync_pos : NULL);
		array_clear(&upd->expunged);
	}
}

static void update_sync(struct imap_client *client, struct search_update *upd)
{
	struct mailbox *box = client->mailbox;
	uint32_t count = client->messages_count;
	uint64_t highest = mailbox_get_highest_modseq(box);
	ARRAY_U32 removed = ARRAY_INIT, added = ARRAY_INIT;
	struct mail *mail;

	if (count > mailbox_count(box))
		count = mailbox_count(box);
	if (highest == upd->modseq &&
	    (count == 0 || mailbox_seq_to_uid(box, count) < upd->next_uid))
		return;
	mail = mail_alloc(box);
	for (uint32_t seq = 1; seq <= count; seq++) {
		uint32_t uid = mailbox_seq_to_uid(box, seq);
		size_t idx;
		bool was_in;
		int ret;

		mail_set_seq(mail, seq);
		if (uid < upd->next_uid && mail_get_modseq(mail) <= upd->modseq)
			continue;
		ret = mail_search_match(mail, upd->args->args);
		if (ret < 0)
			continue;	/* as it was: the next change retries */
		was_in = uids_find(&upd->uids, uid, &idx);
		if (ret > 0 && !was_in) {
			uids_insert(&upd->uids, idx, uid);
			array_push(&added, upd->uid ? uid : seq);
		} else if (ret == 0 && was_in) {
			uids_delete(&upd->uids, idx);
			array_push(&removed, upd->uid ? uid : seq);
		}
	}
	mail_free(&mail);
	upd->modseq = highest;
	if (count > 0)
		upd->next_uid = mailbox_seq_to_uid(box, count) + 1;
	update_send(client, upd, &removed, &added, NULL);
	array_free(&removed);
	array_free(&added);
}

void imap_search_updates_sync(struct imap_client *client)
{
	struct imap_search_updates *ups = client->search_updates;

	if (ups == NULL || client->mailbox == NULL)
		return;
	imap_search_updates_flush_expunges(client);
	ups->sync_pos_valid = false;
	for (size_t i = 0; i < ups->list.count; i++)
		update_sync(client, ups->list.v[i]);
}

void imap_search_updates_free(struct imap_client *client)
{
	struct imap_search_updates *ups = client->search_updates;

	if (ups == NULL)
		return;
	client->search_updates = NULL;
	for (size_t i = 0; i < ups->list.count; i++)
		update_free(&ups->list.v[i]);
	array_free(&ups->list);
	i_free(ups);
}

/* CANCELUPDATE "tag" ... (RFC 5267 4.3): the tags are quoted strings. */
bool cmd_cancelupdate(struct client_command_context *cmd)
{
	const struct imap_arg *args = cmd->args;
	const char *tag;
	size_t idx;

	if (imap_arg_is_eol(args))
		return cmd_bad(cmd, "Error in IMAP command CANCELUPDATE: "
			       "Invalid parameters");
	for (const struct imap_arg *a = args; !imap_arg_is_eol(a); a++) {
		if (a->type != IMAP_ARG_STRING && a->type != IMAP_ARG_LITERAL)
			return cmd_bad(cmd, "Error in IMAP command "
				       "CANCELUPDATE: Invalid parameters");
	}
	for (; !imap_arg_is_eol(args); args++) {
		if (!imap_arg_get_string(args, &tag) ||
		    update_find(cmd->client, tag, &idx) == NULL)
			return cmd_no(cmd, "Unknown tag");
		update_remove(cmd->client, idx);
	}
	return cmd_ok(cmd, "Updates cancelled");
}

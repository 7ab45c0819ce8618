/* mail.c - messages of the view (struct mail), flag and keyword
 * updates, expunges, transactions, save and copy. */
#include "mail-storage-private.h"
#include "quota-private.h"
#include "acl.h"
#include "mail-zlib.h"
#include "mail-log.h"
#include "settings-structs.h"
#include "var-expand.h"
#include "rfc822-date.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>

struct mail_private {
	struct mail mail;
	void *map_ctx;
	const unsigned char *data;
	size_t size;
	/* the zlib plugin: the uncompressed copy data points to */
	unsigned char *unz;
	uint32_t mapped_uid;
	ARRAY_STR kw_names;
	char *guid, *uidl, *hdr;
};

static struct mail_record *mail_rec(struct mail *mail)
{
	if (mail->seq == 0 || mail->seq > mail->box->view.recs.count)
		return NULL;
	return &mail->box->view.recs.v[mail->seq - 1];
}

struct mail *mail_alloc(struct mailbox *box)
{
	struct mail_private *pmail = i_new(struct mail_private, 1);

	pmail->mail.box = box;
	return &pmail->mail;
}

static void mail_unmap(struct mail_private *pmail)
{
	if (pmail->map_ctx != NULL || pmail->data != NULL)
		pmail->mail.box->v->unmap_mail(pmail->mail.box, pmail->map_ctx);
	i_free(pmail->unz);
	pmail->map_ctx = NULL;
	pmail->data = NULL;
	pmail->size = 0;
	pmail->mapped_uid = 0;
}

void mail_free(struct mail **_mail)
{
	struct mail_private *pmail = (struct mail_private *)*_mail;

	if (pmail == NULL)
		return;
	*_mail = NULL;
	mail_unmap(pmail);
	array_free(&pmail->kw_names);
	i_free(pmail->guid);
	i_free(pmail->uidl);
	i_free(pmail->hdr);
	i_free(pmail);
}

void mail_set_seq(struct mail *mail, uint32_t seq)
{
	struct mail_record *rec;

	mail->seq = seq;
	rec = mail_rec(mail);
	mail->uid = rec == NULL ? 0 : rec->uid;
	mail->expunged = rec == NULL || rec->expunged;
}

bool mail_set_uid(struct mail *mail, uint32_t uid)
{
	uint32_t seq = mailbox_uid_to_seq(mail->box, uid);

	if (seq == 0)
		return false;
	mail_set_seq(mail, seq);
	return true;
}

enum mail_flags mail_get_flags(struct mail *mail)
{
	return mailbox_seq_flags(mail->box, mail->seq);
}

const char *const *mail_get_keywords(struct mail *mail)
{
	struct mail_private *pmail = (struct mail_private *)mail;
	struct mail_record *rec = mail_rec(mail);

	array_clear(&pmail->kw_names);
	for (size_t i = 0; rec != NULL && i < mail->box->view.keywords.count; i++) {
		if (mail_record_has_kw(rec, (unsigned int)i))
			array_push(&pmail->kw_names, mail->box->view.keywords.v[i]);
	}
	array_push(&pmail->kw_names, NULL);
	return pmail->kw_names.v;
}

bool mail_has_keyword(struct mail *mail, unsigned int idx)
{
	struct mail_record *rec = mail_rec(mail);
	return rec != NULL && idx < mail->box->kw_words * 32 &&
		mail_record_has_kw(rec, idx);
}

uint64_t mail_get_modseq(struct mail *mail)
{
	struct mail_record *rec = mail_rec(mail);
	return rec == NULL ? 0 : rec->modseq;
}

static int mail_expunged_error(struct mail *mail)
{
	mailbox_set_error(mail->box, MAIL_ERROR_EXPUNGED,
			  "Message was expunged (uid=%u)", mail->uid);
	mail->expunged = true;
	return -1;
}

int mail_get_stream(struct mail *mail, const unsigned char **data_r,
		    size_t *size_r)
{
	struct mail_private *pmail = (struct mail_private *)mail;
	struct mail_record *rec = mail_rec(mail);

	if (rec == NULL || rec->expunged)
		return mail_expunged_error(mail);
	if (pmail->mapped_uid != rec->uid) {
		mail_unmap(pmail);
		if (mail->box->v->map_mail(mail->box, rec, &pmail->data,
					   &pmail->size, &pmail->map_ctx) < 0) {
			if (mail->box->error == MAIL_ERROR_EXPUNGED)
				mail->expunged = true;
			return -1;
		}
		if (strcmp(mail->box->v->name, "maildir") == 0 &&
		    mail_zlib_enabled(mail->box->user)) {
			const char *error;
			size_t size;
			int ret = mail_zlib_decompress(pmail->data, pmail->size,
						       &pmail->unz, &size,
						       &error);

			if (ret < 0) {
				mailbox_set_critical(mail->box,
					"zlib: Mail UID %u: %s", rec->uid,
					error);
				mail_unmap(pmail);
				return -1;
			}
			if (ret > 0) {
				pmail->data = pmail->unz;
				pmail->size = size;
			}
		}
		pmail->mapped_uid = rec->uid;
	}
	*data_r = pmail->data;
	*size_r = pmail->size;
	return 0;
}

/* Physical and CRLF sizes counted from the bytes. */
static void count_sizes(const unsigned char *data, size_t size,
			uint64_t *vsize_r)
{
	uint64_t vsize = size;
	const unsigned char *p = data, *end = data + size;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (p == data || p[-1] != '\r')
			vsize++;
		p++;
	}
	*vsize_r = vsize;
}

static int mail_fill_sizes(struct mail *mail, struct mail_record *rec)
{
	const unsigned char *data;
	size_t size;
	uint64_t vsize;
	struct mail_record *drec;

	if (mail_get_stream(mail, &data, &size) < 0)
		return -1;
	count_sizes(data, size, &vsize);
	rec->size = size;
	rec->vsize = vsize;
	drec = mail_record_set_find(&mail->box->disk, rec->uid);
	if (drec != NULL) {
		drec->size = size;
		drec->vsize = vsize;
		mail->box->index_dirty = true;
	}
	return 0;
}

int mail_get_physical_size(struct mail *mail, uint64_t *size_r)
{
	struct mail_record *rec = mail_rec(mail);

	if (rec == NULL)
		return mail_expunged_error(mail);
	if (rec->size == MAIL_SIZE_UNKNOWN && mail_fill_sizes(mail, rec) < 0)
		return -1;
	*size_r = rec->size;
	return 0;
}

int mail_get_virtual_size(struct mail *mail, uint64_t *size_r)
{
	struct mail_record *rec = mail_rec(mail);

	if (rec == NULL)
		return mail_expunged_error(mail);
	if (rec->vsize == MAIL_SIZE_UNKNOWN && mail_fill_sizes(mail, rec) < 0)
		return -1;
	*size_r = rec->vsize;
	return 0;
}

/* Dates the driver's sync left for later: looked up once, kept in the
 * view and the disk record (the index keeps them from then on). */
static int mail_fill_dates(struct mail *mail, struct mail_record *rec)
{
	struct mailbox *box = mail->box;
	struct mail_record *drec;

	if (rec->received != MAIL_DATE_UNKNOWN)
		return 0;
	if (box->v->fill_dates == NULL) {
		rec->received = rec->saved = 0;
		return 0;
	}
	if (box->v->fill_dates(box, rec) < 0)
		return -1;
	drec = mail_record_set_find(&box->disk, rec->uid);
	if (drec != NULL && drec != rec) {
		drec->received = rec->received;
		drec->saved = rec->saved;
		/* the driver may have found the file under a new name */
		if (null_strcmp(drec->name, rec->name) != 0) {
			i_free(drec->name);
			drec->name = rec->name == NULL ? NULL :
				i_strdup(rec->name);
			drec->driver_flags = rec->driver_flags;
		}
		box->index_dirty = true;
	}
	return 0;
}

int mail_get_received_date(struct mail *mail, time_t *date_r)
{
	struct mail_record *rec = mail_rec(mail);

	if (rec == NULL)
		return mail_expunged_error(mail);
	if (mail_fill_dates(mail, rec) < 0)
		return -1;
	*date_r = (time_t)rec->received;
	return 0;
}

int mail_get_save_date(struct mail *mail, time_t *date_r)
{
	struct mail_record *rec = mail_rec(mail);

	if (rec == NULL)
		return mail_expunged_error(mail);
	if (mail_fill_dates(mail, rec) < 0)
		return -1;
	*date_r = (time_t)(rec->saved != 0 ? rec->saved : rec->received);
	return 0;
}

int mail_get_guid(struct mail *mail, const char **guid_r)
{
	struct mail_private *pmail = (struct mail_private *)mail;
	struct mail_record *rec = mail_rec(mail);

	if (rec == NULL)
		return mail_expunged_error(mail);
	if (rec->name != NULL) {
		/* maildir: the file name without ":2,flags", ",S=" and ",W="
		   included, as Dovecot reports it */
		size_t len = strcspn(rec->name, ":");
		i_free(pmail->guid);
		pmail->guid = i_strndup(rec->name, len);
	} else {
		i_free(pmail->guid);
		pmail->guid = i_strdup_printf("%u-%u",
					      mail->box->view.uidvalidity,
					      rec->uid);
	}
	*guid_r = pmail->guid;
	return 0;
}

int mail_get_pop3_uidl(struct mail *mail, const char **uidl_r)
{
	struct mail_private *pmail = (struct mail_private *)mail;
	struct mail_record *rec = mail_rec(mail);
	char uid[16], uidvalidity[16], *guid_s;
	const char *guid, *error;
	string_t *str;

	if (rec == NULL)
		return mail_expunged_error(mail);
	if (mail_get_guid(mail, &guid) < 0)
		return -1;
	snprintf(uid, sizeof(uid), "%u", rec->uid);
	snprintf(uidvalidity, sizeof(uidvalidity), "%u",
		 mail->box->view.uidvalidity);
	guid_s = i_strdup(guid);
	const struct var_expand_table table[] = {
		{ 'v', uidvalidity, "uidvalidity" },
		{ 'u', uid, "uid" },
		{ 'm', "", "md5" },
		{ 'f', rec->name == NULL ? "" : rec->name, "filename" },
		{ 'g', guid_s, "guid" },
		{ '\0', NULL, NULL },
	};
	str = str_new(64);
	(void)var_expand(str, mail->box->user->set->pop3_uidl_format, table,
			 NULL, NULL, &error);
	i_free(pmail->uidl);
	pmail->uidl = str_free_without_data(&str);
	*uidl_r = pmail->uidl;
	i_free(guid_s);
	return 0;
}

/* ---- transactions ---- */

struct mailbox_transaction *mailbox_transaction_begin(struct mailbox *box)
{
	struct mailbox_transaction *t = i_new(struct mailbox_transaction, 1);

	t->box = box;
	box->transaction_count++;
	return t;
}

static struct mail_update *update_get(struct mailbox_transaction *t,
				      uint32_t uid)
{
	struct mail_update *u = array_append_space(&t->updates);
	u->uid = uid;
	return u;
}

static void apply_flags(struct mail_record *rec, enum modify_type type,
			enum mail_flags flags)
{
	flags &= MAIL_FLAGS_MASK;
	switch (type) {
	case MODIFY_ADD:
		rec->flags |= flags;
		break;
	case MODIFY_REMOVE:
		rec->flags &= ~flags;
		break;
	case MODIFY_REPLACE:
		rec->flags = flags;
		break;
	}
}

void mail_update_flags(struct mailbox_transaction *t, struct mail *mail,
		       enum modify_type type, enum mail_flags flags)
{
	struct mail_record *rec = mail_rec(mail);
	struct mail_update *u;

	if (rec == NULL || rec->expunged || t->box->readonly)
		return;
	if (t->box->user->acl != NULL) {
		/* acl: flags without the right stay as they are, silently
		   (Dovecot) */
		enum mail_flags allowed;
		bool kw;

		acl_mailbox_flag_rights(t->box, &allowed, &kw);
		if (type == MODIFY_REPLACE)
			flags = (rec->flags & ~allowed) | (flags & allowed);
		else
			flags &= allowed;
		if ((flags & MAIL_FLAGS_MASK) == 0 && type != MODIFY_REPLACE)
			return;
	}
	u = update_get(t, rec->uid);
	u->type = type;
	u->flags = flags & MAIL_FLAGS_MASK;
	apply_flags(rec, type, flags);
}

static void apply_keywords(struct mailbox *box, struct mail_record *rec,
			   enum modify_type type, const int *idx,
			   unsigned int count)
{
	if (type == MODIFY_REPLACE && rec->kw != NULL)
		memset(rec->kw, 0, box->kw_words * sizeof(uint32_t));
	for (unsigned int i = 0; i < count; i++)
		mail_record_set_kw(rec, (unsigned int)idx[i],
				   type != MODIFY_REMOVE, box->kw_words);
}

int mail_update_keywords(struct mailbox_transaction *t, struct mail *mail,
			 enum modify_type type, const char *const *keywords)
{
	struct mailbox *box = t->box;
	struct mail_record *rec = mail_rec(mail);
	struct mail_update *u;
	ARRAY(int) idx = ARRAY_INIT;

	if (rec == NULL || rec->expunged || box->readonly)
		return 0;
	if (box->user->acl != NULL) {
		enum mail_flags allowed;
		bool kw;

		acl_mailbox_flag_rights(box, &allowed, &kw);
		if (!kw)
			return 0;
	}
	for (unsigned int i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		int k = mailbox_keyword_lookup(box, keywords[i],
					       type != MODIFY_REMOVE);
		if (k < 0 && type != MODIFY_REMOVE) {
			mailbox_set_error(box, MAIL_ERROR_PARAMS,
					  "Invalid keyword: %s", keywords[i]);
			array_free(&idx);
			return -1;
		}
		if (k >= 0)
			array_push(&idx, k);
	}
	rec = mail_rec(mail);	/* keyword bitmaps may have grown */
	u = update_get(t, rec->uid);
	u->type = type;
	u->kw_change = true;
	for (unsigned int i = 0; keywords != NULL && keywords[i] != NULL; i++)
		array_push(&u->keywords, i_strdup(keywords[i]));
	apply_keywords(box, rec, type, idx.v, (unsigned int)idx.count);
	array_free(&idx);
	return 0;
}

void mail_expunge(struct mailbox_transaction *t, struct mail *mail)
{
	struct mail_record *rec = mail_rec(mail);

	if (rec == NULL || rec->expunged || t->box->readonly)
		return;
	if (t->box->user->acl != NULL) {
		unsigned int rights;

		/* without the right: silently not expunged, as Dovecot
		   (auto-expunging clients would show errors) */
		if (acl_mailbox_rights(t->box, &rights) < 0 ||
		    (rights & ACL_EXPUNGE) == 0)
			return;
	}
	array_push(&t->expunges, rec->uid);
}

static void transaction_free(struct mailbox_transaction *t)
{
	for (size_t i = 0; i < t->updates.count; i++) {
		struct mail_update *u = &t->updates.v[i];
		for (size_t j = 0; j < u->keywords.count; j++)
			free((char *)u->keywords.v[j]);
		array_free(&u->keywords);
	}
	array_free(&t->updates);
	array_free(&t->expunges);
	for (size_t i = 0; i < t->saves.count; i++) {
		struct mail_save_context *ctx = t->saves.v[i];
		for (size_t j = 0; j < ctx->keywords.count; j++)
			free((char *)ctx->keywords.v[j]);
		array_free(&ctx->keywords);
		i_free(ctx->from_envelope);
		i_free(ctx->guid);
		i_free(ctx->copy_src);
		i_free(ctx);
	}
	array_free(&t->saves);
	quota_transaction_free(t);
	t->box->transaction_count--;
	i_free(t);
}

static int uid_cmp(const void *p1, const void *p2)
{
	uint32_t u1 = *(const uint32_t *)p1, u2 = *(const uint32_t *)p2;
	return u1 < u2 ? -1 : u1 > u2 ? 1 : 0;
}

/* The modseq records of one update whose message's keywords changed
 * (Dovecot writes every listed keyword, changed or not, and on REPLACE
 * a removal of each other keyword the message had). */
static void touch_keywords(ARRAY_MODSEQ_TOUCH *touches,
			   const struct mail_update *u, const int *idx,
			   unsigned int idx_count, const uint32_t *old_kw,
			   unsigned int kw_words)
{
	for (unsigned int i = 0; i < idx_count; i++) {
		mail_modseq_touch(touches, u->type == MODIFY_REMOVE ?
				  MAIL_MODSEQ_KEY_KW_REMOVE(idx[i]) :
				  MAIL_MODSEQ_KEY_KW_ADD(idx[i]), u->uid);
	}
	if (u->type != MODIFY_REPLACE)
		return;
	for (unsigned int w = 0; w < kw_words; w++) {
		for (unsigned int b = 0; b < 32; b++) {
			unsigned int k = w * 32 + b;
			bool listed = false;

			if ((old_kw[w] & (1u << b)) == 0)
				continue;
			for (unsigned int i = 0; i < idx_count; i++)
				listed = listed || (unsigned int)idx[i] == k;
			if (!listed)
				mail_modseq_touch(touches,
					MAIL_MODSEQ_KEY_KW_REMOVE(k), u->uid);
		}
	}
}

/* Apply the transaction's flag updates to the disk records. */
static int commit_updates(struct mailbox_transaction *t)
{
	struct mailbox *box = t->box;
	ARRAY_MODSEQ_TOUCH touches = ARRAY_INIT;
	int ret = 0;

	for (size_t i = 0; i < t->updates.count; i++) {
		struct mail_update *u = &t->updates.v[i];
		struct mail_record *drec = mail_record_set_find(&box->disk, u->uid);
		struct mail_record *vrec;
		uint8_t old_flags;
		uint32_t old_kw[box->kw_words];	/* @UNSAFE: kw_words >= 1 */
		ARRAY(int) idx = ARRAY_INIT;

		if (drec == NULL)
			continue;	/* expunged meanwhile */
		old_flags = drec->flags;
		for (unsigned int w = 0; w < box->kw_words; w++)
			old_kw[w] = drec->kw == NULL ? 0 : drec->kw[w];
		if (u->kw_change) {
			for (size_t j = 0; j < u->keywords.count; j++) {
				int k = mail_record_set_keyword(&box->disk,
					u->keywords.v[j], u->type != MODIFY_REMOVE);
				if (k >= 0)
					array_push(&idx, k);
			}
			mailbox_kw_words_update(box);
			drec = mail_record_set_find(&box->disk, u->uid);
			apply_keywords(box, drec, u->type, idx.v,
				       (unsigned int)idx.count);
		} else {
			apply_flags(drec, u->type, u->flags);
		}
		bool kw_same = true;
		for (unsigned int w = 0; w < box->kw_words && w < N_ELEMENTS(old_kw); w++) {
			if ((drec->kw == NULL ? 0 : drec->kw[w]) != old_kw[w])
				kw_same = false;
		}
		if (drec->flags == old_flags && kw_same) {
			array_free(&idx);
			continue;
		}
		if (box->v->write_flags(box, &box->disk, drec) < 0) {
			array_free(&idx);
			ret = -1;
			continue;
		}
		if (drec->flags != old_flags)
			mail_modseq_touch(&touches, MAIL_MODSEQ_KEY_FLAGS, u->uid);
		if (!kw_same) {
			touch_keywords(&touches, u, idx.v,
				       (unsigned int)idx.count, old_kw,
				       N_ELEMENTS(old_kw));
		}
		array_free(&idx);
		vrec = NULL;
		unsigned int log_event =
			((old_flags ^ drec->flags) & MAIL_DELETED) == 0 ?
			MAIL_LOG_EVENT_FLAG_CHANGE :
			(drec->flags & MAIL_DELETED) != 0 ?
			MAIL_LOG_EVENT_DELETE : MAIL_LOG_EVENT_UNDELETE;
		uint32_t seq = mailbox_uid_to_seq(box, u->uid);
		if (seq != 0)
			vrec = &box->view.recs.v[seq - 1];
		if (vrec != NULL) {
			vrec->flags = drec->flags;
			if (drec->kw != NULL) {
				if (vrec->kw == NULL)
					vrec->kw = i_new(uint32_t, box->kw_words);
				memcpy(vrec->kw, drec->kw, box->kw_words * sizeof(uint32_t));
			}
			i_free(vrec->name);
			vrec->name = drec->name == NULL ? NULL : i_strdup(drec->name);
			vrec->driver_flags = drec->driver_flags;
		}
		if (seq != 0 && mail_log_enabled(box->user, log_event)) {
			struct mail *mail = mail_alloc(box);
			char *line;

			mail_set_seq(mail, seq);
			line = mail_log_format(mail, log_event ==
				MAIL_LOG_EVENT_FLAG_CHANGE ? "flag_change" :
				log_event == MAIL_LOG_EVENT_DELETE ? "delete" :
				"undelete", false);
			i_info("%s", line);
			i_free(line);
			mail_free(&mail);
		}
	}
	/* the modseqs of this transaction's records, also in the view */
	ARRAY_U32 uids = ARRAY_INIT;

	for (size_t i = 0; i < touches.count; i++)
		array_push(&uids, touches.v[i].uid);
	mail_modseq_assign(&box->disk, &touches);
	array_free(&touches);
	for (size_t i = 0; i < uids.count; i++) {
		struct mail_record *drec =
			mail_record_set_find(&box->disk, uids.v[i]);
		uint32_t seq = mailbox_uid_to_seq(box, uids.v[i]);

		if (drec != NULL && seq != 0)
			box->view.recs.v[seq - 1].modseq = drec->modseq;
	}
	array_free(&uids);
	box->view.highest_modseq = box->disk.highest_modseq;
	return ret;
}

static int commit_expunges(struct mailbox_transaction *t)
{
	struct mailbox *box = t->box;
	struct mail_record_set *set = &box->disk;
	size_t i, j, n = 0;

	if (t->expunges.count == 0)
		return 0;
	qsort(t->expunges.v, t->expunges.count, sizeof(uint32_t), uid_cmp);
	/* unique and still present */
	for (i = 0; i < t->expunges.count; i++) {
		if ((n > 0 && t->expunges.v[n - 1] == t->expunges.v[i]) ||
		    mail_record_set_find(set, t->expunges.v[i]) == NULL)
			continue;
		t->expunges.v[n++] = t->expunges.v[i];
	}
	if (n == 0)
		return 0;
	ARRAY_STR log_lines = ARRAY_INIT;
	if (mail_log_enabled(box->user, MAIL_LOG_EVENT_EXPUNGE)) {
		struct mail *mail = mail_alloc(box);

		for (i = 0; i < n; i++) {
			if (mail_set_uid(mail, t->expunges.v[i]))
				array_push(&log_lines, mail_log_format(mail,
					"expunge", t->quota_moving));
		}
		mail_free(&mail);
	}
	int ret = box->v->expunge(box, set, t->expunges.v, (unsigned int)n);
	if (ret < 0) {
		for (i = 0; i < log_lines.count; i++)
			free((char *)log_lines.v[i]);
		array_free(&log_lines);
		return -1;
	}
	for (i = 0; i < log_lines.count; i++) {
		i_info("%s", log_lines.v[i]);
		free((char *)log_lines.v[i]);
	}
	array_free(&log_lines);
	if (ret > 0) {
		/* deferred: the driver removes them later, a sync reports it */
		return 0;
	}
	/* drop them from the disk set; the view reports them at sync */
	for (i = j = 0; i < set->recs.count; i++) {
		struct mail_record *rec = &set->recs.v[i];
		if (bsearch(&rec->uid, t->expunges.v, n, sizeof(uint32_t),
			    uid_cmp) != NULL) {
			quota_expunged(t, rec);
			mail_record_free(rec);
			continue;
		}
		set->recs.v[j++] = *rec;
	}
	set->recs.count = j;
	mail_expunge_history_add(set, t->expunges.v, n);
	return 0;
}

int mailbox_transaction_commit(struct mailbox_transaction **_t,
			       struct mail_transaction_commit_changes *changes_r)
{
	struct mailbox_transaction *t = *_t;
	struct mailbox *box = t->box;
	ARRAY_U32 uids = ARRAY_INIT;
	int ret = 0;

	*_t = NULL;
	if (changes_r != NULL)
		memset(changes_r, 0, sizeof(*changes_r));
	/* changes apply to the flags on disk now, not to what this session
	   last saw: another session's change since then must survive */
	if (t->updates.count > 0 && box->opened)
		(void)mailbox_sync_disk(box, false);
	if (t->updates.count > 0 && commit_updates(t) < 0)
		ret = -1;
	if (ret == 0 && commit_expunges(t) < 0)
		ret = -1;
	if ((t->updates.count > 0 || t->expunges.count > 0) && box->opened &&
	    box->v->commit_flush != NULL)
		box->v->commit_flush(box, &box->disk);
	if (t->saves.count > 0) {
		if (ret < 0) {
			box->v->save_rollback(t);
		} else if (box->v->save_commit(t, (void *)&uids) < 0) {
			ret = -1;
		} else if (box->opened) {
			/* pick the new messages up into the disk state */
			(void)mailbox_sync_disk(box, false);
		}
		if (ret == 0 && uids.count == t->saves.count &&
		    mail_log_enabled(box->user, MAIL_LOG_EVENT_SAVE |
				     MAIL_LOG_EVENT_COPY)) {
			const char **from = i_new(const char *,
						  t->saves.count + 1);

			for (size_t i = 0; i < t->saves.count; i++)
				from[i] = t->saves.v[i]->copy_src;
			mail_log_saved(box, uids.v, from,
				       (unsigned int)uids.count);
			i_free(from);
		}
	}
	if ((t->updates.count > 0 || t->expunges.count > 0) && box->opened &&
	    !box->readonly)
		(void)mail_index_save(box, &box->disk);
	if (ret == 0)
		quota_transaction_committed(t);
	if (changes_r != NULL && box->user->acl != NULL) {
		unsigned int rights;

		/* acl: no UIDs (APPENDUID/COPYUID) for a mailbox the user
		   can't read, as Dovecot */
		if (acl_mailbox_rights(box, &rights) < 0 ||
		    (rights & ACL_READ) == 0)
			array_clear(&uids);
	}
	if (changes_r != NULL) {
		changes_r->uidvalidity = box->disk.uidvalidity;
		changes_r->saved_uids.v = uids.v;
		changes_r->saved_uids.count = uids.count;
		changes_r->saved_uids.cap = uids.cap;
	} else {
		array_free(&uids);
	}
	transaction_free(t);
	return ret;
}

void mailbox_transaction_rollback(struct mailbox_transaction **_t)
{
	struct mailbox_transaction *t = *_t;

	*_t = NULL;
	if (t->saves.count > 0)
		t->box->v->save_rollback(t);
	/* undo the view's optimistic flag changes */
	if (t->updates.count > 0) {
		struct mailbox *box = t->box;
		for (size_t i = 0; i < box->view.recs.count; i++) {
			struct mail_record *v = &box->view.recs.v[i];
			struct mail_record *d = mail_record_set_find(&box->disk, v->uid);
			if (d == NULL)
				continue;
			v->flags = d->flags;
			if (v->kw != NULL)
				memset(v->kw, 0, box->kw_words * sizeof(uint32_t));
			for (unsigned int k = 0; k < box->kw_words * 32; k++) {
				if (mail_record_has_kw(d, k))
					mail_record_set_kw(v, k, true, box->kw_words);
			}
		}
	}
	transaction_free(t);
}

void mailbox_transaction_set_moving(struct mailbox_transaction *t)
{
	t->quota_moving = true;
}

void mail_transaction_commit_changes_free(struct mail_transaction_commit_changes *c)
{
	array_free(&c->saved_uids);
}

/* ---- save ---- */

struct mail_save_context *mailbox_save_alloc(struct mailbox_transaction *t)
{
	struct mail_save_context *ctx = i_new(struct mail_save_context, 1);

	ctx->t = t;
	ctx->box = t->box;
	ctx->received_date = (time_t)-1;
	return ctx;
}

void mailbox_save_set_flags(struct mail_save_context *ctx,
			    enum mail_flags flags, const char *const *keywords)
{
	ctx->flags = flags & MAIL_FLAGS_MASK;
	for (unsigned int i = 0; keywords != NULL && keywords[i] != NULL; i++)
		array_push(&ctx->keywords, i_strdup(keywords[i]));
}

void mailbox_save_set_received_date(struct mail_save_context *ctx,
				    time_t date, int tz_offset)
{
	ctx->received_date = date;
	ctx->received_tz = tz_offset;
}

void mailbox_save_set_from_envelope(struct mail_save_context *ctx,
				    const char *sender)
{
	i_free(ctx->from_envelope);
	ctx->from_envelope = i_strdup(sender);
}

void mailbox_save_set_guid(struct mail_save_context *ctx, const char *guid)
{
	i_free(ctx->guid);
	ctx->guid = i_strdup(guid);
}

static void save_ctx_free(struct mail_save_context *ctx)
{
	for (size_t j = 0; j < ctx->keywords.count; j++)
		free((char *)ctx->keywords.v[j]);
	array_free(&ctx->keywords);
	i_free(ctx->from_envelope);
	i_free(ctx->guid);
	i_free(ctx->copy_src);
	i_free(ctx);
}

int mailbox_save_begin(struct mail_save_context *ctx)
{
	struct mailbox *box = ctx->box;

	if (box->user->acl != NULL) {
		unsigned int rights, need = ACL_INSERT;

		if ((box->flags & MAILBOX_FLAG_SAVEONLY) != 0)
			need |= ACL_POST;
		box->acl_saving = true;
		if (acl_mailbox_rights(box, &rights) < 0)
			return -1;
		if ((rights & ACL_LOOKUP) == 0 && (rights & need) == 0) {
			mailbox_set_error(box, MAIL_ERROR_NOTFOUND,
				"Mailbox doesn't exist: %s", box->vname);
			return -1;
		}
		if ((rights & need) == 0) {
			mailbox_set_error(box, MAIL_ERROR_PERM,
					  "Permission denied");
			return -1;
		}
	}
	if (box->readonly) {
		mailbox_set_error(box, MAIL_ERROR_PERM, "Mailbox is read-only");
		return -1;
	}
	if (!box->opened && mailbox_open(box) < 0)
		return -1;
	for (size_t i = 0; i < ctx->keywords.count; i++) {
		if (mailbox_keyword_lookup(box, ctx->keywords.v[i], true) < 0) {
			mailbox_set_error(box, MAIL_ERROR_PARAMS,
					  "Invalid keyword: %s", ctx->keywords.v[i]);
			return -1;
		}
	}
	if (ctx->received_date == (time_t)-1)
		ctx->received_date = time(NULL);
	if (box->v->save_begin(ctx) < 0) {
		ctx->failed = true;
		return -1;
	}
	return 0;
}

int mailbox_save_continue(struct mail_save_context *ctx, const void *data,
			  size_t size)
{
	const unsigned char *p = data;

	if (ctx->failed)
		return -1;
	for (size_t i = 0; i < size; i++) {
		if (p[i] == '\n' && !(i == 0 ? ctx->last_cr : p[i - 1] == '\r'))
			ctx->vsize++;
	}
	if (size > 0)
		ctx->last_cr = p[size - 1] == '\r';
	ctx->size += size;
	ctx->vsize += size;
	if (ctx->box->v->save_continue(ctx, data, size) < 0) {
		ctx->failed = true;
		return -1;
	}
	return 0;
}

int mailbox_save_finish(struct mail_save_context **_ctx)
{
	struct mail_save_context *ctx = *_ctx;

	*_ctx = NULL;
	if (!ctx->failed && !ctx->quota_checked &&
	    quota_save_check(ctx, ctx->size, ctx->vsize) < 0)
		ctx->failed = true;
	if (ctx->failed || ctx->box->v->save_finish(ctx) < 0) {
		ctx->box->v->save_cancel(ctx);
		save_ctx_free(ctx);
		return -1;
	}
	ctx->finished = true;
	array_push(&ctx->t->saves, ctx);
	return 0;
}

void mailbox_save_cancel(struct mail_save_context **_ctx)
{
	struct mail_save_context *ctx = *_ctx;

	if (ctx == NULL)
		return;
	*_ctx = NULL;
	ctx->box->v->save_cancel(ctx);
	save_ctx_free(ctx);
}

int mailbox_copy(struct mail_save_context **_ctx, struct mail *mail)
{
	struct mail_save_context *ctx = *_ctx;
	const unsigned char *data;
	size_t size;
	time_t received;
	int ret;

	ctx->copying = true;
	i_free(ctx->copy_src);
	ctx->copy_src = i_strdup(mail->box->vname);
	if (ctx->box->user->quota != NULL) {
		uint64_t psize, vsize;

		if (mail_get_physical_size(mail, &psize) < 0 ||
		    mail_get_virtual_size(mail, &vsize) < 0) {
			mailbox_set_error(ctx->box, mail->box->error, "%s",
				mailbox_get_last_error(mail->box, NULL));
			mailbox_save_cancel(_ctx);
			return -1;
		}
		if (quota_save_check(ctx, psize, vsize) < 0) {
			mailbox_save_cancel(_ctx);
			return -1;
		}
		ctx->quota_checked = true;
	}
	if (ctx->keywords.count == 0 && ctx->flags == 0) {
		const char *const *kws = mail_get_keywords(mail);
		mailbox_save_set_flags(ctx, mail_get_flags(mail) & MAIL_FLAGS_MASK,
				       kws);
	}
	if (mail_get_received_date(mail, &received) == 0 &&
	    ctx->received_date == (time_t)-1)
		mailbox_save_set_received_date(ctx, received, 0);
	if (ctx->box->v->copy != NULL && ctx->box->v == mail->box->v) {
		if (!ctx->box->opened && mailbox_open(ctx->box) < 0) {
			mailbox_save_cancel(_ctx);
			return -1;
		}
		ret = ctx->box->v->copy(ctx, mail);
		if (ret < 0) {
			mailbox_save_cancel(_ctx);
			return -1;
		}
		if (ret > 0) {
			*_ctx = NULL;
			ctx->finished = true;
			array_push(&ctx->t->saves, ctx);
			return 0;
		}
	}
	if (mail_get_stream(mail, &data, &size) < 0) {
		mailbox_set_error(ctx->box, mail->box->error, "%s",
				  mailbox_get_last_error(mail->box, NULL));
		mailbox_save_cancel(_ctx);
		return -1;
	}
	if (mailbox_save_begin(ctx) < 0 ||
	    mailbox_save_continue(ctx, data, size) < 0) {
		mailbox_save_cancel(_ctx);
		return -1;
	}
	return mailbox_save_finish(_ctx);
}

/* ---- headers ---- */

int mail_get_header_size(struct mail *mail, size_t *size_r)
{
	const unsigned char *data, *p, *end;
	size_t size;

	if (mail_get_stream(mail, &data, &size) < 0)
		return -1;
	end = data + size;
	if (size > 0 && (data[0] == '\n' ||
			 (size > 1 && data[0] == '\r' && data[1] == '\n'))) {
		*size_r = data[0] == '\n' ? 1 : 2;
		return 0;
	}
	for (p = data; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		if (p + 1 < end && p[1] == '\n') {
			*size_r = (size_t)(p + 2 - data);
			return 0;
		}
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n') {
			*size_r = (size_t)(p + 3 - data);
			return 0;
		}
	}
	*size_r = size;	/* no body */
	return 0;
}

int mail_get_first_header(struct mail *mail, const char *field,
			  const char **value_r)
{
	struct mail_private *pmail = (struct mail_private *)mail;
	const unsigned char *data, *p, *end;
	size_t size, hdr_size, flen = strlen(field);
	string_t *value = NULL;

	*value_r = NULL;
	if (mail_get_header_size(mail, &hdr_size) < 0 ||
	    mail_get_stream(mail, &data, &size) < 0)
		return -1;
	end = data + hdr_size;
	for (p = data; p < end;) {
		const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *line_end = eol == NULL ? end : eol;

		if (value != NULL) {
			if (*p != ' ' && *p != '\t')
				break;
			/* folded continuation: unfold */
			str_append_n(value, p, (size_t)(line_end - p));
		} else if ((size_t)(line_end - p) > flen &&
			   strncasecmp((const char *)p, field, flen) == 0) {
			/* blanks may stand between the name and the colon
			   ("Subject : x"), as Dovecot's header parser allows */
			const unsigned char *v = p + flen;

			while (v < line_end && (*v == ' ' || *v == '\t'))
				v++;
			if (v == line_end || *v != ':') {
				if (eol == NULL)
					break;
				p = eol + 1;
				continue;
			}
			v++;
			while (v < line_end && (*v == ' ' || *v == '\t'))
				v++;
			value = str_new(64);
			str_append_n(value, v, (size_t)(line_end - v));
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	if (value == NULL)
		return 0;
	while (str_len(value) > 0 && (str_c(value)[str_len(value) - 1] == '\r'))
		str_truncate(value, str_len(value) - 1);
	/* unfolded lines keep their CR: drop CRs that preceded the LF */
	string_t *clean = str_new(str_len(value) + 1);
	for (size_t i = 0; i < str_len(value); i++) {
		if (str_c(value)[i] != '\r')
			str_append_c(clean, str_c(value)[i]);
	}
	str_free(&value);
	i_free(pmail->hdr);
	pmail->hdr = str_free_without_data(&clean);
	*value_r = pmail->hdr;
	return 0;
}

int mail_get_date(struct mail *mail, time_t *date_r, int *tz_r)
{
	const char *value;

	*date_r = 0;
	*tz_r = 0;
	if (mail_get_first_header(mail, "Date", &value) < 0)
		return -1;
	if (value != NULL && !rfc822_date_parse(value, date_r, tz_r)) {
		*date_r = 0;
		*tz_r = 0;
	}
	return 0;
}

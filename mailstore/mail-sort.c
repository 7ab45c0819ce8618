/* mail-sort.c - SORT: every key of every message is read once into a
 * table, which is then sorted (keys in order, REVERSE per key, ties by
 * ascending sequence number as Dovecot does even under REVERSE). */
#include "mail-sort.h"
#include "imap-base-subject.h"
#include "message-address.h"
#include "message-date.h"
#include "message-header.h"

#include <strings.h>

struct sort_value {
	uint64_t num;
	char *str;		/* string keys; NULL for numbers */
};

struct sort_item {
	uint32_t seq;
	struct sort_value *values;	/* one per key */
};

struct sort_ctx {
	const struct mail_sort_key *keys;
	unsigned int key_count;
};

static const char *const sort_type_names[] = {
	[MAIL_SORT_ARRIVAL] = "ARRIVAL",
	[MAIL_SORT_CC] = "CC",
	[MAIL_SORT_DATE] = "DATE",
	[MAIL_SORT_FROM] = "FROM",
	[MAIL_SORT_SIZE] = "SIZE",
	[MAIL_SORT_SUBJECT] = "SUBJECT",
	[MAIL_SORT_TO] = "TO",
	[MAIL_SORT_DISPLAYFROM] = "DISPLAYFROM",
	[MAIL_SORT_DISPLAYTO] = "DISPLAYTO",
};

int mail_sort_type_parse(const char *name, enum mail_sort_type *type_r)
{
	for (unsigned int i = 0; i < N_ELEMENTS(sort_type_names); i++) {
		if (strcasecmp(name, sort_type_names[i]) == 0) {
			*type_r = (enum mail_sort_type)i;
			return 0;
		}
	}
	return -1;
}

int mail_sort_get_date(struct mail *mail, time_t *date_r)
{
	const char *value;
	int tz;

	*date_r = 0;
	if (mail_get_first_header(mail, "Date", &value) < 0)
		return -1;
	if (value == NULL ||
	    !message_date_parse(value, strlen(value), date_r, &tz))
		*date_r = 0;
	if (*date_r == 0)
		return mail_get_received_date(mail, date_r);
	return 0;
}

/* The first address of field (a group's start counts: its name is the
   mailbox), or NULL. */
static int get_first_address(struct mail *mail, const char *field,
			     pool_t pool, struct message_address **addr_r)
{
	const char *value;

	*addr_r = NULL;
	if (mail_get_first_header(mail, field, &value) < 0)
		return -1;
	if (value != NULL)
		*addr_r = message_address_parse(
			pool, value, strlen(value), 1,
			MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING);
	return 0;
}

/* RFC 5957: the decoded display name, else the addr-spec. */
static void append_display(const struct message_address *addr,
			   string_t *dest)
{
	if (addr->name != NULL && addr->name[0] != '\0') {
		(void)message_header_decode_utf8(addr->name,
						 strlen(addr->name), dest);
		return;
	}
	if (addr->mailbox != NULL)
		str_append(dest, addr->mailbox);
	if (addr->domain != NULL) {
		str_append_c(dest, '@');
		str_append(dest, addr->domain);
	}
}

int mail_sort_get_string(struct mail *mail, enum mail_sort_type type,
			 string_t *dest)
{
	static const char *const fields[] = {
		[MAIL_SORT_CC] = "Cc", [MAIL_SORT_FROM] = "From",
		[MAIL_SORT_TO] = "To", [MAIL_SORT_DISPLAYFROM] = "From",
		[MAIL_SORT_DISPLAYTO] = "To",
	};
	struct message_address *addr;
	const char *value;
	string_t *raw;
	pool_t pool;
	int ret;

	if (type == MAIL_SORT_SUBJECT) {
		if (mail_get_first_header(mail, "Subject", &value) < 0)
			return -1;
		if (value != NULL)
			imap_base_subject_get(value, dest, NULL);
		return 0;
	}
	i_assert(type < N_ELEMENTS(fields) && fields[type] != NULL);
	pool = pool_create("sort address", 512);
	ret = get_first_address(mail, fields[type], pool, &addr);
	if (ret == 0 && addr != NULL) {
		raw = str_new(64);
		if (type == MAIL_SORT_DISPLAYFROM || type == MAIL_SORT_DISPLAYTO)
			append_display(addr, raw);
		else if (addr->mailbox != NULL)
			str_append(raw, addr->mailbox);
		imap_sort_casefold(str_c(raw), str_len(raw), dest);
		str_free(&raw);
	}
	pool_destroy(&pool);
	return ret;
}

static bool sort_type_is_string(enum mail_sort_type type)
{
	return type != MAIL_SORT_ARRIVAL && type != MAIL_SORT_DATE &&
		type != MAIL_SORT_SIZE;
}

static int sort_value_get(struct mail *mail, enum mail_sort_type type,
			  struct sort_value *value_r, string_t *tmp)
{
	time_t t;
	int ret;

	switch (type) {
	case MAIL_SORT_ARRIVAL:
		ret = mail_get_received_date(mail, &t);
		value_r->num = (uint64_t)t;
		return ret;
	case MAIL_SORT_DATE:
		ret = mail_sort_get_date(mail, &t);
		value_r->num = (uint64_t)t;
		return ret;
	case MAIL_SORT_SIZE:
		return mail_get_virtual_size(mail, &value_r->num);
	default:
		str_clear(tmp);
		if (mail_sort_get_string(mail, type, tmp) < 0)
			return -1;
		value_r->str = i_strdup(str_c(tmp));
		return 0;
	}
}

static int sort_cmp(const void *p1, const void *p2, void *context)
{
	const struct sort_item *i1 = p1, *i2 = p2;
	const struct sort_ctx *ctx = context;

	for (unsigned int k = 0; k < ctx->key_count; k++) {
		const struct sort_value *v1 = &i1->values[k];
		const struct sort_value *v2 = &i2->values[k];
		int ret;

		if (v1->str != NULL)
			ret = strcmp(v1->str, v2->str);
		else {
			/* dates are signed: compare them as such */
			int64_t n1 = (int64_t)v1->num, n2 = (int64_t)v2->num;

			if (ctx->keys[k].type == MAIL_SORT_SIZE)
				ret = v1->num < v2->num ? -1 :
					v1->num > v2->num ? 1 : 0;
			else
				ret = n1 < n2 ? -1 : n1 > n2 ? 1 : 0;
		}
		if (ret != 0)
			return ctx->keys[k].reverse ? -ret : ret;
	}
	return i1->seq < i2->seq ? -1 : i1->seq > i2->seq ? 1 : 0;
}

static void sort_items_free(struct sort_item *items, unsigned int count,
			    unsigned int key_count)
{
	for (unsigned int i = 0; i < count; i++) {
		if (items[i].values == NULL)
			continue;
		for (unsigned int k = 0; k < key_count; k++)
			i_free(items[i].values[k].str);
		i_free(items[i].values);
	}
	i_free(items);
}

int mail_sort_seqs(struct mailbox *box, const struct mail_sort_key *keys,
		   uint32_t *seqs, unsigned int count)
{
	struct sort_ctx ctx = { .keys = keys };
	struct sort_item *items;
	struct mail *mail;
	string_t *tmp;
	int ret = 0;

	while (keys[ctx.key_count].type != MAIL_SORT_END)
		ctx.key_count++;
	if (count <= 1 || ctx.key_count == 0)
		return 0;

	items = i_new(struct sort_item, count);
	mail = mail_alloc(box);
	tmp = str_new(128);
	for (unsigned int i = 0; i < count && ret == 0; i++) {
		items[i].seq = seqs[i];
		items[i].values = i_new(struct sort_value, ctx.key_count);
		mail_set_seq(mail, seqs[i]);
		for (unsigned int k = 0; k < ctx.key_count && ret == 0; k++) {
			ret = sort_value_get(mail, keys[k].type,
					     &items[i].values[k], tmp);
			/* a message expunged under us sorts as empty */
			if (ret < 0 && mail->expunged)
				ret = 0;
			if (ret < 0)
				break;
			if (sort_type_is_string(keys[k].type) &&
			    items[i].values[k].str == NULL)
				items[i].values[k].str = i_strdup("");
		}
	}
	str_free(&tmp);
	mail_free(&mail);
	if (ret == 0) {
		qsort_r(items, count, sizeof(*items), sort_cmp, &ctx);
		for (unsigned int i = 0; i < count; i++)
			seqs[i] = items[i].seq;
	}
	sort_items_free(items, count, ctx.key_count);
	return ret;
}

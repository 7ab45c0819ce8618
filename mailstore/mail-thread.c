/* mail-thread.c - THREAD: the RFC 5256 REFERENCES algorithm (link by
 * Message-ID/References/In-Reply-To with dummy parents, prune, sort,
 * merge roots by base subject), Dovecot's REFS variant and
 * ORDEREDSUBJECT, over a tree of nodes kept in one pool. */
#include "mail-thread.h"
#include "mail-sort.h"
#include "imap-base-subject.h"
#include "array.h"
#include "hash.h"
#include "pool.h"

#include <strings.h>

struct thread_node;
typedef ARRAY(struct thread_node *) ARRAY_NODE;

struct thread_node {
	struct thread_node *parent;
	ARRAY_NODE children;
	uint32_t seq;		/* 0: a dummy (a Message-ID only referred to) */
	time_t date;		/* sent date (INTERNALDATE if none) */
	const char *subject;	/* base subject */
	bool reply;		/* the subject was a reply or forward */
	/* the key siblings are sorted by: own date and seq, or for a
	   dummy its first child's (REFS: the newest in the thread) */
	time_t sort_date;
	uint64_t sort_seq;
	/* a root that took the place of a dummy parent with no other
	   child (REFS sorts these as dummies) */
	bool dummy_root;
};

struct thread_ctx {
	struct mailbox *box;
	enum mail_thread_type type;
	pool_t pool;
	struct hash_table *msgids;	/* Message-ID -> node */
	ARRAY_NODE all;			/* every node, for freeing */
	ARRAY_NODE roots;
};

static const char *const thread_type_names[] = {
	[MAIL_THREAD_ORDEREDSUBJECT] = "ORDEREDSUBJECT",
	[MAIL_THREAD_REFERENCES] = "REFERENCES",
	[MAIL_THREAD_REFS] = "REFS",
};

int mail_thread_type_parse(const char *name, enum mail_thread_type *type_r)
{
	for (unsigned int i = 0; i < N_ELEMENTS(thread_type_names); i++) {
		if (strcasecmp(name, thread_type_names[i]) == 0) {
			*type_r = (enum mail_thread_type)i;
			return 0;
		}
	}
	return -1;
}

static struct thread_node *node_new(struct thread_ctx *ctx)
{
	struct thread_node *node = p_new(ctx->pool, struct thread_node, 1);

	array_push(&ctx->all, node);
	return node;
}

/* ---- Message-IDs -------------------------------------------------- */

/* The next "<left@right>" of a Message-ID/References/In-Reply-To value
   (without the brackets, whitespace dropped), or NULL at the end. */
static const char *msgid_next(struct thread_ctx *ctx, const char **p)
{
	const char *s = *p;

	while ((s = strchr(s, '<')) != NULL) {
		const char *end = strpbrk(s + 1, "<>");
		string_t *id;

		if (end == NULL)
			break;
		if (*end == '<') {
			s = end;
			continue;
		}
		*p = end + 1;
		id = str_new(64);
		for (const char *c = s + 1; c < end; c++) {
			if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n')
				str_append_c(id, *c);
		}
		if (str_len(id) > 0 && strchr(str_c(id), '@') != NULL) {
			const char *ret = p_strdup(ctx->pool, str_c(id));

			str_free(&id);
			return ret;
		}
		str_free(&id);
		s = end + 1;
	}
	*p = "";
	return NULL;
}

static struct thread_node *msgid_node(struct thread_ctx *ctx, const char *id)
{
	struct thread_node *node = hash_lookup(ctx->msgids, id);

	if (node == NULL) {
		node = node_new(ctx);
		hash_insert(ctx->msgids, id, node);
	}
	return node;
}

/* ---- tree --------------------------------------------------------- */

static bool would_loop(const struct thread_node *parent,
		       const struct thread_node *child)
{
	for (; parent != NULL; parent = parent->parent) {
		if (parent == child)
			return true;
	}
	return false;
}

static void node_unlink(struct thread_node *node)
{
	struct thread_node *parent = node->parent;

	if (parent == NULL)
		return;
	for (size_t i = 0; i < parent->children.count; i++) {
		if (parent->children.v[i] == node) {
			array_delete(&parent->children, i);
			break;
		}
	}
	node->parent = NULL;
}

static void node_link(struct thread_node *parent, struct thread_node *child)
{
	child->parent = parent;
	array_push(&parent->children, child);
}

/* RFC 5256 step 1: the message's own node and its References chain. */
static int thread_add_refs(struct thread_ctx *ctx, struct mail *mail,
			   struct thread_node *node)
{
	struct thread_node *prev = NULL, *ref;
	const char *value, *p, *id;

	if (mail_get_first_header(mail, "References", &value) < 0)
		return -1;
	p = value != NULL ? value : "";
	if (strchr(p, '<') == NULL || (id = msgid_next(ctx, &p)) == NULL) {
		if (mail_get_first_header(mail, "In-Reply-To", &value) < 0)
			return -1;
		p = value != NULL ? value : "";
		id = msgid_next(ctx, &p);
		p = "";
	}
	for (; id != NULL; id = msgid_next(ctx, &p)) {
		ref = msgid_node(ctx, id);
		/* an existing link is never changed, nor a loop made */
		if (prev != NULL && ref->parent == NULL &&
		    !would_loop(prev, ref))
			node_link(prev, ref);
		prev = ref;
	}
	/* the message's own last reference (or none: a root) replaces the
	   parent that other messages' References gave it */
	node_unlink(node);
	if (prev != NULL && !would_loop(prev, node))
		node_link(prev, node);
	return 0;
}

static int thread_add_message(struct thread_ctx *ctx, struct mail *mail)
{
	struct thread_node *node = NULL;
	const char *value, *p, *id = NULL;
	string_t *subj;

	if (mail_get_first_header(mail, "Message-ID", &value) < 0)
		return -1;
	if (value != NULL) {
		p = value;
		id = msgid_next(ctx, &p);
	}
	if (id != NULL) {
		node = msgid_node(ctx, id);
		if (node->seq != 0)
			node = NULL;	/* duplicate: it gets a node alone */
	}
	if (node == NULL)
		node = node_new(ctx);
	node->seq = mail->seq;
	if (mail_sort_get_date(mail, &node->date) < 0 ||
	    mail_get_first_header(mail, "Subject", &value) < 0)
		return -1;
	subj = str_new(64);
	if (value != NULL)
		imap_base_subject_get(value, subj, &node->reply);
	node->subject = p_strdup(ctx->pool, str_c(subj));
	str_free(&subj);
	if (ctx->type == MAIL_THREAD_ORDEREDSUBJECT)
		return 0;
	return thread_add_refs(ctx, mail, node);
}

/* RFC 5256 step 3: dummies without children go; a dummy's children
   take its place unless it is a root with more than one child. */
static void prune_list(ARRAY_NODE *list, struct thread_node *parent)
{
	for (size_t i = 0; i < list->count;) {
		struct thread_node *node = list->v[i];
		ARRAY_NODE kids;

		prune_list(&node->children, node);
		if (node->seq != 0 ||
		    (parent == NULL && node->children.count > 1)) {
			i++;
			continue;
		}
		kids = node->children;
		array_delete(list, i);
		for (size_t k = 0; k < kids.count; k++) {
			kids.v[k]->parent = parent;
			if (parent == NULL)
				kids.v[k]->dummy_root = true;
			array_reserve(list, list->count + 1);
			memmove(&list->v[i + k + 1], &list->v[i + k],
				(list->count - i - k) * sizeof(list->v[0]));
			list->v[i + k] = kids.v[k];
			list->count++;
		}
		node->children.count = 0;
		i += kids.count;
	}
}

static int node_cmp(const void *p1, const void *p2)
{
	const struct thread_node *n1 = *(struct thread_node *const *)p1;
	const struct thread_node *n2 = *(struct thread_node *const *)p2;

	if (n1->sort_date != n2->sort_date)
		return n1->sort_date < n2->sort_date ? -1 : 1;
	return n1->sort_seq < n2->sort_seq ? -1 :
		n1->sort_seq > n2->sort_seq ? 1 : 0;
}

/* Sort every sibling list under list by sent date (then sequence); a
   dummy sorts as its first child. */
static void sort_list(ARRAY_NODE *list)
{
	for (size_t i = 0; i < list->count; i++) {
		struct thread_node *node = list->v[i];

		sort_list(&node->children);
		if (node->seq != 0) {
			node->sort_date = node->date;
			node->sort_seq = node->seq;
		} else if (node->children.count > 0) {
			node->sort_date = node->children.v[0]->sort_date;
			node->sort_seq = node->children.v[0]->sort_seq;
		}
	}
	if (list->count > 1)
		qsort(list->v, list->count, sizeof(list->v[0]), node_cmp);
}

/* The message a root's subject comes from: itself or its first child. */
static const struct thread_node *subject_node(const struct thread_node *n)
{
	return n->seq != 0 || n->children.count == 0 ? n : n->children.v[0];
}

/* The newest date of the messages at and below node. */
static time_t subtree_newest(const struct thread_node *node)
{
	time_t date = node->seq != 0 ? node->date : 0;

	for (size_t i = 0; i < node->children.count; i++) {
		time_t d = subtree_newest(node->children.v[i]);

		if (d > date)
			date = d;
	}
	return date;
}

/* REFS: threads in the order of their newest message; on equal dates
   threads under a dummy (kept or pruned) first, then by the sequence of
   the thread's first message (Dovecot's order). */
static void sort_roots_newest(ARRAY_NODE *roots)
{
	for (size_t i = 0; i < roots->count; i++) {
		struct thread_node *root = roots->v[i];
		const struct thread_node *first = subject_node(root);

		root->sort_date = subtree_newest(root);
		root->sort_seq = first->seq;
		if (root->seq != 0 && !root->dummy_root)
			root->sort_seq += 1ULL << 32;
	}
	if (roots->count > 1)
		qsort(roots->v, roots->count, sizeof(roots->v[0]), node_cmp);
}

/* RFC 5256 step 5: merge roots whose base subjects are equal. */
static void merge_subjects(struct thread_ctx *ctx)
{
	struct hash_table *subjects = hash_create(false);

	for (size_t i = 0; i < ctx->roots.count; i++) {
		struct thread_node *root = ctx->roots.v[i], *old;
		const struct thread_node *sn = subject_node(root);

		if (sn->subject[0] == '\0')
			continue;
		old = hash_lookup(subjects, sn->subject);
		if (old == NULL ||
		    (old->seq != 0 && root->seq == 0) ||
		    (subject_node(old)->reply && !sn->reply &&
		     !(old->seq == 0 && root->seq != 0)))
			hash_insert(subjects, sn->subject, root);
	}
	for (size_t i = 0; i < ctx->roots.count;) {
		struct thread_node *cur = ctx->roots.v[i], *tab, *dummy;
		const struct thread_node *sn = subject_node(cur);

		tab = sn->subject[0] == '\0' ? NULL :
			hash_lookup(subjects, sn->subject);
		if (tab == NULL || tab == cur) {
			i++;
			continue;
		}
		array_delete(&ctx->roots, i);
		if (tab->seq == 0 && cur->seq == 0) {
			for (size_t k = 0; k < cur->children.count; k++)
				node_link(tab, cur->children.v[k]);
			cur->children.count = 0;
		} else if (tab->seq == 0) {
			node_link(tab, cur);
		} else if (sn->reply && !subject_node(tab)->reply) {
			node_link(tab, cur);
		} else {
			dummy = node_new(ctx);
			for (size_t k = 0; k < ctx->roots.count; k++) {
				if (ctx->roots.v[k] == tab)
					ctx->roots.v[k] = dummy;
			}
			node_link(dummy, tab);
			node_link(dummy, cur);
			hash_insert(subjects, sn->subject, dummy);
		}
		/* roots before i are unchanged: a replaced one keeps its
		   place, so i still points at the next unseen root */
	}
	hash_destroy(&subjects);
}

/* ORDEREDSUBJECT: by base subject and date; each run of one subject is
   a thread whose first message is the parent of all the others. */
static int subject_cmp(const void *p1, const void *p2)
{
	const struct thread_node *n1 = *(struct thread_node *const *)p1;
	const struct thread_node *n2 = *(struct thread_node *const *)p2;
	int ret = strcmp(n1->subject, n2->subject);

	if (ret != 0)
		return ret;
	if (n1->date != n2->date)
		return n1->date < n2->date ? -1 : 1;
	return n1->seq < n2->seq ? -1 : n1->seq > n2->seq ? 1 : 0;
}

static void thread_orderedsubject(struct thread_ctx *ctx)
{
	ARRAY_NODE msgs = ctx->roots;
	struct thread_node *top = NULL;

	if (msgs.count > 1)
		qsort(msgs.v, msgs.count, sizeof(msgs.v[0]), subject_cmp);
	ctx->roots = (ARRAY_NODE)ARRAY_INIT;
	for (size_t i = 0; i < msgs.count; i++) {
		if (top != NULL &&
		    strcmp(top->subject, msgs.v[i]->subject) == 0) {
			node_link(top, msgs.v[i]);
			continue;
		}
		top = msgs.v[i];
		array_push(&ctx->roots, top);
	}
	array_free(&msgs);
	for (size_t i = 0; i < ctx->roots.count; i++) {
		ctx->roots.v[i]->sort_date = ctx->roots.v[i]->date;
		ctx->roots.v[i]->sort_seq = ctx->roots.v[i]->seq;
	}
	if (ctx->roots.count > 1)
		qsort(ctx->roots.v, ctx->roots.count, sizeof(ctx->roots.v[0]),
		      node_cmp);
}

/* ---- output ------------------------------------------------------- */

static void write_node(struct thread_ctx *ctx, const struct thread_node *node,
		       bool uid, string_t *dest)
{
	const struct thread_node *n = node;

	/* a chain of only children is written flat: "1 2 3" */
	for (;;) {
		if (n->seq != 0) {
			if (n != node)
				str_append_c(dest, ' ');
			str_printfa(dest, "%u", uid ?
				    mailbox_seq_to_uid(ctx->box, n->seq) :
				    n->seq);
		}
		if (n->children.count != 1)
			break;
		n = n->children.v[0];
	}
	if (n->children.count == 0)
		return;
	if (n->seq != 0)
		str_append_c(dest, ' ');
	for (size_t i = 0; i < n->children.count; i++) {
		str_append_c(dest, '(');
		write_node(ctx, n->children.v[i], uid, dest);
		str_append_c(dest, ')');
	}
}

static void thread_ctx_free(struct thread_ctx *ctx)
{
	for (size_t i = 0; i < ctx->all.count; i++)
		array_free(&ctx->all.v[i]->children);
	array_free(&ctx->all);
	array_free(&ctx->roots);
	hash_destroy(&ctx->msgids);
	pool_destroy(&ctx->pool);
}

int mail_thread_build(struct mailbox *box, enum mail_thread_type type,
		      const uint32_t *seqs, unsigned int count, bool uid,
		      string_t *dest)
{
	struct thread_ctx ctx;
	struct mail *mail;
	int ret = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.box = box;
	ctx.type = type;
	ctx.pool = pool_create("thread", 4096);
	ctx.msgids = hash_create(false);
	mail = mail_alloc(box);
	for (unsigned int i = 0; i < count && ret == 0; i++) {
		mail_set_seq(mail, seqs[i]);
		ret = thread_add_message(&ctx, mail);
		/* a message expunged under us is left out */
		if (ret < 0 && mail->expunged)
			ret = 0;
	}
	mail_free(&mail);
	if (ret < 0) {
		thread_ctx_free(&ctx);
		return -1;
	}

	if (type == MAIL_THREAD_ORDEREDSUBJECT) {
		for (size_t i = 0; i < ctx.all.count; i++) {
			if (ctx.all.v[i]->seq != 0)
				array_push(&ctx.roots, ctx.all.v[i]);
		}
		thread_orderedsubject(&ctx);
	} else {
		for (size_t i = 0; i < ctx.all.count; i++) {
			if (ctx.all.v[i]->parent == NULL)
				array_push(&ctx.roots, ctx.all.v[i]);
		}
		prune_list(&ctx.roots, NULL);
		sort_list(&ctx.roots);
		if (type == MAIL_THREAD_REFERENCES) {
			merge_subjects(&ctx);
			sort_list(&ctx.roots);
		} else {
			sort_roots_newest(&ctx.roots);
		}
	}
	for (size_t i = 0; i < ctx.roots.count; i++) {
		str_append_c(dest, '(');
		write_node(&ctx, ctx.roots.v[i], uid, dest);
		str_append_c(dest, ')');
	}
	thread_ctx_free(&ctx);
	return 0;
}

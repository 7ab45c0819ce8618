/* mailbox-list.c - LIST over every namespace: the drivers give storage
 * names, this file adds namespace prefixes, INBOX, missing parents as
 * \Noselect, children flags, special-use from the config's mailbox
 * sections, and the subscriptions file in Dovecot's format:
 *   "V\t2\n\n" then one name per line, hierarchy separators as TABs. */
#include "mail-storage-private.h"
#include "hash.h"
#include "acl.h"
#include "mkdir-parents.h"
#include "settings-structs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct mailbox_list_iter {
	struct mail_user *user;
	pool_t pool;
	ARRAY(struct mailbox_info) infos;
	size_t pos;
	int error;
};

bool mailbox_pattern_match(const char *pattern, const char *vname, char sep)
{
	while (*pattern != '\0') {
		if (*pattern == '*' || *pattern == '%') {
			bool any = *pattern == '*';

			while (*pattern == '*' || *pattern == '%') {
				if (*pattern == '*')
					any = true;
				pattern++;
			}
			for (const char *s = vname;; s++) {
				if (mailbox_pattern_match(pattern, s, sep))
					return true;
				if (*s == '\0' || (!any && *s == sep))
					return false;
			}
		}
		if (*vname != *pattern)
			return false;
		pattern++;
		vname++;
	}
	return *vname == '\0';
}

/* INBOX matches its patterns case-insensitively. */
static bool pattern_match_vname(const char *pattern, const char *vname,
				char sep)
{
	if (mailbox_pattern_match(pattern, vname, sep))
		return true;
	if (strncmp(vname, "INBOX", 5) == 0 &&
	    (vname[5] == '\0' || vname[5] == sep) &&
	    strncasecmp(pattern, "INBOX", 5) == 0) {
		char *p = i_strdup(pattern);
		bool ret;

		memcpy(p, "INBOX", 5);
		ret = mailbox_pattern_match(p, vname, sep);
		i_free(p);
		return ret;
	}
	return false;
}

static enum mailbox_info_flags special_use_flag(const char *name)
{
	static const struct {
		const char *name;
		enum mailbox_info_flags flag;
	} uses[] = {
		{ "\\All", MAILBOX_SPECIALUSE_ALL },
		{ "\\Archive", MAILBOX_SPECIALUSE_ARCHIVE },
		{ "\\Drafts", MAILBOX_SPECIALUSE_DRAFTS },
		{ "\\Flagged", MAILBOX_SPECIALUSE_FLAGGED },
		{ "\\Junk", MAILBOX_SPECIALUSE_JUNK },
		{ "\\Sent", MAILBOX_SPECIALUSE_SENT },
		{ "\\Trash", MAILBOX_SPECIALUSE_TRASH },
		{ "\\Important", MAILBOX_SPECIALUSE_IMPORTANT },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(uses); i++) {
		if (strcasecmp(uses[i].name, name) == 0)
			return uses[i].flag;
	}
	return 0;
}

enum mailbox_info_flags mailbox_special_use_flags(struct mail_namespace *ns,
						  const char *name);
/* The special-use flags the config gives mailbox name (no prefix) of
 * namespace ns. */
enum mailbox_info_flags mailbox_special_use_flags(struct mail_namespace *ns,
						  const char *name)
{
	const struct settings_root *set = ns->user->set;
	enum mailbox_info_flags flags = 0;

	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct settings_namespace *nset = set->namespace[i];

		if (strcmp(nset->name, ns->name) != 0)
			continue;
		for (unsigned int j = 0; j < nset->mailbox_count; j++) {
			const struct settings_mailbox *m = nset->mailbox[j];
			const char *p = m->special_use;

			if (strcmp(m->name, name) != 0)
				continue;
			while (*p != '\0') {
				const char *end = strchr(p, ' ');
				size_t len = end == NULL ? strlen(p) :
					(size_t)(end - p);
				char *word = i_strndup(p, len);

				flags |= special_use_flag(word);
				i_free(word);
				p += len;
				while (*p == ' ')
					p++;
			}
		}
	}
	return flags;
}

/* ---- subscriptions ---- */

static const char *subs_path(struct mail_namespace *ns)
{
	return ns->mlist->v->subscriptions_path(ns->mlist);
}

const char *const *mail_user_get_list_notify_paths(struct mail_user *user,
						   pool_t pool)
{
	ARRAY_STR paths = ARRAY_INIT;
	const char **result;

	for (struct mail_namespace *ns = user->namespaces; ns != NULL;
	     ns = ns->next) {
		const char *dirs[2] = { NULL, NULL };
		const char *subs, *slash;

		if (ns->mlist == NULL)
			continue;
		if (ns->mlist->root != NULL && ns->mlist->root[0] != '\0')
			dirs[0] = ns->mlist->root;
		subs = subs_path(ns);
		if (subs != NULL && (slash = strrchr(subs, '/')) != NULL &&
		    slash != subs)
			dirs[1] = p_strndup(pool, subs, (size_t)(slash - subs));
		for (unsigned int i = 0; i < 2; i++) {
			bool dup = dirs[i] == NULL;

			for (size_t j = 0; j < paths.count && !dup; j++)
				dup = strcmp(paths.v[j], dirs[i]) == 0;
			if (!dup)
				array_push(&paths, p_strdup(pool, dirs[i]));
		}
	}
	result = p_new(pool, const char *, paths.count + 1);
	for (size_t i = 0; i < paths.count; i++)
		result[i] = paths.v[i];
	array_free(&paths);
	return result;
}

/* Read the names in ns's subscriptions file (storage names with the
 * namespace separator). Missing file = none. */
static int subs_read(struct mail_namespace *ns, ARRAY_STR *names)
{
	const char *path = subs_path(ns);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool header = true, first = true;

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (first) {
			first = false;
			/* version 2 header; old files have no header */
			if (line[0] == 'V' && line[1] == '\t')
				continue;
			header = false;
		}
		if (header && len == 0) {
			header = false;
			continue;
		}
		if (len == 0)
			continue;
		for (char *p = line; *p != '\0'; p++) {
			if (*p == '\t')
				*p = ns->sep;
		}
		array_push(names, i_strdup(line));
	}
	free(line);
	fclose(f);
	return 0;
}

static void names_free(ARRAY_STR *names)
{
	for (size_t i = 0; i < names->count; i++)
		free((char *)names->v[i]);
	array_free(names);
}

static int subs_write(struct mail_namespace *ns, const ARRAY_STR *names)
{
	const char *path = subs_path(ns);
	char *tmp = i_strdup_printf("%s.lock", path);
	string_t *str = str_new(256);
	int fd, ret = 0;

	str_append(str, "V\t2\n\n");
	for (size_t i = 0; i < names->count; i++) {
		for (const char *p = names->v[i]; *p != '\0'; p++)
			str_append_c(str, *p == ns->sep ? '\t' : *p);
		str_append_c(str, '\n');
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 && errno == ENOENT && strrchr(tmp, '/') != NULL) {
		/* the mail root isn't there yet (a user who has only
		   looked at mailboxes shared with him) */
		char *dir = i_strndup(tmp, (size_t)(strrchr(tmp, '/') - tmp));
		if (mkdir_parents(dir, 0700) == 0)
			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		i_free(dir);
	}
	if (fd < 0 || write(fd, str_c(str), str_len(str)) != (ssize_t)str_len(str) ||
	    fsync(fd) < 0 || rename(tmp, path) < 0) {
		i_error("write(%s) failed: %m", tmp);
		(void)unlink(tmp);
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	str_free(&str);
	i_free(tmp);
	return ret;
}

/* The namespace whose subscriptions file holds vname's subscription,
 * and the name to store there. */
static struct mail_namespace *subs_ns(struct mail_user *user,
				      const char *vname, const char **name_r)
{
	struct mail_namespace *ns = mail_namespace_find(user, vname);
	size_t plen;

	if (ns == NULL)
		return NULL;
	plen = strlen(ns->prefix);
	*name_r = strlen(vname) >= plen ? vname + plen : "";
	if (ns->subscriptions)
		return ns;
	/* stored with its full name in the prefix-less namespace */
	*name_r = vname;
	for (struct mail_namespace *n = user->namespaces; n != NULL; n = n->next) {
		if (n->prefix[0] == '\0' && n->subscriptions)
			return n;
	}
	return NULL;
}

int mailbox_list_subscribe(struct mail_user *user, const char *vname,
			   bool set)
{
	ARRAY_STR names = ARRAY_INIT;
	struct mail_namespace *ns;
	const char *name;
	size_t i;
	int ret = 0;

	vname = mailbox_vname_normalize(user, vname);
	ns = subs_ns(user, vname, &name);
	if (ns == NULL) {
		mail_user_set_error(user, MAIL_ERROR_NOTFOUND,
				    "Mailbox doesn't exist: %s", vname);
		return -1;
	}
	if (subs_read(ns, &names) < 0) {
		mail_user_set_error(user, MAIL_ERROR_TEMP,
			"Internal error occurred. Refer to server log for more information.");
		i_error("open(%s) failed: %m", subs_path(ns));
		return -1;
	}
	for (i = 0; i < names.count; i++) {
		if (strcmp(names.v[i], name) == 0)
			break;
	}
	if (set && i == names.count) {
		array_push(&names, i_strdup(name));
		ret = subs_write(ns, &names);
	} else if (!set && i < names.count) {
		free((char *)names.v[i]);
		array_delete(&names, i);
		ret = subs_write(ns, &names);
	}
	names_free(&names);
	if (ret < 0)
		mail_user_set_error(user, MAIL_ERROR_TEMP,
			"Internal error occurred. Refer to server log for more information.");
	return ret;
}

/* ---- listing ---- */

struct list_collect {
	struct mail_namespace *ns;
	struct hash_table *names;	/* vname -> (uintptr_t)flags */
	ARRAY_STR order;
};

static void collect_add(struct list_collect *c, const char *vname,
			enum mailbox_info_flags flags)
{
	void *old;
	const char *key;

	if (hash_lookup_full(c->names, vname, &key, &old)) {
		/* a real mailbox replaces a parent placeholder */
		enum mailbox_info_flags of = (enum mailbox_info_flags)(uintptr_t)old;
		if ((of & MAILBOX_NONEXISTENT) != 0 || (flags & MAILBOX_NONEXISTENT) == 0)
			hash_insert(c->names, vname, (void *)(uintptr_t)(flags | (of & ~(MAILBOX_NONEXISTENT | MAILBOX_NOSELECT))));
		return;
	}
	hash_insert(c->names, vname, (void *)(uintptr_t)flags);
	array_push(&c->order, i_strdup(vname));
}

static void collect_cb(const char *name, enum mailbox_info_flags flags,
		       void *context)
{
	struct list_collect *c = context;
	struct mail_namespace *ns = c->ns;
	char *vname;

	if (ns->inbox && strcasecmp(name, "INBOX") == 0) {
		/* the inbox namespace's INBOX is "INBOX" whatever the
		   prefix; a directory of that name (mbox INBOX/sub) only
		   gives it children */
		collect_add(c, "INBOX", flags & ~(MAILBOX_NOSELECT |
						  MAILBOX_NOINFERIORS));
		return;
	}
	vname = i_strdup_printf("%s%s", ns->prefix, name);
	/* acl: mailboxes the user may not look up aren't there */
	if (ns->user->acl != NULL &&
	    (acl_vname_rights(ns->user, vname) & ACL_LOOKUP) == 0) {
		i_free(vname);
		return;
	}
	collect_add(c, vname, flags);
	/* parents that don't exist are listed as \Noselect */
	for (char *p = vname + strlen(ns->prefix); *p != '\0'; p++) {
		if (*p != ns->sep)
			continue;
		*p = '\0';
		if (hash_lookup(c->names, vname) == NULL)
			collect_add(c, vname, MAILBOX_NOSELECT | MAILBOX_NONEXISTENT);
		*p = ns->sep;
	}
	i_free(vname);
}

/* ---- order ----
 * Dovecot lists from its mailbox list index: a tree whose siblings are
 * kept newest first (a new node is put in front), INBOX last. Without
 * such an index the same order comes from each mailbox's creation time
 * (statx btime): a node's age is that of the oldest mailbox under it.
 * Subscribed-only listings follow the subscriptions file's order. */

struct list_sort_ctx {
	struct hash_table *keys;	/* node vname -> int64_t * */
	char sep;
	bool inbox_last;	/* INBOX after its children, last of all */
	bool ascending;		/* subscriptions: file order */
};

static int64_t mailbox_birth_key(struct mail_user *user, const char *vname)
{
	struct mailbox *box = mailbox_alloc(user, vname, 0);
	struct statx stx;
	int64_t key = INT64_MAX;

	if (box->path != NULL &&
	    statx(AT_FDCWD, box->path, 0, STATX_BTIME | STATX_CTIME,
		  &stx) == 0) {
		const struct statx_timestamp *ts =
			(stx.stx_mask & STATX_BTIME) != 0 ? &stx.stx_btime :
			&stx.stx_ctime;
		/* the clock is coarse: mailboxes made in one tick are
		   told apart by inode number (allocated in order).
		   Milliseconds since 2000 and 20 bits of inode fit in 63
		   bits until about 2270. */
		int64_t ms = ((int64_t)ts->tv_sec - 946684800) * 1000 +
			ts->tv_nsec / 1000000;
		key = ms * 1048576 + (int64_t)(stx.stx_ino & 0xfffff);
	}
	mailbox_free(&box);
	return key;
}

static void sort_key_add(struct list_sort_ctx *sc, pool_t pool,
			 const char *vname, int64_t key)
{
	char *name = i_strdup(vname);

	for (char *p = name;; p++) {
		if (*p == sc->sep || *p == '\0') {
			char c = *p;
			int64_t *old;

			*p = '\0';
			old = hash_lookup(sc->keys, name);
			if (old == NULL) {
				old = p_malloc(pool, sizeof(*old));
				*old = key;
				hash_insert(sc->keys, name, old);
			} else if (key < *old) {
				*old = key;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	i_free(name);
}

static int64_t sort_key_get(struct list_sort_ctx *sc, const char *vname,
			    size_t len)
{
	char *name = i_strndup(vname, len);
	int64_t *key = hash_lookup(sc->keys, name), ret;

	if (sc->inbox_last && strcmp(name, "INBOX") == 0)
		ret = sc->ascending ? INT64_MAX : INT64_MIN;
	else
		ret = key == NULL ? INT64_MAX : *key;
	i_free(name);
	return ret;
}

static int info_tree_cmp(const void *p1, const void *p2, void *context)
{
	const struct mailbox_info *i1 = p1, *i2 = p2;
	struct list_sort_ctx *sc = context;
	const char *a = i1->vname, *b = i2->vname;
	size_t i = 0, start = 0;
	int64_t k1, k2;

	/* the first level where the two differ */
	while (a[i] != '\0' && a[i] == b[i]) {
		if (a[i] == sc->sep)
			start = i + 1;
		i++;
	}
	if ((a[i] == '\0' && b[i] == '\0'))
		return 0;
	if ((a[i] == '\0' && b[i] == sc->sep) ||
	    (b[i] == '\0' && a[i] == sc->sep)) {
		/* one is the other's parent: parent first, but INBOX
		   follows its children */
		bool a_parent = a[i] == '\0';
		bool inbox = sc->inbox_last &&
			strcmp(a_parent ? a : b, "INBOX") == 0;

		return (a_parent != inbox) ? -1 : 1;
	}
	size_t alen = strcspn(a + start, (char[]){ sc->sep, '\0' }) + start;
	size_t blen = strcspn(b + start, (char[]){ sc->sep, '\0' }) + start;
	k1 = sort_key_get(sc, a, alen);
	k2 = sort_key_get(sc, b, blen);
	if (k1 != k2) {
		if (sc->ascending)
			return k1 < k2 ? -1 : 1;
		return k1 > k2 ? -1 : 1;
	}
	return strcmp(a, b);
}

static void list_sort(struct mailbox_list_iter *iter,
		      struct mail_namespace *ns, size_t first,
		      const struct list_collect *c, const ARRAY_STR *subs,
		      enum mailbox_list_iter_flags flags)
{
	struct list_sort_ctx sc = { .sep = ns->sep };
	size_t count = iter->infos.count - first;
	pool_t pool;

	if (count < 2)
		return;
	pool = pool_create("list sort", 1024);
	sc.keys = hash_create(false);
	sc.ascending = (flags & MAILBOX_LIST_ITER_SUBSCRIBED) != 0;
	sc.inbox_last = ns->inbox && ns->prefix[0] == '\0' && !sc.ascending;
	/* keys from every mailbox of the namespace, matched or not: a
	   parent's place is its oldest descendant's */
	if (sc.ascending) {
		for (size_t j = 0; j < subs->count; j++) {
			char *vname = i_strdup_printf("%s%s", ns->prefix,
						      subs->v[j]);
			sort_key_add(&sc, pool, vname, (int64_t)j);
			i_free(vname);
		}
	} else {
		for (size_t j = 0; j < c->order.count; j++) {
			const char *vname = c->order.v[j];
			enum mailbox_info_flags f = (enum mailbox_info_flags)
				(uintptr_t)hash_lookup(c->names, vname);

			if ((f & MAILBOX_NONEXISTENT) != 0)
				continue;
			sort_key_add(&sc, pool, vname,
				     mailbox_birth_key(iter->user, vname));
		}
	}
	qsort_r(iter->infos.v + first, count, sizeof(*iter->infos.v),
		info_tree_cmp, &sc);
	hash_destroy(&sc.keys);
	pool_destroy(&pool);
}

static bool has_child(const struct list_collect *c, const char *vname, char sep)
{
	size_t len = strlen(vname);

	for (size_t i = 0; i < c->order.count; i++) {
		const char *o = c->order.v[i];
		if (strncmp(o, vname, len) == 0 && o[len] == sep)
			return true;
	}
	return false;
}

static bool ns_matches_any(struct mail_namespace *ns,
			   const char *const *patterns)
{
	for (unsigned int i = 0; patterns[i] != NULL; i++) {
		/* a pattern that can't reach into this namespace skips it */
		size_t plen = strlen(ns->prefix);
		const char *p = patterns[i];
		size_t j;

		for (j = 0; j < plen && p[j] != '\0' && p[j] != '*' &&
			    p[j] != '%'; j++) {
			if (p[j] != ns->prefix[j])
				break;
		}
		if (j == plen || p[j] == '*' || p[j] == '%' ||
		    (p[j] == '\0' && j + 1 == plen))
			return true;
	}
	return false;
}

static void list_namespace(struct mailbox_list_iter *iter,
			   struct mail_namespace *ns,
			   const char *const *patterns,
			   enum mailbox_list_iter_flags flags)
{
	struct list_collect c = { .ns = ns };
	ARRAY_STR subs = ARRAY_INIT;
	size_t first = iter->infos.count;

	c.names = hash_create(false);
	if (ns->mlist->v->list_iter(ns->mlist, collect_cb, &c) < 0)
		iter->error = -1;
	if (ns->inbox && (flags & MAILBOX_LIST_ITER_NO_AUTO_INBOX) == 0) {
		char *inbox = i_strdup_printf("%sINBOX", ns->prefix);
		if (hash_lookup(c.names, inbox) == NULL && ns->prefix[0] == '\0')
			collect_add(&c, "INBOX", 0);
		i_free(inbox);
	}
	if (ns->subscriptions)
		(void)subs_read(ns, &subs);
	for (size_t i = 0; i < subs.count; i++) {
		char *vname = i_strdup_printf("%s%s", ns->prefix, subs.v[i]);
		if (hash_lookup(c.names, vname) == NULL &&
		    (flags & (MAILBOX_LIST_ITER_SUBSCRIBED)) != 0)
			collect_add(&c, vname, MAILBOX_NONEXISTENT | MAILBOX_NOSELECT);
		i_free(vname);
	}
	for (size_t i = 0; i < c.order.count; i++) {
		const char *vname = c.order.v[i];
		enum mailbox_info_flags f =
			(enum mailbox_info_flags)(uintptr_t)hash_lookup(c.names, vname);
		bool matched = false;
		size_t plen = strlen(ns->prefix);
		const char *name = strncmp(vname, ns->prefix, plen) == 0 ?
			vname + plen : vname;
		bool subscribed = false, child_subscribed = false;

		for (unsigned int j = 0; patterns[j] != NULL && !matched; j++)
			matched = pattern_match_vname(patterns[j], vname, ns->sep);
		if (!matched)
			continue;
		for (size_t j = 0; j < subs.count; j++) {
			size_t len = strlen(name);
			if (strcmp(subs.v[j], name) == 0)
				subscribed = true;
			else if (strncmp(subs.v[j], name, len) == 0 &&
				 subs.v[j][len] == ns->sep)
				child_subscribed = true;
		}
		if ((flags & MAILBOX_LIST_ITER_SUBSCRIBED) != 0 && !subscribed)
			continue;
		if (subscribed)
			f |= MAILBOX_SUBSCRIBED;
		if (child_subscribed)
			f |= MAILBOX_CHILD_SUBSCRIBED;
		if ((f & MAILBOX_NOINFERIORS) == 0 &&
		    (f & MAILBOX_NONEXISTENT) == 0) {
			f |= has_child(&c, vname, ns->sep) ?
				MAILBOX_CHILDREN : MAILBOX_NOCHILDREN;
		} else if ((f & MAILBOX_NONEXISTENT) != 0 &&
			   has_child(&c, vname, ns->sep)) {
			/* a parent placeholder: \Noselect \HasChildren
			   (\NonExistent in LIST-EXTENDED) */
			f |= MAILBOX_CHILDREN;
		}
		f |= mailbox_special_use_flags(ns, name);
		if ((flags & MAILBOX_LIST_ITER_SPECIALUSE_ONLY) != 0 &&
		    (f & MAILBOX_SPECIALUSE_MASK) == 0)
			continue;
		struct mailbox_info *info = array_append_space(&iter->infos);
		info->vname = p_strdup(iter->pool, vname);
		info->flags = f;
		info->ns = ns;
	}
	list_sort(iter, ns, first, &c, &subs, flags);
	size_t root_pos = iter->infos.count;
	/* the namespace prefix itself (e.g. "Shared/") as \Noselect,
	   unless it is INBOX, which stands for itself */
	if (ns->prefix[0] != '\0' &&
	    !(ns->list_children && c.order.count == 0) &&
	    !(ns->inbox && strlen(ns->prefix) == 6 &&
	      strncmp(ns->prefix, "INBOX", 5) == 0)) {
		char *root = i_strndup(ns->prefix, strlen(ns->prefix) - 1);
		for (unsigned int j = 0; patterns[j] != NULL; j++) {
			if (pattern_match_vname(patterns[j], root, ns->sep) &&
			    (flags & MAILBOX_LIST_ITER_SUBSCRIBED) == 0) {
				struct mailbox_info *info =
					array_append_space(&iter->infos);
				info->vname = p_strdup(iter->pool, root);
				info->flags = MAILBOX_NOSELECT |
					(c.order.count > 0 ? MAILBOX_CHILDREN :
					 MAILBOX_NOCHILDREN);
				info->ns = ns;
				if (ns->type == MAIL_NAMESPACE_SHARED &&
				    ns->owner != NULL && root_pos > first) {
					/* Dovecot: a user's shared root
					   comes before its mailboxes */
					struct mailbox_info tmp = *info;
					memmove(&iter->infos.v[first + 1],
						&iter->infos.v[first],
						(root_pos - first) *
						sizeof(tmp));
					iter->infos.v[first] = tmp;
				}
				break;
			}
		}
		i_free(root);
	}
	names_free(&subs);
	names_free(&c.order);
	hash_destroy(&c.names);
}

/* "shared" (the template prefix's static part without its separator)
 * as \Noselect \HasChildren when some user shares with this one. */
static void shared_template_list(struct mailbox_list_iter *iter,
				 struct mail_namespace *template,
				 const char *const *patterns)
{
	size_t slen = (size_t)(strchr(template->prefix, '%') - template->prefix);
	bool any = false;
	char *root;

	acl_shared_ns_add_all(iter->user, template);
	for (struct mail_namespace *ns = template->next; ns != NULL &&
	     !any; ns = ns->next) {
		if (ns->type == MAIL_NAMESPACE_SHARED && !ns->shared_template &&
		    strncmp(ns->prefix, template->prefix, slen) == 0) {
			const char *const all[] = { "*", NULL };
			struct mailbox_list_iter *sub;

			/* visible only when something in it is */
			sub = i_new(struct mailbox_list_iter, 1);
			sub->user = iter->user;
			sub->pool = pool_create("mailbox list", 1024);
			{
				char *pat = i_strdup_printf("%s*", ns->prefix);
				const char *const pats[] = { pat, NULL };
				list_namespace(sub, ns, pats, 0);
				i_free(pat);
			}
			(void)all;
			any = sub->infos.count > 0;
			array_free(&sub->infos);
			pool_destroy(&sub->pool);
			i_free(sub);
		}
	}
	if (!any || slen == 0)
		return;
	root = i_strndup(template->prefix, slen - 1);
	for (unsigned int j = 0; patterns[j] != NULL; j++) {
		if (pattern_match_vname(patterns[j], root, template->sep)) {
			struct mailbox_info *info =
				array_append_space(&iter->infos);
			info->vname = p_strdup(iter->pool, root);
			info->flags = MAILBOX_NOSELECT | MAILBOX_CHILDREN;
			info->ns = template;
			break;
		}
	}
	i_free(root);
}

struct mailbox_list_iter *
mailbox_list_iter_init(struct mail_user *user, const char *const *patterns,
		       enum mailbox_list_iter_flags flags)
{
	struct mailbox_list_iter *iter = i_new(struct mailbox_list_iter, 1);

	iter->user = user;
	iter->pool = pool_create("mailbox list", 1024);
	for (struct mail_namespace *ns = user->namespaces; ns != NULL; ns = ns->next) {
		if (ns->shared_template) {
			/* the users sharing with this one get their
			   namespaces (listed after this one) */
			if (user->acl != NULL && ns->list &&
			    (flags & MAILBOX_LIST_ITER_SUBSCRIBED) == 0)
				shared_template_list(iter, ns, patterns);
			continue;
		}
		if (ns->hidden && (flags & MAILBOX_LIST_ITER_SHOW_HIDDEN) == 0)
			continue;
		if (!ns->list && (flags & MAILBOX_LIST_ITER_SHOW_HIDDEN) == 0)
			continue;
		if (!ns_matches_any(ns, patterns))
			continue;
		list_namespace(iter, ns, patterns, flags);
	}
	return iter;
}

const struct mailbox_info *mailbox_list_iter_next(struct mailbox_list_iter *iter)
{
	if (iter->pos >= iter->infos.count)
		return NULL;
	return &iter->infos.v[iter->pos++];
}

int mailbox_list_iter_deinit(struct mailbox_list_iter **_iter)
{
	struct mailbox_list_iter *iter = *_iter;
	int ret = iter->error;

	*_iter = NULL;
	array_free(&iter->infos);
	pool_destroy(&iter->pool);
	i_free(iter);
	return ret;
}

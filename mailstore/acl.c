/* acl.c - the acl plugin: Dovecot 2.3's vfile backend (dovecot-acl in
 * each mailbox directory, dovecot-acl-list in the namespace root), the
 * rights of the session user, and the shared-mailboxes dict. */
#include "mail-storage-private.h"
#include "acl.h"
#include "mail-plugins.h"
#include "settings-structs.h"
#include "genfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ACL_FILENAME "dovecot-acl"
#define ACL_LIST_FILENAME "dovecot-acl-list"
#define ACL_FILE_MAX (1024 * 1024)

struct acl_user {
	bool anyone_allowed;
	bool defaults_from_inbox;
	bool globals_only;		/* acl_globals_only */
	const char *acl_name;		/* acl_user or the username */
	const char *const *groups;	/* acl_groups, NULL-terminated */
	const char *shared_dict;	/* file path or NULL */
	const char *global_path;	/* acl = vfile:PATH (a file) or NULL */
	/* acl_ignore_namespace, acl_ignore_namespace2...: prefixes of the
	   namespaces without ACLs, NULL-terminated (or NULL) */
	const char **ignore_prefixes;
};

struct right_def {
	char letter;
	const char *name;
	unsigned int bit;
};

/* canonical (MYRIGHTS) order */
static const struct right_def rights_canon[] = {
	{ 'l', "lookup", ACL_LOOKUP },
	{ 'r', "read", ACL_READ },
	{ 'w', "write", ACL_WRITE },
	{ 's', "write-seen", ACL_WRITE_SEEN },
	{ 't', "write-deleted", ACL_WRITE_DELETED },
	{ 'i', "insert", ACL_INSERT },
	{ 'p', "post", ACL_POST },
	{ 'e', "expunge", ACL_EXPUNGE },
	{ 'k', "create", ACL_CREATE },
	{ 'x', "delete", ACL_DELETE },
	{ 'a', "admin", ACL_ADMIN },
};
/* sorted by name: the order of the file and of GETACL */
static const char rights_by_name[] = "akxeilprwts";

static const struct right_def *right_by_letter(char c)
{
	for (unsigned int i = 0; i < N_ELEMENTS(rights_canon); i++) {
		if (rights_canon[i].letter == c)
			return &rights_canon[i];
	}
	return NULL;
}

void acl_rights_append(string_t *dest, unsigned int rights, bool canonical,
		       bool with_cd)
{
	if (canonical) {
		for (unsigned int i = 0; i < N_ELEMENTS(rights_canon); i++) {
			if ((rights & rights_canon[i].bit) != 0)
				str_append_c(dest, rights_canon[i].letter);
		}
	} else {
		for (const char *p = rights_by_name; *p != '\0'; p++) {
			if ((rights & right_by_letter(*p)->bit) != 0)
				str_append_c(dest, *p);
		}
	}
	if (with_cd) {
		if ((rights & (ACL_CREATE | ACL_DELETE)) != 0)
			str_append_c(dest, 'c');
		if ((rights & (ACL_EXPUNGE | ACL_WRITE_DELETED)) != 0)
			str_append_c(dest, 'd');
	}
}

static bool letter_add(char c, unsigned int *rights)
{
	const struct right_def *def;

	if (c == 'c') {
		*rights |= ACL_CREATE | ACL_DELETE;
		return true;
	}
	if (c == 'd') {
		*rights |= ACL_EXPUNGE | ACL_WRITE_DELETED;
		return true;
	}
	def = right_by_letter(c);
	if (def == NULL)
		return false;
	*rights |= def->bit;
	return true;
}

int acl_rights_parse_imap(const char *letters, unsigned int *rights_r,
			  char *bad_r)
{
	unsigned int rights = 0;

	for (const char *p = letters; *p != '\0'; p++) {
		if (!letter_add(*p, &rights)) {
			*bad_r = *p;
			return -1;
		}
	}
	*rights_r = rights;
	return 0;
}

unsigned int acl_right_from_name(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(rights_canon); i++) {
		if (strcmp(rights_canon[i].name, name) == 0)
			return rights_canon[i].bit;
	}
	return 0;
}

void acl_rights_append_names(string_t *dest, unsigned int rights,
			     bool canonical, const char *prefix)
{
	bool first = true;

	for (unsigned int i = 0; i < N_ELEMENTS(rights_canon); i++) {
		const struct right_def *def = canonical ? &rights_canon[i] :
			right_by_letter(rights_by_name[i]);

		if ((rights & def->bit) == 0)
			continue;
		if (!first)
			str_append_c(dest, ' ');
		str_printfa(dest, "%s%s", prefix, def->name);
		first = false;
	}
}

/* ---- the vfile format ---- */

int acl_id_parse(const char *id, struct acl_entry *e)
{
	const char *v;

	memset(e, 0, sizeof(*e));
	if (id[0] == '-') {
		e->neg = true;
		id++;
	}
	if (strcmp(id, "anyone") == 0)
		e->type = ACL_ID_ANYONE;
	else if (strcmp(id, "authenticated") == 0)
		e->type = ACL_ID_AUTHENTICATED;
	else if (strcmp(id, "owner") == 0)
		e->type = ACL_ID_OWNER;
	else if (str_begins(id, "user=", &v) && v[0] != '\0') {
		e->type = ACL_ID_USER;
		e->name = i_strdup(v);
	} else if (str_begins(id, "group=", &v) && v[0] != '\0') {
		e->type = ACL_ID_GROUP;
		e->name = i_strdup(v);
	} else if (str_begins(id, "group-override=", &v) && v[0] != '\0') {
		e->type = ACL_ID_GROUP_OVERRIDE;
		e->name = i_strdup(v);
	} else {
		return -1;
	}
	return 0;
}

static int rights_parse_file(const char *s, unsigned int *rights_r,
			     char *errbuf, size_t errbuf_size)
{
	unsigned int rights = 0;

	while (*s != '\0') {
		if (*s == ' ' || *s == '\t') {
			s++;
		} else if (*s == ':') {
			/* a named right: standard names map to their bits,
			   others (plugins' own) are kept by Dovecot only for
			   them: ignored here */
			const char *end = s + 1 + strcspn(s + 1, " \t");
			size_t len = (size_t)(end - s - 1);

			for (unsigned int i = 0; i < N_ELEMENTS(rights_canon); i++) {
				if (strlen(rights_canon[i].name) == len &&
				    strncmp(rights_canon[i].name, s + 1, len) == 0)
					rights |= rights_canon[i].bit;
			}
			s = end;
		} else if (!letter_add(*s, &rights)) {
			snprintf(errbuf, errbuf_size,
				 "Unknown ACL right '%c'", *s);
			return -1;
		} else {
			s++;
		}
	}
	*rights_r = rights;
	return 0;
}

int acl_vfile_parse(const char *data, size_t size, ARRAY_ACL *entries,
		    char *errbuf, size_t errbuf_size)
{
	unsigned int linenum = 0;
	size_t pos = 0;

	while (pos < size) {
		const char *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl == NULL ? size - pos : (size_t)(nl - data - pos);
		char *line = i_strndup(data + pos, len);
		char *p = line, *rights;
		struct acl_entry e;
		size_t n;

		pos += len + (nl == NULL ? 0 : 1);
		linenum++;
		if (memchr(line, '\0', len) != NULL) {
			snprintf(errbuf, errbuf_size, "line %u: NUL byte",
				 linenum);
			i_free(line);
			return -1;
		}
		n = strlen(p);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' ||
				 p[n - 1] == '\t'))
			p[--n] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#') {
			i_free(line);
			continue;
		}
		rights = p + strcspn(p, " \t");
		if (*rights != '\0')
			*rights++ = '\0';
		if (acl_id_parse(p, &e) < 0) {
			snprintf(errbuf, errbuf_size,
				 "line %u: Unknown ACL identifier: %.100s",
				 linenum, p);
			i_free(line);
			return -1;
		}
		if (rights_parse_file(rights, &e.rights, errbuf + 0,
				      errbuf_size) < 0) {
			char tmp[128];

			snprintf(tmp, sizeof(tmp), "%s", errbuf);
			snprintf(errbuf, errbuf_size, "line %u: %s", linenum,
				 tmp);
			i_free(e.name);
			i_free(line);
			return -1;
		}
		/* a later line for the same identifier replaces */
		bool replaced = false;
		for (size_t i = 0; i < entries->count; i++) {
			struct acl_entry *o = &entries->v[i];
			if (o->type == e.type && o->neg == e.neg &&
			    ((o->name == NULL && e.name == NULL) ||
			     (o->name != NULL && e.name != NULL &&
			      strcmp(o->name, e.name) == 0))) {
				o->rights = e.rights;
				i_free(e.name);
				replaced = true;
				break;
			}
		}
		if (!replaced)
			array_push(entries, e);
		i_free(line);
	}
	return 0;
}

static bool wildcard_match(const char *pattern, const char *str)
{
	while (*pattern != '\0') {
		if (*pattern == '*') {
			while (*pattern == '*')
				pattern++;
			for (const char *s = str;; s++) {
				if (wildcard_match(pattern, s))
					return true;
				if (*s == '\0')
					return false;
			}
		}
		if (*str == '\0' || (*pattern != '?' && *pattern != *str))
			return false;
		pattern++;
		str++;
	}
	return *str == '\0';
}

int acl_global_parse(const char *data, size_t size, const char *vname,
		     ARRAY_ACL *entries, char *errbuf, size_t errbuf_size)
{
	unsigned int linenum = 0;
	size_t pos = 0, first = entries->count;

	while (pos < size) {
		const char *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl == NULL ? size - pos : (size_t)(nl - data - pos);
		char *line = i_strndup(data + pos, len);
		char *p = line, *rest;
		ARRAY_ACL one = ARRAY_INIT;

		pos += len + (nl == NULL ? 0 : 1);
		linenum++;
		if (memchr(line, '\0', len) != NULL) {
			snprintf(errbuf, errbuf_size, "line %u: NUL byte",
				 linenum);
			i_free(line);
			return -1;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#') {
			i_free(line);
			continue;
		}
		rest = p + strcspn(p, " \t");
		if (*rest != '\0')
			*rest++ = '\0';
		if (!wildcard_match(p, vname)) {
			i_free(line);
			continue;
		}
		if (acl_vfile_parse(rest, strlen(rest), &one, errbuf,
				    errbuf_size) < 0) {
			char tmp[200];

			snprintf(tmp, sizeof(tmp), "%s", errbuf);
			snprintf(errbuf, errbuf_size, "line %u: %s", linenum,
				 tmp + (strncmp(tmp, "line 1: ", 8) == 0 ? 8 : 0));
			acl_entries_free(&one);
			i_free(line);
			return -1;
		}
		/* lines of one identifier that match add up (Dovecot) */
		for (size_t i = 0; i < one.count; i++) {
			struct acl_entry *e = &one.v[i];
			bool merged = false;

			for (size_t j = first; j < entries->count; j++) {
				struct acl_entry *o = &entries->v[j];

				if (o->type == e->type && o->neg == e->neg &&
				    strcmp(o->name == NULL ? "" : o->name,
					   e->name == NULL ? "" : e->name) == 0) {
					o->rights |= e->rights;
					merged = true;
					break;
				}
			}
			if (merged) {
				i_free(e->name);
				continue;
			}
			e->global = true;
			array_push(entries, *e);
		}
		array_free(&one);
		i_free(line);
	}
	return 0;
}

void acl_entries_free(ARRAY_ACL *entries)
{
	for (size_t i = 0; i < entries->count; i++)
		i_free(entries->v[i].name);
	array_free(entries);
}

static int entry_cmp(const void *p1, const void *p2)
{
	const struct acl_entry *a = p1, *b = p2;
	int ret;

	if (a->global != b->global)
		return a->global ? 1 : -1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	ret = strcmp(a->name == NULL ? "" : a->name,
		     b->name == NULL ? "" : b->name);
	if (ret != 0)
		return ret;
	return (int)a->neg - (int)b->neg;
}

void acl_entries_sort(ARRAY_ACL *entries)
{
	if (entries->count > 1)
		qsort(entries->v, entries->count, sizeof(entries->v[0]),
		      entry_cmp);
}

void acl_entry_write(string_t *dest, const struct acl_entry *e)
{
	if (e->neg)
		str_append_c(dest, '-');
	switch (e->type) {
	case ACL_ID_ANYONE:
		str_append(dest, "anyone");
		break;
	case ACL_ID_AUTHENTICATED:
		str_append(dest, "authenticated");
		break;
	case ACL_ID_OWNER:
		str_append(dest, "owner");
		break;
	case ACL_ID_USER:
		str_printfa(dest, "user=%s", e->name);
		break;
	case ACL_ID_GROUP:
		str_printfa(dest, "group=%s", e->name);
		break;
	case ACL_ID_GROUP_OVERRIDE:
		str_printfa(dest, "group-override=%s", e->name);
		break;
	}
	str_append_c(dest, ' ');
	acl_rights_append(dest, e->rights, false, false);
}

/* ---- the user ---- */

bool acl_enabled(struct mail_user *user)
{
	return user->acl != NULL;
}

bool acl_anyone_allowed(struct mail_user *user)
{
	return user->acl != NULL && user->acl->anyone_allowed;
}

int acl_user_init(struct mail_user *user, const struct mail_user_info *info,
		  const char **error_r)
{
	struct acl_user *au;
	const char *backend, *value;

	if (!mail_plugins_has(user->set->mail_plugins, "acl"))
		return 0;
	backend = mail_user_plugin_setting(user, info, "acl", user->pool);
	if (backend == NULL) {
		/* Dovecot: the plugin does nothing without a backend */
		return 0;
	}
	if (strcmp(backend, "vfile") != 0 &&
	    !str_begins(backend, "vfile:", &value)) {
		*error_r = p_strdup_printf(user->pool,
			"acl: Unknown backend: %s", backend);
		return -1;
	}
	au = p_malloc(user->pool, sizeof(*au));
	if (str_begins(backend, "vfile:", &value) && value[0] != '\0') {
		struct stat st;
		/* options after the path ("vfile:/x:cache_secs=5") */
		const char *colon = strchr(value, ':');

		au->global_path = colon == NULL ? value :
			p_strndup(user->pool, value, (size_t)(colon - value));
		if (genfile_get(au->global_path) == NULL &&
		    stat(au->global_path, &st) == 0 && S_ISDIR(st.st_mode)) {
			/* Dovecot's deprecated global ACL directory */
			i_warning("acl: Global ACL directories are not "
				  "supported, use a global ACL file: %s",
				  au->global_path);
			au->global_path = NULL;
		}
	}
	for (unsigned int i = 1;; i++) {
		char key[40];

		if (i == 1)
			snprintf(key, sizeof(key), "acl_ignore_namespace");
		else
			snprintf(key, sizeof(key), "acl_ignore_namespace%u", i);
		value = mail_user_plugin_setting(user, info, key, user->pool);
		if (value == NULL || value[0] == '\0')
			break;
		au->ignore_prefixes = p_realloc(user->pool,
			au->ignore_prefixes,
			sizeof(*au->ignore_prefixes) * (i == 1 ? 0 : i),
			sizeof(*au->ignore_prefixes) * (i + 1));
		au->ignore_prefixes[i - 1] = value;
		au->ignore_prefixes[i] = NULL;
	}
	value = mail_user_plugin_setting(user, info, "acl_anyone", user->pool);
	au->anyone_allowed = value != NULL && strcmp(value, "allow") == 0;
	value = mail_user_plugin_setting(user, info, "acl_globals_only",
					 user->pool);
	au->globals_only = value != NULL && strchr("yY1", value[0]) != NULL;
	value = mail_user_plugin_setting(user, info, "acl_defaults_from_inbox",
					 user->pool);
	au->defaults_from_inbox = value != NULL &&
		strchr("yY1", value[0]) != NULL;
	value = mail_user_plugin_setting(user, info, "acl_user", user->pool);
	if (value == NULL) {
		/* Dovecot 2.3: the master user's name when acl_user is
		   not set (2.4's acl_user = %{master_user}) */
		value = mail_user_plugin_setting(user, info, "master_user",
						 user->pool);
	}
	au->acl_name = value != NULL && value[0] != '\0' ? value :
		user->username;
	value = mail_user_plugin_setting(user, info, "acl_groups", user->pool);
	if (value != NULL) {
		ARRAY_STR groups = ARRAY_INIT;
		char *copy = p_strdup(user->pool, value);
		const char **g;

		for (char *t = strtok(copy, ","); t != NULL;
		     t = strtok(NULL, ","))
			array_push(&groups, t);
		g = p_malloc(user->pool, sizeof(*g) * (groups.count + 1));
		for (size_t i = 0; i < groups.count; i++)
			g[i] = groups.v[i];
		au->groups = g;
		array_free(&groups);
	}
	value = mail_user_plugin_setting(user, info, "acl_shared_dict",
					 user->pool);
	if (value != NULL && str_begins(value, "file:", &value))
		au->shared_dict = value;
	else if (value != NULL)
		i_warning("acl: acl_shared_dict %s: only file: dicts are "
			  "supported", value);
	user->acl = au;
	return 0;
}

/* ---- per mailbox ---- */

const char *acl_mailbox_path(struct mailbox *box)
{
	return box->path == NULL ? "" : box->path;
}

static const char *acl_dir(struct mailbox *box)
{
	return box->control_path != NULL ? box->control_path : box->path;
}

static char *acl_path(struct mailbox *box)
{
	return i_strdup_printf("%s/" ACL_FILENAME, acl_dir(box));
}

/* 1 with entries, 0 no file, -1 broken (logged). */
static int acl_file_read(const char *path, ARRAY_ACL *entries)
{
	char errbuf[256];
	struct stat st;
	char *data;
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		i_error("acl vfile: open(%s) failed: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_size > ACL_FILE_MAX) {
		i_error("acl vfile: %s: too large or unreadable", path);
		close(fd);
		return -1;
	}
	data = i_malloc((size_t)st.st_size + 1);
	ret = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (ret < 0) {
		i_error("acl vfile: read(%s) failed: %m", path);
		i_free(data);
		return -1;
	}
	if (acl_vfile_parse(data, (size_t)ret, entries, errbuf,
			    sizeof(errbuf)) < 0) {
		i_error("acl vfile: Error in %s %s", path, errbuf);
		i_free(data);
		return -1;
	}
	i_free(data);
	return 1;
}

/* The namespace's owner is the session user (private namespace). */
static bool ns_is_own(struct mail_namespace *ns)
{
	return ns->owner != NULL &&
		strcmp(ns->owner, ns->user->username) == 0;
}

static bool user_is_owner(struct mail_user *user, struct mail_namespace *ns)
{
	return ns->owner != NULL &&
		(strcmp(ns->owner, user->username) == 0 ||
		 strcmp(ns->owner, user->acl->acl_name) == 0);
}

static bool in_groups(struct mail_user *user, const char *name)
{
	for (unsigned int i = 0; user->acl->groups != NULL &&
	     user->acl->groups[i] != NULL; i++) {
		if (strcmp(user->acl->groups[i], name) == 0)
			return true;
	}
	return false;
}

static bool entry_matches(struct mail_user *user, struct mail_namespace *ns,
			  const struct acl_entry *e)
{
	switch (e->type) {
	case ACL_ID_ANYONE:
	case ACL_ID_AUTHENTICATED:
		return true;
	case ACL_ID_OWNER:
		return user_is_owner(user, ns);
	case ACL_ID_USER:
		return strcmp(e->name, user->acl->acl_name) == 0;
	case ACL_ID_GROUP:
	case ACL_ID_GROUP_OVERRIDE:
		return in_groups(user, e->name);
	}
	return false;
}

/* The entries that apply to box: the file's, else (acl_defaults_from_
 * inbox) INBOX's; with the default owner entry in front unless one
 * is there. 0 / -1. */
/* The global file's entries for box (0, or -1 logged). */
static int global_entries_vname(struct mail_user *user, const char *vname,
				ARRAY_ACL *entries)
{
	const char *path = user->acl->global_path;
	char errbuf[256];
	struct stat st;
	char *data;
	ssize_t ret;
	int fd;

	if (path == NULL)
		return 0;
	if (genfile_get(path) != NULL) {
		/* generated from a Dovecot 2.4 config's acl { } rules */
		const char *text = genfile_get(path);

		if (acl_global_parse(text, strlen(text), vname, entries,
				     errbuf, sizeof(errbuf)) < 0) {
			i_error("acl vfile: Global ACL file %s %s", path,
				errbuf);
			return -1;
		}
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		i_error("acl vfile: open(%s) failed: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_size > ACL_FILE_MAX) {
		i_error("acl vfile: %s: too large or unreadable", path);
		close(fd);
		return -1;
	}
	data = i_malloc((size_t)st.st_size + 1);
	ret = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (ret < 0 || acl_global_parse(data, (size_t)ret, vname,
					entries, errbuf, sizeof(errbuf)) < 0) {
		if (ret < 0)
			i_error("acl vfile: read(%s) failed: %m", path);
		else
			i_error("acl vfile: Global ACL file %s %s", path,
				errbuf);
		i_free(data);
		return -1;
	}
	i_free(data);
	return 0;
}

static int global_entries(struct mailbox *box, ARRAY_ACL *entries)
{
	return global_entries_vname(box->user, box->vname, entries);
}

/* The entries that apply to box: the mailbox's file (else, with
 * acl_defaults_from_inbox, INBOX's) and the global file's, which win
 * for the same identifier. 0 / -1. have_owner_r:
 * some entry is for the owner (then there is no default owner entry). */
static int box_entries(struct mailbox *box, ARRAY_ACL *entries,
		       bool *have_owner_r)
{
	ARRAY_ACL local = ARRAY_INIT;
	char *path;
	int ret = 0;

	if (!box->user->acl->globals_only) {
		/* acl_globals_only: no dovecot-acl file is read */
		path = acl_path(box);
		ret = acl_file_read(path, &local);
		i_free(path);
	}
	if (ret == 0 && !box->user->acl->globals_only &&
	    box->user->acl->defaults_from_inbox &&
	    strcmp(box->name, "INBOX") != 0 && box->ns->inbox) {
		struct mailbox *inbox = mailbox_alloc(box->user, "INBOX", 0);

		path = acl_path(inbox);
		ret = acl_file_read(path, &local);
		i_free(path);
		mailbox_free(&inbox);
	}
	if (ret < 0 || global_entries(box, entries) < 0) {
		acl_entries_free(&local);
		return -1;
	}
	/* all are listed; for the rights the global file's entries win
	   over the mailbox's own of the same identifier (rights_compute) */
	for (size_t i = 0; i < local.count; i++)
		array_push(entries, local.v[i]);
	array_free(&local);
	*have_owner_r = false;
	for (size_t i = 0; i < entries->count; i++) {
		if (entries->v[i].type == ACL_ID_OWNER && !entries->v[i].neg)
			*have_owner_r = true;
	}
	return 0;
}

/* One identifier's rights: its positive and negative lines together. */
struct id_rights {
	const struct acl_entry *e;	/* type, name, global */
	unsigned int pos, neg;
	bool has_pos, has_neg;
};

static int id_rights_cmp(const void *p1, const void *p2)
{
	const struct id_rights *a = p1, *b = p2;

	if (a->e->global != b->e->global)
		return a->e->global ? 1 : -1;
	if (a->e->type != b->e->type)
		return a->e->type < b->e->type ? -1 : 1;
	return strcmp(a->e->name == NULL ? "" : a->e->name,
		      b->e->name == NULL ? "" : b->e->name);
}

/* Dovecot 2.3's evaluation: the mailbox's entries, then the global
 * file's, each by identifier type. The owner starts from the default
 * rights (every right in the own namespace) and skips the mailbox's
 * entries of the types before owner. Each matching identifier then
 * replaces the rights so far (its positive and negative ones apart),
 * except that several matching groups (or group-overrides) add up; the
 * first matching global entry also resets the negative rights. */
static unsigned int rights_compute(struct mail_user *user,
				   struct mail_namespace *ns,
				   ARRAY_ACL *entries)
{
	struct id_rights *ids = i_malloc(sizeof(*ids) *
					 (entries->count + 1));
	const struct id_rights *prev = NULL;
	unsigned int count = 0, pos = 0, neg = 0;
	bool first_global = true;
	size_t i = 0;

	for (size_t k = 0; k < entries->count; k++) {
		const struct acl_entry *e = &entries->v[k];
		struct id_rights *r = NULL;

		for (unsigned int j = 0; j < count && r == NULL; j++) {
			if (ids[j].e->global == e->global &&
			    ids[j].e->type == e->type &&
			    strcmp(ids[j].e->name == NULL ? "" :
				   ids[j].e->name,
				   e->name == NULL ? "" : e->name) == 0)
				r = &ids[j];
		}
		if (r == NULL) {
			r = &ids[count++];
			memset(r, 0, sizeof(*r));
			r->e = e;
		}
		if (e->neg) {
			r->neg |= e->rights;
			r->has_neg = true;
		} else {
			r->pos |= e->rights;
			r->has_pos = true;
		}
	}
	if (count > 1)
		qsort(ids, count, sizeof(*ids), id_rights_cmp);
	if (user_is_owner(user, ns)) {
		while (i < count && ids[i].e->type < ACL_ID_OWNER &&
		       !ids[i].e->global)
			i++;
		if (ns_is_own(ns) || ns->type == MAIL_NAMESPACE_PRIVATE)
			pos = ACL_ALL_RIGHTS;
	}
	for (; i < count; i++) {
		const struct id_rights *r = &ids[i];
		bool add;

		if (!entry_matches(user, ns, r->e))
			continue;
		add = prev != NULL && prev->e->type == r->e->type &&
			prev->e->global == r->e->global;
		prev = r;
		if (r->has_pos)
			pos = add ? pos | r->pos : r->pos;
		if (r->has_neg)
			neg = add ? neg | r->neg : r->neg;
		if (r->e->global && first_global) {
			first_global = false;
			neg = r->has_neg ? r->neg : 0;
		}
	}
	i_free(ids);
	return pos & ~neg;
}

bool acl_namespace_ignored(struct mail_namespace *ns)
{
	const char *const *p = ns->user->acl == NULL ? NULL :
		ns->user->acl->ignore_prefixes;

	for (; p != NULL && *p != NULL; p++) {
		if (strcmp(*p, ns->prefix) == 0)
			return true;
	}
	return false;
}

int acl_mailbox_rights(struct mailbox *box, unsigned int *rights_r)
{
	if (box->user->acl == NULL || box->user->admin ||
	    (box->flags & MAILBOX_FLAG_IGNORE_ACLS) != 0 ||
	    acl_namespace_ignored(box->ns)) {
		*rights_r = ACL_ALL_RIGHTS;
		return 0;
	}
	return acl_mailbox_my_rights(box, rights_r);
}

int acl_mailbox_my_rights(struct mailbox *box, unsigned int *rights_r)
{
	ARRAY_ACL entries = ARRAY_INIT;
	bool have_owner;

	if (box->user->acl == NULL) {
		*rights_r = ACL_ALL_RIGHTS;
		return 0;
	}
	if (box->name[0] == '\0' || box->path == NULL) {
		*rights_r = 0;
		return 0;
	}
	if (box->acl_cached) {
		*rights_r = box->acl_rights;
		return 0;
	}
	if (box_entries(box, &entries, &have_owner) < 0) {
		acl_entries_free(&entries);
		mailbox_set_critical(box, "acl: Couldn't read the ACL");
		return -1;
	}
	*rights_r = rights_compute(box->user, box->ns, &entries);
	acl_entries_free(&entries);
	box->acl_rights = *rights_r;
	box->acl_cached = true;
	return 0;
}

unsigned int acl_vname_rights(struct mail_user *user, const char *vname)
{
	struct mailbox *box;
	unsigned int rights = 0;

	if (user->acl == NULL)
		return ACL_ALL_RIGHTS;
	box = mailbox_alloc(user, vname, 0);
	if (!box->deleting && acl_mailbox_rights(box, &rights) < 0)
		rights = 0;
	mailbox_free(&box);
	return rights;
}

int acl_mailbox_get_entries(struct mailbox *box, ARRAY_ACL *entries_r)
{
	bool have_owner;

	if (box_entries(box, entries_r, &have_owner) < 0) {
		mailbox_set_critical(box, "acl: Couldn't read the ACL");
		return -1;
	}
	acl_entries_sort(entries_r);
	if (!have_owner && ns_is_own(box->ns)) {
		struct acl_entry *e = array_append_space(entries_r);

		e->type = ACL_ID_OWNER;
		e->rights = ACL_ALL_RIGHTS;
		e->is_default = true;
	}
	return 0;
}

const char *acl_entry_id_name(struct mailbox *box, const struct acl_entry *e,
			      pool_t pool)
{
	const char *prefix = e->global ? (e->neg ? "#-" : "#") :
		(e->neg ? "-" : "");

	switch (e->type) {
	case ACL_ID_ANYONE:
		return p_strdup_printf(pool, "%sanyone", prefix);
	case ACL_ID_AUTHENTICATED:
		return p_strdup_printf(pool, "%sauthenticated", prefix);
	case ACL_ID_OWNER:
		return p_strdup_printf(pool, "%s%s", prefix,
				       box->ns->owner != NULL ?
				       box->ns->owner : "owner");
	case ACL_ID_USER:
		return p_strdup_printf(pool, "%s%s", prefix, e->name);
	case ACL_ID_GROUP:
		return p_strdup_printf(pool, "%s$%s", prefix, e->name);
	case ACL_ID_GROUP_OVERRIDE:
		return p_strdup_printf(pool, "%s!%s", prefix, e->name);
	}
	return "";
}

/* Write data to path through path.lock and rename. */
static int file_replace(const char *path, const char *data, size_t size)
{
	char *tmp = i_strdup_printf("%s.lock", path);
	int fd, ret = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		struct stat st;
		/* a lock left by a dead writer: Dovecot's dotlocks go
		   stale after a while; take it over when old */
		if (stat(tmp, &st) == 0 && st.st_mtime + 30 < time(NULL) &&
		    unlink(tmp) == 0)
			fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL |
				  O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		i_error("acl: open(%s) failed: %m", tmp);
		i_free(tmp);
		return -1;
	}
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		i_error("acl: write(%s) failed: %m", tmp);
		ret = -1;
	}
	if (close(fd) < 0)
		ret = -1;
	if (ret == 0 && rename(tmp, path) < 0) {
		i_error("acl: rename(%s, %s) failed: %m", tmp, path);
		ret = -1;
	}
	if (ret < 0)
		(void)unlink(tmp);
	i_free(tmp);
	return ret;
}

static void acl_list_rebuild(struct mail_namespace *ns);
static void acl_shared_dict_update(struct mail_namespace *ns);

int acl_mailbox_update(struct mailbox *box, const struct acl_entry *change,
		       enum modify_type mode, bool delete_id)
{
	ARRAY_ACL entries = ARRAY_INIT;
	char *path = acl_path(box);
	string_t *str;
	bool found = false;
	int ret;

	if (acl_file_read(path, &entries) < 0) {
		mailbox_set_critical(box, "acl: Couldn't read the ACL");
		ret = -1;
		goto out;
	}
	for (size_t i = 0; i < entries.count; i++) {
		struct acl_entry *e = &entries.v[i];

		if (e->type != change->type || e->neg != change->neg ||
		    strcmp(e->name == NULL ? "" : e->name,
			   change->name == NULL ? "" : change->name) != 0)
			continue;
		found = true;
		if (delete_id)
			e->rights = 0;
		else if (mode == MODIFY_ADD)
			e->rights |= change->rights;
		else if (mode == MODIFY_REMOVE)
			e->rights &= ~change->rights;
		else
			e->rights = change->rights;
		break;
	}
	if (!found && !delete_id && mode != MODIFY_REMOVE) {
		struct acl_entry *e = array_append_space(&entries);

		*e = *change;
		e->name = change->name == NULL ? NULL : i_strdup(change->name);
	}
	/* the owner never loses admin on the own mailbox (Dovecot keeps
	   the user from locking himself out) */
	for (size_t i = 0; i < entries.count; i++) {
		struct acl_entry *e = &entries.v[i];

		if (e->type == ACL_ID_OWNER && !e->neg && ns_is_own(box->ns))
			e->rights |= ACL_ADMIN;
	}
	acl_entries_sort(&entries);
	str = str_new(256);
	for (size_t i = 0; i < entries.count; i++) {
		if (entries.v[i].rights == 0)
			continue;
		acl_entry_write(str, &entries.v[i]);
		str_append_c(str, '\n');
	}
	if (str_len(str) == 0 && !found) {
		ret = 0;	/* nothing to remove */
	} else if (str_len(str) == 0 && unlink(path) < 0 && errno != ENOENT) {
		mailbox_set_critical(box, "unlink(%s) failed: %m", path);
		ret = -1;
	} else if (str_len(str) == 0) {
		ret = 0;
	} else {
		ret = file_replace(path, str_c(str), str_len(str));
		if (ret < 0)
			mailbox_set_critical(box, "acl: Couldn't write %s",
					     path);
	}
	str_free(&str);
	box->acl_cached = false;
	if (ret == 0) {
		acl_list_rebuild(box->ns);
		acl_shared_dict_update(box->ns);
	}
out:
	acl_entries_free(&entries);
	i_free(path);
	return ret;
}

/* ---- dovecot-acl-list: the namespace's mailboxes with an ACL file,
 * "<mtime> <storage name>" per line ---- */

struct list_ctx {
	struct mail_namespace *ns;
	string_t *out;
	ARRAY_STR grantees;	/* identifiers with lookup, for the dict */
};

static void grantee_add(struct list_ctx *ctx, const char *key)
{
	for (size_t i = 0; i < ctx->grantees.count; i++) {
		if (strcmp(ctx->grantees.v[i], key) == 0)
			return;
	}
	array_push(&ctx->grantees, i_strdup(key));
}

static void list_cb(const char *name, enum mailbox_info_flags flags,
		    void *context)
{
	struct list_ctx *ctx = context;
	struct mail_namespace *ns = ctx->ns;
	ARRAY_ACL entries = ARRAY_INIT;
	struct mailbox *box;
	struct stat st;
	char *vname, *path, *sname;

	(void)flags;
	vname = strcmp(name, "INBOX") == 0 && ns->inbox ? i_strdup("INBOX") :
		i_strdup_printf("%s%s", ns->prefix, name);
	box = mailbox_alloc(ns->user, vname, 0);
	i_free(vname);
	if (box->deleting) {
		mailbox_free(&box);
		return;
	}
	path = acl_path(box);
	if (stat(path, &st) == 0 && acl_file_read(path, &entries) > 0) {
		sname = i_strdup(name);
		for (char *p = sname; *p != '\0'; p++) {
			if (*p == ns->sep)
				*p = box->list->storage_sep;
		}
		str_printfa(ctx->out, "%lld %s\n", (long long)st.st_mtime,
			    sname);
		i_free(sname);
		for (size_t i = 0; i < entries.count; i++) {
			const struct acl_entry *e = &entries.v[i];

			if (e->neg || (e->rights & ACL_LOOKUP) == 0)
				continue;
			if (e->type == ACL_ID_USER) {
				char *k = i_strdup_printf("user/%s", e->name);
				grantee_add(ctx, k);
				i_free(k);
			} else if (e->type == ACL_ID_GROUP ||
				   e->type == ACL_ID_GROUP_OVERRIDE) {
				char *k = i_strdup_printf("group/%s", e->name);
				grantee_add(ctx, k);
				i_free(k);
			} else if (e->type == ACL_ID_ANYONE ||
				   e->type == ACL_ID_AUTHENTICATED) {
				grantee_add(ctx, "anyone");
			}
		}
	}
	acl_entries_free(&entries);
	i_free(path);
	mailbox_free(&box);
}

static void acl_list_collect(struct mail_namespace *ns, struct list_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->ns = ns;
	ctx->out = str_new(256);
	(void)ns->mlist->v->list_iter(ns->mlist, list_cb, ctx);
}

static void acl_list_rebuild(struct mail_namespace *ns)
{
	struct list_ctx ctx;
	char *path;

	if (ns->mlist->root == NULL || ns->mlist->root[0] == '\0')
		return;
	acl_list_collect(ns, &ctx);
	path = i_strdup_printf("%s/" ACL_LIST_FILENAME,
			       ns->mlist->control_dir != NULL ?
			       ns->mlist->control_dir : ns->mlist->root);
	(void)file_replace(path, str_c(ctx.out), str_len(ctx.out));
	i_free(path);
	str_free(&ctx.out);
	for (size_t i = 0; i < ctx.grantees.count; i++)
		free((char *)ctx.grantees.v[i]);
	array_free(&ctx.grantees);
}

/* ---- the shared-mailboxes dict (Dovecot's file dict: key and value
 * lines): shared/shared-boxes/user/<to>/<owner> = 1, .../group/<g>/
 * <owner>, .../anyone/<owner> ---- */

#define DICT_PREFIX "shared/shared-boxes/"

static char *file_read_all(const char *path)
{
	struct stat st;
	char *data;
	ssize_t ret;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size > 16 * 1024 * 1024) {
		close(fd);
		return NULL;
	}
	data = i_malloc((size_t)st.st_size + 1);
	ret = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (ret < 0) {
		i_free(data);
		return NULL;
	}
	data[ret] = '\0';
	return data;
}

static void acl_shared_dict_update(struct mail_namespace *ns)
{
	struct mail_user *user = ns->user;
	struct list_ctx ctx;
	string_t *out;
	char *data, *line, *save = NULL;
	const char *owner = ns->owner;

	if (user->acl->shared_dict == NULL || owner == NULL ||
	    ns->type == MAIL_NAMESPACE_PUBLIC)
		return;
	acl_list_collect(ns, &ctx);
	out = str_new(256);
	data = file_read_all(user->acl->shared_dict);
	/* keep the other owners' keys */
	for (line = data == NULL ? NULL : strtok_r(data, "\n", &save);
	     line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *value = strtok_r(NULL, "\n", &save);
		const char *slash = strrchr(line, '/');

		if (value == NULL)
			break;
		if (strncmp(line, DICT_PREFIX, strlen(DICT_PREFIX)) == 0 &&
		    slash != NULL && strcmp(slash + 1, owner) == 0)
			continue;
		str_printfa(out, "%s\n%s\n", line, value);
	}
	for (size_t i = 0; i < ctx.grantees.count; i++) {
		str_printfa(out, DICT_PREFIX "%s/%s\n1\n", ctx.grantees.v[i],
			    owner);
		free((char *)ctx.grantees.v[i]);
	}
	array_free(&ctx.grantees);
	if (file_replace(user->acl->shared_dict, str_c(out),
			 str_len(out)) < 0)
		i_error("acl: dict commit failed: %s",
			user->acl->shared_dict);
	i_free(data);
	str_free(&out);
	str_free(&ctx.out);
}

/* The owners the dict says share with this user. */
static void shared_dict_owners(struct mail_user *user, ARRAY_STR *owners)
{
	char *data, *line, *save = NULL;

	if (user->acl == NULL || user->acl->shared_dict == NULL)
		return;
	data = file_read_all(user->acl->shared_dict);
	for (line = data == NULL ? NULL : strtok_r(data, "\n", &save);
	     line != NULL; line = strtok_r(NULL, "\n", &save)) {
		const char *rest, *owner = NULL;
		char *value = strtok_r(NULL, "\n", &save);

		if (value == NULL)
			break;
		if (!str_begins(line, DICT_PREFIX, &rest))
			continue;
		if (str_begins(rest, "anyone/", &owner)) {
			/* anyone */
		} else if (str_begins(rest, "user/", &rest)) {
			size_t n = strlen(user->acl->acl_name);
			if (strncmp(rest, user->acl->acl_name, n) == 0 &&
			    rest[n] == '/')
				owner = rest + n + 1;
		} else if (str_begins(rest, "group/", &rest)) {
			const char *slash = strchr(rest, '/');
			if (slash != NULL) {
				char *g = i_strndup(rest,
						    (size_t)(slash - rest));
				if (in_groups(user, g))
					owner = slash + 1;
				i_free(g);
			}
		}
		if (owner == NULL || owner[0] == '\0' ||
		    strchr(owner, '/') != NULL ||
		    strcmp(owner, user->username) == 0)
			continue;
		bool dup = false;
		for (size_t i = 0; i < owners->count; i++)
			dup = dup || strcmp(owners->v[i], owner) == 0;
		if (!dup)
			array_push(owners, i_strdup(owner));
	}
	i_free(data);
}

/* ---- core hooks ---- */

void acl_mailbox_created(struct mailbox *box)
{
	const char *name = box->name;
	const char *sep;
	struct mailbox *parent;
	char *pvname, *src, *dest, *data;

	if (box->user->acl == NULL)
		return;
	sep = strrchr(name, box->ns->sep);
	if (sep == NULL)
		return;
	pvname = i_strdup_printf("%s%.*s", box->ns->prefix,
				 (int)(sep - name), name);
	parent = mailbox_alloc(box->user, pvname, 0);
	i_free(pvname);
	if (parent->deleting) {
		mailbox_free(&parent);
		return;
	}
	src = acl_path(parent);
	dest = acl_path(box);
	data = file_read_all(src);
	if (data != NULL) {
		if (file_replace(dest, data, strlen(data)) == 0) {
			acl_list_rebuild(box->ns);
		}
		i_free(data);
	}
	i_free(src);
	i_free(dest);
	mailbox_free(&parent);
}

/* The rights on the root of box's namespace (prefix "" with INBOX):
 * the global file's entries for "" over the defaults. */
static unsigned int root_rights(struct mailbox *box)
{
	ARRAY_ACL entries = ARRAY_INIT;
	unsigned int rights;

	if (global_entries_vname(box->user, "", &entries) < 0) {
		acl_entries_free(&entries);
		return 0;
	}
	rights = rights_compute(box->user, box->ns, &entries);
	acl_entries_free(&entries);
	return rights;
}

int acl_mailbox_create_check(struct mailbox *box)
{
	const char *sep;
	unsigned int rights;

	if (box->user->acl == NULL || box->user->admin ||
	    (box->flags & MAILBOX_FLAG_IGNORE_ACLS) != 0)
		return 0;
	sep = strrchr(box->name, box->ns->sep);
	if (sep == NULL) {
		/* top level: the owner's own namespace only, with the
		   rights of its root (Dovecot: the list's default ACL
		   object: the owner's defaults and the global file's
		   lines whose pattern matches "", not INBOX's file) */
		rights = box->ns->type == MAIL_NAMESPACE_PRIVATE ||
			ns_is_own(box->ns) ? ACL_CREATE : 0;
		if (rights != 0 && box->ns->inbox && box->ns->prefix[0] == '\0')
			rights &= root_rights(box);
	} else {
		char *pvname = i_strdup_printf("%s%.*s", box->ns->prefix,
					       (int)(sep - box->name),
					       box->name);
		rights = acl_vname_rights(box->user, pvname);
		i_free(pvname);
	}
	if ((rights & ACL_CREATE) == 0) {
		mailbox_set_error(box, MAIL_ERROR_PERM, "Permission denied");
		return -1;
	}
	return 0;
}

void acl_mailbox_flag_rights(struct mailbox *box, enum mail_flags *flags_r,
			     bool *keywords_r)
{
	unsigned int rights;

	if (box->user->acl == NULL || acl_mailbox_rights(box, &rights) < 0) {
		*flags_r = MAIL_FLAGS_MASK;
		*keywords_r = true;
		if (box->user->acl != NULL) {
			*flags_r = 0;
			*keywords_r = false;
		}
		return;
	}
	*flags_r = 0;
	if ((rights & ACL_WRITE) != 0)
		*flags_r |= MAIL_ANSWERED | MAIL_FLAGGED | MAIL_DRAFT;
	if ((rights & ACL_WRITE_SEEN) != 0)
		*flags_r |= MAIL_SEEN;
	if ((rights & ACL_WRITE_DELETED) != 0)
		*flags_r |= MAIL_DELETED;
	*keywords_r = (rights & ACL_WRITE) != 0;
}

/* ---- shared namespaces ---- */

/* A USER lookup on the auth service's auth-userdb socket: the owner's
 * home. 1 found, 0 not, -1 error. */
static int userdb_home_lookup(struct mail_user *user, const char *name,
			      const char **home_r)
{
	struct sockaddr_un sa;
	char buf[8192];
	size_t len = 0;
	int fd, ret = -1;
	char *req;

	if (strchr(name, '\t') != NULL || strchr(name, '\n') != NULL ||
	    strchr(name, '/') != NULL || name[0] == '\0' || name[0] == '.')
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path),
			     "%s/auth-userdb", user->set->base_dir) >=
	    sizeof(sa.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		i_error("acl: connect(%s) failed: %m", sa.sun_path);
		close(fd);
		return -1;
	}
	req = i_strdup_printf("VERSION\t1\t0\nUSER\t1\t%s\tservice=imap\n",
			      name);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		i_free(req);
		close(fd);
		return -1;
	}
	i_free(req);
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		char *line, *nl;

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			if (str_begins(line, "USER\t1\t", NULL)) {
				char *save = NULL;
				*home_r = NULL;
				for (char *f = strtok_r(line, "\t", &save);
				     f != NULL; f = strtok_r(NULL, "\t", &save)) {
					const char *v;
					if (str_begins(f, "home=", &v))
						*home_r = p_strdup(user->pool, v);
				}
				ret = 1;
				goto done;
			}
			if (str_begins(line, "NOTFOUND\t1", NULL)) {
				ret = 0;
				goto done;
			}
			if (str_begins(line, "FAIL\t1", NULL)) {
				i_error("acl: userdb lookup(%s) failed: %s",
					name, line);
				goto done;
			}
			line = nl + 1;
		}
		memmove(buf, line, strlen(line) + 1);
		len = strlen(buf);
		if (len >= sizeof(buf) - 1)
			break;
	}
done:
	close(fd);
	return ret;
}

struct mail_namespace *acl_shared_ns_get(struct mail_user *user,
					 struct mail_namespace *template,
					 const char *owner)
{
	const char *home = NULL;
	char *prefix;
	struct mail_namespace *ns;

	prefix = i_strdup_printf("%.*s%s%c",
				 (int)(strchr(template->prefix, '%') -
				       template->prefix),
				 template->prefix, owner, template->sep);
	for (ns = user->namespaces; ns != NULL; ns = ns->next) {
		if (!ns->shared_template && strcmp(ns->prefix, prefix) == 0) {
			i_free(prefix);
			return ns;
		}
	}
	i_free(prefix);
	if (strcmp(owner, user->username) == 0)
		return NULL;
	if (userdb_home_lookup(user, owner, &home) <= 0)
		return NULL;
	return mail_namespace_add_shared(user, template, owner, home);
}

void acl_shared_ns_add_all(struct mail_user *user,
			   struct mail_namespace *template)
{
	ARRAY_STR owners = ARRAY_INIT;

	shared_dict_owners(user, &owners);
	for (size_t i = 0; i < owners.count; i++) {
		(void)acl_shared_ns_get(user, template, owners.v[i]);
		free((char *)owners.v[i]);
	}
	array_free(&owners);
}

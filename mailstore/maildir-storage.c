/* maildir-storage.c - the Maildir driver's mailbox list and mailbox
 * operations. Layouts: maildir++ (default; "Work.Sub" lives in
 * <root>/.Work.Sub, separator '.') and fs (<root>/Work/Sub, separator
 * '/'). INBOX is the root itself (or INBOX=). Folder names on disk are
 * modified UTF-7, as Dovecot writes them. */
#include "maildir-private.h"
#include "mail-log.h"
#include "mkdir-parents.h"
#include "unlink-directory.h"
#include "mutf7.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static bool layout_fs(const struct mailbox_list *list)
{
	return list->layout != NULL && strcmp(list->layout, "fs") == 0;
}

static int maildir_list_init(struct mailbox_list *list, const char **error_r)
{
	if (list->root[0] == '\0') {
		*error_r = "Root mail directory not given";
		return -1;
	}
	list->storage_sep = layout_fs(list) ? '/' : '.';
	return 0;
}

static const char *maildir_subscriptions_path(struct mailbox_list *list)
{
	const char *dir = list->control_dir != NULL ? list->control_dir :
		list->root;
	return p_strdup_printf(list->pool, "%s/%s", dir,
			       list->subscriptions_file != NULL ?
			       list->subscriptions_file :
			       MAILDIR_SUBSCRIPTIONS_NAME);
}

/* disk name (mUTF-7, storage separator) -> name with the namespace
 * separator in UTF-8; NULL if it can't be shown */
static char *disk_to_name(struct mailbox_list *list, const char *disk)
{
	string_t *str = str_new(strlen(disk) + 8);
	char *ret;

	if (mutf7_decode(str, disk) < 0) {
		str_truncate(str, 0);
		str_append(str, disk);	/* show it as it is */
	}
	ret = str_free_without_data(&str);
	for (char *p = ret; *p != '\0'; p++) {
		if (*p == list->storage_sep)
			*p = list->ns->sep;
	}
	return ret;
}

struct iter_ctx {
	struct mailbox_list *list;
	void (*cb)(const char *name, enum mailbox_info_flags flags,
		   void *context);
	void *context;
};

static bool is_maildir(const char *path)
{
	char *cur = i_strdup_printf("%s/cur", path);
	struct stat st;
	bool ret = stat(cur, &st) == 0 && S_ISDIR(st.st_mode);

	i_free(cur);
	return ret;
}

static bool is_dir(const char *dir, struct dirent *de)
{
	struct stat st;
	char *path;
	bool ret;

	if (de->d_type == DT_DIR)
		return true;
	if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
		return false;
	path = i_strdup_printf("%s/%s", dir, de->d_name);
	ret = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	i_free(path);
	return ret;
}

static int iter_maildirplusplus(struct iter_ctx *ctx)
{
	struct mailbox_list *list = ctx->list;
	DIR *d = opendir(list->root);
	struct dirent *de;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		char *name;

		if (de->d_name[0] != '.' || de->d_name[1] == '\0' ||
		    strcmp(de->d_name, "..") == 0 || !is_dir(list->root, de))
			continue;
		name = disk_to_name(list, de->d_name + 1);
		ctx->cb(name, 0, ctx->context);
		i_free(name);
	}
	closedir(d);
	return 0;
}

static void iter_fs_dir(struct iter_ctx *ctx, const char *dir,
			const char *prefix, unsigned int depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > 64 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *path, *disk, *name;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "cur") == 0 ||
		    strcmp(de->d_name, "new") == 0 ||
		    strcmp(de->d_name, "tmp") == 0 || !is_dir(dir, de))
			continue;
		path = i_strdup_printf("%s/%s", dir, de->d_name);
		disk = i_strdup_printf("%s%s", prefix, de->d_name);
		name = disk_to_name(ctx->list, disk);
		ctx->cb(name, is_maildir(path) ? 0 : MAILBOX_NOSELECT,
			ctx->context);
		char *sub = i_strdup_printf("%s/", disk);
		iter_fs_dir(ctx, path, sub, depth + 1);
		i_free(sub);
		i_free(name);
		i_free(disk);
		i_free(path);
	}
	closedir(d);
}

static int maildir_list_iter(struct mailbox_list *list,
			     void (*cb)(const char *name,
					enum mailbox_info_flags flags,
					void *context), void *context)
{
	struct iter_ctx ctx = { list, cb, context };

	if (list->ns->inbox)
		cb("INBOX", 0, context);
	if (layout_fs(list)) {
		iter_fs_dir(&ctx, list->root, "", 0);
		return 0;
	}
	return iter_maildirplusplus(&ctx);
}

/* ---- mailboxes ---- */

static int maildir_box_init(struct mailbox *box)
{
	struct mailbox_list *list = box->list;
	char sep = box->ns->sep;
	string_t *disk;
	const char *name = box->name, *rel;

	if (strcmp(name, "INBOX") == 0 && box->ns->inbox) {
		box->path = list->inbox_path != NULL ? list->inbox_path :
			layout_fs(list) ?
			p_strdup_printf(box->pool, "%s/INBOX", list->root) :
			list->root;
		rel = "";
	} else {
		/* validate: no empty levels, no control characters, no
		   storage separator inside a level */
		size_t len = strlen(name);
		if (len == 0 || name[0] == sep || name[len - 1] == sep ||
		    strstr(name, (char[]){ sep, sep, '\0' }) != NULL) {
			mailbox_set_error(box, MAIL_ERROR_PARAMS,
				"Invalid mailbox name: Hierarchy separator in invalid place");
			return -1;
		}
		for (const char *p = name; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20) {
				mailbox_set_error(box, MAIL_ERROR_PARAMS,
					"Invalid mailbox name: Name contains control characters");
				return -1;
			}
			if (*p == '/' && sep != '/' && !layout_fs(list)) {
				mailbox_set_error(box, MAIL_ERROR_PARAMS,
					"Invalid mailbox name: Name must not have '/' characters");
				return -1;
			}
			if (*p == list->storage_sep && sep != list->storage_sep) {
				mailbox_set_error(box, MAIL_ERROR_PARAMS,
					"Character not allowed in mailbox name: '%c'",
					*p);
				return -1;
			}
		}
		if (layout_fs(list) && (strcmp(name, "..") == 0 ||
		    strstr(name, "/../") != NULL || str_begins(name, "../", NULL) ||
		    str_ends(name, "/.."))) {
			mailbox_set_error(box, MAIL_ERROR_PARAMS,
				"Invalid mailbox name");
			return -1;
		}
		disk = str_new(len + 8);
		if (mutf7_encode(disk, name) < 0) {
			str_free(&disk);
			mailbox_set_error(box, MAIL_ERROR_PARAMS,
				"Mailbox name is not valid UTF-8");
			return -1;
		}
		for (size_t i = 0; i < str_len(disk); i++) {
			if (disk->data[i] == sep)
				disk->data[i] = list->storage_sep;
		}
		rel = p_strdup_printf(box->pool, "%s%s",
				      layout_fs(list) ? "" : ".", str_c(disk));
		box->path = p_strdup_printf(box->pool, "%s/%s", list->root, rel);
		str_free(&disk);
	}
	box->index_path = list->index_dir == NULL ? box->path :
		rel[0] == '\0' ? list->index_dir :
		p_strdup_printf(box->pool, "%s/%s", list->index_dir, rel);
	box->control_path = list->control_dir == NULL ? box->path :
		rel[0] == '\0' ? list->control_dir :
		p_strdup_printf(box->pool, "%s/%s", list->control_dir, rel);
	return 0;
}

static int maildir_box_exists(struct mailbox *box, bool *exists_r,
			      bool *selectable_r)
{
	struct stat st;

	*exists_r = stat(box->path, &st) == 0 && S_ISDIR(st.st_mode);
	*selectable_r = *exists_r;
	if (!*exists_r && strcmp(box->name, "INBOX") == 0 && box->ns->inbox) {
		/* INBOX always exists: it is created on first use */
		*exists_r = *selectable_r = true;
	}
	if (*exists_r && layout_fs(box->list) && !is_maildir(box->path) &&
	    strcmp(box->name, "INBOX") != 0)
		*selectable_r = false;
	return 0;
}

static int mkdir_maildir(struct mailbox *box)
{
	/* cur/ last: it is what is_maildir() looks for, so a concurrent
	   process (parallel first deliveries to a new user) never takes
	   the Maildir for made while new/ or tmp/ is still missing */
	static const char *const subs[] = { "new", "tmp", "cur" };

	if (mkdir_parents(box->path, 0700) < 0) {
		mailbox_set_critical(box, "mkdir(%s) failed: %m", box->path);
		return -1;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(subs); i++) {
		char *p = i_strdup_printf("%s/%s", box->path, subs[i]);
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			mailbox_set_critical(box, "mkdir(%s) failed: %m", p);
			i_free(p);
			return -1;
		}
		i_free(p);
	}
	if (box->control_path != box->path &&
	    mkdir_parents(box->control_path, 0700) < 0) {
		mailbox_set_critical(box, "mkdir(%s) failed: %m",
				     box->control_path);
		return -1;
	}
	return 0;
}

static int maildir_box_create(struct mailbox *box, bool directory)
{
	struct stat st;
	bool is_inbox = strcmp(box->name, "INBOX") == 0 && box->ns->inbox;

	if ((is_inbox ? is_maildir(box->path) : stat(box->path, &st) == 0) &&
	    (!layout_fs(box->list) || is_maildir(box->path) || directory)) {
		mailbox_set_error(box, MAIL_ERROR_EXISTS, "Mailbox already exists");
		return -1;
	}
	if (directory && layout_fs(box->list)) {
		if (mkdir_parents(box->path, 0700) < 0) {
			mailbox_set_critical(box, "mkdir(%s) failed: %m",
					     box->path);
			return -1;
		}
		return 0;
	}
	if (mkdir_maildir(box) < 0)
		return -1;
	if (!is_inbox && !layout_fs(box->list)) {
		/* Maildir++ marks folders with an empty maildirfolder */
		char *p = i_strdup_printf("%s/maildirfolder", box->path);
		int fd = open(p, O_WRONLY | O_CREAT, 0600);
		if (fd >= 0)
			close(fd);
		i_free(p);
	}
	return 0;
}

/* Does a Maildir++ folder have children (".name.*" in the root)? */
static bool maildirpp_has_children(struct mailbox *box)
{
	const char *base = strrchr(box->path, '/') + 1;
	size_t len = strlen(base);
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(box->list->root);

	if (d == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		found = strncmp(de->d_name, base, len) == 0 &&
			de->d_name[len] == '.' && de->d_name[len + 1] != '\0';
	}
	closedir(d);
	return found;
}

static int maildir_box_delete(struct mailbox *box)
{
	struct stat st;
	char *trash;

	if (stat(box->path, &st) < 0) {
		mailbox_set_error(box, MAIL_ERROR_NOTFOUND,
				  "Mailbox doesn't exist: %s", box->vname);
		return -1;
	}
	if (layout_fs(box->list)) {
		/* a mailbox with children keeps its directory as \Noselect */
		static const char *const subs[] = { "cur", "new", "tmp" };
		for (unsigned int i = 0; i < N_ELEMENTS(subs); i++) {
			char *p = i_strdup_printf("%s/%s", box->path, subs[i]);
			(void)unlink_directory(p);
			i_free(p);
		}
		(void)rmdir(box->path);
		return 0;
	}
	/* maildir++: rename out of the way first (atomic for readers),
	   then remove, as Dovecot's ".DOVECOT-TRASHED" does */
	trash = i_strdup_printf("%s/..DOVECOT-TRASHED", box->list->root);
	(void)unlink_directory(trash);
	if (rename(box->path, trash) < 0) {
		mailbox_set_critical(box, "rename(%s, %s) failed: %m",
				     box->path, trash);
		i_free(trash);
		return -1;
	}
	if (unlink_directory(trash) < 0)
		i_error("unlink_directory(%s) failed: %m", trash);
	i_free(trash);
	if (box->index_path != box->path)
		(void)unlink_directory(box->index_path);
	if (box->control_path != box->path)
		(void)unlink_directory(box->control_path);
	return 0;
}

static int maildir_box_rename(struct mailbox *src, struct mailbox *dest)
{
	struct stat st;
	bool src_inbox = strcmp(src->name, "INBOX") == 0 && src->ns->inbox;

	if (stat(dest->path, &st) == 0) {
		mailbox_set_error(src, MAIL_ERROR_EXISTS,
				  "Target mailbox already exists");
		return -1;
	}
	if (src_inbox && !layout_fs(src->list)) {
		/* Dovecot refuses it for Maildir++ (INBOX is the root) */
		mailbox_set_error(src, MAIL_ERROR_NOTPOSSIBLE,
				  "Renaming INBOX isn't supported");
		return -1;
	}
	if (src_inbox) {
		/* RFC 3501: renaming INBOX moves its messages into the new
		   mailbox and leaves INBOX empty */
		if (mkdir_maildir(dest) < 0)
			return -1;
		static const char *const subs[] = { "cur", "new" };
		for (unsigned int i = 0; i < N_ELEMENTS(subs); i++) {
			char *from = i_strdup_printf("%s/%s", src->path, subs[i]);
			char *to = i_strdup_printf("%s/%s", dest->path, subs[i]);
			(void)rmdir(to);
			if (rename(from, to) < 0)
				i_error("rename(%s, %s) failed: %m", from, to);
			(void)mkdir(from, 0700);
			i_free(from);
			i_free(to);
		}
		char *ul = i_strdup_printf("%s/" MAILDIR_UIDLIST_NAME, src->control_path);
		char *ul2 = i_strdup_printf("%s/" MAILDIR_UIDLIST_NAME, dest->control_path);
		(void)rename(ul, ul2);
		i_free(ul);
		i_free(ul2);
		char *ix = i_strdup_printf("%s/roost.index", src->index_path);
		(void)unlink(ix);
		i_free(ix);
		return 0;
	}
	bool src_virtual = false;
	if (stat(src->path, &st) < 0) {
		/* a Maildir++ parent that exists only through its
		   children is renamed with them */
		if (layout_fs(src->list) || !maildirpp_has_children(src)) {
			mailbox_set_error(src, MAIL_ERROR_NOTFOUND,
					  "Mailbox doesn't exist: %s",
					  src->vname);
			return -1;
		}
		src_virtual = true;
	}
	if (layout_fs(src->list)) {
		char *parent = i_strdup(dest->path);
		char *slash = strrchr(parent, '/');
		if (slash != NULL) {
			*slash = '\0';
			(void)mkdir_parents(parent, 0700);
		}
		i_free(parent);
		if (rename(src->path, dest->path) < 0) {
			mailbox_set_critical(src, "rename(%s, %s) failed: %m",
					     src->path, dest->path);
			return -1;
		}
		return 0;
	}
	/* maildir++: the mailbox and every child directory */
	DIR *d = opendir(src->list->root);
	struct dirent *de;
	const char *src_base = strrchr(src->path, '/') + 1;
	const char *dest_base = strrchr(dest->path, '/') + 1;
	size_t slen = strlen(src_base);
	int ret = 0;

	if (!src_virtual && rename(src->path, dest->path) < 0) {
		mailbox_set_critical(src, "rename(%s, %s) failed: %m",
				     src->path, dest->path);
		if (d != NULL)
			closedir(d);
		return -1;
	}
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, src_base, slen) != 0 ||
		    de->d_name[slen] != '.')
			continue;
		char *from = i_strdup_printf("%s/%s", src->list->root, de->d_name);
		char *to = i_strdup_printf("%s/%s%s", src->list->root, dest_base,
					   de->d_name + slen);
		if (rename(from, to) < 0) {
			i_error("rename(%s, %s) failed: %m", from, to);
			ret = -1;
		}
		i_free(from);
		i_free(to);
	}
	if (d != NULL)
		closedir(d);
	return ret;
}

static int maildir_box_open(struct mailbox *box)
{
	struct maildir_mailbox *mbox = (struct maildir_mailbox *)box;
	bool is_inbox = strcmp(box->name, "INBOX") == 0 && box->ns->inbox;

	if (!is_maildir(box->path)) {
		if (!is_inbox) {
			mailbox_set_error(box, MAIL_ERROR_NOTFOUND,
				"Mailbox doesn't exist: %s", box->vname);
			return -1;
		}
		if (mkdir_maildir(box) < 0)
			return -1;
		mail_log_mailbox(box->user, MAIL_LOG_EVENT_MAILBOX_CREATE,
				 box->vname, NULL);
	} else {
		/* tmp/ may be missing in a Maildir made by hand */
		char *tmp = i_strdup_printf("%s/tmp", box->path);
		(void)mkdir(tmp, 0700);
		i_free(tmp);
	}
	mbox->notify_paths[0] = p_strdup_printf(box->pool, "%s/new", box->path);
	mbox->notify_paths[1] = p_strdup_printf(box->pool, "%s/cur", box->path);
	mbox->notify_paths[2] = NULL;
	return 0;
}

static void maildir_box_close(struct mailbox *box)
{
	struct maildir_mailbox *mbox = (struct maildir_mailbox *)box;

	for (size_t i = 0; i < mbox->file_keywords.count; i++)
		free((char *)mbox->file_keywords.v[i]);
	array_free(&mbox->file_keywords);
	array_free(&mbox->file_kw_map);
}

/* Messages up to this size are read() into memory rather than mapped:
 * an mmap+munmap pair per message costs a TLB flush each time, which
 * dominated FETCH of many small messages. */
#define MAILDIR_READ_MAX_SIZE (256 * 1024)

struct maildir_map {
	void *addr;
	size_t size;
	bool malloced;
};

static int maildir_map_mail(struct mailbox *box, const struct mail_record *rec,
			    const unsigned char **data_r, size_t *size_r,
			    void **map_ctx_r)
{
	struct mail_record *drec = mail_record_set_find(&box->disk, rec->uid);
	struct mail_record *vrec = (struct mail_record *)rec;
	struct maildir_map *map;
	struct stat st;
	int fd = -1;

	for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
		fd = open(maildir_rec_path(box, vrec), O_RDONLY);
		if (fd >= 0 || errno != ENOENT)
			break;
		if (attempt == 0 && maildir_find_file(box, vrec) <= 0)
			break;
		if (drec != NULL && drec != vrec) {
			i_free(drec->name);
			drec->name = i_strdup(vrec->name);
			drec->driver_flags = vrec->driver_flags;
		}
	}
	if (fd < 0) {
		if (errno == ENOENT) {
			mailbox_set_error(box, MAIL_ERROR_EXPUNGED,
				"Message was expunged (uid=%u)", rec->uid);
			return -1;
		}
		mailbox_set_critical(box, "open(%s) failed: %m",
				     maildir_rec_path(box, vrec));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		mailbox_set_critical(box, "fstat() failed: %m");
		close(fd);
		return -1;
	}
	map = i_new(struct maildir_map, 1);
	map->size = (size_t)st.st_size;
	if (map->size > 0 && map->size <= MAILDIR_READ_MAX_SIZE) {
		size_t done = 0;

		map->addr = i_malloc(map->size);
		map->malloced = true;
		while (done < map->size) {
			ssize_t n = read(fd, (char *)map->addr + done,
					 map->size - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* shrank under us (rewritten): what was read */
				if (n < 0) {
					mailbox_set_critical(box, "read(%s) failed: %m",
						maildir_rec_path(box, vrec));
					close(fd);
					i_free(map->addr);
					i_free(map);
					return -1;
				}
				map->size = done;
				break;
			}
			done += (size_t)n;
		}
	} else if (map->size > 0) {
		map->addr = mmap(NULL, map->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map->addr == MAP_FAILED) {
			mailbox_set_critical(box, "mmap(%s) failed: %m",
					     maildir_rec_path(box, vrec));
			close(fd);
			i_free(map);
			return -1;
		}
	}
	close(fd);
	*data_r = map->size == 0 ? (const unsigned char *)"" : map->addr;
	*size_r = map->size;
	*map_ctx_r = map;
	return 0;
}

static void maildir_unmap_mail(struct mailbox *box, void *map_ctx)
{
	struct maildir_map *map = map_ctx;

	(void)box;
	if (map == NULL)
		return;
	if (map->malloced)
		i_free(map->addr);
	else if (map->size > 0)
		munmap(map->addr, map->size);
	i_free(map);
}

static const char *const *maildir_notify_paths(struct mailbox *box)
{
	return ((struct maildir_mailbox *)box)->notify_paths;
}

const struct mail_storage_vfuncs maildir_storage = {
	.name = "maildir",
	.box_size = sizeof(struct maildir_mailbox),
	.list_init = maildir_list_init,
	.list_iter = maildir_list_iter,
	.subscriptions_path = maildir_subscriptions_path,
	.box_init = maildir_box_init,
	.box_exists = maildir_box_exists,
	.box_create = maildir_box_create,
	.box_delete = maildir_box_delete,
	.box_rename = maildir_box_rename,
	.box_open = maildir_box_open,
	.box_close = maildir_box_close,
	.sync_read = maildir_sync_read,
	.write_flags = maildir_write_flags,
	.expunge = maildir_expunge,
	.map_mail = maildir_map_mail,
	.unmap_mail = maildir_unmap_mail,
	.fill_dates = maildir_fill_dates,
	.save_begin = maildir_save_begin,
	.save_continue = maildir_save_continue,
	.save_finish = maildir_save_finish,
	.save_cancel = maildir_save_cancel,
	.save_commit = maildir_save_commit,
	.save_rollback = maildir_save_rollback,
	.copy = maildir_copy,
	.notify_paths = maildir_notify_paths,
};

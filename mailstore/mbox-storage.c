/* mbox-storage.c - the mbox driver's mailbox list and mailbox operations
 * (mail_location = mbox:~/mail:INBOX=/var/mail/%u).
 *
 * Layout, as Dovecot's: every mailbox is a file under the root, the
 * hierarchy separator is '/', directories are \Noselect parents and files
 * can't have children (\NoInferiors). INBOX is the INBOX= file (else
 * <root>/inbox). Index and control files of "a/b" live in
 * <root>/a/.imap/b/ (INBOX: <root>/.imap/INBOX/), the UIDVALIDITY counter
 * in <root>/.imap/dovecot-uidvalidity, subscriptions in
 * <root>/.subscriptions. Names on disk are modified UTF-7. Entries
 * starting with '.' and "*.lock" files are not mailboxes. */
#include "mbox-private.h"
#include "mkdir-parents.h"
#include "unlink-directory.h"
#include "mutf7.h"
#include "settings-structs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mbox_list_init(struct mailbox_list *list, const char **error_r)
{
	const struct settings_root *set = list->ns->user->set;
	struct mbox_lock_set locks;

	if (list->root == NULL || list->root[0] == '\0') {
		*error_r = "mbox: root mail directory not given";
		return -1;
	}
	if (mbox_lock_methods_parse(set->mbox_read_locks, &locks, error_r) < 0 ||
	    mbox_lock_methods_parse(set->mbox_write_locks, &locks, error_r) < 0)
		return -1;
	list->storage_sep = '/';
	return 0;
}

static const char *mbox_subscriptions_path(struct mailbox_list *list)
{
	const char *dir = list->control_dir != NULL ? list->control_dir :
		list->root;

	return p_strdup_printf(list->pool, "%s/%s", dir,
			       list->subscriptions_file != NULL ?
			       list->subscriptions_file :
			       MBOX_SUBSCRIPTIONS_NAME);
}

/* <index root>: INDEX= or <root>/.imap */
static const char *index_root(struct mailbox_list *list)
{
	return list->index_dir != NULL ? list->index_dir :
		p_strdup_printf(list->pool, "%s/" MBOX_INDEX_DIR_NAME,
				list->root);
}

static bool is_inbox_box(const struct mailbox *box)
{
	return strcmp(box->name, "INBOX") == 0 && box->ns->inbox;
}

static const char *inbox_path(struct mailbox_list *list)
{
	return list->inbox_path != NULL ? list->inbox_path :
		p_strdup_printf(list->pool, "%s/inbox", list->root);
}

/* ---- listing ---- */

struct iter_ctx {
	struct mailbox_list *list;
	void (*cb)(const char *name, enum mailbox_info_flags flags,
		   void *context);
	void *context;
	const char *inbox;
};

static char *disk_to_name(struct mailbox_list *list, const char *disk)
{
	string_t *str = str_new(strlen(disk) + 8);
	char *ret;

	if (mutf7_decode(str, disk) < 0) {
		str_truncate(str, 0);
		str_append(str, disk);
	}
	ret = str_free_without_data(&str);
	if (list->ns->sep != '/') {
		for (char *p = ret; *p != '\0'; p++) {
			if (*p == '/')
				*p = list->ns->sep;
		}
	}
	return ret;
}

/* \Marked when mail arrived since it was last read (Dovecot: the file
 * isn't empty and was modified after it was accessed). */
static enum mailbox_info_flags file_flags(const struct stat *st)
{
	enum mailbox_info_flags flags = MAILBOX_NOINFERIORS;

	if (st->st_size > 0 && st->st_mtime > st->st_atime)
		flags |= MAILBOX_MARKED;
	else
		flags |= MAILBOX_UNMARKED;
	return flags;
}

static void iter_dir(struct iter_ctx *ctx, const char *dir,
		     const char *prefix, unsigned int depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > 64 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *path, *disk, *name;

		if (de->d_name[0] == '.' || str_ends(de->d_name, ".lock"))
			continue;
		path = i_strdup_printf("%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 ||
		    (ctx->inbox != NULL && strcmp(path, ctx->inbox) == 0)) {
			i_free(path);
			continue;
		}
		disk = i_strdup_printf("%s%s", prefix, de->d_name);
		name = disk_to_name(ctx->list, disk);
		if (S_ISDIR(st.st_mode)) {
			char *sub = i_strdup_printf("%s/", disk);

			ctx->cb(name, MAILBOX_NOSELECT, ctx->context);
			iter_dir(ctx, path, sub, depth + 1);
			i_free(sub);
		} else if (S_ISREG(st.st_mode)) {
			ctx->cb(name, file_flags(&st), ctx->context);
		}
		i_free(name);
		i_free(disk);
		i_free(path);
	}
	closedir(d);
}

static int mbox_list_iter(struct mailbox_list *list,
			  void (*cb)(const char *name,
				     enum mailbox_info_flags flags,
				     void *context), void *context)
{
	struct iter_ctx ctx = { list, cb, context, NULL };

	if (list->ns->inbox) {
		ctx.inbox = inbox_path(list);
		cb("INBOX", 0, context);
	}
	iter_dir(&ctx, list->root, "", 0);
	return 0;
}

/* ---- mailboxes ---- */

static int name_error(struct mailbox *box, const char *why)
{
	mailbox_set_error(box, MAIL_ERROR_PARAMS, "Invalid mailbox name: %s",
			  why);
	return -1;
}

/* Check a storage name (separator '/') level by level. */
static int validate_levels(struct mailbox *box, const char *name)
{
	const char *p = name;

	if (name[0] == '\0' || name[0] == '/' || name[0] == '~')
		return name_error(box, "Name must not begin with '/' or '~'");
	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		if (len == 0)
			return name_error(box,
				"Hierarchy separator in invalid place");
		if (p[0] == '.')
			return name_error(box,
				"Name must not begin with '.' at any level");
		if (p[len] == '\0' && len >= 5 &&
		    strncmp(p + len - 5, ".lock", 5) == 0)
			return name_error(box, "Contains reserved name");
		p += len;
		if (*p == '/') {
			p++;
			if (*p == '\0')
				return name_error(box,
					"Hierarchy separator in invalid place");
		}
	}
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return name_error(box,
					  "Name contains control characters");
	}
	return 0;
}

static int mbox_box_init(struct mailbox *box)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)box;
	struct mailbox_list *list = box->list;
	char sep = box->ns->sep;
	const char *slash, *index_base, *rel = "INBOX";
	string_t *disk;

	mbox->fd = -1;
	mbox->lock_type = F_UNLCK;
	if (is_inbox_box(box)) {
		box->path = inbox_path(list);
		box->index_path = list->index_dir != NULL ?
			p_strdup_printf(box->pool, "%s/INBOX", list->index_dir) :
			p_strdup_printf(box->pool, "%s/" MBOX_INDEX_DIR_NAME
					"/INBOX", list->root);
	} else {
		disk = str_new(strlen(box->name) + 8);
		for (const char *p = box->name; *p != '\0'; p++) {
			if (*p == '/' && sep != '/') {
				str_free(&disk);
				mailbox_set_error(box, MAIL_ERROR_PARAMS,
					"Character not allowed in mailbox name: '/'");
				return -1;
			}
		}
		if (mutf7_encode(disk, box->name) < 0) {
			str_free(&disk);
			mailbox_set_error(box, MAIL_ERROR_PARAMS,
					  "Mailbox name is not valid UTF-8");
			return -1;
		}
		for (size_t i = 0; i < str_len(disk); i++) {
			if (disk->data[i] == sep)
				disk->data[i] = '/';
		}
		if (validate_levels(box, str_c(disk)) < 0) {
			str_free(&disk);
			return -1;
		}
		box->path = p_strdup_printf(box->pool, "%s/%s", list->root,
					    str_c(disk));
		slash = strrchr(str_c(disk), '/');
		if (list->index_dir != NULL) {
			box->index_path = p_strdup_printf(box->pool, "%s/%s",
				list->index_dir, str_c(disk));
		} else if (slash == NULL) {
			box->index_path = p_strdup_printf(box->pool,
				"%s/" MBOX_INDEX_DIR_NAME "/%s", list->root,
				str_c(disk));
		} else {
			index_base = slash + 1;
			box->index_path = p_strdup_printf(box->pool,
				"%s/%.*s/" MBOX_INDEX_DIR_NAME "/%s", list->root,
				(int)(slash - str_c(disk)), str_c(disk),
				index_base);
		}
		rel = p_strdup(box->pool, str_c(disk));
		str_free(&disk);
	}
	box->control_path = list->control_dir == NULL ? box->index_path :
		p_strdup_printf(box->pool, "%s/%s", list->control_dir, rel);
	mbox->notify_paths[0] = box->path;
	mbox->notify_paths[1] = NULL;
	return 0;
}

static int mbox_box_exists(struct mailbox *box, bool *exists_r,
			   bool *selectable_r)
{
	struct stat st;

	if (stat(box->path, &st) < 0) {
		*exists_r = *selectable_r = is_inbox_box(box);
		if (errno != ENOENT && errno != ENOTDIR) {
			mailbox_set_critical(box, "stat(%s) failed: %m",
					     box->path);
			return -1;
		}
		return 0;
	}
	*exists_r = true;
	*selectable_r = S_ISREG(st.st_mode);
	return 0;
}

/* A parent level of box that is a file makes box impossible. */
static int check_parents(struct mailbox *box)
{
	char *path = i_strdup(box->path);
	size_t root_len = strlen(box->list->root);
	int ret = 0;

	for (char *p = path + root_len + 1; *p != '\0'; p++) {
		struct stat st;

		if (*p != '/')
			continue;
		*p = '\0';
		if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
			mailbox_set_error(box, MAIL_ERROR_NOTPOSSIBLE,
				"Mailbox doesn't allow inferior mailboxes");
			ret = -1;
		}
		*p = '/';
		if (ret < 0)
			break;
	}
	i_free(path);
	return ret;
}

static mode_t new_file_mode(struct mailbox *box)
{
	struct stat st;

	if (is_inbox_box(box) || stat(box->list->root, &st) < 0)
		return 0600;
	return (st.st_mode & 0666) | 0600;
}

static int mkdir_parent_of(struct mailbox *box, const char *path)
{
	char *dir = i_strdup(path), *slash = strrchr(dir, '/');
	int ret = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_parents(dir, 0700) < 0) {
			mailbox_set_critical(box, "mkdir(%s) failed: %m", dir);
			ret = -1;
		}
	}
	i_free(dir);
	return ret;
}

static int create_file(struct mailbox *box)
{
	int fd;

	if (mkdir_parent_of(box, box->path) < 0)
		return -1;
	fd = open(box->path, O_WRONLY | O_CREAT | O_EXCL, new_file_mode(box));
	if (fd < 0) {
		if (errno == EEXIST) {
			mailbox_set_error(box, MAIL_ERROR_EXISTS,
					  "Mailbox already exists");
		} else if (errno == EACCES) {
			mailbox_set_error(box, MAIL_ERROR_PERM,
				"Permission denied: can't create %s", box->path);
		} else {
			mailbox_set_critical(box, "open(%s, O_CREAT) failed: %m",
					     box->path);
		}
		return -1;
	}
	close(fd);
	return 0;
}

static int mbox_box_create(struct mailbox *box, bool directory)
{
	struct stat st;

	if (stat(box->path, &st) == 0) {
		mailbox_set_error(box, MAIL_ERROR_EXISTS,
				  "Mailbox already exists");
		return -1;
	}
	if (!is_inbox_box(box) && check_parents(box) < 0)
		return -1;
	if (directory) {
		if (mkdir_parents(box->path, 0700) < 0) {
			mailbox_set_critical(box, "mkdir(%s) failed: %m",
					     box->path);
			return -1;
		}
		return 0;
	}
	return create_file(box);
}

static int mbox_box_delete(struct mailbox *box)
{
	struct stat st;

	if (stat(box->path, &st) < 0) {
		mailbox_set_error(box, MAIL_ERROR_NOTFOUND,
				  "Mailbox doesn't exist: %s", box->vname);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		/* a \Noselect parent goes only when it's empty (except for
		   its index directory) */
		char *idx = i_strdup_printf("%s/" MBOX_INDEX_DIR_NAME,
					    box->path);
		(void)rmdir(idx);
		i_free(idx);
		if (rmdir(box->path) < 0) {
			if (errno == ENOTEMPTY || errno == EEXIST) {
				mailbox_set_error(box, MAIL_ERROR_EXISTS,
					"Mailbox has children, delete them first");
			} else {
				mailbox_set_critical(box, "rmdir(%s) failed: %m",
						     box->path);
			}
			return -1;
		}
		return 0;
	}
	if (unlink(box->path) < 0) {
		mailbox_set_critical(box, "unlink(%s) failed: %m", box->path);
		return -1;
	}
	if (unlink_directory(box->index_path) < 0)
		i_error("unlink_directory(%s) failed: %m", box->index_path);
	if (box->control_path != box->index_path)
		(void)unlink_directory(box->control_path);
	return 0;
}

static int mbox_box_rename(struct mailbox *src, struct mailbox *dest)
{
	struct stat st;

	if (is_inbox_box(src)) {
		mailbox_set_error(src, MAIL_ERROR_NOTPOSSIBLE,
				  "Renaming INBOX isn't supported for mbox");
		return -1;
	}
	if (stat(src->path, &st) < 0) {
		mailbox_set_error(src, MAIL_ERROR_NOTFOUND,
				  "Mailbox doesn't exist: %s", src->vname);
		return -1;
	}
	if (stat(dest->path, &st) == 0) {
		mailbox_set_error(src, MAIL_ERROR_EXISTS,
				  "Target mailbox already exists");
		return -1;
	}
	if (check_parents(dest) < 0) {
		/* Dovecot's text names the target here */
		mailbox_set_error(src, dest->error, "%s%s",
				  dest->error == MAIL_ERROR_NOTPOSSIBLE ?
				  "Target mailbox doesn't allow inferior mailboxes" :
				  dest->error_text, "");
		return -1;
	}
	if (mkdir_parent_of(src, dest->path) < 0)
		return -1;
	if (rename(src->path, dest->path) < 0) {
		mailbox_set_critical(src, "rename(%s, %s) failed: %m",
				     src->path, dest->path);
		return -1;
	}
	/* the index follows; losing it only costs modseq history */
	if (stat(src->index_path, &st) == 0 &&
	    mkdir_parent_of(src, dest->index_path) == 0 &&
	    rename(src->index_path, dest->index_path) < 0)
		(void)unlink_directory(src->index_path);
	return 0;
}

int mbox_file_open(struct mbox_mailbox *mbox)
{
	struct mailbox *box = &mbox->box;
	const struct settings_root *set = box->user->set;
	const char *error;
	struct stat st;

	if (mbox->fd >= 0)
		return 0;
	if (mbox_lock_methods_parse(set->mbox_read_locks, &mbox->read_locks,
				    &error) < 0 ||
	    mbox_lock_methods_parse(set->mbox_write_locks, &mbox->write_locks,
				    &error) < 0) {
		mailbox_set_critical(box, "%s", error);
		return -1;
	}
	mbox->fd_readonly = false;
	mbox->fd = open(box->path, O_RDWR);
	if (mbox->fd < 0 && (errno == EACCES || errno == EROFS ||
			     errno == EPERM)) {
		mbox->fd = open(box->path, O_RDONLY);
		mbox->fd_readonly = true;
	}
	if (mbox->fd < 0 && errno == ENOENT && is_inbox_box(box)) {
		/* INBOX exists as soon as it's used */
		if (create_file(box) < 0 && box->error != MAIL_ERROR_EXISTS)
			return -1;
		mbox->fd = open(box->path, O_RDWR);
	}
	if (mbox->fd < 0) {
		if (errno == ENOENT) {
			mailbox_set_error(box, MAIL_ERROR_NOTFOUND,
					  "Mailbox doesn't exist: %s", box->vname);
		} else if (errno == EACCES) {
			mailbox_set_error(box, MAIL_ERROR_PERM,
					  "Permission denied");
		} else {
			mailbox_set_critical(box, "open(%s) failed: %m",
					     box->path);
		}
		return -1;
	}
	if (fstat(mbox->fd, &st) < 0) {
		mailbox_set_critical(box, "fstat(%s) failed: %m", box->path);
		mbox_file_close(mbox);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		mbox_file_close(mbox);
		mailbox_set_error(box, MAIL_ERROR_NOTPOSSIBLE,
				  "Mailbox isn't selectable");
		return -1;
	}
	mbox->dev = st.st_dev;
	mbox->ino = st.st_ino;
	mbox->scan_valid = false;
	return 0;
}

void mbox_file_close(struct mbox_mailbox *mbox)
{
	mbox_unlock(mbox);
	if (mbox->map != NULL)
		munmap(mbox->map, mbox->map_size);
	mbox->map = NULL;
	mbox->map_size = 0;
	mbox_scan_free(&mbox->scan);
	mbox->scan_valid = false;
	if (mbox->head_check != NULL)
		str_free(&mbox->head_check);
	if (mbox->tail_check != NULL)
		str_free(&mbox->tail_check);
	if (mbox->fd >= 0)
		close(mbox->fd);
	mbox->fd = -1;
}

static int mbox_box_open(struct mailbox *box)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)box;
	struct stat st;

	if (stat(box->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		mailbox_set_error(box, MAIL_ERROR_NOTPOSSIBLE,
				  "Mailbox isn't selectable");
		return -1;
	}
	return mbox_file_open(mbox);
}

static void mbox_box_close(struct mailbox *box)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)box;

	/* lazy writes and writes that found the file locked: now, or by
	   the next session (they stay in the index) */
	if (!box->readonly && !mbox->fd_readonly) {
		bool pending = false;

		for (size_t i = 0; i < box->disk.recs.count && !pending; i++)
			pending = box->disk.recs.v[i].driver_flags != 0;
		mbox->defer_writes = false;
		if (pending && mbox_flush_all(mbox, &box->disk) == 0)
			(void)mail_index_save(box, &box->disk);
	}
	mbox_file_close(mbox);
}

static int mbox_map_mail(struct mailbox *box, const struct mail_record *rec,
			 const unsigned char **data_r, size_t *size_r,
			 void **map_ctx_r)
{
	struct mbox_mailbox *mbox = (struct mbox_mailbox *)box;
	string_t *str;
	int idx;

	if (mbox->fd < 0 && mbox_file_open(mbox) < 0)
		return -1;
	if (mbox_lock(mbox, F_RDLCK) <= 0)
		return -1;
	if (mbox_scan_refresh(mbox, false) < 0) {
		mbox_unlock(mbox);
		return -1;
	}
	idx = mbox_scan_find_uid(&mbox->scan, rec->uid);
	if (idx < 0) {
		mbox_unlock(mbox);
		mailbox_set_error(box, MAIL_ERROR_EXPUNGED,
				  "Message was expunged (uid=%u)", rec->uid);
		return -1;
	}
	str = str_new(mbox->scan.msgs.v[idx].size + 1);
	mbox_msg_export(mbox->map, &mbox->scan.msgs.v[idx], str);
	mbox_unlock(mbox);
	*data_r = (const unsigned char *)str_c(str);
	*size_r = str_len(str);
	*map_ctx_r = str;
	return 0;
}

static void mbox_unmap_mail(struct mailbox *box, void *map_ctx)
{
	string_t *str = map_ctx;

	(void)box;
	if (str != NULL)
		str_free(&str);
}

static const char *const *mbox_notify_paths(struct mailbox *box)
{
	return ((struct mbox_mailbox *)box)->notify_paths;
}

/* ---- helpers for the other mbox files ---- */

const char *mbox_journal_dir(struct mbox_mailbox *mbox)
{
	const char *dir = mbox->box.control_path;

	if (dir == NULL)
		return NULL;
	if (mkdir_parents(dir, 0700) < 0)
		return NULL;
	return dir;
}

bool mbox_fsync_enabled(struct mbox_mailbox *mbox)
{
	const char *mode = mbox->box.user->set->mail_fsync;

	return mode == NULL || strcmp(mode, "never") != 0;
}

/* Parse 8 hex digits. */
static bool parse_hex32(const char *s, size_t len, uint32_t *value_r)
{
	uint32_t v = 0;

	if (len != 8)
		return false;
	for (size_t i = 0; i < len; i++) {
		int c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return false;
	}
	*value_r = v;
	return true;
}

/* The highest dovecot-uidvalidity.<hex> marker in dir, 0 if none. */
static uint32_t marker_scan(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint32_t max = 0, v;
	const size_t plen = sizeof(MBOX_UIDVALIDITY_NAME ".") - 1;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, MBOX_UIDVALIDITY_NAME ".", plen) == 0 &&
		    parse_hex32(de->d_name + plen, strlen(de->d_name + plen),
				&v) && v > max)
			max = v;
	}
	closedir(d);
	return max;
}

uint32_t mbox_uidvalidity_next(struct mailbox_list *list)
{
	const char *dir = index_root(list);
	char *path = i_strdup_printf("%s/" MBOX_UIDVALIDITY_NAME, dir);
	uint32_t cur = 0, next = 0;

	(void)mkdir_parents(dir, 0700);
	for (unsigned int tries = 0; tries < 10; tries++) {
		char buf[16], *old_marker, *new_marker, *tmp;
		ssize_t n = -1;
		int fd = open(path, O_RDONLY);

		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		if (n < 8 || !parse_hex32(buf, 8, &cur))
			cur = marker_scan(dir);
		if (cur == 0)
			cur = (uint32_t)time(NULL) - 1;
		next = cur + 1;
		if (next == 0)
			next = 1;
		/* claim the value by renaming the marker (creating it first
		   if it's missing); losing the race means trying again */
		old_marker = i_strdup_printf("%s.%08x", path, cur);
		new_marker = i_strdup_printf("%s.%08x", path, next);
		fd = open(old_marker, O_WRONLY | O_CREAT, 0444);
		if (fd >= 0)
			close(fd);
		if (rename(old_marker, new_marker) < 0 && errno == ENOENT) {
			i_free(old_marker);
			i_free(new_marker);
			continue;
		}
		i_free(old_marker);
		i_free(new_marker);
		tmp = i_strdup_printf("%s.tmp.%ld", path, (long)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			snprintf(buf, sizeof(buf), "%08x", next);
			if (write(fd, buf, 8) != 8 || close(fd) < 0 ||
			    rename(tmp, path) < 0) {
				i_error("write(%s) failed: %m", tmp);
				(void)unlink(tmp);
			}
		} else {
			i_error("open(%s) failed: %m", tmp);
		}
		i_free(tmp);
		break;
	}
	i_free(path);
	if (next == 0)
		next = (uint32_t)time(NULL);
	return next;
}

const struct mail_storage_vfuncs mbox_storage = {
	.name = "mbox",
	.box_size = sizeof(struct mbox_mailbox),
	.list_init = mbox_list_init,
	.list_iter = mbox_list_iter,
	.subscriptions_path = mbox_subscriptions_path,
	.box_init = mbox_box_init,
	.box_exists = mbox_box_exists,
	.box_create = mbox_box_create,
	.box_delete = mbox_box_delete,
	.box_rename = mbox_box_rename,
	.box_open = mbox_box_open,
	.box_close = mbox_box_close,
	.sync_read = mbox_sync_read,
	.write_flags = mbox_write_flags,
	.expunge = mbox_expunge,
	.commit_flush = mbox_commit_flush,
	.flush = mbox_flush,
	.map_mail = mbox_map_mail,
	.unmap_mail = mbox_unmap_mail,
	.save_begin = mbox_save_begin,
	.save_continue = mbox_save_continue,
	.save_finish = mbox_save_finish,
	.save_cancel = mbox_save_cancel,
	.save_commit = mbox_save_commit,
	.save_rollback = mbox_save_rollback,
	.copy = NULL,
	.notify_paths = mbox_notify_paths,
};

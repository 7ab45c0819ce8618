/* maildir-uidlist.c - dovecot-uidlist, the file that keeps Maildir UIDs
 * (on-disk.md 1):
 *   3 V<uidvalidity> N<next uid> G<mailbox guid>
 *   <uid> [<ext fields>] :<file name without ":2,flags">
 * Version 1 files ("1 <uidvalidity> <next uid>", records "<uid> <name>")
 * are read too. Writers hold dovecot-uidlist.lock (a dotlock Dovecot
 * honours) and replace the file by renaming the lock file over it. The
 * header's N may be stale (Dovecot appends records without rewriting
 * it): the next UID is max(N, last uid + 1). */
#include "maildir-private.h"
#include "file-dotlock.h"
#include "settings-structs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define UIDLIST_MAX_SIZE ((size_t)1 << 30)

void maildir_uidlist_init(struct maildir_uidlist *ul)
{
	memset(ul, 0, sizeof(*ul));
	ul->version = 3;
	ul->next_uid = 1;
	ul->keys = hash_create(false);
}

void maildir_uidlist_deinit(struct maildir_uidlist *ul)
{
	for (size_t i = 0; i < ul->recs.count; i++)
		i_free(ul->recs.v[i].key);
	array_free(&ul->recs);
	hash_destroy(&ul->keys);
}

void maildir_uidlist_add(struct maildir_uidlist *ul, uint32_t uid,
			 const char *key)
{
	struct maildir_uidlist_rec *rec = array_append_space(&ul->recs);

	rec->uid = uid;
	rec->key = i_strdup(key);
	rec->vsize = MAIL_SIZE_UNKNOWN;
	hash_insert(ul->keys, key, (void *)(uintptr_t)ul->recs.count);
	if (uid >= ul->next_uid)
		ul->next_uid = uid + 1;
}

uint32_t maildir_uidlist_lookup(const struct maildir_uidlist *ul,
				const char *key)
{
	uintptr_t idx = (uintptr_t)hash_lookup(ul->keys, key);

	return idx == 0 ? 0 : ul->recs.v[idx - 1].uid;
}

static bool parse_u32(const char *s, uint32_t *v_r, const char **end_r)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || v > UINT32_MAX)
		return false;
	*v_r = (uint32_t)v;
	*end_r = end;
	return true;
}

static int parse_header(struct maildir_uidlist *ul, char *line,
			const char **error_r)
{
	const char *p = line;
	uint32_t v;

	if (!parse_u32(p, &ul->version, &p)) {
		*error_r = "Invalid header version";
		return -1;
	}
	if (ul->version == 1) {
		if (*p != ' ' || !parse_u32(p + 1, &ul->uidvalidity, &p) ||
		    *p != ' ' || !parse_u32(p + 1, &ul->next_uid, &p)) {
			*error_r = "Corrupted header (version 1)";
			return -1;
		}
		return 0;
	}
	if (ul->version != 3) {
		*error_r = "Unsupported version";
		return -1;
	}
	while (*p == ' ') {
		char key = *++p;
		const char *val = ++p;

		p = val + strcspn(val, " ");
		switch (key) {
		case 'V':
			if (parse_u32(val, &v, &val))
				ul->uidvalidity = v;
			break;
		case 'N':
			if (parse_u32(val, &v, &val))
				ul->next_uid = v;
			break;
		case 'G':
			if (p - val == 32) {
				memcpy(ul->guid, val, 32);
				ul->guid[32] = '\0';
			}
			break;
		default:
			break;
		}
	}
	if (ul->uidvalidity == 0 || ul->next_uid == 0) {
		*error_r = "Broken header (uidvalidity = 0)";
		return -1;
	}
	return 0;
}

static int parse_record(struct maildir_uidlist *ul, char *line,
			const char **error_r)
{
	const char *p = line, *name;
	uint32_t uid;
	uint64_t vsize = MAIL_SIZE_UNKNOWN;

	if (!parse_u32(p, &uid, &p) || uid == 0 || *p != ' ') {
		*error_r = "Invalid data in file";
		return -1;
	}
	if (ul->recs.count > 0 && uid <= ul->recs.v[ul->recs.count - 1].uid) {
		*error_r = "UIDs not ordered";
		return -1;
	}
	p++;
	if (ul->version == 1) {
		name = p;
	} else {
		/* ext fields until " :" or ":" */
		while (*p != ':' && *p != '\0') {
			if (*p == 'W')
				vsize = strtoull(p + 1, NULL, 10);
			p = strchr(p, ' ');
			if (p == NULL) {
				*error_r = "Missing ':' before file name";
				return -1;
			}
			p++;
		}
		if (*p != ':') {
			*error_r = "Missing file name";
			return -1;
		}
		name = p + 1;
	}
	if (*name == '\0' || strchr(name, '/') != NULL) {
		*error_r = "Invalid file name";
		return -1;
	}
	if (maildir_uidlist_lookup(ul, name) != 0) {
		/* duplicate file name: Dovecot keeps the first */
		return 0;
	}
	maildir_uidlist_add(ul, uid, name);
	ul->recs.v[ul->recs.count - 1].vsize = vsize;
	return 0;
}

int maildir_uidlist_parse(struct maildir_uidlist *ul, const char *data,
			  size_t size, const char **error_r)
{
	const char *p = data, *end = data + size;
	bool header = true;
	uint32_t header_next;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol == NULL ? (size_t)(end - p) : (size_t)(eol - p);
		char *line;
		int ret;

		if (memchr(p, '\0', len) != NULL) {
			*error_r = "NUL byte in file";
			return -1;
		}
		line = i_strndup(p, len);
		if (header) {
			ret = parse_header(ul, line, error_r);
			header = false;
		} else if (len == 0 || eol == NULL) {
			/* an unfinished last line (writer crashed) is
			   ignored, as Dovecot does */
			ret = 0;
		} else {
			header_next = ul->next_uid;
			ret = parse_record(ul, line, error_r);
			if (ul->next_uid < header_next)
				ul->next_uid = header_next;
		}
		i_free(line);
		if (ret < 0)
			return -1;
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	if (header) {
		*error_r = "File is empty";
		return -1;
	}
	return 0;
}

static const char *uidlist_path(struct mailbox *box)
{
	return p_strdup_printf(box->pool, "%s/" MAILDIR_UIDLIST_NAME,
			       box->control_path);
}

int maildir_uidlist_read(struct mailbox *box, struct maildir_uidlist *ul)
{
	const char *path = uidlist_path(box), *error;
	struct stat st;
	char *data;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		mailbox_set_critical(box, "open(%s) failed: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > UIDLIST_MAX_SIZE) {
		mailbox_set_critical(box, "fstat(%s) failed or file too large", path);
		close(fd);
		return -1;
	}
	data = i_malloc((size_t)st.st_size + 1);
	n = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		i_free(data);
		mailbox_set_critical(box, "read(%s) failed: %m", path);
		return -1;
	}
	ul->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	ul->size = st.st_size;
	ul->ino = (int64_t)st.st_ino;
	if (maildir_uidlist_parse(ul, data, (size_t)n, &error) < 0) {
		i_free(data);
		/* Dovecot's reaction to a broken uidlist: rebuild it, which
		   gives a new UIDVALIDITY */
		i_error("Broken file %s line %zu: %s", path,
			ul->recs.count + 1, error);
		maildir_uidlist_deinit(ul);
		maildir_uidlist_init(ul);
		return 0;
	}
	i_free(data);
	return 1;
}

int maildir_uidlist_lock(struct mailbox *box, struct dotlock **lock_r)
{
	struct dotlock_settings set = {
		.timeout = box->user->set->mail_max_lock_timeout == 0 ? 120 :
			MIN(box->user->set->mail_max_lock_timeout, 120),
		.stale_timeout = 120,
		.use_excl = true,
	};
	int ret = file_dotlock_open(&set, uidlist_path(box), lock_r);

	if (ret >= 0)
		return 1;
	if (errno == EAGAIN) {
		mailbox_set_error(box, MAIL_ERROR_TEMP,
			"Timeout while waiting for lock");
		return 0;
	}
	mailbox_set_critical(box, "file_dotlock_open(%s) failed: %m",
			     uidlist_path(box));
	return -1;
}

int maildir_uidlist_write(struct mailbox *box, struct maildir_uidlist *ul,
			  struct dotlock **lock)
{
	int fd = file_dotlock_get_fd(*lock);
	string_t *str = str_new(64 + ul->recs.count * 64);
	int ret = 0;

	if (ul->recs.count > 0 &&
	    ul->next_uid <= ul->recs.v[ul->recs.count - 1].uid)
		ul->next_uid = ul->recs.v[ul->recs.count - 1].uid + 1;
	str_printfa(str, "3 V%u N%u G%s\n", ul->uidvalidity, ul->next_uid,
		    ul->guid);
	for (size_t i = 0; i < ul->recs.count; i++)
		str_printfa(str, "%u :%s\n", ul->recs.v[i].uid,
			    ul->recs.v[i].key);
	if (write(fd, str_c(str), str_len(str)) != (ssize_t)str_len(str)) {
		mailbox_set_critical(box, "write(%s.lock) failed: %m",
				     uidlist_path(box));
		(void)file_dotlock_delete(lock);
		ret = -1;
	} else if ((strcmp(box->user->set->mail_fsync, "never") == 0 ?
		    file_dotlock_replace_nofsync(lock) :
		    file_dotlock_replace(lock)) < 0) {
		mailbox_set_critical(box, "rename(%s.lock) failed: %m",
				     uidlist_path(box));
		ret = -1;
	}
	str_free(&str);
	return ret;
}

uint32_t maildir_uidvalidity_next(struct mailbox_list *list)
{
	const char *dir = list->control_dir != NULL ? list->control_dir :
		list->root;
	char *path = i_strdup_printf("%s/" MAILDIR_UIDVALIDITY_NAME, dir);
	char buf[16], *old_marker, *new_marker;
	uint32_t value = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n == 8) {
			buf[n] = '\0';
			value = (uint32_t)strtoul(buf, NULL, 16);
		}
	}
	/* the first value comes from the clock; never go backwards */
	if (value == 0 || value < (uint32_t)time(NULL) - 86400u * 365u * 50u)
		value = (uint32_t)time(NULL) - 1;
	old_marker = i_strdup_printf("%s.%08x", path, value);
	value++;
	new_marker = i_strdup_printf("%s.%08x", path, value);
	if (fd >= 0) {
		snprintf(buf, sizeof(buf), "%08x", value);
		if (pwrite(fd, buf, 8, 0) != 8)
			i_error("write(%s) failed: %m", path);
		close(fd);
		if (rename(old_marker, new_marker) < 0) {
			int mfd = open(new_marker, O_WRONLY | O_CREAT, 0444);
			if (mfd >= 0)
				close(mfd);
		}
	}
	i_free(old_marker);
	i_free(new_marker);
	i_free(path);
	return value;
}

void maildir_guid_generate(char guid[33])
{
	unsigned char raw[16];
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (unsigned int i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8)) ^
						 (getpid() << i) ^ i);
	}
	if (fd >= 0)
		close(fd);
	for (unsigned int i = 0; i < sizeof(raw); i++)
		snprintf(guid + i * 2, 3, "%02x", raw[i]);
}

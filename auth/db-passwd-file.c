/* db-passwd-file.c - passwd-file parsing, caching and rereading, shared by
 * passdb and userdb passwd-file. Parsing follows Dovecot 2.3: lines split
 * on ':', "#", ":" and empty lines skipped, columns after the shell joined
 * back with ':' and split on spaces into extra fields; a line that can't
 * be used is logged ("passwd-file PATH:User x has invalid UID 'y'", as
 * Dovecot words it, plus " (line N)") and skipped. */
#include "db-passwd-file.h"
#include "userdb.h"
#include "hash.h"
#include "str.h"
#include "var-expand.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PASSWD_FILE_DRIVER "passwd-file"
#define PARSE_TIME_STARTUP_WARN_SECS 60
#define PARSE_TIME_RELOAD_WARN_SECS 10

struct passwd_file {
	struct db_passwd_file *db;
	char *path;
	pool_t pool;			/* NULL until read */
	struct hash_table *users;	/* name -> struct passwd_user */
	/* what the file was when read: any change means reread */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool stale;			/* reread even if unchanged */
};

struct db_passwd_file {
	struct db_passwd_file *next;
	int refcount;
	char *path;			/* as configured */
	bool vars;			/* path has %variables */
	bool userdb;			/* also used as a userdb */
	bool userdb_warn_missing;	/* the only userdb: complain */
	bool debug;
	bool parsed_once;		/* the startup read happened */
	struct passwd_file *default_file;	/* path without variables */
	struct hash_table *files;	/* expanded path -> passwd_file */
};

static struct db_passwd_file *passwd_files;

/* ---- reading lines with a bound ---- */

struct line_reader {
	int fd;
	char *buf;
	size_t start, end;
	unsigned int line_no;
	bool eof;
};

/* Next line (without LF, and without a CR before it). Returns 1 with the
 * line, 0 at EOF, -1 on a read error (errno set), 2 when the line was
 * longer than PASSWD_FILE_MAX_LINE (it was skipped; *line_r is NULL). */
static int line_reader_next(struct line_reader *r, char **line_r,
			    size_t *len_r)
{
	bool too_long = false;

	for (;;) {
		char *lf = memchr(r->buf + r->start, '\n', r->end - r->start);
		ssize_t ret;

		if (lf != NULL || (r->eof && r->end > r->start)) {
			size_t len = lf != NULL ?
				(size_t)(lf - (r->buf + r->start)) :
				r->end - r->start;
			char *line = r->buf + r->start;

			r->start += len + (lf != NULL ? 1 : 0);
			r->line_no++;
			if (too_long) {
				*line_r = NULL;
				return 2;
			}
			if (len > 0 && line[len - 1] == '\r')
				len--;
			line[len] = '\0';
			*line_r = line;
			*len_r = len;
			return 1;
		}
		if (r->eof) {
			if (!too_long)
				return 0;
			/* an over-long last line ending at EOF */
			r->line_no++;
			*line_r = NULL;
			return 2;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->end == PASSWD_FILE_MAX_LINE) {
			/* no LF within the limit: drop what we have and
			   keep skipping until the line ends */
			too_long = true;
			r->end = 0;
		}
		ret = read(r->fd, r->buf + r->end,
			   PASSWD_FILE_MAX_LINE - r->end);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ret == 0)
			r->eof = true;
		r->end += (size_t)ret;
	}
}

static void line_reader_init(struct line_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	/* +1 for the NUL written over the LF or after the last line */
	r->buf = i_malloc(PASSWD_FILE_MAX_LINE + 1);
}

static void line_reader_deinit(struct line_reader *r)
{
	i_free(r->buf);
}

/* ---- parsing ---- */

static const char *const *split_colons(pool_t pool, const char *line)
{
	unsigned int count = 1, n = 0;
	const char **args;
	const char *p;

	for (p = line; *p != '\0'; p++) {
		if (*p == ':')
			count++;
	}
	args = p_new(pool, const char *, count + 1);
	for (p = line;; ) {
		const char *colon = strchr(p, ':');

		if (colon == NULL) {
			args[n++] = p_strdup(pool, p);
			break;
		}
		args[n++] = p_strndup(pool, p, (size_t)(colon - p));
		p = colon + 1;
	}
	args[n] = NULL;
	return args;
}

static const char *join_colons(pool_t pool, const char *const *args)
{
	string_t *str = str_new(256);
	const char *ret;

	for (unsigned int i = 0; args[i] != NULL; i++) {
		if (i > 0)
			str_append_c(str, ':');
		str_append(str, args[i]);
	}
	ret = p_strdup(pool, str_c(str));
	str_free(&str);
	return ret;
}

/* "password[NN]" is libpam-pwdfile's way to name the scheme: 34 = MD5,
 * 56 = DIGEST-MD5 (Dovecot's own old format), anything else crypt(3).
 * Returns NULL if it should be used as it is, "" for an invalid one. */
static const char *convert_pwdfile_password(pool_t pool, const char *pass)
{
	size_t len = strlen(pass);
	const char *prefix;
	int num;

	if (len <= 4 || pass[0] == '{' || pass[0] == '$' ||
	    pass[len - 1] != ']' || pass[len - 4] != '[')
		return NULL;
	num = (pass[len - 3] - '0') * 10 + (pass[len - 2] - '0');
	if (num == 34)
		prefix = "{PLAIN-MD5}";
	else if (num == 56)
		prefix = "{DIGEST-MD5}";
	else
		prefix = "{CRYPT}";
	if (num == 56 && len - 4 != 32)
		return "";
	return p_strdup_printf(pool, "%s%.*s", prefix, (int)(len - 4), pass);
}

#define FILE_ERROR(pw, line_no, fmt, ...) \
	i_error("passwd-file %s:" fmt " (line %u)", (pw)->path, \
		__VA_ARGS__, (line_no))

/* Add one parsed line; errors are logged and the user skipped. args are
 * the columns after user and password. */
static void passwd_file_add(struct passwd_file *pw, unsigned int line_no,
			    const char *username, const char *pass,
			    const char *const *args)
{
	struct db_passwd_file *db = pw->db;
	struct passwd_user *pu;
	const char *converted;

	if (hash_lookup(pw->users, username) != NULL) {
		FILE_ERROR(pw, line_no, "User %s exists more than once",
			   username);
		return;
	}
	pu = p_new(pw->pool, struct passwd_user, 1);
	pu->name = p_strdup(pw->pool, username);
	pu->uid = (uid_t)-1;
	pu->gid = (gid_t)-1;
	if (pass != NULL &&
	    (converted = convert_pwdfile_password(pw->pool, pass)) != NULL) {
		if (*converted == '\0') {
			FILE_ERROR(pw, line_no, "User %s has invalid password",
				   username);
			return;
		}
		pu->password = converted;
	} else {
		pu->password = pass == NULL ? NULL : p_strdup(pw->pool, pass);
	}

	/* uid */
	if (*args == NULL) {
		/* nothing: the gid check below complains */
	} else if (!db->userdb || **args == '\0') {
		args++;
	} else {
		if (userdb_parse_uid(*args, &pu->uid) < 0 || pu->uid == 0) {
			FILE_ERROR(pw, line_no, "User %s has invalid UID '%s'",
				   username, *args);
			return;
		}
		args++;
	}
	/* gid */
	if (*args == NULL) {
		if (db->userdb_warn_missing) {
			FILE_ERROR(pw, line_no,
				   "User %s is missing userdb info", username);
		}
		/* no userdb lookups for this user */
		pu->uid = 0;
		pu->gid = 0;
	} else if (!db->userdb || **args == '\0') {
		args++;
	} else {
		if (userdb_parse_gid(*args, &pu->gid) < 0 || pu->gid == 0) {
			FILE_ERROR(pw, line_no, "User %s has invalid GID '%s'",
				   username, *args);
			return;
		}
		args++;
	}
	/* gecos */
	if (*args != NULL)
		args++;
	/* home */
	if (*args != NULL) {
		if (db->userdb && **args != '\0')
			pu->home = p_strdup(pw->pool, *args);
		args++;
	}
	/* shell */
	if (*args != NULL)
		args++;
	/* the rest, ':' included, is a space separated list */
	if (*args != NULL) {
		const char *const *fields =
			auth_args_split(pw->pool, join_colons(pw->pool, args));

		if (fields[0] != NULL)
			pu->extra_fields = fields;
	}
	hash_insert(pw->users, pu->name, pu);
}

static void passwd_file_parse_line(struct passwd_file *pw, pool_t tmp,
				   unsigned int line_no, const char *line,
				   size_t len)
{
	const char *const *args;

	if (strlen(line) != len) {
		i_error("passwd-file %s:Line %u contains a NUL byte, skipped",
			pw->path, line_no);
		return;
	}
	if (*line == '\0' || *line == ':' || *line == '#')
		return; /* no user name, or a comment */
	args = split_colons(tmp, line);
	if (args[1] != NULL)
		passwd_file_add(pw, line_no, args[0], args[1], args + 2);
	else
		passwd_file_add(pw, line_no, args[0], NULL, args + 1);
}

static const char *errno_error(const char *func, const char *path, int err)
{
	static char buf[1024];

	if (err == EACCES) {
		snprintf(buf, sizeof(buf),
			 "%s(%s) failed: %s (euid=%u egid=%u)", func, path,
			 strerror(err), (unsigned int)geteuid(),
			 (unsigned int)getegid());
	} else {
		snprintf(buf, sizeof(buf), "%s(%s) failed: %s", func, path,
			 strerror(err));
	}
	return buf;
}

static void passwd_file_close(struct passwd_file *pw)
{
	hash_destroy(&pw->users);
	pool_destroy(&pw->pool);
}

/* Read the file; returns -1 with *error_r (a static buffer). */
static int passwd_file_open(struct passwd_file *pw, bool startup,
			    const char **error_r)
{
	struct line_reader reader;
	struct stat st;
	time_t start_time;
	unsigned int secs;
	pool_t tmp;
	char *line;
	size_t len;
	int fd, ret;

	fd = open(pw->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		*error_r = errno_error("open", pw->path, errno);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = errno_error("fstat", pw->path, errno);
		(void)close(fd);
		return -1;
	}
	pw->dev = st.st_dev;
	pw->ino = st.st_ino;
	pw->size = st.st_size;
	pw->mtime = st.st_mtim;
	pw->stale = false;
	pw->pool = pool_create("passwd-file", 10240);
	pw->users = hash_create(false);

	start_time = time(NULL);
	line_reader_init(&reader, fd);
	tmp = pool_create("passwd-file line", 1024);
	while ((ret = line_reader_next(&reader, &line, &len)) > 0) {
		if (ret == 2) {
			i_error("passwd-file %s:Line %u is longer than %u "
				"bytes, skipped", pw->path, reader.line_no,
				PASSWD_FILE_MAX_LINE - 1);
			continue;
		}
		passwd_file_parse_line(pw, tmp, reader.line_no, line, len);
		if (pool_used(tmp) > 65536) {
			pool_destroy(&tmp);
			tmp = pool_create("passwd-file line", 1024);
		}
	}
	if (ret < 0) {
		*error_r = errno_error("read", pw->path, errno);
		pool_destroy(&tmp);
		line_reader_deinit(&reader);
		(void)close(fd);
		passwd_file_close(pw);
		return -1;
	}
	pool_destroy(&tmp);
	line_reader_deinit(&reader);
	(void)close(fd);

	secs = (unsigned int)(time(NULL) - start_time);
	if ((startup && secs > PARSE_TIME_STARTUP_WARN_SECS) ||
	    (!startup && secs > PARSE_TIME_RELOAD_WARN_SECS)) {
		i_warning("passwd-file %s:Reading %zu users took %u secs",
			  pw->path, hash_count(pw->users), secs);
	} else if (pw->db->debug) {
		i_debug("passwd-file %s:Read %zu users in %u secs",
			pw->path, hash_count(pw->users), secs);
	}
	return 0;
}

static struct passwd_file *passwd_file_new(struct db_passwd_file *db,
					   const char *path)
{
	struct passwd_file *pw = i_new(struct passwd_file, 1);

	pw->db = db;
	pw->path = i_strdup(path);
	if (db->files != NULL)
		hash_insert(db->files, pw->path, pw);
	return pw;
}

static void passwd_file_free(struct passwd_file *pw)
{
	if (pw->db->files != NULL)
		hash_remove(pw->db->files, pw->path);
	passwd_file_close(pw);
	free(pw->path);
	free(pw);
}

static bool passwd_file_changed(const struct passwd_file *pw,
				const struct stat *st)
{
	return pw->pool == NULL || pw->stale || st->st_dev != pw->dev ||
		st->st_ino != pw->ino || st->st_size != pw->size ||
		st->st_mtim.tv_sec != pw->mtime.tv_sec ||
		st->st_mtim.tv_nsec != pw->mtime.tv_nsec;
}

/* Make sure the file's users are current. Returns 1 ok, 0 the file is
 * missing (log_reason set), -1 error (logged). pw is freed when it is a
 * per-path file that can't be used. */
static int passwd_file_sync(struct auth_lookup *lookup,
			    struct passwd_file *pw)
{
	const char *error;
	struct stat st;

	if (stat(pw->path, &st) < 0) {
		int ret = -1;

		if (errno == ENOENT) {
			auth_lookup_set_reason(lookup,
				"missing passwd file: %s", pw->path);
			ret = 0;
		} else {
			auth_lookup_log_error(lookup, PASSWD_FILE_DRIVER, "%s",
				errno_error("stat", pw->path, errno));
		}
		if (pw->db->default_file != pw)
			passwd_file_free(pw);
		return ret;
	}
	if (passwd_file_changed(pw, &st)) {
		passwd_file_close(pw);
		if (passwd_file_open(pw, false, &error) < 0) {
			auth_lookup_log_error(lookup, PASSWD_FILE_DRIVER,
					      "%s", error);
			return -1;
		}
	}
	return 1;
}

/* ---- the database ---- */

/* Does the path use %variables (beyond %% escapes)? */
static bool path_has_vars(const char *path)
{
	for (const char *p = path; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		if (p[1] != '\0')
			return true;
	}
	return false;
}

static void db_mark_stale(struct db_passwd_file *db)
{
	struct hash_iter iter = { 0 };
	const char *key;
	void *value;

	if (db->default_file != NULL)
		db->default_file->stale = true;
	if (db->files == NULL)
		return;
	while (hash_iterate(db->files, &iter, &key, &value))
		((struct passwd_file *)value)->stale = true;
}

struct db_passwd_file *db_passwd_file_init(const char *path, bool userdb)
{
	struct db_passwd_file *db;

	for (db = passwd_files; db != NULL; db = db->next) {
		if (strcmp(db->path, path) == 0) {
			db->refcount++;
			if (userdb && !db->userdb) {
				/* uid/gid now matter: read it again */
				db->userdb = true;
				db->userdb_warn_missing = true;
				db_mark_stale(db);
			}
			return db;
		}
	}
	db = i_new(struct db_passwd_file, 1);
	db->refcount = 1;
	db->path = i_strdup(path);
	db->userdb = userdb;
	db->userdb_warn_missing = userdb;
	db->vars = path_has_vars(path);
	if (db->vars) {
		db->files = hash_create(false);
	} else {
		string_t *dest = str_new(256);
		const char *error;

		/* only %% escapes: expand them away once */
		if (var_expand(dest, path, NULL, NULL, NULL, &error) <= 0) {
			str_truncate(dest, 0);
			str_append(dest, path);
		}
		db->default_file = passwd_file_new(db, str_c(dest));
		str_free(&dest);
	}
	db->next = passwd_files;
	passwd_files = db;
	return db;
}

void db_passwd_file_parse(struct db_passwd_file *db,
			  const struct auth_db_settings *set)
{
	const char *error;

	db->debug = set->debug;
	db->userdb_warn_missing = db->userdb && set->userdb_count == 1;
	if (db->default_file == NULL || db->parsed_once)
		return;
	db->parsed_once = true;
	passwd_file_close(db->default_file);
	if (passwd_file_open(db->default_file, true, &error) < 0)
		i_error("passwd-file %s:%s", db->default_file->path, error);
}

void db_passwd_file_unref(struct db_passwd_file **_db)
{
	struct db_passwd_file *db = *_db, **p;
	struct hash_iter iter = { 0 };
	const char *key;
	void *value;

	*_db = NULL;
	if (db == NULL || --db->refcount > 0)
		return;
	for (p = &passwd_files; *p != NULL; p = &(*p)->next) {
		if (*p == db) {
			*p = db->next;
			break;
		}
	}
	if (db->default_file != NULL)
		passwd_file_free(db->default_file);
	if (db->files != NULL) {
		/* freeing removes from the table: restart each time */
		while (hash_iterate(db->files, &iter, &key, &value)) {
			passwd_file_free(value);
			memset(&iter, 0, sizeof(iter));
		}
		hash_destroy(&db->files);
	}
	free(db->path);
	free(db);
}

/* A % value inside a path: cut at '/' so a user name can't climb out of
 * the directory (Dovecot's path_fix). */
static const char *path_fix(pool_t pool, const char *value)
{
	const char *slash = strchr(value, '/');

	return slash == NULL ? value :
		p_strndup(pool, value, (size_t)(slash - value));
}

/* Lexically normalize an absolute or relative path: drop "." and empty
 * components, resolve ".." (never above the root). */
static const char *normalize_path(pool_t pool, const char *path)
{
	string_t *str = str_new(strlen(path) + 2);
	const char *p = path, *ret;

	if (*p == '/')
		str_append_c(str, '/');
	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		if ((len == 1 && p[0] == '.') || len == 0) {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			const char *data = str_c(str);
			size_t n = str_len(str);

			while (n > 0 && data[n - 1] != '/')
				n--;
			/* keep the root slash */
			if (n > 1)
				n--;
			str_truncate(str, n);
		} else {
			if (str_len(str) > 0 &&
			    str_c(str)[str_len(str) - 1] != '/')
				str_append_c(str, '/');
			str_append_n(str, p, len);
		}
		p += len;
		if (*p == '/')
			p++;
	}
	ret = p_strdup(pool, str_c(str));
	str_free(&str);
	return ret;
}

/* The file this lookup uses. Returns 1, 0 (refused path, log_reason
 * set) or -1 (logged). */
static int db_passwd_file_get(struct db_passwd_file *db,
			      struct auth_lookup *lookup,
			      struct passwd_file **pw_r)
{
	const struct var_expand_table *table;
	const char *error, *path, *percent;
	struct passwd_file *pw;
	string_t *dest;
	size_t prefix_len;

	if (!db->vars) {
		*pw_r = db->default_file;
		return 1;
	}
	table = auth_lookup_var_table(lookup, path_fix);
	dest = str_new(256);
	if (var_expand(dest, db->path, table, NULL, NULL, &error) <= 0) {
		auth_lookup_log_error(lookup, PASSWD_FILE_DRIVER,
			"Failed to expand passwd-file path %s: %s",
			db->path, error);
		str_free(&dest);
		return -1;
	}
	path = normalize_path(lookup->pool, str_c(dest));
	str_free(&dest);
	percent = strchr(db->path, '%');
	prefix_len = percent == NULL ? 0 : (size_t)(percent - db->path);
	if (prefix_len > 0 && strncmp(db->path, path, prefix_len) != 0) {
		auth_lookup_set_reason(lookup,
			"Failed to normalize path: Path is outside '%.*s'",
			(int)prefix_len, db->path);
		return 0;
	}
	pw = hash_lookup(db->files, path);
	if (pw == NULL)
		pw = passwd_file_new(db, path);
	*pw_r = pw;
	return 1;
}

int db_passwd_file_lookup(struct db_passwd_file *db,
			  struct auth_lookup *lookup,
			  const char *username_format,
			  struct passwd_user **user_r)
{
	struct passwd_file *pw;
	const char *username, *error;
	int ret;

	*user_r = NULL;
	if ((ret = db_passwd_file_get(db, lookup, &pw)) <= 0)
		return ret;
	if ((ret = passwd_file_sync(lookup, pw)) <= 0)
		return ret;	/* pw may be freed now */
	if (auth_lookup_var_expand(lookup, username_format, &username,
				   &error) < 0) {
		auth_lookup_log_error(lookup, PASSWD_FILE_DRIVER,
				      "Failed to expand username_format=%s: %s",
				      username_format, error);
		return -1;
	}
	auth_lookup_log_debug(lookup, PASSWD_FILE_DRIVER,
			      "lookup: user=%s file=%s", username, pw->path);
	*user_r = hash_lookup(pw->users, username);
	if (*user_r == NULL) {
		lookup->log_reason = "unknown user";
		return 0;
	}
	return 1;
}

int db_passwd_file_iterate(struct db_passwd_file *db,
			   void (*callback)(const char *user, void *context),
			   void *context)
{
	struct line_reader reader;
	bool skip_passdb_entries = !db->userdb_warn_missing;
	char *line;
	size_t len;
	int fd, ret;

	if (db->default_file == NULL) {
		i_error("passwd-file: User iteration isn't currently "
			"supported with %%variable paths");
		return -1;
	}
	fd = open(db->default_file->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		i_error("%s", errno_error("open", db->default_file->path,
					  errno));
		return -1;
	}
	line_reader_init(&reader, fd);
	while ((ret = line_reader_next(&reader, &line, &len)) > 0) {
		char *colon;

		if (ret == 2 || strlen(line) != len)
			continue;
		if (*line == '\0' || *line == ':' || *line == '#')
			continue;
		colon = strchr(line, ':');
		if (skip_passdb_entries &&
		    (colon == NULL || strchr(colon + 1, ':') == NULL))
			continue;	/* only passdb info */
		if (colon != NULL)
			*colon = '\0';
		callback(line, context);
	}
	if (ret < 0) {
		i_error("%s", errno_error("read", db->default_file->path,
					  errno));
	}
	line_reader_deinit(&reader);
	(void)close(fd);
	return ret < 0 ? -1 : 0;
}

int db_passwd_file_export_fields(const struct passwd_user *pu,
				 struct auth_lookup *lookup,
				 struct auth_fields *dest, const char *prefix)
{
	size_t prefix_len = prefix == NULL ? 0 : strlen(prefix);

	if (pu->extra_fields == NULL)
		return 0;
	for (unsigned int i = 0; pu->extra_fields[i] != NULL; i++) {
		const char *field = pu->extra_fields[i];
		const char *eq, *key, *value, *error;

		if (prefix_len > 0) {
			if (strncmp(field, prefix, prefix_len) != 0)
				continue;
			field += prefix_len;
		}
		eq = strchr(field, '=');
		if (eq == NULL) {
			key = field;
			value = NULL;
		} else {
			key = p_strndup(lookup->pool, field,
					(size_t)(eq - field));
			if (auth_lookup_var_expand(lookup, eq + 1, &value,
						   &error) < 0) {
				auth_lookup_log_error(lookup,
					PASSWD_FILE_DRIVER,
					"Failed to expand extra field %s: %s",
					pu->extra_fields[i], error);
				return -1;
			}
		}
		if (*key != '\0')
			auth_fields_set(dest, key, value);
	}
	return 0;
}

int db_passwd_file_parse_args(pool_t pool, const char *args,
				  const char **scheme, const char **format,
				  const char **path_r, const char **error_r)
{
	while (*args == ' ')
		args++;
	while (*args != '\0' && *args != '/') {
		const char *end = strchr(args, ' '), *eq, *key, *value;
		size_t len = end == NULL ? strlen(args) : (size_t)(end - args);

		eq = memchr(args, '=', len);
		if (eq == NULL) {
			key = p_strndup(pool, args, len);
			value = "";
		} else {
			key = p_strndup(pool, args, (size_t)(eq - args));
			value = p_strndup(pool, eq + 1,
					  len - (size_t)(eq - args) - 1);
		}
		if (strcmp(key, "scheme") == 0 && scheme != NULL)
			*scheme = value;
		else if (strcmp(key, "username_format") == 0)
			*format = value;
		else {
			*error_r = p_strdup_printf(pool,
				"Unknown setting: %s", key);
			return -1;
		}
		args += len;
		while (*args == ' ')
			args++;
	}
	if (*args == '\0') {
		*error_r = "Missing args";
		return -1;
	}
	*path_r = args;
	return 0;
}

/* cmd-metadata.c - METADATA (RFC 5464): GETMETADATA and SETMETADATA with
 * imap_metadata = yes, stored where Dovecot 2.3 keeps them so either
 * server reads the other's: mail_attribute_dict = file:PATH, a file of
 * "key\nvalue\n" pairs (values tab-escaped: \001 -> \0011, \t -> \001t,
 * \r -> \001r, \n -> \001n), keys
 *   priv/<mailbox GUID>/<entry after /private/>
 *   shared/<mailbox GUID>/<entry after /shared/>
 * with entry names lowercased; the server's own entries (mailbox "")
 * live under INBOX's GUID as vendor/vendor.dovecot/pvt/server/<entry>.
 * Writes happen under Dovecot's dict-file lock (PATH.lock, a dot-lock):
 * the file is read again under the lock, changed, and the new content
 * written into the lock file, which is renamed over it, so concurrent
 * writers (sessions, processes, Dovecot) lose no update. Texts and
 * answers are Dovecot's: values always as literals, NIL for entries
 * not set, DEPTH lists the entries below, MAXSIZE leaves long ones out
 * with [METADATA LONGENTRIES n]. */
#include "imap-common.h"
#include "imap-attr-dict.h"
#include "imap-mailbox.h"
#include "imap-quote.h"
#include "file-dotlock.h"
#include "var-expand.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVER_PREFIX "vendor/vendor.dovecot/pvt/server/"
#define PVT_PREFIX "vendor/vendor.dovecot/pvt/"
#define METADATA_FILE_MAX (64 * 1024 * 1024)

void md_dict_free(struct md_dict *dict)
{
	for (size_t i = 0; i < dict->pairs.count; i++) {
		i_free(dict->pairs.v[i].key);
		i_free(dict->pairs.v[i].value);
	}
	array_free(&dict->pairs);
	i_free(dict->path);
}

static void unescape(const char *src, size_t len, string_t *dest)
{
	for (size_t i = 0; i < len; i++) {
		if (src[i] != '\001' || i + 1 == len) {
			str_append_c(dest, src[i]);
			continue;
		}
		switch (src[++i]) {
		case '1': str_append_c(dest, '\001'); break;
		case 't': str_append_c(dest, '\t'); break;
		case 'r': str_append_c(dest, '\r'); break;
		case 'n': str_append_c(dest, '\n'); break;
		default: str_append_c(dest, src[i]); break;
		}
	}
}

static void escape(const char *src, string_t *dest)
{
	for (; *src != '\0'; src++) {
		switch (*src) {
		case '\001': str_append(dest, "\0011"); break;
		case '\t': str_append(dest, "\001t"); break;
		case '\r': str_append(dest, "\001r"); break;
		case '\n': str_append(dest, "\001n"); break;
		default: str_append_c(dest, *src); break;
		}
	}
}

/* ~ and %u %n %d %h of the path */
const char *md_expand(pool_t pool, struct mail_user *user,
			     const char *path)
{
	const char *at = strchr(user->username, '@');
	char *local = at == NULL ? p_strdup(pool, user->username) :
		p_strndup(pool, user->username, (size_t)(at - user->username));
	const struct var_expand_table table[] = {
		{ 'u', user->username, "user" },
		{ 'n', local, "username" },
		{ 'd', at == NULL ? "" : at + 1, "domain" },
		{ 'h', user->home == NULL ? "" : user->home, "home" },
		{ '\0', NULL, NULL },
	};
	string_t *str = str_new(128);
	const char *error, *ret;

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') &&
	    user->home != NULL) {
		str_append(str, user->home);
		path++;
	}
	(void)var_expand(str, path, table, NULL, NULL, &error);
	ret = p_strdup(pool, str_c(str));
	str_free(&str);
	return ret;
}

static pool_t cmd_pool_of(struct imap_client *client)
{
	return client->cmd->pool;
}

/* The dict's file, or NULL with *error_r (the NO text). */
static const char *md_dict_path(struct imap_client *client,
				const char **error_r)
{
	const char *dict = client->set->mail_attribute_dict;

	if (!client->set->imap_metadata || dict == NULL || dict[0] == '\0') {
		*error_r = "[CANNOT] Generic mailbox attributes not enabled";
		return NULL;
	}
	if (strncmp(dict, "file:", 5) != 0) {
		*error_r = "[SERVERUNAVAILABLE] Only file: mail_attribute_dict "
			"is supported";
		return NULL;
	}
	return md_expand(cmd_pool_of(client), client->user, dict + 5);
}

int md_dict_load(struct md_dict *dict, const char *path)
{
	struct stat st;
	char *data;
	ssize_t n;
	size_t pos = 0, size;
	int fd;

	memset(dict, 0, sizeof(*dict));
	dict->path = i_strdup(path);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0 || st.st_size > METADATA_FILE_MAX) {
		close(fd);
		return -1;
	}
	size = (size_t)st.st_size;
	data = i_malloc(size + 1);
	while (pos < size && (n = read(fd, data + pos, size - pos)) > 0)
		pos += (size_t)n;
	close(fd);
	size = pos;
	for (pos = 0; pos < size;) {
		char *key_end = memchr(data + pos, '\n', size - pos);
		char *val, *val_end;
		struct md_pair pair;
		string_t *str;

		if (key_end == NULL)
			break;
		val = key_end + 1;
		val_end = memchr(val, '\n', (size_t)(data + size - val));
		if (val_end == NULL)
			val_end = data + size;
		str = str_new(64);
		unescape(data + pos, (size_t)(key_end - (data + pos)), str);
		pair.key = i_strdup(str_c(str));
		str_truncate(str, 0);
		unescape(val, (size_t)(val_end - val), str);
		pair.value = i_strdup(str_c(str));
		str_free(&str);
		array_push(&dict->pairs, pair);
		pos = (size_t)(val_end - data) + 1;
	}
	i_free(data);
	return 0;
}

int md_dict_lock(const char *path, struct dotlock **dotlock_r)
{
	const struct dotlock_settings lock_set = {
		.timeout = 30, .stale_timeout = 60, .use_excl = true,
	};

	if (file_dotlock_open(&lock_set, path, dotlock_r) < 0) {
		i_error("file_dotlock_open(%s) failed: %m", path);
		return -1;
	}
	return 0;
}

int md_dict_save(struct md_dict *dict, struct dotlock **dotlock)
{
	string_t *str = str_new(1024);
	int fd = file_dotlock_get_fd(*dotlock);
	size_t pos = 0;
	int ret = 0;

	for (size_t i = 0; i < dict->pairs.count; i++) {
		escape(dict->pairs.v[i].key, str);
		str_append_c(str, '\n');
		escape(dict->pairs.v[i].value, str);
		str_append_c(str, '\n');
	}
	while (ret == 0 && pos < str_len(str)) {
		ssize_t n = write(fd, str_c(str) + pos, str_len(str) - pos);

		if (n <= 0)
			ret = -1;
		else
			pos += (size_t)n;
	}
	if (ret < 0) {
		i_error("METADATA: write(%s) failed: %m",
			file_dotlock_get_lock_path(*dotlock));
		(void)file_dotlock_delete(dotlock);
	} else if (file_dotlock_replace(dotlock) < 0) {
		i_error("METADATA: rename() over %s failed: %m", dict->path);
		ret = -1;
	}
	str_free(&str);
	return ret;
}

struct md_pair *md_dict_find(struct md_dict *dict, const char *key)
{
	for (size_t i = 0; i < dict->pairs.count; i++) {
		if (strcmp(dict->pairs.v[i].key, key) == 0)
			return &dict->pairs.v[i];
	}
	return NULL;
}

void md_dict_set(struct md_dict *dict, const char *key,
			const char *value)
{
	struct md_pair *pair = md_dict_find(dict, key), new_pair;

	if (pair != NULL) {
		i_free(pair->value);
		if (value != NULL) {
			pair->value = i_strdup(value);
			return;
		}
		/* delete */
		i_free(pair->key);
		*pair = dict->pairs.v[--dict->pairs.count];
		return;
	}
	if (value == NULL)
		return;
	new_pair.key = i_strdup(key);
	new_pair.value = i_strdup(value);
	array_push(&dict->pairs, new_pair);
}

/* ---- entries ---- */

/* Check an entry name; NULL or the BAD text. */
static const char *entry_check(const char *entry)
{
	if (strncasecmp(entry, "/private", 8) != 0 &&
	    strncasecmp(entry, "/shared", 7) != 0)
		return "Entry name must begin with /private or /shared";
	if ((strncasecmp(entry, "/private", 8) == 0 &&
	     entry[8] != '\0' && entry[8] != '/') ||
	    (strncasecmp(entry, "/shared", 7) == 0 &&
	     entry[7] != '\0' && entry[7] != '/'))
		return "Entry name must begin with /private or /shared";
	if (entry[strlen(entry) - 1] == '/')
		return "Entry name can't end with '/'";
	if (strchr(entry, '*') != NULL)
		return "Entry name can't contain '*'";
	if (strchr(entry, '%') != NULL)
		return "Entry name can't contain '%'";
	if (strstr(entry, "//") != NULL)
		return "Entry name can't contain consecutive '/' characters";
	for (const char *p = entry; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "Entry name can't contain control characters";
	}
	return NULL;
}

/* "/private/Foo/bar" -> "priv/<guid>/foo/bar" (server: under INBOX's
 * GUID with SERVER_PREFIX); rest "" for "/private" itself. */
static const char *entry_key(pool_t pool, const char *guid, bool server,
			     const char *entry)
{
	bool priv = strncasecmp(entry, "/private", 8) == 0;
	const char *rest = entry + (priv ? 8 : 7);
	char *lower;

	if (*rest == '/')
		rest++;
	lower = p_strdup(pool, rest);
	for (char *p = lower; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return p_strdup_printf(pool, "%s/%s/%s%s", priv ? "priv" : "shared",
			       guid, server ? SERVER_PREFIX : "", lower);
}

/* The mailbox's GUID (INBOX's for the server, vname ""). NULL after the
 * NO reply. */
static const char *metadata_guid(struct client_command_context *cmd,
				 const char *vname)
{
	struct imap_client *client = cmd->client;
	struct mailbox_status status;
	struct mailbox *box;
	const char *guid = NULL;

	if (vname[0] == '\0')
		vname = "INBOX";
	box = mailbox_alloc(client->user, vname, MAILBOX_FLAG_READONLY);
	if (mailbox_open(box) < 0 ||
	    mailbox_get_status(box, STATUS_GUID, &status) < 0) {
		/* Dovecot's text without a response code */
		cmd_no(cmd, mailbox_get_last_error(box, NULL));
	}
	else if (status.guid[0] == '\0')
		cmd_no(cmd, "[CANNOT] Mailbox has no GUID");
	else
		guid = p_strdup(cmd->pool, status.guid);
	mailbox_free(&box);
	return guid;
}

static const char *metadata_vname(struct client_command_context *cmd,
				  const char *name)
{
	if (name[0] == '\0')
		return "";
	return imap_cmd_mailbox_vname(cmd, name);
}

bool cmd_setmetadata(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *list;
	const char *name, *vname, *guid, *path, *error;
	struct dotlock *dotlock;
	struct md_dict dict;
	bool server;

	if (!imap_arg_get_astring(&cmd->args[0], &name) ||
	    !imap_arg_get_list(&cmd->args[1], &list) ||
	    !imap_arg_is_eol(&cmd->args[2]))
		return cmd_bad_error(cmd, "Invalid arguments");
	for (const struct imap_arg *a = list; !imap_arg_is_eol(a); a += 2) {
		const char *entry, *value;

		if (!imap_arg_get_astring(&a[0], &entry))
			return cmd_bad_error(cmd, "Invalid arguments");
		if (imap_arg_is_eol(&a[1]) ||
		    !imap_arg_get_nstring(&a[1], &value))
			return cmd_bad_error(cmd, "Entry value missing");
		if ((error = entry_check(entry)) != NULL)
			return cmd_bad_error(cmd, error);
	}
	if ((path = md_dict_path(client, &error)) == NULL)
		return cmd_no(cmd, error);
	if (imap_arg_is_eol(list))
		return cmd_ok(cmd, "Setmetadata completed");
	if ((vname = metadata_vname(cmd, name)) == NULL)
		return true;
	server = vname[0] == '\0';
	if ((guid = metadata_guid(cmd, vname)) == NULL)
		return true;
	/* read, change and write the dict under its lock */
	if (md_dict_lock(path, &dotlock) < 0)
		return cmd_no(cmd, "[SERVERBUG] Internal error occurred.");
	if (md_dict_load(&dict, path) < 0) {
		md_dict_free(&dict);
		i_error("METADATA: reading %s failed: %m", path);
		(void)file_dotlock_delete(&dotlock);
		return cmd_no(cmd, "[SERVERBUG] Internal error occurred.");
	}
	for (const struct imap_arg *a = list; !imap_arg_is_eol(a); a += 2) {
		const char *entry, *value, *key, *rest;

		(void)imap_arg_get_astring(&a[0], &entry);
		(void)imap_arg_get_nstring(&a[1], &value);
		key = entry_key(cmd->pool, guid, server, entry);
		rest = strchr(strchr(key, '/') + 1, '/') + 1;
		if (server && strncmp(key, "shared/", 7) == 0 &&
		    (strcmp(rest, SERVER_PREFIX "comment") == 0 ||
		     strcmp(rest, SERVER_PREFIX "admin") == 0)) {
			char *text = i_strdup_printf("[CANNOT] The /shared/%s "
				"attribute cannot be changed", rest);

			cmd_no(cmd, text);
			i_free(text);
			md_dict_free(&dict);
			(void)file_dotlock_delete(&dotlock);
			return true;
		}
		if (!server && strncmp(rest, PVT_PREFIX, strlen(PVT_PREFIX)) == 0) {
			cmd_no(cmd, "[CANNOT] Internal attributes cannot be changed");
			md_dict_free(&dict);
			(void)file_dotlock_delete(&dotlock);
			return true;
		}
		md_dict_set(&dict, key, value);
	}
	if (md_dict_save(&dict, &dotlock) < 0) {
		md_dict_free(&dict);
		return cmd_no(cmd, "[SERVERBUG] Internal error occurred.");
	}
	md_dict_free(&dict);
	return cmd_ok(cmd, "Setmetadata completed");
}

static int pair_key_cmp(const void *p1, const void *p2)
{
	const struct md_pair *a = p1, *b = p2;

	return strcmp(a->key, b->key);
}

struct getmd_ctx {
	struct md_dict dict;
	string_t *out;
	unsigned int count;
	uint64_t maxsize, longest;
	bool have_maxsize;
	int depth;	/* 0, 1, -1 infinity */
};

static void getmd_add(struct getmd_ctx *ctx, const char *entry,
		      const char *value)
{
	if (value != NULL && ctx->have_maxsize &&
	    strlen(value) > ctx->maxsize) {
		if (strlen(value) > ctx->longest)
			ctx->longest = strlen(value);
		return;
	}
	str_append_c(ctx->out, ctx->count++ == 0 ? '(' : ' ');
	str_append(ctx->out, entry);
	if (value == NULL)
		str_append(ctx->out, " NIL");
	else
		str_printfa(ctx->out, " {%zu}\r\n%s", strlen(value), value);
}

/* One requested entry: its value, and with DEPTH the ones below. */
static void getmd_entry(pool_t pool, struct getmd_ctx *ctx, const char *guid,
			bool server, const char *entry)
{
	const char *key = entry_key(pool, guid, server, entry);
	struct md_pair *pair = md_dict_find(&ctx->dict, key);
	bool priv = strncmp(key, "priv/", 5) == 0;
	size_t key_len = strlen(key);
	size_t base_len = strlen(priv ? "priv/" : "shared/") + strlen(guid) + 1 +
		(server ? strlen(SERVER_PREFIX) : 0);

	if (ctx->depth == 0 || pair != NULL) {
		/* the entry's own name as the response spells it */
		const char *name = p_strdup_printf(pool, "/%s%s%s",
			priv ? "private" : "shared",
			key_len > base_len ? "/" : "", key + base_len);

		getmd_add(ctx, name, pair == NULL ? NULL : pair->value);
	}
	if (ctx->depth == 0)
		return;
	for (size_t i = 0; i < ctx->dict.pairs.count; i++) {
		const char *k = ctx->dict.pairs.v[i].key;
		const char *below;

		if (strncmp(k, key, key_len) != 0)
			continue;
		below = k + key_len;
		if (key_len > base_len) {
			if (*below != '/')
				continue;
			below++;
		} else if (key_len < base_len) {
			continue;
		}
		if (*below == '\0')
			continue;
		if (!server && strncmp(k + base_len, PVT_PREFIX,
				       strlen(PVT_PREFIX)) == 0)
			continue;
		if (ctx->depth == 1 && strchr(below, '/') != NULL)
			continue;
		getmd_add(ctx, p_strdup_printf(pool, "/%s/%s",
					       priv ? "private" : "shared",
					       k + base_len),
			  ctx->dict.pairs.v[i].value);
	}
}

bool cmd_getmetadata(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *args = cmd->args, *entries;
	const char *name, *vname, *guid, *path, *error, *entry;
	struct getmd_ctx ctx;
	bool server, single = false;

	memset(&ctx, 0, sizeof(ctx));
	if (args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *opt = args[0].list;

		for (; !imap_arg_is_eol(opt); opt += 2) {
			const char *oname, *value;
			char *end;

			if (!imap_arg_get_atom(&opt[0], &oname) ||
			    imap_arg_is_eol(&opt[1]) ||
			    !imap_arg_get_atom(&opt[1], &value))
				return cmd_bad_error(cmd, "Invalid arguments");
			if (strcasecmp(oname, "MAXSIZE") == 0) {
				ctx.maxsize = strtoull(value, &end, 10);
				if (*end != '\0' || value[0] < '0' ||
				    value[0] > '9')
					return cmd_bad_error(cmd, "Invalid value for MAXSIZE option");
				ctx.have_maxsize = true;
			} else if (strcasecmp(oname, "DEPTH") == 0) {
				if (strcmp(value, "0") == 0)
					ctx.depth = 0;
				else if (strcmp(value, "1") == 0)
					ctx.depth = 1;
				else if (strcasecmp(value, "infinity") == 0)
					ctx.depth = -1;
				else
					return cmd_bad_error(cmd, "Invalid value for DEPTH option");
			} else {
				return cmd_bad_error(cmd, "Unknown option");
			}
		}
		args++;
	}
	if (!imap_arg_get_astring(&args[0], &name) ||
	    imap_arg_is_eol(&args[1]) || !imap_arg_is_eol(&args[2]))
		return cmd_bad_error(cmd, "Invalid arguments");
	if (args[1].type == IMAP_ARG_LIST) {
		entries = args[1].list;
	} else {
		if (!imap_arg_get_astring(&args[1], &entry))
			return cmd_bad_error(cmd, "Invalid arguments");
		entries = &args[1];
		single = true;
	}
	for (const struct imap_arg *a = entries; !imap_arg_is_eol(a); a++) {
		if (!imap_arg_get_astring(a, &entry))
			return cmd_bad_error(cmd, "Invalid arguments");
		if ((error = entry_check(entry)) != NULL)
			return cmd_bad_error(cmd, error);
		if (single)
			break;
	}
	if ((path = md_dict_path(client, &error)) == NULL)
		return cmd_no(cmd, error);
	if ((vname = metadata_vname(cmd, name)) == NULL)
		return true;
	server = vname[0] == '\0';
	if ((guid = metadata_guid(cmd, vname)) == NULL)
		return true;
	if (md_dict_load(&ctx.dict, path) < 0) {
		md_dict_free(&ctx.dict);
		i_error("METADATA: reading %s failed: %m", path);
		return cmd_no(cmd, "[SERVERBUG] Internal error occurred.");
	}
	if (ctx.dict.pairs.count > 1)
		qsort(ctx.dict.pairs.v, ctx.dict.pairs.count,
		      sizeof(struct md_pair), pair_key_cmp);
	ctx.out = str_new(256);
	for (const struct imap_arg *a = entries; !imap_arg_is_eol(a); a++) {
		(void)imap_arg_get_astring(a, &entry);
		getmd_entry(cmd->pool, &ctx, guid, server, entry);
		if (single)
			break;
	}
	if (ctx.count > 0) {
		string_t *line = str_new(str_len(ctx.out) + 64);

		str_append(line, "* METADATA ");
		if (server)
			str_append(line, "\"\"");
		else
			imap_client_append_mailbox_name(client, line, vname,
							false);
		str_append_c(line, ' ');
		str_append_n(line, str_c(ctx.out), str_len(ctx.out));
		str_append_c(line, ')');
		client_send_line(client, str_c(line));
		str_free(&line);
	}
	str_free(&ctx.out);
	md_dict_free(&ctx.dict);
	if (ctx.longest > 0) {
		char *text = i_strdup_printf("[METADATA LONGENTRIES %llu] "
					     "Getmetadata completed",
					     (unsigned long long)ctx.longest);

		cmd_ok(cmd, text);
		i_free(text);
		return true;
	}
	return cmd_ok(cmd, "Getmetadata completed");
}

/* quota.c - the quota plugin: settings, usage (count and maildir
 * backends), the checks the storage core makes at every save and copy,
 * usage updates at commit, quota_warning scripts. See quota.h. */
#include "quota.h"
#include "quota-private.h"
#include "mail-plugins.h"
#include "mail-storage-private.h"
#include "file-dotlock.h"
#include "settings-structs.h"
#include "var-expand.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define QUOTA_DEFAULT_EXCEEDED_MSG "Quota exceeded (mailbox for user is full)"
/* Dovecot rewrites maildirsize past this size */
#define MAILDIRSIZE_MAX_SIZE 5120

enum quota_backend {
	QUOTA_BACKEND_COUNT,
	QUOTA_BACKEND_MAILDIR,
};

/* One limit of a rule: absolute, relative to the default (+/-), or a
 * percentage of the default (with or without +/-). */
struct quota_limit {
	bool set;
	bool relative;	/* +N / -N / +N% / -N% */
	bool percent;
	int64_t value;	/* bytes or messages; percent: the number */
};

struct quota_rule {
	char *pattern;	/* "*" for the default */
	bool ignore;
	struct quota_limit bytes, count;
};

struct quota_warning {
	bool reverse;	/* "-storage=..." : when usage drops below */
	struct quota_limit bytes, count;
	char *command;
};

struct quota_root {
	char *name;
	enum quota_backend backend;
	bool noenforcing;
	/* "hidden": not in GETQUOTAROOT (GETQUOTA and doveadm still see it) */
	bool hidden;
	/* "ignoreunlimited": dropped when it has no limits */
	bool ignoreunlimited;
	/* "ns=PREFIX": only the mailboxes of that namespace (NULL: all) */
	char *ns_prefix;
	struct mail_user *user;
	struct quota_rule def;	/* the "*" rule */
	ARRAY(struct quota_rule) rules;
	struct quota_limit grace;	/* bytes or % of the bytes limit */
	ARRAY(struct quota_warning) warnings;
	/* maildir backend: the maildirsize path ("" = none) */
	char *maildirsize_path;
};

struct quota {
	struct mail_user *user;
	ARRAY(struct quota_root *) roots;
	char *exceeded_msg;
	bool vsizes;
	/* counting usage now: mailboxes opened for it skip quota hooks */
	bool counting;
	/* the trash plugin: its config file (priority + mailbox lines) */
	char *trash_path;
	/* quota_max_mail_size, 0 = none */
	uint64_t max_mail_size;
	/* the quota_clone plugin: the file of quota_clone_dict = file:PATH */
	char *clone_path;
};

/* printf into one of a few rotating static buffers: error texts handed
 * up through error_r (callers copy them before the next quota call). */
static const char *tmp_printf(const char *fmt, ...) ATTR_FORMAT(1, 2);
static const char *tmp_printf(const char *fmt, ...)
{
	static char bufs[4][512];
	static unsigned int next;
	char *buf = bufs[next++ % N_ELEMENTS(bufs)];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(bufs[0]), fmt, args);
	va_end(args);
	return buf;
}

/* ---- settings ---- */

/* A plugin setting for the user: userdb fields first, then plugin { },
 * with %variables expanded. NULL if unset or empty. */

/* "10M", "+10%", "-5" -> limit. bytes: a number without unit is in
 * kilobytes (storage=) unless unit_bytes (bytes=). */
static int limit_parse(const char *str, bool is_bytes, bool unit_bytes,
		       struct quota_limit *limit_r, const char **error_r)
{
	struct quota_limit l = { .set = true };
	uint64_t num = 0, mult = unit_bytes ? 1 : 1024;
	bool neg = false;
	const char *p = str;

	if (*p == '+' || *p == '-') {
		l.relative = true;
		neg = *p == '-';
		p++;
	}
	if (!isdigit((unsigned char)*p)) {
		*error_r = "Invalid limit";
		return -1;
	}
	while (isdigit((unsigned char)*p)) {
		if (num > (UINT64_MAX - 9) / 10) {
			*error_r = "Limit too large";
			return -1;
		}
		num = num * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p == '%') {
		l.percent = true;
		p++;
		mult = 1;
	} else if (is_bytes && *p != '\0' && *p != ' ') {
		switch (*p) {
		case 'b': case 'B': mult = 1; break;
		case 'k': case 'K': mult = 1024ULL; break;
		case 'm': case 'M': mult = 1024ULL * 1024; break;
		case 'g': case 'G': mult = 1024ULL * 1024 * 1024; break;
		case 't': case 'T': mult = 1024ULL * 1024 * 1024 * 1024; break;
		default:
			*error_r = tmp_printf("Unknown unit: %c", *p);
			return -1;
		}
		p++;
	} else if (!is_bytes) {
		mult = 1;
	}
	if (*p != '\0' && *p != ' ') {
		*error_r = "Invalid limit";
		return -1;
	}
	if (num > INT64_MAX / mult) {
		*error_r = "Limit too large";
		return -1;
	}
	l.value = (int64_t)(num * mult);
	if (neg)
		l.value = -l.value;
	*limit_r = l;
	return 0;
}

/* "storage=1G:messages=100" (the part after the mailbox). */
static int limits_parse(const char *str, struct quota_limit *bytes_r,
			struct quota_limit *count_r, bool allow_ignore,
			bool *ignore_r, const char **error_r)
{
	char *copy = i_strdup(str), *save = NULL;
	int ret = 0;

	for (char *tok = strtok_r(copy, ":", &save); tok != NULL && ret == 0;
	     tok = strtok_r(NULL, ":", &save)) {
		const char *error;

		if (allow_ignore && strcmp(tok, "ignore") == 0) {
			*ignore_r = true;
		} else if (strncmp(tok, "storage=", 8) == 0) {
			if (limit_parse(tok + 8, true, false, bytes_r,
					&error) < 0) {
				*error_r = tmp_printf(
					"Invalid rule limit value '%s': %s",
					tok, error);
				ret = -1;
			}
		} else if (strncmp(tok, "bytes=", 6) == 0) {
			if (limit_parse(tok + 6, true, true, bytes_r,
					&error) < 0) {
				*error_r = tmp_printf(
					"Invalid rule limit value '%s': %s",
					tok, error);
				ret = -1;
			}
		} else if (strncmp(tok, "messages=", 9) == 0) {
			if (limit_parse(tok + 9, false, false, count_r,
					&error) < 0) {
				*error_r = tmp_printf(
					"Invalid rule limit value '%s': %s",
					tok, error);
				ret = -1;
			}
		} else if (strncmp(tok, "backend=", 8) == 0) {
			/* passed to the backend; none of ours uses it */
		} else {
			*error_r = tmp_printf(
				"Unknown rule limit name: %s", tok);
			ret = -1;
		}
	}
	i_free(copy);
	return ret;
}

static int rule_add(struct quota_root *root, const char *str,
		    const char **error_r)
{
	const char *colon = strchr(str, ':');
	struct quota_rule rule;
	const char *error;

	memset(&rule, 0, sizeof(rule));
	if (colon == NULL) {
		*error_r = tmp_printf("Invalid rule %s: "
						  "Missing ':'", str);
		return -1;
	}
	if (limits_parse(colon + 1, &rule.bytes, &rule.count, true,
			 &rule.ignore, &error) < 0) {
		*error_r = tmp_printf("Invalid rule %s: %s",
						  str, error);
		return -1;
	}
	if (colon - str == 1 && str[0] == '*') {
		if ((rule.bytes.set && (rule.bytes.relative ||
					rule.bytes.percent)) ||
		    (rule.count.set && (rule.count.relative ||
					rule.count.percent))) {
			*error_r = tmp_printf("Invalid rule %s: "
				"Default rule can't be relative", str);
			return -1;
		}
		if (rule.ignore) {
			/* "*:ignore": nothing is limited */
			memset(&root->def.bytes, 0, sizeof(root->def.bytes));
			memset(&root->def.count, 0, sizeof(root->def.count));
		}
		if (rule.bytes.set)
			root->def.bytes = rule.bytes;
		if (rule.count.set)
			root->def.count = rule.count;
		return 0;
	}
	rule.pattern = i_strndup(str, (size_t)(colon - str));
	array_push(&root->rules, rule);
	return 0;
}

static int warning_add(struct quota_root *root, const char *str,
		       const char **error_r)
{
	struct quota_warning w;
	const char *space = strchr(str, ' ');
	const char *error;
	char *limits;
	bool ignore = false;

	memset(&w, 0, sizeof(w));
	if (space == NULL) {
		*error_r = tmp_printf("Invalid warning rule: %s",
						  str);
		return -1;
	}
	if (str[0] == '-') {
		w.reverse = true;
		str++;
	}
	limits = i_strndup(str, (size_t)(space - str));
	if (limits_parse(limits, &w.bytes, &w.count, false, &ignore,
			 &error) < 0) {
		*error_r = tmp_printf("Invalid warning rule: %s",
						  error);
		i_free(limits);
		return -1;
	}
	i_free(limits);
	while (*space == ' ')
		space++;
	w.command = i_strdup(space);
	array_push(&root->warnings, w);
	return 0;
}

static struct mail_namespace *ns_by_prefix(struct mail_user *user,
					   const char *prefix)
{
	for (struct mail_namespace *ns = user->namespaces; ns != NULL;
	     ns = ns->next) {
		if (strcmp(ns->prefix, prefix) == 0)
			return ns;
	}
	return NULL;
}

/* The Maildir root of namespace ns, NULL if it isn't a Maildir. */
static const char *maildir_ns_root_path(struct mail_namespace *ns)
{
	if (ns == NULL || ns->mlist == NULL ||
	    strcmp(ns->driver, "maildir") != 0 || ns->mlist->root[0] == '\0')
		return NULL;
	return ns->mlist->root;
}

/* The Maildir root of the user's INBOX namespace (maildirsize lives
 * there), NULL if it isn't a Maildir. */
static const char *maildir_root_path(struct mail_user *user)
{
	struct mail_namespace *ns = mail_namespace_find_inbox(user);

	if (ns == NULL || ns->mlist == NULL ||
	    strcmp(ns->driver, "maildir") != 0 || ns->mlist->root[0] == '\0')
		return NULL;
	return ns->mlist->root;
}

static void root_free(struct quota_root *root)
{
	for (size_t i = 0; i < root->rules.count; i++)
		i_free(root->rules.v[i].pattern);
	array_free(&root->rules);
	for (size_t i = 0; i < root->warnings.count; i++)
		i_free(root->warnings.v[i].command);
	array_free(&root->warnings);
	i_free(root->name);
	i_free(root->ns_prefix);
	i_free(root->maildirsize_path);
	i_free(root);
}

static void root_get_limits(const struct quota_root *root, const char *vname,
			    uint64_t *bytes_r, uint64_t *count_r,
			    bool *ignored_r);

static int root_init(struct quota *quota, const struct mail_user_info *info,
		     const char *prefix, const char *value,
		     const char **error_r)
{
	struct mail_user *user = quota->user;
	struct quota_root *root = i_new(struct quota_root, 1);
	const char *p = strchr(value, ':'), *error;
	char *backend = p == NULL ? i_strdup(value) :
		i_strndup(value, (size_t)(p - value));
	char key[64];

	array_push(&quota->roots, root);
	/* "maildir:User quota:noenforcing" */
	if (strcmp(backend, "count") == 0) {
		root->backend = QUOTA_BACKEND_COUNT;
	} else if (strcmp(backend, "maildir") == 0) {
		root->backend = QUOTA_BACKEND_MAILDIR;
	} else {
		*error_r = tmp_printf("Unknown quota backend: %s",
						  backend);
		i_free(backend);
		return -1;
	}
	i_free(backend);
	if (p == NULL) {
		root->name = i_strdup("");
	} else {
		const char *q = strchr(p + 1, ':');

		root->name = q == NULL ? i_strdup(p + 1) :
			i_strndup(p + 1, (size_t)(q - p - 1));
		while (q != NULL) {
			const char *next = strchr(q + 1, ':');
			size_t len = next == NULL ? strlen(q + 1) :
				(size_t)(next - q - 1);
			char *param = i_strndup(q + 1, len);

			if (strcmp(param, "noenforcing") == 0)
				root->noenforcing = true;
			else if (strcmp(param, "hidden") == 0)
				root->hidden = true;
			else if (strcmp(param, "ignoreunlimited") == 0)
				root->ignoreunlimited = true;
			else if (strncmp(param, "ns=", 3) == 0) {
				i_free(root->ns_prefix);
				root->ns_prefix = i_strdup(param + 3);
			} else {
				*error_r = tmp_printf("Quota root %s: %s quota "
					"init failed: Unknown parameter for "
					"backend %s: %s", root->name,
					root->backend == QUOTA_BACKEND_COUNT ?
					"count" : "maildir",
					root->backend == QUOTA_BACKEND_COUNT ?
					"count" : "maildir", param);
				i_free(param);
				return -1;
			}
			i_free(param);
			q = next;
		}
	}
	root->user = user;
	if (root->backend == QUOTA_BACKEND_COUNT && !quota->vsizes) {
		*error_r = tmp_printf("Quota root %s: count quota "
			"init failed: quota count backend requires "
			"quota_vsizes=yes", root->name);
		return -1;
	}
	if (root->ns_prefix != NULL && ns_by_prefix(user, root->ns_prefix) == NULL)
		i_error("quota: Unknown namespace: %s", root->ns_prefix);
	if (root->backend == QUOTA_BACKEND_MAILDIR) {
		const char *dir = root->ns_prefix == NULL ?
			maildir_root_path(user) :
			maildir_ns_root_path(ns_by_prefix(user, root->ns_prefix));

		root->maildirsize_path = dir == NULL ? i_strdup("") :
			i_strdup_printf("%s/maildirsize", dir);
	}
	for (unsigned int i = 1;; i++) {
		const char *rule;

		if (i == 1)
			snprintf(key, sizeof(key), "%s_rule", prefix);
		else
			snprintf(key, sizeof(key), "%s_rule%u", prefix, i);
		rule = mail_user_plugin_setting(user, info, key, user->pool);
		if (rule == NULL)
			break;
		if (rule_add(root, rule, &error) < 0) {
			*error_r = tmp_printf(
				"Invalid quota root %s: %s", prefix, error);
			return -1;
		}
	}
	snprintf(key, sizeof(key), "%s_grace", prefix);
	{
		const char *grace = mail_user_plugin_setting(user, info, key, user->pool);

		if (grace == NULL)
			grace = "10%";
		if (limit_parse(grace, true, true, &root->grace, &error) < 0 ||
		    root->grace.relative) {
			*error_r = tmp_printf(
				"Invalid %s value '%s'", key, grace);
			return -1;
		}
	}
	for (unsigned int i = 1;; i++) {
		const char *w;

		if (i == 1)
			snprintf(key, sizeof(key), "%s_warning", prefix);
		else
			snprintf(key, sizeof(key), "%s_warning%u", prefix, i);
		w = mail_user_plugin_setting(user, info, key, user->pool);
		if (w == NULL)
			break;
		if (warning_add(root, w, &error) < 0) {
			*error_r = tmp_printf(
				"Invalid quota root %s: %s", prefix, error);
			return -1;
		}
	}
	if (root->ignoreunlimited) {
		uint64_t bytes, count;
		bool ignored;

		root_get_limits(root, NULL, &bytes, &count, &ignored);
		if (bytes == 0 && count == 0) {
			/* unlimited: as if the root weren't configured */
			quota->roots.count--;
			root_free(root);
		}
	}
	return 0;
}

void quota_user_deinit(struct mail_user *user)
{
	struct quota *quota = user->quota;

	if (quota == NULL)
		return;
	user->quota = NULL;
	for (size_t i = 0; i < quota->roots.count; i++)
		root_free(quota->roots.v[i]);
	array_free(&quota->roots);
	i_free(quota->exceeded_msg);
	i_free(quota->trash_path);
	i_free(quota->clone_path);
	i_free(quota);
}

int quota_user_init(struct mail_user *user, const struct mail_user_info *info,
		    const char **error_r)
{
	struct quota *quota;
	const char *value, *error;
	char prefix[16];

	if (!mail_plugins_has(user->set->mail_plugins, "quota"))
		return 0;
	quota = i_new(struct quota, 1);
	quota->user = user;
	user->quota = quota;
	value = mail_user_plugin_setting(user, info, "quota_vsizes", user->pool);
	quota->vsizes = value != NULL && (strcmp(value, "yes") == 0 ||
					  strcmp(value, "y") == 0);
	value = mail_user_plugin_setting(user, info, "quota_exceeded_message", user->pool);
	quota->exceeded_msg = i_strdup(value != NULL ? value :
				       QUOTA_DEFAULT_EXCEEDED_MSG);
	value = mail_user_plugin_setting(user, info, "quota_max_mail_size", user->pool);
	if (value != NULL) {
		struct quota_limit l;

		if (limit_parse(value, true, true, &l, &error) < 0 ||
		    l.relative || l.percent) {
			*error_r = p_strdup_printf(user->pool,
				"quota_max_mail_size: Invalid value '%s'",
				value);
			quota_user_deinit(user);
			return -1;
		}
		quota->max_mail_size = (uint64_t)l.value;
	}
	if (mail_plugins_has(user->set->mail_plugins, "trash")) {
		value = mail_user_plugin_setting(user, info, "trash", user->pool);
		if (value == NULL) {
			/* Dovecot: the plugin does nothing without it */
			i_error("trash: trash setting is missing");
		} else {
			quota->trash_path = i_strdup(value);
		}
	}
	if (mail_plugins_has(user->set->mail_plugins, "quota_clone")) {
		value = mail_user_plugin_setting(user, info, "quota_clone_dict",
						 user->pool);
		if (value == NULL) {
			/* Dovecot: nothing to do (said at debug level) */
		} else if (strncmp(value, "file:", 5) == 0) {
			quota->clone_path = i_strdup(value + 5);
		} else {
			i_error("quota_clone_dict: Roost supports only the "
				"file: dict driver, not %s", value);
		}
	}
	for (unsigned int i = 1;; i++) {
		if (i == 1)
			snprintf(prefix, sizeof(prefix), "quota");
		else
			snprintf(prefix, sizeof(prefix), "quota%u", i);
		value = mail_user_plugin_setting(user, info, prefix, user->pool);
		if (value == NULL)
			break;
		if (root_init(quota, info, prefix, value, &error) < 0) {
			*error_r = p_strdup_printf(user->pool,
				"Failed to initialize quota: %s", error);
			quota_user_deinit(user);
			return -1;
		}
	}
	return 0;
}

/* ---- limits ---- */

static uint64_t limit_apply(const struct quota_limit *def,
			    const struct quota_limit *rule)
{
	int64_t base = def->set ? def->value : 0, v;

	if (!rule->set)
		return (uint64_t)base;
	if (rule->percent) {
		v = base / 100 * rule->value + base % 100 * rule->value / 100;
		if (rule->relative)
			v += base;
	} else if (rule->relative) {
		v = base + rule->value;
	} else {
		v = rule->value;
	}
	return v < 0 ? 0 : (uint64_t)v;
}

static bool rule_matches(const struct quota_rule *rule, const char *vname)
{
	return fnmatch(rule->pattern, vname, 0) == 0 ||
		(strcasecmp(rule->pattern, "INBOX") == 0 &&
		 strcmp(vname, "INBOX") == 0);
}

/* Does root count mailbox vname: every mailbox, or those of its ns=? */
static bool root_in_ns(const struct quota_root *root, const char *vname)
{
	const struct mail_namespace *ns;

	if (root->ns_prefix == NULL)
		return true;
	ns = mail_namespace_find(root->user, vname);
	return ns != NULL && strcmp(ns->prefix, root->ns_prefix) == 0;
}

/* The limits for vname (NULL: the default rule); 0 = unlimited. */
static void root_get_limits(const struct quota_root *root, const char *vname,
			    uint64_t *bytes_r, uint64_t *count_r,
			    bool *ignored_r)
{
	*bytes_r = limit_apply(&root->def.bytes, &root->def.bytes);
	*count_r = limit_apply(&root->def.count, &root->def.count);
	*ignored_r = false;
	if (vname == NULL)
		return;
	if (!root_in_ns(root, vname)) {
		*ignored_r = true;
		return;
	}
	for (size_t i = 0; i < root->rules.count; i++) {
		const struct quota_rule *rule = &root->rules.v[i];

		if (!rule_matches(rule, vname))
			continue;
		if (rule->ignore) {
			*ignored_r = true;
			return;
		}
		/* a mailbox rule only changes a limit the default has */
		if (*bytes_r > 0 || !rule->bytes.relative)
			*bytes_r = limit_apply(&root->def.bytes, &rule->bytes);
		if (*count_r > 0 || !rule->count.relative)
			*count_r = limit_apply(&root->def.count, &rule->count);
		return;
	}
}

static uint64_t root_grace_bytes(const struct quota_root *root)
{
	uint64_t limit, count;
	bool ignored;

	if (!root->grace.percent)
		return (uint64_t)root->grace.value;
	root_get_limits(root, NULL, &limit, &count, &ignored);
	return limit / 100 * (uint64_t)root->grace.value +
		limit % 100 * (uint64_t)root->grace.value / 100;
}

static bool root_ignores(const struct quota_root *root, const char *vname)
{
	uint64_t b, c;
	bool ignored;

	root_get_limits(root, vname, &b, &c, &ignored);
	return ignored;
}

/* ---- usage ---- */

/* Count every mailbox of the user's private namespaces that root
 * doesn't ignore: physical (maildir backend) or virtual sizes. */
static int count_usage(struct quota *quota, const struct quota_root *root,
		       bool vsizes, uint64_t *bytes_r, uint64_t *count_r,
		       const char **error_r)
{
	struct mail_user *user = quota->user;
	const char *patterns[] = { "*", NULL };
	struct mailbox_list_iter *iter;
	const struct mailbox_info *info;
	uint64_t bytes = 0, count = 0;
	bool was_counting = quota->counting;
	int ret = 0;

	quota->counting = true;
	iter = mailbox_list_iter_init(user, patterns,
				      MAILBOX_LIST_ITER_SHOW_HIDDEN);
	while ((info = mailbox_list_iter_next(iter)) != NULL) {
		struct mailbox *box;
		struct mail *mail;

		if ((info->flags & (MAILBOX_NOSELECT |
				    MAILBOX_NONEXISTENT)) != 0 ||
		    info->ns->type != MAIL_NAMESPACE_PRIVATE ||
		    root_ignores(root, info->vname))
			continue;
		box = mailbox_alloc(user, info->vname, MAILBOX_FLAG_READONLY);
		if (mailbox_open(box) < 0) {
			enum mail_error err;
			const char *text = mailbox_get_last_error(box, &err);

			if (err != MAIL_ERROR_NOTFOUND) {
				*error_r = tmp_printf(
					"Couldn't open mailbox %s: %s",
					info->vname, text);
				ret = -1;
			}
			mailbox_free(&box);
			continue;
		}
		mail = mail_alloc(box);
		for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
			uint64_t size;

			mail_set_seq(mail, seq);
			if ((vsizes ? mail_get_virtual_size(mail, &size) :
			     mail_get_physical_size(mail, &size)) < 0)
				continue;	/* vanished meanwhile */
			bytes += size;
			count++;
		}
		mail_free(&mail);
		mailbox_free(&box);
	}
	if (mailbox_list_iter_deinit(&iter) < 0 && ret == 0) {
		*error_r = "Listing mailboxes failed";
		ret = -1;
	}
	quota->counting = was_counting;
	*bytes_r = bytes;
	*count_r = count;
	return ret;
}

/* maildirsize: "<bytes>S,<count>C" (parts with limits; "0S" for none),
 * then "<bytes> <count>" lines, the first the recount, the others each
 * transaction's change. */
static void maildirsize_header(const struct quota_root *root, string_t *str)
{
	uint64_t bytes, count;
	bool ignored;

	root_get_limits(root, NULL, &bytes, &count, &ignored);
	if (bytes > 0)
		str_printfa(str, "%" PRIu64 "S", bytes);
	if (count > 0)
		str_printfa(str, "%s%" PRIu64 "C", bytes > 0 ? "," : "",
			    count);
	if (bytes == 0 && count == 0)
		str_append(str, "0S");
}

static int maildirsize_write(struct quota *quota, struct quota_root *root,
			     uint64_t bytes, uint64_t count,
			     const char **error_r)
{
	const struct dotlock_settings set = {
		.timeout = 10, .stale_timeout = 60, .use_excl = true,
	};
	struct dotlock *dotlock;
	string_t *str;
	int fd;
	ssize_t ret;

	(void)quota;
	fd = file_dotlock_open(&set, root->maildirsize_path, &dotlock);
	if (fd < 0) {
		*error_r = tmp_printf("file_dotlock_open(%s) "
			"failed: %m", root->maildirsize_path);
		return -1;
	}
	str = str_new(128);
	maildirsize_header(root, str);
	str_printfa(str, "\n%" PRIu64 " %" PRIu64 "\n", bytes, count);
	ret = write(fd, str_c(str), str_len(str));
	if (ret != (ssize_t)str_len(str)) {
		*error_r = tmp_printf("write(%s) failed: %m",
			file_dotlock_get_lock_path(dotlock));
		str_free(&str);
		(void)file_dotlock_delete(&dotlock);
		return -1;
	}
	str_free(&str);
	if (file_dotlock_replace(&dotlock) < 0) {
		*error_r = tmp_printf("rename(%s) failed: %m",
						  root->maildirsize_path);
		return -1;
	}
	return 0;
}

static int maildirsize_recalc(struct quota *quota, struct quota_root *root,
			      uint64_t *bytes_r, uint64_t *count_r,
			      const char **error_r)
{
	if (count_usage(quota, root, false, bytes_r, count_r, error_r) < 0)
		return -1;
	return maildirsize_write(quota, root, *bytes_r, *count_r, error_r);
}

/* Read maildirsize; 0 with the usage, 1 if it must be recounted (missing,
 * other limits, too big, negative), -1 on error. */
static int maildirsize_read(struct quota_root *root, uint64_t *bytes_r,
			    uint64_t *count_r, const char **error_r)
{
	char buf[MAILDIRSIZE_MAX_SIZE + 1];
	string_t *hdr;
	int64_t bytes = 0, count = 0;
	ssize_t n;
	int fd, ret = 0;
	char *line, *save = NULL;

	fd = open(root->maildirsize_path, O_RDONLY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		*error_r = tmp_printf("open(%s) failed: %m",
						  root->maildirsize_path);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n < 0) {
		*error_r = tmp_printf("read(%s) failed: %m",
						  root->maildirsize_path);
		return -1;
	}
	if (n >= MAILDIRSIZE_MAX_SIZE || n == 0 || buf[n - 1] != '\n')
		return 1;
	buf[n] = '\0';
	line = strtok_r(buf, "\n", &save);
	hdr = str_new(64);
	maildirsize_header(root, hdr);
	if (line == NULL || strcmp(line, str_c(hdr)) != 0)
		ret = 1;
	str_free(&hdr);
	while (ret == 0 && (line = strtok_r(NULL, "\n", &save)) != NULL) {
		long long b, c;
		char *end;

		b = strtoll(line, &end, 10);
		if (end == line || *end != ' ') {
			ret = 1;
			break;
		}
		c = strtoll(end + 1, &end, 10);
		if (*end != '\0') {
			ret = 1;
			break;
		}
		bytes += b;
		count += c;
	}
	if (ret == 0 && (bytes < 0 || count < 0))
		ret = 1;
	*bytes_r = (uint64_t)bytes;
	*count_r = (uint64_t)count;
	return ret;
}

static int root_usage(struct quota *quota, struct quota_root *root,
		      uint64_t *bytes_r, uint64_t *count_r,
		      const char **error_r)
{
	int ret;

	if (root->backend == QUOTA_BACKEND_COUNT ||
	    root->maildirsize_path[0] == '\0')
		return count_usage(quota, root, root->backend ==
				   QUOTA_BACKEND_COUNT, bytes_r, count_r,
				   error_r);
	ret = maildirsize_read(root, bytes_r, count_r, error_r);
	if (ret <= 0)
		return ret;
	return maildirsize_recalc(quota, root, bytes_r, count_r, error_r);
}

/* Append a transaction's change to maildirsize (a missing file is
 * recounted at the next read instead). */
static void maildirsize_append(struct quota_root *root, int64_t bytes,
			       int64_t count)
{
	char line[64];
	int fd, len;

	if (root->maildirsize_path[0] == '\0' || (bytes == 0 && count == 0))
		return;
	fd = open(root->maildirsize_path, O_WRONLY | O_APPEND);
	if (fd < 0) {
		if (errno != ENOENT)
			i_error("quota: open(%s) failed: %m",
				root->maildirsize_path);
		return;
	}
	len = snprintf(line, sizeof(line), "%" PRId64 " %" PRId64 "\n",
		       bytes, count);
	if (write(fd, line, (size_t)len) != len)
		i_error("quota: write(%s) failed: %m", root->maildirsize_path);
	(void)close(fd);
}

/* ---- the quota_clone plugin ---- */

/* Set the keys of kv (key, value, ..., NULL) in the file dict at path as
 * Dovecot's dict-file does: under PATH.lock, the other pairs kept, the
 * new content renamed over the file. */
static int file_dict_set_pairs(const char *path, const char *const *kv,
			       const char **error_r)
{
	const struct dotlock_settings set = {
		.timeout = 30, .stale_timeout = 60, .use_excl = true,
	};
	struct dotlock *dotlock;
	string_t *out = str_new(256);
	FILE *f;
	char *line = NULL, *key = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd;

	fd = file_dotlock_open(&set, path, &dotlock);
	if (fd < 0) {
		*error_r = tmp_printf("file_dotlock_open(%s) failed: %m", path);
		str_free(&out);
		return -1;
	}
	f = fopen(path, "r");
	while (f != NULL && (n = getline(&line, &cap, f)) > 0) {
		bool replaced = false;

		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (key == NULL) {
			key = i_strdup(line);
			continue;
		}
		for (unsigned int i = 0; kv[i] != NULL; i += 2)
			replaced = replaced || strcmp(kv[i], key) == 0;
		if (!replaced)
			str_printfa(out, "%s\n%s\n", key, line);
		i_free(key);
	}
	free(line);
	i_free(key);
	if (f != NULL)
		fclose(f);
	for (unsigned int i = 0; kv[i] != NULL; i += 2)
		str_printfa(out, "%s\n%s\n", kv[i], kv[i + 1]);
	if (write(fd, str_c(out), str_len(out)) != (ssize_t)str_len(out)) {
		*error_r = tmp_printf("write(%s) failed: %m",
				      file_dotlock_get_lock_path(dotlock));
		(void)file_dotlock_delete(&dotlock);
		str_free(&out);
		return -1;
	}
	str_free(&out);
	if (file_dotlock_replace(&dotlock) < 0) {
		*error_r = tmp_printf("rename(%s) failed: %m", path);
		return -1;
	}
	return 0;
}

/* quota_clone: the first root's usage as priv/quota/storage (bytes) and
 * priv/quota/messages, as Dovecot's quota_clone writes them. */
static void quota_clone_update(struct quota *quota)
{
	uint64_t bytes, count;
	char bytes_str[32], count_str[32];
	const char *kv[5], *error;

	if (quota->clone_path == NULL || quota->roots.count == 0)
		return;
	if (root_usage(quota, quota->roots.v[0], &bytes, &count,
		       &error) < 0) {
		i_error("quota_clone_plugin: Failed to get quota resource "
			"STORAGE: %s", error);
		return;
	}
	snprintf(bytes_str, sizeof(bytes_str), "%" PRIu64, bytes);
	snprintf(count_str, sizeof(count_str), "%" PRIu64, count);
	kv[0] = "priv/quota/storage";
	kv[1] = bytes_str;
	kv[2] = "priv/quota/messages";
	kv[3] = count_str;
	kv[4] = NULL;
	if (file_dict_set_pairs(quota->clone_path, kv, &error) < 0)
		i_error("quota_clone_dict: Failed to write value: "
			"dict-file: %s", error);
}

/* ---- the public API ---- */

bool quota_user_enabled(struct mail_user *user)
{
	return user->quota != NULL;
}

unsigned int quota_root_count(struct mail_user *user)
{
	return user->quota == NULL ? 0 :
		(unsigned int)user->quota->roots.count;
}

const char *quota_root_name(struct mail_user *user, unsigned int idx)
{
	return user->quota->roots.v[idx]->name;
}

bool quota_root_is_hidden(struct mail_user *user, unsigned int idx)
{
	return user->quota->roots.v[idx]->hidden;
}

bool quota_root_applies(struct mail_user *user, unsigned int idx,
			const char *vname)
{
	return root_in_ns(user->quota->roots.v[idx], vname);
}

int quota_root_lookup(struct mail_user *user, const char *name)
{
	for (unsigned int i = 0; i < quota_root_count(user); i++) {
		if (strcmp(user->quota->roots.v[i]->name, name) == 0)
			return (int)i;
	}
	return -1;
}

int quota_root_get_usage(struct mail_user *user, unsigned int idx,
			 struct quota_root_usage *usage_r,
			 const char **error_r)
{
	struct quota_root *root = user->quota->roots.v[idx];
	bool ignored;

	memset(usage_r, 0, sizeof(*usage_r));
	usage_r->name = root->name;
	root_get_limits(root, NULL, &usage_r->bytes_limit,
			&usage_r->count_limit, &ignored);
	return root_usage(user->quota, root, &usage_r->bytes,
			  &usage_r->count, error_r);
}

int quota_recalculate(struct mail_user *user, const char **error_r)
{
	struct quota *quota = user->quota;

	for (size_t i = 0; quota != NULL && i < quota->roots.count; i++) {
		struct quota_root *root = quota->roots.v[i];
		uint64_t bytes, count;

		if (root->backend != QUOTA_BACKEND_MAILDIR ||
		    root->maildirsize_path[0] == '\0')
			continue;
		if (maildirsize_recalc(quota, root, &bytes, &count,
				       error_r) < 0)
			return -1;
	}
	if (quota != NULL)
		quota_clone_update(quota);
	return 0;
}

/* ---- checks and updates from the storage core ---- */

struct quota_transaction {
	unsigned int count;
	struct quota_root_tx {
		bool have_before;
		uint64_t before_bytes, before_count;
		int64_t bytes, count;	/* this transaction's change */
	} *roots;
};

static struct quota_transaction *quota_tx_get(struct mailbox_transaction *t)
{
	struct quota *quota = t->box->user->quota;

	if (t->quota == NULL) {
		t->quota = i_new(struct quota_transaction, 1);
		t->quota->count = (unsigned int)quota->roots.count;
		t->quota->roots = i_new(struct quota_root_tx,
					quota->roots.count + 1);
	}
	return t->quota;
}

static bool quota_applies(struct mailbox *box)
{
	struct quota *quota = box->user->quota;

	return quota != NULL && !quota->counting && quota->roots.count > 0 &&
		box->ns->type == MAIL_NAMESPACE_PRIVATE;
}

/* ---- the trash plugin ---- */

struct trash_box {
	unsigned int priority;
	char *name;
};

typedef ARRAY(struct trash_box) ARRAY_TRASH_BOX;

struct trash_mail {
	unsigned int box_idx, priority;
	uint32_t uid;
	time_t received;
	uint64_t size;
};

static int trash_mail_cmp(const void *p1, const void *p2)
{
	const struct trash_mail *m1 = p1, *m2 = p2;

	if (m1->priority != m2->priority)
		return m1->priority < m2->priority ? -1 : 1;
	if (m1->received != m2->received)
		return m1->received < m2->received ? -1 : 1;
	if (m1->box_idx != m2->box_idx)
		return m1->box_idx < m2->box_idx ? -1 : 1;
	return m1->uid < m2->uid ? -1 : m1->uid > m2->uid ? 1 : 0;
}

static int trash_box_cmp(const void *p1, const void *p2)
{
	const struct trash_box *b1 = p1, *b2 = p2;

	return b1->priority < b2->priority ? -1 :
		b1->priority > b2->priority ? 1 : 0;
}

/* "<priority> <mailbox>" lines; -1 if the file can't be read */
const char *(*quota_trash_file_hook)(const char *path);

static int trash_read_config(const char *path, ARRAY_TRASH_BOX *boxes)
{
	const char *text = quota_trash_file_hook == NULL ? NULL :
		quota_trash_file_hook(path);
	FILE *f = text != NULL && *text != '\0' ?
		fmemopen((void *)text, strlen(text), "r") : fopen(path, "r");
	char line[1024];

	if (f == NULL) {
		i_error("trash: open(%s) failed: %m", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct trash_box box;
		char *end, *name;
		size_t len = strlen(line);

		while (len > 0 && (line[len - 1] == '\n' ||
				   line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		box.priority = (unsigned int)strtoul(line, &end, 10);
		if (end == line || *end != ' ') {
			i_error("trash: Invalid line in %s: %s", path, line);
			continue;
		}
		name = end + 1;
		box.name = i_strdup(name);
		array_push(boxes, box);
	}
	fclose(f);
	qsort(boxes->v, boxes->count, sizeof(boxes->v[0]), trash_box_cmp);
	return 0;
}

/* Expunge the oldest mail of the trash mailboxes, lowest priority first,
 * until need_bytes and need_count are freed. Nothing is expunged when
 * that much can't be. 1 done, 0 not enough, -1 error. */
static int trash_clean(struct quota *quota, uint64_t need_bytes,
		       uint64_t need_count)
{
	struct mail_user *user = quota->user;
	ARRAY_TRASH_BOX boxes = ARRAY_INIT;
	ARRAY(struct trash_mail) mails = ARRAY_INIT;
	struct mailbox **opened;
	uint64_t freed_bytes = 0, freed_count = 0;
	size_t n = 0;
	int ret = 0;

	if (trash_read_config(quota->trash_path, &boxes) < 0)
		return -1;
	opened = i_new(struct mailbox *, boxes.count + 1);
	for (size_t i = 0; i < boxes.count; i++) {
		struct mailbox *box = mailbox_alloc(user, boxes.v[i].name, 0);
		struct mail *mail;

		if (mailbox_open(box) < 0) {
			mailbox_free(&box);
			continue;
		}
		opened[i] = box;
		mail = mail_alloc(box);
		for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
			struct trash_mail tm = {
				.box_idx = (unsigned int)i,
				.priority = boxes.v[i].priority,
			};

			mail_set_seq(mail, seq);
			tm.uid = mail->uid;
			if (mail_get_received_date(mail, &tm.received) < 0 ||
			    mail_get_physical_size(mail, &tm.size) < 0)
				continue;
			array_push(&mails, tm);
		}
		mail_free(&mail);
	}
	qsort(mails.v, mails.count, sizeof(mails.v[0]), trash_mail_cmp);
	while (n < mails.count &&
	       (freed_bytes < need_bytes || freed_count < need_count)) {
		freed_bytes += mails.v[n].size;
		freed_count++;
		n++;
	}
	if (freed_bytes >= need_bytes && freed_count >= need_count && n > 0) {
		ret = 1;
		for (size_t i = 0; i < boxes.count; i++) {
			struct mailbox_transaction *t;
			struct mail *mail;

			if (opened[i] == NULL)
				continue;
			t = mailbox_transaction_begin(opened[i]);
			mail = mail_alloc(opened[i]);
			for (size_t j = 0; j < n; j++) {
				if (mails.v[j].box_idx == i &&
				    mail_set_uid(mail, mails.v[j].uid))
					mail_expunge(t, mail);
			}
			mail_free(&mail);
			if (mailbox_transaction_commit(&t, NULL) < 0) {
				i_error("trash: Couldn't expunge from %s: %s",
					boxes.v[i].name,
					mailbox_get_last_error(opened[i], NULL));
				ret = -1;
			}
		}
	}
	for (size_t i = 0; i < boxes.count; i++) {
		if (opened[i] != NULL)
			mailbox_free(&opened[i]);
		i_free(boxes.v[i].name);
	}
	i_free(opened);
	array_free(&boxes);
	array_free(&mails);
	return ret;
}

/* One test of a save against every root. When over, *need_bytes_r and
 * *need_count_r say how much must go for it to fit (as Dovecot's trash
 * plugin computes it: without the grace once over the limit). */
static int quota_test_once(struct mailbox_transaction *t, uint64_t size,
			   uint64_t vsize, bool *over_r,
			   uint64_t *need_bytes_r, uint64_t *need_count_r,
			   const char **error_r)
{
	struct quota *quota = t->box->user->quota;
	struct quota_transaction *qt = quota_tx_get(t);

	*over_r = false;
	*need_bytes_r = *need_count_r = 0;
	for (unsigned int i = 0; i < qt->count; i++) {
		struct quota_root *root = quota->roots.v[i];
		struct quota_root_tx *rt = &qt->roots[i];
		uint64_t blimit, climit, msize, need;
		int64_t used_bytes, used_count;
		bool ignored;

		root_get_limits(root, t->box->vname, &blimit, &climit,
				&ignored);
		if (ignored || root->noenforcing || (blimit == 0 && climit == 0))
			continue;
		if (!rt->have_before) {
			if (root_usage(quota, root, &rt->before_bytes,
				       &rt->before_count, error_r) < 0)
				return -1;
			rt->have_before = true;
		}
		msize = root->backend == QUOTA_BACKEND_COUNT ? vsize : size;
		used_bytes = (int64_t)rt->before_bytes + rt->bytes;
		used_count = (int64_t)rt->before_count + rt->count;
		if (used_bytes < 0)
			used_bytes = 0;
		if (climit > 0 && used_count + 1 > (int64_t)climit) {
			*over_r = true;
			need = (uint64_t)used_count + 1 - climit;
			if (need > *need_count_r)
				*need_count_r = need;
		}
		/* size 0 (lmtp_rcpt_check_quota): over only when the
		   limit is reached already */
		if (blimit > 0 &&
		    (msize > 0 || (uint64_t)used_bytes >= blimit)) {
			uint64_t used = (uint64_t)used_bytes, ceil;

			if (used >= blimit) {
				*over_r = true;
				need = msize + (used - blimit);
			} else if (msize > (ceil = blimit - used +
					    root_grace_bytes(root))) {
				*over_r = true;
				need = msize - ceil;
			} else {
				need = 0;
			}
			if (need > *need_bytes_r)
				*need_bytes_r = need;
		}
	}
	if (*over_r) {
		*error_r = quota->exceeded_msg;
		return -1;
	}
	return 0;
}

static int quota_test(struct mailbox_transaction *t, uint64_t size,
		      uint64_t vsize, bool *over_r, const char **error_r)
{
	struct quota *quota = t->box->user->quota;
	uint64_t need_bytes, need_count;

	for (unsigned int i = 0;; i++) {
		if (quota_test_once(t, size, vsize, over_r, &need_bytes,
				    &need_count, error_r) == 0)
			return 0;
		/* the trash plugin makes room, up to 3 times */
		if (!*over_r || i == 3 || quota->trash_path == NULL ||
		    trash_clean(quota, need_bytes, need_count) <= 0)
			return -1;
		for (unsigned int j = 0; j < t->quota->count; j++)
			t->quota->roots[j].have_before = false;
	}
}

static void quota_account(struct mailbox_transaction *t, uint64_t size,
			  uint64_t vsize, int sign)
{
	struct quota *quota = t->box->user->quota;
	struct quota_transaction *qt = quota_tx_get(t);

	for (unsigned int i = 0; i < qt->count; i++) {
		struct quota_root *root = quota->roots.v[i];

		if (root_ignores(root, t->box->vname))
			continue;
		qt->roots[i].bytes += sign * (int64_t)
			(root->backend == QUOTA_BACKEND_COUNT ? vsize : size);
		qt->roots[i].count += sign;
	}
}

int quota_save_check(struct mail_save_context *ctx, uint64_t size,
		     uint64_t vsize)
{
	struct mailbox_transaction *t = ctx->t;
	const char *error;
	bool over;

	if (!quota_applies(t->box))
		return 0;
	if (!t->quota_moving && t->box->user->quota->max_mail_size > 0 &&
	    size > t->box->user->quota->max_mail_size) {
		mailbox_set_error(t->box, MAIL_ERROR_LIMIT, "Mail size is "
			"larger than the maximum size allowed by server "
			"configuration");
		return -1;
	}
	if (!t->quota_moving && quota_test(t, size, vsize, &over, &error) < 0) {
		if (over)
			mailbox_set_error(t->box, MAIL_ERROR_NOQUOTA, "%s",
					  error);
		else
			mailbox_set_critical(t->box, "quota: %s", error);
		return -1;
	}
	quota_account(t, size, vsize, 1);
	return 0;
}

void quota_expunged(struct mailbox_transaction *t,
		    const struct mail_record *rec)
{
	uint64_t size = rec->size, vsize = rec->vsize;

	if (!quota_applies(t->box))
		return;
	if (size == MAIL_SIZE_UNKNOWN || vsize == MAIL_SIZE_UNKNOWN) {
		/* the next read recounts */
		struct quota *quota = t->box->user->quota;

		for (size_t i = 0; i < quota->roots.count; i++) {
			struct quota_root *root = quota->roots.v[i];

			if (root->backend == QUOTA_BACKEND_MAILDIR &&
			    root->maildirsize_path[0] != '\0')
				(void)unlink(root->maildirsize_path);
		}
		return;
	}
	quota_account(t, size, vsize, -1);
}

/* Run "quota-warning 95 user": the first word names a service whose
 * executable is "script PATH"; PATH runs with the other words as its
 * arguments, as the mail user, detached. */
static void warning_execute(struct quota *quota, const char *command)
{
	const struct settings_root *set = quota->user->set;
	char *copy = i_strdup(command), *save = NULL, *word;
	ARRAY_STR args = ARRAY_INIT;
	const char *script = NULL;
	char *exe = NULL;
	pid_t pid;

	word = strtok_r(copy, " ", &save);
	for (unsigned int i = 0; word != NULL && i < set->service_count; i++) {
		const char *e = set->service[i]->executable;

		if (strcmp(set->service[i]->name, word) == 0 &&
		    strncmp(e, "script ", 7) == 0)
			script = e + 7;
	}
	if (script == NULL) {
		i_error("quota: net_connect_unix(%s/%s) failed: %s",
			set->base_dir, word == NULL ? "" : word,
			strerror(ENOENT));
		i_free(copy);
		return;
	}
	while (*script == ' ')
		script++;
	exe = i_strdup(script);
	{
		char *sp = strchr(exe, ' ');
		if (sp != NULL)
			*sp = '\0';
	}
	array_push(&args, exe);
	while ((word = strtok_r(NULL, " ", &save)) != NULL)
		array_push(&args, word);
	array_push(&args, NULL);
	pid = fork();
	if (pid < 0) {
		i_error("quota: fork() failed: %m");
	} else if (pid == 0) {
		/* detach: the grandchild runs the script */
		if (fork() == 0) {
			int fd = open("/dev/null", O_RDWR);

			(void)setsid();
			if (fd >= 0) {
				(void)dup2(fd, 0);
				(void)dup2(fd, 1);
			}
			execv(exe, (char *const *)args.v);
			i_error("quota: execv(%s) failed: %m", exe);
			_exit(1);
		}
		_exit(0);
	} else {
		(void)waitpid(pid, NULL, 0);
	}
	array_free(&args);
	i_free(exe);
	i_free(copy);
}

static bool warning_crossed(const struct quota_root *root,
			    const struct quota_warning *w,
			    uint64_t before_bytes, uint64_t before_count,
			    uint64_t after_bytes, uint64_t after_count)
{
	uint64_t blimit = limit_apply(&root->def.bytes, &w->bytes);
	uint64_t climit = limit_apply(&root->def.count, &w->count);

	if (!w->reverse) {
		return (w->bytes.set && blimit > 0 && before_bytes < blimit &&
			after_bytes >= blimit) ||
			(w->count.set && climit > 0 && before_count < climit &&
			 after_count >= climit);
	}
	return (w->bytes.set && blimit > 0 && before_bytes >= blimit &&
		after_bytes < blimit) ||
		(w->count.set && climit > 0 && before_count >= climit &&
		 after_count < climit);
}

void quota_transaction_committed(struct mailbox_transaction *t)
{
	struct quota *quota = t->box->user->quota;
	struct quota_transaction *qt = t->quota;

	bool changed = false;

	if (qt == NULL || quota == NULL)
		return;
	for (unsigned int i = 0; i < qt->count; i++)
		changed = changed || qt->roots[i].bytes != 0 ||
			qt->roots[i].count != 0;
	for (unsigned int i = 0; i < qt->count; i++) {
		struct quota_root *root = quota->roots.v[i];
		struct quota_root_tx *rt = &qt->roots[i];
		uint64_t after_bytes, after_count;
		int64_t bb, bc;
		const char *error;

		if (rt->bytes == 0 && rt->count == 0)
			continue;
		if (root->backend == QUOTA_BACKEND_MAILDIR)
			maildirsize_append(root, rt->bytes, rt->count);
		if (root->warnings.count == 0)
			continue;
		if (root_usage(quota, root, &after_bytes, &after_count,
			       &error) < 0) {
			i_error("quota: %s", error);
			continue;
		}
		bb = (int64_t)after_bytes - rt->bytes;
		bc = (int64_t)after_count - rt->count;
		for (size_t j = 0; j < root->warnings.count; j++) {
			const struct quota_warning *w = &root->warnings.v[j];

			if (warning_crossed(root, w, bb < 0 ? 0 : (uint64_t)bb,
					    bc < 0 ? 0 : (uint64_t)bc,
					    after_bytes, after_count)) {
				warning_execute(quota, w->command);
				break;
			}
		}
	}
	/* after maildirsize has this transaction's change */
	if (changed)
		quota_clone_update(quota);
}

void quota_transaction_free(struct mailbox_transaction *t)
{
	if (t->quota == NULL)
		return;
	i_free(t->quota->roots);
	i_free(t->quota);
}

void quota_mailbox_deleted(struct mailbox *box)
{
	struct quota *quota = box->user->quota;
	const char *error;

	if (!quota_applies(box))
		return;
	for (size_t i = 0; i < quota->roots.count; i++) {
		struct quota_root *root = quota->roots.v[i];
		uint64_t bytes, count;

		if (root->backend == QUOTA_BACKEND_MAILDIR &&
		    root->maildirsize_path[0] != '\0' &&
		    maildirsize_recalc(quota, root, &bytes, &count,
				       &error) < 0)
			i_error("quota: %s", error);
	}
	quota_clone_update(quota);
}

int quota_check_user(struct mail_user *user, const char *vname,
		     uint64_t size, bool *over_r, const char **error_r)
{
	struct mailbox *box;
	struct mailbox_transaction *t;
	int ret;

	*over_r = false;
	if (user->quota == NULL)
		return 0;
	box = mailbox_alloc(user, vname, MAILBOX_FLAG_SAVEONLY);
	if (!quota_applies(box)) {
		mailbox_free(&box);
		return 0;
	}
	t = mailbox_transaction_begin(box);
	ret = quota_test(t, size, size, over_r, error_r);
	if (ret < 0 && !*over_r)
		*error_r = tmp_printf("%s", *error_r);
	mailbox_transaction_rollback(&t);
	mailbox_free(&box);
	return ret;
}

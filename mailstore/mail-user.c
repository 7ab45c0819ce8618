/* mail-user.c - a user's storage view: the namespaces of the config (or
 * the implicit one), each with its parsed mail location, the empty
 * mail_location autodetection, and the "auto" mailboxes. */
#include "mail-storage-private.h"
#include "quota-private.h"
#include "acl.h"
#include <strings.h>
#include "settings-structs.h"
#include "var-expand.h"
#include "mail-plugins.h"
#include "last-login.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* mbox is linked in when its driver is built (weak until then). */
extern const struct mail_storage_vfuncs mbox_storage __attribute__((weak));

static const struct mail_storage_vfuncs *storage_find(const char *name)
{
	const struct mail_storage_vfuncs *const drivers[] = {
		&maildir_storage, &mbox_storage,
	};
	for (unsigned int i = 0; i < N_ELEMENTS(drivers); i++) {
		if (drivers[i] != NULL && drivers[i]->name != NULL &&
		    strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	}
	return NULL;
}

static void user_var_table_init(struct mail_user *user)
{
	const char *at = strchr(user->username, '@');
	const char **t = p_malloc(user->pool, sizeof(*t) * 4);

	t[0] = user->username;
	t[1] = at == NULL ? user->username :
		p_strndup(user->pool, user->username,
			  (size_t)(at - user->username));
	t[2] = at == NULL ? "" : at + 1;
	t[3] = user->home;
	user->var_table = t;
}

const char *mail_user_home_expand(struct mail_user *user, const char *path)
{
	const struct var_expand_table table[] = {
		{ 'u', user->var_table[0], "user" },
		{ 'n', user->var_table[1], "username" },
		{ 'd', user->var_table[2], "domain" },
		{ 'h', user->var_table[3], "home" },
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
	ret = p_strdup(user->pool, str_c(str));
	str_free(&str);
	return ret;
}

/* Split "driver:path:KEY=value:..." ("::" is a literal ':'). */
static ARRAY_STR location_split(pool_t pool, const char *location)
{
	ARRAY_STR parts = ARRAY_INIT;
	string_t *cur = str_new(64);

	for (const char *p = location;; p++) {
		if (*p == ':' && p[1] == ':') {
			str_append_c(cur, ':');
			p++;
		} else if (*p == ':' || *p == '\0') {
			array_push(&parts, p_strdup(pool, str_c(cur)));
			str_clear(cur);
			if (*p == '\0')
				break;
		} else {
			str_append_c(cur, *p);
		}
	}
	str_free(&cur);
	return parts;
}

static bool dir_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static bool autodetect_mbox_fallback = false;

void mail_user_set_autodetect_mbox_fallback(bool enable)
{
	autodetect_mbox_fallback = enable;
}

/* Empty mail_location: look where Dovecot looks. $MAIL first, then
 * ~/Maildir, then an mbox root (~/mail or ~/Mail) with INBOX in the
 * system spool. */
static const char *location_autodetect(struct mail_user *user,
				       const char **error_r)
{
	const char *env = getenv("MAIL");
	static const char *const roots[] = { "mail", "Mail" };
	const char *spool = NULL;
	char buf[4096];

	if (env != NULL && env[0] != '\0') {
		if (strchr(env, ':') != NULL)
			return env;
		/* a plain path: an mbox file or a Maildir */
		if (dir_exists(env))
			return p_strdup_printf(user->pool, "maildir:%s", env);
		return p_strdup_printf(user->pool, "mbox:%s", env);
	}
	if (user->home != NULL) {
		snprintf(buf, sizeof(buf), "%s/Maildir/cur", user->home);
		if (dir_exists(buf))
			return p_strdup_printf(user->pool, "maildir:%s/Maildir",
					       user->home);
	}
	static const char *const spools[] = { "/var/mail", "/var/spool/mail" };
	for (unsigned int i = 0; i < N_ELEMENTS(spools); i++) {
		snprintf(buf, sizeof(buf), "%s/%s", spools[i], user->username);
		if (file_exists(buf)) {
			spool = p_strdup(user->pool, buf);
			break;
		}
	}
	if (user->home != NULL) {
		for (unsigned int i = 0; i < N_ELEMENTS(roots); i++) {
			snprintf(buf, sizeof(buf), "%s/%s/.imap", user->home,
				 roots[i]);
			bool found = dir_exists(buf);
			if (!found) {
				snprintf(buf, sizeof(buf), "%s/%s/inbox",
					 user->home, roots[i]);
				found = file_exists(buf);
			}
			if (!found) {
				snprintf(buf, sizeof(buf), "%s/%s",
					 user->home, roots[i]);
				found = dir_exists(buf);
			}
			if (!found)
				continue;
			if (spool != NULL)
				return p_strdup_printf(user->pool,
					"mbox:%s/%s:INBOX=%s", user->home,
					roots[i], spool);
			return p_strdup_printf(user->pool, "mbox:%s/%s",
					       user->home, roots[i]);
		}
	}
	if (autodetect_mbox_fallback && user->home != NULL) {
		if (spool == NULL)
			spool = p_strdup_printf(user->pool, "/var/mail/%s",
						user->username);
		return p_strdup_printf(user->pool, "mbox:%s/mail:INBOX=%s",
				       user->home, spool);
	}
	*error_r = p_strdup_printf(user->pool,
		"Mail storage autodetection failed with home=%s",
		user->home == NULL ? "(not set)" : user->home);
	return NULL;
}

static int location_parse(struct mail_namespace *ns, const char *location,
			  const char **error_r)
{
	struct mail_user *user = ns->user;
	struct mailbox_list *list;
	ARRAY_STR parts;
	const char *driver, *value;
	size_t i;

	if (location[0] == '\0') {
		location = location_autodetect(user, error_r);
		if (location == NULL)
			return -1;
	}
	parts = location_split(user->pool, location);
	driver = parts.v[0];
	if (parts.count == 1) {
		/* "~/Maildir" without a driver: guess like Dovecot */
		driver = dir_exists(mail_user_home_expand(user, parts.v[0])) ?
			"maildir" : "mbox";
		array_push(&parts, parts.v[0]);
	}
	list = p_malloc(user->pool, sizeof(*list));
	list->pool = user->pool;
	list->ns = ns;
	list->v = storage_find(driver);
	if (list->v == NULL) {
		*error_r = p_strdup_printf(user->pool,
			"Unknown mail storage driver %s", driver);
		array_free(&parts);
		return -1;
	}
	ns->driver = list->v->name;
	list->root = mail_user_home_expand(user, parts.v[1]);
	for (i = 2; i < parts.count; i++) {
		const char *p = parts.v[i];
		const char **dest = NULL;

		if (str_begins(p, "INBOX=", &value))
			dest = &list->inbox_path;
		else if (str_begins(p, "INDEX=", &value))
			dest = &list->index_dir;
		else if (str_begins(p, "CONTROL=", &value))
			dest = &list->control_dir;
		else if (str_begins(p, "VOLATILEDIR=", &value))
			dest = &list->volatile_dir;
		else if (str_begins(p, "LAYOUT=", &value))
			dest = &list->layout;
		else if (str_begins(p, "SUBSCRIPTIONS=", &value))
			dest = &list->subscriptions_file;
		else if (strcmp(p, "FULLDIRNAME") == 0 ||
			 str_begins(p, "DIRNAME=", &value) ||
			 str_begins(p, "MAILBOXDIR=", &value) ||
			 str_begins(p, "ALT=", &value) ||
			 str_begins(p, "LISTINDEX=", &value) ||
			 str_begins(p, "INDEXPVT=", &value) ||
			 strcmp(p, "UTF-8") == 0 || strcmp(p, "NO-NOSELECT") == 0 ||
			 strcmp(p, "BROKENCHARS") == 0 || p[0] == '\0')
			continue;	/* accepted, Roost's defaults apply */
		else {
			*error_r = p_strdup_printf(user->pool,
				"Unknown setting: %s", p);
			array_free(&parts);
			return -1;
		}
		if (strcmp(value, "MEMORY") == 0 && dest == &list->index_dir)
			*dest = NULL;
		else
			*dest = mail_user_home_expand(user, value);
	}
	array_free(&parts);
	if (list->layout != NULL && strcmp(list->layout, "maildir++") != 0 &&
	    strcmp(list->layout, "fs") != 0 && strcmp(list->layout, "index") != 0) {
		*error_r = p_strdup_printf(user->pool,
			"Unknown mailbox list driver: %s", list->layout);
		return -1;
	}
	ns->mlist = list;
	if (list->v->list_init(list, error_r) < 0)
		return -1;
	if (ns->sep == '\0')
		ns->sep = list->storage_sep;
	return 0;
}

static struct mail_namespace *
ns_add(struct mail_user *user, const struct settings_namespace *set,
       struct mail_namespace ***tail)
{
	struct mail_namespace *ns = p_malloc(user->pool, sizeof(*ns));

	ns->user = user;
	ns->name = set == NULL ? "" : p_strdup(user->pool, set->name);
	ns->prefix = set == NULL ? "" : p_strdup(user->pool, set->prefix);
	ns->sep = set == NULL || set->separator[0] == '\0' ? '\0' :
		set->separator[0];
	ns->type = MAIL_NAMESPACE_PRIVATE;
	if (set != NULL && strcmp(set->type, "shared") == 0)
		ns->type = MAIL_NAMESPACE_SHARED;
	else if (set != NULL && strcmp(set->type, "public") == 0)
		ns->type = MAIL_NAMESPACE_PUBLIC;
	ns->owner = ns->type == MAIL_NAMESPACE_PRIVATE ? user->username : NULL;
	if (ns->type == MAIL_NAMESPACE_SHARED && strchr(ns->prefix, '%') != NULL) {
		ns->shared_template = true;
		ns->shared_location = p_strdup(user->pool, set->location);
	}
	ns->inbox = set == NULL ? true : set->inbox;
	ns->hidden = set == NULL ? false : set->hidden;
	ns->list = set == NULL || strcmp(set->list, "no") != 0;
	ns->list_children = set != NULL && strcmp(set->list, "children") == 0;
	ns->subscriptions = set == NULL ? true : set->subscriptions;
	**tail = ns;
	*tail = &ns->next;
	return ns;
}

static const char *user_field(const struct mail_user_info *info,
			      const char *key)
{
	size_t len = strlen(key);

	for (unsigned int i = 0; info->fields != NULL && info->fields[i] != NULL; i++) {
		if (strncmp(info->fields[i], key, len) == 0 &&
		    info->fields[i][len] == '=')
			return info->fields[i] + len + 1;
	}
	return NULL;
}

/* Dovecot 2.4's userdb fields for the mail location (a 2.4 userdb can't
 * return mail=) and the 2.3 location parameter each one sets; flag:
 * the value that stands for the parameter (which has no value). */
static const struct {
	const char *field, *param, *flag;
} location_fields[] = {
	{ "mail_inbox_path", "INBOX", NULL },
	{ "mail_index_path", "INDEX", NULL },
	{ "mail_index_private_path", "INDEXPVT", NULL },
	{ "mail_cache_path", "INDEXCACHE", NULL },
	{ "mail_control_path", "CONTROL", NULL },
	{ "mail_alt_path", "ALT", NULL },
	{ "mailbox_list_layout", "LAYOUT", NULL },
	{ "mailbox_subscriptions_filename", "SUBSCRIPTIONS", NULL },
	{ "mailbox_directory_name", "DIRNAME", NULL },
	{ "mailbox_root_directory_name", "MAILBOXDIR", NULL },
	{ "mail_volatile_path", "VOLATILEDIR", NULL },
	{ "mailbox_list_index_prefix", "LISTINDEX", NULL },
	{ "mailbox_list_visible_escape_char", "BROKENCHAR", NULL },
	{ "mail_alt_check", "ALTNOCHECK", "no" },
	{ "mailbox_list_iter_from_index_dir", "ITERINDEX", "yes" },
	{ "mailbox_list_drop_noselect", "NO-NOSELECT", "yes" },
	{ "mailbox_list_validate_fs_names", "NO-FS-VALIDATION", "no" },
	{ "mailbox_list_utf8", "UTF-8", "yes" },
};

/* The parameter name of one ":PARAM[=value]" part of a location. */
static bool location_part_is(const char *part, const char *param)
{
	size_t len = strlen(param);

	return strncmp(part, param, len) == 0 &&
		(part[len] == '\0' || part[len] == '=');
}

/* location (the configured mail_location) with the userdb's 2.4 location
 * fields (mail_driver, mail_path, mail_inbox_path ...) put in: each one
 * replaces its part, as a 2.4 userdb field overrides that one setting.
 * location itself when the userdb returned none. */
static const char *location_from_fields(pool_t pool,
					const struct mail_user_info *info,
					const char *location)
{
	const char *driver = user_field(info, "mail_driver");
	const char *path = user_field(info, "mail_path");
	const char *colon, *slash, *rest, *conf_driver = NULL;
	bool any = driver != NULL || path != NULL;
	string_t *out;
	char *params, *save = NULL, *part;

	for (unsigned int i = 0; i < N_ELEMENTS(location_fields) && !any; i++)
		any = user_field(info, location_fields[i].field) != NULL;
	if (!any)
		return location;
	/* the configured driver:path:params */
	colon = strchr(location, ':');
	slash = strchr(location, '/');
	rest = location;
	if (colon != NULL && (slash == NULL || colon < slash)) {
		conf_driver = p_strndup(pool, location,
					(size_t)(colon - location));
		rest = colon + 1;
	}
	colon = strchr(rest, ':');
	params = p_strdup(pool, colon == NULL ? "" : colon + 1);
	if (path == NULL)
		path = colon == NULL ? rest :
			p_strndup(pool, rest, (size_t)(colon - rest));
	if (driver == NULL)
		driver = conf_driver;
	out = str_new(128);
	if (driver != NULL && driver[0] != '\0')
		str_printfa(out, "%s:", driver);
	str_append(out, path);
	/* configured parameters that no field replaces */
	for (part = strtok_r(params, ":", &save); part != NULL;
	     part = strtok_r(NULL, ":", &save)) {
		bool replaced = false;

		for (unsigned int i = 0; i < N_ELEMENTS(location_fields); i++) {
			if (location_part_is(part, location_fields[i].param) &&
			    user_field(info, location_fields[i].field) != NULL)
				replaced = true;
		}
		if (!replaced)
			str_printfa(out, ":%s", part);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(location_fields); i++) {
		const char *v = user_field(info, location_fields[i].field);

		if (v == NULL)
			continue;
		if (location_fields[i].flag == NULL)
			str_printfa(out, ":%s=%s", location_fields[i].param, v);
		else if (strcasecmp(v, location_fields[i].flag) == 0)
			str_printfa(out, ":%s", location_fields[i].param);
	}
	location = p_strdup(pool, str_c(out));
	str_free(&out);
	return location;
}

/* Create and subscribe the mailbox sections with auto=create|subscribe
 * that don't exist yet. */
static void user_autocreate(struct mail_user *user)
{
	const struct settings_root *set = user->set;

	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct settings_namespace *nset = set->namespace[i];

		for (unsigned int j = 0; j < nset->mailbox_count; j++) {
			const struct settings_mailbox *mset = nset->mailbox[j];
			bool subscribe = strcmp(mset->auto_, "subscribe") == 0;
			struct mailbox *box;
			bool exists;
			const char *vname;

			if (!subscribe && strcmp(mset->auto_, "create") != 0)
				continue;
			vname = p_strdup_printf(user->pool, "%s%s",
						nset->prefix, mset->name);
			box = mailbox_alloc(user, vname, 0);
			if (mailbox_exists(box, &exists) == 0 && !exists) {
				if (mailbox_create(box, NULL, false) < 0) {
					i_error("Failed to autocreate mailbox %s: %s",
						vname, mailbox_get_last_error(box, NULL));
				} else if (subscribe) {
					(void)mailbox_list_subscribe(user, vname, true);
				}
			}
			mailbox_free(&box);
		}
	}
}

/* mail_plugins: Dovecot's load errors; a warning (once per process) for
 * the plugins Roost lacks. */
static int mail_user_plugins_init(struct mail_user *user,
				  const char **error_r)
{
	static bool warned = false;
	const char *missing;

	if (mail_plugins_check(user->pool, user->set->mail_plugins,
			       user->set->mail_plugin_dir, &missing,
			       error_r) < 0)
		return -1;
	if (missing[0] != '\0' && !warned) {
		warned = true;
		i_warning("mail_plugins: Roost does not implement these "
			  "Dovecot plugins, they are ignored: %s", missing);
	}
	return 0;
}

int mail_user_init(const struct settings_root *set,
		   const struct mail_user_info *info,
		   struct mail_user **user_r, const char **error_r)
{
	pool_t pool = pool_create("mail user", 4096);
	struct mail_user *user = p_malloc(pool, sizeof(*user));
	struct mail_namespace **tail = &user->namespaces, *ns;
	const char *location, *home, *error = NULL;
	bool have_inbox = false;

	user->pool = pool;
	user->set = set;
	user->username = p_strdup(pool, info->username);
	user->uid = info->uid;
	user->gid = info->gid;
	home = info->home;
	if ((home == NULL || home[0] == '\0') && set->mail_home[0] != '\0') {
		user->home = NULL;
		user_var_table_init(user);
		home = mail_user_home_expand(user, set->mail_home);
	}
	user->home = home == NULL || home[0] == '\0' ? NULL :
		p_strdup(pool, home);
	user_var_table_init(user);

	if (mail_user_plugins_init(user, &error) < 0)
		goto fail;
	location = user_field(info, "mail");
	if (location == NULL) {
		location = location_from_fields(pool, info,
						set->mail_location);
	}
	location = p_strdup(pool, location);

	if (set->namespace_count == 0) {
		ns = ns_add(user, NULL, &tail);
		if (location_parse(ns, location, &error) < 0)
			goto fail;
		have_inbox = true;
	}
	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct settings_namespace *nset = set->namespace[i];

		if (nset->disabled)
			continue;
		ns = ns_add(user, nset, &tail);
		if (location_parse(ns, nset->location[0] != '\0' ?
				   nset->location : location, &error) < 0) {
			if (nset->ignore_on_failure) {
				i_warning("Namespace %s: %s (ignoring)",
					  ns->prefix, error);
				continue;
			}
			error = p_strdup_printf(pool, "Namespace '%s': %s",
						ns->prefix, error);
			goto fail;
		}
		if (ns->inbox) {
			if (have_inbox) {
				error = "namespace configuration error: "
					"There can't be multiple namespaces with inbox=yes";
				goto fail;
			}
			have_inbox = true;
		}
		if (ns->prefix[0] != '\0' &&
		    ns->prefix[strlen(ns->prefix) - 1] != ns->sep &&
		    nset->separator[0] != '\0') {
			error = p_strdup_printf(pool,
				"namespace %s: prefix not ending with separator",
				ns->prefix);
			goto fail;
		}
	}
	if (!have_inbox) {
		error = "namespace configuration error: "
			"inbox=yes namespace missing";
		goto fail;
	}
	if (quota_user_init(user, info, &error) < 0)
		goto fail;
	if (acl_user_init(user, info, &error) < 0)
		goto fail;
	last_login_user_init(user, info);
	user_autocreate(user);
	*user_r = user;
	return 0;
fail:
	*error_r = i_strdup(error);
	pool_destroy(&pool);
	return -1;
}

static char *undouble_percent(const char *s)
{
	char *ret = i_strdup(s), *d = ret;

	for (const char *p = s; *p != '\0'; p++) {
		*d++ = *p;
		if (p[0] == '%' && p[1] == '%')
			p++;
	}
	*d = '\0';
	return ret;
}

struct mail_namespace *
mail_namespace_add_shared(struct mail_user *user,
			  struct mail_namespace *template,
			  const char *owner, const char *home)
{
	struct mail_namespace *ns = p_malloc(user->pool, sizeof(*ns));
	const char *at = strchr(owner, '@');
	char *n = at == NULL ? i_strdup(owner) :
		i_strndup(owner, (size_t)(at - owner));
	const struct var_expand_table table[] = {
		{ 'u', owner, "user" },
		{ 'n', n, "username" },
		{ 'd', at == NULL ? "" : at + 1, "domain" },
		{ 'h', home == NULL ? "" : home, "home" },
		{ '\0', NULL, NULL },
	};
	string_t *str = str_new(128);
	const char *error;

	*ns = *template;
	ns->shared_template = false;
	/* "%%u" in the config is the per-owner "%u" */
	char *pfx = undouble_percent(template->prefix);
	char *loc = undouble_percent(template->shared_location);
	ns->owner = p_strdup(user->pool, owner);
	(void)var_expand(str, pfx, table, NULL, NULL, &error);
	ns->prefix = p_strdup(user->pool, str_c(str));
	str_clear(str);
	(void)var_expand(str, loc, table, NULL, NULL, &error);
	i_free(n);
	i_free(pfx);
	i_free(loc);
	if (location_parse(ns, str_c(str), &error) < 0) {
		i_error("Namespace '%s': %s", ns->prefix, error);
		str_free(&str);
		return NULL;
	}
	str_free(&str);
	ns->next = template->next;
	template->next = ns;
	return ns;
}

void mail_user_deinit(struct mail_user **_user)
{
	struct mail_user *user = *_user;

	if (user == NULL)
		return;
	*_user = NULL;
	quota_user_deinit(user);
	pool_destroy(&user->pool);
}

void mail_user_set_error(struct mail_user *user, enum mail_error error,
			 const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	user->error = error;
	user->error_text = p_strdup_vprintf(user->pool, fmt, args);
	va_end(args);
}

struct mail_namespace *mail_namespace_find_inbox(struct mail_user *user)
{
	for (struct mail_namespace *ns = user->namespaces; ns != NULL; ns = ns->next) {
		if (ns->inbox)
			return ns;
	}
	return user->namespaces;
}

static bool vname_is_inbox(const char *vname, const char *prefix)
{
	size_t len = strlen(prefix);

	return strncmp(vname, prefix, len) == 0 &&
		strcasecmp(vname + len, "INBOX") == 0;
}

struct mail_namespace *mail_namespace_find(struct mail_user *user,
					   const char *vname)
{
	struct mail_namespace *best = NULL, *inbox_ns;
	size_t best_len = 0;

	inbox_ns = mail_namespace_find_inbox(user);
	if (strcasecmp(vname, "INBOX") == 0 ||
	    (inbox_ns != NULL && vname_is_inbox(vname, inbox_ns->prefix)))
		return inbox_ns;
	struct mail_namespace *template = NULL;
	size_t template_len = 0;
	for (struct mail_namespace *ns = user->namespaces; ns != NULL; ns = ns->next) {
		size_t slen;

		if (!ns->shared_template)
			continue;
		slen = (size_t)(strchr(ns->prefix, '%') - ns->prefix);
		if (strncmp(vname, ns->prefix, slen) != 0 &&
		    !(slen > 0 && strncmp(vname, ns->prefix, slen - 1) == 0 &&
		      vname[slen - 1] == '\0'))
			continue;
		template = ns;
		template_len = slen;
		if (strlen(vname) > slen) {
			/* "shared/<owner>[/...]": the owner's namespace */
			size_t olen = strcspn(vname + slen, (char[]){ ns->sep, '\0' });
			char *owner = i_strndup(vname + slen, olen);

			if (olen > 0)
				(void)acl_shared_ns_get(user, ns, owner);
			i_free(owner);
		}
		break;
	}
	for (struct mail_namespace *ns = user->namespaces; ns != NULL; ns = ns->next) {
		size_t len = strlen(ns->prefix);

		if (ns->shared_template)
			continue;

		if (len >= best_len && strncmp(vname, ns->prefix, len) == 0) {
			best = ns;
			best_len = len;
		} else if (len > 0 && len - 1 >= best_len &&
			   strncmp(vname, ns->prefix, len - 1) == 0 &&
			   vname[len - 1] == '\0') {
			/* the prefix itself without its separator */
			best = ns;
			best_len = len - 1;
		}
	}
	if (template != NULL && (best == NULL || best_len < template_len))
		return template;
	return best;
}

const char *mailbox_vname_normalize(struct mail_user *user, const char *vname)
{
	struct mail_namespace *ns = mail_namespace_find_inbox(user);

	if (strcasecmp(vname, "INBOX") == 0)
		return "INBOX";
	if (ns != NULL && ns->prefix[0] != '\0' &&
	    vname_is_inbox(vname, ns->prefix))
		return p_strdup_printf(user->pool, "%sINBOX", ns->prefix);
	/* INBOX/child: the INBOX part is case-insensitive too */
	if (strncasecmp(vname, "INBOX", 5) == 0 && ns != NULL &&
	    vname[5] == ns->sep && ns->prefix[0] == '\0' &&
	    strncmp(vname, "INBOX", 5) != 0)
		return p_strdup_printf(user->pool, "INBOX%s", vname + 5);
	return vname;
}

/* A plugin setting: the userdb field of that name, else the plugin { }
 * section's, %-expanded for the user; NULL when unset or empty. */
const char *mail_user_plugin_setting(struct mail_user *user,
				     const struct mail_user_info *info,
				     const char *key, pool_t pool)
{
	const struct settings_root *set = user->set;
	const char *value = NULL, *error, *ret;
	size_t len = strlen(key);
	string_t *str;

	for (unsigned int i = 0; info != NULL && info->fields != NULL &&
	     info->fields[i] != NULL; i++) {
		if (strncmp(info->fields[i], key, len) == 0 &&
		    info->fields[i][len] == '=') {
			value = info->fields[i] + len + 1;
			break;
		}
	}
	for (unsigned int i = 0; value == NULL && i < set->plugin_count; i++) {
		if (strcmp(set->plugin[i * 2], key) == 0)
			value = set->plugin[i * 2 + 1];
	}
	if (value == NULL || value[0] == '\0')
		return NULL;
	const struct var_expand_table table[] = {
		{ 'u', user->var_table[0], "user" },
		{ 'n', user->var_table[1], "username" },
		{ 'd', user->var_table[2], "domain" },
		{ 'h', user->var_table[3], "home" },
		{ '\0', NULL, NULL },
	};
	str = str_new(128);
	(void)var_expand(str, value, table, NULL, NULL, &error);
	ret = p_strdup(pool, str_c(str));
	str_free(&str);
	return ret;
}

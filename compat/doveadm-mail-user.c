/* doveadm-mail-user.c - from a user name to an open mail user, for
 * doveadm's mail commands and the LDA, as Dovecot's mail storage service
 * does it: a USER lookup on the auth service's auth-userdb socket (or,
 * when no auth service listens there, the configured passdbs/userdbs run
 * in this process), the settings the user sees (the service's filter,
 * -o, then the userdb's fields), the uid/gid checks against
 * first/last_valid_uid/gid, the privilege drop, mail_user_init(). */
#include "lib.h"
#include "str.h"
#include "array.h"
#include "pool.h"
#include "config-parser.h"
#include "config-tree.h"
#include "config-bind.h"
#include "config-value.h"
#include "auth.h"
#include "auth-request.h"
#include "auth-fields.h"
#include "userdb.h"
#include "doveadm-auth-client.h"
#include "doveadm-mail.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_GROUPS 1024

struct mail_service {
	struct config *config;
	const char *const *overrides;
	unsigned int override_count;
	const char *service;
	bool debug;
	pool_t pool;
	struct settings_root *set;

	/* the auth service, or our own copy of its databases */
	struct doveadm_auth_master master;
	struct doveadm_auth_info info;
	bool master_checked, use_inproc;
	struct auth *auth;
	pool_t auth_pool;

	/* groups before a temporary drop */
	gid_t saved_groups[MAX_GROUPS];
	int saved_group_count;
	bool temp_dropped;
};

/* ---- settings ------------------------------------------------------ */

/* Set key to value in the merged tree root: "plugin/x" and unknown keys
 * go to the plugin section, as Dovecot treats unknown userdb fields. */
static int tree_set(pool_t pool, struct config_node *root, const char *key,
		    const char *value, bool unknown_to_plugin,
		    const char **error_r)
{
	struct config_node *node;
	unsigned int idx;
	const char *canon;
	int plugin_idx;

	if (strncmp(key, "plugin/", 7) == 0) {
		key += 7;
	} else if (config_node_lookup(root, key, &node, &idx)) {
		const struct setting_def *def = &node->info->defs[idx];

		if (def->type == SET_DEFLIST || def->type == SET_STRLIST)
			return 0;
		if (config_value_normalize(pool, def, value, &canon,
					   error_r) < 0)
			return -1;
		node->slots[idx].value = p_strdup(pool, canon);
		node->slots[idx].changed = true;
		return 0;
	} else if (!unknown_to_plugin || strchr(key, '/') != NULL) {
		return 0;
	}
	plugin_idx = setting_info_find(root->info, "plugin");
	if (plugin_idx >= 0) {
		config_node_strlist_set(pool, &root->slots[plugin_idx],
					key, value);
	}
	return 0;
}

static bool userdb_field_is_special(const char *key)
{
	static const char *const special[] = {
		"uid", "gid", "home", "mail", "user", "system_groups_user",
		"nice", "chroot", "master_user", "auth_mech", "auth_user",
		"noauthenticate", "nologin", "reason",
	};

	for (size_t i = 0; i < N_ELEMENTS(special); i++) {
		if (strcmp(special[i], key) == 0)
			return true;
	}
	return false;
}

/* The settings for the service's protocol filter, with -o and (when
 * given) the userdb's fields applied. */
static struct settings_root *
service_bind(struct mail_service *svc, pool_t pool,
	     const char *const *fields, const char **error_r)
{
	struct config_filter filter;
	struct config_node *root;
	struct settings_root *set;

	memset(&filter, 0, sizeof(filter));
	filter.protocol = svc->service;
	if (config_get_merged_pool(svc->config, &filter, pool, &root,
				   error_r) < 0)
		return NULL;
	for (unsigned int i = 0; i < svc->override_count; i++) {
		const char *o = svc->overrides[i], *eq = strchr(o, '=');
		char *key;

		if (eq == NULL)
			continue;
		key = p_strndup(pool, o, (size_t)(eq - o));
		if (tree_set(pool, root, key, eq + 1, false, error_r) < 0)
			return NULL;
	}
	for (; fields != NULL && *fields != NULL; fields++) {
		const char *eq = strchr(*fields, '=');
		char *key;

		key = eq == NULL ? p_strdup(pool, *fields) :
			p_strndup(pool, *fields, (size_t)(eq - *fields));
		if (strcmp(key, "mail") == 0)
			key = "mail_location";
		else if (userdb_field_is_special(key))
			continue;
		if (tree_set(pool, root, key, eq == NULL ? "yes" : eq + 1,
			     true, error_r) < 0)
			return NULL;
	}
	set = config_bind(pool, root, error_r);
	return set;
}

struct mail_service *mail_service_init(struct config *config,
				       const char *service,
				       const char *const *overrides,
				       unsigned int override_count,
				       bool debug)
{
	struct mail_service *svc = i_new(struct mail_service, 1);
	const char *error, *path;

	svc->config = config;
	svc->service = service;
	svc->overrides = overrides;
	svc->override_count = override_count;
	svc->debug = debug;
	svc->pool = pool_create("mail service", 4096);
	svc->set = service_bind(svc, svc->pool, NULL, &error);
	if (svc->set == NULL)
		i_fatal_status(EXIT_TEMPFAIL, "Error reading configuration: %s",
			       error);
	path = svc->set->auth_socket_path;
	if (path[0] != '/')
		path = p_strdup_printf(svc->pool, "%s/%s", svc->set->base_dir,
				       path);
	svc->master.path = path;
	doveadm_auth_info_init(&svc->info);
	svc->info.service = service;
	return svc;
}

void mail_service_deinit(struct mail_service **_svc)
{
	struct mail_service *svc = *_svc;

	if (svc == NULL)
		return;
	*_svc = NULL;
	doveadm_auth_master_close(&svc->master);
	svc->info.service = NULL;
	doveadm_auth_info_deinit(&svc->info);
	if (svc->auth != NULL)
		auth_deinit(&svc->auth);
	if (svc->auth_pool != NULL)
		pool_destroy(&svc->auth_pool);
	pool_destroy(&svc->pool);
	free(svc);
}

const struct settings_root *mail_service_get_set(struct mail_service *svc)
{
	return svc->set;
}

/* ---- userdb lookups ------------------------------------------------ */

/* Is an auth service listening? A missing socket or a refused connection
 * (a stopped server's leftover) means no: look the user up ourselves. */
static bool auth_socket_usable(const char *path)
{
	struct sockaddr_un sa;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return true;	/* let the real connect report it */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (ret < 0 && (errno == ENOENT || errno == ECONNREFUSED ||
			errno == ENOTDIR)) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

static int inproc_init(struct mail_service *svc, const char **error_r)
{
	struct config_filter filter;
	struct settings_root *set;

	if (svc->auth != NULL)
		return 0;
	memset(&filter, 0, sizeof(filter));
	filter.protocol = "auth";
	svc->auth_pool = pool_create("in-process auth", 16 * 1024);
	set = config_bind_filter(svc->auth_pool, svc->config, &filter,
				 error_r);
	if (set == NULL)
		return -1;
	if (auth_init(svc->auth_pool, NULL, set, &svc->auth, error_r) < 0) {
		*error_r = p_strdup_printf(svc->pool, "auth: %s", *error_r);
		return -1;
	}
	return 0;
}

struct inproc_result {
	bool done, found;
};

static void inproc_user_callback(struct auth_request *req, bool found)
{
	struct inproc_result *result = req->handler_context;

	result->done = true;
	result->found = found;
}

static void inproc_reply_unused(struct auth_request *req ATTR_UNUSED,
				const unsigned char *data ATTR_UNUSED,
				size_t size ATTR_UNUSED)
{
}

static void inproc_fail_unused(struct auth_request *req ATTR_UNUSED,
			       const char *code ATTR_UNUSED,
			       const char *reason ATTR_UNUSED)
{
}

static const struct auth_request_handler inproc_handler = {
	inproc_reply_unused, inproc_reply_unused, inproc_fail_unused
};

/* The userdb chain in this process: the same answer the auth service's
 * USER command gives. */
static int inproc_lookup(struct mail_service *svc, pool_t pool,
			 const char *username, const char **user_r,
			 ARRAY_STR *fields, const char **error_r)
{
	struct inproc_result result = { false, false };
	struct auth_request *req;
	const char *fixed, *error;

	if (inproc_init(svc, error_r) < 0)
		return -1;
	req = auth_request_new(svc->auth, NULL, &inproc_handler, &result);
	req->no_delay = true;
	req->no_penalty = true;
	auth_request_import(req, "service", svc->service);
	auth_request_set_user(req, username);
	fixed = auth_request_fix_username(req, username, &error);
	if (fixed == NULL) {
		auth_request_free(&req);
		return 0;
	}
	req->lookup.user = fixed;
	req->lookup.userdb_only = true;
	auth_request_lookup_user(req, inproc_user_callback);
	if (!result.done) {
		auth_request_free(&req);
		*error_r = "userdb lookup didn't finish";
		return -1;
	}
	if (result.found) {
		*user_r = p_strdup(pool, req->lookup.user);
		for (unsigned int i = 0; i < auth_fields_count(req->userdb_fields);
		     i++) {
			const char *key, *value;

			auth_fields_get_idx(req->userdb_fields, i, &key, &value);
			if (strncmp(key, "userdb_", 7) == 0)
				key += 7;
			else if (strcmp(key, "user") == 0)
				continue;
			array_push(fields, value == NULL ? p_strdup(pool, key) :
				   p_strdup_printf(pool, "%s=%s", key, value));
		}
	}
	auth_request_free(&req);
	return result.found ? 1 : 0;
}

static bool use_inproc(struct mail_service *svc)
{
	if (!svc->master_checked) {
		svc->master_checked = true;
		svc->use_inproc = !auth_socket_usable(svc->master.path);
		if (svc->use_inproc && svc->debug) {
			i_debug("auth-master: %s not listening, "
				"looking users up in this process",
				svc->master.path);
		}
	}
	return svc->use_inproc;
}

static int userdb_lookup(struct mail_service *svc, pool_t pool,
			 const char *username, const char **user_r,
			 ARRAY_STR *fields, const char **error_r)
{
	const char *new_user, *error;
	char **args, **reply;
	int ret;

	*user_r = username;
	if (use_inproc(svc))
		return inproc_lookup(svc, pool, username, user_r, fields,
				     error_r);
	ret = doveadm_auth_master_lookup(&svc->master, "USER", username,
					 &svc->info, &args, &new_user, &reply,
					 &error);
	if (ret < 0) {
		if (error == NULL) {
			error = p_strdup_printf(pool,
				"auth-master: userdb lookup(%s): %s", username,
				reply != NULL && reply[0] != NULL ?
				reply[0] : "Internal error");
		}
		*error_r = p_strdup(pool, error);
	} else if (ret > 0) {
		if (new_user != NULL)
			*user_r = p_strdup(pool, new_user);
		for (; *reply != NULL; reply++)
			array_push(fields, p_strdup(pool, *reply));
	}
	doveadm_auth_args_free(&args);
	return ret;
}

struct list_ctx {
	ARRAY_STR *users;
	const char *mask;
};

static void list_cb(const char *user, void *context)
{
	struct list_ctx *ctx = context;

	if (ctx->mask[0] == '\0' ||
	    doveadm_wildcard_match_icase(user, ctx->mask))
		array_push(ctx->users, i_strdup(user));
}

int mail_service_list_users(struct mail_service *svc, const char *mask,
			    ARRAY_STR *users, const char **error_r)
{
	struct list_ctx ctx = { users, mask };

	if (!use_inproc(svc)) {
		if (doveadm_auth_master_list(&svc->master,
					     mask[0] == '\0' ? "*" : mask,
					     &svc->info, list_cb, &ctx,
					     error_r) < 0) {
			*error_r = p_strdup_printf(svc->pool,
				"auth-master: userdb list: %s", *error_r);
			return -1;
		}
		return 0;
	}
	if (inproc_init(svc, error_r) < 0)
		return -1;
	for (unsigned int i = 0; i < svc->auth->userdb_count; i++) {
		struct userdb_module *m = svc->auth->userdbs[i].module;

		if (m->driver->iterate == NULL)
			continue;
		if (m->driver->iterate(m, list_cb, &ctx) < 0) {
			*error_r = "userdb list: Listing users failed";
			return -1;
		}
	}
	return 0;
}

bool doveadm_wildcard_match_icase(const char *str, const char *mask)
{
	while (*mask != '\0') {
		if (*mask == '*') {
			while (*mask == '*')
				mask++;
			if (*mask == '\0')
				return true;
			for (; *str != '\0'; str++) {
				if (doveadm_wildcard_match_icase(str, mask))
					return true;
			}
			return false;
		}
		if (*str == '\0' ||
		    (*mask != '?' && tolower((unsigned char)*mask) !=
		     tolower((unsigned char)*str)))
			return false;
		str++;
		mask++;
	}
	return *str == '\0';
}

static const char *field_get(const char *const *fields, const char *key)
{
	size_t len = strlen(key);

	for (; fields != NULL && *fields != NULL; fields++) {
		if (strncmp(*fields, key, len) == 0 && (*fields)[len] == '=')
			return *fields + len + 1;
	}
	return NULL;
}

int mail_service_lookup(struct mail_service *svc, const char *username,
			bool userdb_lookup_wanted,
			struct mail_service_user **user_r,
			const char **error_r)
{
	pool_t pool = pool_create("mail service user", 4096);
	struct mail_service_user *user = p_new(pool, struct mail_service_user, 1);
	ARRAY_STR fields = ARRAY_INIT;
	const char *real_user = username, *error;
	const char **fv;
	int ret = 1;

	user->pool = pool;
	if (userdb_lookup_wanted) {
		ret = userdb_lookup(svc, pool, username, &real_user, &fields,
				    &error);
		if (ret <= 0) {
			if (ret < 0)
				*error_r = p_strdup_printf(svc->pool,
					"User lookup failed: %s", error);
			array_free(&fields);
			pool_destroy(&pool);
			return ret;
		}
	}
	fv = p_new(pool, const char *, fields.count + 1);
	for (size_t i = 0; i < fields.count; i++)
		fv[i] = fields.v[i];
	array_free(&fields);
	user->username = p_strdup(pool, real_user);
	user->fields = fv;
	user->set = service_bind(svc, pool, fv, &error);
	if (user->set == NULL) {
		*error_r = p_strdup_printf(svc->pool,
			"Failed to set userdb settings: %s", error);
		pool_destroy(&pool);
		return -1;
	}
	user->info.username = user->username;
	user->info.home = field_get(fv, "home");
	if (!userdb_lookup_wanted && user->info.home == NULL)
		user->info.home = getenv("HOME");
	user->info.fields = fv;
	*user_r = user;
	return 1;
}

/* ---- privileges ---------------------------------------------------- */

static int parse_gid_name(const char *name, gid_t *gid_r)
{
	struct group *gr;
	char *end;
	unsigned long n;

	n = strtoul(name, &end, 10);
	if (*name != '\0' && *end == '\0') {
		*gid_r = (gid_t)n;
		return 0;
	}
	errno = 0;
	gr = getgrnam(name);
	if (gr == NULL)
		return -1;
	*gid_r = gr->gr_gid;
	return 0;
}

/* uid/gid from the userdb, else from mail_uid/mail_gid, else ours when
 * not root. */
static int user_get_ids(struct mail_service_user *user,
			const char **uid_source_r, const char **gid_source_r,
			const char **error_r)
{
	const struct settings_root *set = user->set;
	const char *uid = field_get(user->fields, "uid");
	const char *gid = field_get(user->fields, "gid");
	uid_t u;
	gid_t g;

	*uid_source_r = "userdb lookup";
	*gid_source_r = "userdb lookup";
	if (uid == NULL && set->mail_uid[0] != '\0') {
		uid = set->mail_uid;
		*uid_source_r = "mail_uid setting";
	}
	if (gid == NULL && set->mail_gid[0] != '\0') {
		gid = set->mail_gid;
		*gid_source_r = "mail_gid setting";
	}
	if (uid == NULL) {
		if (geteuid() == 0) {
			*error_r = "User is missing UID (see mail_uid setting)";
			return -1;
		}
		u = geteuid();
	} else if (userdb_parse_uid(uid, &u) < 0) {
		*error_r = doveadm_tmp_printf("Unknown UID value: %s", uid);
		return -1;
	}
	if (gid == NULL) {
		if (geteuid() == 0) {
			*error_r = "User is missing GID (see mail_gid setting)";
			return -1;
		}
		g = getegid();
	} else if (parse_gid_name(gid, &g) < 0) {
		*error_r = doveadm_tmp_printf("Unknown GID value: %s", gid);
		return -1;
	}
	user->info.uid = u;
	user->info.gid = g;
	return 0;
}

/* The supplementary groups: the primary gid, mail_access_groups and the
 * system groups of system_groups_user. */
static int user_groups(struct mail_service_user *user, gid_t *groups,
		       int *count_r, const char **error_r)
{
	const char *sgu = field_get(user->fields, "system_groups_user");
	const char *access = user->set->mail_access_groups;
	int count = 0;

	groups[count++] = user->info.gid;
	if (sgu != NULL) {
		int n = MAX_GROUPS - 1;

		if (getgrouplist(sgu, user->info.gid, groups + 1, &n) < 0) {
			*error_r = doveadm_tmp_printf(
				"getgrouplist(%s) failed: too many groups", sgu);
			return -1;
		}
		count = n + 1;
	}
	while (access != NULL && *access != '\0') {
		size_t len = strcspn(access, ", ");
		char *name = i_strndup(access, len);
		gid_t g;

		if (len > 0) {
			if (parse_gid_name(name, &g) < 0) {
				*error_r = doveadm_tmp_printf(
					"Unknown mail_access_groups group: %s",
					name);
				free(name);
				return -1;
			}
			if (count < MAX_GROUPS)
				groups[count++] = g;
		}
		free(name);
		access += len;
		access += strspn(access, ", ");
	}
	*count_r = count;
	return 0;
}

static int drop_privileges(struct mail_service *svc,
			   struct mail_service_user *user, bool temp,
			   const char **error_r)
{
	uid_t uid = user->info.uid;
	gid_t gid = user->info.gid, priv_gid = gid;
	gid_t groups[MAX_GROUPS];
	int count;

	if (geteuid() != 0) {
		/* we can only be who we are */
		if (uid != geteuid() || (gid != getegid() &&
					 setegid(gid) < 0)) {
			*error_r = doveadm_tmp_printf(
				"setreuid(%u, %u) failed with euid=%u: %s "
				"(This binary should probably be called with "
				"process user set to %u:%u instead of %u:%u)",
				(unsigned)uid, (unsigned)uid,
				(unsigned)geteuid(), strerror(EPERM),
				(unsigned)uid, (unsigned)gid,
				(unsigned)geteuid(), (unsigned)getegid());
			return -1;
		}
		return 0;
	}
	if (user_groups(user, groups, &count, error_r) < 0)
		return -1;
	if (user->set->mail_privileged_group[0] != '\0' &&
	    parse_gid_name(user->set->mail_privileged_group, &priv_gid) < 0) {
		*error_r = doveadm_tmp_printf(
			"Unknown mail_privileged_group: %s",
			user->set->mail_privileged_group);
		return -1;
	}
	if (temp) {
		svc->saved_group_count = getgroups(MAX_GROUPS,
						   svc->saved_groups);
		if (svc->saved_group_count < 0)
			svc->saved_group_count = 0;
		if (setgroups((size_t)count, groups) < 0 ||
		    setegid(gid) < 0 || seteuid(uid) < 0) {
			*error_r = doveadm_tmp_printf(
				"Couldn't drop privileges: %s", strerror(errno));
			return -1;
		}
		svc->temp_dropped = true;
		return 0;
	}
	/* for good: the privileged group stays as the saved gid, so that
	   dotlocking in a group-writable spool can switch to it */
	if (setgroups((size_t)count, groups) < 0 ||
	    setresgid(gid, gid, priv_gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		*error_r = doveadm_tmp_printf(
			"Couldn't drop privileges: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void restore_privileges(struct mail_service *svc)
{
	if (!svc->temp_dropped)
		return;
	svc->temp_dropped = false;
	if (seteuid(0) < 0 || setegid(0) < 0 ||
	    setgroups((size_t)svc->saved_group_count, svc->saved_groups) < 0)
		i_fatal("Couldn't restore privileges: %m");
}

int mail_service_user_init(struct mail_service *svc,
			   struct mail_service_user *user, bool temp_drop,
			   bool allow_root, struct mail_user **mail_user_r,
			   const char **error_r)
{
	const struct settings_root *set = user->set;
	const char *uid_source, *gid_source, *error;

	if (user_get_ids(user, &uid_source, &gid_source, &error) < 0) {
		*error_r = doveadm_tmp_printf("Couldn't drop privileges: %s",
						  error);
		return -1;
	}
	if (user->info.uid == 0 && !allow_root) {
		*error_r = "Mail access not allowed for root";
		return -1;
	}
	if (user->info.uid < set->first_valid_uid ||
	    (set->last_valid_uid != 0 && user->info.uid > set->last_valid_uid)) {
		*error_r = doveadm_tmp_printf(
			"Mail access for users with UID %u not permitted "
			"(see %s in config file, uid from %s).",
			(unsigned)user->info.uid,
			user->info.uid < set->first_valid_uid ?
			"first_valid_uid" : "last_valid_uid", uid_source);
		return -1;
	}
	if (user->info.gid < set->first_valid_gid ||
	    (set->last_valid_gid != 0 && user->info.gid > set->last_valid_gid)) {
		*error_r = doveadm_tmp_printf(
			"Mail access for users with GID %u not permitted "
			"(see %s in config file, gid from %s).",
			(unsigned)user->info.gid,
			user->info.gid < set->first_valid_gid ?
			"first_valid_gid" : "last_valid_gid", gid_source);
		return -1;
	}
	if (drop_privileges(svc, user, temp_drop, &error) < 0) {
		*error_r = error;
		return -1;
	}
	if (user->info.home != NULL && user->info.home[0] != '\0' &&
	    chdir(user->info.home) < 0 && errno != ENOENT &&
	    errno != EACCES && svc->debug)
		i_debug("chdir(%s) failed: %m", user->info.home);
	if (mail_user_init(set, &user->info, mail_user_r, &error) < 0) {
		*error_r = doveadm_tmp_printf("%s", error);
		free((char *)error);	/* mail_user_init's is allocated */
		restore_privileges(svc);
		return -1;
	}
	return 0;
}

void mail_service_user_free(struct mail_service *svc,
			    struct mail_service_user **_user,
			    struct mail_user **mail_user)
{
	struct mail_service_user *user = *_user;

	if (mail_user != NULL && *mail_user != NULL)
		mail_user_deinit(mail_user);
	restore_privileges(svc);
	if (user == NULL)
		return;
	*_user = NULL;
	pool_destroy(&user->pool);
}

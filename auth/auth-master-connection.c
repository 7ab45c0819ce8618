/* auth-master-connection.c - USER/PASS/LIST/REQUEST for delivery,
 * doveadm and the login processes' masters. */
#include "auth-master-connection.h"
#include "auth-client-connection.h"
#include "auth-request.h"
#include "auth-fields.h"
#include "auth-cache.h"
#include "connection.h"
#include "str.h"

#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define AUTH_MASTER_MAX_LINE (16 * 1024)
#define AUTH_MASTER_MAX_OUTPUT (4 * 1024 * 1024)

struct master_request {
	struct master_request *prev, *next;
	struct auth_master_connection *conn;
	struct auth_request *req;
	unsigned int id;
	bool pass;	/* PASS rather than USER/REQUEST */
};

struct auth_master_connection {
	struct auth_master_connection *prev, *next;
	struct auth *auth;
	struct connection *conn;
	bool userdb_only, version_received;
	uint64_t created_msecs, handshake_msecs;
	struct master_request *requests;
};

static struct auth_master_connection *masters;

static void send_str(struct auth_master_connection *master, string_t *str)
{
	str_append_c(str, '\n');
	connection_send(master->conn, str_c(str), str_len(str));
}

/* Send a reply, logged as Dovecot's auth_debug does ("userdb out: ",
 * "master userdb out: ", "passdb out: "). */
static void send_reply(struct auth_master_connection *master,
		       const char *what, string_t *str)
{
	if (master->auth->set->auth_debug)
		i_debug("%s: %s", what, str_c(str));
	str_append_c(str, '\n');
	connection_send(master->conn, str_c(str), str_len(str));
}

static void append_fields(string_t *str, const struct auth_fields *f,
			  bool strip_userdb_prefix)
{
	for (unsigned int i = 0; i < auth_fields_count(f); i++) {
		const char *key, *value;

		auth_fields_get_idx(f, i, &key, &value);
		if (strip_userdb_prefix) {
			if (strncmp(key, "userdb_", 7) == 0)
				key += 7;
			else if (strcmp(key, "user") == 0)
				continue;
		} else if (strncmp(key, "userdb_", 7) == 0 ||
			   strcmp(key, "password") == 0) {
			continue;
		}
		str_append_c(str, '\t');
		auth_str_append_tabescaped(str, key);
		if (value != NULL) {
			str_append_c(str, '=');
			auth_str_append_tabescaped(str, value);
		}
	}
}

static void master_request_free(struct master_request *mreq)
{
	struct auth_master_connection *master = mreq->conn;

	if (mreq->prev != NULL)
		mreq->prev->next = mreq->next;
	else
		master->requests = mreq->next;
	if (mreq->next != NULL)
		mreq->next->prev = mreq->prev;
	auth_request_free(&mreq->req);
	free(mreq);
}

static struct master_request *
master_request_add(struct auth_master_connection *master, unsigned int id)
{
	struct master_request *mreq = i_new(struct master_request, 1);

	mreq->conn = master;
	mreq->id = id;
	mreq->next = master->requests;
	if (master->requests != NULL)
		master->requests->prev = mreq;
	master->requests = mreq;
	return mreq;
}

/* ---- USER and REQUEST ---- */

static void user_callback(struct auth_request *req, bool found)
{
	struct master_request *mreq = req->handler_context;
	string_t *str = str_new(256);

	if (!found) {
		str_printfa(str, "NOTFOUND\t%u", mreq->id);
	} else {
		str_printfa(str, "USER\t%u\t", mreq->id);
		auth_str_append_tabescaped(str, req->lookup.user);
		size_t len = str_len(str);

		append_fields(str, req->userdb_fields, true);
		if (req->master_user != NULL) {
			str_append(str, "\tmaster_user=");
			auth_str_append_tabescaped(str, req->master_user);
		}
		if (req->mech != NULL)
			str_printfa(str, "\tauth_mech=%s", req->mech->name);
		/* who authenticated, when it isn't the user */
		const char *auth_user = req->master_user != NULL ?
			req->master_user : auth_request_original_user(req);
		if (req->mech != NULL && auth_user != NULL) {
			str_append(str, "\tauth_user=");
			auth_str_append_tabescaped(str, auth_user);
		}
		/* Dovecot always separates the (possibly empty) fields */
		if (str_len(str) == len)
			str_append_c(str, '\t');
	}
	send_reply(mreq->conn, req->mech != NULL ? "master userdb out" :
		   "userdb out", str);
	str_free(&str);
	master_request_free(mreq);
}

static void import_params(struct auth_request *req, char **args,
			  unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		char *eq = strchr(args[i], '=');

		if (eq != NULL)
			*eq = '\0';
		auth_request_import(req, args[i], eq == NULL ? NULL :
				    auth_tabunescape(req->pool, eq + 1));
	}
}

static void pass_success(struct auth_request *req,
			 const unsigned char *data ATTR_UNUSED,
			 size_t size ATTR_UNUSED)
{
	struct master_request *mreq = req->handler_context;
	string_t *str = str_new(256);

	str_printfa(str, "PASS\t%u\tuser=", mreq->id);
	auth_str_append_tabescaped(str, req->lookup.user);
	auth_append_public_fields(str, req->lookup.extra_fields);
	send_reply(mreq->conn, "passdb out", str);
	str_free(&str);
	master_request_free(mreq);
}

static void pass_fail(struct auth_request *req, const char *code ATTR_UNUSED,
		      const char *reason)
{
	struct master_request *mreq = req->handler_context;
	string_t *str = str_new(128);

	if (req->passdb_result == PASSDB_RESULT_USER_UNKNOWN ||
	    req->passdb_result == PASSDB_RESULT_USER_DISABLED) {
		str_printfa(str, "NOTFOUND\t%u", mreq->id);
	} else {
		str_printfa(str, "FAIL\t%u", mreq->id);
		if (reason != NULL) {
			str_append(str, "\treason=");
			auth_str_append_tabescaped(str, reason);
		}
	}
	send_reply(mreq->conn, "passdb out", str);
	str_free(&str);
	master_request_free(mreq);
}

static void pass_continue(struct auth_request *req,
			  const unsigned char *data ATTR_UNUSED,
			  size_t size ATTR_UNUSED)
{
	pass_fail(req, NULL, "unexpected continue");
}

static const struct auth_request_handler master_handler = {
	.reply_continue = pass_continue,
	.reply_success = pass_success,
	.reply_fail = pass_fail,
};

static struct auth_request *
master_new_request(struct auth_master_connection *master,
		   struct master_request *mreq, const char *user,
		   char **params, unsigned int count, const char **error_r)
{
	struct auth_request *req =
		auth_request_new(master->auth, NULL, &master_handler, mreq);
	const char *fixed;

	req->no_delay = true;
	req->no_penalty = true;
	import_params(req, params, count);
	auth_request_set_user(req, user);
	fixed = auth_request_fix_username(req, user, error_r);
	if (fixed == NULL) {
		auth_request_free(&req);
		return NULL;
	}
	req->lookup.user = fixed;
	return req;
}

static bool master_bug(struct auth_master_connection *master,
		       const char *line)
{
	pool_t pool = pool_create("master bug", 256);
	char *copy = p_strndup(pool, line, MIN(strlen(line), 160));
	uint64_t now = io_loop_time_msecs();

	for (char *p = copy; *p != '\0'; p++) {
		if ((unsigned char)*p < 32)
			*p = '?';
	}
	i_error("auth-master client: BUG: Unknown command in %s socket: %s "
		"(created %llu msecs ago, handshake %llu msecs ago)",
		master->userdb_only ? "userdb" : "master", copy,
		(unsigned long long)(now - master->created_msecs),
		(unsigned long long)(now - master->handshake_msecs));
	pool_destroy(&pool);
	return false;
}

/* collects "LIST\t<user>\n" lines; the id is inserted when sending */
static void list_callback(const char *user, void *context)
{
	string_t *str = context;

	str_append(str, "LIST\t");
	auth_str_append_tabescaped(str, user);
	str_append_c(str, '\n');
}

static void master_list(struct auth_master_connection *master,
			unsigned int id)
{
	struct auth *auth = master->auth;
	string_t *str = str_new(1024);
	string_t *prefix = str_new(32);

	str_printfa(prefix, "%u\t", id);
	for (unsigned int i = 0; i < auth->userdb_count; i++) {
		struct userdb_module *m = auth->userdbs[i].module;
		string_t *users = str_new(1024);

		if (m->driver->iterate == NULL ||
		    m->driver->iterate(m, list_callback, users) < 0) {
			str_free(&users);
			continue;
		}
		/* insert the id after each "LIST\t" */
		for (const char *p = str_c(users); *p != '\0';) {
			const char *nl = strchr(p, '\n');

			str_append(str, "LIST\t");
			str_append_str(str, prefix);
			str_append_n(str, p + 5, (size_t)(nl - p - 5));
			str_append_c(str, '\n');
			p = nl + 1;
		}
		str_free(&users);
	}
	str_printfa(str, "DONE\t%u\t\n", id);
	connection_send(master->conn, str_c(str), str_len(str));
	str_free(&str);
	str_free(&prefix);
}

static bool has_service(char **params, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		if (strncmp(params[i], "service=", 8) == 0 &&
		    params[i][8] != '\0')
			return true;
	}
	return false;
}

/* REQUEST's optional session_pid= must be the master peer's own pid, as
 * the kernel reports it (Dovecot refuses a mismatch). */
static bool session_pid_ok(struct auth_master_connection *master,
			   char **params, unsigned int count,
			   unsigned int client_pid, unsigned int client_id,
			   const char **error_r)
{
	static char errbuf[256];
	struct ucred cred;
	socklen_t len = sizeof(cred);

	for (unsigned int i = 0; i < count; i++) {
		unsigned long pid;

		if (strncmp(params[i], "session_pid=", 12) != 0)
			continue;
		pid = strtoul(params[i] + 12, NULL, 10);
		if (getsockopt(master->conn->fd, SOL_SOCKET, SO_PEERCRED,
			       &cred, &len) < 0 || (pid_t)pid != cred.pid) {
			snprintf(errbuf, sizeof(errbuf), "Session pid %lu "
				 "provided by master for request %u.%u did not "
				 "match peer credentials (pid=%d, uid=%d)", pid,
				 client_pid, client_id, (int)cred.pid,
				 (int)cred.uid);
			*error_r = errbuf;
			return false;
		}
	}
	return true;
}

/* CACHE-FLUSH id [user ...]: drop the whole auth cache or these users'
 * entries; the reply counts them (0 when the cache is off). */
static bool master_cache_flush(struct auth_master_connection *master,
			       char **args, unsigned int count)
{
	struct auth_cache *cache = master->auth->cache;
	unsigned int flushed = 0;
	string_t *str;

	if (count < 2) {
		i_error("BUG: doveadm sent broken CACHE-FLUSH");
		return false;
	}
	if (cache != NULL && count == 2) {
		flushed = auth_cache_clear(cache);
	} else if (cache != NULL) {
		pool_t pool = pool_create("cache flush", 256);
		const char **users = p_new(pool, const char *, count - 1);

		for (unsigned int i = 2; i < count; i++)
			users[i - 2] = auth_tabunescape(pool, args[i]);
		flushed = auth_cache_clear_users(cache, users);
		pool_destroy(&pool);
	}
	str = str_new(64);
	/* the id goes back as it came (still escaped) */
	str_printfa(str, "OK\t%s\t%u", args[1], flushed);
	send_str(master, str);
	str_free(&str);
	return true;
}

/* USER id user [params] (userdb) or PASS id user [params] (passdb
 * without a password check). */
static void master_lookup(struct auth_master_connection *master,
			  char **args, unsigned int count, bool pass)
{
	struct master_request *mreq = master_request_add(master,
		(unsigned int)strtoul(args[1], NULL, 10));
	const char *error;

	mreq->pass = pass;
	mreq->req = master_new_request(master, mreq, args[2], args + 3,
				       count - 3, &error);
	if (mreq->req == NULL) {
		/* a name the username rules refuse is nobody */
		string_t *str = str_new(64);

		str_printfa(str, "NOTFOUND\t%u", mreq->id);
		send_reply(master, pass ? "passdb out" : "userdb out", str);
		str_free(&str);
		master_request_free(mreq);
	} else if (pass) {
		auth_request_verify_plain_direct(mreq->req, NULL);
	} else {
		mreq->req->lookup.userdb_only = true;
		auth_request_lookup_user(mreq->req, user_callback);
	}
}

static bool master_input_line(struct connection *conn, char *line)
{
	struct auth_master_connection *master = conn->context;
	char *orig = i_strdup(line), *args[64];
	unsigned int count = auth_split_tabs(line, args, N_ELEMENTS(args));
	struct master_request *mreq;
	const char *error;
	bool ret = true;

	if (master->version_received && master->auth->set->auth_debug)
		i_debug("master in: %s", orig);
	if (!master->version_received) {
		if (count < 2 || strcmp(args[0], "VERSION") != 0 ||
		    strcmp(args[1], "1") != 0) {
			i_error("Authentication master not compatible with "
				"this server (mixed old and new binaries?)");
			ret = false;
		} else {
			master->version_received = true;
			master->handshake_msecs = io_loop_time_msecs();
		}
	} else if ((strcmp(args[0], "USER") == 0 ||
		    strcmp(args[0], "PASS") == 0) && count >= 3) {
		if (!has_service(args + 3, count - 3)) {
			i_error("BUG: Master sent %s request without service",
				args[0]);
			ret = false;
		} else {
			master_lookup(master, args, count,
				      args[0][0] == 'P');
		}
	} else if (strcmp(args[0], "CACHE-FLUSH") == 0 &&
		   !master->userdb_only) {
		ret = master_cache_flush(master, args, count);
	} else if (strcmp(args[0], "LIST") == 0 && count >= 2) {
		master_list(master, (unsigned int)strtoul(args[1], NULL, 10));
	} else if (strcmp(args[0], "REQUEST") == 0 && count >= 5 &&
		   !master->userdb_only) {
		unsigned int id = (unsigned int)strtoul(args[1], NULL, 10);
		unsigned int client_pid =
			(unsigned int)strtoul(args[2], NULL, 10);
		unsigned int client_id =
			(unsigned int)strtoul(args[3], NULL, 10);
		struct auth_request *req = NULL;

		if (session_pid_ok(master, args + 5, count - 5, client_pid,
				   client_id, &error))
			req = auth_client_request_claim(client_pid, client_id,
							args[4], &error);

		if (req == NULL) {
			string_t *str = str_new(64);
			uint64_t now = io_loop_time_msecs();

			i_error("auth-master client: %s (created %llu msecs "
				"ago, handshake %llu msecs ago)", error,
				(unsigned long long)(now -
						     master->created_msecs),
				(unsigned long long)(now -
						     master->handshake_msecs));
			str_printfa(str, "FAIL\t%u", id);
			send_reply(master, "master userdb out", str);
			str_free(&str);
		} else {
			mreq = master_request_add(master, id);
			mreq->req = req;
			req->handler = &master_handler;
			req->handler_context = mreq;
			auth_request_lookup_user(req, user_callback);
		}
	} else {
		ret = master_bug(master, orig);
	}
	free(orig);
	if (!ret) {
		auth_master_connection_destroy(&master);
		return false;
	}
	return true;
}

static void master_disconnected(struct connection *conn,
				const char *reason ATTR_UNUSED)
{
	struct auth_master_connection *master = conn->context;

	auth_master_connection_destroy(&master);
}

static const struct connection_vfuncs master_vfuncs = {
	.input_line = master_input_line,
	.disconnected = master_disconnected,
};

struct auth_master_connection *
auth_master_connection_create(struct auth *auth, int fd, bool userdb_only)
{
	struct auth_master_connection *master =
		i_new(struct auth_master_connection, 1);

	master->auth = auth;
	master->userdb_only = userdb_only;
	master->created_msecs = io_loop_time_msecs();
	master->conn = connection_create(auth->loop, fd, AUTH_MASTER_MAX_LINE,
					 AUTH_MASTER_MAX_OUTPUT,
					 &master_vfuncs, master);
	master->next = masters;
	if (masters != NULL)
		masters->prev = master;
	masters = master;
	/* Dovecot greets with both lines without waiting */
	string_t *str = str_new(64);

	str_printfa(str, "VERSION\t1\t1\nSPID\t%d\n", (int)getpid());
	connection_send(master->conn, str_c(str), str_len(str));
	str_free(&str);
	return master;
}

void auth_master_connection_destroy(struct auth_master_connection **_master)
{
	struct auth_master_connection *master = *_master;

	*_master = NULL;
	if (master->prev != NULL)
		master->prev->next = master->next;
	else
		masters = master->next;
	if (master->next != NULL)
		master->next->prev = master->prev;
	while (master->requests != NULL)
		master_request_free(master->requests);
	connection_free(&master->conn);
	free(master);
}

void auth_master_connections_destroy_all(void)
{
	while (masters != NULL) {
		struct auth_master_connection *m = masters;

		auth_master_connection_destroy(&m);
	}
}

/* auth-worker.c - the worker processes and their line protocol over a
 * socketpair:
 *   request: ID OP DB USER PASSWORD SERVICE LIP RIP SESSION MECH [k=v ...]
 *            (PASSW: the cached password in place of the k=v fields)
 *   reply:   ID RESULT PASSWORD SCHEME LOG_REASON FLAGS [k=v ...]
 * fields TAB-separated and tab-escaped. FLAGS "exit": the worker quits
 * after this reply (service_count reached, pam max_requests). */
#include "auth-worker.h"
#include "password-scheme.h"
#include "connection.h"
#include "str.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKER_MAX_LINE (64 * 1024)

struct worker_call {
	struct worker_call *next;
	unsigned int id;
	struct auth_request *req;	/* NULL once cancelled */
	auth_worker_callback_t *callback;
	char *line;	/* the request, sent when a worker is free */
};

struct auth_worker {
	struct auth_worker_pool *pool;
	struct connection *conn;
	pid_t pid;
	struct worker_call *busy;	/* the one call in progress */
	bool exiting;	/* said it quits: gets no more calls */
};

struct auth_worker_pool {
	struct auth *auth;
	unsigned int max_count;
	struct auth_worker **workers;
	unsigned int count;
	struct worker_call *queue, **queue_tail;
	unsigned int next_id;
	/* service auth-worker { service_count }: requests per process */
	unsigned int service_count;
};

static void worker_dispatch(struct auth_worker_pool *pool);
static struct auth_worker *worker_spawn(struct auth_worker_pool *pool);
static unsigned int worker_live_count(struct auth_worker_pool *pool);

static void append_field(string_t *str, const char *value)
{
	pool_t pool = pool_create("worker escape", 256);

	str_append_c(str, '\t');
	if (value != NULL)
		str_append(str, auth_tabescape(pool, value));
	pool_destroy(&pool);
}

/* Split a line on TABs and unescape each field, in place. */
static unsigned int split_fields(pool_t pool, char *line, const char **fields,
				 unsigned int max)
{
	unsigned int n = 0;
	char *p = line;

	while (n < max) {
		char *tab = strchr(p, '\t');

		if (tab != NULL)
			*tab = '\0';
		fields[n++] = auth_tabunescape(pool, p);
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	return n;
}

static void append_extra_fields(string_t *str, const struct auth_fields *f)
{
	for (unsigned int i = 0; i < auth_fields_count(f); i++) {
		const char *key, *value;
		char *kv;

		auth_fields_get_idx(f, i, &key, &value);
		if (value == NULL) {
			append_field(str, key);
			continue;
		}
		kv = i_strdup_printf("%s=%s", key, value);
		append_field(str, kv);
		free(kv);
	}
}

static void call_free(struct worker_call *call)
{
	if (call->line != NULL) {
		explicit_bzero(call->line, strlen(call->line));
		free(call->line);
	}
	free(call);
}

/* ---- the service side ---- */

static void worker_destroy(struct auth_worker *worker, const char *reason)
{
	struct auth_worker_pool *pool = worker->pool;

	for (unsigned int i = 0; i < pool->count; i++) {
		if (pool->workers[i] == worker) {
			pool->workers[i] = pool->workers[--pool->count];
			break;
		}
	}
	if (worker->busy != NULL) {
		struct worker_call *call = worker->busy;

		i_error("auth-worker(%d): %s while handling a request",
			(int)worker->pid, reason == NULL ? "exited" : reason);
		if (call->req != NULL) {
			call->req->lookup.log_reason =
				"auth worker died";
			call->callback(call->req, PASSDB_RESULT_INTERNAL_FAILURE);
		}
		call_free(call);
	}
	connection_free(&worker->conn);
	(void)kill(worker->pid, SIGTERM);
	(void)waitpid(worker->pid, NULL, 0);
	free(worker);
	worker_dispatch(pool);
}

static bool worker_input_line(struct connection *conn, char *line)
{
	struct auth_worker *worker = conn->context;
	struct worker_call *call = worker->busy;
	pool_t tmp = pool_create("worker reply", 1024);
	const char *fields[256];
	unsigned int n = split_fields(tmp, line, fields, N_ELEMENTS(fields));
	struct auth_request *req;

	if (call == NULL || n < 6 || (unsigned int)atoi(fields[0]) != call->id) {
		pool_destroy(&tmp);
		worker_destroy(worker, "sent an unexpected reply");
		return false;
	}
	worker->busy = NULL;
	if (strcmp(fields[5], "exit") == 0)
		worker->exiting = true;
	req = call->req;
	if (req != NULL) {
		struct auth_lookup *l = &req->lookup;

		if (fields[2][0] != '\0')
			l->password = p_strdup(req->pool, fields[2]);
		if (fields[3][0] != '\0')
			l->default_scheme = p_strdup(req->pool, fields[3]);
		if (fields[4][0] != '\0')
			l->log_reason = p_strdup(req->pool, fields[4]);
		for (unsigned int i = 6; i < n; i++) {
			const char *eq = strchr(fields[i], '=');

			if (eq == NULL)
				auth_fields_set(l->extra_fields,
						p_strdup(req->pool, fields[i]),
						NULL);
			else
				auth_fields_set(l->extra_fields,
					p_strndup(req->pool, fields[i],
						  (size_t)(eq - fields[i])),
					p_strdup(req->pool, eq + 1));
		}
		call->callback(req, atoi(fields[1]));
	}
	pool_destroy(&tmp);
	call_free(call);
	worker_dispatch(worker->pool);
	return true;
}

static void worker_disconnected(struct connection *conn, const char *reason)
{
	struct auth_worker *worker = conn->context;
	struct auth_worker_pool *pool = worker->pool;
	bool retired = worker->exiting && worker->busy == NULL;

	/* a worker that said it quits and has nothing pending just goes;
	   like Dovecot's auth, start its successor right away */
	worker_destroy(worker, retired ? NULL : reason);
	if (retired && worker_live_count(pool) == 0)
		(void)worker_spawn(pool);
}

static const struct connection_vfuncs worker_vfuncs = {
	.input_line = worker_input_line,
	.disconnected = worker_disconnected,
};

static void worker_process_main(struct auth *auth, int fd,
				unsigned int service_count);

static struct auth_worker *worker_spawn(struct auth_worker_pool *pool)
{
	struct auth_worker *worker;
	int fds[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
		i_error("socketpair() failed: %s", strerror(errno));
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		i_error("fork() failed: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		close(fds[0]);
		worker_process_main(pool->auth, fds[1], pool->service_count);
		_exit(0);
	}
	close(fds[1]);
	worker = i_new(struct auth_worker, 1);
	worker->pool = pool;
	worker->pid = pid;
	worker->conn = connection_create(pool->auth->loop, fds[0],
					 WORKER_MAX_LINE, 1024 * 1024,
					 &worker_vfuncs, worker);
	pool->workers = i_reallocarray(pool->workers, pool->count + 1,
				       sizeof(*pool->workers));
	pool->workers[pool->count++] = worker;
	return worker;
}


/* Workers not on their way out. */
static unsigned int worker_live_count(struct auth_worker_pool *pool)
{
	unsigned int count = 0;

	for (unsigned int i = 0; i < pool->count; i++) {
		if (!pool->workers[i]->exiting)
			count++;
	}
	return count;
}

static void worker_dispatch(struct auth_worker_pool *pool)
{
	while (pool->queue != NULL) {
		struct auth_worker *idle = NULL;
		struct worker_call *call = pool->queue;

		for (unsigned int i = 0; i < pool->count; i++) {
			if (pool->workers[i]->busy == NULL &&
			    !pool->workers[i]->exiting) {
				idle = pool->workers[i];
				break;
			}
		}
		if (idle == NULL && worker_live_count(pool) < pool->max_count)
			idle = worker_spawn(pool);
		if (idle == NULL)
			return;
		pool->queue = call->next;
		if (pool->queue == NULL)
			pool->queue_tail = &pool->queue;
		if (call->req == NULL) {
			call_free(call);
			continue;
		}
		idle->busy = call;
		connection_send_str(idle->conn, call->line);
	}
}

struct auth_worker_pool *auth_worker_pool_create(struct auth *auth,
						 unsigned int max_count)
{
	struct auth_worker_pool *pool = i_new(struct auth_worker_pool, 1);

	pool->auth = auth;
	pool->max_count = max_count == 0 ? 1 : max_count;
	pool->queue_tail = &pool->queue;
	for (unsigned int i = 0; i < auth->set->service_count; i++) {
		const struct settings_service *svc = auth->set->service[i];

		if (strcmp(svc->name, "auth-worker") == 0)
			pool->service_count = svc->service_count;
	}
	return pool;
}

void auth_worker_pool_destroy(struct auth_worker_pool **_pool)
{
	struct auth_worker_pool *pool = *_pool;

	*_pool = NULL;
	while (pool->count > 0) {
		struct auth_worker *w = pool->workers[0];

		pool->queue = NULL;
		worker_destroy(w, "shutting down");
	}
	while (pool->queue != NULL) {
		struct worker_call *next = pool->queue->next;

		call_free(pool->queue);
		pool->queue = next;
	}
	free(pool->workers);
	free(pool);
}

void auth_worker_call(struct auth_worker_pool *pool, struct auth_request *req,
		      enum auth_worker_op op, unsigned int db_idx,
		      const char *password, auth_worker_callback_t *callback)
{
	struct worker_call *call = i_new(struct worker_call, 1);
	const struct auth_lookup *l = &req->lookup;
	string_t *str = str_new(256);

	call->id = ++pool->next_id;
	call->req = req;
	call->callback = callback;
	str_printfa(str, "%u\t%d\t%u", call->id, (int)op, db_idx);
	append_field(str, l->user);
	append_field(str, password);
	append_field(str, l->service);
	append_field(str, l->local_ip);
	append_field(str, l->remote_ip);
	append_field(str, l->session_id);
	append_field(str, l->mech);
	append_extra_fields(str, l->extra_fields);
	str_append_c(str, '\n');
	call->line = str_free_without_data(&str);
	*pool->queue_tail = call;
	pool->queue_tail = &call->next;
	worker_dispatch(pool);
}

void auth_worker_verify_cached(struct auth_worker_pool *pool,
			       struct auth_request *req, unsigned int db_idx,
			       const char *plain, const char *cached,
			       auth_worker_callback_t *callback)
{
	struct worker_call *call = i_new(struct worker_call, 1);
	const struct auth_lookup *l = &req->lookup;
	string_t *str = str_new(256);

	call->id = ++pool->next_id;
	call->req = req;
	call->callback = callback;
	str_printfa(str, "%u\t%d\t%u", call->id, (int)AUTH_WORKER_PASSW,
		    db_idx);
	append_field(str, l->user);
	append_field(str, plain);
	append_field(str, l->service);
	append_field(str, l->local_ip);
	append_field(str, l->remote_ip);
	append_field(str, l->session_id);
	append_field(str, l->mech);
	append_field(str, cached);
	str_append_c(str, '\n');
	call->line = str_free_without_data(&str);
	*pool->queue_tail = call;
	pool->queue_tail = &call->next;
	worker_dispatch(pool);
}

void auth_worker_cancel(struct auth_worker_pool *pool,
			struct auth_request *req)
{
	for (struct worker_call *c = pool->queue; c != NULL; c = c->next) {
		if (c->req == req)
			c->req = NULL;
	}
	for (unsigned int i = 0; i < pool->count; i++) {
		if (pool->workers[i]->busy != NULL &&
		    pool->workers[i]->busy->req == req)
			pool->workers[i]->busy->req = NULL;
	}
}

int auth_worker_run_sync(struct auth *auth, struct auth_lookup *lookup,
			 enum auth_worker_op op, unsigned int db_idx,
			 const char *password)
{
	switch (op) {
	case AUTH_WORKER_PASSV: {
		struct passdb_module *m = auth->passdbs[db_idx].module;

		return m->driver->verify_plain(m, lookup, password);
	}
	case AUTH_WORKER_CRED: {
		struct passdb_module *m = auth->passdbs[db_idx].module;

		if (m->driver->lookup_credentials == NULL)
			return PASSDB_RESULT_SCHEME_NOT_AVAILABLE;
		return m->driver->lookup_credentials(m, lookup);
	}
	case AUTH_WORKER_USER: {
		struct userdb_module *m = auth->userdbs[db_idx].module;

		return m->driver->lookup(m, lookup);
	}
	case AUTH_WORKER_PASSW:
		/* the caller runs worker_verify_cached() instead */
		break;
	}
	return PASSDB_RESULT_INTERNAL_FAILURE;
}

/* ---- the worker process ---- */

/* PASSW: plain against the cached "{SCHEME}data". */
static int worker_verify_cached(struct auth *auth, struct auth_lookup *lookup,
				unsigned int db_idx, const char *plain,
				const char *cached)
{
	const char *error;
	int ret = password_verify(plain, cached, NULL, lookup->user, &error);

	if (ret > 0)
		return PASSDB_RESULT_OK;
	if (ret < 0) {
		auth_lookup_log_error(lookup,
				      auth->passdbs[db_idx].set->driver,
				      "%s", error);
	}
	lookup->log_reason = "Password mismatch";
	return PASSDB_RESULT_PASSWORD_MISMATCH;
}

/* The worker process's log text before each line, as Dovecot's auth
 * workers write it: "conn unix:auth-worker (pid=<auth>,uid=<uid>): " */
static char worker_conn_prefix[128];

static const char *const op_names[] = { "PASSV", "PASSL", "USER", "PASSW" };

static const char *result_name(enum auth_worker_op op, int result)
{
	if (op == AUTH_WORKER_USER) {
		switch (result) {
		case USERDB_RESULT_USER_UNKNOWN: return "user_unknown";
		case USERDB_RESULT_INTERNAL_FAILURE: return "internal_failure";
		default: return NULL;
		}
	}
	switch (result) {
	case PASSDB_RESULT_OK: return NULL;
	case PASSDB_RESULT_PASSWORD_MISMATCH: return "password_mismatch";
	case PASSDB_RESULT_USER_UNKNOWN: return "user_unknown";
	case PASSDB_RESULT_USER_DISABLED: return "user_disabled";
	case PASSDB_RESULT_PASS_EXPIRED: return "pass_expired";
	case PASSDB_RESULT_SCHEME_NOT_AVAILABLE: return "scheme_not_available";
	case PASSDB_RESULT_NEXT: return "next";
	default: return "internal_failure";
	}
}

/* One request's driver call with Dovecot's worker log lines around it;
 * the auth_verbose reason is logged here, not sent back. */
static int worker_run(struct auth *auth, struct auth_lookup *lookup,
		      enum auth_worker_op op, unsigned int db_idx,
		      const char *password, const char *cached,
		      unsigned int request_num)
{
	const struct settings_root *set = auth->set;
	bool userdb = op == AUTH_WORKER_USER;
	const char *driver = userdb ? auth->userdbs[db_idx].set->driver :
		auth->passdbs[db_idx].set->driver;
	const char *name, *vp = set->auth_verbose_passwords;
	char *prefix = i_strdup_printf("%sauth-worker<%u>: ",
				       worker_conn_prefix, request_num);
	int result;

	auth_lookup_log_set_process_prefix(prefix);
	if (lookup->debug)
		i_debug("%sHandling %s request", prefix, op_names[op]);
	auth_lookup_log_debug(lookup, driver, userdb ?
			      "Performing userdb lookup" :
			      "Performing passdb lookup");
	if (op == AUTH_WORKER_PASSW)
		result = worker_verify_cached(auth, lookup, db_idx, password,
					      cached);
	else
		result = auth_worker_run_sync(auth, lookup, op, db_idx,
					      password);
	if ((userdb ? result != USERDB_RESULT_OK : result != PASSDB_RESULT_OK) &&
	    lookup->log_reason != NULL && op != AUTH_WORKER_PASSW &&
	    (set->auth_verbose || (vp[0] != '\0' && strncmp(vp, "no", 2) != 0))) {
		i_info("%s%s", auth_lookup_log_prefix(lookup, driver),
		       auth_login_failure_text(lookup->pool, vp,
			lookup->log_reason, userdb ? NULL : password,
			!userdb && db_idx + 1 < auth->passdb_count));
		lookup->log_reason = NULL;
	} else if (op != AUTH_WORKER_PASSW) {
		lookup->log_reason = NULL;
	}
	auth_lookup_log_debug(lookup, driver, userdb ?
			      "Finished userdb lookup" :
			      "Finished passdb lookup");
	name = result_name(op, result);
	if (lookup->debug) {
		i_debug("%sFinished%s%s", prefix, name == NULL ? "" : ": ",
			name == NULL ? "" : name);
	}
	auth_lookup_log_set_process_prefix(NULL);
	free(prefix);
	return result;
}

/* Answer one request line; returns the reply line (malloc'd).
 * *exit_r: quit after sending it. */
static char *worker_handle(struct auth *auth, char *line, bool *exit_r,
			   unsigned int request_num)
{
	pool_t pool = pool_create("auth worker request", 4096);
	const char *f[256];
	unsigned int n = split_fields(pool, line, f, N_ELEMENTS(f));
	struct auth_lookup lookup;
	string_t *reply = str_new(256);
	unsigned int db_idx, op;
	int result;

	if (n < 10) {
		str_printfa(reply, "%s\t%d\t\t\tbad worker request\t",
			    n > 0 ? f[0] : "0", PASSDB_RESULT_INTERNAL_FAILURE);
		goto out;
	}
	op = (unsigned int)atoi(f[1]);
	db_idx = (unsigned int)atoi(f[2]);
	memset(&lookup, 0, sizeof(lookup));
	lookup.pool = pool;
	lookup.user = f[3];
	lookup.original_user = f[3];
	lookup.service = f[5];
	lookup.local_ip = f[6][0] == '\0' ? NULL : f[6];
	lookup.remote_ip = f[7][0] == '\0' ? NULL : f[7];
	lookup.session_id = f[8];
	lookup.mech = f[9];
	lookup.extra_fields = auth_fields_new(pool);
	lookup.debug = auth->set->auth_debug;
	if (op > AUTH_WORKER_PASSW ||
	    (op == AUTH_WORKER_USER ? db_idx >= auth->userdb_count :
	     db_idx >= auth->passdb_count) ||
	    (op == AUTH_WORKER_PASSW && n < 11)) {
		result = PASSDB_RESULT_INTERNAL_FAILURE;
		lookup.log_reason = "bad worker request";
	} else {
		result = worker_run(auth, &lookup, (enum auth_worker_op)op,
				    db_idx, f[4], n > 10 ? f[10] : NULL,
				    request_num);
	}
	str_printfa(reply, "%s\t%d", f[0], result);
	append_field(reply, lookup.password);
	append_field(reply, lookup.default_scheme);
	append_field(reply, lookup.log_reason);
	if (op != AUTH_WORKER_USER && op != AUTH_WORKER_PASSW &&
	    db_idx < auth->passdb_count &&
	    auth->passdbs[db_idx].module->restart_worker)
		*exit_r = true;
	append_field(reply, *exit_r ? "exit" : "");
	append_extra_fields(reply, lookup.extra_fields);
out:
	str_append_c(reply, '\n');
	explicit_bzero(line, strlen(line));
	pool_destroy(&pool);
	return str_free_without_data(&reply);
}

static void worker_log_disconnect(struct auth *auth)
{
	if (auth->set->auth_debug)
		i_debug("%sDisconnected: Connection closed (fd=-1)",
			worker_conn_prefix);
}

static void worker_process_main(struct auth *auth, int fd,
				unsigned int service_count)
{
	string_t *in = str_new(1024);
	char buf[4096];
	unsigned int handled = 0;

	sigset_t none;

	/* a blocking loop: one request at a time, no event loop needed;
	   the service blocked its signals for signalfd */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	/* log as Dovecot's auth workers do */
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "auth-worker(%ld): ", (long)getpid());
	log_set_prefix(prefix);
	snprintf(worker_conn_prefix, sizeof(worker_conn_prefix),
		 "conn unix:auth-worker (pid=%ld,uid=%ld): ", (long)getppid(),
		 (long)getuid());
	if (auth->set->auth_debug) {
		i_debug("%sServer accepted connection (fd=%d)",
			worker_conn_prefix, fd);
		i_debug("%sSending version handshake", worker_conn_prefix);
	}
	for (;;) {
		char *nl;
		ssize_t ret;

		while ((nl = memchr(in->data, '\n', in->len)) != NULL) {
			size_t len = (size_t)(nl - in->data);
			char *line = i_strndup(in->data, len);
			bool quit = service_count > 0 &&
				++handled >= service_count;
			char *reply;

			if (service_count == 0)
				handled++;
			reply = worker_handle(auth, line, &quit, handled);
			size_t off = 0, rlen = strlen(reply);

			free(line);
			str_delete(in, 0, len + 1);
			while (off < rlen) {
				ret = write(fd, reply + off, rlen - off);
				if (ret <= 0 && errno != EINTR)
					_exit(1);
				if (ret > 0)
					off += (size_t)ret;
			}
			free(reply);
			if (quit) {
				worker_log_disconnect(auth);
				_exit(0);
			}
		}
		if (in->len > WORKER_MAX_LINE)
			_exit(1);
		ret = read(fd, buf, sizeof(buf));
		if (ret == 0) {
			worker_log_disconnect(auth);
			_exit(0);
		}
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		str_append_n(in, buf, (size_t)ret);
	}
}

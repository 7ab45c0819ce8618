/* auth-client-connection.c - one connection speaking the auth-client
 * protocol: handshake, AUTH/CONT requests multiplexed by id, replies. */
#include "auth-client-connection.h"
#include "auth-request.h"
#include "auth-fields.h"
#include "base64.h"
#include "connection.h"
#include "str.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define AUTH_CLIENT_MAX_LINE (16 * 1024)
#define AUTH_CLIENT_MAX_OUTPUT (256 * 1024)
#define AUTH_CLIENT_MAX_REQUESTS 256

struct client_request {
	unsigned int id;
	struct auth_request *req;
	struct auth_client_connection *conn;
	bool done;		/* OK sent: kept for a master REQUEST */
};

struct auth_client_connection {
	struct auth_client_connection *prev, *next;
	struct auth *auth;
	struct connection *conn;
	unsigned int connect_uid, pid;
	char cookie[33];
	bool version_received, login_socket;
	struct client_request **requests;
	unsigned int request_count;
};

static struct auth_client_connection *clients;

/* Dovecot's str_sanitize: control characters become '?' in logs. */
static const char *sanitize(pool_t pool, const char *line)
{
	char *copy = p_strndup(pool, line, MIN(strlen(line), 160));

	for (char *p = copy; *p != '\0'; p++) {
		if ((unsigned char)*p < 32)
			*p = '?';
	}
	return copy;
}

static struct client_request *
find_request(struct auth_client_connection *client, unsigned int id)
{
	for (unsigned int i = 0; i < client->request_count; i++) {
		if (client->requests[i]->id == id)
			return client->requests[i];
	}
	return NULL;
}

static void remove_request(struct auth_client_connection *client,
			   struct client_request *creq)
{
	for (unsigned int i = 0; i < client->request_count; i++) {
		if (client->requests[i] == creq) {
			client->requests[i] =
				client->requests[--client->request_count];
			break;
		}
	}
	auth_request_free(&creq->req);
	free(creq);
}

static void send_line(struct auth_client_connection *client, string_t *str)
{
	if (client->auth->set->auth_debug)
		i_debug("client passdb out: %s", str_c(str));
	str_append_c(str, '\n');
	connection_send(client->conn, str_c(str), str_len(str));
}

static void append_user(string_t *str, struct auth_request *req)
{
	if (req->lookup.user != NULL) {
		str_append(str, "\tuser=");
		auth_str_append_tabescaped(str, req->lookup.user);
	}
}

static void append_original_user(string_t *str, struct auth_request *req)
{
	const char *orig = auth_request_original_user(req);

	if (orig != NULL) {
		str_append(str, "\toriginal_user=");
		auth_str_append_tabescaped(str, orig);
	}
	if (req->master_user != NULL && req->passdb_success) {
		str_append(str, "\tauth_user=");
		auth_str_append_tabescaped(str, req->master_user);
	}
}

static void client_reply_continue(struct auth_request *req,
				  const unsigned char *data, size_t size)
{
	struct client_request *creq = req->handler_context;
	string_t *str = str_new(128);

	str_printfa(str, "CONT\t%u\t", creq->id);
	base64_encode(str, data, size);
	send_line(creq->conn, str);
	str_free(&str);
}

static void client_reply_success(struct auth_request *req,
				 const unsigned char *data, size_t size)
{
	struct client_request *creq = req->handler_context;
	struct auth_fields *f = req->lookup.extra_fields;
	string_t *str = str_new(128);

	str_printfa(str, "OK\t%u", creq->id);
	append_user(str, req);
	auth_append_public_fields(str, f);
	append_original_user(str, req);
	if (size > 0) {
		str_append(str, "\tresp=");
		base64_encode(str, data, size);
	}
	send_line(creq->conn, str);
	str_free(&str);
	if (creq->conn->login_socket)
		creq->done = true; /* the master claims it with REQUEST */
	else
		remove_request(creq->conn, creq);
}

static void client_reply_fail(struct auth_request *req, const char *code,
			      const char *reason)
{
	struct client_request *creq = req->handler_context;
	string_t *str = str_new(128);

	str_printfa(str, "FAIL\t%u", creq->id);
	append_user(str, req);
	/* the fields of a passdb that found the user stay (a wrong CRAM-MD5
	   response, continue-fail), as in Dovecot */
	auth_append_public_fields(str, req->lookup.extra_fields);
	append_original_user(str, req);
	if (code != NULL && strcmp(code, "temp_fail") == 0)
		str_append(str, "\ttemp");
	if (code != NULL)
		str_printfa(str, "\tcode=%s", code);
	if (reason != NULL) {
		str_append(str, "\treason=");
		auth_str_append_tabescaped(str, reason);
	}
	send_line(creq->conn, str);
	str_free(&str);
	remove_request(creq->conn, creq);
}

static const struct auth_request_handler client_handler = {
	.reply_continue = client_reply_continue,
	.reply_success = client_reply_success,
	.reply_fail = client_reply_fail,
};

static bool client_bug(struct auth_client_connection *client,
		       const char *fmt, const char *arg)
{
	pool_t pool = pool_create("auth bug", 512);

	i_error(fmt, client->pid, sanitize(pool, arg));
	pool_destroy(&pool);
	auth_client_connection_destroy(&client);
	return false;
}

static void fail_now(struct auth_client_connection *client, unsigned int id,
		     const char *fields)
{
	string_t *str = str_new(128);

	str_printfa(str, "FAIL\t%u%s", id, fields);
	send_line(client, str);
	str_free(&str);
}

/* AUTH id mech [params...] */
static bool client_auth(struct auth_client_connection *client, char **args,
			unsigned int count)
{
	const struct mech_module *mech;
	struct client_request *creq;
	const char *resp = NULL;
	bool have_service = false;
	unsigned int id;

	if (count < 2 || (id = (unsigned int)strtoul(args[0], NULL, 10)) == 0)
		return client_bug(client, "BUG: Authentication client %u "
				  "sent broken AUTH request: %s",
				  count > 0 ? args[0] : "");
	mech = auth_mech_find(client->auth, args[1]);
	if (mech == NULL) {
		return client_bug(client, "BUG: Authentication client %u "
				  "requested unsupported authentication "
				  "mechanism %s", args[1]);
	}
	if (find_request(client, id) != NULL) {
		i_error("BUG: Authentication client %u sent a duplicate ID %u",
			client->pid, id);
		auth_client_connection_destroy(&client);
		return false;
	}
	if (client->request_count >= AUTH_CLIENT_MAX_REQUESTS) {
		fail_now(client, id, "\ttemp\treason=Too many requests");
		return true;
	}
	creq = i_new(struct client_request, 1);
	creq->id = id;
	creq->conn = client;
	creq->req = auth_request_new(client->auth, mech, &client_handler,
				     creq);
	creq->req->id = id;
	for (unsigned int i = 2; i < count; i++) {
		char *eq = strchr(args[i], '=');
		const char *value = NULL;

		if (eq != NULL) {
			*eq = '\0';
			value = auth_tabunescape(creq->req->pool, eq + 1);
		}
		if (strcmp(args[i], "resp") == 0)
			resp = value == NULL ? "" : value;
		else if (strcmp(args[i], "service") == 0)
			have_service = true; /* even empty, as Dovecot */
		auth_request_import(creq->req, args[i], value);
	}
	if (!have_service) {
		auth_request_free(&creq->req);
		free(creq);
		i_error("BUG: Authentication client %u didn't specify service "
			"in request", client->pid);
		auth_client_connection_destroy(&client);
		return false;
	}
	client->requests = i_reallocarray(client->requests,
					  client->request_count + 1,
					  sizeof(*client->requests));
	client->requests[client->request_count++] = creq;

	/* disable_plaintext_auth is the login processes' to enforce:
	   Dovecot's auth service takes PLAIN without "secured" too */
	if (resp == NULL) {
		auth_request_initial(creq->req, NULL, 0);
		return true;
	}
	string_t *data = str_new(strlen(resp));

	if (base64_decode(data, resp, strlen(resp)) < 0) {
		if (client->auth->set->auth_verbose)
			i_info("%sInvalid base64 data in initial response",
			       auth_request_mech_log_prefix(creq->req, NULL));
		fail_now(client, id, "\tcode=invalid_base64\treason=Invalid "
			 "base64 data in initial response");
		remove_request(client, creq);
	} else {
		auth_request_initial(creq->req,
				     (const unsigned char *)str_c(data),
				     str_len(data));
	}
	explicit_bzero(data->data, data->len);
	str_free(&data);
	return true;
}

/* CONT id base64 */
static bool client_cont(struct auth_client_connection *client, char **args,
			unsigned int count)
{
	struct client_request *creq;
	unsigned int id;
	string_t *data;

	if (count < 2)
		return client_bug(client, "BUG: Authentication client %u "
				  "sent broken CONT request: %s",
				  count > 0 ? args[0] : "");
	id = (unsigned int)strtoul(args[0], NULL, 10);
	if (id == 0)
		return client_bug(client, "BUG: Authentication client %u "
				  "sent broken CONT request: %s", args[0]);
	creq = find_request(client, id);
	if (creq == NULL || creq->done) {
		fail_now(client, id,
			 "\treason=Authentication request timed out");
		return true;
	}
	data = str_new(strlen(args[1]));
	if (base64_decode(data, args[1], strlen(args[1])) < 0) {
		if (client->auth->set->auth_verbose)
			i_info("%sInvalid base64 data in continued response",
			       auth_request_mech_log_prefix(creq->req,
				creq->req->lookup.user));
		fail_now(client, id, "\tcode=invalid_base64\treason=Invalid "
			 "base64 data in continued response");
		remove_request(client, creq);
	} else {
		auth_request_continue(creq->req,
				      (const unsigned char *)str_c(data),
				      str_len(data));
	}
	explicit_bzero(data->data, data->len);
	str_free(&data);
	return true;
}

/* "client in: <line>" for auth_debug, the SASL data hidden unless
 * auth_debug_passwords (a CONT line's rest entirely, as Dovecot). */
static void client_debug_in(struct auth_client_connection *client,
			    const char *line)
{
	const struct settings_root *set = client->auth->set;
	const char *resp;

	if (!set->auth_debug)
		return;
	if (set->auth_debug_passwords) {
		i_debug("client in: %s", line);
	} else if (strncmp(line, "CONT", 4) == 0) {
		i_debug("client in: CONT<hidden>");
	} else if ((resp = strstr(line, "\tresp=")) != NULL) {
		const char *end = strchr(resp + 1, '\t');

		i_debug("client in: %.*sresp=<hidden>%s",
			(int)(resp + 1 - line), line, end == NULL ? "" : end);
	} else {
		i_debug("client in: %s", line);
	}
}

static bool client_input_line(struct connection *conn, char *line)
{
	struct auth_client_connection *client = conn->context;
	char *args[64], *orig = i_strdup(line);
	unsigned int count;
	bool ret;

	if (!client->version_received) {
		count = auth_split_tabs(line, args, N_ELEMENTS(args));
		if (count < 3 || strcmp(args[0], "VERSION") != 0) {
			ret = client_bug(client, "Authentication client %u "
					 "sent invalid VERSION line: %s", orig);
		} else if (strcmp(args[1], "1") != 0) {
			i_error("Authentication client not compatible with "
				"this server (mixed old and new binaries?)");
			auth_client_connection_destroy(&client);
			ret = false;
		} else {
			client->version_received = true;
			ret = true;
		}
		free(orig);
		return ret;
	}
	count = auth_split_tabs(line, args, N_ELEMENTS(args));
	if (client->pid == 0) {
		if (strcmp(args[0], "CPID") == 0 && count >= 2) {
			client->pid = (unsigned int)strtoul(args[1], NULL, 10);
			ret = true;
		} else {
			ret = client_bug(client, "BUG: Authentication client "
					 "%u sent unknown handshake command: "
					 "%s", orig);
		}
	} else if (strcmp(args[0], "AUTH") == 0) {
		client_debug_in(client, orig);
		ret = client_auth(client, args + 1, count - 1);
	} else if (strcmp(args[0], "CONT") == 0) {
		client_debug_in(client, orig);
		ret = client_cont(client, args + 1, count - 1);
	} else {
		ret = client_bug(client, "BUG: Authentication client %u sent "
				 "unknown command: %s", orig);
	}
	explicit_bzero(orig, strlen(orig));
	free(orig);
	return ret;
}

static void client_disconnected(struct connection *conn,
				const char *reason ATTR_UNUSED)
{
	struct auth_client_connection *client = conn->context;

	auth_client_connection_destroy(&client);
}

static const struct connection_vfuncs client_vfuncs = {
	.input_line = client_input_line,
	.disconnected = client_disconnected,
};

static void make_cookie(char cookie[33])
{
	unsigned char raw[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
		i_fatal("reading /dev/urandom failed");
	close(fd);
	for (unsigned int i = 0; i < 16; i++)
		snprintf(cookie + i * 2, 3, "%02x", raw[i]);
}

struct auth_client_connection *
auth_client_connection_create(struct auth *auth, int fd, bool login_socket)
{
	struct auth_client_connection *client =
		i_new(struct auth_client_connection, 1);
	string_t *str = str_new(512);

	client->auth = auth;
	client->login_socket = login_socket;
	client->connect_uid = ++auth->connection_uid_counter;
	make_cookie(client->cookie);
	client->conn = connection_create(auth->loop, fd, AUTH_CLIENT_MAX_LINE,
					 AUTH_CLIENT_MAX_OUTPUT,
					 &client_vfuncs, client);
	if (auth->set->auth_debug) {
		/* login sockets know their peer's pid already */
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int pid = 0;

		if (login_socket && getsockopt(fd, SOL_SOCKET, SO_PEERCRED,
					       &cred, &len) == 0)
			pid = (int)cred.pid;
		i_debug("auth client connected (pid=%d)", pid);
	}
	client->next = clients;
	if (clients != NULL)
		clients->prev = client;
	clients = client;

	str_append(str, "VERSION\t1\t2\n");
	for (unsigned int i = 0; i < auth->mech_count; i++) {
		const struct mech_module *m = auth->mechs[i];

		str_printfa(str, "MECH\t%s", m->name);
		if ((m->flags & MECH_FLAG_ANONYMOUS) != 0)
			str_append(str, "\tanonymous");
		if ((m->flags & MECH_FLAG_PLAINTEXT) != 0)
			str_append(str, "\tplaintext");
		if ((m->flags & MECH_FLAG_DICTIONARY) != 0)
			str_append(str, "\tdictionary");
		if ((m->flags & MECH_FLAG_ACTIVE) != 0)
			str_append(str, "\tactive");
		if ((m->flags & MECH_FLAG_FORWARD_SECRECY) != 0)
			str_append(str, "\tforward-secrecy");
		if ((m->flags & MECH_FLAG_MUTUAL_AUTH) != 0)
			str_append(str, "\tmutual-auth");
		str_append_c(str, '\n');
	}
	str_printfa(str, "SPID\t%d\nCUID\t%u\nCOOKIE\t%s\nDONE\n",
		    (int)getpid(), client->connect_uid, client->cookie);
	connection_send(client->conn, str_c(str), str_len(str));
	str_free(&str);
	return client;
}

void auth_client_connection_destroy(struct auth_client_connection **_client)
{
	struct auth_client_connection *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	if (client->prev != NULL)
		client->prev->next = client->next;
	else
		clients = client->next;
	if (client->next != NULL)
		client->next->prev = client->prev;
	while (client->request_count > 0)
		remove_request(client, client->requests[0]);
	free(client->requests);
	connection_free(&client->conn);
	free(client);
}

struct auth_request *
auth_client_request_claim(unsigned int client_pid, unsigned int id,
			  const char *cookie, const char **error_r)
{
	static char errbuf[256];
	struct auth_client_connection *client;

	for (client = clients; client != NULL; client = client->next) {
		if (client->pid == client_pid && client->login_socket)
			break;
	}
	if (client == NULL) {
		snprintf(errbuf, sizeof(errbuf), "Master requested auth for "
			 "nonexistent client %u", client_pid);
		*error_r = errbuf;
		return NULL;
	}
	if (strcmp(client->cookie, cookie) != 0) {
		*error_r = "Master requested auth with a wrong cookie";
		return NULL;
	}
	struct client_request *creq = find_request(client, id);

	if (creq == NULL || !creq->done) {
		snprintf(errbuf, sizeof(errbuf), "Master request %u.%u not "
			 "found", client_pid, id);
		*error_r = errbuf;
		return NULL;
	}
	struct auth_request *req = creq->req;

	if (auth_fields_exists(req->lookup.extra_fields, "nologin")) {
		/* the login process must not log this user in */
		remove_request(client, creq);
		snprintf(errbuf, sizeof(errbuf), "Master request %u.%u: user "
			 "has nologin", client_pid, id);
		*error_r = errbuf;
		return NULL;
	}
	creq->req = NULL;
	remove_request(client, creq);
	return req;
}

void auth_client_connections_destroy_all(void)
{
	while (clients != NULL) {
		struct auth_client_connection *c = clients;

		auth_client_connection_destroy(&c);
	}
}

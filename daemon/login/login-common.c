/* login-common.c - the protocol-independent half of a login worker:
 * accept, the auth-client conversation with the auth service (VERSION/
 * CPID, MECH/COOKIE/DONE, then AUTH/CONT/OK/FAIL per client), the
 * hand-over of an authenticated client to the master (fd passing, with
 * whatever pipelined input arrived after the login command), and
 * Dovecot's "Login:" / "Disconnected:" log lines (logging.md). */
#include "login-common.h"
#include "config-tls.h"
#include "base64.h"
#include "fdpass.h"
#include "str.h"
#include "auth-fields.h"
#include "tls.h"
#include "config-value.h"
#include "haproxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Dovecot's login timeout before authentication */
#define LOGIN_IDLE_TIMEOUT_MSECS (180 * 1000)
#define AUTH_MAX_LINE 65536

static struct login_worker *worker;

/* The service limits the master computed for this worker (environment
 * ROOST_CLIENT_LIMIT, ROOST_SERVICE_COUNT; 0 = none): at client_limit
 * open connections it stops accepting until one closes; after
 * service_count accepted connections it accepts no more and exits once
 * they are all gone. It tells the master "FULL", "AVAIL" and "RETIRED"
 * so the master can start another worker, and "IDLE"/"BUSY" when its
 * last connection closes / the first opens (idle_kill). */
static unsigned int limit_clients, limit_service_count;
static unsigned int accepted_count, tls_proxy_count;
static bool state_full, state_retired, state_idle = true;

static void limits_check(void);
struct haproxy_pending;
static ARRAY(struct haproxy_pending *) haproxy_pendings;

static struct login_client *client_by_auth_id(unsigned int id)
{
	for (size_t i = 0; i < worker->clients.count; i++) {
		if (worker->clients.v[i]->auth_id == id &&
		    worker->clients.v[i]->authenticating)
			return worker->clients.v[i];
	}
	return NULL;
}

void login_client_send_line(struct login_client *client, const char *line)
{
	connection_send_str(client->conn, line);
	connection_send(client->conn, "\r\n", 2);
}

static unsigned int secs_since(time_t since)
{
	time_t now = time(NULL);

	return since == 0 || now < since ? 0 : (unsigned int)(now - since);
}

/* "user=<alice>, method=PLAIN, rip=…, lip=…, TLS, session=<…>";
 * tls_error: the TLS layer's state on a disconnect ("TLS: Connection
 * closed") */
/* What a TLS proxy tells its client after it ended (the proxy may end
 * before the client or outlive it: both hold a reference). */
struct login_tls_state {
	int refs;
	/* the proxy's connection while it lives */
	struct tls_conn *conn;
	bool handshake_done;	/* when it ended */
};

static bool tls_state_handshaking(const struct login_tls_state *state)
{
	if (state == NULL)
		return false;
	return state->conn != NULL ? !tls_conn_handshake_done(state->conn) :
		!state->handshake_done;
}

static void tls_state_unref(struct login_tls_state **_state)
{
	struct login_tls_state *state = *_state;

	*_state = NULL;
	if (state != NULL && --state->refs == 0)
		i_free(state);
}

static void client_log_vars_full(struct login_client *client, string_t *str,
				 const char *mpid, const char *tls_error)
{
	char rip[64], lip[64];

	snprintf(rip, sizeof(rip), "%s", net_ip2addr(&client->remote_ip));
	snprintf(lip, sizeof(lip), "%s", net_ip2addr(&client->local_ip));
	str_printfa(str, "user=<%s>", client->user == NULL ? "" : client->user);
	if (client->auth_mech != NULL)
		str_printfa(str, ", method=%s", client->auth_mech);
	str_printfa(str, ", rip=%s, lip=%s", rip, lip);
	if (mpid != NULL)
		str_printfa(str, ", mpid=%s", mpid);
	if (client->ssl && tls_error != NULL &&
	    tls_state_handshaking(client->tls_state))
		str_printfa(str, ", TLS handshaking: %s", tls_error);
	else if (client->ssl && tls_error != NULL)
		str_printfa(str, ", TLS: %s", tls_error);
	else if (client->ssl)
		str_append(str, ", TLS");
	else if (client->secured)
		str_append(str, ", secured");
	str_printfa(str, ", session=<%s>", client->session_id);
}

static void client_log_vars(struct login_client *client, string_t *str,
			    const char *mpid)
{
	client_log_vars_full(client, str, mpid, NULL);
}

void login_client_log_info(struct login_client *client, const char *msg)
{
	string_t *str = str_new(256);

	str_printfa(str, "%s: ", msg);
	client_log_vars(client, str, NULL);
	i_info("%s", str_c(str));
	str_free(&str);
}

/* The parenthesized part of "Disconnected: <reason> (...)": what the
 * client's authentication came to, in Dovecot's words. */
static void client_append_auth_state(struct login_client *client,
				     string_t *str)
{
	unsigned int auth_secs = secs_since(client->auth_first_started);

	if (client->auth_attempts == 0) {
		str_printfa(str, "(no auth attempts in %u secs)",
			    secs_since(client->created_secs));
		return;
	}
	if (client->sasl_unfinished && client->auth_attempts == 1) {
		str_printfa(str, "(client didn't finish SASL auth, waited %u secs)",
			    auth_secs);
		return;
	}
	if (client->authenticating && client->auth_attempts == 1) {
		str_printfa(str, "(disconnected while authenticating, waited "
			    "%u secs)", auth_secs);
		return;
	}
	switch (client->last_auth_fail) {
	case LOGIN_AUTH_FAIL_AUTHZ:
		str_printfa(str, "(authorization failed, %u attempts in %u secs)",
			    client->auth_attempts, auth_secs);
		return;
	case LOGIN_AUTH_FAIL_TEMP:
		str_append(str, "(auth service reported temporary failure)");
		return;
	case LOGIN_AUTH_FAIL_USER_DISABLED:
		str_append(str, "(user disabled)");
		return;
	case LOGIN_AUTH_FAIL_PASS_EXPIRED:
		str_append(str, "(password expired)");
		return;
	case LOGIN_AUTH_FAIL_INVALID_BASE64:
		str_append(str, "(sent invalid base64 in response)");
		return;
	case LOGIN_AUTH_FAIL_MECH_INVALID:
		str_append(str, "(tried to use unsupported auth mechanism)");
		return;
	case LOGIN_AUTH_FAIL_MECH_SSL_REQUIRED:
		str_append(str, "(tried to use disallowed plaintext auth)");
		return;
	case LOGIN_AUTH_FAIL_NONE:
		break;
	}
	str_printfa(str, "(auth failed, %u attempts in %u secs)",
		    client->auth_attempts, auth_secs);
}

static void client_free(struct login_client *client)
{
	for (size_t i = 0; i < worker->clients.count; i++) {
		if (worker->clients.v[i] == client) {
			array_delete(&worker->clients, i);
			break;
		}
	}
	timeout_remove(&client->idle_to);
	tls_state_unref(&client->tls_state);
	if (worker->proto->client_connection_create == NULL)
		connection_free(&client->conn);
	else
		client->conn = NULL;	/* the protocol's to free */
	i_free(client->user);
	i_free(client->auth_mech);
	if (client->proto != NULL && worker->proto->client_free != NULL)
		worker->proto->client_free(client);
	i_free(client->proto);
	i_free(client);
	limits_check();
}

static void client_destroy(struct login_client *client, const char *reason,
			   bool auth_state)
{
	string_t *str = str_new(256);

	if (reason != NULL) {
		str_printfa(str, "Disconnected: %s", reason);
		if (auth_state) {
			str_append_c(str, ' ');
			client_append_auth_state(client, str);
		}
		str_append(str, ": ");
		/* the peer closed the TLS connection: Dovecot's %c shows the
		   TLS layer's last state */
		client_log_vars_full(client, str, NULL,
			strcmp(reason, "Connection closed") == 0 ?
			"Connection closed" : NULL);
		i_info("%s", str_c(str));
	}
	str_free(&str);
	client_free(client);
}

void login_client_destroy(struct login_client *client, const char *reason)
{
	client_destroy(client, reason, true);
}

bool login_client_refused_limit(struct login_client *client,
				const char *reason)
{
	if (reason == NULL || strncmp(reason, "[LIMIT] ", 8) != 0)
		return false;
	client_destroy(client, reason + 8, false);
	return true;
}

bool login_client_plaintext_allowed(const struct login_client *client)
{
	if (strcmp(worker->set->ssl, "required") == 0)
		return client->ssl || client->secured;
	return client->secured || !worker->set->disable_plaintext_auth;
}

struct login_worker *login_worker_get(void)
{
	return worker;
}

bool login_tls_available(void)
{
	return worker->tls_ctx != NULL;
}

static void proxy_closed(struct tls_proxy *proxy, const char *reason,
			 void *context)
{
	struct login_tls_state *state = context;

	(void)reason;
	state->handshake_done =
		tls_conn_handshake_done(tls_proxy_get_conn(proxy));
	state->conn = NULL;
	tls_state_unref(&state);
	tls_proxy_free(&proxy);
	tls_proxy_count--;
	limits_check();
}

/* Put TLS on the client socket fd: a proxy pumps between it and one end
 * of a socketpair; the other end is what the protocol code (and, after
 * the hand-over, the mail worker) reads and writes in plain text. */
static int tls_wrap(int fd, const void *buffered, size_t buffered_len,
		    bool starttls, int *plain_fd_r,
		    struct login_tls_state **state_r)
{
	struct login_tls_state *state;
	struct tls_conn *tconn;
	size_t discarded = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		i_error("socketpair() failed: %m");
		return -1;
	}
	tconn = starttls ? tls_conn_starttls(worker->tls_ctx, fd, buffered,
					     buffered_len, &discarded) :
		tls_conn_create(worker->tls_ctx, fd);
	if (tconn == NULL) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	state = i_new(struct login_tls_state, 1);
	state->refs = 2;	/* the proxy's and the client's */
	state->conn = tconn;
	(void)tls_proxy_create(worker->loop, tconn, sv[0], 0, proxy_closed,
			       state);
	tls_proxy_count++;
	*plain_fd_r = sv[1];
	*state_r = state;
	return 0;
}

int login_client_starttls(struct login_client *client)
{
	struct connection *conn = client->conn;
	int plain_fd;

	if (connection_flush_wait(conn, 10000) < 0) {
		login_client_destroy(client, "Connection closed");
		return -1;
	}
	/* whatever the client pipelined after STARTTLS is dropped (it
	   would otherwise count as sent inside TLS) */
	if (tls_wrap(conn->fd, conn->inbuf, conn->in_len, true, &plain_fd,
		     &client->tls_state) < 0) {
		login_client_destroy(client, "TLS initialization failed");
		return -1;
	}
	(void)connection_replace_fd(conn, plain_fd);
	client->ssl = true;
	client->secured = true;
	return 0;
}

const char *login_client_mechs(const struct login_client *client)
{
	if (worker->auth_mechs == NULL)
		return "";
	return login_client_plaintext_allowed(client) ? worker->auth_mechs :
		worker->auth_plaintext_mechs;
}

bool login_mech_in_list(const char *mechs, const char *mech)
{
	size_t len = strlen(mech);

	for (const char *p = mechs; *p != '\0';) {
		const char *end = strchr(p, ' ');
		size_t wlen = end == NULL ? strlen(p) : (size_t)(end - p);

		if (wlen == len && strncasecmp(p, mech, len) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

bool login_base64_chars_valid(const char *line)
{
	for (const char *p = line; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '/' &&
		    *p != '=')
			return false;
	}
	return true;
}

string_t *login_sasl_plain(const char *user, const char *pass)
{
	string_t *plain = str_new(128), *b64;

	str_append_c(plain, '\0');
	str_append(plain, user);
	str_append_c(plain, '\0');
	str_append(plain, pass);
	b64 = str_new(base64_encoded_size(str_len(plain)) + 1);
	base64_encode(b64, str_c(plain), str_len(plain));
	explicit_bzero(plain->data, str_len(plain));
	str_free(&plain);
	return b64;
}

void login_sasl_plain_free(string_t **b64)
{
	explicit_bzero((*b64)->data, str_len(*b64));
	str_free(b64);
}

/* ---- auth-client protocol ---- */

static void auth_send_request(struct login_client *client, const char *mech,
			      const char *resp)
{
	string_t *str = str_new(256);

	client->auth_id = ++worker->auth_id_counter;
	str_printfa(str, "AUTH\t%u\t%s\tservice=%s\tsession=%s", client->auth_id,
		    mech, worker->proto->name, client->session_id);
	str_printfa(str, "\tlip=%s", net_ip2addr(&client->local_ip));
	str_printfa(str, "\trip=%s", net_ip2addr(&client->remote_ip));
	str_printfa(str, "\tlport=%u\trport=%u", client->local_port,
		    client->remote_port);
	if (client->secured)
		str_append(str, "\tsecured");
	if (resp != NULL)
		str_printfa(str, "\tresp=%s", resp);
	str_append_c(str, '\n');
	connection_send(worker->auth, str_c(str), str_len(str));
	str_free(&str);
}

void login_client_auth_begin(struct login_client *client, const char *mech,
			     const char *initial_resp)
{
	if (!worker->auth_ready) {
		worker->proto->auth_failed(client,
			"Waiting for authentication process to respond..", true);
		return;
	}
	i_free(client->auth_mech);
	client->auth_mech = i_strdup(mech);
	client->authenticating = true;
	client->sasl_unfinished = false;
	client->auth_attempts++;
	if (client->auth_first_started == 0)
		client->auth_first_started = time(NULL);
	connection_pause(client->conn, true);
	auth_send_request(client, mech, initial_resp);
}

void login_client_auth_continue(struct login_client *client, const char *resp)
{
	char *line = i_strdup_printf("CONT\t%u\t%s\n", client->auth_id, resp);

	client->auth_waiting_continue = false;
	client->sasl_unfinished = false;
	connection_pause(client->conn, true);
	connection_send_str(worker->auth, line);
	i_free(line);
}

void login_client_auth_abort(struct login_client *client)
{
	char *line;

	if (!client->authenticating)
		return;
	/* the auth service has no cancel: an undecodable response ends its
	   side of the request, and the reply is ignored (the id no longer
	   matches an authenticating client) */
	line = i_strdup_printf("CONT\t%u\t*\n", client->auth_id);
	connection_send_str(worker->auth, line);
	i_free(line);
	client->authenticating = false;
	client->auth_waiting_continue = false;
	client->sasl_unfinished = true;
	/* as Dovecot: the user name of an abandoned exchange is not kept */
	i_free(client->user);
}

void login_client_auth_refused(struct login_client *client, const char *mech,
			       enum login_auth_fail why)
{
	i_free(client->auth_mech);
	client->auth_mech = mech == NULL ? NULL : i_strdup(mech);
	client->auth_attempts++;
	client->last_auth_fail = why;
}

static enum login_auth_fail auth_fail_from_code(const char *code, bool temp)
{
	if (temp || (code != NULL && strcmp(code, "temp_fail") == 0))
		return LOGIN_AUTH_FAIL_TEMP;
	if (code == NULL)
		return LOGIN_AUTH_FAIL_NONE;
	if (strcmp(code, "authz_fail") == 0)
		return LOGIN_AUTH_FAIL_AUTHZ;
	if (strcmp(code, "user_disabled") == 0)
		return LOGIN_AUTH_FAIL_USER_DISABLED;
	if (strcmp(code, "pass_expired") == 0)
		return LOGIN_AUTH_FAIL_PASS_EXPIRED;
	if (strcmp(code, "invalid_base64") == 0)
		return LOGIN_AUTH_FAIL_INVALID_BASE64;
	return LOGIN_AUTH_FAIL_NONE;
}

static const char *auth_arg(char **args, const char *key)
{
	size_t len = strlen(key);

	for (unsigned int i = 0; args[i] != NULL; i++) {
		if (strncmp(args[i], key, len) == 0 && args[i][len] == '=')
			return args[i] + len + 1;
		if (strcmp(args[i], key) == 0)
			return "";
	}
	return NULL;
}

static void client_handover(struct login_client *client);
static void listeners_start(void);

static void auth_reply(char **args, unsigned int count)
{
	struct login_client *client;
	const char *user, *reason;

	if (count < 2)
		return;
	client = client_by_auth_id((unsigned int)strtoul(args[1], NULL, 10));
	if (client == NULL)
		return;
	if (strcmp(args[0], "CONT") == 0) {
		client->auth_waiting_continue = true;
		client->sasl_unfinished = true;
		connection_pause(client->conn, false);
		worker->proto->send_challenge(client, count > 2 ? args[2] : "");
		return;
	}
	client->authenticating = false;
	user = auth_arg(args + 2, "user");
	if (user != NULL) {
		i_free(client->user);
		client->user = i_strdup(user);
	}
	if (strcmp(args[0], "OK") == 0) {
		client_handover(client);
		return;
	}
	connection_pause(client->conn, false);
	reason = auth_arg(args + 2, "reason");
	client->sasl_unfinished = false;
	client->last_auth_fail = auth_fail_from_code(auth_arg(args + 2, "code"),
		auth_arg(args + 2, "temp") != NULL);
	worker->proto->auth_failed(client, reason,
				   auth_arg(args + 2, "temp") != NULL);
	(void)connection_process_input(client->conn);
}

static bool auth_input_line(struct connection *conn ATTR_UNUSED, char *line)
{
	char *args[64];
	unsigned int count = 0;

	count = auth_split_tabs(line, args, N_ELEMENTS(args) - 1);
	args[count] = NULL;
	if (count == 0)
		return true;
	if (strcmp(args[0], "MECH") == 0 && count >= 2) {
		bool plaintext = false;
		for (unsigned int i = 2; i < count; i++)
			plaintext = plaintext || strcmp(args[i], "plaintext") == 0;
		char *all = i_strdup_printf("%s%s%s", worker->auth_mechs == NULL ?
			"" : worker->auth_mechs,
			worker->auth_mechs == NULL ? "" : " ", args[1]);
		i_free(worker->auth_mechs);
		worker->auth_mechs = all;
		if (!plaintext) {
			char *np = i_strdup_printf("%s%s%s",
				worker->auth_plaintext_mechs == NULL ? "" :
				worker->auth_plaintext_mechs,
				worker->auth_plaintext_mechs == NULL ||
				worker->auth_plaintext_mechs[0] == '\0' ? "" : " ",
				args[1]);
			i_free(worker->auth_plaintext_mechs);
			worker->auth_plaintext_mechs = np;
		}
	} else if (strcmp(args[0], "COOKIE") == 0 && count >= 2) {
		i_free(worker->cookie);
		worker->cookie = i_strdup(args[1]);
	} else if (strcmp(args[0], "DONE") == 0) {
		worker->auth_ready = true;
		if (worker->auth_plaintext_mechs == NULL)
			worker->auth_plaintext_mechs = i_strdup("");
		/* clients are greeted only once authentication works */
		listeners_start();
	} else if (strcmp(args[0], "OK") == 0 || strcmp(args[0], "FAIL") == 0 ||
		   strcmp(args[0], "CONT") == 0) {
		auth_reply(args, count);
	}
	return true;
}

static void listener_accept(void *context);

static void listeners_start(void)
{
	if (worker->listen_ios == NULL || !worker->auth_ready ||
	    state_full || state_retired)
		return;
	for (unsigned int i = 0; i < worker->listen_count; i++) {
		if (worker->listen_ios[i] != NULL)
			continue;
		worker->listen_ios[i] = io_add(worker->loop,
			LOGIN_FIRST_LISTENER_FD + (int)i, IO_READ,
			listener_accept, (void *)(uintptr_t)i);
	}
}

static void listeners_stop(void)
{
	if (worker->listen_ios == NULL)
		return;
	for (unsigned int i = 0; i < worker->listen_count; i++)
		io_remove(&worker->listen_ios[i]);
}

static void control_notify(const char *msg)
{
	if (fdpass_send(LOGIN_CONTROL_FD, -1, msg, strlen(msg)) < 0)
		i_error("send() to master failed: %m");
}

/* Client sockets this process holds: plain pre-login clients, TLS
 * proxies (before and after the hand-over) and PROXY headers awaited. */
static unsigned int connections_count(void)
{
	unsigned int count = tls_proxy_count + haproxy_pendings.count;

	for (size_t i = 0; i < worker->clients.count; i++)
		count += worker->clients.v[i]->ssl ? 0 : 1;
	return count;
}

static void limits_check(void)
{
	unsigned int conns;

	if (worker == NULL || worker->listen_ios == NULL)
		return;
	conns = connections_count();
	if (conns == 0 && !state_idle) {
		state_idle = true;
		control_notify("IDLE");
	} else if (conns > 0 && state_idle) {
		state_idle = false;
		control_notify("BUSY");
	}
	if (limit_service_count > 0 && accepted_count >= limit_service_count) {
		if (!state_retired) {
			state_retired = true;
			listeners_stop();
			control_notify("RETIRED");
		}
		if (conns == 0)
			io_loop_stop(worker->loop);
		return;
	}
	if (limit_clients > 0 && conns >= limit_clients) {
		if (!state_full) {
			state_full = true;
			listeners_stop();
			control_notify("FULL");
		}
	} else if (state_full) {
		state_full = false;
		listeners_start();
		control_notify("AVAIL");
	}
}

static void auth_disconnected(struct connection *conn, const char *reason)
{
	(void)conn;
	i_fatal("Lost connection to the auth service: %s", reason);
}

static const struct connection_vfuncs auth_vfuncs = {
	.input_line = auth_input_line,
	.disconnected = auth_disconnected,
};

static void auth_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char *hello;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		i_fatal("auth socket path too long: %s", path);
	strcpy(sa.sun_path, path);	/* @UNSAFE: length checked above */
	for (int attempt = 0;; attempt++) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (attempt >= 50)
			i_fatal("connect(%s) failed: %m", path);
		usleep(100 * 1000);
	}
	worker->auth = connection_create(worker->loop, fd, AUTH_MAX_LINE,
					 1024 * 1024, &auth_vfuncs, worker);
	hello = i_strdup_printf("VERSION\t1\t2\nCPID\t%ld\n", (long)getpid());
	connection_send_str(worker->auth, hello);
	i_free(hello);
}

/* ---- hand-over to the master ---- */

static void client_handover(struct login_client *client)
{
	struct connection *conn = client->conn;
	string_t *str = str_new(256);
	ssize_t ret;

	client->handing_over = true;
	connection_pause(conn, true);
	client->handover_tag = ++worker->handover_tag;
	const char *flags = worker->proto->handover_flags == NULL ? "" :
		worker->proto->handover_flags(client);

	str_printfa(str, "HANDOVER\t%u\t%s\t%ld\t%u\t%s\t%s\t%s\t%s\t",
		    client->handover_tag, worker->proto->name, (long)getpid(),
		    client->auth_id, worker->cookie == NULL ? "" :
		    worker->cookie, client->session_id,
		    client->user == NULL ? "" : client->user,
		    client->ssl ? "TLS" : client->secured ? "secured" : "");
	/* pipelined input after the login command goes along */
	base64_encode(str, conn->inbuf, conn->in_len);
	/* the protocol's session flags (IMAP: the login command's tag),
	   then the client's IP (mail_max_userip_connections) */
	str_printfa(str, "\t%s\t%s", flags, net_ip2addr(&client->remote_ip));
	ret = fdpass_send(LOGIN_CONTROL_FD, conn->fd, str_c(str), str_len(str));
	str_free(&str);
	if (ret < 0) {
		i_error("fdpass_send() to master failed: %m");
		worker->proto->handover_failed(client, NULL);
	}
}

/* Every worker of the service is full (the master says "QUEUEFULL"):
 * make room by dropping the oldest client that has not begun to log in,
 * with Dovecot's "Connection queue full". */
static void client_destroy_oldest(void)
{
	struct login_client *oldest = NULL;
	const char *bye = worker->proto->idle_bye;
	const char *text = strstr(bye, "Disconnected for inactivity.");
	char *line;

	if (!state_full)
		return;
	for (size_t i = 0; i < worker->clients.count; i++) {
		struct login_client *c = worker->clients.v[i];

		if (c->authenticating || c->handing_over || c->auth_attempts > 0)
			continue;
		if (oldest == NULL || c->created_msecs < oldest->created_msecs)
			oldest = c;
	}
	if (oldest == NULL)
		return;
	line = i_strdup_printf("%.*sConnection queue full",
			       text == NULL ? 0 : (int)(text - bye), bye);
	login_client_send_line(oldest, line);
	i_free(line);
	login_client_destroy(oldest, "Connection queue full");
}

static void control_input(void *context ATTR_UNUSED)
{
	char buf[1024], *args[4];
	unsigned int count = 0;
	int fd;
	ssize_t n = fdpass_recv(LOGIN_CONTROL_FD, buf, sizeof(buf) - 1, &fd);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* the master went away: stop accepting, finish clients */
		i_fatal("Master connection lost");
	}
	if (fd >= 0)
		close(fd);
	buf[n] = '\0';
	if (strcmp(buf, "QUEUEFULL") == 0) {
		client_destroy_oldest();
		return;
	}
	if (strcmp(buf, "IDLEKILL") == 0) {
		/* idle_kill: exit unless a connection came meanwhile (then
		   the master got "BUSY" and keeps us) */
		if (connections_count() == 0) {
			listeners_stop();
			io_loop_stop(worker->loop);
		}
		return;
	}
	count = auth_split_tabs(buf, args, N_ELEMENTS(args));
	if (count < 3)
		return;
	unsigned int tag = (unsigned int)strtoul(args[1], NULL, 10);
	for (size_t i = 0; i < worker->clients.count; i++) {
		struct login_client *client = worker->clients.v[i];
		string_t *str;

		if (!client->handing_over || client->handover_tag != tag)
			continue;
		if (strcmp(args[0], "OK") != 0 &&
		    strcmp(args[2], "[DROP]") == 0) {
			/* the mail service is at process_limit: the
			   connection is closed without a reply, as Dovecot's
			   login process does when the master drops it */
			char *reason;

			i_error("master(%s): read() failed: Remote closed "
				"connection (destination service { "
				"process_limit } reached?) (client-pid=%ld, "
				"client-id=%u, rip=%s, created %llu msecs ago, "
				"received 0/4 bytes)", worker->proto->name,
				(long)getpid(), client->auth_id,
				net_ip2addr(&client->remote_ip),
				(unsigned long long)(io_loop_time_msecs() -
						     client->created_msecs));
			reason = i_strdup_printf("Internal login failure "
				"(pid=%ld id=%u)", (long)getpid(),
				client->auth_id);
			client_destroy(client, reason, false);
			i_free(reason);
			return;
		}
		if (strcmp(args[0], "OK") != 0) {
			client->handing_over = false;
			worker->proto->handover_failed(client, args[2]);
			return;
		}
		str = str_new(256);
		str_append(str, "Login: ");
		client_log_vars(client, str, args[2]);
		i_info("%s", str_c(str));
		str_free(&str);
		client_free(client);
		return;
	}
}

/* ---- clients ---- */

static bool client_input_line(struct connection *conn, char *line)
{
	struct login_client *client = conn->context;

	timeout_reset(client->idle_to);
	return worker->proto->client_input(client, line);
}

static bool client_input_raw(struct connection *conn)
{
	struct login_client *client = conn->context;

	timeout_reset(client->idle_to);
	return worker->proto->client_input_raw(client);
}

static void client_disconnected(struct connection *conn, const char *reason)
{
	struct login_client *client = conn->context;

	if (client->handing_over)
		return;	/* the master has the fd now; wait for its reply */
	login_client_destroy(client, reason);
}

static const struct connection_vfuncs client_vfuncs = {
	.input_line = client_input_line,
	.disconnected = client_disconnected,
};

static const struct connection_vfuncs client_raw_vfuncs = {
	.input_raw = client_input_raw,
	.disconnected = client_disconnected,
};

static void client_idle(void *context)
{
	struct login_client *client = context;

	login_client_send_line(client, worker->proto->idle_bye);
	login_client_destroy(client, "Inactivity");
}

static void session_id_generate(char *dest, size_t size)
{
	unsigned char raw[12];
	string_t *str = str_new(24);

	/* getrandom(): the login worker is chrooted, without /dev/urandom
	   (rand() would give every login worker the same ids) */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		i_fatal("getrandom() failed: %m");
	base64_encode(str, raw, sizeof(raw));
	snprintf(dest, size, "%s", str_c(str));
	str_free(&str);
}

static void sockaddr_to_ip(const struct sockaddr_storage *ss,
			   struct ip_addr *ip_r, unsigned int *port_r)
{
	char buf[64];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		*port_r = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		*port_r = ntohs(sin6->sin6_port);
		/* v4-mapped addresses are shown as IPv4, as Dovecot */
		if (strncmp(buf, "::ffff:", 7) == 0 && strchr(buf + 7, '.') != NULL)
			memmove(buf, buf + 7, strlen(buf + 7) + 1);
	} else {
		strcpy(buf, "0.0.0.0");
		*port_r = 0;
	}
	if (net_addr2ip(buf, ip_r) < 0)
		memset(ip_r, 0, sizeof(*ip_r));
}

static bool ip_in_networks(const struct ip_addr *ip, const char *nets)
{
	char *copy = i_strdup(nets), *save = NULL;
	bool found = false;

	for (char *net = strtok_r(copy, " ,", &save); net != NULL && !found;
	     net = strtok_r(NULL, " ,", &save)) {
		struct ip_addr net_ip;
		unsigned int bits;
		const char *error;

		if (net_parse_range(net, &net_ip, &bits, &error) == 0 &&
		    net_is_in_network(ip, &net_ip, bits))
			found = true;
	}
	i_free(copy);
	return found;
}

static bool ip_is_trusted(const struct ip_addr *ip)
{
	return ip_in_networks(ip, worker->set->login_trusted_networks);
}

/* A connection on a `haproxy = yes` listener, waiting for its PROXY
 * header. The header is peeked and only its own bytes are taken from
 * the socket, so what follows (a TLS ClientHello, a command) stays
 * there for the client that starts after it. */
struct haproxy_pending {
	int fd;
	unsigned int idx;
	struct sockaddr_storage local, remote;
	struct haproxy_parser *parser;
	size_t fed;
	struct io *io;
	struct timeout *to;
};


static void client_start(int fd, unsigned int idx,
			 const struct sockaddr_storage *local,
			 const struct sockaddr_storage *remote,
			 const struct haproxy_info *proxied);

static void haproxy_pending_free(struct haproxy_pending *hp, bool close_fd)
{
	for (size_t i = 0; i < haproxy_pendings.count; i++) {
		if (haproxy_pendings.v[i] == hp) {
			haproxy_pendings.v[i] =
				haproxy_pendings.v[--haproxy_pendings.count];
			break;
		}
	}
	io_remove(&hp->io);
	timeout_remove(&hp->to);
	haproxy_parser_free(&hp->parser);
	if (close_fd)
		close(hp->fd);
	i_free(hp);
	limits_check();
}

static const char *haproxy_rip(struct haproxy_pending *hp)
{
	struct ip_addr ip;
	unsigned int port;

	sockaddr_to_ip(&hp->remote, &ip, &port);
	return net_ip2addr(&ip);
}

static void haproxy_input(void *context)
{
	struct haproxy_pending *hp = context;
	unsigned char buf[HAPROXY_V2_MAX_DATA_LEN + 64];
	enum haproxy_result res = HAPROXY_NEED_MORE;
	size_t consumed = 0;
	ssize_t n = recv(hp->fd, buf, sizeof(buf), MSG_PEEK);
	char *text;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && (size_t)n > hp->fed) {
		res = haproxy_parser_feed(hp->parser, buf + hp->fed,
					  (size_t)n - hp->fed, &consumed);
		consumed += hp->fed;
		hp->fed = res == HAPROXY_NEED_MORE ? (size_t)n : consumed;
	}
	if (n <= 0 || res == HAPROXY_ERROR ||
	    (res == HAPROXY_NEED_MORE && (size_t)n >= sizeof(buf))) {
		text = haproxy_parser_log_text(hp->parser, n <= 0,
					       haproxy_rip(hp));
		if (n <= 0)
			i_info("%s", text);
		else
			i_error("%s", text);
		i_free(text);
		haproxy_pending_free(hp, true);
		return;
	}
	if (res == HAPROXY_NEED_MORE)
		return;
	/* take exactly the header off the socket */
	if (recv(hp->fd, buf, consumed, 0) != (ssize_t)consumed) {
		i_error("haproxy: recv() failed: %m");
		haproxy_pending_free(hp, true);
		return;
	}
	/* the fd goes to the client: its io first leaves the loop */
	io_remove(&hp->io);
	client_start(hp->fd, hp->idx, &hp->local, &hp->remote,
		     haproxy_parser_info(hp->parser));
	haproxy_pending_free(hp, false);
}

static void haproxy_timeout(void *context)
{
	struct haproxy_pending *hp = context;

	i_error("haproxy: Client timed out (rip=%s)", haproxy_rip(hp));
	haproxy_pending_free(hp, true);
}

static void listener_accept(void *context)
{
	unsigned int idx = (unsigned int)(uintptr_t)context;
	int lfd = LOGIN_FIRST_LISTENER_FD + (int)idx;
	struct sockaddr_storage local, remote;
	socklen_t llen = sizeof(local), rlen = sizeof(remote);
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&remote, &rlen,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			i_error("accept() failed: %m");
		return;
	}
	accepted_count++;
	if (remote.ss_family == AF_INET || remote.ss_family == AF_INET6) {
		/* replies go out as they are written: without this, Nagle
		   and delayed ACKs hold every small reply for ~40 ms */
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
		memset(&local, 0, sizeof(local));
	if (worker->listen_haproxy[idx]) {
		struct haproxy_pending *hp;
		struct ip_addr rip;
		unsigned int rport;

		sockaddr_to_ip(&remote, &rip, &rport);
		if (remote.ss_family != AF_UNIX &&
		    !ip_in_networks(&rip, worker->set->haproxy_trusted_networks)) {
			i_error("haproxy: Client not trusted (rip=%s)",
				net_ip2addr(&rip));
			close(fd);
			return;
		}
		hp = i_new(struct haproxy_pending, 1);
		hp->fd = fd;
		hp->idx = idx;
		hp->local = local;
		hp->remote = remote;
		hp->parser = haproxy_parser_create();
		hp->io = io_add(worker->loop, fd, IO_READ, haproxy_input, hp);
		hp->to = timeout_add(worker->loop,
				     (worker->set->haproxy_timeout == 0 ? 3 :
				      worker->set->haproxy_timeout) * 1000,
				     haproxy_timeout, hp);
		array_push(&haproxy_pendings, hp);
		limits_check();
		return;
	}
	client_start(fd, idx, &local, &remote, NULL);
	limits_check();
}

/* A connection ready for the protocol: proxied carries what a PROXY
 * header said (NULL without one). */
static void client_start(int fd, unsigned int idx,
			 const struct sockaddr_storage *local,
			 const struct sockaddr_storage *remote,
			 const struct haproxy_info *proxied)
{
	struct login_client *client;

	client = i_new(struct login_client, 1);
	client->worker = worker;
	client->created_msecs = io_loop_time_msecs();
	client->created_secs = time(NULL);
	sockaddr_to_ip(local, &client->local_ip, &client->local_port);
	sockaddr_to_ip(remote, &client->remote_ip, &client->remote_port);
	if (proxied != NULL && !proxied->local &&
	    (proxied->family == AF_INET || proxied->family == AF_INET6)) {
		client->remote_ip = proxied->remote_ip;
		client->remote_port = proxied->remote_port;
		client->local_ip = proxied->local_ip;
		client->local_port = proxied->local_port;
	}
	if (proxied != NULL) {
		/* behind a proxy only trust or the proxy's TLS count, not
		   rip = lip (as Dovecot) */
		client->secured = ip_is_trusted(&client->remote_ip) ||
			proxied->ssl;
	} else if (remote->ss_family == AF_UNIX) {
		client->secured = true;
	} else {
		client->secured = net_ip_compare(&client->local_ip, &client->remote_ip) ||
			ip_is_trusted(&client->remote_ip);
	}
	session_id_generate(client->session_id, sizeof(client->session_id));
	if (worker->listen_ssl[idx]) {
		int plain_fd;

		if (worker->tls_ctx == NULL ||
		    tls_wrap(fd, NULL, 0, false, &plain_fd,
			     &client->tls_state) < 0) {
			close(fd);
			i_free(client);
			return;
		}
		fd = plain_fd;
		client->ssl = true;
		client->secured = true;
	}
	if (worker->proto->client_connection_create != NULL) {
		client->conn = worker->proto->client_connection_create(client, fd);
	} else {
		client->conn = connection_create(worker->loop, fd,
					 worker->proto->max_line, 65536,
					 worker->proto->client_input_raw != NULL ?
					 &client_raw_vfuncs : &client_vfuncs,
					 client);
		client->idle_to = timeout_add(worker->loop,
					      LOGIN_IDLE_TIMEOUT_MSECS,
					      client_idle, client);
	}
	array_push(&worker->clients, client);
	worker->proto->client_created(client);
}

void login_worker_init(const struct login_protocol *proto,
		       const struct settings_root *set,
		       const char *auth_socket_path)
{
	static struct login_worker w;

	memset(&w, 0, sizeof(w));
	worker = &w;
	w.loop = io_loop_create();
	w.proto = proto;
	w.set = set;
	if (strcmp(set->ssl, "no") != 0 && set->ssl_cert[0] != '\0') {
		const char *error;

		if (config_tls_server_ctx(set, &w.tls_ctx, &error) < 0)
			i_fatal("%s", error);
	}
	auth_connect(auth_socket_path);
}

int login_worker_run(unsigned int listener_count, const char *ssl_flags)
{
	struct login_worker *w = worker;

	w->listen_ssl = i_new(bool, MAX(listener_count, 1));
	w->listen_haproxy = i_new(bool, MAX(listener_count, 1));
	for (unsigned int i = 0; i < listener_count && ssl_flags[i] != '\0'; i++) {
		w->listen_ssl[i] = ssl_flags[i] == '1' || ssl_flags[i] == 'H';
		w->listen_haproxy[i] = ssl_flags[i] == 'h' || ssl_flags[i] == 'H';
	}
	w->control_io = io_add(w->loop, LOGIN_CONTROL_FD, IO_READ,
			      control_input, NULL);
	w->listen_count = listener_count;
	w->listen_ios = i_new(struct io *, MAX(listener_count, 1));
	const char *env = getenv("ROOST_CLIENT_LIMIT");
	limit_clients = env == NULL ? 0 : (unsigned int)strtoul(env, NULL, 10);
	env = getenv("ROOST_SERVICE_COUNT");
	limit_service_count = env == NULL ? 0 :
		(unsigned int)strtoul(env, NULL, 10);
	for (unsigned int i = 0; i < listener_count; i++) {
		int lfd = LOGIN_FIRST_LISTENER_FD + (int)i;
		int flags = fcntl(lfd, F_GETFL);
		(void)fcntl(lfd, F_SETFL, flags | O_NONBLOCK);
	}
	listeners_start();
	io_loop_run(w->loop);
	/* done (service_count, idle_kill) */
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer reads /proc at exit, which the chroot lacks: it
	   would fail the exit with an error of its own */
	if (access("/proc/self/task", F_OK) < 0)
		_exit(0);
#endif
	return 0;
}

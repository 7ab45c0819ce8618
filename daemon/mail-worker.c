/* mail-worker.c - `roost mail-worker`: the process that serves every
 * logged-in session of one uid (DESIGN.md, process model). The master
 * starts it already running as that uid, with a SOCK_SEQPACKET control
 * socket on fd 3, and sends one message per session:
 *
 *   "SESSION\t<protocol>\t<username>\t<session id>\t<flags>[\t<userdb
 *    field>=<value>]..." with the client's socket attached
 *
 * flags: "L" = send the protocol's "logged in" reply. The worker builds
 * the user's storage from the userdb fields (home, mail, ...) and runs
 * the session in its event loop. It exits when the master closes the
 * control socket and no session is left. */
#include "lib.h"
#include "auth-fields.h"
#include "mail-worker.h"
#include "config-bind.h"
#include "fdpass.h"
#include "ioloop.h"
#include "mail-storage.h"
#include "pop3-client.h"
#include "imap-client.h"
#include "submission-client.h"
#include "base64.h"
#include "str.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WORKER_CONTROL_FD 3

struct worker_session {
	struct mail_worker *worker;
	struct mail_user *user;
	char *session_id;
};

/* Settings bound once per protocol: the worker's config never changes
 * (a reload starts new workers), and thousands of sessions share it. */
struct worker_settings {
	char *protocol;
	struct settings_root *set;
};

struct mail_worker {
	struct ioloop *loop;
	struct config *config;
	struct io *control_io;
	/* messages to the master the socket had no room for yet */
	ARRAY(char *) control_out;
	size_t control_out_head;	/* first one not sent */
	pool_t set_pool;
	ARRAY(struct worker_settings) sets;
	unsigned int sessions;
	bool control_closed;
};

static void worker_check_exit(struct mail_worker *worker)
{
	if (worker->control_closed && worker->sessions == 0)
		io_loop_stop(worker->loop);
}

/* Send queued messages while the socket takes them. */
static void control_flush(struct mail_worker *worker)
{
	while (worker->control_out_head < worker->control_out.count) {
		char *msg = worker->control_out.v[worker->control_out_head];

		if (send(WORKER_CONTROL_FD, msg, strlen(msg),
			 MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno != EPIPE && errno != ECONNRESET)
				i_error("send() to master failed: %m");
			/* the master is gone: nobody to tell */
			for (size_t i = worker->control_out_head;
			     i < worker->control_out.count; i++)
				i_free(worker->control_out.v[i]);
			worker->control_out_head = worker->control_out.count;
			break;
		}
		i_free(msg);
		worker->control_out_head++;
	}
	if (worker->control_out_head == worker->control_out.count) {
		array_clear(&worker->control_out);
		worker->control_out_head = 0;
	}
	if (worker->control_io != NULL) {
		io_set_condition(worker->control_io, IO_READ |
				 (worker->control_out.count > 0 ? IO_WRITE : 0));
	}
}

/* Queue msg (taken over) for the master; a burst of session ends is
 * more than the socket buffer holds. */
static void control_send(struct mail_worker *worker, char *msg)
{
	array_push(&worker->control_out, msg);
	control_flush(worker);
}

static void session_destroyed(void *context)
{
	struct worker_session *session = context;
	struct mail_worker *worker = session->worker;

	/* the master counts sessions per user+IP */
	control_send(worker, i_strdup_printf("END\t%s", session->session_id));
	mail_user_deinit(&session->user);
	i_free(session->session_id);
	i_free(session);
	worker->sessions--;
	worker_check_exit(worker);
}

static const char *field_get(char *const *fields, const char *key)
{
	size_t len = strlen(key);

	for (unsigned int i = 0; fields[i] != NULL; i++) {
		if (strncmp(fields[i], key, len) == 0 && fields[i][len] == '=')
			return fields[i] + len + 1;
	}
	return NULL;
}

/* The SESSION flags: space-separated tokens ("L", "capa", "tag=a1"). */
static bool flag_has(const char *flags, const char *token)
{
	size_t len = strlen(token);

	for (const char *p = flags; *p != '\0';) {
		const char *end = strchr(p, ' ');
		size_t wlen = end == NULL ? strlen(p) : (size_t)(end - p);

		if (wlen == len && strncmp(p, token, len) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

/* The value of "key=value" among the flags, in a new string or NULL. */
static char *flag_value(const char *flags, const char *key)
{
	size_t len = strlen(key);

	for (const char *p = flags; *p != '\0';) {
		const char *end = strchr(p, ' ');
		size_t wlen = end == NULL ? strlen(p) : (size_t)(end - p);

		if (wlen > len && strncmp(p, key, len) == 0 && p[len] == '=')
			return i_strndup(p + len + 1, wlen - len - 1);
		if (end == NULL)
			break;
		p = end + 1;
	}
	return NULL;
}

static void reply_error(int fd, const char *protocol, const char *error)
{
	char *line;

	if (strcmp(protocol, "pop3") == 0)
		line = i_strdup_printf("-ERR [SYS/TEMP] %s\r\n", error);
	else if (strcmp(protocol, "submission") == 0)
		line = i_strdup_printf("451 4.3.5 %s\r\n", error);
	else
		line = i_strdup_printf("* BYE %s\r\n", error);
	if (write(fd, line, strlen(line)) < 0) {
		/* the client is gone already */
	}
	i_free(line);
}

static struct settings_root *
worker_settings_get(struct mail_worker *worker, const char *protocol,
		    const char **error_r)
{
	struct config_filter filter = { .protocol = protocol };
	struct worker_settings *ws;
	struct settings_root *set;

	for (size_t i = 0; i < worker->sets.count; i++) {
		if (strcmp(worker->sets.v[i].protocol, protocol) == 0)
			return worker->sets.v[i].set;
	}
	if (worker->set_pool == NULL)
		worker->set_pool = pool_create("mail worker settings", 16384);
	set = config_bind_filter(worker->set_pool, worker->config, &filter,
				 error_r);
	if (set == NULL)
		return NULL;
	ws = array_append_space(&worker->sets);
	ws->protocol = i_strdup(protocol);
	ws->set = set;
	return set;
}

/* A submission session: the login's HELO state and addresses come in
 * the flags ("helo=<base64> ehlo tls rip=.. lip=.. rport=.. lport=.."). */
static void submission_session_start(struct mail_worker *worker,
				     struct worker_session *session,
				     const struct settings_root *set, int fd,
				     const char *username,
				     const char *session_id,
				     const char *flags, const char *input)
{
	struct submission_client_start start;
	string_t *raw = NULL, *helo = NULL;
	char *helo_b64 = flag_value(flags, "helo");
	char *rip = flag_value(flags, "rip"), *lip = flag_value(flags, "lip");
	char *rport = flag_value(flags, "rport"), *lport = flag_value(flags, "lport");

	memset(&start, 0, sizeof(start));
	if (helo_b64 != NULL) {
		helo = str_new(strlen(helo_b64));
		if (base64_decode(helo, helo_b64, strlen(helo_b64)) == 0 &&
		    strlen(str_c(helo)) == str_len(helo))
			start.helo = str_c(helo);
	}
	start.ehlo = flag_has(flags, "ehlo");
	start.tls = flag_has(flags, "tls");
	start.rip = rip;
	start.lip = lip;
	start.rport = rport == NULL ? 0 : (unsigned int)strtoul(rport, NULL, 10);
	start.lport = lport == NULL ? 0 : (unsigned int)strtoul(lport, NULL, 10);
	start.send_logged_in = flag_has(flags, "L");
	start.user = session->user;
	if (input != NULL && input[0] != '\0') {
		raw = str_new(strlen(input));
		if (base64_decode(raw, input, strlen(input)) == 0) {
			start.input = str_c(raw);
			start.input_size = str_len(raw);
		}
	}
	worker->sessions++;
	(void)submission_client_create(worker->loop, fd, username, set,
				       session_id, &start, session_destroyed,
				       session);
	if (raw != NULL)
		str_free(&raw);
	if (helo != NULL)
		str_free(&helo);
	i_free(helo_b64);
	i_free(rip);
	i_free(lip);
	i_free(rport);
	i_free(lport);
}

static void session_start(struct mail_worker *worker, char *msg, int fd)
{
	char **args;
	unsigned int count = 0;
	struct worker_session *session;
	struct mail_user_info info;
	struct settings_root *set;
	const char *error, *protocol, *username, *session_id, *flags, *input;
	char *prefix;

	for (char *p = msg; *p != '\0'; p++)
		count += *p == '\t';
	args = i_new(char *, count + 2);
	count = auth_split_tabs(msg, args, count + 1);
	if (count < 5 || strcmp(args[0], "SESSION") != 0) {
		i_error("Invalid control message from master");
		close(fd);
		i_free(args);
		return;
	}
	protocol = args[1];
	username = args[2];
	session_id = args[3];
	flags = args[4];
	input = field_get(args + 5, "roost_input");

	session = i_new(struct worker_session, 1);
	session->worker = worker;
	session->session_id = i_strdup(session_id);
	set = worker_settings_get(worker, protocol, &error);
	if (set == NULL) {
		i_error("%s", error);
		goto fail;
	}
	memset(&info, 0, sizeof(info));
	info.username = username;
	info.home = field_get(args + 5, "home");
	info.uid = getuid();
	info.gid = getgid();
	info.fields = (const char *const *)(args + 5);
	prefix = i_strdup_printf("%s(%s)<%ld><%s>: ", protocol, username,
				 (long)getpid(), session_id);
	log_set_prefix(prefix);
	i_free(prefix);
	if (strcmp(protocol, "submission") == 0) {
		/* the session relays to the MTA; mail storage only for BURL
		   (imap_urlauth_host set), and the session goes on without
		   it when it can't be opened */
		if (set->imap_urlauth_host[0] != '\0' &&
		    mail_user_init(set, &info, &session->user, &error) < 0) {
			i_error("BURL disabled: %s", error);
			free((char *)error);
			session->user = NULL;
		}
		submission_session_start(worker, session, set, fd, username,
					 session_id, flags, input);
		i_free(args);
		log_set_prefix("mail-worker: ");
		return;
	}
	if (mail_user_init(set, &info, &session->user, &error) < 0) {
		i_error("%s", error);
		free((char *)error);
		goto fail;
	}
	if (strcmp(protocol, "pop3") == 0) {
		struct pop3_client *client =
			pop3_client_create(worker->loop, fd, session->user, set,
				       session_id,
				       flag_has(flags, "L") ?
				       POP3_CLIENT_SEND_LOGGED_IN : 0,
				       session_destroyed, session, &error);
		if (client == NULL) {
			i_error("Couldn't open INBOX: %s", error);
			mail_user_deinit(&session->user);
			goto fail;
		}
		if (input != NULL && input[0] != '\0') {
			string_t *raw = str_new(strlen(input));
			if (base64_decode(raw, input, strlen(input)) == 0)
				pop3_client_add_input(client, str_c(raw),
						      str_len(raw));
			str_free(&raw);
		}
	} else if (strcmp(protocol, "imap") == 0) {
		struct imap_client_start start;
		string_t *raw = NULL;
		char *tag = flag_value(flags, "tag");

		memset(&start, 0, sizeof(start));
		start.login_tag = tag;
		start.capability_sent = flag_has(flags, "capa");
		if (input != NULL && input[0] != '\0') {
			raw = str_new(strlen(input));
			if (base64_decode(raw, input, strlen(input)) == 0) {
				start.input = str_c(raw);
				start.input_size = str_len(raw);
			}
		}
		/* counted first: pipelined input may end the session
		   inside imap_client_create() */
		worker->sessions++;
		(void)imap_client_create(worker->loop, fd, session->user, set,
					 session_id, &start, session_destroyed,
					 session);
		if (raw != NULL)
			str_free(&raw);
		i_free(tag);
		i_free(args);
		log_set_prefix("mail-worker: ");
		return;
	} else {
		error = "Protocol not served by this worker";
		i_error("%s: %s", protocol, error);
		mail_user_deinit(&session->user);
		goto fail;
	}
	worker->sessions++;
	i_free(args);
	log_set_prefix("mail-worker: ");
	return;
fail:
	reply_error(fd, protocol, "Internal error occurred. Refer to server "
		    "log for more information.");
	close(fd);
	i_free(session->session_id);
	i_free(session);
	i_free(args);
	log_set_prefix("mail-worker: ");
}

static void control_input(void *context)
{
	struct mail_worker *worker = context;
	char buf[FDPASS_MAX_PAYLOAD + 1];
	int fd;
	ssize_t n;

	control_flush(worker);
	n = fdpass_recv(WORKER_CONTROL_FD, buf, sizeof(buf) - 1, &fd);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		io_remove(&worker->control_io);
		worker->control_closed = true;
		worker_check_exit(worker);
		return;
	}
	buf[n] = '\0';
	if (fd < 0) {
		i_error("Control message without a client socket");
		return;
	}
	session_start(worker, buf, fd);
}

int mail_worker_main(struct config *config)
{
	struct mail_worker worker;

	if (getuid() == 0 || geteuid() == 0)
		i_fatal("mail-worker must not run as root");
	memset(&worker, 0, sizeof(worker));
	worker.config = config;
	/* every session is an fd here: use all the descriptors allowed */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	worker.loop = io_loop_create();
	signal(SIGPIPE, SIG_IGN);
	log_set_prefix("mail-worker: ");
	worker.control_io = io_add(worker.loop, WORKER_CONTROL_FD, IO_READ,
				   control_input, &worker);
	io_loop_run(worker.loop);
	io_remove(&worker.control_io);
	for (size_t i = worker.control_out_head; i < worker.control_out.count; i++)
		i_free(worker.control_out.v[i]);
	array_free(&worker.control_out);
	for (size_t i = 0; i < worker.sets.count; i++)
		i_free(worker.sets.v[i].protocol);
	array_free(&worker.sets);
	if (worker.set_pool != NULL)
		pool_destroy(&worker.set_pool);
	io_loop_destroy(&worker.loop);
	return 0;
}

/* doveadm-auth-client.c - blocking clients for the auth service's
 * sockets as doveadm uses them (one request at a time, a timeout on
 * every read), and the -x auth info with Dovecot 2.3's field order. */
#include "lib.h"
#include "str.h"
#include "net.h"
#include "doveadm.h"
#include "doveadm-auth-client.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Dovecot's auth-master client waits this long for a reply. */
#define AUTH_CONN_TIMEOUT_MSECS (30 * 1000)
/* Longer reply lines are an error, not cut. */
#define AUTH_CONN_MAX_LINE (64 * 1024)

struct doveadm_auth_conn {
	int fd;
	char *path;
	string_t *buf;	/* read but not yet consumed */
};

void doveadm_auth_info_init(struct doveadm_auth_info *info)
{
	memset(info, 0, sizeof(*info));
	info->forward = str_new(64);
	info->extra = str_new(64);
}

void doveadm_auth_info_deinit(struct doveadm_auth_info *info)
{
	str_free(&info->forward);
	str_free(&info->extra);
	/* the addresses are info_ip()'s copies */
	free((char *)info->lip);
	free((char *)info->rip);
	info->lip = info->rip = NULL;
}

/* str_tabescape() of Dovecot 2.3: \001 is the escape character. */

/* Error texts handed back through error_r: formatted into a few static
 * buffers (a command prints them at once; none outlives the next few
 * calls), so no caller has to free them. */
static const char *client_error(const char *fmt, ...) ATTR_FORMAT(1, 2);
static const char *client_error(const char *fmt, ...)
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

static void str_append_tabescaped(string_t *dest, const char *src)
{
	for (; *src != '\0'; src++) {
		switch (*src) {
		case '\001':
			str_append(dest, "\0011");
			break;
		case '\t':
			str_append(dest, "\001t");
			break;
		case '\n':
			str_append(dest, "\001n");
			break;
		case '\r':
			str_append(dest, "\001r");
			break;
		default:
			str_append_c(dest, *src);
		}
	}
}

void doveadm_auth_str_append_tabescaped(string_t *dest, const char *src)
{
	str_append_tabescaped(dest, src);
}

static char *tabunescape(const char *src, size_t len)
{
	string_t *dest = str_new(len + 1);

	for (size_t i = 0; i < len; i++) {
		if (src[i] != '\001' || i + 1 == len) {
			str_append_c(dest, src[i]);
			continue;
		}
		switch (src[++i]) {
		case '1':
			str_append_c(dest, '\001');
			break;
		case 't':
			str_append_c(dest, '\t');
			break;
		case 'n':
			str_append_c(dest, '\n');
			break;
		case 'r':
			str_append_c(dest, '\r');
			break;
		default:
			str_append_c(dest, src[i]);
		}
	}
	return str_free_without_data(&dest);
}

static const char *info_ip(const char *name, const char *value)
{
	struct ip_addr ip;

	if (net_addr2ip(value, &ip) < 0)
		doveadm_fatal("%s: Invalid ip", name);
	return i_strdup(net_ip2addr(&ip));
}

static const char *info_port(const char *name, const char *value)
{
	char *end;
	unsigned long port;

	errno = 0;
	port = strtoul(value, &end, 10);
	if (*value < '0' || *value > '9' || *end != '\0' || errno != 0 ||
	    port == 0 || port > 65535)
		doveadm_fatal("%s: Invalid port number", name);
	return value;
}

void doveadm_auth_info_add(struct doveadm_auth_info *info, const char *arg)
{
	const char *v;

	if (str_begins(arg, "service=", &v))
		info->service = v;
	else if (str_begins(arg, "session=", &v))
		info->session = v;
	else if (str_begins(arg, "local_name=", &v))
		info->local_name = v;
	else if (str_begins(arg, "lip=", &v)) {
		free((char *)info->lip);
		info->lip = info_ip("lip", v);
	} else if (str_begins(arg, "rip=", &v)) {
		free((char *)info->rip);
		info->rip = info_ip("rip", v);
	}
	else if (str_begins(arg, "lport=", &v))
		info->lport = info_port("lport", v);
	else if (str_begins(arg, "rport=", &v))
		info->rport = info_port("rport", v);
	else if (str_begins(arg, "forward_", &v)) {
		if (str_len(info->forward) > 0)
			str_append_c(info->forward, '\t');
		str_append(info->forward, v);
	} else {
		str_append_c(info->extra, '\t');
		str_append_tabescaped(info->extra, arg);
	}
}

static void export_field(string_t *dest, const char *key, const char *value)
{
	if (value == NULL)
		return;
	str_printfa(dest, "\t%s=", key);
	str_append_tabescaped(dest, value);
}

static void export_tail(const struct doveadm_auth_info *info, string_t *dest)
{
	if (str_len(info->forward) > 0)
		export_field(dest, "forward_fields", str_c(info->forward));
	str_append_str(dest, info->extra);
}

void doveadm_auth_info_export_client(const struct doveadm_auth_info *info,
				     string_t *dest)
{
	export_field(dest, "service",
		     info->service != NULL ? info->service : "doveadm");
	export_field(dest, "session", info->session);
	export_field(dest, "lip", info->lip);
	export_field(dest, "rip", info->rip);
	export_field(dest, "lport", info->lport);
	export_field(dest, "rport", info->rport);
	export_field(dest, "local_name", info->local_name);
	export_tail(info, dest);
}

void doveadm_auth_info_export_master(const struct doveadm_auth_info *info,
				     string_t *dest)
{
	export_field(dest, "service",
		     info->service != NULL ? info->service : "doveadm");
	export_field(dest, "session", info->session);
	export_field(dest, "local_name", info->local_name);
	export_field(dest, "lip", info->lip);
	export_field(dest, "lport", info->lport);
	export_field(dest, "rip", info->rip);
	export_field(dest, "rport", info->rport);
	export_tail(info, dest);
}

int doveadm_auth_conn_open(const char *path,
			   struct doveadm_auth_conn **conn_r,
			   const char **error_r)
{
	struct sockaddr_un sa;
	struct doveadm_auth_conn *conn;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		*error_r = client_error("connect(%s) failed: %s", path,
					   strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*error_r = client_error("connect(%s) failed: %m", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	conn = i_new(struct doveadm_auth_conn, 1);
	conn->fd = fd;
	conn->path = i_strdup(path);
	conn->buf = str_new(1024);
	*conn_r = conn;
	return 0;
}

void doveadm_auth_conn_close(struct doveadm_auth_conn **_conn)
{
	struct doveadm_auth_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	close(conn->fd);
	/* the buffer may have held a password (AUTH resp=) */
	explicit_bzero(conn->buf->data, conn->buf->cap);
	str_free(&conn->buf);
	free(conn->path);
	free(conn);
}

int doveadm_auth_conn_send(struct doveadm_auth_conn *conn, const char *line,
			   const char **error_r)
{
	size_t len = strlen(line), pos = 0;

	while (pos < len) {
		ssize_t ret = send(conn->fd, line + pos, len - pos,
				   MSG_NOSIGNAL);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			*error_r = client_error("write(%s) failed: %m",
						   conn->path);
			return -1;
		}
		pos += (size_t)ret;
	}
	return 0;
}

static char **split_args(const char *line, size_t len)
{
	size_t count = 1, n = 0;
	char **args;

	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\t')
			count++;
	}
	args = i_new(char *, count + 1);
	for (size_t start = 0, i = 0; i <= len; i++) {
		if (i == len || line[i] == '\t') {
			args[n++] = tabunescape(line + start, i - start);
			start = i + 1;
		}
	}
	return args;
}

int doveadm_auth_conn_read_args(struct doveadm_auth_conn *conn,
				char ***args_r, const char **error_r)
{
	char *lf, tmp[4096];

	while ((lf = memchr(str_c(conn->buf), '\n',
			    str_len(conn->buf))) == NULL) {
		struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
		ssize_t ret;

		if (str_len(conn->buf) > AUTH_CONN_MAX_LINE) {
			*error_r = "BUG: Too long reply line";
			return -1;
		}
		ret = poll(&pfd, 1, AUTH_CONN_TIMEOUT_MSECS);
		if (ret == 0) {
			*error_r = "Auth server timed out";
			return -1;
		}
		ret = ret < 0 ? -1 : read(conn->fd, tmp, sizeof(tmp));
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			*error_r = ret == 0 ?
				"Disconnected unexpectedly" :
				client_error("read(%s) failed: %m",
						conn->path);
			return -1;
		}
		str_append_n(conn->buf, tmp, (size_t)ret);
	}
	*args_r = split_args(str_c(conn->buf), (size_t)(lf - str_c(conn->buf)));
	str_delete(conn->buf, 0, (size_t)(lf - str_c(conn->buf)) + 1);
	return 0;
}

void doveadm_auth_args_free(char ***_args)
{
	char **args = *_args;

	if (args == NULL)
		return;
	*_args = NULL;
	for (char **p = args; *p != NULL; p++) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
	free(args);
}

int doveadm_auth_client_handshake(struct doveadm_auth_conn *conn,
				  char **cookie_r, const char **error_r)
{
	char line[64], **args;
	bool done = false;

	snprintf(line, sizeof(line), "VERSION\t1\t2\nCPID\t%ld\n",
		 (long)getpid());
	if (doveadm_auth_conn_send(conn, line, error_r) < 0)
		return -1;
	while (!done) {
		if (doveadm_auth_conn_read_args(conn, &args, error_r) < 0)
			return -1;
		if (strcmp(args[0], "VERSION") == 0 &&
		    (args[1] == NULL || strcmp(args[1], "1") != 0)) {
			doveadm_auth_args_free(&args);
			*error_r = "Authentication server version "
					    "mismatch";
			return -1;
		}
		if (strcmp(args[0], "COOKIE") == 0 && args[1] != NULL &&
		    cookie_r != NULL)
			*cookie_r = i_strdup(args[1]);
		done = strcmp(args[0], "DONE") == 0;
		doveadm_auth_args_free(&args);
	}
	return 0;
}

int doveadm_auth_master_handshake(struct doveadm_auth_conn *conn,
				  const char **error_r)
{
	char **args;
	int ret = 0;

	if (doveadm_auth_conn_send(conn, "VERSION\t1\t0\n", error_r) < 0)
		return -1;
	if (doveadm_auth_conn_read_args(conn, &args, error_r) < 0)
		return -1;
	if (strcmp(args[0], "VERSION") != 0 || args[1] == NULL ||
	    strcmp(args[1], "1") != 0) {
		*error_r = "Auth server sent invalid version line";
		ret = -1;
	}
	doveadm_auth_args_free(&args);
	return ret;
}

static int master_connect(struct doveadm_auth_master *master,
			  const char **error_r)
{
	if (master->conn != NULL)
		return 0;
	if (doveadm_auth_conn_open(master->path, &master->conn, error_r) < 0)
		return -1;
	if (doveadm_auth_master_handshake(master->conn, error_r) < 0) {
		doveadm_auth_conn_close(&master->conn);
		return -1;
	}
	return 0;
}

/* The reply to request id, skipping the handshake's SPID. */
static int master_read_reply(struct doveadm_auth_master *master,
			     unsigned int id, char ***args_r,
			     const char **error_r)
{
	char **args, idstr[16];

	snprintf(idstr, sizeof(idstr), "%u", id);
	for (;;) {
		if (doveadm_auth_conn_read_args(master->conn, &args,
						error_r) < 0)
			return -1;
		if (args[1] != NULL && strcmp(args[1], idstr) == 0)
			break;
		doveadm_auth_args_free(&args);
	}
	*args_r = args;
	return 0;
}

int doveadm_auth_master_lookup(struct doveadm_auth_master *master,
			       const char *cmd, const char *user,
			       const struct doveadm_auth_info *info,
			       char ***args_r, const char **user_r,
			       char ***fields_r, const char **error_r)
{
	bool userdb = strcmp(cmd, "USER") == 0;
	unsigned int id = ++master->next_id;
	const char *error;
	string_t *req = str_new(256);
	char **args;

	*args_r = NULL;
	*user_r = NULL;
	*fields_r = NULL;
	str_printfa(req, "%s\t%u\t", cmd, id);
	str_append_tabescaped(req, user);
	doveadm_auth_info_export_master(info, req);
	str_append_c(req, '\n');
	if (master_connect(master, &error) < 0 ||
	    doveadm_auth_conn_send(master->conn, str_c(req), &error) < 0 ||
	    master_read_reply(master, id, &args, &error) < 0) {
		str_free(&req);
		doveadm_auth_conn_close(&master->conn);
		*error_r = client_error("auth-master: %s lookup(%s): %s",
					   userdb ? "userdb" : "passdb", user,
					   error);
		return -1;
	}
	str_free(&req);
	*args_r = args;
	*error_r = NULL;
	if (strcmp(args[0], "NOTFOUND") == 0)
		return 0;
	if (strcmp(args[0], cmd) == 0) {
		if (userdb && args[2] != NULL) {
			*user_r = args[2];
			*fields_r = args + 3;
		} else {
			*fields_r = args + 2;
		}
		return 1;
	}
	/* FAIL: the reason, if any, is the first field */
	*fields_r = args + 2;
	return -1;
}

int doveadm_auth_master_list(struct doveadm_auth_master *master,
			     const char *mask,
			     const struct doveadm_auth_info *info,
			     void (*cb)(const char *user, void *context),
			     void *context, const char **error_r)
{
	unsigned int id = ++master->next_id;
	string_t *req = str_new(256);
	char **args;
	int ret = 0;

	str_printfa(req, "LIST\t%u\tuser=", id);
	str_append_tabescaped(req, mask);
	doveadm_auth_info_export_master(info, req);
	str_append_c(req, '\n');
	if (master_connect(master, error_r) < 0 ||
	    doveadm_auth_conn_send(master->conn, str_c(req), error_r) < 0) {
		str_free(&req);
		return -1;
	}
	str_free(&req);
	for (;;) {
		if (master_read_reply(master, id, &args, error_r) < 0)
			return -1;
		if (strcmp(args[0], "LIST") == 0 && args[2] != NULL) {
			cb(args[2], context);
		} else {
			if (strcmp(args[0], "DONE") != 0) {
				*error_r = "User listing returned "
						    "failure";
				ret = -1;
			}
			doveadm_auth_args_free(&args);
			return ret;
		}
		doveadm_auth_args_free(&args);
	}
}

void doveadm_auth_master_close(struct doveadm_auth_master *master)
{
	doveadm_auth_conn_close(&master->conn);
}

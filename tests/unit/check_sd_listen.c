/* check_sd_listen.c - unit tests of lib/sd-listen.h with real sockets:
 * Debian's dovecot.socket layout (separate 0.0.0.0 and [::] sockets), a
 * dual-stack [::] socket, named fds, host names, unix sockets, FIFOs,
 * sockets that must not match (wrong port/address, UDP, not listening),
 * the unused-fd warning, LISTEN_* parsing, sd_notify messages on a fake
 * NOTIFY_SOCKET, and a run under systemd-socket-activate: this very
 * program is activated and matches the fds it inherits. */
#include "suites.h"
#include "sd-listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TEST_FDS 8

static int fds[MAX_TEST_FDS];
static const char *names[MAX_TEST_FDS];
static unsigned int fd_count;
static struct sd_listen *sd;

static void setup(void)
{
	fd_count = 0;
	sd = NULL;
}

static void teardown(void)
{
	sd_listen_free(&sd, false);
	for (unsigned int i = 0; i < fd_count; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
	fd_count = 0;
	test_tmpdir_remove();
}

/* A listening TCP socket on addr (port 0: any free one); returns port. */
static in_port_t add_inet(const char *addr, in_port_t port, int v6only,
			  const char *name)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
		len = sizeof(*sin);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
					    &v6only, sizeof(v6only)), 0);
	ck_assert_msg(bind(fd, (void *)&ss, len) == 0, "bind(%s): %s", addr,
		      strerror(errno));
	ck_assert_int_eq(listen(fd, 8), 0);
	len = sizeof(ss);
	ck_assert_int_eq(getsockname(fd, (void *)&ss, &len), 0);
	ck_assert_uint_lt(fd_count, MAX_TEST_FDS);
	names[fd_count] = name;
	fds[fd_count++] = fd;
	return ntohs(ss.ss_family == AF_INET ?
		     ((struct sockaddr_in *)(void *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
}

static void add_fd(int fd, const char *name)
{
	ck_assert_uint_lt(fd_count, MAX_TEST_FDS);
	names[fd_count] = name;
	fds[fd_count++] = fd;
}

static void describe(void)
{
	sd = sd_listen_from_fds(fds, names, fd_count);
}

static struct sd_listener inet(const char *name, const char *address,
			       in_port_t port)
{
	struct sd_listener l;

	memset(&l, 0, sizeof(l));
	l.name = name;
	l.type = SD_LISTENER_INET;
	l.address = address;
	l.port = port;
	return l;
}

/* ---- Core ---- */

START_TEST(test_describe)
{
	in_port_t p4 = add_inet("127.0.0.1", 0, 0, NULL);
	in_port_t p6 = add_inet("::1", 0, 1, "imaps");
	char buf[64];

	describe();
	ck_assert_uint_eq(sd->count, 2);
	ck_assert_int_eq(sd->fds[0].family, AF_INET);
	ck_assert_int_eq(sd->fds[0].type, SOCK_STREAM);
	ck_assert(sd->fds[0].listening);
	ck_assert_str_eq(sd->fds[0].name, "");
	ck_assert_uint_eq(sd->fds[0].port, p4);
	snprintf(buf, sizeof(buf), "127.0.0.1:%u", p4);
	ck_assert_str_eq(sd_listen_fd_describe(&sd->fds[0]), buf);
	ck_assert_int_eq(sd->fds[1].family, AF_INET6);
	ck_assert(sd->fds[1].v6only);
	ck_assert_str_eq(sd->fds[1].name, "imaps");
	snprintf(buf, sizeof(buf), "[::1]:%u", p6);
	ck_assert_str_eq(sd_listen_fd_describe(&sd->fds[1]), buf);
}
END_TEST

START_TEST(test_debian_socket_layout)
{
	/* Debian's dovecot.socket: 0.0.0.0:143 and [::]:143 with
	   BindIPv6Only=ipv6-only, unnamed; config listen = *, :: */
	in_port_t port = add_inet("0.0.0.0", 0, 0, "dovecot.socket");
	struct sd_listener l[3];

	add_inet("::", port, 1, "dovecot.socket");
	describe();
	l[0] = inet("imap", "*", port);
	l[1] = inet("imap", "::", port);
	l[2] = inet("imaps", "*", (in_port_t)(port == 65535 ? 1 : port + 1));
	ck_assert_uint_eq(sd_listen_match(sd, l, 3), 0);
	ck_assert_int_eq(l[0].fd, fds[0]);
	ck_assert_int_eq(l[1].fd, fds[1]);
	ck_assert(l[0].inherited && l[1].inherited);
	/* imaps was not in the socket unit: bind it yourself */
	ck_assert_int_eq(l[2].fd, -1);
	ck_assert(!l[2].inherited);
	ck_assert_int_eq(sd->fds[0].listener, 0);
	ck_assert_int_eq(sd->fds[1].listener, 1);
}
END_TEST

START_TEST(test_dual_stack)
{
	/* ListenStream=143 without BindIPv6Only: one [::] socket for both
	   families; binding 0.0.0.0:143 next to it would fail */
	in_port_t port = add_inet("::", 0, 0, NULL);
	struct sd_listener l[2];

	describe();
	l[0] = inet("imap", "*", port);
	l[1] = inet("imap", "::", port);
	ck_assert_uint_eq(sd_listen_match(sd, l, 2), 0);
	ck_assert_int_eq(l[1].fd, fds[0]);
	ck_assert_int_eq(l[0].fd, -1);
	ck_assert(l[0].inherited);

	/* with listen = * alone the [::] socket serves it */
	l[0] = inet("imap", "*", port);
	ck_assert_uint_eq(sd_listen_match(sd, l, 1), 0);
	ck_assert_int_eq(l[0].fd, fds[0]);
}
END_TEST

START_TEST(test_v6only_doesnt_cover_ipv4)
{
	in_port_t port = add_inet("::", 0, 1, NULL);
	struct sd_listener l[2];

	describe();
	l[0] = inet("imap", "*", port);
	l[1] = inet("imap", "::", port);
	ck_assert_uint_eq(sd_listen_match(sd, l, 2), 0);
	ck_assert_int_eq(l[1].fd, fds[0]);
	ck_assert(!l[0].inherited);
}
END_TEST

START_TEST(test_specific_addresses)
{
	in_port_t port = add_inet("127.0.0.1", 0, 0, NULL);
	struct sd_listener l[3];

	describe();
	/* not by port alone, unlike Dovecot 2.3 (which then panicked when
	   two listeners took the same fd) */
	l[0] = inet("imap", "127.0.0.2", port);
	l[1] = inet("imap", "*", port);
	l[2] = inet("imap", "127.0.0.1", (in_port_t)(port ^ 1));
	ck_assert_uint_eq(sd_listen_match(sd, l, 3), 1);
	ck_assert(!l[0].inherited && !l[1].inherited && !l[2].inherited);
	ck_assert_int_eq(sd->fds[0].listener, -1);

	l[0] = inet("imap", "127.0.0.1", port);
	ck_assert_uint_eq(sd_listen_match(sd, l, 1), 0);
	ck_assert_int_eq(l[0].fd, fds[0]);

	/* one address, one socket: a second entry doesn't share it */
	l[0] = inet("imap", "127.0.0.1", port);
	l[1] = inet("imap-again", "127.0.0.1", port);
	ck_assert_uint_eq(sd_listen_match(sd, l, 2), 0);
	ck_assert_int_eq(l[0].fd, fds[0]);
	ck_assert_int_eq(l[1].fd, -1);
	ck_assert(!l[1].inherited);
}
END_TEST

START_TEST(test_ipv6_literal_and_host_name)
{
	in_port_t p6 = add_inet("::1", 0, 1, NULL);
	in_port_t p4 = add_inet("127.0.0.1", 0, 0, NULL);
	struct sd_listener l[2];

	describe();
	l[0] = inet("a", "[::1]", p6);
	l[1] = inet("b", "localhost", p4);
	ck_assert_uint_eq(sd_listen_match(sd, l, 2), 0);
	ck_assert_int_eq(l[0].fd, fds[0]);
	ck_assert_int_eq(l[1].fd, fds[1]);
}
END_TEST

START_TEST(test_named_fds)
{
	/* names win over addresses and ports: these are imaps's sockets */
	in_port_t port = add_inet("127.0.0.1", 0, 0, "imaps");
	struct sd_listener l[3];

	add_inet("127.0.0.1", 0, 0, "pop3");
	describe();
	l[0] = inet("imaps", "*", 993);
	l[1] = inet("imaps", "::", 993);
	l[2] = inet("imap", "127.0.0.1", port);
	ck_assert_uint_eq(sd_listen_match(sd, l, 3), 1);
	ck_assert_int_eq(l[0].fd, fds[0]);
	/* the listener's other address is replaced, not bound */
	ck_assert_int_eq(l[1].fd, -1);
	ck_assert(l[1].inherited);
	/* a named fd is not taken by address for another listener */
	ck_assert_int_eq(l[2].fd, -1);
	ck_assert(!l[2].inherited);
	/* "pop3" names no listener here and matches no address */
	ck_assert_int_eq(sd->fds[1].listener, -1);
}
END_TEST

START_TEST(test_named_fds_by_address)
{
	in_port_t port = add_inet("0.0.0.0", 0, 0, "imap");
	struct sd_listener l[2];

	add_inet("::", port, 1, "imap");
	describe();
	/* listed the other way round: each goes where its address fits */
	l[0] = inet("imap", "::", port);
	l[1] = inet("imap", "*", port);
	ck_assert_uint_eq(sd_listen_match(sd, l, 2), 0);
	ck_assert_int_eq(l[0].fd, fds[1]);
	ck_assert_int_eq(l[1].fd, fds[0]);
}
END_TEST

START_TEST(test_unknown_name_matched_by_address)
{
	in_port_t port = add_inet("127.0.0.1", 0, 0, "unknown");
	struct sd_listener l;

	describe();
	l = inet("imap", "127.0.0.1", port);
	ck_assert_uint_eq(sd_listen_match(sd, &l, 1), 0);
	ck_assert_int_eq(l.fd, fds[0]);
}
END_TEST

START_TEST(test_unix_and_fifo)
{
	const char *dir = test_tmpdir_create();
	char path[PATH_MAX], other[PATH_MAX], fifo[PATH_MAX];
	struct sockaddr_un sun;
	struct sd_listener l[3];
	int fd;

	snprintf(path, sizeof(path), "%s/auth-client", dir);
	snprintf(other, sizeof(other), "%s/lmtp", dir);
	snprintf(fifo, sizeof(fifo), "%s/login-master-notify", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(fd, (void *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	add_fd(fd, NULL);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	add_fd(fd, NULL);
	describe();
	ck_assert_str_eq(sd->fds[0].path, path);
	ck_assert_str_eq(sd_listen_fd_describe(&sd->fds[0]), path);
	ck_assert(sd->fds[1].fifo);

	memset(l, 0, sizeof(l));
	l[0].name = "lmtp";
	l[0].type = SD_LISTENER_UNIX;
	l[0].path = other;
	l[1].name = "auth-client";
	l[1].type = SD_LISTENER_UNIX;
	l[1].path = path;
	l[2].name = "notify";
	l[2].type = SD_LISTENER_FIFO;
	l[2].path = fifo;
	ck_assert_uint_eq(sd_listen_match(sd, l, 3), 0);
	ck_assert_int_eq(l[0].fd, -1);
	ck_assert_int_eq(l[1].fd, fds[0]);
	ck_assert_int_eq(l[2].fd, fds[1]);
}
END_TEST

START_TEST(test_not_matching_kinds)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	in_port_t port = 0;
	struct sd_listener l;
	int fd;

	/* a UDP socket and a bound but not listening TCP socket */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (void *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (void *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	add_fd(fd, "imap");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_port = htons(port);
	ck_assert_int_eq(bind(fd, (void *)&sin, sizeof(sin)), 0);
	add_fd(fd, "imap");
	describe();
	ck_assert(!sd->fds[1].listening);
	l = inet("imap", "127.0.0.1", port);
	ck_assert_uint_eq(sd_listen_match(sd, &l, 1), 2);
	ck_assert(!l.inherited);
}
END_TEST

START_TEST(test_close_unused)
{
	in_port_t used = add_inet("127.0.0.1", 0, 0, NULL);
	in_port_t unused = add_inet("127.0.0.1", 0, 0, NULL);
	struct sd_listener l = inet("imap", "127.0.0.1", used);
	char expect[128];
	int closed_fd = fds[1];

	describe();
	ck_assert_uint_eq(sd_listen_match(sd, &l, 1), 1);
	test_log_capture_start();
	ck_assert_uint_eq(sd_listen_close_unused(sd), 1);
	snprintf(expect, sizeof(expect), "Error: systemd listens on port %u, "
		 "but it's not configured in Dovecot. Closing.\n", unused);
	ck_assert_ptr_nonnull(strstr(test_log_captured(), expect));
	test_log_capture_stop();
	ck_assert_int_lt(fcntl(closed_fd, F_GETFD), 0);
	ck_assert_int_ge(fcntl(fds[0], F_GETFD), 0);
	fds[1] = -1;
}
END_TEST

START_TEST(test_env_parsing)
{
	const char *error = NULL;

	/* no variables, or meant for another pid: nothing, no error */
	ck_assert_int_eq(sd_listen_init_from(NULL, NULL, NULL, 100, &sd,
					     &error), 0);
	ck_assert_uint_eq(sd->count, 0);
	sd_listen_free(&sd, false);
	ck_assert_int_eq(sd_listen_init_from("99", "2", "a:b", 100, &sd,
					     &error), 0);
	ck_assert_uint_eq(sd->count, 0);
	sd_listen_free(&sd, false);
	ck_assert_int_eq(sd_listen_init_from("100", "0", NULL, 100, &sd,
					     &error), 0);
	ck_assert_uint_eq(sd->count, 0);
	sd_listen_free(&sd, false);

	ck_assert_int_eq(sd_listen_init_from("x", "1", NULL, 100, &sd,
					     &error), -1);
	ck_assert_str_eq(error, "Invalid LISTEN_PID");
	sd_listen_free(&sd, false);
	ck_assert_int_eq(sd_listen_init_from("100", "-1", NULL, 100, &sd,
					     &error), -1);
	ck_assert_str_eq(error, "Invalid LISTEN_FDS");
	sd_listen_free(&sd, false);
	ck_assert_int_eq(sd_listen_init_from("100", "99999", NULL, 100, &sd,
					     &error), -1);
	ck_assert_str_eq(error, "Invalid LISTEN_FDS");
	sd_listen_free(&sd, false);
	ck_assert_int_eq(sd_listen_init_from("100", "0", "a", 100, &sd,
					     &error), -1);
	ck_assert_str_eq(error, "LISTEN_FDNAMES has 1 names for 0 fds");
	sd_listen_free(&sd, false);
	/* 4000 fds from 3 on can't all be open here */
	ck_assert_int_eq(sd_listen_init_from("100", "4000", NULL, 100, &sd,
					     &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "LISTEN_FDS=4000, but fd "));
	sd_listen_free(&sd, false);
}
END_TEST

/* ---- sd_notify ---- */

static int notify_socket(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (void *)&sun, sizeof(sun)), 0);
	return fd;
}

static const char *notify_recv(int fd)
{
	static char buf[512];
	ssize_t ret = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ck_assert_int_gt(ret, 0);
	buf[ret] = '\0';
	return buf;
}

START_TEST(test_notify)
{
	const char *dir = test_tmpdir_create();
	char path[PATH_MAX];
	const char *msg;
	int fd;

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(sd_notify_ready(), 0);

	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = notify_socket(path);
	add_fd(fd, NULL);
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_int_eq(sd_notify_ready(), 1);
	ck_assert_str_eq(notify_recv(fd), "READY=1");
	ck_assert_int_eq(sd_notify_reloading(), 1);
	msg = notify_recv(fd);
	ck_assert_ptr_nonnull(strstr(msg, "RELOADING=1\nMONOTONIC_USEC="));
	ck_assert_int_eq(sd_notify_stopping(), 1);
	ck_assert_str_eq(notify_recv(fd), "STOPPING=1");
	ck_assert_int_eq(sd_notify_status("%u clients\nconnected", 5), 1);
	ck_assert_str_eq(notify_recv(fd), "STATUS=5 clients connected");

	/* a socket that went away is an error, not a crash */
	setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
	ck_assert_int_eq(sd_notify_ready(), -1);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

/* ---- systemd-socket-activate ---- */

#define ACTIVATE "/usr/bin/systemd-socket-activate"

static in_port_t free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	in_port_t port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (void *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (void *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static bool connect_port(in_port_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	ok = connect(fd, (void *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* Runs this program under systemd-socket-activate with three sockets:
 * one named "imap", one matched by address, one nobody wants. The
 * activated copy runs only the "Activated" case below. */
START_TEST(test_socket_activate)
{
	const char *dir = test_tmpdir_create();
	char self[PATH_MAX], out_path[PATH_MAX], listen[3][64], ports[64];
	char *output;
	in_port_t p[3];
	ssize_t len;
	pid_t pid;
	int status, tries;

	if (access(ACTIVATE, X_OK) != 0) {
		fprintf(stderr, "skipped: %s not installed\n", ACTIVATE);
		return;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(len, 0);
	self[len] = '\0';
	for (int i = 0; i < 3; i++) {
		p[i] = free_port();
		snprintf(listen[i], sizeof(listen[i]), "127.0.0.1:%u", p[i]);
	}
	snprintf(ports, sizeof(ports), "ROOST_SD_PORTS=%u,%u,%u", p[0], p[1],
		 p[2]);
	snprintf(out_path, sizeof(out_path), "%s/out", dir);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(out, 1);
		dup2(out, 2);
		execl(ACTIVATE, ACTIVATE, "-l", listen[0], "-l", listen[1],
		      "-l", listen[2], "--fdname=imap:dovecot.socket:"
		      "dovecot.socket", "-E", "CK_RUN_SUITE=sd_listen",
		      "-E", "CK_RUN_CASE=Activated", "-E", "CK_FORK=no",
		      "-E", "ROOST_SD_ACTIVATED=1", "-E", ports, self,
		      (char *)NULL);
		_exit(127);
	}
	/* it execs us on the first connection */
	for (tries = 0; tries < 100 && !connect_port(p[0]); tries++)
		usleep(20000);
	for (tries = 0; tries < 500; tries++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(20000);
	}
	if (tries == 500) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_abort_msg("activated process did not finish");
	}
	output = test_read_file(out_path, NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "activated run failed: %s", output);
	ck_assert_msg(strstr(output, "100%: Checks: 1, Failures: 0") != NULL,
		      "activated run: %s", output);
	free(output);
}
END_TEST

/* Only does something when started by test_socket_activate. */
START_TEST(test_activated)
{
	const char *ports = getenv("ROOST_SD_PORTS"), *error = NULL;
	unsigned int p[3];
	struct sd_listener l[3];
	char expect[128];

	if (getenv("ROOST_SD_ACTIVATED") == NULL)
		return;
	ck_assert_ptr_nonnull(ports);
	ck_assert_int_eq(sscanf(ports, "%u,%u,%u", &p[0], &p[1], &p[2]), 3);
	ck_assert_int_eq(sd_listen_init(true, &sd, &error), 0);
	ck_assert_ptr_null(getenv("LISTEN_FDS"));
	ck_assert_ptr_null(getenv("LISTEN_PID"));
	ck_assert_ptr_null(getenv("LISTEN_FDNAMES"));
	ck_assert_uint_eq(sd->count, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(sd->fds[i].fd, 3 + i);
		ck_assert_uint_eq(sd->fds[i].port, p[i]);
		ck_assert_int_ne(fcntl(3 + i, F_GETFD) & FD_CLOEXEC, 0);
	}
	ck_assert_str_eq(sd->fds[0].name, "imap");
	ck_assert_str_eq(sd->fds[1].name, "dovecot.socket");

	l[0] = inet("imap", "*", 143);
	l[1] = inet("imap", "::", 143);
	l[2] = inet("pop3s", "127.0.0.1", (in_port_t)p[1]);
	ck_assert_uint_eq(sd_listen_match(sd, l, 3), 1);
	ck_assert_int_eq(l[0].fd, 3);
	ck_assert(l[1].inherited);
	ck_assert_int_eq(l[1].fd, -1);
	ck_assert_int_eq(l[2].fd, 4);

	test_log_capture_start();
	ck_assert_uint_eq(sd_listen_close_unused(sd), 1);
	snprintf(expect, sizeof(expect), "systemd listens on port %u, but "
		 "it's not configured in Dovecot. Closing.", p[2]);
	ck_assert_ptr_nonnull(strstr(test_log_captured(), expect));
	test_log_capture_stop();
	ck_assert_int_lt(fcntl(5, F_GETFD), 0);
	sd_listen_free(&sd, false);
}
END_TEST

Suite *make_sd_listen_suite(void)
{
	Suite *s = suite_create("sd_listen");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_debian_socket_layout);
	tcase_add_test(tc, test_dual_stack);
	tcase_add_test(tc, test_v6only_doesnt_cover_ipv4);
	tcase_add_test(tc, test_specific_addresses);
	tcase_add_test(tc, test_ipv6_literal_and_host_name);
	tcase_add_test(tc, test_named_fds);
	tcase_add_test(tc, test_named_fds_by_address);
	tcase_add_test(tc, test_unknown_name_matched_by_address);
	tcase_add_test(tc, test_unix_and_fifo);
	tcase_add_test(tc, test_close_unused);
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_socket_activate);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_not_matching_kinds);
	tcase_add_test(tc, test_env_parsing);
	suite_add_tcase(s, tc);

	tc = tcase_create("Activated");
	tcase_add_test(tc, test_activated);
	suite_add_tcase(s, tc);
	return s;
}

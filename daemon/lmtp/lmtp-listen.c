/* lmtp-listen.c - the lmtp service's accept loop: one forked process per
 * connection (Dovecot's lmtp runs with client_limit = 1 too), so that a
 * slow userdb lookup or delivery holds up only its own session. */
#include "lmtp-client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct lmtp_listen {
	struct ioloop *loop;
	const int *fds;
	unsigned int count;
	struct io **ios;
	unsigned int running, limit;
	const struct lmtp_client_settings *set;
};

static void lmtp_listen_accept(void *context);

static void lmtp_listen_update(struct lmtp_listen *l)
{
	bool want = l->running < l->limit;

	for (unsigned int i = 0; i < l->count; i++) {
		if (want && l->ios[i] == NULL)
			l->ios[i] = io_add(l->loop, l->fds[i], IO_READ,
					   lmtp_listen_accept, l);
		else if (!want && l->ios[i] != NULL)
			io_remove(&l->ios[i]);
	}
}

static void lmtp_session_destroyed(void *context)
{
	io_loop_stop(context);
}

/* In the forked process: serve the one connection, then exit. */
static void ATTR_NORETURN
lmtp_session_run(struct lmtp_listen *l, int fd,
		 const struct sockaddr_storage *sa)
{
	struct lmtp_client_settings set = *l->set;
	struct ip_addr ip;
	struct ioloop *loop;
	struct lmtp_client *client;
	char prefix[64];

	/* The listener's loop is left alone, not destroyed: its epoll and
	   signalfd are shared with the parent, and removing anything from
	   them here would remove it there too. The session gets a fresh
	   loop; the parent's listening sockets are closed. */
	for (unsigned int i = 0; i < l->count; i++)
		close(l->fds[i]);
	memset(&ip, 0, sizeof(ip));
	if (sa->ss_family == AF_INET) {
		ip.family = AF_INET;
		ip.u.ip4 = ((const struct sockaddr_in *)sa)->sin_addr;
		set.remote_ip = &ip;
	} else if (sa->ss_family == AF_INET6) {
		ip.family = AF_INET6;
		ip.u.ip6 = ((const struct sockaddr_in6 *)sa)->sin6_addr;
		set.remote_ip = &ip;
	} else {
		set.remote_ip = NULL;
	}
	{
		sigset_t none;

		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
	}
	snprintf(prefix, sizeof(prefix), "lmtp(%ld): ", (long)getpid());
	log_set_prefix(prefix);
	loop = io_loop_create();
	client = lmtp_client_create(loop, fd, &set, lmtp_session_destroyed,
				    loop);
	(void)client;
	io_loop_run(loop);
	io_loop_destroy(&loop);
	_exit(0);
}

static void lmtp_listen_accept(void *context)
{
	struct lmtp_listen *l = context;

	for (unsigned int i = 0; i < l->count && l->running < l->limit; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		int fd = accept4(l->fds[i], (struct sockaddr *)&sa, &salen,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		pid_t pid;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				i_error("accept() failed: %m");
			continue;
		}
		pid = fork();
		if (pid < 0) {
			i_error("fork() failed: %m");
			close(fd);
			continue;
		}
		if (pid == 0)
			lmtp_session_run(l, fd, &sa);
		close(fd);
		l->running++;
	}
	lmtp_listen_update(l);
}

static void lmtp_listen_sigchld(int signo ATTR_UNUSED, void *context)
{
	struct lmtp_listen *l = context;
	int status;

	while (waitpid(-1, &status, WNOHANG) > 0) {
		if (l->running > 0)
			l->running--;
	}
	lmtp_listen_update(l);
}

static void lmtp_listen_sigterm(int signo ATTR_UNUSED, void *context)
{
	struct lmtp_listen *l = context;

	io_loop_stop(l->loop);
}

void lmtp_listen_run(const int *fds, unsigned int count,
		     unsigned int process_limit,
		     const struct lmtp_client_settings *set)
{
	struct lmtp_listen l;

	memset(&l, 0, sizeof(l));
	l.fds = fds;
	l.count = count;
	l.limit = process_limit == 0 ? 100 : process_limit;
	l.set = set;
	l.ios = i_new(struct io *, count == 0 ? 1 : count);
	l.loop = io_loop_create();
	io_loop_set_signal(l.loop, SIGCHLD, lmtp_listen_sigchld, &l);
	io_loop_set_signal(l.loop, SIGTERM, lmtp_listen_sigterm, &l);
	io_loop_set_signal(l.loop, SIGINT, lmtp_listen_sigterm, &l);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < count; i++) {
		int flags = fcntl(fds[i], F_GETFL);

		if (flags >= 0)
			(void)fcntl(fds[i], F_SETFL, flags | O_NONBLOCK);
	}
	lmtp_listen_update(&l);
	io_loop_run(l.loop);
	for (unsigned int i = 0; i < count; i++)
		io_remove(&l.ios[i]);
	free(l.ios);
	io_loop_destroy(&l.loop);
}

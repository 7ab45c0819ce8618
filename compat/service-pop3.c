/* service-pop3.c - `roost pop3 [-c FILE] [-o key=value] -u USER`: a
 * pre-authenticated POP3 session on stdin/stdout, as Dovecot's pop3
 * binary runs from a shell or inetd: the user is looked up in the
 * userdb, privileges are dropped to the user, "+OK Logged in." is sent
 * and the session runs until QUIT. The master's mail workers run the
 * same session code on handed-over connections. */
#include "lib.h"
#include "compat.h"
#include "config-bind.h"
#include "doveadm-mail.h"
#include "ioloop.h"
#include "mail-plugins.h"
#include "pop3-client.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void session_destroyed(void *context)
{
	io_loop_stop(context);
}

/* Copy between the two fds of the relay until one side closes. */
static void relay_run(int in_fd, int out_fd, int sock)
{
	char buf[8192];
	struct pollfd fds[2] = {
		{ .fd = in_fd, .events = POLLIN },
		{ .fd = sock, .events = POLLIN },
	};

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents != 0) {
			ssize_t n = read(in_fd, buf, sizeof(buf));
			if (n <= 0) {
				/* stdin ended: no more commands */
				shutdown(sock, SHUT_WR);
				fds[0].fd = -1;
			} else if (write(sock, buf, (size_t)n) != n) {
				break;
			}
		}
		if (fds[1].revents != 0) {
			ssize_t n = read(sock, buf, sizeof(buf));
			if (n <= 0 || write(out_fd, buf, (size_t)n) != n)
				break;
		}
	}
}

/* The session needs one bidirectional socket: stdin is one under
 * inetd/systemd; for pipes and terminals a child relays. */
int stdio_session_fd(pid_t *relay_pid_r)
{
	struct stat st;
	int sv[2];

	*relay_pid_r = -1;
	if (fstat(0, &st) == 0 && S_ISSOCK(st.st_mode))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		i_fatal("socketpair() failed: %m");
	*relay_pid_r = fork();
	if (*relay_pid_r < 0)
		i_fatal("fork() failed: %m");
	if (*relay_pid_r == 0) {
		close(sv[0]);
		relay_run(0, 1, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	return sv[0];
}

int stdio_session_init(int argc, char *argv[], const char *protocol,
		       const char *error_prefix, struct stdio_session *ss)
{
	const char *path = NULL, *username = NULL, *error;
	char *prefix;
	int c, ret;

	memset(ss, 0, sizeof(*ss));
	prefix = i_strdup_printf("%s: ", protocol);
	log_set_prefix(prefix);
	i_free(prefix);
	while ((c = getopt(argc, argv, "c:o:u:")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			array_push(&ss->overrides, optarg);
			break;
		case 'u':
			username = optarg;
			break;
		default:
			fprintf(stderr, "Usage: roost %s [-c <config>] "
				"[-o <key=value>] -u <user>\n", protocol);
			array_free(&ss->overrides);
			return EXIT_USAGE;
		}
	}
	if (username == NULL)
		username = getenv("USER");
	if (username == NULL)
		i_fatal("USER environment missing and -u not given");
	if (path == NULL)
		path = roost_default_config_path();
	if (roost_config_load(path, 0, &ss->config, &error) < 0)
		i_fatal("%s", error);
	ss->svc = mail_service_init(ss->config, protocol, ss->overrides.v,
				    (unsigned int)ss->overrides.count, false);
	ret = mail_service_lookup(ss->svc, username, true, &ss->suser, &error);
	if (ret <= 0) {
		if (ret == 0)
			error = "User doesn't exist";
		printf("%s%s\r\n", error_prefix, error);
		i_error("%s", error);
		return EXIT_NOUSER;
	}
	/* Dovecot's mail_log_prefix, without a session id */
	ss->log_prefix = strcmp(protocol, "pop3") == 0 ?
		i_strdup_printf("%s(%s)<%ld><>: ", protocol,
				ss->suser->username, (long)getpid()) :
		i_strdup_printf("%s(%s): ", protocol, ss->suser->username);
	log_set_prefix(ss->log_prefix);
	if (mail_service_user_init(ss->svc, ss->suser, false, false, &ss->user,
				   &error) < 0) {
		if (mail_plugins_error_is_load(error)) {
			/* fatal as in Dovecot: imap says nothing, pop3 its
			   internal error line */
			if (strcmp(protocol, "pop3") == 0)
				printf("%s%s\r\n", error_prefix,
				       "Internal error occurred. Refer to "
				       "server log for more information.");
			fflush(stdout);
			i_fatal_status(EXIT_CONFIG, "%s", error);
		}
		printf("%s%s\r\n", error_prefix, error);
		i_error("%s", error);
		return EXIT_TEMPFAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	ss->fd = stdio_session_fd(&ss->relay_pid);
	ss->loop = io_loop_create();
	return 0;
}

void stdio_session_deinit(struct stdio_session *ss)
{
	if (ss->loop != NULL)
		io_loop_destroy(&ss->loop);
	if (ss->relay_pid > 0)
		(void)waitpid(ss->relay_pid, NULL, 0);
	if (ss->user != NULL)
		mail_service_user_free(ss->svc, &ss->suser, &ss->user);
	if (ss->svc != NULL)
		mail_service_deinit(&ss->svc);
	if (ss->config != NULL)
		config_free(&ss->config);
	array_free(&ss->overrides);
	i_free(ss->log_prefix);
}

int pop3_cmd_main(int argc, char *argv[])
{
	struct stdio_session ss;
	struct pop3_client *client;
	const char *error;
	int ret;

	ret = stdio_session_init(argc, argv, "pop3", "-ERR [SYS/TEMP] ", &ss);
	if (ret != 0) {
		stdio_session_deinit(&ss);
		return ret;
	}
	/* pre-authenticated: no "+OK Logged in." (as Dovecot) */
	client = pop3_client_create(ss.loop, ss.fd, ss.user, ss.suser->set, "",
				    0, session_destroyed, ss.loop, &error);
	if (client == NULL) {
		char *line = i_strdup_printf("-ERR [SYS/TEMP] %s\r\n", error);
		if (write(ss.fd, line, strlen(line)) < 0)
			i_error("write() failed: %m");
		i_free(line);
		i_error("Couldn't open INBOX: %s", error);
		close(ss.fd);
		ret = EXIT_TEMPFAIL;
	} else {
		io_loop_run(ss.loop);
		ret = 0;
	}
	stdio_session_deinit(&ss);
	return ret;
}

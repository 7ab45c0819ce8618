/* service-imap.c - `roost imap [-c FILE] [-o key=value] -u USER`: a
 * pre-authenticated IMAP session on stdin/stdout, as Dovecot's imap
 * binary runs from a shell, inetd or an SSH command: the user is looked
 * up in the userdb, privileges are dropped to the user, "* PREAUTH" is
 * sent and the session runs until LOGOUT. The master's mail workers run
 * the same session code on handed-over connections. */
#include "lib.h"
#include "compat.h"
#include "config-bind.h"
#include "doveadm-mail.h"
#include "ioloop.h"
#include "imap-client.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void session_destroyed(void *context)
{
	io_loop_stop(context);
}

int imap_cmd_main(int argc, char *argv[])
{
	const char *path = NULL, *username = NULL, *error;
	ARRAY_STR overrides = ARRAY_INIT;
	struct config *config;
	struct mail_service *svc;
	struct mail_service_user *suser;
	struct mail_user *user;
	struct imap_client_start start;
	struct ioloop *loop;
	pid_t relay_pid;
	char *prefix;
	int c, fd, ret;

	log_set_prefix("imap: ");
	while ((c = getopt(argc, argv, "c:o:u:")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			array_push(&overrides, optarg);
			break;
		case 'u':
			username = optarg;
			break;
		default:
			fprintf(stderr, "Usage: roost imap [-c <config>] "
				"[-o <key=value>] -u <user>\n");
			return EXIT_USAGE;
		}
	}
	if (username == NULL)
		username = getenv("USER");
	if (username == NULL)
		i_fatal("USER environment missing and -u not given");
	if (path == NULL)
		path = roost_default_config_path();
	if (roost_config_load(path, 0, &config, &error) < 0)
		i_fatal("%s", error);
	svc = mail_service_init(config, "imap", overrides.v,
				(unsigned int)overrides.count, false);
	ret = mail_service_lookup(svc, username, true, &suser, &error);
	if (ret <= 0) {
		if (ret == 0)
			error = "User doesn't exist";
		printf("* BYE %s\r\n", error);
		i_error("%s", error);
		return EXIT_NOUSER;
	}
	prefix = i_strdup_printf("imap(%s): ", suser->username);
	log_set_prefix(prefix);
	if (mail_service_user_init(svc, suser, false, false, &user, &error) < 0) {
		printf("* BYE %s\r\n", error);
		i_error("%s", error);
		return EXIT_TEMPFAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = stdio_session_fd(&relay_pid);
	loop = io_loop_create();
	memset(&start, 0, sizeof(start));
	start.preauth = true;
	(void)imap_client_create(loop, fd, user, suser->set, "", &start,
				 session_destroyed, loop);
	io_loop_run(loop);
	ret = 0;
	io_loop_destroy(&loop);
	if (relay_pid > 0)
		(void)waitpid(relay_pid, NULL, 0);
	mail_service_user_free(svc, &suser, &user);
	mail_service_deinit(&svc);
	config_free(&config);
	array_free(&overrides);
	i_free(prefix);
	return ret;
}

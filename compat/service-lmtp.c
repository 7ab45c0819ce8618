/* service-lmtp.c - `roost lmtp`: Dovecot's lmtp service.
 *   roost lmtp -c FILE -L N   (started by the master) accept on the N
 *                             listening sockets on fds 3..3+N-1
 *   roost lmtp [-c FILE] [-o key=value]   one LMTP session on stdin/
 *                             stdout, as Dovecot's lmtp binary runs
 *                             standalone (inetd, tests)
 * Users are found through the auth service's userdb (auth-userdb
 * socket, or in this process when no auth service runs) and each
 * delivery child becomes the user through the mail service
 * (doveadm-mail-user.c), as dovecot-lda does. */
#include "lib.h"
#include "compat.h"
#include "config-tls.h"
#include "config-parser.h"
#include "doveadm-mail.h"
#include "ioloop.h"
#include "lmtp-client.h"
#include "settings-structs.h"
#include "config-value.h"
#include "tls.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct lmtp_service {
	struct mail_service *svc;
};

static int lmtp_ops_lookup(void *context, const char *username,
			   void **user_r, const char **username_r,
			   const char **error_r)
{
	struct lmtp_service *ls = context;
	struct mail_service_user *user;
	int ret;

	ret = mail_service_lookup(ls->svc, username, true, &user, error_r);
	if (ret <= 0)
		return ret;
	*user_r = user;
	*username_r = user->username;
	return 1;
}

static const struct settings_root *lmtp_ops_user_set(void *context ATTR_UNUSED,
						     void *user)
{
	return ((struct mail_service_user *)user)->set;
}

static int lmtp_ops_user_init(void *context, void *user,
			      struct mail_user **mail_user_r,
			      const char **error_r)
{
	struct lmtp_service *ls = context;

	/* for good (not temporarily): this process only delivers */
	return mail_service_user_init(ls->svc, user, false, false,
				      mail_user_r, error_r);
}

static void lmtp_ops_user_free(void *context, void **user)
{
	struct lmtp_service *ls = context;
	struct mail_service_user *suser = *user;

	*user = NULL;
	mail_service_user_free(ls->svc, &suser, NULL);
}

static const struct lmtp_user_ops lmtp_user_ops = {
	.lookup = lmtp_ops_lookup,
	.user_set = lmtp_ops_user_set,
	.user_init = lmtp_ops_user_init,
	.user_free = lmtp_ops_user_free,
};

/* log_path (a file) as the other services; syslog/stderr otherwise */
static void lmtp_log_open(const struct settings_root *set)
{
	const char *error;

	if (strcmp(set->log_path, "syslog") == 0) {
		if (log_open_syslog(set->instance_name, set->syslog_facility,
				    &error) < 0)
			i_error("%s", error);
	} else if (set->log_path[0] != '\0' &&
		   strcmp(set->log_path, "/dev/stderr") != 0) {
		if (log_open_file(set->log_path, set->log_timestamp,
				  &error) < 0 &&
		    log_open_fd(2, set->log_timestamp) < 0)
			i_error("%s", error);
	}
}

/* STARTTLS, when ssl isn't "no" (Dovecot's lmtp offers it then): the
 * context is built once, as root, before any session. */
static struct tls_ctx *lmtp_tls_init(const struct settings_root *set)
{
	struct tls_ctx *ctx = NULL;
	const char *error;

	if (strcmp(set->ssl, "no") == 0 || set->ssl_cert[0] == '\0')
		return NULL;
	if (config_tls_server_ctx(set, &ctx, &error) < 0)
		i_fatal("%s", error);
	return ctx;
}

static unsigned int lmtp_process_limit(const struct settings_root *set)
{
	for (unsigned int i = 0; i < set->service_count; i++) {
		if (strcmp(set->service[i]->name, "lmtp") == 0 &&
		    set->service[i]->process_limit > 0)
			return set->service[i]->process_limit;
	}
	return set->default_process_limit;
}

static void lmtp_stdio_destroyed(void *context)
{
	io_loop_stop(context);
}

/* One session on stdin/stdout. */
static void lmtp_stdio_run(const struct lmtp_client_settings *cset)
{
	struct lmtp_client_settings set = *cset;
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	struct ip_addr ip;
	struct ioloop *loop;
	pid_t relay_pid;
	int fd = stdio_session_fd(&relay_pid);
	char prefix[64];

	memset(&ip, 0, sizeof(ip));
	if (getpeername(fd, (struct sockaddr *)&sa, &salen) == 0) {
		if (sa.ss_family == AF_INET) {
			ip.family = AF_INET;
			ip.u.ip4 = ((struct sockaddr_in *)&sa)->sin_addr;
			set.remote_ip = &ip;
		} else if (sa.ss_family == AF_INET6) {
			ip.family = AF_INET6;
			ip.u.ip6 = ((struct sockaddr_in6 *)&sa)->sin6_addr;
			set.remote_ip = &ip;
		}
	}
	snprintf(prefix, sizeof(prefix), "lmtp(%ld): ", (long)getpid());
	log_set_prefix(prefix);
	loop = io_loop_create();
	(void)lmtp_client_create(loop, fd, &set, lmtp_stdio_destroyed, loop);
	io_loop_run(loop);
	io_loop_destroy(&loop);
	if (relay_pid > 0)
		(void)waitpid(relay_pid, NULL, 0);
}

int lmtp_cmd_main(int argc, char *argv[])
{
	ARRAY(const char *) overrides = ARRAY_INIT;
	const char *path = NULL, *error;
	struct lmtp_service ls;
	struct lmtp_client_settings cset;
	const struct settings_root *set;
	struct config *config;
	unsigned int listen_count = 0;
	int c;

	log_set_prefix("lmtp: ");
	while ((c = getopt(argc, argv, "c:o:L:")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			array_push(&overrides, optarg);
			break;
		case 'L':
			listen_count = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "Usage: roost lmtp [-c <config>] "
				"[-o <key=value>] [-L <listener count>]\n");
			array_free(&overrides);
			return EXIT_USAGE;
		}
	}
	if (path == NULL)
		path = roost_default_config_path();
	if (roost_config_load(path, 0, &config, &error) < 0)
		i_fatal("%s", error);
	ls.svc = mail_service_init(config, "lmtp", overrides.v,
				   (unsigned int)overrides.count, false);
	set = mail_service_get_set(ls.svc);
	lmtp_log_open(set);
	memset(&cset, 0, sizeof(cset));
	cset.set = set;
	cset.ops = &lmtp_user_ops;
	cset.ops_context = &ls;
	cset.temp_dir = set->mail_temp_dir;
	cset.tls_ctx = lmtp_tls_init(set);
	if (listen_count > 0) {
		int *fds = i_new(int, listen_count);

		for (unsigned int i = 0; i < listen_count; i++)
			fds[i] = 3 + (int)i;
		log_set_prefix("lmtp: ");
		lmtp_listen_run(fds, listen_count, lmtp_process_limit(set),
				&cset);
		free(fds);
	} else {
		signal(SIGPIPE, SIG_IGN);
		lmtp_stdio_run(&cset);
	}
	if (cset.tls_ctx != NULL)
		tls_ctx_free(&cset.tls_ctx);
	mail_service_deinit(&ls.svc);
	config_free(&config);
	array_free(&overrides);
	return 0;
}

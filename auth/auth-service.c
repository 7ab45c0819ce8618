/* auth-service.c - socket setup and the main loop of the auth process.
 * The socket type comes from the listener's name, as in Dovecot: names
 * ending in "master" speak the master protocol, in "userdb" the userdb
 * subset of it, "login" ones are login-process client sockets, and every
 * other (e.g. Postfix's private/auth) is a plain auth-client socket. */
#include "auth-service.h"
#include "auth.h"
#include "auth-cache.h"
#include "auth-client-connection.h"
#include "auth-master-connection.h"
#include "pool.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum socket_type {
	SOCKET_CLIENT,
	SOCKET_LOGIN,
	SOCKET_MASTER,
	SOCKET_USERDB,
};

struct auth_listener {
	struct auth *auth;
	enum socket_type type;
	int fd;
	struct io *io;
	const char *path;
};

static enum socket_type socket_type_of(const char *path)
{
	const char *name = strrchr(path, '/');

	name = name == NULL ? path : name + 1;
	if (str_ends(name, "master"))
		return SOCKET_MASTER;
	if (str_ends(name, "userdb"))
		return SOCKET_USERDB;
	if (str_ends(name, "login"))
		return SOCKET_LOGIN;
	return SOCKET_CLIENT;
}

static void listener_accept(void *context)
{
	struct auth_listener *l = context;
	int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			i_error("accept(%s) failed: %s", l->path,
				strerror(errno));
		return;
	}
	switch (l->type) {
	case SOCKET_CLIENT:
	case SOCKET_LOGIN:
		(void)auth_client_connection_create(l->auth, fd,
						    l->type == SOCKET_LOGIN);
		break;
	case SOCKET_MASTER:
	case SOCKET_USERDB:
		(void)auth_master_connection_create(l->auth, fd,
						    l->type == SOCKET_USERDB);
		break;
	}
}

/* Create path (relative to base_dir) as a listening unix socket with the
 * configured mode and owner. */
static int listener_create(pool_t pool, const struct settings_root *set,
			   const struct settings_unix_listener *ls,
			   struct auth_listener *l)
{
	struct sockaddr_un sun;
	const char *path = ls->path[0] == '/' ? ls->path :
		p_strdup_printf(pool, "%s/%s", set->base_dir, ls->path);
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		i_error("unix_listener %s: path too long", path);
		return -1;
	}
	if (ls->user[0] != '\0') {
		struct passwd *pw = getpwnam(ls->user);

		if (pw == NULL) {
			i_error("unix_listener %s: unknown user %s", path,
				ls->user);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (ls->group[0] != '\0') {
		struct group *gr = getgrnam(ls->group);

		if (gr == NULL) {
			i_error("unix_listener %s: unknown group %s", path,
				ls->group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		i_error("socket() failed: %s", strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, ls->mode) < 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	     chown(path, uid, gid) < 0) ||
	    listen(fd, 128) < 0) {
		i_error("unix_listener %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->path = path;
	l->type = socket_type_of(ls->path);
	return 0;
}

static void mkdir_parents(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(buf, 0755);
		*p = '/';
	}
	(void)mkdir(buf, 0755);
}

static void auth_signal(int signo ATTR_UNUSED, void *context)
{
	io_loop_stop(context);
}

/* SIGHUP flushes the auth cache, SIGUSR2 logs its statistics, with
 * Dovecot's lines. */
static void auth_cache_signal(int signo, void *context)
{
	struct auth *auth = context;

	if (signo == SIGHUP) {
		i_info("SIGHUP received, %u cache entries flushed",
		       auth_cache_clear(auth->cache));
	} else {
		auth_cache_log_stats(auth->cache);
	}
}

int auth_service_main(const struct settings_root *set)
{
	pool_t pool = pool_create("auth service", 16 * 1024);
	struct ioloop *loop = io_loop_create();
	struct auth_listener *listeners = NULL;
	unsigned int count = 0;
	struct auth *auth;
	const char *error;

	log_set_prefix("auth: ");
	signal(SIGPIPE, SIG_IGN);
	if (auth_init(pool, loop, set, &auth, &error) < 0)
		i_fatal("%s", error);
	mkdir_parents(set->base_dir);
	for (unsigned int i = 0; i < set->service_count; i++) {
		const struct settings_service *svc = set->service[i];

		if (strcmp(svc->name, "auth") != 0)
			continue;
		listeners = p_new(pool, struct auth_listener,
				  svc->unix_listener_count + 1);
		for (unsigned int j = 0; j < svc->unix_listener_count; j++) {
			const struct settings_unix_listener *ls =
				svc->unix_listener[j];
			struct auth_listener *l = &listeners[count];

			if (strstr(ls->path, "token-login") != NULL)
				continue; /* imap-urlauth tokens: not yet */
			if (ls->path[0] != '/') {
				const char *dir = p_strdup_printf(pool,
					"%s/%s", set->base_dir, ls->path);
				char *slash = strrchr(dir, '/');

				*slash = '\0';
				mkdir_parents(dir);
			}
			if (listener_create(pool, set, ls, l) < 0)
				i_fatal("Can't create auth listeners");
			l->auth = auth;
			l->io = io_add(loop, l->fd, IO_READ, listener_accept,
				       l);
			count++;
		}
	}
	if (count == 0)
		i_fatal("service auth has no unix_listeners");
	io_loop_set_signal(loop, SIGTERM, auth_signal, loop);
	io_loop_set_signal(loop, SIGINT, auth_signal, loop);
	if (auth->cache != NULL) {
		io_loop_set_signal(loop, SIGHUP, auth_cache_signal, auth);
		io_loop_set_signal(loop, SIGUSR2, auth_cache_signal, auth);
	} else {
		/* nothing to flush: a reload's SIGHUP must not kill us */
		signal(SIGHUP, SIG_IGN);
		signal(SIGUSR2, SIG_IGN);
	}
	io_loop_run(loop);

	auth_client_connections_destroy_all();
	auth_master_connections_destroy_all();
	for (unsigned int i = 0; i < count; i++) {
		io_remove(&listeners[i].io);
		close(listeners[i].fd);
		(void)unlink(listeners[i].path);
	}
	auth_deinit(&auth);
	io_loop_destroy(&loop);
	pool_destroy(&pool);
	return 0;
}

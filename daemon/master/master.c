/* master.c - the `dovecot` process: validates the config, owns base_dir
 * and master.pid, binds the listeners, starts and supervises the auth
 * service, the login workers and the per-uid mail workers, and turns a
 * login worker's hand-over into a mail worker session:
 *
 *   login worker --HANDOVER + client fd--> master
 *   master --REQUEST (cookie)--> auth-master socket --USER fields-->
 *   master --SESSION + client fd--> mail worker of that uid (spawned on
 *   first use: setgid/setgroups/setuid, then exec `roost mail-worker`)
 *   master --OK mpid--> login worker (which logs "Login: ...")
 *
 * The master never reads mail and never runs protocol parsers. */
#include "master.h"
#include "array.h"
#include "config-bind.h"
#include "config-yaml.h"
#include "connection.h"
#include "fdpass.h"
#include "hash.h"
#include "ioloop.h"
#include "mkdir-parents.h"
#include "net.h"
#include "str.h"
#include "auth-fields.h"
#include "sd-listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define MASTER_FD_BASE 100
#define RESTART_THROTTLE_MSECS 1000
#define RELOAD_STEP_MSECS 10

struct master_listener {
	int fd;
	/* owned copies: the settings pool is replaced at each reload */
	char *service;	/* "pop3-login" */
	char *name;	/* "pop3" */
	bool ssl;
	bool haproxy;
};

struct master_child {
	pid_t pid;
	int control_fd;		/* login/mail workers: seqpacket */
	struct io *io;
	const char *service;
	uid_t uid;		/* mail workers */
	uint64_t started_msecs;
	bool is_login, is_mail, is_auth, is_lmtp;
	bool stopping;	/* we sent it SIGTERM (reload): no error line */
	/* login workers: at client_limit / done with service_count
	   ("FULL", "RETIRED"), no connection open ("IDLE") */
	bool full, retired, idle;
	/* asked to exit by idle_kill ("IDLEKILL"); a "BUSY" cancels it */
	bool idle_killing;
	/* mail workers: sessions open, sessions ever given, and whether
	   it takes no more (service_count used up, idle_kill) */
	unsigned int sessions, served;
	unsigned int idle_kill_secs, service_count;
	struct timeout *idle_to;
};

struct master_lookup {
	unsigned int id;
	struct master_child *login;
	unsigned int tag;
	int client_fd;
	char *protocol, *session, *flags, *input;
	char *rip;
	/* the login's session flags ("tag=a1 capa"), "" for none */
	char *login_flags;
	/* waiting for a mail worker slot (process_limit): the userdb
	   reply kept, and when to give up */
	char **wait_args;
	unsigned int wait_count;
	struct timeout *wait_to;
};

/* Dovecot's master gives a connection to a full service this long to
 * find a process before dropping it */
#define MAIL_SLOT_WAIT_MSECS 10000

/* The login services Roost runs, each for one protocol. */
static const struct login_service {
	const char *service, *protocol;
} login_services[] = {
	{ "imap-login", "imap" },
	{ "pop3-login", "pop3" },
	{ "submission-login", "submission" },
};

/* The protocols' mail services; lmtp is its own. */
static const char *const mail_services[] = { "imap", "pop3", "submission" };

struct master {
	struct ioloop *loop;
	/* what children read: the snapshot of the last good config (owned:
	   outlives the settings pool, which each reload replaces) */
	char *config_path;
	/* what the admin gave (-c), read again on reload */
	const char *source_path;
	const char *exe;
	struct config *config;
	struct settings_root *set;
	pool_t pool;
	char *pid_path;	/* owned: outlives the settings pool */
	ARRAY(struct master_listener) listeners;
	ARRAY(struct master_child *) children;
	struct connection *auth_master;
	unsigned int lookup_id;
	ARRAY(struct master_lookup *) lookups;
	struct timeout *restart_to;
	struct timeout *idle_check_to;
	/* process_limit warnings: once a second per service at most */
	time_t last_drop_warning[N_ELEMENTS(login_services) +
				 N_ELEMENTS(mail_services)];
	/* login services at process_limit with every worker busy: the
	   master watches their listeners to log the warning */
	struct io *full_ios[16];
	bool stopping;
	/* a reload restarts the auth service once the login and lmtp
	   workers it stopped are gone: they must not see it vanish */
	bool auth_restart_pending;
	master_config_reload_t *reload_config;
	/* TLS session ticket key shared by every login worker (so a ticket
	   one issued resumes on another); new at start and at each reload */
	unsigned char ticket_key[80];
};

/* A running session, for mail_max_userip_connections: "protocol\tuser\t
 * rip" while its mail worker hasn't reported its end. */
struct userip_session {
	char *session;
	char *key;
	pid_t worker;
};

/* mail_max_userip_connections as each protocol's filter gives it. */
struct protocol_limit {
	char *protocol;
	unsigned int limit;
};

static ARRAY(struct userip_session) userip_sessions;
static ARRAY(struct protocol_limit) protocol_limits;

static struct master *master;

/* ---- service settings (DESIGN.md: Dovecot's defaults that exist only
   for its process-per-connection model are not Roost's) ---- */

static const struct settings_service *service_find(const char *name)
{
	for (unsigned int i = 0; i < master->set->service_count; i++) {
		if (strcmp(master->set->service[i]->name, name) == 0)
			return master->set->service[i];
	}
	return NULL;
}

/* Did the admin's config set service/<name>/<key> itself? */
static bool service_setting_explicit(const char *name, const char *key)
{
	struct config_node *node;
	unsigned int idx;
	char *path;
	bool ret;

	if (master->config == NULL || master->config->block_count == 0)
		return false;
	/* asked at each hand-over: a short-lived pool, not the settings
	   one, which would grow with every session */
	pool_t pool = pool_create("service path", 256);
	path = i_strdup_printf("service/%s/%s",
		settings_section_escape(pool, name), key);
	pool_destroy(&pool);
	ret = config_node_lookup(master->config->blocks[0]->root, path,
				 &node, &idx) && node->slots[idx].changed;
	i_free(path);
	return ret;
}

/* Did the admin's config set this global setting itself? */
static bool global_setting_explicit(const char *key)
{
	struct config_node *node;
	unsigned int idx;

	if (master->config == NULL || master->config->block_count == 0)
		return false;
	return config_node_lookup(master->config->blocks[0]->root, key,
				  &node, &idx) && node->slots[idx].changed;
}

static unsigned int service_process_limit(const char *name)
{
	const struct settings_service *svc = service_find(name);

	return svc != NULL && svc->process_limit > 0 ? svc->process_limit :
		master->set->default_process_limit;
}

/* Login services: client_limit as Dovecot reads it (default_client_limit
 * when 0); service_count only when the admin set it (Dovecot's default
 * 1 is its process-per-connection model). Mail services: client_limit
 * and service_count only when set explicitly (Dovecot's default 1 is
 * the same model), else 0 = no limit. */
static unsigned int service_client_limit(const char *name, bool login)
{
	const struct settings_service *svc = service_find(name);

	if (!login && !service_setting_explicit(name, "client_limit"))
		return 0;
	return svc != NULL && svc->client_limit > 0 ? svc->client_limit :
		master->set->default_client_limit;
}

static unsigned int service_service_count(const char *name)
{
	const struct settings_service *svc = service_find(name);

	if (svc == NULL || !service_setting_explicit(name, "service_count"))
		return 0;
	return svc->service_count;
}

static unsigned int service_idle_kill(const char *name)
{
	const struct settings_service *svc = service_find(name);

	return svc != NULL && svc->idle_kill > 0 ? svc->idle_kill :
		master->set->default_idle_kill;
}

/* vsz_limit in bytes, 0 = unlimited (the schema's "unset" is the
 * largest size: default_vsz_limit then). */
static uint64_t service_vsz_limit(const char *name)
{
	const struct settings_service *svc = service_find(name);

	if (svc == NULL || svc->vsz_limit == UINT64_MAX)
		return master->set->default_vsz_limit;
	return svc->vsz_limit;
}

/* In a forked child before exec: RLIMIT_AS = vsz_limit. ASan reserves
 * terabytes of shadow memory, so a sanitizer build ignores it. */
static void child_set_vsz_limit(uint64_t limit)
{
#ifndef __SANITIZE_ADDRESS__
	struct rlimit rl;

	if (limit == 0 || limit == UINT64_MAX)
		return;
	rl.rlim_cur = rl.rlim_max = (rlim_t)limit;
	if (setrlimit(RLIMIT_AS, &rl) < 0)
		i_error("setrlimit(RLIMIT_AS, %llu) failed: %m",
			(unsigned long long)limit);
#else
	(void)limit;
#endif
}

/* Dovecot's warning when a service can't take a connection, at most
 * once a second per service. */
static void service_drop_warning(unsigned int slot, const char *name,
				 unsigned int limit, bool login)
{
	time_t now = time(NULL);

	if (master->last_drop_warning[slot] == now)
		return;
	master->last_drop_warning[slot] = now;
	if (limit > 1) {
		i_warning("service(%s): process_limit (%u) reached, client "
			  "connections are being dropped", name, limit);
		return;
	}
	/* one process: Dovecot names the per-process limit instead */
	const struct settings_service *svc = service_find(name);
	unsigned int client_limit = svc == NULL ? 1 :
		svc->client_limit > 0 ? svc->client_limit :
		master->set->default_client_limit;
	unsigned int service_count = login ? service_service_count(name) :
		svc == NULL ? 0 : svc->service_count;
	i_warning("service(%s): %s (%u) reached, client connections are "
		  "being dropped", name, service_count == 1 ?
		  "client_limit/service_count" : "client_limit",
		  service_count == 1 ? 1 : client_limit);
}

/* mail_privileged_group's gid (a name or a number), else def. */
static gid_t privileged_gid(const struct settings_root *set, gid_t def)
{
	const char *name = set->mail_privileged_group;
	struct group *gr;
	char *end;
	unsigned long num;

	if (name == NULL || name[0] == '\0')
		return def;
	num = strtoul(name, &end, 10);
	if (*end == '\0')
		return (gid_t)num;
	gr = getgrnam(name);
	return gr == NULL ? def : gr->gr_gid;
}

static int fd_move_high(int fd)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, MASTER_FD_BASE);

	if (nfd < 0)
		i_fatal("fcntl(F_DUPFD) failed: %m");
	close(fd);
	return nfd;
}

/* ---- listeners ---- */

static int listener_bind(const char *addr, unsigned int port, bool reuse_port,
			 const char **error_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, family;

	memset(&ss, 0, sizeof(ss));
	if (strcmp(addr, "*") == 0 || strchr(addr, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		family = AF_INET;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (strcmp(addr, "*") != 0 &&
		    inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
			*error_r = "Invalid IP address";
			return -1;
		}
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		family = AF_INET6;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (strcmp(addr, "::") != 0 &&
		    inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1) {
			*error_r = "Invalid IP address";
			return -1;
		}
		len = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuse_port)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
		*error_r = strerror(errno);
		close(fd);
		return -1;
	}
	return fd_move_high(fd);
}

static bool protocol_enabled(const char *protocol)
{
	const char *p = master->set->protocols;
	size_t len = strlen(protocol);

	while ((p = strstr(p, protocol)) != NULL) {
		bool start = p == master->set->protocols || p[-1] == ' ' ||
			p[-1] == ',';
		bool end = p[len] == '\0' || p[len] == ' ' || p[len] == ',';
		if (start && end)
			return true;
		p += len;
	}
	return false;
}

/* Is service a login service whose protocol is in `protocols`? */
static bool login_service_enabled(const char *service)
{
	for (unsigned int i = 0; i < N_ELEMENTS(login_services); i++) {
		if (strcmp(login_services[i].service, service) == 0)
			return protocol_enabled(login_services[i].protocol);
	}
	return false;
}

/* The lmtp service runs when lmtp is in `protocols`. */
static bool service_enabled(const char *service)
{
	if (strcmp(service, "lmtp") == 0)
		return protocol_enabled("lmtp");
	return login_service_enabled(service);
}

static bool service_has_listeners(const char *service)
{
	for (size_t i = 0; i < master->listeners.count; i++) {
		if (strcmp(master->listeners.v[i].service, service) == 0)
			return true;
	}
	return false;
}

struct listen_entry {
	const struct settings_service *svc;
	const struct settings_inet_listener *l;
	char *addr;
	/* unix_listener (lmtp): l is NULL */
	const struct settings_unix_listener *u;
	char *path;
	const char *name;	/* the path's last part */
};

typedef ARRAY(struct listen_entry) listen_entry_array_t;

static void listener_add(struct listen_entry *e, int fd)
{
	struct master_listener *ml = array_append_space(&master->listeners);

	ml->fd = fd;
	ml->service = i_strdup(e->svc->name);
	if (e->u != NULL) {
		ml->name = i_strdup(e->name);
		return;
	}
	ml->name = i_strdup(e->l->name);
	ml->ssl = e->l->ssl;
	ml->haproxy = e->l->haproxy;
}

/* A unix_listener's socket: a stale one (nobody accepting) is replaced,
 * a live one is an error (another server runs); then mode, user and
 * group as configured. */
static int unix_listener_bind(const struct listen_entry *e,
			      const char **error_r)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(e->path) >= sizeof(sun.sun_path)) {
		*error_r = "Path too long";
		return -1;
	}
	memcpy(sun.sun_path, e->path, strlen(e->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		*error_r = "Socket already exists (another server running?)";
		close(fd);
		return -1;
	}
	close(fd);
	(void)unlink(e->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 1024) < 0) {
		*error_r = strerror(errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (chmod(e->path, e->u->mode & 07777) < 0)
		i_error("chmod(%s) failed: %m", e->path);
	if (e->u->user[0] != '\0' || e->u->group[0] != '\0') {
		struct passwd *pw = e->u->user[0] == '\0' ? NULL :
			getpwnam(e->u->user);
		struct group *gr = e->u->group[0] == '\0' ? NULL :
			getgrnam(e->u->group);

		if (e->u->user[0] != '\0' && pw == NULL)
			i_error("unix_listener %s: unknown user %s", e->path,
				e->u->user);
		if (e->u->group[0] != '\0' && gr == NULL)
			i_error("unix_listener %s: unknown group %s", e->path,
				e->u->group);
		if (chown(e->path, pw == NULL ? (uid_t)-1 : pw->pw_uid,
			  gr == NULL ? (gid_t)-1 : gr->gr_gid) < 0)
			i_error("chown(%s) failed: %m", e->path);
	}
	return fd_move_high(fd);
}

/* The unix_listeners of the lmtp service (the login services' unix
 * listeners are Roost's own internal sockets, made elsewhere). */
static void unix_listeners_add(const struct settings_service *svc,
			       listen_entry_array_t *entries)
{
	if (strcmp(svc->name, "lmtp") != 0)
		return;
	for (unsigned int j = 0; j < svc->unix_listener_count; j++) {
		const struct settings_unix_listener *u = svc->unix_listener[j];
		struct listen_entry *e;
		const char *slash;

		if (u->path[0] == '\0')
			continue;
		e = array_append_space(entries);
		e->svc = svc;
		e->u = u;
		e->path = u->path[0] == '/' ? i_strdup(u->path) :
			i_strdup_printf("%s/%s", master->set->base_dir, u->path);
		slash = strrchr(e->path, '/');
		e->name = p_strdup(master->pool, slash == NULL ? e->path :
				   slash + 1);
	}
}

/* Bind every inet_listener of the services Roost runs, taking the
 * sockets systemd passed (socket activation: by fd name, else by
 * address and port) instead of binding them itself. */
static void listeners_bind(void)
{
	const struct settings_root *set = master->set;
	listen_entry_array_t entries = ARRAY_INIT;
	struct sd_listener *sdl;
	struct sd_listen *sd;
	const char *error;

	for (unsigned int i = 0; i < set->service_count; i++) {
		const struct settings_service *svc = set->service[i];

		if (!service_enabled(svc->name))
			continue;
		unix_listeners_add(svc, &entries);
		for (unsigned int j = 0; j < svc->inet_listener_count; j++) {
			const struct settings_inet_listener *l = svc->inet_listener[j];
			const char *addrs = l->address[0] != '\0' ? l->address :
				set->listen;
			char *copy, *save = NULL;

			if (l->port == 0)
				continue;
			if (l->ssl && strcmp(set->ssl, "no") == 0)
				continue;	/* as Dovecot: ssl = no disables it */
			if (l->ssl && set->ssl_cert[0] == '\0')
				i_fatal("service(%s): ssl is enabled, but ssl_cert "
					"isn't set", svc->name);
			copy = i_strdup(addrs);
			for (char *a = strtok_r(copy, " ,", &save); a != NULL;
			     a = strtok_r(NULL, " ,", &save)) {
				struct listen_entry *e = array_append_space(&entries);
				e->svc = svc;
				e->l = l;
				e->addr = i_strdup(a);
			}
			i_free(copy);
		}
	}
	if (sd_listen_init(true, &sd, &error) < 0)
		i_fatal("socket activation: %s", error);
	sdl = i_new(struct sd_listener, MAX(entries.count, 1));
	for (size_t i = 0; i < entries.count; i++) {
		if (entries.v[i].u != NULL) {
			sdl[i].name = entries.v[i].name;
			sdl[i].type = SD_LISTENER_UNIX;
			sdl[i].path = entries.v[i].path;
			sdl[i].fd = -1;
			continue;
		}
		sdl[i].name = entries.v[i].l->name;
		sdl[i].type = SD_LISTENER_INET;
		sdl[i].address = entries.v[i].addr;
		sdl[i].port = (in_port_t)entries.v[i].l->port;
		sdl[i].fd = -1;
	}
	(void)sd_listen_match(sd, sdl, (unsigned int)entries.count);
	(void)sd_listen_close_unused(sd);
	for (size_t i = 0; i < entries.count; i++) {
		struct listen_entry *e = &entries.v[i];
		int fd;

		if (sdl[i].inherited) {
			if (sdl[i].fd >= 0)
				listener_add(e, fd_move_high(sdl[i].fd));
			continue;
		}
		if (e->u != NULL) {
			fd = unix_listener_bind(e, &error);
			if (fd < 0)
				i_fatal("service(%s): listen(%s) failed: %s",
					e->svc->name, e->path, error);
			listener_add(e, fd);
			continue;
		}
		fd = listener_bind(e->addr, e->l->port, e->l->reuse_port, &error);
		if (fd < 0) {
			i_fatal("service(%s): listen(%s, %u) failed: %s",
				e->svc->name, e->addr, e->l->port, error);
		}
		listener_add(e, fd);
	}
	sd_listen_free(&sd, false);
	for (size_t i = 0; i < entries.count; i++) {
		i_free(entries.v[i].addr);
		i_free(entries.v[i].path);
	}
	array_free(&entries);
	i_free(sdl);
}

/* ---- children ---- */

static struct master_child *child_add(pid_t pid, const char *service)
{
	struct master_child *child = i_new(struct master_child, 1);

	child->pid = pid;
	child->control_fd = -1;
	child->service = service;
	child->started_msecs = io_loop_time_msecs();
	array_push(&master->children, child);
	return child;
}

static void child_exec(const char *const *args) ATTR_NORETURN;
static void child_exec(const char *const *args)
{
	sigset_t none;

	/* the master's loop blocks the signals it reads from a signalfd;
	   children must not inherit that mask */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execv(master->exe, (char *const *)args);
	i_fatal("execv(%s) failed: %m", master->exe);
}

static void auth_spawn(void)
{
	pid_t pid = fork();

	if (pid < 0)
		i_fatal("fork() failed: %m");
	if (pid == 0) {
		const char *args[] = { "roost", "auth", "-c",
			master->config_path, NULL };
		/* a master that dies without stopping us (killed, crashed)
		   must not leave the auth service running alone */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(EXIT_FAILURE);
		child_exec(args);
	}
	child_add(pid, "auth")->is_auth = true;
}

static void login_control_input(void *context);

static void ticket_key_generate(void)
{
	size_t done = 0;

	while (done < sizeof(master->ticket_key)) {
		ssize_t n = getrandom(master->ticket_key + done,
				      sizeof(master->ticket_key) - done, 0);
		if (n < 0 && errno != EINTR)
			i_fatal("getrandom() failed: %m");
		if (n > 0)
			done += (size_t)n;
	}
}

/* In a forked login worker before exec: the ticket key goes into a pipe
 * whose read end the worker inherits (ROOST_TLS_TICKET_FD names it); it
 * reads the key while still root and closes it. The key is never on disk
 * and never in argv/environ. */
static void ticket_key_pass(void)
{
	char buf[16];
	int p[2];

	if (pipe(p) < 0)
		i_fatal("pipe() failed: %m");
	if (write(p[1], master->ticket_key, sizeof(master->ticket_key)) !=
	    (ssize_t)sizeof(master->ticket_key))
		i_fatal("write(ticket key pipe) failed: %m");
	close(p[1]);
	snprintf(buf, sizeof(buf), "%d", p[0]);
	if (setenv("ROOST_TLS_TICKET_FD", buf, 1) < 0)
		i_fatal("setenv() failed: %m");
}

static void login_spawn(const char *service)
{
	int sv[2];
	unsigned int count = 0;
	pid_t pid;
	char countbuf[16], sslbuf[64];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		i_fatal("socketpair() failed: %m");
	for (size_t i = 0; i < master->listeners.count; i++) {
		if (strcmp(master->listeners.v[i].service, service) == 0)
			count++;
	}
	pid = fork();
	if (pid < 0)
		i_fatal("fork() failed: %m");
	if (pid == 0) {
		unsigned int n = 0;

		memset(sslbuf, 0, sizeof(sslbuf));
		if (dup2(sv[1], 3) < 0)
			i_fatal("dup2() failed: %m");
		for (size_t i = 0; i < master->listeners.count; i++) {
			if (strcmp(master->listeners.v[i].service, service) != 0)
				continue;
			if (n < sizeof(sslbuf) - 1)
				sslbuf[n] = master->listeners.v[i].ssl ?
					(master->listeners.v[i].haproxy ? 'H' : '1') :
					(master->listeners.v[i].haproxy ? 'h' : '0');
			if (dup2(master->listeners.v[i].fd, 4 + (int)n++) < 0)
				i_fatal("dup2() failed: %m");
		}
		snprintf(countbuf, sizeof(countbuf), "%u", count);
		ticket_key_pass();
		char limitbuf[16];
		snprintf(limitbuf, sizeof(limitbuf), "%u",
			 service_client_limit(service, true));
		(void)setenv("ROOST_CLIENT_LIMIT", limitbuf, 1);
		snprintf(limitbuf, sizeof(limitbuf), "%u",
			 service_service_count(service));
		(void)setenv("ROOST_SERVICE_COUNT", limitbuf, 1);
		child_set_vsz_limit(service_vsz_limit(service));
		const char *args[] = { "roost", "login", "-c",
			master->config_path, service, countbuf, sslbuf, NULL };
		child_exec(args);
	}
	close(sv[1]);
	struct master_child *child = child_add(pid, service);
	child->is_login = true;
	child->idle = true;
	child->control_fd = sv[0];
	child->io = io_add(master->loop, sv[0], IO_READ, login_control_input,
			   child);
}

/* The lmtp service: `roost lmtp -L N` with its N listeners on fds 3.. */
static void lmtp_spawn(void)
{
	unsigned int count = 0;
	char countbuf[16];
	pid_t pid = fork();

	if (pid < 0)
		i_fatal("fork() failed: %m");
	if (pid == 0) {
		for (size_t i = 0; i < master->listeners.count; i++) {
			if (strcmp(master->listeners.v[i].service, "lmtp") != 0)
				continue;
			if (dup2(master->listeners.v[i].fd, 3 + (int)count++) < 0)
				i_fatal("dup2() failed: %m");
		}
		snprintf(countbuf, sizeof(countbuf), "%u", count);
		child_set_vsz_limit(service_vsz_limit("lmtp"));
		const char *args[] = { "roost", "lmtp", "-c",
			master->config_path, "-L", countbuf, NULL };
		child_exec(args);
	}
	child_add(pid, "lmtp")->is_lmtp = true;
}

static void lmtp_spawn_missing(void)
{
	if (!service_has_listeners("lmtp"))
		return;
	for (size_t i = 0; i < master->children.count; i++) {
		if (master->children.v[i]->is_lmtp &&
		    !master->children.v[i]->stopping)
			return;
	}
	lmtp_spawn();
}

static void mail_worker_control_input(void *context);
static void userip_remove_at(size_t i);

static void child_remove(struct master_child *child)
{
	for (size_t i = 0; i < master->children.count; i++) {
		if (master->children.v[i] == child) {
			array_delete(&master->children, i);
			break;
		}
	}
	io_remove(&child->io);
	timeout_remove(&child->idle_to);
	if (child->control_fd >= 0)
		close(child->control_fd);
	for (size_t i = 0; i < userip_sessions.count;) {
		if (child->is_mail && userip_sessions.v[i].worker == child->pid)
			userip_remove_at(i);
		else
			i++;
	}
	/* pending lookups of a dead login worker: their clients wait on
	   nobody now */
	for (size_t i = 0; i < master->lookups.count; i++) {
		if (master->lookups.v[i]->login == child)
			master->lookups.v[i]->login = NULL;
	}
	i_free(child);
}

/* The worker of uid that takes a session of protocol: every session of
 * the uid, or client_limit sessions each when the admin set it. */
static struct master_child *mail_worker_find(uid_t uid, const char *protocol)
{
	unsigned int limit = service_client_limit(protocol, false);

	for (size_t i = 0; i < master->children.count; i++) {
		struct master_child *c = master->children.v[i];
		if (c->is_mail && c->uid == uid && !c->retired &&
		    c->control_fd >= 0 && (limit == 0 || c->sessions < limit))
			return c;
	}
	return NULL;
}

static unsigned int mail_workers_running(void)
{
	unsigned int count = 0;

	for (size_t i = 0; i < master->children.count; i++)
		count += master->children.v[i]->is_mail ? 1 : 0;
	return count;
}

/* A mail worker takes no more sessions: it exits when the master
 * closes its control socket and its last session is over. */
static void mail_worker_retire(struct master_child *mw)
{
	mw->retired = true;
	timeout_remove(&mw->idle_to);
	io_remove(&mw->io);
	if (mw->control_fd >= 0) {
		close(mw->control_fd);
		mw->control_fd = -1;
	}
}

static void mail_worker_idle_kill(void *context)
{
	struct master_child *mw = context;

	timeout_remove(&mw->idle_to);
	if (mw->sessions == 0)
		mail_worker_retire(mw);
}

/* idle_kill: "4294967295 secs" is never */
static bool idle_kill_enabled(unsigned int secs)
{
	return secs > 0 && secs < UINT_MAX / 1000;
}

static void mail_worker_session_ended(struct master_child *mw)
{
	if (mw->sessions > 0)
		mw->sessions--;
	if (mw->sessions > 0)
		return;
	if (mw->retired)
		mail_worker_retire(mw);
	else if (idle_kill_enabled(mw->idle_kill_secs) && mw->idle_to == NULL)
		mw->idle_to = timeout_add(master->loop,
					  mw->idle_kill_secs * 1000,
					  mail_worker_idle_kill, mw);
}

static struct master_child *mail_worker_spawn(uid_t uid, gid_t gid,
					      const char *protocol,
					      const char **error_r)
{
	int sv[2];
	pid_t pid;

	if (uid == 0) {
		*error_r = "Mail access not allowed for root";
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		*error_r = "socketpair() failed";
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		*error_r = "fork() failed";
		return NULL;
	}
	if (pid == 0) {
		if (dup2(sv[1], 3) < 0)
			i_fatal("dup2() failed: %m");
		if (geteuid() == 0) {
			gid_t groups[1] = { gid };
			/* mail_privileged_group becomes the effective and
			   saved gid (exec keeps the effective one as the
			   saved); the mail worker sets its effective gid back
			   to the user's at once, so the mbox code can
			   setegid() to it for dotlocks in /var/mail, as
			   Dovecot does */
			gid_t priv = privileged_gid(master->set, gid);
			if (setgroups(1, groups) < 0 ||
			    setresgid(gid, priv, priv) < 0 || setuid(uid) < 0)
				i_fatal("Couldn't drop privileges to uid %u: %m",
					(unsigned int)uid);
		} else if (getuid() != uid) {
			i_fatal("Can't switch to uid %u without root",
				(unsigned int)uid);
		}
		/* a mail worker serves every session of its uid: Dovecot's
		   256M default is per connection, so only an admin's own
		   value applies (DESIGN.md, service settings) */
		if (service_setting_explicit(protocol, "vsz_limit") ||
		    global_setting_explicit("default_vsz_limit"))
			child_set_vsz_limit(service_vsz_limit(protocol));
		const char *args[] = { "roost", "mail-worker", "-c",
			master->config_path, NULL };
		child_exec(args);
	}
	close(sv[1]);
	struct master_child *child = child_add(pid, "mail");
	child->is_mail = true;
	child->uid = uid;
	child->idle_kill_secs = service_idle_kill(protocol);
	child->service_count = service_service_count(protocol);
	child->control_fd = sv[0];
	child->io = io_add(master->loop, sv[0], IO_READ,
			   mail_worker_control_input, child);
	return child;
}

/* ---- hand-over ---- */

static void login_reply(struct master_child *login, unsigned int tag,
			bool ok, const char *text)
{
	char *msg;

	if (login == NULL)
		return;
	msg = i_strdup_printf("%s\t%u\t%s", ok ? "OK" : "FAIL", tag, text);
	if (fdpass_send(login->control_fd, -1, msg, strlen(msg)) < 0)
		i_error("send() to login worker failed: %m");
	i_free(msg);
}

static void lookup_free(struct master_lookup *lookup)
{
	for (size_t i = 0; i < master->lookups.count; i++) {
		if (master->lookups.v[i] == lookup) {
			array_delete(&master->lookups, i);
			break;
		}
	}
	if (lookup->client_fd >= 0)
		close(lookup->client_fd);
	timeout_remove(&lookup->wait_to);
	for (unsigned int i = 0; i < lookup->wait_count; i++)
		i_free(lookup->wait_args[i]);
	i_free(lookup->wait_args);
	i_free(lookup->protocol);
	i_free(lookup->session);
	i_free(lookup->flags);
	i_free(lookup->input);
	i_free(lookup->login_flags);
	i_free(lookup->rip);
	i_free(lookup);
}

static bool parse_id(const char *str, const char *field, unsigned int *id_r,
		     bool user)
{
	char *end;
	unsigned long v;

	if (str == NULL || *str == '\0')
		return false;
	v = strtoul(str, &end, 10);
	if (*end == '\0') {
		*id_r = (unsigned int)v;
		return true;
	}
	if (user) {
		struct passwd *pw = getpwnam(str);
		if (pw != NULL) {
			*id_r = pw->pw_uid;
			return true;
		}
	} else {
		struct group *gr = getgrnam(str);
		if (gr != NULL) {
			*id_r = gr->gr_gid;
			return true;
		}
	}
	i_error("Invalid %s: %s", field, str);
	return false;
}

static void protocol_limits_clear(void)
{
	for (size_t i = 0; i < protocol_limits.count; i++)
		i_free(protocol_limits.v[i].protocol);
	array_free(&protocol_limits);
}

static unsigned int userip_limit(const char *protocol)
{
	struct config_filter filter = { .protocol = protocol };
	struct protocol_limit *pl;
	struct settings_root *set;
	const char *error;
	pool_t pool;

	for (size_t i = 0; i < protocol_limits.count; i++) {
		if (strcmp(protocol_limits.v[i].protocol, protocol) == 0)
			return protocol_limits.v[i].limit;
	}
	pool = pool_create("protocol settings", 16384);
	set = config_bind_filter(pool, master->config, &filter, &error);
	pl = array_append_space(&protocol_limits);
	pl->protocol = i_strdup(protocol);
	pl->limit = set == NULL ? master->set->mail_max_userip_connections :
		set->mail_max_userip_connections;
	pool_destroy(&pool);
	return pl->limit;
}

static unsigned int userip_count(const char *key)
{
	unsigned int count = 0;

	for (size_t i = 0; i < userip_sessions.count; i++)
		count += strcmp(userip_sessions.v[i].key, key) == 0;
	return count;
}

static void userip_remove_at(size_t i)
{
	i_free(userip_sessions.v[i].session);
	i_free(userip_sessions.v[i].key);
	userip_sessions.v[i] = userip_sessions.v[--userip_sessions.count];
}

/* "END\t<session>" from a mail worker: the session is over. */
static void mail_worker_control_input(void *context)
{
	struct master_child *mw = context;
	char buf[512];
	ssize_t n = recv(mw->control_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		io_remove(&mw->io);
		return;
	}
	buf[n] = '\0';
	if (strncmp(buf, "END\t", 4) != 0)
		return;
	for (size_t i = 0; i < userip_sessions.count; i++) {
		if (userip_sessions.v[i].worker == mw->pid &&
		    strcmp(userip_sessions.v[i].session, buf + 4) == 0) {
			userip_remove_at(i);
			break;
		}
	}
	mail_worker_session_ended(mw);
}

static void lookup_wait_timeout(void *context)
{
	struct master_lookup *lookup = context;

	timeout_remove(&lookup->wait_to);
	login_reply(lookup->login, lookup->tag, false, "[DROP]");
	lookup_free(lookup);
}

static void lookup_finish(struct master_lookup *lookup, char **args,
			  unsigned int count);

/* A mail worker went away: sessions waiting for a slot try again, in
 * the order they came. */
static void mail_slot_waiters_retry(void)
{
	for (size_t i = 0; i < master->lookups.count; ) {
		struct master_lookup *lookup = master->lookups.v[i];
		size_t before = master->lookups.count;

		if (lookup->wait_args == NULL) {
			i++;
			continue;
		}
		lookup_finish(lookup, lookup->wait_args, lookup->wait_count);
		if (master->lookups.count == before)
			break;	/* still waiting: the rest wait too */
	}
}

static void lookup_finish(struct master_lookup *lookup, char **args,
			  unsigned int count)
{
	string_t *msg;
	const char *uid_s = master->set->mail_uid, *gid_s = master->set->mail_gid;
	const char *error;
	unsigned int uid = 0, gid = 0;
	struct master_child *mw;

	for (unsigned int i = 3; i < count; i++) {
		if (strncmp(args[i], "uid=", 4) == 0)
			uid_s = args[i] + 4;
		else if (strncmp(args[i], "gid=", 4) == 0)
			gid_s = args[i] + 4;
	}
	if (!parse_id(uid_s, "uid", &uid, true) ||
	    !parse_id(gid_s, "gid", &gid, false)) {
		login_reply(lookup->login, lookup->tag, false,
			    "Internal error occurred. Refer to server log for "
			    "more information.");
		i_error("user %s: no valid uid/gid from userdb or "
			"mail_uid/mail_gid", args[2]);
		lookup_free(lookup);
		return;
	}
	if (uid < master->set->first_valid_uid ||
	    (master->set->last_valid_uid != 0 && uid > master->set->last_valid_uid)) {
		i_error("user %s: Mail access for users with UID %u not "
			"permitted (see first_valid_uid in config file)",
			args[2], uid);
		login_reply(lookup->login, lookup->tag, false,
			    "Internal error occurred. Refer to server log for "
			    "more information.");
		lookup_free(lookup);
		return;
	}
	mw = mail_worker_find((uid_t)uid, lookup->protocol);
	if (mw == NULL) {
		unsigned int plimit = service_process_limit(lookup->protocol);

		if (mail_workers_running() >= plimit) {
			unsigned int slot = N_ELEMENTS(login_services);
			for (unsigned int i = 0; i < N_ELEMENTS(mail_services); i++) {
				if (strcmp(mail_services[i], lookup->protocol) == 0)
					slot += i;
			}
			if (lookup->wait_args != NULL)
				return;	/* still waiting */
			service_drop_warning(slot, lookup->protocol, plimit,
					     false);
			/* wait for a worker to end, as Dovecot's master
			   does, then drop the connection */
			lookup->wait_args = i_new(char *, count + 1);
			for (unsigned int i = 0; i < count; i++)
				lookup->wait_args[i] = i_strdup(args[i]);
			lookup->wait_count = count;
			lookup->wait_to = timeout_add(master->loop,
				MAIL_SLOT_WAIT_MSECS, lookup_wait_timeout, lookup);
			return;
		}
		mw = mail_worker_spawn((uid_t)uid, (gid_t)gid,
				       lookup->protocol, &error);
	}
	if (mw == NULL) {
		i_error("user %s: %s", args[2], error);
		login_reply(lookup->login, lookup->tag, false, error);
		lookup_free(lookup);
		return;
	}
	char *userip_key = NULL;
	unsigned int limit = userip_limit(lookup->protocol);

	if (limit > 0 && lookup->rip[0] != '\0') {
		userip_key = i_strdup_printf("%s\t%s\t%s", lookup->protocol,
					     args[2], lookup->rip);
		if (userip_count(userip_key) >= limit) {
			char *text = i_strdup_printf("[LIMIT] Maximum number of "
				"connections from user+IP exceeded "
				"(mail_max_userip_connections=%u)", limit);
			login_reply(lookup->login, lookup->tag, false, text);
			i_free(text);
			i_free(userip_key);
			lookup_free(lookup);
			return;
		}
	}
	msg = str_new(512);
	/* flags: "L" (send the logged-in reply), then the login's own */
	str_printfa(msg, "SESSION\t%s\t%s\t%s\tL%s%s", lookup->protocol,
		    args[2], lookup->session,
		    lookup->login_flags[0] == '\0' ? "" : " ",
		    lookup->login_flags);
	for (unsigned int i = 3; i < count; i++)
		str_printfa(msg, "\t%s", args[i]);
	if (lookup->input[0] != '\0')
		str_printfa(msg, "\troost_input=%s", lookup->input);
	if (fdpass_send(mw->control_fd, lookup->client_fd, str_c(msg),
			str_len(msg)) < 0) {
		i_error("send() to mail worker %ld failed: %m", (long)mw->pid);
		login_reply(lookup->login, lookup->tag, false,
			    "Internal error occurred. Refer to server log for "
			    "more information.");
	} else {
		char mpid[16];
		timeout_remove(&mw->idle_to);
		mw->sessions++;
		if (mw->service_count > 0 && ++mw->served >= mw->service_count)
			mw->retired = true;
		if (userip_key != NULL) {
			struct userip_session *us =
				array_append_space(&userip_sessions);
			us->session = i_strdup(lookup->session);
			us->key = userip_key;
			us->worker = mw->pid;
			userip_key = NULL;
		}
		snprintf(mpid, sizeof(mpid), "%ld", (long)mw->pid);
		login_reply(lookup->login, lookup->tag, true, mpid);
	}
	str_free(&msg);
	i_free(userip_key);
	lookup_free(lookup);
}

static bool auth_master_input(struct connection *conn ATTR_UNUSED, char *line)
{
	char *args[128];
	unsigned int count = 0;
	struct master_lookup *lookup = NULL;
	unsigned int id;

	count = auth_split_tabs(line, args, N_ELEMENTS(args));
	if (count < 2 || (strcmp(args[0], "USER") != 0 &&
			  strcmp(args[0], "NOTFOUND") != 0 &&
			  strcmp(args[0], "FAIL") != 0))
		return true;
	id = (unsigned int)strtoul(args[1], NULL, 10);
	for (size_t i = 0; i < master->lookups.count; i++) {
		if (master->lookups.v[i]->id == id)
			lookup = master->lookups.v[i];
	}
	if (lookup == NULL)
		return true;
	if (strcmp(args[0], "USER") == 0 && count >= 3) {
		lookup_finish(lookup, args, count);
		return true;
	}
	i_error("userdb lookup for the session failed: %s",
		count > 2 ? args[2] : args[0]);
	login_reply(lookup->login, lookup->tag, false,
		    strcmp(args[0], "NOTFOUND") == 0 ? "User doesn't exist" :
		    "Internal error occurred. Refer to server log for more "
		    "information.");
	lookup_free(lookup);
	return true;
}

static void auth_master_disconnected(struct connection *conn,
				     const char *reason)
{
	(void)conn;
	/* a reload stops the auth service on purpose: nothing to say */
	if (!master->auth_restart_pending)
		i_error("auth-master connection lost: %s", reason);
	connection_free(&master->auth_master);
	/* reconnected on the next hand-over */
}

static const struct connection_vfuncs auth_master_vfuncs = {
	.input_line = auth_master_input,
	.disconnected = auth_master_disconnected,
};

static bool auth_master_connect(void)
{
	struct sockaddr_un sa;
	char *path;
	int fd;

	if (master->auth_master != NULL)
		return true;
	path = i_strdup_printf("%s/auth-master", master->set->base_dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		i_error("connect(%s) failed: %m", path);
		if (fd >= 0)
			close(fd);
		i_free(path);
		return false;
	}
	i_free(path);
	master->auth_master = connection_create(master->loop, fd, 65536,
						1024 * 1024,
						&auth_master_vfuncs, master);
	connection_send_str(master->auth_master, "VERSION\t1\t0\n");
	return true;
}

static void logins_spawn_missing(void);

/* A login worker's state: "FULL" (client_limit reached), "AVAIL"
 * (below it again), "RETIRED" (service_count used up: it exits when
 * its connections are gone), "IDLE"/"BUSY" (no connection / some). */
static bool login_state_input(struct master_child *login, const char *msg)
{
	if (strcmp(msg, "FULL") == 0)
		login->full = true;
	else if (strcmp(msg, "AVAIL") == 0)
		login->full = false;
	else if (strcmp(msg, "RETIRED") == 0)
		login->retired = true;
	else if (strcmp(msg, "IDLE") == 0)
		login->idle = true;
	else if (strcmp(msg, "BUSY") == 0) {
		login->idle = false;
		login->idle_killing = false;
	}
	else
		return false;
	login->started_msecs = io_loop_time_msecs();	/* state since */
	if (!master->stopping)
		logins_spawn_missing();
	return true;
}

/* "HANDOVER\t<tag>\t<protocol>\t<login pid>\t<auth id>\t<cookie>\t
 *  <session>\t<user>\t<flags>\t<input base64>\t<session flags>" +
 * client fd. session flags: the protocol's tokens for the mail worker,
 * space-separated ("tag=a1 capa" from imap-login, "" from pop3-login). */
static void login_control_input(void *context)
{
	struct master_child *login = context;
	char buf[FDPASS_MAX_PAYLOAD + 1], *args[16];
	unsigned int count = 0;
	int fd;
	ssize_t n = fdpass_recv(login->control_fd, buf, sizeof(buf) - 1, &fd);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		io_remove(&login->io);
		return;
	}
	buf[n] = '\0';
	if (fd < 0 && login_state_input(login, buf))
		return;
	count = auth_split_tabs(buf, args, N_ELEMENTS(args));
	if (count < 10 || strcmp(args[0], "HANDOVER") != 0 || fd < 0) {
		i_error("Invalid hand-over from login worker %ld",
			(long)login->pid);
		if (fd >= 0)
			close(fd);
		return;
	}
	struct master_lookup *lookup = i_new(struct master_lookup, 1);
	lookup->id = ++master->lookup_id;
	lookup->login = login;
	lookup->tag = (unsigned int)strtoul(args[1], NULL, 10);
	lookup->client_fd = fd;
	lookup->protocol = i_strdup(args[2]);
	lookup->session = i_strdup(args[6]);
	lookup->flags = i_strdup(args[8]);
	lookup->input = i_strdup(args[9]);
	lookup->login_flags = i_strdup(count > 10 ? args[10] : "");
	lookup->rip = i_strdup(count > 11 ? args[11] : "");
	if (strchr(lookup->login_flags, '\t') != NULL)
		lookup->login_flags[0] = '\0';
	array_push(&master->lookups, lookup);
	if (!auth_master_connect()) {
		login_reply(login, lookup->tag, false,
			    "Internal error occurred. Refer to server log for "
			    "more information.");
		lookup_free(lookup);
		return;
	}
	/* the login pid is the one we forked, not what the message says */
	long login_pid = (long)login->pid;
	char *req = i_strdup_printf("REQUEST\t%u\t%ld\t%s\t%s\n", lookup->id,
				    login_pid, args[4], args[5]);
	connection_send_str(master->auth_master, req);
	i_free(req);
}

/* ---- supervision ---- */

static unsigned int login_running(const char *service, bool avail_only)
{
	unsigned int count = 0;

	for (size_t i = 0; i < master->children.count; i++) {
		struct master_child *c = master->children.v[i];
		if (c->is_login && !c->stopping &&
		    strcmp(c->service, service) == 0 &&
		    (!avail_only || (!c->full && !c->retired &&
				     !c->idle_killing)))
			count++;
	}
	return count;
}

/* Login workers per service that accept connections: the service's
 * process_min_avail when set, else one per CPU (each serves thousands of
 * connections; several spread TLS over the CPUs and descriptors over
 * processes). They all accept on the same listening sockets. */
static unsigned int login_workers_wanted(const char *service)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const struct settings_service *svc = service_find(service);
	unsigned int limit = service_process_limit(service);
	unsigned int want;

	if (svc != NULL && svc->process_min_avail > 0)
		want = svc->process_min_avail;
	else
		want = cpus < 1 ? 1 : cpus > 16 ? 16 : (unsigned int)cpus;
	return want > limit ? limit : want;
}

static void login_full_input(void *context)
{
	unsigned int idx = (unsigned int)(uintptr_t)context;

	const char *service = login_services[idx].service;

	for (unsigned int i = 0; i < N_ELEMENTS(master->full_ios); i++)
		io_remove(&master->full_ios[i]);
	service_drop_warning(idx, service, service_process_limit(service),
			     true);
	/* as Dovecot: the full workers drop their oldest client that has
	   not started to log in, to make room */
	for (size_t i = 0; i < master->children.count; i++) {
		struct master_child *c = master->children.v[i];

		if (c->is_login && c->full && !c->retired && !c->stopping &&
		    strcmp(c->service, service) == 0)
			(void)fdpass_send(c->control_fd, -1, "QUEUEFULL", 9);
	}
}

/* Every login worker of a service busy and process_limit reached: a new
 * connection waits in the listen queue; the master logs Dovecot's
 * warning and asks the workers to drop their oldest client that hasn't
 * begun to log in ("Connection queue full"), so the new one is served
 * (or it waits until a worker has room). */
static void login_full_watch(unsigned int svc_idx, bool full)
{
	const char *service = login_services[svc_idx].service;
	unsigned int n = 0;

	for (size_t i = 0; i < master->listeners.count; i++) {
		if (strcmp(master->listeners.v[i].service, service) != 0)
			continue;
		/* four listener slots per login service */
		unsigned int slot = svc_idx * 4 + n++;
		if (slot >= N_ELEMENTS(master->full_ios) || n > 4)
			break;
		if (!full)
			io_remove(&master->full_ios[slot]);
		else if (master->full_ios[slot] == NULL)
			master->full_ios[slot] = io_add(master->loop,
				master->listeners.v[i].fd, IO_READ,
				login_full_input, (void *)(uintptr_t)svc_idx);
	}
}

static void login_idle_check(void *context ATTR_UNUSED);

static void logins_spawn_missing(void)
{
	bool check_idle = false;

	for (unsigned int i = 0; i < N_ELEMENTS(login_services); i++) {
		const char *service = login_services[i].service;
		unsigned int want, limit, avail, running;

		if (!service_has_listeners(service))
			continue;
		want = login_workers_wanted(service);
		limit = service_process_limit(service);
		avail = login_running(service, true);
		running = login_running(service, false);
		for (; avail < want && running < limit; avail++, running++)
			login_spawn(service);
		login_full_watch(i, avail == 0 && running >= limit);
		check_idle = check_idle || avail > want;
	}
	if (check_idle && master->idle_check_to == NULL)
		master->idle_check_to = timeout_add(master->loop, 1000,
						    login_idle_check, NULL);
}

/* idle_kill: a login worker beyond the ones wanted that had no
 * connection for idle_kill seconds is stopped. */
static void login_idle_check(void *context ATTR_UNUSED)
{
	uint64_t now = io_loop_time_msecs();
	bool again = false;

	timeout_remove(&master->idle_check_to);
	for (unsigned int i = 0; i < N_ELEMENTS(login_services); i++) {
		const char *service = login_services[i].service;
		unsigned int idle_kill = service_idle_kill(service);
		unsigned int want = login_workers_wanted(service);
		unsigned int avail = login_running(service, true);

		if (!idle_kill_enabled(idle_kill))
			continue;
		for (size_t j = 0; j < master->children.count && avail > want; j++) {
			struct master_child *c = master->children.v[j];

			if (!c->is_login || c->stopping || c->full ||
			    c->retired || c->idle_killing ||
			    strcmp(c->service, service) != 0)
				continue;
			/* the worker exits only if it still has no
			   connection (one may be on its way) */
			if (c->idle &&
			    now - c->started_msecs >= idle_kill * 1000ULL &&
			    fdpass_send(c->control_fd, -1, "IDLEKILL", 8) == 8) {
				c->idle_killing = true;
				avail--;
			}
		}
		again = again || avail > want;
	}
	if (again)
		master->idle_check_to = timeout_add(master->loop, 1000,
						    login_idle_check, NULL);
}

/* One step of a reload's auth restart; true once the old auth service is
 * gone and the missing children may start. Each step's child exit brings
 * the next call through sigchld_handler. */
static bool auth_restart_step(void)
{
	struct master_child *auth = NULL;

	for (size_t i = 0; i < master->children.count; i++) {
		struct master_child *c = master->children.v[i];

		if ((c->is_login || c->is_lmtp) && c->stopping)
			return false;
		if (c->is_auth)
			auth = c;
	}
	if (auth != NULL) {
		if (!auth->stopping) {
			auth->stopping = true;
			(void)kill(auth->pid, SIGTERM);
		}
		return false;
	}
	master->auth_restart_pending = false;
	return true;
}

static void restart_missing(void *context ATTR_UNUSED)
{
	bool have_auth = false;

	timeout_remove(&master->restart_to);
	if (master->stopping)
		return;
	if (master->auth_restart_pending && !auth_restart_step())
		return;
	for (size_t i = 0; i < master->children.count; i++)
		have_auth = have_auth || master->children.v[i]->is_auth;
	if (!have_auth)
		auth_spawn();
	logins_spawn_missing();
	lmtp_spawn_missing();
}

/* "imap, pop3": the protocols served, in the order of `protocols` */
static char *protocols_served(void)
{
	string_t *str = str_new(64);
	char *copy = i_strdup(master->set->protocols), *save = NULL, *ret;

	for (char *p = strtok_r(copy, " ,", &save); p != NULL;
	     p = strtok_r(NULL, " ,", &save)) {
		for (unsigned int i = 0; i < N_ELEMENTS(login_services); i++) {
			if (strcmp(login_services[i].protocol, p) == 0 &&
			    service_has_listeners(login_services[i].service)) {
				if (str_len(str) > 0)
					str_append(str, ", ");
				str_append(str, p);
			}
		}
		if (strcmp(p, "lmtp") == 0 && service_has_listeners("lmtp")) {
			if (str_len(str) > 0)
				str_append(str, ", ");
			str_append(str, p);
		}
	}
	i_free(copy);
	ret = i_strdup(str_c(str));
	str_free(&str);
	return ret;
}

static void sigchld_handler(int signo ATTR_UNUSED, void *context ATTR_UNUSED)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < master->children.count; i++) {
			struct master_child *c = master->children.v[i];

			if (c->pid != pid)
				continue;
			if (!master->stopping && !c->is_mail && !c->stopping &&
			    (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
				if (WIFSIGNALED(status))
					i_error("service(%s): child %ld killed "
						"with signal %d", c->service,
						(long)pid, WTERMSIG(status));
				else
					i_error("service(%s): child %ld returned "
						"error %d", c->service, (long)pid,
						WEXITSTATUS(status));
			}
			bool was_mail = c->is_mail;
			child_remove(c);
			if (was_mail && !master->stopping)
				mail_slot_waiters_retry();
			break;
		}
	}
	/* a reload's planned exits go on at once; crashes are throttled */
	if (!master->stopping && master->restart_to == NULL)
		master->restart_to = timeout_add(master->loop,
			master->auth_restart_pending ? RELOAD_STEP_MSECS :
			RESTART_THROTTLE_MSECS, restart_missing, NULL);
}

/* Children never read the admin's file: it may have changed since it was
 * checked (a broken edit before a reload must not reach a login worker
 * that restarts later). The master writes the config it accepted as YAML
 * into base_dir, atomically, readable as the admin's file was, and every
 * child reads that. */
static int config_snapshot_write(struct config *config, const char *base_dir,
				 const char **error_r)
{
	static char errbuf[512];
	char *tmp = i_strdup_printf("%s/.roost-config.yaml.tmp", base_dir);
	char *path = i_strdup_printf("%s/roost-config.yaml", base_dir);
	mode_t mode = 0644;
	gid_t gid = (gid_t)-1;
	struct stat st;
	FILE *f;
	int ret = -1;

	if (stat(master->source_path, &st) == 0) {
		mode = st.st_mode & 0644;
		gid = st.st_gid;
	}
	(void)unlink(tmp);
	f = fopen(tmp, "wx");
	if (f == NULL) {
		snprintf(errbuf, sizeof(errbuf), "open(%s) failed: %s", tmp,
			 strerror(errno));
	} else if ((geteuid() == 0 && gid != (gid_t)-1 &&
		    fchown(fileno(f), (uid_t)-1, gid) < 0) ||
		   fchmod(fileno(f), mode) < 0) {
		snprintf(errbuf, sizeof(errbuf), "fchown/fchmod(%s) failed: %s", tmp,
			 strerror(errno));
		fclose(f);
	} else if (config_yaml_dump(config, CONFIG_DUMP_SCOPE_CHANGED, f,
				    error_r) < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s", *error_r);
		fclose(f);
	} else if (fflush(f) != 0 || ferror(f) != 0) {
		snprintf(errbuf, sizeof(errbuf), "write(%s) failed: %s", tmp,
			 strerror(errno));
		fclose(f);
	} else if (fclose(f) != 0 || rename(tmp, path) < 0) {
		snprintf(errbuf, sizeof(errbuf), "rename(%s) failed: %s", tmp,
			 strerror(errno));
	} else {
		ret = 0;
	}
	if (ret < 0) {
		(void)unlink(tmp);
		*error_r = errbuf;
	}
	i_free(tmp);
	if (ret == 0 && master->config_path == NULL)
		master->config_path = i_strdup(path);
	i_free(path);
	return ret;
}

/* SIGHUP: read and check the config again; on success the auth service
 * and the login workers are restarted with it (sessions already in mail
 * workers go on; new mail workers get the new config); on failure the
 * old config stays and the error is logged. Listeners are kept. */
static void sighup_handler(int signo ATTR_UNUSED, void *context ATTR_UNUSED)
{
	struct config *config;
	const char *error;
	pool_t pool;
	struct settings_root *set;

	(void)sd_notify(0, "RELOADING=1");
	if (master->reload_config(master->source_path, &config, &error) < 0) {
		i_error("Config reload failed: %s", error);
		(void)sd_notify(0, "READY=1");
		return;
	}
	pool = pool_create("master settings", 64 * 1024);
	set = config_bind(pool, config->blocks[0]->root, &error);
	if (set == NULL) {
		i_error("Config reload failed: %s", error);
		pool_destroy(&pool);
		config_free(&config);
		(void)sd_notify(0, "READY=1");
		return;
	}
	if (config_snapshot_write(config, set->base_dir, &error) < 0) {
		i_error("Config reload failed: %s", error);
		pool_destroy(&pool);
		config_free(&config);
		(void)sd_notify(0, "READY=1");
		return;
	}
	i_warning("SIGHUP received - reloading configuration");
	/* the restarted login workers get a new ticket key (rotation):
	   tickets of the old key fall back to a full handshake */
	ticket_key_generate();
	config_free(&master->config);
	master->config = config;
	pool_destroy(&master->pool);
	master->pool = pool;
	master->set = set;
	protocol_limits_clear();
	for (size_t i = 0; i < master->children.count; i++) {
		struct master_child *c = master->children.v[i];
		if (c->is_login || c->is_lmtp) {
			c->stopping = true;
			(void)kill(c->pid, SIGTERM);
		}
	}
	master->auth_restart_pending = true;
	if (master->restart_to == NULL)
		master->restart_to = timeout_add(master->loop,
			RELOAD_STEP_MSECS, restart_missing, NULL);
	/* the replacements start from sigchld_handler's restart timer */
	(void)sd_notify(0, "READY=1");
}

static void sigterm_handler(int signo ATTR_UNUSED, void *context ATTR_UNUSED)
{
	master->stopping = true;
	(void)sd_notify(0, "STOPPING=1");
	io_loop_stop(master->loop);
}

static void pid_file_check(void)
{
	FILE *f = fopen(master->pid_path, "r");
	long pid;

	if (f == NULL)
		return;
	if (fscanf(f, "%ld", &pid) == 1 && pid > 0 && pid != getpid() &&
	    kill((pid_t)pid, 0) == 0) {
		fclose(f);
		i_fatal("Dovecot is already running with PID %ld "
			"(read from %s)", pid, master->pid_path);
	}
	fclose(f);
}

static void pid_file_write(void)
{
	FILE *f = fopen(master->pid_path, "w");

	if (f == NULL)
		i_fatal("open(%s) failed: %m", master->pid_path);
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

static void base_dir_create(void)
{
	char *login_dir = i_strdup_printf("%s/login", master->set->base_dir);

	if (mkdir_parents(master->set->base_dir, 0755) < 0)
		i_fatal("mkdir(%s) failed: %m", master->set->base_dir);
	if (mkdir(login_dir, 0755) < 0 && errno != EEXIST)
		i_fatal("mkdir(%s) failed: %m", login_dir);
	i_free(login_dir);
}

/* true when the auth child has exited (it stays a zombie for the loop's
 * child handling to reap and report) */
static bool auth_exited(void)
{
	for (size_t i = 0; i < master->children.count; i++) {
		struct master_child *c = master->children.v[i];
		siginfo_t info;

		if (!c->is_auth)
			continue;
		memset(&info, 0, sizeof(info));
		return waitid(P_PID, (id_t)c->pid, &info,
			      WEXITED | WNOHANG | WNOWAIT) == 0 &&
			info.si_pid == c->pid;
	}
	return false;
}

/* Up to 10 s for the auth service's socket; not when it has already
 * failed (a bad passdb: the master would sit out the whole wait, deaf to
 * SIGTERM). */
static void wait_for_auth(void)
{
	char *path = i_strdup_printf("%s/auth-master", master->set->base_dir);
	struct stat st;

	for (int i = 0; i < 100; i++) {
		if (stat(path, &st) == 0 || auth_exited())
			break;
		usleep(100 * 1000);
	}
	i_free(path);
}

static void children_stop(void)
{
	/* login workers first: they must not see the auth service vanish */
	for (size_t i = 0; i < master->children.count; i++) {
		if (master->children.v[i]->is_login)
			(void)kill(master->children.v[i]->pid, SIGTERM);
	}
	for (int i = 0; i < 20; i++) {
		bool any = false;
		for (size_t j = 0; j < master->children.count;) {
			struct master_child *c = master->children.v[j];
			pid_t ret = c->is_login ? waitpid(c->pid, NULL, WNOHANG) : 0;

			if (ret == c->pid) {
				child_remove(c);	/* reaped: forget it */
				continue;
			}
			any = any || c->is_login;
			j++;
		}
		if (!any)
			break;
		usleep(20 * 1000);
	}
	for (size_t i = 0; i < master->children.count; i++)
		(void)kill(master->children.v[i]->pid, SIGTERM);
	for (int i = 0; i < 50 && master->children.count > 0; i++) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			for (size_t j = 0; j < master->children.count; j++) {
				if (master->children.v[j]->pid == pid) {
					child_remove(master->children.v[j]);
					break;
				}
			}
			continue;
		}
		usleep(100 * 1000);
	}
	while (master->children.count > 0) {
		(void)kill(master->children.v[0]->pid, SIGKILL);
		child_remove(master->children.v[0]);
	}
}

/* Login workers hold two descriptors per TLS connection and mail
 * workers one per session: as root, lift the hard limit (to at least
 * 65536) so thousands of idle clients fit; the children inherit it. */
static void descriptor_limit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (geteuid() == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < 65536) {
		struct rlimit want = { 65536, 65536 };
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int master_main(struct config *config, const char *config_path,
		bool foreground, master_config_reload_t *reload_config)
{
	struct master m;
	const char *error;
	char exe[4096];
	ssize_t n;

	memset(&m, 0, sizeof(m));
	master = &m;
	descriptor_limit_raise();
	m.config = config;
	m.source_path = config_path;
	m.reload_config = reload_config;
	m.pool = pool_create("master settings", 64 * 1024);
	m.set = config_bind(m.pool, config->blocks[0]->root, &error);
	if (m.set == NULL)
		i_fatal("%s", error);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		i_fatal("readlink(/proc/self/exe) failed: %m");
	exe[n] = '\0';
	m.exe = exe;
	m.pid_path = i_strdup_printf("%s/master.pid", m.set->base_dir);

	base_dir_create();
	pid_file_check();
	if (config_snapshot_write(config, m.set->base_dir, &error) < 0)
		i_fatal("%s", error);
	listeners_bind();
	if (!foreground) {
		pid_t pid = fork();
		if (pid < 0)
			i_fatal("fork() failed: %m");
		if (pid > 0)
			_exit(0);
		(void)setsid();
	}
	pid_file_write();
	ticket_key_generate();
	m.loop = io_loop_create();
	io_loop_set_signal(m.loop, SIGCHLD, sigchld_handler, NULL);
	io_loop_set_signal(m.loop, SIGTERM, sigterm_handler, NULL);
	io_loop_set_signal(m.loop, SIGINT, sigterm_handler, NULL);
	io_loop_set_signal(m.loop, SIGHUP, sighup_handler, NULL);
	signal(SIGPIPE, SIG_IGN);
	char *served = protocols_served();
	if (served[0] == '\0') {
		i_info("Dovecot v2.3.19.1 (Roost %s) starting up without any "
		       "protocols", ROOST_VERSION);
	} else {
		i_info("Dovecot v2.3.19.1 (Roost %s) starting up for %s",
		       ROOST_VERSION, served);
	}
	i_free(served);
	auth_spawn();
	wait_for_auth();
	logins_spawn_missing();
	lmtp_spawn_missing();
	(void)sd_notify(0, "READY=1\nSTATUS=Roost is running");
	io_loop_run(m.loop);

	children_stop();
	timeout_remove(&m.restart_to);
	timeout_remove(&m.idle_check_to);
	for (unsigned int i = 0; i < N_ELEMENTS(m.full_ios); i++)
		io_remove(&m.full_ios[i]);
	connection_free(&m.auth_master);
	while (m.lookups.count > 0)
		lookup_free(m.lookups.v[0]);
	while (userip_sessions.count > 0)
		userip_remove_at(0);
	array_free(&userip_sessions);
	protocol_limits_clear();
	array_free(&m.lookups);
	for (size_t i = 0; i < m.listeners.count; i++) {
		close(m.listeners.v[i].fd);
		i_free(m.listeners.v[i].service);
		i_free(m.listeners.v[i].name);
	}
	array_free(&m.listeners);
	array_free(&m.children);
	(void)unlink(m.pid_path);
	(void)unlink(m.config_path);
	i_free(m.config_path);
	i_free(m.pid_path);
	io_loop_destroy(&m.loop);
	pool_destroy(&m.pool);
	/* the caller's config, or the one the last reload loaded */
	config_free(&m.config);
	return 0;
}

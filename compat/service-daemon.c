/* service-daemon.c - the `dovecot` command and the process roles the
 * master starts: `roost login -c FILE SERVICE N FLAGS` (a login worker
 * for imap-login or pop3-login with N listeners on fds 4..) and
 * `roost mail-worker -c FILE`. */
#include "lib.h"
#include "compat.h"
#include "zeroconf.h"
#include "config-bind.h"
#include "login-common.h"
#include "mail-worker.h"
#include "master.h"
#include "mail-plugins.h"
#include "config-tree.h"
#include "config-parser.h"
#include "dialect.h"
#include "tls.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern const struct login_protocol pop3_login_protocol;
extern const struct login_protocol imap_login_protocol;
extern const struct login_protocol submission_login_protocol;

static const struct login_protocol *const login_protocols[] = {
	&imap_login_protocol,
	&pop3_login_protocol,
	&submission_login_protocol,
};

/* Log where the config says (log_path, info_log_path, debug_log_path,
 * syslog). Children that may not open the files use the ones the master
 * left them; failing that, stderr, which the master points at its log. */
static void log_open_from_settings(const struct settings_root *set)
{
	const char *error;

	if (roost_log_open(set, &error) < 0)
		i_error("%s", error);
}

static struct config *load_config(const char *path)
{
	struct config *config;
	const char *error;

	if (path == NULL)
		path = roost_default_config_path();
	if (roost_config_load(path, 0, &config, &error) < 0)
		i_fatal("%s", error);
	return config;
}

static int master_reload_config(const char *path, struct config **config_r,
				const char **error_r)
{
	if (roost_config_load(path, 0, config_r, error_r) < 0)
		return -1;
	/* a 2.4 config's generated trash/ACL files: the children read
	   them from disk */
	if (dialect_write_runtime_files(error_r) < 0) {
		config_free(config_r);
		return -1;
	}
	return 0;
}

static void usage_dovecot(void) ATTR_NORETURN;
static void usage_dovecot(void)
{
	fprintf(stderr, "Usage: dovecot [-F] [-c <config file>] [-p] [-n] [-a] "
		"[--help] [--version]\n       [--build-options] [--hostdomain] "
		"[reload] [stop]\n");
	exit(EXIT_USAGE);
}

static int signal_master(struct config *config, int signo)
{
	pool_t pool = pool_create("dovecot", 4096);
	const char *error;
	struct settings_root *set = config_bind(pool, config->blocks[0]->root,
						&error);
	char *path;
	FILE *f;
	long pid = 0;

	if (set == NULL)
		i_fatal("%s", error);
	path = i_strdup_printf("%s/master.pid", set->base_dir);
	f = fopen(path, "r");
	if (f == NULL || fscanf(f, "%ld", &pid) != 1 || pid <= 0 ||
	    (kill((pid_t)pid, 0) < 0 && errno == ESRCH)) {
		/* Dovecot's text, status and (no) prefix */
		log_set_prefix("");
		i_fatal_status(EXIT_TEMPFAIL,
			       "Dovecot is not running (read from %s)", path);
	}
	fclose(f);
	if (kill((pid_t)pid, signo) < 0)
		i_fatal("kill(%ld) failed: %m", pid);
	i_free(path);
	pool_destroy(&pool);
	return 0;
}

/* mail_plugins of every filter block, checked at startup as Dovecot
 * checks them when a mail process starts: an unknown plugin or a missing
 * dependency is fatal (Dovecot's text), a Dovecot plugin Roost lacks is a
 * warning naming it. */
static void check_mail_plugins(const struct config *config, pool_t pool)
{
	for (unsigned int i = 0; i < config->block_count; i++) {
		struct config_node *root = config->blocks[i]->root;
		const char *plugins = config_node_get(root, "mail_plugins");
		const char *dir = config_node_get(root, "mail_plugin_dir");
		const char *missing, *error;

		if (plugins == NULL || plugins[0] == '\0')
			continue;
		if (dir == NULL || dir[0] == '\0')
			dir = config_node_get(config->blocks[0]->root,
					      "mail_plugin_dir");
		if (mail_plugins_check(pool, plugins, dir, &missing,
				       &error) < 0)
			i_fatal("%s", error);
		if (missing[0] != '\0')
			i_warning("mail_plugins: Roost does not implement "
				  "these Dovecot plugins, they are ignored: %s",
				  missing);
	}
}

int dovecot_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "build-options", no_argument, NULL, 'B' },
		{ "hostdomain", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	bool foreground = false;
	struct config *config;
	pool_t pool;
	int c;

	log_set_prefix("master: ");
	while ((c = getopt_long(argc, argv, "+Fc:pnah", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			foreground = true;
			break;
		case 'c':
			path = optarg;
			break;
		case 'p':
			break;	/* ask for SSL key passwords: not needed */
		case 'n':
		case 'a': {
			char *dargs[] = { (char *)"doveconf", (char *)(c == 'n' ? "-n" : "-a"),
				(char *)"-c", (char *)(path != NULL ? path :
				roost_default_config_path()), NULL };
			optind = 1;
			return doveconf_main(4, dargs);
		}
		case 'V':
			printf("2.3.19.1 (Roost %s)\n", ROOST_VERSION);
			return 0;
		case 'B':
			printf("Build options: epoll inotify openssl\n"
			       "Mail storages: maildir mbox\n"
			       "SQL driver plugins:\nPassdb: checkpassword pam "
			       "passwd passwd-file shadow static\nUserdb: "
			       "checkpassword passwd passwd-file prefetch static\n");
			return 0;
		case 'H': {
			char host[256];
			if (gethostname(host, sizeof(host)) < 0)
				strcpy(host, "localhost");
			host[sizeof(host) - 1] = '\0';
			printf("%s\n", host);
			return 0;
		}
		default:
			usage_dovecot();
		}
	}
	config = load_config(path);
	if (optind < argc) {
		if (strcmp(argv[optind], "stop") == 0)
			return signal_master(config, SIGTERM);
		if (strcmp(argv[optind], "reload") == 0)
			return signal_master(config, SIGHUP);
		usage_dovecot();
	}
	pool = pool_create("master log", 4096);
	if (path == NULL &&
	    strcmp(roost_default_config_path(), ROOST_BUILTIN_CONFIG) == 0) {
		const char *error;

		if (zeroconf_master_prepare(&error) < 0)
			i_fatal("%s", error);
	}
	{
		const char *error;
		struct settings_root *set = config_bind(pool,
			config->blocks[0]->root, &error);
		if (set == NULL)
			i_fatal("%s", error);
		log_open_from_settings(set);
		/* children inherit the log file as their stderr */
		if (log_get_file_fd() >= 0)
			(void)dup2(log_get_file_fd(), 2);
		log_export_fds();
		check_mail_plugins(config, pool);
		if (dialect_write_runtime_files(&error) < 0)
			i_fatal("%s", error);
	}
	int ret = master_main(config, path != NULL ? path :
			      roost_default_config_path(), foreground,
			      master_reload_config);
	pool_destroy(&pool);
	return ret;
}

/* Drop a login worker to default_login_user, chrooted into base_dir/login
 * when running as root (login_chroot). */
static void login_drop_privileges(const struct settings_root *set,
				  const struct settings_service *svc)
{
	const char *user = svc != NULL && svc->user[0] != '\0' ?
		svc->user : set->default_login_user;
	struct passwd *pw;
	char *dir;

	if (geteuid() != 0)
		return;
	if (user[0] == '$')
		user = set->default_login_user;
	pw = getpwnam(user);
	if (pw == NULL)
		i_fatal("service(%s): User doesn't exist: %s "
			"(See service %s { user } setting)",
			svc == NULL ? "login" : svc->name, user,
			svc == NULL ? "login" : svc->name);
	if (svc != NULL && svc->chroot[0] != '\0') {
		dir = i_strdup_printf("%s/%s", set->base_dir, svc->chroot);
		if (chroot(dir) < 0 || chdir("/") < 0)
			i_fatal("chroot(%s) failed: %m", dir);
		i_free(dir);
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		i_fatal("Couldn't drop privileges to %s: %m", user);
}

/* The master's TLS session ticket key (see master.c ticket_key_pass()):
 * every login worker encrypts tickets with the same key, so a client's
 * ticket resumes whichever worker accepts its next connection. Without
 * the fd (a worker started by hand) OpenSSL's per-process key stays. */
static void login_ticket_key_read(void)
{
	const char *env = getenv("ROOST_TLS_TICKET_FD");
	struct login_worker *w = login_worker_get();
	unsigned char key[80];
	size_t done = 0;
	int fd;

	if (env == NULL)
		return;
	fd = atoi(env);
	(void)unsetenv("ROOST_TLS_TICKET_FD");
	if (fd <= 2)
		return;
	while (done < sizeof(key)) {
		ssize_t n = read(fd, key + done, sizeof(key) - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	if (done != sizeof(key))
		i_fatal("Couldn't read the TLS ticket key from the master");
	if (w->tls_ctx != NULL)
		tls_ctx_set_ticket_key(w->tls_ctx, key);
	explicit_bzero(key, sizeof(key));
}

int login_cmd_main(int argc, char *argv[])
{
	const char *path = NULL, *error;
	const struct login_protocol *proto = NULL;
	const struct settings_service *svc = NULL;
	struct settings_root *set;
	struct config *config;
	pool_t pool;
	char *auth_path;
	int c;

	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c == 'c')
			path = optarg;
		else
			return EXIT_USAGE;
	}
	for (unsigned int i = 0; argc - optind == 3 &&
	     i < N_ELEMENTS(login_protocols); i++) {
		if (strcmp(argv[optind], login_protocols[i]->process_name) == 0)
			proto = login_protocols[i];
	}
	if (proto == NULL) {
		fprintf(stderr, "Usage: roost login -c <config> "
			"imap-login|pop3-login|submission-login <n> <ssl flags>\n");
		return EXIT_USAGE;
	}
	char *prefix = i_strdup_printf("%s: ", proto->process_name);
	log_set_prefix(prefix);
	i_free(prefix);
	config = load_config(path);
	pool = pool_create("login settings", 64 * 1024);
	struct config_filter filter = { .protocol = proto->name };
	set = config_bind_filter(pool, config, &filter, &error);
	if (set == NULL)
		i_fatal("%s", error);
	log_open_from_settings(set);
	for (unsigned int i = 0; i < set->service_count; i++) {
		if (strcmp(set->service[i]->name, argv[optind]) == 0)
			svc = set->service[i];
	}
	signal(SIGPIPE, SIG_IGN);
	auth_path = i_strdup_printf("%s/login/login", set->base_dir);
	login_worker_init(proto, set, auth_path);
	i_free(auth_path);
	login_ticket_key_read();
	login_drop_privileges(set, svc);
	return login_worker_run((unsigned int)atoi(argv[optind + 1]),
				argv[optind + 2]);
}

int mail_worker_cmd_main(int argc, char *argv[])
{
	const char *path = NULL, *error;
	struct config *config;
	struct settings_root *set;
	pool_t pool;
	int c;

	/* The master started us with the effective and saved gid set to
	   mail_privileged_group (exec copies the effective gid into the
	   saved one): run as the user's own gid, keeping the privileged
	   one saved for the mbox dotlocks, as Dovecot's mail processes. */
	if (getegid() != getgid() && setegid(getgid()) < 0)
		i_fatal("setegid(%ld) failed: %m", (long)getgid());

	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c == 'c')
			path = optarg;
		else
			return EXIT_USAGE;
	}
	log_set_prefix("mail-worker: ");
	config = load_config(path);
	pool = pool_create("worker log", 4096);
	set = config_bind(pool, config->blocks[0]->root, &error);
	if (set == NULL)
		i_fatal("%s", error);
	log_open_from_settings(set);
	return mail_worker_main(config);
}

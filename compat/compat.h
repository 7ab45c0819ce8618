/* compat.h - what the Dovecot-named front ends share: argv[0] dispatch,
 * where the config is found, loading it. */
#ifndef ROOST_COMPAT_H
#define ROOST_COMPAT_H

#include "array.h"
#include "config-parser.h"

/* The config "path" when no config file exists: the zero-config set-up
 * of zeroconf.h is parsed instead. */
#define ROOST_BUILTIN_CONFIG "(zero-config)"

/* /etc/dovecot/dovecot.conf, else /etc/dovecot.conf, else the built-in
 * defaults (zero-config). ROOST_CONFIG_DIR in the environment replaces
 * /etc for tests. */
const char *roost_default_config_path(void);
/* Parse path (ROOST_BUILTIN_CONFIG = the zero-config text; with
 * CONFIG_PARSE_DEFAULTS_ONLY the built-in defaults) and run the checks.
 * Returns 0, or -1 with error; *config_r is non-NULL when the config can
 * still be shown (errors found after reading it all). */
/* Open the log the settings name (log_path, info_log_path,
 * debug_log_path, syslog_facility, log_timestamp). */
struct settings_root;
int roost_log_open(const struct settings_root *set, const char **error_r);
int roost_config_load(const char *path, enum config_parse_flags flags,
		      struct config **config_r, const char **error_r);

/* Keep an error text beyond the pool it was made in (the last one only). */
const char *roost_error_keep(const char *msg);

int doveconf_main(int argc, char *argv[]);
/* doveadm: global options and the command table (doveadm.c) */
int doveadm_main(int argc, char *argv[]);
/* roost auth: the authentication service (service-auth.c) */
int auth_cmd_main(int argc, char *argv[]);
/* dovecot-lda, deliver, roost lda: local delivery (lda.c) */
int lda_main(int argc, char *argv[]);
/* `roost pop3 -u USER`: a pre-authenticated POP3 session on stdin. */
int pop3_cmd_main(int argc, char *argv[]);
/* `roost imap -u USER`: a pre-authenticated IMAP session on stdin. */
int imap_cmd_main(int argc, char *argv[]);
/* `roost lmtp`: the LMTP service (service-lmtp.c) */
int lmtp_cmd_main(int argc, char *argv[]);
/* The bidirectional socket a stdin/stdout session runs on: stdin itself
 * when it is a socket, else one end of a socketpair whose other end a
 * forked relay copies to and from stdin/stdout (*relay_pid_r, or -1). */
int stdio_session_fd(pid_t *relay_pid_r);

/* What `roost pop3|imap -u USER` share: -c/-o/-u parsed, the config
 * loaded, the user looked up and set up (privileges dropped), the
 * session socket and an event loop ready. Returns 0 or an exit code
 * (after printing error_prefix + the error on stdout); deinit either
 * way. */
struct mail_service;
struct mail_service_user;
struct mail_user;
struct ioloop;
struct stdio_session {
	ARRAY_STR overrides;
	struct config *config;
	struct mail_service *svc;
	struct mail_service_user *suser;
	struct mail_user *user;
	struct ioloop *loop;
	char *log_prefix;
	pid_t relay_pid;
	int fd;
};
int stdio_session_init(int argc, char *argv[], const char *protocol,
		       const char *error_prefix, struct stdio_session *ss);
void stdio_session_deinit(struct stdio_session *ss);
/* service-daemon.c: the dovecot command (the master) and the roles it
 * starts: login workers and mail workers */
int dovecot_main(int argc, char *argv[]);
int login_cmd_main(int argc, char *argv[]);
int mail_worker_cmd_main(int argc, char *argv[]);

#endif

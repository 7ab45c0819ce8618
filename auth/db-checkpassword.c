/* db-checkpassword.c - fork and exec a checkpassword program, feed it
 * "user\0password\0\0" on fd 3, collect checkpassword-reply's fields from
 * fd 4, and map its exit code as Dovecot 2.3 does (vpopmail's codes
 * included). Blocking: the caller is an auth worker. */
#include "db-checkpassword.h"
#include "auth-db-private.h"
#include "str.h"
#include "var-expand.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* the exit code of a child whose exec failed (Dovecot's FATAL_EXEC) */
#define CHECKPASSWORD_EXEC_FAILED 84

extern char **environ;

const char *checkpassword_reply_path = CHECKPASSWORD_REPLY_PATH;

struct checkpassword_run {
	struct auth_lookup *lookup;
	const char *driver;
	pid_t pid;
	string_t *reply;
	int status;		/* from waitpid() */
	bool timed_out, too_long;
};

static void env_add(pool_t pool, const char ***env, unsigned int *count,
		    unsigned int *cap, const char *entry)
{
	if (*count + 1 >= *cap) {
		unsigned int new_cap = *cap * 2 + 16;

		*env = p_realloc(pool, *env, size_mul(*cap, sizeof(char *)),
				 size_mul(new_cap, sizeof(char *)));
		*cap = new_cap;
	}
	(*env)[(*count)++] = entry;
	(*env)[*count] = NULL;
}

static void env_addf(pool_t pool, const char ***env, unsigned int *count,
		     unsigned int *cap, const char *fmt, ...)
	ATTR_FORMAT(5, 6);
static void env_addf(pool_t pool, const char ***env, unsigned int *count,
		     unsigned int *cap, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	env_add(pool, env, count, cap, p_strdup_vprintf(pool, fmt, args));
	va_end(args);
}

static const char *str_ucase_dup(pool_t pool, const char *s)
{
	char *ret = p_strdup(pool, s);

	for (char *p = ret; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	}
	return ret;
}

/* Is key (up to its '=') among the first count entries of env? */
static bool env_has_key(const char *const *env, unsigned int count,
			const char *entry)
{
	size_t len = strcspn(entry, "=");

	for (unsigned int i = 0; i < count; i++) {
		if (strncmp(env[i], entry, len) == 0 && env[i][len] == '=')
			return true;
	}
	return false;
}

/* The program's environment: what Dovecot puts there (the lookup
 * markers, UCSPI names for the addresses, the request's extra fields in
 * upper case, AUTH_<VARIABLE> for every % variable), then our own
 * variables that none of those replace. */
static const char *const *
checkpassword_env(struct auth_lookup *lookup, bool authenticate,
		  bool credentials_lookup)
{
	pool_t pool = lookup->pool;
	const struct var_expand_table *tab;
	const char **env = NULL;
	unsigned int count = 0, cap = 0;

	env_add(pool, &env, &count, &cap, "PROTO=TCP");
	if (!authenticate) {
		/* a lookup: the program must know to skip the password
		   check (and say so with AUTHORIZED=2) */
		env_add(pool, &env, &count, &cap, "AUTHORIZED=1");
		if (credentials_lookup) {
			env_add(pool, &env, &count, &cap,
				"CREDENTIALS_LOOKUP=1");
			env_addf(pool, &env, &count, &cap, "SCHEME=%s",
				 lookup->credentials_scheme == NULL ? "" :
				 lookup->credentials_scheme);
		}
	}
	env_addf(pool, &env, &count, &cap, "ORIG_UID=%u",
		 (unsigned int)getuid());
	env_addf(pool, &env, &count, &cap, "SERVICE=%s",
		 lookup->service == NULL ? "" : lookup->service);
	if (lookup->local_ip != NULL && *lookup->local_ip != '\0') {
		env_addf(pool, &env, &count, &cap, "TCPLOCALIP=%s",
			 lookup->local_ip);
		env_addf(pool, &env, &count, &cap, "LOCAL_IP=%s",
			 lookup->local_ip);
	}
	if (lookup->remote_ip != NULL && *lookup->remote_ip != '\0') {
		env_addf(pool, &env, &count, &cap, "TCPREMOTEIP=%s",
			 lookup->remote_ip);
		env_addf(pool, &env, &count, &cap, "REMOTE_IP=%s",
			 lookup->remote_ip);
	}
	if (lookup->local_port != 0)
		env_addf(pool, &env, &count, &cap, "TCPLOCALPORT=%u",
			 lookup->local_port);
	if (lookup->remote_port != 0)
		env_addf(pool, &env, &count, &cap, "TCPREMOTEPORT=%u",
			 lookup->remote_port);
	for (unsigned int i = 0; lookup->extra_fields != NULL &&
	     i < auth_fields_count(lookup->extra_fields); i++) {
		const char *key, *value;

		auth_fields_get_idx(lookup->extra_fields, i, &key, &value);
		env_addf(pool, &env, &count, &cap, "%s=%s",
			 str_ucase_dup(pool, key), value == NULL ? "1" : value);
	}
	tab = auth_lookup_var_table(lookup, NULL);
	for (unsigned int i = 0; tab[i].key != '\0' || tab[i].long_key != NULL;
	     i++) {
		if (tab[i].long_key == NULL || tab[i].value == NULL)
			continue;
		env_addf(pool, &env, &count, &cap, "AUTH_%s=%s",
			 str_ucase_dup(pool, tab[i].long_key), tab[i].value);
	}
	for (unsigned int i = 0, own = count; environ != NULL &&
	     environ[i] != NULL; i++) {
		/* our own lookup markers must not leak into an
		   authentication */
		if (str_begins(environ[i], "AUTHORIZED=", NULL) ||
		    str_begins(environ[i], "CREDENTIALS_LOOKUP=", NULL) ||
		    str_begins(environ[i], "SCHEME=", NULL))
			continue;
		if (!env_has_key(env, own, environ[i]))
			env_add(pool, &env, &count, &cap, environ[i]);
	}
	return env;
}

/* argv: the expanded program and its args split on spaces, then the
 * reply helper's path. */
static const char *const *checkpassword_argv(struct auth_lookup *lookup,
					     const char *cmd)
{
	string_t *str = str_new(256);
	const char *const *argv;

	str_append(str, cmd);
	str_append_c(str, ' ');
	str_append(str, checkpassword_reply_path);
	argv = auth_args_split(lookup->pool, str_c(str));
	str_free(&str);
	return argv;
}

/* Move fd above 4 so dup2() into 3 and 4 can't clobber it. */
static int fd_move_high(int fd)
{
	int new_fd;

	if (fd > 4)
		return fd;
	new_fd = fcntl(fd, F_DUPFD, 5);
	return new_fd < 0 ? -1 : new_fd;
}

static void ATTR_NORETURN
checkpassword_exec(const char *const *argv, const char *const *env,
		   int fd_request, int fd_reply)
{
	sigset_t none;

	fd_request = fd_move_high(fd_request);
	fd_reply = fd_move_high(fd_reply);
	if (fd_request < 0 || fd_reply < 0 || dup2(fd_request, 3) < 0 ||
	    dup2(fd_reply, 4) < 0) {
		i_error("dup2() failed: %m");
		_exit(111);
	}
	/* nothing else of ours leaks into the program */
	(void)close_range(5, ~0U, 0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)signal(SIGCHLD, SIG_DFL);
	execve(argv[0], (char *const *)argv, (char *const *)env);
	i_error("execv(%s) failed: %m", argv[0]);
	_exit(CHECKPASSWORD_EXEC_FAILED);
}

/* Send the request; a program that exits without reading it is judged
 * by its exit code, so EPIPE is not an error here. */
static int checkpassword_write(struct checkpassword_run *run, int fd,
			       const unsigned char *data, size_t size)
{
	struct sigaction ign, old;
	size_t pos = 0;
	int ret = 0;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	(void)sigaction(SIGPIPE, &ign, &old);
	while (pos < size) {
		ssize_t n = write(fd, data + pos, size - pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EPIPE) {
				auth_lookup_log_error(run->lookup, run->driver,
						      "write() failed: %m");
				ret = -1;
			}
			break;
		}
		pos += (size_t)n;
	}
	(void)sigaction(SIGPIPE, &old, NULL);
	return ret;
}

/* Read fd 4's data until EOF, bounded in size and time. */
static int checkpassword_read(struct checkpassword_run *run, int fd)
{
	time_t deadline = time(NULL) + CHECKPASSWORD_TIMEOUT_SECS;
	char buf[4096];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		time_t now = time(NULL);
		ssize_t n;
		int ret;

		if (now >= deadline) {
			run->timed_out = true;
			return -1;
		}
		ret = poll(&pfd, 1, (int)(deadline - now) * 1000);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			auth_lookup_log_error(run->lookup, run->driver,
					      "poll() failed: %m");
			return -1;
		}
		if (ret == 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			auth_lookup_log_error(run->lookup, run->driver,
					      "read() failed: %m");
			return -1;
		}
		if (n == 0)
			return 0;
		if (str_len(run->reply) + (size_t)n >
		    CHECKPASSWORD_MAX_REPLY_LEN) {
			run->too_long = true;
			return -1;
		}
		str_append_n(run->reply, buf, (size_t)n);
	}
}

static void checkpassword_wait(struct checkpassword_run *run, bool kill_it)
{
	if (kill_it)
		(void)kill(run->pid, SIGKILL);
	while (waitpid(run->pid, &run->status, 0) < 0) {
		if (errno != EINTR) {
			auth_lookup_log_error(run->lookup, run->driver,
					      "waitpid() failed: %m");
			run->status = -1;
			return;
		}
	}
}

/* Fork, exec, talk, reap. Returns 0 when the child exited (status and
 * reply in run), -1 on an internal failure (logged). */
static int checkpassword_run(struct checkpassword_run *run,
			     const char *const *argv, const char *const *env,
			     const unsigned char *request, size_t request_len)
{
	int fd_request[2], fd_reply[2], ret;

	if (pipe2(fd_request, O_CLOEXEC) < 0) {
		auth_lookup_log_error(run->lookup, run->driver,
				      "pipe() failed: %m");
		return -1;
	}
	if (pipe2(fd_reply, O_CLOEXEC) < 0) {
		auth_lookup_log_error(run->lookup, run->driver,
				      "pipe() failed: %m");
		(void)close(fd_request[0]);
		(void)close(fd_request[1]);
		return -1;
	}
	run->pid = fork();
	if (run->pid < 0) {
		auth_lookup_log_error(run->lookup, run->driver,
				      "fork() failed: %m");
		(void)close(fd_request[0]);
		(void)close(fd_request[1]);
		(void)close(fd_reply[0]);
		(void)close(fd_reply[1]);
		return -1;
	}
	if (run->pid == 0)
		checkpassword_exec(argv, env, fd_request[0], fd_reply[1]);

	(void)close(fd_request[0]);
	(void)close(fd_reply[1]);
	ret = checkpassword_write(run, fd_request[1], request, request_len);
	(void)close(fd_request[1]);
	if (ret == 0)
		ret = checkpassword_read(run, fd_reply[0]);
	(void)close(fd_reply[0]);
	checkpassword_wait(run, ret < 0);
	if (run->timed_out) {
		auth_lookup_log_error(run->lookup, run->driver,
				      "Child %ld timed out after %u secs",
				      (long)run->pid,
				      CHECKPASSWORD_TIMEOUT_SECS);
	} else if (run->too_long) {
		auth_lookup_log_error(run->lookup, run->driver,
				      "Child %ld sent a reply over %u bytes",
				      (long)run->pid,
				      CHECKPASSWORD_MAX_REPLY_LEN);
	}
	return ret < 0 || run->status == -1 ? -1 : 0;
}

static const char *const *checkpassword_fields(struct auth_lookup *lookup,
					       const string_t *reply)
{
	const char **fields;
	unsigned int n = 0, count = 1;

	for (size_t i = 0; i < str_len(reply); i++) {
		if (str_c(reply)[i] == '\t')
			count++;
	}
	fields = p_new(lookup->pool, const char *, count + 1);
	for (const char *p = str_c(reply); *p != '\0'; ) {
		size_t len = strcspn(p, "\t");

		if (len > 0) {
			fields[n++] = auth_tabunescape(lookup->pool,
				p_strndup(lookup->pool, p, len));
		}
		p += len;
		if (*p == '\t')
			p++;
	}
	fields[n] = NULL;
	return fields;
}

/* Exit codes after authentication (Dovecot's, vpopmail's included). */
static enum db_checkpassword_status
checkpassword_auth_status(struct checkpassword_run *run, int code)
{
	switch (code) {
	case 0:
		if (str_len(run->reply) == 0) {
			auth_lookup_log_error(run->lookup, run->driver,
					      "Received no input");
			return DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
		}
		return DB_CHECKPASSWORD_STATUS_OK;
	case 1:		/* standard checkpassword: failure */
	case 3:		/* vpopmail: password fail / user not found */
	case 12:	/* null user name given */
	case 13:	/* null password given */
	case 15:	/* user has no password */
	case 20:	/* invalid user/domain characters */
	case 21:	/* system user not found */
	case 22:	/* system user shadow entry not found */
	case 23:	/* system password fail */
		auth_lookup_set_reason(run->lookup, "Login failed (status=%d)",
				       code);
		return DB_CHECKPASSWORD_STATUS_FAILURE;
	case 2:
		auth_lookup_log_error(run->lookup, run->driver,
			"Child %ld exited with status 2 (tried to use "
			"userdb-only checkpassword program for passdb?)",
			(long)run->pid);
		return DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
	default:	/* 111: temporary problem */
		auth_lookup_log_error(run->lookup, run->driver,
				      "Child %ld exited with status %d",
				      (long)run->pid, code);
		return DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
	}
}

/* Exit codes of a lookup (AUTHORIZED=1): 2 found, 3 unknown. */
static enum db_checkpassword_status
checkpassword_lookup_status(struct checkpassword_run *run, int code)
{
	switch (code) {
	case 3:
		run->lookup->log_reason = "User unknown";
		return DB_CHECKPASSWORD_STATUS_FAILURE;
	case 2:
		if (str_len(run->reply) == 0) {
			auth_lookup_log_error(run->lookup, run->driver,
					      "Received no input");
			return DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
		}
		return DB_CHECKPASSWORD_STATUS_OK;
	default:
		auth_lookup_log_error(run->lookup, run->driver,
				      "Child %ld exited with status %d",
				      (long)run->pid, code);
		return DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
	}
}

/* "user\0password\0\0" (the empty timestamp is for APOP, unsupported). */
static unsigned char *checkpassword_request(const char *user,
					    const char *password,
					    size_t *len_r)
{
	size_t ulen = strlen(user), plen = password == NULL ? 0 :
		strlen(password);
	size_t len = size_add(size_add(ulen, plen), 3);
	unsigned char *buf = i_malloc(len);

	memcpy(buf, user, ulen + 1);
	if (plen > 0)
		memcpy(buf + ulen + 1, password, plen);
	buf[ulen + 1 + plen] = '\0';
	buf[ulen + 2 + plen] = '\0';
	*len_r = len;
	return buf;
}

enum db_checkpassword_status
db_checkpassword_call(const char *program_tmpl, struct auth_lookup *lookup,
		      const char *password, bool credentials_lookup,
		      const char *driver, const char *const **fields_r)
{
	struct checkpassword_run run;
	enum db_checkpassword_status status;
	const char *user = lookup->user == NULL ? "" : lookup->user;
	const char *cmd, *error;
	unsigned char *request;
	size_t request_len;
	int code;

	*fields_r = NULL;
	request = checkpassword_request(user, password, &request_len);
	if (request_len > CHECKPASSWORD_MAX_REQUEST_LEN) {
		auth_lookup_set_reason(lookup,
			"Username+password combination too long (%zu bytes)",
			request_len);
		explicit_bzero(request, request_len);
		free(request);
		return DB_CHECKPASSWORD_STATUS_FAILURE;
	}
	if (auth_lookup_var_expand(lookup, program_tmpl, &cmd, &error) < 0) {
		auth_lookup_log_error(lookup, driver,
			"Failed to expand checkpassword_path=%s: %s",
			program_tmpl, error);
		explicit_bzero(request, request_len);
		free(request);
		return DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
	}

	memset(&run, 0, sizeof(run));
	run.lookup = lookup;
	run.driver = driver;
	run.reply = str_new(256);
	auth_lookup_log_debug(lookup, driver, "execute: %s %s", cmd,
			      checkpassword_reply_path);
	if (checkpassword_run(&run, checkpassword_argv(lookup, cmd),
			      checkpassword_env(lookup, password != NULL,
						credentials_lookup),
			      request, request_len) < 0) {
		status = DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
		goto out;
	}
	if (WIFSIGNALED(run.status)) {
		auth_lookup_log_error(lookup, driver,
				      "Child %ld died with signal %d",
				      (long)run.pid, WTERMSIG(run.status));
		status = DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
		goto out;
	}
	code = WEXITSTATUS(run.status);
	auth_lookup_log_debug(lookup, driver, "exit_status=%d", code);
	if (memchr(str_c(run.reply), '\0', str_len(run.reply)) != NULL) {
		auth_lookup_log_error(lookup, driver,
				      "NUL characters in checkpassword reply");
		status = DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
		goto out;
	}
	if (strchr(str_c(run.reply), '\n') != NULL) {
		auth_lookup_log_error(lookup, driver,
				      "LF characters in checkpassword reply");
		status = DB_CHECKPASSWORD_STATUS_INTERNAL_FAILURE;
		goto out;
	}
	status = password != NULL ? checkpassword_auth_status(&run, code) :
		checkpassword_lookup_status(&run, code);
	if (status == DB_CHECKPASSWORD_STATUS_OK)
		*fields_r = checkpassword_fields(lookup, run.reply);
out:
	explicit_bzero(request, request_len);
	free(request);
	str_free(&run.reply);
	return status;
}

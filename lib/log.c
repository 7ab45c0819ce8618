/* log.c - the process log: stderr, a file with timestamps, or syslog. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_target { TARGET_STDERR, TARGET_FILE, TARGET_SYSLOG };

/* Levels go to one of three sinks, as Dovecot's log_path (warnings and
 * errors, and everything else by default), info_log_path and
 * debug_log_path. Sinks naming the same file share one FILE. */
enum log_sink_id { SINK_MAIN, SINK_INFO, SINK_DEBUG, SINK_COUNT };
#define LOG_EXPORT_MIN_FD 200

struct log_sink {
	enum log_target target;
	FILE *file;
};

static const char *const type_prefixes[LOG_TYPE_COUNT] = {
	"Debug: ", "Info: ", "Warning: ", "Error: ", "Fatal: ", "Panic: ",
};

static struct {
	struct log_sink sinks[SINK_COUNT];
	char *prefix;
	char *timestamp_fmt;
	bool syslog_open;
	log_capture_fn *capture;
	void *capture_ctx;
	bool in_log; /* recursion guard */
} logger;

const char *log_type_prefix(enum log_type type)
{
	return type < LOG_TYPE_COUNT ? type_prefixes[type] : "";
}

void log_set_prefix(const char *prefix)
{
	free(logger.prefix);
	logger.prefix = prefix == NULL ? NULL : i_strdup(prefix);
}

const char *log_get_prefix(void)
{
	return logger.prefix == NULL ? "" : logger.prefix;
}

void log_close(void)
{
	for (int i = 0; i < SINK_COUNT; i++) {
		FILE *file = logger.sinks[i].file;

		if (file == NULL)
			continue;
		for (int j = i; j < SINK_COUNT; j++) {
			if (logger.sinks[j].file == file)
				logger.sinks[j].file = NULL;
		}
		fclose(file);
	}
	if (logger.syslog_open)
		closelog();
	logger.syslog_open = false;
	i_free(logger.timestamp_fmt);
	for (int i = 0; i < SINK_COUNT; i++)
		logger.sinks[i].target = TARGET_STDERR;
}

void log_open_stderr(void)
{
	log_close();
}

static void log_set_all(FILE *file, const char *timestamp_fmt)
{
	log_close();
	setvbuf(file, NULL, _IOLBF, 0);
	for (int i = 0; i < SINK_COUNT; i++) {
		logger.sinks[i].file = file;
		logger.sinks[i].target = TARGET_FILE;
	}
	logger.timestamp_fmt = i_strdup(timestamp_fmt);
}

static FILE *log_file_open(const char *path, const char **error_r)
{
	static char errbuf[512];
	FILE *file = fopen(path, "ae");

	if (file == NULL) {
		snprintf(errbuf, sizeof(errbuf), "open(%s) failed: %s", path,
			 strerror(errno));
		*error_r = errbuf;
	}
	return file;
}

static FILE *log_fd_open(int fd)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	FILE *file = nfd < 0 ? NULL : fdopen(nfd, "a");

	if (file == NULL && nfd >= 0)
		close(nfd);
	return file;
}

int log_open_file(const char *path, const char *timestamp_fmt,
		  const char **error_r)
{
	FILE *file = log_file_open(path, error_r);

	if (file == NULL)
		return -1;
	log_set_all(file, timestamp_fmt);
	return 0;
}

int log_open_fd(int fd, const char *timestamp_fmt)
{
	FILE *file = log_fd_open(fd);

	if (file == NULL)
		return -1;
	log_set_all(file, timestamp_fmt);
	return 0;
}

int log_get_file_fd(void)
{
	return logger.sinks[SINK_MAIN].target == TARGET_FILE ?
		fileno(logger.sinks[SINK_MAIN].file) : -1;
}

static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON },
	{ "ftp", LOG_FTP }, { "kern", LOG_KERN }, { "lpr", LOG_LPR },
	{ "mail", LOG_MAIL }, { "news", LOG_NEWS },
	{ "security", LOG_AUTH }, { "syslog", LOG_SYSLOG },
	{ "user", LOG_USER }, { "uucp", LOG_UUCP },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static int facility_find(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(facilities); i++) {
		if (strcmp(facilities[i].name, name) == 0)
			return facilities[i].facility;
	}
	return -1;
}

static void syslog_start(const char *ident, int facility)
{
	static char ident_buf[128];

	snprintf(ident_buf, sizeof(ident_buf), "%s", ident);
	openlog(ident_buf, LOG_NDELAY, facility);
	logger.syslog_open = true;
}

int log_open_syslog(const char *ident, const char *facility,
		    const char **error_r)
{
	int fac = facility_find(facility);

	if (fac < 0) {
		*error_r = "Invalid syslog_facility";
		return -1;
	}
	log_close();
	syslog_start(ident, fac);
	for (int i = 0; i < SINK_COUNT; i++)
		logger.sinks[i].target = TARGET_SYSLOG;
	return 0;
}

/* Is a syslog daemon (or journald) listening? Without one, syslog()
 * would drop every line silently: those lines go to stderr instead. */
static bool syslog_available(void)
{
	const char *path = getenv("ROOST_SYSLOG_SOCKET");
	struct stat st;

	if (path == NULL)
		path = "/dev/log";
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The fds of files inherited from the master (ROOST_LOG_FDS="m i d",
 * -1 where that sink is not a file): how workers that can't open the
 * log files (mail workers run as the user, login workers chrooted)
 * still write into them. */
static bool inherited_fd(enum log_sink_id id, int *fd_r)
{
	const char *env = getenv("ROOST_LOG_FDS");
	int fds[SINK_COUNT];

	if (env == NULL || sscanf(env, "%d %d %d", &fds[0], &fds[1],
				  &fds[2]) != SINK_COUNT || fds[id] < 0)
		return false;
	*fd_r = fds[id];
	return true;
}

int log_open_paths(const struct log_paths *paths, const char **error_r)
{
	const char *path[SINK_COUNT];
	struct log_sink sinks[SINK_COUNT];
	int facility = facility_find(paths->syslog_facility);
	bool want_syslog = false;

	memset(sinks, 0, sizeof(sinks));
	path[SINK_MAIN] = paths->log_path;
	path[SINK_INFO] = paths->info_log_path[0] != '\0' ?
		paths->info_log_path : path[SINK_MAIN];
	path[SINK_DEBUG] = paths->debug_log_path[0] != '\0' ?
		paths->debug_log_path : path[SINK_INFO];
	for (int i = 0; i < SINK_COUNT; i++) {
		int fd;

		if (path[i][0] == '\0' || strcmp(path[i], "/dev/stderr") == 0) {
			sinks[i].target = TARGET_STDERR;
			continue;
		}
		if (strcmp(path[i], "syslog") == 0) {
			if (facility < 0) {
				*error_r = "Invalid syslog_facility";
				goto fail;
			}
			want_syslog = syslog_available();
			sinks[i].target = want_syslog ? TARGET_SYSLOG :
				TARGET_STDERR;
			continue;
		}
		sinks[i].target = TARGET_FILE;
		for (int j = 0; j < i; j++) {
			if (sinks[j].target == TARGET_FILE &&
			    strcmp(path[j], path[i]) == 0)
				sinks[i].file = sinks[j].file;
		}
		if (sinks[i].file != NULL)
			continue;
		if (inherited_fd((enum log_sink_id)i, &fd))
			sinks[i].file = log_fd_open(fd);
		if (sinks[i].file == NULL &&
		    (sinks[i].file = log_file_open(path[i], error_r)) == NULL)
			goto fail;
		setvbuf(sinks[i].file, NULL, _IOLBF, 0);
	}
	log_close();
	memcpy(logger.sinks, sinks, sizeof(sinks));
	logger.timestamp_fmt = i_strdup(paths->log_timestamp);
	if (want_syslog)
		syslog_start(paths->syslog_ident, facility);
	return 0;
fail:
	for (int i = 0; i < SINK_COUNT; i++) {
		FILE *file = sinks[i].file;

		if (file == NULL)
			continue;
		for (int j = i; j < SINK_COUNT; j++) {
			if (sinks[j].file == file)
				sinks[j].file = NULL;
		}
		fclose(file);
	}
	return -1;
}

void log_export_fds(void)
{
	char buf[64];
	int fds[SINK_COUNT];

	/* high numbers, out of the way of the fds workers are given at
	   fixed places (listeners from 4 on) */
	for (int i = 0; i < SINK_COUNT; i++) {
		fds[i] = -1;
		if (logger.sinks[i].target != TARGET_FILE)
			continue;
		for (int j = 0; j < i; j++) {
			if (logger.sinks[j].file == logger.sinks[i].file)
				fds[i] = fds[j];
		}
		if (fds[i] < 0)
			fds[i] = fcntl(fileno(logger.sinks[i].file), F_DUPFD,
				       LOG_EXPORT_MIN_FD);
	}
	snprintf(buf, sizeof(buf), "%d %d %d", fds[0], fds[1], fds[2]);
	(void)setenv("ROOST_LOG_FDS", buf, 1);
}

void log_set_capture(log_capture_fn *fn, void *context)
{
	logger.capture = fn;
	logger.capture_ctx = context;
}

static int syslog_priority(enum log_type type)
{
	static const int prios[LOG_TYPE_COUNT] = {
		LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT,
	};
	return prios[type];
}

static enum log_sink_id sink_of(enum log_type type)
{
	return type == LOG_TYPE_DEBUG ? SINK_DEBUG :
		type == LOG_TYPE_INFO ? SINK_INFO : SINK_MAIN;
}

/* Build "<prefix><Level: ><msg>" and write it to the level's sink. */
void i_logv(enum log_type type, const char *fmt, va_list args)
{
	int old_errno = errno;
	const struct log_sink *sink = &logger.sinks[sink_of(type)];
	char *msg, *line;

	if (logger.in_log)
		return;
	logger.in_log = true;
	msg = i_strdup_vprintf(fmt, args);
	if (sink->target == TARGET_SYSLOG && logger.capture == NULL) {
		/* syslog drops the "Info: " word, keeps the others */
		syslog(syslog_priority(type), "%s%s%s", log_get_prefix(),
		       type == LOG_TYPE_INFO ? "" : type_prefixes[type], msg);
	} else {
		line = i_strdup_printf("%s%s%s", log_get_prefix(),
				       type_prefixes[type], msg);
		if (logger.capture != NULL) {
			logger.capture(type, line, logger.capture_ctx);
		} else if (sink->target == TARGET_FILE) {
			char tbuf[128] = "";
			time_t now = time(NULL);
			struct tm tm;

			if (localtime_r(&now, &tm) != NULL &&
			    strftime(tbuf, sizeof(tbuf),
				     logger.timestamp_fmt, &tm) == 0)
				tbuf[0] = '\0';
			fprintf(sink->file, "%s%s\n", tbuf, line);
		} else {
			fprintf(stderr, "%s\n", line);
			fflush(stderr);
		}
		free(line);
	}
	free(msg);
	logger.in_log = false;
	errno = old_errno;
}

void i_log(enum log_type type, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	i_logv(type, fmt, args);
	va_end(args);
}

#define DEFINE_LOG_FN(name, type) \
	void name(const char *fmt, ...) \
	{ \
		va_list args; \
		va_start(args, fmt); \
		i_logv(type, fmt, args); \
		va_end(args); \
	}
DEFINE_LOG_FN(i_debug, LOG_TYPE_DEBUG)
DEFINE_LOG_FN(i_info, LOG_TYPE_INFO)
DEFINE_LOG_FN(i_warning, LOG_TYPE_WARNING)
DEFINE_LOG_FN(i_error, LOG_TYPE_ERROR)

void i_fatal_status(int status, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	i_logv(LOG_TYPE_FATAL, fmt, args);
	va_end(args);
	exit(status);
}

void i_fatal(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	i_logv(LOG_TYPE_FATAL, fmt, args);
	va_end(args);
	exit(EXIT_CONFIG);
}

void i_panic(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	i_logv(LOG_TYPE_PANIC, fmt, args);
	va_end(args);
	abort();
}

/* log.c - the process log: stderr, a file with timestamps, or syslog. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_target { TARGET_STDERR, TARGET_FILE, TARGET_SYSLOG };

static const char *const type_prefixes[LOG_TYPE_COUNT] = {
	"Debug: ", "Info: ", "Warning: ", "Error: ", "Fatal: ", "Panic: ",
};

static struct {
	enum log_target target;
	char *prefix;
	FILE *file;
	char *timestamp_fmt;
	log_capture_fn *capture;
	void *capture_ctx;
	bool in_log; /* recursion guard */
} logger = { .target = TARGET_STDERR };

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
	if (logger.file != NULL)
		fclose(logger.file);
	logger.file = NULL;
	if (logger.target == TARGET_SYSLOG)
		closelog();
	i_free(logger.timestamp_fmt);
	logger.target = TARGET_STDERR;
}

void log_open_stderr(void)
{
	log_close();
}

int log_open_file(const char *path, const char *timestamp_fmt,
		  const char **error_r)
{
	static char errbuf[512];
	FILE *file = fopen(path, "a");

	if (file == NULL) {
		snprintf(errbuf, sizeof(errbuf), "open(%s) failed: %s", path,
			 strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	log_close();
	setvbuf(file, NULL, _IOLBF, 0);
	logger.file = file;
	logger.timestamp_fmt = i_strdup(timestamp_fmt);
	logger.target = TARGET_FILE;
	return 0;
}

int log_open_fd(int fd, const char *timestamp_fmt)
{
	int nfd = dup(fd);
	FILE *file = nfd < 0 ? NULL : fdopen(nfd, "a");

	if (file == NULL) {
		if (nfd >= 0)
			close(nfd);
		return -1;
	}
	log_close();
	setvbuf(file, NULL, _IOLBF, 0);
	logger.file = file;
	logger.timestamp_fmt = i_strdup(timestamp_fmt);
	logger.target = TARGET_FILE;
	return 0;
}

int log_get_file_fd(void)
{
	return logger.target == TARGET_FILE ? fileno(logger.file) : -1;
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

int log_open_syslog(const char *ident, const char *facility,
		    const char **error_r)
{
	static char ident_buf[128];

	for (size_t i = 0; i < N_ELEMENTS(facilities); i++) {
		if (strcmp(facilities[i].name, facility) != 0)
			continue;
		log_close();
		snprintf(ident_buf, sizeof(ident_buf), "%s", ident);
		openlog(ident_buf, LOG_NDELAY, facilities[i].facility);
		logger.target = TARGET_SYSLOG;
		return 0;
	}
	*error_r = "Invalid syslog_facility";
	return -1;
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

/* Build "<prefix><Level: ><msg>" and write it to the current target. */
void i_logv(enum log_type type, const char *fmt, va_list args)
{
	int old_errno = errno;
	char *msg, *line;

	if (logger.in_log)
		return;
	logger.in_log = true;
	msg = i_strdup_vprintf(fmt, args);
	if (logger.target == TARGET_SYSLOG && logger.capture == NULL) {
		/* syslog drops the "Info: " word, keeps the others */
		syslog(syslog_priority(type), "%s%s%s", log_get_prefix(),
		       type == LOG_TYPE_INFO ? "" : type_prefixes[type], msg);
	} else {
		line = i_strdup_printf("%s%s%s", log_get_prefix(),
				       type_prefixes[type], msg);
		if (logger.capture != NULL) {
			logger.capture(type, line, logger.capture_ctx);
		} else if (logger.target == TARGET_FILE) {
			char tbuf[128] = "";
			time_t now = time(NULL);
			struct tm tm;

			if (localtime_r(&now, &tm) != NULL &&
			    strftime(tbuf, sizeof(tbuf),
				     logger.timestamp_fmt, &tm) == 0)
				tbuf[0] = '\0';
			fprintf(logger.file, "%s%s\n", tbuf, line);
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

/* log.h - logging with Dovecot's prefixes and line formats
 * (shared/reference/logging.md): "<timestamp><prefix>: <Level>: <msg>". */
#ifndef ROOST_LOG_H
#define ROOST_LOG_H

#include "lib.h"

enum log_type {
	LOG_TYPE_DEBUG,
	LOG_TYPE_INFO,
	LOG_TYPE_WARNING,
	LOG_TYPE_ERROR,
	LOG_TYPE_FATAL,
	LOG_TYPE_PANIC,
	LOG_TYPE_COUNT
};

/* "Debug: ", "Info: ", "Warning: ", "Error: ", "Fatal: ", "Panic: " */
const char *log_type_prefix(enum log_type type);

/* Process prefix written before the level, e.g. "doveconf: " or
 * "imap(alice)<123><sess>: ". Copied. */
void log_set_prefix(const char *prefix);
const char *log_get_prefix(void);

/* Send every level to stderr (the default). */
void log_open_stderr(void);
/* Append to a file; timestamp_fmt is strftime() text like
 * "%b %d %H:%M:%S " (Dovecot's log_timestamp). Returns -1 on error. */
int log_open_file(const char *path, const char *timestamp_fmt,
		  const char **error_r);
/* Log with timestamps to an already open file descriptor (dup'd): how
 * unprivileged children write into the log file the master opened. */
int log_open_fd(int fd, const char *timestamp_fmt);
/* The fd of the log file, -1 when not logging to a file. */
int log_get_file_fd(void);
/* Log to syslog with ident (instance_name) and facility name. */
int log_open_syslog(const char *ident, const char *facility,
		    const char **error_r);
/* Dovecot's three log settings: warnings and errors go to log_path,
 * Info lines to info_log_path (empty: log_path), Debug lines to
 * debug_log_path (empty: info_log_path). Each is a file, "syslog"
 * (ident, facility; stderr when nothing listens on /dev/log), or empty
 * or "/dev/stderr" for stderr. Files the process may not open are
 * taken from the fds log_export_fds() left it. Nothing changes on
 * failure. */
struct log_paths {
	const char *log_path, *info_log_path, *debug_log_path;
	const char *log_timestamp;
	const char *syslog_ident, *syslog_facility;
};
int log_open_paths(const struct log_paths *paths, const char **error_r);
/* Let exec'd children inherit the open log files (ROOST_LOG_FDS). */
void log_export_fds(void);
void log_close(void);

/* Capture instead of writing (unit tests): called for each line. */
typedef void log_capture_fn(enum log_type type, const char *line,
			    void *context);
void log_set_capture(log_capture_fn *fn, void *context);

void i_log(enum log_type type, const char *fmt, ...) ATTR_FORMAT(2, 3);
void i_logv(enum log_type type, const char *fmt, va_list args)
	ATTR_FORMAT(2, 0);
void i_debug(const char *fmt, ...) ATTR_FORMAT(1, 2);
void i_info(const char *fmt, ...) ATTR_FORMAT(1, 2);
void i_warning(const char *fmt, ...) ATTR_FORMAT(1, 2);
void i_error(const char *fmt, ...) ATTR_FORMAT(1, 2);
/* The environment makes going on impossible: log and exit(89). */
void i_fatal(const char *fmt, ...) ATTR_FORMAT(1, 2) ATTR_NORETURN;
void i_fatal_status(int status, const char *fmt, ...)
	ATTR_FORMAT(2, 3) ATTR_NORETURN;
/* Our own bug: log and abort(). */
void i_panic(const char *fmt, ...) ATTR_FORMAT(1, 2) ATTR_NORETURN;

#define i_assert(expr) do { if (!(expr)) \
	i_panic("file %s: line %d (%s): assertion failed: (%s)", \
		__FILE__, __LINE__, __func__, #expr); } while (0)
#define i_unreached() \
	i_panic("file %s: line %d: unreached", __FILE__, __LINE__)

#endif

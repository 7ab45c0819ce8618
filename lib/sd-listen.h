/* sd-listen.h - socket activation and service notification without
 * needing systemd as PID 1: the LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES
 * protocol (systemd, systemd-socket-activate, any supervisor that speaks
 * it), matching inherited sockets to the configured listeners, and
 * sd_notify messages (READY=1, RELOADING=1, STOPPING=1, STATUS=). */
#ifndef ROOST_SD_LISTEN_H
#define ROOST_SD_LISTEN_H

#include "lib.h"
#include "net.h"

#include <sys/socket.h>

/* Inherited descriptors start here (SD_LISTEN_FDS_START). */
#define SD_LISTEN_FDS_FIRST 3

struct sd_listen_fd {
	int fd;
	/* LISTEN_FDNAMES entry ("imaps"; systemd's default is the socket
	   unit's name, or "unknown"); "" when none was given */
	char *name;
	/* what the socket is: from getsockopt()/getsockname()/fstat() */
	int family;		/* AF_INET, AF_INET6, AF_UNIX, or 0 (a FIFO
				   or something else) */
	int type;		/* SOCK_STREAM, ...; 0 for a FIFO */
	bool listening;		/* SO_ACCEPTCONN */
	bool fifo;
	bool v6only;		/* AF_INET6 with IPV6_V6ONLY */
	struct ip_addr ip;	/* inet: bound address */
	in_port_t port;
	char *path;		/* AF_UNIX: bound path ("@name" abstract) */
	/* set by sd_listen_match(): index into its listeners, -1 unused */
	int listener;
};

struct sd_listen {
	unsigned int count;
	struct sd_listen_fd *fds;
};

enum sd_listener_type {
	SD_LISTENER_INET,
	SD_LISTENER_UNIX,
	SD_LISTENER_FIFO,
};

/* One address the config wants to listen on. A listener with several
 * addresses ("listen = *, ::") is given as several entries with the same
 * name. */
struct sd_listener {
	/* filled by the caller */
	const char *name;	/* inet_listener/unix_listener name: "imaps",
				   or for unix listeners the path's base */
	enum sd_listener_type type;
	const char *address;	/* inet: "*", "::", "127.0.0.1", "[::1]",
				   or a host name (resolved here) */
	in_port_t port;
	const char *path;	/* unix/fifo: absolute path */

	/* filled by sd_listen_match() */
	int fd;			/* the first inherited fd for it, or -1 */
	/* false: the caller binds this address itself. true: an inherited
	   fd covers it (fd >= 0), or named fds replaced the listener's
	   addresses, or a dual-stack [::] socket already takes this "*" */
	bool inherited;
};

/* Read LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES from the environment. Not
 * for us (no variables, or LISTEN_PID is another process): *sd_r gets
 * an empty set. The fds are made close-on-exec and described. With
 * unset_env the variables are removed so that children don't see them.
 * Returns -1 with error_r (and *sd_r NULL) for malformed values or fds
 * that aren't open. */
int sd_listen_init(bool unset_env, struct sd_listen **sd_r,
		   const char **error_r);
/* The same from explicit values (NULL = unset), for tests and callers
 * that read the environment themselves. fds_count descriptors from 3
 * on must then be open. */
int sd_listen_init_from(const char *listen_pid, const char *listen_fds,
			const char *listen_fdnames, pid_t mypid,
			struct sd_listen **sd_r, const char **error_r);
/* Describe descriptors the caller already has as if inherited (sockets
 * the master passes on when it re-executes itself, a test's sockets);
 * names may be NULL, or hold NULL entries. The fds are not changed. */
struct sd_listen *sd_listen_from_fds(const int *fds, const char *const *names,
				     unsigned int count);
/* Frees the set; closes the fds no listener took when close_unused. */
void sd_listen_free(struct sd_listen **sd, bool close_unused);

/* Give inherited fds to listeners:
   1. by name: an fd whose name equals a listener's name belongs to that
      listener (to the entry whose address it matches, else the first
      one); a listener that got named fds binds nothing else, its other
      entries become inherited with fd -1 — naming fds in the socket
      unit means "these are the addresses of imaps";
   2. by address, for the rest: inet entries take a listening stream
      socket with the same port and address, where "*" matches 0.0.0.0
      and "::" matches [::] (like Debian's dovecot.socket with
      BindIPv6Only=ipv6-only) and a host name any of its addresses;
      unix/fifo entries take the socket/FIFO bound at the same path;
   3. "*" entries still unmatched are covered by a dual-stack [::]
      socket of the same port (BindIPv6Only=both): binding 0.0.0.0 would
      fail with EADDRINUSE.
   Sets every listener's fd/inherited and every fd's listener. Returns
   the number of inherited fds no listener took. */
unsigned int sd_listen_match(struct sd_listen *sd,
			     struct sd_listener *listeners,
			     unsigned int count);
/* "127.0.0.1:143", "[::]:993", "/run/dovecot/auth-client", "fifo" ...
 * (static buffer) */
const char *sd_listen_fd_describe(const struct sd_listen_fd *fd);
/* Close every fd that no listener took, logging for each Dovecot's
 * "systemd listens on port 31999, but it's not configured in Dovecot.
 * Closing." (inet) or "systemd listens on PATH, ..." (others) as Error,
 * as Dovecot does. Returns how many were closed. */
unsigned int sd_listen_close_unused(struct sd_listen *sd);

/* sd_notify(3) messages to $NOTIFY_SOCKET (nothing when unset, as
 * without systemd). Return 1 sent, 0 no socket, -1 error. */
int sd_notify_ready(void);
/* RELOADING=1 with MONOTONIC_USEC= (what Type=notify-reload wants) */
int sd_notify_reloading(void);
int sd_notify_stopping(void);
int sd_notify_status(const char *fmt, ...) ATTR_FORMAT(1, 2);

#endif

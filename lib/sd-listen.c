/* sd-listen.c - inherited listening sockets (LISTEN_FDS protocol), their
 * assignment to configured listeners, and sd_notify messages. */
#include "sd-listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

/* More would be a misconfiguration, not a mail server's listeners. */
#define SD_LISTEN_MAX_FDS 4096

static int parse_uint(const char *str, unsigned long max,
		      unsigned long *value_r)
{
	unsigned long value = 0;

	if (*str == '\0')
		return -1;
	for (; *str != '\0'; str++) {
		if (*str < '0' || *str > '9')
			return -1;
		value = value * 10 + (unsigned long)(*str - '0');
		if (value > max)
			return -1;
	}
	*value_r = value;
	return 0;
}

/* Find out what kind of socket (or FIFO) fd is. */
static void fd_describe(struct sd_listen_fd *lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st;
	int value;
	socklen_t vlen = sizeof(value);

	if (fstat(lfd->fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		lfd->fifo = true;
		return;
	}
	if (getsockopt(lfd->fd, SOL_SOCKET, SO_TYPE, &value, &vlen) < 0)
		return;
	lfd->type = value;
	vlen = sizeof(value);
	if (getsockopt(lfd->fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &vlen) == 0)
		lfd->listening = value != 0;
	memset(&ss, 0, sizeof(ss));
	if (getsockname(lfd->fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	lfd->family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&ss;

		lfd->ip.family = AF_INET;
		lfd->ip.u.ip4 = sin->sin_addr;
		lfd->port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&ss;

		lfd->ip.family = AF_INET6;
		lfd->ip.u.ip6 = sin6->sin6_addr;
		lfd->port = ntohs(sin6->sin6_port);
		vlen = sizeof(value);
		if (getsockopt(lfd->fd, IPPROTO_IPV6, IPV6_V6ONLY, &value,
			       &vlen) == 0)
			lfd->v6only = value != 0;
	} else if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const void *)&ss;
		size_t plen = len > offsetof(struct sockaddr_un, sun_path) ?
			len - offsetof(struct sockaddr_un, sun_path) : 0;

		if (plen > 0 && sun->sun_path[0] == '\0') {
			/* abstract: shown as "@name" like ss(8) does */
			/* @UNSAFE: plen - 1 name bytes after the '@' */
			lfd->path = i_malloc(plen + 1);
			lfd->path[0] = '@';
			memcpy(lfd->path + 1, sun->sun_path + 1, plen - 1);
		} else {
			lfd->path = i_strndup(sun->sun_path, plen);
		}
	}
}

static int parse_names(struct sd_listen *sd, const char *names,
		       const char **error_r)
{
	static char errbuf[128];
	unsigned int i = 0;
	const char *p = names;

	for (;;) {
		const char *end = strchr(p, ':');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);

		if (i < sd->count)
			sd->fds[i].name = i_strndup(p, len);
		i++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (i != sd->count) {
		snprintf(errbuf, sizeof(errbuf),
			 "LISTEN_FDNAMES has %u names for %u fds", i,
			 sd->count);
		*error_r = errbuf;
		return -1;
	}
	return 0;
}

static int sd_listen_parse(struct sd_listen *sd, const char *listen_pid,
			   const char *listen_fds, const char *listen_fdnames,
			   pid_t mypid, const char **error_r);

int sd_listen_init_from(const char *listen_pid, const char *listen_fds,
			const char *listen_fdnames, pid_t mypid,
			struct sd_listen **sd_r, const char **error_r)
{
	struct sd_listen *sd = i_new(struct sd_listen, 1);

	*sd_r = sd;
	if (listen_pid == NULL || listen_fds == NULL)
		return 0;
	if (sd_listen_parse(sd, listen_pid, listen_fds, listen_fdnames, mypid,
			    error_r) < 0) {
		sd_listen_free(sd_r, false);
		return -1;
	}
	return 0;
}

static int sd_listen_parse(struct sd_listen *sd, const char *listen_pid,
			   const char *listen_fds, const char *listen_fdnames,
			   pid_t mypid, const char **error_r)
{
	static char errbuf[128];
	unsigned long pid, count;

	if (parse_uint(listen_pid, (unsigned long)INT32_MAX, &pid) < 0) {
		*error_r = "Invalid LISTEN_PID";
		return -1;
	}
	if ((pid_t)pid != mypid)
		return 0;	/* meant for another process */
	if (parse_uint(listen_fds, SD_LISTEN_MAX_FDS, &count) < 0) {
		*error_r = "Invalid LISTEN_FDS";
		return -1;
	}
	sd->count = (unsigned int)count;
	sd->fds = i_new(struct sd_listen_fd, sd->count + 1);
	for (unsigned int i = 0; i < sd->count; i++) {
		struct sd_listen_fd *lfd = &sd->fds[i];
		int flags;

		lfd->fd = SD_LISTEN_FDS_FIRST + (int)i;
		lfd->listener = -1;
		flags = fcntl(lfd->fd, F_GETFD);
		if (flags < 0) {
			snprintf(errbuf, sizeof(errbuf),
				 "LISTEN_FDS=%lu, but fd %d is not open",
				 count, lfd->fd);
			*error_r = errbuf;
			return -1;
		}
		(void)fcntl(lfd->fd, F_SETFD, flags | FD_CLOEXEC);
		fd_describe(lfd);
	}
	if (listen_fdnames != NULL &&
	    parse_names(sd, listen_fdnames, error_r) < 0)
		return -1;
	for (unsigned int i = 0; i < sd->count; i++) {
		if (sd->fds[i].name == NULL)
			sd->fds[i].name = i_strdup("");
	}
	return 0;
}

int sd_listen_init(bool unset_env, struct sd_listen **sd_r,
		   const char **error_r)
{
	int ret = sd_listen_init_from(getenv("LISTEN_PID"),
				      getenv("LISTEN_FDS"),
				      getenv("LISTEN_FDNAMES"), getpid(),
				      sd_r, error_r);

	if (unset_env) {
		(void)unsetenv("LISTEN_PID");
		(void)unsetenv("LISTEN_FDS");
		(void)unsetenv("LISTEN_FDNAMES");
	}
	return ret;
}

struct sd_listen *sd_listen_from_fds(const int *fds, const char *const *names,
				     unsigned int count)
{
	struct sd_listen *sd = i_new(struct sd_listen, 1);

	sd->count = count;
	sd->fds = i_new(struct sd_listen_fd, count + 1);
	for (unsigned int i = 0; i < count; i++) {
		sd->fds[i].fd = fds[i];
		sd->fds[i].listener = -1;
		sd->fds[i].name = i_strdup(names != NULL && names[i] != NULL ?
					   names[i] : "");
		fd_describe(&sd->fds[i]);
	}
	return sd;
}

void sd_listen_free(struct sd_listen **_sd, bool close_unused)
{
	struct sd_listen *sd = *_sd;

	if (sd == NULL)
		return;
	*_sd = NULL;
	for (unsigned int i = 0; i < sd->count; i++) {
		if (close_unused && sd->fds[i].listener < 0 &&
		    sd->fds[i].fd >= 0)
			(void)close(sd->fds[i].fd);
		i_free(sd->fds[i].name);
		i_free(sd->fds[i].path);
	}
	free(sd->fds);
	free(sd);
}

/* ---- matching ---- */

/* Can this fd serve an entry of this type at all? */
static bool fd_fits_type(const struct sd_listen_fd *lfd,
			 enum sd_listener_type type)
{
	switch (type) {
	case SD_LISTENER_INET:
		return (lfd->family == AF_INET || lfd->family == AF_INET6) &&
			lfd->type == SOCK_STREAM && lfd->listening;
	case SD_LISTENER_UNIX:
		return lfd->family == AF_UNIX && lfd->type == SOCK_STREAM &&
			lfd->listening;
	case SD_LISTENER_FIFO:
		return lfd->fifo;
	}
	return false;
}

/* Does a config address ("*", "::", "1.2.3.4", "[::1]", a host name)
 * name the fd's bound address? */
static bool inet_addr_matches(const char *address,
			      const struct ip_addr *ip)
{
	struct addrinfo hints, *res, *ai;
	struct ip_addr want;
	bool found = false;

	if (address == NULL || strcmp(address, "*") == 0)
		address = "0.0.0.0";
	if (net_addr2ip(address, &want) == 0)
		return net_ip_compare(&want, ip);

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(address, NULL, &hints, &res) != 0)
		return false;
	for (ai = res; ai != NULL && !found; ai = ai->ai_next) {
		memset(&want, 0, sizeof(want));
		if (ai->ai_family == AF_INET) {
			want.family = AF_INET;
			want.u.ip4 = ((struct sockaddr_in *)
				      (void *)ai->ai_addr)->sin_addr;
		} else if (ai->ai_family == AF_INET6) {
			want.family = AF_INET6;
			want.u.ip6 = ((struct sockaddr_in6 *)
				      (void *)ai->ai_addr)->sin6_addr;
		}
		found = net_ip_compare(&want, ip);
	}
	freeaddrinfo(res);
	return found;
}

static bool fifo_matches(const char *path, int fd)
{
	struct stat st1, st2;

	return path != NULL && stat(path, &st1) == 0 && fstat(fd, &st2) == 0 &&
		st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino;
}

static bool fd_matches_entry(const struct sd_listen_fd *lfd,
			     const struct sd_listener *l)
{
	if (!fd_fits_type(lfd, l->type))
		return false;
	switch (l->type) {
	case SD_LISTENER_INET:
		return lfd->port == l->port &&
			inet_addr_matches(l->address, &lfd->ip);
	case SD_LISTENER_UNIX:
		return l->path != NULL && lfd->path != NULL &&
			strcmp(l->path, lfd->path) == 0;
	case SD_LISTENER_FIFO:
		return fifo_matches(l->path, lfd->fd);
	}
	return false;
}

static void assign(struct sd_listen_fd *lfd, struct sd_listener *listeners,
		   unsigned int idx)
{
	lfd->listener = (int)idx;
	if (listeners[idx].fd < 0)
		listeners[idx].fd = lfd->fd;
	listeners[idx].inherited = true;
}

/* Phase 1: an fd named like a listener belongs to it. */
static void match_by_name(struct sd_listen *sd, struct sd_listener *listeners,
			  unsigned int count)
{
	for (unsigned int i = 0; i < sd->count; i++) {
		struct sd_listen_fd *lfd = &sd->fds[i];
		int best = -1, first_free = -1, first = -1;

		if (lfd->name[0] == '\0')
			continue;
		for (unsigned int j = 0; j < count; j++) {
			struct sd_listener *l = &listeners[j];

			if (l->name == NULL || strcmp(l->name, lfd->name) != 0 ||
			    !fd_fits_type(lfd, l->type))
				continue;
			if (first < 0)
				first = (int)j;
			if (l->fd < 0 && first_free < 0)
				first_free = (int)j;
			if (l->fd < 0 && best < 0 && fd_matches_entry(lfd, l))
				best = (int)j;
		}
		if (best < 0)
			best = first_free >= 0 ? first_free : first;
		if (best >= 0)
			assign(lfd, listeners, (unsigned int)best);
	}
	/* named fds replace all the addresses of their listener */
	for (unsigned int i = 0; i < sd->count; i++) {
		if (sd->fds[i].listener < 0)
			continue;
		const char *name = listeners[sd->fds[i].listener].name;

		for (unsigned int j = 0; j < count; j++) {
			if (listeners[j].name != NULL &&
			    strcmp(listeners[j].name, name) == 0)
				listeners[j].inherited = true;
		}
	}
}

static bool is_ipv6_any(const struct ip_addr *ip)
{
	static const struct in6_addr any = IN6ADDR_ANY_INIT;

	return ip->family == AF_INET6 &&
		memcmp(&ip->u.ip6, &any, sizeof(any)) == 0;
}

static bool is_ipv4_wildcard(const char *address)
{
	return address == NULL || strcmp(address, "*") == 0 ||
		strcmp(address, "0.0.0.0") == 0;
}

/* A dual-stack [::] socket on the port of a "*" entry. */
static bool fd_is_dualstack_for(const struct sd_listen_fd *lfd,
				const struct sd_listener *l)
{
	return l->type == SD_LISTENER_INET && is_ipv4_wildcard(l->address) &&
		fd_fits_type(lfd, l->type) && lfd->port == l->port &&
		is_ipv6_any(&lfd->ip) && !lfd->v6only;
}

unsigned int sd_listen_match(struct sd_listen *sd,
			     struct sd_listener *listeners,
			     unsigned int count)
{
	unsigned int unused = 0;

	for (unsigned int j = 0; j < count; j++) {
		listeners[j].fd = -1;
		listeners[j].inherited = false;
	}
	for (unsigned int i = 0; i < sd->count; i++)
		sd->fds[i].listener = -1;

	match_by_name(sd, listeners, count);

	/* Phase 2: by address, one fd per entry */
	for (unsigned int i = 0; i < sd->count; i++) {
		struct sd_listen_fd *lfd = &sd->fds[i];

		for (unsigned int j = 0; j < count && lfd->listener < 0; j++) {
			if (!listeners[j].inherited &&
			    fd_matches_entry(lfd, &listeners[j]))
				assign(lfd, listeners, j);
		}
	}
	/* Phase 3: "*" and a dual-stack [::] socket of the same port */
	for (unsigned int j = 0; j < count; j++) {
		if (listeners[j].inherited)
			continue;
		for (unsigned int i = 0; i < sd->count; i++) {
			struct sd_listen_fd *lfd = &sd->fds[i];

			if (!fd_is_dualstack_for(lfd, &listeners[j]))
				continue;
			if (lfd->listener < 0)
				assign(lfd, listeners, j);
			listeners[j].inherited = true;
			break;
		}
	}
	for (unsigned int i = 0; i < sd->count; i++) {
		if (sd->fds[i].listener < 0)
			unused++;
	}
	return unused;
}

const char *sd_listen_fd_describe(const struct sd_listen_fd *lfd)
{
	static char buf[256];

	if (lfd->fifo)
		snprintf(buf, sizeof(buf), "FIFO fd %d", lfd->fd);
	else if (lfd->family == AF_INET)
		snprintf(buf, sizeof(buf), "%s:%u", net_ip2addr(&lfd->ip),
			 lfd->port);
	else if (lfd->family == AF_INET6)
		snprintf(buf, sizeof(buf), "[%s]:%u", net_ip2addr(&lfd->ip),
			 lfd->port);
	else if (lfd->family == AF_UNIX && lfd->path != NULL &&
		 lfd->path[0] != '\0')
		snprintf(buf, sizeof(buf), "%s", lfd->path);
	else
		snprintf(buf, sizeof(buf), "fd %d", lfd->fd);
	return buf;
}

unsigned int sd_listen_close_unused(struct sd_listen *sd)
{
	unsigned int closed = 0;

	for (unsigned int i = 0; i < sd->count; i++) {
		struct sd_listen_fd *lfd = &sd->fds[i];

		if (lfd->listener >= 0 || lfd->fd < 0)
			continue;
		if (lfd->family == AF_INET || lfd->family == AF_INET6) {
			i_error("systemd listens on port %u, but it's not "
				"configured in Dovecot. Closing.", lfd->port);
		} else {
			i_error("systemd listens on %s, but it's not "
				"configured in Dovecot. Closing.",
				sd_listen_fd_describe(lfd));
		}
		(void)close(lfd->fd);
		lfd->fd = -1;
		closed++;
	}
	return closed;
}

/* ---- sd_notify ---- */

static int notify(const char *state)
{
	int ret = sd_notify(0, state);

	return ret < 0 ? -1 : (ret > 0 ? 1 : 0);
}

int sd_notify_ready(void)
{
	return notify("READY=1");
}

int sd_notify_reloading(void)
{
	struct timespec ts;
	char buf[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
		 (unsigned long long)ts.tv_nsec / 1000ULL);
	return notify(buf);
}

int sd_notify_stopping(void)
{
	return notify("STOPPING=1");
}

int sd_notify_status(const char *fmt, ...)
{
	char *text, *msg;
	va_list args;
	int ret;

	va_start(args, fmt);
	text = i_strdup_vprintf(fmt, args);
	va_end(args);
	/* one line: a newline would start another assignment */
	for (char *p = text; *p != '\0'; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	msg = i_strdup_printf("STATUS=%s", text);
	ret = notify(msg);
	free(msg);
	free(text);
	return ret;
}

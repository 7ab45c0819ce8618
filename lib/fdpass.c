/* fdpass.c - SCM_RIGHTS send/receive with strict checks on what came:
 * a receiver must never leak a descriptor it did not ask for. */
#include "fdpass.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Room for more than one fd, so that a peer sending several is seen
 * (and all of them closed) rather than silently truncated. */
#define FDPASS_RECV_MAX_FDS 8

ssize_t fdpass_send(int sock, int fd, const void *data, size_t size)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg;
	struct iovec iov;
	ssize_t ret;

	i_assert(size > 0 && size <= FDPASS_MAX_PAYLOAD);

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)data;
	iov.iov_len = size;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		ret = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (ret < 0 && errno == EINTR);
	return ret;
}

static void close_fds(const struct cmsghdr *cmsg)
{
	size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);

	for (size_t i = 0; i < n; i++) {
		int fd;

		memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
		(void)close(fd);
	}
}

/* Walk the control messages: accept exactly one SCM_RIGHTS carrying one
 * fd. On refusal every received fd is closed. */
static int take_fd(struct msghdr *msg, int *fd_r)
{
	struct cmsghdr *cmsg;
	bool bad = (msg->msg_flags & MSG_CTRUNC) != 0;
	int fd = -1;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	     cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			bad = true;
			continue;
		}
		if (fd != -1 || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
			bad = true;
			close_fds(cmsg);
			continue;
		}
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	}
	if (bad) {
		if (fd != -1)
			(void)close(fd);
		errno = EPROTO;
		return -1;
	}
	*fd_r = fd;
	return 0;
}

ssize_t fdpass_recv(int sock, void *data, size_t size, int *fd_r)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * FDPASS_RECV_MAX_FDS)];
	} control;
	struct msghdr msg;
	struct iovec iov;
	ssize_t ret;

	*fd_r = -1;
	memset(&msg, 0, sizeof(msg));
	memset(&control, 0, sizeof(control));
	iov.iov_base = data;
	iov.iov_len = size;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	do {
		ret = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -1;
	if (take_fd(&msg, fd_r) < 0)
		return -1;
	if ((msg.msg_flags & MSG_TRUNC) != 0) {
		if (*fd_r != -1)
			(void)close(*fd_r);
		*fd_r = -1;
		errno = EMSGSIZE;
		return -1;
	}
	return ret;
}

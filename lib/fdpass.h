/* fdpass.h - pass a file descriptor with a small message over a UNIX
 * socket (SCM_RIGHTS): how a login worker hands a logged-in client's
 * socket and its session state to the user's mail worker. */
#ifndef ROOST_FDPASS_H
#define ROOST_FDPASS_H

#include "lib.h"

#include <sys/types.h>

/* The largest payload one call sends or receives: a hand-over carries a
 * few hundred bytes of state, never mail. */
#define FDPASS_MAX_PAYLOAD 65536

/* Send size bytes (1 .. FDPASS_MAX_PAYLOAD) with fd attached to the
 * first byte (fd -1: plain data). Returns the bytes sent: on a
 * SOCK_SEQPACKET socket all of them or -1; on a SOCK_STREAM socket
 * possibly fewer (the fd went with the first part; send the rest with
 * fd -1). -1 with errno on error (EAGAIN on a non-blocking socket: nothing
 * was sent, the fd was not passed). Never raises SIGPIPE. The caller
 * still owns fd and closes it when it likes. */
ssize_t fdpass_send(int sock, int fd, const void *data, size_t size);

/* Receive up to size bytes; *fd_r is the fd that came with them (made
 * close-on-exec) or -1. Returns the byte count, 0 at end of file, -1
 * with errno on error. Anything but exactly one fd in one SCM_RIGHTS
 * message is refused with EPROTO and every fd that did arrive is closed:
 * several fds, other control messages, control data truncated because
 * the receiver ran out of descriptors (MSG_CTRUNC). A SOCK_SEQPACKET
 * message longer than size is refused with EMSGSIZE (its fd closed)
 * instead of being silently cut. */
ssize_t fdpass_recv(int sock, void *data, size_t size, int *fd_r);

#endif

/* check_fdpass.c - unit tests of lib/fdpass.h over real socketpairs:
 * an fd and its payload arrive together and close-on-exec, stream and
 * seqpacket sockets, and every refusal (several fds, foreign control
 * messages, truncated control data when the receiver is out of
 * descriptors, a too-long seqpacket message) closes what arrived: the
 * process's open descriptors are counted before and after. */
#include "suites.h"
#include "fdpass.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int sv[2] = { -1, -1 };

static unsigned int count_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *d;
	unsigned int n = 0;

	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] != '.')
			n++;
	}
	closedir(dir);
	return n - 1; /* the DIR's own fd */
}

static void pair(int type)
{
	ck_assert_int_eq(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		sv[i] = -1;
	}
}

/* The received fd must be the pipe's write end: what goes in comes out
 * of the pipe we kept. */
static void assert_same_pipe(int received, int read_end)
{
	char buf[8];

	ck_assert_int_eq(write(received, "ping", 4), 4);
	ck_assert_int_eq(read(read_end, buf, sizeof(buf)), 4);
	ck_assert_int_eq(memcmp(buf, "ping", 4), 0);
}

/* Raw sendmsg with any number of fds in one SCM_RIGHTS. */
static void send_raw_fds(int sock, const int *fds, unsigned int count)
{
	char control[CMSG_SPACE(sizeof(int) * 16)];
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cmsg;

	memset(&msg, 0, sizeof(msg));
	memset(control, 0, sizeof(control));
	iov.iov_base = (void *)"x";
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
	ck_assert_int_eq(sendmsg(sock, &msg, 0), 1);
}

/* ---- Core ---- */

START_TEST(test_stream_fd_and_payload)
{
	int p[2], fd = -1;
	char buf[64];

	pair(SOCK_STREAM);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fdpass_send(sv[0], p[1], "hello", 5), 5);
	close(p[1]);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), 5);
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	ck_assert_int_ge(fd, 0);
	/* MSG_CMSG_CLOEXEC: a worker's children never inherit it */
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	assert_same_pipe(fd, p[0]);
	close(fd);
	close(p[0]);
}
END_TEST

START_TEST(test_no_fd)
{
	int fd = 123;
	char buf[16];

	pair(SOCK_STREAM);
	ck_assert_int_eq(fdpass_send(sv[0], -1, "abc", 3), 3);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), 3);
	ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(test_seqpacket_boundaries)
{
	int p[2], fd = -1;
	char buf[64];

	pair(SOCK_SEQPACKET);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fdpass_send(sv[0], p[1], "first", 5), 5);
	ck_assert_int_eq(fdpass_send(sv[0], -1, "second!", 7), 7);
	close(p[1]);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), 5);
	ck_assert_int_ge(fd, 0);
	assert_same_pipe(fd, p[0]);
	close(fd);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), 7);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(memcmp(buf, "second!", 7), 0);
	close(p[0]);
}
END_TEST

START_TEST(test_stream_split_read)
{
	int p[2], fd = -1;
	char buf[4];

	/* a stream reader with a small buffer gets the fd with the first
	   part and plain bytes after */
	pair(SOCK_STREAM);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fdpass_send(sv[0], p[1], "abcdefgh", 8), 8);
	close(p[1]);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 4, &fd), 4);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 4, &fd), 4);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(memcmp(buf, "efgh", 4), 0);
	close(p[0]);
}
END_TEST

START_TEST(test_eof_and_eagain)
{
	int fd = 5;
	char buf[8];

	pair(SOCK_STREAM);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(fd, -1);
	close(sv[0]);
	sv[0] = -1;
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), 0);
	ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(test_send_to_closed_peer)
{
	/* EPIPE, not SIGPIPE */
	pair(SOCK_STREAM);
	close(sv[1]);
	sv[1] = -1;
	errno = 0;
	ck_assert_int_eq(fdpass_send(sv[0], 0, "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_max_payload)
{
	static char out[FDPASS_MAX_PAYLOAD], in[FDPASS_MAX_PAYLOAD];
	int p[2], fd = -1, size = 4 * FDPASS_MAX_PAYLOAD;

	pair(SOCK_SEQPACKET);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size,
				    sizeof(size)), 0);
	ck_assert_int_eq(pipe(p), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	ck_assert_int_eq(fdpass_send(sv[0], p[1], out, sizeof(out)),
			 (ssize_t)sizeof(out));
	ck_assert_int_eq(fdpass_recv(sv[1], in, sizeof(in), &fd),
			 (ssize_t)sizeof(in));
	ck_assert_int_eq(memcmp(in, out, sizeof(in)), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_seqpacket_too_long)
{
	int p[2], fd = 7;
	unsigned int before;
	char buf[4];

	pair(SOCK_SEQPACKET);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fdpass_send(sv[0], p[1], "too long", 8), 8);
	before = count_open_fds();
	errno = 0;
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(fd, -1);
	ck_assert_uint_eq(count_open_fds(), before);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_two_fds_refused)
{
	int p[2], fd = 9, fds[2];
	unsigned int before;
	char buf[8];

	pair(SOCK_STREAM);
	ck_assert_int_eq(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = p[1];
	send_raw_fds(sv[0], fds, 2);
	before = count_open_fds();
	errno = 0;
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(fd, -1);
	/* both arrived and both were closed */
	ck_assert_uint_eq(count_open_fds(), before);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_many_fds_truncated)
{
	int fds[16], fd = 9;
	unsigned int before;
	char buf[8];

	/* more than the receiver's room: MSG_CTRUNC, nothing leaks */
	pair(SOCK_STREAM);
	for (int i = 0; i < 16; i++)
		fds[i] = sv[0];
	send_raw_fds(sv[0], fds, 16);
	send_raw_fds(sv[0], fds, 3);
	before = count_open_fds();
	errno = 0;
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(fd, -1);
	ck_assert_uint_eq(count_open_fds(), before);
}
END_TEST

START_TEST(test_credentials_refused)
{
	int p[2], fd = 9, one = 1;
	unsigned int before;
	char buf[8];

	/* a receiver that asked for nothing but an fd refuses other
	   control messages (here SCM_CREDENTIALS) */
	pair(SOCK_STREAM);
	ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one,
				    sizeof(one)), 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fdpass_send(sv[0], p[1], "x", 1), 1);
	before = count_open_fds();
	errno = 0;
	ck_assert_int_eq(fdpass_recv(sv[1], buf, sizeof(buf), &fd), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(fd, -1);
	ck_assert_uint_eq(count_open_fds(), before);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_out_of_descriptors)
{
	int p[2];
	pid_t pid;
	int status;

	/* A receiver at RLIMIT_NOFILE can't install the fd: the kernel
	   sets MSG_CTRUNC and the receive must fail, not return "no fd" */
	pair(SOCK_STREAM);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fdpass_send(sv[0], p[1], "x", 1), 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl;
		int fd = 9, highest = 0;
		char buf[8];
		ssize_t ret;

		for (int i = 0; i < 1024; i++) {
			if (fcntl(i, F_GETFD) >= 0)
				highest = i;
		}
		rl.rlim_cur = rl.rlim_max = (rlim_t)highest + 1;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(10);
		/* fill every free slot below the limit */
		while (dup(0) >= 0)
			;
		errno = 0;
		ret = fdpass_recv(sv[1], buf, sizeof(buf), &fd);
		_exit(ret == -1 && errno == EPROTO && fd == -1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

Suite *make_fdpass_suite(void)
{
	Suite *s = suite_create("fdpass");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_stream_fd_and_payload);
	tcase_add_test(tc, test_no_fd);
	tcase_add_test(tc, test_seqpacket_boundaries);
	tcase_add_test(tc, test_stream_split_read);
	tcase_add_test(tc, test_eof_and_eagain);
	tcase_add_test(tc, test_send_to_closed_peer);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_max_payload);
	tcase_add_test(tc, test_seqpacket_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_two_fds_refused);
	tcase_add_test(tc, test_many_fds_truncated);
	tcase_add_test(tc, test_credentials_refused);
	tcase_add_test(tc, test_out_of_descriptors);
	suite_add_tcase(s, tc);
	return s;
}

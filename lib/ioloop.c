/* ioloop.c - epoll-based event loop with a sorted timer list and
 * signalfd for signals. */
#include "ioloop.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 128

struct io {
	struct ioloop *loop;
	int fd;
	enum io_condition cond;
	io_callback_t *callback;
	void *context;
	bool removed;
	bool registered;	/* in epoll: not while waiting for nothing */
};

struct timeout {
	struct ioloop *loop;
	size_t heap_idx;
	uint64_t seq;		/* insertion order: equal times run FIFO */
	unsigned int msecs;
	uint64_t next_run;
	io_callback_t *callback;
	void *context;
};

struct signal_handler {
	signal_callback_t *callback;
	void *context;
};

struct ioloop {
	int epfd;
	bool running;
	/* a binary min-heap on (next_run, seq): adding, resetting and
	   removing cost O(log n) with thousands of sessions' timers */
	struct timeout **heap;
	size_t heap_count, heap_cap;
	uint64_t timeout_seq;
	/* ios removed inside a callback are freed after the batch */
	struct io **dead;
	unsigned int dead_count, dead_cap;
	int sigfd;
	struct io *sig_io;
	sigset_t sigmask;
	struct signal_handler signals[65];
};

uint64_t io_loop_time_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ioloop *io_loop_create(void)
{
	struct ioloop *loop = i_new(struct ioloop, 1);

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		i_fatal("epoll_create1() failed: %s", strerror(errno));
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	return loop;
}

static void free_dead(struct ioloop *loop)
{
	for (unsigned int i = 0; i < loop->dead_count; i++)
		free(loop->dead[i]);
	loop->dead_count = 0;
}

void io_loop_destroy(struct ioloop **_loop)
{
	struct ioloop *loop = *_loop;

	*_loop = NULL;
	if (loop->sig_io != NULL)
		io_remove(&loop->sig_io);
	if (loop->sigfd >= 0) {
		sigprocmask(SIG_UNBLOCK, &loop->sigmask, NULL);
		close(loop->sigfd);
	}
	i_assert(loop->heap_count == 0);
	free(loop->heap);
	free_dead(loop);
	free(loop->dead);
	close(loop->epfd);
	free(loop);
}

static uint32_t epoll_events(enum io_condition cond)
{
	return ((cond & IO_READ) != 0 ? EPOLLIN | EPOLLRDHUP : 0) |
		((cond & IO_WRITE) != 0 ? EPOLLOUT : 0);
}

struct io *io_add(struct ioloop *loop, int fd, enum io_condition cond,
		  io_callback_t *callback, void *context)
{
	struct io *io = i_new(struct io, 1);
	struct epoll_event ev;

	io->loop = loop;
	io->fd = fd;
	io->cond = cond;
	io->callback = callback;
	io->context = context;
	memset(&ev, 0, sizeof(ev));
	ev.events = epoll_events(cond);
	ev.data.ptr = io;
	if (cond != 0) {
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			i_panic("epoll_ctl(add, %d) failed: %s", fd,
				strerror(errno));
		io->registered = true;
	}
	return io;
}

void io_set_condition(struct io *io, enum io_condition cond)
{
	struct epoll_event ev;

	if (io->cond == cond)
		return;
	io->cond = cond;
	/* epoll reports hang-ups even for an empty mask: an io that waits
	   for nothing leaves the epoll set instead */
	if (cond == 0) {
		if (io->registered)
			(void)epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd,
					NULL);
		io->registered = false;
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = epoll_events(cond);
	ev.data.ptr = io;
	if (epoll_ctl(io->loop->epfd, io->registered ? EPOLL_CTL_MOD :
		      EPOLL_CTL_ADD, io->fd, &ev) < 0)
		i_panic("epoll_ctl(%d) failed: %s", io->fd, strerror(errno));
	io->registered = true;
}

void io_remove(struct io **_io)
{
	struct io *io = *_io;
	struct ioloop *loop;

	if (io == NULL)
		return;
	*_io = NULL;
	loop = io->loop;
	/* the fd may already be closed: then epoll dropped it itself */
	if (io->registered)
		(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->removed = true;
	if (loop->dead_count == loop->dead_cap) {
		loop->dead_cap = loop->dead_cap == 0 ? 16 : loop->dead_cap * 2;
		loop->dead = i_reallocarray(loop->dead, loop->dead_cap,
					    sizeof(*loop->dead));
	}
	loop->dead[loop->dead_count++] = io;
}

static bool timeout_before(const struct timeout *a, const struct timeout *b)
{
	return a->next_run < b->next_run ||
		(a->next_run == b->next_run && a->seq < b->seq);
}

static void heap_set(struct ioloop *loop, size_t i, struct timeout *to)
{
	loop->heap[i] = to;
	to->heap_idx = i;
}

static void heap_sift_up(struct ioloop *loop, size_t i)
{
	struct timeout *to = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timeout_before(to, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, to);
}

static void heap_sift_down(struct ioloop *loop, size_t i)
{
	struct timeout *to = loop->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= loop->heap_count)
			break;
		if (child + 1 < loop->heap_count &&
		    timeout_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timeout_before(loop->heap[child], to))
			break;
		heap_set(loop, i, loop->heap[child]);
		i = child;
	}
	heap_set(loop, i, to);
}

static void timeout_insert(struct ioloop *loop, struct timeout *to)
{
	if (loop->heap_count == loop->heap_cap) {
		loop->heap_cap = MAX(loop->heap_cap * 2, 16);
		loop->heap = i_reallocarray(loop->heap, loop->heap_cap,
					    sizeof(*loop->heap));
	}
	to->seq = loop->timeout_seq++;
	heap_set(loop, loop->heap_count++, to);
	heap_sift_up(loop, to->heap_idx);
}

static void timeout_unlink(struct timeout *to)
{
	struct ioloop *loop = to->loop;
	size_t i = to->heap_idx;
	struct timeout *last = loop->heap[--loop->heap_count];

	if (last == to)
		return;
	heap_set(loop, i, last);
	heap_sift_down(loop, i);
	heap_sift_up(loop, last->heap_idx);
}

struct timeout *timeout_add(struct ioloop *loop, unsigned int msecs,
			    io_callback_t *callback, void *context)
{
	struct timeout *to = i_new(struct timeout, 1);

	to->loop = loop;
	to->msecs = msecs;
	to->callback = callback;
	to->context = context;
	to->next_run = io_loop_time_msecs() + msecs;
	timeout_insert(loop, to);
	return to;
}

void timeout_reset(struct timeout *to)
{
	timeout_unlink(to);
	to->next_run = io_loop_time_msecs() + to->msecs;
	timeout_insert(to->loop, to);
}

void timeout_remove(struct timeout **_to)
{
	struct timeout *to = *_to;

	if (to == NULL)
		return;
	*_to = NULL;
	timeout_unlink(to);
	free(to);
}

static void signal_read(void *context)
{
	struct ioloop *loop = context;
	struct signalfd_siginfo si;

	while (read(loop->sigfd, &si, sizeof(si)) == sizeof(si)) {
		struct signal_handler *h = &loop->signals[si.ssi_signo];

		if (si.ssi_signo < N_ELEMENTS(loop->signals) &&
		    h->callback != NULL)
			h->callback((int)si.ssi_signo, h->context);
	}
}

void io_loop_set_signal(struct ioloop *loop, int signo,
			signal_callback_t *callback, void *context)
{
	i_assert(signo > 0 && (size_t)signo < N_ELEMENTS(loop->signals));
	loop->signals[signo].callback = callback;
	loop->signals[signo].context = context;
	if (callback != NULL) {
		sigaddset(&loop->sigmask, signo);
	} else {
		sigdelset(&loop->sigmask, signo);
		sigset_t one;
		sigemptyset(&one);
		sigaddset(&one, signo);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
	}
	sigprocmask(SIG_BLOCK, &loop->sigmask, NULL);
	loop->sigfd = signalfd(loop->sigfd, &loop->sigmask,
			       SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0)
		i_fatal("signalfd() failed: %s", strerror(errno));
	if (loop->sig_io == NULL)
		loop->sig_io = io_add(loop, loop->sigfd, IO_READ,
				      signal_read, loop);
}

static int next_timeout_msecs(struct ioloop *loop)
{
	uint64_t now;

	if (loop->heap_count == 0)
		return -1;
	now = io_loop_time_msecs();
	if (loop->heap[0]->next_run <= now)
		return 0;
	return (int)MIN(loop->heap[0]->next_run - now, 1000 * 60 * 60);
}

static void run_timeouts(struct ioloop *loop)
{
	uint64_t now = io_loop_time_msecs();

	/* each due timer once per round, even if a callback re-adds one */
	while (loop->heap_count > 0 && loop->heap[0]->next_run <= now) {
		struct timeout *to = loop->heap[0];

		timeout_unlink(to);
		/* +1 for 0 ms timers: once per round, not forever */
		to->next_run = now + (to->msecs == 0 ? 1 : to->msecs);
		timeout_insert(loop, to);
		to->callback(to->context);
		if (!loop->running)
			break;
	}
}

void io_loop_run(struct ioloop *loop)
{
	struct epoll_event events[MAX_EVENTS];

	loop->running = true;
	while (loop->running) {
		int n = epoll_wait(loop->epfd, events, MAX_EVENTS,
				   next_timeout_msecs(loop));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			i_fatal("epoll_wait() failed: %s", strerror(errno));
		}
		for (int i = 0; i < n && loop->running; i++) {
			struct io *io = events[i].data.ptr;

			if (!io->removed)
				io->callback(io->context);
		}
		free_dead(loop);
		if (loop->running)
			run_timeouts(loop);
	}
}

void io_loop_stop(struct ioloop *loop)
{
	loop->running = false;
}

/* ioloop.h - the event loop every Roost process runs: fd callbacks
 * (epoll), timers and signals (signalfd), in the spirit of Redis' ae.c. */
#ifndef ROOST_IOLOOP_H
#define ROOST_IOLOOP_H

#include "lib.h"

enum io_condition {
	IO_READ = 0x01,
	IO_WRITE = 0x02,
};

struct ioloop;
struct io;
struct timeout;

typedef void io_callback_t(void *context);
typedef void signal_callback_t(int signo, void *context);

struct ioloop *io_loop_create(void);
/* Frees the loop; every io and timeout must have been removed. */
void io_loop_destroy(struct ioloop **loop);
/* Run until io_loop_stop(). */
void io_loop_run(struct ioloop *loop);
void io_loop_stop(struct ioloop *loop);
/* Milliseconds since an arbitrary start, from CLOCK_MONOTONIC. */
uint64_t io_loop_time_msecs(void);

/* Call callback whenever fd is ready for cond. */
struct io *io_add(struct ioloop *loop, int fd, enum io_condition cond,
		  io_callback_t *callback, void *context);
/* Change what fd waits for (e.g. add IO_WRITE while output is queued). */
void io_set_condition(struct io *io, enum io_condition cond);
void io_remove(struct io **io);

/* Call callback every msecs milliseconds until removed. */
struct timeout *timeout_add(struct ioloop *loop, unsigned int msecs,
			    io_callback_t *callback, void *context);
void timeout_reset(struct timeout *to);
void timeout_remove(struct timeout **to);

/* Handle signo in the loop (blocked for normal delivery). One handler
 * per signal; NULL callback restores the default. */
void io_loop_set_signal(struct ioloop *loop, int signo,
			signal_callback_t *callback, void *context);

#endif

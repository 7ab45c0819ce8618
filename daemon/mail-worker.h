/* mail-worker.h - the per-uid mail worker process (mail-worker.c). */
#ifndef ROOST_MAIL_WORKER_H
#define ROOST_MAIL_WORKER_H

struct config;

/* Serve sessions handed over on fd 3 until the master goes away. */
int mail_worker_main(struct config *config);

#endif

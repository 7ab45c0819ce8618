/* lmtp-client.h - one LMTP session (RFC 2033) as Dovecot's lmtp serves
 * it: LHLO, recipients looked up in the userdb at RCPT (550 5.1.1 for
 * unknown users), recipient_delimiter and lmtp_save_to_detail_mailbox,
 * lmtp_user_concurrency_limit, and after DATA/BDAT one reply per
 * recipient, each delivered by a child process running as the
 * recipient's uid/gid (mailstore/mail-deliver.c). The userdb and the
 * privilege drop are the caller's (compat/service-lmtp.c), behind
 * struct lmtp_user_ops. */
#ifndef ROOST_LMTP_CLIENT_H
#define ROOST_LMTP_CLIENT_H

#include "lib.h"
#include "ioloop.h"
#include "net.h"

struct settings_root;
struct mail_user;
struct tls_ctx;
struct lmtp_client;

/* How the session finds users and becomes them. user handles are the
 * caller's. */
struct lmtp_user_ops {
	/* userdb lookup of username: 1 found (*user_r, the userdb's
	   *username_r), 0 no such user, -1 failure (*error_r). */
	int (*lookup)(void *context, const char *username, void **user_r,
		      const char **username_r, const char **error_r);
	/* The settings that user sees (userdb fields applied). */
	const struct settings_root *(*user_set)(void *context, void *user);
	/* In the delivery child: drop privileges to the user for good
	   (setgroups/setgid/setuid, home) and open its mail. */
	int (*user_init)(void *context, void *user,
			 struct mail_user **mail_user_r, const char **error_r);
	void (*user_free)(void *context, void **user);
};

struct lmtp_client_settings {
	const struct settings_root *set;	/* the service's */
	const struct lmtp_user_ops *ops;
	void *ops_context;
	/* the peer: NULL for a UNIX socket ("local") */
	const struct ip_addr *remote_ip;
	/* where the session's temp files go */
	const char *temp_dir;
	/* STARTTLS offered and done with this (ssl != no), or NULL */
	struct tls_ctx *tls_ctx;
};

/* Serve fd; destroyed_callback runs when the session has ended (the fd
 * is closed by then). */
struct lmtp_client *lmtp_client_create(struct ioloop *loop, int fd,
				       const struct lmtp_client_settings *set,
				       void (*destroyed_callback)(void *),
				       void *context);
void lmtp_client_destroy(struct lmtp_client **client);

/* The accept loop of the lmtp service: listening fds[0..count-1], each
 * connection served by a forked process (Dovecot's lmtp has
 * client_limit = 1), at most process_limit at once. Returns when
 * SIGTERM/SIGINT arrive; sessions running then finish on their own. */
void lmtp_listen_run(const int *fds, unsigned int count,
		     unsigned int process_limit,
		     const struct lmtp_client_settings *set);

#endif

/* doveadm-auth-client.h - what `doveadm auth` and `doveadm user` share:
 * the -x auth info, and blocking clients for the auth service's client
 * (SASL) and master (USER/PASS/LIST/REQUEST) protocols. */
#ifndef ROOST_DOVEADM_AUTH_CLIENT_H
#define ROOST_DOVEADM_AUTH_CLIENT_H

#include "lib.h"
#include "str.h"

/* -x key=value arguments. Known keys are sent in Dovecot's order, the
 * rest after them in the order given. */
struct doveadm_auth_info {
	const char *service, *session, *local_name;
	const char *lip, *rip, *lport, *rport;
	string_t *forward;	/* "k=v\tk2=v2" of -x forward_k=v */
	string_t *extra;	/* "\tk=v" each, escaped */
};

void doveadm_auth_info_init(struct doveadm_auth_info *info);
void doveadm_auth_info_deinit(struct doveadm_auth_info *info);
/* Fatal (Dovecot's texts) on a bad ip or port. */
void doveadm_auth_info_add(struct doveadm_auth_info *info, const char *arg);

/* Append src with the auth protocols' \001 escaping. */
void doveadm_auth_str_append_tabescaped(string_t *dest, const char *src);

/* A line-based connection to one of the auth sockets. */
struct doveadm_auth_conn;

/* Connect; *error_r = "connect(path) failed: ..." */
int doveadm_auth_conn_open(const char *path,
			   struct doveadm_auth_conn **conn_r,
			   const char **error_r);
void doveadm_auth_conn_close(struct doveadm_auth_conn **conn);
int doveadm_auth_conn_send(struct doveadm_auth_conn *conn, const char *line,
			   const char **error_r);
/* The next line without its LF, split at TABs and unescaped; NULL-ended,
 * free with doveadm_auth_args_free(). */
int doveadm_auth_conn_read_args(struct doveadm_auth_conn *conn,
				char ***args_r, const char **error_r);
void doveadm_auth_args_free(char ***args);

/* Client protocol handshake: send VERSION/CPID, read up to DONE.
 * cookie_r gets the COOKIE (may be NULL). */
int doveadm_auth_client_handshake(struct doveadm_auth_conn *conn,
				  char **cookie_r, const char **error_r);
/* Master protocol handshake: VERSION exchange (and SPID). */
int doveadm_auth_master_handshake(struct doveadm_auth_conn *conn,
				  const char **error_r);

/* "\tservice=...\tlip=..." as the client protocol's AUTH orders it. */
void doveadm_auth_info_export_client(const struct doveadm_auth_info *info,
				     string_t *dest);
/* The same in the master protocol's order. */
void doveadm_auth_info_export_master(const struct doveadm_auth_info *info,
				     string_t *dest);

/* A lazily connected master-protocol connection for lookups. */
struct doveadm_auth_master {
	const char *path;
	struct doveadm_auth_conn *conn;
	unsigned int next_id;
};

/* cmd = "USER" or "PASS". Returns 1 with the reply's fields (and for USER
 * the username in *user_r, may be NULL), 0 if not found, -1 on error
 * with *error_r (Dovecot's "auth-master: userdb lookup(u): ..." text, or
 * the server's FAIL reason as fields[0]). Free with
 * doveadm_auth_args_free(args_r); fields point into it. */
int doveadm_auth_master_lookup(struct doveadm_auth_master *master,
			       const char *cmd, const char *user,
			       const struct doveadm_auth_info *info,
			       char ***args_r, const char **user_r,
			       char ***fields_r, const char **error_r);
/* LIST: calls cb for each user; -1 on error. */
int doveadm_auth_master_list(struct doveadm_auth_master *master,
			     const char *mask,
			     const struct doveadm_auth_info *info,
			     void (*cb)(const char *user, void *context),
			     void *context, const char **error_r);
void doveadm_auth_master_close(struct doveadm_auth_master *master);

/* Dovecot's cmd_user_input(): a USER (userdb) or PASS lookup printed as
 * a "userdb: u" block, or only show_field's value. Returns 1, 0 (not
 * found, message printed) or -1 (error printed). In doveadm-auth.c. */
int doveadm_auth_lookup_print(struct doveadm_auth_master *master,
			      const struct doveadm_auth_info *info,
			      const char *user, const char *show_field,
			      bool userdb);

#endif

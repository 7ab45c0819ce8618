/* auth-client-connection.h - the Dovecot auth-client protocol (SASL for
 * login processes and for Postfix/Exim: VERSION, MECH, SPID, CUID,
 * COOKIE, DONE; AUTH, CONT; OK, CONT, FAIL). */
#ifndef ROOST_AUTH_CLIENT_CONNECTION_H
#define ROOST_AUTH_CLIENT_CONNECTION_H

#include "auth.h"

struct auth_client_connection;

/* login_socket: an auth-login type listener, whose successful requests
 * the master protocol's REQUEST may later claim. */
struct auth_client_connection *
auth_client_connection_create(struct auth *auth, int fd, bool login_socket);
void auth_client_connection_destroy(struct auth_client_connection **conn);

/* For REQUEST on the master socket: find the finished login request
 * (client pid, its AUTH id, cookie) and take it over. Returns NULL with
 * *error_r in Dovecot's words. */
struct auth_request *
auth_client_request_claim(unsigned int client_pid, unsigned int id,
			  const char *cookie, const char **error_r);

/* Close every client connection (shutdown). */
void auth_client_connections_destroy_all(void);

#endif

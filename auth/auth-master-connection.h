/* auth-master-connection.h - the auth-master protocol on auth-master and
 * auth-userdb: USER (userdb lookup), PASS (passdb lookup without a
 * password), LIST (iterate users), REQUEST (a login process's finished
 * authentication, claimed by its master). */
#ifndef ROOST_AUTH_MASTER_CONNECTION_H
#define ROOST_AUTH_MASTER_CONNECTION_H

#include "auth.h"

struct auth_master_connection;

/* userdb_only: the auth-userdb socket (REQUEST refused). */
struct auth_master_connection *
auth_master_connection_create(struct auth *auth, int fd, bool userdb_only);
void auth_master_connection_destroy(struct auth_master_connection **conn);
void auth_master_connections_destroy_all(void);

#endif

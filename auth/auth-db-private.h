/* auth-db-private.h - what the passdb/userdb driver files share and
 * nobody outside auth/passdb*.c, auth/userdb*.c and auth/db-*.c needs:
 * the driver tables the registries list. */
#ifndef ROOST_AUTH_DB_PRIVATE_H
#define ROOST_AUTH_DB_PRIVATE_H

#include "userdb.h"

extern const struct passdb_driver passdb_driver_checkpassword;
extern const struct passdb_driver passdb_driver_pam;
extern const struct passdb_driver passdb_driver_passwd;
extern const struct passdb_driver passdb_driver_passwd_file;
extern const struct passdb_driver passdb_driver_shadow;
extern const struct passdb_driver passdb_driver_static;

extern const struct userdb_driver userdb_driver_checkpassword;
extern const struct userdb_driver userdb_driver_passwd;
extern const struct userdb_driver userdb_driver_passwd_file;
extern const struct userdb_driver userdb_driver_prefetch;
extern const struct userdb_driver userdb_driver_static;

/* Wipe a secret and free it (malloc'd strings). */
void auth_secret_free(char **secret);

#endif

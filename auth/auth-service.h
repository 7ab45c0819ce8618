/* auth-service.h - the auth process: binds the unix_listeners of
 * `service auth` (unless the master passes them in), accepts clients of
 * each socket type and runs the event loop until SIGTERM/SIGINT. */
#ifndef ROOST_AUTH_SERVICE_H
#define ROOST_AUTH_SERVICE_H

#include "settings-structs.h"

/* Returns the process exit code. */
int auth_service_main(const struct settings_root *set);

#endif

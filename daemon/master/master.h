/* master.h - the master process (master.c). */
#ifndef ROOST_MASTER_H
#define ROOST_MASTER_H

#include "lib.h"
#include "config-parser.h"

/* Load and check the config at path (SIGHUP). */
typedef int master_config_reload_t(const char *path, struct config **config_r,
				   const char **error_r);

/* Run the server until SIGTERM/SIGINT; SIGHUP reloads. config_path is
 * what the children are started with (-c). */
int master_main(struct config *config, const char *config_path,
		bool foreground, master_config_reload_t *reload_config);

#endif

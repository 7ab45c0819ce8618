/* master.h - the master process (master.c). */
#ifndef ROOST_MASTER_H
#define ROOST_MASTER_H

#include "lib.h"
#include "config-parser.h"

/* Run the server until SIGTERM/SIGINT. config_path is what the children
 * are started with (-c). */
int master_main(struct config *config, const char *config_path,
		bool foreground);

#endif

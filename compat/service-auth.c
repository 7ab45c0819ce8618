/* service-auth.c - `roost auth [-c FILE]`: the auth process role. The
 * master starts it; it can also run alone (tests, Postfix-only hosts). */
#include "lib.h"
#include "compat.h"
#include "config-bind.h"
#include "config-parser.h"
#include "auth-service.h"

#include <getopt.h>
#include <stdio.h>

int auth_cmd_main(int argc, char *argv[])
{
	const char *path = NULL, *error;
	struct config *config;
	struct settings_root *set;
	pool_t pool;
	int c;

	log_set_prefix("auth: ");
	while ((c = getopt(argc, argv, "c:")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		default:
			fprintf(stderr, "Usage: roost auth [-c <config>]\n");
			return EXIT_USAGE;
		}
	}
	if (path == NULL)
		path = roost_default_config_path();
	if (roost_config_load(path, 0, &config, &error) < 0)
		i_fatal("%s", error);
	pool = pool_create("auth settings", 64 * 1024);
	struct config_filter filter = { .protocol = "auth" };

	set = config_bind_filter(pool, config, &filter, &error);
	if (set == NULL)
		i_fatal("%s", error);
	if (roost_log_open(set, &error) < 0)
		i_error("%s", error);
	int ret = auth_service_main(set);

	pool_destroy(&pool);
	config_free(&config);
	return ret;
}

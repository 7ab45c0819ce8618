/* config-yaml.c - YAML export/import (being written). */
#include "config-yaml.h"

int config_yaml_dump(struct config *config ATTR_UNUSED, FILE *out ATTR_UNUSED,
		     const char **error_r)
{
	*error_r = "--yaml: not implemented yet";
	return -1;
}

int config_yaml_load(const char *path ATTR_UNUSED,
		     struct config **config_r ATTR_UNUSED,
		     const char **error_r)
{
	*error_r = "YAML import: not implemented yet";
	return -1;
}

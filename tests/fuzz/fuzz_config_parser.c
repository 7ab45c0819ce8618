/* fuzz_config_parser.c - libFuzzer harness for the dovecot.conf parser:
 * arbitrary bytes as a config file, then the doveconf export of it. */
#include "lib.h"
#include "config-parser.h"
#include "config-export.h"
#include "config-check.h"

#include <stdlib.h>

static void discard(const char *key ATTR_UNUSED, const char *value ATTR_UNUSED,
		    enum config_key_type type ATTR_UNUSED,
		    void *context ATTR_UNUSED)
{
}

static void quiet(enum log_type type ATTR_UNUSED, const char *line ATTR_UNUSED,
		  void *context ATTR_UNUSED)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *config;
	const char *error;
	char *text;

	/* includes would read the fuzzer's own files: not wanted */
	if (size > 64 * 1024 || memmem(data, size, "!include", 8) != NULL)
		return 0;
	log_set_capture(quiet, NULL);
	text = i_strndup((const char *)data, size);
	if (config_parse_string("fuzz.conf", text, 0, &config, &error) == 0 ||
	    config != NULL) {
		pool_t pool = pool_create("fuzz", 4096);
		struct config_node *root;

		for (unsigned int i = 0; i < config->block_count; i++) {
			config_export(pool, config->blocks[i]->root,
				      CONFIG_DUMP_SCOPE_ALL, true, discard,
				      NULL);
		}
		struct config_filter filter = { .protocol = "imap" };
		if (config_get_merged(config, &filter, &root, &error) == 0)
			(void)config_check_node(root, NULL, NULL, NULL);
		pool_destroy(&pool);
		config_free(&config);
	}
	free(text);
	return 0;
}

/* settings-modules.h - which settings each of Dovecot's settings modules
 * shows (doveconf -m MODULE), and which checks of config-check.c run for
 * it. The table is generated from Debian's doveconf 2.3.19 by
 * scripts/modules-from-dovecot.py. */
#ifndef ROOST_SETTINGS_MODULES_H
#define ROOST_SETTINGS_MODULES_H

#include "lib.h"

struct setting_module {
	const char *name;
	/* bit i set: config-check.c's module i runs for this module */
	unsigned int check_mask;
	/* its top-level settings, space-separated, in doveconf -S order */
	const char *keys;
};

/* What doveconf -m shows for any module, even an unknown one. */
extern const char *const setting_module_base_keys;
/* NULL-terminated. */
extern const struct setting_module setting_modules[];

#endif

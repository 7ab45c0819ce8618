/* settings-schema.h - the settings schema: every setting Dovecot 2.3's
 * doveconf knows, its type, default and where it may appear. The tables
 * are generated from settings.tsv at build time (gen-schema.awk). */
#ifndef ROOST_SETTINGS_SCHEMA_H
#define ROOST_SETTINGS_SCHEMA_H

#include "lib.h"

enum setting_type {
	SET_STR,	/* free text */
	SET_BOOL,	/* yes/no */
	SET_UINT,	/* decimal number */
	SET_OCT,	/* number printed in octal with a leading 0 (modes) */
	SET_SIZE,	/* bytes with units: 10 M */
	SET_TIME,	/* seconds with units: 2 mins */
	SET_MSECS,	/* milliseconds with units: 250 ms */
	SET_PORT,	/* 0..65535 */
	SET_ENUM,	/* one of enum_values (comma-separated) */
	SET_DEFLIST,	/* a list of sections (service, namespace, ...) */
	SET_STRLIST,	/* free-form key = value section (plugin, dict) */
};

enum setting_flags {
	SET_FLAG_KEY = 0x01,	/* this setting names its section */
	SET_FLAG_AUTH = 0x02,	/* refused inside local/remote/local_name */
	SET_FLAG_HIDDEN = 0x04,	/* printed only when set (or doveconf -s) */
};

/* One kind of settings block; INFO_ROOT is the top level. The order
 * follows settings.tsv. */
enum setting_info_id {
	INFO_ROOT,
	INFO_PASSDB,
	INFO_USERDB,
	INFO_NAMESPACE,
	INFO_MAILBOX,
	INFO_SERVICE,
	INFO_UNIX_LISTENER,
	INFO_FIFO_LISTENER,
	INFO_INET_LISTENER,
	INFO_METRIC,
	INFO_EVENT_EXPORTER,
	INFO_COUNT
};

struct setting_def {
	const char *key;
	enum setting_type type;
	const char *default_value;	/* in doveconf's printed form */
	const char *enum_values;	/* SET_ENUM: "a,b,c" */
	int list_info;			/* SET_DEFLIST: enum setting_info_id */
	unsigned int flags;
};

struct setting_info {
	const char *name;
	const struct setting_def *defs;
	unsigned int count;
	int key_idx;	/* index of the SET_FLAG_KEY setting, or -1 */
	/* the generated struct settings_<name> (settings-structs.h) */
	size_t struct_size;
	const size_t *offsets;	/* [count] field offsets */
};

/* Built-in list instances (the default services and their listeners):
 * create=true rows create path's section; others set path = value. */
struct setting_instance {
	bool create;
	const char *path;
	const char *value;
};

extern const struct setting_info setting_infos[INFO_COUNT];
extern const struct setting_instance setting_default_instances[];

/* Index of key in info, or -1. */
int setting_info_find(const struct setting_info *info, const char *key);

#endif

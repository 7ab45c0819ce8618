/* dialect.h - the three dovecot.conf dialects Roost reads: Dovecot 1.x,
 * 2.0-2.3 (the native one, confparse/) and 2.4. A 1.x or 2.4 file is
 * translated into 2.3 text before confparse/ reads it, with markers that
 * keep every message pointing at the original file and line. */
#ifndef ROOST_DIALECT_H
#define ROOST_DIALECT_H

#include "lib.h"
#include "pool.h"
#include "str.h"

enum config_dialect {
	CONFIG_DIALECT_23,
	CONFIG_DIALECT_1X,
	CONFIG_DIALECT_24,
};

struct dialect_detection {
	enum config_dialect dialect;
	/* one "FILE:LINE: why" line per marker seen (the first few of
	   each dialect), newline-separated; "" when none */
	const char *reasons;
	/* 2.4: the dovecot_config_version value */
	const char *version;
};

const char *dialect_name(enum config_dialect dialect);

/* Read path (and what it includes) and decide its dialect. */
int dialect_detect(pool_t pool, const char *path,
		   struct dialect_detection *det_r, const char **error_r);

/* Translate a 1.x or 2.4 file into 2.3 text carrying "#@line N FILE"
 * markers (CONFIG_PARSE_LINE_MARKERS). Warnings (settings dropped, with
 * no 2.x meaning) are logged with i_warning(); errors name FILE:LINE in
 * Dovecot's words ("Error in configuration file F line N: ..."). */
int dialect_translate(pool_t pool, const char *path,
		      enum config_dialect dialect, const char **text_r,
		      const char **error_r);

/* Turn `doveconf -n` output (2.3 form, as printed) into the same
 * configuration in Dovecot 2.4 form (`doveconf -n --as 2.4`). */
int dialect_export_24(pool_t pool, const char *text23, string_t *out,
		      const char **error_r);

/* The Dovecot 2.3 args files (dovecot-sql.conf.ext style) that the SQL
 * and LDAP settings of the last translated 2.4 file stand for: entry i
 * (from 0), its path (what `args` says) and text; false past the end.
 * Nothing is written to disk: doveconf -n prints them as comments. */
/* The text of the file generated for path by the last translation, or
 * NULL (the trash plugin reads it through quota_trash_file_hook). */
const char *dialect_dbfile_text(const char *path);
/* Write the files the last translation generated that the server's
 * children need at run time (they read the master's config snapshot, not
 * the 2.4 file): the trash plugin's priority file
 * (BASE_DIR/roost-trash.conf.ext, from trash_priority settings) and the
 * global ACL file (BASE_DIR/roost-global-acl, from acl { } filters); 0
 * when there is none. The master calls it on start and reload. */
int dialect_write_runtime_files(const char **error_r);
bool dialect_dbfile_get(unsigned int i, const char **path_r,
			const char **text_r);
void dialect_dbfile_reset(void);
/* For the fuzzer and the unit tests: text stands for the args file at
 * path (as if a 2.4 translation had generated it). */
void dialect_dbfile_add(const char *path, const char *text);

/* For the unit tests: translate a text (named name) of the given dialect
 * without reading files (no !include). */
int dialect_translate_string(pool_t pool, const char *name, const char *text,
			     enum config_dialect dialect, const char **text_r,
			     const char **error_r);
/* 2.4 variables to 2.3 and back; NULL with *error_r when there is no
 * equivalent. key selects per-setting variable tables
 * (pop3_uidl_format, *_logout_format, ...). */
const char *dialect_vars_24_to_23(pool_t pool, const char *key,
				  const char *value, const char **error_r);
const char *dialect_vars_23_to_24(pool_t pool, const char *key,
				  const char *value);

/* The translation tables, for the unit tests: entry i (from 0) of the
 * top-level renames (2.4 name, 2.3 name, whether the 2.3 value is a
 * <file) and of the variable tables (the setting whose table it is, or
 * "" for the generic one; the 2.4 "var|filter" and the 2.3 form).
 * false past the end. */
bool dialect_rename_get(unsigned int i, const char **k24_r,
			const char **k23_r, bool *is_file_r);
bool dialect_plugin_rename_get(unsigned int i, const char **k24_r,
			       const char **k23_r);
/* The i-th versioned 2.4 default: its 2.3 path (service/NAME/key ...),
 * the 2.3 value giving it, the dovecot_config_version bringing it. */
bool dialect_default_get(unsigned int i, const char **path_r,
			 const char **value_r, const char **since_r);
bool dialect_var_get(unsigned int i, const char **key_r, const char **v24_r,
		     const char **v23_r);

/* The config file doveconf --as 2.4 reads: a 2.3 global ACL file
 * becomes acl { } filters only when it lies in that file's directory
 * (where reading the 2.4 form back finds it again); dialect-acl.c. */
void dialect_acl_set_config_path(const char *path);

#endif

/* genfile.h - files a config translation generated in this process
 * instead of writing them to disk: a Dovecot 2.4 config's acl NAME { }
 * rules become the 2.3 global ACL file its translation names, kept here
 * by path (compat/ fills it, mailstore/ reads it before the disk). */
#ifndef ROOST_GENFILE_H
#define ROOST_GENFILE_H

#include <stdbool.h>

/* Register text as the contents of path (kind groups the entries, e.g.
 * "acl"); a second registration of the path replaces the text. */
void genfile_register(const char *kind, const char *path, const char *text);
/* The registered text of path, or NULL. */
const char *genfile_get(const char *path);
/* The i-th entry of kind (from 0); false after the last. */
bool genfile_iter(const char *kind, unsigned int i, const char **path_r,
		  const char **text_r);
/* Forget every entry of kind. */
void genfile_reset(const char *kind);

#endif

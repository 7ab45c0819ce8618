/* imap-attr-dict.h - the file: mail_attribute_dict as Dovecot 2.3 writes
 * it ("key\nvalue\n" pairs, values tab-escaped), loaded whole and written
 * back through a temp file renamed over it. Implemented in cmd-metadata.c;
 * used by METADATA and by URLAUTH's per-mailbox keys (imap-urlauth.c,
 * also from the submission session for BURL). */
#ifndef ROOST_IMAP_ATTR_DICT_H
#define ROOST_IMAP_ATTR_DICT_H

#include "array.h"
#include "pool.h"

struct mail_user;

struct md_pair {
	char *key, *value;
};

struct md_dict {
	char *path;
	ARRAY(struct md_pair) pairs;
};

/* The dict path with ~ and %u %n %d %h of user expanded. */
const char *md_expand(pool_t pool, struct mail_user *user, const char *path);
/* 0 (a missing file is an empty dict) or -1. md_dict_free() either way. */
int md_dict_load(struct md_dict *dict, const char *path);
int md_dict_save(struct md_dict *dict);
void md_dict_free(struct md_dict *dict);
struct md_pair *md_dict_find(struct md_dict *dict, const char *key);
/* value NULL deletes */
void md_dict_set(struct md_dict *dict, const char *key, const char *value);

#endif

/* imap-attr-dict.h - the file: mail_attribute_dict as Dovecot 2.3 writes
 * it ("key\nvalue\n" pairs, values tab-escaped), changed under its
 * dotlock (PATH.lock, as Dovecot's dict-file): lock, load, change, save. Implemented in cmd-metadata.c;
 * used by METADATA and by URLAUTH's per-mailbox keys (imap-urlauth.c,
 * also from the submission session for BURL). */
#ifndef ROOST_IMAP_ATTR_DICT_H
#define ROOST_IMAP_ATTR_DICT_H

#include "array.h"
#include "pool.h"

struct mail_user;
struct dotlock;

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
/* Take the dict's dotlock before loading it for a change: 0 or -1
 * (logged). */
int md_dict_lock(const char *path, struct dotlock **dotlock_r);
/* Write the pairs into the lock file and rename it over the dict; the
 * lock is gone afterwards, whether this succeeds (0) or not (-1). */
int md_dict_save(struct md_dict *dict, struct dotlock **dotlock);
void md_dict_free(struct md_dict *dict);
struct md_pair *md_dict_find(struct md_dict *dict, const char *key);
/* value NULL deletes */
void md_dict_set(struct md_dict *dict, const char *key, const char *value);

#endif

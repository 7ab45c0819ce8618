/* auth-fields.h - the key=value extra fields that passdbs and userdbs
 * return (user=, nologin, proxy, host=, uid=, home=, mail= ...), kept in
 * order, later values replacing earlier ones. */
#ifndef ROOST_AUTH_FIELDS_H
#define ROOST_AUTH_FIELDS_H

#include "lib.h"
#include "pool.h"

struct auth_fields;

struct auth_fields *auth_fields_new(pool_t pool);
/* value NULL means a bare flag ("nologin"). */
void auth_fields_set(struct auth_fields *fields, const char *key,
		     const char *value);
void auth_fields_remove(struct auth_fields *fields, const char *key);
/* NULL if missing; "" for a bare flag. */
const char *auth_fields_get(const struct auth_fields *fields, const char *key);
bool auth_fields_exists(const struct auth_fields *fields, const char *key);
unsigned int auth_fields_count(const struct auth_fields *fields);
/* i-th key and value (value NULL for a flag). */
void auth_fields_get_idx(const struct auth_fields *fields, unsigned int idx,
			 const char **key_r, const char **value_r);
/* Parse "key=value key2 key3=value" (space separated, as passwd-file extra
 * fields and default_fields/override_fields are written). "key=" sets an
 * empty value, a bare "key" a flag. Values are taken as they are (no %
 * expansion here). */
void auth_fields_import(struct auth_fields *fields, const char *str);
/* Copy src's fields into dest (replacing same keys). With a prefix, only
 * keys that start with it are copied, and strip_prefix drops it from the
 * copied keys ("userdb_mail" -> "mail", as prefetch does). */
void auth_fields_merge(struct auth_fields *dest,
		       const struct auth_fields *src, const char *prefix,
		       bool strip_prefix);

/* The value escaping of Dovecot 2.3's auth protocols (str_tabescape):
 * \001 is the escape character: \001 -> \001 '1', TAB -> \001 't',
 * LF -> \001 'n', CR -> \001 'r'. Backslashes are ordinary characters
 * (observed on Debian's 2.3.19: the user a<BACKSLASH>b<TAB>c comes back
 * as user=a<BACKSLASH>b<\001>tc). auth_tabunescape() reverses it; an
 * unknown escape gives the escaped character. Results from pool. */
const char *auth_tabescape(pool_t pool, const char *str);
/* Append str to dest escaped as auth_tabescape() does. */
struct string;
void auth_str_append_tabescaped(struct string *dest, const char *str);
/* Split a protocol line on TABs in place; at most max fields. Returns
 * the field count (>= 1). Fields stay escaped. */
unsigned int auth_split_tabs(char *line, char **args, unsigned int max);
/* Append the passdb fields a client sees in OK/PASS replies, with
 * Dovecot's separators (a lone TAB when all of them are hidden). */
void auth_append_public_fields(struct string *dest,
			       const struct auth_fields *fields);
const char *auth_tabunescape(pool_t pool, const char *str);

#endif

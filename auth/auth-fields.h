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
 * fields and default_fields/override_fields are written). */
void auth_fields_import(struct auth_fields *fields, const char *str);

/* Tab-escaping of the auth protocols: \ → \\, TAB → \t, LF → \n,
 * CR → \r; and back. Results from pool. */
const char *auth_tabescape(pool_t pool, const char *str);
const char *auth_tabunescape(pool_t pool, const char *str);

#endif

/* config-value.h - typed setting values: Dovecot's accepted spellings of
 * booleans, numbers, sizes and times, and their printed (canonical) form. */
#ifndef ROOST_CONFIG_VALUE_H
#define ROOST_CONFIG_VALUE_H

#include "pool.h"
#include "settings-schema.h"

/* Check value against def's type and return its printed form in
 * *canon_r. On error returns -1 with Dovecot's message in *error_r. */
int config_value_normalize(pool_t pool, const struct setting_def *def,
			   const char *value, const char **canon_r,
			   const char **error_r);

int config_parse_bool(const char *value, bool *result_r, const char **error_r);
int config_parse_uint(const char *value, unsigned int *result_r,
		      const char **error_r);
int config_parse_size(const char *value, uint64_t *result_r,
		      const char **error_r);
/* Seconds (msecs=false) or milliseconds (msecs=true). */
int config_parse_time(const char *value, bool msecs, uint64_t *result_r,
		      const char **error_r);

/* Printed forms: "10 M", "2 mins", "250 ms". */
const char *config_size_str(pool_t pool, uint64_t size);
/* A setting whose value is "<path" (ssl_cert = </etc/...) means the
 * file's content, read when the setting is used, as Dovecot does. Other
 * values are returned as they are. -1 with Dovecot's error text when the
 * file can't be read. */
int config_value_read_file(pool_t pool, const char *value,
			   const char **content_r, const char **error_r);
const char *config_time_str(pool_t pool, uint64_t secs);
const char *config_msecs_str(pool_t pool, uint64_t msecs);

#endif

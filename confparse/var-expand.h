/* var-expand.h - Dovecot 2.3's `%` variable expansion (%u, %{user},
 * modifiers %Lu %3.2u %Xi %Hu, %{if;...}, %{md5:user}, %{userdb:home})
 * for the templates in mail_location, userdb fields and log prefixes. */
#ifndef ROOST_VAR_EXPAND_H
#define ROOST_VAR_EXPAND_H

#include "lib.h"
#include "str.h"

/* Nesting limit of %{if;...} arguments and %{md5:...} fields. */
#define VAR_EXPAND_MAX_DEPTH 32
/* Largest zero-padding a template may ask for (%0NNNu, %N.MHu). */
#define VAR_EXPAND_MAX_PAD 65536
/* Longest value after its modifiers (%EEEE... doubles it each time). */
#define VAR_EXPAND_MAX_VALUE (1024 * 1024)
/* Longest result of one expansion. */
#define VAR_EXPAND_MAX_LENGTH (16 * 1024 * 1024)

/* One variable: %key and/or %{long_key}. value NULL expands to "". The
 * table ends with an entry whose key is '\0' and long_key NULL. */
struct var_expand_table {
	char key;
	const char *value;
	const char *long_key;
};

/* A %{key:data} provider such as %{userdb:home}. func returns 1 with
 * *value_r set (NULL = ""), 0 if data names nothing it knows ("Unknown
 * variable"), -1 with *error_r set on failure. The table ends with a NULL
 * key. Keys are matched against everything before the first ':'. */
struct var_expand_func_table {
	const char *key;
	int (*func)(const char *data, void *context, const char **value_r,
		    const char **error_r);
};

/* Expand str and append the result to dest. Returns 1 if everything
 * expanded; 0 if some variable was unknown (dest then holds
 * UNSUPPORTED_VARIABLE_<name> in its place, or nothing for a func that
 * returned 0, and *error_r is "Unknown variable '%<name>'" naming, as
 * Dovecot does, the last unknown %{name} or else the first %x); -1 on
 * a syntax error,
 * a failed function or a limit, with *error_r set (dest holds a partial
 * result). table and funcs may be NULL. Built in: %% and the modifiers,
 * %{if;...}, %{env:NAME}, and hashes %{md5:field} (also md4, sha1,
 * sha256, sha384, sha512, sha3-256, sha3-512, with
 * ;rounds=N,truncate=BITS,salt=S,format=hex|hexuc|base64).
 * Error strings not from a func live until the next call in the thread. */
int var_expand(string_t *dest, const char *str,
	       const struct var_expand_table *table,
	       const struct var_expand_func_table *funcs, void *context,
	       const char **error_r);

/* Does str refer to the variable %key or %{long_key} anywhere, also
 * inside %{if;...} arguments and hash fields? key '\0' or long_key NULL
 * match nothing on their side. */
bool var_has_key(const char *str, char key, const char *long_key);

#endif

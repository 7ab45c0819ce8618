/* config-tls.h - the server TLS context the ssl_* settings describe. */
#ifndef ROOST_CONFIG_TLS_H
#define ROOST_CONFIG_TLS_H

#include "tls.h"

struct settings_root;

/* Build the server context from ssl_cert, ssl_key (and its password),
 * ssl_alt_cert/_key, ssl_ca, ssl_dh ("<file" values read) and the other
 * ssl_* settings. The key text is wiped once the context holds it. -1
 * with the file's error, or "Failed to initialize SSL server context:
 * ..." as Dovecot logs it. */
int config_tls_server_ctx(const struct settings_root *set,
			  struct tls_ctx **ctx_r, const char **error_r);

#endif

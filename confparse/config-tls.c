/* config-tls.c - the server TLS context from the ssl_* settings, shared
 * by the login workers and the lmtp service. */
#include "lib.h"
#include "config-tls.h"
#include "config-bind.h"
#include "config-value.h"

#include <stdio.h>
#include <string.h>

int config_tls_server_ctx(const struct settings_root *set,
			  struct tls_ctx **ctx_r, const char **error_r)
{
	static char errbuf[1024];
	pool_t pool = pool_create("tls settings", 16384);
	const char *cert, *key, *ca, *alt_cert, *alt_key, *dh, *error;
	int ret = -1;

	if (config_value_read_file(pool, set->ssl_cert, &cert, &error) < 0 ||
	    config_value_read_file(pool, set->ssl_key, &key, &error) < 0 ||
	    config_value_read_file(pool, set->ssl_ca, &ca, &error) < 0 ||
	    config_value_read_file(pool, set->ssl_alt_cert, &alt_cert,
				   &error) < 0 ||
	    config_value_read_file(pool, set->ssl_alt_key, &alt_key,
				   &error) < 0 ||
	    config_value_read_file(pool, set->ssl_dh, &dh, &error) < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s", error);
		*error_r = errbuf;
		pool_destroy(&pool);
		return -1;
	}
	const struct tls_settings tset = {
		.cert = cert,
		.key = key,
		.key_password = set->ssl_key_password,
		.alt_cert = alt_cert,
		.alt_key = alt_key,
		.ca = ca,
		.verify_client_cert = set->ssl_verify_client_cert,
		.require_crl = set->ssl_require_crl,
		.min_protocol = set->ssl_min_protocol,
		.cipher_list = set->ssl_cipher_list,
		.cipher_suites = set->ssl_cipher_suites,
		.curve_list = set->ssl_curve_list,
		.prefer_server_ciphers = set->ssl_prefer_server_ciphers,
		.dh = dh,
		.options = set->ssl_options,
		.cert_username_field = set->ssl_cert_username_field,
	};
	if (tls_ctx_create_server(&tset, ctx_r, &error) < 0) {
		snprintf(errbuf, sizeof(errbuf),
			 "Failed to initialize SSL server context: %s", error);
		*error_r = errbuf;
	} else {
		ret = 0;
	}
	/* the key isn't needed in memory beyond the context */
	explicit_bzero((void *)key, strlen(key));
	pool_destroy(&pool);
	return ret;
}

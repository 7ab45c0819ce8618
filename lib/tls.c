/* tls.c - OpenSSL 3 contexts from Dovecot's ssl_* settings, non-blocking
 * TLS connections over our own socket BIO (no SIGPIPE, and room for bytes
 * read before the handshake), SNI switching in the ClientHello callback,
 * and the TLS <-> plain proxy pump of logged-in TLS sessions. */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>

/* Dovecot's built-in defaults for the settings a struct may leave unset */
#define TLS_DEFAULT_CIPHER_LIST "ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:" \
	"!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@STRENGTH"
#define TLS_DEFAULT_MIN_PROTOCOL "TLSv1.2"
#define TLS_DEFAULT_USERNAME_FIELD "commonName"
#define TLS_PROXY_DEFAULT_BUFSIZE (16 * 1024)
#define TLS_SNI_NAME_MAX 255

struct sni_entry {
	char *name;		/* lowercase; "*.example.com" for wildcards */
	struct tls_ctx *ctx;
};

struct tls_ctx {
	int refcount;
	SSL_CTX *ssl_ctx;
	bool server;
	/* what SSL_set_SSL_CTX() doesn't carry over to a connection,
	   reapplied when SNI picks this context */
	int min_version;
	char *cipher_list, *cipher_suites, *curve_list;
	uint64_t options;
	int verify_mode;
	char *username_field;

	struct sni_entry *sni;
	unsigned int sni_count;
};

struct tls_conn {
	struct tls_ctx *ctx;		/* referenced */
	struct tls_ctx *active_ctx;	/* ctx or the SNI one it chose */
	SSL *ssl;
	int fd;
	bool server, handshake_done, eof, failed, fatal, close_notify_sent;
	/* what each kind of blocked call waits for */
	enum io_condition hs_want, read_want, write_want, shutdown_want;
	char *error;
	char *servername;
	char *security;

	/* bytes read from fd before TLS began (tls_conn_create_with_input) */
	unsigned char *prefix;
	size_t prefix_len, prefix_pos;

	/* tls_conn_handshake_start() */
	struct ioloop *loop;
	struct io *io;
	struct timeout *to;
	tls_handshake_callback_t *hs_callback;
	void *hs_context;
};

/* ---- errors ---- */

/* Drain OpenSSL's error queue into one line, oldest first, with each
 * error's data ("error:0480006C:PEM routines::no start line: Expecting:
 * DH PARAMETERS"), as Dovecot prints them. Static buffer. */
static const char *openssl_errors(void)
{
	static char buf[1024];
	size_t pos = 0;
	const char *data;
	unsigned long code;
	int flags;

	buf[0] = '\0';
	while ((code = ERR_get_error_all(NULL, NULL, NULL, &data,
					 &flags)) != 0) {
		char one[256];

		ERR_error_string_n(code, one, sizeof(one));
		if (pos > 0 && pos < sizeof(buf))
			pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos,
						", ");
		if (pos < sizeof(buf))
			pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos,
						"%s", one);
		if ((flags & ERR_TXT_STRING) != 0 && data != NULL &&
		    data[0] != '\0' && pos < sizeof(buf))
			pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos,
						": %s", data);
	}
	if (buf[0] == '\0')
		return "Unknown error";
	return buf;
}

static const char *error_fmt(const char *fmt, ...) ATTR_FORMAT(1, 2);
static const char *error_fmt(const char *fmt, ...)
{
	static char buf[2048];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	return buf;
}

static bool str_set(const char *str)
{
	return str != NULL && str[0] != '\0';
}

/* ---- contexts ---- */

static int parse_min_protocol(const char *name, int *version_r)
{
	static const struct {
		const char *name;
		int version;
	} protocols[] = {
		{ "SSLv3", SSL3_VERSION },
		{ "TLSv1", TLS1_VERSION },
		{ "TLSv1.1", TLS1_1_VERSION },
		{ "TLSv1.2", TLS1_2_VERSION },
		{ "TLSv1.3", TLS1_3_VERSION },
		{ "ANY", 0 },
		{ "LATEST", TLS1_3_VERSION },
	};

	for (size_t i = 0; i < N_ELEMENTS(protocols); i++) {
		if (strcmp(name, protocols[i].name) == 0) {
			*version_r = protocols[i].version;
			return 0;
		}
	}
	return -1;
}

static int parse_options(const char *options, uint64_t *set_r,
			 uint64_t *clear_r, const char **error_r)
{
	char *copy = i_strdup(options), *save = NULL, *word;
	int ret = 0;

	*set_r = *clear_r = 0;
	for (word = strtok_r(copy, " \t,", &save); word != NULL;
	     word = strtok_r(NULL, " \t,", &save)) {
		if (strcmp(word, "no_compression") == 0)
			*set_r |= SSL_OP_NO_COMPRESSION;
		else if (strcmp(word, "compression") == 0)
			*clear_r |= SSL_OP_NO_COMPRESSION;
		else if (strcmp(word, "no_ticket") == 0)
			*set_r |= SSL_OP_NO_TICKET;
		else {
			*error_r = error_fmt("ssl_options: unknown flag: '%s'",
					     word);
			ret = -1;
			break;
		}
	}
	free(copy);
	return ret;
}

static int key_password_cb(char *buf, int size, int rwflag ATTR_UNUSED,
			   void *userdata)
{
	const char *password = userdata;
	size_t len = password == NULL ? 0 : strlen(password);

	/* an unset password is the empty one (OpenSSL never prompts:
	   there is always this callback) */
	if (len >= (size_t)size)
		return -1;
	/* @UNSAFE: len < size checked above */
	memcpy(buf, password == NULL ? "" : password, len);
	return (int)len;
}

static EVP_PKEY *load_key(const char *pem, const char *password)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey;

	pkey = PEM_read_bio_PrivateKey(bio, NULL, key_password_cb,
				       (void *)password);
	BIO_free(bio);
	return pkey;
}

/* Certificate (leaf, then chain) and its key; which names "ssl_cert" or
 * "ssl_alt_cert" in the errors. */
static int ctx_load_cert_key(SSL_CTX *ssl_ctx, const char *cert_pem,
			     const char *key_pem, const char *password,
			     bool alt, const char **error_r)
{
	const char *cert_set = alt ? "ssl_alt_cert" : "ssl_cert";
	const char *key_set = alt ? "ssl_alt_key" : "ssl_key";
	BIO *bio = BIO_new_mem_buf(cert_pem, -1);
	X509 *cert, *extra;
	EVP_PKEY *pkey;
	int ret = -1;

	cert = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	if (cert == NULL || SSL_CTX_use_certificate(ssl_ctx, cert) != 1) {
		ERR_clear_error();
		*error_r = error_fmt("Can't load SSL certificate (%s setting): "
				     "There is no valid PEM certificate.",
				     cert_set);
		goto out;
	}
	while ((extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ssl_ctx, extra) != 1) {
			X509_free(extra);
			*error_r = error_fmt("Can't load SSL certificate "
					     "(%s setting): %s", cert_set,
					     openssl_errors());
			goto out;
		}
	}
	ERR_clear_error();	/* the end of the PEM text */

	pkey = load_key(key_pem != NULL ? key_pem : "", password);
	if (pkey == NULL) {
		*error_r = error_fmt("Couldn't parse private SSL key (%s "
				     "setting) (maybe ssl_key_password is "
				     "wrong?): %s", key_set, openssl_errors());
		goto out;
	}
	if (X509_check_private_key(cert, pkey) != 1) {
		ERR_clear_error();
		*error_r = error_fmt("Can't load SSL private key (%s setting): "
				     "Key is for a different cert than %s",
				     key_set, cert_set);
	} else if (SSL_CTX_use_PrivateKey(ssl_ctx, pkey) != 1) {
		*error_r = error_fmt("Can't load SSL private key (%s setting): "
				     "%s", key_set, openssl_errors());
	} else {
		ret = 0;
	}
	EVP_PKEY_free(pkey);
out:
	X509_free(cert);
	BIO_free(bio);
	return ret;
}

static int ctx_load_dh(SSL_CTX *ssl_ctx, const char *pem, const char **error_r)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	unsigned char *der = NULL;
	const unsigned char *p;
	long der_len = 0;
	EVP_PKEY *pkey = NULL;

	if (PEM_bytes_read_bio(&der, &der_len, NULL, PEM_STRING_DHPARAMS, bio,
			       NULL, NULL) == 1) {
		p = der;
		pkey = d2i_KeyParams(EVP_PKEY_DH, NULL, &p, der_len);
	}
	OPENSSL_free(der);
	BIO_free(bio);
	if (pkey == NULL || SSL_CTX_set0_tmp_dh_pkey(ssl_ctx, pkey) != 1) {
		EVP_PKEY_free(pkey);
		*error_r = error_fmt("Couldn't parse DH parameters: %s",
				     openssl_errors());
		return -1;
	}
	return 0;
}

/* Client certificates are accepted whatever their verdict: the login
 * code decides with auth_ssl_require_client_cert, as in Dovecot. */
static int verify_accept_cb(int preverify_ok ATTR_UNUSED,
			    X509_STORE_CTX *store_ctx ATTR_UNUSED)
{
	return 1;
}

/* ssl_ca: the CAs and CRLs client certificates are checked against. */
static int ctx_load_ca(SSL_CTX *ssl_ctx, const char *pem, bool require_crl,
		       const char **error_r)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
	STACK_OF(X509_INFO) *infos;
	STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
	BIO *bio = BIO_new_mem_buf(pem, -1);

	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (infos == NULL) {
		/* like Dovecot: text without certificates is no error,
		   it only makes every client certificate invalid */
		ERR_clear_error();
		SSL_CTX_set_client_CA_list(ssl_ctx, names);
		return 0;
	}
	for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *info = sk_X509_INFO_value(infos, i);

		if (info->x509 != NULL) {
			if (X509_STORE_add_cert(store, info->x509) != 1)
				ERR_clear_error(); /* a duplicate */
			sk_X509_NAME_push(names, X509_NAME_dup(
				X509_get_subject_name(info->x509)));
		}
		if (info->crl != NULL &&
		    X509_STORE_add_crl(store, info->crl) != 1)
			ERR_clear_error();
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	SSL_CTX_set_client_CA_list(ssl_ctx, names);
	if (require_crl &&
	    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
				 X509_V_FLAG_CRL_CHECK_ALL) != 1) {
		*error_r = error_fmt("Can't set CRL flags: %s",
				     openssl_errors());
		return -1;
	}
	return 0;
}

static int ctx_set_ciphers(struct tls_ctx *ctx, const struct tls_settings *set,
			   const char **error_r)
{
	SSL_CTX *ssl_ctx = ctx->ssl_ctx;
	const char *min = str_set(set->min_protocol) ? set->min_protocol :
		TLS_DEFAULT_MIN_PROTOCOL;
	uint64_t opt_set, opt_clear;

	if (parse_min_protocol(min, &ctx->min_version) < 0) {
		*error_r = error_fmt("Unknown ssl_min_protocol setting '%s'",
				     min);
		return -1;
	}
	/* SSLv3 may be compiled out: then the floor is OpenSSL's own */
	if (SSL_CTX_set_min_proto_version(ssl_ctx, ctx->min_version) != 1)
		ERR_clear_error();
	ctx->cipher_list = i_strdup(str_set(set->cipher_list) ?
				    set->cipher_list : TLS_DEFAULT_CIPHER_LIST);
	if (SSL_CTX_set_cipher_list(ssl_ctx, ctx->cipher_list) != 1) {
		*error_r = error_fmt("Can't set cipher list to '%s' "
				     "(ssl_cipher_list setting): %s",
				     ctx->cipher_list, openssl_errors());
		return -1;
	}
	if (str_set(set->cipher_suites)) {
		ctx->cipher_suites = i_strdup(set->cipher_suites);
		if (SSL_CTX_set_ciphersuites(ssl_ctx, set->cipher_suites) != 1) {
			*error_r = error_fmt("Can't set ciphersuites to '%s': "
					     "%s", set->cipher_suites,
					     openssl_errors());
			return -1;
		}
	}
	if (str_set(set->curve_list)) {
		ctx->curve_list = i_strdup(set->curve_list);
		if (SSL_CTX_set1_groups_list(ssl_ctx, set->curve_list) != 1) {
			ERR_clear_error();
			*error_r = error_fmt("Can't set curve list to '%s' "
					     "(ssl_curve_list setting)",
					     set->curve_list);
			return -1;
		}
	}
	if (parse_options(str_set(set->options) ? set->options : "",
			  &opt_set, &opt_clear, error_r) < 0)
		return -1;
	SSL_CTX_set_options(ssl_ctx, opt_set);
	SSL_CTX_clear_options(ssl_ctx, opt_clear);
	if (set->prefer_server_ciphers)
		SSL_CTX_set_options(ssl_ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	return 0;
}

static struct tls_ctx *ctx_alloc(bool server)
{
	struct tls_ctx *ctx = i_new(struct tls_ctx, 1);

	ctx->refcount = 1;
	ctx->server = server;
	ctx->ssl_ctx = SSL_CTX_new(server ? TLS_server_method() :
				   TLS_client_method());
	if (ctx->ssl_ctx == NULL)
		i_fatal("SSL_CTX_new() failed: %s", openssl_errors());
	SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_RELEASE_BUFFERS |
			 SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* renegotiation is a DoS lever and never needed by mail clients */
	SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

static int client_hello_cb(SSL *ssl, int *alert, void *arg);

/* Sessions resume only in a context made from the same certificate:
 * the same on every login worker, unlike per-context random ids. */
static void ctx_set_session_id(struct tls_ctx *ctx, const char *cert_pem)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (EVP_Digest(cert_pem, strlen(cert_pem), md, &md_len, EVP_sha256(),
		       NULL) != 1)
		i_fatal("EVP_Digest() failed: %s", openssl_errors());
	SSL_CTX_set_session_id_context(ctx->ssl_ctx, md,
				       MIN(md_len, SSL_MAX_SID_CTX_LENGTH));
}

static int server_ctx_setup(struct tls_ctx *ctx, const struct tls_settings *set,
			    const char **error_r)
{
	SSL_CTX *ssl_ctx = ctx->ssl_ctx;

	if (ctx_set_ciphers(ctx, set, error_r) < 0)
		return -1;
	if (!str_set(set->cert)) {
		*error_r = "ssl enabled, but ssl_cert not set";
		return -1;
	}
	if (ctx_load_cert_key(ssl_ctx, set->cert, set->key, set->key_password,
			      false, error_r) < 0)
		return -1;
	if (str_set(set->alt_cert) &&
	    ctx_load_cert_key(ssl_ctx, set->alt_cert, set->alt_key,
			      set->key_password, true, error_r) < 0)
		return -1;
	if (str_set(set->dh) && ctx_load_dh(ssl_ctx, set->dh, error_r) < 0)
		return -1;
	if (set->verify_client_cert) {
		if (!str_set(set->ca)) {
			*error_r = "ssl_verify_client_cert set, but ssl_ca not";
			return -1;
		}
		if (ctx_load_ca(ssl_ctx, set->ca, set->require_crl,
				error_r) < 0)
			return -1;
		ctx->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
		SSL_CTX_set_verify(ssl_ctx, ctx->verify_mode, verify_accept_cb);
	}
	ctx->username_field = i_strdup(str_set(set->cert_username_field) ?
				       set->cert_username_field :
				       TLS_DEFAULT_USERNAME_FIELD);
	ctx_set_session_id(ctx, set->cert);
	SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_client_hello_cb(ssl_ctx, client_hello_cb, ctx);
	ctx->options = SSL_CTX_get_options(ssl_ctx);
	return 0;
}

int tls_ctx_create_server(const struct tls_settings *set,
			  struct tls_ctx **ctx_r, const char **error_r)
{
	struct tls_ctx *ctx = ctx_alloc(true);

	if (server_ctx_setup(ctx, set, error_r) < 0) {
		tls_ctx_free(&ctx);
		return -1;
	}
	*ctx_r = ctx;
	return 0;
}

int tls_ctx_create_client(const struct tls_settings *set, bool verify,
			  struct tls_ctx **ctx_r, const char **error_r)
{
	struct tls_ctx *ctx = ctx_alloc(false);
	SSL_CTX *ssl_ctx = ctx->ssl_ctx;
	int ret;

	if (ctx_set_ciphers(ctx, set, error_r) < 0)
		goto fail;
	if (str_set(set->cert) &&
	    ctx_load_cert_key(ssl_ctx, set->cert, set->key, set->key_password,
			      false, error_r) < 0)
		goto fail;
	if (verify) {
		if (str_set(set->client_ca_file) || str_set(set->client_ca_dir))
			ret = SSL_CTX_load_verify_locations(ssl_ctx,
				str_set(set->client_ca_file) ?
				set->client_ca_file : NULL,
				str_set(set->client_ca_dir) ?
				set->client_ca_dir : NULL);
		else
			ret = SSL_CTX_set_default_verify_paths(ssl_ctx);
		if (ret != 1) {
			*error_r = error_fmt("Can't load CA certs "
					     "(ssl_client_ca_file/dir): %s",
					     openssl_errors());
			goto fail;
		}
		ctx->verify_mode = SSL_VERIFY_PEER;
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
	}
	ctx->options = SSL_CTX_get_options(ssl_ctx);
	*ctx_r = ctx;
	return 0;
fail:
	tls_ctx_free(&ctx);
	return -1;
}

static void tls_ctx_ref(struct tls_ctx *ctx)
{
	ctx->refcount++;
}

void tls_ctx_free(struct tls_ctx **_ctx)
{
	struct tls_ctx *ctx = *_ctx;

	if (ctx == NULL)
		return;
	*_ctx = NULL;
	if (--ctx->refcount > 0)
		return;
	for (unsigned int i = 0; i < ctx->sni_count; i++) {
		free(ctx->sni[i].name);
		tls_ctx_free(&ctx->sni[i].ctx);
	}
	free(ctx->sni);
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx->cipher_list);
	free(ctx->cipher_suites);
	free(ctx->curve_list);
	free(ctx->username_field);
	free(ctx);
}

void tls_ctx_set_ticket_key(struct tls_ctx *ctx, const unsigned char key[80])
{
	if (SSL_CTX_set_tlsext_ticket_keys(ctx->ssl_ctx, (void *)key, 80) != 1)
		i_panic("SSL_CTX_set_tlsext_ticket_keys() failed: %s",
			openssl_errors());
	for (unsigned int i = 0; i < ctx->sni_count; i++)
		tls_ctx_set_ticket_key(ctx->sni[i].ctx, key);
}

/* ---- SNI ---- */

static bool sni_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > TLS_SNI_NAME_MAX)
		return false;
	if (name[0] == '*')
		return len > 2 && name[1] == '.' && strchr(name + 2, '*') == NULL;
	return strchr(name, '*') == NULL;
}

int tls_ctx_add_sni(struct tls_ctx *ctx, const char *names,
		    struct tls_ctx *sni_ctx, const char **error_r)
{
	char *copy = i_strdup(names), *save = NULL, *word;
	char **words = NULL;
	unsigned int count = 0;

	i_assert(ctx->server && sni_ctx->server);
	/* all names checked before any is added: on error nothing
	   changed and sni_ctx is still the caller's */
	for (word = strtok_r(copy, " \t,", &save); word != NULL;
	     word = strtok_r(NULL, " \t,", &save)) {
		if (!sni_name_valid(word)) {
			*error_r = error_fmt("Invalid local_name '%s'", word);
			free(words);
			free(copy);
			return -1;
		}
		words = i_reallocarray(words, count + 1, sizeof(*words));
		words[count++] = word;
	}
	if (count == 0) {
		*error_r = "Empty local_name";
		free(copy);
		return -1;
	}
	ctx->sni = i_reallocarray(ctx->sni, ctx->sni_count + count,
				  sizeof(*ctx->sni));
	for (unsigned int i = 0; i < count; i++) {
		for (char *p = words[i]; *p != '\0'; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
		ctx->sni[ctx->sni_count].name = i_strdup(words[i]);
		ctx->sni[ctx->sni_count].ctx = sni_ctx;
		if (i > 0)
			tls_ctx_ref(sni_ctx);
		ctx->sni_count++;
	}
	free(words);
	free(copy);
	return 0;
}

/* Exact names first, then "*.domain" covering exactly one more label. */
static struct tls_ctx *sni_lookup(struct tls_ctx *ctx, const char *name)
{
	const char *dot = strchr(name, '.');

	for (unsigned int i = 0; i < ctx->sni_count; i++) {
		if (strcasecmp(ctx->sni[i].name, name) == 0)
			return ctx->sni[i].ctx;
	}
	if (dot == NULL || dot == name)
		return NULL;
	for (unsigned int i = 0; i < ctx->sni_count; i++) {
		const char *pat = ctx->sni[i].name;

		if (pat[0] == '*' && strcasecmp(pat + 1, dot) == 0)
			return ctx->sni[i].ctx;
	}
	return NULL;
}

/* The host_name of a server_name extension, or NULL if malformed. */
static char *sni_parse(const unsigned char *p, size_t len)
{
	size_t list_len, name_len;

	if (len < 2)
		return NULL;
	list_len = ((size_t)p[0] << 8) | p[1];
	if (list_len != len - 2 || list_len < 3)
		return NULL;
	p += 2;
	if (p[0] != TLSEXT_NAMETYPE_host_name)
		return NULL;
	name_len = ((size_t)p[1] << 8) | p[2];
	if (name_len == 0 || name_len > TLS_SNI_NAME_MAX ||
	    name_len > list_len - 3 || memchr(p + 3, '\0', name_len) != NULL)
		return NULL;
	return i_strndup((const char *)p + 3, name_len);
}

/* Make ssl use what SSL_set_SSL_CTX() leaves behind. */
static void ssl_apply_ctx(SSL *ssl, struct tls_ctx *ctx)
{
	SSL_set_SSL_CTX(ssl, ctx->ssl_ctx);
	SSL_clear_options(ssl, SSL_get_options(ssl));
	SSL_set_options(ssl, ctx->options);
	SSL_set_verify(ssl, ctx->verify_mode, ctx->verify_mode != 0 ?
		       verify_accept_cb : NULL);
	(void)SSL_set_min_proto_version(ssl, ctx->min_version);
	if (SSL_set_cipher_list(ssl, ctx->cipher_list) != 1 ||
	    SSL_set_ciphersuites(ssl, ctx->cipher_suites != NULL ?
				 ctx->cipher_suites :
				 OSSL_default_ciphersuites()) != 1 ||
	    (ctx->curve_list != NULL &&
	     SSL_set1_groups_list(ssl, ctx->curve_list) != 1))
		ERR_clear_error(); /* these were accepted for the ctx */
}

/* Runs before version negotiation: the SNI context's settings (minimum
 * protocol included) all apply, not only its certificate. */
static int client_hello_cb(SSL *ssl, int *alert ATTR_UNUSED, void *arg)
{
	struct tls_ctx *ctx = arg;
	struct tls_conn *conn = SSL_get_app_data(ssl);
	struct tls_ctx *chosen;
	const unsigned char *ext;
	size_t ext_len;
	char *name;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext,
				      &ext_len) != 1)
		return SSL_CLIENT_HELLO_SUCCESS;
	name = sni_parse(ext, ext_len);
	if (name == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (conn != NULL) {
		free(conn->servername);
		conn->servername = name;
	}
	chosen = sni_lookup(ctx, name);
	if (conn == NULL)
		free(name);
	if (chosen != NULL) {
		ssl_apply_ctx(ssl, chosen);
		if (conn != NULL)
			conn->active_ctx = chosen;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* ---- our socket BIO ---- */

static BIO_METHOD *fd_bio_method;

static int fd_bio_write(BIO *bio, const char *data, int size)
{
	struct tls_conn *conn = BIO_get_data(bio);
	ssize_t ret;

	BIO_clear_retry_flags(bio);
	do {
		ret = send(conn->fd, data, (size_t)size, MSG_NOSIGNAL);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0 && errno == EAGAIN)
		BIO_set_retry_write(bio);
	return (int)ret;
}

static int fd_bio_read(BIO *bio, char *buf, int size)
{
	struct tls_conn *conn = BIO_get_data(bio);
	ssize_t ret;

	BIO_clear_retry_flags(bio);
	if (conn->prefix_pos < conn->prefix_len) {
		size_t n = MIN((size_t)size,
			       conn->prefix_len - conn->prefix_pos);

		memcpy(buf, conn->prefix + conn->prefix_pos, n);
		conn->prefix_pos += n;
		if (conn->prefix_pos == conn->prefix_len) {
			i_free(conn->prefix);
			conn->prefix_len = conn->prefix_pos = 0;
		}
		return (int)n;
	}
	do {
		ret = recv(conn->fd, buf, (size_t)size, 0);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0 && errno == EAGAIN)
		BIO_set_retry_read(bio);
	return (int)ret;
}

static long fd_bio_ctrl(BIO *bio ATTR_UNUSED, int cmd, long num ATTR_UNUSED,
			void *ptr ATTR_UNUSED)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int fd_bio_create(BIO *bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

static BIO *fd_bio_new(struct tls_conn *conn)
{
	BIO *bio;

	if (fd_bio_method == NULL) {
		fd_bio_method = BIO_meth_new(BIO_get_new_index() |
					     BIO_TYPE_SOURCE_SINK, "roost fd");
		if (fd_bio_method == NULL ||
		    BIO_meth_set_write(fd_bio_method, fd_bio_write) != 1 ||
		    BIO_meth_set_read(fd_bio_method, fd_bio_read) != 1 ||
		    BIO_meth_set_ctrl(fd_bio_method, fd_bio_ctrl) != 1 ||
		    BIO_meth_set_create(fd_bio_method, fd_bio_create) != 1)
			i_fatal("BIO_meth_new() failed: %s", openssl_errors());
	}
	bio = BIO_new(fd_bio_method);
	if (bio == NULL)
		i_fatal("BIO_new() failed: %s", openssl_errors());
	BIO_set_data(bio, conn);
	return bio;
}

/* ---- connections ---- */

static struct tls_conn *conn_new(struct tls_ctx *ctx, int fd, bool server)
{
	struct tls_conn *conn = i_new(struct tls_conn, 1);
	int flags = fcntl(fd, F_GETFL);
	BIO *bio;

	if (flags >= 0 && (flags & O_NONBLOCK) == 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	tls_ctx_ref(ctx);
	conn->ctx = conn->active_ctx = ctx;
	conn->fd = fd;
	conn->server = server;
	conn->ssl = SSL_new(ctx->ssl_ctx);
	if (conn->ssl == NULL)
		i_fatal("SSL_new() failed: %s", openssl_errors());
	SSL_set_app_data(conn->ssl, conn);
	bio = fd_bio_new(conn);
	SSL_set_bio(conn->ssl, bio, bio);
	if (server)
		SSL_set_accept_state(conn->ssl);
	else
		SSL_set_connect_state(conn->ssl);
	return conn;
}

struct tls_conn *tls_conn_create(struct tls_ctx *ctx, int fd)
{
	i_assert(ctx->server);
	return conn_new(ctx, fd, true);
}

struct tls_conn *tls_conn_create_with_input(struct tls_ctx *ctx, int fd,
					    const void *data, size_t size)
{
	struct tls_conn *conn = tls_conn_create(ctx, fd);

	if (size > 0) {
		conn->prefix = i_malloc(size);
		memcpy(conn->prefix, data, size);
		conn->prefix_len = size;
	}
	return conn;
}

struct tls_conn *tls_conn_starttls(struct tls_ctx *ctx, int fd,
				   const void *buffered ATTR_UNUSED,
				   size_t buffered_len, size_t *discarded_r)
{
	/* Whatever followed STARTTLS in the same read was sent in the
	   clear: an attacker in the path may have put it there to have it
	   executed inside the TLS session. It goes nowhere. */
	*discarded_r = buffered_len;
	return tls_conn_create(ctx, fd);
}

struct tls_conn *tls_conn_create_client(struct tls_ctx *ctx, int fd,
					const char *servername)
{
	struct tls_conn *conn;

	i_assert(!ctx->server);
	conn = conn_new(ctx, fd, false);
	if (str_set(servername)) {
		if (SSL_set_tlsext_host_name(conn->ssl, servername) != 1)
			ERR_clear_error();
		if (ctx->verify_mode != 0 &&
		    SSL_set1_host(conn->ssl, servername) != 1)
			ERR_clear_error();
	}
	return conn;
}

void tls_conn_free(struct tls_conn **_conn)
{
	struct tls_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	io_remove(&conn->io);
	timeout_remove(&conn->to);
	/* OpenSSL drops the session of a connection freed without a
	   close_notify from the cache, and most mail clients just close
	   the socket: only a protocol error should cost the resumption */
	if (conn->handshake_done && !conn->fatal)
		SSL_set_shutdown(conn->ssl, SSL_SENT_SHUTDOWN |
				 SSL_RECEIVED_SHUTDOWN);
	SSL_free(conn->ssl);
	tls_ctx_free(&conn->ctx);
	free(conn->error);
	free(conn->servername);
	free(conn->security);
	free(conn->prefix);
	free(conn);
}

int tls_conn_get_fd(const struct tls_conn *conn)
{
	return conn->fd;
}

static void conn_set_error(struct tls_conn *conn, const char *error)
{
	free(conn->error);
	conn->error = i_strdup(error);
}

static bool error_is_unexpected_eof(void)
{
	unsigned long code = ERR_peek_error();

	return ERR_GET_LIB(code) == ERR_LIB_SSL &&
		ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/* Classify a failed SSL_*() call: 0 = blocked (*want_r set), -1 = EOF
 * or error (conn->eof / conn->error set). */
static int conn_handle_error(struct tls_conn *conn, int ret, const char *func,
			     enum io_condition *want_r)
{
	int saved_errno = errno;
	int err = SSL_get_error(conn->ssl, ret);

	*want_r = 0;
	switch (err) {
	case SSL_ERROR_WANT_READ:
		*want_r = IO_READ;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*want_r = IO_WRITE;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		conn->eof = true;
		conn_set_error(conn, "Connection closed");
		return -1;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (ret == 0 || saved_errno == 0 ||
			    saved_errno == ECONNRESET ||
			    saved_errno == EPIPE) {
				conn->eof = true;
				conn_set_error(conn, "Connection closed");
			} else {
				conn_set_error(conn, error_fmt(
					"%s syscall failed: %s", func,
					strerror(saved_errno)));
			}
			break;
		}
		/* fall through */
	case SSL_ERROR_SSL:
		if (error_is_unexpected_eof()) {
			ERR_clear_error();
			conn->eof = true;
			conn_set_error(conn, "Connection closed");
			break;
		}
		conn_set_error(conn, error_fmt("%s failed: %s", func,
					       openssl_errors()));
		conn->fatal = true;
		break;
	default:
		conn_set_error(conn, error_fmt("%s failed: unexpected error %d",
					       func, err));
		break;
	}
	ERR_clear_error();
	conn->failed = true;
	return -1;
}

int tls_conn_handshake(struct tls_conn *conn)
{
	int ret;

	if (conn->handshake_done)
		return 1;
	if (conn->failed)
		return -1;
	ERR_clear_error();
	ret = SSL_do_handshake(conn->ssl);
	if (ret == 1) {
		conn->handshake_done = true;
		conn->hs_want = 0;
		return 1;
	}
	return conn_handle_error(conn, ret, conn->server ? "SSL_accept()" :
				 "SSL_connect()", &conn->hs_want);
}

bool tls_conn_handshake_done(const struct tls_conn *conn)
{
	return conn->handshake_done;
}

ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t size)
{
	size_t n = 0;
	int ret;

	if (conn->eof || conn->failed)
		return -1;
	if (!conn->handshake_done) {
		ret = tls_conn_handshake(conn);
		if (ret <= 0) {
			conn->read_want = conn->hs_want;
			return ret;
		}
	}
	ERR_clear_error();
	ret = SSL_read_ex(conn->ssl, buf, size, &n);
	if (ret == 1) {
		conn->read_want = 0;
		return (ssize_t)n;
	}
	return conn_handle_error(conn, ret, "SSL_read()", &conn->read_want);
}

bool tls_conn_pending(struct tls_conn *conn)
{
	return conn->prefix_pos < conn->prefix_len ||
		SSL_pending(conn->ssl) > 0 || SSL_has_pending(conn->ssl) == 1;
}

ssize_t tls_conn_write(struct tls_conn *conn, const void *data, size_t size)
{
	size_t n = 0;
	int ret;

	if (conn->failed)
		return -1;
	if (!conn->handshake_done) {
		ret = tls_conn_handshake(conn);
		if (ret <= 0) {
			conn->write_want = conn->hs_want;
			return ret;
		}
	}
	ERR_clear_error();
	ret = SSL_write_ex(conn->ssl, data, size, &n);
	if (ret == 1) {
		conn->write_want = 0;
		return (ssize_t)n;
	}
	ret = conn_handle_error(conn, ret, "SSL_write()", &conn->write_want);
	if (ret < 0) {
		/* the peer can't get more from us, EOF or not */
		conn->failed = true;
	}
	return ret;
}

int tls_conn_shutdown(struct tls_conn *conn)
{
	int ret;

	if (conn->close_notify_sent)
		return 1;
	if (!conn->handshake_done || conn->failed) {
		/* nothing to close cleanly */
		conn->close_notify_sent = true;
		return 1;
	}
	ERR_clear_error();
	ret = SSL_shutdown(conn->ssl);
	if (ret >= 0) {
		/* 0: ours is sent; we don't wait for the peer's */
		conn->close_notify_sent = true;
		conn->shutdown_want = 0;
		return 1;
	}
	ret = conn_handle_error(conn, ret, "SSL_shutdown()",
				&conn->shutdown_want);
	if (ret == 0 && conn->shutdown_want == IO_READ) {
		/* it wants the peer's close_notify: ours is out */
		conn->close_notify_sent = true;
		conn->shutdown_want = 0;
		return 1;
	}
	return ret;
}

enum io_condition tls_conn_want(const struct tls_conn *conn)
{
	if (!conn->handshake_done)
		return conn->hs_want != 0 ? conn->hs_want : IO_READ;
	return conn->read_want | conn->write_want | conn->shutdown_want;
}

bool tls_conn_eof(const struct tls_conn *conn)
{
	return conn->eof;
}

const char *tls_conn_error(const struct tls_conn *conn)
{
	return conn->error;
}

bool tls_conn_release_buffers(struct tls_conn *conn)
{
	return SSL_free_buffers(conn->ssl) == 1;
}

const char *tls_conn_get_servername(const struct tls_conn *conn)
{
	return conn->servername;
}

const char *tls_conn_get_protocol(const struct tls_conn *conn)
{
	return SSL_get_version(conn->ssl);
}

const char *tls_conn_get_cipher(const struct tls_conn *conn)
{
	return SSL_get_cipher_name(conn->ssl);
}

const char *tls_conn_get_security_string(const struct tls_conn *conn)
{
	struct tls_conn *mconn = (struct tls_conn *)conn;
	const SSL_CIPHER *cipher = SSL_get_current_cipher(conn->ssl);
	int bits, alg_bits = 0;

	if (cipher == NULL)
		return "";
	if (mconn->security == NULL) {
		bits = SSL_CIPHER_get_bits(cipher, &alg_bits);
		mconn->security = i_strdup_printf(
			"%s with cipher %s (%d/%d bits)",
			SSL_get_version(conn->ssl), SSL_CIPHER_get_name(cipher),
			bits, alg_bits);
	}
	return mconn->security;
}

bool tls_conn_session_reused(const struct tls_conn *conn)
{
	return SSL_session_reused(conn->ssl) == 1;
}

bool tls_conn_has_peer_cert(const struct tls_conn *conn)
{
	return SSL_get0_peer_certificate(conn->ssl) != NULL;
}

bool tls_conn_peer_cert_valid(const struct tls_conn *conn)
{
	return SSL_get0_peer_certificate(conn->ssl) != NULL &&
		SSL_get_verify_result(conn->ssl) == X509_V_OK;
}

char *tls_conn_get_peer_subject(const struct tls_conn *conn)
{
	X509 *cert = SSL_get0_peer_certificate(conn->ssl);
	BIO *bio;
	char *data, *ret;
	long len;

	if (cert == NULL)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		BIO_free(bio);
		ERR_clear_error();
		return NULL;
	}
	len = BIO_get_mem_data(bio, &data);
	ret = i_strndup(data, (size_t)len);
	BIO_free(bio);
	return ret;
}

char *tls_conn_get_peer_username(const struct tls_conn *conn)
{
	X509 *cert = SSL_get0_peer_certificate(conn->ssl);
	X509_NAME *subject;
	X509_NAME_ENTRY *entry;
	unsigned char *utf8 = NULL;
	char *ret = NULL;
	int nid, idx, len;

	if (cert == NULL || !tls_conn_peer_cert_valid(conn))
		return NULL;
	nid = OBJ_txt2nid(conn->active_ctx->username_field != NULL ?
			  conn->active_ctx->username_field :
			  TLS_DEFAULT_USERNAME_FIELD);
	if (nid == NID_undef) {
		ERR_clear_error();
		return NULL;
	}
	subject = X509_get_subject_name(cert);
	idx = X509_NAME_get_index_by_NID(subject, nid, -1);
	if (idx < 0)
		return NULL;
	entry = X509_NAME_get_entry(subject, idx);
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
	if (len > 0 && memchr(utf8, '\0', (size_t)len) == NULL)
		ret = i_strndup((const char *)utf8, (size_t)len);
	OPENSSL_free(utf8);
	ERR_clear_error();
	return ret;
}

unsigned char *tls_conn_get_channel_binding(struct tls_conn *conn,
					    const char *type, size_t *len_r,
					    const char **error_r)
{
	static const char label[] = "EXPORTER-Channel-Binding";
	bool tls13 = SSL_version(conn->ssl) >= TLS1_3_VERSION;
	unsigned char *buf;
	size_t len;

	if (!conn->handshake_done) {
		*error_r = "TLS handshake not finished";
		return NULL;
	}
	if (strcmp(type, "tls-unique") == 0) {
		bool ours_first;

		if (tls13) {
			*error_r = "tls-unique is not defined for TLSv1.3";
			return NULL;
		}
		/* the first Finished of the handshake: the client's in a
		   full one, the server's in a resumption */
		ours_first = conn->server == (SSL_session_reused(conn->ssl) == 1);
		buf = i_malloc(EVP_MAX_MD_SIZE);
		len = ours_first ? SSL_get_finished(conn->ssl, buf,
						    EVP_MAX_MD_SIZE) :
			SSL_get_peer_finished(conn->ssl, buf, EVP_MAX_MD_SIZE);
		if (len == 0 || len > EVP_MAX_MD_SIZE) {
			free(buf);
			*error_r = "No Finished message";
			return NULL;
		}
		*len_r = len;
		return buf;
	}
	if (strcmp(type, "tls-exporter") == 0) {
		if (!tls13 && SSL_get_extms_support(conn->ssl) != 1) {
			*error_r = "tls-exporter needs TLSv1.3 or the "
				"extended master secret";
			return NULL;
		}
		buf = i_malloc(32);
		if (SSL_export_keying_material(conn->ssl, buf, 32, label,
					       sizeof(label) - 1, NULL, 0,
					       0) != 1) {
			free(buf);
			*error_r = error_fmt("SSL_export_keying_material() "
					     "failed: %s", openssl_errors());
			return NULL;
		}
		*len_r = 32;
		return buf;
	}
	*error_r = error_fmt("Unknown channel binding type '%s'", type);
	return NULL;
}

/* ---- handshake on the loop ---- */

static void handshake_step(void *context)
{
	struct tls_conn *conn = context;
	int ret;

	timeout_remove(&conn->to);
	ret = tls_conn_handshake(conn);
	if (ret == 0) {
		if (conn->io == NULL)
			conn->io = io_add(conn->loop, conn->fd,
					  tls_conn_want(conn),
					  handshake_step, conn);
		else
			io_set_condition(conn->io, tls_conn_want(conn));
		return;
	}
	io_remove(&conn->io);
	/* the callback may free conn */
	conn->hs_callback(conn, ret > 0, conn->hs_context);
}

void tls_conn_handshake_start(struct tls_conn *conn, struct ioloop *loop,
			      tls_handshake_callback_t *callback,
			      void *context)
{
	i_assert(conn->io == NULL && conn->to == NULL);
	conn->loop = loop;
	conn->hs_callback = callback;
	conn->hs_context = context;
	/* first step from the loop: bytes given with the connection
	   (tls_conn_create_with_input) need no readable socket */
	conn->to = timeout_add(loop, 0, handshake_step, conn);
}

/* ---- proxy pump ---- */

struct proxy_buf {
	unsigned char *data;	/* allocated only while it holds bytes */
	size_t len;
};

struct tls_proxy {
	struct ioloop *loop;
	struct tls_conn *conn;
	int plain_fd;
	struct io *tls_io, *plain_io;
	struct timeout *to;
	size_t bufsize;
	struct proxy_buf to_plain, to_tls;
	bool tls_eof, plain_eof, plain_shut, tls_shut, finished;
	char *reason;
	tls_proxy_callback_t *callback;
	void *context;
};

static void proxy_run(void *context);

static void proxy_report(void *context)
{
	struct tls_proxy *proxy = context;

	timeout_remove(&proxy->to);
	proxy->callback(proxy, proxy->reason, proxy->context);
}

static void proxy_finish(struct tls_proxy *proxy, const char *reason)
{
	if (proxy->finished)
		return;
	proxy->finished = true;
	proxy->reason = i_strdup(reason);
	io_remove(&proxy->tls_io);
	io_remove(&proxy->plain_io);
	timeout_remove(&proxy->to);
	proxy->to = timeout_add(proxy->loop, 0, proxy_report, proxy);
}

struct tls_proxy *tls_proxy_create(struct ioloop *loop, struct tls_conn *conn,
				   int plain_fd, size_t bufsize,
				   tls_proxy_callback_t *callback,
				   void *context)
{
	struct tls_proxy *proxy = i_new(struct tls_proxy, 1);
	int flags = fcntl(plain_fd, F_GETFL);

	if (flags >= 0 && (flags & O_NONBLOCK) == 0)
		(void)fcntl(plain_fd, F_SETFL, flags | O_NONBLOCK);
	/* a handshake started with tls_conn_handshake_start() is the
	   pump's to finish now: one io per fd */
	io_remove(&conn->io);
	timeout_remove(&conn->to);
	proxy->loop = loop;
	proxy->conn = conn;
	proxy->plain_fd = plain_fd;
	proxy->bufsize = bufsize == 0 ? TLS_PROXY_DEFAULT_BUFSIZE : bufsize;
	proxy->callback = callback;
	proxy->context = context;
	proxy->tls_io = io_add(loop, conn->fd, 0, proxy_run, proxy);
	proxy->plain_io = io_add(loop, plain_fd, 0, proxy_run, proxy);
	/* the first round from the loop: OpenSSL may hold decrypted bytes
	   already, and no socket would wake us for those */
	proxy->to = timeout_add(loop, 0, proxy_run, proxy);
	return proxy;
}

void tls_proxy_free(struct tls_proxy **_proxy)
{
	struct tls_proxy *proxy = *_proxy;
	int fd;

	if (proxy == NULL)
		return;
	*_proxy = NULL;
	io_remove(&proxy->tls_io);
	io_remove(&proxy->plain_io);
	timeout_remove(&proxy->to);
	fd = proxy->conn->fd;
	tls_conn_free(&proxy->conn);
	(void)close(fd);
	(void)close(proxy->plain_fd);
	free(proxy->to_plain.data);
	free(proxy->to_tls.data);
	free(proxy->reason);
	free(proxy);
}

struct tls_conn *tls_proxy_get_conn(struct tls_proxy *proxy)
{
	return proxy->conn;
}

static void buf_ensure(struct tls_proxy *proxy, struct proxy_buf *buf)
{
	if (buf->data == NULL)
		buf->data = i_malloc(proxy->bufsize);
}

static void buf_consumed(struct proxy_buf *buf, size_t n)
{
	buf->len -= n;
	if (buf->len == 0)
		i_free(buf->data);	/* idle sessions hold no buffers */
	else
		memmove(buf->data, buf->data + n, buf->len);
}

/* Client -> mail worker. Returns 1 progress, 0 none, -1 finished. */
static int proxy_tls_to_plain(struct tls_proxy *proxy)
{
	struct proxy_buf *buf = &proxy->to_plain;
	int progress = 0;
	ssize_t n;

	if (!proxy->tls_eof && buf->len < proxy->bufsize) {
		buf_ensure(proxy, buf);
		n = tls_conn_read(proxy->conn, buf->data + buf->len,
				  proxy->bufsize - buf->len);
		if (n > 0) {
			buf->len += (size_t)n;
			progress = 1;
		} else if (n < 0 && !tls_conn_eof(proxy->conn)) {
			proxy_finish(proxy, tls_conn_error(proxy->conn));
			return -1;
		} else if (n < 0) {
			proxy->tls_eof = true;
			progress = 1;
		}
		if (buf->len == 0)
			i_free(buf->data);
	}
	if (buf->len > 0) {
		n = send(proxy->plain_fd, buf->data, buf->len, MSG_NOSIGNAL);
		if (n > 0) {
			buf_consumed(buf, (size_t)n);
			progress = 1;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			proxy_finish(proxy, "Disconnected by server");
			return -1;
		}
	}
	if (proxy->tls_eof && buf->len == 0 && !proxy->plain_shut) {
		(void)shutdown(proxy->plain_fd, SHUT_WR);
		proxy->plain_shut = true;
		progress = 1;
	}
	return progress;
}

/* Mail worker -> client. */
static int proxy_plain_to_tls(struct tls_proxy *proxy)
{
	struct proxy_buf *buf = &proxy->to_tls;
	int progress = 0;
	ssize_t n;

	if (!proxy->plain_eof && buf->len < proxy->bufsize) {
		buf_ensure(proxy, buf);
		n = recv(proxy->plain_fd, buf->data + buf->len,
			 proxy->bufsize - buf->len, 0);
		if (n > 0) {
			buf->len += (size_t)n;
			progress = 1;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			proxy->plain_eof = true;
			progress = 1;
		}
		if (buf->len == 0)
			i_free(buf->data);
	}
	if (buf->len > 0) {
		n = tls_conn_write(proxy->conn, buf->data, buf->len);
		if (n > 0) {
			buf_consumed(buf, (size_t)n);
			progress = 1;
		} else if (n < 0) {
			/* after the client's EOF a failed write is no news */
			proxy_finish(proxy, proxy->tls_eof ?
				     "Connection closed" :
				     tls_conn_error(proxy->conn));
			return -1;
		}
	}
	if (proxy->plain_eof && buf->len == 0 && !proxy->tls_shut &&
	    tls_conn_shutdown(proxy->conn) != 0) {
		proxy->tls_shut = true;
		progress = 1;
	}
	return progress;
}

static void proxy_update_io(struct tls_proxy *proxy)
{
	struct tls_conn *conn = proxy->conn;
	enum io_condition tls_cond = 0, plain_cond = 0;

	if (!proxy->tls_eof && proxy->to_plain.len < proxy->bufsize)
		tls_cond |= conn->read_want != 0 ? conn->read_want : IO_READ;
	if (proxy->to_tls.len > 0)
		tls_cond |= conn->write_want != 0 ? conn->write_want : IO_WRITE;
	if (proxy->plain_eof && !proxy->tls_shut)
		tls_cond |= conn->shutdown_want != 0 ? conn->shutdown_want :
			IO_WRITE;
	if (!proxy->plain_eof && proxy->to_tls.len < proxy->bufsize)
		plain_cond |= IO_READ;
	if (proxy->to_plain.len > 0)
		plain_cond |= IO_WRITE;
	io_set_condition(proxy->tls_io, tls_cond);
	io_set_condition(proxy->plain_io, plain_cond);
}

static void proxy_run(void *context)
{
	struct tls_proxy *proxy = context;
	int a, b;

	timeout_remove(&proxy->to);
	do {
		a = proxy_tls_to_plain(proxy);
		if (a < 0)
			return;
		b = proxy_plain_to_tls(proxy);
		if (b < 0)
			return;
	} while (a > 0 || b > 0);

	if (proxy->tls_eof && proxy->plain_shut && proxy->plain_eof) {
		proxy_finish(proxy, "Connection closed");
	} else if (proxy->tls_shut) {
		/* the mail worker ended the session and the client has
		   our close_notify: no need to wait for the client's */
		proxy_finish(proxy, "Disconnected by server");
	} else {
		proxy_update_io(proxy);
	}
}

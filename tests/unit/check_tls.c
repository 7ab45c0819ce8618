/* check_tls.c - unit tests of lib/tls.h. Keys, certificates (a test CA,
 * server certificates for SNI, good and bad client certificates), a CRL
 * and DH parameters are made at test time with the OpenSSL API (and the
 * CA written to a temp dir for ssl_client_ca_file). Clients are plain
 * OpenSSL in this process over a socketpair, driven step by step
 * against the server side under test; the proxy pump runs on a real
 * ioloop between a TLS client and a "mail worker" socket. */
#include "suites.h"
#include "tls.h"
#include "haproxy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* ---- test PKI, made once per test case (before the fork) ---- */

struct pki {
	EVP_PKEY *ca_key, *srv_key, *other_key, *rsa_key, *alice_key,
		*mallory_key;
	X509 *ca, *srv, *other, *wild, *rsa, *alice, *mallory, *nul_cn;
	char *ca_pem, *crl_pem, *srv_pem, *srv_key_pem, *srv_key_enc_pem,
		*other_pem, *other_key_pem, *wild_pem, *rsa_pem, *rsa_key_pem,
		*dh_pem;
	char ca_file[PATH_MAX];
	char dir[PATH_MAX];
};
static struct pki pki;

static char *pem_cert(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *ret;
	long len;

	ck_assert_int_eq(PEM_write_bio_X509(bio, x), 1);
	len = BIO_get_mem_data(bio, &data);
	ret = i_strndup(data, (size_t)len);
	BIO_free(bio);
	return ret;
}

static char *pem_key(EVP_PKEY *key, const char *password)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *ret;
	long len;

	if (password == NULL)
		ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, key, NULL, NULL,
							  0, NULL, NULL), 1);
	else
		ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(bio, key,
			EVP_aes_256_cbc(), NULL, 0, NULL, (void *)password), 1);
	len = BIO_get_mem_data(bio, &data);
	ret = i_strndup(data, (size_t)len);
	BIO_free(bio);
	return ret;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ck_assert_ptr_nonnull(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* cn_len > 0: the CN is those bytes exactly (a NUL inside). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, size_t cn_len,
		       X509 *issuer, EVP_PKEY *issuer_key, bool server,
		       long serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);
	char san[300];

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
				   (const unsigned char *)"Roost Test", -1,
				   -1, 0);
	if (cn_len > 0)
		X509_NAME_add_entry_by_NID(name, NID_commonName,
					   V_ASN1_UTF8STRING,
					   (const unsigned char *)cn,
					   (int)cn_len, -1, 0);
	else
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					   (const unsigned char *)cn, -1, -1,
					   0);
	X509_set_issuer_name(x, issuer != NULL ?
			     X509_get_subject_name(issuer) : name);
	if (issuer == NULL && !server && strcmp(cn, "Roost Test CA") == 0) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
			"CA:FALSE");
	}
	if (server) {
		snprintf(san, sizeof(san), "DNS:%s", cn);
		add_ext(x, issuer != NULL ? issuer : x,
			NID_subject_alt_name, san);
	}
	ck_assert_int_gt(X509_sign(x, issuer_key != NULL ? issuer_key : key,
				   EVP_sha256()), 0);
	return x;
}

static char *make_crl(void)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *ret;
	long len;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(pki.ca));
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	ck_assert_int_gt(X509_CRL_sign(crl, pki.ca_key, EVP_sha256()), 0);
	PEM_write_bio_X509_CRL(bio, crl);
	len = BIO_get_mem_data(bio, &data);
	ret = i_strndup(data, (size_t)len);
	BIO_free(bio);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return ret;
}

static char *make_dh(void)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	OSSL_PARAM params[2];
	EVP_PKEY *dh = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *ret;
	long len;

	params[0] = OSSL_PARAM_construct_utf8_string("group",
						     (char *)"ffdhe2048", 0);
	params[1] = OSSL_PARAM_construct_end();
	ck_assert_int_eq(EVP_PKEY_paramgen_init(pctx), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_params(pctx, params), 1);
	ck_assert_int_eq(EVP_PKEY_paramgen(pctx, &dh), 1);
	ck_assert_int_eq(PEM_write_bio_Parameters(bio, dh), 1);
	len = BIO_get_mem_data(bio, &data);
	ret = i_strndup(data, (size_t)len);
	BIO_free(bio);
	EVP_PKEY_free(dh);
	EVP_PKEY_CTX_free(pctx);
	return ret;
}

static void pki_setup(void)
{
	const char *dir = test_tmpdir_create();
	char *path;

	snprintf(pki.dir, sizeof(pki.dir), "%s", dir);
	pki.ca_key = EVP_EC_gen("P-256");
	pki.srv_key = EVP_EC_gen("P-256");
	pki.other_key = EVP_EC_gen("P-256");
	pki.alice_key = EVP_EC_gen("P-256");
	pki.mallory_key = EVP_EC_gen("P-256");
	pki.rsa_key = EVP_RSA_gen(2048);
	pki.ca = make_cert(pki.ca_key, "Roost Test CA", 0, NULL, NULL, false,
			   1);
	pki.srv = make_cert(pki.srv_key, "mail.example.org", 0, pki.ca,
			    pki.ca_key, true, 2);
	pki.other = make_cert(pki.other_key, "other.example.org", 0, pki.ca,
			      pki.ca_key, true, 3);
	pki.wild = make_cert(pki.other_key, "wild.example.net", 0, pki.ca,
			     pki.ca_key, true, 4);
	pki.rsa = make_cert(pki.rsa_key, "mail.example.org", 0, pki.ca,
			    pki.ca_key, true, 5);
	pki.alice = make_cert(pki.alice_key, "alice", 0, pki.ca, pki.ca_key,
			      false, 6);
	/* self-signed: not from ssl_ca */
	pki.mallory = make_cert(pki.mallory_key, "mallory", 0, NULL, NULL,
				false, 7);
	pki.nul_cn = make_cert(pki.alice_key, "alice\0evil", 10, pki.ca,
			       pki.ca_key, false, 8);

	pki.ca_pem = pem_cert(pki.ca);
	pki.crl_pem = make_crl();
	pki.srv_pem = pem_cert(pki.srv);
	pki.srv_key_pem = pem_key(pki.srv_key, NULL);
	pki.srv_key_enc_pem = pem_key(pki.srv_key, "secret");
	pki.other_pem = pem_cert(pki.other);
	pki.other_key_pem = pem_key(pki.other_key, NULL);
	pki.wild_pem = pem_cert(pki.wild);
	pki.rsa_pem = pem_cert(pki.rsa);
	pki.rsa_key_pem = pem_key(pki.rsa_key, NULL);
	pki.dh_pem = make_dh();
	path = test_write_file(dir, "ca.pem", pki.ca_pem, strlen(pki.ca_pem));
	snprintf(pki.ca_file, sizeof(pki.ca_file), "%s", path);
	free(path);
}

static void pki_teardown(void)
{
	EVP_PKEY *keys[] = { pki.ca_key, pki.srv_key, pki.other_key,
			     pki.rsa_key, pki.alice_key, pki.mallory_key };
	X509 *certs[] = { pki.ca, pki.srv, pki.other, pki.wild, pki.rsa,
			  pki.alice, pki.mallory, pki.nul_cn };
	char *pems[] = { pki.ca_pem, pki.crl_pem, pki.srv_pem,
			 pki.srv_key_pem, pki.srv_key_enc_pem, pki.other_pem,
			 pki.other_key_pem, pki.wild_pem, pki.rsa_pem,
			 pki.rsa_key_pem, pki.dh_pem };

	for (size_t i = 0; i < N_ELEMENTS(keys); i++)
		EVP_PKEY_free(keys[i]);
	for (size_t i = 0; i < N_ELEMENTS(certs); i++)
		X509_free(certs[i]);
	for (size_t i = 0; i < N_ELEMENTS(pems); i++)
		free(pems[i]);
	test_tmpdir_remove();
	memset(&pki, 0, sizeof(pki));
}

static struct tls_settings server_set(void)
{
	struct tls_settings set;

	memset(&set, 0, sizeof(set));
	set.cert = pki.srv_pem;
	set.key = pki.srv_key_pem;
	set.require_crl = true;	/* Dovecot's default */
	return set;
}

static struct tls_ctx *server_ctx(const struct tls_settings *set)
{
	struct tls_ctx *ctx = NULL;
	const char *error = NULL;

	ck_assert_msg(tls_ctx_create_server(set, &ctx, &error) == 0,
		      "tls_ctx_create_server: %s", error);
	return ctx;
}

static const char *server_ctx_error(const struct tls_settings *set)
{
	struct tls_ctx *ctx = NULL;
	const char *error = NULL;

	ck_assert_int_eq(tls_ctx_create_server(set, &ctx, &error), -1);
	ck_assert_ptr_null(ctx);
	ck_assert_ptr_nonnull(error);
	return error;
}

/* ---- raw OpenSSL client in this process ---- */

struct client_opts {
	const char *sni;
	int max_version;
	X509 *cert;
	EVP_PKEY *key;
	SSL_SESSION *session;
	const char *ciphers;		/* TLSv1.2 list */
	const char *sigalgs;
};

struct pair {
	int cfd, sfd;			/* client end, server end */
	SSL_CTX *cctx;
	SSL *client;
	struct tls_conn *server;
	int cret, sret;			/* 1 done, 0 pending, -1 failed */
};

static void set_nonblock(int fd)
{
	ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK),
			 0);
}

static void pair_client(struct pair *p, const struct client_opts *o)
{
	p->cctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(p->cctx, SSL_VERIFY_NONE, NULL);
	/* each successful write says how much went */
	SSL_CTX_set_mode(p->cctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (o != NULL && o->max_version != 0)
		SSL_CTX_set_max_proto_version(p->cctx, o->max_version);
	if (o != NULL && o->ciphers != NULL)
		ck_assert_int_eq(SSL_CTX_set_cipher_list(p->cctx, o->ciphers),
				 1);
	if (o != NULL && o->sigalgs != NULL)
		ck_assert_int_eq(SSL_CTX_set1_sigalgs_list(p->cctx,
							   o->sigalgs), 1);
	p->client = SSL_new(p->cctx);
	SSL_set_fd(p->client, p->cfd);
	SSL_set_connect_state(p->client);
	if (o != NULL && o->sni != NULL)
		SSL_set_tlsext_host_name(p->client, o->sni);
	if (o != NULL && o->cert != NULL) {
		SSL_use_certificate(p->client, o->cert);
		SSL_use_PrivateKey(p->client, o->key);
	}
	if (o != NULL && o->session != NULL)
		SSL_set_session(p->client, o->session);
}

/* A socketpair with a TLS server (ctx) on one end and a client on the
 * other; nothing has happened yet. */
static void pair_init(struct pair *p, struct tls_ctx *ctx,
		      const struct client_opts *o)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	p->cfd = sv[0];
	p->sfd = sv[1];
	set_nonblock(p->cfd);
	if (ctx != NULL)
		p->server = tls_conn_create(ctx, p->sfd);
	pair_client(p, o);
}

static void pair_free(struct pair *p)
{
	tls_conn_free(&p->server);
	if (p->client != NULL) {
		/* like a client that said goodbye: OpenSSL would otherwise
		   mark its session not resumable */
		if (p->cret == 1)
			SSL_set_shutdown(p->client, SSL_SENT_SHUTDOWN |
					 SSL_RECEIVED_SHUTDOWN);
		SSL_free(p->client);
	}
	if (p->cctx != NULL)
		SSL_CTX_free(p->cctx);
	if (p->cfd >= 0)
		close(p->cfd);
	if (p->sfd >= 0)
		close(p->sfd);
	memset(p, 0, sizeof(*p));
	p->cfd = p->sfd = -1;
}

static int client_step(SSL *ssl)
{
	int ret = SSL_do_handshake(ssl);
	int err;

	if (ret == 1)
		return 1;
	err = SSL_get_error(ssl, ret);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return 0;
	ERR_clear_error();
	return -1;
}

/* Step both handshakes until each is done or failed (or stuck). */
static void pair_handshake(struct pair *p)
{
	for (int i = 0; i < 100 && (p->cret == 0 || p->sret == 0); i++) {
		if (p->cret == 0)
			p->cret = client_step(p->client);
		if (p->sret == 0)
			p->sret = tls_conn_handshake(p->server);
	}
}

static void pair_handshake_ok(struct pair *p)
{
	pair_handshake(p);
	ck_assert_msg(p->sret == 1, "server handshake: %s",
		      tls_conn_error(p->server));
	ck_assert_int_eq(p->cret, 1);
}

/* Client writes everything (the socketpair buffer takes it). */
static void client_write(struct pair *p, const char *data)
{
	size_t n = 0;

	ck_assert_int_eq(SSL_write_ex(p->client, data, strlen(data), &n), 1);
	ck_assert_uint_eq(n, strlen(data));
}

/* Client reads what is there (processing tickets too); returns bytes. */
static size_t client_read(struct pair *p, char *buf, size_t size)
{
	size_t n = 0, total = 0;

	while (total < size &&
	       SSL_read_ex(p->client, buf + total, size - total, &n) == 1)
		total += n;
	ERR_clear_error();
	return total;
}

static void server_expect(struct pair *p, const char *expect)
{
	char buf[256];
	size_t total = 0;

	for (int i = 0; i < 50 && total < strlen(expect); i++) {
		ssize_t n = tls_conn_read(p->server, buf + total,
					  sizeof(buf) - 1 - total);

		if (n < 0)
			ck_abort_msg("server read: %s",
				     tls_conn_error(p->server));
		total += (size_t)n;
	}
	buf[total] = '\0';
	ck_assert_str_eq(buf, expect);
}

static void server_write(struct pair *p, const char *data)
{
	ck_assert_int_eq(tls_conn_write(p->server, data, strlen(data)),
			 (ssize_t)strlen(data));
}

static char *client_peer_cn(struct pair *p)
{
	X509 *cert = SSL_get0_peer_certificate(p->client);
	char buf[256];

	ck_assert_ptr_nonnull(cert);
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
				  NID_commonName, buf, sizeof(buf));
	return i_strdup(buf);
}

static void assert_server_cn(struct tls_ctx *ctx, const char *sni,
			     const char *cn)
{
	struct client_opts o = { .sni = sni };
	struct pair p;
	char *got;

	pair_init(&p, ctx, &o);
	pair_handshake_ok(&p);
	got = client_peer_cn(&p);
	ck_assert_str_eq(got, cn);
	free(got);
	pair_free(&p);
}

/* ---- Core ---- */

START_TEST(test_handshake_and_data)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	struct pair p;
	char buf[64];
	size_t n;

	pair_init(&p, ctx, NULL);
	ck_assert(!tls_conn_handshake_done(p.server));
	pair_handshake_ok(&p);
	ck_assert(tls_conn_handshake_done(p.server));
	ck_assert_str_eq(tls_conn_get_protocol(p.server), "TLSv1.3");
	ck_assert_str_eq(tls_conn_get_security_string(p.server),
			 "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
			 "(256/256 bits)");
	ck_assert_ptr_null(tls_conn_get_servername(p.server));
	ck_assert(!tls_conn_has_peer_cert(p.server));
	ck_assert_int_eq(tls_conn_get_fd(p.server), p.sfd);

	client_write(&p, "a CAPABILITY\r\n");
	server_expect(&p, "a CAPABILITY\r\n");
	/* nothing more: blocked, waiting to read */
	ck_assert_int_eq(tls_conn_read(p.server, buf, sizeof(buf)), 0);
	ck_assert_int_eq(tls_conn_want(p.server) & IO_READ, IO_READ);
	server_write(&p, "a OK\r\n");
	ck_assert_uint_eq(client_read(&p, buf, 6), 6);
	ck_assert_int_eq(memcmp(buf, "a OK\r\n", 6), 0);

	/* clean close both ways */
	ck_assert_int_eq(tls_conn_shutdown(p.server), 1);
	ck_assert_int_eq(SSL_read_ex(p.client, buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(SSL_get_error(p.client, 0), SSL_ERROR_ZERO_RETURN);
	ck_assert_int_eq(SSL_shutdown(p.client), 1);
	ck_assert_int_eq(tls_conn_read(p.server, buf, sizeof(buf)), -1);
	ck_assert(tls_conn_eof(p.server));
	ck_assert_str_eq(tls_conn_error(p.server), "Connection closed");
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_sni)
{
	struct tls_settings set = server_set(), oset = server_set(),
		wset = server_set();
	struct tls_ctx *ctx = server_ctx(&set), *other, *wild;
	const char *error = NULL;
	struct client_opts o = { .sni = "Other.Example.ORG" };
	struct pair p;

	oset.cert = pki.other_pem;
	oset.key = pki.other_key_pem;
	wset.cert = pki.wild_pem;
	wset.key = pki.other_key_pem;
	other = server_ctx(&oset);
	wild = server_ctx(&wset);
	ck_assert_int_eq(tls_ctx_add_sni(ctx, "other.example.org "
					 "imap.other.example.org", other,
					 &error), 0);
	ck_assert_int_eq(tls_ctx_add_sni(ctx, "*.wild.example.net", wild,
					 &error), 0);

	assert_server_cn(ctx, NULL, "mail.example.org");
	assert_server_cn(ctx, "other.example.org", "other.example.org");
	assert_server_cn(ctx, "imap.other.example.org", "other.example.org");
	assert_server_cn(ctx, "a.wild.example.net", "wild.example.net");
	/* a wildcard covers one label, not zero or two */
	assert_server_cn(ctx, "wild.example.net", "mail.example.org");
	assert_server_cn(ctx, "a.b.wild.example.net", "mail.example.org");
	assert_server_cn(ctx, "unknown.example.org", "mail.example.org");

	pair_init(&p, ctx, &o);
	pair_handshake_ok(&p);
	ck_assert_str_eq(tls_conn_get_servername(p.server),
			 "Other.Example.ORG");
	pair_free(&p);
	/* the context stays alive while a connection uses it */
	pair_init(&p, ctx, &o);
	tls_ctx_free(&ctx);
	pair_handshake_ok(&p);
	pair_free(&p);
}
END_TEST

START_TEST(test_sni_settings_apply)
{
	/* not only the certificate: the local_name block's minimum
	   protocol holds too (the switch happens before version
	   negotiation) */
	struct tls_settings set = server_set(), oset = server_set();
	struct tls_ctx *ctx, *other;
	const char *error = NULL;
	struct client_opts o12 = { .max_version = TLS1_2_VERSION },
		o12sni = { .max_version = TLS1_2_VERSION,
			   .sni = "other.example.org" };
	struct pair p;

	oset.cert = pki.other_pem;
	oset.key = pki.other_key_pem;
	oset.min_protocol = "TLSv1.3";
	ctx = server_ctx(&set);
	other = server_ctx(&oset);
	ck_assert_int_eq(tls_ctx_add_sni(ctx, "other.example.org", other,
					 &error), 0);
	pair_init(&p, ctx, &o12);
	pair_handshake_ok(&p);
	ck_assert_str_eq(tls_conn_get_protocol(p.server), "TLSv1.2");
	pair_free(&p);
	pair_init(&p, ctx, &o12sni);
	pair_handshake(&p);
	ck_assert_int_eq(p.sret, -1);
	ck_assert_str_eq(tls_conn_error(p.server), "SSL_accept() failed: "
			 "error:0A000102:SSL routines::unsupported protocol");
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

static SSL_SESSION *first_session(struct tls_ctx *ctx,
				  const struct client_opts *o)
{
	struct pair p;
	SSL_SESSION *sess;
	char buf[8];

	pair_init(&p, ctx, o);
	pair_handshake_ok(&p);
	ck_assert(!tls_conn_session_reused(p.server));
	server_write(&p, "hi");
	/* reading also takes in TLSv1.3's session tickets */
	ck_assert_uint_eq(client_read(&p, buf, 2), 2);
	sess = SSL_get1_session(p.client);
	ck_assert_ptr_nonnull(sess);
	pair_free(&p);
	return sess;
}

static bool resumes(struct tls_ctx *ctx, SSL_SESSION *sess, int max_version)
{
	struct client_opts o = { .session = sess, .max_version = max_version };
	struct pair p;
	bool reused;

	pair_init(&p, ctx, &o);
	pair_handshake_ok(&p);
	reused = tls_conn_session_reused(p.server);
	ck_assert(reused == (SSL_session_reused(p.client) == 1));
	pair_free(&p);
	return reused;
}

START_TEST(test_resumption)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set), *ctx2;
	struct client_opts o12 = { .max_version = TLS1_2_VERSION };
	SSL_SESSION *sess;

	/* TLSv1.3 tickets */
	sess = first_session(ctx, NULL);
	ck_assert(resumes(ctx, sess, 0));
	SSL_SESSION_free(sess);
	/* TLSv1.2 tickets */
	sess = first_session(ctx, &o12);
	ck_assert(SSL_SESSION_has_ticket(sess));
	ck_assert(resumes(ctx, sess, TLS1_2_VERSION));
	SSL_SESSION_free(sess);
	tls_ctx_free(&ctx);

	/* no_ticket: TLSv1.2 falls back to the session cache */
	set.options = "no_ticket";
	ctx = server_ctx(&set);
	sess = first_session(ctx, &o12);
	ck_assert(!SSL_SESSION_has_ticket(sess));
	ck_assert(resumes(ctx, sess, TLS1_2_VERSION));
	SSL_SESSION_free(sess);
	/* ... which another process (another context) doesn't have */
	ctx2 = server_ctx(&set);
	sess = first_session(ctx, &o12);
	ck_assert(!resumes(ctx2, sess, TLS1_2_VERSION));
	SSL_SESSION_free(sess);
	tls_ctx_free(&ctx);
	tls_ctx_free(&ctx2);
}
END_TEST

START_TEST(test_resumption_after_unclean_close)
{
	/* the client drops the connection without close_notify; the
	   server's session cache keeps the session all the same */
	struct tls_settings set = server_set();
	struct tls_ctx *ctx;
	struct client_opts o12 = { .max_version = TLS1_2_VERSION };
	SSL_SESSION *sess;
	struct pair p;
	char buf[8];

	set.options = "no_ticket";
	ctx = server_ctx(&set);
	pair_init(&p, ctx, &o12);
	pair_handshake_ok(&p);
	sess = SSL_get1_session(p.client);
	close(p.cfd);
	p.cfd = -1;
	ck_assert_int_eq(tls_conn_read(p.server, buf, sizeof(buf)), -1);
	ck_assert(tls_conn_eof(p.server));
	pair_free(&p);
	ck_assert(resumes(ctx, sess, TLS1_2_VERSION));
	SSL_SESSION_free(sess);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_resumption_shared_ticket_key)
{
	/* two login workers: each its own context, one ticket key */
	static const unsigned char key[80] = "0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef0123456789abcde";
	struct tls_settings set = server_set();
	struct tls_ctx *a = server_ctx(&set), *b = server_ctx(&set);
	struct tls_ctx *c = server_ctx(&set);
	SSL_SESSION *sess;

	tls_ctx_set_ticket_key(a, key);
	tls_ctx_set_ticket_key(b, key);
	sess = first_session(a, NULL);
	ck_assert(resumes(b, sess, 0));
	/* a worker with its own random key can't open the ticket */
	ck_assert(!resumes(c, sess, 0));
	SSL_SESSION_free(sess);
	tls_ctx_free(&a);
	tls_ctx_free(&b);
	tls_ctx_free(&c);
}
END_TEST

START_TEST(test_starttls_injection_discarded)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	struct pair p;
	const char *plain = "a STARTTLS\r\nb LOGIN mallory secret\r\n";
	char buf[128];
	const char *nl;
	ssize_t n;
	size_t discarded = 0;

	pair_init(&p, NULL, NULL);
	/* the attacker's command rides in the same segment as STARTTLS */
	ck_assert_int_eq(write(p.cfd, plain, strlen(plain)),
			 (ssize_t)strlen(plain));
	n = read(p.sfd, buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)strlen(plain));
	nl = memchr(buf, '\n', (size_t)n);
	ck_assert_ptr_nonnull(nl);
	nl++;
	ck_assert_int_eq(write(p.sfd, "a OK Begin TLS negotiation now.\r\n",
			       33), 33);
	p.server = tls_conn_starttls(ctx, p.sfd, nl,
				     (size_t)(buf + n - nl), &discarded);
	ck_assert_uint_eq(discarded, strlen("b LOGIN mallory secret\r\n"));
	ck_assert_int_eq(read(p.cfd, buf, 33), 33);
	pair_handshake_ok(&p);
	/* inside TLS the server sees only what came through TLS */
	client_write(&p, "c CAPABILITY\r\n");
	server_expect(&p, "c CAPABILITY\r\n");
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_starttls_unread_injection_fails)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	struct pair p;
	const char *plain = "a STARTTLS\r\nb LOGIN mallory secret\r\n";
	char c;
	size_t discarded = 99;

	/* Injected bytes the plaintext reader never read are no
	   ClientHello: the handshake fails, nothing is executed */
	pair_init(&p, NULL, NULL);
	ck_assert_int_eq(write(p.cfd, plain, strlen(plain)),
			 (ssize_t)strlen(plain));
	do {
		ck_assert_int_eq(read(p.sfd, &c, 1), 1);
	} while (c != '\n');
	p.server = tls_conn_starttls(ctx, p.sfd, "", 0, &discarded);
	ck_assert_uint_eq(discarded, 0);
	pair_handshake(&p);
	ck_assert_int_eq(p.sret, -1);
	ck_assert_ptr_nonnull(strstr(tls_conn_error(p.server),
				     "SSL_accept() failed: error:"));
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_release_buffers)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	struct pair p;
	char buf[64];

	pair_init(&p, ctx, NULL);
	pair_handshake_ok(&p);
	client_write(&p, "a NOOP\r\n");
	server_expect(&p, "a NOOP\r\n");
	server_write(&p, "a OK\r\n");
	/* idle: nothing buffered, so the buffers go */
	ck_assert(tls_conn_release_buffers(p.server));
	ck_assert(!tls_conn_pending(p.server));
	ck_assert_int_eq(tls_conn_read(p.server, buf, sizeof(buf)), 0);
	ck_assert(tls_conn_release_buffers(p.server));
	/* and the connection works on */
	client_write(&p, "b IDLE\r\n");
	server_expect(&p, "b IDLE\r\n");
	ck_assert(tls_conn_release_buffers(p.server));
	server_write(&p, "+ idling\r\n");
	ck_assert_uint_eq(client_read(&p, buf, 16), 16);
	ck_assert_int_eq(memcmp(buf, "a OK\r\n+ idling\r\n", 16), 0);
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_pending)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	struct pair p;
	char buf[4];

	/* a small read leaves decrypted bytes that no socket event will
	   announce */
	pair_init(&p, ctx, NULL);
	pair_handshake_ok(&p);
	client_write(&p, "0123456789");
	ck_assert_int_eq(tls_conn_read(p.server, buf, 4), 4);
	ck_assert(tls_conn_pending(p.server));
	ck_assert_int_eq(tls_conn_read(p.server, buf, 4), 4);
	ck_assert_int_eq(tls_conn_read(p.server, buf, 4), 2);
	ck_assert(!tls_conn_pending(p.server));
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

/* ---- client certificates ---- */

static struct tls_ctx *verify_ctx(bool with_crl, const char *field)
{
	struct tls_settings set = server_set();
	char *ca = i_strdup_printf("%s%s", pki.ca_pem,
				   with_crl ? pki.crl_pem : "");
	struct tls_ctx *ctx;

	set.verify_client_cert = true;
	set.ca = ca;
	set.cert_username_field = field;
	ctx = server_ctx(&set);
	free(ca);
	return ctx;
}

static struct pair *client_cert_pair(struct tls_ctx *ctx, X509 *cert,
				     EVP_PKEY *key)
{
	static struct pair p;
	struct client_opts o = { .cert = cert, .key = key };

	pair_init(&p, ctx, &o);
	/* an invalid certificate doesn't stop the handshake */
	pair_handshake_ok(&p);
	return &p;
}

START_TEST(test_client_cert_valid)
{
	struct tls_ctx *ctx = verify_ctx(true, NULL);
	struct pair *p = client_cert_pair(ctx, pki.alice, pki.alice_key);
	char *subject, *user;

	ck_assert(tls_conn_has_peer_cert(p->server));
	ck_assert(tls_conn_peer_cert_valid(p->server));
	user = tls_conn_get_peer_username(p->server);
	ck_assert_str_eq(user, "alice");
	subject = tls_conn_get_peer_subject(p->server);
	ck_assert_str_eq(subject, "CN=alice,O=Roost Test");
	free(user);
	free(subject);
	pair_free(p);
	tls_ctx_free(&ctx);

	/* ssl_cert_username_field picks another field */
	ctx = verify_ctx(true, "organizationName");
	p = client_cert_pair(ctx, pki.alice, pki.alice_key);
	user = tls_conn_get_peer_username(p->server);
	ck_assert_str_eq(user, "Roost Test");
	free(user);
	pair_free(p);
	tls_ctx_free(&ctx);
	/* a field the certificate lacks, or that doesn't exist */
	ctx = verify_ctx(true, "emailAddress");
	p = client_cert_pair(ctx, pki.alice, pki.alice_key);
	ck_assert_ptr_null(tls_conn_get_peer_username(p->server));
	pair_free(p);
	tls_ctx_free(&ctx);
	ctx = verify_ctx(true, "noSuchField");
	p = client_cert_pair(ctx, pki.alice, pki.alice_key);
	ck_assert_ptr_null(tls_conn_get_peer_username(p->server));
	pair_free(p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_client_cert_invalid)
{
	struct tls_ctx *ctx = verify_ctx(true, NULL);
	struct pair *p;

	/* self-signed, not from ssl_ca */
	p = client_cert_pair(ctx, pki.mallory, pki.mallory_key);
	ck_assert(tls_conn_has_peer_cert(p->server));
	ck_assert(!tls_conn_peer_cert_valid(p->server));
	ck_assert_ptr_null(tls_conn_get_peer_username(p->server));
	pair_free(p);
	/* none at all */
	p = client_cert_pair(ctx, NULL, NULL);
	ck_assert(!tls_conn_has_peer_cert(p->server));
	ck_assert(!tls_conn_peer_cert_valid(p->server));
	ck_assert_ptr_null(tls_conn_get_peer_subject(p->server));
	pair_free(p);
	/* a CN with a NUL inside is no user name */
	p = client_cert_pair(ctx, pki.nul_cn, pki.alice_key);
	ck_assert(tls_conn_peer_cert_valid(p->server));
	ck_assert_ptr_null(tls_conn_get_peer_username(p->server));
	pair_free(p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_client_cert_require_crl)
{
	/* ssl_require_crl = yes (the default) and no CRL in ssl_ca: every
	   certificate is invalid, as Dovecot says "client sent an invalid
	   cert" then */
	struct tls_ctx *ctx = verify_ctx(false, NULL);
	struct tls_settings set = server_set();
	struct pair *p = client_cert_pair(ctx, pki.alice, pki.alice_key);

	ck_assert(!tls_conn_peer_cert_valid(p->server));
	pair_free(p);
	tls_ctx_free(&ctx);

	set.verify_client_cert = true;
	set.ca = pki.ca_pem;
	set.require_crl = false;
	ctx = server_ctx(&set);
	p = client_cert_pair(ctx, pki.alice, pki.alice_key);
	ck_assert(tls_conn_peer_cert_valid(p->server));
	pair_free(p);
	tls_ctx_free(&ctx);
}
END_TEST

/* ---- channel binding ---- */

static void assert_cb_eq(struct pair *p, const char *type,
			 const unsigned char *expect, size_t expect_len)
{
	const char *error = NULL;
	size_t len = 0;
	unsigned char *cb = tls_conn_get_channel_binding(p->server, type,
							 &len, &error);

	ck_assert_msg(cb != NULL, "%s: %s", type, error);
	ck_assert_uint_eq(len, expect_len);
	ck_assert_int_eq(memcmp(cb, expect, len), 0);
	free(cb);
}

static void assert_exporter(struct pair *p)
{
	unsigned char expect[32];

	ck_assert_int_eq(SSL_export_keying_material(p->client, expect, 32,
		"EXPORTER-Channel-Binding", 24, NULL, 0, 0), 1);
	assert_cb_eq(p, "tls-exporter", expect, 32);
}

START_TEST(test_channel_binding_tls13)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	const char *error = NULL;
	size_t len;
	struct pair p;

	pair_init(&p, ctx, NULL);
	ck_assert_ptr_null(tls_conn_get_channel_binding(p.server,
		"tls-exporter", &len, &error));
	ck_assert_str_eq(error, "TLS handshake not finished");
	pair_handshake_ok(&p);
	assert_exporter(&p);
	ck_assert_ptr_null(tls_conn_get_channel_binding(p.server,
		"tls-unique", &len, &error));
	ck_assert_str_eq(error, "tls-unique is not defined for TLSv1.3");
	ck_assert_ptr_null(tls_conn_get_channel_binding(p.server,
		"tls-server-end-point", &len, &error));
	ck_assert_str_eq(error, "Unknown channel binding type "
			 "'tls-server-end-point'");
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_channel_binding_tls12)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	struct client_opts o = { .max_version = TLS1_2_VERSION };
	unsigned char fin[EVP_MAX_MD_SIZE];
	size_t fin_len;
	SSL_SESSION *sess;
	struct pair p;

	/* full handshake: tls-unique is the client's Finished */
	pair_init(&p, ctx, &o);
	pair_handshake_ok(&p);
	fin_len = SSL_get_finished(p.client, fin, sizeof(fin));
	ck_assert_uint_eq(fin_len, 12);
	assert_cb_eq(&p, "tls-unique", fin, fin_len);
	/* extended master secret is on by default: exporter allowed */
	assert_exporter(&p);
	sess = SSL_get1_session(p.client);
	pair_free(&p);

	/* resumed: the server's Finished comes first */
	o.session = sess;
	pair_init(&p, ctx, &o);
	pair_handshake_ok(&p);
	ck_assert(tls_conn_session_reused(p.server));
	fin_len = SSL_get_peer_finished(p.client, fin, sizeof(fin));
	assert_cb_eq(&p, "tls-unique", fin, fin_len);
	pair_free(&p);
	SSL_SESSION_free(sess);
	tls_ctx_free(&ctx);
}
END_TEST

/* ---- settings ---- */

START_TEST(test_settings_errors)
{
	struct tls_settings set;

	set = server_set();
	set.min_protocol = "TLSv9";
	ck_assert_str_eq(server_ctx_error(&set),
			 "Unknown ssl_min_protocol setting 'TLSv9'");
	set = server_set();
	set.cipher_list = "BOGUS";
	ck_assert_str_eq(server_ctx_error(&set),
			 "Can't set cipher list to 'BOGUS' (ssl_cipher_list "
			 "setting): error:0A0000B9:SSL routines::no cipher "
			 "match");
	set = server_set();
	set.cipher_suites = "BOGUS";
	ck_assert_str_eq(server_ctx_error(&set),
			 "Can't set ciphersuites to 'BOGUS': error:0A0000B9:"
			 "SSL routines::no cipher match");
	set = server_set();
	set.curve_list = "BOGUS";
	ck_assert_str_eq(server_ctx_error(&set),
			 "Can't set curve list to 'BOGUS' (ssl_curve_list "
			 "setting)");
	set = server_set();
	set.dh = pki.srv_pem;
	ck_assert_str_eq(server_ctx_error(&set),
			 "Couldn't parse DH parameters: error:0480006C:PEM "
			 "routines::no start line: Expecting: DH PARAMETERS");
	set = server_set();
	set.options = "no_ticket bogus";
	ck_assert_str_eq(server_ctx_error(&set),
			 "ssl_options: unknown flag: 'bogus'");
	set = server_set();
	set.cert = NULL;
	ck_assert_str_eq(server_ctx_error(&set),
			 "ssl enabled, but ssl_cert not set");
	set = server_set();
	set.cert = "garbage\n";
	ck_assert_str_eq(server_ctx_error(&set),
			 "Can't load SSL certificate (ssl_cert setting): "
			 "There is no valid PEM certificate.");
	set = server_set();
	set.key = "garbage\n";
	ck_assert_str_eq(server_ctx_error(&set),
			 "Couldn't parse private SSL key (ssl_key setting) "
			 "(maybe ssl_key_password is wrong?): error:1E08010C:"
			 "DECODER routines::unsupported: No supported data to "
			 "decode. Input type: PEM");
	set = server_set();
	set.key = pki.other_key_pem;
	ck_assert_str_eq(server_ctx_error(&set),
			 "Can't load SSL private key (ssl_key setting): Key "
			 "is for a different cert than ssl_cert");
	set = server_set();
	set.verify_client_cert = true;
	ck_assert_str_eq(server_ctx_error(&set),
			 "ssl_verify_client_cert set, but ssl_ca not");
}
END_TEST

START_TEST(test_key_password)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx;
	const char *error;

	/* OpenSSL's own text after the prefix depends on the bytes a wrong
	   key decrypts to: mostly "bad decrypt", but about one time in 256
	   the CBC padding looks right and the ASN.1 decoder fails instead */
	set.key = pki.srv_key_enc_pem;
	error = server_ctx_error(&set);
	ck_assert_msg(str_begins(error, "Couldn't parse private SSL key "
				 "(ssl_key setting) (maybe ssl_key_password is "
				 "wrong?): error:", NULL), "%s", error);
	ck_assert_msg(strstr(error, "bad decrypt") != NULL ||
		      strstr(error, "asn1") != NULL, "%s", error);
	set.key_password = "wrong";
	error = server_ctx_error(&set);
	ck_assert_msg(str_begins(error, "Couldn't parse private SSL key "
				 "(ssl_key setting) (maybe ssl_key_password is "
				 "wrong?): error:", NULL), "%s", error);
	set.key_password = "secret";
	ctx = server_ctx(&set);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_min_protocol)
{
	static const char *const names[] = {
		"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "ANY",
		"LATEST"
	};
	struct tls_settings set = server_set();
	struct client_opts o12 = { .max_version = TLS1_2_VERSION };
	struct tls_ctx *ctx;
	struct pair p;

	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		set.min_protocol = names[i];
		ctx = server_ctx(&set);
		pair_init(&p, ctx, &o12);
		pair_handshake(&p);
		/* TLSv1.2 clients are refused only from TLSv1.3 up */
		ck_assert_int_eq(p.sret, i == 4 || i == 6 ? -1 : 1);
		if (p.sret < 0) {
			ck_assert_str_eq(tls_conn_error(p.server),
				"SSL_accept() failed: error:0A000102:SSL "
				"routines::unsupported protocol");
		}
		pair_free(&p);
		tls_ctx_free(&ctx);
	}
}
END_TEST

START_TEST(test_cipher_settings)
{
	struct tls_settings set = server_set();
	struct client_opts o = {
		.max_version = TLS1_2_VERSION,
		.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384:"
			"ECDHE-ECDSA-AES128-GCM-SHA256",
	};
	struct tls_ctx *ctx;
	struct pair p;

	set.cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:"
		"ECDHE-ECDSA-AES256-GCM-SHA384";
	ctx = server_ctx(&set);
	pair_init(&p, ctx, &o);
	pair_handshake_ok(&p);
	ck_assert_str_eq(tls_conn_get_cipher(p.server),
			 "ECDHE-ECDSA-AES256-GCM-SHA384");
	pair_free(&p);
	tls_ctx_free(&ctx);

	set.prefer_server_ciphers = true;
	ctx = server_ctx(&set);
	pair_init(&p, ctx, &o);
	pair_handshake_ok(&p);
	ck_assert_str_eq(tls_conn_get_cipher(p.server),
			 "ECDHE-ECDSA-AES128-GCM-SHA256");
	pair_free(&p);
	tls_ctx_free(&ctx);

	set = server_set();
	set.cipher_suites = "TLS_CHACHA20_POLY1305_SHA256";
	set.curve_list = "P-384";
	ctx = server_ctx(&set);
	pair_init(&p, ctx, NULL);
	pair_handshake_ok(&p);
	ck_assert_str_eq(tls_conn_get_cipher(p.server),
			 "TLS_CHACHA20_POLY1305_SHA256");
	ck_assert_int_eq(SSL_get_negotiated_group(p.client),
			 NID_secp384r1);
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_dh_and_alt_cert)
{
	/* ECDSA cert with an RSA alternative, DH params for DHE */
	struct tls_settings set = server_set();
	struct client_opts dhe = {
		.max_version = TLS1_2_VERSION,
		.ciphers = "DHE-RSA-AES256-GCM-SHA384",
	};
	struct client_opts ecdsa = {
		.max_version = TLS1_2_VERSION,
		.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256",
	};
	struct tls_ctx *ctx;
	struct pair p;

	set.alt_cert = pki.rsa_pem;
	set.alt_key = pki.rsa_key_pem;
	ctx = server_ctx(&set);
	/* without ssl_dh there is no DHE */
	pair_init(&p, ctx, &dhe);
	pair_handshake(&p);
	ck_assert_int_eq(p.sret, -1);
	pair_free(&p);
	tls_ctx_free(&ctx);

	set.dh = pki.dh_pem;
	ctx = server_ctx(&set);
	pair_init(&p, ctx, &dhe);
	pair_handshake_ok(&p);
	ck_assert_str_eq(tls_conn_get_cipher(p.server),
			 "DHE-RSA-AES256-GCM-SHA384");
	ck_assert_int_eq(EVP_PKEY_get_base_id(X509_get0_pubkey(
		SSL_get0_peer_certificate(p.client))), EVP_PKEY_RSA);
	pair_free(&p);
	pair_init(&p, ctx, &ecdsa);
	pair_handshake_ok(&p);
	ck_assert_int_eq(EVP_PKEY_get_base_id(X509_get0_pubkey(
		SSL_get0_peer_certificate(p.client))), EVP_PKEY_EC);
	pair_free(&p);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_compression_option)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx;

	set.options = "compression";
	ctx = server_ctx(&set);
	tls_ctx_free(&ctx);
	set.options = "no_compression, no_ticket";
	ctx = server_ctx(&set);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_sni_add_errors)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set), *other = server_ctx(&set);
	const char *error = NULL;

	ck_assert_int_eq(tls_ctx_add_sni(ctx, "good.example *bad.example",
					 other, &error), -1);
	ck_assert_str_eq(error, "Invalid local_name '*bad.example'");
	ck_assert_int_eq(tls_ctx_add_sni(ctx, "a.*.example", other, &error),
			 -1);
	ck_assert_int_eq(tls_ctx_add_sni(ctx, "  ", other, &error), -1);
	ck_assert_str_eq(error, "Empty local_name");
	/* on error other is still ours */
	tls_ctx_free(&other);
	tls_ctx_free(&ctx);
}
END_TEST

/* ---- client contexts ---- */

START_TEST(test_client_ctx_verify)
{
	struct tls_settings sset = server_set(), cset;
	struct tls_ctx *sctx = server_ctx(&sset), *cctx = NULL;
	const char *error = NULL;
	struct tls_conn *server, *client;
	int sv[2], sret, cret;

	memset(&cset, 0, sizeof(cset));
	cset.client_ca_file = pki.ca_file;
	ck_assert_int_eq(tls_ctx_create_client(&cset, true, &cctx, &error), 0);
	for (int round = 0; round < 3; round++) {
		static const char *const names[] = {
			"mail.example.org", "wrong.example.org", NULL
		};
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		server = tls_conn_create(sctx, sv[0]);
		client = tls_conn_create_client(cctx, sv[1], names[round]);
		sret = cret = 0;
		for (int i = 0; i < 100 && (sret == 0 || cret == 0); i++) {
			if (cret == 0)
				cret = tls_conn_handshake(client);
			if (sret == 0)
				sret = tls_conn_handshake(server);
		}
		if (round == 1) {
			ck_assert_int_eq(cret, -1);
			ck_assert_ptr_nonnull(strstr(tls_conn_error(client),
				"SSL_connect() failed: error:0A000086:SSL "
				"routines::certificate verify failed"));
		} else {
			ck_assert_msg(cret == 1, "%s", tls_conn_error(client));
			ck_assert_int_eq(sret, 1);
			ck_assert_int_eq(tls_conn_write(client, "x", 1), 1);
		}
		tls_conn_free(&server);
		tls_conn_free(&client);
		close(sv[0]);
		close(sv[1]);
	}
	tls_ctx_free(&cctx);

	/* an unknown CA file */
	cset.client_ca_file = "/nonexistent/ca.pem";
	ck_assert_int_eq(tls_ctx_create_client(&cset, true, &cctx, &error),
			 -1);
	ck_assert_ptr_nonnull(strstr(error, "Can't load CA certs"));
	tls_ctx_free(&sctx);
}
END_TEST

/* ---- on the loop ---- */

static struct ioloop *loop;

struct hs_state {
	bool called, success;
	char *error;
};

static void hs_callback(struct tls_conn *conn, bool success, void *context)
{
	struct hs_state *st = context;

	st->called = true;
	st->success = success;
	if (!success)
		st->error = i_strdup(tls_conn_error(conn));
	io_loop_stop(loop);
}

static void loop_timeout(void *context ATTR_UNUSED)
{
	io_loop_stop(loop);
}

static void run_loop(unsigned int msecs)
{
	struct timeout *to = timeout_add(loop, msecs, loop_timeout, NULL);

	io_loop_run(loop);
	timeout_remove(&to);
}

START_TEST(test_handshake_on_loop)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	struct hs_state st;
	struct pair p;

	loop = io_loop_create();
	memset(&st, 0, sizeof(st));
	pair_init(&p, ctx, NULL);
	tls_conn_handshake_start(p.server, loop, hs_callback, &st);
	/* not from inside the call */
	ck_assert(!st.called);
	for (int i = 0; i < 100 && !st.called; i++) {
		if (p.cret == 0)
			p.cret = client_step(p.client);
		run_loop(5);
	}
	ck_assert(st.called && st.success);
	pair_free(&p);

	/* a plaintext client on the TLS port */
	memset(&st, 0, sizeof(st));
	pair_init(&p, ctx, NULL);
	ck_assert_int_eq(write(p.cfd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	tls_conn_handshake_start(p.server, loop, hs_callback, &st);
	for (int i = 0; i < 100 && !st.called; i++)
		run_loop(5);
	ck_assert(st.called && !st.success);
	ck_assert_str_eq(st.error, "SSL_accept() failed: error:0A00009C:SSL "
			 "routines::http request");
	free(st.error);
	pair_free(&p);

	/* a client that goes away mid-handshake */
	memset(&st, 0, sizeof(st));
	pair_init(&p, ctx, NULL);
	close(p.cfd);
	p.cfd = -1;
	tls_conn_handshake_start(p.server, loop, hs_callback, &st);
	for (int i = 0; i < 100 && !st.called; i++)
		run_loop(5);
	ck_assert(st.called && !st.success);
	ck_assert_str_eq(st.error, "Connection closed");
	free(st.error);
	pair_free(&p);
	tls_ctx_free(&ctx);
	io_loop_destroy(&loop);
}
END_TEST

START_TEST(test_input_before_tls)
{
	/* a PROXY header and the ClientHello arrive in one read: the rest
	   after the header is handed to the TLS connection */
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	struct haproxy_parser *hp = haproxy_parser_create();
	const char *hdr = "PROXY TCP4 192.0.2.1 192.0.2.2 40000 993\r\n";
	struct hs_state st;
	char buf[4096];
	size_t consumed;
	struct pair p;
	ssize_t n;

	loop = io_loop_create();
	memset(&st, 0, sizeof(st));
	pair_init(&p, NULL, NULL);
	ck_assert_int_eq(write(p.cfd, hdr, strlen(hdr)), (ssize_t)strlen(hdr));
	ck_assert_int_eq(client_step(p.client), 0);	/* ClientHello out */
	n = read(p.sfd, buf, sizeof(buf));
	ck_assert_int_gt(n, (ssize_t)strlen(hdr));
	ck_assert_int_eq(haproxy_parser_feed(hp, buf, (size_t)n, &consumed),
			 HAPROXY_DONE);
	ck_assert_uint_eq(consumed, strlen(hdr));
	p.server = tls_conn_create_with_input(ctx, p.sfd, buf + consumed,
					      (size_t)n - consumed);
	ck_assert(tls_conn_pending(p.server));
	tls_conn_handshake_start(p.server, loop, hs_callback, &st);
	for (int i = 0; i < 100 && !st.called; i++) {
		if (p.cret == 0)
			p.cret = client_step(p.client);
		run_loop(5);
	}
	ck_assert(st.called && st.success);
	haproxy_parser_free(&hp);
	pair_free(&p);
	tls_ctx_free(&ctx);
	io_loop_destroy(&loop);
}
END_TEST

/* ---- the proxy pump ---- */

struct proxy_test {
	struct pair p;
	int worker;			/* the mail worker's end */
	struct tls_proxy *proxy;
	bool finished, free_in_callback;
	char *reason;
};

static struct proxy_test pt;

static void proxy_callback(struct tls_proxy *proxy, const char *reason,
			   void *context)
{
	struct proxy_test *t = context;

	ck_assert_ptr_eq(proxy, t->proxy);
	ck_assert(!t->finished);
	t->finished = true;
	t->reason = i_strdup(reason);
	if (t->free_in_callback)
		tls_proxy_free(&t->proxy);
}

static void hs_never(struct tls_conn *conn ATTR_UNUSED,
		     bool success ATTR_UNUSED, void *context ATTR_UNUSED)
{
	ck_abort_msg("handshake callback after the pump took over");
}

/* handshake: 0 = the pump does it, 1 = done before, 2 = running from
   tls_conn_handshake_start() when the pump takes over */
static void proxy_setup(size_t bufsize, int handshake)
{
	struct tls_settings set = server_set();
	struct tls_ctx *ctx = server_ctx(&set);
	int sv[2];

	loop = io_loop_create();
	memset(&pt, 0, sizeof(pt));
	pair_init(&pt.p, ctx, NULL);
	tls_ctx_free(&ctx);
	if (handshake == 1)
		pair_handshake_ok(&pt.p);
	else if (handshake == 2)
		tls_conn_handshake_start(pt.p.server, loop, hs_never, NULL);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	pt.worker = sv[1];
	set_nonblock(pt.worker);
	pt.proxy = tls_proxy_create(loop, pt.p.server, sv[0], bufsize,
				    proxy_callback, &pt);
	ck_assert_ptr_eq(tls_proxy_get_conn(pt.proxy), pt.p.server);
	/* the proxy owns the server conn and its fd now */
	pt.p.server = NULL;
	pt.p.sfd = -1;
}

static void proxy_teardown(void)
{
	tls_proxy_free(&pt.proxy);
	pair_free(&pt.p);
	if (pt.worker >= 0)
		close(pt.worker);
	free(pt.reason);
	io_loop_destroy(&loop);
}

/* Let the loop and the client run a little. */
static void proxy_step(void)
{
	if (pt.p.cret == 0)
		pt.p.cret = client_step(pt.p.client);
	run_loop(2);
}

static void worker_expect(const char *expect)
{
	char buf[256];
	size_t total = 0;

	for (int i = 0; i < 200 && total < strlen(expect); i++) {
		ssize_t n = read(pt.worker, buf + total,
				 sizeof(buf) - 1 - total);

		if (n > 0)
			total += (size_t)n;
		else
			proxy_step();
	}
	buf[total] = '\0';
	ck_assert_str_eq(buf, expect);
}

static void client_expect(const char *expect)
{
	char buf[256];
	size_t total = 0;

	for (int i = 0; i < 200 && total < strlen(expect); i++) {
		total += client_read(&pt.p, buf + total,
				     strlen(expect) - total);
		if (total < strlen(expect))
			proxy_step();
	}
	buf[total] = '\0';
	ck_assert_str_eq(buf, expect);
}

static void wait_finished(void)
{
	for (int i = 0; i < 300 && !pt.finished; i++)
		proxy_step();
	ck_assert(pt.finished);
}

START_TEST(test_proxy_echo)
{
	/* the pump drives the handshake too, also one already started */
	proxy_setup(0, _i);
	for (int i = 0; i < 100 && pt.p.cret != 1; i++)
		proxy_step();
	ck_assert_int_eq(pt.p.cret, 1);
	client_write(&pt.p, "a LOGIN alice pw\r\n");
	worker_expect("a LOGIN alice pw\r\n");
	ck_assert_int_eq(write(pt.worker, "a OK Logged in\r\n", 16), 16);
	client_expect("a OK Logged in\r\n");
	ck_assert(!pt.finished);
	proxy_teardown();
}
END_TEST

START_TEST(test_proxy_server_logout)
{
	char buf[16];
	size_t n;

	proxy_setup(0, 1);
	pt.free_in_callback = true;
	client_write(&pt.p, "a LOGOUT\r\n");
	worker_expect("a LOGOUT\r\n");
	/* the mail worker answers and closes its end */
	ck_assert_int_eq(write(pt.worker, "* BYE\r\na OK\r\n", 13), 13);
	close(pt.worker);
	pt.worker = -1;
	wait_finished();
	ck_assert_str_eq(pt.reason, "Disconnected by server");
	ck_assert_ptr_null(pt.proxy);
	/* everything arrived before the close_notify */
	client_expect("* BYE\r\na OK\r\n");
	ck_assert_int_eq(SSL_read_ex(pt.p.client, buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(SSL_get_error(pt.p.client, 0), SSL_ERROR_ZERO_RETURN);
	proxy_teardown();
}
END_TEST

START_TEST(test_proxy_client_close)
{
	char buf[16];

	proxy_setup(0, 1);
	client_write(&pt.p, "a NOOP\r\n");
	ck_assert_int_eq(SSL_shutdown(pt.p.client), 0);
	worker_expect("a NOOP\r\n");
	/* the worker sees EOF after the data */
	for (int i = 0; i < 100; i++) {
		ssize_t n = read(pt.worker, buf, sizeof(buf));

		if (n == 0)
			break;
		ck_assert_int_lt(n, 0);
		proxy_step();
	}
	ck_assert_int_eq(read(pt.worker, buf, sizeof(buf)), 0);
	ck_assert(!pt.finished);
	close(pt.worker);
	pt.worker = -1;
	wait_finished();
	ck_assert_str_eq(pt.reason, "Connection closed");
	proxy_teardown();
}
END_TEST

START_TEST(test_proxy_client_vanishes)
{
	char buf[16];

	/* TCP close without close_notify */
	proxy_setup(0, 1);
	close(pt.p.cfd);
	pt.p.cfd = -1;
	for (int i = 0; i < 100; i++) {
		if (read(pt.worker, buf, sizeof(buf)) == 0)
			break;
		proxy_step();
	}
	ck_assert_int_eq(read(pt.worker, buf, sizeof(buf)), 0);
	close(pt.worker);
	pt.worker = -1;
	wait_finished();
	ck_assert_str_eq(pt.reason, "Connection closed");
	proxy_teardown();
}
END_TEST

START_TEST(test_proxy_tls_error)
{
	/* garbage in the TLS stream ends the session with the TLS error */
	proxy_setup(0, 1);
	ck_assert_int_eq(write(pt.p.cfd, "\x17\x03\x03\x00\x05hello", 10), 10);
	wait_finished();
	ck_assert_ptr_nonnull(strstr(pt.reason, "SSL_read() failed: "));
	proxy_teardown();
}
END_TEST

#define BIG_SIZE (3 * 1024 * 1024)

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 31 + i / 251) & 0xff);
}

static void fill_pattern(unsigned char *buf, size_t len, size_t offset)
{
	for (size_t k = 0; k < len; k++)
		buf[k] = pattern(offset + k);
}

/* (one check per chunk: a ck_assert per byte costs a syscall each) */
static void assert_pattern(const unsigned char *buf, size_t len,
			   size_t offset)
{
	size_t k;

	for (k = 0; k < len && buf[k] == pattern(offset + k); k++)
		;
	ck_assert_msg(k == len, "byte %zu differs", offset + k);
}

START_TEST(test_proxy_big_download)
{
	static unsigned char buf[65536];
	size_t sent = 0, got = 0;

	/* a 3 MB FETCH through a 4 KB pump, integrity checked */
	proxy_setup(4096, 1);
	for (int i = 0; i < 100000 && got < BIG_SIZE; i++) {
		size_t n = 0;

		while (sent < BIG_SIZE) {
			size_t len = MIN(sizeof(buf), BIG_SIZE - sent);
			ssize_t w;

			fill_pattern(buf, len, sent);
			w = write(pt.worker, buf, len);
			if (w <= 0)
				break;
			sent += (size_t)w;
		}
		while (SSL_read_ex(pt.p.client, buf, sizeof(buf), &n) == 1) {
			assert_pattern(buf, n, got);
			got += n;
		}
		ERR_clear_error();
		run_loop(1);
	}
	ck_assert_uint_eq(got, BIG_SIZE);
	ck_assert(!pt.finished);
	proxy_teardown();
}
END_TEST

START_TEST(test_proxy_backpressure)
{
	static unsigned char buf[65536];
	size_t written = 0, last = 0, got = 0;
	int stable = 0;

	/* The mail worker doesn't read: the pump stops reading TLS, the
	   client's writes stall; nothing piles up in the pump. */
	proxy_setup(4096, 1);
	for (int i = 0; i < 400 && stable < 20; i++) {
		size_t n = 0;

		fill_pattern(buf, sizeof(buf), written);
		while (SSL_write_ex(pt.p.client, buf, sizeof(buf), &n) == 1) {
			written += n;
			fill_pattern(buf, sizeof(buf), written);
		}
		ERR_clear_error();
		run_loop(1);
		stable = written == last ? stable + 1 : 0;
		last = written;
	}
	ck_assert_int_ge(stable, 20);
	/* socket buffers and the 4 KB pump buffer, not megabytes */
	ck_assert_uint_lt(written, 4 * 1024 * 1024);
	/* now the worker reads all of it, intact */
	for (int i = 0; i < 100000 && got < written; i++) {
		ssize_t n = read(pt.worker, buf, sizeof(buf));

		if (n > 0) {
			assert_pattern(buf, (size_t)n, got);
			got += (size_t)n;
		} else {
			run_loop(1);
		}
	}
	ck_assert_uint_eq(got, written);
	proxy_teardown();
}
END_TEST

Suite *make_tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_handshake_and_data);
	tcase_add_test(tc, test_sni);
	tcase_add_test(tc, test_sni_settings_apply);
	tcase_add_test(tc, test_resumption);
	tcase_add_test(tc, test_resumption_after_unclean_close);
	tcase_add_test(tc, test_resumption_shared_ticket_key);
	tcase_add_test(tc, test_starttls_injection_discarded);
	tcase_add_test(tc, test_starttls_unread_injection_fails);
	tcase_add_test(tc, test_release_buffers);
	tcase_add_test(tc, test_pending);
	tcase_add_test(tc, test_client_cert_valid);
	tcase_add_test(tc, test_client_cert_invalid);
	tcase_add_test(tc, test_client_cert_require_crl);
	tcase_add_test(tc, test_channel_binding_tls13);
	tcase_add_test(tc, test_channel_binding_tls12);
	tcase_add_test(tc, test_client_ctx_verify);
	tcase_add_test(tc, test_handshake_on_loop);
	tcase_add_test(tc, test_input_before_tls);
	suite_add_tcase(s, tc);

	tc = tcase_create("Settings");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_settings_errors);
	tcase_add_test(tc, test_key_password);
	tcase_add_test(tc, test_min_protocol);
	tcase_add_test(tc, test_cipher_settings);
	tcase_add_test(tc, test_dh_and_alt_cert);
	tcase_add_test(tc, test_compression_option);
	tcase_add_test(tc, test_sni_add_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("Proxy");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_proxy_echo, 0, 3);
	tcase_add_test(tc, test_proxy_server_logout);
	tcase_add_test(tc, test_proxy_client_close);
	tcase_add_test(tc, test_proxy_client_vanishes);
	tcase_add_test(tc, test_proxy_tls_error);
	tcase_add_test(tc, test_proxy_big_download);
	tcase_add_test(tc, test_proxy_backpressure);
	suite_add_tcase(s, tc);
	return s;
}

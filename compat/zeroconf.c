/* zeroconf.c - the built-in set-up used when no configuration file
 * exists (zeroconf.h). */
#include "lib.h"
#include "str.h"
#include "zeroconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#ifndef ROOST_STATE_DIR
#  define ROOST_STATE_DIR "/var/lib/roost"
#endif
#define ZEROCONF_CERT "ssl-cert.pem"
#define ZEROCONF_KEY "ssl-key.pem"
#define MTA_ENV "ROOST_ZEROCONF_MTA"
#define MTA_TIMEOUT_MSECS 2000

enum mta_state { MTA_UNKNOWN, MTA_NONE, MTA_FOUND };
static enum mta_state mta_state = MTA_UNKNOWN;

const char *zeroconf_state_dir(void)
{
	const char *dir = getenv("ROOST_STATE_DIR");

	return dir != NULL && dir[0] != '\0' ? dir : ROOST_STATE_DIR;
}

/* The submission hook: the settings that start the submission service,
 * relaying to the MTA on localhost port 25. This build has no submission
 * service yet (issue 10, daemon/submission): once it has, building with
 * -DROOST_HAVE_SUBMISSION turns it on. */
static const char *zeroconf_submission_settings(void)
{
#ifdef ROOST_HAVE_SUBMISSION
	return "protocols = $protocols submission\n"
		"submission_relay_host = 127.0.0.1\n"
		"submission_relay_port = 25\n";
#else
	return NULL;
#endif
}

/* Wait for fd to be ready for events; false on timeout or error. */
static bool fd_wait(int fd, short events, int *msecs_left)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	struct timespec t0, t1;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ret = poll(&pfd, 1, *msecs_left);
	} while (ret < 0 && errno == EINTR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*msecs_left -= (int)((t1.tv_sec - t0.tv_sec) * 1000 +
			     (t1.tv_nsec - t0.tv_nsec) / 1000000);
	if (*msecs_left < 0)
		*msecs_left = 0;
	return ret > 0;
}

/* Does an SMTP server greet ("220") on 127.0.0.1 port 25? */
static bool mta_probe(void)
{
	struct sockaddr_in sin;
	char buf[512];
	size_t got = 0;
	int msecs = MTA_TIMEOUT_MSECS, err = 0, fd;
	socklen_t len = sizeof(err);
	bool found = false;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (errno != EINPROGRESS || !fd_wait(fd, POLLOUT, &msecs) ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		    err != 0) {
			close(fd);
			return false;
		}
	}
	/* the greeting line, possibly multi-line ("220-"): the first
	   three bytes are enough */
	while (got < 3 && fd_wait(fd, POLLIN, &msecs)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got >= 3 && memcmp(buf, "220", 3) == 0) {
		found = true;
		(void)!write(fd, "QUIT\r\n", 6);
	}
	close(fd);
	return found;
}

static enum mta_state mta_get(void)
{
	const char *env;

	if (mta_state != MTA_UNKNOWN)
		return mta_state;
	env = getenv(MTA_ENV);
	if (env != NULL && strcmp(env, "yes") == 0)
		mta_state = MTA_FOUND;
	else if (env != NULL && strcmp(env, "no") == 0)
		mta_state = MTA_NONE;
	else
		mta_state = mta_probe() ? MTA_FOUND : MTA_NONE;
	return mta_state;
}

static bool submission_enabled(void)
{
	return mta_get() == MTA_FOUND && zeroconf_submission_settings() != NULL;
}

const char *zeroconf_config_text(void)
{
	static char *text = NULL;
	const char *dir = zeroconf_state_dir();
	string_t *str;

	if (text != NULL)
		return text;
	str = str_new(1024);
	str_append(str,
		"protocols = imap pop3\n"
		"mail_privileged_group = mail\n"
		"namespace inbox {\n"
		"  inbox = yes\n"
		"  mailbox Drafts {\n    special_use = \\Drafts\n  }\n"
		"  mailbox Junk {\n    special_use = \\Junk\n  }\n"
		"  mailbox Trash {\n    special_use = \\Trash\n  }\n"
		"  mailbox Sent {\n    special_use = \\Sent\n  }\n"
		"  mailbox \"Sent Messages\" {\n    special_use = \\Sent\n  }\n"
		"}\n"
		"passdb {\n  driver = pam\n}\n"
		"userdb {\n  driver = passwd\n}\n");
	str_printfa(str, "ssl_cert = <%s/%s\n", dir, ZEROCONF_CERT);
	str_printfa(str, "ssl_key = <%s/%s\n", dir, ZEROCONF_KEY);
	if (submission_enabled())
		str_append(str, zeroconf_submission_settings());
	text = i_strdup(str_c(str));
	str_free(&str);
	return text;
}

static const char *submission_reason(void)
{
	if (mta_get() == MTA_NONE)
		return "no MTA on port 25: submission disabled";
	if (zeroconf_submission_settings() == NULL)
		return "an MTA answers on port 25, but this build has no "
			"submission service: submission disabled";
	return "an MTA answers on port 25: submission enabled, relaying "
		"to 127.0.0.1:25";
}

const char *zeroconf_describe(void)
{
	static char *text = NULL;

	if (text == NULL) {
		text = i_strdup_printf(
			"# zero-config: no configuration file found "
			"(roost(7), ZERO-CONFIG)\n"
			"# zero-config: mail_location per user: "
			"maildir:~/Maildir if ~/Maildir exists, else "
			"mbox:~/mail:INBOX=/var/mail/%%u\n"
			"# zero-config: %s\n", submission_reason());
	}
	return text;
}

static int write_pem(const char *path, mode_t mode, EVP_PKEY *pkey, X509 *x,
		     const char **error_r)
{
	char *tmp = i_strdup_printf("%s.tmp", path);
	FILE *f;
	int fd, ok;

	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		*error_r = i_strdup_printf("open(%s) failed: %s", tmp,
					   strerror(errno));
		if (fd >= 0)
			close(fd);
		i_free(tmp);
		return -1;
	}
	ok = pkey != NULL ?
		PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) :
		PEM_write_X509(f, x);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		*error_r = i_strdup_printf("writing %s failed: %s", path,
					   strerror(errno));
		(void)unlink(tmp);
		i_free(tmp);
		return -1;
	}
	i_free(tmp);
	return 0;
}

/* A self-signed RSA-2048 certificate for host, valid ten years. */
static int make_certificate(const char *cert_path, const char *key_path,
			    const char *host, const char **error_r)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char *san = i_strdup_printf("DNS:%s", host);
	int ret = -1;

	*error_r = "OpenSSL failed to make the certificate";
	if (pkey == NULL || x == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;	/* a positive serial number */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_version(x, 2) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) == NULL ||
	    X509_set_pubkey(x, pkey) != 1)
		goto out;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)host, -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL)
		goto out;
	ret = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	if (ret < 0 || X509_sign(x, pkey, EVP_sha256()) == 0) {
		ret = -1;
		goto out;
	}
	/* the key first: a certificate is never left without it */
	ret = write_pem(key_path, 0600, pkey, NULL, error_r) < 0 ||
		write_pem(cert_path, 0644, NULL, x, error_r) < 0 ? -1 : 0;
out:
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pkey);
	i_free(san);
	return ret;
}

int zeroconf_master_prepare(const char **error_r)
{
	const char *dir = zeroconf_state_dir();
	char *cert = i_strdup_printf("%s/%s", dir, ZEROCONF_CERT);
	char *key = i_strdup_printf("%s/%s", dir, ZEROCONF_KEY);
	char host[256];
	struct stat st;
	int ret = 0;

	i_info("No configuration file found: running with the built-in "
	       "zero-config settings (imap, pop3, PAM, system users; "
	       "`doveconf -n` shows them, roost(7) explains)");
	i_info("zero-config: %s", submission_reason());
	if (setenv(MTA_ENV, mta_get() == MTA_FOUND ? "yes" : "no", 1) < 0)
		i_fatal("setenv() failed: %m");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*error_r = i_strdup_printf("zero-config: mkdir(%s) failed: %s "
			"(write a dovecot.conf, or set ROOST_STATE_DIR)",
			dir, strerror(errno));
		ret = -1;
	} else if (stat(cert, &st) < 0 || stat(key, &st) < 0) {
		if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		ret = make_certificate(cert, key, host, error_r);
		if (ret == 0) {
			i_info("zero-config: made a self-signed certificate "
			       "for %s: %s", host, cert);
		} else {
			*error_r = i_strdup_printf("zero-config: %s",
						   *error_r);
		}
	}
	i_free(cert);
	i_free(key);
	return ret;
}

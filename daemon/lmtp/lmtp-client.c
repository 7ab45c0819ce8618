/* lmtp-client.c - one LMTP session on the SMTP server state machine
 * (daemon/smtp), delivering each recipient in a child that becomes the
 * recipient's uid before it opens any mail. */
#include "lmtp-client.h"
#include "smtp-server.h"
#include "mail-deliver.h"
#include "quota.h"
#include "var-expand.h"
#include "base64.h"
#include "connection.h"
#include "tls.h"
#include "settings-structs.h"

#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LMTP_RESULT_MAX 1024
/* pending-delivery records older than this are ignored and removed */
#define LMTP_PENDING_MAX_AGE_SECS (24 * 3600)
/* how many of the newest messages a retry's check looks at */
#define LMTP_PENDING_CHECK_MESSAGES 200

struct lmtp_recipient {
	void *user;
	/* base_dir/lmtp-pending/<key> while this delivery is unanswered */
	char *pending_path;
	/* transaction ids of earlier attempts of the same delivery that
	   died unanswered ("\n"-separated), for the child to look for */
	char *prior_ids;
	const char *username;	/* the userdb's */
	const char *detail;	/* after recipient_delimiter, "" if none */
	int slot_fd;		/* lmtp_user_concurrency_limit lock, or -1 */
};

struct lmtp_client {
	struct ioloop *loop;
	struct smtp_server_conn *conn;
	struct lmtp_client_settings set;
	struct smtp_server_settings smtp_set;
	char hostname[256];
	char session_id[32];
	char remote[64];	/* "local" or the IP */
	pid_t pid;
	bool tls;
	/* with TLS the session ends when the proxy has sent everything */
	struct tls_proxy *proxy;
	struct timeout *to_proxy;
	void (*destroyed)(void *);
	void *context;
};

/* Dovecot's session ids: 16 random bytes in base64 without padding. */
static void lmtp_session_id(char *dest, size_t size)
{
	unsigned char bytes[16];
	string_t *str = str_new(32);
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, bytes, sizeof(bytes));

	if (n != (ssize_t)sizeof(bytes)) {
		uint64_t t = io_loop_time_msecs() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)(t >> ((i % 8) * 8)) ^
				(unsigned char)(i * 37);
	}
	if (fd >= 0)
		close(fd);
	base64_encode(str, bytes, sizeof(bytes));
	while (str_len(str) > 0 && str_c(str)[str_len(str) - 1] == '=')
		str_truncate(str, str_len(str) - 1);
	snprintf(dest, size, "%s", str_c(str));
	str_free(&str);
}

/* The transaction's id: the session id, ":T<n>" from the second on;
 * a recipient's adds ":R<n>" from the second RCPT on (as Dovecot). */
static const char *lmtp_trans_id(struct lmtp_client *client, pool_t pool,
				 const struct smtp_server_transaction *t)
{
	if (t->seq <= 1)
		return p_strdup(pool, client->session_id);
	return p_strdup_printf(pool, "%s:T%u", client->session_id, t->seq);
}

static const char *lmtp_rcpt_id(struct lmtp_client *client, pool_t pool,
				const struct smtp_server_transaction *t,
				const struct smtp_server_recipient *rcpt)
{
	const char *id = lmtp_trans_id(client, pool, t);

	if (rcpt->index == 0)
		return id;
	return p_strdup_printf(pool, "%s:R%u", id, rcpt->index + 1);
}

/* ---- RCPT ------------------------------------------------------------ */

/* local part without its detail: "bob+work" → "bob", "work" */
static void lmtp_split_detail(pool_t pool, const char *delims,
			      const char *localpart, const char **user_r,
			      const char **detail_r)
{
	size_t pos = delims[0] == '\0' ? strlen(localpart) :
		strcspn(localpart, delims);

	*user_r = p_strndup(pool, localpart, pos);
	*detail_r = localpart[pos] == '\0' ? "" :
		p_strdup(pool, localpart + pos + 1);
}

/* A name for the user's lock files that needs no escaping. */
static uint64_t lmtp_name_hash(const char *name)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	return h;
}

/* lmtp_user_concurrency_limit: one of limit lock slots of the user,
 * held (flock) until the transaction ends, shared by every session
 * process. -1 when all are taken, -2 on error. */
static int lmtp_concurrency_slot(struct lmtp_client *client,
				 const char *username, unsigned int limit)
{
	char dir[512], path[600];
	uint64_t h = lmtp_name_hash(username);

	snprintf(dir, sizeof(dir), "%s/lmtp-concurrency",
		 client->set.set->base_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		i_error("mkdir(%s) failed: %m", dir);
		return -2;
	}
	for (unsigned int i = 0; i < limit; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%016llx.%u", dir,
			 (unsigned long long)h, i);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			i_error("open(%s) failed: %m", path);
			return -2;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

/* lmtp_rcpt_check_quota: is the user's INBOX over quota already? Asked
 * in a child that becomes the user (the session never opens mail as
 * root). result: "O" no, "Q"/"q" and the quota's text (q: tempfail as
 * quota_full_tempfail says), "T" and an error. */
static void lmtp_rcpt_quota(struct lmtp_client *client,
			    struct lmtp_recipient *lrcpt,
			    char result[LMTP_RESULT_MAX + 1])
{
	const struct lmtp_user_ops *ops = client->set.ops;
	size_t got = 0;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		snprintf(result, LMTP_RESULT_MAX + 1, "Tfork() failed: %s",
			 strerror(errno));
		return;
	}
	if (pid == 0) {
		const struct settings_root *set =
			ops->user_set(client->set.ops_context, lrcpt->user);
		struct mail_user *mail_user;
		const char *error;
		string_t *str = str_new(128);
		bool over;

		close(p[0]);
		if (ops->user_init(client->set.ops_context, lrcpt->user,
				   &mail_user, &error) < 0)
			str_printfa(str, "T%s", error);
		else if (quota_check_user(mail_user, "INBOX", 0, &over,
					  &error) == 0)
			str_append_c(str, 'O');
		else if (!over)
			str_printfa(str, "T%s", error);
		else
			str_printfa(str, "%c%s", mail_deliver_error_is_tempfail(
				set, MAIL_ERROR_NOQUOTA, error) ? 'q' : 'Q',
				error);
		if (write(p[1], str_c(str), str_len(str)) < 0)
			i_error("write(lmtp quota result) failed: %m");
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], result + got, LMTP_RESULT_MAX - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == LMTP_RESULT_MAX)
			break;
	}
	close(p[0]);
	result[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got == 0) {
		snprintf(result, LMTP_RESULT_MAX + 1,
			 "Tquota check of %s: child ended without a result",
			 lrcpt->username);
	}
}

static enum smtp_server_result
lmtp_cmd_rcpt(struct smtp_server_conn *conn, void *context,
	      struct smtp_server_transaction *t,
	      struct smtp_server_recipient *rcpt)
{
	struct lmtp_client *client = context;
	const struct settings_root *set = client->set.set;
	struct lmtp_recipient *lrcpt;
	const char *local, *detail, *username, *real_user, *error;
	void *user;
	int ret;

	lmtp_split_detail(t->pool, set->recipient_delimiter,
			  rcpt->path.localpart, &local, &detail);
	username = rcpt->path.domain == NULL ? local :
		p_strdup_printf(t->pool, "%s@%s", local, rcpt->path.domain);
	ret = client->set.ops->lookup(client->set.ops_context, username, &user,
				      &real_user, &error);
	if (ret < 0) {
		i_error("%s", error);
		smtp_server_reply(conn, 451, "4.3.0",
				  "<%s> Temporary user lookup failure",
				  rcpt->address);
		return SMTP_SERVER_REPLIED_FAIL;
	}
	if (ret == 0) {
		smtp_server_reply(conn, 550, "5.1.1",
				  "<%s> User doesn't exist: %s",
				  rcpt->address, username);
		return SMTP_SERVER_REPLIED_FAIL;
	}
	lrcpt = p_malloc(t->pool, sizeof(*lrcpt));
	lrcpt->user = user;
	lrcpt->username = p_strdup(t->pool, real_user);
	lrcpt->detail = detail;
	lrcpt->slot_fd = -1;
	if (set->lmtp_user_concurrency_limit > 0) {
		lrcpt->slot_fd = lmtp_concurrency_slot(client, lrcpt->username,
			set->lmtp_user_concurrency_limit);
		if (lrcpt->slot_fd < 0) {
			if (lrcpt->slot_fd == -1) {
				smtp_server_reply(conn, 451, "4.3.0", "<%s> "
					"Too many concurrent deliveries for "
					"user", rcpt->address);
			} else {
				smtp_server_reply(conn, 451, "4.3.0", "<%s> "
					"Temporary internal error",
					rcpt->address);
			}
			client->set.ops->user_free(client->set.ops_context,
						   &lrcpt->user);
			return SMTP_SERVER_REPLIED_FAIL;
		}
	}
	if (set->lmtp_rcpt_check_quota) {
		const struct settings_root *uset =
			client->set.ops->user_set(client->set.ops_context, user);
		char result[LMTP_RESULT_MAX + 1];

		lmtp_rcpt_quota(client, lrcpt, result);
		if (result[0] != 'O') {
			if (result[0] == 'Q' || result[0] == 'q') {
				bool temp = result[0] == 'q';
				smtp_server_reply(conn, temp ? 452 : 552,
						  temp ? "4.2.2" : "5.2.2",
						  "<%s> %s", rcpt->address,
						  result + 1);
			} else {
				i_error("%s", result + 1);
				smtp_server_reply(conn, 451, "4.3.0",
					"<%s> Temporary internal error",
					rcpt->address);
			}
			(void)uset;
			if (lrcpt->slot_fd >= 0)
				close(lrcpt->slot_fd);
			client->set.ops->user_free(client->set.ops_context,
						   &lrcpt->user);
			return SMTP_SERVER_REPLIED_FAIL;
		}
	}
	rcpt->context = lrcpt;
	return SMTP_SERVER_ACCEPT;
}

/* ---- DATA ------------------------------------------------------------ */

/* Return-Path, Delivered-To, Received, as Dovecot's lmtp adds them. */
static const char *lmtp_headers(struct lmtp_client *client, pool_t pool,
				const struct smtp_server_transaction *t,
				const struct smtp_server_recipient *rcpt)
{
	const struct settings_root *set = client->set.set;
	const char *helo = smtp_server_conn_get_helo(client->conn);
	string_t *str = str_new(512);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	const char *ret;

	str_printfa(str, "Return-Path: <%s>\r\n", t->mail_from_str);
	if (t->rcpt_count == 1 &&
	    strcmp(set->lmtp_hdr_delivery_address, "none") != 0) {
		const char *addr = rcpt->address;

		if (strcmp(set->lmtp_hdr_delivery_address, "original") == 0 &&
		    rcpt->params.orcpt != NULL)
			addr = rcpt->params.orcpt;
		str_printfa(str, "Delivered-To: %s\r\n", addr);
	}
	if (set->lmtp_add_received_header) {
		localtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
		str_printfa(str, "Received: from %s", helo == NULL ? "unknown" :
			    helo);
		if (strcmp(client->remote, "local") != 0)
			str_printfa(str, " ([%s])", client->remote);
		str_printfa(str, "\r\n\tby %s with LMTP\r\n\tid %s\r\n"
			    "\t(envelope-from <%s>)", client->hostname,
			    lmtp_trans_id(client, pool, t), t->mail_from_str);
		if (t->rcpt_count == 1)
			str_printfa(str, "\r\n\tfor <%s>", rcpt->address);
		str_printfa(str, "; %s\r\n", date);
	}
	ret = p_strndup(pool, str_c(str), str_len(str));
	str_free(&str);
	return ret;
}

static void lmtp_child_log_prefix(struct lmtp_client *client,
				  const struct settings_root *set,
				  const char *username, const char *session)
{
	char pid[32];
	string_t *prefix = str_new(64);
	const char *error;

	snprintf(pid, sizeof(pid), "%ld", (long)client->pid);
	const struct var_expand_table table[] = {
		{ 's', "lmtp", "service" },
		{ 'u', username, "user" },
		{ 'p', pid, "pid" },
		{ '\0', session, "session" },
		{ '\0', NULL, NULL },
	};
	if (var_expand(prefix, set->mail_log_prefix, table, NULL, NULL,
		       &error) < 0) {
		str_truncate(prefix, 0);
		str_printfa(prefix, "lmtp(%s)<%s><%s>: ", username, pid,
			    session);
	}
	log_set_prefix(str_c(prefix));
	str_free(&prefix);
}

/* Is a message of an earlier, unanswered attempt (its Received header
 * carries one of ids) among the newest messages of vname? */
static bool lmtp_already_saved(struct mail_user *user, const char *vname,
			       const char *ids)
{
	struct mailbox *box = mailbox_alloc(user, vname, 0);
	struct mail *mail;
	uint32_t count, first;
	bool found = false;

	if (mailbox_open(box) < 0 || mailbox_sync(box, 0, NULL, NULL) < 0) {
		mailbox_free(&box);
		return false;
	}
	count = mailbox_count(box);
	first = count > LMTP_PENDING_CHECK_MESSAGES ?
		count - LMTP_PENDING_CHECK_MESSAGES + 1 : 1;
	mail = mail_alloc(box);
	for (uint32_t seq = count; seq >= first && seq > 0 && !found; seq--) {
		const char *value, *p = ids;

		mail_set_seq(mail, seq);
		if (mail_get_first_header(mail, "Received", &value) < 0 ||
		    value == NULL)
			continue;
		while (*p != '\0' && !found) {
			size_t len = strcspn(p, "\n");
			char *id = i_strndup(p, len);

			found = len >= 16 && strstr(value, id) != NULL;
			free(id);
			p += len + (p[len] == '\n');
		}
	}
	mail_free(&mail);
	mailbox_free(&box);
	return found;
}

/* Dovecot's text for an error whose details are only in the log. */
static const char *lmtp_internal_error(void)
{
	static char text[128];
	char date[32];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(text, sizeof(text), "Internal error occurred. Refer to "
		 "server log for more information. [%s]", date);
	return text;
}

/* The delivery child: become the user, save, report one result line
 * ("O", or "T"/"Q"/"q" and the error) on fd, exit. */
static void ATTR_NORETURN
lmtp_deliver_child(struct lmtp_client *client,
		   struct smtp_server_transaction *t,
		   struct smtp_server_recipient *rcpt, const char *headers,
		   const char *session, int fd)
{
	struct lmtp_recipient *lrcpt = rcpt->context;
	const struct lmtp_user_ops *ops = client->set.ops;
	const struct settings_root *set =
		ops->user_set(client->set.ops_context, lrcpt->user);
	struct mail_deliver_context dctx;
	struct mail_user *mail_user;
	enum mail_error error_class = MAIL_ERROR_NONE;
	const char *error, *mailbox = "INBOX";
	string_t *result = str_new(128);

	lmtp_child_log_prefix(client, set, lrcpt->username, session);
	if (ops->user_init(client->set.ops_context, lrcpt->user, &mail_user,
			   &error) < 0) {
		i_error("%s", error);
		str_printfa(result, "TTemporary internal error");
	} else {
		memset(&dctx, 0, sizeof(dctx));
		dctx.pool = pool_create("lmtp deliver", 1024);
		dctx.set = set;
		dctx.user = mail_user;
		dctx.fd = t->data_fd;
		dctx.size = t->data_size;
		dctx.prefix = headers;
		dctx.envelope_sender = t->mail_from.localpart == NULL ?
			MAIL_DELIVER_DEFAULT_SENDER : t->mail_from_str;
		mail_deliver_info_init(&dctx);
		if (set->lmtp_save_to_detail_mailbox && lrcpt->detail[0] != '\0')
			mailbox = lrcpt->detail;
		if (lrcpt->prior_ids != NULL &&
		    (lmtp_already_saved(mail_user, mailbox, lrcpt->prior_ids) ||
		     (strcmp(mailbox, "INBOX") != 0 &&
		      lmtp_already_saved(mail_user, "INBOX",
					 lrcpt->prior_ids)))) {
			/* an earlier attempt saved it and died before its
			   250: this is the MTA's retry */
			mail_deliver_log(&dctx, "already saved by an earlier "
					 "unanswered attempt, not saved again");
			str_append_c(result, 'O');
		} else if (mail_deliver(&dctx, mailbox, &error,
					&error_class) == 0)
			str_append_c(result, 'O');
		else if (error_class == MAIL_ERROR_NOQUOTA &&
			 strcmp(error, "Not enough disk space") == 0)
			/* a full disk is an internal error to Dovecot's lmtp
			   (451 4.2.0), not a full quota */
			str_printfa(result, "T%s", lmtp_internal_error());
		else if (error_class != MAIL_ERROR_NOQUOTA)
			str_printfa(result, "T%s", error);
		else if (mail_deliver_error_is_tempfail(set, error_class, error))
			str_printfa(result, "q%s", error);
		else
			str_printfa(result, "Q%s", error);
		mail_deliver_info_deinit(&dctx);
		pool_destroy(&dctx.pool);
	}
	if (write(fd, str_c(result), str_len(result)) < 0)
		i_error("write(lmtp result) failed: %m");
	_exit(0);
}

/* SHA-256 of the message (the same bytes an MTA sends again when it
 * retries). */
static bool lmtp_message_digest(const struct smtp_server_transaction *t,
				unsigned char digest[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536];
	uint64_t off = 0;
	unsigned int len = 0;
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;

	while (ok && off < t->data_size) {
		ssize_t n = pread(t->data_fd, buf, sizeof(buf), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0 && EVP_DigestUpdate(md, buf, (size_t)n) == 1;
		off += n > 0 ? (uint64_t)n : 0;
	}
	ok = ok && EVP_DigestFinal_ex(md, digest, &len) == 1 && len == 32;
	EVP_MD_CTX_free(md);
	return ok;
}

/* A crash between the mailbox commit and the 250 must not make the
 * MTA's retry a duplicate: before the delivery, a record named by a
 * hash of (message, sender, recipient) holds this transaction's id
 * (which the Received header carries); it is removed once the reply has
 * been sent. A retry that finds the record lets the child look for a
 * message with one of the ids before saving. */
static void lmtp_pending_begin(struct lmtp_client *client,
			       struct smtp_server_transaction *t,
			       struct smtp_server_recipient *rcpt,
			       const unsigned char digest[32],
			       const char *trans_id)
{
	struct lmtp_recipient *lrcpt = rcpt->context;
	unsigned char key[32];
	unsigned int len = 0;
	char dir[512], hex[65], old[512];
	struct stat st;
	string_t *ids;
	EVP_MD_CTX *md;
	ssize_t n = 0;
	int fd;

	if (!client->set.set->lmtp_add_received_header)
		return;	/* nothing to find the message by */
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, digest, 32) != 1 ||
	    EVP_DigestUpdate(md, rcpt->address, strlen(rcpt->address) + 1) != 1 ||
	    EVP_DigestUpdate(md, lrcpt->username, strlen(lrcpt->username) + 1) != 1 ||
	    EVP_DigestUpdate(md, t->mail_from_str, strlen(t->mail_from_str)) != 1 ||
	    EVP_DigestFinal_ex(md, key, &len) != 1) {
		EVP_MD_CTX_free(md);
		return;
	}
	EVP_MD_CTX_free(md);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", key[i]);
	snprintf(dir, sizeof(dir), "%s/lmtp-pending", client->set.set->base_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	lrcpt->pending_path = i_strdup_printf("%s/%s", dir, hex);
	ids = str_new(128);
	fd = open(lrcpt->pending_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 &&
		    st.st_mtime + LMTP_PENDING_MAX_AGE_SECS > time(NULL))
			n = read(fd, old, sizeof(old) - 1);
		close(fd);
		if (n > 0) {
			old[n] = '\0';
			lrcpt->prior_ids = i_strdup(old);
			/* keep the last few attempts */
			const char *p = old;
			while (strlen(p) > 3 * 40 && strchr(p, '\n') != NULL)
				p = strchr(p, '\n') + 1;
			str_append(ids, p);
		}
	}
	str_printfa(ids, "%s\n", trans_id);
	fd = open(lrcpt->pending_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd < 0 || write(fd, str_c(ids), str_len(ids)) !=
	    (ssize_t)str_len(ids)) {
		i_error("write(%s) failed: %m", lrcpt->pending_path);
		i_free(lrcpt->pending_path);
	}
	if (fd >= 0)
		close(fd);
	str_free(&ids);
}

/* The replies have been sent: the records aren't needed any more. */
static void lmtp_pending_end(struct smtp_server_transaction *t)
{
	for (unsigned int i = 0; i < t->rcpt_count; i++) {
		struct lmtp_recipient *lrcpt = t->rcpts[i]->context;

		if (lrcpt == NULL || lrcpt->pending_path == NULL)
			continue;
		(void)unlink(lrcpt->pending_path);
		i_free(lrcpt->pending_path);
	}
}

/* Deliver to one recipient in a child and send its reply. */
static void lmtp_deliver_rcpt(struct lmtp_client *client,
			      struct smtp_server_transaction *t,
			      struct smtp_server_recipient *rcpt)
{
	const char *headers = lmtp_headers(client, t->pool, t, rcpt);
	const char *session = lmtp_rcpt_id(client, t->pool, t, rcpt);
	char result[LMTP_RESULT_MAX + 1];
	size_t got = 0;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		i_error("fork() failed: %m");
		smtp_server_reply(client->conn, 451, "4.3.0",
				  "<%s> Temporary internal error", rcpt->address);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		lmtp_deliver_child(client, t, rcpt, headers, session, p[1]);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], result + got, LMTP_RESULT_MAX - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == LMTP_RESULT_MAX)
			break;
	}
	close(p[0]);
	result[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got > 0 && result[0] == 'O' &&
	    getenv("ROOST_LMTP_TEST_CRASH_AFTER_SAVE") != NULL) {
		/* tests only: die where a crash hurts most, after the
		   commit and before the 250 */
		(void)kill(getpid(), SIGKILL);
	}
	switch (got == 0 ? '\0' : result[0]) {
	case 'O':
		smtp_server_reply(client->conn, 250, "2.0.0", "<%s> %s Saved",
				  rcpt->address, session);
		break;
	case 'Q':
		smtp_server_reply(client->conn, 552, "5.2.2", "<%s> %s",
				  rcpt->address, result + 1);
		break;
	case 'q':
		smtp_server_reply(client->conn, 452, "4.2.2", "<%s> %s",
				  rcpt->address, result + 1);
		break;
	case 'T':
		smtp_server_reply(client->conn, 451, "4.2.0", "<%s> %s",
				  rcpt->address, result + 1);
		break;
	default:
		/* the child died before it could tell: nothing was
		   committed that we know of */
		i_error("delivery to %s: child %ld ended without a result "
			"(status %d)", rcpt->address, (long)pid, status);
		smtp_server_reply(client->conn, 451, "4.3.0",
				  "<%s> Temporary internal error", rcpt->address);
		break;
	}
}

static enum smtp_server_result
lmtp_data(struct smtp_server_conn *conn, void *context,
	  struct smtp_server_transaction *t)
{
	struct lmtp_client *client = context;
	struct connection *c = smtp_server_conn_get_connection(conn);
	unsigned char digest[32];
	bool have_digest = lmtp_message_digest(t, digest);
	const char *trans_id = lmtp_trans_id(client, t->pool, t);

	for (unsigned int i = 0; i < t->rcpt_count; i++) {
		if (have_digest)
			lmtp_pending_begin(client, t, t->rcpts[i], digest,
					   trans_id);
		lmtp_deliver_rcpt(client, t, t->rcpts[i]);
	}
	/* the records go only once the replies are out */
	connection_cork(c, false);
	if (connection_flush_wait(c, 10000) == 0)
		lmtp_pending_end(t);
	connection_cork(c, true);
	return SMTP_SERVER_REPLIED_OK;
}

static void lmtp_transaction_free(struct smtp_server_conn *conn ATTR_UNUSED,
				  void *context,
				  struct smtp_server_transaction *t)
{
	struct lmtp_client *client = context;

	for (unsigned int i = 0; i < t->rcpt_count; i++) {
		struct lmtp_recipient *lrcpt = t->rcpts[i]->context;

		if (lrcpt == NULL)
			continue;
		if (lrcpt->slot_fd >= 0)
			close(lrcpt->slot_fd);
		i_free(lrcpt->pending_path);
		i_free(lrcpt->prior_ids);
		client->set.ops->user_free(client->set.ops_context,
					   &lrcpt->user);
		t->rcpts[i]->context = NULL;
	}
}

static void lmtp_disconnected(struct smtp_server_conn *conn, void *context,
			      const char *reason)
{
	struct lmtp_client *client = context;

	i_info("Disconnect from %s: %s (state=%s)", client->remote, reason,
	       smtp_server_state_name(smtp_server_conn_get_state(conn)));
	lmtp_client_destroy(&client);
}

static void lmtp_client_free(struct lmtp_client *client)
{
	void (*destroyed)(void *) = client->destroyed;
	void *context = client->context;

	timeout_remove(&client->to_proxy);
	if (client->proxy != NULL)
		tls_proxy_free(&client->proxy);
	free(client);
	if (destroyed != NULL)
		destroyed(context);
}

static void lmtp_tls_proxy_closed(struct tls_proxy *proxy,
				  const char *reason ATTR_UNUSED,
				  void *context)
{
	struct lmtp_client *client = context;

	tls_proxy_free(&proxy);
	client->proxy = NULL;
	if (client->conn == NULL) {
		/* the session ended before: now everything has gone out */
		lmtp_client_free(client);
	}
}

static void lmtp_tls_proxy_timeout(void *context)
{
	lmtp_client_free(context);
}

/* STARTTLS (RFC 3207, as Dovecot's lmtp offers it when ssl isn't "no"):
 * the socket goes behind a TLS proxy pump and the session reads plain
 * text from a socketpair; what was pipelined after the command is
 * dropped, and the client must LHLO again. */
static enum smtp_server_result lmtp_starttls(struct lmtp_client *client,
					     const char *args)
{
	struct connection *conn = smtp_server_conn_get_connection(client->conn);
	string_t *dropped = str_new(64);
	struct tls_conn *tconn;
	size_t discarded;
	int sv[2];

	if (client->tls) {
		smtp_server_reply(client->conn, 502, "5.5.1",
				  "TLS is already active.");
		str_free(&dropped);
		return SMTP_SERVER_REPLIED_FAIL;
	}
	if (*args != '\0') {
		smtp_server_reply(client->conn, 501, "5.5.4",
				  "Invalid parameters");
		str_free(&dropped);
		return SMTP_SERVER_REPLIED_FAIL;
	}
	smtp_server_reply(client->conn, 220, "2.0.0",
			  "Begin TLS negotiation now.");
	connection_cork(conn, false);
	smtp_server_conn_take_input(client->conn, dropped);
	if (connection_flush_wait(conn, 10000) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		str_free(&dropped);
		smtp_server_conn_terminate(client->conn, "4.7.0",
					   "TLS initialization failed");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	tconn = tls_conn_starttls(client->set.tls_ctx, conn->fd,
				  str_c(dropped), str_len(dropped), &discarded);
	str_free(&dropped);
	if (tconn == NULL) {
		close(sv[0]);
		close(sv[1]);
		smtp_server_conn_terminate(client->conn, "4.7.0",
					   "TLS initialization failed");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	client->proxy = tls_proxy_create(client->loop, tconn, sv[0], 0,
					 lmtp_tls_proxy_closed, client);
	(void)connection_replace_fd(conn, sv[1]);
	client->tls = true;
	smtp_server_conn_reset(client->conn);
	smtp_server_conn_set_capabilities(client->conn,
		client->smtp_set.capabilities & ~SMTP_CAP_STARTTLS);
	return SMTP_SERVER_REPLIED_OK;
}

static enum smtp_server_result
lmtp_cmd_other(struct smtp_server_conn *conn ATTR_UNUSED, void *context,
	       const char *verb, const char *args)
{
	struct lmtp_client *client = context;

	if (strcmp(verb, "STARTTLS") == 0 && client->set.tls_ctx != NULL)
		return lmtp_starttls(client, args);
	return SMTP_SERVER_UNKNOWN;
}

static const struct smtp_server_callbacks lmtp_callbacks = {
	.cmd_rcpt = lmtp_cmd_rcpt,
	.cmd_other = lmtp_cmd_other,
	.data = lmtp_data,
	.transaction_free = lmtp_transaction_free,
	.disconnected = lmtp_disconnected,
};

struct lmtp_client *lmtp_client_create(struct ioloop *loop, int fd,
				       const struct lmtp_client_settings *set,
				       void (*destroyed_callback)(void *),
				       void *context)
{
	struct lmtp_client *client = i_new(struct lmtp_client, 1);
	const struct settings_root *rset = set->set;

	client->loop = loop;
	client->set = *set;
	client->pid = getpid();
	client->destroyed = destroyed_callback;
	client->context = context;
	if (rset->hostname[0] != '\0')
		snprintf(client->hostname, sizeof(client->hostname), "%s",
			 rset->hostname);
	else if (gethostname(client->hostname, sizeof(client->hostname)) < 0)
		snprintf(client->hostname, sizeof(client->hostname),
			 "localhost");
	snprintf(client->remote, sizeof(client->remote), "%s",
		 set->remote_ip == NULL || set->remote_ip->family == 0 ?
		 "local" : net_ip2addr(set->remote_ip));
	lmtp_session_id(client->session_id, sizeof(client->session_id));
	client->smtp_set.protocol = SMTP_SERVER_PROTOCOL_LMTP;
	client->smtp_set.hostname = client->hostname;
	client->smtp_set.greeting = rset->login_greeting;
	client->smtp_set.capabilities = SMTP_CAP_8BITMIME |
		SMTP_CAP_CHUNKING | SMTP_CAP_ENHANCEDSTATUSCODES |
		SMTP_CAP_PIPELINING;
	if (set->tls_ctx != NULL)
		client->smtp_set.capabilities |= SMTP_CAP_STARTTLS;
	client->smtp_set.temp_dir = set->temp_dir;
	i_info("Connect from %s", client->remote);
	client->conn = smtp_server_conn_create(loop, fd, &client->smtp_set,
					       &lmtp_callbacks, client);
	return client;
}

void lmtp_client_destroy(struct lmtp_client **_client)
{
	struct lmtp_client *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	smtp_server_conn_free(&client->conn);
	if (client->proxy != NULL) {
		/* the last replies are still in the TLS pump: it ends the
		   session when they are out (or after 10 s) */
		client->to_proxy = timeout_add(client->loop, 10000,
					       lmtp_tls_proxy_timeout, client);
		return;
	}
	lmtp_client_free(client);
}

/* smtp-server.c - the SMTP/LMTP server state machine (smtp-server.h).
 * Input is taken raw from lib/connection: command lines are cut here
 * (an over-long one is skipped to its LF and answered with "500 5.5.2
 * Line too long"), DATA is dot-unstuffed and BDAT chunks copied
 * straight into an unlinked temp file, so memory use is bounded by the
 * line limit whatever the peer sends. */
#include "smtp-server.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Dovecot's limit: 4096 bytes of parameters after the verb */
#define SMTP_SERVER_DEFAULT_MAX_LINE 4096
#define SMTP_SERVER_DEFAULT_TIMEOUT_MSECS (5 * 60 * 1000)
#define SMTP_SERVER_MAX_OUTPUT (64 * 1024)
#define SMTP_SERVER_VERB_MAX 32

enum smtp_input_mode {
	SMTP_INPUT_COMMAND = 0,
	SMTP_INPUT_SKIP_LINE,	/* over-long line: drop to LF */
	SMTP_INPUT_DATA,	/* DATA: until CRLF.CRLF */
	SMTP_INPUT_BDAT,	/* BDAT: chunk_left raw bytes */
};

enum smtp_pending_cmd {
	SMTP_PENDING_NONE = 0,
	SMTP_PENDING_MAIL,
	SMTP_PENDING_RCPT,
	SMTP_PENDING_DATA,
	SMTP_PENDING_OTHER,
};

struct smtp_server_conn {
	struct connection *conn;
	struct ioloop *loop;
	struct smtp_server_settings set;
	const struct smtp_server_callbacks *cb;
	void *context;
	struct timeout *to_idle, *to_resume;

	enum smtp_server_state state;
	enum smtp_input_mode mode;
	char *helo;
	bool ehlo;
	unsigned int transaction_seq;
	struct smtp_server_transaction *trans;
	struct smtp_server_recipient *pending_rcpt;
	enum smtp_pending_cmd pending;
	smtp_server_line_handler_t *line_handler;

	/* DATA: at the start of a line; bytes past the limit are dropped */
	bool data_line_start, data_too_large, data_failed;
	/* BDAT */
	uint64_t chunk_left;
	bool chunk_last, chunk_discard;
	uint64_t chunk_size;
	bool bdat_started, bdat_failed;
	/* a BURL failed (also a bad one, also outside a transaction):
	   DATA, BDAT and BURL are refused until RSET (Dovecot's "Previous
	   data chunk failed, issue RSET first"); MAIL still works */
	bool burl_failed;

	bool quit, destroyed, paused_by_owner, terminated;
	const char *disconnect_reason;
};

static bool smtp_server_input(struct connection *conn);
static void smtp_server_disconnected(struct connection *conn,
				     const char *reason);

static const struct connection_vfuncs smtp_server_conn_vfuncs = {
	.input_line = NULL,
	.disconnected = smtp_server_disconnected,
	.input_raw = smtp_server_input,
};

const char *smtp_server_state_name(enum smtp_server_state state)
{
	switch (state) {
	case SMTP_SERVER_STATE_GREETING:
		return "GREETING";
	case SMTP_SERVER_STATE_READY:
		return "READY";
	case SMTP_SERVER_STATE_MAIL_FROM:
		return "MAIL FROM";
	case SMTP_SERVER_STATE_RCPT_TO:
		return "RCPT TO";
	case SMTP_SERVER_STATE_DATA:
		return "DATA";
	}
	return "UNKNOWN";
}

void smtp_server_reply(struct smtp_server_conn *sconn, unsigned int code,
		       const char *enh, const char *fmt, ...)
{
	string_t *str = str_new(128);
	va_list args;
	char *text;

	va_start(args, fmt);
	text = i_strdup_vprintf(fmt, args);
	va_end(args);
	if ((sconn->set.capabilities & SMTP_CAP_ENHANCEDSTATUSCODES) == 0)
		enh = NULL;
	smtp_reply_append(str, code, enh, text);
	connection_send(sconn->conn, str_c(str), str_len(str));
	free(text);
	str_free(&str);
}

static void smtp_server_idle_timeout(void *context)
{
	struct smtp_server_conn *sconn = context;
	const char *reason = sconn->mode == SMTP_INPUT_BDAT ?
		"Disconnected for inactivity (unfinished BDAT command)" :
		sconn->mode == SMTP_INPUT_DATA ?
		"Disconnected for inactivity (unfinished DATA command)" :
		"Disconnected for inactivity";

	smtp_server_reply(sconn, 421, "4.4.2", "%s Disconnected for inactivity",
			  sconn->set.hostname);
	(void)connection_flush_wait(sconn->conn, 100);
	timeout_remove(&sconn->to_idle);
	sconn->cb->disconnected(sconn, sconn->context, reason);
}

static void smtp_server_idle_reset(struct smtp_server_conn *sconn)
{
	if (sconn->to_idle != NULL)
		timeout_reset(sconn->to_idle);
}

/* Send what is queued now, even while pipelined input is processed
 * (corked): before a callback that may take its time. */
static void smtp_server_flush(struct smtp_server_conn *sconn)
{
	if (!sconn->conn->corked)
		return;
	connection_cork(sconn->conn, false);
	connection_cork(sconn->conn, true);
}

/* ---- transactions ---------------------------------------------------- */

static void smtp_server_transaction_free(struct smtp_server_conn *sconn)
{
	struct smtp_server_transaction *t = sconn->trans;

	if (t == NULL)
		return;
	if (sconn->cb->transaction_free != NULL)
		sconn->cb->transaction_free(sconn, sconn->context, t);
	sconn->trans = NULL;
	if (t->data_fd >= 0)
		close(t->data_fd);
	free(t->rcpts);
	pool_destroy(&t->pool);
	free(t);
	sconn->pending_rcpt = NULL;
	sconn->bdat_started = false;
	sconn->bdat_failed = false;
	if (sconn->state > SMTP_SERVER_STATE_READY)
		sconn->state = SMTP_SERVER_STATE_READY;
}

static int smtp_server_open_temp(struct smtp_server_conn *sconn)
{
	const char *dir = sconn->set.temp_dir != NULL ?
		sconn->set.temp_dir : "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		char *path = i_strdup_printf("%s/roost-smtp.XXXXXX", dir);

		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			(void)unlink(path);
		free(path);
	}
	if (fd < 0)
		i_error("smtp: creating a temp file in %s failed: %m", dir);
	return fd;
}

static int smtp_server_data_write(struct smtp_server_conn *sconn,
				  const void *data, size_t size)
{
	struct smtp_server_transaction *t = sconn->trans;
	const unsigned char *p = data;

	if (sconn->data_failed || size == 0)
		return 0;
	if (sconn->set.max_message_size > 0 &&
	    t->data_size + size > sconn->set.max_message_size) {
		sconn->data_too_large = true;
		return 0;
	}
	while (size > 0) {
		ssize_t n = write(t->data_fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			i_error("smtp: write(temp file) failed: %m");
			sconn->data_failed = true;
			return -1;
		}
		p += n;
		size -= (size_t)n;
		t->data_size += (uint64_t)n;
	}
	return 0;
}

/* ---- command handlers ------------------------------------------------ */

static int cap_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void smtp_server_send_ehlo(struct smtp_server_conn *sconn,
				  const char *verb, const char *domain)
{
	static const struct {
		enum smtp_capability cap;
		const char *name;
	} caps[] = {
		{ SMTP_CAP_8BITMIME, "8BITMIME" },
		{ SMTP_CAP_BINARYMIME, "BINARYMIME" },
		{ SMTP_CAP_CHUNKING, "CHUNKING" },
		{ SMTP_CAP_DSN, "DSN" },
		{ SMTP_CAP_ENHANCEDSTATUSCODES, "ENHANCEDSTATUSCODES" },
		{ SMTP_CAP_PIPELINING, "PIPELINING" },
		{ SMTP_CAP_SMTPUTF8, "SMTPUTF8" },
		{ SMTP_CAP_STARTTLS, "STARTTLS" },
		{ SMTP_CAP_VRFY, "VRFY" },
	};
	string_t *extra = str_new(128), *out = str_new(256);
	const char *lines[64];
	unsigned int n = 0;
	char size_line[48];

	for (size_t i = 0; i < N_ELEMENTS(caps); i++) {
		if ((sconn->set.capabilities & caps[i].cap) != 0)
			lines[n++] = caps[i].name;
	}
	if ((sconn->set.capabilities & SMTP_CAP_SIZE) != 0) {
		if (sconn->set.max_message_size > 0)
			snprintf(size_line, sizeof(size_line), "SIZE %llu",
				 (unsigned long long)sconn->set.max_message_size);
		else
			snprintf(size_line, sizeof(size_line), "SIZE");
		lines[n++] = size_line;
	}
	if (sconn->cb->helo != NULL)
		sconn->cb->helo(sconn, sconn->context, verb, domain, extra);
	/* split the owner's lines in place */
	for (char *p = str_len(extra) > 0 ? (char *)str_c(extra) : NULL;
	     p != NULL && *p != '\0' && n < N_ELEMENTS(lines);) {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (*p != '\0')
			lines[n++] = p;
		p = nl == NULL ? NULL : nl + 1;
	}
	qsort(lines, n, sizeof(lines[0]), cap_cmp);
	if (sconn->set.pipelining_last) {
		for (unsigned int i = 0; i + 1 < n; i++) {
			if (strcmp(lines[i], "PIPELINING") == 0) {
				memmove(lines + i, lines + i + 1,
					(n - i - 1) * sizeof(lines[0]));
				lines[n - 1] = "PIPELINING";
				break;
			}
		}
	}
	str_printfa(out, "250%c%s\r\n", n > 0 ? '-' : ' ', sconn->set.hostname);
	for (unsigned int i = 0; i < n; i++)
		str_printfa(out, "250%c%s\r\n", i + 1 < n ? '-' : ' ', lines[i]);
	connection_send(sconn->conn, str_c(out), str_len(out));
	str_free(&out);
	str_free(&extra);
}

static void cmd_helo(struct smtp_server_conn *sconn, const char *verb,
		     const char *args)
{
	bool lmtp = sconn->set.protocol == SMTP_SERVER_PROTOCOL_LMTP;
	const char *domain = args;

	if ((strcmp(verb, "LHLO") == 0) != lmtp) {
		smtp_server_reply(sconn, 500, "5.5.1", "Unknown command");
		return;
	}
	/* a domain or an address literal; Dovecot takes anything
	   printable ("HELO a b" too) */
	if (*domain == '\0') {
		smtp_server_reply(sconn, 501, NULL, "Missing hostname");
		return;
	}
	for (const char *p = domain; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 33 || c == 127) {
			smtp_server_reply(sconn, 501, "5.5.4",
					  "Invalid parameters");
			return;
		}
	}
	smtp_server_transaction_free(sconn);
	free(sconn->helo);
	sconn->helo = i_strdup(domain);
	sconn->ehlo = strcmp(verb, "HELO") != 0;
	sconn->state = SMTP_SERVER_STATE_READY;
	if (!sconn->ehlo) {
		smtp_server_reply(sconn, 250, NULL, "%s", sconn->set.hostname);
		return;
	}
	smtp_server_send_ehlo(sconn, verb, domain);
}

/* "FROM:" / "TO:" prefix, case-insensitive; Dovecot allows no space
 * between the colon and the path. */
static const char *skip_prefix(const char *args, const char *prefix)
{
	size_t len = strlen(prefix);

	if (strncasecmp(args, prefix, len) != 0)
		return NULL;
	args += len;
	while (*args == ' ')
		args++;
	return args;
}

/* The path after "FROM:"/"TO:" as Dovecot's parser takes it: a space
 * before it is an error unless the whitespace-before-path workaround
 * is on; a bare mailbox gets its <> with mailbox-for-path. Returns the
 * path (allocated from pool) or NULL with error_r. */
static const char *
smtp_server_path_arg(struct smtp_server_conn *sconn, pool_t pool,
		     const char *args, const char *prefix, const char **error_r)
{
	size_t len = strlen(prefix);
	const char *path = args + len;

	if (*path == ' ' && !sconn->set.workaround_whitespace_before_path) {
		*error_r = "Unexpected whitespace before path";
		return NULL;
	}
	path = skip_prefix(args, prefix);
	if (*path != '<' && *path != '\0' &&
	    sconn->set.workaround_mailbox_for_path) {
		const char *sp = strchr(path, ' ');
		size_t plen = sp == NULL ? strlen(path) : (size_t)(sp - path);
		char *wrapped = p_malloc(pool, strlen(path) + 3);

		wrapped[0] = '<';
		memcpy(wrapped + 1, path, plen);
		wrapped[plen + 1] = '>';
		memcpy(wrapped + plen + 2, path + plen, strlen(path + plen) + 1);
		return wrapped;
	}
	return path;
}

/* Without SMTPUTF8 a non-ASCII path is a syntax error, in Dovecot's
 * words. */
static const char *smtp_server_utf8_error(const struct smtp_address *addr,
					  bool rcpt)
{
	const char *lp = addr->localpart;

	/* MAIL's path needs a domain: any non-ASCII local part is an
	   invalid character there */
	if (!rcpt && lp != NULL) {
		for (const char *p = lp; *p != '\0'; p++) {
			if ((unsigned char)*p >= 0x80)
				return "Invalid character in localpart";
		}
	}

	/* Dovecot's parser stops at the first non-ASCII octet: at the
	   start of the local part it is an invalid character, after an
	   atom it expects the end of the path */
	if (lp != NULL && (unsigned char)lp[0] >= 0x80)
		return "Invalid character in localpart";
	for (const char *p = lp; p != NULL && *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			return "Missing '>' at end of path";
	}
	if (addr->domain != NULL && (unsigned char)addr->domain[0] >= 0x80)
		return "Invalid character in domain";
	return "Missing '>' at end of path";
}

/* Dovecot's server doesn't insist on HELO/EHLO/LHLO before MAIL (its
 * lmtp takes MAIL right after the greeting); with require_helo set it
 * does. */
static bool smtp_server_check_helo(struct smtp_server_conn *sconn)
{
	if (sconn->state != SMTP_SERVER_STATE_GREETING ||
	    !sconn->set.require_helo)
		return true;
	smtp_server_reply(sconn, 503, "5.5.1", "Invalid command: "
			  "Send %s first",
			  sconn->set.protocol == SMTP_SERVER_PROTOCOL_LMTP ?
			  "LHLO" : "HELO/EHLO");
	return false;
}

static void smtp_server_mail_done(struct smtp_server_conn *sconn,
				  enum smtp_server_result result)
{
	if (result == SMTP_SERVER_ACCEPT)
		smtp_server_reply(sconn, 250, "2.1.0", "OK");
	if (result == SMTP_SERVER_ACCEPT || result == SMTP_SERVER_REPLIED_OK)
		sconn->state = SMTP_SERVER_STATE_MAIL_FROM;
	else
		smtp_server_transaction_free(sconn);
}

static bool cmd_mail(struct smtp_server_conn *sconn, const char *args)
{
	struct smtp_server_transaction *t;
	const char *path, *params, *error;
	enum smtp_param_result pret;
	enum smtp_server_result result = SMTP_SERVER_ACCEPT;

	if (!smtp_server_check_helo(sconn))
		return true;
	if (sconn->trans != NULL) {
		smtp_server_reply(sconn, 503, "5.5.0", "MAIL already given");
		return true;
	}
	if ((path = skip_prefix(args, "FROM:")) == NULL) {
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid parameters");
		return true;
	}
	t = i_new(struct smtp_server_transaction, 1);
	t->pool = pool_create("smtp transaction", 1024);
	t->data_fd = -1;
	path = smtp_server_path_arg(sconn, t->pool, args, "FROM:", &error);
	if (path == NULL || smtp_path_parse(t->pool, path, true, &t->mail_from,
					    &params, &error) < 0 ||
	    (t->mail_from.utf8 && sconn->set.ascii_paths_only &&
	     (sconn->set.capabilities & SMTP_CAP_SMTPUTF8) == 0 &&
	     (error = smtp_server_utf8_error(&t->mail_from, false)) != NULL)) {
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid FROM: %s", error);
		pool_destroy(&t->pool);
		free(t);
		return true;
	}
	pret = smtp_params_mail_parse(t->pool, params, sconn->set.capabilities,
				      &t->mail_params, &error);
	if (pret == SMTP_PARAM_OK && t->mail_from.utf8 &&
	    !t->mail_params.smtputf8 &&
	    (sconn->set.capabilities & SMTP_CAP_SMTPUTF8) != 0) {
		pret = SMTP_PARAM_INVALID;
		error = "Address contains UTF-8 without SMTPUTF8";
	}
	if (pret != SMTP_PARAM_OK) {
		if (pret == SMTP_PARAM_UNSUPPORTED)
			smtp_server_reply(sconn, 555, "5.5.4", "%s", error);
		else
			smtp_server_reply(sconn, 501, "5.5.4", "%s", error);
		pool_destroy(&t->pool);
		free(t);
		return true;
	}
	if (sconn->set.max_message_size > 0 && t->mail_params.size_given &&
	    t->mail_params.size > sconn->set.max_message_size) {
		smtp_server_reply(sconn, 552, sconn->set.size_limit_enh != NULL ?
				  sconn->set.size_limit_enh : "5.3.4", "%s",
				  sconn->set.size_limit_text != NULL ?
				  sconn->set.size_limit_text :
				  "Message size exceeds fixed maximum message size");
		pool_destroy(&t->pool);
		free(t);
		return true;
	}
	t->mail_from_str = smtp_address_encode(t->pool, &t->mail_from);
	t->seq = ++sconn->transaction_seq;
	sconn->trans = t;
	if (sconn->cb->cmd_mail != NULL)
		result = sconn->cb->cmd_mail(sconn, sconn->context, t);
	if (result == SMTP_SERVER_ASYNC) {
		sconn->pending = SMTP_PENDING_MAIL;
		return false;
	}
	smtp_server_mail_done(sconn, result);
	return true;
}

static void smtp_server_rcpt_done(struct smtp_server_conn *sconn,
				  enum smtp_server_result result)
{
	struct smtp_server_transaction *t = sconn->trans;
	struct smtp_server_recipient *rcpt = sconn->pending_rcpt;

	sconn->pending_rcpt = NULL;
	if (t == NULL || rcpt == NULL)
		return;
	if (result == SMTP_SERVER_ACCEPT)
		smtp_server_reply(sconn, 250, "2.1.5", "OK");
	if (result != SMTP_SERVER_ACCEPT && result != SMTP_SERVER_REPLIED_OK)
		return;
	if (t->rcpt_count == t->rcpt_alloc) {
		t->rcpt_alloc = t->rcpt_alloc == 0 ? 8 : t->rcpt_alloc * 2;
		t->rcpts = i_reallocarray(t->rcpts, t->rcpt_alloc,
					  sizeof(*t->rcpts));
	}
	t->rcpts[t->rcpt_count++] = rcpt;
	sconn->state = SMTP_SERVER_STATE_RCPT_TO;
}

static bool cmd_rcpt(struct smtp_server_conn *sconn, const char *args)
{
	struct smtp_server_transaction *t = sconn->trans;
	struct smtp_server_recipient *rcpt;
	const char *path, *params, *error;
	enum smtp_param_result pret;
	enum smtp_server_result result;

	if (!smtp_server_check_helo(sconn))
		return true;
	if (t == NULL) {
		smtp_server_reply(sconn, 503, "5.5.0", "MAIL needed first");
		return true;
	}
	if (sconn->bdat_started) {
		smtp_server_reply(sconn, 503, "5.5.0", "BDAT in progress");
		return true;
	}
	if ((path = skip_prefix(args, "TO:")) == NULL) {
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid parameters");
		return true;
	}
	rcpt = p_malloc(t->pool, sizeof(*rcpt));
	rcpt->index = t->rcpt_commands++;
	path = smtp_server_path_arg(sconn, t->pool, args, "TO:", &error);
	if (path == NULL || smtp_path_parse(t->pool, path, false, &rcpt->path,
					    &params, &error) < 0 ||
	    (rcpt->path.utf8 && sconn->set.ascii_paths_only &&
	     (sconn->set.capabilities & SMTP_CAP_SMTPUTF8) == 0 &&
	     (error = smtp_server_utf8_error(&rcpt->path, true)) != NULL)) {
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid TO: %s", error);
		return true;
	}
	pret = smtp_params_rcpt_parse(t->pool, params, sconn->set.capabilities,
				      &rcpt->params, &error);
	if (pret != SMTP_PARAM_OK) {
		smtp_server_reply(sconn, pret == SMTP_PARAM_UNSUPPORTED ?
				  555 : 501, "5.5.4", "%s", error);
		return true;
	}
	if (rcpt->path.utf8 && !t->mail_params.smtputf8) {
		smtp_server_reply(sconn, 553, "5.6.7", "Invalid TO: "
				  "Address contains UTF-8 without SMTPUTF8");
		return true;
	}
	if (sconn->set.max_recipients > 0 &&
	    t->rcpt_count >= sconn->set.max_recipients) {
		smtp_server_reply(sconn, 452, "4.5.3", "Too many recipients");
		return true;
	}
	rcpt->address = smtp_address_encode(t->pool, &rcpt->path);
	sconn->pending_rcpt = rcpt;
	smtp_server_flush(sconn);
	result = sconn->cb->cmd_rcpt(sconn, sconn->context, t, rcpt);
	if (result == SMTP_SERVER_ASYNC) {
		sconn->pending = SMTP_PENDING_RCPT;
		return false;
	}
	smtp_server_rcpt_done(sconn, result);
	return true;
}

/* DATA or BDAT may start: the reply when not */
static bool smtp_server_check_data(struct smtp_server_conn *sconn)
{
	if (!smtp_server_check_helo(sconn))
		return false;
	if (sconn->trans == NULL) {
		smtp_server_reply(sconn, 503, "5.5.0", "MAIL needed first");
		return false;
	}
	if (sconn->trans->rcpt_count == 0) {
		smtp_server_reply(sconn, sconn->set.no_rcpt_554 ? 554 : 503,
				  "5.5.0", "No valid recipients");
		return false;
	}
	return true;
}

/* after a failed BURL: the reply, true */
static bool smtp_server_check_burl_failed(struct smtp_server_conn *sconn)
{
	if (!sconn->burl_failed)
		return false;
	smtp_server_reply(sconn, 503, "5.5.0",
			  "Previous data chunk failed, issue RSET first");
	return true;
}

static bool smtp_server_data_begin(struct smtp_server_conn *sconn)
{
	sconn->trans->data_fd = smtp_server_open_temp(sconn);
	if (sconn->trans->data_fd < 0) {
		smtp_server_reply(sconn, 451, "4.3.0",
				  "Temporary internal failure");
		return false;
	}
	sconn->trans->data_size = 0;
	sconn->data_too_large = false;
	sconn->data_failed = false;
	sconn->state = SMTP_SERVER_STATE_DATA;
	return true;
}

static void cmd_data(struct smtp_server_conn *sconn, const char *args)
{
	if (*args != '\0') {
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid parameters");
		return;
	}
	if (smtp_server_check_burl_failed(sconn))
		return;
	if (!smtp_server_check_data(sconn))
		return;
	if (sconn->bdat_started) {
		smtp_server_reply(sconn, 503, "5.5.0",
				  "DATA cannot be used with BDAT");
		return;
	}
	if (!smtp_server_data_begin(sconn))
		return;
	smtp_server_reply(sconn, 354, NULL, "OK");
	sconn->mode = SMTP_INPUT_DATA;
	sconn->data_line_start = true;
}

/* The message is complete (DATA's dot or BDAT LAST): hand it over. */
static bool smtp_server_message_done(struct smtp_server_conn *sconn)
{
	struct smtp_server_transaction *t = sconn->trans;
	enum smtp_server_result result;

	sconn->mode = SMTP_INPUT_COMMAND;
	if (sconn->data_too_large) {
		smtp_server_reply(sconn, 552, sconn->set.size_limit_enh != NULL ?
				  sconn->set.size_limit_enh : "5.3.4",
				  "Message size exceeds administrative limit");
		smtp_server_transaction_free(sconn);
		return true;
	}
	if (sconn->data_failed || lseek(t->data_fd, 0, SEEK_SET) < 0) {
		smtp_server_reply(sconn, 451, "4.3.0",
				  "Temporary internal failure");
		smtp_server_transaction_free(sconn);
		return true;
	}
	/* replies so far leave before the (maybe slow) delivery */
	smtp_server_flush(sconn);
	result = sconn->cb->data(sconn, sconn->context, t);
	if (result == SMTP_SERVER_ASYNC) {
		sconn->pending = SMTP_PENDING_DATA;
		return false;
	}
	smtp_server_transaction_free(sconn);
	return true;
}

static bool smtp_server_chunk_done(struct smtp_server_conn *sconn);

static void cmd_bdat_start(struct smtp_server_conn *sconn, const char *args);

/* BDAT: the reply now for a bad one, or the chunk is read next; an
 * empty chunk is done at once. */
static bool cmd_bdat(struct smtp_server_conn *sconn, const char *args)
{
	cmd_bdat_start(sconn, args);
	if (sconn->mode == SMTP_INPUT_BDAT && sconn->chunk_left == 0)
		return smtp_server_chunk_done(sconn);
	return true;
}

static void cmd_bdat_start(struct smtp_server_conn *sconn, const char *args)
{
	const char *sp = strchr(args, ' ');
	size_t len = sp == NULL ? strlen(args) : (size_t)(sp - args);
	uint64_t size;

	if (smtp_parse_uint64(args, len, &size) < 0) {
		smtp_server_reply(sconn, 501, "5.5.4",
				  "Invalid chunk size parameter");
		return;
	}
	/* the chunk follows whatever we answer: it is read either way */
	sconn->mode = SMTP_INPUT_BDAT;
	sconn->chunk_left = size;
	sconn->chunk_size = size;
	sconn->chunk_last = false;
	sconn->chunk_discard = true;
	if (sp != NULL) {
		if (strcasecmp(sp + 1, "LAST") != 0) {
			smtp_server_reply(sconn, 501, "5.5.4",
					  "Invalid end marker parameter");
			return;
		}
		sconn->chunk_last = true;
	}
	if ((sconn->set.capabilities & SMTP_CAP_CHUNKING) == 0) {
		smtp_server_reply(sconn, 500, "5.5.1", "Unknown command");
		return;
	}
	if (smtp_server_check_burl_failed(sconn))
		return;
	if (!smtp_server_check_data(sconn))
		return;
	if (sconn->bdat_failed) {
		/* an earlier chunk failed: the rest is read and dropped */
		smtp_server_reply(sconn, 503, "5.5.0",
				  "Previous BDAT failed");
		if (sconn->chunk_last)
			smtp_server_transaction_free(sconn);
		return;
	}
	if (!sconn->bdat_started) {
		if (!smtp_server_data_begin(sconn))
			return;
		sconn->bdat_started = true;
	}
	sconn->chunk_discard = false;
}

/* The BDAT chunk has been read. */
static bool smtp_server_chunk_done(struct smtp_server_conn *sconn)
{
	sconn->mode = SMTP_INPUT_COMMAND;
	if (sconn->chunk_discard)
		return true;
	if (sconn->chunk_last)
		return smtp_server_message_done(sconn);
	if (sconn->data_too_large) {
		smtp_server_reply(sconn, 552, sconn->set.size_limit_enh != NULL ?
				  sconn->set.size_limit_enh : "5.3.4",
				  "Message size exceeds administrative limit");
		sconn->bdat_failed = true;
		return true;
	}
	if (sconn->data_failed) {
		smtp_server_reply(sconn, 451, "4.3.0",
				  "Temporary internal failure");
		sconn->bdat_failed = true;
		return true;
	}
	smtp_server_reply(sconn, 250, "2.0.0", "Added %llu octets",
			  (unsigned long long)sconn->chunk_size);
	return true;
}

/* BURL url [LAST] (RFC 4468): the owner fetches the URL's bytes, which
 * go into the message as a BDAT chunk would (mixing with BDAT). */
static bool cmd_burl(struct smtp_server_conn *sconn, const char *args)
{
	const char *sp = strchr(args, ' '), *error;
	char *url;
	string_t *data;
	bool last = false, ret;

	if (*args == '\0') {
		smtp_server_reply(sconn, 501, "5.5.4",
				  "Missing chunk URL parameter");
		sconn->burl_failed = true;
		return true;
	}
	if (sp != NULL) {
		if (strcasecmp(sp + 1, "LAST") != 0) {
			smtp_server_reply(sconn, 501, "5.5.4",
					  "Invalid end marker parameter");
			sconn->burl_failed = true;
			return true;
		}
		last = true;
	}
	url = sp == NULL ? i_strdup(args) :
		i_strndup(args, (size_t)(sp - args));
	if (sconn->cb->burl(sconn, sconn->context, url, NULL, &error) < 0) {
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid chunk URL: %s",
				  error);
		sconn->burl_failed = true;
		i_free(url);
		return true;
	}
	if (smtp_server_check_burl_failed(sconn)) {
		i_free(url);
		return true;
	}
	if (!smtp_server_check_data(sconn)) {
		sconn->burl_failed = true;
		i_free(url);
		return true;
	}
	if (sconn->bdat_failed) {
		smtp_server_reply(sconn, 503, "5.5.0", "Previous BDAT failed");
		if (last)
			smtp_server_transaction_free(sconn);
		i_free(url);
		return true;
	}
	data = str_new(4096);
	if (sconn->cb->burl(sconn, sconn->context, url, data, &error) < 0) {
		smtp_server_reply(sconn, 554, "5.6.6",
				  "IMAP URLAUTH resolution failed: %s", error);
		sconn->burl_failed = true;
		str_free(&data);
		i_free(url);
		return true;
	}
	i_free(url);
	if (!sconn->bdat_started) {
		if (!smtp_server_data_begin(sconn)) {
			str_free(&data);
			return true;
		}
		sconn->bdat_started = true;
	}
	(void)smtp_server_data_write(sconn, str_c(data), str_len(data));
	sconn->chunk_size = str_len(data);
	sconn->chunk_last = last;
	sconn->chunk_discard = false;
	str_free(&data);
	ret = smtp_server_chunk_done(sconn);
	return ret;
}

static bool cmd_rset(struct smtp_server_conn *sconn, const char *args)
{
	enum smtp_server_result result = SMTP_SERVER_ACCEPT;

	if (*args != '\0') {
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid parameters");
		return true;
	}
	smtp_server_transaction_free(sconn);
	sconn->burl_failed = false;
	if (sconn->cb->cmd_rset != NULL)
		result = sconn->cb->cmd_rset(sconn, sconn->context);
	if (result == SMTP_SERVER_ASYNC) {
		sconn->pending = SMTP_PENDING_OTHER;
		return false;
	}
	if (result == SMTP_SERVER_ACCEPT)
		smtp_server_reply(sconn, 250, "2.0.0", "OK");
	return true;
}

static bool cmd_vrfy(struct smtp_server_conn *sconn, const char *args)
{
	enum smtp_server_result result;

	if (*args == '\0') {
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid parameters");
		return true;
	}
	if (sconn->cb->cmd_vrfy == NULL) {
		smtp_server_reply(sconn, 252, "2.3.3", "Try RCPT instead");
		return true;
	}
	result = sconn->cb->cmd_vrfy(sconn, sconn->context, args);
	if (result == SMTP_SERVER_ASYNC) {
		sconn->pending = SMTP_PENDING_OTHER;
		return false;
	}
	if (result == SMTP_SERVER_ACCEPT)
		smtp_server_reply(sconn, 252, "2.3.3", "Try RCPT instead");
	return true;
}

/* One command line. Returns false when input processing must stop
 * (async command, QUIT, conn freed). */
static bool smtp_server_command(struct smtp_server_conn *sconn, char *line)
{
	char verb[SMTP_SERVER_VERB_MAX];
	const char *args;
	enum smtp_server_result result;

	if (sconn->line_handler != NULL)
		return sconn->line_handler(sconn, sconn->context, line);
	if (*line == '\0') {
		/* as Dovecot: an empty line is an unknown command */
		smtp_server_reply(sconn, 500, "5.5.1", "Unknown command");
		return true;
	}
	if (smtp_command_split(line, verb, sizeof(verb), &args) < 0) {
		smtp_server_reply(sconn, 500, "5.5.2", "Invalid command syntax");
		return true;
	}
	if (sconn->cb->cmd_pre != NULL &&
	    sconn->cb->cmd_pre(sconn, sconn->context, verb, args))
		return true;
	if (strcmp(verb, "HELO") == 0 || strcmp(verb, "EHLO") == 0 ||
	    strcmp(verb, "LHLO") == 0)
		cmd_helo(sconn, verb, args);
	else if (strcmp(verb, "MAIL") == 0)
		return cmd_mail(sconn, args);
	else if (strcmp(verb, "RCPT") == 0)
		return cmd_rcpt(sconn, args);
	else if (strcmp(verb, "DATA") == 0)
		cmd_data(sconn, args);
	else if (strcmp(verb, "BDAT") == 0)
		return cmd_bdat(sconn, args);
	else if (strcmp(verb, "BURL") == 0 && sconn->cb->burl != NULL)
		return cmd_burl(sconn, args);
	else if (strcmp(verb, "RSET") == 0)
		return cmd_rset(sconn, args);
	else if (strcmp(verb, "NOOP") == 0)
		smtp_server_reply(sconn, 250, "2.0.0", "OK");
	else if (strcmp(verb, "VRFY") == 0)
		return cmd_vrfy(sconn, args);
	else if (strcmp(verb, "QUIT") == 0 && *args != '\0')
		smtp_server_reply(sconn, 501, "5.5.4", "Invalid parameters");
	else if (strcmp(verb, "QUIT") == 0) {
		smtp_server_reply(sconn, 221, "2.0.0", "Bye");
		sconn->quit = true;
		return false;
	} else if (strcmp(verb, "HELP") == 0 && sconn->set.protocol ==
		   SMTP_SERVER_PROTOCOL_SMTP && sconn->cb->cmd_other == NULL) {
		smtp_server_reply(sconn, 214, "2.0.0", "Commands: HELO EHLO "
				  "MAIL RCPT DATA BDAT RSET NOOP VRFY QUIT");
	} else {
		result = sconn->cb->cmd_other == NULL ? SMTP_SERVER_UNKNOWN :
			sconn->cb->cmd_other(sconn, sconn->context, verb, args);
		if (result == SMTP_SERVER_ASYNC) {
			sconn->pending = SMTP_PENDING_OTHER;
			return false;
		}
		if (result == SMTP_SERVER_UNKNOWN)
			smtp_server_reply(sconn, 500, "5.5.1", "Unknown command");
	}
	return true;
}

/* ---- input ----------------------------------------------------------- */

/* DATA bytes: unstuff dots, find the end. Consumes what it can. */
static bool smtp_server_input_data(struct smtp_server_conn *sconn)
{
	struct connection *conn = sconn->conn;
	const char *buf = conn->inbuf, *end = buf + conn->in_len;
	const char *p = buf, *flush_from = buf;

	while (p < end) {
		if (sconn->data_line_start && *p == '.') {
			/* ".\r\n" or ".\n" ends; other dots are removed */
			if (p + 1 >= end ||
			    (p[1] == '\r' && p + 2 >= end))
				break;	/* need more */
			(void)smtp_server_data_write(sconn, flush_from,
						     (size_t)(p - flush_from));
			if (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')) {
				p += p[1] == '\n' ? 2 : 3;
				connection_input_skip(conn, (size_t)(p - buf));
				return smtp_server_message_done(sconn);
			}
			p++;
			flush_from = p;
			sconn->data_line_start = false;
			continue;
		}
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL) {
			p = end;
			sconn->data_line_start = false;
			break;
		}
		p = lf + 1;
		sconn->data_line_start = true;
	}
	(void)smtp_server_data_write(sconn, flush_from,
				     (size_t)(p - flush_from));
	connection_input_skip(conn, (size_t)(p - buf));
	return true;
}

static bool smtp_server_input_bdat(struct smtp_server_conn *sconn)
{
	struct connection *conn = sconn->conn;
	size_t n = conn->in_len;

	if ((uint64_t)n > sconn->chunk_left)
		n = (size_t)sconn->chunk_left;
	if (!sconn->chunk_discard)
		(void)smtp_server_data_write(sconn, conn->inbuf, n);
	connection_input_skip(conn, n);
	sconn->chunk_left -= n;
	if (sconn->chunk_left > 0)
		return true;
	return smtp_server_chunk_done(sconn);
}

/* Returns false when processing must stop for now. */
static bool smtp_server_input_command(struct smtp_server_conn *sconn)
{
	struct connection *conn = sconn->conn;
	char *lf = memchr(conn->inbuf, '\n', conn->in_len), *line;
	/* the verb, a space and the parameters */
	size_t max = sconn->set.max_command_line + SMTP_SERVER_VERB_MAX, len;
	const char *sp;
	bool cont;

	if (lf == NULL) {
		if (conn->in_len > max + 1) {
			/* drop what we have and the rest of the line */
			connection_input_skip(conn, conn->in_len);
			sconn->mode = SMTP_INPUT_SKIP_LINE;
		}
		return false;
	}
	len = (size_t)(lf - conn->inbuf);
	if (len > 0 && conn->inbuf[len - 1] == '\r')
		len--;
	sp = memchr(conn->inbuf, ' ', len);
	if (len > max || (sp != NULL && (size_t)(conn->inbuf + len - sp - 1) >
			  sconn->set.max_command_line)) {
		connection_input_skip(conn, (size_t)(lf - conn->inbuf) + 1);
		smtp_server_reply(sconn, 500, "5.5.2", "Line too long");
		return true;
	}
	line = i_strndup(conn->inbuf, len);
	connection_input_skip(conn, (size_t)(lf - conn->inbuf) + 1);
	if (strlen(line) != len) {
		/* a NUL inside the command */
		smtp_server_reply(sconn, 500, "5.5.2", "Invalid command syntax");
		free(line);
		return true;
	}
	cont = smtp_server_command(sconn, line);
	free(line);
	return cont;
}

static bool smtp_server_input(struct connection *conn)
{
	struct smtp_server_conn *sconn = conn->context;

	smtp_server_idle_reset(sconn);
	connection_cork(conn, true);
	while (conn->in_len > 0 && sconn->pending == SMTP_PENDING_NONE &&
	       !sconn->quit && !sconn->paused_by_owner && !sconn->terminated &&
	       !conn->disconnected) {
		size_t before = conn->in_len;
		bool cont = true;

		switch (sconn->mode) {
		case SMTP_INPUT_COMMAND:
			cont = smtp_server_input_command(sconn);
			break;
		case SMTP_INPUT_SKIP_LINE: {
			char *lf = memchr(conn->inbuf, '\n', conn->in_len);

			if (lf == NULL) {
				connection_input_skip(conn, conn->in_len);
				break;
			}
			connection_input_skip(conn,
				(size_t)(lf - conn->inbuf) + 1);
			sconn->mode = SMTP_INPUT_COMMAND;
			smtp_server_reply(sconn, 500, "5.5.2", "Line too long");
			break;
		}
		case SMTP_INPUT_DATA:
			cont = smtp_server_input_data(sconn);
			break;
		case SMTP_INPUT_BDAT:
			cont = smtp_server_input_bdat(sconn);
			break;
		}
		if (sconn->destroyed)
			return false;
		if (!cont || conn->in_len == before)
			break;
	}
	if (sconn->pending != SMTP_PENDING_NONE || sconn->paused_by_owner)
		connection_pause(conn, true);
	connection_cork(conn, false);
	if (sconn->quit) {
		(void)connection_flush_wait(conn, 1000);
		connection_pause(conn, true);
		sconn->cb->disconnected(sconn, sconn->context, "Logged out");
		return false;
	}
	return true;
}

static void smtp_server_disconnected(struct connection *conn,
				     const char *reason)
{
	struct smtp_server_conn *sconn = conn->context;

	if (sconn->disconnect_reason != NULL)
		reason = sconn->disconnect_reason;
	else if (sconn->mode == SMTP_INPUT_BDAT)
		reason = "Connection closed (unfinished BDAT command)";
	else if (sconn->mode == SMTP_INPUT_DATA)
		reason = "Connection closed (unfinished DATA command)";
	else if (strcmp(reason, "Input line too long") == 0)
		reason = "Connection closed";
	sconn->cb->disconnected(sconn, sconn->context, reason);
}

/* ---- public ---------------------------------------------------------- */

struct smtp_server_conn *
smtp_server_conn_create(struct ioloop *loop, int fd,
			const struct smtp_server_settings *set,
			const struct smtp_server_callbacks *callbacks,
			void *context)
{
	struct smtp_server_conn *sconn = i_new(struct smtp_server_conn, 1);

	sconn->loop = loop;
	sconn->set = *set;
	if (sconn->set.max_command_line == 0)
		sconn->set.max_command_line = SMTP_SERVER_DEFAULT_MAX_LINE;
	if (sconn->set.idle_timeout_msecs == 0)
		sconn->set.idle_timeout_msecs = SMTP_SERVER_DEFAULT_TIMEOUT_MSECS;
	if (sconn->set.hostname == NULL)
		sconn->set.hostname = "localhost";
	sconn->cb = callbacks;
	sconn->context = context;
	/* raw input: the buffer holds at most one line (+ CRLF) or one
	   read of DATA/BDAT bytes */
	sconn->conn = connection_create(loop, fd, sconn->set.max_command_line +
					SMTP_SERVER_VERB_MAX + 2,
					SMTP_SERVER_MAX_OUTPUT,
					&smtp_server_conn_vfuncs, sconn);
	sconn->to_idle = timeout_add(loop, sconn->set.idle_timeout_msecs,
				     smtp_server_idle_timeout, sconn);
	if (!sconn->set.no_greeting) {
		smtp_server_reply(sconn, 220, NULL, "%s %s",
				  sconn->set.hostname,
				  sconn->set.greeting != NULL ?
				  sconn->set.greeting : "ESMTP ready.");
	}
	return sconn;
}

void smtp_server_conn_free(struct smtp_server_conn **_sconn)
{
	struct smtp_server_conn *sconn = *_sconn;

	if (sconn == NULL)
		return;
	*_sconn = NULL;
	sconn->destroyed = true;
	smtp_server_transaction_free(sconn);
	timeout_remove(&sconn->to_idle);
	timeout_remove(&sconn->to_resume);
	connection_free(&sconn->conn);
	free(sconn->helo);
	free(sconn);
}

static void smtp_server_resume_input(void *context)
{
	struct smtp_server_conn *sconn = context;

	timeout_remove(&sconn->to_resume);
	connection_pause(sconn->conn, false);
	(void)connection_process_input(sconn->conn);
}

void smtp_server_command_finish(struct smtp_server_conn *sconn,
				enum smtp_server_result result)
{
	enum smtp_pending_cmd pending = sconn->pending;

	i_assert(pending != SMTP_PENDING_NONE);
	i_assert(result != SMTP_SERVER_ASYNC);
	sconn->pending = SMTP_PENDING_NONE;
	switch (pending) {
	case SMTP_PENDING_MAIL:
		smtp_server_mail_done(sconn, result);
		break;
	case SMTP_PENDING_RCPT:
		smtp_server_rcpt_done(sconn, result);
		break;
	case SMTP_PENDING_DATA:
		smtp_server_transaction_free(sconn);
		break;
	case SMTP_PENDING_OTHER:
		if (result == SMTP_SERVER_UNKNOWN)
			smtp_server_reply(sconn, 500, "5.5.1",
					  "Unknown command");
		else if (result == SMTP_SERVER_ACCEPT)
			smtp_server_reply(sconn, 250, "2.0.0", "OK");
		break;
	case SMTP_PENDING_NONE:
		break;
	}
	smtp_server_idle_reset(sconn);
	/* resumed from the loop: the owner's call returns first */
	if (!sconn->paused_by_owner && sconn->to_resume == NULL)
		sconn->to_resume = timeout_add(sconn->loop, 0,
					       smtp_server_resume_input, sconn);
}

void smtp_server_conn_terminate(struct smtp_server_conn *sconn,
				const char *enh, const char *text)
{
	smtp_server_reply(sconn, 421, enh, "%s %s", sconn->set.hostname, text);
	(void)connection_flush_wait(sconn->conn, 100);
	sconn->terminated = true;
	sconn->disconnect_reason = text;
	/* the owner hears it from the loop (the read sees the end), not
	   from inside its own call */
	shutdown(sconn->conn->fd, SHUT_RDWR);
	connection_pause(sconn->conn, false);
}

void smtp_server_conn_set_helo(struct smtp_server_conn *sconn,
			       const char *domain, bool ehlo)
{
	free(sconn->helo);
	sconn->helo = i_strdup(domain);
	sconn->ehlo = ehlo;
	if (sconn->state == SMTP_SERVER_STATE_GREETING)
		sconn->state = SMTP_SERVER_STATE_READY;
}

void smtp_server_conn_set_capabilities(struct smtp_server_conn *sconn,
				       enum smtp_capability caps)
{
	sconn->set.capabilities = caps;
}

void smtp_server_conn_reset(struct smtp_server_conn *sconn)
{
	smtp_server_transaction_free(sconn);
	free(sconn->helo);
	sconn->helo = NULL;
	sconn->state = SMTP_SERVER_STATE_GREETING;
	sconn->mode = SMTP_INPUT_COMMAND;
}

void smtp_server_conn_set_line_handler(struct smtp_server_conn *sconn,
				       smtp_server_line_handler_t *handler)
{
	sconn->line_handler = handler;
}

struct connection *smtp_server_conn_get_connection(struct smtp_server_conn *sconn)
{
	return sconn->conn;
}

void smtp_server_conn_take_input(struct smtp_server_conn *sconn,
				 string_t *dest)
{
	struct connection *conn = sconn->conn;

	if (conn->in_len > 0)
		str_append_n(dest, conn->inbuf, conn->in_len);
	connection_input_skip(conn, conn->in_len);
}

void smtp_server_conn_pause(struct smtp_server_conn *sconn, bool pause)
{
	sconn->paused_by_owner = pause;
	if (pause)
		connection_pause(sconn->conn, true);
	else if (sconn->pending == SMTP_PENDING_NONE &&
		 sconn->to_resume == NULL)
		sconn->to_resume = timeout_add(sconn->loop, 0,
					       smtp_server_resume_input, sconn);
}

enum smtp_server_state smtp_server_conn_get_state(const struct smtp_server_conn *sconn)
{
	return sconn->state;
}

const char *smtp_server_conn_get_helo(const struct smtp_server_conn *sconn)
{
	return sconn->helo;
}

struct smtp_server_transaction *
smtp_server_conn_get_transaction(struct smtp_server_conn *sconn)
{
	return sconn->trans;
}

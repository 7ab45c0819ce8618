/* submission-client.c - the logged-in submission session: the client's
 * commands are answered by the SMTP server state machine (daemon/smtp),
 * and MAIL, RCPT, VRFY and the finished message are relayed to
 * submission_relay_host one at a time through the SMTP client, whose
 * replies go back to the client as Dovecot passes them (protocols.md
 * 3). A message reaches the relay only once it is complete (the server
 * spools it to an unlinked temp file), so a client that disconnects in
 * the middle of DATA sends nothing, and a relay that fails answers 4xx. */
#include "submission-client.h"
#include "base64.h"
#include "smtp-client.h"
#include "smtp-server.h"
#include "str.h"
#include "var-expand.h"

#include <fcntl.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include "imap-urlauth.h"

#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Dovecot keeps this much of the relay's SIZE for its own Received
 * header: SIZE is advertised 1024 lower and MAIL's SIZE= sent 1024
 * higher. */
#define SUBMISSION_SIZE_RESERVE 1024
#define SUBMISSION_DEFAULT_MAX_SIZE (40 * 1024 * 1024)

struct submission_client {
	struct ioloop *loop;
	const struct settings_root *set;
	/* BURL: the user's mail (NULL without imap_urlauth_host) */
	struct mail_user *user;
	struct imap_urlauth_context urlauth;
	char *username, *session_id, *hostname;
	char *helo, *rip, *lip;
	unsigned int rport, lport;
	bool ehlo, tls, any_command;
	/* the message id base for Received: and the log (22 chars) */
	char id_base[32];
	int fd;
	string_t *input;		/* pipelined behind AUTH */
	uint64_t out_extra;		/* "235 ..." written before sconn */
	uint64_t in_extra;		/* input pipelined behind AUTH */

	struct smtp_server_conn *sconn;
	struct smtp_client *relay;
	/* the relay has an open MAIL transaction (RSET it when ours ends
	   without a message) */
	bool relay_in_transaction;
	bool destroyed, relay_gone;
	/* the client's RSET is being handled (it resets the relay itself) */
	bool rset_command;
	/* the command waiting for the relay (one at a time: input stops
	   while a server callback is asynchronous); kept here, not in the
	   relay command's context, so that a session ending meanwhile
	   frees it */
	char *rcpt_address;
	char *data_from, *data_id;
	uint64_t data_size;
	unsigned int data_nrcpt;
	char *terminate_reason;
	char *log_prefix;	/* "submission(user)<pid><session>: " */
	struct timeout *start_to;

	submission_client_destroyed_t *destroyed_cb;
	void *destroyed_context;
};

static void client_destroy(struct submission_client *client,
			   const char *reason);

/* The worker serves many sessions: each callback that may log puts
 * its session's prefix (mail_log_prefix) in place first. */
static void client_log_prefix(struct submission_client *client)
{
	log_set_prefix(client->log_prefix);
}

/* ---- Received: ---- */

void submission_received_header(string_t *dest, const char *helo,
				const char *rip, const char *hostname,
				bool ehlo, bool tls, const char *id,
				const char *mail_from, const char *rcpt,
				time_t now)
{
	static const char *const wdays[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	long off;

	if (localtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	off = tm.tm_gmtoff / 60;
	str_printfa(dest, "Received: from %s ([%s])\r\n",
		    helo == NULL || helo[0] == '\0' ? "unknown" : helo, rip);
	str_printfa(dest, "\tby %s with %sSMTP%sA\r\n", hostname,
		    ehlo ? "E" : "", tls ? "S" : "");
	str_printfa(dest, "\tid %s\r\n", id);
	str_printfa(dest, "\t(envelope-from <%s>)", mail_from);
	if (rcpt != NULL)
		str_printfa(dest, "\r\n\tfor <%s>", rcpt);
	str_printfa(dest, "; %s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld\r\n",
		    wdays[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60 % 100,
		    (off < 0 ? -off : off) % 60);
}

/* ---- relay replies to the client ---- */

/* Pass a relay reply on: its enhanced code where the relay gives them
 * (ENHANCEDSTATUSCODES), else def_enh for a success and "X.0.0" for a
 * failure, as Dovecot does; prefix goes before the text (RCPT
 * failures: "<address> "). */
static void reply_relayed(struct submission_client *client,
			  const struct smtp_reply *reply, const char *def_enh,
			  const char *prefix)
{
	bool relay_enh = (smtp_client_caps(client->relay) &
			  SMTP_CLIENT_CAP_ENHANCEDSTATUSCODES) != 0;
	string_t *text = str_new(256);
	char enh[16], fail_enh[16];
	const char *line = reply->text;

	if (reply->status >= 400) {
		snprintf(fail_enh, sizeof(fail_enh), "%u.0.0",
			 (reply->status / 100) % 10);
		def_enh = fail_enh;
	}
	snprintf(enh, sizeof(enh), "%s", def_enh);
	for (bool first = true;; first = false) {
		const char *nl = strchr(line, '\n'), *rest = line;
		char *one = nl == NULL ? i_strdup(line) :
			i_strndup(line, (size_t)(nl - line));
		char this_enh[16];

		if (relay_enh &&
		    smtp_reply_split_enhanced(one, this_enh, &rest)) {
			if (first)
				snprintf(enh, sizeof(enh), "%s", this_enh);
		}
		if (!first)
			str_append_c(text, '\n');
		if (first && prefix != NULL)
			str_append(text, prefix);
		str_append(text, rest);
		i_free(one);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	smtp_server_reply(client->sconn, reply->status, enh, "%s", str_c(text));
	str_free(&text);
}

/* The relay connection is gone: 421 and the session ends. */
static void relay_failed(struct submission_client *client, const char *why)
{
	char *text;

	if (client->relay_gone)
		return;
	client->relay_gone = true;
	text = i_strdup_printf("Lost connection to relay server (%s)",
				     why);
	/* the server keeps the text for the disconnect line */
	i_free(client->terminate_reason);
	client->terminate_reason = text;
	smtp_server_conn_terminate(client->sconn, "4.4.0", text);
}

static void relay_lost(const char *reason, void *context)
{
	struct submission_client *client = context;

	relay_failed(client, reason);
}

/* ---- MAIL ---- */

static void mail_reply(const struct smtp_reply *reply, void *context)
{
	struct submission_client *client = context;

	if (reply->status == 0) {
		relay_failed(client, reply->text);
		return;
	}
	reply_relayed(client, reply, "2.1.0", NULL);
	client->relay_in_transaction = reply->status / 100 == 2;
	smtp_server_command_finish(client->sconn, reply->status / 100 == 2 ?
				   SMTP_SERVER_REPLIED_OK :
				   SMTP_SERVER_REPLIED_FAIL);
}

static uint64_t client_max_size(struct submission_client *client)
{
	uint64_t relay_max = smtp_client_max_size(client->relay);
	uint64_t limit = relay_max > SUBMISSION_SIZE_RESERVE ?
		relay_max - SUBMISSION_SIZE_RESERVE : 0;
	uint64_t max = client->set->submission_max_mail_size;

	if (max > 0 && (limit == 0 || max < limit))
		limit = max;
	/* neither the relay nor the admin set one: Dovecot's 40 MB */
	return limit == 0 ? SUBMISSION_DEFAULT_MAX_SIZE : limit;
}

static enum smtp_server_result
client_cmd_mail(struct smtp_server_conn *sconn ATTR_UNUSED, void *context,
		struct smtp_server_transaction *t)
{
	struct submission_client *client = context;
	const struct smtp_params_mail *p = &t->mail_params;
	string_t *line = str_new(256);

	/* the parameters in Dovecot's order; AUTH= is not passed on */
	str_printfa(line, "MAIL FROM:<%s>", t->mail_from_str);
	if (p->body == SMTP_BODY_7BIT)
		str_append(line, " BODY=7BIT");
	else if (p->body == SMTP_BODY_8BITMIME)
		str_append(line, " BODY=8BITMIME");
	else if (p->body == SMTP_BODY_BINARYMIME)
		str_append(line, " BODY=BINARYMIME");
	if (p->envid != NULL) {
		str_append(line, " ENVID=");
		smtp_xtext_encode(line, p->envid);
	}
	if (p->ret == SMTP_DSN_RET_FULL)
		str_append(line, " RET=FULL");
	else if (p->ret == SMTP_DSN_RET_HDRS)
		str_append(line, " RET=HDRS");
	if (p->size_given)
		str_printfa(line, " SIZE=%llu", (unsigned long long)
			    (p->size + SUBMISSION_SIZE_RESERVE));
	smtp_client_command(client->relay, str_c(line), mail_reply, client);
	str_free(&line);
	return SMTP_SERVER_ASYNC;
}

/* ---- RCPT ---- */

static void rcpt_reply(const struct smtp_reply *reply, void *context)
{
	struct submission_client *client = context;

	if (reply->status == 0) {
		relay_failed(client, reply->text);
	} else if (reply->status / 100 == 2) {
		reply_relayed(client, reply, "2.0.0", NULL);
		smtp_server_command_finish(client->sconn, SMTP_SERVER_REPLIED_OK);
	} else {
		char *prefix = i_strdup_printf("<%s> ", client->rcpt_address);

		reply_relayed(client, reply, "2.0.0", prefix);
		i_free(prefix);
		smtp_server_command_finish(client->sconn,
					   SMTP_SERVER_REPLIED_FAIL);
	}
	i_free(client->rcpt_address);
}

static enum smtp_server_result
client_cmd_rcpt(struct smtp_server_conn *sconn ATTR_UNUSED, void *context,
		struct smtp_server_transaction *t,
		struct smtp_server_recipient *rcpt)
{
	struct submission_client *client = context;
	const struct smtp_params_rcpt *p = &rcpt->params;
	unsigned int max = client->set->submission_max_recipients;
	string_t *line;

	if (max > 0 && t->rcpt_count >= max) {
		smtp_server_reply(client->sconn, 451, "4.5.3",
				  "Too many recipients");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	line = str_new(256);
	str_printfa(line, "RCPT TO:<%s>", rcpt->address);
	if (p->notify != 0) {
		static const struct {
			unsigned int bit;
			const char *name;
		} notify[] = {
			{ SMTP_DSN_NOTIFY_NEVER, "NEVER" },
			{ SMTP_DSN_NOTIFY_SUCCESS, "SUCCESS" },
			{ SMTP_DSN_NOTIFY_FAILURE, "FAILURE" },
			{ SMTP_DSN_NOTIFY_DELAY, "DELAY" },
		};
		bool first = true;

		str_append(line, " NOTIFY=");
		for (unsigned int i = 0; i < N_ELEMENTS(notify); i++) {
			if ((p->notify & notify[i].bit) == 0)
				continue;
			if (!first)
				str_append_c(line, ',');
			str_append(line, notify[i].name);
			first = false;
		}
	}
	if (p->orcpt != NULL) {
		str_printfa(line, " ORCPT=%s;", p->orcpt_type != NULL ?
			    p->orcpt_type : "rfc822");
		smtp_xtext_encode(line, p->orcpt);
	}
	i_free(client->rcpt_address);
	client->rcpt_address = i_strdup(rcpt->address);
	smtp_client_command(client->relay, str_c(line), rcpt_reply, client);
	str_free(&line);
	return SMTP_SERVER_ASYNC;
}

/* ---- the message ---- */

static void data_reply(const struct smtp_reply *reply, void *context)
{
	struct submission_client *client = context;

	client_log_prefix(client);

	client->relay_in_transaction = false;
	if (reply->status == 0) {
		relay_failed(client, reply->text);
	} else {
		char enh[16];
		const char *rest;
		bool relay_enh = (smtp_client_caps(client->relay) &
				  SMTP_CLIENT_CAP_ENHANCEDSTATUSCODES) != 0;
		char *line;

		reply_relayed(client, reply, "2.0.0", NULL);
		/* the log shows the reply as the client got it */
		if (relay_enh && smtp_reply_split_enhanced(reply->text, enh,
							   &rest))
			line = i_strdup_printf("%u %s %s", reply->status, enh, rest);
		else
			line = i_strdup_printf("%u %s %s", reply->status,
					       reply->status / 100 == 2 ? "2.0.0" :
					       reply->status / 100 == 4 ? "4.0.0" :
					       "5.0.0", reply->text);
		for (char *p = line; *p != '\0'; p++) {
			if (*p == '\n')
				*p = ' ';
		}
		if (reply->status / 100 == 2) {
			i_info("Successfully relayed message: from=<%s>, size=%llu, "
			       "id=%s, nrcpt=%u, reply=`%s'", client->data_from,
			       (unsigned long long)client->data_size,
			       client->data_id, client->data_nrcpt, line);
		} else {
			i_info("Failed to relay message: from=<%s>, size=%llu, "
			       "id=%s, nrcpt=%u, reply=`%s'", client->data_from,
			       (unsigned long long)client->data_size,
			       client->data_id, client->data_nrcpt, line);
		}
		i_free(line);
		smtp_server_command_finish(client->sconn, reply->status / 100 == 2 ?
					   SMTP_SERVER_REPLIED_OK :
					   SMTP_SERVER_REPLIED_FAIL);
	}
	i_free(client->data_from);
	i_free(client->data_id);
}

static enum smtp_server_result
client_data(struct smtp_server_conn *sconn ATTR_UNUSED, void *context,
	    struct smtp_server_transaction *t)
{
	struct submission_client *client = context;
	string_t *hdr = str_new(512);

	i_free(client->data_from);
	i_free(client->data_id);
	client->data_from = i_strdup(t->mail_from_str);
	client->data_id = t->seq > 1 ?
		i_strdup_printf("%s:T%u", client->id_base, t->seq) :
		i_strdup(client->id_base);
	client->data_size = t->data_size;
	client->data_nrcpt = t->rcpt_count;
	submission_received_header(hdr, client->helo, client->rip,
				   client->hostname, client->ehlo ||
				   client->helo == NULL, client->tls, client->data_id,
				   t->mail_from_str, t->rcpt_count == 1 ?
				   t->rcpts[0]->address : NULL, time(NULL));
	smtp_client_send_message(client->relay, str_c(hdr), t->data_fd,
				 t->data_size, data_reply, client);
	str_free(&hdr);
	return SMTP_SERVER_ASYNC;
}

static void relay_rset_reply(const struct smtp_reply *reply ATTR_UNUSED,
			     void *context ATTR_UNUSED)
{
}

static void rset_reply(const struct smtp_reply *reply, void *context)
{
	struct submission_client *client = context;

	if (reply->status == 0) {
		relay_failed(client, reply->text);
		return;
	}
	reply_relayed(client, reply, "2.0.0", NULL);
	smtp_server_command_finish(client->sconn, reply->status / 100 == 2 ?
				   SMTP_SERVER_REPLIED_OK :
				   SMTP_SERVER_REPLIED_FAIL);
}

/* RSET goes to the relay and its reply back, as Dovecot does. */
static enum smtp_server_result
client_cmd_rset(struct smtp_server_conn *sconn ATTR_UNUSED, void *context)
{
	struct submission_client *client = context;

	client->rset_command = false;
	client->relay_in_transaction = false;
	smtp_client_command(client->relay, "RSET", rset_reply, client);
	return SMTP_SERVER_ASYNC;
}

static void client_transaction_free(struct smtp_server_conn *sconn ATTR_UNUSED,
				    void *context,
				    struct smtp_server_transaction *t ATTR_UNUSED)
{
	struct submission_client *client = context;

	/* RSET, a new EHLO or the end of the session before the message:
	   the relay's transaction is dropped as well */
	if (client->relay_in_transaction && !client->destroyed &&
	    !client->rset_command &&
	    smtp_client_is_ready(client->relay)) {
		client->relay_in_transaction = false;
		smtp_client_command(client->relay, "RSET", relay_rset_reply,
				    client);
	}
}

/* ---- other commands ---- */

static void vrfy_reply(const struct smtp_reply *reply, void *context)
{
	struct submission_client *client = context;

	if (reply->status == 0) {
		relay_failed(client, reply->text);
		return;
	}
	reply_relayed(client, reply, "2.0.0", NULL);
	smtp_server_command_finish(client->sconn, reply->status / 100 == 2 ?
				   SMTP_SERVER_REPLIED_OK :
				   SMTP_SERVER_REPLIED_FAIL);
}

static enum smtp_server_result
client_cmd_vrfy(struct smtp_server_conn *sconn ATTR_UNUSED, void *context,
		const char *args)
{
	struct submission_client *client = context;
	char *line = i_strdup_printf("VRFY %s", args);

	smtp_client_command(client->relay, line, vrfy_reply, client);
	i_free(line);
	return SMTP_SERVER_ASYNC;
}

static enum smtp_server_result
client_cmd_other(struct smtp_server_conn *sconn ATTR_UNUSED, void *context,
		 const char *verb, const char *args ATTR_UNUSED)
{
	struct submission_client *client = context;

	if (strcmp(verb, "AUTH") == 0) {
		smtp_server_reply(client->sconn, 503, "5.5.0",
				  "Already authenticated");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	if (strcmp(verb, "STARTTLS") == 0) {
		smtp_server_reply(client->sconn, 502, "5.5.1", client->tls ?
				  "TLS is already active." :
				  "TLS support is not enabled.");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	return SMTP_SERVER_UNKNOWN;
}

static bool client_cmd_pre(struct smtp_server_conn *sconn ATTR_UNUSED,
			   void *context, const char *verb, const char *args)
{
	struct submission_client *client = context;

	if (strcmp(verb, "RSET") == 0 && args[0] == '\0')
		client->rset_command = true;
	/* Dovecot's state stays GREETING through QUIT and NOOP */
	if (strcmp(verb, "QUIT") != 0 && strcmp(verb, "NOOP") != 0)
		client->any_command = true;
	return false;
}

static void client_helo(struct smtp_server_conn *sconn ATTR_UNUSED,
			void *context, const char *verb, const char *domain,
			string_t *extra_caps)
{
	struct submission_client *client = context;

	i_free(client->helo);
	client->helo = i_strdup(domain);
	client->ehlo = strcmp(verb, "HELO") != 0;
	/* AUTH without mechanisms: the session is authenticated */
	str_append(extra_caps, "AUTH\n");
	/* as Dovecot, also without imap_urlauth_host (URLs then name
	   hostname, and no IMAP session can make them) */
	str_printfa(extra_caps, "BURL imap imap://%s", client->urlauth.host);
	if (client->urlauth.port != 143)
		str_printfa(extra_caps, ":%u", client->urlauth.port);
	str_append_c(extra_caps, '\n');
}

/* BURL: URLs of the user's own mail, with submit+<user> access */
static int client_burl(struct smtp_server_conn *sconn ATTR_UNUSED,
		       void *context, const char *url, string_t *dest,
		       const char **error_r)
{
	struct submission_client *client = context;
	struct imap_urlauth_fetch *fetch;
	struct imap_urlauth_url u;
	const char *error;
	pool_t pool = pool_create("burl", 512);
	int ret = 0;

	if (dest == NULL) {
		if (imap_urlauth_url_parse(pool, url, &u, &error) < 0)
			ret = -1;
	} else if (client->user == NULL) {
		error = "URLAUTH is not enabled (imap_urlauth_host is not set)";
		ret = -1;
	} else if (imap_urlauth_fetch_open(&client->urlauth, pool, url,
					   &fetch, &error) < 0) {
		ret = -1;
	} else {
		imap_urlauth_fetch_body(fetch, dest);
		imap_urlauth_fetch_close(&fetch);
	}
	if (ret < 0) {
		static char text[1024];

		if (dest == NULL)
			snprintf(text, sizeof(text), "%s", error);
		else
			snprintf(text, sizeof(text),
				 "Failed to fetch URLAUTH \"%s\": %s", url,
				 error);
		*error_r = text;
	}
	pool_destroy(&pool);
	return ret;
}

/* ---- the session ---- */

static const char *client_logout_stats(struct submission_client *client)
{
	char in[24], out[24];
	const struct var_expand_table table[] = {
		{ 'i', in, "input" },
		{ 'o', out, "output" },
		{ '\0', NULL, NULL },
	};
	static char result[512];
	string_t *str = str_new(128);
	const char *error;
	struct connection *conn = client->sconn == NULL ? NULL :
		smtp_server_conn_get_connection(client->sconn);

	snprintf(in, sizeof(in), "%llu", (unsigned long long)
		 ((conn == NULL ? 0 : conn->bytes_in) + client->in_extra));
	snprintf(out, sizeof(out), "%llu", (unsigned long long)
		 ((conn == NULL ? 0 : conn->bytes_out) + client->out_extra));
	(void)var_expand(str, client->set->submission_logout_format, table,
			 NULL, NULL, &error);
	snprintf(result, sizeof(result), "%s", str_c(str));
	str_free(&str);
	return result;
}

static void client_disconnected(struct smtp_server_conn *sconn,
				void *context, const char *reason)
{
	struct submission_client *client = context;
	client_log_prefix(client);
	const char *state = !client->any_command ? "GREETING" :
		smtp_server_state_name(smtp_server_conn_get_state(sconn));

	i_info("Disconnected: %s (state=%s) %s", reason, state,
	       client_logout_stats(client));
	client_destroy(client, NULL);
}

static const struct smtp_server_callbacks client_callbacks = {
	.helo = client_helo,
	.cmd_pre = client_cmd_pre,
	.cmd_mail = client_cmd_mail,
	.cmd_rcpt = client_cmd_rcpt,
	.data = client_data,
	.transaction_free = client_transaction_free,
	.cmd_rset = client_cmd_rset,
	.cmd_other = client_cmd_other,
	.cmd_vrfy = client_cmd_vrfy,
	.burl = client_burl,
	.disconnected = client_disconnected,
};

static void client_destroy(struct submission_client *client,
			   const char *reason)
{
	submission_client_destroyed_t *cb = client->destroyed_cb;
	void *context = client->destroyed_context;

	if (client->destroyed)
		return;
	client->destroyed = true;
	if (reason != NULL)
		i_info("Disconnected: %s", reason);
	timeout_remove(&client->start_to);
	smtp_server_conn_free(&client->sconn);
	smtp_client_destroy(&client->relay);
	if (client->fd >= 0)
		close(client->fd);
	if (client->input != NULL)
		str_free(&client->input);
	i_free(client->username);
	i_free(client->session_id);
	i_free(client->hostname);
	i_free(client->helo);
	i_free(client->rip);
	i_free(client->lip);
	i_free(client->terminate_reason);
	i_free(client->log_prefix);
	i_free(client->rcpt_address);
	i_free(client->data_from);
	i_free(client->data_id);
	i_free(client);
	cb(context);
}

/* Is name in submission_client_workarounds (checked at config load:
 * only known names get here)? */
static bool workaround_set(struct submission_client *client, const char *name)
{
	const char *list = client->set->submission_client_workarounds;
	size_t len = strlen(name);

	for (const char *p = list; (p = strstr(p, name)) != NULL; p += len) {
		if ((p == list || p[-1] == ' ' || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ' ' || p[len] == ','))
			return true;
	}
	return false;
}

/* The server side starts once the relay is there (or failed): the
 * SIZE and DSN the client is offered depend on the relay. */
static void client_start_server(struct submission_client *client)
{
	struct smtp_server_settings sset;
	enum smtp_client_capability rcaps = smtp_client_caps(client->relay);
	struct connection *conn;

	memset(&sset, 0, sizeof(sset));
	sset.protocol = SMTP_SERVER_PROTOCOL_SMTP;
	sset.hostname = client->hostname;
	sset.no_greeting = true;
	sset.capabilities = SMTP_CAP_8BITMIME | SMTP_CAP_CHUNKING |
		SMTP_CAP_ENHANCEDSTATUSCODES | SMTP_CAP_PIPELINING |
		SMTP_CAP_SIZE | SMTP_CAP_AUTH;	/* AUTH=: the EHLO line is ours */
	if ((rcaps & SMTP_CLIENT_CAP_DSN) != 0)
		sset.capabilities |= SMTP_CAP_DSN;
	/* VRFY is listed when the relay lists it (Postfix does) */
	if ((rcaps & SMTP_CLIENT_CAP_VRFY) != 0)
		sset.capabilities |= SMTP_CAP_VRFY;
	sset.max_message_size = client_max_size(client);
	sset.size_limit_enh = "5.2.3";
	sset.size_limit_text = "Message size exceeds administrative limit";
	sset.temp_dir = client->set->mail_temp_dir[0] != '\0' ?
		client->set->mail_temp_dir : NULL;
	sset.idle_timeout_msecs = 0;
	sset.workaround_whitespace_before_path =
		workaround_set(client, "whitespace-before-path");
	sset.workaround_mailbox_for_path =
		workaround_set(client, "mailbox-for-path");
	sset.ascii_paths_only = true;
	sset.no_rcpt_554 = true;
	client->sconn = smtp_server_conn_create(client->loop, client->fd, &sset,
						&client_callbacks, client);
	client->fd = -1;
	/* the HELO state of the login: MAIL may come without EHLO */
	smtp_server_conn_set_helo(client->sconn, client->helo, client->ehlo);
	conn = smtp_server_conn_get_connection(client->sconn);
	if (client->input != NULL && str_len(client->input) > 0) {
		if (connection_input_inject(conn, str_c(client->input),
					    str_len(client->input)) < 0)
			i_error("Pipelined input too long");
		else
			client->in_extra += str_len(client->input);
		(void)connection_process_input(conn);
	}
}

static void relay_ready(const struct smtp_reply *reply, void *context)
{
	struct submission_client *client = context;
	client_log_prefix(client);

	client_start_server(client);
	if (reply->status == 250) {
		smtp_client_set_lost_callback(client->relay, relay_lost, client);
		return;
	}
	/* Dovecot's texts: the connect failure is logged as an error,
	   the client gets 421 */
	if (reply->status == 0) {
		i_error("smtp-client: conn %s:%u [1]: %s",
			client->set->submission_relay_host,
			client->set->submission_relay_port, reply->text);
		smtp_server_conn_terminate(client->sconn, "4.4.0",
			strncmp(reply->text, "connect(", 8) == 0 ?
			"Failed to connect to relay server (connect)" :
			"Lost connection to relay server (connection lost)");
		return;
	}
	i_error("smtp-client: conn %s:%u [1]: Relay server refused the "
		"connection: %u %s", client->set->submission_relay_host,
		client->set->submission_relay_port, reply->status, reply->text);
	smtp_server_conn_terminate(client->sconn, "4.4.0",
				   "Failed to establish relay connection");
}

static void client_write_now(struct submission_client *client, const char *text)
{
	size_t len = strlen(text);

	if (write(client->fd, text, len) == (ssize_t)len)
		client->out_extra += len;
}

/* No relay host: Dovecot's replies instead of 235, then the session
 * ends. From the loop, so that the caller's create returns first. */
static void client_no_relay(void *context)
{
	struct submission_client *client = context;
	client_log_prefix(client);

	timeout_remove(&client->start_to);
	i_error("No relay host configured for submission proxy "
		"(submission_relay_host is unset)");
	client_write_now(client, "451 4.3.5 Internal error occurred. "
			 "Refer to server log for more information.\r\n");
	char *bye = i_strdup_printf("421 4.3.2 %s Shutting down due to fatal "
				    "error\r\n", client->hostname);
	client_write_now(client, bye);
	i_free(bye);
	client_destroy(client, NULL);
}

static enum smtp_client_ssl relay_ssl(const char *value)
{
	if (strcmp(value, "smtps") == 0)
		return SMTP_CLIENT_SSL_SMTPS;
	if (strcmp(value, "starttls") == 0)
		return SMTP_CLIENT_SSL_STARTTLS;
	return SMTP_CLIENT_SSL_NO;
}

static void id_generate(char *dest, size_t size)
{
	unsigned char raw[16];
	string_t *str = str_new(32);

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		i_fatal("getrandom() failed: %m");
	base64_encode(str, raw, sizeof(raw));
	/* 22 characters, without the "==" padding */
	str_truncate(str, 22);
	snprintf(dest, size, "%s", str_c(str));
	str_free(&str);
}

struct submission_client *
submission_client_create(struct ioloop *loop, int fd, const char *username,
			 const struct settings_root *set,
			 const char *session_id,
			 const struct submission_client_start *start,
			 submission_client_destroyed_t *destroyed,
			 void *context)
{
	struct submission_client *client = i_new(struct submission_client, 1);
	struct smtp_client_settings cset;
	char name[256];

	client->loop = loop;
	client->set = set;
	client->fd = fd;
	client->username = i_strdup(username);
	client->session_id = i_strdup(session_id);
	if (set->hostname[0] != '\0') {
		client->hostname = i_strdup(set->hostname);
	} else {
		if (gethostname(name, sizeof(name) - 1) < 0)
			snprintf(name, sizeof(name), "localhost");
		name[sizeof(name) - 1] = '\0';
		client->hostname = i_strdup(name);
	}
	client->user = start->user;
	imap_urlauth_context_init(&client->urlauth, start->user, client->username,
				  set, true);
	if (set->imap_urlauth_host[0] == '\0')
		client->urlauth.host = client->hostname;
	client->helo = start->helo == NULL ? NULL : i_strdup(start->helo);
	client->ehlo = start->ehlo;
	client->tls = start->tls;
	client->rip = i_strdup(start->rip == NULL ? "" : start->rip);
	client->lip = i_strdup(start->lip == NULL ? "" : start->lip);
	client->rport = start->rport;
	client->lport = start->lport;
	client->log_prefix = i_strdup_printf("submission(%s)<%ld><%s>: ",
					     username, (long)getpid(), session_id);
	client->destroyed_cb = destroyed;
	client->destroyed_context = context;
	id_generate(client->id_base, sizeof(client->id_base));
	if (start->input_size > 0) {
		client->input = str_new(start->input_size + 1);
		str_append_n(client->input, start->input, start->input_size);
	}
	if (set->submission_relay_host[0] == '\0') {
		client->start_to = timeout_add(loop, 0, client_no_relay, client);
		return client;
	}
	if (start->send_logged_in)
		client_write_now(client, "235 2.7.0 Logged in.\r\n");

	memset(&cset, 0, sizeof(cset));
	cset.host = set->submission_relay_host;
	cset.port = set->submission_relay_port;
	cset.helo_name = client->hostname;
	cset.ssl = relay_ssl(set->submission_relay_ssl);
	cset.ssl_verify = set->submission_relay_ssl_verify;
	cset.ssl_client_ca_file = set->ssl_client_ca_file;
	cset.ssl_client_ca_dir = set->ssl_client_ca_dir;
	cset.user = set->submission_relay_user;
	cset.master_user = set->submission_relay_master_user;
	cset.password = set->submission_relay_password;
	cset.xclient = set->submission_relay_trusted;
	cset.xclient_addr = client->rip;
	cset.xclient_port = client->rport;
	cset.xclient_helo = client->helo;
	cset.xclient_login = username;
	cset.xclient_proto = client->ehlo || client->helo == NULL ?
		"ESMTP" : "SMTP";
	cset.connect_timeout_msecs = set->submission_relay_connect_timeout * 1000;
	cset.command_timeout_msecs = set->submission_relay_command_timeout * 1000;
	cset.max_idle_msecs = set->submission_relay_max_idle_time * 1000;
	cset.rawlog_dir = set->submission_relay_rawlog_dir;
	client->relay = smtp_client_create(loop, &cset);
	smtp_client_connect(client->relay, relay_ready, client);
	return client;
}

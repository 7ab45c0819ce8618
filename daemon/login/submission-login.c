/* submission-login.c - SMTP submission before login (RFC 6409, 4954,
 * 3207) on the shared SMTP server state machine (daemon/smtp): greeting,
 * EHLO/HELO with the pre-login capabilities, STARTTLS, AUTH (initial
 * response, "334" continuations, "*" cancel), RSET, NOOP, QUIT, and 530
 * for mail commands before authentication; Dovecot's texts
 * (protocols.md 3). After AUTH succeeds the connection, the pipelined
 * input and the HELO state go to the user's mail worker, which answers
 * "235 2.7.0 Logged in." and relays (daemon/submission). */
#include "login-common.h"
#include "base64.h"
#include "smtp-server.h"
#include "str.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

struct submission_login_state {
	struct smtp_server_conn *sconn;
	char *helo;
	bool ehlo;
	/* AUTH is waiting for the auth service (input paused) */
	bool auth_pending;
	/* STARTTLS runs from the loop, outside the SMTP server's callbacks
	   (a failure frees the client and with it the server connection) */
	struct timeout *starttls_to;
};

static struct submission_login_state *state(struct login_client *client)
{
	return client->proto;
}

static const char *hostname(struct login_client *client)
{
	static char name[256];
	const char *set = client->worker->set->hostname;

	if (set != NULL && set[0] != '\0')
		return set;
	if (name[0] == '\0' && gethostname(name, sizeof(name) - 1) < 0)
		snprintf(name, sizeof(name), "localhost");
	return name;
}

static void reply(struct login_client *client, unsigned int code,
		  const char *enh, const char *text)
{
	smtp_server_reply(state(client)->sconn, code, enh, "%s", text);
}

/* The EHLO lines Dovecot's submission-login adds: AUTH with the
 * mechanisms this connection may use ("AUTH " with none), STARTTLS
 * while TLS is possible and not active, and "BURL imap" (always, as
 * Dovecot: the logged-in session resolves the URLs). */
static void login_helo(struct smtp_server_conn *sconn ATTR_UNUSED,
		       void *context, const char *verb, const char *domain,
		       string_t *extra_caps)
{
	struct login_client *client = context;
	struct submission_login_state *st = state(client);

	i_free(st->helo);
	st->helo = i_strdup(domain);
	st->ehlo = strcmp(verb, "HELO") != 0;
	if (strcmp(client->worker->set->ssl, "required") == 0 && !client->ssl &&
	    !client->secured)
		str_append(extra_caps, "AUTH \n");
	else
		str_printfa(extra_caps, "AUTH %s\n", login_client_mechs(client));
	if (login_tls_available() && !client->ssl)
		str_append(extra_caps, "STARTTLS\n");
	str_append(extra_caps, "BURL imap\n");
}

/* Mail commands need a login first; their BDAT chunk is not read. */
static bool login_cmd_pre(struct smtp_server_conn *sconn ATTR_UNUSED,
			  void *context, const char *verb,
			  const char *args ATTR_UNUSED)
{
	static const char *const mail_verbs[] = {
		"MAIL", "RCPT", "DATA", "BDAT", "VRFY",
	};
	struct login_client *client = context;

	for (unsigned int i = 0; i < N_ELEMENTS(mail_verbs); i++) {
		if (strcmp(verb, mail_verbs[i]) == 0) {
			reply(client, 530, "5.7.0", "Authentication required.");
			return true;
		}
	}
	return false;
}

/* Is s base64 (RFC 4648 alphabet, padding only at the end)? */
static bool base64_valid(const char *s)
{
	size_t len = strlen(s), pad = 0;

	if (len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || !(isalnum((unsigned char)c) || c == '+' ||
				 c == '/'))
			return false;
	}
	return pad <= 2;
}

static enum smtp_server_result cmd_auth(struct login_client *client,
					const char *args)
{
	struct submission_login_state *st = state(client);
	char *mech, *resp;
	const char *sp;

	if (*args == '\0') {
		reply(client, 501, "5.5.4", "Missing SASL mechanism parameter");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	sp = strchr(args, ' ');
	mech = sp == NULL ? i_strdup(args) : i_strndup(args, (size_t)(sp - args));
	resp = sp == NULL ? NULL : i_strdup(sp + 1);
	if (resp != NULL && (resp[0] == '\0' || strchr(resp, ' ') != NULL)) {
		reply(client, 501, "5.5.4", "Invalid parameters");
		goto fail;
	}
	for (char *p = mech; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	if (strcmp(client->worker->set->ssl, "required") == 0 && !client->ssl &&
	    !client->secured) {
		reply(client, 530, "5.7.0", "TLS required.");
		goto fail;
	}
	if (!login_mech_in_list(client->worker->auth_mechs == NULL ? "" :
				client->worker->auth_mechs, mech)) {
		reply(client, 504, "5.5.4", "Unsupported authentication mechanism.");
		login_client_auth_refused(client, mech, LOGIN_AUTH_FAIL_MECH_INVALID);
		goto fail;
	}
	if (!login_mech_in_list(login_client_mechs(client), mech)) {
		reply(client, 523, "5.7.10", "Plaintext authentication disabled.");
		login_client_auth_refused(client, mech,
					  LOGIN_AUTH_FAIL_MECH_SSL_REQUIRED);
		goto fail;
	}
	/* "=" is an empty initial response (RFC 4954) */
	if (resp != NULL && strcmp(resp, "=") == 0)
		resp[0] = '\0';
	else if (resp != NULL && !base64_valid(resp)) {
		reply(client, 501, "5.5.2",
		      "Invalid base64 data in initial response");
		/* counted as a failed attempt, as Dovecot does */
		login_client_auth_refused(client, mech, LOGIN_AUTH_FAIL_NONE);
		goto fail;
	}
	st->auth_pending = true;
	/* replies come from the auth service's answer; no more commands
	   are read until then */
	smtp_server_conn_pause(st->sconn, true);
	login_client_auth_begin(client, mech, resp);
	if (resp != NULL) {
		explicit_bzero(resp, strlen(resp));
		i_free(resp);
	}
	i_free(mech);
	return SMTP_SERVER_REPLIED_OK;
fail:
	i_free(mech);
	if (resp != NULL)
		explicit_bzero(resp, strlen(resp));
	i_free(resp);
	return SMTP_SERVER_REPLIED_FAIL;
}

static void starttls_run(void *context)
{
	struct login_client *client = context;
	struct submission_login_state *st = state(client);

	timeout_remove(&st->starttls_to);
	if (login_client_starttls(client) < 0)
		return;	/* client destroyed */
	/* RFC 3207: everything starts over, EHLO first */
	smtp_server_conn_reset(st->sconn);
	i_free(st->helo);
	smtp_server_conn_pause(st->sconn, false);
}

static enum smtp_server_result cmd_starttls(struct login_client *client,
					    const char *args)
{
	struct submission_login_state *st = state(client);

	if (client->ssl) {
		reply(client, 502, "5.5.1", "TLS is already active.");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	if (!login_tls_available()) {
		reply(client, 502, "5.5.1", "TLS support is not enabled.");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	if (*args != '\0') {
		reply(client, 501, "5.5.4", "Invalid parameters");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	reply(client, 220, "2.0.0", "Begin TLS negotiation now.");
	smtp_server_conn_pause(st->sconn, true);
	st->starttls_to = timeout_add(client->worker->loop, 0, starttls_run,
				      client);
	return SMTP_SERVER_REPLIED_OK;
}

static enum smtp_server_result
login_cmd_other(struct smtp_server_conn *sconn ATTR_UNUSED, void *context,
		const char *verb, const char *args)
{
	struct login_client *client = context;

	if (strcmp(verb, "AUTH") == 0)
		return cmd_auth(client, args);
	if (strcmp(verb, "STARTTLS") == 0)
		return cmd_starttls(client, args);
	if (strcmp(verb, "XCLIENT") == 0) {
		/* Roost takes the client's address from a PROXY header
		   (haproxy = yes), not from XCLIENT */
		reply(client, 550, "5.7.14", "You are not from trusted IP");
		return SMTP_SERVER_REPLIED_FAIL;
	}
	return SMTP_SERVER_UNKNOWN;
}

static enum smtp_server_result
login_cmd_rcpt(struct smtp_server_conn *sconn ATTR_UNUSED,
	       void *context ATTR_UNUSED,
	       struct smtp_server_transaction *t ATTR_UNUSED,
	       struct smtp_server_recipient *rcpt ATTR_UNUSED)
{
	/* not reached: cmd_pre answers RCPT before login */
	return SMTP_SERVER_REPLIED_FAIL;
}

static enum smtp_server_result
login_data(struct smtp_server_conn *sconn ATTR_UNUSED,
	   void *context ATTR_UNUSED,
	   struct smtp_server_transaction *t ATTR_UNUSED)
{
	return SMTP_SERVER_REPLIED_FAIL;
}

static void login_disconnected(struct smtp_server_conn *sconn ATTR_UNUSED,
			       void *context, const char *reason)
{
	struct login_client *client = context;

	if (client->handing_over)
		return;	/* the master has the fd now; wait for its reply */
	if (strcmp(reason, "Logged out") == 0)
		reason = "Aborted login by logging out";
	else if (strcmp(reason, "Disconnected for inactivity") == 0)
		reason = "Disconnected for inactivity.";
	login_client_destroy(client, reason);
}

static const struct smtp_server_callbacks login_callbacks = {
	.helo = login_helo,
	.cmd_pre = login_cmd_pre,
	.cmd_rcpt = login_cmd_rcpt,
	.data = login_data,
	.cmd_other = login_cmd_other,
	.disconnected = login_disconnected,
};

static struct connection *
submission_login_connection_create(struct login_client *client, int fd)
{
	struct submission_login_state *st = i_new(struct submission_login_state, 1);
	const struct settings_root *set = client->worker->set;
	struct smtp_server_settings sset;

	client->proto = st;
	memset(&sset, 0, sizeof(sset));
	sset.protocol = SMTP_SERVER_PROTOCOL_SMTP;
	sset.hostname = hostname(client);
	sset.greeting = set->login_greeting;
	sset.capabilities = SMTP_CAP_8BITMIME | SMTP_CAP_CHUNKING |
		SMTP_CAP_ENHANCEDSTATUSCODES | SMTP_CAP_PIPELINING |
		SMTP_CAP_SIZE;
	sset.max_message_size = set->submission_max_mail_size;
	sset.pipelining_last = true;
	/* Dovecot's pre-login idle time */
	sset.idle_timeout_msecs = 180 * 1000;
	st->sconn = smtp_server_conn_create(client->worker->loop, fd, &sset,
					    &login_callbacks, client);
	return smtp_server_conn_get_connection(st->sconn);
}

static void submission_login_created(struct login_client *client ATTR_UNUSED)
{
	/* the greeting went out with the SMTP connection */
}

static bool submission_login_input(struct login_client *client ATTR_UNUSED,
				   char *line ATTR_UNUSED)
{
	/* not reached: the SMTP server reads the connection */
	return true;
}

static void submission_login_free(struct login_client *client)
{
	struct submission_login_state *st = state(client);

	timeout_remove(&st->starttls_to);
	smtp_server_conn_free(&st->sconn);
	i_free(st->helo);
}

/* The SASL exchange: the client's response lines. */
static bool sasl_line(struct smtp_server_conn *sconn, void *context,
		      const char *line)
{
	struct login_client *client = context;
	struct submission_login_state *st = state(client);

	smtp_server_conn_set_line_handler(sconn, NULL);
	if (strcmp(line, "*") == 0) {
		login_client_auth_abort(client);
		st->auth_pending = false;
		reply(client, 501, "5.5.2", "Authentication aborted by client.");
		return true;
	}
	smtp_server_conn_pause(sconn, true);
	login_client_auth_continue(client, line);
	return true;
}

static void submission_login_challenge(struct login_client *client,
				       const char *b64)
{
	struct submission_login_state *st = state(client);

	smtp_server_reply(st->sconn, 334, NULL, "%s", b64);
	smtp_server_conn_set_line_handler(st->sconn, sasl_line);
	smtp_server_conn_pause(st->sconn, false);
}

static void submission_login_auth_failed(struct login_client *client,
					 const char *reason, bool temp)
{
	struct submission_login_state *st = state(client);

	st->auth_pending = false;
	smtp_server_conn_set_line_handler(st->sconn, NULL);
	if (temp) {
		reply(client, 454, "4.7.0", reason != NULL && reason[0] != '\0' ?
		      reason : "Temporary authentication failure.");
	} else if (client->last_auth_fail == LOGIN_AUTH_FAIL_INVALID_BASE64) {
		reply(client, 535, "5.7.8", "Invalid base64 in response");
	} else {
		reply(client, 535, "5.7.8", reason != NULL && reason[0] != '\0' ?
		      reason : "Authentication failed.");
	}
	smtp_server_conn_pause(st->sconn, false);
}

/* The HELO state for the mail worker: "helo=<base64> ehlo" (the name
 * may hold anything the client sent). */
static const char *submission_login_handover_flags(struct login_client *client)
{
	static char flags[1024];
	struct submission_login_state *st = state(client);
	string_t *str = str_new(128);

	if (st->helo != NULL && strlen(st->helo) < 512) {
		str_append(str, "helo=");
		base64_encode(str, st->helo, strlen(st->helo));
		if (st->ehlo)
			str_append(str, " ehlo");
	}
	if (client->ssl)
		str_append(str, str_len(str) > 0 ? " tls" : "tls");
	str_printfa(str, "%srip=%s", str_len(str) > 0 ? " " : "",
		    net_ip2addr(&client->remote_ip));
	str_printfa(str, " lip=%s", net_ip2addr(&client->local_ip));
	str_printfa(str, " rport=%u lport=%u", client->remote_port,
		    client->local_port);
	snprintf(flags, sizeof(flags), "%s", str_c(str));
	str_free(&str);
	return flags;
}

static void submission_login_handover_failed(struct login_client *client,
					     const char *reason)
{
	struct submission_login_state *st = state(client);

	st->auth_pending = false;
	if (reason != NULL && strncmp(reason, "[LIMIT] ", 8) == 0) {
		reply(client, 454, "4.7.0", reason + 8);
		(void)login_client_refused_limit(client, reason);
		return;
	}
	reply(client, 454, "4.7.0", reason != NULL ? reason :
	      "Internal error occurred. Refer to server log for more information.");
	smtp_server_conn_pause(st->sconn, false);
}

const struct login_protocol submission_login_protocol = {
	.name = "submission",
	.process_name = "submission-login",
	.max_line = 4096 + 32,
	.idle_bye = "421 4.4.2 Disconnected for inactivity.",
	.client_connection_create = submission_login_connection_create,
	.client_created = submission_login_created,
	.client_input = submission_login_input,
	.client_free = submission_login_free,
	.handover_flags = submission_login_handover_flags,
	.send_challenge = submission_login_challenge,
	.auth_failed = submission_login_auth_failed,
	.handover_failed = submission_login_handover_failed,
};

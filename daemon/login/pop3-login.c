/* pop3-login.c - POP3 before login (RFC 1939, 2449, 5034): greeting,
 * CAPA, USER/PASS, AUTH (with initial response), QUIT, NOOP; with
 * Dovecot's texts (protocols.md 2). STLS comes with the TLS layer. */
#include "login-common.h"
#include "base64.h"
#include "str.h"

#include <ctype.h>
#include <strings.h>

struct pop3_login_state {
	bool user_given;	/* USER seen, waiting for PASS */
};

static struct pop3_login_state *state(struct login_client *client)
{
	if (client->proto == NULL)
		client->proto = i_new(struct pop3_login_state, 1);
	return client->proto;
}

static void pop3_login_created(struct login_client *client)
{
	char *line = i_strdup_printf("+OK %s", client->worker->set->login_greeting);

	login_client_send_line(client, line);
	i_free(line);
}

static void cmd_capa(struct login_client *client)
{
	const char *mechs = login_client_mechs(client);
	char *sasl;

	login_client_send_line(client, "+OK");
	login_client_send_line(client, "CAPA");
	login_client_send_line(client, "TOP");
	login_client_send_line(client, "UIDL");
	login_client_send_line(client, "RESP-CODES");
	login_client_send_line(client, "PIPELINING");
	login_client_send_line(client, "AUTH-RESP-CODE");
	if (login_tls_available() && !client->ssl)
		login_client_send_line(client, "STLS");
	if (login_client_plaintext_allowed(client))
		login_client_send_line(client, "USER");
	sasl = i_strdup_printf("SASL%s%s", mechs[0] == '\0' ? "" : " ", mechs);
	login_client_send_line(client, sasl);
	i_free(sasl);
	login_client_send_line(client, ".");
}

static const char plaintext_disallowed[] =
	"-ERR [AUTH] Plaintext authentication disallowed on non-secure "
	"(SSL/TLS) connections.";

static void cmd_user(struct login_client *client, const char *args)
{
	struct pop3_login_state *st = state(client);

	if (!login_client_plaintext_allowed(client)) {
		login_client_send_line(client, plaintext_disallowed);
		return;
	}
	st->user_given = true;
	i_free(client->user);
	client->user = i_strdup(args);
	login_client_send_line(client, "+OK");
}

static void cmd_pass(struct login_client *client, const char *args)
{
	struct pop3_login_state *st = state(client);
	string_t *b64;

	if (!login_client_plaintext_allowed(client)) {
		login_client_send_line(client, plaintext_disallowed);
		return;
	}
	if (!st->user_given || client->user == NULL) {
		login_client_send_line(client, "-ERR No username given.");
		return;
	}
	/* PASS becomes an AUTH PLAIN exchange with the auth service */
	b64 = login_sasl_plain(client->user, args);
	login_client_auth_begin(client, "PLAIN", str_c(b64));
	login_sasl_plain_free(&b64);
}

static void cmd_auth(struct login_client *client, char *args)
{
	char *resp = strchr(args, ' ');

	if (*args == '\0') {
		/* RFC 1734 style: list the mechanisms */
		const char *mechs = login_client_mechs(client);
		login_client_send_line(client, "+OK");
		for (const char *p = mechs; *p != '\0';) {
			const char *end = strchr(p, ' ');
			char *m = end == NULL ? i_strdup(p) :
				i_strndup(p, (size_t)(end - p));
			login_client_send_line(client, m);
			i_free(m);
			if (end == NULL)
				break;
			p = end + 1;
		}
		login_client_send_line(client, ".");
		return;
	}
	if (resp != NULL)
		*resp++ = '\0';
	for (char *p = args; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!login_mech_in_list(login_client_mechs(client), args)) {
		if (!login_client_plaintext_allowed(client) &&
		    (strcmp(args, "PLAIN") == 0 || strcmp(args, "LOGIN") == 0))
			login_client_send_line(client, plaintext_disallowed);
		else
			login_client_send_line(client,
				"-ERR [AUTH] Unsupported authentication mechanism.");
		return;
	}
	/* "=" is an empty initial response (RFC 4954 style) */
	if (resp != NULL && strcmp(resp, "=") == 0)
		resp = (char *)"";
	login_client_auth_begin(client, args, resp);
}

static bool pop3_login_input(struct login_client *client, char *line)
{
	char *args;

	if (client->auth_waiting_continue) {
		if (strcmp(line, "*") != 0 && !login_base64_chars_valid(line)) {
			/* refused here, as Dovecot's login process does */
			login_client_auth_abort(client);
			client->sasl_unfinished = false;
			client->last_auth_fail = LOGIN_AUTH_FAIL_INVALID_BASE64;
			login_client_send_line(client, "-ERR [AUTH] Invalid "
					       "base64 in response");
			return true;
		}
		login_client_auth_continue(client, line);
		return true;
	}
	args = strchr(line, ' ');
	if (args != NULL)
		*args++ = '\0';
	else
		args = line + strlen(line);
	if (strcasecmp(line, "CAPA") == 0) {
		cmd_capa(client);
	} else if (strcasecmp(line, "USER") == 0) {
		cmd_user(client, args);
	} else if (strcasecmp(line, "PASS") == 0) {
		cmd_pass(client, args);
	} else if (strcasecmp(line, "AUTH") == 0) {
		cmd_auth(client, args);
	} else if (strcasecmp(line, "NOOP") == 0) {
		login_client_send_line(client, "+OK");
	} else if (strcasecmp(line, "QUIT") == 0) {
		login_client_send_line(client, "+OK Logging out");
		login_client_destroy(client, "Aborted login by logging out");
		return false;
	} else if (strcasecmp(line, "STLS") == 0) {
		if (client->ssl) {
			login_client_send_line(client, "-ERR TLS is already active.");
		} else if (!login_tls_available()) {
			login_client_send_line(client, "-ERR TLS support isn't enabled.");
		} else {
			login_client_send_line(client, "+OK Begin TLS negotiation now.");
			if (login_client_starttls(client) < 0)
				return false;
		}
	} else {
		login_client_send_line(client, "-ERR Unknown command.");
		if (++client->bad_commands >= 10) {
			login_client_send_line(client, "-ERR Too many invalid commands.");
			login_client_destroy(client, "Too many invalid commands.");
			return false;
		}
	}
	return true;
}

static void pop3_login_challenge(struct login_client *client, const char *b64)
{
	char *line = i_strdup_printf("+ %s", b64);

	login_client_send_line(client, line);
	i_free(line);
}

static void pop3_login_auth_failed(struct login_client *client,
				   const char *reason, bool temp)
{
	char *line;

	if (reason != NULL && reason[0] != '\0') {
		line = i_strdup_printf("-ERR [%s] %s", temp ? "SYS/TEMP" : "AUTH",
				       reason);
		login_client_send_line(client, line);
		i_free(line);
	} else if (temp) {
		login_client_send_line(client, "-ERR [SYS/TEMP] Temporary "
			"authentication failure.");
	} else {
		login_client_send_line(client, "-ERR [AUTH] Authentication failed.");
	}
}

static void pop3_login_handover_failed(struct login_client *client,
				       const char *reason)
{
	char *line;

	if (reason != NULL && strncmp(reason, "[LIMIT] ", 8) == 0) {
		/* mail_max_userip_connections, as Dovecot answers it */
		line = i_strdup_printf("-ERR [IN-USE] %s", reason + 8);
		login_client_send_line(client, line);
		i_free(line);
		(void)login_client_refused_limit(client, reason);
		return;
	}
	line = i_strdup_printf("-ERR [SYS/TEMP] %s", reason == NULL ?
		"Internal error occurred. Refer to server log for more information." :
		reason);

	connection_pause(client->conn, false);
	login_client_send_line(client, line);
	i_free(line);
}

const struct login_protocol pop3_login_protocol = {
	.name = "pop3",
	.process_name = "pop3-login",
	.max_line = 8192,
	.idle_bye = "-ERR Disconnected for inactivity.",
	.client_created = pop3_login_created,
	.client_input = pop3_login_input,
	.send_challenge = pop3_login_challenge,
	.auth_failed = pop3_login_auth_failed,
	.handover_failed = pop3_login_handover_failed,
};

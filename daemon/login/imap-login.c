/* imap-login.c - IMAP before login (RFC 3501 6.1-6.2, RFC 2971 ID, RFC
 * 4959 SASL-IR, RFC 5161 ENABLE) with Dovecot's texts (protocols.md 1):
 * greeting, CAPABILITY, STARTTLS, LOGIN, AUTHENTICATE, ID, ENABLE, NOOP,
 * LOGOUT. Input is read raw and fed to the shared IMAP parser, so
 * literals work; a successful login is handed over without a tagged
 * reply: the mail worker sends it (post-login capabilities are its). */
#include "login-common.h"
#include "imap-parser.h"
#include "base64.h"
#include "str.h"

#include <ctype.h>
#include <strings.h>
#include <sys/utsname.h>

/* a whole command, literals included (Dovecot's imap-login) */
#define IMAP_LOGIN_MAX_COMMAND 8192
/* one atom or quoted string before login must fit Dovecot's 1 KB login
   input buffer: beyond it, "* BYE Input buffer full, aborting" */
#define IMAP_LOGIN_MAX_TOKEN 1024
/* one SASL response line */
#define IMAP_LOGIN_MAX_SASL_LINE 8192
/* invalid commands before "* BYE" (observed: the 3rd one) */
#define IMAP_LOGIN_MAX_BAD_COMMANDS 3

#define IMAP_CAPABILITY_BANNER \
	"IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE"
#define IMAP_INVALID_COMMAND "Error in IMAP command received by server."
#define IMAP_INTERNAL_ERROR \
	"Internal error occurred. Refer to server log for more information."

struct imap_login_state {
	struct imap_parser *parser;
	/* after a parser error: input is dropped up to the next LF */
	bool skip_line;
	/* the client asked for CAPABILITY before logging in */
	bool capa_sent, did_starttls;
	/* ID was seen (only the first one is logged, as Dovecot) */
	bool id_seen;
	/* the tag of the LOGIN/AUTHENTICATE in progress */
	char *auth_tag;
	char *handover_flags;
};

static struct imap_login_state *state(struct login_client *client)
{
	struct imap_login_state *st = client->proto;

	if (st == NULL) {
		st = i_new(struct imap_login_state, 1);
		st->parser = imap_parser_create(IMAP_LOGIN_MAX_COMMAND);
		client->proto = st;
	}
	return st;
}

static void imap_login_free(struct login_client *client)
{
	struct imap_login_state *st = client->proto;

	imap_parser_destroy(&st->parser);
	i_free(st->auth_tag);
	i_free(st->handover_flags);
}

static void reply(struct login_client *client, const char *tag,
		  const char *text)
{
	char *line = i_strdup_printf("%s %s", tag, text);

	login_client_send_line(client, line);
	i_free(line);
}

/* The pre-login capability list: imap_capability (replacing, or "+"
 * adding to, the banner list), LITERAL+/LITERAL-, STARTTLS, LOGINDISABLED
 * and the mechanisms this connection may use. */
static char *capability_string(struct login_client *client)
{
	const struct settings_root *set = client->worker->set;
	const char *capa = set->imap_capability;
	const char *mechs = login_client_mechs(client);
	string_t *str = str_new(256);
	char *ret;

	if (capa[0] == '\0' || capa[0] == '+') {
		str_append(str, IMAP_CAPABILITY_BANNER);
		if (capa[0] == '+' && capa[1] != '\0')
			str_printfa(str, " %s", capa + 1);
		str_append(str, set->imap_literal_minus ? " LITERAL-" :
			   " LITERAL+");
	} else {
		str_append(str, capa);
	}
	if (login_tls_available() && !client->ssl)
		str_append(str, " STARTTLS");
	if (!login_client_plaintext_allowed(client))
		str_append(str, " LOGINDISABLED");
	for (const char *p = mechs; *p != '\0';) {
		const char *end = strchr(p, ' ');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);

		if (len > 0) {
			str_append(str, " AUTH=");
			str_append_n(str, p, len);
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	ret = i_strdup(str_c(str));
	str_free(&str);
	return ret;
}

static void imap_login_created(struct login_client *client)
{
	char *capa = capability_string(client);
	char *line = i_strdup_printf("* OK [CAPABILITY %s] %s", capa,
				     client->worker->set->login_greeting);

	(void)state(client);
	login_client_send_line(client, line);
	i_free(line);
	i_free(capa);
}

/* ---- commands ---- */

static void cmd_capability(struct login_client *client, const char *tag)
{
	char *capa = capability_string(client);
	char *line = i_strdup_printf("* CAPABILITY %s", capa);

	/* a client must ask again after STARTTLS, so only a CAPABILITY
	   before it says the client reads untagged capabilities (Dovecot's
	   rule for the OK [CAPABILITY ...] of the login reply) */
	if (!state(client)->did_starttls)
		state(client)->capa_sent = true;
	login_client_send_line(client, line);
	reply(client, tag, "OK Pre-login capabilities listed, post-login "
	      "capabilities have more.");
	i_free(line);
	i_free(capa);
}

/* one value of imap_id_send: "*" means ours */
static const char *id_default_value(const char *key, struct utsname *uts)
{
	if (strcasecmp(key, "name") == 0)
		return "Dovecot";
	if (strcasecmp(key, "version") == 0)
		return "2.3.19.1";
	if (strcasecmp(key, "os") == 0)
		return uts->sysname;
	if (strcasecmp(key, "os-version") == 0)
		return uts->release;
	if (strcasecmp(key, "revision") == 0)
		return "9b53102964";
	return NULL;
}

static void str_append_imap_quoted(string_t *str, const char *value)
{
	str_append_c(str, '"');
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			str_append_c(str, '\\');
		str_append_c(str, *p);
	}
	str_append_c(str, '"');
}

/* imap_id_send ("name * version *", values may be "quoted") as the
 * untagged ID reply's list, or NIL */
static char *id_reply_string(const char *setting)
{
	string_t *str = str_new(128);
	char *copy = i_strdup(setting), *p = copy, *key = NULL, *ret;
	struct utsname uts;
	unsigned int pairs = 0;

	if (uname(&uts) < 0)
		memset(&uts, 0, sizeof(uts));
	str_append(str, "(");
	while (*p != '\0') {
		char *tok;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p == '"') {
			tok = ++p;
			while (*p != '\0' && *p != '"')
				p++;
		} else {
			tok = p;
			while (*p != '\0' && *p != ' ')
				p++;
		}
		if (*p != '\0')
			*p++ = '\0';
		if (key == NULL) {
			key = tok;
			continue;
		}
		const char *value = strcmp(tok, "*") == 0 ?
			id_default_value(key, &uts) : tok;
		if (value != NULL) {
			if (pairs++ > 0)
				str_append_c(str, ' ');
			str_append_imap_quoted(str, key);
			str_append_c(str, ' ');
			str_append_imap_quoted(str, value);
		}
		key = NULL;
	}
	str_append(str, ")");
	ret = i_strdup(pairs == 0 ? "NIL" : str_c(str));
	i_free(copy);
	str_free(&str);
	return ret;
}

static bool id_key_logged(const char *setting, const char *key)
{
	char *copy = i_strdup(setting), *save = NULL;
	bool found = false;

	for (char *k = strtok_r(copy, " ", &save); k != NULL && !found;
	     k = strtok_r(NULL, " ", &save))
		found = strcmp(k, "*") == 0 || strcasecmp(k, key) == 0;
	i_free(copy);
	return found;
}

static void str_append_sanitized(string_t *str, const char *value)
{
	for (const char *p = value; *p != '\0'; p++)
		str_append_c(str, (unsigned char)*p < 0x20 ? '?' : *p);
}

/* imap_id_log: "ID sent: name=x, version=1: user=<>, rip=..." */
static void id_log(struct login_client *client, const struct imap_arg *list)
{
	const char *setting = client->worker->set->imap_id_log;
	string_t *str;
	unsigned int logged = 0;

	if (setting[0] == '\0')
		return;
	str = str_new(128);
	str_append(str, "ID sent: ");
	for (unsigned int i = 0; list[i].type != IMAP_ARG_EOL &&
	     list[i + 1].type != IMAP_ARG_EOL; i += 2) {
		const char *key, *value;

		if (!imap_arg_get_string(&list[i], &key) ||
		    !id_key_logged(setting, key))
			continue;
		if (!imap_arg_get_nstring(&list[i + 1], &value))
			continue;
		if (logged++ > 0)
			str_append(str, ", ");
		str_append_sanitized(str, key);
		str_append_c(str, '=');
		str_append_sanitized(str, value == NULL ? "NIL" : value);
	}
	if (logged > 0)
		login_client_log_info(client, str_c(str));
	str_free(&str);
}

static void cmd_id(struct login_client *client, const char *tag,
		   const struct imap_arg *args)
{
	struct imap_login_state *st = state(client);
	const struct imap_arg *list = NULL;
	bool first = !st->id_seen;
	char *id, *line;

	st->id_seen = true;
	if (args[0].type == IMAP_ARG_LIST) {
		list = args[0].list;
		for (unsigned int i = 0; list[i].type != IMAP_ARG_EOL; i++) {
			const char *value;

			if (!imap_arg_get_nstring(&list[i], &value)) {
				reply(client, tag, "BAD Invalid ID parameters");
				return;
			}
		}
		if (first)
			id_log(client, list);
	} else if (args[0].type != IMAP_ARG_EOL &&
		   args[0].type != IMAP_ARG_NIL) {
		reply(client, tag, "BAD Invalid ID parameters");
		return;
	}
	id = id_reply_string(client->worker->set->imap_id_send);
	line = i_strdup_printf("* ID %s", id);
	login_client_send_line(client, line);
	reply(client, tag, "OK ID completed.");
	i_free(line);
	i_free(id);
}

/* Returns false if the client was freed. */
static bool cmd_starttls(struct login_client *client, const char *tag)
{
	struct imap_login_state *st = state(client);

	if (client->ssl) {
		reply(client, tag, "BAD TLS is already active.");
		return true;
	}
	if (!login_tls_available()) {
		reply(client, tag, "BAD TLS support isn't enabled.");
		return true;
	}
	reply(client, tag, "OK Begin TLS negotiation now.");
	/* what was pipelined behind STARTTLS is dropped with the switch */
	imap_parser_reset(st->parser);
	st->skip_line = false;
	st->did_starttls = true;
	if (login_client_starttls(client) < 0) {
		/* login-common destroyed the client; the state goes with it */
		return false;
	}
	return true;
}

static void auth_start(struct login_client *client, const char *tag,
		       const char *mech, const char *ir)
{
	struct imap_login_state *st = state(client);

	i_free(st->auth_tag);
	st->auth_tag = i_strdup(tag);
	login_client_auth_begin(client, mech, ir);
}

static void cmd_login(struct login_client *client, const char *tag,
		      const char *user, const char *pass)
{
	string_t *b64;

	i_free(client->user);
	client->user = i_strdup(user);
	if (!login_client_plaintext_allowed(client)) {
		login_client_send_line(client, "* BAD [ALERT] Plaintext "
			"authentication not allowed without SSL/TLS, but your "
			"client did it anyway. If anyone was listening, the "
			"password was exposed.");
		reply(client, tag, "NO [PRIVACYREQUIRED] Plaintext "
		      "authentication disallowed on non-secure (SSL/TLS) "
		      "connections.");
		login_client_auth_refused(client, NULL, LOGIN_AUTH_FAIL_NONE);
		return;
	}
	/* LOGIN is an AUTH PLAIN exchange with the auth service */
	b64 = login_sasl_plain(user, pass);
	auth_start(client, tag, "PLAIN", str_c(b64));
	login_sasl_plain_free(&b64);
}

static void cmd_authenticate(struct login_client *client, const char *tag,
			     const char *mech_arg, const char *ir)
{
	const char *all = client->worker->auth_mechs == NULL ? "" :
		client->worker->auth_mechs;
	char *mech = i_strdup(mech_arg);

	for (char *p = mech; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!login_mech_in_list(all, mech)) {
		reply(client, tag, "NO [ALERT] Unsupported authentication "
		      "mechanism.");
		login_client_auth_refused(client, mech,
					  LOGIN_AUTH_FAIL_MECH_INVALID);
	} else if (!login_mech_in_list(login_client_mechs(client), mech)) {
		reply(client, tag, "NO [PRIVACYREQUIRED] Plaintext "
		      "authentication disabled.");
		login_client_auth_refused(client, mech,
					  LOGIN_AUTH_FAIL_MECH_SSL_REQUIRED);
	} else {
		/* "=" is an empty initial response (RFC 4959) */
		if (ir != NULL && strcmp(ir, "=") == 0)
			ir = "";
		auth_start(client, tag, mech, ir);
	}
	i_free(mech);
}

/* tag = 1*<ASTRING-CHAR except "+"> */
static bool tag_is_valid(const struct imap_arg *arg)
{
	const char *p;

	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
		return false;
	for (p = arg->str; *p != '\0'; p++) {
		if (*p == '+' || *p == '%' || *p == '*' || *p == '\\' ||
		    *p == '(' || *p == ')' || *p == '{' || *p == '"' ||
		    (unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	}
	return p != arg->str;
}

/* BAD for a command we don't know or whose arguments are wrong; the
 * third one ends the connection. Returns false if the client was freed. */
static bool invalid_command(struct login_client *client, const char *tag)
{
	if (++client->bad_commands >= IMAP_LOGIN_MAX_BAD_COMMANDS) {
		login_client_send_line(client,
			"* BYE Too many invalid IMAP commands.");
		login_client_destroy(client, "Too many invalid commands");
		return false;
	}
	reply(client, tag == NULL ? "*" : tag, "BAD " IMAP_INVALID_COMMAND);
	return true;
}

/* Run one parsed command. Returns false if the client was freed. */
static bool command_run(struct login_client *client,
			const struct imap_arg *args, unsigned int count)
{
	const char *tag, *name, *s1, *s2;

	if (count == 0 || !tag_is_valid(&args[0]))
		return invalid_command(client, NULL);
	tag = args[0].str;
	if (count < 2 || !imap_arg_get_atom(&args[1], &name))
		return invalid_command(client, tag);
	args += 2;
	count -= 2;
	if (strcasecmp(name, "CAPABILITY") == 0) {
		cmd_capability(client, tag);
	} else if (strcasecmp(name, "NOOP") == 0) {
		reply(client, tag, "OK NOOP completed.");
	} else if (strcasecmp(name, "LOGOUT") == 0) {
		login_client_send_line(client, "* BYE Logging out");
		reply(client, tag, "OK Logout completed.");
		login_client_destroy(client, "Aborted login by logging out");
		return false;
	} else if (strcasecmp(name, "ID") == 0) {
		cmd_id(client, tag, args);
	} else if (strcasecmp(name, "ENABLE") == 0) {
		login_client_send_line(client, "* ENABLED");
		reply(client, tag, "OK ENABLE ignored in non-authenticated "
		      "state.");
	} else if (strcasecmp(name, "STARTTLS") == 0) {
		return cmd_starttls(client, tag);
	} else if (strcasecmp(name, "LOGIN") == 0) {
		if (count != 2 || !imap_arg_get_astring(&args[0], &s1) ||
		    !imap_arg_get_astring(&args[1], &s2))
			return invalid_command(client, tag);
		cmd_login(client, tag, s1, s2);
	} else if (strcasecmp(name, "AUTHENTICATE") == 0) {
		if (count < 1 || count > 2 || !imap_arg_get_atom(&args[0], &s1))
			return invalid_command(client, tag);
		s2 = NULL;
		if (count == 2 && !imap_arg_get_atom(&args[1], &s2))
			return invalid_command(client, tag);
		cmd_authenticate(client, tag, s1, s2);
	} else if (strcasecmp(tag, "LOGIN") == 0) {
		reply(client, tag, "BAD First parameter in line is IMAP's "
		      "command tag, not the command name. Add that before the "
		      "command, like: a login user pass");
	} else {
		return invalid_command(client, tag);
	}
	return true;
}

/* ---- input ---- */

/* A SASL response line while the auth service waits for one. Returns
 * 1 when a line was handled, 0 for more input, -1 if client freed. */
static int sasl_line_input(struct login_client *client)
{
	struct imap_login_state *st = state(client);
	struct connection *conn = client->conn;
	const char *lf = memchr(conn->inbuf, '\n', conn->in_len);
	size_t len;
	char *line;

	if (lf == NULL) {
		if (conn->in_len <= IMAP_LOGIN_MAX_SASL_LINE)
			return 0;
		login_client_send_line(client,
			"* BYE Authentication response too large");
		login_client_destroy(client, "Authentication response too large");
		return -1;
	}
	len = (size_t)(lf - conn->inbuf);
	line = i_strndup(conn->inbuf, len > 0 && lf[-1] == '\r' ? len - 1 : len);
	connection_input_skip(conn, len + 1);
	if (strcmp(line, "*") == 0) {
		login_client_auth_abort(client);
		reply(client, st->auth_tag, "BAD Authentication aborted by "
		      "client.");
	} else if (!login_base64_chars_valid(line)) {
		login_client_auth_abort(client);
		reply(client, st->auth_tag, "NO [ALERT] Invalid base64 in "
		      "response");
	} else {
		login_client_auth_continue(client, line);
	}
	explicit_bzero(line, strlen(line));
	i_free(line);
	return 1;
}

/* The parser failed. Returns false if the client was freed. */
static bool parser_error(struct login_client *client, bool line_ended)
{
	struct imap_login_state *st = state(client);
	const struct imap_arg *args;
	unsigned int count;
	bool fatal;
	const char *error = imap_parser_get_error(st->parser, &fatal);
	char *msg;

	if (imap_parser_token_len(st->parser) >= IMAP_LOGIN_MAX_TOKEN) {
		login_client_send_line(client, "* BYE Input buffer full, aborting");
		login_client_destroy(client, "Input buffer full, aborting");
		return false;
	}
	if (fatal || strcmp(error, "Literal size too large") == 0) {
		/* a literal beyond the limit: its bytes can't be told from
		   commands, so the connection goes (Dovecot does so for
		   synchronizing literals too) */
		msg = i_strdup_printf("* BYE %s", error);
		login_client_send_line(client, msg);
		i_free(msg);
		login_client_destroy(client, error);
		return false;
	}
	st->skip_line = !line_ended;
	args = imap_parser_get_args(st->parser, &count);
	if (count < 2 || !tag_is_valid(&args[0]) ||
	    args[1].type != IMAP_ARG_ATOM) {
		/* the tag or the command name itself is broken */
		const char *tag = count >= 1 && tag_is_valid(&args[0]) ?
			args[0].str : NULL;
		char *tag_copy = tag == NULL ? NULL : i_strdup(tag);
		bool ret;

		imap_parser_reset(st->parser);
		ret = invalid_command(client, tag_copy);
		i_free(tag_copy);
		return ret;
	}
	if (strcmp(error, "Too long argument.") == 0)
		error = "IMAP command line too large";
	msg = i_strdup_printf("BAD %s", error);
	reply(client, args[0].str, msg);
	i_free(msg);
	imap_parser_reset(st->parser);
	return true;
}

/* Feed the parser from the connection's buffer and run each complete
 * command. Returns false if the client was freed. */
static bool imap_login_input_raw(struct login_client *client)
{
	struct imap_login_state *st = state(client);
	struct connection *conn = client->conn;
	enum imap_parse_flags flags = client->worker->set->imap_literal_minus ?
		IMAP_PARSE_FLAG_LITERAL_MINUS : 0;

	while (conn->in_len > 0 && !conn->paused && !conn->disconnected) {
		const unsigned char *data = (const unsigned char *)conn->inbuf;
		const struct imap_arg *args;
		unsigned int count;
		size_t used;
		bool found;
		int ret;

		if (client->auth_waiting_continue) {
			ret = sasl_line_input(client);
			if (ret <= 0)
				return ret == 0;
			continue;
		}
		if (client->authenticating || client->handing_over)
			break;
		if (st->skip_line) {
			used = imap_parser_skip_line(data, conn->in_len, &found);
			connection_input_skip(conn, used);
			st->skip_line = !found;
			continue;
		}
		ret = imap_parser_read(st->parser, data, conn->in_len, &used,
				       flags, 0);
		found = used > 0 && data[used - 1] == '\n';
		connection_input_skip(conn, used);
		if (imap_parser_want_continuation(st->parser) && ret == 0)
			login_client_send_line(client, "+ OK");
		if (ret < 0) {
			if (!parser_error(client, found))
				return false;
			continue;
		}
		if (ret == 0 &&
		    imap_parser_token_len(st->parser) >= IMAP_LOGIN_MAX_TOKEN) {
			login_client_send_line(client,
				"* BYE Input buffer full, aborting");
			login_client_destroy(client, "Input buffer full, aborting");
			return false;
		}
		if (ret == 0) {
			if (used == 0)
				break;
			continue;
		}
		args = imap_parser_get_args(st->parser, &count);
		if (!command_run(client, args, count))
			return false;
		/* the client may have been handed over or be authenticating:
		   what follows waits in the buffer */
		if (st->parser != NULL)
			imap_parser_reset(st->parser);
	}
	return true;
}

static void imap_login_challenge(struct login_client *client, const char *b64)
{
	char *line = i_strdup_printf("+ %s", b64);

	login_client_send_line(client, line);
	i_free(line);
}

static void imap_login_auth_failed(struct login_client *client,
				   const char *reason, bool temp)
{
	struct imap_login_state *st = state(client);
	const char *tag = st->auth_tag == NULL ? "*" : st->auth_tag;
	bool have_reason = reason != NULL && reason[0] != '\0';
	char *text;

	if (temp || client->last_auth_fail == LOGIN_AUTH_FAIL_TEMP) {
		text = i_strdup_printf("NO [UNAVAILABLE] %s", have_reason ?
			reason : "Temporary authentication failure.");
	} else if (client->last_auth_fail == LOGIN_AUTH_FAIL_INVALID_BASE64) {
		text = i_strdup_printf("BAD %s", have_reason ? reason :
				       "Invalid base64 data");
	} else if (client->last_auth_fail == LOGIN_AUTH_FAIL_AUTHZ) {
		text = i_strdup_printf("NO [AUTHORIZATIONFAILED] %s",
			have_reason ? reason : "Authorization failed.");
	} else if (client->last_auth_fail == LOGIN_AUTH_FAIL_PASS_EXPIRED) {
		text = i_strdup_printf("NO [EXPIRED] %s", have_reason ?
			reason : "Password expired.");
	} else if (have_reason) {
		text = i_strdup_printf("NO [ALERT] %s", reason);
	} else {
		text = i_strdup("NO [AUTHENTICATIONFAILED] Authentication "
				"failed.");
	}
	reply(client, tag, text);
	i_free(text);
	i_free(st->auth_tag);
}

static void imap_login_handover_failed(struct login_client *client,
				       const char *reason)
{
	struct imap_login_state *st = state(client);
	char *text;

	if (reason != NULL && strncmp(reason, "[LIMIT] ", 8) == 0) {
		/* mail_max_userip_connections, as Dovecot answers it */
		text = i_strdup_printf("NO %s", reason);
		reply(client, st->auth_tag == NULL ? "*" : st->auth_tag, text);
		i_free(text);
		(void)login_client_refused_limit(client, reason);
		return;
	}
	text = i_strdup_printf("NO [UNAVAILABLE] %s", reason == NULL ?
			       IMAP_INTERNAL_ERROR : reason);

	reply(client, st->auth_tag == NULL ? "*" : st->auth_tag, text);
	i_free(text);
	i_free(st->auth_tag);
	connection_pause(client->conn, false);
	(void)connection_process_input(client->conn);
}

/* "tag=<tag of LOGIN/AUTHENTICATE>[ capa]": the mail worker sends the
 * tagged OK (with [CAPABILITY ...] unless the client asked already) */
static const char *imap_login_handover_flags(struct login_client *client)
{
	struct imap_login_state *st = state(client);

	i_free(st->handover_flags);
	st->handover_flags = i_strdup_printf("tag=%s%s",
		st->auth_tag == NULL ? "*" : st->auth_tag,
		st->capa_sent ? " capa" : "");
	return st->handover_flags;
}

const struct login_protocol imap_login_protocol = {
	.name = "imap",
	.process_name = "imap-login",
	/* the connection's buffer: a SASL response line must fit */
	.max_line = IMAP_LOGIN_MAX_SASL_LINE + 16,
	.idle_bye = "* BYE Disconnected for inactivity.",
	.client_created = imap_login_created,
	.client_input_raw = imap_login_input_raw,
	.client_free = imap_login_free,
	.handover_flags = imap_login_handover_flags,
	.send_challenge = imap_login_challenge,
	.auth_failed = imap_login_auth_failed,
	.handover_failed = imap_login_handover_failed,
};

/* cmd-misc.c - the small commands of any state: CAPABILITY, NOOP,
 * CHECK, LOGOUT, ENABLE, ID, NAMESPACE. */
#include "imap-condstore.h"
#include "imap-quote.h"

#include <stdio.h>
#include <strings.h>

bool cmd_capability(struct client_command_context *cmd)
{
	client_send_linef(cmd->client, "* CAPABILITY %s",
			  imap_client_capability(cmd->client->set));
	return cmd_ok(cmd, "Capability completed");
}

bool cmd_noop(struct client_command_context *cmd)
{
	return cmd_ok(cmd, "NOOP completed");
}

bool cmd_check(struct client_command_context *cmd)
{
	/* mbox_lazy_writes: the flag changes go to the file now; a lock
	   held elsewhere is told by the sync's "* NO" */
	if (cmd->client->mailbox != NULL)
		(void)mailbox_flush(cmd->client->mailbox);
	return cmd_ok(cmd, "Check completed");
}

bool cmd_logout(struct client_command_context *cmd)
{
	client_send_line(cmd->client, "* BYE Logging out");
	cmd->client->logout_pending = true;
	return cmd_ok(cmd, "Logout completed");
}

bool cmd_enable(struct client_command_context *cmd)
{
	string_t *reply = str_new(64);
	const struct imap_arg *arg = cmd->args;
	enum imap_client_enabled features = 0;

	str_append(reply, "* ENABLED");
	for (; !imap_arg_is_eol(arg); arg++) {
		const char *name;

		if (!imap_arg_get_atom(arg, &name)) {
			str_free(&reply);
			return cmd_bad_args(cmd);
		}
		/* Dovecot lists every known one asked for, enabled before
		   or not; an unknown extension is ignored (RFC 5161) */
		if (strcasecmp(name, "CONDSTORE") == 0) {
			features |= IMAP_ENABLED_CONDSTORE;
			str_append(reply, " CONDSTORE");
		} else if (strcasecmp(name, "QRESYNC") == 0) {
			features |= IMAP_ENABLED_QRESYNC;
			str_append(reply, " QRESYNC");
		} else if (strcasecmp(name, "UTF8=ACCEPT") == 0) {
			cmd->client->enabled |= IMAP_ENABLED_UTF8_ACCEPT;
			str_append(reply, " UTF8=ACCEPT");
		} else if (strcasecmp(name, "IMAP4rev2") == 0) {
			cmd->client->enabled |= IMAP_ENABLED_IMAP4REV2;
			str_append(reply, " IMAP4rev2");
		}
	}
	if (features != 0)
		imap_condstore_enable(cmd->client, features);
	/* as Dovecot: no untagged line when nothing known was asked for */
	if (str_len(reply) > strlen("* ENABLED"))
		client_send_line(cmd->client, str_c(reply));
	str_free(&reply);
	return cmd_ok(cmd, "Enabled");
}

/* imap_id_send: "name *" pairs; "*" is the server's own value. */
static void id_append_server(struct imap_client *client, string_t *dest)
{
	const char *p = client->set->imap_id_send;
	bool any = false;

	str_append(dest, "* ID ");
	while (*p != '\0') {
		char key[128], value[256];
		int n = 0;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p == '"') {
			if (sscanf(p, "\"%127[^\"]\"%n", key, &n) < 1)
				break;
		} else if (sscanf(p, "%127s%n", key, &n) < 1) {
			break;
		}
		p += n;
		while (*p == ' ')
			p++;
		n = 0;
		if (*p == '"') {
			if (sscanf(p, "\"%255[^\"]\"%n", value, &n) < 1)
				value[0] = '\0', n = 2;
		} else if (sscanf(p, "%255s%n", value, &n) < 1) {
			break;
		}
		p += n;
		if (strcmp(value, "*") == 0) {
			if (strcasecmp(key, "name") == 0)
				snprintf(value, sizeof(value), "Dovecot");
			else if (strcasecmp(key, "version") == 0)
				snprintf(value, sizeof(value), "2.3.19.1");
			else if (strcasecmp(key, "os") == 0)
				snprintf(value, sizeof(value), "Linux");
			else
				continue;
		}
		str_append(dest, any ? " " : "(");
		imap_append_quoted(dest, key);
		str_append_c(dest, ' ');
		imap_append_nstring(dest, value);
		any = true;
	}
	str_append(dest, any ? ")" : "NIL");
}

static bool id_log_wanted(const char *setting, const char *key)
{
	const char *p = setting;
	size_t len = strlen(key);

	if (strcmp(setting, "*") == 0)
		return true;
	while ((p = strcasestr(p, key)) != NULL) {
		if ((p == setting || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ' '))
			return true;
		p += len;
	}
	return false;
}

bool cmd_id(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *list;
	string_t *str;

	if (!imap_arg_get_list(cmd->args, &list)) {
		if (cmd->args[0].type != IMAP_ARG_NIL)
			return cmd_bad_args(cmd);
		list = NULL;
	}
	str = str_new(128);
	for (unsigned int i = 0; list != NULL && !imap_arg_is_eol(&list[i]);
	     i += 2) {
		const char *key, *value;

		if (!imap_arg_get_string(&list[i], &key)) {
			str_free(&str);
			return cmd_bad_args(cmd);
		}
		if (imap_arg_is_eol(&list[i + 1])) {
			/* a key without a value counts as NIL, as Dovecot
			   takes it */
			value = NULL;
			if (client->set->imap_id_log[0] != '\0' &&
			    id_log_wanted(client->set->imap_id_log, key)) {
				str_printfa(str, "%s%s=NIL",
					    str_len(str) > 0 ? ", " : "", key);
			}
			break;
		}
		if (!imap_arg_get_nstring(&list[i + 1], &value)) {
			str_free(&str);
			return cmd_bad_args(cmd);
		}
		if (client->set->imap_id_log[0] != '\0' &&
		    id_log_wanted(client->set->imap_id_log, key)) {
			str_printfa(str, "%s%s=%s", str_len(str) > 0 ? ", " : "",
				    key, value == NULL ? "NIL" : value);
		}
	}
	if (str_len(str) > 0)
		i_info("ID sent: %s", str_c(str));
	str_truncate(str, 0);
	id_append_server(client, str);
	client_send_line(client, str_c(str));
	str_free(&str);
	return cmd_ok(cmd, "ID completed");
}

static void namespace_append(struct imap_client *client, string_t *dest,
			     enum mail_namespace_type type)
{
	bool any = false;

	for (struct mail_namespace *ns = client->user->namespaces; ns != NULL;
	     ns = ns->next) {
		char sep[2] = { ns->sep, '\0' };

		if (ns->type != type || ns->hidden)
			continue;
		/* a shared namespace per user (acl): its template's
		   static part ("shared/") is shown, not its children */
		if (ns->type == MAIL_NAMESPACE_SHARED && ns->owner != NULL &&
		    !ns->shared_template)
			continue;
		str_append(dest, any ? "(" : "((");
		if (ns->shared_template) {
			char *p = i_strndup(ns->prefix, (size_t)(strchr(
				ns->prefix, '%') - ns->prefix));
			imap_client_append_mailbox_name(client, dest, p, true);
			i_free(p);
		} else {
			imap_client_append_mailbox_name(client, dest,
							ns->prefix, true);
		}
		str_append_c(dest, ' ');
		imap_append_quoted(dest, sep);
		str_append_c(dest, ')');
		any = true;
	}
	str_append(dest, any ? ")" : "NIL");
}

bool cmd_namespace(struct client_command_context *cmd)
{
	string_t *str = str_new(128);

	str_append(str, "* NAMESPACE ");
	namespace_append(cmd->client, str, MAIL_NAMESPACE_PRIVATE);
	str_append_c(str, ' ');
	namespace_append(cmd->client, str, MAIL_NAMESPACE_SHARED);
	str_append_c(str, ' ');
	namespace_append(cmd->client, str, MAIL_NAMESPACE_PUBLIC);
	client_send_line(cmd->client, str_c(str));
	str_free(&str);
	return cmd_ok(cmd, "Namespace completed");
}

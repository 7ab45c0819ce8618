/* cmd-quota.c - the imap_quota plugin: GETQUOTAROOT, GETQUOTA and
 * SETQUOTA (RFC 2087/9208) over mailstore/quota.h, with Dovecot 2.3's
 * replies: only roots with a limit are shown ("OK No quota." when none),
 * STORAGE in kilobytes rounded up and MESSAGE for the default rule,
 * SETQUOTA refused (no quota admin). Unknown commands without the
 * plugin. */
#include "imap-mailbox.h"
#include "imap-plugins.h"
#include "imap-quote.h"
#include "mail-plugins.h"
#include "quota.h"

#include <inttypes.h>
#include <strings.h>

static bool imap_quota_enabled(struct imap_client *client)
{
	return mail_plugins_has(client->set->mail_plugins, "imap_quota") &&
		quota_user_enabled(client->user);
}

/* "* QUOTA name (STORAGE u l MESSAGE u l)" for root idx; false when it
 * has no limits (hidden). -1 on error. */
static int quota_reply(struct imap_client *client, unsigned int idx,
		       string_t *dest)
{
	struct quota_root_usage usage;
	const char *error;
	bool first = true;

	if (quota_root_get_usage(client->user, idx, &usage, &error) < 0) {
		i_error("quota: Failed to get quota resource: %s", error);
		return -1;
	}
	if (usage.bytes_limit == 0 && usage.count_limit == 0)
		return 0;
	str_append(dest, "* QUOTA ");
	imap_append_astring(dest, usage.name, "");
	str_append(dest, " (");
	if (usage.bytes_limit > 0) {
		str_printfa(dest, "STORAGE %" PRIu64 " %" PRIu64,
			    (usage.bytes + 1023) / 1024,
			    (usage.bytes_limit + 1023) / 1024);
		first = false;
	}
	if (usage.count_limit > 0) {
		str_printfa(dest, "%sMESSAGE %" PRIu64 " %" PRIu64,
			    first ? "" : " ", usage.count, usage.count_limit);
	}
	str_append(dest, ")\r\n");
	return 1;
}

bool cmd_getquotaroot(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const char *name, *vname, *error;
	struct mail_namespace *ns;
	string_t *roots, *quotas;
	bool any = false;

	if (!imap_quota_enabled(client))
		return cmd_bad_error(cmd, "Unknown command");
	if (imap_arg_is_eol(&cmd->args[0]))
		return imap_cmd_missing_args(cmd);
	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_args(cmd);
	vname = imap_mailbox_name_decode(client, name, &error);
	if (vname == NULL)
		return cmd_no(cmd, error);
	ns = mail_namespace_find(client->user, vname);
	roots = str_new(128);
	quotas = str_new(256);
	str_append(roots, "* QUOTAROOT ");
	imap_append_astring(roots, name, "");
	for (unsigned int i = 0; ns != NULL &&
	     ns->type == MAIL_NAMESPACE_PRIVATE &&
	     i < quota_root_count(client->user); i++) {
		size_t pos = str_len(quotas);
		int ret;

		if (quota_root_is_hidden(client->user, i) ||
		    !quota_root_applies(client->user, i, vname))
			continue;
		ret = quota_reply(client, i, quotas);

		if (ret < 0) {
			str_free(&roots);
			str_free(&quotas);
			return cmd_no(cmd, "Internal quota calculation error");
		}
		if (ret == 0) {
			str_truncate(quotas, pos);
			continue;
		}
		str_append_c(roots, ' ');
		imap_append_astring(roots, quota_root_name(client->user, i), "");
		any = true;
	}
	if (any) {
		client_send_line(client, str_c(roots));
		client_send_data(client, str_c(quotas), str_len(quotas));
	}
	str_free(&roots);
	str_free(&quotas);
	return cmd_ok(cmd, any ? "Getquotaroot completed" : "No quota");
}

bool cmd_getquota(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const char *name;
	string_t *str;
	int idx, ret;

	if (!imap_quota_enabled(client))
		return cmd_bad_error(cmd, "Unknown command");
	if (imap_arg_is_eol(&cmd->args[0]))
		return imap_cmd_missing_args(cmd);
	if (!imap_arg_get_astring(&cmd->args[0], &name))
		return cmd_bad_args(cmd);
	idx = quota_root_lookup(client->user, name);
	if (idx < 0)
		return cmd_no(cmd, "Quota root doesn't exist");
	str = str_new(128);
	ret = quota_reply(client, (unsigned int)idx, str);
	if (ret > 0)
		client_send_data(client, str_c(str), str_len(str));
	str_free(&str);
	if (ret < 0)
		return cmd_no(cmd, "Internal quota calculation error");
	return cmd_ok(cmd, "Getquota completed");
}

bool cmd_setquota(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *list;
	const char *name;

	if (!imap_quota_enabled(client))
		return cmd_bad_error(cmd, "Unknown command");
	if (imap_arg_is_eol(&cmd->args[0]) || imap_arg_is_eol(&cmd->args[1]))
		return imap_cmd_missing_args(cmd);
	if (!imap_arg_get_astring(&cmd->args[0], &name) ||
	    !imap_arg_get_list(&cmd->args[1], &list))
		return cmd_bad_args(cmd);
	/* no user is a quota admin here, as in Dovecot by default */
	return cmd_no(cmd, "Quota can be changed only by admin");
}

void imap_plugins_capability(const struct settings_root *set, string_t *dest)
{
	if (mail_plugins_has(set->mail_plugins, "imap_zlib"))
		str_append(dest, " COMPRESS=DEFLATE");
	if (mail_plugins_has(set->mail_plugins, "imap_quota"))
		str_append(dest, " QUOTA");
	if (mail_plugins_has(set->mail_plugins, "imap_acl"))
		/* LIST-MYRIGHTS (RFC 8440) is Roost's: Dovecot 2.3 lacks it */
		str_append(dest, " ACL RIGHTS=texk LIST-MYRIGHTS");
}

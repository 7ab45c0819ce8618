/* cmd-urlauth.c - RESETKEY, GENURLAUTH and URLFETCH (RFC 4467, URLFETCH
 * parameters of RFC 5524) with Dovecot 2.3's replies. The commands
 * exist only when URLAUTH is advertised: imap_urlauth_host and
 * mail_attribute_dict both set (imap_urlauth_enabled); otherwise they are
 * unknown commands, as in Dovecot. URLs, keys and tokens: imap-urlauth.c. */
#include "imap-common.h"
#include "imap-quote.h"
#include "imap-urlauth.h"

#include <strings.h>

bool imap_urlauth_enabled(const struct settings_root *set)
{
	return set->imap_urlauth_host != NULL &&
		set->imap_urlauth_host[0] != '\0' &&
		set->mail_attribute_dict != NULL &&
		set->mail_attribute_dict[0] != '\0';
}

static bool cmd_urlauth_unknown(struct client_command_context *cmd)
{
	return cmd_bad_error(cmd, "Unknown command");
}

static void urlauth_init(struct client_command_context *cmd,
			 struct imap_urlauth_context *ctx)
{
	imap_urlauth_context_init(ctx, cmd->client->user,
				  cmd->client->user->username,
				  cmd->client->set, false);
}

bool cmd_resetkey(struct client_command_context *cmd)
{
	struct imap_urlauth_context ctx;
	const struct imap_arg *args = cmd->args;
	const char *name, *vname = NULL, *error;

	if (!imap_urlauth_enabled(cmd->client->set))
		return cmd_urlauth_unknown(cmd);
	if (!imap_arg_is_eol(&args[0])) {
		if (!imap_arg_get_astring(&args[0], &name))
			return cmd_bad_args(cmd);
		for (unsigned int i = 1; !imap_arg_is_eol(&args[i]); i++) {
			const char *mech;

			if (!imap_arg_get_atom(&args[i], &mech))
				return cmd_bad_args(cmd);
			if (strcasecmp(mech, "INTERNAL") != 0)
				return cmd_no(cmd, "Unsupported URLAUTH mechanism");
		}
		vname = imap_mailbox_name_decode(cmd->client, name, &error);
		if (vname == NULL)
			return cmd_no(cmd, error);
	}
	urlauth_init(cmd, &ctx);
	if (imap_urlauth_reset(&ctx, cmd->pool, vname, &error) < 0)
		return cmd_no(cmd, error);
	return cmd_ok(cmd, vname == NULL ? "All keys removed" :
		      "[URLMECH INTERNAL] Key removed");
}

bool cmd_genurlauth(struct client_command_context *cmd)
{
	struct imap_urlauth_context ctx;
	const struct imap_arg *args = cmd->args;
	string_t *reply;
	const char *rump, *mech, *url, *error;

	if (!imap_urlauth_enabled(cmd->client->set))
		return cmd_urlauth_unknown(cmd);
	urlauth_init(cmd, &ctx);
	reply = str_new(256);
	str_append(reply, "* GENURLAUTH");
	for (; !imap_arg_is_eol(&args[0]); args += 2) {
		if (!imap_arg_get_astring(&args[0], &rump) ||
		    !imap_arg_get_atom(&args[1], &mech)) {
			str_free(&reply);
			return cmd_bad_args(cmd);
		}
		if (imap_urlauth_generate(&ctx, cmd->pool, rump, mech, &url,
					  &error) < 0) {
			str_free(&reply);
			return cmd_bad_error(cmd, error);
		}
		str_append_c(reply, ' ');
		imap_append_astring(reply, url, "");
	}
	client_send_line(cmd->client, str_c(reply));
	str_free(&reply);
	return cmd_ok(cmd, "GENURLAUTH completed");
}

enum urlfetch_params {
	URLFETCH_PARAM_LIST = 0x01,	/* given as (url ...) */
	URLFETCH_PARAM_BODY = 0x02,
	URLFETCH_PARAM_BINARY = 0x04,
	URLFETCH_PARAM_BODYPARTSTRUCTURE = 0x08,
};

struct urlfetch_url {
	const char *url;
	enum urlfetch_params params;
};

static void urlfetch_literal(string_t *out, const string_t *data,
			     bool literal8)
{
	str_printfa(out, "%s{%zu}\r\n", literal8 ? "~" : "", str_len(data));
	str_append_n(out, str_c(data), str_len(data));
}

static void urlfetch_one(struct client_command_context *cmd,
			 struct imap_urlauth_context *ctx,
			 const struct urlfetch_url *uf)
{
	struct imap_urlauth_fetch *fetch;
	string_t *out = str_new(1024), *data = str_new(1024);
	const char *error;
	bool literal8 = false;

	str_append(out, "* URLFETCH ");
	imap_append_astring(out, uf->url, "");
	if (imap_urlauth_fetch_open(ctx, cmd->pool, uf->url, &fetch,
				    &error) < 0)
		goto fail;
	if ((uf->params & URLFETCH_PARAM_LIST) == 0) {
		str_append_c(out, ' ');
		imap_urlauth_fetch_body(fetch, data);
		urlfetch_literal(out, data, false);
	} else {
		const char *sep = "";

		str_append(out, " (");
		if ((uf->params & URLFETCH_PARAM_BODYPARTSTRUCTURE) != 0) {
			str_append(out, "BODYPARTSTRUCTURE ");
			imap_urlauth_fetch_bodypartstructure(fetch, out);
			sep = " ";
		}
		if ((uf->params & URLFETCH_PARAM_BINARY) != 0) {
			if (imap_urlauth_fetch_binary(fetch, data, &literal8,
						      &error) < 0) {
				imap_urlauth_fetch_close(&fetch);
				goto fail;
			}
			str_printfa(out, "%sBINARY ", sep);
			urlfetch_literal(out, data, literal8);
		} else if ((uf->params & URLFETCH_PARAM_BODY) != 0 ||
			   (uf->params & URLFETCH_PARAM_BODYPARTSTRUCTURE) == 0) {
			str_printfa(out, "%sBODY ", sep);
			imap_urlauth_fetch_body(fetch, data);
			urlfetch_literal(out, data, false);
		}
		str_append_c(out, ')');
	}
	imap_urlauth_fetch_close(&fetch);
	str_append(out, "\r\n");
	client_send_data(cmd->client, str_c(out), str_len(out));
	str_free(&out);
	str_free(&data);
	return;
fail:
	str_append(out, " NIL");
	client_send_line(cmd->client, str_c(out));
	client_send_linef(cmd->client,
			  "* NO Failed to fetch URLAUTH \"%s\": %s.",
			  uf->url, error);
	str_free(&out);
	str_free(&data);
}

bool cmd_urlfetch(struct client_command_context *cmd)
{
	struct imap_urlauth_context ctx;
	const struct imap_arg *args = cmd->args, *list;
	ARRAY(struct urlfetch_url) urls = ARRAY_INIT;
	struct urlfetch_url uf;

	if (!imap_urlauth_enabled(cmd->client->set))
		return cmd_urlauth_unknown(cmd);
	if (imap_arg_is_eol(&args[0]))
		return cmd_bad_args(cmd);
	for (; !imap_arg_is_eol(&args[0]); args++) {
		memset(&uf, 0, sizeof(uf));
		if (imap_arg_get_list(&args[0], &list)) {
			uf.params = URLFETCH_PARAM_LIST;
			if (!imap_arg_get_astring(&list[0], &uf.url)) {
				array_free(&urls);
				return cmd_bad_args(cmd);
			}
			for (list++; !imap_arg_is_eol(&list[0]); list++) {
				const char *param;

				if (!imap_arg_get_atom(&list[0], &param)) {
					array_free(&urls);
					return cmd_bad_args(cmd);
				}
				if (strcasecmp(param, "BODY") == 0)
					uf.params |= URLFETCH_PARAM_BODY;
				else if (strcasecmp(param, "BINARY") == 0)
					uf.params |= URLFETCH_PARAM_BINARY;
				else if (strcasecmp(param, "BODYPARTSTRUCTURE") == 0)
					uf.params |= URLFETCH_PARAM_BODYPARTSTRUCTURE;
				else {
					array_free(&urls);
					return cmd_bad_error(cmd, p_strdup_printf(
						cmd->pool, "Unknown URL fetch "
						"parameter: %s", param));
				}
			}
			if ((uf.params & URLFETCH_PARAM_BODY) != 0 &&
			    (uf.params & URLFETCH_PARAM_BINARY) != 0) {
				array_free(&urls);
				return cmd_bad_error(cmd, "URL cannot have both "
						    "BODY and BINARY fetch "
						    "parameters");
			}
		} else if (!imap_arg_get_astring(&args[0], &uf.url)) {
			array_free(&urls);
			return cmd_bad_args(cmd);
		}
		array_push(&urls, uf);
	}
	urlauth_init(cmd, &ctx);
	for (size_t i = 0; i < urls.count; i++)
		urlfetch_one(cmd, &ctx, &urls.v[i]);
	array_free(&urls);
	return cmd_ok(cmd, "URLFETCH completed");
}

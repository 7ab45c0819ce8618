/* cmd-idle.c - IDLE (RFC 2177). Changes to the selected mailbox are
 * noticed through one inotify instance shared by every session of the
 * process (the kernel allows few instances per user, and a worker holds
 * thousands of idle sessions), with a poll every
 * mailbox_idle_check_interval as a fallback, and reported at once; a
 * "* OK Still here" keeps NAT boxes awake every
 * imap_idle_notify_interval. */
#include "imap-common.h"
#include "imap-watch.h"

/* Changes are reported this long after the first event, so that a
 * delivery's several file operations (or a flag change right after an
 * append) reach the client as one batch, as Dovecot batches them. */
#define IDLE_NOTIFY_DELAY_MSECS 500

struct idle_ctx {
	struct timeout *keepalive_to, *check_to, *delay_to;
	ARRAY(struct imap_watch *) watches;
};

static void idle_sync(struct imap_client *client)
{
	client_set_log_prefix(client);
	imap_sync(client, false);
}

static void idle_cleanup(struct client_command_context *cmd);

static void idle_delayed(void *context)
{
	struct client_command_context *cmd = context;
	struct idle_ctx *ctx = cmd->context;

	timeout_remove(&ctx->delay_to);
	idle_sync(cmd->client);
}

/* An inotify event for client: sync after the batching delay. */
static void idle_changed(void *context)
{
	struct imap_client *client = context;
	struct client_command_context *cmd = client->cmd;
	struct idle_ctx *ctx;

	if (cmd == NULL || cmd->cleanup != idle_cleanup)
		return;
	ctx = cmd->context;
	if (ctx->delay_to == NULL) {
		ctx->delay_to = timeout_add(client->loop, IDLE_NOTIFY_DELAY_MSECS,
					    idle_delayed, cmd);
	}
}

static void notify_add(struct imap_client *client, struct idle_ctx *ctx)
{
	const char *const *paths;

	if (client->mailbox == NULL)
		return;
	paths = mailbox_get_notify_paths(client->mailbox);
	for (unsigned int i = 0; paths != NULL && paths[i] != NULL; i++) {
		struct imap_watch *w = imap_watch_add(client->loop, paths[i],
						      idle_changed, client);
		if (w != NULL)
			array_push(&ctx->watches, w);
	}
}

static void notify_remove(struct idle_ctx *ctx)
{
	for (size_t i = 0; i < ctx->watches.count; i++)
		imap_watch_remove(&ctx->watches.v[i]);
	array_free(&ctx->watches);
}

/* ---- the command ---- */

static void idle_keepalive(void *context)
{
	struct client_command_context *cmd = context;

	client_set_log_prefix(cmd->client);
	client_send_line(cmd->client, "* OK Still here");
}

static void idle_check(void *context)
{
	struct client_command_context *cmd = context;

	idle_sync(cmd->client);
}

static void idle_cleanup(struct client_command_context *cmd)
{
	struct idle_ctx *ctx = cmd->context;

	timeout_remove(&ctx->keepalive_to);
	timeout_remove(&ctx->check_to);
	timeout_remove(&ctx->delay_to);
	notify_remove(ctx);
}

static bool idle_input(struct client_command_context *cmd)
{
	struct connection *conn = cmd->client->conn;
	const char *nl = memchr(conn->inbuf, '\n', conn->in_len);
	size_t len;

	if (nl == NULL)
		return false;
	len = (size_t)(nl - conn->inbuf);
	cmd->client->in_bytes += len + 1;
	if (len > 0 && conn->inbuf[len - 1] == '\r')
		len--;
	bool done = len == 4 && strncasecmp(conn->inbuf, "DONE", 4) == 0;
	connection_input_skip(conn, (size_t)(nl - conn->inbuf) + 1);
	cmd->input = NULL;
	idle_cleanup(cmd);
	cmd->cleanup = NULL;
	if (!done)
		return cmd_bad(cmd, "Expected DONE.");
	return cmd_ok(cmd, "Idle completed");
}

bool cmd_idle(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	struct idle_ctx *ctx = p_new(cmd->pool, struct idle_ctx, 1);
	unsigned int notify_secs = client->set->imap_idle_notify_interval;
	unsigned int check_secs = client->set->mailbox_idle_check_interval;

	if (!imap_arg_is_eol(cmd->args))
		return cmd_bad_args(cmd);
	cmd->context = ctx;
	cmd->cleanup = idle_cleanup;
	cmd->input = idle_input;
	imap_sync(client, false);
	client_send_line(client, "+ idling");
	notify_add(client, ctx);
	if (notify_secs > 0) {
		ctx->keepalive_to = timeout_add(client->loop, notify_secs * 1000,
						idle_keepalive, cmd);
	}
	if (client->mailbox != NULL) {
		ctx->check_to = timeout_add(client->loop,
					    (check_secs == 0 ? 30 : check_secs) * 1000,
					    idle_check, cmd);
	}
	return false;
}

/* cmd-idle.c - IDLE (RFC 2177). Changes to the selected mailbox are
 * noticed through one inotify instance shared by every session of the
 * process (the kernel allows few instances per user, and a worker holds
 * thousands of idle sessions), with a poll every
 * mailbox_idle_check_interval as a fallback, and reported at once; a
 * "* OK Still here" keeps NAT boxes awake every
 * imap_idle_notify_interval. */
#include "imap-common.h"
#include "hash.h"

#include <errno.h>
#include <sys/inotify.h>
#include <unistd.h>

/* Changes are reported this long after the first event, so that a
 * delivery's several file operations (or a flag change right after an
 * append) reach the client as one batch, as Dovecot batches them. */
#define IDLE_NOTIFY_DELAY_MSECS 500

struct idle_ctx {
	struct timeout *keepalive_to, *check_to, *delay_to;
	ARRAY(int) wds;
};

/* ---- the process's shared inotify instance ---- */

struct notify_watch {
	int wd;
	ARRAY(struct imap_client *) clients;
};

static int notify_fd = -1;
static struct io *notify_io;
static ARRAY(struct notify_watch) notify_watches;

static struct notify_watch *notify_watch_find(int wd)
{
	for (size_t i = 0; i < notify_watches.count; i++) {
		if (notify_watches.v[i].wd == wd)
			return &notify_watches.v[i];
	}
	return NULL;
}

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
static void idle_changed(struct imap_client *client)
{
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

static void notify_input(void *context ATTR_UNUSED)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ARRAY(struct imap_client *) pending = ARRAY_INIT;
	ssize_t n;

	while ((n = read(notify_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			const struct inotify_event *ev =
				(const struct inotify_event *)(buf + off);
			struct notify_watch *w = notify_watch_find(ev->wd);

			off += (ssize_t)sizeof(*ev) + ev->len;
			for (size_t i = 0; w != NULL && i < w->clients.count; i++) {
				bool dup = false;
				for (size_t j = 0; j < pending.count; j++)
					dup = dup || pending.v[j] == w->clients.v[i];
				if (!dup)
					array_push(&pending, w->clients.v[i]);
			}
		}
	}
	/* a session may finish its IDLE while another syncs: each is
	   looked up again before use */
	for (size_t i = 0; i < pending.count; i++) {
		bool still = false;

		for (size_t j = 0; j < notify_watches.count && !still; j++) {
			struct notify_watch *w = &notify_watches.v[j];
			for (size_t k = 0; k < w->clients.count; k++)
				still = still || w->clients.v[k] == pending.v[i];
		}
		if (still)
			idle_changed(pending.v[i]);
	}
	array_free(&pending);
}

static bool notify_init(struct ioloop *loop)
{
	if (notify_fd >= 0)
		return true;
	notify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (notify_fd < 0) {
		i_error("inotify_init() failed: %m");
		return false;
	}
	notify_io = io_add(loop, notify_fd, IO_READ, notify_input, NULL);
	return true;
}

static void notify_add(struct imap_client *client, struct idle_ctx *ctx)
{
	const char *const *paths;

	if (client->mailbox == NULL || !notify_init(client->loop))
		return;
	paths = mailbox_get_notify_paths(client->mailbox);
	for (unsigned int i = 0; paths != NULL && paths[i] != NULL; i++) {
		struct notify_watch *w;
		int wd = inotify_add_watch(notify_fd, paths[i],
					   IN_CREATE | IN_DELETE | IN_MOVED_FROM |
					   IN_MOVED_TO | IN_MODIFY |
					   IN_CLOSE_WRITE | IN_ATTRIB);

		if (wd < 0) {
			if (errno != ENOENT)
				i_error("inotify_add_watch(%s) failed: %m", paths[i]);
			continue;
		}
		w = notify_watch_find(wd);
		if (w == NULL) {
			w = array_append_space(&notify_watches);
			memset(w, 0, sizeof(*w));
			w->wd = wd;
		}
		array_push(&w->clients, client);
		array_push(&ctx->wds, wd);
	}
}

static void notify_remove(struct imap_client *client, struct idle_ctx *ctx)
{
	for (size_t i = 0; i < ctx->wds.count; i++) {
		struct notify_watch *w = notify_watch_find(ctx->wds.v[i]);

		if (w == NULL)
			continue;
		for (size_t j = 0; j < w->clients.count; j++) {
			if (w->clients.v[j] == client) {
				w->clients.v[j] = w->clients.v[--w->clients.count];
				break;
			}
		}
		if (w->clients.count == 0) {
			(void)inotify_rm_watch(notify_fd, w->wd);
			array_free(&w->clients);
			*w = notify_watches.v[--notify_watches.count];
		}
	}
	array_free(&ctx->wds);
	if (notify_watches.count == 0 && notify_fd >= 0) {
		array_free(&notify_watches);
		io_remove(&notify_io);
		close(notify_fd);
		notify_fd = -1;
	}
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
	notify_remove(cmd->client, ctx);
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

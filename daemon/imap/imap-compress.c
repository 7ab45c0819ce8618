/* imap-compress.c - the imap_zlib plugin: COMPRESS DEFLATE (RFC 4978).
 *
 * After the tagged OK has gone out uncompressed, the session's
 * connection moves onto one end of a socketpair, and a pump in the same
 * event loop sits between it and the client's socket (which may itself
 * be the login worker's TLS pump): what the session writes is deflated
 * (raw deflate, a sync flush per write so replies aren't held back),
 * what the client sends is inflated. The IMAP code above sees plain
 * bytes exactly as before. Bytes the client pipelined after the COMPRESS
 * command are already compressed and go through the inflater first.
 * Dovecot's texts for the errors; imap_zlib_compress_level (plugin
 * setting, default 6) sets the level. */
#include "imap-plugins.h"
#include "mail-plugins.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* the pump stops reading one side while this much waits for the other */
#define PUMP_MAX_QUEUED (256 * 1024)
#define PUMP_CHUNK 16384

struct compress_pump {
	struct compress_pump *next;
	struct connection *net;		/* the client's socket: compressed */
	struct connection *inner;	/* our end of the socketpair: plain */
	int session_fd;			/* the session's end */
	ino_t session_ino;		/* ... and its inode (fds get reused) */
	z_stream zin, zout;
	/* the session's own end-of-session callback, called after ours */
	imap_client_destroyed_t *destroyed;
	void *destroyed_context;
};

static struct compress_pump *pumps;

/* Run data through z (inflate or deflate) and queue the output on dest.
 * -1 on a stream error. */
static int pump_run(struct compress_pump *pump, bool deflating,
		    const void *data, size_t size, struct connection *dest)
{
	z_stream *z = deflating ? &pump->zout : &pump->zin;
	unsigned char out[PUMP_CHUNK];
	int ret;

	z->next_in = (Bytef *)(uintptr_t)data;
	z->avail_in = (uInt)size;
	do {
		z->next_out = out;
		z->avail_out = sizeof(out);
		if (deflating)
			ret = deflate(z, Z_SYNC_FLUSH);
		else
			ret = inflate(z, Z_SYNC_FLUSH);
		if (ret != Z_OK && ret != Z_BUF_ERROR &&
		    !(ret == Z_STREAM_END && !deflating))
			return -1;
		if (sizeof(out) > z->avail_out)
			connection_send(dest, out, sizeof(out) - z->avail_out);
		if (ret == Z_STREAM_END) {
			/* the client ended its deflate stream: nothing
			   more may come */
			return z->avail_in > 0 ? -1 : 0;
		}
	} while (z->avail_out == 0 || z->avail_in > 0);
	return 0;
}

/* Close both sockets. With drain, what the session wrote last (BYE, the
 * LOGOUT reply: its end is closed already) is compressed and sent
 * first. The pump itself stays until the session's end. */
static void pump_close(struct compress_pump *pump, bool drain)
{
	if (drain && pump->inner != NULL && pump->net != NULL) {
		char buf[PUMP_CHUNK];
		ssize_t n;
		int ret = 0;

		if (pump->inner->in_len > 0) {
			ret = pump_run(pump, true, pump->inner->inbuf,
				       pump->inner->in_len, pump->net);
		}
		while (ret == 0 &&
		       (n = read(pump->inner->fd, buf, sizeof(buf))) > 0)
			ret = pump_run(pump, true, buf, (size_t)n, pump->net);
		(void)connection_flush_wait(pump->net, 2000);
	}
	if (pump->net != NULL)
		connection_free(&pump->net);
	if (pump->inner != NULL)
		connection_free(&pump->inner);
}

/* The session ended (its socket is closed): finish and free the pump,
 * then tell the session's owner. */
static void pump_session_destroyed(void *context)
{
	struct compress_pump *pump = context;
	imap_client_destroyed_t *destroyed = pump->destroyed;
	void *destroyed_context = pump->destroyed_context;
	struct compress_pump **p;

	pump_close(pump, true);
	for (p = &pumps; *p != NULL; p = &(*p)->next) {
		if (*p == pump) {
			*p = pump->next;
			break;
		}
	}
	inflateEnd(&pump->zin);
	deflateEnd(&pump->zout);
	i_free(pump);
	if (destroyed != NULL)
		destroyed(destroyed_context);
}

/* Feed src's buffered input through the (de)compressor to dest; pause
 * src while dest has too much queued. false if src was freed. */
static bool pump_input(struct compress_pump *pump, struct connection *src,
		       struct connection *dest, bool deflating)
{
	size_t size = src->in_len;

	if (size == 0)
		return true;
	if (pump_run(pump, deflating, src->inbuf, size, dest) < 0) {
		/* Dovecot ends the session on a broken stream */
		i_info("Disconnected: %s(): Invalid compressed data",
		       deflating ? "deflate" : "inflate");
		pump_close(pump, false);
		return false;
	}
	connection_input_skip(src, size);
	if (connection_output_queued(dest) > PUMP_MAX_QUEUED) {
		connection_pause(src, true);
		connection_want_output(dest, true);
	}
	return true;
}

static bool net_input(struct connection *conn)
{
	struct compress_pump *pump = conn->context;

	return pump_input(pump, pump->net, pump->inner, false);
}

static bool inner_input(struct connection *conn)
{
	struct compress_pump *pump = conn->context;

	return pump_input(pump, pump->inner, pump->net, true);
}

/* dest drained: read its source again */
static bool pump_resume(struct connection *dest, struct connection *src)
{
	connection_want_output(dest, false);
	connection_pause(src, false);
	return connection_process_input(src);
}

static bool net_output_ready(struct connection *conn)
{
	struct compress_pump *pump = conn->context;

	/* false: the pump's sockets (and conn) were closed */
	return pump_resume(pump->net, pump->inner);
}

static bool inner_output_ready(struct connection *conn)
{
	struct compress_pump *pump = conn->context;

	return pump_resume(pump->inner, pump->net);
}

/* The client went away: closing our end tells the session. */
static void net_disconnected(struct connection *conn, const char *reason)
{
	struct compress_pump *pump = conn->context;

	(void)reason;
	pump_close(pump, false);
}

/* The session closed its end. */
static void inner_disconnected(struct connection *conn, const char *reason)
{
	struct compress_pump *pump = conn->context;

	(void)reason;
	pump_close(pump, true);
}

static const struct connection_vfuncs net_vfuncs = {
	.disconnected = net_disconnected,
	.output_ready = net_output_ready,
	.input_raw = net_input,
};
static const struct connection_vfuncs inner_vfuncs = {
	.disconnected = inner_disconnected,
	.output_ready = inner_output_ready,
	.input_raw = inner_input,
};

static int compress_level(const struct settings_root *set)
{
	for (unsigned int i = 0; i < set->plugin_count; i++) {
		if (strcmp(set->plugin[i * 2], "imap_zlib_compress_level") == 0) {
			int level = atoi(set->plugin[i * 2 + 1]);

			if (level >= 1 && level <= 9)
				return level;
		}
	}
	return 6;
}

static bool compress_active(struct imap_client *client)
{
	struct stat st;

	if (client->conn == NULL || fstat(client->conn->fd, &st) < 0)
		return false;
	for (struct compress_pump *p = pumps; p != NULL; p = p->next) {
		if (p->session_fd == client->conn->fd &&
		    p->session_ino == st.st_ino)
			return true;
	}
	return false;
}

/* After the tagged OK went out: move the session onto the pump. */
static void compress_start(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	struct connection *conn = client->conn;
	struct compress_pump *pump;
	char *pending = NULL;
	size_t pending_size = 0;
	int pair[2], net_fd;

	if (conn == NULL || client->destroying || client->logging_out ||
	    cmd->reply_status == NULL || strcmp(cmd->reply_status, "OK") != 0)
		return;
	if (connection_flush_wait(conn, 5000) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) {
		i_error("COMPRESS: couldn't start: %m");
		client_disconnect(client, "COMPRESS failed");
		return;
	}
	if (conn->in_len > 0) {
		/* compressed bytes the client sent right after COMPRESS */
		pending_size = conn->in_len;
		pending = i_malloc(pending_size);
		memcpy(pending, conn->inbuf, pending_size);
	}
	net_fd = connection_replace_fd(conn, pair[0]);
	pump = i_new(struct compress_pump, 1);
	pump->session_fd = pair[0];
	{
		struct stat st;

		if (fstat(pair[0], &st) == 0)
			pump->session_ino = st.st_ino;
	}
	if (inflateInit2(&pump->zin, -15) != Z_OK ||
	    deflateInit2(&pump->zout, compress_level(client->set), Z_DEFLATED,
			 -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		i_panic("zlib init failed");
	pump->net = connection_create(client->loop, net_fd, PUMP_CHUNK * 4,
				      PUMP_MAX_QUEUED * 2, &net_vfuncs, pump);
	pump->inner = connection_create(client->loop, pair[1],
					PUMP_CHUNK * 4, PUMP_MAX_QUEUED * 2,
					&inner_vfuncs, pump);
	pump->next = pumps;
	pumps = pump;
	/* the pump ends with the session */
	pump->destroyed = client->destroyed;
	pump->destroyed_context = client->destroyed_context;
	client->destroyed = pump_session_destroyed;
	client->destroyed_context = pump;
	if (pending != NULL) {
		if (connection_input_inject(pump->net, pending,
					    pending_size) == 0)
			(void)connection_process_input(pump->net);
		i_free(pending);
	}
}

bool cmd_compress(struct client_command_context *cmd)
{
	struct imap_client *client = cmd->client;
	const char *mech;

	if (!mail_plugins_has(client->set->mail_plugins, "imap_zlib")) {
		return cmd_bad_error(cmd, "Unknown command");
	}
	if (!imap_arg_get_atom(&cmd->args[0], &mech) ||
	    !imap_arg_is_eol(&cmd->args[1]))
		return cmd_bad(cmd, "Error in IMAP command COMPRESS: "
			       "Invalid arguments");
	if (compress_active(client)) {
		return cmd_no(cmd, "[COMPRESSIONACTIVE] COMPRESSION=DEFLATE "
			      "already enabled");
	}
	if (strcasecmp(mech, "DEFLATE") != 0)
		return cmd_no(cmd, "Unknown compression mechanism");
	cmd->cleanup = compress_start;
	return cmd_ok(cmd, "Begin compression");
}

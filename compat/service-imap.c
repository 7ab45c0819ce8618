/* service-imap.c - `roost imap [-c FILE] [-o key=value] -u USER`: a
 * pre-authenticated IMAP session on stdin/stdout, as Dovecot's imap
 * binary runs from a shell, inetd or an SSH command: the user is looked
 * up in the userdb, privileges are dropped to the user, "* PREAUTH" is
 * sent and the session runs until LOGOUT. The master's mail workers run
 * the same session code on handed-over connections. */
#include "lib.h"
#include "compat.h"
#include "doveadm-mail.h"
#include "ioloop.h"
#include "imap-client.h"


static void session_destroyed(void *context)
{
	io_loop_stop(context);
}

int imap_cmd_main(int argc, char *argv[])
{
	struct stdio_session ss;
	struct imap_client_start start;
	int ret;

	ret = stdio_session_init(argc, argv, "imap", "* BYE ", &ss);
	if (ret != 0) {
		stdio_session_deinit(&ss);
		return ret;
	}
	memset(&start, 0, sizeof(start));
	start.preauth = true;
	(void)imap_client_create(ss.loop, ss.fd, ss.user, ss.suser->set, "",
				 &start, session_destroyed, ss.loop);
	io_loop_run(ss.loop);
	stdio_session_deinit(&ss);
	return 0;
}

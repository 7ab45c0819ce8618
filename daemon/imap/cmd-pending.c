/* cmd-pending.c - TEMPORARY while the command files are written in
 * parallel: weak definitions that the real cmd-*.c override. Removed
 * before the IMAP server is declared done. */
#include "imap-common.h"

#define PENDING(fn) \
	bool fn(struct client_command_context *cmd) __attribute__((weak)); \
	bool fn(struct client_command_context *cmd) \
	{ return cmd_no(cmd, "[CANNOT] Not implemented yet"); }

PENDING(cmd_create)
PENDING(cmd_delete)
PENDING(cmd_rename)
PENDING(cmd_subscribe)
PENDING(cmd_unsubscribe)
PENDING(cmd_list)
PENDING(cmd_lsub)
PENDING(cmd_status)
PENDING(cmd_append)
PENDING(cmd_fetch)
PENDING(cmd_store)
PENDING(cmd_copy)
PENDING(cmd_move)
PENDING(cmd_search)
PENDING(cmd_sort)
PENDING(cmd_thread)

/* imap-commands.c - the command table: name, function, and what the
 * command needs (a selected mailbox) and allows (EXPUNGE responses
 * after it). Looked up by the upper-cased name. */
#include "imap-common.h"
#include "imap-plugins.h"
#include "imap-search-return.h"

#include <stdlib.h>

#define SEQS COMMAND_FLAG_USES_SEQS
#define SEL COMMAND_FLAG_SELECTED
#define NOARGS COMMAND_FLAG_IGNORE_ARGS

/* by name (command_find() sorts its own copy) */
static const struct command commands[] = {
	{ "APPEND", cmd_append, 0 },
	{ "CANCELUPDATE", cmd_cancelupdate, 0 },
	{ "CAPABILITY", cmd_capability, NOARGS },
	{ "CHECK", cmd_check, SEL | NOARGS },
	{ "CLOSE", cmd_close, SEL | COMMAND_FLAG_NO_SYNC | NOARGS },
	{ "COMPRESS", cmd_compress, 0 },
	{ "COPY", cmd_copy, SEL | SEQS },
	{ "CREATE", cmd_create, 0 },
	{ "DELETE", cmd_delete, 0 },
	{ "DELETEACL", cmd_deleteacl, 0 },
	{ "ENABLE", cmd_enable, 0 },
	{ "EXAMINE", cmd_examine, 0 },
	{ "EXPUNGE", cmd_expunge, SEL | NOARGS },
	{ "FETCH", cmd_fetch, SEL | SEQS },
	{ "GENURLAUTH", cmd_genurlauth, 0 },
	{ "GETACL", cmd_getacl, 0 },
	{ "GETMETADATA", cmd_getmetadata, 0 },
	{ "GETQUOTA", cmd_getquota, 0 },
	{ "GETQUOTAROOT", cmd_getquotaroot, 0 },
	{ "ID", cmd_id, 0 },
	{ "IDLE", cmd_idle, 0 },
	{ "LIST", cmd_list, 0 },
	{ "LISTRIGHTS", cmd_listrights, 0 },
	{ "LOGOUT", cmd_logout, COMMAND_FLAG_NO_SYNC | NOARGS },
	{ "LSUB", cmd_lsub, 0 },
	{ "MOVE", cmd_move, SEL | SEQS },
	{ "MYRIGHTS", cmd_myrights, 0 },
	{ "NAMESPACE", cmd_namespace, NOARGS },
	{ "NOOP", cmd_noop, NOARGS },
	{ "NOTIFY", cmd_notify, 0 },
	{ "RENAME", cmd_rename, 0 },
	{ "RESETKEY", cmd_resetkey, 0 },
	{ "REPLACE", cmd_replace, SEL | SEQS },
	{ "SEARCH", cmd_search, SEL | SEQS },
	{ "SELECT", cmd_select, 0 },
	{ "SETACL", cmd_setacl, 0 },
	{ "SETMETADATA", cmd_setmetadata, 0 },
	{ "SETQUOTA", cmd_setquota, 0 },
	{ "SORT", cmd_sort, SEL | SEQS },
	{ "STATUS", cmd_status, 0 },
	{ "STORE", cmd_store, SEL | SEQS },
	{ "SUBSCRIBE", cmd_subscribe, 0 },
	{ "THREAD", cmd_thread, SEL | SEQS },
	{ "UNSELECT", cmd_unselect, SEL | COMMAND_FLAG_NO_SYNC | NOARGS },
	{ "UNSUBSCRIBE", cmd_unsubscribe, 0 },
	{ "URLFETCH", cmd_urlfetch, 0 },
};

static int command_sort_cmp(const void *a, const void *b)
{
	const struct command *const *ca = a, *const *cb = b;

	return strcmp((*ca)->name, (*cb)->name);
}

static int command_cmp(const void *key, const void *elem)
{
	const struct command *const *command = elem;

	return strcmp(key, (*command)->name);
}

/* Looked up by name in a copy sorted once, so the table's order in the
 * source can't break the lookup. */
const struct command *command_find(const char *name)
{
	static const struct command *sorted[N_ELEMENTS(commands)];
	static bool sorted_done = false;
	const struct command *const *found;

	if (!sorted_done) {
		for (size_t i = 0; i < N_ELEMENTS(commands); i++)
			sorted[i] = &commands[i];
		qsort(sorted, N_ELEMENTS(sorted), sizeof(sorted[0]),
		      command_sort_cmp);
		sorted_done = true;
	}
	found = bsearch(name, sorted, N_ELEMENTS(sorted), sizeof(sorted[0]),
			command_cmp);
	return found == NULL ? NULL : *found;
}

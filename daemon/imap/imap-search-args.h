/* imap-search-args.h - IMAP search keys (RFC 3501 6.4.4, WITHIN, SEARCHRES
 * "$") to a mail_search_args tree, and running that search over the
 * selected mailbox in slices. Shared by SEARCH, SORT and THREAD. */
#ifndef ROOST_IMAP_SEARCH_ARGS_H
#define ROOST_IMAP_SEARCH_ARGS_H

#include "imap-common.h"
#include "mail-search.h"

/* Build the tree from args (the keys, up to EOL) with strings in
 * charset (NULL: UTF-8). On failure sets cmd's tagged reply (BAD with
 * the parse error, NO [BADCHARSET]) and returns -1; *badcharset_r tells
 * which. */
int imap_search_args_build(struct client_command_context *cmd,
			   const struct imap_arg *args, const char *charset,
			   struct mail_search_args **args_r,
			   bool *badcharset_r);

/* Does the tree use MODSEQ (CONDSTORE's implicit enable)? */
bool imap_search_args_have_modseq(const struct mail_search_args *args);

/* A search in progress over the selected mailbox. */
struct imap_search_run;

struct imap_search_run *imap_search_run_init(struct imap_client *client,
					     struct mail_search_args *args);
/* Match the next slice of messages. Returns 1 when all are done, 0 when
 * it stopped to let the session breathe (call again), -1 on a storage
 * error. */
int imap_search_run_more(struct imap_search_run *run);
/* INPROGRESS (RFC 9585): after run_more gave 0, send
 * "* OK [INPROGRESS ("tag" done total)] text" if the interval
 * (ROOST_IMAP_INPROGRESS_MSECS in the environment, default 10 s) passed
 * since the command began or the last update. */
#define IMAP_INPROGRESS_DEFAULT_MSECS 10000
void imap_search_run_progress(struct imap_search_run *run,
			      struct client_command_context *cmd,
			      const char *text);
/* The matching sequence numbers, ascending (after run_more gave 1). */
const ARRAY_U32 *imap_search_run_result(const struct imap_search_run *run);
/* The highest modseq of the matches (for MODSEQ searches). */
uint64_t imap_search_run_highest_modseq(const struct imap_search_run *run);
/* Take the args out of the run (CONTEXT=SEARCH keeps them). */
struct mail_search_args *imap_search_run_take_args(struct imap_search_run *run);
/* Frees the args too (unless taken). */
void imap_search_run_deinit(struct imap_search_run **run);

/* "1:3,5,9" of ascending numbers */
void imap_write_seq_range(string_t *dest, const uint32_t *nums, size_t count);

#endif

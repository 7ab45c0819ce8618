/* imap-save.h - what APPEND, STORE, COPY and MOVE (cmd-append.c,
 * cmd-store.c, cmd-copy.c) share. Private to those files. */
#ifndef ROOST_IMAP_SAVE_H
#define ROOST_IMAP_SAVE_H

#include "imap-common.h"

/* BAD "Error in IMAP command <NAME>: <error>" */
bool imap_save_cmd_error(struct client_command_context *cmd,
			 const char *error);
/* A flag list as Dovecot reads it: atoms only, system flags checked
 * (BAD errors), keywords collected as given (pointers into args). */
int imap_save_parse_flags(const struct imap_arg *args,
			  enum mail_flags *flags_r, ARRAY_STR *keywords,
			  const char **error_r);
/* Can the storage take these keyword names? Dovecot's NO [CANNOT]
 * texts otherwise. */
int imap_save_check_keywords(struct imap_client *client,
			     const ARRAY_STR *keywords, const char **error_r);
/* UIDs (in any order) as Dovecot's sorted range list "1:3,5,7:8" */
void imap_save_write_uidset(string_t *dest, const ARRAY_U32 *uids);
/* Open the destination of APPEND/COPY/MOVE: the selected mailbox when
 * the name is its own, else a new instance (*own_r = true). On failure
 * the tagged NO is set ([TRYCREATE] for a missing mailbox) and NULL is
 * returned. */
struct mailbox *imap_save_open_dest(struct client_command_context *cmd,
				    const char *name, bool *own_r);

/* imap-catenate.c: append the bytes a CATENATE URL part names to dest.
 * -1 with *error_r: the NO text ("[BADURL url] Message not found"). */
int imap_catenate_url(struct client_command_context *cmd, const char *url,
		      string_t *dest, const char **error_r);

#endif

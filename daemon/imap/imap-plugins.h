/* imap-plugins.h - the IMAP commands and capabilities of the mail
 * plugins (imap_quota: cmd-quota.c; imap_zlib: imap-compress.c). */
#ifndef ROOST_IMAP_PLUGINS_H
#define ROOST_IMAP_PLUGINS_H

#include "imap-common.h"

bool cmd_getquotaroot(struct client_command_context *cmd);
/* imap_acl: cmd-acl.c */
bool cmd_getacl(struct client_command_context *cmd);
bool cmd_setacl(struct client_command_context *cmd);
bool cmd_deleteacl(struct client_command_context *cmd);
bool cmd_listrights(struct client_command_context *cmd);
bool cmd_myrights(struct client_command_context *cmd);
/* LIST-MYRIGHTS (RFC 8440): may LIST RETURN (MYRIGHTS) be used (imap_acl
 * with the acl plugin)? */
bool imap_acl_list_myrights_enabled(struct imap_client *client);
/* "* MYRIGHTS vname rights" if the user may look the mailbox up. */
void imap_acl_send_myrights(struct imap_client *client, const char *vname);
bool cmd_getquota(struct client_command_context *cmd);
bool cmd_setquota(struct client_command_context *cmd);
bool cmd_compress(struct client_command_context *cmd);

/* " COMPRESS=DEFLATE QUOTA" as the plugins in mail_plugins add them
 * after the other capabilities (Dovecot's order), appended to dest. */
void imap_plugins_capability(const struct settings_root *set, string_t *dest);

#endif

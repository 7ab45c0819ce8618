/* quota-private.h - the quota plugin's hooks in the storage core
 * (mail-user.c, mail.c, mail-storage.c). */
#ifndef ROOST_QUOTA_PRIVATE_H
#define ROOST_QUOTA_PRIVATE_H

#include "mail-storage-private.h"

/* From mail_user_init (when mail_plugins has quota): roots, rules,
 * warnings; -1 with Dovecot's "Failed to initialize quota: ..." */
int quota_user_init(struct mail_user *user, const struct mail_user_info *info,
		    const char **error_r);
void quota_user_deinit(struct mail_user *user);
/* A message of size (physical) / vsize bytes is being saved or copied
 * in ctx's transaction: -1 (box error NOQUOTA or critical) if it must
 * not be. */
int quota_save_check(struct mail_save_context *ctx, uint64_t size,
		     uint64_t vsize);
/* rec is being expunged by t */
void quota_expunged(struct mailbox_transaction *t,
		    const struct mail_record *rec);
/* t committed: maildirsize updated, warnings run */
void quota_transaction_committed(struct mailbox_transaction *t);
void quota_transaction_free(struct mailbox_transaction *t);
/* box and its mail are gone: recount */
void quota_mailbox_deleted(struct mailbox *box);

#endif

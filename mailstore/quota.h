/* quota.h - the quota plugin (mail_plugins = quota) as Dovecot 2.3 does
 * it: quota roots from plugin { quota = BACKEND:NAME[:PARAM...],
 * quota2 = ... } (params noenforcing, hidden, ignoreunlimited,
 * ns=PREFIX; another is Dovecot's init error), their rules (quota_rule, quota2_rule, ...: "*" the
 * default, per-mailbox rules with storage=/messages= absolute, +/-
 * relative or % of the default, "ignore"), quota_grace, quota_warning
 * scripts and quota_exceeded_message. Backends: "count" (usage counted
 * from the mailboxes' virtual sizes, quota_vsizes = yes required) and
 * "maildir" (Maildir++ maildirsize file in the Maildir root, in
 * Dovecot's format, physical sizes).
 *
 * Every writer gets it: the storage core checks each save and copy in
 * mailbox_save_finish()/mailbox_copy() (the save fails with
 * MAIL_ERROR_NOQUOTA and quota_exceeded_message), and commits update
 * the usage and run the warnings. Protocols only read it (IMAP
 * GETQUOTA, doveadm quota) or ask beforehand (LMTP RCPT with
 * lmtp_rcpt_check_quota: quota_check_user()). */
#ifndef ROOST_QUOTA_H
#define ROOST_QUOTA_H

#include "mail-storage.h"

struct quota_root;

/* A quota root as the protocols see it. Limits are for the default
 * rule ("*"); 0 = unlimited. Usage: bytes (physical or virtual per the
 * backend) and messages, ignored mailboxes left out. */
struct quota_root_usage {
	const char *name;
	uint64_t bytes, count;
	uint64_t bytes_limit, count_limit;
};

/* Is the quota plugin active for this user? */
bool quota_user_enabled(struct mail_user *user);
/* Number of roots and the i-th one's name ("User quota"). */
unsigned int quota_root_count(struct mail_user *user);
const char *quota_root_name(struct mail_user *user, unsigned int idx);
/* plugin { quota = backend:name:hidden }: left out of GETQUOTAROOT. */
bool quota_root_is_hidden(struct mail_user *user, unsigned int idx);
/* Does root idx count mailbox vname (":ns=PREFIX" roots only the
 * mailboxes of that namespace)? */
bool quota_root_applies(struct mail_user *user, unsigned int idx,
			const char *vname);
/* Index of root by name, -1 if none. */
int quota_root_lookup(struct mail_user *user, const char *name);
/* Current usage and default limits of root idx. -1 with *error_r. */
int quota_root_get_usage(struct mail_user *user, unsigned int idx,
			 struct quota_root_usage *usage_r,
			 const char **error_r);
/* Would saving a message of size bytes into vname go over quota? 0 ok,
 * -1 with *error_r = quota_exceeded_message (over quota) or an internal
 * error (*over_r says which). For LMTP's RCPT check. */
int quota_check_user(struct mail_user *user, const char *vname,
		     uint64_t size, bool *over_r, const char **error_r);
/* doveadm quota recalc: recount the usage and rewrite maildirsize. */
int quota_recalculate(struct mail_user *user, const char **error_r);

/* The trash plugin's priority file: when set and it returns text for the
 * path, that text is read instead of the file (compat/ sets it: the file
 * a Dovecot 2.4 config's trash_priority settings stand for is generated
 * in memory). */
extern const char *(*quota_trash_file_hook)(const char *path);

#endif

/* doveadm-mail.h - what the doveadm mail commands and dovecot-lda share:
 *
 *  - the mail service: finding a user through the auth service's
 *    auth-userdb socket (or, when no auth service runs, through the
 *    configured userdbs in this process), the settings that user sees
 *    (config + -o + userdb fields), dropping to the user's uid/gid and
 *    opening the mail user (doveadm-mail-user.c);
 *  - doveadm's output formatters (doveadm-mail-print.c);
 *  - the mail command framework: -u/-A/-F/-S, user iteration, exit codes,
 *    mailbox iteration driven by a search query (doveadm-mail.c). */
#ifndef ROOST_DOVEADM_MAIL_H
#define ROOST_DOVEADM_MAIL_H

#include "lib.h"
#include "array.h"
#include "mail-storage.h"
#include "mail-search.h"

struct config;
struct doveadm_context;

/* ---- the mail service (doveadm-mail-user.c) ------------------------ */

struct mail_service;

struct mail_service_user {
	pool_t pool;
	const char *username;
	/* the userdb reply's fields, "key=value", NULL-terminated */
	const char *const *fields;
	/* the settings this user sees (bound from pool) */
	struct settings_root *set;
	struct mail_user_info info;
};

/* service: "doveadm" or "lda" (the protocol filter and the auth
 * request's service=). overrides: -o key=value. */
struct mail_service *mail_service_init(struct config *config,
				       const char *service,
				       const char *const *overrides,
				       unsigned int override_count,
				       bool debug);
void mail_service_deinit(struct mail_service **svc);
/* The service's settings before any user is known. */
const struct settings_root *mail_service_get_set(struct mail_service *svc);

/* Look up username in the userdb: 1 found, 0 no such user, -1 error
 * (*error_r). userdb_lookup=false: take the user as given, with the
 * mail_uid/mail_gid settings (or the process's ids) and $HOME, as
 * Dovecot does without -u/-d. */
int mail_service_lookup(struct mail_service *svc, const char *username,
			bool userdb_lookup, struct mail_service_user **user_r,
			const char **error_r);
/* Check uid/gid against first/last_valid_uid/gid, drop privileges
 * (temporarily with temp_drop, so that the next user can follow) and
 * open the mail user. -1 with *error_r in Dovecot's words. */
int mail_service_user_init(struct mail_service *svc,
			   struct mail_service_user *user, bool temp_drop,
			   bool allow_root, struct mail_user **mail_user_r,
			   const char **error_r);
/* Free the user (and the mail user); undo a temporary privilege drop. */
void mail_service_user_free(struct mail_service *svc,
			    struct mail_service_user **user,
			    struct mail_user **mail_user);
/* Every user the userdbs know (LIST), matching mask ("" or "*" all). */
int mail_service_list_users(struct mail_service *svc, const char *mask,
			    ARRAY_STR *users, const char **error_r);
/* Dovecot's wildcard_match_icase(): '*' and '?' */
bool doveadm_wildcard_match_icase(const char *str, const char *mask);

/* ---- output formatters (doveadm-mail-print.c) ---------------------- */

enum doveadm_print_header_flags {
	DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY = 0x01,
	DOVEADM_PRINT_HEADER_FLAG_STICKY = 0x02,
	DOVEADM_PRINT_HEADER_FLAG_HIDE_TITLE = 0x04,
	DOVEADM_PRINT_HEADER_FLAG_EXPAND = 0x08,
	DOVEADM_PRINT_HEADER_FLAG_NUMBER = 0x10,
};

/* "flow", "pager", "tab", "table", "json". The first call wins: the
 * global -f is set up before the command asks for its default. */
void doveadm_print_init(const char *name);
bool doveadm_print_is_initialized(void);
void doveadm_print_header(const char *key, const char *title,
			  enum doveadm_print_header_flags flags);
void doveadm_print_header_simple(const char *key_title);
void doveadm_print(const char *value);
void doveadm_print_num(uint64_t value);
/* A long value in pieces; size 0 ends it. */
void doveadm_print_stream(const void *data, size_t size);
void doveadm_print_sticky(const char *key, const char *value);
void doveadm_print_flush(void);
/* Flush, close a json array, free. */
void doveadm_print_deinit(void);

/* ---- mail commands (doveadm-mail.c) --------------------------------- */

#define DOVEADM_CMD_MAIL_USAGE_PREFIX "[-u <user>|-A] [-S <socket_path>] "

struct doveadm_mail_cmd_context;

struct doveadm_mail_cmd {
	const char *name;		/* "mailbox status" */
	const char *usage_args;		/* after the common options */
	const char *getopt_args;	/* the command's own options */
	/* formatter when -f isn't given; NULL = prints nothing */
	const char *default_formatter;
	/* the command's option c; false = unknown */
	bool (*parse_arg)(struct doveadm_mail_cmd_context *mctx, int c,
			  const char *arg);
	/* positional args, once before any user: check them (usage or
	   fatal errors), declare the output columns */
	void (*init)(struct doveadm_mail_cmd_context *mctx,
		     const char *const *args);
	/* per user; -1 after setting mctx->exit_code */
	int (*run)(struct doveadm_mail_cmd_context *mctx,
		   struct mail_user *user);
	void (*deinit)(struct doveadm_mail_cmd_context *mctx);
};

/* What doveadm_mail_iter_init() says when the mailbox doesn't exist:
 * each Dovecot command words it its own way (or says nothing). */
enum doveadm_missing_box {
	/* fetch, index, force-resync: nothing, exit 0 */
	DOVEADM_MISSING_BOX_SKIP = 0,
	/* search: Couldn't get mailbox 'X' GUID: ... */
	DOVEADM_MISSING_BOX_GUID,
	/* expunge: Syncing mailbox 'X' failed: ... */
	DOVEADM_MISSING_BOX_SYNCING,
	/* flags, copy, move, deduplicate: Mailbox X: Mailbox sync failed: */
	DOVEADM_MISSING_BOX_SYNC,
};

struct doveadm_mail_cmd_context {
	const struct doveadm_mail_cmd *cmd;
	struct doveadm_context *dctx;
	struct mail_service *service;
	const char *const *args;
	/* the search query, for commands that take one */
	struct mail_search_args *search_args;
	struct mail_service_user *cur_service_user;
	/* the user being processed */
	const char *cur_username;
	int exit_code;
	enum doveadm_missing_box missing_box;
	bool iterate_single_user;
	/* the command's own state */
	void *cmd_ctx;
};

/* The main of a mail command: options, users, run. Returns the exit
 * code. */
int doveadm_mail_cmd_main(const struct doveadm_mail_cmd *cmd,
			  struct doveadm_context *dctx, int argc,
			  char *argv[]);
/* "doveadm <name> <usage>" on stderr, exit 64. */
void doveadm_mail_help(const struct doveadm_mail_cmd *cmd) ATTR_NORETURN;
/* The query in args; fatal (75) with Dovecot's text when it's bad. */
struct mail_search_args *doveadm_mail_build_search_args(const char *const *args);
/* Remember the worst exit code for a storage error (Dovecot's
 * mapping: tempfail overrides, otherwise the first one). */
void doveadm_mail_failed_error(struct doveadm_mail_cmd_context *mctx,
			       enum mail_error error);
void doveadm_mail_failed_mailbox(struct doveadm_mail_cmd_context *mctx,
				 struct mailbox *box);

/* Mailboxes the query can match: the top-level mailbox args as
 * patterns, else all; selectable ones only. */
struct doveadm_mailbox_iter;
struct doveadm_mailbox_iter *
doveadm_mailbox_iter_init(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user,
			  struct mail_search_args *args, bool only_selectable);
const struct mailbox_info *
doveadm_mailbox_iter_next(struct doveadm_mailbox_iter *iter);
int doveadm_mailbox_iter_deinit(struct doveadm_mailbox_iter **iter);

/* Messages of the query in one mailbox. The mailbox is opened
 * read-write unless readonly; flags as mailbox_alloc(). */
struct doveadm_mail_iter;
int doveadm_mail_iter_init(struct doveadm_mail_cmd_context *mctx,
			   struct mail_user *user, const char *vname,
			   struct mail_search_args *args, bool readonly,
			   struct doveadm_mail_iter **iter_r);
/* The next match (mail->seq set), or NULL. */
struct mail *doveadm_mail_iter_next(struct doveadm_mail_iter *iter);
struct mailbox *doveadm_mail_iter_get_mailbox(struct doveadm_mail_iter *iter);
struct mailbox_transaction *
doveadm_mail_iter_get_transaction(struct doveadm_mail_iter *iter);
/* Commit (or roll back when commit=false). -1 on error, logged. */
int doveadm_mail_iter_deinit(struct doveadm_mail_iter **iter, bool commit);

/* Fatal 65 "Mailbox name not valid UTF-8: X" for a bad name. */
void doveadm_mailbox_args_check(const char *const *args);
/* The user's mailbox vname (mailbox_alloc with the name as given);
 * fatal 65 if it isn't UTF-8. */
struct mailbox *doveadm_mailbox_find(struct mail_user *user,
				     const char *vname);
/* The \Recent threshold of an open box (doveadm sees as recent what no
 * IMAP session claimed yet). */
uint32_t doveadm_mailbox_first_recent_uid(struct mailbox *box);
/* IMAP flag list: "\Seen \Recent $Label1" */
void doveadm_mail_write_flags(string_t *dest, enum mail_flags flags,
			      const char *const *keywords);
/* "\Seen $Label1" into system flags and keywords (from pool). -1 with
 * *error_r for an unknown system flag. */
int doveadm_mail_parse_flags(pool_t pool, const char *str,
			     enum mail_flags *flags_r,
			     const char *const **keywords_r,
			     const char **error_r);

/* printf into one of a few rotating static buffers (error texts that
 * outlive the function making them, without an owner to free them). */
const char *doveadm_tmp_printf(const char *fmt, ...) ATTR_FORMAT(1, 2);

/* The mail commands, for doveadm.c's table. */
struct doveadm_cmd;
extern const struct doveadm_cmd doveadm_cmd_fetch;
extern const struct doveadm_cmd doveadm_cmd_search;
extern const struct doveadm_cmd doveadm_cmd_expunge;
extern const struct doveadm_cmd doveadm_cmd_flags_add;
extern const struct doveadm_cmd doveadm_cmd_flags_remove;
extern const struct doveadm_cmd doveadm_cmd_flags_replace;
extern const struct doveadm_cmd doveadm_cmd_copy;
extern const struct doveadm_cmd doveadm_cmd_move;
extern const struct doveadm_cmd doveadm_cmd_index;
extern const struct doveadm_cmd doveadm_cmd_force_resync;
extern const struct doveadm_cmd doveadm_cmd_save;
extern const struct doveadm_cmd doveadm_cmd_import;
extern const struct doveadm_cmd doveadm_cmd_deduplicate;
extern const struct doveadm_cmd doveadm_cmd_purge;
extern const struct doveadm_cmd doveadm_cmd_altmove;
extern const struct doveadm_cmd doveadm_cmd_mailbox_list;
extern const struct doveadm_cmd doveadm_cmd_mailbox_create;
extern const struct doveadm_cmd doveadm_cmd_mailbox_delete;
extern const struct doveadm_cmd doveadm_cmd_mailbox_rename;
extern const struct doveadm_cmd doveadm_cmd_mailbox_status;
extern const struct doveadm_cmd doveadm_cmd_mailbox_subscribe;
extern const struct doveadm_cmd doveadm_cmd_mailbox_unsubscribe;
extern const struct doveadm_cmd doveadm_cmd_quota_get;
/* doveadm-acl.c */
extern const struct doveadm_cmd doveadm_cmd_acl_get;
extern const struct doveadm_cmd doveadm_cmd_acl_rights;
extern const struct doveadm_cmd doveadm_cmd_acl_set;
extern const struct doveadm_cmd doveadm_cmd_acl_add;
extern const struct doveadm_cmd doveadm_cmd_acl_remove;
extern const struct doveadm_cmd doveadm_cmd_acl_delete;
extern const struct doveadm_cmd doveadm_cmd_acl_debug;
extern const struct doveadm_cmd doveadm_cmd_quota_recalc;

#endif

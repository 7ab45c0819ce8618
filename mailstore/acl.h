/* acl.h - the acl plugin (RFC 4314 rights, Dovecot 2.3's vfile backend):
 * dovecot-acl files in each mailbox directory, rights computed for the
 * session user, and the storage core's checks (mail-storage.c, mail.c,
 * mailbox-list.c call in here; every check passes when mail_plugins
 * lacks acl). Also shared namespaces (prefix with %u) and the
 * acl_shared_dict that says which users share mailboxes with whom. */
#ifndef ROOST_ACL_H
#define ROOST_ACL_H

#include "mail-storage.h"

/* rights, in Dovecot's canonical order "lrwstipekxa" */
enum acl_right {
	ACL_LOOKUP = 0x001,
	ACL_READ = 0x002,
	ACL_WRITE = 0x004,
	ACL_WRITE_SEEN = 0x008,
	ACL_WRITE_DELETED = 0x010,
	ACL_INSERT = 0x020,
	ACL_POST = 0x040,
	ACL_EXPUNGE = 0x080,
	ACL_CREATE = 0x100,
	ACL_DELETE = 0x200,
	ACL_ADMIN = 0x400,
};
#define ACL_ALL_RIGHTS 0x7ffu

/* identifier types in the order rights are applied (later wins) */
enum acl_id_type {
	ACL_ID_ANYONE,
	ACL_ID_AUTHENTICATED,
	ACL_ID_GROUP,
	ACL_ID_OWNER,
	ACL_ID_USER,
	ACL_ID_GROUP_OVERRIDE,
};

struct acl_entry {
	enum acl_id_type type;
	char *name;		/* user/group name, NULL for the others */
	unsigned int rights;
	bool neg;		/* "-id": rights taken away */
	/* the implicit owner entry (no file line): shown in canonical
	   order, as Dovecot does */
	bool is_default;
	/* from the global ACL file (acl = vfile:PATH): GETACL shows "#id",
	   doveadm "global"; never written to dovecot-acl */
	bool global;
};
typedef ARRAY(struct acl_entry) ARRAY_ACL;

/* Parse a dovecot-acl file: "[-]identifier rights" lines, '#'
 * comments. Rights are letters (c = k x, d = e t, obsolete) and
 * ":name" words (names other than the standard ones are ignored). -1
 * with a text in errbuf on a bad line. Entries are appended (names
 * owned); a later line for the same identifier replaces an earlier. */
int acl_vfile_parse(const char *data, size_t size, ARRAY_ACL *entries,
		    char *errbuf, size_t errbuf_size);
void acl_entries_free(ARRAY_ACL *entries);
/* The global ACL file: "<mailbox pattern> <identifier> <rights>" lines
 * ('*' and '?' wildcards); the entries of the lines whose pattern
 * matches vname are appended, marked global; matching lines of one
 * identifier add up (Dovecot). -1 as acl_vfile_parse. */
int acl_global_parse(const char *data, size_t size, const char *vname,
		     ARRAY_ACL *entries, char *errbuf, size_t errbuf_size);
/* Sort: the mailbox's entries, then the global ones, each by identifier
 * type and name (the file's, GETACL's and doveadm's order). */
void acl_entries_sort(ARRAY_ACL *entries);
/* The vfile line of an entry (no LF). */
void acl_entry_write(string_t *dest, const struct acl_entry *e);
/* Letters: canonical=true in "lrwstipekxa" order (MYRIGHTS), else
 * sorted by right name "akxeilprwts" (GETACL, the file); with_cd adds
 * the obsolete c (k or x) and d (e or t). */
void acl_rights_append(string_t *dest, unsigned int rights, bool canonical,
		       bool with_cd);
/* IMAP rights letters (c, d included) -> bits; 0, or -1 with the bad
 * letter in *bad_r. */
int acl_rights_parse_imap(const char *letters, unsigned int *rights_r,
			  char *bad_r);

/* A vfile identifier ("user=bob", "-group=g", "owner", ...): 0 or -1. */
int acl_id_parse(const char *id, struct acl_entry *e);
/* A right's name ("lookup", "write-seen"): its bit, 0 if unknown. */
unsigned int acl_right_from_name(const char *name);
/* Names separated by spaces: canonical order, or sorted by name. */
void acl_rights_append_names(string_t *dest, unsigned int rights,
			     bool canonical, const char *prefix);

/* The mailbox's directory (doveadm acl debug). */
const char *acl_mailbox_path(struct mailbox *box);

/* Is the acl plugin on for this user? */
bool acl_enabled(struct mail_user *user);
/* Set up from plugin settings (acl, acl_anyone, acl_user, acl_groups,
 * acl_defaults_from_inbox, acl_globals_only, acl_shared_dict,
 * acl_ignore_namespace[N], master_user); a
 * global file registered in lib/genfile.h is read from there. */
int acl_user_init(struct mail_user *user, const struct mail_user_info *info,
		  const char **error_r);
/* The namespace's prefix is one of acl_ignore_namespace[N]: ACLs are not
 * enforced there (every right). */
bool acl_namespace_ignored(struct mail_namespace *ns);
/* acl_anyone = allow */
bool acl_anyone_allowed(struct mail_user *user);

/* The session user's rights on box (ACL_ALL_RIGHTS without the plugin,
 * for doveadm's user->admin and MAILBOX_FLAG_IGNORE_ACLS boxes).
 * -1 on a broken ACL file (critical error set on box). */
int acl_mailbox_rights(struct mailbox *box, unsigned int *rights_r);
/* The same, ignoring MAILBOX_FLAG_IGNORE_ACLS and user->admin (doveadm
 * acl rights/debug). */
int acl_mailbox_my_rights(struct mailbox *box, unsigned int *rights_r);
/* Rights on a vname (for LIST filtering). */
unsigned int acl_vname_rights(struct mail_user *user, const char *vname);
/* The mailbox's ACL as GETACL shows it: the file's entries, sorted, then
 * the default owner entry when the file has none and the namespace is
 * the user's own. */
int acl_mailbox_get_entries(struct mailbox *box, ARRAY_ACL *entries_r);
/* SETACL/DELETEACL: mode ADD/REMOVE/REPLACE the rights of the entry's
 * identifier; delete_id: drop the identifier. Rewrites dovecot-acl, the
 * namespace's dovecot-acl-list and the shared dict. */
int acl_mailbox_update(struct mailbox *box, const struct acl_entry *change,
		       enum modify_type mode, bool delete_id);
/* The IMAP name of an entry's identifier (owner -> the owner's name,
 * "$group", "!group", "anyone", "-" for negative ones). */
const char *acl_entry_id_name(struct mailbox *box, const struct acl_entry *e,
			      pool_t pool);

/* Core hooks. */
/* A new mailbox inherits its parent's dovecot-acl. */
void acl_mailbox_created(struct mailbox *box);
/* May box be created (k on the parent)? -1 with the error set. */
int acl_mailbox_create_check(struct mailbox *box);
/* Flags the user may change, and whether keywords may change. */
void acl_mailbox_flag_rights(struct mailbox *box, enum mail_flags *flags_r,
			     bool *keywords_r);

/* Shared namespaces: the child namespace of template for owner (created
 * on first use after a userdb lookup of the owner on the auth-userdb
 * socket), NULL when the owner doesn't exist. */
struct mail_namespace *acl_shared_ns_get(struct mail_user *user,
					 struct mail_namespace *template,
					 const char *owner);
/* Create the child namespaces of every user the shared dict says shares
 * with this user (before LIST). */
void acl_shared_ns_add_all(struct mail_user *user,
			   struct mail_namespace *template);

#endif

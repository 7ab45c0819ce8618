/* doveadm.h - the doveadm front end's command table. A command is one
 * struct doveadm_cmd row in doveadm.c's table plus its own
 * doveadm-<name>.c file (doveadm-pw.c is the model). */
#ifndef ROOST_DOVEADM_H
#define ROOST_DOVEADM_H

#include "lib.h"

struct config;

/* The global options, parsed before the command. */
struct doveadm_context {
	bool debug;		/* -D */
	bool verbose;		/* -v */
	/* -f: "flow", "tab", "table", "json", "pager"; NULL = the
	   command's default */
	const char *formatter;
	/* -c FILE, or NULL for the default search (compat.h) */
	const char *config_path;
	/* -o key=value, in order given */
	const char *const *overrides;
	unsigned int override_count;
	/* loaded on demand by doveadm_config_get() */
	struct config *config;
};

enum doveadm_cmd_flags {
	/* The command prints through the -f formatter itself. Others get
	   what Dovecot's formatters print around unformatted output (an
	   empty line for tab, "[]" for json). */
	DOVEADM_CMD_FLAG_FORMATTED = 0x01,
};

struct doveadm_cmd {
	/* "pw"; subcommands are words: "auth test", "mailbox list". */
	const char *name;
	/* The arguments part of the usage line. */
	const char *usage;
	enum doveadm_cmd_flags flags;
	/* argv[0] is the last word of the name (getopt messages say
	   "pw: invalid option -- 'x'"); getopt is reset. Returns the exit
	   code. Fatal errors use doveadm_fatal(). */
	int (*run)(struct doveadm_context *ctx, int argc, char *argv[]);
};

extern const struct doveadm_cmd doveadm_cmd_pw;
/* doveadm-master.c */
extern const struct doveadm_cmd doveadm_cmd_reload;
extern const struct doveadm_cmd doveadm_cmd_stop;
extern const struct doveadm_cmd doveadm_cmd_auth_test;
extern const struct doveadm_cmd doveadm_cmd_auth_login;
extern const struct doveadm_cmd doveadm_cmd_auth_lookup;
extern const struct doveadm_cmd doveadm_cmd_auth_cache_flush;
extern const struct doveadm_cmd doveadm_cmd_user;

/* "Fatal: <msg>" on stderr and exit 75, as Dovecot's doveadm does. */
void doveadm_fatal(const char *fmt, ...) ATTR_FORMAT(1, 2) ATTR_NORETURN;
/* The parsed config (-c or the default search); on error prints
   Dovecot's doveconf message and exits. */
struct config *doveadm_config_get(struct doveadm_context *ctx);
/* A global setting's value: the last -o for it, else the config's
   global value, else NULL. */
const char *doveadm_setting_get(struct doveadm_context *ctx,
				const char *key);
/* One line of password: from the terminal without echo after prompt
   when stdin is one, else from stdin. Free with explicit_bzero+free. */
char *doveadm_askpass(const char *prompt);

#endif

/* doveadm-user.c - `doveadm user`: userdb lookups on the auth-userdb
 * socket, printed as Dovecot 2.3 does: the user's mail settings as
 * field/value rows (the config filling what the userdb lacks), the raw
 * userdb reply (-u), one field (-f), or user names matching masks. */
#include "lib.h"
#include "str.h"
#include "doveadm.h"
#include "doveadm-auth-client.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct user_cmd {
	struct doveadm_context *ctx;
	struct doveadm_auth_master master;
	struct doveadm_auth_info info;
	const char *show_field;
	bool userdb_only, flow;
	/* Dovecot prints the rows through its formatter's stream and the
	   messages with stdio, which reaches the output last */
	string_t *late;
};

/* Case-insensitive match with '*' and '?' (Dovecot's
 * wildcard_match_icase). */
static bool wildcard_match_icase(const char *str, const char *mask)
{
	while (*mask != '\0') {
		if (*mask == '*') {
			while (*mask == '*')
				mask++;
			if (*mask == '\0')
				return true;
			for (; *str != '\0'; str++) {
				if (wildcard_match_icase(str, mask))
					return true;
			}
			return false;
		}
		if (*str == '\0' ||
		    (*mask != '?' && tolower((unsigned char)*mask) != tolower((unsigned char)*str)))
			return false;
		str++;
		mask++;
	}
	return *str == '\0';
}

static void user_print_row(struct user_cmd *cmd, const char *key,
			   const char *value)
{
	if (cmd->show_field != NULL) {
		if (strcmp(cmd->show_field, key) == 0)
			printf("%s\n", value);
	} else if (cmd->flow) {
		printf("field=%s value=%s\n", key, value);
	} else {
		printf("%s\t%s\n", key, value);
	}
}

static const char *user_field(char **fields, const char *key)
{
	size_t len = strlen(key);

	for (; *fields != NULL; fields++) {
		if (strncmp(*fields, key, len) == 0 && (*fields)[len] == '=')
			return *fields + len + 1;
	}
	return NULL;
}

static bool user_overridden(struct user_cmd *cmd, const char *key)
{
	size_t len = strlen(key);

	for (unsigned int i = 0; i < cmd->ctx->override_count; i++) {
		if (strncmp(cmd->ctx->overrides[i], key, len) == 0 &&
		    cmd->ctx->overrides[i][len] == '=')
			return true;
	}
	return false;
}

/* uid, gid, home and mail as the mail user gets them, then the rest. */
static void user_print_fields(struct user_cmd *cmd, char **fields)
{
	static const char *const main_fields[] = {
		"uid", "gid", "home", "mail"
	};
	static const char *const settings[] = {
		"mail_uid", "mail_gid", "mail_home", "mail_location"
	};

	for (unsigned int i = 0; i < N_ELEMENTS(main_fields); i++) {
		const char *value = user_field(fields, main_fields[i]);

		/* -o settings override the userdb, as in Dovecot */
		if (value == NULL || user_overridden(cmd, settings[i]))
			value = doveadm_setting_get(cmd->ctx, settings[i]);
		user_print_row(cmd, main_fields[i], value == NULL ? "" : value);
	}
	for (; *fields != NULL; fields++) {
		const char *eq = strchr(*fields, '=');
		char *key = eq == NULL ? i_strdup(*fields) :
			i_strndup(*fields, (size_t)(eq - *fields));
		unsigned int i;

		for (i = 0; i < N_ELEMENTS(main_fields); i++) {
			if (strcmp(key, main_fields[i]) == 0)
				break;
		}
		if (i == N_ELEMENTS(main_fields))
			user_print_row(cmd, key, eq == NULL ? "" : eq + 1);
		free(key);
	}
}

/* One user, default output. Returns 1, 0 (not found) or -1. */
static int user_lookup_mail(struct user_cmd *cmd, const char *user)
{
	const char *updated_user, *error;
	char **args, **fields;
	int ret;

	ret = doveadm_auth_master_lookup(&cmd->master, "USER", user,
					 &cmd->info, &args, &updated_user,
					 &fields, &error);
	if (ret < 0) {
		fflush(stdout);
		if (error == NULL) {
			error = i_strdup_printf("auth-master: userdb "
						"lookup(%s): %s", user,
						fields != NULL &&
						fields[0] != NULL ?
						fields[0] : "Internal error");
		}
		fprintf(stderr, "doveadm(%s)<%ld><>: Error: %s\n", user,
			(long)getpid(), error);
	} else if (ret == 0) {
		if (cmd->show_field != NULL) {
			fprintf(stderr, "\nuserdb lookup: user %s doesn't "
				"exist\n", user);
		} else {
			str_printfa(cmd->late, "\nuserdb lookup: user %s "
				    "doesn't exist\n", user);
		}
	} else {
		user_print_fields(cmd, fields);
	}
	doveadm_auth_args_free(&args);
	return ret;
}

static void user_list_cb(const char *user, void *context)
{
	char *const *masks = context;

	for (; *masks != NULL; masks++) {
		if (wildcard_match_icase(user, *masks)) {
			printf("%s\n", user);
			return;
		}
	}
}

static int user_list(struct user_cmd *cmd, char *masks[], int count)
{
	const char *error;

	if (doveadm_auth_master_list(&cmd->master,
				     count == 1 ? masks[0] : "*", &cmd->info,
				     user_list_cb, masks, &error) < 0) {
		fflush(stdout);
		i_error("auth-master: userdb list: %s", error);
		doveadm_fatal("user listing failed");
	}
	return 0;
}

static bool have_wildcards(char *argv[], int argc)
{
	for (int i = 0; i < argc; i++) {
		if (strpbrk(argv[i], "*?") != NULL)
			return true;
	}
	return false;
}

static int user_run(struct user_cmd *cmd, char *users[], int count)
{
	int ret = 0;

	if (have_wildcards(users, count))
		return user_list(cmd, users, count);
	if (!cmd->userdb_only && cmd->show_field == NULL && !cmd->flow)
		printf("field\tvalue\n");
	for (int i = 0; i < count; i++) {
		if (i > 0) {
			if (cmd->userdb_only || cmd->show_field != NULL)
				putchar('\n');
			else
				str_append_c(cmd->late, '\n');
		}
		switch (cmd->userdb_only ?
			doveadm_auth_lookup_print(&cmd->master, &cmd->info,
						  users[i], cmd->show_field,
						  true) :
			user_lookup_mail(cmd, users[i])) {
		case -1:
			ret = EXIT_TEMPFAIL;
			break;
		case 0:
			ret = EXIT_NOUSER;
			break;
		}
		fflush(stdout);
	}
	fputs(str_c(cmd->late), stdout);
	return ret;
}

static int cmd_user(struct doveadm_context *ctx, int argc, char *argv[])
{
	struct user_cmd cmd;
	const char *base_dir;
	int c, ret;

	memset(&cmd, 0, sizeof(cmd));
	cmd.ctx = ctx;
	doveadm_auth_info_init(&cmd.info);
	cmd.late = str_new(128);
	cmd.flow = ctx->formatter != NULL && strcmp(ctx->formatter, "flow") == 0;
	while ((c = getopt(argc, argv, "+a:f:ux:")) != -1) {
		switch (c) {
		case 'a':
			cmd.master.path = optarg;
			break;
		case 'f':
			cmd.show_field = optarg;
			break;
		case 'u':
			cmd.userdb_only = true;
			break;
		case 'x':
			doveadm_auth_info_add(&cmd.info, optarg);
			break;
		default:
			optind = -1;
			break;
		}
		if (optind < 0)
			break;
	}
	if (optind < 0) {
		ret = EXIT_USAGE;
	} else if (optind >= argc) {
		fprintf(stderr, "doveadm %s %s\n", doveadm_cmd_user.name,
			doveadm_cmd_user.usage);
		ret = EXIT_USAGE;
	} else {
		if (cmd.master.path == NULL) {
			base_dir = doveadm_setting_get(ctx, "base_dir");
			cmd.master.path = i_strdup_printf(
				"%s/auth-userdb",
				base_dir != NULL ? base_dir : "/run/dovecot");
		}
		ret = user_run(&cmd, argv + optind, argc - optind);
	}
	doveadm_auth_master_close(&cmd.master);
	doveadm_auth_info_deinit(&cmd.info);
	str_free(&cmd.late);
	return ret;
}

const struct doveadm_cmd doveadm_cmd_user = {
	"user",
	"[-a <userdb socket path>] [-x <auth info>] [-f field] [-e <value>] "
	"[-u] <user mask> [<user mask> [...]]",
	DOVEADM_CMD_FLAG_FORMATTED, cmd_user
};

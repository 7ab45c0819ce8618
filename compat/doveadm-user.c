/* doveadm-user.c - `doveadm user`: userdb lookups on the auth-userdb
 * socket, printed as Dovecot 2.3 does: the user's mail settings as
 * field/value rows (the config filling what the userdb lacks) through
 * the -f formatter (tab by default, flow, table, json, pager), the raw
 * userdb reply (-u), one field (-f), a %-template expanded with the
 * user's mail variables (-e), or user names matching masks. */
#include "lib.h"
#include "str.h"
#include "doveadm.h"
#include "doveadm-auth-client.h"
#include "var-expand.h"

#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The table formatter's width when stdout is no terminal. */
#define TABLE_COLUMNS 80

struct user_row {
	char *key, *value;
};

struct user_cmd {
	struct doveadm_context *ctx;
	struct doveadm_auth_master master;
	struct doveadm_auth_info info;
	const char *show_field, *expand;
	bool userdb_only;
	/* the -f formatter, or NULL: tab for the rows, nothing otherwise */
	const char *formatter;
	/* Rows go through Dovecot's formatter, messages through stdio;
	   the formatter's output reaches stdout first (the table one's
	   last), so both are kept until the end. */
	struct user_row *rows;
	unsigned int row_count;
	string_t *late;
	unsigned int expand_failures;
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

/* ---- the formatters ---- */

static bool fmt_is(const struct user_cmd *cmd, const char *name)
{
	return cmd->formatter != NULL && strcmp(cmd->formatter, name) == 0;
}

static void user_add_row(struct user_cmd *cmd, const char *key,
			 const char *value)
{
	cmd->rows = i_reallocarray(cmd->rows, cmd->row_count + 1,
				   sizeof(*cmd->rows));
	cmd->rows[cmd->row_count].key = i_strdup(key);
	cmd->rows[cmd->row_count].value = i_strdup(value);
	cmd->row_count++;
}

static void json_append_escaped(string_t *dest, const char *src)
{
	for (; *src != '\0'; src++) {
		unsigned char c = (unsigned char)*src;

		switch (c) {
		case '"':
			str_append(dest, "\\\"");
			break;
		case '\\':
			str_append(dest, "\\\\");
			break;
		case '\n':
			str_append(dest, "\\n");
			break;
		case '\r':
			str_append(dest, "\\r");
			break;
		case '\t':
			str_append(dest, "\\t");
			break;
		case '\b':
			str_append(dest, "\\b");
			break;
		case '\f':
			str_append(dest, "\\f");
			break;
		default:
			if (c < 0x20)
				str_printfa(dest, "\\u%04x", c);
			else
				str_append_c(dest, (char)c);
		}
	}
}

static void table_cell(string_t *out, const char *value, size_t width,
		       bool last)
{
	size_t len = strlen(value);

	str_append(out, value);
	for (; len < width; len++)
		str_append_c(out, ' ');
	if (!last)
		str_append_c(out, ' ');
}

/* Dovecot's table: each column as wide as its widest cell (titles
 * included), the remaining width up to 80 columns shared out by giving
 * half of it to the value column, or the value column cut back when
 * the line is too long (its cells are still printed whole). */
static void table_render(const struct user_cmd *cmd, string_t *out)
{
	size_t fw = strlen("field"), vw = strlen("value"), line;

	for (unsigned int i = 0; i < cmd->row_count; i++) {
		fw = MAX(fw, strlen(cmd->rows[i].key));
		vw = MAX(vw, strlen(cmd->rows[i].value));
	}
	line = fw + 1 + vw;
	if (line < TABLE_COLUMNS)
		vw += (TABLE_COLUMNS - line) / 2;
	else if (fw + 1 < TABLE_COLUMNS)
		vw = TABLE_COLUMNS - fw - 1;
	table_cell(out, "field", fw, false);
	table_cell(out, "value", vw, true);
	str_append_c(out, '\n');
	for (unsigned int i = 0; i < cmd->row_count; i++) {
		table_cell(out, cmd->rows[i].key, fw, false);
		table_cell(out, cmd->rows[i].value, vw, true);
		str_append_c(out, '\n');
	}
}

/* What the formatter writes for the field/value rows. */
static void rows_render(const struct user_cmd *cmd, string_t *out)
{
	if (fmt_is(cmd, "table")) {
		table_render(cmd, out);
		return;
	}
	if (fmt_is(cmd, "json"))
		str_append_c(out, '[');
	else if (cmd->formatter == NULL || fmt_is(cmd, "tab"))
		str_append(out, "field\tvalue\n");
	for (unsigned int i = 0; i < cmd->row_count; i++) {
		const char *key = cmd->rows[i].key, *value = cmd->rows[i].value;

		if (fmt_is(cmd, "json")) {
			str_append(out, i > 0 ? ",{\"field\":\"" :
				   "{\"field\":\"");
			json_append_escaped(out, key);
			str_append(out, "\",\"value\":\"");
			json_append_escaped(out, value);
			str_append(out, "\"}");
		} else if (fmt_is(cmd, "flow")) {
			str_printfa(out, "field=%s value=%s\n", key, value);
		} else if (fmt_is(cmd, "pager")) {
			str_printfa(out, "%sfield: %s\nvalue: %s\n",
				    i > 0 ? "\f\n" : "", key, value);
		} else {
			str_printfa(out, "%s\t%s\n", key, value);
		}
	}
	if (fmt_is(cmd, "json"))
		str_append_c(out, ']');
}

/* What an explicit formatter writes when nothing goes through it. */
static const char *formatter_empty(const struct user_cmd *cmd)
{
	if (fmt_is(cmd, "json"))
		return "[]";
	if (fmt_is(cmd, "tab"))
		return "\n";
	return "";
}

/* ---- one user ---- */

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

static const char *const main_fields[] = { "uid", "gid", "home", "mail" };
static const char *const main_settings[] = {
	"mail_uid", "mail_gid", "mail_home", "mail_location"
};

/* uid, gid, home or mail as the mail user gets it: the userdb's value,
 * else (or when -o sets it) the setting's. */
static const char *user_main_value(struct user_cmd *cmd, char **fields,
				   unsigned int i)
{
	const char *value = user_field(fields, main_fields[i]);

	if (value == NULL || user_overridden(cmd, main_settings[i]))
		value = doveadm_setting_get(cmd->ctx, main_settings[i]);
	return value == NULL ? "" : value;
}

static unsigned long setting_ulong(struct user_cmd *cmd, const char *key,
				   unsigned long def)
{
	const char *value = doveadm_setting_get(cmd->ctx, key);

	return value == NULL || *value == '\0' ? def :
		strtoul(value, NULL, 10);
}

/* Dovecot refuses to set up the mail user (silently, exit 75) when its
 * uid or gid is outside first/last_valid_uid/gid. */
static bool user_ids_valid(struct user_cmd *cmd, char **fields)
{
	const char *uid = user_main_value(cmd, fields, 0);
	const char *gid = user_main_value(cmd, fields, 1);
	unsigned long first_uid = setting_ulong(cmd, "first_valid_uid", 500);
	unsigned long last_uid = setting_ulong(cmd, "last_valid_uid", 0);
	unsigned long first_gid = setting_ulong(cmd, "first_valid_gid", 1);
	unsigned long last_gid = setting_ulong(cmd, "last_valid_gid", 0);
	unsigned long n;

	if (isdigit((unsigned char)*uid)) {
		n = strtoul(uid, NULL, 10);
		if (n < first_uid || (last_uid != 0 && n > last_uid))
			return false;
	}
	if (isdigit((unsigned char)*gid)) {
		n = strtoul(gid, NULL, 10);
		if (n < first_gid || (last_gid != 0 && n > last_gid))
			return false;
	}
	return true;
}

/* The rows: uid, gid, home and mail, then the rest. */
static void user_add_fields(struct user_cmd *cmd, char **fields)
{
	for (unsigned int i = 0; i < N_ELEMENTS(main_fields); i++)
		user_add_row(cmd, main_fields[i],
			     user_main_value(cmd, fields, i));
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
			user_add_row(cmd, key, eq == NULL ? "" : eq + 1);
		free(key);
	}
}

/* -f FIELD: the field's value (main fields as the mail user has them). */
static void user_print_field(struct user_cmd *cmd, char **fields)
{
	for (unsigned int i = 0; i < N_ELEMENTS(main_fields); i++) {
		if (strcmp(cmd->show_field, main_fields[i]) == 0) {
			printf("%s\n", user_main_value(cmd, fields, i));
			return;
		}
	}
	const char *value = user_field(fields, cmd->show_field);

	if (value != NULL)
		printf("%s\n", value);
}

/* ---- -e: the mail user's variables ---- */

struct expand_ctx {
	char **fields;
};

static int userdb_func(const char *data, void *context,
		       const char **value_r, const char **error_r ATTR_UNUSED)
{
	struct expand_ctx *ectx = context;
	const char *colon = strchr(data, ':');
	char *key = colon == NULL ? i_strdup(data) :
		i_strndup(data, (size_t)(colon - data));

	/* %{userdb:field[:default]}: the raw userdb reply */
	*value_r = user_field(ectx->fields, key);
	if (*value_r == NULL)
		*value_r = colon == NULL ? "" : colon + 1;
	free(key);
	return 1;
}

static const char *session_id(void)
{
	static char id[32];
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
		"rstuvwxyz0123456789+/";
	unsigned char raw[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	memset(raw, 0, sizeof(raw));
	if (fd >= 0) {
		if (read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
			memset(raw, 0, sizeof(raw));
		close(fd);
	}
	/* Dovecot's 22-character session ids: base64 of 128 bits */
	for (unsigned int i = 0, o = 0; i < 16; i += 3) {
		unsigned int v = (unsigned int)raw[i] << 16 |
			(i + 1 < 16 ? (unsigned int)raw[i + 1] << 8 : 0) |
			(i + 2 < 16 ? raw[i + 2] : 0);

		id[o++] = b64[(v >> 18) & 63];
		id[o++] = b64[(v >> 12) & 63];
		if (i + 1 < 16)
			id[o++] = b64[(v >> 6) & 63];
		if (i + 2 < 16)
			id[o++] = b64[v & 63];
		id[o] = '\0';
	}
	return id;
}

static const char *user_name_part(const char *user, bool domain)
{
	const char *at = strchr(user, '@');

	if (domain)
		return at == NULL ? "" : at + 1;
	return at == NULL ? i_strdup(user) :
		i_strndup(user, (size_t)(at - user));
}

/* Expand -e for one user; prints the result or Dovecot's error. */
static void user_expand(struct user_cmd *cmd, const char *user,
			char **fields)
{
	char pid[32], hostname[256];
	const char *uid = user_main_value(cmd, fields, 0);
	const char *gid = user_main_value(cmd, fields, 1);
	const char *home = user_main_value(cmd, fields, 2);
	const char *name = user_name_part(user, false);
	const char *domain = user_name_part(user, true);
	const char *lip = cmd->info.lip == NULL ? "" : cmd->info.lip;
	const char *rip = cmd->info.rip == NULL ? "" : cmd->info.rip;
	const struct var_expand_table table[] = {
		{ 'u', user, "user" },
		{ 'n', name, "username" },
		{ 'd', domain, "domain" },
		/* the mail user's service is doveadm, whatever -x says */
		{ 's', "doveadm", "service" },
		{ 'h', home, "home" },
		{ 'l', lip, "lip" },
		{ 'r', rip, "rip" },
		{ 'p', pid, "pid" },
		{ 'i', uid, "uid" },
		{ '\0', gid, "gid" },
		{ '\0', session_id(), "session" },
		{ '\0', user, "auth_user" },
		{ '\0', name, "auth_username" },
		{ '\0', domain, "auth_domain" },
		{ '\0', lip, "local_ip" },
		{ '\0', rip, "remote_ip" },
		{ '\0', hostname, "hostname" },
		{ '\0', NULL, NULL }
	};
	const struct var_expand_func_table funcs[] = {
		{ "userdb", userdb_func },
		{ NULL, NULL }
	};
	struct expand_ctx ectx = { fields };
	string_t *str = str_new(128);
	const char *error;

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if (gethostname(hostname, sizeof(hostname)) < 0)
		hostname[0] = '\0';
	hostname[sizeof(hostname) - 1] = '\0';
	if (var_expand(str, cmd->expand, table, funcs, &ectx, &error) <= 0) {
		/* Dovecot's second and later errors carry its log prefix */
		fflush(stdout);
		if (cmd->expand_failures++ == 0)
			fprintf(stderr, "Error: ");
		else
			fprintf(stderr, "doveadm(%ld): Error: ", (long)getpid());
		fprintf(stderr, "Failed to expand %s: %s\n", cmd->expand,
			error);
	} else {
		printf("%s\n", str_c(str));
	}
	str_free(&str);
	free((char *)name);
}

/* One user, not -u. Returns 1, 0 (not found) or -1. */
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
		if (cmd->show_field != NULL || cmd->expand != NULL) {
			fflush(stdout);
			fprintf(stderr, "\nuserdb lookup: user %s doesn't "
				"exist\n", user);
		} else {
			str_printfa(cmd->late, "\nuserdb lookup: user %s "
				    "doesn't exist\n", user);
		}
	} else if (!user_ids_valid(cmd, fields)) {
		ret = -1;
	} else if (cmd->expand != NULL) {
		user_expand(cmd, updated_user != NULL ? updated_user : user,
			    fields);
	} else if (cmd->show_field != NULL) {
		user_print_field(cmd, fields);
	} else {
		user_add_fields(cmd, fields);
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

	fputs(formatter_empty(cmd), stdout);
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
	bool rows = !cmd->userdb_only && cmd->show_field == NULL &&
		cmd->expand == NULL;
	string_t *out;
	int ret = 0;

	if (have_wildcards(users, count))
		return user_list(cmd, users, count);
	if (!rows)
		fputs(formatter_empty(cmd), stdout);
	for (int i = 0; i < count; i++) {
		if (i > 0) {
			if (!rows)
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
	if (!rows)
		return ret;
	out = str_new(1024);
	rows_render(cmd, out);
	if (fmt_is(cmd, "table")) {
		fputs(str_c(cmd->late), stdout);
		fputs(str_c(out), stdout);
	} else {
		fputs(str_c(out), stdout);
		fputs(str_c(cmd->late), stdout);
	}
	str_free(&out);
	return ret;
}

static void user_cmd_free(struct user_cmd *cmd)
{
	for (unsigned int i = 0; i < cmd->row_count; i++) {
		free(cmd->rows[i].key);
		free(cmd->rows[i].value);
	}
	free(cmd->rows);
	str_free(&cmd->late);
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
	cmd.formatter = ctx->formatter;
	while ((c = getopt(argc, argv, "+a:e:f:ux:")) != -1) {
		switch (c) {
		case 'a':
			cmd.master.path = optarg;
			break;
		case 'e':
			cmd.expand = optarg;
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
	} else if (cmd.expand != NULL && cmd.userdb_only) {
		fprintf(stderr, "Error: -e can't be used with -u\n");
		ret = EXIT_USAGE;
	} else if (cmd.expand != NULL && cmd.show_field != NULL) {
		fprintf(stderr, "Error: -e can't be used with -f\n");
		ret = EXIT_USAGE;
	} else if (optind >= argc) {
		fprintf(stderr, "doveadm %s %s\n", doveadm_cmd_user.name,
			doveadm_cmd_user.usage);
		ret = EXIT_USAGE;
	} else {
		if (cmd.master.path == NULL) {
			static char userdb_path[4096];

			base_dir = doveadm_setting_get(ctx, "base_dir");
			snprintf(userdb_path, sizeof(userdb_path), "%s/auth-userdb",
				 base_dir != NULL ? base_dir : "/run/dovecot");
			cmd.master.path = userdb_path;
		}
		ret = user_run(&cmd, argv + optind, argc - optind);
	}
	doveadm_auth_master_close(&cmd.master);
	doveadm_auth_info_deinit(&cmd.info);
	user_cmd_free(&cmd);
	return ret;
}

const struct doveadm_cmd doveadm_cmd_user = {
	"user",
	"[-a <userdb socket path>] [-x <auth info>] [-f field] [-e <value>] "
	"[-u] <user mask> [<user mask> [...]]",
	DOVEADM_CMD_FLAG_FORMATTED, cmd_user
};

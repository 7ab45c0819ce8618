/* doveadm.c - `doveadm [-Dv] [-f formatter] [-o k=v] [-c conf] <command>`:
 * global options, the command table, usage listings and `help`, with
 * Dovecot 2.3's texts and exit codes. Commands live in doveadm-*.c. */
#include "lib.h"
#include "str.h"
#include "compat.h"
#include "doveadm.h"
#include "doveadm-mail.h"
#include "config-parser.h"
#include "config-tree.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define USAGE_NAME_WIDTH 12
#define MAX_NAME_WORDS 4

static int cmd_help(struct doveadm_context *ctx, int argc, char *argv[]);
static const struct doveadm_cmd doveadm_cmd_help = {
	"help", "[<cmd>]", DOVEADM_CMD_FLAG_FORMATTED, cmd_help
};

/* One row per command, in any order: listings are sorted. */
static const struct doveadm_cmd *const doveadm_cmds[] = {
	&doveadm_cmd_help,
	&doveadm_cmd_pw,
	&doveadm_cmd_auth_test,
	&doveadm_cmd_auth_login,
	&doveadm_cmd_auth_lookup,
	&doveadm_cmd_auth_cache_flush,
	&doveadm_cmd_user,
	&doveadm_cmd_fetch,
	&doveadm_cmd_search,
	&doveadm_cmd_expunge,
	&doveadm_cmd_flags_add,
	&doveadm_cmd_flags_remove,
	&doveadm_cmd_flags_replace,
	&doveadm_cmd_copy,
	&doveadm_cmd_move,
	&doveadm_cmd_index,
	&doveadm_cmd_force_resync,
	&doveadm_cmd_save,
	&doveadm_cmd_import,
	&doveadm_cmd_deduplicate,
	&doveadm_cmd_purge,
	&doveadm_cmd_altmove,
	&doveadm_cmd_mailbox_list,
	&doveadm_cmd_mailbox_create,
	&doveadm_cmd_mailbox_delete,
	&doveadm_cmd_mailbox_rename,
	&doveadm_cmd_mailbox_status,
	&doveadm_cmd_mailbox_subscribe,
	&doveadm_cmd_mailbox_unsubscribe,
	&doveadm_cmd_reload,
	&doveadm_cmd_stop,
	&doveadm_cmd_quota_get,
	&doveadm_cmd_quota_recalc,
	&doveadm_cmd_acl_get,
	&doveadm_cmd_acl_rights,
	&doveadm_cmd_acl_set,
	&doveadm_cmd_acl_add,
	&doveadm_cmd_acl_remove,
	&doveadm_cmd_acl_delete,
	&doveadm_cmd_acl_debug,
};

/* What each formatter prints when a command prints nothing through it
 * (Dovecot flushes the formatter's header before the command runs). */
static const struct {
	const char *name;
	const char *empty_output;
} formatters[] = {
	{ "flow", "" },
	{ "tab", "\n" },
	{ "table", "" },
	{ "json", "[]" },
	{ "pager", "" },
};

void doveadm_fatal(const char *fmt, ...)
{
	va_list args;
	char *msg;

	va_start(args, fmt);
	msg = i_strdup_vprintf(fmt, args);
	va_end(args);
	i_fatal_status(EXIT_TEMPFAIL, "%s", msg);
}

struct config *doveadm_config_get(struct doveadm_context *ctx)
{
	const char *path = ctx->config_path, *error;

	if (ctx->config != NULL)
		return ctx->config;
	if (path == NULL)
		path = roost_default_config_path();
	if (roost_config_load(path, 0, &ctx->config, &error) < 0) {
		/* Dovecot's doveadm runs doveconf, whose error this is */
		log_set_prefix("doveconf: ");
		i_fatal("%s", error);
	}
	return ctx->config;
}

const char *doveadm_setting_get(struct doveadm_context *ctx, const char *key)
{
	struct config_filter filter;
	struct config_node *root;
	const char *error;
	size_t len = strlen(key);

	for (unsigned int i = ctx->override_count; i > 0; i--) {
		const char *o = ctx->overrides[i - 1];

		if (strncmp(o, key, len) == 0 && o[len] == '=')
			return o + len + 1;
	}
	memset(&filter, 0, sizeof(filter));
	if (config_get_merged(doveadm_config_get(ctx), &filter, &root,
			      &error) < 0)
		doveadm_fatal("%s", error);
	return config_node_get(root, key);
}

/* Split name into words; returns the count. */
static unsigned int name_words(const char *name,
			       char words[MAX_NAME_WORDS][64])
{
	unsigned int n = 0;

	while (*name != '\0' && n < MAX_NAME_WORDS) {
		size_t len = strcspn(name, " ");

		snprintf(words[n++], sizeof(words[0]), "%.*s", (int)len, name);
		name += len;
		name += strspn(name, " ");
	}
	return n;
}

static int cmd_cmp(const void *p1, const void *p2)
{
	const struct doveadm_cmd *const *c1 = p1, *const *c2 = p2;

	return strcmp((*c1)->name, (*c2)->name);
}

static void usage_group_flush(FILE *out, char *name, string_t *subs)
{
	if (str_len(subs) > 0)
		fprintf(out, "  %-*s %s\n", USAGE_NAME_WIDTH, name, str_c(subs));
	str_clear(subs);
	name[0] = '\0';
}

/* List the commands under the first depth words of prefix: a command
 * with more words shows as "<word>  sub1|sub2|..." (Dovecot's
 * compressed listing). */
static void usage_list(FILE *out, char prefix[][64], unsigned int depth)
{
	const struct doveadm_cmd *sorted[N_ELEMENTS(doveadm_cmds)];
	char words[MAX_NAME_WORDS][64], last[64] = "";
	string_t *subs = str_new(128);
	unsigned int i, j, n;

	memcpy(sorted, doveadm_cmds, sizeof(sorted));
	qsort(sorted, N_ELEMENTS(sorted), sizeof(sorted[0]), cmd_cmp);
	for (i = 0; i < N_ELEMENTS(sorted); i++) {
		n = name_words(sorted[i]->name, words);
		for (j = 0; j < depth; j++) {
			if (j >= n || strcmp(words[j], prefix[j]) != 0)
				break;
		}
		if (j < depth || n == depth)
			continue;
		if (n > depth + 1 && strcmp(last, words[depth]) == 0) {
			/* one more of the group: "cache|lookup|test" */
			str_append_c(subs, '|');
			str_append(subs, words[depth + 1]);
			continue;
		}
		usage_group_flush(out, last, subs);
		if (n == depth + 1) {
			fprintf(out, "  %-*s %s\n", USAGE_NAME_WIDTH,
				words[depth], sorted[i]->usage);
			continue;
		}
		snprintf(last, sizeof(last), "%s", words[depth]);
		str_append(subs, words[depth + 1]);
	}
	usage_group_flush(out, last, subs);
	str_free(&subs);
}

static int usage_all(void)
{
	fprintf(stderr, "usage: doveadm [-Dv] [-f <formatter>] "
		"<command> [<args>]\n%*s\n", 15, "");
	usage_list(stderr, NULL, 0);
	return EXIT_USAGE;
}

static int usage_group(char prefix[][64], unsigned int depth)
{
	fprintf(stderr, "usage: doveadm [-Dv] [-f <formatter>] ");
	for (unsigned int i = 0; i < depth; i++)
		fprintf(stderr, "%s ", prefix[i]);
	fprintf(stderr, "<command> [<args>]\n");
	usage_list(stderr, prefix, depth);
	return EXIT_USAGE;
}

/* The command whose name is the longest match of argv's first words;
 * *words_r = how many words it took. *prefix_depth_r = how many of
 * argv's words start some command's name (for group usage). */
static const struct doveadm_cmd *
cmd_find(int argc, char *argv[], unsigned int *words_r,
	 unsigned int *prefix_depth_r)
{
	const struct doveadm_cmd *best = NULL;
	char words[MAX_NAME_WORDS][64];
	unsigned int i, j, n;

	*words_r = 0;
	*prefix_depth_r = 0;
	for (i = 0; i < N_ELEMENTS(doveadm_cmds); i++) {
		n = name_words(doveadm_cmds[i]->name, words);
		for (j = 0; j < n && (int)j < argc; j++) {
			if (strcmp(words[j], argv[j]) != 0)
				break;
		}
		if (j > *prefix_depth_r)
			*prefix_depth_r = j;
		if (j == n && n > *words_r) {
			best = doveadm_cmds[i];
			*words_r = n;
		}
	}
	return best;
}

/* `doveadm help [cmd...]`: the man page, as Dovecot does. */
static int cmd_help(struct doveadm_context *ctx ATTR_UNUSED, int argc,
		    char *argv[])
{
	const struct doveadm_cmd *cmd;
	unsigned int words, depth;
	string_t *page;

	argc--;
	argv++;
	if (argc == 0)
		return usage_all();
	cmd = cmd_find(argc, argv, &words, &depth);
	page = str_new(64);
	str_append(page, "doveadm");
	for (int i = 0; i < argc; i++) {
		str_append_c(page, '-');
		str_append(page, argv[i]);
	}
	fflush(stdout);
	execlp("man", "man", str_c(page), (char *)NULL);
	/* no man(1): the usage line is better than nothing */
	if (cmd == NULL)
		return usage_all();
	fprintf(stderr, "doveadm %s %s\n", cmd->name, cmd->usage);
	return EXIT_USAGE;
}

static void formatter_check(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(formatters); i++) {
		if (strcmp(formatters[i].name, name) == 0)
			return;
	}
	i_fatal_status(EXIT_TEMPFAIL, "Unknown print formatter: %s", name);
}

static const char *formatter_empty_output(const char *name)
{
	for (size_t i = 0; name != NULL && i < N_ELEMENTS(formatters); i++) {
		if (strcmp(formatters[i].name, name) == 0)
			return formatters[i].empty_output;
	}
	return "";
}

/* -c and -o are checked before any command, like Dovecot's doveadm
 * which reads its config first. An explicit -c file is parsed. */
static void config_check(struct doveadm_context *ctx)
{
	struct stat st;

	for (unsigned int i = 0; i < ctx->override_count; i++) {
		if (strchr(ctx->overrides[i], '=') == NULL) {
			doveadm_fatal("Error reading configuration: Invalid -o "
				      "parameter %s: Missing '='",
				      ctx->overrides[i]);
		}
	}
	if (ctx->config_path == NULL)
		return;
	if (stat(ctx->config_path, &st) < 0) {
		doveadm_fatal("Error reading configuration: stat(%s) failed: %s",
			      ctx->config_path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		(void)doveadm_config_get(ctx);
}

static int run_cmd(struct doveadm_context *ctx, const struct doveadm_cmd *cmd,
		   unsigned int words, int argc, char *argv[])
{
	/* the command sees its last word as argv[0] */
	argc -= (int)words - 1;
	argv += words - 1;
	optind = 0; /* full reset of glibc getopt */
	if ((cmd->flags & DOVEADM_CMD_FLAG_FORMATTED) == 0) {
		fputs(formatter_empty_output(ctx->formatter), stdout);
		fflush(stdout);
	}
	return cmd->run(ctx, argc, argv);
}

int doveadm_main(int argc, char *argv[])
{
	struct doveadm_context ctx;
	const struct doveadm_cmd *cmd;
	const char **overrides;
	unsigned int words, depth;
	int c, ret;

	memset(&ctx, 0, sizeof(ctx));
	overrides = i_new(const char *, (size_t)argc + 1);
	ctx.overrides = overrides;
	log_set_prefix("doveadm: ");
	while ((c = getopt(argc, argv, "+Dvf:o:c:")) != -1) {
		switch (c) {
		case 'D':
			ctx.debug = ctx.verbose = true;
			break;
		case 'v':
			ctx.verbose = true;
			break;
		case 'f':
			formatter_check(optarg);
			ctx.formatter = optarg;
			break;
		case 'o':
			overrides[ctx.override_count++] = optarg;
			break;
		case 'c':
			ctx.config_path = optarg;
			break;
		default:
			free(overrides);
			return EXIT_CONFIG;
		}
	}
	argc -= optind;
	argv += optind;
	/* from here on messages carry no prefix, as Dovecot's commands */
	log_set_prefix("");
	if (argc == 0)
		ret = usage_all();
	else if (strcmp(argv[0], "help") == 0)
		ret = cmd_help(&ctx, argc, argv);
	else if ((cmd = cmd_find(argc, argv, &words, &depth)) != NULL) {
		config_check(&ctx);
		ret = run_cmd(&ctx, cmd, words, argc, argv);
	} else if (depth > 0) {
		char prefix[MAX_NAME_WORDS][64];

		for (unsigned int i = 0; i < depth && i < MAX_NAME_WORDS; i++)
			snprintf(prefix[i], sizeof(prefix[i]), "%s", argv[i]);
		/* Dovecot lists the first word's group ("auth cache" too) */
		ret = usage_group(prefix, 1);
	} else {
		ret = usage_all();
	}
	if (ctx.config != NULL)
		config_free(&ctx.config);
	free(overrides);
	return ret;
}

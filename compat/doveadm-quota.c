/* doveadm-quota.c - `doveadm quota get` and `doveadm quota recalc` (the
 * quota plugin's doveadm commands, there when mail_plugins has quota):
 * each root's STORAGE (kilobytes, rounded up) and MESSAGE usage with
 * limits and percentage, in Dovecot's table; recalc recounts and
 * rewrites maildirsize. */
#include "doveadm.h"
#include "doveadm-mail.h"
#include "mail-plugins.h"
#include "quota.h"
#include "settings-structs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static void quota_cmd_check(struct doveadm_mail_cmd_context *mctx,
			    const char *const *args)
{
	const struct settings_root *set = mail_service_get_set(mctx->service);

	if (!mail_plugins_has(set->mail_plugins, "quota")) {
		i_fatal_status(EXIT_TEMPFAIL, "Unknown command 'quota', but "
			       "plugin quota exists. Try to set "
			       "mail_plugins=quota");
	}
	if (args[0] != NULL) {
		fprintf(stderr, "Error: Extraneous arguments found: %s\n",
			args[0]);
		exit(EXIT_USAGE);
	}
}

static void cmd_quota_get_init(struct doveadm_mail_cmd_context *mctx,
			       const char *const *args)
{
	quota_cmd_check(mctx, args);
	doveadm_print_header("root", "Quota name", 0);
	doveadm_print_header("type", "Type", 0);
	doveadm_print_header("value", "Value",
			     DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY);
	doveadm_print_header("limit", "Limit",
			     DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY);
	doveadm_print_header("percent", "%",
			     DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY);
}

static void print_resource(const char *root, const char *type,
			   uint64_t value, uint64_t limit)
{
	doveadm_print(root);
	doveadm_print(type);
	doveadm_print_num(value);
	if (limit > 0) {
		doveadm_print_num(limit);
		doveadm_print_num(value * 100 / limit);
	} else {
		doveadm_print("-");
		doveadm_print("0");
	}
}

static bool quota_enabled(struct doveadm_mail_cmd_context *mctx,
			  struct mail_user *user)
{
	if (quota_root_count(user) > 0)
		return true;
	i_error("Quota not enabled");
	if (mctx->exit_code == 0)
		mctx->exit_code = EXIT_NOTFOUND;
	return false;
}

static int cmd_quota_get_run(struct doveadm_mail_cmd_context *mctx,
			     struct mail_user *user)
{
	int ret = 0;

	if (!quota_enabled(mctx, user))
		return -1;
	for (unsigned int i = 0; i < quota_root_count(user); i++) {
		struct quota_root_usage usage;
		const char *error;

		if (quota_root_get_usage(user, i, &usage, &error) < 0) {
			i_error("Failed to get quota resource: %s", error);
			mctx->exit_code = EXIT_TEMPFAIL;
			ret = -1;
			continue;
		}
		/* STORAGE is in kilobytes, rounded up (limits too) */
		print_resource(usage.name, "STORAGE",
			       (usage.bytes + 1023) / 1024,
			       (usage.bytes_limit + 1023) / 1024);
		print_resource(usage.name, "MESSAGE", usage.count,
			       usage.count_limit);
	}
	return ret;
}

static void cmd_quota_recalc_init(struct doveadm_mail_cmd_context *mctx,
				  const char *const *args)
{
	quota_cmd_check(mctx, args);
}

static int cmd_quota_recalc_run(struct doveadm_mail_cmd_context *mctx,
				struct mail_user *user)
{
	const char *error;

	if (!quota_enabled(mctx, user))
		return -1;
	if (quota_recalculate(user, &error) < 0) {
		i_error("Recalculating quota failed: %s", error);
		mctx->exit_code = EXIT_TEMPFAIL;
		return -1;
	}
	return 0;
}

static const struct doveadm_mail_cmd quota_get_cmd = {
	"quota get", "", NULL, "table",
	NULL, cmd_quota_get_init, cmd_quota_get_run, NULL
};
static const struct doveadm_mail_cmd quota_recalc_cmd = {
	"quota recalc", "", NULL, NULL,
	NULL, cmd_quota_recalc_init, cmd_quota_recalc_run, NULL
};

static int doveadm_cmd_quota_get_main(struct doveadm_context *dctx,
				      int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&quota_get_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_quota_get = {
	"quota get", DOVEADM_CMD_MAIL_USAGE_PREFIX "",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_quota_get_main
};

static int doveadm_cmd_quota_recalc_main(struct doveadm_context *dctx,
					 int argc, char *argv[])
{
	return doveadm_mail_cmd_main(&quota_recalc_cmd, dctx, argc, argv);
}
const struct doveadm_cmd doveadm_cmd_quota_recalc = {
	"quota recalc", DOVEADM_CMD_MAIL_USAGE_PREFIX "",
	DOVEADM_CMD_FLAG_FORMATTED, doveadm_cmd_quota_recalc_main
};

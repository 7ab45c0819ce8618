/* doveadm-master.c - `doveadm reload` and `doveadm stop`: signal the
 * running master (SIGHUP, SIGTERM) whose pid is in base_dir/master.pid,
 * with Dovecot 2.3's texts and exit codes (no output on success; 75 when
 * no master runs; 64 with extra arguments). systemd's dovecot.service
 * runs them as ExecReload= and ExecStop=. */
#include "lib.h"
#include "compat.h"
#include "doveadm.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static int signal_master(struct doveadm_context *ctx, int argc, char *argv[],
			 int signo)
{
	const char *base_dir;
	char path[4096];
	FILE *f;
	long pid = 0;

	if (argc > 1) {
		i_error("Extraneous arguments found: %s", argv[1]);
		return EXIT_USAGE;
	}
	base_dir = doveadm_setting_get(ctx, "base_dir");
	if (base_dir == NULL || base_dir[0] == '\0')
		base_dir = "/run/dovecot";
	snprintf(path, sizeof(path), "%s/master.pid", base_dir);
	f = fopen(path, "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	if (pid <= 0 || pid > INT_MAX || kill((pid_t)pid, signo) < 0) {
		if (pid > 0 && pid <= INT_MAX && errno != ESRCH)
			doveadm_fatal("kill(%ld) failed: %m", pid);
		doveadm_fatal("Dovecot is not running (read from %s)", path);
	}
	return 0;
}

static int cmd_reload(struct doveadm_context *ctx, int argc, char *argv[])
{
	return signal_master(ctx, argc, argv, SIGHUP);
}

static int cmd_stop(struct doveadm_context *ctx, int argc, char *argv[])
{
	return signal_master(ctx, argc, argv, SIGTERM);
}

const struct doveadm_cmd doveadm_cmd_reload = {
	"reload", "", 0, cmd_reload
};

const struct doveadm_cmd doveadm_cmd_stop = {
	"stop", "", 0, cmd_stop
};

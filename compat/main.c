/* main.c - the one roost executable: dispatches on the name it was run
 * as (dovecot, doveconf, doveadm, dovecot-lda, deliver) or on its first
 * argument ("roost doveconf -n"). */
#include "lib.h"
#include "compat.h"
#include "db-checkpassword.h"

#include <stdio.h>

struct program {
	const char *name;
	int (*main)(int argc, char *argv[]);
};

static int checkpassword_reply_cmd(int argc, char *argv[]);

static const struct program programs[] = {
	{ "doveconf", doveconf_main },
	{ "doveadm", doveadm_main },
	{ "auth", auth_cmd_main },
	{ "dovecot-lda", lda_main },
	{ "deliver", lda_main },
	{ "lda", lda_main },
	{ "pop3", pop3_cmd_main },
	{ "imap", imap_cmd_main },
	{ "lmtp", lmtp_cmd_main },
	{ "dovecot", dovecot_main },
	{ "login", login_cmd_main },
	{ "mail-worker", mail_worker_cmd_main },
	{ "checkpassword-reply", checkpassword_reply_cmd },
};

static int checkpassword_reply_cmd(int argc ATTR_UNUSED,
				   char *argv[] ATTR_UNUSED)
{
	return checkpassword_reply_main();
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == NULL ? path : slash + 1;
}

static int run(const char *name, int argc, char *argv[])
{
	for (size_t i = 0; i < N_ELEMENTS(programs); i++) {
		if (strcmp(programs[i].name, name) == 0)
			return programs[i].main(argc, argv);
	}
	return -1;
}

int main(int argc, char *argv[])
{
	const char *name = base_name(argv[0]);
	int ret;

	if (strcmp(name, "roost") != 0) {
		ret = run(name, argc, argv);
		if (ret >= 0)
			return ret;
		fprintf(stderr, "%s: not available in this Roost build yet "
			"(see README.md for what is implemented)\n", name);
		return EXIT_CONFIG;
	}
	if (argc >= 2 && (ret = run(argv[1], argc - 1, argv + 1)) >= 0)
		return ret;
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("Roost %s\n", ROOST_VERSION);
		return 0;
	}
	fprintf(stderr, "Usage: roost <doveconf> [args]\n"
		"Roost is also run through the links dovecot, doveconf, "
		"doveadm and dovecot-lda.\n");
	return EXIT_USAGE;
}

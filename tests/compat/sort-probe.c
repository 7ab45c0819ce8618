/* sort-probe.c - test-only program: open a Maildir through the storage
 * API and print what Roost's SORT and THREAD code answer, the way
 * Dovecot's imap prints it, for tests/compat/sort-thread-diff.py.
 *   sort-probe MAIL_LOCATION COMMAND...
 * COMMAND is "[UID] SORT (<program>)" or "[UID] THREAD <algorithm>" over
 * every message of INBOX; each prints one "* SORT ..." / "* THREAD ..."
 * line, or "BAD <reason>" for a command it can't parse. */
#include "lib.h"
#include "config-bind.h"
#include "config-parser.h"
#include "mail-storage.h"
#include "mail-sort.h"
#include "mail-thread.h"

#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#define MAX_SORT_KEYS 16

static struct mail_user *user_init(const char *location, pool_t pool)
{
	struct config *config = NULL;
	struct settings_root *set;
	struct mail_user *user;
	struct mail_user_info info;
	const char *error;
	char *conf = i_strdup_printf("mail_location = %s\n", location);

	if (config_parse_string("probe.conf", conf, 0, &config, &error) < 0)
		i_fatal("config: %s", error);
	set = config_bind(pool, config->blocks[0]->root, &error);
	if (set == NULL)
		i_fatal("bind: %s", error);
	memset(&info, 0, sizeof(info));
	info.username = "probe";
	info.home = getenv("HOME");
	info.uid = getuid();
	info.gid = getgid();
	if (mail_user_init(set, &info, &user, &error) < 0)
		i_fatal("mail_user_init: %s", error);
	config_free(&config);
	i_free(conf);
	return user;
}

/* "(REVERSE DATE SUBJECT)" -> keys; false if not understood. */
static bool parse_program(const char *prog, struct mail_sort_key *keys)
{
	char *copy, *save = NULL;
	unsigned int n = 0;
	bool reverse = false, ok = true;
	size_t len = strlen(prog);

	if (len < 2 || prog[0] != '(' || prog[len - 1] != ')')
		return false;
	copy = i_strndup(prog + 1, len - 2);
	for (char *w = strtok_r(copy, " ", &save); w != NULL && ok;
	     w = strtok_r(NULL, " ", &save)) {
		if (strcasecmp(w, "REVERSE") == 0) {
			reverse = true;
			continue;
		}
		if (n + 1 >= MAX_SORT_KEYS ||
		    mail_sort_type_parse(w, &keys[n].type) < 0) {
			ok = false;
			break;
		}
		keys[n++].reverse = reverse;
		reverse = false;
	}
	i_free(copy);
	keys[n].type = MAIL_SORT_END;
	return ok && n > 0 && !reverse;
}

static void run_command(struct mailbox *box, const char *cmd)
{
	uint32_t count = mailbox_count(box);
	uint32_t *seqs = i_new(uint32_t, count + 1);
	struct mail_sort_key keys[MAX_SORT_KEYS];
	enum mail_thread_type type;
	const char *arg;
	bool uid = false;

	for (uint32_t i = 0; i < count; i++)
		seqs[i] = i + 1;
	if (strncasecmp(cmd, "UID ", 4) == 0) {
		uid = true;
		cmd += 4;
	}
	if (strncasecmp(cmd, "SORT ", 5) == 0) {
		arg = cmd + 5;
		if (!parse_program(arg, keys)) {
			printf("BAD %s\n", arg);
		} else if (mail_sort_seqs(box, keys, seqs, count) < 0) {
			printf("NO %s\n", mailbox_get_last_error(box, NULL));
		} else {
			printf("* SORT");
			for (uint32_t i = 0; i < count; i++)
				printf(" %u", uid ? mailbox_seq_to_uid(box, seqs[i]) :
				       seqs[i]);
			printf("\n");
		}
	} else if (strncasecmp(cmd, "THREAD ", 7) == 0) {
		string_t *out = str_new(256);

		arg = cmd + 7;
		if (mail_thread_type_parse(arg, &type) < 0)
			printf("BAD %s\n", arg);
		else if (mail_thread_build(box, type, seqs, count, uid,
					   out) < 0)
			printf("NO %s\n", mailbox_get_last_error(box, NULL));
		else
			printf("* THREAD %s\n", str_c(out));
		str_free(&out);
	} else {
		printf("BAD %s\n", cmd);
	}
	i_free(seqs);
}

int main(int argc, char *argv[])
{
	pool_t pool;
	struct mail_user *user;
	struct mailbox *box;

	if (argc < 3) {
		fprintf(stderr, "usage: sort-probe MAIL_LOCATION COMMAND...\n");
		return EXIT_USAGE;
	}
	pool = pool_create("sort-probe", 4096);
	user = user_init(argv[1], pool);
	box = mailbox_alloc(user, "INBOX", MAILBOX_FLAG_READONLY);
	if (mailbox_open(box) < 0 || mailbox_sync(box, 0, NULL, NULL) < 0)
		i_fatal("open: %s", mailbox_get_last_error(box, NULL));
	for (int i = 2; i < argc; i++)
		run_command(box, argv[i]);
	mailbox_free(&box);
	mail_user_deinit(&user);
	pool_destroy(&pool);
	return 0;
}

/* last-login.c - the last_login plugin: each time a mail user is set up
 * (IMAP/POP3 login, delivery, doveadm), "shared/<last_login_key>" (default
 * last-login/%u) gets the current UNIX time (last_login_precision = s,
 * ms, us or ns) in last_login_dict. Roost writes the "file:PATH" dict as
 * Dovecot's file dict stores it: key and value lines, the whole file
 * rewritten through PATH.lock and a rename. Other dict drivers (proxy,
 * redis, sql) are not available: that is logged once and nothing is
 * written. */
#include "last-login.h"
#include "mail-plugins.h"
#include "file-dotlock.h"
#include "settings-structs.h"
#include "var-expand.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>


/* Rewrite the file dict at path with key = value. */
static int file_dict_set(const char *path, const char *key, const char *value)
{
	const struct dotlock_settings set = {
		.timeout = 30, .stale_timeout = 60, .use_excl = true,
	};
	struct dotlock *dotlock;
	string_t *out = str_new(512);
	FILE *f;
	char *line = NULL, *k = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = file_dotlock_open(&set, path, &dotlock);
	if (fd < 0) {
		i_error("last_login: file_dotlock_open(%s) failed: %m", path);
		str_free(&out);
		return -1;
	}
	str_printfa(out, "%s\n%s\n", key, value);
	f = fopen(path, "r");
	while (f != NULL && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (k == NULL) {
			k = i_strdup(line);
			continue;
		}
		if (strcmp(k, key) != 0)
			str_printfa(out, "%s\n%s\n", k, line);
		i_free(k);
	}
	free(line);
	i_free(k);
	if (f != NULL)
		fclose(f);
	if (write(fd, str_c(out), str_len(out)) != (ssize_t)str_len(out)) {
		i_error("last_login: write(%s) failed: %m",
			file_dotlock_get_lock_path(dotlock));
		(void)file_dotlock_delete(&dotlock);
		ret = -1;
	} else if (file_dotlock_replace(&dotlock) < 0) {
		i_error("last_login: rename(%s) failed: %m", path);
		ret = -1;
	}
	str_free(&out);
	return ret;
}

void last_login_user_init(struct mail_user *user,
			  const struct mail_user_info *info)
{
	static bool warned = false;
	pool_t pool;
	const char *dict, *key, *precision;
	struct timeval tv;
	char value[64];

	if (!mail_plugins_has(user->set->mail_plugins, "last_login"))
		return;
	pool = pool_create("last_login", 512);
	dict = mail_user_plugin_setting(user, info, "last_login_dict", pool);
	if (dict == NULL) {
		pool_destroy(&pool);
		return;
	}
	if (strncmp(dict, "file:", 5) != 0) {
		if (!warned) {
			i_warning("last_login: last_login_dict %s: only the "
				  "file: dict driver is available in Roost, "
				  "nothing is recorded", dict);
			warned = true;
		}
		pool_destroy(&pool);
		return;
	}
	key = mail_user_plugin_setting(user, info, "last_login_key", pool);
	if (key == NULL) {
		const char *def = "last-login/%u";
		string_t *str = str_new(64);
		const char *error;
		const struct var_expand_table table[] = {
			{ 'u', user->var_table[0], "user" },
			{ '\0', NULL, NULL },
		};

		(void)var_expand(str, def, table, NULL, NULL, &error);
		key = p_strdup(pool, str_c(str));
		str_free(&str);
	}
	precision = mail_user_plugin_setting(user, info, "last_login_precision", pool);
	gettimeofday(&tv, NULL);
	if (precision == NULL || strcmp(precision, "s") == 0) {
		snprintf(value, sizeof(value), "%lld", (long long)tv.tv_sec);
	} else if (strcmp(precision, "ms") == 0) {
		snprintf(value, sizeof(value), "%lld",
			 (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	} else if (strcmp(precision, "us") == 0) {
		snprintf(value, sizeof(value), "%lld",
			 (long long)tv.tv_sec * 1000000 + tv.tv_usec);
	} else if (strcmp(precision, "ns") == 0) {
		snprintf(value, sizeof(value), "%lld",
			 ((long long)tv.tv_sec * 1000000 + tv.tv_usec) * 1000);
	} else {
		i_error("last_login_precision: Invalid value '%s'", precision);
		pool_destroy(&pool);
		return;
	}
	(void)file_dict_set(dict + 5,
			    p_strdup_printf(pool, "shared/%s", key), value);
	pool_destroy(&pool);
}

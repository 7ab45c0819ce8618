/* checkpassword-reply.c - the helper a checkpassword program execs after
 * a successful check (Dovecot's checkpassword-reply): it tells the auth
 * service the user's fields on fd 4 as TAB-terminated, tab-escaped
 * key=value pairs. Runs as its own process (argv[0] dispatch). */
#include "db-checkpassword.h"
#include "pool.h"
#include "str.h"

#include <errno.h>
#include <unistd.h>

static void reply_add(string_t *str, pool_t pool, const char *key,
		      const char *value)
{
	str_append(str, key);
	str_append_c(str, '=');
	str_append(str, auth_tabescape(pool, value));
	str_append_c(str, '\t');
}

static int write_full(int fd, const char *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

int checkpassword_reply_main(void)
{
	pool_t pool = pool_create("checkpassword-reply", 1024);
	string_t *str = str_new(1024);
	const char *user = getenv("USER"), *home = getenv("HOME");
	const char *extra = getenv("EXTRA"), *authorized;
	bool uid_found = false, gid_found = false;
	int ret;

	if (user != NULL)
		reply_add(str, pool, "user", user);
	if (home != NULL)
		reply_add(str, pool, "userdb_home", home);
	if (extra != NULL) {
		const char *const *names = auth_args_split(pool, extra);

		for (unsigned int i = 0; names[i] != NULL; i++) {
			const char *value = getenv(names[i]);
			char *key;

			if (value == NULL)
				continue;
			key = p_strdup(pool, names[i]);
			for (char *p = key; *p != '\0'; p++) {
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			}
			if (strcmp(key, "userdb_uid") == 0)
				uid_found = true;
			else if (strcmp(key, "userdb_gid") == 0)
				gid_found = true;
			reply_add(str, pool, key, value);
		}
	}
	if (!uid_found)
		str_printfa(str, "userdb_uid=%u\t", (unsigned int)getuid());
	if (!gid_found)
		str_printfa(str, "userdb_gid=%u\t", (unsigned int)getgid());

	if (write_full(4, str_c(str), str_len(str)) < 0) {
		i_error("checkpassword: write_full() failed: %m");
		ret = 111;
	} else {
		authorized = getenv("AUTHORIZED");
		if (authorized == NULL)
			ret = 0;	/* after authentication */
		else if (strcmp(authorized, "2") == 0)
			ret = 2;	/* a lookup the script supports */
		else {
			i_error("checkpassword: Script doesn't support "
				"passdb/userdb lookup");
			ret = 111;
		}
	}
	str_free(&str);
	pool_destroy(&pool);
	return ret;
}

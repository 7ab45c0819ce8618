/* doveadm-auth.c - `doveadm auth test|login|lookup`: a SASL PLAIN login
 * on the client socket (and for login the REQUEST on the master socket
 * that login processes make), or a passdb lookup without a password,
 * with Dovecot 2.3's output and exit codes. */
#include "lib.h"
#include "str.h"
#include "base64.h"
#include "doveadm.h"
#include "doveadm-auth-client.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct auth_test_options {
	const char *socket_path, *master_socket_path, *master_user;
	const char *user;
	char *password;
	struct doveadm_auth_info info;
};

static int auth_usage(const struct doveadm_cmd *cmd)
{
	fprintf(stderr, "doveadm %s %s\n", cmd->name, cmd->usage);
	return EXIT_USAGE;
}

static const char *base_dir_path(struct doveadm_context *ctx,
				 const char *name)
{
	/* a command holds at most two of these at once (the client and
	   the master socket): a small ring of static buffers, nothing to
	   free */
	static char bufs[4][4096];
	static unsigned int next;
	char *buf = bufs[next++ % N_ELEMENTS(bufs)];
	const char *base_dir = doveadm_setting_get(ctx, "base_dir");

	if (base_dir == NULL)
		base_dir = "/run/dovecot";
	snprintf(buf, sizeof(bufs[0]), "%s/%s", base_dir, name);
	return buf;
}

/* Options of test and login; -1 for a usage error. */
static int auth_test_parse(struct doveadm_context *ctx, int argc,
			   char *argv[], bool login,
			   struct auth_test_options *opts)
{
	int c;

	memset(opts, 0, sizeof(*opts));
	doveadm_auth_info_init(&opts->info);
	while ((c = getopt(argc, argv, login ? "+a:m:x:M:" : "+a:x:M:")) !=
	       -1) {
		switch (c) {
		case 'a':
			opts->socket_path = optarg;
			break;
		case 'm':
			opts->master_socket_path = optarg;
			break;
		case 'x':
			doveadm_auth_info_add(&opts->info, optarg);
			break;
		case 'M':
			opts->master_user = optarg;
			break;
		default:
			return -2;
		}
	}
	if (optind >= argc)
		return -1;
	opts->user = argv[optind];
	if (optind + 1 < argc) {
		opts->password = i_strdup(argv[optind + 1]);
		explicit_bzero(argv[optind + 1], strlen(argv[optind + 1]));
	} else {
		opts->password = doveadm_askpass("Password: ");
	}
	if (opts->socket_path == NULL) {
		opts->socket_path = base_dir_path(ctx, login ? "auth-login" :
						  "auth-client");
	}
	if (opts->master_socket_path == NULL)
		opts->master_socket_path = base_dir_path(ctx, "auth-master");
	return 0;
}

static void auth_test_free(struct auth_test_options *opts)
{
	if (opts->password != NULL) {
		explicit_bzero(opts->password, strlen(opts->password));
		free(opts->password);
	}
	doveadm_auth_info_deinit(&opts->info);
}

/* AUTH PLAIN with the initial response; prints Dovecot's result lines.
 * Returns 1 on success, 0 on failure, -1 on connection error. */
static int auth_plain(const struct auth_test_options *opts,
		      struct doveadm_auth_conn *conn)
{
	const char *authcid = opts->master_user != NULL ?
		opts->master_user : opts->user, *error;
	string_t *resp = str_new(256), *req = str_new(512);
	char **args;
	int ret;

	str_append(resp, opts->user);
	str_append_c(resp, '\0');
	str_append(resp, authcid);
	str_append_c(resp, '\0');
	str_append(resp, opts->password);
	str_append(req, "AUTH\t1\tPLAIN");
	doveadm_auth_info_export_client(&opts->info, req);
	str_append(req, "\tresp=");
	base64_encode(req, str_c(resp), str_len(resp));
	str_append_c(req, '\n');
	explicit_bzero(resp->data, resp->cap);
	str_free(&resp);
	ret = doveadm_auth_conn_send(conn, str_c(req), &error);
	explicit_bzero(req->data, req->cap);
	str_free(&req);
	if (ret < 0 || doveadm_auth_conn_read_args(conn, &args, &error) < 0) {
		i_error("auth-client: %s", error);
		return -1;
	}
	ret = strcmp(args[0], "OK") == 0 ? 1 : 0;
	printf("passdb: %s auth %s\n", opts->user,
	       ret > 0 ? "succeeded" : "failed");
	if (args[1] != NULL && args[2] != NULL) {
		printf("extra fields:\n");
		for (char **p = args + 2; *p != NULL; p++)
			printf("  %s\n", *p);
	}
	doveadm_auth_args_free(&args);
	return ret;
}

/* Connect, handshake and authenticate: EXIT_* code, 0 on success. */
static int auth_test_run(const struct auth_test_options *opts,
			 char **cookie_r, struct doveadm_auth_conn **conn_r)
{
	struct doveadm_auth_conn *conn;
	const char *error;
	int ret;

	if (doveadm_auth_conn_open(opts->socket_path, &conn, &error) < 0) {
		i_error("auth-client: conn unix:%s: %s", opts->socket_path,
			error);
		return EXIT_NOPERM;
	}
	if (doveadm_auth_client_handshake(conn, cookie_r, &error) < 0) {
		i_error("auth-client: conn unix:%s: %s", opts->socket_path,
			error);
		doveadm_auth_conn_close(&conn);
		return EXIT_NOPERM;
	}
	ret = auth_plain(opts, conn);
	if (conn_r != NULL)
		*conn_r = conn;
	else
		doveadm_auth_conn_close(&conn);
	return ret > 0 ? 0 : EXIT_NOPERM;
}

static int cmd_auth_test(struct doveadm_context *ctx, int argc, char *argv[])
{
	struct auth_test_options opts;
	int ret;

	if ((ret = auth_test_parse(ctx, argc, argv, false, &opts)) < 0)
		ret = ret == -2 ? EXIT_USAGE : auth_usage(&doveadm_cmd_auth_test);
	else
		ret = auth_test_run(&opts, NULL, NULL);
	auth_test_free(&opts);
	return ret;
}

/* REQUEST on the master socket for the login just done: the userdb
 * reply as login processes get it. */
static int auth_login_request(const struct auth_test_options *opts,
			      const char *cookie)
{
	struct doveadm_auth_conn *conn;
	const char *error;
	char line[256], **args = NULL;
	unsigned int id = (unsigned int)getpid() * 1000u + 1;
	int ret = 0;

	snprintf(line, sizeof(line),
		 "VERSION\t1\t1\nREQUEST\t%u\t%ld\t1\t%s\tsession_pid=%ld\n",
		 id, (long)getpid(), cookie, (long)getpid());
	if (doveadm_auth_conn_open(opts->master_socket_path, &conn,
				   &error) < 0) {
		/* Dovecot tries twice and says so twice */
		i_error("auth-master: login: %s", error);
		i_error("auth-master: login: %s", error);
		i_error("userdb lookup failed: Internal error occurred. "
			"Refer to server log for more information.");
		return EXIT_NOPERM;
	}
	if (doveadm_auth_conn_send(conn, line, &error) < 0)
		ret = -1;
	while (ret == 0 &&
	       doveadm_auth_conn_read_args(conn, &args, &error) == 0) {
		if (strcmp(args[0], "USER") == 0 || strcmp(args[0], "FAIL") == 0 ||
		    strcmp(args[0], "NOTFOUND") == 0)
			break;
		doveadm_auth_args_free(&args);
	}
	doveadm_auth_conn_close(&conn);
	if (args == NULL || strcmp(args[0], "USER") != 0) {
		if (args == NULL)
			i_error("auth-master: login: %s", error);
		i_error("userdb lookup failed: Internal error occurred. "
			"Refer to server log for more information.");
		doveadm_auth_args_free(&args);
		return EXIT_NOPERM;
	}
	printf("userdb extra fields:\n");
	for (char **p = args + 2; *p != NULL; p++)
		printf("  %s\n", *p);
	doveadm_auth_args_free(&args);
	return 0;
}

static int cmd_auth_login(struct doveadm_context *ctx, int argc,
			  char *argv[])
{
	struct auth_test_options opts;
	struct doveadm_auth_conn *conn = NULL;
	char *cookie = NULL;
	int ret;

	if ((ret = auth_test_parse(ctx, argc, argv, true, &opts)) < 0) {
		auth_test_free(&opts);
		return ret == -2 ? EXIT_USAGE :
			auth_usage(&doveadm_cmd_auth_login);
	}
	/* the login connection stays open: REQUEST refers to its AUTH */
	ret = auth_test_run(&opts, &cookie, &conn);
	if (ret == 0) {
		fflush(stdout);
		ret = auth_login_request(&opts, cookie != NULL ? cookie : "");
	}
	doveadm_auth_conn_close(&conn);
	free(cookie);
	auth_test_free(&opts);
	return ret;
}

int doveadm_auth_lookup_print(struct doveadm_auth_master *master,
			      const struct doveadm_auth_info *info,
			      const char *user, const char *show_field,
			      bool userdb)
{
	const char *lookup = userdb ? "userdb lookup" : "passdb lookup";
	const char *updated_user, *error;
	char **args, **fields;
	size_t flen = show_field == NULL ? 0 : strlen(show_field);
	int ret;

	ret = doveadm_auth_master_lookup(master, userdb ? "USER" : "PASS",
					 user, info, &args, &updated_user,
					 &fields, &error);
	if (ret < 0) {
		if (error != NULL)
			i_error("%s", error);
		if (fields == NULL || fields[0] == NULL)
			i_error("%s failed for %s", lookup, user);
		else
			i_error("%s failed for %s: %s", lookup, user, fields[0]);
	} else if (ret == 0) {
		fprintf(show_field == NULL ? stdout : stderr,
			"%s: user %s doesn't exist\n", lookup, user);
	} else if (show_field != NULL) {
		for (; *fields != NULL; fields++) {
			if (strncmp(*fields, show_field, flen) == 0 &&
			    (*fields)[flen] == '=')
				printf("%s\n", *fields + flen + 1);
		}
	} else {
		printf("%s: %s\n", userdb ? "userdb" : "passdb", user);
		if (updated_user != NULL)
			printf("  %-10s: %s\n", "user", updated_user);
		for (; *fields != NULL; fields++) {
			const char *p = strchr(*fields, '=');

			if (p == NULL)
				printf("  %-10s\n", *fields);
			else
				printf("  %-10.*s: %s\n", (int)(p - *fields),
				       *fields, p + 1);
		}
	}
	doveadm_auth_args_free(&args);
	return ret;
}

static int cmd_auth_lookup(struct doveadm_context *ctx, int argc,
			   char *argv[])
{
	struct doveadm_auth_master master;
	struct doveadm_auth_info info;
	const char *show_field = NULL;
	int c, ret = 0;

	memset(&master, 0, sizeof(master));
	doveadm_auth_info_init(&info);
	while ((c = getopt(argc, argv, "+a:f:x:")) != -1) {
		switch (c) {
		case 'a':
			master.path = optarg;
			break;
		case 'f':
			show_field = optarg;
			break;
		case 'x':
			doveadm_auth_info_add(&info, optarg);
			break;
		default:
			doveadm_auth_info_deinit(&info);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		doveadm_auth_info_deinit(&info);
		return auth_usage(&doveadm_cmd_auth_lookup);
	}
	if (master.path == NULL)
		master.path = base_dir_path(ctx, "auth-userdb");
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			putchar('\n');
		switch (doveadm_auth_lookup_print(&master, &info, argv[i],
						  show_field, false)) {
		case -1:
			ret = EXIT_TEMPFAIL;
			break;
		case 0:
			ret = EXIT_NOUSER;
			break;
		}
		fflush(stdout);
	}
	doveadm_auth_master_close(&master);
	doveadm_auth_info_deinit(&info);
	return ret;
}

/* `auth cache flush [-a socket] [user ...]`: CACHE-FLUSH on the master
 * socket. As Dovecot 2.3.19 does, a failure is logged but the count
 * line (0) is still printed and the exit code stays 0. */
static int cmd_auth_cache_flush(struct doveadm_context *ctx, int argc,
				char *argv[])
{
	const char *path = NULL, *error = NULL;
	struct doveadm_auth_conn *conn = NULL;
	unsigned int id = 1, count = 0;
	string_t *req;
	char **args = NULL;
	int c;

	while ((c = getopt(argc, argv, "+a:")) != -1) {
		switch (c) {
		case 'a':
			path = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (path == NULL)
		path = base_dir_path(ctx, "auth-master");
	req = str_new(256);
	str_printfa(req, "CACHE-FLUSH\t%u", id);
	for (int i = optind; i < argc; i++) {
		str_append_c(req, '\t');
		doveadm_auth_str_append_tabescaped(req, argv[i]);
	}
	str_append_c(req, '\n');
	if (doveadm_auth_conn_open(path, &conn, &error) < 0 ||
	    doveadm_auth_master_handshake(conn, &error) < 0 ||
	    doveadm_auth_conn_send(conn, str_c(req), &error) < 0) {
		args = NULL;
	} else {
		/* skip SPID; the reply is "OK <id> <count>" */
		while (doveadm_auth_conn_read_args(conn, &args, &error) == 0 &&
		       strcmp(args[0], "SPID") == 0)
			doveadm_auth_args_free(&args);
	}
	if (args != NULL && strcmp(args[0], "OK") == 0 && args[1] != NULL &&
	    args[2] != NULL)
		count = (unsigned int)strtoul(args[2], NULL, 10);
	else if (args != NULL)
		error = "Cache flush failed";
	if (args == NULL || strcmp(args[0], "OK") != 0 || args[1] == NULL ||
	    args[2] == NULL)
		i_error("auth-master: auth cache flush: %s", error);
	printf("%u cache entries flushed\n", count);
	doveadm_auth_args_free(&args);
	doveadm_auth_conn_close(&conn);
	str_free(&req);
	return 0;
}

const struct doveadm_cmd doveadm_cmd_auth_cache_flush = {
	"auth cache flush",
	"[-a <master socket path>] [<user> [...]]",
	0, cmd_auth_cache_flush
};

const struct doveadm_cmd doveadm_cmd_auth_test = {
	"auth test",
	"[-a <auth socket path>] [-x <auth info>] [-M <master user>] "
	"<user> [<password>]",
	0, cmd_auth_test
};

const struct doveadm_cmd doveadm_cmd_auth_login = {
	"auth login",
	"[-a <auth-login socket path>] [-m <auth-master socket path>] "
	"[-x <auth info>] [-M <master user>] <user> [<password>]",
	0, cmd_auth_login
};

const struct doveadm_cmd doveadm_cmd_auth_lookup = {
	"auth lookup",
	"[-a <userdb socket path>] [-x <auth info>] [-f field] "
	"<user> [<user> [...]]",
	0, cmd_auth_lookup
};

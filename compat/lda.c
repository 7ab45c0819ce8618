/* lda.c - dovecot-lda (also run as deliver and `roost lda`): deliver one
 * message from stdin (or -p FILE) into a user's mailbox, as Dovecot
 * 2.3's LDA does: the user from -d (a userdb lookup) or the invoking
 * uid, -m MAILBOX with the fallback to INBOX, lda_mailbox_autocreate and
 * _autosubscribe, the log line "msgid=<...>: saved mail to INBOX" in the
 * configured log, and sysexits codes the MTA understands: 0 delivered,
 * 64 usage, 67 no such user, 75 try again later, 77 rejected (-e). */
#include "lib.h"
#include "str.h"
#include "base64.h"
#include "compat.h"
#include "config-parser.h"
#include "var-expand.h"
#include "settings-structs.h"
#include "doveadm-mail.h"
#include "mail-deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ENVELOPE_SENDER MAIL_DELIVER_DEFAULT_SENDER
/* Larger messages go to a temporary file instead of memory. */
#define LDA_MAX_MEMORY_BUFFER (128 * 1024)
#define LDA_EX_NOPERM 77

/* strings that live until the end of the run */
static pool_t lda_pool;

struct lda_input {
	/* the message: in mem, or the whole of it in fd */
	unsigned char *mem;
	size_t mem_size;
	int fd;
	uint64_t size;
	/* From_ line */
	char *from_sender;
	time_t from_time;
};

struct lda_ctx {
	const char *user;
	const char *dest_mailbox;
	const char *dest_addr, *final_dest_addr;
	const char *envelope_sender;	/* -f, sanitized */
	bool stderr_rejection;
	const char *session;
	struct lda_input input;
	const struct settings_root *set;
	struct mail_user *mail_user;
	/* the delivery (mailstore/mail-deliver.c): the message, the log
	   line's variables (msgid, subject, from, vsize), the header */
	struct mail_deliver_context dctx;
};

static void print_help(void)
{
	printf("Usage: dovecot-lda [-c <config file>] [-d <username>] "
	       "[-p <path>]\n"
	       "                   [-m <mailbox>] [-e] [-k] "
	       "[-f <envelope sender>]\n"
	       "                   [-a <original envelope recipient>]\n"
	       "                   [-r <final envelope recipient>] \n");
	fflush(stdout);
}

/* ---- input ----------------------------------------------------------- */

static int read_full(int fd, void *buf, size_t size, size_t *got_r)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, (char *)buf + got, size - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*got_r = got;
	return 0;
}

/* "From sender  Thu Nov 26 03:24:41 2026": the sender and the time. */
static void from_line_parse(struct lda_input *in, const char *line)
{
	const char *p = line + 5, *end;
	struct tm tm;

	while (*p == ' ')
		p++;
	end = p + strcspn(p, " \t");
	if (end > p)
		in->from_sender = i_strndup(p, (size_t)(end - p));
	while (*end == ' ' || *end == '\t')
		end++;
	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	if (strptime(end, "%a %b %d %H:%M:%S %Y", &tm) != NULL)
		in->from_time = mktime(&tm);
}

/* Spill what is in memory and the rest of fd into an unlinked file. */
static int input_to_file(struct lda_input *in, int src_fd,
			 const char *temp_dir)
{
	char *path = i_strdup_printf("%s/dovecot.lda.XXXXXX", temp_dir);
	unsigned char buf[65536];
	size_t got;
	int fd;

	fd = mkstemp(path);
	if (fd < 0) {
		i_error("safe_mkstemp(%s) failed: %m", path);
		free(path);
		return -1;
	}
	(void)unlink(path);
	free(path);
	if (write(fd, in->mem, in->mem_size) != (ssize_t)in->mem_size)
		goto fail;
	in->size = in->mem_size;
	for (;;) {
		if (read_full(src_fd, buf, sizeof(buf), &got) < 0) {
			i_error("read(stdin) failed: %m");
			goto fail_quiet;
		}
		if (got == 0)
			break;
		if (write(fd, buf, got) != (ssize_t)got)
			goto fail;
		in->size += got;
	}
	free(in->mem);
	in->mem = NULL;
	in->fd = fd;
	return 0;
fail:
	i_error("write(%s) failed: %m", temp_dir);
fail_quiet:
	close(fd);
	return -1;
}

static int input_read(struct lda_input *in, int src_fd, const char *name,
		      const char *temp_dir)
{
	size_t got, skip = 0;

	in->fd = -1;
	in->mem = i_malloc(LDA_MAX_MEMORY_BUFFER);
	if (read_full(src_fd, in->mem, LDA_MAX_MEMORY_BUFFER, &got) < 0) {
		i_error("read(%s) failed: %m", name);
		return -1;
	}
	in->mem_size = got;
	/* a leading mbox From_ line isn't part of the message */
	if (got >= 5 && memcmp(in->mem, "From ", 5) == 0) {
		unsigned char *lf = memchr(in->mem, '\n', got);

		if (lf != NULL) {
			char *line = i_strndup((const char *)in->mem,
					       (size_t)(lf - in->mem));

			from_line_parse(in, line);
			free(line);
			skip = (size_t)(lf - in->mem) + 1;
			memmove(in->mem, in->mem + skip, got - skip);
			in->mem_size -= skip;
		}
	}
	in->size = in->mem_size;
	if (got == LDA_MAX_MEMORY_BUFFER &&
	    input_to_file(in, src_fd, temp_dir) < 0)
		return -1;
	return 0;
}

/* ---- rejection (mailbox full, without -e) --------------------------- */

static int lda_send_rejection(struct lda_ctx *ctx, const char *reason)
{
	const struct settings_root *set = ctx->set;
	const char *return_addr = ctx->envelope_sender, *error;
	string_t *text = str_new(1024), *subject = str_new(128);
	char hostname[256], date[64], boundary[300];
	const char *subj = ctx->dctx.subject == NULL ? "" : ctx->dctx.subject;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int status;

	if (return_addr == NULL ||
	    strcmp(return_addr, DEFAULT_ENVELOPE_SENDER) == 0) {
		mail_deliver_log(&ctx->dctx, "Return-Path missing, rejection reply not sent");
		str_free(&text);
		str_free(&subject);
		return 0;
	}
	if (set->hostname[0] != '\0')
		snprintf(hostname, sizeof(hostname), "%s", set->hostname);
	else if (gethostname(hostname, sizeof(hostname)) < 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	snprintf(boundary, sizeof(boundary), "%ld/%s", (long)getpid(),
		 hostname);
	const struct var_expand_table table[] = {
		{ 'n', "\r\n", "crlf" },
		{ 'r', reason, "reason" },
		{ 's', subj, "subject" },
		{ 't', ctx->dest_addr, "to" },
		{ '\0', NULL, NULL },
	};
	(void)var_expand(subject, set->rejection_subject, table, NULL, NULL,
			 &error);
	str_printfa(text, "Message-ID: <%ld.%ld.lda@%s>\n", (long)getpid(),
		    (long)now, hostname);
	str_printfa(text, "Date: %s\n", date);
	str_printfa(text, "From: Mail Delivery Subsystem <%s>\n",
		    set->postmaster_address[0] != '\0' &&
		    strchr(set->postmaster_address, '%') == NULL ?
		    set->postmaster_address :
		    doveadm_tmp_printf("postmaster@%s", hostname));
	str_printfa(text, "To: <%s>\n", return_addr);
	str_append(text, "MIME-Version: 1.0\n");
	str_printfa(text, "Content-Type: multipart/report; "
		    "report-type=delivery-status;\n\tboundary=\"%s\"\n",
		    boundary);
	str_printfa(text, "Subject: %s\n", str_c(subject));
	str_append(text, "Auto-Submitted: auto-replied (rejected)\n"
		   "Precedence: bulk\n\n"
		   "This is a MIME-encapsulated message\n\n");
	str_printfa(text, "--%s\nContent-Type: text/plain; charset=utf-8\n"
		    "Content-Disposition: inline\n"
		    "Content-Transfer-Encoding: 8bit\n\n", boundary);
	(void)var_expand(text, set->rejection_reason, table, NULL, NULL,
			 &error);
	str_printfa(text, "\n\n--%s\nContent-Type: message/delivery-status\n\n"
		    "Reporting-MTA: dns; %s\n", boundary, hostname);
	if (ctx->dest_addr != NULL)
		str_printfa(text, "Original-Recipient: rfc822; %s\n",
			    ctx->dest_addr);
	str_printfa(text, "Final-Recipient: rfc822; %s\n"
		    "Action: failed\nStatus: 5.2.2\n\n",
		    ctx->final_dest_addr);
	str_printfa(text, "--%s\nContent-Type: message/rfc822-headers\n\n",
		    boundary);
	str_append_str(text, ctx->dctx.header);
	str_printfa(text, "\n--%s--\n", boundary);
	str_free(&subject);

	char *cmd = i_strdup_printf("%s -i -f '' -- '%s'", set->sendmail_path,
				    return_addr);
	for (const char *p = return_addr; *p != '\0'; p++) {
		if (*p == '\'') {
			/* can't quote it safely */
			free(cmd);
			str_free(&text);
			return -1;
		}
	}
	f = popen(cmd, "w");
	free(cmd);
	if (f == NULL) {
		i_error("popen(%s) failed: %m", set->sendmail_path);
		str_free(&text);
		return -1;
	}
	fwrite(str_c(text), 1, str_len(text), f);
	str_free(&text);
	status = pclose(f);
	if (status != 0) {
		i_error("Sending rejection failed: %s exited with %d",
			set->sendmail_path, WIFEXITED(status) ?
			WEXITSTATUS(status) : -1);
		return -1;
	}
	mail_deliver_log(&ctx->dctx, "sent rejection to %s", return_addr);
	return 0;
}

/* ---- main ------------------------------------------------------------ */

static const char *session_id(void)
{
	unsigned char bytes[16];
	string_t *str = str_new(32);
	int fd = open("/dev/urandom", O_RDONLY);
	size_t got = 0;

	if (fd < 0 || read_full(fd, bytes, sizeof(bytes), &got) < 0 ||
	    got != sizeof(bytes)) {
		for (size_t i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)(rand() ^ getpid() ^ (int)i);
	}
	if (fd >= 0)
		close(fd);
	base64_encode(str, bytes, sizeof(bytes));
	while (str_len(str) > 0 && str_c(str)[str_len(str) - 1] == '=')
		str_truncate(str, str_len(str) - 1);
	const char *id = p_strdup(lda_pool, str_c(str));
	str_free(&str);
	return id;
}

/* Log where the config says: log_path, info_log_path, debug_log_path. */
static void lda_log_open(const struct settings_root *set)
{
	const char *error;

	if (roost_log_open(set, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		exit(EXIT_TEMPFAIL);
	}
}

static void lda_set_log_prefix(struct lda_ctx *ctx, const char *user)
{
	char pid[32];
	string_t *prefix = str_new(64);
	const char *error;

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	const struct var_expand_table table[] = {
		{ 's', "lda", "service" },
		{ 'u', user, "user" },
		{ 'p', pid, "pid" },
		{ '\0', ctx->session, "session" },
		{ '\0', NULL, NULL },
	};
	if (var_expand(prefix, ctx->set->mail_log_prefix, table, NULL, NULL,
		       &error) < 0)
		str_printfa(prefix, "lda(%s): ", user);
	log_set_prefix(str_c(prefix));
	str_free(&prefix);
}

/* The invoking user, when there is no -d. */
static const char *lda_process_user(void)
{
	const char *user = getenv("USER");
	struct passwd *pw;

	if (geteuid() == 0) {
		i_fatal_status(EXIT_USAGE, "destination user parameter "
			       "(-d user) not given");
	}
	if (user != NULL && getenv("HOME") != NULL)
		return user;
	pw = getpwuid(geteuid());
	if (pw != NULL) {
		if (getenv("HOME") == NULL)
			setenv("HOME", pw->pw_dir, 1);
		return i_strdup(pw->pw_name);
	}
	if (user == NULL) {
		i_fatal_status(EXIT_USAGE, "Couldn't lookup our username "
			       "(uid=%ld)", (long)geteuid());
	}
	return user;
}

/* The command line, as the LDA takes it. */
struct lda_args {
	const char *config_path, *path;
	const char **overrides;
	unsigned int override_count;
	bool userdb_lookup;
};

/* Returns 0, or EXIT_USAGE after printing the usage. */
static int lda_parse_args(struct lda_ctx *ctx, int argc, char *argv[],
			  struct lda_args *args)
{
	int c;

	while ((c = getopt(argc, argv, "a:c:d:ef:km:o:p:r:")) != -1) {
		switch (c) {
		case 'a':
			ctx->dest_addr = optarg;
			break;
		case 'c':
			args->config_path = optarg;
			break;
		case 'd':
			ctx->user = optarg;
			args->userdb_lookup = true;
			break;
		case 'e':
			ctx->stderr_rejection = true;
			break;
		case 'f':
			ctx->envelope_sender =
				mail_deliver_address_sanitize(lda_pool, optarg);
			break;
		case 'k':
			break;
		case 'm':
			/* -m "" is ignored: Postfix passes ${extension} */
			if (*optarg != '\0')
				ctx->dest_mailbox = optarg;
			break;
		case 'o':
			args->overrides[args->override_count++] = optarg;
			break;
		case 'p':
			args->path = optarg;
			break;
		case 'r':
			ctx->final_dest_addr = optarg;
			break;
		default:
			print_help();
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		print_help();
		i_fatal_status(EXIT_USAGE, "Unknown argument: %s", argv[optind]);
	}
	doveadm_mailbox_args_check((const char *const []){ ctx->dest_mailbox,
							   NULL });
	return 0;
}
/* What the log line and a rejection need from the message, and the
 * recipient addresses. */
static void lda_message_info(struct lda_ctx *ctx, const char *username)
{
	if (ctx->envelope_sender == NULL && ctx->input.from_sender != NULL)
		ctx->envelope_sender = mail_deliver_address_sanitize(lda_pool,
			ctx->input.from_sender);
	ctx->dctx.pool = lda_pool;
	ctx->dctx.set = ctx->set;
	ctx->dctx.user = ctx->mail_user;
	ctx->dctx.mem = ctx->input.mem;
	ctx->dctx.mem_size = ctx->input.mem_size;
	ctx->dctx.fd = ctx->input.fd;
	ctx->dctx.size = ctx->input.size;
	ctx->dctx.received_time = ctx->input.from_time;
	ctx->dctx.envelope_sender = ctx->envelope_sender;
	mail_deliver_info_init(&ctx->dctx);
	if (ctx->dest_addr == NULL &&
	    ctx->set->lda_original_recipient_header[0] != '\0') {
		ctx->dest_addr = mail_deliver_header_get(lda_pool,
			ctx->dctx.header,
			ctx->set->lda_original_recipient_header);
		if (ctx->dest_addr != NULL)
			ctx->dest_addr = mail_deliver_address_of(lda_pool,
				ctx->dest_addr);
	}
	if (ctx->dest_addr == NULL) {
		char host[256];

		if (ctx->set->hostname[0] != '\0')
			snprintf(host, sizeof(host), "%s", ctx->set->hostname);
		else if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		ctx->dest_addr = strchr(username, '@') != NULL ? username :
			p_strdup_printf(lda_pool, "%s@%s", username, host);
	}
	if (ctx->final_dest_addr == NULL)
		ctx->final_dest_addr = ctx->dest_addr;
}

/* Deliver and turn the outcome into the exit code. */
static int lda_deliver_result(struct lda_ctx *ctx)
{
	enum mail_error error_class = MAIL_ERROR_NONE;
	const char *errstr;

	if (mail_deliver(&ctx->dctx, ctx->dest_mailbox, &errstr,
			 &error_class) == 0)
		return 0;
	if (ctx->stderr_rejection) {
		/* also for temporary failures, for the MTA's log */
		fprintf(stderr, "%s\n", errstr);
	}
	if (mail_deliver_error_is_tempfail(ctx->set, error_class, errstr))
		return EXIT_TEMPFAIL;
	mail_deliver_log(&ctx->dctx, "rejected: %s", errstr);
	if (ctx->stderr_rejection)
		return LDA_EX_NOPERM;
	return lda_send_rejection(ctx, errstr) < 0 ? EXIT_TEMPFAIL : 0;
}

int lda_main(int argc, char *argv[])
{
	struct lda_ctx ctx;
	struct lda_args args;
	struct mail_service *service;
	struct mail_service_user *suser = NULL;
	struct config *config;
	const char *error;
	int fd = -1, ret;

	memset(&ctx, 0, sizeof(ctx));
	memset(&args, 0, sizeof(args));
	ctx.dest_mailbox = "INBOX";
	ctx.input.fd = -1;
	args.overrides = i_new(const char *, (size_t)argc + 1);
	lda_pool = pool_create("lda", 4096);
	log_set_prefix("lda: ");
	if (lda_parse_args(&ctx, argc, argv, &args) != 0) {
		free(args.overrides);
		pool_destroy(&lda_pool);
		return EXIT_USAGE;
	}
	if (ctx.user == NULL)
		ctx.user = lda_process_user();
	if (args.config_path == NULL)
		args.config_path = roost_default_config_path();
	if (roost_config_load(args.config_path, 0, &config, &error) < 0)
		i_fatal_status(EXIT_TEMPFAIL, "%s", error);
	service = mail_service_init(config, "lda", args.overrides,
				    args.override_count, false);
	ctx.set = mail_service_get_set(service);
	ctx.session = session_id();
	lda_log_open(ctx.set);
	log_set_prefix(doveadm_tmp_printf("lda(%ld): ", (long)getpid()));

	ret = mail_service_lookup(service, ctx.user, args.userdb_lookup,
				  &suser, &error);
	if (ret < 0)
		i_fatal_status(EXIT_TEMPFAIL, "%s", error);
	if (ret == 0) {
		ret = EXIT_NOUSER;
		goto out;
	}
	ctx.set = suser->set;
	if (mail_service_user_init(service, suser, false, false,
				   &ctx.mail_user, &error) < 0)
		i_fatal_status(EXIT_TEMPFAIL, "%s", error);
	lda_set_log_prefix(&ctx, suser->username);

	fd = STDIN_FILENO;
	if (args.path != NULL && (fd = open(args.path, O_RDONLY)) < 0)
		i_fatal_status(EXIT_TEMPFAIL, "open(%s) failed: %m", args.path);
	if (input_read(&ctx.input, fd, args.path == NULL ? "stdin" :
		       args.path, ctx.set->mail_temp_dir) < 0) {
		ret = EXIT_TEMPFAIL;
		goto out;
	}
	lda_message_info(&ctx, suser->username);
	ret = lda_deliver_result(&ctx);
out:
	if (fd >= 0 && fd != STDIN_FILENO)
		close(fd);
	mail_service_user_free(service, &suser, &ctx.mail_user);
	mail_service_deinit(&service);
	config_free(&config);
	if (ctx.input.fd >= 0)
		close(ctx.input.fd);
	free(ctx.input.mem);
	free(ctx.input.from_sender);
	mail_deliver_info_deinit(&ctx.dctx);
	free(args.overrides);
	pool_destroy(&lda_pool);
	return ret;
}

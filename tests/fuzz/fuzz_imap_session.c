/* fuzz_imap_session.c - libFuzzer harness for the logged-in IMAP session:
 * a real Maildir user (INBOX with messages from tests/data/mime/, a
 * Trash and a child folder with mail, keywords and flags), a real ioloop
 * and imap_client on one end of a socketpair, started pre-authenticated;
 * the fuzz input is written into the other end in chunks (then EOF) while
 * the replies are read and dropped. Every input starts from the same
 * state: the Maildir is restored from a pristine copy made once (files
 * and directories copied in-process, mtimes kept) and the mail_user is
 * set up again. A session that doesn't end within the tick budget (a
 * long SEARCH, a huge FETCH the EOF didn't stop) is ended as a server
 * shutdown would end it, exercising that path too. */
#include "lib.h"
#include "ioloop.h"
#include "config-parser.h"
#include "config-bind.h"
#include "mail-storage.h"
#include "imap-client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1 ms ticks before a session is ended from outside */
#define FUZZ_MAX_TICKS 300

static struct settings_root *set;
static struct config *config;
static pool_t pool;
static struct mail_user *user;
/* tmpfs when there is one: a disk file system slows down creating the
   many files each input restores */
static char shm_dir[] = "/dev/shm/roost-fuzz-imap.XXXXXX";
static char tmp_dir[] = "/tmp/roost-fuzz-imap.XXXXXX";
static const char *dir;
static char *home, *pristine, *maildir, *data_dir;

struct fuzz_ctx {
	struct ioloop *loop;
	int fd;
	struct io *io;
	struct timeout *tick;
	const uint8_t *out;
	size_t out_left, chunk;
	unsigned int ticks;
	bool done, gone;
};

/* ---- the pristine Maildir ---- */

static const char *const msg_files[] = {
	"01-simple-text.eml",
	"03-multipart-alternative-crlf.eml",
	"04-html-attachments.eml",
	"05-forwarded-message.eml",
	"07-iso-2022-jp.eml",
	"08-rfc2047-words.eml",
	"10-broken-boundaries.eml",
	"12-nul-bytes.eml",
	"17-header-only-no-newline.eml",
	"18-empty.eml",
	"21-digest.eml",
	"22-rfc822-top-level.eml",
};

/* tests/data/mime of the source tree: $ROOST_SRCDIR, the current
   directory, or up from the binary (build/fuzz/, build/san/fuzz/) */
static void find_data_dir(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *cands[4] = { getenv("ROOST_SRCDIR"), ".", NULL, NULL };
	char *up2 = NULL, *up3 = NULL;

	if (n > 0) {
		exe[n] = '\0';
		up2 = i_strdup_printf("%s/../../..", exe);
		up3 = i_strdup_printf("%s/../../../..", exe);
		cands[2] = up2;
		cands[3] = up3;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(cands) && data_dir == NULL; i++) {
		char *d, *f;

		if (cands[i] == NULL)
			continue;
		d = i_strdup_printf("%s/tests/data/mime", cands[i]);
		f = i_strdup_printf("%s/%s", d, msg_files[0]);
		if (access(f, R_OK) == 0)
			data_dir = d;
		else
			i_free(d);
		i_free(f);
	}
	i_free(up2);
	i_free(up3);
	if (data_dir == NULL) {
		fprintf(stderr, "fuzz_imap_session: tests/data/mime not found "
			"(set ROOST_SRCDIR)\n");
		abort();
	}
}

static char *read_file(const char *name, size_t *size_r)
{
	char *path = i_strdup_printf("%s/%s", data_dir, name);
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (f == NULL) {
		fprintf(stderr, "fuzz_imap_session: %s: %s\n", path,
			strerror(errno));
		abort();
	}
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0)
		abort();
	buf = i_malloc((size_t)len + 1);
	if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)
		abort();
	fclose(f);
	i_free(path);
	*size_r = (size_t)len;
	return buf;
}

static void save_msgs(const char *vname, unsigned int first,
		      unsigned int count)
{
	static const char *const kw1[] = { "$Forwarded", "Important", NULL };
	static const char *const kw2[] = { "$Junk", NULL };
	struct mailbox *box = mailbox_alloc(user, vname, 0);
	struct mailbox_transaction *t;

	if (mailbox_open(box) < 0 || mailbox_sync(box, 0, NULL, NULL) < 0)
		abort();
	t = mailbox_transaction_begin(box);
	for (unsigned int i = 0; i < count; i++) {
		unsigned int n = (first + i) % N_ELEMENTS(msg_files);
		struct mail_save_context *ctx = mailbox_save_alloc(t);
		size_t size;
		char *text = read_file(msg_files[n], &size);

		mailbox_save_set_flags(ctx, (enum mail_flags)(n % 3 == 0 ?
				       MAIL_SEEN : n % 3 == 1 ?
				       MAIL_FLAGGED | MAIL_ANSWERED : 0),
				       n % 4 == 0 ? kw1 : n % 4 == 1 ? kw2 : NULL);
		mailbox_save_set_received_date(ctx, 1700000000 +
					       (time_t)n * 86400 * 7,
					       n % 2 == 0 ? 60 : -300);
		if (mailbox_save_begin(ctx) < 0 ||
		    mailbox_save_continue(ctx, text, size) < 0 ||
		    mailbox_save_finish(&ctx) < 0)
			abort();
		i_free(text);
	}
	if (mailbox_transaction_commit(&t, NULL) < 0 ||
	    mailbox_sync(box, 0, NULL, NULL) < 0)
		abort();
	mailbox_free(&box);
}

static void create_box(const char *vname)
{
	struct mailbox *box = mailbox_alloc(user, vname, 0);
	enum mail_error error;
	bool exists;

	if (mailbox_exists(box, &exists) < 0 ||
	    (!exists && mailbox_create(box, NULL, false) < 0)) {
		fprintf(stderr, "fuzz_imap_session: CREATE %s: %s\n", vname,
			mailbox_get_last_error(box, &error));
		abort();
	}
	mailbox_free(&box);
}

/* ---- copying and removing trees ---- */

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL) {
		(void)unlink(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sub = i_strdup_printf("%s/%s", path, de->d_name);
		if (de->d_type == DT_DIR)
			remove_tree(sub);
		else if (unlink(sub) < 0 && errno == EISDIR)
			remove_tree(sub);
		i_free(sub);
	}
	closedir(d);
	(void)rmdir(path);
}

static void copy_tree(const char *src, const char *dest)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(src, &st) < 0)
		abort();
	if (S_ISREG(st.st_mode)) {
		char buf[65536];
		int in = open(src, O_RDONLY | O_CLOEXEC);
		int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			       st.st_mode & 07777);
		ssize_t n;
		struct timespec ts[2] = { st.st_atim, st.st_mtim };

		if (in < 0 || out < 0)
			abort();
		while ((n = read(in, buf, sizeof(buf))) > 0) {
			if (write(out, buf, (size_t)n) != n)
				abort();
		}
		(void)futimens(out, ts);
		close(in);
		close(out);
		return;
	}
	if (!S_ISDIR(st.st_mode))
		return;
	if (mkdir(dest, st.st_mode & 07777) < 0)
		abort();
	if ((d = opendir(src)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		char *s, *t;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s = i_strdup_printf("%s/%s", src, de->d_name);
		t = i_strdup_printf("%s/%s", dest, de->d_name);
		copy_tree(s, t);
		i_free(s);
		i_free(t);
	}
	closedir(d);
	{
		struct timespec ts[2] = { st.st_atim, st.st_mtim };

		(void)utimensat(AT_FDCWD, dest, ts, 0);
	}
}

/* Session logs are noise here; errors are shown with FUZZ_VERBOSE set,
   fatal errors and panics always. */
static void log_capture(enum log_type type, const char *line,
			void *context ATTR_UNUSED)
{
	if (type >= LOG_TYPE_FATAL ||
	    (type == LOG_TYPE_ERROR && getenv("FUZZ_VERBOSE") != NULL))
		fprintf(stderr, "%s\n", line);
}

static void user_init(void)
{
	struct mail_user_info info;
	const char *error;

	memset(&info, 0, sizeof(info));
	info.username = "fuzz";
	info.home = home;
	info.uid = getuid();
	info.gid = getgid();
	if (mail_user_init(set, &info, &user, &error) < 0) {
		fprintf(stderr, "fuzz_imap_session: %s\n", error);
		abort();
	}
}

static void fuzz_cleanup(void)
{
	remove_tree(dir);
}

static void fuzz_init(void)
{
	const char *error;
	char *conf;

	find_data_dir();
	if ((dir = mkdtemp(shm_dir)) == NULL &&
	    (dir = mkdtemp(tmp_dir)) == NULL)
		abort();
	atexit(fuzz_cleanup);
	home = i_strdup_printf("%s/home", dir);
	maildir = i_strdup_printf("%s/home/Maildir", dir);
	pristine = i_strdup_printf("%s/pristine", dir);
	if (mkdir(home, 0700) < 0)
		abort();
	conf = i_strdup_printf(
		"mail_location = maildir:~/Maildir\n"
		"imap_max_line_length = 16k\n"
		"namespace inbox {\n  inbox = yes\n  separator = /\n"
		"  mailbox Trash {\n    auto = subscribe\n"
		"    special_use = \\Trash\n  }\n"
		"  mailbox Sent {\n    auto = create\n"
		"    special_use = \\Sent\n  }\n}\n");
	if (config_parse_string("fuzz.conf", conf, 0, &config, &error) < 0) {
		fprintf(stderr, "fuzz_imap_session: %s\n", error);
		abort();
	}
	pool = pool_create("fuzz", 4096);
	set = config_bind(pool, config->blocks[0]->root, &error);
	if (set == NULL) {
		fprintf(stderr, "fuzz_imap_session: %s\n", error);
		abort();
	}
	user_init();
	log_set_capture(log_capture, NULL);
	save_msgs("INBOX", 0, N_ELEMENTS(msg_files));
	create_box("Archive");
	create_box("Archive/2023");
	save_msgs("Archive/2023", 3, 4);
	save_msgs("Trash", 7, 2);
	create_box("&AMk-t&AOk-");	/* "Été" */
	if (mailbox_list_subscribe(user, "Archive/2023", true) < 0)
		abort();
	mail_user_deinit(&user);
	copy_tree(maildir, pristine);
	i_free(conf);
}

/* ---- one session ---- */

static void client_gone(void *context)
{
	struct fuzz_ctx *ctx = context;

	ctx->done = ctx->gone = true;
}

static void fuzz_io(void *context)
{
	struct fuzz_ctx *ctx = context;
	char buf[16384];
	ssize_t n;

	if (ctx->out_left > 0) {
		n = write(ctx->fd, ctx->out,
			  ctx->out_left < ctx->chunk ? ctx->out_left : ctx->chunk);
		if (n > 0) {
			ctx->out += n;
			ctx->out_left -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN) {
			ctx->out_left = 0;
		}
		if (ctx->out_left == 0)
			(void)shutdown(ctx->fd, SHUT_WR);
	}
	while ((n = read(ctx->fd, buf, sizeof(buf))) > 0)
		;
	if (n == 0)
		ctx->done = true;
	io_set_condition(ctx->io, ctx->out_left > 0 ? IO_READ | IO_WRITE :
			 IO_READ);
}

static void fuzz_tick(void *context)
{
	struct fuzz_ctx *ctx = context;

	if (ctx->done || ++ctx->ticks >= FUZZ_MAX_TICKS)
		io_loop_stop(ctx->loop);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	/* as the mail worker and `roost imap`: a peer that went away is an
	   EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	fuzz_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_client_start start;
	struct fuzz_ctx ctx;
	struct imap_client *client;
	int sv[2];

	if (size > 64 * 1024)
		return 0;
	remove_tree(maildir);
	copy_tree(pristine, maildir);
	user_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = io_loop_create();
	ctx.fd = sv[1];
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
	ctx.out = data;
	ctx.out_left = size;
	/* split the input at varying places, so that commands and
	   literals arrive in pieces */
	ctx.chunk = 1 + (size * 2654435761U) % 2048;
	memset(&start, 0, sizeof(start));
	start.preauth = true;
	client = imap_client_create(ctx.loop, sv[0], user, set, "fuzz",
				    &start, client_gone, &ctx);
	if (client == NULL)
		abort();
	if (size == 0)
		(void)shutdown(sv[1], SHUT_WR);
	ctx.io = io_add(ctx.loop, sv[1], IO_READ | IO_WRITE, fuzz_io, &ctx);
	ctx.tick = timeout_add(ctx.loop, 1, fuzz_tick, &ctx);
	io_loop_run(ctx.loop);
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz_imap_session: %u ticks, %s\n", ctx.ticks,
			ctx.gone ? "ended" : "still running");
	if (!ctx.gone) {
		/* still running (a huge FETCH, a long SEARCH): end it like
		   a server shutdown would */
		close(sv[1]);
		sv[1] = -1;
		imap_client_destroy(client, "Shutting down");
	}
	io_remove(&ctx.io);
	timeout_remove(&ctx.tick);
	io_loop_destroy(&ctx.loop);
	if (sv[1] >= 0)
		close(sv[1]);
	mail_user_deinit(&user);
	return 0;
}

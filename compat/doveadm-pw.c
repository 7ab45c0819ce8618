/* doveadm-pw.c - `doveadm pw`: make a password hash in any scheme, test
 * one (-t) or list the schemes (-l), with Dovecot 2.3's prompts, texts
 * and exit codes. The plaintext is wiped from memory (and from argv for
 * -p) once used. */
#include "lib.h"
#include "str.h"
#include "pool.h"
#include "password-scheme.h"
#include "doveadm.h"

#include <ctype.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#define PW_DEFAULT_SCHEME "CRYPT"
/* Tries at typing the same password twice. */
#define PW_PROMPT_LIVES 3
/* Longer typed input is refused rather than cut. */
#define PW_MAX_LEN (64 * 1024)

struct pw_options {
	const char *scheme, *test_hash, *user;
	char *plaintext;	/* a copy; wiped at the end */
	unsigned int rounds;
	bool list, verify;
};

/* Dovecot reads -r as a signed 64-bit number; text that isn't one
 * counts as 0 (the default). Negative values are taken as 0 too rather
 * than as a huge cost. */
static unsigned int pw_parse_rounds(const char *arg)
{
	unsigned long long n = 0;
	const char *p = arg;

	if (*p == '-')
		return 0;
	if (*p == '+')
		p++;
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		n = n * 10 + (unsigned int)(*p - '0');
		if (n > UINT_MAX)
			return UINT_MAX;
	}
	return (unsigned int)n;
}

/* Read one line of password: from the terminal without echo (prompt on
 * stderr) when stdin is one, else silently from stdin. Ends at \n, \r
 * or end of input. */
char *doveadm_askpass(const char *prompt)
{
	struct termios old_tio, tio;
	bool tty = isatty(STDIN_FILENO) != 0, restore = false;
	string_t *pass = str_new(128);
	int fd = STDIN_FILENO;
	char ch, *ret;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if ((fd = open("/dev/tty", O_RDONLY | O_CLOEXEC)) < 0)
			doveadm_fatal("open(/dev/tty) failed: %m");
		if (tcgetattr(fd, &old_tio) == 0) {
			restore = true;
			tio = old_tio;
			tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			(void)tcsetattr(fd, TCSAFLUSH, &tio);
		}
	}
	str_reserve(pass, PW_MAX_LEN);
	while (read(fd, &ch, 1) > 0 && ch != '\n' && ch != '\r') {
		if (str_len(pass) >= PW_MAX_LEN)
			doveadm_fatal("Password is too long");
		str_append_c(pass, ch);
	}
	explicit_bzero(&ch, sizeof(ch));
	if (tty) {
		if (restore)
			(void)tcsetattr(fd, TCSAFLUSH, &old_tio);
		fputs("\n", stderr);
		fflush(stderr);
		close(fd);
	}
	/* the reservation above means no realloc left copies behind */
	ret = i_strndup(str_c(pass), str_len(pass));
	explicit_bzero(pass->data, pass->cap);
	str_free(&pass);
	return ret;
}

static void pw_free_secret(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		i_free(*s);
	}
}

/* Ask twice until both match; Dovecot gives up after three tries with
 * exit code 1. */
static char *pw_ask_new(void)
{
	for (int lives = PW_PROMPT_LIVES; lives > 0; lives--) {
		char *pass = doveadm_askpass("Enter new password: ");
		char *check = doveadm_askpass("Retype new password: ");
		bool same = strcmp(pass, check) == 0;

		pw_free_secret(&check);
		if (same)
			return pass;
		pw_free_secret(&pass);
		i_error("Passwords don't match!");
	}
	exit(1);
}

static int pw_parse_args(int argc, char *argv[], struct pw_options *opts)
{
	static const struct option no_long_options[] = { { 0, 0, 0, 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "lp:r:s:t:u:V", no_long_options,
				NULL)) != -1) {
		switch (c) {
		case 'l':
			opts->list = true;
			break;
		case 'p':
			pw_free_secret(&opts->plaintext);
			opts->plaintext = i_strdup(optarg);
			/* keep it out of ps(1) from now on */
			explicit_bzero(optarg, strlen(optarg));
			break;
		case 'r':
			opts->rounds = pw_parse_rounds(optarg);
			break;
		case 's':
			opts->scheme = optarg;
			break;
		case 't':
			opts->test_hash = optarg;
			opts->verify = true;
			break;
		case 'u':
			opts->user = optarg;
			break;
		case 'V':
			opts->verify = true;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		string_t *extra = str_new(64);

		for (int i = optind; i < argc; i++) {
			if (i > optind)
				str_append_c(extra, ' ');
			str_append(extra, argv[i]);
		}
		i_error("Extraneous arguments found: %s", str_c(extra));
		str_free(&extra);
		return -1;
	}
	return 0;
}

static void pw_list(void)
{
	const char *const *names = password_schemes_list();

	for (; *names != NULL; names++)
		printf("%s ", *names);
	printf("\n");
}

/* -t/-V: decode and check the hash, print it with " (verified)". */
static void pw_reverse_verify(const struct pw_options *opts,
			      const char *scheme, const char *hash)
{
	pool_t pool = pool_create("doveadm pw", 1024);
	unsigned char *raw;
	const char *error = NULL;
	size_t size;

	if (opts->test_hash != NULL) {
		password_split(pool, opts->test_hash, NULL, &scheme, &hash);
		if (scheme == NULL)
			doveadm_fatal("Missing {scheme} prefix from hash");
	}
	if (password_decode(hash, scheme, &raw, &size, &error) <= 0)
		doveadm_fatal("reverse decode check failed: %s", error);
	if (password_scheme_needs_user(scheme) && opts->user == NULL)
		doveadm_fatal("digest_md5_generate(): username not given");
	if (password_verify_raw(opts->plaintext, scheme, raw, size,
				opts->user, &error) <= 0) {
		doveadm_fatal("reverse password verification check failed: %s",
			      error);
	}
	explicit_bzero(raw, size);
	free(raw);
	printf("{%s}%s (verified)\n", scheme, hash);
	pool_destroy(&pool);
}

static int cmd_pw(struct doveadm_context *ctx ATTR_UNUSED, int argc,
		  char *argv[])
{
	struct pw_options opts;
	const char *error = NULL;
	char *scheme, *hash;

	memset(&opts, 0, sizeof(opts));
	if (pw_parse_args(argc, argv, &opts) < 0) {
		pw_free_secret(&opts.plaintext);
		return EXIT_USAGE;
	}
	if (opts.list) {
		pw_free_secret(&opts.plaintext);
		pw_list();
		return 0;
	}
	scheme = i_strdup(opts.scheme == NULL ? PW_DEFAULT_SCHEME :
			  opts.scheme);
	for (char *p = scheme; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	if (opts.test_hash != NULL && opts.plaintext == NULL)
		opts.plaintext = doveadm_askpass("Enter password to verify: ");
	if (opts.plaintext == NULL)
		opts.plaintext = pw_ask_new();

	if (opts.test_hash != NULL) {
		/* Dovecot makes the -s hash even when testing -t: only its
		   errors matter, so check for them without the work */
		if (!password_scheme_is_known(scheme))
			doveadm_fatal("Unknown scheme: %s", scheme);
		if (password_scheme_needs_user(scheme) && opts.user == NULL)
			doveadm_fatal("digest_md5_generate(): username not given");
		pw_reverse_verify(&opts, scheme, NULL);
	} else {
		hash = password_generate(opts.plaintext, scheme, opts.user,
					 opts.rounds, &error);
		if (hash == NULL)
			doveadm_fatal("%s", error);
		if (opts.verify) {
			/* "{SCHEME}data": check the data part */
			pw_reverse_verify(&opts, scheme,
					  hash + strlen(scheme) + 2);
		} else {
			printf("%s\n", hash);
		}
		free(hash);
	}
	pw_free_secret(&opts.plaintext);
	free(scheme);
	return 0;
}

const struct doveadm_cmd doveadm_cmd_pw = {
	"pw",
	"[-l] [-p plaintext] [-r rounds] [-s scheme] [-t hash] [-u user] [-V]",
	0, cmd_pw
};

/* imap-search-args.c - the IMAP arg array as a token source for
 * mail_search_build() (lists are parenthesised keys, "$" is the saved
 * SEARCHRES result, text strings come in the command's CHARSET, UTF-8 by
 * default, and must be valid in it), and the search
 * itself run a slice at a time so a big BODY/TEXT search doesn't hold
 * the session (or the other sessions of its process) for long. */
#include "imap-search-args.h"
#include "charset.h"
#include "imap-quote.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

/* a slice ends after this long (checked every few messages) */
#define SEARCH_SLICE_USECS 20000
#define SEARCH_SLICE_CHECK 16

struct imap_search_parser {
	struct mail_search_parser parser;
	struct imap_client *client;
	pool_t pool;
	const char *charset;	/* NULL: UTF-8, nothing to convert */
	/* the list levels being read: where each continues */
	const struct imap_arg *stack[IMAP_PARSER_MAX_DEPTH + 2];
	unsigned int depth;
	const struct imap_arg *cur;
	/* "$": replayed as "UID <saved set>" or, empty, "NOT ALL" */
	const char *pending_key, *pending_string;
	bool last_key_uid;
	/* the key's strings are text, converted from the CHARSET */
	bool last_key_text;
	/* a text string wasn't valid in the CHARSET */
	bool invalid_string;
};

/* Keys whose strings are text in the command's CHARSET, converted to
   UTF-8 and refused when invalid in it; other strings (keywords, sets,
   dates) are taken as they are, as Dovecot does. */
static bool search_key_is_text(const char *key)
{
	static const char *const text_keys[] = {
		"BCC", "BODY", "CC", "FROM", "HEADER", "SUBJECT", "TEXT",
		"TO",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(text_keys); i++) {
		if (strcasecmp(key, text_keys[i]) == 0)
			return true;
	}
	return false;
}

/* The saved SEARCHRES UIDs as a UID set, NULL if there are none. */
static const char *saved_uidset(struct imap_search_parser *ip)
{
	struct imap_client *client = ip->client;
	string_t *str;
	const char *ret;

	if (!client->search_saved_valid || client->search_saved.count == 0)
		return NULL;
	str = str_new(64);
	imap_write_seq_range(str, client->search_saved.v,
			     client->search_saved.count);
	ret = p_strdup(ip->pool, str_c(str));
	str_free(&str);
	return ret;
}

static int ip_parse_key(struct mail_search_parser *parser, const char **key_r)
{
	struct imap_search_parser *ip = parser->context;
	const struct imap_arg *arg = ip->cur;

	ip->last_key_uid = false;
	if (ip->pending_key != NULL) {
		*key_r = ip->pending_key;
		ip->pending_key = NULL;
		return 1;
	}
	switch (arg->type) {
	case IMAP_ARG_EOL:
		if (ip->depth == 0)
			return 0;
		/* the end of a list: continue after it */
		ip->cur = ip->stack[--ip->depth];
		return 0;
	case IMAP_ARG_LIST:
		if (ip->depth >= N_ELEMENTS(ip->stack)) {
			parser->error = "Too much nesting in search query";
			return -1;
		}
		ip->stack[ip->depth++] = arg + 1;
		ip->cur = arg->list;
		*key_r = MAIL_SEARCH_KEY_LIST;
		return 1;
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
		break;
	default:
		parser->error = p_strdup_printf(ip->pool,
			"Unexpected string as search key: %s", arg->str);
		return -1;
	}
	ip->cur++;
	if (strcmp(arg->str, "$") == 0) {
		const char *set = saved_uidset(ip);

		if (set == NULL) {
			*key_r = "NOT";
			ip->pending_key = "ALL";
		} else {
			*key_r = "UID";
			ip->pending_string = set;
		}
		return 1;
	}
	ip->last_key_uid = strcasecmp(arg->str, "UID") == 0;
	ip->last_key_text = search_key_is_text(arg->str);
	*key_r = arg->str;
	return 1;
}

static int ip_parse_string(struct mail_search_parser *parser,
			   const char **value_r)
{
	struct imap_search_parser *ip = parser->context;
	const struct imap_arg *arg = ip->cur;
	string_t *str;
	size_t size;
	bool invalid;

	parser->error = NULL;
	if (ip->pending_string != NULL) {
		*value_r = ip->pending_string;
		ip->pending_string = NULL;
		return 1;
	}
	switch (arg->type) {
	case IMAP_ARG_EOL:
		return -1;
	case IMAP_ARG_LIST:
		parser->error = "Unexpected (";
		return -1;
	default:
		break;
	}
	ip->cur++;
	if (ip->last_key_uid && strcmp(arg->str, "$") == 0) {
		/* UID $: the saved set, or a UID no message has */
		const char *set = saved_uidset(ip);

		*value_r = set != NULL ? set : "4294967294";
		return 1;
	}
	if (!ip->last_key_text) {
		*value_r = arg->str;
		return 1;
	}
	/* the string ends at a NUL, as in Dovecot */
	size = strlen(arg->str);
	if (ip->charset == NULL) {
		invalid = !uni_utf8_data_is_valid(arg->str, size);
		*value_r = arg->str;
	} else {
		str = str_new(size + 16);
		if (charset_to_utf8_str(ip->charset, arg->str, size, str,
					&invalid) < 0)
			str_append_n(str, arg->str, size);
		*value_r = p_strdup(ip->pool, str_c(str));
		str_free(&str);
	}
	if (invalid) {
		ip->invalid_string = true;
		parser->error = "Invalid search key";
		return -1;
	}
	return 1;
}

static bool ip_skip_next(struct mail_search_parser *parser, const char *str)
{
	struct imap_search_parser *ip = parser->context;

	if (ip->pending_key != NULL || ip->cur->type != IMAP_ARG_ATOM ||
	    strcasecmp(ip->cur->str, str) != 0)
		return false;
	ip->cur++;
	return true;
}

int imap_search_args_build(struct client_command_context *cmd,
			   const struct imap_arg *args, const char *charset,
			   struct mail_search_args **args_r,
			   bool *badcharset_r)
{
	struct imap_search_parser ip;
	const char *error;

	*badcharset_r = false;
	memset(&ip, 0, sizeof(ip));
	if (imap_arg_is_eol(args)) {
		(void)cmd_bad_error(cmd, "Missing search parameters");
		return -1;
	}
	if (charset != NULL && !charset_is_utf8(charset)) {
		struct charset_translation *t;

		/* an unknown charset is reported after the keys parsed */
		if (charset_to_utf8_begin(charset, &t, &error) < 0)
			*badcharset_r = true;
		else
			charset_to_utf8_end(&t);
		ip.charset = charset;
	}
	ip.client = cmd->client;
	ip.pool = cmd->pool;
	ip.cur = args;
	ip.parser.parse_key = ip_parse_key;
	ip.parser.parse_string = ip_parse_string;
	ip.parser.skip_next = ip_skip_next;
	ip.parser.context = &ip;
	if (mail_search_build(&ip.parser, MAIL_SEARCH_SYNTAX_IMAP, args_r,
			      &error) < 0) {
		/* a text string invalid in its charset: Dovecot names no
		   key */
		if (ip.invalid_string)
			error = "Invalid search key";
		(void)cmd_bad_error(cmd, error);
		*badcharset_r = false;
		return -1;
	}
	if (*badcharset_r) {
		mail_search_args_free(args_r);
		cmd_no(cmd, "[BADCHARSET] Unknown charset");
		return -1;
	}
	return 0;
}

static bool arg_have_modseq(const struct mail_search_arg *arg)
{
	for (; arg != NULL; arg = arg->next) {
		if (arg->type == SEARCH_MODSEQ)
			return true;
		if ((arg->type == SEARCH_OR || arg->type == SEARCH_SUB) &&
		    arg_have_modseq(arg->value.subargs))
			return true;
	}
	return false;
}

bool imap_search_args_have_modseq(const struct mail_search_args *args)
{
	return arg_have_modseq(args->args);
}

void imap_write_seq_range(string_t *dest, const uint32_t *nums, size_t count)
{
	for (size_t i = 0; i < count;) {
		size_t j = i;

		while (j + 1 < count && nums[j + 1] == nums[j] + 1)
			j++;
		if (i > 0)
			str_append_c(dest, ',');
		if (j == i)
			str_printfa(dest, "%u", nums[i]);
		else
			str_printfa(dest, "%u:%u", nums[i], nums[j]);
		i = j + 1;
	}
}

/* ---- running ---- */

struct imap_search_run {
	struct imap_client *client;
	struct mail_search_args *args;
	struct mail *mail;
	uint32_t next_seq;
	ARRAY_U32 result;
	uint64_t highest_modseq;
	bool init_failed;
	/* INPROGRESS (RFC 9585): when the run began, the last update */
	uint64_t started_usecs, progress_usecs;
};

static uint64_t usecs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Keywords searched for become known to the mailbox (they show in the
 * next FLAGS, as in Dovecot). */
static void args_register_keywords(struct mailbox *box,
				   const struct mail_search_arg *arg)
{
	for (; arg != NULL; arg = arg->next) {
		if (arg->type == SEARCH_KEYWORDS)
			(void)mailbox_keyword_lookup(box, arg->value.str, true);
		else if (arg->type == SEARCH_OR || arg->type == SEARCH_SUB)
			args_register_keywords(box, arg->value.subargs);
	}
}

struct imap_search_run *imap_search_run_init(struct imap_client *client,
					     struct mail_search_args *args)
{
	struct imap_search_run *run = i_new(struct imap_search_run, 1);

	run->client = client;
	run->args = args;
	run->next_seq = 1;
	args_register_keywords(client->mailbox, args->args);
	if (mail_search_args_init(args, client->mailbox) < 0)
		run->init_failed = true;
	run->mail = mail_alloc(client->mailbox);
	run->started_usecs = run->progress_usecs = usecs_now();
	return run;
}

/* ROOST_IMAP_INPROGRESS_MSECS (tests set it low), else 10 s */
static uint64_t inprogress_interval_usecs(void)
{
	const char *env = getenv("ROOST_IMAP_INPROGRESS_MSECS");
	char *end;
	unsigned long long msecs;

	if (env != NULL && *env != '\0') {
		errno = 0;
		msecs = strtoull(env, &end, 10);
		if (errno == 0 && *end == '\0' && msecs < 86400000ULL)
			return msecs * 1000;
	}
	return IMAP_INPROGRESS_DEFAULT_MSECS * 1000;
}

void imap_search_run_progress(struct imap_search_run *run,
			      struct client_command_context *cmd,
			      const char *text)
{
	uint64_t now = usecs_now(), interval = inprogress_interval_usecs();
	uint32_t total = mailbox_count(run->client->mailbox);
	uint32_t done = run->next_seq - 1;
	string_t *str;

	if (now - run->progress_usecs < interval || total == 0)
		return;
	run->progress_usecs = now;
	if (done > total)
		done = total;
	str = str_new(64);
	str_append(str, "* OK [INPROGRESS (");
	imap_append_quoted(str, cmd->tag);
	str_printfa(str, " %u %u)] %s", done, total, text);
	client_send_line(run->client, str_c(str));
	str_free(&str);
}

int imap_search_run_more(struct imap_search_run *run)
{
	struct mailbox *box = run->client->mailbox;
	uint32_t count = mailbox_count(box);
	uint64_t start = usecs_now();
	unsigned int n = 0;
	int ret;

	if (run->init_failed)
		return -1;
	for (; run->next_seq <= count; run->next_seq++) {
		if (++n % SEARCH_SLICE_CHECK == 0 &&
		    usecs_now() - start > SEARCH_SLICE_USECS)
			return 0;
		mail_set_seq(run->mail, run->next_seq);
		ret = mail_search_match(run->mail, run->args->args);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			uint64_t modseq = mail_get_modseq(run->mail);

			array_push(&run->result, run->next_seq);
			if (modseq > run->highest_modseq)
				run->highest_modseq = modseq;
		}
	}
	return 1;
}

const ARRAY_U32 *imap_search_run_result(const struct imap_search_run *run)
{
	return &run->result;
}

uint64_t imap_search_run_highest_modseq(const struct imap_search_run *run)
{
	return run->highest_modseq;
}

struct mail_search_args *imap_search_run_take_args(struct imap_search_run *run)
{
	struct mail_search_args *args = run->args;

	run->args = NULL;
	return args;
}

void imap_search_run_deinit(struct imap_search_run **_run)
{
	struct imap_search_run *run = *_run;

	if (run == NULL)
		return;
	*_run = NULL;
	mail_free(&run->mail);
	array_free(&run->result);
	mail_search_args_free(&run->args);
	i_free(run);
}

/* smtp-syntax.h - the SMTP/LMTP grammar as a server meets it (RFC 5321,
 * 6531, 3461, 1870, 3030, 4954): command lines into verb and arguments,
 * paths and their ESMTP parameters, xtext, and replies with enhanced
 * status codes. Every parser is bounded and treats its input as hostile;
 * none keeps pointers into the input after returning (results are
 * allocated from the caller's pool). */
#ifndef ROOST_SMTP_SYNTAX_H
#define ROOST_SMTP_SYNTAX_H

#include "lib.h"
#include "pool.h"
#include "str.h"

/* The longest path (RFC 5321 4.5.3.1.3 says 256; SMTPUTF8 addresses
 * may take more octets). */
#define SMTP_MAX_PATH_LENGTH 1024
/* Longest parameter value accepted (ENVID is 100 by RFC 3461, ORCPT
 * 500 ...); more is a syntax error. */
#define SMTP_MAX_PARAM_VALUE 1024

/* The extensions a server offers; parameters of an extension not
 * offered are "Unsupported parameters". */
enum smtp_capability {
	SMTP_CAP_8BITMIME = 0x0001,
	SMTP_CAP_BINARYMIME = 0x0002,
	SMTP_CAP_CHUNKING = 0x0004,
	SMTP_CAP_DSN = 0x0008,
	SMTP_CAP_ENHANCEDSTATUSCODES = 0x0010,
	SMTP_CAP_PIPELINING = 0x0020,
	SMTP_CAP_SIZE = 0x0040,
	SMTP_CAP_SMTPUTF8 = 0x0080,
	SMTP_CAP_STARTTLS = 0x0100,
	SMTP_CAP_AUTH = 0x0200,
	SMTP_CAP_VRFY = 0x0400,
};

/* A mailbox; domain is NULL for a bare local part ("postmaster"); the
 * null path <> has localpart NULL. localpart is unquoted (the quoted
 * form "a b"@x gives localpart `a b`). */
struct smtp_address {
	const char *localpart;
	const char *domain;
	/* the path contained non-ASCII (needs SMTPUTF8) */
	bool utf8;
};

enum smtp_body_type {
	SMTP_BODY_UNSPECIFIED = 0,
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME,
};

enum smtp_dsn_ret {
	SMTP_DSN_RET_UNSPECIFIED = 0,
	SMTP_DSN_RET_FULL,
	SMTP_DSN_RET_HDRS,
};

enum smtp_dsn_notify {
	SMTP_DSN_NOTIFY_NEVER = 0x01,
	SMTP_DSN_NOTIFY_SUCCESS = 0x02,
	SMTP_DSN_NOTIFY_FAILURE = 0x04,
	SMTP_DSN_NOTIFY_DELAY = 0x08,
};

struct smtp_params_mail {
	uint64_t size;			/* 0 = not given */
	bool size_given;
	enum smtp_body_type body;
	bool smtputf8;
	enum smtp_dsn_ret ret;
	const char *envid;		/* xtext-decoded, NULL = none */
	const char *auth;		/* AUTH=<mailbox> decoded, "<>" kept */
};

struct smtp_params_rcpt {
	unsigned int notify;		/* enum smtp_dsn_notify bits */
	const char *orcpt_type;		/* "rfc822" */
	const char *orcpt;		/* xtext-decoded address */
};

/* Split a command line (without CRLF) into verb and arguments: the
 * verb is upper-cased into verb_r (at most verb_size-1 chars); *args_r
 * points into line after the single space (or at "" when there is
 * none). -1 when the verb is empty, too long or not alphanumeric. */
int smtp_command_split(const char *line, char *verb_r, size_t verb_size,
		       const char **args_r);

/* Parse "<path>" at the start of str (with the FROM:/TO: already
 * skipped). allow_null: "<>" is accepted. *rest_r points after the
 * path (at the parameters, spaces skipped). -1 with Dovecot's texts:
 * "Missing '<' at beginning of path", "Null path not allowed", ... */
int smtp_path_parse(pool_t pool, const char *str, bool allow_null,
		    struct smtp_address *addr_r, const char **rest_r,
		    const char **error_r);
/* The address back as text: local@domain, with the local part quoted
 * when it needs to be; "" for the null path. */
const char *smtp_address_encode(pool_t pool, const struct smtp_address *addr);

/* Result of parameter parsing: OK, a syntax error (501) or a
 * parameter the server doesn't offer (555). */
enum smtp_param_result {
	SMTP_PARAM_OK = 0,
	SMTP_PARAM_INVALID = -1,
	SMTP_PARAM_UNSUPPORTED = -2,
};

/* MAIL FROM parameters ("SIZE=10 BODY=8BITMIME"), allowed by caps. */
enum smtp_param_result
smtp_params_mail_parse(pool_t pool, const char *args,
		       enum smtp_capability caps,
		       struct smtp_params_mail *params_r,
		       const char **error_r);
/* RCPT TO parameters (NOTIFY, ORCPT with DSN). */
enum smtp_param_result
smtp_params_rcpt_parse(pool_t pool, const char *args,
		       enum smtp_capability caps,
		       struct smtp_params_rcpt *params_r,
		       const char **error_r);

/* RFC 3461 xtext: "+2B" is '+'. -1 for a bad escape or a character
 * outside xtext (including NUL as "+00"). */
int smtp_xtext_decode(pool_t pool, const char *xtext, size_t len,
		      const char **value_r);
void smtp_xtext_encode(string_t *dest, const char *value);

/* A reply: "code enh text" with CRLF; text lines split at '\n' give a
 * multi-line reply (every line carries the codes). enh may be NULL or
 * "" (no enhanced code). code must be 200..599. */
void smtp_reply_append(string_t *dest, unsigned int code, const char *enh,
		       const char *text);

/* A numeric argument: digits only, no sign, fits in uint64_t. */
int smtp_parse_uint64(const char *str, size_t len, uint64_t *num_r);

#endif

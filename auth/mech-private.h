/* mech-private.h - what the mechanism files (mech-*.c) share: the module
 * table entries, and the helpers through which every mechanism talks to
 * its caller so that the request state is kept in one place (mech.c). */
#ifndef ROOST_MECH_PRIVATE_H
#define ROOST_MECH_PRIVATE_H

#include "mech.h"
#include "str.h"

extern const struct mech_module mech_plain;
extern const struct mech_module mech_login;
extern const struct mech_module mech_cram_md5;
extern const struct mech_module mech_digest_md5;
extern const struct mech_module mech_scram_sha1;
extern const struct mech_module mech_scram_sha1_plus;
extern const struct mech_module mech_scram_sha256;
extern const struct mech_module mech_scram_sha256_plus;
extern const struct mech_module mech_external;
extern const struct mech_module mech_anonymous;

/* First thing in auth_initial / auth_continue: checks the state and the
 * size bound (failing or ignoring as mech.h says). Returns false if the
 * mechanism must return at once. */
bool mech_req_input_initial(struct mech_request *req, size_t size);
bool mech_req_input_continue(struct mech_request *req, size_t size);

/* auth_initial of mechanisms whose first message comes from the client:
 * no initial response → empty challenge; else auth_continue(data). */
void mech_generic_auth_initial(struct mech_request *req,
			       const unsigned char *data, size_t size);

/* The calls to the caller. Each of the last five may end the request
 * (even synchronously): call them last, touch req no more. */
bool mech_req_set_username(struct mech_request *req, const char *username,
			   const char *authzid, bool strip_login_prefix);
void mech_req_reply_continue(struct mech_request *req, const void *data,
			     size_t size);
void mech_req_verify_plain(struct mech_request *req, const char *password);
void mech_req_lookup_credentials(struct mech_request *req,
				 const char *scheme);
void mech_req_success(struct mech_request *req, const void *data,
		      size_t size);
void mech_req_fail(struct mech_request *req);
void mech_req_internal_failure(struct mech_request *req);

/* Log a line for this request; user NULL = req->username. */
void mech_req_log(struct mech_request *req, enum log_type type,
		  const char *user, const char *fmt, ...) ATTR_FORMAT(4, 5);
#define mech_req_info(req, ...) \
	mech_req_log((req), LOG_TYPE_INFO, NULL, __VA_ARGS__)
#define mech_req_error(req, ...) \
	mech_req_log((req), LOG_TYPE_ERROR, NULL, __VA_ARGS__)

/* Fill buf with random bytes (getrandom; fatal if the kernel can't). */
void mech_random_fill(void *buf, size_t size);
/* Copy of data[0..size) as a C string from the pool; NULL if the data
 * holds a NUL. */
char *mech_strndup_nonul(pool_t pool, const unsigned char *data,
			 size_t size);
/* Printable form of untrusted text for a log line: control bytes become
 * '?', at most max bytes kept ("..." appended when cut). */
const char *mech_sanitize(pool_t pool, const char *text, size_t max);
/* Lower-case hex of size bytes, into out (2 * size + 1 bytes). */
void mech_hex(const unsigned char *data, size_t size, char *out);

#endif

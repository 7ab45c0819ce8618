/* suites.h - every Check suite of the unit tests, and the small helpers
 * they share (log capture, temporary files, config parsing). */
#ifndef ROOST_TEST_SUITES_H
#define ROOST_TEST_SUITES_H

#include <check.h>

#include "lib.h"
#include "config-parser.h"

Suite *make_str_suite(void);
Suite *make_pool_suite(void);
Suite *make_array_suite(void);
Suite *make_hash_suite(void);
Suite *make_log_suite(void);
Suite *make_net_suite(void);
Suite *make_haproxy_suite(void);
Suite *make_fdpass_suite(void);
Suite *make_sd_listen_suite(void);
Suite *make_tls_suite(void);
Suite *make_config_value_suite(void);
Suite *make_config_parser_suite(void);
Suite *make_config_filter_suite(void);
Suite *make_config_yaml_suite(void);
Suite *make_var_expand_suite(void);
Suite *make_config_bind_suite(void);
Suite *make_base64_suite(void);
Suite *make_mech_suite(void);
Suite *make_auth_db_suite(void);
Suite *make_password_scheme_suite(void);
Suite *make_ioloop_suite(void);
Suite *make_connection_suite(void);
Suite *make_auth_request_suite(void);
Suite *make_message_parser_suite(void);
Suite *make_message_header_suite(void);
Suite *make_message_section_suite(void);
Suite *make_imap_bodystructure_suite(void);
Suite *make_qp_suite(void);
Suite *make_charset_suite(void);
Suite *make_auth_cache_suite(void);
Suite *make_auth_policy_suite(void);
Suite *make_file_lock_suite(void);
Suite *make_mbox_suite(void);
Suite *make_mail_plugins_suite(void);
Suite *make_acl_suite(void);
Suite *make_mail_storage_suite(void);
Suite *make_mail_search_suite(void);
Suite *make_imap_parser_suite(void);
Suite *make_mail_preview_suite(void);
Suite *make_imap_base_subject_suite(void);
Suite *make_unicode_casemap_suite(void);
Suite *make_imap_utf8_suite(void);
Suite *make_mail_sort_suite(void);
Suite *make_mail_thread_suite(void);
Suite *make_dialect_suite(void);
Suite *make_smtp_client_suite(void);
Suite *make_submission_suite(void);
Suite *make_imap_urlauth_suite(void);
Suite *make_smtp_syntax_suite(void);
Suite *make_imap_watch_suite(void);

/* ---- test-common.c ---- */

/* Capture log lines instead of writing them: each line is kept, joined
 * with '\n', until test_log_capture_stop(). */
void test_log_capture_start(void);
void test_log_capture_stop(void);
/* All captured lines, each followed by '\n' ("" when none). */
const char *test_log_captured(void);
unsigned int test_log_captured_count(void);
/* Send log lines nowhere (for tests that panic or fail on purpose). */
void test_log_silence(void);

/* A fresh private directory under $TMPDIR (or /tmp), removed with its
 * contents by test_tmpdir_remove(). Returns a static path. */
const char *test_tmpdir_create(void);
void test_tmpdir_remove(void);
/* Write text (len bytes) to dir/name, creating subdirectories; returns
 * the full path (malloc'd, caller frees). */
char *test_write_file(const char *dir, const char *name, const char *text,
		      size_t len);
/* Read a whole file into a malloc'd NUL-terminated buffer. */
char *test_read_file(const char *path, size_t *len_r);

/* Parse text as "t.conf". Returns the config or NULL; the error (or
 * NULL) is copied to a static buffer readable by test_parse_error(). */
struct config *test_parse(const char *text);
struct config *test_parse_flags(const char *text,
				enum config_parse_flags flags);
const char *test_parse_error(void);
/* The global block's value of path, or NULL. */
const char *test_get(struct config *config, const char *path);
/* Parse text that must parse, returning the global value of path as a
 * malloc'd string (or NULL); fails the test otherwise. */
char *test_parse_get(const char *text, const char *path);
/* Parse text that must fail; returns the error (static). */
const char *test_parse_fail(const char *text);

#endif

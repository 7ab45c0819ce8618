/* runner.c - the unit test program: every suite in one SRunner. Run with
 * CK_FORK=yes (make unit) so a crash fails one test, not the run. */
#include "suites.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(make_str_suite());
	int failed;

	srunner_add_suite(sr, make_pool_suite());
	srunner_add_suite(sr, make_array_suite());
	srunner_add_suite(sr, make_hash_suite());
	srunner_add_suite(sr, make_log_suite());
	srunner_add_suite(sr, make_net_suite());
	srunner_add_suite(sr, make_haproxy_suite());
	srunner_add_suite(sr, make_fdpass_suite());
	srunner_add_suite(sr, make_sd_listen_suite());
	srunner_add_suite(sr, make_tls_suite());
	srunner_add_suite(sr, make_config_value_suite());
	srunner_add_suite(sr, make_config_parser_suite());
	srunner_add_suite(sr, make_config_filter_suite());
	srunner_add_suite(sr, make_config_yaml_suite());
	srunner_add_suite(sr, make_dialect_suite());
	srunner_add_suite(sr, make_var_expand_suite());
	srunner_add_suite(sr, make_config_bind_suite());
	srunner_add_suite(sr, make_base64_suite());
	srunner_add_suite(sr, make_mech_suite());
	srunner_add_suite(sr, make_auth_db_suite());
	srunner_add_suite(sr, make_password_scheme_suite());
	srunner_add_suite(sr, make_ioloop_suite());
	srunner_add_suite(sr, make_connection_suite());
	srunner_add_suite(sr, make_auth_request_suite());
	srunner_add_suite(sr, make_message_parser_suite());
	srunner_add_suite(sr, make_message_header_suite());
	srunner_add_suite(sr, make_message_section_suite());
	srunner_add_suite(sr, make_imap_bodystructure_suite());
	srunner_add_suite(sr, make_qp_suite());
	srunner_add_suite(sr, make_charset_suite());
	srunner_add_suite(sr, make_auth_cache_suite());
	srunner_add_suite(sr, make_auth_policy_suite());
	srunner_add_suite(sr, make_file_lock_suite());
	srunner_add_suite(sr, make_mbox_suite());
	srunner_add_suite(sr, make_mail_plugins_suite());
	srunner_add_suite(sr, make_acl_suite());
	srunner_add_suite(sr, make_mail_storage_suite());
	srunner_add_suite(sr, make_mail_search_suite());
	srunner_add_suite(sr, make_imap_parser_suite());
	srunner_add_suite(sr, make_imap_watch_suite());
	srunner_add_suite(sr, make_mail_preview_suite());
	srunner_add_suite(sr, make_imap_base_subject_suite());
	srunner_add_suite(sr, make_unicode_casemap_suite());
	srunner_add_suite(sr, make_imap_utf8_suite());
	srunner_add_suite(sr, make_mail_sort_suite());
	srunner_add_suite(sr, make_mail_thread_suite());
	srunner_add_suite(sr, make_smtp_client_suite());
	srunner_add_suite(sr, make_submission_suite());
	srunner_add_suite(sr, make_imap_urlauth_suite());
	srunner_add_suite(sr, make_smtp_syntax_suite());

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#!/usr/bin/env python3
"""dialect-rows.py TSV > compat/dialect-24-rows.md: the row-by-row
checklist of renames-2.3-2.4.tsv (what covers each row)."""
import re, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
R = [
 # compat/dialect-plugins.c (plugin lists, execute filters, compress ...)
 (r"^event_exporter", "both ways inside event_exporter NAME { }: driver (log, drop, http-post), time_format, http_post_url, http_client_request_timeout; file/unix drivers: error; a 2.3 block without an exact 2.4 form: untranslated", "dialect-plugins.c t24_exporter, dialect_plugins_23_exporter"),
 (r"^apparmor_hat\t", "both ways (apparmor_hat, apparmor_hat2 ... <-> apparmor_hats list or block)", "dialect-plugins.c"),
 (r"^charset_aliases", "both ways (a=b words <-> strlist block)", "dialect-plugins.c"),
 (r"^fts_decoder\t", "both ways (fts_decoder_driver = script + fts_decoder_script_socket_path)", "dialect-plugins.c"),
 (r"^fts_tika", "both ways ([unverified] row: fts_decoder_driver = tika + fts_decoder_tika { url })", "dialect-plugins.c"),
 (r"^fts_enforced", "yes <-> fts_search_add_missing = yes + fts_search_read_fallback = no, no <-> fts_search_read_fallback = yes ([unverified] row); body: untranslated; fts_search_add_missing = no: error", "dialect-plugins.c"),
 (r"^fts_stopwords_workaround", "removed: dropped with a warning by --as 2.4; error in a 2.4 file", "dialect-plugins.c"),
 (r"^fts_header_excludes", "both ways (space list; 2.4 blocks merged with the value before them)", "dialect-plugins.c t24_plugin_boollist"),
 (r"^imap_zlib", "removed: dropped with a warning by --as 2.4 (imap_zlib also from mail_plugins); error in a 2.4 file", "dialect-plugins.c"),
 (r"^zlib plugin", "both ways (zlib <-> mail_compress in mail_plugins; zlib in a 2.4 file: error)", "dialect-plugins.c"),
 (r"^XZ", "zlib_save = xz: kept in roost_untranslated with a warning by --as 2.4; mail_compress_write_method = xz in a 2.4 file: error", "dialect-plugins.c"),
 (r"^quota_over_script", "both ways ([unverified] row: quota_over_status { execute NAME { args } })", "dialect-plugins.c"),
 (r"^quota_set", "removed: dropped with a warning by --as 2.4; error in a 2.4 file", "dialect-plugins.c"),
 (r"^welcome_script", "both ways (welcome { execute NAME { args } }; welcome_wait keeps its name)", "dialect-plugins.c"),
 (r"^push_notification_driver =", "both ways for ox (url, user_from_metadata), dlog and lua (lua_file) ([unverified] row); other ox options: untranslated", "dialect-plugins.c"),
 (r"^mail_crypt_private_key\t", "both ways ([unverified] row: <file <-> crypt_private_key_file)", "dialect-plugins.c"),
 (r"^mail_crypt_save_version", "removed: dropped with a warning by --as 2.4; error in a 2.4 file", "dialect-plugins.c"),
 (r"^pop3_uidl_migrate_format", "removed: dropped with a warning by --as 2.4; error in a 2.4 file", "dialect-plugins.c"),
 (r"^mailbox_alias", "removed: settings and the mail_plugins entry dropped with a warning by --as 2.4; error in a 2.4 file", "dialect-plugins.c"),
 (r"^sieve_subaddress_sep", "[unverified] row: 2.4 has only recipient_delimiter: dropped with a warning when equal to it, else untranslated; error in a 2.4 file", "dialect-plugins.c x24_subaddress"),
 (r"^sieve_editheader_", "both ways (one sieve_editheader_header NAME { } per header; a header both in forbid_add and forbid_delete: untranslated)", "dialect-plugins.c"),
 (r"^sieve_(spam|virus)test_text_value", "both ways (numbered settings <-> strlist)", "dialect-plugins.c"),
 (r"^sieve_vacation_dont_check_recipient", "both ways (inverted)", "dialect-plugins.c"),
 (r"^sieve_vacation_max_subject", "removed: dropped with a warning by --as 2.4; error in a 2.4 file", "dialect-plugins.c"),
 (r"^Sieve extensions", "dropped from sieve_extensions / sieve_global_extensions / sieve_personal_extensions with a warning by --as 2.4; error in a 2.4 file", "dialect-plugins.c"),
 (r"^fts_solr", "both ways: url=, batch_size=, soft_commit=, rawlog_dir= <-> fts solr { url batch_size soft_commit http_client_rawlog_dir }; other options (debug, use_libfts): untranslated", "dialect_fts_24_to_23, dialect_misc_23_to_24 (dialect-shapes.c)"),
 (r"^compiled global Sieve", "nothing to translate (not a setting: recompile the scripts with sievec)", "-"),
 # per-mailbox settings (compat/dialect-mailbox.c)
 (r"^quota_rule", "both ways for *:storage/messages rules; per-mailbox rules NAME:storage=+SIZE / NAME:ignore <-> mailbox NAME { quota_storage_extra quota_ignore } (same rule in every root) or mailbox NAME { quota ROOT { } } (one root), in the inbox namespace (its prefix stripped) or at the top level; other per-mailbox rules (messages, absolute, percent): untranslated", "dialect_quota_24_to_23 / dialect_quota_23_to_24, dialect-mailbox.c"),
 (r"^fts_autoindex_exclude", "both ways: mailbox NAME { fts_autoindex = no }; a mailbox { } with one special_use flag is that flag (\\Trash); fts_autoindex = yes in a mailbox: error", "dialect-mailbox.c"),
 (r"^lazy_expunge_exclude", "both ways: mailbox NAME { lazy_expunge_mailbox = } (empty); another value in a mailbox: error", "dialect-mailbox.c"),
 (r"^notify_status_mailbox", "both ways: mailbox NAME { notify_status = yes } (the example's name; mailbox_notify_status also read)", "dialect-mailbox.c"),
 (r"^trash \(plugin", "both ways: mailbox NAME { trash_priority = N } <-> the priority file (generated BASE_DIR/roost-trash.conf.ext, or a *trash*.conf.ext next to the config saying the same; printed by doveconf -n)", "dialect-mailbox.c, dialect_dbfile_register"),
 (r"^imapsieve_mailbox", "both ways ([unverified] row): mailbox NAME { sieve_script S { type = before or after, cause, driver, path } }, _from as mailbox NAME { imapsieve_from FROM { sieve_script S { } } }; locations with ;parameters: untranslated", "dialect-mailbox.c"),
 (r"^passdb/userdb lua", "both ways (file= and key=value args <-> lua_file, lua_settings { })", "t24_authdb, x24_args"),
 (r"^dovecot-oauth2\.conf\.ext: local_validation_key_dict", "both ways: oauth2_local_validation { dict DRIVER { } } (or oauth2 { local_validation { } }) for file, proxy and redis dicts; other dict URIs (fs:...): args kept (warning), 2.4 dicts without a 2.3 URI: error", "dialect-dbfile.c gen_oauth2_local_validation, export_oauth2"),
 (r"^dovecot-oauth2\.conf\.ext: timeout_msecs", "both ways: oauth2 { http_client_request_timeout http_client_max_idle_time (msecs <-> Nms; 2.4 times with any unit) http_client_max_parallel_connections http_client_max_pipelined_requests http_client_rawlog_dir }; a time without a unit: error", "dialect-dbfile.c oauth2_client_keys"),
 (r"^dovecot-oauth2\.conf\.ext: tls_\*", "both ways: tls_ca_cert_file tls_ca_cert_dir tls_cert_file tls_key_file tls_cipher_suite <-> oauth2 { ssl_client_ca_file ssl_client_ca_dir ssl_client_cert_file ssl_client_key_file ssl_cipher_list }, tls_allow_invalid_cert <-> ssl_client_require_valid_cert inverted", "dialect-dbfile.c oauth2_client_keys"),
 (r"^dovecot-oauth2\.conf\.ext: debug", "both ways: debug = yes <-> log_debug = category=oauth2 (exactly that value, with an oauth2 passdb); a config with its own log_debug keeps the args file (warning); debug = no is the default", "dialect-dbfile.c oauth2_log_debug, export_oauth2"),
 (r"^dovecot-oauth2\.conf\.ext: use_grant_password", "removed: --as 2.4 drops it with a warning naming it; in a 2.4 file an error", "dialect-dbfile.c export_oauth2, gen_oauth2_setting"),
 (r"^dovecot-ldap\.conf\.ext: tls_require_cert", "never <-> no, demand <-> yes, hard -> yes (OpenLDAP's demand and hard are the same); allow and try have no exact 2.4 value (2.4 writes yes as hard and no as never or, in later 2.4 releases, allow): args kept with a warning naming the value", "dialect-dbfile.c export_ldap, gen_ldap_setting"),
 (r"^dovecot-ldap\.conf\.ext: ldaprc_path|userdb_warning_disable", "dropped (no 2.4 setting): an args file with it still matches", "dialect-dbfile.c dropped_keys"),
 (r"^dovecot-sql\.conf\.ext: update_query", "both ways", "dialect-dbfile.c"),
 (r"^submission_max_recipients", "both ways: unlimited is 2.3's 0; 0 an error from 2.4.3 (versioned rule)", "dialect-defaults.c zero_unlimited"),
 (r"^\(none\)\tdovecot_(config|storage)_version", "version lines: read (config version selects defaults) / written", "dialect-24.c dialect_translate_24, dialect_export_24"),
 (r"^plugin \{", "both ways", "t24_root_setting (plugin settings to plugin { }), x24_block plugin branch"),
 (r"^\$name", "both ways", "convert_value ($SET:), x24_values"),
 (r"^key = <path", "both ways; `<` on a 2.4 FILE setting is an error", "renames_root VM_FILE, rename_root_apply"),
 (r"^%|^%%", "both ways (tables); variables with no 2.3 form: error", "vars_* tables, dialect_vars_24_to_23/23_to_24"),
 (r"^mail_location|^namespace \{ location|^userdb/passdb extra field mail=", None, None),
 (r"^namespace|^disable_plaintext|^auth_default_realm|^auth_worker_max|^auth_stats|^auth_debug|^auth_policy|^auth_mech|^auth_realms|^auth_username_format|^master_user_sep", "both ways (or error/untranslated when removed)", "renames_root, gone_in_24, boollists, t24_block"),
 (r"^passdb/userdb (sql|ldap)|^dovecot-(sql|ldap)\.conf\.ext|^(mysql|pgsql|sqlite) connect|^passdb oauth2|^dovecot-oauth2", None, None),
 (r"^passdb|^userdb|^field suffix", "both ways", "t24_authdb, x24_authdb, x24_args, x24_fields"),
 (r"^cassandra connect: ssl_verify", "both ways (none, cert-only, cert-ip); cert-dns: args kept (warning) / error in a 2.4 file", "dialect-dbfile.c cassandra_params"),
 (r"^cassandra connect: ssl_ca", "both ways: cassandra { ssl_client_ca_file ssl_client_cert_file ssl_client_key_file }", "dialect-dbfile.c cassandra_params"),
 (r"^cassandra", "both ways: sql_driver = cassandra, cassandra_hosts, cassandra_<name> (times copied with their unit; 2.3 times without a unit, debug_queries/latency_aware_routing other than =yes: args kept)", "dialect-dbfile.c cassandra_params, cassandra_connect, export_cassandra"),
 (r"^ssl|^verbose_ssl|^imapc_ssl_verify", "both ways (renamed) / removed: error, untranslated", "renames_root, gone_in_24"),
 (r"^last_valid|^mail_sort_max", "both ways: unlimited is 2.3's 0; 0 an error from 2.4.3 (versioned rule)", "dialect-defaults.c zero_unlimited"),
 (r"^mail_cache_fields", "version default applied (2.4.1's long list); --as 2.4 writes 2.4.0 (same default as 2.3)", "dialect-defaults.c rows"),
 (r"^mail_never_cache", "both ways (boollist; defaults unchanged)", "boollists"),
 (r"^mail_access_groups|^mail_attachment_detection|^service imap/pop3|^service auth \{ unix|^service anvil \{ unix|^lazy_expunge_only", "version default applied (2.3 value giving it written when the file leaves it unset); --as 2.4 writes 2.4.0, whose default is 2.3's", "dialect-defaults.c rows"),
 (r"^\(new\) mail_cache_max", "no 2.3 setting: not applied (Roost caches without limit, as 2.3); unlimited/0 dropped, other values warned; 0 an error from 2.4.3; --as 2.4 writes 0", "dialect-defaults.c new_24"),
 (r"^\(new\) auth_allow_weak_schemes", "no 2.3 setting: not applied (weak schemes stay usable, as in 2.3); --as 2.4 writes yes", "dialect-defaults.c new_24"),
 (r"^\(new\) passdb_default_password_scheme", "applied: top-level setting and version default (PLAIN until 2.4.2, CRYPT from 2.4.3) into passwd-file scheme= and the SQL args file's default_pass_scheme; --as 2.4 writes 2.3's CRYPT (passwd-file) / MD5 (sql); ldap: not applied", "dialect-defaults.c, t24_authdb, x24_args, dialect-dbfile.c"),
 (r"^\(2\.3 default", "applied: @mailbox_defaults = english (the built-in group) gives namespace inbox { inbox = yes, mailbox Drafts/Junk/Sent/Trash { special_use } }, with auto = subscribe from 2.4.3; settings after it win; other names: error", "dialect-24.c builtin_mailbox_defaults, expand_groups"),
 (r"^\(LMTP proxy\)", "no 2.3 setting for the proxy's default port; Roost's LMTP does no proxying (lmtp_proxy ignored): nothing to apply", "-"),
 (r"^service ipc|^service director /", "removed: error in a 2.4 file, roost_untranslated in --as 2.4", "services_gone_24"),
 (r"^service dns_client", "nothing to do: 2.3 already names it dns-client", "-"),
 (r"^service auth-worker", "both ways: the defaults (2.3 0 capped by auth_worker_max_count 30, 2.4 30) agree; a 2.4 process_limit over 30 also sets 2.3 auth_worker_max_count; 2.3 auth_worker_max_count equal to process_limit is dropped by --as 2.4, other values untranslated", "dialect-defaults.c auth_worker_24_to_23, dialect_defaults_23_pre"),
 (r"^service anvil \{ chroot|^service lmtp \{ service_count", "version default applied (anvil: every 2.4, chroot and user empty; lmtp: service_count = 1 from 2.4.1); --as 2.4 writes anvil's 2.3 chroot/user", "dialect-defaults.c rows"),
 (r"^service|^default_idle_kill", "both ways", "t24_inner_setting, x24_block SCOPE_SERVICE/LISTENER"),
 (r"^protocols|^listen|^login_|^config_cache|^dict_db_config|^imap_id_log|^imap_capability|^imap_id_send|^import_environment|^doveadm_http|^stats_http", "both ways / removed: error, untranslated", "boollists, strlist_block, gone_in_24"),
 (r"^event_exporter", "not translated", "event_exporter blocks pass through as 2.3 settings (metric/event_exporter SCOPE_OTHER); the transport renames are not applied"),
 (r"^mail_attachment_fs|^fs URI", "both ways: chains of fs NAME { } (wrappers first), with compress { write_method compress_METHOD_level } <-> compress:METHOD:LEVEL: (gz: level 6 by default) and posix { prefix } <-> posix:prefix=; other fs settings, other URI args: error / untranslated [unverified row: 2.4 names fs_compress_write_method, fs_posix_prefix]", "t24_fs_chain, x24_block mail_attachment_fs; dialect-acl.c dialect_fs_24_append, dialect_fs_uri_to_24"),
 (r"^mail_attachment_|^mail_plugins", "both ways", "renames_root, boollists"),
 (r"^mail_attribute_dict", "both ways (file, proxy, redis URIs)", "dialect-shapes.c dialect_dict_*, named filter mail_attribute"),
 (r"^lmtp_address_translate|^old_stats|^director|^replication|^replicator|^mail_replica|^auth_stats", "removed: error in a 2.4 file, roost_untranslated in --as 2.4", "gone_in_24, is_gone_in_24, gone_plugin_24"),
 (r"^imapc_features", "both ways: always-on words added on reading when imapc is used; --as 2.4 drops them, or roost_untranslated when the 2.3 list lacks some", "dialect-defaults.c imapc_features_*"),
 (r"^imapc_max_line_length", "both ways: unlimited is 2.3's 0", "dialect-defaults.c zero_unlimited"),
 (r"^imapc_user", "both ways: %{owner_user} (2.4 default) is 2.3's empty default", "dialect-defaults.c"),
 (r"^pop3c_user", "both ways: the defaults name the same user (%u = %{user}); variables converted", "vars_generic"),
 (r"^imapc_|^pop3c_", "not applied: same name, 2.4 behaviour/default change (imapc features always on, default user) not carried over", "passed through"),
 (r"^deliver_log_format|^dsync_remote_cmd|^imap_logout|^imap_urlauth_logout|^submission_logout|^pop3_logout|^pop3_uidl_format|^login_log_format|^mail_log_prefix|^postmaster_address|^rejection_", "both ways (variables)", "vars_uidl, vars_*_logout, vars_login_*, vars_deliver, vars_rejection"),
 (r"^submission_max_mail_size|^lmtp_user_concurrency_limit", "version default applied", "dialect-defaults.c rows"),
 (r"^acl_shared_dict", "both ways", "dialect_dict_user_24 / named filter acl_sharing_map"),
 (r"^acl \(plugin\)|^acl = vfile", "acl = DRIVER: both ways (acl_driver); acl ID { rights } filters (top level, namespace, namespace/mailbox; rights = -X negative) and acl_global_path (2.4.0-2.4.2) <-> global ACL file (acl = vfile:FILE, registered in-process / one next to the config): both ways when exact (overlapping rules of one identifier, patterns reaching other namespaces: error / untranslated); global ACL dir, vfile options: untranslated", "dialect-acl.c dialect_acl_24_collect/_finish, dialect_acl_23_to_24; mailstore/acl.c via lib/genfile.h"),
 (r"^acl_ignore_namespace", "both ways (namespace { acl_ignore = yes } <-> acl_ignore_namespace[N] = PREFIX, numbered in namespace order; enforced at runtime)", "dialect-acl.c; mailstore/acl.c acl_namespace_ignored"),
 (r"^master_user \(acl", "[unverified] 2.3 plugin master_user (the ACL name without acl_user, honoured at runtime): --as 2.4 drops it with a warning (2.4's acl_user defaults to %{master_user}); a 2.4 file's master_user: error naming acl_user", "dialect-acl.c dialect_acl_23_to_24, gone_in_24"),
 (r"^acl_|^master_user \(acl", "acl_globals_only/defaults_from_inbox/user/groups, acl_anyone (allow/forbid <-> imap_acl_allow_anyone yes/no): both ways", "t24_root_setting plugin path"),
 (r"^apparmor_hat|^charset_aliases", "not translated (untranslated in --as 2.4; the 2.4 forms reach 2.3 plugin { } unchanged)", "gone_plugin_24, shaped"),
 (r"^fts \(plugin\)", "both ways (fts DRIVER { url })", "dialect_fts_24_to_23, dialect_misc_23_to_24"),
 (r"^fts_languages", "both ways", "dialect_language_24_to_23, dialect_misc_23_to_24"),
 (r"^fts_solr", "url= only: both ways; other options: not translated", "dialect_fts_24_to_23"),
 (r"^fts_filters|^fts_tokenizers|^fts_language_config|^fts_index_timeout", "both ways (renamed plugin settings)", "renames_plugin"),
 (r"^fts_", "not translated (untranslated in --as 2.4)", "gone_plugin_24"),
 (r"^imap_zlib|^zlib plugin|^XZ", "not translated (removed)", "-"),
 (r"^zlib_save\t", "both ways", "renames_plugin"),
 (r"^zlib_save_level|^last_login_dict|^notify_status_dict|^quota_clone_dict", None, None),
 (r"^lazy_expunge\t|^listescape_char|^push_notification_backend", "both ways", "renames_plugin"),
 (r"^mailbox_alias|^push_notification_driver =|^welcome_script|^pop3_uidl_migrate|^Sieve extensions|^compiled", "not translated (untranslated in --as 2.4)", "gone_plugin_24, shaped_prefixes"),
 (r"^mail_crypt_global_(private|public)_key", "both ways (<file values)", "dialect_crypt_key_24_to_23, crypt_global_public_key_file, dialect_misc_23_to_24"),
 (r"^mail_crypt_private_key\t", "not translated ([unverified] row; untranslated in --as 2.4)", "gone_plugin_24"),
 (r"^mail_crypt_save_version", "removed: untranslated in --as 2.4", "gone_plugin_24"),
 (r"^mail_crypt", "both ways", "renames_plugin"),
 (r"^mail_lua_script", "both ways", "renames_plugin (mail_lua_lua_file), dialect_misc_23_to_24"),
 (r"^quota \(plugin\)|^quota_warning", "both ways for *:storage/messages rules and storage/messages warnings; per-mailbox rules: see quota_rule", "dialect_quota_24_to_23 / dialect_quota_23_to_24"),
 (r"^quota_over_script|^quota_set|^quota_vsizes", "quota_vsizes: written with the count driver / consumed; quota_over_script, quota_set: untranslated", "dialect-shapes.c, gone_plugin_24"),
 (r"^quota_", "both ways (renamed or same-name plugin settings)", "renames_plugin, t24_root_setting plugin path"),
 (r"^dict \{ NAME = URI", "both ways: file/proxy/redis URIs, and SQL dicts (mysql:, pgsql:, sqlite:, cassandra: FILE <-> dict NAME { driver = sql sql_driver ... dict_map { } }, the dict-sql file generated and printed by doveconf -n); a dict { } with one URI without a 2.4 form stays whole in roost_untranslated", "dialect_dict_24_to_uri, x24_dict_server; dialect-dbfile.c dialect_dict_sql_*"),
 (r"^dict URI (proxy|file|redis)", "both ways", "dialect_dict_uri_to_24, dialect_dict_24_to_uri"),
 (r"^dovecot-dict-sql", "both ways: connect = (as sql args files) and map { pattern table username_field value_field value_type fields { k = $v / ${TYPE:v} } } <-> dict_map PATTERN { sql_table username_field value_field NAME { type } key_field NAME { type value } }, in dict_server and in plugin dicts (quota_clone, mail_attribute ...); value_hexblob and 2.4's expire_field (no counterpart): args kept / error", "dialect-dbfile.c dict_sql_text, gen_dict_map, dialect_dict_sql_uri_to_24"),
 (r"^sieve\t|^sieve_before|^sieve_after|^sieve_default\t|^sieve_default_name|^sieve_discard|^sieve_global\t", "both ways", "dialect_sieve_24_to_23 / dialect_sieve_23_to_24"),
 (r"^sieve_dir|^sieve_global_dir|^sieve_global_path|^sieve_vacation_max_subject", "removed: untranslated in --as 2.4", "gone_plugin_24"),
 (r"^sieve_quota|^sieve_user_log|^sieve_spamtest_max|^sieve_virustest_max|^sieve_variables", "both ways", "renames_plugin"),
 (r"^sieve_max_cpu_time", "version default applied (30s from 2.4.5 when sieve is configured); --as 2.4 writes 2.4.0 (2.3's unlimited)", "dialect-defaults.c rows"),
 (r"^sieve_extensions", "boollist: both ways", "boollists"),
 (r"^sieve_", "not translated (untranslated in --as 2.4)", "gone_plugin_24, shaped_prefixes"),
 (r"^mail_log_events", "both ways", "boollists"),
]
SPECIAL = {
 "mail_location": ("both ways", "loc_params, loc_collect/loc_emit, x24_location"),
 "namespace { location }": ("both ways", "t24_block SCOPE_NAMESPACE, x24_location"),
 "userdb/passdb extra field mail=": ("both ways: userdb fields { mail_driver mail_path mail_*_path ... } <-> 2.3 field mail=; at run time the mail processes build the location from such fields returned by a userdb (passwd-file userdb_mail_path=, prefetch)", "t24_authdb field_loc_*, x24_field_location, mailstore/mail-user.c location_from_fields"),
 "zlib_save_level": ("both ways ([unverified] row: compress_<method>_level of the zlib_save method)", "dialect-plugins.c"),
 "last_login_dict": ("both ways (file, proxy, redis)", "dialect_dict_user_24, named filter last_login"),
 "notify_status_dict": ("both ways (file, proxy, redis)", "dialect_dict_user_24, named filter notify_status"),
 "quota_clone_dict": ("both ways (file, proxy, redis)", "dialect_dict_user_24, named filter quota_clone"),
}
out = ["# renames-2.3-2.4.tsv, row by row", "",
       "Generated by scripts/dialect-rows.py from ../shared/reference/renames-2.3-2.4.tsv;",
       "each row: what Roost does with it and the code that does it",
       "(compat/dialect-24.c unless named). \"both ways\": 2.4 -> 2.3 when",
       "reading a 2.4 file and 2.3 -> 2.4 in `doveconf -n --as 2.4`.", "",
       "| 2.3 name | status | code |", "| --- | --- | --- |"]
left = 0
for cols in rows:
    line = "\t".join(cols)
    k = cols[0]
    st = code = None
    for key, v in SPECIAL.items():
        if k.startswith(key) and (key != "mail_location" or k == "mail_location" or k.startswith("mail_location :")):
            st, code = v
            if k.startswith("mail_location :"):
                st, code = "both ways", "loc_params (mail_location parameters)"
            break
    if st is None:
        for rx, s, c in R:
            if re.search(rx, line):
                st, code = s, c
                break
    if st is None and re.search(r"sql|ldap|oauth2|mysql|pgsql|sqlite", k):
        st, code = "both ways", "dialect-dbfile.c"
        if "cassandra" in k or "update_query" in k and False:
            pass
    if st is None:
        st, code = "?", "?"
        left += 1
    out.append("| %s | %s | %s |" % (k.replace("|", "\\|"), st, code))
print("\n".join(out))
sys.stderr.write("unclassified: %d\n" % left)

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
 (r"^dovecot-oauth2\.conf\.ext: (local_validation_key_dict|timeout_msecs|tls_\*|debug|use_grant_password)", "not translated: an oauth2 args file with it stays in 2.3 form (args kept, warning); the 2.4 settings are an error", "dialect-dbfile.c export_oauth2"),
 (r"^dovecot-ldap\.conf\.ext: tls_require_cert", "never/demand both ways; allow/try: args kept (warning)", "dialect-dbfile.c"),
 (r"^dovecot-ldap\.conf\.ext: ldaprc_path|userdb_warning_disable", "dropped (no 2.4 setting): an args file with it still matches", "dialect-dbfile.c dropped_keys"),
 (r"^dovecot-sql\.conf\.ext: update_query", "both ways", "dialect-dbfile.c"),
 (r"^submission_max_recipients", "0 -> unlimited rule of 2.4.3+ not applied (versioned default)", "-"),
 (r"^\(none\)\tdovecot_(config|storage)_version", "version lines: read (config version selects defaults) / written", "dialect-24.c dialect_translate_24, dialect_export_24"),
 (r"^plugin \{", "both ways", "t24_root_setting (plugin settings to plugin { }), x24_block plugin branch"),
 (r"^\$name", "both ways", "convert_value ($SET:), x24_values"),
 (r"^key = <path", "both ways; `<` on a 2.4 FILE setting is an error", "renames_root VM_FILE, rename_root_apply"),
 (r"^%|^%%", "both ways (tables); variables with no 2.3 form: error", "vars_* tables, dialect_vars_24_to_23/23_to_24"),
 (r"^mail_location|^namespace \{ location|^userdb/passdb extra field mail=", None, None),
 (r"^namespace|^disable_plaintext|^auth_default_realm|^auth_worker_max|^auth_stats|^auth_debug|^auth_policy|^auth_mech|^auth_realms|^auth_username_format|^master_user_sep", "both ways (or error/untranslated when removed)", "renames_root, gone_in_24, boollists, t24_block"),
 (r"^passdb/userdb (sql|ldap)|^dovecot-(sql|ldap)\.conf\.ext|^(mysql|pgsql|sqlite) connect|^passdb oauth2|^dovecot-oauth2", None, None),
 (r"^passdb|^userdb|^field suffix", "both ways", "t24_authdb, x24_authdb, x24_args, x24_fields"),
 (r"^cassandra", "not translated", "no cassandra SQL driver settings are read: error at the line (sql_driver = cassandra has no 2.3 form here)"),
 (r"^ssl|^verbose_ssl|^imapc_ssl_verify", "both ways (renamed) / removed: error, untranslated", "renames_root, gone_in_24"),
 (r"^last_valid|^mail_sort_max|^mail_cache_fields|^mail_never_cache|^mail_access_groups|^mail_attachment_detection|^\(new\)|^\(2\.3 default|^service imap/pop3|^service auth \{ unix|^service anvil \{ unix|^\(LMTP proxy\)|^lazy_expunge_only", "not applied: version-dependent 2.4 default (README: only lmtp_user_concurrency_limit and submission_max_mail_size are)", "-"),
 (r"^service ipc|^service director /", "removed: error in a 2.4 file, roost_untranslated in --as 2.4", "services_gone_24"),
 (r"^service dns_client", "nothing to do: 2.3 already names it dns-client", "-"),
 (r"^service auth-worker|^service anvil \{ chroot|^service lmtp \{ service_count", "2.4 default change not applied (versioned/changed default)", "-"),
 (r"^service|^default_idle_kill", "both ways", "t24_inner_setting, x24_block SCOPE_SERVICE/LISTENER"),
 (r"^protocols|^listen|^login_|^config_cache|^dict_db_config|^imap_id_log|^imap_capability|^imap_id_send|^import_environment|^doveadm_http|^stats_http", "both ways / removed: error, untranslated", "boollists, strlist_block, gone_in_24"),
 (r"^event_exporter", "not translated", "event_exporter blocks pass through as 2.3 settings (metric/event_exporter SCOPE_OTHER); the transport renames are not applied"),
 (r"^mail_attachment_fs|^fs URI", "both ways: chains of fs NAME { } (wrappers first), with compress { write_method compress_METHOD_level } <-> compress:METHOD:LEVEL: (gz: level 6 by default) and posix { prefix } <-> posix:prefix=; other fs settings, other URI args: error / untranslated [unverified row: 2.4 names fs_compress_write_method, fs_posix_prefix]", "t24_fs_chain, x24_block mail_attachment_fs; dialect-acl.c dialect_fs_24_append, dialect_fs_uri_to_24"),
 (r"^mail_attachment_|^mail_plugins", "both ways", "renames_root, boollists"),
 (r"^mail_attribute_dict", "both ways (file, proxy, redis URIs)", "dialect-shapes.c dialect_dict_*, named filter mail_attribute"),
 (r"^lmtp_address_translate|^old_stats|^director|^replication|^replicator|^mail_replica|^auth_stats", "removed: error in a 2.4 file, roost_untranslated in --as 2.4", "gone_in_24, is_gone_in_24, gone_plugin_24"),
 (r"^imapc_|^pop3c_", "not applied: same name, 2.4 behaviour/default change (imapc features always on, default user) not carried over", "passed through"),
 (r"^deliver_log_format|^dsync_remote_cmd|^imap_logout|^imap_urlauth_logout|^submission_logout|^pop3_logout|^pop3_uidl_format|^login_log_format|^mail_log_prefix|^postmaster_address|^rejection_", "both ways (variables)", "vars_uidl, vars_*_logout, vars_login_*, vars_deliver, vars_rejection"),
 (r"^submission_max_mail_size|^lmtp_user_concurrency_limit", "version default applied", "defaults_24"),
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
 (r"^dict \{ NAME = URI", "file/proxy/redis URIs: both ways; sql dicts (args file + maps): not translated", "dialect_dict_24_to_uri, x24_dict_server"),
 (r"^dict URI (proxy|file|redis)", "both ways", "dialect_dict_uri_to_24, dialect_dict_24_to_uri"),
 (r"^dovecot-dict-sql", "not translated (dict_map blocks: error; 2.3 sql dicts stay untranslated)", "-"),
 (r"^sieve\t|^sieve_before|^sieve_after|^sieve_default\t|^sieve_default_name|^sieve_discard|^sieve_global\t", "both ways", "dialect_sieve_24_to_23 / dialect_sieve_23_to_24"),
 (r"^sieve_dir|^sieve_global_dir|^sieve_global_path|^sieve_vacation_max_subject", "removed: untranslated in --as 2.4", "gone_plugin_24"),
 (r"^sieve_quota|^sieve_user_log|^sieve_spamtest_max|^sieve_virustest_max|^sieve_variables", "both ways", "renames_plugin"),
 (r"^sieve_extensions|^sieve_max_cpu_time", "boollist: both ways; sieve_max_cpu_time default (2.4.5) not applied", "boollists"),
 (r"^sieve_", "not translated (untranslated in --as 2.4)", "gone_plugin_24, shaped_prefixes"),
 (r"^mail_log_events", "both ways", "boollists"),
]
SPECIAL = {
 "mail_location": ("both ways", "loc_params, loc_collect/loc_emit, x24_location"),
 "namespace { location }": ("both ways", "t24_block SCOPE_NAMESPACE, x24_location"),
 "userdb/passdb extra field mail=": ("not translated (userdb fields pass through unchanged)", "-"),
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

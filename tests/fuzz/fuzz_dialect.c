/* fuzz_dialect.c - libFuzzer harness for the Dovecot 1.x and 2.4
 * dovecot.conf translation (compat/dialect.c, dialect-24.c): arbitrary
 * bytes translated as a 2.4 file when they start with
 * dovecot_config_version, else as a 1.x file; what translates is parsed
 * by the 2.3 reader; the same bytes also go through the 2.3 -> 2.4
 * export (`doveconf -n --as 2.4`), and its output back through the 2.4
 * translation. Then the bytes stand for a 2.3 args file (SQL, LDAP,
 * OAuth2 passdb/userdb and dovecot-dict-sql.conf.ext) named by a fixed
 * 2.3 config that goes through the export and back
 * (compat/dialect-dbfile.c). */
#include "lib.h"
#include "str.h"
#include "config-parser.h"
#include "dialect.h"

#include <stdlib.h>

static void quiet(enum log_type type ATTR_UNUSED, const char *line ATTR_UNUSED,
		  void *context ATTR_UNUSED)
{
}

static void parse23(const char *text, enum config_dialect dialect)
{
	struct config *config;
	const char *error;

	if (config_parse_string("fuzz.conf", text, CONFIG_PARSE_LINE_MARKERS |
				(dialect == CONFIG_DIALECT_24 ?
				 CONFIG_PARSE_NO_OBSOLETE : 0),
				&config, &error) == 0 || config != NULL)
		config_free(&config);
}

/* a 2.3 config whose dbs and dicts all name the fuzzed args file */
static const char dbfile_conf[] =
	"passdb {\n  driver = sql\n  args = /fuzz/args.conf.ext\n}\n"
	"userdb {\n  driver = sql\n  args = /fuzz/args.conf.ext\n}\n"
	"passdb {\n  driver = ldap\n  args = /fuzz/args.conf.ext\n}\n"
	"userdb {\n  driver = ldap\n  args = /fuzz/args.conf.ext\n}\n"
	"passdb {\n  driver = oauth2\n  args = /fuzz/args.conf.ext\n}\n"
	"dict {\n  q = mysql:/fuzz/args.conf.ext\n"
	"  c = cassandra:/fuzz/args.conf.ext\n}\n"
	"plugin {\n  quota_clone_dict = sqlite:/fuzz/args.conf.ext\n}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t pool;
	enum config_dialect dialect;
	const char *text23, *error;
	string_t *out;
	char *text;

	/* includes would read the fuzzer's own files: not wanted */
	if (size > 64 * 1024 || memmem(data, size, "!include", 8) != NULL)
		return 0;
	log_set_capture(quiet, NULL);
	text = i_strndup((const char *)data, size);
	pool = pool_create("fuzz dialect", 16 * 1024);
	dialect = strstr(text, "dovecot_config_version") != NULL ?
		CONFIG_DIALECT_24 : CONFIG_DIALECT_1X;
	if (dialect_translate_string(pool, "fuzz.conf", text, dialect,
				     &text23, &error) == 0)
		parse23(text23, dialect);
	out = str_new(4096);
	if (dialect_export_24(pool, text, out, &error) == 0 &&
	    dialect_translate_string(pool, "fuzz.conf", str_c(out),
				     CONFIG_DIALECT_24, &text23, &error) == 0)
		parse23(text23, CONFIG_DIALECT_24);
	str_free(&out);

	/* the bytes as an args file */
	dialect_dbfile_reset();
	dialect_dbfile_add("/fuzz/args.conf.ext", text);
	out = str_new(4096);
	if (dialect_export_24(pool, dbfile_conf, out, &error) == 0 &&
	    dialect_translate_string(pool, "fuzz.conf", str_c(out),
				     CONFIG_DIALECT_24, &text23, &error) == 0)
		parse23(text23, CONFIG_DIALECT_24);
	str_free(&out);
	dialect_dbfile_reset();
	pool_destroy(&pool);
	free(text);
	return 0;
}

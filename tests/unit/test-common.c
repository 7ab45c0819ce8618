/* test-common.c - helpers shared by the unit test suites: log capture,
 * scratch directories and one-line config parsing. */
#include "suites.h"
#include "str.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static string_t *captured;
static unsigned int captured_count;

static void capture_line(enum log_type type ATTR_UNUSED, const char *line,
			 void *context ATTR_UNUSED)
{
	str_append(captured, line);
	str_append_c(captured, '\n');
	captured_count++;
}

void test_log_capture_start(void)
{
	if (captured == NULL)
		captured = str_new(256);
	str_clear(captured);
	captured_count = 0;
	log_set_capture(capture_line, NULL);
}

void test_log_capture_stop(void)
{
	log_set_capture(NULL, NULL);
	str_free(&captured);
	captured_count = 0;
}

const char *test_log_captured(void)
{
	return captured == NULL ? "" : str_c(captured);
}

unsigned int test_log_captured_count(void)
{
	return captured_count;
}

static void drop_line(enum log_type type ATTR_UNUSED,
		      const char *line ATTR_UNUSED, void *context ATTR_UNUSED)
{
}

void test_log_silence(void)
{
	log_set_capture(drop_line, NULL);
}

static char tmpdir_path[4096];

const char *test_tmpdir_create(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(tmpdir_path, sizeof(tmpdir_path), "%s/roost-unit.XXXXXX",
		 base);
	ck_assert_msg(mkdtemp(tmpdir_path) != NULL, "mkdtemp(%s): %s",
		      tmpdir_path, strerror(errno));
	return tmpdir_path;
}

static void remove_tree(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *d;

	if (dir == NULL) {
		(void)unlink(path);
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		char *sub;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		sub = i_strdup_printf("%s/%s", path, d->d_name);
		remove_tree(sub);
		free(sub);
	}
	closedir(dir);
	(void)rmdir(path);
}

void test_tmpdir_remove(void)
{
	if (tmpdir_path[0] != '\0')
		remove_tree(tmpdir_path);
	tmpdir_path[0] = '\0';
}

char *test_write_file(const char *dir, const char *name, const char *text,
		      size_t len)
{
	char *path = i_strdup_printf("%s/%s", dir, name);
	FILE *f;

	/* create the parent directories of name */
	for (char *p = path + strlen(dir) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(path, 0700);
		*p = '/';
	}
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "fopen(%s): %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

char *test_read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "r");
	string_t *str = str_new(1024);
	char buf[4096];
	size_t n;

	ck_assert_msg(f != NULL, "fopen(%s): %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		str_append_n(str, buf, n);
	fclose(f);
	if (len_r != NULL)
		*len_r = str_len(str);
	return str_free_without_data(&str);
}

static char parse_error[8192];

struct config *test_parse_flags(const char *text,
				enum config_parse_flags flags)
{
	struct config *config = NULL;
	const char *error = NULL;
	int ret;

	parse_error[0] = '\0';
	ret = config_parse_string("t.conf", text, flags, &config, &error);
	if (ret < 0) {
		ck_assert_ptr_nonnull(error);
		snprintf(parse_error, sizeof(parse_error), "%s", error);
		config_free(&config);
		return NULL;
	}
	ck_assert_ptr_nonnull(config);
	return config;
}

struct config *test_parse(const char *text)
{
	return test_parse_flags(text, 0);
}

const char *test_parse_error(void)
{
	return parse_error;
}

const char *test_get(struct config *config, const char *path)
{
	return config_node_get(config->blocks[0]->root, path);
}

char *test_parse_get(const char *text, const char *path)
{
	struct config *config = test_parse(text);
	const char *value;
	char *ret;

	ck_assert_msg(config != NULL, "parsing failed: %s", parse_error);
	value = test_get(config, path);
	ret = value == NULL ? NULL : i_strdup(value);
	config_free(&config);
	return ret;
}

const char *test_parse_fail(const char *text)
{
	struct config *config = test_parse(text);

	ck_assert_msg(config == NULL, "parsing unexpectedly succeeded");
	return parse_error;
}

/* fuzz_var_expand.c - libFuzzer harness for the % variable expander:
 * the input up to a NUL byte is the template, what follows is the value
 * of %u and of the %{userdb:...} function. */
#include "lib.h"
#include "str.h"
#include "var-expand.h"

#include <stdlib.h>

static const char *fuzz_value;

static int fuzz_userdb(const char *data, void *context ATTR_UNUSED,
		       const char **value_r, const char **error_r)
{
	switch (data[0]) {
	case '\0':
		return 0;
	case '!':
		*error_r = "userdb failed";
		return -1;
	case '=':
		*value_r = data + 1; /* a value inside data */
		return 1;
	default:
		*value_r = fuzz_value;
		return 1;
	}
}

/* Hash rounds are capped at 100000, which is still too slow for a
 * fuzzer's time limit when a template asks for it many times. */
static bool fuzz_too_slow(const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "rounds=")) != NULL) {
		p += 7;
		while (*p == '0')
			p++;
		if (strspn(p, "0123456789") > 3)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t template_len = nul == NULL ? size : (size_t)(nul - data);
	char *template, *value;
	string_t *dest;
	const char *error = NULL;
	int ret;

	if (size > 8 * 1024) /* templates are short; keeps each run fast */
		return 0;
	template = i_strndup((const char *)data, template_len);
	value = nul == NULL ? i_strdup("dave@example.com") :
		i_strndup((const char *)nul + 1, size - template_len - 1);
	if (fuzz_too_slow(template)) {
		free(template);
		free(value);
		return 0;
	}
	fuzz_value = value;

	const struct var_expand_table table[] = {
		{ 'u', value, "user" },
		{ 'n', "dave", "username" },
		{ 'd', "example.com", "domain" },
		{ 'i', "5000", "uid" },
		{ 'h', NULL, "home" },
		{ 'w', "a\\b\"c'd ", "password" },
		{ '\0', "vm", "hostname" },
		{ '\0', NULL, NULL }
	};
	const struct var_expand_func_table funcs[] = {
		{ "userdb", fuzz_userdb },
		{ NULL, NULL }
	};

	dest = str_new(64);
	ret = var_expand(dest, template, table, funcs, NULL, &error);
	if (ret < -1 || ret > 1 || (ret != 1 && error == NULL))
		abort();
	if (strlen(str_c(dest)) != str_len(dest))
		abort();
	(void)var_has_key(template, 'u', "user");
	str_free(&dest);
	free(template);
	free(value);
	return 0;
}

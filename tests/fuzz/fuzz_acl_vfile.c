/* fuzz_acl_vfile.c - libFuzzer harness for the acl plugin's dovecot-acl
 * parser (mailstore/acl.h): files a mail user may write into his own
 * mailbox directories, read for everyone who looks at a shared one.
 * Every parsed file is written back in the vfile format and parsed
 * again: the second parse must succeed and give the same entries; the
 * rights never carry bits beyond the eleven known ones. The input's
 * first bytes are also fed as IMAP SETACL rights letters, and the whole
 * input as a global ACL file ("<pattern> <id> <rights>" lines) matched
 * against a few mailbox names. */
#include "lib.h"
#include "str.h"
#include "acl.h"

#include <stdlib.h>
#include <string.h>

static void check_same(ARRAY_ACL *a, ARRAY_ACL *b)
{
	if (a->count != b->count)
		abort();
	for (size_t i = 0; i < a->count; i++) {
		const struct acl_entry *x = &a->v[i], *y = &b->v[i];

		if (x->type != y->type || x->neg != y->neg ||
		    x->rights != y->rights)
			abort();
		if ((x->name == NULL) != (y->name == NULL) ||
		    (x->name != NULL && strcmp(x->name, y->name) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ARRAY_ACL entries = ARRAY_INIT, again = ARRAY_INIT;
	char err[256], letters[16];
	unsigned int rights;
	string_t *str;
	char bad;

	if (size > 64 * 1024)
		return 0;
	memcpy(letters, data, MIN(size, sizeof(letters) - 1));
	letters[MIN(size, sizeof(letters) - 1)] = '\0';
	if (acl_rights_parse_imap(letters, &rights, &bad) == 0 &&
	    (rights & ~ACL_ALL_RIGHTS) != 0)
		abort();

	static const char *const vnames[] = { "INBOX", "Pub", "a*b?c", "" };
	for (unsigned int i = 0; i < N_ELEMENTS(vnames); i++) {
		ARRAY_ACL global = ARRAY_INIT;

		if (acl_global_parse((const char *)data, size, vnames[i],
				     &global, err, sizeof(err)) == 0) {
			for (size_t j = 0; j < global.count; j++) {
				if (!global.v[j].global ||
				    (global.v[j].rights & ~ACL_ALL_RIGHTS) != 0)
					abort();
			}
		} else if (strlen(err) == 0) {
			abort();
		}
		acl_entries_free(&global);
	}

	if (acl_vfile_parse((const char *)data, size, &entries, err,
			    sizeof(err)) < 0) {
		if (strlen(err) == 0)
			abort();
		acl_entries_free(&entries);
		return 0;
	}
	acl_entries_sort(&entries);
	str = str_new(256);
	for (size_t i = 0; i < entries.count; i++) {
		if ((entries.v[i].rights & ~ACL_ALL_RIGHTS) != 0)
			abort();
		/* names with whitespace don't survive a line format */
		if (entries.v[i].name != NULL &&
		    strpbrk(entries.v[i].name, " \t\n") != NULL)
			abort();
		acl_entry_write(str, &entries.v[i]);
		str_append_c(str, '\n');
	}
	if (acl_vfile_parse(str_c(str), str_len(str), &again, err,
			    sizeof(err)) < 0)
		abort();
	acl_entries_sort(&again);
	check_same(&entries, &again);
	str_free(&str);
	acl_entries_free(&entries);
	acl_entries_free(&again);
	return 0;
}

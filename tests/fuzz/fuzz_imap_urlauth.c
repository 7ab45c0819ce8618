/* fuzz_imap_urlauth.c - libFuzzer harness for the URLAUTH URL parser
 * (daemon/imap/imap-urlauth.h), which reads URLs from IMAP clients
 * (GENURLAUTH, URLFETCH) and from submission clients (BURL). Checks:
 * every string of a parsed URL is there and inside its limits, a full
 * URL's rump is a prefix of the input and parses again to the same
 * access, and a rump URL re-parsed with a token appended keeps its
 * fields. */
#include "lib.h"
#include "imap-urlauth.h"

#include <stdlib.h>
#include <string.h>

static void check_url(const struct imap_urlauth_url *u, const char *text)
{
	size_t len = strlen(text);

	if (u->userid == NULL || u->host == NULL || u->mailbox == NULL ||
	    u->section == NULL || u->uid == 0)
		abort();
	if (strlen(u->host) > len || strlen(u->mailbox) > len ||
	    strlen(u->section) > len || strlen(u->userid) > len)
		abort();
	if (u->access != NULL) {
		if (u->application == NULL || u->rump == NULL ||
		    strncmp(u->rump, text, strlen(u->rump)) != 0)
			abort();
	}
	if ((u->mech == NULL) != (u->token == NULL))
		abort();
	if (u->token != NULL && strlen(u->token) % 2 != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t pool;
	struct imap_urlauth_url u, u2;
	const char *error;
	char *text;

	if (size > 8192)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	pool = pool_create("fuzz urlauth", 1024);
	if (imap_urlauth_url_parse(pool, text, &u, &error) == 0) {
		check_url(&u, text);
		if (u.access != NULL && u.mech == NULL) {
			const char *full = p_strdup_printf(pool,
				"%s:internal:01%040d", text, 0);

			if (imap_urlauth_url_parse(pool, full, &u2, &error) < 0 ||
			    u2.uid != u.uid || strcmp(u2.rump, u.rump) != 0 ||
			    strcmp(u2.mailbox, u.mailbox) != 0 ||
			    u2.mech == NULL)
				abort();
		}
	} else if (error == NULL || error[0] == '\0') {
		abort();
	}
	pool_destroy(&pool);
	free(text);
	return 0;
}

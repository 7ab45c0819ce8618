/* imap-fetch.h - FETCH items: parsing the item list (macros, BODY[...]
 * sections and partials, with Dovecot's error texts) into the order in
 * which Dovecot answers them. Private to cmd-fetch.c / imap-fetch.c. */
#ifndef ROOST_IMAP_FETCH_H
#define ROOST_IMAP_FETCH_H

#include "imap-common.h"
#include "message-section.h"

enum imap_fetch_type {
	/* "buffered": written first, in request order */
	IMAP_FETCH_UID,
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_SAVEDATE,
	IMAP_FETCH_X_SAVEDATE,
	IMAP_FETCH_X_GUID,
	IMAP_FETCH_X_MAILBOX,
	IMAP_FETCH_MODSEQ,
	/* PREVIEW / SNIPPET (mail-preview.c): name "PREVIEW", or
	   "PREVIEW (FUZZY" / "SNIPPET (FUZZY" closed by a ')' */
	IMAP_FETCH_PREVIEW,
	/* OBJECTID (RFC 8474) */
	IMAP_FETCH_EMAILID,
	IMAP_FETCH_THREADID,
	IMAP_FETCH_X_REAL_UID,
	/* the rest, after the buffered ones, in request order */
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY,
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_SECTION,	/* BODY[..], BINARY[..], RFC822[.TEXT|.HEADER] */
	IMAP_FETCH_BINARY_SIZE,
};
#define IMAP_FETCH_TYPE_BUFFERED(t) ((t) <= IMAP_FETCH_X_REAL_UID)

struct imap_fetch_item {
	enum imap_fetch_type type;
	/* response name: "BODY[HEADER.FIELDS (FROM)]<0>", "RFC822.TEXT" */
	const char *name;
	struct message_section section;
	bool binary;
	bool peek;
	/* RFC822, RFC822.HEADER, RFC822.TEXT: one of each */
	bool rfc822;
	/* <start[.count]> */
	bool partial;
	uint64_t partial_start, partial_count;	/* count UINT64_MAX: to end */
};

struct imap_fetch_request {
	ARRAY(struct imap_fetch_item) items;	/* in answer order */
	/* a non-PEEK body item: \Seen is set */
	bool set_seen;
	bool flags_requested;
	/* items that read the message (or its file's metadata) */
	bool need_mail;
};

/* Parse the fetch att list (atom, macro or list) at args. Returns 0, or
   -1 with *error_r (the BAD text after "Error in IMAP command FETCH: "). */
int imap_fetch_parse(pool_t pool, const struct imap_arg *arg, bool uid,
		     struct imap_fetch_request *req, const char **error_r);
void imap_fetch_request_free(struct imap_fetch_request *req);

#endif

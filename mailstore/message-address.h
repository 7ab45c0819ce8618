/* message-address.h - RFC 5322 address lists (From, To, Cc, ...) parsed
 * the way Dovecot 2.3 parses them for IMAP ENVELOPE: groups, route
 * addresses, comments used as display names, and broken input turned
 * into placeholder addresses instead of errors. */
#ifndef ROOST_MESSAGE_ADDRESS_H
#define ROOST_MESSAGE_ADDRESS_H

#include "lib.h"
#include "pool.h"
#include "str.h"

/* One entry of the list. A group is written as a start entry
   (mailbox = group name, domain = NULL), its members, and an end entry
   with every field NULL — IMAP's own encoding. */
struct message_address {
	struct message_address *next;
	const char *name;	/* display name, or the last comment */
	const char *route;	/* "@a,@b" of <@a,@b:user@host> */
	const char *mailbox;
	const char *domain;
	bool invalid;		/* some part of it could not be parsed */
};

enum message_address_parse_flags {
	/* Put "MISSING_MAILBOX" in place of an absent mailbox (an empty
	   quoted one stays ""), "MISSING_DOMAIN" for an absent or empty
	   domain, "INVALID_ROUTE" for a bad route and
	   "SYNTAX_ERROR" as the domain of a broken <address> (ENVELOPE). */
	MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING = 0x01,
};

/* Parse size bytes of an address header value (unfolded or not).
   Parsing stops at the first address that is not followed by a comma;
   at most max_addresses are returned. Returns NULL for an empty list.
   Everything is allocated from pool. */
struct message_address *
message_address_parse(pool_t pool, const void *data, size_t size,
		      unsigned int max_addresses,
		      enum message_address_parse_flags flags);

/* Append the list back in Dovecot's normalized form, which SEARCH FROM
   etc. match against: "Name <user@host>, <user2@host>" (names with
   specials or blanks quoted, encoded words left as they are). */
void message_address_write(string_t *str,
			   const struct message_address *addr);

#endif

/* net.h - IP addresses and networks (both families) for config filters
 * and access checks. */
#ifndef ROOST_NET_H
#define ROOST_NET_H

#include "lib.h"

#include <netinet/in.h>

struct ip_addr {
	int family; /* 0 = unset, AF_INET, AF_INET6 */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	} u;
};

/* Parse a numeric IPv4/IPv6 address ("[::1]" accepted, "[1.2.3.4]"
 * not: Dovecot takes that for a host name). */
int net_addr2ip(const char *addr, struct ip_addr *ip_r);
/* "ip2addr" text form: 127.0.0.1 or ::1. Static buffer. */
const char *net_ip2addr(const struct ip_addr *ip);
bool net_ip_compare(const struct ip_addr *ip1, const struct ip_addr *ip2);
/* Is ip inside net_ip/bits? Families must match, but an IPv4-mapped
 * IPv6 ip (::ffff:a.b.c.d) counts as its IPv4 address. */
bool net_is_in_network(const struct ip_addr *ip, const struct ip_addr *net_ip,
		       unsigned int bits);
/* "10.0.0.0/8", "::1", "host.example.com" (resolved). Returns -1 with
 * Dovecot's error text: "gethostbyname(HOST) failed: ..." for a name that
 * does not resolve, "Invalid network mask: MASK" (the text after the
 * first '/': decimal digits only, at most 32 or 128). */
int net_parse_range(const char *network, struct ip_addr *ip_r,
		    unsigned int *bits_r, const char **error_r);

#endif

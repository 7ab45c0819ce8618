/* net.c - IP address parsing, printing and network matching. */
#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>

int net_addr2ip(const char *addr, struct ip_addr *ip_r)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(addr);

	memset(ip_r, 0, sizeof(*ip_r));
	/* only IPv6 addresses may be bracketed (as in Dovecot) */
	if (addr[0] == '[' && len > 2 && addr[len - 1] == ']' &&
	    len - 2 < sizeof(buf) && memchr(addr, ':', len) != NULL) {
		memcpy(buf, addr + 1, len - 2);
		buf[len - 2] = '\0';
		addr = buf;
	}
	if (inet_pton(AF_INET, addr, &ip_r->u.ip4) == 1) {
		ip_r->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &ip_r->u.ip6) == 1) {
		ip_r->family = AF_INET6;
		return 0;
	}
	return -1;
}

const char *net_ip2addr(const struct ip_addr *ip)
{
	static char buf[INET6_ADDRSTRLEN];

	if (ip->family == 0 ||
	    inet_ntop(ip->family, &ip->u, buf, sizeof(buf)) == NULL)
		return "";
	return buf;
}

bool net_ip_compare(const struct ip_addr *ip1, const struct ip_addr *ip2)
{
	if (ip1->family != ip2->family)
		return false;
	if (ip1->family == AF_INET)
		return ip1->u.ip4.s_addr == ip2->u.ip4.s_addr;
	if (ip1->family == AF_INET6)
		return memcmp(&ip1->u.ip6, &ip2->u.ip6,
			      sizeof(ip1->u.ip6)) == 0;
	return true;
}

/* ::ffff:a.b.c.d as the IPv4 address it carries. */
static bool net_ipv6_mapped_ipv4(const struct ip_addr *ip,
				 struct ip_addr *ip4_r)
{
	static const unsigned char prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (ip->family != AF_INET6 ||
	    memcmp(ip->u.ip6.s6_addr, prefix, sizeof(prefix)) != 0)
		return false;
	memset(ip4_r, 0, sizeof(*ip4_r));
	ip4_r->family = AF_INET;
	memcpy(&ip4_r->u.ip4, ip->u.ip6.s6_addr + 12, 4);
	return true;
}

bool net_is_in_network(const struct ip_addr *ip, const struct ip_addr *net_ip,
		       unsigned int bits)
{
	const unsigned char *a, *b;
	struct ip_addr ip4;
	unsigned int max;

	/* an IPv4 client seen through an IPv6 socket */
	if (net_ipv6_mapped_ipv4(ip, &ip4))
		ip = &ip4;
	if (ip->family == 0 || ip->family != net_ip->family)
		return false;
	if (ip->family == AF_INET) {
		a = (const unsigned char *)&ip->u.ip4;
		b = (const unsigned char *)&net_ip->u.ip4;
		max = 32;
	} else {
		a = (const unsigned char *)&ip->u.ip6;
		b = (const unsigned char *)&net_ip->u.ip6;
		max = 128;
	}
	if (bits > max)
		bits = max;
	for (unsigned int i = 0; i < bits / 8; i++) {
		if (a[i] != b[i])
			return false;
	}
	if (bits % 8 != 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - bits % 8));

		if ((a[bits / 8] & mask) != (b[bits / 8] & mask))
			return false;
	}
	return true;
}

/* Dovecot's str_to_uint(): decimal digits only, no sign or blanks. */
static bool parse_mask(const char *str, unsigned int max_bits,
		       unsigned int *bits_r)
{
	unsigned int bits = 0;

	if (*str == '\0')
		return false;
	for (; *str != '\0'; str++) {
		if (*str < '0' || *str > '9')
			return false;
		bits = bits * 10 + (unsigned int)(*str - '0');
		if (bits > max_bits)
			return false;
	}
	*bits_r = bits;
	return true;
}

/* A host name in a network: resolved, the first address wins. */
static int net_resolve(const char *host, struct ip_addr *ip_r,
		       const char **error_r)
{
	static char errbuf[512];
	struct addrinfo hints, *ai;
	int ret;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	ret = getaddrinfo(host, NULL, &hints, &ai);
	if (ret != 0) {
		snprintf(errbuf, sizeof(errbuf), "gethostbyname(%s) failed: %s",
			 host, gai_strerror(ret));
		*error_r = errbuf;
		return -1;
	}
	memset(ip_r, 0, sizeof(*ip_r));
	ip_r->family = ai->ai_family;
	if (ai->ai_family == AF_INET)
		ip_r->u.ip4 = ((struct sockaddr_in *)(void *)
			       ai->ai_addr)->sin_addr;
	else
		ip_r->u.ip6 = ((struct sockaddr_in6 *)(void *)
			       ai->ai_addr)->sin6_addr;
	freeaddrinfo(ai);
	return 0;
}

int net_parse_range(const char *network, struct ip_addr *ip_r,
		    unsigned int *bits_r, const char **error_r)
{
	static char errbuf[512];
	char host[256];
	const char *slash = strchr(network, '/');
	size_t hlen = slash == NULL ? strlen(network) :
		(size_t)(slash - network);
	unsigned int max_bits;

	if (hlen >= sizeof(host)) {
		*error_r = "Invalid network";
		return -1;
	}
	memcpy(host, network, hlen);
	host[hlen] = '\0';
	if (net_addr2ip(host, ip_r) < 0 &&
	    net_resolve(host, ip_r, error_r) < 0)
		return -1;
	max_bits = ip_r->family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		*bits_r = max_bits;
		return 0;
	}
	if (!parse_mask(slash + 1, max_bits, bits_r)) {
		snprintf(errbuf, sizeof(errbuf), "Invalid network mask: %s",
			 slash + 1);
		*error_r = errbuf;
		return -1;
	}
	return 0;
}

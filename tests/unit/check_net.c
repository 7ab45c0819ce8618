/* check_net.c - unit tests of lib/net.c: IP parsing, printing and
 * network matching for config filters. */
#include "suites.h"
#include "net.h"

#include <sys/socket.h>

static struct ip_addr ip(const char *addr)
{
	struct ip_addr ip;

	ck_assert_msg(net_addr2ip(addr, &ip) == 0, "net_addr2ip(%s)", addr);
	return ip;
}

static bool in_net(const char *addr, const char *net, unsigned int bits)
{
	struct ip_addr a = ip(addr), n = ip(net);

	return net_is_in_network(&a, &n, bits);
}

START_TEST(test_net_addr2ip_v4)
{
	struct ip_addr a;

	ck_assert_int_eq(net_addr2ip("1.2.3.4", &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_uint_eq(ntohl(a.u.ip4.s_addr), 0x01020304u);
	ck_assert_str_eq(net_ip2addr(&a), "1.2.3.4");
	a = ip("0.0.0.0");
	ck_assert_str_eq(net_ip2addr(&a), "0.0.0.0");
	a = ip("255.255.255.255");
	ck_assert_str_eq(net_ip2addr(&a), "255.255.255.255");
}
END_TEST

START_TEST(test_net_addr2ip_v6)
{
	struct ip_addr a, b;

	ck_assert_int_eq(net_addr2ip("::1", &a), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_str_eq(net_ip2addr(&a), "::1");
	ck_assert_int_eq(net_addr2ip("[::1]", &b), 0);
	ck_assert_int_eq(b.family, AF_INET6);
	ck_assert(net_ip_compare(&a, &b));
	a = ip("2001:DB8:0:0:0:0:0:1");
	ck_assert_str_eq(net_ip2addr(&a), "2001:db8::1");
	a = ip("[2001:db8::42]");
	ck_assert_str_eq(net_ip2addr(&a), "2001:db8::42");
	a = ip("::ffff:1.2.3.4");
	ck_assert_int_eq(a.family, AF_INET6);
	a = ip("::");
	ck_assert_str_eq(net_ip2addr(&a), "::");
}
END_TEST

START_TEST(test_net_ip_compare)
{
	struct ip_addr a = ip("10.0.0.1"), b = ip("10.0.0.1");
	struct ip_addr c = ip("10.0.0.2"), d = ip("::1");
	struct ip_addr unset1, unset2;

	memset(&unset1, 0, sizeof(unset1));
	memset(&unset2, 0, sizeof(unset2));
	ck_assert(net_ip_compare(&a, &b));
	ck_assert(!net_ip_compare(&a, &c));
	ck_assert(!net_ip_compare(&a, &d));
	ck_assert(!net_ip_compare(&a, &unset1));
	ck_assert(net_ip_compare(&unset1, &unset2));
	ck_assert_str_eq(net_ip2addr(&unset1), "");
}
END_TEST

START_TEST(test_net_in_network_v4)
{
	ck_assert(in_net("10.1.2.3", "10.0.0.0", 8));
	ck_assert(in_net("10.255.255.255", "10.0.0.0", 8));
	ck_assert(!in_net("11.0.0.1", "10.0.0.0", 8));
	ck_assert(!in_net("9.255.255.255", "10.0.0.0", 8));
	ck_assert(in_net("1.2.3.4", "1.2.3.4", 32));
	ck_assert(!in_net("1.2.3.5", "1.2.3.4", 32));
	ck_assert(!in_net("1.2.3.3", "1.2.3.4", 32));
	ck_assert(in_net("1.2.3.4", "0.0.0.0", 0));
	ck_assert(in_net("255.255.255.255", "10.0.0.0", 0));
	/* bits that are not a byte boundary */
	ck_assert(in_net("172.16.0.0", "172.16.0.0", 12));
	ck_assert(in_net("172.31.255.255", "172.16.0.0", 12));
	ck_assert(!in_net("172.32.0.0", "172.16.0.0", 12));
	ck_assert(!in_net("172.15.255.255", "172.16.0.0", 12));
	ck_assert(in_net("192.168.1.129", "192.168.1.128", 25));
	ck_assert(!in_net("192.168.1.127", "192.168.1.128", 25));
}
END_TEST

START_TEST(test_net_in_network_v6)
{
	ck_assert(in_net("2001:db8::1", "2001:db8::", 32));
	ck_assert(in_net("2001:db8:ffff:ffff::1", "2001:db8::", 32));
	ck_assert(!in_net("2001:db9::1", "2001:db8::", 32));
	ck_assert(!in_net("2001:db7:ffff::1", "2001:db8::", 32));
	ck_assert(in_net("::1", "::1", 128));
	ck_assert(!in_net("::2", "::1", 128));
	ck_assert(in_net("fe80::1", "::", 0));
	ck_assert(in_net("2001:db8::1", "2001:db8::", 127));
	ck_assert(!in_net("2001:db8::2", "2001:db8::", 127));
	ck_assert(in_net("2001:db8:8000::", "2001:db8:8000::", 33));
	ck_assert(!in_net("2001:db8:7fff::", "2001:db8:8000::", 33));
}
END_TEST

START_TEST(test_net_in_network_families)
{
	/* families must match, even for /0 */
	ck_assert(!in_net("1.2.3.4", "::", 0));
	ck_assert(!in_net("::1", "0.0.0.0", 0));
	ck_assert(!in_net("10.0.0.1", "::ffff:10.0.0.0", 104));
	/* but an IPv4-mapped IPv6 address is its IPv4 address */
	ck_assert(in_net("::ffff:10.0.0.1", "10.0.0.0", 8));
	ck_assert(!in_net("::ffff:11.0.0.1", "10.0.0.0", 8));
	/* (only the address is converted, as in Dovecot) */
	ck_assert(!in_net("::ffff:10.0.0.1", "::ffff:10.0.0.0", 104));
}
END_TEST

START_TEST(test_net_parse_range)
{
	struct ip_addr a;
	unsigned int bits = 99;
	const char *error = NULL;

	ck_assert_int_eq(net_parse_range("10.0.0.0/8", &a, &bits, &error), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_uint_eq(bits, 8);
	ck_assert_str_eq(net_ip2addr(&a), "10.0.0.0");
	ck_assert_int_eq(net_parse_range("1.2.3.4", &a, &bits, &error), 0);
	ck_assert_uint_eq(bits, 32);
	ck_assert_int_eq(net_parse_range("0.0.0.0/0", &a, &bits, &error), 0);
	ck_assert_uint_eq(bits, 0);
	ck_assert_int_eq(net_parse_range("::1", &a, &bits, &error), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_uint_eq(bits, 128);
	ck_assert_int_eq(net_parse_range("2001:db8::/32", &a, &bits, &error),
			 0);
	ck_assert_uint_eq(bits, 32);
	ck_assert_str_eq(net_ip2addr(&a), "2001:db8::");
	ck_assert_int_eq(net_parse_range("10.0.0.0/32", &a, &bits, &error), 0);
	ck_assert_uint_eq(bits, 32);
	ck_assert_int_eq(net_parse_range("::/128", &a, &bits, &error), 0);
	ck_assert_uint_eq(bits, 128);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_net_addr2ip_invalid)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
		"1.2.3.-4", "[::1", "::1]", "[]", "[", ":::", "12345::",
		"2001:db8::g", "::1/128", "1.2.3.4/8", "localhost",
		/* only IPv6 may be bracketed */
		"[1.2.3.4]",
	};
	struct ip_addr a;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		ck_assert_msg(net_addr2ip(bad[i], &a) == -1,
			      "net_addr2ip(\"%s\") accepted", bad[i]);
		ck_assert_int_eq(a.family, 0);
	}
}
END_TEST

START_TEST(test_net_addr2ip_long)
{
	char buf[600];
	struct ip_addr a;

	memset(buf, '1', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	ck_assert_int_eq(net_addr2ip(buf, &a), -1);
	buf[0] = '[';
	buf[sizeof(buf) - 2] = ']';
	ck_assert_int_eq(net_addr2ip(buf, &a), -1);
}
END_TEST

START_TEST(test_net_parse_range_errors)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/abc", "10.0.0.0/8x",
		"10.0.0.0/-1", "::/129", "::1/1000", "10.0.0.0/8/8",
		"10.0.0.0/99999999999999999999",
	};
	struct ip_addr a;
	unsigned int bits;
	const char *error;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		const char *mask = strchr(bad[i], '/') + 1;
		char *expected = i_strdup_printf("Invalid network mask: %s",
						 mask);

		error = NULL;
		ck_assert_msg(net_parse_range(bad[i], &a, &bits, &error) == -1,
			      "net_parse_range(\"%s\") accepted", bad[i]);
		ck_assert_str_eq(error, expected);
		free(expected);
	}
	/* Dovecot's str_to_uint(): no sign, no blanks */
	ck_assert_int_eq(net_parse_range("10.0.0.0/+8", &a, &bits, &error), -1);
	ck_assert_str_eq(error, "Invalid network mask: +8");
	ck_assert_int_eq(net_parse_range("10.0.0.0/ 8", &a, &bits, &error), -1);
	ck_assert_str_eq(error, "Invalid network mask:  8");
}
END_TEST

START_TEST(test_net_parse_range_long_host)
{
	char buf[400];
	struct ip_addr a;
	unsigned int bits;
	const char *error = NULL;

	memset(buf, 'h', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	ck_assert_int_eq(net_parse_range(buf, &a, &bits, &error), -1);
	ck_assert_str_eq(error, "Invalid network");
}
END_TEST

Suite *make_net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_net_addr2ip_v4);
	tcase_add_test(tc, test_net_addr2ip_v6);
	tcase_add_test(tc, test_net_ip_compare);
	tcase_add_test(tc, test_net_in_network_v4);
	tcase_add_test(tc, test_net_in_network_v6);
	tcase_add_test(tc, test_net_in_network_families);
	tcase_add_test(tc, test_net_parse_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_net_addr2ip_invalid);
	tcase_add_test(tc, test_net_addr2ip_long);
	tcase_add_test(tc, test_net_parse_range_errors);
	tcase_add_test(tc, test_net_parse_range_long_host);
	suite_add_tcase(s, tc);
	return s;
}

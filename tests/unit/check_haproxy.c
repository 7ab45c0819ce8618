/* check_haproxy.c - unit tests of lib/haproxy.h: v1 and v2 headers fed
 * whole and one byte at a time (same result, exact consumed length),
 * TLVs, the length bounds, and every malformed case with Dovecot's log
 * text where Dovecot was observed to log one. */
#include "suites.h"
#include "haproxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

struct v2buf {
	unsigned char data[2048];
	size_t len;
};

static void v2_start(struct v2buf *b, unsigned char ver_cmd,
		     unsigned char fam)
{
	memcpy(b->data, sig, sizeof(sig));
	b->data[12] = ver_cmd;
	b->data[13] = fam;
	b->len = 16;
}

static void v2_add(struct v2buf *b, const void *data, size_t len)
{
	ck_assert(b->len + len <= sizeof(b->data));
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void v2_add_tlv(struct v2buf *b, unsigned char type, const void *value,
		       size_t len)
{
	unsigned char hdr[3] = { type, (unsigned char)(len >> 8),
				 (unsigned char)len };

	v2_add(b, hdr, 3);
	v2_add(b, value, len);
}

/* Fill in the length field from what was added. */
static void v2_finish(struct v2buf *b)
{
	size_t len = b->len - 16;

	b->data[14] = (unsigned char)(len >> 8);
	b->data[15] = (unsigned char)len;
}

static void v2_add_inet(struct v2buf *b)
{
	static const unsigned char addrs[12] = {
		10, 9, 8, 7, 10, 0, 0, 1, 0x11, 0x5c, 0x00, 0x8f
	};
	v2_add(b, addrs, sizeof(addrs));
}

/* Feed data whole; then again one byte at a time into a fresh parser
 * and check both agree. Returns the (whole-fed) parser. */
static struct haproxy_parser *
feed(const void *data, size_t len, enum haproxy_result expect,
     size_t expect_consumed)
{
	struct haproxy_parser *whole = haproxy_parser_create();
	struct haproxy_parser *bytes = haproxy_parser_create();
	const unsigned char *p = data;
	enum haproxy_result ret = HAPROXY_NEED_MORE;
	size_t consumed, total = 0, i;

	ck_assert_int_eq(haproxy_parser_feed(whole, data, len, &consumed),
			 expect);
	ck_assert_uint_eq(consumed, expect_consumed);

	for (i = 0; i < len && ret == HAPROXY_NEED_MORE; i++) {
		ret = haproxy_parser_feed(bytes, p + i, 1, &consumed);
		total += consumed;
		if (ret == HAPROXY_NEED_MORE)
			ck_assert_uint_eq(consumed, 1);
	}
	ck_assert_int_eq(ret, expect);
	if (expect == HAPROXY_DONE)
		ck_assert_uint_eq(total, expect_consumed);
	if (expect == HAPROXY_ERROR) {
		ck_assert_str_eq(haproxy_parser_error(bytes),
				 haproxy_parser_error(whole));
	}
	haproxy_parser_free(&bytes);
	return whole;
}

static const char *log_text(struct haproxy_parser *parser, bool eof)
{
	static char buf[512];
	char *text = haproxy_parser_log_text(parser, eof, "127.0.0.1");

	ck_assert_ptr_nonnull(text);
	snprintf(buf, sizeof(buf), "%s", text);
	free(text);
	return buf;
}

/* The parser must fail with exactly Dovecot's log line. */
static void expect_error(const void *data, size_t len, const char *log)
{
	struct haproxy_parser *parser = haproxy_parser_create();
	size_t consumed;

	ck_assert_int_eq(haproxy_parser_feed(parser, data, len, &consumed),
			 HAPROXY_ERROR);
	ck_assert_str_eq(log_text(parser, false), log);
	haproxy_parser_free(&parser);

	/* and the same byte by byte */
	parser = feed(data, len, HAPROXY_ERROR, consumed);
	haproxy_parser_free(&parser);
}

static void expect_v1_error(const char *line, const char *log)
{
	expect_error(line, strlen(line), log);
}

/* ---- Core ---- */

START_TEST(test_v1_tcp4)
{
	const char *hdr = "PROXY TCP4 10.1.2.3 10.0.0.1 5555 143\r\n";
	char input[128];
	struct haproxy_parser *parser;
	const struct haproxy_info *info;

	snprintf(input, sizeof(input), "%sa LOGOUT\r\n", hdr);
	parser = feed(input, strlen(input), HAPROXY_DONE, strlen(hdr));
	info = haproxy_parser_info(parser);
	ck_assert_uint_eq(info->version, 1);
	ck_assert(!info->local);
	ck_assert_int_eq(info->family, AF_INET);
	ck_assert_str_eq(net_ip2addr(&info->remote_ip), "10.1.2.3");
	ck_assert_str_eq(net_ip2addr(&info->local_ip), "10.0.0.1");
	ck_assert_uint_eq(info->remote_port, 5555);
	ck_assert_uint_eq(info->local_port, 143);
	ck_assert_ptr_null(haproxy_parser_log_text(parser, false, "x"));
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v1_tcp6)
{
	const char *hdr = "PROXY TCP6 2001:db8::1 2001:db8::2 5555 0143\r\n";
	struct haproxy_parser *parser;
	const struct haproxy_info *info;

	parser = feed(hdr, strlen(hdr), HAPROXY_DONE, strlen(hdr));
	info = haproxy_parser_info(parser);
	ck_assert_int_eq(info->family, AF_INET6);
	ck_assert_str_eq(net_ip2addr(&info->remote_ip), "2001:db8::1");
	ck_assert_str_eq(net_ip2addr(&info->local_ip), "2001:db8::2");
	/* leading zeros are accepted, as by Dovecot */
	ck_assert_uint_eq(info->local_port, 143);
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v1_unknown)
{
	const char *a = "PROXY UNKNOWN\r\n";
	const char *b = "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n";
	struct haproxy_parser *parser;

	parser = feed(a, strlen(a), HAPROXY_DONE, strlen(a));
	ck_assert(haproxy_parser_info(parser)->local);
	ck_assert_int_eq(haproxy_parser_info(parser)->family, AF_UNSPEC);
	haproxy_parser_free(&parser);
	/* whatever follows UNKNOWN is ignored */
	parser = feed(b, strlen(b), HAPROXY_DONE, strlen(b));
	ck_assert(haproxy_parser_info(parser)->local);
	ck_assert_int_eq(haproxy_parser_info(parser)->remote_ip.family, 0);
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v2_inet)
{
	struct v2buf b;
	struct haproxy_parser *parser;
	const struct haproxy_info *info;
	size_t hdr_len;

	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_finish(&b);
	hdr_len = b.len;
	v2_add(&b, "a LOGOUT\r\n", 10);
	parser = feed(b.data, b.len, HAPROXY_DONE, hdr_len);
	info = haproxy_parser_info(parser);
	ck_assert_uint_eq(info->version, 2);
	ck_assert(!info->local);
	ck_assert_str_eq(net_ip2addr(&info->remote_ip), "10.9.8.7");
	ck_assert_str_eq(net_ip2addr(&info->local_ip), "10.0.0.1");
	ck_assert_uint_eq(info->remote_port, 4444);
	ck_assert_uint_eq(info->local_port, 143);
	ck_assert(!info->ssl_tlv);
	ck_assert_ptr_null(info->authority);
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v2_inet6)
{
	struct v2buf b;
	unsigned char addrs[36];
	struct haproxy_parser *parser;
	const struct haproxy_info *info;

	memset(addrs, 0, sizeof(addrs));
	addrs[0] = 0x20; addrs[1] = 0x01; addrs[15] = 1;
	addrs[16] = 0x20; addrs[17] = 0x01; addrs[31] = 2;
	addrs[32] = 0; addrs[33] = 1; addrs[34] = 0x03; addrs[35] = 0xe1;
	v2_start(&b, 0x21, 0x21);
	v2_add(&b, addrs, sizeof(addrs));
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_DONE, b.len);
	info = haproxy_parser_info(parser);
	ck_assert_int_eq(info->family, AF_INET6);
	ck_assert_str_eq(net_ip2addr(&info->remote_ip), "2001::1");
	ck_assert_str_eq(net_ip2addr(&info->local_ip), "2001::2");
	ck_assert_uint_eq(info->remote_port, 1);
	ck_assert_uint_eq(info->local_port, 993);
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v2_local)
{
	struct v2buf b;
	struct haproxy_parser *parser;

	/* LOCAL: the family byte and any block are ignored */
	v2_start(&b, 0x20, 0x77);
	v2_add(&b, "\1\2\3\4\5", 5);
	v2_finish(&b);
	v2_add(&b, "x", 1);
	parser = feed(b.data, b.len, HAPROXY_DONE, b.len - 1);
	ck_assert(haproxy_parser_info(parser)->local);
	ck_assert_int_eq(haproxy_parser_info(parser)->family, AF_UNSPEC);
	ck_assert_ptr_null(haproxy_parser_log_text(parser, false, "x"));
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v2_unix_unspec_kept)
{
	struct v2buf b;
	unsigned char addrs[216];
	struct haproxy_parser *parser;

	/* Dovecot logs an error and goes on with the real addresses */
	memset(addrs, 0, sizeof(addrs));
	v2_start(&b, 0x21, 0x31);
	v2_add(&b, addrs, sizeof(addrs));
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_DONE, b.len);
	ck_assert(haproxy_parser_info(parser)->local);
	ck_assert_int_eq(haproxy_parser_info(parser)->family, AF_UNIX);
	ck_assert_str_eq(log_text(parser, false),
		"haproxy(v2): Unsupported address family (family=03, "
		"rip=127.0.0.1)");
	haproxy_parser_free(&parser);

	v2_start(&b, 0x21, 0x01);
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_DONE, b.len);
	ck_assert(haproxy_parser_info(parser)->local);
	ck_assert_str_eq(log_text(parser, false),
		"haproxy(v2): Unsupported address family (family=00, "
		"rip=127.0.0.1)");
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v2_tlvs)
{
	struct v2buf b;
	unsigned char ssl[64];
	size_t ssl_len = 0;
	struct haproxy_parser *parser;
	const struct haproxy_info *info;

	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add_tlv(&b, 0x01, "imap", 4);
	v2_add_tlv(&b, 0x02, "mail.example.org", 16);
	v2_add_tlv(&b, 0x04, "\0\0\0", 3);		/* NOOP */
	v2_add_tlv(&b, 0x05, "\0\1\2", 3);		/* unique id */
	v2_add_tlv(&b, 0xe0, "custom", 6);		/* ignored */
	/* SSL: client = SSL|CERT_CONN, verify = 0, version and CN */
	ssl[ssl_len++] = 0x03;
	memset(ssl + ssl_len, 0, 4);
	ssl_len += 4;
	memcpy(ssl + ssl_len, "\x21\x00\x07TLSv1.3", 10);
	ssl_len += 10;
	memcpy(ssl + ssl_len, "\x22\x00\x05" "alice", 8);
	ssl_len += 8;
	v2_add_tlv(&b, 0x20, ssl, ssl_len);
	v2_add_tlv(&b, 0x30, "ns1", 3);
	v2_finish(&b);

	parser = feed(b.data, b.len, HAPROXY_DONE, b.len);
	info = haproxy_parser_info(parser);
	ck_assert_str_eq(info->alpn, "imap");
	ck_assert_str_eq(info->authority, "mail.example.org");
	ck_assert_uint_eq(info->unique_id_len, 3);
	ck_assert_int_eq(memcmp(info->unique_id, "\0\1\2", 3), 0);
	ck_assert(info->ssl_tlv);
	ck_assert(info->ssl);
	ck_assert(info->ssl_client_cert);
	ck_assert(info->ssl_cert_verified);
	ck_assert_str_eq(info->ssl_version, "TLSv1.3");
	ck_assert_str_eq(info->ssl_cn, "alice");
	ck_assert_ptr_null(info->ssl_cipher);
	ck_assert_str_eq(info->netns, "ns1");
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v2_ssl_not_verified)
{
	struct v2buf b;
	struct haproxy_parser *parser;
	const struct haproxy_info *info;

	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	/* client cert sent but verify != 0 */
	v2_add_tlv(&b, 0x20, "\x05\x00\x00\x00\x01", 5);
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_DONE, b.len);
	info = haproxy_parser_info(parser);
	ck_assert(info->ssl);
	ck_assert(info->ssl_client_cert);
	ck_assert(!info->ssl_cert_verified);
	haproxy_parser_free(&parser);
}
END_TEST

/* CRC32C of the whole header with the checksum zeroed, the way haproxy
 * computes it. */
static uint32_t test_crc32c(const unsigned char *data, size_t len)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78 & (0U - (crc & 1)));
	}
	return ~crc;
}

static void v2_build_crc(struct v2buf *b, bool corrupt)
{
	size_t pos;
	uint32_t crc;

	v2_start(b, 0x21, 0x11);
	v2_add_inet(b);
	pos = b->len + 3;
	v2_add_tlv(b, 0x03, "\0\0\0\0", 4);
	v2_finish(b);
	crc = test_crc32c(b->data, b->len) ^ (corrupt ? 1 : 0);
	b->data[pos] = (unsigned char)(crc >> 24);
	b->data[pos + 1] = (unsigned char)(crc >> 16);
	b->data[pos + 2] = (unsigned char)(crc >> 8);
	b->data[pos + 3] = (unsigned char)crc;
}

START_TEST(test_v2_crc32c)
{
	struct v2buf b;
	struct haproxy_parser *parser;

	v2_build_crc(&b, false);
	parser = feed(b.data, b.len, HAPROXY_DONE, b.len);
	haproxy_parser_free(&parser);

	v2_build_crc(&b, true);
	parser = feed(b.data, b.len, HAPROXY_ERROR, b.len);
	ck_assert_str_eq(haproxy_parser_error(parser),
			 "Invalid TLV: CRC32C checksum mismatch");
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_done_is_sticky)
{
	const char *hdr = "PROXY UNKNOWN\r\n";
	struct haproxy_parser *parser = haproxy_parser_create();
	size_t consumed;

	ck_assert_int_eq(haproxy_parser_feed(parser, hdr, strlen(hdr),
					     &consumed), HAPROXY_DONE);
	ck_assert_int_eq(haproxy_parser_feed(parser, "PROXY", 5, &consumed),
			 HAPROXY_DONE);
	ck_assert_uint_eq(consumed, 0);
	haproxy_parser_free(&parser);

	parser = haproxy_parser_create();
	ck_assert_int_eq(haproxy_parser_feed(parser, "GET", 3, &consumed),
			 HAPROXY_ERROR);
	ck_assert_uint_eq(consumed, 0);
	ck_assert_int_eq(haproxy_parser_feed(parser, hdr, strlen(hdr),
					     &consumed), HAPROXY_ERROR);
	ck_assert_uint_eq(consumed, 0);
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_need_more_and_eof)
{
	struct haproxy_parser *parser = haproxy_parser_create();
	size_t consumed;

	ck_assert_int_eq(haproxy_parser_feed(parser, sig, 8, &consumed),
			 HAPROXY_NEED_MORE);
	ck_assert_uint_eq(consumed, 8);
	ck_assert_int_eq(haproxy_parser_feed(parser, "", 0, &consumed),
			 HAPROXY_NEED_MORE);
	ck_assert_str_eq(log_text(parser, true),
		"haproxy: Client disconnected: Failed to read full header "
		"(rip=127.0.0.1)");
	haproxy_parser_free(&parser);
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_v1_longest)
{
	const char *hdr = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	struct haproxy_parser *parser;

	ck_assert_uint_le(strlen(hdr), HAPROXY_V1_MAX_LEN);
	parser = feed(hdr, strlen(hdr), HAPROXY_DONE, strlen(hdr));
	ck_assert_uint_eq(haproxy_parser_info(parser)->local_port, 65535);
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v1_too_long)
{
	char line[300];
	struct haproxy_parser *parser;

	/* no LF within 107 bytes: refused without reading further */
	memset(line, '1', sizeof(line));
	memcpy(line, "PROXY TCP4 ", 11);
	parser = feed(line, sizeof(line), HAPROXY_ERROR, HAPROXY_V1_MAX_LEN);
	ck_assert_str_eq(log_text(parser, false),
		"haproxy: Client disconnected: Too long header "
		"(rip=127.0.0.1)");
	haproxy_parser_free(&parser);

	/* 108 bytes with the CRLF: one too many */
	memset(line, ' ', sizeof(line));
	memcpy(line, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2", 30);
	memcpy(line + 106, "\r\n", 2);
	parser = feed(line, 108, HAPROXY_ERROR, HAPROXY_V1_MAX_LEN);
	ck_assert_str_eq(haproxy_parser_error(parser), "Too long header");
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v2_too_long)
{
	struct v2buf b;
	struct haproxy_parser *parser;
	unsigned char zeros[HAPROXY_V2_MAX_DATA_LEN];

	/* the length alone decides, before the data arrives */
	v2_start(&b, 0x21, 0x11);
	b.data[14] = (HAPROXY_V2_MAX_DATA_LEN + 1) >> 8;
	b.data[15] = (HAPROXY_V2_MAX_DATA_LEN + 1) & 0xff;
	parser = feed(b.data, b.len, HAPROXY_ERROR, 16);
	ck_assert_str_eq(log_text(parser, false),
		"haproxy: Client disconnected: Too long header "
		"(rip=127.0.0.1)");
	haproxy_parser_free(&parser);

	/* exactly the maximum is fine */
	memset(zeros, 0, sizeof(zeros));
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add_tlv(&b, 0x04, zeros, HAPROXY_V2_MAX_DATA_LEN - 12 - 3);
	v2_finish(&b);
	ck_assert_uint_eq(b.len, 16 + HAPROXY_V2_MAX_DATA_LEN);
	parser = feed(b.data, b.len, HAPROXY_DONE, b.len);
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_v2_unique_id_too_long)
{
	struct v2buf b;
	unsigned char id[HAPROXY_UNIQUE_ID_MAX_LEN + 1];
	struct haproxy_parser *parser;

	memset(id, 'x', sizeof(id));
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add_tlv(&b, 0x05, id, sizeof(id));
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_ERROR, b.len);
	ck_assert_str_eq(haproxy_parser_error(parser),
			 "Invalid TLV: Too long value");
	haproxy_parser_free(&parser);
}
END_TEST

START_TEST(test_long_detail_cut)
{
	char line[108];
	struct haproxy_parser *parser;
	char *text;

	/* an address of 60+ characters is cut with "..." in the log */
	memset(line, '1', sizeof(line));
	memcpy(line, "PROXY TCP4 ", 11);
	memcpy(line + 90, " 5.6.7.8 1 2\r\n", 14);
	parser = feed(line, 104, HAPROXY_ERROR, 104);
	text = haproxy_parser_log_text(parser, false, "127.0.0.1");
	ck_assert_ptr_nonnull(strstr(text, "(address=`111111111111111111111111"
				     "1111111111111111111111111111111111111"
				     "111...', rip=127.0.0.1)"));
	free(text);
	haproxy_parser_free(&parser);
}
END_TEST

/* ---- Malformed ---- */

START_TEST(test_bad_signature)
{
	static const char *const cases[] = {
		"GET / HTTP/1.0\r\n\r\n", "PROXX TCP4", "proxy TCP4 ",
		"PROXYTCP4", "\r\n\r\n\x01", "\x16\x03\x01",
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		expect_error(cases[i], strlen(cases[i]),
			     "haproxy: Client disconnected: Failed to read "
			     "valid HAproxy data (rip=127.0.0.1)");
	}
	/* the v2 signature broken at its last byte */
	unsigned char bad[16];
	memcpy(bad, sig, 12);
	bad[11] = 'X';
	expect_error(bad, 12, "haproxy: Client disconnected: Failed to read "
		     "valid HAproxy data (rip=127.0.0.1)");
}
END_TEST

START_TEST(test_v1_malformed)
{
	expect_v1_error("PROXY TCP9 10.1.2.3 10.0.0.1 5555 143\r\n",
		"haproxy(v1): Client disconnected: Unknown proxied protocol "
		"(protocol=`TCP9', rip=127.0.0.1)");
	expect_v1_error("PROXY \r\n",
		"haproxy(v1): Client disconnected: Unknown proxied protocol "
		"(protocol=`', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4\r\n",
		"haproxy(v1): Client disconnected: Field for proxied remote "
		"address is missing (rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3\r\n",
		"haproxy(v1): Client disconnected: Field for proxied local "
		"address is missing (rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1\r\n",
		"haproxy(v1): Client disconnected: Field for proxied remote "
		"port is missing (rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1 5555\r\n",
		"haproxy(v1): Client disconnected: Field for proxied local "
		"port is missing (rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1 5555 143 extra\r\n",
		"haproxy(v1): Client disconnected: Header line has spurius "
		"extra field (field=`extra', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1 5555 143 \r\n",
		"haproxy(v1): Client disconnected: Header line has spurius "
		"extra field (field=`', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4  10.1.2.3 10.0.0.1 5555 143\r\n",
		"haproxy(v1): Client disconnected: Proxied remote address is "
		"invalid (address=`', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP6 10.1.2.3 10.0.0.1 5555 143\r\n",
		"haproxy(v1): Client disconnected: Proxied remote address is "
		"invalid (address=`10.1.2.3', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 ::1 5555 143\r\n",
		"haproxy(v1): Client disconnected: Proxied local address is "
		"invalid (address=`::1', rip=127.0.0.1)");
	/* inet_aton would take "10.1.2"; a proxy never sends it */
	expect_v1_error("PROXY TCP4 10.1.2 10.0.0.1 5555 143\r\n",
		"haproxy(v1): Client disconnected: Proxied remote address is "
		"invalid (address=`10.1.2', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1 99999 143\r\n",
		"haproxy(v1): Client disconnected: Proxied remote port is "
		"invalid (port=`99999', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1 0 143\r\n",
		"haproxy(v1): Client disconnected: Proxied remote port is "
		"invalid (port=`0', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1 5555 +143\r\n",
		"haproxy(v1): Client disconnected: Proxied local port is "
		"invalid (port=`+143', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1 5555 65536\r\n",
		"haproxy(v1): Client disconnected: Proxied local port is "
		"invalid (port=`65536', rip=127.0.0.1)");
	expect_v1_error("PROXY TCP4 10.1.2.3 10.0.0.1 5555 143\n",
		"haproxy(v1): Client disconnected: Header line is not "
		"terminated by CRLF (rip=127.0.0.1)");
	expect_error("PROXY TCP4 10.1.2.3\0 10.0.0.1 5555 143\r\n", 40,
		"haproxy(v1): Client disconnected: Header line contains NUL "
		"(rip=127.0.0.1)");
	/* control bytes are not logged raw */
	expect_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1 \x1b[2J\r\n",
		"haproxy(v1): Client disconnected: Proxied local port is "
		"invalid (port=`?[2J', rip=127.0.0.1)");
}
END_TEST

START_TEST(test_v2_malformed_fixed)
{
	struct v2buf b;

	v2_start(&b, 0x31, 0x11);
	v2_add(&b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy: Client disconnected: "
		     "Unsupported protocol version (version=03, "
		     "rip=127.0.0.1)");
	v2_start(&b, 0x22, 0x11);
	v2_add(&b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "Invalid command (cmd=02, rip=127.0.0.1)");
	v2_start(&b, 0x21, 0x41);
	v2_add(&b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "Unknown address family (family=04, rip=127.0.0.1)");
	v2_start(&b, 0x21, 0x12);
	v2_add_inet(&b);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "Not using TCP (type=02, rip=127.0.0.1)");
	v2_start(&b, 0x21, 0x00);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "Not using TCP (type=00, rip=127.0.0.1)");
	/* a type check comes before the family check, as in Dovecot */
	v2_start(&b, 0x21, 0x42);
	v2_add_inet(&b);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "Not using TCP (type=02, rip=127.0.0.1)");
}
END_TEST

START_TEST(test_v2_truncated_addresses)
{
	struct v2buf b;

	v2_start(&b, 0x21, 0x11);
	v2_add(&b, "\0\0\0\0", 4);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "IPv4 data is incomplete (rip=127.0.0.1)");
	v2_start(&b, 0x21, 0x21);
	v2_add_inet(&b);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "IPv6 data is incomplete (rip=127.0.0.1)");
}
END_TEST

START_TEST(test_v2_bad_tlvs)
{
	struct v2buf b;
	struct haproxy_parser *parser;

	/* TLV header cut short */
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add(&b, "\x02\x00", 2);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "Invalid TLV: Truncated data (type=0x02, "
		     "rip=127.0.0.1)");
	/* value longer than the header */
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add(&b, "\x20\x00\x32\x01", 4);
	v2_finish(&b);
	expect_error(b.data, b.len, "haproxy(v2): Client disconnected: "
		     "Invalid TLV: Truncated data (type=0x20, "
		     "rip=127.0.0.1)");
	/* SSL TLV too short for client+verify */
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add_tlv(&b, 0x20, "\x01\x00", 2);
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_ERROR, b.len);
	ck_assert_str_eq(haproxy_parser_error(parser),
			 "Invalid TLV: Truncated data");
	haproxy_parser_free(&parser);
	/* SSL sub-TLV running past the SSL TLV */
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add_tlv(&b, 0x20, "\x01\0\0\0\0\x22\x00\x09" "abc", 11);
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_ERROR, b.len);
	ck_assert_str_eq(haproxy_parser_error_detail(parser), "type=0x22");
	haproxy_parser_free(&parser);
	/* NUL inside the authority: it would cut a name short */
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add_tlv(&b, 0x02, "good.example\0evil", 17);
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_ERROR, b.len);
	ck_assert_str_eq(haproxy_parser_error(parser),
			 "Invalid TLV: Value contains NUL");
	haproxy_parser_free(&parser);
	/* a second authority */
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add_tlv(&b, 0x02, "a.example", 9);
	v2_add_tlv(&b, 0x02, "b.example", 9);
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_ERROR, b.len);
	ck_assert_str_eq(haproxy_parser_error(parser),
			 "Invalid TLV: Duplicate TLV");
	haproxy_parser_free(&parser);
	/* CRC32C of the wrong size */
	v2_start(&b, 0x21, 0x11);
	v2_add_inet(&b);
	v2_add_tlv(&b, 0x03, "\0\0", 2);
	v2_finish(&b);
	parser = feed(b.data, b.len, HAPROXY_ERROR, b.len);
	ck_assert_str_eq(haproxy_parser_error(parser),
			 "Invalid TLV: Bad length");
	haproxy_parser_free(&parser);
}
END_TEST

Suite *make_haproxy_suite(void)
{
	Suite *s = suite_create("haproxy");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_v1_tcp4);
	tcase_add_test(tc, test_v1_tcp6);
	tcase_add_test(tc, test_v1_unknown);
	tcase_add_test(tc, test_v2_inet);
	tcase_add_test(tc, test_v2_inet6);
	tcase_add_test(tc, test_v2_local);
	tcase_add_test(tc, test_v2_unix_unspec_kept);
	tcase_add_test(tc, test_v2_tlvs);
	tcase_add_test(tc, test_v2_ssl_not_verified);
	tcase_add_test(tc, test_v2_crc32c);
	tcase_add_test(tc, test_done_is_sticky);
	tcase_add_test(tc, test_need_more_and_eof);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_v1_longest);
	tcase_add_test(tc, test_v1_too_long);
	tcase_add_test(tc, test_v2_too_long);
	tcase_add_test(tc, test_v2_unique_id_too_long);
	tcase_add_test(tc, test_long_detail_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_bad_signature);
	tcase_add_test(tc, test_v1_malformed);
	tcase_add_test(tc, test_v2_malformed_fixed);
	tcase_add_test(tc, test_v2_truncated_addresses);
	tcase_add_test(tc, test_v2_bad_tlvs);
	suite_add_tcase(s, tc);
	return s;
}

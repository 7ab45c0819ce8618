/* haproxy.c - incremental PROXY protocol v1/v2 header parser. The header
 * is gathered into a small fixed buffer (never more than its bound), then
 * parsed whole. Error texts are the ones Dovecot logs for the same input. */
#include "haproxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#define V1_SIG "PROXY "
#define V1_SIG_LEN 6
static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
#define V2_HDR_LEN 16
#define V2_BUF_MAX (V2_HDR_LEN + HAPROXY_V2_MAX_DATA_LEN)

#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET 0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX 0x3
#define V2_TRANSPORT_STREAM 0x1
#define V2_ADDR_INET_LEN 12
#define V2_ADDR_INET6_LEN 36
#define V2_ADDR_UNIX_LEN 216

#define PP2_TYPE_ALPN 0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_CRC32C 0x03
#define PP2_TYPE_NOOP 0x04
#define PP2_TYPE_UNIQUE_ID 0x05
#define PP2_TYPE_SSL 0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23
#define PP2_SUBTYPE_SSL_SIG_ALG 0x24
#define PP2_SUBTYPE_SSL_KEY_ALG 0x25
#define PP2_TYPE_NETNS 0x30
#define PP2_CLIENT_SSL 0x01
#define PP2_CLIENT_CERT_CONN 0x02
#define PP2_CLIENT_CERT_SESS 0x04

/* values quoted in error details are cut to this many characters */
#define DETAIL_VALUE_MAX 64

struct haproxy_parser {
	unsigned char buf[V2_BUF_MAX];
	size_t len;
	size_t total;		/* v2: full header length once known */
	unsigned int version;	/* 0 until the signature is recognised */
	enum haproxy_result result;
	const char *error;	/* static text */
	char *error_detail;
	char *warning;		/* DONE, but Dovecot logs an error */
	struct haproxy_info info;
};

struct haproxy_parser *haproxy_parser_create(void)
{
	struct haproxy_parser *parser = i_new(struct haproxy_parser, 1);

	parser->result = HAPROXY_NEED_MORE;
	return parser;
}

static void info_free(struct haproxy_info *info)
{
	i_free(info->alpn);
	i_free(info->authority);
	i_free(info->unique_id);
	i_free(info->netns);
	i_free(info->ssl_version);
	i_free(info->ssl_cn);
	i_free(info->ssl_cipher);
	i_free(info->ssl_sig_alg);
	i_free(info->ssl_key_alg);
}

void haproxy_parser_free(struct haproxy_parser **_parser)
{
	struct haproxy_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	info_free(&parser->info);
	i_free(parser->error_detail);
	i_free(parser->warning);
	free(parser);
}

/* A peer-supplied value made safe to log: control bytes become '?', and
 * it is cut after DETAIL_VALUE_MAX characters with "...". */
static char *detail_value(const char *name, const void *data, size_t len)
{
	const unsigned char *p = data;
	char value[DETAIL_VALUE_MAX + 4];
	size_t i, n = MIN(len, DETAIL_VALUE_MAX);

	for (i = 0; i < n; i++)
		value[i] = p[i] < 0x20 || p[i] >= 0x7f ? '?' : (char)p[i];
	if (len > n) {
		/* @UNSAFE: value has DETAIL_VALUE_MAX + 4 bytes */
		memcpy(value + n, "...", 3);
		n += 3;
	}
	value[n] = '\0';
	return i_strdup_printf("%s=`%s'", name, value);
}

static enum haproxy_result fail(struct haproxy_parser *parser,
				const char *error, char *detail)
{
	parser->result = HAPROXY_ERROR;
	parser->error = error;
	parser->error_detail = detail;
	return HAPROXY_ERROR;
}

static enum haproxy_result fail_hex(struct haproxy_parser *parser,
				    const char *error, const char *name,
				    unsigned int value)
{
	return fail(parser, error, i_strdup_printf("%s=%02x", name, value));
}

/* ---- v1 ---- */

static bool v1_parse_port(const char *str, in_port_t *port_r)
{
	unsigned long value = 0;

	if (*str == '\0')
		return false;
	for (; *str != '\0'; str++) {
		if (*str < '0' || *str > '9')
			return false;
		value = value * 10 + (unsigned long)(*str - '0');
		if (value > 65535)
			return false;
	}
	if (value == 0)
		return false;
	*port_r = (in_port_t)value;
	return true;
}

static bool v1_parse_ip(const char *str, int family, struct ip_addr *ip_r)
{
	memset(ip_r, 0, sizeof(*ip_r));
	/* inet_pton, not inet_aton: "10.1.2" is no address here */
	if (inet_pton(family, str, family == AF_INET ?
		      (void *)&ip_r->u.ip4 : (void *)&ip_r->u.ip6) != 1)
		return false;
	ip_r->family = family;
	return true;
}

/* Split at single spaces (two spaces make an empty field, as Dovecot
 * reads it). Returns the number of fields, at most max. */
static unsigned int v1_split(char *line, char **fields, unsigned int max)
{
	unsigned int count = 0;

	while (count < max) {
		char *sp = strchr(line, ' ');

		fields[count++] = line;
		if (sp == NULL)
			break;
		*sp = '\0';
		line = sp + 1;
	}
	return count;
}

static enum haproxy_result v1_parse(struct haproxy_parser *parser)
{
	static const char *const missing[] = {
		"Field for proxied remote address is missing",
		"Field for proxied local address is missing",
		"Field for proxied remote port is missing",
		"Field for proxied local port is missing",
	};
	static const char *const invalid[] = {
		"Proxied remote address is invalid",
		"Proxied local address is invalid",
		"Proxied remote port is invalid",
		"Proxied local port is invalid",
	};
	struct haproxy_info *info = &parser->info;
	char line[HAPROXY_V1_MAX_LEN + 1], *fields[7];
	size_t len = parser->len - 1; /* without the LF */
	unsigned int count, i;
	int family;

	if (len == 0 || parser->buf[len - 1] != '\r')
		return fail(parser, "Header line is not terminated by CRLF",
			    NULL);
	len--;
	if (memchr(parser->buf, '\0', len) != NULL)
		return fail(parser, "Header line contains NUL", NULL);
	/* @UNSAFE: len < HAPROXY_V1_MAX_LEN, line has one more byte */
	memcpy(line, parser->buf + V1_SIG_LEN, len - V1_SIG_LEN);
	line[len - V1_SIG_LEN] = '\0';

	count = v1_split(line, fields, N_ELEMENTS(fields));
	info->version = 1;
	if (strcmp(fields[0], "UNKNOWN") == 0) {
		/* whatever follows is to be ignored */
		info->local = true;
		info->family = AF_UNSPEC;
		return HAPROXY_DONE;
	}
	if (strcmp(fields[0], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(fields[0], "TCP6") == 0)
		family = AF_INET6;
	else {
		return fail(parser, "Unknown proxied protocol",
			    detail_value("protocol", fields[0],
					 strlen(fields[0])));
	}
	/* field by field, in order, as Dovecot reports them */
	for (i = 1; i <= 4; i++) {
		bool ok;

		if (count <= i)
			return fail(parser, missing[i - 1], NULL);
		ok = i <= 2 ? v1_parse_ip(fields[i], family, i == 1 ?
					  &info->remote_ip : &info->local_ip) :
			v1_parse_port(fields[i], i == 3 ? &info->remote_port :
				      &info->local_port);
		if (!ok) {
			return fail(parser, invalid[i - 1],
				    detail_value(i <= 2 ? "address" : "port",
						 fields[i], strlen(fields[i])));
		}
	}
	if (count > 5) {
		/* Dovecot's spelling, kept for log matching */
		return fail(parser, "Header line has spurius extra field",
			    detail_value("field", fields[5],
					 strlen(fields[5])));
	}
	info->family = family;
	return HAPROXY_DONE;
}

/* Take v1 bytes up to and including the LF. */
static enum haproxy_result v1_feed(struct haproxy_parser *parser,
				   const unsigned char *data, size_t size,
				   size_t *consumed_r)
{
	size_t room = HAPROXY_V1_MAX_LEN - parser->len;
	size_t n = MIN(size, room);
	const unsigned char *lf = memchr(data, '\n', n);

	if (lf != NULL)
		n = (size_t)(lf - data) + 1;
	/* @UNSAFE: n <= HAPROXY_V1_MAX_LEN - len */
	memcpy(parser->buf + parser->len, data, n);
	parser->len += n;
	*consumed_r = n;
	if (lf != NULL)
		return v1_parse(parser);
	if (parser->len == HAPROXY_V1_MAX_LEN) {
		parser->version = 0;
		return fail(parser, "Too long header", NULL);
	}
	return HAPROXY_NEED_MORE;
}

/* ---- v2 ---- */

static uint32_t crc32c(const unsigned char *data, size_t size)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < size; i++) {
		crc ^= data[i];
		for (unsigned int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0x82f63b78 & (0U - (crc & 1)));
	}
	return ~crc;
}

static uint32_t get_be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		((uint32_t)p[2] << 8) | p[3];
}

static unsigned int get_be16(const unsigned char *p)
{
	return ((unsigned int)p[0] << 8) | p[1];
}

static enum haproxy_result tlv_fail(struct haproxy_parser *parser,
				    const char *error, unsigned int type)
{
	return fail(parser, error, i_strdup_printf("type=0x%02x", type));
}

/* Copy a string TLV value; NUL inside is refused, so is a repeat. */
static enum haproxy_result tlv_string(struct haproxy_parser *parser,
				      unsigned int type,
				      const unsigned char *value, size_t len,
				      char **dest)
{
	if (*dest != NULL)
		return tlv_fail(parser, "Invalid TLV: Duplicate TLV", type);
	if (memchr(value, '\0', len) != NULL)
		return tlv_fail(parser, "Invalid TLV: Value contains NUL",
				type);
	*dest = i_strndup((const char *)value, len);
	return HAPROXY_DONE;
}

static enum haproxy_result v2_parse_ssl(struct haproxy_parser *parser,
					const unsigned char *value, size_t len)
{
	struct haproxy_info *info = &parser->info;
	enum haproxy_result ret;
	size_t pos = 5;

	if (info->ssl_tlv)
		return tlv_fail(parser, "Invalid TLV: Duplicate TLV",
				PP2_TYPE_SSL);
	if (len < 5)
		return tlv_fail(parser, "Invalid TLV: Truncated data",
				PP2_TYPE_SSL);
	info->ssl_tlv = true;
	info->ssl = (value[0] & PP2_CLIENT_SSL) != 0;
	info->ssl_client_cert =
		(value[0] & (PP2_CLIENT_CERT_CONN | PP2_CLIENT_CERT_SESS)) != 0;
	info->ssl_cert_verified = info->ssl_client_cert &&
		get_be32(value + 1) == 0;
	while (pos < len) {
		unsigned int type, vlen;
		char **dest;

		if (len - pos < 3)
			return tlv_fail(parser, "Invalid TLV: Truncated data",
					PP2_TYPE_SSL);
		type = value[pos];
		vlen = get_be16(value + pos + 1);
		pos += 3;
		if (len - pos < vlen)
			return tlv_fail(parser, "Invalid TLV: Truncated data",
					type);
		switch (type) {
		case PP2_SUBTYPE_SSL_VERSION: dest = &info->ssl_version; break;
		case PP2_SUBTYPE_SSL_CN: dest = &info->ssl_cn; break;
		case PP2_SUBTYPE_SSL_CIPHER: dest = &info->ssl_cipher; break;
		case PP2_SUBTYPE_SSL_SIG_ALG: dest = &info->ssl_sig_alg; break;
		case PP2_SUBTYPE_SSL_KEY_ALG: dest = &info->ssl_key_alg; break;
		default: dest = NULL; break;
		}
		if (dest != NULL) {
			ret = tlv_string(parser, type, value + pos, vlen, dest);
			if (ret != HAPROXY_DONE)
				return ret;
		}
		pos += vlen;
	}
	return HAPROXY_DONE;
}

static enum haproxy_result v2_parse_tlv(struct haproxy_parser *parser,
					unsigned int type,
					unsigned char *value, size_t len)
{
	struct haproxy_info *info = &parser->info;
	uint32_t crc;

	switch (type) {
	case PP2_TYPE_ALPN:
		return tlv_string(parser, type, value, len, &info->alpn);
	case PP2_TYPE_AUTHORITY:
		return tlv_string(parser, type, value, len, &info->authority);
	case PP2_TYPE_NETNS:
		return tlv_string(parser, type, value, len, &info->netns);
	case PP2_TYPE_CRC32C:
		if (len != 4)
			return tlv_fail(parser, "Invalid TLV: Bad length",
					type);
		crc = get_be32(value);
		/* the checksum covers the header with this field zeroed */
		memset(value, 0, 4);
		if (crc32c(parser->buf, parser->total) != crc)
			return tlv_fail(parser,
				"Invalid TLV: CRC32C checksum mismatch", type);
		return HAPROXY_DONE;
	case PP2_TYPE_UNIQUE_ID:
		if (info->unique_id != NULL)
			return tlv_fail(parser, "Invalid TLV: Duplicate TLV",
					type);
		if (len > HAPROXY_UNIQUE_ID_MAX_LEN)
			return tlv_fail(parser, "Invalid TLV: Too long value",
					type);
		info->unique_id = i_malloc(len + 1);
		memcpy(info->unique_id, value, len);
		info->unique_id_len = len;
		return HAPROXY_DONE;
	case PP2_TYPE_SSL:
		return v2_parse_ssl(parser, value, len);
	default:
		/* NOOP, custom and future types */
		return HAPROXY_DONE;
	}
}

static enum haproxy_result v2_parse_tlvs(struct haproxy_parser *parser,
					 size_t pos)
{
	unsigned char *buf = parser->buf;
	enum haproxy_result ret;

	while (pos < parser->total) {
		unsigned int type, len;

		if (parser->total - pos < 3)
			return tlv_fail(parser, "Invalid TLV: Truncated data",
					buf[pos]);
		type = buf[pos];
		len = get_be16(buf + pos + 1);
		pos += 3;
		if (parser->total - pos < len)
			return tlv_fail(parser, "Invalid TLV: Truncated data",
					type);
		ret = v2_parse_tlv(parser, type, buf + pos, len);
		if (ret != HAPROXY_DONE)
			return ret;
		pos += len;
	}
	return HAPROXY_DONE;
}

static void v2_get_addrs(struct haproxy_info *info, const unsigned char *p,
			 int family)
{
	size_t alen = family == AF_INET ? 4 : 16;

	info->remote_ip.family = info->local_ip.family = family;
	memcpy(family == AF_INET ? (void *)&info->remote_ip.u.ip4 :
	       (void *)&info->remote_ip.u.ip6, p, alen);
	memcpy(family == AF_INET ? (void *)&info->local_ip.u.ip4 :
	       (void *)&info->local_ip.u.ip6, p + alen, alen);
	info->remote_port = (in_port_t)get_be16(p + 2 * alen);
	info->local_port = (in_port_t)get_be16(p + 2 * alen + 2);
	info->family = family;
}

/* The whole header is in buf: addresses, then TLVs. */
static enum haproxy_result v2_parse(struct haproxy_parser *parser)
{
	struct haproxy_info *info = &parser->info;
	const unsigned char *buf = parser->buf;
	size_t len = parser->total - V2_HDR_LEN;
	unsigned int fam = buf[13] >> 4, transport = buf[13] & 0x0f;

	info->version = 2;
	if ((buf[12] & 0x0f) == V2_CMD_LOCAL) {
		/* health checks: the block is discarded, family and all */
		info->local = true;
		info->family = AF_UNSPEC;
		return HAPROXY_DONE;
	}
	if (transport != V2_TRANSPORT_STREAM)
		return fail_hex(parser, "Not using TCP", "type", transport);
	switch (fam) {
	case V2_FAM_INET:
		if (len < V2_ADDR_INET_LEN)
			return fail(parser, "IPv4 data is incomplete", NULL);
		v2_get_addrs(info, buf + V2_HDR_LEN, AF_INET);
		return v2_parse_tlvs(parser, V2_HDR_LEN + V2_ADDR_INET_LEN);
	case V2_FAM_INET6:
		if (len < V2_ADDR_INET6_LEN)
			return fail(parser, "IPv6 data is incomplete", NULL);
		v2_get_addrs(info, buf + V2_HDR_LEN, AF_INET6);
		return v2_parse_tlvs(parser, V2_HDR_LEN + V2_ADDR_INET6_LEN);
	case V2_FAM_UNSPEC:
	case V2_FAM_UNIX:
		/* Dovecot logs these as errors but keeps the connection
		   with its own addresses */
		info->local = true;
		info->family = fam == V2_FAM_UNIX ? AF_UNIX : AF_UNSPEC;
		parser->warning = i_strdup_printf(
			"Unsupported address family (family=%02x", fam);
		return HAPROXY_DONE;
	default:
		return fail_hex(parser, "Unknown address family", "family",
				fam);
	}
}

/* The fixed 16 bytes are in: check version, command and length. */
static enum haproxy_result v2_check_fixed(struct haproxy_parser *parser)
{
	unsigned int ver = parser->buf[12] >> 4, cmd = parser->buf[12] & 0x0f;
	size_t len = get_be16(parser->buf + 14);

	if (ver != 2) {
		parser->version = 0;
		return fail_hex(parser, "Unsupported protocol version",
				"version", ver);
	}
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return fail_hex(parser, "Invalid command", "cmd", cmd);
	if (len > HAPROXY_V2_MAX_DATA_LEN) {
		parser->version = 0;
		return fail(parser, "Too long header", NULL);
	}
	parser->total = V2_HDR_LEN + len;
	return HAPROXY_NEED_MORE;
}

static enum haproxy_result v2_feed(struct haproxy_parser *parser,
				   const unsigned char *data, size_t size,
				   size_t *consumed_r)
{
	enum haproxy_result ret;
	size_t done = 0;

	for (;;) {
		size_t want = parser->total != 0 ? parser->total : V2_HDR_LEN;
		size_t n = MIN(size - done, want - parser->len);

		/* @UNSAFE: n <= want - len, want <= V2_BUF_MAX */
		memcpy(parser->buf + parser->len, data + done, n);
		parser->len += n;
		done += n;
		*consumed_r = done;
		if (parser->len < want)
			return HAPROXY_NEED_MORE;
		if (parser->total != 0)
			return v2_parse(parser);
		/* the fixed part is in: now the length is known */
		ret = v2_check_fixed(parser);
		if (ret != HAPROXY_NEED_MORE)
			return ret;
	}
}

/* ---- common ---- */

/* Gather the signature: decide the version or fail at the first byte
 * that can begin neither. */
static enum haproxy_result sig_feed(struct haproxy_parser *parser,
				    const unsigned char *data, size_t size,
				    size_t *consumed_r)
{
	size_t n = 0;

	while (n < size && parser->version == 0) {
		unsigned char c = data[n];
		size_t pos = parser->len;
		bool v1_ok = pos < V1_SIG_LEN &&
			memcmp(parser->buf, V1_SIG, pos) == 0 &&
			(unsigned char)V1_SIG[pos] == c;
		bool v2_ok = pos < sizeof(v2_sig) &&
			memcmp(parser->buf, v2_sig, pos) == 0 &&
			v2_sig[pos] == c;

		if (!v1_ok && !v2_ok) {
			*consumed_r = n;
			return fail(parser, "Failed to read valid HAproxy data",
				    NULL);
		}
		parser->buf[parser->len++] = c;
		n++;
		if (v1_ok && parser->len == V1_SIG_LEN)
			parser->version = 1;
		else if (v2_ok && parser->len == sizeof(v2_sig))
			parser->version = 2;
	}
	*consumed_r = n;
	return HAPROXY_NEED_MORE;
}

enum haproxy_result haproxy_parser_feed(struct haproxy_parser *parser,
					const void *_data, size_t size,
					size_t *consumed_r)
{
	const unsigned char *data = _data;
	enum haproxy_result ret;
	size_t n = 0, more = 0;

	*consumed_r = 0;
	if (parser->result != HAPROXY_NEED_MORE)
		return parser->result;
	if (parser->version == 0) {
		ret = sig_feed(parser, data, size, &n);
		if (ret != HAPROXY_NEED_MORE || parser->version == 0) {
			*consumed_r = n;
			return ret;
		}
	}
	if (parser->version == 1)
		ret = v1_feed(parser, data + n, size - n, &more);
	else
		ret = v2_feed(parser, data + n, size - n, &more);
	*consumed_r = n + more;
	parser->result = ret;
	return ret;
}

const struct haproxy_info *haproxy_parser_info(struct haproxy_parser *parser)
{
	i_assert(parser->result == HAPROXY_DONE);
	return &parser->info;
}

const char *haproxy_parser_error(struct haproxy_parser *parser)
{
	return parser->error;
}

const char *haproxy_parser_error_detail(struct haproxy_parser *parser)
{
	return parser->error_detail;
}

unsigned int haproxy_parser_version(struct haproxy_parser *parser)
{
	return parser->version;
}

char *haproxy_parser_log_text(struct haproxy_parser *parser, bool eof,
			      const char *rip)
{
	const char *prefix = parser->version == 1 ? "haproxy(v1)" :
		parser->version == 2 ? "haproxy(v2)" : "haproxy";

	if (parser->result == HAPROXY_DONE) {
		if (parser->warning == NULL)
			return NULL;
		return i_strdup_printf("%s: %s, rip=%s)", prefix,
				       parser->warning, rip);
	}
	if (parser->result == HAPROXY_NEED_MORE) {
		return i_strdup_printf("haproxy: Client disconnected: %s "
				       "(rip=%s)", eof ?
				       "Failed to read full header" :
				       "Header not complete", rip);
	}
	return i_strdup_printf("%s: Client disconnected: %s (%s%srip=%s)",
			       prefix, parser->error,
			       parser->error_detail == NULL ? "" :
			       parser->error_detail,
			       parser->error_detail == NULL ? "" : ", ", rip);
}

/* haproxy.h - the PROXY protocol (HAProxy's v1 text and v2 binary
 * headers) that a load balancer puts before the client's first byte. An
 * incremental, bounded parser: feed it bytes as they arrive, it takes
 * exactly the header and leaves what follows (IMAP command, TLS
 * ClientHello) to the caller. Whether the peer may send a header at all
 * (haproxy_trusted_networks) is the caller's check. */
#ifndef ROOST_HAPROXY_H
#define ROOST_HAPROXY_H

#include "lib.h"
#include "net.h"

/* A v1 header is at most 107 bytes with its CRLF (the spec's bound). */
#define HAPROXY_V1_MAX_LEN 107
/* v2: 16 bytes of fixed header plus at most this much address and TLV
 * data (Dovecot accepts about 1 KB; haproxy sends well under 600). */
#define HAPROXY_V2_MAX_DATA_LEN 1024
/* The longest unique ID TLV the spec allows. */
#define HAPROXY_UNIQUE_ID_MAX_LEN 128

enum haproxy_result {
	HAPROXY_ERROR = -1,
	HAPROXY_NEED_MORE = 0,
	HAPROXY_DONE = 1,
};

/* What the header said. Strings are NUL-terminated and never contain
 * NUL (a TLV carrying one is an error); NULL when absent. */
struct haproxy_info {
	unsigned int version;		/* 1 or 2 */
	/* v1 "UNKNOWN", v2 LOCAL command or AF_UNIX addresses: keep the
	   connection's own addresses (the header is consumed all the same) */
	bool local;
	/* AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC (v1 UNKNOWN, v2 LOCAL) */
	int family;
	struct ip_addr remote_ip, local_ip;
	in_port_t remote_port, local_port;

	/* v2 TLVs */
	char *alpn;			/* PP2_TYPE_ALPN */
	char *authority;		/* PP2_TYPE_AUTHORITY: the SNI name */
	unsigned char *unique_id;	/* PP2_TYPE_UNIQUE_ID (binary) */
	size_t unique_id_len;
	char *netns;			/* PP2_TYPE_NETNS */
	bool ssl_tlv;			/* PP2_TYPE_SSL was present */
	bool ssl;			/* ... with PP2_CLIENT_SSL: the client
					   spoke TLS to the proxy */
	bool ssl_client_cert;		/* the client sent a certificate ... */
	bool ssl_cert_verified;		/* ... and the proxy verified it */
	char *ssl_version;		/* PP2_SUBTYPE_SSL_VERSION "TLSv1.3" */
	char *ssl_cn;			/* PP2_SUBTYPE_SSL_CN */
	char *ssl_cipher;		/* PP2_SUBTYPE_SSL_CIPHER */
	char *ssl_sig_alg;		/* PP2_SUBTYPE_SSL_SIG_ALG */
	char *ssl_key_alg;		/* PP2_SUBTYPE_SSL_KEY_ALG */
};

struct haproxy_parser;

struct haproxy_parser *haproxy_parser_create(void);
void haproxy_parser_free(struct haproxy_parser **parser);

/* Feed the next size bytes the peer sent. *consumed_r says how many of
 * them belong to the header (all of them with NEED_MORE, up to the
 * header's end with DONE; the rest is the client's own data). Once DONE
 * or ERROR, further calls return the same result and consume nothing.
 * A prefix that cannot start a header is an error at once. */
enum haproxy_result haproxy_parser_feed(struct haproxy_parser *parser,
					const void *data, size_t size,
					size_t *consumed_r);
/* The parsed header (valid after DONE, owned by the parser). */
const struct haproxy_info *haproxy_parser_info(struct haproxy_parser *parser);

/* After ERROR: the reason ("Unknown proxied protocol"), its detail or
 * NULL ("protocol=`TCP9'"), and the version it was found in (0 when the
 * signature itself or the length was wrong). */
const char *haproxy_parser_error(struct haproxy_parser *parser);
const char *haproxy_parser_error_detail(struct haproxy_parser *parser);
unsigned int haproxy_parser_version(struct haproxy_parser *parser);

/* Dovecot's log text for an error (log it as Error), e.g.
 * "haproxy(v1): Client disconnected: Unknown proxied protocol
 * (protocol=`TCP9', rip=127.0.0.1)". For a peer that closed before the
 * header was complete, Dovecot logs (as Info) "haproxy: Client
 * disconnected: Failed to read full header (rip=...)": with eof=true
 * this returns that text. Allocated; the caller frees. */
char *haproxy_parser_log_text(struct haproxy_parser *parser, bool eof,
			      const char *rip);

#endif

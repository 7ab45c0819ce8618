/* http-client.h - a small non-blocking HTTP/1.1 client over the event
 * loop, for the auth policy server: POST requests to one server
 * (http:// only, no TLS), kept-alive connections reused, every request
 * bounded in time and response size. */
#ifndef ROOST_HTTP_CLIENT_H
#define ROOST_HTTP_CLIENT_H

#include "lib.h"
#include "ioloop.h"

/* Responses larger than this (headers or body) fail the request. */
#define HTTP_CLIENT_MAX_HEADER_SIZE (16 * 1024)
#define HTTP_CLIENT_MAX_BODY_SIZE (64 * 1024)
/* At most this many connections to the server at once; further requests
 * wait for one. */
#define HTTP_CLIENT_MAX_CONNECTIONS 8

struct http_client;
struct http_client_request;

/* status 0 = no response; then error is set ("connect(1.2.3.4:80)
 * failed: Connection refused", "Absolute request timeout expired ...").
 * Otherwise status and reason are the response's status line and body
 * its body (NUL-terminated, body_size bytes). */
typedef void http_client_callback_t(unsigned int status, const char *reason,
				    const char *body, size_t body_size,
				    const char *error, void *context);

/* url: "http://host[:port][/path][?query]". The host is resolved here,
 * once. headers: extra header lines sent with every request ("Name:
 * value", may be NULL). timeout_msecs 0 = none. Returns NULL with
 * *error_r on a bad URL or a name that doesn't resolve. */
struct http_client *http_client_create(struct ioloop *loop, const char *url,
				       const char *user_agent,
				       const char *header,
				       unsigned int timeout_msecs,
				       const char **error_r);
/* Aborts every request (without callbacks). */
void http_client_destroy(struct http_client **client);

/* The URL's path and query ("/policy"; "/" when none). */
const char *http_client_get_path(const struct http_client *client);
/* "http://127.0.0.1:18080" as given, for log lines. */
const char *http_client_get_base(const struct http_client *client);

/* POST body to path_query ("/policy?command=allow"). The callback comes
 * from the event loop, never from inside this call. */
struct http_client_request *
http_client_post(struct http_client *client, const char *path_query,
		 const char *content_type, const char *body,
		 http_client_callback_t *callback, void *context);
/* Forget a request: its callback is not called. */
void http_client_request_abort(struct http_client_request **req);

#endif

/* check_auth_policy.c - unit tests of auth/http-client.h, the policy
 * server client's HTTP/1.1 transport: responses with Content-Length,
 * chunked and close-delimited bodies, 1xx and error statuses, bounds on
 * headers and bodies, malformed responses, connection refused,
 * timeouts, kept-alive connections reused and a request sent again
 * when the server closed the idle one. The server is a scripted one in
 * the same event loop. (The policy logic itself is compared with
 * Dovecot's by tests/compat/auth-policy-diff.py.) */
#include "suites.h"
#include "http-client.h"
#include "ioloop.h"
#include "str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ioloop *loop;

/* ---- a scripted server ---- */

struct test_server {
	int listen_fd, fd;
	struct io *listen_io, *io;
	unsigned int port;
	/* what to answer each request with, in order; NULL = close the
	   connection without answering */
	const char *const *answers;
	unsigned int answer_idx, accepted;
	bool close_after_answer;
	string_t *in;
	string_t *requests;	/* every request as received */
};

static void server_close_conn(struct test_server *srv)
{
	io_remove(&srv->io);
	if (srv->fd >= 0)
		close(srv->fd);
	srv->fd = -1;
	str_clear(srv->in);
}

/* One whole request (headers + Content-Length body) in srv->in? */
static bool request_complete(struct test_server *srv)
{
	const char *hdr_end = strstr(str_c(srv->in), "\r\n\r\n");
	const char *cl;
	size_t body;

	if (hdr_end == NULL)
		return false;
	cl = strstr(str_c(srv->in), "Content-Length: ");
	body = cl == NULL ? 0 : strtoul(cl + 16, NULL, 10);
	return str_len(srv->in) >= (size_t)(hdr_end + 4 - str_c(srv->in)) +
		body;
}

static void server_input(void *context)
{
	struct test_server *srv = context;
	char buf[4096];
	ssize_t ret = read(srv->fd, buf, sizeof(buf));

	if (ret <= 0) {
		server_close_conn(srv);
		return;
	}
	str_append_n(srv->in, buf, (size_t)ret);
	if (!request_complete(srv))
		return;
	str_append_str(srv->requests, srv->in);
	str_clear(srv->in);
	const char *answer = srv->answers[srv->answer_idx];

	if (answer != NULL)
		srv->answer_idx++;
	if (answer == NULL || strcmp(answer, "CLOSE") == 0) {
		server_close_conn(srv);
		return;
	}
	if (strcmp(answer, "SILENT") == 0)
		return;
	ck_assert_int_eq(write(srv->fd, answer, strlen(answer)),
			 (ssize_t)strlen(answer));
	if (srv->close_after_answer)
		server_close_conn(srv);
}

static void server_accept(void *context)
{
	struct test_server *srv = context;
	int fd = accept(srv->listen_fd, NULL, NULL);

	if (fd < 0)
		return;
	if (srv->fd >= 0)
		server_close_conn(srv);
	srv->fd = fd;
	srv->accepted++;
	srv->io = io_add(loop, fd, IO_READ, server_input, srv);
}

static void server_start(struct test_server *srv, const char *const *answers)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(srv, 0, sizeof(*srv));
	srv->fd = -1;
	srv->answers = answers;
	srv->in = str_new(1024);
	srv->requests = str_new(1024);
	srv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(srv->listen_fd, (struct sockaddr *)&sin,
			      sizeof(sin)), 0);
	ck_assert_int_eq(listen(srv->listen_fd, 8), 0);
	ck_assert_int_eq(getsockname(srv->listen_fd, (struct sockaddr *)&sin,
				     &len), 0);
	srv->port = ntohs(sin.sin_port);
	srv->listen_io = io_add(loop, srv->listen_fd, IO_READ, server_accept,
				srv);
}

static void server_stop(struct test_server *srv)
{
	server_close_conn(srv);
	io_remove(&srv->listen_io);
	close(srv->listen_fd);
	str_free(&srv->in);
	str_free(&srv->requests);
}

/* ---- the client side ---- */

struct result {
	bool done;
	unsigned int status;
	char *reason, *body, *error;
	size_t body_size;
};

static void result_cb(unsigned int status, const char *reason,
		      const char *body, size_t size, const char *error,
		      void *context)
{
	struct result *res = context;

	ck_assert(!res->done);
	res->done = true;
	res->status = status;
	res->reason = reason == NULL ? NULL : i_strdup(reason);
	res->body = body == NULL ? NULL : i_strndup(body, size);
	res->body_size = size;
	res->error = error == NULL ? NULL : i_strdup(error);
	io_loop_stop(loop);
}

static void result_free(struct result *res)
{
	free(res->reason);
	free(res->body);
	free(res->error);
	memset(res, 0, sizeof(*res));
}

static void guard(void *context ATTR_UNUSED)
{
	io_loop_stop(loop);
}

static void post_wait(struct http_client *client, struct result *res)
{
	struct timeout *to = timeout_add(loop, 5000, guard, NULL);

	memset(res, 0, sizeof(*res));
	(void)http_client_post(client, "/policy?command=allow",
			       "application/json", "{\"a\":1}", result_cb,
			       res);
	io_loop_run(loop);
	timeout_remove(&to);
	ck_assert_msg(res->done, "no answer");
}

static struct http_client *client_new(struct test_server *srv,
				      unsigned int timeout_msecs)
{
	char url[64];
	const char *error;
	struct http_client *client;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/policy", srv->port);
	client = http_client_create(loop, url, "test-agent",
				    "X-Api-Key: k", timeout_msecs, &error);
	ck_assert_msg(client != NULL, "%s", error);
	return client;
}

static void setup(void)
{
	loop = io_loop_create();
}

static void teardown(void)
{
	io_loop_destroy(&loop);
}

START_TEST(test_content_length)
{
	static const char *const answers[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"status\":0}\n",
		NULL
	};
	struct test_server srv;
	struct http_client *client;
	struct result res;

	server_start(&srv, answers);
	client = client_new(&srv, 2000);
	post_wait(client, &res);
	ck_assert_uint_eq(res.status, 200);
	ck_assert_str_eq(res.reason, "OK");
	ck_assert_str_eq(res.body, "{\"status\":0}\n");
	/* what went out: Dovecot's header order, the API header, the body */
	ck_assert_msg(strncmp(str_c(srv.requests), "POST /policy?command="
			      "allow HTTP/1.1\r\nHost: 127.0.0.1:", 47) == 0,
		      "%s", str_c(srv.requests));
	ck_assert(strstr(str_c(srv.requests), "\r\nUser-Agent: test-agent\r\n"
			 "Content-Length: 7\r\nConnection: Keep-Alive\r\n"
			 "Content-Type: application/json\r\nX-Api-Key: k\r\n"
			 "\r\n{\"a\":1}") != NULL);
	result_free(&res);
	http_client_destroy(&client);
	server_stop(&srv);
}
END_TEST

START_TEST(test_keepalive_reuse_and_retry)
{
	static const char *const answers[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ncd",
		/* the server drops the kept-alive connection: sent again */
		"CLOSE",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nef",
		NULL
	};
	struct test_server srv;
	struct http_client *client;
	struct result res;

	server_start(&srv, answers);
	client = client_new(&srv, 2000);
	post_wait(client, &res);
	ck_assert_str_eq(res.body, "ab");
	result_free(&res);
	post_wait(client, &res);
	ck_assert_str_eq(res.body, "cd");
	ck_assert_uint_eq(srv.accepted, 1);
	result_free(&res);
	post_wait(client, &res);
	ck_assert_uint_eq(res.status, 200);
	ck_assert_str_eq(res.body, "ef");
	ck_assert_uint_eq(srv.accepted, 2);
	result_free(&res);
	http_client_destroy(&client);
	server_stop(&srv);
}
END_TEST

START_TEST(test_chunked_and_continue)
{
	static const char *const answers[] = {
		"HTTP/1.1 100 Continue\r\n\r\n"
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\n{\"sta\r\n8;ext=1\r\ntus\":-1}\r\n0\r\nTrailer: x\r\n\r\n",
		NULL
	};
	struct test_server srv;
	struct http_client *client;
	struct result res;

	server_start(&srv, answers);
	client = client_new(&srv, 2000);
	post_wait(client, &res);
	ck_assert_uint_eq(res.status, 200);
	ck_assert_str_eq(res.body, "{\"status\":-1}");
	result_free(&res);
	http_client_destroy(&client);
	server_stop(&srv);
}
END_TEST

START_TEST(test_close_delimited_and_error_status)
{
	static const char *const answers[] = {
		"HTTP/1.0 500 Internal Server Error\r\n\r\noops",
		NULL
	};
	struct test_server srv;
	struct http_client *client;
	struct result res;

	server_start(&srv, answers);
	srv.close_after_answer = true;
	client = client_new(&srv, 2000);
	post_wait(client, &res);
	ck_assert_uint_eq(res.status, 500);
	ck_assert_str_eq(res.reason, "Internal Server Error");
	ck_assert_str_eq(res.body, "oops");
	result_free(&res);
	http_client_destroy(&client);
	server_stop(&srv);
}
END_TEST

START_TEST(test_malformed_responses)
{
	static const char *const answers[][2] = {
		{ "garbage\r\n\r\n", NULL },
		{ "HTTP/1.1 abc OK\r\n\r\n", NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n",
		  NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "zz\r\n", NULL },
		/* a body cut short */
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", NULL },
	};

	for (unsigned int i = 0; i < N_ELEMENTS(answers); i++) {
		struct test_server srv;
		struct http_client *client;
		struct result res;

		server_start(&srv, answers[i]);
		srv.close_after_answer = true;
		client = client_new(&srv, 2000);
		post_wait(client, &res);
		ck_assert_msg(res.status == 0 && res.error != NULL,
			      "answer %u: status %u", i, res.status);
		result_free(&res);
		http_client_destroy(&client);
		server_stop(&srv);
	}
}
END_TEST

START_TEST(test_header_too_large)
{
	static const char *answers[2];
	string_t *big = str_new(40000);
	struct test_server srv;
	struct http_client *client;
	struct result res;

	str_append(big, "HTTP/1.1 200 OK\r\nX-Big: ");
	for (unsigned int i = 0; i < 20000; i++)
		str_append_c(big, 'a');
	str_append(big, "\r\n\r\n");
	answers[0] = str_c(big);
	server_start(&srv, answers);
	client = client_new(&srv, 2000);
	post_wait(client, &res);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_str_eq(res.error, "Response header too large");
	result_free(&res);
	http_client_destroy(&client);
	server_stop(&srv);
	str_free(&big);
}
END_TEST

START_TEST(test_timeout)
{
	static const char *const answers[] = { "SILENT", NULL };
	struct test_server srv;
	struct http_client *client;
	struct result res;

	server_start(&srv, answers);
	client = client_new(&srv, 200);
	post_wait(client, &res);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_msg(strncmp(res.error, "Absolute request timeout expired "
			      "(Request queued 0.2", 52) == 0, "%s", res.error);
	result_free(&res);
	http_client_destroy(&client);
	server_stop(&srv);
}
END_TEST

START_TEST(test_connection_refused)
{
	static const char *const answers[] = { NULL };
	struct test_server srv;
	struct http_client *client;
	struct result res;
	char expected[64];

	server_start(&srv, answers);
	client = client_new(&srv, 2000);
	/* nobody listens there any more */
	io_remove(&srv.listen_io);
	close(srv.listen_fd);
	srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	post_wait(client, &res);
	snprintf(expected, sizeof(expected), "connect(127.0.0.1:%u) failed: "
		 "Connection refused", srv.port);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_str_eq(res.error, expected);
	result_free(&res);
	http_client_destroy(&client);
	server_stop(&srv);
}
END_TEST

START_TEST(test_abort_and_destroy_pending)
{
	static const char *const answers[] = { "SILENT", NULL };
	struct test_server srv;
	struct http_client *client;
	struct http_client_request *req;
	struct result res = { 0 };

	server_start(&srv, answers);
	client = client_new(&srv, 0);
	req = http_client_post(client, "/x", "text/plain", "a", result_cb,
			       &res);
	http_client_request_abort(&req);
	ck_assert_ptr_null(req);
	/* and one still pending when the client goes */
	(void)http_client_post(client, "/x", "text/plain", "a", result_cb,
			       &res);
	http_client_destroy(&client);
	ck_assert(!res.done);
	server_stop(&srv);
}
END_TEST

START_TEST(test_bad_urls)
{
	const char *error;

	ck_assert_ptr_null(http_client_create(loop, "https://x/", "a", NULL,
					      0, &error));
	ck_assert_str_eq(error, "https:// is not supported (no TLS to the "
			 "policy server yet)");
	ck_assert_ptr_null(http_client_create(loop, "ftp://x/", "a", NULL, 0,
					      &error));
	ck_assert_ptr_null(http_client_create(loop, "http:///p", "a", NULL,
					      0, &error));
	ck_assert_ptr_null(http_client_create(loop, "http://[::1/p", "a",
					      NULL, 0, &error));
}
END_TEST

Suite *make_auth_policy_suite(void)
{
	Suite *s = suite_create("auth_policy");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_content_length);
	tcase_add_test(tc, test_keepalive_reuse_and_retry);
	tcase_add_test(tc, test_chunked_and_continue);
	tcase_add_test(tc, test_close_delimited_and_error_status);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_test(tc, test_abort_and_destroy_pending);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_malformed_responses);
	tcase_add_test(tc, test_header_too_large);
	tcase_add_test(tc, test_bad_urls);
	suite_add_tcase(s, tc);
	return s;
}

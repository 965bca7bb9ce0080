/* HTTP server on libmicrohttpd: body collection, basic auth, /healthz, /metrics, dispatch. */
#include "httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"

#define HTTPD_MAX_STATUS 600

struct httpd {
    struct httpd_options opt;
    struct MHD_Daemon *daemon;
    int port;
    int quiesced;
    _Atomic unsigned long requests[HTTPD_MAX_STATUS]; /* answered requests by status code */
};

/* Per-request state kept by libmicrohttpd between calls of on_request(). */
struct request_ctx {
    struct strbuf body;
    int too_large;
};

static const char *const json_type = "application/json";

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("http server: %s", msg);
}

/* Queues BODY (malloc'd, handed off) with STATUS and CONTENT_TYPE and counts it. */
static enum MHD_Result send_response(struct httpd *h, struct MHD_Connection *c, int status,
                                     const char *content_type, char *body, int auth_fail)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            content_type ? content_type : json_type);
    enum MHD_Result ret = auth_fail ? MHD_queue_basic_auth_fail_response(c, h->opt.auth_realm, r)
                                    : MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    if (status > 0 && status < HTTPD_MAX_STATUS)
        atomic_fetch_add(&h->requests[status], 1);
    return ret;
}

static char *error_body(int code, const char *message)
{
    return xasprintf("{\"error_code\":%d,\"message\":\"%s\"}", code, message);
}

/* Compares without an early exit so the time taken does not reveal a matching prefix. */
static int same_secret(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = (unsigned char)(na != nb);
    for (size_t i = 0; i < na; i++)
        diff |= (unsigned char)(a[i] ^ b[nb ? i % nb : 0]);
    return diff == 0;
}

static int authorized(struct httpd *h, struct MHD_Connection *c)
{
    if (!h->opt.auth_user || !*h->opt.auth_user)
        return 1;
    char *password = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &password);
    int ok = user && password && same_secret(user, h->opt.auth_user) &&
             same_secret(password, h->opt.auth_password ? h->opt.auth_password : "");
    if (user)
        MHD_free(user);
    if (password)
        MHD_free(password);
    return ok;
}

static void append_metrics(struct httpd *h, struct strbuf *out)
{
    strbuf_puts(out, "# HELP salescdc_http_requests_total HTTP requests answered, by status.\n"
                     "# TYPE salescdc_http_requests_total counter\n");
    for (int s = 100; s < HTTPD_MAX_STATUS; s++) {
        unsigned long n = atomic_load(&h->requests[s]);
        if (n)
            strbuf_printf(out, "salescdc_http_requests_total{code=\"%d\"} %lu\n", s, n);
    }
    if (h->opt.metrics)
        h->opt.metrics(h->opt.probe_arg, out);
}

/* Serves /healthz and /metrics; returns 0 when PATH is neither. */
static int serve_builtin(struct httpd *h, struct MHD_Connection *c, const char *method,
                         const char *path, enum MHD_Result *ret)
{
    if (strcmp(path, "/healthz") == 0) {
        int ready = !h->opt.ready || h->opt.ready(h->opt.probe_arg);
        *ret = send_response(h, c, ready ? 200 : 503, "text/plain",
                             xstrdup(ready ? "ok\n" : "starting\n"), 0);
        return 1;
    }
    if (strcmp(path, "/metrics") == 0 && strcmp(method, "GET") == 0) {
        struct strbuf out = STRBUF_INIT;
        append_metrics(h, &out);
        *ret = send_response(h, c, 200, "text/plain; version=0.0.4", strbuf_detach(&out), 0);
        return 1;
    }
    return 0;
}

static enum MHD_Result dispatch(struct httpd *h, struct MHD_Connection *c, const char *url,
                                const char *method, struct request_ctx *ctx)
{
    enum MHD_Result ret;
    if (strcmp(url, "/healthz") == 0 && serve_builtin(h, c, method, url, &ret))
        return ret;
    if (!authorized(h, c))
        return send_response(h, c, 401, NULL, error_body(401, "Unauthorized"), 1);
    if (ctx->too_large)
        return send_response(h, c, 413, NULL, error_body(413, "Request body too large"), 0);
    if (serve_builtin(h, c, method, url, &ret))
        return ret;
    struct httpd_request req = {method, url, ctx->body.data ? ctx->body.data : "", ctx->body.len,
                                c};
    struct httpd_response resp = {500, NULL, NULL};
    h->opt.handler(h->opt.handler_arg, &req, &resp);
    if (!resp.body)
        resp.body = xstrdup("");
    return send_response(h, c, resp.status, resp.content_type, resp.body, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct httpd *h = cls;
    struct request_ctx *ctx = *con_cls;
    if (!ctx) {
        *con_cls = xcalloc(1, sizeof *ctx);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (ctx->body.len + *upload_data_size > h->opt.max_body)
            ctx->too_large = 1;
        else
            strbuf_append(&ctx->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(h, c, url, method, ctx);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct request_ctx *ctx = *con_cls;
    if (ctx) {
        strbuf_release(&ctx->body);
        free(ctx);
        *con_cls = NULL;
    }
}

/* Fills SS with HOST:PORT; returns its length, or 0 if HOST is not an IP address literal. */
static socklen_t make_address(const char *host, int port, struct sockaddr_storage *ss, int *ipv6)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *ipv6 = 0;
        return sizeof *in4;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *ipv6 = 1;
        return sizeof *in6;
    }
    return 0;
}

struct httpd *httpd_start(const struct httpd_options *opt, char *errstr, size_t errstr_size)
{
    struct sockaddr_storage ss;
    int ipv6 = 0;
    if (!make_address(opt->host, opt->port, &ss, &ipv6)) {
        snprintf(errstr, errstr_size, "cannot listen on '%s': not an IP address", opt->host);
        return NULL;
    }
    struct httpd *h = xcalloc(1, sizeof *h);
    h->opt = *opt;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_CONNECTION_LIMIT, opt->max_connections ? opt->max_connections : 256u,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (!h->daemon) {
        snprintf(errstr, errstr_size,
                 "cannot listen on %s:%d (address in use or not available here)", opt->host,
                 opt->port);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : opt->port;
    return h;
}

int httpd_port(const struct httpd *h)
{
    return h->port;
}

void httpd_quiesce(struct httpd *h)
{
    if (!h || h->quiesced)
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    h->quiesced = 1;
}

void httpd_stop(struct httpd *h)
{
    if (!h)
        return;
    httpd_quiesce(h);
    MHD_stop_daemon(h->daemon);
    free(h);
}

const char *httpd_request_query(const struct httpd_request *req, const char *key)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, key);
}

const char *httpd_request_header(const struct httpd_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

/* The scripted HTTP server of the unit tests (see fake_http.h). */
#include "fake_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>

/* Per connection: the URI as sent and the body received so far. */
struct exchange {
    char uri[FAKE_HTTP_URI_SIZE];
    struct strbuf body;
    int started;
};

static void *log_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls, (void)conn;
    struct exchange *x = calloc(1, sizeof *x);
    snprintf(x->uri, sizeof x->uri, "%s", uri);
    return x;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)conn, (void)code;
    struct exchange *x = *con_cls;
    if (x)
        strbuf_release(&x->body);
    free(x);
    *con_cls = NULL;
}

static enum MHD_Result keep_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                   const char *value)
{
    (void)kind;
    struct fake_http_request *r = cls;
    if (r->n_headers < FAKE_HTTP_MAX_HEADERS) {
        snprintf(r->headers[r->n_headers].name, sizeof r->headers[0].name, "%s", name);
        snprintf(r->headers[r->n_headers].value, sizeof r->headers[0].value, "%s",
                 value ? value : "");
        r->n_headers++;
    }
    return MHD_YES;
}

const char *fake_http_header(const struct fake_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return "";
}

static void describe(struct fake_http_request *r, struct MHD_Connection *conn, const char *method,
                     const struct exchange *x)
{
    memset(r, 0, sizeof *r);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->uri, sizeof r->uri, "%s", x->uri);
    size_t n = x->body.len < sizeof r->body - 1 ? x->body.len : sizeof r->body - 1;
    memcpy(r->body, x->body.data ? x->body.data : "", n);
    r->body_len = x->body.len;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, keep_header, r);
}

/* Copies TEXT into OUT with "@URL@" and "@MD5@" (of BODY) replaced. */
static void expand(const struct fake_http *f, const char *text, const struct strbuf *body,
                   struct strbuf *out)
{
    for (const char *p = text; p && *p;) {
        const char *url = strstr(p, "@URL@"), *md5 = strstr(p, "@MD5@");
        const char *at = !url ? md5 : !md5 ? url : url < md5 ? url : md5;
        size_t n = at ? (size_t)(at - p) : strlen(p);
        strbuf_append(out, p, n);
        if (!at)
            break;
        if (at == url) {
            strbuf_puts(out, f->url);
        } else {
            unsigned char d[EVP_MAX_MD_SIZE];
            unsigned int len = 0;
            EVP_Digest(body->data ? body->data : "", body->len, d, &len, EVP_md5(), NULL);
            for (unsigned int i = 0; i < len; i++)
                strbuf_printf(out, "%02x", d[i]);
        }
        p = at + 5;
    }
}

static void add_headers(struct MHD_Response *resp, const char *lines)
{
    for (const char *p = lines; p && *p;) {
        const char *end = strchr(p, '\n'), *colon = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (colon && colon < p + len) {
            char name[64], value[256];
            snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(p + len - v), v);
            MHD_add_response_header(resp, name, value);
        }
        p += len + (end ? 1 : 0);
    }
}

/* Records REQ and decides the answer (a handler appends its body to BODY). */
static struct fake_http_answer pick(struct fake_http *f, const struct fake_http_request *req,
                                    struct strbuf *body)
{
    pthread_mutex_lock(&f->lock);
    if (f->n_seen < FAKE_HTTP_MAX_REQUESTS)
        f->seen[f->n_seen++] = *req;
    f->n_requests++;
    struct fake_http_answer a = {599, "script exhausted", 0, NULL};
    if (f->next < f->o.n_script)
        a = f->o.script[f->next];
    else if (f->o.repeat_last && f->o.n_script > 0)
        a = f->o.script[f->o.n_script - 1];
    f->next++;
    pthread_mutex_unlock(&f->lock);
    if (f->o.handler) {
        a = (struct fake_http_answer){0};
        a.status = f->o.handler(f->o.arg, req, body);
    }
    return a;
}

static enum MHD_Result answer(struct fake_http *f, struct MHD_Connection *conn, const char *method,
                              struct exchange *x)
{
    struct fake_http_request *req = malloc(sizeof *req);
    struct strbuf body = STRBUF_INIT, headers = STRBUF_INIT;
    describe(req, conn, method, x);
    struct fake_http_answer a = pick(f, req, &body);
    free(req);
    expand(f, a.body, &x->body, &body);
    expand(f, a.headers, &x->body, &headers);
    if (a.delay_ms)
        nanosleep(&(struct timespec){a.delay_ms / 1000, (a.delay_ms % 1000) * 1000000L}, NULL);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        body.len, body.data ? body.data : (char *)"", MHD_RESPMEM_MUST_COPY);
    if (f->o.content_type)
        MHD_add_response_header(resp, "Content-Type", f->o.content_type);
    add_headers(resp, headers.data);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)a.status, resp);
    MHD_destroy_response(resp);
    strbuf_release(&body);
    strbuf_release(&headers);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)url, (void)version;
    struct exchange *x = *con_cls;
    if (!x->started) {
        x->started = 1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        strbuf_append(&x->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(cls, conn, method, x);
}

struct fake_http *fake_http_start(const struct fake_http_options *o)
{
    struct fake_http *f = calloc(1, sizeof *f);
    struct sockaddr_in loopback = {.sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)o->port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    f->o = *o;
    pthread_mutex_init(&f->lock, NULL);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)o->port, NULL, NULL, handle, f,
                         MHD_OPTION_URI_LOG_CALLBACK, log_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                         completed, NULL, MHD_OPTION_SOCK_ADDR, &loopback, MHD_OPTION_END);
    assert_non_null(d);
    f->daemon = d;
    f->port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", f->port);
    return f;
}

struct fake_http *fake_http_script(const struct fake_http_answer *script, size_t n)
{
    struct fake_http_options o = {.script = script, .n_script = n};
    return fake_http_start(&o);
}

void fake_http_stop(struct fake_http *f)
{
    MHD_stop_daemon(f->daemon);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

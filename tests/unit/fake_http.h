/* A scripted HTTP server for unit tests: libmicrohttpd on a loopback port, answering either
 * from a script of canned answers (in order) or through a handler, and remembering what it saw
 * of each request (method, URI as sent, headers, body). Used by the S3 and Trino client retry
 * tests and the registry lookup test. */
#ifndef SALESCDC_TEST_FAKE_HTTP_H
#define SALESCDC_TEST_FAKE_HTTP_H

#include <pthread.h>
#include <stddef.h>

#include "strbuf.h"

enum {
    FAKE_HTTP_MAX_REQUESTS = 64, /* requests remembered; later ones are answered, not kept */
    FAKE_HTTP_MAX_HEADERS = 24,
    FAKE_HTTP_URI_SIZE = 512,
    FAKE_HTTP_BODY_SIZE = 512, /* prefix of the body kept (NUL-terminated) */
};

/* One canned answer. In BODY and HEADERS, "@URL@" becomes the server's base URL
 * (http://127.0.0.1:PORT) and "@MD5@" the hex MD5 of the request's body. */
struct fake_http_answer {
    int status;
    const char *body;    /* NULL: empty */
    int delay_ms;        /* wait before answering */
    const char *headers; /* extra response headers, "Name: value" lines separated by '\n' */
};

/* What the server saw of one request. */
struct fake_http_request {
    char method[8];
    char uri[FAKE_HTTP_URI_SIZE]; /* path and query, exactly as sent */
    char body[FAKE_HTTP_BODY_SIZE];
    size_t body_len; /* the whole body's length */
    struct {
        char name[64];
        char value[256];
    } headers[FAKE_HTTP_MAX_HEADERS];
    size_t n_headers;
};

struct fake_http_options {
    const struct fake_http_answer *script; /* answers in order (borrowed) */
    size_t n_script;
    int repeat_last;          /* past the script: its last answer again; else 599 */
    unsigned port;            /* 0: any free port */
    const char *content_type; /* Content-Type of every answer; NULL: none */
    /* When set, answers instead of the script: returns the status and appends the body to
     * BODY (called on the server's thread, one request at a time). */
    int (*handler)(void *arg, const struct fake_http_request *req, struct strbuf *body);
    void *arg;
};

struct fake_http {
    struct fake_http_options o;
    void *daemon; /* struct MHD_Daemon */
    unsigned port;
    char url[64]; /* http://127.0.0.1:PORT */
    pthread_mutex_t lock;
    size_t next;                                           /* script position */
    struct fake_http_request seen[FAKE_HTTP_MAX_REQUESTS]; /* the first requests */
    size_t n_seen;                                         /* entries of seen[] */
    size_t n_requests;                                     /* every request received */
};

/* Starts the server (fails the test if it cannot). Caller frees with fake_http_stop(). */
struct fake_http *fake_http_start(const struct fake_http_options *o);

/* Shorthand: answers SCRIPT[0..N) in order, then 599 "script exhausted", on any free port. */
struct fake_http *fake_http_script(const struct fake_http_answer *script, size_t n);

void fake_http_stop(struct fake_http *f);

/* The value of header NAME (any case) in REQ, or "" when it was not sent. */
const char *fake_http_header(const struct fake_http_request *req, const char *name);

#endif

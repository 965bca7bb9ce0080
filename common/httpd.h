/* A small HTTP server on libmicrohttpd for every salescdc program: /healthz and /metrics built in,
 * optional HTTP basic auth, request bodies collected, other paths handed to the program. */
#ifndef SALESCDC_HTTPD_H
#define SALESCDC_HTTPD_H

#include <stddef.h>

#include "strbuf.h"

struct MHD_Connection;

/* One request, complete with its body (borrowed for the duration of the handler call). */
struct httpd_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded path without the query string */
    const char *body;   /* NUL-terminated; "" when there is none */
    size_t body_len;
    struct MHD_Connection *connection; /* for httpd_request_query() and _header() */
};

/* The answer a handler fills in. BODY is malloc'd text that httpd frees after sending. */
struct httpd_response {
    int status;
    const char *content_type; /* static string; NULL: application/json */
    char *body;
};

/* Handles one request (never /healthz or /metrics); runs on a connection thread, possibly
 * concurrently with other calls. */
typedef void (*httpd_handler_fn)(void *arg, const struct httpd_request *req,
                                 struct httpd_response *resp);

struct httpd_options {
    const char *host;          /* address to listen on, IPv4 or IPv6 literal */
    int port;                  /* 0: any free port (see httpd_port()) */
    const char *auth_user;     /* NULL or "": no authentication */
    const char *auth_password; /* secret: never logged */
    const char *auth_realm;    /* realm announced with 401 answers */
    size_t max_body;           /* larger request bodies get 413 */
    unsigned max_connections;
    httpd_handler_fn handler;
    void *handler_arg;
    /* Returns non-zero when the program is ready to serve (/healthz answers 200, else 503). */
    int (*ready)(void *arg);
    /* Appends the program's own metrics (Prometheus text format) to OUT; may be NULL. */
    void (*metrics)(void *arg, struct strbuf *out);
    void *probe_arg; /* passed to ready() and metrics() */
};

struct httpd;

/* Starts serving on OPT->host:OPT->port with a thread per connection. OPT is copied; its strings
 * must outlive the server. Returns the server (caller frees with httpd_stop()), or NULL with
 * errstr naming the address and the cause. */
struct httpd *httpd_start(const struct httpd_options *opt, char *errstr, size_t errstr_size);

/* The port actually bound (useful with port 0). */
int httpd_port(const struct httpd *h);

/* Stops accepting new connections; requests under way go on. */
void httpd_quiesce(struct httpd *h);

/* Waits for requests under way to finish, then frees everything. NULL is a no-op. */
void httpd_stop(struct httpd *h);

/* Value of query parameter KEY (borrowed, percent-decoded) or NULL. */
const char *httpd_request_query(const struct httpd_request *req, const char *key);
/* Value of request header NAME (case-insensitive; borrowed) or NULL. */
const char *httpd_request_header(const struct httpd_request *req, const char *name);

#endif

/* The connector's run: the metrics server, then sessions retried with exponential backoff until
 * a stop signal, a fatal error, or (snapshot.mode initial_only) a completed snapshot. */
#include "connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connector_internal.h"
#include "httpd.h"
#include "log.h"
#include "xalloc.h"

static int ready_probe(void *arg)
{
    return metrics_ready(arg);
}

static void metrics_probe(void *arg, struct strbuf *out)
{
    metrics_render(arg, out);
}

static void not_found(void *arg, const struct httpd_request *req, struct httpd_response *resp)
{
    (void)arg, (void)req;
    resp->status = 404;
    resp->content_type = "text/plain";
    resp->body = xstrdup("not found: try /metrics or /healthz\n");
}

/* Serves /metrics and /healthz unless http.port is 0. Returns 0, or -1 with errstr. */
static int start_http(const struct connector_options *o, struct metrics *m, struct httpd **h,
                      char *errstr, size_t errstr_size)
{
    *h = NULL;
    if (o->http_port == 0)
        return 0;
    struct httpd_options opt = {.host = o->http_host,
                                .port = o->http_port,
                                .auth_realm = CONNECTOR_PROGRAM,
                                .max_body = 4096,
                                .max_connections = 16,
                                .handler = not_found,
                                .ready = ready_probe,
                                .metrics = metrics_probe,
                                .probe_arg = m};
    *h = httpd_start(&opt, errstr, errstr_size);
    if (!*h)
        return -1;
    log_info("metrics listening on http://%s:%d/metrics", o->http_host, httpd_port(*h));
    return 0;
}

/* Sleeps MS milliseconds in short steps, returning early on a stop signal. */
static void backoff_sleep(volatile sig_atomic_t *stop, int ms)
{
    int64_t until = connector_mono_ms() + ms;
    while (!*stop && connector_mono_ms() < until) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Runs sessions until one ends cleanly; returns 0, or -1 when giving up. */
static int run_sessions(struct connector *c)
{
    char err[1024];
    int backoff = c->o->retry_backoff_ms;
    int64_t failing_since = connector_mono_ms();
    while (!*c->stop) {
        if (connector_session(c, err, sizeof err) == 0)
            return 0;
        if (*c->stop) /* an error caused by the stop itself (e.g. a snapshot cut short) */
            break;
        metrics_count(c->metrics, METRICS_ERRORS);
        if (c->fatal) {
            log_error("%s", err);
            return -1;
        }
        int64_t now = connector_mono_ms();
        if (c->streamed) { /* the session worked for a while: start the backoff afresh */
            backoff = c->o->retry_backoff_ms;
            failing_since = now;
        }
        if (c->o->retry_max_ms && now - failing_since >= c->o->retry_max_ms) {
            log_error("%s (giving up: failing for %lld ms, retry.max.ms=%d)", err,
                      (long long)(now - failing_since), c->o->retry_max_ms);
            return -1;
        }
        log_warn("%s; retrying in %d ms", err, backoff);
        metrics_set_state(c->metrics, METRICS_STATE_RETRYING);
        backoff_sleep(c->stop, backoff);
        backoff =
            backoff > c->o->retry_backoff_max_ms / 2 ? c->o->retry_backoff_max_ms : backoff * 2;
        metrics_count(c->metrics, METRICS_RECONNECTS);
    }
    log_info("stopped by a signal");
    return 0;
}

int connector_run(const struct connector_options *o, volatile sig_atomic_t *stop)
{
    char err[1024];
    struct registry_client_options rgo = {o->registry_url, o->registry_user, o->registry_password,
                                          10000, 5};
    struct connector c = {.o = o, .stop = stop};
    struct httpd *h = NULL;
    c.metrics = metrics_new();
    int rc = start_http(o, c.metrics, &h, err, sizeof err);
    if (rc < 0) {
        log_error("option http.port: %s", err);
    } else {
        c.registry = registry_client_new(&rgo);
        rc = run_sessions(&c);
        registry_client_destroy(c.registry);
    }
    if (h) {
        httpd_quiesce(h);
        httpd_stop(h);
    }
    metrics_destroy(c.metrics);
    return rc < 0 ? 1 : 0;
}

/* The transformer's run: wires the registry, the processor, the metrics server and the
 * pipeline together, and takes them down in reverse order. */
#include "transformer.h"

#include <stdio.h>
#include <string.h>

#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "process.h"
#include "registry_client.h"
#include "registry_lookup.h"
#include "schemas.h"

struct registry_pair {
    struct registry_lookup *lookup;
    struct registry_client *client;
};

static enum registry_lookup_status fetch(void *arg, int32_t id, const char **text, char *errstr,
                                         size_t errstr_size)
{
    struct registry_pair *r = arg;
    return registry_lookup_schema(r->lookup, id, text, errstr, errstr_size);
}

/* A refusal (4xx: 409 incompatible, 422 invalid) is permanent for the record; no answer, a 5xx,
 * 408 or 429 is worth retrying. */
static enum registry_lookup_status register_schema(void *arg, const char *subject, const char *text,
                                                   int32_t *id, char *errstr, size_t errstr_size)
{
    struct registry_pair *r = arg;
    if (registry_client_register(r->client, subject, text, id, errstr, errstr_size) == 0)
        return REGISTRY_LOOKUP_OK;
    enum registry_lookup_status st =
        registry_lookup_classify(registry_client_last_status(r->client));
    return st == REGISTRY_LOOKUP_OK ? REGISTRY_LOOKUP_REJECTED : st;
}

static int ready_probe(void *arg)
{
    return metrics_ready(arg);
}

static void metrics_probe(void *arg, struct strbuf *out)
{
    metrics_render(arg, out);
}

static struct httpd *start_http(const struct transformer_options *o, struct metrics *m)
{
    char err[512];
    if (o->http_port < 0)
        return NULL;
    struct httpd_options opt = {.host = o->http_host,
                                .port = o->http_port,
                                .max_body = 4096,
                                .max_connections = 16,
                                .ready = ready_probe,
                                .metrics = metrics_probe,
                                .probe_arg = m};
    struct httpd *h = httpd_start(&opt, err, sizeof err);
    if (h)
        log_info("metrics on http://%s:%d/metrics and /healthz", o->http_host, httpd_port(h));
    else
        log_error("%s (no /metrics; going on without)", err);
    return h;
}

/* Runs the pipeline over PAIR's registry access. */
static int run_pipeline(const struct transformer_options *o, struct registry_pair *pair,
                        volatile sig_atomic_t *stop)
{
    char err[1024];
    struct schemas_registry reg = {fetch, register_schema, pair};
    struct schemas *schemas = schemas_new(&reg, o->rules);
    struct processor *proc = processor_new(schemas, o->format, o->pass_tombstones);
    struct metrics *metrics = metrics_new();
    struct httpd *http = start_http(o, metrics);
    struct pipeline_deps deps = {o, proc, schemas, metrics, stop};
    struct pipeline *p = pipeline_new(&deps, err, sizeof err);
    int rc = 1;
    if (!p) {
        if (*stop)
            rc = 0;
        else
            log_error("%s", err);
    } else {
        rc = pipeline_run(p);
        pipeline_destroy(p);
    }
    if (http) {
        httpd_quiesce(http);
        httpd_stop(http);
    }
    metrics_destroy(metrics);
    processor_destroy(proc);
    schemas_destroy(schemas);
    return rc;
}

int transformer_run(const struct transformer_options *o, volatile sig_atomic_t *stop)
{
    struct registry_lookup_options lo = {o->registry_url, o->registry_user, o->registry_password,
                                         o->registry_timeout_ms};
    struct registry_client_options co = {o->registry_url, o->registry_user, o->registry_password,
                                         o->registry_timeout_ms, 2};
    struct registry_pair pair = {registry_lookup_new(&lo), registry_client_new(&co)};
    int rc = run_pipeline(o, &pair, stop);
    registry_client_destroy(pair.client);
    registry_lookup_destroy(pair.lookup);
    log_info("exiting code=%d", rc);
    return rc;
}

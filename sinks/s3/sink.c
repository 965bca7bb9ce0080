/* salescdc-s3-sink's run: set-up, the poll loop, shutdown. */
#include "sink.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "log.h"
#include "sink_internal.h"

enum { LAG_INTERVAL_MS = 5000, POLL_MS = 100, CATALOG_DRAIN_MS = 10000 };

int64_t sink_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ready_probe(void *arg)
{
    struct sink *s = arg;
    return atomic_load(&s->metrics.ready);
}

static void metrics_probe(void *arg, struct strbuf *out)
{
    struct sink *s = arg;
    sink_metrics_render(&s->metrics, out);
}

static struct httpd *start_http(struct sink *s, char *errstr, size_t errstr_size)
{
    struct httpd_options opt = {
        .host = s->o->http_host,
        .port = s->o->http_port,
        .max_body = 4096,
        .max_connections = 16,
        .ready = ready_probe,
        .metrics = metrics_probe,
        .probe_arg = s,
    };
    struct httpd *h = httpd_start(&opt, errstr, errstr_size);
    if (h)
        log_info("metrics on http://%s:%d/metrics and /healthz", opt.host, httpd_port(h));
    return h;
}

static struct sink_catalog *start_catalog(struct sink *s, char *errstr, size_t errstr_size)
{
    const struct sink_options *o = s->o;
    struct sink_catalog_options co = {
        .trino = {.url = o->trino_url,
                  .user = o->trino_user,
                  .source = SINK_PROGRAM,
                  .statement_timeout_ms = 120000},
        .catalog = o->trino_catalog,
        .schema = o->trino_schema,
        .table_prefix = o->trino_table_prefix,
        .changes_suffix = o->trino_changes_suffix,
        .bucket = o->s3.bucket,
        .s3_prefix = o->s3_prefix,
        .format = o->writer.format,
        .partition_mode = o->partitioner.mode,
        .partition_column = o->partitioner.column,
        .retry_ms = o->trino_retry_ms,
        .metrics = &s->metrics,
    };
    return sink_catalog_start(&co, errstr, errstr_size);
}

/* Checks the bucket once at start: wrong credentials or a missing bucket are configuration
 * errors worth stopping for; an unreachable endpoint is not (uploads retry). */
static int probe_bucket(struct sink *s, char *errstr, size_t errstr_size)
{
    struct s3_list_params params = {.prefix = s->o->s3_prefix, .max_keys = 1};
    struct s3_list_page page = {0};
    int rc = s3_list_objects_v2(s->s3, &params, &page, errstr, errstr_size);
    s3_list_page_release(&page);
    size_t n = strlen(errstr);
    if (rc == S3_ERR_DENIED)
        snprintf(errstr + n, errstr_size - n,
                 " (check s3.access.key and s3.secret.key, and the bucket's permissions)");
    else if (rc == S3_ERR_NOT_FOUND)
        snprintf(errstr + n, errstr_size - n, " (create the bucket, or fix s3.bucket)");
    if (rc == S3_ERR_DENIED || rc == S3_ERR_NOT_FOUND || rc == S3_ERR_INVALID)
        return -1;
    if (rc != S3_OK)
        log_warn("S3 is not answering yet (%s); uploads will retry", errstr);
    return 0;
}

static int setup(struct sink *s, char *errstr, size_t errstr_size)
{
    const struct sink_options *o = s->o;
    struct s3_config s3 = o->s3;
    s3.stop = s->abort;
    s->s3 = s3_client_new(&s3, errstr, errstr_size);
    if (!s->s3 || probe_bucket(s, errstr, errstr_size) != 0)
        return -1;
    s->up = (struct sink_uploader){
        .s3 = s->s3,
        .multipart_threshold = o->multipart_threshold,
        .part_size = o->part_size,
        .backoff_initial_ms = o->upload_backoff_initial_ms,
        .backoff_max_ms = o->upload_backoff_max_ms,
        .abort = s->abort,
        .metrics = &s->metrics,
        .keepalive = sink_consumer_keepalive,
        .keepalive_arg = s,
    };
    struct registry_lookup_options ro = {
        .url = o->registry_url,
        .user = o->registry_user,
        .password = o->registry_password,
        .timeout_ms = 30000,
    };
    s->rl = registry_lookup_new(&ro);
    s->schemas = sink_schema_cache_new(s->rl);
    if (*o->trino_url && !(s->catalog = start_catalog(s, errstr, errstr_size)))
        return -1;
    s->rk = sink_consumer_new(s, errstr, errstr_size);
    return s->rk ? 0 : -1;
}

static void teardown(struct sink *s)
{
    if (s->rk) {
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
    }
    sink_catalog_stop(s->catalog, CATALOG_DRAIN_MS);
    for (size_t i = 0; i < s->n_kparts; i++)
        sink_kpart_destroy(s->kparts[i]);
    free(s->kparts);
    for (size_t i = 0; i < s->n_topics; i++) {
        for (size_t k = 0; k < s->topics[i].n_key_fields; k++)
            free(s->topics[i].key_fields[k]);
        free(s->topics[i].key_fields);
        free(s->topics[i].name);
    }
    free(s->topics);
    sink_schema_cache_destroy(s->schemas);
    registry_lookup_destroy(s->rl);
    s3_client_destroy(s->s3);
}

static void loop(struct sink *s)
{
    int64_t next_lag = 0;
    atomic_store(&s->metrics.ready, 1);
    while (!*s->stop && !s->fatal) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, POLL_MS);
        if (m) {
            sink_consume_message(s, m);
            rd_kafka_message_destroy(m);
        }
        sink_kpart_reap(s);
        if (!s->fatal)
            sink_flush_idle(s);
        if (sink_now_ms() >= next_lag) {
            sink_consumer_update_lag(s);
            next_lag = sink_now_ms() + LAG_INTERVAL_MS;
        }
    }
    atomic_store(&s->metrics.ready, 0);
}

int sink_run(const struct sink_options *o, volatile sig_atomic_t *stop,
             volatile sig_atomic_t *abort)
{
    struct sink s = {.o = o, .stop = stop, .abort = abort};
    char err[1024];
    int rc = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct httpd *h = o->http_port >= 0 ? start_http(&s, err, sizeof err) : NULL;
    if (o->http_port >= 0 && !h) {
        log_error("%s", err);
    } else if (setup(&s, err, sizeof err) != 0) {
        log_error("%s", err);
    } else {
        log_info("consuming %s as group %s into s3://%s/%s (%s)", o->topics_regex, o->group_id,
                 o->s3.bucket, o->s3_prefix, sink_writer_extension(&o->writer));
        loop(&s);
        if (*stop)
            log_info("stop requested: storing what is buffered");
        s.up.deadline_ms = sink_now_ms() + o->shutdown_timeout_ms;
        rc = sink_flush_all(&s, SINK_FLUSH_SHUTDOWN) == 0 && !s.fatal ? 0 : 1;
    }
    teardown(&s);
    httpd_stop(h);
    curl_global_cleanup();
    log_info("exiting with status %d", rc);
    return rc;
}

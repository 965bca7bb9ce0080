/* Prometheus text of the sink's metrics. */
#include "metrics.h"

#include <inttypes.h>

const double sink_latency_bounds[SINK_LATENCY_BUCKETS] = {0.01, 0.025, 0.05, 0.1, 0.25,
                                                          0.5,  1,     2.5,  5,   10};

void sink_metrics_upload(struct sink_metrics *m, double seconds)
{
    int i = 0;
    while (i < SINK_LATENCY_BUCKETS && seconds > sink_latency_bounds[i])
        i++;
    atomic_fetch_add(&m->upload_latency[i], 1);
    atomic_fetch_add(&m->upload_latency_sum_us, (uint64_t)(seconds * 1e6));
}

static void counter(struct strbuf *out, const char *name, const char *help, uint64_t v)
{
    strbuf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name, name,
                  v);
}

static void gauge(struct strbuf *out, const char *name, const char *help, int64_t v)
{
    strbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %" PRId64 "\n", name, help, name, name,
                  v);
}

static void render_latency(struct sink_metrics *m, struct strbuf *out)
{
    const char *name = "salescdc_sink_upload_seconds";
    uint64_t cumulative = 0;
    strbuf_printf(out, "# HELP %s time to store one object (retries included)\n", name);
    strbuf_printf(out, "# TYPE %s histogram\n", name);
    for (int i = 0; i <= SINK_LATENCY_BUCKETS; i++) {
        cumulative += atomic_load(&m->upload_latency[i]);
        if (i < SINK_LATENCY_BUCKETS)
            strbuf_printf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, sink_latency_bounds[i],
                          cumulative);
        else
            strbuf_printf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cumulative);
    }
    strbuf_printf(out, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name,
                  (double)atomic_load(&m->upload_latency_sum_us) / 1e6, name, cumulative);
}

void sink_metrics_render(struct sink_metrics *m, struct strbuf *out)
{
    counter(out, "salescdc_sink_records_total", "records consumed into buffers",
            atomic_load(&m->records));
    counter(out, "salescdc_sink_tombstones_total", "records without a value (skipped)",
            atomic_load(&m->tombstones));
    counter(out, "salescdc_sink_objects_total", "objects stored", atomic_load(&m->objects));
    counter(out, "salescdc_sink_object_bytes_total", "bytes of objects stored",
            atomic_load(&m->object_bytes));
    counter(out, "salescdc_sink_stored_records_total", "records in objects stored",
            atomic_load(&m->stored_records));
    strbuf_puts(out, "# HELP salescdc_sink_flushes_total Kafka-partition flushes by reason\n"
                     "# TYPE salescdc_sink_flushes_total counter\n");
    for (int r = 1; r < SINK_FLUSH_REASONS; r++)
        strbuf_printf(out, "salescdc_sink_flushes_total{reason=\"%s\"} %" PRIu64 "\n",
                      sink_flush_reason_name(r), (uint64_t)atomic_load(&m->flushes[r]));
    counter(out, "salescdc_sink_upload_retries_total", "failed upload attempts retried",
            atomic_load(&m->upload_retries));
    render_latency(m, out);
    counter(out, "salescdc_sink_commits_total", "offset commits", atomic_load(&m->commits));
    counter(out, "salescdc_sink_commit_failures_total", "offset commits that failed",
            atomic_load(&m->commit_failures));
    counter(out, "salescdc_sink_rebalances_lost_total",
            "group memberships lost (commit refused or assignment lost): uncommitted buffers "
            "dropped and re-read from the last commit",
            atomic_load(&m->memberships_lost));
    gauge(out, "salescdc_sink_lag_records", "records behind the partitions' high watermarks",
          atomic_load(&m->lag));
    gauge(out, "salescdc_sink_buffered_records", "records in buffers, not yet stored",
          atomic_load(&m->buffered_records));
    gauge(out, "salescdc_sink_buffered_bytes",
          "memory held by all buffers (bounded by buffer.max.bytes)",
          atomic_load(&m->buffered_bytes));
    counter(out, "salescdc_sink_catalog_statements_total", "Trino statements run",
            atomic_load(&m->catalog_statements));
    counter(out, "salescdc_sink_catalog_failures_total", "Trino statements that failed",
            atomic_load(&m->catalog_failures));
    counter(out, "salescdc_sink_partitions_registered_total", "partitions made visible in Trino",
            atomic_load(&m->partitions_registered));
    gauge(out, "salescdc_sink_catalog_pending", "tables and partitions waiting for Trino",
          atomic_load(&m->catalog_pending));
}

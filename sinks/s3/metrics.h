/* The S3 sink's counters and gauges, updated by the consumer loop and the catalog thread and
 * rendered as Prometheus text for /metrics. */
#ifndef SALESCDC_SINK_METRICS_H
#define SALESCDC_SINK_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "flush_rules.h"
#include "strbuf.h"

enum { SINK_LATENCY_BUCKETS = 10 };

struct sink_metrics {
    atomic_uint_fast64_t records;      /* records consumed into buffers */
    atomic_uint_fast64_t tombstones;   /* records without a value, skipped */
    atomic_uint_fast64_t objects;      /* objects stored */
    atomic_uint_fast64_t object_bytes; /* bytes stored */
    atomic_uint_fast64_t stored_records;
    atomic_uint_fast64_t flushes[SINK_FLUSH_REASONS]; /* per Kafka-partition flush, by reason */
    atomic_uint_fast64_t upload_retries;
    atomic_uint_fast64_t upload_latency[SINK_LATENCY_BUCKETS + 1]; /* last: +Inf */
    atomic_uint_fast64_t upload_latency_sum_us;
    atomic_uint_fast64_t commits, commit_failures;
    atomic_uint_fast64_t memberships_lost; /* group membership lost: buffers dropped, re-read */
    atomic_int_fast64_t lag;               /* records behind the high watermarks */
    atomic_int_fast64_t buffered_records;  /* in buffers now */
    atomic_int_fast64_t buffered_bytes;    /* memory the buffers hold now (buffer.max.bytes) */
    atomic_uint_fast64_t catalog_statements, catalog_failures, partitions_registered;
    atomic_int_fast64_t catalog_pending;
    atomic_int ready; /* consuming (for /healthz) */
};

/* Upper bounds of the upload latency histogram, in seconds. */
extern const double sink_latency_bounds[SINK_LATENCY_BUCKETS];

/* Counts one upload that took SECONDS. */
void sink_metrics_upload(struct sink_metrics *m, double seconds);

/* Appends every metric in Prometheus text format to OUT. */
void sink_metrics_render(struct sink_metrics *m, struct strbuf *out);

#endif

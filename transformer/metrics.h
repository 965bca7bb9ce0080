/* The transformer's counters and consumer lag, published by the pipeline (one thread) and
 * rendered for GET /metrics (httpd threads) under a mutex. */
#ifndef SALESCDC_TRANSFORMER_METRICS_H
#define SALESCDC_TRANSFORMER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Counts of committed work: a record counts once its transaction committed. */
struct metrics_counts {
    uint64_t records_in;      /* input records whose offsets were committed */
    uint64_t records_out;     /* flat records (and passed tombstones) committed */
    uint64_t records_dlq;     /* records committed to dead-letter topics */
    uint64_t records_dropped; /* tombstones dropped, truncate events */
    uint64_t txn_committed;
    uint64_t txn_aborted;
    uint64_t producer_resets;
    uint64_t registry_retries; /* waits for an unavailable registry or Kafka metadata */
    uint64_t schemas_registered;
};

struct metrics_lag {
    char topic[250];
    int32_t partition;
    int64_t lag; /* high watermark - position; -1 when unknown */
};

struct metrics;

/* Caller frees with metrics_destroy(). */
struct metrics *metrics_new(void);
void metrics_destroy(struct metrics *m);

/* Replaces the published counts with C (copied). */
void metrics_publish(struct metrics *m, const struct metrics_counts *c);

/* Replaces the published lag table with LAGS[0..N) (copied). */
void metrics_publish_lag(struct metrics *m, const struct metrics_lag *lags, size_t n);

/* Sets whether the program is ready (subscribed, producer initialised, not failing). */
void metrics_set_ready(struct metrics *m, int ready);
int metrics_ready(struct metrics *m);

/* Appends the Prometheus text exposition of everything published to OUT. */
void metrics_render(struct metrics *m, struct strbuf *out);

#endif

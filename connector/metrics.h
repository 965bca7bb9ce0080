/* The connector's metrics, shared between the streaming thread (writes) and the HTTP server's
 * threads (/metrics, /healthz read): counters are atomics, so writers never take a lock. */
#ifndef SALESCDC_CONNECTOR_METRICS_H
#define SALESCDC_CONNECTOR_METRICS_H

#include <stdint.h>

#include "strbuf.h"

/* Where the connector is in its life cycle (the gauge salescdc_connector_state). */
enum metrics_state {
    METRICS_STATE_STARTING,
    METRICS_STATE_SNAPSHOT,
    METRICS_STATE_STREAMING,
    METRICS_STATE_RETRYING,
    METRICS_STATE_STOPPING,
};

/* Counters that only go up. */
enum metrics_counter {
    METRICS_TRANSACTIONS,         /* source transactions published */
    METRICS_TRANSACTIONS_SKIPPED, /* source transactions already committed to Kafka */
    METRICS_KAFKA_COMMITS,        /* Kafka transactions committed */
    METRICS_KAFKA_ABORTS,         /* Kafka transactions aborted */
    METRICS_ERRORS,               /* failures that ended a session */
    METRICS_RECONNECTS,           /* sessions started after a failure */
    METRICS_HEARTBEATS,           /* heartbeats sent while idle */
    METRICS_COUNTER_COUNT
};

/* Gauges. */
enum metrics_gauge {
    METRICS_RECEIVED_LSN,  /* last WAL position seen in the stream */
    METRICS_CONFIRMED_LSN, /* last position confirmed to the slot as flushed */
    METRICS_SERVER_LSN,    /* the server's current WAL position (pg_current_wal_lsn) */
    METRICS_LAG_MS,        /* processing time minus commit time of the last source transaction */
    METRICS_GAUGE_COUNT
};

struct metrics;
struct metrics_table;

/* Caller frees with metrics_destroy() (after the HTTP server stopped). */
struct metrics *metrics_new(void);
void metrics_destroy(struct metrics *m);

/* The counters of table NAME ("schema.table"), created on first use. The pointer (borrowed)
 * stays valid until metrics_destroy(). */
struct metrics_table *metrics_table(struct metrics *m, const char *name);

/* Counts one event with OP ('c', 'u', 'd', 'r' or 't') of table T. */
void metrics_event(struct metrics_table *t, char op);

void metrics_count(struct metrics *m, enum metrics_counter c);
void metrics_set(struct metrics *m, enum metrics_gauge g, uint64_t value);
void metrics_set_state(struct metrics *m, enum metrics_state s);

/* Non-zero while streaming or snapshotting (what /healthz reports as ready). */
int metrics_ready(struct metrics *m);

/* Appends the Prometheus text exposition of everything to OUT. */
void metrics_render(struct metrics *m, struct strbuf *out);

#endif

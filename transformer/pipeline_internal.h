/* State shared by pipeline.c (the loop and record handling) and pipeline_txn.c (commits,
 * rewinds, rebalances, lag). */
#ifndef SALESCDC_TRANSFORMER_PIPELINE_INTERNAL_H
#define SALESCDC_TRANSFORMER_PIPELINE_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "metrics.h"
#include "pipeline.h"
#include "topics.h"
#include "txn.h"

struct pipeline {
    struct pipeline_deps d;
    rd_kafka_t *consumer;
    rd_kafka_t *admin; /* metadata and admin requests of topics.c */
    struct txn *txn;
    struct topics *topics;
    rd_kafka_topic_partition_list_t *pending; /* next offsets of the records in the open txn */
    struct metrics_counts counts;             /* committed work */
    struct metrics_counts in_txn;             /* work of the open transaction */
    int in_txn_records;
    double txn_started;
    int need_rewind;
    int retry_attempt;
    uint32_t random;
    double last_lag;
    struct process_result result;
};

/* Seconds on a monotonic clock. */
double pipeline_now(void);

/* Commits the open transaction with the pending offsets; on failure counts an abort and
 * rewinds. */
void pipeline_commit(struct pipeline *p);

/* After an abort or producer reset: forgets the open transaction's work and rewinds. */
void pipeline_after_abort(struct pipeline *p);

/* Seeks every assigned partition to its committed offset. Returns 0, or -1 (need_rewind stays
 * set: the loop tries again before it processes anything). */
int pipeline_rewind(struct pipeline *p);

/* The consumer's rebalance callback (opaque: the pipeline). */
void pipeline_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque);

/* Publishes the lag of every assigned partition (at most once a second). */
void pipeline_publish_lag(struct pipeline *p, int force);

#endif

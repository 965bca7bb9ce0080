/* Commits, aborts, rewinds, rebalances and lag of the consume-transform-produce pipeline. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pipeline_internal.h"
#include "xalloc.h"

double pipeline_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void forget_transaction(struct pipeline *p)
{
    rd_kafka_topic_partition_list_destroy(p->pending);
    p->pending = rd_kafka_topic_partition_list_new(16);
    memset(&p->in_txn, 0, sizeof p->in_txn);
    p->in_txn_records = 0;
}

static void add_counts(struct metrics_counts *to, const struct metrics_counts *from)
{
    to->records_in += from->records_in;
    to->records_out += from->records_out;
    to->records_dlq += from->records_dlq;
    to->records_dropped += from->records_dropped;
}

static void publish(struct pipeline *p)
{
    p->counts.producer_resets = txn_resets(p->txn);
    p->counts.schemas_registered = schemas_registered(p->d.schemas);
    metrics_publish(p->d.metrics, &p->counts);
}

void pipeline_after_abort(struct pipeline *p)
{
    p->counts.txn_aborted++;
    log_warn("transaction aborted records=%d: rewinding to the committed offsets",
             p->in_txn_records);
    forget_transaction(p);
    if (txn_take_too_large(p->txn) && p->topics) { /* a topic's max.message.bytes changed? */
        log_warn("the broker refused a record as too large: reading the topics' "
                 "max.message.bytes again");
        topics_refresh_limits(p->topics);
    }
    p->need_rewind = 1;
    pipeline_rewind(p);
    publish(p);
}

void pipeline_commit(struct pipeline *p)
{
    char err[1024];
    if (!txn_is_open(p->txn))
        return;
    enum txn_status st = txn_commit(p->txn, p->consumer, p->pending, err, sizeof err);
    if (st == TXN_OK) {
        p->counts.txn_committed++;
        add_counts(&p->counts, &p->in_txn);
        log_debug("transaction committed records=%d", p->in_txn_records);
        forget_transaction(p);
        publish(p);
        return;
    }
    log_warn("commit failed: %s", err);
    pipeline_after_abort(p);
}

int pipeline_rewind(struct pipeline *p)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t err = rd_kafka_assignment(p->consumer, &parts);
    if (!err && parts->cnt > 0)
        err = rd_kafka_committed(p->consumer, parts, p->d.o->timeout_ms);
    if (err) {
        log_warn("rewind: read committed offsets: %s; trying again", rd_kafka_err2str(err));
        if (parts)
            rd_kafka_topic_partition_list_destroy(parts);
        return -1;
    }
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset < 0) /* nothing committed yet: from the start */
            parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *error =
        parts->cnt ? rd_kafka_seek_partitions(p->consumer, parts, p->d.o->timeout_ms) : NULL;
    rd_kafka_topic_partition_list_destroy(parts);
    if (error) {
        log_warn("rewind: seek to committed offsets: %s; trying again",
                 rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return -1;
    }
    p->need_rewind = 0;
    return 0;
}

static void apply_assignment(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int assign)
{
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0)
        error = assign ? rd_kafka_incremental_assign(rk, parts)
                       : rd_kafka_incremental_unassign(rk, parts);
    else
        err = rd_kafka_assign(rk, assign ? parts : NULL);
    if (error) {
        log_error("%s partitions: %s", assign ? "assign" : "unassign",
                  rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (err) {
        log_error("%s partitions: %s", assign ? "assign" : "unassign", rd_kafka_err2str(err));
    }
}

void pipeline_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct pipeline *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_info("partitions assigned count=%d", parts->cnt);
        apply_assignment(rk, parts, 1);
        return;
    }
    if (p->txn && txn_is_open(p->txn)) {
        if (rd_kafka_assignment_lost(rk)) { /* the offsets would be refused: give the work up */
            log_warn("assignment lost: aborting the open transaction");
            txn_abort(p->txn);
            pipeline_after_abort(p);
        } else {
            pipeline_commit(p); /* before another member takes the partitions over */
        }
    }
    log_info("partitions revoked count=%d", parts->cnt);
    apply_assignment(rk, parts, 0);
    pipeline_publish_lag(p, 1);
}

void pipeline_publish_lag(struct pipeline *p, int force)
{
    double now = pipeline_now();
    if (!force && now - p->last_lag < 1.0)
        return;
    p->last_lag = now;
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(p->consumer, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    rd_kafka_position(p->consumer, parts);
    struct metrics_lag *lags = xcalloc((size_t)parts->cnt + 1, sizeof *lags);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t lo = -1, hi = -1;
        rd_kafka_get_watermark_offsets(p->consumer, tp->topic, tp->partition, &lo, &hi);
        snprintf(lags[i].topic, sizeof lags[i].topic, "%s", tp->topic);
        lags[i].partition = tp->partition;
        lags[i].lag = hi >= 0 && tp->offset >= 0 ? hi - tp->offset : -1;
    }
    metrics_publish_lag(p->d.metrics, lags, (size_t)parts->cnt);
    free(lags);
    rd_kafka_topic_partition_list_destroy(parts);
}

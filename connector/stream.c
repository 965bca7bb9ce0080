/* The replication stream of a session: dispatch of each message, Kafka transaction commits on
 * time, standby status updates, heartbeats while idle, the server's WAL position for the lag
 * metrics, and the flush/commit/confirm at the end. */
#include <stdio.h>
#include <string.h>

#include "connector_internal.h"
#include "log.h"

#define WAL_POLL_MS 1000 /* how often the server's WAL position is read for the metrics */
#define MAX_WAIT_MS 100  /* longest wait for the stream, so stop signals are seen quickly */
#define BURST 1024       /* messages handled between housekeeping rounds */

int connector_commit_batch(struct connector *c, char *errstr, size_t errstr_size)
{
    switch (txnbatch_commit(c->batch, errstr, errstr_size)) {
    case PUBLISHER_TXN_OK:
        if (c->o->exactly_once)
            metrics_count(c->metrics, METRICS_KAFKA_COMMITS);
        return 0;
    case PUBLISHER_TXN_ABORTED: /* rewind: the next session replays from the slot */
        metrics_count(c->metrics, METRICS_KAFKA_ABORTS);
        return -1;
    case PUBLISHER_TXN_UNKNOWN: /* the next session's new producer settles it */ return -1;
    case PUBLISHER_TXN_FENCED: /* connector_session() decides: timed out, or a rival */ return -1;
    }
    return -1;
}

/* A keepalive: once nothing is open the server's position holds nothing for us (pg_recvlogical
 * confirms it the same way); an answer to a heartbeat is confirmed at once. */
static int on_keepalive(struct connector *c, const struct repl_proto_msg *rm, char *errstr,
                        size_t errstr_size)
{
    lsn_tracker_idle(c->lsn, rm->wal_end);
    int force = rm->reply_requested || c->heartbeat_pending;
    c->heartbeat_pending = 0;
    return force ? replication_feedback(c->repl, c->lsn, 1, 0, errstr, errstr_size) : 0;
}

static int handle_copy(struct connector *c, const struct repl_proto_msg *rm, char *errstr,
                       size_t errstr_size)
{
    struct pgoutput_msg m;
    if (rm->kind == REPL_PROTO_KEEPALIVE)
        return on_keepalive(c, rm, errstr, errstr_size);
    lsn_tracker_received(c->lsn, rm->wal_start);
    c->msg_lsn = rm->wal_start;
    if (pgoutput_decode(c->dec, rm->data, rm->len, &m, errstr, errstr_size) < 0) {
        c->fatal = 1;
        return -1;
    }
    if (c->in_stream || m.type == PGOUTPUT_STREAM_START || m.type == PGOUTPUT_STREAM_COMMIT ||
        m.type == PGOUTPUT_STREAM_ABORT)
        return connector_streamed(c, &m, rm->data, rm->len, errstr, errstr_size);
    return connector_handle(c, &m, errstr, errstr_size);
}

/* Every heartbeat interval: the action query, and when idle a status update asking the server
 * for its position (the keepalive answering it is confirmed by on_keepalive()). */
static int heartbeat(struct connector *c, int64_t now, char *errstr, size_t errstr_size)
{
    if (!c->o->heartbeat_interval_ms || now < c->next_heartbeat_ms)
        return 0;
    c->next_heartbeat_ms = now + c->o->heartbeat_interval_ms;
    if (*c->o->heartbeat_query &&
        pgcatalog_exec(c->cat, c->o->heartbeat_query, "run heartbeat.action.query", errstr,
                       errstr_size) < 0) {
        c->fatal = pgcatalog_connected(c->cat); /* a broken query stays broken */
        return -1;
    }
    if (lsn_tracker_in_flight(c->lsn) > 0 || c->in_txn)
        return 0;
    metrics_count(c->metrics, METRICS_HEARTBEATS);
    c->heartbeat_pending = 1;
    return replication_feedback(c->repl, c->lsn, 1, 1, errstr, errstr_size);
}

static int poll_server_wal(struct connector *c, int64_t now, char *errstr, size_t errstr_size)
{
    uint64_t lsn;
    if (now < c->next_wal_poll_ms)
        return 0;
    c->next_wal_poll_ms = now + WAL_POLL_MS;
    if (pgcatalog_current_wal_lsn(c->cat, &lsn, errstr, errstr_size) < 0)
        return -1;
    metrics_set(c->metrics, METRICS_SERVER_LSN, lsn);
    return 0;
}

/* Between bursts of messages: deliveries, due commits, heartbeats, metrics, status updates.
 * DRAINED: the stream has nothing more right now. The open Kafka transaction is then committed
 * at once (at a source-transaction boundary; unless transaction.commit.when.drained is false), so a
 * read_committed reader waits for no timer; batches grow only while the stream keeps data
 * coming, i.e. when throughput needs them. */
static int housekeeping(struct connector *c, int drained, char *errstr, size_t errstr_size)
{
    int64_t now = connector_mono_ms();
    publisher_poll(c->pub);
    if (publisher_failed(c->pub, errstr, errstr_size))
        return -1;
    int due = c->in_txn ? -1 : txnbatch_due_ms(c->batch);
    if ((due == 0 || (drained && c->o->txn_commit_drained && due > 0)) &&
        connector_commit_batch(c, errstr, errstr_size) < 0)
        return -1;
    if (heartbeat(c, now, errstr, errstr_size) < 0 ||
        poll_server_wal(c, now, errstr, errstr_size) < 0 ||
        replication_feedback(c->repl, c->lsn, 0, 0, errstr, errstr_size) < 0)
        return -1;
    metrics_set(c->metrics, METRICS_RECEIVED_LSN, lsn_tracker_get_received(c->lsn));
    metrics_set(c->metrics, METRICS_CONFIRMED_LSN, lsn_tracker_get_confirmed(c->lsn));
    return 0;
}

/* How long the loop may wait for the stream without missing a timer. */
static int wait_ms(const struct connector *c)
{
    int wait = replication_feedback_due_ms(c->repl);
    int due = c->in_txn ? -1 : txnbatch_due_ms(c->batch);
    if (due >= 0 && due < wait)
        wait = due;
    return wait < MAX_WAIT_MS ? wait : MAX_WAIT_MS;
}

static int loop(struct connector *c, char *errstr, size_t errstr_size)
{
    struct repl_proto_msg rm;
    while (!*c->stop) {
        int n = replication_next(c->repl, wait_ms(c), &rm, errstr, errstr_size);
        int i = 0;
        for (; n > 0 && i < BURST; i++) {
            if (handle_copy(c, &rm, errstr, errstr_size) < 0)
                return -1;
            n = i + 1 < BURST ? replication_next(c->repl, 0, &rm, errstr, errstr_size) : 0;
        }
        if (n < 0 || housekeeping(c, i < BURST, errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

/* At the end of the stream: commits (or, without transactions, flushes) what is complete and
 * confirms it; a half-read source transaction is aborted, to be read again next time. */
static int finish(struct connector *c, int ok, char *errstr, size_t errstr_size)
{
    char err[512];
    int rc = 0;
    metrics_set_state(c->metrics, METRICS_STATE_STOPPING);
    if (c->o->exactly_once && ok && !c->in_txn && txnbatch_due_ms(c->batch) >= 0)
        rc = connector_commit_batch(c, errstr, errstr_size);
    else if (c->o->exactly_once && txnbatch_abort(c->batch, err, sizeof err) != PUBLISHER_TXN_OK)
        log_warn("%s", err);
    if (!c->o->exactly_once &&
        (publisher_flush(c->pub, c->o->flush_timeout_ms, errstr, errstr_size) < 0 ||
         publisher_failed(c->pub, errstr, errstr_size)))
        rc = -1;
    publisher_poll(c->pub);
    if (replication_feedback(c->repl, c->lsn, 1, 0, err, sizeof err) < 0)
        log_warn("%s", err);
    metrics_set(c->metrics, METRICS_CONFIRMED_LSN, lsn_tracker_get_confirmed(c->lsn));
    log_info("stream ended transactions=%llu skipped=%llu events=%llu delivered=%llu "
             "kafka_transactions=%llu confirmed_flush=" LSN_FMT,
             (unsigned long long)c->txns, (unsigned long long)c->skipped,
             (unsigned long long)c->events, (unsigned long long)publisher_delivered(c->pub),
             (unsigned long long)txnbatch_commits(c->batch),
             LSN_ARGS(lsn_tracker_get_confirmed(c->lsn)));
    return rc;
}

int connector_stream(struct connector *c, char *errstr, size_t errstr_size)
{
    char err[1024];
    c->lsn = lsn_tracker_new(c->start_lsn);
    publisher_set_tracker(c->pub, c->lsn);
    txnbatch_set_tracker(c->batch, c->lsn);
    c->txns = c->events = c->skipped = 0;
    c->next_heartbeat_ms = connector_mono_ms() + c->o->heartbeat_interval_ms;
    c->next_wal_poll_ms = 0;
    if (replication_start(c->repl, c->start_lsn, errstr, errstr_size) < 0) {
        c->fatal =
            pgcatalog_connected(c->cat) && c->sessions == 1 && replication_connected(c->repl);
        return -1;
    }
    c->streamed = 1;
    metrics_set_state(c->metrics, METRICS_STATE_STREAMING);
    int rc = loop(c, errstr, errstr_size);
    /* even after an error, what is complete is committed or flushed and confirmed: nothing
     * undelivered is confirmed, and what was delivered need not be sent again */
    if (finish(c, rc == 0, err, sizeof err) < 0) {
        if (rc == 0)
            snprintf(errstr, errstr_size, "%s", err);
        else
            log_error("%s", err);
        rc = -1;
    }
    return rc;
}

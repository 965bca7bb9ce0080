/* Kafka transactions for consume-transform-produce (librdkafka's transactional producer), or
 * without them (at-least-once: an idempotent producer, and consumer offsets committed once
 * everything before them was delivered). */
#include "txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "xalloc.h"

/* Bounds of one transactional call; a call that times out is retried (it is retriable). */
#define TXN_CALL_TIMEOUT_MS 30000
#define TXN_CALL_ATTEMPTS 4

struct txn {
    rd_kafka_conf_t *conf; /* kept to create the producer again */
    rd_kafka_t *rk;
    char txid[256];
    int open;
    int transactional;    /* 0: at-least-once mode (no transactional.id) */
    unsigned long failed; /* deliveries failed since the batch began (at-least-once) */
    int timeout_ms, backoff_max_ms;
    volatile sig_atomic_t *stop;
    unsigned long resets;
    unsigned long too_large; /* deliveries refused as too large */
    uint32_t random;
};

/* A delivery report failing inside a transaction makes the commit fail as abortable; the
 * report is logged so that the cause is visible. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct txn *t = opaque;
    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        t->too_large++;
    if (m->err)
        t->failed++;
    if (m->err)
        log_warn("delivery failed topic=%s partition=%d error=\"%s\"", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, rd_kafka_err2str(m->err));
}

/* Formats ERROR ("name: description") into ERRSTR after WHAT, then destroys it. */
static void describe(rd_kafka_error_t *error, const char *what, const char *txid, char *errstr,
                     size_t errstr_size)
{
    snprintf(errstr, errstr_size, "%s (transactional.id %s): %s: %s", what, txid,
             rd_kafka_error_name(error), rd_kafka_error_string(error));
}

/* Creates the producer and runs init_transactions, retrying until the deadline or a stop. */
static int start_producer(struct txn *t, char *errstr, size_t errstr_size)
{
    char err[512];
    for (int attempt = 1;; attempt++) {
        rd_kafka_conf_t *conf = rd_kafka_conf_dup(t->conf);
        t->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (!t->rk) {
            rd_kafka_conf_destroy(conf);
            snprintf(errstr, errstr_size, "create Kafka producer %s: %s", t->txid, err);
            return -1;
        }
        if (!t->transactional)
            return 0;
        rd_kafka_error_t *error = rd_kafka_init_transactions(t->rk, t->timeout_ms);
        if (!error)
            return 0;
        describe(error, "init_transactions", t->txid, errstr, errstr_size);
        int retry = rd_kafka_error_is_retriable(error) ||
                    rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__TIMED_OUT;
        rd_kafka_error_destroy(error);
        rd_kafka_destroy(t->rk);
        t->rk = NULL;
        if (!retry || attempt >= TXN_CALL_ATTEMPTS * 4) {
            size_t n = strlen(errstr);
            snprintf(errstr + n, errstr_size - n,
                     " (gave up after %d attempts: is Kafka up at kafka.bootstrap.servers?)",
                     attempt);
            return -1;
        }
        long wait = http_backoff_ms(attempt, 500, t->backoff_max_ms, http_random(&t->random));
        log_warn("%s; retrying in %ld ms", errstr, wait);
        if (http_sleep_ms(wait, t->stop) < 0)
            return -1;
    }
}

struct txn *txn_new(const rd_kafka_conf_t *conf, int timeout_ms, int backoff_max_ms,
                    volatile sig_atomic_t *stop, char *errstr, size_t errstr_size)
{
    struct txn *t = xcalloc(1, sizeof *t);
    size_t n = sizeof t->txid;
    t->conf = rd_kafka_conf_dup(conf);
    t->transactional =
        rd_kafka_conf_get(t->conf, "transactional.id", t->txid, &n) == RD_KAFKA_CONF_OK &&
        t->txid[0];
    if (!t->transactional)
        snprintf(t->txid, sizeof t->txid, "(none: at-least-once)");
    rd_kafka_conf_set_dr_msg_cb(t->conf, on_delivery);
    rd_kafka_conf_set_opaque(t->conf, t);
    t->timeout_ms = timeout_ms;
    t->backoff_max_ms = backoff_max_ms;
    t->stop = stop;
    if (start_producer(t, errstr, errstr_size) < 0) {
        txn_destroy(t);
        return NULL;
    }
    return t;
}

void txn_destroy(struct txn *t)
{
    if (!t)
        return;
    if (t->rk) {
        if (t->open)
            txn_abort(t);
        rd_kafka_flush(t->rk, 5000);
        if (rd_kafka_outq_len(t->rk) > 0)
            log_warn("producer closing with %d events not delivered", rd_kafka_outq_len(t->rk));
        rd_kafka_destroy(t->rk);
    }
    rd_kafka_conf_destroy(t->conf);
    free(t);
}

int txn_is_open(const struct txn *t)
{
    return t->open;
}

unsigned long txn_take_too_large(struct txn *t)
{
    unsigned long n = t->too_large;
    t->too_large = 0;
    return n;
}

unsigned long txn_resets(const struct txn *t)
{
    return t->resets;
}

void txn_poll(struct txn *t)
{
    rd_kafka_poll(t->rk, 0);
}

/* Replaces a producer that hit a fatal error: whatever it had open is aborted by the new one's
 * init_transactions (same transactional.id). */
static enum txn_status reset(struct txn *t)
{
    char err[1024];
    t->open = 0;
    t->resets++;
    rd_kafka_purge(t->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(t->rk);
    t->rk = NULL;
    for (;;) {
        if (start_producer(t, err, sizeof err) == 0) {
            log_info("transactional producer re-created transactional.id=%s", t->txid);
            return TXN_RESET;
        }
        if (*t->stop)
            return TXN_STOPPED;
        log_error("%s; trying again", err);
    }
}

enum txn_status txn_abort(struct txn *t)
{
    char err[1024];
    if (!t->open)
        return TXN_ABORTED;
    if (!t->transactional) { /* what was delivered stays: it is read again (at-least-once) */
        rd_kafka_flush(t->rk, t->timeout_ms);
        t->open = 0;
        return TXN_ABORTED;
    }
    for (int attempt = 1;; attempt++) {
        rd_kafka_error_t *error = rd_kafka_abort_transaction(t->rk, TXN_CALL_TIMEOUT_MS);
        if (!error) {
            t->open = 0;
            return TXN_ABORTED;
        }
        describe(error, "abort transaction", t->txid, err, sizeof err);
        int retry = rd_kafka_error_is_retriable(error) && attempt < TXN_CALL_ATTEMPTS;
        rd_kafka_error_destroy(error);
        log_warn("%s%s", err, retry ? "; retrying" : "; re-creating the producer");
        if (!retry)
            return reset(t);
    }
}

enum txn_status txn_begin(struct txn *t)
{
    char err[1024];
    if (t->open)
        return TXN_OK;
    if (!t->transactional) {
        t->open = 1;
        t->failed = 0;
        return TXN_OK;
    }
    rd_kafka_error_t *error = rd_kafka_begin_transaction(t->rk);
    if (!error) {
        t->open = 1;
        return TXN_OK;
    }
    describe(error, "begin transaction", t->txid, err, sizeof err);
    rd_kafka_error_destroy(error);
    log_warn("%s; re-creating the producer", err);
    return reset(t);
}

enum txn_status txn_produce(struct txn *t, const char *topic, int32_t partition, const void *key,
                            size_t key_len, const void *value, size_t value_len,
                            rd_kafka_headers_t *headers, char *errstr, size_t errstr_size)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            t->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return TXN_OK;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(t->rk, 100); /* deliveries free room in the queue */
            continue;
        }
        if (headers)
            rd_kafka_headers_destroy(headers);
        snprintf(errstr, errstr_size, "produce to %s [%d]: %s", topic, (int)partition,
                 rd_kafka_err2str(err));
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) /* refused locally: nothing sent */
            return TXN_TOO_LARGE;
        return err == RD_KAFKA_RESP_ERR__FATAL ? reset(t) : txn_abort(t);
    }
}

/* Maps a failed send-offsets or commit ERROR (destroyed here) to an abort when the
 * transaction can be aborted, else to a new producer (fatal, or the outcome is unknown). */
static enum txn_status settle(struct txn *t, rd_kafka_error_t *error, const char *what,
                              char *errstr, size_t errstr_size)
{
    describe(error, what, t->txid, errstr, errstr_size);
    int abortable = rd_kafka_error_txn_requires_abort(error);
    rd_kafka_error_destroy(error);
    log_warn("%s; %s", errstr, abortable ? "aborting" : "re-creating the producer");
    return abortable ? txn_abort(t) : reset(t);
}

/* At-least-once: waits until every record produced is delivered, then commits OFFSETS (the
 * consumer's, synchronously). A failed delivery means the batch is read again. */
static enum txn_status commit_offsets(struct txn *t, rd_kafka_t *consumer,
                                      const rd_kafka_topic_partition_list_t *offsets, char *errstr,
                                      size_t errstr_size)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(t->rk, t->timeout_ms);
    t->open = 0;
    if (err || t->failed) {
        snprintf(errstr, errstr_size, "deliver batch: %s",
                 err ? "not every record was delivered within timeout.ms"
                     : "a delivery failed (see the log)");
        return TXN_ABORTED;
    }
    if (offsets && offsets->cnt > 0 && (err = rd_kafka_commit(consumer, offsets, 0))) {
        snprintf(errstr, errstr_size, "commit consumer offsets: %s", rd_kafka_err2str(err));
        return TXN_ABORTED;
    }
    return TXN_OK;
}

enum txn_status txn_commit(struct txn *t, rd_kafka_t *consumer,
                           const rd_kafka_topic_partition_list_t *offsets, char *errstr,
                           size_t errstr_size)
{
    rd_kafka_error_t *error = NULL;
    if (!t->transactional)
        return commit_offsets(t, consumer, offsets, errstr, errstr_size);
    if (offsets && offsets->cnt > 0) {
        rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(consumer);
        for (int attempt = 1; attempt <= TXN_CALL_ATTEMPTS; attempt++) {
            error = rd_kafka_send_offsets_to_transaction(t->rk, offsets, cgmd, TXN_CALL_TIMEOUT_MS);
            if (!error || !rd_kafka_error_is_retriable(error) || attempt == TXN_CALL_ATTEMPTS)
                break;
            rd_kafka_error_destroy(error);
        }
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        if (error)
            return settle(t, error, "send offsets to transaction", errstr, errstr_size);
    }
    for (int attempt = 1; attempt <= TXN_CALL_ATTEMPTS; attempt++) {
        error = rd_kafka_commit_transaction(t->rk, TXN_CALL_TIMEOUT_MS);
        if (!error) {
            t->open = 0;
            return TXN_OK;
        }
        if (!rd_kafka_error_is_retriable(error) || attempt == TXN_CALL_ATTEMPTS)
            break;
        rd_kafka_error_destroy(error); /* a retried commit is safe: same transaction */
    }
    return settle(t, error, "commit transaction", errstr, errstr_size);
}

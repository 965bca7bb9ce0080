/* Kafka producer (idempotent or transactional) whose delivery reports drive the LSN tracker. */
#include "publisher.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_conf.h"
#include "log.h"
#include "xalloc.h"

struct publisher {
    rd_kafka_t *rk;
    struct lsn_tracker *lsn;
    int transactional, in_txn;
    int failed;
    char first_error[512];
    uint64_t delivered, produced;
};

/* Delivery report: the opaque is the event's transaction sequence number. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct publisher *p = opaque;
    (void)rk;
    if (m->err) {
        if (!p->failed)
            snprintf(p->first_error, sizeof p->first_error, "deliver a record to topic %s: %s (%s)",
                     rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
                     rd_kafka_err2name(m->err));
        p->failed = 1;
        return; /* never acknowledged: the flush LSN stays before it */
    }
    p->delivered++;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    if (p->lsn && seq != PUBLISHER_UNTRACKED)
        lsn_tracker_ack(p->lsn, seq);
}

static rd_kafka_conf_t *make_conf(const struct config *cfg, const char *transactional_id,
                                  int txn_timeout_ms, char *errstr, size_t errstr_size)
{
    /* queue.buffering.max.kbytes bounds the memory of records waiting for Kafka (librdkafka's
     * default is 1 GB): when Kafka is slower than the WAL, produce waits instead */
    static const char *const defaults[] = {"enable.idempotence", "true", "acks", "all", "linger.ms",
                                           "5", "queue.buffering.max.kbytes", "4096", "client.id",
                                           "salescdc-connector",
                                           /* a transaction's first AddPartitionsToTxn meets
                                              CONCURRENT_TRANSACTIONS while the broker still
                                              writes the previous one's markers; librdkafka
                                              retries after this (default 100 ms) */
                                           "retry.backoff.ms", "10", NULL};
    char buf[512];
    size_t n = sizeof buf;
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, errstr, errstr_size);
    if (!conf)
        return NULL;
    if (rd_kafka_conf_get(conf, "bootstrap.servers", buf, &n) != RD_KAFKA_CONF_OK || !buf[0]) {
        snprintf(errstr, errstr_size,
                 "option kafka.bootstrap.servers: not set (e.g. --kafka.bootstrap.servers "
                 "127.0.0.1:9092 or SALESCDC_KAFKA__BOOTSTRAP_SERVERS). Try --help");
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    snprintf(buf, sizeof buf, "%d", txn_timeout_ms);
    if ((transactional_id &&
         kafka_conf_set(conf, "transactional.id", transactional_id, errstr, errstr_size) < 0) ||
        (txn_timeout_ms > 0 &&
         kafka_conf_set(conf, "transaction.timeout.ms", buf, errstr, errstr_size) < 0)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

struct publisher *publisher_new(const struct config *cfg, struct lsn_tracker *t,
                                const char *transactional_id, int txn_timeout_ms, char *errstr,
                                size_t errstr_size)
{
    char buf[512];
    rd_kafka_conf_t *conf = make_conf(cfg, transactional_id, txn_timeout_ms, errstr, errstr_size);
    if (!conf)
        return NULL;
    struct publisher *p = xcalloc(1, sizeof *p);
    p->lsn = t;
    p->transactional = transactional_id != NULL;
    kafka_conf_route_logs(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, buf, sizeof buf);
    if (!p->rk) {
        snprintf(errstr, errstr_size, "create Kafka producer: %s", buf);
        rd_kafka_conf_destroy(conf);
        publisher_destroy(p);
        return NULL;
    }
    return p;
}

void publisher_destroy(struct publisher *p)
{
    if (!p)
        return;
    if (p->rk)
        rd_kafka_destroy(p->rk);
    free(p);
}

int publisher_send(struct publisher *p, const char *topic, const void *key, size_t key_len,
                   const void *value, size_t value_len, uint64_t txn_seq, char *errstr,
                   size_t errstr_size)
{
    int tracked = p->lsn && txn_seq != PUBLISHER_UNTRACKED;
    if (tracked)
        lsn_tracker_event(p->lsn, txn_seq);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY((void *)key, key ? key_len : 0),
            RD_KAFKA_V_VALUE((void *)value, value ? value_len : 0),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)txn_seq), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            p->produced++;
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (tracked)
                lsn_tracker_unevent(p->lsn, txn_seq);
            snprintf(errstr, errstr_size, "produce a record to topic %s: %s", topic,
                     rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(p->rk, 100); /* the local queue is full: let deliveries drain it */
    }
}

void publisher_poll(struct publisher *p)
{
    rd_kafka_poll(p->rk, 0);
}

int publisher_failed(const struct publisher *p, char *errstr, size_t errstr_size)
{
    if (p->failed)
        snprintf(errstr, errstr_size, "%s", p->first_error);
    return p->failed;
}

int publisher_flush(struct publisher *p, int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_flush(p->rk, timeout_ms);
    int left = rd_kafka_outq_len(p->rk);
    if (left > 0) {
        snprintf(errstr, errstr_size,
                 "flush Kafka producer: %d records still undelivered after %d ms", left,
                 timeout_ms);
        return -1;
    }
    return 0;
}

uint64_t publisher_delivered(const struct publisher *p)
{
    return p->delivered;
}

uint64_t publisher_produced(const struct publisher *p)
{
    return p->produced;
}

/* Writes "WHAT: <error>" into errstr and destroys ERROR; returns its classification. */
static enum publisher_txn_result txn_error(rd_kafka_error_t *error, const char *what, char *errstr,
                                           size_t errstr_size)
{
    rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    enum publisher_txn_result r = PUBLISHER_TXN_UNKNOWN;
    if (code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED)
        r = PUBLISHER_TXN_FENCED;
    else if (rd_kafka_error_txn_requires_abort(error))
        r = PUBLISHER_TXN_ABORTED;
    snprintf(errstr, errstr_size, "%s: %s (%s%s%s)", what, rd_kafka_error_string(error),
             rd_kafka_error_name(error), rd_kafka_error_is_fatal(error) ? ", fatal" : "",
             rd_kafka_error_is_retriable(error) ? ", retriable" : "");
    rd_kafka_error_destroy(error);
    return r;
}

int publisher_init_transactions(struct publisher *p, int timeout_ms, char *errstr,
                                size_t errstr_size)
{
    rd_kafka_error_t *error = rd_kafka_init_transactions(p->rk, timeout_ms);
    if (!error)
        return 0;
    txn_error(error, "initialise Kafka transactions", errstr, errstr_size);
    return -1;
}

int publisher_begin(struct publisher *p, char *errstr, size_t errstr_size)
{
    rd_kafka_error_t *error = rd_kafka_begin_transaction(p->rk);
    if (!error) {
        p->in_txn = 1;
        return 0;
    }
    txn_error(error, "begin a Kafka transaction", errstr, errstr_size);
    return -1;
}

enum publisher_txn_result publisher_abort(struct publisher *p, int timeout_ms, char *errstr,
                                          size_t errstr_size)
{
    rd_kafka_error_t *error = rd_kafka_abort_transaction(p->rk, timeout_ms);
    p->in_txn = 0;
    if (!error)
        return PUBLISHER_TXN_OK;
    enum publisher_txn_result r =
        txn_error(error, "abort a Kafka transaction", errstr, errstr_size);
    return r == PUBLISHER_TXN_FENCED ? r : PUBLISHER_TXN_UNKNOWN;
}

enum publisher_txn_result publisher_commit(struct publisher *p, int timeout_ms, char *errstr,
                                           size_t errstr_size)
{
    char err[512];
    rd_kafka_error_t *error = rd_kafka_commit_transaction(p->rk, timeout_ms);
    if (!error) {
        p->in_txn = 0;
        return PUBLISHER_TXN_OK;
    }
    enum publisher_txn_result r =
        txn_error(error, "commit a Kafka transaction", errstr, errstr_size);
    if (r != PUBLISHER_TXN_ABORTED)
        return r; /* in doubt: only a new producer (init_transactions) settles it */
    if (publisher_abort(p, timeout_ms, err, sizeof err) != PUBLISHER_TXN_OK) {
        size_t n = strlen(errstr);
        snprintf(errstr + n, errstr_size - n, "; then %s", err);
        return PUBLISHER_TXN_UNKNOWN;
    }
    return PUBLISHER_TXN_ABORTED;
}

int publisher_in_transaction(const struct publisher *p)
{
    return p->in_txn;
}

int publisher_fenced(const struct publisher *p)
{
    char why[256];
    rd_kafka_resp_err_t err = rd_kafka_fatal_error(p->rk, why, sizeof why);
    return err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED;
}

int publisher_txn_timeout_ms(const struct publisher *p)
{
    char buf[32];
    size_t n = sizeof buf;
    if (rd_kafka_conf_get(rd_kafka_conf(p->rk), "transaction.timeout.ms", buf, &n) !=
        RD_KAFKA_CONF_OK)
        return -1;
    return atoi(buf);
}

void publisher_set_tracker(struct publisher *p, struct lsn_tracker *t)
{
    p->lsn = t;
}

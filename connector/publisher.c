/* Idempotent Kafka producer whose delivery reports drive the LSN tracker. */
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
    int failed;
    char first_error[512];
    uint64_t delivered;
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
    lsn_tracker_ack(p->lsn, (uint64_t)(uintptr_t)m->_private);
}

struct publisher *publisher_new(const struct config *cfg, struct lsn_tracker *t, char *errstr,
                                size_t errstr_size)
{
    static const char *const defaults[] = {
        "enable.idempotence", "true", "acks", "all", "linger.ms", "5", "client.id",
        "salescdc-connector", NULL};
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
    struct publisher *p = xcalloc(1, sizeof *p);
    p->lsn = t;
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
    lsn_tracker_event(p->lsn, txn_seq);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY((void *)key, key ? key_len : 0),
            RD_KAFKA_V_VALUE((void *)value, value ? value_len : 0),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)txn_seq), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
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

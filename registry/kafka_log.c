/* The registry's durable log on a compacted Kafka topic. */
#include "kafka_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_conf.h"
#include "log.h"
#include "xalloc.h"

struct kafka_log {
    rd_kafka_t *producer;
    rd_kafka_t *consumer;
    char *topic;
    int replication_factor;
    int write_timeout_ms;
    int assigned;
    int64_t next_offset; /* offset after the last record read */
};

/* One append's delivery report. Heap-allocated: if the writer stops waiting, the report (which
 * librdkafka always delivers, at the latest after message.timeout.ms) frees it. */
struct delivery {
    int done, abandoned;
    rd_kafka_resp_err_t err;
    int64_t offset;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    struct delivery *d = m->_private;
    if (!d)
        return;
    if (d->abandoned) {
        if (m->err)
            log_warn("a schemas log write given up on failed after all: %s",
                     rd_kafka_err2str(m->err));
        free(d);
        return;
    }
    d->err = m->err;
    d->offset = m->offset;
    d->done = 1;
}

static rd_kafka_t *new_client(const rd_kafka_conf_t *base, rd_kafka_type_t type,
                              const char *const *forced, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(base);
    for (size_t i = 0; forced[i]; i += 2) {
        if (kafka_conf_set(conf, forced[i], forced[i + 1], errstr, errstr_size) < 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    kafka_conf_route_logs(conf);
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        snprintf(errstr, errstr_size, "cannot create the Kafka %s: %s",
                 type == RD_KAFKA_PRODUCER ? "producer" : "consumer", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

struct kafka_log *kafka_log_new(const rd_kafka_conf_t *base, const char *topic,
                                int replication_factor, int write_timeout_ms, char *errstr,
                                size_t errstr_size)
{
    char timeout[32], group[300];
    snprintf(timeout, sizeof timeout, "%d", write_timeout_ms);
    snprintf(group, sizeof group, "salescdc-registry-%s", topic);
    const char *const producer_conf[] = {
        "enable.idempotence", "true", "acks", "all", "message.timeout.ms", timeout,
        "linger.ms",          "0",    NULL};
    /* group.id only because librdkafka's consumer API wants one: the partition is assigned,
     * never subscribed, and no offset is ever committed. */
    const char *const consumer_conf[] = {"group.id",
                                         group,
                                         "enable.auto.commit",
                                         "false",
                                         "enable.auto.offset.store",
                                         "false",
                                         "enable.partition.eof",
                                         "false",
                                         NULL};
    struct kafka_log *kl = xcalloc(1, sizeof *kl);
    kl->topic = xstrdup(topic);
    kl->replication_factor = replication_factor;
    kl->write_timeout_ms = write_timeout_ms;
    kl->producer = new_client(base, RD_KAFKA_PRODUCER, producer_conf, errstr, errstr_size);
    if (kl->producer)
        kl->consumer = new_client(base, RD_KAFKA_CONSUMER, consumer_conf, errstr, errstr_size);
    if (!kl->consumer) {
        kafka_log_destroy(kl);
        return NULL;
    }
    return kl;
}

/* Number of brokers in the cluster, or -1 with errstr. */
static int broker_count(struct kafka_log *kl, int timeout_ms, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(kl->producer, 0, NULL, &md, timeout_ms);
    if (err) {
        snprintf(errstr, errstr_size, "cannot reach Kafka for metadata: %s", rd_kafka_err2str(err));
        return -1;
    }
    int n = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Sends CreateTopics; returns the topic's result code (or a request error). */
static rd_kafka_resp_err_t create_topic(struct kafka_log *kl, int rf, int timeout_ms, char *errstr,
                                        size_t errstr_size)
{
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(kl->topic, 1, rf, err, sizeof err);
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(kl->producer);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(kl->producer, RD_KAFKA_ADMIN_OP_ANY);
    rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, err, sizeof err);
    rd_kafka_CreateTopics(kl->producer, &nt, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR__TIMED_OUT;
    snprintf(errstr, errstr_size, "no answer to CreateTopics");
    if (ev && rd_kafka_event_error(ev)) {
        rc = rd_kafka_event_error(ev);
        snprintf(errstr, errstr_size, "%s", rd_kafka_event_error_string(ev));
    } else if (ev) {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rc = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
        const char *msg = n ? rd_kafka_topic_result_error_string(res[0]) : NULL;
        snprintf(errstr, errstr_size, "%s", msg ? msg : rd_kafka_err2str(rc));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

static int partition_count(struct kafka_log *kl, int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(kl->producer, kl->topic, NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(kl->producer, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        snprintf(errstr, errstr_size, "cannot read the metadata of topic %s: %s", kl->topic,
                 rd_kafka_err2str(err             ? err
                                  : md->topic_cnt ? md->topics[0].err
                                                  : err));
        if (!err)
            rd_kafka_metadata_destroy(md);
        return -1;
    }
    int n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

int kafka_log_ensure_topic(struct kafka_log *kl, int timeout_ms, char *errstr, size_t errstr_size)
{
    char why[512];
    int brokers = broker_count(kl, timeout_ms, errstr, errstr_size);
    if (brokers < 0)
        return -1;
    int rf = kl->replication_factor < brokers ? kl->replication_factor : brokers;
    rd_kafka_resp_err_t rc = create_topic(kl, rf > 0 ? rf : 1, timeout_ms, why, sizeof why);
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR)
        log_info("created the schemas topic %s (1 partition, compacted, replication factor %d)",
                 kl->topic, rf);
    else if (rc != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        snprintf(errstr, errstr_size, "cannot create the schemas topic %s: %s", kl->topic, why);
        return -1;
    }
    int n = partition_count(kl, timeout_ms, errstr, errstr_size);
    if (n < 0)
        return -1;
    if (n != 1) {
        snprintf(errstr, errstr_size,
                 "topic %s has %d partitions; a schemas log needs exactly 1 (records must stay "
                 "in order): use another --store.topic",
                 kl->topic, n);
        return -1;
    }
    return 0;
}

static int append(void *ctx, const char *key, const char *value, int64_t *offset, char *errstr,
                  size_t errstr_size)
{
    struct kafka_log *kl = ctx;
    struct delivery *d = xcalloc(1, sizeof *d);
    long long deadline = now_ms() + kl->write_timeout_ms + 5000;
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(kl->producer, RD_KAFKA_V_TOPIC(kl->topic),
                                    RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(d),
                                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
           now_ms() < deadline)
        rd_kafka_poll(kl->producer, 100);
    if (err) {
        snprintf(errstr, errstr_size, "cannot produce to %s: %s", kl->topic, rd_kafka_err2str(err));
        free(d);
        return -1;
    }
    while (!d->done && now_ms() < deadline)
        rd_kafka_poll(kl->producer, 50);
    if (!d->done) {
        d->abandoned = 1; /* freed by its delivery report */
        snprintf(errstr, errstr_size, "no delivery report from Kafka for a write to %s", kl->topic);
        return -1;
    }
    err = d->err;
    *offset = d->offset;
    free(d);
    if (err) {
        snprintf(errstr, errstr_size, "Kafka did not take a write to %s: %s", kl->topic,
                 rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

static int assign(struct kafka_log *kl, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, kl->topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign(kl->consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err) {
        snprintf(errstr, errstr_size, "cannot read topic %s: %s", kl->topic, rd_kafka_err2str(err));
        return -1;
    }
    kl->assigned = 1;
    return 0;
}

/* Where the consumer is: the offset after the last record read, or further when the log has
 * gaps (compacted-away or control records) the consumer has already stepped over. */
static int64_t position(struct kafka_log *kl)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, kl->topic, 0);
    int64_t pos = kl->next_offset;
    if (rd_kafka_position(kl->consumer, parts) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        parts->elems[0].offset > pos)
        pos = parts->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    return pos;
}

/* The offset reading must reach: UNTIL + 1, or the current end of the log when UNTIL < 0
 * (0 when the log is empty). Returns -1 with errstr if the end cannot be found. */
static int64_t target_offset(struct kafka_log *kl, int64_t until, int timeout_ms, char *errstr,
                             size_t errstr_size)
{
    if (until >= 0)
        return until + 1;
    int64_t low, high;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(kl->consumer, kl->topic, 0, &low, &high, timeout_ms);
    if (err) {
        snprintf(errstr, errstr_size, "cannot find the end of topic %s: %s", kl->topic,
                 rd_kafka_err2str(err));
        return -1;
    }
    if (low >= high && kl->next_offset < high)
        kl->next_offset = high; /* empty, or everything before was deleted */
    return high;
}

static int read_until(void *ctx, int64_t until, int timeout_ms, registry_record_fn fn, void *arg,
                      char *errstr, size_t errstr_size)
{
    struct kafka_log *kl = ctx;
    long long deadline = now_ms() + timeout_ms;
    if (!kl->assigned && assign(kl, errstr, errstr_size) < 0)
        return -1;
    int64_t target = target_offset(kl, until, timeout_ms, errstr, errstr_size);
    if (target < 0)
        return -1;
    while (position(kl) < target) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(kl->consumer, left < 100 ? (int)left : 100);
        if (!m)
            continue;
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            log_warn("reading topic %s: %s", kl->topic, rd_kafka_message_errstr(m));
        else if (!m->err) {
            fn(arg, m->key, m->key_len, m->payload, m->len);
            kl->next_offset = m->offset + 1;
        }
        rd_kafka_message_destroy(m);
    }
    return 1;
}

struct registry_log kafka_log_interface(struct kafka_log *kl)
{
    return (struct registry_log){kl, append, read_until};
}

void kafka_log_destroy(struct kafka_log *kl)
{
    if (!kl)
        return;
    if (kl->producer) {
        rd_kafka_flush(kl->producer, 5000);
        int left = rd_kafka_outq_len(kl->producer);
        if (left > 0)
            log_warn("%d schemas log writes were still in flight at shutdown", left);
        rd_kafka_destroy(kl->producer);
    }
    if (kl->consumer) {
        rd_kafka_consumer_close(kl->consumer);
        rd_kafka_destroy(kl->consumer);
    }
    free(kl->topic);
    free(kl);
}

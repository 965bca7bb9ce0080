/* The consume-transform-produce loop: poll, process, produce in the open transaction, commit
 * by count or age; the loop only dispatches. */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "kafka_conf.h"
#include "log.h"
#include "pipeline_internal.h"
#include "xalloc.h"

static rd_kafka_t *new_consumer(struct pipeline *p, char *errstr, size_t errstr_size)
{
    const struct transformer_options *o = p->d.o;
    const char *defaults[] = {"bootstrap.servers",
                              "127.0.0.1:9092",
                              "client.id",
                              TRANSFORMER_PROGRAM,
                              "auto.offset.reset",
                              "earliest",
                              "enable.partition.eof",
                              "false",
                              NULL};
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(o->cfg, defaults, errstr, errstr_size);
    if (!conf)
        return NULL;
    /* Whatever the user passes through: offsets are committed only inside transactions, and
     * only committed input is read. */
    if (kafka_conf_set(conf, "group.id", o->group_id, errstr, errstr_size) < 0 ||
        kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) < 0 ||
        kafka_conf_set(conf, "isolation.level", "read_committed", errstr, errstr_size) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    kafka_conf_route_logs(conf);
    rd_kafka_conf_set_rebalance_cb(conf, pipeline_on_rebalance);
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "create Kafka consumer: %s", err);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static struct txn *new_txn(struct pipeline *p, char *errstr, size_t errstr_size)
{
    const struct transformer_options *o = p->d.o;
    const char *defaults[] = {"bootstrap.servers", "127.0.0.1:9092", "client.id",
                              TRANSFORMER_PROGRAM, "linger.ms", "5",
                              /* The next transaction's AddPartitionsToTxn meets
                                 CONCURRENT_TRANSACTIONS while the broker still writes the last
                                 one's markers; librdkafka retries after this (default 100). */
                              "retry.backoff.ms", "10", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(o->cfg, defaults, errstr, errstr_size);
    if (!conf)
        return NULL;
    int set =
        o->exactly_once
            ? kafka_conf_set(conf, "transactional.id", o->transactional_id, errstr, errstr_size)
            : kafka_conf_set(conf, "enable.idempotence", "true", errstr, errstr_size);
    if (set < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    kafka_conf_route_logs(conf);
    struct txn *t =
        txn_new(conf, o->timeout_ms, o->retry_backoff_max_ms, p->d.stop, errstr, errstr_size);
    rd_kafka_conf_destroy(conf);
    return t;
}

/* The client for metadata and admin requests (topics.c). Not the consumer: a request on the
 * consumer's connection waits behind its fetch (up to fetch.wait.max.ms, 500 ms), which made
 * every new route cost seconds. */
static rd_kafka_t *new_admin(struct pipeline *p, char *errstr, size_t errstr_size)
{
    const char *defaults[] = {"bootstrap.servers", "127.0.0.1:9092", "client.id",
                              TRANSFORMER_PROGRAM, NULL};
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(p->d.o->cfg, defaults, errstr, errstr_size);
    if (!conf)
        return NULL;
    /* a metadata request must not create a topic with the broker's default partition count */
    if (kafka_conf_set(conf, "allow.auto.create.topics", "false", errstr, errstr_size) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    kafka_conf_route_logs(conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "create Kafka admin client: %s", err);
    }
    return rk;
}

/* Subscribes to the topic list, or to the regex ("^..." subscribes by pattern). */
static int subscribe(struct pipeline *p, char *errstr, size_t errstr_size)
{
    const struct transformer_options *o = p->d.o;
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
    if (*o->topics) {
        char *copy = xstrdup(o->topics), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            rd_kafka_topic_partition_list_add(topics, t, RD_KAFKA_PARTITION_UA);
        free(copy);
    } else {
        rd_kafka_topic_partition_list_add(topics, o->topics_regex, RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t err = rd_kafka_subscribe(p->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "subscribe to %s: %s",
                 *o->topics ? o->topics : o->topics_regex, rd_kafka_err2str(err));
        return -1;
    }
    log_info("subscribed %s=%s group=%s transactional.id=%s format=%s",
             *o->topics ? "topics" : "regex", *o->topics ? o->topics : o->topics_regex, o->group_id,
             o->exactly_once ? o->transactional_id : "(none: at-least-once)",
             o->format == TRANSFORMER_FORMAT_AVRO ? "avro" : "json");
    return 0;
}

struct pipeline *pipeline_new(const struct pipeline_deps *deps, char *errstr, size_t errstr_size)
{
    struct pipeline *p = xcalloc(1, sizeof *p);
    p->d = *deps;
    p->pending = rd_kafka_topic_partition_list_new(16);
    p->consumer = new_consumer(p, errstr, errstr_size);
    if (p->consumer)
        p->admin = new_admin(p, errstr, errstr_size);
    if (p->admin)
        p->txn = new_txn(p, errstr, errstr_size);
    if (!p->consumer || !p->admin || !p->txn || subscribe(p, errstr, errstr_size) < 0) {
        pipeline_destroy(p);
        return NULL;
    }
    struct topics_options to = {deps->o->output_topic, deps->o->dlq_topic, deps->o->topic_create,
                                deps->o->topic_replication_factor, deps->o->timeout_ms};
    p->topics = topics_new(p->admin, &to);
    metrics_set_ready(p->d.metrics, 1);
    return p;
}

void pipeline_destroy(struct pipeline *p)
{
    if (!p)
        return;
    metrics_set_ready(p->d.metrics, 0);
    if (p->consumer) {
        rd_kafka_consumer_close(p->consumer); /* the revoke callback commits what is open */
        rd_kafka_destroy(p->consumer);
    }
    txn_destroy(p->txn);
    topics_destroy(p->topics);
    if (p->admin)
        rd_kafka_destroy(p->admin);
    rd_kafka_topic_partition_list_destroy(p->pending);
    strbuf_release(&p->result.value);
    free(p);
}

/* Remembers that the record at OFFSET of TOPIC/PARTITION is handled in the open transaction. */
static void pending_add(struct pipeline *p, const char *topic, int32_t partition, int64_t next)
{
    rd_kafka_topic_partition_t *tp =
        rd_kafka_topic_partition_list_find(p->pending, topic, partition);
    if (!tp)
        tp = rd_kafka_topic_partition_list_add(p->pending, topic, partition);
    tp->offset = next;
    p->in_txn_records++;
}

/* Headers of a dead letter: the record's own headers, then why and where from. */
static rd_kafka_headers_t *dlq_headers(const rd_kafka_message_t *m, const struct process_result *r)
{
    rd_kafka_headers_t *orig = NULL, *h;
    char text[64], when[64];
    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR)
        h = rd_kafka_headers_copy(orig);
    else
        h = rd_kafka_headers_new(6);
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    rd_kafka_header_add(h, "salescdc.error", -1, r->error, -1);
    rd_kafka_header_add(h, "salescdc.error.class", -1, r->error_class, -1);
    rd_kafka_header_add(h, "salescdc.source.topic", -1, rd_kafka_topic_name(m->rkt), -1);
    snprintf(text, sizeof text, "%d", (int)m->partition);
    rd_kafka_header_add(h, "salescdc.source.partition", -1, text, -1);
    snprintf(text, sizeof text, "%lld", (long long)m->offset);
    rd_kafka_header_add(h, "salescdc.source.offset", -1, text, -1);
    rd_kafka_header_add(h, "salescdc.time", -1, when, -1);
    return h;
}

/* The registry or Kafka metadata is unavailable: read the record again after a wait, and
 * commit what is done so far so that the open transaction does not outlive its timeout. */
static void retry_later(struct pipeline *p, const rd_kafka_message_t *m, const char *why)
{
    rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(at, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset;
    rd_kafka_error_t *error = rd_kafka_seek_partitions(p->consumer, at, p->d.o->timeout_ms);
    rd_kafka_topic_partition_list_destroy(at);
    if (error) {
        log_warn("seek back to %s [%d] offset %lld: %s", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, (long long)m->offset, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        p->need_rewind = 1;
    }
    pipeline_commit(p);
    p->counts.registry_retries++;
    long wait = http_backoff_ms(++p->retry_attempt, 200, p->d.o->retry_backoff_max_ms,
                                http_random(&p->random));
    log_warn("%s; reading %s [%d] offset %lld again in %ld ms", why, rd_kafka_topic_name(m->rkt),
             (int)m->partition, (long long)m->offset, wait);
    http_sleep_ms(wait, p->d.stop);
}

/* Bytes a record adds to a record batch beyond its key, value and headers (attributes,
 * timestamp and offset deltas, lengths), plus the batch header: what the broker compares with
 * max.message.bytes when the record travels alone. */
#define RECORD_OVERHEAD 100
#define DLQ_HEADERS_ALLOWANCE 512

/* Sends the flat record (or tombstone) of M to the output topic. */
static enum txn_status publish(struct pipeline *p, const rd_kafka_message_t *m,
                               const struct topics_route *route, char *err, size_t err_size)
{
    const struct process_result *r = &p->result;
    size_t len = r->action == PROCESS_PUBLISH ? r->value.len : 0;
    size_t size = m->key_len + len + RECORD_OVERHEAD;
    if (route->output_max_bytes > 0 && size > (size_t)route->output_max_bytes) {
        snprintf(err, err_size,
                 "with key and record overhead it exceeds max.message.bytes %ld "
                 "of topic %s",
                 route->output_max_bytes, route->output);
        return TXN_TOO_LARGE;
    }
    enum txn_status st =
        txn_produce(p->txn, route->output, topics_partition(route->output_partitions, m->partition),
                    m->key, m->key_len, len ? r->value.data : NULL, len, NULL, err, err_size);
    if (st == TXN_OK)
        p->in_txn.records_out++;
    return st;
}

/* Sends M unchanged to the dead-letter topic with headers saying why; one too large even for
 * that topic is logged as an error and skipped. */
static enum txn_status dead_letter(struct pipeline *p, const rd_kafka_message_t *m,
                                   const struct topics_route *route, char *err, size_t err_size)
{
    const struct process_result *r = &p->result;
    size_t size = m->key_len + m->len + RECORD_OVERHEAD + DLQ_HEADERS_ALLOWANCE;
    log_warn("dead letter topic=%s partition=%d offset=%lld class=%s error=\"%s\"",
             rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset, r->error_class,
             r->error);
    enum txn_status st = TXN_TOO_LARGE;
    if (route->dlq_max_bytes <= 0 || size <= (size_t)route->dlq_max_bytes)
        st = txn_produce(p->txn, route->dlq, topics_partition(route->dlq_partitions, m->partition),
                         m->key, m->key_len, m->payload, m->len, dlq_headers(m, r), err, err_size);
    if (st == TXN_OK) {
        p->in_txn.records_dlq++;
    } else if (st == TXN_TOO_LARGE) {
        log_error("record skipped: too large for the dead-letter topic %s too (%zu bytes, "
                  "max.message.bytes %ld) topic=%s partition=%d offset=%lld",
                  route->dlq, size, route->dlq_max_bytes, rd_kafka_topic_name(m->rkt),
                  (int)m->partition, (long long)m->offset);
        p->in_txn.records_dropped++;
        return TXN_OK;
    }
    return st;
}

/* Produces what the processor decided for M into the open transaction; a flat record too large
 * for the output topic goes to the dead-letter topic instead. */
static enum txn_status act(struct pipeline *p, const rd_kafka_message_t *m,
                           const struct topics_route *route, char *err, size_t err_size)
{
    enum process_action a = p->result.action;
    if (a == PROCESS_PUBLISH || a == PROCESS_TOMBSTONE) {
        enum txn_status st = publish(p, m, route, err, err_size);
        if (st != TXN_TOO_LARGE)
            return st;
        struct process_result *r = &p->result;
        size_t len = a == PROCESS_PUBLISH ? r->value.len : 0;
        snprintf(r->error, sizeof r->error, "flat record of %zu bytes (key %zu): %.900s", len,
                 m->key_len, err);
        r->action = PROCESS_DLQ;
        r->error_class = "record_too_large";
    }
    if (p->result.action == PROCESS_DLQ)
        return dead_letter(p, m, route, err, err_size);
    p->in_txn.records_dropped++;
    return TXN_OK;
}

static void handle_record(struct pipeline *p, const rd_kafka_message_t *m)
{
    char err[1024];
    const char *topic = rd_kafka_topic_name(m->rkt);
    const struct topics_route *route = topics_route(p->topics, topic, err, sizeof err);
    if (!route) {
        retry_later(p, m, err);
        return;
    }
    struct process_input in = {route->output, m->payload, m->len};
    processor_run(p->d.proc, &in, &p->result);
    if (p->result.action == PROCESS_RETRY) {
        retry_later(p, m, p->result.error);
        return;
    }
    p->retry_attempt = 0;
    if (!txn_is_open(p->txn))
        p->txn_started = pipeline_now();
    enum txn_status st = txn_begin(p->txn);
    if (st == TXN_OK)
        st = act(p, m, route, err, sizeof err);
    if (st != TXN_OK) {
        if (st != TXN_STOPPED)
            pipeline_after_abort(p);
        return;
    }
    pending_add(p, topic, m->partition, m->offset + 1);
    p->in_txn.records_in++;
}

static int commit_due(const struct pipeline *p)
{
    return txn_is_open(p->txn) && (p->in_txn_records >= p->d.o->txn_max_records ||
                                   (pipeline_now() - p->txn_started) * 1000 >= p->d.o->txn_max_ms);
}

/* One turn: a record (or an event), producer events, a due commit, the lag. Returns -1 on a
 * fatal consumer error. */
static int turn(struct pipeline *p)
{
    char err[512];
    if (p->need_rewind && pipeline_rewind(p) < 0) {
        http_sleep_ms(500, p->d.stop);
        return 0;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, 50);
    if (m && m->err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(p->consumer, err, sizeof err);
        log_error("consumer failed: %s", err);
        rd_kafka_message_destroy(m);
        return -1;
    }
    if (m && m->err)
        log_warn("consume: %s", rd_kafka_message_errstr(m));
    else if (m)
        handle_record(p, m);
    if (m)
        rd_kafka_message_destroy(m);
    txn_poll(p->txn);
    if (commit_due(p))
        pipeline_commit(p);
    pipeline_publish_lag(p, 0);
    return 0;
}

int pipeline_run(struct pipeline *p)
{
    int rc = 0;
    while (!*p->d.stop && rc == 0)
        rc = turn(p);
    if (rc == 0 && txn_is_open(p->txn)) {
        log_info("stopping: committing the open transaction records=%d", p->in_txn_records);
        pipeline_commit(p);
    }
    log_info("stopped records_in=%llu records_out=%llu records_dlq=%llu committed=%llu "
             "aborted=%llu",
             (unsigned long long)p->counts.records_in, (unsigned long long)p->counts.records_out,
             (unsigned long long)p->counts.records_dlq, (unsigned long long)p->counts.txn_committed,
             (unsigned long long)p->counts.txn_aborted);
    return rc ? 1 : 0;
}

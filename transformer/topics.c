/* Output and dead-letter topics per input topic: names, partition counts, creation. */
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "xalloc.h"

struct route_entry {
    struct topics_route route;
    struct route_entry *next;
};

struct topics {
    rd_kafka_t *rk;
    struct topics_options opt;
    struct route_entry *routes;
};

struct topics *topics_new(rd_kafka_t *rk, const struct topics_options *opt)
{
    struct topics *t = xcalloc(1, sizeof *t);
    t->rk = rk;
    t->opt = *opt;
    return t;
}

void topics_destroy(struct topics *t)
{
    if (!t)
        return;
    for (struct route_entry *e = t->routes, *next; e; e = next) {
        next = e->next;
        free(e->route.input);
        free(e->route.output);
        free(e->route.dlq);
        free(e);
    }
    free(t);
}

int32_t topics_partition(int topic_partitions, int32_t partition)
{
    return partition >= 0 && partition < topic_partitions ? partition : RD_KAFKA_PARTITION_UA;
}

/* Partition count of TOPIC: >0, 0 when the topic does not exist, -1 on a request error. */
static int partition_count(struct topics *t, const char *topic, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(t->rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(t->rk, 0, rkt, &md, t->opt.timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        snprintf(errstr, errstr_size, "read metadata of topic %s: %s", topic,
                 rd_kafka_err2str(err));
        return -1;
    }
    int n = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

/* CreateTopics for TOPIC with PARTITIONS: 1 when created, 0 when it existed already, -1. */
static int create_topic(struct topics *t, const char *topic, int partitions, char *errstr,
                        size_t errstr_size)
{
    char err[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(topic, partitions, t->opt.replication_factor, err, sizeof err);
    if (!nt) {
        snprintf(errstr, errstr_size, "create topic %s: %s", topic, err);
        return -1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(t->rk);
    rd_kafka_CreateTopics(t->rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, t->opt.timeout_ms);
    int rc = -1;
    if (!ev) {
        snprintf(errstr, errstr_size, "create topic %s: no answer within %d ms", topic,
                 t->opt.timeout_ms);
    } else if (rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "create topic %s: %s", topic,
                 rd_kafka_event_error_string(ev));
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t e =
            n == 1 ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
        rc =
            e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ? 0 : -1;
        if (rc < 0)
            snprintf(errstr, errstr_size, "create topic %s: %s", topic,
                     n == 1 ? rd_kafka_topic_result_error_string(res[0]) : "no result");
        else if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            log_info("topic created topic=%s partitions=%d", topic, partitions);
        if (rc == 0 && e == RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = 1;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* The value of max.message.bytes in the DescribeConfigs result EV; 0 when it has none. */
static long max_bytes_of(rd_kafka_event_t *ev)
{
    size_t n = 0, cn = 0;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(rs[0]))
        return 0;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(rs[0], &cn);
    for (size_t i = 0; i < cn; i++) {
        const char *value = rd_kafka_ConfigEntry_value(entries[i]);
        if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), "max.message.bytes") == 0 && value)
            return strtol(value, NULL, 10);
    }
    return 0;
}

/* max.message.bytes of TOPIC (DescribeConfigs); 0 when Kafka does not tell (the records are
 * then not checked before they are produced; the broker still refuses what is too large). */
static long max_message_bytes(struct topics *t, const char *topic)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(t->rk);
    rd_kafka_DescribeConfigs(t->rk, &cr, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, t->opt.timeout_ms);
    long max = 0;
    if (ev && !rd_kafka_event_error(ev))
        max = max_bytes_of(ev);
    else
        log_warn("describe topic %s: %s; records are not checked against its max.message.bytes",
                 topic, ev ? rd_kafka_event_error_string(ev) : "no answer");
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(cr);
    return max;
}

void topics_refresh_limits(struct topics *t)
{
    for (struct route_entry *e = t->routes; e; e = e->next) {
        e->route.output_max_bytes = max_message_bytes(t, e->route.output);
        e->route.dlq_max_bytes = max_message_bytes(t, e->route.dlq);
        log_info("topic limits read again output=%s max.message.bytes=%ld dlq=%s "
                 "max.message.bytes=%ld",
                 e->route.output, e->route.output_max_bytes, e->route.dlq, e->route.dlq_max_bytes);
    }
}

/* Partition count of TOPIC, creating it with PARTITIONS when missing (and allowed). */
static int ensure(struct topics *t, const char *topic, int partitions, char *errstr,
                  size_t errstr_size)
{
    int n = partition_count(t, topic, errstr, errstr_size);
    if (n != 0 || !t->opt.create)
        return n;
    int created = create_topic(t, topic, partitions, errstr, errstr_size);
    if (created < 0)
        return -1;
    if (created) /* with PARTITIONS; the producer waits for its metadata by itself */
        return partitions;
    for (int attempt = 0; attempt < 20 && n == 0; attempt++) /* metadata catches up */
        n = partition_count(t, topic, errstr, errstr_size);
    return n > 0 ? n : partitions;
}

const struct topics_route *topics_route(struct topics *t, const char *input, char *errstr,
                                        size_t errstr_size)
{
    for (struct route_entry *e = t->routes; e; e = e->next)
        if (strcmp(e->route.input, input) == 0)
            return &e->route;
    int in = partition_count(t, input, errstr, errstr_size);
    if (in <= 0) {
        if (in == 0)
            snprintf(errstr, errstr_size, "input topic %s has no partitions in metadata", input);
        return NULL;
    }
    char *out = transformer_topic_name(t->opt.output_pattern, input);
    char *dlq = transformer_topic_name(t->opt.dlq_pattern, input);
    int out_n = ensure(t, out, in, errstr, errstr_size);
    int dlq_n = out_n < 0 ? -1 : ensure(t, dlq, in, errstr, errstr_size);
    if (out_n < 0 || dlq_n < 0) {
        free(out);
        free(dlq);
        return NULL;
    }
    struct route_entry *e = xcalloc(1, sizeof *e);
    e->route = (struct topics_route){
        xstrdup(input),           out, dlq, out_n, dlq_n, max_message_bytes(t, out),
        max_message_bytes(t, dlq)};
    e->next = t->routes;
    t->routes = e;
    log_info("route input=%s partitions=%d output=%s dlq=%s output.max.message.bytes=%ld", input,
             in, out, dlq, e->route.output_max_bytes);
    return &e->route;
}

/* Integration test: a committed Kafka transaction is read once, an aborted one never. */
#define _POSIX_C_SOURCE 200809L

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

enum {
    committed_count = 1000, /* "msg-<i>" in the committed transaction */
    aborted_count = 50,     /* "aborted-<i>" in the aborted transaction */
    deadline_s = 60,        /* the whole test, so a broken broker fails instead of hanging */
    op_timeout_ms = 20000,  /* any single blocking call */
};

static time_t deadline;

/* Delivery reports of the producer: the only proof that the broker stored a message. */
struct delivery_counts {
    int delivered;
    int failed;
    rd_kafka_resp_err_t first_error;
};

static void fail_if_late(const char *operation)
{
    ITEST_CHECK(time(NULL) < deadline, "%s: no result within %d s of the test's start", operation,
                deadline_s);
}

/* Fails the test when ERROR is set, naming OPERATION; destroys ERROR either way. */
static void check_txn_error(rd_kafka_error_t *error, const char *operation)
{
    char message[512];
    bool ok = error == NULL;

    if (ok)
        return;
    snprintf(message, sizeof message, "%s (%s)", rd_kafka_error_string(error),
             rd_kafka_err2name(rd_kafka_error_code(error)));
    rd_kafka_error_destroy(error);
    ITEST_CHECK(ok, "%s failed: %s", operation, message);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    struct delivery_counts *counts = opaque;

    (void)rk;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        counts->delivered++;
    } else {
        if (counts->failed++ == 0)
            counts->first_error = msg->err;
    }
}

static void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[512];

    ITEST_CHECK(rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK,
                "setting %s=%s: %s", name, value, errstr);
}

/* Creates TOPIC with one partition through the admin API of RK and waits for the result. */
static void create_topic(rd_kafka_t *rk, const char *topic)
{
    char errstr[512];
    rd_kafka_NewTopic_t *new_topic = rd_kafka_NewTopic_new(topic, 1, 1, errstr, sizeof errstr);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_event_t *event = NULL;

    ITEST_CHECK(new_topic != NULL, "describing topic %s: %s", topic, errstr);
    rd_kafka_CreateTopics(rk, &new_topic, 1, NULL, queue);
    while (!event) {
        fail_if_late("creating the topic");
        event = rd_kafka_queue_poll(queue, 1000);
    }
    ITEST_CHECK(rd_kafka_event_type(event) == RD_KAFKA_EVENT_CREATETOPICS_RESULT,
                "creating topic %s: unexpected event %s", topic, rd_kafka_event_name(event));
    ITEST_CHECK(rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR, "creating topic %s: %s",
                topic, rd_kafka_event_error_string(event));

    size_t n = 0;
    const rd_kafka_topic_result_t **results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    ITEST_CHECK(n == 1, "creating topic %s: %zu results, expected 1", topic, n);
    ITEST_CHECK(rd_kafka_topic_result_error(results[0]) == RD_KAFKA_RESP_ERR_NO_ERROR,
                "creating topic %s: %s", topic, rd_kafka_topic_result_error_string(results[0]));
    rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(new_topic);
}

static rd_kafka_t *producer_new(const char *brokers, const char *transactional_id,
                                struct delivery_counts *counts)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    conf_set(conf, "bootstrap.servers", brokers);
    conf_set(conf, "transactional.id", transactional_id);
    conf_set(conf, "transaction.timeout.ms", "30000");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, counts);

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    ITEST_CHECK(rk != NULL, "creating the transactional producer: %s", errstr);
    return rk; /* conf is owned by rk now */
}

/* Produces COUNT messages "<prefix><i>" to TOPIC, retrying a full queue after polling. */
static void produce_batch(rd_kafka_t *rk, const char *topic, const char *prefix, int count)
{
    for (int i = 0; i < count; i++) {
        char payload[64];
        int len = snprintf(payload, sizeof payload, "%s%d", prefix, i);
        rd_kafka_resp_err_t err;

        do {
            fail_if_late("producing");
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                    RD_KAFKA_V_VALUE(payload, (size_t)len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 100);
        } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        ITEST_CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR, "producing %s to %s: %s", payload, topic,
                    rd_kafka_err2str(err));
        rd_kafka_poll(rk, 0);
    }
}

/* One committed transaction of committed_count messages, then one aborted transaction whose
 * messages are flushed first, so they really are in the log for the consumer to skip. */
static void produce_transactions(const char *brokers, const char *topic,
                                 const char *transactional_id)
{
    struct delivery_counts counts = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    rd_kafka_t *rk = producer_new(brokers, transactional_id, &counts);

    create_topic(rk, topic);
    check_txn_error(rd_kafka_init_transactions(rk, op_timeout_ms), "init_transactions");

    check_txn_error(rd_kafka_begin_transaction(rk), "begin_transaction (committed)");
    produce_batch(rk, topic, "msg-", committed_count);
    check_txn_error(rd_kafka_commit_transaction(rk, op_timeout_ms), "commit_transaction");
    ITEST_CHECK(counts.delivered == committed_count && counts.failed == 0,
                "committed transaction: %d delivered, %d failed (first error %s), expected %d",
                counts.delivered, counts.failed, rd_kafka_err2name(counts.first_error),
                committed_count);

    check_txn_error(rd_kafka_begin_transaction(rk), "begin_transaction (aborted)");
    produce_batch(rk, topic, "aborted-", aborted_count);
    ITEST_CHECK(rd_kafka_flush(rk, op_timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR,
                "flushing the transaction to be aborted: timed out");
    ITEST_CHECK(counts.delivered == committed_count + aborted_count,
                "aborted transaction: %d of %d messages delivered before the abort",
                counts.delivered - committed_count, aborted_count);
    check_txn_error(rd_kafka_abort_transaction(rk, op_timeout_ms), "abort_transaction");

    ITEST_CHECK(rd_kafka_flush(rk, op_timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR,
                "final flush of the producer: timed out");
    ITEST_CHECK(rd_kafka_outq_len(rk) == 0, "%d events left in the producer queue",
                rd_kafka_outq_len(rk));
    rd_kafka_destroy(rk);
}

static rd_kafka_t *consumer_new(const char *brokers, const char *group_id, const char *topic)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    conf_set(conf, "bootstrap.servers", brokers);
    conf_set(conf, "group.id", group_id);
    conf_set(conf, "isolation.level", "read_committed");
    conf_set(conf, "auto.offset.reset", "earliest");
    conf_set(conf, "enable.partition.eof", "true");
    conf_set(conf, "enable.auto.commit", "false");

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    ITEST_CHECK(rk != NULL, "creating the consumer: %s", errstr);
    ITEST_CHECK(rd_kafka_poll_set_consumer(rk) == RD_KAFKA_RESP_ERR_NO_ERROR,
                "redirecting the consumer's events");

    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    ITEST_CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR, "subscribing to %s: %s", topic,
                rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(topics);
    return rk;
}

/* What the consumer saw: how often each committed payload, and anything else. */
struct seen {
    int committed[committed_count];
    int committed_total;
    int aborted;
    int unexpected;
};

static void record_payload(struct seen *seen, const rd_kafka_message_t *msg)
{
    char payload[64];
    int index = -1, end = 0;

    ITEST_CHECK(msg->len < sizeof payload, "message at offset %lld is %zu bytes long",
                (long long)msg->offset, msg->len);
    memcpy(payload, msg->payload, msg->len);
    payload[msg->len] = '\0';
    if (sscanf(payload, "msg-%d%n", &index, &end) == 1 && payload[end] == '\0' && index >= 0 &&
        index < committed_count) {
        seen->committed[index]++;
        seen->committed_total++;
    } else if (strncmp(payload, "aborted-", 8) == 0) {
        seen->aborted++;
    } else {
        seen->unexpected++;
    }
}

/* Consumes TOPIC until partition EOF at or past END_OFFSET (the end of the aborted
 * transaction and its marker), filling SEEN. */
static void consume_until_end(const char *brokers, const char *group_id, const char *topic,
                              int64_t end_offset, struct seen *seen)
{
    rd_kafka_t *rk = consumer_new(brokers, group_id, topic);
    bool at_end = false;

    while (!at_end) {
        fail_if_late("consuming to the end of the topic");
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 500);
        if (!msg)
            continue;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            at_end = msg->offset >= end_offset;
        else if (msg->err)
            ITEST_CHECK(msg->err == RD_KAFKA_RESP_ERR_NO_ERROR, "consuming %s: %s", topic,
                        rd_kafka_message_errstr(msg));
        else
            record_payload(seen, msg);
        rd_kafka_message_destroy(msg);
    }
    ITEST_CHECK(rd_kafka_consumer_close(rk) == RD_KAFKA_RESP_ERR_NO_ERROR, "closing the consumer");
    rd_kafka_destroy(rk);
}

/* The high watermark of partition 0 of TOPIC once it reaches WANT (or the deadline passes): the
 * offset after the last record and marker. The coordinator writes the abort marker after
 * abort_transaction() returned, so the watermark may need a moment; read_uncommitted, because a
 * read_committed query (librdkafka's default) answers the last stable offset instead. */
static int64_t topic_end_offset(const char *brokers, const char *topic, int64_t want)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int64_t low = -1, high = -1;

    conf_set(conf, "bootstrap.servers", brokers);
    conf_set(conf, "isolation.level", "read_uncommitted");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    ITEST_CHECK(rk != NULL, "creating a client for the watermarks: %s", errstr);
    while (high != want && time(NULL) < deadline) {
        if (high >= 0)
            usleep(100 * 1000);
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rk, topic, 0, &low, &high, op_timeout_ms);
        ITEST_CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR, "querying the watermarks of %s: %s", topic,
                    rd_kafka_err2str(err));
    }
    rd_kafka_destroy(rk);
    return high;
}

int main(void)
{
    const char *brokers = itest_env("SALESCDC_KAFKA_BROKERS");
    char topic[128], transactional_id[128], group_id[128];
    static struct seen seen;

    deadline = time(NULL) + deadline_s;
    long pid = (long)getpid(), started = (long)time(NULL);
    snprintf(topic, sizeof topic, "itest.kafka_txn.%ld.%ld", pid, started);
    snprintf(transactional_id, sizeof transactional_id, "itest.kafka_txn.%ld.%ld.txn", pid,
             started);
    snprintf(group_id, sizeof group_id, "itest.kafka_txn.%ld.%ld.group", pid, started);

    produce_transactions(brokers, topic, transactional_id);
    /* 1000 records, a commit marker, 50 aborted records, an abort marker. */
    int64_t end_offset = topic_end_offset(brokers, topic, committed_count + aborted_count + 2);
    ITEST_CHECK(end_offset == committed_count + aborted_count + 2,
                "%s ends at offset %lld, expected %d", topic, (long long)end_offset,
                committed_count + aborted_count + 2);

    consume_until_end(brokers, group_id, topic, end_offset, &seen);
    for (int i = 0; i < committed_count; i++)
        ITEST_CHECK(seen.committed[i] == 1, "msg-%d was consumed %d times, expected once", i,
                    seen.committed[i]);
    ITEST_CHECK(seen.committed_total == committed_count, "%d committed messages consumed",
                seen.committed_total);
    ITEST_CHECK(seen.aborted == 0, "%d messages of the aborted transaction were consumed",
                seen.aborted);
    ITEST_CHECK(seen.unexpected == 0, "%d unexpected messages consumed", seen.unexpected);

    printf("test_kafka_txn: %d committed messages read once each, %d aborted skipped, topic %s\n",
           committed_count, aborted_count, topic);
    return 0;
}

/* The offsets topic: encoding of a connector's record, topic creation, read_committed read-back. */
#include "offsets.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_conf.h"
#include "log.h"
#include "xalloc.h"

static const char *const snapshot_names[] = {"none", "running", "done"};

const char *offsets_snapshot_name(enum offsets_snapshot s)
{
    return snapshot_names[s];
}

static void lsn_text(uint64_t lsn, char out[24])
{
    snprintf(out, 24, LSN_FMT, LSN_ARGS(lsn));
}

char *offsets_encode(const char *name, const struct offsets_record *r)
{
    char lsn[24], commit[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lsn_text(r->lsn, lsn);
    lsn_text(r->commit_lsn, commit);
    json_t *v = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "version", 1, "name", name,
                          "slot", r->slot, "system_id", r->system_id, "lsn", lsn, "commit_lsn",
                          commit, "snapshot", snapshot_names[r->snapshot], "ts_ms",
                          (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text) {
        fprintf(stderr, "fatal: out of memory encoding the offsets record\n");
        abort();
    }
    char *copy = xstrdup(text);
    free(text);
    return copy;
}

static int parse_lsn(const char *text, uint64_t *lsn)
{
    unsigned hi, lo;
    int n = 0;
    if (sscanf(text, "%X/%X%n", &hi, &lo, &n) != 2 || text[n])
        return -1;
    *lsn = (uint64_t)hi << 32 | lo;
    return 0;
}

int offsets_decode(const char *text, size_t len, struct offsets_record *r, char *errstr,
                   size_t errstr_size)
{
    json_error_t jerr;
    const char *slot, *sysid, *lsn, *commit, *snap = "none";
    memset(r, 0, sizeof *r);
    json_t *v = json_loadb(text, len, 0, &jerr);
    int rc =
        v && json_unpack_ex(v, &jerr, 0, "{s:s, s:s, s:s, s:s, s?:s}", "slot", &slot, "system_id",
                            &sysid, "lsn", &lsn, "commit_lsn", &commit, "snapshot", &snap) == 0
            ? 0
            : -1;
    if (rc < 0) {
        snprintf(errstr, errstr_size, "offsets record: %s", jerr.text);
    } else if (parse_lsn(lsn, &r->lsn) < 0 || parse_lsn(commit, &r->commit_lsn) < 0) {
        snprintf(errstr, errstr_size, "offsets record: lsn '%s' or commit_lsn '%s' is not X/Y", lsn,
                 commit);
        rc = -1;
    } else {
        snprintf(r->slot, sizeof r->slot, "%s", slot);
        snprintf(r->system_id, sizeof r->system_id, "%s", sysid);
        r->snapshot = strcmp(snap, "running") == 0 ? OFFSETS_SNAPSHOT_RUNNING
                      : strcmp(snap, "done") == 0  ? OFFSETS_SNAPSHOT_DONE
                                                   : OFFSETS_SNAPSHOT_NONE;
    }
    json_decref(v);
    return rc;
}

static rd_kafka_t *new_consumer(const struct config *cfg, char *errstr, size_t errstr_size)
{
    /* assigned, never subscribed: the group id is only there because librdkafka wants one; a
     * short fetch wait, since the read may wait for other producers' transactions to end */
    static const char *const defaults[] = {"group.id",
                                           "salescdc-connector-offsets",
                                           "enable.auto.commit",
                                           "false",
                                           "isolation.level",
                                           "read_committed",
                                           "enable.partition.eof",
                                           "true",
                                           "fetch.wait.max.ms",
                                           "20",
                                           "client.id",
                                           "salescdc-connector",
                                           NULL};
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, errstr, errstr_size);
    if (!conf)
        return NULL;
    kafka_conf_route_logs(conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        snprintf(errstr, errstr_size, "create Kafka consumer for the offsets topic: %s", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Number of partitions of TOPIC (0 if it does not exist), or -1 with errstr. */
static int partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, int *brokers,
                           char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        snprintf(errstr, errstr_size, "read metadata of offsets topic %s: %s", topic,
                 rd_kafka_err2str(err));
        return -1;
    }
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    *brokers = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Sends CreateTopics for TOPIC (compacted, 1 partition); "already exists" counts as success. */
static int create_topic(rd_kafka_t *rk, const char *topic, int rf, int timeout_ms, char *errstr,
                        size_t errstr_size)
{
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, rf, err, sizeof err);
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
    rd_kafka_resp_err_t rc = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
    const char *why = ev && rc ? rd_kafka_event_error_string(ev) : rd_kafka_err2str(rc);
    if (ev && !rc) {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rc = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
        why = n && rd_kafka_topic_result_error_string(res[0])
                  ? rd_kafka_topic_result_error_string(res[0])
                  : rd_kafka_err2str(rc);
    }
    if (rc && rc != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        snprintf(errstr, errstr_size, "create offsets topic %s: %s", topic, why);
    else if (!rc)
        log_info("offsets topic created topic=%s partitions=1 cleanup.policy=compact "
                 "replication_factor=%d",
                 topic, rf);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc && rc != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ? -1 : 0;
}

/* The partition count of TOPIC, creating it first when missing; -1 with errstr. */
static int ensure_topic(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                        size_t errstr_size)
{
    int brokers = 0;
    int n = partition_count(rk, topic, timeout_ms, &brokers, errstr, errstr_size);
    if (n != 0)
        return n;
    if (create_topic(rk, topic, brokers < 3 ? (brokers > 0 ? brokers : 1) : 3, timeout_ms, errstr,
                     errstr_size) < 0)
        return -1;
    for (int i = 0; i < 20 && n == 0; i++) /* metadata lags creation a little */
        n = partition_count(rk, topic, timeout_ms, &brokers, errstr, errstr_size);
    if (n == 0)
        snprintf(errstr, errstr_size, "offsets topic %s: created but has no partitions", topic);
    return n > 0 ? n : -1;
}

/* Reading the topic to its end: the end offsets are taken before reading, so a record
 * committed before the read started is always seen. */
struct reader {
    rd_kafka_t *rk;
    const char *topic, *name;
    int partitions, left; /* partitions not yet read to their end */
    int64_t *end;         /* high watermark of each partition when the read started */
    struct offsets_record *r;
    int found;
};

static int start_read(struct reader *rd, int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(rd->partitions);
    int rc = 0;
    for (int p = 0; p < rd->partitions && rc == 0; p++) {
        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rd->rk, rd->topic, p, &low, &high, timeout_ms);
        if (err) {
            snprintf(errstr, errstr_size, "read end offsets of offsets topic %s [%d]: %s",
                     rd->topic, p, rd_kafka_err2str(err));
            rc = -1;
        }
        rd->end[p] = high > low ? high : -1; /* -1: nothing to read */
        rd->left += high > low;
        rd_kafka_topic_partition_list_add(list, rd->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_resp_err_t err = rc == 0 ? rd_kafka_assign(rd->rk, list) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err) {
        snprintf(errstr, errstr_size, "assign offsets topic %s: %s", rd->topic,
                 rd_kafka_err2str(err));
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

/* Marks partition P read once OFFSET (the next offset to read) reaches its end. */
static void reached(struct reader *rd, int32_t p, int64_t offset)
{
    if (p >= 0 && p < rd->partitions && rd->end[p] >= 0 && offset >= rd->end[p]) {
        rd->end[p] = -1;
        rd->left--;
    }
}

static int take(struct reader *rd, const rd_kafka_message_t *m, char *errstr, size_t errstr_size)
{
    char err[256];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        reached(rd, m->partition, m->offset);
        return 0;
    }
    if (m->err) {
        snprintf(errstr, errstr_size, "read offsets topic %s: %s", rd->topic,
                 rd_kafka_message_errstr(m));
        return -1;
    }
    size_t nlen = strlen(rd->name);
    if (m->key_len == nlen && memcmp(m->key, rd->name, nlen) == 0) {
        if (!m->payload) { /* a tombstone resets the connector's offsets */
            rd->found = 0;
        } else if (offsets_decode(m->payload, m->len, rd->r, err, sizeof err) < 0) {
            snprintf(errstr, errstr_size, "read offsets topic %s partition %d offset %lld: %s",
                     rd->topic, (int)m->partition, (long long)m->offset, err);
            return -1;
        } else {
            rd->found = 1;
        }
    }
    reached(rd, m->partition, m->offset + 1);
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int read_to_end(struct reader *rd, int timeout_ms, char *errstr, size_t errstr_size)
{
    int64_t deadline = mono_ms() + timeout_ms;
    if (start_read(rd, timeout_ms, errstr, errstr_size) < 0)
        return -1;
    while (rd->left > 0) {
        if (mono_ms() > deadline) {
            snprintf(errstr, errstr_size,
                     "read offsets topic %s: not at its end after %d ms (a transaction of "
                     "another producer still open?)",
                     rd->topic, timeout_ms);
            return -1;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rd->rk, 100);
        if (!m)
            continue;
        int rc = take(rd, m, errstr, errstr_size);
        rd_kafka_message_destroy(m);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int offsets_read(const struct config *cfg, const char *topic, const char *name, int timeout_ms,
                 struct offsets_record *r, char *errstr, size_t errstr_size)
{
    struct reader rd = {.topic = topic, .name = name, .r = r};
    rd.rk = new_consumer(cfg, errstr, errstr_size);
    if (!rd.rk)
        return -1;
    rd.partitions = ensure_topic(rd.rk, topic, timeout_ms, errstr, errstr_size);
    int rc = rd.partitions > 0 ? 0 : -1;
    if (rc == 0) {
        rd.end = xcalloc((size_t)rd.partitions, sizeof *rd.end);
        rc = read_to_end(&rd, timeout_ms, errstr, errstr_size);
    }
    rd_kafka_consumer_close(rd.rk);
    rd_kafka_destroy(rd.rk);
    free(rd.end);
    if (rc == 0 && rd.found)
        log_info("offsets read topic=%s name=%s slot=%s lsn=" LSN_FMT " commit_lsn=" LSN_FMT
                 " snapshot=%s",
                 topic, name, r->slot, LSN_ARGS(r->lsn), LSN_ARGS(r->commit_lsn),
                 snapshot_names[r->snapshot]);
    else if (rc == 0)
        log_info("offsets read topic=%s name=%s: no record yet", topic, name);
    return rc < 0 ? -1 : rd.found;
}

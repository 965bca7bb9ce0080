/* The sink's Kafka consumer: configuration, rebalances, synchronous commits, lag. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "kafka_conf.h"
#include "log.h"
#include "sink_internal.h"

/* Revoked partitions lose their buffers: nothing past the last commit was stored except as
 * the one cut a restart reproduces key for key, so the new owner rewrites the same keys. During
 * a flush (a keepalive poll) they are only marked, and freed once the flush has unwound. */
static void drop_revoked(struct sink *s, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        const char *topic = parts->elems[i].topic;
        int32_t partition = parts->elems[i].partition;
        if (!s->flushing) {
            sink_kpart_drop(s, topic, partition);
            continue;
        }
        for (size_t k = 0; k < s->n_kparts; k++)
            if (s->kparts[k]->partition == partition && strcmp(s->kparts[k]->topic, topic) == 0)
                s->kparts[k]->revoked = 1;
    }
}

static void log_parts(const char *what, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++)
        log_info("%s %s[%d]", what, parts->elems[i].topic, (int)parts->elems[i].partition);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct sink *s = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_parts("assigned", parts);
        s->lost_noted = 0;
        s->rejoining = 0;
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
    } else {
        log_parts("revoked", parts);
        if (rd_kafka_assignment_lost(rk) && !s->lost_noted) {
            log_warn("group membership lost (session or max.poll.interval timed out, or the "
                     "group moved on): dropping uncommitted buffers; the partitions are re-read "
                     "from their last commit");
            atomic_fetch_add(&s->metrics.memberships_lost, 1);
        }
        s->lost_noted = 0;
        drop_revoked(s, parts);
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
    if (error) {
        log_error("rebalance: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

static int force(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                 size_t errstr_size)
{
    return kafka_conf_set(conf, key, value, errstr, errstr_size);
}

rd_kafka_t *sink_consumer_new(struct sink *s, char *errstr, size_t errstr_size)
{
    const char *defaults[] = {"group.id",  s->o->group_id,         "auto.offset.reset",
                              "earliest",  "enable.partition.eof", "false",
                              "client.id", SINK_PROGRAM,           NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(s->o->cfg, defaults, errstr, errstr_size);
    if (!conf)
        return NULL;
    /* Never overridable: offsets move only after the objects are stored, and only committed
     * transactions (the transformer's) are read. */
    if (force(conf, "enable.auto.commit", "false", errstr, errstr_size) < 0 ||
        force(conf, "enable.auto.offset.store", "false", errstr, errstr_size) < 0 ||
        force(conf, "isolation.level", "read_committed", errstr, errstr_size) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    kafka_conf_route_logs(conf);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, s);
    char kerr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof kerr);
    if (!rk) {
        snprintf(errstr, errstr_size, "cannot create the Kafka consumer: %s", kerr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, s->o->topics_regex, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "cannot subscribe to %s: %s", s->o->topics_regex,
                 rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

/* Errors of a commit that mean the member is no longer (or not yet again) in its group. */
static int membership_lost(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED:
    case RD_KAFKA_RESP_ERR__STATE: return 1;
    default: return 0;
    }
}

int sink_consumer_commit(struct sink *s, const char *topic, int32_t partition, int64_t offset,
                         char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int attempt = 1; attempt <= 5; attempt++) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, topic, partition)->offset = offset;
        err = rd_kafka_commit(s->rk, list, 0);
        if (!err)
            err = list->elems[0].err;
        rd_kafka_topic_partition_list_destroy(list);
        if (!err) {
            atomic_fetch_add(&s->metrics.commits, 1);
            return 0;
        }
        atomic_fetch_add(&s->metrics.commit_failures, 1);
        log_warn("commit of %s[%d] offset %lld failed (attempt %d): %s", topic, (int)partition,
                 (long long)offset, attempt, rd_kafka_err2str(err));
        if (membership_lost(err) || http_sleep_ms(500L << attempt, NULL))
            break;
    }
    snprintf(errstr, errstr_size, "commit of %s[%d] offset %lld: %s", topic, (int)partition,
             (long long)offset, rd_kafka_err2str(err));
    return membership_lost(err) ? -2 : -1;
}

void sink_consumer_lost(struct sink *s, const char *why)
{
    log_warn("group membership lost (%s): dropping every uncommitted buffer; the partitions are "
             "re-read from their last commit",
             why);
    atomic_fetch_add(&s->metrics.memberships_lost, 1);
    s->lost_noted = 1;
    rd_kafka_topic_partition_list_t *seek = rd_kafka_topic_partition_list_new(1);
    for (size_t i = 0; i < s->n_kparts; i++) {
        struct sink_kpart *kp = s->kparts[i];
        if (!kp->revoked && kp->uncommitted >= 0)
            rd_kafka_topic_partition_list_add(seek, kp->topic, kp->partition)->offset =
                kp->uncommitted;
        kp->revoked = 1; /* freed by sink_kpart_reap */
    }
    /* Back to the last commit: a rejoin that hands the same partitions back without revoking
     * them (cooperative) must not continue from the in-memory position. */
    rd_kafka_error_t *error = seek->cnt ? rd_kafka_seek_partitions(s->rk, seek, 10000) : NULL;
    int failed = error != NULL;
    if (error) {
        log_warn("cannot seek back to the last commit: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
    for (int i = 0; i < seek->cnt; i++)
        failed |= seek->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(seek);
    /* A partition that could not be sought back is no longer ours: its records are ignored
     * until the rebalance assigns partitions again (from their committed offsets). */
    s->rejoining = failed;
}

static void pause_assignment(struct sink *s)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(s->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    rd_kafka_pause_partitions(s->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    s->paused = 1;
    log_info("S3 is failing: consumption paused, the group membership kept alive");
}

int sink_consumer_keepalive(void *arg)
{
    struct sink *s = arg;
    if (!s->paused)
        pause_assignment(s);
    rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 0);
    if (m && !m->err && m->rkt) {
        /* Fetched before the pause (or of a partition assigned since): read it again later. */
        rd_kafka_resp_err_t err = rd_kafka_seek(m->rkt, m->partition, m->offset, 0);
        if (err)
            log_warn("cannot seek %s[%d] back to %lld: %s", rd_kafka_topic_name(m->rkt),
                     (int)m->partition, (long long)m->offset, rd_kafka_err2str(err));
    }
    if (m)
        rd_kafka_message_destroy(m);
    return s->flushing && s->flushing->revoked;
}

void sink_consumer_resume(struct sink *s)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (!s->paused || rd_kafka_assignment(s->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    rd_kafka_resume_partitions(s->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    s->paused = 0;
    log_info("S3 answers again: consumption resumed");
}

void sink_consumer_update_lag(struct sink *s)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(s->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    rd_kafka_position(s->rk, parts);
    int64_t lag = 0;
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo, hi;
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        if (rd_kafka_get_watermark_offsets(s->rk, p->topic, p->partition, &lo, &hi) != 0 || hi < 0)
            continue;
        int64_t pos = p->offset >= 0 ? p->offset : lo;
        if (hi > pos)
            lag += hi - pos;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    atomic_store(&s->metrics.lag, lag);
}

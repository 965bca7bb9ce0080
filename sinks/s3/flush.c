/* Cutting a Kafka partition's buffers into objects: store each, then commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object_key.h"
#include "sink_internal.h"
#include "xalloc.h"

/* Stores buffer B of KP. Returns 0, or -1 when storing was given up. */
static int store_buffer(struct sink *s, struct sink_kpart *kp, struct sink_buffer *b)
{
    struct strbuf object = STRBUF_INIT;
    char err[1024];
    char *key = sink_object_key(s->o->s3_prefix, kp->table, b->path, kp->topic, kp->partition,
                                b->first_offset, sink_writer_extension(&s->o->writer));
    int rc = sink_writer_finish(b->writer, &object, err, sizeof err);
    if (rc == 0)
        rc = sink_upload(&s->up, key, object.data ? object.data : "", object.len,
                         sink_writer_content_type(&s->o->writer), err, sizeof err);
    if (rc == 0) {
        atomic_fetch_add(&s->metrics.objects, 1);
        atomic_fetch_add(&s->metrics.object_bytes, object.len);
        atomic_fetch_add(&s->metrics.stored_records, b->st.records);
        log_info("stored s3://%s/%s records=%llu bytes=%zu", s->o->s3.bucket, key,
                 (unsigned long long)b->st.records, object.len);
        if (s->catalog)
            sink_catalog_partition(s->catalog, kp->table, b->path);
    } else {
        log_error("not stored: %s", err);
    }
    strbuf_release(&object);
    free(key);
    return rc;
}

/* Stores every buffer of KP; the keepalive may revoke KP meanwhile. Returns 0 or -1. */
static int store_all(struct sink *s, struct sink_kpart *kp)
{
    int rc = 0;
    s->flushing = kp;
    for (size_t i = 0; rc == 0 && i < kp->n_buffers; i++)
        rc = store_buffer(s, kp, &kp->buffers[i]);
    s->flushing = NULL;
    sink_consumer_resume(s);
    return rc == 0 && !kp->revoked ? 0 : -1;
}

int sink_flush_kpart(struct sink *s, struct sink_kpart *kp, enum sink_flush_reason reason)
{
    if (kp->n_buffers == 0 || kp->revoked)
        return 0;
    if (store_all(s, kp) != 0)
        return -1;
    uint64_t records = sink_kpart_buffered(kp), held = kp->held_bytes;
    log_info("flushed %s[%d] reason=%s objects=%zu records=%llu next_offset=%lld", kp->topic,
             (int)kp->partition, sink_flush_reason_name(reason), kp->n_buffers,
             (unsigned long long)records, (long long)kp->next_offset);
    sink_kpart_reset(kp);
    atomic_fetch_sub(&s->metrics.buffered_records, (int64_t)records);
    atomic_fetch_sub(&s->metrics.buffered_bytes, (int64_t)held);
    atomic_fetch_add(&s->metrics.flushes[reason], 1);
    char err[512];
    int rc = sink_consumer_commit(s, kp->topic, kp->partition, kp->next_offset, err, sizeof err);
    if (rc == -2) {
        sink_consumer_lost(s, err);
        return -1;
    }
    if (rc != 0) {
        /* The objects are stored but the offset is not: a restart re-reads from the last commit
         * and rewrites exactly these keys (one uncommitted cut per partition at most). */
        log_error("%s; stopping so that a restart resumes from the last commit", err);
        s->fatal = 1;
        return -1;
    }
    kp->uncommitted = kp->next_offset;
    return 0;
}

void sink_kpart_reap(struct sink *s)
{
    for (size_t i = 0; i < s->n_kparts;) {
        struct sink_kpart *kp = s->kparts[i];
        if (!kp->revoked) {
            i++;
            continue;
        }
        uint64_t n = sink_kpart_buffered(kp);
        atomic_fetch_sub(&s->metrics.buffered_records, (int64_t)n);
        atomic_fetch_sub(&s->metrics.buffered_bytes, (int64_t)kp->held_bytes);
        sink_kpart_destroy(kp);
        s->kparts[i] = s->kparts[--s->n_kparts];
    }
}

void sink_flush_idle(struct sink *s)
{
    int64_t now = sink_now_ms();
    for (size_t i = 0; i < s->n_kparts && !s->fatal && !*s->stop; i++) {
        struct sink_kpart *kp = s->kparts[i];
        if (kp->n_buffers > 0 && sink_flush_idle_due(&s->o->rules, kp->last_record_ms, now))
            sink_flush_kpart(s, kp, SINK_FLUSH_IDLE);
    }
}

void sink_flush_memory(struct sink *s)
{
    const struct sink_flush_rules *r = &s->o->rules;
    if (r->max_held_bytes == 0)
        return;
    while (!s->fatal && !*s->stop &&
           (uint64_t)atomic_load(&s->metrics.buffered_bytes) > r->max_held_bytes) {
        uint64_t *held = xcalloc(s->n_kparts ? s->n_kparts : 1, sizeof *held);
        for (size_t i = 0; i < s->n_kparts; i++)
            held[i] = s->kparts[i]->revoked ? 0 : s->kparts[i]->held_bytes;
        long victim = sink_flush_memory_victim(r, held, s->n_kparts);
        free(held);
        if (victim < 0 || sink_flush_kpart(s, s->kparts[victim], SINK_FLUSH_MEMORY) != 0)
            return;
    }
}

int sink_flush_all(struct sink *s, enum sink_flush_reason reason)
{
    int rc = 0;
    for (size_t i = 0; i < s->n_kparts; i++) {
        struct sink_kpart *kp = s->kparts[i];
        if (kp->n_buffers == 0)
            continue;
        if (sink_flush_kpart(s, kp, reason) == 0)
            continue;
        rc = -1;
        if (kp->n_buffers > 0)
            log_error("%llu buffered record(s) of %s[%d] were not stored; they are re-read on "
                      "the next start",
                      (unsigned long long)sink_kpart_buffered(kp), kp->topic, (int)kp->partition);
    }
    return rc;
}

struct sink_kpart *sink_kpart_get(struct sink *s, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < s->n_kparts; i++)
        if (s->kparts[i]->partition == partition && strcmp(s->kparts[i]->topic, topic) == 0 &&
            !s->kparts[i]->revoked)
            return s->kparts[i];
    char table[128], err[256];
    if (sink_table_name(topic, table, sizeof table, err, sizeof err) < 0) {
        log_error("%s", err);
        return NULL;
    }
    if (s->n_kparts == s->cap_kparts) {
        s->cap_kparts = s->cap_kparts ? 2 * s->cap_kparts : 16;
        s->kparts = xrealloc(s->kparts, s->cap_kparts * sizeof *s->kparts);
    }
    struct sink_kpart *kp = sink_kpart_new(topic, partition, table);
    s->kparts[s->n_kparts++] = kp;
    return kp;
}

void sink_kpart_drop(struct sink *s, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < s->n_kparts; i++) {
        struct sink_kpart *kp = s->kparts[i];
        if (kp->partition != partition || strcmp(kp->topic, topic) != 0)
            continue;
        uint64_t n = sink_kpart_buffered(kp);
        if (n > 0)
            log_info("dropping %llu buffered record(s) of revoked %s[%d]; its next owner re-reads "
                     "them from the last commit",
                     (unsigned long long)n, topic, (int)partition);
        atomic_fetch_sub(&s->metrics.buffered_records, (int64_t)n);
        atomic_fetch_sub(&s->metrics.buffered_bytes, (int64_t)kp->held_bytes);
        sink_kpart_destroy(kp);
        s->kparts[i] = s->kparts[--s->n_kparts];
        return;
    }
}

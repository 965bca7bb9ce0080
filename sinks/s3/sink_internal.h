/* State shared by the S3 sink's run, consume, flush and consumer modules. */
#ifndef SALESCDC_SINK_INTERNAL_H
#define SALESCDC_SINK_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>

#include "catalog.h"
#include "kpart.h"
#include "metrics.h"
#include "options.h"
#include "registry_lookup.h"
#include "schema_cache.h"
#include "uploader.h"

/* What the sink knows of one topic: its table and the schemas declared to the catalog. */
struct sink_topic {
    char *name;
    char table[128];
    int32_t value_schema_id; /* last declared to the catalog; -1 none */
    int32_t key_schema_id;   /* -1 none */
    char **key_fields;       /* primary key column names, from the key schema */
    size_t n_key_fields;
};

struct sink {
    const struct sink_options *o;
    volatile sig_atomic_t *stop;  /* first SIGTERM/SIGINT */
    volatile sig_atomic_t *abort; /* second signal: stop waiting for S3 */
    rd_kafka_t *rk;
    struct s3_client *s3;
    struct registry_lookup *rl;
    struct sink_schema_cache *schemas;
    struct sink_uploader up;
    struct sink_catalog *catalog; /* NULL without trino.url */
    struct sink_metrics metrics;
    struct sink_kpart **kparts;
    size_t n_kparts, cap_kparts;
    struct sink_topic *topics;
    size_t n_topics, cap_topics;
    int fatal;                   /* a record or commit the sink cannot get past: stop and exit 1 */
    struct sink_kpart *flushing; /* under way: a revoke then only marks partitions (revoked) */
    int paused;                  /* the assignment is paused while an upload waits to retry */
    int lost_noted;              /* a membership loss already counted by a refused commit */
    int rejoining; /* membership lost and positions not reset: records ignored until assigned */
};

/* Milliseconds of the monotonic clock. */
int64_t sink_now_ms(void);

/* Handles one consumed message: decode, route into its buffer, flush by the rules. Sets
 * S->fatal (with the cause logged) when the record cannot be handled. */
void sink_consume_message(struct sink *s, const rd_kafka_message_t *m);

/* Stores every buffer of KP as one object each, then commits KP's next offset. Returns 0, or
 * -1 when storing was given up (stop) or the commit failed (S->fatal set). */
int sink_flush_kpart(struct sink *s, struct sink_kpart *kp, enum sink_flush_reason reason);

/* Flushes every partition that has been idle for flush.idle.ms. */
void sink_flush_idle(struct sink *s);

/* Flushes the Kafka partitions holding the most memory while all buffers together hold more
 * than buffer.max.bytes (0: no bound). */
void sink_flush_memory(struct sink *s);

/* Flushes every partition (shutdown). Returns 0 when all were stored and committed. */
int sink_flush_all(struct sink *s, enum sink_flush_reason reason);

/* The state of TOPIC/PARTITION, created when missing (NULL with S->fatal when the topic names
 * no table). */
struct sink_kpart *sink_kpart_get(struct sink *s, const char *topic, int32_t partition);

/* Drops the buffers and state of TOPIC/PARTITION (revoked): nothing of it was committed past
 * what is stored, so the next owner re-reads the same records and writes the same keys. */
void sink_kpart_drop(struct sink *s, const char *topic, int32_t partition);

/* Creates the consumer (group, read_committed, manual commits) subscribed to topics.regex.
 * Returns NULL with errstr set. */
rd_kafka_t *sink_consumer_new(struct sink *s, char *errstr, size_t errstr_size);

/* Commits OFFSET (the next to read) of TOPIC/PARTITION synchronously. Returns 0, -2 with errstr
 * when the group membership was lost (see sink_consumer_lost), or -1 with errstr. */
int sink_consumer_commit(struct sink *s, const char *topic, int32_t partition, int64_t offset,
                         char *errstr, size_t errstr_size);

/* The uploader's keepalive while S3 is down: pauses the assignment (once) and polls, so the
 * member stays in its group without taking records; a message fetched before the pause is
 * sought back. Returns non-zero when the partition being flushed (S->flushing's) was revoked. */
int sink_consumer_keepalive(void *arg);

/* After a commit refused for a lost membership (WHY): every partition's buffers are dropped
 * (they are not committed; the re-read rewrites the same keys) and the partitions are sought
 * back to their last commit; the rebalance then assigns partitions again. */
void sink_consumer_lost(struct sink *s, const char *why);

/* Resumes the assignment after a keepalive paused it. */
void sink_consumer_resume(struct sink *s);

/* Frees the partitions revoked during a flush. */
void sink_kpart_reap(struct sink *s);

/* Updates the lag gauge from the assignment's positions and cached high watermarks. */
void sink_consumer_update_lag(struct sink *s);

#endif

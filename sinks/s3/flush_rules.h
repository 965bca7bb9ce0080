/* When a buffer's object is cut: flush.records, flush.bytes, rotate.interval (record time),
 * a writer schema change (Avro files hold one schema), the wall-clock idle timeout, and the
 * bound on memory held by all buffers together. All but the last two depend only on the
 * records, in offset order. */
#ifndef SALESCDC_SINK_FLUSH_RULES_H
#define SALESCDC_SINK_FLUSH_RULES_H

#include <stddef.h>
#include <stdint.h>

enum sink_flush_reason {
    SINK_FLUSH_NONE = 0,
    SINK_FLUSH_RECORDS,  /* a buffer reached flush.records */
    SINK_FLUSH_BYTES,    /* a buffer reached flush.bytes (uncompressed) */
    SINK_FLUSH_ROTATE,   /* a record's time is rotate.interval or more from the buffer's span */
    SINK_FLUSH_SCHEMA,   /* the next record has another writer schema (Avro format) */
    SINK_FLUSH_IDLE,     /* no record for the Kafka partition within flush.idle.ms (wall clock) */
    SINK_FLUSH_SHUTDOWN, /* SIGTERM/SIGINT */
    SINK_FLUSH_MEMORY,   /* all buffers together held more than buffer.max.bytes */
    SINK_FLUSH_REASONS
};

struct sink_flush_rules {
    uint64_t max_records;       /* >= 1 */
    uint64_t max_bytes;         /* >= 1 */
    int64_t rotate_interval_ms; /* 0: off */
    int64_t idle_ms;            /* 0: off */
    int one_schema_per_object;  /* cut on a writer schema change */
    uint64_t max_held_bytes;    /* bound on the bytes held by all buffers together; 0: off */
};

/* What the rules look at in one buffer. */
struct sink_buffer_stats {
    uint64_t records;
    uint64_t bytes; /* uncompressed bytes appended */
    int has_time;   /* min/max below are set */
    int64_t min_time_ms, max_time_ms;
    int32_t schema_id;
};

/* Name of REASON as used in logs and metrics ("records", "bytes", ...). */
const char *sink_flush_reason_name(enum sink_flush_reason reason);

/* The reason to cut before a record (time TIME_MS if HAS_TIME, writer SCHEMA_ID) joins a
 * buffer with statistics ST, or SINK_FLUSH_NONE. An empty buffer never needs a cut. */
enum sink_flush_reason sink_flush_before(const struct sink_flush_rules *r,
                                         const struct sink_buffer_stats *st, int has_time,
                                         int64_t time_ms, int32_t schema_id);

/* Adds a record of RAW_BYTES to ST. */
void sink_flush_account(struct sink_buffer_stats *st, uint64_t raw_bytes, int has_time,
                        int64_t time_ms, int32_t schema_id);

/* The reason to cut after a record joined the buffer with statistics ST, or SINK_FLUSH_NONE. */
enum sink_flush_reason sink_flush_after(const struct sink_flush_rules *r,
                                        const struct sink_buffer_stats *st);

/* True when a partition whose last record arrived at LAST_RECORD_MS (a monotonic clock) is
 * idle at NOW_MS. */
int sink_flush_idle_due(const struct sink_flush_rules *r, int64_t last_record_ms, int64_t now_ms);

/* The memory bound: HELD[i] is what the buffers of Kafka partition i hold (bytes, overhead
 * included). When their sum exceeds max_held_bytes, returns the index of the partition holding
 * the most (the first of equals), whose buffers are then cut together; else -1. Cutting the
 * largest frees the most memory per object and leaves small buffers to fill. */
long sink_flush_memory_victim(const struct sink_flush_rules *r, const uint64_t *held, size_t n);

#endif

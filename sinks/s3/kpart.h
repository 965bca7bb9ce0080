/* The buffers of one Kafka partition: one per partition path (dt/hour or column value), each
 * building one object whose key is named by its first offset. All buffers of a Kafka partition
 * are cut together (see README, "exactly once"), so after a flush nothing of the partition is
 * buffered and its next offset can be committed. */
#ifndef SALESCDC_SINK_KPART_H
#define SALESCDC_SINK_KPART_H

#include <stddef.h>
#include <stdint.h>

#include "flush_rules.h"
#include "schema_cache.h"
#include "writer.h"

struct sink_buffer {
    char *path;                       /* partition path, "" for none */
    int64_t first_offset;             /* names the object */
    struct sink_buffer_stats st;      /* what the flush rules look at */
    const struct sink_schema *schema; /* writer schema of the first record (borrowed) */
    struct sink_writer *writer;
};

struct sink_kpart {
    char *topic;
    int32_t partition;
    char table[128];             /* table the topic lands in */
    struct sink_buffer *buffers; /* open buffers, in the order they were opened */
    size_t n_buffers, cap_buffers;
    int64_t next_offset;    /* offset after the last record consumed (buffered or skipped); -1 */
    int64_t uncommitted;    /* first offset consumed and not committed (a membership loss seeks
                               back to it); -1 */
    int64_t last_record_ms; /* monotonic time the last record arrived (idle rule) */
    uint64_t held_bytes;    /* memory its buffers' writers hold (buffer.max.bytes) */
    int revoked;            /* revoked during a flush: dropped once the flush has unwound */
};

/* Creates the state of TOPIC's PARTITION landing in TABLE. Caller frees with
 * sink_kpart_destroy(). */
struct sink_kpart *sink_kpart_new(const char *topic, int32_t partition, const char *table);
void sink_kpart_destroy(struct sink_kpart *kp);

/* The open buffer for PATH (borrowed; valid until the next open or reset), or NULL. */
struct sink_buffer *sink_kpart_find(struct sink_kpart *kp, const char *path);

/* Opens a buffer for PATH starting at FIRST_OFFSET, with a writer for CFG and SCHEMA; the Avro
 * sync marker is derived from the object's identity, so a rewrite is byte-identical. */
struct sink_buffer *sink_kpart_open(struct sink_kpart *kp, const char *path, int64_t first_offset,
                                    const struct sink_schema *schema,
                                    const struct sink_writer_config *cfg);

/* Drops every buffer (after a flush, or when the partition is revoked). */
void sink_kpart_reset(struct sink_kpart *kp);

/* Records in all open buffers. */
uint64_t sink_kpart_buffered(const struct sink_kpart *kp);

/* Fills SYNC with the Avro sync marker of the object of TOPIC/PARTITION/PATH/FIRST_OFFSET: the
 * MD5 of those, deterministic. */
void sink_kpart_sync_marker(const char *topic, int32_t partition, const char *path,
                            int64_t first_offset, unsigned char sync[16]);

#endif

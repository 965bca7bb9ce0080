/* The flush rules as pure functions of buffer statistics. */
#include "flush_rules.h"

const char *sink_flush_reason_name(enum sink_flush_reason reason)
{
    static const char *const names[SINK_FLUSH_REASONS] = {
        "none", "records", "bytes", "rotate", "schema", "idle", "shutdown", "memory",
    };
    return reason >= 0 && reason < SINK_FLUSH_REASONS ? names[reason] : "unknown";
}

enum sink_flush_reason sink_flush_before(const struct sink_flush_rules *r,
                                         const struct sink_buffer_stats *st, int has_time,
                                         int64_t time_ms, int32_t schema_id)
{
    if (st->records == 0)
        return SINK_FLUSH_NONE;
    if (r->one_schema_per_object && schema_id != st->schema_id)
        return SINK_FLUSH_SCHEMA;
    if (r->rotate_interval_ms > 0 && has_time && st->has_time) {
        int64_t lo = time_ms < st->min_time_ms ? time_ms : st->min_time_ms;
        int64_t hi = time_ms > st->max_time_ms ? time_ms : st->max_time_ms;
        if (hi - lo >= r->rotate_interval_ms)
            return SINK_FLUSH_ROTATE;
    }
    return SINK_FLUSH_NONE;
}

void sink_flush_account(struct sink_buffer_stats *st, uint64_t raw_bytes, int has_time,
                        int64_t time_ms, int32_t schema_id)
{
    if (has_time && !st->has_time) {
        st->has_time = 1;
        st->min_time_ms = st->max_time_ms = time_ms;
    } else if (has_time) {
        if (time_ms < st->min_time_ms)
            st->min_time_ms = time_ms;
        if (time_ms > st->max_time_ms)
            st->max_time_ms = time_ms;
    }
    st->records++;
    st->bytes += raw_bytes;
    st->schema_id = schema_id;
}

enum sink_flush_reason sink_flush_after(const struct sink_flush_rules *r,
                                        const struct sink_buffer_stats *st)
{
    if (st->records >= r->max_records)
        return SINK_FLUSH_RECORDS;
    if (st->bytes >= r->max_bytes)
        return SINK_FLUSH_BYTES;
    return SINK_FLUSH_NONE;
}

int sink_flush_idle_due(const struct sink_flush_rules *r, int64_t last_record_ms, int64_t now_ms)
{
    return r->idle_ms > 0 && now_ms - last_record_ms >= r->idle_ms;
}

long sink_flush_memory_victim(const struct sink_flush_rules *r, const uint64_t *held, size_t n)
{
    uint64_t total = 0;
    long victim = -1;
    for (size_t i = 0; i < n; i++) {
        total += held[i];
        if (held[i] > 0 && (victim < 0 || held[i] > held[victim]))
            victim = (long)i;
    }
    return r->max_held_bytes > 0 && total > r->max_held_bytes ? victim : -1;
}

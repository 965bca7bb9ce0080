/* Where a record goes: its record time (for time partitions and rotate.interval) and its
 * partition path: dt=YYYY-MM-DD/hour=HH (UTC) by a time field, <column>=<value> by a column's
 * value, or nothing. Pure functions of the record, so a re-read record lands in the same place. */
#ifndef SALESCDC_SINK_PARTITIONER_H
#define SALESCDC_SINK_PARTITIONER_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "avro_type.h"
#include "strbuf.h"

/* Hive's name for the partition of a null or empty value. */
#define SINK_PARTITION_DEFAULT "__HIVE_DEFAULT_PARTITION__"

enum sink_partition_mode {
    SINK_PARTITION_TIME,   /* dt=YYYY-MM-DD/hour=HH of the time field */
    SINK_PARTITION_COLUMN, /* <column>=<value> */
    SINK_PARTITION_NONE,
};

struct sink_partitioner {
    enum sink_partition_mode mode;
    const char *time_field; /* record time: partitions (time mode) and rotate.interval */
    const char *column;     /* column mode: the column partitioned by */
};

/* Parses "time", "column" or "none". Returns 0 or -1. */
int sink_partition_mode_parse(const char *name, enum sink_partition_mode *out);

/* Reads field FIELD of record VALUE (type RECORD) as a time in milliseconds since the epoch:
 * timestamp-millis/-micros (µs floored to ms), date (midnight UTC), or a long/int without a
 * logical type, taken as milliseconds (like __source_ts_ms). Sets *PRESENT to 0 when the value
 * is null. Returns 0, or -1 with errstr when the field is missing or of another type. */
int sink_record_time_ms(const struct sink_avro_type *record, avro_value_t *value, const char *field,
                        int64_t *ms, int *present, char *errstr, size_t errstr_size);

/* Writes the partition path of a record into OUT (OUT_SIZE bytes): "" for mode none,
 * "dt=2024-01-02/hour=03" from TIME_MS (HAS_TIME 0: both values SINK_PARTITION_DEFAULT), or
 * "<column>=<value>" with the value's text escaped as Hive escapes path names. Returns 0, or
 * -1 with errstr (missing column, unsupported type, path too long). */
int sink_partition_path(const struct sink_partitioner *p, const struct sink_avro_type *record,
                        avro_value_t *value, int has_time, int64_t time_ms, char *out,
                        size_t out_size, char *errstr, size_t errstr_size);

/* Hive's escaping of a partition value (FileUtils.escapePathName): control characters and
 * "#%'*\/:=?\\{[]^ and DEL become %XX; an empty value becomes SINK_PARTITION_DEFAULT. Appends
 * to OUT. */
void sink_partition_escape(struct strbuf *out, const char *value, size_t len);

/* Splits PATH ("a=1/b=2") into names and values (percent-unescaped) for catalog calls: calls
 * FN(name, value, ARG) per segment; returns 0, or -1 when a segment has no '='. */
int sink_partition_each(const char *path,
                        void (*fn)(const char *name, const char *value, void *arg), void *arg);

#endif

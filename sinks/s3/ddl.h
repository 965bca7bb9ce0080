/* Trino SQL of the catalog: the change table over a table's S3 location (columns from the flat
 * value schema), added columns, the current-state view, and partition registration. Pure text
 * builders; every returned string is malloc'd (caller frees with free()). */
#ifndef SALESCDC_SINK_DDL_H
#define SALESCDC_SINK_DDL_H

#include <stddef.h>

#include "avro_type.h"
#include "partitioner.h"
#include "writer.h"

/* Everything the statements of one table depend on (all borrowed). */
struct sink_table_def {
    const char *catalog;      /* "hive" */
    const char *schema;       /* "sales" */
    const char *changes_name; /* "<prefix><table>_changes": every change */
    const char *view_name;    /* "<prefix><table>": the current state */
    const char *location;     /* "s3://bucket/<prefix>/<table>/" */
    enum sink_format format;
    enum sink_partition_mode partition_mode;
    const char *partition_column;       /* column mode */
    const struct sink_avro_type *value; /* the flat value record */
    char *const *key_fields;            /* primary key columns (from the key schema) */
    size_t n_key_fields;
};

/* The Trino type of a column of Avro type T in FORMAT, or NULL when the sink cannot map it
 * (the column is left out). Hive's timestamp precision is milliseconds: timestamp-micros
 * becomes timestamp(3) over JSON text, and bigint (µs) over Avro, whose reader would take the
 * µs for ms; the view turns those back into timestamp(6). */
char *sink_ddl_column_type(const struct sink_avro_type *t, enum sink_format format);

/* "name" with quotes doubled. Appends to OUT. */
void sink_ddl_quote(struct strbuf *out, const char *name);

/* CREATE TABLE IF NOT EXISTS of the change table. */
char *sink_ddl_create_table(const struct sink_table_def *d);

/* SHOW COLUMNS of the change table (rows: Column, Type, Extra, Comment). */
char *sink_ddl_show_columns(const struct sink_table_def *d);

/* ALTER TABLE ... ADD COLUMN for value field INDEX, or NULL when its type is unsupported. */
char *sink_ddl_add_column(const struct sink_table_def *d, size_t index);

/* True when value field INDEX is a data column of the change table (a supported type, and
 * not the partition column in column mode). */
int sink_ddl_is_data_column(const struct sink_table_def *d, size_t index);

/* CREATE OR REPLACE VIEW of the current state: per primary key the change with the highest
 * __lsn (then __source_ts_ms), unless it is a delete; the row's own columns with their own
 * names. NULL with errstr when there is no key or no __lsn/__source_ts_ms to order by. */
char *sink_ddl_view(const struct sink_table_def *d, char *errstr, size_t errstr_size);

/* CALL system.register_partition for PATH ("dt=2024-01-02/hour=03"). */
char *sink_ddl_register_partition(const struct sink_table_def *d, const char *path);

/* CALL system.sync_partition_metadata(..., 'ADD'): registers every partition found in S3. */
char *sink_ddl_sync_partitions(const struct sink_table_def *d);

#endif

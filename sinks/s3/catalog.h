/* The catalog (Glue crawler's job): a thread that keeps Trino's Hive catalog in step with what
 * the sink writes. Per table: CREATE TABLE IF NOT EXISTS <prefix><table>_changes over the
 * table's S3 location, ALTER TABLE ADD COLUMN for columns the schema gained, CREATE OR REPLACE
 * VIEW <prefix><table> (current state), and once per run sync_partition_metadata (partitions
 * stored while Trino was down or before a crash); per new partition, register_partition right
 * after its first object is stored. Work that fails (Trino down) stays pending and is retried;
 * objects land regardless. */
#ifndef SALESCDC_SINK_CATALOG_H
#define SALESCDC_SINK_CATALOG_H

#include <stddef.h>

#include "metrics.h"
#include "partitioner.h"
#include "trino_client.h"
#include "writer.h"

struct sink_catalog_options {
    struct trino_config trino; /* url, user, ... (the stop flag is the catalog's own) */
    const char *catalog, *schema, *table_prefix, *changes_suffix;
    const char *bucket, *s3_prefix;
    enum sink_format format;
    enum sink_partition_mode partition_mode;
    const char *partition_column;
    long retry_ms;
    struct sink_metrics *metrics; /* borrowed */
};

struct sink_catalog;

/* Starts the catalog thread (strings of O are copied). Returns NULL with errstr when the Trino
 * settings are invalid. Caller stops and frees it with sink_catalog_stop(). */
struct sink_catalog *sink_catalog_start(const struct sink_catalog_options *o, char *errstr,
                                        size_t errstr_size);

/* Declares TABLE with its flat value schema VALUE_SCHEMA (JSON text) and primary key columns
 * KEY_FIELDS (N_KEYS; 0 when unknown): the table, columns and view are brought up to date.
 * Cheap when nothing changed. Arguments are copied. */
void sink_catalog_table(struct sink_catalog *cat, const char *table, const char *value_schema,
                        char *const *key_fields, size_t n_keys);

/* Makes partition PATH of TABLE visible (call after its first object is stored; repeated
 * calls are cheap). Arguments are copied. */
void sink_catalog_partition(struct sink_catalog *cat, const char *table, const char *path);

/* Gives pending work up to DRAIN_MS to finish, then stops the thread and frees CAT. NULL is a
 * no-op. */
void sink_catalog_stop(struct sink_catalog *cat, long drain_ms);

#endif

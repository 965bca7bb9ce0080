/* The catalog's Trino work for one table or one partition (run by the catalog thread). */
#ifndef SALESCDC_SINK_CATALOG_JOBS_H
#define SALESCDC_SINK_CATALOG_JOBS_H

#include <stddef.h>

#include "ddl.h"
#include "metrics.h"
#include "trino_client.h"

/* Creates the change table if missing, adds the value schema's columns it lacks, replaces the
 * view (skipped with a warning when it cannot be built), and with SYNC registers every
 * partition present in S3. Returns 0, or -1 with errstr naming the statement that failed. */
int sink_catalog_ensure_table(struct trino_client *c, const struct sink_table_def *d, int sync,
                              struct sink_metrics *m, char *errstr, size_t errstr_size);

/* Registers partition PATH of D's change table; one already registered counts as success.
 * Returns 0 or -1 with errstr. */
int sink_catalog_register(struct trino_client *c, const struct sink_table_def *d, const char *path,
                          struct sink_metrics *m, char *errstr, size_t errstr_size);

#endif

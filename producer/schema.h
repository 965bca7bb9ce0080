/* The producer's tables: orders (the seed's columns plus customer, status and timestamps,
 * REPLICA IDENTITY FULL), products and customers for joins, and salescdc_producer_runs, where
 * every transaction of a run leaves its sequence number (how a lost COMMIT is resolved). */
#ifndef SALESCDC_PRODUCER_SCHEMA_H
#define SALESCDC_PRODUCER_SCHEMA_H

#include <libpq-fe.h>
#include <stddef.h>

/* Creates what is missing in schema SCHEMA (unquoted name; created too if missing), in one
 * transaction under an advisory lock, so it is idempotent and safe to run concurrently. Returns
 * 0, or -1 with errstr naming the object and the cause. */
int schema_init(PGconn *conn, const char *schema, char *errstr, size_t errstr_size);

/* Checks that the tables exist and that the user may write them; returns 0, or -1 with errstr
 * naming the missing table or privilege and the fix. */
int schema_check(PGconn *conn, const char *schema, char *errstr, size_t errstr_size);

#endif

/* The initial snapshot: a second, ordinary connection imports the snapshot exported when the
 * slot was created (BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT), so it sees
 * exactly the transactions committed before the slot's consistent point, and reads each
 * published table through a cursor in batches (memory bounded by the batch). */
#ifndef SALESCDC_SNAPSHOT_H
#define SALESCDC_SNAPSHOT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "pgoutput.h"
#include "relcache.h"

struct snapshot;

/* Connects with CONNINFO (borrowed) and imports exported snapshot SNAPSHOT_ID. Returns the
 * snapshot session (caller frees with snapshot_close()), or NULL with errstr. */
struct snapshot *snapshot_open(const char *conninfo, const char *snapshot_id, char *errstr,
                               size_t errstr_size);
void snapshot_close(struct snapshot *s);

/* Sets *RELIDS (caller frees with free()) to the tables of publication PUB as the snapshot sees
 * them (the leaf partitions, like pgoutput). Returns their count, or -1 with errstr. */
int snapshot_tables(struct snapshot *s, const char *pub, uint32_t **relids, char *errstr,
                    size_t errstr_size);

/* Fills *M with the Relation message pgoutput sends for RELID (name, replica identity, the
 * published columns with their types and key flags), from the catalog as of the snapshot. M's
 * strings are borrowed until the next call. Returns 0, or -1 with errstr. */
int snapshot_relation(struct snapshot *s, const char *pub, uint32_t relid, struct pgoutput_msg *m,
                      char *errstr, size_t errstr_size);

/* Called for each row: REL's columns in text form (borrowed for the call). Returns 0, or -1
 * with errstr to stop the read. */
typedef int (*snapshot_row_fn)(void *arg, const struct pgoutput_tuple *row, char *errstr,
                               size_t errstr_size);

/* Reads every row of REL, FETCH_ROWS per round trip, calling FN(ARG, row) for each, and logs
 * progress against pg_class.reltuples. Stops early (-1, errstr) when *STOP is set. Returns the
 * number of rows, or -1 with errstr. */
int64_t snapshot_read(struct snapshot *s, const struct relcache_rel *rel, int fetch_rows,
                      snapshot_row_fn fn, void *arg, volatile sig_atomic_t *stop, char *errstr,
                      size_t errstr_size);

#endif

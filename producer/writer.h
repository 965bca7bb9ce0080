/* Writes batches to PostgreSQL, one transaction each, exactly once: a batch's counts are
 * reported only after its COMMIT succeeded. A lost connection is re-established with exponential
 * backoff and the batch retried (its transaction rolled back with the connection). When the
 * connection dies during COMMIT, the outcome is read back after reconnecting from the run's row
 * in salescdc_producer_runs, which every batch's transaction updates first: its batch number
 * equals the batch's only if that transaction committed (a row lock makes the check wait until
 * the old transaction is over). */
#ifndef SALESCDC_PRODUCER_WRITER_H
#define SALESCDC_PRODUCER_WRITER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

/* What committed batches did to the orders table. */
struct writer_counts {
    uint64_t inserted;  /* upserts that inserted */
    uint64_t updated;   /* upserts that overwrote a row, and status changes */
    uint64_t deleted;   /* deletes that removed a row */
    uint64_t unchanged; /* deletes and status changes that found no matching row */
};

struct writer_stats {
    uint64_t transactions; /* committed */
    uint64_t retries;      /* transactions run again after a failure */
    uint64_t reconnects;   /* sessions opened after the first */
    uint64_t resolved;     /* COMMITs whose reply was lost, resolved by reading the run row */
};

struct writer_config {
    const char *conninfo;        /* libpq conninfo or URI (borrowed) */
    const char *schema;          /* unquoted schema name (borrowed) */
    int init;                    /* create missing tables at start */
    double reconnect_timeout_s;  /* give up reconnecting after this long; 0: never */
    const char *mode, *seed;     /* recorded in the run's row (borrowed) */
    int fault_commit_lost_every; /* testing: every Nth COMMIT behaves as if its reply was lost */
    volatile sig_atomic_t *stop; /* non-zero: stop waiting to reconnect (borrowed) */
};

enum writer_result {
    WRITER_OK,
    WRITER_FAILED,  /* errstr says why; exit 1 */
    WRITER_STOPPED, /* *stop was set while reconnecting; the batch was not written */
};

struct writer;

/* Creates a writer (CONFIG is copied; its strings are borrowed). Caller frees with
 * writer_destroy(). */
struct writer *writer_new(const struct writer_config *config);
void writer_destroy(struct writer *w);

/* Connects (once, no retries: an unreachable server at start is a configuration problem),
 * creates the tables when asked, checks them and registers the run. Returns 0 or -1 with
 * errstr. */
int writer_start(struct writer *w, char *errstr, size_t errstr_size);

/* Writes B (sealed) in one transaction; on WRITER_OK adds what it did to *TOTALS. */
enum writer_result writer_write(struct writer *w, const struct batch *b,
                                struct writer_counts *totals, char *errstr, size_t errstr_size);

/* Borrowed, valid until writer_destroy(). */
const struct writer_stats *writer_stats(const struct writer *w);
/* The run's id in salescdc_producer_runs. */
uint64_t writer_run_id(const struct writer *w);

#endif

/* One transaction's worth of generated operations, prepared for the database: each operation gets
 * a round so that no orderid occurs twice in a round (a round is written with one set-based
 * statement per kind, and INSERT … ON CONFLICT may touch a row only once per statement), and the
 * whole batch is rendered as COPY text for the stage table.
 *
 * Rounds keep the per-orderid order of operations; operations on different orderids commute, so
 * the committed result equals applying the operations one by one. */
#ifndef SALESCDC_PRODUCER_BATCH_H
#define SALESCDC_PRODUCER_BATCH_H

#include <stddef.h>

#include "generator.h"

/* Operations of each kind in one round. */
struct batch_round {
    size_t upserts, advances, deletes;
};

struct batch {
    struct generator_op *ops; /* n of cap */
    size_t n, cap;
    int *round;                 /* per operation, set by batch_seal() */
    struct batch_round *rounds; /* n_rounds, set by batch_seal() */
    int n_rounds;
    char *copy; /* COPY text (tab-separated, one line per operation), set by batch_seal() */
    size_t copy_len, copy_cap;
    /* private: orderid → first operation hash table; only the first slot_mask + 1 slots are in
     * use for the current batch, so a small batch does not clear the whole table */
    unsigned *slots;
    size_t n_slots, slot_mask;
};

/* Creates an empty batch of at most CAP operations. Caller frees with batch_destroy(). */
struct batch *batch_new(size_t cap);
void batch_destroy(struct batch *b);
/* Empties B for reuse. */
void batch_reset(struct batch *b);
/* Returns the slot for the next operation (borrowed; B must not be full). */
struct generator_op *batch_add(struct batch *b);
/* Assigns rounds and renders the COPY text; call once after the last batch_add(). */
void batch_seal(struct batch *b);

/* Columns of one COPY line, in order; the stage table is declared with the same columns. */
#define BATCH_COPY_COLUMNS                                                                         \
    "round, kind, orderid, product_name, quantity, price, customer_id, status_old, status_new, ts"

/* Renders µs since the epoch as a PostgreSQL timestamptz literal in UTC
 * ("2024-01-31 23:59:59.000000+00") into OUT (at least 40 bytes). */
void batch_format_ts(long long us, char *out, size_t size);

#endif

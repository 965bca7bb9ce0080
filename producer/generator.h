/* The order generator: a pure, seeded stream of write operations (no I/O, no clock), so the same
 * seed and options give the same operations byte for byte however fast they are written.
 *
 * Seed mode is the AWS demo's generator: orderid uniform in 1..10000 as a string, product one of
 * five gadgets, quantity 1..5, price 10.00..500.00, written as an upsert (so repeats are updates);
 * optionally a share of deletes of a random orderid. Lifecycle mode creates new orders and moves
 * orders it created through the life cycle (order_status.h), deleting some. */
#ifndef SALESCDC_PRODUCER_GENERATOR_H
#define SALESCDC_PRODUCER_GENERATOR_H

#include <stdint.h>

#include "order_status.h"

enum generator_mode { GENERATOR_SEED, GENERATOR_LIFECYCLE };

/* The operation kinds; the values are the codes used in the COPY stage table. */
enum generator_op_kind {
    GENERATOR_OP_UPSERT = 'u',  /* insert, or overwrite the row with this orderid */
    GENERATOR_OP_ADVANCE = 'a', /* status_old → status_new, only if the row has status_old */
    GENERATOR_OP_DELETE = 'd',  /* delete the row with this orderid, if any */
};

#define GENERATOR_SEED_ORDERIDS 10000 /* seed mode: orderid in 1..10000 */
#define GENERATOR_CUSTOMERS 1000      /* customer_id in 1..1000 (the customers table) */
#define GENERATOR_PRICE_MIN_CENTS 1000
#define GENERATOR_PRICE_MAX_CENTS 50000
#define GENERATOR_QUANTITY_MAX 5
#define GENERATOR_ORDERID_SIZE 32
#define GENERATOR_TS_NOW INT64_MIN /* ts_us value: the database's now() */

/* The products, in the order their indexes refer to (static, borrowed). */
extern const char *const generator_products[];
#define GENERATOR_PRODUCT_COUNT 5

struct generator_op {
    enum generator_op_kind kind;
    char orderid[GENERATOR_ORDERID_SIZE];
    /* upsert only */
    int product; /* index into generator_products */
    int quantity;
    int price_cents;
    int customer_id;
    /* status_new: upsert → placed; advance → the new status. status_old: advance only. */
    enum order_status status_old, status_new;
    int64_t ts_us; /* created_at/updated_at in µs since the epoch, or GENERATOR_TS_NOW */
};

struct generator_config {
    enum generator_mode mode;
    uint64_t seed;
    int delete_percent;    /* 0..100: share of operations that are deletes */
    int64_t time_start_us; /* GENERATOR_TS_NOW: timestamps from the database's now() */
    int64_t time_step_us;  /* synthetic clock advance per operation */
    int pool_size;         /* lifecycle: orders kept in play at most (0: default 10000) */
};

struct generator;

/* Creates a generator (CONFIG is copied). Caller frees with generator_destroy(). */
struct generator *generator_new(const struct generator_config *config);
void generator_destroy(struct generator *g);

/* Fills OP with the next operation. */
void generator_next(struct generator *g, struct generator_op *op);

/* Operations generated so far. */
uint64_t generator_count(const struct generator *g);

#endif

/* The order generator: seed-mode upserts and lifecycle-mode order histories from one PRNG. */
#include "generator.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

const char *const generator_products[GENERATOR_PRODUCT_COUNT] = {"Laptop", "Phone", "Tablet",
                                                                 "Headphones", "Charger"};

#define DEFAULT_POOL_SIZE 10000
#define ADVANCE_PERCENT 55 /* lifecycle: share of non-delete operations that move an order */

/* A lifecycle order in play: its sequence number (which gives its orderid) and status. */
struct tracked {
    uint64_t seq;
    enum order_status status;
};

struct generator {
    struct generator_config cfg;
    struct prng prng;
    uint64_t count;       /* operations generated */
    uint32_t run_tag;     /* lifecycle: orderid prefix, from the seed */
    uint64_t next_seq;    /* lifecycle: sequence number of the next new order */
    struct tracked *live; /* non-terminal orders */
    size_t n_live;
    struct tracked *done; /* terminal orders still deletable (a bounded sample) */
    size_t n_done;
};

struct generator *generator_new(const struct generator_config *config)
{
    struct generator *g = xcalloc(1, sizeof *g);
    g->cfg = *config;
    if (g->cfg.pool_size <= 0)
        g->cfg.pool_size = DEFAULT_POOL_SIZE;
    prng_seed(&g->prng, config->seed);
    g->run_tag = (uint32_t)(prng_next(&g->prng) >> 32);
    g->next_seq = 1;
    g->live = xcalloc((size_t)g->cfg.pool_size, sizeof *g->live);
    g->done = xcalloc((size_t)g->cfg.pool_size, sizeof *g->done);
    return g;
}

void generator_destroy(struct generator *g)
{
    if (!g)
        return;
    free(g->live);
    free(g->done);
    free(g);
}

uint64_t generator_count(const struct generator *g)
{
    return g->count;
}

/* Fills the order values every new or overwritten order carries. */
static void draw_order_values(struct generator *g, struct generator_op *op)
{
    op->product = (int)prng_below(&g->prng, GENERATOR_PRODUCT_COUNT);
    op->quantity = (int)prng_range(&g->prng, 1, GENERATOR_QUANTITY_MAX);
    op->price_cents =
        (int)prng_range(&g->prng, GENERATOR_PRICE_MIN_CENTS, GENERATOR_PRICE_MAX_CENTS);
    op->customer_id = (int)prng_range(&g->prng, 1, GENERATOR_CUSTOMERS);
    op->status_old = op->status_new = ORDER_PLACED;
}

static void seed_next(struct generator *g, struct generator_op *op)
{
    int is_delete = (int)prng_below(&g->prng, 100) < g->cfg.delete_percent;
    long orderid = (long)prng_range(&g->prng, 1, GENERATOR_SEED_ORDERIDS);
    snprintf(op->orderid, sizeof op->orderid, "%ld", orderid);
    if (is_delete) {
        op->kind = GENERATOR_OP_DELETE;
        return;
    }
    op->kind = GENERATOR_OP_UPSERT;
    draw_order_values(g, op);
}

static void format_lifecycle_id(const struct generator *g, uint64_t seq, char *out, size_t size)
{
    snprintf(out, size, "%08" PRIx32 "-%" PRIu64, g->run_tag, seq);
}

/* Removes element I of ARR (length *N) by moving the last one into its place. */
static struct tracked take(struct tracked *arr, size_t *n, size_t i)
{
    struct tracked t = arr[i];
    arr[i] = arr[--*n];
    return t;
}

/* Keeps T deletable; when the sample is full a random older entry makes room. */
static void remember_done(struct generator *g, struct tracked t)
{
    if (g->n_done < (size_t)g->cfg.pool_size)
        g->done[g->n_done++] = t;
    else
        g->done[prng_below(&g->prng, g->n_done)] = t;
}

static void lifecycle_delete(struct generator *g, struct generator_op *op)
{
    uint64_t i = prng_below(&g->prng, g->n_live + g->n_done);
    struct tracked t = i < g->n_live ? take(g->live, &g->n_live, (size_t)i)
                                     : take(g->done, &g->n_done, (size_t)(i - g->n_live));
    op->kind = GENERATOR_OP_DELETE;
    format_lifecycle_id(g, t.seq, op->orderid, sizeof op->orderid);
}

static void lifecycle_advance(struct generator *g, struct generator_op *op)
{
    size_t i = (size_t)prng_below(&g->prng, g->n_live);
    struct tracked *t = &g->live[i];
    op->kind = GENERATOR_OP_ADVANCE;
    format_lifecycle_id(g, t->seq, op->orderid, sizeof op->orderid);
    op->status_old = t->status;
    op->status_new = order_status_next(&g->prng, t->status);
    t->status = op->status_new;
    if (order_status_is_terminal(t->status))
        remember_done(g, take(g->live, &g->n_live, i));
}

static void lifecycle_new(struct generator *g, struct generator_op *op)
{
    struct tracked t = {g->next_seq++, ORDER_PLACED};
    op->kind = GENERATOR_OP_UPSERT;
    format_lifecycle_id(g, t.seq, op->orderid, sizeof op->orderid);
    draw_order_values(g, op);
    g->live[g->n_live++] = t;
}

static void lifecycle_next(struct generator *g, struct generator_op *op)
{
    int is_delete = (int)prng_below(&g->prng, 100) < g->cfg.delete_percent;
    if (is_delete && g->n_live + g->n_done > 0) {
        lifecycle_delete(g, op);
        return;
    }
    int advance = (int)prng_below(&g->prng, 100) < ADVANCE_PERCENT;
    if (g->n_live > 0 && (advance || g->n_live == (size_t)g->cfg.pool_size))
        lifecycle_advance(g, op);
    else
        lifecycle_new(g, op);
}

void generator_next(struct generator *g, struct generator_op *op)
{
    memset(op, 0, sizeof *op);
    if (g->cfg.mode == GENERATOR_SEED)
        seed_next(g, op);
    else
        lifecycle_next(g, op);
    op->ts_us = g->cfg.time_start_us == GENERATOR_TS_NOW
                    ? GENERATOR_TS_NOW
                    : g->cfg.time_start_us + (int64_t)g->count * g->cfg.time_step_us;
    g->count++;
}

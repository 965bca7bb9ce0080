/* Batch planning: rounds by orderid occurrence, COPY text rendering. */
#include "batch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"

#define EMPTY_SLOT 0u /* slots hold operation index + 1 */

struct batch *batch_new(size_t cap)
{
    struct batch *b = xcalloc(1, sizeof *b);
    b->cap = cap;
    b->ops = xcalloc(cap, sizeof *b->ops);
    b->round = xcalloc(cap, sizeof *b->round);
    b->n_slots = 16;
    while (b->n_slots < cap * 2)
        b->n_slots <<= 1;
    b->slots = xcalloc(b->n_slots, sizeof *b->slots);
    b->copy_cap = 4096;
    b->copy = xmalloc(b->copy_cap);
    return b;
}

void batch_destroy(struct batch *b)
{
    if (!b)
        return;
    free(b->ops);
    free(b->round);
    free(b->rounds);
    free(b->slots);
    free(b->copy);
    free(b);
}

void batch_reset(struct batch *b)
{
    b->n = 0;
    b->n_rounds = 0;
    b->copy_len = 0;
}

struct generator_op *batch_add(struct batch *b)
{
    return &b->ops[b->n++];
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Finds the slot of the first operation on ORDERID, or the empty slot where it belongs. */
static unsigned *find_slot(struct batch *b, const char *orderid)
{
    size_t mask = b->slot_mask, i = (size_t)hash_str(orderid) & mask;
    while (b->slots[i] != EMPTY_SLOT && strcmp(b->ops[b->slots[i] - 1].orderid, orderid) != 0)
        i = (i + 1) & mask;
    return &b->slots[i];
}

/* round[i] = number of earlier operations on the same orderid. The first operation's round
 * entry doubles as the running occurrence count while the batch is scanned. */
static void assign_rounds(struct batch *b)
{
    int *seen = xcalloc(b->n ? b->n : 1, sizeof *seen);
    size_t used = 16;
    while (used < b->n * 2)
        used <<= 1;
    b->slot_mask = used - 1;
    memset(b->slots, 0, used * sizeof *b->slots);
    b->n_rounds = 0;
    for (size_t i = 0; i < b->n; i++) {
        unsigned *slot = find_slot(b, b->ops[i].orderid);
        if (*slot == EMPTY_SLOT)
            *slot = (unsigned)i + 1;
        b->round[i] = seen[*slot - 1]++;
        if (b->round[i] + 1 > b->n_rounds)
            b->n_rounds = b->round[i] + 1;
    }
    free(seen);
    b->rounds = xrealloc(b->rounds, (size_t)(b->n_rounds ? b->n_rounds : 1) * sizeof *b->rounds);
    memset(b->rounds, 0, (size_t)b->n_rounds * sizeof *b->rounds);
    for (size_t i = 0; i < b->n; i++) {
        struct batch_round *r = &b->rounds[b->round[i]];
        switch (b->ops[i].kind) {
        case GENERATOR_OP_UPSERT: r->upserts++; break;
        case GENERATOR_OP_ADVANCE: r->advances++; break;
        case GENERATOR_OP_DELETE: r->deletes++; break;
        }
    }
}

static void reserve(struct batch *b, size_t more)
{
    if (b->copy_len + more <= b->copy_cap)
        return;
    while (b->copy_len + more > b->copy_cap)
        b->copy_cap *= 2;
    b->copy = xrealloc(b->copy, b->copy_cap);
}

/* Appends S as a COPY text field: backslash, tab, newline and carriage return escaped. */
static void put_text(struct batch *b, const char *s)
{
    reserve(b, strlen(s) * 2 + 1);
    for (; *s; s++) {
        char c = *s, esc = c == '\\'   ? '\\'
                           : c == '\t' ? 't'
                           : c == '\n' ? 'n'
                           : c == '\r' ? 'r'
                                       : 0;
        if (esc) {
            b->copy[b->copy_len++] = '\\';
            c = esc;
        }
        b->copy[b->copy_len++] = c;
    }
    b->copy[b->copy_len++] = '\t';
}

/* Appends a printf-formatted field (never containing special characters) and a tab. */
static void put_fmt(struct batch *b, const char *fmt, long long v)
{
    reserve(b, 32);
    b->copy_len += (size_t)snprintf(b->copy + b->copy_len, 32, fmt, v);
    b->copy[b->copy_len++] = '\t';
}

static void put_char(struct batch *b, char c)
{
    reserve(b, 2);
    b->copy[b->copy_len++] = c;
    b->copy[b->copy_len++] = '\t';
}

static void put_null(struct batch *b)
{
    reserve(b, 3);
    memcpy(b->copy + b->copy_len, "\\N\t", 3);
    b->copy_len += 3;
}

void batch_format_ts(long long us, char *out, size_t size)
{
    long long sec = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, size, "%s.%06lld+00", day, frac);
}

static void put_op(struct batch *b, size_t i)
{
    const struct generator_op *op = &b->ops[i];
    put_fmt(b, "%lld", b->round[i]);
    put_char(b, (char)op->kind);
    put_text(b, op->orderid);
    if (op->kind == GENERATOR_OP_UPSERT) {
        put_text(b, generator_products[op->product]);
        put_fmt(b, "%lld", op->quantity);
        reserve(b, 32);
        b->copy_len += (size_t)snprintf(b->copy + b->copy_len, 32, "%d.%02d\t",
                                        op->price_cents / 100, op->price_cents % 100);
        put_fmt(b, "%lld", op->customer_id);
    } else {
        for (int k = 0; k < 4; k++)
            put_null(b);
    }
    if (op->kind == GENERATOR_OP_ADVANCE)
        put_text(b, order_status_name(op->status_old));
    else
        put_null(b);
    if (op->kind == GENERATOR_OP_DELETE)
        put_null(b);
    else
        put_text(b, order_status_name(op->status_new));
    if (op->ts_us == GENERATOR_TS_NOW) {
        put_null(b);
    } else {
        char ts[48];
        batch_format_ts(op->ts_us, ts, sizeof ts);
        put_text(b, ts);
    }
    b->copy[b->copy_len - 1] = '\n'; /* the last field's tab ends the line */
}

void batch_seal(struct batch *b)
{
    assign_rounds(b);
    b->copy_len = 0;
    for (size_t i = 0; i < b->n; i++)
        put_op(b, i);
}

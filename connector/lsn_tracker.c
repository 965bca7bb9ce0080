/* WAL position bookkeeping: a queue of transactions in stream order, popped from the front as
 * their events are delivered. */
#include "lsn_tracker.h"

#include <stdlib.h>

#include "log.h"
#include "xalloc.h"

struct txn {
    uint64_t end_lsn; /* 0 until committed */
    uint64_t pending; /* events handed to Kafka, not yet acknowledged */
    int committed;
};

struct lsn_tracker {
    uint64_t received, acknowledged, confirmed;
    uint64_t idle_pending; /* a keepalive's WAL end seen while transactions were in flight */
    uint64_t pending_total;
    /* Ring of open transactions; the one at HEAD has sequence number HEAD_SEQ. */
    struct txn *ring;
    size_t cap, head, count;
    uint64_t head_seq;
};

struct lsn_tracker *lsn_tracker_new(uint64_t start)
{
    struct lsn_tracker *t = xcalloc(1, sizeof *t);
    t->received = t->acknowledged = t->confirmed = start;
    t->cap = 16;
    t->ring = xcalloc(t->cap, sizeof *t->ring);
    return t;
}

void lsn_tracker_destroy(struct lsn_tracker *t)
{
    if (!t)
        return;
    free(t->ring);
    free(t);
}

void lsn_tracker_received(struct lsn_tracker *t, uint64_t lsn)
{
    if (lsn > t->received)
        t->received = lsn;
}

/* The transaction SEQ, or NULL (with an error logged: a caller bug) when it is not open. */
static struct txn *find(struct lsn_tracker *t, uint64_t seq)
{
    if (seq < t->head_seq || seq - t->head_seq >= t->count) {
        log_error("lsn tracker: transaction %llu is not open (open: %llu..%llu)",
                  (unsigned long long)seq, (unsigned long long)t->head_seq,
                  (unsigned long long)(t->head_seq + t->count));
        return NULL;
    }
    return &t->ring[(t->head + (size_t)(seq - t->head_seq)) % t->cap];
}

static void grow(struct lsn_tracker *t)
{
    struct txn *ring = xcalloc(t->cap * 2, sizeof *ring);
    for (size_t i = 0; i < t->count; i++)
        ring[i] = t->ring[(t->head + i) % t->cap];
    free(t->ring);
    t->ring = ring;
    t->head = 0;
    t->cap *= 2;
}

/* Pops every leading transaction that is committed with all events delivered. Once none is
 * left, a keepalive position that came meanwhile holds nothing for us either. */
static void advance(struct lsn_tracker *t)
{
    while (t->count > 0) {
        struct txn *x = &t->ring[t->head];
        if (!x->committed || x->pending > 0)
            break;
        if (x->end_lsn > t->acknowledged)
            t->acknowledged = x->end_lsn;
        t->head = (t->head + 1) % t->cap;
        t->count--;
        t->head_seq++;
    }
    if (t->count == 0 && t->idle_pending > t->acknowledged)
        t->acknowledged = t->idle_pending;
}

uint64_t lsn_tracker_begin(struct lsn_tracker *t)
{
    if (t->count == t->cap)
        grow(t);
    t->ring[(t->head + t->count) % t->cap] = (struct txn){0, 0, 0};
    t->count++;
    return t->head_seq + t->count - 1;
}

void lsn_tracker_event(struct lsn_tracker *t, uint64_t seq)
{
    struct txn *x = find(t, seq);
    if (x) {
        x->pending++;
        t->pending_total++;
    }
}

void lsn_tracker_ack(struct lsn_tracker *t, uint64_t seq)
{
    struct txn *x = find(t, seq);
    if (x && x->pending > 0) {
        x->pending--;
        t->pending_total--;
        advance(t);
    }
}

void lsn_tracker_unevent(struct lsn_tracker *t, uint64_t seq)
{
    lsn_tracker_ack(t, seq);
}

void lsn_tracker_commit(struct lsn_tracker *t, uint64_t seq, uint64_t end_lsn)
{
    struct txn *x = find(t, seq);
    if (x) {
        x->committed = 1;
        x->end_lsn = end_lsn;
        lsn_tracker_received(t, end_lsn);
        advance(t);
    }
}

void lsn_tracker_idle(struct lsn_tracker *t, uint64_t wal_end)
{
    lsn_tracker_received(t, wal_end);
    if (wal_end > t->idle_pending)
        t->idle_pending = wal_end;
    advance(t);
}

void lsn_tracker_confirmed_sent(struct lsn_tracker *t, uint64_t lsn)
{
    if (lsn > t->confirmed)
        t->confirmed = lsn;
}

uint64_t lsn_tracker_get_received(const struct lsn_tracker *t)
{
    return t->received;
}

uint64_t lsn_tracker_get_acknowledged(const struct lsn_tracker *t)
{
    return t->acknowledged;
}

uint64_t lsn_tracker_get_confirmed(const struct lsn_tracker *t)
{
    return t->confirmed;
}

size_t lsn_tracker_in_flight(const struct lsn_tracker *t)
{
    return t->count;
}

uint64_t lsn_tracker_pending_events(const struct lsn_tracker *t)
{
    return t->pending_total;
}

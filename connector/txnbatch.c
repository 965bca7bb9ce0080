/* Kafka transactions spanning whole source transactions plus the offsets record. */
#include "txnbatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

struct txnbatch {
    struct txnbatch_options opt;
    struct publisher *pub;
    struct lsn_tracker *lsn;
    struct offsets_record rec;
    int open;       /* a Kafka transaction is open */
    int mid_source; /* a source transaction has begun and not yet ended */
    /* source transactions held in the tracker: increasing, except that a streamed transaction
     * replayed at its commit keeps the (earlier) sequence it got when its first block came */
    uint64_t *held;
    size_t nheld, held_cap;
    uint64_t produced_at_open;
    int64_t opened_ms;
    uint64_t commits;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct txnbatch *txnbatch_new(const struct txnbatch_options *opt, struct publisher *pub,
                              struct lsn_tracker *t, const struct offsets_record *base)
{
    struct txnbatch *b = xcalloc(1, sizeof *b);
    b->opt = *opt;
    b->pub = pub;
    b->lsn = t;
    b->rec = *base;
    return b;
}

void txnbatch_destroy(struct txnbatch *b)
{
    if (b)
        free(b->held);
    free(b);
}

void txnbatch_set_tracker(struct txnbatch *b, struct lsn_tracker *t)
{
    b->lsn = t;
}

void txnbatch_set_publisher(struct txnbatch *b, struct publisher *pub)
{
    b->pub = pub;
    b->open = b->mid_source = 0;
}

uint64_t txnbatch_records(const struct txnbatch *b)
{
    return b->open ? publisher_produced(b->pub) - b->produced_at_open : 0;
}

struct offsets_record *txnbatch_record(struct txnbatch *b)
{
    return &b->rec;
}

uint64_t txnbatch_commits(const struct txnbatch *b)
{
    return b->commits;
}

int64_t txnbatch_age_ms(const struct txnbatch *b)
{
    return b->opened_ms ? mono_ms() - b->opened_ms : -1;
}

int txnbatch_open(struct txnbatch *b, char *errstr, size_t errstr_size)
{
    if (b->open || !b->opt.transactional)
        return 0;
    if (publisher_begin(b->pub, errstr, errstr_size) < 0)
        return -1;
    b->open = 1;
    b->produced_at_open = publisher_produced(b->pub);
    b->opened_ms = mono_ms();
    return 0;
}

int txnbatch_source_begin(struct txnbatch *b, uint64_t seq, char *errstr, size_t errstr_size)
{
    if (!b->opt.transactional)
        return 0;
    if (txnbatch_open(b, errstr, errstr_size) < 0)
        return -1;
    lsn_tracker_event(b->lsn, seq); /* the hold: released when the batch commits */
    if (b->nheld == b->held_cap) {
        b->held_cap = b->held_cap ? b->held_cap * 2 : 64;
        b->held = xrealloc(b->held, b->held_cap * sizeof *b->held);
    }
    b->held[b->nheld++] = seq;
    b->mid_source = 1;
    return 0;
}

void txnbatch_source_commit(struct txnbatch *b, uint64_t seq, uint64_t commit_lsn, uint64_t end_lsn)
{
    (void)seq;
    b->mid_source = 0;
    b->rec.lsn = end_lsn;
    b->rec.commit_lsn = commit_lsn;
}

int txnbatch_due_ms(const struct txnbatch *b)
{
    if (!b->open || b->mid_source)
        return -1;
    if (publisher_produced(b->pub) - b->produced_at_open >= (uint64_t)b->opt.max_records)
        return 0;
    int64_t left = b->opened_ms + b->opt.max_ms - mono_ms();
    return left > 0 ? (int)left : 0;
}

static int send_record(struct txnbatch *b, char *errstr, size_t errstr_size)
{
    char *value = offsets_encode(b->opt.name, &b->rec);
    int rc = publisher_send(b->pub, b->opt.offsets_topic, b->opt.name, strlen(b->opt.name), value,
                            strlen(value), PUBLISHER_UNTRACKED, errstr, errstr_size);
    free(value);
    return rc;
}

/* Without transactions: the record is written once Kafka acknowledged it. */
static enum publisher_txn_result write_plain(struct txnbatch *b, char *errstr, size_t errstr_size)
{
    if (send_record(b, errstr, errstr_size) < 0 ||
        publisher_flush(b->pub, b->opt.commit_timeout_ms, errstr, errstr_size) < 0 ||
        publisher_failed(b->pub, errstr, errstr_size))
        return PUBLISHER_TXN_UNKNOWN;
    return PUBLISHER_TXN_OK;
}

static void release_holds(struct txnbatch *b)
{
    for (size_t i = 0; i < b->nheld; i++)
        lsn_tracker_ack(b->lsn, b->held[i]);
    b->nheld = 0;
}

enum publisher_txn_result txnbatch_commit(struct txnbatch *b, char *errstr, size_t errstr_size)
{
    if (!b->opt.transactional)
        return write_plain(b, errstr, errstr_size);
    if (txnbatch_open(b, errstr, errstr_size) < 0)
        return PUBLISHER_TXN_UNKNOWN;
    uint64_t records = publisher_produced(b->pub) - b->produced_at_open;
    if (send_record(b, errstr, errstr_size) < 0) {
        char err[256];
        txnbatch_abort(b, err, sizeof err);
        return PUBLISHER_TXN_ABORTED;
    }
    int64_t t0 = mono_ms();
    enum publisher_txn_result r =
        publisher_commit(b->pub, b->opt.commit_timeout_ms, errstr, errstr_size);
    b->open = 0;
    if (r != PUBLISHER_TXN_OK)
        return r;
    b->commits++;
    release_holds(b);
    log_debug("kafka transaction committed records=%llu lsn=" LSN_FMT " snapshot=%s "
              "open_ms=%lld commit_ms=%lld",
              (unsigned long long)records, LSN_ARGS(b->rec.lsn),
              offsets_snapshot_name(b->rec.snapshot), (long long)(t0 - b->opened_ms),
              (long long)(mono_ms() - t0));
    return PUBLISHER_TXN_OK;
}

enum publisher_txn_result txnbatch_abort(struct txnbatch *b, char *errstr, size_t errstr_size)
{
    if (!b->open)
        return PUBLISHER_TXN_OK;
    b->open = 0;
    b->mid_source = 0;
    return publisher_abort(b->pub, b->opt.commit_timeout_ms, errstr, errstr_size);
}

/* Exactly-once batching: whole source transactions are grouped into one Kafka transaction
 * together with the connector's offsets record (the end LSN of the last of them), bounded by a
 * record count and an age. The LSN tracker holds every source transaction of an open batch, so
 * the slot's flush position passes them only once Kafka committed the batch. Without
 * transactions (exactly-once off) only the offsets record writes are used. */
#ifndef SALESCDC_TXNBATCH_H
#define SALESCDC_TXNBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "lsn_tracker.h"
#include "offsets.h"
#include "publisher.h"

struct txnbatch_options {
    const char *name;          /* connector name: the offsets record's key (borrowed) */
    const char *offsets_topic; /* borrowed */
    int transactional;         /* the publisher is transactional */
    int max_records, max_ms;   /* when a batch is due */
    int commit_timeout_ms;     /* per commit or abort */
};

struct txnbatch;

/* Creates the batcher over PUB and T (borrowed; T may be NULL until txnbatch_set_tracker()).
 * BASE (copied) gives the offsets record's slot, system id, LSNs and snapshot state. Caller frees
 * with txnbatch_destroy(). */
struct txnbatch *txnbatch_new(const struct txnbatch_options *opt, struct publisher *pub,
                              struct lsn_tracker *t, const struct offsets_record *base);
void txnbatch_destroy(struct txnbatch *b);
void txnbatch_set_tracker(struct txnbatch *b, struct lsn_tracker *t);
/* Switches to producer PUB (borrowed) when the old one was replaced; no transaction is open. */
void txnbatch_set_publisher(struct txnbatch *b, struct publisher *pub);

/* Records produced in the open Kafka transaction so far. */
uint64_t txnbatch_records(const struct txnbatch *b);

/* The offsets record as it stands (borrowed): what the next commit writes. */
struct offsets_record *txnbatch_record(struct txnbatch *b);

/* Opens a Kafka transaction unless one is open. Returns 0, or -1 with errstr. */
int txnbatch_open(struct txnbatch *b, char *errstr, size_t errstr_size);

/* A source transaction with tracker sequence SEQ starts: opens a Kafka transaction if none is
 * open and holds SEQ in the tracker. Returns 0, or -1 with errstr. */
int txnbatch_source_begin(struct txnbatch *b, uint64_t seq, char *errstr, size_t errstr_size);
/* The source transaction SEQ ended (Commit at COMMIT_LSN, ending at END_LSN). */
void txnbatch_source_commit(struct txnbatch *b, uint64_t seq, uint64_t commit_lsn,
                            uint64_t end_lsn);

/* Milliseconds until the open batch is due (0: now), or -1 when nothing can be committed (no
 * batch, or a source transaction is half-way). */
int txnbatch_due_ms(const struct txnbatch *b);

/* Commits the open batch with the offsets record and releases its holds. With nothing open,
 * commits a transaction holding only the offsets record (or, not transactional, produces the
 * record and waits for its delivery). On failure errstr names the cause. */
enum publisher_txn_result txnbatch_commit(struct txnbatch *b, char *errstr, size_t errstr_size);

/* Aborts the open batch, if any (its source transactions must be read again). */
enum publisher_txn_result txnbatch_abort(struct txnbatch *b, char *errstr, size_t errstr_size);

/* Kafka transactions committed so far. */
uint64_t txnbatch_commits(const struct txnbatch *b);

/* Milliseconds since the latest Kafka transaction was opened (open or not by now), or -1 when
 * none was. */
int64_t txnbatch_age_ms(const struct txnbatch *b);

#endif

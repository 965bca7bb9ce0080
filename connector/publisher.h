/* Kafka side of the connector: a librdkafka producer (acks=all), idempotent, or transactional
 * for exactly-once. Delivery reports are the only proof of delivery: each one acknowledges its
 * event in the LSN tracker. Transaction errors are classified the way librdkafka's
 * examples/transactions.c handles them. */
#ifndef SALESCDC_PUBLISHER_H
#define SALESCDC_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lsn_tracker.h"

/* TXN_SEQ of a record the LSN tracker does not count (snapshot rows, offsets records). */
#define PUBLISHER_UNTRACKED UINT64_MAX

/* Outcome of ending a Kafka transaction. */
enum publisher_txn_result {
    PUBLISHER_TXN_OK,      /* committed (or aborted, when aborting) */
    PUBLISHER_TXN_ABORTED, /* the commit failed and the transaction was aborted: rewind */
    PUBLISHER_TXN_UNKNOWN, /* outcome unknown or the producer is unusable: re-initialise it and
                              read the offsets topic to learn what is committed */
    PUBLISHER_TXN_FENCED,  /* another producer with the same transactional.id took over */
};

struct publisher;

/* Creates the producer from CFG's kafka.* keys over the defaults (enable.idempotence=true,
 * acks=all, linger.ms=5, queue.buffering.max.kbytes=4096, retry.backoff.ms=10), transactional with
 * TRANSACTIONAL_ID unless it is NULL; TXN_TIMEOUT_MS > 0 sets transaction.timeout.ms over what CFG
 * says. Acknowledgements go to T (borrowed; may be NULL, must outlive the publisher). Returns NULL
 * with errstr naming the option on a configuration error. Caller frees with publisher_destroy(). */
struct publisher *publisher_new(const struct config *cfg, struct lsn_tracker *t,
                                const char *transactional_id, int txn_timeout_ms, char *errstr,
                                size_t errstr_size);
void publisher_destroy(struct publisher *p);

/* From now on, acknowledgements go to T (borrowed; may be NULL). */
void publisher_set_tracker(struct publisher *p, struct lsn_tracker *t);

/* Produces one record of transaction TXN_SEQ (or PUBLISHER_UNTRACKED) to TOPIC (copied): KEY
 * may be NULL (no key), VALUE NULL for a tombstone. Counts the event in the tracker; waits
 * (polling) while the local queue is full. Returns 0, or -1 with errstr naming the topic and the
 * cause. */
int publisher_send(struct publisher *p, const char *topic, const void *key, size_t key_len,
                   const void *value, size_t value_len, uint64_t txn_seq, char *errstr,
                   size_t errstr_size);

/* Serves delivery reports (non-blocking). */
void publisher_poll(struct publisher *p);

/* Non-zero once a record failed for good; errstr gets the first failure. */
int publisher_failed(const struct publisher *p, char *errstr, size_t errstr_size);

/* Waits up to TIMEOUT_MS for every produced record to be acknowledged. Returns 0, or -1 with
 * errstr saying how many are still undelivered. */
int publisher_flush(struct publisher *p, int timeout_ms, char *errstr, size_t errstr_size);

/* Records delivered so far / handed to librdkafka so far. */
uint64_t publisher_delivered(const struct publisher *p);
uint64_t publisher_produced(const struct publisher *p);

/* Transactional producers: registers the transactional.id with the coordinator, which fences
 * older producers with the same id and ends their open transaction. Returns 0, or -1 with
 * errstr (the caller retries later). */
int publisher_init_transactions(struct publisher *p, int timeout_ms, char *errstr,
                                size_t errstr_size);
/* Starts a Kafka transaction. Returns 0, or -1 with errstr. */
int publisher_begin(struct publisher *p, char *errstr, size_t errstr_size);
/* Commits the open transaction (flushing first), waiting up to TIMEOUT_MS. On failure errstr
 * names the cause; see enum publisher_txn_result. */
enum publisher_txn_result publisher_commit(struct publisher *p, int timeout_ms, char *errstr,
                                           size_t errstr_size);
/* Aborts the open transaction: PUBLISHER_TXN_OK, or why not. */
enum publisher_txn_result publisher_abort(struct publisher *p, int timeout_ms, char *errstr,
                                          size_t errstr_size);
/* Non-zero while a transaction is open. */
int publisher_in_transaction(const struct publisher *p);
/* Non-zero once the producer was fenced (a fatal error: another producer with the same
 * transactional.id took over, or a transaction outlived transaction.timeout.ms). */
int publisher_fenced(const struct publisher *p);
/* The producer's transaction.timeout.ms (-1 if unknown). */
int publisher_txn_timeout_ms(const struct publisher *p);

#endif

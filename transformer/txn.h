/* The transactional producer of consume-transform-produce: begins a transaction when the first
 * record of a batch needs one, produces into it (retrying QUEUE_FULL after polling), commits it
 * together with the consumer's offsets (rd_kafka_send_offsets_to_transaction), aborts it, and
 * replaces the producer after a fatal error (fenced, or commit outcome unknown). Every
 * rd_kafka_error_t is destroyed here; callers see one of three outcomes. */
#ifndef SALESCDC_TRANSFORMER_TXN_H
#define SALESCDC_TRANSFORMER_TXN_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

enum txn_status {
    TXN_OK,
    TXN_ABORTED,   /* the transaction was aborted: rewind the consumer to its committed offsets */
    TXN_RESET,     /* the producer was replaced (fatal error): rewind likewise */
    TXN_STOPPED,   /* a stop was requested while waiting to get a working producer again */
    TXN_TOO_LARGE, /* txn_produce(): larger than the producer's message.max.bytes; nothing was
                      produced and the transaction goes on */
};

struct txn;

/* Creates the producer from CONF (not taken: a copy is kept to re-create the producer) and runs
 * init_transactions, retrying while Kafka is unavailable, up to TIMEOUT_MS or until *STOP.
 * With a transactional.id in CONF, transactions; without one, the at-least-once mode: CONF
 * should enable idempotence; begin only marks a batch open, commit waits for every delivery and
 * then commits the consumer's offsets, abort waits for the deliveries (what was delivered
 * stays, and is produced again after the rewind). Returns the txn (caller frees with txn_destroy())
 * or NULL with errstr naming the transactional.id and the cause. */
struct txn *txn_new(const rd_kafka_conf_t *conf, int timeout_ms, int backoff_max_ms,
                    volatile sig_atomic_t *stop, char *errstr, size_t errstr_size);

/* Aborts an open transaction (it was not committed: nothing of it is visible), then flushes and
 * destroys the producer. */
void txn_destroy(struct txn *t);

/* True while a transaction is open. */
int txn_is_open(const struct txn *t);

/* Begins a transaction unless one is open. TXN_OK, or TXN_RESET/TXN_STOPPED (logged). */
enum txn_status txn_begin(struct txn *t);

/* Produces KEY/VALUE (either may be NULL) with HEADERS (NULL, or handed off: destroyed here on
 * failure) to TOPIC, PARTITION (RD_KAFKA_PARTITION_UA: by key) in the open transaction.
 * TXN_OK; TXN_TOO_LARGE (errstr says so) when the record exceeds the producer's
 * message.max.bytes; or TXN_ABORTED/TXN_RESET after aborting (errstr says why). */
enum txn_status txn_produce(struct txn *t, const char *topic, int32_t partition, const void *key,
                            size_t key_len, const void *value, size_t value_len,
                            rd_kafka_headers_t *headers, char *errstr, size_t errstr_size);

/* Sends OFFSETS (next offsets to consume; borrowed) for CONSUMER's group into the transaction
 * and commits it. TXN_OK, or TXN_ABORTED/TXN_RESET/TXN_STOPPED (errstr says why). */
enum txn_status txn_commit(struct txn *t, rd_kafka_t *consumer,
                           const rd_kafka_topic_partition_list_t *offsets, char *errstr,
                           size_t errstr_size);

/* Aborts the open transaction, if any. TXN_ABORTED, TXN_RESET or TXN_STOPPED. */
enum txn_status txn_abort(struct txn *t);

/* Serves the producer's delivery reports and events. */
void txn_poll(struct txn *t);

/* Deliveries the broker refused as too large (MSG_SIZE_TOO_LARGE) since the last call; the
 * count is reset. Such a refusal makes the transaction's commit fail (it is aborted). */
unsigned long txn_take_too_large(struct txn *t);

/* Producers created after the first (fatal errors survived). */
unsigned long txn_resets(const struct txn *t);

#endif

/* Kafka side of the connector: an idempotent librdkafka producer (acks=all) whose delivery
 * reports are the only proof of delivery: each one acknowledges its event in the LSN tracker. */
#ifndef SALESCDC_PUBLISHER_H
#define SALESCDC_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lsn_tracker.h"

struct publisher;

/* Creates the producer from CFG's kafka.* keys over the defaults (enable.idempotence=true,
 * acks=all); acknowledgements go to T (borrowed; must outlive the publisher). Returns NULL with
 * errstr naming the option on a configuration error. Caller frees with publisher_destroy(). */
struct publisher *publisher_new(const struct config *cfg, struct lsn_tracker *t, char *errstr,
                                size_t errstr_size);
void publisher_destroy(struct publisher *p);

/* Produces one record of transaction TXN_SEQ to TOPIC (copied): KEY may be NULL (no key), VALUE
 * NULL for a tombstone. Counts the event in the tracker; waits (polling) while the local queue is
 * full. Returns 0, or -1 with errstr naming the topic and the cause. */
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

/* Records delivered so far. */
uint64_t publisher_delivered(const struct publisher *p);

#endif

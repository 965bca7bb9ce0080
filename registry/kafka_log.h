/* The registry's durable log: a compacted single-partition Kafka topic (`_schemas`, as
 * Confluent's), written by an idempotent producer with acks=all (a write counts once its delivery
 * report says the broker has it) and read back by an assigned consumer (no consumer group). */
#ifndef SALESCDC_KAFKA_LOG_H
#define SALESCDC_KAFKA_LOG_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "registry.h"

struct kafka_log;

/* Creates the producer and consumer from BASE (borrowed: duplicated, then the log's own
 * settings are forced: enable.idempotence=true, acks=all, message.timeout.ms=WRITE_TIMEOUT_MS).
 * REPLICATION_FACTOR is used when the topic is created, capped by the number of brokers.
 * Returns the log (caller frees with kafka_log_destroy()) or NULL with errstr. */
struct kafka_log *kafka_log_new(const rd_kafka_conf_t *base, const char *topic,
                                int replication_factor, int write_timeout_ms, char *errstr,
                                size_t errstr_size);

/* Creates TOPIC (1 partition, cleanup.policy=compact) unless it exists, and checks it has one
 * partition. Returns 0, or -1 with errstr (e.g. broker unreachable within TIMEOUT_MS). */
int kafka_log_ensure_topic(struct kafka_log *kl, int timeout_ms, char *errstr, size_t errstr_size);

/* The registry_log interface over KL (borrowed). */
struct registry_log kafka_log_interface(struct kafka_log *kl);

/* Flushes (bounded) and closes both clients. NULL is a no-op. */
void kafka_log_destroy(struct kafka_log *kl);

#endif

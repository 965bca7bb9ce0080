/* Where the records of an input topic go: its output and dead-letter topics (named by the
 * configured patterns), created when missing with the input's partition count, so that record
 * i of input partition p can go to partition p of the output and keep its order. */
#ifndef SALESCDC_TRANSFORMER_TOPICS_H
#define SALESCDC_TRANSFORMER_TOPICS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

struct topics_route {
    char *input, *output, *dlq;
    int output_partitions, dlq_partitions; /* 0: unknown (produce by key) */
    long output_max_bytes, dlq_max_bytes;  /* the topics' max.message.bytes; 0: unknown */
};

struct topics_options {
    const char *output_pattern, *dlq_pattern; /* with {topic} */
    int create;                               /* create missing topics */
    int replication_factor;                   /* -1: the broker's default */
    int timeout_ms;                           /* metadata and admin requests */
};

struct topics;

/* Creates the route table; RK (borrowed) is the client used for metadata and CreateTopics.
 * OPT's strings are borrowed. Caller frees with topics_destroy(). */
struct topics *topics_new(rd_kafka_t *rk, const struct topics_options *opt);
void topics_destroy(struct topics *t);

/* The route of INPUT (borrowed; valid until topics_destroy()), looking up partition counts and
 * creating missing topics on first use. NULL with errstr naming the topic and the cause when
 * Kafka cannot tell or create (the caller retries later). */
const struct topics_route *topics_route(struct topics *t, const char *input, char *errstr,
                                        size_t errstr_size);

/* Reads max.message.bytes of every route's topics again (after the broker refused a record as
 * too large: the topic's setting may have changed since the route was made). */
void topics_refresh_limits(struct topics *t);

/* The partition to produce to: PARTITION when the topic has it, else by key. */
int32_t topics_partition(int topic_partitions, int32_t partition);

#endif
